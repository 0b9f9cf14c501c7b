#include "mosquitto_broker.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#ifndef LATCHKEY_BROKER_GUARD_PATH
#error "LATCHKEY_BROKER_GUARD_PATH must name the built latchkey_broker_guard.so"
#endif
#ifndef LATCHKEY_BROKER_ACL_FILE
#error "LATCHKEY_BROKER_ACL_FILE must name tools/broker/latchkey.acl"
#endif

namespace latchkey::testing {
namespace fs = std::filesystem;
namespace {

constexpr const char* kMosquitto = "/usr/sbin/mosquitto";
constexpr const char* kMosquittoPasswd = "mosquitto_passwd";
constexpr const char* kOpenssl = "openssl";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_text(const fs::path& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw BrokerError("cannot create " + path.string() + ": " + std::strerror(errno));
  ::fchmod(fd, mode);
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      throw BrokerError("cannot write " + path.string() + ": " + std::strerror(errno));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  ::close(fd);
}

std::string random_hex(std::size_t bytes) {
  std::ifstream in("/dev/urandom", std::ios::binary);
  std::string raw(bytes, '\0');
  if (!in.read(raw.data(), static_cast<std::streamsize>(bytes))) throw BrokerError("cannot read /dev/urandom");
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

// LATCHKEY_BROKER_DEBUG=1: the broker logs every packet (with LATCHKEY_KEEP_BROKER_DIR=1 to read it after).
bool debug_log() {
  const char* debug = std::getenv("LATCHKEY_BROKER_DEBUG");
  return debug != nullptr && std::string(debug) == "1";
}

bool is_ipv6(const std::string& address) { return address.find(':') != std::string::npos; }

// A socket address for address:port; throws for anything but a numeric address.
sockaddr_storage socket_address(const std::string& address, uint16_t port, socklen_t* size) {
  sockaddr_storage storage{};
  if (is_ipv6(address)) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    if (::inet_pton(AF_INET6, address.c_str(), &a->sin6_addr) != 1) throw BrokerError("not an IPv6 address: " + address);
    *size = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    if (::inet_pton(AF_INET, address.c_str(), &a->sin_addr) != 1) throw BrokerError("not an IPv4 address: " + address);
    *size = sizeof(sockaddr_in);
  }
  return storage;
}

// A port nobody listens on right now (the kernel's choice; closed again at once).
uint16_t free_port(const std::string& address) {
  socklen_t size = 0;
  sockaddr_storage a = socket_address(address, 0, &size);
  const int fd = ::socket(a.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw BrokerError(std::string("socket: ") + std::strerror(errno));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), size) != 0) {
    const int error = errno;
    ::close(fd);
    throw BrokerError("cannot bind " + address + ": " + std::strerror(error));
  }
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size);
  ::close(fd);
  return ntohs(a.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&a)->sin6_port
                                       : reinterpret_cast<sockaddr_in*>(&a)->sin_port);
}

bool accepts_connections(const std::string& address, uint16_t port) {
  socklen_t size = 0;
  sockaddr_storage a = socket_address(address, port, &size);
  const int fd = ::socket(a.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), size) == 0;
  ::close(fd);
  return ok;
}

// Runs a tool (found on PATH) with its output in output_file; throws when it fails.
void run_tool(const std::vector<std::string>& argv, const fs::path& output_file) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw BrokerError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    const int out = ::open(output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    ::execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string command;
    for (const std::string& a : argv) command += (command.empty() ? "" : " ") + a;
    throw BrokerError("'" + command + "' failed (status " + std::to_string(status) +
                      (WIFEXITED(status) && WEXITSTATUS(status) == 127 ? ", not installed?" : "") + "):\n" +
                      read_text(output_file));
  }
}

}  // namespace

MosquittoBroker::MosquittoBroker(BrokerOptions options) : options_(std::move(options)) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/lk-broker-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw BrokerError("mkdtemp " + pattern + ": " + std::strerror(errno));
  dir_ = pattern;
  try {
    if (options_.port == 0) options_.port = free_port(options_.address);
    if (options_.tls && options_.tls_port == 0) options_.tls_port = free_port(options_.address);
    write_files();
    start();
  } catch (...) {
    stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw;
  }
}

MosquittoBroker::~MosquittoBroker() {
  stop();
  const char* keep = std::getenv("LATCHKEY_KEEP_BROKER_DIR");
  if (keep == nullptr || std::string(keep) != "1") {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string MosquittoBroker::uri_host() const {
  return is_ipv6(options_.address) ? "[" + options_.address + "]" : options_.address;
}

fs::path MosquittoBroker::password_file(const std::string& user) const {
  if (passwords_.count(user) == 0) throw BrokerError("no broker user '" + user + "'");
  return dir_ / ("password." + user);
}

std::string MosquittoBroker::password(const std::string& user) const {
  auto it = passwords_.find(user);
  if (it == passwords_.end()) throw BrokerError("no broker user '" + user + "'");
  return it->second;
}

fs::path MosquittoBroker::ca_file() const {
  if (!options_.tls) throw BrokerError("this broker has no TLS listener");
  return dir_ / "ca.crt";
}

std::string MosquittoBroker::log() const { return read_text(dir_ / "mosquitto.log"); }

void MosquittoBroker::write_files() {
  std::vector<std::string> users{kHubUser};
  users.insert(users.end(), options_.cameras.begin(), options_.cameras.end());
  users.insert(users.end(), options_.extra_users.begin(), options_.extra_users.end());
  const fs::path passwd = dir_ / "passwd";
  bool first = true;
  for (const std::string& user : users) {
    const std::string password = random_hex(16);
    passwords_[user] = password;
    write_text(dir_ / ("password." + user), password + "\n", 0600);
    std::vector<std::string> argv{kMosquittoPasswd};
    if (first) argv.push_back("-c");
    argv.insert(argv.end(), {"-b", passwd.string(), user, password});
    run_tool(argv, dir_ / "tools.log");
    first = false;
  }
  ::chmod(passwd.c_str(), 0600);
  const fs::path acl = options_.acl_file.empty() ? fs::path(LATCHKEY_BROKER_ACL_FILE) : options_.acl_file;
  const std::string acl_text = read_text(acl);
  if (acl_text.empty()) throw BrokerError("ACL file " + acl.string() + " is missing or empty");
  write_text(dir_ / "acl", acl_text, 0600);
  if (options_.tls) make_tls_files();

  std::ostringstream conf;
  conf << "# Written by tests/support/mosquitto_broker.cpp: the settings of\n"
       << "# tools/broker/mosquitto-latchkey.conf, with this folder's files.\n"
       << "per_listener_settings false\n"
       << "allow_anonymous false\n"
       << "password_file " << (dir_ / "passwd").string() << "\n"
       << "acl_file " << (dir_ / "acl").string() << "\n"
       << (options_.guard ? std::string("plugin ") + LATCHKEY_BROKER_GUARD_PATH + "\nplugin_opt_hub_user " + kHubUser + "\n"
                          : std::string())
       << (options_.max_packet_size > 0 ? "max_packet_size " + std::to_string(options_.max_packet_size) + "\n" : "")
       << (options_.persistence ? "persistence true\npersistence_location " + (dir_ / "").string() + "\n"
                                 : std::string("persistence false\n"))
       << "set_tcp_nodelay true\n"
       << "retain_available true\n"
       << "max_queued_messages 100\n"
       << "log_dest file " << (dir_ / "mosquitto.log").string() << "\n"
       << (debug_log() ? "log_type all\n" : "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n")
       << "connection_messages true\n"
       << "log_timestamp_format %H:%M:%S\n";
  if (::geteuid() == 0) conf << "user root\n";  // else it drops to 'mosquitto', who cannot read this folder
  conf << "listener " << options_.port << " " << options_.address << "\n";
  if (options_.tls) {
    conf << "listener " << options_.tls_port << " " << options_.address << "\n"
         << "cafile " << (dir_ / "ca.crt").string() << "\n"
         << "certfile " << (dir_ / "server.crt").string() << "\n"
         << "keyfile " << (dir_ / "server.key").string() << "\n"
         << "tls_version tlsv1.2\n";
  }
  conf << options_.extra_config;
  write_text(config_file(), conf.str(), 0600);
}

void MosquittoBroker::make_tls_files() {
  const fs::path out = dir_ / "tools.log";
  const std::string d = dir_.string() + "/";
  run_tool({kOpenssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", d + "ca.key", "-out", d + "ca.crt", "-days", "2", "-subj", "/CN=Latchkey test broker CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"},
           out);
  run_tool({kOpenssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
            d + "server.key", "-out", d + "server.csr", "-subj", "/CN=" + options_.address},
           out);
  const std::string san = "subjectAltName=IP:" + options_.address + (options_.address == "127.0.0.1" ? ",DNS:localhost" : "");
  write_text(dir_ / "server.ext",
             san + "\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n", 0600);
  run_tool({kOpenssl, "x509", "-req", "-in", d + "server.csr", "-CA", d + "ca.crt", "-CAkey", d + "ca.key",
            "-CAcreateserial", "-out", d + "server.crt", "-days", "2", "-extfile", d + "server.ext"},
           out);
  ::chmod((dir_ / "server.key").c_str(), 0600);
  ::chmod((dir_ / "ca.key").c_str(), 0600);
}

void MosquittoBroker::start() {
  if (pid_ > 0) return;
  const std::string config = config_file().string();
  const std::string output = (dir_ / "mosquitto.out").string();
  const pid_t pid = ::fork();
  if (pid < 0) throw BrokerError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    const int out = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    const int in = ::open("/dev/null", O_RDONLY);
    if (in >= 0) ::dup2(in, 0);
    ::execl(kMosquitto, kMosquitto, "-c", config.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  pid_ = pid;
  wait_until_ready();
}

void MosquittoBroker::wait_until_ready() {
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (true) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw BrokerError("mosquitto exited at start (status " + std::to_string(status) + "); its output:\n" +
                        read_text(dir_ / "mosquitto.out") + "\nits log:\n" + log());
    }
    const bool plain = accepts_connections(options_.address, options_.port);
    const bool tls = !options_.tls || accepts_connections(options_.address, options_.tls_port);
    if (plain && tls) return;
    if (std::chrono::steady_clock::now() > deadline) {
      const std::string output = read_text(dir_ / "mosquitto.out");
      stop();
      throw BrokerError("mosquitto did not accept connections on " + options_.address + ":" +
                        std::to_string(options_.port) + " within " + std::to_string(options_.start_timeout.count()) +
                        " ms; its output:\n" + output + "\nits log:\n" + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void MosquittoBroker::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

void MosquittoBroker::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace latchkey::testing
