#include "guarded_buffer.hpp"

#include "borrowed_buffers.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <new>

namespace latchkey::certify {
namespace {

constexpr uint8_t kCanary = 0xC5;
constexpr std::size_t kMinFrontCanary = 16;
constexpr int kSlots = 128;

// The live buffers, for the fault handler: plain words it can read without locks.
struct Slot {
  std::atomic<int> used{0};
  uintptr_t front_guard = 0;  // [front_guard, front_guard + page)
  uintptr_t back_guard = 0;   // [back_guard, back_guard + page)
  uintptr_t data = 0;
  std::size_t size = 0;
  char name[96] = {};
};
Slot g_slots[kSlots];

std::size_t page_size() {
  static const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

// Appends text to out (bounded), async-signal-safe.
void append(char* out, std::size_t out_size, std::size_t* at, const char* text) {
  while (*text != '\0' && *at + 1 < out_size) out[(*at)++] = *text++;
  out[*at] = '\0';
}
void append_number(char* out, std::size_t out_size, std::size_t* at, std::size_t n) {
  char digits[24];
  int k = 0;
  do {
    digits[k++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0 && k < 23);
  char text[24];
  for (int i = 0; i < k; ++i) text[i] = digits[k - 1 - i];
  text[k] = '\0';
  append(out, out_size, at, text);
}

}  // namespace

GuardedBuffer::GuardedBuffer(std::string name, std::size_t size, std::size_t align, uint8_t fill)
    : name_(std::move(name)), size_(size) {
  const std::size_t page = page_size();
  if (align == 0 || (align & (align - 1)) != 0) align = alignof(std::max_align_t);
  const std::size_t inner_pages = (size + align + kMinFrontCanary + page - 1) / page;
  map_size_ = (inner_pages + 2) * page;
  void* map = mmap(nullptr, map_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) throw std::bad_alloc();
  map_ = static_cast<uint8_t*>(map);
  inner_ = map_ + page;
  end_ = inner_ + inner_pages * page;
  mprotect(map_, page, PROT_NONE);
  mprotect(end_, page, PROT_NONE);
  data_ = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(end_) - size) & ~(uintptr_t{align} - 1));
  std::memset(inner_, kCanary, static_cast<std::size_t>(end_ - inner_));
  if (size) std::memset(data_, fill, size);
  // A plugin that frees a buffer it was lent has it counted, not unmapped under the suite.
  lk_certify_register_borrowed(data_);
  for (int i = 0; i < kSlots; ++i) {
    int expected = 0;
    if (!g_slots[i].used.compare_exchange_strong(expected, 2)) continue;  // 2: being filled
    Slot& s = g_slots[i];
    s.front_guard = reinterpret_cast<uintptr_t>(map_);
    s.back_guard = reinterpret_cast<uintptr_t>(end_);
    s.data = reinterpret_cast<uintptr_t>(data_);
    s.size = size;
    std::strncpy(s.name, name_.c_str(), sizeof s.name - 1);
    s.name[sizeof s.name - 1] = '\0';
    s.used.store(1, std::memory_order_release);
    slot_ = i;
    break;
  }
}

GuardedBuffer::GuardedBuffer(std::string name, const void* bytes, std::size_t size, std::size_t align)
    : GuardedBuffer(std::move(name), size, align) {
  if (size) std::memcpy(data_, bytes, size);
}

GuardedBuffer::GuardedBuffer(GuardedBuffer&& other) noexcept
    : name_(std::move(other.name_)), size_(other.size_), map_(other.map_), map_size_(other.map_size_),
      data_(other.data_), inner_(other.inner_), end_(other.end_), slot_(other.slot_) {
  other.map_ = nullptr;
  other.slot_ = -1;
}

GuardedBuffer::~GuardedBuffer() {
  if (slot_ >= 0) g_slots[slot_].used.store(0, std::memory_order_release);
  if (map_ != nullptr) {
    lk_certify_unregister_borrowed(data_);
    munmap(map_, map_size_);
  }
}

std::optional<std::string> GuardedBuffer::damage() const {
  std::size_t before = 0, after = 0;
  for (const uint8_t* p = inner_; p < data_; ++p) before += *p != kCanary;
  for (const uint8_t* p = data_ + size_; p < end_; ++p) after += *p != kCanary;
  if (before == 0 && after == 0) return std::nullopt;
  std::string text = name_ + " (" + std::to_string(size_) + " bytes):";
  if (after) {
    std::size_t first = 0;
    while (data_[size_ + first] == kCanary) ++first;
    text += " " + std::to_string(after) + " byte(s) past its end changed, the first " + std::to_string(first) +
            " byte(s) after it";
  }
  if (before) text += std::string(after ? ";" : "") + " " + std::to_string(before) + " byte(s) before its start changed";
  return text;
}

bool describe_guard_fault(const void* addr, char* out, std::size_t out_size) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(addr);
  const std::size_t page = page_size();
  for (Slot& s : g_slots) {
    if (s.used.load(std::memory_order_acquire) != 1) continue;
    const bool past = a >= s.back_guard && a < s.back_guard + page;
    const bool before = a >= s.front_guard && a < s.front_guard + page;
    if (!past && !before) continue;
    std::size_t at = 0;
    out[0] = '\0';
    append(out, out_size, &at, s.name);
    append(out, out_size, &at, " (");
    append_number(out, out_size, &at, s.size);
    append(out, out_size, &at, " bytes): an access ");
    if (past) {
      append_number(out, out_size, &at, a - (s.data + s.size) + 1);
      append(out, out_size, &at, " byte(s) past its end");
    } else {
      append_number(out, out_size, &at, s.data - a);
      append(out, out_size, &at, " byte(s) before its start");
    }
    append(out, out_size, &at, " hit a guard page");
    return true;
  }
  return false;
}

}  // namespace latchkey::certify
