#include <latchkey/gate/config.hpp>

#include <charconv>
#include <stdexcept>
#include <string>

namespace latchkey::gate {

const std::vector<GateConfig::Bound>& GateConfig::bounds() {
  // Bounds from docs/rules.md where it states them; otherwise Latchkey's own, noted here.
  static const std::vector<Bound> table = {
      {"grant_skew_ms", &GateConfig::grant_skew_ms, 0, 300'000, Rule::G1},
      {"challenge_ttl_ms", &GateConfig::challenge_ttl_ms, 5'000, 120'000, Rule::G2},
      {"nonce_period_ms", &GateConfig::nonce_period_ms, 50, 1'000, Rule::C2},
      {"live_timeout_ms", &GateConfig::live_timeout_ms, 200, 5'000, Rule::C4},
      {"freeze_window_ms", &GateConfig::freeze_window_ms, 1'000, 10'000, Rule::C5},
      {"loop_window_ms", &GateConfig::loop_window_ms, 10'000, 600'000, Rule::C7},
      {"tamper_window_ms", &GateConfig::tamper_window_ms, 1'000, 10'000, Rule::C8},
      {"health_timeout_ms", &GateConfig::health_timeout_ms, 1'000, 600'000, Rule::C6},        // Latchkey's bounds
      {"relock_deadline_ms", &GateConfig::relock_deadline_ms, 5'000, 300'000, Rule::U4},
      {"session_max_ms", &GateConfig::session_max_ms, 30'000, 1'800'000, Rule::U7},
      {"recording_ack_timeout_ms", &GateConfig::recording_ack_timeout_ms, 500, 10'000, Rule::U2},  // Latchkey's
      {"lock_command_timeout_ms", &GateConfig::lock_command_timeout_ms, 1'000, 30'000, Rule::F1},   // Latchkey's
  };
  return table;
}

namespace {

std::string bound_message(const GateConfig::Bound& b, const std::string& value) {
  return "configuration key '" + std::string(b.key) + "' = " + value + " is out of bounds [" + std::to_string(b.min) +
         ", " + std::to_string(b.max) + "] (" + std::string(name(b.rule)) + ")";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

void SceneLimits::validate() const {
  const auto check = [](const char* name, uint32_t value, uint32_t max) {
    if (value > max)
      throw std::invalid_argument(std::string("scene limit ") + name + " = " + std::to_string(value) +
                                  " is out of bounds [0, " + std::to_string(max) + "] (C8)");
  };
  check("min_luminance", min_luminance, 255'000);
  check("max_luminance", max_luminance, 255'000);
  check("min_sharpness", min_sharpness, 1'020'000);
  check("min_similarity", min_similarity, 1'000);
  if (min_luminance >= max_luminance)
    throw std::invalid_argument("scene limit min_luminance = " + std::to_string(min_luminance) +
                                " must be below max_luminance = " + std::to_string(max_luminance) + " (C8)");
}

void GateConfig::validate() const {
  for (const Bound& b : bounds()) {
    const int64_t v = this->*b.field;
    if (v < b.min || v > b.max) throw ConfigError(bound_message(b, std::to_string(v)));
  }
}

void GateConfig::set(std::string_view key, std::string_view value) {
  for (const Bound& b : bounds()) {
    if (b.key != key) continue;
    int64_t parsed = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (ec != std::errc() || end != value.data() + value.size())
      throw ConfigError("configuration key '" + std::string(key) + "': '" + std::string(value) +
                        "' is not an integer");
    if (parsed < b.min || parsed > b.max) throw ConfigError(bound_message(b, std::string(value)));
    this->*b.field = parsed;
    return;
  }
  throw ConfigError("unknown configuration key '" + std::string(key) + "'");
}

GateConfig GateConfig::parse(std::string_view text) {
  GateConfig config;
  int line_number = 0;
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    ++line_number;
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos)
      throw ConfigError("configuration line " + std::to_string(line_number) + ": expected 'key = value'");
    try {
      config.set(trim(line.substr(0, eq)), trim(line.substr(eq + 1)));
    } catch (const ConfigError& e) {
      throw ConfigError("configuration line " + std::to_string(line_number) + ": " + e.what());
    }
  }
  config.validate();
  return config;
}

std::map<std::string, int64_t> GateConfig::to_map() const {
  std::map<std::string, int64_t> out;
  for (const Bound& b : bounds()) out.emplace(std::string(b.key), this->*b.field);
  return out;
}

}  // namespace latchkey::gate
