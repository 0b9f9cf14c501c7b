// lk-certify: runs the Latchkey conformance suite against one plugin.
//
//   lk-certify --plugin FILE [--mode isolated|in_process] [--device URI ...] [--out DIR]
//              [--filter PATTERN] [--interactive] [--authz-config TEXT]
//              [--authz-issuer KEYID:SEEDHEX] [--authz-reference-format]
//              [--reference-plugins DIR] [--quiet]
//   lk-certify --agent mqtt[s]://HOST[:PORT]/CAMERA_ID --password-file FILE [--user NAME]
//              [--tls-ca-file FILE] [--agent-command CMD [--agent-frozen-args ARGS] [--agent-covered-args ARGS]]
//              [--record-dir DIR] [--agent-window-s N] [--nonce-period-ms N]
//              [--agent-tolerance-ms N] [--plugin RELAY] [--mode ...] [--out DIR] [...]
//   lk-certify --list [--format text|markdown]
//
// Exit status: 0 when no case failed, 1 when one did, 2 on a usage error.
//
// Longer than most files: the option table and its help text, which a lab reads
// as one piece.
// The command line, the run and the report in one place, as a lab reads them
// (hence the length; the cases live in cases_*.cpp).
#include "agent_target.hpp"
#include "report.hpp"
#include "runner.hpp"
#include "suite.hpp"
#include "support.hpp"

#include <latchkey/host/plugin.hpp>

#include <gtest/gtest.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <string_view>

#ifndef LATCHKEY_SDK_VERSION
#error "LATCHKEY_SDK_VERSION must be defined by the build"
#endif
#ifndef LATCHKEY_CERTIFY_REFERENCE_DIR
#error "LATCHKEY_CERTIFY_REFERENCE_DIR must be defined by the build"
#endif

namespace certify = latchkey::certify;
namespace host = latchkey::host;
namespace crypto = latchkey::crypto;
using latchkey::certify::Scope;

namespace {

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
  std::string reference_dir = LATCHKEY_CERTIFY_REFERENCE_DIR;
  latchkey::isolation::PluginMode mode = latchkey::isolation::PluginMode::kIsolated;  // what the hub does by default
  // --agent: a camera agent over the hub's broker (agent_target.hpp).
  std::string agent_uri;
  certify::AgentOptions agent;
  bool agent_flags = false;  // an agent-only option was given
};

const char* kUsage =
    "usage: lk-certify --plugin FILE [--mode isolated|in_process] [--device URI ...] [--out DIR]\n"
    "                  [--filter PATTERN] [--interactive] [--authz-config TEXT]\n"
    "                  [--authz-issuer KEYID:SEEDHEX] [--authz-reference-format]\n"
    "                  [--reference-plugins DIR] [--quiet]\n"
    "       lk-certify --agent mqtt[s]://HOST[:PORT]/CAMERA_ID --password-file FILE [--user NAME]\n"
    "                  [--tls-ca-file FILE] [--agent-command CMD [--agent-frozen-args ARGS]\n"
    "                  [--agent-covered-args ARGS]]\n"
    "                  [--record-dir DIR] [--agent-window-s N] [--nonce-period-ms N]\n"
    "                  [--agent-tolerance-ms N] [--plugin RELAY.so] [--mode MODE] [--out DIR] [...]\n"
    "       lk-certify --list [--format text|markdown]\n";

const char* kHelp =
    "\n"
    "  --plugin FILE           the plugin under test\n"
    "  --mode MODE             how the device cases (TC-LOCK, TC-CAM, TC-AUTHZ) and the hub of\n"
    "                          TC-GATE run the plugin: isolated (default; its own lk-plugin-host\n"
    "                          process, as latchkeyd runs plugins by default) or in_process (loaded\n"
    "                          into lk-certify). TC-ABI tests the C ABI itself and always runs in process.\n"
    "  --device URI            a device to test (repeatable); lock=URI or camera=URI for a plugin\n"
    "                          offering both\n"
    "  --out DIR               write lk-certify-report.{xml,json,html} there\n"
    "  --filter PATTERN        case IDs to run, comma-separated prefixes or globs (TC-LOCK, TC-*-2.*)\n"
    "  --interactive           prompt for the manual steps (otherwise reported as manual)\n"
    "  --authz-config TEXT     the authorization provider's configuration\n"
    "  --authz-issuer KEYID:SEEDHEX  an issuer the configuration pins, to mint credentials\n"
    "  --authz-reference-format      the provider reads the reference format (issuer <key id> <hex>)\n"
    "  --reference-plugins DIR the reference plugins TC-GATE pairs the plugin with\n"
    "  --quiet                 print only the summary\n"
    "  --list                  list the cases (--format text or markdown) and exit\n"
    "\n"
    "A camera agent (docs/camera-link.md), certified over the hub's broker; only TC-CAM runs:\n"
    "  --agent URI             mqtt://HOST[:PORT]/CAMERA_ID or mqtts://...: the agent's camera id\n"
    "  --user NAME             the hub's broker user (default hub)\n"
    "  --password-file FILE    that user's password (first line)\n"
    "  --tls-ca-file FILE      mqtts: the CA of the broker's certificate (default: the system's)\n"
    "  --agent-command CMD     how to start the agent (run with /bin/sh -c); lk-certify starts,\n"
    "                          restarts (TC-CAM-9) and stops it. Without it the lab runs the agent and\n"
    "                          the restart is a manual step (--interactive), never a pass\n"
    "  --agent-frozen-args ARGS  appended to the command to start the agent on a frozen source\n"
    "                          (TC-CAM-9.3; lk-camera-agent: --freeze-after 5); else that case is skipped\n"
    "  --agent-covered-args ARGS  appended to the command to start the agent on a covered view (TC-CAM-10.2;\n"
    "                          lk-camera-agent: --source lavfi:color=black:size=640x360:rate=25); else skipped\n"
    "  --record-dir DIR        where the agent's recordings can be read: TC-CAM-7.1 compares the bytes\n"
    "                          it reports with the file's size\n"
    "  --agent-window-s N      how long TC-CAM-6 watches the stream (default 10, 3-3600)\n"
    "  --nonce-period-ms N     the hub's nonce period the agent is held to (default 250, 50-1000)\n"
    "  --agent-tolerance-ms N  TC-CAM-6.1's allowance beyond the declared period (default 100, 0-5000)\n"
    "  --plugin RELAY.so       the relay the TC-CAM-1 to 5 cases drive the agent through\n"
    "                          (default: lk_net_camera.so in --reference-plugins DIR)\n"
    "\n"
    "Exit status: 0 when no case failed, 1 when one did, 2 on a usage error.\n";

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

std::optional<Options> parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) {
        std::cerr << "lk-certify: " << a << " needs a value\n";
        return std::nullopt;
      }
      return std::string(argv[++i]);
    };
    std::optional<std::string> v;
    if (a == "--plugin" && (v = value())) o.plugin = *v;
    else if (a == "--device" && (v = value())) o.devices.push_back(*v);
    else if (a == "--out" && (v = value())) o.out = *v;
    else if (a == "--filter" && (v = value())) o.filter = *v;
    else if (a == "--format" && (v = value())) o.format = *v;
    else if (a == "--authz-config" && (v = value())) o.authz_config = *v;
    else if (a == "--authz-issuer" && (v = value())) o.authz_issuer = *v;
    else if (a == "--reference-plugins" && (v = value())) o.reference_dir = *v;
    else if (a == "--mode" && (v = value())) {
      if (*v == "isolated") o.mode = latchkey::isolation::PluginMode::kIsolated;
      else if (*v == "in_process") o.mode = latchkey::isolation::PluginMode::kInProcess;
      else {
        std::cerr << "lk-certify: --mode is isolated or in_process\n";
        return std::nullopt;
      }
    }
    else if (a == "--agent" && (v = value())) o.agent_uri = *v;
    else if (std::string* field = agent_text_option(o, a)) {
      if (!(v = value())) return std::nullopt;
      *field = *v;
      o.agent_flags = true;
    }
    else if (std::filesystem::path* field = agent_path_option(o, a)) {
      if (!(v = value())) return std::nullopt;
      *field = *v;
      o.agent_flags = true;
    }
    else if ((a == "--agent-window-s" || a == "--nonce-period-ms" || a == "--agent-tolerance-ms") && (v = value())) {
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
    else if (a == "--list") o.list = true;
    else if (a == "--interactive") o.interactive = true;
    else if (a == "--quiet") o.quiet = true;
    else if (a == "--authz-reference-format") o.authz_reference_format = true;
    else {
      if (!v) std::cerr << "lk-certify: unknown or incomplete argument '" << a << "'\n";
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
               "- `--interactive`: prompts for the manual steps (a person opens the door, disconnects the\n"
               "  camera); in batch mode they are reported as manual.\n"
               "- Authorization providers: the reference format (`issuer <key id> <hex>`) is generated with\n"
               "  a fresh issuer key at run time (the reference provider, or `--authz-reference-format`);\n"
               "  for any other format give `--authz-config` and, to run the credential cases,\n"
               "  `--authz-issuer KEYID:SEEDHEX`. Without them those cases are skipped, with the reason.\n"
               "- TC-GATE runs the plugin inside the reference hub (hal_reference's runtime) with the\n"
               "  reference plugins in the other roles (`--reference-plugins DIR`, default: the build's plugin folder).\n"
               "- `--out DIR` writes `lk-certify-report.xml` (JUnit), `lk-certify-report.json`\n"
               "  (`conformance/proto/latchkey/certification.proto`) and `lk-certify-report.html`; each names the\n"
               "  plugin's SHA-256, vendor, driver id and version, the SDK and ABI versions and the date.\n"
               "- Exit status: 0 when no case failed, 1 when one did (a plugin the host refuses fails\n"
               "  TC-ABI-1.3 and is reported, not a crash), 2 on a usage error.\n\n"
               "Verdicts: pass, FAIL, skipped (not applicable, with the reason), manual (needs a person).\n\n"
               "The TC-ABI cases test the C ABI itself: they call the plugin's raw tables with bad arguments,\n"
               "lend it registered host buffers, probe negotiation in child processes and read the in-process\n"
               "handles' contract counters. They always run against the plugin loaded into `lk-certify`,\n"
               "in either mode. The reports name the mode (`pluginMode` in the JSON, a `plugin_mode`\n"
               "property in the JUnit XML, a line in the HTML).\n\n"
               "`conformance/faulty/` holds deliberately broken plugins; the tests in `tests/conformance/`\n"
               "check, in both modes, that each fails exactly its expected cases and that the reference\n"
               "plugins pass them all.\n\n"
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
               "  100): what TC-CAM-6.1 allows beyond the hello's `attestation_period_ms`.\n"
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

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    // Before GoogleTest, which would answer --help with its own flags.
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::cout << kUsage << kHelp;
      return 0;
    }
  }
  ::testing::InitGoogleTest(&argc, argv);  // consumes --gtest_* flags only
  const auto options = parse(argc, argv);
  if (!options) {
    std::cerr << kUsage;
    return 2;
  }
  if (options->list) {
    list_cases(options->format);
    return 0;
  }
  if (sodium_init() < 0) {
    std::cerr << "lk-certify: libsodium failed to initialise\n";
    return 2;
  }
  const auto started = std::chrono::steady_clock::now();
  certify::Subject subject;
  subject.file = options->plugin;
  subject.interactive = options->interactive;
  subject.reference_dir = options->reference_dir;
  subject.mode = options->mode;
  subject.sha256 = sha256_of(subject.file);
  // Negotiation is probed in child processes before this process loads the library.
  subject.negotiation = certify::probe_negotiation(subject.file);
  // Every line is also kept for the cases that read what the plugin logged (TC-AUTHZ-3.2).
  subject.plugin_log = certify::recording_log(
      subject, [quiet = options->quiet](lk_log_level level, const std::string& driver, const std::string& message) {
        if (!quiet && level >= LK_LOG_ERROR) std::cerr << "  (plugin " << driver << ": " << message << ")\n";
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
  report.set_sdk_version(LATCHKEY_SDK_VERSION);
  report.set_abi_version(version_text(host::kAbiVersionCurrent));
  report.set_date(utc_now());
  report.set_plugin_file(subject.file.filename().string());
  report.set_plugin_sha256(subject.sha256);
  report.set_plugin_mode(latchkey::isolation::to_string(subject.mode));
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
    std::cout << "lk-certify " << LATCHKEY_SDK_VERSION << ": " << subject.file.filename().string() << " (sha256 "
              << subject.sha256.substr(0, 16) << "..., " << report.plugin_mode() << ")";
    if (subject.loaded())
      std::cout << " " << report.vendor() << " / " << report.driver_id() << " " << report.driver_version();
    else
      std::cout << " REFUSED: " << subject.load_error;
    std::cout << std::endl;
  }
  certify::run_cases(subject, options->filter, options->quiet, report);
  report.set_duration_s(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

  const auto& s = report.summary();
  std::cout << "lk-certify: " << s.passed() << " passed, " << s.failed() << " failed, " << s.skipped() << " skipped, "
            << s.manual() << " manual (" << static_cast<long>(report.duration_s()) << " s)" << std::endl;
  if (!options->out.empty()) {
    try {
      certify::write_reports(report, options->out);
    } catch (const std::exception& e) {
      std::cerr << "lk-certify: " << e.what() << "\n";
      return 2;
    }
  }
  return s.failed() == 0 ? 0 : 1;
}
