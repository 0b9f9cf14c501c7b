// Commands from a home controller (Home Assistant through latchkeyd's MQTT
// link, docs/home-assistant.md): a LOCK that never breaks a rule, and an
// UNLOCK that is always refused (G1: remote unlock is grant-only). Both are
// decisions of the engine, audited here (A1), never by the runtime.
#include "engine_state.hpp"

#include <latchkey/cpp/names.hpp>

namespace latchkey::gate {

namespace {

RemoteAnswer refused(Rule rule, std::string message) { return {false, rule, std::move(message), 0}; }

}  // namespace

RemoteAnswer GateEngine::request_remote_lock(const std::string& door_id, const std::string& source, MonoNs now) {
  s_->refresh_cameras(now);
  auto it = s_->doors.find(door_id);
  if (it == s_->doors.end()) return refused(Rule::kNone, "unknown door '" + door_id + "'");
  State::Door& door = it->second;
  RemoteAnswer answer;
  if (door.session) {
    answer = refused(Rule::U8, std::string("a session is ") + (door.session->view.unlocked ? "open" : "pending") +
                                   " at this door; it relocks itself after the door cycle (U8) or at session_max (U7)");
  } else if (door.lock_faulted) {
    answer = refused(Rule::F1, "the lock's plugin is in fault");
  } else if (door.door != LK_DOOR_STATE_CLOSED) {
    answer = refused(Rule::U8, std::string("the door is ") + door_state_name(door.door) +
                                   ", not closed: the bolt would be thrown into an open door");
  } else if (door.op.id != 0) {
    answer = {true, Rule::kNone, std::string(door.op.is_unlock ? "an unlock" : "a lock") +
                                     " command is already running (operation " + std::to_string(door.op.id) + ")",
              door.op.id};
  } else if (door.lock == LK_LOCK_STATE_LOCKED) {
    answer = {true, Rule::kNone, "the lock already reports locked", 0};
  } else {
    s_->command_lock(door, Rule::kNone, now);
    answer = {true, Rule::kNone, "lock command sent (operation " + std::to_string(door.op.id) + ")", door.op.id};
  }
  s_->audit("decision", answer.rule, door_id, source,
            std::string("remote lock from ") + source + (answer.accepted ? ": accepted, " : ": refused, ") +
                answer.message);
  return answer;
}

RemoteAnswer GateEngine::refuse_remote_unlock(const std::string& door_id, const std::string& source,
                                              const std::string& what, MonoNs now) {
  s_->refresh_cameras(now);
  if (!s_->doors.count(door_id)) return refused(Rule::kNone, "unknown door '" + door_id + "'");
  RemoteAnswer answer = refused(Rule::G1, what + " without a grant: remote unlock needs a signed grant and the "
                                               "courier's proof of presence");
  s_->audit("decision", Rule::G1, door_id, source,
            "deny (not counted for G4): remote " + what + " from " + source + " refused: " + answer.message,
            RecordKind::kDenyUncounted);
  return answer;
}

}  // namespace latchkey::gate
