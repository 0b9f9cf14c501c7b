#include <latchkey/gate/liveness_monitor.hpp>

#include <latchkey/crypto/attestations.hpp>

#include <algorithm>
#include <cstdlib>

namespace latchkey::gate {

namespace {
constexpr std::size_t kNonceSize = 16;
crypto::ByteView view(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }
}  // namespace

LivenessMonitor::LivenessMonitor(std::string camera_id, const crypto::PublicKey& device_key,
                                 const GateConfig& config, const SceneLimits& scene)
    : camera_id_(std::move(camera_id)), key_(device_key), config_(config), scene_(scene) {}

namespace {

// C8: what is wrong with the camera's view, or nothing.
std::optional<std::string> scene_problem(const v1::Attestation& a, const SceneLimits& limits) {
  if (!a.has_scene()) {
    if (limits.required) return std::string("no scene measurements (C8 required for this camera)");
    return std::nullopt;
  }
  const auto& m = a.scene();
  const auto level = [](uint32_t x) { return std::to_string(x / 1000) + "." + std::to_string(x % 1000 / 100); };
  if (m.mean_luminance() < limits.min_luminance)
    return "too dark: mean luminance " + level(m.mean_luminance()) + " < " + level(limits.min_luminance) + " (covered?)";
  if (m.mean_luminance() > limits.max_luminance)
    return "too bright: mean luminance " + level(m.mean_luminance()) + " > " + level(limits.max_luminance) +
           " (blinded?)";
  if (m.sharpness() < limits.min_sharpness)
    return "too blurred: sharpness " + level(m.sharpness()) + " < " + level(limits.min_sharpness) + " (smeared?)";
  if (m.reference_similarity() < limits.min_similarity)
    return "unlike the reference view: similarity " + std::to_string(m.reference_similarity()) + " < " +
           std::to_string(limits.min_similarity) + " per mille (turned?)";
  return std::nullopt;
}

}  // namespace

crypto::Bytes LivenessMonitor::issue_nonce(MonoNs now, const RandomSource& random) {
  crypto::Bytes nonce(kNonceSize);
  random(std::span<uint8_t>(nonce));
  nonces_.push_back({nonce, now});
  // Keep only what can still be echoed (C2), plus one period of slack.
  const MonoNs oldest = now - ms_to_ns(config_.nonce_period_ms * (GateConfig::kNonceWindowPeriods + 1));
  while (nonces_.size() > 1 && nonces_.front().issued < oldest) nonces_.pop_front();
  return nonce;
}

AttestationVerdict LivenessMonitor::reject(Rule rule, std::string reason, uint64_t counter) {
  ++rejected_count_;
  consecutive_ = 0;  // a rejection ends LIVE at once (fail closed)
  AttestationVerdict v;
  v.rule = rule;
  v.reason = camera_id_ + ": " + std::move(reason);
  v.counter = counter;
  return v;
}

AttestationVerdict LivenessMonitor::on_attestation(crypto::ByteView signed_attestation, MonoNs now) {
  // C1: signature by the pinned device key, then the claims.
  const crypto::OpenedAttestation opened = crypto::open_attestation(signed_attestation, key_);
  if (!opened.ok) return reject(Rule::C1, "attestation refused: " + opened.error, 0);
  const auto& a = opened.attestation;
  const uint64_t counter = a.counter();
  if (a.camera_id() != camera_id_) return reject(Rule::C1, "attestation names camera '" + a.camera_id() + "'", counter);
  if (a.boot_id().size() != 16 || a.frame_digest().size() != 32)
    return reject(Rule::C1, "attestation boot_id or frame_digest has the wrong size", counter);

  // C3: boot id, counter, clock.
  if (boot_id_ && *boot_id_ != a.boot_id()) {
    if (!allow_new_boot_) return reject(Rule::C3, "boot id changed without re-enrolment", counter);
    have_counter_ = false;
    drift_reference_.reset();
    last_capture_ns_ = 0;
  }
  const bool new_boot = !boot_id_ || *boot_id_ != a.boot_id();
  if (!new_boot && have_counter_ && counter <= last_counter_)
    return reject(Rule::C3, "counter " + std::to_string(counter) + " does not increase past " + std::to_string(last_counter_),
                  counter);
  if (!new_boot && a.capture_time_ns() < last_capture_ns_) return reject(Rule::C3, "camera clock ran backwards", counter);
  if (!new_boot && drift_reference_) {
    const auto [camera_ref, hub_ref] = *drift_reference_;
    // 128-bit: a camera's capture time is its own claim and may be absurd.
    const __int128 camera_elapsed = static_cast<__int128>(a.capture_time_ns()) - camera_ref;
    const __int128 hub_elapsed = now - hub_ref;
    const __int128 window = std::max<__int128>(hub_elapsed, ms_to_ns(GateConfig::kDriftWindowMs));
    const __int128 drift = camera_elapsed > hub_elapsed ? camera_elapsed - hub_elapsed : hub_elapsed - camera_elapsed;
    if (drift * 100 > window * GateConfig::kDriftPercent) {
      drift_reference_ = {a.capture_time_ns(), now};  // judge the next one afresh
      last_capture_ns_ = a.capture_time_ns();
      return reject(Rule::C3, "camera clock drifts " + std::to_string(static_cast<int64_t>(drift / 1'000'000)) +
                              " ms from the hub's over " + std::to_string(static_cast<int64_t>(hub_elapsed / 1'000'000)) +
                              " ms",
                    counter);
    }
  }

  // C2: the echoed nonce must be one the hub issued at most 3 periods ago.
  const MonoNs oldest = now - ms_to_ns(config_.nonce_period_ms * GateConfig::kNonceWindowPeriods);
  bool nonce_ok = false;
  bool nonce_known = false;
  for (const IssuedNonce& n : nonces_) {
    if (crypto::equal_constant_time(n.nonce, view(a.hub_nonce()))) {
      nonce_known = true;
      nonce_ok = n.issued >= oldest;
    }
  }
  if (!nonce_ok)
    return reject(Rule::C2, nonce_known ? "echoed nonce is older than 3 nonce periods" : "echoed nonce was never issued",
                  counter);

  // The claims hold: the sequence state moves on.
  boot_id_ = a.boot_id();
  allow_new_boot_ = false;
  last_counter_ = counter;
  have_counter_ = true;
  last_capture_ns_ = a.capture_time_ns();
  if (!drift_reference_ || now - drift_reference_->second >= ms_to_ns(GateConfig::kDriftWindowMs))
    drift_reference_ = {a.capture_time_ns(), now};
  // How late this frame arrived, beyond the fastest of the recent ones (C8
  // counts its window from the frame, not from its arrival).
  const MonoNs arrival_lag = note_transit(a.capture_time_ns(), now, new_boot);

  // C7: a new digest that returns to one accepted within loop_window. The run
  // of identical digests just before it is C5's case, so only a change of
  // digest is looked up. Rejected digests are not remembered: a loop stays
  // rejected for as long as it plays.
  if (a.frame_digest() != run_digest_) {
    if (const auto seen = seen_digests_.find(a.frame_digest());
        seen != seen_digests_.end() && now - seen->second <= ms_to_ns(config_.loop_window_ms)) {
      return reject(Rule::C7, "frame digest returned to one seen " + std::to_string((now - seen->second) / 1'000'000) +
                              " ms ago (looped footage)",
                    counter);
    }
  }

  // C5: a frame digest unchanged for longer than freeze_window.
  if (a.frame_digest() != run_digest_) {
    run_digest_ = a.frame_digest();
    run_start_ = now;
  } else if (now - run_start_ > ms_to_ns(config_.freeze_window_ms)) {
    return reject(Rule::C5, "frame digest unchanged for " + std::to_string((now - run_start_) / 1'000'000) + " ms",
                  counter);
  }

  // C8: the camera's own measurements of the frame, out of its limits for
  // longer than tamper_window. Within the window the attestation counts: a
  // hand passing in front of the lens is not an attack.
  if (const auto problem = scene_problem(a, scene_)) {
    // The window starts at the first frame out of limits: its capture, on
    // the hub's clock as well as the fastest recent transit tells (a frame
    // may wait up to an attestation period on the camera before it is
    // signed), never before the previous attestation's arrival.
    if (!tamper_since_) tamper_since_ = std::max(now - arrival_lag, last_accepted_ ? *last_accepted_ : now);
    tamper_problem_ = *problem;
    if (now - *tamper_since_ > ms_to_ns(config_.tamper_window_ms))
      return reject(Rule::C8, *problem + " for " + std::to_string((now - *tamper_since_) / 1'000'000) + " ms", counter);
  } else {
    tamper_since_.reset();
    tamper_problem_.clear();
  }

  if (a.has_scene())
    last_scene_ = Scene{a.scene().mean_luminance(), a.scene().sharpness(), a.scene().reference_similarity()};
  remember_digest(a.frame_digest(), now);
  ++accepted_count_;
  // C4: a camera that fell silent past live_timeout was not LIVE; the run of
  // consecutive accepted attestations starts again.
  if (last_accepted_ && now - *last_accepted_ >= ms_to_ns(config_.live_timeout_ms)) consecutive_ = 0;
  ++consecutive_;
  last_accepted_ = now;
  const auto& rec = a.recording();
  recording_session_ = rec.recording() ? rec.session_id() : std::string();
  AttestationVerdict v;
  v.accepted = true;
  v.counter = counter;
  v.recording = rec.recording();
  v.session_id = rec.session_id();
  return v;
}

void LivenessMonitor::remember_digest(const std::string& digest, MonoNs now) {
  const MonoNs oldest = now - ms_to_ns(config_.loop_window_ms);
  while (!seen_order_.empty() && seen_order_.front().second < oldest) {
    // Only the newest sighting of a digest removes it from the map.
    if (auto it = seen_digests_.find(seen_order_.front().first);
        it != seen_digests_.end() && it->second == seen_order_.front().second)
      seen_digests_.erase(it);
    seen_order_.pop_front();
  }
  auto [it, inserted] = seen_digests_.try_emplace(digest, now);
  if (!inserted) {
    if (it->second == now) return;
    it->second = now;
  }
  seen_order_.emplace_back(digest, now);
}

bool LivenessMonitor::live(MonoNs now) const noexcept {
  return consecutive_ >= GateConfig::kLiveMinConsecutive && last_accepted_ &&
         now - *last_accepted_ < ms_to_ns(config_.live_timeout_ms) && !tampered(now);
}

MonoNs LivenessMonitor::live_until() const noexcept {
  if (consecutive_ < GateConfig::kLiveMinConsecutive || !last_accepted_) return kNever;
  const MonoNs silent = *last_accepted_ + ms_to_ns(config_.live_timeout_ms);
  // C8: the window ends LIVE by itself, not at the next attestation after it.
  if (tamper_since_) return std::min(silent, *tamper_since_ + ms_to_ns(config_.tamper_window_ms) + 1);
  return silent;
}

MonoNs LivenessMonitor::note_transit(uint64_t capture_ns, MonoNs now, bool new_boot) {
  if (new_boot) transit_count_ = transit_next_ = 0;  // the new boot's clock starts afresh
  // now - capture in the camera's units; the camera's clock is its own
  // claim, so the difference is clamped rather than trusted to fit.
  const __int128 raw = static_cast<__int128>(now) - static_cast<__int128>(capture_ns);
  const int64_t offset = static_cast<int64_t>(std::clamp<__int128>(raw, INT64_MIN / 2, INT64_MAX / 2));
  transits_[transit_next_] = offset;
  transit_next_ = (transit_next_ + 1) % transits_.size();
  if (transit_count_ < transits_.size()) ++transit_count_;
  int64_t fastest = offset;
  for (std::size_t i = 0; i < transit_count_; ++i) fastest = std::min(fastest, transits_[i]);
  const int64_t lag = offset - fastest;
  return std::min<int64_t>(lag, ms_to_ns(GateConfig::kMaxArrivalLagMs));
}

bool LivenessMonitor::tampered(MonoNs now) const noexcept {
  return tamper_since_ && now - *tamper_since_ > ms_to_ns(config_.tamper_window_ms);
}

}  // namespace latchkey::gate
