// The three reports lk-certify writes into --out: JUnit XML for CI, JSON
// (conformance/proto/latchkey/certification.proto, protobuf's JSON printer)
// and one self-contained HTML page for a person.
#ifndef LATCHKEY_CERTIFY_REPORT_HPP
#define LATCHKEY_CERTIFY_REPORT_HPP

#include "latchkey/certification.pb.h"

#include <filesystem>
#include <mutex>
#include <string>

namespace latchkey::certify {

std::string report_json(const certification::v1::CertificationReport& report);
std::string report_junit(const certification::v1::CertificationReport& report);
std::string report_html(const certification::v1::CertificationReport& report);
// Writes lk-certify-report.{json,xml,html} into dir (created if needed). Throws on I/O failure.
void write_reports(const certification::v1::CertificationReport& report, const std::filesystem::path& dir);
const char* verdict_text(certification::v1::CaseVerdict verdict);
const char* run_verdict_text(certification::v1::RunVerdict verdict);  // "PASSED", "FAILED", "INCOMPLETE"

// lk-certify's exit statuses (--help, conformance/README.md).
inline constexpr int kExitPassed = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;       // usage error or bad input (options, key files, files that cannot be written)
inline constexpr int kExitIncomplete = 3;  // nothing failed, but something that applies was not done
inline constexpr int kExitNotVerified = 4; // --verify-report: the report does not verify (edited, other key, not a report)
int exit_status(certification::v1::RunVerdict verdict);

// A GoogleTest failure message split for the driver author: fail_case()'s
// "<what>\nexpected: ...\ncame: ..." text, or an assertion's own text read
// as well as it can be (equality, comparison, boolean), else all of it as `what`.
certification::v1::Failure split_failure(const std::string& message);

// A device URI short enough for a table cell: the query dropped, the middle elided.
std::string short_uri(const std::string& uri, std::size_t max = 48);

// Taken by every line lk-certify writes to the terminal while cases run (the
// progress lines, the plugin's log lines): no line splits another.
std::mutex& console_mutex();

}  // namespace latchkey::certify

#endif  // LATCHKEY_CERTIFY_REPORT_HPP
