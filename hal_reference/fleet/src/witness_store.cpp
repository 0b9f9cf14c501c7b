#include <latchkey/fleet/witness_store.hpp>

#include <sqlite3.h>

#include <algorithm>

namespace latchkey::fleet {
namespace {

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql, const std::string& path) : db_(db), path_(path) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) fail("prepare");
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& text(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& integer(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  template <std::size_t N>
  Stmt& blob(int i, const std::array<uint8_t, N>& v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(N), SQLITE_TRANSIENT);
    return *this;
  }
  bool row() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail("step");
  }
  int64_t col_int(int i) const { return sqlite3_column_int64(stmt_, i); }
  template <std::size_t N>
  bool col_blob(int i, std::array<uint8_t, N>& out) const {
    if (sqlite3_column_bytes(stmt_, i) != static_cast<int>(N)) return false;
    const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, i));
    std::copy(p, p + N, out.begin());
    return true;
  }
  [[noreturn]] void fail(const char* what) const {
    throw WitnessStoreError("witness store " + path_ + ": " + what + ": " + sqlite3_errmsg(db_));
  }

 private:
  sqlite3* db_;
  const std::string& path_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace

std::string_view name(WitnessStore::Offer offer) {
  switch (offer) {
    case WitnessStore::Offer::kStored: return "stored";
    case WitnessStore::Offer::kSame: return "same";
    case WitnessStore::Offer::kOlder: return "older";
    case WitnessStore::Offer::kFork: return "fork";
  }
  return "fork";
}

WitnessStore::WitnessStore(const std::filesystem::path& path) : path_(path.string()) {
  if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw WitnessStoreError("witness store " + path_ + ": cannot open: " + message);
  }
  try {
    exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", "set journal mode");
    exec("CREATE TABLE IF NOT EXISTS checkpoints(hub_id TEXT PRIMARY KEY, size INTEGER NOT NULL, "
         "head BLOB NOT NULL, wall_ms INTEGER NOT NULL, mono_ns INTEGER NOT NULL, signature BLOB NOT NULL, "
         "fork_seen INTEGER NOT NULL DEFAULT 0, received_ms INTEGER NOT NULL DEFAULT 0)",
         "create table");
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

WitnessStore::~WitnessStore() { sqlite3_close(db_); }

void WitnessStore::exec(const char* sql, const char* what) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : sqlite3_errmsg(db_);
    sqlite3_free(error);
    throw WitnessStoreError("witness store " + path_ + ": " + what + ": " + message);
  }
}

std::optional<StoredCheckpoint> WitnessStore::newest(const std::string& hub_id) {
  Stmt s(db_, "SELECT size, head, wall_ms, mono_ns, signature, fork_seen FROM checkpoints WHERE hub_id = ?1", path_);
  s.text(1, hub_id);
  if (!s.row()) return std::nullopt;
  StoredCheckpoint out;
  out.checkpoint.size = static_cast<uint64_t>(s.col_int(0));
  out.checkpoint.wall_ms = s.col_int(2);
  out.checkpoint.mono_ns = s.col_int(3);
  out.fork_seen = s.col_int(5) != 0;
  if (!s.col_blob(1, out.checkpoint.head) || !s.col_blob(4, out.checkpoint.signature))
    throw WitnessStoreError("witness store " + path_ + ": the row of hub '" + hub_id + "' is malformed");
  return out;
}

WitnessStore::Offer WitnessStore::offer(const std::string& hub_id, const audit::Checkpoint& cp) {
  exec("BEGIN IMMEDIATE", "begin");
  try {
    const std::optional<StoredCheckpoint> held = newest(hub_id);
    Offer result = Offer::kStored;
    if (held && held->checkpoint.size > cp.size) {
      result = Offer::kOlder;
    } else if (held && held->checkpoint.size == cp.size) {
      result = held->checkpoint.head == cp.head ? Offer::kSame : Offer::kFork;
    }
    if (result == Offer::kStored) {
      Stmt s(db_,
             "INSERT INTO checkpoints(hub_id, size, head, wall_ms, mono_ns, signature, fork_seen) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0) ON CONFLICT(hub_id) DO UPDATE SET size = excluded.size, "
             "head = excluded.head, wall_ms = excluded.wall_ms, mono_ns = excluded.mono_ns, "
             "signature = excluded.signature",
             path_);
      s.text(1, hub_id).integer(2, static_cast<int64_t>(cp.size)).blob(3, cp.head).integer(4, cp.wall_ms);
      s.integer(5, cp.mono_ns).blob(6, cp.signature);
      s.row();
    } else if (result == Offer::kFork && !held->fork_seen) {
      Stmt s(db_, "UPDATE checkpoints SET fork_seen = 1 WHERE hub_id = ?1", path_);
      s.text(1, hub_id);
      s.row();
    }
    exec("COMMIT", "commit");
    return result;
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

bool WitnessStore::forget(const std::string& hub_id) {
  Stmt s(db_, "DELETE FROM checkpoints WHERE hub_id = ?1", path_);
  s.text(1, hub_id);
  s.row();
  return sqlite3_changes(db_) > 0;
}

}  // namespace latchkey::fleet
