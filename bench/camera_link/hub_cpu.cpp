// Figure 3: the hub's CPU per network camera.
//
//   measured: the hub process (latchkey's Runtime, in this process, with
//             the real net_camera plugin in-process, one device per camera,
//             all bound to one door) while N cameras attest at 10 Hz through
//             Mosquitto; CPU time of the whole process (getrusage: the loop,
//             the plugin's link and watchdog threads, everything) over a
//             steady window once every camera is LIVE, per camera-second.
//             Every attestation of the window is accepted: each camera
//             stays LIVE throughout (the note says if one did not), and a
//             rejected attestation ends LIVE at once.
//   floor:    what those attestations cannot avoid: one bare
//             crypto_sign_ed25519_verify_detached per attestation, on the
//             bytes of a real one, CPU time, measured in the same run (the
//             figure lk-bench-attestation calls its floor).
//
// The cameras are a lightweight publisher (publisher.cpp), a process of its
// own, not 32 FFmpeg agents: the hub cannot tell the difference, the signed
// bytes are the same. Each camera count runs in a fresh child process (the
// hub) that starts its own publisher; the broker is shared.
#include "child_process.hpp"
#include "figures.hpp"

#include "hub/stats.hpp"

#include <latchkey/attestation.pb.h>
#include <latchkey/crypto/crypto.hpp>
#include <latchkey/hub/runtime.hpp>
#include <latchkey/lk_attest.h>

#include "mosquitto_broker.hpp"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

namespace latchkey::bench {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr uint32_t kRateHz = 10;

std::string hex(const uint8_t* data, std::size_t size) { return crypto::to_hex({data, size}); }

// "9.4% of one core (loop thread 4.9%)"
std::string core_share(int64_t cpu_ns, int64_t loop_cpu_ns, int64_t wall_ns) {
  const auto share = [&](int64_t ns) { return static_cast<double>(ns) / static_cast<double>(wall_ns) * 100; };
  return fmt("%.1f%%", share(cpu_ns)) + " of one core (loop thread " + fmt("%.1f%%", share(loop_cpu_ns)) + ")";
}

std::string public_key_hex(std::size_t index) {
  uint8_t seed[32];
  net_camera_seed(index, seed);
  lk_attest_key* key = nullptr;
  if (lk_attest_key_from_seed(seed, &key) != LK_ATTEST_OK) throw std::runtime_error("lk_attest_key_from_seed");
  uint8_t pk[LK_ATTEST_PUBLIC_KEY_SIZE];
  lk_attest_key_public_key(key, pk);
  lk_attest_key_free(key);
  return hex(pk, sizeof pk);
}

// CPU ns of one bare verification of a real attestation: the least disturbed
// of several rounds, on this thread's CPU clock.
double verify_floor_ns() {
  uint8_t seed[32];
  net_camera_seed(0, seed);
  lk_attest_key* key = nullptr;
  lk_attest_context* context = nullptr;
  lk_attest_key_from_seed(seed, &key);
  uint8_t pk[LK_ATTEST_PUBLIC_KEY_SIZE];
  lk_attest_key_public_key(key, pk);
  lk_attest_context_create(key, net_camera_id(0).c_str(), &context);
  lk_attest_key_free(key);
  const uint8_t nonce[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  lk_attest_set_nonce(context, nonce, sizeof nonce);
  uint8_t digest[LK_ATTEST_DIGEST_SIZE] = {7};
  uint8_t buffer[LK_ATTEST_SIGNED_MAX];
  std::size_t size = sizeof buffer;
  lk_attest_sign(context, lk_attest_monotonic_ns(), digest, buffer, &size);
  lk_attest_context_free(context);
  v1::SignedAttestation sa;
  if (!sa.ParseFromArray(buffer, static_cast<int>(size))) throw std::runtime_error("cannot parse own attestation");
  std::string message(crypto::kAttestationDomain);
  message.push_back('\0');
  message += sa.attestation();
  const auto* sig = reinterpret_cast<const uint8_t*>(sa.signature().data());
  const auto* m = reinterpret_cast<const uint8_t*>(message.data());
  double best = 0;
  constexpr int kRounds = 7, kVerifies = 500;
  for (int round = 0; round < kRounds; ++round) {
    const int64_t t0 = thread_cpu_ns(::pthread_self());
    int bad = 0;
    for (int i = 0; i < kVerifies; ++i) bad += crypto_sign_ed25519_verify_detached(sig, m, message.size(), pk) != 0;
    const double each = static_cast<double>(thread_cpu_ns(::pthread_self()) - t0) / kVerifies;
    if (bad != 0) throw std::runtime_error("the floor's attestation does not verify");
    if (round == 0 || each < best) best = each;
  }
  return best;
}

struct HubRun {
  std::size_t cameras = 0;
  int64_t cpu_ns = 0, loop_cpu_ns = 0, wall_ns = 0, published = 0;
  long live = 0, live_ended = 0;
  int status = -1;
  bool ok = false;
};

HubRun run_child(const std::string& self_exe, const fs::path& dir, std::size_t cameras, uint32_t seconds,
                 const testing::MosquittoBroker& broker, const fs::path& credentials, bool silent = false) {
  std::string out;
  const ChildExit e = run_to_end({self_exe, "hub-cpu-one", "--dir", dir.string(), "--cameras", std::to_string(cameras),
                                  "--seconds", std::to_string(seconds), "--port", std::to_string(broker.port()),
                                  "--hub-password-file", broker.password_file(testing::MosquittoBroker::kHubUser).string(),
                                  "--credentials", credentials.string(), "--silent", silent ? "1" : "0"},
                                 (dir / ("hub-" + std::to_string(cameras) + (silent ? "-silent" : "") + ".log")).string(),
                                 std::chrono::seconds(seconds + 90), &out);
  HubRun r;
  r.cameras = cameras;
  r.status = e.status;
  if (out.find("HUBCPU ") == std::string::npos)
    std::fprintf(stderr, "hub cpu: %zu cameras: exit %d, printed: %s\n", cameras, e.status, out.c_str());
  long long cpu = 0, loop = 0, wall = 0, published = 0;
  const auto at = out.find("HUBCPU ");
  r.ok = e.status == 0 && at != std::string::npos &&
         std::sscanf(out.c_str() + at, "HUBCPU cpu_ns=%lld loop_cpu_ns=%lld wall_ns=%lld published=%lld live_ended=%ld live=%ld",
                     &cpu, &loop, &wall, &published, &r.live_ended, &r.live) == 6;
  r.cpu_ns = cpu;
  r.loop_cpu_ns = loop;
  r.wall_ns = wall;
  r.published = published;
  return r;
}

}  // namespace

std::string net_camera_id(std::size_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "cam-%03zu", index);
  return name;
}

void net_camera_seed(std::size_t index, uint8_t seed[32]) {
  const crypto::Digest d = crypto::blake2b256(crypto::view("latchkey-bench-net-camera-" + std::to_string(index)));
  std::copy(d.begin(), d.end(), seed);
}

int run_hub_cpu_one(const std::string& self_exe, const fs::path& dir, std::size_t cameras, uint32_t seconds,
                    uint16_t port, const fs::path& hub_password_file, const fs::path& credentials, bool silent) {
  const fs::path data = dir / ("hub-" + std::to_string(cameras) + (silent ? "-silent" : ""));
  fs::remove_all(data);
  fs::create_directories(data);
  const crypto::KeyPair issuer = crypto::KeyPair::generate();
  const std::string issuer_hex = crypto::to_hex(issuer.public_key);
  std::string config = "[hub]\nid = hub-bench\ndata_dir = " + data.string() +
                       "\nplugin_dir = " LATCHKEY_PLUGIN_DIR "\nclock_synced = trust\n"
                       // In-process, as the other hub figures: the hub's own cost per
                       // camera, the plugin's threads included.
                       "[plugin.lock]\nfile = lk_sim_lock.so\nmode = in_process\n"
                       "[plugin.net]\nfile = lk_net_camera.so\nmode = in_process\n"
                       "[plugin.authz]\nfile = lk_ref_authz.so\nmode = in_process\n"
                       "[lock.front]\nplugin = lock\nuri = sim://lock/front\n";
  std::string bound;
  for (std::size_t i = 0; i < cameras; ++i) {
    const std::string id = net_camera_id(i), key = public_key_hex(i);
    config += "[camera." + id + "]\nplugin = net\nuri = mqtt://127.0.0.1:" + std::to_string(port) + "/" + id +
              "?password_file=" + hub_password_file.string() + "&period_ms=" + std::to_string(1000 / kRateHz) +
              "&hello_timeout_ms=0&key=" + key + "\nkey = " + key + "\n";
    bound += (i ? "," : "") + id;
  }
  config += "[door.front]\nlock = front\ncameras = " + bound + "\n[authz]\nplugin = authz\nconfig = issuer iss-1 " +
            issuer_hex + "\n[issuer.iss-1]\nkey = " + issuer_hex + "\n";

  hub::Runtime runtime(hub::DaemonConfig::parse(config, data));
  std::mutex mutex;
  std::condition_variable changed;
  long live = 0, ended = 0;
  runtime.subscribe(0, [&](const hub::HubEvent& e) {
    const auto* change = std::get_if<hub::CameraLiveness>(&e.data);
    if (change == nullptr) return;
    std::lock_guard lock(mutex);
    if (change->live) {
      ++live;
    } else {
      --live;
      ++ended;
    }
    changed.notify_all();
  });
  std::thread loop([&] { runtime.run(); });

  // Silent: the cameras' devices are open and the hub sends them nonces, but
  // nothing attests (no publisher): what a camera costs the hub by itself.
  std::unique_ptr<ChildProcess> publisher;
  if (!silent) {
    publisher = std::make_unique<ChildProcess>(
        std::vector<std::string>{self_exe, "publisher", "--port", std::to_string(port), "--credentials",
                                 credentials.string(), "--cameras", std::to_string(cameras), "--rate-hz",
                                 std::to_string(kRateHz)},
        (dir / ("publisher-" + std::to_string(cameras) + ".log")).string());
    if (publisher->read_line(30s).rfind("READY", 0) != 0) throw std::runtime_error("the publisher did not start");
    std::unique_lock lock(mutex);
    if (!changed.wait_for(lock, 30s, [&] { return live >= static_cast<long>(cameras); }))
      std::fprintf(stderr, "hub cpu: only %ld of %zu cameras LIVE after 30 s\n", live, cameras);
  }
  std::this_thread::sleep_for(2s);  // past the first nonce rounds and health checks

  // Attestations published in the window, from the publisher's own count.
  // None is rejected: every camera stays LIVE through the window, and a
  // rejected attestation ends LIVE at once (LivenessMonitor).
  const auto published = [&] {
    if (!publisher) return 0LL;
    publisher->signal(SIGUSR1);
    long long n = -1;
    const std::string line = publisher->read_line(5s);
    return std::sscanf(line.c_str(), "COUNT %lld", &n) == 1 ? n : -1LL;
  };
  long ended_before = 0;
  {
    std::lock_guard lock(mutex);
    ended_before = ended;
  }
  const long long p0 = published();
  const int64_t w0 = mono_ns(), c0 = process_cpu_ns(), l0 = thread_cpu_ns(loop.native_handle());
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const int64_t w1 = mono_ns(), c1 = process_cpu_ns(), l1 = thread_cpu_ns(loop.native_handle());
  const long long p1 = published();
  long live_now = 0, ended_in_window = 0;
  {
    std::lock_guard lock(mutex);
    live_now = live;
    ended_in_window = ended - ended_before;
  }
  std::printf("HUBCPU cpu_ns=%lld loop_cpu_ns=%lld wall_ns=%lld published=%lld live_ended=%ld live=%ld\n",
              static_cast<long long>(c1 - c0), static_cast<long long>(l1 - l0), static_cast<long long>(w1 - w0),
              p0 < 0 || p1 < 0 ? -1LL : p1 - p0, ended_in_window, live_now);
  std::fflush(stdout);
  if (publisher) {
    publisher->signal(SIGTERM);
    publisher->wait(5s);
  }
  // The figures are out; the data directory is scratch. Leave without the
  // orderly shutdown (it closes every device and writes a checkpoint).
  std::fflush(stderr);
  ::_exit(0);
}

int run_hub_cpu(const std::string& self_exe, const fs::path& dir, const std::vector<std::size_t>& counts,
                uint32_t seconds) {
  if (sodium_init() < 0) throw std::runtime_error("sodium_init failed");
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::size_t most = 0;
  for (std::size_t n : counts) most = std::max(most, n);
  testing::BrokerOptions options;
  for (std::size_t i = 0; i < most; ++i) options.cameras.push_back(net_camera_id(i));
  testing::MosquittoBroker broker(options);
  const fs::path credentials = dir / "cameras.credentials";
  {
    std::ofstream out(credentials);
    for (const std::string& id : options.cameras) out << id << " " << broker.password(id) << "\n";
  }
  ::chmod(credentials.c_str(), 0600);

  const double verify_before = verify_floor_ns();
  std::vector<HubRun> runs;
  for (std::size_t n : counts) {
    std::fprintf(stderr, "hub cpu: %zu cameras at %u Hz, %u s window\n", n, kRateHz, seconds);
    runs.push_back(run_child(self_exe, dir, n, seconds, broker, credentials));
  }
  std::fprintf(stderr, "hub cpu: %zu silent cameras (open, no attestations), %u s window\n", most, seconds);
  const HubRun silent = run_child(self_exe, dir, most, seconds, broker, credentials, true);
  const double verify_ns = std::min(verify_before, verify_floor_ns());

  const HubRun* previous = nullptr;
  for (const HubRun& r : runs) {
    const std::string label = std::to_string(r.cameras) + (r.cameras == 1 ? " camera" : " cameras");
    if (!r.ok || r.published <= 0) {
      print_row("Hub CPU per network camera, " + label, "failed", "-", "-", "-", "ERROR",
                "exit status " + std::to_string(r.status) + "; see " +
                    (dir / ("hub-" + std::to_string(r.cameras) + ".log")).string());
      continue;
    }
    const double wall_s = static_cast<double>(r.wall_ns) / 1e9;
    const double per_camera_ms = static_cast<double>(r.cpu_ns) / 1e6 / wall_s / static_cast<double>(r.cameras);
    const double rate = static_cast<double>(r.published) / wall_s / static_cast<double>(r.cameras);
    const double floor_ms = rate * verify_ns / 1e6;
    std::string note = "floor: " + fmt("%.1f", rate) + " attestations/s per camera x one bare Ed25519 verify (" +
                       fmt("%.1f us", verify_ns / 1e3) + " CPU); " + std::to_string(r.live) + " LIVE, " +
                       std::to_string(r.live_ended) + " left LIVE in the window; hub " +
                       core_share(r.cpu_ns, r.loop_cpu_ns, r.wall_ns);
    if (previous != nullptr && r.cameras > previous->cameras) {
      // What one more camera costs, with the hub's fixed work taken out.
      const double extra = (static_cast<double>(r.cpu_ns) / static_cast<double>(r.wall_ns) -
                            static_cast<double>(previous->cpu_ns) / static_cast<double>(previous->wall_ns)) *
                           1e3 / static_cast<double>(r.cameras - previous->cameras);
      note += "; marginal " + std::to_string(previous->cameras) + " to " + std::to_string(r.cameras) + ": " +
              fmt("%.2f ms/s", extra) + " per camera = " + fmt("%.1fx", extra / floor_ms) + " the floor";
    }
    print_row("Hub CPU per network camera, " + label, fmt("%.2f ms/s", per_camera_ms), fmt("%.2f ms/s", floor_ms),
              fmt("%.1f", per_camera_ms / floor_ms), "-", "info", note);
    previous = &r;
  }
  if (silent.ok && previous != nullptr) {
    const double floor_ms = static_cast<double>(previous->published) / (static_cast<double>(previous->wall_ns) / 1e9) /
                            static_cast<double>(previous->cameras) * verify_ns / 1e6;
    const double per_camera_ms = static_cast<double>(silent.cpu_ns) / 1e6 /
                                 (static_cast<double>(silent.wall_ns) / 1e9) / static_cast<double>(silent.cameras);
    print_row("Hub CPU per silent network camera, " + std::to_string(silent.cameras) + " cameras",
              fmt("%.2f ms/s", per_camera_ms), fmt("%.2f ms/s", floor_ms), fmt("%.1f", per_camera_ms / floor_ms), "-",
              "info",
              "devices open, 4 nonces/s each sent, nothing attests: the plugin's link thread and 25 ms watchdog, the "
              "hub's nonce timers (and the cameras' C6 health alarms, once); floor: that of an attesting camera "
              "above; hub " + core_share(silent.cpu_ns, silent.loop_cpu_ns, silent.wall_ns));
  } else if (!silent.ok) {
    print_row("Hub CPU per silent network camera", "failed", "-", "-", "-", "ERROR",
              "exit status " + std::to_string(silent.status) + "; see " +
                  (dir / ("hub-" + std::to_string(most) + "-silent.log")).string());
  }
  return 0;
}

}  // namespace latchkey::bench
