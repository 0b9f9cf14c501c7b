// docs/openapi.json against the daemon: the document lists exactly the
// routes latchkeyd serves (its route table), and every answer and event a
// real hub gives during a delivery, a refused unlock and a camera fault
// matches the document's schema for it - with additionalProperties false
// throughout, so an undocumented field fails as surely as a missing one.
#include "daemon_fixture.hpp"
#include "latchkeyd_command.hpp"

#include <latchkey/client/api_json.hpp>
#include <latchkey/crypto/grants.hpp>
#include <latchkey/http/api_routes.hpp>

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>

namespace latchkey::tests {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

// The subset of OpenAPI 3.0's schema language docs/openapi.json uses.
class SchemaCheck {
 public:
  explicit SchemaCheck(Object::Ptr doc) : doc_(std::move(doc)) {}

  // "" when value matches schema, otherwise the first mismatch with its path.
  std::string check(const Var& value, const Object::Ptr& schema, const std::string& path) const {
    if (schema->has("$ref")) return check(value, resolve(schema->getValue<std::string>("$ref")), path);
    if (value.isEmpty()) return schema->optValue<bool>("nullable", false) ? "" : path + ": null";
    if (schema->has("allOf")) {
      Array::Ptr all = schema->getArray("allOf");
      for (std::size_t i = 0; i < all->size(); ++i)
        if (auto p = check(value, all->getObject(static_cast<unsigned>(i)), path); !p.empty()) return p;
    }
    if (schema->has("oneOf")) {
      Array::Ptr one = schema->getArray("oneOf");
      int matched = 0;
      std::string last;
      for (std::size_t i = 0; i < one->size(); ++i) {
        const std::string p = check(value, one->getObject(static_cast<unsigned>(i)), path);
        if (p.empty()) ++matched;
        else last = p;
      }
      if (matched != 1) return path + ": matches " + std::to_string(matched) + " of oneOf (" + last + ")";
    }
    if (schema->has("enum")) {
      Array::Ptr values = schema->getArray("enum");
      bool found = false;
      for (std::size_t i = 0; i < values->size(); ++i) found = found || values->get(static_cast<unsigned>(i)) == value;
      if (!found) return path + ": '" + value.toString() + "' is not in the enum";
    }
    const std::string type = schema->optValue<std::string>("type", "");
    if (type == "object") {
      if (value.type() != typeid(Object::Ptr)) return path + ": not an object";
      const Object::Ptr o = value.extract<Object::Ptr>();
      Object::Ptr properties = schema->has("properties") ? schema->getObject("properties") : Object::Ptr(new Object);
      if (schema->has("required")) {
        Array::Ptr required = schema->getArray("required");
        for (std::size_t i = 0; i < required->size(); ++i) {
          const std::string key = required->getElement<std::string>(static_cast<unsigned>(i));
          if (!o->has(key)) return path + "." + key + ": missing";
        }
      }
      for (const auto& [key, field] : *o) {
        if (!properties->has(key)) {
          if (schema->has("additionalProperties") && !schema->getValue<bool>("additionalProperties"))
            return path + "." + key + ": not in the document";
          continue;
        }
        if (auto p = check(field, properties->getObject(key), path + "." + key); !p.empty()) return p;
      }
    } else if (type == "array") {
      if (value.type() != typeid(Array::Ptr)) return path + ": not an array";
      const Array::Ptr a = value.extract<Array::Ptr>();
      for (std::size_t i = 0; i < a->size(); ++i)
        if (auto p = check(a->get(static_cast<unsigned>(i)), schema->getObject("items"), path + "[" + std::to_string(i) + "]");
            !p.empty())
          return p;
    } else if (type == "string") {
      if (!value.isString()) return path + ": not a string";
      const std::string s = value.toString();
      if (schema->has("pattern") && !std::regex_search(s, std::regex(schema->getValue<std::string>("pattern"))))
        return path + ": '" + s + "' does not match " + schema->getValue<std::string>("pattern");
      if (schema->has("minLength") && s.size() < schema->getValue<std::size_t>("minLength")) return path + ": too short";
      if (schema->has("maxLength") && s.size() > schema->getValue<std::size_t>("maxLength")) return path + ": too long";
    } else if (type == "integer") {
      if (!value.isInteger()) return path + ": not an integer";
    } else if (type == "boolean") {
      if (!value.isBoolean()) return path + ": not a boolean";
    }
    return "";
  }

  Object::Ptr resolve(const std::string& ref) const {
    // "#/components/schemas/Name"
    Object::Ptr at = doc_;
    std::istringstream parts(ref.substr(2));
    for (std::string part; std::getline(parts, part, '/');) at = at->getObject(part);
    if (!at) throw std::runtime_error("unresolved $ref " + ref);
    return at;
  }

  // The schema of an answer: paths[path][method].responses[status].content[application/json].schema.
  Object::Ptr answer_schema(const std::string& path, const std::string& method, int status) const {
    Object::Ptr operation = doc_->getObject("paths")->getObject(path)->getObject(method);
    Object::Ptr responses = operation->getObject("responses");
    Object::Ptr response = responses->getObject(std::to_string(status));
    if (!response) return nullptr;
    if (response->has("$ref")) response = resolve(response->getValue<std::string>("$ref"));
    return response->getObject("content")->getObject("application/json")->getObject("schema");
  }

  const Object::Ptr& doc() const { return doc_; }

 private:
  Object::Ptr doc_;
};

Object::Ptr parse(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Object::Ptr>();
}

class OpenApi : public DaemonTest {
 protected:
  void SetUp() override {
    start_hub();
    const client::ApiResponse served = api_->get("/v1/openapi.json");
    ASSERT_EQ(served.status, 200) << served.body;
    check_ = std::make_unique<SchemaCheck>(parse(served.body));
  }

  // The answer matches the document's schema for path, method and status.
  void expect_documented(const std::string& path, const std::string& method, const client::ApiResponse& answer) {
    SCOPED_TRACE(method + " " + path + " -> " + std::to_string(answer.status));
    const Object::Ptr schema = check_->answer_schema(path, method, answer.status);
    ASSERT_TRUE(schema) << "status " << answer.status << " is not documented; body: " << answer.body;
    EXPECT_EQ(check_->check(Var(parse(answer.body)), schema, "$"), "") << answer.body;
    ++checked_;
  }

  std::unique_ptr<SchemaCheck> check_;
  int checked_ = 0;
};

TEST_F(OpenApi, ServedWithoutTokenAndEqualToTheFileInDocs) {
  client::ApiClient anonymous(hub_->endpoint(), "");
  const client::ApiResponse served = anonymous.get("/v1/openapi.json");
  EXPECT_EQ(served.status, 200);
  EXPECT_EQ(served.content_type.rfind("application/json", 0), 0u) << served.content_type;
  EXPECT_EQ(served.body, read_file(LATCHKEY_TEST_OPENAPI_FILE));
}

TEST_F(OpenApi, DocumentsExactlyTheRoutesTheDaemonServes) {
  std::set<std::string> served;
  for (const hub::http::ApiRoute& r : hub::http::api_routes()) {
    std::string method = r.method;
    std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::tolower(c); });
    served.insert(method + " " + r.path);
  }
  std::set<std::string> documented;
  for (const auto& [path, item] : *check_->doc()->getObject("paths"))
    for (const auto& [method, operation] : *item.extract<Object::Ptr>()) documented.insert(method + " " + path);
  EXPECT_EQ(served, documented);
}

TEST_F(OpenApi, EveryAnswerAndEventOfADeliveryMatchesTheDocument) {
  expect_documented("/v1/health", "get", api_->get("/v1/health"));
  expect_documented("/v1/doors", "get", api_->get("/v1/doors"));
  expect_documented("/v1/plugins", "get", api_->get("/v1/plugins"));
  expect_documented("/v1/audit/verify", "get", api_->get("/v1/audit/verify"));

  // A delivery, by hand, to see the unlock answers themselves.
  const client::MintedGrant minted = grant("front");
  const client::ApiResponse challenge = api_->post("/v1/doors/front/challenge", "{}");
  expect_documented("/v1/doors/{door}/challenge", "post", challenge);
  const crypto::Bytes nonce = crypto::from_hex(client::json_text(challenge.json(), "challenge")).value_or(crypto::Bytes{});
  const crypto::Bytes request = crypto::make_unlock_request(minted.signed_grant, "front", nonce, courier_.key.secret_key);
  const std::string body = "{\"request\":\"" + crypto::to_hex(request) + "\"}";
  expect_documented("/v1/doors/{door}/unlock", "post", api_->post("/v1/doors/front/unlock", body));
  ASSERT_TRUE(wait_door("front", "unlocked", "closed"));
  expect_documented("/v1/doors", "get", api_->get("/v1/doors"));  // with a session and a recording camera
  expect_documented("/v1/sessions", "get", api_->get("/v1/sessions"));
  act("front", "open");
  act("front", "close");
  // The same grant again: G3, a 403 with the decision.
  const client::ApiResponse again_challenge = api_->post("/v1/doors/front/challenge", "{}");
  const crypto::Bytes nonce2 =
      crypto::from_hex(client::json_text(again_challenge.json(), "challenge")).value_or(crypto::Bytes{});
  const crypto::Bytes replay = crypto::make_unlock_request(minted.signed_grant, "front", nonce2, courier_.key.secret_key);
  const client::ApiResponse denied =
      api_->post("/v1/doors/front/unlock", "{\"request\":\"" + crypto::to_hex(replay) + "\"}");
  EXPECT_EQ(denied.status, 403);
  expect_documented("/v1/doors/{door}/unlock", "post", denied);
  // A camera fault: an alarm, liveness events.
  fault("yard", "freeze");
  ASSERT_TRUE(wait_event("alarm", [](const JsonObject&) { return true; }, 10s));
  expect_documented("/v1/alarms", "get", api_->get("/v1/alarms"));
  expect_documented("/v1/audit", "get", api_->get("/v1/audit?limit=1000"));
  expect_documented("/v1/sessions", "get", api_->get("/v1/sessions"));
  expect_documented("/v1/test/cameras/{camera}/fault", "post", api_->camera_fault("yard", "clear"));
  expect_documented("/v1/test/doors/{door}/action", "post", api_->door_action("front", "close"));
  // Errors.
  expect_documented("/v1/doors/{door}/challenge", "post", api_->post("/v1/doors/nowhere/challenge", "{}"));
  expect_documented("/v1/alarms", "get", api_->get("/v1/alarms?since=x"));
  expect_documented("/v1/test/cameras/{camera}/fault", "post", api_->camera_fault("yard", "melt"));

  // Every event so far, each against the schema its name maps to.
  Object::Ptr events = check_->doc()->getObject("paths")->getObject("/v1/events")->getObject("get")->getObject("x-events");
  std::set<std::string> names;
  for (const client::SseEvent& e : events_->events()) {
    SCOPED_TRACE("event #" + std::to_string(e.id) + " " + e.name + ": " + e.data);
    ASSERT_TRUE(events->has(e.name)) << "event name not in x-events";
    Object::Ptr schema = check_->resolve(events->getValue<std::string>(e.name));
    EXPECT_EQ(check_->check(Var(parse(e.data)), schema, "$"), "");
    names.insert(e.name);
  }
  for (const char* name : {"decision", "session", "door", "camera", "audit", "alarm"})
    EXPECT_TRUE(names.count(name)) << "no " << name << " event was seen to check";
  EXPECT_GE(checked_, 17);
}

// GET /v1/cameras/{camera}/snapshot: the simulated camera's PPM frame as a
// BMP a browser shows, with the size the header says; errors as documented.
TEST_F(OpenApi, SnapshotIsAPictureABrowserShows) {
  const client::ApiResponse shot = api_->get("/v1/cameras/porch/snapshot");
  ASSERT_EQ(shot.status, 200) << shot.body;
  EXPECT_EQ(shot.content_type, "image/bmp");
  ASSERT_GE(shot.body.size(), 54u);
  EXPECT_EQ(shot.body.substr(0, 2), "BM");
  auto u32 = [&](std::size_t at) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(shot.body[at + static_cast<std::size_t>(i)]);
    return v;
  };
  EXPECT_EQ(u32(2), shot.body.size());                     // file size
  const uint32_t width = u32(18), height = u32(22);
  EXPECT_GT(width, 0u);
  EXPECT_EQ(shot.body.size(), 54u + ((width * 3 + 3) & ~3u) * height);
  expect_documented("/v1/cameras/{camera}/snapshot", "get", api_->get("/v1/cameras/nowhere/snapshot"));
}

// The checker itself: an undocumented field, a missing one and a wrong type fail.
TEST_F(OpenApi, TheCheckRefusesWhatTheDocumentDoesNotSay) {
  const Object::Ptr health = check_->resolve("#/components/schemas/Health");
  const std::string good = api_->get("/v1/health").body;
  EXPECT_EQ(check_->check(Var(parse(good)), health, "$"), "");
  Object::Ptr extra = parse(good);
  extra->set("surprise", 1);
  EXPECT_NE(check_->check(Var(extra), health, "$"), "");
  Object::Ptr missing = parse(good);
  missing->remove("doors");
  EXPECT_NE(check_->check(Var(missing), health, "$"), "");
  Object::Ptr wrong = parse(good);
  wrong->set("doors", "two");
  EXPECT_NE(check_->check(Var(wrong), health, "$"), "");
}

TEST_F(OpenApi, EveryEventCarriesItsTime) {
  act("front", "open");
  const auto e = wait_event("door", [](const JsonObject& o) { return o->has("door_state"); });
  ASSERT_TRUE(e);
  const Object::Ptr data = e->json();
  const int64_t at = client::json_int(data, "time_ms", 0);
  const int64_t now = client::unix_now_ms();
  EXPECT_LE(std::llabs(now - at), 10'000) << e->data;
  EXPECT_TRUE(std::regex_match(client::json_text(data, "time"),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << e->data;
}

}  // namespace
}  // namespace latchkey::tests
