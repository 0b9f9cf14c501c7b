// Fuzzes the configuration parsers: DaemonConfig::parse (hal_reference/
// daemon/src/daemon_config.cpp), the latchkeyd file an installer or an
// administrator writes, and GateConfig::parse (hal_reference/gate/src/
// config.cpp). Both must refuse bad text with DaemonConfigError or
// ConfigError naming what was wrong; any other exception, or a crash, is a
// finding.
//
// Input: the configuration text.
// Properties: a refusal has a message; an accepted configuration passes its
// own cross-checks (doors name known locks and cameras, devices known
// plugins) and its gate parameters are within their bounds.
#include <latchkey/gate/config.hpp>
#include <latchkey/hub/daemon_config.hpp>

#include "support/fixed_world.hpp"

using namespace latchkey;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const hub::DaemonConfig c = hub::DaemonConfig::parse(text, "/etc/latchkey");
    if (fuzz::tracing()) std::fprintf(stderr, "daemon_config: accepted, %zu door(s)\n", c.doors.size());
    LK_FUZZ_CHECK(!c.hub_id.empty() && !c.doors.empty(), "accepted without a hub id or a door");
    for (const auto& [name, door] : c.doors) {
      LK_FUZZ_CHECK(c.locks.count(door.lock) == 1, "a door names an unknown lock");
      LK_FUZZ_CHECK(!door.cameras.empty(), "a door binds no camera");
      for (const std::string& camera : door.cameras) LK_FUZZ_CHECK(c.cameras.count(camera) == 1, "a door names an unknown camera");
    }
    for (const auto& [name, lock] : c.locks) LK_FUZZ_CHECK(c.plugins.count(lock.plugin) == 1, "a lock names an unknown plugin");
    for (const auto& [name, camera] : c.cameras)
      LK_FUZZ_CHECK(c.plugins.count(camera.plugin) == 1, "a camera names an unknown plugin");
    c.gate.validate();  // throws ConfigError, uncaught: a finding
    LK_FUZZ_CHECK(c.data_dir.is_absolute(), "data_dir not made absolute");
  } catch (const hub::DaemonConfigError& e) {
    if (fuzz::tracing()) std::fprintf(stderr, "daemon_config: refused: %s\n", e.what());
    LK_FUZZ_CHECK(e.what()[0] != '\0', "a refusal without a message");
  }
  try {
    const gate::GateConfig g = gate::GateConfig::parse(text);
    g.validate();
  } catch (const gate::ConfigError& e) {
    LK_FUZZ_CHECK(e.what()[0] != '\0', "a refusal without a message");
  }
  return 0;
}
