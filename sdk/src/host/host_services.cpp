#include "host_services.hpp"

#include <time.h>

#include <cstdio>
#include <utility>

namespace latchkey::host::detail {

namespace {

const char* level_name(lk_log_level level) noexcept {
  switch (level) {
    case LK_LOG_DEBUG: return "debug";
    case LK_LOG_INFO: return "info";
    case LK_LOG_WARNING: return "warning";
    case LK_LOG_ERROR: return "error";
    default: return "log";
  }
}

}  // namespace

HostServices::HostServices(LogHandler handler, std::string log_name)
    : handler_(std::move(handler)), log_name_(std::move(log_name)) {
  table_.struct_size = sizeof(table_);
  table_.context = this;
  table_.log = &HostServices::log;
  table_.monotonic_ns = &HostServices::monotonic_ns;
}

void HostServices::set_log_name(std::string name) {
  std::lock_guard<std::mutex> lock(name_mutex_);
  log_name_ = std::move(name);
}

void HostServices::log(void* context, lk_log_level level, const char* message) noexcept {
  auto* self = static_cast<HostServices*>(context);
  if (self == nullptr) return;
  const char* text = message != nullptr ? message : "(null)";
  try {
    std::string name;
    {
      std::lock_guard<std::mutex> lock(self->name_mutex_);
      name = self->log_name_;
    }
    if (self->handler_) {
      self->handler_(level, name, text);
      return;
    }
    std::fprintf(stderr, "[%s] %s: %s\n", name.c_str(), level_name(level), text);
  } catch (...) {
    // A throwing log handler must not unwind into plugin code.
    std::fprintf(stderr, "latchkey: a log handler threw while logging: %s\n", text);
  }
}

uint64_t HostServices::monotonic_ns(void*) noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000000u + static_cast<uint64_t>(now.tv_nsec);
}

}  // namespace latchkey::host::detail
