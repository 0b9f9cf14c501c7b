#include "scene_meter.hpp"

#include "event_log.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace latchkey::camera {

void GrayPicture::assign(const uint8_t* source, int source_width, int source_height, int source_stride,
                         uint64_t frame_index) {
  width = source_width;
  height = source_height;
  index = frame_index;
  const auto w = static_cast<std::size_t>(source_width);
  pixels.resize(w * static_cast<std::size_t>(source_height));
  for (int y = 0; y < source_height; ++y)
    std::memcpy(pixels.data() + static_cast<std::size_t>(y) * w,
                source + static_cast<std::size_t>(y) * static_cast<std::size_t>(source_stride), w);
}

namespace {

// Loads a reference file; nullopt when missing; throws with the library's
// sentence when it exists but is refused.
std::optional<ReferenceView> load_reference(const std::string& option, const std::string& path, std::string* message_out) {
  ReferenceView view{};
  char message[LK_ATTEST_MESSAGE_SIZE] = "";
  const lk_attest_result r = lk_attest_reference_load(path.c_str(), view.data(), message, sizeof message);
  if (message_out) *message_out = message;
  if (r == LK_ATTEST_OK) return view;
  if (r == LK_ATTEST_ERR_REFERENCE_NOT_FOUND) return std::nullopt;
  throw std::runtime_error(option + ": " + message);
}

}  // namespace

SceneMeter::SceneMeter(SceneOptions options) : options_(std::move(options)) {
  if (!options_.night_reference_file.empty()) {
    std::string message;
    if (options_.take_night) {
      take_night_pending_ = true;
    } else {
      night_reference_ = load_reference("--night-reference-file", options_.night_reference_file, &message);
    }
  }
  const std::string night_note =
      options_.night_reference_file.empty() ? ""
      : take_night_pending_ ? "; the night reference view " + options_.night_reference_file +
                                  " will be taken from the first usable frame of this start"
      : night_reference_    ? "; a night reference view from " + options_.night_reference_file + " too"
                            : "; no night reference view yet (" + options_.night_reference_file +
                                  " is missing: take it at night with --take-night-reference)";
  describe_night_ = night_note;
  const std::string& path = options_.reference_file;
  const std::string later = "it will be taken from the first usable frame " +
                            std::to_string(options_.settle_ns / 1'000'000) +
                            " ms after the source starts, and attestations start then";
  if (options_.retake) {
    description_ = "--retake-reference: the reference view in " + path + " will be replaced; " + later + describe_night_;
    return;
  }
  if (take_night_pending_ && !std::ifstream(path).good())
    throw std::runtime_error("--take-night-reference: there is no day reference view in " + path +
                             " yet; take it first (start once without --take-night-reference)");
  ReferenceView view{};
  char message[LK_ATTEST_MESSAGE_SIZE] = "";
  const lk_attest_result r = lk_attest_reference_load(path.c_str(), view.data(), message, sizeof message);
  if (r == LK_ATTEST_OK) {
    reference_ = view;
    description_ = std::string(message) + " (C8 scene measurements against it)" + describe_night_;
    return;
  }
  if (r == LK_ATTEST_ERR_REFERENCE_NOT_FOUND) {
    description_ = "reference view " + path + " does not exist (enrolment): " + later + describe_night_;
    return;
  }
  throw std::runtime_error(std::string("--reference-file: ") + message +
                           (r == LK_ATTEST_ERR_REFERENCE_FORMAT || r == LK_ATTEST_ERR_REFERENCE_FLAT
                                ? "; to replace it with the camera's current view, start once with --retake-reference"
                                : ""));
}

void SceneMeter::log_throttled(const std::string& text, uint64_t now_ns) {
  if (logged_ && now_ns - last_log_ns_ < kLogIntervalNs) return;
  logged_ = true;
  last_log_ns_ = now_ns;
  log_event(text);
}

bool SceneMeter::take_reference(const GrayPicture& picture, uint64_t capture_ns) {
  if (!seen_frame_) {
    seen_frame_ = true;
    first_frame_ns_ = capture_ns;
  }
  if (capture_ns - first_frame_ns_ < options_.settle_ns) return false;
  ReferenceView view{};
  lk_attest_result r = lk_attest_thumbnail(picture.pixels.data(), static_cast<uint32_t>(picture.width),
                                           static_cast<uint32_t>(picture.height),
                                           static_cast<std::size_t>(picture.width), view.data());
  if (r != LK_ATTEST_OK) {
    log_throttled("cannot take a reference view from frames of " + std::to_string(picture.width) + "x" +
                      std::to_string(picture.height) + " (" + lk_attest_result_name(r) +
                      "; at least 32x18 are needed): not attesting",
                  capture_ns);
    return false;
  }
  char message[LK_ATTEST_MESSAGE_SIZE] = "";
  if (lk_attest_reference_check(view.data(), message, sizeof message) != LK_ATTEST_OK) {
    log_throttled(std::string("waiting for a usable reference view, not attesting until then: ") + message, capture_ns);
    return false;
  }
  // A save that fails (a missing directory, a full disk) is tried again at
  // most every 5 s, not at every attestation.
  if (save_attempted_ && capture_ns - last_save_attempt_ns_ < kLogIntervalNs) return false;
  save_attempted_ = true;
  last_save_attempt_ns_ = capture_ns;
  r = lk_attest_reference_save(options_.reference_file.c_str(), view.data(), message, sizeof message);
  if (r != LK_ATTEST_OK) {
    log_throttled(std::string("cannot save the reference view, not attesting until it is saved: ") + message,
                  capture_ns);
    return false;
  }
  reference_ = view;
  // The same numbers an attestation of this frame carries, for the log.
  lk_attest_scene scene{};
  lk_attest_scene_measure(picture.pixels.data(), static_cast<uint32_t>(picture.width),
                          static_cast<uint32_t>(picture.height), static_cast<std::size_t>(picture.width),
                          view.data(), &scene);
  log_event("reference view taken from frame " + std::to_string(picture.index) + " (" +
            std::to_string(picture.width) + "x" + std::to_string(picture.height) + ", mean_luminance " +
            std::to_string(scene.mean_luminance) + ", sharpness " + std::to_string(scene.sharpness) + "): " +
            message + " (a 32x18 grey PGM: look at it to check the camera shows what it should)");
  return true;
}

void SceneMeter::record(const lk_attest_scene& scene, uint64_t now_ns) {
  if (summary_count_ == 0) {
    summary_start_ns_ = now_ns;
    low_ = high_ = scene;
  }
  ++summary_count_;
  low_ = {std::min(low_.mean_luminance, scene.mean_luminance), std::min(low_.sharpness, scene.sharpness),
          std::min(low_.reference_similarity, scene.reference_similarity)};
  high_ = {std::max(high_.mean_luminance, scene.mean_luminance), std::max(high_.sharpness, scene.sharpness),
           std::max(high_.reference_similarity, scene.reference_similarity)};
  if (now_ns - summary_start_ns_ < kSummaryIntervalNs) return;
  auto range = [](uint32_t low, uint32_t high) { return std::to_string(low) + "-" + std::to_string(high); };
  log_event("scene over the last " + std::to_string((now_ns - summary_start_ns_) / 1'000'000'000) + " s (" +
            std::to_string(summary_count_) + " frames measured): mean_luminance " +
            range(low_.mean_luminance, high_.mean_luminance) + ", sharpness " + range(low_.sharpness, high_.sharpness) +
            ", reference_similarity " + range(low_.reference_similarity, high_.reference_similarity));
  summary_count_ = 0;
}

bool SceneMeter::take_night_reference(const GrayPicture& picture, uint64_t capture_ns) {
  if (capture_ns - first_frame_ns_ < options_.settle_ns) return false;
  ReferenceView view{};
  char message[LK_ATTEST_MESSAGE_SIZE] = "";
  if (lk_attest_thumbnail(picture.pixels.data(), static_cast<uint32_t>(picture.width),
                          static_cast<uint32_t>(picture.height), static_cast<std::size_t>(picture.width),
                          view.data()) != LK_ATTEST_OK ||
      lk_attest_reference_check(view.data(), message, sizeof message) != LK_ATTEST_OK) {
    log_throttled(std::string("waiting for a usable night reference view: ") + message, capture_ns);
    return false;
  }
  if (lk_attest_reference_save(options_.night_reference_file.c_str(), view.data(), message, sizeof message) !=
      LK_ATTEST_OK) {
    log_throttled(std::string("cannot save the night reference view: ") + message, capture_ns);
    return false;
  }
  night_reference_ = view;
  take_night_pending_ = false;
  log_event("night reference view taken from frame " + std::to_string(picture.index) + ": " + message);
  return true;
}

std::optional<lk_attest_scene> SceneMeter::measure(const GrayPicture& picture, uint64_t capture_ns) {
  if (!seen_frame_) {
    seen_frame_ = true;
    first_frame_ns_ = capture_ns;
  }
  if (!reference_ && !take_reference(picture, capture_ns)) return std::nullopt;
  if (take_night_pending_) take_night_reference(picture, capture_ns);
  // Luminance and sharpness here; the thumbnail once, for the day view and
  // (when there is one) the night view.
  const auto width = static_cast<uint32_t>(picture.width), height = static_cast<uint32_t>(picture.height);
  const auto stride = static_cast<std::size_t>(picture.width);
  lk_attest_scene scene{};
  ReferenceView thumbnail{};
  lk_attest_result r = lk_attest_scene_measure(picture.pixels.data(), width, height, stride, nullptr, &scene);
  if (r == LK_ATTEST_OK) r = lk_attest_thumbnail(picture.pixels.data(), width, height, stride, thumbnail.data());
  if (r != LK_ATTEST_OK) {
    log_throttled("cannot measure frames of " + std::to_string(picture.width) + "x" + std::to_string(picture.height) +
                      " (" + lk_attest_result_name(r) + "; 32x18 to 16384x16384 are measured): not attesting",
                  capture_ns);
    return std::nullopt;
  }
  scene.reference_similarity = lk_attest_similarity(thumbnail.data(), reference_->data());
  if (night_reference_)  // the closer of the two views
    scene.reference_similarity =
        std::max(scene.reference_similarity, lk_attest_similarity(thumbnail.data(), night_reference_->data()));
  record(scene, capture_ns);
  return scene;
}

}  // namespace latchkey::camera
