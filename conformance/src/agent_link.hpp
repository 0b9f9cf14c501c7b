// lk-certify's own end of the camera link (docs/camera-link.md), for the
// agent cases: an MQTT client logged in as the hub's user that subscribes to
// one camera's hello, state and attestation topics and records everything
// with the time it arrived, and publishes raw nonces and commands - malformed
// ones included, which the camera interface of the ABI cannot carry.
#ifndef LATCHKEY_CERTIFY_AGENT_LINK_HPP
#define LATCHKEY_CERTIFY_AGENT_LINK_HPP

#include "latchkey/attestation.pb.h"
#include "latchkey/camera_link.pb.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

struct mosquitto;
struct mosquitto_message;

namespace latchkey::certify {

// mqtt://HOST[:PORT]/CAMERA_ID or mqtts://HOST[:PORT]/CAMERA_ID ([IPv6] hosts).
struct AgentAddress {
  std::string uri;        // as given
  bool tls = false;
  std::string host;       // without brackets
  uint16_t port = 1883;
  std::string camera_id;
  std::string uri_host() const;  // brackets around IPv6
  // nullopt and *error when malformed.
  static std::optional<AgentAddress> parse(const std::string& uri, std::string* error);
};

struct LinkSettings {
  AgentAddress address;
  std::string user = "hub";
  std::string password;
  std::string tls_ca_file;  // mqtts: empty for the system's CAs
};

class AgentLink {
 public:
  using Clock = std::chrono::steady_clock;

  struct Hello {
    Clock::time_point at;
    bool retained = false;   // delivered from the broker's store at subscription, not live
    bool parsed = false;
    v1::CameraHello hello;
    std::size_t attestations_before = 0;  // attestations received before it
  };
  struct Attestation {
    Clock::time_point at;
    std::string bytes;       // exactly as published
    bool parsed = false;     // a SignedAttestation holding an Attestation
    v1::Attestation attestation;
  };
  struct State {
    Clock::time_point at;
    std::string text;
  };
  struct Nonce {
    Clock::time_point at;    // just before it was handed to the client
    std::string bytes;
  };

  // Starts connecting at once, in libmosquitto's own thread, and reconnects
  // by itself. Throws std::runtime_error when the client cannot be set up.
  explicit AgentLink(LinkSettings settings);
  ~AgentLink();
  AgentLink(const AgentLink&) = delete;
  AgentLink& operator=(const AgentLink&) = delete;

  // Waits until connected and subscribed; false with the reason in *error.
  bool wait_ready(std::chrono::milliseconds timeout, std::string* error);
  std::string describe_connection() const;

  // QoS 0, as the hub's nonces; recorded. Any bytes, any size.
  void publish_nonce(const std::string& bytes);
  // QoS 1, as the hub's commands. Any bytes, any size.
  void publish_command(const std::string& bytes);
  // Increasing, from the wall clock in microseconds (as the hub's).
  uint64_t next_command_id();

  std::vector<Hello> hellos(std::size_t from = 0) const;
  std::vector<Attestation> attestations(std::size_t from = 0) const;
  std::vector<State> states() const;
  std::vector<Nonce> nonces(std::size_t from = 0) const;
  std::size_t hello_count() const;
  std::size_t attestation_count() const;
  std::size_t nonce_count() const;

  // Waits until pred (called under the link's lock with the hellos and
  // attestations so far) holds; returns its last answer.
  bool wait_for(const std::function<bool(const std::vector<Hello>&, const std::vector<Attestation>&)>& pred,
                std::chrono::milliseconds timeout) const;

 private:
  void on_connect(int rc);
  void on_disconnect(int rc);
  void on_subscribe();
  void on_message(const mosquitto_message& m);

  LinkSettings settings_;
  std::string hello_topic_, state_topic_, attestation_topic_, nonce_topic_, command_topic_;
  mosquitto* client_ = nullptr;
  bool loop_started_ = false;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool subscribed_ = false;
  int subscriptions_pending_ = 0;
  std::string last_problem_;
  int connects_ = 0, disconnects_ = 0;
  std::vector<Hello> hellos_;
  std::vector<Attestation> attestations_;
  std::vector<State> states_;
  std::vector<Nonce> nonces_;
  uint64_t last_command_id_ = 0;
};

}  // namespace latchkey::certify

#endif  // LATCHKEY_CERTIFY_AGENT_LINK_HPP
