/* Latchkey ABI v1 - includes every public C header. */
#ifndef LATCHKEY_LATCHKEY_H
#define LATCHKEY_LATCHKEY_H

#include "lk_base.h"
#include "lk_host.h"
#include "lk_plugin.h"
#include "lk_lock.h"
#include "lk_camera.h"
#include "lk_authz.h"
#include "lk_test_control.h"

#endif /* LATCHKEY_LATCHKEY_H */
