#include "fleet_sim.hpp"

#include <latchkey/client/api_client.hpp>
#include <latchkey/demo/hub_status.hpp>

#include <Poco/JSON/Object.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace latchkey::fleetsim {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double mono_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string hub_name(int index) {
  char name[16];
  std::snprintf(name, sizeof name, "hub-%04d", index);
  return name;
}

std::unique_ptr<testing::MosquittoBroker> start_fleet_broker(const SimOptions& options, int hubs) {
  testing::BrokerOptions b;
  for (int i = 1; i <= hubs; ++i) b.extra_users.push_back(hub_name(i));
  // The witness, the issuer of revocation lists, the fleet's own subscriber,
  // and "floor", a client that is no hub, for the bare-publish floors.
  for (const char* user : {"lk-witness", "lk-issuer", "lk-fleet", "floor"}) b.extra_users.push_back(user);
  b.guard = false;
  // The shipped fleet ACL, and "floor": a client that is no hub, allowed
  // every fleet topic, for the bare-publish floors of the figures.
  const fs::path acl = options.dir / "fleet-sim.acl";
  {
    std::ifstream shipped(options.fleet_acl);
    if (!shipped) throw std::runtime_error("cannot read " + options.fleet_acl.string());
    std::ofstream out(acl);
    // Through a hub's bridge the floors' messages travel as that hub: its
    // own up/floor topic too (pattern lines go before any user line).
    out << "# lk-fleet-sim only: the floors' topics.\npattern write latchkey/fleet/v1/%u/up/floor\n\n"
        << shipped.rdbuf() << "\n# lk-fleet-sim only: the floors' client.\nuser floor\ntopic readwrite latchkey/fleet/v1/#\n";
  }
  b.acl_file = acl;
  b.max_packet_size = 0;
  b.start_timeout = std::chrono::milliseconds(60000);
  return std::make_unique<testing::MosquittoBroker>(b);
}

Fleet::Fleet(SimOptions options, testing::MosquittoBroker& broker)
    : options_(std::move(options)), broker_(broker) {
  crypto::random_bytes(witness_seed_);
  witness_key_ = crypto::KeyPair::from_seed(witness_seed_);
  const fs::path root = options_.dir / options_.name;
  fs::remove_all(root);
  fs::create_directories(root / "hubs");
  for (int i = 1; i <= options_.hubs; ++i) {
    demo::SimHubOptions h;
    h.latchkeyd = options_.latchkeyd;
    h.plugin_dir = options_.plugin_dir;
    h.hub_id = hub_name(i);
    h.doors = {{"front", {"porch"}}};
    h.plugin_mode = "in_process";
    h.data_dir = root / "hubs" / h.hub_id;
    fs::create_directories(h.data_dir);
    if (options_.bridge) {
      // The hub's own broker, as docs/broker.md sets it up, reading the
      // bridge file from its include_dir. Also without [fleet], so that the
      // cost figure's floor carries the same brokers.
      const fs::path conf_d = root / "bridges" / h.hub_id;
      fs::create_directories(conf_d);
      testing::BrokerOptions b;
      b.extra_config = "include_dir " + conf_d.string() + "\n";
      hub_brokers_.push_back(std::make_unique<testing::MosquittoBroker>(b));
    }
    if (options_.fleet) {
      h.extra_config = "[fleet]\nenabled = true\nhost = 127.0.0.1\nport = " + std::to_string(broker_.port()) +
                       "\nuser = " + h.hub_id + "\npassword_file = " + broker_.password_file(h.hub_id).string() +
                       "\nwitness_key = " + crypto::to_hex(witness_key_.public_key) +
                       "\nwitness_timeout_ms = 2000\nkeepalive_s = 30\n";
      if (options_.bridge) {
        const testing::MosquittoBroker& local = *hub_brokers_.back();
        h.extra_config += "via = bridge\nlocal_port = " + std::to_string(local.port()) +
                          "\nlocal_user = hub\nlocal_password_file = " + local.password_file("hub").string() + "\n";
      }
    }
    hubs_.push_back(std::make_unique<demo::SimHub>(h));
  }
}

Fleet::~Fleet() {
  witness_.kill();
  for (auto& hub : hubs_) hub->kill();
}

namespace {

// What `latchkeyd --config <file> --print-fleet-bridge` prints; throws with
// its exit status when it fails.
std::string print_bridge(const fs::path& latchkeyd, const fs::path& config) {
  const std::string command = "'" + latchkeyd.string() + "' --config '" + config.string() + "' --print-fleet-bridge";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + command);
  std::string out;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  const int status = ::pclose(pipe);
  if (status != 0) throw std::runtime_error(command + " failed (status " + std::to_string(status) + ")");
  return out;
}

}  // namespace

double Fleet::start_hubs() {
  const double t0 = mono_s();
  for (std::size_t i = 0; i < hubs_.size(); ++i) {
    if (options_.bridge && options_.fleet) {
      // The bridge file made from the hub's own configuration, installed as
      // docs/fleet.md says (mode 0640), and the hub's broker restarted to read it.
      const fs::path file = options_.dir / options_.name / "bridges" / hubs_[i]->hub_id() / "fleet-bridge.conf";
      std::ofstream(file) << print_bridge(options_.latchkeyd, hubs_[i]->config_file());
      fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
      hub_brokers_[i]->stop();
      hub_brokers_[i]->start();
    }
    hubs_[i]->start(60s);
  }
  return mono_s() - t0;
}

void Fleet::start_witness() {
  const fs::path root = options_.dir / options_.name;
  {
    std::ofstream keys(root / "hub-keys");
    for (auto& hub : hubs_) keys << hub->hub_id() << " " << crypto::to_hex(hub->hub_public_key()) << "\n";
    std::ofstream seed(root / "witness.key");
    seed << crypto::to_hex(witness_seed_) << "\n";
  }
  fs::permissions(root / "witness.key", fs::perms::owner_read | fs::perms::owner_write);
  witness_.start({options_.witness.string(), "--hub-keys", (root / "hub-keys").string(), "--db",
                  (root / "witness.db").string(), "--key", (root / "witness.key").string(), "--host", "127.0.0.1",
                  "--port", std::to_string(broker_.port()), "--user", "lk-witness", "--password-file",
                  broker_.password_file("lk-witness").string()},
                 root / "witness.log");
}

double Fleet::wait_all_confirmed(std::chrono::seconds timeout) {
  const double t0 = mono_s();
  std::vector<bool> confirmed(hubs_.size(), false);
  std::vector<std::unique_ptr<client::ApiClient>> clients;
  for (auto& hub : hubs_) clients.push_back(hub->client());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::size_t left = 0;
    for (std::size_t i = 0; i < hubs_.size(); ++i) {
      if (confirmed[i]) continue;
      const auto answer = clients[i]->get("/v1/audit/verify").json();
      auto witness = answer->getObject("witness");
      if (witness && witness->getValue<std::string>("state") == "confirmed")
        confirmed[i] = true;
      else
        ++left;
    }
    if (left == 0) return mono_s() - t0;
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error(std::to_string(left) + " of " + std::to_string(hubs_.size()) +
                               " hubs not confirmed by the witness within " + std::to_string(timeout.count()) +
                               " s; witness log:\n" + demo::file_tail(options_.dir / options_.name / "witness.log", 20));
    std::this_thread::sleep_for(100ms);
  }
}

Fleet::Usage Fleet::hub_usage() const {
  Usage u;
  for (const auto& hub : hubs_) {
    u.cpu_s += process_cpu_s(hub->process().pid());
    u.pss_kb += process_pss_kb(hub->process().pid());
  }
  for (const auto& broker : hub_brokers_) {
    u.cpu_s += process_cpu_s(broker->pid());
    u.pss_kb += process_pss_kb(broker->pid());
  }
  return u;
}

Fleet::Usage Fleet::witness_usage() const {
  Usage u;
  if (witness_.pid() > 0) {
    u.cpu_s = process_cpu_s(witness_.pid());
    u.pss_kb = process_pss_kb(witness_.pid());
  }
  return u;
}

namespace {

// A link to `broker` as `user`, with the password the broker fixture made;
// each gets a client id of its own.
mqtt::LinkConfig link_config(const testing::MosquittoBroker& broker, const std::string& user) {
  static std::atomic<int> serial{0};
  mqtt::LinkConfig config;
  config.host = broker.address();
  config.port = broker.port();
  config.user = user;
  config.password = broker.password(user);
  config.client_id = user + "-sim-" + std::to_string(::getpid()) + "-" + std::to_string(++serial);
  config.keepalive_s = 30;
  config.log_prefix = "sim " + user;
  return config;
}

}  // namespace

std::unique_ptr<mqtt::MqttLink> connect_as(const testing::MosquittoBroker& broker, const std::string& user,
                                           std::vector<mqtt::LinkConfig::Subscription> subscriptions,
                                           std::function<void(std::string_view, const uint8_t*, std::size_t)> on_message) {
  mqtt::LinkConfig config = link_config(broker, user);
  config.subscriptions = std::move(subscriptions);
  auto connected = std::make_shared<std::atomic<bool>>(false);
  mqtt::LinkCallbacks callbacks;
  callbacks.connected = [connected] { connected->store(true); };
  if (on_message)
    callbacks.message = std::move(on_message);
  else
    callbacks.message = [](std::string_view, const uint8_t*, std::size_t) {};
  auto link = std::make_unique<mqtt::MqttLink>(std::move(config), std::move(callbacks));
  for (int i = 0; i < 500 && !connected->load(); ++i) std::this_thread::sleep_for(10ms);
  if (!connected->load()) throw std::runtime_error(user + " did not connect to the broker within 5 s");
  return link;
}

Listener::Listener(const testing::MosquittoBroker& broker, const std::string& user, std::vector<std::string> topics) {
  mqtt::LinkConfig config = link_config(broker, user);
  for (std::string& t : topics) config.subscriptions.push_back({std::move(t), 1});
  mqtt::LinkCallbacks callbacks;
  callbacks.connected = [this] {
    std::lock_guard<std::mutex> lock(mutex_);
    changed_.notify_all();
  };
  callbacks.message = [this](std::string_view topic, const uint8_t* data, std::size_t size) {
    Received r{std::string(topic), std::string(reinterpret_cast<const char*>(data), size), wall_ms(), mono_s()};
    std::lock_guard<std::mutex> lock(mutex_);
    received_.push_back(std::move(r));
    changed_.notify_all();
  };
  link_ = std::make_unique<mqtt::MqttLink>(std::move(config), std::move(callbacks));
}

Listener::~Listener() { link_.reset(); }

bool Listener::wait_connected(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return link_->connected(); });
}

bool Listener::wait(const std::function<bool(const std::vector<Received>&)>& done, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return done(received_); });
}

std::vector<Listener::Received> Listener::received() {
  std::lock_guard<std::mutex> lock(mutex_);
  return received_;
}

double process_cpu_s(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // After the command name in parentheses: state is field 3; utime 14, stime 15.
  const std::size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int n = 3; fields >> field; ++n) {
    if (n == 14) utime = std::stod(field);
    if (n == 15) {
      stime = std::stod(field);
      break;
    }
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double process_pss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string key;
  double value = 0;
  std::string unit;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    if (words >> key >> value >> unit && key == "Pss:") return value;
  }
  return 0;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return std::nan("");
  std::sort(values.begin(), values.end());
  const double rank = p / 100.0 * static_cast<double>(values.size() - 1);
  const auto low = static_cast<std::size_t>(std::floor(rank));
  const auto high = static_cast<std::size_t>(std::ceil(rank));
  return values[low] + (values[high] - values[low]) * (rank - static_cast<double>(low));
}

}  // namespace latchkey::fleetsim
