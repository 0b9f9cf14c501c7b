// The fleet's subscriber of alarms, session outcomes and checkpoints for
// the outbox tests (docs/fleet.md "Alarms and sessions up: the outbox"):
// user lk-fleet on the fleet broker, and what it received decoded and
// deduplicated on (hub id, sequence), as a real receiver does.
#ifndef LATCHKEY_TESTS_FLEET_FLEET_SUBSCRIBER_HPP
#define LATCHKEY_TESTS_FLEET_FLEET_SUBSCRIBER_HPP

#include <latchkey/audit/checkpoint.hpp>
#include <latchkey/fleet/outbox.hpp>
#include <latchkey/fleet/protocol.hpp>

#include <mosquitto.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace latchkey::tests {

// One integer a read-only query of the outbox file returns, or -1.
inline int64_t outbox_query_int(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* handle = nullptr;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(handle);
    return -1;
  }
  sqlite3_busy_timeout(handle, 2000);
  sqlite3_stmt* stmt = nullptr;
  int64_t out = -1;
  if (sqlite3_prepare_v2(handle, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
    out = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
  return out;
}

// The fleet's subscriber. With a persistent session (clean_session = false)
// a broker with persistence keeps what arrives for it while it reconnects
// after the broker's restart. libmosquitto's own loop reconnects.
class FleetSubscriber {
 public:
  // clean = false: a persistent session (client id lk-fleet-test).
  FleetSubscriber(uint16_t port, const std::string& password, bool clean = false) {
    mosquitto_lib_init();
    mosq_ = mosquitto_new(clean ? nullptr : "lk-fleet-test", clean, this);
    mosquitto_username_pw_set(mosq_, "lk-fleet", password.c_str());
    mosquitto_reconnect_delay_set(mosq_, 1, 1, false);
    mosquitto_connect_callback_set(mosq_, [](mosquitto* m, void* self, int rc) {
      if (rc != 0) return;
      for (const char* leaf : {"up/alarm", "up/session", "up/checkpoint"})
        mosquitto_subscribe(m, nullptr, (std::string("latchkey/fleet/v1/hub-1/") + leaf).c_str(), 1);
      static_cast<FleetSubscriber*>(self)->connects_++;
    });
    mosquitto_subscribe_callback_set(mosq_, [](mosquitto*, void* self, int, int, const int*) {
      static_cast<FleetSubscriber*>(self)->subscribed_++;
    });
    mosquitto_message_callback_set(mosq_, [](mosquitto*, void* self, const mosquitto_message* m) {
      auto* s = static_cast<FleetSubscriber*>(self);
      std::lock_guard<std::mutex> lock(s->mutex_);
      s->messages_.emplace_back(m->topic, std::string(static_cast<const char*>(m->payload),
                                                      static_cast<std::size_t>(m->payloadlen)));
    });
    mosquitto_connect_async(mosq_, "127.0.0.1", port, 5);
    mosquitto_loop_start(mosq_);
  }
  ~FleetSubscriber() {
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, true);
    mosquitto_destroy(mosq_);
  }
  std::vector<std::pair<std::string, std::string>> messages() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return messages_;
  }
  int connects() const { return connects_.load(); }
  int subscribed() const { return subscribed_.load(); }  // SUBACKs received (3 per connection)

 private:
  mosquitto* mosq_ = nullptr;
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, std::string>> messages_;
  std::atomic<int> connects_{0};
  std::atomic<int> subscribed_{0};
};

// What the subscriber holds, deduplicated on (hub id, sequence).
struct FleetReceived {
  std::map<uint64_t, fleet::AlarmUp> alarms;
  std::map<uint64_t, fleet::SessionUp> sessions;
  std::vector<audit::Checkpoint> checkpoints;
  std::size_t duplicates = 0;
  std::vector<std::string> problems;
};

inline FleetReceived decode(const std::vector<std::pair<std::string, std::string>>& messages) {
  FleetReceived r;
  for (const auto& [topic, payload] : messages) {
    const auto* data = reinterpret_cast<const uint8_t*>(payload.data());
    if (topic == fleet::alarm_topic("hub-1")) {
      auto a = fleet::decode_alarm(data, payload.size());
      if (auto* p = std::get_if<std::string>(&a)) {
        r.problems.push_back(*p);
        continue;
      }
      const auto& alarm = std::get<fleet::HubAlarm>(a);
      if (r.alarms.count(alarm.sequence) || r.sessions.count(alarm.sequence)) ++r.duplicates;
      r.alarms[alarm.sequence] = alarm.alarm;
    } else if (topic == fleet::session_topic("hub-1")) {
      auto s = fleet::decode_session(data, payload.size());
      if (auto* p = std::get_if<std::string>(&s)) {
        r.problems.push_back(*p);
        continue;
      }
      const auto& session = std::get<fleet::HubSession>(s);
      if (r.alarms.count(session.sequence) || r.sessions.count(session.sequence)) ++r.duplicates;
      r.sessions[session.sequence] = session.session;
    } else {
      auto c = fleet::decode_checkpoint(data, payload.size());
      if (auto* p = std::get_if<std::string>(&c)) {
        r.problems.push_back(*p);
        continue;
      }
      r.checkpoints.push_back(std::get<fleet::HubCheckpoint>(c).checkpoint);
    }
  }
  return r;
}

}  // namespace latchkey::tests

#endif  // LATCHKEY_TESTS_FLEET_FLEET_SUBSCRIBER_HPP
