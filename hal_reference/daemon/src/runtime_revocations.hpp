// The fleet's revocation lists kept in the data directory (docs/fleet.md
// "Revocations"), as the runtime loads them at start and latchkeyd --check
// reports them. Defined in runtime_revocations.cpp.
#ifndef LATCHKEY_HUB_RUNTIME_REVOCATIONS_HPP
#define LATCHKEY_HUB_RUNTIME_REVOCATIONS_HPP

#include <latchkey/hub/daemon_config.hpp>

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace latchkey::hub {

// <data_dir>/revocations
std::filesystem::path revocations_path(const std::filesystem::path& data_dir);

struct KeptRevocationList {
  std::string issuer_key_id;
  uint64_t sequence = 0;
  std::set<std::string> grants;  // hex
  std::string signed_bytes;      // the SignedRevocationList as received
};
struct KeptRevocations {
  std::vector<KeptRevocationList> lists;  // verified against config's [issuer] keys and [fleet] hub_id
  std::vector<std::string> skipped;       // one line per kept list whose issuer is no longer configured
};
// Reads and verifies the kept lists (none when the file does not exist).
// Throws std::runtime_error naming the file when it is not the daemon's own
// regular file with mode at most 0600, cannot be read, or is not a
// StoredRevocationLists, or when a kept list of a configured issuer does not
// verify (bad signature, another hub id, malformed; the text names the list's
// issuer and sequence when they can be read): the start stops rather than
// admit revoked grants.
KeptRevocations read_kept_revocations(const DaemonConfig& config);

}  // namespace latchkey::hub

#endif  // LATCHKEY_HUB_RUNTIME_REVOCATIONS_HPP
