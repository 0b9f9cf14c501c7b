// [fleet]: the witness of the audit log (docs/fleet.md). At start and on
// every (re)connect to the fleet broker the hub asks lk-witness for the
// newest checkpoint it holds of this hub, with a fresh nonce, and judges the
// signed answer against its own log (fleet::witness_verdict). Until the
// first good answer of this run nothing is granted (GateSetup::
// witness_required); a log that is behind or does not extend the witness's
// checkpoint stops granting for the rest of the run with an A2 alarm. The
// hub publishes its checkpoints only once the witness has confirmed its log,
// so a rolled-back log never overwrites what the witness holds; they go
// through the durable outbox (runtime_outbox.cpp) like alarms and sessions.
//
// The MQTT link runs on its own thread; its callbacks only post onto the loop.
#include "runtime_impl.hpp"

#include "runtime_files.hpp"

#include <latchkey/hub/audit_recovery.hpp>

#include <latchkey/fleet/protocol.hpp>
#include <latchkey/fleet/revocation.hpp>
#include <latchkey/fleet/verdict.hpp>

namespace latchkey::hub {

void Runtime::Impl::open_fleet() {
  const FleetConfig& f = config.fleet;
  if (!f.enabled) return;
  // via = bridge: the link's password is the hub broker's (local_password_file);
  // the fleet broker's is the bridge's, never read by the running daemon.
  const bool bridge = f.via == FleetConfig::Via::kBridge;
  const std::filesystem::path& password_file = bridge ? f.local_password_file : f.password_file;
  const std::string key = bridge ? "local_password_file" : "password_file";
  if (!password_file.empty()) {
    std::optional<std::string> password = read_secret_file(password_file);
    if (!password) throw std::runtime_error("[fleet] " + key + " " + password_file.string() + " does not exist");
    while (!password->empty() && (password->back() == '\n' || password->back() == '\r')) password->pop_back();
    if (password->empty() || password->find('\n') != std::string::npos)
      throw std::runtime_error("[fleet] " + key + " " + password_file.string() + " must hold one line");
    fleet_password = *password;
  }
  try {
    last_checkpoint = audit::read_head_file(audit::head_file_path(audit_path));
  } catch (const std::exception& e) {
    log_line("error", std::string("[fleet] the head file cannot be read: ") + e.what());
  }
  uv_timer_init(&loop, &fleet_timer);
  fleet_timer.data = this;
  open_outbox();
}

void Runtime::Impl::start_fleet() {
  const FleetConfig& f = config.fleet;
  if (!f.enabled || fleet_link) return;
  mqtt::LinkConfig link;
  link.host = f.host;
  link.port = f.port;
  link.tls = f.tls;
  link.tls_ca_file = f.tls_ca_file.string();
  link.user = f.user;
  link.password = fleet_password;
  link.client_id = f.client_id;
  link.keepalive_s = static_cast<int>(f.keepalive_s);
  link.log_prefix = "fleet";
  link.subscriptions = {{fleet::topic(f.hub_id, fleet::Channel::kAnswer), 1},
                        {fleet::revocations_subscription(f.hub_id), 1}};  // runtime_revocations.cpp
  if (fleet_bridged()) configure_fleet_bridge_link(link);  // runtime_bridge.cpp
  mqtt::LinkCallbacks callbacks;
  callbacks.connected = [this] {
    if (fleet_outbox) fleet_outbox->connected();
    post([this] { fleet_connected(); });
  };
  callbacks.published = [this](int mid) {
    if (fleet_outbox) fleet_outbox->published(mid);
  };
  callbacks.lost = [](const std::string& why) { log_line("info", "[fleet] broker connection: " + why); };
  callbacks.refused = [](int code, const std::string& why) {
    log_line("error", "[fleet] the broker refused the connection (" + std::to_string(code) + "): " + why);
  };
  callbacks.error_log = [](const std::string& line) { log_line("error", "[fleet] " + line); };
  callbacks.message = [this](std::string_view topic, const uint8_t* data, std::size_t size) {
    if (fleet_bridged() && topic == kFleetBridgeStateTopic) {
      std::string state(reinterpret_cast<const char*>(data), size);
      post([this, state = std::move(state)] { fleet_bridge_state(state); });
      return;
    }
    std::string payload(reinterpret_cast<const char*>(data), size);
    if (auto issuer = fleet::revocations_topic_issuer(config.fleet.hub_id, topic)) {
      post([this, from = std::move(*issuer), payload = std::move(payload)] { fleet_revocations(from, payload); });
      return;
    }
    if (topic != fleet::topic(config.fleet.hub_id, fleet::Channel::kAnswer)) return;
    post([this, payload = std::move(payload)] { fleet_answer(payload); });
  };
  log_line("info", "[fleet] connecting to " + link.host + ":" + std::to_string(link.port) +
                       (fleet_bridged() ? " (the hub's broker, bridged to " + f.host + ":" + std::to_string(f.port) + ")"
                                        : std::string()) +
                       "; no unlock until the witness confirms the audit log");
  fleet_link = std::make_unique<mqtt::MqttLink>(std::move(link), std::move(callbacks));
  attach_outbox(*fleet_link);
}

void Runtime::Impl::stop_fleet() {
  detach_outbox();
  fleet_link.reset();
}

void Runtime::Impl::fleet_connected() {
  if (fleet_bridged()) {
    fleet_bridge_connected();  // runtime_bridge.cpp: asks once the bridge is up
    return;
  }
  log_line("info", "[fleet] connected; asking the witness");
  fleet_query();
}

void Runtime::Impl::fleet_query() {
  if (!fleet_link || fleet_state == FleetState::kRefused) return;
  // Through the bridge: asked again when it comes up (runtime_bridge.cpp).
  if (fleet_bridged() && !fleet_upstream_up()) return;
  fleet_nonce = crypto::random_bytes(fleet::kNonceBytes);
  const std::string query = fleet::encode_query(config.fleet.hub_id, fleet_nonce);
  std::string error;
  if (!fleet_link->publish(fleet::topic(config.fleet.hub_id, fleet::Channel::kQuery),
                           reinterpret_cast<const uint8_t*>(query.data()), query.size(), 1, &error))
    log_line("info", "[fleet] the witness query was not sent: " + error);
  // Unanswered within witness_timeout_ms: asked again (while connected).
  uv_timer_start(&fleet_timer, [](uv_timer_t* t) {
    auto* self = static_cast<Impl*>(t->data);
    if (self->fleet_nonce.empty()) return;
    log_line("info", "[fleet] the witness did not answer within " + std::to_string(self->config.fleet.witness_timeout_ms) +
                         " ms; asking again");
    self->fleet_query();
    self->after_work();
  }, static_cast<uint64_t>(config.fleet.witness_timeout_ms), 0);
}

void Runtime::Impl::fleet_answer(const std::string& payload) {
  auto decoded = fleet::decode_signed_answer(reinterpret_cast<const uint8_t*>(payload.data()), payload.size(),
                                             config.fleet.witness_key);
  if (auto* problem = std::get_if<std::string>(&decoded)) {
    log_line("error", "[fleet] witness answer ignored: " + *problem);
    return;
  }
  if (fleet_nonce.empty()) return;  // nothing asked (an old answer, or already judged)
  if (!log) {
    // A log that does not verify already grants nothing (A2/U3).
    fleet_nonce.clear();
    return;
  }
  fleet::LocalLogView view;
  view.size = log->last_seq();
  view.hash_at = [this](uint64_t seq) -> std::optional<audit::Digest> {
    try {
      const std::vector<audit::AuditRecord> r = log->records(seq, 1);
      if (r.size() != 1 || r.front().seq != seq) return std::nullopt;
      return r.front().hash;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  };
  const fleet::WitnessVerdict v = fleet::witness_verdict(view, std::get<fleet::Answer>(decoded), config.fleet.hub_id,
                                                         fleet_nonce, hub_key.public_key);
  using Kind = fleet::WitnessVerdict::Kind;
  if (v.kind == Kind::kBadAnswer) {
    log_line("error", "[fleet] witness answer ignored: " + v.detail);
    return;
  }
  fleet_nonce.clear();
  uv_timer_stop(&fleet_timer);
  fleet_verdict = std::string(fleet::name(v.kind)) + ": " + v.detail;
  if (v.kind == Kind::kOk) {
    log_line("info", "[fleet] the witness confirms the audit log: " + v.detail);
    fleet_state = FleetState::kConfirmed;
    engine->on_witness_confirmed(v.detail, now());
    if (fleet_outbox) fleet_outbox->allow_checkpoints();
    fleet_publish_checkpoint();
    return;
  }
  fleet_state = FleetState::kRefused;
  log_line("error", "[fleet] the witness shows the audit log was rolled back (" + std::string(fleet::name(v.kind)) +
                        "): " + v.detail);
  engine->on_witness_refused(v.detail, now());
  // Durable: a restart (or a witness that later forgets) must not lift it;
  // latchkeyd --recover-audit does (docs/fleet.md).
  const std::filesystem::path file = witness_refusal_path(config.data_dir);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    try {
      create_secret_file(file, std::string(fleet::name(v.kind)) + ": " + v.detail + "\n");
    } catch (const std::exception& e) {
      log_line("error", std::string("[fleet] the witness refusal could not be kept: ") + e.what());
    }
  }
}

std::optional<WitnessStatus> Runtime::Impl::witness_status() const {
  if (!config.fleet.enabled && fleet_state != FleetState::kRefused) return std::nullopt;
  switch (fleet_state) {
    case FleetState::kAwaiting: return with_fleet_upstream(WitnessStatus{"awaiting", fleet_verdict, "", false});
    case FleetState::kConfirmed: return with_fleet_upstream(WitnessStatus{"confirmed", fleet_verdict, "", false});
    case FleetState::kRefused: return with_fleet_upstream(WitnessStatus{"refused", fleet_verdict, "", false});
  }
  return std::nullopt;
}

// A rollback the witness showed in an earlier run: nothing is granted,
// whatever [fleet] says now, until latchkeyd --recover-audit.
void Runtime::Impl::apply_kept_witness_refusal() {
  const std::filesystem::path file = witness_refusal_path(config.data_dir);
  std::optional<std::string> text;
  try {
    text = read_secret_file(file);
  } catch (const std::exception& e) {
    text = std::string("unreadable: ") + e.what();
  }
  if (!text) return;
  while (!text->empty() && text->back() == '\n') text->pop_back();
  fleet_state = FleetState::kRefused;
  fleet_verdict = *text + " (kept from an earlier run)";
  log_line("error", "[fleet] " + file.string() + ": the witness showed the audit log was rolled back (" + *text +
                        "); granting nothing until latchkeyd --recover-audit");
  engine->on_witness_refused(*text + " (kept from an earlier run in " + file.filename().string() + ")", now());
}

// Through the outbox (runtime_outbox.cpp): kept until the broker
// acknowledged it, the newest replacing an older one not yet sent.
void Runtime::Impl::fleet_publish_checkpoint() {
  if (!fleet_outbox || fleet_state != FleetState::kConfirmed || !last_checkpoint) return;
  fleet_outbox->set_checkpoint(fleet::encode_checkpoint(config.fleet.hub_id, *last_checkpoint));
}

}  // namespace latchkey::hub
