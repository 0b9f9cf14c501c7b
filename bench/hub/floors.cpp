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

struct DecisionFloorMeter::Impl {
  explicit Impl(const std::filesystem::path& dir)
      : db(dir / "floor.db"), key(crypto::KeyPair::generate()), message(220, 'g'), body(256, 'r') {
    crypto_sign_detached(signature, nullptr, reinterpret_cast<const uint8_t*>(message.data()), message.size(),
                         key.secret_key.data());
  }
  Sqlite db;
  crypto::KeyPair key;
  std::string message;  // the size of a signed grant
  std::string body;     // the size of an audit record
  uint8_t signature[crypto_sign_BYTES]{};
  DecisionFloor floor;
  std::vector<double> verify, commit;
};

DecisionFloorMeter::DecisionFloorMeter(const std::filesystem::path& dir) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  impl_ = new Impl(dir);
}

DecisionFloorMeter::~DecisionFloorMeter() { delete impl_; }

void DecisionFloorMeter::sample() {
  Impl& m = *impl_;
  const int64_t t0 = mono_ns();
  int ok = 0;
  for (int v = 0; v < 2; ++v)
    ok += crypto_sign_verify_detached(m.signature, reinterpret_cast<const uint8_t*>(m.message.data()),
                                      m.message.size(), m.key.public_key.data()) == 0;
  const int64_t t1 = mono_ns();
  m.db.commit_one(m.body);
  const int64_t t2 = mono_ns();
  if (ok != 2) throw std::runtime_error("floor: verification failed");
  m.floor.samples_us.push_back(static_cast<double>(t2 - t0) / 1000.0);
  m.verify.push_back(static_cast<double>(t1 - t0) / 2000.0);
  m.commit.push_back(static_cast<double>(t2 - t1) / 1000.0);
}

DecisionFloor DecisionFloorMeter::result() const {
  DecisionFloor f = impl_->floor;
  f.verify_us = percentile(impl_->verify, 0.5);
  f.commit_us = percentile(impl_->commit, 0.5);
  return f;
}

DecisionFloor measure_decision_floor(const std::filesystem::path& dir, std::size_t samples) {
  DecisionFloorMeter meter(dir);
  for (int i = 0; i < 5; ++i) meter.sample();  // warm-up
  DecisionFloorMeter measured(dir);
  for (std::size_t i = 0; i < samples; ++i) measured.sample();
  return measured.result();
}

double measure_sqlite_commit_rate(const std::filesystem::path& dir, std::size_t commits) {
  Sqlite db(dir / "floor-rate.db");
  const std::string body(256, 'r');
  const int64_t t0 = mono_ns();
  for (std::size_t i = 0; i < commits; ++i) db.commit_one(body);
  return static_cast<double>(commits) * 1e9 / static_cast<double>(mono_ns() - t0);
}

}  // namespace latchkey::bench
