// A real Mosquitto broker (Debian's /usr/sbin/mosquitto) for tests and the
// demo, configured as a Latchkey hub's broker (docs/broker.md): no anonymous
// clients, one password per user (the hub and each camera), the shipped ACL
// (tools/broker/latchkey.acl), the guard plugin that reports refused
// messages (hal_reference/broker_guard), a packet size limit, no persistence
// unless asked for, and
// optionally a TLS listener with a throwaway CA.
//
// Everything lives in a private temporary folder that the destructor removes
// (set LATCHKEY_KEEP_BROKER_DIR=1 to keep it). The constructor returns once
// the broker accepts connections; it throws BrokerError, with the broker's
// log, when it does not within the start timeout. The broker receives
// SIGTERM if the thread that started it exits (PR_SET_PDEATHSIG), so a
// crashed test leaves no broker behind.
#ifndef LATCHKEY_DEMO_MOSQUITTO_BROKER_HPP
#define LATCHKEY_DEMO_MOSQUITTO_BROKER_HPP

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace latchkey::testing {

class BrokerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct BrokerOptions {
  std::string address = "127.0.0.1";  // an IPv4 or IPv6 address to listen on (e.g. one in a network namespace)
  uint16_t port = 0;                  // 0: a free port
  std::vector<std::string> cameras;   // camera ids, each a user with its own password
  std::vector<std::string> extra_users;  // users the ACL says nothing about
  bool tls = false;                   // also a TLS listener, with a throwaway CA
  uint16_t tls_port = 0;              // 0: a free port
  uint32_t max_packet_size = 8192;    // bytes of an MQTT packet (larger ones: sender disconnected); 0: no limit
  bool guard = true;                  // load latchkey_broker_guard (refused messages reported to the hub)
  std::filesystem::path acl_file;     // empty: the shipped tools/broker/latchkey.acl
  // Keep persistent sessions (clean_session = false) and their queued
  // messages across stop()/start() (mosquitto.db in the folder).
  bool persistence = false;
  std::string extra_config;           // appended to mosquitto.conf as it is (e.g. include_dir, a bridge)
  std::chrono::milliseconds start_timeout{10000};
};

class MosquittoBroker {
 public:
  static constexpr const char* kHubUser = "hub";

  explicit MosquittoBroker(BrokerOptions options = {});
  ~MosquittoBroker();
  MosquittoBroker(const MosquittoBroker&) = delete;
  MosquittoBroker& operator=(const MosquittoBroker&) = delete;

  // Stops the broker: SIGTERM, then SIGKILL after 3 s. Idempotent.
  void stop();
  // Kills it at once (SIGKILL), as a crash would.
  void kill();
  // Starts it again with the same ports, users and files.
  void start();
  bool running() const noexcept { return pid_ > 0; }
  pid_t pid() const noexcept { return pid_; }  // -1 when not running

  const std::string& address() const noexcept { return options_.address; }
  // The address as a URI host: IPv6 in brackets.
  std::string uri_host() const;
  uint16_t port() const noexcept { return options_.port; }
  uint16_t tls_port() const noexcept { return options_.tls_port; }

  const std::filesystem::path& dir() const noexcept { return dir_; }
  // A file (mode 0600) holding the user's password, for clients' password_file.
  std::filesystem::path password_file(const std::string& user) const;
  std::string password(const std::string& user) const;
  // The throwaway CA that signed the TLS listener's certificate (tls only).
  std::filesystem::path ca_file() const;
  std::filesystem::path config_file() const { return dir_ / "mosquitto.conf"; }
  // What the broker has logged so far.
  std::string log() const;

 private:
  void write_files();
  void make_tls_files();
  void wait_until_ready();

  BrokerOptions options_;
  std::filesystem::path dir_;
  std::map<std::string, std::string> passwords_;
  pid_t pid_ = -1;
};

}  // namespace latchkey::testing

#endif  // LATCHKEY_DEMO_MOSQUITTO_BROKER_HPP
