// FakeHubApi: a HubApi that records every call and answers what the test set,
// with an event history and subscribers the test drives by hand.
#ifndef LATCHKEY_TESTS_HTTP_FAKE_HUB_API_HPP
#define LATCHKEY_TESTS_HTTP_FAKE_HUB_API_HPP

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "latchkey/hub/hub_api.hpp"

namespace latchkey::hub::testing {

class FakeHubApi : public HubApi {
 public:
  // What every call answers unless answers[method] says otherwise:
  // 200 {"method":"<name>"}.
  void answer(const std::string& method, ApiResponse response) {
    std::lock_guard lock(mutex_);
    answers_[method] = std::move(response);
  }

  struct Call {
    std::string method;
    std::string id;                 // door or camera
    std::vector<uint8_t> bytes;     // unlock request
    std::string word;               // action or fault
    int64_t parameter = 0;
    uint64_t number = 0;            // since, from
    std::size_t limit = 0;
  };
  std::vector<Call> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::size_t call_count() const {
    std::lock_guard lock(mutex_);
    return calls_.size();
  }

  ApiResponse health() override { return record({"health"}); }
  ApiResponse challenge(const std::string& door) override { return record({"challenge", door}); }
  ApiResponse unlock(const std::string& door, const std::vector<uint8_t>& request) override {
    return record({"unlock", door, request});
  }
  ApiResponse doors() override { return record({"doors"}); }
  ApiResponse sessions() override { return record({"sessions"}); }
  ApiResponse alarms(uint64_t since) override { return record({"alarms", "", {}, "", 0, since}); }
  ApiResponse audit(uint64_t from, std::size_t limit) override {
    return record({"audit", "", {}, "", 0, from, limit});
  }
  ApiResponse audit_verify() override { return record({"audit_verify"}); }
  ApiResponse plugins() override { return record({"plugins"}); }
  ApiResponse test_door_action(const std::string& door, const std::string& action) override {
    return record({"test_door_action", door, {}, action});
  }
  ApiResponse test_camera_fault(const std::string& camera, const std::string& fault,
                                int64_t parameter) override {
    return record({"test_camera_fault", camera, {}, fault, parameter});
  }

  // Events: emit() appends to the history and calls every subscriber on the
  // calling thread, the way the hub's loop thread would.
  void emit(const std::string& name, const std::string& json) {
    std::lock_guard lock(mutex_);
    HubEvent event{++last_event_id_, name, json};
    history_.push_back(event);
    for (auto& [id, callback] : subscribers_) callback(event);
  }
  uint64_t subscribe(uint64_t since_id, std::function<void(const HubEvent&)> on_event) override {
    std::lock_guard lock(mutex_);
    last_since_id_ = since_id;
    for (const auto& event : history_) {
      if (event.id > since_id) on_event(event);
    }
    subscribers_[++last_subscription_] = std::move(on_event);
    return last_subscription_;
  }
  void unsubscribe(uint64_t subscription) override {
    std::lock_guard lock(mutex_);
    subscribers_.erase(subscription);
    ++unsubscribes_;
  }
  std::size_t subscriber_count() const {
    std::lock_guard lock(mutex_);
    return subscribers_.size();
  }
  int unsubscribes() const {
    std::lock_guard lock(mutex_);
    return unsubscribes_;
  }
  uint64_t last_since_id() const {
    std::lock_guard lock(mutex_);
    return last_since_id_;
  }

 private:
  ApiResponse record(Call call) {
    std::lock_guard lock(mutex_);
    auto it = answers_.find(call.method);
    ApiResponse response =
        it != answers_.end() ? it->second : ApiResponse{200, "{\"method\":\"" + call.method + "\"}"};
    calls_.push_back(std::move(call));
    return response;
  }

  mutable std::mutex mutex_;
  std::map<std::string, ApiResponse> answers_;
  std::vector<Call> calls_;
  std::vector<HubEvent> history_;
  std::map<uint64_t, std::function<void(const HubEvent&)>> subscribers_;
  uint64_t last_event_id_ = 0;
  uint64_t last_subscription_ = 0;
  uint64_t last_since_id_ = 0;
  int unsubscribes_ = 0;
};

}  // namespace latchkey::hub::testing

#endif  // LATCHKEY_TESTS_HTTP_FAKE_HUB_API_HPP
