/*
 * Unwrapping a face photo into the canonical mesh's UV atlas.
 *
 * Every triangle is rasterised in UV space with exact integer edge functions
 * (texel centres, top-left rule), so neighbouring triangles share their edge
 * texels without holes or double writes. Each texel takes two candidate
 * colours: its own point in the photo (the barycentric blend of its
 * triangle's landmarks) and its mirror point (the same barycentrics over the
 * mirror vertices: a per-triangle affine mirror map, exact at the vertices,
 * needed because MediaPipe's UV layout is not symmetric under u -> 1-u). Each
 * candidate is weighted by how squarely its triangle faces the camera and by
 * a depth test against the whole mesh in image space; the own colour wins
 * whenever it is seen well enough, the mirror fills in where it is not.
 */
#include "identity/atlas.h"
#include "identity/light.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ mesh */

/* Eye openings and mouth interior, as closed rings: the lower lid or lip from
 * corner to corner, then the upper one back (meshAnnotations of
 * facemeshcoords.ts: *EyeLower0 + reversed *EyeUpper0, lipsLowerInner +
 * reversed lipsUpperInner). */
static const uint16_t ring_right_eye[] = {33, 7, 163, 144, 145, 153, 154, 155, 133,
                                          173, 157, 158, 159, 160, 161, 246};
static const uint16_t ring_left_eye[] = {263, 249, 390, 373, 374, 380, 381, 382, 362,
                                         398, 384, 385, 386, 387, 388, 466};
static const uint16_t ring_mouth[] = {78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308,
                                      415, 310, 311, 312, 13, 82, 81, 80, 191};

static void set_ring(fs_atlas_mesh *m, int r, const uint16_t *idx, int n)
{
    m->ring_len[r] = n;
    memcpy(m->ring[r], idx, sizeof(uint16_t) * (size_t)n);
    float *box = m->ring_box[r];
    box[0] = box[1] = FLT_MAX;
    box[2] = box[3] = -FLT_MAX;
    for (int i = 0; i < n; i++) {
        box[0] = fminf(box[0], m->uv[idx[i]][0]);
        box[1] = fminf(box[1], m->uv[idx[i]][1]);
        box[2] = fmaxf(box[2], m->uv[idx[i]][0]);
        box[3] = fmaxf(box[3], m->uv[idx[i]][1]);
    }
}

fs_status fs_atlas_mesh_init(const fs_canonical_face *canon, fs_atlas_mesh *mesh,
                             fs_error_buf *err)
{
    if (!canon || !mesh)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_atlas_mesh_init: NULL argument");
    if (canon->n_triangles <= 0 || canon->n_triangles > FS_CANON_MAX_TRIANGLES)
        return fs_fail(err, FS_ERR_MODEL, "canonical face: %d triangles", canon->n_triangles);
    memset(mesh, 0, sizeof(*mesh));

    /* Forehead (10) above chin (152) in the atlas: turn v-up storage to v-down,
     * so the atlas reads as an upright picture. */
    const int v_up = canon->uv[10][1] > canon->uv[152][1];
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        mesh->uv[i][0] = canon->uv[i][0];
        mesh->uv[i][1] = v_up ? 1.0f - canon->uv[i][1] : canon->uv[i][1];
    }

    /* One winding for all: canonical z points at the viewer and landmark z
     * away from it (y flips too, a proper rotation), so front faces with a
     * positive canonical normal.z have a negative landmark normal.z. The
     * file's winding is consistent; only its global sense is checked. */
    double sum_nz = 0;
    for (int t = 0; t < canon->n_triangles; t++) {
        const uint16_t *tr = canon->triangles[t];
        for (int k = 0; k < 3; k++)
            if (tr[k] >= FS_MESH_LANDMARKS)
                return fs_fail(err, FS_ERR_MODEL, "canonical face: triangle %d vertex %u", t,
                               (unsigned)tr[k]);
        const float *a = canon->vertices[tr[0]], *b = canon->vertices[tr[1]],
                    *c = canon->vertices[tr[2]];
        sum_nz += (double)(b[0] - a[0]) * (c[1] - a[1]) - (double)(b[1] - a[1]) * (c[0] - a[0]);
    }
    mesh->n_triangles = canon->n_triangles;
    for (int t = 0; t < canon->n_triangles; t++) {
        const uint16_t *tr = canon->triangles[t];
        mesh->triangles[t][0] = tr[0];
        mesh->triangles[t][1] = sum_nz >= 0 ? tr[1] : tr[2];
        mesh->triangles[t][2] = sum_nz >= 0 ? tr[2] : tr[1];
    }

    /* Mirror vertices: the canonical face is symmetric about x = 0. */
    const float worst = fs_canonical_mirror(canon, mesh->mirror);
    float worst_u = 0;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++)
        worst_u = fmaxf(worst_u, fabsf(mesh->uv[mesh->mirror[i]][0] - (1.0f - mesh->uv[i][0])));
    mesh->mirror_error = worst;
    mesh->mirror_u_error = worst_u;
    /* A face that is not symmetric to a millimetre is not MediaPipe's. */
    if (worst > 0.1f)
        return fs_fail(err, FS_ERR_MODEL, "canonical face: not symmetric (%.3f cm off)",
                       (double)worst);

    set_ring(mesh, 0, ring_right_eye, (int)(sizeof(ring_right_eye) / sizeof(ring_right_eye[0])));
    set_ring(mesh, 1, ring_left_eye, (int)(sizeof(ring_left_eye) / sizeof(ring_left_eye[0])));
    set_ring(mesh, 2, ring_mouth, (int)(sizeof(ring_mouth) / sizeof(ring_mouth[0])));
    return FS_OK;
}

int fs_atlas_in_region(const fs_atlas_mesh *mesh, float u, float v)
{
    for (int r = 0; r < FS_ATLAS_REGIONS; r++) {
        const int n = mesh->ring_len[r];
        const float *box = mesh->ring_box[r];
        if (u < box[0] || u > box[2] || v < box[1] || v > box[3])
            continue;
        int inside = 0;
        /* Even-odd crossing test. */
        for (int i = 0, j = n - 1; i < n; j = i++) {
            const float *a = mesh->uv[mesh->ring[r][i]], *b = mesh->uv[mesh->ring[r][j]];
            if ((a[1] > v) != (b[1] > v) && u < (b[0] - a[0]) * (v - a[1]) / (b[1] - a[1]) + a[0])
                inside = !inside;
        }
        if (inside)
            return r + 1;
    }
    return 0;
}

void fs_atlas_params_default(fs_atlas_params *p)
{
    p->size = 256;
    p->direct_full = FS_ATLAS_DIRECT_FULL;
    p->stats_min = 0.3f;
    p->hide_side = 0;
    p->plain = 0;
    p->delight = 1;
    p->highlight_margin = FS_ATLAS_HIGHLIGHT_MARGIN;
}

void fs_atlas_free(fs_atlas *atlas)
{
    if (!atlas)
        return;
    free(atlas->rgba);
    free(atlas->weight);
    memset(atlas, 0, sizeof(*atlas));
}

/* ------------------------------------------------------------------ colour */

static float lab_f(float t)
{
    return t > 0.008856452f ? cbrtf(t) : 7.787037f * t + 16.0f / 116.0f;
}

void fs_linear_to_lab(const float lin[3], float lab[3])
{
    const float x = (0.4124564f * lin[0] + 0.3575761f * lin[1] + 0.1804375f * lin[2]) / 0.95047f;
    const float y = 0.2126729f * lin[0] + 0.7151522f * lin[1] + 0.0721750f * lin[2];
    const float z = (0.0193339f * lin[0] + 0.1191920f * lin[1] + 0.9503041f * lin[2]) / 1.08883f;
    const float fx = lab_f(x), fy = lab_f(y), fz = lab_f(z);
    lab[0] = 116.0f * fy - 16.0f;
    lab[1] = 500.0f * (fx - fy);
    lab[2] = 200.0f * (fy - fz);
}

void fs_srgb_to_lab(const uint8_t rgb[3], float lab[3])
{
    const float lin[3] = {fs_srgb_to_linear(rgb[0] / 255.0f), fs_srgb_to_linear(rgb[1] / 255.0f),
                          fs_srgb_to_linear(rgb[2] / 255.0f)};
    fs_linear_to_lab(lin, lab);
}

/* fminf/fmaxf/floorf are library calls without SSE4.1 or -ffinite-math-only;
 * the inner loops use these (NaN never reaches them: inputs are checked). */
static inline float clampf(float x, float lo, float hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* ------------------------------------------------------------------ photo sampling */

typedef struct photo {
    const uint8_t *data;
    int w, h, stride, ch;
    int r, g, b; /* channel offsets */
} photo;

/* Bilinear RGB at image point (x, y), edges replicated. Returns 0 (and
 * black) when the point is off the image (beyond half a pixel past the
 * outer centres). Pixel centres sit at integers: the landmarks' convention,
 * and the renderer's (lib/render/raster.h), so that a texel goes back to
 * the place it came from. Centres at +0.5 here moved every swapped face
 * half a pixel right and down: on a self-swap, 4-5 grey levels of error
 * along every edge, and far more on a small face. */
static int photo_sample(const photo *p, float x, float y, float out[3])
{
    if (!(x >= -0.5f && y >= -0.5f && x <= (float)p->w - 0.5f && y <= (float)p->h - 0.5f)) {
        out[0] = out[1] = out[2] = 0.0f;
        return 0;
    }
    const float fx = clampf(x, 0.0f, (float)(p->w - 1));
    const float fy = clampf(y, 0.0f, (float)(p->h - 1));
    const int x0 = (int)fx, y0 = (int)fy;
    const int x1 = x0 + 1 < p->w ? x0 + 1 : x0, y1 = y0 + 1 < p->h ? y0 + 1 : y0;
    const float ax = fx - (float)x0, ay = fy - (float)y0;
    const uint8_t *r0 = p->data + (size_t)y0 * (size_t)p->stride;
    const uint8_t *r1 = p->data + (size_t)y1 * (size_t)p->stride;
    const int off[3] = {p->r, p->g, p->b};
    for (int c = 0; c < 3; c++) {
        const float top = r0[x0 * p->ch + off[c]] * (1 - ax) + r0[x1 * p->ch + off[c]] * ax;
        const float bot = r1[x0 * p->ch + off[c]] * (1 - ax) + r1[x1 * p->ch + off[c]] * ax;
        out[c] = top * (1 - ay) + bot * ay;
    }
    return 1;
}

/* ------------------------------------------------------------------ depth buffer */

/* The mesh's nearest z per cell over the face's image box, at a resolution
 * of about ZB_CELLS cells across: coarse enough to be cheap, fine enough for
 * the nose to hide the cheek behind it. */
#define ZB_CELLS 128

typedef struct zbuffer {
    float *z;
    int w, h;
    float x0, y0, inv_cell, cell;
    float tol; /* z slack: the cell's sampling and the landmarks' own noise */
} zbuffer;

static void zb_raster(zbuffer *zb, const float *a, const float *b, const float *c)
{
    const float ax = (a[0] - zb->x0) * zb->inv_cell, ay = (a[1] - zb->y0) * zb->inv_cell;
    const float bx = (b[0] - zb->x0) * zb->inv_cell, by = (b[1] - zb->y0) * zb->inv_cell;
    const float cx = (c[0] - zb->x0) * zb->inv_cell, cy = (c[1] - zb->y0) * zb->inv_cell;
    const float area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
    if (fabsf(area) < 1e-12f)
        return;
    int ix0 = (int)floorf(fminf(ax, fminf(bx, cx))), ix1 = (int)ceilf(fmaxf(ax, fmaxf(bx, cx)));
    int iy0 = (int)floorf(fminf(ay, fminf(by, cy))), iy1 = (int)ceilf(fmaxf(ay, fmaxf(by, cy)));
    ix0 = ix0 < 0 ? 0 : ix0;
    iy0 = iy0 < 0 ? 0 : iy0;
    ix1 = ix1 > zb->w - 1 ? zb->w - 1 : ix1;
    iy1 = iy1 > zb->h - 1 ? zb->h - 1 : iy1;
    const float inv = 1.0f / area;
    for (int y = iy0; y <= iy1; y++) {
        const float py = (float)y + 0.5f;
        for (int x = ix0; x <= ix1; x++) {
            const float px = (float)x + 0.5f;
            const float w0 = ((bx - px) * (cy - py) - (by - py) * (cx - px)) * inv;
            const float w1 = ((cx - px) * (ay - py) - (cy - py) * (ax - px)) * inv;
            const float w2 = 1.0f - w0 - w1;
            /* Slightly conservative (-1e-3) so that cracks between
             * triangles do not let hidden points through. */
            if (w0 < -1e-3f || w1 < -1e-3f || w2 < -1e-3f)
                continue;
            const float z = w0 * a[2] + w1 * b[2] + w2 * c[2];
            float *dst = &zb->z[(size_t)y * (size_t)zb->w + (size_t)x];
            if (z < *dst)
                *dst = z;
        }
    }
}

/* 1 fully visible .. 0 hidden, for an image point with depth z. */
static float zb_visible(const zbuffer *zb, float x, float y, float z)
{
    const float gx = (x - zb->x0) * zb->inv_cell, gy = (y - zb->y0) * zb->inv_cell;
    if (!(gx >= 0.0f && gy >= 0.0f && gx < (float)zb->w && gy < (float)zb->h))
        return 1.0f;
    const int ix = (int)gx, iy = (int)gy; /* non-negative: truncation is floor */
    const float front = zb->z[(size_t)iy * (size_t)zb->w + (size_t)ix];
    const float behind = z - front - zb->tol;
    if (behind <= 0.0f)
        return 1.0f;
    return behind >= zb->tol ? 0.0f : 1.0f - behind / zb->tol;
}

/* ------------------------------------------------------------------ build */

void fs_atlas_vertex_normals(const float (*points)[3], const fs_atlas_mesh *mesh,
                             float nrm[FS_MESH_LANDMARKS][3])
{
    memset(nrm, 0, sizeof(float) * 3 * FS_MESH_LANDMARKS);
    for (int t = 0; t < mesh->n_triangles; t++) {
        const uint16_t *tr = mesh->triangles[t];
        const float *a = points[tr[0]], *b = points[tr[1]], *c = points[tr[2]];
        const float ux = b[0] - a[0], uy = b[1] - a[1], uz = b[2] - a[2];
        const float vx = c[0] - a[0], vy = c[1] - a[1], vz = c[2] - a[2];
        const float n[3] = {uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx};
        for (int k = 0; k < 3; k++)
            for (int j = 0; j < 3; j++)
                nrm[tr[k]][j] += n[j];
    }
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        float *n = nrm[i];
        const float len = sqrtf(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        if (len > 0.0f && isfinite(len)) {
            /* Front faces have landmark-space normal.z < 0: flip to camera z. */
            n[0] = n[0] / len;
            n[1] = n[1] / len;
            n[2] = -n[2] / len;
        } else {
            n[0] = n[1] = n[2] = 0.0f;
        }
    }
}

/* Facing weight of every vertex in landmark space: cos of the vertex normal
 * (area-weighted sum of its triangles' normals) with the camera axis, 0
 * when it faces away. Per vertex and interpolated over each triangle, so
 * the weight, and with it the mix of own and mirrored colour, has no steps
 * at triangle edges (per-triangle weights left facets on a turned face). */
static void vertex_facing(const float (*points)[3], const fs_atlas_mesh *mesh, float *out)
{
    float nrm[FS_MESH_LANDMARKS][3];
    fs_atlas_vertex_normals(points, mesh, nrm);
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        const float f = nrm[i][2];
        out[i] = f > 0.0f && f == f ? f : 0.0f;
    }
}

/* Fixed point for the UV rasteriser: 8 fractional bits per texel. */
#define SUB_BITS 8
#define SUB_ONE (1 << SUB_BITS)

static int is_top_left(int64_t dx, int64_t dy)
{
    return dy < 0 || (dy == 0 && dx > 0);
}

/* Divides the photo colour @p col (sRGB 0..255) at frame point @p at, on
 * the triangle of vertices @p v at barycentrics @p b, by the light @p L
 * there (linear light, the shading floored at FS_SHADE_FLOOR). */
static void unlight(const fs_shading *L, const fs_face_frame *fr, float vn[FS_MESH_LANDMARKS][3],
                    const int v[3], const float b[3], const float at[3], const float lut[256],
                    float col[3])
{
    float nrm[3], h[FS_SHADE_TERMS], s[3];
    for (int c = 0; c < 3; c++)
        nrm[c] = b[0] * vn[v[0]][c] + b[1] * vn[v[1]][c] + b[2] * vn[v[2]][c];
    const float len = sqrtf(nrm[0] * nrm[0] + nrm[1] * nrm[1] + nrm[2] * nrm[2]);
    for (int c = 0; c < 3; c++)
        nrm[c] = len > 1e-6f ? nrm[c] / len : 0.0f;
    fs_shading_basis(fr, nrm, at[0], at[1], h);
    fs_shading_eval(L, h, s);
    float a[3], top = 1.0f;
    for (int c = 0; c < 3; c++) {
        const float x = clampf(col[c], 0.0f, 255.0f);
        const int i0 = x >= 255.0f ? 254 : (int)x;
        const float lin = lut[i0] + (lut[i0 + 1] - lut[i0]) * (x - (float)i0);
        a[c] = lin / (fmaxf(s[c], FS_SHADE_FLOOR) * FS_ALBEDO_HEADROOM);
        top = fmaxf(top, a[c]);
    }
    /* Where the model lights the skin less than the photo shows (the brow
     * ridge and the lids under it: up-facing normals at the top of a face
     * lit from the front) the albedo passes white. Clipped channel by
     * channel it lost its hue, and relit it came back grey-blue (the
     * astronaut swapped onto itself had pale blue brows); scaled down as a
     * whole it keeps its colour and comes back a little darker. */
    for (int c = 0; c < 3; c++)
        col[c] = 255.0f * fs_linear_to_srgb(a[c] / top);
}

fs_status fs_atlas_build(const fs_image *image, const float (*points)[3],
                         const fs_atlas_mesh *mesh, const fs_atlas_params *params,
                         fs_atlas *out, fs_error_buf *err)
{
    if (!image || !points || !mesh || !params || !out)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_atlas_build: NULL argument");
    if (params->size < FS_ATLAS_MIN_SIZE || params->size > FS_ATLAS_MAX_SIZE)
        return fs_fail(err, FS_ERR_OUT_OF_RANGE, "atlas size %d outside %d..%d", params->size,
                       FS_ATLAS_MIN_SIZE, FS_ATLAS_MAX_SIZE);
    if (image->memory != FS_MEMORY_HOST)
        return fs_fail(err, FS_ERR_UNSUPPORTED, "atlas: image is not in host memory");
    photo ph = {image->data, image->width, image->height, image->stride, 0, 0, 1, 2};
    switch (image->format) {
    case FS_PIXEL_RGB8: ph.ch = 3; break;
    case FS_PIXEL_RGBA8: ph.ch = 4; break;
    case FS_PIXEL_BGR8: ph.ch = 3; ph.r = 2; ph.b = 0; break;
    case FS_PIXEL_BGRA8: ph.ch = 4; ph.r = 2; ph.b = 0; break;
    case FS_PIXEL_GRAY8: ph.ch = 1; ph.g = 0; ph.b = 0; break;
    default:
        return fs_fail(err, FS_ERR_UNSUPPORTED, "atlas: pixel format %d", (int)image->format);
    }
    if (ph.w <= 0 || ph.h <= 0 || !ph.data || (int64_t)ph.stride < (int64_t)ph.w * ph.ch)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "atlas: image %dx%d stride %d", ph.w, ph.h,
                       ph.stride);

    /* Face box and scale, from the mesh points; every point must be finite. */
    float bx0 = FLT_MAX, by0 = FLT_MAX, bx1 = -FLT_MAX, by1 = -FLT_MAX;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        const float *p = points[i];
        if (!isfinite(p[0]) || !isfinite(p[1]) || !isfinite(p[2]))
            return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "atlas: landmark %d is not finite", i);
        bx0 = fminf(bx0, p[0]);
        by0 = fminf(by0, p[1]);
        bx1 = fmaxf(bx1, p[0]);
        by1 = fmaxf(by1, p[1]);
    }
    const float face = fmaxf(bx1 - bx0, by1 - by0);
    if (!(face > 1.0f) || face > 1e6f)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "atlas: face size %g px", (double)face);

    const int n = params->size;
    const size_t texels = (size_t)n * (size_t)n;
    zbuffer zb = {0};
    zb.cell = face / (float)(ZB_CELLS - 2);
    zb.inv_cell = 1.0f / zb.cell;
    zb.x0 = bx0 - zb.cell;
    zb.y0 = by0 - zb.cell;
    zb.w = (int)((bx1 - zb.x0) * zb.inv_cell) + 2;
    zb.h = (int)((by1 - zb.y0) * zb.inv_cell) + 2;
    /* Two cells' worth of steep slope plus 2% of the face: a cheek behind the
     * nose of a turned head lies 10-25% of the face deeper. */
    zb.tol = 2.0f * zb.cell + 0.02f * face;
    zb.z = malloc(sizeof(float) * (size_t)zb.w * (size_t)zb.h);
    uint8_t *rgba = calloc(texels, 4);
    uint8_t *weight = calloc(texels, 1);
    if (!zb.z || !rgba || !weight) {
        free(zb.z);
        free(rgba);
        free(weight);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "atlas: out of memory");
    }
    for (size_t i = 0; i < (size_t)zb.w * (size_t)zb.h; i++)
        zb.z[i] = FLT_MAX;
    for (int t = 0; t < mesh->n_triangles; t++) {
        const uint16_t *tr = mesh->triangles[t];
        zb_raster(&zb, points[tr[0]], points[tr[1]], points[tr[2]]);
    }

    /* The test hook's hidden half, per vertex (canonical x sign ~ u side). */
    float hidden[FS_MESH_LANDMARKS];
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        const float du = mesh->uv[i][0] - 0.5f;
        hidden[i] = (params->hide_side > 0 && du > 0.0f) || (params->hide_side < 0 && du < 0.0f)
                        ? 1.0f : 0.0f;
    }

    /* Colour statistics over the well-seen skin (own colours only, eyes and
     * mouth interior left out), and over all skin for when nothing is seen
     * well: accumulated as each texel is written, since the top-left rule
     * visits every texel once. */
    float lut[256];
    fs_srgb_to_linear_table(lut);
    double acc[2][7] = {{0}}; /* [seen, all]: count, sum[3], sum of squares[3] */

    float face_w[FS_MESH_LANDMARKS], vn[FS_MESH_LANDMARKS][3];
    vertex_facing(points, mesh, face_w);
    fs_atlas_vertex_normals(points, mesh, vn);
    /* With the light taken out, two passes: the first unwraps the photo as
     * it is and notes, per texel with its own colour, where it lies and
     * which way it faces; the light is fitted over those; the second
     * unwraps again dividing each colour, own and mirrored, by the light at
     * its own point (a mirrored colour was lit as the other side was). */
    /* A face under FS_LIGHT_MIN_FACE px keeps its light: over so few pixels
     * the fit follows the photo's noise (messi5's 35 px face as the source:
     * the landmarks found again on the swap moved 0.0205 of the diagonal
     * with its light out, 0.0181 with it kept). */
    const int delight = params->delight && !params->plain && face >= FS_LIGHT_MIN_FACE;
    float *ta = NULL;
    uint8_t *own = NULL;
    if (delight) {
        ta = malloc(texels * 5 * sizeof(float));
        own = calloc(texels, 1);
        if (!ta || !own) {
            free(ta);
            free(own);
            free(zb.z);
            free(rgba);
            free(weight);
            return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "atlas: out of memory");
        }
    }
    fs_face_frame frame;
    fs_face_frame_of(points, &frame);
    fs_shading light;
    fs_shading_flat(&light);
    int n_foot = 0, n_mirror = 0;
    for (int pass = 0; pass < 1 + delight; pass++) {
    const fs_shading *L = pass ? &light : NULL;
    if (pass == 1) {
        fs_status fst = fs_atlas_light_fit(rgba, weight, own, ta, mesh, &frame, n, &light, err);
        if (fst != FS_OK || light.n_fit == 0) {
            /* Nothing to take out: the first pass stands. */
            if (fst == FS_OK)
                break;
            free(ta);
            free(own);
            free(zb.z);
            free(rgba);
            free(weight);
            return fst;
        }
    }
    memset(acc, 0, sizeof(acc));
    n_foot = n_mirror = 0;
    for (int t = 0; t < mesh->n_triangles; t++) {
        int v[3] = {mesh->triangles[t][0], mesh->triangles[t][1], mesh->triangles[t][2]};
        int64_t X[3], Y[3];
        for (int k = 0; k < 3; k++) {
            X[k] = (int64_t)llrintf(mesh->uv[v[k]][0] * (float)n * SUB_ONE);
            Y[k] = (int64_t)llrintf(mesh->uv[v[k]][1] * (float)n * SUB_ONE);
        }
        int64_t area = (X[1] - X[0]) * (Y[2] - Y[0]) - (Y[1] - Y[0]) * (X[2] - X[0]);
        if (area == 0)
            continue;
        if (area < 0) { /* positive orientation in UV space, whatever the 3D winding */
            int64_t tx = X[1], ty = Y[1];
            int tv = v[1];
            X[1] = X[2]; Y[1] = Y[2]; v[1] = v[2];
            X[2] = tx; Y[2] = ty; v[2] = tv;
            area = -area;
        }
        int64_t xmin = X[0] < X[1] ? X[0] : X[1], xmax = X[0] > X[1] ? X[0] : X[1];
        int64_t ymin = Y[0] < Y[1] ? Y[0] : Y[1], ymax = Y[0] > Y[1] ? Y[0] : Y[1];
        xmin = X[2] < xmin ? X[2] : xmin;
        xmax = X[2] > xmax ? X[2] : xmax;
        ymin = Y[2] < ymin ? Y[2] : ymin;
        ymax = Y[2] > ymax ? Y[2] : ymax;
        /* Texels whose centre (i + 1/2) can lie in [min, max]. */
        int tx0 = (int)((xmin - SUB_ONE / 2 + SUB_ONE - 1) >> SUB_BITS);
        int tx1 = (int)((xmax - SUB_ONE / 2) >> SUB_BITS);
        int ty0 = (int)((ymin - SUB_ONE / 2 + SUB_ONE - 1) >> SUB_BITS);
        int ty1 = (int)((ymax - SUB_ONE / 2) >> SUB_BITS);
        tx0 = tx0 < 0 ? 0 : tx0;
        ty0 = ty0 < 0 ? 0 : ty0;
        tx1 = tx1 > n - 1 ? n - 1 : tx1;
        ty1 = ty1 > n - 1 ? n - 1 : ty1;
        const int tl[3] = {is_top_left(X[2] - X[1], Y[2] - Y[1]),
                           is_top_left(X[0] - X[2], Y[0] - Y[2]),
                           is_top_left(X[1] - X[0], Y[1] - Y[0])};
        const float inv_area = 1.0f / (float)area;
        for (int ty = ty0; ty <= ty1; ty++) {
            const int64_t py = ((int64_t)ty << SUB_BITS) + SUB_ONE / 2;
            for (int tx = tx0; tx <= tx1; tx++) {
                const int64_t px = ((int64_t)tx << SUB_BITS) + SUB_ONE / 2;
                /* e[k]: edge opposite vertex k; positive inside. */
                const int64_t e[3] = {
                    (X[2] - X[1]) * (py - Y[1]) - (Y[2] - Y[1]) * (px - X[1]),
                    (X[0] - X[2]) * (py - Y[2]) - (Y[0] - Y[2]) * (px - X[2]),
                    (X[1] - X[0]) * (py - Y[0]) - (Y[1] - Y[0]) * (px - X[0])};
                if (e[0] < 0 || e[1] < 0 || e[2] < 0 || (e[0] == 0 && !tl[0]) ||
                    (e[1] == 0 && !tl[1]) || (e[2] == 0 && !tl[2]))
                    continue;
                const float b[3] = {(float)e[0] * inv_area, (float)e[1] * inv_area,
                                    (float)e[2] * inv_area};
                float p[3] = {0, 0, 0}, q[3] = {0, 0, 0};
                float hid_p = 0, hid_q = 0, f_own = 0, f_mir = 0;
                for (int k = 0; k < 3; k++) {
                    f_own += b[k] * face_w[v[k]];
                    f_mir += b[k] * face_w[mesh->mirror[v[k]]];
                    const float *pk = points[v[k]], *qk = points[mesh->mirror[v[k]]];
                    for (int c = 0; c < 3; c++) {
                        p[c] += b[k] * pk[c];
                        q[c] += b[k] * qk[c];
                    }
                    hid_p += b[k] * hidden[v[k]];
                    hid_q += b[k] * hidden[mesh->mirror[v[k]]];
                }
                float cp[3], cq[3] = {0, 0, 0};
                const int in_p = photo_sample(&ph, p[0], p[1], cp);
                if (L && in_p)
                    unlight(L, &frame, vn, v, b, p, lut, cp);
                const float wd = in_p ? f_own * zb_visible(&zb, p[0], p[1], p[2]) * (1.0f - hid_p)
                                      : 0.0f;
                /* The own colour takes over fully once it is seen well enough;
                 * only below that is the mirror looked at. */
                const float a = params->plain || wd >= params->direct_full ? 1.0f : wd / params->direct_full;
                int in_q = 0;
                float wm = 0.0f;
                if (a < 1.0f) {
                    in_q = photo_sample(&ph, q[0], q[1], cq);
                    if (L && in_q) {
                        const int vm[3] = {mesh->mirror[v[0]], mesh->mirror[v[1]], mesh->mirror[v[2]]};
                        unlight(L, &frame, vn, vm, b, q, lut, cq);
                    }
                    wm = in_q ? f_mir * zb_visible(&zb, q[0], q[1], q[2]) * (1.0f - hid_q) : 0.0f;
                    wm *= 1.0f - a;
                }
                float col[3];
                if (wd + wm > 0.0f) {
                    const float s = 1.0f / (wd + wm);
                    for (int c = 0; c < 3; c++)
                        col[c] = (wd * cp[c] + wm * cq[c]) * s;
                } else {
                    memcpy(col, in_p || !in_q ? cp : cq, sizeof(col));
                }
                const size_t o = (size_t)ty * (size_t)n + (size_t)tx;
                for (int c = 0; c < 3; c++)
                    rgba[o * 4 + (size_t)c] = (uint8_t)(clampf(col[c], 0.0f, 255.0f) + 0.5f);
                rgba[o * 4 + 3] = 255;
                /* Statistics from one texel in four: as exact for a mean and
                 * deviation over thousands of texels, a quarter of the cost. */
                if (in_p && !((tx | ty) & 1) && !fs_atlas_in_region(mesh, ((float)tx + 0.5f) / (float)n,
                                                ((float)ty + 0.5f) / (float)n)) {
                    float lin[3], lab[3];
                    for (int c = 0; c < 3; c++) {
                        /* Interpolated value: linearise between the LUT's entries. */
                        const float x = clampf(cp[c], 0.0f, 255.0f);
                        const int i0 = x >= 255.0f ? 254 : (int)x;
                        lin[c] = lut[i0] + (lut[i0 + 1] - lut[i0]) * (x - (float)i0);
                    }
                    fs_linear_to_lab(lin, lab);
                    for (int set = params->plain || wd >= params->stats_min ? 0 : 1; set < 2; set++) {
                        acc[set][0] += 1.0;
                        for (int c = 0; c < 3; c++) {
                            acc[set][1 + c] += lab[c];
                            acc[set][4 + c] += (double)lab[c] * lab[c];
                        }
                    }
                }
                if (own && !L && wd >= params->direct_full) {
                    /* the fit's sample: own colour, its place and facing */
                    own[o] = 1;
                    float *at = ta + 5 * o;
                    for (int c = 0; c < 3; c++)
                        at[c] = b[0] * vn[v[0]][c] + b[1] * vn[v[1]][c] + b[2] * vn[v[2]][c];
                    at[3] = p[0];
                    at[4] = p[1];
                }
                const float wt = wd > wm ? wd : wm;
                weight[o] = (uint8_t)(clampf(wt * 255.0f, 1.0f, 255.0f) + 0.5f);
                n_foot++;
                if (wm > wd)
                    n_mirror++;
            }
        }
    }
    }
    free(zb.z);

    const double *st = acc[0][0] > 0 ? acc[0] : acc[1];
    const int n_stats = (int)st[0];
    memset(out, 0, sizeof(*out));
    out->size = n;
    out->rgba = rgba;
    out->weight = weight;
    for (int c = 0; c < 3; c++) {
        const double m = n_stats ? st[1 + c] / n_stats : 0.0;
        const double var = n_stats ? st[4 + c] / n_stats - m * m : 0.0;
        out->lab_mean[c] = (float)m;
        out->lab_std[c] = (float)sqrt(var > 0.0 ? var : 0.0);
    }
    out->n_footprint = n_foot;
    out->n_mirrored = n_mirror;
    out->n_stats = n_stats;
    out->light = light;
    out->albedo_scale = light.n_fit > 0 ? FS_ALBEDO_HEADROOM : 1.0f;
    free(ta);
    free(own);
    if (light.n_fit > 0) {
        out->highlight_margin = params->highlight_margin;
        const fs_status dst = fs_atlas_light_finish(out, mesh, params->highlight_margin, err);
        if (dst != FS_OK) {
            fs_atlas_free(out);
            memset(out, 0, sizeof(*out));
            return dst;
        }
    }
    if (!params->plain && !fs_atlas_skin_fit(out, mesh)) {
        fs_atlas_free(out);
        memset(out, 0, sizeof(*out));
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "atlas: out of memory");
    }
    return FS_OK;
}

/* The skin model's sample places, MediaPipe's numbering, with their
 * mirrors: the cheek below the eye (50) and the cheek's middle (205); then
 * the forehead's middle (151) and above each brow's inner half (108),
 * where a fringe often hangs: the forehead's texels join only where the
 * cheeks' model calls them skin (the astronaut's light-brown fringe made a
 * third of the samples, and the model took her brows for skin). */
static const uint16_t cheek_places[] = {50, 205};
static const uint16_t forehead_places[] = {151, 108};
#define SKIN_JOIN_D2 16.3f

/* Appends the footprint texels the photo saw well within FS_SKIN_RADIUS of
 * @p places and their mirrors, not taken yet, to @p rgb (at *m); with
 * @p cheeks, only those it calls skin. */
static void skin_samples(const fs_atlas *atlas, const fs_atlas_mesh *mesh, const uint16_t *places,
                         int np, const fs_skin_model *cheeks, uint8_t *taken, float *rgb,
                         long *m)
{
    const int n = atlas->size;
    const int r = (int)ceilf(FS_SKIN_RADIUS * (float)n);
    for (int i = 0; i < 2 * np; i++) {
        const int vi = i & 1 ? mesh->mirror[places[i / 2]] : places[i / 2];
        const float *centre = mesh->uv[vi];
        const int cx = (int)(centre[0] * (float)n), cy = (int)(centre[1] * (float)n);
        for (int y = cy - r; y <= cy + r; y++)
            for (int x = cx - r; x <= cx + r; x++) {
                if (x < 0 || y < 0 || x >= n || y >= n)
                    continue;
                const size_t t = (size_t)y * (size_t)n + (size_t)x;
                const float u = ((float)x + 0.5f) / (float)n, v = ((float)y + 0.5f) / (float)n;
                const float du = u - centre[0], dv = v - centre[1];
                if (taken[t] || du * du + dv * dv > FS_SKIN_RADIUS * FS_SKIN_RADIUS ||
                    atlas->rgba[4 * t + 3] != 255 || atlas->weight[t] < 128 ||
                    fs_atlas_in_region(mesh, u, v) || !fs_atlas_light_skin(mesh, u, v))
                    continue;
                float *c = rgb + 3 * *m;
                for (int k = 0; k < 3; k++)
                    c[k] = atlas->rgba[4 * t + (size_t)k];
                if (cheeks && fs_skin_distance(cheeks, c, NULL) > SKIN_JOIN_D2)
                    continue;
                taken[t] = 1;
                (*m)++;
            }
    }
}

int fs_atlas_skin_fit(fs_atlas *atlas, const fs_atlas_mesh *mesh)
{
    const int n = atlas->size;
    enum { NC = sizeof(cheek_places) / sizeof(cheek_places[0]),
           NF = sizeof(forehead_places) / sizeof(forehead_places[0]) };
    const int r = (int)ceilf(FS_SKIN_RADIUS * (float)n);
    /* At most the discs' texels. */
    const size_t cap = (size_t)(2 * (NC + NF)) * (size_t)(2 * r + 1) * (size_t)(2 * r + 1);
    float *rgb = malloc(cap * 3 * sizeof(float));
    uint8_t *taken = calloc((size_t)n * (size_t)n, 1);
    memset(&atlas->skin, 0, sizeof(atlas->skin));
    if (!rgb || !taken) {
        free(rgb);
        free(taken);
        return 0;
    }
    long m = 0;
    skin_samples(atlas, mesh, cheek_places, NC, NULL, taken, rgb, &m);
    fs_skin_model cheeks;
    int ok = fs_skin_model_fit(rgb, m, &cheeks);
    if (ok > 0) {
        skin_samples(atlas, mesh, forehead_places, NF, &cheeks, taken, rgb, &m);
        ok = fs_skin_model_fit(rgb, m, &atlas->skin);
    }
    free(rgb);
    free(taken);
    return ok >= 0;
}

float fs_atlas_sample(const fs_atlas *atlas, float u, float v, float rgb[3])
{
    const int n = atlas->size;
    const float fx = u * (float)n - 0.5f, fy = v * (float)n - 0.5f;
    const int x0 = (int)floorf(fx), y0 = (int)floorf(fy);
    const float ax = fx - (float)x0, ay = fy - (float)y0;
    float acc[3] = {0, 0, 0}, wsum = 0;
    for (int dy = 0; dy < 2; dy++) {
        for (int dx = 0; dx < 2; dx++) {
            const int x = x0 + dx, y = y0 + dy;
            if (x < 0 || y < 0 || x >= n || y >= n)
                continue;
            const uint8_t *t = atlas->rgba + ((size_t)y * (size_t)n + (size_t)x) * 4;
            const float w = (dx ? ax : 1 - ax) * (dy ? ay : 1 - ay) * ((float)t[3] / 255.0f);
            for (int c = 0; c < 3; c++)
                acc[c] += w * t[c];
            wsum += w;
        }
    }
    for (int c = 0; c < 3; c++)
        rgb[c] = wsum > 0 ? acc[c] / wsum : 0.0f;
    return wsum;
}

float fs_atlas_seen(const fs_atlas *atlas, float u, float v)
{
    const int n = atlas->size;
    const float fx = u * (float)n, fy = v * (float)n;
    if (!(fx >= 0.0f) || !(fy >= 0.0f) || fx >= (float)n || fy >= (float)n)
        return 0.0f;
    return (float)atlas->weight[(size_t)fy * (size_t)n + (size_t)fx] * (1.0f / 255.0f);
}
