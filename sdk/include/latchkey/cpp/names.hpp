// Names of the ABI's Matter vocabulary for logs and people (header-only,
// C++17). Unknown values read as "Unknown", as receivers must tolerate them.
#ifndef LATCHKEY_CPP_NAMES_HPP
#define LATCHKEY_CPP_NAMES_HPP

#include <latchkey/lk_lock.h>

namespace latchkey {

inline const char* lock_state_name(lk_lock_state s) noexcept {
  switch (s) {
    case LK_LOCK_STATE_LOCKED: return "Locked";
    case LK_LOCK_STATE_UNLOCKED: return "Unlocked";
    case LK_LOCK_STATE_NOT_FULLY_LOCKED: return "NotFullyLocked";
    case LK_LOCK_STATE_UNLATCHED: return "Unlatched";
    default: return "Unknown";
  }
}

inline const char* door_state_name(lk_door_state s) noexcept {
  switch (s) {
    case LK_DOOR_STATE_OPEN: return "Open";
    case LK_DOOR_STATE_CLOSED: return "Closed";
    case LK_DOOR_STATE_JAMMED: return "Jammed";
    case LK_DOOR_STATE_FORCED_OPEN: return "ForcedOpen";
    case LK_DOOR_STATE_UNSPECIFIED_ERROR: return "UnspecifiedError";
    case LK_DOOR_STATE_AJAR: return "Ajar";
    default: return "Unknown";
  }
}

}  // namespace latchkey

#endif  // LATCHKEY_CPP_NAMES_HPP
