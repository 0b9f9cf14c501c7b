// Fuzzes CommandIntake (camera/agent/src/command_intake.cpp): the
// CameraCommand payloads lk-camera-agent takes from latchkey/camera/<id>/command
// (QoS 1, so the broker may deliver one again) and queues for its capture
// thread, which starts and stops recordings on them. The hub writes them, but
// anyone the broker lets publish there, or a broker replaying old ones,
// chooses the bytes the agent sees.
//
// The harness links its own log_event (below) instead of event_log.cpp: it
// keeps the lines, so the target can check them, and writes nothing.
//
// Input: up to 64 steps, each an operation byte, then for an offer a 2-byte
// big-endian length and the payload. Operation (byte % 4): 0 and 1 offer the
// payload, 2 takes the oldest queued command, 3 forgets the last id (a new
// connection).
// Properties: a command is queued exactly when it is at most 64 bytes, a
// CameraCommand, a stop or a start with a 16-byte session id, and its
// command_id is greater than the last one queued on this connection; the
// same bytes delivered again right after are never queued twice; take()
// returns the queued commands in order, with their fields; between two
// connections' starts, command ids only go up; every ignored payload gives
// exactly one log line saying why, a queued one none.
#include "command_intake.hpp"
#include "event_log.hpp"

#include "support/fuzz_input.hpp"

#include <latchkey/camera_link.pb.h>

#include <google/protobuf/stubs/logging.h>

#include <deque>
#include <vector>

namespace latchkey::camera {

namespace {
std::vector<std::string> g_logged;
}

void set_log_camera_id(const std::string&) {}
void log_event(const std::string& text) {
  if (fuzz::tracing()) std::fprintf(stderr, "  log: %s\n", text.c_str());
  g_logged.push_back(text);
}

}  // namespace latchkey::camera

namespace {

using latchkey::camera::CommandIntake;
using latchkey::camera::RecordingCommand;

constexpr std::size_t kMaxSteps = 64;

// A queued command as the documentation says it should be; connection counts forgets.
struct Queued {
  RecordingCommand command;
  uint64_t connection = 0;
};

std::optional<RecordingCommand> expected_command(const std::string& payload) {
  if (payload.size() > CommandIntake::kMaxCommandSize) return std::nullopt;
  latchkey::v1::CameraCommand c;
  if (!c.ParseFromString(payload)) return std::nullopt;
  RecordingCommand out;
  out.command_id = c.command_id();
  if (c.has_start_recording()) {
    const std::string& session = c.start_recording().session_id();
    if (session.size() != out.session_id.size()) return std::nullopt;
    std::copy(session.begin(), session.end(), out.session_id.begin());
    out.start = true;
  } else if (!c.has_stop_recording()) {
    return std::nullopt;
  }
  return out;
}

bool same(const RecordingCommand& a, const RecordingCommand& b) {
  return a.command_id == b.command_id && a.start == b.start && a.session_id == b.session_id;
}

bool offer(CommandIntake& intake, const std::string& payload) {
  // libmosquitto hands an empty payload over as NULL.
  const auto* bytes = payload.empty() ? nullptr : reinterpret_cast<const uint8_t*>(payload.data());
  latchkey::camera::g_logged.clear();
  return intake.offer(bytes, payload.size());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  latchkey::fuzz::InputCursor in(data, size);
  CommandIntake intake;
  std::deque<Queued> queue;         // what should be queued
  std::optional<uint64_t> last_id;  // the last id queued on this connection
  uint64_t connection = 0;
  std::optional<Queued> last_taken;

  for (std::size_t step = 0; step < kMaxSteps && !in.empty(); ++step) {
    const uint8_t op = in.byte() % 4;
    if (op <= 1) {
      const std::string payload = in.counted();
      std::optional<RecordingCommand> e = expected_command(payload);
      if (e && last_id && e->command_id <= *last_id) e.reset();  // a redelivery, or older
      const bool queued = offer(intake, payload);
      if (latchkey::fuzz::tracing())
        std::fprintf(stderr, "offer %zu bytes: %s\n", payload.size(), queued ? "queued" : "ignored");
      LK_FUZZ_CHECK(queued == e.has_value(), "queued or ignored against the documented rule");
      const std::vector<std::string>& logged = latchkey::camera::g_logged;
      if (queued) {
        LK_FUZZ_CHECK(logged.empty(), "a queued command was logged as a problem");
        queue.push_back({*e, connection});
        last_id = e->command_id;
        LK_FUZZ_CHECK(!offer(intake, payload), "the same command delivered again was queued twice");
        LK_FUZZ_CHECK(logged.size() == 1 && logged[0].find("redelivery") != std::string::npos,
                      "a redelivery ignored without its log line");
      } else {
        LK_FUZZ_CHECK(logged.size() == 1, "an ignored command without exactly one line saying why");
        LK_FUZZ_CHECK(logged[0].rfind("ignored ", 0) == 0 && logged[0].size() > 20,
                      "a log line that does not say what was ignored");
      }
    } else if (op == 2) {
      const std::optional<RecordingCommand> got = intake.take();
      LK_FUZZ_CHECK(got.has_value() == !queue.empty(), "take() disagrees with what was queued");
      if (!got) continue;
      const Queued want = queue.front();
      queue.pop_front();
      LK_FUZZ_CHECK(same(*got, want.command), "take() returned another command than the oldest queued");
      if (last_taken && last_taken->connection == want.connection)
        LK_FUZZ_CHECK(got->command_id > last_taken->command.command_id,
                      "a command id went backwards within one connection");
      last_taken = want;
    } else {
      intake.forget_last_id();
      last_id.reset();
      ++connection;
    }
  }
  return 0;
}
