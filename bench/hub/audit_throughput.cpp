// Audit append throughput: one transaction (one fsync) per record with
// AuditLog::append, against group commit with AuditLog::append_batch, and
// the bare SQLite synchronous=FULL commit rate as the floor of the former.
#include "figures.hpp"
#include "stats.hpp"

#include <latchkey/audit/audit_log.hpp>

#include <cstdio>

namespace latchkey::bench {

int run_audit_throughput(const std::filesystem::path& dir, std::size_t singles, std::size_t batches) {
  constexpr std::size_t kBatch = 100;
  const std::filesystem::path file = dir / "audit-throughput.db";
  for (const char* suffix : {"", "-wal", "-shm", ".head"}) std::filesystem::remove(file.string() + suffix);
  const crypto::KeyPair hub_key = crypto::KeyPair::generate();
  auto log = audit::AuditLog::open(file, hub_key);
  const audit::AuditEntry entry{"event", "", "front", "", std::string(160, 'd')};

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
  print_row("Audit append_batch, group commit of 100", fmt("%.0f rec/s", batch_rate), fmt("%.0f rec/s", single_rate),
            fmt("%.1fx", batch_rate / single_rate), "-", "info", "against append(), one fsync per record, same log");
  return 0;
}

}  // namespace latchkey::bench
