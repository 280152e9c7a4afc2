/*
 * fs_renderer: swaps an identity onto target faces. The identity's atlas is
 * rendered on the target's mesh (perspective-correct, depth-tested), colour
 * corrected to the target, masked (the target's eyes and mouth interior stay
 * by default) and blended in. Pixels outside the face mask are left
 * bit-identical; faces touching the image border work.
 *
 * Threading: one renderer must not be used by two threads at once; distinct
 * renderers of one context may run concurrently (each owns its detector and
 * fitter for fs_renderer_swap_image).
 */
#ifndef FS_RENDERER_H
#define FS_RENDERER_H

#include "common.h"
#include "context.h"
#include "fitter.h"
#include "identity.h"
#include "image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fs_renderer fs_renderer;

/** Colour correction (FS_RENDERER_COLOR). */
typedef enum fs_renderer_color {
    FS_COLOR_NONE = 0,    /**< the atlas' colours as captured */
    FS_COLOR_MEANSTD = 1, /**< CIELAB mean/deviation matched to the target's face */
    /** (default) MEANSTD, then the target's face-scale shading and colour: the
     *  render's luminance times the target's over the render's, both low-passed over
     *  the skin with a sigma of 0.15 of the face size, the gain limited to 1/1.5..1.5;
     *  then each channel times the target's low-passed chromaticity (channel over
     *  luminance) over the render's, at the same scale and within the same limits.
     *  Brings back the target's broad shading and the colour of its light (a shadow
     *  across the face, light falling off, a coloured lamp on one side) that the light
     *  model cannot hold, without its features. */
    FS_COLOR_FULL = 2
} fs_renderer_color;

/** Blending (FS_RENDERER_BLEND). */
typedef enum fs_renderer_blend {
    FS_BLEND_ALPHA = 0,     /**< feathered alpha */
    FS_BLEND_MULTIBAND = 1, /**< Laplacian pyramid (default) */
    FS_BLEND_POISSON = 2    /**< gradient domain */
} fs_renderer_blend;

/** Renderer parameters; values pass as double. See fs_renderer_param_bounds(). */
typedef enum fs_renderer_param {
    FS_RENDERER_COLOR = 0,           /**< fs_renderer_color, default FS_COLOR_FULL */
    FS_RENDERER_BLEND = 1,           /**< fs_renderer_blend, default FS_BLEND_MULTIBAND */
    FS_RENDERER_SUBDIVISION = 2,     /**< mesh subdivision levels 0..4, default 0 */
    /** Whose eyes and mouth interior show: 0 (the default) the
     *  target's: each eye opening whole (whites, irises, lashes), bounded
     *  by the target's lid contour (the Iris model's) grown by a tenth of
     *  the eye's width above and 3% below, so there is one lash line, the
     *  target's, and nothing inside an opening mixes the two people; it
     *  costs some likeness (identity gain of the quality benchmark +0.212
     *  against +0.225 for 2). 1 the source's (the whole face swapped). 2
     *  the target's irises, so that gaze, blinks (the lids follow the
     *  target's mesh) and teeth stay the target's, while the whites,
     *  corners and lash line are the source's. In 0 and 2 an open mouth
     *  shows the target's interior inside its inner lip line; a closed one
     *  (inner lip gap under a tenth of the mouth's width) keeps no opening
     *  and shows the source's lips meeting, and the target's lip gap is
     *  kept in every mode (the source's face shape does not open or close
     *  the target's mouth). */
    FS_RENDERER_SWAP_EYES_MOUTH = 3,
    FS_RENDERER_MASK_ERODE = 4,      /**< mask erosion, fraction of the face size, 0..0.25, default 0.01 */
    FS_RENDERER_MASK_FEATHER = 5,    /**< feather width, fraction of the face size, 0..0.25, default 0.05 */
    /** 1 keeps the intermediate images of each face the last swap call swapped,
     *  for fs_renderer_debug_image() (about 8 bytes per pixel of each face's
     *  window); 0 (default) keeps none and releases any kept. Since 0.2. */
    FS_RENDERER_KEEP_DEBUG = 6,
    /** Smallest face swapped, px of the face size (the larger side of the
     *  bounding box of the 468 mesh landmarks), 8..4096, default 24. Smaller
     *  faces are skipped (FS_SWAP_SKIPPED_SMALL, FS_ERR_NO_FACE): below it the
     *  atlas is resampled to a few pixels and the blend margins, in whole
     *  pixels, cover the face. Since 0.2. */
    FS_RENDERER_MIN_FACE = 7,
    /** Largest head turn swapped, degrees of |fs_head_pose.yaw|, 0..90,
     *  default 75 (90 swaps every turn). Turned further, most of the mesh
     *  is hidden and the fit guesses the hidden half, so the face is skipped
     *  (FS_SWAP_SKIPPED_TURNED, FS_ERR_NO_FACE). Faces turned up to the
     *  limit render without holes (doc/swap.md). Since 0.2. */
    FS_RENDERER_MAX_YAW = 8,
    /** How far the target's mesh takes the source's face shape, 0..1,
     *  default 0.5: the source's landmarks, aligned to the target's by
     *  rotation, scale and shift (pose and size stay the target's), move the
     *  mesh inside the face; the outline stays the target's, and the
     *  target's eye openings and mouth interior move along with the mesh.
     *  0 renders on the target's own mesh. The transfer is whole for a
     *  target turned up to 25 degrees from the source's face and fades
     *  out by 70 (since 0.4): further turned, the alignment leans on the
     *  source's depth and hidden side, and the moved features shifted
     *  the landmarks found again on the result (doc/swap.md). Since 0.2. */
    FS_RENDERER_SHAPE = 9,
    /** 1 (default) matches the swapped skin's sharpness and grain to the
     *  target's (a blur, or deterministic noise of the missing energy), so
     *  that a sharp source does not sit on a soft target or the reverse;
     *  0 keeps the atlas' own detail. Since 0.2. */
    FS_RENDERER_MATCH_DETAIL = 10,
    /** 1 (default) keeps out of the mask what is not well-seen skin: texels
     *  that the source's own skin colour model (fitted on its cheeks and
     *  forehead at capture) does not call skin, above the eyebrows, along
     *  the outline, on the face's sides where hair hangs over the cheeks and
     *  at the temples beyond the eyebrows' ends (identities saved before
     *  format version 4: darker than the face's skin or off its hue, above
     *  the eyebrows and along the outline),
     *  texels the source photo saw only at a grazing angle along the
     *  outline, and the target's own hair over its outline; there the
     *  target stays. Since 0.2. */
    FS_RENDERER_SKIN_GUARD = 11
} fs_renderer_param;

/** fs_renderer_swap_image() face choice: every face found. */
#define FS_SWAP_FACES_ALL (-1)
/** fs_renderer_swap_image() face choice: the largest face (by detection box
 *  area) that can be swapped: the fitter accepts it and it passes
 *  FS_RENDERER_MIN_FACE and FS_RENDERER_MAX_YAW. */
#define FS_SWAP_FACES_LARGEST (-2)

/** Most faces fs_renderer_swap_image() considers (the detector's best); a
 *  report array of this many entries always suffices. Since 0.2. */
#define FS_SWAP_MAX_FACES 16

/** What fs_renderer_swap_image_report() did with one detected face. Since 0.2. */
typedef enum fs_swap_outcome {
    FS_SWAP_SWAPPED = 0,        /**< swapped (status FS_OK) */
    FS_SWAP_NOT_CHOSEN = 1,     /**< left alone: another index asked, or a larger face
                                 *   was swapped under FS_SWAP_FACES_LARGEST (status FS_OK) */
    FS_SWAP_SKIPPED_FIT = 2,    /**< the fitter rejected the detection: landmark
                                 *   confidence under FS_FITTER_MIN_CONFIDENCE, so
                                 *   probably no face (status FS_ERR_NO_FACE, or the
                                 *   fitter's error) */
    FS_SWAP_SKIPPED_SMALL = 3,  /**< face_size < FS_RENDERER_MIN_FACE (status FS_ERR_NO_FACE) */
    FS_SWAP_SKIPPED_TURNED = 4, /**< |yaw| > FS_RENDERER_MAX_YAW (status FS_ERR_NO_FACE) */
    FS_SWAP_FAILED = 5          /**< the swap itself failed: status says why
                                 *   (FS_ERR_NO_FACE: the mesh lies outside the image;
                                 *   FS_ERR_CANCELLED: not tried, an earlier face's
                                 *   error ended the call) */
} fs_swap_outcome;

/** One face of fs_renderer_swap_image_report(). Fixed layout for ABI 0. Since 0.2. */
typedef struct fs_swap_face_report {
    fs_face_box box;    /**< the detection, image px */
    int32_t outcome;    /**< fs_swap_outcome */
    int32_t status;     /**< fs_status of this face (see fs_swap_outcome) */
    float face_size;    /**< px, the size FS_RENDERER_MIN_FACE is compared with; 0 when not fitted */
    float yaw;          /**< degrees, fs_head_pose.yaw of the fit; 0 when not fitted */
    float confidence;   /**< landmark confidence of the fit, 0..1; 0 when not fitted */
    float reserved[11]; /**< zero */
} fs_swap_face_report;

/**
 * Creates a renderer: loads the canonical face (face_geometry.binarypb) from
 * the context's model folder. The detector and fitter that
 * fs_renderer_swap_image() needs are loaded on its first call.
 * @param[out] out untouched on failure.
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT, FS_ERR_NOT_FOUND, FS_ERR_CHECKSUM,
 *         FS_ERR_CORRUPT, FS_ERR_MODEL, FS_ERR_IO and FS_ERR_TOO_LARGE (as
 *         fs_detector_create()), FS_ERR_OUT_OF_MEMORY. Detail in
 *         fs_context_last_error().
 * Since 0.2.
 */
FS_API fs_status fs_renderer_create(fs_context *ctx, fs_renderer **out);

/** Destroys a renderer. Accepts NULL. Since 0.2. */
FS_API void fs_renderer_destroy(fs_renderer *r);

/** Sets a parameter. @return FS_OK, FS_ERR_INVALID_ARGUMENT, FS_ERR_OUT_OF_RANGE. Since 0.2. */
FS_API fs_status fs_renderer_set(fs_renderer *r, fs_renderer_param param, double value);

/** Reads a parameter. @return FS_OK, FS_ERR_INVALID_ARGUMENT. Since 0.2. */
FS_API fs_status fs_renderer_get(const fs_renderer *r, fs_renderer_param param, double *value);

/** Inclusive bounds of a parameter. @return FS_OK, FS_ERR_INVALID_ARGUMENT. Since 0.2. */
FS_API fs_status fs_renderer_param_bounds(fs_renderer_param param, double *min, double *max);

/**
 * The value a new renderer gives @p param, into @p value (untouched on
 * failure). @return FS_OK or FS_ERR_INVALID_ARGUMENT. Thread-safe. Since 0.3.
 */
FS_API fs_status fs_renderer_param_default(fs_renderer_param param, double *value);

/**
 * Swaps @p id onto one target face, in place.
 * @param image  host image of any fs_pixel_format (non-RGB formats are
 *               converted around the swap; only changed pixels are written back).
 * @param target the face's landmarks in @p image (fs_fitter_run / fs_fitter_track).
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT, FS_ERR_UNSUPPORTED (device memory,
 *         unknown format), FS_ERR_NO_FACE (the face lies outside the image,
 *         is smaller than FS_RENDERER_MIN_FACE or turned beyond
 *         FS_RENDERER_MAX_YAW: the detail says which; @p image is untouched),
 *         FS_ERR_OUT_OF_RANGE, FS_ERR_OUT_OF_MEMORY.
 *         Detail in fs_renderer_last_error().
 * Since 0.2.
 */
FS_API fs_status fs_renderer_swap_face(fs_renderer *r, const fs_identity *id, fs_image *image,
                                       const fs_face_landmarks *target);

/**
 * Detects the faces of @p image, fits them and swaps @p id onto the chosen ones.
 * @param faces FS_SWAP_FACES_ALL, FS_SWAP_FACES_LARGEST, or 0.. for the
 *              detector's n-th face (best score first).
 * @param[out] swapped faces swapped (may be NULL). Faces the fitter rejects,
 *              smaller than FS_RENDERER_MIN_FACE or turned beyond
 *              FS_RENDERER_MAX_YAW are skipped, not an error, when others
 *              remain; fs_renderer_swap_image_report() says which and why.
 * @return FS_OK, FS_ERR_NO_FACE (no face found or none could be swapped),
 *         FS_ERR_OUT_OF_RANGE (index >= faces found), and the statuses of
 *         fs_renderer_swap_face() and fs_detector_create().
 * Since 0.2.
 */
FS_API fs_status fs_renderer_swap_image(fs_renderer *r, const fs_identity *id, fs_image *image,
                                        int faces, int *swapped);

/**
 * fs_renderer_swap_image() that also says what it did with each face found.
 * @param faces    as fs_renderer_swap_image().
 * @param[out] reports  one entry per face found, in detector order (best
 *                 score first, so reports[i] is face index i); at most
 *                 @p capacity are written. Caller-owned.
 * @param capacity entries @p reports holds, >= 1 (FS_SWAP_MAX_FACES always
 *                 suffices); faces beyond it are still swapped, not reported.
 * @param[out] n_faces  faces found (may exceed @p capacity), 0 when detection
 *                 did not run.
 * Unlike most out-parameters, @p reports and @p n_faces are also written
 * when the call returns FS_ERR_NO_FACE (every face skipped: the reports say
 * why; @p image is then untouched) or FS_ERR_OUT_OF_RANGE (every face
 * NOT_CHOSEN). After another error, faces swapped before it stay swapped and
 * are reported so; the failed face is FS_SWAP_FAILED and the faces not tried
 * FS_SWAP_FAILED with FS_ERR_CANCELLED.
 * @return FS_OK (at least one face swapped), FS_ERR_INVALID_ARGUMENT (NULL
 *         @p r, @p id, @p image, @p reports or @p n_faces; @p capacity < 1),
 *         and the statuses of fs_renderer_swap_image().
 * Since 0.2.
 */
FS_API fs_status fs_renderer_swap_image_report(fs_renderer *r, const fs_identity *id,
                                               fs_image *image, int faces,
                                               fs_swap_face_report *reports, int capacity,
                                               int *n_faces);

/** Intermediate images of one swapped face (fs_renderer_debug_image()). */
typedef enum fs_renderer_debug_kind {
    /** FS_PIXEL_RGB8: the rendered face, colour corrected, before blending
     *  (the target's pixels where the mesh does not cover). */
    FS_DEBUG_RENDER = 0,
    /** FS_PIXEL_GRAY8: the blend weight, 0 (target kept) .. 255 (render
     *  taken); for FS_BLEND_POISSON the hard mask, 0 or 255. */
    FS_DEBUG_MASK = 1,
    /** FS_PIXEL_GRAY8: 255 where the face mesh covers the pixel, else 0. */
    FS_DEBUG_COVERAGE = 2
} fs_renderer_debug_kind;

/**
 * An intermediate image of a face swapped by the last fs_renderer_swap_face(),
 * fs_renderer_swap_image() or fs_renderer_swap_image_report() call, kept
 * when FS_RENDERER_KEEP_DEBUG is 1 (what `faceswap swap --debug` writes).
 * Every kind of one face covers the same window of the target image: the
 * face with a margin, clipped to the image.
 * @param face   0.. over the faces the call swapped, in detector order: the
 *               k-th is the face of the k-th report with FS_SWAP_SWAPPED of
 *               fs_renderer_swap_image_report() (faces skipped or failed keep
 *               nothing); 0 only for fs_renderer_swap_face().
 * @param[out] out a borrowed view (host memory) owned by the renderer, valid
 *               until its next swap call, a setting of FS_RENDERER_KEEP_DEBUG
 *               to 0 (which releases them) or fs_renderer_destroy(); must
 *               not be written or freed.
 *               Untouched on failure.
 * @param[out] x0, y0 the window's top-left corner in the target image (may be NULL).
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT (NULL @p r or @p out, unknown kind),
 *         FS_ERR_OUT_OF_RANGE (@p face < 0 or >= the number of faces kept:
 *         none when FS_RENDERER_KEEP_DEBUG is 0 or the last call swapped none),
 *         so a caller can iterate faces until FS_ERR_OUT_OF_RANGE.
 * Since 0.2.
 */
FS_API fs_status fs_renderer_debug_image(const fs_renderer *r, int face,
                                         fs_renderer_debug_kind kind, fs_image *out, int *x0,
                                         int *y0);

/** Detail of the renderer's last error, "" when none. Owned by the renderer. Since 0.2. */
FS_API const char *fs_renderer_last_error(const fs_renderer *r);

#ifdef __cplusplus
}
#endif

#endif /* FS_RENDERER_H */
