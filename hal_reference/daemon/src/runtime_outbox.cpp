// [fleet]: alarms, session outcomes and the newest confirmed checkpoint go up
// to the fleet broker through the durable outbox (fleet::Outbox,
// docs/fleet.md "Alarms and sessions up: the outbox"). Nothing here is on
// the path of an unlock decision (issue 17 point 5): the calls below only
// queue in memory, after the engine has decided; the outbox's own thread
// writes SQLite and publishes, and the MQTT link has its own thread. With the
// fleet broker down or slow, deliveries go on by the hub's own rules and the
// outbox fills, bounded ([fleet] outbox_max_rows).
#include "runtime_impl.hpp"

#include "runtime_views.hpp"

#include <latchkey/fleet/protocol.hpp>

namespace latchkey::hub {

void Runtime::Impl::open_outbox() {
  if (!config.fleet.enabled) return;
  fleet::OutboxOptions options;
  options.path = config.data_dir / "fleet-outbox.db";
  options.hub_id = config.fleet.hub_id;
  options.max_rows = static_cast<std::size_t>(config.fleet.outbox_max_rows);
  fleet::OutboxHooks hooks;
  hooks.log = [](const std::string& line) { log_line("info", line); };
  hooks.overflow = [this](uint64_t dropped, std::size_t max_rows) {
    post([this, dropped, max_rows] {
      outbox_overflowed(dropped, max_rows);
      after_work();
    });
  };
  hooks.write_failing = [this](int failures, const std::string& error) {
    post([this, failures, error] {
      raise_hub_alarm(Rule::A1, "fleet outbox cannot write its database (" + std::to_string(failures) +
                                    " failures in a row: " + error +
                                    "); alarms and session outcomes wait in memory and the write is retried");
      after_work();
    });
  };
  fleet_outbox = std::make_unique<fleet::Outbox>(std::move(options), std::move(hooks));
  const fleet::OutboxStats s = fleet_outbox->stats();
  if (s.rows > 0 || s.checkpoint_waiting)
    log_line("info", "[fleet] outbox: " + std::to_string(s.rows) + " alarm(s) and session outcome(s)" +
                         (s.checkpoint_waiting ? " and a checkpoint" : "") +
                         " from an earlier run wait for the fleet broker");
}

// "May I drain now": the fleet link can carry messages to the fleet broker -
// connected, and with via = bridge the hub broker's bridge up
// (fleet_upstream_up, runtime_bridge.cpp). Called on the outbox's thread:
// fleet_link is set before attach_outbox and reset only after
// detach_outbox, and the bridge state is atomic.
bool Runtime::Impl::fleet_may_drain() const { return fleet_upstream_up(); }

void Runtime::Impl::attach_outbox(mqtt::MqttLink& link) {
  if (!fleet_outbox) return;
  fleet::OutboxSender sender;
  sender.may_drain = [this] { return fleet_may_drain(); };
  sender.send = [&link](const std::string& topic, const std::string& payload) {
    return link.publish(topic, reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), 1, nullptr);
  };
  fleet_outbox->set_sender(std::move(sender));
}

void Runtime::Impl::detach_outbox() {
  if (fleet_outbox) fleet_outbox->set_sender({});
}

void Runtime::Impl::outbox_alarm(const Alarm& a) {
  if (!fleet_outbox) return;
  fleet_outbox->add_alarm(fleet::AlarmUp{std::string(name(a.alarm.rule)), a.alarm.door_id, a.alarm.camera_id,
                                         a.alarm.message, a.time_ms, a.id});
}

// The opened session's grant and courier, which its end record does not
// repeat: the engine still holds the session when its opening is recorded.
// The outbox keeps them on disk until the session ends, in this run or, for
// a session a restart ends (F2), in the next.
void Runtime::Impl::outbox_session_record(const gate::AppendAudit& a) {
  if (!fleet_outbox || a.kind != RecordKind::kSessionOpened) return;
  fleet::SessionUp open;
  open.door = a.door_id;
  if (std::optional<crypto::Bytes> id = crypto::from_hex(a.subject)) open.session_id = *id;
  open.started_wall_ms = wall_ms();
  if (const std::optional<gate::DoorView> door = engine->door(a.door_id); door && door->session) {
    open.grant_id = crypto::Bytes(door->session->grant_id.begin(), door->session->grant_id.end());
    open.courier_id = door->session->courier_id;
  }
  fleet_outbox->session_opened(std::move(open));
}

// A session's end, once its record committed (so its seq is known).
void Runtime::Impl::outbox_session_ended(uint64_t seq, const audit::AuditEntry& e) {
  if (!fleet_outbox) return;
  if (e.kind != RecordKind::kSessionCompleted && e.kind != RecordKind::kSessionCompromised) return;
  fleet::SessionUp s;
  s.door = e.door_id;
  if (std::optional<crypto::Bytes> id = crypto::from_hex(e.subject)) s.session_id = *id;
  s.outcome = e.kind == RecordKind::kSessionCompleted ? fleet::Outcome::kCompleted : fleet::Outcome::kCompromised;
  s.rule = std::string(name(e.rule));
  s.detail = e.detail;
  s.ended_wall_ms = wall_ms();
  s.audit_seq = seq;  // grant, courier and start: filled in by the outbox from session_opened
  fleet_outbox->add_session(std::move(s));
}

void Runtime::Impl::outbox_overflowed(uint64_t dropped, std::size_t max_rows) {
  raise_hub_alarm(Rule::A1, "fleet outbox full (" + std::to_string(max_rows) + " rows, the fleet broker unreachable): " +
                                std::to_string(dropped) +
                                " session outcome(s) dropped, oldest first; alarms are kept (the audit log holds "
                                "every session)");
}

// An alarm the runtime raises itself (not the engine): the same history,
// log line, event, audit record and outbox row as an engine's.
void Runtime::Impl::raise_hub_alarm(Rule rule, const std::string& message) {
  Alarm alarm{++next_alarm_id, wall_ms(), gate::RaiseAlarm{rule, "", "", message}, mono_us()};
  alarms.push_back(alarm);
  if (alarms.size() > kAlarmHistory) alarms.pop_front();
  log_line("alarm", std::string(name(rule)) + ": " + message);
  publish(alarm_view(alarm));
  outbox_alarm(alarm);
  pending_audit.push_back(audit::AuditEntry{"alarm", rule, "", "", message, RecordKind::kNone, 0});
  schedule_group_commit();
}

}  // namespace latchkey::hub
