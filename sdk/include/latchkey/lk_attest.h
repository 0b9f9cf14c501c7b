/*
 * latchkey_attest - the camera-side attestation library (docs/rules.md C1).
 * The library's whole C interface in one header (hence the length).
 *
 * What a camera's own firmware links to prove it is live: it holds the
 * camera's Ed25519 device key (in a file only the agent can read), a boot id,
 * a strictly increasing counter, the newest hub nonce and the recording state,
 * and signs them with each frame's digest and scene measurements (C8) into
 * the exact SignedAttestation bytes of sdk/proto/latchkey/attestation.proto
 * that the hub verifies. It also computes those measurements from a grey
 * frame and keeps the reference view they compare with.
 *
 * Plain C99, libsodium its only dependency. Not part of the plugin ABI (the
 * hub never loads it); link it with find_package(Latchkey COMPONENTS attest)
 * and Latchkey::attest, or pkg-config latchkey-attest. See
 * docs/camera-agent.md, "The attestation library".
 *
 * Conventions, for every function below:
 * - Fallible functions return an lk_attest_result: LK_ATTEST_OK (0) or one of
 *   the negative LK_ATTEST_ERR_* codes. A failed call changes nothing: no
 *   output is written (except the *size of a size query and the message
 *   text), no counter is used, no object is created.
 * - Pointers are borrowed for the duration of the call unless a function says
 *   otherwise. Objects a function creates belong to the caller, who frees them
 *   with the matching *_free function (NULL is accepted there and ignored).
 * - Threads: a key is read-only once created and may be used from several
 *   threads at once. A context is not thread-safe: calls on one context run
 *   one at a time (from any thread). A digest likewise. Distinct objects are
 *   independent, so a decoder thread may feed a digest while another thread
 *   signs with a context, and lk_attest_monotonic_ns, lk_attest_result_name
 *   and the scene measurement functions (which keep no state) may be called
 *   from any thread at any time.
 */
#ifndef LATCHKEY_LK_ATTEST_H
#define LATCHKEY_LK_ATTEST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Sizes (those the hub checks; see hal_reference/gate liveness) ------ */

#define LK_ATTEST_SEED_SIZE 32u         /* Ed25519 seed: all the key file holds */
#define LK_ATTEST_PUBLIC_KEY_SIZE 32u   /* what the hub pins at enrolment */
#define LK_ATTEST_BOOT_ID_SIZE 16u      /* the hub refuses any other size (C1) */
#define LK_ATTEST_DIGEST_SIZE 32u       /* BLAKE2b-256 of a decoded frame */
#define LK_ATTEST_NONCE_MIN 16u         /* hub nonces are 16 to 32 bytes, */
#define LK_ATTEST_NONCE_MAX 32u         /*   as LK_NONCE_MAX in lk_camera.h */
#define LK_ATTEST_SESSION_ID_SIZE 16u   /* the hub's session id (U2) */
#define LK_ATTEST_CAMERA_ID_MAX 64u     /* bytes including the NUL, as LK_CAMERA_ID_MAX */
#define LK_ATTEST_SIGNED_MAX 299u       /* the longest SignedAttestation lk_attest_sign writes (286 without a scene) */
#define LK_ATTEST_MESSAGE_SIZE 512u     /* a message buffer this long never truncates a path of 300 bytes */

/* Scene measurements (C8); see "Scene measurements" below. */
#define LK_ATTEST_LUMINANCE_MAX 255000u   /* mean GRAY8 level x 1000 */
#define LK_ATTEST_SHARPNESS_MAX 1020000u  /* mean |4-neighbour Laplacian| x 1000: 4 x 255 x 1000 */
#define LK_ATTEST_SIMILARITY_MAX 1000u    /* likeness to the reference view, 0-1000 */
#define LK_ATTEST_THUMB_WIDTH 32u         /* the reference view and the frames compared with it: */
#define LK_ATTEST_THUMB_HEIGHT 18u        /*   32 x 18 area averages of GRAY8, row by row */
#define LK_ATTEST_THUMB_SIZE (LK_ATTEST_THUMB_WIDTH * LK_ATTEST_THUMB_HEIGHT)
#define LK_ATTEST_FRAME_SIDE_MAX 16384u   /* frames measured are 32x18 to 16384x16384 pixels */
#define LK_ATTEST_REFERENCE_CONTRAST_MIN 4u /* grey levels: the least standard deviation of a reference view */

/* ---- Results ------------------------------------------------------------ */

typedef int32_t lk_attest_result;

#define LK_ATTEST_OK 0
#define LK_ATTEST_ERR_INVALID_ARGUMENT (-1)    /* NULL where an object is required, a flag not 0 or 1 */
#define LK_ATTEST_ERR_BUFFER_TOO_SMALL (-2)    /* *size receives the size needed */
#define LK_ATTEST_ERR_NO_MEMORY (-3)
#define LK_ATTEST_ERR_CRYPTO (-4)              /* libsodium failed to initialise or to sign */
#define LK_ATTEST_ERR_IO (-5)                  /* open, read, write or fsync failed; the message names the call and errno */
#define LK_ATTEST_ERR_KEY_NOT_FOUND (-6)       /* load: no file at the path */
#define LK_ATTEST_ERR_KEY_EXISTS (-7)          /* create: something already exists at the path */
#define LK_ATTEST_ERR_KEY_SYMLINK (-8)         /* the path's last component is a symbolic link */
#define LK_ATTEST_ERR_KEY_NOT_REGULAR (-9)     /* a directory, FIFO, device or socket */
#define LK_ATTEST_ERR_KEY_MODE (-10)           /* permission bits wider than 0600 */
#define LK_ATTEST_ERR_KEY_OWNER (-11)          /* owned by another user than the caller's effective uid */
#define LK_ATTEST_ERR_KEY_FORMAT (-12)         /* not a latchkey device key file (short, long or garbled) */
#define LK_ATTEST_ERR_BAD_CAMERA_ID (-13)      /* not 1-63 printable ASCII characters 0x21-0x7E */
#define LK_ATTEST_ERR_BAD_NONCE_SIZE (-14)     /* not LK_ATTEST_NONCE_MIN..LK_ATTEST_NONCE_MAX bytes */
#define LK_ATTEST_ERR_COUNTER_EXHAUSTED (-15)  /* 2^64 - 1 attestations in one boot: create a new context */
#define LK_ATTEST_ERR_BAD_SCENE (-16)          /* a scene measurement above its maximum (LK_ATTEST_*_MAX) */
#define LK_ATTEST_ERR_BAD_FRAME (-17)          /* a frame smaller than 32x18, larger than 16384 a side, or stride < width */
#define LK_ATTEST_ERR_REFERENCE_NOT_FOUND (-18) /* load: no reference file at the path */
#define LK_ATTEST_ERR_REFERENCE_FORMAT (-19)   /* not a latchkey reference file (header, size or checksum wrong) */
#define LK_ATTEST_ERR_REFERENCE_FLAT (-20)     /* a view with too little contrast to compare frames with */

/* The code's name, e.g. "LK_ATTEST_ERR_KEY_MODE"; "unknown" for other values.
 * The string is static. [any thread] */
const char *lk_attest_result_name(lk_attest_result result);

/* ---- The device key ----------------------------------------------------- */

/*
 * The key file is text, exactly two lines of 25 + 65 bytes:
 *   latchkey-ed25519-seed-v1
 *   <the 32-byte Ed25519 seed as 64 hex digits>
 * (the final newline may be missing). It must be a regular file owned by the
 * caller's effective uid with no permission bits beyond 0600; anything else
 * is refused, never repaired. The secret key is kept in libsodium guarded
 * memory and wiped when freed.
 */
typedef struct lk_attest_key lk_attest_key;

/*
 * Every function that reads or writes a key file takes a message buffer:
 * when message is not NULL and message_size > 0 it receives a NUL-terminated
 * sentence (truncated to fit) naming the path and the problem, modes in
 * octal, e.g. "key file /etc/cam/device.key has mode 0644; it must be 0600
 * or narrower (chmod 600 it)". On success it receives a short confirmation.
 */

/*
 * Creates a new device key from fresh randomness and writes it to path, a
 * file that must not exist yet: created with O_CREAT|O_EXCL|O_NOFOLLOW, mode
 * 0600, written, fsynced, and its directory fsynced, so the key on disk is
 * the one returned. On failure no file is left behind. *key receives the new
 * key, owned by the caller.
 * Errors: INVALID_ARGUMENT (path or key NULL, path empty), KEY_EXISTS, IO,
 * NO_MEMORY, CRYPTO.
 */
lk_attest_result lk_attest_key_create(const char *path, lk_attest_key **key, char *message, size_t message_size);

/*
 * Loads the device key at path. The file is opened with O_NOFOLLOW|O_CLOEXEC
 * (and O_NONBLOCK, so a FIFO cannot stall the caller) and the opened
 * descriptor is checked with fstat, so what is checked is what is read.
 * *key receives the key, owned by the caller.
 * Errors: INVALID_ARGUMENT (path or key NULL, path empty), KEY_NOT_FOUND,
 * KEY_SYMLINK, KEY_NOT_REGULAR, KEY_OWNER, KEY_MODE, KEY_FORMAT, IO (e.g.
 * permission denied), NO_MEMORY, CRYPTO.
 */
lk_attest_result lk_attest_key_load(const char *path, lk_attest_key **key, char *message, size_t message_size);

/*
 * Makes a key from a 32-byte seed held elsewhere (a secure element, a sealed
 * blob). The seed is copied; wipe the caller's copy. *key is owned by the caller.
 * Errors: INVALID_ARGUMENT (seed or key NULL), NO_MEMORY, CRYPTO.
 */
lk_attest_result lk_attest_key_from_seed(const uint8_t seed[LK_ATTEST_SEED_SIZE], lk_attest_key **key);

/* Copies the key's Ed25519 public key, the one to enrol at the hub, into
 * public_key. Both pointers must be valid. [any thread] */
void lk_attest_key_public_key(const lk_attest_key *key, uint8_t public_key[LK_ATTEST_PUBLIC_KEY_SIZE]);

/* Wipes and frees the key. No other call may be using it. NULL is ignored. */
void lk_attest_key_free(lk_attest_key *key);

/* ---- The attestation context: one per boot of the agent ----------------- */

typedef struct lk_attest_context lk_attest_context;

/*
 * Starts a boot: a fresh random boot id, the counter at 0 (the first
 * attestation carries 1), no nonce yet, not recording. The context keeps its
 * own copy of the key, so key may be freed afterwards; camera_id is copied.
 * Create one context per start of the agent: the hub expects a new boot id
 * after a restart and an unchanged one otherwise (C3).
 * Errors: INVALID_ARGUMENT (key, camera_id or context NULL), BAD_CAMERA_ID,
 * NO_MEMORY, CRYPTO.
 */
lk_attest_result lk_attest_context_create(const lk_attest_key *key, const char *camera_id,
                                          lk_attest_context **context);

/* Wipes and frees the context. NULL is ignored. */
void lk_attest_context_free(lk_attest_context *context);

/* Copies this boot's id into boot_id. */
void lk_attest_boot_id(const lk_attest_context *context, uint8_t boot_id[LK_ATTEST_BOOT_ID_SIZE]);

/* The counter of the last attestation signed, 0 before the first. */
uint64_t lk_attest_counter(const lk_attest_context *context);

/*
 * Takes the hub's newest nonce (C2): it replaces the one held before, and
 * every later attestation echoes it. Call it with each nonce as it arrives;
 * only the last one is kept. Until the first call, attestations carry no
 * nonce, and the hub does not accept them. nonce is copied.
 * Errors: INVALID_ARGUMENT (context or nonce NULL), BAD_NONCE_SIZE (the
 * nonce held before is kept).
 */
lk_attest_result lk_attest_set_nonce(lk_attest_context *context, const uint8_t *nonce, size_t nonce_size);

/*
 * Sets the recording state later attestations carry (U2): recording is 1
 * while recording for the hub's session session_id, else 0; segment_id and
 * recorded_bytes describe the segment being (or last) recorded. session_id
 * may be NULL only when recording is 0 (no session id is sent then);
 * otherwise its 16 bytes are copied.
 * Errors: INVALID_ARGUMENT (context NULL, recording not 0 or 1, recording 1
 * with session_id NULL).
 */
lk_attest_result lk_attest_set_recording(lk_attest_context *context, int recording,
                                         const uint8_t session_id[LK_ATTEST_SESSION_ID_SIZE], uint64_t segment_id,
                                         uint64_t recorded_bytes);

/*
 * The scene measurements later attestations carry (C8), the field "scene" of
 * the Attestation: set them for each frame before signing it, as the camera's
 * own measurements of the frame whose digest it signs (see "Scene
 * measurements" below for how to compute them). scene is copied. NULL clears
 * them: later attestations carry no scene (the field is absent), as from a
 * camera that does not measure. A context starts without a scene. Values of
 * 0 are sent as such: a scene of all zeros is present, not absent.
 * Errors: INVALID_ARGUMENT (context NULL), BAD_SCENE (mean_luminance above
 * LK_ATTEST_LUMINANCE_MAX, sharpness above LK_ATTEST_SHARPNESS_MAX or
 * reference_similarity above LK_ATTEST_SIMILARITY_MAX; the scene held
 * before is kept).
 */
typedef struct lk_attest_scene {
  uint32_t mean_luminance;        /* mean GRAY8 level x 1000, 0-255000 */
  uint32_t sharpness;             /* mean |4-neighbour Laplacian| of the block means (below) x 1000, 0-1020000 */
  uint32_t reference_similarity;  /* likeness to the reference view taken at enrolment, 0-1000 */
} lk_attest_scene;

lk_attest_result lk_attest_set_scene(lk_attest_context *context, const lk_attest_scene *scene);

/*
 * Signs one attestation for a frame captured at capture_time_ns (the camera's
 * monotonic clock: the caller passes the frame's own timestamp, e.g. a V4L2
 * buffer's CLOCK_MONOTONIC time, or lk_attest_monotonic_ns(); the library
 * never reads a clock here) whose decoded bytes digest to frame_digest.
 * Writes a serialized SignedAttestation: the Attestation (camera id, boot id,
 * the next counter, capture time, digest, newest nonce, recording state and,
 * when set, the scene measurements)
 * in protobuf wire format, fields in number order, and the Ed25519 signature
 * over "latchkey.attestation.v1" NUL attestation-bytes.
 * buffer NULL: *size receives the size needed and LK_ATTEST_OK is returned;
 * nothing is signed and the counter is not used. Otherwise *size is the
 * buffer's capacity; on success it receives the bytes written and the
 * counter advances by one. A buffer of LK_ATTEST_SIGNED_MAX always suffices.
 * Errors: INVALID_ARGUMENT (context, frame_digest or size NULL),
 * BUFFER_TOO_SMALL (*size receives the size needed, nothing written),
 * COUNTER_EXHAUSTED, CRYPTO.
 */
lk_attest_result lk_attest_sign(lk_attest_context *context, uint64_t capture_time_ns,
                                const uint8_t frame_digest[LK_ATTEST_DIGEST_SIZE], uint8_t *buffer, size_t *size);

/* ---- Frame digest: BLAKE2b-256, streamed --------------------------------- */

/*
 * Digests a decoded frame (what a person would see, C5/C7) fed in pieces:
 * planes, rows, in a fixed order of the caller's choosing. The same pixels in
 * the same order give the same digest.
 */
typedef struct lk_attest_digest lk_attest_digest;

/* *digest receives a new digest, ready for the first frame, owned by the
 * caller. Errors: INVALID_ARGUMENT (digest NULL), NO_MEMORY, CRYPTO. */
lk_attest_result lk_attest_digest_create(lk_attest_digest **digest);

/* Feeds size bytes at data (borrowed; may be NULL when size is 0).
 * Errors: INVALID_ARGUMENT (digest NULL, data NULL with size > 0). */
lk_attest_result lk_attest_digest_update(lk_attest_digest *digest, const void *data, size_t size);

/* Writes the frame's digest to out and starts the next frame.
 * Errors: INVALID_ARGUMENT (digest or out NULL). */
lk_attest_result lk_attest_digest_final(lk_attest_digest *digest, uint8_t out[LK_ATTEST_DIGEST_SIZE]);

/* Frees the digest. NULL is ignored. */
void lk_attest_digest_free(lk_attest_digest *digest);

/* ---- Scene measurements (C8): pure functions of a GRAY8 frame ----------- */

/*
 * What the hub judges a covered, blinded, blurred or turned camera by. Each
 * is computed from the frame's 8-bit grey plane (GRAY8, the luma, as the
 * digest above), in integers only: the same frame gives the same numbers,
 * and so the same attestation bytes, on every platform and compiler.
 *
 * A frame is given as pixels (height rows, stride bytes apart, width pixels
 * of one byte each), width 32-16384, height 18-16384, stride >= width.
 * These functions keep no state, allocate nothing and may be called from any
 * thread at any time, on any number of frames at once.
 *
 * - mean luminance: the mean of all pixels x 1000, rounded (0 black, 255000
 *   white).
 * - sharpness: taken on a coarse copy of the frame, so that sensor noise
 *   averages out and only the picture's own edges count. Blocks of b x b
 *   pixels, b = max(1, min(w / 160, h / 90)) (integer division), make a copy
 *   of C = min(w / b, 512) columns and R = h / b rows (pixels right of
 *   column C b or below row R b are not used), each value q(i,j) the sum of
 *   its block. sharpness = round(1000 S / ((C - 2) (R - 2) b^2)), S the sum
 *   over the blocks not on the copy's border of
 *   |4 q(i,j) - q(i-1,j) - q(i+1,j) - q(i,j-1) - q(i,j+1)|: the mean
 *   absolute 4-neighbour Laplacian of the block means, x 1000. Edges and
 *   texture give large values; a defocused, fogged, smeared or covered lens
 *   small ones, even with the sensor's noise on top. It depends on the
 *   scene, so compare a camera only with itself.
 * - reference similarity: the frame's thumbnail (below) against the
 *   reference view's, by zero-mean normalised cross-correlation r (the
 *   Pearson correlation of the 576 values), reported as round(1000 r),
 *   0 when r <= 0 or when either thumbnail is perfectly uniform. Subtracting
 *   the means and dividing by the spreads makes r blind to a uniform change
 *   of brightness or contrast (dusk, a light switched on, auto exposure,
 *   gain): a * p + b correlates with p exactly. What lowers it is a change
 *   of the view's layout: the camera turned or moved, the lens covered or
 *   sprayed (nothing left to correlate), another scene shown to it. The
 *   32 x 18 averages make it indifferent to noise, compression and small
 *   movements; a person close to the lens lowers it in proportion to what
 *   they hide (set the hub's threshold at enrolment with that in mind).
 *
 * The thumbnail: the frame cut into 32 x 18 cells, cell (i, j) covering
 * columns [i w / 32, (i + 1) w / 32) and rows [j h / 18, (j + 1) h / 18)
 * (integer division), each the rounded mean of its pixels; row by row, 576
 * bytes. It does not depend on the frame's resolution, so a reference
 * still fits a camera whose stream size changed (not its aspect ratio).
 */

/*
 * Measures the frame into *scene: mean_luminance, sharpness and, when
 * reference (a thumbnail, LK_ATTEST_THUMB_SIZE bytes) is not NULL,
 * reference_similarity of the frame's thumbnail to it; without a reference
 * reference_similarity is set to 0. One pass over the frame for the first
 * two (about 6 KiB of stack for the block rows), one more for the thumbnail.
 * Errors: INVALID_ARGUMENT (pixels or scene NULL), BAD_FRAME.
 */
lk_attest_result lk_attest_scene_measure(const uint8_t *pixels, uint32_t width, uint32_t height, size_t stride,
                                         const uint8_t *reference, lk_attest_scene *scene);

/*
 * Writes the frame's thumbnail (described above) to thumbnail: what a
 * reference view is made of at enrolment, and what each frame is compared
 * by. Errors: INVALID_ARGUMENT (pixels or thumbnail NULL), BAD_FRAME.
 */
lk_attest_result lk_attest_thumbnail(const uint8_t *pixels, uint32_t width, uint32_t height, size_t stride,
                                     uint8_t thumbnail[LK_ATTEST_THUMB_SIZE]);

/* The similarity (0-1000, described above) of two thumbnails; symmetric,
 * 1000 for a thumbnail with itself unless it is uniform. Both pointers must
 * be valid. [any thread] */
uint32_t lk_attest_similarity(const uint8_t thumbnail[LK_ATTEST_THUMB_SIZE],
                              const uint8_t reference[LK_ATTEST_THUMB_SIZE]);

/* ---- The reference view: taken at enrolment, kept in a file -------------- */

/*
 * The reference view is the thumbnail of a frame taken when the camera was
 * installed, pointing where it should, with nothing in front of it. Its
 * file is a binary PGM image (any image viewer shows it, so whoever enrols
 * the camera can see what it was compared with), exactly:
 *   "P5\n# latchkey-reference-v1 blake2b-256 <64 hex digits>\n32 18\n255\n"
 *   then the 576 thumbnail bytes,
 * the digits being BLAKE2b-256 of those 576 bytes. Nothing else is accepted,
 * never repaired: a file edited, cut short or damaged is refused with a
 * sentence saying how. It is not secret (mode 0644); whoever can replace it
 * can make another view the reference, so keep it where the agent's own
 * files are.
 *
 * Messages are as for key files: when message is not NULL and
 * message_size > 0 it receives a NUL-terminated sentence naming the path.
 */

/*
 * Checks that a thumbnail can serve as a reference view: its standard
 * deviation is at least LK_ATTEST_REFERENCE_CONTRAST_MIN grey levels. A
 * uniform view (a covered lens, darkness, a wall of one colour) correlates
 * with nothing, so every later frame would look unlike it.
 * Errors: INVALID_ARGUMENT (reference NULL), REFERENCE_FLAT (the message
 * gives the standard deviation found).
 */
lk_attest_result lk_attest_reference_check(const uint8_t reference[LK_ATTEST_THUMB_SIZE], char *message,
                                           size_t message_size);

/*
 * Writes the reference view to path, replacing any file there atomically: a
 * temporary file in the same directory, written, fsynced, mode 0644, renamed
 * over path, the directory fsynced. On failure path is unchanged and no
 * temporary file is left behind. The view is checked first
 * (lk_attest_reference_check).
 * Errors: INVALID_ARGUMENT (path or reference NULL, path empty),
 * REFERENCE_FLAT, IO, NO_MEMORY, CRYPTO.
 */
lk_attest_result lk_attest_reference_save(const char *path, const uint8_t reference[LK_ATTEST_THUMB_SIZE],
                                          char *message, size_t message_size);

/*
 * Reads the reference view at path into reference (written only on
 * success). The file must be a regular file in the format above whose view
 * passes lk_attest_reference_check.
 * Errors: INVALID_ARGUMENT (path or reference NULL, path empty),
 * REFERENCE_NOT_FOUND, REFERENCE_FORMAT (not a regular file, wrong size,
 * header or checksum), REFERENCE_FLAT, IO (e.g. permission denied), CRYPTO.
 */
lk_attest_result lk_attest_reference_load(const char *path, uint8_t reference[LK_ATTEST_THUMB_SIZE], char *message,
                                          size_t message_size);

/* ---- Time ---------------------------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds: a capture time for callers whose frames
 * carry none. [any thread] */
uint64_t lk_attest_monotonic_ns(void);

#ifdef __cplusplus
}
#endif

#endif /* LATCHKEY_LK_ATTEST_H */
