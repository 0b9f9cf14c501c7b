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
#include <latchkey/common/cli_options.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace audit = latchkey::audit;
namespace cli = latchkey::cli;
namespace crypto = latchkey::crypto;

namespace {

const cli::Program& program() {
  static const cli::Program p{
      "lk-audit-verify",
      {"DB [--hub-key HEX] [--head FILE] [--require-head]"},
      "Checks a Latchkey audit log (the hub's audit.db) read-only: the hash chain of every record, the signed "
      "checkpoints, and the head file beside it (rules A2, I2, I6). Prints \"OK <records>, head <hash>...\" "
      "or \"FAIL at seq N: <problem>: <detail>\" with the first problem found.",
      {{0, "the log verifies"}, {1, "the log does not verify (the first problem is printed)"},
       {2, "usage error: an unknown or malformed option, no database, a bad --hub-key or --head"}},
      ""};
  return p;
}

int usage(const std::string& why) { return cli::report_usage_error(program(), why); }

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> databases;
  std::string hub_key;
  std::string head;
  cli::po::options_description options;
  options.add_options()
      ("hub-key", cli::po::value(&hub_key)->value_name("HEX"),
       "the hub's Ed25519 public key (64 hex digits) the checkpoints must be signed with; without it the key "
       "stored in the log is used")
      ("head", cli::po::value(&head)->value_name("FILE"), "a head file kept outside the log (a trusted earlier checkpoint)")
      ("require-head", "treat a missing DB.head as a problem");
  cli::po::options_description hidden;
  hidden.add_options()("db", cli::po::value(&databases));
  cli::po::positional_options_description positional;
  positional.add("db", -1);
  const cli::Parsed parsed = cli::parse(program(), options, argc, argv, &positional, &hidden);
  if (parsed.exit_status) return *parsed.exit_status;
  if (databases.empty()) return usage("no database given");
  if (databases.size() > 1) return usage("one database only");
  const std::string db = databases.front();
  audit::VerifyOptions verify_options;
  if (parsed.values.count("hub-key")) {
    const auto key = crypto::from_hex(hub_key);
    if (!key || key->size() != crypto::PublicKey{}.size()) return usage("--hub-key needs 64 hex digits");
    crypto::PublicKey pinned{};
    std::copy(key->begin(), key->end(), pinned.begin());
    verify_options.hub_key = pinned;
  }
  if (parsed.values.count("head")) {
    try {
      verify_options.trusted_head = audit::read_head_file(head);
    } catch (const audit::AuditError& e) {
      return usage(e.what());
    }
    if (!verify_options.trusted_head) return usage("--head " + head + ": no such file");
  }
  verify_options.require_head_file = parsed.values.count("require-head") != 0;

  const audit::VerifyReport report = audit::verify_log(db, verify_options);
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
