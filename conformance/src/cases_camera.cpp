// TC-CAM: a camera proves it is live (docs/rules.md C1-C5) and records for a session (U2).
//
// Longer than most files: the TC-CAM cases share one observation fixture.
#include "camera_observation.hpp"

#include <latchkey/crypto/attestations.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace latchkey::certify {
namespace {

using namespace std::chrono_literals;

std::optional<std::string> needs_camera(const Subject& s, const std::string&) {
  if (!s.loaded()) return "the host refused the plugin (TC-ABI-1.3)";
  if (!s.offers_camera()) return std::string(kNotApplicablePrefix) + "the plugin offers no camera interface";
  return std::nullopt;
}

const CameraObservation& observed(const CaseContext& ctx) {
  return observe_camera(ctx.subject, ctx.uri, ObservedThrough::kRunner);
}

#define REQUIRE_OBSERVATION(obs)                                  \
  ASSERT_TRUE((obs).opened) << (obs).error;                       \
  ASSERT_GE((obs).attestations.size(), 2u) << "fewer than two attestations in two seconds"

double gap_ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

void rate(CaseContext& ctx) {
  const auto& obs = observed(ctx);
  REQUIRE_OBSERVATION(obs);
  const double period = obs.description.attestation_period_ms;
  ASSERT_GT(period, 0) << "describe declares attestation_period_ms 0";
  // Margin for a loaded machine: one more period and 200 ms.
  const double allowed = 2 * period + 200;
  double worst = gap_ms(obs.start, obs.attestations.front().received);
  for (std::size_t i = 1; i < obs.attestations.size(); ++i)
    worst = std::max(worst, gap_ms(obs.attestations[i - 1].received, obs.attestations[i].received));
  worst = std::max(worst, gap_ms(obs.attestations.back().received, obs.end));
  EXPECT_LE(worst, allowed) << "longest gap between attestations " << worst << " ms; declared period " << period << " ms";
  const double expected = gap_ms(obs.start, obs.end) / period;
  EXPECT_GE(static_cast<double>(obs.attestations.size()), expected * 0.5)
      << obs.attestations.size() << " attestations in " << gap_ms(obs.start, obs.end) << " ms at a declared period of "
      << period << " ms";
}

void signatures(CaseContext& ctx) {
  const auto& obs = observed(ctx);
  REQUIRE_OBSERVATION(obs);
  std::size_t bad = 0, unparsed = 0, wrong_id = 0;
  for (const auto& a : obs.attestations) {
    unparsed += !a.parsed;
    bad += a.parsed && !a.signature_ok;
    wrong_id += a.parsed && a.attestation.camera_id() != obs.description.camera_id;
  }
  EXPECT_EQ(unparsed, 0u) << unparsed << " attestations are not a SignedAttestation";
  EXPECT_EQ(bad, 0u) << bad << " of " << obs.attestations.size()
                     << " attestations do not verify with the Ed25519 key the camera describes";
  EXPECT_EQ(wrong_id, 0u) << wrong_id << " attestations carry a camera id other than '" << obs.description.camera_id << "'";
}

void counters(CaseContext& ctx) {
  const auto& obs = observed(ctx);
  REQUIRE_OBSERVATION(obs);
  const ObservedAttestation* previous = nullptr;
  for (const auto& a : obs.attestations) {
    if (!a.parsed) continue;
    if (previous) {
      EXPECT_GT(a.attestation.counter(), previous->attestation.counter())
          << "counter " << a.attestation.counter() << " follows " << previous->attestation.counter();
      EXPECT_EQ(a.attestation.boot_id(), previous->attestation.boot_id()) << "the boot id changed without a restart";
      if (a.attestation.counter() <= previous->attestation.counter()) break;
    }
    previous = &a;
  }
}

void nonces(CaseContext& ctx) {
  const auto& obs = observed(ctx);
  REQUIRE_OBSERVATION(obs);
  // C2: an echo must be one of the nonces issued in the last 3 periods when it arrives.
  std::size_t stale = 0, judged = 0;
  std::string example;
  for (const auto& a : obs.attestations) {
    if (!a.parsed || a.nonces_delivered < 2) continue;  // the camera may not have seen the first nonce yet
    ++judged;
    const std::string echo = a.attestation.hub_nonce();
    bool fresh = false;
    const std::size_t oldest = a.nonces_delivered >= 4 ? a.nonces_delivered - 4 : 0;
    for (std::size_t k = oldest; k < a.nonces_delivered; ++k)
      fresh |= echo == std::string(obs.nonces[k].begin(), obs.nonces[k].end());
    if (!fresh && stale++ == 0)
      example = "attestation " + std::to_string(a.attestation.counter()) + " echoes a nonce that is not among the last 3 issued";
  }
  EXPECT_GT(judged, 0u) << "no attestation arrived after the second nonce";
  EXPECT_EQ(stale, 0u) << stale << " of " << judged << " attestations echo a stale or unknown nonce; " << example;
}

void digests(CaseContext& ctx) {
  const auto& obs = observed(ctx);
  REQUIRE_OBSERVATION(obs);
  // C5: identical digests for 1 s (the lowest freeze window) would make the camera not LIVE.
  double longest = 0;
  Clock::time_point run_start = obs.attestations.front().received;
  for (std::size_t i = 1; i < obs.attestations.size(); ++i) {
    const auto& a = obs.attestations[i];
    if (a.attestation.frame_digest() != obs.attestations[i - 1].attestation.frame_digest()) run_start = a.received;
    longest = std::max(longest, gap_ms(run_start, a.received));
  }
  EXPECT_LT(longest, 1000.0) << "the frame digest did not change for " << longest << " ms (docs/rules.md C5 freeze window >= 1 s)";
  for (const auto& a : obs.attestations)
    if (a.parsed) {
      EXPECT_EQ(a.attestation.frame_digest().size(), 32u) << "the frame digest is not 32 bytes (BLAKE2b-256)";
      break;
    }
}

// C8: a camera that measures its view does so in every attestation, within
// the measurements' ranges (attestation.proto). One that never measures is
// enrolled only with scene_required = false: the case does not apply.
void scene_measurements(CaseContext& ctx) {
  const auto& obs = observed(ctx);
  REQUIRE_OBSERVATION(obs);
  std::size_t with = 0, without = 0, out_of_range = 0;
  std::string example;
  uint32_t lum_low = UINT32_MAX, lum_high = 0, sharp_low = UINT32_MAX, sharp_high = 0, sim_low = UINT32_MAX,
           sim_high = 0;
  for (const auto& a : obs.attestations) {
    if (!a.parsed) continue;
    if (!a.attestation.has_scene()) {
      ++without;
      continue;
    }
    ++with;
    const auto& m = a.attestation.scene();
    lum_low = std::min(lum_low, m.mean_luminance()), lum_high = std::max(lum_high, m.mean_luminance());
    sharp_low = std::min(sharp_low, m.sharpness()), sharp_high = std::max(sharp_high, m.sharpness());
    sim_low = std::min(sim_low, m.reference_similarity()), sim_high = std::max(sim_high, m.reference_similarity());
    if ((m.mean_luminance() > 255000 || m.sharpness() > 1020000 || m.reference_similarity() > 1000) &&
        out_of_range++ == 0)
      example = "attestation " + std::to_string(a.attestation.counter()) + ": mean_luminance " +
                std::to_string(m.mean_luminance()) + ", sharpness " + std::to_string(m.sharpness()) +
                ", reference_similarity " + std::to_string(m.reference_similarity());
  }
  if (with == 0)
    GTEST_SKIP() << kNotApplicablePrefix << "the camera does not measure its view (no attestation carries `scene`): a hub enrols it only "
                    "with scene_required = false, and cannot tell it covered or turned (C8)";
  ::testing::Test::RecordProperty("measured", std::to_string(with) + " attestations measured: mean_luminance " + std::to_string(lum_low) + "-" +
           std::to_string(lum_high) + ", sharpness " + std::to_string(sharp_low) + "-" + std::to_string(sharp_high) +
           ", reference_similarity " + std::to_string(sim_low) + "-" + std::to_string(sim_high));
  EXPECT_EQ(without, 0u) << without << " of " << with + without
                         << " attestations carry no scene measurements while the others do: a hub that requires "
                            "them (the default) takes each gap as a covered lens";
  EXPECT_EQ(out_of_range, 0u) << out_of_range << " attestations carry measurements outside their ranges "
                              << "(luminance 0-255000, sharpness 0-1020000, similarity 0-1000); " << example;
}

void camera_clock(CaseContext& ctx) {
  const auto& obs = observed(ctx);
  REQUIRE_OBSERVATION(obs);
  const ObservedAttestation* first = nullptr;
  const ObservedAttestation* last = nullptr;
  for (const auto& a : obs.attestations) {
    if (!a.parsed) continue;
    if (last) {
      EXPECT_GE(a.attestation.capture_time_ns(), last->attestation.capture_time_ns()) << "the camera clock ran backwards";
    }
    if (!first) first = &a;
    last = &a;
  }
  ASSERT_TRUE(first && last && first != last);
  const double camera_ms = (static_cast<double>(last->attestation.capture_time_ns()) -
                            static_cast<double>(first->attestation.capture_time_ns())) / 1e6;
  const double hub_ms = gap_ms(first->received, last->received);
  // C3: 10 % drift; delivery jitter of a loaded machine on top (150 ms).
  EXPECT_NEAR(camera_ms, hub_ms, hub_ms * 0.10 + 150)
      << "the camera clock advanced " << camera_ms << " ms while the hub's advanced " << hub_ms << " ms";
}

std::optional<std::string> needs_recording(const Subject& s, const std::string& uri) {
  if (auto r = needs_camera(s, uri)) return r;
  EventLog log;
  std::unique_ptr<host::CameraDevice> cam;
  if (open_device(s, uri, log.hooks(), &cam) != LK_OK) return std::nullopt;
  lk_camera_description d{};
  d.struct_size = sizeof d;
  cam->describe(&d);
  if ((d.flags & LK_CAMERA_CAP_RECORDING) == 0) return std::string(kNotApplicablePrefix) + "the camera does not declare LK_CAMERA_CAP_RECORDING";
  return std::nullopt;
}

// Waits for an accepted-looking attestation satisfying pred after index from.
bool wait_attestation(EventLog& log, std::size_t from, milliseconds timeout,
                      const std::function<bool(const v1::Attestation&)>& pred) {
  return log.wait_for(
      [&](const auto& all) {
        for (std::size_t i = from; i < all.size(); ++i) {
          if (all[i].event.kind != LK_EVENT_ATTESTATION || !all[i].event.data) continue;
          v1::SignedAttestation sa;
          v1::Attestation a;
          if (sa.ParseFromArray(all[i].event.data->data(), static_cast<int>(all[i].event.data->size())) &&
              a.ParseFromString(sa.attestation()) && pred(a))
            return true;
        }
        return false;
      },
      timeout);
}

std::vector<v1::Attestation> attestations_since(const EventLog& log, std::size_t from) {
  std::vector<v1::Attestation> out;
  const auto all = log.entries();
  for (std::size_t i = from; i < all.size(); ++i) {
    if (all[i].event.kind != LK_EVENT_ATTESTATION || !all[i].event.data) continue;
    v1::SignedAttestation sa;
    v1::Attestation a;
    if (sa.ParseFromArray(all[i].event.data->data(), static_cast<int>(all[i].event.data->size())) &&
        a.ParseFromString(sa.attestation()))
      out.push_back(a);
  }
  return out;
}

milliseconds ack_timeout(const lk_camera_description& d) { return milliseconds(2 * d.attestation_period_ms + 1000); }

void recording(CaseContext& ctx) {
  EventLog log;
  auto cam = open_camera(ctx, log);
  ASSERT_TRUE(cam);
  lk_camera_description d{};
  d.struct_size = sizeof d;
  ASSERT_EQ(cam->describe(&d), LK_OK);
  uint8_t first[LK_SESSION_ID_SIZE], second[LK_SESSION_ID_SIZE];
  crypto::random_bytes(first);
  crypto::random_bytes(second);
  const std::string first_id(reinterpret_cast<char*>(first), sizeof first);
  const std::string second_id(reinterpret_cast<char*>(second), sizeof second);
  // start_recording and stop_recording are accepting calls: each is judged by
  // the plugin's answer, which an isolated device delivers later (in process
  // the call returns it).
  const bool isolated = ctx.subject.mode == isolation::PluginMode::kIsolated;
  auto answer = [&](lk_result returned, std::size_t mark, const char* call) {
    if (returned == LK_OK && isolated) settle_camera_calls(*cam, log, ack_timeout(d));
    return answer_of(returned, log, mark, call);
  };
  std::size_t from = log.size();
  std::size_t mark = log.call_failures().size();
  ASSERT_EQ(answer(cam->start_recording(first), mark, "start_recording"), LK_OK);
  uint64_t segment = 0;
  EXPECT_TRUE(wait_attestation(log, from, ack_timeout(d), [&](const v1::Attestation& a) {
    if (!a.recording().recording() || a.recording().session_id() != first_id) return false;
    segment = a.recording().segment_id();
    return true;
  })) << "no attestation acknowledged recording for the session (docs/rules.md U2)";
  mark = log.call_failures().size();
  EXPECT_EQ(answer(cam->start_recording(first), mark, "start_recording"), LK_OK) << "starting the same session again";
  from = log.size();
  mark = log.call_failures().size();
  ASSERT_EQ(answer(cam->start_recording(second), mark, "start_recording"), LK_OK) << "switching to another session";
  EXPECT_TRUE(wait_attestation(log, from, ack_timeout(d), [&](const v1::Attestation& a) {
    return a.recording().recording() && a.recording().session_id() == second_id && a.recording().segment_id() != segment;
  })) << "switching sessions was not acknowledged in a new segment";
  mark = log.call_failures().size();
  EXPECT_EQ(answer(cam->stop_recording(), mark, "stop_recording"), LK_OK);
  std::this_thread::sleep_for(milliseconds(d.attestation_period_ms));
  const std::size_t settled = log.size();
  EXPECT_TRUE(wait_attestation(log, settled, ack_timeout(d), [](const v1::Attestation& a) { return !a.recording().recording(); }))
      << "attestations still report recording after stop_recording";
  mark = log.call_failures().size();
  EXPECT_EQ(answer(cam->stop_recording(), mark, "stop_recording"), LK_ERR_STATE) << "stop_recording when not recording";
}

std::optional<std::string> needs_camera_fault(const Subject& s, const std::string& uri) {
  if (auto r = needs_camera(s, uri)) return r;
  const auto* tc = s.plugin->test_control_interface();
  if (tc == nullptr || tc->inject_fault == nullptr || tc->clear_faults == nullptr)
    return std::string(kNeedsTestControlPrefix) + "the plugin offers no test control to inject camera faults";
  return std::nullopt;
}

// A fault the camera plays while attesting: the attestations of four
// periods under it (after two to settle) and of four after clear_faults.
struct FaultWindows {
  bool skipped = false;  // the camera cannot play it
  std::vector<v1::Attestation> under, cleared;
};

void observe_fault(CaseContext& ctx, lk_fault fault, FaultWindows& out) {
  EventLog log;
  auto cam = open_camera(ctx, log);
  ASSERT_TRUE(cam);
  lk_camera_description d{};
  d.struct_size = sizeof d;
  ASSERT_EQ(cam->describe(&d), LK_OK);
  const milliseconds period(d.attestation_period_ms);
  const lk_result r = cam->inject_fault(fault, 0);
  if (r == LK_ERR_UNSUPPORTED) {
    out.skipped = true;
    return;
  }
  ASSERT_EQ(r, LK_OK);
  std::this_thread::sleep_for(2 * period + 100ms);
  std::size_t from = log.size();
  std::this_thread::sleep_for(4 * period + 200ms);
  out.under = attestations_since(log, from);
  ASSERT_EQ(cam->clear_faults(), LK_OK);
  std::this_thread::sleep_for(period + 100ms);
  from = log.size();
  std::this_thread::sleep_for(4 * period + 200ms);
  out.cleared = attestations_since(log, from);
}

void freeze_reflected(CaseContext& ctx) {
  FaultWindows w;
  observe_fault(ctx, LK_FAULT_CAMERA_FREEZE, w);
  if (::testing::Test::HasFatalFailure()) return;
  if (w.skipped) GTEST_SKIP() << "the camera cannot play LK_FAULT_CAMERA_FREEZE";
  ASSERT_GE(w.under.size(), 2u) << "the frozen camera stopped attesting";
  for (const auto& a : w.under)
    EXPECT_EQ(a.frame_digest(), w.under.front().frame_digest()) << "the digest kept changing under FREEZE";
  ASSERT_GE(w.cleared.size(), 2u);
  bool changed = false;
  for (std::size_t i = 1; i < w.cleared.size(); ++i)
    changed |= w.cleared[i].frame_digest() != w.cleared[i - 1].frame_digest();
  EXPECT_TRUE(changed) << "after clear_faults the frame digest still does not change";
}

// C8: a covered lens shows in the camera's own measurements, and clearing
// it brings the view back.
void covered_reflected(CaseContext& ctx) {
  FaultWindows w;
  observe_fault(ctx, LK_FAULT_CAMERA_COVERED, w);
  if (::testing::Test::HasFatalFailure()) return;
  if (w.skipped) GTEST_SKIP() << "the camera cannot play LK_FAULT_CAMERA_COVERED";
  ASSERT_GE(w.under.size(), 2u) << "the covered camera stopped attesting";
  for (const auto& a : w.under) {
    ASSERT_TRUE(a.has_scene()) << "a covered camera's attestation carries no scene measurements";
    EXPECT_LT(a.scene().mean_luminance(), 8000u) << "a covered lens measured as lit";
    EXPECT_LT(a.scene().reference_similarity(), 300u) << "a covered lens measured as like the reference view";
  }
  ASSERT_GE(w.cleared.size(), 2u);
  EXPECT_GE(w.cleared.back().scene().reference_similarity(), 300u)
      << "after clear_faults the view is still unlike its reference";
}

void offline_reflected(CaseContext& ctx) {
  EventLog log;
  auto cam = open_camera(ctx, log);
  ASSERT_TRUE(cam);
  lk_camera_description d{};
  d.struct_size = sizeof d;
  ASSERT_EQ(cam->describe(&d), LK_OK);
  const milliseconds period(d.attestation_period_ms);
  log.wait_for([](const auto& e) { return e.size() >= 2; }, 2s);
  const auto before = attestations_since(log, 0);
  const lk_result r = cam->inject_fault(LK_FAULT_CAMERA_OFFLINE, 0);
  if (r == LK_ERR_UNSUPPORTED) GTEST_SKIP() << "the camera cannot play LK_FAULT_CAMERA_OFFLINE";
  ASSERT_EQ(r, LK_OK);
  std::this_thread::sleep_for(period + 100ms);
  const std::size_t from = log.size();
  std::this_thread::sleep_for(800ms);
  EXPECT_TRUE(attestations_since(log, from).empty()) << "an offline camera kept attesting";
  ASSERT_EQ(cam->clear_faults(), LK_OK);
  const uint64_t last = before.empty() ? 0 : before.back().counter();
  EXPECT_TRUE(wait_attestation(log, from, ack_timeout(d), [&](const v1::Attestation& a) { return a.counter() > last; }))
      << "attestations did not resume, with a higher counter, after the camera came back";
}

std::optional<std::string> needs_snapshot(const Subject& s, const std::string& uri) {
  if (auto r = needs_camera(s, uri)) return r;
  if (s.plugin->camera_interface()->snapshot == nullptr) return std::string(kNotApplicablePrefix) + "the camera offers no snapshot";
  return std::nullopt;
}

void snapshot(CaseContext& ctx) {
  EventLog log;
  auto cam = open_camera(ctx, log);
  ASSERT_TRUE(cam);
  lk_camera_description d{};
  d.struct_size = sizeof d;
  ASSERT_EQ(cam->describe(&d), LK_OK);
  std::vector<uint8_t> frame;
  lk_snapshot_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(cam->snapshot(&frame, &info), LK_OK);
  EXPECT_FALSE(frame.empty());
  EXPECT_LE(frame.size(), d.max_snapshot_bytes) << "a snapshot larger than the declared max_snapshot_bytes";
  EXPECT_TRUE(info.format == LK_SNAPSHOT_FORMAT_JPEG || info.format == LK_SNAPSHOT_FORMAT_PPM)
      << "unknown snapshot format " << info.format;
  EXPECT_GT(info.width * info.height, 0u) << "snapshot dimensions are zero";
}

void manual_disconnect(CaseContext& ctx) {
  EventLog log;
  auto cam = open_camera(ctx, log);
  ASSERT_TRUE(cam);
  if (!confirm_manual_step(ctx.subject, "Disconnect the camera (power or network) for five seconds, reconnect it, "
                                        "and wait until it is back."))
    return;
  // Back: attestations flow again (two at least, within a few periods).
  lk_camera_description d{};
  d.struct_size = sizeof d;
  cam->describe(&d);
  for (int i = 0; i < 40 && attestations_since(log, 0).size() < 3; ++i)
    std::this_thread::sleep_for(milliseconds(std::max<uint32_t>(d.attestation_period_ms, 50) / 2));
  const auto all = attestations_since(log, 0);
  EXPECT_GE(all.size(), 2u) << "no attestations after reconnection";
  for (std::size_t i = 1; i < all.size(); ++i)
    if (all[i].boot_id() == all[i - 1].boot_id()) {
      EXPECT_GT(all[i].counter(), all[i - 1].counter()) << "the counter did not keep increasing across the outage";
    }
}

}  // namespace

void add_camera_cases(std::vector<CaseDef>& c) {
  c.push_back({"TC-CAM-1.1", "Attestations arrive at least as often as the declared attestation_period_ms",
               "docs/rules.md C1", Scope::kCamera, needs_camera, rate});
  c.push_back({"TC-CAM-1.2", "Every attestation verifies with the declared Ed25519 key and names the described camera",
               "docs/rules.md C1", Scope::kCamera, needs_camera, signatures});
  c.push_back({"TC-CAM-1.3", "The counter strictly increases and the boot id stays the same", "docs/rules.md C3",
               Scope::kCamera, needs_camera, counters});
  c.push_back({"TC-CAM-1.4", "Each attestation echoes one of the last three nonces delivered", "docs/rules.md C2",
               Scope::kCamera, needs_camera, nonces});
  c.push_back({"TC-CAM-1.5", "The frame digest changes: never the same for 1 s or more", "docs/rules.md C5", Scope::kCamera,
               needs_camera, digests});
  c.push_back({"TC-CAM-1.6", "The capture clock never runs backwards and keeps within 10 % of the hub's", "docs/rules.md C3",
               Scope::kCamera, needs_camera, camera_clock});
  c.push_back({"TC-CAM-1.7", "A camera that measures its view does so in every attestation, within the measurements' ranges",
               "docs/rules.md C8", Scope::kCamera, needs_camera, scene_measurements});
  c.push_back({"TC-CAM-2.1", "Recording is acknowledged in an attestation for the session, switches sessions in a new segment and stops",
               "docs/rules.md U2", Scope::kCamera, needs_recording, recording});
  c.push_back({"TC-CAM-3.1", "An injected freeze stops the digest changing; clearing it resumes", "docs/rules.md C5",
               Scope::kCamera, needs_camera_fault, freeze_reflected});
  c.push_back({"TC-CAM-3.2", "An injected outage stops attestations; they resume with a higher counter", "docs/rules.md C4",
               Scope::kCamera, needs_camera_fault, offline_reflected});
  c.push_back({"TC-CAM-3.3", "An injected covered lens shows in the scene measurements: dark and unlike the reference; clearing it restores the view",
               "docs/rules.md C8", Scope::kCamera, needs_camera_fault, covered_reflected});
  c.push_back({"TC-CAM-4.1", "A snapshot fits the declared maximum and names its format and size",
               "abi.md 8 Camera interface (snapshot)", Scope::kCamera, needs_snapshot, snapshot});
  CaseDef manual{"TC-CAM-5.1", "A person disconnects the camera for 5 s: attestations resume with increasing counters",
                 "docs/rules.md C4", Scope::kCamera, needs_camera, manual_disconnect};
  manual.manual = true;
  c.push_back(manual);
}

}  // namespace latchkey::certify
