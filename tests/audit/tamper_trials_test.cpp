// A2: seeded random tampering with a closed log, the way someone holding the
// file would do it (raw SQLite), is always detected by verify_log.
//
// LATCHKEY_AUDIT_TAMPER_SEED=<n> replays a run; the seed is printed.
#include "audit_test_support.hpp"

#include <latchkey/audit/verify.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <iostream>
#include <random>

namespace latchkey::audit {
namespace {

using test::copy_log;
using test::decision_entry;
using test::hub_key;
using test::RawDb;
using test::sample_entry;
using test::ScratchDir;

constexpr int kTrials = 1000;

// A closed log of about 150 records: entries, batches, decisions and
// checkpoints at seeded places.
uint64_t build_log(const std::filesystem::path& path, const crypto::KeyPair& key, std::mt19937_64& rng) {
  auto log = AuditLog::open(path, key);
  int64_t t = 0;
  int grant = 0;
  while (log->last_seq() < 150) {
    ++t;
    switch (rng() % 8) {
      case 0: log->checkpoint(t, t * 1000); break;
      case 1: {
        const std::string id = "grant-" + std::to_string(++grant);
        if (!log->commit_decision(decision_entry(id), id, t, t * 1000).committed()) return 0;
        break;
      }
      case 2: {
        const std::vector<AuditEntry> batch = {sample_entry(static_cast<int>(t)), sample_entry(static_cast<int>(t) + 1)};
        log->append_batch(batch, t, t * 1000);
        break;
      }
      default: log->append(sample_entry(static_cast<int>(t)), t, t * 1000);
    }
  }
  log->close(t + 1, (t + 1) * 1000);
  return log->last_seq();
}

std::string sql_for_trial(std::mt19937_64& rng, uint64_t count, std::string& what) {
  const auto pick = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); };
  const uint64_t seq = pick(1, count);
  const std::string where = " WHERE seq = " + std::to_string(seq);
  switch (rng() % 4) {
    case 0:
      what = "delete record " + std::to_string(seq);
      return "DELETE FROM records" + where;
    case 1: {
      static constexpr std::array<const char*, 11> kChanges = {
          "seq = seq + 1000000",        "wall_ms = wall_ms + 1",     "mono_ns = mono_ns - 7",
          "type = type || 'x'",         "rule = 'x' || rule",        "door_id = door_id || 'x'",
          "subject = 'x' || subject",   "detail = detail || ' '",    "consumes_grant = consumes_grant || 'x'",
          "prev_hash = randomblob(32)", "hash = randomblob(32)"};
      const char* change = kChanges[rng() % kChanges.size()];
      what = std::string("modify record ") + std::to_string(seq) + ": " + change;
      return std::string("UPDATE records SET ") + change + where;
    }
    case 2: {
      const uint64_t a = pick(1, count - 1);
      const uint64_t b = rng() % 2 == 0 ? a + 1 : pick(a + 1, count);
      what = "swap records " + std::to_string(a) + " and " + std::to_string(b);
      const std::string sa = std::to_string(a);
      const std::string sb = std::to_string(b);
      return "UPDATE records SET seq = -1 WHERE seq = " + sa + "; UPDATE records SET seq = " + sa +
             " WHERE seq = " + sb + "; UPDATE records SET seq = " + sb + " WHERE seq = -1";
    }
    default: {
      const uint64_t keep = pick(0, count - 1);
      what = "truncate to " + std::to_string(keep) + " records";
      return "DELETE FROM records WHERE seq > " + std::to_string(keep);
    }
  }
}

TEST(AuditTamperTrials, A2_RandomDeleteModifyReorderTruncateIsAlwaysDetected) {
  const uint64_t seed = test::seed_from_env("LATCHKEY_AUDIT_TAMPER_SEED", std::random_device{}());
  std::cout << "tamper trials seed " << seed << " (LATCHKEY_AUDIT_TAMPER_SEED=" << seed << " replays it)\n";
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);

  ScratchDir dir;
  const auto key = hub_key();
  const auto base = dir / "base.db";
  const uint64_t count = build_log(base, key, rng);
  ASSERT_GE(count, 150u);
  ASSERT_TRUE(verify_log(base, key.public_key).ok);

  const auto start = std::chrono::steady_clock::now();
  const auto trial_db = dir / "trial.db";
  int detected = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    copy_log(base, trial_db);
    std::string what;
    const std::string sql = sql_for_trial(rng, count, what);
    {
      RawDb raw(trial_db);
      raw.exec(sql);
    }
    const VerifyReport report = verify_log(trial_db, key.public_key);
    if (report.ok) {
      ADD_FAILURE() << "seed " << seed << " trial " << trial << ": undetected: " << what;
    } else {
      ++detected;
    }
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  std::cout << detected << "/" << kTrials << " tamperings detected in " << ms << " ms\n";
}

}  // namespace
}  // namespace latchkey::audit
