// lk-witness: keeps, per hub, the newest signed audit checkpoint it was sent
// over the fleet broker and answers each hub's query with it, signed
// (docs/fleet.md). The options are read here and nowhere else; the work is
// latchkey::fleet::Witness.
#include <latchkey/fleet/witness.hpp>

#include <latchkey/mqtt/mqtt_link.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <string>

namespace fs = std::filesystem;
using namespace latchkey;

namespace {

constexpr const char* kUsage =
    "usage: lk-witness --hub-keys FILE|DIR --db FILE --key FILE --host HOST [options]\n"
    "       lk-witness --key FILE --print-key\n"
    "       lk-witness --db FILE --forget HUB_ID\n"
    "Keeps per hub the newest signed audit checkpoint published on the fleet broker and\n"
    "answers each hub's query with it, signed by the witness key (docs/fleet.md).\n"
    "  --hub-keys FILE|DIR   '<hub_id> <64 hex digits>' lines: the hubs' public keys\n"
    "  --db FILE             the witness's SQLite store (created when missing)\n"
    "  --key FILE            the witness key: 64 hex digits (a seed); created, mode 0600, when missing\n"
    "  --print-key           print the witness's public key (a hub's [fleet] witness_key) and exit\n"
    "  --forget HUB_ID       a person's decision after a rollback alarm: forget the hub's checkpoint and exit\n"
    "  --host HOST           the fleet broker\n"
    "  --port N              its port (1883; 8883 with --tls)\n"
    "  --user NAME           broker user name\n"
    "  --password-file FILE  broker password (one line)\n"
    "  --tls                 TLS to the broker\n"
    "  --tls-ca-file FILE    the CA of the broker's certificate (default: the system's)\n"
    "  --client-id ID        MQTT client id (lk-witness)\n"
    "  --help                this text\n";

std::atomic<bool> g_stop{false};

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::mutex g_log_mutex;
void log_line(const std::string& line) {
  const std::lock_guard<std::mutex> lock(g_log_mutex);
  const int64_t ms = wall_ms();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::fprintf(stderr, "%s.%03dZ lk-witness: %s\n", stamp, static_cast<int>(ms % 1000), line.c_str());
  std::fflush(stderr);
}

std::string read_line_file(const fs::path& file, const char* what) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line)) throw std::runtime_error(std::string(what) + " " + file.string() + ": cannot be read");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) throw std::runtime_error(std::string(what) + " " + file.string() + ": empty");
  return line;
}

crypto::KeyPair load_or_create_key(const fs::path& file) {
  std::array<uint8_t, 32> seed{};
  if (!fs::exists(file)) {
    crypto::random_bytes(seed);
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("witness key " + file.string() + ": cannot be created");
    const std::string text = crypto::to_hex(seed) + "\n";
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) throw std::runtime_error("witness key " + file.string() + ": cannot be written");
    log_line("created the witness key " + file.string());
  } else {
    const auto bytes = crypto::from_hex(read_line_file(file, "witness key"));
    if (!bytes || bytes->size() != 32)
      throw std::runtime_error("witness key " + file.string() + ": must hold 64 hex digits (an Ed25519 seed)");
    std::copy(bytes->begin(), bytes->end(), seed.begin());
  }
  return crypto::KeyPair::from_seed(seed);
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> opt;
  const std::map<std::string, bool> takes_value = {
      {"--hub-keys", true}, {"--db", true},        {"--key", true},           {"--print-key", false},
      {"--forget", true},   {"--host", true},      {"--port", true},          {"--user", true},
      {"--password-file", true}, {"--tls", false}, {"--tls-ca-file", true},   {"--client-id", true},
      {"--help", false}};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto known = takes_value.find(a);
    if (known == takes_value.end()) {
      std::fprintf(stderr, "lk-witness: unknown option '%s'\n%s", a.c_str(), kUsage);
      return 2;
    }
    if (known->second && i + 1 >= argc) {
      std::fprintf(stderr, "lk-witness: %s needs a value\n%s", a.c_str(), kUsage);
      return 2;
    }
    opt[a] = known->second ? argv[++i] : "1";
  }
  if (opt.count("--help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  try {
    if (opt.count("--print-key")) {
      if (!opt.count("--key")) throw std::invalid_argument("--print-key needs --key");
      std::printf("%s\n", crypto::to_hex(load_or_create_key(opt["--key"]).public_key).c_str());
      return 0;
    }
    if (opt.count("--forget")) {
      if (!opt.count("--db")) throw std::invalid_argument("--forget needs --db");
      fleet::WitnessStore store(opt["--db"]);
      const bool forgotten = store.forget(opt["--forget"]);
      log_line("hub '" + opt["--forget"] + "': " +
               (forgotten ? "checkpoint forgotten by a person; its next checkpoint is accepted as new"
                          : "no checkpoint held; nothing to forget"));
      return 0;
    }
    for (const char* required : {"--hub-keys", "--db", "--key", "--host"})
      if (!opt.count(required)) throw std::invalid_argument(std::string(required) + " is required");
    mqtt::LinkConfig link;
    link.host = opt["--host"];
    link.tls = opt.count("--tls") > 0;
    link.port = link.tls ? 8883 : 1883;
    if (opt.count("--port")) {
      const int port = std::stoi(opt["--port"]);
      if (port < 1 || port > 65535) throw std::invalid_argument("--port must be 1-65535");
      link.port = static_cast<uint16_t>(port);
    }
    link.tls_ca_file = opt["--tls-ca-file"];
    link.user = opt["--user"];
    if (opt.count("--password-file")) link.password = read_line_file(opt["--password-file"], "password file");
    link.client_id = opt.count("--client-id") ? opt["--client-id"] : "lk-witness";
    link.keepalive_s = 30;
    link.log_prefix = "lk-witness";
    link.subscriptions = {{fleet::subscription(fleet::Channel::kCheckpoint), 1},
                          {fleet::subscription(fleet::Channel::kQuery), 1}};

    auto keys = fleet::load_hub_keys(opt["--hub-keys"]);
    log_line("knows " + std::to_string(keys.size()) + " hub keys");
    fleet::WitnessStore store(opt["--db"]);
    const crypto::KeyPair key = load_or_create_key(opt["--key"]);
    log_line("witness public key " + crypto::to_hex(key.public_key));
    fleet::Witness witness(std::move(keys), store, key, log_line, wall_ms);

    std::mutex mutex;  // the witness and its store: one message at a time
    std::atomic<mqtt::MqttLink*> link_ptr{nullptr};  // set once the link exists; its callbacks may run before
    mqtt::LinkCallbacks callbacks;
    callbacks.connected = [] { log_line("connected to the fleet broker"); };
    callbacks.lost = [](const std::string& why) { log_line("broker connection: " + why); };
    callbacks.refused = [](int code, const std::string& why) {
      log_line("broker refused the connection (" + std::to_string(code) + "): " + why);
    };
    callbacks.error_log = log_line;
    callbacks.message = [&](std::string_view topic, const uint8_t* data, std::size_t size) {
      std::optional<fleet::Reply> reply;
      {
        const std::lock_guard<std::mutex> lock(mutex);
        try {
          reply = witness.handle(topic, data, size);
        } catch (const std::exception& e) {
          log_line(std::string("message on ") + std::string(topic) + " not handled: " + e.what());
          return;
        }
      }
      std::string error;
      mqtt::MqttLink* link_now = link_ptr.load();
      if (reply && !link_now) log_line("answer on " + reply->topic + " not sent: the link is not ready yet");
      if (reply && link_now &&
          !link_now->publish(reply->topic, reinterpret_cast<const uint8_t*>(reply->payload.data()),
                             reply->payload.size(), 1, &error))
        log_line("answer on " + reply->topic + " not sent: " + error);
    };
    std::signal(SIGTERM, [](int) { g_stop = true; });
    std::signal(SIGINT, [](int) { g_stop = true; });
    mqtt::MqttLink mqtt_link(link, callbacks);
    link_ptr = &mqtt_link;
    while (!g_stop) ::usleep(50'000);
    link_ptr = nullptr;
    log_line("stopping");
    return 0;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "lk-witness: %s\n%s", e.what(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    log_line(std::string("error: ") + e.what());
    return 1;
  }
}
