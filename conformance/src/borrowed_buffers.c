#include "borrowed_buffers.h"

#include <stddef.h>

#define LK_CERTIFY_SLOTS 256

static const void *lk_certify_slots[LK_CERTIFY_SLOTS];
static int lk_certify_registered;
static uint64_t lk_certify_caught;

/* Where a free() that is not caught goes: AddressSanitizer's free when the
 * sanitizer runtime is loaded (it owns every allocation then), otherwise the
 * C library's. No dlsym(): it frees memory itself, which would recurse. */
extern void __interceptor_free(void *ptr) __attribute__((weak));
extern void __libc_free(void *ptr);

int lk_certify_register_borrowed(const void *ptr) {
  int i;
  for (i = 0; i < LK_CERTIFY_SLOTS; ++i) {
    const void *expected = NULL;
    if (__atomic_compare_exchange_n(&lk_certify_slots[i], &expected, ptr, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
      __atomic_add_fetch(&lk_certify_registered, 1, __ATOMIC_SEQ_CST);
      return 1;
    }
  }
  return 0;
}

void lk_certify_unregister_borrowed(const void *ptr) {
  int i;
  for (i = 0; i < LK_CERTIFY_SLOTS; ++i) {
    const void *expected = ptr;
    if (__atomic_compare_exchange_n(&lk_certify_slots[i], &expected, NULL, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
      __atomic_sub_fetch(&lk_certify_registered, 1, __ATOMIC_SEQ_CST);
      return;
    }
  }
}

uint64_t lk_certify_borrowed_frees(void) { return __atomic_load_n(&lk_certify_caught, __ATOMIC_SEQ_CST); }

/* Interposes the C library's free() for the whole process (the executable's
 * definition comes first in symbol lookup; see conformance/CMakeLists.txt). */
void free(void *ptr) {
  if (ptr == NULL) return;
  if (__atomic_load_n(&lk_certify_registered, __ATOMIC_ACQUIRE) > 0) {
    int i;
    for (i = 0; i < LK_CERTIFY_SLOTS; ++i) {
      if (__atomic_load_n(&lk_certify_slots[i], __ATOMIC_ACQUIRE) == ptr) {
        __atomic_add_fetch(&lk_certify_caught, 1, __ATOMIC_SEQ_CST);
        return;
      }
    }
  }
  if (__interceptor_free != NULL) {
    __interceptor_free(ptr);
    return;
  }
  __libc_free(ptr);
}
