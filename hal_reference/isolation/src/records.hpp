// The C records of ABI v1 a plugin fills (descriptions, snapshot info, grant
// and refusal) and the handles' contract counters, as the typed messages of
// plugin_host.proto. The host writes them (put_*); the hub reads them back
// (take_record, take_violations) and refuses what no honest host sends: a
// record of another kind than the call's, a text that does not fit its C
// array with the terminating NUL or holds a NUL, a key or id of another size
// than its array, a grant whose camera ids do not match its count.
#ifndef LATCHKEY_ISOLATION_RECORDS_HPP
#define LATCHKEY_ISOLATION_RECORDS_HPP

#include <latchkey/host/device_api.hpp>

#include "latchkey/plugin_host.pb.h"

#include <string>

namespace latchkey::isolation {

// Host side. Text fields go up to their first NUL, at most the array's size
// less one (what the hub used to keep of a record copied whole).
void put_record(const lk_lock_description& in, plugin_host::v1::Record* out);
void put_record(const lk_camera_description& in, plugin_host::v1::Record* out);
void put_record(const lk_snapshot_info& in, plugin_host::v1::Record* out);
void put_record(const lk_grant_info& in, plugin_host::v1::Record* out);
void put_record(const lk_authz_refusal& in, plugin_host::v1::Record* out);
void put_violations(const host::ContractViolations& in, plugin_host::v1::ContractViolations* out);

// Hub side. Fills *out (all but its struct_size, which stays the caller's)
// and answers true when the record is of that kind and every field fits;
// otherwise leaves *out as it was and answers false, with *why naming what
// was wrong ("no record" when the host sent none).
bool take_record(const plugin_host::v1::Record& in, lk_lock_description* out, std::string* why);
bool take_record(const plugin_host::v1::Record& in, lk_camera_description* out, std::string* why);
bool take_record(const plugin_host::v1::Record& in, lk_snapshot_info* out, std::string* why);
bool take_record(const plugin_host::v1::Record& in, lk_grant_info* out, std::string* why);
bool take_record(const plugin_host::v1::Record& in, lk_authz_refusal* out, std::string* why);
host::ContractViolations take_violations(const plugin_host::v1::ContractViolations& in);

}  // namespace latchkey::isolation

#endif  // LATCHKEY_ISOLATION_RECORDS_HPP
