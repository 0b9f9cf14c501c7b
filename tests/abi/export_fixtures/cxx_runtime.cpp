// A C++ plugin linked the ordinary way (no latchkey_add_plugin: the shared
// C++ runtime, default link flags). It needs libstdc++ and binds operator
// new, std::string and the exception machinery to the host's runtime, so
// check_cxx_runtime.sh must report it (abi.cxx_runtime_check_catches.*).
#include <latchkey/latchkey.h>

#include <stdexcept>
#include <string>

extern "C" LK_EXPORT lk_result lk_plugin_negotiate(const lk_negotiate_request* request,
                                                   const lk_plugin_info** info) {
  if (info != nullptr) *info = nullptr;
  try {
    std::string why = "no ABI version in common with a host offering ";
    why += std::to_string(request != nullptr ? request->max_abi_version : 0u);
    throw std::runtime_error(why);
  } catch (const std::exception&) {
    return LK_ERR_VERSION;
  }
}
