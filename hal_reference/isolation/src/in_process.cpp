// The in-process runner: the plugin loaded into this process, its devices the
// handles of latchkey/host/devices.hpp.
#include <latchkey/host/devices.hpp>
#include <latchkey/isolation/plugin_runner.hpp>

namespace latchkey::isolation {

const char* to_string(PluginMode mode) noexcept {
  return mode == PluginMode::kIsolated ? "isolated" : "in_process";
}

const char* to_string(PluginState state) noexcept {
  switch (state) {
    case PluginState::kRunning: return "running";
    case PluginState::kRestarting: return "restarting";
    case PluginState::kQuarantined: return "quarantined";
    case PluginState::kStopped: return "stopped";
  }
  return "unknown";
}

namespace {

class InProcessRunner final : public PluginRunner {
 public:
  InProcessRunner(std::string name, std::shared_ptr<host::Plugin> plugin)
      : name_(std::move(name)), plugin_(std::move(plugin)) {}

  const host::PluginIdentity& identity() const override { return plugin_->identity(); }
  bool offers_lock() const override { return plugin_->lock_interface() != nullptr; }
  bool offers_camera() const override { return plugin_->camera_interface() != nullptr; }
  bool offers_authz() const override { return plugin_->authz_interface() != nullptr; }
  bool offers_test_control() const override { return plugin_->test_control_interface() != nullptr; }

  // In-process calls answer at once, so on_call_failed never fires.
  lk_result open_lock(const std::string& uri, host::DeviceHooks hooks,
                      std::unique_ptr<host::LockDevice>* out) override {
    std::unique_ptr<host::LockHandle> handle;
    const lk_result r = host::LockHandle::open(plugin_, uri, std::move(hooks.on_event), &handle);
    if (r == LK_OK) *out = std::move(handle);
    return r;
  }
  lk_result open_camera(const std::string& uri, host::DeviceHooks hooks,
                        std::unique_ptr<host::CameraDevice>* out) override {
    std::unique_ptr<host::CameraHandle> handle;
    const lk_result r = host::CameraHandle::open(plugin_, uri, std::move(hooks.on_event), &handle);
    if (r == LK_OK) *out = std::move(handle);
    return r;
  }
  lk_result open_authz(const std::string& config, std::unique_ptr<host::AuthzDevice>* out) override {
    std::unique_ptr<host::AuthzHandle> handle;
    const lk_result r = host::AuthzHandle::open(plugin_, config, &handle);
    if (r == LK_OK) *out = std::move(handle);
    return r;
  }
  PluginStatus status() const override {
    PluginStatus s;
    s.name = name_;
    s.mode = PluginMode::kInProcess;
    s.state = PluginState::kRunning;
    return s;
  }

 private:
  std::string name_;
  std::shared_ptr<host::Plugin> plugin_;
};

}  // namespace

std::unique_ptr<PluginRunner> run_in_process(const std::string& name, const std::filesystem::path& file,
                                             host::LoadOptions options) {
  return std::make_unique<InProcessRunner>(name, host::Plugin::load(file, std::move(options)));
}

}  // namespace latchkey::isolation
