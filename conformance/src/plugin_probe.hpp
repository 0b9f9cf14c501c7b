// Looks at a plugin file without trusting it: the dynamic symbols it exports
// (read from the ELF file) and its answers to negotiation over several host
// ranges (in a child process, so a plugin that crashes or negotiates twice
// cannot disturb the suite's own load of it).
#ifndef LATCHKEY_CERTIFY_PLUGIN_PROBE_HPP
#define LATCHKEY_CERTIFY_PLUGIN_PROBE_HPP

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::certify {

struct ExportedSymbol {
  std::string name;
  bool unique = false;  // STB_GNU_UNIQUE
};

// Defined dynamic symbols with default visibility; nullopt and why when the file is not a 64-bit ELF.
std::optional<std::vector<ExportedSymbol>> exported_symbols(const std::filesystem::path& file, std::string* error);

struct NegotiationAnswer {
  std::string request;       // what the host offered, for people
  int32_t result = 0;        // lk_result
  bool info_set = false;     // *info was non-NULL
  uint32_t abi_version = 0;  // info->abi_version when set
};

struct NegotiationProbe {
  bool ran = false;          // false: the child could not load the file or crashed
  std::string error;
  std::vector<NegotiationAnswer> answers;  // in the order of negotiation_requests()
};

// The host ranges probed, in order: {min, max} or a NULL/short request.
struct ProbeRequest {
  std::string label;
  uint32_t min_version = 0;
  uint32_t max_version = 0;
  bool null_request = false;
  bool short_request = false;
  bool expect_refusal = false;   // no overlap (LK_ERR_VERSION) or bad request (LK_ERR_INVALID_ARGUMENT)
};
const std::vector<ProbeRequest>& negotiation_requests();

NegotiationProbe probe_negotiation(const std::filesystem::path& file);

}  // namespace latchkey::certify

#endif  // LATCHKEY_CERTIFY_PLUGIN_PROBE_HPP
