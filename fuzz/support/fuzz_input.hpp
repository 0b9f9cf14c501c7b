// What every fuzz target uses, whatever it links: LK_FUZZ_CHECK for the
// properties a decoder promises, InputCursor to cut an input into fields
// (and put_counted to write them, for the seed generator), and
// LK_FUZZ_TRACE. Needs nothing but the standard library, so targets of
// decoders that link no crypto include this alone; support/fixed_world.hpp
// adds the fixed keys and ids.
#ifndef LATCHKEY_FUZZ_SUPPORT_FUZZ_INPUT_HPP
#define LATCHKEY_FUZZ_SUPPORT_FUZZ_INPUT_HPP

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

// A property the decoder promises, checked on every input: a broken one
// aborts, and libFuzzer saves the input as a crash.
#define LK_FUZZ_CHECK(condition, what)                                                  \
  do {                                                                                  \
    if (!(condition)) {                                                                 \
      std::fprintf(stderr, "fuzz property broken at %s:%d: %s\n", __FILE__, __LINE__, what); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

namespace latchkey::fuzz {

// Cuts a fuzz input into fields: a byte, a 2-byte big-endian length and the
// bytes it counts (clamped to what is left), or the rest.
class InputCursor {
 public:
  InputCursor(const uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool empty() const { return at_ >= size_; }
  uint8_t byte() { return empty() ? 0 : data_[at_++]; }
  std::string counted() {
    std::size_t n = std::size_t{byte()} << 8;
    n |= byte();
    return take(n);
  }
  std::string rest() { return take(size_ - at_); }

 private:
  std::string take(std::size_t n) {
    n = std::min(n, size_ - at_);
    std::string out(reinterpret_cast<const char*>(data_ + at_), n);
    at_ += n;
    return out;
  }

  const uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

// LK_FUZZ_TRACE=1 in the environment: targets say what became of each input
// (to check that a seed reaches as deep as it is meant to).
inline bool tracing() {
  static const bool on = std::getenv("LK_FUZZ_TRACE") != nullptr;
  return on;
}

// Writes the same fields, for the seed generator.
inline void put_counted(std::string& out, const std::string& field) {
  out.push_back(static_cast<char>(field.size() >> 8));
  out.push_back(static_cast<char>(field.size() & 0xff));
  out += field;
}

}  // namespace latchkey::fuzz

#endif  // LATCHKEY_FUZZ_SUPPORT_FUZZ_INPUT_HPP
