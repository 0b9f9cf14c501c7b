// Time in the gate engine: the hub's monotonic clock in nanoseconds, always
// passed in by the caller. Nothing in the engine reads a clock.
#ifndef LATCHKEY_GATE_TIME_HPP
#define LATCHKEY_GATE_TIME_HPP

#include <cstdint>
#include <functional>
#include <span>

namespace latchkey::gate {

using MonoNs = int64_t;  // hub monotonic time, ns
constexpr MonoNs ms_to_ns(int64_t ms) { return ms * 1'000'000; }
constexpr MonoNs kNever = INT64_MAX;

// Fills bytes with randomness: libsodium in the hub, a seeded generator in simulation.
using RandomSource = std::function<void(std::span<uint8_t>)>;

}  // namespace latchkey::gate

#endif  // LATCHKEY_GATE_TIME_HPP
