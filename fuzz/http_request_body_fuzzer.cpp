// Fuzzes the HTTP request-body decoders (hal_reference/daemon/http/
// request_body.cpp) as the endpoints use them: a JSON object with known
// member names, a string or integer member, and hex into bytes. The body
// comes from anyone who can reach the API port.
//
// Input: one byte choosing the endpoint's field set, then the body.
// Properties: a refusal names what was wrong; an accepted object holds only
// allowed members; decoded hex has the allowed size and encodes back to the
// same digits (ignoring case).
#include "request_body.hpp"

#include "support/fixed_world.hpp"

#include <latchkey/crypto/crypto.hpp>

#include <cctype>

using namespace latchkey::hub::http;

namespace {

// The field sets of endpoints.cpp: challenge, unlock, door action, camera fault.
const std::vector<std::vector<std::string_view>>& field_sets() {
  static const std::vector<std::vector<std::string_view>> sets = {
      {}, {"request"}, {"action"}, {"fault", "parameter"}};
  return sets;
}

void check_hex(const std::string& name, const std::string& text) {
  std::vector<uint8_t> bytes;
  std::string error;
  constexpr std::size_t kMin = 64, kMax = 8192;  // endpoints.hpp, the unlock request
  if (!decode_hex_field(name, text, kMin, kMax, bytes, error)) {
    LK_FUZZ_CHECK(!error.empty(), "refused hex without a reason");
    return;
  }
  LK_FUZZ_CHECK(bytes.size() >= kMin && bytes.size() <= kMax, "decoded hex outside its size bounds");
  std::string lower = text;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  LK_FUZZ_CHECK(latchkey::crypto::to_hex(bytes) == lower, "decoded hex does not encode back to its digits");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  latchkey::fuzz::InputCursor in(data, size);
  const auto& allowed = field_sets()[in.byte() % field_sets().size()];
  const std::string body = in.rest();
  std::string error;
  Poco::JSON::Object::Ptr object = parse_json_object(body, allowed, error);
  if (object.isNull()) {
    LK_FUZZ_CHECK(!error.empty(), "a refused body without a reason");
    return 0;
  }
  for (const auto& member : *object)
    LK_FUZZ_CHECK(std::find(allowed.begin(), allowed.end(), member.first) != allowed.end(), "an unknown member passed");
  for (std::string_view field : allowed) {
    const std::string name(field);
    std::string text;
    std::string why;
    if (get_string_field(*object, name, text, why)) check_hex(name, text);
    else LK_FUZZ_CHECK(!why.empty(), "a refused string field without a reason");
    int64_t number = 0;
    why.clear();
    if (!get_int_field(*object, name, number, why)) LK_FUZZ_CHECK(!why.empty(), "a refused integer without a reason");
  }
  return 0;
}
