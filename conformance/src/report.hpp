// The three reports lk-certify writes into --out: JUnit XML for CI, JSON
// (conformance/proto/latchkey/certification.proto, protobuf's JSON printer)
// and one self-contained HTML page for a person.
#ifndef LATCHKEY_CERTIFY_REPORT_HPP
#define LATCHKEY_CERTIFY_REPORT_HPP

#include "latchkey/certification.pb.h"

#include <filesystem>
#include <string>

namespace latchkey::certify {

std::string report_json(const certification::v1::CertificationReport& report);
std::string report_junit(const certification::v1::CertificationReport& report);
std::string report_html(const certification::v1::CertificationReport& report);
// Writes lk-certify-report.{json,xml,html} into dir (created if needed). Throws on I/O failure.
void write_reports(const certification::v1::CertificationReport& report, const std::filesystem::path& dir);
const char* verdict_text(certification::v1::CaseVerdict verdict);

}  // namespace latchkey::certify

#endif  // LATCHKEY_CERTIFY_REPORT_HPP
