#include <latchkey/client/api_json.hpp>
#include <latchkey/demo/hub_status.hpp>

#include <thread>

namespace latchkey::demo {

namespace {

JsonObject get_ok(client::ApiClient& api, const std::string& path) {
  const client::ApiResponse response = api.get(path);
  if (response.status != 200) {
    throw client::ApiError("GET " + path + ": HTTP " + std::to_string(response.status) + ": " + response.error_text(),
                           response.status);
  }
  return response.json();
}

std::vector<JsonObject> objects(const JsonObject& json, const std::string& key) {
  std::vector<JsonObject> list;
  const auto array = client::json_array(json, key);
  for (std::size_t i = 0; array && i < array->size(); ++i) {
    if (auto item = client::json_object_at(array, i)) list.push_back(item);
  }
  return list;
}

}  // namespace

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<JsonObject> doors(client::ApiClient& api) { return objects(get_ok(api, "/v1/doors"), "doors"); }

JsonObject door(client::ApiClient& api, const std::string& door_id) {
  for (const JsonObject& d : doors(api)) {
    if (client::json_text(d, "id") == door_id) return d;
  }
  return nullptr;
}

bool all_cameras_live(client::ApiClient& api) {
  for (const JsonObject& d : doors(api)) {
    for (const JsonObject& camera : objects(d, "cameras")) {
      if (!client::json_true(camera, "live")) return false;
    }
  }
  return true;
}

bool wait_cameras_live(client::ApiClient& api, std::chrono::milliseconds timeout) {
  return wait_until([&] { return all_cameras_live(api); }, timeout);
}

bool wait_door_idle(client::ApiClient& api, const std::string& door_id, const std::string& lock_state,
                    const std::string& door_state, std::chrono::milliseconds timeout) {
  return wait_until(
      [&] {
        const JsonObject d = door(api, door_id);
        if (!d) return false;
        if (!lock_state.empty() && client::json_text(d, "lock_state") != lock_state) return false;
        if (!door_state.empty() && client::json_text(d, "door_state") != door_state) return false;
        return client::json_object(d, "session").isNull();
      },
      timeout);
}

std::vector<JsonObject> sessions(client::ApiClient& api) { return objects(get_ok(api, "/v1/sessions"), "sessions"); }

JsonObject session(client::ApiClient& api, const std::string& session_hex) {
  for (const JsonObject& s : sessions(api)) {
    if (client::json_text(s, "session") == session_hex) return s;
  }
  return nullptr;
}

JsonObject wait_session_end(client::ApiClient& api, const std::string& session_hex, const std::string& end,
                            std::chrono::milliseconds timeout) {
  JsonObject found;
  wait_until(
      [&] {
        const JsonObject s = session(api, session_hex);
        if (s && client::json_text(s, "end") == end) found = s;
        return !found.isNull();
      },
      timeout);
  return found;
}

std::vector<JsonObject> alarms_since(client::ApiClient& api, int64_t since_id) {
  return objects(get_ok(api, "/v1/alarms?since=" + std::to_string(since_id)), "alarms");
}

int64_t last_alarm_id(client::ApiClient& api) {
  int64_t last = 0;
  for (const JsonObject& a : alarms_since(api, 0)) last = std::max(last, client::json_int(a, "id"));
  return last;
}

JsonObject wait_alarm(client::ApiClient& api, int64_t since_id, const std::string& rule, const std::string& door,
                      const std::string& camera, std::chrono::milliseconds timeout) {
  JsonObject found;
  wait_until(
      [&] {
        for (const JsonObject& a : alarms_since(api, since_id)) {
          if (client::json_text(a, "rule") != rule) continue;
          if (!door.empty() && client::json_text(a, "door") != door) continue;
          if (!camera.empty() && client::json_text(a, "camera") != camera) continue;
          found = a;
          return true;
        }
        return false;
      },
      timeout);
  return found;
}

std::vector<JsonObject> audit_records(client::ApiClient& api, int64_t from_seq) {
  std::vector<JsonObject> all;
  constexpr int kPage = 1000;
  for (;;) {
    const auto page = objects(
        get_ok(api, "/v1/audit?from=" + std::to_string(from_seq) + "&limit=" + std::to_string(kPage)), "records");
    for (const JsonObject& r : page) {
      all.push_back(r);
      from_seq = std::max(from_seq, client::json_int(r, "seq") + 1);
    }
    if (page.size() < static_cast<std::size_t>(kPage)) return all;
  }
}

int64_t last_audit_seq(client::ApiClient& api) {
  const auto records = audit_records(api, 1);
  return records.empty() ? 0 : client::json_int(records.back(), "seq");
}

}  // namespace latchkey::demo
