/*
 * A plugin that leaks a symbol: built without latchkey_add_plugin (default
 * visibility, no version script), so its helper is exported next to the
 * entry point. check_plugin_exports.sh must report "extra-export".
 */
#include <latchkey/latchkey.h>

int lk_stray_helper(int value);
int lk_stray_helper(int value) { return value + 1; }

LK_EXPORT lk_result lk_plugin_negotiate(const lk_negotiate_request *request, const lk_plugin_info **info) {
  (void)request;
  if (info != NULL) *info = NULL;
  return lk_stray_helper(LK_ERR_VERSION - 1);
}
