/*
 * The swap pipeline on one target face (issue 3): the identity's atlas is
 * rendered onto the target's mesh in a window around the face, colour
 * corrected, masked (eyes and mouth interior stay the target's by default),
 * and blended into the target. Internal; include/faceswap/renderer.h wraps it.
 *
 * Texture convention: the atlas (lib/identity/atlas.h) stores v down
 * (v = 0 forehead row), and so does the lookup here (fs_atlas_sample, the
 * same convention as lib/render/texture.h with flip_v = 0).
 * tests/test_swap.c checks that the rendered face is upright.
 */
#ifndef FS_SWAP_SWAP_H
#define FS_SWAP_SWAP_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "compose/blend.h"
#include "identity/atlas.h"
#include "fit/fit_internal.h"
#include "identity/blob.h"
#include "render/subdiv.h"
#include "scratch.h"

struct fs_engine;

/* Whose eyes and mouth interior show (FS_RENDERER_SWAP_EYES_MOUTH). */
typedef enum fs_swap_eyes {
    FS_SWAP_EYES_TARGET = 0, /* the default: the target's eye openings (grown over
                                the lashes) and mouth interior (none when closed) */
    FS_SWAP_EYES_SOURCE = 1, /* the source's: the atlas everywhere */
    FS_SWAP_EYES_GAZE = 2    /* the target's irises and mouth interior (none when
                              * closed); the rest of the eye openings (whites,
                              * corners, lash line) the source's */
} fs_swap_eyes;

typedef struct fs_swap_params {
    int colour;          /* fs_renderer_color */
    int blend;           /* fs_renderer_blend */
    int subdivision;     /* 0..4 midpoint subdivision levels of the target mesh */
    int eyes;            /* fs_swap_eyes */
    double erode;        /* mask erosion, fraction of the face size (0..0.25) */
    double feather;      /* feather width, fraction of the face size (0..0.25) */
    int swap_forehead;   /* 1 also replaces the forehead above the eyebrows. Default 0:
                          * the atlas' forehead often holds the source's fringe of hair
                          * (lib/identity does not tell hair from skin yet), which reads
                          * as a dark band on the target. Not public yet. */
    double hole_feather; /* feather of the eye and mouth openings, fraction of the face
                          * size: much narrower than the outer border's, since the
                          * eyelids and lips right around them carry the identity */
    double brow_lift;    /* atlas v above the eyebrows' upper edge where the forehead cut
                          * lies, so that the outer feather falls on the forehead, not
                          * on the eyebrows */
    int skin_guard;      /* 1 keeps out of the mask what is not well-seen skin: atlas
                          * texels that look like the source's hair (darker than its
                          * skin, or off its hue) above the eyebrows and along the
                          * outline, texels the source showed only at a grazing angle
                          * along the outline, and the target's own hair there */
    int match_detail;    /* 1 matches the render's sharpness and noise to the target's
                          * skin (blur or deterministic grain), so that a sharp source
                          * does not sit on a soft target */
    double shape;        /* 0..1: how far the target's mesh takes the source's face
                          * shape (0: the target's own mesh), times
                          * fs_swap_shape_turn_weight of the turn between the two faces */
    int relight;         /* 1 puts the target's light (fs_swap_target.light) on an
                          * atlas that holds albedo (fs_atlas.light fitted) */
    double light_refit;  /* 0..1: with the target's light put on, how much of the
                          * low-order ratio between the target's skin and the render
                          * (the light's terms, fitted per vertex) is taken out of the
                          * render as well: what the source's light fit left in its
                          * albedo. 0: none */
} fs_swap_params;

/* The default fs_swap_params.light_refit (swap.c's refit_light). */
#define FS_SWAP_LIGHT_REFIT 0.4

/* With the skin guard, the eroded skin mask is opened by this much of the
 * face size, from 2 px (swap.c's skin_open: why). */
#define FS_SWAP_SKIN_OPEN 0.03

/* Defaults: CIELAB mean/deviation colour and the target's face-scale
 * shading (FULL; at a cheek's scale it also carried the target's make-up
 * and shadows into the skin, at 0.15 of the face it does not), multi-band blend, no
 * subdivision, eyes and mouth interior and the forehead above the brows
 * kept (the target's), erode 0.01, feather 0.05. */
void fs_swap_params_default(fs_swap_params *p);

/* The Poisson blend's options in the swap for a face of @p face_size px:
 * the two-level solve (lib/compose/blend.h: two V-cycles' worth on the
 * half-resolution grid, then a 4-pixel band along the mask's edge on the
 * full one) and a rim of 4% of the face size, 1 to 8 px (a wide rim pulls
 * a small face's colour back to the target: 8 px on a 35 px face cost a
 * third of its identity gain). On the face windows of faceapi_sample1..3
 * the result is 0.8-0.9 levels (mean; 10 at most) from the converged
 * solve, where two V-cycles of the full solve were 2.1-3.0 levels (up to
 * 40) from it, in about a third of their time: benchmarks/bench_blend.py. */
fs_poisson_opts fs_swap_poisson_opts(double face_size);

/*
 * The share of the shape transfer kept when the alignment turns the
 * source's face by @p turn degrees (the angle between the two faces' depth
 * axes) onto the target's: 1 up to 25 degrees, 0 from 70, smooth between.
 * The further the turn, the more of a vertex's move in the image comes from
 * the source's depth, FaceMesh's least certain coordinate, and from the
 * side the turn hides: on faces turned 30-60 degrees from the source the
 * moved nose, lids and lips made the detector and fitter read the result
 * as turned less (benchmarks/turned_drift, doc/swap.md).
 */
double fs_swap_shape_turn_weight(double turn);

/* The mesh tables the renderer needs, built once per renderer. */
typedef struct fs_swap_mesh {
    fs_atlas_mesh atlas; /* UVs (v down), front-wound triangles, eye/mouth rings */
    float brow_v;        /* atlas v of the eyebrows' upper edge (the forehead cut) */
    /* Shape transfer: the canonical face's Procrustes basis aligns the source's
     * landmarks to the target's; shape_weight (0 on the silhouette, 1 well
     * inside it) keeps the outline the target's, since the pixels just
     * outside a moved outline would be the target's old face. */
    int n_basis;
    uint16_t basis_id[FS_MESH_LANDMARKS];
    float basis_weight[FS_MESH_LANDMARKS];
    float shape_weight[FS_MESH_LANDMARKS];
    int32_t tri[FS_CANON_MAX_TRIANGLES][3]; /* atlas.triangles as the rasteriser takes them */
} fs_swap_mesh;

/* Reads face_geometry.binarypb from the context's model folder. */
fs_status fs_swap_mesh_load(fs_context *ctx, fs_swap_mesh *mesh, fs_error_buf *err);

/* What one swap did (for tests and --debug). The buffers are malloc'd only
 * when requested (keep_debug) and released with fs_swap_info_free. */
typedef struct fs_swap_info {
    int x0, y0, w, h;      /* the window, image px (clipped to the image) */
    int clipped;           /* 1 when the image border cut the window */
    double face_size;      /* px: the larger side of the mesh's bounding box */
    long covered;          /* window pixels the mesh covers */
    long textured;         /* covered pixels that got atlas colour (coverage > 0) */
    long mask_pixels;      /* pixels of the skin mask before erosion */
    int keep_debug;        /* in: 1 keeps the images below */
    uint8_t *render_rgb;   /* w*h*3: the colour-corrected render (target where uncovered) */
    uint8_t *mesh_mask;    /* w*h: 255 where the mesh covers */
    float *alpha;          /* w*h: the blend weight (Poisson: its hard mask, 0/1) */
} fs_swap_info;

void fs_swap_info_free(fs_swap_info *info);

/*
 * What the swap of one face needs from the target frame alone: computed
 * once per template frame (fs_swap_target_prepare) and used for every user
 * (fs_swap_render). Plain data, no pointers, so that the template analysis
 * can store it per frame and smooth its statistics over time.
 *
 * The colour statistics are the CIELAB (D65) mean and population deviation
 * of the target's own face skin, over a grid of about 4000 of the window's
 * pixels (every step-th each way; all of them when that leaves fewer than
 * 64 of skin): the pixels its own mesh covers, outside
 * the eye and mouth openings, below the forehead cut, without the target's
 * hair along the outline (skin_guard), eroded like the swap's mask. Each is
 * a smooth function of the frame (a sum over a mask that moves with the
 * face), so a low-pass filter over time (per component) is meaningful;
 * lab_sd must stay > 0. They check that the face shows skin and are kept in
 * the template file; the colour match itself does not use them: it
 * measures both sides per call over the swap's own mask (the render's
 * pixels that the source's hair guard and coverage leave in), since over
 * two different sets a face swapped onto itself came back 1.5 L* darker
 * and 15% harder in contrast.
 */
typedef struct fs_swap_target {
    int32_t x0, y0, w, h;            /* the window, frame px, clipped to the frame */
    int32_t frame_w, frame_h;        /* the frame the window was clipped to */
    int32_t clipped;                 /* 1 when the frame border cut the window */
    int32_t skin_pixels;             /* pixels behind the statistics (> 0) */
    double face_size;                /* px: the larger side of the mesh's bounding box */
    double lab_mean[3];              /* L* 0..100, a*, b* */
    double lab_sd[3];
    fs_shading light;                /* the face's light (lib/light/shading.h); flat: none measured */
    float iris[2][3];                /* fs_swap_iris_discs of points */
    float points[FS_LANDMARKS][3];   /* the target's landmarks, frame px */
} fs_swap_target;

/*
 * The functions below that run stages take the engine @p eng (lib/engine.h)
 * and the call's execution context @p ex (lib/exec.h: its pool, and the
 * error buffer that receives the detail of a failure; NULL runs serially
 * with no detail). Threads that swap at once each pass their own @p ex.
 */

/*
 * Fills @p out for the face with landmarks @p points (478 x 3, frame px)
 * of @p frame (host RGB8; only the window is read). Allocates its own
 * temporaries. FS_ERR_INVALID_ARGUMENT, FS_ERR_UNSUPPORTED (not host RGB8),
 * FS_ERR_OUT_OF_RANGE (params), FS_ERR_NO_FACE (too small, outside the
 * frame, no skin), FS_ERR_OUT_OF_MEMORY; @p out untouched on failure.
 */
fs_status fs_swap_target_prepare(const struct fs_engine *eng, const fs_exec *ex,
                                 const fs_swap_mesh *mesh, const fs_swap_params *params,
                                 const fs_image *frame, const float (*points)[3],
                                 fs_swap_target *out);

/*
 * fs_swap_target_prepare in two steps, for the video path, whose template
 * holds the statistics smoothed over time: the geometry alone from the
 * points and the frame size (statistics zero, skin_pixels 0), and the
 * statistics measured on the window's pixels @p win (RGB8, @p stride; t's
 * window of the frame). Statuses as fs_swap_target_prepare.
 */
fs_status fs_swap_target_geometry(const fs_swap_mesh *mesh, const fs_swap_params *params,
                                  int frame_w, int frame_h, const float (*points)[3],
                                  fs_swap_target *out, fs_error_buf *err);
fs_status fs_swap_target_measure(const struct fs_engine *eng, const fs_exec *ex,
                                 const fs_swap_mesh *mesh, const fs_swap_params *params,
                                 const uint8_t *win, ptrdiff_t stride, fs_swap_target *t);

/*
 * The light the renderer puts on an atlas that holds albedo
 * (id->atlas.light fitted), per mesh vertex and linear channel, as the
 * factor on an sRGB value ((linear shading)^(1/2.2), floored at
 * FS_SHADE_FLOOR): the target's light (t->light, with params->relight)
 * falling on the source's shape in the target's pose, blended per vertex
 * by fs_swap_light_share towards the source's own light as its photo
 * showed it; the source's own alone without a target light; 1 everywhere
 * for an atlas that keeps the photo's light. Returns 1, or 0 out of memory
 * (@p shade undefined).
 */
int fs_swap_vertex_light(const fs_swap_mesh *mesh, const fs_swap_params *params,
                         const fs_identity_data *id, const fs_swap_target *t,
                         float shade[FS_MESH_LANDMARKS][3]);

/*
 * Per vertex, the share of the target's light in fs_swap_vertex_light:
 * fs_swap_light_seen_weight of how squarely the source's photo saw the
 * vertex, or its mirror image when that was seen better (the atlas fills
 * what the photo saw badly from the mirrored side), from the normals of the
 * source's landmarks @p source.
 */
void fs_swap_light_share(const fs_swap_mesh *mesh, const float (*source)[3],
                         float share[FS_MESH_LANDMARKS]);

/*
 * The share of the target's light on skin the source's photo saw with
 * facing @p facing (the cos of the angle between its normal and the
 * camera's axis): 0 up to 0.3 (73 degrees), 1 from 0.7 (46 degrees),
 * smooth between; 0 for NaN. Where the photo saw the skin at a grazing
 * angle its albedo is the photo divided by a light that the fit, over the
 * skin the photo faced, extrapolates there; a target turned towards those
 * parts shows them large and square-on, and the target's light on that
 * albedo made mis-lit bands that the fitter took for the nose's side: on
 * the one profile face of benchmarks/turned_drift (yaw 55) the landmarks
 * found again drifted 6.83% of the face diagonal with the target's light
 * everywhere, 3.98% with this share (doc/light-notes.md).
 */
double fs_swap_light_seen_weight(double facing);

/*
 * Memory that fs_swap_render reuses across calls: grown to the largest
 * window seen, so that a steady stream of same-size (or smaller) windows
 * allocates nothing (except with subdivision > 0, whose mesh is built per
 * call). Zero-initialise it ({0}); one per thread; fs_swap_workspace_free
 * releases it (accepts NULL).
 */
typedef struct fs_swap_workspace {
    fs_scratch scratch; /* every temporary of the render and its stages */
} fs_swap_workspace;

void fs_swap_workspace_free(fs_swap_workspace *ws);

/*
 * Swaps @p id onto the target @p t: render, colour transfer (to t's
 * statistics), sharpness match, blend, on the window only: @p win points
 * at the window's top-left pixel (RGB8, @p stride bytes a row), t->w x
 * t->h pixels, read and written in place; nothing outside it is touched.
 * Pixels where the blend weight is zero are left bit-identical. @p ws may
 * be NULL (then every temporary is malloc'd). @p info may be NULL; its
 * x0, y0 are t's. FS_ERR_INVALID_ARGUMENT (NULL, a t that is not
 * consistent), FS_ERR_OUT_OF_RANGE (params), FS_ERR_NO_FACE (the render
 * covers no skin), FS_ERR_OUT_OF_MEMORY, or a compose stage's status; on
 * failure the window may have been partly written only by a failing blend.
 */
fs_status fs_swap_render(const struct fs_engine *eng, const fs_exec *ex, fs_swap_workspace *ws,
                         const fs_swap_mesh *mesh, const fs_swap_params *params,
                         const fs_identity_data *id, const fs_swap_target *t, uint8_t *win,
                         ptrdiff_t stride, fs_swap_info *info);

/*
 * fs_swap_target_prepare + fs_swap_render on the face with landmarks
 * @p points (478 x 3, image px) of @p image (host RGB8, modified in place).
 * @p ws may be NULL. Pixels where the blend weight is zero (outside the
 * mesh's silhouette eroded-then-feathered mask) are left bit-identical.
 * FS_ERR_INVALID_ARGUMENT, FS_ERR_UNSUPPORTED (not host RGB8),
 * FS_ERR_NO_FACE (the mesh lies outside the image or covers nothing),
 * FS_ERR_OUT_OF_MEMORY, or a compose stage's status. info may be NULL.
 */
fs_status fs_swap_face(const struct fs_engine *eng, const fs_exec *ex, fs_swap_workspace *ws,
                       const fs_swap_mesh *mesh, const fs_swap_params *params,
                       const fs_identity_data *id, fs_image *image, const float (*points)[3],
                       fs_swap_info *info);
fs_status fs_swap_face_rgb8(const struct fs_engine *eng, const fs_exec *ex,
                            const fs_swap_mesh *mesh, const fs_swap_params *params,
                            const fs_identity_data *id, fs_image *image,
                            const float (*points)[3], fs_swap_info *info);

/*
 * The face to swap from or onto among @p n detections @p faces: index
 * @p want, or for want < 0 the largest (by box area) that the fitter
 * accepts, so that a large low-score detection that is no face (a fist, a
 * pattern) does not hide the real one. FS_OK with *chosen and @p lm
 * filled; FS_ERR_NO_FACE when the fitter rejects every candidate (or n is
 * 0); FS_ERR_OUT_OF_RANGE for want >= n; or the fitter's error.
 */
fs_status fs_swap_fit_face(fs_fitter *fit, const fs_image *image, const fs_face_box *faces, int n,
                           int want, fs_face_landmarks *lm, int *chosen);

/* The data inside a public fs_identity (lib/swap/api.c), for tests and tools. */
const fs_identity_data *fs_identity_internal_data(const fs_identity *id);

/* The renderer's mesh and parameters, for tests and tools. */
const fs_swap_mesh *fs_renderer_internal_mesh(const fs_renderer *r);
const fs_swap_params *fs_renderer_internal_params(const fs_renderer *r);
/* FS_RENDERER_MIN_FACE (px) and FS_RENDERER_MAX_YAW (degrees), and the renderer's context. */
void fs_renderer_internal_limits(const fs_renderer *r, double *min_face, double *max_yaw);
fs_context *fs_renderer_internal_context(const fs_renderer *r);

#endif /* FS_SWAP_SWAP_H */
