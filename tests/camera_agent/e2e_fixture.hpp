// For the end-to-end tests of lk-camera-agent: a private Mosquitto broker on
// a free loopback port (anonymous, no persistence), the agent as a child
// process, and an MQTT client (libmosquitto) that records everything it sees.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

struct mosquitto;

namespace latchkey::camera_test {

using Clock = std::chrono::steady_clock;

// A child process; killed (SIGKILL) and reaped when destroyed if still running.
class ChildProcess {
 public:
  // Starts argv[0] with argv; its stderr goes to stderr_path, its stdout to a
  // pipe read by read_line().
  ChildProcess(const std::vector<std::string>& argv, const std::string& stderr_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The next line of its stdout, or "" after timeout or at its end.
  std::string read_line(std::chrono::milliseconds timeout);
  void signal(int sig);
  // The exit status (or 128 + signal), or -1 if it has not ended by timeout.
  int wait(std::chrono::milliseconds timeout);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffered_;
  int status_ = -1;
};

// /usr/sbin/mosquitto with a generated configuration: anonymous and plain,
// or (secure) the hub's setup from docs/camera-link.md: passwords for the
// camera and "hub", the camera-link ACL, TLS with a throwaway CA.
struct BrokerSecurity {
  bool secure = false;
  std::string camera_id;        // its user, with password camera_password
  std::string camera_password;
  std::string hub_password;     // for the user "hub"
};

class Broker {
 public:
  explicit Broker(const std::string& dir, const BrokerSecurity& security = {});  // on a free port
  ~Broker();
  uint16_t port() const { return port_; }
  std::string ca_file() const { return dir_ + "/ca.crt"; }
  bool running() const { return process_ != nullptr; }
  void stop();
  void start();

 private:
  std::string dir_;
  uint16_t port_ = 0;
  ChildProcess* process_ = nullptr;
};

bool have_mosquitto_broker();
// mosquitto_passwd and openssl, for a secure broker.
bool have_secure_broker_tools();

struct Message {
  std::string topic;
  std::string payload;
  bool retained = false;
  Clock::time_point received;
};

// Subscribes to latchkey/camera/<id>/# (again at every reconnect) and keeps
// every message.
struct ClientLogin {
  std::string user;      // empty: anonymous
  std::string password;
  std::string ca_file;   // not empty: TLS to localhost
};

class TestClient {
 public:
  TestClient(uint16_t port, const std::string& camera_id, const ClientLogin& login = {});
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  void publish(const std::string& leaf, const std::string& payload, int qos);
  // The index of the first message from index from on that matches, waiting
  // up to timeout; -1 if none.
  int wait_for(const std::function<bool(const Message&)>& match, std::size_t from, std::chrono::milliseconds timeout);
  Message at(std::size_t index);
  std::size_t size();
  std::string topic(const std::string& leaf) const { return "latchkey/camera/" + camera_id_ + "/" + leaf; }

 private:
  std::string camera_id_;
  mosquitto* client_ = nullptr;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Message> messages_;
};

uint16_t free_port();

}  // namespace latchkey::camera_test
