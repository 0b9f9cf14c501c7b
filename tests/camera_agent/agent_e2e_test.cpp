// lk-camera-agent against a real Mosquitto broker, seen from the hub's side
// of the camera link (docs/camera-link.md): the retained hello with the key
// the agent printed, attestations that verify with libsodium alone, nonces
// echoed, recording reported truthfully, scene measurements (C8) equal to
// latchkey_attest's of the very frame signed, the reference view taken,
// kept and retaken, the last will, clean shutdown, reconnects.
// A list of cases over one running agent and broker: long by nature.
#include "camera_agent_test_support.hpp"
#include "e2e_fixture.hpp"

#include <latchkey/attestation.pb.h>
#include <latchkey/camera_link.pb.h>
#include <latchkey/lk_attest.h>

#include <gtest/gtest.h>
#include <sodium.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sys/stat.h>

namespace latchkey::camera_test {
namespace {

using std::chrono::milliseconds;
constexpr int kPeriodMs = 100;
constexpr char kCamera[] = "porch";
constexpr char kDomain[] = "latchkey.attestation.v1";  // signed with its NUL

struct Opened {
  bool ok = false;
  latchkey::v1::Attestation attestation;
};

// What the hub does first (C1): the signature over domain NUL attestation,
// by the key the agent printed, then the claims.
Opened open_attestation(const std::string& payload, const std::string& public_key) {
  Opened out;
  latchkey::v1::SignedAttestation signed_attestation;
  if (!signed_attestation.ParseFromString(payload) || signed_attestation.signature().size() != 64 ||
      public_key.size() != 32)
    return out;
  std::string message(kDomain, sizeof kDomain);  // includes the NUL
  message += signed_attestation.attestation();
  if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signed_attestation.signature().data()),
                                  reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                  reinterpret_cast<const unsigned char*>(public_key.data())) != 0)
    return out;
  out.ok = out.attestation.ParseFromString(signed_attestation.attestation());
  return out;
}

std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

std::string command(uint64_t id, const std::string* session) {
  latchkey::v1::CameraCommand c;
  c.set_command_id(id);
  if (session != nullptr)
    c.mutable_start_recording()->set_session_id(*session);
  else
    c.mutable_stop_recording();
  return c.SerializeAsString();
}

class AgentEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_mosquitto_broker()) GTEST_SKIP() << "no /usr/sbin/mosquitto";
    ASSERT_GE(sodium_init(), 0);
    broker_ = std::make_unique<Broker>(dir_.path());
  }

  // With --reference-file reference.pgm in the test's folder unless
  // with_reference is false (then extra says --no-scene or another file).
  void start_agent(const std::vector<std::string>& extra = {}, bool with_reference = true) {
    std::vector<std::string> argv = {LK_TEST_CAMERA_AGENT,
                                     "--camera-id", kCamera,
                                     "--source", "lavfi:testsrc2=size=320x240:rate=25",
                                     "--broker", "127.0.0.1:" + std::to_string(broker_->port()),
                                     "--key-file", dir_.file("device.key"),
                                     "--record-dir", dir_.file("recordings"),
                                     "--period-ms", std::to_string(kPeriodMs)};
    if (with_reference) argv.insert(argv.end(), {"--reference-file", reference_file()});
    argv.insert(argv.end(), extra.begin(), extra.end());
    agent_ = std::make_unique<ChildProcess>(argv, dir_.file("agent.log"));
    const std::string line = agent_->read_line(milliseconds(10000));
    ASSERT_EQ(line.rfind("public key: ", 0), 0u) << "stdout: '" << line << "'; " << log();
    public_key_ = from_hex(line.substr(12));
    ASSERT_EQ(public_key_.size(), 32u);
  }

  std::string reference_file() const { return dir_.file("reference.pgm"); }

  std::string log() {
    std::ifstream in(dir_.file("agent.log"));
    return "agent log:\n" + std::string(std::istreambuf_iterator<char>(in), {});
  }

  bool is(const Message& m, const char* leaf) { return m.topic == client_->topic(leaf); }

  // The next attestation from index from on that verifies and matches.
  int next_attestation(std::size_t from, milliseconds timeout,
                       const std::function<bool(const latchkey::v1::Attestation&)>& match = nullptr) {
    return client_->wait_for(
        [&](const Message& m) {
          if (!is(m, "attestation")) return false;
          const Opened o = open_attestation(m.payload, public_key_);
          EXPECT_TRUE(o.ok) << "an attestation that does not verify";
          return o.ok && (!match || match(o.attestation));
        },
        from, timeout);
  }

  latchkey::v1::Attestation attestation_at(int index) {
    return open_attestation(client_->at(static_cast<std::size_t>(index)).payload, public_key_).attestation;
  }

  latchkey::v1::CameraHello wait_hello(std::size_t from) {
    const int i = client_->wait_for([&](const Message& m) { return is(m, "hello"); }, from, milliseconds(10000));
    EXPECT_GE(i, 0) << "no hello; " << log();
    latchkey::v1::CameraHello hello;
    if (i >= 0) {
      EXPECT_TRUE(hello.ParseFromString(client_->at(static_cast<std::size_t>(i)).payload));
    }
    return hello;
  }

  int wait_state(const std::string& state, std::size_t from, milliseconds timeout) {
    return client_->wait_for([&](const Message& m) { return is(m, "state") && m.payload == state; }, from, timeout);
  }

  TempDir dir_;
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<ChildProcess> agent_;
  std::unique_ptr<TestClient> client_;
  std::string public_key_;
};

TEST_F(AgentEndToEnd, AttestsEchoesNoncesRecordsAndLeavesAWill) {
  start_agent();
  client_ = std::make_unique<TestClient>(broker_->port(), kCamera);

  // The retained hello carries the key the agent printed for enrolment.
  const latchkey::v1::CameraHello hello = wait_hello(0);
  EXPECT_EQ(hello.camera_id(), kCamera);
  EXPECT_EQ(hello.public_key(), public_key_);
  EXPECT_EQ(hello.boot_id().size(), 16u);
  EXPECT_EQ(hello.attestation_period_ms(), static_cast<uint32_t>(kPeriodMs));
  EXPECT_EQ(hello.agent().rfind("lk-camera-agent ", 0), 0u);
  EXPECT_EQ(hello.source(), "lavfi:testsrc2=size=320x240:rate=25");
  EXPECT_GE(wait_state("online", 0, milliseconds(5000)), 0);

  // Attestations verify, name this camera and boot, count up, carry changing
  // digests, at about one per period.
  int first = next_attestation(0, milliseconds(5000));
  ASSERT_GE(first, 0) << log();
  const auto t0 = client_->at(static_cast<std::size_t>(first)).received;
  uint64_t last_counter = 0;
  std::string last_digest;
  int count = 0;
  for (int i = first; i >= 0 && client_->at(static_cast<std::size_t>(i)).received - t0 < milliseconds(1000);
       i = next_attestation(static_cast<std::size_t>(i) + 1, milliseconds(2000))) {
    const auto a = attestation_at(i);
    EXPECT_EQ(a.camera_id(), kCamera);
    EXPECT_EQ(a.boot_id(), hello.boot_id());
    EXPECT_GT(a.counter(), last_counter);
    EXPECT_EQ(a.frame_digest().size(), 32u);
    EXPECT_NE(a.frame_digest(), last_digest) << "a 25 fps source and a 100 ms period: a new frame each time";
    EXPECT_FALSE(a.recording().recording());
    EXPECT_TRUE(a.has_scene()) << "every attestation of a measuring agent carries its scene (C8)";
    last_counter = a.counter();
    last_digest = a.frame_digest();
    ++count;
  }
  EXPECT_GE(count, 7) << "about 10 attestations a second";
  EXPECT_LE(count, 12);

  // A nonce is echoed within two periods (plus a little for the broker).
  const std::string nonce = random_bytes(16);
  std::size_t mark = client_->size();
  auto sent = Clock::now();
  client_->publish("nonce", nonce, 0);
  int echo = next_attestation(mark, milliseconds(3000), [&](const auto& a) { return a.hub_nonce() == nonce; });
  ASSERT_GE(echo, 0) << log();
  EXPECT_LE(client_->at(static_cast<std::size_t>(echo)).received - sent, milliseconds(2 * kPeriodMs + 150));

  // A nonce of the wrong size is ignored: the last good one stays.
  client_->publish("nonce", random_bytes(8), 0);
  client_->publish("nonce", random_bytes(33), 0);
  std::this_thread::sleep_for(milliseconds(3 * kPeriodMs));
  mark = client_->size();
  for (int i = 0, at = static_cast<int>(mark); i < 3; ++i) {
    at = next_attestation(static_cast<std::size_t>(at), milliseconds(2000));
    ASSERT_GE(at, 0);
    EXPECT_EQ(attestation_at(at).hub_nonce(), nonce);
    ++at;
  }
  const std::string long_nonce = random_bytes(32);
  mark = client_->size();
  client_->publish("nonce", long_nonce, 0);
  EXPECT_GE(next_attestation(mark, milliseconds(2000), [&](const auto& a) { return a.hub_nonce() == long_nonce; }), 0);

  // Recording: acknowledged in attestations, with the real bytes on disk.
  const std::string session = random_bytes(16);
  mark = client_->size();
  client_->publish("command", command(1, &session), 1);
  const int recording = next_attestation(mark, milliseconds(3000), [&](const auto& a) {
    return a.recording().recording() && a.recording().session_id() == session;
  });
  ASSERT_GE(recording, 0) << log();
  const uint64_t segment = attestation_at(recording).recording().segment_id();
  EXPECT_EQ(segment, 1u);
  std::this_thread::sleep_for(milliseconds(1500));
  client_->publish("command", command(1, nullptr), 1);  // a stop that reuses id 1: a redelivery, ignored
  std::this_thread::sleep_for(milliseconds(500));
  mark = client_->size();
  const int still = next_attestation(mark, milliseconds(2000));
  ASSERT_GE(still, 0);
  EXPECT_TRUE(attestation_at(still).recording().recording()) << "command id 1 again is ignored";
  EXPECT_GT(attestation_at(still).recording().recorded_bytes(), 0u);
  mark = client_->size();
  client_->publish("command", command(2, nullptr), 1);
  const int stopped = next_attestation(mark, milliseconds(3000), [](const auto& a) { return !a.recording().recording(); });
  ASSERT_GE(stopped, 0) << log();
  const auto final_state = attestation_at(stopped).recording();
  EXPECT_EQ(final_state.session_id(), session);
  EXPECT_EQ(final_state.segment_id(), segment);
  std::string file;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.file("recordings")))
    if (entry.path().filename().string().find(hex(reinterpret_cast<const uint8_t*>(session.data()), 16)) == 0)
      file = entry.path().string();
  ASSERT_FALSE(file.empty()) << "no file named for the session";
  EXPECT_NE(file.find("-1.mkv"), std::string::npos) << file;
  EXPECT_EQ(final_state.recorded_bytes(), file_size(file)) << "recorded_bytes is the size on disk";
  EXPECT_GT(count_video_frames(file), 5);

  // SIGKILL: no goodbye, so the broker sends the last will.
  mark = client_->size();
  agent_->signal(SIGKILL);
  EXPECT_GE(wait_state("offline", mark, milliseconds(5000)), 0) << "the last will";
}

TEST_F(AgentEndToEnd, SigtermSaysOfflineFinishesTheRecordingAndExitsZero) {
  start_agent();
  client_ = std::make_unique<TestClient>(broker_->port(), kCamera);
  wait_hello(0);
  const std::string nonce = random_bytes(16);
  const std::string session = random_bytes(16);
  std::size_t mark = client_->size();
  client_->publish("nonce", nonce, 0);
  client_->publish("command", command(7, &session), 1);
  ASSERT_GE(next_attestation(mark, milliseconds(3000), [](const auto& a) { return a.recording().recording(); }), 0)
      << log();
  std::this_thread::sleep_for(milliseconds(1000));
  mark = client_->size();
  agent_->signal(SIGTERM);
  EXPECT_EQ(agent_->wait(milliseconds(10000)), 0) << log();
  EXPECT_GE(wait_state("offline", mark, milliseconds(3000)), 0);
  std::string file;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.file("recordings"))) file = entry.path().string();
  ASSERT_FALSE(file.empty());
  EXPECT_GT(count_video_frames(file), 5) << "the segment was finished with its trailer";
  EXPECT_NE(log().find("recording stopped"), std::string::npos) << log();
}

TEST_F(AgentEndToEnd, ReconnectsAfterTheBrokerRestartsAndSaysHelloAgain) {
  start_agent();
  client_ = std::make_unique<TestClient>(broker_->port(), kCamera);
  const auto hello = wait_hello(0);
  const int before = next_attestation(0, milliseconds(5000));
  ASSERT_GE(before, 0);
  const uint64_t counter_before = attestation_at(before).counter();

  broker_->stop();
  std::this_thread::sleep_for(milliseconds(500));
  const std::size_t mark = client_->size();
  broker_->start();  // the same port, no retained messages: the hello must be sent again
  const auto again = wait_hello(mark);
  EXPECT_EQ(again.public_key(), public_key_);
  EXPECT_EQ(again.boot_id(), hello.boot_id()) << "the same run of the agent";
  EXPECT_GE(wait_state("online", mark, milliseconds(5000)), 0);
  const int after = next_attestation(mark, milliseconds(5000));
  ASSERT_GE(after, 0) << log();
  EXPECT_GT(attestation_at(after).counter(), counter_before) << "attestations were signed while disconnected too";
  EXPECT_NE(log().find("lost the connection"), std::string::npos) << log();
}

TEST_F(AgentEndToEnd, FreezeAfterGivesIdenticalDigests) {
  start_agent({"--freeze-after", "5"});
  client_ = std::make_unique<TestClient>(broker_->port(), kCamera);
  wait_hello(0);
  std::this_thread::sleep_for(milliseconds(1000));  // past frame 5 at 25 fps
  const std::size_t mark = client_->size();
  int i = next_attestation(mark, milliseconds(3000));
  ASSERT_GE(i, 0);
  const std::string digest = attestation_at(i).frame_digest();
  for (int n = 0; n < 5; ++n) {
    i = next_attestation(static_cast<std::size_t>(i) + 1, milliseconds(2000));
    ASSERT_GE(i, 0);
    EXPECT_EQ(attestation_at(i).frame_digest(), digest) << "a stuck sensor: identical digests (C5)";
  }
}

// C8: the scene measurements in each attestation are latchkey_attest's own
// of the frame whose digest it signs, against the reference view the agent
// took at its first start and saved.
TEST_F(AgentEndToEnd, C8_AttestationsCarryTheMeasurementsOfTheFrameTheySign) {
  if (!have_ffmpeg_command()) GTEST_SKIP() << "no ffmpeg command";
  ASSERT_FALSE(std::filesystem::exists(reference_file()));
  start_agent();
  client_ = std::make_unique<TestClient>(broker_->port(), kCamera);
  const int first = next_attestation(0, milliseconds(6000));
  ASSERT_GE(first, 0) << log();
  EXPECT_NE(log().find("reference view taken from frame"), std::string::npos) << log();
  EXPECT_NE(log().find(reference_file()), std::string::npos) << "the log names the file; " << log();
  std::array<uint8_t, LK_ATTEST_THUMB_SIZE> reference{};
  char message[LK_ATTEST_MESSAGE_SIZE] = "";
  ASSERT_EQ(lk_attest_reference_load(reference_file().c_str(), reference.data(), message, sizeof message), LK_ATTEST_OK)
      << message;
  struct stat st {};
  ASSERT_EQ(::stat(reference_file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  // The frames testsrc2 gives, decoded by the ffmpeg command, by digest.
  const auto frames = ffmpeg_gray_frames("testsrc2=size=320x240:rate=25", true, 250, 320, 240);
  ASSERT_EQ(frames.size(), 250u);
  std::map<std::string, std::size_t> by_digest;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    std::array<uint8_t, 32> d{};
    crypto_generichash(d.data(), d.size(), frames[i].data(), frames[i].size(), nullptr, 0);
    by_digest[std::string(d.begin(), d.end())] = i;
  }
  int checked = 0;
  for (int i = first; i >= 0 && checked < 10; i = next_attestation(static_cast<std::size_t>(i) + 1, milliseconds(2000))) {
    const auto a = attestation_at(i);
    ASSERT_TRUE(a.has_scene());
    const auto found = by_digest.find(a.frame_digest());
    ASSERT_NE(found, by_digest.end()) << "an attested frame past the first 250";
    const std::vector<uint8_t>& pixels = frames[found->second];
    lk_attest_scene expected{};
    ASSERT_EQ(lk_attest_scene_measure(pixels.data(), 320, 240, 320, reference.data(), &expected), LK_ATTEST_OK);
    EXPECT_EQ(a.scene().mean_luminance(), expected.mean_luminance) << "frame " << found->second + 1;
    EXPECT_EQ(a.scene().sharpness(), expected.sharpness) << "frame " << found->second + 1;
    EXPECT_EQ(a.scene().reference_similarity(), expected.reference_similarity) << "frame " << found->second + 1;
    EXPECT_GE(a.scene().reference_similarity(), 850u) << "the scene the reference was taken of";
    EXPECT_GT(a.scene().sharpness(), 1000u);
    ++checked;
  }
  EXPECT_EQ(checked, 10);
}

// C8: the reference view stays what it was at enrolment, across restarts and
// whatever the camera sees later, until a person asks for a new one.
TEST_F(AgentEndToEnd, C8_TheReferenceIsKeptAcrossRestartsAndRetakenOnlyWhenAsked) {
  start_agent();
  client_ = std::make_unique<TestClient>(broker_->port(), kCamera);
  ASSERT_GE(next_attestation(0, milliseconds(6000)), 0) << log();
  const std::string enrolled = read_file(reference_file());
  ASSERT_FALSE(enrolled.empty());
  agent_->signal(SIGTERM);
  ASSERT_EQ(agent_->wait(milliseconds(10000)), 0) << log();

  // The camera turned to another scene: it attests at once, measuring it unlike its reference.
  std::size_t mark = client_->size();
  start_agent({"--source", "lavfi:mandelbrot=size=320x240:rate=25"});
  int i = next_attestation(mark, milliseconds(3000));
  ASSERT_GE(i, 0) << log();
  for (int n = 0; n < 5; ++n, i = next_attestation(static_cast<std::size_t>(i) + 1, milliseconds(2000))) {
    ASSERT_GE(i, 0);
    EXPECT_LE(attestation_at(i).scene().reference_similarity(), 400u);
  }
  EXPECT_EQ(read_file(reference_file()), enrolled) << "never replaced unasked";
  EXPECT_NE(log().find("loaded the reference view from " + reference_file()), std::string::npos) << log();
  agent_->signal(SIGTERM);
  ASSERT_EQ(agent_->wait(milliseconds(10000)), 0) << log();

  // Re-aimed on purpose: --retake-reference makes the new view the reference.
  mark = client_->size();
  start_agent({"--source", "lavfi:mandelbrot=size=320x240:rate=25", "--retake-reference"});
  i = next_attestation(mark, milliseconds(6000));
  ASSERT_GE(i, 0) << log();
  EXPECT_NE(read_file(reference_file()), enrolled);
  i = next_attestation(static_cast<std::size_t>(i) + 1, milliseconds(2000));
  ASSERT_GE(i, 0);
  EXPECT_GE(attestation_at(i).scene().reference_similarity(), 800u) << "mandelbrot zooms slowly";
}

TEST_F(AgentEndToEnd, C8_NoSceneSendsNoMeasurements) {
  start_agent({"--no-scene"}, false);
  client_ = std::make_unique<TestClient>(broker_->port(), kCamera);
  int i = next_attestation(0, milliseconds(5000));
  for (int n = 0; n < 3; ++n, i = next_attestation(static_cast<std::size_t>(i) + 1, milliseconds(2000))) {
    ASSERT_GE(i, 0) << log();
    EXPECT_FALSE(attestation_at(i).has_scene()) << "the field is absent, not zero";
  }
  EXPECT_NE(log().find("--no-scene: attestations carry no scene measurements"), std::string::npos) << log();
  EXPECT_FALSE(std::filesystem::exists(reference_file()));
}

// The hub's broker as docs/broker.md sets it up: no anonymous clients, a
// password per camera, the camera-link ACL, TLS with a CA the camera is given.
class AgentEndToEndSecure : public AgentEndToEnd {
 protected:
  void SetUp() override {
    if (!have_mosquitto_broker() || !have_secure_broker_tools()) GTEST_SKIP() << "no mosquitto_passwd or openssl";
    ASSERT_GE(sodium_init(), 0);
    broker_ = std::make_unique<Broker>(dir_.path(), BrokerSecurity{true, kCamera, "camera-secret", "hub-secret"});
    const std::string password_file = dir_.file("camera.password");
    std::ofstream(password_file) << "camera-secret\n";
    ::chmod(password_file.c_str(), 0600);
  }

  std::vector<std::string> secure_options(const std::string& password_file) {
    return {"--broker", "mqtts://localhost:" + std::to_string(broker_->port()), "--tls-ca-file", broker_->ca_file(),
            "--password-file", password_file};
  }
};

TEST_F(AgentEndToEndSecure, WorksWithAPasswordTlsAndTheHubsAcl) {
  start_agent(secure_options(dir_.file("camera.password")));
  client_ = std::make_unique<TestClient>(broker_->port(), kCamera,
                                         ClientLogin{"hub", "hub-secret", broker_->ca_file()});
  const auto hello = wait_hello(0);
  EXPECT_EQ(hello.public_key(), public_key_);
  EXPECT_GE(wait_state("online", 0, milliseconds(5000)), 0);
  const std::string nonce = random_bytes(24);
  const std::string session = random_bytes(16);
  const std::size_t mark = client_->size();
  client_->publish("nonce", nonce, 0);  // the hub may write nonces and commands
  client_->publish("command", command(1, &session), 1);
  EXPECT_GE(next_attestation(mark, milliseconds(3000),
                             [&](const auto& a) {
                               return a.hub_nonce() == nonce && a.recording().recording() &&
                                      a.recording().session_id() == session;
                             }),
            0)
      << log();
  EXPECT_NE(log().find("(TLS)"), std::string::npos);
}

TEST_F(AgentEndToEndSecure, AWrongPasswordIsRefusedAndRetried) {
  const std::string wrong = dir_.file("wrong.password");
  std::ofstream(wrong) << "not-the-secret\n";
  ::chmod(wrong.c_str(), 0600);
  start_agent(secure_options(wrong));
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline && log().find("retrying in 2 s") == std::string::npos)
    std::this_thread::sleep_for(milliseconds(100));
  const std::string text = log();
  EXPECT_NE(text.find("not authorised"), std::string::npos) << text;
  EXPECT_NE(text.find("retrying in 2 s"), std::string::npos) << "it keeps trying, backing off: " << text;
  EXPECT_EQ(agent_->wait(milliseconds(0)), -1) << "still running";
}

// No broker needed: the key file's checks and --print-key.
TEST(AgentKeyFile, PrintKeyCreatesTheKeyOnceAndPrintsItAgain) {
  TempDir dir;
  const std::string key = dir.file("device.key");
  ChildProcess first({LK_TEST_CAMERA_AGENT, "--key-file", key, "--print-key"}, dir.file("log"));
  const std::string line = first.read_line(milliseconds(5000));
  EXPECT_EQ(first.wait(milliseconds(5000)), 0);
  ASSERT_EQ(line.rfind("public key: ", 0), 0u) << line;
  EXPECT_EQ(line.size(), 12u + 64u);
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ChildProcess second({LK_TEST_CAMERA_AGENT, "--key-file", key, "--print-key"}, dir.file("log"));
  EXPECT_EQ(second.read_line(milliseconds(5000)), line) << "the same key, not a new one";
  EXPECT_EQ(second.wait(milliseconds(5000)), 0);
}

TEST(AgentKeyFile, AKeyFileOthersCanReadIsRefused) {
  TempDir dir;
  const std::string key = dir.file("device.key");
  {
    ChildProcess create({LK_TEST_CAMERA_AGENT, "--key-file", key, "--print-key"}, dir.file("log"));
    ASSERT_EQ(create.wait(milliseconds(5000)), 0);
  }
  ASSERT_EQ(::chmod(key.c_str(), 0644), 0);
  ChildProcess refused({LK_TEST_CAMERA_AGENT, "--camera-id", "c", "--source", "lavfi:testsrc2", "--key-file", key,
                        "--no-scene"},
                       dir.file("refused.log"));
  EXPECT_NE(refused.wait(milliseconds(5000)), 0);
  EXPECT_EQ(refused.read_line(milliseconds(100)), "") << "no key printed";
  std::ifstream in(dir.file("refused.log"));
  const std::string text(std::istreambuf_iterator<char>(in), {});
  EXPECT_NE(text.find("mode 0644"), std::string::npos) << text;
}

TEST(AgentReferenceFile, AMalformedReferenceFileStopsTheStartWithItsReason) {
  TempDir dir;
  const std::string reference = dir.file("reference.pgm");
  std::ofstream(reference) << "not a picture\n";
  ChildProcess agent({LK_TEST_CAMERA_AGENT, "--camera-id", "c", "--source", "lavfi:testsrc2", "--key-file",
                      dir.file("device.key"), "--reference-file", reference, "--broker", "127.0.0.1:1"},
                     dir.file("log"));
  EXPECT_EQ(agent.wait(milliseconds(10000)), 1);
  std::ifstream in(dir.file("log"));
  const std::string text(std::istreambuf_iterator<char>(in), {});
  EXPECT_NE(text.find("reference file " + reference + " is not a latchkey reference view"), std::string::npos) << text;
  EXPECT_NE(text.find("--retake-reference"), std::string::npos) << text;
  std::ifstream again(reference);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(again), {}), "not a picture\n") << "left as it was";
}

TEST(AgentCommandLine, WithoutAReferenceFileOrNoSceneTheAgentDoesNotStart) {
  TempDir dir;
  ChildProcess agent({LK_TEST_CAMERA_AGENT, "--camera-id", "c", "--source", "lavfi:testsrc2", "--key-file",
                      dir.file("k")},
                     dir.file("log"));
  EXPECT_EQ(agent.wait(milliseconds(5000)), 2);
  std::ifstream in(dir.file("log"));
  const std::string text(std::istreambuf_iterator<char>(in), {});
  EXPECT_NE(text.find("--reference-file is required"), std::string::npos) << text;
}

TEST(AgentCommandLine, BadValuesExitWithUsageStatus) {
  TempDir dir;
  ChildProcess bad({LK_TEST_CAMERA_AGENT, "--camera-id", "c", "--source", "x", "--key-file", dir.file("k"),
                    "--period-ms", "5"},
                   dir.file("log"));
  EXPECT_EQ(bad.wait(milliseconds(5000)), 2);
  std::ifstream in(dir.file("log"));
  const std::string text(std::istreambuf_iterator<char>(in), {});
  EXPECT_NE(text.find("--period-ms: 5 is outside 20-1000"), std::string::npos) << text;
}

}  // namespace
}  // namespace latchkey::camera_test
