// The request head parser and the chunked body decoder are strict (issue 13):
// each malformed framing gets 400 with a message saying what was wrong, and
// the connection is closed, so nothing after the bad bytes is taken for a
// request. First the parts on their own, then over the wire.
#include <gtest/gtest.h>

#include <memory>

#include "chunked_body_decoder.hpp"
#include "fake_hub_api.hpp"
#include "http_test_support.hpp"
#include "latchkey/hub/api_server.hpp"
#include "request_head_parser.hpp"
#include "request_reader.hpp"

namespace latchkey::hub::testing {
namespace {

using http::ChunkedBodyDecoder;
using http::RequestHeadParser;
using http::RequestReader;

struct Parsed {
  RequestHeadParser::State state;
  int status;
  std::string error;
};

Parsed parse_head(const std::string& bytes) {
  RequestHeadParser parser;
  auto state = parser.parse(bytes);
  return {state, parser.status(), parser.error()};
}

void expect_refused(const Parsed& parsed, int status, const std::string& fragment) {
  EXPECT_EQ(parsed.state, RequestHeadParser::State::Refused);
  EXPECT_EQ(parsed.status, status);
  EXPECT_NE(parsed.error.find(fragment), std::string::npos) << parsed.error;
}

TEST(HttpParser, AcceptsAStrictHeadAndKeepsFieldsInOrder) {
  RequestHeadParser parser;
  const std::string head = "\r\nGET /v1/health HTTP/1.1\r\nHost: x\r\nX-A:  padded\t\r\nX-Empty:\r\n\r\nNEXT";
  ASSERT_EQ(parser.parse(head), RequestHeadParser::State::Complete);
  EXPECT_EQ(parser.head_size(), head.size() - 4);
  EXPECT_EQ(parser.head().method, "GET");
  EXPECT_EQ(parser.head().target, "/v1/health");
  ASSERT_EQ(parser.head().fields.size(), 3u);
  EXPECT_EQ(parser.head().fields[1], (std::pair<std::string, std::string>("X-A", "padded")));
  EXPECT_EQ(parser.head().fields[2].second, "");
}

TEST(HttpParser, FedOneByteAtATime_SameResult) {
  const std::string head = "POST /v1/doors/front/unlock HTTP/1.1\r\nContent-Length: 2\r\n\r\n";
  RequestHeadParser parser;
  for (std::size_t n = 1; n < head.size(); ++n) {
    ASSERT_EQ(parser.parse(std::string_view(head).substr(0, n)), RequestHeadParser::State::NeedMore) << n;
  }
  ASSERT_EQ(parser.parse(head), RequestHeadParser::State::Complete);
  EXPECT_EQ(parser.head().fields.at(0).second, "2");
}

TEST(HttpParser, RefusesBareLf) {
  expect_refused(parse_head("GET / HTTP/1.1\nHost: x\r\n\r\n"), 400, "bare LF");
  expect_refused(parse_head("GET / HTTP/1.1\r\nHost: x\n\r\n"), 400, "bare LF");
  expect_refused(parse_head("GET / HTTP/1.1\r\nHost: x\r\n\n"), 400, "bare LF");
  // Refused as soon as it arrives, not when the head would have ended.
  expect_refused(parse_head("GET / HTTP/1.1\nHo"), 400, "bare LF");
}

TEST(HttpParser, RefusesCrWithoutLf) {
  expect_refused(parse_head("GET / HTTP/1.1\rHost: x\r\n\r\n"), 400, "CR not followed by LF");
  EXPECT_EQ(parse_head("GET / HTTP/1.1\r").state, RequestHeadParser::State::NeedMore);
}

TEST(HttpParser, RefusesHeaderLineWithoutColon) {
  expect_refused(parse_head("GET / HTTP/1.1\r\nHost x\r\n\r\n"), 400, "header line without a colon");
}

TEST(HttpParser, RefusesNulInHeader) {
  const std::string nul(1, '\0');
  expect_refused(parse_head("GET / HTTP/1.1\r\nX-A: a" + nul + "b\r\n\r\n"), 400, "NUL byte in header 'X-A'");
  expect_refused(parse_head("GET /" + nul + " HTTP/1.1\r\n\r\n"), 400, "NUL byte in the request line");
}

TEST(HttpParser, RefusesOtherMalformedLines) {
  expect_refused(parse_head("GET / HTTP/1.1\r\nHost : x\r\n\r\n"), 400, "whitespace before the colon");
  expect_refused(parse_head("GET / HTTP/1.1\r\nX-A: 1\r\n  folded\r\n\r\n"), 400, "folded header line");
  expect_refused(parse_head("GET / HTTP/1.1\r\n: x\r\n\r\n"), 400, "empty name");
  expect_refused(parse_head("GET / HTTP/1.1\r\nX(A): x\r\n\r\n"), 400, "not a token");
  expect_refused(parse_head("GET / HTTP/1.1\r\nX-A: \x01\r\n\r\n"), 400, "control character in header 'X-A'");
  expect_refused(parse_head("GET  / HTTP/1.1\r\n\r\n"), 400, "single spaces");
  expect_refused(parse_head("GET /\x80 HTTP/1.1\r\n\r\n"), 400, "not visible ASCII");
  expect_refused(parse_head("GET / http/1.1\r\n\r\n"), 400, "HTTP/<digit>.<digit>");
  expect_refused(parse_head("GET / HTTP/2.0\r\n\r\n"), 400, "unsupported HTTP version");
}

TEST(HttpParser, RefusesHeadsPastTheLimitsWith431) {
  expect_refused(parse_head("GET / HTTP/1.1\r\nX-A: " + std::string(9000, 'v')), 431, "larger than 8192 bytes");
  expect_refused(parse_head("GET / HTTP/1.1\r\n" + std::string(300, 'H') + ": x\r\n\r\n"), 431, "longer than 256");
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i) many += "X-" + std::to_string(i) + ": y\r\n";
  expect_refused(parse_head(many + "\r\n"), 431, "more than 100 header fields");
}

struct Decoded {
  ChunkedBodyDecoder::State state;
  std::string body;
  std::size_t consumed;
  int status;
  std::string error;
};

Decoded decode(const std::string& bytes, std::size_t max_body = 100) {
  ChunkedBodyDecoder decoder(max_body);
  Decoded d{};
  d.state = decoder.feed(bytes, d.consumed, d.body);
  d.status = decoder.status();
  d.error = decoder.error();
  return d;
}

TEST(HttpParser, ChunkedBody_DecodedUpToItsEnd) {
  Decoded d = decode("3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\nNEXT");
  EXPECT_EQ(d.state, ChunkedBodyDecoder::State::Complete);
  EXPECT_EQ(d.body, "abc0123456789");
  EXPECT_EQ(d.consumed, 28u);   // "NEXT" is the next request's
}

TEST(HttpParser, RefusesChunkWithoutItsCrlf) {
  Decoded d = decode("3\r\nabcX\r\n0\r\n\r\n");
  EXPECT_EQ(d.state, ChunkedBodyDecoder::State::Refused);
  EXPECT_EQ(d.status, 400);
  EXPECT_NE(d.error.find("chunk data not followed by CRLF"), std::string::npos) << d.error;
  EXPECT_EQ(decode("3\r\nabc0\r\n\r\n").state, ChunkedBodyDecoder::State::Refused);
  EXPECT_EQ(decode("3\r\nabc\n0\r\n\r\n").state, ChunkedBodyDecoder::State::Refused);
}

TEST(HttpParser, RefusesMalformedChunkFraming) {
  EXPECT_NE(decode("3\nabc\r\n").error.find("bare LF"), std::string::npos);
  EXPECT_NE(decode("3;x=1\r\nabc\r\n").error.find("extensions"), std::string::npos);
  EXPECT_NE(decode("zz\r\n").error.find("hex digits"), std::string::npos);
  EXPECT_NE(decode("0\r\nX-Trailer: 1\r\n\r\n").error.find("trailer"), std::string::npos);
  Decoded big = decode("65\r\n");   // 101 bytes announced, 100 allowed
  EXPECT_EQ(big.status, 413);
  EXPECT_NE(big.error.find("larger than 100 bytes"), std::string::npos);
}

TEST(HttpParser, RequestReader_RefusesAmbiguousFraming) {
  auto refused = [](std::string bytes, int status, const std::string& fragment) {
    RequestReader reader({}, 100);
    EXPECT_EQ(reader.feed(bytes), RequestReader::State::Refused) << bytes;
    EXPECT_EQ(reader.status(), status) << bytes;
    EXPECT_NE(reader.error().find(fragment), std::string::npos) << reader.error();
  };
  refused("POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "both");
  refused("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 400, "given twice");
  refused("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400, "not a decimal number");
  refused("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413, "larger than 100 bytes");
  refused("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "only chunked");
  refused("POST / HTTP/1.1\r\nExpect: magic\r\n\r\n", 417, "100-continue");
}

TEST(HttpParser, RequestReader_LeavesThePipelinedRequest) {
  RequestReader reader({}, 100);
  std::string input = "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}GET / HTTP/1.1\r\n\r\n";
  ASSERT_EQ(reader.feed(input), RequestReader::State::Complete);
  EXPECT_EQ(reader.take_body(), "{}");
  EXPECT_EQ(input, "GET / HTTP/1.1\r\n\r\n");
}

// ---- over the wire ----------------------------------------------------------------

class StrictParsingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ApiServer>(hub_, ApiServer::Options{.address = "127.0.0.1:0", .token = kToken});
    server_->start();
  }
  // Sends bad followed by a valid request on one connection: the answer is a
  // single 400 naming the fault, then the server closes.
  void expect_400_and_closed(const std::string& bad, const std::string& fragment) {
    const std::string valid = raw_request("GET", "/v1/doors");
    RawResult result = raw_exchange(server_->port(), bad + valid, 3000);
    EXPECT_FALSE(result.timed_out) << "the connection was not closed";
    EXPECT_EQ(result.data.rfind("HTTP/1.1 400 ", 0), 0u) << result.data;
    EXPECT_NE(result.data.find(fragment), std::string::npos) << result.data;
    EXPECT_NE(result.data.find("Connection: Close"), std::string::npos) << result.data;
    EXPECT_EQ(result.data.find("HTTP/1.1", 1), std::string::npos) << "a second answer: " << result.data;
    EXPECT_EQ(hub_.call_count(), 0u);
  }

  FakeHubApi hub_;
  std::unique_ptr<ApiServer> server_;
};

TEST_F(StrictParsingTest, HttpParser_RefusesBareLfOverTheWire) {
  expect_400_and_closed("GET /v1/doors HTTP/1.1\nHost: x\n\n", "bare LF");
}

TEST_F(StrictParsingTest, HttpParser_RefusesHeaderWithoutColonOverTheWire) {
  expect_400_and_closed("GET /v1/doors HTTP/1.1\r\nHost: x\r\nAuthorization Bearer x\r\n\r\n",
                        "header line without a colon");
}

TEST_F(StrictParsingTest, HttpParser_RefusesNulInHeaderOverTheWire) {
  expect_400_and_closed("GET /v1/doors HTTP/1.1\r\nHost: x\r\nX-A: a" + std::string(1, '\0') + "b\r\n\r\n",
                        "NUL byte in header 'X-A'");
}

TEST_F(StrictParsingTest, HttpParser_RefusesChunkWithoutCrlfOverTheWire) {
  const std::string head = "POST /v1/doors/front/challenge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kToken +
                           "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  expect_400_and_closed(head + "2\r\n{}XX0\r\n\r\n", "chunk data not followed by CRLF");
}

TEST_F(StrictParsingTest, KeepAlive_PipelinedRequestsAnsweredInOrder) {
  const std::string two = raw_request("GET", "/v1/doors") + raw_request("GET", "/v1/sessions");
  RawResult result = raw_exchange(server_->port(), two, 3000);
  EXPECT_FALSE(result.timed_out);
  const auto first = result.data.find("{\"doors\":[]}");
  const auto second = result.data.find("{\"sessions\":[]}");
  EXPECT_NE(first, std::string::npos) << result.data;
  EXPECT_NE(second, std::string::npos) << result.data;
  EXPECT_LT(first, second);
}

}  // namespace
}  // namespace latchkey::hub::testing
