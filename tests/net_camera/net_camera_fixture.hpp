// A broker with cameras "porch" and "garden", a test agent for "porch", and
// the net_camera plugin loaded through the host loader (as the hub loads it).
#ifndef LATCHKEY_TESTS_NET_CAMERA_FIXTURE_HPP
#define LATCHKEY_TESTS_NET_CAMERA_FIXTURE_HPP

#include "event_recorder.hpp"
#include "mosquitto_broker.hpp"
#include "test_camera.hpp"

#include <latchkey/host/devices.hpp>
#include <latchkey/host/plugin.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace latchkey::testing {

constexpr uint32_t kPeriodMs = 100;
constexpr Millis kEventWait{3000};

class NetCameraTest : public ::testing::Test {
 protected:
  static BrokerOptions default_broker() {
    BrokerOptions o;
    o.cameras = {"porch", "garden"};
    o.extra_users = {"intruder"};
    return o;
  }

  void start_broker(BrokerOptions options = default_broker()) { broker_ = std::make_unique<MosquittoBroker>(options); }

  // The plain-TCP URI of a camera on the fixture's broker, as the hub's user.
  std::string uri(const std::string& id = "porch", const std::string& extra = "") const {
    return "mqtt://" + broker_->uri_host() + ":" + std::to_string(broker_->port()) + "/" + id +
           "?password_file=" + broker_->password_file("hub").string() + "&period_ms=" + std::to_string(kPeriodMs) +
           extra;
  }

  // Starts the porch agent (hello retained) and opens the plugin on it.
  void start_porch() {
    porch_ = std::make_unique<TestCamera>(*broker_, "porch", 1);
    porch_->start(kPeriodMs);
    ASSERT_EQ(open(uri()), LK_OK) << logs();
  }

  std::shared_ptr<host::Plugin> load() {
    host::LoadOptions options;
    options.log = recorder_.log_handler();
    return host::Plugin::load(LATCHKEY_NET_CAMERA_PATH, options);
  }

  lk_result open(const std::string& device_uri) {
    if (!plugin_) plugin_ = load();
    camera_.reset();
    return host::CameraHandle::open(plugin_, device_uri, recorder_.handler(), &camera_);
  }

  lk_camera_description describe() {
    lk_camera_description d{};
    d.struct_size = sizeof d;
    EXPECT_EQ(camera_->describe(&d), LK_OK);
    return d;
  }

  // The bytes of every attestation event from index from on.
  std::vector<Bytes> attestations(std::size_t from = 0) {
    std::vector<Bytes> out;
    const auto events = recorder_.events();
    for (std::size_t i = from; i < events.size(); ++i)
      if (events[i].kind == LK_EVENT_ATTESTATION && events[i].data) out.push_back(events[i].data->copy());
    return out;
  }

  bool wait_attestations(std::size_t n, std::size_t from = 0, Millis wait = kEventWait) {
    return recorder_.wait(wait, [&] { return recorder_.event_count_unlocked(from, LK_EVENT_ATTESTATION) >= n; });
  }

  // Index of the first status event with value at or after from; -1 when none came in time.
  long wait_status(uint32_t status, std::size_t from, Millis wait = kEventWait) {
    return recorder_.wait_event(LK_EVENT_CAMERA_STATUS, status, -1, from, wait);
  }

  // Refusal reports (LK_CAMERA_STATUS_MESSAGE_REFUSED) from index from on.
  struct RefusalEvent {
    uint32_t kind;     // LK_CAMERA_REFUSED_*
    std::string text;  // the reason
  };
  std::vector<RefusalEvent> refusals(std::size_t from = 0) {
    std::vector<RefusalEvent> out;
    const auto events = recorder_.events();
    for (std::size_t i = from; i < events.size(); ++i) {
      const auto& e = events[i];
      if (e.kind != LK_EVENT_CAMERA_STATUS || e.value != LK_CAMERA_STATUS_MESSAGE_REFUSED) continue;
      std::string text;
      if (e.data) text.assign(reinterpret_cast<const char*>(e.data->data()), e.data->size());
      out.push_back({e.detail, text});
    }
    return out;
  }

  // How many refusals the reports so far stand for ("N refused, the latest:
  // ..." stands for N, any other report for one), and how many reports.
  std::pair<uint64_t, std::size_t> counted_refusals() {
    uint64_t counted = 0;
    const auto all = refusals();
    for (const RefusalEvent& r : all) {
      const std::size_t n = r.text.find(" refused, the latest: ");
      counted += n == std::string::npos ? 1 : std::stoull(r.text.substr(0, n));
    }
    return {counted, all.size()};
  }

  // The first refusal of kind after from, waiting up to wait.
  std::optional<RefusalEvent> wait_refusal(uint32_t kind, std::size_t from = 0, Millis wait = kEventWait) {
    const long at = recorder_.wait_event(LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_MESSAGE_REFUSED, kind, from, wait);
    if (at < 0) return std::nullopt;
    for (const RefusalEvent& r : refusals(static_cast<std::size_t>(at))) return r;
    return std::nullopt;
  }

  // Polls the plugin's log lines for fragment.
  bool wait_logged(const std::string& fragment, Millis wait = kEventWait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (!recorder_.logged(fragment)) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(Millis(10));
    }
    return true;
  }

  static std::string hex(const Key& key) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (uint8_t b : key) {
      out.push_back(kDigits[b >> 4]);
      out.push_back(kDigits[b & 0xF]);
    }
    return out;
  }

  std::string logs() {
    std::string out;
    for (const std::string& line : recorder_.logs()) out += line + "\n";
    return out;
  }

  void TearDown() override {
    camera_.reset();
    porch_.reset();
  }

  EventRecorder recorder_;
  std::unique_ptr<MosquittoBroker> broker_;
  std::unique_ptr<TestCamera> porch_;
  std::shared_ptr<host::Plugin> plugin_;
  std::unique_ptr<host::CameraHandle> camera_;
};

}  // namespace latchkey::testing

#endif  // LATCHKEY_TESTS_NET_CAMERA_FIXTURE_HPP
