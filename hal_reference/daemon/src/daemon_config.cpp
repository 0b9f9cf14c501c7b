#include <latchkey/hub/daemon_config.hpp>

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace latchkey::hub {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

struct Line {
  int number;
  std::string value;
};
using Section = std::map<std::string, Line>;

class Reader {
 public:
  Reader(std::string section, const Section& keys) : section_(std::move(section)), keys_(keys) {}

  std::string where(const std::string& key) const {
    auto it = keys_.find(key);
    return it == keys_.end() ? "[" + section_ + "]" : "line " + std::to_string(it->second.number) + ": [" + section_ + "] " + key;
  }
  bool has(const std::string& key) const { return keys_.count(key) != 0; }
  std::string text(const std::string& key, const std::string& fallback = {}) {
    used_.insert(key);
    auto it = keys_.find(key);
    return it == keys_.end() ? fallback : it->second.value;
  }
  std::string required(const std::string& key) {
    if (!has(key)) throw DaemonConfigError("configuration: [" + section_ + "] needs '" + key + "'");
    const std::string v = text(key);
    if (v.empty()) throw DaemonConfigError(where(key) + " must not be empty");
    return v;
  }
  int64_t integer(const std::string& key, int64_t fallback, int64_t min, int64_t max) {
    if (!has(key)) return fallback;
    const std::string v = text(key);
    int64_t out = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || end != v.data() + v.size())
      throw DaemonConfigError(where(key) + " = '" + v + "' is not an integer");
    if (out < min || out > max)
      throw DaemonConfigError(where(key) + " = " + v + " is out of bounds [" + std::to_string(min) + ", " +
                              std::to_string(max) + "]");
    return out;
  }
  bool boolean(const std::string& key, bool fallback) {
    if (!has(key)) return fallback;
    const std::string v = text(key);
    if (v == "true" || v == "yes" || v == "1") return true;
    if (v == "false" || v == "no" || v == "0") return false;
    throw DaemonConfigError(where(key) + " = '" + v + "' is not true or false");
  }
  crypto::PublicKey key(const std::string& name) {
    const std::string v = required(name);
    const auto bytes = crypto::from_hex(v);
    if (!bytes || bytes->size() != 32)
      throw DaemonConfigError(where(name) + " must be an Ed25519 public key of 64 hex digits");
    crypto::PublicKey k;
    std::copy(bytes->begin(), bytes->end(), k.begin());
    return k;
  }
  // Refuses keys nobody asked for: a typo must not silently fall back to a default.
  void finish() const {
    for (const auto& [k, line] : keys_)
      if (!used_.count(k))
        throw DaemonConfigError("line " + std::to_string(line.number) + ": unknown key '" + k + "' in [" + section_ + "]");
  }

 private:
  std::string section_;
  const Section& keys_;
  std::set<std::string> used_;
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    item = trim(item);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

DaemonConfig DaemonConfig::parse(const std::string& text, const std::filesystem::path& base_dir) {
  // Read the sections, keeping line numbers for messages.
  std::map<std::string, Section> sections;
  std::vector<std::string> order;
  std::string current;
  std::stringstream in(text);
  std::string raw;
  int number = 0;
  while (std::getline(in, raw)) {
    ++number;
    // Comments: a line starting with '#' or ';', or " #" to the end of a line
    // (';' inside values separates the authorization plugin's lines).
    std::string line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (const auto hash = line.find(" #"); hash != std::string::npos) line = trim(line.substr(0, hash));
    if (line.front() == '[') {
      if (line.back() != ']') throw DaemonConfigError("line " + std::to_string(number) + ": a section header ends with ']'");
      current = trim(line.substr(1, line.size() - 2));
      if (sections.count(current)) throw DaemonConfigError("line " + std::to_string(number) + ": section [" + current + "] appears twice");
      sections[current];
      order.push_back(current);
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) throw DaemonConfigError("line " + std::to_string(number) + ": expected 'key = value'");
    if (current.empty()) throw DaemonConfigError("line " + std::to_string(number) + ": a key before any [section]");
    const std::string key = trim(line.substr(0, eq));
    if (sections[current].count(key))
      throw DaemonConfigError("line " + std::to_string(number) + ": key '" + key + "' appears twice in [" + current + "]");
    sections[current][key] = Line{number, trim(line.substr(eq + 1))};
  }

  DaemonConfig c;
  auto absolute = [&](const std::string& p) {
    const std::filesystem::path path(p);
    return path.is_absolute() ? path : base_dir / path;
  };
  for (const std::string& name : order) {
    const Section& keys = sections[name];
    Reader r(name, keys);
    const auto dot = name.find('.');
    const std::string kind = dot == std::string::npos ? name : name.substr(0, dot);
    const std::string id = dot == std::string::npos ? std::string() : name.substr(dot + 1);
    if (dot != std::string::npos && !valid_name(id))
      throw DaemonConfigError("section [" + name + "]: '" + id + "' must be 1-63 letters, digits, '-', '_' or '.'");
    if (name == "hub") {
      c.hub_id = r.required("id");
      if (!valid_name(c.hub_id)) throw DaemonConfigError(r.where("id") + " must be 1-63 letters, digits, '-', '_' or '.'");
      c.data_dir = absolute(r.required("data_dir"));
      c.api_address = r.text("api_address", c.api_address);
      if (r.has("plugin_dir")) c.plugin_dir = absolute(r.required("plugin_dir"));
      c.test_control = r.boolean("test_control", false);
      const std::string clock = r.text("clock_synced", "ntp");
      if (clock != "ntp" && clock != "trust")
        throw DaemonConfigError(r.where("clock_synced") + " = '" + clock + "' must be ntp or trust");
      c.trust_clock = clock == "trust";
      c.checkpoint_interval_ms = r.integer("checkpoint_interval_ms", 60'000, 1'000, 60'000);
      if (r.has("log_file")) c.log_file = absolute(r.required("log_file"));
    } else if (name == "gate") {
      for (const auto& [key, line] : keys) {
        try {
          c.gate.set(key, r.text(key));
        } catch (const gate::ConfigError& e) {
          throw DaemonConfigError("line " + std::to_string(line.number) + ": [gate] " + e.what());
        }
      }
    } else if (kind == "plugin" && !id.empty()) {
      PluginConfig plugin{id, r.required("file")};
      const std::string mode = r.text("mode", "isolated");
      if (mode != "isolated" && mode != "in_process")
        throw DaemonConfigError(r.where("mode") + " = '" + mode + "' must be isolated or in_process");
      plugin.isolated = mode == "isolated";
      c.plugins[id] = plugin;
    } else if (name == "isolation") {
      IsolationConfig& i = c.isolation;
      if (r.has("host_program")) i.host_program = absolute(r.required("host_program"));
      if (r.has("run_dir")) i.run_dir = absolute(r.required("run_dir"));
      i.call_deadline_ms = r.integer("call_deadline_ms", i.call_deadline_ms, 100, 60'000);
      i.heartbeat_interval_ms = r.integer("heartbeat_interval_ms", i.heartbeat_interval_ms, 50, 60'000);
      i.restart_backoff_ms = r.integer("restart_backoff_ms", i.restart_backoff_ms, 10, 60'000);
      i.restart_backoff_max_ms = r.integer("restart_backoff_max_ms", i.restart_backoff_max_ms, i.restart_backoff_ms, 3'600'000);
      i.quarantine_failures = r.integer("quarantine_failures", i.quarantine_failures, 1, 1000);
      i.quarantine_window_s = r.integer("quarantine_window_s", i.quarantine_window_s, 1, 86'400);
      i.address_space_mb = r.integer("address_space_mb", i.address_space_mb, 0, 1 << 20);
      i.open_files = r.integer("open_files", i.open_files, 16, 65'536);
    } else if ((kind == "lock" || kind == "camera") && !id.empty()) {
      DeviceConfig d;
      d.name = id;
      d.plugin = r.required("plugin");
      d.uri = r.required("uri");
      if (kind == "camera") {
        d.key = r.key("key");
        c.cameras[id] = d;
      } else {
        c.locks[id] = d;
      }
    } else if (kind == "door" && !id.empty()) {
      DoorConfig d;
      d.name = id;
      d.lock = r.required("lock");
      d.cameras = split_list(r.required("cameras"));
      c.doors[id] = d;
    } else if (name == "authz") {
      c.authz_plugin = r.text("plugin");
      std::string cfg = r.text("config");
      for (char& ch : cfg)
        if (ch == ';') ch = '\n';
      c.authz_config = cfg;
    } else if (kind == "issuer" && !id.empty()) {
      c.issuers[id] = r.key("key");
    } else if (name == "revoked") {
      for (const std::string& grant : split_list(r.text("grants"))) {
        const auto bytes = crypto::from_hex(grant);
        if (!bytes || bytes->size() != 16)
          throw DaemonConfigError(r.where("grants") + ": '" + grant + "' is not a grant id of 32 hex digits");
        c.revoked_grants.insert(crypto::to_hex(*bytes));
      }
    } else {
      throw DaemonConfigError("unknown section [" + name + "]");
    }
    r.finish();
  }

  // Cross-checks.
  if (c.hub_id.empty()) throw DaemonConfigError("configuration: the [hub] section with id and data_dir is required");
  try {
    c.gate.validate();
  } catch (const gate::ConfigError& e) {
    throw DaemonConfigError(std::string("[gate] ") + e.what());
  }
  auto check_plugin = [&](const std::string& what, const std::string& plugin) {
    if (!c.plugins.count(plugin)) throw DaemonConfigError(what + " names plugin '" + plugin + "', which has no [plugin." + plugin + "] section");
  };
  for (const auto& [n, d] : c.locks) check_plugin("[lock." + n + "]", d.plugin);
  for (const auto& [n, d] : c.cameras) check_plugin("[camera." + n + "]", d.plugin);
  if (!c.authz_plugin.empty()) check_plugin("[authz]", c.authz_plugin);
  if (c.doors.empty()) throw DaemonConfigError("configuration: at least one [door.<name>] is required");
  std::set<std::string> locks_used;
  std::map<std::string, std::string> camera_door;
  for (const auto& [n, d] : c.doors) {
    if (!c.locks.count(d.lock)) throw DaemonConfigError("[door." + n + "] lock '" + d.lock + "' has no [lock." + d.lock + "] section");
    if (!locks_used.insert(d.lock).second) throw DaemonConfigError("[door." + n + "] lock '" + d.lock + "' is already used by another door");
    if (d.cameras.empty()) throw DaemonConfigError("[door." + n + "] binds no camera (U1 needs at least one)");
    for (const auto& cam : d.cameras) {
      if (!c.cameras.count(cam)) throw DaemonConfigError("[door." + n + "] camera '" + cam + "' has no [camera." + cam + "] section");
      // One door per camera: a camera records one session at a time (U2).
      auto [it, fresh] = camera_door.emplace(cam, n);
      if (!fresh)
        throw DaemonConfigError("[door." + n + "] camera '" + cam + "' is already bound to door '" + it->second +
                                (it->second == n ? "' (listed twice)" : "'; a camera serves one door"));
    }
  }
  return c;
}

DaemonConfig DaemonConfig::load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw DaemonConfigError("cannot read configuration file " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  try {
    return parse(text.str(), std::filesystem::absolute(file).parent_path());
  } catch (const DaemonConfigError& e) {
    throw DaemonConfigError(file.string() + ": " + e.what());
  }
}

std::filesystem::path DaemonConfig::plugin_path(const std::string& plugin_name) const {
  const std::filesystem::path file = plugins.at(plugin_name).file;
  if (file.is_absolute() || plugin_dir.empty()) return file;
  return plugin_dir / file;
}

}  // namespace latchkey::hub
