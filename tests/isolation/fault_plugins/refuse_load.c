/* lk_fault_refuse: a plugin that explains, through the host's log, why it
 * will not load, then refuses: one line at each level, and LK_ERR_VERSION
 * from lk_plugin_negotiate. The isolation tests check which of those lines
 * reach the hub at its log level, once and at the level given. */
#include <latchkey/lk_plugin.h>

#include <stddef.h>

LK_EXPORT lk_result lk_plugin_negotiate(const lk_negotiate_request *request, const lk_plugin_info **info) {
  if (request == NULL || info == NULL || request->struct_size < sizeof *request) return LK_ERR_INVALID_ARGUMENT;
  const lk_host_services *host = request->host;
  if (host != NULL && host->log != NULL) {
    host->log(host->context, LK_LOG_DEBUG, "refuse-load debug: probing the host");
    host->log(host->context, LK_LOG_INFO, "refuse-load info: negotiating");
    host->log(host->context, LK_LOG_WARNING, "refuse-load warning: no ABI version in common");
    host->log(host->context, LK_LOG_ERROR, "refuse-load error: this plugin never loads");
  }
  return LK_ERR_VERSION;
}
