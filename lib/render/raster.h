/*
 * Triangle rasterisation for the renderer: perspective-correct attribute
 * interpolation with a depth test, into a window (the face box) of the
 * target image, so that the cost scales with the face, not the frame.
 *
 * Conventions (what the reference computes; every faster entry must give the
 * same coverage exactly):
 *
 * - Coordinates. Vertex x, y are target-image pixels in the landmark
 *   convention of the detector and the fitter (TensorFlow.js: pixel centres at
 *   INTEGER coordinates, see lib/sample/sample.h). Output pixel (i, j) of the
 *   window is image pixel (x0 + i, y0 + j) and is sampled at exactly that
 *   point. So a mesh fitted to landmarks needs no half-pixel shift; a caller
 *   whose vertices use the "centres at +0.5" (OpenGL / D3D) convention
 *   subtracts 0.5 from x and y first.
 * - Snapping. x and y are rounded to 1/FS_RASTER_SUBPIXEL px and the edge
 *   functions are evaluated in exact 64-bit integers, so coverage does not
 *   depend on evaluation order: a fast path reproduces it bit for bit.
 *   Vertices with |x| or |y| > FS_RASTER_MAX_COORD px (far outside any image)
 *   drop their triangle; so do non-finite x, y, z, w and w <= 0.
 * - Fill rule. A pixel is covered when it lies strictly inside the triangle,
 *   or on a top or left edge (image y pointing down: a top edge is
 *   horizontal with the triangle below it; a left edge has the triangle to
 *   its right). Two triangles that share an edge (same two vertices, or
 *   vertices that snap to the same points) therefore never both cover a
 *   pixel on it, and a closed mesh leaves no holes along it.
 * - Orientation and culling. A triangle is "clockwise" when it turns
 *   clockwise as seen on the image (y down). Degenerate triangles (zero
 *   snapped area) are skipped.
 * - Depth. z is a screen-space depth (smaller = nearer; e.g. the fitter's
 *   landmark z, or z_ndc) and is interpolated linearly in screen space. A
 *   pixel is written when its z < depth[pixel] (strictly: for equal depths
 *   the earlier triangle stays). The caller initialises the buffers
 *   (fs_raster_clear) so several calls can draw into one window.
 * - Attributes are interpolated perspective-correctly: with screen-space
 *   barycentrics b_k, a = sum(b_k a_k / w_k) / sum(b_k / w_k). w = 1 for all
 *   vertices (orthographic or weak-perspective meshes) gives affine
 *   interpolation.
 */
#ifndef FS_RENDER_RASTER_H
#define FS_RENDER_RASTER_H

#include <stddef.h>
#include <stdint.h>

#include "exec.h"
#include "faceswap/common.h"

#define FS_RASTER_SUBPIXEL 256       /* snapping grid: 1/256 px */
#define FS_RASTER_MAX_COORD 1048576.0 /* 2^20 px: keeps edge products inside int64 */
#define FS_RASTER_MAX_ATTR 16

typedef enum fs_raster_cull {
    FS_RASTER_CULL_NONE = 0,
    FS_RASTER_CULL_CW = 1, /* drop triangles that turn clockwise on the image */
    FS_RASTER_CULL_CCW = 2 /* drop triangles that turn counter-clockwise */
} fs_raster_cull;

/* A vertex: image px (centres at integers), screen depth, perspective w (> 0). */
typedef struct fs_raster_vertex {
    float x, y, z, w;
} fs_raster_vertex;

typedef struct fs_raster_desc {
    int x0, y0;        /* the window's top-left pixel in the image, |x0|, |y0| <= 2^20 */
    int width, height; /* the window's size, pixels, 0..2^20 */
    int n_attr;        /* attributes per vertex, 0..FS_RASTER_MAX_ATTR */
    fs_raster_cull cull;
} fs_raster_desc;

/* Per-pixel outputs, row-major over the window, no padding. Any pointer but
 * depth may be NULL. Uncovered pixels are left untouched. */
typedef struct fs_raster_out {
    float *depth;    /* [height][width]: read for the test, written */
    float *attr;     /* [height][width][n_attr] */
    uint8_t *mask;   /* [height][width]: 255 where some triangle was drawn */
    int32_t *tri_id; /* [height][width]: index of the triangle drawn last */
} fs_raster_out;

/*
 * The raster family's entry (fs_raster_ops.triangles): draws triangles
 * tri[t][0..2] (indices into vert / attr; an index outside [0, n_vert) drops
 * the triangle) in order. attr is [n_vert][d->n_attr] (may be NULL when
 * n_attr is 0). A NULL or invalid desc (negative size, n_attr out of range)
 * or NULL vert / tri / needed attr draws nothing and returns
 * FS_ERR_INVALID_ARGUMENT.
 */
typedef fs_status (*fs_raster_fn)(const fs_exec *ex, const fs_raster_vertex *vert,
                                  const float *attr, int n_vert, const int32_t (*tri)[3],
                                  int n_tri, const fs_raster_desc *d, const fs_raster_out *out);

/* The raster family: what the renderer takes of the engine. */
typedef struct fs_raster_ops {
    fs_raster_fn triangles;
} fs_raster_ops;

/* The reference entries, then the fast ones on top. */
void fs_raster_ops_init_reference(fs_raster_ops *ops);
void fs_raster_ops_init_fast(fs_raster_ops *ops);

fs_status fs_raster_triangles_ref(const fs_exec *ex, const fs_raster_vertex *vert,
                                  const float *attr, int n_vert, const int32_t (*tri)[3],
                                  int n_tri, const fs_raster_desc *d, const fs_raster_out *out);
/* Row spans from exact integer edge intersections and incremental plane
 * equations (lib/render/raster_fast.c). Same coverage as the reference;
 * depth and attributes within a few float ulps of the values' range (the
 * test allows 1e-4 relative). For equal depths to within that rounding,
 * the triangle that wins may differ. With a pool in @p ex the window is
 * drawn in row bands on its workers; each band draws every triangle in
 * order with the planes of the whole window, so the bytes do not depend
 * on the number of bands. */
fs_status fs_raster_triangles_fast(const fs_exec *ex, const fs_raster_vertex *vert,
                                   const float *attr, int n_vert, const int32_t (*tri)[3],
                                   int n_tri, const fs_raster_desc *d, const fs_raster_out *out);

/* Sets depth to +infinity, mask to 0, tri_id to -1, attr to 0 (non-NULL ones). */
void fs_raster_clear(const fs_raster_desc *d, const fs_raster_out *out);

/* ---- shared by the reference and the fast path (lib/render/raster_ref.c) */

/* 1 when d and out are usable (sizes and origin within 2^20, n_attr in range, depth set). */
int fs_raster_desc_ok(const fs_raster_desc *d, const fs_raster_out *out);
/* The arguments' check every entry starts with: FS_OK or FS_ERR_INVALID_ARGUMENT. */
fs_status fs_raster_check(const fs_exec *ex, const fs_raster_vertex *vert, const float *attr,
                          const int32_t (*tri)[3], const fs_raster_desc *d,
                          const fs_raster_out *out);

/* A triangle prepared for rasterisation: snapped, oriented, clipped box. */
typedef struct fs_raster_setup {
    int64_t X[3], Y[3]; /* snapped vertices, 1/FS_RASTER_SUBPIXEL px, window-relative */
    int64_t area2;      /* twice the snapped area, > 0 after orientation */
    int64_t bias[3];    /* 0 for a top-left edge, 1 otherwise: inside is E - bias >= 0 */
    int v[3];           /* vertex indices in the oriented order */
    int bx0, by0, bx1, by1; /* window pixels to visit, inclusive */
} fs_raster_setup;

/*
 * Edge k runs from vertex k+1 to vertex k+2 (mod 3), so E_k is proportional
 * to the barycentric weight of vertex k:
 *   E_k(px, py) = (X[k2] - X[k1]) * (py - Y[k1]) - (Y[k2] - Y[k1]) * (px - X[k1]).
 * Returns 0 when the triangle draws nothing (invalid, degenerate, culled, or
 * outside the window).
 */
int fs_raster_setup_triangle(const fs_raster_vertex *vert, int n_vert, const int32_t t[3],
                             const fs_raster_desc *d, fs_raster_setup *s);

/* The two halves of fs_raster_setup_triangle, for paths that snap each
 * vertex once: the snapped, window-relative position (0 for an invalid
 * vertex), and the setup from snapped positions of vertices t[0..2]. */
int fs_raster_snap_vertex(const fs_raster_vertex *v, const fs_raster_desc *d, int64_t *X,
                          int64_t *Y);
int fs_raster_setup_snapped(const int64_t X[3], const int64_t Y[3], const int32_t t[3],
                            const fs_raster_desc *d, fs_raster_setup *s);

#endif /* FS_RENDER_RASTER_H */
