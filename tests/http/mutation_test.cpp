// Seeded mutation test: valid requests, each broken by at least one mutation
// that makes it invalid (plus harmless noise), sent over raw sockets. Every
// one must be answered with a 4xx, or, for framing that is not HTTP any more,
// with a closed connection; none may reach the hub, hang or crash the server.
// Afterwards a valid request still succeeds and the server stops cleanly.
//
// LK_HTTP_MUTATION_SEED and LK_HTTP_MUTATIONS override the seed and count; a
// failure prints the seed, the case number and the bytes sent.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>

#include "fake_hub_api.hpp"
#include "http_test_support.hpp"
#include "latchkey/hub/api_server.hpp"

namespace latchkey::hub::testing {
namespace {

struct Template {
  std::string method;
  std::string path;   // door or camera id as "{id}"
  std::string body;   // empty: no body
};

const std::string kHex(128, 'b');
const std::vector<Template> kTemplates = {
    {"POST", "/v1/doors/{id}/challenge", ""},
    {"POST", "/v1/doors/{id}/unlock", "{\"request\":\"" + kHex + "\"}"},
    {"GET", "/v1/doors", ""},
    {"GET", "/v1/sessions", ""},
    {"GET", "/v1/alarms?since=3", ""},
    {"GET", "/v1/audit?from=1&limit=50", ""},
    {"GET", "/v1/audit/verify", ""},
    {"GET", "/v1/events", ""},
    {"POST", "/v1/test/doors/{id}/action", R"({"action":"open"})"},
    {"POST", "/v1/test/cameras/{id}/fault", R"({"fault":"freeze","parameter":2})"},
};

// Which mutation broke the request; Framing ones may end in a closed connection.
enum class Kind { Auth, Method, Path, Query, ContentType, Body, Length, Truncated, Garbage, Headers, Version };
constexpr bool may_close(Kind kind) {
  return kind == Kind::Truncated || kind == Kind::Garbage || kind == Kind::Headers || kind == Kind::Length;
}
const char* kind_name(Kind kind) {
  static const char* names[] = {"auth", "method", "path", "query", "content-type",
                                "body", "length", "truncated", "garbage", "headers", "version"};
  return names[static_cast<int>(kind)];
}

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  std::pair<Kind, std::string> next() {
    const Template& t = kTemplates[pick(kTemplates.size())];
    std::string method = t.method;
    std::string path = t.path;
    std::string body = t.body;
    std::string id = pick(2) ? "front" : "porch";
    std::string auth = "Authorization: Bearer " + kToken + "\r\n";
    std::string content_type = "Content-Type: application/json\r\n";
    std::string length;   // computed unless a mutation sets it
    bool chunked = false;
    std::string version = "HTTP/1.1";
    std::string noise;
    for (int n = static_cast<int>(pick(3)); n > 0; --n) {
      noise += "X-Noise-" + std::to_string(pick(1000)) + ": " + printable(pick(40)) + "\r\n";
    }
    // Lines the server may ignore or refuse; neither can make the request valid.
    if (pick(8) == 0) noise += token(5 + pick(20)) + "\r\n";
    if (pick(8) == 0) noise += " folded" + token(pick(10)) + "\r\n";

    // POST-only kinds need a POST template; GET /v1/events must stay broken
    // before its stream would open.
    std::vector<Kind> kinds = {Kind::Auth, Kind::Method, Kind::Path, Kind::Query, Kind::Truncated,
                               Kind::Garbage, Kind::Headers, Kind::Version};
    if (method == "POST") kinds.insert(kinds.end(), {Kind::Body, Kind::Length});
    if (!body.empty()) kinds.push_back(Kind::ContentType);
    const Kind kind = kinds[pick(kinds.size())];
    switch (kind) {
      case Kind::Auth: {
        const std::string options[] = {"", "Authorization: Bearer\r\n", "Authorization: Basic " + kToken + "\r\n",
                                       "Authorization: Bearer " + flip(kToken) + "\r\n",
                                       "Authorization: Bearer " + kToken.substr(0, pick(kToken.size())) + "\r\n",
                                       "Authorization: " + kToken + "\r\n",
                                       "Authorization: Bearer " + kToken + printable(1 + pick(4)) + "\r\n"};
        auth = options[pick(std::size(options))];
        break;
      }
      case Kind::Method: {
        const std::string options[] = {"PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "get", "post", "HEAD",
                                       "CONNECT", token(1 + pick(10))};
        std::string other = options[pick(std::size(options))];
        method = other == method ? "PATCH" : other;
        break;
      }
      case Kind::Path: {
        const std::string bad_ids[] = {std::string(64 + pick(100), 'x'), "a%2Fb", "%20", "a%00", "%zz", "%",
                                       "\xc3\xa9", "%C3%A9", "a%09b", "%7F"};
        if (path.find("{id}") != std::string::npos && pick(2)) {
          id = bad_ids[pick(std::size(bad_ids))];
        } else {
          const std::string suffixes[] = {"/", "/x", "//", "/..", "/%2e%2e"};
          const std::string prefixes[] = {"/v2", "/v1/v1", "", "/V1"};
          if (pick(2)) path = path.substr(0, path.find('?')) + suffixes[pick(std::size(suffixes))] +
                              (path.find('?') == std::string::npos ? "" : path.substr(path.find('?')));
          else path = prefixes[pick(std::size(prefixes))] + path.substr(3);
          if (path.empty() || path[0] != '/') path = "x" + path;
        }
        break;
      }
      case Kind::Query: {
        const std::string options[] = {"?limit=0", "?since=-1", "?from=x", "?zz=1", "?since=1&since=2",
                                       "?limit=1001", "?from=99999999999999999999", "?%zz=1", "?" + token(5) + "=1"};
        std::string base = path.substr(0, path.find('?'));
        if (base == "/v1/audit") path = base + options[pick(std::size(options))];
        else if (base == "/v1/alarms") path = base + (pick(2) ? "?since=x" : "?limit=5");
        else path = base + "?" + token(1 + pick(8)) + "=" + printable_url(pick(10));
        break;
      }
      case Kind::ContentType: {
        const std::string options[] = {"", "Content-Type: text/plain\r\n", "Content-Type: application/xml\r\n",
                                       "Content-Type: \r\n", "Content-Type: json\r\n",
                                       "Content-Type: application/json5\r\n", "Content-Type: ;;;\r\n"};
        content_type = options[pick(std::size(options))];
        break;
      }
      case Kind::Body:
        body = broken_body(path);
        if (pick(4) == 0) chunked = true;
        break;
      case Kind::Length: {
        const std::string options[] = {"16385", "99999999", std::to_string(body.size() + 1 + pick(100)), "-1",
                                       "12abc", "18446744073709551616"};
        length = options[pick(std::size(options))];
        break;
      }
      case Kind::Version: {
        const std::string options[] = {"HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "FOO/1.1", "http/1.1", "HTTP/1"};
        version = options[pick(std::size(options))];
        break;
      }
      case Kind::Truncated:
      case Kind::Garbage:
      case Kind::Headers:
        break;
    }

    std::string target = path;
    if (auto at = target.find("{id}"); at != std::string::npos) target.replace(at, 4, id);
    std::string text = method + " " + target + " " + version + "\r\nHost: 127.0.0.1\r\n" + auth + noise;
    if (t.method == "POST" || !body.empty()) {
      text += content_type;
      if (chunked) text += "Transfer-Encoding: chunked\r\n";
      else text += "Content-Length: " + (length.empty() ? std::to_string(body.size()) : length) + "\r\n";
    }
    if (kind == Kind::Headers) text += broken_header();
    text += "\r\n";
    if (chunked) {
      std::string encoded;
      for (std::size_t at = 0; at < body.size();) {
        std::size_t n = std::min<std::size_t>(1 + pick(4000), body.size() - at);
        char size[20];
        std::snprintf(size, sizeof size, "%zx\r\n", n);
        encoded += size + body.substr(at, n) + "\r\n";
        at += n;
      }
      body = encoded + "0\r\n\r\n";
    }
    text += body;
    if (kind == Kind::Truncated) {
      // Cut inside the request line or the headers. The server takes the end
      // of input as the end of the headers, so a GET is cut before its token
      // is complete (a cut after it would leave a valid request).
      std::size_t limit = text.find("\r\n\r\n") + 2;
      if (t.body.empty() && auth.size() > 2) limit = text.find(auth) + auth.size() - 3;
      text = text.substr(0, pick(limit));
    } else if (kind == Kind::Garbage) {
      text.clear();
      for (std::size_t n = 1 + pick(600); n > 0; --n) text.push_back(static_cast<char>(pick(256)));
    }
    return {kind, text};
  }

 private:
  std::size_t pick(std::size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  std::string printable(std::size_t n) {
    std::string s;
    for (; n > 0; --n) s.push_back(static_cast<char>('!' + pick(94)));
    return s;
  }
  std::string printable_url(std::size_t n) {
    std::string s;
    for (; n > 0; --n) s.push_back("abcXYZ019-_.~"[pick(13)]);
    return s;
  }
  std::string token(std::size_t n) {
    std::string s;
    for (; n > 0; --n) s.push_back(static_cast<char>('A' + pick(26)));
    return s;
  }
  std::string flip(std::string s) {
    std::size_t at = pick(s.size());
    s[at] = s[at] == 'a' ? 'b' : 'a';
    return s;
  }
  std::string broken_body(const std::string& path) {
    const bool unlock = path.find("unlock") != std::string::npos;
    const std::string field = unlock ? "request" : path.find("action") != std::string::npos ? "action"
                                                  : path.find("fault") != std::string::npos  ? "fault"
                                                                                              : "door";
    const std::string options[] = {
        "{", "[]", "null", "\"x\"", "42", "{\"" + field + "\":" + std::to_string(pick(100)) + "}",
        "{\"" + field + "\":[\"a\"]}", "{\"" + field + "\":{}}", "{\"" + field + "\":null}",
        "{\"" + field + "\":\"" + kHex + "\",\"" + token(4) + "\":1}", std::string(20 + pick(200), '['),
        "{\"" + field + "\":\"" + std::string(2 * pick(64), 'c') + "zz\"}",
        "{\"" + field + "\":\"" + std::string(1 + 2 * pick(200), 'd') + "\"}",
        "{\"" + field + "\":\"" + std::string(17000 + pick(5000), 'e') + "\"}",
        printable(1 + pick(300)), "{\"" + field + "\":\"" + kHex + "\"",
        "{\"fault\":\"freeze\",\"parameter\":" + std::string(pick(2) ? "1.5" : "\"2\"") + "}",
    };
    std::string body = options[pick(std::size(options))];
    if (body == "{\"fault\":\"freeze\",\"parameter\":2}") body = "{";
    return body;
  }
  // Headers past the server's limits (Poco: names 256, values 8192, 100 fields).
  std::string broken_header() {
    switch (pick(3)) {
      case 0: return std::string(300 + pick(10000), 'H') + ": x\r\n";
      case 1: return "X-Long: " + std::string(8200 + pick(2000), 'v') + "\r\n";
      default: {
        std::string many;
        for (int i = 0; i < 101 + static_cast<int>(pick(50)); ++i) many += "X-" + std::to_string(i) + ": y\r\n";
        return many;
      }
    }
  }

  std::mt19937_64 rng_;
};

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value ? std::strtoull(value, nullptr, 10) : fallback;
}

TEST(HttpMutation, TenThousandMutatedRequests_All4xxNoneReachHub) {
  const uint64_t seed = env_or("LK_HTTP_MUTATION_SEED", 20240611);
  const uint64_t count = env_or("LK_HTTP_MUTATIONS", 10000);
  FakeHubApi hub;
  ApiServer server(hub, {.address = "127.0.0.1:0", .token = kToken, .test_control = true});
  server.start();
  const uint16_t port = server.port();

  // Two client threads, each its own seeded stream, so a failure reproduces.
  std::map<std::string, int> tally[2];
  std::atomic<int> failures{0};
  auto run = [&](int lane) {
    Mutator mutator(seed * 2 + static_cast<uint64_t>(lane));
    for (uint64_t i = static_cast<uint64_t>(lane); i < count; i += 2) {
      auto [kind, text] = mutator.next();
      RawResult result = raw_exchange(port, text, 5000);
      const int status = result.status();
      const bool ok = !result.timed_out && ((status >= 400 && status < 500) ||
                                            (status == 0 && result.data.empty() && may_close(kind)));
      ++tally[lane][std::string(kind_name(kind)) + " " + (status ? std::to_string(status) : "closed")];
      if (!ok && failures.fetch_add(1) < 5) {
        ADD_FAILURE() << "seed " << seed << " lane " << lane << " case " << i << " (" << kind_name(kind)
                      << "): " << (result.timed_out ? "timed out" : "answered") << " '"
                      << result.data.substr(0, 200) << "' to '" << text.substr(0, 300) << "'";
      }
    }
  };
  std::thread other(run, 1);
  run(0);
  other.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(hub.call_count(), 0u) << "a mutated request reached the hub: " << hub.calls().front().method;
  EXPECT_EQ(hub.subscriber_count(), 0u);
  for (const auto& [what, n] : tally[0]) {
    int both = n + (tally[1].count(what) ? tally[1][what] : 0);
    std::printf("  %-22s %d\n", what.c_str(), both);
  }

  Reply reply = call(port, "POST", "/v1/doors/front/unlock", "{\"request\":\"" + kHex + "\"}");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(hub.call_count(), 1u);
  auto begin = std::chrono::steady_clock::now();
  server.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(2));
}

}  // namespace
}  // namespace latchkey::hub::testing
