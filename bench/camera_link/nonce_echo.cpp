// Figure 1: nonce-to-echo latency over the broker path.
//
//   measured: the net_camera plugin (lk_net_camera.so through the host
//             loader, as the hub loads it) delivers a nonce; lk-camera-agent
//             (a real process, lavfi test source) takes it; the first
//             attestation echoing it comes back to the plugin as
//             LK_EVENT_ATTESTATION. Timed from deliver_nonce() to the event.
//   floor:    the bare MQTT round trip through the same Mosquitto (same ACL,
//             same QoS 0, the same topics of another camera): client A
//             (user "hub") publishes 16 bytes on .../nonce, client B (the
//             camera's user) echoes a payload of an attestation's size on
//             .../attestation, A receives it. One floor trial follows each
//             nonce trial, so both see the same machine.
//
// The agent signs on its own period P, not when a nonce arrives, so every
// raw latency holds a wait for the agent's next tick, uniform in [0, P)
// because trials start at random phases. That wait is taken out per trial:
//   - the agent's ticks are a fixed grid (its loop does next += P), so every
//     attestation arrives at T + counter * P + d, d >= 0 its return leg
//     (tick wake-up, signing, publish, broker, plugin). T' = min(arrival -
//     counter * P) over the run is the grid shifted by the fastest return
//     leg d_min; G(c) = T' + c * P.
//   - an observer client subscribed to the camera's nonce topic receives each
//     nonce when the agent does (the broker writes both in one pass), at t_o.
//   - nonce trial i, echoed by the attestation with counter c:
//       L = echo - send = (t_o - send) + (G(c) - t_o) + (echo - G(c)),
//     the middle term being wait + d_min, so
//       L - wait = (t_o - send) + (echo - G(c)) + d_min:
//     forward leg (plugin to agent) plus return leg (tick to hub event).
//   - d_min is bounded below by the trials: each nonce missed the tick before
//     the one that echoed it, so d_min > G(c) - P - t_o. The largest such
//     bound is used; one trial in five is aimed at just before a grid point,
//     so some nonces miss a tick narrowly and the bound is tight. Those aimed
//     trials count for the wait-free figures only (their wait is not
//     uniform).
//   - when a tick wakes over a period late the agent restarts its schedule;
//     the grid is fitted per stretch between restarts (fit_grid), and the
//     trials echoed right after a restart are left out of the wait-free
//     figures.
// A variant runs the same with TCP_NODELAY on every hop (the broker's
// set_tcp_nodelay and lk_bench_tcp_nodelay.so preloaded into this program
// and the agent): as shipped, neither the plugin, the agent nor the broker
// turns Nagle's algorithm off, and an attestation sent while the previous
// one waits for a delayed ACK is held until that ACK (tens of ms).
// The figure, its floor and the care about the agent's tick stay together
// (hence the length).
#include "child_process.hpp"
#include "figures.hpp"
#include "mqtt_client.hpp"

#include "hub/stats.hpp"

#include <latchkey/attestation.pb.h>
#include <latchkey/host/devices.hpp>
#include <latchkey/host/plugin.hpp>

#include "mosquitto_broker.hpp"

#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

namespace latchkey::bench {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kCamera = "porch";      // the agent's camera id (its broker user)
constexpr const char* kFloorCamera = "floor";  // the floor's echo client, as a camera of the same broker
constexpr const char* kObserver = "observer";
constexpr std::size_t kNonceBytes = 16;
constexpr const char* kAgentSource = "lavfi:testsrc2=size=320x240:rate=25";

std::string topic(const std::string& camera, const char* leaf) { return "latchkey/camera/" + camera + "/" + leaf; }

std::string random_nonce() {
  std::string n(kNonceBytes, '\0');
  randombytes_buf(n.data(), n.size());
  return n;
}

void sleep_until_ns(int64_t t) {
  timespec ts{static_cast<time_t>(t / 1'000'000'000), static_cast<long>(t % 1'000'000'000)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// Every attestation the plugin relays, and the nonce each one echoes.
class AttestationLog {
 public:
  struct Arrival {
    int64_t at_ns;
    uint64_t counter;
    std::string nonce;
  };

  void on_event(const host::DeviceEvent& e) {
    const int64_t at = mono_ns();
    if (e.kind != LK_EVENT_ATTESTATION || !e.data) return;
    v1::SignedAttestation signed_attestation;
    v1::Attestation a;
    if (!signed_attestation.ParseFromArray(e.data->data(), static_cast<int>(e.data->size())) ||
        !a.ParseFromString(signed_attestation.attestation()))
      return;
    std::lock_guard lock(mutex_);
    arrivals_.push_back({at, a.counter(), a.hub_nonce()});
    last_size_ = e.data->size();
    changed_.notify_all();
  }

  void clear() {
    std::lock_guard lock(mutex_);
    arrivals_.clear();
  }
  std::size_t size() {
    std::lock_guard lock(mutex_);
    return arrivals_.size();
  }
  std::size_t last_size() {
    std::lock_guard lock(mutex_);
    return last_size_;
  }
  bool wait_count(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return arrivals_.size() >= n; });
  }
  // The first arrival from index from on that echoes nonce.
  bool wait_echo(const std::string& nonce, std::size_t from, std::chrono::milliseconds timeout, Arrival* out) {
    std::unique_lock lock(mutex_);
    std::size_t next = from;
    const auto found = [&] {
      for (; next < arrivals_.size(); ++next)
        if (arrivals_[next].nonce == nonce) return true;
      return false;
    };
    if (!changed_.wait_for(lock, timeout, found)) return false;
    *out = arrivals_[next];
    return true;
  }
  std::vector<Arrival> snapshot() {
    std::lock_guard lock(mutex_);
    return arrivals_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Arrival> arrivals_;
  std::size_t last_size_ = 0;
};

// When the observer saw each nonce.
class NonceObserver {
 public:
  void on_message(const uint8_t* data, std::size_t size) {
    const int64_t at = mono_ns();
    std::lock_guard lock(mutex_);
    seen_.emplace_back(std::string(reinterpret_cast<const char*>(data), size), at);
    changed_.notify_all();
  }
  bool wait(const std::string& nonce, std::chrono::milliseconds timeout, int64_t* at) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      for (auto it = seen_.rbegin(); it != seen_.rend(); ++it)
        if (it->first == nonce) {
          *at = it->second;
          return true;
        }
      return false;
    });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::pair<std::string, int64_t>> seen_;
};

// The floor: A publishes, B echoes, A receives.
class FloorEcho {
 public:
  FloorEcho(const testing::MosquittoBroker& broker, std::size_t reply_size)
      : reply_size_(reply_size),
        a_(testing::MosquittoBroker::kHubUser, broker.password(testing::MosquittoBroker::kHubUser),
           [this](const std::string&, const uint8_t* d, std::size_t n) { on_reply(d, n); }),
        b_(kFloorCamera, broker.password(kFloorCamera),
           [this](const std::string&, const uint8_t* d, std::size_t n) { on_request(d, n); }) {
    a_.connect(broker.address(), broker.port());
    b_.connect(broker.address(), broker.port());
    a_.subscribe(topic(kFloorCamera, "attestation"), 0);
    b_.subscribe(topic(kFloorCamera, "nonce"), 0);
  }

  // One round trip in ns, or -1 when the reply did not come within 1 s.
  int64_t round_trip() {
    const std::string nonce = random_nonce();
    {
      std::lock_guard lock(mutex_);
      expected_ = nonce;
      replied_at_ = 0;
    }
    const int64_t sent = mono_ns();
    a_.publish(topic(kFloorCamera, "nonce"), nonce.data(), nonce.size(), 0);
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, 1s, [&] { return replied_at_ != 0; })) return -1;
    return replied_at_ - sent;
  }

 private:
  void on_request(const uint8_t* d, std::size_t n) {
    std::string reply(reinterpret_cast<const char*>(d), n);
    reply.resize(std::max(reply_size_, n), 'x');
    b_.publish(topic(kFloorCamera, "attestation"), reply.data(), reply.size(), 0);
  }
  void on_reply(const uint8_t* d, std::size_t n) {
    const int64_t at = mono_ns();
    std::lock_guard lock(mutex_);
    if (n >= kNonceBytes && std::equal(expected_.begin(), expected_.end(), reinterpret_cast<const char*>(d))) {
      replied_at_ = at;
      changed_.notify_all();
    }
  }

  std::size_t reply_size_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string expected_;
  int64_t replied_at_ = 0;
  MqttClient a_;
  MqttClient b_;
};

struct Trial {
  int64_t sent = 0;
  int64_t observed = 0;  // the observer's copy of the nonce
  int64_t echoed = 0;
  uint64_t counter = 0;  // of the echo
  bool aimed = false;    // sent just before a grid point: not a random phase
};

// The agent's tick grid as the hub sees it. Its loop keeps next += P, so
// arrival - counter * P = T + d, with d >= 0 the return leg; T' = min(arrival
// - counter * P) is the grid shifted by the fastest return leg. When a tick
// wakes more than a period late (a busy machine) the loop restarts its
// schedule from then (next = now): T moves later by more than a period and
// stays there. Such restarts are found as the points from which the minimum
// of the next kRestartWindow values stays over T' + P/2 (an attestation held
// on its way is alone or in pairs, a restart lasts), and T' is fitted per
// stretch between restarts. held: attestations that reached the hub more than
// 5 ms after their grid point.
struct Grid {
  struct Stretch {
    uint64_t first_counter;
    int64_t origin;
  };
  std::vector<Stretch> stretches;
  std::size_t held = 0;
  std::size_t count = 0;

  // G(counter) - counter * P for the stretch holding counter.
  int64_t origin(uint64_t counter) const {
    int64_t o = stretches.empty() ? 0 : stretches.front().origin;
    for (const Stretch& s : stretches)
      if (counter >= s.first_counter) o = s.origin;
    return o;
  }
  // Whether counter is among the first few of a stretch after a restart,
  // where the tick before it belongs to another schedule.
  bool near_restart(uint64_t counter) const {
    for (std::size_t i = 1; i < stretches.size(); ++i)
      if (counter >= stretches[i].first_counter && counter < stretches[i].first_counter + 2) return true;
    return false;
  }
};

constexpr std::size_t kRestartWindow = 10;

Grid fit_grid(const std::vector<AttestationLog::Arrival>& arrivals, int64_t period) {
  Grid g;
  g.count = arrivals.size();
  if (arrivals.empty()) return g;
  std::vector<int64_t> r(arrivals.size());
  for (std::size_t j = 0; j < arrivals.size(); ++j)
    r[j] = arrivals[j].at_ns - static_cast<int64_t>(arrivals[j].counter) * period;
  const auto window_min = [&](std::size_t j) {
    return *std::min_element(r.begin() + static_cast<std::ptrdiff_t>(j),
                             r.begin() + static_cast<std::ptrdiff_t>(std::min(r.size(), j + kRestartWindow)));
  };
  std::vector<std::size_t> starts = {0};
  int64_t running = window_min(0);
  for (std::size_t j = 1; j < r.size(); ++j) {
    if (window_min(j) - running > period / 2) {
      starts.push_back(j);
      running = window_min(j);
    } else {
      running = std::min(running, r[j]);
    }
  }
  for (std::size_t i = 0; i < starts.size(); ++i) {
    const std::size_t end = i + 1 < starts.size() ? starts[i + 1] : r.size();
    const int64_t origin = *std::min_element(r.begin() + static_cast<std::ptrdiff_t>(starts[i]),
                                             r.begin() + static_cast<std::ptrdiff_t>(end));
    g.stretches.push_back({arrivals[starts[i]].counter, origin});
    for (std::size_t j = starts[i]; j < end; ++j)
      if (r[j] - origin > 5'000'000) ++g.held;
  }
  return g;
}

struct PeriodResult {
  uint32_t period_ms = 0;
  std::vector<double> raw_ms, wait_free_ms, floor_ms, forward_ms, return_ms;
  std::size_t failures = 0;
  Grid grid;
  double d_low_ms = 0;  // the fastest return leg is at least this
  std::size_t near_restart = 0;
  std::size_t attestation_bytes = 0;
};

std::string read_public_key(const std::string& agent, const fs::path& key_file, const std::string& log) {
  std::string out;
  std::vector<std::string> argv = {agent, "--camera-id", kCamera, "--source", kAgentSource, "--key-file",
                                   key_file.string(), "--print-key"};
  for (const std::string& o : agent_scene_options(key_file.parent_path() / "porch.reference")) argv.push_back(o);
  const ChildExit e = run_to_end(argv, log, 10s, &out);
  const auto at = out.find("public key: ");
  if (e.status != 0 || at == std::string::npos) throw std::runtime_error("lk-camera-agent --print-key failed; see " + log);
  return out.substr(at + 12, 64);
}

PeriodResult measure_period(const std::string& agent, const testing::MosquittoBroker& broker, const fs::path& dir,
                            AttestationLog& log, NonceObserver& observer, host::CameraHandle& camera,
                            uint32_t period_ms, std::size_t trials) {
  PeriodResult r;
  r.period_ms = period_ms;
  const int64_t period = int64_t{period_ms} * 1'000'000;
  log.clear();
  const std::string log_path = (dir / "agent.log").string();
  std::vector<std::string> argv = {agent, "--camera-id", kCamera, "--source", kAgentSource, "--broker",
                                   broker.address() + ":" + std::to_string(broker.port()), "--password-file",
                                   broker.password_file(kCamera).string(), "--key-file", (dir / "porch.key").string(),
                                   "--period-ms", std::to_string(period_ms)};
  for (const std::string& o : agent_scene_options(dir / "porch.reference")) argv.push_back(o);
  ChildProcess child(argv, log_path);
  if (!log.wait_count(10, 15s)) throw std::runtime_error("no attestations from lk-camera-agent; see " + log_path);
  r.attestation_bytes = log.last_size();
  FloorEcho floor(broker, r.attestation_bytes);

  std::mt19937_64 random(12345 + period_ms);
  std::uniform_int_distribution<int64_t> phase(0, period - 1);
  std::uniform_int_distribution<int64_t> lead(0, 800'000);
  std::vector<Trial> done;
  constexpr std::size_t kWarmup = 5;
  const std::size_t total = kWarmup + trials + trials / 4;
  for (std::size_t i = 0; i < total; ++i) {
    Trial t;
    t.aimed = i >= kWarmup && i % 5 == 4;
    if (t.aimed) {
      // Up to 0.8 ms before a grid point: the nonce reaches the agent just
      // before its tick, or just after.
      const Grid g = fit_grid(log.snapshot(), period);
      const int64_t origin = g.stretches.back().origin;  // the schedule the agent keeps now
      const int64_t soon = mono_ns() + 2'000'000;
      const int64_t k = (soon - origin) / period + 1;
      sleep_until_ns(origin + k * period - lead(random));
    } else {
      sleep_until_ns(mono_ns() + 1'000'000 + phase(random));
    }
    const std::string nonce = random_nonce();
    const std::size_t from = log.size();
    t.sent = mono_ns();
    if (camera.deliver_nonce(reinterpret_cast<const uint8_t*>(nonce.data()), nonce.size()) != LK_OK) {
      ++r.failures;
      continue;
    }
    AttestationLog::Arrival echo{};
    if (!log.wait_echo(nonce, from, std::chrono::milliseconds(3 * period_ms + 1000), &echo) ||
        !observer.wait(nonce, 1s, &t.observed)) {
      ++r.failures;
      continue;
    }
    t.echoed = echo.at_ns;
    t.counter = echo.counter;
    const int64_t floor_ns = floor.round_trip();
    if (i < kWarmup) continue;
    if (floor_ns < 0) ++r.failures;
    else r.floor_ms.push_back(static_cast<double>(floor_ns) / 1e6);
    done.push_back(t);
  }
  child.signal(SIGTERM);
  child.wait(5s);

  const auto arrivals = log.snapshot();
  r.grid = fit_grid(arrivals, period);
  // The fastest return leg d_min, bounded by the trials themselves: a nonce
  // missed tick c - 1, so it reached the agent after that tick signed:
  // d_min > G(c) - P - t_o (a tick that woke late only makes the bound
  // firmer). The largest such bound is used, so the wait-free figures err
  // low by its distance to d_min; the aimed trials keep it small. (That the
  // nonce made tick c would bound d_min from above, but only if no tick
  // ever woke late: not on a busy machine.)
  int64_t d_low = INT64_MIN;
  for (const Trial& t : done) {
    if (r.grid.near_restart(t.counter)) continue;
    d_low = std::max(d_low, r.grid.origin(t.counter) + static_cast<int64_t>(t.counter - 1) * period - t.observed);
  }
  r.d_low_ms = static_cast<double>(d_low) / 1e6;
  const int64_t d_min = d_low;
  for (const Trial& t : done) {
    if (!t.aimed) r.raw_ms.push_back(static_cast<double>(t.echoed - t.sent) / 1e6);
    if (r.grid.near_restart(t.counter)) {
      ++r.near_restart;  // its tick's place on the grid is not known
      continue;
    }
    const int64_t tick = r.grid.origin(t.counter) + static_cast<int64_t>(t.counter) * period - d_min;  // the echo's tick
    const double forward = static_cast<double>(t.observed - t.sent) / 1e6;
    const double back = static_cast<double>(t.echoed - tick) / 1e6;
    r.forward_ms.push_back(forward);
    r.return_ms.push_back(back);
    r.wait_free_ms.push_back(forward + back);
  }
  {
    // The raw data, for a look at the agent's tick grid and each trial.
    std::ofstream out(dir / ("arrivals-" + std::to_string(period_ms) + "ms.tsv"));
    out << "at_ns\tcounter\tafter_grid_ns\n";
    for (const auto& a : arrivals)
      out << a.at_ns << "\t" << a.counter << "\t"
          << a.at_ns - static_cast<int64_t>(a.counter) * period - r.grid.origin(a.counter) << "\n";
    std::ofstream trials_out(dir / ("trials-" + std::to_string(period_ms) + "ms.tsv"));
    trials_out << "sent_ns\tobserved_ns\techoed_ns\tcounter\taimed\n";
    for (const Trial& t : done)
      trials_out << t.sent << "\t" << t.observed << "\t" << t.echoed << "\t" << t.counter << "\t" << t.aimed << "\n";
  }
  return r;
}

std::string ms(double v) { return fmt(v < 10 ? "%.3f ms" : "%.1f ms", v); }

void print_rows(const PeriodResult& r, const std::string& variant) {
  const std::string p = std::to_string(r.period_ms) + " ms" + variant;
  const double f50 = percentile(r.floor_ms, 0.5), f99 = percentile(r.floor_ms, 0.99);
  const double raw50 = percentile(r.raw_ms, 0.5), raw99 = percentile(r.raw_ms, 0.99);
  const double free50 = percentile(r.wait_free_ms, 0.5), free99 = percentile(r.wait_free_ms, 0.99);
  const std::string trials = std::to_string(r.raw_ms.size()) + " trials at random phase (" +
                             std::to_string(r.failures) + " failed)";
  const std::string floor_note = "floor: bare MQTT echo through the same broker, QoS 0, " +
                                 std::to_string(r.attestation_bytes) + " B reply, after each trial";
  print_row("Nonce-to-echo p50, agent period " + p, ms(raw50), ms(f50), fmt("%.1f", raw50 / f50), "-", "info",
            floor_note + "; " + trials + "; holds the wait for the agent's next tick, " +
                fmt("%.1f ms", r.period_ms / 2.0) + " on average");
  print_row("Nonce-to-echo p99, agent period " + p, ms(raw99), ms(f99), fmt("%.1f", raw99 / f99), "-", "info",
            floor_note + "; " + std::to_string(r.grid.held) + " of " + std::to_string(r.grid.count) +
                " attestations reached the hub over 5 ms after their tick");
  const std::string free_note =
      std::to_string(r.wait_free_ms.size()) + " trials (a fifth aimed just before a tick); forward (plugin to agent) p50 " +
      ms(percentile(r.forward_ms, 0.5)) + ", return (tick to hub event) p50 " + ms(percentile(r.return_ms, 0.5)) +
      "; fastest return leg >= " + ms(r.d_low_ms) + " (the bound used); the agent restarted its schedule " + std::to_string(r.grid.stretches.size() - 1) + " times (" +
      std::to_string(r.near_restart) + " trials next to a restart left out)";
  print_row("Nonce-to-echo without the tick wait p50, period " + p, ms(free50), ms(f50), fmt("%.2f", free50 / f50),
            "-", "info", free_note);
  print_row("Nonce-to-echo without the tick wait p99, period " + p, ms(free99), ms(f99), fmt("%.2f", free99 / f99),
            "-", "info", "floor: bare MQTT echo p99; see the p50 row");
}

}  // namespace

int run_nonce_echo(const std::string& self_exe, const fs::path& dir, const std::vector<uint32_t>& periods_ms,
                   std::size_t trials, const std::vector<uint32_t>& nodelay_periods_ms, bool tcp_nodelay) {
  if (sodium_init() < 0) throw std::runtime_error("sodium_init failed");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string agent = LATCHKEY_CAMERA_AGENT;
  const std::string variant = tcp_nodelay ? ", TCP_NODELAY everywhere (not shipped)" : "";

  // The shipped ACL, plus an observer that may read the agent's nonces.
  std::ifstream shipped(LATCHKEY_BROKER_ACL);
  std::stringstream acl;
  acl << shipped.rdbuf() << "\n# lk-bench-camera-link: sees the nonces the agent gets\nuser " << kObserver
      << "\ntopic read " << topic(kCamera, "nonce") << "\n";
  std::ofstream(dir / "bench.acl") << acl.str();
  testing::BrokerOptions options;
  options.cameras = {kCamera, kFloorCamera};
  options.extra_users = {kObserver};
  options.acl_file = dir / "bench.acl";
  testing::MosquittoBroker broker(options);
  if (tcp_nodelay) {
    // The broker's side of each connection (Mosquitto's own option); the
    // clients' side comes from lk_bench_tcp_nodelay.so, preloaded.
    broker.stop();
    std::ofstream(broker.config_file(), std::ios::app) << "set_tcp_nodelay true\n";
    broker.start();
  }

  const std::string key = read_public_key(agent, dir / "porch.key", (dir / "agent.log").string());
  AttestationLog log;
  NonceObserver observer;
  MqttClient observer_client(kObserver, broker.password(kObserver),
                             [&](const std::string&, const uint8_t* d, std::size_t n) { observer.on_message(d, n); });
  observer_client.connect(broker.address(), broker.port());
  observer_client.subscribe(topic(kCamera, "nonce"), 0);

  auto plugin = host::Plugin::load(fs::path(LATCHKEY_PLUGIN_DIR) / "lk_net_camera.so");  // its log: stderr
  std::unique_ptr<host::CameraHandle> camera;
  const std::string uri = "mqtt://" + broker.uri_host() + ":" + std::to_string(broker.port()) + "/" + kCamera +
                          "?password_file=" + broker.password_file(testing::MosquittoBroker::kHubUser).string() +
                          "&period_ms=100&hello_timeout_ms=0&key=" + key;
  if (host::CameraHandle::open(plugin, uri, [&](const host::DeviceEvent& e) { log.on_event(e); }, &camera) != LK_OK)
    throw std::runtime_error("net_camera did not open " + uri);

  for (uint32_t period : periods_ms) {
    std::fprintf(stderr, "nonce echo: agent period %u ms%s, %zu trials\n", period, variant.c_str(), trials);
    const PeriodResult r = measure_period(agent, broker, dir, log, observer, *camera, period, trials);
    if (r.raw_ms.empty() || r.floor_ms.empty()) {
      print_row("Nonce-to-echo, agent period " + std::to_string(period) + " ms" + variant, "failed", "-", "-", "-",
                "ERROR", std::to_string(r.failures) + " trials failed; see " + (dir / "agent.log").string());
      continue;
    }
    print_rows(r, variant);
  }
  camera.reset();

  if (!tcp_nodelay && !nodelay_periods_ms.empty()) {
    // The same measurement with Nagle's algorithm off on every hop, in a
    // child process with lk_bench_tcp_nodelay.so preloaded: what the link
    // would give if the plugin, the agent and the broker set TCP_NODELAY.
    std::string periods;
    for (uint32_t p : nodelay_periods_ms) periods += (periods.empty() ? "" : ",") + std::to_string(p);
    std::string out;
    const ChildExit e =
        run_to_end({self_exe, "nonce-echo", "--dir", (dir.parent_path() / "nodelay").string(), "--periods",
                    periods, "--trials", std::to_string(trials), "--tcp-nodelay", "1"},
                   (dir / "nodelay-variant.log").string(), std::chrono::minutes(10), &out,
                   {std::string("LD_PRELOAD=") + LATCHKEY_BENCH_TCP_NODELAY});
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);)
      if (line.rfind("ROW\t", 0) == 0) std::printf("%s\n", line.c_str());
    std::fflush(stdout);
    if (e.status != 0)
      print_row("Nonce-to-echo" + std::string(", TCP_NODELAY everywhere (not shipped)"), "failed", "-", "-", "-",
                "ERROR", "see " + (dir / "nodelay-variant.log").string());
  }
  return 0;
}

}  // namespace latchkey::bench
