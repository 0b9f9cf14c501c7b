#include "agent_link.hpp"

#include <mosquitto.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <stdexcept>

namespace latchkey::certify {
namespace {

bool valid_camera_id(const std::string& id) {
  if (id.empty() || id.size() > 63) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

std::string client_id() {
  std::random_device random;
  return "lk-certify-" + std::to_string(::getpid()) + "-" + std::to_string(random() % 1000000);
}

}  // namespace

std::string AgentAddress::uri_host() const { return host.find(':') != std::string::npos ? "[" + host + "]" : host; }

std::optional<AgentAddress> AgentAddress::parse(const std::string& uri, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<AgentAddress> {
    if (error) *error = "--agent " + uri + ": " + why + " (expected mqtt[s]://HOST[:PORT]/CAMERA_ID)";
    return std::nullopt;
  };
  AgentAddress a;
  a.uri = uri;
  std::string rest;
  if (uri.rfind("mqtt://", 0) == 0) {
    rest = uri.substr(7);
  } else if (uri.rfind("mqtts://", 0) == 0) {
    rest = uri.substr(8);
    a.tls = true;
    a.port = 8883;
  } else {
    return fail("the scheme is not mqtt:// or mqtts://");
  }
  const auto slash = rest.find('/');
  if (slash == std::string::npos) return fail("no camera id");
  const std::string authority = rest.substr(0, slash);
  a.camera_id = rest.substr(slash + 1);
  if (!valid_camera_id(a.camera_id)) return fail("the camera id is not 1-63 of A-Z a-z 0-9 . _ -");
  if (a.camera_id == "hub") return fail("the camera id 'hub' is the hub's own broker user");
  std::string port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return fail("an unclosed [IPv6] host");
    a.host = authority.substr(1, close - 1);
    const std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("junk after the [IPv6] host");
      port = after.substr(1);
    }
  } else {
    const auto colon = authority.find(':');
    a.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (a.host.empty()) return fail("no host");
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return fail("the port is not a number");
    const unsigned long value = std::stoul(port);
    if (value == 0 || value > 65535) return fail("the port is outside 1-65535");
    a.port = static_cast<uint16_t>(value);
  }
  return a;
}

AgentLink::AgentLink(LinkSettings settings) : settings_(std::move(settings)) {
  static const int init = mosquitto_lib_init();
  (void)init;
  const std::string base = "latchkey/camera/" + settings_.address.camera_id + "/";
  hello_topic_ = base + "hello";
  state_topic_ = base + "state";
  attestation_topic_ = base + "attestation";
  nonce_topic_ = base + "nonce";
  command_topic_ = base + "command";
  client_ = mosquitto_new(client_id().c_str(), true, this);
  if (client_ == nullptr) throw std::runtime_error("mosquitto_new failed");
  auto check = [](int rc, const std::string& what) {
    if (rc != MOSQ_ERR_SUCCESS) throw std::runtime_error(what + ": " + mosquitto_strerror(rc));
  };
  if (!settings_.user.empty())
    check(mosquitto_username_pw_set(client_, settings_.user.c_str(),
                                    settings_.password.empty() ? nullptr : settings_.password.c_str()),
          "broker user");
  if (settings_.address.tls)
    check(mosquitto_tls_set(client_, settings_.tls_ca_file.empty() ? nullptr : settings_.tls_ca_file.c_str(),
                            settings_.tls_ca_file.empty() ? "/etc/ssl/certs" : nullptr, nullptr, nullptr, nullptr),
          "TLS (--tls-ca-file " + settings_.tls_ca_file + ")");
  mosquitto_reconnect_delay_set(client_, 1, 4, false);
  mosquitto_connect_callback_set(client_, [](mosquitto*, void* self, int rc) { static_cast<AgentLink*>(self)->on_connect(rc); });
  mosquitto_disconnect_callback_set(client_,
                                    [](mosquitto*, void* self, int rc) { static_cast<AgentLink*>(self)->on_disconnect(rc); });
  mosquitto_subscribe_callback_set(client_, [](mosquitto*, void* self, int, int, const int*) {
    static_cast<AgentLink*>(self)->on_subscribe();
  });
  mosquitto_message_callback_set(client_, [](mosquitto*, void* self, const mosquitto_message* m) {
    static_cast<AgentLink*>(self)->on_message(*m);
  });
  const int rc = mosquitto_connect_async(client_, settings_.address.host.c_str(), settings_.address.port, 5);
  if (rc != MOSQ_ERR_SUCCESS) {
    std::lock_guard lock(mutex_);
    last_problem_ = std::string("cannot connect: ") + mosquitto_strerror(rc);
  }
  // The loop retries a failed first connection too (mosquitto_loop_forever reconnects).
  check(mosquitto_loop_start(client_), "mosquitto_loop_start");
  loop_started_ = true;
}

AgentLink::~AgentLink() {
  if (client_ == nullptr) return;
  mosquitto_disconnect(client_);
  if (loop_started_) mosquitto_loop_stop(client_, true);
  mosquitto_destroy(client_);
}

void AgentLink::on_connect(int rc) {
  {
    std::lock_guard lock(mutex_);
    ++connects_;
    if (rc != 0) {
      last_problem_ = std::string("the broker refused user '") + settings_.user + "': " + mosquitto_connack_string(rc);
      changed_.notify_all();
      return;
    }
    subscribed_ = false;
    subscriptions_pending_ = 3;
  }
  // In this order, so the attestations are followed from before the hello arrives.
  mosquitto_subscribe(client_, nullptr, attestation_topic_.c_str(), 0);
  mosquitto_subscribe(client_, nullptr, state_topic_.c_str(), 1);
  mosquitto_subscribe(client_, nullptr, hello_topic_.c_str(), 1);
}

void AgentLink::on_disconnect(int rc) {
  std::lock_guard lock(mutex_);
  ++disconnects_;
  subscribed_ = false;
  if (rc != 0) last_problem_ = std::string("lost the connection: ") + mosquitto_strerror(rc);
  changed_.notify_all();
}

void AgentLink::on_subscribe() {
  std::lock_guard lock(mutex_);
  if (--subscriptions_pending_ <= 0) subscribed_ = true;
  changed_.notify_all();
}

void AgentLink::on_message(const mosquitto_message& m) {
  const auto at = Clock::now();
  const std::string payload(static_cast<const char*>(m.payload), static_cast<std::size_t>(std::max(m.payloadlen, 0)));
  std::lock_guard lock(mutex_);
  if (attestation_topic_ == m.topic) {
    Attestation a;
    a.at = at;
    a.bytes = payload;
    v1::SignedAttestation signed_attestation;
    a.parsed = signed_attestation.ParseFromString(payload) &&
               a.attestation.ParseFromString(signed_attestation.attestation());
    attestations_.push_back(std::move(a));
  } else if (hello_topic_ == m.topic) {
    if (payload.empty()) return;  // a cleared retained hello says nothing
    Hello h;
    h.at = at;
    h.retained = m.retain;
    h.parsed = h.hello.ParseFromString(payload);
    h.attestations_before = attestations_.size();
    hellos_.push_back(std::move(h));
  } else if (state_topic_ == m.topic) {
    states_.push_back({at, payload});
  } else {
    return;
  }
  changed_.notify_all();
}

bool AgentLink::wait_ready(std::chrono::milliseconds timeout, std::string* error) {
  std::unique_lock lock(mutex_);
  if (changed_.wait_for(lock, timeout, [this] { return subscribed_; })) return true;
  if (error)
    *error = "no connection to the broker at " + settings_.address.uri_host() + ":" +
             std::to_string(settings_.address.port) + " as user '" + settings_.user + "'" +
             (last_problem_.empty() ? "" : " (" + last_problem_ + ")");
  return false;
}

std::string AgentLink::describe_connection() const {
  std::lock_guard lock(mutex_);
  return std::string(subscribed_ ? "connected" : "not connected") + ", " + std::to_string(connects_) +
         " connection(s), " + std::to_string(disconnects_) + " loss(es)" +
         (last_problem_.empty() ? "" : ", last problem: " + last_problem_);
}

void AgentLink::publish_nonce(const std::string& bytes) {
  {
    std::lock_guard lock(mutex_);
    nonces_.push_back({Clock::now(), bytes});
  }
  mosquitto_publish(client_, nullptr, nonce_topic_.c_str(), static_cast<int>(bytes.size()),
                    bytes.empty() ? nullptr : bytes.data(), 0, false);
}

void AgentLink::publish_command(const std::string& bytes) {
  mosquitto_publish(client_, nullptr, command_topic_.c_str(), static_cast<int>(bytes.size()),
                    bytes.empty() ? nullptr : bytes.data(), 1, false);
}

uint64_t AgentLink::next_command_id() {
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  std::lock_guard lock(mutex_);
  last_command_id_ = std::max<uint64_t>(last_command_id_ + 1, static_cast<uint64_t>(now));
  return last_command_id_;
}

std::vector<AgentLink::Hello> AgentLink::hellos(std::size_t from) const {
  std::lock_guard lock(mutex_);
  if (from >= hellos_.size()) return {};
  return {hellos_.begin() + static_cast<std::ptrdiff_t>(from), hellos_.end()};
}

std::vector<AgentLink::Attestation> AgentLink::attestations(std::size_t from) const {
  std::lock_guard lock(mutex_);
  if (from >= attestations_.size()) return {};
  return {attestations_.begin() + static_cast<std::ptrdiff_t>(from), attestations_.end()};
}

std::vector<AgentLink::State> AgentLink::states() const {
  std::lock_guard lock(mutex_);
  return states_;
}

std::vector<AgentLink::Nonce> AgentLink::nonces(std::size_t from) const {
  std::lock_guard lock(mutex_);
  if (from >= nonces_.size()) return {};
  return {nonces_.begin() + static_cast<std::ptrdiff_t>(from), nonces_.end()};
}

std::size_t AgentLink::hello_count() const {
  std::lock_guard lock(mutex_);
  return hellos_.size();
}

std::size_t AgentLink::attestation_count() const {
  std::lock_guard lock(mutex_);
  return attestations_.size();
}

std::size_t AgentLink::nonce_count() const {
  std::lock_guard lock(mutex_);
  return nonces_.size();
}

bool AgentLink::wait_for(const std::function<bool(const std::vector<Hello>&, const std::vector<Attestation>&)>& pred,
                         std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return pred(hellos_, attestations_); });
}

}  // namespace latchkey::certify
