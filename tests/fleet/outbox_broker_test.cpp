// The fleet outbox end to end (docs/fleet.md "Alarms and sessions up: the
// outbox" and "When the fleet broker is down"; issue 17 must-show 2): a real
// latchkeyd with simulated devices, a real Mosquitto as the fleet broker
// (tools/broker/fleet.acl), a real lk-witness, and the fleet's subscriber
// (user lk-fleet, a persistent session). Deliveries go on with the fleet
// broker up, answering nothing (a bare listening socket) and stopped, with
// decision latencies compared with those measured with it up in the same
// run; the hub is killed with SIGKILL during the outage, in the middle of a
// delivery, and restarted; once the broker is back the subscriber has every
// alarm and session outcome (the cut one compromised by F2, still naming
// its grant and courier), sequences 1..N without a gap, and the newest
// checkpoint.
#include "fleet_subscriber.hpp"
#include "witness_fixture.hpp"

#include <latchkey/audit/checkpoint.hpp>
#include <latchkey/demo/child_process.hpp>
#include <latchkey/fleet/outbox.hpp>
#include <latchkey/fleet/protocol.hpp>

#include <mosquitto.h>
#include <mosquitto_broker.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>

namespace latchkey::tests {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A "broker" that accepts TCP connections and never answers: a slow or hung
// fleet broker as the hub sees it.
class SilentListener {
 public:
  explicit SilentListener(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 64) == 0;
  }
  ~SilentListener() { ::close(fd_); }
  bool ok() const { return ok_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

int64_t p50(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

class FleetOutbox : public WitnessRollback {
 protected:
  // WitnessRollback's fleet broker, with the fleet's subscriber and
  // persistence (the broker is stopped and started during a test).
  testing::BrokerOptions fleet_broker_options() override {
    testing::BrokerOptions options = WitnessRollback::fleet_broker_options();
    options.extra_users.push_back("lk-fleet");
    options.persistence = true;
    return options;
  }

  void TearDown() override {
    if (::testing::Test::HasFailure()) std::cerr << "broker log:\n" << broker_->log() << "\n";
    subscriber_.reset();
    WitnessRollback::TearDown();
  }

  // Confirmed in this run of the hub (GET /v1/audit/verify), not in an
  // earlier one as the audit records could show.
  bool wait_confirmed_now() {
    return demo::wait_until([&] {
      return api_->get("/v1/audit/verify").body.find("\"state\":\"confirmed\"") != std::string::npos;
    }, 15s);
  }

  // One delivery at the front door through to the verified relock; returns
  // the decision's latency (the unlock request until its answer) in µs.
  int64_t deliver() {
    const client::MintedGrant g = grant("front");
    const auto t0 = Clock::now();
    const client::UnlockAnswer a = present("front", g);
    const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
    EXPECT_TRUE(a.allowed) << a.rule << " " << a.error;
    if (!a.allowed) return us;
    sessions_.push_back(a.session);
    grants_.push_back(crypto::to_hex(g.grant_id));
    EXPECT_TRUE(wait_door("front", "unlocked", "closed"));
    act("front", "open");
    act("front", "close");
    EXPECT_TRUE(wait_door("front", "locked", "closed"));
    EXPECT_TRUE(demo::wait_session_end(*api_, a.session, "completed", 5s)) << "session " << a.session;
    return us;
  }

  // A U8 alarm at the back door: its sensor reports Open while locked. The
  // manual unlock and lock after it end the episode (the engine alarms once
  // per episode).
  void forced_open_alarm() {
    const int64_t before = demo::last_alarm_id(*api_);
    act("back", "open");
    EXPECT_TRUE(demo::wait_alarm(*api_, before, "U8", "back", "", 5s)) << "no U8 alarm";
    act("back", "close");
    act("back", "manual_unlock");
    EXPECT_TRUE(wait_door("back", "unlocked", "closed"));
    act("back", "manual_lock");
    EXPECT_TRUE(wait_door("back", "locked", "closed"));
    ++alarms_raised_;
  }

  std::vector<int64_t> deliveries(int n) {
    std::vector<int64_t> out;
    for (int i = 0; i < n; ++i) out.push_back(deliver());
    return out;
  }

  fs::path outbox_db() const { return hub_->data_dir() / "fleet-outbox.db"; }

  std::unique_ptr<FleetSubscriber> subscriber_;
  std::vector<std::string> sessions_;  // hex, in order of delivery
  std::vector<std::string> grants_;
  int alarms_raised_ = 0;
};

TEST_F(FleetOutbox, BrokerDownSlowAndHubKilled_NoLocalDelayNothingLost) {
  constexpr int kPerPhase = 5;
  start_hub(fleet_options());
  start_witness();
  subscriber_ = std::make_unique<FleetSubscriber>(broker_->port(), broker_->password("lk-fleet"));
  ASSERT_TRUE(demo::wait_until([&] { return subscriber_->connects() > 0; }, 5s));
  ASSERT_TRUE(wait_confirmed_now()) << "the witness never confirmed the log";

  // Baseline: the fleet broker up.
  const std::vector<int64_t> up = deliveries(kPerPhase);
  forced_open_alarm();
  ASSERT_FALSE(HasFailure());
  const int64_t bound_us = 3 * p50(up) + 50'000;

  // Slow: something accepts TCP on the broker's port and never answers.
  broker_->stop();
  std::vector<int64_t> slow;
  {
    SilentListener silent(broker_->port());
    ASSERT_TRUE(silent.ok()) << "cannot listen on the broker's port";
    slow = deliveries(kPerPhase);
    forced_open_alarm();
  }
  // Down: nothing listens.
  const std::vector<int64_t> down = deliveries(kPerPhase);
  forced_open_alarm();
  ASSERT_FALSE(HasFailure());
  std::cerr << "decision p50: broker up " << p50(up) << " us, silent " << p50(slow) << " us, down " << p50(down)
            << " us (bound " << bound_us << " us)\n";
  EXPECT_LE(p50(slow), bound_us) << "a silent fleet broker delayed local decisions";
  EXPECT_LE(p50(down), bound_us) << "a stopped fleet broker delayed local decisions";

  // Everything of the outage is on disk in the outbox; then SIGKILL.
  const int64_t expected_waiting = 2 * (kPerPhase + 1);
  EXPECT_TRUE(demo::wait_until(
      [&] { return outbox_query_int(outbox_db(), "SELECT COUNT(*) FROM rows") >= expected_waiting; }, 5s))
      << "the outbox holds " << outbox_query_int(outbox_db(), "SELECT COUNT(*) FROM rows") << " rows, expected at least "
      << expected_waiting;
  // One more delivery is under way (unlocked, the door not yet opened) when
  // the hub is killed: the restart ends it compromised (F2), and its outcome
  // still names its grant and courier (kept in the outbox from its opening).
  const client::MintedGrant cut_grant = grant("front");
  const client::UnlockAnswer cut = present("front", cut_grant);
  ASSERT_TRUE(cut.allowed) << cut.rule << " " << cut.error;
  ASSERT_TRUE(wait_door("front", "unlocked", "closed"));
  EXPECT_TRUE(demo::wait_until(
      [&] { return outbox_query_int(outbox_db(), "SELECT COUNT(*) FROM open_sessions") >= 1; }, 5s));
  hub_->kill();
  EXPECT_EQ(fs::status(outbox_db()).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  ASSERT_NO_FATAL_FAILURE(hub_->start());
  ASSERT_NO_FATAL_FAILURE(reconnect());

  // The broker returns: the subscriber (its persistent session kept) and the
  // hub reconnect; the witness confirms the restarted hub's log.
  broker_->start();
  ASSERT_TRUE(wait_confirmed_now()) << "the restarted hub was not confirmed";
  const std::size_t expected_sessions = sessions_.size();
  FleetReceived got;
  const bool complete = demo::wait_until([&] {
    got = decode(subscriber_->messages());
    return got.sessions.size() >= expected_sessions + 1 &&
           got.alarms.size() >= static_cast<std::size_t>(alarms_raised_) + 1 &&
           outbox_query_int(outbox_db(), "SELECT COUNT(*) FROM rows") == 0;
  }, 20s);
  EXPECT_TRUE(complete) << "received " << got.sessions.size() << " of " << expected_sessions + 1 << " sessions, "
                        << got.alarms.size() << " alarms (" << alarms_raised_ << " raised, and F2's); outbox rows left "
                        << outbox_query_int(outbox_db(), "SELECT COUNT(*) FROM rows");
  EXPECT_TRUE(got.problems.empty()) << got.problems.front();

  // Sequences 1..N, none missing (alarms and sessions share them).
  std::set<uint64_t> sequences;
  for (const auto& [seq, a] : got.alarms) sequences.insert(seq);
  for (const auto& [seq, s] : got.sessions) sequences.insert(seq);
  ASSERT_FALSE(sequences.empty());
  EXPECT_EQ(*sequences.begin(), 1u);
  EXPECT_EQ(*sequences.rbegin(), sequences.size()) << "a gap in the outbox sequences: something was lost";

  // Every delivery arrived as a completed session naming its grant and courier.
  std::map<std::string, fleet::SessionUp> by_session;
  for (const auto& [seq, s] : got.sessions) by_session[crypto::to_hex(s.session_id)] = s;
  for (std::size_t i = 0; i < sessions_.size(); ++i) {
    auto it = by_session.find(sessions_[i]);
    if (it == by_session.end()) {
      ADD_FAILURE() << "delivery " << i << " (session " << sessions_[i] << ") never reached the fleet";
      continue;
    }
    EXPECT_EQ(it->second.outcome, fleet::Outcome::kCompleted);
    EXPECT_EQ(it->second.rule, "U8");
    EXPECT_EQ(it->second.door, "front");
    EXPECT_EQ(crypto::to_hex(it->second.grant_id), grants_[i]);
    EXPECT_EQ(it->second.courier_id, "courier-1");
    EXPECT_GT(it->second.audit_seq, 0u);
    EXPECT_GT(it->second.started_wall_ms, 0);
    EXPECT_GE(it->second.ended_wall_ms, it->second.started_wall_ms);
  }
  // The session the SIGKILL cut: compromised by the restart (F2), with an F2 alarm.
  auto cut_it = by_session.find(cut.session);
  if (cut_it == by_session.end()) {
    ADD_FAILURE() << "the session cut by the SIGKILL never reached the fleet";
  } else {
    EXPECT_EQ(cut_it->second.outcome, fleet::Outcome::kCompromised);
    EXPECT_EQ(cut_it->second.rule, "F2");
    EXPECT_EQ(crypto::to_hex(cut_it->second.grant_id), crypto::to_hex(cut_grant.grant_id));
    EXPECT_EQ(cut_it->second.courier_id, "courier-1");
    EXPECT_GT(cut_it->second.started_wall_ms, 0);
  }
  EXPECT_TRUE(std::any_of(got.alarms.begin(), got.alarms.end(),
                          [](const auto& a) { return a.second.rule == "F2" && a.second.door == "front"; }))
      << "no F2 alarm for the session the restart closed";
  std::size_t u8_alarms = 0;
  for (const auto& [seq, a] : got.alarms)
    if (a.rule == "U8" && a.door == "back") ++u8_alarms;
  EXPECT_EQ(u8_alarms, static_cast<std::size_t>(alarms_raised_));

  // The newest checkpoint: the one in the hub's head file.
  EXPECT_TRUE(demo::wait_until([&] {
    got = decode(subscriber_->messages());
    const std::optional<audit::Checkpoint> head = audit::read_head_file(audit::head_file_path(hub_->audit_db()));
    return head && std::any_of(got.checkpoints.begin(), got.checkpoints.end(), [&](const audit::Checkpoint& c) {
             return c.size == head->size && c.head == head->head;
           });
  }, 10s)) << "the subscriber never received the hub's newest checkpoint";
  std::cerr << "received " << got.sessions.size() << " sessions, " << got.alarms.size() << " alarms, "
            << got.checkpoints.size() << " checkpoints, " << got.duplicates << " duplicates\n";
}

// The bound ([fleet] outbox_max_rows): with the broker away the oldest
// session outcomes are dropped, never an alarm, and one A1 alarm says so.
TEST_F(FleetOutbox, FullOutboxDropsOldestSessionsWithOneA1Alarm) {
  demo::SimHubOptions options = fleet_options();
  options.extra_config += "outbox_max_rows = 10\n";
  start_hub(options);
  start_witness();
  subscriber_ = std::make_unique<FleetSubscriber>(broker_->port(), broker_->password("lk-fleet"));
  ASSERT_TRUE(wait_confirmed_now());
  ASSERT_TRUE(demo::wait_until([&] { return outbox_query_int(outbox_db(), "SELECT COUNT(*) FROM rows") == 0; }, 5s));
  broker_->stop();
  deliveries(13);
  ASSERT_FALSE(HasFailure());
  const auto a1 = [&] {
    std::size_t n = 0;
    const auto alarms = api_->get("/v1/alarms").json()->getArray("alarms");
    for (std::size_t i = 0; i < alarms->size(); ++i) {
      const auto a = alarms->getObject(static_cast<unsigned>(i));
      if (text(a, "rule") == "A1" && text(a, "message").find("fleet outbox full") != std::string::npos) ++n;
    }
    return n;
  };
  ASSERT_TRUE(demo::wait_until([&] { return a1() > 0; }, 5s)) << api_->get("/v1/alarms").body;
  EXPECT_LE(outbox_query_int(outbox_db(), "SELECT COUNT(*) FROM rows"), 11) << "the bound, and the A1 alarm beyond it";
  deliveries(2);
  EXPECT_EQ(a1(), 1u) << "the overflow is one alarm, not one per dropped row";

  broker_->start();
  FleetReceived got;
  ASSERT_TRUE(demo::wait_until([&] {
    got = decode(subscriber_->messages());
    return outbox_query_int(outbox_db(), "SELECT COUNT(*) FROM rows") == 0 &&
           std::any_of(got.alarms.begin(), got.alarms.end(), [](const auto& a) { return a.second.rule == "A1"; });
  }, 20s)) << "the A1 alarm never reached the fleet";
  std::set<std::string> received;
  for (const auto& [seq, s] : got.sessions) received.insert(crypto::to_hex(s.session_id));
  EXPECT_TRUE(received.count(sessions_.back())) << "the newest session outcome was dropped";
  EXPECT_FALSE(received.count(sessions_.front())) << "the oldest session outcome was kept over newer ones";
}

}  // namespace
}  // namespace latchkey::tests
