// The isolated runner and its device proxies: the device interface of
// latchkey/host/device_api.hpp carried over the plugin-host protocol.
#include <latchkey/host/devices.hpp>
#include <latchkey/isolation/plugin_runner.hpp>

#include "records.hpp"
#include "supervisor.hpp"

#include <mutex>

namespace latchkey::isolation {
namespace {

using Method = plugin_host::v1::DeviceCall::Method;

plugin_host::v1::DeviceCall make_call(Method method) {
  plugin_host::v1::DeviceCall c;
  c.set_method(method);
  return c;
}

// Where a record the host sent is refused: the runner's log, under the
// plugin's name, as the supervisor logs.
struct RefusalLog {
  host::LogHandler log;
  std::string name;

  void refused(const std::string& what, const std::string& device, const std::string& why) const {
    if (log) log(LK_LOG_ERROR, name, "refused " + what + " for " + device + " from the plugin host: " + why);
  }
};

class Proxy {
 public:
  Proxy(std::shared_ptr<Supervisor> supervisor, uint32_t id, std::string device,
        std::shared_ptr<const RefusalLog> refusals)
      : supervisor_(std::move(supervisor)), id_(id), device_(std::move(device)), refusals_(std::move(refusals)) {}
  ~Proxy() { close(); }

  void close() {
    if (closed_.exchange(true)) return;
    const host::ContractViolations counts = take_violations(supervisor_->close_device(id_));
    std::lock_guard lock(counts_mutex_);
    final_counts_ = counts;
  }

  lk_result call(Method method, plugin_host::v1::Reply* reply = nullptr, plugin_host::v1::DeviceCall c = {}) {
    if (closed_) return LK_ERR_CLOSED;
    c.set_method(method);
    return supervisor_->call(id_, std::move(c), reply);
  }
  lk_result send(Method method, const char* what, plugin_host::v1::DeviceCall c = {}) {
    if (closed_) return LK_ERR_CLOSED;
    c.set_method(method);
    return supervisor_->send(id_, std::move(c), what);
  }
  lk_result operation(plugin_host::v1::DeviceCall c, host::LockCompletionHandler done) {
    if (closed_) return LK_ERR_CLOSED;
    return supervisor_->start_operation(id_, std::move(c), std::move(done));
  }
  lk_result test_control(Method method, uint32_t code, int64_t parameter) {
    if (!supervisor_->ready().offers_test_control()) return LK_ERR_UNSUPPORTED;
    plugin_host::v1::DeviceCall c;
    c.set_code(code);
    c.set_parameter(parameter);
    return call(method, nullptr, std::move(c));
  }
  host::ContractViolations violations() {
    // Counted by the handle inside the host; once closed, the counts its close answered.
    if (closed_) {
      std::lock_guard lock(counts_mutex_);
      return final_counts_;
    }
    plugin_host::v1::Reply reply;
    if (call(plugin_host::v1::DeviceCall::VIOLATIONS, &reply) != LK_OK) return {};
    return take_violations(reply.violations());
  }
  // The description from the latest open: a reopened camera must prove its key again.
  plugin_host::v1::Record record() const { return supervisor_->record(id_); }

  // Reads a record the host sent into *out. A record that is missing (the
  // plugin filled none) or refused (logged, naming why) answers false.
  template <typename T>
  bool take(const plugin_host::v1::Record& record, T* out, const char* what) const {
    std::string why;
    if (take_record(record, out, &why)) return true;
    if (record.kind_case() != plugin_host::v1::Record::KIND_NOT_SET) refusals_->refused(what, device_, why);
    return false;
  }

 private:
  std::shared_ptr<Supervisor> supervisor_;
  uint32_t id_;
  std::string device_;  // how the log names it: its quoted URI, or "the authorization provider"
  std::shared_ptr<const RefusalLog> refusals_;
  std::atomic<bool> closed_{false};
  std::mutex counts_mutex_;
  host::ContractViolations final_counts_;  // what the host's close answered
};

class IsolatedLock final : public host::LockDevice {
 public:
  IsolatedLock(std::shared_ptr<Supervisor> s, uint32_t id, const std::string& uri,
                 std::shared_ptr<const RefusalLog> refusals)
      : p_(std::move(s), id, "'" + uri + "'", std::move(refusals)) {}

  void close() override { p_.close(); }
  lk_result describe(lk_lock_description* d) override {
    if (d == nullptr) return LK_ERR_INVALID_ARGUMENT;
    return p_.take(p_.record(), d, "a lock description") ? LK_OK : LK_ERR_UNSUPPORTED;
  }
  lk_result lock_state(lk_lock_state* state) override {
    plugin_host::v1::Reply reply;
    const lk_result r = p_.call(plugin_host::v1::DeviceCall::LOCK_STATE, &reply);
    *state = r == LK_OK ? reply.value() : LK_LOCK_STATE_UNKNOWN;
    return r;
  }
  lk_result door_state(lk_door_state* state) override {
    plugin_host::v1::Reply reply;
    const lk_result r = p_.call(plugin_host::v1::DeviceCall::DOOR_STATE, &reply);
    *state = r == LK_OK ? reply.value() : LK_DOOR_STATE_UNKNOWN;
    return r;
  }
  lk_result lock(uint64_t operation_id, host::LockCompletionHandler done) override {
    plugin_host::v1::DeviceCall c = make_call(plugin_host::v1::DeviceCall::LOCK);
    c.set_operation_id(operation_id);
    return p_.operation(std::move(c), std::move(done));
  }
  lk_result unlock(const lk_unlock_params& params, host::LockCompletionHandler done) override {
    plugin_host::v1::DeviceCall c = make_call(plugin_host::v1::DeviceCall::UNLOCK);
    c.set_operation_id(params.operation_id);
    c.set_relock_deadline_ms(params.relock_deadline_ms);
    c.set_unlatch(params.unlatch != 0);
    return p_.operation(std::move(c), std::move(done));
  }
  lk_result inject_fault(lk_fault fault, int64_t parameter) override {
    return p_.test_control(plugin_host::v1::DeviceCall::INJECT_FAULT, fault, parameter);
  }
  lk_result clear_faults() override { return p_.test_control(plugin_host::v1::DeviceCall::CLEAR_FAULTS, 0, 0); }
  lk_result physical_action(lk_physical_action action) override {
    return p_.test_control(plugin_host::v1::DeviceCall::PHYSICAL_ACTION, action, 0);
  }
  std::size_t pending_operations() const override {
    plugin_host::v1::Reply reply;
    return const_cast<Proxy&>(p_).call(plugin_host::v1::DeviceCall::PENDING_OPERATIONS, &reply) == LK_OK ? reply.value() : 0;
  }
  host::ContractViolations violations() const override { return const_cast<Proxy&>(p_).violations(); }

 private:
  Proxy p_;
};

class IsolatedCamera final : public host::CameraDevice {
 public:
  IsolatedCamera(std::shared_ptr<Supervisor> s, uint32_t id, const std::string& uri,
                   std::shared_ptr<const RefusalLog> refusals)
      : p_(std::move(s), id, "'" + uri + "'", std::move(refusals)) {
    lk_camera_description d{};
    d.struct_size = sizeof d;
    // A refused description is logged when describe() reads it.
    snapshot_ = take_record(p_.record(), &d, nullptr) && (d.flags & LK_CAMERA_CAP_SNAPSHOT) != 0;
  }

  void close() override { p_.close(); }
  lk_result describe(lk_camera_description* d) override {
    if (d == nullptr) return LK_ERR_INVALID_ARGUMENT;
    return p_.take(p_.record(), d, "a camera description") ? LK_OK : LK_ERR_UNSUPPORTED;
  }
  lk_result deliver_nonce(const uint8_t* nonce, std::size_t size) override {
    plugin_host::v1::DeviceCall c;
    c.set_data(nonce, size);
    return p_.send(plugin_host::v1::DeviceCall::DELIVER_NONCE, "deliver_nonce", std::move(c));
  }
  lk_result start_recording(const uint8_t (&session_id)[LK_SESSION_ID_SIZE]) override {
    plugin_host::v1::DeviceCall c;
    c.set_data(session_id, LK_SESSION_ID_SIZE);
    return p_.send(plugin_host::v1::DeviceCall::START_RECORDING, "start_recording", std::move(c));
  }
  lk_result stop_recording() override { return p_.send(plugin_host::v1::DeviceCall::STOP_RECORDING, "stop_recording"); }
  bool supports_snapshot() const noexcept override { return snapshot_; }
  lk_result snapshot(std::vector<uint8_t>* frame, lk_snapshot_info* info) override {
    if (!snapshot_) return LK_ERR_UNSUPPORTED;
    if (frame == nullptr || info == nullptr) return LK_ERR_INVALID_ARGUMENT;
    plugin_host::v1::Reply reply;
    const lk_result r = p_.call(plugin_host::v1::DeviceCall::SNAPSHOT, &reply);
    if (r != LK_OK) return r;
    if (!p_.take(reply.record(), info, "snapshot info")) return LK_ERR_INTERNAL;
    frame->assign(reply.data().begin(), reply.data().end());
    return LK_OK;
  }
  lk_result inject_fault(lk_fault fault, int64_t parameter) override {
    return p_.test_control(plugin_host::v1::DeviceCall::INJECT_FAULT, fault, parameter);
  }
  lk_result clear_faults() override { return p_.test_control(plugin_host::v1::DeviceCall::CLEAR_FAULTS, 0, 0); }
  host::ContractViolations violations() const override { return const_cast<Proxy&>(p_).violations(); }

 private:
  Proxy p_;
  bool snapshot_ = false;
};

class IsolatedAuthz final : public host::AuthzDevice {
 public:
  IsolatedAuthz(std::shared_ptr<Supervisor> s, uint32_t id, std::shared_ptr<const RefusalLog> refusals)
      : p_(std::move(s), id, "the authorization provider", std::move(refusals)) {}

  void close() override { p_.close(); }
  lk_result verify(const std::string& hub_id, const std::string& door_id, int64_t now_unix_ms,
                   const std::vector<uint8_t>& credential, lk_grant_info* grant, lk_authz_refusal* refusal) override {
    if (grant == nullptr || refusal == nullptr) return LK_ERR_INVALID_ARGUMENT;
    plugin_host::v1::DeviceCall c;
    c.set_hub_id(hub_id);
    c.set_door_id(door_id);
    c.set_now_unix_ms(now_unix_ms);
    c.set_data(credential.data(), credential.size());
    plugin_host::v1::Reply reply;
    const lk_result r = p_.call(plugin_host::v1::DeviceCall::VERIFY, &reply, std::move(c));
    if (r == LK_OK) {
      if (!p_.take(reply.record(), grant, "a grant")) return LK_ERR_INTERNAL;
    } else if (r == LK_ERR_DENIED) {
      if (!p_.take(reply.record(), refusal, "a refusal")) return LK_ERR_INTERNAL;
    }
    return r;
  }

 private:
  Proxy p_;
};

class IsolatedRunner final : public PluginRunner {
 public:
  IsolatedRunner(std::shared_ptr<Supervisor> s, std::shared_ptr<const RefusalLog> refusals)
      : s_(std::move(s)), refusals_(std::move(refusals)) {}
  ~IsolatedRunner() override { s_->stop(); }

  const host::PluginIdentity& identity() const override { return s_->identity(); }
  bool offers_lock() const override { return s_->ready().offers_lock(); }
  bool offers_camera() const override { return s_->ready().offers_camera(); }
  bool offers_authz() const override { return s_->ready().offers_authz(); }
  bool offers_test_control() const override { return s_->ready().offers_test_control(); }

  lk_result open_lock(const std::string& uri, host::DeviceHooks hooks,
                      std::unique_ptr<host::LockDevice>* out) override {
    if (!offers_lock()) throw std::logic_error("latchkey: the plugin offers no lock interface");
    uint32_t id = 0;
    plugin_host::v1::Record record;
    const lk_result r = s_->open_device(plugin_host::v1::DEVICE_KIND_LOCK, uri, std::move(hooks), &id, &record);
    if (r == LK_OK) *out = std::make_unique<IsolatedLock>(s_, id, uri, refusals_);
    return r;
  }
  lk_result open_camera(const std::string& uri, host::DeviceHooks hooks,
                        std::unique_ptr<host::CameraDevice>* out) override {
    if (!offers_camera()) throw std::logic_error("latchkey: the plugin offers no camera interface");
    uint32_t id = 0;
    plugin_host::v1::Record record;
    const lk_result r = s_->open_device(plugin_host::v1::DEVICE_KIND_CAMERA, uri, std::move(hooks), &id, &record);
    if (r == LK_OK) *out = std::make_unique<IsolatedCamera>(s_, id, uri, refusals_);
    return r;
  }
  lk_result open_authz(const std::string& config, std::unique_ptr<host::AuthzDevice>* out) override {
    if (!offers_authz()) throw std::logic_error("latchkey: the plugin offers no authorization interface");
    uint32_t id = 0;
    plugin_host::v1::Record record;
    const lk_result r = s_->open_device(plugin_host::v1::DEVICE_KIND_AUTHZ, config, {}, &id, &record);
    if (r == LK_OK) *out = std::make_unique<IsolatedAuthz>(s_, id, refusals_);
    return r;
  }
  PluginStatus status() const override { return s_->status(); }

 private:
  std::shared_ptr<Supervisor> s_;
  std::shared_ptr<const RefusalLog> refusals_;
};

}  // namespace

std::filesystem::path default_host_program() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto sibling = self.parent_path() / "lk-plugin-host";
    if (std::filesystem::exists(sibling, ec)) return sibling;
  }
  // Programs of the build tree (tests, tools) use the host built with them.
  if (std::filesystem::exists(LATCHKEY_BUILD_HOST_PROGRAM, ec)) return LATCHKEY_BUILD_HOST_PROGRAM;
  return std::filesystem::path(LATCHKEY_INSTALLED_HOST_PROGRAM);
}

std::unique_ptr<PluginRunner> run_isolated(const std::string& name, const std::filesystem::path& file,
                                           SupervisionConfig config, NoticeHandler notices, host::LogHandler log) {
  auto refusals = std::make_shared<RefusalLog>();
  refusals->log = log;
  auto supervisor = std::make_shared<Supervisor>(name, file, std::move(config), std::move(notices), std::move(log));
  supervisor->start();
  refusals->name = supervisor->identity().driver_id.empty() ? name : supervisor->identity().driver_id;
  return std::make_unique<IsolatedRunner>(std::move(supervisor), std::move(refusals));
}

}  // namespace latchkey::isolation
