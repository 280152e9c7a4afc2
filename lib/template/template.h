/*
 * The analysed template's data (include/faceswap/template.h wraps it) and
 * its file form. Internal.
 *
 * Per frame the template keeps the faces of the tracks seen in it; per face
 * what the per-user render needs and cannot get cheaply from the frame
 * itself: the smoothed landmarks and pose, and the target-side statistics
 * smoothed over time (a per-frame estimate would flicker).
 */
#ifndef FS_TEMPLATE_TEMPLATE_H
#define FS_TEMPLATE_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "light/shading.h"

/* Target-side statistics per face, smoothed over time: the swap's colour
 * target (CIELAB mean[3] and deviation[3] of the face's skin), 2 spare. */
#define FS_TPL_STATS 8

/* The face's light (lib/light/shading.h: fs_shading.coeff, channel-major),
 * smoothed over time like the statistics: a per-frame fit flickers. */
#define FS_TPL_LIGHT (3 * FS_SHADE_TERMS)

/* fs_tpl_face.flags */
#define FS_TPL_FACE_FITTED 1u  /* the fitter found the face in this frame */
#define FS_TPL_FACE_BRIDGED 2u /* a short miss, filled between the fits around it */
#define FS_TPL_FACE_STATS 4u   /* stats[] hold a measurement (else: none could be made) */
#define FS_TPL_FACE_LIGHT 8u   /* light[] holds one (else: the face was too small, or the
                                * template predates it: the source's own light is used) */

typedef struct fs_tpl_face {
    int32_t track;
    uint32_t flags;
    float confidence;
    float box[4]; /* x, y, width, height: the box the fit started from */
    float points[FS_LANDMARKS][3];
    float pose[16]; /* rotation[9], translation[3], scale, yaw, pitch, roll */
    float stats[FS_TPL_STATS];
    float light[FS_TPL_LIGHT];
} fs_tpl_face;

typedef struct fs_tpl_frame {
    int64_t pts;         /* stream time base */
    uint32_t first_face; /* index into faces[] */
    uint32_t n_faces;
} fs_tpl_frame;

typedef struct fs_tpl_track {
    int32_t id;
    int64_t first, last, frames;
    float mean_size;
} fs_tpl_track;

/* Limits of what a template may hold (a loaded file is checked against them). */
#define FS_TPL_MAX_FRAMES (INT64_C(1) << 22) /* 46 hours at 25 fps */
#define FS_TPL_MAX_FACES_PER_FRAME 16
#define FS_TPL_MAX_TRACKS 65536
#define FS_TPL_MAX_SIDE 16384
#define FS_TPL_MAX_FILE ((size_t)1 << 31)

typedef struct fs_tpl_data {
    int32_t width, height, rotation;
    int32_t tb_num, tb_den, fps_num, fps_den;
    double duration;
    int64_t decode_errors;
    uint8_t hash[32];   /* SHA-256 of the video file */
    uint64_t file_size; /* of the video file */
    int32_t track_choice; /* FS_TEMPLATE_TRACK */
    int32_t protagonist;  /* track id, -1 none */
    int64_t poster_frame; /* -1 none */
    int64_t n_frames;
    fs_tpl_frame *frames;
    int32_t n_tracks;
    fs_tpl_track *tracks;
    uint32_t n_faces;
    fs_tpl_face *faces;
} fs_tpl_data;

void fs_tpl_data_free(fs_tpl_data *d);

/* The face of track @p track in frame @p frame, or NULL. */
const fs_tpl_face *fs_tpl_find(const fs_tpl_data *d, int64_t frame, int32_t track);

/* Serialises into a new malloc'd buffer. */
fs_status fs_tpl_save(const fs_tpl_data *d, uint8_t **out, size_t *out_size, fs_error_buf *err);

/*
 * Parses and checks a template file's bytes: FS_ERR_TRUNCATED, FS_ERR_CORRUPT
 * (not a template, counts or values out of range, faces out of order),
 * FS_ERR_VERSION, FS_ERR_CHECKSUM, FS_ERR_OUT_OF_MEMORY. Never reads outside
 * [data, data + size). *out owns new buffers on success; untouched on failure.
 */
fs_status fs_tpl_load(const uint8_t *data, size_t size, fs_tpl_data *out, fs_error_buf *err);

/* SHA-256 of a file's bytes and its size; FS_ERR_NOT_FOUND, FS_ERR_IO. */
fs_status fs_tpl_hash_file(const char *path, uint8_t hash[32], uint64_t *size, fs_error_buf *err);

#endif /* FS_TEMPLATE_TEMPLATE_H */
