// The reference authorization provider: checks signed grants (docs/rules.md G1)
// against pinned issuer keys and a revocation list. Its verdict is necessary,
// never sufficient: the hub re-checks G1-G3 itself (F3).
#ifndef LATCHKEY_SIM_REF_AUTHZ_HPP
#define LATCHKEY_SIM_REF_AUTHZ_HPP

#include <latchkey/cpp/plugin.hpp>
#include <latchkey/crypto/crypto.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

namespace latchkey::sim {

class RefAuthz final : public plugin::AuthzProvider {
 public:
  static constexpr int64_t kDefaultSkewMs = 60'000;  // G1
  static constexpr int64_t kMaxSkewMs = 300'000;     // G1 bound

  struct Config {
    std::map<std::string, crypto::PublicKey> issuers;  // pinned keys by key id
    int64_t skew_ms = kDefaultSkewMs;
    std::set<std::array<uint8_t, LK_GRANT_ID_SIZE>> revoked;
  };

  // Parses the configuration text; throws plugin::Error(LK_ERR_INVALID_ARGUMENT)
  // naming the line number and the problem.
  static Config parse_config(std::string_view text);
  static std::unique_ptr<RefAuthz> open(std::string_view config);

  explicit RefAuthz(Config config) : config_(std::move(config)) {}

  bool verify(const lk_authz_context& context, const uint8_t* credential, std::size_t size, lk_grant_info& grant,
              lk_authz_refusal& refusal) override;

 private:
  const Config config_;
};

}  // namespace latchkey::sim

#endif  // LATCHKEY_SIM_REF_AUTHZ_HPP
