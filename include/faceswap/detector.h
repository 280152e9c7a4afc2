/*
 * fs_detector: finds faces (BlazeFace, 256x256 input, 896 anchors) in an image.
 *
 * Threading: one detector must not be used by two threads at once; distinct
 * detectors of one context may run concurrently.
 */
#ifndef FS_DETECTOR_H
#define FS_DETECTOR_H

#include "common.h"
#include "context.h"
#include "image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fs_detector fs_detector;

/** Number of detector keypoints per face. */
#define FS_FACE_KEYPOINTS 6

/** Index of each detector keypoint in fs_face_box.keypoints (subject's left/right). */
typedef enum fs_face_keypoint {
    FS_KEYPOINT_RIGHT_EYE = 0,
    FS_KEYPOINT_LEFT_EYE = 1,
    FS_KEYPOINT_NOSE = 2,
    FS_KEYPOINT_MOUTH = 3,
    FS_KEYPOINT_RIGHT_EAR = 4,
    FS_KEYPOINT_LEFT_EAR = 5
} fs_face_keypoint;

/** One detected face, in image pixels (origin top-left). Fixed layout for ABI 0. */
typedef struct fs_face_box {
    float x, y, width, height;                /**< axis-aligned box */
    float score;                              /**< detector confidence, 0..1 */
    float keypoints[FS_FACE_KEYPOINTS][2];    /**< x, y per fs_face_keypoint */
    float reserved[7];                        /**< zero */
} fs_face_box;

/** How the image is fitted into the detector's square input. */
typedef enum fs_detector_input {
    FS_DETECTOR_INPUT_SQUASH = 0,   /**< whole image resized to 256x256 (reference behaviour) */
    FS_DETECTOR_INPUT_LETTERBOX = 1 /**< aspect kept, padded with black */
} fs_detector_input;

/** Detector parameters; all values pass as double. See fs_detector_param_bounds(). */
typedef enum fs_detector_param {
    FS_DETECTOR_SCORE_THRESHOLD = 0, /**< minimum score, 0..1, default 0.2 */
    FS_DETECTOR_NMS_THRESHOLD = 1,   /**< IoU above which a lower-scored box is dropped, 0..1, default 0.1 */
    FS_DETECTOR_MAX_FACES = 2,       /**< 1..100, default 10 */
    FS_DETECTOR_INPUT_MODE = 3,      /**< fs_detector_input, default FS_DETECTOR_INPUT_LETTERBOX (doc/detector-input.md) */
    /**
     * 1 also looks for faces turned by 90, 180 and 270 degrees: the network
     * runs on the four quarter turns of the input and the candidates are
     * merged by one NMS in image pixels, so the keypoints of an upside-down
     * face come out where its eyes really are (BlazeFace alone places them
     * as if the face were upright). Four times the work. 0 (default): upright
     * faces only, as the reference. Since 0.1.
     */
    FS_DETECTOR_ROTATIONS = 4
} fs_detector_param;

/**
 * Creates a detector: loads and checks blazeface.json/.bin from the context's model folder.
 * @param[out] out untouched on failure.
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT, FS_ERR_NOT_FOUND, FS_ERR_CHECKSUM,
 *         FS_ERR_MODEL, FS_ERR_TRUNCATED, FS_ERR_CORRUPT, FS_ERR_IO (a model
 *         file unreadable, or not a regular file: a FIFO, device or folder is
 *         refused without being read), FS_ERR_TOO_LARGE (a model file above
 *         1 GiB), FS_ERR_OUT_OF_MEMORY, FS_ERR_BACKEND_UNAVAILABLE. Detail in
 *         fs_context_last_error().
 * Since 0.1.
 */
FS_API fs_status fs_detector_create(fs_context *ctx, fs_detector **out);

/** Destroys a detector. Accepts NULL. Since 0.1. */
FS_API void fs_detector_destroy(fs_detector *det);

/** Sets a parameter. @return FS_OK, FS_ERR_INVALID_ARGUMENT, FS_ERR_OUT_OF_RANGE. Since 0.1. */
FS_API fs_status fs_detector_set(fs_detector *det, fs_detector_param param, double value);

/** Reads a parameter. Since 0.1. */
FS_API fs_status fs_detector_get(const fs_detector *det, fs_detector_param param, double *value);

/** Inclusive bounds of a parameter. Since 0.1. */
FS_API fs_status fs_detector_param_bounds(fs_detector_param param, double *min, double *max);

/**
 * The value a new detector gives @p param, into @p value (untouched on
 * failure). @return FS_OK or FS_ERR_INVALID_ARGUMENT. Thread-safe. Since 0.3.
 */
FS_API fs_status fs_detector_param_default(fs_detector_param param, double *value);

/**
 * Detects faces, best score first.
 * @param image    host image of any fs_pixel_format and size within the context's pixel limit.
 * @param faces    caller's array of @p capacity entries (may be NULL when capacity is 0).
 * @param[out] count number of faces found (may exceed capacity: only capacity are written).
 * @return FS_OK (also when no face is found: count is 0), FS_ERR_INVALID_ARGUMENT,
 *         FS_ERR_TOO_LARGE, FS_ERR_UNSUPPORTED, FS_ERR_OUT_OF_MEMORY.
 * Since 0.1.
 */
FS_API fs_status fs_detector_run(fs_detector *det, const fs_image *image, fs_face_box *faces,
                                 int capacity, int *count);

/** Detail of the detector's last error, "" when none. Owned by the detector. Since 0.1. */
FS_API const char *fs_detector_last_error(const fs_detector *det);

#ifdef __cplusplus
}
#endif

#endif /* FS_DETECTOR_H */
