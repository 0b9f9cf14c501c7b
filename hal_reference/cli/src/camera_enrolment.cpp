#include <latchkey/client/camera_enrolment.hpp>
#include <latchkey/host/devices.hpp>
#include <latchkey/host/plugin.hpp>

#include <algorithm>
#include <memory>

namespace latchkey::client {

CameraEnrolment enrol_camera(const std::filesystem::path& plugin_file, const std::string& uri) {
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
  const lk_result opened = host::CameraHandle::open(plugin, uri, [](const host::DeviceEvent&) {}, &camera);
  if (opened != LK_OK) {
    throw EnrolmentError("camera URI '" + uri + "': open failed with " + host::result_name(opened) +
                         " (see the plugin's log line above)");
  }
  lk_camera_description description{};
  description.struct_size = sizeof description;
  const lk_result described = camera->describe(&description);
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
  return enrolment;
}

}  // namespace latchkey::client
