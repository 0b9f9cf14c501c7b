// Debian's Chromium, headless, driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: JSON messages ended by a zero byte, the browser
// reading fd 3 and writing fd 4), for tests that look at a page's real DOM
// and layout: the status page at phone width, lk-certify's HTML report.
// No screenshots: every check is an expression evaluated in the page.
#ifndef LATCHKEY_TESTS_HEADLESS_CHROMIUM_HPP
#define LATCHKEY_TESTS_HEADLESS_CHROMIUM_HPP

#include <Poco/Dynamic/Var.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include <sys/types.h>

namespace latchkey::tests {

class HeadlessChromium {
 public:
  // The browser binary, or nullopt when Chromium is not installed.
  static std::optional<std::filesystem::path> find();

  // Starts the browser with one page of width x height CSS pixels. Throws
  // std::runtime_error naming what failed.
  HeadlessChromium(int width, int height);
  ~HeadlessChromium();
  HeadlessChromium(const HeadlessChromium&) = delete;
  HeadlessChromium& operator=(const HeadlessChromium&) = delete;

  void navigate(const std::string& url);
  // The value of a JavaScript expression in the page (returned by value).
  Poco::Dynamic::Var evaluate(const std::string& expression);
  // Evaluates `expression` until it is true or the timeout passes.
  bool wait_until(const std::string& expression, std::chrono::milliseconds timeout);

 private:
  Poco::Dynamic::Var call(const std::string& method, const std::string& params_json, bool in_page = true);

  pid_t pid_ = -1;
  int to_browser_ = -1;
  int from_browser_ = -1;
  std::string buffer_;
  std::string session_;
  int next_id_ = 0;
  std::filesystem::path profile_;
};

}  // namespace latchkey::tests

#endif  // LATCHKEY_TESTS_HEADLESS_CHROMIUM_HPP
