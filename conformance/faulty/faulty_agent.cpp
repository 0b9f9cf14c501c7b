// lk-faulty-agent: a small camera agent speaking the camera link
// (docs/camera-link.md) over libmosquitto that breaks one rule on purpose,
// chosen with --fault, so tests/conformance can show that `lk-certify --agent`
// fails exactly the cases that rule belongs to. Synthetic frames (a frame
// number, digested), signed with latchkey_crypto; recordings are plain files.
// With --fault none it is a correct agent. Never a model for a real camera:
// lk-camera-agent and latchkey_attest are.
//
//   lk-faulty-agent --camera-id ID --broker HOST:PORT --password-file FILE --key-file FILE
//                   [--record-dir DIR] [--period-ms N] [--frozen] [--covered] [--fault NAME]
//
//   stale_nonce         echoes the nonce it received four nonces before the newest (C2)
//   repeat_counter      every fifth attestation repeats the counter before it (C3)
//   reuse_boot_id       keeps its boot id in a file and reuses it after a restart, counter from 1 (C3)
//   crash_on_bad_nonce  aborts on a nonce outside 16-32 bytes (C2: it must be ignored)
//   overstates_bytes    reports 4096 recorded bytes more than its file holds (U2)
//   blind_scene         reports an ordinary view even when started with --covered (C8)
//   fast_period         attests every 60 % of the attestation_period_ms its hello declares (C1)
//
// Scene measurements (C8): synthetic ones of an ordinary view, or of a
// covered lens with --covered (dark, flat, unlike the reference).
#include <latchkey/common/cli_options.hpp>
#include <latchkey/crypto/attestations.hpp>

#include "latchkey/camera_link.pb.h"

#include <mosquitto.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace {

namespace crypto = latchkey::crypto;
namespace v1 = latchkey::v1;

enum class Fault { kNone, kStaleNonce, kRepeatCounter, kReuseBootId, kCrashOnBadNonce, kOverstatesBytes, kBlindScene, kFastPeriod };

struct Config {
  std::string camera_id, host = "127.0.0.1", password_file, key_file, record_dir;
  uint16_t port = 1883;
  uint32_t period_ms = 100;
  bool frozen = false;
  bool covered = false;
  Fault fault = Fault::kNone;
};

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop = true; }

void log(const std::string& line) { std::cerr << "lk-faulty-agent: " << line << std::endl; }

const latchkey::cli::Program& program() {
  static const latchkey::cli::Program p{
      "lk-faulty-agent",
      {"--camera-id ID --broker HOST:PORT --password-file FILE --key-file FILE [--record-dir DIR] "
       "[--period-ms N] [--frozen] [--covered] [--fault FAULT]"},
      "A camera agent with one deliberate fault, for lk-certify's own tests: TC-CAM must fail exactly the "
      "cases of its fault.",
      {{0, "stopped by SIGTERM or SIGINT"}, {1, "failed (a key file, the broker)"}, {2, "usage error"}},
      "FAULT: none, stale_nonce, repeat_counter, reuse_boot_id, crash_on_bad_nonce, overstates_bytes, "
      "blind_scene or fast_period."};
  return p;
}

[[noreturn]] void usage(const std::string& why) { std::exit(latchkey::cli::report_usage_error(program(), why)); }

Config parse(int argc, char** argv) {
  namespace po = latchkey::cli::po;
  Config c;
  po::options_description described;
  described.add_options()
      ("camera-id", po::value<std::string>()->value_name("ID"), "the camera id (required)")
      ("broker", po::value<std::string>()->value_name("HOST:PORT"), "the hub's broker")
      ("password-file", po::value<std::string>()->value_name("FILE"), "the camera's broker password")
      ("key-file", po::value<std::string>()->value_name("FILE"), "the device key (required)")
      ("record-dir", po::value<std::string>()->value_name("DIR"), "where recordings go")
      ("period-ms", po::value<std::string>()->value_name("N"), "attestation period")
      ("frozen", "attest one frame digest forever")
      ("covered", "attest the measurements of a covered view")
      ("fault", po::value<std::string>()->value_name("FAULT"), "the fault (default none)");
  const latchkey::cli::Parsed parsed = latchkey::cli::parse(program(), described, argc, argv);
  if (parsed.exit_status) std::exit(*parsed.exit_status);
  for (const po::option& option : parsed.in_order) {
    const std::string a = "--" + option.string_key;
    const auto value = [&] { return option.value.empty() ? std::string() : option.value.front(); };
    if (a == "--camera-id") c.camera_id = value();
    else if (a == "--broker") {
      const std::string b = value();
      const auto colon = b.rfind(':');
      if (colon == std::string::npos) usage("--broker is HOST:PORT");
      c.host = b.substr(0, colon);
      c.port = static_cast<uint16_t>(std::stoi(b.substr(colon + 1)));
    } else if (a == "--password-file") c.password_file = value();
    else if (a == "--key-file") c.key_file = value();
    else if (a == "--record-dir") c.record_dir = value();
    else if (a == "--period-ms") c.period_ms = static_cast<uint32_t>(std::stoul(value()));
    else if (a == "--frozen") c.frozen = true;
    else if (a == "--covered") c.covered = true;
    else if (a == "--fault") {
      const std::string f = value();
      if (f == "none") c.fault = Fault::kNone;
      else if (f == "stale_nonce") c.fault = Fault::kStaleNonce;
      else if (f == "repeat_counter") c.fault = Fault::kRepeatCounter;
      else if (f == "reuse_boot_id") c.fault = Fault::kReuseBootId;
      else if (f == "crash_on_bad_nonce") c.fault = Fault::kCrashOnBadNonce;
      else if (f == "overstates_bytes") c.fault = Fault::kOverstatesBytes;
      else if (f == "blind_scene") c.fault = Fault::kBlindScene;
      else if (f == "fast_period") c.fault = Fault::kFastPeriod;
      else usage("--fault: unknown fault " + f);
    }
  }
  if (c.camera_id.empty() || c.key_file.empty()) usage("--camera-id and --key-file are required");
  return c;
}

std::string first_line(const std::string& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

// A hex value kept in a file (mode 0600), made with `make` the first time.
crypto::Bytes kept(const std::string& file, std::size_t size) {
  if (const auto bytes = crypto::from_hex(first_line(file)); bytes && bytes->size() == size) return *bytes;
  const crypto::Bytes fresh = crypto::random_bytes(size);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const std::string text = crypto::to_hex(fresh) + "\n";
  if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    log("cannot write " + file);
    std::exit(1);
  }
  ::close(fd);
  return fresh;
}

uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

class Agent {
 public:
  explicit Agent(Config c) : c_(std::move(c)) {
    const crypto::Bytes seed = kept(c_.key_file, 32);
    std::array<uint8_t, 32> s{};
    std::copy(seed.begin(), seed.end(), s.begin());
    key_ = crypto::KeyPair::from_seed(s);
    boot_ = c_.fault == Fault::kReuseBootId ? kept(c_.key_file + ".boot", 16) : crypto::random_bytes(16);
    base_ = "latchkey/camera/" + c_.camera_id + "/";
  }

  int run() {
    mosquitto_lib_init();
    mosq_ = mosquitto_new(nullptr, true, this);
    const std::string password = c_.password_file.empty() ? "" : first_line(c_.password_file);
    mosquitto_username_pw_set(mosq_, c_.camera_id.c_str(), password.empty() ? nullptr : password.c_str());
    mosquitto_will_set(mosq_, (base_ + "state").c_str(), 7, "offline", 1, true);
    mosquitto_connect_callback_set(mosq_, [](mosquitto*, void* self, int rc) { static_cast<Agent*>(self)->on_connect(rc); });
    mosquitto_message_callback_set(mosq_, [](mosquitto*, void* self, const mosquitto_message* m) {
      static_cast<Agent*>(self)->on_message(*m);
    });
    mosquitto_connect_async(mosq_, c_.host.c_str(), c_.port, 5);
    mosquitto_loop_start(mosq_);
    log("started: boot id " + crypto::to_hex(boot_) + ", public key " + crypto::to_hex(key_.public_key));
    auto next = std::chrono::steady_clock::now();
    while (!g_stop) {
      attest();
      next += std::chrono::milliseconds(c_.fault == Fault::kFastPeriod ? c_.period_ms * 6 / 10 : c_.period_ms);
      std::this_thread::sleep_until(next);
    }
    mosquitto_publish(mosq_, nullptr, (base_ + "state").c_str(), 7, "offline", 1, true);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, false);
    mosquitto_destroy(mosq_);
    stop_recording();
    log("stopped");
    return 0;
  }

 private:
  void on_connect(int rc) {
    if (rc != 0) return;
    {
      std::lock_guard lock(mutex_);
      last_command_.reset();
    }
    mosquitto_subscribe(mosq_, nullptr, (base_ + "nonce").c_str(), 0);
    mosquitto_subscribe(mosq_, nullptr, (base_ + "command").c_str(), 1);
    mosquitto_publish(mosq_, nullptr, (base_ + "state").c_str(), 6, "online", 1, true);
    v1::CameraHello hello;
    hello.set_camera_id(c_.camera_id);
    hello.set_public_key(key_.public_key.data(), key_.public_key.size());
    hello.set_boot_id(boot_.data(), boot_.size());
    hello.set_attestation_period_ms(c_.period_ms);
    hello.set_agent("lk-faulty-agent");
    hello.set_source("synthetic frames");
    const std::string bytes = hello.SerializeAsString();
    mosquitto_publish(mosq_, nullptr, (base_ + "hello").c_str(), static_cast<int>(bytes.size()), bytes.data(), 1, true);
    // A reference view (C8) in the shape of lk-camera-agent's file: a ramp.
    std::string cells(576, '\0');
    for (std::size_t i = 0; i < cells.size(); ++i) cells[i] = static_cast<char>((i % 32) * 8);
    const std::string reference = "P5\n# latchkey-reference-v1 blake2b-256 " +
                                  crypto::to_hex(crypto::blake2b256(crypto::view(cells))) + "\n32 18\n255\n" + cells;
    mosquitto_publish(mosq_, nullptr, (base_ + "reference").c_str(), static_cast<int>(reference.size()),
                      reference.data(), 1, true);
    connected_ = true;
  }

  void on_message(const mosquitto_message& m) {
    const std::string payload(static_cast<const char*>(m.payload), static_cast<std::size_t>(m.payloadlen));
    const std::string topic = m.topic;
    std::lock_guard lock(mutex_);
    if (topic == base_ + "nonce") {
      if (payload.size() < 16 || payload.size() > 32) {
        if (c_.fault == Fault::kCrashOnBadNonce) {
          log("a nonce of " + std::to_string(payload.size()) + " bytes: aborting (the crash_on_bad_nonce fault)");
          std::abort();
        }
        return;
      }
      nonces_.push_back(payload);
      if (nonces_.size() > 8) nonces_.pop_front();
    } else if (topic == base_ + "command") {
      v1::CameraCommand command;
      if (payload.size() > 64 || !command.ParseFromString(payload)) return;
      if (last_command_ && command.command_id() <= *last_command_) return;
      if (command.has_start_recording()) {
        if (command.start_recording().session_id().size() != 16) return;
        last_command_ = command.command_id();
        start_recording(command.start_recording().session_id());
      } else if (command.has_stop_recording()) {
        last_command_ = command.command_id();
        stop_recording_locked();
      }
    }
  }

  void start_recording(const std::string& session) {
    if (c_.record_dir.empty() || (file_ && session_ == session)) return;
    stop_recording_locked();
    ::mkdir(c_.record_dir.c_str(), 0755);
    session_ = session;
    ++segment_;
    path_ = c_.record_dir + "/" + crypto::to_hex(crypto::view(session)) + "-" +
            crypto::to_hex({boot_.data(), 4}) + "-" + std::to_string(segment_) + ".bin";
    file_ = std::fopen(path_.c_str(), "wbx");
    if (file_ == nullptr) log("cannot create " + path_);
  }

  void stop_recording_locked() {
    if (file_ == nullptr) return;
    std::fclose(file_);
    file_ = nullptr;
  }

  void stop_recording() {
    std::lock_guard lock(mutex_);
    stop_recording_locked();
  }

  uint64_t recorded_bytes() const {
    struct stat st {};
    if (path_.empty() || ::stat(path_.c_str(), &st) != 0) return 0;
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    return c_.fault == Fault::kOverstatesBytes ? size + 4096 : size;
  }

  void attest() {
    std::string bytes;
    {
      std::lock_guard lock(mutex_);
      ++attestations_;
      if (!(c_.fault == Fault::kRepeatCounter && attestations_ % 5 == 0)) ++counter_;
      if (!c_.frozen) ++frame_;
      v1::Attestation a;
      a.set_camera_id(c_.camera_id);
      a.set_boot_id(boot_.data(), boot_.size());
      a.set_counter(counter_);
      a.set_capture_time_ns(now_ns());
      const std::string frame = "faulty-agent frame " + std::to_string(frame_);
      const crypto::Digest digest = crypto::blake2b256(crypto::view(frame));
      a.set_frame_digest(digest.data(), digest.size());
      if (!nonces_.empty()) {
        const std::size_t back = c_.fault == Fault::kStaleNonce ? 4 : 0;
        a.set_hub_nonce(nonces_[nonces_.size() > back ? nonces_.size() - 1 - back : 0]);
      }
      auto* scene = a.mutable_scene();
      const bool dark = c_.covered && c_.fault != Fault::kBlindScene;
      scene->set_mean_luminance(dark ? 400 : 118'000 + static_cast<uint32_t>(frame_ % 7) * 100);
      scene->set_sharpness(dark ? 40 : 9'500);
      scene->set_reference_similarity(dark ? 0 : 940);
      auto* r = a.mutable_recording();
      if (file_ != nullptr) {
        const std::string chunk(2048, static_cast<char>(frame_));
        std::fwrite(chunk.data(), 1, chunk.size(), file_);
        std::fflush(file_);
        r->set_recording(true);
      }
      if (segment_ > 0) {
        r->set_session_id(session_);
        r->set_segment_id(segment_);
        r->set_recorded_bytes(recorded_bytes());
      }
      const crypto::Bytes signed_attestation = crypto::sign_attestation(a, key_.secret_key);
      bytes.assign(signed_attestation.begin(), signed_attestation.end());
    }
    if (connected_)
      mosquitto_publish(mosq_, nullptr, (base_ + "attestation").c_str(), static_cast<int>(bytes.size()), bytes.data(), 0,
                        false);
  }

  Config c_;
  crypto::KeyPair key_;
  crypto::Bytes boot_;
  std::string base_;
  mosquitto* mosq_ = nullptr;
  std::atomic<bool> connected_{false};
  std::mutex mutex_;
  std::deque<std::string> nonces_;
  std::optional<uint64_t> last_command_;
  uint64_t attestations_ = 0, counter_ = 0, frame_ = 0, segment_ = 0;
  std::string session_, path_;
  std::FILE* file_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
  const Config config = parse(argc, argv);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  return Agent(config).run();
}
