/*
 * Host buffers lent to a plugin for one call (abi.md 3 Ownership: inputs are
 * borrowed; nothing is freed on the other side of the boundary).
 *
 * lk-certify defines free() itself: a free() of a registered buffer, from
 * any code in the process, is counted and ignored instead of handed to the
 * allocator, so a plugin that frees host memory is caught without crashing
 * the suite. Every other pointer goes on to the C library's free().
 */
#ifndef LATCHKEY_CERTIFY_BORROWED_BUFFERS_H
#define LATCHKEY_CERTIFY_BORROWED_BUFFERS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Registers ptr (a malloc'd block); returns 0 when every slot is taken. */
int lk_certify_register_borrowed(const void *ptr);
void lk_certify_unregister_borrowed(const void *ptr);
/* How many free() calls hit a registered buffer since the process started. */
uint64_t lk_certify_borrowed_frees(void);

#ifdef __cplusplus
}
#endif

#endif
