// lk-fuzz-seeds: writes the binary seed inputs of fuzz/corpus/ from the fixed
// world of support/fixed_world.hpp, so that they stay valid when a message
// format or a fixed key changes. Text seeds (configuration, HTTP) are kept
// by hand. The camera link's binary seeds (hello_pin, command_intake,
// nonce_intake) and agent_config's (a counted argument block, then a file)
// are written here too. Usage: lk-fuzz-seeds <fuzz/corpus directory>
#include <latchkey/crypto/attestations.hpp>
#include <latchkey/crypto/grants.hpp>
#include <latchkey/isolation/frame.hpp>
#include <latchkey/fleet/protocol.hpp>
#include <latchkey/fleet/revocation.hpp>
#include <latchkey/lk_authz.h>

#include "latchkey/camera_link.pb.h"
#include "latchkey/plugin_host.pb.h"
#include "support/camera_link_world.hpp"
#include "support/fixed_world.hpp"
#include "support/fleet_world.hpp"
#include "latchkey/fleet.pb.h"
#include "support/gate_world.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>

using namespace latchkey;
namespace fs = std::filesystem;

namespace {

fs::path g_root;

void write(const std::string& target, const std::string& name, const std::string& bytes) {
  const fs::path dir = g_root / target;
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

std::string mode(uint8_t m, const std::string& rest) { return std::string(1, static_cast<char>(m)) + rest; }

v1::Grant good_grant() {
  v1::Grant g;
  g.set_grant_id(std::string(16, 'g'));
  g.set_issuer_key_id(std::string(fuzz::kIssuerKeyId));
  g.set_hub_id(std::string(fuzz::kHubId));
  g.set_door_id(std::string(fuzz::kDoorId));
  g.set_courier_id("courier-1");
  const auto& pk = fuzz::courier_key().public_key;
  g.set_courier_public_key(std::string(pk.begin(), pk.end()));
  g.set_not_before_unix_ms(fuzz::kWallMs - 60'000);
  g.set_not_after_unix_ms(fuzz::kWallMs + 3'600'000);
  g.set_uses(1);
  return g;
}

std::string minted(const v1::Grant& g) {
  const crypto::Bytes b = crypto::mint_grant(g, fuzz::issuer_key().secret_key);
  return {b.begin(), b.end()};
}

void grant_seeds() {
  v1::Grant g = good_grant();
  write("grant", "valid_signed", mode(0, minted(g)));
  write("grant", "valid_body", mode(1, g.SerializeAsString()));
  v1::Grant cams = g;
  cams.add_required_camera_ids("cam-1");
  cams.add_required_camera_ids("cam-2");
  write("grant", "body_with_cameras", mode(1, cams.SerializeAsString()));
  v1::Grant long_lived = g;
  long_lived.set_not_after_unix_ms(g.not_before_unix_ms() + crypto::kMaxGrantLifetimeMs + 1);
  write("grant", "body_lifetime_over_24h", mode(1, long_lived.SerializeAsString()));
  v1::Grant other_hub = g;
  other_hub.set_hub_id("hub-2");
  write("grant", "signed_other_hub", mode(0, minted(other_hub)));
}

std::string presence_body(const std::string& challenge) {
  v1::PresenceStatement p;
  p.set_grant_id(good_grant().grant_id());
  p.set_door_id(std::string(fuzz::kDoorId));
  p.set_challenge(challenge);
  return p.SerializeAsString();
}

void unlock_seeds() {
  // The challenge unlock_request_fuzzer's engine issues: the same steps give the same bytes.
  fuzz::GateWorld world;
  const crypto::Bytes issued = world.prepare();
  const std::string challenge(issued.begin(), issued.end());
  const v1::Grant g = good_grant();
  std::string structured;
  fuzz::put_counted(structured, g.SerializeAsString());
  structured += presence_body(challenge);
  write("unlock_request", "valid_structured", mode(1, structured));
  const crypto::Bytes request = crypto::make_unlock_request(fuzz::view(minted(g)), std::string(fuzz::kDoorId),
                                                            issued, fuzz::courier_key().secret_key);
  write("unlock_request", "valid_raw", mode(0, std::string(request.begin(), request.end())));
  std::string stale;
  fuzz::put_counted(stale, g.SerializeAsString());
  stale += presence_body(std::string(16, 'x'));
  write("unlock_request", "unknown_challenge", mode(1, stale));
}

void attestation_seeds() {
  // Replays the nonces the monitor issues: one at start, one per step (flag 2).
  const fuzz::FixedRandom random;
  std::vector<std::string> nonces;
  for (int i = 0; i < 8; ++i) {
    std::string n(16, '\0');
    random(std::span<uint8_t>(reinterpret_cast<uint8_t*>(n.data()), n.size()));
    nonces.push_back(n);
  }
  std::string live;
  for (int i = 0; i < 6; ++i) {
    v1::Attestation a;
    a.set_camera_id(std::string(fuzz::kCameraId));
    a.set_boot_id(std::string(16, 'b'));
    a.set_counter(static_cast<uint64_t>(i + 1));
    a.set_capture_time_ns(static_cast<uint64_t>(1000 + 250 * (i + 1)) * 1'000'000);
    a.set_frame_digest(std::string(31, 'f') + static_cast<char>(i));
    a.set_hub_nonce(nonces[static_cast<std::size_t>(i + 1)]);
    if (i == 5) {
      a.mutable_recording()->set_recording(true);
      a.mutable_recording()->set_session_id(std::string(16, 's'));
    }
    live.push_back(static_cast<char>(1 | 2));  // harness signs; a nonce first
    live.push_back(25);                         // 250 ms
    fuzz::put_counted(live, a.SerializeAsString());
  }
  write("attestation", "six_accepted_then_recording", live);

  v1::Attestation a;
  a.set_camera_id(std::string(fuzz::kCameraId));
  a.set_boot_id(std::string(16, 'b'));
  a.set_counter(1);
  a.set_frame_digest(std::string(32, 'f'));
  a.set_hub_nonce(nonces[0]);
  const crypto::Bytes signed_by_camera = crypto::sign_attestation(a, fuzz::camera_key().secret_key);
  std::string raw(1, '\0');
  raw.push_back(1);
  fuzz::put_counted(raw, std::string(signed_by_camera.begin(), signed_by_camera.end()));
  write("attestation", "one_signed_by_camera", raw);
}

void frame_seeds() {
  plugin_host::v1::HostToHub ready;
  ready.mutable_ready()->set_abi_version(1);
  ready.mutable_ready()->set_driver_id("sim_camera");
  plugin_host::v1::HostToHub reply;
  reply.mutable_reply()->set_call_id(1);
  plugin_host::v1::CameraDescription* camera = reply.mutable_reply()->mutable_record()->mutable_camera();
  camera->set_flags(1);
  camera->set_camera_id("cam-1");
  camera->set_public_key(std::string(32, 'k'));
  camera->set_attestation_period_ms(250);
  reply.mutable_reply()->mutable_violations()->set_missing_completions(1);
  plugin_host::v1::HostToHub granted;
  granted.mutable_reply()->set_call_id(2);
  plugin_host::v1::GrantInfo* grant = granted.mutable_reply()->mutable_record()->mutable_grant();
  grant->set_uses(1);
  grant->set_grant_id(std::string(16, 'g'));
  grant->set_issuer_key_id(std::string(fuzz::kIssuerKeyId));
  grant->set_hub_id(std::string(fuzz::kHubId));
  grant->set_door_id("front");
  grant->set_courier_id("courier-1");
  grant->set_courier_public_key(std::string(32, 'c'));
  grant->set_required_camera_count(2);
  grant->add_required_camera_ids("cam-1");
  grant->add_required_camera_ids("cam-2");
  plugin_host::v1::HostToHub refused;
  refused.mutable_reply()->set_call_id(3);
  refused.mutable_reply()->set_result(LK_ERR_DENIED);
  refused.mutable_reply()->mutable_record()->mutable_refusal()->set_code(LK_REFUSAL_EXPIRED);
  refused.mutable_reply()->mutable_record()->mutable_refusal()->set_message("the grant expired");
  plugin_host::v1::HostToHub event;
  event.mutable_event()->set_device_id(1);
  event.mutable_event()->set_kind(3);
  event.mutable_event()->set_data(std::string(100, 'a'));
  plugin_host::v1::HostToHub completion;
  completion.mutable_completion()->set_device_id(1);
  completion.mutable_completion()->set_operation_id(7);
  plugin_host::v1::HostToHub log;
  log.mutable_log()->set_message("a line\nwith a break");
  std::string to_hub(1, 5);
  for (const auto* m : {&ready, &reply, &granted, &refused, &event, &completion, &log})
    isolation::append_frame(m->SerializeAsString(), &to_hub);
  write("frames_host_to_hub", "one_of_each", to_hub);
  write("frames_host_to_hub", "over_the_limit", std::string(1, 63) + std::string("\x01\x00\x00\x01", 4));

  plugin_host::v1::HubToHost ping;
  ping.set_call_id(1);
  ping.mutable_ping()->set_sequence(9);
  plugin_host::v1::HubToHost open;
  open.set_call_id(2);
  open.mutable_open()->set_device_id(1);
  open.mutable_open()->set_kind(plugin_host::v1::DEVICE_KIND_CAMERA);
  open.mutable_open()->set_uri("sim://camera?id=cam-1");
  plugin_host::v1::HubToHost call;
  call.set_call_id(3);
  call.mutable_device()->set_device_id(1);
  call.mutable_device()->set_method(plugin_host::v1::DeviceCall::START_RECORDING);
  call.mutable_device()->set_data(std::string(16, 's'));
  plugin_host::v1::HubToHost close;
  close.set_call_id(4);
  close.mutable_close()->set_device_id(1);
  std::string to_host(1, 2);
  for (const auto* m : {&ping, &open, &call, &close}) isolation::append_frame(m->SerializeAsString(), &to_host);
  write("frames_hub_to_host", "one_of_each", to_host);
}

// ---- The camera link's MQTT payloads (docs/camera-link.md) ----

std::string hello(const std::string& camera_id, const std::string& key, uint32_t period_ms) {
  v1::CameraHello h;
  h.set_camera_id(camera_id);
  h.set_public_key(key);
  h.set_boot_id(std::string(16, 'b'));
  h.set_attestation_period_ms(period_ms);
  h.set_agent("lk-camera-agent 0.1.0");
  h.set_source("lavfi:testsrc2=size=1280x720:rate=10");
  return h.SerializeAsString();
}

void hello_pin_seeds() {
  const auto pinned = fuzz::uri_pinned_key();
  const std::string key(pinned.begin(), pinned.end());
  const std::string other(32, 'k');
  const std::string cam(fuzz::kLinkCameraId);
  // Mode byte (bit 0: the URI pins the key), then counted hellos.
  std::string first(1, 0);
  fuzz::put_counted(first, hello(cam, other, 100));
  fuzz::put_counted(first, hello(cam, other, 250));  // the same key again: confirmed, its period taken
  fuzz::put_counted(first, hello(cam, key, 100));    // another key: refused
  write("hello_pin", "adopt_confirm_then_other_key", first);
  std::string uri_pinned(1, 1);
  fuzz::put_counted(uri_pinned, hello(cam, key, 100));
  fuzz::put_counted(uri_pinned, "");                 // a cleared retained hello
  fuzz::put_counted(uri_pinned, hello(cam, other, 100));
  write("hello_pin", "uri_pinned_confirm_cleared_other", uri_pinned);
  std::string refused(1, 0);
  fuzz::put_counted(refused, hello("cam-2", other, 100));               // another camera
  fuzz::put_counted(refused, hello(cam, std::string(31, 'k'), 100));    // a short key
  fuzz::put_counted(refused, std::string("\xff\xff\xff", 3));          // not protobuf
  v1::CameraHello big;
  big.ParseFromString(hello(cam, other, 100));
  big.set_source(std::string(520, 's'));
  fuzz::put_counted(refused, big.SerializeAsString());                  // over 512 bytes
  fuzz::put_counted(refused, hello(cam, other, 100));                   // then adopted
  write("hello_pin", "refused_then_adopted", refused);
}

std::string command(uint64_t id, const std::string* session) {
  v1::CameraCommand c;
  c.set_command_id(id);
  if (session != nullptr) c.mutable_start_recording()->set_session_id(*session);
  else c.mutable_stop_recording();
  return c.SerializeAsString();
}

void command_intake_seeds() {
  constexpr uint64_t kWallUs = 1'700'000'000'000'000;  // the hub counts from its wall clock in microseconds
  const std::string session(16, 's');
  const auto offer = [](std::string& out, const std::string& payload) {
    out.push_back(0);
    fuzz::put_counted(out, payload);
  };
  std::string in_order;
  offer(in_order, command(kWallUs, &session));
  offer(in_order, command(kWallUs + 1, nullptr));
  in_order += std::string("\x02\x02\x02", 3);  // take three times, the last finds nothing
  write("command_intake", "start_stop_taken", in_order);
  std::string again;
  offer(again, command(kWallUs + 5, &session));
  offer(again, command(kWallUs + 5, &session));  // a redelivery
  offer(again, command(kWallUs + 4, nullptr));   // older
  again.push_back(3);                             // a new connection
  offer(again, command(1, nullptr));             // a restarted hub counting from 1
  again += std::string("\x02\x02", 2);
  write("command_intake", "redelivery_then_reconnect", again);
  std::string bad;
  const std::string short_session(15, 's');
  offer(bad, command(7, &short_session));
  v1::CameraCommand empty;
  empty.set_command_id(8);
  offer(bad, empty.SerializeAsString());           // asks for nothing
  offer(bad, std::string("\xff\xff\xff", 3));      // not protobuf
  offer(bad, std::string(65, '\0'));               // over 64 bytes
  offer(bad, "");                                   // an empty payload
  offer(bad, command(9, &session));
  bad.push_back(2);
  write("command_intake", "malformed_then_start", bad);
}

void nonce_intake_seeds() {
  const auto step = [](std::string& out, bool sign, const std::string& nonce) {
    out.push_back(sign ? 1 : 0);
    fuzz::put_counted(out, nonce);
  };
  std::string sizes;
  step(sizes, true, "");                        // before any nonce: echoes none
  step(sizes, true, std::string(16, 'n'));
  step(sizes, true, std::string(32, 'N'));
  write("nonce_intake", "none_16_32", sizes);
  std::string refused;
  step(refused, false, std::string(20, 'a'));
  step(refused, true, std::string(15, 'b'));    // too short: 'a's still echoed
  step(refused, true, std::string(33, 'c'));    // too long
  step(refused, false, "");
  step(refused, true, std::string(16, 'd'));
  write("nonce_intake", "refused_keep_previous", refused);
}

void agent_config_seeds() {
  // A counted block of command-line arguments, one a line, then the --config file.
  const auto seed = [](const std::string& name, const std::string& args, const std::string& file) {
    std::string out;
    fuzz::put_counted(out, args);
    write("agent_config", name, out + file);
  };
  seed("full_file", "",
       "# lk-camera-agent.conf\n"
       "camera-id = cam-1\n"
       "source = lavfi:testsrc2=size=1280x720:rate=10\n"
       "input-option = video_size=1280x720\n"
       "input-option = rtsp_transport=tcp\n"
       "broker = mqtts://hub.local:8883\n"
       "password-file = /etc/latchkey/camera.pw\n"
       "tls-ca-file = /etc/latchkey/ca.pem\n"
       "key-file = /var/lib/latchkey/device.key\n"
       "record-dir = /var/lib/latchkey/recordings\n"
       "\n"
       "; test aids\n"
       "period-ms = 250\n"
       "loop = yes\n"
       "freeze-after = 0\n");
  seed("command_line_wins", "--camera-id\nporch.2\n--period-ms=20\n--broker\n[::1]:1883\n--loop=false",
       "camera-id = cam-1\nsource = rtsp://user:secret@10.0.0.5/stream\nkey-file = k\nloop = off\n");
  seed("print_key", "--print-key\n--key-file\n/tmp/k", "");
  seed("refused_lines", "",
       "camera-id = cam-1\nprint-key = true\nbroker = http://hub\nno equals sign\nunknown = 1\n");
  seed("plain_broker_with_ca", "--key-file=k\n--source=/dev/video0",
       "camera-id=c\nbroker=mqtt://hub:1883/\ntls-ca-file=/ca.pem\n");
}

}  // namespace

// fleet_down: witness answers (none held, a checkpoint the log extends, one
// longer than the log, one with another head) and a revocation list; each
// as a body the harness signs (odd modes) and once signed as a whole.
void fleet_down_seeds() {
  const auto answer_body = [](std::optional<uint64_t> size, bool other_head) {
    fleet::v1::WitnessAnswer a;
    a.set_hub_id(std::string(fuzz::kHubId));
    a.set_nonce(std::string(fuzz::query_nonce().begin(), fuzz::query_nonce().end()));
    a.set_witness_wall_ms(fuzz::kWallMs);
    if (size) {
      audit::Checkpoint cp;
      cp.size = *size;
      cp.head = fuzz::local_hash(*size);
      if (other_head) cp.head[0] ^= 1;
      cp.wall_ms = fuzz::kWallMs;
      cp.mono_ns = 5'000'000'000;
      audit::sign_checkpoint(cp, fuzz::hub_key().secret_key);
      fleet::v1::AuditCheckpoint* c = a.mutable_checkpoint();
      c->set_hub_id(std::string(fuzz::kHubId));
      c->set_size(cp.size);
      c->set_head(std::string(cp.head.begin(), cp.head.end()));
      c->set_wall_ms(cp.wall_ms);
      c->set_mono_ns(cp.mono_ns);
      c->set_signature(std::string(cp.signature.begin(), cp.signature.end()));
    }
    return a.SerializeAsString();
  };
  write("fleet_down", "answer_none", mode(1, answer_body(std::nullopt, false)));
  write("fleet_down", "answer_ok", mode(1, answer_body(5, false)));
  write("fleet_down", "answer_behind", mode(1, answer_body(12, false)));
  write("fleet_down", "answer_diverged", mode(1, answer_body(5, true)));
  fleet::v1::SignedWitnessAnswer signed_answer;
  signed_answer.set_answer(answer_body(5, false));
  signed_answer.set_signature(fuzz::signature_over(fleet::kAnswerDomain, signed_answer.answer(), fuzz::witness_key().secret_key));
  write("fleet_down", "answer_ok_signed", mode(0, signed_answer.SerializeAsString()));

  fleet::v1::RevocationList list;
  list.set_hub_id(std::string(fuzz::kHubId));
  list.set_issuer_key_id(std::string(fuzz::kIssuerKeyId));
  list.set_sequence(3);
  list.add_grant_ids(std::string(16, 'g'));
  list.add_grant_ids(std::string(16, 'h'));
  list.set_issued_wall_ms(fuzz::kWallMs);
  write("fleet_down", "revocations_body", mode(3, list.SerializeAsString()));
  fleet::v1::SignedRevocationList signed_list;
  signed_list.set_list(list.SerializeAsString());
  signed_list.set_signature(fuzz::signature_over(fleet::kRevocationDomain, signed_list.list(), fuzz::issuer_key().secret_key));
  write("fleet_down", "revocations_signed", mode(2, signed_list.SerializeAsString()));
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: lk-fuzz-seeds <fuzz/corpus directory>\n";
    return 2;
  }
  g_root = argv[1];
  grant_seeds();
  unlock_seeds();
  attestation_seeds();
  frame_seeds();
  hello_pin_seeds();
  command_intake_seeds();
  nonce_intake_seeds();
  agent_config_seeds();
  fleet_down_seeds();
  std::cout << "seeds written under " << g_root << "\n";
  return 0;
}
