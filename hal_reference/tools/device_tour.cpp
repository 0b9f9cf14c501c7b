// lk-device-tour: loads the three reference plugins (simulated lock, simulated
// camera, reference authorization), opens a device of each and walks through
// what the hub will build on: a grant checked by the authorization plugin, a
// few camera attestations verified against the camera's pinned key, a
// lock/unlock cycle with door events, the lock relocking by itself at its
// deadline (U4), and what a frozen camera looks like in the attestation stream.
// Everything goes through the real ABI: shared libraries, C tables, events.
#include <latchkey/common/cli_options.hpp>
#include <latchkey/cpp/names.hpp>
#include <latchkey/crypto/attestations.hpp>
#include <latchkey/crypto/grants.hpp>
#include <latchkey/host/devices.hpp>
#include <latchkey/host/plugin.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
namespace crypto = latchkey::crypto;
namespace host = latchkey::host;
using latchkey::door_state_name;
using latchkey::lock_state_name;

namespace {

using Clock = std::chrono::steady_clock;
const Clock::time_point g_start = Clock::now();

void say(const std::string& who, const std::string& what) {
  const double t = std::chrono::duration<double>(Clock::now() - g_start).count();
  std::printf("[%7.3f s] %-8s %s\n", t, who.c_str(), what.c_str());
  std::fflush(stdout);
}

// Events arrive on plugin threads; the tour reads them on its own thread.
class EventQueue {
 public:
  void push(std::string source, host::DeviceEvent event) {
    std::lock_guard lock(mutex_);
    items_.push_back({std::move(source), std::move(event)});
    ready_.notify_all();
  }
  // Waits up to timeout for the next event.
  std::optional<std::pair<std::string, host::DeviceEvent>> pop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!ready_.wait_for(lock, timeout, [&] { return !items_.empty(); })) return std::nullopt;
    auto item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::pair<std::string, host::DeviceEvent>> items_;
};

const char* source_name(uint32_t s) {
  switch (s) {
    case LK_SOURCE_MANUAL: return "manual";
    case LK_SOURCE_AUTO: return "auto-relock";
    case LK_SOURCE_REMOTE: return "remote";
    case LK_SOURCE_PROPRIETARY_REMOTE: return "remote";
    default: return "unspecified";
  }
}

std::string short_hex(const std::string& bytes, std::size_t n = 6) {
  return crypto::to_hex({reinterpret_cast<const uint8_t*>(bytes.data()), std::min(bytes.size(), n)});
}

struct Tour {
  fs::path plugin_dir;
  EventQueue events;
  int failures = 0;

  void check(bool ok, const std::string& what) {
    if (!ok) {
      ++failures;
      say("CHECK", "FAILED: " + what);
    }
  }

  std::shared_ptr<host::Plugin> load(const std::string& file) {
    const fs::path path = plugin_dir / file;
    auto plugin = host::Plugin::load(path);
    const auto& id = plugin->identity();
    std::string interfaces;
    if (plugin->lock_interface()) interfaces += " lock";
    if (plugin->camera_interface()) interfaces += " camera";
    if (plugin->authz_interface()) interfaces += " authz";
    if (plugin->test_control_interface()) interfaces += " test_control";
    say("load", file + ": " + id.vendor + " " + id.driver_id + " " + id.driver_version + ", ABI " +
                    std::to_string(LK_VERSION_MAJOR(id.abi_version)) + "." +
                    std::to_string(LK_VERSION_MINOR(id.abi_version)) + ", offers" + interfaces);
    return plugin;
  }

  // Prints lock, door and alarm events until `until` returns true or timeout.
  template <class Until>
  bool drain(std::chrono::milliseconds timeout, Until until) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      auto item = events.pop(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
      if (!item) break;
      const auto& [source, e] = *item;
      if (e.kind == LK_EVENT_LOCK_STATE)
        say("event", source + ": bolt " + lock_state_name(e.value) + " (" + source_name(e.detail) + ")");
      else if (e.kind == LK_EVENT_DOOR_STATE)
        say("event", source + ": door " + door_state_name(e.value));
      else if (e.kind == LK_EVENT_LOCK_ALARM)
        say("event", source + ": alarm code " + std::to_string(e.value));
      if (until(e)) return true;
    }
    return false;
  }

  void authorization() {
    auto plugin = load("lk_ref_authz.so");
    const crypto::KeyPair issuer = crypto::KeyPair::generate();
    const crypto::KeyPair courier = crypto::KeyPair::generate();
    const std::string config = "issuer delivery-co-1 " + crypto::to_hex(issuer.public_key) + "\n";
    std::unique_ptr<host::AuthzHandle> authz;
    check(host::AuthzHandle::open(plugin, config, &authz) == LK_OK, "authorization provider opens");
    if (!authz) return;
    say("authz", "provider open, pinned issuer key delivery-co-1 = " + crypto::to_hex(issuer.public_key).substr(0, 16) + "...");

    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    latchkey::v1::Grant grant;
    const crypto::Bytes grant_id = crypto::random_bytes(16);
    grant.set_grant_id(grant_id.data(), grant_id.size());
    grant.set_issuer_key_id("delivery-co-1");
    grant.set_hub_id("hub-1");
    grant.set_door_id("front-door");
    grant.set_courier_id("courier-42");
    grant.set_courier_public_key(courier.public_key.data(), courier.public_key.size());
    grant.set_not_before_unix_ms(now - 60'000);
    grant.set_not_after_unix_ms(now + 3'600'000);
    grant.set_uses(1);
    grant.add_required_camera_ids("porch");

    auto verify = [&](const std::string& label, const crypto::Bytes& credential, const std::string& door) {
      lk_grant_info info{};
      info.struct_size = sizeof info;
      lk_authz_refusal refusal{};
      refusal.struct_size = sizeof refusal;
      const lk_result r = authz->verify("hub-1", door, now, credential, &info, &refusal);
      if (r == LK_OK)
        say("authz", label + ": ACCEPTED grant " + crypto::to_hex({info.grant_id, 4}) + "... courier " +
                         info.courier_id + ", door " + info.door_id + ", cameras " +
                         std::to_string(info.required_camera_count) + ", valid " +
                         std::to_string((info.not_after_unix_ms - now) / 60'000) + " more minutes");
      else
        say("authz", label + ": REFUSED (" + host::result_name(r) + ", code " + std::to_string(refusal.code) +
                         "): " + refusal.message);
      return r;
    };
    const crypto::Bytes good = crypto::mint_grant(grant, issuer.secret_key);
    check(verify("valid grant at front-door", good, "front-door") == LK_OK, "a valid grant is accepted");
    check(verify("same grant at back-door", good, "back-door") == LK_ERR_DENIED, "a grant for another door is refused");
    crypto::Bytes forged = good;
    forged[forged.size() - 1] ^= 0x01;
    check(verify("grant with one bit flipped", forged, "front-door") == LK_ERR_DENIED, "a forged grant is refused");
    latchkey::v1::Grant expired = grant;
    expired.set_not_before_unix_ms(now - 7'200'000);
    expired.set_not_after_unix_ms(now - 3'600'000);
    check(verify("grant that expired an hour ago", crypto::mint_grant(expired, issuer.secret_key), "front-door") ==
              LK_ERR_DENIED,
          "an expired grant is refused");
  }

  void camera() {
    auto plugin = load("lk_sim_camera.so");
    std::unique_ptr<host::CameraHandle> cam;
    check(host::CameraHandle::open(plugin, "sim://camera/porch?rate_hz=10",
                                   [this](const host::DeviceEvent& e) { events.push("porch", e); }, &cam) == LK_OK,
          "camera opens");
    if (!cam) return;
    lk_camera_description d{};
    d.struct_size = sizeof d;
    cam->describe(&d);
    crypto::PublicKey key;
    std::memcpy(key.data(), d.public_key, key.size());
    say("camera", std::string("opened ") + d.camera_id + ": device key " + crypto::to_hex(key).substr(0, 16) +
                      "..., attests every " + std::to_string(d.attestation_period_ms) + " ms");

    uint8_t session[LK_SESSION_ID_SIZE];
    crypto::random_bytes(std::span<uint8_t>(session));
    std::string last_nonce;
    std::string last_digest;
    int shown = 0;
    int frozen_repeats = 0;
    bool recording_requested = false;
    bool frozen = false;
    const auto deadline = Clock::now() + 5s;
    while (shown < 10 && Clock::now() < deadline) {
      if (shown == 2 && last_nonce.empty()) {
        const crypto::Bytes nonce = crypto::random_bytes(16);
        cam->deliver_nonce(nonce.data(), nonce.size());
        last_nonce.assign(nonce.begin(), nonce.end());
        say("hub", "sent nonce " + short_hex(last_nonce) + "... to porch (C2)");
      }
      if (shown == 4 && !recording_requested) {
        recording_requested = true;
        check(cam->start_recording(session) == LK_OK, "camera starts recording");
        say("hub", "asked porch to record session " + crypto::to_hex({session, 4}) + "... (U2)");
      }
      if (shown == 7 && !frozen) {
        frozen = true;
        check(cam->inject_fault(LK_FAULT_CAMERA_FREEZE, 0) == LK_OK, "camera accepts the freeze fault");
        say("attack", "test control: freeze the porch camera (the 2017 deauthentication attack's effect)");
      }
      auto item = events.pop(500ms);
      if (!item) continue;
      const host::DeviceEvent& e = item->second;
      if (e.kind != LK_EVENT_ATTESTATION || !e.data) continue;
      const crypto::OpenedAttestation opened = crypto::open_attestation({e.data->data(), e.data->size()}, key);
      check(opened.ok, "attestation verifies with the described device key");
      if (!opened.ok) continue;
      const auto& a = opened.attestation;
      const bool echoes = !last_nonce.empty() && a.hub_nonce() == last_nonce;
      const bool same_digest = a.frame_digest() == last_digest;
      if (same_digest) ++frozen_repeats;
      last_digest = a.frame_digest();
      say("attest", "porch #" + std::to_string(a.counter()) + " signature OK, frame " + short_hex(a.frame_digest(), 4) +
                        (same_digest ? " (UNCHANGED)" : "") + ", nonce " +
                        (a.hub_nonce().empty() ? "none yet" : short_hex(a.hub_nonce()) + (echoes ? " echoed" : "")) +
                        ", recording " +
                        (a.recording().recording() ? "session " + short_hex(a.recording().session_id(), 4) : "off"));
      ++shown;
    }
    check(shown >= 10, "ten attestations arrive within five seconds");
    check(frozen_repeats >= 1, "a frozen camera repeats its frame digest");
    say("camera", "frozen frames still carry valid signatures: the hub's liveness monitor must judge the digest (C5), "
                  "not the signature");
  }

  void lock() {
    auto plugin = load("lk_sim_lock.so");
    std::unique_ptr<host::LockHandle> lk;
    check(host::LockHandle::open(plugin, "sim://lock/front-door?actuation_ms=150",
                                 [this](const host::DeviceEvent& e) { events.push("front", e); }, &lk) == LK_OK,
          "lock opens");
    if (!lk) return;
    lk_lock_description d{};
    d.struct_size = sizeof d;
    lk->describe(&d);
    lk_lock_state ls = LK_LOCK_STATE_UNKNOWN;
    lk_door_state ds = LK_DOOR_STATE_UNKNOWN;
    lk->lock_state(&ls);
    lk->door_state(&ds);
    say("lock", std::string("opened front-door: door sensor ") + ((d.flags & LK_LOCK_CAP_DOOR_SENSOR) ? "yes" : "no") +
                    ", lock-side relock " + ((d.flags & LK_LOCK_CAP_RELOCK_DEADLINE) ? "yes" : "no") +
                    ", actuation up to " + std::to_string(d.max_actuation_ms) + " ms; bolt " + lock_state_name(ls) +
                    ", door " + door_state_name(ds));

    std::mutex m;
    std::condition_variable cv;
    std::optional<lk_lock_completion> done;
    auto on_done = [&](const lk_lock_completion& c) {
      std::lock_guard g(m);
      done = c;
      cv.notify_all();
    };
    auto wait_done = [&](const std::string& what) {
      std::unique_lock g(m);
      const bool ok = cv.wait_for(g, 3s, [&] { return done.has_value(); });
      check(ok, what + " completes");
      if (ok)
        say("done", what + ": " + host::result_name(done->result) + ", bolt " + lock_state_name(done->lock_state));
      done.reset();
    };

    lk_unlock_params p{};
    p.struct_size = sizeof p;
    p.relock_deadline_ms = 60'000;
    p.operation_id = 1;
    say("hub", "unlock front-door, lock-side relock deadline 60 s (U4)");
    check(lk->unlock(p, on_done) == LK_OK, "unlock starts");
    wait_done("unlock");
    drain(300ms, [](const host::DeviceEvent& e) { return e.kind == LK_EVENT_LOCK_STATE; });
    say("courier", "opens the door (test control)");
    lk->physical_action(LK_ACTION_DOOR_OPEN);
    drain(500ms, [](const host::DeviceEvent& e) { return e.kind == LK_EVENT_DOOR_STATE; });
    std::this_thread::sleep_for(400ms);  // the parcel goes in
    say("courier", "closes the door");
    lk->physical_action(LK_ACTION_DOOR_CLOSE);
    drain(500ms, [](const host::DeviceEvent& e) { return e.kind == LK_EVENT_DOOR_STATE; });
    say("hub", "door closed: relock front-door (U8)");
    check(lk->lock(2, on_done) == LK_OK, "lock starts");
    wait_done("lock");
    drain(300ms, [](const host::DeviceEvent& e) { return e.kind == LK_EVENT_LOCK_STATE; });
    lk->lock_state(&ls);
    lk->door_state(&ds);
    check(ls == LK_LOCK_STATE_LOCKED && ds == LK_DOOR_STATE_CLOSED, "bolt Locked and door Closed after the cycle");
    say("lock", std::string("verified: bolt ") + lock_state_name(ls) + ", door " + door_state_name(ds));

    p.relock_deadline_ms = 1'000;
    p.operation_id = 3;
    say("hub", "unlock again with a 1 s relock deadline, then stay silent (as if the hub had died)");
    check(lk->unlock(p, on_done) == LK_OK, "second unlock starts");
    wait_done("unlock");
    const bool relocked = drain(3s, [](const host::DeviceEvent& e) {
      return e.kind == LK_EVENT_LOCK_STATE && e.value == LK_LOCK_STATE_LOCKED;
    });
    check(relocked, "the lock relocks by itself at its deadline");
    if (relocked) say("lock", "relocked by itself at the deadline (U4)");
  }
};

fs::path default_plugin_dir(const char* argv0) {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) exe = fs::absolute(argv0);
  const fs::path bin = exe.parent_path();
  for (const fs::path& candidate : {bin / ".." / "plugins", bin / ".." / "lib" / "latchkey" / "plugins"})
    if (fs::exists(candidate / "lk_sim_lock.so")) return fs::weakly_canonical(candidate);
  return bin / ".." / "plugins";
}

const latchkey::cli::Program& program() {
  static const latchkey::cli::Program p{
      "lk-device-tour",
      {"[--plugins DIR]"},
      "Walks the three reference plugins (lk_ref_authz, lk_sim_camera, lk_sim_lock) through the plugin ABI "
      "alone, as a hub would: authorization, camera attestations and a lock cycle with its relock deadline. "
      "Each step is printed, and each check as CHECK when it fails.",
      {{0, "every check passed"}, {1, "a check failed or a plugin was refused"},
       {2, "usage error: an unknown or malformed option"}},
      ""};
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  Tour tour;
  std::string plugins;
  latchkey::cli::po::options_description options;
  options.add_options()
      ("plugins", latchkey::cli::po::value(&plugins)->value_name("DIR"),
       "where the reference plugins are (default: ../plugins or ../lib/latchkey/plugins beside this program)");
  const latchkey::cli::Parsed parsed = latchkey::cli::parse(program(), options, argc, argv);
  if (parsed.exit_status) return *parsed.exit_status;
  tour.plugin_dir = plugins.empty() ? default_plugin_dir(argv[0]) : fs::path(plugins);
  std::printf("Latchkey device tour: the reference plugins through ABI %u.%u, from %s\n\n",
              LK_VERSION_MAJOR(LK_ABI_VERSION_CURRENT), LK_VERSION_MINOR(LK_ABI_VERSION_CURRENT),
              tour.plugin_dir.c_str());
  try {
    tour.authorization();
    std::printf("\n");
    tour.camera();
    std::printf("\n");
    tour.lock();
  } catch (const host::LoadError& e) {
    std::fprintf(stderr, "lk-device-tour: plugin refused: %s\n", e.what());
    return 1;
  }
  std::printf("\n%s\n", tour.failures == 0 ? "Device tour complete: every check passed."
                                           : "Device tour FAILED: see the CHECK lines above.");
  return tour.failures == 0 ? 0 : 1;
}
