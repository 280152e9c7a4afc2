/*
 * fs_identity: the face a swap puts into other images, captured once from a
 * photo: a UV texture atlas of the face mesh (hidden parts filled by
 * symmetry), its colour statistics and its landmarks. It can be saved to and
 * loaded from a versioned, checksummed blob (file or memory), so a service
 * analyses each user photo once.
 *
 * Threading: an identity is immutable after creation; any number of threads
 * may swap it at once. Errors are recorded in fs_context_last_error() of the
 * context given (for the save functions: the context the identity was made
 * with), which is kept per thread: two threads that save or load through
 * one context at the same time each read their own detail.
 */
#ifndef FS_IDENTITY_H
#define FS_IDENTITY_H

#include "common.h"
#include "context.h"
#include "fitter.h"
#include "image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fs_identity fs_identity;

/** face_index value of fs_identity_create_from_image(): the largest face. */
#define FS_IDENTITY_LARGEST_FACE (-1)

/**
 * Captures an identity from a photo: runs the detector and the fitter on
 * @p image, picks a face and unwraps it into the atlas.
 * @param image      host image of any fs_pixel_format within the context's pixel limit.
 * @param face_index FS_IDENTITY_LARGEST_FACE (-1) for the largest face (by box area),
 *                   or 0.. for the detector's n-th face (best score first).
 * @param[out] out   new identity (release with fs_identity_destroy); untouched on failure.
 *
 * A photo with several faces is not an error: FS_IDENTITY_LARGEST_FACE takes
 * the face with the largest detection box that the fitter accepts (a large
 * detection the fitter rejects, a fist or a pattern, does not hide the
 * person), on the view that the subject of a portrait is its largest face.
 * fs_identity_source_face() then tells how many faces the photo had and
 * which one was taken, so a service can ask its user for a photo of one
 * face, or for an index. Ties in area go to the detector's better score.
 * @return FS_OK, FS_ERR_NO_FACE (no face found, or the fitter rejected it),
 *         FS_ERR_OUT_OF_RANGE (face_index >= the number of faces found, or < -1),
 *         FS_ERR_INVALID_ARGUMENT, FS_ERR_TOO_LARGE, FS_ERR_UNSUPPORTED,
 *         FS_ERR_OUT_OF_MEMORY, or a model-loading status as fs_detector_create().
 * Since 0.2.
 */
FS_API fs_status fs_identity_create_from_image(fs_context *ctx, const fs_image *image,
                                               int face_index, fs_identity **out);

/** Destroys an identity. Accepts NULL. Since 0.2. */
FS_API void fs_identity_destroy(fs_identity *id);

/**
 * Serialises an identity into a new buffer.
 * @param[out] data buffer owned by the caller, released with fs_identity_free_memory().
 * @param[out] size its length in bytes.
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT, FS_ERR_OUT_OF_MEMORY.
 * Since 0.2.
 */
FS_API fs_status fs_identity_save_memory(const fs_identity *id, void **data, size_t *size);

/** Releases a buffer of fs_identity_save_memory(). Accepts NULL. Since 0.2. */
FS_API void fs_identity_free_memory(void *data);

/**
 * Loads an identity from a blob of fs_identity_save_memory() or a file's bytes.
 * Never reads outside [data, data + size).
 * @param[out] out new identity; untouched on failure.
 * @return FS_OK, FS_ERR_TRUNCATED (shorter than stated), FS_ERR_CORRUPT (not an
 *         identity blob, or a field out of range), FS_ERR_VERSION (another blob
 *         format version), FS_ERR_CHECKSUM (altered), FS_ERR_INVALID_ARGUMENT,
 *         FS_ERR_OUT_OF_MEMORY. Detail in fs_context_last_error().
 * Since 0.2.
 */
FS_API fs_status fs_identity_load_memory(fs_context *ctx, const void *data, size_t size,
                                         fs_identity **out);

/**
 * Writes the blob to @p path atomically (a temporary file beside it, then a
 * rename): a reader never sees a half-written file.
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT, FS_ERR_IO, FS_ERR_OUT_OF_MEMORY.
 *         Detail in fs_context_last_error() of the identity's context.
 * Since 0.2.
 */
FS_API fs_status fs_identity_save_file(const fs_identity *id, const char *path);

/**
 * Reads an identity file (at most 64 MiB).
 * @return as fs_identity_load_memory(), and FS_ERR_NOT_FOUND, FS_ERR_IO (also
 *         not a regular file: a FIFO, device or folder is refused unread),
 *         FS_ERR_TOO_LARGE.
 * Since 0.2.
 */
FS_API fs_status fs_identity_load_file(fs_context *ctx, const char *path, fs_identity **out);

/**
 * The landmarks the identity was captured from, in the source photo's pixels
 * (for tools that show or crop the source face; a loaded identity keeps them).
 * @param[out] out points filled; every other field zero (an identity keeps
 *             only the points). Untouched on failure.
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT (NULL argument).
 * Since 0.2.
 */
FS_API fs_status fs_identity_get_landmarks(const fs_identity *id, fs_face_landmarks *out);

/**
 * A view of the identity's texture atlas: square, FS_PIXEL_RGBA8, host
 * memory, in the UV layout of the face mesh (u right, v down: forehead at
 * the top). Alpha is 255 inside the mesh's footprint, 0 outside.
 * @param[out] out a borrowed view: the pixels belong to the identity, stay
 *             valid until fs_identity_destroy() and must not be written or
 *             freed (not with fs_image_free() either). Untouched on failure.
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT (NULL argument).
 * Since 0.2.
 */
FS_API fs_status fs_identity_get_atlas(const fs_identity *id, fs_image *out);

/**
 * Which face of its photo an identity was captured from.
 * @param[out] n_faces faces the detector found in the photo (may be NULL).
 * @param[out] index   the captured face's detector index, best score first
 *                     (may be NULL).
 * @param[out] box     its detection box, photo px (may be NULL).
 * An identity loaded with fs_identity_load_memory() or fs_identity_load_file()
 * does not know its photo: 0 faces, index -1, a zero box.
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT (NULL @p id).
 * Since 0.2.
 */
FS_API fs_status fs_identity_source_face(const fs_identity *id, int *n_faces, int *index,
                                         fs_face_box *box);

#ifdef __cplusplus
}
#endif

#endif /* FS_IDENTITY_H */
