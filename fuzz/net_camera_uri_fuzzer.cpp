// Fuzzes NetCameraUri::parse (plugins/net_camera/net_camera_uri.cpp), the
// net_camera plugin's device URI. It comes from the hub's configuration file,
// and lkctl enrol prints camera lines people paste into it: whoever writes
// that file, or what a camera announces, chooses it.
//
// Input: the URI, up to its first NUL (it arrives as a C string).
// Properties: a refusal is plugin::Error(LK_ERR_INVALID_ARGUMENT) whose
// message names the URI and a problem; no other exception escapes. An
// accepted URI keeps every documented bound (printable ASCII, a host, port
// 1-65535, camera id 1-63 of [A-Za-z0-9._-], a user of the same set, a
// password_file, tls_ca_file only with mqtts://, period_ms 10-10000,
// hello_timeout_ms 0-5000, a key only from 64 hex digits), and written out
// again in canonical form it parses to the same fields.
#include "net_camera_uri.hpp"

#include "support/fuzz_input.hpp"

#include <latchkey/cpp/plugin.hpp>

#include <cctype>

using latchkey::net_camera::NetCameraUri;

namespace {

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

bool all_id_chars(const std::string& s) { return std::all_of(s.begin(), s.end(), id_char); }

std::string hex(const std::array<uint8_t, 32>& key) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : key) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xF]);
  }
  return out;
}

// The URI as the parser would print it, were it to print one.
std::string canonical(const NetCameraUri& u) {
  std::string out = u.tls ? "mqtts://" : "mqtt://";
  out += all_id_chars(u.host) ? u.host : "[" + u.host + "]";
  out += ":" + std::to_string(u.port) + "/" + u.camera_id + "?password_file=" + u.password_file + "&user=" + u.user;
  if (!u.tls_ca_file.empty()) out += "&tls_ca_file=" + u.tls_ca_file;
  if (u.period_ms) out += "&period_ms=" + std::to_string(*u.period_ms);
  if (u.key) out += "&key=" + hex(*u.key);
  out += "&hello_timeout_ms=" + std::to_string(u.hello_timeout_ms);
  return out;
}

bool same_fields(const NetCameraUri& a, const NetCameraUri& b) {
  return a.tls == b.tls && a.host == b.host && a.port == b.port && a.camera_id == b.camera_id && a.user == b.user &&
         a.password_file == b.password_file && a.tls_ca_file == b.tls_ca_file && a.period_ms == b.period_ms &&
         a.key == b.key && a.hello_timeout_ms == b.hello_timeout_ms;
}

void check_accepted(std::string_view raw, const NetCameraUri& u) {
  LK_FUZZ_CHECK(u.uri == raw, "the URI kept for messages differs from the one given");
  for (char c : raw) LK_FUZZ_CHECK(c > 0x20 && c < 0x7f, "accepted a URI with a space, control or non-ASCII byte");
  LK_FUZZ_CHECK(raw.substr(0, u.tls ? 8 : 7) == (u.tls ? "mqtts://" : "mqtt://"), "tls disagrees with the scheme");
  LK_FUZZ_CHECK(!u.host.empty(), "accepted without a host");
  for (char c : u.host)
    LK_FUZZ_CHECK(id_char(c) || c == ':', "a host character outside letters, digits, . _ - (and : in [IPv6])");
  LK_FUZZ_CHECK(u.port >= 1, "accepted port 0");
  LK_FUZZ_CHECK(!u.camera_id.empty() && u.camera_id.size() <= 63 && all_id_chars(u.camera_id),
                "accepted a camera id outside 1-63 of [A-Za-z0-9._-]");
  LK_FUZZ_CHECK(!u.user.empty() && all_id_chars(u.user), "accepted a user outside [A-Za-z0-9._-]");
  LK_FUZZ_CHECK(!u.password_file.empty(), "accepted without a password_file");
  LK_FUZZ_CHECK(u.tls || u.tls_ca_file.empty(), "tls_ca_file accepted with mqtt://");
  if (u.period_ms) LK_FUZZ_CHECK(*u.period_ms >= 10 && *u.period_ms <= 10000, "period_ms outside 10-10000");
  LK_FUZZ_CHECK(u.hello_timeout_ms <= 5000, "hello_timeout_ms over 5000");
  if (u.key) {
    // The key's digits are in the URI, in either case.
    std::string lower(raw);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    LK_FUZZ_CHECK(lower.find("key=" + hex(*u.key)) != std::string::npos, "a pinned key that is not the URI's digits");
  }
  for (const std::string* value : {&u.password_file, &u.tls_ca_file})
    LK_FUZZ_CHECK(value->find_first_of("&=#%?") == std::string::npos, "a path holding & = # % or ?");

  const std::string again = canonical(u);
  try {
    const NetCameraUri reparsed = NetCameraUri::parse(again);
    LK_FUZZ_CHECK(same_fields(u, reparsed), "the canonical form parses to other fields");
  } catch (const latchkey::plugin::Error& e) {
    std::fprintf(stderr, "canonical form %s refused: %s\n", again.c_str(), e.what());
    LK_FUZZ_CHECK(false, "the canonical form of an accepted URI is refused");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  // The plugin gets its URI through the C ABI (lk_plugin.h), a NUL-terminated
  // string: it never holds a NUL, so the input ends at the first one.
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  raw = raw.substr(0, raw.find('\0'));
  try {
    const NetCameraUri u = NetCameraUri::parse(raw);
    if (latchkey::fuzz::tracing()) std::fprintf(stderr, "net_camera_uri: accepted: %s\n", canonical(u).c_str());
    check_accepted(raw, u);
  } catch (const latchkey::plugin::Error& e) {
    if (latchkey::fuzz::tracing()) std::fprintf(stderr, "net_camera_uri: refused: %s\n", e.what());
    LK_FUZZ_CHECK(e.code() == LK_ERR_INVALID_ARGUMENT, "a refusal with another code than LK_ERR_INVALID_ARGUMENT");
    const std::string prefix = "device URI '" + std::string(raw) + "': ";
    const std::string message = e.what();
    LK_FUZZ_CHECK(message.size() > prefix.size() && message.compare(0, prefix.size(), prefix) == 0,
                  "a refusal that does not name the URI and a problem");
  }
  return 0;
}
