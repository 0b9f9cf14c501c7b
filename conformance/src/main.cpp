// lk-certify: runs the Latchkey conformance suite against one plugin.
//
// Its synopsis, options and exit statuses are program() and option_table()
// below: `lk-certify --help` prints them, and the man page is made from that.
//
// Longer than most files: the option table and its help text, which a lab reads
// as one piece.
// The command line, the run and the report in one place, as a lab reads them
// (hence the length; the cases live in cases_*.cpp).
#include "agent_target.hpp"
#include "report.hpp"
#include "report_signing.hpp"
#include "runner.hpp"
#include "suite.hpp"
#include "support.hpp"

#include <latchkey/common/cli_options.hpp>
#include <latchkey/common/log.hpp>
#include <latchkey/common/version.hpp>
#include <latchkey/host/plugin.hpp>
#include <latchkey/isolation/plugin_runner.hpp>

#include <gtest/gtest.h>
#include <sodium.h>
#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string_view>

#ifndef LATCHKEY_CERTIFY_REVISION_HEADER
#error "LATCHKEY_CERTIFY_REVISION_HEADER must be defined by the build"
#endif
#include LATCHKEY_CERTIFY_REVISION_HEADER  // LATCHKEY_CERTIFY_REVISION: git at build time, "unknown" outside a checkout
#ifndef LATCHKEY_CERTIFY_REFERENCE_DIR
#error "LATCHKEY_CERTIFY_REFERENCE_DIR must be defined by the build"
#endif
#ifndef LATCHKEY_CERTIFY_INSTALLED_REFERENCE_DIR
#error "LATCHKEY_CERTIFY_INSTALLED_REFERENCE_DIR must be defined by the build"
#endif

namespace certify = latchkey::certify;
namespace host = latchkey::host;
namespace crypto = latchkey::crypto;
using latchkey::certify::Scope;

namespace {

// The reference plugins TC-GATE pairs a plugin with: where an installed
// lk-certify finds them (relative to its own folder: ../lib/latchkey/plugins
// for /usr/bin/lk-certify), else those of the build tree it was built in.
std::string default_reference_dir() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto installed = (self.parent_path() / LATCHKEY_CERTIFY_INSTALLED_REFERENCE_DIR).lexically_normal();
    if (std::filesystem::is_directory(installed, ec)) return installed.string();
  }
  return LATCHKEY_CERTIFY_REFERENCE_DIR;
}


struct Options {
  std::string plugin;
  std::vector<std::string> devices;
  std::string out;
  std::string filter;
  bool list = false;
  std::string format = "text";
  bool interactive = false;
  bool quiet = false;
  std::optional<std::string> authz_config;
  std::string authz_issuer;
  bool authz_reference_format = false;
  std::string reference_dir = default_reference_dir();
  latchkey::isolation::PluginMode mode = latchkey::isolation::PluginMode::kIsolated;  // what the hub does by default
  // --agent: a camera agent over the hub's broker (agent_target.hpp).
  std::string agent_uri;
  certify::AgentOptions agent;
  bool agent_flags = false;  // an agent-only option was given
  // Provenance and signing.
  std::string operator_name;
  std::string lab;
  std::string sign_key;
  std::string verify_report;
  std::string trusted_key;
  std::string make_lab_key;
};

const latchkey::cli::Program& program() {
  static const latchkey::cli::Program p{
      "lk-certify",
      {"--plugin FILE [--mode isolated|in_process] [--device URI]... [--out DIR] [--filter PATTERN] "
       "[--interactive] [--authz-config TEXT] [--authz-issuer KEYID:SEEDHEX] [--authz-reference-format] "
       "[--reference-plugins DIR] [--quiet]",
       "--agent mqtt[s]://HOST[:PORT]/CAMERA_ID --password-file FILE [--user NAME] [--tls-ca-file FILE] "
       "[--agent-command CMD [--agent-frozen-args ARGS] [--agent-covered-args ARGS]] [--record-dir DIR] "
       "[--agent-window-s N] [--nonce-period-ms N] [--agent-tolerance-ms N] [--plugin RELAY.so] [--mode MODE] "
       "[--out DIR]...",
       "--list [--format text|markdown]",
       "--verify-report REPORT.json --trusted-key LAB.pub",
       "--make-lab-key NAME"},
      "Runs the Latchkey conformance suite against one plugin (a lock, camera or authorization driver) or a "
      "camera agent over the hub's broker, and says PASSED, FAILED or INCOMPLETE (what applies but was not "
      "done), in reports a lab signs (docs/certification.md).",
      {{0, "PASSED: every case that applies ran and passed (--verify-report: the report verifies)"},
       {1, "FAILED: a case failed"},
       {2, "usage error or bad input: an unknown or malformed option, a key file, a report that cannot be read"},
       {3, "INCOMPLETE: nothing failed, but something that applies was not done: a lock or camera interface "
           "without a device, a case that could not run, a case that needs the vendor's test build, a manual "
           "step not carried out; the reports list it under \"missing\""},
       {4, "--verify-report: the report does not verify (edited, signed by another key, not a signed report)"}},
      "The agent options (--agent, --user, --password-file, --tls-ca-file, --agent-command, "
      "--agent-frozen-args, --agent-covered-args, --record-dir, --agent-window-s, --nonce-period-ms, "
      "--agent-tolerance-ms) certify a camera agent (docs/camera-link.md) over the hub's broker; only TC-CAM "
      "runs."};
  return p;
}

// Every option, with the text --help prints for it.
latchkey::cli::po::options_description option_table() {
  namespace po = latchkey::cli::po;
  po::options_description d;
  const auto text = [](const char* name) { return po::value<std::vector<std::string>>()->value_name(name); };
  d.add_options()
      ("plugin", text("FILE"), "the plugin under test (with --agent: the relay the TC-CAM-1 to 5 cases drive the "
                               "agent through; default lk_net_camera.so in --reference-plugins DIR)")
      ("mode", text("MODE"), "how the device cases (TC-LOCK, TC-CAM, TC-AUTHZ) and the hub of TC-GATE run the "
                             "plugin: isolated (default; its own lk-plugin-host process, as latchkeyd runs plugins "
                             "by default) or in_process (loaded into lk-certify). TC-ABI tests the C ABI itself "
                             "and always runs in process.")
      ("device", text("URI"), "a device to test (repeatable); lock=URI or camera=URI for a plugin offering both")
      ("out", text("DIR"), "write lk-certify-report.{xml,json,html} there")
      ("filter", text("PATTERN"), "case IDs to run, comma-separated prefixes or globs (TC-LOCK, TC-*-2.*)")
      ("interactive", "prompt for the manual steps (otherwise reported as manual)")
      ("authz-config", text("TEXT"), "the authorization provider's configuration")
      ("authz-issuer", text("KEYID:SEEDHEX"), "an issuer the configuration pins, to mint credentials")
      ("authz-reference-format", "the provider reads the reference format (issuer <key id> <hex>)")
      ("reference-plugins", text("DIR"), "the reference plugins TC-GATE pairs the plugin with")
      ("quiet", "print only the summary");
  latchkey::cli::add_log_level_option(d, "of the log lines the hub of TC-GATE and the plugin hosts write on stderr",
                                      "info");
  d.add_options()
      ("operator", text("NAME"), "who ran the certification (in every report; with --interactive, the name "
                                 "recorded with each answer; default: the login name)")
      ("lab", text("NAME"), "the lab that ran it (in every report)")
      ("sign-key", text("FILE"), "sign the JSON report with the lab's Ed25519 key (needs --out; FILE as lkctl "
                                 "keygen or --make-lab-key writes it: the seed as hex, mode 0600)")
      ("verify-report", text("FILE"), "check a signed JSON report against --trusted-key PUB (the lab's .pub "
                                      "file); names the first field that differs from what was signed")
      ("trusted-key", text("PUB"), "the lab's public key --verify-report checks with")
      ("make-lab-key", text("NAME"), "write a new lab key pair, NAME.key (secret, 0600) and NAME.pub, and exit")
      ("list", "list the cases (--format text or markdown) and exit")
      ("format", text("FORMAT"), "--list's format: text (default) or markdown")
      ("agent", text("URI"), "a camera agent: mqtt://HOST[:PORT]/CAMERA_ID or mqtts://...: the agent's camera id")
      ("user", text("NAME"), "--agent: the hub's broker user (default hub)")
      ("password-file", text("FILE"), "--agent: that user's password (first line)")
      ("tls-ca-file", text("FILE"), "--agent mqtts: the CA of the broker's certificate (default: the system's)")
      ("agent-command", text("CMD"), "how to start the agent (run with /bin/sh -c); lk-certify starts, restarts "
                                     "(TC-CAM-9) and stops it. Without it the lab runs the agent and the restart "
                                     "is a manual step (--interactive), never a pass")
      ("agent-frozen-args", text("ARGS"), "appended to the command to start the agent on a frozen source "
                                          "(TC-CAM-9.3; lk-camera-agent: --freeze-after 5); else that case is "
                                          "skipped")
      ("agent-covered-args", text("ARGS"), "appended to the command to start the agent on a covered view "
                                           "(TC-CAM-10.2; lk-camera-agent: --source "
                                           "lavfi:color=black:size=640x360:rate=25); else skipped")
      ("record-dir", text("DIR"), "where the agent's recordings can be read: TC-CAM-7.1 compares the bytes it "
                                  "reports with the file's size")
      ("agent-window-s", text("N"), "how long TC-CAM-6 watches the stream (default 10, 3-3600)")
      ("nonce-period-ms", text("N"), "the hub's nonce period the agent is held to (default 250, 50-1000)")
      ("agent-tolerance-ms", text("N"), "TC-CAM-6.1's allowance beyond the declared period (default 100, 0-5000)");
  return d;
}

// The agent options that take a text (a path or a command), or nullptr.
std::string* agent_text_option(Options& o, const std::string& a) {
  if (a == "--user") return &o.agent.user;
  if (a == "--agent-command") return &o.agent.command;
  if (a == "--agent-frozen-args") return &o.agent.frozen_args;
  if (a == "--agent-covered-args") return &o.agent.covered_args;
  return nullptr;
}

std::filesystem::path* agent_path_option(Options& o, const std::string& a) {
  if (a == "--password-file") return &o.agent.password_file;
  if (a == "--tls-ca-file") return &o.agent.tls_ca_file;
  if (a == "--record-dir") return &o.agent.record_dir;
  return nullptr;
}

// The options, or nullopt: a problem printed as "lk-certify: <problem>", or
// (*exit_status set) a usage error the shared parser already reported.
std::optional<Options> parse(int argc, char** argv, std::optional<int>* exit_status) {
  Options o;
  // Every option is repeatable in the table (a vector of values): they are
  // applied in the order given, the last one winning, --device adding up.
  const latchkey::cli::Parsed parsed = latchkey::cli::parse(program(), option_table(), argc, argv);
  if (parsed.exit_status) {
    *exit_status = parsed.exit_status;
    return std::nullopt;
  }
  for (const latchkey::cli::po::option& option : parsed.in_order) {
    // Each option in the order given, as "--name" and its value, if any.
    const std::string a = "--" + option.string_key;
    std::optional<std::string> given;
    if (!option.value.empty()) given = option.value.front();
    std::optional<std::string> v;
    if (a == "--plugin" && (v = given)) o.plugin = *v;
    else if (a == "--device" && (v = given)) o.devices.push_back(*v);
    else if (a == "--out" && (v = given)) o.out = *v;
    else if (a == "--filter" && (v = given)) o.filter = *v;
    else if (a == "--format" && (v = given)) o.format = *v;
    else if (a == "--authz-config" && (v = given)) o.authz_config = *v;
    else if (a == "--authz-issuer" && (v = given)) o.authz_issuer = *v;
    else if (a == "--reference-plugins" && (v = given)) o.reference_dir = *v;
    else if (a == "--operator" && (v = given)) o.operator_name = *v;
    else if (a == "--lab" && (v = given)) o.lab = *v;
    else if (a == "--sign-key" && (v = given)) o.sign_key = *v;
    else if (a == "--verify-report" && (v = given)) o.verify_report = *v;
    else if (a == "--trusted-key" && (v = given)) o.trusted_key = *v;
    else if (a == "--make-lab-key" && (v = given)) o.make_lab_key = *v;
    else if (a == "--mode" && (v = given)) {
      if (*v == "isolated") o.mode = latchkey::isolation::PluginMode::kIsolated;
      else if (*v == "in_process") o.mode = latchkey::isolation::PluginMode::kInProcess;
      else {
        std::cerr << "lk-certify: --mode is isolated or in_process\n";
        return std::nullopt;
      }
    }
    else if (a == "--agent" && (v = given)) o.agent_uri = *v;
    else if (std::string* field = agent_text_option(o, a)) {
      if (!(v = given)) return std::nullopt;
      *field = *v;
      o.agent_flags = true;
    }
    else if (std::filesystem::path* field = agent_path_option(o, a)) {
      if (!(v = given)) return std::nullopt;
      *field = *v;
      o.agent_flags = true;
    }
    else if ((a == "--agent-window-s" || a == "--nonce-period-ms" || a == "--agent-tolerance-ms") && (v = given)) {
      const bool window = a == "--agent-window-s", nonce = a == "--nonce-period-ms";
      const unsigned long low = window ? 3 : nonce ? 50 : 0, high = window ? 3600 : nonce ? 1000 : 5000;
      unsigned long n = 0;
      const bool digits = !v->empty() && v->size() < 10 &&
                          std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; });
      if (digits) n = std::stoul(*v);
      if (!digits || n < low || n > high) {
        std::cerr << "lk-certify: " << a << " is a number from " << low << " to " << high << "\n";
        return std::nullopt;
      }
      (window ? o.agent.window_s : nonce ? o.agent.nonce_period_ms : o.agent.tolerance_ms) = static_cast<uint32_t>(n);
      o.agent_flags = true;
    }
    else if (a == "--log-level" && (v = given)) {
      if (const auto problem = latchkey::cli::log_level_problem(*v)) {
        std::cerr << "lk-certify: --log-level: " << *problem << "\n";
        return std::nullopt;
      }
      latchkey::logging::set_log_threshold(latchkey::cli::log_level_argument(*v));
    }
    else if (a == "--list") o.list = true;
    else if (a == "--interactive") o.interactive = true;
    else if (a == "--quiet") o.quiet = true;
    else if (a == "--authz-reference-format") o.authz_reference_format = true;
    else {
      std::cerr << "lk-certify: unknown option '" << a << "'\n";
      return std::nullopt;
    }
  }
  if (!o.agent_uri.empty()) {
    std::string error;
    const auto address = certify::AgentAddress::parse(o.agent_uri, &error);
    if (!address) {
      std::cerr << "lk-certify: " << error << "\n";
      return std::nullopt;
    }
    o.agent.address = *address;
    if (o.agent.password_file.empty()) {
      std::cerr << "lk-certify: --agent needs --password-file (the hub user's broker password)\n";
      return std::nullopt;
    }
    if (!o.devices.empty()) {
      std::cerr << "lk-certify: --device does not go with --agent (the agent's camera id is in its URI)\n";
      return std::nullopt;
    }
    if (!o.agent.frozen_args.empty() && o.agent.command.empty()) {
      std::cerr << "lk-certify: --agent-frozen-args needs --agent-command\n";
      return std::nullopt;
    }
    if (!o.agent.covered_args.empty() && o.agent.command.empty()) {
      std::cerr << "lk-certify: --agent-covered-args needs --agent-command\n";
      return std::nullopt;
    }
    if (!o.agent.tls_ca_file.empty() && !o.agent.address.tls) {
      std::cerr << "lk-certify: --tls-ca-file needs an mqtts:// --agent URI\n";
      return std::nullopt;
    }
    if (o.plugin.empty()) o.plugin = (std::filesystem::path(o.reference_dir) / "lk_net_camera.so").string();
  } else if (o.agent_flags) {
    std::cerr << "lk-certify: --user, --password-file, --tls-ca-file, --record-dir and the --agent-* options "
                 "need --agent\n";
    return std::nullopt;
  }
  if (!o.verify_report.empty() || !o.trusted_key.empty()) {
    if (o.verify_report.empty() || o.trusted_key.empty()) {
      std::cerr << "lk-certify: --verify-report REPORT.json and --trusted-key LAB.pub go together\n";
      return std::nullopt;
    }
    return o;
  }
  if (!o.make_lab_key.empty()) return o;
  if (!o.sign_key.empty() && o.out.empty()) {
    std::cerr << "lk-certify: --sign-key signs the JSON report: it needs --out DIR\n";
    return std::nullopt;
  }
  if (!o.list && o.plugin.empty()) {
    std::cerr << "lk-certify: --plugin FILE (or --agent URI) is required\n";
    return std::nullopt;
  }
  if (o.format != "text" && o.format != "markdown") {
    std::cerr << "lk-certify: --format is text or markdown\n";
    return std::nullopt;
  }
  return o;
}

const char* scope_text(Scope s) {
  switch (s) {
    case Scope::kPlugin: return "plugin";
    case Scope::kLock: return "each lock";
    case Scope::kCamera: return "each camera";
    case Scope::kAuthz: return "provider";
    case Scope::kGate: return "each device in the hub";
    case Scope::kAgent: return "the camera agent";
  }
  return "";
}

void list_cases(const std::string& format) {
  if (format == "text") {
    for (const auto& c : certify::all_cases())
      std::cout << c.id << (c.manual ? " (manual)" : "") << "  " << c.title << "  [" << c.cites << "]\n";
    return;
  }
  std::cout << "# Certification: the lk-certify conformance suite\n\n"
               "<!-- Generated by `lk-certify --list --format markdown`; do not edit. Regenerate with\n"
               "     `cmake --build <build> --target certification_doc`. A test fails when this file differs. -->\n\n"
               "`lk-certify` runs every applicable test case against one plugin (or, with `--agent`, one\n"
               "camera agent: see below) and writes a report a certification partner signs. The plugin's\n"
               "declared capabilities (the interfaces it offers, its lock and camera description flags,\n"
               "whether it offers test control) select the cases; the others are reported as skipped with\n"
               "the reason. Device cases run once per device URI.\n\n"
               "## Running it\n\n"
               "```sh\n"
               "lk-certify --plugin lk_acme_lock.so --device 'acme://lock/front' --out report/\n"
               "lk-certify --plugin lk_acme_lock.so --device 'acme://lock/front' --mode in_process\n"
               "lk-certify --plugin lk_acme_camera.so --device 'acme://cam/porch' --interactive\n"
               "lk-certify --plugin lk_acme_authz.so --authz-config \"$(cat authz.conf)\" \\\n"
               "           --authz-issuer acme-1:<64 hex digits of the issuer's Ed25519 seed>\n"
               "lk-certify --agent mqtt://hub.local:1883/porch --password-file hub.password \\\n"
               "           --agent-command 'lk-camera-agent --config agent.conf' \\\n"
               "           --agent-frozen-args '--freeze-after 5' --record-dir /mnt/porch/recordings \\\n"
               "           --agent-covered-args '--source lavfi:color=black:size=640x360:rate=25'\n"
               "lk-certify --list --format markdown\n"
               "```\n\n"
               "- `--mode isolated|in_process` (default `isolated`): how the plugin runs for the device cases\n"
               "  (TC-LOCK, TC-CAM, TC-AUTHZ) and in the hub of TC-GATE. `isolated` runs it in its own\n"
               "  `lk-plugin-host` process, as `latchkeyd` does by default; `in_process` loads it into\n"
               "  `lk-certify`, as a hub with `mode = in_process` does. The device cases share one plugin host\n"
               "  for the whole run, restarted if the plugin brings it down; a host failure noticed during a\n"
               "  case fails that case.\n"
               "- `--device URI` (repeatable): the devices to test. For a plugin offering both a lock and a\n"
               "  camera, prefix `lock=` or `camera=`. The reference plugins get fast defaults from their\n"
               "  driver id; any other lock or camera plugin needs `--device`. Cases that compare two devices\n"
               "  (TC-ABI-7.x) need two URIs.\n"
               "- `--filter PATTERN`: case IDs to run, comma-separated; a prefix (`TC-LOCK`) or a glob (`TC-*-2.*`).\n"
               "- `--interactive`: asks the operator at each manual step (a person opens the door, disconnects\n"
               "  the camera): `yes` or `no`, optionally followed by a note (`no the bolt stuck`). The answer,\n"
               "  the note, the time and the operator's name (`--operator`) go into the case result; a `no`\n"
               "  fails the case. In batch mode, or without an answer, the step stays manual.\n"
               "- Authorization providers: the reference format (`issuer <key id> <hex>`) is generated with\n"
               "  a fresh issuer key at run time (the reference provider, or `--authz-reference-format`);\n"
               "  for any other format give `--authz-config` and, to run the credential cases,\n"
               "  `--authz-issuer KEYID:SEEDHEX`. Without them those cases are skipped, with the reason.\n"
               "- TC-GATE runs the plugin inside the reference hub (hal_reference's runtime) with the\n"
               "  reference plugins in the other roles (`--reference-plugins DIR`, default: `../lib/latchkey/plugins` beside an installed\n"
               "  `lk-certify`, else the plugin folder of the build tree it was built in).\n"
               "- `--out DIR` writes `lk-certify-report.xml` (JUnit), `lk-certify-report.json`\n"
               "  (`conformance/proto/latchkey/certification.proto`) and `lk-certify-report.html`. Each carries\n"
               "  the run's verdict, what is missing (below) and the provenance: the plugin's SHA-256, vendor,\n"
               "  driver id and version and declared lock and camera flags; the operator and lab (`--operator`,\n"
               "  `--lab`); the host name, OS (os-release), kernel (uname), CPU model and count; lk-certify's\n"
               "  version and source revision (git at build time, `unknown` outside a checkout); the full\n"
               "  command line; start and end time (RFC 3339, UTC); the SHA-256 of the plugin and of every\n"
               "  reference plugin the run used, and in isolated mode of the `lk-plugin-host` that ran them. The\n"
               "  HTML page opens with the verdict and the failures (case,\n"
               "  device, what was expected, what came), then what is missing, all cases and the provenance.\n"
               "  While the cases run, the log lines (the hub's, the plugin hosts', the plugin's) go to\n"
               "  `lk-certify.log` in `--out`; the terminal shows one whole line per case.\n\n"
               "## Verdicts and exit status\n\n"
               "Each case: pass, FAIL, skipped (with the reason) or manual (a step for a person). A skip is\n"
               "either *not applicable* (the case concerns an interface or capability the plugin or device\n"
               "does not declare) or a gap: a case that could not run, a case that *needs test control* (the\n"
               "vendor's test build, offering `LK_INTERFACE_TEST_CONTROL`), or a manual step not carried out.\n"
               "The run:\n\n"
               "| Verdict | Exit status | When |\n|---|---|---|\n"
               "| PASSED | 0 | every case that applies ran and passed |\n"
               "| FAILED | 1 | a case failed (a plugin the host refuses fails TC-ABI-1.3: reported, not a crash) |\n"
               "| INCOMPLETE | 3 | nothing failed, but something that applies was not done |\n\n"
               "Exit status 2 is a usage error or bad input (options, key files, a report that cannot be\n"
               "written); 4 is a report that does not verify (`--verify-report`). An INCOMPLETE run lists\n"
               "under *missing*, in every report, each gap with its reason: a lock or camera interface\n"
               "offered with no `--device`, each case that could not run, each manual step not carried out,\n"
               "and, first, the cases that need the vendor's test build (submit the plugin built with test\n"
               "control for them to run).\n\n"
               "## Signed reports\n\n"
               "```sh\n"
               "lk-certify --make-lab-key lab            # lab.key (secret, 0600) and lab.pub; or lkctl keygen --out lab\n"
               "lk-certify --plugin lk_acme_lock.so --device 'acme://lock/front' --operator 'A. Tester' \\\n"
               "           --lab 'Acme Test Lab' --sign-key lab.key --out report/\n"
               "lk-certify --verify-report report/lk-certify-report.json --trusted-key lab.pub\n"
               "```\n\n"
               "`--sign-key` signs the JSON report with the lab's Ed25519 key. The signature covers a manifest,\n"
               "embedded in the report's `signature` field: for every leaf of the report, in report order, its\n"
               "path (`cases[12].verdict`, `provenance.operator`) and the SHA-256 of its canonical value.\n"
               "`--verify-report` checks the signature over the manifest with the trusted key, then recomputes\n"
               "the manifest and names the first difference: `cases[12].verdict was changed`, a field added or\n"
               "removed, or a report not signed by the trusted key. It exits 0 when the report verifies, 4\n"
               "when it does not (edited, another key, truncated, not a signed report). The key files are\n"
               "lkctl's: the 32-byte seed as 64 hex digits (mode 0600) and the public key as hex (`.pub`).\n\n"
               "The TC-ABI cases test the C ABI itself: they call the plugin's raw tables with bad arguments,\n"
               "lend it registered host buffers, probe negotiation and `get_interface` in child processes and\n"
               "read the in-process handles' contract counters. They always run against the plugin loaded into\n"
               "`lk-certify`, in either mode, each case in a child process of its own: a plugin that crashes\n"
               "(a NULL argument the ABI allows, followed), hangs (60 s) or exits fails that case, named with\n"
               "the signal and the last call the case made, and the run goes on. Every buffer they hand to the\n"
               "plugin ends against a guard page (PROT_NONE), with canaries before it: a read or write even one\n"
               "byte past its declared size fails the case and names the buffer. The reports name the mode\n"
               "(`pluginMode` in the JSON, a `plugin_mode` property in the JUnit XML, a line in the HTML).\n\n"
               "`conformance/faulty/` holds deliberately broken plugins; the tests in `tests/conformance/`\n"
               "check that each fails exactly its expected cases and that the reference plugins pass them\n"
               "all, in both modes. A fault that lies in the bytes a plugin hands over (an attestation's\n"
               "fields, a negotiation answer, an authorization verdict) reaches the suite unchanged through\n"
               "`lk-plugin-host`, so those faulty plugins run in the default mode only.\n\n"
               "## Camera timing: the tolerances\n\n"
               "Every camera timing case checks both bounds and states its tolerance in its title:\n\n"
               "- TC-CAM-1.1 watches 40 declared periods (2 s at least, 15 s at most) and measures the period\n"
               "  as the median, over every span of half the window's intervals, of the span's mean interval:\n"
               "  a late or bunched delivery on a loaded host moves a few spans, not the median. It must be\n"
               "  80-110 % of the declared `attestation_period_ms`; a single gap is only held to twice the\n"
               "  period plus 200 ms. A camera that declares 100 ms and attests every 60 or 140 ms fails.\n"
               "- TC-CAM-1.6 measures the capture clock's rate as the median slope over the attestation pairs\n"
               "  at least half the window apart, and holds it to C3's 10 % with no allowance added.\n"
               "- TC-CAM-6.1 (agents) holds every gap to the hello's period plus `--agent-tolerance-ms`, and\n"
               "  the period measured as in TC-CAM-1.1 to at least 80 % of it.\n\n"
               "Behaviour that changes only after a while: TC-CAM-1.8 watches at least 120 attestations\n"
               "(6 s at the reference's 20 per second) and, for a camera that records, two recording cycles\n"
               "(start, stop, start again, stop, one call every 20 attestations), and checks the key, the\n"
               "camera id, the boot id and the counter over all of them, naming the first attestation that\n"
               "went wrong and the recording call before it. A fault that shows later than that window is\n"
               "not seen. TC-CAM-3.2 (test control) takes the camera offline and back: under the same boot id\n"
               "its counters must go on above every counter before the outage.\n\n"
               "## Certifying a camera agent\n\n"
               "A camera that runs its own agent ([camera-link.md](camera-link.md)) is certified over the hub's\n"
               "broker with `--agent mqtt[s]://HOST[:PORT]/CAMERA_ID`, logged in as the hub's broker user\n"
               "(`--user`, default `hub`; `--password-file`; `--tls-ca-file` for `mqtts://`). Only TC-CAM runs:\n\n"
               "- TC-CAM-1 to 5 run unchanged on the relay plugin `lk_net_camera.so` (`--plugin` names another,\n"
               "  default the one in `--reference-plugins DIR`), loaded through the host loader in the run's\n"
               "  `--mode`: the agent is judged exactly as the hub sees it. The relay has no test control and\n"
               "  no snapshot, so TC-CAM-3.x and 4.1 are skipped; TC-CAM-5.1 stays a manual step.\n"
               "- TC-CAM-6 to 9 talk to the agent directly with lk-certify's own MQTT client: they read its\n"
               "  hello, time its stream on the wire, send malformed nonces and commands, and restart it.\n"
               "  The key every case holds the agent to is the one in its first hello of the run.\n"
               "- `--agent-command CMD`: lk-certify starts the agent with `/bin/sh -c CMD` (its output into\n"
               "  `agent.log` under `--out`), restarts it for TC-CAM-9 (SIGTERM to its process group, SIGKILL\n"
               "  after 10 s) and stops it at the end. Without it the lab runs the agent, and the restart of\n"
               "  TC-CAM-9.1 and 9.2 is a manual step: prompted with `--interactive` (lk-certify then watches\n"
               "  the restart), reported manual otherwise, never passed.\n"
               "- `--agent-frozen-args ARGS`: appended to the command to start the agent on a frozen source for\n"
               "  TC-CAM-9.3 (`--freeze-after 5` for `lk-camera-agent`); without it that case is skipped. The\n"
               "  agent is then restarted without them.\n"
               "- `--agent-covered-args ARGS`: appended to the command to start the agent on a covered (black)\n"
               "  view for TC-CAM-10.2 (for `lk-camera-agent`, a `--source` that shows black: a later `--source`\n"
               "  replaces the command's); without it that case is skipped. The agent is restarted without them.\n"
               "- `--record-dir DIR`: where the agent's recordings can be read (the agent's own folder, or a\n"
               "  mount of it). TC-CAM-7.1 then finds the session's file (its name holds the session id in hex,\n"
               "  as `lk-camera-agent` names them, or it is the only new file) and requires the byte count the\n"
               "  attestations report never to exceed it and, after StopRecording, to equal its size.\n"
               "- `--agent-window-s N` (default 10): how long TC-CAM-6 watches the stream.\n"
               "  `--nonce-period-ms N` (default 250, as C2): the hub's nonce period; TC-CAM-6.2 requires the\n"
               "  echo latency (nonce published to the first attestation echoing it) to be at most one period at\n"
               "  p50 and two at p99, so that an echo is still younger than C2's three periods when the next\n"
               "  nonce replaces it, and every echo to be younger than three. `--agent-tolerance-ms N` (default\n"
               "  100): what TC-CAM-6.1 allows beyond the hello's `attestation_period_ms` for any single gap.\n"
               "- The report names the relay plugin (file, SHA-256, mode) and, as its first device, the agent's\n"
               "  URI with the agent name and key its hello announced. A passing agent case writes what it\n"
               "  measured into its detail.\n\n"
               "`conformance/faulty/lk-faulty-agent` is an agent that breaks one rule chosen with `--fault`;\n"
               "`tests/conformance` certifies `lk-camera-agent` and each fault against a private broker.\n\n"
               "## Test cases\n";
  std::string family;
  for (const auto& c : certify::all_cases()) {
    const std::string f = certify::family_of(c.id);
    if (f != family) {
      family = f;
      std::cout << "\n### TC-" << f << "\n\n| ID | Checks | Cites | Runs for |\n|---|---|---|---|\n";
    }
    std::cout << "| " << c.id << " | " << c.title << (c.manual ? " (manual step)" : "") << " | " << c.cites << " | "
              << scope_text(c.scope) << " |\n";
  }
}

std::string sha256_of(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "";
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  char buffer[65536];
  while (in) {
    in.read(buffer, sizeof buffer);
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(buffer), static_cast<unsigned long long>(in.gcount()));
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  return crypto::to_hex({digest, sizeof digest});
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string version_text(uint32_t v) {
  return std::to_string(host::abi_version_major(v)) + "." + std::to_string(host::abi_version_minor(v));
}

bool configure_authz(const Options& o, certify::Subject& s) {
  const std::string& driver = s.plugin->identity().driver_id;
  s.authz.reference_format = o.authz_reference_format || driver == "org.latchkey.ref-authz";
  if (!o.authz_issuer.empty()) {
    const auto colon = o.authz_issuer.find(':');
    const auto seed = colon == std::string::npos ? std::nullopt : crypto::from_hex(o.authz_issuer.substr(colon + 1));
    if (!seed || seed->size() != 32) {
      std::cerr << "lk-certify: --authz-issuer is KEYID:<64 hex digits of an Ed25519 seed>\n";
      return false;
    }
    std::array<uint8_t, 32> bytes{};
    std::copy(seed->begin(), seed->end(), bytes.begin());
    s.authz.issuer = crypto::KeyPair::from_seed(bytes);
    s.authz.issuer_key_id = o.authz_issuer.substr(0, colon);
    s.authz.can_mint = true;
  }
  if (o.authz_config) {
    s.authz.config = *o.authz_config;
  } else if (s.authz.reference_format) {
    if (!s.authz.can_mint) {
      s.authz.issuer = crypto::KeyPair::generate();
      s.authz.issuer_key_id = "lk-certify-issuer";
      s.authz.can_mint = true;
    }
    s.authz.config = "issuer " + s.authz.issuer_key_id + " " + crypto::to_hex(s.authz.issuer.public_key) + "\n";
  }
  return true;
}

bool assign_devices(const Options& o, certify::Subject& s) {
  for (const std::string& d : o.devices) {
    if (d.rfind("lock=", 0) == 0) s.lock_uris.push_back(d.substr(5));
    else if (d.rfind("camera=", 0) == 0) s.camera_uris.push_back(d.substr(7));
    else if (s.offers_lock() && s.offers_camera()) {
      std::cerr << "lk-certify: the plugin offers a lock and a camera; prefix --device with lock= or camera=\n";
      return false;
    } else if (s.offers_camera()) s.camera_uris.push_back(d);
    else s.lock_uris.push_back(d);
  }
  if (o.devices.empty()) {
    if (s.offers_lock()) s.lock_uris = certify::default_lock_uris(s.plugin->identity().driver_id);
    if (s.offers_camera()) s.camera_uris = certify::default_camera_uris(s.plugin->identity().driver_id);
  }
  return true;
}

// Connects to the agent (and starts it with --agent-command), printing what it announced.
std::shared_ptr<certify::AgentTarget> start_agent(const Options& o) {
  auto agent = std::make_shared<certify::AgentTarget>();
  agent->options = o.agent;
  if (!o.agent.command.empty()) {
    std::error_code ignored;
    if (!o.out.empty()) std::filesystem::create_directories(o.out, ignored);
    agent->options.log_file = o.out.empty() ? std::filesystem::temp_directory_path() /
                                                  ("lk-certify-agent-" + std::to_string(::getpid()) + ".log")
                                            : std::filesystem::path(o.out) / "agent.log";
  }
  if (!o.quiet)
    std::cout << "lk-certify: camera agent " << o.agent.address.uri
              << (o.agent.command.empty() ? " (run by the lab)" : ", started with: " + o.agent.command)
              << std::endl;
  const std::string error = agent->start();
  if (!error.empty()) {
    std::cerr << "lk-certify: the camera agent was not reached: " << error << "\n";
  } else if (!o.quiet) {
    const auto& h = *agent->enrolled;
    std::cout << "lk-certify: hello from '" << h.camera_id() << "': " << (h.agent().empty() ? "(no agent name)" : h.agent())
              << ", key " << crypto::to_hex(crypto::view(h.public_key())) << ", period " << h.attestation_period_ms()
              << " ms, boot " << crypto::to_hex(crypto::view(h.boot_id())) << std::endl;
  }
  if (!o.quiet && agent->process)
    std::cout << "lk-certify: the agent's output goes to " << agent->options.log_file.string() << std::endl;
  return agent;
}

// The report's line for the agent: its URI and what its hello announced.
std::string agent_identity(const certify::AgentTarget& agent) {
  std::string text = agent.options.address.uri;
  if (!agent.enrolled) return text + " (no hello)";
  const auto& h = *agent.enrolled;
  return text + " (" + (h.agent().empty() ? "agent" : h.agent()) + ", key " +
         crypto::to_hex(crypto::view(h.public_key())) + ")";
}

std::string first_line_value(const std::filesystem::path& file, const std::string& key, char separator) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) != 0) continue;
    std::string rest = line.substr(key.size());
    const auto at = rest.find_first_not_of(" \t");
    if (at == std::string::npos || rest[at] != separator) continue;
    std::string value = rest.substr(at + 1);
    const auto b = value.find_first_not_of(" \t\"");
    const auto e = value.find_last_not_of(" \t\"");
    return b == std::string::npos ? "" : value.substr(b, e - b + 1);
  }
  return "";
}

// Where, on what and with what the run was made (the reports' provenance).
void fill_provenance(const Options& o, const std::vector<std::string>& command_line,
                     latchkey::certification::v1::Provenance& p) {
  p.set_operator_(o.operator_name);
  p.set_lab(o.lab);
  char host_name[256] = {};
  if (::gethostname(host_name, sizeof host_name - 1) == 0) p.set_host_name(host_name);
  std::string os = first_line_value("/etc/os-release", "PRETTY_NAME", '=');
  if (os.empty()) os = first_line_value("/usr/lib/os-release", "PRETTY_NAME", '=');
  p.set_os(os.empty() ? "unknown" : os);
  struct utsname u {};
  if (::uname(&u) == 0)
    p.set_kernel(std::string(u.sysname) + " " + u.release + " " + u.version + " " + u.machine);
  const std::string cpu = first_line_value("/proc/cpuinfo", "model name", ':');
  p.set_cpu_model(cpu.empty() ? "unknown" : cpu);
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  p.set_cpu_count(cpus > 0 ? static_cast<uint32_t>(cpus) : 0);
  p.set_tool_version(latchkey::kProjectVersion);
  p.set_tool_revision(LATCHKEY_CERTIFY_REVISION);
  for (const auto& a : command_line) p.add_command_line(a);
}

std::string rfc3339_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms));
  return std::string(text) + frac;
}

// The flags the first lock and camera device declare (describe), through the
// run's runner, after the cases (a plugin that fails here fails no case).
void record_declared_flags(const certify::Subject& s, latchkey::certification::v1::PluginCapabilities& caps) {
  host::DeviceHooks hooks;
  hooks.on_event = [](const host::DeviceEvent&) {};
  hooks.on_call_failed = [](const std::string&, lk_result) {};
  if (s.offers_lock() && !s.lock_uris.empty()) {
    std::unique_ptr<host::LockDevice> lock;
    if (certify::open_device(s, s.lock_uris.front(), hooks, &lock) == LK_OK && lock) {
      lk_lock_description d{};
      d.struct_size = sizeof d;
      if (lock->describe(&d) == LK_OK) caps.set_lock_flags(d.flags);
    }
  }
  if (s.offers_camera() && !s.camera_uris.empty()) {
    std::unique_ptr<host::CameraDevice> camera;
    if (certify::open_device(s, s.camera_uris.front(), hooks, &camera) == LK_OK && camera) {
      lk_camera_description d{};
      d.struct_size = sizeof d;
      if (camera->describe(&d) == LK_OK) caps.set_camera_flags(d.flags);
    }
  }
}

std::string read_text(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read " + path;
    return "";
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Points stderr (fd 2, inherited by child processes) at a log file until restore().
class LogRedirect {
 public:
  LogRedirect(const std::filesystem::path& file, bool quiet) {
    std::error_code ignored;
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ignored);
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;  // the log lines stay on the terminal, each whole under the console mutex
    std::cerr.flush();
    std::fflush(stderr);
    saved_ = ::dup(2);
    if (saved_ < 0 || ::dup2(fd, 2) < 0) {
      if (saved_ >= 0) ::close(saved_);
      saved_ = -1;
    } else if (!quiet) {
      std::cout << "lk-certify: log lines (hub, plugin hosts, plugin) go to " << file.string() << std::endl;
    }
    ::close(fd);
  }
  void restore() const {
    if (saved_ < 0) return;
    std::cerr.flush();
    std::fflush(stderr);
    ::dup2(saved_, 2);
  }
  ~LogRedirect() {
    restore();
    if (saved_ >= 0) ::close(saved_);
  }
  LogRedirect(const LogRedirect&) = delete;
  LogRedirect& operator=(const LogRedirect&) = delete;

 private:
  int saved_ = -1;
};

int verify_report_command(const Options& o) {
  latchkey::crypto::PublicKey trusted{};
  try {
    trusted = certify::read_trusted_key(o.trusted_key);
  } catch (const std::exception& e) {
    std::cerr << "lk-certify: --trusted-key: " << e.what() << "\n";
    return certify::kExitUsage;
  }
  std::string error;
  const std::string text = read_text(o.verify_report, &error);
  if (!error.empty()) {
    std::cerr << "lk-certify: --verify-report: " << error << "\n";
    return certify::kExitUsage;
  }
  const certify::Verification v = certify::verify_report(text, trusted);
  if (v.ok) {
    std::cout << "lk-certify: " << o.verify_report << ": " << v.message << "\n";
    return certify::kExitPassed;
  }
  std::cerr << "lk-certify: " << o.verify_report << " does NOT verify: " << v.message << "\n";
  return certify::kExitNotVerified;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> command_line(argv, argv + argc);
  for (int i = 1; i < argc; ++i) {
    // Before GoogleTest, whose InitGoogleTest answers --help (and -h) with its
    // own flags; the texts are the shared ones, as cli::parse prints them.
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::cout << latchkey::cli::help_text(program(), option_table());
      return 0;
    }
    if (std::string_view(argv[i]) == "--version") {
      std::cout << latchkey::cli::version_text(program().name);
      return 0;
    }
  }
  // The log of TC-GATE's hub and of the plugin hosts: as latchkeyd's, and in
  // the journal's form when stderr is the journal.
  latchkey::logging::set_journal_format(latchkey::logging::stderr_is_journal());
  ::testing::InitGoogleTest(&argc, argv);  // consumes --gtest_* flags only: the rest is the shared parser's
  std::optional<int> exit_status;
  const auto options = parse(argc, argv, &exit_status);
  if (exit_status) return *exit_status;
  if (!options) {
    std::cerr << "Try 'lk-certify --help' for more information.\n";
    return latchkey::cli::kExitUsage;
  }
  if (options->list) {
    list_cases(options->format);
    return 0;
  }
  if (sodium_init() < 0) {
    std::cerr << "lk-certify: libsodium failed to initialise\n";
    return 2;
  }
  if (!options->verify_report.empty()) return verify_report_command(*options);
  if (!options->make_lab_key.empty()) {
    try {
      const auto key = certify::make_lab_key(options->make_lab_key);
      std::cout << latchkey::crypto::to_hex(key) << "\n";
      std::cerr << "lk-certify: wrote " << options->make_lab_key << ".key (secret, mode 0600) and "
                << options->make_lab_key << ".pub\n";
      return 0;
    } catch (const std::exception& e) {
      std::cerr << "lk-certify: --make-lab-key: " << e.what() << "\n";
      return certify::kExitUsage;
    }
  }
  std::optional<latchkey::crypto::KeyPair> sign_key;
  if (!options->sign_key.empty()) {
    try {
      sign_key = certify::read_lab_key(options->sign_key);  // before the run: a bad key fails at once
    } catch (const std::exception& e) {
      std::cerr << "lk-certify: --sign-key: " << e.what() << "\n";
      return certify::kExitUsage;
    }
  }
  const std::string started_at = rfc3339_now();
  const auto started = std::chrono::steady_clock::now();
  certify::Subject subject;
  subject.file = options->plugin;
  subject.interactive = options->interactive;
  subject.operator_name = options->operator_name;
  if (subject.operator_name.empty()) {
    const char* user = std::getenv("USER");
    subject.operator_name = user != nullptr && *user != '\0' ? user : "unknown";
  }
  subject.reference_dir = options->reference_dir;
  subject.mode = options->mode;
  subject.sha256 = sha256_of(subject.file);
  // Negotiation is probed in child processes before this process loads the library.
  subject.negotiation = certify::probe_negotiation(subject.file);
  // Every line is also kept for the cases that read what the plugin logged
  // (TC-AUTHZ-3.2); an error line is printed whole under the console mutex,
  // never inside a progress line.
  subject.plugin_log = certify::recording_log(
      subject, [quiet = options->quiet](lk_log_level level, const std::string& driver, const std::string& message) {
        if (quiet || level < LK_LOG_ERROR) return;
        const std::string line = "  (plugin " + driver + ": " + message + ")\n";
        const std::lock_guard<std::mutex> lock(certify::console_mutex());
        std::cerr << line << std::flush;
      });
  host::LoadOptions load;
  load.log = subject.plugin_log;
  try {
    subject.plugin = host::Plugin::load(subject.file, load);
  } catch (const host::LoadError& e) {
    subject.load_error = e.what();
    subject.load_error_kind = host::to_string(e.kind());
  }

  latchkey::certification::v1::CertificationReport report;
  report.set_suite("lk-certify");
  report.set_sdk_version(latchkey::kProjectVersion);
  report.set_abi_version(version_text(host::kAbiVersionCurrent));
  report.set_date(utc_now());
  report.set_plugin_file(subject.file.filename().string());
  report.set_plugin_sha256(subject.sha256);
  report.set_plugin_mode(latchkey::isolation::to_string(subject.mode));
  fill_provenance(*options, command_line, *report.mutable_provenance());
  report.mutable_provenance()->set_operator_(subject.operator_name);  // --operator, else the login name
  report.mutable_provenance()->set_started(started_at);
  auto* caps = report.mutable_capabilities();
  caps->set_loaded(subject.loaded());
  caps->set_load_error(subject.load_error);
  if (subject.loaded()) {
    const auto& id = subject.plugin->identity();
    report.set_vendor(id.vendor);
    report.set_driver_id(id.driver_id);
    report.set_driver_version(id.driver_version);
    report.set_plugin_abi_version(version_text(id.abi_version));
    if (options->agent_uri.empty() && (!assign_devices(*options, subject) || !configure_authz(*options, subject)))
      return 2;
    caps->set_lock(subject.offers_lock());
    caps->set_camera(subject.offers_camera());
    caps->set_authz(subject.offers_authz());
    caps->set_test_control(subject.offers_test_control());
    caps->set_snapshot(subject.offers_camera() && subject.plugin->camera_interface()->snapshot != nullptr);
  }
  if (!options->agent_uri.empty()) {
    // The agent is what is certified; the plugin only relays it to the TC-CAM-1 to 5 cases.
    subject.agent = start_agent(*options);
    if (subject.loaded() && subject.offers_camera()) subject.camera_uris = {subject.agent->relay_uri()};
    report.add_devices(agent_identity(*subject.agent));
  }
  for (const auto& u : subject.lock_uris) report.add_devices(u);
  for (const auto& u : subject.camera_uris) report.add_devices(u);

  if (!options->quiet) {
    std::cout << "lk-certify " << latchkey::kProjectVersion << ": " << subject.file.filename().string() << " (sha256 "
              << subject.sha256.substr(0, 16) << "..., " << report.plugin_mode() << ")";
    if (subject.loaded())
      std::cout << " " << report.vendor() << " / " << report.driver_id() << " " << report.driver_version();
    else
      std::cout << " REFUSED: " << subject.load_error;
    std::cout << std::endl;
  }
  // The log lines of the run (the hub's of TC-GATE, the plugin hosts', the
  // plugin's) go to a file: on the terminal, only whole progress lines.
  const LogRedirect log_redirect(options->out.empty()
                                     ? std::filesystem::temp_directory_path() /
                                           ("lk-certify-" + std::to_string(::getpid()) + ".log")
                                     : std::filesystem::path(options->out) / "lk-certify.log",
                                 options->quiet);
  certify::run_cases(subject, options->filter, options->quiet, report);
  if (subject.loaded() && !subject.agent) record_declared_flags(subject, *caps);
  log_redirect.restore();
  report.set_duration_s(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  auto* provenance = report.mutable_provenance();
  {
    auto* p = provenance->add_plugins();
    p->set_role(subject.agent ? "relay (the agent's camera is under test)" : "plugin under test");
    p->set_path(std::filesystem::absolute(subject.file).string());
    p->set_sha256(subject.sha256);
  }
  if (options->mode == latchkey::isolation::PluginMode::kIsolated) {
    // The program that ran the plugin in isolated mode: part of what was measured.
    const std::filesystem::path host_program = latchkey::isolation::default_host_program();
    if (std::filesystem::exists(host_program)) {
      auto* p = provenance->add_plugins();
      p->set_role("plugin host lk-plugin-host");
      p->set_path(std::filesystem::absolute(host_program).string());
      p->set_sha256(sha256_of(host_program));
    }
  }
  for (const auto& file : certify::reference_plugins_used()) {
    if (!std::filesystem::exists(file)) continue;
    auto* p = provenance->add_plugins();
    p->set_role("reference " + file.filename().string());
    p->set_path(std::filesystem::absolute(file).string());
    p->set_sha256(sha256_of(file));
  }
  provenance->set_ended(rfc3339_now());

  const auto& s = report.summary();
  std::cout << "lk-certify: " << certify::run_verdict_text(report.verdict()) << ": " << s.passed() << " passed, "
            << s.failed() << " failed, " << s.missing() << " missing, " << s.not_applicable() << " not applicable ("
            << s.skipped() << " skipped, " << s.manual() << " manual; " << static_cast<long>(report.duration_s())
            << " s)" << std::endl;
  if (!options->quiet || report.verdict() == latchkey::certification::v1::RUN_VERDICT_INCOMPLETE) {
    for (const auto& m : report.missing())
      std::cout << "  missing: " << m.kind() << (m.case_id().empty() ? "" : " " + m.case_id())
                << (m.device().empty() ? "" : " [" + m.device() + "]") << ": " << m.reason() << "\n";
  }
  if (!options->out.empty()) {
    try {
      certify::write_reports(report, options->out);
      if (sign_key) {
        const auto json_file = std::filesystem::path(options->out) / "lk-certify-report.json";
        std::string error;
        const std::string json = read_text(json_file.string(), &error);
        if (!error.empty()) throw std::runtime_error(error);
        std::ofstream out(json_file, std::ios::binary | std::ios::trunc);
        out << certify::sign_report(json, *sign_key);
        if (!out) throw std::runtime_error("cannot write " + json_file.string());
        if (!options->quiet)
          std::cout << "lk-certify: signed " << json_file.string() << " with the lab key "
                    << latchkey::crypto::to_hex(sign_key->public_key).substr(0, 16) << "..." << std::endl;
      }
    } catch (const std::exception& e) {
      std::cerr << "lk-certify: " << e.what() << "\n";
      return certify::kExitUsage;
    }
  }
  return certify::exit_status(report.verdict());
}
