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
#include "compose/filter.h"
#include "compose/mask.h"
#include "detect/detect_internal.h"
#include "engine.h"
#include "identity/light.h"
#include "fit/fit_internal.h"
#include "image/view.h"
#include "render/raster.h"
#include "swap/lookup.h"

/* Below this many pixels of face size the swap has too few pixels to mean anything. */
#define SWAP_MIN_FACE 8.0

void fs_swap_params_default(fs_swap_params *p)
{
    p->colour = FS_COLOR_FULL; /* see fs_swap_params_default in swap.h */
    p->blend = FS_BLEND_MULTIBAND;
    p->subdivision = 0;
    p->eyes = FS_SWAP_EYES_TARGET;
    p->erode = 0.01;
    p->feather = 0.05;
    p->swap_forehead = 0;
    p->hole_feather = 0.008;
    p->brow_lift = 0.15;
    p->skin_guard = 1;
    p->shape = 0.5;
    p->match_detail = 1;
    p->relight = 1;
    p->light_refit = FS_SWAP_LIGHT_REFIT;
}

/* MediaPipe's silhouette ring. */
static const int silhouette[] = {10,  338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288,
                                 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136,
                                 172, 58,  132, 93,  234, 127, 162, 21,  54,  103, 67,  109};
/* Atlas distance from the silhouette over which the shape transfer fades in. */
#define SHAPE_FADE_UV 0.10
/* Turn between the source's face and the target's (degrees) up to which
 * the shape transfer is whole, and from which it is off (swap.h). */
#define SHAPE_TURN_FULL 25.0
#define SHAPE_TURN_NONE 70.0

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

/* FULL's shading transfer low-passes at this fraction of the face size.
 * At the sixth step of the light work a quarter was best on every measure
 * (0.12 and 0.18 copied the target's features: identity min +0.114 /
 * +0.136). With the target's light put on by the model and the highlights
 * out of the weights (eleventh step, doc/light-notes.md), smaller is
 * better for the light and the self-swap and costs little likeness:
 * sigma 0.25 / 0.20 / 0.15 / 0.12: leak 0.795 / 0.780 / 0.758 / 0.736,
 * self-swap MAE 1.73 / 1.71 / 1.66 / 1.62, seam x1.125 / 1.118 / 1.106 /
 * 1.098, identity +0.216 (min +0.153) / +0.216 (+0.150) / +0.213 (+0.146)
 * / +0.210 (+0.143). 0.15 keeps item 7's floor (+0.21, +0.14) with a
 * margin. */
#define FULL_SIGMA 0.15

/* 0 up to @p lo, 1 from @p hi, smooth between. */
static double smooth_ramp(double x, double lo, double hi)
{
    const double t = fmin(fmax((x - lo) / (hi - lo), 0.0), 1.0);
    return t * t * (3.0 - 2.0 * t);
}

double fs_swap_shape_turn_weight(double turn)
{
    if (isnan(turn)) /* fmin/fmax would pass it as a turn of 0 */
        return 0.0;
    return 1.0 - smooth_ramp(turn, SHAPE_TURN_FULL, SHAPE_TURN_NONE);
}

/* Facing (cos of the angle between a vertex's normal and the source
 * camera's axis, the better of the vertex's and its mirror's) below which
 * the render keeps the source's own light, and from which it takes the
 * target's whole (swap.h). */
#define LIGHT_SEEN_NONE 0.3
#define LIGHT_SEEN_FULL 0.7

double fs_swap_light_seen_weight(double facing)
{
    if (isnan(facing))
        return 0.0;
    return smooth_ramp(facing, LIGHT_SEEN_NONE, LIGHT_SEEN_FULL);
}

void fs_swap_light_share(const fs_swap_mesh *mesh, const float (*source)[3],
                         float share[FS_MESH_LANDMARKS])
{
    float vn[FS_MESH_LANDMARKS][3];
    fs_atlas_vertex_normals(source, &mesh->atlas, vn);
    for (int i = 0; i < FS_MESH_LANDMARKS; i++)
        share[i] = (float)fs_swap_light_seen_weight(
            fmax(vn[i][2], vn[mesh->atlas.mirror[i]][2]));
}

/*
 * The target's mesh moved by @p amount towards the source's face shape: the
 * source's landmarks aligned to the target's by a weighted similarity
 * (rotation, scale, shift: pose and size stay the target's), then each
 * vertex moved by its shape weight, the whole faded out as the alignment
 * turns the source's face further (fs_swap_shape_turn_weight). Returns 0
 * when the alignment fails (the target's own points are copied then).
 */
static int shape_transfer(const fs_swap_mesh *mesh, const float (*src)[3], const float (*tgt)[3],
                          double amount, float (*out)[3])
{
    memcpy(out, tgt, sizeof(float) * 3 * FS_LANDMARKS);
    fs_canonical_face *c = fs_tmp_alloc(sizeof(*c));
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
    fs_tmp_free(c);
    if (!ok)
        return 0;
    const float *r = pose.rotation, s = pose.scale;
    /* The angle between the source's depth axis and the target's (roll,
     * in the image plane, does not count). */
    const double zz = r[8];
    const double turn = isfinite(zz) ? acos(fmax(fmin(zz, 1.0), -1.0)) * (180.0 / M_PI) : NAN;
    amount *= fs_swap_shape_turn_weight(turn);
    if (!(amount > 0))
        return 1;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        const float *p = src[i];
        const double wgt = amount * mesh->shape_weight[i];
        for (int k = 0; k < 3; k++) {
            const double a =
                s * (r[3 * k] * p[0] + r[3 * k + 1] * p[1] + r[3 * k + 2] * p[2]) + pose.translation[k];
            out[i][k] = (float)(tgt[i][k] + wgt * (a - tgt[i][k]));
        }
    }
    /* How far the lips part and the lids open is the target's expression,
     * not the source's shape: each facing pair of inner lip points, and of
     * the lids' points, moves by the mean of the two moves, so the gap
     * between them stays the target's (a source's smile would open a
     * closed target mouth into a slit, and a closed source squeeze an open
     * one's teeth; an open source eye stretched a downcast target's lash
     * line, kept as the target's eye, into a dark almond). Keeping the lids'
     * gap cost the quality benchmark's identity gain 0.004 (+0.223 ->
     * +0.219, min +0.152 -> +0.153). */
    static const int gaps[][2] = {
        /* inner lips */
        {13, 14}, {82, 87}, {81, 178}, {80, 88}, {191, 95}, {312, 317}, {311, 402}, {310, 318},
        {415, 324},
        /* lids, upper over lower, corner to corner */
        {246, 7}, {161, 163}, {160, 144}, {159, 145}, {158, 153}, {157, 154}, {173, 155},
        {466, 249}, {388, 390}, {387, 373}, {386, 374}, {385, 380}, {384, 381}, {398, 382}};
    for (size_t i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++) {
        const int a = gaps[i][0], b = gaps[i][1];
        for (int k = 0; k < 3; k++) {
            const float m = 0.5f * ((out[a][k] - tgt[a][k]) + (out[b][k] - tgt[b][k]));
            out[a][k] = tgt[a][k] + m;
            out[b][k] = tgt[b][k] + m;
        }
    }
    return 1;
}

fs_status fs_swap_mesh_load(fs_context *ctx, fs_swap_mesh *mesh, fs_error_buf *err)
{
    fs_canonical_face *canon = malloc(sizeof(*canon));
    if (!canon)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap_mesh_load: out of memory");
    fs_status st = fs_canonical_face_load(ctx, canon, err);
    if (st == FS_OK)
        st = fs_atlas_mesh_init(canon, &mesh->atlas, err);
    if (st == FS_OK) {
        mesh->n_basis = canon->n_basis;
        for (int i = 0; i < canon->n_basis; i++) {
            mesh->basis_id[i] = (uint16_t)canon->basis_id[i];
            mesh->basis_weight[i] = canon->basis_weight[i];
        }
        shape_weights(mesh);
        for (int t = 0; t < mesh->atlas.n_triangles; t++)
            for (int c = 0; c < 3; c++)
                mesh->tri[t][c] = mesh->atlas.triangles[t][c];
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

void fs_swap_workspace_free(fs_swap_workspace *ws)
{
    if (ws)
        fs_scratch_free(&ws->scratch);
}

static fs_status check_params(const fs_swap_params *p, fs_error_buf *err)
{
    if (p->colour < FS_COLOR_NONE || p->colour > FS_COLOR_FULL || p->blend < FS_BLEND_ALPHA ||
        p->blend > FS_BLEND_POISSON || p->eyes < FS_SWAP_EYES_TARGET ||
        p->eyes > FS_SWAP_EYES_GAZE || p->subdivision < 0 || p->subdivision > 4 ||
        !(p->erode >= 0) || !(p->erode <= 0.25) || !(p->feather >= 0) ||
        !(p->feather <= 0.25) || !(p->hole_feather >= 0) || !(p->hole_feather <= 0.25) ||
        !(p->brow_lift >= 0) || !(p->brow_lift <= 1) || !(p->shape >= 0) || !(p->shape <= 1))
        return fs_fail(err, FS_ERR_OUT_OF_RANGE, "fs_swap: parameter out of range");
    return FS_OK;
}

/* The atlas v above which the target keeps its forehead (-1: none). */
static float forehead_cut(const fs_swap_mesh *mesh, const fs_swap_params *p)
{
    return p->swap_forehead ? -1.0f : mesh->brow_v - (float)p->brow_lift;
}

/* The window around the face with landmarks @p points on a frame_w x
 * frame_h frame, into t's window fields and face_size. */
static fs_status face_window(const float (*points)[3], int frame_w, int frame_h,
                             fs_swap_target *t, fs_error_buf *err)
{
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (int i = 0; i < FS_LANDMARKS; i++) {
        const double x = points[i][0], y = points[i][1], z = points[i][2];
        if (!isfinite(x) || !isfinite(y) || !isfinite(z) || fabs(x) > 1e6 || fabs(y) > 1e6 ||
            fabs(z) > 1e6)
            return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_swap: landmark %d not finite or far out", i);
        if (i >= FS_MESH_LANDMARKS) /* the irises lie inside the mesh */
            continue;
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
    const int clipped = wx0 < 0 || wy0 < 0 || wx1 > frame_w - 1 || wy1 > frame_h - 1;
    wx0 = wx0 < 0 ? 0 : wx0;
    wy0 = wy0 < 0 ? 0 : wy0;
    wx1 = wx1 > frame_w - 1 ? frame_w - 1 : wx1;
    wy1 = wy1 > frame_h - 1 ? frame_h - 1 : wy1;
    if (wx1 < wx0 || wy1 < wy0)
        return fs_fail(err, FS_ERR_NO_FACE, "fs_swap: the face lies outside the image");
    const fs_status st = fs_compose_check_size(err, wx1 - wx0 + 1, wy1 - wy0 + 1);
    if (st != FS_OK)
        return st;
    t->x0 = wx0;
    t->y0 = wy0;
    t->w = wx1 - wx0 + 1;
    t->h = wy1 - wy0 + 1;
    t->frame_w = frame_w;
    t->frame_h = frame_h;
    t->clipped = clipped;
    t->face_size = size;
    return FS_OK;
}

/* Rasterises the (optionally subdivided) mesh at @p points with the
 * FS_SWAP_ATTR attributes per pixel into depth, attr and covered (w*h
 * each, w*h*FS_SWAP_ATTR for attr); "where the pixel lies on the target's
 * own mesh" comes from @p target (the same as the pixel unless the shape
 * transfer moved the mesh). */
static fs_status rasterise(const fs_engine *eng, const fs_exec *ex, const fs_swap_mesh *mesh,
                           int levels, const float (*points)[3], const float (*target)[3],
                           const float (*source)[3], const float (*extra)[3],
                           const fs_raster_desc *d, float *depth, float *attr_out,
                           uint8_t *covered)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    const fs_atlas_mesh *am = &mesh->atlas;
    float pos[FS_MESH_LANDMARKS][3], attr[FS_MESH_LANDMARKS][FS_SWAP_ATTR];
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        memcpy(pos[i], points[i], sizeof(pos[i]));
        attr[i][0] = am->uv[i][0];
        attr[i][1] = am->uv[i][1];
        attr[i][2] = target[i][0];
        attr[i][3] = target[i][1];
        attr[i][4] = mesh->shape_weight[i];
        attr[i][5] = source[i][0];
        attr[i][6] = source[i][1];
        for (int c = 0; c < 3; c++)
            attr[i][FS_SWAP_ATTR_EXTRA + c] = extra ? extra[i][c] : 0.0f;
    }
    const float *vpos = &pos[0][0], *vattr = &attr[0][0];
    const int32_t(*tri)[3] = (const int32_t(*)[3])mesh->tri;
    int n_vert = FS_MESH_LANDMARKS, n_tri = am->n_triangles;
    fs_mesh sub = {0};
    if (levels > 0) {
        /* Subdivision builds its mesh per call (it is off by default). */
        int32_t(*tcopy)[3] = fs_tmp_alloc(sizeof(*tcopy) * (size_t)n_tri);
        if (!tcopy)
            return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory");
        memcpy(tcopy, mesh->tri, sizeof(*tcopy) * (size_t)n_tri);
        const fs_mesh base = {FS_MESH_LANDMARKS, FS_SWAP_ATTR, &pos[0][0], &attr[0][0], n_tri, tcopy};
        const fs_status st = fs_mesh_subdivide(&base, levels, &sub, err);
        fs_tmp_free(tcopy);
        if (st != FS_OK)
            return st;
        vpos = sub.pos;
        vattr = sub.attr;
        tri = (const int32_t(*)[3])sub.tri;
        n_vert = sub.n_vert;
        n_tri = sub.n_tri;
    }
    fs_raster_vertex *vert = fs_tmp_alloc(sizeof(*vert) * (size_t)n_vert);
    if (!vert) {
        fs_mesh_free(&sub);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory");
    }
    for (int i = 0; i < n_vert; i++) {
        /* Orthographic landmarks: w = 1 makes the interpolation affine in
         * screen space, which is what the fitter's weak-perspective mesh is. */
        vert[i].x = vpos[3 * i];
        vert[i].y = vpos[3 * i + 1];
        vert[i].z = vpos[3 * i + 2];
        vert[i].w = 1.0f;
    }
    const fs_raster_out out = {depth, attr_out, covered, NULL};
    fs_raster_clear(d, &out);
    /* No culling: the depth test keeps the nearest surface, and a face
     * turned far enough to show a back face at its silhouette would
     * otherwise open a hole there. */
    const fs_status st = eng->raster.triangles(ex, vert, vattr, n_vert, tri, n_tri, d, &out);
    fs_tmp_free(vert);
    fs_mesh_free(&sub);
    return st;
}

fs_status fs_swap_target_geometry(const fs_swap_mesh *mesh, const fs_swap_params *params,
                                  int frame_w, int frame_h, const float (*points)[3],
                                  fs_swap_target *out, fs_error_buf *err)
{
    if (!mesh || !params || !points || !out)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_swap: NULL argument");
    if (frame_w <= 0 || frame_h <= 0)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_swap: frame of %d x %d", frame_w, frame_h);
    fs_status st = check_params(params, err);
    if (st != FS_OK)
        return st;
    fs_swap_target *t = fs_tmp_alloc(sizeof(*t));
    if (!t)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory");
    memset(t, 0, sizeof(*t));
    st = face_window(points, frame_w, frame_h, t, err);
    if (st == FS_OK) {
        memcpy(t->points, points, sizeof(t->points));
        fs_swap_iris_discs(points, t->iris);
        memcpy(out, t, sizeof(*t));
    }
    fs_tmp_free(t);
    return st;
}

/* The skin mask opened (eroded, then dilated back) by FS_SWAP_SKIN_OPEN of the face
 * size after its erosion: a light-brown fringe, close to skin colour, hangs
 * strands that the hair guard calls skin one texel and hair the next, and
 * the mask kept their skin-called parts as thin fingers, and as rings round
 * a strand's tip called hair. Feathered and colour-matched, each drew a
 * small brown ring or streak over the target's forehead (the astronaut
 * onto the three right faces of faceapi_sample4). Opening takes away what
 * is thinner than twice the radius and leaves the mask's broad parts as
 * they were. At 0.02 the rings stayed; at 0.03 they are gone, and on the
 * quality benchmark identity +0.219 (min +0.153) -> +0.218 (min +0.148),
 * seam x1.093 -> x1.084, detail x1.34 -> x1.38; self-swap and light leak
 * within 0.002. Under 2 px (faces under 67 px) it is not done: on messi5's
 * 35 px face a 1 px opening only took pixels off the outline (detail
 * x0.66 -> x0.41). About 0.4 ms on a 288 x 324 window (one core). Only
 * with the skin guard, whose fragments these are. */
static fs_status skin_open(const fs_exec *ex, const fs_compose_ops *cops, uint8_t *m, int w, int h,
                           double size)
{
    const double r = FS_SWAP_SKIN_OPEN * size;
    if (!(r >= 2.0))
        return FS_OK;
    const size_t n = (size_t)w * (size_t)h;
    uint8_t *t = fs_tmp_alloc(n);
    if (!t)
        return fs_fail(FS_EXEC_ERR(ex), FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory");
    /* The window's edge, where the image cut it, erodes nothing and so
     * grows nothing back (fs_mask_dilate). */
    fs_status st = cops->mask_erode(ex, m, w, h, w, r, 0, t, w);
    if (st == FS_OK)
        st = fs_mask_dilate(FS_EXEC_ERR(ex), t, w, h, w, r, t, w);
    for (size_t p = 0; p < n && st == FS_OK; p++)
        m[p] = m[p] && t[p];
    fs_tmp_free(t);
    return st;
}

/* The skin mask @p skin eroded by fs_swap_params.erode of the face size
 * @p size into @p eroded, then opened where the skin guard is on: the
 * swap's mask and the target's measured skin alike. */
static fs_status erode_skin(const fs_exec *ex, const fs_compose_ops *cops,
                            const fs_swap_params *params, const uint8_t *skin, int w, int h,
                            double size, uint8_t *eroded)
{
    fs_status st = cops->mask_erode(ex, skin, w, h, w, params->erode * size, 0, eroded, w);
    if (st == FS_OK && params->skin_guard)
        st = skin_open(ex, cops, eroded, w, h, size);
    return st;
}

/* The target's light over the pixels of @p weight (its eroded skin; the
 * openings and lips are left out here, by the mesh, as the source's fit
 * leaves them out), for the renderer to put on the source's albedo. */
static fs_status measure_light(const fs_exec *ex, const fs_atlas_mesh *atlas_mesh,
                               const float *attr, const float *rgb,
                               const float *weight, int w, int h, int x0, int y0,
                               const float (*points)[3], fs_shading *out)
{
    /* Every step-th pixel each way, about 16000 places at most (6 to 8
     * thousand of them skin): 18 smooth terms need far fewer, and the fit's
     * six rounds over every other pixel of a 300 px window were a quarter
     * of a template frame's analysis. */
    const int step = (int)fmax(2.0, ceil(sqrt((double)w * h / 16000.0)));
    const size_t cap = ((size_t)w / step + 1) * ((size_t)h / step + 1);
    float *lin = fs_tmp_alloc(cap * 3 * sizeof(float));
    float *basis = fs_tmp_alloc(cap * FS_SHADE_TERMS * sizeof(float));
    float *prior = fs_tmp_alloc(cap * sizeof(float));
    fs_status st = FS_OK;
    if (!lin || !basis || !prior)
        st = fs_fail(FS_EXEC_ERR(ex), FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory");
    fs_face_frame frame;
    fs_face_frame_of(points, &frame);
    /* The window's colours are 8-bit values over 255: linearised by table. */
    float lut[256];
    fs_srgb_to_linear_table(lut);
    long n = 0;
    for (int y = 0; y < h && st == FS_OK; y += step)
        for (int x = 0; x < w; x += step) {
            const size_t p = (size_t)y * (size_t)w + (size_t)x;
            const float *c = rgb + 3 * p, *a = attr + FS_SWAP_ATTR * p + FS_SWAP_ATTR_EXTRA;
            if (!(weight[p] > 0.0f) || c[0] >= 250.0f / 255 || c[1] >= 250.0f / 255 ||
                c[2] >= 250.0f / 255)
                continue;
            const float len = sqrtf(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
            if (!(len > 1e-6f))
                continue;
            /* The places and facing the source's fit takes (lips and
             * openings out, facing at least FS_ATLAS_DIRECT_FULL):
             * a face swapped onto its own photo then gets back the light it
             * gave. Measured: self-swap MAE 4.80 -> 4.72, leak 0.953 ->
             * 0.944 (doc/light-notes.md, eighth step). */
            const float *uv = attr + FS_SWAP_ATTR * p;
            if (!fs_atlas_light_skin(atlas_mesh, uv[0], uv[1]))
                continue;
            const float nrm[3] = {a[0] / len, a[1] / len, a[2] / len};
            if (nrm[2] < FS_ATLAS_DIRECT_FULL)
                continue;
            /* Each place weighs the atlas area it covers (the UV's
             * Jacobian from the next pixel each way), so that the fit
             * takes the face as the source's fit over atlas texels does:
             * weighed by image area, the side a turned face shows
             * narrowly counted less, and on faceapi_sample3's warm/blue
             * light the two fits split the light between the normal's and
             * the position's terms differently (red's horizontal ramp
             * -0.27 against the source's -0.45): swapped onto itself with
             * no colour match, red came back 8.0 levels off, 2.7 now. */
            const int xn = x + 1 < w ? x + 1 : x - 1, yn = y + 1 < h ? y + 1 : y - 1;
            const size_t px = (size_t)y * (size_t)w + (size_t)xn;
            const size_t py = (size_t)yn * (size_t)w + (size_t)x;
            if (!(weight[px] > 0.0f) || !(weight[py] > 0.0f))
                continue;
            const float *ux = attr + FS_SWAP_ATTR * px, *uy = attr + FS_SWAP_ATTR * py;
            prior[n] = fabsf((ux[0] - uv[0]) * (uy[1] - uv[1]) - (ux[1] - uv[1]) * (uy[0] - uv[0]));
            for (int k = 0; k < 3; k++)
                lin[3 * n + k] = lut[(int)lrintf(c[k] * 255.0f) & 255];
            fs_shading_basis(&frame, nrm, (float)(x0 + x), (float)(y0 + y),
                             basis + (size_t)n * FS_SHADE_TERMS);
            n++;
        }
    /* Mean 1: the fit counts samples by their weights. */
    double psum = 0;
    for (long i = 0; i < n; i++)
        psum += prior[i];
    for (long i = 0; i < n && psum > 0; i++)
        prior[i] = (float)(prior[i] * (double)n / psum);
    if (st == FS_OK && fs_shading_fit_weighted(lin, basis, prior, n, out) < 0)
        st = fs_fail(FS_EXEC_ERR(ex), FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory");
    fs_tmp_free(prior);
    fs_tmp_free(basis);
    fs_tmp_free(lin);
    return st;
}

/* Every step-th pixel each way of a w x h window, about 4000 places: a
 * mean, a deviation or a quartile over so many hardly moves. */
static int sample_step(int w, int h)
{
    return (int)fmax(1.0, floor(sqrt((double)w * h / 4000.0)));
}

/* CIELAB statistics of the float RGB window @p img (w x h) over @p weight,
 * from every step-th pixel each way, about 4000 places at most (1500 to 2000
 * of them skin), gathered into a small packed window: a mean and a
 * deviation over a grid of so many pixels hardly move, and per video frame
 * one pixel in four of the window cost 3% of the render (bench_render,
 * faceapi_sample3's 259 px face: 0.25 ms). A face too small to leave 64 such
 * pixels takes them all. The swap takes the target's over the render's
 * colour-match pixels; fs_swap_target_measure the target's over its own
 * skin. */
static fs_status grid_lab_stats(const fs_exec *ex, const fs_compose_ops *cops, const float *img,
                                const float *weight, int w, int h, double mean[3], double sd[3])
{
    const int step = sample_step(w, h);
    const int sw = (w + step - 1) / step, sh = (h + step - 1) / step;
    const size_t m = (size_t)sw * (size_t)sh;
    float *rgb = fs_tmp_alloc(m * 3 * sizeof(float)), *wt = fs_tmp_alloc(m * sizeof(float));
    if (!rgb || !wt) {
        fs_tmp_free(wt);
        fs_tmp_free(rgb);
        return fs_fail(FS_EXEC_ERR(ex), FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory");
    }
    long left = 0;
    for (int y = 0, q = 0; y < h; y += step)
        for (int x = 0; x < w; x += step, q++) {
            const size_t p = (size_t)y * (size_t)w + (size_t)x;
            memcpy(rgb + 3 * (size_t)q, img + 3 * p, 3 * sizeof(float));
            wt[q] = weight[p];
            left += wt[q] > 0.0f;
        }
    const fs_status st =
        left >= 64 ? cops->colour_lab_stats(ex, rgb, 3 * (ptrdiff_t)sw, wt, sw, sh, mean, sd)
                   : cops->colour_lab_stats(ex, img, 3 * (ptrdiff_t)w, weight, w, h, mean, sd);
    fs_tmp_free(wt);
    fs_tmp_free(rgb);
    return st;
}

fs_status fs_swap_target_measure(const fs_engine *eng, const fs_exec *ex,
                                 const fs_swap_mesh *mesh, const fs_swap_params *params,
                                 const uint8_t *win, ptrdiff_t stride, fs_swap_target *t)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    if (!eng || !mesh || !params || !win || !t)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_swap: NULL argument");
    if (t->w <= 0 || t->h <= 0 || stride < 3 * (ptrdiff_t)t->w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_swap: bad target window");
    const int w = t->w, h = t->h;
    const size_t n = (size_t)w * (size_t)h;
    fs_status st = FS_OK;
    float *depth = fs_tmp_alloc(n * sizeof(float));
    float *attr = fs_tmp_alloc(n * FS_SWAP_ATTR * sizeof(float));
    float *target = fs_tmp_alloc(n * 3 * sizeof(float));
    float *weight = fs_tmp_alloc(n * sizeof(float));
    uint8_t *covered = fs_tmp_alloc(n), *skin = fs_tmp_alloc(n), *eroded = fs_tmp_alloc(n);
    uint8_t *open = fs_tmp_alloc(n);
    if (!depth || !attr || !target || !weight || !covered || !skin || !eroded || !open)
        st = fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory (%d x %d window)", w, h);
    const float(*points)[3] = (const float(*)[3])t->points;
    float vn[FS_MESH_LANDMARKS][3];
    fs_atlas_vertex_normals(points, &mesh->atlas, vn);
    /* The target's own mesh, unsubdivided: finer triangles do not move
     * statistics over a few thousand pixels. */
    const fs_raster_desc desc = {t->x0, t->y0, w, h, FS_SWAP_ATTR, FS_RASTER_CULL_NONE};
    if (st == FS_OK)
        st = rasterise(eng, ex, mesh, 0, points, points, points, (const float(*)[3])vn, &desc,
                       depth, attr, covered);
    if (st == FS_OK) {
        const long skin_n = fs_swap_target_skin(&mesh->atlas, attr, covered, win, stride, t->x0, t->y0, w, h, params->eyes, points, (const float(*)[3])t->iris, forehead_cut(mesh, params), params->skin_guard, eng->swap.fast_lab, target, skin, open);
        if (skin_n < 0)
            st = fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory");
        else if (skin_n == 0)
            st = fs_fail(err, FS_ERR_NO_FACE, "fs_swap: the face covers no pixel of the image");
    }
    /* Eroded as the swap's mask is, so that the statistics leave out the
     * outline's mixed pixels; the openings stay out. */
    if (st == FS_OK)
        st = erode_skin(ex, &eng->compose, params, skin, w, h, t->face_size, eroded);
    double mean[3], sd[3];
    long left = 0;
    if (st == FS_OK) {
        for (size_t p = 0; p < n; p++)
            left += eroded[p] && !open[p];
        if (left == 0) /* a tiny face eroded away: the un-eroded mask */
            memcpy(eroded, skin, n);
        left = 0;
        for (size_t p = 0; p < n; p++) {
            weight[p] = eroded[p] && !open[p] ? 1.0f : 0.0f;
            left += weight[p] > 0.0f;
        }
        st = grid_lab_stats(ex, &eng->compose, target, weight, w, h, mean, sd);
        if (st == FS_ERR_OUT_OF_RANGE)
            st = fs_fail(err, FS_ERR_NO_FACE, "fs_swap: the face shows no skin");
    }
    fs_shading light;
    fs_shading_flat(&light);
    /* A smaller face keeps the source's own light (messi5's 35 px face as
     * the target: the landmarks found again on the swap moved 0.0204 of the
     * diagonal with its light measured, 0.0181 without). The fit takes the
     * eroded skin with the openings as the source's fit leaves them out
     * (by the mesh: measure_light), not as the eyes mode grows them: with
     * the target's whole eye openings kept, faceapi_sample1's painted lids
     * left this fit and not the source's, and its self-swap came back 3.5
     * levels off in red instead of 1.9. */
    if (st == FS_OK && params->relight && t->face_size >= FS_LIGHT_MIN_FACE) {
        for (size_t p = 0; p < n; p++)
            weight[p] = eroded[p] ? 1.0f : 0.0f;
        st = measure_light(ex, &mesh->atlas, attr, target, weight, w, h, t->x0, t->y0, points,
                           &light);
    }
    if (st == FS_OK) {
        t->light = light;
        t->skin_pixels = (int32_t)(left < INT32_MAX ? left : INT32_MAX);
        memcpy(t->lab_mean, mean, sizeof(mean));
        memcpy(t->lab_sd, sd, sizeof(sd));
    }
    fs_tmp_free(open);
    fs_tmp_free(eroded);
    fs_tmp_free(skin);
    fs_tmp_free(covered);
    fs_tmp_free(weight);
    fs_tmp_free(target);
    fs_tmp_free(attr);
    fs_tmp_free(depth);
    return st;
}

fs_status fs_swap_target_prepare(const fs_engine *eng, const fs_exec *ex,
                                 const fs_swap_mesh *mesh, const fs_swap_params *params,
                                 const fs_image *frame, const float (*points)[3],
                                 fs_swap_target *out)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    if (!eng || !mesh || !params || !frame || !points || !out || !frame->data)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_swap: NULL argument");
    fs_status st = fs_image_view_check(NULL, frame, "fs_swap", err);
    if (st != FS_OK)
        return st;
    if (frame->format != FS_PIXEL_RGB8 || frame->memory != FS_MEMORY_HOST)
        return fs_fail(err, FS_ERR_UNSUPPORTED, "fs_swap: needs a host RGB8 image");
    fs_swap_target *t = fs_tmp_alloc(sizeof(*t));
    if (!t)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory");
    st = fs_swap_target_geometry(mesh, params, frame->width, frame->height, points, t, err);
    if (st == FS_OK) {
        const uint8_t *win = (const uint8_t *)frame->data + (size_t)t->y0 * (size_t)frame->stride + (size_t)t->x0 * 3;
        st = fs_swap_target_measure(eng, ex, mesh, params, win, frame->stride, t);
    }
    if (st == FS_OK)
        memcpy(out, t, sizeof(*t));
    fs_tmp_free(t);
    return st;
}

/* A target from a template file is input like any other. */
static fs_status check_target(const fs_swap_target *t, ptrdiff_t stride, fs_error_buf *err)
{
    if (t->w <= 0 || t->h <= 0 || t->x0 < 0 || t->y0 < 0 || t->frame_w <= 0 || t->frame_h <= 0 ||
        t->x0 > t->frame_w - t->w || t->y0 > t->frame_h - t->h || t->skin_pixels <= 0 ||
        !(t->face_size >= SWAP_MIN_FACE) || !(t->face_size <= 1e6))
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_swap_render: inconsistent target window");
    const fs_status st = fs_compose_check_size(err, t->w, t->h);
    if (st != FS_OK)
        return st;
    if (stride < 3 * (ptrdiff_t)t->w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_swap_render: stride %td below 3 x %d", stride, t->w);
    for (int c = 0; c < 3; c++)
        if (!isfinite(t->lab_mean[c]) || !(t->lab_sd[c] >= 0) || !(t->lab_sd[c] < 1e3))
            return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_swap_render: bad target statistics");
    for (int i = 0; i < FS_LANDMARKS; i++)
        for (int c = 0; c < 3; c++)
            if (!(fabsf(t->points[i][c]) <= 1e6f))
                return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_swap_render: landmark %d not finite or far out", i);
    for (int e = 0; e < 2; e++)
        for (int c = 0; c < 3; c++)
            if (!(fabsf(t->iris[e][c]) <= 1e6f))
                return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_swap_render: bad iris");
    return FS_OK;
}

/* Working buffers of one swap, all over the w x h window. */
typedef struct work {
    float *depth, *uv, *render, *target, *alpha, *weight, *alpha_in, *warp, *eye_dist;
    uint8_t *mask, *skin, *eroded, *render8, *open, *closed_eye;
} work;

static void work_free(work *k)
{
    fs_tmp_free(k->depth);
    fs_tmp_free(k->uv);
    fs_tmp_free(k->render);
    fs_tmp_free(k->target);
    fs_tmp_free(k->alpha);
    fs_tmp_free(k->weight);
    fs_tmp_free(k->mask);
    fs_tmp_free(k->skin);
    fs_tmp_free(k->eroded);
    fs_tmp_free(k->render8);
    fs_tmp_free(k->alpha_in);
    fs_tmp_free(k->warp);
    fs_tmp_free(k->open);
    fs_tmp_free(k->eye_dist);
    fs_tmp_free(k->closed_eye);
}

static int work_alloc(work *k, size_t n)
{
    k->depth = fs_tmp_alloc(n * sizeof(float));
    k->uv = fs_tmp_alloc(n * FS_SWAP_ATTR * sizeof(float));
    k->warp = fs_tmp_alloc(n * 3 * sizeof(float));
    k->render = fs_tmp_alloc(n * 3 * sizeof(float));
    k->target = fs_tmp_alloc(n * 3 * sizeof(float));
    k->alpha = fs_tmp_alloc(n * sizeof(float));
    k->weight = fs_tmp_alloc(n * sizeof(float));
    k->mask = fs_tmp_alloc(n);
    k->skin = fs_tmp_alloc(n);
    k->eroded = fs_tmp_alloc(n);
    k->render8 = fs_tmp_alloc(n * 3);
    k->alpha_in = fs_tmp_alloc(n * sizeof(float));
    k->open = fs_tmp_alloc(n);
    k->eye_dist = fs_tmp_alloc(n * sizeof(float));
    k->closed_eye = fs_tmp_alloc(n);
    return k->depth && k->uv && k->render && k->target && k->alpha && k->weight && k->mask &&
           k->skin && k->eroded && k->render8 && k->alpha_in && k->open && k->warp && k->eye_dist &&
           k->closed_eye;
}

/* A closed target eye is kept whole, lid and lashes (lookup.c,
 * EYE_CLOSED_BRIGHT): its lightness is brought to the render's round it by
 * one gain (the render's mean luma over the target's, over the skin of its
 * feather, clamped to 0.5..2), so that the lid meets the source's skin
 * without a rim. One gain for the three channels: with one per channel,
 * faceapi_sample3's warm side light, which the render keeps round the eye
 * of faceapi_sample1's middle face, turned its silver lid gold. */
#define CLOSED_TONE_MIN 16
static void closed_eyes_tone(work *k, size_t n)
{
    double sr[2] = {0, 0}, st[2] = {0, 0};
    long m[2] = {0, 0};
    for (size_t p = 0; p < n; p++) {
        const int e = k->closed_eye[p];
        if (e && k->eye_dist[p] > 0.0f && k->weight[p] > 0.0f) {
            const float *r = k->render + 3 * p, *t = k->target + 3 * p;
            sr[e - 1] += 0.299 * r[0] + 0.587 * r[1] + 0.114 * r[2];
            st[e - 1] += 0.299 * t[0] + 0.587 * t[1] + 0.114 * t[2];
            m[e - 1]++;
        }
    }
    float gain[3] = {1.0f, 1.0f, 1.0f}; /* none, eye 1, eye 2 */
    int any = 0;
    for (int e = 0; e < 2; e++)
        if (m[e] >= CLOSED_TONE_MIN && st[e] > 0.0) {
            gain[e + 1] = (float)fmin(fmax(sr[e] / st[e], 0.5), 2.0);
            any = 1;
        }
    for (size_t p = 0; p < n && any; p++)
        if (k->closed_eye[p] && gain[k->closed_eye[p]] != 1.0f)
            for (int c = 0; c < 3; c++) {
                float *v = k->warp + 3 * p + (size_t)c;
                *v = fminf(*v * gain[k->closed_eye[p]], 1.0f);
            }
}

/* Room for the debug images of @p info (malloc'd: fs_swap_info_free
 * releases them), made before the window is written so that running out
 * of memory leaves it as it was. */
static fs_status debug_alloc(fs_swap_info *info, size_t n, fs_error_buf *err)
{
    fs_swap_info_free(info);
    info->render_rgb = malloc(n * 3);
    info->mesh_mask = malloc(n);
    info->alpha = malloc(n * sizeof(float));
    if (!info->render_rgb || !info->mesh_mask || !info->alpha) {
        fs_swap_info_free(info);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory (debug images)");
    }
    return FS_OK;
}

/* The debug images copied out of the workspace. */
static void debug_fill(fs_swap_info *info, const work *k, size_t n)
{
    for (size_t p = 0; p < n; p++) /* the whole render, for looking at */
        for (int c = 0; c < 3; c++) {
            float v = k->render[3 * p + (size_t)c];
            v = v != v ? 0.0f : v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
            info->render_rgb[3 * p + (size_t)c] = (uint8_t)lrintf(v * 255.0f);
        }
    memcpy(info->mesh_mask, k->mask, n);
    memcpy(info->alpha, k->alpha, n * sizeof(float));
}

/* The shading of @p light at each vertex, facing as the mesh @p shape and
 * placed at @p points (the face's frame), per channel, as the factor on an
 * sRGB value: (linear shading, floored, times the atlas' @p albedo_scale)^(1/2.2).
 * With @p clamp, at no less facing than the light was fitted on
 * (fs_shading_clamp_facing): the target's light; the source's own is
 * evaluated as the capture divided it out. */
static void vertex_shading(const fs_swap_mesh *mesh, const float (*points)[3],
                           const fs_shading *light, const float (*shape)[3], float albedo_scale,
                           int clamp, float out[FS_MESH_LANDMARKS][3])
{
    float vn[FS_MESH_LANDMARKS][3];
    fs_atlas_vertex_normals(shape, &mesh->atlas, vn);
    fs_face_frame frame;
    fs_face_frame_of(points, &frame);
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        float h[FS_SHADE_TERMS], s[3];
        if (clamp)
            fs_shading_clamp_facing(vn[i]);
        fs_shading_basis(&frame, vn[i], points[i][0], points[i][1], h);
        fs_shading_eval(light, h, s);
        for (int c = 0; c < 3; c++)
            out[i][c] = powf(fmaxf(s[c], FS_SHADE_FLOOR) * albedo_scale, 1.0f / 2.2f);
    }
}

int fs_swap_vertex_light(const fs_swap_mesh *mesh, const fs_swap_params *params,
                         const fs_identity_data *id, const fs_swap_target *t,
                         float shade[FS_MESH_LANDMARKS][3])
{
    const float(*points)[3] = (const float(*)[3])t->points;
    const float(*source)[3] = (const float(*)[3])id->landmarks;
    if (id->atlas.light.n_fit <= 0) {
        for (int i = 0; i < FS_MESH_LANDMARKS; i++)
            shade[i][0] = shade[i][1] = shade[i][2] = 1.0f;
        return 1;
    }
    /* The source's own light where it was: the photo's shading back,
     * moving with the face as the photo's colours did. */
    vertex_shading(mesh, source, &id->atlas.light, source, id->atlas.albedo_scale, 0, shade);
    if (!params->relight || t->light.n_fit <= 0)
        return 1;
    /* The normals of the source's face in the target's pose: the target's
     * light falls on the source's shape, whose shading at the mesh's scale
     * was taken out with the source's light. */
    float(*own)[3] = fs_tmp_alloc(sizeof(float) * 3 * FS_LANDMARKS);
    if (!own)
        return 0;
    if (!shape_transfer(mesh, source, points, 1.0, own))
        memcpy(own, points, sizeof(float) * 3 * FS_LANDMARKS);
    float lit[FS_MESH_LANDMARKS][3], share[FS_MESH_LANDMARKS];
    vertex_shading(mesh, points, &t->light, (const float(*)[3])own, id->atlas.albedo_scale, 1,
                   lit);
    fs_tmp_free(own);
    /* Where the source saw its skin only at a grazing angle the albedo is
     * the photo over a light the fit extrapolated there, and its error is
     * what a target turned towards those parts shows largest: the photo's
     * own shading is kept (fs_swap_light_seen_weight). */
    fs_swap_light_share(mesh, source, share);
    for (int i = 0; i < FS_MESH_LANDMARKS; i++)
        for (int c = 0; c < 3; c++)
            shade[i][c] += share[i] * (lit[i][c] - shade[i][c]);
    return 1;
}

/* Adds the target's highlight layer (fs_light_highlights over the target's
 * skin with its light divided out) to the render, which holds the source's
 * albedo under the target's shading. Found at half the window's resolution
 * (each 2 x 2 block's skin pixels averaged, the shading taken at the
 * block's mean) and interpolated back: a highlight is wider than the
 * fine box's few pixels, and at full resolution the stage cost 10 ms of a
 * 260-px face's 28 ms swap on a slow core (the box sums and a power per
 * pixel and channel), about 2.3 ms so (doc/light-notes.md, twenty-first
 * step). */
static fs_status target_highlights(const fs_exec *ex, const work *k, int w, int h, double size,
                                   float margin)
{
    const int hw = (w + 1) / 2, hh = (h + 1) / 2;
    const size_t n = (size_t)hw * (size_t)hh;
    float *lin = fs_tmp_alloc(n * 3 * sizeof(float)), *excess = fs_tmp_alloc(n * sizeof(float));
    float *local = fs_tmp_alloc(n * 3 * sizeof(float));
    uint8_t *may = fs_tmp_alloc(n);
    fs_status st = FS_OK;
    if (!lin || !excess || !local || !may)
        st = fs_fail(FS_EXEC_ERR(ex), FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory");
    float lut[256];
    fs_srgb_to_linear_table(lut);
    for (int by = 0; by < hh && st == FS_OK; by++)
        for (int bx = 0; bx < hw; bx++) {
            float tsum[3] = {0, 0, 0}, asum[3] = {0, 0, 0};
            int cnt = 0;
            for (int y = 2 * by; y < 2 * by + 2 && y < h; y++)
                for (int x = 2 * bx; x < 2 * bx + 2 && x < w; x++) {
                    const size_t p = (size_t)y * (size_t)w + (size_t)x;
                    if (!(k->weight[p] > 0.0f))
                        continue;
                    const float *a = k->uv + FS_SWAP_ATTR * p + FS_SWAP_ATTR_EXTRA;
                    for (int c = 0; c < 3; c++) {
                        tsum[c] += lut[(int)lrintf(k->target[3 * p + (size_t)c] * 255.0f) & 255];
                        asum[c] += a[c];
                    }
                    cnt++;
                }
            const size_t b = (size_t)by * (size_t)hw + (size_t)bx;
            may[b] = cnt > 0;
            for (int c = 0; c < 3; c++) {
                const float s = cnt ? fmaxf(powf(asum[c] / (float)cnt, 2.2f), FS_SHADE_FLOOR) : 1.0f;
                lin[3 * b + (size_t)c] = cnt ? tsum[c] / (float)cnt / s : 0.0f;
            }
        }
    const int fine_r = (int)fmax(1.0, size / 256.0), wide_r = (int)fmax(2.0, size / 20.0);
    if (st == FS_OK &&
        !fs_light_highlights(lin, may, may, hw, hh, fine_r, wide_r, margin, excess, local))
        st = fs_fail(FS_EXEC_ERR(ex), FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory");
    /* Rows of the grid with some highlight: most have none, and a pixel
     * between two such rows interpolates to 0 (excess is never negative). */
    uint8_t *lit_row = st == FS_OK ? fs_tmp_alloc((size_t)hh) : NULL;
    if (st == FS_OK && !lit_row)
        st = fs_fail(FS_EXEC_ERR(ex), FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory");
    for (int by = 0; by < hh && st == FS_OK; by++) {
        lit_row[by] = 0;
        for (int bx = 0; bx < hw; bx++)
            lit_row[by] |= excess[(size_t)by * (size_t)hw + (size_t)bx] > 0.0f;
    }
    for (int y = 0; y < h && st == FS_OK; y++) {
        const fs_lerp_at ry = fs_lerp_of(y, 2, hh);
        if (!lit_row[ry.i0] && !lit_row[ry.i1])
            continue;
        const float *e0 = excess + (size_t)ry.i0 * hw, *e1 = excess + (size_t)ry.i1 * hw;
        for (int x = 0; x < w; x++) {
            const size_t p = (size_t)y * (size_t)w + (size_t)x;
            if (!(k->weight[p] > 0.0f))
                continue;
            const fs_lerp_at rx = fs_lerp_of(x, 2, hw);
            const float a0 = e0[rx.i0] + rx.a * (e0[rx.i1] - e0[rx.i0]);
            const float a1 = e1[rx.i0] + rx.a * (e1[rx.i1] - e1[rx.i0]);
            const float e = a0 + ry.a * (a1 - a0);
            if (!(e > 0.0f))
                continue;
            const float *a = k->uv + FS_SWAP_ATTR * p + FS_SWAP_ATTR_EXTRA;
            for (int c = 0; c < 3; c++) {
                float *r = k->render + 3 * p + (size_t)c;
                *r = fs_linear_to_srgb(fs_srgb_to_linear(*r) + e * powf(a[c], 2.2f));
            }
        }
    }
    fs_tmp_free(lit_row);
    fs_tmp_free(may);
    fs_tmp_free(local);
    fs_tmp_free(excess);
    fs_tmp_free(lin);
    return st;
}

/* The colour match's statistics leave out what is brighter than the skin
 * around it on either side, a highlight of the source carried by its
 * albedo or one of the target's: a highlight is light, not skin colour,
 * and counted in, a bright spot on one cheek of the source moved the
 * render's mean and spread and so the whole face (the light leak of a
 * spot was over 1: the swap made the difference larger than the spot
 * itself). Per side, a pixel whose sRGB luma lies more than STATS_HL_IQR
 * times the upper quartile's distance above the median is given the
 * weight STATS_HL_WEIGHT: still matched (weight > 0), hardly counted.
 * The same pixels on both sides, so a face swapped onto itself keeps its
 * statistics. FS_COLOR_FULL's face-scale ratio takes the same weights: its
 * wide blur of the render's luminance spread a spot's light over the
 * cheek around it, and darkened it. Under FS_LIGHT_MIN_FACE the quartiles
 * of a few hundred pixels are noise more than highlights, and every pixel
 * counts. Measured (light_leak, 8 photos): leak of the spots 2.09 / 1.89
 * -> 1.89 / 1.64, mean 0.881 -> 0.807; self-swap SSIM 0.9816 either way,
 * MAE 1.68 -> 1.74 (worst channel 2.46 -> 2.47); identity (quality_swap)
 * +0.213 (min +0.157) -> +0.216 (min +0.151).
 *
 * The dark tail likewise, below the median by STATS_DARK_IQR times the
 * lower quartile's distance: dark make-up, a strand of the source's hair
 * or the shadow of its fringe, a nostril. None of them is skin colour
 * either; counted in, faceapi_sample1's painted black dots and triangles
 * widened the target's spread, and the match hardened the astronaut's
 * smile creases and the shadow by her hair into brown smudges on the
 * cheeks, which FULL's ratio spread further. Measured against the upper
 * cut alone, both with the detail stage's energy of then, a mean of squares
 * (doc/light-notes.md, sixteenth step): self-swap MAE 1.42 ->
 * 1.27 (worst channel 2.08 -> 1.88), SSIM 0.9847 -> 0.9845; identity
 * +0.213 (min +0.148) -> +0.212 (min +0.155), detector score x0.977 ->
 * x0.969, seam x1.097 -> x1.109; light leak 0.696 either way. At 1.5,
 * 2.5 and 3 the leak, the MAE and the identity mean were each worse. */
#define STATS_HL_IQR 2.0f
#define STATS_DARK_IQR 2.0f
#define STATS_HL_WEIGHT 1e-4f

/* The luma range of @p img that counts as skin, [*lo, *hi], from a
 * 256-bin histogram over the pixels of weight > 0. */
static void skin_luma_range(const float *img, const float *weight, int w, int h, float *lo,
                            float *hi)
{
    const int step = sample_step(w, h);
    long hist[256] = {0}, total = 0;
    for (int y = 0; y < h; y += step)
        for (int x = 0; x < w; x += step) {
            const size_t p = (size_t)y * (size_t)w + (size_t)x;
            if (!(weight[p] > 0.0f))
                continue;
            const float v = fs_luma709(img + 3 * p);
            hist[(int)fminf(fmaxf(v * 255.0f + 0.5f, 0.0f), 255.0f)]++;
            total++;
        }
    *lo = -1.0f;
    *hi = 2.0f;
    if (total == 0)
        return;
    int q1 = -1, med = -1, q3 = -1;
    long run = 0;
    for (int b = 0; b < 256; b++) {
        run += hist[b];
        if (q1 < 0 && 4 * run >= total)
            q1 = b;
        if (med < 0 && 2 * run >= total)
            med = b;
        if (q3 < 0 && 4 * run >= 3 * total)
            q3 = b;
    }
    *lo = ((float)med - STATS_DARK_IQR * fmaxf((float)(med - q1), 1.0f)) / 255.0f;
    *hi = ((float)med + STATS_HL_IQR * fmaxf((float)(q3 - med), 1.0f)) / 255.0f;
}

static void stats_weights(const work *k, int w, int h, double size, float *out)
{
    const size_t n = (size_t)w * (size_t)h;
    if (size < FS_LIGHT_MIN_FACE) {
        memcpy(out, k->weight, n * sizeof(float));
        return;
    }
    float rlo, rhi, tlo, thi;
    skin_luma_range(k->render, k->weight, w, h, &rlo, &rhi);
    skin_luma_range(k->target, k->weight, w, h, &tlo, &thi);
    for (size_t p = 0; p < n; p++) {
        out[p] = k->weight[p];
        if (!(out[p] > 0.0f))
            continue;
        const float yr = fs_luma709(k->render + 3 * p), yt = fs_luma709(k->target + 3 * p);
        if (yr > rhi || yt > thi || yr < rlo || yt < tlo)
            out[p] = STATS_HL_WEIGHT;
    }
}

/* The target's light refitted against the source's albedo: the ratio of
 * the target's pixels to the render's, per mesh vertex, fitted with the
 * light's own six terms and put on the shading (fs_swap_params.light_refit).
 * The target's light is fitted on its pixels as if its skin were of one
 * colour; the albedo it then lights still holds what the source's fit left
 * of the source's light. On the light leak's ramps that rest lies along
 * the slopes (the nose's flank, the cheek turning away: faceapi_sample4
 * under the warm ramp), a pattern over the normals that FULL's face-scale
 * low-pass does not reach. The ratio's fit is that rest, seen from the
 * target; its level is left to the colour match, and its reach held within
 * REFIT_GAIN either way and, like the target's light, no further round
 * than it was sampled (fs_shading_clamp_facing).
 *
 * Sampled at the vertices on the light's skin facing the camera at least
 * REFIT_FACING: the target's luminance over a box 1/80 of the face across
 * (none where a pixel clips), the atlas over 3 x 3 taps as far apart,
 * times the vertex's shade: the render's value there before the colour
 * stages, both in linear light. Measured (doc/light-notes.md, fifteenth
 * step), 0 / 0.4 / 1: light leak 0.726 / 0.696 / 0.694 (the ramps 0.293 /
 * 0.370 / 0.237 / 0.177 -> 0.238 / 0.319 / 0.202 / 0.161 at 0.4, 0.193 /
 * 0.287 / 0.182 / 0.152 at 1), self-swap MAE 1.52 / 1.42 / 1.57, identity
 * +0.216 / +0.213 / +0.202 (min +0.150 / +0.148 / +0.119): at 1 the fit
 * takes the source's own skin tones on the slopes with the light. */
#define REFIT_FACING 0.5f
#define REFIT_GAIN 1.5

static int refit_light(const fs_swap_mesh *mesh, const fs_identity_data *id,
                       const fs_swap_target *t, const uint8_t *win, ptrdiff_t stride,
                       double amount, float shade[FS_MESH_LANDMARKS][3])
{
    const float(*points)[3] = (const float(*)[3])t->points;
    float(*basis)[FS_SHADE_TERMS] = fs_tmp_alloc(sizeof(float) * FS_SHADE_TERMS * FS_MESH_LANDMARKS);
    float *ratio = fs_tmp_alloc(sizeof(float) * FS_MESH_LANDMARKS);
    float(*vn)[3] = fs_tmp_alloc(sizeof(float) * 3 * FS_MESH_LANDMARKS);
    int ok = basis && ratio && vn;
    if (ok) {
        fs_atlas_vertex_normals(points, &mesh->atlas, vn);
        fs_face_frame frame;
        fs_face_frame_of(points, &frame);
        float lut[256];
        fs_srgb_to_linear_table(lut);
        const int r = (int)fmax(1.0, t->face_size / 80.0);
        const float du = (float)(r / fmax(t->face_size, 1.0));
        for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
            ratio[i] = 0.0f; /* left out */
            const float *uv = mesh->atlas.uv[i];
            const int sampled = vn[i][2] >= REFIT_FACING;
            fs_shading_clamp_facing(vn[i]);
            fs_shading_basis(&frame, vn[i], points[i][0], points[i][1], basis[i]);
            if (!sampled || !fs_atlas_light_skin(&mesh->atlas, uv[0], uv[1]))
                continue;
            const long cx = lrintf(points[i][0]) - t->x0, cy = lrintf(points[i][1]) - t->y0;
            if (cx - r < 0 || cy - r < 0 || cx + r >= t->w || cy + r >= t->h)
                continue;
            double tl = 0.0;
            int clipped = 0;
            for (long y = cy - r; y <= cy + r; y++)
                for (long x = cx - r; x <= cx + r; x++) {
                    const uint8_t *c = win + y * stride + 3 * x;
                    clipped |= c[0] >= 250 || c[1] >= 250 || c[2] >= 250;
                    tl += 0.2126 * lut[c[0]] + 0.7152 * lut[c[1]] + 0.0722 * lut[c[2]];
                }
            if (clipped || !(tl > 0.0))
                continue;
            tl /= (double)((2 * r + 1) * (2 * r + 1));
            double al[3] = {0, 0, 0};
            int na = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    float rgb[3];
                    if (fs_atlas_sample(&id->atlas, uv[0] + (float)dx * du, uv[1] + (float)dy * du, rgb) < 0.5f)
                        continue;
                    for (int c = 0; c < 3; c++)
                        al[c] += rgb[c];
                    na++;
                }
            if (na < 5)
                continue;
            double rl[3];
            for (int c = 0; c < 3; c++)
                rl[c] = pow(al[c] / (255.0 * na) * shade[i][c], 2.2);
            const double ry = 0.2126 * rl[0] + 0.7152 * rl[1] + 0.0722 * rl[2];
            if (ry > 1e-3 && tl > 1e-3)
                ratio[i] = (float)(tl / ry);
        }
    }
    float coeff[FS_SHADE_TERMS];
    const int fit = ok ? fs_shading_ratio_fit(ratio, &basis[0][0], FS_MESH_LANDMARKS, coeff) : -1;
    ok = fit >= 0;
    if (fit == 1) {
        double mean = 0.0;
        int n = 0;
        float gain[FS_MESH_LANDMARKS];
        for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
            double f = 0.0;
            for (int k = 0; k < FS_SHADE_TERMS; k++)
                f += coeff[k] * basis[i][k];
            gain[i] = (float)f;
            if (ratio[i] > 0.0f) {
                mean += f;
                n++;
            }
        }
        mean /= n > 0 ? n : 1;
        for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
            const double g = fmin(fmax(exp(amount * (gain[i] - mean)), 1.0 / REFIT_GAIN), REFIT_GAIN);
            const float s = (float)pow(g, 1.0 / 2.2); /* the shade is a factor on sRGB */
            for (int c = 0; c < 3; c++)
                shade[i][c] *= s;
        }
    }
    fs_tmp_free(vn);
    fs_tmp_free(ratio);
    fs_tmp_free(basis);
    return ok;
}

static fs_status render_window(const fs_engine *eng, const fs_exec *ex,
                               const fs_swap_mesh *mesh, const fs_swap_params *params,
                               const fs_identity_data *id, const fs_swap_target *t, uint8_t *win,
                               ptrdiff_t stride, fs_swap_info *info)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    const fs_compose_ops *const cops = &eng->compose;
    const int w = t->w, h = t->h;
    const size_t n = (size_t)w * (size_t)h;
    const double size = t->face_size;
    const float(*points)[3] = (const float(*)[3])t->points;
    work k = {0};
    if (!work_alloc(&k, n)) {
        work_free(&k);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory (%d x %d window)", w, h);
    }
    if (info && info->keep_debug) {
        const fs_status dst = debug_alloc(info, n, err);
        if (dst != FS_OK) {
            work_free(&k);
            return dst;
        }
    }
    const fs_raster_desc desc = {t->x0, t->y0, w, h, FS_SWAP_ATTR, FS_RASTER_CULL_NONE};
    float(*shaped)[3] = NULL;
    if (params->shape > 0) {
        shaped = fs_tmp_alloc(sizeof(float) * 3 * FS_LANDMARKS);
        if (!shaped) {
            work_free(&k);
            return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory");
        }
        shape_transfer(mesh, (const float(*)[3])id->landmarks, points, params->shape, shaped);
    }
    /* An atlas that holds albedo is lit again (fs_swap_vertex_light). */
    const int relight = id->atlas.light.n_fit > 0;
    const int target_light = relight && params->relight && t->light.n_fit > 0;
    float shade[FS_MESH_LANDMARKS][3];
    if ((relight && !fs_swap_vertex_light(mesh, params, id, t, shade)) ||
        (target_light && params->light_refit > 0.0 &&
         !refit_light(mesh, id, t, win, stride, params->light_refit, shade))) {
        work_free(&k);
        fs_tmp_free(shaped);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory");
    }
    fs_status st = rasterise(eng, ex, mesh, params->subdivision,
                             shaped ? (const float(*)[3])shaped : points, points,
                             (const float(*)[3])id->landmarks,
                             relight ? (const float(*)[3])shade : NULL, &desc, k.depth, k.uv,
                             k.mask);
    fs_tmp_free(shaped);
    if (st != FS_OK) {
        work_free(&k);
        return st;
    }

    /* Texture lookup, the openings and the skin mask. */
    fs_swap_lookup look = {
        .atlas = &id->atlas,
        .mesh = &mesh->atlas,
        .attr = k.uv,
        .covered = k.mask,
        .window = win,
        .stride = stride,
        .x0 = t->x0,
        .y0 = t->y0,
        .w = w,
        .h = h,
        .eyes = params->eyes,
        .forehead_v = forehead_cut(mesh, params),
        .brow_v = mesh->brow_v,
        .skin_guard = params->skin_guard,
        .relight = relight,
        .target_points = points,
        .eye_reach = (float)(params->hole_feather * size),
    };
    memcpy(look.target_iris, t->iris, sizeof(look.target_iris));
    fs_swap_iris_discs((const float(*)[3])id->landmarks, look.source_iris);
    fs_swap_lookup_out lo = {
        .render = k.render, .target = k.target, .warp = k.warp, .skin = k.skin, .open = k.open,
        .eye_dist = k.eye_dist, .closed_eye = k.closed_eye};
    st = eng->swap.lookup(ex, &look, &lo);
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
    st = erode_skin(ex, cops, params, k.skin, w, h, size, k.eroded);
    if (st == FS_OK) {
        long left = 0;
        for (size_t p = 0; p < n; p++)
            left += k.eroded[p] != 0;
        if (left == 0) /* a tiny face eroded away: keep the un-eroded mask */
            memcpy(k.eroded, k.skin, n);
        st = cops->mask_feather(ex, k.eroded, w, h, w, params->feather * size, 0, k.alpha, w);
    }
    /* The openings' own, narrow feather between the source's skin and the
     * target's eyes and mouth: alpha_in is the atlas' share of the render.
     * Colour statistics leave the openings out. */
    for (size_t p = 0; p < n; p++) {
        k.weight[p] = k.eroded[p] && !k.open[p] ? 1.0f : 0.0f;
        k.open[p] = !k.open[p];
    }
    if (st == FS_OK)
        st = cops->mask_feather(ex, k.open, w, h, w, params->hole_feather * size, 0, k.alpha_in,
                                w);
    /* Round the eyes the feather runs from the grown lid contour itself:
     * from the pixel grid's openings (their centres in or out) it drew
     * each opening's edge as a staircase, a dark jagged rim where the
     * target's lashes or make-up meet the source's lighter lid (closed,
     * made-up eyes read as holes cut in the face). The grid's distance to
     * an opening is never below the contour's, so this only gives the
     * target a little more of the rim. */
    if (st == FS_OK && params->hole_feather * size > 0.0) {
        const float inv = (float)(1.0 / (params->hole_feather * size));
        for (size_t p = 0; p < n; p++)
            if (k.eye_dist[p] < INFINITY)
                k.alpha_in[p] = fminf(k.alpha_in[p], k.eye_dist[p] * inv);
    }

    /* The target's own highlights back on (the source's were taken out of its
     * albedo at capture), before the colour match, so that its statistics
     * and the target's both hold them: they belong to the target's light. */
    if (st == FS_OK && target_light && id->atlas.highlight_margin > 0.0f)
        st = target_highlights(ex, &k, w, h, size, id->atlas.highlight_margin);
    /* Colour correction over the eroded skin: the render's statistics
     * become the target's over the same pixels. The target's skin as
     * fs_swap_target_prepare measured it is another set (the source's hair
     * guard and coverage leave pixels out of the render's): the astronaut
     * swapped onto itself came back 1.5 L* darker and 15% harder, self-swap
     * MAE 1.27 -> 3.72 levels from this stage alone. */
    float *sw = NULL;
    if (st == FS_OK && params->colour >= FS_COLOR_MEANSTD) {
        double mean[3], sd[3];
        sw = fs_tmp_alloc(n * sizeof(float));
        if (!sw)
            st = fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap: out of memory");
        if (st == FS_OK) {
            stats_weights(&k, w, h, size, sw);
            st = grid_lab_stats(ex, cops, k.target, sw, w, h, mean, sd);
        }
        /* Under the target's own light the render differs from the target
         * in lightness by an albedo and an exposure, both gains. Without it
         * (faces under FS_LIGHT_MIN_FACE) the render keeps the source's
         * light and contrast, and the shift keeps them: as a gain, a bright
         * face scaled onto messi5's dark 35 px one lost its features
         * (identity +0.187 -> +0.098). */
        if (st == FS_OK)
            st = cops->colour_match_to(ex, k.render, 3 * (ptrdiff_t)w, sw, w, h, mean, sd,
                                       target_light ? FS_COLOUR_L_GAIN : FS_COLOUR_L_SHIFT);
    }
    if (st == FS_OK && params->colour >= FS_COLOR_FULL) {
        const double sigma = fmax(FULL_SIGMA * size, 1.0);
        /* A gain of at most 1.5 either way: a looser one turns dark source
         * features that the target lacks (a fringe of hair, a shadow) into
         * bright, saturated patches. */
        st = cops->colour_shading(ex, cops, k.render, 3 * (ptrdiff_t)w, k.target,
                                  3 * (ptrdiff_t)w, sw, w, h, sigma, 1.5);
        /* Then its colour at the same scale: a coloured light on one side
         * of the target, and what its six-term light leaves of the
         * source's (doc/light-notes.md, thirteenth step). */
        if (st == FS_OK)
            st = cops->colour_chroma(ex, cops, k.render, 3 * (ptrdiff_t)w, k.target,
                                     3 * (ptrdiff_t)w, sw, w, h, sigma, 1.5);
    }
    fs_tmp_free(sw);
    if (st == FS_OK && params->match_detail)
        st = cops->colour_detail(ex, cops, k.render, 3 * (ptrdiff_t)w, k.target, 3 * (ptrdiff_t)w,
                                 k.weight, w, h, 0x5eed5a7full, NULL);

    if (st == FS_OK)
        closed_eyes_tone(&k, n);

    /* The openings mixed back in; outside the eroded mask the blends see
     * the target's own pixels, so that the pyramid's coarse bands and
     * Poisson's gradients meet no uncorrected render (eyes, mouth, the mesh
     * edge) next to the mask. */
    if (st == FS_OK)
        st = eng->swap.finish_u8(ex, k.render, k.warp, k.alpha_in, k.eroded, win, stride, w, h,
                                 k.render8);

    if (st == FS_OK) {
        switch (params->blend) {
        case FS_BLEND_ALPHA:
            st = fs_blend_alpha_u8(ex, cops, k.render8, 3 * (ptrdiff_t)w, win, stride, k.alpha, w,
                                   w, h);
            break;
        case FS_BLEND_MULTIBAND:
            st = cops->blend_multiband_u8(ex, k.render8, 3 * (ptrdiff_t)w, win, stride, k.alpha, w,
                                          h, 0);
            break;
        default: {
            const fs_poisson_opts po = fs_swap_poisson_opts(size);
            st = cops->blend_poisson_u8(ex, k.render8, 3 * (ptrdiff_t)w, win, stride, k.eroded, w,
                                        w, h, &po, NULL);
            for (size_t p = 0; p < n; p++)
                k.alpha[p] = k.eroded[p] ? 1.0f : 0.0f;
            break;
        }
        }
    }

    if (st == FS_OK && info) {
        info->x0 = t->x0;
        info->y0 = t->y0;
        info->w = w;
        info->h = h;
        info->clipped = t->clipped;
        info->face_size = size;
        info->covered = covered;
        info->textured = textured;
        info->mask_pixels = skin_n;
        if (info->keep_debug)
            debug_fill(info, &k, n);
    }
    if (st != FS_OK && info && info->keep_debug)
        fs_swap_info_free(info);
    work_free(&k);
    return st;
}

fs_status fs_swap_render(const fs_engine *eng, const fs_exec *ex, fs_swap_workspace *ws,
                         const fs_swap_mesh *mesh, const fs_swap_params *params,
                         const fs_identity_data *id, const fs_swap_target *t, uint8_t *win,
                         ptrdiff_t stride, fs_swap_info *info)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    if (!eng || !mesh || !params || !id || !t || !win || !id->atlas.rgba)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_swap_render: NULL argument");
    fs_status st = check_params(params, err);
    if (st == FS_OK)
        st = check_target(t, stride, err);
    if (st != FS_OK)
        return st;
    fs_scratch *const outer = fs_scratch_bind(ws ? &ws->scratch : NULL);
    st = render_window(eng, ex, mesh, params, id, t, win, stride, info);
    fs_scratch_bind(outer);
    /* Grown after the call, to what it needed: the next one of the same
     * size finds it all there. A failure here only means the next call
     * falls back to malloc again. */
    if (ws)
        (void)fs_scratch_fit(&ws->scratch);
    return st;
}

fs_status fs_swap_face(const fs_engine *eng, const fs_exec *ex, fs_swap_workspace *ws,
                       const fs_swap_mesh *mesh, const fs_swap_params *params,
                       const fs_identity_data *id, fs_image *image, const float (*points)[3],
                       fs_swap_info *info)
{
    if (!eng || !mesh || !params || !id || !image || !points || !image->data || !id->atlas.rgba)
        return fs_fail(FS_EXEC_ERR(ex), FS_ERR_INVALID_ARGUMENT, "fs_swap: NULL argument");
    fs_swap_target t;
    /* The prepare's temporaries from the workspace too: a renderer's
     * still swaps then reuse its memory as well. */
    fs_scratch *const outer = fs_scratch_bind(ws ? &ws->scratch : NULL);
    fs_status st = fs_swap_target_prepare(eng, ex, mesh, params, image, points, &t);
    fs_scratch_bind(outer);
    if (ws)
        (void)fs_scratch_fit(&ws->scratch);
    if (st == FS_OK) {
        uint8_t *win = (uint8_t *)image->data + (size_t)t.y0 * (size_t)image->stride + (size_t)t.x0 * 3;
        st = fs_swap_render(eng, ex, ws, mesh, params, id, &t, win, image->stride, info);
    }
    return st;
}

fs_status fs_swap_face_rgb8(const fs_engine *eng, const fs_exec *ex,
                            const fs_swap_mesh *mesh, const fs_swap_params *params,
                            const fs_identity_data *id, fs_image *image,
                            const float (*points)[3], fs_swap_info *info)
{
    return fs_swap_face(eng, ex, NULL, mesh, params, id, image, points, info);
}
