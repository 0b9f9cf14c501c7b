// TC-CAM-6 to 9: the camera agent itself, spoken to over the hub's broker
// (docs/camera-link.md) by lk-certify's own MQTT client, as the hub user. The
// relay plugin's view (TC-CAM-1 to 5 through lk_net_camera.so) cannot show
// these: the hello and its key, raw timing on the wire, malformed nonces and
// commands, the file a recording wrote, a restart of the agent.
//
// Longer than most files: the agent cases share one broker session, one
// agent process and their observation helpers; each case is short.
#include "agent_target.hpp"
#include "support.hpp"

#include <latchkey/crypto/attestations.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace latchkey::certify {
namespace {

using namespace std::chrono_literals;
using Attestation = AgentLink::Attestation;
using Hello = AgentLink::Hello;

std::optional<std::string> needs_agent(const Subject& s, const std::string&) {
  if (!s.agent) return std::string(kNotApplicablePrefix) + "not an --agent run";
  return std::nullopt;
}

std::optional<std::string> needs_frozen_start(const Subject& s, const std::string& uri) {
  if (auto r = needs_agent(s, uri)) return r;
  if (!s.agent->can_restart())
    return "needs --agent-command and --agent-frozen-args: lk-certify starts the agent on a frozen source";
  if (s.agent->options.frozen_args.empty())
    return "needs --agent-frozen-args: the arguments that start the agent on a frozen source "
           "(lk-camera-agent: --freeze-after 5)";
  return std::nullopt;
}

AgentTarget& agent_of(const CaseContext& ctx) { return *ctx.subject.agent; }

#define REQUIRE_AGENT(agent)                                        \
  ASSERT_TRUE((agent).setup_error.empty()) << (agent).setup_error;  \
  ASSERT_TRUE((agent).enrolled) << "the agent published no hello that parses as a CameraHello"

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string fixed(double v, int digits = 1) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

std::string hex(const std::string& bytes) { return crypto::to_hex(crypto::view(bytes)); }

// Nearest rank; +inf entries count as the largest.
double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

std::string ms_text(double v) { return std::isinf(v) ? "infinite (a nonce never echoed)" : fixed(v) + " ms"; }

bool verifies(const Attestation& a, const crypto::PublicKey& key) {
  return crypto::open_attestation(crypto::view(a.bytes), key).ok;
}

// The measurements a passing case reports (the runner puts them in the detail).
void measured(const std::string& text) { ::testing::Test::RecordProperty("measured", text); }

// Longest silence from `start` to `end` with these attestations in between.
struct Gaps {
  double worst = 0;
  double worst_at_s = 0;  // seconds after start where the worst gap ended
  std::vector<double> all;
};

Gaps gaps_of(const std::vector<Attestation>& as, Clock::time_point start, Clock::time_point end) {
  Gaps g;
  Clock::time_point previous = start;
  auto add = [&](Clock::time_point t) {
    const double gap = ms(t - previous);
    g.all.push_back(gap);
    if (gap > g.worst) {
      g.worst = gap;
      g.worst_at_s = ms(t - start) / 1000;
    }
    previous = t;
  };
  for (const auto& a : as)
    if (a.at >= start && a.at <= end) add(a.at);
  add(end);
  return g;
}

// ---- TC-CAM-6: one window of the agent's stream, shared by four cases ----

struct AgentWindow {
  Clock::time_point start, end;
  std::vector<Attestation> attestations;  // received in the window
  std::vector<Hello> hellos;              // every hello since the enrolled one
  std::vector<AgentLink::Nonce> nonces;   // published in the window
  std::map<std::string, Clock::time_point> published;  // every nonce of the run, by its bytes
};

const AgentWindow& agent_window(AgentTarget& agent) {
  static std::map<const AgentTarget*, AgentWindow> cache;
  auto it = cache.find(&agent);
  if (it != cache.end()) return it->second;
  AgentWindow w;
  AgentLink& link = *agent.link;
  const std::size_t from_a = link.attestation_count(), from_n = link.nonce_count();
  w.start = Clock::now();
  {
    NoncePump pump(link, milliseconds(agent.options.nonce_period_ms));
    std::this_thread::sleep_for(std::chrono::seconds(agent.options.window_s));
    w.end = Clock::now();
  }
  for (auto& a : link.attestations(from_a))
    if (a.at <= w.end) w.attestations.push_back(std::move(a));
  w.hellos = link.hellos(agent.enrolled_index);
  w.nonces = link.nonces(from_n);
  for (const auto& n : link.nonces()) w.published[n.bytes] = n.at;
  return cache.emplace(&agent, std::move(w)).first->second;
}

#define REQUIRE_WINDOW(agent, w)                                                                               \
  ASSERT_GE((w).attestations.size(), 2u) << "fewer than two attestations in " << (agent).options.window_s     \
                                         << " s" << (agent).process_note()

// The period measured over the window, robust to a loaded host: the median,
// over every span of half the window's intervals, of the span's mean interval
// (as TC-CAM-1.1). 0 with fewer than two intervals.
double measured_period(const std::vector<Attestation>& as) {
  if (as.size() < 3) return 0;
  const std::size_t span = (as.size() - 1) / 2;
  std::vector<double> means;
  for (std::size_t i = 0; i + span < as.size(); ++i)
    means.push_back(ms(as[i + span].at - as[i].at) / static_cast<double>(span));
  return percentile(means, 0.5);
}

// Both bounds: no gap over the declared period plus the tolerance, and no
// steady stream faster than 80 % of it (a hello that declares a period the
// agent does not keep).
constexpr double kPeriodLow = 0.80;

void period(CaseContext& ctx) {
  AgentTarget& agent = agent_of(ctx);
  REQUIRE_AGENT(agent);
  const AgentWindow& w = agent_window(agent);
  REQUIRE_WINDOW(agent, w);
  const double declared = agent.period_ms();
  ASSERT_GT(declared, 0) << "the hello declares attestation_period_ms 0";
  const double allowed = declared + agent.options.tolerance_ms;
  const Gaps g = gaps_of(w.attestations, w.start, w.end);
  const double kept = measured_period(w.attestations);
  std::size_t over = 0;
  for (double gap : g.all) over += gap > allowed;
  measured(std::to_string(w.attestations.size()) + " attestations in " + fixed(ms(w.end - w.start) / 1000) +
           " s; period " + fixed(kept) + " ms (median of half-window spans); gaps: median " +
           fixed(percentile(g.all, 0.5)) + " ms, p99 " + fixed(percentile(g.all, 0.99)) + " ms, longest " +
           fixed(g.worst) + " ms; declared period " + fixed(declared, 0) + " ms + tolerance " +
           std::to_string(agent.options.tolerance_ms) + " ms");
  if (g.worst > allowed)
    fail_case("gaps between attestations longer than the period the hello declares",
              "no gap over attestation_period_ms " + fixed(declared, 0) + " ms + " +
                  std::to_string(agent.options.tolerance_ms) + " ms (--agent-tolerance-ms)",
              std::to_string(over) + " gap(s) over it; the longest, " + fixed(g.worst) + " ms, ended " +
                  fixed(g.worst_at_s, 2) + " s into the window" + agent.process_note());
  if (kept > 0 && kept < kPeriodLow * declared)
    fail_case("the agent attests more often than the period its hello declares",
              "a period of at least 80 % of attestation_period_ms: " + fixed(kPeriodLow * declared) + " ms",
              fixed(kept) + " ms (" + fixed(100 * kept / declared, 0) + " %) over " +
                  std::to_string(w.attestations.size()) + " attestations");
}

void nonce_latency(CaseContext& ctx) {
  AgentTarget& agent = agent_of(ctx);
  REQUIRE_AGENT(agent);
  const AgentWindow& w = agent_window(agent);
  REQUIRE_WINDOW(agent, w);
  const double p = agent.options.nonce_period_ms;
  const uint32_t period = agent.period_ms();
  // A nonce held for two attestation periods must have been echoed; with a
  // slower camera a nonce may be replaced before any attestation carried it.
  const bool every_nonce_echoed = period > 0 && 2.0 * period <= p;
  std::vector<double> latencies;
  std::size_t never = 0;
  for (const auto& n : w.nonces) {
    if (ms(w.end - n.at) < 2 * p) continue;  // too close to the end to judge
    double latency = INFINITY;
    for (const auto& a : w.attestations)
      if (a.at >= n.at && a.parsed && a.attestation.hub_nonce() == n.bytes) {
        latency = ms(a.at - n.at);
        break;
      }
    if (std::isinf(latency)) {
      ++never;
      if (!every_nonce_echoed) continue;
    }
    latencies.push_back(latency);
  }
  ASSERT_GE(latencies.size(), 5u) << "only " << latencies.size() << " of " << w.nonces.size()
                                  << " nonces were echoed in the window" << agent.process_note();
  const double p50 = percentile(latencies, 0.5), p99 = percentile(latencies, 0.99);
  // C2: an attestation counts while its echo is at most 3 nonce periods old.
  std::size_t judged = 0, unknown = 0, stale = 0;
  std::string example;
  bool echoing_window = false;
  for (const auto& a : w.attestations) {
    if (!a.parsed) continue;
    const auto pub = w.published.find(a.attestation.hub_nonce());
    if (!echoing_window) {
      // Judged from the first echo of a nonce of the window on: before it the
      // camera still holds the last nonce of an earlier case.
      echoing_window = pub != w.published.end() && pub->second >= w.start;
      if (!echoing_window) continue;
    }
    ++judged;
    if (pub == w.published.end()) {
      if (unknown++ == 0 && example.empty())
        example = "attestation " + std::to_string(a.attestation.counter()) + " echoes " +
                  std::to_string(a.attestation.hub_nonce().size()) + " bytes lk-certify never published";
    } else if (ms(a.at - pub->second) > 3 * p) {
      if (stale++ == 0 && example.empty())
        example = "attestation " + std::to_string(a.attestation.counter()) + " echoes a nonce published " +
                  fixed(ms(a.at - pub->second)) + " ms before it arrived";
    }
  }
  measured("echo latency over " + std::to_string(latencies.size()) + " nonces: p50 " + ms_text(p50) + ", p99 " +
           ms_text(p99) + " (bounds " + fixed(p, 0) + " and " + fixed(2 * p, 0) + " ms at a nonce period of " +
           fixed(p, 0) + " ms); " + std::to_string(never) + " never echoed; " + std::to_string(judged) +
           " attestations judged against C2's " + fixed(3 * p, 0) + " ms");
  if (p50 > p)
    fail_case("the agent echoes nonces too slowly", "a median echo latency within one nonce period, " + fixed(p, 0) + " ms",
              "p50 " + ms_text(p50) + " over " + std::to_string(latencies.size()) + " nonces");
  if (p99 > 2 * p)
    fail_case("some nonces are echoed too late",
              "a p99 echo latency within two nonce periods, " + fixed(2 * p, 0) +
                  " ms: later, an echo is older than C2's three periods before the next nonce replaces it",
              "p99 " + ms_text(p99) + (never > 0 ? "; " + std::to_string(never) + " nonces were never echoed" : ""));
  if (judged == 0)
    fail_case("no attestation echoed a nonce published in the window", "the newest nonce in every attestation (C2)",
              std::to_string(w.attestations.size()) + " attestations, none echoing a nonce of the window");
  if (unknown + stale > 0)
    fail_case("attestations echo unknown or stale nonces",
              "every echo one lk-certify published at most 3 nonce periods (" + fixed(3 * p, 0) + " ms) before (C2)",
              std::to_string(unknown) + " unknown, " + std::to_string(stale) + " stale of " + std::to_string(judged) +
                  "; e.g. " + example);
}

void counters(CaseContext& ctx) {
  AgentTarget& agent = agent_of(ctx);
  REQUIRE_AGENT(agent);
  const AgentWindow& w = agent_window(agent);
  REQUIRE_WINDOW(agent, w);
  std::set<std::string> boots;
  const Attestation* previous = nullptr;
  std::size_t bad = 0;
  std::string example;
  for (const auto& a : w.attestations) {
    if (!a.parsed) continue;
    boots.insert(a.attestation.boot_id());
    if (previous && previous->attestation.boot_id() == a.attestation.boot_id() &&
        a.attestation.counter() <= previous->attestation.counter() && bad++ == 0)
      example = "counter " + std::to_string(a.attestation.counter()) + " follows " +
                std::to_string(previous->attestation.counter());
    previous = &a;
  }
  measured(std::to_string(w.attestations.size()) + " attestations, counters " +
           (w.attestations.front().parsed ? std::to_string(w.attestations.front().attestation.counter()) : "?") +
           " to " + (w.attestations.back().parsed ? std::to_string(w.attestations.back().attestation.counter()) : "?"));
  if (bad > 0)
    fail_case("the counter did not increase", "every counter above the one before it under one boot id (C3)",
              std::to_string(bad) + " of " + std::to_string(w.attestations.size()) + " attestations; the first: " + example);
  if (boots.size() != 1)
    fail_case("the boot id changed with no restart", "one boot id for the whole window: lk-certify did not restart the agent",
              std::to_string(boots.size() - 1) + " change(s) in the window" + agent.process_note());
}

void signatures(CaseContext& ctx) {
  AgentTarget& agent = agent_of(ctx);
  REQUIRE_AGENT(agent);
  const crypto::PublicKey key = agent.key();
  ASSERT_EQ(agent.enrolled->public_key().size(), 32u) << "the hello carries no 32-byte Ed25519 key";
  if (agent.enrolled->camera_id() != agent.options.address.camera_id)
    fail_case("the hello names another camera", "camera id '" + agent.options.address.camera_id + "'",
              "'" + agent.enrolled->camera_id() + "'");
  const AgentWindow& w = agent_window(agent);
  REQUIRE_WINDOW(agent, w);
  std::size_t unparsed = 0, bad = 0, wrong_id = 0, wrong_boot = 0;
  for (const auto& a : w.attestations) {
    if (!a.parsed) {
      ++unparsed;
      continue;
    }
    bad += !verifies(a, key);
    wrong_id += a.attestation.camera_id() != agent.options.address.camera_id;
  }
  // The boot id the attestations carry is the one the newest hello announced.
  const v1::CameraHello* newest = nullptr;
  std::size_t other_keys = 0;
  for (const auto& h : w.hellos) {
    if (!h.parsed) continue;
    newest = &h.hello;
    other_keys += h.hello.public_key() != agent.enrolled->public_key();
  }
  if (newest)
    for (const auto& a : w.attestations) wrong_boot += a.parsed && a.attestation.boot_id() != newest->boot_id();
  measured(std::to_string(w.attestations.size()) + " attestations verified with the hello's key " +
           hex(agent.enrolled->public_key()) + "; " + std::to_string(w.hellos.size()) + " hello(s) seen");
  const std::string of = " of " + std::to_string(w.attestations.size()) + " attestations";
  if (unparsed > 0)
    fail_case("attestations that are not a SignedAttestation holding an Attestation",
              "every message on .../attestation a serialized SignedAttestation (docs/camera-link.md)",
              std::to_string(unparsed) + of);
  if (bad > 0)
    fail_case("attestations that do not verify with the key of the agent's hello",
              "every attestation signed by the key " + hex(agent.enrolled->public_key()) + " (C1)", std::to_string(bad) + of);
  if (wrong_id > 0)
    fail_case("attestations name another camera", "camera id '" + agent.options.address.camera_id + "'",
              std::to_string(wrong_id) + of);
  if (other_keys > 0)
    fail_case("a hello during the run carries another key", "every hello with the enrolled key " +
                  hex(agent.enrolled->public_key()) + ": a new key is a new identity",
              std::to_string(other_keys) + " hello(s) with another key");
  if (wrong_boot > 0)
    fail_case("attestations carry a boot id other than the hello's", "the boot id of the newest hello (C3)",
              std::to_string(wrong_boot) + of);
}

// ---- TC-CAM-7.1: recording, checked against the file where it is reachable ----

std::string command_bytes(uint64_t id, const std::string* start_session) {
  v1::CameraCommand c;
  c.set_command_id(id);
  if (start_session) c.mutable_start_recording()->set_session_id(*start_session);
  else c.mutable_stop_recording();
  return c.SerializeAsString();
}

std::set<std::filesystem::path> files_under(const std::filesystem::path& dir) {
  std::set<std::filesystem::path> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(
           dir, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec)) out.insert(it->path());
  return out;
}

// The file of this session: one whose name holds the session id in hex (as
// lk-camera-agent names them), else the only file that appeared since `before`.
std::optional<std::filesystem::path> recording_file(const std::filesystem::path& dir, const std::string& session_hex,
                                                    const std::set<std::filesystem::path>& before, std::string* why) {
  std::vector<std::filesystem::path> named, fresh;
  for (const auto& f : files_under(dir)) {
    std::string name = f.filename().string();
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (name.find(session_hex) != std::string::npos) named.push_back(f);
    else if (!before.count(f)) fresh.push_back(f);
  }
  if (named.size() == 1) return named.front();
  if (named.empty() && fresh.size() == 1) return fresh.front();
  *why = named.size() > 1 ? std::to_string(named.size()) + " files in " + dir.string() + " name the session"
                          : std::to_string(fresh.size()) + " new files in " + dir.string() +
                                " and none names the session id " + session_hex;
  return std::nullopt;
}

std::optional<uint64_t> size_on_disk(const std::filesystem::path& f) {
  struct stat st {};
  if (::stat(f.c_str(), &st) != 0) return std::nullopt;
  return static_cast<uint64_t>(st.st_size);
}

void recording_truth(CaseContext& ctx) {
  AgentTarget& agent = agent_of(ctx);
  REQUIRE_AGENT(agent);
  AgentLink& link = *agent.link;
  const uint32_t period = std::max<uint32_t>(agent.period_ms(), 1);
  const milliseconds ack(2 * period + 3000);
  const bool with_file = !agent.options.record_dir.empty();
  NoncePump pump(link, milliseconds(agent.options.nonce_period_ms));
  const crypto::Bytes session_bytes = crypto::random_bytes(16);
  const std::string session(session_bytes.begin(), session_bytes.end());
  const std::string session_hex = hex(session);
  const auto before = with_file ? files_under(agent.options.record_dir) : std::set<std::filesystem::path>{};

  std::size_t from = link.attestation_count();
  const auto commanded = Clock::now();
  link.publish_command(command_bytes(link.next_command_id(), &session));
  std::optional<Attestation> acked;
  link.wait_for([&](const auto&, const auto& as) {
    for (std::size_t i = from; i < as.size(); ++i)
      if (as[i].parsed && as[i].attestation.recording().recording() &&
          as[i].attestation.recording().session_id() == session) {
        acked = as[i];
        return true;
      }
    return false;
  }, ack);
  ASSERT_TRUE(acked) << "no attestation reported recording for session " << session_hex << " within " << ack.count()
                     << " ms of StartRecording (docs/rules.md U2)" << agent.process_note();
  const uint64_t segment = acked->attestation.recording().segment_id();

  // Recording: the same session and segment, the byte count growing, never
  // more than the file holds.
  std::optional<std::filesystem::path> file;
  std::string file_problem;
  const auto observe_end = Clock::now() + std::max(milliseconds(3000), milliseconds(10 * period));
  std::size_t next = from;
  uint64_t first_bytes = acked->attestation.recording().recorded_bytes(), last_bytes = first_bytes;
  std::size_t seen = 0, wrong_state = 0, shrank = 0, over_file = 0;
  std::string example;
  while (Clock::now() < observe_end) {
    std::this_thread::sleep_for(50ms);
    if (with_file && !file) file = recording_file(agent.options.record_dir, session_hex, before, &file_problem);
    const auto fresh = link.attestations(next);
    // Then the size: the file only grows, so it bounds what the attestations received so far may claim.
    const uint64_t size_now = file ? size_on_disk(*file).value_or(UINT64_MAX) : UINT64_MAX;
    for (const auto& a : fresh) {
      ++next;
      if (!a.parsed || a.at < acked->at) continue;
      const auto& r = a.attestation.recording();
      ++seen;
      if (!r.recording() || r.session_id() != session || r.segment_id() != segment) {
        if (wrong_state++ == 0)
          example = "attestation " + std::to_string(a.attestation.counter()) + " says recording=" +
                    (r.recording() ? "true" : "false") + ", segment " + std::to_string(r.segment_id());
        continue;
      }
      if (r.recorded_bytes() < last_bytes) ++shrank;
      last_bytes = r.recorded_bytes();
      if (r.recorded_bytes() > size_now && over_file++ == 0)
        example = "attestation " + std::to_string(a.attestation.counter()) + " reports " +
                  std::to_string(r.recorded_bytes()) + " bytes; the file held " + std::to_string(size_now);
    }
  }
  if (seen <= 2)
    fail_case("too few attestations while recording", "one every declared period (" + std::to_string(period) + " ms)",
              std::to_string(seen) + " in " + std::to_string(std::max<uint32_t>(3000, 10 * period)) + " ms" +
                  agent.process_note());
  if (wrong_state > 0)
    fail_case("attestations during the recording stopped reporting it",
              "recording, session and segment of the StartRecording in every attestation until the stop (U2)",
              std::to_string(wrong_state) + " attestations; " + example);
  if (shrank > 0)
    fail_case("recorded_bytes went down within one segment", "a byte count that never shrinks while recording",
              std::to_string(shrank) + " time(s)");
  if (last_bytes <= first_bytes)
    fail_case("recorded_bytes did not grow while recording", "a growing byte count",
              "stayed at " + std::to_string(first_bytes));
  if (over_file > 0)
    fail_case("attestations report more bytes than the file held", "recorded_bytes never above the file's size",
              std::to_string(over_file) + " attestations; " + example);

  // Stop: not recording any more, and the final count is the file's size.
  from = link.attestation_count();
  link.publish_command(command_bytes(link.next_command_id(), nullptr));
  std::optional<std::size_t> stopped_at;
  link.wait_for([&](const auto&, const auto& as) {
    for (std::size_t i = from; i < as.size(); ++i)
      if (as[i].parsed && !as[i].attestation.recording().recording()) {
        stopped_at = i;
        return true;
      }
    return false;
  }, ack);
  ASSERT_TRUE(stopped_at) << "attestations still report recording " << ack.count() << " ms after StopRecording"
                          << agent.process_note();
  std::this_thread::sleep_for(std::max(milliseconds(1000), milliseconds(3 * period)));
  const auto after = link.attestations(*stopped_at);
  std::size_t recording_again = 0;
  for (const auto& a : after) recording_again += a.parsed && a.attestation.recording().recording();
  if (recording_again > 0)
    fail_case("attestations report recording again after the stop", "no recording after StopRecording",
              std::to_string(recording_again) + " attestations");
  // The final count: what the attestations after the stop report for the
  // segment, else (an agent that forgets it) the last count while recording.
  uint64_t final_bytes = last_bytes;
  if (!after.empty() && after.back().parsed && after.back().attestation.recording().segment_id() == segment)
    final_bytes = after.back().attestation.recording().recorded_bytes();
  std::string file_text = "no --record-dir: the file was not compared";
  if (with_file) {
    if (!file) file = recording_file(agent.options.record_dir, session_hex, before, &file_problem);
    if (!file)
      fail_case("no recording of the session found under --record-dir",
                "one file whose name holds the session id, or the only new file", file_problem);
    if (file) {
      const auto size = size_on_disk(*file);
      if (!size || *size != final_bytes)
        fail_case("the byte count after the stop is not the file's size",
                  "recorded_bytes after StopRecording equal to the size of " + file->string(),
                  std::to_string(final_bytes) + " bytes reported; the file has " +
                      (size ? std::to_string(*size) : std::string("no size (stat failed)")));
      file_text = file->string() + ": " + (size ? std::to_string(*size) : std::string("?")) + " bytes";
    }
  }
  measured("segment " + std::to_string(segment) + " acknowledged " + fixed(ms(acked->at - commanded), 0) +
           " ms after StartRecording; recorded_bytes " + std::to_string(first_bytes) + " -> " +
           std::to_string(last_bytes) + " while recording, " + std::to_string(final_bytes) + " after the stop; " +
           file_text);
}

// ---- TC-CAM-8: malformed input does not bring the agent down ----

struct Robustness {
  std::size_t baseline = 0;     // attestations before the bad input
  std::vector<Attestation> after;
  Clock::time_point bad_start, end;
};

// Runs `send_bad` between a second of ordinary nonces and `observe` of them.
Robustness around_bad_input(AgentTarget& agent, const std::function<void()>& send_bad, milliseconds observe) {
  AgentLink& link = *agent.link;
  Robustness r;
  std::size_t from;
  {
    NoncePump pump(link, milliseconds(agent.options.nonce_period_ms));
    std::this_thread::sleep_for(1s);
    from = link.attestation_count();
  }
  r.baseline = from;
  r.bad_start = Clock::now();
  send_bad();
  {
    NoncePump pump(link, milliseconds(agent.options.nonce_period_ms));
    std::this_thread::sleep_for(observe);
  }
  r.end = Clock::now();
  r.after = link.attestations(from);
  return r;
}

// Still attesting, as often as declared, under the same boot id; echoing a nonce sent after the bad input.
void expect_unshaken(AgentTarget& agent, const Robustness& r, const std::string& what) {
  const std::vector<Attestation> before = agent.link->attestations(r.baseline > 0 ? r.baseline - 1 : 0);
  ASSERT_TRUE(r.baseline > 0 && !before.empty() && before.front().parsed)
      << "the agent was not attesting before the " << what << agent.process_note();
  const std::string boot = before.front().attestation.boot_id();
  const Gaps g = gaps_of(r.after, r.bad_start, r.end);
  const double allowed = agent.period_ms() + agent.options.tolerance_ms;
  if (g.worst > allowed)
    fail_case("after the " + what + " the agent fell silent",
              "no gap over the declared period " + std::to_string(agent.period_ms()) + " ms + " +
                  std::to_string(agent.options.tolerance_ms) + " ms",
              "a gap of " + fixed(g.worst) + " ms" + agent.process_note());
  std::size_t other_boot = 0;
  for (const auto& a : r.after) other_boot += a.parsed && a.attestation.boot_id() != boot;
  if (other_boot > 0)
    fail_case("the agent restarted after the " + what, "the same boot id: bad input is ignored, not a reason to restart",
              std::to_string(other_boot) + " attestations with another boot id" + agent.process_note());
  std::map<std::string, Clock::time_point> later;
  for (const auto& n : agent.link->nonces())
    if (n.at > r.bad_start) later[n.bytes] = n.at;
  bool echoed = false;
  for (const auto& a : r.after) echoed |= a.parsed && later.count(a.attestation.hub_nonce()) > 0;
  if (!echoed)
    fail_case("the agent stopped echoing nonces after the " + what, "an echo of a nonce published after it (C2)",
              "none" + agent.process_note());
  if (agent.process && !agent.process->running())
    fail_case("the agent's process is gone after the " + what, "a running agent", "it exited" + agent.process_note());
}

void malformed_nonces(CaseContext& ctx) {
  AgentTarget& agent = agent_of(ctx);
  REQUIRE_AGENT(agent);
  std::vector<std::string> bad;
  for (std::size_t size : {0, 1, 8, 15, 33, 48, 64, 255, 1000}) {
    const crypto::Bytes b = crypto::random_bytes(size);
    bad.emplace_back(b.begin(), b.end());
  }
  const Robustness r = around_bad_input(agent, [&] {
    for (const auto& b : bad) {
      agent.link->publish_nonce(b);
      std::this_thread::sleep_for(20ms);
    }
  }, 2500ms);
  expect_unshaken(agent, r, "malformed nonces");
  std::size_t echoed_bad = 0;
  for (const auto& a : r.after)
    for (const auto& b : bad) echoed_bad += a.parsed && a.attestation.hub_nonce() == b;
  if (echoed_bad > 0)
    fail_case("the agent echoed malformed nonces", "nonces outside 16-32 bytes ignored, never echoed (C2)",
              std::to_string(echoed_bad) + " attestations echo one");
  measured(std::to_string(bad.size()) + " nonces of 0-1000 bytes (none of 16-32); " + std::to_string(r.after.size()) +
           " attestations after them");
}

void malformed_commands(CaseContext& ctx) {
  AgentTarget& agent = agent_of(ctx);
  REQUIRE_AGENT(agent);
  AgentLink& link = *agent.link;
  const uint32_t period = std::max<uint32_t>(agent.period_ms(), 1);
  const crypto::Bytes sid = crypto::random_bytes(17);
  const std::string session(sid.begin(), sid.begin() + 16), short_session(sid.begin(), sid.begin() + 15),
      long_session(sid.begin(), sid.end());
  std::vector<std::pair<std::string, std::string>> sent;  // what, bytes
  const Robustness r = around_bad_input(agent, [&] {
    auto send = [&](const std::string& what, const std::string& bytes) {
      sent.emplace_back(what, bytes);
      link.publish_command(bytes);
      std::this_thread::sleep_for(30ms);
    };
    // A valid stop first: it sets the last command id this connection carried out.
    const uint64_t last = link.next_command_id();
    send("StopRecording", command_bytes(last, nullptr));
    send("StartRecording repeating the last command id", command_bytes(last, &session));
    send("StartRecording with an older command id", command_bytes(last - 1000, &session));
    send("an empty payload", "");
    send("one byte 0xff", "\xff");
    const crypto::Bytes junk = crypto::random_bytes(40);
    send("40 random bytes", std::string(junk.begin(), junk.end()));
    const std::string whole = command_bytes(link.next_command_id(), &session);
    send("a StartRecording cut short", whole.substr(0, whole.size() - 5));
    send("StartRecording with a 15-byte session id", command_bytes(link.next_command_id(), &short_session));
    send("StartRecording with a 17-byte session id", command_bytes(link.next_command_id(), &long_session));
    v1::CameraCommand empty;
    empty.set_command_id(link.next_command_id());
    send("a CameraCommand asking for nothing", empty.SerializeAsString());
    const crypto::Bytes big = crypto::random_bytes(200);
    send("200 random bytes (over the 64-byte limit)", std::string(big.begin(), big.end()));
  }, milliseconds(2 * period + 3000));
  expect_unshaken(agent, r, "malformed commands");
  std::size_t recording = 0;
  std::string example;
  for (const auto& a : r.after)
    if (a.parsed && a.at > r.bad_start && a.attestation.recording().recording() && recording++ == 0)
      example = "attestation " + std::to_string(a.attestation.counter()) + " reports recording for session " +
                hex(a.attestation.recording().session_id());
  std::string list;
  for (const auto& [what, bytes] : sent) list += (list.empty() ? "" : "; ") + what;
  if (recording > 0)
    fail_case("the agent recorded after commands it must ignore", "no recording after: " + list,
              std::to_string(recording) + " attestations report recording; " + example);
  measured(std::to_string(sent.size()) + " commands: " + list);
}

// ---- TC-CAM-9: a restart of the agent ----

struct RestartObservation {
  std::string error;                  // the restart or the new hello failed
  std::vector<Attestation> attestations;  // from a second before the restart on
  std::size_t restart_index = 0;      // attestations[restart_index] is the first after the restart began
  std::optional<Hello> new_hello;     // the first hello the new run published
  std::size_t new_hello_at = 0;       // attestations before it (index into attestations)
};

// Restarts the agent once per run (with --agent-command, or by a person with
// --interactive) while nonces flow, and keeps what was seen. nullptr when the
// restart is a manual step this run cannot do (the case is then manual).
const RestartObservation* restart_observation(const CaseContext& ctx, AgentTarget& agent) {
  static std::map<const AgentTarget*, RestartObservation> cache;
  if (auto it = cache.find(&agent); it != cache.end()) return &it->second;
  const std::string step = "Restart the camera agent now (stop it and start it again as the camera would, with the "
                           "same key); lk-certify watches its hello and attestations.";
  if (!agent.can_restart() && !ctx.subject.interactive) {
    confirm_manual_step(ctx.subject, step);  // reports the case as manual
    return nullptr;
  }
  AgentLink& link = *agent.link;
  RestartObservation o;
  NoncePump pump(link, milliseconds(agent.options.nonce_period_ms));
  std::this_thread::sleep_for(1s);
  const std::size_t from = link.attestation_count() > 5 ? link.attestation_count() - 5 : 0;
  const std::size_t restart_a = link.attestation_count(), restart_h = link.hello_count();
  if (agent.can_restart()) {
    o.error = agent.restart();
  } else {
    if (!confirm_manual_step(ctx.subject, step)) return nullptr;  // "fail" typed: already a failure
    const bool fresh = link.wait_for([&](const auto& hellos, const auto&) {
      for (std::size_t i = restart_h; i < hellos.size(); ++i)
        if (!hellos[i].retained && hellos[i].parsed) return true;
      return false;
    }, AgentTarget::kHelloTimeout);
    if (!fresh) o.error = "no new hello within " + std::to_string(AgentTarget::kHelloTimeout.count()) + " s of the step";
  }
  if (o.error.empty()) {
    // Two seconds of the new run (and at least a few attestations).
    const auto end = Clock::now() + 2s;
    link.wait_for([&](const auto&, const auto& as) { return Clock::now() >= end && as.size() >= restart_a + 5; }, 10s);
    while (Clock::now() < end) std::this_thread::sleep_for(20ms);
  }
  for (const auto& h : link.hellos(restart_h))
    if (!h.retained && h.parsed) {
      o.new_hello = h;
      break;
    }
  o.attestations = link.attestations(from);
  o.restart_index = restart_a - from;
  o.new_hello_at = o.new_hello ? o.new_hello->attestations_before - from : o.attestations.size();
  return &cache.emplace(&agent, std::move(o)).first->second;
}

#define REQUIRE_RESTART(o, agent)                                                   \
  if ((o) == nullptr) return;                                                       \
  ASSERT_TRUE((o)->error.empty()) << (o)->error << (agent).process_note();          \
  ASSERT_TRUE((o)->new_hello) << "the restarted agent published no hello"

void key_across_restart(CaseContext& ctx) {
  AgentTarget& agent = agent_of(ctx);
  REQUIRE_AGENT(agent);
  const RestartObservation* o = restart_observation(ctx, agent);
  REQUIRE_RESTART(o, agent);
  if (o->new_hello->hello.public_key() != agent.enrolled->public_key())
    fail_case("the hello after the restart carries another key",
              "the enrolled key " + hex(agent.enrolled->public_key()) + ": a new key is a new identity, to be enrolled again",
              hex(o->new_hello->hello.public_key()));
  std::size_t after = 0, bad = 0;
  for (std::size_t i = o->new_hello_at; i < o->attestations.size(); ++i) {
    ++after;
    bad += !verifies(o->attestations[i], agent.key());
  }
  ASSERT_GT(after, 0u) << "no attestation after the restart" << agent.process_note();
  if (bad > 0)
    fail_case("attestations after the restart do not verify with the enrolled key",
              "every attestation signed by " + hex(agent.enrolled->public_key()) + " (C1)",
              std::to_string(bad) + " of " + std::to_string(after));
  measured("key " + hex(agent.enrolled->public_key()) + " before and after; " + std::to_string(after) +
           " attestations after the restart verified with it");
}

void boot_across_restart(CaseContext& ctx) {
  AgentTarget& agent = agent_of(ctx);
  REQUIRE_AGENT(agent);
  const RestartObservation* o = restart_observation(ctx, agent);
  REQUIRE_RESTART(o, agent);
  const auto& as = o->attestations;
  // The old run: the boot id of the last attestation before the restart began.
  std::optional<std::size_t> last_old;
  for (std::size_t i = 0; i < o->restart_index && i < as.size(); ++i)
    if (as[i].parsed) last_old = i;
  ASSERT_TRUE(last_old) << "no attestation before the restart";
  const std::string old_boot = as[*last_old].attestation.boot_id();
  const uint64_t old_counter = as[*last_old].attestation.counter();
  const std::string new_boot = o->new_hello->hello.boot_id();
  if (new_boot == old_boot)
    fail_case("the restarted agent announces the boot id of the run before",
              "a new boot id after a restart: the counter starts again, and under a boot id the hub has seen it "
              "is rejected (docs/rules.md C3)",
              "boot id " + hex(new_boot) + " before and after");
  std::optional<std::size_t> first_new;
  std::size_t old_after_new = 0, foreign = 0, not_increasing = 0;
  std::string example;
  const Attestation* previous = nullptr;
  for (std::size_t i = *last_old + 1; i < as.size(); ++i) {
    const auto& a = as[i];
    if (!a.parsed) continue;
    const bool is_new = a.attestation.boot_id() == new_boot && (new_boot != old_boot || i >= o->new_hello_at);
    if (is_new) {
      if (!first_new) first_new = i;
      if (previous && a.attestation.counter() <= previous->attestation.counter() && not_increasing++ == 0)
        example = "counter " + std::to_string(a.attestation.counter()) + " follows " +
                  std::to_string(previous->attestation.counter());
      previous = &a;
    } else if (a.attestation.boot_id() == old_boot) {
      old_after_new += first_new.has_value();
    } else {
      ++foreign;
    }
  }
  ASSERT_TRUE(first_new) << "no attestation carries the boot id of the new hello (" << hex(new_boot) << ")"
                         << agent.process_note();
  if (*first_new < o->new_hello_at)
    fail_case("an attestation with the new boot id arrived before the hello announcing it",
              "the hello first, then attestations under its boot id (docs/camera-link.md)",
              "attestation " + std::to_string(as[*first_new].attestation.counter()) + " before the hello");
  if (old_after_new > 0)
    fail_case("attestations of the old run arrived after the new run's first", "none: the old run has ended",
              std::to_string(old_after_new) + " attestations");
  if (foreign > 0)
    fail_case("attestations carry a boot id of neither run", "the old run's or the new hello's boot id",
              std::to_string(foreign) + " attestations");
  if (not_increasing > 0)
    fail_case("the counter of the new run did not increase", "every counter above the one before it (C3)",
              std::to_string(not_increasing) + " attestations; " + example);
  if (new_boot == old_boot && as[*first_new].attestation.counter() <= old_counter)
    fail_case("under the same boot id the counter went back", "counters above " + std::to_string(old_counter) +
                  ", the last of the run before (C3)",
              std::to_string(as[*first_new].attestation.counter()));
  measured("boot id " + hex(old_boot) + " (last counter " + std::to_string(old_counter) + ") -> " + hex(new_boot) +
           " (first counter " + std::to_string(as[*first_new].attestation.counter()) + ")");
}

void frozen_source(CaseContext& ctx) {
  AgentTarget& agent = agent_of(ctx);
  REQUIRE_AGENT(agent);
  AgentLink& link = *agent.link;
  const std::string error = agent.restart(agent.options.frozen_args);
  ASSERT_TRUE(error.empty()) << error;
  const std::size_t from = link.attestation_count();
  const auto start = Clock::now();
  const auto window = std::chrono::seconds(std::max<uint32_t>(agent.options.window_s, 6));
  {
    NoncePump pump(link, milliseconds(agent.options.nonce_period_ms));
    std::this_thread::sleep_for(window);
  }
  const auto end = Clock::now();
  const auto as = link.attestations(from);
  const std::string note = agent.process_note();
  // Back to the ordinary source for whatever runs next.
  if (const std::string e = agent.restart(); !e.empty())
    std::cerr << "lk-certify: restarting the agent without the frozen source failed: " << e << "\n";
  ASSERT_GE(as.size(), 2u) << "fewer than two attestations from the agent on a frozen source in "
                           << window.count() << " s" << note;
  // The run of identical digests that ends the window, and when it began.
  std::size_t run_start = as.size() - 1;
  while (run_start > 0 && as[run_start - 1].parsed &&
         as[run_start - 1].attestation.frame_digest() == as.back().attestation.frame_digest())
    --run_start;
  const double began_s = ms(as[run_start].at - start) / 1000, run_ms = ms(end - as[run_start].at);
  measured(std::to_string(as.size()) + " attestations; the digest " + hex(as.back().attestation.frame_digest()) +
           " from " + fixed(began_s, 2) + " s on, " + std::to_string(as.size() - run_start) + " attestations, " +
           fixed(run_ms / 1000, 2) + " s (frozen with `" + agent.options.frozen_args + "`)");
  // Identical from at most half the window on, and for C5's default freeze window (3 s) at least.
  const double half_s = std::chrono::duration<double>(window).count() / 2;
  const std::string frozen_expected = "identical frame digests from at most " + fixed(half_s, 1) +
                                      " s into the run on, for 3 s at least (C5's default freeze window)";
  if (began_s > half_s)
    fail_case("the frame digest kept changing on a frozen source", frozen_expected,
              "still changing " + fixed(began_s, 2) + " s into the run");
  if (run_ms < 3000.0)
    fail_case("identical digests too briefly on a frozen source", frozen_expected, fixed(run_ms) + " ms");
  if (as.size() - run_start < 2)
    fail_case("fewer than two attestations with the frozen digest", frozen_expected,
              std::to_string(as.size() - run_start));
}

// ---- TC-CAM-10: the camera's view (C8) ----

std::optional<std::string> needs_covered_start(const Subject& s, const std::string& uri) {
  if (auto r = needs_agent(s, uri)) return r;
  if (!s.agent->can_restart())
    return "needs --agent-command and --agent-covered-args: lk-certify starts the agent on a covered view";
  if (s.agent->options.covered_args.empty())
    return "needs --agent-covered-args: the arguments that start the agent on a covered (black) view "
           "(lk-camera-agent: --source lavfi:color=black:size=640x360:rate=25)";
  return std::nullopt;
}

std::string scene_text(const v1::SceneMeasurements& m) {
  return "mean_luminance " + std::to_string(m.mean_luminance()) + ", sharpness " + std::to_string(m.sharpness()) +
         ", reference_similarity " + std::to_string(m.reference_similarity());
}

// Every attestation of the window carries the scene, in range; an agent
// that never measures (lk-camera-agent --no-scene) is out of C8's scope.
void scene_in_window(CaseContext& ctx) {
  AgentTarget& agent = agent_of(ctx);
  REQUIRE_AGENT(agent);
  const AgentWindow& w = agent_window(agent);
  REQUIRE_WINDOW(agent, w);
  std::size_t with = 0, without = 0, out_of_range = 0;
  std::string first, example;
  for (const auto& a : w.attestations) {
    if (!a.parsed) continue;
    if (!a.attestation.has_scene()) {
      ++without;
      continue;
    }
    const auto& m = a.attestation.scene();
    if (with++ == 0) first = scene_text(m);
    if ((m.mean_luminance() > 255000 || m.sharpness() > 1020000 || m.reference_similarity() > 1000) &&
        out_of_range++ == 0)
      example = scene_text(m);
  }
  if (with == 0)
    GTEST_SKIP() << kNotApplicablePrefix
                 << "the agent does not measure its view (no attestation carries `scene`): a hub enrols it only "
                    "with scene_required = false, and cannot tell it covered or turned (C8)";
  measured(std::to_string(with) + " of " + std::to_string(with + without) + " attestations measured; the first: " +
           first);
  if (without > 0)
    fail_case("some attestations carry no scene measurements while the others do",
              "measurements in every attestation: a hub that requires them (the default) takes each gap as a "
              "covered lens (C8)",
              std::to_string(without) + " of " + std::to_string(with + without) + " without `scene`");
  if (out_of_range > 0)
    fail_case("scene measurements outside their ranges",
              "mean_luminance 0-255000, sharpness 0-1020000, reference_similarity 0-1000 (attestation.proto)",
              std::to_string(out_of_range) + " attestations; e.g. " + example);
  // An ordinary view, as the lab points the camera at enrolment, is in the hub's default limits.
  const auto& m = w.attestations.back().attestation.scene();
  if (!(m.mean_luminance() >= 8000 && m.mean_luminance() <= 247000 && m.reference_similarity() >= 300))
    fail_case("an ordinary view measured out of the hub's default limits",
              "mean_luminance 8000-247000 and reference_similarity 300 or more (is the camera aimed at what it was "
              "enrolled with?)",
              "the last attestation: " + scene_text(m));
}

// Started on a covered view, the agent's own measurements say so: dark,
// and unlike the view it was enrolled with, in the attestations it signs.
void covered_view(CaseContext& ctx) {
  AgentTarget& agent = agent_of(ctx);
  REQUIRE_AGENT(agent);
  AgentLink& link = *agent.link;
  const std::string error = agent.restart(agent.options.covered_args);
  ASSERT_TRUE(error.empty()) << error;
  const std::size_t from = link.attestation_count();
  const auto start = Clock::now();
  {
    NoncePump pump(link, milliseconds(agent.options.nonce_period_ms));
    std::this_thread::sleep_for(4s);
  }
  const auto as = link.attestations(from);
  const std::string note = agent.process_note();
  if (const std::string e = agent.restart(); !e.empty())
    std::cerr << "lk-certify: restarting the agent without the covered view failed: " << e << "\n";
  std::size_t judged = 0, dark = 0, unlike = 0, unmeasured = 0;
  std::string example;
  for (const auto& a : as) {
    if (!a.parsed || a.at < start + 1s) continue;  // the first second: the restart settles
    ++judged;
    if (!a.attestation.has_scene()) {
      ++unmeasured;
      continue;
    }
    const auto& m = a.attestation.scene();
    dark += m.mean_luminance() < 8000;
    unlike += m.reference_similarity() < 300;
    if (example.empty() && (m.mean_luminance() >= 8000 || m.reference_similarity() >= 300)) example = scene_text(m);
  }
  ASSERT_GE(judged, 2u) << "fewer than two attestations from the agent on a covered view in 3 s" << note;
  measured(std::to_string(judged) + " attestations on a covered view (`" + agent.options.covered_args + "`): " +
           std::to_string(dark) + " dark, " + std::to_string(unlike) + " unlike the reference");
  const std::string covered_expected = "every attestation on a covered view measured dark (mean_luminance below "
                                      "8000, the hub's default floor) and unlike the reference (reference_similarity "
                                      "below 300) (C8)";
  const std::string of = " of " + std::to_string(judged);
  if (unmeasured > 0)
    fail_case("attestations on a covered view carry no measurements", covered_expected, std::to_string(unmeasured) + of);
  if (dark != judged - unmeasured)
    fail_case("a covered view measured as lit", covered_expected,
              std::to_string(judged - unmeasured - dark) + of + "; e.g. " + example);
  if (unlike != judged - unmeasured)
    fail_case("a covered view measured as like the enrolled one", covered_expected,
              std::to_string(judged - unmeasured - unlike) + of + "; e.g. " + example);
}

}  // namespace

void add_agent_cases(std::vector<CaseDef>& c) {
  c.push_back({"TC-CAM-6.1", "The agent keeps its hello's attestation_period_ms: no gap exceeds it plus the tolerance "
               "(--agent-tolerance-ms), and the period measured over the window (median of half-window spans) is at least 80 % of it",
               "docs/rules.md C1", Scope::kAgent, needs_agent, period});
  c.push_back({"TC-CAM-6.2", "Nonce echo latency on the wire: p50 within one nonce period, p99 within two; every echo younger than three",
               "docs/rules.md C2", Scope::kAgent, needs_agent, nonce_latency});
  c.push_back({"TC-CAM-6.3", "Counters strictly increase under one boot id for the whole window", "docs/rules.md C3",
               Scope::kAgent, needs_agent, counters});
  c.push_back({"TC-CAM-6.4", "Every attestation verifies with the key in the agent's hello, and no hello changes that key",
               "docs/rules.md C1", Scope::kAgent, needs_agent, signatures});
  c.push_back({"TC-CAM-7.1", "Recording is reported for the session with a growing byte count, stops on command, and the final count is the file's size",
               "docs/rules.md U2", Scope::kAgent, needs_agent, recording_truth});
  c.push_back({"TC-CAM-8.1", "Nonces of a wrong size are ignored: the agent keeps attesting, same boot, and never echoes them",
               "docs/rules.md C2", Scope::kAgent, needs_agent, malformed_nonces});
  c.push_back({"TC-CAM-8.2", "Malformed, unknown and stale commands are ignored: the agent keeps attesting and does not record",
               "docs/rules.md U2", Scope::kAgent, needs_agent, malformed_commands});
  c.push_back({"TC-CAM-9.1", "After a restart of the agent its hello carries the same key and its attestations verify with it",
               "docs/rules.md C1", Scope::kAgent, needs_agent, key_across_restart});
  c.push_back({"TC-CAM-9.2", "A restart announces a new boot id in the hello before any attestation carries it; counters increase under it",
               "docs/rules.md C3", Scope::kAgent, needs_agent, boot_across_restart});
  c.push_back({"TC-CAM-9.3", "Started on a frozen source, the agent attests identical frame digests", "docs/rules.md C5",
               Scope::kAgent, needs_frozen_start, frozen_source});
  c.push_back({"TC-CAM-10.1", "Every attestation carries the agent's measurements of its view, in range; an ordinary view is within the hub's default limits",
               "docs/rules.md C8", Scope::kAgent, needs_agent, scene_in_window});
  c.push_back({"TC-CAM-10.2", "Started on a covered view, the agent measures it dark and unlike its reference view",
               "docs/rules.md C8", Scope::kAgent, needs_covered_start, covered_view});
}

}  // namespace latchkey::certify
