// Clients for the HTTP tests: a Poco HTTPClientSession call and a raw socket
// exchange, both to 127.0.0.1 only.
#ifndef LATCHKEY_TESTS_HTTP_HTTP_TEST_SUPPORT_HPP
#define LATCHKEY_TESTS_HTTP_HTTP_TEST_SUPPORT_HPP

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>

#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace latchkey::hub::testing {

inline const std::string kToken = "3f1c9a7e5b2d4c6f8a0e1b3d5f7a9c2e";

struct Reply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;   // names as sent
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct CallOptions {
  std::optional<std::string> token = kToken;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  bool chunked = false;
};

inline Reply call(uint16_t port, const std::string& method, const std::string& path,
                  const std::string& body = "", const CallOptions& options = {}) {
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  session.setTimeout(Poco::Timespan(5, 0));
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  if (options.token) request.set("Authorization", "Bearer " + *options.token);
  for (const auto& [name, value] : options.headers) request.set(name, value);
  if (!body.empty() || method == "POST") {
    if (!options.content_type.empty()) request.setContentType(options.content_type);
    if (options.chunked) request.setChunkedTransferEncoding(true);
    else request.setContentLength(static_cast<std::streamsize>(body.size()));
  }
  std::ostream& out = session.sendRequest(request);
  out << body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  Reply reply;
  reply.status = static_cast<int>(response.getStatus());
  std::ostringstream text;
  Poco::StreamCopier::copyStream(in, text);
  reply.body = text.str();
  for (const auto& [name, value] : response) reply.headers[name] = value;
  return reply;
}

// Sends bytes on a fresh connection, half-closes, and reads until the server
// closes (or timeout_ms passes without data, which the caller treats as a hang).
struct RawResult {
  std::string data;
  bool timed_out = false;
  // The status of the first response, 0 when none came back. The first token
  // is not checked: Poco answers a request it cannot parse with whatever that
  // request gave as its version.
  int status() const {
    auto line_end = data.find("\r\n");
    if (line_end == std::string::npos) return 0;
    auto space = data.find(' ');
    if (space == std::string::npos || space + 4 > line_end) return 0;
    int value = 0;
    for (std::size_t i = space + 1; i < space + 4; ++i) {
      if (data[i] < '0' || data[i] > '9') return 0;
      value = value * 10 + (data[i] - '0');
    }
    return data[space + 4] == ' ' || space + 4 == line_end ? value : 0;
  }
};

inline RawResult raw_exchange(uint16_t port, const std::string& bytes, int timeout_ms = 5000) {
  RawResult result;
  Poco::Net::StreamSocket socket;
  socket.connect(Poco::Net::SocketAddress("127.0.0.1", port), Poco::Timespan(2, 0));
  socket.setReceiveTimeout(Poco::Timespan(0, timeout_ms * 1000));
  try {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      int n = socket.sendBytes(bytes.data() + sent, static_cast<int>(bytes.size() - sent));
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    socket.shutdownSend();
  } catch (const Poco::Exception&) {
    // The server may close early (413 before the body); read what it said.
  }
  char buffer[4096];
  for (;;) {
    try {
      int n = socket.receiveBytes(buffer, sizeof buffer);
      if (n <= 0) break;
      result.data.append(buffer, static_cast<std::size_t>(n));
    } catch (const Poco::TimeoutException&) {
      result.timed_out = true;
      break;
    } catch (const Poco::Exception&) {
      break;   // reset by the server
    }
  }
  return result;
}

// A body of raw request text with the default token.
inline std::string raw_request(const std::string& method, const std::string& path,
                               const std::string& body = "", const std::string& extra_headers = "") {
  std::string text = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                     kToken + "\r\n" + extra_headers;
  if (!body.empty() || method == "POST") {
    text += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return text + "\r\n" + body;
}

}  // namespace latchkey::hub::testing

#endif  // LATCHKEY_TESTS_HTTP_HTTP_TEST_SUPPORT_HPP
