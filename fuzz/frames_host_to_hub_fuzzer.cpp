// Fuzzes what the hub decodes from an lk-plugin-host (hal_reference/
// isolation/proto/latchkey/plugin_host.proto): frames cut by FrameReader,
// each a HostToHub. The host runs vendor code, so the hub trusts none of it
// (docs/isolation.md, F1).
// The harness reads every field the supervisor reads (supervisor.cpp
// on_message).
#include "latchkey/plugin_host.pb.h"
#include "support/frame_stream.hpp"

#include <google/protobuf/stubs/logging.h>

using namespace latchkey;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::size_t touched = 0;
  fuzz::run_frame_stream(data, size, [&](const std::string& bytes) {
    v1::HostToHub m;
    if (!m.ParseFromString(bytes)) return;  // the supervisor fails the host here
    switch (m.message_case()) {
      case v1::HostToHub::kReady: touched += m.ready().driver_id().size() + m.ready().load_error().size(); break;
      case v1::HostToHub::kReply: touched += m.reply().record().size() + m.reply().data().size() +
                                             static_cast<std::size_t>(m.reply().violations_size());
        break;
      case v1::HostToHub::kEvent: touched += m.event().data().size() + m.event().kind(); break;
      case v1::HostToHub::kCompletion: touched += m.completion().operation_id() & 1; break;
      case v1::HostToHub::kLog: touched += m.log().message().size(); break;
      default: break;
    }
  });
  return touched == SIZE_MAX;  // keeps the reads from being optimised away
}
