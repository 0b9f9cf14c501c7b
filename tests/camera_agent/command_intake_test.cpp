// Recording commands: parsed, malformed ones and redeliveries ignored.
#include "command_intake.hpp"

#include <latchkey/camera_link.pb.h>

#include <gtest/gtest.h>

namespace latchkey::camera {
namespace {

std::string start(uint64_t id, const std::string& session = std::string(16, 's')) {
  latchkey::v1::CameraCommand c;
  c.set_command_id(id);
  c.mutable_start_recording()->set_session_id(session);
  return c.SerializeAsString();
}

std::string stop(uint64_t id) {
  latchkey::v1::CameraCommand c;
  c.set_command_id(id);
  c.mutable_stop_recording();
  return c.SerializeAsString();
}

bool offer(CommandIntake& intake, const std::string& bytes) {
  return intake.offer(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

TEST(CommandIntake, StartAndStopAreQueuedInOrder) {
  CommandIntake intake;
  EXPECT_TRUE(offer(intake, start(1)));
  EXPECT_TRUE(offer(intake, stop(2)));
  auto a = intake.take();
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->start);
  EXPECT_EQ(a->session_id[0], 's');
  auto b = intake.take();
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->start);
  EXPECT_EQ(b->command_id, 2u);
  EXPECT_FALSE(intake.take());
}

TEST(CommandIntake, DuplicatesAndOlderIdsAreIgnored) {
  CommandIntake intake;
  EXPECT_TRUE(offer(intake, start(5)));
  EXPECT_FALSE(offer(intake, start(5))) << "a redelivery";
  EXPECT_FALSE(offer(intake, stop(4))) << "older";
  EXPECT_TRUE(offer(intake, stop(6)));
  intake.forget_last_id();  // a new connection
  EXPECT_TRUE(offer(intake, start(1)));
}

TEST(CommandIntake, MalformedCommandsAreIgnored) {
  CommandIntake intake;
  EXPECT_FALSE(offer(intake, start(1, std::string(15, 's')))) << "a session id of 15 bytes";
  EXPECT_FALSE(offer(intake, start(1, std::string(17, 's'))));
  EXPECT_FALSE(offer(intake, std::string("\xff\xff\xff", 3))) << "not protobuf";
  latchkey::v1::CameraCommand empty;
  empty.set_command_id(3);
  EXPECT_FALSE(offer(intake, empty.SerializeAsString())) << "no command in it";
  EXPECT_FALSE(offer(intake, std::string(65, '\0'))) << "over 64 bytes";
  EXPECT_FALSE(intake.take());
  EXPECT_TRUE(offer(intake, start(1))) << "an ignored command does not use up its id";
}

}  // namespace
}  // namespace latchkey::camera
