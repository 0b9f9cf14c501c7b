#include "process_fault.hpp"

#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <utility>
#include <vector>

namespace latchkey::test {
namespace {

// The blocks RUNAWAY_MEMORY keeps, chained through their first bytes.
void* volatile runaway_head = nullptr;

// UBSan would stop at the null store itself; the point is the signal.
[[noreturn]] __attribute__((no_sanitize("null"))) void segfault() {
  volatile int* volatile target = nullptr;
  *target = 1;
  std::abort();  // not reached
}

[[noreturn]] void endless_loop() {
  volatile bool spinning = true;
  while (spinning) {
  }
  std::abort();  // not reached
}

// The calling thread holds `first` and wants `second`; a helper holds
// `second` and wants `first`. Neither is ever released, so both stay on the
// heap.
[[noreturn]] void deadlock() {
  struct Pair {
    std::mutex first;
    std::mutex second;
    std::atomic<bool> helper_holds_second{false};
  };
  Pair* pair = new Pair;
  pair->first.lock();
  std::thread([pair] {
    pair->second.lock();
    pair->helper_holds_second = true;
    pair->first.lock();
  }).detach();
  while (!pair->helper_holds_second) std::this_thread::yield();
  pair->second.lock();
  std::abort();  // not reached
}

[[noreturn]] void runaway_memory() {
  constexpr std::size_t kBlock = std::size_t{1} << 20;
  for (;;) {
    void* block = std::malloc(kBlock);
    if (block == nullptr) std::abort();
    std::memset(block, 0xA5, kBlock);
    *static_cast<void**>(block) = runaway_head;
    runaway_head = block;
  }
}

// Writes bytes (as much as the socket takes without blocking) to every socket
// descriptor of the process. Errors, e.g. a listening socket, are ignored.
void write_to_every_socket(const std::vector<uint8_t>& bytes) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return;
  const int own = dirfd(dir);
  while (const dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == own) continue;
    struct stat status {};
    if (fstat(static_cast<int>(fd), &status) != 0 || !S_ISSOCK(status.st_mode)) continue;
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n =
          send(static_cast<int>(fd), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
  }
  closedir(dir);
}

std::vector<uint8_t> garbage() {
  std::mt19937 random(std::random_device{}());
  std::vector<uint8_t> bytes(4096);
  for (uint8_t& byte : bytes) byte = static_cast<uint8_t>(random());
  return bytes;
}

// A frame header announcing 1 GiB (big-endian length), then a little of it.
std::vector<uint8_t> oversized() {
  std::vector<uint8_t> bytes(4 + 64, 0);
  bytes[0] = 0x40;
  return bytes;
}

}  // namespace

bool is_process_fault(lk_fault fault) noexcept {
  return fault >= LK_PROCESS_FAULT_SEGFAULT && fault <= LK_PROCESS_FAULT_OVERSIZED;
}

lk_result ArmedProcessFault::arm(lk_fault fault, int64_t parameter) {
  if (fault == LK_PROCESS_FAULT_SLOW && parameter < 0) return LK_ERR_INVALID_ARGUMENT;
  std::lock_guard<std::mutex> lock(mutex_);
  fault_ = fault;
  parameter_ = parameter;
  return LK_OK;
}

void ArmedProcessFault::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  fault_ = 0;
}

void ArmedProcessFault::fire_if_armed() {
  lk_fault fault = 0;
  int64_t parameter = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::swap(fault, fault_);
    parameter = parameter_;
  }
  switch (fault) {
    case LK_PROCESS_FAULT_SEGFAULT: segfault();
    case LK_PROCESS_FAULT_ABORT: std::abort();
    case LK_PROCESS_FAULT_ENDLESS_LOOP: endless_loop();
    case LK_PROCESS_FAULT_DEADLOCK: deadlock();
    case LK_PROCESS_FAULT_RUNAWAY_MEMORY: runaway_memory();
    case LK_PROCESS_FAULT_SLOW:
      std::this_thread::sleep_for(std::chrono::milliseconds(parameter));
      return;
    case LK_PROCESS_FAULT_GARBAGE:
      write_to_every_socket(garbage());
      return;
    case LK_PROCESS_FAULT_OVERSIZED:
      write_to_every_socket(oversized());
      return;
    default:
      return;
  }
}

}  // namespace latchkey::test
