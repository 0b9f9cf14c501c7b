// Fuzzes what lk-plugin-host decodes from the hub (hal_reference/isolation/
// proto/latchkey/plugin_host.proto): frames cut by FrameReader, each a
// HubToHost. The host is the plugin's sandbox; a hub bug that sends garbage
// must not make it misbehave (it exits, host_main.cpp). The harness reads
// what host_main.cpp reads of each call.
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
    plugin_host::v1::HubToHost in;
    if (!in.ParseFromString(bytes)) return;  // the host exits here
    switch (in.call_case()) {
      case plugin_host::v1::HubToHost::kPing: touched += in.ping().sequence() & 1; break;
      case plugin_host::v1::HubToHost::kOpen: touched += in.open().uri().size() + in.open().kind(); break;
      case plugin_host::v1::HubToHost::kClose: touched += in.close().device_id() & 1; break;
      case plugin_host::v1::HubToHost::kDevice: {
        const plugin_host::v1::DeviceCall& c = in.device();
        touched += c.data().size() + c.hub_id().size() + c.door_id().size() +
                   plugin_host::v1::DeviceCall::Method_Name(c.method()).size();
        break;
      }
      default: break;
    }
  });
  return touched == SIZE_MAX;
}
