#include "report.hpp"

#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace latchkey::certify {
namespace {

std::string uri_html(const std::string& uri);

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

std::string shell_quote(const std::string& a) {
  if (!a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@+") ==
                        std::string::npos)
    return a;
  std::string q = "'";
  for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string seconds(double ms) {
  std::ostringstream s;
  s.precision(3);
  s << std::fixed << ms / 1000.0;
  return s.str();
}

std::string case_name(const certification::v1::CaseResult& c) { return c.device().empty() ? c.id() : c.id() + " [" + c.device() + "]"; }

std::string uri_html(const std::string& uri) {
  if (uri.empty()) return "";
  const std::string shown = short_uri(uri);
  if (shown == uri) return "<code>" + escape_xml(uri) + "</code>";
  return "<code class=\"uri\" title=\"" + escape_xml(uri) + "\">" + escape_xml(shown) + "</code>";
}

std::string missing_text(const certification::v1::MissingItem& m) {
  std::string where = m.case_id();
  if (!m.device().empty()) where += (where.empty() ? "" : " ") + std::string("[") + m.device() + "]";
  return m.kind() + (where.empty() ? "" : ": " + where) + ": " + m.reason();
}

// Everything that says what ran, where, by whom: the JUnit properties and the HTML provenance list.
std::vector<std::pair<std::string, std::string>> report_facts(const certification::v1::CertificationReport& r) {
  const auto& p = r.provenance();
  std::vector<std::pair<std::string, std::string>> f = {
      {"verdict", run_verdict_text(r.verdict())}, {"plugin_file", r.plugin_file()},
      {"plugin_sha256", r.plugin_sha256()},        {"vendor", r.vendor()},
      {"driver_id", r.driver_id()},                {"driver_version", r.driver_version()},
      {"plugin_abi_version", r.plugin_abi_version()}, {"sdk_version", r.sdk_version()},
      {"abi_version", r.abi_version()},            {"plugin_mode", r.plugin_mode()},
      {"lock_flags", std::to_string(r.capabilities().lock_flags())},
      {"camera_flags", std::to_string(r.capabilities().camera_flags())},
      {"date", r.date()},                          {"duration_s", seconds(r.duration_s() * 1000)},
      {"operator", p.operator_()},                 {"lab", p.lab()},
      {"host_name", p.host_name()},                {"os", p.os()},
      {"kernel", p.kernel()},                      {"cpu_model", p.cpu_model()},
      {"cpu_count", std::to_string(p.cpu_count())}, {"tool_version", p.tool_version()},
      {"tool_revision", p.tool_revision()},        {"started", p.started()},
      {"ended", p.ended()}};
  std::string command;
  for (const auto& a : p.command_line()) command += (command.empty() ? "" : " ") + shell_quote(a);
  f.emplace_back("command_line", command);
  for (int i = 0; i < p.plugins_size(); ++i)
    f.emplace_back("plugin." + std::to_string(i), p.plugins(i).role() + ": " + p.plugins(i).path() + " sha256 " +
                                                       p.plugins(i).sha256());
  return f;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

std::mutex& console_mutex() {
  static std::mutex m;
  return m;
}

const char* run_verdict_text(certification::v1::RunVerdict verdict) {
  switch (verdict) {
    case certification::v1::RUN_VERDICT_PASSED: return "PASSED";
    case certification::v1::RUN_VERDICT_FAILED: return "FAILED";
    case certification::v1::RUN_VERDICT_INCOMPLETE: return "INCOMPLETE";
    default: return "UNKNOWN";
  }
}

int exit_status(certification::v1::RunVerdict verdict) {
  switch (verdict) {
    case certification::v1::RUN_VERDICT_PASSED: return kExitPassed;
    case certification::v1::RUN_VERDICT_FAILED: return kExitFailed;
    default: return kExitIncomplete;
  }
}

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string join(const std::vector<std::string>& lines, std::size_t from, const char* sep = "\n") {
  std::string out;
  for (std::size_t i = from; i < lines.size(); ++i) out += (out.empty() ? "" : sep) + lines[i];
  return out;
}

}  // namespace

certification::v1::Failure split_failure(const std::string& message) {
  certification::v1::Failure f;
  std::string text = message;
  if (text.rfind("Failed\n", 0) == 0) text = text.substr(7);
  // fail_case(): "<what>\nexpected: <expected>\ncame: <came>"
  const auto e = text.find("\nexpected: ");
  const auto c = e == std::string::npos ? std::string::npos : text.find("\ncame: ", e + 1);
  if (e != std::string::npos && c != std::string::npos) {
    f.set_what(text.substr(0, e));
    f.set_expected(text.substr(e + 11, c - e - 11));
    f.set_came(text.substr(c + 7));
    return f;
  }
  const std::vector<std::string> lines = lines_of(text);
  if (!lines.empty() && lines[0] == "Expected equality of these values:") {
    // "  <a>\n    Which is: <va>\n  <b>\n    Which is: <vb>\n<message>"
    std::vector<std::pair<std::string, std::string>> sides;
    std::size_t i = 1;
    while (i < lines.size() && lines[i].rfind("  ", 0) == 0 && sides.size() < 2) {
      std::string expr = trim(lines[i++]), value = expr;
      if (i < lines.size() && trim(lines[i]).rfind("Which is: ", 0) == 0) value = trim(lines[i++]).substr(10);
      sides.emplace_back(expr, value);
    }
    if (sides.size() == 2) {
      const std::string rest = join(lines, i);
      f.set_what(rest.empty() ? sides[0].first + " differs from " + sides[1].first : rest);
      f.set_expected(sides[0].first + " equal to " + sides[1].first + (sides[1].first == sides[1].second ? "" : " (" + sides[1].second + ")"));
      f.set_came(sides[0].first == sides[0].second ? sides[0].first : sides[0].second);
      return f;
    }
  }
  if (!lines.empty() && lines[0].rfind("Expected: (", 0) == 0 && lines[0].find(", actual: ") != std::string::npos) {
    const auto at = lines[0].find(", actual: ");
    const std::string rest = join(lines, 1);
    f.set_what(rest.empty() ? "a comparison did not hold" : rest);
    f.set_expected(lines[0].substr(10, at - 10));
    f.set_came(lines[0].substr(at + 10));
    return f;
  }
  if (lines.size() >= 3 && lines[0].rfind("Value of: ", 0) == 0 && trim(lines[1]).rfind("Actual: ", 0) == 0 &&
      lines[2].rfind("Expected: ", 0) == 0) {
    const std::string rest = join(lines, 3);
    const std::string expr = lines[0].substr(10);
    f.set_what(rest.empty() ? expr + " did not hold" : rest);
    f.set_expected(expr + " is " + lines[2].substr(10));
    f.set_came(trim(lines[1]).substr(8));
    return f;
  }
  f.set_what(text);
  return f;
}

std::string short_uri(const std::string& uri, std::size_t max) {
  std::string s = uri;
  if (const auto q = s.find('?'); q != std::string::npos) s = s.substr(0, q) + "?\u2026";
  if (s.size() > max) s = s.substr(0, max - 13) + "\u2026" + s.substr(s.size() - 12);
  return s;
}

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
    for (const auto& [name, value] : report_facts(r))
      x << "      <property name=\"" << name << "\" value=\"" << escape_xml(value) << "\"/>\n";
    for (int i = 0; i < r.missing_size(); ++i)
      x << "      <property name=\"missing." << i << "\" value=\"" << escape_xml(missing_text(r.missing(i))) << "\"/>\n";
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
  const auto verdict = r.verdict();
  const char* banner = verdict == certification::v1::RUN_VERDICT_PASSED   ? "ok"
                       : verdict == certification::v1::RUN_VERDICT_FAILED ? "bad"
                                                                         : "gap";
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Latchkey certification: "
    << escape_xml(r.driver_id()) << " " << run_verdict_text(verdict) << "</title>\n<style>\n"
       "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:100%;overflow-wrap:anywhere}\n"
       "h1{margin-bottom:.2em}h2{margin-top:1.5em}\n"
       "table{border-collapse:collapse;width:100%;table-layout:fixed;margin-top:.5em}\n"
       "th,td{border:1px solid #ccc;padding:.35em .5em;text-align:left;vertical-align:top;overflow-wrap:anywhere;"
       "word-break:break-word}th{background:#f3f3f3}\n"
       "col.id{width:9em}col.dev{width:12em}col.v{width:6em}col.t{width:5em}col.cites{width:10em}\n"
       ".pass{color:#11691d;font-weight:bold}.FAIL{color:#b00020;font-weight:bold}.skipped{color:#777}"
       ".manual{color:#8a5a00}\n"
       ".banner{padding:.6em 1em;font-size:1.2em;border-radius:4px;display:inline-block}\n"
       ".ok{background:#e3f6e5}.bad{background:#fde4e7}.gap{background:#fff1d6}\n"
       "pre,code{white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;margin:0;font-size:.9em}\n"
       "dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2em 1em}dt{font-weight:bold}"
       "dd{margin:0;min-width:0}\n"
       ".uri{border-bottom:1px dotted #888;cursor:help}\n"
       "ol.failures{padding-left:1.5em}li.failure{margin-bottom:1em}li.failure dl{margin:.3em 0}\n"
       ".expected{color:#11691d}.came{color:#b00020}\n"
       "</style></head><body>\n";
  h << "<h1>Latchkey certification report</h1>\n";
  const auto& s = r.summary();
  h << "<p class=\"banner " << banner << "\" id=\"verdict\">" << run_verdict_text(verdict) << ": " << s.passed()
    << " passed, " << s.failed() << " failed, " << s.missing() << " missing, " << s.not_applicable()
    << " not applicable, of " << s.total() << " (" << s.skipped() << " skipped, " << s.manual() << " manual)</p>\n";
  h << "<p>" << escape_xml(r.plugin_file()) << ": " << escape_xml(r.vendor()) << " / " << escape_xml(r.driver_id())
    << " " << escape_xml(r.driver_version()) << ", " << escape_xml(r.plugin_mode()) << "</p>\n";

  // 1. The failures, each split into what, expected and came.
  h << "<section id=\"failures\">\n<h2>Failures (" << s.failed() << ")</h2>\n";
  if (s.failed() == 0) h << "<p>None.</p>\n";
  else h << "<ol class=\"failures\">\n";
  for (const auto& c : r.cases()) {
    if (c.verdict() != certification::v1::CASE_VERDICT_FAIL) continue;
    h << "<li class=\"failure\"><span class=\"case\"><code>" << escape_xml(c.id()) << "</code></span> "
      << escape_xml(c.title()) << " <small>(" << escape_xml(c.cites()) << ")</small><br>Device: <span class=\"device\">"
      << (c.device().empty() ? std::string("(plugin-wide)") : uri_html(c.device())) << "</span>\n";
    std::vector<certification::v1::Failure> failures(c.failures().begin(), c.failures().end());
    if (failures.empty()) failures.push_back(split_failure(c.detail()));
    for (const auto& f : failures) {
      h << "<dl><dt>What</dt><dd class=\"what\"><pre>" << escape_xml(f.what()) << "</pre></dd>"
        << "<dt>Expected</dt><dd class=\"expected\"><pre>" << escape_xml(f.expected().empty() ? "(see what)" : f.expected())
        << "</pre></dd><dt>Came</dt><dd class=\"came\"><pre>" << escape_xml(f.came().empty() ? "(see what)" : f.came())
        << "</pre></dd></dl>\n";
    }
    if (const auto m = c.detail().find("\nmeasured: "); m != std::string::npos)
      h << "<p>Measured: <code>" << escape_xml(c.detail().substr(m + 11)) << "</code></p>\n";
    h << "</li>\n";
  }
  if (s.failed() > 0) h << "</ol>\n";
  h << "</section>\n";

  // 2. What is missing for a PASSED.
  h << "<section id=\"missing\">\n<h2>Missing (" << r.missing_size() << ")</h2>\n";
  if (r.missing_size() == 0) {
    h << "<p>Nothing: every case that applies ran.</p>\n";
  } else {
    h << "<table><colgroup><col class=\"cites\"><col class=\"id\"><col class=\"dev\"><col></colgroup>"
         "<tr><th>Kind</th><th>Case</th><th>Device</th><th>Reason</th></tr>\n";
    for (const auto& m : r.missing())
      h << "<tr class=\"missing\"><td>" << escape_xml(m.kind()) << "</td><td><code>" << escape_xml(m.case_id())
        << "</code></td><td>" << uri_html(m.device()) << "</td><td>" << escape_xml(m.reason()) << "</td></tr>\n";
    h << "</table>\n";
  }
  h << "</section>\n";

  // 3. Every case.
  h << "<section id=\"cases\">\n<h2>All cases (" << s.total() << ")</h2>\n"
       "<table><colgroup><col class=\"id\"><col class=\"dev\"><col class=\"v\"><col><col class=\"cites\">"
       "<col class=\"t\"><col></colgroup>\n"
       "<tr><th>Case</th><th>Device</th><th>Verdict</th><th>Checks</th><th>Cites</th><th>Time</th><th>Detail</th></tr>\n";
  for (const auto& c : r.cases()) {
    const std::string v = verdict_text(c.verdict());
    std::string detail = c.detail();
    for (const auto& a : c.manual_answers())
      detail += std::string(detail.empty() ? "" : "\n") + "operator " + a.operator_() + " at " + a.time() + ": " +
                a.answer() + (a.note().empty() ? "" : " (" + a.note() + ")");
    h << "<tr><td><code>" << escape_xml(c.id()) << "</code></td><td>" << uri_html(c.device()) << "</td>"
      << "<td class=\"" << v << "\">" << v << "</td><td>" << escape_xml(c.title()) << "</td><td>" << escape_xml(c.cites())
      << "</td><td>" << seconds(c.duration_ms()) << " s</td><td><pre>" << escape_xml(detail) << "</pre></td></tr>\n";
  }
  h << "</table>\n</section>\n";

  // 4. Provenance: the plugin, the run, the machine, the tool.
  h << "<section id=\"provenance\">\n<h2>Provenance</h2>\n<dl>\n";
  for (const auto& [k, v] : report_facts(r)) h << "<dt>" << k << "</dt><dd><code>" << escape_xml(v) << "</code></dd>\n";
  h << "<dt>devices</dt><dd>";
  if (r.devices().empty()) h << "(none)";
  for (int i = 0; i < r.devices_size(); ++i) h << (i ? ", " : "") << uri_html(r.devices(i));
  h << "</dd>\n";
  if (!r.capabilities().load_error().empty())
    h << "<dt>load error</dt><dd>" << escape_xml(r.capabilities().load_error()) << "</dd>\n";
  h << "</dl>\n</section>\n</body></html>\n";
  return h.str();
}

void write_reports(const certification::v1::CertificationReport& report, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  write_file(dir / "lk-certify-report.json", report_json(report));
  write_file(dir / "lk-certify-report.xml", report_junit(report));
  write_file(dir / "lk-certify-report.html", report_html(report));
}

}  // namespace latchkey::certify
