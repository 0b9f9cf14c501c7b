// lkctl's subcommands that talk to a running latchkeyd (docs/api.md).
#include "commands.hpp"
#include "table.hpp"

#include <latchkey/client/api_client.hpp>
#include <latchkey/client/api_json.hpp>
#include <latchkey/client/event_stream.hpp>
#include <latchkey/client/event_text.hpp>
#include <latchkey/client/grant_minting.hpp>
#include <latchkey/client/key_files.hpp>
#include <latchkey/crypto/grants.hpp>

#include <filesystem>
#include <iostream>
#include <memory>

namespace fs = std::filesystem;
namespace client = latchkey::client;
namespace crypto = latchkey::crypto;
using Poco::JSON::Object;

namespace lkctl {

OptionSpec with_api_options(OptionSpec spec) {
  spec.values.insert({"api", "token", "data-dir"});
  return spec;
}

namespace {

struct Hub {
  std::unique_ptr<client::ApiClient> api;
  std::string token_file;
};

Hub connect(const CommandLine& args) {
  client::ApiEndpoint endpoint;
  const std::string url = args.value("api").value_or(std::string(client::kDefaultApiUrl));
  try {
    endpoint = client::ApiEndpoint::parse(url);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--api: ") + e.what());
  }
  Hub hub;
  if (const auto token = args.value("token")) {
    hub.token_file = *token;
  } else if (const auto data_dir = args.value("data-dir")) {
    hub.token_file = (fs::path(*data_dir) / "api-token").string();
  } else {
    throw UsageError("the hub's API token is needed: --token FILE or --data-dir DIR (reads DIR/api-token)");
  }
  hub.api = std::make_unique<client::ApiClient>(endpoint, client::read_token_file(hub.token_file));
  return hub;
}

// Turns answers that mean "your argument is wrong" into UsageError, other
// failures into ApiError; returns the JSON of a 200.
Object::Ptr expect_ok(const Hub& hub, const client::ApiResponse& response, const std::string& what) {
  if (response.status == 200) return response.json();
  const std::string detail = what + ": HTTP " + std::to_string(response.status) + ": " + response.error_text();
  if (response.status == 401) throw RefusedArgument(detail + " (the hub refused the token in " + hub.token_file + ")");
  if (response.status == 404 || response.status == 400) throw RefusedArgument(detail);
  throw client::ApiError(detail, response.status);
}

std::string yes_no(const Object::Ptr& object, const std::string& key) {
  if (!object || !object->has(key)) return "-";
  return client::json_true(object, key) ? "yes" : "no";
}

std::string time_cell(const Object::Ptr& object, const std::string& key) {
  const int64_t ms = client::json_int(object, key, -1);
  // Unix times in ms after 2001; anything else is shown as it is.
  return ms > 1'000'000'000'000 ? client::format_unix_ms(ms) : client::json_text(object, key);
}

}  // namespace

int run_unlock(const CommandLine& args) {
  const std::string door = args.required("door");
  const std::string grant_file = args.required("grant");
  const crypto::Bytes grant = client::read_hex_file(grant_file);
  const auto grant_id = client::grant_id_of(grant);
  if (!grant_id) throw UsageError("--grant " + grant_file + ": not a serialized SignedGrant");
  const crypto::KeyPair courier = client::read_secret_key(args.required("courier"));
  Hub hub = connect(args);

  const client::ApiResponse challenge_response =
      hub.api->post("/v1/doors/" + client::encode_path_segment(door) + "/challenge", "{}");
  const Object::Ptr challenge_json = expect_ok(hub, challenge_response, "challenge for door '" + door + "'");
  const auto challenge = crypto::from_hex(client::json_text(challenge_json, "challenge"));
  if (!challenge || challenge->empty()) {
    throw client::ApiError("challenge for door '" + door + "': no hex challenge in " + challenge_response.body);
  }
  const crypto::Bytes request = crypto::make_unlock_request(grant, door, *challenge, courier.secret_key);
  const client::UnlockAnswer answer = [&] {
    try {
      return hub.api->unlock(door, request);
    } catch (const client::ApiError& e) {
      if (e.status() == 401 || e.status() == 404 || e.status() == 400) throw RefusedArgument(e.what());
      throw;
    }
  }();
  std::cout << "grant    " << crypto::to_hex(*grant_id) << "\n"
            << "door     " << door << "\n"
            << "decision " << answer.decision << "\n";
  if (answer.allowed) {
    std::cout << "session  " << answer.session << "\nrequest  " << answer.request_id << "\n";
    return kExitOk;
  }
  std::cout << "rule     " << (answer.rule.empty() ? "-" : answer.rule) << "\n"
            << "reason   " << answer.error << "\n";
  return kExitDenied;
}

int run_doors(const CommandLine& args) {
  Hub hub = connect(args);
  const Object::Ptr json = expect_ok(hub, hub.api->get("/v1/doors"), "GET /v1/doors");
  Table doors({"DOOR", "LOCK", "DOOR STATE", "LOCK FAULT", "LOCKOUT MS", "SESSION"});
  Table cameras({"DOOR", "CAMERA", "LIVE", "LAST ATTESTATION MS AGO", "COUNTER", "RECORDING SESSION"});
  const auto list = client::json_array(json, "doors");
  for (std::size_t i = 0; list && i < list->size(); ++i) {
    const auto door = client::json_object_at(list, i);
    const std::string id = client::json_text(door, "id");
    const auto session = client::json_object(door, "session");
    doors.add({id, client::json_text(door, "lock_state"), client::json_text(door, "door_state"),
               yes_no(door, "lock_faulted"), client::json_text(door, "lockout_remaining_ms"),
               session ? client::short_id(client::json_text(session, "session"), 16) + " " +
                             client::json_text(session, "end")
                       : "none"});
    const auto camera_list = client::json_array(door, "cameras");
    for (std::size_t c = 0; camera_list && c < camera_list->size(); ++c) {
      const auto camera = client::json_object_at(camera_list, c);
      cameras.add({id, client::json_text(camera, "id"), yes_no(camera, "live"),
                   client::json_text(camera, "last_accepted_age_ms"), client::json_text(camera, "counter"),
                   client::short_id(client::json_text(camera, "recording_session"), 16)});
    }
  }
  doors.print(std::cout);
  std::cout << "\n";
  cameras.print(std::cout);
  return kExitOk;
}

int run_sessions(const CommandLine& args) {
  Hub hub = connect(args);
  const Object::Ptr json = expect_ok(hub, hub.api->get("/v1/sessions"), "GET /v1/sessions");
  Table table({"SESSION", "DOOR", "GRANT", "COURIER", "CAMERAS", "UNLOCKED", "OPENS", "END", "RULE"});
  const auto list = client::json_array(json, "sessions");
  for (std::size_t i = 0; list && i < list->size(); ++i) {
    const auto s = client::json_object_at(list, i);
    table.add({client::short_id(client::json_text(s, "session"), 16), client::json_text(s, "door"),
               client::short_id(client::json_text(s, "grant"), 16), client::json_text(s, "courier"),
               client::json_text(s, "cameras"), time_cell(s, "unlocked"), client::json_text(s, "door_opens"),
               client::json_text(s, "end"), client::json_text(s, "rule")});
  }
  table.print(std::cout);
  return kExitOk;
}

int run_alarms(const CommandLine& args) {
  const int64_t from = args.integer("from", 0, INT64_MAX, 0);
  Hub hub = connect(args);
  const Object::Ptr json =
      expect_ok(hub, hub.api->get("/v1/alarms?since=" + std::to_string(from)), "GET /v1/alarms");
  Table table({"ID", "TIME (UTC)", "RULE", "DOOR", "CAMERA", "MESSAGE"});
  const auto list = client::json_array(json, "alarms");
  for (std::size_t i = 0; list && i < list->size(); ++i) {
    const auto a = client::json_object_at(list, i);
    table.add({client::json_text(a, "id"), time_cell(a, "time_ms"), client::json_text(a, "rule"),
               client::json_text(a, "door"), client::json_text(a, "camera"), client::json_text(a, "message")});
  }
  table.print(std::cout);
  return kExitOk;
}

int run_audit(const CommandLine& args) {
  int64_t from = args.integer("from", 1, INT64_MAX, 1);
  Hub hub = connect(args);
  Table table({"SEQ", "TIME (UTC)", "TYPE", "RULE", "DOOR", "SUBJECT", "DETAIL"});
  constexpr int kPage = 1000;  // the API's limit
  for (;;) {
    const std::string path = "/v1/audit?from=" + std::to_string(from) + "&limit=" + std::to_string(kPage);
    const Object::Ptr json = expect_ok(hub, hub.api->get(path), "GET " + path);
    const auto list = client::json_array(json, "records");
    const std::size_t count = list ? list->size() : 0;
    for (std::size_t i = 0; i < count; ++i) {
      const auto r = client::json_object_at(list, i);
      table.add({client::json_text(r, "seq"), time_cell(r, "wall_ms"), client::json_text(r, "type"),
                 client::json_text(r, "rule"), client::json_text(r, "door"),
                 client::short_id(client::json_text(r, "subject"), 16), client::json_text(r, "detail")});
      from = std::max(from, client::json_int(r, "seq") + 1);
    }
    if (count < static_cast<std::size_t>(kPage)) break;
  }
  table.print(std::cout);
  return kExitOk;
}

int run_events(const CommandLine& args) {
  Hub hub = connect(args);
  // Check the token with an ordinary request first, so a bad one is a usage error.
  expect_ok(hub, hub.api->get("/v1/health"), "GET /v1/health");
  client::EventStream stream(hub.api->endpoint(), client::read_token_file(hub.token_file));
  std::cerr << "following " << hub.api->endpoint().url() << "/v1/events (Ctrl-C ends)\n";
  try {
    stream.read([](const client::SseEvent& event) {
      // The hub's time of the event (also for history replayed on connecting).
      const Poco::JSON::Object::Ptr data = event.json();
      const int64_t at = data ? client::json_int(data, "time_ms", client::unix_now_ms()) : client::unix_now_ms();
      std::cout << client::format_unix_ms(at) << "  #" << event.id << "  " << event.name
                << std::string(event.name.size() < 9 ? 9 - event.name.size() : 1, ' ')
                << client::describe_event_data(event) << std::endl;
      return true;
    });
  } catch (const client::ApiError& e) {
    if (e.status() == 401) {
      throw RefusedArgument(std::string(e.what()) + " (the hub refused the token in " + hub.token_file + ")");
    }
    throw;
  }
  std::cerr << "the event stream ended (the hub stopped?)\n";
  return kExitFailure;
}

}  // namespace lkctl
