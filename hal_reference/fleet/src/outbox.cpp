#include <latchkey/fleet/outbox.hpp>

#include <latchkey/fleet.pb.h>

#include <sqlite3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace latchkey::fleet {
namespace {

namespace pb = latchkey::fleet::v1;

constexpr int kKindAlarm = 1;
constexpr int kKindSession = 2;
// How often the worker asks may_drain() without being woken (the bridge's
// state may change without a callback).
constexpr auto kPoll = std::chrono::milliseconds(200);

std::string text(const crypto::Bytes& b) { return std::string(b.begin(), b.end()); }
crypto::Bytes bytes(const std::string& s) { return crypto::Bytes(s.begin(), s.end()); }

}  // namespace

std::string alarm_topic(std::string_view hub_id) { return "latchkey/fleet/v1/" + std::string(hub_id) + "/up/alarm"; }
std::string session_topic(std::string_view hub_id) {
  return "latchkey/fleet/v1/" + std::string(hub_id) + "/up/session";
}

std::string encode_alarm(std::string_view hub_id, uint64_t sequence, const AlarmUp& a) {
  pb::FleetAlarm m;
  m.set_hub_id(std::string(hub_id));
  m.set_sequence(sequence);
  m.set_rule(a.rule);
  m.set_door(a.door);
  m.set_text(a.text);
  m.set_raised_wall_ms(a.raised_wall_ms);
  m.set_alarm_id(a.alarm_id);
  m.set_camera(a.camera);
  return m.SerializeAsString();
}

std::variant<HubAlarm, std::string> decode_alarm(const uint8_t* data, std::size_t size) {
  pb::FleetAlarm m;
  if (!m.ParseFromArray(data, static_cast<int>(size))) return std::string("alarm: not a protobuf FleetAlarm");
  if (m.hub_id().empty()) return std::string("alarm: no hub_id");
  if (m.sequence() == 0) return std::string("alarm: sequence 0 (sequences start at 1)");
  HubAlarm out;
  out.hub_id = m.hub_id();
  out.sequence = m.sequence();
  out.alarm = AlarmUp{m.rule(), m.door(), m.camera(), m.text(), m.raised_wall_ms(), m.alarm_id()};
  return out;
}

std::string encode_session(std::string_view hub_id, uint64_t sequence, const SessionUp& s) {
  pb::SessionOutcome m;
  m.set_hub_id(std::string(hub_id));
  m.set_sequence(sequence);
  m.set_door(s.door);
  m.set_session_id(text(s.session_id));
  m.set_grant_id(text(s.grant_id));
  m.set_courier_id(s.courier_id);
  m.set_outcome(s.outcome == Outcome::kCompleted ? pb::SESSION_OUTCOME_COMPLETED : pb::SESSION_OUTCOME_COMPROMISED);
  m.set_rule(s.rule);
  m.set_detail(s.detail);
  m.set_started_wall_ms(s.started_wall_ms);
  m.set_ended_wall_ms(s.ended_wall_ms);
  m.set_audit_seq(s.audit_seq);
  return m.SerializeAsString();
}

std::variant<HubSession, std::string> decode_session(const uint8_t* data, std::size_t size) {
  pb::SessionOutcome m;
  if (!m.ParseFromArray(data, static_cast<int>(size))) return std::string("session: not a protobuf SessionOutcome");
  if (m.hub_id().empty()) return std::string("session: no hub_id");
  if (m.sequence() == 0) return std::string("session: sequence 0 (sequences start at 1)");
  HubSession out;
  out.hub_id = m.hub_id();
  out.sequence = m.sequence();
  SessionUp& s = out.session;
  s.door = m.door();
  s.session_id = bytes(m.session_id());
  s.grant_id = bytes(m.grant_id());
  s.courier_id = m.courier_id();
  if (m.outcome() == pb::SESSION_OUTCOME_COMPLETED) s.outcome = Outcome::kCompleted;
  else if (m.outcome() == pb::SESSION_OUTCOME_COMPROMISED) s.outcome = Outcome::kCompromised;
  else return "session: unknown outcome " + std::to_string(static_cast<int>(m.outcome()));
  s.rule = m.rule();
  s.detail = m.detail();
  s.started_wall_ms = m.started_wall_ms();
  s.ended_wall_ms = m.ended_wall_ms();
  s.audit_seq = m.audit_seq();
  return out;
}

// ---- The database ----

struct Outbox::Db {
  sqlite3* db = nullptr;
  std::string path;

  Db(const std::filesystem::path& file, int busy_timeout_ms) : path(file.string()) {
    // Created 0600 before SQLite opens it; its -wal and -shm take its mode.
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("fleet outbox " + path + ": cannot create: " + std::strerror(errno));
    ::fchmod(fd, 0600);
    ::close(fd);
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
      const std::string message = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close(db);
      throw std::runtime_error("fleet outbox " + path + ": cannot open: " + message);
    }
    try {
      exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
      sqlite3_busy_timeout(db, busy_timeout_ms);
      exec("CREATE TABLE IF NOT EXISTS rows(seq INTEGER PRIMARY KEY, kind INTEGER NOT NULL, topic TEXT NOT NULL, "
           "payload BLOB NOT NULL);"
           "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
           "CREATE TABLE IF NOT EXISTS checkpoint(id INTEGER PRIMARY KEY CHECK (id = 1), topic TEXT NOT NULL, "
           "payload BLOB NOT NULL);"
           "CREATE TABLE IF NOT EXISTS open_sessions(session BLOB PRIMARY KEY, grant_id BLOB NOT NULL, "
           "courier TEXT NOT NULL, started_ms INTEGER NOT NULL);"
           "INSERT OR IGNORE INTO meta(key, value) VALUES('next_seq', 1);");
    } catch (...) {
      sqlite3_close(db);
      throw;
    }
  }
  ~Db() { sqlite3_close(db); }

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("fleet outbox " + path + ": " + what + ": " + sqlite3_errmsg(db));
  }
  void exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error ? error : "unknown error";
      sqlite3_free(error);
      throw std::runtime_error("fleet outbox " + path + ": " + sql + ": " + message);
    }
  }
  struct Stmt {
    sqlite3_stmt* s = nullptr;
    const Db& db;
    Stmt(const Db& d, const char* sql) : db(d) {
      if (sqlite3_prepare_v2(d.db, sql, -1, &s, nullptr) != SQLITE_OK) d.fail(std::string("prepare ") + sql);
    }
    ~Stmt() { sqlite3_finalize(s); }
    Stmt& integer(int i, int64_t v) {
      sqlite3_bind_int64(s, i, v);
      return *this;
    }
    Stmt& text(int i, const std::string& v) {
      sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
      return *this;
    }
    Stmt& blob(int i, const std::string& v) {
      sqlite3_bind_blob(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
      return *this;
    }
    bool row() {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_ROW) return true;
      if (rc == SQLITE_DONE) return false;
      db.fail("step");
    }
    int64_t col_int(int i) const { return sqlite3_column_int64(s, i); }
    std::string col_text(int i) const {
      const auto* p = static_cast<const char*>(sqlite3_column_blob(s, i));
      return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : std::string();
    }
  };
  int64_t scalar(const char* sql) {
    Stmt q(*this, sql);
    return q.row() ? q.col_int(0) : 0;
  }
};

Outbox::Outbox(OutboxOptions options, OutboxHooks hooks)
    : options_(std::move(options)), hooks_(std::move(hooks)), db_(std::make_unique<Db>(options_.path, options_.busy_timeout_ms)) {
  if (options_.window == 0) throw std::runtime_error("fleet outbox: the in-flight window must be at least 1");
  // Counted once here; the worker keeps the counts from then on.
  rows_ = static_cast<std::size_t>(db_->scalar("SELECT COUNT(*) FROM rows"));
  checkpoint_stored_ = db_->scalar("SELECT COUNT(*) FROM checkpoint") > 0;
  stats_.rows = rows_;
  stats_.next_sequence = static_cast<uint64_t>(db_->scalar("SELECT value FROM meta WHERE key = 'next_seq'"));
  stats_.checkpoint_waiting = checkpoint_stored_;
  if (stats_.checkpoint_waiting) checkpoint_version_ = 1;  // kept from an earlier run, not sent yet
  thread_ = std::thread([this] { run(); });
}

Outbox::~Outbox() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Outbox::add_alarm(AlarmUp alarm) {
  Input in{Input::Kind::kAlarm, alarm_topic(options_.hub_id), {}, std::move(alarm), std::nullopt};
  std::lock_guard<std::mutex> lock(mutex_);
  queue_.push_back(std::move(in));
  woken_ = true;
  wake_.notify_all();
}

void Outbox::add_session(SessionUp session) {
  Input in{Input::Kind::kSession, session_topic(options_.hub_id), {}, std::nullopt, std::move(session)};
  std::lock_guard<std::mutex> lock(mutex_);
  queue_.push_back(std::move(in));
  woken_ = true;
  wake_.notify_all();
}

void Outbox::session_opened(SessionUp opened) {
  Input in{Input::Kind::kOpened, {}, {}, std::nullopt, std::move(opened)};
  std::lock_guard<std::mutex> lock(mutex_);
  queue_.push_back(std::move(in));
  woken_ = true;
  wake_.notify_all();
}

void Outbox::set_checkpoint(std::string encoded) {
  Input in{Input::Kind::kCheckpoint, "latchkey/fleet/v1/" + options_.hub_id + "/up/checkpoint", std::move(encoded),
           std::nullopt, std::nullopt};
  std::lock_guard<std::mutex> lock(mutex_);
  queue_.push_back(std::move(in));
  woken_ = true;
  wake_.notify_all();
}

void Outbox::allow_checkpoints() {
  std::lock_guard<std::mutex> lock(mutex_);
  checkpoints_allowed_ = true;
  woken_ = true;
  wake_.notify_all();
}

void Outbox::set_sender(OutboxSender sender) {
  std::lock_guard<std::mutex> lock(sender_mutex_);
  sender_ = std::move(sender);
  wake();
}

void Outbox::published(int mid) {
  std::lock_guard<std::mutex> lock(mutex_);
  acks_.push_back(mid);
  woken_ = true;
  wake_.notify_all();
}

void Outbox::connected() {
  std::lock_guard<std::mutex> lock(mutex_);
  reconnected_ = true;
  woken_ = true;
  wake_.notify_all();
}

void Outbox::wake() {
  std::lock_guard<std::mutex> lock(mutex_);
  woken_ = true;
  wake_.notify_all();
}

void Outbox::flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  const uint64_t target = ++queued_batches_;
  woken_ = true;
  wake_.notify_all();
  flushed_.wait(lock, [&] { return written_batches_ >= target || !thread_.joinable(); });
}

OutboxStats Outbox::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void Outbox::run() {
  using Clock = std::chrono::steady_clock;
  for (;;) {
    std::vector<Input> inputs;
    std::vector<int> acks;
    bool reconnected = false, stopping = false;
    uint64_t batch = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      Clock::time_point now = Clock::now();
      const bool backing_off = write_failures_ > 0 && now < retry_at_;
      const auto wait = backing_off ? std::min<Clock::duration>(kPoll, retry_at_ - now) : Clock::duration(kPoll);
      wake_.wait_for(lock, wait, [this] { return woken_ || stopping_; });
      woken_ = false;
      now = Clock::now();
      // After a failed write what is queued waits for its retry time (a
      // stop tries once more): new records must not hurry a failing disk.
      if (write_failures_ == 0 || now >= retry_at_ || stopping_) {
        inputs.swap(queue_);
        batch = queued_batches_;
      }
      acks.swap(acks_);
      reconnected = std::exchange(reconnected_, false);
      stopping = stopping_;
    }
    if (!inputs.empty()) {
      try {
        write(inputs);
        if (write_failures_ > 0 && hooks_.log)
          hooks_.log("[fleet] outbox: writing its database works again after " + std::to_string(write_failures_) +
                     " failed attempt(s); nothing was lost");
        write_failures_ = 0;
        retry_delay_ = std::chrono::milliseconds(0);
      } catch (const std::exception& e) {
        // Not lost: back at the front of the queue, in order, for the retry.
        // The sequence numbers were rolled back with the transaction.
        ++write_failures_;
        retry_delay_ = write_failures_ == 1 ? kWriteRetryFirst : std::min(retry_delay_ * 2, kWriteRetryMax);
        retry_at_ = Clock::now() + retry_delay_;
        const std::size_t count = inputs.size();
        {
          std::lock_guard<std::mutex> lock(mutex_);
          queue_.insert(queue_.begin(), std::make_move_iterator(inputs.begin()), std::make_move_iterator(inputs.end()));
        }
        batch = 0;  // not written: flush() keeps waiting
        if (hooks_.log)
          hooks_.log("[fleet] outbox: cannot write " + std::to_string(count) + " record(s) (failure " +
                     std::to_string(write_failures_) + " in a row), retrying in " +
                     std::to_string(retry_delay_.count()) + " ms: " + e.what());
        if (write_failures_ == kWriteFailuresToAlarm && hooks_.write_failing)
          hooks_.write_failing(write_failures_, e.what());
      }
    }
    try {
      acknowledge(acks);
    } catch (const std::exception& e) {
      if (hooks_.log) hooks_.log(std::string("[fleet] outbox: ") + e.what());
      // The rows stay in the database and in flight; their acknowledgements
      // are applied again next round. After a reconnect the message ids mean
      // nothing any more: the rows are sent again instead.
      if (!reconnected) {
        std::lock_guard<std::mutex> lock(mutex_);
        acks_.insert(acks_.begin(), acks.begin(), acks.end());
      }
    }
    {
      // The counts first: whoever flush() waited sees them current.
      std::lock_guard<std::mutex> lock(mutex_);
      stats_.rows = rows_;
      stats_.checkpoint_waiting = checkpoint_stored_;
      written_batches_ = std::max(written_batches_, batch);
    }
    flushed_.notify_all();
    if (stopping) break;
    if (reconnected) {
      // What was sent and not acknowledged goes again (at least once).
      in_flight_.clear();
      checkpoint_mids_.clear();
      sent_up_to_ = 0;
      checkpoint_sent_version_ = 0;
    }
    try {
      drain();
    } catch (const std::exception& e) {
      if (hooks_.log) hooks_.log(std::string("[fleet] outbox: ") + e.what());
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stats_.in_flight = in_flight_.size();
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (!queue_.empty() && hooks_.log)
    hooks_.log("[fleet] outbox: stopping with " + std::to_string(queue_.size()) +
               " record(s) that could not be written to its database");
  written_batches_ = queued_batches_;
  flushed_.notify_all();
}

// The broker's acknowledgements: their rows leave the database, and leave
// the in-flight map only once that is committed.
void Outbox::acknowledge(std::vector<int>& acks) {
  if (acks.empty()) return;
  std::size_t deleted = 0;
  bool checkpoint_deleted = false;
  db_->exec("BEGIN IMMEDIATE");
  try {
    for (int mid : acks) {
      if (auto it = in_flight_.find(mid); it != in_flight_.end()) {
        Db::Stmt(*db_, "DELETE FROM rows WHERE seq = ?1").integer(1, static_cast<int64_t>(it->second)).row();
        deleted += static_cast<std::size_t>(sqlite3_changes(db_->db));
      } else if (auto c = checkpoint_mids_.find(mid); c != checkpoint_mids_.end()) {
        // Deleted only when it is still the newest: a newer one waits to be sent.
        if (c->second == checkpoint_version_) {
          Db::Stmt(*db_, "DELETE FROM checkpoint").row();
          checkpoint_deleted = checkpoint_deleted || sqlite3_changes(db_->db) > 0;
        }
      }
    }
    db_->exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_->db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  for (int mid : acks) {
    in_flight_.erase(mid);
    checkpoint_mids_.erase(mid);
  }
  acks.clear();
  rows_ -= std::min(rows_, deleted);
  if (checkpoint_deleted) checkpoint_stored_ = false;
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.acknowledged += deleted;
}

// One transaction for everything queued since the last round: one fsync.
// Throws, with the transaction rolled back, when SQLite fails; the caller
// keeps the inputs.
void Outbox::write(std::vector<Input>& inputs) {
  if (inputs.empty()) return;
  db_->exec("BEGIN IMMEDIATE");
  std::size_t rows = rows_;
  std::size_t dropped = 0;
  uint64_t next = 0;
  bool checkpoint = false;
  try {
    next = static_cast<uint64_t>(db_->scalar("SELECT value FROM meta WHERE key = 'next_seq'"));
    for (Input& in : inputs) {
      if (in.kind == Input::Kind::kCheckpoint) {
        Db::Stmt(*db_, "INSERT OR REPLACE INTO checkpoint(id, topic, payload) VALUES(1, ?1, ?2)")
            .text(1, in.topic)
            .blob(2, in.body)
            .row();
        checkpoint = true;
        continue;
      }
      if (in.kind == Input::Kind::kOpened) {
        const SessionUp& s = *in.session;
        Db::Stmt(*db_, "INSERT OR REPLACE INTO open_sessions(session, grant_id, courier, started_ms) "
                       "VALUES(?1, ?2, ?3, ?4)")
            .blob(1, text(s.session_id))
            .blob(2, text(s.grant_id))
            .text(3, s.courier_id)
            .integer(4, s.started_wall_ms)
            .row();
        Db::Stmt(*db_, "DELETE FROM open_sessions WHERE session NOT IN "
                       "(SELECT session FROM open_sessions ORDER BY started_ms DESC LIMIT 1000)")
            .row();
        continue;
      }
      if (in.kind == Input::Kind::kSession) {
        SessionUp& s = *in.session;
        {
          Db::Stmt q(*db_, "SELECT grant_id, courier, started_ms FROM open_sessions WHERE session = ?1");
          q.blob(1, text(s.session_id));
          if (q.row() && s.grant_id.empty()) {
            s.grant_id = bytes(q.col_text(0));
            s.courier_id = q.col_text(1);
            s.started_wall_ms = q.col_int(2);
          }
        }
        Db::Stmt(*db_, "DELETE FROM open_sessions WHERE session = ?1").blob(1, text(s.session_id)).row();
      }
      const uint64_t seq = next++;
      const std::string payload = in.kind == Input::Kind::kAlarm ? encode_alarm(options_.hub_id, seq, *in.alarm)
                                                                 : encode_session(options_.hub_id, seq, *in.session);
      Db::Stmt(*db_, "INSERT INTO rows(seq, kind, topic, payload) VALUES(?1, ?2, ?3, ?4)")
          .integer(1, static_cast<int64_t>(seq))
          .integer(2, in.kind == Input::Kind::kAlarm ? kKindAlarm : kKindSession)
          .text(3, in.topic)
          .blob(4, payload)
          .row();
      ++rows;
    }
    Db::Stmt(*db_, "UPDATE meta SET value = ?1 WHERE key = 'next_seq'").integer(1, static_cast<int64_t>(next)).row();
    dropped = enforce_bound(rows);
    db_->exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_->db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  rows_ = rows - dropped;
  if (checkpoint) {
    ++checkpoint_version_;
    checkpoint_stored_ = true;
  }
  uint64_t total = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.next_sequence = next;
    total = stats_.dropped += dropped;
  }
  if (dropped == 0) return;
  if (hooks_.log)
    hooks_.log("[fleet] outbox full (" + std::to_string(options_.max_rows) + " rows): dropped the " +
               std::to_string(dropped) + " oldest session outcome(s), " + std::to_string(total) + " this run");
  if (!overflow_reported_ && hooks_.overflow) hooks_.overflow(total, options_.max_rows);
  overflow_reported_ = true;
}

// Inside write()'s transaction. Full: the oldest session outcomes go; alarms
// and the checkpoint stay.
std::size_t Outbox::enforce_bound(std::size_t rows) {
  if (rows <= options_.max_rows) {
    if (rows < options_.max_rows / 2) overflow_reported_ = false;
    return 0;
  }
  Db::Stmt(*db_, "DELETE FROM rows WHERE seq IN (SELECT seq FROM rows WHERE kind = ?1 ORDER BY seq LIMIT ?2)")
      .integer(1, kKindSession)
      .integer(2, static_cast<int64_t>(rows - options_.max_rows))
      .row();
  return static_cast<std::size_t>(sqlite3_changes(db_->db));
}

void Outbox::drain() {
  std::lock_guard<std::mutex> sending(sender_mutex_);
  if (!sender_.send || !sender_.may_drain || !sender_.may_drain()) return;
  bool allowed = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    allowed = checkpoints_allowed_;
  }
  // The checkpoint first: it is one message and the witness's window (docs/fleet.md).
  if (allowed && checkpoint_version_ != checkpoint_sent_version_) {
    Db::Stmt q(*db_, "SELECT topic, payload FROM checkpoint WHERE id = 1");
    if (q.row()) {
      if (std::optional<int> mid = sender_.send(q.col_text(0), q.col_text(1))) {
        checkpoint_mids_[*mid] = checkpoint_version_;
        checkpoint_sent_version_ = checkpoint_version_;
      }
    } else {
      checkpoint_sent_version_ = checkpoint_version_;
    }
  }
  if (in_flight_.size() >= options_.window) return;
  Db::Stmt q(*db_, "SELECT seq, topic, payload FROM rows WHERE seq > ?1 ORDER BY seq LIMIT ?2");
  q.integer(1, static_cast<int64_t>(sent_up_to_)).integer(2, static_cast<int64_t>(options_.window - in_flight_.size()));
  while (q.row()) {
    const auto seq = static_cast<uint64_t>(q.col_int(0));
    const std::optional<int> mid = sender_.send(q.col_text(1), q.col_text(2));
    if (!mid) return;  // not connected after all: tried again on the next round
    in_flight_[*mid] = seq;
    sent_up_to_ = seq;
  }
}

}  // namespace latchkey::fleet
