#include <latchkey/host/plugin.hpp>

namespace latchkey::host {

const char* result_name(lk_result result) noexcept {
  switch (result) {
    case LK_OK: return "LK_OK";
    case LK_ERR_INVALID_ARGUMENT: return "LK_ERR_INVALID_ARGUMENT";
    case LK_ERR_UNSUPPORTED: return "LK_ERR_UNSUPPORTED";
    case LK_ERR_BUFFER_TOO_SMALL: return "LK_ERR_BUFFER_TOO_SMALL";
    case LK_ERR_NOT_FOUND: return "LK_ERR_NOT_FOUND";
    case LK_ERR_BUSY: return "LK_ERR_BUSY";
    case LK_ERR_IO: return "LK_ERR_IO";
    case LK_ERR_TIMEOUT: return "LK_ERR_TIMEOUT";
    case LK_ERR_JAMMED: return "LK_ERR_JAMMED";
    case LK_ERR_VERSION: return "LK_ERR_VERSION";
    case LK_ERR_NO_MEMORY: return "LK_ERR_NO_MEMORY";
    case LK_ERR_INTERNAL: return "LK_ERR_INTERNAL";
    case LK_ERR_STATE: return "LK_ERR_STATE";
    case LK_ERR_DENIED: return "LK_ERR_DENIED";
    case LK_ERR_CLOSED: return "LK_ERR_CLOSED";
    default: break;
  }
  // The vendor range is [LK_ERR_VENDOR_LAST, LK_ERR_VENDOR_FIRST].
  if (result <= LK_ERR_VENDOR_FIRST && result >= LK_ERR_VENDOR_LAST) return "LK_ERR_VENDOR";
  if (result > 0) return "LK_UNKNOWN_POSITIVE";
  return "LK_ERR_UNKNOWN";
}

}  // namespace latchkey::host
