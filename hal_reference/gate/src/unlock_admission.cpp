// The engine admitting an unlock: challenges (G2), the checks of a request
// (G1-G4, F1, F3, U1, U2, U6), the wait for recording (U2), the durable
// commit (U3, G3) and the unlock command with its relock deadline (U4).
#include "engine_state.hpp"

#include <latchkey/crypto/grants.hpp>
#include <latchkey/cpp/names.hpp>

#include <algorithm>

namespace latchkey::gate {

using engine_detail::hex;
using engine_detail::to_ms;
using engine_detail::view;

// G4: counts a rejected request; the fifth within 10 minutes locks remote unlock.
void GateEngine::State::count_rejection(Door& door, MonoNs now) {
  door.rejections.push_back(now);
  while (!door.rejections.empty() && now - door.rejections.front() > ms_to_ns(GateConfig::kLockoutWindowMs))
    door.rejections.pop_front();
  if (static_cast<int64_t>(door.rejections.size()) < GateConfig::kLockoutThreshold) return;
  door.rejections.clear();
  const int64_t ms = std::min(GateConfig::kLockoutBaseMs << std::min(door.lockouts, 20), GateConfig::kLockoutMaxMs);
  ++door.lockouts;
  door.lockout_until = now + ms_to_ns(ms);
  // Durable state for the next start (restart_history.cpp): a restart must
  // not lift a lockout nor restart the doubling.
  audit("lockout", Rule::G4, door.setup.door_id, "",
        "locked for " + std::to_string(ms) + " ms, lockout " + std::to_string(door.lockouts), RecordKind::kLockout,
        ms);
  alarm(Rule::G4, door.setup.door_id, "",
        "5 rejected unlock requests within 10 min: remote unlock locked for " + std::to_string(ms / 1000) + " s");
}

// G4 counts rejected requests. Not counted: a lockout's own denies, and
// requests refused for the hub's own reasons (its storage failing, U3, or
// its log not confirmed by the fleet witness, A2) or
// because a challenge flood evicted the courier's challenge.
void GateEngine::State::deny(uint64_t request_id, Door* door, const std::string& door_id, Rule rule,
          const std::string& message, const std::string& subject, MonoNs now, bool counted) {
  counted = counted && door != nullptr && rule != Rule::G4 && rule != Rule::U3 && rule != Rule::A2;
  actions.push_back(Decision{request_id, door_id, false, rule, message, {}});
  audit("decision", rule, door_id, subject, counted ? "deny: " + message : "deny (not counted for G4): " + message,
        counted ? RecordKind::kDeny : RecordKind::kDenyUncounted);
  if (counted) count_rejection(*door, now);
}

// U2: once every required camera acknowledges recording for this session
// in an accepted attestation, the decision goes to the audit log (U3).
void GateEngine::State::check_recording(Door& door, MonoNs now) {
  if (!door.session || door.session->phase != Phase::kAwaitingRecording || door.session->authz_pending) return;
  Session& s = *door.session;
  // G1 again where the allow is decided: the grant may have been revoked
  // while the cameras were asked to record.
  if (grant_revoked(s.grant_hex, s.issuer_key_id)) {
    deny_pending(door, Rule::G1, "grant is revoked", now);
    return;
  }
  std::string counters;
  for (const std::string& camera_id : s.view.camera_ids) {
    const LivenessMonitor& m = *cameras.at(camera_id).monitor;
    if (m.recording_session() != s.view.session_id) return;
    counters += (counters.empty() ? "" : ", ") + camera_id + "#" + std::to_string(m.last_counter());
  }
  s.phase = Phase::kAwaitingCommit;
  s.commit_token = ++next_token;
  // The subject is the session: this durable record is what tells a
  // restarted hub that a session may have begun (F2), whatever follows.
  actions.push_back(AppendAudit{"decision", Rule::kNone, door.setup.door_id, hex(s.view.session_id),
                                "allow: grant " + s.grant_hex + ", courier " + s.view.courier_id + ", cameras " +
                                    counters,
                                RecordKind::kAllow, 0, s.commit_token, s.grant_hex});
}

void GateEngine::State::deny_revoked_pending(MonoNs now) {
  for (auto& [door_id, door] : doors) {
    if (!door.session || door.session->phase != Phase::kAwaitingRecording) continue;
    if (grant_revoked(door.session->grant_hex, door.session->issuer_key_id))
      deny_pending(door, Rule::G1, "grant is revoked", now);
  }
}

void GateEngine::on_wall_clock_synced(MonoNs now) { s_->last_clock_sync = now; }

void GateEngine::on_audit_committed(uint64_t token, bool ok, MonoNs now) {
  for (auto& [door_id, door] : s_->doors) {
    if (!door.session || door.session->phase != State::Phase::kAwaitingCommit || door.session->commit_token != token)
      continue;
    State::Session& s = *door.session;
    if (!ok) {
      s_->storage_failed = true;
      s_->alarm(Rule::U3, door_id, "", "audit log commit failed: no log, no unlock; granting stops until storage recovers");
      s_->deny_pending(door, Rule::U3, "the decision could not be committed to the audit log", now);
      return;
    }
    s_->reserved.erase(s.grant_hex);
    s_->consumed.insert(s.grant_hex);  // durable now (G3)
    // G1: a revocation that came while the allow was being committed still
    // stops the unlock. The allow record is durable, so the grant stays consumed.
    if (s_->grant_revoked(s.grant_hex, s.issuer_key_id)) {
      s_->audit("decision", Rule::G1, door_id, hex(s.view.session_id),
                "allow withdrawn: grant " + s.grant_hex + " was revoked before the unlock; it stays consumed",
                RecordKind::kAllowWithdrawn);
      s_->deny_pending(door, Rule::G1, "grant is revoked", now);
      return;
    }
    // Time passed while cameras acknowledged and the log committed: the lock,
    // the door (F1) and the cameras (U1) must still be right now.
    if (auto doubt = s_->door_doubt(door)) {
      s_->audit("decision", Rule::F1, door_id, hex(s.view.session_id),
                "allow withdrawn: " + *doubt + "; grant " + s.grant_hex + " stays consumed",
                RecordKind::kAllowWithdrawn);
      s_->deny_pending(door, Rule::F1, *doubt, now);
      return;
    }
    for (const std::string& camera_id : s.view.camera_ids) {
      if (!s_->live(camera_id, now)) {
        s_->audit("decision", Rule::U1, door_id, hex(s.view.session_id),
                  "allow withdrawn: camera " + camera_id + " not LIVE at commit; grant " + s.grant_hex + " stays consumed",
                  RecordKind::kAllowWithdrawn);
        s_->deny_pending(door, Rule::U1, "camera " + camera_id + " stopped being LIVE before the unlock", now);
        return;
      }
    }
    s.view.unlocked = true;
    s.view.unlock_sent_at = now;
    // The hub itself opens the door now: an older relock, pending or to be
    // retried, belongs to the past and must not cut this session short.
    door.relock_wanted = false;
    door.relock_retry_at = kNever;
    s.phase = State::Phase::kUnlocking;
    s.session_deadline = now + ms_to_ns(s_->setup.config.session_max_ms);
    s.hub_relock_at = now + ms_to_ns(s_->setup.config.relock_deadline_ms);
    door.lockouts = 0;
    door.op = State::Operation{++s_->next_operation_id, true, now + ms_to_ns(s_->setup.config.lock_command_timeout_ms),
                               Rule::U3};
    s_->actions.push_back(Decision{s.request_id, door_id, true, Rule::kNone, "unlock", s.view.session_id});
    s_->actions.push_back(
        CommandUnlock{door_id, door.op.id, s_->setup.config.relock_deadline_ms, s.view.session_id});
    s_->audit("session", Rule::kNone, door_id, hex(s.view.session_id),
              "opened: unlock operation " + std::to_string(door.op.id) + ", grant " + s.grant_hex + ", relock deadline " +
                  std::to_string(s_->setup.config.relock_deadline_ms) + " ms",
              RecordKind::kSessionOpened);
    return;
  }
}

void GateEngine::on_storage_recovered(MonoNs now) {
  if (!s_->storage_failed) return;
  s_->storage_failed = false;
  s_->audit("hub", Rule::U3, "", "", "storage recovered: granting resumes");
  (void)now;
}

void GateEngine::on_witness_confirmed(const std::string& detail, MonoNs now) {
  (void)now;
  if (s_->witness_hold != WitnessHold::kAwaiting) return;
  s_->witness_hold = WitnessHold::kNone;
  s_->audit("hub", Rule::A2, "", "", "fleet witness confirmed the audit log: " + detail + "; granting may begin");
}

void GateEngine::on_witness_refused(const std::string& detail, MonoNs now) {
  (void)now;
  if (s_->witness_hold == WitnessHold::kRefused) return;
  s_->witness_hold = WitnessHold::kRefused;
  s_->witness_refusal = detail;
  s_->alarm(Rule::A2, "", "",
            "the fleet witness shows the audit log was rolled back: " + detail +
                "; no unlock until a person resolves it (docs/fleet.md)");
}

void GateEngine::revoke(const std::string& grant_id_hex, MonoNs now) {
  s_->revoked.insert(grant_id_hex);
  s_->audit("grant", Rule::G1, "", grant_id_hex, "revoked");
  s_->deny_revoked_pending(now);
}

std::size_t GateEngine::set_issuer_revocations(const std::string& issuer_key_id,
                                               const std::set<std::string>& grant_ids_hex, const std::string& reason,
                                               MonoNs now) {
  std::set<std::string>& held = s_->revoked_by_issuer[issuer_key_id];
  std::size_t added = 0;
  for (const std::string& grant : grant_ids_hex) {
    if (held.count(grant)) continue;
    s_->audit("grant", Rule::G1, "", grant, reason);
    ++added;
  }
  held = grant_ids_hex;
  s_->deny_revoked_pending(now);
  return added;
}

crypto::Bytes GateEngine::issue_challenge(const std::string& door_id, MonoNs now) {
  auto it = s_->doors.find(door_id);
  if (it == s_->doors.end()) return {};
  auto& challenges = it->second.challenges;
  auto& evicted = it->second.evicted_challenges;
  const MonoNs ttl = ms_to_ns(s_->setup.config.challenge_ttl_ms);
  const auto expired = [&](const auto& entry) { return now - entry.second > ttl; };
  std::erase_if(challenges, expired);
  std::erase_if(evicted, expired);
  while (static_cast<int>(challenges.size()) >= GateConfig::kMaxChallengesPerDoor) {
    auto oldest = std::min_element(challenges.begin(), challenges.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
    // Remembered until its TTL; when that memory is full too, the oldest
    // dropped challenge goes (a flood must then outrun 4096 requests within
    // one courier's sign-and-submit time to cost the courier a counted deny).
    if (static_cast<int>(evicted.size()) >= GateConfig::kMaxEvictedChallengesPerDoor) {
      evicted.erase(std::min_element(evicted.begin(), evicted.end(),
                                     [](const auto& a, const auto& b) { return a.second < b.second; }));
    }
    evicted.insert(*oldest);
    challenges.erase(oldest);
  }
  crypto::Bytes challenge(32);  // 256 bits (G2 asks >= 128)
  s_->random(std::span<uint8_t>(challenge));
  challenges[std::string(challenge.begin(), challenge.end())] = now;
  return challenge;
}

namespace {

// F3: why the authorization plugin's verdict stops this grant at this door,
// or nothing when it lets the engine go on. Necessary, never sufficient.
std::optional<std::string> authz_refusal(const AuthzVerdict& verdict, const std::string& grant_id,
                                         const std::string& door_id, bool plugin_required) {
  using Outcome = AuthzVerdict::Outcome;
  switch (verdict.outcome) {
    case Outcome::kRefused: return "authorization plugin refused: " + verdict.message;
    case Outcome::kFailed: return "authorization plugin failed: " + verdict.message;
    case Outcome::kNotConsulted:
      if (plugin_required) return std::string("no authorization plugin verdict");
      return std::nullopt;
    case Outcome::kAccepted:
      if (verdict.grant_id != grant_id || verdict.door_id != door_id)
        return std::string("authorization plugin's grant differs from the presented one");
      return std::nullopt;
    case Outcome::kPending: return std::nullopt;  // decided in on_authz_verdict
  }
  return std::string("authorization plugin verdict is not understood");
}

}  // namespace

std::optional<UnlockRefusal> GateEngine::State::hub_refusal(const Door& door, MonoNs now) const {
  if (storage_failed) {
    if (!setup.audit_unverified.empty())
      return UnlockRefusal{Rule::U3, "the audit log does not verify: no log, no unlock (latchkeyd --recover-audit)"};
    return UnlockRefusal{Rule::U3, "the audit log is failing: no log, no unlock"};
  }
  if (witness_hold == GateEngine::WitnessHold::kRefused)
    return UnlockRefusal{Rule::A2, "the fleet witness shows the audit log was rolled back (" + witness_refusal +
                                       "): no unlock until a person resolves it (docs/fleet.md)"};
  if (witness_hold == GateEngine::WitnessHold::kAwaiting)
    return UnlockRefusal{Rule::A2, "waiting for the fleet witness to confirm the audit log (docs/fleet.md)"};
  if (door.lockout_until > now)
    return UnlockRefusal{Rule::G4, "remote unlock is locked out for " + std::to_string(to_ms(door.lockout_until - now)) + " ms"};
  if (!clock_synced(now)) return UnlockRefusal{Rule::F1, "the wall clock has not been synchronised within 24 h"};
  return std::nullopt;
}

std::optional<UnlockRefusal> GateEngine::State::door_refusal(const std::string& door_id, const Door& door,
                                                             const std::vector<std::string>& required,
                                                             MonoNs now) const {
  // One session per door at a time (U6).
  if (door.session) return UnlockRefusal{Rule::U6, "a session is already under way at this door"};
  // F1: the lock and door must be in a known, consistent state.
  if (auto doubt = door_doubt(door)) return UnlockRefusal{Rule::F1, *doubt};
  // U1: every required camera must be enrolled and LIVE.
  if (required.empty()) return UnlockRefusal{Rule::U1, "no camera is bound to this door"};
  for (const std::string& c : required) {
    if (!cameras.count(c)) return UnlockRefusal{Rule::U1, "required camera '" + c + "' is not enrolled"};
    if (!live(c, now)) return UnlockRefusal{Rule::U1, "required camera '" + c + "' is not LIVE"};
  }
  // U2: a camera records one session at a time; another door's session keeps it.
  for (const auto& [other_id, other] : doors) {
    if (!other.session || other_id == door_id) continue;
    for (const std::string& c : required)
      for (const std::string& busy : other.session->view.camera_ids)
        if (c == busy) return UnlockRefusal{Rule::U2, "camera '" + c + "' is recording a session at door '" + other_id + "'"};
  }
  return std::nullopt;
}

std::optional<UnlockRefusal> GateEngine::unlock_refusal(const std::string& door_id, MonoNs now) const {
  auto it = s_->doors.find(door_id);
  if (it == s_->doors.end()) return std::nullopt;
  if (auto refusal = s_->hub_refusal(it->second, now)) return refusal;
  return s_->door_refusal(door_id, it->second, it->second.setup.camera_ids, now);
}

uint64_t GateEngine::request_unlock(const std::string& door_id, crypto::ByteView bytes, const AuthzVerdict& verdict,
                                    int64_t wall_ms, MonoNs now) {
  v1::UnlockRequest request;
  const bool parsed = !bytes.empty() && request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  return request_unlock(door_id, parsed ? &request : nullptr, verdict, wall_ms, now);
}

void GateEngine::on_authz_verdict(uint64_t request_id, const AuthzVerdict& verdict, MonoNs now) {
  for (auto& [door_id, door] : s_->doors) {
    if (!door.session || door.session->request_id != request_id || !door.session->authz_pending ||
        door.session->phase != State::Phase::kAwaitingRecording)
      continue;
    State::Session& s = *door.session;
    if (verdict.outcome == AuthzVerdict::Outcome::kPending) return;
    if (auto refusal = authz_refusal(verdict, s.view.grant_id, door_id, s_->setup.authz_plugin_required)) {
      s_->deny_pending(door, Rule::F3, *refusal, now);
      return;
    }
    s.authz_pending = false;
    s_->check_recording(door, now);
    return;
  }
}

uint64_t GateEngine::request_unlock(const std::string& door_id, const v1::UnlockRequest* parsed,
                                    const AuthzVerdict& verdict, int64_t wall_ms, MonoNs now) {
  s_->refresh_cameras(now);
  const uint64_t id = ++s_->next_request_id;
  auto it = s_->doors.find(door_id);
  if (it == s_->doors.end()) {
    s_->deny(id, nullptr, door_id, Rule::G1, "unknown door '" + door_id + "'", "", now);
    return id;
  }
  State::Door& door = it->second;
  auto deny = [&](Rule rule, const std::string& message, const std::string& subject = "") {
    s_->deny(id, &door, door_id, rule, message, subject, now);
    return id;
  };

  if (auto refusal = s_->hub_refusal(door, now)) return deny(refusal->rule, refusal->message);

  if (parsed == nullptr) return deny(Rule::G2, "unlock request does not parse");
  const v1::UnlockRequest& request = *parsed;

  // G1, the hub's own check whatever the plugin said (F3).
  crypto::GrantExpectations expect{s_->setup.hub_id, door_id, wall_ms, s_->setup.config.grant_skew_ms};
  const auto& keys = s_->setup.issuer_keys;
  const crypto::GrantCheck check = crypto::check_signed_grant(
      view(request.signed_grant()),
      [&](const std::string& key_id) -> std::optional<crypto::PublicKey> {
        auto k = keys.find(key_id);
        if (k == keys.end()) return std::nullopt;
        return k->second;
      },
      expect);
  if (!check.ok()) return deny(Rule::G1, std::string(crypto::to_string(check.refusal)) + ": " + check.message);
  const v1::Grant& grant = check.grant;
  const std::string grant_hex = hex(grant.grant_id());
  if (s_->revoked.count(grant_hex)) return deny(Rule::G1, "grant is revoked", grant_hex);
  // A fleet revocation list names grants of its own issuer only (docs/fleet.md).
  if (const auto listed = s_->revoked_by_issuer.find(grant.issuer_key_id());
      listed != s_->revoked_by_issuer.end() && listed->second.count(grant_hex))
    return deny(Rule::G1, "grant is revoked", grant_hex);
  if (s_->consumed.count(grant_hex) || s_->reserved.count(grant_hex))
    return deny(Rule::G3, "grant has already been used", grant_hex);
  if (grant.not_before_unix_ms() < s_->setup.grants_not_before_ms)
    return deny(Rule::G3,
                "grant was issued before the audit log was recovered (" +
                    std::to_string(s_->setup.grants_not_before_ms) + " ms): the hub cannot prove it unused",
                grant_hex);

  // F3: the authorization plugin's verdict is necessary, never sufficient.
  // A pending one is decided before the commit (on_authz_verdict).
  if (auto refusal = authz_refusal(verdict, grant.grant_id(), door_id, s_->setup.authz_plugin_required))
    return deny(Rule::F3, *refusal, grant_hex);

  // G2: proof of presence over (grant id, door id, a fresh single-use hub challenge).
  v1::PresenceStatement presence;
  if (!presence.ParseFromString(request.presence())) return deny(Rule::G2, "presence statement does not parse", grant_hex);
  if (presence.grant_id() != grant.grant_id()) return deny(Rule::G2, "presence names another grant", grant_hex);
  if (presence.door_id() != door_id) return deny(Rule::G2, "presence names another door", grant_hex);
  auto challenge = door.challenges.find(presence.challenge());
  if (challenge == door.challenges.end()) {
    // A challenge the hub issued and then dropped under a flood of challenge
    // requests: the courier did nothing wrong and must not be locked out (G4).
    if (auto evicted = door.evicted_challenges.find(presence.challenge()); evicted != door.evicted_challenges.end()) {
      door.evicted_challenges.erase(evicted);
      s_->deny(id, &door, door_id, Rule::G2,
               "challenge was dropped by a flood of challenge requests at this door; request a new one", grant_hex, now,
               false);
      return id;
    }
    return deny(Rule::G2, "challenge was never issued for this door or was already used", grant_hex);
  }
  const MonoNs issued = challenge->second;
  door.challenges.erase(challenge);  // usable once, whatever happens next
  if (now - issued > ms_to_ns(s_->setup.config.challenge_ttl_ms))
    return deny(Rule::G2, "challenge expired " + std::to_string(to_ms(now - issued)) + " ms after issue", grant_hex);
  crypto::PublicKey courier_key;
  std::copy(grant.courier_public_key().begin(), grant.courier_public_key().end(), courier_key.begin());
  if (!crypto::verify(crypto::kPresenceDomain, view(request.presence()), view(request.presence_signature()),
                      courier_key))
    return deny(Rule::G2, "proof of presence is not signed by the grant's courier key", grant_hex);

  // U1: every bound camera and every camera the grant names.
  std::vector<std::string> required = door.setup.camera_ids;
  for (const std::string& c : grant.required_camera_ids())
    if (std::find(required.begin(), required.end(), c) == required.end()) required.push_back(c);
  if (auto refusal = s_->door_refusal(door_id, door, required, now))
    return deny(refusal->rule, refusal->message, grant_hex);

  // U2: ask every required camera to record this session before anything moves.
  State::Session s;
  s.request_id = id;
  s.grant_hex = grant_hex;
  s.issuer_key_id = grant.issuer_key_id();
  s.view.session_id.resize(16);
  s_->random(std::span<uint8_t>(reinterpret_cast<uint8_t*>(s.view.session_id.data()), 16));
  s.view.door_id = door_id;
  s.view.grant_id = grant.grant_id();
  s.view.courier_id = grant.courier_id();
  s.view.camera_ids = required;
  s.recording_deadline = now + ms_to_ns(s_->setup.config.recording_ack_timeout_ms);
  s.authz_pending = verdict.outcome == AuthzVerdict::Outcome::kPending;
  const std::string session_id = s.view.session_id;
  door.session = std::move(s);
  s_->reserved.insert(grant_hex);
  s_->audit("request", Rule::U2, door_id, grant_hex, "checks passed; waiting for cameras to record session " + hex(session_id));
  for (const std::string& c : required) s_->actions.push_back(StartRecording{c, session_id});
  s_->check_recording(door, now);
  return id;
}

}  // namespace latchkey::gate
