// Child of the crash test: opens the log, says "open\n", and appends until
// it is killed, writing each committed seq to stdout ("<seq>\n") right after
// the call that made it durable returned. Those are the acknowledged
// records (A3).
//
//   audit_crash_appender <db> <seed>
#include <latchkey/audit/audit_log.hpp>

#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace audit = latchkey::audit;

namespace {

int64_t clock_ns(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void report(uint64_t seq) {
  const std::string line = std::to_string(seq) + "\n";
  // One short write: atomic on a pipe, so the parent never sees half a line.
  if (::write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size())) std::_Exit(5);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: audit_crash_appender <db> <seed>\n");
    return 2;
  }
  const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  std::array<uint8_t, 32> key_seed{};
  key_seed.fill(0x42);  // the tests' hub key
  try {
    auto log = audit::AuditLog::open(argv[1], latchkey::crypto::KeyPair::from_seed(key_seed));
    if (::write(STDOUT_FILENO, "open\n", 5) != 5) return 5;
    std::mt19937_64 rng(seed);
    for (uint64_t n = 0;; ++n) {
      const int64_t wall_ms = clock_ns(CLOCK_REALTIME) / 1'000'000;
      const int64_t mono_ns = clock_ns(CLOCK_MONOTONIC);
      const uint64_t pick = rng() % 100;
      if (pick < 55) {
        report(log->append({"command", latchkey::Rule::U4, "front", "lock", "{\"n\":" + std::to_string(n) + "}"}, wall_ms, mono_ns));
      } else if (pick < 75) {
        std::vector<audit::AuditEntry> batch(1 + rng() % 4, audit::AuditEntry{"session", latchkey::Rule::U8, "front", "s", "batch"});
        const uint64_t first = log->append_batch(batch, wall_ms, mono_ns);
        for (uint64_t i = 0; i < batch.size(); ++i) report(first + i);
      } else if (pick < 97) {
        const std::string grant = std::to_string(seed) + "-" + std::to_string(n);
        const auto result = log->commit_decision({"decision", latchkey::Rule::kNone, "front", grant, "{}"}, grant, wall_ms, mono_ns);
        if (!result.committed()) {
          std::fprintf(stderr, "audit_crash_appender: %s\n", result.error.c_str());
          return 4;
        }
        report(result.seq);
      } else {
        report(log->checkpoint(wall_ms, mono_ns).size + 1);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "audit_crash_appender: %s\n", e.what());
    return 3;
  }
}
