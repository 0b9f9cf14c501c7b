// The attestation publisher of figure 3, in its own process so its CPU is
// not the hub's: N cameras, each with its own broker user and MQTT
// connection as a real camera has, signing with the camera-side library
// (latchkey_attest) at rate_hz each, echoing the newest nonce the hub sent
// it, with a frame digest that changes every time (so the hub sees neither
// a frozen nor a looped camera). A camera publishes only once it has a
// nonce, so the hub never has to reject one. Runs until SIGTERM; SIGUSR1
// makes it print how many it has published.
#include "figures.hpp"
#include "mqtt_client.hpp"

#include <latchkey/lk_attest.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace latchkey::bench {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_report{false};
extern "C" void on_stop(int) { g_stop.store(true); }
extern "C" void on_report(int) { g_report.store(true); }

void sleep_until_ns(uint64_t t) {
  timespec ts{static_cast<time_t>(t / 1'000'000'000), static_cast<long>(t % 1'000'000'000)};
  ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
}

class Camera {
 public:
  Camera(std::size_t index, const std::string& password, const std::string& host, uint16_t port)
      : id_(net_camera_id(index)) {
    uint8_t seed[32];
    net_camera_seed(index, seed);
    lk_attest_key* key = nullptr;
    if (lk_attest_key_from_seed(seed, &key) != LK_ATTEST_OK) throw std::runtime_error("lk_attest_key_from_seed");
    const lk_attest_result r = lk_attest_context_create(key, id_.c_str(), &context_);
    lk_attest_key_free(key);
    if (r != LK_ATTEST_OK) throw std::runtime_error("lk_attest_context_create");
    if (lk_attest_digest_create(&digest_) != LK_ATTEST_OK) throw std::runtime_error("lk_attest_digest_create");
#ifdef LK_ATTEST_LUMINANCE_MAX
    // A library with scene measurements (C8): a well-lit, sharp view that
    // matches its reference, as a real agent would measure of testsrc2.
    const lk_attest_scene scene{120'000, 20'000, 950};
    if (lk_attest_set_scene(context_, &scene) != LK_ATTEST_OK) throw std::runtime_error("lk_attest_set_scene");
#endif
    client_ = std::make_unique<MqttClient>(
        id_, password, [this](const std::string&, const uint8_t* d, std::size_t n) { on_nonce(d, n); });
    client_->connect(host, port);
    client_->subscribe("latchkey/camera/" + id_ + "/nonce", 0);
  }
  ~Camera() {
    client_.reset();  // its network thread calls on_nonce
    lk_attest_digest_free(digest_);
    lk_attest_context_free(context_);
  }

  // Signs and publishes one attestation; false before the first nonce.
  bool attest() {
    uint8_t digest[LK_ATTEST_DIGEST_SIZE];
    uint8_t buffer[LK_ATTEST_SIGNED_MAX];
    std::size_t size = sizeof buffer;
    {
      std::lock_guard lock(mutex_);
      if (!has_nonce_) return false;
      const uint64_t frame = ++frames_;
      lk_attest_digest_update(digest_, id_.data(), id_.size());
      lk_attest_digest_update(digest_, &frame, sizeof frame);
      lk_attest_digest_final(digest_, digest);
      if (lk_attest_sign(context_, lk_attest_monotonic_ns(), digest, buffer, &size) != LK_ATTEST_OK) return false;
    }
    return client_->publish(topic_, buffer, size, 0);
  }

 private:
  void on_nonce(const uint8_t* d, std::size_t n) {
    std::lock_guard lock(mutex_);
    if (lk_attest_set_nonce(context_, d, n) == LK_ATTEST_OK) has_nonce_ = true;
  }

  std::string id_;
  std::string topic_ = "latchkey/camera/" + id_ + "/attestation";
  std::mutex mutex_;
  lk_attest_context* context_ = nullptr;
  lk_attest_digest* digest_ = nullptr;
  bool has_nonce_ = false;
  uint64_t frames_ = 0;
  std::unique_ptr<MqttClient> client_;
};

}  // namespace

int run_publisher(const std::string& host, uint16_t port, const std::filesystem::path& credentials,
                  std::size_t cameras, uint32_t rate_hz) {
  struct sigaction action {};
  action.sa_handler = on_stop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  action.sa_handler = on_report;  // SIGUSR1: print "COUNT <attestations published so far>"
  sigaction(SIGUSR1, &action, nullptr);

  std::ifstream in(credentials);
  std::vector<std::unique_ptr<Camera>> all;
  std::string id, password;
  while (all.size() < cameras && in >> id >> password) {
    if (id != net_camera_id(all.size())) throw std::runtime_error("credentials out of order at " + id);
    all.push_back(std::make_unique<Camera>(all.size(), password, host, port));
  }
  if (all.size() != cameras) throw std::runtime_error("not enough credentials in " + credentials.string());
  std::printf("READY %zu\n", cameras);
  std::fflush(stdout);

  // Camera i attests at start + i * period / N + k * period: spread evenly.
  const uint64_t period = 1'000'000'000ull / rate_hz;
  const uint64_t start = lk_attest_monotonic_ns();
  uint64_t published = 0;
  for (uint64_t k = 0; !g_stop.load(); ++k) {
    for (std::size_t i = 0; i < all.size() && !g_stop.load(); ++i) {
      sleep_until_ns(start + k * period + i * period / all.size());
      published += all[i]->attest() ? 1 : 0;
      if (g_report.exchange(false)) {
        std::printf("COUNT %llu\n", static_cast<unsigned long long>(published));
        std::fflush(stdout);
      }
    }
  }
  std::fprintf(stderr, "publisher: %llu attestations from %zu cameras\n", static_cast<unsigned long long>(published),
               cameras);
  return 0;
}

}  // namespace latchkey::bench
