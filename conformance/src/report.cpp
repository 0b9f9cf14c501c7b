#include "report.hpp"

#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace latchkey::certify {
namespace {

std::string escape_xml(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') out += ' ';
        else out += c;
    }
  }
  return out;
}

std::string seconds(double ms) {
  std::ostringstream s;
  s.precision(3);
  s << std::fixed << ms / 1000.0;
  return s.str();
}

std::string case_name(const certification::v1::CaseResult& c) { return c.device().empty() ? c.id() : c.id() + " [" + c.device() + "]"; }

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

const char* verdict_text(certification::v1::CaseVerdict verdict) {
  switch (verdict) {
    case certification::v1::CASE_VERDICT_PASS: return "pass";
    case certification::v1::CASE_VERDICT_FAIL: return "FAIL";
    case certification::v1::CASE_VERDICT_SKIPPED: return "skipped";
    case certification::v1::CASE_VERDICT_MANUAL: return "manual";
    default: return "?";
  }
}

std::string report_json(const certification::v1::CertificationReport& report) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.always_print_enums_as_ints = false;
  const auto status = google::protobuf::util::MessageToJsonString(report, &json, options);
  if (!status.ok()) throw std::runtime_error("cannot print the report as JSON: " + status.ToString());
  return json;
}

std::string report_junit(const certification::v1::CertificationReport& r) {
  std::map<std::string, std::vector<const certification::v1::CaseResult*>> families;
  for (const auto& c : r.cases()) families[c.family()].push_back(&c);
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x << "<testsuites name=\"lk-certify\" tests=\"" << r.summary().total() << "\" failures=\"" << r.summary().failed()
    << "\" skipped=\"" << r.summary().skipped() + r.summary().manual() << "\" time=\"" << seconds(r.duration_s() * 1000)
    << "\" timestamp=\"" << escape_xml(r.date()) << "\">\n";
  for (const auto& [family, cases] : families) {
    int failures = 0, skipped = 0;
    double ms = 0;
    for (const auto* c : cases) {
      failures += c->verdict() == certification::v1::CASE_VERDICT_FAIL;
      skipped += c->verdict() == certification::v1::CASE_VERDICT_SKIPPED || c->verdict() == certification::v1::CASE_VERDICT_MANUAL;
      ms += c->duration_ms();
    }
    x << "  <testsuite name=\"TC-" << escape_xml(family) << "\" tests=\"" << cases.size() << "\" failures=\"" << failures
      << "\" skipped=\"" << skipped << "\" time=\"" << seconds(ms) << "\">\n";
    x << "    <properties>\n";
    const std::pair<const char*, std::string> props[] = {
        {"plugin_file", r.plugin_file()},     {"plugin_sha256", r.plugin_sha256()}, {"vendor", r.vendor()},
        {"driver_id", r.driver_id()},         {"driver_version", r.driver_version()}, {"sdk_version", r.sdk_version()},
        {"abi_version", r.abi_version()},     {"date", r.date()},                   {"plugin_mode", r.plugin_mode()}};
    for (const auto& [name, value] : props)
      x << "      <property name=\"" << name << "\" value=\"" << escape_xml(value) << "\"/>\n";
    x << "    </properties>\n";
    for (const auto* c : cases) {
      x << "    <testcase classname=\"lk-certify.TC-" << escape_xml(family) << "\" name=\"" << escape_xml(case_name(*c))
        << "\" time=\"" << seconds(c->duration_ms()) << "\">\n";
      x << "      <properties><property name=\"cites\" value=\"" << escape_xml(c->cites()) << "\"/></properties>\n";
      if (c->verdict() == certification::v1::CASE_VERDICT_FAIL)
        x << "      <failure message=\"" << escape_xml(c->title()) << "\">" << escape_xml(c->detail()) << "</failure>\n";
      else if (c->verdict() == certification::v1::CASE_VERDICT_SKIPPED || c->verdict() == certification::v1::CASE_VERDICT_MANUAL)
        x << "      <skipped message=\"" << escape_xml(std::string(verdict_text(c->verdict())) + ": " + c->detail())
          << "\"/>\n";
      else if (!c->detail().empty())  // what a passing case measured
        x << "      <system-out>" << escape_xml(c->detail()) << "</system-out>\n";
      x << "    </testcase>\n";
    }
    x << "  </testsuite>\n";
  }
  x << "</testsuites>\n";
  return x.str();
}

std::string report_html(const certification::v1::CertificationReport& r) {
  const bool passed = r.summary().failed() == 0;
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Latchkey certification: "
    << escape_xml(r.driver_id()) << "</title>\n<style>\n"
       "body{font-family:system-ui,sans-serif;margin:2em;color:#222}h1{margin-bottom:.2em}\n"
       "table{border-collapse:collapse;width:100%;margin-top:1em}th,td{border:1px solid #ccc;padding:.35em .5em;"
       "text-align:left;vertical-align:top}th{background:#f3f3f3}\n"
       ".pass{color:#11691d;font-weight:bold}.FAIL{color:#b00020;font-weight:bold}.skipped{color:#777}.manual{color:#8a5a00}\n"
       ".banner{padding:.6em 1em;font-size:1.2em;border-radius:4px;display:inline-block}\n"
       ".ok{background:#e3f6e5}.bad{background:#fde4e7}pre{white-space:pre-wrap;margin:0;font-size:.9em}\n"
       "dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:bold}\n"
       "</style></head><body>\n";
  h << "<h1>Latchkey certification report</h1>\n";
  h << "<p class=\"banner " << (passed ? "ok\">PASSED" : "bad\">FAILED") << ": " << r.summary().passed() << " passed, "
    << r.summary().failed() << " failed, " << r.summary().skipped() << " skipped, " << r.summary().manual()
    << " manual, of " << r.summary().total() << "</p>\n<dl>\n";
  const std::pair<const char*, std::string> facts[] = {
      {"Plugin", r.plugin_file()},       {"SHA-256", r.plugin_sha256()},      {"Vendor", r.vendor()},
      {"Driver id", r.driver_id()},      {"Driver version", r.driver_version()}, {"Plugin ABI", r.plugin_abi_version()},
      {"SDK version", r.sdk_version()},  {"Host ABI", r.abi_version()},        {"Plugin mode", r.plugin_mode()},
      {"Date (UTC)", r.date()},          {"Duration", seconds(r.duration_s() * 1000) + " s"}};
  for (const auto& [k, v] : facts) h << "<dt>" << k << "</dt><dd><code>" << escape_xml(v) << "</code></dd>\n";
  std::string devices;
  for (const auto& d : r.devices()) devices += (devices.empty() ? "" : ", ") + d;
  h << "<dt>Devices</dt><dd><code>" << escape_xml(devices.empty() ? "(none)" : devices) << "</code></dd>\n";
  if (!r.capabilities().load_error().empty())
    h << "<dt>Load error</dt><dd>" << escape_xml(r.capabilities().load_error()) << "</dd>\n";
  h << "</dl>\n<table><tr><th>Case</th><th>Device</th><th>Verdict</th><th>Checks</th><th>Cites</th><th>Time</th>"
       "<th>Detail</th></tr>\n";
  for (const auto& c : r.cases()) {
    const std::string v = verdict_text(c.verdict());
    h << "<tr><td><code>" << escape_xml(c.id()) << "</code></td><td><code>" << escape_xml(c.device()) << "</code></td>"
      << "<td class=\"" << v << "\">" << v << "</td><td>" << escape_xml(c.title()) << "</td><td>" << escape_xml(c.cites())
      << "</td><td>" << seconds(c.duration_ms()) << " s</td><td><pre>" << escape_xml(c.detail()) << "</pre></td></tr>\n";
  }
  h << "</table>\n</body></html>\n";
  return h.str();
}

void write_reports(const certification::v1::CertificationReport& report, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  write_file(dir / "lk-certify-report.json", report_json(report));
  write_file(dir / "lk-certify-report.xml", report_junit(report));
  write_file(dir / "lk-certify-report.html", report_html(report));
}

}  // namespace latchkey::certify
