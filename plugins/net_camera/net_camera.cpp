#include "net_camera.hpp"

#include <latchkey/mqtt/password_file.hpp>

#include <latchkey/camera_link.pb.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

namespace latchkey::net_camera {
namespace {

using plugin::Error;

constexpr std::chrono::milliseconds kWatchdogTick{25};
constexpr std::size_t kMaxCommandBytes = 64;
constexpr int kCommandQos = 1;
constexpr int kNonceQos = 0;

uint64_t now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

// Command ids increase across hub runs too: they start at the wall clock in
// microseconds, so a restarted hub's commands are not taken for duplicates.
uint64_t first_command_id() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

// Unique per open, so two hubs (or two opens) never take over each other's session.
std::string client_id(const std::string& camera_id) {
  std::random_device random;
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string suffix;
  for (int i = 0; i < 8; ++i) suffix.push_back(kDigits[random() & 0xF]);
  return "lk-hub-" + camera_id.substr(0, 40) + "-" + std::to_string(::getpid()) + "-" + suffix;
}


}  // namespace

std::unique_ptr<NetCamera> NetCamera::open(std::string_view uri, plugin::EventSink sink) {
  NetCameraUri parsed = NetCameraUri::parse(uri);
  std::string password = mqtt::read_password_file(parsed.password_file, "net_camera");
  auto camera = std::make_unique<NetCamera>(std::move(parsed), std::move(password), sink);
  camera->await_hello();
  camera->announce();
  return camera;
}

NetCamera::NetCamera(NetCameraUri uri, std::string password, plugin::EventSink sink)
    : uri_(std::move(uri)),
      sink_(sink),
      prefix_("latchkey/camera/" + uri_.camera_id + "/"),
      hello_(uri_.camera_id, uri_.key),
      next_command_id_(first_command_id()),
      last_attestation_ns_(now_ns()) {
  silence_limit_ms_ = kSilentPeriods * period_ms_locked();
  mqtt::LinkConfig config;
  config.log_prefix = "net_camera";
  config.host = uri_.host;
  config.port = uri_.port;
  config.tls = uri_.tls;
  config.tls_ca_file = uri_.tls_ca_file;
  config.user = uri_.user;
  config.password = std::move(password);
  config.client_id = client_id(uri_.camera_id);
  // The broker handles SUBSCRIBEs in order, so with the hello last, every
  // subscription is in place once the retained hello arrives (and open returns).
  config.subscriptions = {{report_topic(), 1}, {topic("reference"), 1}, {topic("attestation"), 0}, {topic("state"), 1},
                          {topic("hello"), 1}};
  mqtt::LinkCallbacks callbacks;
  callbacks.error_log = [](const std::string& line) { plugin::log(LK_LOG_ERROR, line); };
  callbacks.connected = [this] { on_connected(); };
  callbacks.lost = [this](const std::string& why) { on_lost(why); };
  callbacks.refused = [this](int code, const std::string& why) { on_refused(code, why); };
  callbacks.message = [this](std::string_view t, const uint8_t* d, std::size_t n) { on_message(t, d, n); };
  watchdog_ = std::make_unique<Ticker>(kWatchdogTick, [this] { check_silence(); });
  try {
    link_ = std::make_unique<mqtt::MqttLink>(std::move(config), std::move(callbacks));
  } catch (const mqtt::LinkError& e) {
    throw plugin::Error(LK_ERR_INVALID_ARGUMENT, e.what());
  }
}

NetCamera::~NetCamera() {
  link_.reset();      // no message, loss or refusal after this
  watchdog_.reset();  // no silence check after this
}

void NetCamera::announce() {
  std::lock_guard<std::mutex> lock(status_mutex_);
  opened_ = true;
  // What happened while opening: an offline link is reported now; ONLINE
  // still waits for the next attestation.
  if (status_ == Status::kOffline)
    sink_.emit(LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_OFFLINE, 0, now_ns());
}

void NetCamera::await_hello() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, std::chrono::milliseconds(uri_.hello_timeout_ms),
                    [this] { return hello_.heard() || !refused_.empty(); });
  const std::string broker = uri_.host + ":" + std::to_string(uri_.port);
  if (!refused_.empty())
    throw Error(LK_ERR_IO, "broker " + broker + " refused user '" + uri_.user + "': " + refused_ +
                               " (check the user and its password_file)");
  if (hello_.heard()) return;
  const std::string waited = "no hello from camera " + uri_.camera_id + " on " + topic("hello") + " within " +
                             std::to_string(uri_.hello_timeout_ms) + " ms";
  const std::string why = link_->connected()
                              ? "connected to " + broker + "; has the camera's agent ever connected?"
                              : "not connected to " + broker + (last_problem_.empty() ? "" : ": " + last_problem_);
  if (!hello_.key()) throw Error(LK_ERR_TIMEOUT, waited + " (" + why + ")");
  lock.unlock();
  log(LK_LOG_WARNING, waited + " (" + why + "); the key pinned in the URI stands until one arrives");
}

void NetCamera::describe(lk_camera_description& description) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!hello_.key()) throw Error(LK_ERR_STATE, "no public key known for camera " + uri_.camera_id);
  // The snapshot is the reference view (C8) its agent publishes, not a live frame.
  description.flags = LK_CAMERA_CAP_RECORDING | LK_CAMERA_CAP_SNAPSHOT;
  plugin::copy_text(description.camera_id, uri_.camera_id);
  std::memcpy(description.public_key, hello_.key()->data(), sizeof description.public_key);
  description.attestation_period_ms = period_ms_locked();
  description.max_snapshot_bytes = static_cast<uint32_t>(kReferencePpmBytes);
}

std::vector<uint8_t> NetCamera::snapshot(lk_snapshot_info& info) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!reference_)
    throw Error(LK_ERR_NOT_FOUND, "camera " + uri_.camera_id + " has published no reference view on " + topic("reference"));
  info.format = LK_SNAPSHOT_FORMAT_PPM;
  info.width = kReferenceWidth * kReferenceScale;
  info.height = kReferenceHeight * kReferenceScale;
  info.device_time_ns = now_ns();
  return reference_ppm(*reference_);
}

void NetCamera::deliver_nonce(const uint8_t* nonce, std::size_t size) {
  std::string error;
  if (!link_->publish(topic("nonce"), nonce, size, kNonceQos, &error))
    throw Error(LK_ERR_IO, "camera " + uri_.camera_id + ": nonce not sent: " + error);
}

void NetCamera::start_recording(const uint8_t (&session_id)[LK_SESSION_ID_SIZE]) {
  std::lock_guard<std::mutex> lock(mutex_);
  v1::CameraCommand command;
  command.set_command_id(next_command_id_);
  command.mutable_start_recording()->set_session_id(session_id, LK_SESSION_ID_SIZE);
  publish_command(command.SerializeAsString());
  recording_ = true;
}

void NetCamera::stop_recording() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!recording_) throw Error(LK_ERR_STATE, "camera " + uri_.camera_id + " is not recording");
  v1::CameraCommand command;
  command.set_command_id(next_command_id_);
  command.mutable_stop_recording();
  publish_command(command.SerializeAsString());
  recording_ = false;
}

void NetCamera::publish_command(const std::string& serialized) {
  if (serialized.size() > kMaxCommandBytes)
    throw Error(LK_ERR_INTERNAL, "command of " + std::to_string(serialized.size()) + " bytes exceeds the link's limit");
  std::string error;
  if (!link_->publish(topic("command"), reinterpret_cast<const uint8_t*>(serialized.data()), serialized.size(),
                      kCommandQos, &error))
    throw Error(LK_ERR_IO, "camera " + uri_.camera_id + ": command not sent: " + error);
  ++next_command_id_;  // used only once sent, so the ids the camera sees increase without gaps
}

void NetCamera::on_connected() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (link_down_logged_) log(LK_LOG_INFO, "connected to the broker again");
    link_down_logged_ = false;
    last_problem_.clear();
  }
  // ONLINE comes with the next attestation, not with the connection.
}

void NetCamera::on_lost(const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (last_problem_.rfind("the broker refused", 0) != 0) last_problem_ = why;  // a refusal says more
    if (!link_down_logged_)
      log(LK_LOG_WARNING, "broker " + uri_.host + ":" + std::to_string(uri_.port) + " not reachable: " + why +
                              " (reconnecting)");
    link_down_logged_ = true;
  }
  std::lock_guard<std::mutex> lock(status_mutex_);
  set_status_locked(Status::kOffline, "the connection to the broker is down");
}

void NetCamera::on_refused(int code, const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (mqtt::credentials_refused(code)) refused_ = why;
    const std::string problem = "the broker refused user '" + uri_.user + "': " + why;
    if (problem != last_problem_) log(LK_LOG_ERROR, problem);
    last_problem_ = problem;
  }
  changed_.notify_all();
}

void NetCamera::on_message(std::string_view t, const uint8_t* data, std::size_t size) {
  if (t == report_topic()) {
    on_broker_report(data, size);
    return;
  }
  if (t.size() <= prefix_.size() || t.substr(0, prefix_.size()) != prefix_) return;
  const std::string_view leaf = t.substr(prefix_.size());
  if (leaf == "attestation") {
    on_attestation(data, size);
  } else if (leaf == "hello") {
    on_hello(data, size);
  } else if (leaf == "state") {
    on_state(data, size);
  } else if (leaf == "reference") {
    on_reference(data, size);
  }
}

void NetCamera::on_hello(const uint8_t* data, std::size_t size) {
  HelloPin::Outcome outcome{HelloPin::Verdict::kRefused, ""};
  {
    std::lock_guard<std::mutex> lock(mutex_);
    outcome = hello_.offer(data, size);
    silence_limit_ms_ = kSilentPeriods * period_ms_locked();
    const uint32_t announced = hello_.announced_period_ms();
    if (uri_.period_ms && announced > *uri_.period_ms && !period_warned_) {
      period_warned_ = true;
      log(LK_LOG_WARNING, "the camera announces one attestation every " + std::to_string(announced) +
                              " ms, slower than the " + std::to_string(*uri_.period_ms) +
                              " ms the URI expects; it will be reported offline between them");
    }
  }
  changed_.notify_all();
  switch (outcome.verdict) {
    case HelloPin::Verdict::kAdopted: log(LK_LOG_INFO, outcome.message); break;
    case HelloPin::Verdict::kConfirmed: log(LK_LOG_DEBUG, outcome.message); break;
    case HelloPin::Verdict::kCleared: log(LK_LOG_INFO, outcome.message); break;
    case HelloPin::Verdict::kRefused: refuse({outcome.refusal, 1, outcome.message}); break;
  }
}

void NetCamera::on_state(const uint8_t* data, std::size_t size) {
  const std::string_view state(reinterpret_cast<const char*>(data), size);
  if (state == "offline") {
    std::lock_guard<std::mutex> lock(status_mutex_);
    set_status_locked(Status::kOffline, "its agent is gone (state 'offline', its last will)");
  } else if (state == "online") {
    log(LK_LOG_DEBUG, "its agent says 'online' (ONLINE follows its attestations)");
  } else {
    refuse({LK_CAMERA_REFUSED_MALFORMED, 1,
            "state message of " + std::to_string(size) + " bytes refused (only 'online' or 'offline')"});
  }
}

void NetCamera::on_attestation(const uint8_t* data, std::size_t size) {
  if (size == 0 || size > kMaxAttestationBytes) {
    refuse({size == 0 ? LK_CAMERA_REFUSED_MALFORMED : LK_CAMERA_REFUSED_OVERSIZED, 1,
            "attestation of " + std::to_string(size) + " bytes dropped (1 to " + std::to_string(kMaxAttestationBytes) +
                " allowed)"});
    return;
  }
  const uint64_t now = now_ns();
  {
    std::lock_guard<std::mutex> lock(status_mutex_);
    if (!opened_) return;  // before any nonce was sent: worthless, and the host knows no device yet
    last_attestation_ns_ = now;
    set_status_locked(Status::kOnline, "attestations arrive");
  }
  // Unchanged: the hub verifies them (C1-C5, C7); a malformed one is its to reject.
  sink_.emit_lent(LK_EVENT_ATTESTATION, std::vector<uint8_t>(data, data + size), now);
}

void NetCamera::on_reference(const uint8_t* data, std::size_t size) {
  if (size == 0) return;  // a cleared retained message: the one held stays
  std::string error;
  const std::optional<ReferenceCells> cells = parse_reference(data, size, &error);
  if (!cells) {
    refuse({size > 1024 ? LK_CAMERA_REFUSED_OVERSIZED : LK_CAMERA_REFUSED_MALFORMED, 1, error + " refused"});
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (!reference_) log(LK_LOG_INFO, "the camera's reference view (C8) arrived: its snapshot shows it");
  reference_ = cells;
}

void NetCamera::on_broker_report(const uint8_t* data, std::size_t size) {
  std::string error;
  std::optional<Refusal> refusal = parse_broker_report(data, size, &error);
  if (!refusal) {
    report_log_.log(LK_LOG_ERROR, "net_camera " + uri_.camera_id + ": a report on " + report_topic() +
                                      " ignored: " + error + " (is the broker's guard plugin the same version?)");
    return;
  }
  refusal->reason = "the broker refused: " + refusal->reason;
  refuse(std::move(*refusal));
}

void NetCamera::refuse(Refusal refusal) {
  std::optional<Refusal> now = refusals_.admit(std::move(refusal));
  if (now) report_refusal(*now);
}

void NetCamera::report_refusal(const Refusal& refusal) {
  const std::string text = refusal_text(refusal);
  log(LK_LOG_WARNING, "refused: " + text);
  std::lock_guard<std::mutex> lock(status_mutex_);
  if (!opened_) return;  // the host knows no device yet; the log has it
  sink_.emit_borrowed(LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_MESSAGE_REFUSED, refusal.kind,
                      reinterpret_cast<const uint8_t*>(text.data()), text.size(), now_ns());
}

void NetCamera::check_silence() {
  for (const Refusal& held : refusals_.due()) report_refusal(held);
  const uint64_t limit_ns = static_cast<uint64_t>(silence_limit_ms_.load()) * 1'000'000;
  std::lock_guard<std::mutex> lock(status_mutex_);
  if (status_ == Status::kOffline) return;
  const uint64_t now = now_ns();
  if (now - last_attestation_ns_ <= limit_ns) return;
  set_status_locked(Status::kOffline, "no attestation for " + std::to_string((now - last_attestation_ns_) / 1'000'000) +
                                          " ms (" + std::to_string(kSilentPeriods) + " periods)");
}

void NetCamera::set_status_locked(Status status, const std::string& why) {
  if (status == status_) return;
  status_ = status;
  const bool online = status == Status::kOnline;
  log(online ? LK_LOG_INFO : LK_LOG_WARNING, std::string(online ? "online: " : "offline: ") + why);
  if (!opened_) return;  // announce() reports it once the device exists
  sink_.emit(LK_EVENT_CAMERA_STATUS, online ? LK_CAMERA_STATUS_ONLINE : LK_CAMERA_STATUS_OFFLINE, 0, now_ns());
}

uint32_t NetCamera::period_ms_locked() const {
  if (uri_.period_ms) return *uri_.period_ms;
  const uint32_t announced = hello_.announced_period_ms();
  if (announced >= 10 && announced <= 10000) return announced;
  return kDefaultPeriodMs;
}

void NetCamera::log(lk_log_level level, const std::string& message) const {
  plugin::log(level, "net_camera " + uri_.camera_id + ": " + message);
}

}  // namespace latchkey::net_camera
