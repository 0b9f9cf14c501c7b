// TC-CAM: a camera proves it is live (docs/rules.md C1-C5, C8) and records for a session (U2).
//
// Longer than most files: the TC-CAM cases share one observation fixture and
// the helpers that read attestations out of an event log.
//
// Tolerances, stated in each case's title and in docs/certification.md:
// TC-CAM-1.1 measures the period as the median, over every span of half the
// window's intervals, of the span's mean interval (bunched or delayed
// deliveries on a loaded host move few spans, and no median), and requires
// 80-110 % of the declared attestation_period_ms; a single gap is only held
// to twice the period plus 200 ms. TC-CAM-1.6 measures the camera clock's rate
// as the median slope over attestation pairs at least half the window apart,
// and requires C3's 10 %, with nothing added.
#include "camera_observation.hpp"

#include <latchkey/crypto/attestations.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <sstream>
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

double gap_ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

std::string fixed(double v, int digits = 1) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

std::string hex(const std::string& bytes) { return crypto::to_hex(crypto::view(bytes)); }

std::string n_of(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

void measured(const std::string& text) { ::testing::Test::RecordProperty("measured", text); }

// False, with the case failed, when the shared window holds too little to judge.
bool judgeable(const CameraObservation& obs) {
  if (!obs.opened) {
    fail_case("the camera did not open for the observation window", "open and describe answer LK_OK", obs.error);
    return false;
  }
  if (obs.attestations.size() >= 2) return true;
  fail_case("the camera hardly attested", "an attestation at least every " +
                std::to_string(obs.description.attestation_period_ms) + " ms (its declared attestation_period_ms)",
            n_of(obs.attestations.size(), "attestation", "attestations") + " in " +
                fixed(gap_ms(obs.start, obs.end) / 1000, 2) + " s");
  return false;
}

std::string at_text(const CameraObservation& obs, const ObservedAttestation& a) {
  return "attestation " + std::to_string(a.attestation.counter()) + ", " + fixed(gap_ms(obs.start, a.received) / 1000, 2) +
         " s into the window";
}

// TC-CAM-1.1, both bounds. The period is measured from many intervals at once
// (module comment): 80-110 % of the declared one. The longest single gap is
// only held to twice the period plus 200 ms: one late delivery on a loaded
// host must not fail a correct camera.
constexpr double kPeriodLow = 0.80, kPeriodHigh = 1.10;
constexpr std::size_t kMinIntervals = 10;

void rate(CaseContext& ctx) {
  const auto& obs = observed(ctx);
  if (!judgeable(obs)) return;
  const double period = obs.description.attestation_period_ms;
  if (period <= 0) {
    fail_case("describe declares no attestation period",
              "attestation_period_ms > 0: the longest gap between two attestations (abi.md 8)", "0");
    return;
  }
  const auto& as = obs.attestations;
  const std::size_t intervals = as.size() - 1;
  const double window_ms = gap_ms(obs.start, obs.end);
  if (intervals < kMinIntervals) {
    fail_case("too few attestations to measure the period",
              "at least " + std::to_string(kMinIntervals) + " intervals in " + fixed(window_ms / 1000, 2) +
                  " s at a declared period of " + fixed(period, 0) + " ms",
              n_of(as.size(), "attestation", "attestations"));
    return;
  }
  const std::size_t span = intervals / 2;
  std::vector<double> means;
  for (std::size_t i = 0; i + span < as.size(); ++i)
    means.push_back(gap_ms(as[i].received, as[i + span].received) / static_cast<double>(span));
  const double period_measured = median(means);
  double worst = gap_ms(obs.start, as.front().received), worst_at = 0;
  for (std::size_t i = 1; i < as.size(); ++i)
    if (const double g = gap_ms(as[i - 1].received, as[i].received); g > worst) {
      worst = g;
      worst_at = gap_ms(obs.start, as[i].received);
    }
  if (const double g = gap_ms(as.back().received, obs.end); g > worst) worst = g, worst_at = window_ms;
  const double low = kPeriodLow * period, high = kPeriodHigh * period, longest = 2 * period + 200;
  const std::string bounds = "a measured period of " + fixed(low) + " to " + fixed(high) + " ms (80-110 % of the declared " +
                             fixed(period, 0) + " ms)";
  const std::string came = fixed(period_measured) + " ms (" + fixed(100 * period_measured / period, 0) + " %), from " +
                           std::to_string(intervals) + " intervals in " + fixed(window_ms / 1000, 2) + " s";
  measured("period " + fixed(period_measured) + " ms from " + std::to_string(intervals) + " intervals (median of " +
           std::to_string(means.size()) + " spans of " + std::to_string(span) + "); declared " + fixed(period, 0) +
           " ms, bounds " + fixed(low) + "-" + fixed(high) + " ms; longest gap " + fixed(worst) + " ms (bound " +
           fixed(longest, 0) + " ms)");
  if (period_measured < low)
    fail_case("the camera attests more often than the period it declares: the declared attestation_period_ms is wrong",
              bounds, came);
  if (period_measured > high)
    fail_case("the camera attests less often than the period it declares: the declared attestation_period_ms is wrong",
              bounds, came);
  if (worst > longest)
    fail_case("a gap between attestations far longer than the declared period",
              "no gap over twice attestation_period_ms plus 200 ms for a loaded host: " + fixed(longest, 0) + " ms",
              "a gap of " + fixed(worst) + " ms, ending " + fixed(worst_at / 1000, 2) + " s into the window");
}

void signatures(CaseContext& ctx) {
  const auto& obs = observed(ctx);
  if (!judgeable(obs)) return;
  std::size_t bad = 0, unparsed = 0, wrong_id = 0;
  const ObservedAttestation* first_bad = nullptr;
  std::string other_id;
  for (const auto& a : obs.attestations) {
    unparsed += !a.parsed;
    if (a.parsed && !a.signature_ok && bad++ == 0) first_bad = &a;
    if (a.parsed && a.attestation.camera_id() != obs.description.camera_id && wrong_id++ == 0)
      other_id = a.attestation.camera_id();
  }
  const std::string total = std::to_string(obs.attestations.size());
  if (unparsed > 0)
    fail_case("attestations that are not a SignedAttestation holding an Attestation",
              "every LK_EVENT_ATTESTATION carries a serialized SignedAttestation (abi.md 8)",
              std::to_string(unparsed) + " of " + total);
  if (bad > 0)
    fail_case("attestations that do not verify with the Ed25519 key the camera describes",
              "every attestation signed by the key describe() gives (docs/rules.md C1)",
              std::to_string(bad) + " of " + total + "; the first: " + at_text(obs, *first_bad));
  if (wrong_id > 0)
    fail_case("attestations naming another camera",
              "the camera id describe() gives: '" + std::string(obs.description.camera_id) + "'",
              std::to_string(wrong_id) + " of " + total + " name '" + other_id + "'");
}

void counters(CaseContext& ctx) {
  const auto& obs = observed(ctx);
  if (!judgeable(obs)) return;
  const ObservedAttestation* previous = nullptr;
  for (const auto& a : obs.attestations) {
    if (!a.parsed) continue;
    if (previous && a.attestation.boot_id() != previous->attestation.boot_id()) {
      fail_case("the boot id changed while the camera ran",
                "one boot id from open to close (docs/rules.md C3: a new one without re-enrolment is rejected)",
                at_text(obs, a) + " carries boot id " + hex(a.attestation.boot_id()) + " after " +
                    hex(previous->attestation.boot_id()));
      return;
    }
    if (previous && a.attestation.counter() <= previous->attestation.counter()) {
      fail_case("the counter did not increase", "every counter above the one before it (docs/rules.md C3)",
                "counter " + std::to_string(a.attestation.counter()) + " follows " +
                    std::to_string(previous->attestation.counter()) + ", " +
                    fixed(gap_ms(obs.start, a.received) / 1000, 2) + " s into the window");
      return;
    }
    previous = &a;
  }
}

void nonces(CaseContext& ctx) {
  const auto& obs = observed(ctx);
  if (!judgeable(obs)) return;
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
    if (!fresh && stale++ == 0) example = at_text(obs, a) + " echoes " + std::to_string(echo.size()) + " bytes " +
                                          (echo.empty() ? "" : hex(echo)) + " that are none of the last 3 delivered";
  }
  const std::string expected = "every attestation echoes one of the last 3 nonces delivered with deliver_nonce "
                               "(one every " + std::to_string(obs.nonce_period_ms) + " ms; docs/rules.md C2)";
  if (judged == 0) {
    fail_case("no attestation arrived after the second nonce", expected,
              n_of(obs.attestations.size(), "attestation", "attestations") + ", none after the second nonce");
    return;
  }
  if (stale > 0) fail_case("attestations echo a stale or unknown nonce", expected,
                           std::to_string(stale) + " of " + std::to_string(judged) + "; the first: " + example);
}

void digests(CaseContext& ctx) {
  const auto& obs = observed(ctx);
  if (!judgeable(obs)) return;
  // C5: identical digests for 1 s (the lowest freeze window) would make the camera not LIVE.
  double longest = 0, longest_from = 0;
  Clock::time_point run_start = obs.attestations.front().received;
  for (std::size_t i = 1; i < obs.attestations.size(); ++i) {
    const auto& a = obs.attestations[i];
    if (a.attestation.frame_digest() != obs.attestations[i - 1].attestation.frame_digest()) run_start = a.received;
    if (const double run = gap_ms(run_start, a.received); run > longest)
      longest = run, longest_from = gap_ms(obs.start, run_start);
  }
  if (longest >= 1000.0)
    fail_case("the frame digest stopped changing: a frozen picture",
              "a new digest within 1 s, the lowest freeze_window a hub may run with (docs/rules.md C5)",
              "the same digest for " + fixed(longest) + " ms from " + fixed(longest_from / 1000, 2) +
                  " s into the window on");
  for (const auto& a : obs.attestations)
    if (a.parsed) {
      if (a.attestation.frame_digest().size() != 32)
        fail_case("the frame digest is not a BLAKE2b-256", "32 bytes",
                  std::to_string(a.attestation.frame_digest().size()) + " bytes");
      break;
    }
}

std::string scene_text(const v1::SceneMeasurements& m) {
  return "mean_luminance " + std::to_string(m.mean_luminance()) + ", sharpness " + std::to_string(m.sharpness()) +
         ", reference_similarity " + std::to_string(m.reference_similarity());
}

// C8: a camera that measures its view does so in every attestation, within
// the measurements' ranges (attestation.proto). One that never measures is
// enrolled only with scene_required = false: the case does not apply.
void scene_measurements(CaseContext& ctx) {
  const auto& obs = observed(ctx);
  if (!judgeable(obs)) return;
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
      example = at_text(obs, a) + ": " + scene_text(m);
  }
  if (with == 0)
    GTEST_SKIP() << kNotApplicablePrefix
                 << "the camera does not measure its view (no attestation carries `scene`): a hub enrols it only "
                    "with scene_required = false, and cannot tell it covered or turned (C8)";
  measured(std::to_string(with) + " attestations measured: mean_luminance " + std::to_string(lum_low) + "-" +
           std::to_string(lum_high) + ", sharpness " + std::to_string(sharp_low) + "-" + std::to_string(sharp_high) +
           ", reference_similarity " + std::to_string(sim_low) + "-" + std::to_string(sim_high));
  if (without > 0)
    fail_case("some attestations carry no scene measurements while the others do",
              "a camera that measures its view measures it in every attestation: a hub that requires them (the "
              "default) takes each gap as a covered lens (docs/rules.md C8)",
              std::to_string(without) + " of " + std::to_string(with + without) + " without `scene`");
  if (out_of_range > 0)
    fail_case("scene measurements outside their ranges",
              "mean_luminance 0-255000, sharpness 0-1020000, reference_similarity 0-1000 (attestation.proto)",
              std::to_string(out_of_range) + " attestations; the first: " + example);
}

// TC-CAM-1.6: never backwards, and the rate within C3's 10 % of the hub's
// clock. The rate is the median slope (camera ms per hub ms) over every pair
// of attestations at least half the window apart, so delivery jitter on the
// hub's side moves it by far less than the tolerance.
constexpr double kClockTolerance = 0.10;

void camera_clock(CaseContext& ctx) {
  const auto& obs = observed(ctx);
  if (!judgeable(obs)) return;
  std::vector<const ObservedAttestation*> as;
  for (const auto& a : obs.attestations) {
    if (!a.parsed) continue;
    if (!as.empty() && a.attestation.capture_time_ns() < as.back()->attestation.capture_time_ns()) {
      fail_case("the camera clock ran backwards",
                "capture_time_ns never below the one before it (docs/rules.md C3)",
                at_text(obs, a) + " was captured at " + std::to_string(a.attestation.capture_time_ns()) +
                    " ns, after " + std::to_string(as.back()->attestation.capture_time_ns()) + " ns");
      return;
    }
    as.push_back(&a);
  }
  ASSERT_GE(as.size(), 2u) << "fewer than two attestations parse (TC-CAM-1.2 says why)";
  const double span_ms = gap_ms(as.front()->received, as.back()->received);
  std::vector<double> slopes;
  for (std::size_t i = 0; i < as.size(); ++i)
    for (std::size_t j = i + 1; j < as.size(); ++j) {
      const double hub = gap_ms(as[i]->received, as[j]->received);
      if (hub < span_ms / 2 || hub <= 0) continue;
      const double camera = (static_cast<double>(as[j]->attestation.capture_time_ns()) -
                             static_cast<double>(as[i]->attestation.capture_time_ns())) / 1e6;
      slopes.push_back(camera / hub);
    }
  ASSERT_FALSE(slopes.empty());
  const double rate = median(slopes);
  const std::string came = "the camera clock advanced " + fixed(1000 * rate) + " ms per 1000 ms of the hub's (" +
                           (rate >= 1 ? "+" : "") + fixed(100 * (rate - 1)) + " %; median slope over " +
                           std::to_string(slopes.size()) + " pairs at least " + fixed(span_ms / 2000, 2) + " s apart)";
  measured(came);
  if (std::abs(rate - 1) > kClockTolerance)
    fail_case("the camera clock runs at another rate than the hub's",
              "capture_time_ns advancing within 10 % of the hub's clock (docs/rules.md C3: the hub rejects a drift "
              "over 10 % across 5 s)",
              came);
}

std::optional<std::string> needs_recording(const Subject& s, const std::string& uri) {
  if (auto r = needs_camera(s, uri)) return r;
  EventLog log;
  std::unique_ptr<host::CameraDevice> cam;
  if (open_device(s, uri, log.hooks(), &cam) != LK_OK) return std::nullopt;
  lk_camera_description d{};
  d.struct_size = sizeof d;
  cam->describe(&d);
  if ((d.flags & LK_CAMERA_CAP_RECORDING) == 0)
    return std::string(kNotApplicablePrefix) + "the camera does not declare LK_CAMERA_CAP_RECORDING";
  return std::nullopt;
}

// An attestation out of an event log: where it is in the log, when it came,
// and (with a key) whether it verifies.
struct Seen {
  std::size_t index = 0;
  Clock::time_point at;
  bool verified = false;
  v1::Attestation attestation;
};

std::vector<Seen> seen_in(const std::vector<EventLog::Entry>& all, std::size_t from,
                          const crypto::PublicKey* key = nullptr, std::size_t* unparsed = nullptr) {
  std::vector<Seen> out;
  for (std::size_t i = from; i < all.size(); ++i) {
    if (all[i].event.kind != LK_EVENT_ATTESTATION || !all[i].event.data) continue;
    const crypto::ByteView bytes(all[i].event.data->data(), all[i].event.data->size());
    Seen s;
    s.index = i;
    s.at = all[i].at;
    if (key) {
      const crypto::OpenedAttestation opened = crypto::open_attestation(bytes, *key);
      if (opened.ok) {
        s.verified = true;
        s.attestation = opened.attestation;
        out.push_back(std::move(s));
        continue;
      }
    }
    v1::SignedAttestation sa;
    if (sa.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) && s.attestation.ParseFromString(sa.attestation()))
      out.push_back(std::move(s));
    else if (unparsed)
      ++*unparsed;
  }
  return out;
}

std::vector<v1::Attestation> attestations_since(const EventLog& log, std::size_t from) {
  std::vector<v1::Attestation> out;
  for (auto& s : seen_in(log.entries(), from)) out.push_back(std::move(s.attestation));
  return out;
}

std::size_t attestation_count(const std::vector<EventLog::Entry>& all) {
  return static_cast<std::size_t>(std::count_if(all.begin(), all.end(), [](const EventLog::Entry& e) {
    return e.event.kind == LK_EVENT_ATTESTATION && e.event.data;
  }));
}

// Waits for an attestation satisfying pred after index from.
bool wait_attestation(EventLog& log, std::size_t from, milliseconds timeout,
                      const std::function<bool(const v1::Attestation&)>& pred) {
  return log.wait_for(
      [&](const auto& all) {
        for (const auto& s : seen_in(all, from))
          if (pred(s.attestation)) return true;
        return false;
      },
      timeout);
}

milliseconds ack_timeout(const lk_camera_description& d) { return milliseconds(2 * d.attestation_period_ms + 1000); }

lk_camera_description describe_camera(host::CameraDevice& cam) {
  lk_camera_description d{};
  d.struct_size = sizeof d;
  if (cam.describe(&d) != LK_OK) ADD_FAILURE() << "describe did not answer LK_OK";
  return d;
}

std::string session_bytes() {
  uint8_t id[LK_SESSION_ID_SIZE];
  crypto::random_bytes(id);
  return std::string(reinterpret_cast<char*>(id), sizeof id);
}

lk_result start_recording(host::CameraDevice& cam, const std::string& session) {
  uint8_t id[LK_SESSION_ID_SIZE];
  std::memcpy(id, session.data(), sizeof id);
  return cam.start_recording(id);
}

void recording(CaseContext& ctx) {
  EventLog log;
  auto cam = open_camera(ctx, log);
  ASSERT_TRUE(cam);
  const lk_camera_description d = describe_camera(*cam);
  const std::string first_id = session_bytes(), second_id = session_bytes();
  // start_recording and stop_recording are accepting calls: each is judged by
  // the plugin's answer, which an isolated device delivers later (in process
  // the call returns it).
  const bool isolated = ctx.subject.mode == isolation::PluginMode::kIsolated;
  auto answer = [&](lk_result returned, std::size_t mark, const char* call) {
    if (returned == LK_OK && isolated) settle_camera_calls(*cam, log, ack_timeout(d));
    return answer_of(returned, log, mark, call);
  };
  const std::string ack_text = "within " + std::to_string(ack_timeout(d).count()) + " ms (twice the declared period + 1 s)";
  std::size_t from = log.size();
  std::size_t mark = log.call_failures().size();
  if (const lk_result r = answer(start_recording(*cam, first_id), mark, "start_recording"); r != LK_OK) {
    fail_case("start_recording was refused", "LK_OK (abi.md 8)", host::result_name(r));
    return;
  }
  uint64_t segment = 0;
  if (!wait_attestation(log, from, ack_timeout(d), [&](const v1::Attestation& a) {
        if (!a.recording().recording() || a.recording().session_id() != first_id) return false;
        segment = a.recording().segment_id();
        return true;
      }))
    fail_case("recording was never acknowledged",
              "an attestation reporting recording for the session " + ack_text + " (docs/rules.md U2)", "none");
  mark = log.call_failures().size();
  if (const lk_result r = answer(start_recording(*cam, first_id), mark, "start_recording"); r != LK_OK)
    fail_case("starting the same session again was refused", "LK_OK: the same session again is no change (abi.md 8)",
              host::result_name(r));
  from = log.size();
  mark = log.call_failures().size();
  if (const lk_result r = answer(start_recording(*cam, second_id), mark, "start_recording"); r != LK_OK) {
    fail_case("switching to another session was refused",
              "LK_OK: while recording another session the camera switches to the new one (abi.md 8)",
              host::result_name(r));
    return;
  }
  if (!wait_attestation(log, from, ack_timeout(d), [&](const v1::Attestation& a) {
        return a.recording().recording() && a.recording().session_id() == second_id &&
               a.recording().segment_id() != segment;
      }))
    fail_case("switching sessions was not acknowledged in a new segment",
              "an attestation for the second session with a segment id other than " + std::to_string(segment) + " " +
                  ack_text,
              "none");
  mark = log.call_failures().size();
  if (const lk_result r = answer(cam->stop_recording(), mark, "stop_recording"); r != LK_OK)
    fail_case("stop_recording was refused while recording", "LK_OK (abi.md 8)", host::result_name(r));
  std::this_thread::sleep_for(milliseconds(d.attestation_period_ms));
  const std::size_t settled = log.size();
  if (!wait_attestation(log, settled, ack_timeout(d), [](const v1::Attestation& a) { return !a.recording().recording(); }))
    fail_case("attestations still report recording after stop_recording",
              "an attestation reporting no recording " + ack_text, "only attestations that report recording");
  mark = log.call_failures().size();
  if (const lk_result r = answer(cam->stop_recording(), mark, "stop_recording"); r != LK_ERR_STATE)
    fail_case("stop_recording when not recording", "LK_ERR_STATE (abi.md 8)", host::result_name(r));
}

// ---- TC-CAM-1.8: a long run across recording cycles ----
//
// A camera that is right for the first seconds and goes wrong later (a key
// store that rotates, a pipeline restarted by a new recording) passes every
// short window. This one lasts at least kLongWindow attestations and, for a
// camera that records, two recording cycles, and says where it went wrong.
constexpr std::size_t kLongWindow = 120;  // attestations
constexpr std::size_t kCycleStep = 20;    // attestations between two recording calls

struct Step {
  std::string label;          // "the second start_recording (after a stop)"
  bool start = false;         // start_recording (else stop_recording)
  std::string session;        // for a start
  std::size_t log_index = 0;  // where it was called, in the event log
  double at_s = 0;            // seconds into the window
  std::size_t mark = 0;       // call failures before it
  lk_result returned = LK_OK;
};

void long_run(CaseContext& ctx) {
  EventLog log;
  auto cam = open_camera(ctx, log);
  ASSERT_TRUE(cam);
  const lk_camera_description d = describe_camera(*cam);
  crypto::PublicKey key{};
  std::memcpy(key.data(), d.public_key, key.size());
  const uint32_t period = std::max<uint32_t>(d.attestation_period_ms, 1);
  const bool records = (d.flags & LK_CAMERA_CAP_RECORDING) != 0;
  std::vector<Step> steps;
  if (records) {
    const std::string s1 = session_bytes(), s2 = session_bytes();
    steps = {{"the first start_recording", true, s1},
             {"the first stop_recording", false, {}},
             {"the second start_recording (after a stop)", true, s2},
             {"the second stop_recording", false, {}}};
  }
  // A camera that falls silent is judged by what came: three declared periods per attestation, and 2 s.
  const milliseconds limit(3 * kLongWindow * period + 2000);
  const auto start = Clock::now();
  auto next_nonce = start;
  std::size_t step = 0;
  for (;;) {
    const auto now = Clock::now();
    if (now >= next_nonce) {
      const auto nonce = crypto::random_bytes(16);
      cam->deliver_nonce(nonce.data(), nonce.size());
      next_nonce += 200ms;
    }
    const std::size_t n = attestation_count(log.entries());
    if (step < steps.size() && n >= (step + 1) * kCycleStep) {
      Step& s = steps[step++];
      s.log_index = log.size();
      s.at_s = gap_ms(start, now) / 1000;
      s.mark = log.call_failures().size();
      s.returned = s.start ? start_recording(*cam, s.session) : cam->stop_recording();
    }
    if (step == steps.size() && n >= kLongWindow) break;
    if (now - start >= limit) break;
    std::this_thread::sleep_for(10ms);
  }
  const double window_s = gap_ms(start, Clock::now()) / 1000;
  // An isolated device answers accepting calls later: wait for every answer.
  if (ctx.subject.mode == isolation::PluginMode::kIsolated) settle_camera_calls(*cam, log, ack_timeout(d));
  const auto all = log.entries();
  std::size_t unparsed = 0;
  const std::vector<Seen> as = seen_in(all, 0, &key, &unparsed);
  auto phase_of = [&](std::size_t index) {
    std::string phase = "before any recording call";
    for (const Step& s : steps)
      if (s.log_index != 0 && s.log_index <= index) phase = "after " + s.label;
    return phase;
  };
  auto where = [&](std::size_t k) {
    return "attestation " + std::to_string(k + 1) + " of the window (counter " +
           std::to_string(as[k].attestation.counter()) + ", " + fixed(gap_ms(start, as[k].at) / 1000, 2) + " s in, " +
           phase_of(as[k].index) + ")";
  };
  const std::string window_text = "at least " + std::to_string(kLongWindow) + " attestations" +
                                  (records ? " and two recording cycles" : "");
  for (const Step& s : steps) {
    const lk_result r = answer_of(s.returned, log, s.mark, s.start ? "start_recording" : "stop_recording");
    if (r != LK_OK)
      fail_case(s.label + " was refused, " + fixed(s.at_s, 2) + " s into the window", "LK_OK (abi.md 8)",
                host::result_name(r));
  }
  if (as.size() < kLongWindow)
    fail_case("the camera stopped attesting before the window was complete",
              window_text + ", one attestation per declared period (" + std::to_string(period) + " ms), within " +
                  fixed(static_cast<double>(limit.count()) / 1000, 1) + " s",
              n_of(as.size(), "attestation", "attestations") + " in " + fixed(window_s, 2) + " s" +
                  (as.empty() ? "" : "; the last " + fixed(gap_ms(start, as.back().at) / 1000, 2) + " s in"));
  if (unparsed > 0)
    fail_case("attestations that are not a SignedAttestation holding an Attestation",
              "every LK_EVENT_ATTESTATION carries a serialized SignedAttestation (abi.md 8)",
              std::to_string(unparsed) + " in the window");
  if (as.empty()) return;
  // The key, the camera id, the boot id and the counter, each at its first fault.
  std::optional<std::size_t> first_unverified, first_other_id, first_other_boot, first_not_rising;
  std::size_t unverified = 0;
  for (std::size_t k = 0; k < as.size(); ++k) {
    const auto& a = as[k].attestation;
    if (!as[k].verified && unverified++ == 0) first_unverified = k;
    if (!first_other_id && a.camera_id() != d.camera_id) first_other_id = k;
    if (!first_other_boot && a.boot_id() != as.front().attestation.boot_id()) first_other_boot = k;
    if (!first_not_rising && k > 0 && a.counter() <= as[k - 1].attestation.counter()) first_not_rising = k;
  }
  if (first_unverified)
    fail_case(*first_unverified > 0 ? "attestations stopped verifying with the key the camera describes"
                                    : "attestations do not verify with the key the camera describes",
              "every attestation signed by the key describe() gives, for as long as the camera runs (docs/rules.md C1)",
              std::to_string(unverified) + " of " + std::to_string(as.size()) + " do not verify; the first: " +
                  where(*first_unverified) + (*first_unverified > 0 ? ", after " + std::to_string(*first_unverified) +
                                                                         " that did" : ""));
  if (first_other_id)
    fail_case("an attestation names another camera", "the camera id describe() gives: '" + std::string(d.camera_id) + "'",
              where(*first_other_id) + " names '" + as[*first_other_id].attestation.camera_id() + "'");
  if (first_other_boot)
    fail_case("the boot id changed while the camera ran",
              "one boot id from open to close: a new one is a restart, which the hub accepts only after "
              "re-enrolment (docs/rules.md C3)",
              where(*first_other_boot) + " carries boot id " + hex(as[*first_other_boot].attestation.boot_id()) +
                  "; the window began under " + hex(as.front().attestation.boot_id()));
  if (first_not_rising)
    fail_case("the counter did not increase", "every counter above the one before it, for as long as the camera runs "
                                              "(docs/rules.md C3)",
              where(*first_not_rising) + " follows counter " +
                  std::to_string(as[*first_not_rising - 1].attestation.counter()));
  // Each recording call shows in the attestations before the next call.
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    if (s.log_index == 0) continue;
    const std::size_t until = i + 1 < steps.size() && steps[i + 1].log_index != 0 ? steps[i + 1].log_index : all.size();
    bool shown = false;
    for (const Seen& a : as)
      if (a.index > s.log_index && a.index < until)
        shown |= s.start ? a.attestation.recording().recording() && a.attestation.recording().session_id() == s.session
                         : !a.attestation.recording().recording();
    if (!shown)
      fail_case(s.label + " never showed in the attestations",
                std::string("an attestation reporting ") + (s.start ? "recording for its session" : "no recording") +
                    " before the next call, " + std::to_string(kCycleStep) + " attestations later (docs/rules.md U2)",
                "none, " + fixed(s.at_s, 2) + " s into the window");
  }
  measured(std::to_string(as.size()) + " attestations in " + fixed(window_s, 2) + " s, counters " +
           std::to_string(as.front().attestation.counter()) + " to " + std::to_string(as.back().attestation.counter()) +
           ", boot id " + hex(as.front().attestation.boot_id()) +
           (records ? "; recording started and stopped twice, every " + std::to_string(kCycleStep) + " attestations"
                    : "; no recording (not declared)"));
}

// ---- TC-CAM-3: faults played through the test-control interface (abi.md 10) ----

std::optional<std::string> needs_camera_fault(const Subject& s, const std::string& uri) {
  if (auto r = needs_camera(s, uri)) return r;
  const auto* tc = s.plugin->test_control_interface();
  if (tc == nullptr || tc->inject_fault == nullptr || tc->clear_faults == nullptr)
    return std::string(kNeedsTestControlPrefix) +
           "the plugin offers no test control (latchkey.test_control, abi.md 10) to inject camera faults";
  return std::nullopt;
}

std::string fault_name(lk_fault fault) {
  switch (fault) {
    case LK_FAULT_CAMERA_FREEZE: return "LK_FAULT_CAMERA_FREEZE";
    case LK_FAULT_CAMERA_OFFLINE: return "LK_FAULT_CAMERA_OFFLINE";
    case LK_FAULT_CAMERA_COVERED: return "LK_FAULT_CAMERA_COVERED";
    default: return "fault " + std::to_string(fault);
  }
}

// A fault the camera plays while attesting: the attestations of four
// periods under it (after two to settle) and of four after clear_faults.
struct FaultWindows {
  bool played = false;  // injected and cleared
  std::vector<v1::Attestation> under, cleared;
};

void observe_fault(CaseContext& ctx, lk_fault fault, FaultWindows& out) {
  EventLog log;
  auto cam = open_camera(ctx, log);
  ASSERT_TRUE(cam);
  const lk_camera_description d = describe_camera(*cam);
  const milliseconds period(d.attestation_period_ms);
  const lk_result r = cam->inject_fault(fault, 0);
  if (r == LK_ERR_UNSUPPORTED)
    GTEST_SKIP() << kNeedsTestControlPrefix << "the plugin's test control cannot play " << fault_name(fault);
  if (r != LK_OK) {
    fail_case("inject_fault(" + fault_name(fault) + ") failed",
              "LK_OK, or LK_ERR_UNSUPPORTED for a fault the test control cannot play (abi.md 10)", host::result_name(r));
    return;
  }
  std::this_thread::sleep_for(2 * period + 100ms);
  std::size_t from = log.size();
  std::this_thread::sleep_for(4 * period + 200ms);
  out.under = attestations_since(log, from);
  if (const lk_result c = cam->clear_faults(); c != LK_OK) {
    fail_case("clear_faults failed", "LK_OK (abi.md 10)", host::result_name(c));
    return;
  }
  std::this_thread::sleep_for(period + 100ms);
  from = log.size();
  std::this_thread::sleep_for(4 * period + 200ms);
  out.cleared = attestations_since(log, from);
  out.played = true;
}

void freeze_reflected(CaseContext& ctx) {
  FaultWindows w;
  observe_fault(ctx, LK_FAULT_CAMERA_FREEZE, w);
  if (!w.played) return;
  const std::string under_expected = "attestations go on, every one with the same frame digest (docs/rules.md C5)";
  if (w.under.size() < 2) {
    fail_case("the frozen camera stopped attesting", under_expected,
              n_of(w.under.size(), "attestation", "attestations") + " in four periods under the fault");
    return;
  }
  std::size_t changed_under = 0;
  for (const auto& a : w.under) changed_under += a.frame_digest() != w.under.front().frame_digest();
  if (changed_under > 0)
    fail_case("the frame digest kept changing under LK_FAULT_CAMERA_FREEZE", under_expected,
              std::to_string(changed_under) + " of " + std::to_string(w.under.size()) +
                  " attestations carry another digest than the first under the fault");
  bool changed = false;
  for (std::size_t i = 1; i < w.cleared.size(); ++i)
    changed |= w.cleared[i].frame_digest() != w.cleared[i - 1].frame_digest();
  if (!changed)
    fail_case("after clear_faults the frame digest still does not change",
              "new digests again within four periods of clear_faults",
              n_of(w.cleared.size(), "attestation", "attestations") + ", all with one digest");
}

// C8: a covered lens shows in the camera's own measurements, and clearing
// it brings the view back.
void covered_reflected(CaseContext& ctx) {
  FaultWindows w;
  observe_fault(ctx, LK_FAULT_CAMERA_COVERED, w);
  if (!w.played) return;
  const std::string expected = "under the fault every attestation measures the view dark (mean_luminance below "
                               "8000) and unlike the reference (reference_similarity below 300) (docs/rules.md C8)";
  if (w.under.size() < 2) {
    fail_case("the covered camera stopped attesting", expected,
              n_of(w.under.size(), "attestation", "attestations") + " in four periods under the fault");
    return;
  }
  std::size_t unmeasured = 0, lit = 0, alike = 0;
  std::string example;
  for (const auto& a : w.under) {
    if (!a.has_scene()) {
      ++unmeasured;
      continue;
    }
    lit += a.scene().mean_luminance() >= 8000;
    alike += a.scene().reference_similarity() >= 300;
    if (example.empty() && (a.scene().mean_luminance() >= 8000 || a.scene().reference_similarity() >= 300))
      example = "counter " + std::to_string(a.counter()) + ": " + scene_text(a.scene());
  }
  const std::string of = " of " + std::to_string(w.under.size());
  if (unmeasured > 0)
    fail_case("a covered camera's attestations carry no scene measurements", expected, std::to_string(unmeasured) + of);
  if (lit > 0) fail_case("a covered lens measured as lit", expected, std::to_string(lit) + of + "; e.g. " + example);
  if (alike > 0)
    fail_case("a covered lens measured as like the reference view", expected, std::to_string(alike) + of + "; e.g. " + example);
  if (w.cleared.empty() || !w.cleared.back().has_scene() || w.cleared.back().scene().reference_similarity() < 300)
    fail_case("after clear_faults the view is still unlike its reference",
              "reference_similarity 300 or more within four periods of clear_faults",
              w.cleared.empty() ? std::string("no attestation")
                                : (w.cleared.back().has_scene() ? scene_text(w.cleared.back().scene())
                                                                : std::string("no scene measurements")));
}

// TC-CAM-3.2: continuity across an outage. Under the same boot id the counter
// goes on above every counter before the outage; a camera that comes back
// under a new boot id (it rebooted) says LK_CAMERA_STATUS_ONLINE first, the
// only way a hub accepts a new boot id without a new enrolment (C3).
void offline_reflected(CaseContext& ctx) {
  EventLog log;
  auto cam = open_camera(ctx, log);
  ASSERT_TRUE(cam);
  const lk_camera_description d = describe_camera(*cam);
  const milliseconds period(d.attestation_period_ms);
  // A few attestations first, so that there is a counter to go on from.
  log.wait_for([](const auto& all) { return attestation_count(all) >= 4; }, 4 * period + 2s);
  const lk_result r = cam->inject_fault(LK_FAULT_CAMERA_OFFLINE, 0);
  if (r == LK_ERR_UNSUPPORTED)
    GTEST_SKIP() << kNeedsTestControlPrefix << "the plugin's test control cannot play LK_FAULT_CAMERA_OFFLINE";
  if (r != LK_OK) {
    fail_case("inject_fault(LK_FAULT_CAMERA_OFFLINE) failed",
              "LK_OK, or LK_ERR_UNSUPPORTED for a fault the test control cannot play (abi.md 10)", host::result_name(r));
    return;
  }
  std::this_thread::sleep_for(period + 100ms);
  const std::size_t silent_from = log.size();
  const milliseconds outage = std::max(milliseconds(800), 4 * period);
  std::this_thread::sleep_for(outage);
  const std::size_t silent_to = log.size();
  const auto during = seen_in(log.entries(), silent_from);
  if (!during.empty())
    fail_case("an offline camera kept attesting", "no attestation while LK_FAULT_CAMERA_OFFLINE is injected",
              n_of(during.size(), "attestation", "attestations") + " in " + std::to_string(outage.count()) + " ms");
  std::vector<Seen> before;
  for (auto& s : seen_in(log.entries(), 0))
    if (s.index < silent_from) before.push_back(std::move(s));
  if (before.empty()) {
    fail_case("no attestation before the outage", "attestations from open on, one per declared period",
              "none in " + std::to_string((4 * period + 2s).count()) + " ms");
    return;
  }
  uint64_t highest = 0;
  for (const auto& s : before) highest = std::max<uint64_t>(highest, s.attestation.counter());
  const std::string old_boot = before.back().attestation.boot_id();
  const lk_result c = cam->clear_faults();
  const auto cleared_at = Clock::now();
  if (c != LK_OK) {
    fail_case("clear_faults failed", "LK_OK (abi.md 10)", host::result_name(c));
    return;
  }
  // Back: a few attestations, so that a counter that restarts after the first shows too.
  log.wait_for([&](const auto& all) { return seen_in(all, silent_to).size() >= 4; }, ack_timeout(d) + 4 * period);
  const auto all = log.entries();
  const auto after = seen_in(all, silent_to);
  const std::string continuity =
      "under the same boot id, counters above " + std::to_string(highest) +
      " (the highest before the outage) and rising; a new boot id only after LK_CAMERA_STATUS_ONLINE (docs/rules.md C3)";
  if (after.empty()) {
    fail_case("attestations did not resume after the camera came back", "attestations again within " +
                  std::to_string((ack_timeout(d) + 4 * period).count()) + " ms of clear_faults; " + continuity,
              "none");
    return;
  }
  const Seen* previous = nullptr;
  for (const Seen& s : after) {
    const auto& a = s.attestation;
    const std::string when = fixed(gap_ms(cleared_at, s.at) / 1000, 2);
    if (a.boot_id() == old_boot) {
      const uint64_t floor = previous ? previous->attestation.counter() : highest;
      if (a.counter() <= floor) {
        fail_case(previous ? "the counter did not increase after the outage"
                           : "the counter went back after the outage, under the same boot id",
                  continuity,
                  "counter " + std::to_string(a.counter()) + " under boot id " + hex(old_boot) + ", " + when +
                      " s after clear_faults ended the outage, follows " + std::to_string(floor));
        return;
      }
    } else {
      bool announced = false;
      for (std::size_t i = silent_from; i < s.index; ++i)
        announced |= all[i].event.kind == LK_EVENT_CAMERA_STATUS && all[i].event.value == LK_CAMERA_STATUS_ONLINE;
      if (!announced) {
        fail_case("the camera came back under a new boot id without announcing itself", continuity,
                  "boot id " + hex(a.boot_id()) + " after " + hex(old_boot) + ", with no LK_CAMERA_STATUS_ONLINE before it");
        return;
      }
      if (previous && previous->attestation.boot_id() == a.boot_id() && a.counter() <= previous->attestation.counter()) {
        fail_case("the counter did not increase after the outage", continuity,
                  "counter " + std::to_string(a.counter()) + " follows " +
                      std::to_string(previous->attestation.counter()) + " under the new boot id");
        return;
      }
    }
    previous = &s;
  }
  measured("counters up to " + std::to_string(highest) + " before an outage of " + std::to_string(outage.count()) +
           " ms; " + std::to_string(after.size()) + " attestations after it, counters " +
           std::to_string(after.front().attestation.counter()) + " to " +
           std::to_string(after.back().attestation.counter()) +
           (after.front().attestation.boot_id() == old_boot ? ", same boot id" : ", a new boot id announced ONLINE"));
}

std::optional<std::string> needs_snapshot(const Subject& s, const std::string& uri) {
  if (auto r = needs_camera(s, uri)) return r;
  if (s.plugin->camera_interface()->snapshot == nullptr)
    return std::string(kNotApplicablePrefix) + "the camera offers no snapshot";
  return std::nullopt;
}

void snapshot(CaseContext& ctx) {
  EventLog log;
  auto cam = open_camera(ctx, log);
  ASSERT_TRUE(cam);
  const lk_camera_description d = describe_camera(*cam);
  std::vector<uint8_t> frame;
  lk_snapshot_info info{};
  info.struct_size = sizeof info;
  if (const lk_result r = cam->snapshot(&frame, &info); r != LK_OK) {
    fail_case("snapshot failed", "LK_OK and a frame (abi.md 8)", host::result_name(r));
    return;
  }
  if (frame.empty()) fail_case("an empty snapshot", "a frame of at least one byte", "0 bytes");
  if (frame.size() > d.max_snapshot_bytes)
    fail_case("a snapshot larger than the camera declares", "at most max_snapshot_bytes, " +
                  std::to_string(d.max_snapshot_bytes) + " bytes",
              std::to_string(frame.size()) + " bytes");
  if (info.format != LK_SNAPSHOT_FORMAT_JPEG && info.format != LK_SNAPSHOT_FORMAT_PPM)
    fail_case("an unknown snapshot format", "LK_SNAPSHOT_FORMAT_JPEG or LK_SNAPSHOT_FORMAT_PPM",
              "format " + std::to_string(info.format));
  if (info.width * info.height == 0)
    fail_case("snapshot dimensions are zero", "width and height of the frame",
              std::to_string(info.width) + " x " + std::to_string(info.height));
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
  if (all.size() < 2) {
    fail_case("no attestations after the reconnection", "attestations again once the camera is back",
              n_of(all.size(), "attestation", "attestations") + " in all");
    return;
  }
  for (std::size_t i = 1; i < all.size(); ++i)
    if (all[i].boot_id() == all[i - 1].boot_id() && all[i].counter() <= all[i - 1].counter()) {
      fail_case("the counter did not keep increasing across the outage",
                "under one boot id, every counter above the one before it (docs/rules.md C3)",
                "counter " + std::to_string(all[i].counter()) + " follows " + std::to_string(all[i - 1].counter()));
      return;
    }
}

}  // namespace

void add_camera_cases(std::vector<CaseDef>& c) {
  c.push_back({"TC-CAM-1.1", "Attestations come at the declared attestation_period_ms: the period measured over the window "
               "(median of half-window spans) is 80-110 % of it, and no single gap exceeds twice it plus 200 ms",
               "docs/rules.md C1", Scope::kCamera, needs_camera, rate});
  c.push_back({"TC-CAM-1.2", "Every attestation verifies with the declared Ed25519 key and names the described camera",
               "docs/rules.md C1", Scope::kCamera, needs_camera, signatures});
  c.push_back({"TC-CAM-1.3", "The counter strictly increases and the boot id stays the same", "docs/rules.md C3",
               Scope::kCamera, needs_camera, counters});
  c.push_back({"TC-CAM-1.4", "Each attestation echoes one of the last three nonces delivered", "docs/rules.md C2",
               Scope::kCamera, needs_camera, nonces});
  c.push_back({"TC-CAM-1.5", "The frame digest changes: never the same for 1 s or more", "docs/rules.md C5", Scope::kCamera,
               needs_camera, digests});
  c.push_back({"TC-CAM-1.6", "The capture clock never runs backwards and its rate is within 10 % of the hub's (median "
               "slope over attestation pairs at least half the window apart; no allowance added)",
               "docs/rules.md C3", Scope::kCamera, needs_camera, camera_clock});
  c.push_back({"TC-CAM-1.7", "A camera that measures its view does so in every attestation, within the measurements' ranges",
               "docs/rules.md C8", Scope::kCamera, needs_camera, scene_measurements});
  c.push_back({"TC-CAM-1.8", "Over at least 120 attestations and, for a camera that records, two recording cycles (start, "
               "stop, start again, stop): every attestation verifies with the declared key and names the camera, the boot "
               "id never changes, the counter strictly increases, and each call shows in the attestations",
               "docs/rules.md C1, C3", Scope::kCamera, needs_camera, long_run});
  c.push_back({"TC-CAM-2.1", "Recording is acknowledged in an attestation for the session, switches sessions in a new segment and stops",
               "docs/rules.md U2", Scope::kCamera, needs_recording, recording});
  c.push_back({"TC-CAM-3.1", "An injected freeze stops the digest changing; clearing it resumes", "docs/rules.md C5",
               Scope::kCamera, needs_camera_fault, freeze_reflected});
  c.push_back({"TC-CAM-3.2", "An injected outage stops attestations; they resume under the same boot id with counters above "
               "every one before the outage (a new boot id only after LK_CAMERA_STATUS_ONLINE)",
               "docs/rules.md C3, C4", Scope::kCamera, needs_camera_fault, offline_reflected});
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
