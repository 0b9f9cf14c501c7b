// Fuzzes the HTTP request-target decoder (hal_reference/daemon/http/
// request_target.cpp): the path and query of every request to latchkeyd,
// and the id and number checks the endpoints apply to what it returns.
//
// Input: the request target as sent.
// Properties: a parsed target keeps its path, splits it into one segment per
// '/', and no decoded segment or query part holds a NUL; parse_decimal_u64
// agrees with std::from_chars on every digit string of up to 20 characters;
// a valid device id is 1-63 printable characters without '/' or space.
#include "request_target.hpp"

#include "support/fixed_world.hpp"

#include <charconv>

using namespace latchkey::hub::http;

namespace {

void check_number(const std::string& text) {
  const std::optional<uint64_t> parsed = parse_decimal_u64(text);
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  uint64_t reference = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), reference);
  const bool reference_ok = digits && ec == std::errc() && end == text.data() + text.size();
  // More than 20 characters are refused outright, even zeros in front of a small number.
  if (parsed) LK_FUZZ_CHECK(reference_ok, "parse_decimal_u64 accepts what from_chars refuses");
  if (reference_ok && text.size() <= 20) LK_FUZZ_CHECK(parsed.has_value(), "parse_decimal_u64 refuses a u64");
  if (parsed) LK_FUZZ_CHECK(*parsed == reference, "parse_decimal_u64 disagrees with from_chars on the value");
}

void check_id(const std::string& id) {
  bool expected = !id.empty() && id.size() <= 63;
  for (char c : id) expected = expected && c > ' ' && c <= '~' && c != '/';
  LK_FUZZ_CHECK(is_valid_device_id(id) == expected, "is_valid_device_id disagrees with its rule");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  std::string error;
  const std::optional<RequestTarget> target = parse_request_target(raw, error);
  if (!target) {
    LK_FUZZ_CHECK(!error.empty(), "a refused target without a reason");
    return 0;
  }
  LK_FUZZ_CHECK(!target->path.empty() && target->path.front() == '/', "a parsed path that is not absolute");
  LK_FUZZ_CHECK(raw.substr(0, target->path.size()) == target->path, "the path is not the target's prefix");
  const auto slashes = static_cast<std::size_t>(std::count(target->path.begin(), target->path.end(), '/'));
  LK_FUZZ_CHECK(target->segments.size() == slashes, "not one segment per '/'");
  for (const std::string& segment : target->segments) {
    LK_FUZZ_CHECK(segment.find('\0') == std::string::npos, "a NUL in a decoded segment");
    check_id(segment);
    check_number(segment);
  }
  for (const auto& [name, value] : target->query) {
    LK_FUZZ_CHECK(name.find('\0') == std::string::npos && value.find('\0') == std::string::npos,
                  "a NUL in a decoded query");
    check_number(value);
    LK_FUZZ_CHECK(query_value(*target, name).has_value(), "a parsed query name that query_value cannot find");
  }
  // The endpoints' checks (endpoints.cpp): none, one or two allowed names.
  for (const std::vector<std::string_view>& allowed :
       {std::vector<std::string_view>{}, {"since"}, {"from", "limit"}}) {
    std::string why;
    if (!check_query_names(*target, allowed, why)) LK_FUZZ_CHECK(!why.empty(), "a refused query without a reason");
  }
  return 0;
}
