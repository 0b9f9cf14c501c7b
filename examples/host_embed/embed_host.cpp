// embed_host PLUGIN URI: loads a lock plugin through the installed loader
// (Latchkey::host), prints what it negotiated, opens the device, prints its
// states, unlocks and locks it and prints the state the lock reports after
// each; then signs a camera attestation and verifies it as a hub does, with
// Latchkey::crypto and liblatchkey_proto's generated code. Exit 0 only when
// every step succeeded; otherwise the step that failed is named on stderr.
#include <latchkey/crypto/attestations.hpp>
#include <latchkey/crypto/crypto.hpp>
#include <latchkey/host/devices.hpp>
#include <latchkey/host/plugin.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace {

const char* lock_state_name(lk_lock_state s) {
  switch (s) {
    case LK_LOCK_STATE_NOT_FULLY_LOCKED: return "not fully locked";
    case LK_LOCK_STATE_LOCKED: return "locked";
    case LK_LOCK_STATE_UNLOCKED: return "unlocked";
    case LK_LOCK_STATE_UNLATCHED: return "unlatched";
    default: return "unknown";
  }
}

const char* door_state_name(lk_door_state s) {
  switch (s) {
    case LK_DOOR_STATE_OPEN: return "open";
    case LK_DOOR_STATE_CLOSED: return "closed";
    case LK_DOOR_STATE_JAMMED: return "jammed";
    case LK_DOOR_STATE_FORCED_OPEN: return "forced open";
    default: return "error";
  }
}

bool complain(const std::string& step, const std::string& why) {
  std::fprintf(stderr, "embed_host: %s failed: %s\n", step.c_str(), why.c_str());
  return false;
}

int fail(const std::string& step, const std::string& why) {
  complain(step, why);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: embed_host PLUGIN URI\n");
    return 2;
  }
  using namespace latchkey::host;
  try {
    const std::shared_ptr<Plugin> plugin = Plugin::load(argv[1]);
    const PluginIdentity& id = plugin->identity();
    std::printf("loaded %s: %s %s %s, ABI %u.%u\n", plugin->file().c_str(), id.vendor.c_str(), id.driver_id.c_str(),
                id.driver_version.c_str(), abi_version_major(id.abi_version), abi_version_minor(id.abi_version));
    if (plugin->lock_interface() == nullptr) return fail("lock interface", "the plugin offers none");

    std::unique_ptr<LockHandle> lock;
    if (const lk_result r = LockHandle::open(plugin, argv[2], [](const DeviceEvent&) {}, &lock); r != LK_OK)
      return fail(std::string("open ") + argv[2], result_name(r));
    lk_lock_state state = LK_LOCK_STATE_UNKNOWN;
    lk_door_state door = LK_DOOR_STATE_UNSPECIFIED_ERROR;
    if (const lk_result r = lock->lock_state(&state); r != LK_OK) return fail("lock_state", result_name(r));
    if (const lk_result r = lock->door_state(&door); r != LK_OK) return fail("door_state", result_name(r));
    std::printf("opened %s: lock %s, door %s\n", argv[2], lock_state_name(state), door_state_name(door));

    // Unlock, then lock again: each operation completes on a plugin thread.
    std::mutex m;
    std::condition_variable cv;
    std::optional<lk_lock_completion> done;
    const auto completion = [&](const lk_lock_completion& c) {
      std::lock_guard<std::mutex> g(m);
      done = c;
      cv.notify_all();
    };
    const auto finish = [&](const char* what, lk_result started, lk_lock_state expected) -> bool {
      if (started != LK_OK) return complain(what, result_name(started));
      {
        std::unique_lock<std::mutex> g(m);
        if (!cv.wait_for(g, std::chrono::seconds(10), [&] { return done.has_value(); }))
          return complain(what, "no completion within 10 s");
      }
      if (done->result != LK_OK) return complain(std::string(what) + " completion", result_name(done->result));
      done.reset();
      if (const lk_result r = lock->lock_state(&state); r != LK_OK) return complain("lock_state", result_name(r));
      std::printf("%s completed: lock %s\n", what, lock_state_name(state));
      if (state != expected)
        return complain(what, std::string("the lock reports ") + lock_state_name(state) + ", expected " +
                              lock_state_name(expected));
      return true;
    };
    lk_unlock_params unlock{};
    unlock.struct_size = sizeof unlock;
    unlock.operation_id = 1;
    if (!finish("unlock", lock->unlock(unlock, completion), LK_LOCK_STATE_UNLOCKED)) return 1;
    if (!finish("lock", lock->lock(2, completion), LK_LOCK_STATE_LOCKED)) return 1;
    lock->close();
    const ContractViolations v = lock->violations();
    if (v.duplicate_completions + v.unknown_completions + v.events_after_close + v.missing_completions != 0)
      return fail("contract", "the plugin violated the lock contract");

    namespace crypto = latchkey::crypto;
    const crypto::KeyPair camera = crypto::KeyPair::generate();
    latchkey::v1::Attestation attestation;
    attestation.set_camera_id("porch");
    attestation.set_counter(1);
    const crypto::Bytes digest = crypto::random_bytes(32);
    attestation.set_frame_digest(std::string(digest.begin(), digest.end()));
    crypto::Bytes signed_bytes = crypto::sign_attestation(attestation, camera.secret_key);
    const crypto::OpenedAttestation opened = crypto::open_attestation(signed_bytes, camera.public_key);
    if (!opened.ok || opened.attestation.camera_id() != "porch" || opened.attestation.counter() != 1)
      return fail("attestation", "a correctly signed attestation did not open: " + opened.error);
    signed_bytes[signed_bytes.size() - 1] ^= 1;  // the last byte is the signature's
    if (crypto::open_attestation(signed_bytes, camera.public_key).ok)
      return fail("attestation", "an attestation with a changed signature opened");
    std::printf("attestation of %zu bytes: verified; with one bit changed: refused\n", signed_bytes.size());
  } catch (const LoadError& e) {
    return fail("load", std::string(to_string(e.kind())) + ": " + e.what());
  } catch (const std::exception& e) {
    return fail("embedding", e.what());
  }
  std::printf("embedded host: every step passed\n");
  return 0;
}
