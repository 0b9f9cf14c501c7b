// latchkeyd in Home Assistant: MQTT discovery configs, states, availability
// and the lock command topic (docs/home-assistant.md), over one
// latchkey_mqtt_link connection.
//
// Threads. The hub's loop only hands events over (HubApi::subscribe into a
// DropAndResyncQueue: a mutex held for a push, never a wait on the broker).
// The publisher's own thread turns them into retained state messages, and
// after every connect, and after the queue overflowed, rebuilds every config
// and state from the hub's views (doors, alarms). The link's thread reads
// the command topics and asks the hub (HubApi::remote_lock/remote_unlock),
// which decides and audits; a slow or absent broker delays only these two
// threads, never the hub.
#ifndef LATCHKEY_HOME_ASSISTANT_PUBLISHER_HPP
#define LATCHKEY_HOME_ASSISTANT_PUBLISHER_HPP

#include <latchkey/home_assistant/discovery.hpp>
#include <latchkey/home_assistant/event_queue.hpp>
#include <latchkey/hub/daemon_config.hpp>
#include <latchkey/hub/hub_api.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

namespace latchkey::mqtt {
class MqttLink;
}

namespace latchkey::home_assistant {

// The broker password from [mqtt] password_file, trusted as the hub's other
// secrets are (a regular file, not a link, owned by the daemon's user, mode
// at most 0600) and one line of 1-1024 bytes without NUL. Throws
// std::runtime_error naming the key, the path and the problem.
std::string read_password_file(const std::filesystem::path& file);

struct PublisherOptions {
  hub::MqttConfig mqtt;      // topic_prefix and client_id filled in (DaemonConfig::parse does)
  std::string hub_id;
  std::string version;
  std::string password;      // read_password_file(), or empty
  std::size_t queue_limit = 1024;  // hub events waiting for the publisher's thread
  // level ("info", "warning", "error") and message; default: latchkeyd's log format on stderr.
  std::function<void(const std::string& level, const std::string& message)> log;
};

class Publisher {
 public:
  // Subscribes to the hub's events and starts connecting (the broker may be
  // down: it keeps trying). Throws mqtt::LinkError on a set-up libmosquitto
  // refuses (a TLS CA file it cannot load).
  Publisher(hub::HubApi& hub, PublisherOptions options);
  // Unsubscribes, publishes "offline" when connected, disconnects.
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  const Topics& topics() const noexcept { return topics_; }
  uint64_t dropped_events() const { return queue_.dropped(); }
  uint64_t resyncs() const noexcept { return resyncs_.load(); }

 private:
  void run();
  void resync();
  void handle(const hub::HubEvent& event, bool& doors_dirty);
  void refresh_doors();
  void publish_door(const hub::DoorStatus& door);
  bool send(const Message& m);
  bool send(const std::string& topic, const std::string& payload, bool retain);
  void on_message(std::string_view topic, const uint8_t* data, std::size_t size);
  void log(const std::string& level, const std::string& message) const;

  hub::HubApi& hub_;
  PublisherOptions options_;
  Topics topics_;
  DropAndResyncQueue<hub::HubEvent> queue_;
  std::atomic<uint64_t> resyncs_{0};
  std::atomic<bool> was_connected_{false};
  // The publisher thread's own: the payload last sent per state topic, and
  // when each open session was first seen (door -> session hex, wall ms).
  std::map<std::string, std::string> sent_;
  std::map<std::string, std::pair<std::string, int64_t>> session_since_;
  bool synced_ = false;  // configs and states sent since the last connect
  uint64_t subscription_ = 0;
  std::unique_ptr<mqtt::MqttLink> link_;
  std::thread thread_;
};

}  // namespace latchkey::home_assistant

#endif  // LATCHKEY_HOME_ASSISTANT_PUBLISHER_HPP
