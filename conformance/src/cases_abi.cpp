// TC-ABI: the binary contract of docs/abi.md, for every plugin.
//
// These cases test the C ABI itself: raw table calls with bad arguments,
// registered host buffers, negotiation in child processes, and the contract
// counters of the in-process handles. They always run against the plugin
// loaded into lk-certify (open_lock_handle, open_camera_handle, the raw
// tables), in either --mode; an lk-plugin-host would stand between the suite
// and the very calls they judge.
//
// Longer than most files: one short case per clause of docs/abi.md, sharing
// the raw-table and child-process helpers at the top.
#include "borrowed_buffers.h"
#include "camera_observation.hpp"
#include "raw_device.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace latchkey::certify {
namespace {

using namespace std::chrono_literals;

std::optional<std::string> needs_loaded(const Subject& s, const std::string&) {
  if (!s.loaded()) return "the host refused the plugin (TC-ABI-1.3)";
  return std::nullopt;
}

std::optional<std::string> needs_two_devices(const Subject& s, const std::string& uri) {
  if (auto r = needs_loaded(s, uri)) return r;
  if (!s.offers_lock() && !s.offers_camera())
    return std::string(kNotApplicablePrefix) + "the plugin offers no lock or camera interface";
  if (s.lock_uris.size() < 2 && s.camera_uris.size() < 2) return "needs two lock or camera device URIs (--device twice)";
  return std::nullopt;
}

std::string version_text(uint32_t v) {
  return std::to_string(host::abi_version_major(v)) + "." + std::to_string(host::abi_version_minor(v));
}

bool printable_identity(const std::string& s, std::size_t max) {
  return !s.empty() && s.size() <= max && std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// A malloc'd copy of bytes registered as a borrowed host buffer for its lifetime.
class Borrowed {
 public:
  Borrowed(const void* bytes, std::size_t size) : size_(size), data_(static_cast<uint8_t*>(std::malloc(size ? size : 1))) {
    if (size) std::memcpy(data_, bytes, size);
    original_.assign(data_, data_ + size);
    registered_ = lk_certify_register_borrowed(data_) != 0;
  }
  explicit Borrowed(const std::string& text) : Borrowed(text.c_str(), text.size() + 1) {}
  ~Borrowed() {
    lk_certify_unregister_borrowed(data_);
    std::free(data_);
  }
  Borrowed(const Borrowed&) = delete;
  Borrowed& operator=(const Borrowed&) = delete;
  template <class T>
  T* as() { return reinterpret_cast<T*>(data_); }
  uint8_t* data() { return data_; }
  bool unchanged() const { return std::equal(original_.begin(), original_.end(), data_); }

 private:
  std::size_t size_;
  uint8_t* data_;
  std::vector<uint8_t> original_;
  bool registered_ = false;
};

// ---- 1. Negotiation and loading ---------------------------------------------

void negotiation_in_range(CaseContext& ctx) {
  const NegotiationProbe& p = ctx.subject.negotiation;
  ASSERT_TRUE(p.ran) << p.error;
  const auto& requests = negotiation_requests();
  for (std::size_t i = 0; i < p.answers.size(); ++i) {
    if (requests[i].expect_refusal) continue;
    const NegotiationAnswer& a = p.answers[i];
    EXPECT_EQ(a.result, LK_OK) << a.request << ": lk_plugin_negotiate returned " << host::result_name(a.result);
    if (a.result != LK_OK) continue;
    EXPECT_TRUE(a.info_set) << a.request << ": LK_OK but *info is NULL";
    EXPECT_GE(a.abi_version, requests[i].min_version) << a.request << ": chose " << version_text(a.abi_version);
    EXPECT_LE(a.abi_version, requests[i].max_version) << a.request << ": chose " << version_text(a.abi_version);
  }
}

void negotiation_refusals(CaseContext& ctx) {
  const NegotiationProbe& p = ctx.subject.negotiation;
  ASSERT_TRUE(p.ran) << p.error;
  const auto& requests = negotiation_requests();
  for (std::size_t i = 0; i < p.answers.size(); ++i) {
    if (!requests[i].expect_refusal) continue;
    const NegotiationAnswer& a = p.answers[i];
    const lk_result expected = requests[i].null_request || requests[i].short_request ? LK_ERR_INVALID_ARGUMENT : LK_ERR_VERSION;
    EXPECT_EQ(a.result, expected) << a.request << ": expected " << host::result_name(expected) << ", got "
                                  << host::result_name(a.result);
  }
}

void loader_accepts(CaseContext& ctx) {
  ASSERT_TRUE(ctx.subject.loaded()) << "refused by the host (" << ctx.subject.load_error_kind
                                    << "): " << ctx.subject.load_error;
}

void identity(CaseContext& ctx) {
  const host::PluginIdentity& id = ctx.subject.plugin->identity();
  EXPECT_TRUE(printable_identity(id.vendor, LK_IDENTITY_MAX)) << "vendor '" << id.vendor << "'";
  EXPECT_TRUE(printable_identity(id.driver_id, LK_IDENTITY_MAX)) << "driver_id '" << id.driver_id << "'";
  EXPECT_TRUE(printable_identity(id.driver_version, LK_IDENTITY_MAX)) << "driver_version '" << id.driver_version << "'";
  EXPECT_TRUE(id.description.empty() || printable_identity(id.description, 1024)) << "description";
  EXPECT_EQ(id.abi_version, host::kAbiVersion1_0) << "chose ABI " << version_text(id.abi_version);
}

void exports_only_entry(CaseContext& ctx) {
  std::string error;
  const auto symbols = exported_symbols(ctx.subject.file, &error);
  ASSERT_TRUE(symbols) << error;
  bool entry = false;
  for (const ExportedSymbol& s : *symbols) {
    if (s.name == LK_PLUGIN_ENTRY_SYMBOL) entry = true;
    else ADD_FAILURE() << "exports '" << s.name << "'; a plugin exports only " LK_PLUGIN_ENTRY_SYMBOL;
    EXPECT_FALSE(s.unique) << "'" << s.name << "' is a GNU UNIQUE symbol (pins the library in memory)";
  }
  EXPECT_TRUE(entry) << LK_PLUGIN_ENTRY_SYMBOL " is not exported";
}

// ---- 3. Tables --------------------------------------------------------------

struct InterfaceSpec {
  const char* name;
  uint32_t major;
  std::size_t min_size;
};

const InterfaceSpec kInterfaces[] = {
    {LK_LOCK_INTERFACE_NAME, LK_LOCK_INTERFACE_MAJOR, LK_LOCK_INTERFACE_V1_MIN_SIZE},
    {LK_CAMERA_INTERFACE_NAME, LK_CAMERA_INTERFACE_MAJOR, LK_CAMERA_INTERFACE_V1_MIN_SIZE},
    {LK_AUTHZ_INTERFACE_NAME, LK_AUTHZ_INTERFACE_MAJOR, LK_AUTHZ_INTERFACE_V1_MIN_SIZE},
    {LK_TEST_CONTROL_INTERFACE_NAME, LK_TEST_CONTROL_INTERFACE_MAJOR, LK_TEST_CONTROL_INTERFACE_V1_MIN_SIZE},
};

void table_sizes(CaseContext& ctx) {
  const host::Plugin& p = *ctx.subject.plugin;
  const uint32_t declared[] = {p.declared_lock_size(), p.declared_camera_size(), p.declared_authz_size(),
                               p.declared_test_control_size()};
  bool any = false;
  for (std::size_t i = 0; i < 4; ++i) {
    if (declared[i] == 0) continue;
    any = true;
    EXPECT_GE(declared[i], kInterfaces[i].min_size)
        << kInterfaces[i].name << " struct_size " << declared[i] << " is below its v1 minimum " << kInterfaces[i].min_size;
  }
  EXPECT_TRUE(any) << "offers no interface";
}

void null_entries(CaseContext& ctx) {
  const host::Plugin& p = *ctx.subject.plugin;
  if (const auto* t = p.lock_interface()) {
    EXPECT_TRUE(t->open && t->close && t->describe && t->get_lock_state && t->get_door_state && t->lock && t->unlock)
        << "a mandatory lock entry is NULL";
  }
  if (const auto* t = p.camera_interface()) {
    EXPECT_TRUE(t->open && t->close && t->describe && t->deliver_nonce && t->start_recording && t->stop_recording)
        << "a mandatory camera entry is NULL";
    // The optional snapshot entry must agree with the declared capability.
    for (const std::string& uri : ctx.subject.camera_uris) {
      EventLog log;
      CaseContext device{ctx.subject, uri};
      auto cam = open_camera_handle(device, log);
      if (!cam) continue;
      lk_camera_description d{};
      d.struct_size = sizeof d;
      ASSERT_EQ(cam->describe(&d), LK_OK);
      const bool claims = (d.flags & LK_CAMERA_CAP_SNAPSHOT) != 0;
      EXPECT_EQ(claims, t->snapshot != nullptr)
          << uri << ": LK_CAMERA_CAP_SNAPSHOT is " << (claims ? "set" : "clear") << " but snapshot is "
          << (t->snapshot ? "set" : "NULL");
      break;
    }
  }
  if (const auto* t = p.authz_interface()) {
    EXPECT_TRUE(t->open && t->close && t->verify) << "a mandatory authz entry is NULL";
  }
}

// ---- 4. Arguments -------------------------------------------------------------

void null_pointers(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  const lk_event_sink& sink = dropping_sink();
  if (const auto* t = s.plugin->lock_interface(); t && !s.lock_uris.empty()) {
    const char* uri = s.lock_uris.front().c_str();
    lk_lock_device* dev = nullptr;
    EXPECT_EQ(fenced_call("lock.open(NULL uri)", [&] { return t->open(nullptr, &sink, &dev); }), LK_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fenced_call("lock.open(NULL sink)", [&] { return t->open(uri, nullptr, &dev); }), LK_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fenced_call("lock.open(NULL out)", [&] { return t->open(uri, &sink, nullptr); }), LK_ERR_INVALID_ARGUMENT);
    ASSERT_EQ(fenced_call("lock.open", [&] { return t->open(uri, &sink, &dev); }), LK_OK);
    EXPECT_EQ(fenced_call("lock.describe(NULL)", [&] { return t->describe(dev, nullptr); }), LK_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fenced_call("lock.get_lock_state(NULL)", [&] { return t->get_lock_state(dev, nullptr); }),
              LK_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fenced_call("lock.get_door_state(NULL)", [&] { return t->get_door_state(dev, nullptr); }),
              LK_ERR_INVALID_ARGUMENT);
    lk_lock_state state = 0;
    EXPECT_EQ(fenced_call("lock.get_lock_state(NULL device)", [&] { return t->get_lock_state(nullptr, &state); }),
              LK_ERR_INVALID_ARGUMENT);
    const uint64_t op = next_raw_operation_id();
    EXPECT_EQ(fenced_call("lock.lock(NULL done)", [&] { return t->lock(dev, op, nullptr, nullptr); }),
              LK_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fenced_call("lock.unlock(NULL params)", [&] { return t->unlock(dev, nullptr, &counting_completion, nullptr); }),
              LK_ERR_INVALID_ARGUMENT);
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(completions_seen(op), 0u) << "a completion fired for a start call that failed";
    fenced_call("lock.close(NULL)", [&] { t->close(nullptr); return LK_OK; });
    fenced_call("lock.close", [&] { t->close(dev); return LK_OK; });
  }
  if (const auto* t = s.plugin->camera_interface(); t && !s.camera_uris.empty()) {
    const char* uri = s.camera_uris.front().c_str();
    lk_camera_device* dev = nullptr;
    EXPECT_EQ(fenced_call("camera.open(NULL uri)", [&] { return t->open(nullptr, &sink, &dev); }), LK_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fenced_call("camera.open(NULL sink)", [&] { return t->open(uri, nullptr, &dev); }), LK_ERR_INVALID_ARGUMENT);
    ASSERT_EQ(fenced_call("camera.open", [&] { return t->open(uri, &sink, &dev); }), LK_OK);
    EXPECT_EQ(fenced_call("camera.describe(NULL)", [&] { return t->describe(dev, nullptr); }), LK_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fenced_call("camera.deliver_nonce(NULL)", [&] { return t->deliver_nonce(dev, nullptr, 16); }),
              LK_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fenced_call("camera.start_recording(NULL)", [&] { return t->start_recording(dev, nullptr); }),
              LK_ERR_INVALID_ARGUMENT);
    if (t->snapshot) {
      uint8_t byte = 0;
      EXPECT_EQ(fenced_call("camera.snapshot(NULL size)", [&] { return t->snapshot(dev, &byte, nullptr, nullptr); }),
                LK_ERR_INVALID_ARGUMENT);
    }
    fenced_call("camera.close(NULL)", [&] { t->close(nullptr); return LK_OK; });
    fenced_call("camera.close", [&] { t->close(dev); return LK_OK; });
  }
  if (const auto* t = s.plugin->authz_interface()) {
    lk_authz_provider* provider = nullptr;
    const std::string& config = s.authz.config;
    const auto* bytes = reinterpret_cast<const uint8_t*>(config.data());
    EXPECT_EQ(fenced_call("authz.open(NULL config, size 8)", [&] { return t->open(nullptr, 8, &provider); }),
              LK_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fenced_call("authz.open(NULL out)", [&] { return t->open(bytes, config.size(), nullptr); }),
              LK_ERR_INVALID_ARGUMENT);
    if (fenced_call("authz.open", [&] { return t->open(bytes, config.size(), &provider); }) == LK_OK) {
      lk_authz_context c{sizeof c, 0, "hub-1", "front", 0};
      lk_grant_info grant{};
      grant.struct_size = sizeof grant;
      lk_authz_refusal refusal{};
      refusal.struct_size = sizeof refusal;
      const uint8_t credential[4] = {1, 2, 3, 4};
      EXPECT_EQ(fenced_call("authz.verify(NULL context)",
                            [&] { return t->verify(provider, nullptr, credential, 4, &grant, &refusal); }),
                LK_ERR_INVALID_ARGUMENT);
      EXPECT_EQ(fenced_call("authz.verify(NULL grant)",
                            [&] { return t->verify(provider, &c, credential, 4, nullptr, &refusal); }),
                LK_ERR_INVALID_ARGUMENT);
      EXPECT_EQ(fenced_call("authz.verify(NULL refusal)",
                            [&] { return t->verify(provider, &c, credential, 4, &grant, nullptr); }),
                LK_ERR_INVALID_ARGUMENT);
      fenced_call("authz.close", [&] { t->close(provider); return LK_OK; });
    } else {
      ADD_FAILURE() << "authz.open refused the configuration";
    }
  }
}

void growable_structs(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  const lk_event_sink& sink = dropping_sink();
  constexpr uint8_t kGuard = 0xA5;
  if (const auto* t = s.plugin->lock_interface(); t && !s.lock_uris.empty()) {
    lk_lock_device* dev = nullptr;
    ASSERT_EQ(fenced_call("lock.open", [&] { return t->open(s.lock_uris.front().c_str(), &sink, &dev); }), LK_OK);
    // An older host knowing only struct_size and flags: nothing beyond 8 bytes is written.
    uint8_t buffer[sizeof(lk_lock_description) + 16];
    std::memset(buffer, kGuard, sizeof buffer);
    const uint32_t small = 8;
    std::memcpy(buffer, &small, sizeof small);
    EXPECT_EQ(fenced_call("lock.describe(struct_size 8)",
                          [&] { return t->describe(dev, reinterpret_cast<lk_lock_description*>(buffer)); }),
              LK_OK);
    uint32_t kept = 0;
    std::memcpy(&kept, buffer, sizeof kept);
    EXPECT_EQ(kept, small) << "describe changed struct_size";
    EXPECT_TRUE(std::all_of(buffer + small, buffer + sizeof buffer, [](uint8_t b) { return b == kGuard; }))
        << "describe wrote beyond the struct_size the host set (abi.md 2)";
    // A newer host: a bigger struct_size is kept and what the plugin does not know stays as the host set it.
    std::memset(buffer, 0, sizeof buffer);
    const uint32_t big = sizeof buffer;
    std::memcpy(buffer, &big, sizeof big);
    EXPECT_EQ(fenced_call("lock.describe(struct_size larger)",
                          [&] { return t->describe(dev, reinterpret_cast<lk_lock_description*>(buffer)); }),
              LK_OK);
    std::memcpy(&kept, buffer, sizeof kept);
    EXPECT_EQ(kept, big) << "describe changed struct_size";
    // A short unlock params struct is refused and never completes.
    lk_unlock_params p{};
    p.struct_size = 4;
    p.operation_id = next_raw_operation_id();
    EXPECT_EQ(fenced_call("lock.unlock(struct_size 4)", [&] { return t->unlock(dev, &p, &counting_completion, nullptr); }),
              LK_ERR_INVALID_ARGUMENT);
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(completions_seen(p.operation_id), 0u) << "a refused unlock completed";
    fenced_call("lock.close", [&] { t->close(dev); return LK_OK; });
  }
  if (const auto* t = s.plugin->camera_interface(); t && !s.camera_uris.empty()) {
    lk_camera_device* dev = nullptr;
    ASSERT_EQ(fenced_call("camera.open", [&] { return t->open(s.camera_uris.front().c_str(), &sink, &dev); }), LK_OK);
    uint8_t buffer[sizeof(lk_camera_description) + 16];
    std::memset(buffer, kGuard, sizeof buffer);
    const uint32_t small = 8;
    std::memcpy(buffer, &small, sizeof small);
    EXPECT_EQ(fenced_call("camera.describe(struct_size 8)",
                          [&] { return t->describe(dev, reinterpret_cast<lk_camera_description*>(buffer)); }),
              LK_OK);
    uint32_t kept = 0;
    std::memcpy(&kept, buffer, sizeof kept);
    EXPECT_EQ(kept, small) << "describe changed struct_size";
    EXPECT_TRUE(std::all_of(buffer + small, buffer + sizeof buffer, [](uint8_t b) { return b == kGuard; }))
        << "describe wrote beyond the struct_size the host set (abi.md 2)";
    // Nonces are 16 to 32 bytes.
    const uint8_t nonce[40] = {};
    EXPECT_EQ(fenced_call("camera.deliver_nonce(15 bytes)", [&] { return t->deliver_nonce(dev, nonce, 15); }),
              LK_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fenced_call("camera.deliver_nonce(33 bytes)", [&] { return t->deliver_nonce(dev, nonce, 33); }),
              LK_ERR_INVALID_ARGUMENT);
    fenced_call("camera.close", [&] { t->close(dev); return LK_OK; });
  }
}

std::optional<std::string> needs_snapshot(const Subject& s, const std::string& uri) {
  if (auto r = needs_loaded(s, uri)) return r;
  if (!s.offers_camera() || s.plugin->camera_interface()->snapshot == nullptr) return std::string(kNotApplicablePrefix) + "no camera snapshot entry";
  if (s.camera_uris.empty()) return "no camera device URI";
  return std::nullopt;
}

void short_buffers(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  const auto* t = s.plugin->camera_interface();
  lk_camera_device* dev = nullptr;
  ASSERT_EQ(fenced_call("camera.open", [&] { return t->open(s.camera_uris.front().c_str(), &dropping_sink(), &dev); }),
            LK_OK);
  std::size_t needed = 0;
  EXPECT_EQ(fenced_call("snapshot(NULL buffer)", [&] { return t->snapshot(dev, nullptr, &needed, nullptr); }), LK_OK);
  EXPECT_GT(needed, 0u) << "a NULL buffer query returned size 0";
  if (needed > 1) {
    Borrowed shorter(std::string(needed - 2, 'x'));
    std::size_t size = needed - 1;
    EXPECT_EQ(fenced_call("snapshot(short buffer)", [&] { return t->snapshot(dev, shorter.data(), &size, nullptr); }),
              LK_ERR_BUFFER_TOO_SMALL);
    EXPECT_GE(size, needed - 1) << "a short buffer did not return the size needed";
  }
  std::vector<uint8_t> frame(needed + 64);
  std::size_t size = frame.size();
  lk_snapshot_info info{};
  info.struct_size = sizeof info;
  EXPECT_EQ(fenced_call("snapshot(large buffer)", [&] { return t->snapshot(dev, frame.data(), &size, &info); }), LK_OK);
  EXPECT_LE(size, frame.size());
  EXPECT_GT(size, 0u);
  fenced_call("camera.close", [&] { t->close(dev); return LK_OK; });
}

void unknown_values(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  const lk_event_sink& sink = dropping_sink();
  const char* unknown_uri = "lk-certify://no-such-device/0";
  auto refused = [](lk_result r) { return r == LK_ERR_NOT_FOUND || r == LK_ERR_INVALID_ARGUMENT; };
  const auto* tc = s.plugin->test_control_interface();
  if (const auto* t = s.plugin->lock_interface(); t && !s.lock_uris.empty()) {
    lk_lock_device* dev = nullptr;
    const lk_result r = fenced_call("lock.open(unknown URI)", [&] { return t->open(unknown_uri, &sink, &dev); });
    EXPECT_TRUE(refused(r)) << "opening '" << unknown_uri << "' returned " << host::result_name(r);
    if (r == LK_OK) t->close(dev);
    if (tc) {
      ASSERT_EQ(fenced_call("lock.open", [&] { return t->open(s.lock_uris.front().c_str(), &sink, &dev); }), LK_OK);
      if (tc->inject_fault) {
        EXPECT_EQ(fenced_call("inject_fault(unknown fault)", [&] { return tc->inject_fault(dev, LK_DEVICE_KIND_LOCK, 0x7FFF, 0); }),
                  LK_ERR_UNSUPPORTED);
      }
      if (tc->physical_action) {
        EXPECT_EQ(fenced_call("physical_action(unknown action)", [&] { return tc->physical_action(dev, LK_DEVICE_KIND_LOCK, 999); }),
                  LK_ERR_UNSUPPORTED);
      }
      t->close(dev);
    }
  }
  if (const auto* t = s.plugin->camera_interface(); t && !s.camera_uris.empty()) {
    lk_camera_device* dev = nullptr;
    const lk_result r = fenced_call("camera.open(unknown URI)", [&] { return t->open(unknown_uri, &sink, &dev); });
    EXPECT_TRUE(refused(r)) << "opening '" << unknown_uri << "' returned " << host::result_name(r);
    if (r == LK_OK) t->close(dev);
    if (tc && tc->inject_fault) {
      ASSERT_EQ(fenced_call("camera.open", [&] { return t->open(s.camera_uris.front().c_str(), &sink, &dev); }), LK_OK);
      EXPECT_EQ(fenced_call("inject_fault(unknown fault)", [&] { return tc->inject_fault(dev, LK_DEVICE_KIND_CAMERA, 0x7FFF, 0); }),
                LK_ERR_UNSUPPORTED);
      t->close(dev);
    }
  }
  if (const auto* t = s.plugin->authz_interface()) {
    lk_authz_provider* provider = nullptr;
    const std::string garbage = "lk-certify: no such directive\n";
    const lk_result r = fenced_call("authz.open(bad config)", [&] {
      return t->open(reinterpret_cast<const uint8_t*>(garbage.data()), garbage.size(), &provider);
    });
    if (s.authz.reference_format) {
      EXPECT_EQ(r, LK_ERR_INVALID_ARGUMENT) << "a configuration with an unknown directive was not refused";
    }
    if (r == LK_OK) t->close(provider);
  }
}

// ---- 5. Completions and close ------------------------------------------------

std::optional<std::string> needs_lock(const Subject& s, const std::string& uri) {
  if (auto r = needs_loaded(s, uri)) return r;
  if (!s.offers_lock()) return std::string(kNotApplicablePrefix) + "the plugin offers no lock interface";
  return std::nullopt;
}

void completion_exactly_once(CaseContext& ctx) {
  EventLog log;
  auto lock = open_lock_handle(ctx, log);
  ASSERT_TRUE(lock);
  lk_lock_description d{};
  d.struct_size = sizeof d;
  ASSERT_EQ(lock->describe(&d), LK_OK);
  Completions done;
  uint64_t op = 100;
  for (int round = 0; round < 3; ++round) {
    for (bool unlock : {true, false}) {
      const auto c = run_lock_operation(*lock, done, unlock, ++op, 0, operation_timeout(d));
      if (c) {
        EXPECT_EQ(c->operation_id, op) << "the completion does not echo the operation id";
      }
    }
  }
  // A start call that fails never completes: an unlatch request to a lock without the capability,
  // or a relock deadline beyond the declared maximum.
  lk_unlock_params bad{};
  bad.struct_size = sizeof bad;
  bad.operation_id = ++op;
  if ((d.flags & LK_LOCK_CAP_UNLATCH) == 0) bad.unlatch = 1;
  else bad.relock_deadline_ms = d.max_relock_deadline_ms + 1;
  const lk_result r = lock->unlock(bad, done.handler());
  if (r == LK_OK) {
    done.wait(op, operation_timeout(d));  // allowed to succeed; then it must complete once like any other
  } else {
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(done.count(op), 0u) << "a completion fired for a start call that returned " << host::result_name(r);
  }
  std::this_thread::sleep_for(milliseconds(std::min<uint32_t>(d.max_actuation_ms, 2000) + 200));
  const host::ContractViolations v = lock->violations();
  EXPECT_EQ(v.duplicate_completions, 0u) << "a completion fired twice";
  EXPECT_EQ(v.unknown_completions, 0u) << "a completion fired for an unknown operation";
  EXPECT_EQ(v.completions_after_failed_start, 0u) << "a completion fired after its start call failed";
  lock->close();
  EXPECT_EQ(lock->violations().missing_completions, 0u) << "an operation was still pending at close";
}

void lock_close_contract(CaseContext& ctx) {
  EventLog log;
  auto lock = open_lock_handle(ctx, log);
  ASSERT_TRUE(lock);
  Completions done;
  lk_unlock_params p{};
  p.struct_size = sizeof p;
  p.operation_id = 7;
  ASSERT_EQ(lock->unlock(p, done.handler()), LK_OK);
  lock->close();  // possibly with the unlock still moving: its completion must fire before close returns
  EXPECT_EQ(done.count(7), 1u) << "close returned without the pending completion having fired (abi.md 7 close)";
  const auto v = lock->violations();
  EXPECT_EQ(v.missing_completions, 0u) << "the host had to complete a pending operation itself";
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(lock->violations().events_after_close, 0u) << "events arrived after close returned (abi.md 6)";
  EXPECT_EQ(lock->violations().duplicate_completions, 0u);
}

std::optional<std::string> needs_camera(const Subject& s, const std::string& uri) {
  if (auto r = needs_loaded(s, uri)) return r;
  if (!s.offers_camera()) return std::string(kNotApplicablePrefix) + "the plugin offers no camera interface";
  return std::nullopt;
}

void camera_close_contract(CaseContext& ctx) {
  EventLog log;
  auto cam = open_camera_handle(ctx, log);
  ASSERT_TRUE(cam);
  log.wait_for([](const auto& e) { return e.size() >= 2; }, 2s);
  cam->close();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(cam->violations().events_after_close, 0u) << "events arrived after close returned (abi.md 6)";
}

// ---- 6. Budgets -----------------------------------------------------------------

constexpr double kBudgetMs = 100.0;

// Median of up to 5 timed calls; stops early after a call beyond 10x the budget.
struct Timing {
  std::string what;
  double median_ms = 0;
  int calls = 0;
};

template <class Fn>
Timing time_call(const std::string& what, Fn&& fn) {
  std::vector<double> samples;
  for (int i = 0; i < 5; ++i) {
    const auto start = Clock::now();
    fn();
    samples.push_back(ms_since(start));
    if (samples.back() > 10 * kBudgetMs) break;
  }
  std::sort(samples.begin(), samples.end());
  return {what, samples[samples.size() / 2], static_cast<int>(samples.size())};
}

void call_budgets(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  std::vector<Timing> timings;
  if (s.offers_lock() && !s.lock_uris.empty()) {
    EventLog log;
    CaseContext dev{ctx.subject, s.lock_uris.front()};
    auto lock = open_lock_handle(dev, log);
    ASSERT_TRUE(lock);
    lk_lock_description d{};
    d.struct_size = sizeof d;
    timings.push_back(time_call("lock.describe", [&] { lock->describe(&d); }));
    lk_lock_state ls = 0;
    lk_door_state ds = 0;
    timings.push_back(time_call("lock.get_lock_state", [&] { lock->lock_state(&ls); }));
    timings.push_back(time_call("lock.get_door_state", [&] { lock->door_state(&ds); }));
    // Only the start call is timed; the completion is awaited outside the measurement.
    Completions done;
    std::vector<double> samples;
    for (uint64_t op = 501; op <= 505; ++op) {
      const auto start = Clock::now();
      if (op % 2 == 1) {
        lk_unlock_params p{};
        p.struct_size = sizeof p;
        p.operation_id = op;
        lock->unlock(p, done.handler());
      } else {
        lock->lock(op, done.handler());
      }
      samples.push_back(ms_since(start));
      done.wait(op, operation_timeout(d));
      if (samples.back() > 10 * kBudgetMs) break;
    }
    std::sort(samples.begin(), samples.end());
    timings.push_back({"lock.lock/unlock (start call)", samples[samples.size() / 2], static_cast<int>(samples.size())});
  }
  if (s.offers_camera() && !s.camera_uris.empty()) {
    EventLog log;
    CaseContext dev{ctx.subject, s.camera_uris.front()};
    auto cam = open_camera_handle(dev, log);
    ASSERT_TRUE(cam);
    lk_camera_description d{};
    d.struct_size = sizeof d;
    timings.push_back(time_call("camera.describe", [&] { cam->describe(&d); }));
    const auto nonce = crypto::random_bytes(16);
    timings.push_back(time_call("camera.deliver_nonce", [&] { cam->deliver_nonce(nonce.data(), nonce.size()); }));
    uint8_t sid[LK_SESSION_ID_SIZE] = {1};
    timings.push_back(time_call("camera.start_recording", [&] { cam->start_recording(sid); }));
    timings.push_back(time_call("camera.stop_recording", [&] { cam->stop_recording(); }));
    if (cam->supports_snapshot()) {
      std::vector<uint8_t> frame;
      timings.push_back(time_call("camera.snapshot", [&] { cam->snapshot(&frame, nullptr); }));
    }
  }
  if (s.offers_authz()) {
    std::unique_ptr<host::AuthzHandle> authz;
    if (host::AuthzHandle::open(s.plugin, s.authz.config, &authz) == LK_OK) {
      lk_grant_info grant{};
      grant.struct_size = sizeof grant;
      lk_authz_refusal refusal{};
      refusal.struct_size = sizeof refusal;
      const std::vector<uint8_t> credential(64, 0x42);
      timings.push_back(time_call("authz.verify", [&] { authz->verify("hub-1", "front", 0, credential, &grant, &refusal); }));
    }
  }
  for (const Timing& t : timings)
    EXPECT_LE(t.median_ms, kBudgetMs) << t.what << " took " << t.median_ms << " ms (median of " << t.calls
                                      << " calls); abi.md 3 allows 100 ms";
}

// ---- 7. Threads -------------------------------------------------------------------

void concurrent_handles(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  std::atomic<int> failures{0};
  std::string first_failure;
  std::mutex failure_mutex;
  auto fail = [&](const std::string& what) {
    if (failures++ == 0) {
      std::lock_guard lock(failure_mutex);
      first_failure = what;
    }
  };
  const auto deadline = Clock::now() + 400ms;
  if (s.offers_lock() && s.lock_uris.size() >= 2) {
    EventLog log_a, log_b;
    CaseContext a{ctx.subject, s.lock_uris[0]}, b{ctx.subject, s.lock_uris[1]};
    auto lock_a = open_lock_handle(a, log_a);
    auto lock_b = open_lock_handle(b, log_b);
    ASSERT_TRUE(lock_a && lock_b);
    std::vector<std::thread> threads;
    for (host::LockHandle* h : {lock_a.get(), lock_b.get(), lock_a.get(), lock_b.get()}) {
      threads.emplace_back([&, h] {
        while (Clock::now() < deadline) {
          lk_lock_description d{};
          d.struct_size = sizeof d;
          lk_lock_state ls = 0xDEAD;
          if (h->describe(&d) != LK_OK) fail("lock.describe failed under concurrent calls");
          if (h->lock_state(&ls) != LK_OK || ls == 0xDEAD) fail("lock.get_lock_state failed under concurrent calls");
        }
      });
    }
    // Operations on both devices at once complete, each exactly once.
    Completions done_a, done_b;
    lk_unlock_params p{};
    p.struct_size = sizeof p;
    p.operation_id = 1;
    EXPECT_EQ(lock_a->unlock(p, done_a.handler()), LK_OK);
    p.operation_id = 2;
    EXPECT_EQ(lock_b->unlock(p, done_b.handler()), LK_OK);
    EXPECT_TRUE(done_a.wait(1, 3s)) << "the first device's unlock did not complete";
    EXPECT_TRUE(done_b.wait(2, 3s)) << "the second device's unlock did not complete";
    for (auto& t : threads) t.join();
  }
  if (s.offers_camera() && s.camera_uris.size() >= 2) {
    EventLog log_a, log_b;
    CaseContext a{ctx.subject, s.camera_uris[0]}, b{ctx.subject, s.camera_uris[1]};
    auto cam_a = open_camera_handle(a, log_a);
    auto cam_b = open_camera_handle(b, log_b);
    ASSERT_TRUE(cam_a && cam_b);
    std::vector<std::thread> threads;
    for (host::CameraHandle* h : {cam_a.get(), cam_b.get(), cam_a.get(), cam_b.get()}) {
      threads.emplace_back([&, h] {
        const auto nonce = crypto::random_bytes(16);
        while (Clock::now() < deadline + 400ms) {
          lk_camera_description d{};
          d.struct_size = sizeof d;
          if (h->describe(&d) != LK_OK) fail("camera.describe failed under concurrent calls");
          if (h->deliver_nonce(nonce.data(), nonce.size()) != LK_OK) fail("camera.deliver_nonce failed under concurrent calls");
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  EXPECT_EQ(failures.load(), 0) << first_failure;
}

void own_sink(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  if (s.offers_lock() && s.lock_uris.size() >= 2) {
    EventLog log_a, log_b;
    CaseContext a{ctx.subject, s.lock_uris[0]}, b{ctx.subject, s.lock_uris[1]};
    auto lock_a = open_lock_handle(a, log_a);
    auto lock_b = open_lock_handle(b, log_b);
    ASSERT_TRUE(lock_a && lock_b);
    lk_lock_description d{};
    d.struct_size = sizeof d;
    lock_a->describe(&d);
    Completions done;
    // A real lock keeps its bolt between cases (6.1 leaves it unlocked):
    // locked first, so that the unlock and lock below both move it.
    run_lock_operation(*lock_a, done, false, 10, 0, operation_timeout(d));
    std::this_thread::sleep_for(50ms);
    const std::size_t from_a = log_a.size();
    run_lock_operation(*lock_a, done, true, 11, 0, operation_timeout(d));
    run_lock_operation(*lock_a, done, false, 12, 0, operation_timeout(d));
    log_a.wait_for([&](const auto& e) { return e.size() >= from_a + 2; }, 1s);
    std::this_thread::sleep_for(100ms);
    std::size_t to_a = 0, to_b = 0;
    const auto entries_a = log_a.entries();
    for (std::size_t i = from_a; i < entries_a.size(); ++i) to_a += entries_a[i].event.kind == LK_EVENT_LOCK_STATE;
    for (const auto& e : log_b.entries()) to_b += e.event.kind == LK_EVENT_LOCK_STATE;
    EXPECT_GE(to_a, 2u) << "the device that moved reported " << to_a << " lock state events to its own sink";
    EXPECT_EQ(to_b, 0u) << "another device's sink received " << to_b
                        << " lock state events of a device it does not own (abi.md 6: each open copies its own sink)";
  }
  if (s.offers_camera() && s.camera_uris.size() >= 2) {
    EventLog log_a, log_b;
    CaseContext a{ctx.subject, s.camera_uris[0]}, b{ctx.subject, s.camera_uris[1]};
    auto cam_a = open_camera_handle(a, log_a);
    auto cam_b = open_camera_handle(b, log_b);
    ASSERT_TRUE(cam_a && cam_b);
    lk_camera_description da{}, db{};
    da.struct_size = db.struct_size = sizeof da;
    cam_a->describe(&da);
    cam_b->describe(&db);
    if (std::string(da.camera_id) == db.camera_id) return;  // cannot tell their attestations apart
    std::this_thread::sleep_for(600ms);
    for (auto [log, id] : {std::pair{&log_a, std::string(da.camera_id)}, std::pair{&log_b, std::string(db.camera_id)}}) {
      for (const auto& e : log->entries()) {
        if (e.event.kind != LK_EVENT_ATTESTATION || !e.event.data) continue;
        v1::SignedAttestation sa;
        v1::Attestation att;
        if (sa.ParseFromArray(e.event.data->data(), static_cast<int>(e.event.data->size())) &&
            att.ParseFromString(sa.attestation()) && att.camera_id() != id) {
          ADD_FAILURE() << "the sink of camera '" << id << "' received an attestation of camera '" << att.camera_id() << "'";
          break;
        }
      }
    }
  }
}

// ---- 8. Ownership -------------------------------------------------------------------

void nothing_freed(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  const uint64_t before = lk_certify_borrowed_frees();
  std::vector<std::string> modified;
  auto check = [&](Borrowed& b, const char* what) {
    if (!b.unchanged()) modified.push_back(what);
  };
  if (const auto* t = s.plugin->lock_interface(); t && !s.lock_uris.empty()) {
    Borrowed uri(s.lock_uris.front());
    Borrowed sink(&dropping_sink(), sizeof(lk_event_sink));
    lk_lock_device* dev = nullptr;
    ASSERT_EQ(fenced_call("lock.open", [&] { return t->open(uri.as<char>(), sink.as<lk_event_sink>(), &dev); }), LK_OK);
    lk_lock_description d0{};
    d0.struct_size = sizeof d0;
    Borrowed desc(&d0, sizeof d0);
    fenced_call("lock.describe", [&] { return t->describe(dev, desc.as<lk_lock_description>()); });
    const uint32_t actuation = desc.as<lk_lock_description>()->max_actuation_ms;
    lk_unlock_params p0{};
    p0.struct_size = sizeof p0;
    p0.operation_id = next_raw_operation_id();
    Borrowed params(&p0, sizeof p0);
    if (fenced_call("lock.unlock", [&] { return t->unlock(dev, params.as<lk_unlock_params>(), &counting_completion, nullptr); }) == LK_OK)
      wait_completion(p0.operation_id, milliseconds(std::min<uint32_t>(actuation, 5000) + 1000));
    check(uri, "the device URI");
    check(sink, "the event sink");
    check(params, "the unlock params");
    fenced_call("lock.close", [&] { t->close(dev); return LK_OK; });
  }
  if (const auto* t = s.plugin->camera_interface(); t && !s.camera_uris.empty()) {
    Borrowed uri(s.camera_uris.front());
    Borrowed sink(&dropping_sink(), sizeof(lk_event_sink));
    lk_camera_device* dev = nullptr;
    ASSERT_EQ(fenced_call("camera.open", [&] { return t->open(uri.as<char>(), sink.as<lk_event_sink>(), &dev); }), LK_OK);
    const auto n = crypto::random_bytes(16);
    Borrowed nonce(n.data(), n.size());
    fenced_call("camera.deliver_nonce", [&] { return t->deliver_nonce(dev, nonce.data(), 16); });
    const uint8_t sid0[LK_SESSION_ID_SIZE] = {9, 9, 9};
    Borrowed sid(sid0, sizeof sid0);
    fenced_call("camera.start_recording", [&] { return t->start_recording(dev, sid.data()); });
    fenced_call("camera.stop_recording", [&] { return t->stop_recording(dev); });
    if (t->snapshot) {
      std::size_t needed = 0;
      fenced_call("camera.snapshot", [&] { return t->snapshot(dev, nullptr, &needed, nullptr); });
      if (needed > 1) {
        Borrowed shorter(std::string(needed / 2, 'x'));
        std::size_t size = needed / 2;
        fenced_call("camera.snapshot(short)", [&] { return t->snapshot(dev, shorter.data(), &size, nullptr); });
        Borrowed full(std::string(needed + 16, 'x'));
        size = needed + 16;
        fenced_call("camera.snapshot", [&] { return t->snapshot(dev, full.data(), &size, nullptr); });
      }
    }
    check(uri, "the device URI");
    check(sink, "the event sink");
    check(nonce, "the nonce");
    check(sid, "the session id");
    fenced_call("camera.close", [&] { t->close(dev); return LK_OK; });
  }
  if (const auto* t = s.plugin->authz_interface()) {
    Borrowed config(s.authz.config.data(), s.authz.config.size());
    lk_authz_provider* provider = nullptr;
    if (fenced_call("authz.open", [&] { return t->open(config.data(), s.authz.config.size(), &provider); }) == LK_OK) {
      Borrowed hub(std::string("hub-1")), door(std::string("front"));
      lk_authz_context c0{sizeof(lk_authz_context), 0, hub.as<char>(), door.as<char>(), 0};
      Borrowed context(&c0, sizeof c0);
      Borrowed credential(std::string(48, 'c'));
      lk_grant_info g0{};
      g0.struct_size = sizeof g0;
      lk_authz_refusal r0{};
      r0.struct_size = sizeof r0;
      Borrowed grant(&g0, sizeof g0), refusal(&r0, sizeof r0);
      fenced_call("authz.verify", [&] {
        return t->verify(provider, context.as<lk_authz_context>(), credential.data(), 48, grant.as<lk_grant_info>(),
                         refusal.as<lk_authz_refusal>());
      });
      check(context, "the authz context");
      check(credential, "the credential");
      fenced_call("authz.close", [&] { t->close(provider); return LK_OK; });
    }
    check(config, "the configuration");
  }
  const uint64_t freed = lk_certify_borrowed_frees() - before;
  EXPECT_EQ(freed, 0u) << "the plugin called free() on " << freed
                       << " host buffer(s) it was only lent (abi.md 3: nothing is freed across the boundary)";
  for (const std::string& m : modified) ADD_FAILURE() << "the plugin modified " << m << ", a borrowed input";
}

void lent_bytes_stable(CaseContext& ctx) {
  const CameraObservation& obs = observe_camera(ctx.subject, ctx.uri, ObservedThrough::kThisProcess);
  ASSERT_TRUE(obs.opened) << obs.error;
  ASSERT_FALSE(obs.attestations.empty()) << "no attestation arrived";
  std::size_t changed = 0;
  for (const auto& a : obs.attestations) changed += !a.bytes_stable;
  EXPECT_EQ(changed, 0u) << changed << " of " << obs.attestations.size()
                         << " lent attestations changed before the host released them (abi.md 6 Lent data)";
}

}  // namespace

void add_abi_cases(std::vector<CaseDef>& c) {
  auto always = [](const Subject&, const std::string&) -> std::optional<std::string> { return std::nullopt; };
  c.push_back({"TC-ABI-1.1", "Negotiation answers LK_OK with a version inside every overlapping host range",
               "abi.md 4 Negotiation", Scope::kPlugin, always, negotiation_in_range});
  c.push_back({"TC-ABI-1.2", "No overlap is a clean LK_ERR_VERSION; a NULL or short request is LK_ERR_INVALID_ARGUMENT",
               "abi.md 4 Negotiation", Scope::kPlugin, always, negotiation_refusals});
  c.push_back({"TC-ABI-1.3", "The host's loader accepts the plugin (every check of Plugin::load)",
               "abi.md 4 What the host checks", Scope::kPlugin, always, loader_accepts});
  c.push_back({"TC-ABI-2.1", "Vendor, driver id and version are printable ASCII of 1 to 127 characters",
               "abi.md 4 Negotiation (lk_plugin_info)", Scope::kPlugin, needs_loaded, identity});
  c.push_back({"TC-ABI-2.2", "The library exports lk_plugin_negotiate and nothing else, and no UNIQUE symbol",
               "abi.md 1 Shape", Scope::kPlugin, always, exports_only_entry});
  c.push_back({"TC-ABI-3.1", "Every offered table reaches its v1 minimum size", "abi.md 2 Versions and compatibility policy",
               Scope::kPlugin, needs_loaded, table_sizes});
  c.push_back({"TC-ABI-3.2", "Mandatory entries are set; an optional entry is NULL exactly when its capability is not declared",
               "abi.md 2 Versions and compatibility policy", Scope::kPlugin, needs_loaded, null_entries});
  c.push_back({"TC-ABI-4.1", "NULL pointers are refused with LK_ERR_INVALID_ARGUMENT, never followed; close(NULL) is ignored",
               "abi.md 3 Conventions that hold everywhere", Scope::kPlugin, needs_loaded, null_pointers});
  c.push_back({"TC-ABI-4.2", "Growable structs: describe writes at most struct_size bytes and keeps it; short structs and bad sizes are refused",
               "abi.md 2 Versions and compatibility policy", Scope::kPlugin, needs_loaded, growable_structs});
  c.push_back({"TC-ABI-4.3", "Caller buffers: a NULL buffer returns the size needed, a short one LK_ERR_BUFFER_TOO_SMALL and the size",
               "abi.md 3 Conventions that hold everywhere (Ownership)", Scope::kPlugin, needs_snapshot, short_buffers});
  c.push_back({"TC-ABI-4.4", "Unknown device URIs, faults, actions and directives are refused, not misread",
               "abi.md 2 Versions and compatibility policy", Scope::kPlugin, needs_loaded, unknown_values});
  c.push_back({"TC-ABI-5.1", "Every started lock operation completes exactly once with its operation id; a failed start never completes",
               "abi.md 3 Conventions that hold everywhere (Asynchronous calls)", Scope::kLock, needs_lock, completion_exactly_once});
  c.push_back({"TC-ABI-5.2", "Lock close fires the pending completion before it returns; no event follows close",
               "abi.md 7 Lock interface (close)", Scope::kLock, needs_lock, lock_close_contract});
  c.push_back({"TC-ABI-5.3", "No camera event follows close", "abi.md 6 Events", Scope::kCamera, needs_camera,
               camera_close_contract});
  c.push_back({"TC-ABI-6.1", "No call blocks beyond its 100 ms budget (median of five calls)",
               "abi.md 3 Conventions that hold everywhere (Threads)", Scope::kPlugin, needs_loaded, call_budgets});
  c.push_back({"TC-ABI-7.1", "Concurrent calls on different device handles all succeed",
               "abi.md 3 Conventions that hold everywhere (Threads)", Scope::kPlugin, needs_two_devices, concurrent_handles});
  c.push_back({"TC-ABI-7.2", "Each device's events reach the sink it was opened with, and only that one", "abi.md 6 Events",
               Scope::kPlugin, needs_two_devices, own_sink});
  c.push_back({"TC-ABI-8.1", "Borrowed host inputs are never freed or modified by the plugin",
               "abi.md 3 Conventions that hold everywhere (Ownership)", Scope::kPlugin, needs_loaded, nothing_freed});
  c.push_back({"TC-ABI-8.2", "Lent attestation bytes stay unchanged until the host releases them", "abi.md 6 Events (Lent data)",
               Scope::kCamera, needs_camera, lent_bytes_stable});
}

}  // namespace latchkey::certify
