// The process faults of process_faults.h, shared by the fault lock and the
// fault camera: arming through test control and firing in the next call.
#ifndef LATCHKEY_TESTS_PROCESS_FAULT_HPP
#define LATCHKEY_TESTS_PROCESS_FAULT_HPP

#include "process_faults.h"

#include <latchkey/latchkey.h>

#include <cstdint>
#include <mutex>

namespace latchkey::test {

// True for the LK_PROCESS_FAULT_* codes.
bool is_process_fault(lk_fault fault) noexcept;

// At most one armed process fault per device; arming again replaces it.
class ArmedProcessFault {
 public:
  // LK_OK, or LK_ERR_INVALID_ARGUMENT for a negative SLOW delay.
  lk_result arm(lk_fault fault, int64_t parameter);
  void clear();
  // Fires the armed fault, if any, and disarms it. Returns only for SLOW,
  // GARBAGE and OVERSIZED (or when nothing was armed).
  void fire_if_armed();

 private:
  std::mutex mutex_;
  lk_fault fault_ = 0;
  int64_t parameter_ = 0;
};

}  // namespace latchkey::test

#endif  // LATCHKEY_TESTS_PROCESS_FAULT_HPP
