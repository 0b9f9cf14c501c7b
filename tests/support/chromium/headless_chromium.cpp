#include "headless_chromium.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace latchkey::tests {
namespace {

constexpr auto kCallTimeout = std::chrono::seconds(30);

std::string json_quoted(const std::string& text) {
  std::ostringstream out;
  Poco::JSON::Stringifier::formatString(text, out);
  return out.str();
}

}  // namespace

std::optional<std::filesystem::path> HeadlessChromium::find() {
  // The binary itself: Debian's /usr/bin/chromium is a shell wrapper.
  for (const char* candidate : {"/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (::access(candidate, X_OK) == 0) return std::filesystem::path(candidate);
  return std::nullopt;
}

HeadlessChromium::HeadlessChromium(int width, int height) {
  const auto binary = find();
  if (!binary) throw std::runtime_error("Chromium is not installed");
  char profile[] = "/tmp/lk-chromium-XXXXXX";
  if (::mkdtemp(profile) == nullptr) throw std::runtime_error("mkdtemp failed");
  profile_ = profile;
  int down[2];  // we write, the browser reads (its fd 3)
  int up[2];    // the browser writes (its fd 4), we read
  if (::pipe2(down, O_CLOEXEC) != 0 || ::pipe2(up, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> args = {binary->string(), "--headless", "--no-sandbox", "--disable-gpu",
                                   "--no-first-run", "--disable-extensions", "--remote-debugging-pipe",
                                   "--user-data-dir=" + profile_.string(),
                                   "--window-size=" + std::to_string(width) + "," + std::to_string(height),
                                   "about:blank"};
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // Out of the way of 3 and 4 first, then onto them, inheritable.
    const int read_end = ::fcntl(down[0], F_DUPFD, 10);
    const int write_end = ::fcntl(up[1], F_DUPFD, 10);
    ::dup2(read_end, 3);
    ::dup2(write_end, 4);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(down[0]);
  ::close(up[1]);
  to_browser_ = down[1];
  from_browser_ = up[0];
  const Poco::Dynamic::Var target =
      call("Target.createTarget", "{\"url\":\"about:blank\"}", false);
  const std::string target_id = target.extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("targetId");
  const Poco::Dynamic::Var attached =
      call("Target.attachToTarget", "{\"targetId\":" + json_quoted(target_id) + ",\"flatten\":true}", false);
  session_ = attached.extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("sessionId");
  call("Emulation.setDeviceMetricsOverride",
       "{\"width\":" + std::to_string(width) + ",\"height\":" + std::to_string(height) +
           ",\"deviceScaleFactor\":1,\"mobile\":" + (width < 600 ? "true" : "false") + "}");
}

HeadlessChromium::~HeadlessChromium() {
  if (to_browser_ >= 0) ::close(to_browser_);
  if (from_browser_ >= 0) ::close(from_browser_);
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ignored;
  std::filesystem::remove_all(profile_, ignored);
}

Poco::Dynamic::Var HeadlessChromium::call(const std::string& method, const std::string& params_json, bool in_page) {
  const int id = ++next_id_;
  std::string message = "{\"id\":" + std::to_string(id) + ",\"method\":" + json_quoted(method) +
                        ",\"params\":" + params_json;
  if (in_page) message += ",\"sessionId\":" + json_quoted(session_);
  message += "}";
  message.push_back('\0');
  for (std::size_t sent = 0; sent < message.size();) {
    const ssize_t n = ::write(to_browser_, message.data() + sent, message.size() - sent);
    if (n <= 0) throw std::runtime_error("the browser closed its pipe (" + method + ")");
    sent += static_cast<std::size_t>(n);
  }
  const auto deadline = std::chrono::steady_clock::now() + kCallTimeout;
  for (;;) {
    for (std::size_t end; (end = buffer_.find('\0')) != std::string::npos;) {
      const std::string text = buffer_.substr(0, end);
      buffer_.erase(0, end + 1);
      Poco::JSON::Parser parser;
      const auto reply = parser.parse(text).extract<Poco::JSON::Object::Ptr>();
      if (!reply->has("id") || reply->getValue<int>("id") != id) continue;  // an event or another answer
      if (reply->has("error"))
        throw std::runtime_error(method + ": " + reply->getObject("error")->getValue<std::string>("message"));
      return reply->get("result");
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) throw std::runtime_error(method + ": no answer from the browser");
    pollfd p{from_browser_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char chunk[65536];
    const ssize_t n = ::read(from_browser_, chunk, sizeof chunk);
    if (n <= 0) throw std::runtime_error("the browser ended (" + method + ")");
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

void HeadlessChromium::navigate(const std::string& url) { call("Page.navigate", "{\"url\":" + json_quoted(url) + "}"); }

Poco::Dynamic::Var HeadlessChromium::evaluate(const std::string& expression) {
  const Poco::Dynamic::Var result =
      call("Runtime.evaluate", "{\"expression\":" + json_quoted(expression) + ",\"returnByValue\":true}");
  const auto object = result.extract<Poco::JSON::Object::Ptr>();
  if (object->has("exceptionDetails"))
    throw std::runtime_error("the page threw evaluating " + expression);
  return object->getObject("result")->get("value");
}

bool HeadlessChromium::wait_until(const std::string& expression, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    try {
      const Poco::Dynamic::Var v = evaluate(expression);
      if (v.isBoolean() && v.extract<bool>()) return true;
    } catch (const std::runtime_error&) {
      // Not there yet (the page is loading).
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace latchkey::tests
