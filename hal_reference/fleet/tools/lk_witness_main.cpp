// lk-witness: keeps, per hub, the newest signed audit checkpoint it was sent
// over the fleet broker and answers each hub's query with it, signed
// (docs/fleet.md). The options are read here and nowhere else; the work is
// latchkey::fleet::Witness.
#include <latchkey/common/cli_options.hpp>
#include <latchkey/common/log.hpp>
#include <latchkey/fleet/witness.hpp>

#include <latchkey/mqtt/mqtt_link.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <mutex>
#include <string>

namespace fs = std::filesystem;
namespace cli = latchkey::cli;
namespace logging = latchkey::logging;
using namespace latchkey;

namespace {

const cli::Program& program() {
  static const cli::Program p{
      "lk-witness",
      {"--hub-keys FILE|DIR --db FILE --key FILE --host HOST [options]", "--key FILE --print-key",
       "--db FILE --forget HUB_ID"},
      "The witness of Latchkey hubs' audit logs (docs/fleet.md): keeps per hub the newest signed audit checkpoint "
      "the hub published on the fleet broker (latchkey/fleet/v1/<hub_id>/up/checkpoint) and answers each hub's "
      "query (.../witness/query) on .../witness/answer with it and the query's nonce, signed by the witness key. A "
      "hub whose log is shorter than that checkpoint, or does not extend it, was rolled back and grants nothing. "
      "Messages from unknown hubs, bad payloads and checkpoints not signed by the hub's key are logged and ignored. "
      "SIGTERM or SIGINT stop it.",
      {{0, "stopped by a signal, or --print-key or --forget done"},
       {1, "failed: the hub keys, the store, the key or the broker settings could not be used"},
       {2, "usage error: an unknown or malformed option, a required option missing"}},
      "The hub keys are '<hub_id> <64 hex digits>' lines (a hub's hub.pub); '#' starts a comment. --forget is a "
      "person's decision after a rollback alarm, once the hub's log was recovered (latchkeyd --recover-audit): "
      "the witness then accepts the hub's new log."};
  return p;
}

std::atomic<bool> g_stop{false};

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void info(const std::string& line) { logging::log(logging::LogLevel::kInfo, line); }
void error(const std::string& line) { logging::log(logging::LogLevel::kError, line); }

std::string read_line_file(const fs::path& file, const char* what) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line)) throw std::runtime_error(std::string(what) + " " + file.string() + ": cannot be read");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) throw std::runtime_error(std::string(what) + " " + file.string() + ": empty");
  return line;
}

// The witness key: a 64-hex-digit Ed25519 seed, created (mode 0600) when missing.
crypto::KeyPair load_or_create_key(const fs::path& file) {
  std::array<uint8_t, 32> seed{};
  if (!fs::exists(file)) {
    crypto::random_bytes(seed);
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) throw std::runtime_error("witness key " + file.string() + ": cannot be created");
    const std::string text = crypto::to_hex(seed) + "\n";
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) throw std::runtime_error("witness key " + file.string() + ": cannot be written");
    info("created the witness key " + file.string());
  } else {
    const auto bytes = crypto::from_hex(read_line_file(file, "witness key"));
    if (!bytes || bytes->size() != 32)
      throw std::runtime_error("witness key " + file.string() + ": must hold 64 hex digits (an Ed25519 seed)");
    std::copy(bytes->begin(), bytes->end(), seed.begin());
  }
  return crypto::KeyPair::from_seed(seed);
}

int serve(const mqtt::LinkConfig& link_config, const fs::path& hub_keys, const fs::path& db, const fs::path& key_file) {
  auto keys = fleet::load_hub_keys(hub_keys);
  info("knows " + std::to_string(keys.size()) + " hub keys");
  fleet::WitnessStore store(db);
  const crypto::KeyPair key = load_or_create_key(key_file);
  info("witness public key " + crypto::to_hex(key.public_key));
  fleet::Witness witness(std::move(keys), store, key, info, wall_ms);

  std::mutex mutex;  // the witness and its store: one message at a time
  std::atomic<mqtt::MqttLink*> link{nullptr};  // set once the link exists; its callbacks may run before
  mqtt::LinkCallbacks callbacks;
  callbacks.connected = [] { info("connected to the fleet broker"); };
  callbacks.lost = [](const std::string& why) { info("broker connection: " + why); };
  callbacks.refused = [](int code, const std::string& why) {
    error("broker refused the connection (" + std::to_string(code) + "): " + why);
  };
  callbacks.error_log = error;
  callbacks.message = [&](std::string_view topic, const uint8_t* data, std::size_t size) {
    std::optional<fleet::Reply> reply;
    {
      const std::lock_guard<std::mutex> lock(mutex);
      try {
        reply = witness.handle(topic, data, size);
      } catch (const std::exception& e) {
        error("message on " + std::string(topic) + " not handled: " + e.what());
        return;
      }
    }
    if (!reply) return;
    mqtt::MqttLink* now = link.load();
    std::string why = "the link is not ready yet";
    if (!now || !now->publish(reply->topic, reinterpret_cast<const uint8_t*>(reply->payload.data()),
                              reply->payload.size(), 1, &why))
      error("answer on " + reply->topic + " not sent: " + why);
  };
  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGINT, [](int) { g_stop = true; });
  mqtt::MqttLink mqtt_link(link_config, callbacks);
  link = &mqtt_link;
  while (!g_stop) ::usleep(50'000);
  link = nullptr;
  info("stopping");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string hub_keys, db, key_file, forget, host, user, password_file, ca_file, client_id = "lk-witness";
  int port = 0;
  cli::po::options_description options;
  options.add_options()
      ("hub-keys", cli::po::value(&hub_keys)->value_name("FILE|DIR"),
       "the hubs' public keys: a file, or a directory of files, of '<hub_id> <64 hex digits>' lines")
      ("db", cli::po::value(&db)->value_name("FILE"), "the witness's SQLite store (created when missing)")
      ("key", cli::po::value(&key_file)->value_name("FILE"),
       "the witness key: 64 hex digits (an Ed25519 seed); created, mode 0600, when missing")
      ("print-key", "print the witness's public key (a hub's [fleet] witness_key) and exit")
      ("forget", cli::po::value(&forget)->value_name("HUB_ID"),
       "forget the hub's checkpoint (a person's decision after a rollback alarm) and exit")
      ("host", cli::po::value(&host)->value_name("HOST"), "the fleet broker")
      ("port", cli::po::value(&port)->value_name("N"), "its port (default 1883; 8883 with --tls)")
      ("user", cli::po::value(&user)->value_name("NAME"), "the broker user name (lk-witness with tools/broker/fleet.acl)")
      ("password-file", cli::po::value(&password_file)->value_name("FILE"), "the broker password, one line")
      ("tls", "TLS to the broker, its certificate checked")
      ("tls-ca-file", cli::po::value(&ca_file)->value_name("FILE"), "the CA of the broker's certificate (default: the system's)")
      ("client-id", cli::po::value(&client_id)->value_name("ID"), "the MQTT client id (default lk-witness)");
  std::string level_text;
  cli::add_log_level_option(options, &level_text, "logged", "info");
  const cli::Parsed parsed = cli::parse(program(), options, argc, argv);
  if (parsed.exit_status) return *parsed.exit_status;
  const auto given = [&](const char* name) { return parsed.values.count(name) != 0; };
  if (given("log-level")) {
    if (const auto problem = cli::log_level_problem(level_text))
      return cli::report_usage_error(program(), "--log-level: " + *problem);
    logging::set_log_threshold(cli::log_level_argument(level_text));
  }
  logging::set_log_program("lk-witness");
  logging::set_journal_format(logging::stderr_is_journal());
  try {
    if (given("print-key")) {
      if (!given("key")) return cli::report_usage_error(program(), "--print-key needs --key");
      std::printf("%s\n", crypto::to_hex(load_or_create_key(key_file).public_key).c_str());
      return 0;
    }
    if (given("forget")) {
      if (!given("db")) return cli::report_usage_error(program(), "--forget needs --db");
      fleet::WitnessStore store(db);
      info("hub '" + forget + "': " +
           (store.forget(forget) ? "checkpoint forgotten by a person; its next checkpoint is accepted as new"
                                 : "no checkpoint held; nothing to forget"));
      return 0;
    }
    for (const char* required : {"hub-keys", "db", "key", "host"})
      if (!given(required)) return cli::report_usage_error(program(), std::string("--") + required + " is required");
    if (given("port") && (port < 1 || port > 65535)) return cli::report_usage_error(program(), "--port must be 1-65535");
    mqtt::LinkConfig link;
    link.host = host;
    link.tls = given("tls");
    link.port = static_cast<uint16_t>(given("port") ? port : (link.tls ? 8883 : 1883));
    link.tls_ca_file = ca_file;
    link.user = user;
    if (given("password-file")) link.password = read_line_file(password_file, "password file");
    link.client_id = client_id;
    link.keepalive_s = 30;
    link.log_prefix = "lk-witness";
    link.subscriptions = {{fleet::subscription(fleet::Channel::kCheckpoint), 1},
                          {fleet::subscription(fleet::Channel::kQuery), 1}};
    return serve(link, hub_keys, db, key_file);
  } catch (const std::exception& e) {
    error(e.what());
    return 1;
  }
}
