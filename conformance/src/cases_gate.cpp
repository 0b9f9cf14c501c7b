// TC-GATE: the plugin under test inside the reference hub, through a full
// delivery and the fault scenarios of docs/rules.md, judged by the gate engine.
#include "gate_bench.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

namespace latchkey::certify {
namespace {

using namespace std::chrono_literals;
using Role = GateBench::Role;

// The hub's answer to an unlock request, for a failure message.
std::string describe(const hub::ApiResult<hub::UnlockOutcome>& r) {
  if (!r.ok()) return "no decision: " + r.error().message;
  return r->allowed ? "allowed" : "denied by " + std::string(name(r->rule)) + ": " + r->message;
}

std::optional<std::string> base_applicability(const Subject& s) {
  if (!s.loaded()) return "the host refused the plugin (TC-ABI-1.3)";
  for (const char* name : {"lk_sim_lock", "lk_sim_camera", "lk_ref_authz"})
    if (!std::filesystem::exists(reference_plugin(s, name)))
      return std::string("the reference plugin ") + name + ".so is not in " + s.reference_dir.string() +
             " (--reference-plugins DIR)";
  return std::nullopt;
}

// Lock and camera cases run per device; the authorization role once.
Role role_of(const Subject& s, const std::string& uri) {
  for (const auto& u : s.lock_uris)
    if (u == uri) return Role::kLock;
  for (const auto& u : s.camera_uris)
    if (u == uri) return Role::kCamera;
  return Role::kAuthz;
}

const char* role_text(Role role) {
  switch (role) {
    case Role::kLock: return "lock";
    case Role::kCamera: return "camera";
    case Role::kAuthz: return "authorization provider";
  }
  return "plugin";
}

std::unique_ptr<GateBench> start_bench(const CaseContext& ctx) {
  try {
    return std::make_unique<GateBench>(ctx.subject, role_of(ctx.subject, ctx.uri), ctx.uri);
  } catch (const std::exception& e) {
    fail_case("the reference hub did not start with this plugin",
              std::string("the hub starts with the plugin as its ") + role_text(role_of(ctx.subject, ctx.uri)) +
                  " and the reference plugins in the other roles",
              e.what());
    return nullptr;
  }
}

bool lock_plays_door(const Subject& s, const std::string& uri) {
  if (role_of(s, uri) != Role::kLock) return true;  // the reference lock plays it
  const auto* tc = s.plugin->test_control_interface();
  return tc != nullptr && tc->physical_action != nullptr;
}

// Opens or closes the door: through test control, or by a person.
bool door(GateBench& bench, const CaseContext& ctx, const std::string& action) {
  if (lock_plays_door(ctx.subject, ctx.uri)) {
    const bool ok = bench.door_action(action);
    if (!ok)
      fail_case("the lock's test control could not " + action + " the door",
                "physical_action DOOR_" + std::string(action == "open" ? "OPEN" : "CLOSE") + " through the hub",
                "refused");
    return ok;
  }
  return confirm_manual_step(ctx.subject, action == "open" ? "Open the door." : "Close the door.");
}

// Live camera, allowed unlock, bolt retracted: the start of every session scenario.
// The camera must stay LIVE for longer than the freeze window first, so a camera
// whose frames never change (C5) or whose nonces go stale (C2) is caught here.
bool open_session(GateBench& bench) {
  if (!bench.wait_live(5s)) {
    fail_case("the camera never became LIVE in the hub (docs/rules.md C4)", "camera LIVE within 5 s of the hub's start",
              "not LIVE");
    return false;
  }
  std::this_thread::sleep_for(milliseconds(bench.hub().config().gate.freeze_window_ms + 300));
  const auto r = bench.request_unlock();
  if (!r.ok() || !r->allowed) {
    fail_case("the hub denied a valid delivery", "the unlock allowed (a valid grant, the camera LIVE)", describe(r));
    return false;
  }
  if (!bench.wait_lock_state("unlocked", 3s)) {
    fail_case("the lock never reported Unlocked after the hub's unlock", "the hub's lock state unlocked within 3 s",
              bench.lock_state());
    return false;
  }
  return true;
}

// The session's end within timeout; a failure for the author otherwise.
void expect_session_end(GateBench& bench, const std::string& end, std::chrono::milliseconds timeout,
                        const std::string& what) {
  if (!bench.wait_session_end(end, timeout))
    fail_case(what, "session end '" + end + "' within " + std::to_string(timeout.count()) + " ms",
              "session end '" + bench.session_end() + "', lock " + bench.lock_state());
}

void full_delivery(CaseContext& ctx) {
  auto bench = start_bench(ctx);
  if (!bench) return;
  if (!open_session(*bench)) return;
  if (!door(*bench, ctx, "open")) return;
  std::this_thread::sleep_for(150ms);
  if (!door(*bench, ctx, "close")) return;
  expect_session_end(*bench, "completed", 4s,
                     "the session did not complete with a verified relock (docs/rules.md U8)");
  if (bench->lock_state() != "locked")
    fail_case("the door is not locked after the delivery", "the hub's lock state locked", bench->lock_state());
  // The session rules' alarms (U*) and doubt (F1); a camera-health alarm from before the camera came up is not the plugin's.
  if (const std::size_t alarms = bench->alarm_count("U") + bench->alarm_count("F"); alarms != 0)
    fail_case("a clean delivery raised a session or fault alarm", "no U* or F* alarm",
              std::to_string(alarms) + " alarm(s)");
}

std::optional<std::string> needs_session_roles(const Subject& s, const std::string& uri) {
  if (auto r = base_applicability(s)) return r;
  if (role_of(s, uri) == Role::kAuthz) return std::string(kNotApplicablePrefix) + "not an authorization scenario";
  return std::nullopt;
}

bool inject_camera_fault(GateBench& bench, const std::string& fault) {
  const auto r = bench.hub().test_camera_fault(bench.camera(), fault, 0);
  if (!r.ok() && r.error().kind == hub::ApiErrorKind::kConflict) return false;
  if (!r.ok())
    fail_case("the hub could not inject the camera fault '" + fault + "'", "the fault injected through test control",
              r.error().message);
  return r.ok();
}

// Why the camera cannot play a fault: the plugin under test is that camera and
// offers no test control (the vendor's test build would), or it cannot play it.
std::string camera_fault_skip(const CaseContext& ctx, const std::string& what) {
  if (role_of(ctx.subject, ctx.uri) == Role::kCamera && !ctx.subject.offers_test_control())
    return std::string(kNeedsTestControlPrefix) + "the camera offers no test control to " + what;
  return "the camera cannot " + what;
}

void freeze_door_open(CaseContext& ctx) {
  auto bench = start_bench(ctx);
  if (!bench) return;
  if (!open_session(*bench)) return;
  if (!door(*bench, ctx, "open")) return;
  if (!inject_camera_fault(*bench, "freeze"))
    GTEST_SKIP() << camera_fault_skip(ctx, "play a freeze");
  if (!bench->wait_alarm("U5", 4s))
    fail_case("no U5 alarm after the camera froze with the door open", "a U5 alarm within 4 s", "none");
  if (!door(*bench, ctx, "close")) return;
  if (!bench->wait_lock_state("locked", 3s))
    fail_case("the door was not relocked when it closed after the freeze", "the hub's lock state locked within 3 s",
              bench->lock_state());
  expect_session_end(*bench, "compromised", 3s, "the frozen camera did not compromise the session (docs/rules.md U5)");
}

void offline_door_closed(CaseContext& ctx) {
  auto bench = start_bench(ctx);
  if (!bench) return;
  if (!open_session(*bench)) return;
  if (!inject_camera_fault(*bench, "offline"))
    GTEST_SKIP() << camera_fault_skip(ctx, "go offline on request");
  if (!bench->wait_lock_state("locked", 3s))
    fail_case("the door was not relocked at once when the camera went offline",
              "the hub's lock state locked within 3 s", bench->lock_state());
  if (!bench->wait_alarm("U5", 2s)) fail_case("no U5 alarm after the camera went offline", "a U5 alarm within 2 s", "none");
  expect_session_end(*bench, "compromised", 3s, "the camera going offline did not compromise the session (docs/rules.md U5)");
}

std::optional<std::string> needs_camera_replay(const Subject& s, const std::string& uri) {
  if (auto r = base_applicability(s)) return r;
  if (role_of(s, uri) != Role::kCamera) return std::string(kNotApplicablePrefix) + "a camera scenario";
  if (!s.offers_test_control())
    return std::string(kNeedsTestControlPrefix) + "replaying attestations needs the test build's LK_FAULT_CAMERA_REPLAY";
  // Ask the camera itself whether it can replay on request, before the hub is involved.
  EventLog log;
  std::unique_ptr<host::CameraDevice> cam;
  if (open_device(s, uri, log.hooks(), &cam) == LK_OK) {
    const lk_result r = cam->inject_fault(LK_FAULT_CAMERA_REPLAY, 0);
    cam->clear_faults();
    if (r != LK_OK)
      return std::string(kNeedsTestControlPrefix) + "the test control cannot replay attestations on request (" +
             host::result_name(r) + ")";
  }
  return std::nullopt;
}

void replay_denied(CaseContext& ctx) {
  auto bench = start_bench(ctx);
  if (!bench) return;
  if (!bench->wait_live(5s)) {
    fail_case("the camera never became LIVE in the hub (docs/rules.md C4)", "camera LIVE within 5 s of the hub's start",
              "not LIVE");
    return;
  }
  if (!inject_camera_fault(*bench, "replay"))
    GTEST_SKIP() << kNeedsTestControlPrefix << "the camera's test control cannot replay attestations on request";
  std::this_thread::sleep_for(800ms);
  const auto r = bench->request_unlock();
  const bool denied = r.ok() && !r->allowed;
  if (!denied)
    fail_case("a replaying camera did not stop the unlock (docs/rules.md U1)", "the unlock denied under U1", describe(r));
  else if (r->rule != Rule::U1)
    fail_case("the unlock was denied for another reason than the replay", "denied under U1", describe(r));
}

std::optional<std::string> needs_lock_jam(const Subject& s, const std::string& uri) {
  if (auto r = base_applicability(s)) return r;
  if (role_of(s, uri) != Role::kLock) return std::string(kNotApplicablePrefix) + "a lock scenario";
  const auto* tc = s.plugin->test_control_interface();
  if (tc == nullptr || tc->inject_fault == nullptr || tc->physical_action == nullptr)
    return std::string(kNeedsTestControlPrefix) + "jamming the bolt and moving the door need the test build's test control";
  return std::nullopt;
}

void jam_on_relock(CaseContext& ctx) {
  auto bench = start_bench(ctx);
  if (!bench) return;
  if (!open_session(*bench)) return;
  if (!door(*bench, ctx, "open")) return;
  const auto r = bench->inject_lock_fault(LK_FAULT_LOCK_JAM);
  if (!r.ok() && r.error().kind == hub::ApiErrorKind::kConflict &&
      r.error().message.find(host::result_name(LK_ERR_UNSUPPORTED)) != std::string::npos)
    GTEST_SKIP() << kNeedsTestControlPrefix << "the test control answers LK_ERR_UNSUPPORTED to LK_FAULT_LOCK_JAM";
  if (!r.ok()) {
    fail_case("the hub could not jam its lock", "inject_fault(LK_FAULT_LOCK_JAM) through the hub's test control",
              r.error().message);
    return;
  }
  std::this_thread::sleep_for(150ms);
  if (!door(*bench, ctx, "close")) return;
  expect_session_end(*bench, "compromised", 4s, "a relock that jammed did not compromise the session (docs/rules.md F1)");
  if (!bench->wait_alarm("", 2s)) fail_case("the jammed relock raised no alarm", "an alarm within 2 s", "none");
  if (bench->lock_state() == "locked")
    fail_case("the hub believes a jammed lock is Locked", "any lock state but locked", "locked");
}

}  // namespace

void add_gate_cases(std::vector<CaseDef>& c) {
  auto any_role = [](const Subject& s, const std::string& uri) -> std::optional<std::string> {
    if (auto r = base_applicability(s)) return r;
    if (role_of(s, uri) == Role::kAuthz && !s.authz.can_mint)
      return "the suite cannot mint credentials this provider trusts (give --authz-issuer KEYID:SEEDHEX with --authz-config)";
    return std::nullopt;
  };
  c.push_back({"TC-GATE-1.1", "A full delivery in the hub: LIVE camera, allowed unlock, one door cycle, verified relock, no alarm",
               "docs/rules.md U8", Scope::kGate, any_role, full_delivery});
  c.push_back({"TC-GATE-2.1", "Camera frozen with the door open: U5 alarm at once, relock when the door closes, session compromised",
               "docs/rules.md U5", Scope::kGate, needs_session_roles, freeze_door_open});
  c.push_back({"TC-GATE-2.2", "Camera offline with the door closed: relock at once, U5 alarm, session compromised",
               "docs/rules.md U5", Scope::kGate, needs_session_roles, offline_door_closed});
  c.push_back({"TC-GATE-2.3", "A camera replaying old attestations is not LIVE: the unlock is denied under U1",
               "docs/rules.md U1", Scope::kGate, needs_camera_replay, replay_denied});
  c.push_back({"TC-GATE-2.4", "The bolt jams on the hub's relock: alarm, session compromised, never taken for Locked",
               "docs/rules.md F1", Scope::kGate, needs_lock_jam, jam_on_relock});
}

}  // namespace latchkey::certify
