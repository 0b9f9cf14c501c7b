#include "camera_observation.hpp"

#include <latchkey/crypto/attestations.hpp>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

namespace latchkey::certify {
namespace {

// Long enough for 40 declared periods (TC-CAM-1.1 judges the period from the
// intervals), at least 2 s, at most 15 s.
std::chrono::milliseconds window_for(const lk_camera_description& d) {
  using std::chrono::milliseconds;
  return std::clamp(milliseconds(uint64_t{kObservedPeriods} * d.attestation_period_ms), milliseconds(2000),
                    milliseconds(15000));
}

CameraObservation record(const Subject& subject, const std::string& uri, bool in_this_process) {
  CameraObservation obs;
  std::mutex mutex;
  struct Held {
    std::shared_ptr<host::LentBytes> bytes;
    std::size_t index;
  };
  std::vector<Held> held;
  crypto::PublicKey key{};
  std::string camera_id;
  auto on_event = [&](const host::DeviceEvent& e) {
    if (e.kind != LK_EVENT_ATTESTATION || !e.data) return;
    ObservedAttestation a;
    a.received = Clock::now();
    const crypto::ByteView bytes(e.data->data(), e.data->size());
    a.bytes_hash = crypto::blake2b256(bytes);
    std::lock_guard lock(mutex);
    const crypto::OpenedAttestation opened = crypto::open_attestation(bytes, key);
    if (opened.ok) {
      a.parsed = a.signature_ok = true;
      a.attestation = opened.attestation;
    } else {
      v1::SignedAttestation signed_attestation;
      if (signed_attestation.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) &&
          a.attestation.ParseFromString(signed_attestation.attestation()))
        a.parsed = true;
    }
    a.nonces_delivered = obs.nonces.size();
    held.push_back({e.data, obs.attestations.size()});
    obs.attestations.push_back(std::move(a));
  };
  std::unique_ptr<host::CameraDevice> camera;
  lk_result r;
  std::string error;
  if (in_this_process) {
    std::unique_ptr<host::CameraHandle> handle;
    r = host::CameraHandle::open(subject.plugin, uri, [&](const host::DeviceEvent& e) { on_event(e); }, &handle);
    camera = std::move(handle);
  } else {
    host::DeviceHooks hooks;
    hooks.on_event = [&](const host::DeviceEvent& e) { on_event(e); };
    r = open_device(subject, uri, std::move(hooks), &camera, &error);
  }
  if (r != LK_OK) {
    obs.error = std::string("open returned ") + host::result_name(r) + (error.empty() ? "" : ": " + error);
    return obs;
  }
  obs.description.struct_size = sizeof obs.description;
  // Not under the mutex: a plugin may emit (and so wait for the handler) while holding its own lock.
  if (camera->describe(&obs.description) != LK_OK) obs.error = "describe failed";
  {
    std::lock_guard lock(mutex);
    std::memcpy(key.data(), obs.description.public_key, key.size());
    obs.attestations.clear();  // judged only from the first nonce on
    held.clear();
  }
  obs.opened = obs.error.empty();
  const auto window = window_for(obs.description);
  obs.start = Clock::now();
  while (Clock::now() - obs.start < window) {
    std::vector<uint8_t> nonce = crypto::random_bytes(16 + (obs.nonces.size() % 17));
    {
      std::lock_guard lock(mutex);
      obs.nonces.push_back(nonce);
      obs.nonce_times.push_back(Clock::now());
    }
    camera->deliver_nonce(nonce.data(), nonce.size());
    std::this_thread::sleep_for(std::chrono::milliseconds(obs.nonce_period_ms));
  }
  obs.end = Clock::now();
  camera->close();
  std::lock_guard lock(mutex);
  for (const Held& h : held)
    obs.attestations[h.index].bytes_stable =
        crypto::blake2b256({h.bytes->data(), h.bytes->size()}) == obs.attestations[h.index].bytes_hash;
  return obs;
}

}  // namespace

const CameraObservation& observe_camera(const Subject& subject, const std::string& uri, ObservedThrough through) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, bool>, CameraObservation> cache;
  // In process, the runner's devices are this process's handles: one recording serves both views.
  const bool in_this_process =
      through == ObservedThrough::kThisProcess && subject.mode != isolation::PluginMode::kInProcess;
  const std::pair<std::string, bool> key{uri, in_this_process};
  std::lock_guard lock(mutex);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, record(subject, uri, in_this_process)).first;
  return it->second;
}

}  // namespace latchkey::certify
