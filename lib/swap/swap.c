/*
 * The swap pipeline on one face: render (rasteriser + atlas lookup), mask,
 * colour, blend. Every stage works on a window around the face so that the
 * cost scales with the face, not with the frame.
 */
#include "swap/swap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compose/blend.h"
#include "compose/colour.h"
#include "compose/mask.h"
#include "detect/detect_internal.h"
#include "fit/fit_internal.h"
#include "render/raster.h"
#include "swap/lookup.h"
#include "engine.h"

#define GEOMETRY_MAX_SIZE ((size_t)1 << 20)
/* Below this many pixels of face size the swap has too few pixels to mean anything. */
#define SWAP_MIN_FACE 8.0

void fs_swap_params_default(fs_swap_params *p)
{
    p->colour = FS_SWAP_COLOUR_MEANSTD; /* FULL: see fs_swap_params_default in swap.h */
    p->blend = FS_SWAP_BLEND_MULTIBAND;
    p->subdivision = 0;
    p->eyes = FS_SWAP_EYES_GAZE;
    p->erode = 0.01;
    p->feather = 0.05;
    p->swap_forehead = 0;
    p->hole_feather = 0.008;
    p->brow_lift = 0.15;
    p->skin_guard = 1;
    p->shape = 0.5;
    p->match_detail = 1;
}

/* MediaPipe's silhouette ring. */
static const int silhouette[] = {10,  338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288,
                                 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136,
                                 172, 58,  132, 93,  234, 127, 162, 21,  54,  103, 67,  109};
/* Atlas distance from the silhouette over which the shape transfer fades in. */
#define SHAPE_FADE_UV 0.10

static void shape_weights(fs_swap_mesh *mesh)
{
    const int n_sil = (int)(sizeof(silhouette) / sizeof(silhouette[0]));
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        double d = INFINITY;
        for (int j = 0; j < n_sil; j++) {
            const float *a = mesh->atlas.uv[i], *b = mesh->atlas.uv[silhouette[j]];
            d = fmin(d, hypot(a[0] - b[0], a[1] - b[1]));
        }
        const double t = fmin(d / SHAPE_FADE_UV, 1.0);
        mesh->shape_weight[i] = (float)(t * t * (3.0 - 2.0 * t));
    }
}

/*
 * The target's mesh moved by @p amount towards the source's face shape: the
 * source's landmarks aligned to the target's by a weighted similarity
 * (rotation, scale, shift: pose and size stay the target's), then each
 * vertex moved by its shape weight. Returns 0 when the alignment fails (the
 * target's own points are copied then).
 */
static int shape_transfer(const fs_swap_mesh *mesh, const float (*src)[3], const float (*tgt)[3],
                          double amount, float (*out)[3])
{
    memcpy(out, tgt, sizeof(float) * 3 * FS_LANDMARKS);
    fs_canonical_face *c = malloc(sizeof(*c));
    if (!c)
        return 0;
    memset(c, 0, sizeof(*c));
    memcpy(c->vertices, src, sizeof(c->vertices));
    c->n_basis = mesh->n_basis;
    for (int i = 0; i < mesh->n_basis; i++) {
        c->basis_id[i] = mesh->basis_id[i];
        c->basis_weight[i] = mesh->basis_weight[i];
    }
    fs_head_pose pose;
    const int ok = fs_pose_fit(tgt, c, &pose);
    free(c);
    if (!ok)
        return 0;
    const float *r = pose.rotation, s = pose.scale;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        const float *p = src[i];
        const double wgt = amount * mesh->shape_weight[i];
        for (int k = 0; k < 3; k++) {
            const double a =
                s * (r[3 * k] * p[0] + r[3 * k + 1] * p[1] + r[3 * k + 2] * p[2]) + pose.translation[k];
            out[i][k] = (float)(tgt[i][k] + wgt * (a - tgt[i][k]));
        }
    }
    return 1;
}

fs_status fs_swap_mesh_load(fs_context *ctx, fs_swap_mesh *mesh, fs_error_buf *err)
{
    uint8_t *geo = NULL;
    size_t geo_size = 0;
    fs_status st =
        fs_model_file_read(ctx, "face_geometry.binarypb", GEOMETRY_MAX_SIZE, err, &geo, &geo_size);
    if (st != FS_OK)
        return st;
    fs_canonical_face *canon = malloc(sizeof(*canon));
    if (!canon) {
        free(geo);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap_mesh_load: out of memory");
    }
    st = fs_canonical_face_parse(geo, geo_size, canon, err);
    free(geo);
    if (st == FS_OK)
        st = fs_atlas_mesh_init(canon, &mesh->atlas, err);
    if (st == FS_OK) {
        mesh->n_basis = canon->n_basis;
        for (int i = 0; i < canon->n_basis; i++) {
            mesh->basis_id[i] = (uint16_t)canon->basis_id[i];
            mesh->basis_weight[i] = canon->basis_weight[i];
        }
        shape_weights(mesh);
    }
    free(canon);
    if (st == FS_OK) {
        /* Upper edge of both eyebrows (MediaPipe's numbering). */
        static const int brow[] = {70, 63, 105, 66, 107, 336, 296, 334, 293, 300};
        float v = 1.0f;
        for (size_t i = 0; i < sizeof(brow) / sizeof(brow[0]); i++)
            v = fminf(v, mesh->atlas.uv[brow[i]][1]);
        mesh->brow_v = v;
    }
    return st;
}

fs_poisson_opts fs_swap_poisson_opts(double face_size)
{
    const double rim = 0.04 * face_size;
    const fs_poisson_opts o = {2, 0.0, rim < 1.0 ? 1 : rim > 8.0 ? 8 : (int)lrint(rim), 4};
    return o;
}

void fs_swap_info_free(fs_swap_info *info)
{
    if (!info)
        return;
    free(info->render_rgb);
    free(info->mesh_mask);
    free(info->alpha);
    info->render_rgb = NULL;
    info->mesh_mask = NULL;
    info->alpha = NULL;
}

/* Working buffers of one swap, all over the w x h window. */
typedef struct work {
    float *depth, *uv, *render, *target, *alpha, *weight, *alpha_in, *warp;
    uint8_t *mask, *skin, *eroded, *render8, *open;
} work;

static void work_free(work *k)
{
    free(k->depth);
    free(k->uv);
    free(k->render);
    free(k->target);
    free(k->alpha);
    free(k->weight);
    free(k->mask);
    free(k->skin);
    free(k->eroded);
    free(k->render8);
    free(k->alpha_in);
    free(k->warp);
    free(k->open);
}

static int work_alloc(work *k, size_t n)
{
    k->depth = malloc(n * sizeof(float));
    k->uv = malloc(n * FS_SWAP_ATTR * sizeof(float));
    k->warp = malloc(n * 3 * sizeof(float));
    k->render = malloc(n * 3 * sizeof(float));
    k->target = malloc(n * 3 * sizeof(float));
    k->alpha = malloc(n * sizeof(float));
    k->weight = malloc(n * sizeof(float));
    k->mask = malloc(n);
    k->skin = malloc(n);
    k->eroded = malloc(n);
    k->render8 = malloc(n * 3);
    k->alpha_in = malloc(n * sizeof(float));
    k->open = malloc(n);
    return k->depth && k->uv && k->render && k->target && k->alpha && k->weight && k->mask &&
           k->skin && k->eroded && k->render8 && k->alpha_in && k->open && k->warp;
}

/* Rasterises the (optionally subdivided) mesh at @p points with the
 * FS_SWAP_ATTR attributes per pixel; "where the pixel lies on the target's own
 * mesh" comes from @p target (the same as the pixel unless the shape
 * transfer moved the mesh). */
static fs_status rasterise(const fs_engine *ops, const fs_exec *ex, const fs_swap_mesh *mesh,
                           int levels,
                           const float (*points)[3], const float (*target)[3],
                           const float (*source)[3], const fs_raster_desc *d, work *k,
                           fs_error_buf *err)
{
    const fs_atlas_mesh *am = &mesh->atlas;
    float pos[FS_MESH_LANDMARKS][3], attr[FS_MESH_LANDMARKS][FS_SWAP_ATTR];
    int32_t(*tri)[3] = malloc(sizeof(*tri) * (size_t)am->n_triangles);
    if (!tri)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory");
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        memcpy(pos[i], points[i], sizeof(pos[i]));
        attr[i][0] = am->uv[i][0];
        attr[i][1] = am->uv[i][1];
        attr[i][2] = target[i][0];
        attr[i][3] = target[i][1];
        attr[i][4] = mesh->shape_weight[i];
        attr[i][5] = source[i][0];
        attr[i][6] = source[i][1];
    }
    for (int t = 0; t < am->n_triangles; t++)
        for (int c = 0; c < 3; c++)
            tri[t][c] = am->triangles[t][c];
    fs_mesh base = {FS_MESH_LANDMARKS, FS_SWAP_ATTR, &pos[0][0], &attr[0][0], am->n_triangles, tri};
    fs_mesh sub = {0};
    const fs_mesh *m = &base;
    if (levels > 0) {
        const fs_status st = fs_mesh_subdivide(&base, levels, &sub, err);
        if (st != FS_OK) {
            free(tri);
            return st;
        }
        m = &sub;
    }
    fs_raster_vertex *vert = malloc(sizeof(*vert) * (size_t)m->n_vert);
    if (!vert) {
        fs_mesh_free(&sub);
        free(tri);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory");
    }
    for (int i = 0; i < m->n_vert; i++) {
        /* Orthographic landmarks: w = 1 makes the interpolation affine in
         * screen space, which is what the fitter's weak-perspective mesh is. */
        vert[i].x = m->pos[3 * i];
        vert[i].y = m->pos[3 * i + 1];
        vert[i].z = m->pos[3 * i + 2];
        vert[i].w = 1.0f;
    }
    const fs_raster_out out = {k->depth, k->uv, k->mask, NULL};
    fs_raster_clear(d, &out);
    /* No culling: the depth test keeps the nearest surface, and a face
     * turned far enough to show a back face at its silhouette would
     * otherwise open a hole there. */
    const fs_status st = ops->raster.triangles(ex, vert, m->attr, m->n_vert,
                                               (const int32_t(*)[3])m->tri, m->n_tri, d, &out);
    free(vert);
    fs_mesh_free(&sub);
    free(tri);
    return st;
}

fs_status fs_swap_face_rgb8(const fs_engine *ops, fs_pool *pool, const fs_swap_mesh *mesh,
                            const fs_swap_params *params, const fs_identity_data *id,
                            fs_image *image, const float (*points)[3], fs_swap_info *info,
                            fs_error_buf *err)
{
    const fs_exec exec = {pool, err, NULL, NULL};
    const fs_exec *const ex = &exec;
    if (!ops || !mesh || !params || !id || !image || !points || !image->data ||
        !id->atlas.rgba)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_swap: NULL argument");
    if (image->format != FS_PIXEL_RGB8 || image->memory != FS_MEMORY_HOST)
        return fs_fail(err, FS_ERR_UNSUPPORTED, "fs_swap: needs a host RGB8 image");
    if (image->width <= 0 || image->height <= 0 || image->stride < image->width * 3)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_swap: bad image geometry");
    if (params->colour < 0 || params->colour > 2 || params->blend < 0 || params->blend > 2 ||
        params->eyes < FS_SWAP_EYES_TARGET || params->eyes > FS_SWAP_EYES_GAZE ||
        params->subdivision < 0 || params->subdivision > 4 || !(params->erode >= 0) ||
        !(params->erode <= 0.25) || !(params->feather >= 0) || !(params->feather <= 0.25) ||
        !(params->hole_feather >= 0) || !(params->hole_feather <= 0.25) ||
        !(params->brow_lift >= 0) || !(params->brow_lift <= 1) || !(params->shape >= 0) ||
        !(params->shape <= 1))
        return fs_fail(err, FS_ERR_OUT_OF_RANGE, "fs_swap: parameter out of range");

    /* The face's extent from its mesh points. */
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        const double x = points[i][0], y = points[i][1], z = points[i][2];
        if (!isfinite(x) || !isfinite(y) || !isfinite(z) || fabs(x) > 1e6 || fabs(y) > 1e6 ||
            fabs(z) > 1e6)
            return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_swap: landmark %d not finite or far out", i);
        x0 = fmin(x0, x);
        y0 = fmin(y0, y);
        x1 = fmax(x1, x);
        y1 = fmax(y1, y);
    }
    const double size = fmax(x1 - x0, y1 - y0);
    if (size < SWAP_MIN_FACE)
        return fs_fail(err, FS_ERR_NO_FACE, "fs_swap: face of %.1f px is too small to swap", size);
    /* Margin: the blends read a little around the mask (pyramid support). */
    const double margin = 0.1 * size + 4.0;
    int wx0 = (int)floor(x0 - margin), wy0 = (int)floor(y0 - margin);
    int wx1 = (int)ceil(x1 + margin), wy1 = (int)ceil(y1 + margin);
    const int clipped = wx0 < 0 || wy0 < 0 || wx1 > image->width - 1 || wy1 > image->height - 1;
    wx0 = wx0 < 0 ? 0 : wx0;
    wy0 = wy0 < 0 ? 0 : wy0;
    wx1 = wx1 > image->width - 1 ? image->width - 1 : wx1;
    wy1 = wy1 > image->height - 1 ? image->height - 1 : wy1;
    if (wx1 < wx0 || wy1 < wy0)
        return fs_fail(err, FS_ERR_NO_FACE, "fs_swap: the face lies outside the image");
    const int w = wx1 - wx0 + 1, h = wy1 - wy0 + 1;
    fs_status st = fs_compose_check_size(err, w, h);
    if (st != FS_OK)
        return st;
    const size_t n = (size_t)w * (size_t)h;

    work k = {0};
    if (!work_alloc(&k, n)) {
        work_free(&k);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory (%d x %d window)", w, h);
    }
    const fs_raster_desc desc = {wx0, wy0, w, h, FS_SWAP_ATTR, FS_RASTER_CULL_NONE};
    float(*shaped)[3] = NULL;
    if (params->shape > 0) {
        shaped = malloc(sizeof(float) * 3 * FS_LANDMARKS);
        if (!shaped) {
            work_free(&k);
            return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory");
        }
        shape_transfer(mesh, (const float(*)[3])id->landmarks, points, params->shape, shaped);
    }
    st = rasterise(ops, ex, mesh, params->subdivision, shaped ? (const float(*)[3])shaped : points,
                   points, (const float(*)[3])id->landmarks, &desc, &k, err);
    free(shaped);
    if (st != FS_OK) {
        work_free(&k);
        return st;
    }

    /* Texture lookup, the openings and the skin mask. */
    uint8_t *const img = (uint8_t *)image->data + (size_t)wy0 * (size_t)image->stride + (size_t)wx0 * 3;
    const ptrdiff_t istride = image->stride;
    fs_swap_lookup look = {
        .atlas = &id->atlas,
        .mesh = &mesh->atlas,
        .attr = k.uv,
        .covered = k.mask,
        .image = (const uint8_t *)image->data,
        .image_w = image->width,
        .image_h = image->height,
        .image_stride = image->stride,
        .x0 = wx0,
        .y0 = wy0,
        .w = w,
        .h = h,
        .eyes = params->eyes,
        .forehead_v = params->swap_forehead ? -1.0f : mesh->brow_v - (float)params->brow_lift,
        .brow_v = mesh->brow_v,
        .skin_guard = params->skin_guard,
    };
    fs_swap_iris_discs(points, look.target_iris);
    fs_swap_iris_discs((const float(*)[3])id->landmarks, look.source_iris);
    fs_swap_lookup_out lo = {
        .render = k.render, .target = k.target, .warp = k.warp, .skin = k.skin, .open = k.open};
    st = ops->swap.lookup(ex, &look, &lo);
    if (st != FS_OK) {
        work_free(&k);
        return st;
    }
    const long covered = lo.covered, textured = lo.textured, skin_n = lo.skin_n;
    if (skin_n == 0) {
        work_free(&k);
        return fs_fail(err, FS_ERR_NO_FACE, "fs_swap: the face covers no pixel of the image");
    }

    /* Erode, then feather inside the eroded mask. The window has a margin
     * wherever the image allows, so its edge is background only where the
     * image border cut it: there the face goes on, and must not erode. */
    st = ops->compose.mask_erode(ex, k.skin, w, h, w, params->erode * size, 0, k.eroded, w);
    if (st == FS_OK) {
        long left = 0;
        for (size_t p = 0; p < n; p++)
            left += k.eroded[p] != 0;
        if (left == 0) /* a tiny face eroded away: keep the un-eroded mask */
            memcpy(k.eroded, k.skin, n);
        st = ops->compose.mask_feather(ex, k.eroded, w, h, w, params->feather * size, 0, k.alpha, w);
    }
    /* The openings' own, narrow feather between the source's skin and the
     * target's eyes and mouth: alpha_in is the atlas' share of the render.
     * Colour statistics leave the openings out. */
    for (size_t p = 0; p < n; p++) {
        k.weight[p] = k.eroded[p] && !k.open[p] ? 1.0f : 0.0f;
        k.open[p] = !k.open[p];
    }
    if (st == FS_OK)
        st = ops->compose.mask_feather(ex, k.open, w, h, w, params->hole_feather * size, 0, k.alpha_in, w);

    /* Colour correction over the eroded skin. */
    if (st == FS_OK && params->colour >= FS_SWAP_COLOUR_MEANSTD)
        st = ops->compose.colour_match(ex, k.render, 3 * (ptrdiff_t)w, k.target, 3 * (ptrdiff_t)w,
                                 k.weight, w, h);
    if (st == FS_OK && params->colour >= FS_SWAP_COLOUR_FULL) {
        /* Shading at the scale of a cheek: finer would copy the target's features. */
        const double sigma = fmin(fmax(0.04 * size, 1.0), 20.0);
        /* A gain of at most 1.5 either way: a looser one turns dark source
         * features that the target lacks (a fringe of hair, a shadow) into
         * bright, saturated patches. */
        st = ops->compose.colour_shading(ex, &ops->compose, k.render, 3 * (ptrdiff_t)w, k.target,
                                 3 * (ptrdiff_t)w, k.weight, w, h, sigma, 1.5);
    }
    if (st == FS_OK && params->match_detail)
        st = ops->compose.colour_detail(ex, &ops->compose, k.render, 3 * (ptrdiff_t)w, k.target,
                                       3 * (ptrdiff_t)w, k.weight, w, h, 0x5eed5a7full, NULL);

    /* The openings mixed back in; outside the eroded mask the blends see
     * the target's own pixels, so that the pyramid's coarse bands and
     * Poisson's gradients meet no uncorrected render (eyes, mouth, the mesh
     * edge) next to the mask. */
    if (st == FS_OK)
        st = ops->swap.finish_u8(ex, k.render, k.warp, k.alpha_in, k.eroded, img, istride, w, h,
                                 k.render8);

    if (st == FS_OK) {
        switch (params->blend) {
        case FS_SWAP_BLEND_ALPHA:
            st = fs_blend_alpha_u8(ex, &ops->compose, k.render8, 3 * (ptrdiff_t)w, img, istride, k.alpha,
                                   w, w, h);
            break;
        case FS_SWAP_BLEND_MULTIBAND:
            st = ops->compose.blend_multiband_u8(ex, k.render8, 3 * (ptrdiff_t)w, img, istride, k.alpha,
                                       w, h, 0);
            break;
        default: {
            const fs_poisson_opts po = fs_swap_poisson_opts(size);
            st = ops->compose.blend_poisson_u8(ex, k.render8, 3 * (ptrdiff_t)w, img, istride, k.eroded, w,
                                     w, h, &po, NULL);
            for (size_t p = 0; p < n; p++)
                k.alpha[p] = k.eroded[p] ? 1.0f : 0.0f;
            break;
        }
        }
    }

    if (st == FS_OK && info) {
        info->x0 = wx0;
        info->y0 = wy0;
        info->w = w;
        info->h = h;
        info->clipped = clipped;
        info->face_size = size;
        info->covered = covered;
        info->textured = textured;
        info->mask_pixels = skin_n;
        if (info->keep_debug) {
            fs_swap_info_free(info);
            info->render_rgb = k.render8;
            info->mesh_mask = k.mask;
            info->alpha = k.alpha;
            for (size_t p = 0; p < n; p++) /* the whole render, for looking at */
                for (int c = 0; c < 3; c++) {
                    float v = k.render[3 * p + (size_t)c];
                    v = v != v ? 0.0f : v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
                    k.render8[3 * p + (size_t)c] = (uint8_t)lrintf(v * 255.0f);
                }
            k.render8 = NULL;
            k.mask = NULL;
            k.alpha = NULL;
        }
    }
    work_free(&k);
    return st;
}
