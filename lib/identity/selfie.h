/*
 * The selfie check's measures and judgement (public contract in
 * include/faceswap/check.h). The detection, the fit and the other faces
 * are lib/swap/api.c's; this file measures one fitted face on its photo and
 * turns measures into qualities, flags and a score.
 */
#ifndef FS_IDENTITY_SELFIE_H
#define FS_IDENTITY_SELFIE_H

#include "internal.h"

/* A criterion's measure -> quality: piecewise linear through (bad, 0),
 * (thr, 0.5), (good, 1), clamped; bad and good lie on either side of thr,
 * in either order (lower or higher is better). */
typedef struct fs_check_ramp {
    float bad, thr, good;
} fs_check_ramp;

/* The thresholds in force (doc/check.md has their measured figures). */
typedef struct fs_check_limits {
    fs_check_ramp face_size, yaw, pitch, roll, luma_dark, luma_bright, clipped, cast,
        chroma, sharpness, eye_openness, covered, outside, crowd;
} fs_check_limits;

extern const fs_check_limits fs_check_default_limits;

float fs_check_quality(const fs_check_ramp *r, float m);

/*
 * Measures the face with landmarks @p lm on @p image (host memory, any
 * fs_pixel_format; checked by the caller) into @p out's face_size, pose,
 * exposure, colour, sharpness, eye, covered, confidence and outside
 * fields; the fields about the photo's faces (faces, face_index, box,
 * crowd) are the caller's and left as they are. FS_ERR_INVALID_ARGUMENT
 * for landmarks that are not finite, FS_ERR_OUT_OF_MEMORY.
 */
fs_status fs_check_measure(const fs_image *image, const fs_face_landmarks *lm,
                           fs_source_check *out, fs_error_buf *err);

/* CIELAB distance of (@p a, @p b) from the sector of skin colours under
 * white light (0 inside it): the cast of a median colour. */
float fs_check_skin_cast(float a, float b);

/* Sets @p c's quality, flags and score from its measures. */
void fs_check_judge(fs_source_check *c, const fs_check_limits *limits);

/* The larger side of the bounding box of the 468 mesh points (0 when one
 * is not finite): the face size of the check and of the renderer. */
float fs_check_face_size(const fs_face_landmarks *lm);

#endif /* FS_IDENTITY_SELFIE_H */
