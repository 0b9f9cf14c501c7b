#include <latchkey/client/camera_enrolment.hpp>
#include <latchkey/host/devices.hpp>
#include <latchkey/host/plugin.hpp>

#include <latchkey/crypto/attestations.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace latchkey::client {

void SceneRange::add(uint32_t luminance, uint32_t sharpness, uint32_t similarity) {
  ++samples;
  min_luminance = std::min(min_luminance, luminance), max_luminance = std::max(max_luminance, luminance);
  min_sharpness = std::min(min_sharpness, sharpness), max_sharpness = std::max(max_sharpness, sharpness);
  min_similarity = std::min(min_similarity, similarity), max_similarity = std::max(max_similarity, similarity);
}

SceneThresholds choose_thresholds(const SceneRange& seen) {
  SceneThresholds t{8000, 247000, 300, 300};  // the hub's defaults, when nothing was seen
  if (seen.samples == 0) return t;
  // Half the darkest seen, at most the default floor; halfway from the
  // brightest seen to white, at least the default ceiling.
  t.min_luminance = std::min<uint32_t>(8000, seen.min_luminance / 2);
  t.max_luminance = std::max<uint32_t>(247000, seen.max_luminance + (255000 - std::min(seen.max_luminance, 255000u)) / 2);
  t.min_sharpness = seen.min_sharpness / 3;
  const uint32_t below = seen.min_similarity > 300 ? seen.min_similarity - 300 : 0;
  t.min_similarity = std::clamp<uint32_t>(below, 200, 500);
  if (t.min_luminance >= t.max_luminance) t.min_luminance = 0;
  return t;
}

CameraEnrolment enrol_camera(const std::filesystem::path& plugin_file, const std::string& uri, uint32_t observe_ms) {
  std::shared_ptr<host::Plugin> plugin;
  try {
    plugin = host::Plugin::load(plugin_file);
  } catch (const host::LoadError& e) {
    throw EnrolmentError(std::string("plugin refused: ") + e.what());
  }
  if (!plugin->camera_interface()) {
    throw EnrolmentError(plugin_file.string() + ": plugin " + plugin->identity().driver_id +
                         " offers no camera interface");
  }
  std::unique_ptr<host::CameraHandle> camera;
  // Attestations lent by the plugin, kept for the scene (C8) while observing.
  struct Gathered {
    std::mutex mutex;
    std::vector<std::vector<uint8_t>> attestations;
  };
  auto gathered = std::make_shared<Gathered>();
  const auto on_event = [gathered](const host::DeviceEvent& e) {
    if (e.kind != LK_EVENT_ATTESTATION || !e.data) return;
    std::lock_guard lock(gathered->mutex);
    if (gathered->attestations.size() < 100'000) gathered->attestations.push_back(e.data->copy());
  };
  const lk_result opened = host::CameraHandle::open(plugin, uri, on_event, &camera);
  if (opened != LK_OK) {
    throw EnrolmentError("camera URI '" + uri + "': open failed with " + host::result_name(opened) +
                         " (see the plugin's log line above)");
  }
  lk_camera_description description{};
  description.struct_size = sizeof description;
  const lk_result described = camera->describe(&description);
  if (described == LK_OK && observe_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(observe_ms));
  std::vector<uint8_t> picture;
  lk_snapshot_info picture_info{};
  picture_info.struct_size = sizeof picture_info;
  std::string picture_note;
  if (described == LK_OK) {
    if (!camera->supports_snapshot()) {
      picture_note = "the camera offers no snapshot";
    } else if (const lk_result r = camera->snapshot(&picture, &picture_info); r != LK_OK) {
      picture_note = std::string("no snapshot: ") + host::result_name(r);
      picture.clear();
    }
  }
  camera->close();
  if (described != LK_OK) {
    throw EnrolmentError("camera URI '" + uri + "': describe failed with " + host::result_name(described));
  }
  CameraEnrolment enrolment;
  const char* id = description.camera_id;
  enrolment.camera_id.assign(id, std::find(id, id + sizeof description.camera_id, '\0'));
  std::copy(std::begin(description.public_key), std::end(description.public_key), enrolment.public_key.begin());
  const auto& identity = plugin->identity();
  enrolment.driver = identity.vendor + " / " + identity.driver_id + " " + identity.driver_version;
  enrolment.attestation_period_ms = description.attestation_period_ms;
  enrolment.snapshot = std::move(picture);
  enrolment.snapshot_format = picture_info.format;
  enrolment.snapshot_note = picture_note;
  std::lock_guard lock(gathered->mutex);
  for (const auto& bytes : gathered->attestations) {
    const crypto::OpenedAttestation a = crypto::open_attestation(bytes, enrolment.public_key);
    if (!a.ok || a.attestation.camera_id() != enrolment.camera_id) continue;  // not the described camera's
    if (!a.attestation.has_scene()) {
      ++enrolment.scene.unmeasured;
      continue;
    }
    const auto& m = a.attestation.scene();
    enrolment.scene.add(m.mean_luminance(), m.sharpness(), m.reference_similarity());
  }
  return enrolment;
}

}  // namespace latchkey::client
