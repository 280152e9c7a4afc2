/*
 * fs_fitter: 478 3D landmarks of a face (FaceMesh 468 points + Iris 2 x 5),
 * a face confidence and the head pose, from a detection or from the previous
 * frame's landmarks (tracking).
 *
 * Threading: one fitter must not be used by two threads at once.
 */
#ifndef FS_FITTER_H
#define FS_FITTER_H

#include "common.h"
#include "context.h"
#include "detector.h"
#include "image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fs_fitter fs_fitter;

#define FS_MESH_LANDMARKS 468 /**< FaceMesh points, MediaPipe's numbering */
#define FS_LANDMARKS 478      /**< mesh + 5 per iris: 468..472 and 473..477 */

/**
 * Head pose from a weighted Procrustes fit of the canonical face (cm) to the
 * landmarks: landmark ~= scale * rotation * canonical + translation, in
 * image pixels (z in the same scale as x).
 */
typedef struct fs_head_pose {
    float rotation[9];    /**< row-major 3x3, proper rotation */
    float translation[3]; /**< pixels */
    float scale;          /**< pixels per cm */
    float yaw, pitch, roll; /**< degrees; 0,0,0 faces the camera upright */
    float reserved[8];    /**< zero */
} fs_head_pose;

/** Landmarks of one face. Fixed layout for ABI 0. */
typedef struct fs_face_landmarks {
    float points[FS_LANDMARKS][3]; /**< x, y in image pixels; z in the same scale, smaller is nearer */
    float confidence;              /**< FaceMesh face flag, 0..1 */
    fs_head_pose pose;
    fs_face_box box;               /**< the detection or track box the fit started from */
    float crop[5];                 /**< crop used: centre x, centre y, side, angle (rad), 0 */
    float reserved[11];            /**< zero */
} fs_face_landmarks;

/** How the face crop is oriented before FaceMesh runs. */
typedef enum fs_fitter_align {
    FS_FITTER_ALIGN_NONE = 0, /**< axis-aligned crop (reference behaviour) */
    FS_FITTER_ALIGN_ROLL = 1  /**< crop rotated by the roll of the eye keypoints */
} fs_fitter_align;

/** Fitter parameters; values pass as double. */
typedef enum fs_fitter_param {
    FS_FITTER_ALIGN = 0,          /**< fs_fitter_align, default FS_FITTER_ALIGN_ROLL */
    FS_FITTER_MIN_CONFIDENCE = 1, /**< faces below are rejected with FS_ERR_NO_FACE, 0..1, default 0.2 */
    FS_FITTER_IRIS = 2,           /**< 1 (default) runs Iris, 0 fills iris points from the mesh eye centres */
    /**
     * 1 reproduces Human 3.3.6's iris handling for agreement tests: both eye
     * crops flipped, only the left eye's points flipped back, so the right
     * eye's iris and contour points come out mirrored inside its eye box.
     * 0 (default) feeds the model the eye side it was trained on (the left
     * eye flipped, the right eye as is). Since 0.1.
     */
    FS_FITTER_REFERENCE_QUIRKS = 3
} fs_fitter_param;

/**
 * Creates a fitter: loads and checks facemesh, iris and the canonical face
 * (face_geometry.binarypb) from the context's model folder.
 * @return as fs_detector_create().
 * Since 0.1.
 */
FS_API fs_status fs_fitter_create(fs_context *ctx, fs_fitter **out);

/** Destroys a fitter. Accepts NULL. Since 0.1. */
FS_API void fs_fitter_destroy(fs_fitter *fit);

FS_API fs_status fs_fitter_set(fs_fitter *fit, fs_fitter_param param, double value);
FS_API fs_status fs_fitter_get(const fs_fitter *fit, fs_fitter_param param, double *value);
FS_API fs_status fs_fitter_param_bounds(fs_fitter_param param, double *min, double *max);

/**
 * The value a new fitter gives @p param, into @p value (untouched on
 * failure). @return FS_OK or FS_ERR_INVALID_ARGUMENT. Thread-safe. Since 0.3.
 */
FS_API fs_status fs_fitter_param_default(fs_fitter_param param, double *value);

/**
 * Fits landmarks to the face of a detection.
 * @param[out] out untouched on failure.
 * @return FS_OK, FS_ERR_NO_FACE (confidence below the threshold),
 *         FS_ERR_INVALID_ARGUMENT, FS_ERR_TOO_LARGE, FS_ERR_UNSUPPORTED, FS_ERR_OUT_OF_MEMORY.
 * Since 0.1.
 */
FS_API fs_status fs_fitter_run(fs_fitter *fit, const fs_image *image, const fs_face_box *face,
                               fs_face_landmarks *out);

/**
 * Tracking: fits landmarks in @p image starting from the previous frame's
 * landmarks of the same face instead of a detection (no detector run).
 * FS_ERR_NO_FACE means the track is lost: detect again.
 * @p previous and @p out may be the same object.
 * Since 0.1.
 */
FS_API fs_status fs_fitter_track(fs_fitter *fit, const fs_image *image,
                                 const fs_face_landmarks *previous, fs_face_landmarks *out);

/** Detail of the fitter's last error, "" when none. Since 0.1. */
FS_API const char *fs_fitter_last_error(const fs_fitter *fit);

#ifdef __cplusplus
}
#endif

#endif /* FS_FITTER_H */
