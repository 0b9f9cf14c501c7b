// The hub end never holds a camera's private key (docs/camera-link.md). This
// half checks the interface: the camera table of lk_camera.h has exactly the
// entries below, none of which takes key material from the hub to the
// device or back other than the 32-byte public key of the description. An
// added entry changes the table's size; a changed entry changes its type:
// either fails here, for a person to look at. (check_no_signing.sh checks
// the built plugin's imports.)
#include <latchkey/lk_camera.h>

#include <gtest/gtest.h>

#include <type_traits>

namespace {

using Table = lk_camera_interface_v1;

static_assert(sizeof(Table) == 8 + 7 * sizeof(void*), "an entry was added to the camera interface: review it");
static_assert(std::is_same_v<decltype(Table::open), lk_result (*)(const char*, const lk_event_sink*, lk_camera_device**)>);
static_assert(std::is_same_v<decltype(Table::close), void (*)(lk_camera_device*)>);
static_assert(std::is_same_v<decltype(Table::describe), lk_result (*)(lk_camera_device*, lk_camera_description*)>);
static_assert(std::is_same_v<decltype(Table::deliver_nonce), lk_result (*)(lk_camera_device*, const uint8_t*, size_t)>);
static_assert(std::is_same_v<decltype(Table::start_recording), lk_result (*)(lk_camera_device*, const uint8_t*)>);
static_assert(std::is_same_v<decltype(Table::stop_recording), lk_result (*)(lk_camera_device*)>);
static_assert(std::is_same_v<decltype(Table::snapshot),
                             lk_result (*)(lk_camera_device*, uint8_t*, size_t*, lk_snapshot_info*)>);

// The description carries a public key and nothing that could hold a secret one.
static_assert(sizeof(lk_camera_description) == 112);
static_assert(sizeof(lk_camera_description::public_key) == LK_ED25519_PUBLIC_KEY_SIZE);
static_assert(sizeof(lk_camera_description) == sizeof(uint32_t) * 2 + LK_CAMERA_ID_MAX + LK_ED25519_PUBLIC_KEY_SIZE +
                                                   sizeof(uint32_t) * 2,
              "a field was added to the camera description: review it");

TEST(KeyMaterial, TheCameraInterfaceHasNoEntryForAPrivateKey) {
  // The checks are static; this test names them in the test list.
  SUCCEED();
}

}  // namespace
