#include "attester.hpp"

#include <stdexcept>

namespace latchkey::camera {

Attester::Attester(const lk_attest_key& key, const std::string& camera_id) {
  if (const auto r = lk_attest_context_create(&key, camera_id.c_str(), &context_); r != LK_ATTEST_OK)
    throw std::runtime_error(std::string("cannot start attesting: ") + lk_attest_result_name(r));
  lk_attest_boot_id(context_, boot_id_.data());
}

Attester::~Attester() { lk_attest_context_free(context_); }

bool Attester::set_nonce(const uint8_t* nonce, std::size_t size) {
  const std::lock_guard lock(mutex_);
  return lk_attest_set_nonce(context_, nonce, size) == LK_ATTEST_OK;
}

void Attester::set_recording(const RecordingState& state) {
  const std::lock_guard lock(mutex_);
  lk_attest_set_recording(context_, state.recording ? 1 : 0, state.has_session ? state.session_id.data() : nullptr,
                          state.segment_id, state.recorded_bytes);
}

std::optional<std::vector<uint8_t>> Attester::sign(const FrameDigest& digest, uint64_t capture_ns,
                                                   std::string& error) {
  const std::lock_guard lock(mutex_);
  return sign_locked(digest, capture_ns, error);
}

std::optional<std::vector<uint8_t>> Attester::sign(const FrameDigest& digest, uint64_t capture_ns,
                                                   const lk_attest_scene* scene, std::string& error) {
  // Set and signed under one lock: the measurements are this frame's.
  const std::lock_guard lock(mutex_);
  if (const auto r = lk_attest_set_scene(context_, scene); r != LK_ATTEST_OK) {
    error = lk_attest_result_name(r);
    return std::nullopt;
  }
  return sign_locked(digest, capture_ns, error);
}

std::optional<std::vector<uint8_t>> Attester::sign_locked(const FrameDigest& digest, uint64_t capture_ns,
                                                          std::string& error) {
  std::vector<uint8_t> bytes(LK_ATTEST_SIGNED_MAX);
  std::size_t size = bytes.size();
  if (const auto r = lk_attest_sign(context_, capture_ns, digest.data(), bytes.data(), &size); r != LK_ATTEST_OK) {
    error = lk_attest_result_name(r);
    return std::nullopt;
  }
  bytes.resize(size);
  return bytes;
}

uint64_t Attester::counter() const {
  const std::lock_guard lock(mutex_);
  return lk_attest_counter(context_);
}

}  // namespace latchkey::camera
