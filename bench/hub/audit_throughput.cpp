// Audit append throughput: one transaction (one fsync) per record with
// AuditLog::append, against group commit with AuditLog::append_batch, and
// the bare SQLite synchronous=FULL commit rate as the floor of the former.
#include "figures.hpp"
#include "stats.hpp"

#include <latchkey/audit/audit_log.hpp>

#include <latchkey/crypto/crypto.hpp>

#include <cstdio>
#include <stdexcept>

namespace latchkey::bench {

int run_audit_throughput(const std::filesystem::path& dir, std::size_t singles, std::size_t batches) {
  constexpr std::size_t kBatch = 100;
  const std::filesystem::path file = dir / "audit-throughput.db";
  for (const char* suffix : {"", "-wal", "-shm", ".head"}) std::filesystem::remove(file.string() + suffix);
  const crypto::KeyPair hub_key = crypto::KeyPair::generate();
  auto log = audit::AuditLog::open(file, hub_key);
  const audit::AuditEntry entry{"event", latchkey::Rule::kNone, "front", "", std::string(160, 'd')};

  const double floor_rate = measure_sqlite_commit_rate(dir, singles);

  int64_t t0 = mono_ns();
  for (std::size_t i = 0; i < singles; ++i) log->append(entry, 0, t0);
  const double single_rate = static_cast<double>(singles) * 1e9 / static_cast<double>(mono_ns() - t0);

  const std::vector<audit::AuditEntry> batch(kBatch, entry);
  t0 = mono_ns();
  for (std::size_t i = 0; i < batches; ++i) log->append_batch(batch, 0, t0);
  const double batch_rate = static_cast<double>(batches * kBatch) * 1e9 / static_cast<double>(mono_ns() - t0);
  log->close(0, mono_ns());

  print_row("Audit append, one fsync per record (append)", fmt("%.0f rec/s", single_rate),
            fmt("%.0f rec/s", floor_rate), fmt("%.2f", single_rate / floor_rate), "-", "info",
            "floor: bare SQLite WAL synchronous=FULL commit of one 256 B row");
  // A2 at start: latchkeyd opens the log by verifying the whole chain and
  // rebuilding what it must remember from verified records only. Figure:
  // open() of a log of 10^5 records; floor: BLAKE2b-256 of 10^5 records of
  // the same size in memory, the hashing no verification can skip.
  constexpr std::size_t kVerifyRecords = 100'000;
  const std::filesystem::path big = dir / "audit-verify.db";
  for (const char* suffix : {"", "-wal", "-shm", ".head"}) std::filesystem::remove(big.string() + suffix);
  {
    auto writer = audit::AuditLog::open(big, hub_key);
    const std::vector<audit::AuditEntry> thousand(1000, entry);
    for (std::size_t i = 0; i < kVerifyRecords / 1000; ++i) writer->append_batch(thousand, 0, mono_ns());
    writer->close(0, mono_ns());
  }
  std::size_t verified = 0;
  audit::OpenOptions verify_options;
  verify_options.on_verified_record = [&verified](const audit::AuditRecord&) { ++verified; };
  t0 = mono_ns();
  auto reopened = audit::AuditLog::open(big, hub_key, verify_options);
  const double open_s = static_cast<double>(mono_ns() - t0) / 1e9;
  reopened->close(0, mono_ns());
  const std::string record_bytes(160 + 64, 'r');  // detail plus the fixed fields, about a record's size
  t0 = mono_ns();
  uint8_t sink = 0;
  for (std::size_t i = 0; i < kVerifyRecords; ++i) sink ^= crypto::blake2b256(crypto::view(record_bytes))[i % 32];
  const double hash_s = static_cast<double>(mono_ns() - t0) / 1e9;
  if (verified < kVerifyRecords) throw std::runtime_error("open() verified fewer records than were written");
  print_row("Audit open: verify the whole chain, per 10^5 records", fmt("%.2f s", open_s), fmt("%.3f s", hash_s),
            fmt("%.0fx", open_s / hash_s), "< 3 s", open_s < 3.0 ? "met" : "MISSED",
            fmt("floor: BLAKE2b-256 of 10^5 records in memory (%u)", static_cast<unsigned>(sink & 1)));

  print_row("Audit append_batch, group commit of 100", fmt("%.0f rec/s", batch_rate), fmt("%.0f rec/s", single_rate),
            fmt("%.1fx", batch_rate / single_rate), "-", "info", "against append(), one fsync per record, same log");
  return 0;
}

}  // namespace latchkey::bench
