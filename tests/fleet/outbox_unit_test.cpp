// fleet::Outbox on its own (docs/fleet.md "Alarms and sessions up: the
// outbox"): the test plays the MQTT link - it says whether the link may
// drain, takes what is sent, and acknowledges message ids when it chooses.
// The database is real SQLite in a scratch folder.
#include <latchkey/fleet/outbox.hpp>
#include <latchkey/fleet/protocol.hpp>

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace latchkey::fleet {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

// The link as the outbox sees it.
struct FakeLink {
  std::mutex mutex;
  std::atomic<bool> up{false};
  int next_mid = 1;
  struct Sent {
    int mid;
    std::string topic;
    std::string payload;
  };
  std::vector<Sent> sent;

  OutboxSender sender() {
    OutboxSender s;
    s.may_drain = [this] { return up.load(); };
    s.send = [this](const std::string& topic, const std::string& payload) -> std::optional<int> {
      if (!up) return std::nullopt;
      std::lock_guard<std::mutex> lock(mutex);
      sent.push_back({next_mid, topic, payload});
      return next_mid++;
    };
    return s;
  }
  std::vector<Sent> take() {
    std::lock_guard<std::mutex> lock(mutex);
    return std::exchange(sent, {});
  }
  std::size_t count() {
    std::lock_guard<std::mutex> lock(mutex);
    return sent.size();
  }
};

AlarmUp alarm(const std::string& text) { return AlarmUp{"I3", "front", "porch", text, 1000, 7}; }
SessionUp session(uint64_t audit_seq) {
  SessionUp s;
  s.door = "front";
  s.session_id = crypto::Bytes(16, 0x11);
  s.grant_id = crypto::Bytes(16, 0x22);
  s.courier_id = "courier-1";
  s.outcome = Outcome::kCompleted;
  s.rule = "U8";
  s.audit_seq = audit_seq;
  s.started_wall_ms = 10;
  s.ended_wall_ms = 20;
  return s;
}

uint64_t sequence_of(const FakeLink::Sent& s) {
  const auto* data = reinterpret_cast<const uint8_t*>(s.payload.data());
  if (s.topic == alarm_topic("hub-1")) {
    auto a = decode_alarm(data, s.payload.size());
    return std::holds_alternative<HubAlarm>(a) ? std::get<HubAlarm>(a).sequence : 0;
  }
  auto x = decode_session(data, s.payload.size());
  return std::holds_alternative<HubSession>(x) ? std::get<HubSession>(x).sequence : 0;
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(LATCHKEY_FLEET_TEST_DIR) / ("outbox-" + std::to_string(::getpid()) + "-" +
                                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Outbox> open(std::size_t max_rows = 1000, std::size_t window = 4, int busy_timeout_ms = 5'000) {
    OutboxOptions o;
    o.path = dir_ / "fleet-outbox.db";
    o.hub_id = "hub-1";
    o.max_rows = max_rows;
    o.window = window;
    o.busy_timeout_ms = busy_timeout_ms;
    OutboxHooks h;
    h.log = [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(log_mutex_);
      log_.push_back(line);
    };
    h.write_failing = [this](int failures, const std::string& error) {
      write_failing_++;
      std::lock_guard<std::mutex> lock(log_mutex_);
      write_failing_error_ = std::to_string(failures) + ": " + error;
    };
    h.overflow = [this](uint64_t dropped, std::size_t) {
      overflows_++;
      last_dropped_ = dropped;
    };
    return std::make_unique<Outbox>(o, h);
  }

  bool logged(const std::string& part) {
    std::lock_guard<std::mutex> lock(log_mutex_);
    for (const auto& line : log_)
      if (line.find(part) != std::string::npos) return true;
    return false;
  }

  // Another connection holding the database's write lock: the outbox's
  // writes fail with SQLITE_BUSY once its busy timeout passes.
  struct WriteLock {
    sqlite3* db = nullptr;
    explicit WriteLock(const fs::path& path) {
      EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
      EXPECT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    }
    void release() {
      if (!db) return;
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      sqlite3_close(db);
      db = nullptr;
    }
    ~WriteLock() { release(); }
  };

  fs::path dir_;
  std::mutex log_mutex_;
  std::vector<std::string> log_;
  std::atomic<int> write_failing_{0};
  std::string write_failing_error_;
  FakeLink link_;
  std::atomic<int> overflows_{0};
  std::atomic<uint64_t> last_dropped_{0};
};

TEST_F(OutboxTest, MessagesRoundTripAndBadOnesAreNamed) {
  const std::string a = encode_alarm("hub-1", 3, alarm("camera froze"));
  auto da = decode_alarm(reinterpret_cast<const uint8_t*>(a.data()), a.size());
  ASSERT_TRUE(std::holds_alternative<HubAlarm>(da));
  EXPECT_EQ(std::get<HubAlarm>(da).sequence, 3u);
  EXPECT_EQ(std::get<HubAlarm>(da).alarm.text, "camera froze");
  EXPECT_EQ(std::get<HubAlarm>(da).alarm.alarm_id, 7u);
  const std::string s = encode_session("hub-1", 4, session(99));
  auto ds = decode_session(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  ASSERT_TRUE(std::holds_alternative<HubSession>(ds));
  EXPECT_EQ(std::get<HubSession>(ds).session.audit_seq, 99u);
  EXPECT_EQ(std::get<HubSession>(ds).session.courier_id, "courier-1");
  const std::string zero = encode_alarm("hub-1", 0, alarm("x"));
  auto bad = decode_alarm(reinterpret_cast<const uint8_t*>(zero.data()), zero.size());
  ASSERT_TRUE(std::holds_alternative<std::string>(bad));
  EXPECT_NE(std::get<std::string>(bad).find("sequence 0"), std::string::npos);
  const uint8_t garbage[] = {0xff, 0xff, 0xff};
  auto g = decode_session(garbage, sizeof garbage);
  ASSERT_TRUE(std::holds_alternative<std::string>(g));
  EXPECT_NE(std::get<std::string>(g).find("not a protobuf SessionOutcome"), std::string::npos);
  EXPECT_EQ(alarm_topic("hub-1"), "latchkey/fleet/v1/hub-1/up/alarm");
  EXPECT_EQ(session_topic("hub-1"), "latchkey/fleet/v1/hub-1/up/session");
}

TEST_F(OutboxTest, RowsStayUntilAcknowledgedAndSequencesNeverGoBack) {
  {
    auto box = open();
    box->set_sender(link_.sender());
    box->add_alarm(alarm("one"));
    box->add_session(session(5));
    box->flush();
    EXPECT_EQ(box->stats().rows, 2u);
    struct stat st{};
    ASSERT_EQ(::stat((dir_ / "fleet-outbox.db").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    link_.up = true;
    box->wake();
    ASSERT_TRUE(wait_until([&] { return link_.count() == 2; }));
    const auto sent = link_.take();
    EXPECT_EQ(sequence_of(sent[0]), 1u);
    EXPECT_EQ(sequence_of(sent[1]), 2u);
    box->published(sent[0].mid);  // only the first is acknowledged
    ASSERT_TRUE(wait_until([&] { return box->stats().rows == 1; }));
  }
  // Reopened (a restart): the unacknowledged row is still there and goes
  // again; the next new one continues the sequence.
  auto box = open();
  EXPECT_EQ(box->stats().rows, 1u);
  box->set_sender(link_.sender());
  ASSERT_TRUE(wait_until([&] { return link_.count() == 1; }));
  auto sent = link_.take();
  EXPECT_EQ(sequence_of(sent[0]), 2u);
  box->published(sent[0].mid);
  ASSERT_TRUE(wait_until([&] { return box->stats().rows == 0; }));
  box->add_alarm(alarm("three"));
  ASSERT_TRUE(wait_until([&] { return link_.count() == 1; }));
  sent = link_.take();
  EXPECT_EQ(sequence_of(sent[0]), 3u) << "a sequence was reused after every row was delivered";
}

TEST_F(OutboxTest, UnacknowledgedAreSentAgainAfterAReconnectWithinTheWindow) {
  auto box = open(1000, 2);
  link_.up = true;
  box->set_sender(link_.sender());
  for (int i = 0; i < 5; ++i) box->add_alarm(alarm("a" + std::to_string(i)));
  ASSERT_TRUE(wait_until([&] { return link_.count() == 2; }));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(link_.count(), 2u) << "more in flight than the window";
  auto sent = link_.take();
  // The connection is lost before any PUBACK; after the reconnect the same
  // two go again (at least once), then the rest as acknowledgements come.
  box->connected();
  ASSERT_TRUE(wait_until([&] { return link_.count() == 2; }));
  sent = link_.take();
  EXPECT_EQ(sequence_of(sent[0]), 1u);
  EXPECT_EQ(sequence_of(sent[1]), 2u);
  std::vector<uint64_t> seen{1, 2};
  for (const auto& s : sent) box->published(s.mid);
  while (seen.size() < 5) {
    ASSERT_TRUE(wait_until([&] { return link_.count() > 0; })) << "stalled after " << seen.size();
    for (const auto& s : link_.take()) {
      seen.push_back(sequence_of(s));
      box->published(s.mid);
    }
  }
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  ASSERT_TRUE(wait_until([&] { return box->stats().rows == 0; }));
}

TEST_F(OutboxTest, FullDropsOldestSessionsNeverAlarmsAndSaysSoOnce) {
  auto box = open(10);
  box->add_alarm(alarm("kept"));
  for (uint64_t i = 1; i <= 15; ++i) box->add_session(session(i));
  box->add_alarm(alarm("kept too"));
  box->flush();
  const OutboxStats s = box->stats();
  EXPECT_EQ(s.rows, 10u);
  EXPECT_EQ(s.dropped, 7u);
  ASSERT_TRUE(wait_until([&] { return overflows_.load() == 1; }));
  box->add_session(session(16));
  box->flush();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(overflows_.load(), 1) << "the overflow is reported once, not for every row";
  link_.up = true;
  box->set_sender(link_.sender());
  std::vector<FakeLink::Sent> all;
  while (all.size() < 10) {
    ASSERT_TRUE(wait_until([&] { return link_.count() > 0; }));
    for (auto& m : link_.take()) {
      box->published(m.mid);
      all.push_back(m);
    }
  }
  std::size_t alarms = 0;
  for (const auto& m : all) alarms += m.topic == alarm_topic("hub-1");
  EXPECT_EQ(alarms, 2u) << "an alarm was dropped";
  // The sessions left are the newest ones.
  EXPECT_EQ(sequence_of(all.back()), 18u);
}

TEST_F(OutboxTest, CheckpointWaitsForConfirmationAndOnlyTheNewestGoes) {
  auto box = open();
  link_.up = true;
  box->set_sender(link_.sender());
  box->set_checkpoint("old");
  box->set_checkpoint("new");
  box->flush();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(link_.count(), 0u) << "a checkpoint went before the witness confirmed the log";
  EXPECT_TRUE(box->stats().checkpoint_waiting);
  box->allow_checkpoints();
  ASSERT_TRUE(wait_until([&] { return link_.count() == 1; }));
  auto sent = link_.take();
  EXPECT_EQ(sent[0].payload, "new");
  EXPECT_EQ(sent[0].topic, topic("hub-1", Channel::kCheckpoint));
  // A newer one arrives before the PUBACK of the older: the older's
  // acknowledgement does not delete the newer.
  box->set_checkpoint("newer");
  ASSERT_TRUE(wait_until([&] { return link_.count() == 1; }));
  box->published(sent[0].mid);
  sent = link_.take();
  EXPECT_EQ(sent[0].payload, "newer");
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(box->stats().checkpoint_waiting);
  box->published(sent[0].mid);
  ASSERT_TRUE(wait_until([&] { return !box->stats().checkpoint_waiting; }));
}

TEST_F(OutboxTest, AnOpenedSessionNamesItsGrantInAnOutcomeAfterARestart) {
  {
    auto box = open();
    SessionUp opened = session(0);
    opened.started_wall_ms = 1234;
    box->session_opened(opened);
    box->flush();
  }
  auto box = open();  // the hub restarted; the session ends compromised (F2)
  SessionUp ended;
  ended.door = "front";
  ended.session_id = crypto::Bytes(16, 0x11);
  ended.outcome = Outcome::kCompromised;
  ended.rule = "F2";
  ended.audit_seq = 40;
  box->add_session(ended);
  link_.up = true;
  box->set_sender(link_.sender());
  ASSERT_TRUE(wait_until([&] { return link_.count() == 1; }));
  const auto sent = link_.take();
  auto d = decode_session(reinterpret_cast<const uint8_t*>(sent[0].payload.data()), sent[0].payload.size());
  ASSERT_TRUE(std::holds_alternative<HubSession>(d));
  const SessionUp& s = std::get<HubSession>(d).session;
  EXPECT_EQ(s.grant_id, crypto::Bytes(16, 0x22));
  EXPECT_EQ(s.courier_id, "courier-1");
  EXPECT_EQ(s.started_wall_ms, 1234);
  EXPECT_EQ(s.rule, "F2");
  EXPECT_EQ(s.audit_seq, 40u);
}

// A write that fails (here the database is locked by another connection)
// loses nothing: the records wait in memory, in order, and are written with
// contiguous sequences once the database can be written again. Three
// failures in a row raise one alarm through the hook; the recovery is logged.
TEST_F(OutboxTest, AFailedWriteIsRetriedInOrderAndAlarmsOnce) {
  auto box = open(1000, 64, 50);
  link_.up = true;
  box->set_sender(link_.sender());
  box->add_alarm(alarm("before"));
  box->flush();
  ASSERT_TRUE(wait_until([&] { return link_.count() == 1; }));
  std::vector<FakeLink::Sent> all = link_.take();
  box->published(all[0].mid);
  ASSERT_TRUE(wait_until([&] { return box->stats().rows == 0; }));

  WriteLock lock(dir_ / "fleet-outbox.db");
  for (int i = 0; i < 4; ++i) {
    box->add_alarm(alarm("held " + std::to_string(i)));
    box->add_session(session(100 + static_cast<uint64_t>(i)));
  }
  ASSERT_TRUE(wait_until([&] { return write_failing_.load() == 1; }, 10s)) << "no alarm after repeated failures";
  {
    std::lock_guard<std::mutex> l(log_mutex_);
    EXPECT_EQ(write_failing_error_.rfind("3: ", 0), 0u) << write_failing_error_;
  }
  EXPECT_TRUE(logged("cannot write 8 record(s)"));
  box->add_alarm(alarm("during"));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(link_.count(), 0u) << "something was sent that is not in the database";
  EXPECT_EQ(box->stats().rows, 0u);
  EXPECT_EQ(box->stats().next_sequence, 2u) << "a failed write used up sequences";
  lock.release();

  box->flush();  // returns once the retried batch is on disk
  EXPECT_EQ(box->stats().rows + box->stats().acknowledged, 10u);
  EXPECT_TRUE(logged("works again"));
  while (all.size() < 10) {
    ASSERT_TRUE(wait_until([&] { return link_.count() > 0; })) << "stalled after " << all.size();
    for (auto& m : link_.take()) {
      box->published(m.mid);
      all.push_back(m);
    }
  }
  std::vector<std::string> order;
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(sequence_of(all[i]), i + 1) << "sequences are not contiguous";
    const auto* data = reinterpret_cast<const uint8_t*>(all[i].payload.data());
    if (all[i].topic == alarm_topic("hub-1"))
      order.push_back(std::get<HubAlarm>(decode_alarm(data, all[i].payload.size())).alarm.text);
    else
      order.push_back("session " +
                      std::to_string(std::get<HubSession>(decode_session(data, all[i].payload.size())).session.audit_seq));
  }
  EXPECT_EQ(order, (std::vector<std::string>{"before", "held 0", "session 100", "held 1", "session 101", "held 2",
                                             "session 102", "held 3", "session 103", "during"}));
  ASSERT_TRUE(wait_until([&] { return box->stats().rows == 0; }));
  EXPECT_EQ(write_failing_.load(), 1) << "the alarm is raised once per episode";
}

// An acknowledgement whose DELETE cannot commit is applied again later: the
// row leaves the database without waiting for a reconnect.
TEST_F(OutboxTest, AnAcknowledgementThatCannotCommitIsAppliedLater) {
  auto box = open(1000, 4, 50);
  link_.up = true;
  box->set_sender(link_.sender());
  box->add_alarm(alarm("one"));
  ASSERT_TRUE(wait_until([&] { return link_.count() == 1; }));
  const auto sent = link_.take();
  {
    WriteLock lock(dir_ / "fleet-outbox.db");
    box->published(sent[0].mid);
    ASSERT_TRUE(wait_until([&] { return logged("database is locked"); }));
  }
  ASSERT_TRUE(wait_until([&] { return box->stats().rows == 0; }, 3s)) << "the acknowledged row stayed";
  EXPECT_EQ(box->stats().acknowledged, 1u);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(link_.count(), 0u) << "an acknowledged row was sent again";
}

TEST_F(OutboxTest, UnopenableFileIsNamed) {
  OutboxOptions o;
  o.path = dir_ / "missing-folder" / "fleet-outbox.db";
  o.hub_id = "hub-1";
  try {
    Outbox box(o, {});
    FAIL() << "opened a file in a folder that does not exist";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing-folder/fleet-outbox.db"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace latchkey::fleet
