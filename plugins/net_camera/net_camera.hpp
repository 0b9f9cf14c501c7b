// A camera on the hub's MQTT broker (docs/camera-link.md), hub end: it relays
// what the camera's own agent signed and never holds, receives or derives a
// private key. Attestation bytes go to the host unchanged; nonces and
// recording commands go to the camera; link status is reported for people.
//
// Threads: the MQTT link's thread delivers messages (hello, state,
// attestations) and link losses; the watchdog thread checks for silence; the
// host's calls arrive on its own threads. The destructor joins both threads,
// so after close no event follows and the library may be unloaded.
#ifndef LATCHKEY_NET_CAMERA_NET_CAMERA_HPP
#define LATCHKEY_NET_CAMERA_NET_CAMERA_HPP

#include "hello_pin.hpp"
#include "log_throttle.hpp"
#include <latchkey/mqtt/mqtt_link.hpp>
#include "net_camera_uri.hpp"
#include "reference_view.hpp"
#include "refusals.hpp"
#include "ticker.hpp"

#include <latchkey/cpp/plugin.hpp>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::net_camera {

class NetCamera final : public plugin::CameraDriver {
 public:
  static constexpr std::size_t kMaxAttestationBytes = 1024;
  static constexpr uint32_t kDefaultPeriodMs = 250;
  static constexpr uint32_t kSilentPeriods = 3;  // OFFLINE after this many periods without an attestation

  // Parses the URI, connects, and waits (up to hello_timeout_ms) for the
  // camera's retained hello. Throws plugin::Error: INVALID_ARGUMENT for a bad
  // URI or password file, IO when the broker refuses the credentials,
  // TIMEOUT when no hello came and the URI pins no key.
  static std::unique_ptr<NetCamera> open(std::string_view uri, plugin::EventSink sink);

  NetCamera(NetCameraUri uri, std::string password, plugin::EventSink sink);
  ~NetCamera() override;

  void describe(lk_camera_description& description) override;
  void deliver_nonce(const uint8_t* nonce, std::size_t size) override;
  void start_recording(const uint8_t (&session_id)[LK_SESSION_ID_SIZE]) override;
  void stop_recording() override;
  // The camera's reference view (C8), when its agent has published one.
  std::vector<uint8_t> snapshot(lk_snapshot_info& info) override;

 private:
  enum class Status { kUnknown, kOnline, kOffline };

  void await_hello();
  void announce();
  void on_connected();
  void on_lost(const std::string& why);
  void on_refused(int code, const std::string& why);
  void on_message(std::string_view topic, const uint8_t* data, std::size_t size);
  void on_hello(const uint8_t* data, std::size_t size);
  void on_state(const uint8_t* data, std::size_t size);
  void on_attestation(const uint8_t* data, std::size_t size);
  void on_broker_report(const uint8_t* data, std::size_t size);
  void on_reference(const uint8_t* data, std::size_t size);
  // A refused message: logged, and reported to the host (paced per kind).
  void refuse(Refusal refusal);
  void report_refusal(const Refusal& refusal);
  void check_silence();
  void set_status_locked(Status status, const std::string& why);  // status_mutex_ held
  void publish_command(const std::string& serialized);            // mutex_ held
  uint32_t period_ms_locked() const;                              // mutex_ held
  std::string topic(const char* leaf) const { return prefix_ + leaf; }
  std::string report_topic() const { return "latchkey/broker/refused/" + uri_.camera_id; }
  void log(lk_log_level level, const std::string& message) const;

  const NetCameraUri uri_;
  const plugin::EventSink sink_;
  const std::string prefix_;  // latchkey/camera/<id>/

  std::mutex mutex_;  // guards the block below
  std::condition_variable changed_;
  HelloPin hello_;
  bool period_warned_ = false;
  std::string refused_;       // set when the broker refuses our credentials
  std::string last_problem_;  // the latest link failure, for messages
  bool link_down_logged_ = false;
  bool recording_ = false;
  std::optional<ReferenceCells> reference_;
  uint64_t next_command_id_;

  std::mutex status_mutex_;  // guards the block below; status events are emitted holding it
  Status status_ = Status::kUnknown;
  // Set once open() has returned the device: the host knows no device
  // before that, so nothing is emitted (status and attestations wait).
  bool opened_ = false;
  uint64_t last_attestation_ns_;
  std::atomic<uint32_t> silence_limit_ms_;

  RefusalPacer refusals_;
  LogThrottle report_log_;  // guard reports that do not parse

  std::unique_ptr<mqtt::MqttLink> link_;   // started last in the constructor, stopped first
  std::unique_ptr<Ticker> watchdog_;
};

}  // namespace latchkey::net_camera

#endif  // LATCHKEY_NET_CAMERA_NET_CAMERA_HPP
