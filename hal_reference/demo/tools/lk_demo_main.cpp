// lk-demo: a simulated hub, start to finish. Starts latchkeyd with a
// simulated lock and camera per door in a temporary data directory, follows
// its event stream, and drives a normal delivery, the freeze attack, refused
// grants and a camera going offline, checking each outcome; then verifies the
// audit log, stops the daemon and verifies the log again offline.
// Exit 0 only when every check passed. See hal_reference/demo/README.md.
#include "demo_steps.hpp"
#include "real_camera.hpp"
#include "timeline.hpp"
#include "z2m_door.hpp"

#include <latchkey/audit/verify.hpp>
#include <latchkey/client/api_json.hpp>
#include <latchkey/client/event_collector.hpp>
#include <latchkey/common/cli_options.hpp>
#include <latchkey/demo/hub_status.hpp>

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <cstring>
#include <iostream>
#include <map>

namespace client = latchkey::client;
namespace crypto = latchkey::crypto;
namespace demo = latchkey::demo;
using namespace std::chrono_literals;

namespace {

void audit_summary(lkdemo::Demo& d) {
  std::map<std::string, int> by_type;
  std::map<std::string, int> denies;
  for (const auto& record : demo::audit_records(d.api)) {
    const std::string type = client::json_text(record, "type");
    ++by_type[type];
    const std::string kind = client::json_text(record, "kind");
    if (kind == "deny" || kind == "deny_uncounted") {
      ++denies[client::json_text(record, "rule")];
    }
  }
  std::string types;
  for (const auto& [type, count] : by_type) types += (types.empty() ? "" : ", ") + type + " " + std::to_string(count);
  d.timeline.note("audit records by type: " + types);
  std::string rules;
  for (const auto& [rule, count] : denies) rules += (rules.empty() ? "" : ", ") + rule + " " + std::to_string(count);
  d.timeline.note("denials by rule: " + (rules.empty() ? std::string("none") : rules));
}

int run(bool keep) {
  lkdemo::Timeline timeline;
  demo::SimHubOptions options;
  const demo::BuildOutputs outputs = demo::find_build_outputs(demo::executable_dir());
  options.latchkeyd = outputs.latchkeyd;
  options.plugin_dir = outputs.plugin_dir;
  options.temp_prefix = "lk-demo";
  options.gate["health_timeout_ms"] = "3000";  // the C6 alarm shows within seconds

  timeline.step("Setting up");
  // The camera side lives in a folder of its own: on a real camera it is
  // another machine. Made before the hub, which pins the agent's key.
  char camera_dir_template[] = "/tmp/lk-demo-camera-XXXXXX";
  if (::mkdtemp(camera_dir_template) == nullptr) throw demo::DaemonError("cannot make a temporary folder");
  const std::filesystem::path camera_dir = camera_dir_template;
  struct RemoveUnlessKept {
    std::filesystem::path dir;
    bool& keep;
    ~RemoveUnlessKept() {
      std::error_code ec;
      if (!keep) std::filesystem::remove_all(dir, ec);
    }
  } camera_dir_cleanup{camera_dir, keep};
  lkdemo::RealCamera real_camera(outputs.latchkeyd.parent_path() / "lk-camera-agent", camera_dir, timeline);
  options.doors.push_back(real_camera.door());
  lkdemo::Z2mDoor z2m_door(outputs.latchkeyd.parent_path() / "lk-z2m-emulator", camera_dir, timeline);
  if (z2m_door.available()) options.doors.push_back(z2m_door.door());
  demo::SimHub hub(options);
  if (keep) hub.keep_data_dir();
  timeline.act("setup", "data directory " + hub.data_dir().string());
  timeline.act("setup", "issuer key " + hub.issuer_key_id() + " = " + crypto::to_hex(hub.issuer().public_key));
  for (const auto& [camera, key] : hub.camera_keys()) {
    timeline.act("setup", "enrolled camera " + camera + ", device key " + crypto::to_hex(key));
  }
  timeline.act("setup", "doors: front (lock front, camera porch), back (lock back, camera yard), "
                        "garage (lock garage, camera drive: the real agent)" +
                            std::string(z2m_door.available() ? ", side (a Zigbee2MQTT lock and contact sensor, camera path)"
                                                             : ""));
  hub.start();
  timeline.act("setup", "latchkeyd (pid " + std::to_string(hub.process().pid()) + ") listening on " +
                            hub.endpoint().url() + ", token from " + (hub.data_dir() / "api-token").string());
  auto api = hub.client();
  auto events = std::make_unique<client::EventCollector>(
      hub.endpoint(), hub.token(), [&](const client::SseEvent& e) { timeline.hub_event(e); });
  timeline.check(events->wait_connected(5s), "following /v1/events", events->failure());

  lkdemo::Demo d{hub, *api, timeline, demo::Courier::make("courier-7"), {}};
  timeline.act("setup", "courier " + d.courier.id + ", device key " + crypto::to_hex(d.courier.key.public_key));
  timeline.check(demo::wait_cameras_live(*api, 10s), "every camera LIVE (C4)");

  lkdemo::normal_delivery(d);
  lkdemo::freeze_attack(d);
  lkdemo::refused_grants(d);
  lkdemo::camera_offline(d);
  lkdemo::plugin_crash(d);
  lkdemo::real_camera_delivery(d, real_camera);
  lkdemo::link_cut(d, real_camera);
  lkdemo::z2m_delivery(d, z2m_door);

  timeline.step("The audit log");
  const auto verify = api->get("/v1/audit/verify");
  const auto verify_json = verify.status == 200 ? verify.json() : nullptr;
  timeline.check(verify_json && client::json_true(verify_json, "ok"), "GET /v1/audit/verify: ok",
                 verify.body.substr(0, 200));
  timeline.note("records " + client::json_text(verify_json, "records") + ", head " +
                client::json_text(verify_json, "head"));
  audit_summary(d);
  const std::size_t event_count = events->size();
  events->stop();

  timeline.act("demo", "SIGTERM to latchkeyd (final signed checkpoint)");
  const int status = hub.stop();
  timeline.check(status == 0, "latchkeyd stopped cleanly", "exit status " + std::to_string(status));

  const auto report = latchkey::audit::verify_log(hub.audit_db(), hub.hub_public_key());
  timeline.check(report.ok, "verify_log with the hub's public key from hub.pub",
                 report.ok ? std::to_string(report.record_count) + " records, " +
                                 std::to_string(report.checkpoint_count) + " signed checkpoints"
                           : std::string(latchkey::audit::to_string(report.problem)) + " at seq " +
                                 std::to_string(report.problem_seq) + ": " + report.message);
  const bool final_checkpoint = report.last_checkpoint && report.last_checkpoint->size + 1 == report.record_count;
  timeline.check(final_checkpoint, "the last record is the shutdown checkpoint covering all the others");
  timeline.note("head " + crypto::to_hex(report.head_hash));

  timeline.step("Summary");
  const auto failures = timeline.failures();
  std::printf("%d checks, %zu failed, %zu hub events seen, %.1f s\n", timeline.checks(), failures.size(), event_count,
              timeline.seconds());
  for (const std::string& failure : failures) std::printf("  FAILED: %s\n", failure.c_str());
  if (!failures.empty()) {
    hub.keep_data_dir();
    std::printf("data directory kept for inspection: %s\nlatchkeyd log (last lines):\n%s", hub.data_dir().c_str(),
                hub.log_tail(20).c_str());
    return 1;
  }
  std::printf("every step gave the expected outcome%s\n",
              keep ? (", data directory kept: " + hub.data_dir().string()).c_str() : "");
  return 0;
}

const latchkey::cli::Program& program() {
  static const latchkey::cli::Program p{
      "lk-demo",
      {"[--keep]"},
      "The README's main command: starts latchkeyd on a temporary data directory with the simulated lock, "
      "cameras and the reference authorization plugin, drives it over its HTTP API through a normal delivery, "
      "the 2017 freeze attack, refused grants, a camera going offline, a killed plugin host, a real camera "
      "agent and its cut link, and a Zigbee2MQTT door, printing a timeline (time, event, decision, rule); "
      "then verifies the audit chain.",
      {{0, "every step gave the expected outcome"},
       {1, "a step did not (the data directory is kept and the hub's last log lines printed)"},
       {2, "usage error: an unknown or malformed option"}},
      ""};
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  latchkey::cli::po::options_description options;
  options.add_options()("keep", "leave the temporary data directory in place");
  const latchkey::cli::Parsed parsed = latchkey::cli::parse(program(), options, argc, argv);
  if (parsed.exit_status) return *parsed.exit_status;
  const bool keep = parsed.values.count("keep") != 0;
  try {
    return run(keep);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lk-demo: %s\n", e.what());
    return 1;
  }
}
