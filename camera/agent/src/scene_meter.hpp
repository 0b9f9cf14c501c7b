// Scene measurements (docs/rules.md C8): every attested frame's mean luminance,
// sharpness and likeness to the reference view, computed by latchkey_attest
// from the GRAY8 picture the digest is of (pixel_digest.hpp), so the hub can
// tell a covered, blinded, blurred or turned camera from one that watches
// the door. The reference view is a 32x18 grey thumbnail kept in
// --reference-file: loaded at start, or, when the file is missing (first
// start, enrolment) or --retake-reference is given, taken from the first
// usable frame once the picture has settled, and saved. Until a reference
// exists nothing is measured and the agent does not attest: every
// attestation of a measuring agent carries all three measurements.
#pragma once

#include <latchkey/lk_attest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::camera {

// A GRAY8 picture copied out of the decoder's frame, rows packed (stride ==
// width), with the number of the frame it is (CapturedFrame::index).
struct GrayPicture {
  std::vector<uint8_t> pixels;
  int width = 0;
  int height = 0;
  uint64_t index = 0;

  void assign(const uint8_t* source, int source_width, int source_height, int source_stride, uint64_t frame_index);
};

struct SceneOptions {
  std::string reference_file;
  bool retake = false;  // replace the reference view with the first usable frame
  // How long after the first frame the reference may be taken: a camera's
  // exposure and white balance settle first.
  uint64_t settle_ns = 1'000'000'000;
  // A second reference view, of the scene at night: the similarity is that
  // of the closer of the two. Loaded when the file exists; taken from the
  // first usable frame (and saved) only with take_night, once the day
  // reference exists.
  std::string night_reference_file;
  bool take_night = false;
};

using ReferenceView = std::array<uint8_t, LK_ATTEST_THUMB_SIZE>;

class SceneMeter {
 public:
  // Loads the reference view (unless options.retake) and logs what it will
  // do. Throws std::runtime_error with the library's sentence when the file
  // exists but is refused (malformed, damaged, flat, unreadable): a reference
  // is never silently replaced.
  explicit SceneMeter(SceneOptions options);

  // The measurements of picture (captured at capture_ns, CLOCK_MONOTONIC)
  // against the reference view. nullopt while there is no reference yet
  // (this call takes it from the first usable picture after settling, and
  // saves it) or when the picture cannot be measured; both are logged at
  // most every 5 s. Not thread-safe: one thread measures.
  std::optional<lk_attest_scene> measure(const GrayPicture& picture, uint64_t capture_ns);

  bool has_reference() const { return reference_.has_value(); }
  bool has_night_reference() const { return night_reference_.has_value(); }
  const std::optional<ReferenceView>& reference() const { return reference_; }
  const std::string& reference_file() const { return options_.reference_file; }

  // A line for the agent's start-up log: where the reference comes from.
  const std::string& describe() const { return description_; }

 private:
  bool take_reference(const GrayPicture& picture, uint64_t capture_ns);
  void log_throttled(const std::string& text, uint64_t now_ns);
  void record(const lk_attest_scene& scene, uint64_t now_ns);

  static constexpr uint64_t kLogIntervalNs = 5'000'000'000;
  static constexpr uint64_t kSummaryIntervalNs = 60'000'000'000;

  SceneOptions options_;
  std::optional<ReferenceView> reference_;
  std::optional<ReferenceView> night_reference_;
  bool take_night_pending_ = false;
  bool take_night_reference(const GrayPicture& picture, uint64_t capture_ns);
  std::string description_;
  std::string describe_night_;
  uint64_t first_frame_ns_ = 0;
  bool seen_frame_ = false;
  uint64_t last_log_ns_ = 0;
  bool logged_ = false;
  uint64_t last_save_attempt_ns_ = 0;
  bool save_attempted_ = false;

  // The ranges since the last summary line, for whoever sets the hub's
  // thresholds at enrolment.
  uint64_t summary_start_ns_ = 0;
  uint64_t summary_count_ = 0;
  lk_attest_scene low_{};
  lk_attest_scene high_{};
};

}  // namespace latchkey::camera
