#include <latchkey/rules/rule.hpp>

#include <array>
#include <ostream>

namespace latchkey {

namespace {

struct Entry {
  Rule rule;
  std::string_view name;
  std::string_view title;
};

// In the order of the enum and of docs/rules.md.
constexpr std::array<Entry, kRuleCount> kRules{{
    {Rule::kNone, "", ""},
    {Rule::G1, "G1", "grant signed, for this hub and door, in its window, unused, not revoked"},
    {Rule::G2, "G2", "proof of presence over a fresh single-use challenge"},
    {Rule::G3, "G3", "a grant opens the door once, durably"},
    {Rule::G4, "G4", "lockout after repeated rejected requests"},
    {Rule::C1, "C1", "attestations signed by the camera's pinned key"},
    {Rule::C2, "C2", "attestations echo a recent hub nonce"},
    {Rule::C3, "C3", "rejected attestations: signature, counter, boot, clock, nonce"},
    {Rule::C4, "C4", "LIVE: recent and repeated accepted attestations"},
    {Rule::C5, "C5", "a frozen picture is not LIVE"},
    {Rule::C6, "C6", "camera-offline alarm for a bound camera"},
    {Rule::C7, "C7", "looped footage is not LIVE"},
    {Rule::C8, "C8", "a covered, blinded or turned camera is not LIVE"},
    {Rule::U1, "U1", "every required camera LIVE at the decision"},
    {Rule::U2, "U2", "cameras record the session before the unlock"},
    {Rule::U3, "U3", "the decision is on disk before the lock moves"},
    {Rule::U4, "U4", "the unlock carries a relock deadline"},
    {Rule::U5, "U5", "camera lost during a session: relock or alarm at once"},
    {Rule::U6, "U6", "one opening per session"},
    {Rule::U7, "U7", "closed and locked within session_max"},
    {Rule::U8, "U8", "a session completes on a verified relock"},
    {Rule::F1, "F1", "doubt denies and compromises"},
    {Rule::F2, "F2", "no unlock at start; open sessions end compromised"},
    {Rule::F3, "F3", "a plugin's yes is necessary, never enough"},
    {Rule::A1, "A1", "every decision, transition, alarm and fault is audited"},
    {Rule::A2, "A2", "hash chain, signed checkpoints, verified at start"},
    {Rule::A3, "A3", "what the hub acknowledged survives a crash"},
    {Rule::I1, "I1", "no unlock without every precondition, on disk first"},
    {Rule::I2, "I2", "no grant consumed twice"},
    {Rule::I3, "I3", "every session ends exactly once"},
    {Rule::I4, "I4", "liveness loss gives a relock or alarm in time"},
    {Rule::I5, "I5", "no unlock at boot"},
    {Rule::I6, "I6", "the audit chain verifies, nothing acknowledged is missing"},
}};

constexpr bool table_in_enum_order() {
  for (std::size_t i = 0; i < kRules.size(); ++i)
    if (static_cast<std::size_t>(kRules[i].rule) != i) return false;
  return true;
}
static_assert(table_in_enum_order(), "kRules must list the rules in the order of the enum");

constexpr std::array<Rule, kRuleCount - 1> kAll = [] {
  std::array<Rule, kRuleCount - 1> out{};
  for (std::size_t i = 1; i < kRuleCount; ++i) out[i - 1] = kRules[i].rule;
  return out;
}();

const Entry& entry(Rule rule) noexcept {
  const auto i = static_cast<std::size_t>(rule);
  return i < kRules.size() ? kRules[i] : kRules[0];
}

}  // namespace

std::string_view name(Rule rule) noexcept { return entry(rule).name; }
std::string_view title(Rule rule) noexcept { return entry(rule).title; }

std::optional<Rule> rule_from_name(std::string_view text) noexcept {
  for (const Entry& e : kRules)
    if (e.name == text) return e.rule;
  return std::nullopt;
}

const Rule* all_rules_begin() noexcept { return kAll.data(); }
const Rule* all_rules_end() noexcept { return kAll.data() + kAll.size(); }

std::ostream& operator<<(std::ostream& out, Rule rule) {
  return out << (rule == Rule::kNone ? std::string_view("-") : name(rule));
}

}  // namespace latchkey
