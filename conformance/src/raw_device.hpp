// Raw access to a plugin's tables, for the cases that must pass what the
// host handles never pass (NULL pointers, short structs, registered host
// buffers). Events from a raw device are dropped (lent data released at
// once); completions are counted per operation id.
#ifndef LATCHKEY_CERTIFY_RAW_DEVICE_HPP
#define LATCHKEY_CERTIFY_RAW_DEVICE_HPP

#include <latchkey/latchkey.h>

#include <chrono>
#include <cstdint>

namespace latchkey::certify {

// A sink whose on_event drops every event (releasing lent data).
const lk_event_sink& dropping_sink();

// A completion function that counts calls in a process-wide table by operation id.
void counting_completion(void* context, const lk_lock_completion* completion);
uint64_t completions_seen(uint64_t operation_id);
// Waits until operation_id completed at least once; false on timeout.
bool wait_completion(uint64_t operation_id, std::chrono::milliseconds timeout);
// Operation ids unique in the process, for raw calls.
uint64_t next_raw_operation_id();

}  // namespace latchkey::certify

#endif  // LATCHKEY_CERTIFY_RAW_DEVICE_HPP
