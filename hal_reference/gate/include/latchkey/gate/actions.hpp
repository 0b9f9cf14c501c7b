// What the gate engine asks the world to do. The shell (daemon, simulator,
// certification harness) carries each action out and feeds results back as
// events. Every deny and alarm carries its rule (docs/rules.md).
#ifndef LATCHKEY_GATE_ACTIONS_HPP
#define LATCHKEY_GATE_ACTIONS_HPP

#include <latchkey/crypto/crypto.hpp>
#include <latchkey/gate/time.hpp>
#include <latchkey/rules/record_kind.hpp>
#include <latchkey/rules/rule.hpp>

#include <cstdint>
#include <string>
#include <variant>

namespace latchkey::gate {

struct SendNonce {                 // C2
  std::string camera_id;
  crypto::Bytes nonce;
};

struct StartRecording {            // U2
  std::string camera_id;
  std::string session_id;          // 16 bytes
};

struct StopRecording {
  std::string camera_id;
};

struct CommandUnlock {             // U3: only after the decision committed; U4: with a relock deadline
  std::string door_id;
  uint64_t operation_id = 0;
  int64_t relock_deadline_ms = 0;
  std::string session_id;
};

struct CommandLock {               // U5, U7, U8, F2
  std::string door_id;
  uint64_t operation_id = 0;
  Rule rule = Rule::kNone;         // why: U8 after a door cycle, U5 on camera loss, ...
};

struct RaiseAlarm {                // alerts the customer
  Rule rule = Rule::kNone;
  std::string door_id;
  std::string camera_id;
  std::string message;
};

// An audit record (A1). When durable_token != 0 the shell must commit it,
// together with consuming `consumes_grant`, in one transaction and answer
// with GateEngine::on_audit_committed(token, ok) before anything else (U3).
struct AppendAudit {
  std::string type;                // decision, session, alarm, attestation_rejected, plugin_fault, command, event
  Rule rule = Rule::kNone;
  std::string door_id;
  std::string subject;             // grant id (hex), camera id, session id (hex)
  std::string detail;              // for people; nothing reads it back
  RecordKind kind = RecordKind::kNone;  // what a restart reads (restart_history.hpp)
  int64_t value = 0;
  uint64_t durable_token = 0;
  std::string consumes_grant;      // hex grant id, with durable_token only
};

// C4: a camera became LIVE or stopped being LIVE (by an attestation, a
// fault, or time). For people and the API; the engine has already acted.
struct LivenessChanged {
  std::string camera_id;
  bool live = false;
  MonoNs last_accepted = kNever;   // hub time of the last accepted attestation (U5 counts from it)
};

// The answer to an unlock request (after recording and commit for an allow).
struct Decision {
  uint64_t request_id = 0;
  std::string door_id;
  bool allowed = false;
  Rule rule = Rule::kNone;         // deny reason
  std::string message;
  std::string session_id;          // allow only
};

using Action = std::variant<SendNonce, StartRecording, StopRecording, CommandUnlock, CommandLock, RaiseAlarm,
                            AppendAudit, Decision, LivenessChanged>;

}  // namespace latchkey::gate

#endif  // LATCHKEY_GATE_ACTIONS_HPP
