/*
 * The selfie check: judges the photo a user gives for identity capture and
 * says what is wrong with it, so that an app can ask for another photo
 * before a poor one becomes the face of every frame.
 *
 * A photo is measured (face size, head pose, exposure, colour of the light,
 * sharpness, eye opening, occlusion, framing, other faces), each measure is
 * turned into a quality 0..1 and a flag, and the qualities into one score.
 * The thresholds were measured on real photos and on copies degraded on
 * purpose; doc/check.md has the table.
 *
 * Threading: fs_identity_check_image() shares the context's capture models
 * with fs_identity_create_from_image() and is safe to call from several
 * threads on one context (the detection and fit are serialised). Errors are
 * recorded in fs_context_last_error(), kept per thread.
 */
#ifndef FS_CHECK_H
#define FS_CHECK_H

#include "common.h"
#include "context.h"
#include "detector.h"
#include "identity.h"
#include "image.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * What is wrong with a source photo: one bit per criterion. Bit n is also
 * the index of the criterion's entry in fs_source_check.quality. Since 0.4.
 */
typedef enum fs_check_flag {
    FS_CHECK_SMALL = 1 << 0,       /**< face too small for a sharp result (face_size) */
    FS_CHECK_TURNED = 1 << 1,      /**< head turned (yaw) or tilted (pitch, roll) too far */
    FS_CHECK_DARK = 1 << 2,        /**< face too dark (luma) */
    FS_CHECK_BRIGHT = 1 << 3,      /**< face overexposed (clipped, luma) */
    FS_CHECK_COLOURED = 1 << 4,    /**< lit by a strongly coloured light (cast), or a photo
                                    *   without colour (black and white: the skin's chroma) */
    FS_CHECK_BLURRED = 1 << 5,     /**< face out of focus or moved (sharpness) */
    FS_CHECK_EYES_CLOSED = 1 << 6, /**< eyes closed (eye_openness) */
    FS_CHECK_COVERED = 1 << 7,     /**< nose and mouth covered: mask, hand, object (covered) */
    FS_CHECK_CUT = 1 << 8,         /**< face cut by the image border (outside) */
    FS_CHECK_CROWDED = 1 << 9      /**< another face of similar size in the photo (crowd) */
} fs_check_flag;

/** Criteria of fs_check_flag, bits 0 .. FS_CHECK_CRITERIA - 1. Since 0.4. */
#define FS_CHECK_CRITERIA 10

/**
 * Result of the selfie check. Fixed layout for ABI 0 (as the other public
 * result structs: new measures take reserved fields, which are zero now).
 *
 * Each criterion's measure m becomes a quality q in 0..1, piecewise linear
 * through three points: q = 1 at a good value, 0.5 at the threshold, 0 at a
 * hopeless one (doc/check.md lists them). The flag is raised exactly when
 * q < 0.5. A criterion made of several measures (TURNED: yaw, pitch, roll;
 * BRIGHT: clipped, luma) takes the smallest of their qualities.
 *
 * score = the smallest quality over all criteria, so score >= 0.5 exactly
 * when no flag is raised, and score says how far the worst criterion is
 * from its ideal (1: every measure at its good value or better).
 *
 * Since 0.4.
 */
typedef struct fs_source_check {
    uint32_t flags;          /**< fs_check_flag bits raised; 0: a good source */
    float score;             /**< 0..1, see above */
    float quality[16];       /**< per criterion, index n for flag 1 << n; 1 for n >= FS_CHECK_CRITERIA */
    int32_t faces;           /**< faces the detector found in the photo */
    int32_t face_index;      /**< the face checked, detector order (best score first) */
    fs_face_box box;         /**< its detection box, photo px */
    float face_size;         /**< px: larger side of the mesh's bounding box (as FS_RENDERER_MIN_FACE) */
    float yaw, pitch, roll;  /**< degrees, fs_head_pose of the fit */
    float luma;              /**< mean luma (BT.601, 0..255) of the face's skin */
    float clipped;           /**< fraction of the face's skin with a channel at 250 or more */
    float dark;              /**< fraction of the face's skin with luma at 16 or less */
    float skin_a, skin_b;    /**< median CIELAB a*, b* of the face's skin; their length is
                              *   the skin's chroma, which COLOURED also judges (a grey
                              *   photo: under 3) */
    float cast;              /**< CIELAB distance from the range of skin colours under
                              *   white light (0 inside it) of (skin_a, skin_b), or of
                              *   the median (a*, b*) of the skin left or right of the
                              *   nose tip where that is larger (a half counts when it
                              *   holds at least a tenth of the skin): a warm light on
                              *   one side and a blue one on the other */
    float sharpness;         /**< 0..1: the share of the face's edge contrast a 9-pixel
                              *   box blur takes away, at a face scale of at most 128 px
                              *   (Crete-Roffet et al. 2007): low for a blurred face */
    float eye_openness;      /**< lid distance / eye width, mean of both eyes (open about 0.3) */
    float covered;           /**< 0..1: share of the nose, upper lip and chin whose colour
                              *   is unlike the forehead's and cheeks' skin */
    float confidence;        /**< landmark confidence of the fit, 0..1 */
    float outside;           /**< 0..1: share of the 468 mesh points outside the image */
    float crowd;             /**< size of the largest other face the fitter accepts / face_size
                              *   (0 when none) */
    float reserved[16];      /**< zero */
} fs_source_check;

/**
 * Checks a photo as identity capture would take it, without making an
 * identity: runs the detector and the fitter, picks the face as
 * fs_identity_create_from_image() does, and measures it.
 * @param image      host image of any fs_pixel_format within the context's pixel limit.
 * @param face_index FS_IDENTITY_LARGEST_FACE (-1) or 0.. for the detector's n-th face.
 * @param[out] out   the check (flags raised are a result, not an error); untouched on failure.
 * @return FS_OK, FS_ERR_NO_FACE (no face, or the fitter rejected it),
 *         FS_ERR_OUT_OF_RANGE (face_index beyond the faces found, or < -1),
 *         FS_ERR_INVALID_ARGUMENT, FS_ERR_TOO_LARGE, FS_ERR_UNSUPPORTED,
 *         FS_ERR_OUT_OF_MEMORY, or a model-loading status as fs_detector_create().
 * Since 0.4.
 */
FS_API fs_status fs_identity_check_image(fs_context *ctx, const fs_image *image, int face_index,
                                         fs_source_check *out);

/**
 * The check of the photo an identity was captured from, made by
 * fs_identity_create_from_image() and kept with the identity. It is not
 * saved in the identity blob (it judges the photo, which a blob does not
 * hold; a service checks at upload, before it saves).
 * @param[out] out untouched on failure.
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT (NULL argument), FS_ERR_NOT_FOUND
 *         (an identity loaded from a blob or file: it has no check).
 * Since 0.4.
 */
FS_API fs_status fs_identity_get_check(const fs_identity *id, fs_source_check *out);

/**
 * Short name of one flag: "small", "turned", "dark", "bright", "coloured",
 * "blurred", "eyes_closed", "covered", "cut", "crowded"; NULL for a value
 * that is not exactly one known flag. Static string. Thread-safe. Since 0.4.
 */
FS_API const char *fs_check_flag_name(uint32_t flag);

#ifdef __cplusplus
}
#endif

#endif /* FS_CHECK_H */
