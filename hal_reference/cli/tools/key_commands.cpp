// lkctl keygen, enrol and verify: the subcommands that need no running hub.
#include "commands.hpp"

#include <latchkey/audit/verify.hpp>
#include <latchkey/client/camera_enrolment.hpp>
#include <latchkey/client/key_files.hpp>
#include <latchkey/lk_camera.h>

#include <filesystem>
#include <algorithm>
#include <fstream>
#include <iostream>

namespace fs = std::filesystem;
namespace client = latchkey::client;
namespace crypto = latchkey::crypto;

namespace lkctl {

int run_keygen(const CommandLine& args) {
  const std::string name = args.required("out");
  const fs::path secret_path = name + ".key";
  const fs::path public_path = name + ".pub";
  const fs::path folder = secret_path.parent_path();
  std::error_code ec;
  if (!folder.empty() && !fs::is_directory(folder, ec)) {
    throw UsageError("--out " + name + ": folder " + folder.string() + " does not exist");
  }
  for (const fs::path& path : {secret_path, public_path}) {
    if (fs::exists(path, ec)) throw UsageError("--out " + name + ": " + path.string() + " already exists; not replacing a key");
  }
  const crypto::KeyPair key = crypto::KeyPair::generate();
  client::write_secret_key(secret_path, key);
  client::write_public_key(public_path, key.public_key);
  std::cout << crypto::to_hex(key.public_key) << "\n";
  std::cerr << "wrote " << secret_path.string() << " (secret, mode 0600) and " << public_path.string() << "\n";
  return kExitOk;
}

int run_enrol(const CommandLine& args) {
  const fs::path plugin = args.required("plugin");
  const std::string uri = args.required("uri");
  const auto observe_s = static_cast<uint32_t>(args.integer("observe-s", 0, 3600, 10));
  std::error_code ec;
  if (!fs::is_regular_file(plugin, ec)) throw UsageError("--plugin " + plugin.string() + ": no such file");
  if (observe_s > 0)
    std::cerr << "watching the camera for " << observe_s << " s (its view as it will stay; --observe-s 0 skips)\n";
  const client::CameraEnrolment camera = client::enrol_camera(plugin, uri, observe_s * 1000);
  if (!camera.snapshot.empty()) {
    const char* extension = camera.snapshot_format == LK_SNAPSHOT_FORMAT_JPEG ? ".jpg" : ".ppm";
    const fs::path picture = args.value("snapshot").value_or(camera.camera_id + "-view" + extension);
    std::ofstream out(picture, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(camera.snapshot.data()), static_cast<std::streamsize>(camera.snapshot.size()));
    if (!out) throw UsageError("--snapshot " + picture.string() + ": cannot write it");
    std::cout << "wrote " << picture.string() << ": what the camera shows as its view"
              << " (a network camera: the reference view it compares its frames with, C8); look at it\n";
  } else if (!camera.snapshot_note.empty()) {
    std::cout << "no picture: " << camera.snapshot_note << "\n";
  }
  const client::SceneRange& seen = camera.scene;
  const client::SceneThresholds t = client::choose_thresholds(seen);
  std::cout << "camera " << camera.camera_id << " (" << camera.driver << ", one attestation every "
            << camera.attestation_period_ms << " ms)\n";
  if (seen.samples > 0) {
    std::cout << "its view over " << observe_s << " s (" << seen.samples << " attestations): mean_luminance "
              << seen.min_luminance << "-" << seen.max_luminance << ", sharpness " << seen.min_sharpness << "-"
              << seen.max_sharpness << ", reference_similarity " << seen.min_similarity << "-" << seen.max_similarity
              << "\n"
              << "the reference view it compares with is the PGM file of the agent's --reference-file: look at it,\n"
              << "it must show the door, not a hand or a wall. Watch again at night and with someone at the door,\n"
              << "and lower the limits below what those show (docs/camera-agent.md, \"At enrolment\").\n";
  } else if (observe_s > 0) {
    std::cout << "no measurements of its view in " << observe_s << " s ("
              << (seen.unmeasured > 0 ? std::to_string(seen.unmeasured) + " attestations without any: it does not measure"
                                      : std::string("no attestation that verified"))
              << "); the limits below are the hub's defaults\n";
  }
  std::cout << "pin it in the hub's configuration:\n"
            << "[camera." << camera.camera_id << "]\n"
            << "uri = " << uri << "\n"
            << "key = " << crypto::to_hex(camera.public_key) << "\n"
            << "# C8: the limits of its view (docs/latchkeyd.md)"
            << (seen.samples > 0 ? ", from what it measured above" : ": the defaults") << "\n"
            << "scene_required = " << (seen.samples == 0 && seen.unmeasured > 0 ? "false" : "true") << "\n"
            << "scene_min_luminance = " << t.min_luminance << "\n"
            << "scene_max_luminance = " << t.max_luminance << "\n"
            << "scene_min_sharpness = " << t.min_sharpness << "\n"
            << "scene_min_similarity = " << t.min_similarity << "\n";
  return kExitOk;
}

int run_verify(const CommandLine& args) {
  const fs::path db = args.required("db");
  const fs::path hub_pub = args.required("hub-pub");
  std::error_code ec;
  if (!fs::is_regular_file(db, ec)) throw UsageError("--db " + db.string() + ": no such file");
  const crypto::PublicKey hub_key = client::read_public_key(hub_pub);
  const latchkey::audit::VerifyReport report = latchkey::audit::verify_log(db, hub_key);
  if (!report.ok) {
    std::cout << "FAIL";
    if (report.problem_seq != 0) std::cout << " at seq " << report.problem_seq;
    std::cout << ": " << latchkey::audit::to_string(report.problem) << ": " << report.message << "\n";
    return kExitFailure;
  }
  std::cout << "OK " << report.record_count << " records, " << report.checkpoint_count << " checkpoints, head "
            << crypto::to_hex(report.head_hash) << "\n";
  if (report.last_checkpoint) {
    std::cout << "last checkpoint covers " << report.last_checkpoint->size << " records\n";
  }
  for (const std::string& note : report.notes) std::cout << "note: " << note << "\n";
  return kExitOk;
}

}  // namespace lkctl
