// lk-audit-verify: checks an audit log file (A2, I2, I6) read-only.
//
//   lk-audit-verify <db> [--hub-key HEX] [--head FILE] [--require-head]
//
// --hub-key  the hub's Ed25519 public key (64 hex digits) the checkpoints
//            must be signed with; without it the key stored in the log is used.
// --head     a head file kept outside the log (a trusted earlier checkpoint).
// --require-head  treat a missing `<db>.head` as a problem.
//
// Prints "OK ..." and exits 0, or "FAIL ..." with the first problem and its
// seq and exits 1. Usage errors exit 2.
#include <latchkey/audit/verify.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

namespace audit = latchkey::audit;
namespace crypto = latchkey::crypto;

namespace {

int usage(const std::string& why) {
  std::cerr << "lk-audit-verify: " << why << "\n"
            << "usage: lk-audit-verify <db> [--hub-key HEX] [--head FILE] [--require-head]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db;
  audit::VerifyOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--hub-key" || arg == "--head") {
      if (i + 1 >= argc) return usage(std::string(arg) + " needs a value");
      const std::string value = argv[++i];
      if (arg == "--hub-key") {
        const auto key = crypto::from_hex(value);
        if (!key || key->size() != crypto::PublicKey{}.size()) return usage("--hub-key needs 64 hex digits");
        crypto::PublicKey pinned{};
        std::copy(key->begin(), key->end(), pinned.begin());
        options.hub_key = pinned;
      } else {
        try {
          options.trusted_head = audit::read_head_file(value);
        } catch (const audit::AuditError& e) {
          return usage(e.what());
        }
        if (!options.trusted_head) return usage("--head " + value + ": no such file");
      }
    } else if (arg == "--require-head") {
      options.require_head_file = true;
    } else if (arg == "-h" || arg == "--help") {
      usage("checks an audit log");
      return 0;
    } else if (!arg.empty() && arg[0] == '-') {
      return usage("unknown option " + std::string(arg));
    } else if (db.empty()) {
      db = arg;
    } else {
      return usage("one database only");
    }
  }
  if (db.empty()) return usage("no database given");

  const audit::VerifyReport report = audit::verify_log(db, options);
  if (!report.ok) {
    std::cout << "FAIL";
    if (report.problem_seq != 0) std::cout << " at seq " << report.problem_seq;
    std::cout << ": " << audit::to_string(report.problem) << ": " << report.message << "\n";
    return 1;
  }
  std::cout << "OK " << report.record_count << " records, head " << crypto::to_hex(report.head_hash);
  if (report.last_checkpoint) {
    std::cout << ", last checkpoint covers " << report.last_checkpoint->size << " records (wall_ms "
              << report.last_checkpoint->wall_ms << ")";
  }
  std::cout << (report.head_file_checked ? ", head file checked" : "") << "\n";
  for (const std::string& note : report.notes) std::cout << "note: " << note << "\n";
  return 0;
}
