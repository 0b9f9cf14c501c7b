#include "request_target.hpp"

#include <limits>

namespace latchkey::hub::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes one component; '+' stays '+' (this is not a form body).
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') return false;
    out.push_back(c);
  }
  return true;
}

}  // namespace

std::optional<RequestTarget> parse_request_target(std::string_view target, std::string& error) {
  if (target.empty() || target.front() != '/') {
    error = "request target must be an absolute path";
    return std::nullopt;
  }
  RequestTarget result;
  std::string_view path = target;
  std::string_view query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  if (auto hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);
  result.path = std::string(path);

  // Split before decoding, so "%2F" inside an id stays inside that segment.
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string segment;
    if (!percent_decode(path.substr(start, end - start), segment)) {
      error = "bad percent escape in path";
      return std::nullopt;
    }
    result.segments.push_back(std::move(segment));
    start = end + 1;
  }

  std::size_t qstart = 0;
  while (qstart < query.size()) {
    std::size_t end = query.find('&', qstart);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(qstart, end - qstart);
    qstart = end + 1;
    if (pair.empty()) continue;
    std::string_view name = pair;
    std::string_view value;
    if (auto eq = pair.find('='); eq != std::string_view::npos) {
      name = pair.substr(0, eq);
      value = pair.substr(eq + 1);
    }
    std::string dname;
    std::string dvalue;
    if (!percent_decode(name, dname) || !percent_decode(value, dvalue)) {
      error = "bad percent escape in query";
      return std::nullopt;
    }
    result.query.emplace_back(std::move(dname), std::move(dvalue));
  }
  return result;
}

bool is_valid_device_id(std::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  for (char c : id) {
    // Printable ASCII without space; '/' would change the path's meaning.
    if (c < '!' || c > '~' || c == '/') return false;
  }
  return true;
}

std::optional<uint64_t> parse_decimal_u64(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    auto digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

bool check_query_names(const RequestTarget& target, const std::vector<std::string_view>& allowed,
                       std::string& error) {
  std::vector<std::string_view> seen;
  for (const auto& [name, value] : target.query) {
    bool known = false;
    for (auto a : allowed) known = known || a == name;
    if (!known) {
      error = "unknown query parameter '" + name + "'";
      return false;
    }
    for (auto s : seen) {
      if (s == name) {
        error = "query parameter '" + name + "' given twice";
        return false;
      }
    }
    seen.push_back(name);
  }
  return true;
}

std::optional<std::string> query_value(const RequestTarget& target, std::string_view name) {
  for (const auto& [n, v] : target.query) {
    if (n == name) return v;
  }
  return std::nullopt;
}

}  // namespace latchkey::hub::http
