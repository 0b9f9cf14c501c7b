// Shared helpers of the loader tests: captured plugin logs, library checks.
#ifndef LATCHKEY_TESTS_LOADER_TEST_SUPPORT_HPP
#define LATCHKEY_TESTS_LOADER_TEST_SUPPORT_HPP

#include <latchkey/host/plugin.hpp>

#include <dlfcn.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test_plugin_protocol.h"

namespace latchkey::host::testing {

// Collects a plugin's log lines. The handler shares the storage, so it stays
// valid for plugin threads even if the capture object goes first.
class LogCapture {
 public:
  LogHandler handler() const {
    auto lines = lines_;
    return [lines](lk_log_level, const std::string& driver_id, const std::string& message) {
      std::lock_guard<std::mutex> lock(lines->mutex);
      lines->text.push_back(driver_id + ": " + message);
    };
  }
  LoadOptions options() const {
    LoadOptions options;
    options.log = handler();
    return options;
  }
  std::size_t count(const std::string& needle) const {
    std::lock_guard<std::mutex> lock(lines_->mutex);
    std::size_t n = 0;
    for (const auto& line : lines_->text) n += line.find(needle) != std::string::npos ? 1 : 0;
    return n;
  }
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> lock(lines_->mutex);
    return lines_->text;
  }

 private:
  struct Lines {
    std::mutex mutex;
    std::vector<std::string> text;
  };
  std::shared_ptr<Lines> lines_ = std::make_shared<Lines>();
};

// True when the dynamic loader still holds the library (RTLD_NOLOAD adds a
// reference on success, which is dropped again here).
inline bool library_is_loaded(const char* path) {
  void* handle = dlopen(path, RTLD_NOLOAD | RTLD_NOW);
  if (handle == nullptr) return false;
  dlclose(handle);
  return true;
}

// Polls until condition holds or about two seconds pass.
inline bool eventually(const std::function<bool()>& condition) {
  for (int i = 0; i < 400; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

}  // namespace latchkey::host::testing

#endif  // LATCHKEY_TESTS_LOADER_TEST_SUPPORT_HPP
