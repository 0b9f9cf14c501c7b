// A plugin with a static local in an inline function and an inline static
// template member: GCC gives both STB_GNU_UNIQUE binding. Built raw (default
// visibility, no version script, no -fno-gnu-unique) check_plugin_exports.sh
// must report "unique"; built with latchkey_add_plugin the same code passes.
#include <latchkey/latchkey.h>

inline int& lk_fixture_counter() {
  static int count = 0;
  return count;
}

template <class T>
struct LkFixtureRegistry {
  static inline int entries = 0;
};

extern "C" LK_EXPORT lk_result lk_plugin_negotiate(const lk_negotiate_request* request,
                                                   const lk_plugin_info** info) {
  (void)request;
  if (info != nullptr) *info = nullptr;
  ++LkFixtureRegistry<int>::entries;
  ++lk_fixture_counter();
  return LK_ERR_VERSION;
}
