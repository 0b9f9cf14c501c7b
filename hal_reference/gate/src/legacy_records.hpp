// What a format-1 audit record means (a record of a schema-1 log, written
// before records had kinds; hal_reference/audit/README.md "Migration").
//
// Schema-1 records said what they were only in their text, and that text is
// now frozen: a migrated log keeps its records unchanged. This is the one
// place the hub reads audit text to recover state, and only for format 1;
// the wording below is schema 1's and must never follow the engine's
// current messages (those are free to change).
#ifndef LATCHKEY_GATE_SRC_LEGACY_RECORDS_HPP
#define LATCHKEY_GATE_SRC_LEGACY_RECORDS_HPP

#include <latchkey/rules/record_kind.hpp>
#include <latchkey/rules/rule.hpp>

#include <cstdint>
#include <string_view>

namespace latchkey::gate {

struct LegacyMeaning {
  RecordKind kind = RecordKind::kNone;
  int64_t value = 0;
};

LegacyMeaning legacy_record_meaning(std::string_view type, Rule rule, std::string_view detail, bool consumes_grant);

}  // namespace latchkey::gate

#endif  // LATCHKEY_GATE_SRC_LEGACY_RECORDS_HPP
