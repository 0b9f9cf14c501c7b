// One readable line per hub event or alarm, for lkctl events and lk-demo's
// timeline: the fields a person looks for (door, camera, decision, rule,
// states, message), in a fixed order, from whatever the JSON holds.
#ifndef LATCHKEY_CLIENT_EVENT_TEXT_HPP
#define LATCHKEY_CLIENT_EVENT_TEXT_HPP

#include <latchkey/client/event_stream.hpp>

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <string>

namespace latchkey::client {

// "door=front decision=allow rule=- session=3f2a..." style summary of an
// event's JSON; the raw data when it is not a JSON object.
std::string describe_event_data(const SseEvent& event);

// A Unix time in ms as "HH:MM:SS.mmm" (UTC); with_date adds "YYYY-MM-DD ".
std::string format_unix_ms(int64_t unix_ms, bool with_date = false);

// The first `n` characters of a long hex id, with "..." when cut.
std::string short_id(const std::string& id, std::size_t n = 12);

}  // namespace latchkey::client

#endif  // LATCHKEY_CLIENT_EVENT_TEXT_HPP
