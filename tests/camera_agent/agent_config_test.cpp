// Configuration: flags, the --config file, and every bad value refused with
// a message that names the option.
#include "agent_config.hpp"
#include "camera_agent_test_support.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace latchkey::camera {
namespace {

using Args = std::vector<std::string>;

Args base() {
  return {"--camera-id", "front-door", "--source", "lavfi:testsrc2", "--key-file", "/tmp/k", "--reference-file",
          "/tmp/reference.pgm"};
}

Args with(Args args, std::initializer_list<std::string> more) {
  args.insert(args.end(), more);
  return args;
}

// The refusal message, or "" when the arguments were accepted.
std::string refusal(const Args& args) {
  const ParseOutcome o = parse_command_line(args);
  return o.kind == ParseOutcome::Kind::kError ? o.error : "";
}

TEST(AgentConfig, DefaultsAndRequiredOptions) {
  const ParseOutcome o = parse_command_line(base());
  ASSERT_EQ(o.kind, ParseOutcome::Kind::kRun) << o.error;
  EXPECT_EQ(o.config.camera_id, "front-door");
  EXPECT_EQ(o.config.broker_host, "localhost");
  EXPECT_EQ(o.config.broker_port, 1883);
  EXPECT_EQ(o.config.period_ms, 100u);
  EXPECT_FALSE(o.config.loop);
  EXPECT_EQ(o.config.freeze_after, 0u);
  EXPECT_EQ(o.config.reference_file, "/tmp/reference.pgm");
  EXPECT_FALSE(o.config.retake_reference);
  EXPECT_FALSE(o.config.no_scene);
  EXPECT_NE(refusal({"--source", "x", "--key-file", "k"}).find("--camera-id"), std::string::npos);
  EXPECT_NE(refusal({"--camera-id", "c", "--key-file", "k"}).find("--source"), std::string::npos);
  EXPECT_NE(refusal({"--camera-id", "c", "--source", "x"}).find("--key-file"), std::string::npos);
}

TEST(AgentConfig, C8_CamerasMeasureUnlessToldNotTo) {
  const Args bare = {"--camera-id", "c", "--source", "x", "--key-file", "k"};
  EXPECT_NE(refusal(bare).find("--reference-file is required"), std::string::npos) << refusal(bare);
  EXPECT_NE(refusal(bare).find("--no-scene"), std::string::npos) << "the refusal names the way out";
  const ParseOutcome none = parse_command_line(with(bare, {"--no-scene"}));
  ASSERT_EQ(none.kind, ParseOutcome::Kind::kRun) << none.error;
  EXPECT_TRUE(none.config.no_scene);
  EXPECT_TRUE(none.config.reference_file.empty());
  const ParseOutcome retake = parse_command_line(with(base(), {"--retake-reference"}));
  ASSERT_EQ(retake.kind, ParseOutcome::Kind::kRun) << retake.error;
  EXPECT_TRUE(retake.config.retake_reference);
  EXPECT_NE(refusal(with(base(), {"--no-scene"})).find("--no-scene"), std::string::npos);
  EXPECT_NE(refusal(with(bare, {"--no-scene", "--retake-reference"})).find("--retake-reference"), std::string::npos);
  EXPECT_NE(refusal(with(base(), {"--no-scene=maybe"})).find("--no-scene"), std::string::npos);
  EXPECT_NE(refusal(with(bare, {"--reference-file", ""})).find("--reference-file"), std::string::npos);
  EXPECT_EQ(refusal(with(base(), {"--no-scene=false"})), "");
  // --print-key needs neither.
  EXPECT_EQ(refusal({"--key-file", "k", "--print-key"}), "");
}

TEST(AgentConfig, C8_RetakeReferenceIsForTheCommandLineOnly) {
  camera_test::TempDir dir;
  const std::string path = dir.file("agent.conf");
  std::ofstream(path) << "camera-id = porch\nsource = /dev/video0\nkey-file = /k\nreference-file = /r.pgm\n"
                         "retake-reference = true\n";
  EXPECT_NE(refusal({"--config", path}).find(path + ":5: 'retake-reference' is a command-line flag only"),
            std::string::npos)
      << refusal({"--config", path});
  std::ofstream(path) << "camera-id = porch\nsource = /dev/video0\nkey-file = /k\nno-scene = yes\n";
  const ParseOutcome o = parse_command_line({"--config", path});
  ASSERT_EQ(o.kind, ParseOutcome::Kind::kRun) << o.error;
  EXPECT_TRUE(o.config.no_scene);
}

TEST(AgentConfig, EveryOptionIsRead) {
  const ParseOutcome o = parse_command_line(
      with(base(), {"--broker", "hub.local:1884", "--password-file", "/etc/pw", "--tls-ca-file", "/etc/ca.pem",
                    "--record-dir", "/var/rec", "--period-ms=250", "--loop", "--freeze-after", "30",
                    "--input-option", "video_size=640x480", "--input-option=framerate=15"}));
  ASSERT_EQ(o.kind, ParseOutcome::Kind::kRun) << o.error;
  EXPECT_EQ(o.config.broker_host, "hub.local");
  EXPECT_EQ(o.config.broker_port, 1884);
  EXPECT_EQ(o.config.password_file, "/etc/pw");
  EXPECT_EQ(o.config.tls_ca_file, "/etc/ca.pem");
  EXPECT_EQ(o.config.record_dir, "/var/rec");
  EXPECT_EQ(o.config.period_ms, 250u);
  EXPECT_TRUE(o.config.loop);
  EXPECT_EQ(o.config.freeze_after, 30u);
  ASSERT_EQ(o.config.input_options.size(), 2u);
  EXPECT_EQ(o.config.input_options[1], std::make_pair(std::string("framerate"), std::string("15")));
}

TEST(AgentConfig, BrokerForms) {
  auto broker = [](const std::string& value) { return parse_command_line(with(base(), {"--broker", value})); };
  EXPECT_EQ(broker("10.0.0.2").config.broker_port, 1883);
  EXPECT_EQ(broker("[::1]:8883").config.broker_host, "::1");
  EXPECT_EQ(broker("[::1]:8883").config.broker_port, 8883);
  const ParseOutcome tls = parse_command_line(with(base(), {"--broker", "hub", "--tls-ca-file", "/ca"}));
  EXPECT_EQ(tls.config.broker_port, 8883) << "TLS without a port defaults to 8883";
  EXPECT_TRUE(tls.config.tls);
  const ParseOutcome mqtts = parse_command_line(with(base(), {"--broker", "mqtts://hub.local"}));
  EXPECT_TRUE(mqtts.config.tls);
  EXPECT_EQ(mqtts.config.broker_host, "hub.local");
  EXPECT_EQ(mqtts.config.broker_port, 8883);
  const ParseOutcome mqtt = parse_command_line(with(base(), {"--broker", "mqtt://hub.local:1884/"}));
  EXPECT_FALSE(mqtt.config.tls);
  EXPECT_EQ(mqtt.config.broker_port, 1884);
  EXPECT_FALSE(parse_command_line(base()).config.tls);
  EXPECT_NE(refusal(with(base(), {"--broker", "mqtt://hub", "--tls-ca-file", "/ca"})).find("--tls-ca-file"),
            std::string::npos);
  for (const char* bad : {"hub:", "hub:0", "hub:65536", "hub:http", ":1883", "::1:1883", "[::1", "[::1]x",
                          "ws://hub:80", "mqtts://"}) {
    const std::string error = refusal(with(base(), {"--broker", bad}));
    EXPECT_NE(error.find("--broker"), std::string::npos) << bad << " -> '" << error << "'";
  }
}

TEST(AgentConfig, BadValuesAreRefusedNamingTheOption) {
  const std::vector<std::pair<Args, std::string>> cases = {
      {with(base(), {"--period-ms", "19"}), "--period-ms: 19 is outside 20-1000"},
      {with(base(), {"--period-ms", "1001"}), "--period-ms: 1001 is outside 20-1000"},
      {with(base(), {"--period-ms", "fast"}), "--period-ms"},
      {with(base(), {"--period-ms", "-5"}), "--period-ms"},
      {with(base(), {"--period-ms", "100ms"}), "--period-ms"},
      {with(base(), {"--freeze-after", "-1"}), "--freeze-after"},
      {with(base(), {"--freeze-after", "many"}), "--freeze-after"},
      {with(base(), {"--loop=perhaps"}), "--loop"},
      {with(base(), {"--camera-id", "a/b"}), "--camera-id"},
      {with(base(), {"--camera-id", "a+b"}), "--camera-id"},
      {with(base(), {"--camera-id", "a#"}), "--camera-id"},
      {with(base(), {"--camera-id", "front door"}), "--camera-id"},
      {with(base(), {"--camera-id", "cam@1"}), "--camera-id"},
      {with(base(), {"--camera-id", "caméra"}), "--camera-id"},
      {with(base(), {"--camera-id", std::string(64, 'c')}), "--camera-id"},
      {with(base(), {"--input-option", "=x"}), "--input-option"},
      {with(base(), {"--input-option", "novalue"}), "--input-option"},
      {with(base(), {"--source", ""}), "--source"},
      {with(base(), {"--speed", "2"}), "unknown option '--speed'"},
      {with(base(), {"stray"}), "unexpected argument 'stray'"},
      {with(base(), {"--period-ms"}), "--period-ms needs a value"},
  };
  for (const auto& [args, expected] : cases) {
    const std::string error = refusal(args);
    EXPECT_NE(error.find(expected), std::string::npos) << "expected '" << expected << "' in '" << error << "'";
  }
  EXPECT_EQ(refusal(with(base(), {"--period-ms", "20"})), "");
  EXPECT_EQ(refusal(with(base(), {"--period-ms", "1000"})), "");
  EXPECT_EQ(refusal(with(base(), {"--camera-id", std::string(63, 'c')})), "");
  EXPECT_EQ(refusal(with(base(), {"--camera-id", "Porch_2.north-east"})), "");
}

TEST(AgentConfig, LoopOnlyForFilesAndLavfi) {
  EXPECT_NE(refusal({"--camera-id", "c", "--key-file", "k", "--no-scene", "--source", "rtsp://cam/stream", "--loop"})
                .find("--loop"),
            std::string::npos);
  EXPECT_NE(refusal({"--camera-id", "c", "--key-file", "k", "--no-scene", "--source", "/dev/video0", "--loop"})
                .find("--loop"),
            std::string::npos);
  EXPECT_EQ(refusal({"--camera-id", "c", "--key-file", "k", "--no-scene", "--source", "clip.mkv", "--loop"}), "");
}

TEST(AgentConfig, PrintKeyNeedsOnlyTheKeyFile) {
  const ParseOutcome o = parse_command_line({"--key-file", "/tmp/k", "--print-key"});
  ASSERT_EQ(o.kind, ParseOutcome::Kind::kRun) << o.error;
  EXPECT_TRUE(o.config.print_key);
}

TEST(AgentConfig, HelpListsEveryOptionAndTheTestAids) {
  EXPECT_EQ(parse_command_line({"--help"}).kind, ParseOutcome::Kind::kHelp);
  const std::string help = help_text();
  for (const char* name : {"--camera-id", "--source", "--broker", "--password-file", "--tls-ca-file", "--key-file",
                           "--record-dir", "--period-ms", "--loop", "--freeze-after", "--print-key", "--config",
                           "--input-option", "--reference-file", "--retake-reference", "--no-scene"})
    EXPECT_NE(help.find(name), std::string::npos) << name;
  EXPECT_NE(help.find("TEST AID"), std::string::npos);
}

TEST(AgentConfig, ConfigFileWithCommandLineOverrides) {
  camera_test::TempDir dir;
  const std::string path = dir.file("agent.conf");
  std::ofstream(path) << "# the porch camera\n"
                         "camera-id = porch\n"
                         "source = /dev/video0\n"
                         "key-file = /var/lib/lk/device.key\n"
                         "reference-file = /var/lib/lk/reference.pgm\n"
                         "; a comment\n"
                         "\n"
                         "broker = hub.lan:8883\n"
                         "tls-ca-file = /etc/lk/ca.pem\n"
                         "period-ms = 200\n"
                         "input-option = input_format=mjpeg\n";
  const ParseOutcome o = parse_command_line({"--config", path, "--period-ms", "50"});
  ASSERT_EQ(o.kind, ParseOutcome::Kind::kRun) << o.error;
  EXPECT_EQ(o.config.camera_id, "porch");
  EXPECT_EQ(o.config.source, "/dev/video0");
  EXPECT_EQ(o.config.broker_port, 8883);
  EXPECT_EQ(o.config.tls_ca_file, "/etc/lk/ca.pem");
  EXPECT_EQ(o.config.period_ms, 50u) << "the command line overrides the file";
  EXPECT_EQ(o.config.reference_file, "/var/lib/lk/reference.pgm");
  ASSERT_EQ(o.config.input_options.size(), 1u);
}

TEST(AgentConfig, ConfigFileErrorsNameFileLineAndKey) {
  camera_test::TempDir dir;
  const std::string path = dir.file("bad.conf");
  std::ofstream(path) << "camera-id = porch\nperiod-ms = 5000\n";
  EXPECT_NE(refusal({"--config", path}).find(path + ":2: period-ms: 5000 is outside 20-1000"), std::string::npos)
      << refusal({"--config", path});
  std::ofstream(path) << "camera-id = porch\nspeed = 3\n";
  EXPECT_NE(refusal({"--config", path}).find(path + ":2: unknown key 'speed'"), std::string::npos);
  std::ofstream(path) << "camera-id porch\n";
  EXPECT_NE(refusal({"--config", path}).find(path + ":1"), std::string::npos);
  std::ofstream(path) << "print-key = true\n";
  EXPECT_NE(refusal({"--config", path}).find("command-line flag"), std::string::npos);
  EXPECT_NE(refusal({"--config", dir.file("missing.conf")}).find("--config: cannot read"), std::string::npos);
}

}  // namespace
}  // namespace latchkey::camera
