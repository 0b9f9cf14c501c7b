#include "agent_target.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>

namespace latchkey::certify {
namespace {

using Clock = std::chrono::steady_clock;

std::string read_password(const std::filesystem::path& file, std::string* error) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line)) {
    *error = "cannot read the password file " + file.string();
    return "";
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) *error = "the password file " + file.string() + " has an empty first line";
  return line;
}

}  // namespace

std::string AgentTarget::start() {
  std::string error;
  const std::string password = read_password(options.password_file, &error);
  if (!error.empty()) return setup_error = error;
  LinkSettings settings;
  settings.address = options.address;
  settings.user = options.user;
  settings.password = password;
  settings.tls_ca_file = options.tls_ca_file.string();
  try {
    link = std::make_unique<AgentLink>(settings);
  } catch (const std::exception& e) {
    return setup_error = std::string("cannot set up the MQTT client: ") + e.what();
  }
  if (!link->wait_ready(std::chrono::seconds(10), &error)) return setup_error = error;
  if (!options.command.empty()) {
    process = std::make_unique<AgentProcess>(options.log_file);
    if (const std::string e = restart(); !e.empty()) return setup_error = e;
  } else if (!link->wait_for([](const auto& hellos, const auto&) {
               return std::any_of(hellos.begin(), hellos.end(), [](const auto& h) { return h.parsed; });
             }, kHelloTimeout)) {
    return setup_error = "no hello from camera '" + options.address.camera_id + "' on the broker within " +
                         std::to_string(kHelloTimeout.count()) + " s: is its agent running and connected as user '" +
                         options.address.camera_id + "'?";
  } else if (const std::string e = wait_attesting(0); !e.empty()) {
    return setup_error = e;
  }
  // The newest hello; when lk-certify started the agent, the one its run published (not a stored one).
  const auto hellos = link->hellos();
  for (std::size_t i = 0; i < hellos.size(); ++i)
    if (hellos[i].parsed && (options.command.empty() || !hellos[i].retained)) {
      enrolled = hellos[i].hello;
      enrolled_index = i;
    }
  return "";
}

std::string AgentTarget::restart(const std::string& extra_args) {
  if (!process) return "no --agent-command: lk-certify cannot restart the agent";
  const std::size_t hellos_before = link->hello_count();
  process->stop();
  const std::string command = options.command + (extra_args.empty() ? "" : " " + extra_args);
  std::string error;
  if (!process->start(command, &error)) return error;
  // The new run's hello arrives live (not from the broker's store).
  const bool fresh = link->wait_for([&](const auto& hellos, const auto&) {
    for (std::size_t i = hellos_before; i < hellos.size(); ++i)
      if (!hellos[i].retained && hellos[i].parsed) return true;
    return false;
  }, kHelloTimeout);
  if (!fresh)
    return "the agent started with `" + command + "` published no hello within " +
           std::to_string(kHelloTimeout.count()) + " s" + process_note();
  return wait_attesting(hellos_before);
}

std::string AgentTarget::wait_attesting(std::size_t hellos_from) {
  // Up once it attests under the boot id its newest hello announced (an
  // agent may take a moment after connecting, e.g. to take its reference view).
  const bool attesting = link->wait_for([&](const auto& hellos, const auto& attestations) {
    for (std::size_t i = hellos.size(); i-- > hellos_from;) {
      if (!hellos[i].parsed) continue;
      for (std::size_t k = hellos[i].attestations_before; k < attestations.size(); ++k)
        if (attestations[k].parsed && attestations[k].attestation.boot_id() == hellos[i].hello.boot_id()) return true;
      return false;
    }
    return false;
  }, kHelloTimeout);
  if (!attesting)
    return "camera '" + options.address.camera_id + "' announced itself but sent no attestation under the boot id of its hello within " +
           std::to_string(kHelloTimeout.count()) + " s" + process_note();
  return "";
}

std::string AgentTarget::relay_uri() const {
  const AgentAddress& a = options.address;
  std::string uri = std::string(a.tls ? "mqtts://" : "mqtt://") + a.uri_host() + ":" + std::to_string(a.port) + "/" +
                    a.camera_id + "?password_file=" + std::filesystem::absolute(options.password_file).string();
  if (options.user != "hub") uri += "&user=" + options.user;
  if (a.tls && !options.tls_ca_file.empty())
    uri += "&tls_ca_file=" + std::filesystem::absolute(options.tls_ca_file).string();
  return uri;
}

crypto::PublicKey AgentTarget::key() const {
  crypto::PublicKey key{};
  if (enrolled && enrolled->public_key().size() == key.size())
    std::memcpy(key.data(), enrolled->public_key().data(), key.size());
  return key;
}

uint32_t AgentTarget::period_ms() const { return enrolled ? enrolled->attestation_period_ms() : 0; }

std::string AgentTarget::process_note() {
  if (!process) return "";
  const auto how = process->ended_how();
  if (!how) return "";
  return " (the agent's process ended: " + *how + "; its output: " + process->log_file().string() + ")";
}

NoncePump::NoncePump(AgentLink& link, std::chrono::milliseconds period)
    : thread_([this, &link, period] {
        std::size_t n = 0;
        auto next = Clock::now();
        while (!stop_.load()) {
          const crypto::Bytes nonce = crypto::random_bytes(16 + (n++ % 17));
          link.publish_nonce(std::string(nonce.begin(), nonce.end()));
          next += period;
          while (!stop_.load() && Clock::now() < next) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      }) {}

NoncePump::~NoncePump() {
  stop_ = true;
  thread_.join();
}

}  // namespace latchkey::certify
