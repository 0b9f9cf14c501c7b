// Shared pieces of the audit tests: a scratch directory under the build
// tree, fixed hub keys, sample entries and raw SQLite access to a log file
// (the way an attacker with the file would change it).
#ifndef LATCHKEY_TESTS_AUDIT_AUDIT_TEST_SUPPORT_HPP
#define LATCHKEY_TESTS_AUDIT_AUDIT_TEST_SUPPORT_HPP

#include <latchkey/audit/audit_log.hpp>
#include <latchkey/audit/verify.hpp>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace latchkey::audit::test {

inline crypto::KeyPair hub_key(uint8_t seed_byte = 0x42) {
  std::array<uint8_t, 32> seed{};
  seed.fill(seed_byte);
  return crypto::KeyPair::from_seed(seed);
}

inline AuditEntry sample_entry(int n) {
  return AuditEntry{"session", Rule::U8, "front", "session-" + std::to_string(n),
                    "{\"n\":" + std::to_string(n) + ",\"state\":\"closed\"}", RecordKind::kSessionCompleted};
}

inline AuditEntry decision_entry(const std::string& grant) {
  return AuditEntry{"decision", Rule::kNone, "front", grant, "{\"allowed\":true}", RecordKind::kAllow};
}

// A fresh directory for one test, removed when the test passes.
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("LATCHKEY_AUDIT_TEST_DIR");
    std::filesystem::path root = base != nullptr ? std::filesystem::path(base)
                                                 : std::filesystem::path(LATCHKEY_AUDIT_TEST_DIR) / "scratch";
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info != nullptr ? std::string(info->test_suite_name()) + "." + info->name() : "audit";
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    path_ = root / (name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    if (!::testing::Test::HasFailure()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// A raw read-write connection, as someone holding the file would use.
class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "raw open " << path << ": " << sqlite3_errmsg(db_);
    }
    exec("PRAGMA synchronous = OFF");
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // Returns false (and records no failure) when SQLite refuses the change.
  bool try_exec(const std::string& sql) { return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK; }
  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      ADD_FAILURE() << "raw exec '" << sql << "': " << (error != nullptr ? error : "?");
    }
    sqlite3_free(error);
  }
  int64_t query_int(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    int64_t value = -1;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
      value = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return value;
  }
  sqlite3* handle() const { return db_; }

  // Writes `r` as it is (schema 2 columns; its hash is not recomputed).
  void insert_record(const AuditRecord& r) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_,
                           "INSERT INTO records(seq, wall_ms, mono_ns, type, rule, door_id, subject, detail, "
                           "consumes_grant, prev_hash, hash, kind, value, format) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                           -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "raw insert: " << sqlite3_errmsg(db_);
      return;
    }
    sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(r.seq));
    sqlite3_bind_int64(stmt, 2, r.wall_ms);
    sqlite3_bind_int64(stmt, 3, r.mono_ns);
    const std::string rule(name(r.entry.rule));
    const std::string kind(name(r.entry.kind));
    const std::string* texts[] = {&r.entry.type, &rule, &r.entry.door_id, &r.entry.subject, &r.entry.detail,
                                  &r.consumes_grant};
    for (int i = 0; i < 6; ++i)
      sqlite3_bind_text(stmt, 4 + i, texts[i]->data(), static_cast<int>(texts[i]->size()), SQLITE_TRANSIENT);
    sqlite3_bind_blob(stmt, 10, r.prev_hash.data(), 32, SQLITE_TRANSIENT);
    sqlite3_bind_blob(stmt, 11, r.hash.data(), 32, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 12, kind.data(), static_cast<int>(kind.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 13, r.entry.value);
    sqlite3_bind_int64(stmt, 14, r.format);
    if (sqlite3_step(stmt) != SQLITE_DONE) ADD_FAILURE() << "raw insert: " << sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
  }

 private:
  sqlite3* db_ = nullptr;
};

// Copies a closed log and its head file.
inline void copy_log(const std::filesystem::path& from, const std::filesystem::path& to) {
  namespace fs = std::filesystem;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  if (fs::exists(head_file_path(from))) {
    fs::copy_file(head_file_path(from), head_file_path(to), fs::copy_options::overwrite_existing);
  } else {
    fs::remove(head_file_path(to));
  }
  for (const char* suffix : {"-wal", "-shm"}) {
    fs::path side = to;
    side += suffix;
    fs::remove(side);
  }
}

inline uint64_t seed_from_env(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr ? std::strtoull(text, nullptr, 0) : fallback;
}

}  // namespace latchkey::audit::test

#endif  // LATCHKEY_TESTS_AUDIT_AUDIT_TEST_SUPPORT_HPP
