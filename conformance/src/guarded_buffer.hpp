// Buffers lk-certify hands to a plugin in the TC-ABI cases, placed so that a
// write even one byte past the size the host declared is caught. Each buffer
// has its own mapping: a PROT_NONE page before and after, the buffer
// end-aligned against the page after (a write past its end faults at once,
// whatever malloc would have left as slack), the bytes between the first
// page and its start filled with a canary. A buffer whose alignment keeps it
// off the page end (a struct of odd size) has a canary after it too;
// damage() checks both canaries. Every buffer is registered as borrowed
// (borrowed_buffers.h): a free() of it is counted, not carried out.
//
// The TC-ABI cases run in a child process (child_case.hpp): a fault in a
// guard page kills that child, and describe_guard_fault() names the buffer
// for the case's failure.
#ifndef LATCHKEY_CERTIFY_GUARDED_BUFFER_HPP
#define LATCHKEY_CERTIFY_GUARDED_BUFFER_HPP

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace latchkey::certify {

class GuardedBuffer {
 public:
  // size bytes (0 allowed) at an address aligned to align (a power of two),
  // filled with fill. name says what the buffer is, for failures.
  GuardedBuffer(std::string name, std::size_t size, std::size_t align = alignof(std::max_align_t), uint8_t fill = 0);
  GuardedBuffer(std::string name, const void* bytes, std::size_t size, std::size_t align = alignof(std::max_align_t));
  ~GuardedBuffer();
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;
  GuardedBuffer(GuardedBuffer&& other) noexcept;
  GuardedBuffer& operator=(GuardedBuffer&&) = delete;

  uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::string& name() const { return name_; }
  template <class T>
  T* as() const { return reinterpret_cast<T*>(data_); }

  // The canaries before (and, when alignment left a gap, after) the buffer
  // are intact: nullopt; otherwise what the plugin overwrote.
  std::optional<std::string> damage() const;

 private:
  std::string name_;
  std::size_t size_;
  uint8_t* map_ = nullptr;     // the whole mapping
  std::size_t map_size_ = 0;
  uint8_t* data_ = nullptr;
  uint8_t* inner_ = nullptr;   // first byte after the front guard page
  uint8_t* end_ = nullptr;     // first byte of the back guard page
  int slot_ = -1;
};

// Async-signal-safe: when addr lies in a guard page of a live GuardedBuffer,
// writes "<name> (<size> bytes): <n> bytes past its end" (or before its start)
// into out and returns true.
bool describe_guard_fault(const void* addr, char* out, std::size_t out_size);

}  // namespace latchkey::certify

#endif  // LATCHKEY_CERTIFY_GUARDED_BUFFER_HPP
