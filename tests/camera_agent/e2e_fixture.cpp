#include "e2e_fixture.hpp"

#include <mosquitto.h>

#include <arpa/inet.h>
#include <csignal>
#include <fcntl.h>
#include <cstdlib>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace latchkey::camera_test {

namespace {
constexpr char kMosquitto[] = "/usr/sbin/mosquitto";

bool port_answers(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}
}  // namespace

uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0)
    throw std::runtime_error("no free port");
  ::close(fd);
  return ntohs(address.sin_port);
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& stderr_path) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int r = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  stdout_fd_ = out[0];
  if (r != 0) throw std::runtime_error("cannot start " + argv[0]);
}

ChildProcess::~ChildProcess() {
  if (wait(std::chrono::milliseconds(0)) < 0) {
    ::kill(pid_, SIGKILL);
    wait(std::chrono::milliseconds(5000));
  }
  ::close(stdout_fd_);
}

std::string ChildProcess::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (const auto nl = buffered_.find('\n'); nl != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return "";
    pollfd p{stdout_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char chunk[256];
    const ssize_t n = ::read(stdout_fd_, chunk, sizeof chunk);
    if (n <= 0) return "";
    buffered_.append(chunk, static_cast<std::size_t>(n));
  }
}

void ChildProcess::signal(int sig) {
  if (status_ < 0) ::kill(pid_, sig);
}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (status_ < 0) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status_;
}

bool have_mosquitto_broker() { return ::access(kMosquitto, X_OK) == 0; }

bool have_secure_broker_tools() {
  return std::system("command -v mosquitto_passwd > /dev/null && command -v openssl > /dev/null") == 0;
}

namespace {

bool shell(const std::string& command) { return std::system(command.c_str()) == 0; }

// A CA and a certificate for localhost / 127.0.0.1 signed by it.
void make_certificates(const std::string& dir) {
  const std::string q = "'" + dir + "/";
  if (!shell("cd " + q + "' && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 "
             "-subj /CN=lk-test-ca > /dev/null 2>&1 && openssl req -newkey rsa:2048 -nodes -keyout server.key "
             "-out server.csr -subj /CN=localhost > /dev/null 2>&1 && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "
             "server.ext && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt "
             "-days 2 -extfile server.ext > /dev/null 2>&1"))
    throw std::runtime_error("openssl could not make the test certificates");
}

}  // namespace

Broker::Broker(const std::string& dir, const BrokerSecurity& security) : dir_(dir), port_(free_port()) {
  std::ofstream conf(dir_ + "/mosquitto.conf");
  conf << "listener " << port_ << " 127.0.0.1\n"
       << "persistence false\n"
       << "message_size_limit 1024\n";
  if (::geteuid() == 0) conf << "user root\n";  // else it drops to mosquitto, who cannot read dir
  if (!security.secure) {
    conf << "allow_anonymous true\n";
  } else {
    make_certificates(dir_);
    const std::string passwd = dir_ + "/passwd";
    if (!shell("mosquitto_passwd -c -b '" + passwd + "' '" + security.camera_id + "' '" + security.camera_password +
               "' && mosquitto_passwd -b '" + passwd + "' hub '" + security.hub_password + "'"))
      throw std::runtime_error("mosquitto_passwd failed");
    // The ACL of docs/camera-link.md, as it is.
    std::ofstream(dir_ + "/acl") << "user hub\n"
                                    "topic read latchkey/camera/+/hello\n"
                                    "topic read latchkey/camera/+/state\n"
                                    "topic read latchkey/camera/+/attestation\n"
                                    "topic write latchkey/camera/+/nonce\n"
                                    "topic write latchkey/camera/+/command\n"
                                    "\n"
                                    "pattern write latchkey/camera/%u/hello\n"
                                    "pattern write latchkey/camera/%u/state\n"
                                    "pattern write latchkey/camera/%u/attestation\n"
                                    "pattern read latchkey/camera/%u/nonce\n"
                                    "pattern read latchkey/camera/%u/command\n";
    conf << "allow_anonymous false\n"
         << "password_file " << passwd << "\n"
         << "acl_file " << dir_ << "/acl\n"
         << "cafile " << dir_ << "/ca.crt\n"
         << "certfile " << dir_ << "/server.crt\n"
         << "keyfile " << dir_ << "/server.key\n";
  }
  conf.close();
  start();
}

Broker::~Broker() { stop(); }

void Broker::start() {
  if (process_ != nullptr) return;
  process_ = new ChildProcess({kMosquitto, "-c", dir_ + "/mosquitto.conf"}, dir_ + "/mosquitto.log");
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (!port_answers(port_)) {
    if (Clock::now() > deadline) throw std::runtime_error("mosquitto did not start; see " + dir_ + "/mosquitto.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void Broker::stop() {
  if (process_ == nullptr) return;
  process_->signal(SIGTERM);
  process_->wait(std::chrono::milliseconds(5000));
  delete process_;
  process_ = nullptr;
}

TestClient::TestClient(uint16_t port, const std::string& camera_id, const ClientLogin& login) : camera_id_(camera_id) {
  mosquitto_lib_init();
  client_ = mosquitto_new(nullptr, true, this);
  if (!login.user.empty()) mosquitto_username_pw_set(client_, login.user.c_str(), login.password.c_str());
  if (!login.ca_file.empty()) mosquitto_tls_set(client_, login.ca_file.c_str(), nullptr, nullptr, nullptr, nullptr);
  mosquitto_connect_callback_set(client_, [](mosquitto* m, void* self, int rc) {
    if (rc == 0) {
      const std::string all = "latchkey/camera/" + static_cast<TestClient*>(self)->camera_id_ + "/#";
      mosquitto_subscribe(m, nullptr, all.c_str(), 1);
    }
  });
  mosquitto_message_callback_set(client_, [](mosquitto*, void* self, const mosquitto_message* m) {
    auto* client = static_cast<TestClient*>(self);
    Message message{m->topic, std::string(static_cast<const char*>(m->payload), static_cast<std::size_t>(m->payloadlen)),
                    m->retain, Clock::now()};
    {
      const std::lock_guard lock(client->mutex_);
      client->messages_.push_back(std::move(message));
    }
    client->changed_.notify_all();
  });
  mosquitto_reconnect_delay_set(client_, 1, 1, false);
  if (mosquitto_connect(client_, login.ca_file.empty() ? "127.0.0.1" : "localhost", port, 10) != MOSQ_ERR_SUCCESS)
    throw std::runtime_error("the test client cannot connect");
  mosquitto_loop_start(client_);
}

TestClient::~TestClient() {
  mosquitto_disconnect(client_);
  mosquitto_loop_stop(client_, true);
  mosquitto_destroy(client_);
}

void TestClient::publish(const std::string& leaf, const std::string& payload, int qos) {
  mosquitto_publish(client_, nullptr, topic(leaf).c_str(), static_cast<int>(payload.size()), payload.data(), qos,
                    false);
}

int TestClient::wait_for(const std::function<bool(const Message&)>& match, std::size_t from,
                         std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::unique_lock lock(mutex_);
  for (std::size_t i = from;;) {
    for (; i < messages_.size(); ++i)
      if (match(messages_[i])) return static_cast<int>(i);
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      for (; i < messages_.size(); ++i)
        if (match(messages_[i])) return static_cast<int>(i);
      return -1;
    }
  }
}

Message TestClient::at(std::size_t index) {
  const std::lock_guard lock(mutex_);
  return messages_.at(index);
}

std::size_t TestClient::size() {
  const std::lock_guard lock(mutex_);
  return messages_.size();
}

}  // namespace latchkey::camera_test
