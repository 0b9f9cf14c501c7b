// The hub's durable outbox to the fleet broker (docs/fleet.md, "Alarms and
// sessions up: the outbox"; issue 17 points 3 and 5): every alarm, every
// ended session and the newest confirmed audit checkpoint is written to
// SQLite (`<data_dir>/fleet-outbox.db`, mode 0600, WAL, synchronous=FULL)
// and deleted only once the broker acknowledged it (QoS 1 PUBACK).
//
// Alarms and session outcomes share one sequence per hub (1, 2, ...), kept in
// the database so that it never goes back, not even after every row was
// delivered and deleted or after a restart. Checkpoints take no sequence: the
// outbox keeps only the newest one (a new one replaces an unsent older one).
//
// Threads: the add_*() calls only queue in memory and return (the hub's loop
// never waits for the disk or the broker); a worker thread of the outbox's own
// writes the queue in one transaction, then sends what the window allows
// through the Sender. `published` and `connected` may be called from any
// thread (the MQTT link's).
//
// Delivery is at least once: whatever was sent and not acknowledged when the
// connection was lost is sent again after the next (re)connect, so a receiver
// may see a message twice and drops it by (hub_id, sequence).
#ifndef LATCHKEY_FLEET_OUTBOX_HPP
#define LATCHKEY_FLEET_OUTBOX_HPP

#include <latchkey/crypto/crypto.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

namespace latchkey::fleet {

// latchkey/fleet/v1/<hub_id>/up/alarm and .../up/session
std::string alarm_topic(std::string_view hub_id);
std::string session_topic(std::string_view hub_id);

// ---- FleetAlarm ----
struct AlarmUp {
  std::string rule;          // "I3"
  std::string door;
  std::string camera;
  std::string text;
  int64_t raised_wall_ms = 0;
  uint64_t alarm_id = 0;     // as GET /v1/alarms shows it
};
struct HubAlarm {
  std::string hub_id;
  uint64_t sequence = 0;
  AlarmUp alarm;
};
std::string encode_alarm(std::string_view hub_id, uint64_t sequence, const AlarmUp& alarm);
std::variant<HubAlarm, std::string> decode_alarm(const uint8_t* data, std::size_t size);

// ---- SessionOutcome ----
enum class Outcome { kCompleted, kCompromised };
struct SessionUp {
  std::string door;
  crypto::Bytes session_id;  // 16 bytes
  crypto::Bytes grant_id;    // 16 bytes, or empty when not known
  std::string courier_id;
  Outcome outcome = Outcome::kCompleted;
  std::string rule;
  std::string detail;
  int64_t started_wall_ms = 0;
  int64_t ended_wall_ms = 0;
  uint64_t audit_seq = 0;
};
struct HubSession {
  std::string hub_id;
  uint64_t sequence = 0;
  SessionUp session;
};
std::string encode_session(std::string_view hub_id, uint64_t sequence, const SessionUp& session);
std::variant<HubSession, std::string> decode_session(const uint8_t* data, std::size_t size);

// ---- The outbox ----
inline constexpr std::size_t kDefaultOutboxRows = 100'000;
inline constexpr std::size_t kDefaultOutboxWindow = 32;

struct OutboxOptions {
  std::filesystem::path path;        // <data_dir>/fleet-outbox.db
  std::string hub_id;
  // Alarms and session outcomes kept at most; when full the oldest session
  // outcomes go first. Alarms and the checkpoint are never dropped, so
  // alarms alone may exceed it (they are few).
  std::size_t max_rows = kDefaultOutboxRows;
  std::size_t window = kDefaultOutboxWindow;  // sent and not yet acknowledged, at most
  // How long a write waits for another holder of the database's lock before
  // it counts as failed (and is retried).
  int busy_timeout_ms = 5'000;
};

// How the worker reaches the broker. Both are called on the worker thread.
struct OutboxSender {
  // "May I drain now": the one place that says whether the fleet link can
  // carry messages (today: connected to the fleet broker).
  std::function<bool()> may_drain;
  // Publishes at QoS 1; the message id the link's `published` will report,
  // or nullopt when it was not sent (tried again later).
  std::function<std::optional<int>(const std::string& topic, const std::string& payload)> send;
};

struct OutboxHooks {
  std::function<void(const std::string& line)> log;  // for people (info)
  // The outbox was full and dropped session outcomes: called once when it
  // first drops (and again only after it had drained below half).
  std::function<void(uint64_t dropped, std::size_t max_rows)> overflow;
  // The database write failed kWriteFailuresToAlarm times in a row (disk
  // full, I/O error, locked): called once per episode with the count and the
  // last error. What was queued stays queued, in order, and is retried with
  // back-off; the first success after it is logged.
  std::function<void(int failures, const std::string& error)> write_failing;
};

inline constexpr int kWriteFailuresToAlarm = 3;
// A failed write is retried after 100 ms, doubling to at most 5 s.
inline constexpr std::chrono::milliseconds kWriteRetryFirst{100};
inline constexpr std::chrono::milliseconds kWriteRetryMax{5'000};

struct OutboxStats {
  std::size_t rows = 0;          // alarms and session outcomes waiting (the checkpoint not counted)
  bool checkpoint_waiting = false;
  uint64_t next_sequence = 1;
  std::size_t in_flight = 0;
  uint64_t acknowledged = 0;     // this run
  uint64_t dropped = 0;          // this run
};

class Outbox {
 public:
  // Opens or creates the database (mode 0600) and starts the worker. Throws
  // std::runtime_error naming the file and what was wrong.
  Outbox(OutboxOptions options, OutboxHooks hooks);
  ~Outbox();  // writes what is queued, stops the worker
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  void add_alarm(AlarmUp alarm);
  // A session opened: its grant, courier and start, kept in the database
  // until it ends (at most 1000, the oldest forgotten first), so that its
  // outcome names them even when a restart ended it (F2).
  void session_opened(SessionUp opened);
  // A session ended. An empty grant_id is filled in from session_opened,
  // also from an earlier run.
  void add_session(SessionUp session);
  // The newest audit checkpoint (an encoded AuditCheckpoint); replaces the
  // one waiting. Sent only once allow_checkpoints() was called in this run.
  void set_checkpoint(std::string encoded);
  // The witness confirmed the log (docs/fleet.md): a checkpoint kept from
  // an earlier run may go too.
  void allow_checkpoints();

  // The sender to use from now on; an empty one stops sending (the call
  // returns once the worker no longer uses the previous one).
  void set_sender(OutboxSender sender);
  void published(int mid);  // the broker acknowledged this message id
  void connected();         // a (re)connect: send again what was not acknowledged
  void wake();              // may_drain may have changed

  // Blocks until what was queued before the call is on disk (tests, shutdown).
  void flush();
  OutboxStats stats() const;

 private:
  struct Db;
  struct Input {
    enum class Kind { kAlarm, kSession, kCheckpoint, kOpened } kind;
    std::string topic;
    std::string body;  // alarm / session: encoded without sequence (filled by the worker); checkpoint: as sent
    std::optional<AlarmUp> alarm;
    std::optional<SessionUp> session;
  };
  void run();
  void write(std::vector<Input>& inputs);
  // Inside write()'s transaction, with the rows the table will hold; returns
  // how many session outcomes it dropped.
  std::size_t enforce_bound(std::size_t rows);
  void acknowledge(std::vector<int>& acks);
  void drain();

  const OutboxOptions options_;
  const OutboxHooks hooks_;
  std::unique_ptr<Db> db_;

  mutable std::mutex mutex_;  // everything below up to the worker's own state
  std::condition_variable wake_;
  std::condition_variable flushed_;
  std::vector<Input> queue_;
  std::vector<int> acks_;
  bool reconnected_ = false;
  bool checkpoints_allowed_ = false;
  bool stopping_ = false;
  bool woken_ = false;
  uint64_t queued_batches_ = 0, written_batches_ = 0;
  OutboxStats stats_;

  std::mutex sender_mutex_;   // held by the worker while it sends
  OutboxSender sender_;

  // The worker's own state.
  std::map<int, uint64_t> in_flight_;  // mid -> sequence
  std::map<int, uint64_t> checkpoint_mids_;  // mid -> checkpoint version
  uint64_t sent_up_to_ = 0;            // every row up to this sequence was sent since the last connect
  uint64_t checkpoint_version_ = 0;    // bumped by each set_checkpoint written
  uint64_t checkpoint_sent_version_ = 0;
  bool overflow_reported_ = false;
  // Kept by the worker (counted once at open), not counted again each round.
  std::size_t rows_ = 0;
  bool checkpoint_stored_ = false;
  int write_failures_ = 0;             // in a row
  std::chrono::milliseconds retry_delay_{0};
  std::chrono::steady_clock::time_point retry_at_{};

  std::thread thread_;  // last
};

}  // namespace latchkey::fleet

#endif  // LATCHKEY_FLEET_OUTBOX_HPP
