#include "suite.hpp"

#include <algorithm>

namespace latchkey::certify {

const std::vector<CaseDef>& all_cases() {
  static const std::vector<CaseDef> cases = [] {
    std::vector<CaseDef> c;
    add_abi_cases(c);
    add_lock_cases(c);
    add_camera_cases(c);
    add_agent_cases(c);
    add_authz_cases(c);
    add_gate_cases(c);
    return c;
  }();
  return cases;
}

}  // namespace latchkey::certify
