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
    FS_COLOR_MEANSTD = 1, /**< CIELAB mean/deviation matched to the target's face (default) */
    /** + the target's low-frequency shading (gain limited to 1/1.5..1.5), sharpness and
     *  noise. Follows the target's light more closely, but also carries the target's
     *  dark make-up and shadows into the swapped skin. */
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
    FS_RENDERER_COLOR = 0,           /**< fs_renderer_color, default FS_COLOR_MEANSTD */
    FS_RENDERER_BLEND = 1,           /**< fs_renderer_blend, default FS_BLEND_MULTIBAND */
    FS_RENDERER_SUBDIVISION = 2,     /**< mesh subdivision levels 0..4, default 0 */
    FS_RENDERER_SWAP_EYES_MOUTH = 3, /**< 1 also swaps the eye openings and mouth interior, default 0 */
    FS_RENDERER_MASK_ERODE = 4,      /**< mask erosion, fraction of the face size, 0..0.25, default 0.02 */
    FS_RENDERER_MASK_FEATHER = 5     /**< feather width, fraction of the face size, 0..0.25, default 0.05 */
} fs_renderer_param;

/** fs_renderer_swap_image() face choice: every face found. */
#define FS_SWAP_FACES_ALL (-1)
/** fs_renderer_swap_image() face choice: the largest face found. */
#define FS_SWAP_FACES_LARGEST (-2)

/**
 * Creates a renderer: loads the canonical face (face_geometry.binarypb) from
 * the context's model folder. The detector and fitter that
 * fs_renderer_swap_image() needs are loaded on its first call.
 * @param[out] out untouched on failure.
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT, FS_ERR_NOT_FOUND, FS_ERR_CHECKSUM,
 *         FS_ERR_CORRUPT, FS_ERR_MODEL, FS_ERR_OUT_OF_MEMORY. Detail in
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
 * Swaps @p id onto one target face, in place.
 * @param image  host image of any fs_pixel_format (non-RGB formats are
 *               converted around the swap; only changed pixels are written back).
 * @param target the face's landmarks in @p image (fs_fitter_run / fs_fitter_track).
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT, FS_ERR_UNSUPPORTED (device memory,
 *         unknown format), FS_ERR_NO_FACE (the face lies outside the image or
 *         is under 8 px), FS_ERR_OUT_OF_RANGE, FS_ERR_OUT_OF_MEMORY.
 *         Detail in fs_renderer_last_error().
 * Since 0.2.
 */
FS_API fs_status fs_renderer_swap_face(fs_renderer *r, const fs_identity *id, fs_image *image,
                                       const fs_face_landmarks *target);

/**
 * Detects the faces of @p image, fits them and swaps @p id onto the chosen ones.
 * @param faces FS_SWAP_FACES_ALL, FS_SWAP_FACES_LARGEST, or 0.. for the
 *              detector's n-th face (best score first).
 * @param[out] swapped faces swapped (may be NULL). Faces the fitter rejects or
 *              that are too small are skipped, not an error, when others remain.
 * @return FS_OK, FS_ERR_NO_FACE (no face found or none could be swapped),
 *         FS_ERR_OUT_OF_RANGE (index >= faces found), and the statuses of
 *         fs_renderer_swap_face() and fs_detector_create().
 * Since 0.2.
 */
FS_API fs_status fs_renderer_swap_image(fs_renderer *r, const fs_identity *id, fs_image *image,
                                        int faces, int *swapped);

/** Detail of the renderer's last error, "" when none. Owned by the renderer. Since 0.2. */
FS_API const char *fs_renderer_last_error(const fs_renderer *r);

#ifdef __cplusplus
}
#endif

#endif /* FS_RENDERER_H */
