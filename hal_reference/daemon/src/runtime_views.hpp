// The runtime's state as the typed answers and events of HubApi
// (hub_api.hpp): pure conversions from the gate engine's, the audit log's and
// the plugin supervisors' own types. Called on the loop thread (plugin_status:
// any thread). Internal to latchkey_runtime.
#ifndef LATCHKEY_HUB_RUNTIME_VIEWS_HPP
#define LATCHKEY_HUB_RUNTIME_VIEWS_HPP

#include <latchkey/audit/record.hpp>
#include <latchkey/audit/verify.hpp>
#include <latchkey/gate/actions.hpp>
#include <latchkey/gate/gate_engine.hpp>
#include <latchkey/hub/hub_api.hpp>
#include <latchkey/isolation/plugin_runner.hpp>

#include <string>
#include <vector>

namespace latchkey::hub {

Bytes to_bytes(const std::string& raw);
LockState to_lock_state(lk_lock_state state);
DoorState to_door_state(lk_door_state state);
PluginState to_plugin_state(isolation::PluginState state);

OpenSession open_session(const gate::SessionView& s);
// A door with the cameras bound to it (in configuration order), at time now.
DoorStatus door_status(const gate::DoorView& d, const std::vector<std::string>& cameras,
                       const gate::GateEngine& engine, gate::MonoNs now);
// A session record the engine appended: opened, completed or compromised.
SessionChange session_change(const gate::AppendAudit& a);
// The same from a record read back from the audit log.
SessionChange session_change(const audit::AuditEntry& e);
UnlockOutcome unlock_outcome(const gate::Decision& d);
AuditRecord audit_record(const audit::AuditRecord& r);
AuditAppended audit_appended(uint64_t seq, const audit::AuditEntry& e);
AuditVerification audit_verification(const audit::VerifyReport& report);
PluginStatus plugin_status(const std::string& name, const isolation::PluginRunner& runner);

}  // namespace latchkey::hub

#endif  // LATCHKEY_HUB_RUNTIME_VIEWS_HPP
