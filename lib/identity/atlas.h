/*
 * Face texture atlas: the photo of a face unwrapped into the UV layout of
 * MediaPipe's canonical face mesh, with a per-texel confidence weight, a
 * mirror fill for what the photo hides, and the face's colour statistics.
 * Internal (issue 3 groundwork); the public fs_identity is built on this.
 */
#ifndef FS_IDENTITY_ATLAS_H
#define FS_IDENTITY_ATLAS_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "fit/fit_internal.h"
#include "light/shading.h"
#include "identity/skin.h"

#define FS_ATLAS_MIN_SIZE 16
#define FS_ATLAS_MAX_SIZE 2048

/* Vertex rings (closed polygons) of the regions that are not skin: the two
 * eye openings and the mouth interior. Indices are MediaPipe's. */
#define FS_ATLAS_REGIONS 3
#define FS_ATLAS_RING_MAX 24

/* The mesh as the atlas needs it, derived once from the canonical face. */
typedef struct fs_atlas_mesh {
    float uv[FS_MESH_LANDMARKS][2]; /* u right, v down (0 = forehead), 0..1 */
    int n_triangles;
    uint16_t triangles[FS_CANON_MAX_TRIANGLES][3]; /* wound so that front faces have
                                                      landmark-space normal.z < 0 */
    uint16_t mirror[FS_MESH_LANDMARKS]; /* vertex nearest to the x-reflection of each vertex */
    float mirror_error;                 /* largest reflection-to-nearest distance, cm */
    float mirror_u_error;               /* largest |u(mirror(i)) - (1 - u(i))|: how far u -> 1-u is off */
    int ring_len[FS_ATLAS_REGIONS];
    uint16_t ring[FS_ATLAS_REGIONS][FS_ATLAS_RING_MAX];
    float ring_box[FS_ATLAS_REGIONS][4]; /* u0, v0, u1, v1: most texels are rejected by it */
} fs_atlas_mesh;

/*
 * Fills @p mesh from the parsed canonical face: UVs turned to v-down if the
 * file stores them v-up, triangles rewound to one orientation, the mirror
 * vertex map, and the eye and mouth rings. FS_ERR_MODEL when the face has no
 * usable symmetry or triangles.
 */
fs_status fs_atlas_mesh_init(const fs_canonical_face *canon, fs_atlas_mesh *mesh,
                             fs_error_buf *err);

/* fs_atlas_params.direct_full's default: the facing from which a texel's own
 * colour is taken whole, and from which the light fits take a place (the
 * source's at capture, the target's in lib/swap/swap.c). */
#define FS_ATLAS_DIRECT_FULL 0.35f

typedef struct fs_atlas_params {
    int size;            /* texels per side, FS_ATLAS_MIN_SIZE..FS_ATLAS_MAX_SIZE */
    float direct_full;   /* a texel whose own weight is at least this ignores its mirror
                            (FS_ATLAS_DIRECT_FULL) */
    float stats_min;     /* texels with an own weight below this stay out of the colour stats (0.3) */
    int hide_side;       /* test hook: 1 treats vertices with u > 0.5 as unseen, -1 those with u < 0.5 */
    int plain;           /* 1: the plain unwrap that benchmarks compare against (every texel takes
                            the photo's colour at its own point, seen or not: no facing weight,
                            no mirror fill; statistics over all texels). 0 (default) otherwise */
    int delight;         /* 1 (default): the source's light divided out (lib/identity/light.h,
                            fs_atlas_light_fit): the atlas holds albedo, and the renderer puts
                            the target's light on it. 0: the photo's colours as they are */
    float highlight_margin; /* > 0: specular highlights taken out of the albedo beyond this
                            ratio to the local skin (fs_light_highlights), and the target's put
                            back by the renderer; FS_ATLAS_HIGHLIGHT_MARGIN by default. 0: kept */
} fs_atlas_params;

/* The default fs_atlas_params.highlight_margin. At 1.8 the likeness holds
 * (quality benchmark: identity +0.225, min +0.156, against +0.225, min
 * +0.158 with none taken out) and the light leak falls 0.667 -> 0.653; at
 * 1.5-1.6 the pull takes a turned or bright face's own lighter skin too
 * (min +0.126-0.147: doc/light-notes.md, twenty-first step). */
#define FS_ATLAS_HIGHLIGHT_MARGIN 1.8f

void fs_atlas_params_default(fs_atlas_params *p);

typedef struct fs_atlas {
    int size;
    uint8_t *rgba;   /* size*size*4: sRGB, alpha 255 inside the mesh's UV footprint, 0 outside */
    uint8_t *weight; /* size*size: 0 outside; inside, round(255 * max(own, mirror weight)), >= 1 */
    float lab_mean[3]; /* CIELAB (D65) of the visible skin: L*, a*, b* */
    float lab_std[3];
    /* Counts, for tests and the debug output. */
    int n_footprint;  /* texels inside the footprint */
    int n_mirrored;   /* footprint texels that took more than half of their colour from the mirror */
    int n_stats;      /* texels the colour statistics were taken over */
    fs_shading light; /* the photo's light taken out (fs_atlas_params.delight); flat if none */
    float albedo_scale; /* with a light taken out, the albedo is held divided by this
                           (FS_ALBEDO_HEADROOM; 1 in blobs before version 3); 1 otherwise */
    float highlight_margin; /* the highlights taken out at this margin; 0: none */
    fs_skin_model skin; /* the skin's colour over the cheeks and forehead (fs_atlas_skin_fit);
                           k 0 where none (blobs before version 4, a face seen too badly):
                           the swap then judges hair by lab_mean / lab_std */
} fs_atlas;

/*
 * Unwraps the face with landmarks @p points (478 x 3: x, y image px, z same
 * scale, smaller nearer; only the 468 mesh points are used) from @p image
 * (host memory, any fs_pixel_format) into a new atlas. Release with
 * fs_atlas_free(). FS_ERR_INVALID_ARGUMENT, FS_ERR_OUT_OF_RANGE (size),
 * FS_ERR_UNSUPPORTED (format, device memory), FS_ERR_OUT_OF_MEMORY.
 */
fs_status fs_atlas_build(const fs_image *image, const float (*points)[3],
                         const fs_atlas_mesh *mesh, const fs_atlas_params *params,
                         fs_atlas *out, fs_error_buf *err);

void fs_atlas_free(fs_atlas *atlas);

/* Bilinear sample of the atlas at (u, v) (v down) into @p rgb (sRGB,
 * 0..255), alpha-weighted so that empty texels do not darken the edge;
 * returns the alpha coverage 0..1. */
float fs_atlas_sample(const fs_atlas *atlas, float u, float v, float rgb[3]);

/* How well the photo showed the texel nearest (u, v): its weight / 255
 * (0 outside the atlas or its footprint). */
float fs_atlas_seen(const fs_atlas *atlas, float u, float v);

/* Which ring atlas point (u, v) lies inside: 0 none, else 1 + the ring's
 * index (1 and 2: the eye openings, 3: the mouth interior). */
int fs_atlas_in_region(const fs_atlas_mesh *mesh, float u, float v);

/* Unit per-vertex normals of the mesh with landmarks @p points (the
 * area-weighted sum of its triangles' normals) in camera axes: x right,
 * y down, z towards the camera (landmark z grows away from it); 0 where
 * undefined. */
void fs_atlas_vertex_normals(const float (*points)[3], const fs_atlas_mesh *mesh,
                             float nrm[FS_MESH_LANDMARKS][3]);

/* Fits atlas->skin over the texels of the cheeks and forehead (within
 * FS_SKIN_RADIUS in UV of the mesh points there) that the photo saw well
 * (weight >= half), in the atlas' own values (the albedo where the light
 * was taken out). k 0 with too few. Returns 0 out of memory, else 1. */
#define FS_SKIN_RADIUS 0.045f
int fs_atlas_skin_fit(fs_atlas *atlas, const fs_atlas_mesh *mesh);

/* sRGB 8-bit, or linear RGB (any range), to CIELAB (D65). */
void fs_srgb_to_lab(const uint8_t rgb[3], float lab[3]);
void fs_linear_to_lab(const float lin[3], float lab[3]);

#endif /* FS_IDENTITY_ATLAS_H */
