// latchkeyd's configuration file: one parser for every section, each
// section's checks next to its keys (hence the length).
#include <latchkey/hub/daemon_config.hpp>

#include <latchkey/fleet/protocol.hpp>

#include <arpa/inet.h>

#include <charconv>
#include <fstream>
#include <functional>
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

// A broker host name or literal address (IPv6 without brackets), as libmosquitto takes it.
bool valid_host(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  for (char ch : host)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == ':')) return false;
  return true;
}

// The keys [mqtt] and [fleet] share: how the hub reaches a broker.
// Each reader stores what it read before it refuses it, so that a bad value
// is not reported again as a missing one by the cross-checks.
void read_broker_host(Reader& r, std::string& host) {
  if (!r.has("host")) return;
  host = r.required("host");
  if (!valid_host(host))
    throw DaemonConfigError(r.where("host") + " = '" + host +
                            "' is not a host name or literal address (letters, digits, '.', '-', ':')");
}

void read_broker_user(Reader& r, std::string& user) {
  if (!r.has("user")) return;
  user = r.required("user");
  for (char ch : user)
    if (static_cast<unsigned char>(ch) < 0x21 || static_cast<unsigned char>(ch) > 0x7e)
      throw DaemonConfigError(r.where("user") + " must be printable ASCII without spaces");
}

void refuse_password_key(Reader& r) {
  if (r.has("password"))
    throw DaemonConfigError(r.where("password") +
                            ": a password is never written in the configuration; put it in a file of mode 0600 "
                            "and name it with password_file");
}

void read_client_id(Reader& r, std::string& id) {
  if (!r.has("client_id")) return;
  id = r.required("client_id");
  if (id.size() > 23 || !valid_name(id))
    throw DaemonConfigError(r.where("client_id") + " = '" + id + "' must be 1-23 letters, digits, '-', '_' or '.'");
}

// The cross-checks of those keys.
void check_broker_keys(Reader& r, const std::filesystem::path& password_file, const std::string& user,
                       const std::filesystem::path& tls_ca_file, bool tls, std::vector<std::string>& problems) {
  if (!password_file.empty() && user.empty())
    problems.push_back(r.where("password_file") + " needs 'user': a password goes with a user name");
  if (!tls_ca_file.empty() && !tls) problems.push_back(r.where("tls_ca_file") + " is used only with tls = true");
}

// [fleet]: every key is read before any is refused, like [mqtt].
void parse_fleet(FleetConfig& f, Reader& r, const std::function<std::filesystem::path(const std::string&)>& absolute) {
  std::vector<std::string> problems;
  auto attempt = [&](const std::function<void()>& read) {
    try {
      read();
    } catch (const DaemonConfigError& e) {
      problems.insert(problems.end(), e.problems().begin(), e.problems().end());
    }
  };
  bool has_witness_key = false;
  attempt([&] { f.enabled = r.boolean("enabled", false); });
  attempt([&] { read_broker_host(r, f.host); });
  attempt([&] { f.tls = r.boolean("tls", false); });
  attempt([&] { f.port = static_cast<uint16_t>(r.integer("port", f.tls ? 8883 : 1883, 1, 65535)); });
  attempt([&] { read_broker_user(r, f.user); });
  attempt([&] { refuse_password_key(r); });
  attempt([&] {
    if (r.has("password_file")) f.password_file = absolute(r.required("password_file"));
  });
  attempt([&] {
    if (r.has("tls_ca_file")) f.tls_ca_file = absolute(r.required("tls_ca_file"));
  });
  attempt([&] {
    if (!r.has("hub_id")) return;
    f.hub_id = r.required("hub_id");
    if (const std::string problem = fleet::hub_id_problem(f.hub_id); !problem.empty())
      throw DaemonConfigError(r.where("hub_id") + " = '" + f.hub_id + "' " + problem);
  });
  attempt([&] {
    if (!r.has("witness_key")) return;
    f.witness_key = r.key("witness_key");
    has_witness_key = true;
  });
  attempt([&] { f.witness_timeout_ms = r.integer("witness_timeout_ms", f.witness_timeout_ms, 100, 600'000); });
  attempt([&] { read_client_id(r, f.client_id); });
  attempt([&] { f.keepalive_s = r.integer("keepalive_s", f.keepalive_s, 5, 1200); });
  // The outbox (docs/fleet.md).
  attempt([&] { f.outbox_max_rows = r.integer("outbox_max_rows", f.outbox_max_rows, 10, 10'000'000); });
  // The bridge (docs/fleet.md, "The bridge"): via and the hub broker's local_* keys.
  attempt([&] {
    if (!r.has("via")) return;
    const std::string via = r.required("via");
    if (via == "direct") f.via = FleetConfig::Via::kDirect;
    else if (via == "bridge") f.via = FleetConfig::Via::kBridge;
    else throw DaemonConfigError(r.where("via") + " = '" + via + "' must be 'direct' or 'bridge'");
  });
  const bool bridge = f.via == FleetConfig::Via::kBridge;
  for (const char* key : {"local_host", "local_port", "local_user", "local_password_file"})
    if (!bridge && r.has(key))
      problems.push_back(r.where(key) + " is used only with via = bridge (the hub's own broker)");
  attempt([&] {
    if (!r.has("local_host")) return;
    f.local_host = r.required("local_host");
    if (!valid_host(f.local_host))
      throw DaemonConfigError(r.where("local_host") + " = '" + f.local_host +
                              "' is not a host name or literal address (letters, digits, '.', '-', ':')");
  });
  attempt([&] { f.local_port = static_cast<uint16_t>(r.integer("local_port", 1883, 1, 65535)); });
  attempt([&] {
    if (!r.has("local_user")) return;
    f.local_user = r.required("local_user");
    for (char ch : f.local_user)
      if (static_cast<unsigned char>(ch) < 0x21 || static_cast<unsigned char>(ch) > 0x7e)
        throw DaemonConfigError(r.where("local_user") + " must be printable ASCII without spaces");
  });
  attempt([&] {
    if (r.has("local_password_file")) f.local_password_file = absolute(r.required("local_password_file"));
  });
  if (bridge) {
    if (!f.local_password_file.empty() && f.local_user.empty())
      problems.push_back(r.where("local_password_file") + " needs 'local_user': a password goes with a user name");
    // Mosquitto's bridge `address host:port` cannot carry an IPv6 literal.
    if (f.host.find(':') != std::string::npos)
      problems.push_back(r.where("host") + " = '" + f.host +
                         "': with via = bridge the fleet broker is named by a host name or an IPv4 address "
                         "(Mosquitto's bridge address cannot hold an IPv6 literal)");
  }
  if (f.enabled && f.host.empty()) problems.push_back("configuration: [fleet] enabled = true needs 'host'");
  if (f.enabled && !has_witness_key)
    problems.push_back("configuration: [fleet] enabled = true needs 'witness_key' (the witness's public key, "
                       "lk-witness --print-key)");
  check_broker_keys(r, f.password_file, f.user, f.tls_ca_file, f.tls, problems);
  if (!problems.empty()) throw DaemonConfigError(std::move(problems));
}

// [mqtt]: every key is read before any is refused, so one run names every problem.
void parse_mqtt(MqttConfig& m, Reader& r, const std::function<std::filesystem::path(const std::string&)>& absolute) {
  std::vector<std::string> problems;
  auto attempt = [&](const std::function<void()>& read) {
    try {
      read();
    } catch (const DaemonConfigError& e) {
      problems.insert(problems.end(), e.problems().begin(), e.problems().end());
    }
  };
  attempt([&] { m.enabled = r.boolean("enabled", false); });
  attempt([&] { read_broker_host(r, m.host); });
  attempt([&] { m.port = static_cast<uint16_t>(r.integer("port", m.port, 1, 65535)); });
  attempt([&] { read_broker_user(r, m.user); });
  attempt([&] { refuse_password_key(r); });
  attempt([&] {
    if (r.has("password_file")) m.password_file = absolute(r.required("password_file"));
  });
  attempt([&] { m.tls = r.boolean("tls", false); });
  attempt([&] {
    if (r.has("tls_ca_file")) m.tls_ca_file = absolute(r.required("tls_ca_file"));
  });
  attempt([&] {
    m.discovery_prefix = r.text("discovery_prefix", m.discovery_prefix);
    if (const std::string problem = mqtt_prefix_problem(m.discovery_prefix); !problem.empty())
      throw DaemonConfigError(r.where("discovery_prefix") + " = '" + m.discovery_prefix + "': " + problem);
  });
  attempt([&] {
    if (!r.has("topic_prefix")) return;
    m.topic_prefix = r.text("topic_prefix");
    if (const std::string problem = mqtt_prefix_problem(m.topic_prefix); !problem.empty())
      throw DaemonConfigError(r.where("topic_prefix") + " = '" + m.topic_prefix + "': " + problem);
  });
  attempt([&] { read_client_id(r, m.client_id); });
  attempt([&] { m.keepalive_s = r.integer("keepalive_s", m.keepalive_s, 5, 600); });
  // Cross-checks within the section.
  if (m.enabled && m.host.empty()) problems.push_back("configuration: [mqtt] enabled = true needs 'host'");
  check_broker_keys(r, m.password_file, m.user, m.tls_ca_file, m.tls, problems);
  if (!m.topic_prefix.empty() && !m.discovery_prefix.empty() &&
      (m.topic_prefix == m.discovery_prefix || m.topic_prefix.rfind(m.discovery_prefix + "/", 0) == 0))
    problems.push_back(r.where("topic_prefix") + " = '" + m.topic_prefix + "' must not lie under discovery_prefix '" +
                       m.discovery_prefix + "'");
  attempt([&] { r.finish(); });
  if (!problems.empty()) throw DaemonConfigError(problems);
}

// One section into `c`; throws DaemonConfigError at its first problem.
void parse_section(DaemonConfig& c, const std::string& name, const Section& keys, Reader& r,
                   const std::function<std::filesystem::path(const std::string&)>& absolute) {
  const auto dot = name.find('.');
  const std::string kind = dot == std::string::npos ? name : name.substr(0, dot);
  const std::string id = dot == std::string::npos ? std::string() : name.substr(dot + 1);
  if (dot != std::string::npos && !valid_name(id))
    throw DaemonConfigError("section [" + name + "]: '" + id + "' must be 1-63 letters, digits, '-', '_' or '.'");
  if (name == "hub") {
    // Every key is read before any is refused, so that one run names every problem.
    std::vector<std::string> problems;
    auto attempt = [&](const std::function<void()>& read) {
      try {
        read();
      } catch (const DaemonConfigError& e) {
        problems.insert(problems.end(), e.problems().begin(), e.problems().end());
      }
    };
    attempt([&] {
      c.hub_id = r.required("id");
      if (!valid_name(c.hub_id)) throw DaemonConfigError(r.where("id") + " must be 1-63 letters, digits, '-', '_' or '.'");
    });
    attempt([&] { c.data_dir = absolute(r.required("data_dir")); });
    attempt([&] {
      c.api_address = r.text("api_address", c.api_address);
      if (const std::string problem = api_address_problem(c.api_address); !problem.empty())
        throw DaemonConfigError(r.where("api_address") + " = '" + c.api_address + "': " + problem);
    });
    attempt([&] {
      if (r.has("plugin_dir")) c.plugin_dir = absolute(r.required("plugin_dir"));
    });
    attempt([&] { c.test_control = r.boolean("test_control", false); });
    attempt([&] {
      const std::string clock = r.text("clock_synced", "ntp");
      if (clock != "ntp" && clock != "trust")
        throw DaemonConfigError(r.where("clock_synced") + " = '" + clock + "' must be ntp or trust");
      c.trust_clock = clock == "trust";
    });
    attempt([&] { c.checkpoint_interval_ms = r.integer("checkpoint_interval_ms", 60'000, 1'000, 60'000); });
    attempt([&] {
      if (r.has("log_file")) c.log_file = absolute(r.required("log_file"));
    });
    attempt([&] {
      const std::string level = r.text("log_level", "info");
      const std::optional<LogLevel> parsed = parse_log_level(level);
      if (!parsed)
        throw DaemonConfigError(r.where("log_level") + " = '" + level + "' must be debug, info, warning or error");
      c.log_level = *parsed;
    });
    attempt([&] { r.finish(); });
    if (!problems.empty()) throw DaemonConfigError(problems);
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
      // C8: set at enrolment, per camera; the units are those of the
      // attestation's SceneMeasurements (docs/latchkeyd.md).
      gate::SceneLimits& s = d.scene;
      s.required = r.boolean("scene_required", s.required);
      s.min_luminance = static_cast<uint32_t>(r.integer("scene_min_luminance", s.min_luminance, 0, 255'000));
      s.max_luminance = static_cast<uint32_t>(r.integer("scene_max_luminance", s.max_luminance, 0, 255'000));
      s.min_sharpness = static_cast<uint32_t>(r.integer("scene_min_sharpness", s.min_sharpness, 0, 1'020'000));
      s.min_similarity = static_cast<uint32_t>(r.integer("scene_min_similarity", s.min_similarity, 0, 1'000));
      try {
        s.validate();
      } catch (const std::invalid_argument& e) {
        throw DaemonConfigError("[camera." + id + "]: " + e.what());
      }
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
  } else if (name == "mqtt") {
    parse_mqtt(c.mqtt, r, absolute);
  } else if (name == "fleet") {
    parse_fleet(c.fleet, r, absolute);
  } else {
    throw DaemonConfigError("unknown section [" + name + "]");
  }
  r.finish();
}

}  // namespace

DaemonConfig DaemonConfig::parse(const std::string& text, const std::filesystem::path& base_dir,
                                 std::vector<std::string>& problems) {
  // Each problem is noted and parsing goes on, so that one run names them all.
  auto note = [&](const std::string& problem) { problems.push_back(problem); };
  // Read the sections, keeping line numbers for messages.
  std::map<std::string, Section> sections;
  std::vector<std::string> order;
  std::string current;
  bool skipping = false;  // inside a section whose header was refused
  std::stringstream in(text);
  std::string raw;
  int number = 0;
  while (std::getline(in, raw)) {
    ++number;
    const std::string at = "line " + std::to_string(number) + ": ";
    // Comments: a line starting with '#' or ';', or " #" to the end of a line
    // (';' inside values separates the authorization plugin's lines).
    std::string line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (const auto hash = line.find(" #"); hash != std::string::npos) line = trim(line.substr(0, hash));
    if (line.front() == '[') {
      skipping = true;
      if (line.back() != ']') {
        note(at + "a section header ends with ']'");
        continue;
      }
      current = trim(line.substr(1, line.size() - 2));
      if (sections.count(current)) {
        note(at + "section [" + current + "] appears twice");
        continue;
      }
      skipping = false;
      sections[current];
      order.push_back(current);
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) {
      note(at + "expected 'key = value'");
    } else if (current.empty()) {
      note(at + "a key before any [section]");
    } else if (!skipping) {
      const std::string key = trim(line.substr(0, eq));
      if (sections[current].count(key)) note(at + "key '" + key + "' appears twice in [" + current + "]");
      else sections[current][key] = Line{number, trim(line.substr(eq + 1))};
    }
  }

  DaemonConfig c;
  auto absolute = [&](const std::string& p) {
    const std::filesystem::path path(p);
    return path.is_absolute() ? path : base_dir / path;
  };
  for (const std::string& name : order) {
    const Section& keys = sections[name];
    Reader r(name, keys);
    try {
      parse_section(c, name, keys, r, absolute);
    } catch (const DaemonConfigError& e) {
      for (const std::string& problem : e.problems()) note(problem);
    }
  }

  // Cross-checks.
  if (c.hub_id.empty() && !sections.count("hub")) note("configuration: the [hub] section with id and data_dir is required");
  try {
    c.gate.validate();
  } catch (const gate::ConfigError& e) {
    note(std::string("[gate] ") + e.what());
  }
  auto check_plugin = [&](const std::string& what, const std::string& plugin) {
    if (!c.plugins.count(plugin)) note(what + " names plugin '" + plugin + "', which has no [plugin." + plugin + "] section");
  };
  for (const auto& [n, d] : c.locks) check_plugin("[lock." + n + "]", d.plugin);
  for (const auto& [n, d] : c.cameras) check_plugin("[camera." + n + "]", d.plugin);
  if (!c.authz_plugin.empty()) check_plugin("[authz]", c.authz_plugin);
  if (c.doors.empty()) note("configuration: at least one [door.<name>] is required");
  // [mqtt] defaults that depend on the hub's id, whichever section came first.
  if (c.mqtt.topic_prefix.empty() && !c.hub_id.empty()) c.mqtt.topic_prefix = "latchkey/" + c.hub_id;
  if (c.mqtt.client_id.empty() && !c.hub_id.empty()) c.mqtt.client_id = "latchkey-" + c.hub_id.substr(0, 14);
  // [fleet] defaults from the hub's id; the fleet's topics need it to be a plain topic level.
  if (c.fleet.hub_id.empty()) c.fleet.hub_id = c.hub_id;
  if (c.fleet.client_id.empty() && !c.fleet.hub_id.empty()) c.fleet.client_id = "lkf-" + c.fleet.hub_id.substr(0, 19);
  if (c.fleet.enabled && !c.fleet.hub_id.empty())
    if (const std::string problem = fleet::hub_id_problem(c.fleet.hub_id); !problem.empty())
      note("[fleet] the hub id '" + c.fleet.hub_id + "' " + problem + " (set [fleet] hub_id)");
  // The camera link's topics (docs/camera-link.md) are the broker guard's and the cameras'.
  for (const char* reserved : {"latchkey/camera", "latchkey/broker"})
    if (c.mqtt.enabled && (c.mqtt.topic_prefix == reserved || c.mqtt.topic_prefix.rfind(std::string(reserved) + "/", 0) == 0))
      note("[mqtt] topic_prefix '" + c.mqtt.topic_prefix + "' lies under " + reserved +
           ", the camera link's topics (docs/camera-link.md); set another topic_prefix");
  std::set<std::string> locks_used;
  std::map<std::string, std::string> camera_door;
  for (const auto& [n, d] : c.doors) {
    if (!c.locks.count(d.lock)) note("[door." + n + "] lock '" + d.lock + "' has no [lock." + d.lock + "] section");
    if (!locks_used.insert(d.lock).second) note("[door." + n + "] lock '" + d.lock + "' is already used by another door");
    if (d.cameras.empty()) note("[door." + n + "] binds no camera (U1 needs at least one)");
    for (const auto& cam : d.cameras) {
      if (!c.cameras.count(cam)) note("[door." + n + "] camera '" + cam + "' has no [camera." + cam + "] section");
      // One door per camera: a camera records one session at a time (U2).
      auto [it, fresh] = camera_door.emplace(cam, n);
      if (!fresh)
        note("[door." + n + "] camera '" + cam + "' is already bound to door '" + it->second +
             (it->second == n ? "' (listed twice)" : "'; a camera serves one door"));
    }
  }
  return c;
}

DaemonConfig DaemonConfig::parse(const std::string& text, const std::filesystem::path& base_dir) {
  std::vector<std::string> problems;
  DaemonConfig c = parse(text, base_dir, problems);
  if (!problems.empty()) throw DaemonConfigError(problems);
  return c;
}

DaemonConfig DaemonConfig::load(const std::filesystem::path& file, std::vector<std::string>& problems) {
  std::ifstream in(file);
  if (!in) {
    problems.push_back("cannot read configuration file " + file.string());
    return {};
  }
  std::stringstream text;
  text << in.rdbuf();
  std::vector<std::string> found;
  DaemonConfig c = parse(text.str(), std::filesystem::absolute(file).parent_path(), found);
  for (const std::string& problem : found) problems.push_back(file.string() + ": " + problem);
  return c;
}

DaemonConfig DaemonConfig::load(const std::filesystem::path& file) {
  std::vector<std::string> problems;
  DaemonConfig c = load(file, problems);
  if (!problems.empty()) throw DaemonConfigError(problems);
  return c;
}

namespace {

std::string join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += (text.empty() ? "" : "\n") + line;
  return text;
}

// The host part of an address that api_address_problem() accepted, without brackets.
std::string address_host(const std::string& address) {
  const std::string host = address.substr(0, address.rfind(':'));
  return host.front() == '[' ? host.substr(1, host.size() - 2) : host;
}

}  // namespace

DaemonConfigError::DaemonConfigError(const std::string& problem) : DaemonConfigError(std::vector{problem}) {}

DaemonConfigError::DaemonConfigError(std::vector<std::string> problems)
    : std::runtime_error(join_lines(problems)), problems_(std::move(problems)) {}

std::string api_address_problem(const std::string& address) {
  const char* expected = "expected host:port with host a literal IPv4 address (127.0.0.1) or a bracketed IPv6 "
                         "address ([::1]) and port 0-65535 (0: any free port)";
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::string("no port; ") + expected;
  const std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535)
    return "port '" + port + "' is not a number 0-65535";
  unsigned char bytes[16];
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']' ||
        ::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), bytes) != 1)
      return "'" + host + "' is not a bracketed IPv6 address; " + expected;
  } else if (::inet_pton(AF_INET, host.c_str(), bytes) != 1) {
    return "'" + host + "' is not a literal IPv4 address" +
           (host.find(':') != std::string::npos ? " (an IPv6 address goes in brackets)" : "") + "; " + expected;
  }
  return {};
}

std::string mqtt_prefix_problem(const std::string& topic) {
  if (topic.empty()) return "must not be empty";
  if (topic.size() > 128) return "is longer than 128 bytes";
  if (topic.front() == '/' || topic.back() == '/') return "must not begin or end with '/'";
  if (topic.front() == '$') return "must not begin with '$' (the broker's own topics)";
  if (topic.find("//") != std::string::npos) return "has an empty level ('//')";
  for (char ch : topic) {
    if (ch == '+' || ch == '#') return "must not hold the wildcards '+' or '#'";
    if (static_cast<unsigned char>(ch) < 0x21 || static_cast<unsigned char>(ch) > 0x7e)
      return "must be printable ASCII without spaces";
  }
  return {};
}

std::string api_address_warning(const std::string& address) {
  const std::string host = address_host(address);
  bool any = false;
  bool loopback = false;
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    any = v4.s_addr == htonl(INADDR_ANY);
    loopback = (ntohl(v4.s_addr) >> 24) == 127;
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    any = IN6_IS_ADDR_UNSPECIFIED(&v6);
    loopback = IN6_IS_ADDR_LOOPBACK(&v6);
  }
  if (any)
    return "api_address " + address +
           " listens on every network interface: the API is reachable from the network, not just this machine";
  if (!loopback) return "api_address " + address + " is not a loopback address: the API is reachable from the network";
  return {};
}

std::filesystem::path DaemonConfig::plugin_path(const std::string& plugin_name) const {
  const std::filesystem::path file = plugins.at(plugin_name).file;
  if (file.is_absolute() || plugin_dir.empty()) return file;
  return plugin_dir / file;
}

}  // namespace latchkey::hub
