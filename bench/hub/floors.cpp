// Physical floors measured in the same run as the figures they bound.
#include "figures.hpp"
#include "stats.hpp"

#include <latchkey/crypto/crypto.hpp>

#include <sodium.h>
#include <sqlite3.h>

#include <stdexcept>
#include <string>

namespace latchkey::bench {
namespace {

class Sqlite {
 public:
  explicit Sqlite(const std::filesystem::path& file) {
    std::filesystem::remove(file);
    std::filesystem::remove(file.string() + "-wal");
    std::filesystem::remove(file.string() + "-shm");
    if (sqlite3_open(file.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("sqlite open failed");
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec("CREATE TABLE records(seq INTEGER PRIMARY KEY, body BLOB NOT NULL)");
    if (sqlite3_prepare_v2(db_, "INSERT INTO records(body) VALUES(?)", -1, &insert_, nullptr) != SQLITE_OK)
      throw std::runtime_error("sqlite prepare failed");
  }
  ~Sqlite() {
    sqlite3_finalize(insert_);
    sqlite3_close(db_);
  }
  // One autocommit insert of a 256-byte record: one durable transaction.
  void commit_one(const std::string& body) {
    sqlite3_bind_blob(insert_, 1, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
    if (sqlite3_step(insert_) != SQLITE_DONE) throw std::runtime_error("sqlite insert failed");
    sqlite3_reset(insert_);
  }

 private:
  void exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
};

}  // namespace

DecisionFloor measure_decision_floor(const std::filesystem::path& dir, std::size_t samples) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  Sqlite db(dir / "floor.db");
  const crypto::KeyPair key = crypto::KeyPair::generate();
  // A message the size of a signed grant.
  std::string message(220, 'g');
  uint8_t signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr, reinterpret_cast<const uint8_t*>(message.data()), message.size(),
                       key.secret_key.data());
  const std::string body(256, 'r');
  DecisionFloor floor;
  std::vector<double> verify, commit;
  for (std::size_t i = 0; i < samples + 5; ++i) {
    const int64_t t0 = mono_ns();
    int ok = 0;
    for (int v = 0; v < 2; ++v)
      ok += crypto_sign_verify_detached(signature, reinterpret_cast<const uint8_t*>(message.data()), message.size(),
                                        key.public_key.data()) == 0;
    const int64_t t1 = mono_ns();
    db.commit_one(body);
    const int64_t t2 = mono_ns();
    if (ok != 2) throw std::runtime_error("floor: verification failed");
    if (i < 5) continue;  // warm-up
    floor.samples_us.push_back(static_cast<double>(t2 - t0) / 1000.0);
    verify.push_back(static_cast<double>(t1 - t0) / 2000.0);
    commit.push_back(static_cast<double>(t2 - t1) / 1000.0);
  }
  floor.verify_us = percentile(verify, 0.5);
  floor.commit_us = percentile(commit, 0.5);
  return floor;
}

double measure_sqlite_commit_rate(const std::filesystem::path& dir, std::size_t commits) {
  Sqlite db(dir / "floor-rate.db");
  const std::string body(256, 'r');
  const int64_t t0 = mono_ns();
  for (std::size_t i = 0; i < commits; ++i) db.commit_one(body);
  return static_cast<double>(commits) * 1e9 / static_cast<double>(mono_ns() - t0);
}

}  // namespace latchkey::bench
