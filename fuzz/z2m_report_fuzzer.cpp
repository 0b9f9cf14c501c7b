// Fuzzes the Zigbee2MQTT state messages z2m_lock reads
// (plugins/z2m_lock/z2m_reports.cpp): anyone who may publish on the
// Zigbee2MQTT topics of the broker writes them, so they are input like any
// other payload.
//
// Input: a selector byte (bit 0: a contact sensor's message, else the
// lock's), then the payload.
// Properties: a payload over kMaxPayloadBytes is refused; every refusal says
// why; an accepted message is a JSON object, and what the parser took from
// it is what the object holds: lock_state locked / unlocked /
// not_fully_locked for those exact strings and nothing else (no other text
// ever reads as unlocked), state LOCK / UNLOCK, contact true / false.
#include "z2m_reports.hpp"

#include "support/fuzz_input.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <string>

namespace {

// The payload's top-level object, parsed on its own, or null.
Poco::JSON::Object::Ptr object_of(const std::string& payload) {
  try {
    Poco::JSON::Parser parser;
    const Poco::Dynamic::Var v = parser.parse(payload);
    if (v.type() != typeid(Poco::JSON::Object::Ptr)) return nullptr;
    return v.extract<Poco::JSON::Object::Ptr>();
  } catch (...) {
    return nullptr;
  }
}

std::string text_of(const Poco::JSON::Object& o, const std::string& key) {
  if (!o.has(key) || o.isNull(key)) return {};
  const Poco::Dynamic::Var v = o.get(key);
  return v.isString() ? v.extract<std::string>() : std::string();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  latchkey::fuzz::InputCursor in(data, size);
  const bool sensor = (in.byte() & 1) != 0;
  const std::string payload = in.rest();
  const auto* bytes = reinterpret_cast<const uint8_t*>(payload.data());
  std::string error;

  if (sensor) {
    const auto report = latchkey::z2m::parse_sensor_report(bytes, payload.size(), &error);
    if (!report) {
      LK_FUZZ_CHECK(!error.empty(), "a sensor message refused without a reason");
      return 0;
    }
    LK_FUZZ_CHECK(payload.size() <= latchkey::z2m::kMaxPayloadBytes, "an oversized sensor message accepted");
    const auto object = object_of(payload);
    LK_FUZZ_CHECK(!object.isNull(), "a sensor message accepted that is not a JSON object");
    if (report->contact) {
      LK_FUZZ_CHECK(object->has("contact") && object->get("contact").isBoolean(), "contact read from nowhere");
      LK_FUZZ_CHECK(object->get("contact").extract<bool>() == *report->contact, "contact read inverted");
    }
    return 0;
  }

  const auto report = latchkey::z2m::parse_lock_report(bytes, payload.size(), &error);
  if (!report) {
    LK_FUZZ_CHECK(!error.empty(), "a lock message refused without a reason");
    return 0;
  }
  LK_FUZZ_CHECK(payload.size() <= latchkey::z2m::kMaxPayloadBytes, "an oversized lock message accepted");
  const auto object = object_of(payload);
  LK_FUZZ_CHECK(!object.isNull(), "a lock message accepted that is not a JSON object");
  const std::string lock_state = text_of(*object, "lock_state");
  if (report->lock_state == LK_LOCK_STATE_UNLOCKED)
    LK_FUZZ_CHECK(lock_state == "unlocked", "unlocked read from something other than lock_state \"unlocked\"");
  if (report->lock_state == LK_LOCK_STATE_LOCKED)
    LK_FUZZ_CHECK(lock_state == "locked", "locked read from something other than lock_state \"locked\"");
  if (!report->lock_state) LK_FUZZ_CHECK(lock_state.empty(), "a lock_state accepted and then dropped");
  const std::string state = text_of(*object, "state");
  if (report->state_locked) LK_FUZZ_CHECK(state == (*report->state_locked ? "LOCK" : "UNLOCK"), "state misread");
  if (report->jammed)
    LK_FUZZ_CHECK(text_of(*object, "action") == "error_jammed" || text_of(*object, "door_state") == "error_jammed",
                  "a jam read from nowhere");
  return 0;
}
