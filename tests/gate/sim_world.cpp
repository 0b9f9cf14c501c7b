// SimWorld: cameras, locks, the clock and the audit log around the real
// GateEngine (sim_world.hpp); one world, hence the length.
#include "sim_world.hpp"

#include <latchkey/audit/verify.hpp>

#include <stdexcept>

namespace latchkey::sim {

namespace {

std::string as_string(const crypto::Bytes& b) { return {b.begin(), b.end()}; }

crypto::KeyPair seeded_key(std::mt19937_64& rng) {
  std::array<uint8_t, 32> seed{};
  for (auto& b : seed) b = static_cast<uint8_t>(rng());
  return crypto::KeyPair::from_seed(seed);
}

std::string random_string(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

}  // namespace

crypto::Bytes SimCamera::attest(MonoNs now) {
  if (replay && history.size() > 8) return history[history.size() - 8];
  if (!repeat_counter || counter == 0) ++counter;
  if (looped && !loop_started) {
    frame = frame > loop_back ? frame - loop_back : 0;
    loop_started = true;
  } else if (!looped && loop_started) {
    frame = live_frame;  // the live scene again: frames never shown before
    loop_started = false;
  }
  ++frame;
  ++live_frame;
  const std::string frame_bytes = id + "/" + boot_id + "/" + std::to_string(frame);
  const crypto::Digest d = crypto::blake2b256(crypto::view(frame_bytes));
  std::string digest(d.begin(), d.end());
  if (frozen) {
    if (frozen_digest.empty()) frozen_digest = digest;
    digest = frozen_digest;
  } else {
    frozen_digest.clear();
  }
  v1::Attestation a;
  a.set_camera_id(id);
  a.set_boot_id(boot_id);
  a.set_counter(counter);
  a.set_capture_time_ns(static_cast<uint64_t>(now - capture_lag_ns + clock_offset_ns));
  a.set_frame_digest(digest);
  a.set_hub_nonce(stale_nonce ? first_nonce : nonce);
  if (measures_scene) {
    auto* scene = a.mutable_scene();
    scene->set_mean_luminance(covered ? 3'000 : luminance);
    scene->set_sharpness(covered ? 40 : sharpness);
    scene->set_reference_similarity(covered ? 20 : similarity);
  }
  auto* rec = a.mutable_recording();
  rec->set_recording(!recording_session.empty());
  rec->set_session_id(recording_session);
  rec->set_segment_id(1);
  rec->set_recorded_bytes(frame * 1000);
  crypto::Bytes bytes = crypto::sign_attestation(a, wrong_key ? other_key.secret_key : key.secret_key);
  history.push_back(bytes);
  if (history.size() > 64) history.erase(history.begin());
  return bytes;
}

crypto::KeyPair SimWorld::hub_key_for(uint64_t seed) {
  std::mt19937_64 rng(seed ^ 0x5eedULL);
  return seeded_key(rng);
}

SimWorld::SimWorld(Options options) : options_(std::move(options)), rng_(options_.seed) {
  issuer_ = seeded_key(rng_);
  if (!options_.audit_path.empty()) {
    hub_key_ = hub_key_for(options_.hub_seed != 0 ? options_.hub_seed : options_.seed);
    log_ = audit::AuditLog::open(options_.audit_path, hub_key_);
    for (const auto& g : log_->consumed_grants()) options_.consumed_grants.insert(g.grant_id);
  }
  gate::GateSetup setup;
  setup.hub_id = "hub-1";
  setup.config = options_.config;
  setup.authz_plugin_required = options_.authz_required;
  setup.issuer_keys["issuer-1"] = issuer_.public_key;
  setup.consumed_grants = options_.consumed_grants;
  setup.sessions_open_at_stop = options_.sessions_open_at_stop;
  setup.door_history = options_.door_history;
  setup.grants_not_before_ms = options_.grants_not_before_ms;
  setup.audit_unverified = options_.audit_unverified;
  setup.witness_required = options_.witness_required;
  gate::DoorSetup door{"front", {}};
  for (int i = 0; i < options_.cameras; ++i) {
    SimCamera cam;
    cam.id = "cam-" + std::to_string(i);
    cam.key = seeded_key(rng_);
    cam.other_key = seeded_key(rng_);
    cam.boot_id = random_string(rng_, 16);
    cam.period_ns = ms_to_ns(250);
    setup.cameras.push_back({cam.id, cam.key.public_key, options_.scene});
    door.camera_ids.push_back(cam.id);
    cameras_.push_back(std::move(cam));
  }
  setup.doors.push_back(door);
  engine_ = std::make_unique<gate::GateEngine>(setup, [this](std::span<uint8_t> out) {
    for (auto& b : out) b = static_cast<uint8_t>(rng_());
  });
  if (options_.clock_synced) engine_->on_wall_clock_synced(0);
  engine_->on_lock_state("front", lock_.reported(), 0);
  engine_->on_door_state("front", lock_.door, 0);
  engine_->start(0);
  dispatch();
  for (std::size_t i = 0; i < cameras_.size(); ++i) {
    const MonoNs phase = static_cast<MonoNs>(rng_() % static_cast<uint64_t>(cameras_[i].period_ns));
    schedule(phase, [this, i] { camera_tick(i); });
  }
}

void SimWorld::schedule(MonoNs at, std::function<void()> fn) { events_.push({at, ++seq_, std::move(fn)}); }

void SimWorld::run_for(int64_t ms) { run_until(now_ + ms_to_ns(ms)); }

void SimWorld::run_until(MonoNs t) {
  dispatch();  // whatever a test fed the engine directly
  int stuck = 0;
  while (true) {
    const MonoNs next_event = events_.empty() ? gate::kNever : events_.top().at;
    const MonoNs next_deadline = engine_->next_deadline();
    const MonoNs next = std::min(next_event, next_deadline);
    if (next > t) break;
    const MonoNs at = std::max(next, now_);
    stuck = at == now_ && next_event > now_ ? stuck + 1 : 0;
    if (stuck > 1000) throw std::logic_error("engine deadline does not advance past " + std::to_string(now_));
    now_ = at;
    if (next_event <= next_deadline) {
      WorldEvent e = events_.top();
      events_.pop();
      e.fn();
    } else {
      engine_->tick(now_);
    }
    dispatch();
  }
  now_ = std::max(now_, t);
}

bool SimWorld::warm_up(int64_t timeout_ms) {
  const MonoNs end = now_ + ms_to_ns(timeout_ms);
  while (now_ < end) {
    run_for(50);
    bool all = true;
    for (const auto& c : cameras_) all = all && engine_->camera_live(c.id, now_);
    if (all) return true;
  }
  return false;
}

void SimWorld::camera_tick(std::size_t i) {
  SimCamera& cam = cameras_[i];
  if (!cam.offline) {
    crypto::Bytes bytes = cam.attest(now_);
    ++attestations_sent_;
    const std::string id = cam.id;
    schedule(now_ + options_.attestation_latency_ns, [this, id, bytes = std::move(bytes)] {
      engine_->on_attestation(id, bytes, now_);
    });
  }
  schedule(now_ + cam.period_ns, [this, i] { camera_tick(i); });
}

void SimWorld::flush_audit() {
  if (!log_ || pending_.empty()) return;
  const uint64_t first = log_->append_batch(pending_, wall_ms(), now_);
  for (std::size_t i = 0; i < pending_.size(); ++i) acknowledged_[first + i] = pending_[i];
  pending_.clear();
}

std::string SimWorld::check_acknowledged_records() {
  flush_audit();
  if (!log_ || acknowledged_.empty()) return {};
  const auto records = log_->records(acknowledged_.begin()->first);
  std::map<uint64_t, const audit::AuditRecord*> by_seq;
  for (const auto& r : records) by_seq[r.seq] = &r;
  for (const auto& [seq, entry] : acknowledged_) {
    auto it = by_seq.find(seq);
    if (it == by_seq.end()) return "acknowledged record " + std::to_string(seq) + " is missing";
    if (!(it->second->entry == entry)) return "acknowledged record " + std::to_string(seq) + " differs";
  }
  acknowledged_.clear();
  return {};
}

std::string SimWorld::close_and_verify_audit() {
  if (!log_) return {};
  flush_audit();
  std::string problem = check_acknowledged_records();
  log_->close(wall_ms(), now_);
  log_.reset();
  const audit::VerifyReport report = audit::verify_log(options_.audit_path, hub_key_.public_key);
  if (!report.ok && problem.empty()) problem = "audit chain does not verify: " + report.message;
  return problem;
}

void SimWorld::dispatch() {
  for (;;) {
    std::vector<gate::Action> actions = engine_->take_actions();
    if (actions.empty()) return;
    for (gate::Action& action : actions) {
      if (auto* a = std::get_if<gate::SendNonce>(&action)) {
        for (std::size_t i = 0; i < cameras_.size(); ++i) {
          if (cameras_[i].id != a->camera_id) continue;
          const std::string nonce = as_string(a->nonce);
          schedule(now_ + options_.nonce_latency_ns, [this, i, nonce] {
            SimCamera& cam = cameras_[i];
            if (cam.offline) return;
            if (cam.first_nonce.empty()) cam.first_nonce = nonce;
            cam.nonce = nonce;
          });
        }
      } else if (auto* a = std::get_if<gate::StartRecording>(&action)) {
        for (std::size_t i = 0; i < cameras_.size(); ++i) {
          if (cameras_[i].id != a->camera_id) continue;
          const std::string sid = a->session_id;
          schedule(now_ + options_.nonce_latency_ns, [this, i, sid] {
            if (!cameras_[i].ignore_recording) cameras_[i].recording_session = sid;
          });
        }
      } else if (auto* a = std::get_if<gate::LivenessChanged>(&action)) {
        observed_.liveness.emplace_back(now_, *a);
      } else if (auto* a = std::get_if<gate::StopRecording>(&action)) {
        for (auto& cam : cameras_)
          if (cam.id == a->camera_id) cam.recording_session.clear();
      } else if (auto* a = std::get_if<gate::CommandUnlock>(&action)) {
        observed_.unlocks.emplace_back(now_, *a);
        check_unlock(*a);
        const uint64_t op = a->operation_id;
        const MonoNs deadline = ms_to_ns(a->relock_deadline_ms);
        if (!lock_.no_completion)
          schedule(now_ + lock_.actuation_ns, [this, op, deadline] {
            lock_finish(op, true);
            if (!lock_.jam) {
              lock_.relock_at = now_ + deadline;
              schedule(lock_.relock_at, [this] { lock_self_relock(); });
            }
          });
      } else if (auto* a = std::get_if<gate::CommandLock>(&action)) {
        observed_.locks.emplace_back(now_, *a);
        const uint64_t op = a->operation_id;
        if (!lock_.no_completion) schedule(now_ + lock_.actuation_ns, [this, op] { lock_finish(op, false); });
      } else if (auto* a = std::get_if<gate::RaiseAlarm>(&action)) {
        if (a->rule == Rule::U5) {
          MonoNs last = 0;
          for (const auto& cam : cameras_)
            if (auto t = engine_->monitor(cam.id)->last_accepted(); t && !engine_->camera_live(cam.id, now_))
              last = std::max(last, *t);
          observed_.u5_delays.push_back(now_ - last);
        }
        observed_.alarms.push_back(*a);
        observed_.timed_alarms.emplace_back(now_, *a);
      } else if (auto* a = std::get_if<gate::AppendAudit>(&action)) {
        const audit::AuditEntry entry{a->type, a->rule, a->door_id, a->subject, a->detail, a->kind, a->value};
        if (a->durable_token != 0) {
          bool committed = !storage_fails;
          if (log_) {
            flush_audit();  // what came before the decision lands before it
            if (storage_fails) log_->inject_commit_failures(1);
            const audit::DecisionCommit r = log_->commit_decision(entry, a->consumes_grant, wall_ms(), now_);
            if (r.status == audit::DecisionCommit::Status::kAlreadyConsumed) ++consumed_twice_;
            committed = r.committed();
            if (committed) acknowledged_[r.seq] = entry;
          }
          if (!committed) {
            engine_->on_audit_committed(a->durable_token, false, now_);
            continue;
          }
          if (!a->consumes_grant.empty() && !consumed_.insert(a->consumes_grant).second) ++consumed_twice_;
          audit_.push_back({*a, now_, true});
          engine_->on_audit_committed(a->durable_token, true, now_);
        } else {
          audit_.push_back({*a, now_, false});
          if (log_) pending_.push_back(entry);
        }
      } else if (auto* a = std::get_if<gate::Decision>(&action)) {
        observed_.decisions.push_back(*a);
      }
    }
  }
}

void SimWorld::check_unlock(const gate::CommandUnlock& cmd) {
  auto fail = [&](const std::string& why) {
    ++observed_.i1_violations;
    observed_.i1_details.push_back("unlock at " + std::to_string(now_ / 1'000'000) + " ms: " + why);
  };
  for (const auto& cam : cameras_) {
    if (!engine_->camera_live(cam.id, now_)) fail(cam.id + " not LIVE");
    if (engine_->monitor(cam.id)->recording_session() != cmd.session_id) fail(cam.id + " not recording the session");
  }
  // The decision record with the consumed grant must be durable already (U3).
  const auto view = engine_->door(cmd.door_id);
  if (!view || !view->session) return fail("no session behind the unlock");
  const std::string grant_hex = crypto::to_hex(crypto::view(view->session->grant_id));
  bool durable = false;
  for (const auto& r : audit_) durable = durable || (r.durable && r.entry.consumes_grant == grant_hex);
  if (!durable) fail("decision not durable before the unlock");
  if (!valid_grants_.count(view->session->grant_id)) fail("grant was not a valid one the issuer minted for this door");
}

void SimWorld::lock_finish(uint64_t op, bool unlock) {
  if (lock_.jam) {
    lock_.bolt = LK_LOCK_STATE_NOT_FULLY_LOCKED;
    engine_->on_lock_alarm("front", LK_ALARM_LOCK_JAMMED, now_);
    dispatch();
    engine_->on_lock_completion("front", op, LK_ERR_JAMMED, lock_.reported(), now_);
    return;
  }
  lock_.bolt = unlock ? LK_LOCK_STATE_UNLOCKED : LK_LOCK_STATE_LOCKED;
  if (!unlock) lock_.relock_at = gate::kNever;
  engine_->on_lock_state("front", lock_.reported(), now_);
  dispatch();
  engine_->on_lock_completion("front", op, LK_OK, lock_.reported(), now_);
}

void SimWorld::lock_self_relock() {
  if (lock_.bolt != LK_LOCK_STATE_UNLOCKED || now_ < lock_.relock_at || lock_.jam || lock_.no_self_relock) return;
  if (lock_.door != LK_DOOR_STATE_CLOSED) return;  // relocks when the door closes
  lock_.bolt = LK_LOCK_STATE_LOCKED;
  lock_.relock_at = gate::kNever;
  engine_->on_lock_state("front", lock_.reported(), now_);
}

void SimWorld::open_door() {
  if (lock_.bolt == LK_LOCK_STATE_LOCKED) return;  // a thrown bolt holds the door
  lock_.door = LK_DOOR_STATE_OPEN;
  engine_->on_door_state("front", lock_.door, now_);
  dispatch();
}

void SimWorld::close_door() {
  lock_.door = LK_DOOR_STATE_CLOSED;
  engine_->on_door_state("front", lock_.door, now_);
  dispatch();
  if (lock_.relock_at != gate::kNever && now_ >= lock_.relock_at) {
    lock_self_relock();
    dispatch();
  }
}

Grant SimWorld::mint(int64_t not_before_offset_ms, int64_t not_after_offset_ms, const std::string& door,
                     const std::string& hub) {
  Grant g;
  g.courier = seeded_key(rng_);
  g.grant_id = random_string(rng_, 16);
  v1::Grant grant;
  grant.set_grant_id(g.grant_id);
  grant.set_issuer_key_id("issuer-1");
  grant.set_hub_id(hub);
  grant.set_door_id(door);
  grant.set_courier_id("courier-" + std::to_string(++grant_counter_));
  grant.set_courier_public_key(std::string(g.courier.public_key.begin(), g.courier.public_key.end()));
  grant.set_not_before_unix_ms(wall_ms() + not_before_offset_ms);
  grant.set_not_after_unix_ms(wall_ms() + not_after_offset_ms);
  grant.set_uses(1);
  g.signed_grant = crypto::mint_grant(grant, issuer_.secret_key);
  const int64_t lifetime = not_after_offset_ms - not_before_offset_ms;
  if (door == "front" && hub == "hub-1" && not_before_offset_ms <= 0 && not_after_offset_ms >= 0 &&
      lifetime <= gate::GateConfig::kMaxGrantLifetimeMs)
    valid_grants_.insert(g.grant_id);
  minted_.insert(std::string(g.signed_grant.begin(), g.signed_grant.end()));
  return g;
}

Grant SimWorld::forge() {
  Grant g = mint();
  v1::SignedGrant sg;
  sg.ParseFromArray(g.signed_grant.data(), static_cast<int>(g.signed_grant.size()));
  const crypto::KeyPair attacker = seeded_key(rng_);
  const crypto::Signature sig = crypto::sign(crypto::kGrantDomain, crypto::view(sg.grant()), attacker.secret_key);
  sg.set_signature(sig.data(), sig.size());
  const std::string out = sg.SerializeAsString();
  g.signed_grant.assign(out.begin(), out.end());
  return g;
}

crypto::Bytes SimWorld::challenge(const std::string& door) { return engine_->issue_challenge(door, now_); }

crypto::Bytes SimWorld::request_bytes(const Grant& g, const crypto::Bytes& challenge, const std::string& door) {
  return crypto::make_unlock_request(g.signed_grant, door, challenge, g.courier.secret_key);
}

uint64_t SimWorld::request(const crypto::Bytes& bytes, std::optional<gate::AuthzVerdict> verdict,
                           const std::string& door) {
  if (!verdict) {
    // What a correct authorization plugin answers: the issuer's own record of
    // the grants it minted for this hub and door (no second signature check,
    // which keeps the simulation fast; the engine checks the grant itself).
    gate::AuthzVerdict v;
    v.outcome = gate::AuthzVerdict::Outcome::kRefused;
    v.message = "unknown or invalid credential";
    v1::UnlockRequest req;
    v1::SignedGrant signed_grant;
    v1::Grant grant;
    if (req.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) &&
        signed_grant.ParseFromString(req.signed_grant()) && grant.ParseFromString(signed_grant.grant()) &&
        valid_grants_.count(grant.grant_id()) && door == "front" && minted_.count(req.signed_grant())) {
      v.outcome = gate::AuthzVerdict::Outcome::kAccepted;
      v.grant_id = grant.grant_id();
      v.door_id = grant.door_id();
      v.message.clear();
    }
    verdict = v;
  }
  if (!options_.authz_latency_ns) {
    const uint64_t id = engine_->request_unlock(door, bytes, *verdict, wall_ms(), now_);
    dispatch();
    return id;
  }
  gate::AuthzVerdict pending;
  pending.outcome = gate::AuthzVerdict::Outcome::kPending;
  const uint64_t id = engine_->request_unlock(door, bytes, pending, wall_ms(), now_);
  dispatch();
  schedule(now_ + *options_.authz_latency_ns, [this, id, v = *verdict] {
    engine_->on_authz_verdict(id, v, now_);
    dispatch();
  });
  return id;
}

uint64_t SimWorld::request_with(const Grant& g, const std::string& door) {
  const crypto::Bytes c = challenge(door);
  return request(request_bytes(g, c, door), std::nullopt, door);
}

std::optional<gate::Decision> SimWorld::decision(uint64_t request_id) const {
  for (const auto& d : observed_.decisions)
    if (d.request_id == request_id) return d;
  return std::nullopt;
}

int SimWorld::alarms_with(const std::string& rule) const {
  int n = 0;
  for (const auto& a : observed_.alarms) n += name(a.rule) == rule;
  return n;
}

}  // namespace latchkey::sim
