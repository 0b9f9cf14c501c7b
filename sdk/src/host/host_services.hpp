// The lk_host_services table handed to one plugin (internal to the loader).
#ifndef LATCHKEY_SRC_HOST_HOST_SERVICES_HPP
#define LATCHKEY_SRC_HOST_HOST_SERVICES_HPP

#include <latchkey/host/plugin.hpp>

#include <mutex>
#include <string>

namespace latchkey::host::detail {

// Owns the table and its context. The Plugin keeps it alive until after the
// library is unloaded, because plugin threads may log up to shutdown().
class HostServices {
 public:
  // log_name tags log lines until the driver id is known (the file name).
  HostServices(LogHandler handler, std::string log_name);
  HostServices(const HostServices&) = delete;
  HostServices& operator=(const HostServices&) = delete;

  const lk_host_services* table() const noexcept { return &table_; }
  // Called once the identity is validated: later log lines carry the driver id.
  void set_log_name(std::string name);

 private:
  static void log(void* context, lk_log_level level, const char* message) noexcept;
  static uint64_t monotonic_ns(void* context) noexcept;

  lk_host_services table_{};
  LogHandler handler_;
  std::mutex name_mutex_;
  std::string log_name_;
};

}  // namespace latchkey::host::detail

#endif  // LATCHKEY_SRC_HOST_HOST_SERVICES_HPP
