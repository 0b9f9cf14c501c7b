// FakeHubApi: a HubApi that records every call and answers what the test set
// (typed, as the runtime would), with an event history and subscribers the
// test drives by hand.
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
  // What each call answers: empty lists, default values and an allowed
  // unlock, unless the test set another answer (or an ApiError) with answer().
  struct Answers {
    ApiResult<Health> health = Health{};
    ApiResult<Challenge> challenge = Challenge{};
    ApiResult<UnlockOutcome> unlock = UnlockOutcome{true, "front", {0x5e}, Rule::kNone, "", 1};  // an allow
    ApiResult<std::vector<DoorStatus>> doors = std::vector<DoorStatus>{};
    ApiResult<Sessions> sessions = Sessions{};
    ApiResult<std::vector<Alarm>> alarms = std::vector<Alarm>{};
    ApiResult<std::vector<AuditRecord>> audit = std::vector<AuditRecord>{};
    ApiResult<AuditVerification> audit_verify = AuditVerification{};
    ApiResult<std::vector<PluginStatus>> plugins = std::vector<PluginStatus>{};
    ApiResult<TestControlDone> test_door_action = TestControlDone{};
    ApiResult<TestControlDone> test_camera_fault = TestControlDone{};
  };
  // edit(answers) under the fake's lock.
  void answer(const std::function<void(Answers&)>& edit) {
    std::lock_guard lock(mutex_);
    edit(answers_);
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

  ApiResult<Health> health() override { return record({"health"}, &Answers::health); }
  ApiResult<Challenge> challenge(const std::string& door) override {
    return record({"challenge", door}, &Answers::challenge);
  }
  ApiResult<UnlockOutcome> unlock(const std::string& door, const std::vector<uint8_t>& request) override {
    return record({"unlock", door, request}, &Answers::unlock);
  }
  ApiResult<std::vector<DoorStatus>> doors() override { return record({"doors"}, &Answers::doors); }
  ApiResult<Sessions> sessions() override { return record({"sessions"}, &Answers::sessions); }
  ApiResult<std::vector<Alarm>> alarms(uint64_t since) override {
    return record({"alarms", "", {}, "", 0, since}, &Answers::alarms);
  }
  ApiResult<std::vector<AuditRecord>> audit(uint64_t from, std::size_t limit) override {
    return record({"audit", "", {}, "", 0, from, limit}, &Answers::audit);
  }
  ApiResult<AuditVerification> audit_verify() override { return record({"audit_verify"}, &Answers::audit_verify); }
  ApiResult<std::vector<PluginStatus>> plugins() override { return record({"plugins"}, &Answers::plugins); }
  ApiResult<TestControlDone> test_door_action(const std::string& door, const std::string& action) override {
    return record({"test_door_action", door, {}, action}, &Answers::test_door_action);
  }
  ApiResult<TestControlDone> test_camera_fault(const std::string& camera, const std::string& fault,
                                               int64_t parameter) override {
    return record({"test_camera_fault", camera, {}, fault, parameter}, &Answers::test_camera_fault);
  }

  // Events: emit() appends to the history and calls every subscriber on the
  // calling thread, the way the hub's loop thread would.
  static constexpr int64_t kEventWallMs = 1764324000123;
  void emit(EventData data) {
    std::lock_guard lock(mutex_);
    // Every event at one fixed time: 2025-11-28T10:00:00.123Z.
    HubEvent event{++last_event_id_, std::move(data), kEventWallMs};
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
  template <class T>
  T record(Call call, T Answers::*answer) {
    std::lock_guard lock(mutex_);
    calls_.push_back(std::move(call));
    return answers_.*answer;
  }

  mutable std::mutex mutex_;
  Answers answers_;
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
