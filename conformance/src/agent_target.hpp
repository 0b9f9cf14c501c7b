// The camera agent under test in an `lk-certify --agent` run: where it is
// (its camera id on the hub's broker), lk-certify's own link to it, the
// lab's command that starts it (when given), and the hello it announced at
// the start, whose key is the one every case holds it to (as `lkctl enrol`
// pins it).
#ifndef LATCHKEY_CERTIFY_AGENT_TARGET_HPP
#define LATCHKEY_CERTIFY_AGENT_TARGET_HPP

#include "agent_link.hpp"
#include "agent_process.hpp"

#include <latchkey/crypto/crypto.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace latchkey::certify {

struct AgentOptions {
  AgentAddress address;
  std::string user = "hub";
  std::filesystem::path password_file;
  std::filesystem::path tls_ca_file;
  std::string command;              // empty: the lab runs the agent itself
  std::string frozen_args;          // appended to command to start it on a frozen source (TC-CAM-9.3)
  std::string covered_args;         // appended to command to start it on a covered view (TC-CAM-10.2)
  std::filesystem::path record_dir; // where the agent's recordings can be read (TC-CAM-7.1)
  uint32_t window_s = 10;           // TC-CAM-6.x observe this long
  uint32_t nonce_period_ms = 250;   // as the hub's (docs/rules.md C2: 250, bounds 50-1000)
  uint32_t tolerance_ms = 100;      // TC-CAM-6.1: allowed beyond the declared period
  std::filesystem::path log_file;   // the agent's stdout and stderr, with a command
};

struct AgentTarget {
  AgentOptions options;
  std::unique_ptr<AgentLink> link;
  std::unique_ptr<AgentProcess> process;  // set with options.command
  std::optional<v1::CameraHello> enrolled;  // the first hello of the run
  std::size_t enrolled_index = 0;            // its index in link->hellos()
  std::string setup_error;                   // why the agent was not reached at the start

  // Connects the link, starts the agent when there is a command, and waits
  // for its hello and first attestation. Empty, or why it failed (also kept
  // in setup_error).
  std::string start();
  // Stops the agent and starts options.command again (with extra arguments
  // appended); waits for the hello the new run publishes and its first
  // attestation. Empty, or why not.
  std::string restart(const std::string& extra_args = "");
  bool can_restart() const { return !options.command.empty(); }
  // Waits until an attestation carries the boot id of the newest hello from
  // index hellos_from on. Empty, or why not.
  std::string wait_attesting(std::size_t hellos_from);

  // The relay plugin's device URI for this camera (plugins/net_camera).
  std::string relay_uri() const;
  crypto::PublicKey key() const;       // the enrolled hello's key (zeros without one)
  uint32_t period_ms() const;          // the enrolled hello's attestation_period_ms
  // " (the agent's process ended: ...; its output: LOG)" when lk-certify runs
  // it and it is no longer running; else "".
  std::string process_note();

  static constexpr std::chrono::seconds kHelloTimeout{30};
};

// Publishes a fresh random nonce (16 to 32 bytes) every period on its own
// thread, as the hub does, until destroyed.
class NoncePump {
 public:
  NoncePump(AgentLink& link, std::chrono::milliseconds period);
  ~NoncePump();
  NoncePump(const NoncePump&) = delete;
  NoncePump& operator=(const NoncePump&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace latchkey::certify

#endif  // LATCHKEY_CERTIFY_AGENT_TARGET_HPP
