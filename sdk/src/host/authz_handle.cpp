// AuthzHandle: an authorization provider and its serialised calls.
#include <latchkey/host/devices.hpp>

#include <mutex>
#include <stdexcept>
#include <utility>

namespace latchkey::host {

// A provider sends no events and takes no callbacks, so it needs no registry entry.
struct AuthzHandle::State {
  std::shared_ptr<Plugin> plugin;
  const lk_authz_interface_v1* table = nullptr;
  std::mutex call_mutex;
  lk_authz_provider* provider = nullptr;
  bool open = false;  // guarded by call_mutex
};

namespace {

template <std::size_t N>
void terminate(char (&text)[N]) noexcept {
  text[N - 1] = '\0';
}

}  // namespace

lk_result AuthzHandle::open(std::shared_ptr<Plugin> plugin, const std::string& config,
                            std::unique_ptr<AuthzHandle>* out) {
  if (plugin == nullptr || plugin->authz_interface() == nullptr) {
    throw std::logic_error("latchkey: the plugin offers no authorization interface");
  }
  if (out == nullptr) return LK_ERR_INVALID_ARGUMENT;
  auto state = std::make_shared<State>();
  state->plugin = plugin;
  state->table = plugin->authz_interface();
  std::unique_ptr<AuthzHandle> handle(new AuthzHandle(state));
  const auto* bytes = reinterpret_cast<const uint8_t*>(config.data());
  const lk_result result = state->table->open(bytes, config.size(), &state->provider);
  if (result != LK_OK) return result;
  state->open = true;
  *out = std::move(handle);
  return LK_OK;
}

AuthzHandle::AuthzHandle(std::shared_ptr<State> state) : state_(std::move(state)) {}

AuthzHandle::~AuthzHandle() { close(); }

void AuthzHandle::close() {
  std::lock_guard<std::mutex> lock(state_->call_mutex);
  if (!state_->open) return;
  state_->table->close(state_->provider);
  state_->open = false;
}

lk_result AuthzHandle::verify(const std::string& hub_id, const std::string& door_id, int64_t now_unix_ms,
                              const std::vector<uint8_t>& credential, lk_grant_info* grant,
                              lk_authz_refusal* refusal) {
  lk_authz_context context{};
  context.struct_size = sizeof(context);
  context.hub_id = hub_id.c_str();
  context.door_id = door_id.c_str();
  context.now_unix_ms = now_unix_ms;
  // The plugin always gets both outputs, sized by the host.
  lk_grant_info grant_out{};
  grant_out.struct_size = sizeof(grant_out);
  lk_authz_refusal refusal_out{};
  refusal_out.struct_size = sizeof(refusal_out);
  lk_result result = LK_ERR_CLOSED;
  {
    std::lock_guard<std::mutex> lock(state_->call_mutex);
    if (state_->open) {
      result = state_->table->verify(state_->provider, &context, credential.data(), credential.size(), &grant_out,
                                     &refusal_out);
    }
  }
  // Text fields are fixed arrays the plugin filled: make sure each one ends.
  terminate(refusal_out.message);
  terminate(grant_out.issuer_key_id);
  terminate(grant_out.hub_id);
  terminate(grant_out.door_id);
  terminate(grant_out.courier_id);
  for (auto& id : grant_out.required_camera_ids) terminate(id);
  if (grant != nullptr) *grant = grant_out;
  if (refusal != nullptr) *refusal = refusal_out;
  return result;
}

const std::shared_ptr<Plugin>& AuthzHandle::plugin() const noexcept { return state_->plugin; }

}  // namespace latchkey::host
