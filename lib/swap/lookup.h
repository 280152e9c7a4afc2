/*
 * The swap's per-pixel texture stage on a face window: what the rasterised
 * mesh shows at each pixel (the identity's atlas, or the target's own eye
 * and mouth openings), whether the pixel is skin to swap, and, once the
 * colour stages have run, the openings mixed back in and the render turned
 * to 8 bits. The swap reaches both through the swap texture family (lookup,
 * finish_u8: fs_swap_texture_ops); the functions below are its reference.
 */
#ifndef FS_SWAP_LOOKUP_H
#define FS_SWAP_LOOKUP_H

#include <stddef.h>
#include <stdint.h>

#include "exec.h"
#include "internal.h"
#include "identity/atlas.h"

/* Attributes the rasteriser interpolates per pixel: atlas u, v; where the
 * pixel lies on the target's own mesh, x, y (image px); the shape weight
 * (0 on the silhouette, 1 well inside); where the atlas texel came from in
 * the source photo, x, y; three per-vertex values of the caller's (the
 * target mesh's normal when its light is measured, the target's shading
 * when the render puts it on). */
#define FS_SWAP_ATTR 10
#define FS_SWAP_ATTR_EXTRA 7

/* What the lookup reads. All pointers are borrowed. */
typedef struct fs_swap_lookup {
    const fs_atlas *atlas;      /* the identity's atlas and its skin statistics */
    const fs_atlas_mesh *mesh;  /* UVs and the eye and mouth rings */
    const float *attr;          /* w*h*FS_SWAP_ATTR, from the rasteriser */
    const uint8_t *covered;     /* w*h: non-zero where the mesh covers the pixel */
    const uint8_t *window;      /* the target's window, RGB8: openings are sampled from */
    ptrdiff_t stride;           /* where they lie on the target's mesh (which the shape
                                   transfer may have moved off the pixel), clamped to it */
    int x0, y0, w, h;           /* the window: its origin in frame px (the attributes'
                                   frame), its size */
    int eyes;                   /* fs_swap_eyes: which openings stay the target's */
    float forehead_v;           /* atlas v above which the target keeps its forehead
                                   (-1 swaps all of it) */
    float brow_v;               /* atlas v of the brows' upper edge */
    int skin_guard;             /* 1: keep hair and grazing-angle texels out (see lookup.c) */
    float target_iris[2][3];    /* fs_swap_iris_discs of the target's and the source's */
    float source_iris[2][3];    /* landmarks: gaze mode keeps the target's irises; the
                                   target's also tell an eye opening that shows no open
                                   eye, which no mode keeps (lookup.c, EYE_BLIND_P10) */
    int relight;                /* 1: the atlas colour is multiplied by the extra
                                   attributes (the target's shading, sRGB-encoded) */
    const float (*target_points)[3]; /* the target's 478 landmarks, frame px: its lid
                                   contours (grown) bound the eye openings of target mode,
                                   its inner lips tell a closed mouth (fs_swap_mouth_open),
                                   which keeps no opening and shows the atlas' lips; NULL:
                                   the atlas rings alone, the mouth taken as open */
    float eye_reach;            /* with eye_dist: how far out of the grown eye openings
                                   the distance is wanted, px */
} fs_swap_lookup;

/* What it writes: w*h (times 3 for colours, 0..1) each, and counts. */
typedef struct fs_swap_lookup_out {
    float *render;  /* atlas colour where there is one, else the target */
    float *target;  /* the target's window */
    float *warp;    /* the target's own openings where the render shows them, else the target */
    uint8_t *skin;  /* 1: swap this pixel (openings included: their content is warp) */
    uint8_t *open;  /* 1: an opening the target keeps */
    long covered;   /* pixels the mesh covers */
    long textured;  /* of those, pixels with atlas colour */
    long skin_n;    /* skin pixels outside the openings */
    float *eye_dist; /* NULL, or: where target mode keeps the target's eyes, each
                        covered pixel's distance (px) out of the grown openings'
                        true edge (0 inside, INFINITY beyond eye_reach), so that
                        their feather follows the contour, not the pixel grid */
    uint8_t *closed_eye; /* NULL, or (with eye_dist): 1 + the eye whose kept opening
                            the target shows closed (lid and lashes, no white), at
                            its pixels and those of its feather; else 0 */
} fs_swap_lookup_out;

/* The two irises of a face's 478 landmarks (468 and 473 the centres, the
 * next four each on the rim): centre x, y and radius, image px. */
void fs_swap_iris_discs(const float (*points)[3], float out[2][3]);

/* How open the mouth of a face's 478 landmarks is: the widest of the inner
 * lips' gaps at the centre and halfway to each corner (13-14, 82-87,
 * 312-317) over the mouth's inner width (78-308); 0 when that width is 0. */
double fs_swap_mouth_open(const float (*points)[3]);
/* Below this the mouth counts as closed: no opening is kept between the
 * lips, whose meeting line the render then draws from the atlas' lips. */
#define FS_SWAP_MOUTH_CLOSED 0.1

/* The lookup: FS_OK, or FS_ERR_INVALID_ARGUMENT for NULL pointers or a
 * bad window. Reads nothing of the frame outside the window: the target's
 * mesh lies inside it (the window is its bounding box plus a margin,
 * clipped to the frame), so clamping to the window is clamping to the
 * frame. */
fs_status fs_swap_lookup_ref(const fs_exec *ex, const fs_swap_lookup *d, fs_swap_lookup_out *out);
/* The fast entry: the same, with the hair guards' CIELAB from
 * fs_colour_srgb_to_lab_fast (within 2e-4 in Lab: a guard's decision
 * changes only for a pixel that close to its bound). */
fs_status fs_swap_lookup_fast(const fs_exec *ex, const fs_swap_lookup *d, fs_swap_lookup_out *out);

/*
 * The target-side skin of fs_swap_target_prepare, from a raster of the
 * target's own mesh (attr, covered, as the lookup's): covered pixels below
 * @p forehead_v's cut, less the target's hair along the outline when
 * @p skin_guard; @p open marks the openings that the render keeps the
 * target's for @p eyes (fs_swap_eyes; its landmarks @p points as the
 * lookup's target_points; the target's irises @p iris, which also tell
 * an eye opening that shows no eye, as the lookup's target_iris). The
 * window (@p stride) lies at frame px @p x0, @p y0. The hair guard's
 * colours convert as fs_swap_texture_ops.fast_lab says (@p fast_lab). Writes @p target (w*h*3, the window as 0..1 floats), @p skin
 * and @p open (w*h, 0/1); returns the count of skin pixels not open, or
 * -1 when out of memory.
 */
long fs_swap_target_skin(const fs_atlas_mesh *mesh, const float *attr, const uint8_t *covered,
                         const uint8_t *window, ptrdiff_t stride, int x0, int y0, int w, int h, int eyes,
                         const float (*points)[3], const float (*iris)[3], float forehead_v,
                         int skin_guard, int fast_lab, float *target, uint8_t *skin, uint8_t *open);

/*
 * The last per-pixel step before the blend. render = warp + alpha_in *
 * (render - warp) everywhere (alpha_in: the atlas' share, 1 away from the
 * openings); then out (RGB8, stride 3w) is the render rounded where eroded
 * is set (NaN as 0, clamped to [0, 1]) and the image's own bytes elsewhere,
 * so that the blends see no uncorrected render next to the mask.
 */
fs_status fs_swap_finish_u8_ref(const fs_exec *ex, float *render, const float *warp,
                                const float *alpha_in, const uint8_t *eroded,
                                const uint8_t *image, ptrdiff_t image_stride, int w, int h,
                                uint8_t *out);

/* The swap texture family of the engine: the two entries above, so that a
 * backend can take the texture stage whole. */
typedef struct fs_swap_texture_ops {
    fs_status (*lookup)(const fs_exec *ex, const fs_swap_lookup *d, fs_swap_lookup_out *out);
    fs_status (*finish_u8)(const fs_exec *ex, float *render, const float *warp,
                           const float *alpha_in, const uint8_t *eroded, const uint8_t *image,
                           ptrdiff_t image_stride, int w, int h, uint8_t *out);
    int fast_lab; /* 1: fs_swap_target_skin's hair guard converts to CIELAB from
                     tables, as fs_swap_lookup_fast's does; 0: exactly, as the
                     reference lookup's */
} fs_swap_texture_ops;

void fs_swap_texture_ops_init_reference(fs_swap_texture_ops *ops);
/* Overrides the lookup with fs_swap_lookup_fast and sets fast_lab. */
void fs_swap_texture_ops_init_fast(fs_swap_texture_ops *ops);

#endif /* FS_SWAP_LOOKUP_H */
