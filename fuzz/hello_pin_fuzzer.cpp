// Fuzzes HelloPin (plugins/net_camera/hello_pin.cpp): the CameraHello a
// camera publishes, retained, on latchkey/camera/<id>/hello, and the key the
// net_camera plugin pins from it. The camera, or whoever holds its broker
// password, chooses every byte; the key pinned is the one the hub's
// attestation checks trust (C1).
//
// Input: a mode byte (bit 0: the device URI pins the key of
// support/camera_link_world.hpp), then up to
// 32 hellos, each a 2-byte big-endian length and the payload (length 0: an
// empty, cleared retained hello).
// Properties: each verdict is the one docs/camera-link.md and the plugin's
// README give (cleared when empty; refused when over 512 bytes, malformed,
// naming another camera, with a key not of 32 bytes or another key than the
// pinned one; adopted when nothing was pinned; confirmed otherwise); once a
// key is pinned it never changes, so a hello with another key is never
// adopted; a refused or cleared hello changes nothing; every verdict carries
// a message, printable ASCII only (camera-chosen text goes to the log), and a
// refused key names both keys.
#include "hello_pin.hpp"

#include "support/camera_link_world.hpp"
#include "support/fuzz_input.hpp"

#include <latchkey/camera_link.pb.h>

#include <google/protobuf/stubs/logging.h>

#include <optional>

using latchkey::net_camera::HelloPin;
using latchkey::net_camera::PublicKey;

namespace {

constexpr std::string_view kCamera = latchkey::fuzz::kLinkCameraId;
constexpr std::size_t kMaxSteps = 32;

PublicKey uri_key() { return latchkey::fuzz::uri_pinned_key(); }

const char* name(HelloPin::Verdict v) {
  switch (v) {
    case HelloPin::Verdict::kAdopted: return "adopted";
    case HelloPin::Verdict::kConfirmed: return "confirmed";
    case HelloPin::Verdict::kRefused: return "refused";
    case HelloPin::Verdict::kCleared: return "cleared";
  }
  return "?";
}

// What the documentation says should become of `payload`, given the pinned key.
struct Expected {
  HelloPin::Verdict verdict;
  PublicKey key{};
  uint32_t period_ms = 0;
  bool other_key = false;  // refused for carrying another key than the pinned one
};

Expected expect(const std::string& payload, const std::optional<PublicKey>& pinned) {
  if (payload.empty()) return {HelloPin::Verdict::kCleared};
  if (payload.size() > HelloPin::kMaxHelloBytes) return {HelloPin::Verdict::kRefused};
  latchkey::v1::CameraHello hello;
  if (!hello.ParseFromString(payload)) return {HelloPin::Verdict::kRefused};
  if (hello.camera_id() != kCamera || hello.public_key().size() != 32) return {HelloPin::Verdict::kRefused};
  Expected e{HelloPin::Verdict::kAdopted};
  std::copy(hello.public_key().begin(), hello.public_key().end(), e.key.begin());
  e.period_ms = hello.attestation_period_ms();
  if (pinned && *pinned != e.key) {
    e.verdict = HelloPin::Verdict::kRefused;
    e.other_key = true;
  } else if (pinned) {
    e.verdict = HelloPin::Verdict::kConfirmed;
  }
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);  // invalid UTF-8 in camera_id would log every time
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  latchkey::fuzz::InputCursor in(data, size);
  const bool uri_pins = (in.byte() & 1) != 0;
  std::optional<PublicKey> pinned;
  if (uri_pins) pinned = uri_key();
  HelloPin pin(std::string(kCamera), pinned);
  bool heard = false;
  uint32_t period_ms = 0;

  for (std::size_t step = 0; step < kMaxSteps && !in.empty(); ++step) {
    const std::string payload = in.counted();
    // libmosquitto hands an empty payload over as NULL.
    const auto* bytes = payload.empty() ? nullptr : reinterpret_cast<const uint8_t*>(payload.data());
    const Expected e = expect(payload, pinned);
    const HelloPin::Outcome out = pin.offer(bytes, payload.size());
    if (latchkey::fuzz::tracing())
      std::fprintf(stderr, "hello %zu (%zu bytes): %s: %s\n", step + 1, payload.size(), name(out.verdict),
                   out.message.c_str());

    LK_FUZZ_CHECK(out.verdict == e.verdict, "a verdict other than the documented one");
    LK_FUZZ_CHECK(!out.message.empty(), "a verdict without a message");
    for (char c : out.message) LK_FUZZ_CHECK(c >= 0x20 && c <= 0x7e, "a non-printable byte in a log message");
    if (out.verdict == HelloPin::Verdict::kAdopted || out.verdict == HelloPin::Verdict::kConfirmed) {
      LK_FUZZ_CHECK(!pinned || *pinned == e.key, "a hello with another key than the pinned one was taken");
      pinned = e.key;
      heard = true;
      period_ms = e.period_ms;
    }
    if (e.other_key) {
      LK_FUZZ_CHECK(out.message.find(latchkey::net_camera::to_hex(e.key.data(), e.key.size())) != std::string::npos &&
                        out.message.find(latchkey::net_camera::to_hex(pinned->data(), pinned->size())) !=
                            std::string::npos,
                    "a refused key whose message does not name the key offered and the key pinned");
    }
    LK_FUZZ_CHECK(pin.key() == pinned, "the pinned key changed other than by adopting the first hello");
    LK_FUZZ_CHECK(pin.heard() == heard, "heard() disagrees with the hellos accepted");
    LK_FUZZ_CHECK(pin.announced_period_ms() == period_ms, "the period is not the last accepted hello's");
    if (uri_pins) LK_FUZZ_CHECK(pin.key() == uri_key(), "the key the URI pins was replaced");
  }
  return 0;
}
