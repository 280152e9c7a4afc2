/*
 * The identity's serialised form: a versioned, checksummed blob that a
 * service stores once per user photo. Internal (issue 3 groundwork).
 *
 * Layout, little-endian:
 *   0  "FSID"
 *   4  u32 format version (FS_ID_BLOB_VERSION)
 *   8  u32 header size (48)
 *  12  u32 payload length
 *  16  SHA-256 of bytes 0..15 followed by the payload
 *  48  payload: u32 library version (FS_VERSION), u32 atlas size N,
 *      u32 source width, u32 source height, f32 lab_mean[3], f32 lab_std[3],
 *      f32 landmarks[478][3], u8 rgba[N*N*4], u8 weight[N*N]; since version 2
 *      then the light taken out of the atlas: u32 samples behind its fit (0:
 *      none, the atlas holds the photo's colours), f32 coeff[3][FS_SHADE_TERMS],
 *      f32 highlight margin (0: highlights kept); since version 3 then f32
 *      albedo scale (fs_atlas.albedo_scale, 1..16); since version 4 then the
 *      skin colour model (fs_atlas.skin): u32 components (0..2), then for
 *      each of FS_SKIN_COMPONENTS f32 weight, mean[3], inverse covariance[6]
 *      (zero where unused). Version 1 blobs load as holding the photo's
 *      colours, version 2 with an albedo scale of 1, versions 1 to 3 with no
 *      skin model (the swap then judges hair by lab_mean / lab_std).
 */
#ifndef FS_IDENTITY_BLOB_H
#define FS_IDENTITY_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "identity/atlas.h"

#define FS_ID_BLOB_VERSION 4u
#define FS_ID_BLOB_HEADER 48u
#define FS_ID_MAX_SOURCE_SIDE (1 << 20)

/* What the blob carries: the atlas and where it came from. */
typedef struct fs_identity_data {
    fs_atlas atlas;                    /* size, rgba, weight, lab_mean, lab_std, light, skin
                                          (counts not stored) */
    float landmarks[FS_LANDMARKS][3];  /* in the source image */
    int32_t source_width, source_height;
    uint32_t library_version;          /* FS_VERSION of the writer */
} fs_identity_data;

/* Bytes a blob of atlas side @p n takes (0 for a size out of range). */
size_t fs_identity_blob_size(int n);

/*
 * Serialises into a new malloc'd buffer (*out, *out_size). FS_ERR_INVALID_ARGUMENT
 * for data that would not load back (ranges as in fs_identity_blob_load).
 */
fs_status fs_identity_blob_save(const fs_identity_data *id, uint8_t **out, size_t *out_size,
                                fs_error_buf *err);

/*
 * Parses and checks a blob: FS_ERR_TRUNCATED (shorter than its header or its
 * stated payload), FS_ERR_CORRUPT (not "FSID", bad header size, trailing bytes,
 * payload length not that of its atlas size, a field out of range),
 * FS_ERR_VERSION (another format version), FS_ERR_CHECKSUM, FS_ERR_OUT_OF_MEMORY.
 * Never reads outside [data, data + size). On success *out owns new buffers
 * (release with fs_identity_data_free); untouched on failure.
 */
fs_status fs_identity_blob_load(const uint8_t *data, size_t size, fs_identity_data *out,
                                fs_error_buf *err);

/* Writes the blob to @p path atomically (temporary file beside it, then rename). */
fs_status fs_identity_blob_write_file(const fs_identity_data *id, const char *path,
                                      fs_error_buf *err);

/* Reads and loads a blob file (at most 64 MiB: larger is FS_ERR_TOO_LARGE). */
fs_status fs_identity_blob_read_file(const char *path, fs_identity_data *out, fs_error_buf *err);

void fs_identity_data_free(fs_identity_data *id);

#endif /* FS_IDENTITY_BLOB_H */
