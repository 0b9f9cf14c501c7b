// Rule IDs as a type (docs/rules.md). The engine's denies and alarms, the
// audit records and the API name the rule they apply with a Rule, so a
// mistyped ID does not compile; the text form ("U5") is what the audit log
// stores and the API shows, and rule_from_name() is its only parse.
#ifndef LATCHKEY_RULES_RULE_HPP
#define LATCHKEY_RULES_RULE_HPP

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string_view>

namespace latchkey {

// kNone: a record or action that applies no rule (an informational event).
enum class Rule : uint8_t {
  kNone,
  G1, G2, G3, G4,
  C1, C2, C3, C4, C5, C6, C7, C8,
  U1, U2, U3, U4, U5, U6, U7, U8,
  F1, F2, F3,
  A1, A2, A3,
  I1, I2, I3, I4, I5, I6,
};

inline constexpr std::size_t kRuleCount = static_cast<std::size_t>(Rule::I6) + 1;

// "U5"; "" for kNone.
std::string_view name(Rule rule) noexcept;
// A few words saying what the rule is about ("camera lost during a session");
// "" for kNone. docs/rules.md holds the rule itself.
std::string_view title(Rule rule) noexcept;
// The Rule a name stands for: "" gives kNone; anything else unknown, nothing.
std::optional<Rule> rule_from_name(std::string_view text) noexcept;

// Every rule but kNone, in the document's order.
const Rule* all_rules_begin() noexcept;
const Rule* all_rules_end() noexcept;

std::ostream& operator<<(std::ostream& out, Rule rule);  // its name, "-" for kNone

}  // namespace latchkey

#endif  // LATCHKEY_RULES_RULE_HPP
