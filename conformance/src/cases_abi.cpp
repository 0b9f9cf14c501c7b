// TC-ABI: the binary contract of docs/abi.md, for every plugin.
//
// These cases test the C ABI itself: raw table calls with bad arguments,
// registered host buffers, negotiation in child processes, and the contract
// counters of the in-process handles. They always run against the plugin
// loaded into lk-certify (open_lock_handle, open_camera_handle, the raw
// tables), in either --mode; an lk-plugin-host would stand between the suite
// and the very calls they judge.
//
// Each case runs in a child process of its own (child_case.hpp, hooked in
// runner.cpp): a plugin that crashes or hangs fails that case, not the run.
// Every buffer a case hands to the plugin is a GuardedBuffer
// (guarded_buffer.hpp): a write past its declared size faults in a guard
// page or breaks a canary, and the case's failure names the buffer.
//
// Longer than most files: one short case per clause of docs/abi.md, sharing
// the raw-table and child-process helpers at the top.
#include "borrowed_buffers.h"
#include "camera_observation.hpp"
#include "child_case.hpp"
#include "guarded_buffer.hpp"
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

// A guarded copy of a borrowed input (guarded_buffer.hpp: a free() of it is
// counted and not carried out, a write past it faults) that remembers its
// bytes, to tell whether the plugin changed them.
class Borrowed {
 public:
  Borrowed(std::string name, const void* bytes, std::size_t size, std::size_t align = alignof(std::max_align_t))
      : buffer_(std::move(name), bytes, size, align) {
    original_.assign(buffer_.data(), buffer_.data() + size);
  }
  Borrowed(std::string name, const std::string& text) : Borrowed(std::move(name), text.c_str(), text.size() + 1, 1) {}
  Borrowed(const Borrowed&) = delete;
  Borrowed& operator=(const Borrowed&) = delete;
  template <class T>
  T* as() { return buffer_.as<T>(); }
  uint8_t* data() { return buffer_.data(); }
  const GuardedBuffer& buffer() const { return buffer_; }
  bool unchanged() const { return std::equal(original_.begin(), original_.end(), buffer_.data()); }

 private:
  GuardedBuffer buffer_;
  std::vector<uint8_t> original_;
};

// A guarded out-struct: sizeof(T) bytes, zeroed, struct_size set when T has one.
template <class T>
GuardedBuffer out_struct(const std::string& name) {
  GuardedBuffer b(name, sizeof(T), alignof(T));
  if constexpr (requires(T t) { t.struct_size; }) {
    const uint32_t size = sizeof(T);
    std::memcpy(b.data(), &size, sizeof size);
  }
  return b;
}

// Fails the case for every canary a plugin broke around the buffers it was handed.
void check_intact(std::initializer_list<const GuardedBuffer*> buffers, const std::string& during) {
  for (const GuardedBuffer* b : buffers)
    if (auto damage = b->damage())
      fail_case("the plugin wrote outside a buffer the host lent it, in " + during,
                "writes stay inside the size the host declared (abi.md 3 Ownership)", *damage);
}

// ---- 1. Negotiation and loading ---------------------------------------------

std::string result_text(int32_t r) { return host::result_name(static_cast<lk_result>(r)); }

void negotiation_in_range(CaseContext& ctx) {
  const NegotiationProbe& p = ctx.subject.negotiation;
  if (!p.ran) return fail_case("negotiation could not be probed", "the library loads and lk_plugin_negotiate returns", p.error);
  const auto& requests = negotiation_requests();
  for (std::size_t i = 0; i < p.answers.size(); ++i) {
    if (requests[i].expect_refusal) continue;
    const NegotiationAnswer& a = p.answers[i];
    const std::string range = version_text(requests[i].min_version) + " to " + version_text(requests[i].max_version);
    if (a.result != LK_OK) {
      fail_case(a.request + ": negotiation refused a range that contains ABI 1.0",
                "LK_OK and a version from " + range + " (abi.md 4)", result_text(a.result));
    } else if (!a.info_set) {
      fail_case(a.request + ": negotiation returned LK_OK without an answer", "*info set to the plugin's lk_plugin_info",
                "*info left NULL");
    } else if (a.abi_version < requests[i].min_version || a.abi_version > requests[i].max_version) {
      fail_case(a.request + ": the chosen version lies outside the host's range",
                "a version from " + range + " (abi.md 4)", version_text(a.abi_version));
    }
  }
}

void negotiation_refusals(CaseContext& ctx) {
  const NegotiationProbe& p = ctx.subject.negotiation;
  if (!p.ran) return fail_case("negotiation could not be probed", "the library loads and lk_plugin_negotiate returns", p.error);
  const auto& requests = negotiation_requests();
  for (std::size_t i = 0; i < p.answers.size(); ++i) {
    if (!requests[i].expect_refusal) continue;
    const NegotiationAnswer& a = p.answers[i];
    const bool bad_request = requests[i].null_request || requests[i].short_request;
    const lk_result expected = bad_request ? LK_ERR_INVALID_ARGUMENT : LK_ERR_VERSION;
    if (a.result != expected)
      fail_case(a.request + (bad_request ? ": a malformed request was not refused as such" : ": a range without overlap was not refused"),
                std::string(host::result_name(expected)) + " (abi.md 4)", result_text(a.result));
  }
}

std::optional<std::string> needs_negotiation(const Subject& s, const std::string&) {
  if (!s.negotiation.ran) return "negotiation could not be probed (TC-ABI-1.1 says why)";
  return std::nullopt;
}

// The plugin's own range is not visible from outside; what is: it can only
// speak ABI versions that were released (1.0 to the newest this lk-certify
// was built with), and the highest version in the overlap is the same for
// every host range that contains the version it answered.
void negotiation_highest(CaseContext& ctx) {
  const NegotiationProbe& p = ctx.subject.negotiation;
  const auto& requests = negotiation_requests();
  const std::string released = version_text(host::kAbiVersion1_0) + " to " + version_text(host::kAbiVersionCurrent);
  uint32_t own_highest = 0;
  for (std::size_t i = 0; i < p.answers.size(); ++i) {
    const NegotiationAnswer& a = p.answers[i];
    if (requests[i].expect_refusal || a.result != LK_OK || !a.info_set) continue;  // TC-ABI-1.1
    if (a.abi_version < host::kAbiVersion1_0 || a.abi_version > host::kAbiVersionCurrent) {
      fail_case(a.request + ": the plugin chose a version no SDK has released, so not one it speaks",
                "the highest version in the overlap of the host's range and the plugin's own, one of the released " +
                    released + " (abi.md 4)",
                version_text(a.abi_version) + (a.abi_version == requests[i].max_version ? ", the host's highest" : ""));
      continue;
    }
    own_highest = std::max(own_highest, a.abi_version);
  }
  if (own_highest == 0) return;
  for (std::size_t i = 0; i < p.answers.size(); ++i) {
    const NegotiationAnswer& a = p.answers[i];
    if (requests[i].expect_refusal || a.result != LK_OK || !a.info_set) continue;
    if (requests[i].min_version > own_highest || requests[i].max_version < own_highest) continue;
    if (a.abi_version != own_highest && a.abi_version >= host::kAbiVersion1_0 && a.abi_version <= host::kAbiVersionCurrent)
      fail_case(a.request + ": the plugin did not choose the highest version both sides speak",
                version_text(own_highest) + ", which it chose for another range containing it (abi.md 4)",
                version_text(a.abi_version));
  }
}

void loader_accepts(CaseContext& ctx) {
  if (!ctx.subject.loaded())
    fail_case("the host's loader refused the plugin (" + ctx.subject.load_error_kind + ")",
              "every check of abi.md 4 \"What the host checks\" passes", ctx.subject.load_error);
}

void identity(CaseContext& ctx) {
  const host::PluginIdentity& id = ctx.subject.plugin->identity();
  const std::string rule = "printable ASCII, 1 to 127 characters (abi.md 4 lk_plugin_info)";
  if (!printable_identity(id.vendor, LK_IDENTITY_MAX)) fail_case("the vendor is not a valid identity string", rule, "'" + id.vendor + "'");
  if (!printable_identity(id.driver_id, LK_IDENTITY_MAX))
    fail_case("the driver id is not a valid identity string", rule, "'" + id.driver_id + "'");
  if (!printable_identity(id.driver_version, LK_IDENTITY_MAX))
    fail_case("the driver version is not a valid identity string", rule, "'" + id.driver_version + "'");
  if (!(id.description.empty() || printable_identity(id.description, 1024)))
    fail_case("the description is not printable", "NULL or printable ASCII of at most 1024 characters", "'" + id.description + "'");
  if (id.abi_version != host::kAbiVersion1_0)
    fail_case("the version chosen for this host is not 1.0", "1.0, the only version in the host's range 1.0 to 1.0",
              version_text(id.abi_version));
}

void exports_only_entry(CaseContext& ctx) {
  std::string error;
  const auto symbols = exported_symbols(ctx.subject.file, &error);
  if (!symbols) return fail_case("the plugin file's symbols could not be read", "a 64-bit ELF shared library", error);
  bool entry = false;
  for (const ExportedSymbol& s : *symbols) {
    if (s.name == LK_PLUGIN_ENTRY_SYMBOL) entry = true;
    else fail_case("the library exports a symbol other than the entry point", "only " LK_PLUGIN_ENTRY_SYMBOL " (abi.md 1)",
                   "'" + s.name + "'");
    if (s.unique)
      fail_case("a GNU UNIQUE symbol pins the library in memory", "no STB_GNU_UNIQUE symbol (build with -fno-gnu-unique)",
                "'" + s.name + "'");
  }
  if (!entry) fail_case("the entry point is not exported", LK_PLUGIN_ENTRY_SYMBOL " with default visibility", "not exported");
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
    if (declared[i] < kInterfaces[i].min_size)
      fail_case(std::string("the ") + kInterfaces[i].name + " table is smaller than its v1 minimum",
                "struct_size of at least " + std::to_string(kInterfaces[i].min_size) + " (abi.md 2)",
                "struct_size " + std::to_string(declared[i]));
  }
  if (!any) fail_case("the plugin offers no interface", "at least one of lock, camera, authz", "none");
}

void null_entries(CaseContext& ctx) {
  const host::Plugin& p = *ctx.subject.plugin;
  const std::string came = "an entry left NULL";
  if (const auto* t = p.lock_interface()) {
    if (!(t->open && t->close && t->describe && t->get_lock_state && t->get_door_state && t->lock && t->unlock))
      fail_case("a mandatory lock entry is NULL", "open, close, describe, get_lock_state, get_door_state, lock, unlock set", came);
  }
  if (const auto* t = p.camera_interface()) {
    if (!(t->open && t->close && t->describe && t->deliver_nonce && t->start_recording && t->stop_recording))
      fail_case("a mandatory camera entry is NULL", "open, close, describe, deliver_nonce, start_recording, stop_recording set",
                came);
    // The optional snapshot entry must agree with the declared capability.
    for (const std::string& uri : ctx.subject.camera_uris) {
      EventLog log;
      CaseContext device{ctx.subject, uri};
      auto cam = open_camera_handle(device, log);
      if (!cam) continue;
      GuardedBuffer d = out_struct<lk_camera_description>("the camera description");
      note_case_step("camera.describe");
      ASSERT_EQ(cam->describe(d.as<lk_camera_description>()), LK_OK);
      check_intact({&d}, "camera.describe");
      const bool claims = (d.as<lk_camera_description>()->flags & LK_CAMERA_CAP_SNAPSHOT) != 0;
      if (claims != (t->snapshot != nullptr))
        fail_case(uri + ": the snapshot entry disagrees with the declared capability",
                  "snapshot set exactly when describe sets LK_CAMERA_CAP_SNAPSHOT (abi.md 2: NULL means unsupported)",
                  std::string("LK_CAMERA_CAP_SNAPSHOT ") + (claims ? "set" : "clear") + ", snapshot " +
                      (t->snapshot ? "set" : "NULL"));
      break;
    }
  }
  if (const auto* t = p.authz_interface()) {
    if (!(t->open && t->close && t->verify)) fail_case("a mandatory authz entry is NULL", "open, close, verify set", came);
  }
}

// get_interface, asked in a child process before the plugin was loaded here
// (plugin_probe.cpp): which names it offers at their major.
bool offered(const NegotiationProbe& p, const std::string& name) {
  for (const KnownInterface& k : known_interfaces())
    if (name == k.name)
      for (const LookupAnswer& a : p.lookups)
        if (a.name == name && a.major == k.major) return a.result == LK_OK && a.table_set;
  return false;
}

std::string lookup_text(const LookupAnswer& a) {
  return "get_interface(\"" + a.name + "\", " + std::to_string(a.major) + ")";
}

std::string answer_text(const LookupAnswer& a) {
  return result_text(a.result) + (a.table_set ? " and a table" : ", no table");
}

void lookup_unknown_name(CaseContext& ctx) {
  const NegotiationProbe& p = ctx.subject.negotiation;
  if (!p.lookup_error.empty())
    fail_case("the get_interface lookups did not finish", "every lookup returns (abi.md 4)", p.lookup_error);
  for (const LookupAnswer& a : p.lookups) {
    if (offered(p, a.name)) continue;
    if (a.result != LK_ERR_NOT_FOUND || a.table_set)
      fail_case(lookup_text(a) + ": the plugin answered for an interface it does not offer",
                "LK_ERR_NOT_FOUND and *table left NULL: \"" + a.name + "\" is not offered (abi.md 4 get_interface)",
                answer_text(a));
  }
}

void lookup_unknown_major(CaseContext& ctx) {
  const NegotiationProbe& p = ctx.subject.negotiation;
  for (const LookupAnswer& a : p.lookups) {
    if (!offered(p, a.name)) continue;
    bool own_major = false;
    for (const KnownInterface& k : known_interfaces()) own_major |= a.name == k.name && a.major == k.major;
    if (own_major) continue;
    if (a.result != LK_ERR_VERSION || a.table_set)
      fail_case(lookup_text(a) + ": the plugin answered for a major version it does not offer",
                "LK_ERR_VERSION and *table left NULL: a table of another major has another layout (abi.md 4 get_interface)",
                answer_text(a));
  }
}

// ---- 4. Arguments -------------------------------------------------------------

// A precondition: the device the suite was given opens. Fails the case with why when it does not.
bool opened(const std::string& call, lk_result r) {
  if (r != LK_OK)
    fail_case(call + " failed on a device URI the suite was given", "LK_OK (abi.md 7, 8 open)", host::result_name(r));
  return r == LK_OK;
}

// A raw call's answer against the one the contract names.
void expect_result(const std::string& call, lk_result got, lk_result want, const std::string& what,
                   const std::string& clause) {
  if (got != want) fail_case(call + ": " + what, std::string(host::result_name(want)) + " (" + clause + ")", host::result_name(got));
}

// A pointer-sized guarded out-parameter (the device handle open writes).
template <class T>
GuardedBuffer out_pointer(const std::string& name) {
  return GuardedBuffer(name, sizeof(T*), alignof(T*));
}

void null_pointers(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  const lk_event_sink& sink = dropping_sink();
  const std::string refused = "a NULL pointer was not refused";
  const std::string clause = "abi.md 3: NULL pointers are LK_ERR_INVALID_ARGUMENT";
  auto expect_refused = [&](const std::string& call, lk_result got) {
    expect_result(call, got, LK_ERR_INVALID_ARGUMENT, refused, clause);
  };
  if (const auto* t = s.plugin->lock_interface(); t && !s.lock_uris.empty()) {
    Borrowed uri("the device URI", s.lock_uris.front());
    GuardedBuffer out = out_pointer<lk_lock_device>("open's device out-pointer");
    auto* dev_out = out.as<lk_lock_device*>();
    expect_refused("lock.open(NULL uri)", fenced_call("lock.open(NULL uri)", [&] { return t->open(nullptr, &sink, dev_out); }));
    expect_refused("lock.open(NULL sink)",
                   fenced_call("lock.open(NULL sink)", [&] { return t->open(uri.as<char>(), nullptr, dev_out); }));
    expect_refused("lock.open(NULL out)", fenced_call("lock.open(NULL out)", [&] { return t->open(uri.as<char>(), &sink, nullptr); }));
    if (!opened("lock.open", fenced_call("lock.open", [&] { return t->open(uri.as<char>(), &sink, dev_out); }))) return;
    lk_lock_device* dev = *dev_out;
    expect_refused("lock.describe(NULL)", fenced_call("lock.describe(NULL)", [&] { return t->describe(dev, nullptr); }));
    expect_refused("lock.get_lock_state(NULL)",
                   fenced_call("lock.get_lock_state(NULL)", [&] { return t->get_lock_state(dev, nullptr); }));
    expect_refused("lock.get_door_state(NULL)",
                   fenced_call("lock.get_door_state(NULL)", [&] { return t->get_door_state(dev, nullptr); }));
    GuardedBuffer state("the lock state out-parameter", sizeof(lk_lock_state), alignof(lk_lock_state));
    expect_refused("lock.get_lock_state(NULL device)", fenced_call("lock.get_lock_state(NULL device)", [&] {
                     return t->get_lock_state(nullptr, state.as<lk_lock_state>());
                   }));
    const uint64_t op = next_raw_operation_id();
    expect_refused("lock.lock(NULL done)", fenced_call("lock.lock(NULL done)", [&] { return t->lock(dev, op, nullptr, nullptr); }));
    expect_refused("lock.unlock(NULL params)", fenced_call("lock.unlock(NULL params)", [&] {
                     return t->unlock(dev, nullptr, &counting_completion, nullptr);
                   }));
    std::this_thread::sleep_for(50ms);
    if (completions_seen(op) != 0)
      fail_case("a completion fired for a start call that failed", "no completion after an error (abi.md 3 Asynchronous calls)",
                std::to_string(completions_seen(op)) + " completion(s)");
    fenced_call("lock.close(NULL)", [&] { t->close(nullptr); return LK_OK; });
    fenced_call("lock.close", [&] { t->close(dev); return LK_OK; });
    check_intact({&uri.buffer(), &out, &state}, "the lock's NULL-pointer calls");
  }
  if (const auto* t = s.plugin->camera_interface(); t && !s.camera_uris.empty()) {
    Borrowed uri("the device URI", s.camera_uris.front());
    GuardedBuffer out = out_pointer<lk_camera_device>("open's device out-pointer");
    auto* dev_out = out.as<lk_camera_device*>();
    expect_refused("camera.open(NULL uri)", fenced_call("camera.open(NULL uri)", [&] { return t->open(nullptr, &sink, dev_out); }));
    expect_refused("camera.open(NULL sink)",
                   fenced_call("camera.open(NULL sink)", [&] { return t->open(uri.as<char>(), nullptr, dev_out); }));
    if (!opened("camera.open", fenced_call("camera.open", [&] { return t->open(uri.as<char>(), &sink, dev_out); }))) return;
    lk_camera_device* dev = *dev_out;
    expect_refused("camera.describe(NULL)", fenced_call("camera.describe(NULL)", [&] { return t->describe(dev, nullptr); }));
    expect_refused("camera.deliver_nonce(NULL)",
                   fenced_call("camera.deliver_nonce(NULL)", [&] { return t->deliver_nonce(dev, nullptr, 16); }));
    expect_refused("camera.start_recording(NULL)",
                   fenced_call("camera.start_recording(NULL)", [&] { return t->start_recording(dev, nullptr); }));
    GuardedBuffer byte("a one-byte snapshot buffer", 1, 1);
    if (t->snapshot) {
      expect_refused("camera.snapshot(NULL size)", fenced_call("camera.snapshot(NULL size)", [&] {
                       return t->snapshot(dev, byte.data(), nullptr, nullptr);
                     }));
    }
    fenced_call("camera.close(NULL)", [&] { t->close(nullptr); return LK_OK; });
    fenced_call("camera.close", [&] { t->close(dev); return LK_OK; });
    check_intact({&uri.buffer(), &out, &byte}, "the camera's NULL-pointer calls");
  }
  if (const auto* t = s.plugin->authz_interface()) {
    const std::string& config = s.authz.config;
    Borrowed bytes("the configuration", config.data(), config.size(), 1);
    GuardedBuffer out = out_pointer<lk_authz_provider>("open's provider out-pointer");
    auto* provider_out = out.as<lk_authz_provider*>();
    expect_refused("authz.open(NULL config, size 8)",
                   fenced_call("authz.open(NULL config, size 8)", [&] { return t->open(nullptr, 8, provider_out); }));
    expect_refused("authz.open(NULL out)",
                   fenced_call("authz.open(NULL out)", [&] { return t->open(bytes.data(), config.size(), nullptr); }));
    if (fenced_call("authz.open", [&] { return t->open(bytes.data(), config.size(), provider_out); }) == LK_OK) {
      lk_authz_provider* provider = *provider_out;
      Borrowed hub("the hub id", std::string("hub-1")), door("the door id", std::string("front"));
      lk_authz_context c0{sizeof(lk_authz_context), 0, hub.as<char>(), door.as<char>(), 0};
      Borrowed context("the authz context", &c0, sizeof c0, alignof(lk_authz_context));
      GuardedBuffer grant = out_struct<lk_grant_info>("the grant out-struct");
      GuardedBuffer refusal = out_struct<lk_authz_refusal>("the refusal out-struct");
      Borrowed credential("the credential", std::string("\x01\x02\x03\x04"));
      auto* c = context.as<lk_authz_context>();
      expect_refused("authz.verify(NULL context)", fenced_call("authz.verify(NULL context)", [&] {
                       return t->verify(provider, nullptr, credential.data(), 4, grant.as<lk_grant_info>(),
                                        refusal.as<lk_authz_refusal>());
                     }));
      expect_refused("authz.verify(NULL grant)", fenced_call("authz.verify(NULL grant)", [&] {
                       return t->verify(provider, c, credential.data(), 4, nullptr, refusal.as<lk_authz_refusal>());
                     }));
      expect_refused("authz.verify(NULL refusal)", fenced_call("authz.verify(NULL refusal)", [&] {
                       return t->verify(provider, c, credential.data(), 4, grant.as<lk_grant_info>(), nullptr);
                     }));
      fenced_call("authz.close", [&] { t->close(provider); return LK_OK; });
      check_intact({&hub.buffer(), &door.buffer(), &context.buffer(), &grant, &refusal, &credential.buffer()},
                   "authz.verify");
    } else {
      fail_case("authz.open refused the configuration the suite was given", "LK_OK", "an error");
    }
    check_intact({&bytes.buffer(), &out}, "authz.open");
  }
}

void growable_structs(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  const lk_event_sink& sink = dropping_sink();
  constexpr uint8_t kGuard = 0xA5;
  const std::string clause = "abi.md 2 Versions and compatibility policy";
  // An older host that knows only struct_size and flags: an 8-byte struct, so
  // a write to any later field faults in the guard page (or breaks a canary).
  auto check_small = [&](GuardedBuffer& b, const std::string& call) {
    uint32_t kept = 0;
    std::memcpy(&kept, b.data(), sizeof kept);
    if (kept != 8) fail_case(call + ": describe changed struct_size", "struct_size kept as the host set it (" + clause + ")",
                             std::to_string(kept));
    check_intact({&b}, call);
  };
  if (const auto* t = s.plugin->lock_interface(); t && !s.lock_uris.empty()) {
    lk_lock_device* dev = nullptr;
    if (!opened("lock.open", fenced_call("lock.open", [&] { return t->open(s.lock_uris.front().c_str(), &sink, &dev); }))) return;
    {
      GuardedBuffer small("an lk_lock_description of struct_size 8", 8, alignof(lk_lock_description), kGuard);
      const uint32_t size = 8;
      std::memcpy(small.data(), &size, sizeof size);
      expect_result("lock.describe(struct_size 8)", fenced_call("lock.describe(struct_size 8)", [&] {
                      return t->describe(dev, small.as<lk_lock_description>());
                    }),
                    LK_OK, "a short but valid struct was refused", clause);
      check_small(small, "lock.describe(struct_size 8)");
    }
    {
      // A newer host: a bigger struct_size is kept and what the plugin does not know stays as the host set it.
      const uint32_t big = sizeof(lk_lock_description) + 16;
      GuardedBuffer larger("an lk_lock_description with a larger struct_size", big, alignof(lk_lock_description));
      std::memcpy(larger.data(), &big, sizeof big);
      expect_result("lock.describe(struct_size larger)", fenced_call("lock.describe(struct_size larger)", [&] {
                      return t->describe(dev, larger.as<lk_lock_description>());
                    }),
                    LK_OK, "a struct from a newer host was refused", clause);
      uint32_t kept = 0;
      std::memcpy(&kept, larger.data(), sizeof kept);
      if (kept != big)
        fail_case("lock.describe(struct_size larger): describe changed struct_size",
                  "struct_size kept as the host set it (" + clause + ")", std::to_string(kept));
      check_intact({&larger}, "lock.describe(struct_size larger)");
    }
    // A short unlock params struct is refused and never completes.
    lk_unlock_params p{};
    p.struct_size = 4;
    p.operation_id = next_raw_operation_id();
    Borrowed params("an lk_unlock_params of struct_size 4", &p, 4, alignof(lk_unlock_params));
    expect_result("lock.unlock(struct_size 4)", fenced_call("lock.unlock(struct_size 4)", [&] {
                    return t->unlock(dev, params.as<lk_unlock_params>(), &counting_completion, nullptr);
                  }),
                  LK_ERR_INVALID_ARGUMENT, "a struct too short to hold its fields was not refused", clause);
    std::this_thread::sleep_for(50ms);
    if (completions_seen(p.operation_id) != 0)
      fail_case("a refused unlock completed", "no completion after an error (abi.md 3 Asynchronous calls)",
                std::to_string(completions_seen(p.operation_id)) + " completion(s)");
    fenced_call("lock.close", [&] { t->close(dev); return LK_OK; });
  }
  if (const auto* t = s.plugin->camera_interface(); t && !s.camera_uris.empty()) {
    lk_camera_device* dev = nullptr;
    if (!opened("camera.open", fenced_call("camera.open", [&] { return t->open(s.camera_uris.front().c_str(), &sink, &dev); }))) return;
    {
      GuardedBuffer small("an lk_camera_description of struct_size 8", 8, alignof(lk_camera_description), kGuard);
      const uint32_t size = 8;
      std::memcpy(small.data(), &size, sizeof size);
      expect_result("camera.describe(struct_size 8)", fenced_call("camera.describe(struct_size 8)", [&] {
                      return t->describe(dev, small.as<lk_camera_description>());
                    }),
                    LK_OK, "a short but valid struct was refused", clause);
      check_small(small, "camera.describe(struct_size 8)");
    }
    // Nonces are 16 to 32 bytes.
    GuardedBuffer nonce("a 40-byte nonce buffer", 40, 1);
    expect_result("camera.deliver_nonce(15 bytes)",
                  fenced_call("camera.deliver_nonce(15 bytes)", [&] { return t->deliver_nonce(dev, nonce.data(), 15); }),
                  LK_ERR_INVALID_ARGUMENT, "a nonce shorter than 16 bytes was not refused", "abi.md 8 deliver_nonce");
    expect_result("camera.deliver_nonce(33 bytes)",
                  fenced_call("camera.deliver_nonce(33 bytes)", [&] { return t->deliver_nonce(dev, nonce.data(), 33); }),
                  LK_ERR_INVALID_ARGUMENT, "a nonce longer than 32 bytes was not refused", "abi.md 8 deliver_nonce");
    fenced_call("camera.close", [&] { t->close(dev); return LK_OK; });
  }
}

std::optional<std::string> needs_snapshot(const Subject& s, const std::string& uri) {
  if (auto r = needs_loaded(s, uri)) return r;
  if (!s.offers_camera() || s.plugin->camera_interface()->snapshot == nullptr)
    return std::string(kNotApplicablePrefix) + "the plugin offers no camera snapshot entry";
  if (s.camera_uris.empty()) return "no camera device URI (give --device URI)";
  return std::nullopt;
}

// Every buffer here is guarded: a snapshot written one byte past the size the
// host declared faults in the guard page, and the case names the buffer.
void short_buffers(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  const auto* t = s.plugin->camera_interface();
  lk_camera_device* dev = nullptr;
  if (!opened("camera.open", fenced_call("camera.open", [&] { return t->open(s.camera_uris.front().c_str(), &dropping_sink(), &dev); }))) return;
  const std::string clause = "abi.md 3 Ownership";
  GuardedBuffer size_out("the snapshot size", sizeof(std::size_t), alignof(std::size_t));
  auto* size = size_out.as<std::size_t>();
  *size = 0;
  expect_result("camera.snapshot(NULL buffer)",
                fenced_call("camera.snapshot(NULL buffer)", [&] { return t->snapshot(dev, nullptr, size, nullptr); }), LK_OK,
                "a size query was not answered", clause + ": a NULL buffer returns the size needed");
  const std::size_t needed = *size;
  if (needed == 0)
    fail_case("camera.snapshot(NULL buffer): the size query answered 0", "the size of the latest frame", "0");
  if (needed > 1) {
    GuardedBuffer shorter("a snapshot buffer one byte short of the size needed", needed - 1, 1, 'x');
    *size = needed - 1;
    expect_result("camera.snapshot(short buffer)",
                  fenced_call("camera.snapshot(short buffer)", [&] { return t->snapshot(dev, shorter.data(), size, nullptr); }),
                  LK_ERR_BUFFER_TOO_SMALL, "a buffer too short for the frame was not refused", clause);
    if (*size < needed - 1)
      fail_case("camera.snapshot(short buffer): the size needed did not come back", "*size of at least " +
                    std::to_string(needed - 1) + " (" + clause + ")", std::to_string(*size));
    check_intact({&shorter}, "camera.snapshot(short buffer)");
  }
  if (needed > 0) {
    // A buffer of exactly the size needed is enough, and nothing is written past it.
    GuardedBuffer exact("a snapshot buffer of exactly the size needed", needed, 1);
    GuardedBuffer info = out_struct<lk_snapshot_info>("the snapshot info");
    *size = needed;
    expect_result("camera.snapshot(exact buffer)", fenced_call("camera.snapshot(exact buffer)", [&] {
                    return t->snapshot(dev, exact.data(), size, info.as<lk_snapshot_info>());
                  }),
                  LK_OK, "a buffer of the size needed was refused", clause);
    check_intact({&exact, &info}, "camera.snapshot(exact buffer)");
  }
  GuardedBuffer large("a snapshot buffer 64 bytes larger than needed", needed + 64, 1);
  GuardedBuffer info = out_struct<lk_snapshot_info>("the snapshot info");
  *size = large.size();
  expect_result("camera.snapshot(large buffer)", fenced_call("camera.snapshot(large buffer)", [&] {
                  return t->snapshot(dev, large.data(), size, info.as<lk_snapshot_info>());
                }),
                LK_OK, "a buffer larger than needed was refused", clause);
  if (*size == 0 || *size > large.size())
    fail_case("camera.snapshot(large buffer): the size written is not the frame's",
              "between 1 and " + std::to_string(large.size()), std::to_string(*size));
  check_intact({&large, &info, &size_out}, "camera.snapshot(large buffer)");
  fenced_call("camera.close", [&] { t->close(dev); return LK_OK; });
}

void unknown_values(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  const lk_event_sink& sink = dropping_sink();
  const char* unknown_uri = "lk-certify://no-such-device/0";
  const std::string clause = "abi.md 2: unknown values are refused, not misread";
  auto expect_uri_refused = [&](const std::string& call, lk_result r) {
    if (r != LK_ERR_NOT_FOUND && r != LK_ERR_INVALID_ARGUMENT)
      fail_case(call + ": a device URI the plugin cannot know was opened", "LK_ERR_NOT_FOUND or LK_ERR_INVALID_ARGUMENT (abi.md 7 open)",
                host::result_name(r));
  };
  const auto* tc = s.plugin->test_control_interface();
  if (const auto* t = s.plugin->lock_interface(); t && !s.lock_uris.empty()) {
    lk_lock_device* dev = nullptr;
    const lk_result r = fenced_call("lock.open(unknown URI)", [&] { return t->open(unknown_uri, &sink, &dev); });
    expect_uri_refused(std::string("lock.open(\"") + unknown_uri + "\")", r);
    if (r == LK_OK) t->close(dev);
    if (tc) {
      if (!opened("lock.open", fenced_call("lock.open", [&] { return t->open(s.lock_uris.front().c_str(), &sink, &dev); }))) return;
      if (tc->inject_fault) {
        expect_result("inject_fault(lock, fault 0x7FFF)", fenced_call("inject_fault(unknown fault)", [&] {
                        return tc->inject_fault(dev, LK_DEVICE_KIND_LOCK, 0x7FFF, 0);
                      }),
                      LK_ERR_UNSUPPORTED, "an unknown fault was accepted", clause);
      }
      if (tc->physical_action) {
        expect_result("physical_action(lock, action 999)", fenced_call("physical_action(unknown action)", [&] {
                        return tc->physical_action(dev, LK_DEVICE_KIND_LOCK, 999);
                      }),
                      LK_ERR_UNSUPPORTED, "an unknown physical action was accepted", clause);
      }
      t->close(dev);
    }
  }
  if (const auto* t = s.plugin->camera_interface(); t && !s.camera_uris.empty()) {
    lk_camera_device* dev = nullptr;
    const lk_result r = fenced_call("camera.open(unknown URI)", [&] { return t->open(unknown_uri, &sink, &dev); });
    expect_uri_refused(std::string("camera.open(\"") + unknown_uri + "\")", r);
    if (r == LK_OK) t->close(dev);
    if (tc && tc->inject_fault) {
      if (!opened("camera.open", fenced_call("camera.open", [&] { return t->open(s.camera_uris.front().c_str(), &sink, &dev); }))) return;
      expect_result("inject_fault(camera, fault 0x7FFF)", fenced_call("inject_fault(unknown fault)", [&] {
                      return tc->inject_fault(dev, LK_DEVICE_KIND_CAMERA, 0x7FFF, 0);
                    }),
                    LK_ERR_UNSUPPORTED, "an unknown fault was accepted", clause);
      t->close(dev);
    }
  }
  if (const auto* t = s.plugin->authz_interface()) {
    lk_authz_provider* provider = nullptr;
    const std::string garbage = "lk-certify: no such directive\n";
    const lk_result r = fenced_call("authz.open(bad config)", [&] {
      return t->open(reinterpret_cast<const uint8_t*>(garbage.data()), garbage.size(), &provider);
    });
    if (s.authz.reference_format)
      expect_result("authz.open(\"" + garbage.substr(0, garbage.size() - 1) + "\")", r, LK_ERR_INVALID_ARGUMENT,
                    "a configuration with an unknown directive was accepted", clause);
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
      if (c && c->operation_id != op)
        fail_case("a completion did not echo its operation id", "operation_id " + std::to_string(op) + " (abi.md 7)",
                  "operation_id " + std::to_string(c->operation_id));
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
    if (done.count(op) != 0)
      fail_case(std::string("a completion fired for a start call that returned ") + host::result_name(r),
                "no completion after an error (abi.md 3 Asynchronous calls)", std::to_string(done.count(op)) + " completion(s)");
  }
  std::this_thread::sleep_for(milliseconds(std::min<uint32_t>(d.max_actuation_ms, 2000) + 200));
  const host::ContractViolations v = lock->violations();
  const std::string once = "each started operation completes exactly once (abi.md 3 Asynchronous calls)";
  if (v.duplicate_completions != 0)
    fail_case("a completion fired twice", once, std::to_string(v.duplicate_completions) + " duplicate completion(s)");
  if (v.unknown_completions != 0)
    fail_case("a completion fired for an operation never started", once,
              std::to_string(v.unknown_completions) + " completion(s) for unknown operation ids");
  if (v.completions_after_failed_start != 0)
    fail_case("a completion fired after its start call failed", "no completion after an error (abi.md 3)",
              std::to_string(v.completions_after_failed_start) + " completion(s)");
  lock->close();
  if (lock->violations().missing_completions != 0)
    fail_case("an operation was still pending at close", "close fires every pending completion before it returns (abi.md 7)",
              std::to_string(lock->violations().missing_completions) + " completed by the host instead");
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
  const std::string close_rule = "the pending completion fires once, before close returns (abi.md 7 close)";
  if (done.count(7) != 1)
    fail_case("close returned without the pending unlock's completion", close_rule,
              std::to_string(done.count(7)) + " completion(s) when close returned");
  const auto v = lock->violations();
  if (v.missing_completions != 0)
    fail_case("the host had to complete a pending operation itself", close_rule,
              std::to_string(v.missing_completions) + " operation(s) left pending");
  std::this_thread::sleep_for(300ms);
  if (lock->violations().events_after_close != 0)
    fail_case("events arrived after close returned", "no event follows close (abi.md 6)",
              std::to_string(lock->violations().events_after_close) + " event(s) within 300 ms");
  if (lock->violations().duplicate_completions != 0)
    fail_case("a completion fired twice", close_rule,
              std::to_string(lock->violations().duplicate_completions) + " duplicate completion(s)");
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
  if (cam->violations().events_after_close != 0)
    fail_case("events arrived after close returned", "no event follows close (abi.md 6)",
              std::to_string(cam->violations().events_after_close) + " event(s) within 500 ms");
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
    if (t.median_ms > kBudgetMs)
      fail_case(t.what + " blocked beyond its budget", "at most 100 ms per call (abi.md 3 Threads)",
                std::to_string(static_cast<long>(t.median_ms)) + " ms (median of " + std::to_string(t.calls) + " calls)");
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
    if (const lk_result r = lock_a->unlock(p, done_a.handler()); r != LK_OK)
      fail_case("the first device refused an unlock while calls ran on both", "LK_OK", host::result_name(r));
    p.operation_id = 2;
    if (const lk_result r = lock_b->unlock(p, done_b.handler()); r != LK_OK)
      fail_case("the second device refused an unlock while calls ran on both", "LK_OK", host::result_name(r));
    if (!done_a.wait(1, 3s))
      fail_case("the first device's unlock did not complete while the second moved", "a completion within 3 s", "none");
    if (!done_b.wait(2, 3s))
      fail_case("the second device's unlock did not complete while the first moved", "a completion within 3 s", "none");
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
  if (failures.load() != 0)
    fail_case("calls on different device handles failed when made at the same time",
              "every call succeeds: the plugin protects state shared between devices (abi.md 3 Threads)",
              std::to_string(failures.load()) + " failed call(s), the first: " + first_failure);
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
    if (to_a < 2)
      fail_case("the device that moved did not report it to its own sink", "a lock state event per move (abi.md 6)",
                std::to_string(to_a) + " lock state event(s)");
    if (to_b != 0)
      fail_case("another device's sink received the moves of a device it does not own",
                "events only on the sink the device was opened with (abi.md 6: each open copies its own sink)",
                std::to_string(to_b) + " lock state event(s) on the other sink");
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
          fail_case("a camera's sink received another camera's attestation",
                    "events only on the sink the device was opened with (abi.md 6)",
                    "an attestation of '" + att.camera_id() + "' on the sink of '" + id + "'");
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
  auto check = [&](Borrowed& b) {
    if (!b.unchanged()) modified.push_back(b.buffer().name());
  };
  if (const auto* t = s.plugin->lock_interface(); t && !s.lock_uris.empty()) {
    Borrowed uri("the device URI", s.lock_uris.front());
    Borrowed sink("the event sink", &dropping_sink(), sizeof(lk_event_sink), alignof(lk_event_sink));
    lk_lock_device* dev = nullptr;
    if (!opened("lock.open", fenced_call("lock.open", [&] { return t->open(uri.as<char>(), sink.as<lk_event_sink>(), &dev); }))) return;
    GuardedBuffer desc = out_struct<lk_lock_description>("the lock description");
    fenced_call("lock.describe", [&] { return t->describe(dev, desc.as<lk_lock_description>()); });
    const uint32_t actuation = desc.as<lk_lock_description>()->max_actuation_ms;
    lk_unlock_params p0{};
    p0.struct_size = sizeof p0;
    p0.operation_id = next_raw_operation_id();
    Borrowed params("the unlock params", &p0, sizeof p0, alignof(lk_unlock_params));
    if (fenced_call("lock.unlock", [&] { return t->unlock(dev, params.as<lk_unlock_params>(), &counting_completion, nullptr); }) == LK_OK)
      wait_completion(p0.operation_id, milliseconds(std::min<uint32_t>(actuation, 5000) + 1000));
    check(uri);
    check(sink);
    check(params);
    fenced_call("lock.close", [&] { t->close(dev); return LK_OK; });
    check_intact({&uri.buffer(), &sink.buffer(), &desc, &params.buffer()}, "the lock's calls");
  }
  if (const auto* t = s.plugin->camera_interface(); t && !s.camera_uris.empty()) {
    Borrowed uri("the device URI", s.camera_uris.front());
    Borrowed sink("the event sink", &dropping_sink(), sizeof(lk_event_sink), alignof(lk_event_sink));
    lk_camera_device* dev = nullptr;
    if (!opened("camera.open", fenced_call("camera.open", [&] { return t->open(uri.as<char>(), sink.as<lk_event_sink>(), &dev); }))) return;
    const auto n = crypto::random_bytes(16);
    Borrowed nonce("the nonce", n.data(), n.size(), 1);
    fenced_call("camera.deliver_nonce", [&] { return t->deliver_nonce(dev, nonce.data(), 16); });
    const uint8_t sid0[LK_SESSION_ID_SIZE] = {9, 9, 9};
    Borrowed sid("the session id", sid0, sizeof sid0, 1);
    fenced_call("camera.start_recording", [&] { return t->start_recording(dev, sid.data()); });
    fenced_call("camera.stop_recording", [&] { return t->stop_recording(dev); });
    if (t->snapshot) {
      std::size_t needed = 0;
      fenced_call("camera.snapshot(NULL buffer)", [&] { return t->snapshot(dev, nullptr, &needed, nullptr); });
      if (needed > 1) {
        Borrowed shorter("a snapshot buffer of half the size needed",
                         std::string(needed / 2, 'x').data(), needed / 2, 1);
        std::size_t size = needed / 2;
        fenced_call("camera.snapshot(short buffer)", [&] { return t->snapshot(dev, shorter.data(), &size, nullptr); });
        Borrowed full("a snapshot buffer 16 bytes larger than needed", std::string(needed + 16, 'x').data(), needed + 16, 1);
        size = needed + 16;
        fenced_call("camera.snapshot", [&] { return t->snapshot(dev, full.data(), &size, nullptr); });
        check_intact({&shorter.buffer(), &full.buffer()}, "camera.snapshot");
      }
    }
    check(uri);
    check(sink);
    check(nonce);
    check(sid);
    fenced_call("camera.close", [&] { t->close(dev); return LK_OK; });
    check_intact({&uri.buffer(), &sink.buffer(), &nonce.buffer(), &sid.buffer()}, "the camera's calls");
  }
  if (const auto* t = s.plugin->authz_interface()) {
    Borrowed config("the configuration", s.authz.config.data(), s.authz.config.size(), 1);
    lk_authz_provider* provider = nullptr;
    if (fenced_call("authz.open", [&] { return t->open(config.data(), s.authz.config.size(), &provider); }) == LK_OK) {
      Borrowed hub("the hub id", std::string("hub-1")), door("the door id", std::string("front"));
      lk_authz_context c0{sizeof(lk_authz_context), 0, hub.as<char>(), door.as<char>(), 0};
      Borrowed context("the authz context", &c0, sizeof c0, alignof(lk_authz_context));
      Borrowed credential("the credential", std::string(48, 'c').data(), 48, 1);
      GuardedBuffer grant = out_struct<lk_grant_info>("the grant out-struct");
      GuardedBuffer refusal = out_struct<lk_authz_refusal>("the refusal out-struct");
      fenced_call("authz.verify", [&] {
        return t->verify(provider, context.as<lk_authz_context>(), credential.data(), 48, grant.as<lk_grant_info>(),
                         refusal.as<lk_authz_refusal>());
      });
      check(context);
      check(credential);
      check(hub);
      check(door);
      fenced_call("authz.close", [&] { t->close(provider); return LK_OK; });
      check_intact({&hub.buffer(), &door.buffer(), &context.buffer(), &credential.buffer(), &grant, &refusal},
                   "authz.verify");
    }
    check(config);
  }
  const uint64_t freed = lk_certify_borrowed_frees() - before;
  if (freed != 0)
    fail_case("the plugin called free() on host buffers it was only lent",
              "nothing is freed across the boundary (abi.md 3 Ownership)", std::to_string(freed) + " free() call(s)");
  for (const std::string& m : modified)
    fail_case("the plugin modified a borrowed input", "inputs are borrowed, read only (abi.md 3 Ownership)", m + " changed");
}

void lent_bytes_stable(CaseContext& ctx) {
  const CameraObservation& obs = observe_camera(ctx.subject, ctx.uri, ObservedThrough::kThisProcess);
  ASSERT_TRUE(obs.opened) << obs.error;
  ASSERT_FALSE(obs.attestations.empty()) << "no attestation arrived";
  std::size_t changed = 0;
  for (const auto& a : obs.attestations) changed += !a.bytes_stable;
  if (changed != 0)
    fail_case("lent attestation bytes changed before the host released them",
              "lent bytes stay unchanged until release (abi.md 6 Lent data)",
              std::to_string(changed) + " of " + std::to_string(obs.attestations.size()) + " attestations changed");
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
  c.push_back({"TC-ABI-1.4",
               "Negotiation picks the highest version both sides speak, never the host's highest: a released ABI version, "
               "the same for every host range that contains it",
               "abi.md 4 Negotiation", Scope::kPlugin, needs_negotiation, negotiation_highest});
  c.push_back({"TC-ABI-2.1", "Vendor, driver id and version are printable ASCII of 1 to 127 characters",
               "abi.md 4 Negotiation (lk_plugin_info)", Scope::kPlugin, needs_loaded, identity});
  c.push_back({"TC-ABI-2.2", "The library exports lk_plugin_negotiate and nothing else, and no UNIQUE symbol",
               "abi.md 1 Shape", Scope::kPlugin, always, exports_only_entry});
  c.push_back({"TC-ABI-3.1", "Every offered table reaches its v1 minimum size", "abi.md 2 Versions and compatibility policy",
               Scope::kPlugin, needs_loaded, table_sizes});
  c.push_back({"TC-ABI-3.2", "Mandatory entries are set; an optional entry is NULL exactly when its capability is not declared",
               "abi.md 2 Versions and compatibility policy", Scope::kPlugin, needs_loaded, null_entries});
  c.push_back({"TC-ABI-3.3",
               "get_interface answers LK_ERR_NOT_FOUND and no table for every name the plugin does not offer "
               "(other interfaces, near misses of real names)",
               "abi.md 4 Negotiation (get_interface)", Scope::kPlugin, needs_loaded, lookup_unknown_name});
  c.push_back({"TC-ABI-3.4",
               "get_interface answers LK_ERR_VERSION and no table for an offered name asked with another major (0, major + 1)",
               "abi.md 4 Negotiation (get_interface)", Scope::kPlugin, needs_loaded, lookup_unknown_major});
  c.push_back({"TC-ABI-4.1", "NULL pointers are refused with LK_ERR_INVALID_ARGUMENT, never followed; close(NULL) is ignored",
               "abi.md 3 Conventions that hold everywhere", Scope::kPlugin, needs_loaded, null_pointers});
  c.push_back({"TC-ABI-4.2", "Growable structs: describe writes at most struct_size bytes and keeps it; short structs and bad sizes are refused",
               "abi.md 2 Versions and compatibility policy", Scope::kPlugin, needs_loaded, growable_structs});
  c.push_back({"TC-ABI-4.3",
               "Caller buffers: a NULL buffer returns the size needed, a short one LK_ERR_BUFFER_TOO_SMALL and the size, "
               "one of exactly that size is filled and not a byte beyond it (guard pages)",
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
