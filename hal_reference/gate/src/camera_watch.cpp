// The engine and its cameras: attestations (C1-C3, C5, C7, C8 through the
// LivenessMonitor), LIVE and not LIVE (C4), what losing a camera does to a
// session (U1, U5), health (C6) and tamper (C8) alarms, faults and
// re-enrolment (C1, C3, F1).
#include "engine_state.hpp"

#include <latchkey/lk_camera.h>

#include <algorithm>

namespace latchkey::gate {

using engine_detail::hex;
using engine_detail::to_ms;
using engine_detail::view;

// Processes the liveness transitions due by `now`: U5 for open sessions,
// U1 for pending ones, C6 health alarms.
void GateEngine::State::refresh_cameras(MonoNs now) {
  while (!watch.empty() && watch.begin()->first <= now) {
    const std::string id = watch.begin()->second;
    refresh_camera(id, now);
  }
}

void GateEngine::State::rewatch(const std::string& id, Camera& cam) {
  if (cam.watch_at != kNever) watch.erase({cam.watch_at, id});
  cam.watch_at = watch_time(cam);
  if (cam.watch_at != kNever) watch.insert({cam.watch_at, id});
}

// One camera's transitions at `now` (after an attestation, a fault, or its deadline).
void GateEngine::State::refresh_camera(const std::string& id, MonoNs now) {
  if (!started) return;  // no health before the engine runs
  Camera& cam = cameras.at(id);
  {
    const bool is_live = cam.monitor->live(now);
    if (cam.was_live && !is_live) {
      const MonoNs until = cam.monitor->live_until();
      cam.not_live_since = until != kNever && until <= now ? until : now;
      cam.was_live = false;
      const bool tampered = cam.monitor->tampered(now);
      audit("camera", tampered ? Rule::C8 : Rule::C4, "", id,
            tampered ? "camera is no longer LIVE: " + cam.monitor->tamper_problem() + " for longer than " +
                           std::to_string(setup.config.tamper_window_ms) + " ms"
                     : std::string("camera is no longer LIVE"));
      // C8: the camera-tamper alarm when the window ends, once per episode.
      if (tampered && !cam.tamper_alarmed) {
        cam.tamper_alarmed = true;
        const std::string message = "camera-tamper: " + cam.monitor->tamper_problem() + " for longer than " +
                                    std::to_string(setup.config.tamper_window_ms) + " ms";
        for (const std::string& door_id : cam.doors) alarm(Rule::C8, door_id, id, message);
        if (cam.doors.empty()) alarm(Rule::C8, "", id, message);
      }
      // Said before what the loss does to sessions, so that it is seen first.
      actions.push_back(LivenessChanged{id, false, cam.monitor->last_accepted().value_or(kNever)});
      camera_lost(id, now);
    } else if (!cam.was_live && is_live) {
      cam.was_live = true;
      cam.health_alarmed = false;
      audit("camera", Rule::C4, "", id, "camera is LIVE");
      actions.push_back(LivenessChanged{id, true, cam.monitor->last_accepted().value_or(kNever)});
    }
    if (!is_live && !cam.doors.empty() && !cam.health_alarmed &&
        now - cam.not_live_since >= ms_to_ns(setup.config.health_timeout_ms)) {
      cam.health_alarmed = true;
      for (const std::string& door_id : cam.doors)
        alarm(Rule::C6, door_id, id,
              "camera " + id + " offline for " + std::to_string(to_ms(now - cam.not_live_since)) + " ms");
    }
  }
  rewatch(id, cam);
}

void GateEngine::State::camera_lost(const std::string& camera_id, MonoNs now) {
  for (auto& [door_id, door] : doors) {
    if (!door.session) continue;
    Session& s = *door.session;
    const auto& ids = s.view.camera_ids;
    if (std::find(ids.begin(), ids.end(), camera_id) == ids.end()) continue;
    if (s.view.unlocked)
      compromise(door, Rule::U5, "required camera " + camera_id + " stopped being LIVE during the session", now);
    else
      deny_pending(door, Rule::U1, "required camera " + camera_id + " stopped being LIVE before the unlock", now);
  }
}

std::string camera_identity_problem(const std::string& camera_id, const crypto::PublicKey& pinned_key,
                                    const std::string& reported_id, crypto::ByteView reported_key) {
  if (reported_key.size() != pinned_key.size() || !std::equal(pinned_key.begin(), pinned_key.end(), reported_key.begin()))
    return "holds the key " + crypto::to_hex(reported_key) + ", not the pinned key " + crypto::to_hex(pinned_key);
  if (reported_id != camera_id) return "calls itself '" + reported_id + "', not '" + camera_id + "'";
  return {};
}

void GateEngine::on_attestation(const std::string& camera_id, crypto::ByteView bytes, MonoNs now) {
  s_->refresh_cameras(now);
  auto it = s_->cameras.find(camera_id);
  if (it == s_->cameras.end()) {
    s_->audit("attestation_rejected", Rule::C1, "", camera_id, "attestation from a camera that is not enrolled");
    return;
  }
  const AttestationVerdict v = it->second.monitor->on_attestation(bytes, now);
  if (!v.accepted) s_->audit("attestation_rejected", v.rule, "", camera_id, v.reason);
  // C8: a camera-tamper alarm, once until the camera's view is good again.
  auto& cam = it->second;
  if (!v.accepted && v.rule == Rule::C8 && !cam.tamper_alarmed) {
    cam.tamper_alarmed = true;
    for (const std::string& door_id : cam.doors) s_->alarm(Rule::C8, door_id, camera_id, "camera-tamper: " + v.reason);
    if (cam.doors.empty()) s_->alarm(Rule::C8, "", camera_id, "camera-tamper: " + v.reason);
  } else if (v.accepted) {
    cam.tamper_alarmed = false;
  }
  s_->refresh_camera(camera_id, now);
  if (v.accepted && v.recording)
    for (const std::string& door_id : it->second.doors) s_->check_recording(s_->doors.at(door_id), now);
  // A grant may name extra cameras not bound to the door.
  if (v.accepted && v.recording)
    for (auto& [door_id, door] : s_->doors)
      if (door.session) s_->check_recording(door, now);
}

void GateEngine::on_camera_fault(const std::string& camera_id, const std::string& reason, MonoNs now) {
  s_->refresh_cameras(now);
  auto it = s_->cameras.find(camera_id);
  if (it == s_->cameras.end()) return;
  s_->audit("plugin_fault", Rule::F1, "", camera_id, reason);
  it->second.monitor->mark_not_live();
  s_->refresh_camera(camera_id, now);
}

void GateEngine::on_camera_message_refused(const std::string& camera_id, uint32_t refusal, const std::string& reason,
                                           MonoNs now) {
  auto it = s_->cameras.find(camera_id);
  if (it == s_->cameras.end()) return;
  // Plugins send at most one a second per kind (lk_camera.h); a plugin that
  // sends more gets at most two records a second, the rest counted. Unknown
  // kinds share one count.
  const uint32_t bucket = refusal >= LK_CAMERA_REFUSED_MALFORMED && refusal <= LK_CAMERA_REFUSED_FOREIGN ? refusal : 0;
  auto& pace = it->second.refusals[bucket];
  if (pace.recorded && now - pace.last_record < ms_to_ns(500)) {
    ++pace.unrecorded;
    return;
  }
  const char* kind = refusal == LK_CAMERA_REFUSED_MALFORMED   ? "malformed"
                     : refusal == LK_CAMERA_REFUSED_OVERSIZED ? "oversized"
                     : refusal == LK_CAMERA_REFUSED_FOREIGN   ? "foreign"
                                                              : "refused";
  std::string detail = std::string(kind) + ": " + reason;
  if (pace.unrecorded > 0)
    detail += " (and " + std::to_string(pace.unrecorded) + " more refusal reports since the last record)";
  pace = {now, true, 0};
  s_->audit("message_refused", refusal == LK_CAMERA_REFUSED_FOREIGN ? Rule::C1 : Rule::kNone, "", camera_id, detail);
}

void GateEngine::on_camera_reenrolled(const std::string& camera_id, MonoNs now, const std::string& why) {
  s_->refresh_cameras(now);
  auto it = s_->cameras.find(camera_id);
  if (it == s_->cameras.end()) return;
  s_->audit("camera", Rule::C3, "", camera_id, "re-enrolled (" + why + "): the next boot id is accepted");
  it->second.monitor->allow_new_boot();
}

void GateEngine::on_camera_reopened(const std::string& camera_id, const std::string& reported_id,
                                    crypto::ByteView reported_key, MonoNs now) {
  const auto setup = std::find_if(s_->setup.cameras.begin(), s_->setup.cameras.end(),
                                  [&](const CameraSetup& c) { return c.camera_id == camera_id; });
  if (setup == s_->setup.cameras.end()) return;
  const std::string problem = camera_identity_problem(camera_id, setup->device_key, reported_id, reported_key);
  if (problem.empty()) {
    on_camera_reenrolled(camera_id, now);
    return;
  }
  // Not the enrolled camera: it stays not LIVE (C1) and people must look.
  const std::string why = "after its plugin restarted, camera " + camera_id + " " + problem + "; it stays not LIVE";
  on_camera_fault(camera_id, why, now);
  s_->alarm(Rule::C1, "", camera_id, why);
}

bool GateEngine::camera_live(const std::string& camera_id, MonoNs now) const { return s_->live(camera_id, now); }

const LivenessMonitor* GateEngine::monitor(const std::string& camera_id) const {
  auto it = s_->cameras.find(camera_id);
  return it == s_->cameras.end() ? nullptr : it->second.monitor.get();
}

}  // namespace latchkey::gate
