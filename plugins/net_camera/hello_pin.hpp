// The camera's public key as its hello announces it, pinned on first sight.
//
// The first valid hello (its camera id the expected one, a 32-byte key) is
// adopted, unless the device URI pinned a key, which every hello must then
// match. A later hello with another key is refused, never adopted: a new key
// means a new enrolment (docs/camera-link.md). Not thread-safe; the owner locks.
#ifndef LATCHKEY_NET_CAMERA_HELLO_PIN_HPP
#define LATCHKEY_NET_CAMERA_HELLO_PIN_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace latchkey::net_camera {

using PublicKey = std::array<uint8_t, 32>;

class HelloPin {
 public:
  static constexpr std::size_t kMaxHelloBytes = 512;

  enum class Verdict {
    kAdopted,    // the first hello: its key is now pinned
    kConfirmed,  // the pinned key again (period and boot id may have changed)
    kRefused,    // malformed, another camera's id, or another key: not adopted
    kCleared,    // an empty (cleared) retained hello: nothing changes
  };
  struct Outcome {
    Verdict verdict;
    std::string message;  // for the log
    uint32_t refusal = 0;  // kRefused: an lk_camera_refusal (LK_CAMERA_REFUSED_*)
  };

  HelloPin(std::string camera_id, std::optional<PublicKey> pinned);

  Outcome offer(const uint8_t* data, std::size_t size);

  const std::optional<PublicKey>& key() const noexcept { return key_; }
  bool heard() const noexcept { return heard_; }               // a hello with the pinned key arrived
  uint32_t announced_period_ms() const noexcept { return period_ms_; }  // 0 when none

 private:
  const std::string camera_id_;
  std::optional<PublicKey> key_;
  bool heard_ = false;
  uint32_t period_ms_ = 0;
};

std::string to_hex(const uint8_t* data, std::size_t size);

}  // namespace latchkey::net_camera

#endif  // LATCHKEY_NET_CAMERA_HELLO_PIN_HPP
