// Attestation verification throughput on one core.
//
//   floor    - crypto_sign_ed25519_verify_detached on the very bytes a camera
//              signs ("latchkey.attestation.v1\0" || Attestation)
//   monitor  - LivenessMonitor::on_attestation on valid attestations with
//              fresh nonces (C1-C5: parse, verify, counter, clock, nonce, digest)
//   engine/N - GateEngine::on_attestation for one camera of an engine that
//              tracks N cameras: what the hub's loop pays per attestation
#include <latchkey/crypto/attestations.hpp>
#include <latchkey/gate/gate_engine.hpp>
#include <latchkey/gate/liveness_monitor.hpp>

#include <sodium.h>

#include "common/bench_report.hpp"

#include <cstring>
#include <string>
#include <vector>

namespace {

namespace crypto = latchkey::crypto;
namespace gate = latchkey::gate;

constexpr int64_t kPeriodNs = 250'000'000;  // 4 attestations a second
constexpr std::size_t kSigned = 4096;       // pre-signed attestations, replayed against fresh monitors

crypto::KeyPair camera_key() {
  std::array<uint8_t, 32> seed{};
  seed.fill(7);
  return crypto::KeyPair::from_seed(seed);
}

// The nonce the hub issues for attestation i (a deterministic RandomSource).
crypto::Bytes nonce_for(uint64_t i) {
  crypto::Bytes n(16, 0);
  std::memcpy(n.data(), &i, sizeof i);
  n[15] = 0x5a;
  return n;
}

crypto::Bytes make_attestation(const std::string& camera, const crypto::KeyPair& key, uint64_t i,
                               const crypto::Bytes& nonce) {
  latchkey::v1::Attestation a;
  a.set_camera_id(camera);
  a.set_boot_id(std::string(16, 'b'));
  a.set_counter(i + 1);
  a.set_capture_time_ns(static_cast<uint64_t>(1'000'000'000 + static_cast<int64_t>(i) * kPeriodNs));
  const crypto::Digest digest = crypto::blake2b256(crypto::view(std::to_string(i)));
  a.set_frame_digest(digest.data(), digest.size());
  a.set_hub_nonce(nonce.data(), nonce.size());
  return crypto::sign_attestation(a, key.secret_key);
}

struct Corpus {
  crypto::KeyPair key = camera_key();
  std::vector<crypto::Bytes> attestations;
  Corpus() {
    for (uint64_t i = 0; i < kSigned; ++i) attestations.push_back(make_attestation("cam", key, i, nonce_for(i)));
  }
};

const Corpus& corpus() {
  static const Corpus c;
  return c;
}

void BM_Verify_BareLibsodium(benchmark::State& state) {
  const Corpus& c = corpus();
  latchkey::v1::SignedAttestation sa;
  sa.ParseFromArray(c.attestations[0].data(), static_cast<int>(c.attestations[0].size()));
  std::string message(crypto::kAttestationDomain);
  message.push_back('\0');
  message += sa.attestation();
  const auto* sig = reinterpret_cast<const uint8_t*>(sa.signature().data());
  for (auto _ : state) {
    const int r = crypto_sign_ed25519_verify_detached(sig, reinterpret_cast<const uint8_t*>(message.data()),
                                                      message.size(), c.key.public_key.data());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Verify_LivenessMonitor(benchmark::State& state) {
  const Corpus& c = corpus();
  gate::GateConfig config;
  uint64_t i = 0;
  std::unique_ptr<gate::LivenessMonitor> monitor;
  uint64_t accepted = 0;
  for (auto _ : state) {
    if (i % kSigned == 0) {
      state.PauseTiming();
      monitor = std::make_unique<gate::LivenessMonitor>("cam", c.key.public_key, config);
      state.ResumeTiming();
    }
    const uint64_t k = i % kSigned;
    const gate::MonoNs now = 1'000'000'000 + static_cast<int64_t>(k) * kPeriodNs;
    monitor->issue_nonce(now - 1'000'000, [k](std::span<uint8_t> out) {
      const crypto::Bytes n = nonce_for(k);
      std::memcpy(out.data(), n.data(), out.size());
    });
    const gate::AttestationVerdict v = monitor->on_attestation(c.attestations[k], now);
    accepted += v.accepted ? 1 : 0;
    ++i;
  }
  if (accepted != i) state.SkipWithError("an attestation was rejected");
  state.SetItemsProcessed(state.iterations());
}

// One camera's attestations through an engine that tracks N cameras (none
// bound to a door, so no session logic runs): the per-attestation cost the
// hub's loop pays as the number of cameras grows.
void BM_Verify_GateEngine(benchmark::State& state) {
  const Corpus& c = corpus();
  const auto cameras = static_cast<std::size_t>(state.range(0));
  gate::GateSetup setup;
  setup.hub_id = "hub";
  for (std::size_t n = 0; n < cameras; ++n)
    setup.cameras.push_back({n == 0 ? std::string("cam") : "cam-" + std::to_string(n), c.key.public_key});
  uint64_t draws = 0;
  gate::GateEngine engine(setup, [&draws](std::span<uint8_t> out) {
    const crypto::Bytes n = nonce_for(1'000'000 + draws++);
    std::memcpy(out.data(), n.data(), out.size());
  });
  gate::MonoNs now = 1'000'000'000;
  engine.start(now);
  uint64_t i = 0;
  for (auto _ : state) {
    state.PauseTiming();
    now += kPeriodNs;
    engine.tick(now);
    crypto::Bytes nonce;
    for (auto& action : engine.take_actions())
      if (auto* s = std::get_if<gate::SendNonce>(&action); s && s->camera_id == "cam") nonce = s->nonce;
    const crypto::Bytes att = make_attestation("cam", c.key, i, nonce);
    state.ResumeTiming();
    engine.on_attestation("cam", att, now);
    ++i;
  }
  if (engine.monitor("cam")->rejected_count() != 0) state.SkipWithError("an attestation was rejected");
  state.SetItemsProcessed(state.iterations());
}

// Throughput on one core is CPU time per attestation: on a shared machine the
// wall clock also counts time the thread waited for a core. The least
// disturbed of several repetitions is kept.
BENCHMARK(BM_Verify_BareLibsodium)->Repetitions(5)->ReportAggregatesOnly(true)->MinTime(0.3)->ComputeStatistics(
    "min", latchkey::bench::min_of);
BENCHMARK(BM_Verify_LivenessMonitor)->Repetitions(5)->ReportAggregatesOnly(true)->MinTime(0.3)->ComputeStatistics(
    "min", latchkey::bench::min_of);
BENCHMARK(BM_Verify_GateEngine)->Arg(1)->Arg(100)->Arg(1000)->Arg(2000)->Iterations(600);

}  // namespace

int main(int argc, char** argv) {
  namespace b = latchkey::bench;
  b::KeepingReporter reporter;
  if (!b::run_benchmarks(argc, argv, reporter)) return 1;
  if (!reporter.has("BM_Verify_BareLibsodium")) return 0;
  const double floor_ns = reporter.at("BM_Verify_BareLibsodium").cpu_ns;
  const double floor_rate = 1e9 / floor_ns;
  const auto row = [&](const std::string& figure, const std::string& name, double target) {
    if (!reporter.has(name)) return;
    const double rate = 1e9 / reporter.at(name).cpu_ns;
    const double ratio = rate / floor_rate;
    b::print_row(figure, b::format("%.0f /s", rate), b::format("%.0f /s", floor_rate), b::format("%.2f", ratio),
                 target > 0 ? b::format(">= %.1f", target) : "-", target > 0 ? b::verdict(ratio >= target) : "info",
                 "floor: bare crypto_sign_ed25519_verify_detached on the same bytes; CPU time, one core");
  };
  row("Attestation verify: LivenessMonitor::on_attestation", "BM_Verify_LivenessMonitor", 0.8);
  for (const char* n : {"1", "100", "1000", "2000"})
    row(std::string("Attestation verify: GateEngine::on_attestation, ") + n + " cameras",
        std::string("BM_Verify_GateEngine/") + n, 0);
  return 0;
}
