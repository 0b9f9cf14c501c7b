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

// One get_interface(name, major) question and the plugin's answer.
struct LookupAnswer {
  std::string name;
  uint32_t major = 0;
  int32_t result = 0;        // lk_result
  bool table_set = false;    // *table was non-NULL afterwards
};

struct NegotiationProbe {
  bool ran = false;          // false: the child could not load the file or crashed
  std::string error;
  std::vector<NegotiationAnswer> answers;  // in the order of negotiation_requests()
  // get_interface after negotiating host range 1.0-1.0, in a child of its own:
  // each known interface name with its major, major 0 and major + 1, then
  // names no plugin offers (lookup_unknown_names()).
  bool lookups_ran = false;
  std::string lookup_error;
  std::vector<LookupAnswer> lookups;
};

// Names that are no interface of the ABI (close to real ones), for get_interface.
const std::vector<std::string>& lookup_unknown_names();
// The interfaces of this ABI by name and major, as the lookup questions ask them.
struct KnownInterface {
  const char* name;
  uint32_t major;
};
const std::vector<KnownInterface>& known_interfaces();

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

// Negotiation over every request, then the get_interface lookups.
NegotiationProbe probe_negotiation(const std::filesystem::path& file);
void probe_lookups(const std::filesystem::path& file, NegotiationProbe* probe);

}  // namespace latchkey::certify

#endif  // LATCHKEY_CERTIFY_PLUGIN_PROBE_HPP
