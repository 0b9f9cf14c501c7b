#define _GNU_SOURCE
#include "borrowed_buffers.h"

#include <dlfcn.h>
#include <stddef.h>

#define LK_CERTIFY_SLOTS 64

typedef void (*lk_certify_free_fn)(void *);

static const void *lk_certify_slots[LK_CERTIFY_SLOTS];
static int lk_certify_registered;
static uint64_t lk_certify_caught;
static lk_certify_free_fn lk_certify_real_free;
static __thread int lk_certify_resolving;

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
  lk_certify_free_fn real;
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
  real = __atomic_load_n(&lk_certify_real_free, __ATOMIC_ACQUIRE);
  if (real == NULL) {
    void *symbol;
    if (lk_certify_resolving) return; /* a free() from inside dlsym(): leak it rather than recurse */
    lk_certify_resolving = 1;
    symbol = dlsym(RTLD_NEXT, "free");
    lk_certify_resolving = 0;
    /* ISO C forbids converting an object pointer to a function pointer; copy the bits. */
    __builtin_memcpy(&real, &symbol, sizeof real);
    __atomic_store_n(&lk_certify_real_free, real, __ATOMIC_RELEASE);
  }
  real(ptr);
}
