// The runtime's device set: the plugins it loads (in-process or isolated in
// their hosts), the locks, cameras and authorization device it opens from
// them at start, and what they report afterwards. Device events and
// supervisor notices arrive on other threads and are posted onto the loop.
// Also the test-control calls of HubApi, which talk to the devices directly.
#include "runtime_impl.hpp"
#include "supervision_config.hpp"

#include "runtime_views.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace latchkey::hub {

// ---- Setup ----
void Runtime::Impl::make_host_root() {
  const auto base = config.isolation.run_dir.empty() ? std::filesystem::temp_directory_path()
                                                     : config.isolation.run_dir;
  std::filesystem::create_directories(base);
  std::string pattern = (base / "latchkey-hosts-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("[isolation]: cannot create a directory for the plugin hosts under " + base.string() +
                             ": " + std::strerror(errno));
  host_root = pattern;
}

void Runtime::Impl::open_devices() {
  auto log = [](lk_log_level level, const std::string& driver, const std::string& message) {
    const LogLevel as = level >= LK_LOG_ERROR ? LogLevel::kError
                        : level >= LK_LOG_WARNING ? LogLevel::kWarning
                        : level >= LK_LOG_INFO ? LogLevel::kInfo
                                               : LogLevel::kDebug;
    hub::log(as, driver + ": " + message, "plugin");
  };
  for (const auto& [name, p] : config.plugins) {
    if (p.isolated) {
      if (host_root.empty()) make_host_root();
      const std::string plugin = name;
      auto notices = [this, plugin](const isolation::PluginNotice& n) {
        post([this, plugin, n] { on_plugin_notice(plugin, n); });
      };
      runners[name] = isolation::run_isolated(name, config.plugin_path(name), supervision_config(config.isolation, host_root / name),
                                               notices, log);
    } else {
      host::LoadOptions options;
      options.log = log;
      runners[name] = isolation::run_in_process(name, config.plugin_path(name), options);
    }
    plugin_status[name] = runners[name]->status();
  }

  for (const auto& [door_name, door] : config.doors) door_lock[door_name] = door.lock;
  for (const auto& [name, d] : config.locks) {
    std::string door;
    for (const auto& [door_name, dc] : config.doors)
      if (dc.lock == name) door = door_name;
    if (door.empty()) continue;  // a lock no door uses stays closed
    auto& runner = runners.at(d.plugin);
    if (!runner->offers_lock())
      throw std::runtime_error("[lock." + name + "]: plugin '" + d.plugin + "' offers no lock interface");
    std::unique_ptr<host::LockDevice> handle;
    host::DeviceHooks hooks;
    hooks.on_event = [this, door](const host::DeviceEvent& e) { on_lock_event(door, e); };
    const lk_result r = runner->open_lock(d.uri, hooks, &handle);
    if (r != LK_OK)
      throw std::runtime_error("[lock." + name + "]: opening " + d.uri + " failed: " + host::result_name(r));
    lk_lock_description desc{};
    desc.struct_size = sizeof desc;
    if (handle->describe(&desc) != LK_OK) throw std::runtime_error("[lock." + name + "]: describe failed");
    const std::string problem = gate::relock_deadline_problem(desc.flags, desc.max_relock_deadline_ms,
                                                              config.gate.relock_deadline_ms);
    if (!problem.empty()) throw std::runtime_error("[lock." + name + "]: the lock " + problem);
    locks[name] = Lock{door, d.plugin, std::move(handle)};
  }
  for (const auto& [name, d] : config.cameras) {
    auto& runner = runners.at(d.plugin);
    if (!runner->offers_camera())
      throw std::runtime_error("[camera." + name + "]: plugin '" + d.plugin + "' offers no camera interface");
    std::unique_ptr<host::CameraDevice> handle;
    host::DeviceHooks hooks;
    hooks.on_event = [this, name](const host::DeviceEvent& e) { on_camera_event(name, e); };
    hooks.on_call_failed = [this, name](const std::string& call, lk_result result) {
      post([this, name, call, result] {
        engine->on_camera_fault(name, call + " failed: " + host::result_name(result), now());
      });
    };
    const lk_result r = runner->open_camera(d.uri, hooks, &handle);
    if (r != LK_OK)
      throw std::runtime_error("[camera." + name + "]: opening " + d.uri + " failed: " + host::result_name(r));
    lk_camera_description desc{};
    desc.struct_size = sizeof desc;
    if (handle->describe(&desc) != LK_OK) throw std::runtime_error("[camera." + name + "]: describe failed");
    // C1 enrolment: the camera must hold the key pinned in the configuration
    // and carry the section's name as its id.
    const std::string problem = gate::camera_identity_problem(
        name, d.key, std::string(desc.camera_id, strnlen(desc.camera_id, sizeof desc.camera_id)),
        {desc.public_key, sizeof desc.public_key});
    if (!problem.empty())
      throw std::runtime_error("[camera." + name + "]: the device " + problem +
                               " (the key is pinned at enrolment; the section name must be its camera id)");
    cameras[name] = std::move(handle);
  }
  if (!config.authz_plugin.empty()) {
    auto& runner = runners.at(config.authz_plugin);
    if (!runner->offers_authz())
      throw std::runtime_error("[authz]: plugin '" + config.authz_plugin + "' offers no authorization interface");
    const lk_result r = runner->open_authz(config.authz_config, &authz);
    if (r != LK_OK) throw std::runtime_error(std::string("[authz]: the plugin refused its configuration: ") + host::result_name(r));
  }
}

bool Runtime::Impl::plugin_down(const std::string& plugin) const {
  auto it = plugin_status.find(plugin);
  return it != plugin_status.end() && it->second.state != isolation::PluginState::kRunning;
}

// ---- Device events (plugin threads -> loop) ----
void Runtime::Impl::on_lock_event(const std::string& door, const host::DeviceEvent& e) {
  post([this, door, kind = e.kind, value = e.value] {
    if (kind == LK_EVENT_LOCK_STATE) {
      engine->on_lock_state(door, value, now());
      publish(LockStateChanged{door, to_lock_state(static_cast<lk_lock_state>(value))});
    } else if (kind == LK_EVENT_DOOR_STATE) {
      engine->on_door_state(door, value, now());
      publish(DoorStateChanged{door, to_door_state(static_cast<lk_door_state>(value))});
    } else if (kind == LK_EVENT_LOCK_ALARM) {
      engine->on_lock_alarm(door, value, now());
      publish(LockAlarmReported{door, static_cast<uint64_t>(value)});
    }
  });
}

void Runtime::Impl::on_camera_event(const std::string& camera, const host::DeviceEvent& e) {
  if (e.kind == LK_EVENT_ATTESTATION && e.data) {
    post([this, camera, data = e.data] {
      engine->on_attestation(camera, {data->data(), data->size()}, now());
    });
  } else if (e.kind == LK_EVENT_CAMERA_STATUS && e.value == LK_CAMERA_STATUS_MESSAGE_REFUSED) {
    // Refused messages on the camera's link: audited by the engine. The
    // reason is the plugin's text; only printable ASCII of it is kept.
    std::string reason;
    if (e.data) {
      const std::size_t n = std::min<std::size_t>(e.data->size(), LK_CAMERA_REFUSAL_TEXT_MAX);
      for (std::size_t i = 0; i < n; ++i) {
        const uint8_t c = e.data->data()[i];
        reason.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
      }
    }
    if (reason.empty()) reason = "(no reason given)";
    post([this, camera, refusal = e.detail, reason = std::move(reason)] {
      engine->on_camera_message_refused(camera, refusal, reason, now());
      publish(CameraRefused{camera, reason});
    });
  } else if (e.kind == LK_EVENT_CAMERA_STATUS) {
    post([this, camera, value = e.value] {
      // C3: a camera that went offline and announces itself again may
      // have rebooted (a network camera's agent restarted). Its next
      // attestation may carry a new boot id; it must still be signed by
      // the pinned key and echo a fresh nonce, so a replay of an old boot
      // gains nothing.
      if (value == LK_CAMERA_STATUS_ONLINE && cameras.count(camera))
        engine->on_camera_reenrolled(camera, now(), "it came back online after being offline");
      publish(CameraStatusReported{camera, static_cast<uint64_t>(value)});
    });
  }
}

// ---- Supervision (isolated plugins; notices arrive on the supervisor's thread) ----
void Runtime::Impl::on_plugin_notice(const std::string& plugin, const isolation::PluginNotice& n) {
  plugin_status[plugin] = n.status;
  const std::string who = "plugin '" + plugin + "'";
  publish(PluginChanged{plugin, to_plugin_state(n.status.state), n.reason});
  // What each notice means is the engine's to decide (F1, C1, C3); the
  // runtime only tells it, and for a restored plugin, what its cameras say
  // of themselves now.
  using Kind = isolation::PluginNotice::Kind;
  if (n.kind == Kind::kFailed) {
    const int64_t restart_in_ms =
        n.status.state == isolation::PluginState::kRestarting ? static_cast<int64_t>(n.status.restart_in_ms) : -1;
    engine->on_plugin_failed(plugin, n.reason, restart_in_ms, now());
  } else if (n.kind == Kind::kQuarantined) {
    engine->on_plugin_quarantined(plugin, n.reason, now());
  } else if (n.kind == Kind::kRestored) {
    engine->on_plugin_restored(plugin, static_cast<int64_t>(n.status.pid), now());
    log_line("info", who + " restarted; devices reopened");
    for (const auto& [name, cam] : config.cameras) {
      auto it = cameras.find(name);
      if (cam.plugin != plugin || it == cameras.end()) continue;
      lk_camera_description desc{};
      desc.struct_size = sizeof desc;
      if (it->second->describe(&desc) != LK_OK) {
        engine->on_camera_fault(name, "describe failed after its plugin restarted", now());
        continue;
      }
      engine->on_camera_reopened(name, std::string(desc.camera_id, strnlen(desc.camera_id, sizeof desc.camera_id)),
                                 {desc.public_key, sizeof desc.public_key}, now());
    }
    // Locks report their state again from the new host (events); nothing to do here.
  }
}

// ---- HubApi: test control ----

ApiResult<TestControlDone> Runtime::test_door_action(const std::string& door_id, const std::string& action) {
  if (!impl_->config.test_control) return not_found("test control is not enabled on this hub");
  static const std::map<std::string, lk_physical_action> kActions = {
      {"open", LK_ACTION_DOOR_OPEN}, {"close", LK_ACTION_DOOR_CLOSE},
      {"manual_lock", LK_ACTION_MANUAL_LOCK}, {"manual_unlock", LK_ACTION_MANUAL_UNLOCK}};
  auto a = kActions.find(action);
  if (a == kActions.end()) return bad_request("unknown action '" + action + "'");
  // Off the loop: the device map is fixed after start, devices serialise their
  // own calls, and an isolated plugin that hangs must not stall the loop.
  Impl& s = *impl_;
  if (!s.config.doors.count(door_id)) return not_found("unknown door '" + door_id + "'");
  const lk_result r = s.locks.at(s.door_lock.at(door_id)).handle->physical_action(a->second);
  if (r != LK_OK) return conflict(std::string("the lock refused: ") + host::result_name(r));
  return TestControlDone{};
}

ApiResult<TestControlDone> Runtime::test_camera_fault(const std::string& camera_id, const std::string& fault,
                                                      int64_t parameter) {
  if (!impl_->config.test_control) return not_found("test control is not enabled on this hub");
  static const std::map<std::string, lk_fault> kFaults = {
      {"freeze", LK_FAULT_CAMERA_FREEZE}, {"offline", LK_FAULT_CAMERA_OFFLINE}, {"replay", LK_FAULT_CAMERA_REPLAY},
      {"ignore_nonce", LK_FAULT_CAMERA_IGNORE_NONCE}, {"repeat_counter", LK_FAULT_CAMERA_REPEAT_COUNTER},
      {"wrong_key", LK_FAULT_CAMERA_WRONG_KEY}, {"clock_jump", LK_FAULT_CAMERA_CLOCK_JUMP}, {"covered", LK_FAULT_CAMERA_COVERED},
      {"clear", 0}};
  auto f = kFaults.find(fault);
  if (f == kFaults.end()) return bad_request("unknown fault '" + fault + "'");
  return test_device_fault("camera", camera_id, f->second, parameter);
}

ApiResult<CameraSnapshot> Runtime::snapshot(const std::string& camera_id) {
  Impl& s = *impl_;
  auto it = s.cameras.find(camera_id);
  if (it == s.cameras.end()) return not_found("unknown camera '" + camera_id + "'");
  if (!it->second->supports_snapshot()) return not_found("camera '" + camera_id + "' offers no snapshots");
  CameraSnapshot shot;
  shot.camera = camera_id;
  lk_snapshot_info info{};
  info.struct_size = sizeof info;
  const lk_result r = it->second->snapshot(&shot.image, &info);
  if (r != LK_OK) return unavailable("camera '" + camera_id + "' gave no snapshot: " + host::result_name(r));
  if (info.format == LK_SNAPSHOT_FORMAT_JPEG) shot.format = CameraSnapshot::Format::kJpeg;
  else if (info.format == LK_SNAPSHOT_FORMAT_PPM) shot.format = CameraSnapshot::Format::kPpm;
  else return unavailable("camera '" + camera_id + "' gave a snapshot in unknown format " + std::to_string(info.format));
  shot.width = info.width;
  shot.height = info.height;
  return shot;
}

ApiResult<TestControlDone> Runtime::test_device_fault(const std::string& kind, const std::string& device,
                                                      uint32_t fault, int64_t parameter) {
  Impl& s = *impl_;
  if (!s.config.test_control) return not_found("test control is not enabled on this hub");
  lk_result r = LK_ERR_NOT_FOUND;
  if (kind == "camera") {
    auto it = s.cameras.find(device);
    if (it == s.cameras.end()) return not_found("unknown camera '" + device + "'");
    r = fault == 0 ? it->second->clear_faults() : it->second->inject_fault(fault, parameter);
  } else if (kind == "lock") {
    auto it = s.locks.find(device);
    if (it == s.locks.end()) return not_found("unknown lock '" + device + "'");
    r = fault == 0 ? it->second.handle->clear_faults() : it->second.handle->inject_fault(fault, parameter);
  } else {
    return bad_request("device kind must be lock or camera");
  }
  if (r != LK_OK) return conflict("the " + kind + " refused: " + host::result_name(r));
  return TestControlDone{};
}
}  // namespace latchkey::hub
