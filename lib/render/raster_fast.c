/*
 * Fast rasteriser: per row, the covered span comes from the three integer
 * edge functions solved exactly for x (no per-pixel inside test), and depth,
 * 1/w and attr/w are plane equations stepped along the span. Coverage is
 * identical to the reference (same snapped integers, same fill rule); values
 * differ from the reference's per-pixel barycentrics only by rounding.
 */
#include "render/raster.h"
#include "scratch.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "pool.h"

/* Floor of a / b, b > 0. */
static int64_t floor_div(int64_t a, int64_t b)
{
    const int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* A plane f(u, v) = f0 + fx * u + fy * v over the box (u = px - bx0, v = py - by0). */
typedef struct plane {
    double f0, fx, fy;
} plane;

static plane make_plane(const double b0[3], const double bx[3], const double by[3], double f0,
                        double f1, double f2)
{
    plane p;
    p.f0 = b0[0] * f0 + b0[1] * f1 + b0[2] * f2;
    p.fx = bx[0] * f0 + bx[1] * f1 + bx[2] * f2;
    p.fy = by[0] * f0 + by[1] * f1 + by[2] * f2;
    return p;
}

/* One call's arguments, shared read-only by its row bands. */
typedef struct raster_job {
    const fs_raster_vertex *vert;
    const float *attr;
    int n_vert;
    const int32_t (*tri)[3];
    int n_tri;
    const fs_raster_desc *d;
    const fs_raster_out *out;
    const int64_t *snap; /* snapped vertices, or NULL */
    int bands;
} raster_job;

/* Draws window rows [r0, r1] of every triangle, in order. The planes start
 * at each triangle's own box, not at the band, so that a pixel gets the
 * same value whichever band draws it. */
static void draw_rows(const raster_job *j, int r0, int r1)
{
    const fs_raster_vertex *const vert = j->vert;
    const float *const attr = j->attr;
    const int n_vert = j->n_vert;
    const int32_t(*const tri)[3] = j->tri;
    const fs_raster_desc *const d = j->d;
    const fs_raster_out *const out = j->out;
    const int64_t *const snap = j->snap;
    const int na = d->n_attr;
    const int want_attr = out->attr && na > 0;
    const int64_t S = FS_RASTER_SUBPIXEL;
    for (int t = 0; t < j->n_tri; t++) {
        fs_raster_setup s;
        if (snap) {
            const int32_t *const c = tri[t];
            if (c[0] < 0 || c[0] >= n_vert || c[1] < 0 || c[1] >= n_vert || c[2] < 0 ||
                c[2] >= n_vert)
                continue;
            const int64_t X[3] = {snap[2 * c[0]], snap[2 * c[1]], snap[2 * c[2]]};
            const int64_t Y[3] = {snap[2 * c[0] + 1], snap[2 * c[1] + 1], snap[2 * c[2] + 1]};
            if (X[0] == INT64_MIN || X[1] == INT64_MIN || X[2] == INT64_MIN ||
                !fs_raster_setup_snapped(X, Y, c, d, &s))
                continue;
        } else if (!fs_raster_setup_triangle(vert, n_vert, tri[t], d, &s)) {
            continue;
        }
        const int py0 = s.by0 > r0 ? s.by0 : r0, py1 = s.by1 < r1 ? s.by1 : r1;
        if (py0 > py1)
            continue;
        const fs_raster_vertex *v[3] = {&vert[s.v[0]], &vert[s.v[1]], &vert[s.v[2]]};
        /* Edge k at the box's top-left pixel and its steps per pixel. */
        int64_t e0[3], A[3], B[3];
        const int64_t Px0 = (int64_t)s.bx0 * S, Py0 = (int64_t)s.by0 * S;
        for (int k = 0; k < 3; k++) {
            const int k1 = (k + 1) % 3, k2 = (k + 2) % 3;
            A[k] = -(s.Y[k2] - s.Y[k1]) * S;
            B[k] = (s.X[k2] - s.X[k1]) * S;
            e0[k] = (s.X[k2] - s.X[k1]) * (Py0 - s.Y[k1]) - (s.Y[k2] - s.Y[k1]) * (Px0 - s.X[k1]);
        }
        /* The planes are set up at the first covered row: most triangles of a
         * dense mesh are smaller than a pixel and cover none. */
        int planes_ready = 0;
        plane pz = {0, 0, 0}, pw = {0, 0, 0};
        plane pa[FS_RASTER_MAX_ATTR];
        const int64_t umax = s.bx1 - s.bx0;
        for (int py = py0; py <= py1; py++) {
            const int64_t dv = py - s.by0;
            int64_t lo = 0, hi = umax;
            const int64_t e_row[3] = {e0[0] + B[0] * dv - s.bias[0], e0[1] + B[1] * dv - s.bias[1],
                                      e0[2] + B[2] * dv - s.bias[2]};
            if (umax < 8) {
                /* Narrow boxes (most triangles of a dense mesh): stepping the
                 * edges is cheaper than three 64-bit divisions. A row of a
                 * convex shape is one run, so the first and last hit bound it. */
                lo = -1, hi = -2;
                for (int64_t u = 0; u <= umax; u++)
                    if (e_row[0] + A[0] * u >= 0 && e_row[1] + A[1] * u >= 0 &&
                        e_row[2] + A[2] * u >= 0) {
                        lo = lo < 0 ? u : lo;
                        hi = u;
                    }
            }
            for (int k = 0; k < 3 && lo <= hi && umax >= 8; k++) {
                /* E_k(u) - bias = e + A u >= 0, solved exactly for u. */
                const int64_t e = e_row[k];
                if (A[k] > 0) {
                    const int64_t u = -floor_div(e, A[k]); /* ceil(-e / A) */
                    lo = u > lo ? u : lo;
                } else if (A[k] < 0) {
                    const int64_t u = floor_div(e, -A[k]);
                    hi = u < hi ? u : hi;
                } else if (e < 0) {
                    hi = -1;
                }
            }
            if (lo > hi)
                continue;
            if (!planes_ready) {
                double b0[3], bx[3], by[3];
                const double inv_area = 1.0 / (double)s.area2;
                for (int k = 0; k < 3; k++) {
                    b0[k] = (double)e0[k] * inv_area;
                    bx[k] = (double)A[k] * inv_area;
                    by[k] = (double)B[k] * inv_area;
                }
                pz = make_plane(b0, bx, by, v[0]->z, v[1]->z, v[2]->z);
                pw = make_plane(b0, bx, by, 1.0 / v[0]->w, 1.0 / v[1]->w, 1.0 / v[2]->w);
                if (want_attr)
                    for (int c = 0; c < na; c++)
                        pa[c] = make_plane(b0, bx, by,
                                           (double)attr[(size_t)s.v[0] * na + c] / v[0]->w,
                                           (double)attr[(size_t)s.v[1] * na + c] / v[1]->w,
                                           (double)attr[(size_t)s.v[2] * na + c] / v[2]->w);
                planes_ready = 1;
            }
            const size_t row = (size_t)py * (size_t)d->width + (size_t)s.bx0;
            const double zr = pz.f0 + pz.fy * (double)dv;
            const double wr = pw.f0 + pw.fy * (double)dv;
            double ar[FS_RASTER_MAX_ATTR];
            if (want_attr)
                for (int c = 0; c < na; c++)
                    ar[c] = pa[c].f0 + pa[c].fy * (double)dv;
            for (int64_t u = lo; u <= hi; u++) {
                const size_t o = row + (size_t)u;
                const float z = (float)(zr + pz.fx * (double)u);
                if (!(z < out->depth[o]))
                    continue;
                out->depth[o] = z;
                if (out->mask)
                    out->mask[o] = 255;
                if (out->tri_id)
                    out->tri_id[o] = t;
                if (want_attr) {
                    const double rw = 1.0 / (wr + pw.fx * (double)u);
                    float *const dst = out->attr + o * (size_t)na;
                    for (int c = 0; c < na; c++)
                        dst[c] = (float)((ar[c] + pa[c].fx * (double)u) * rw);
                }
            }
        }
    }
}

static fs_status band_task(void *user, int task, int worker)
{
    (void)worker;
    const raster_job *j = user;
    const int h = j->d->height;
    const int r0 = (int)((int64_t)h * task / j->bands);
    const int r1 = (int)((int64_t)h * (task + 1) / j->bands) - 1;
    draw_rows(j, r0, r1);
    return FS_OK;
}

/* Rows per band at least: below this the per-band triangle setup costs
 * more than the rows it shares out. */
#define RASTER_MIN_BAND_ROWS 16

fs_status fs_raster_triangles_fast(const fs_exec *ex, const fs_raster_vertex *vert,
                                   const float *attr, int n_vert, const int32_t (*tri)[3],
                                   int n_tri, const fs_raster_desc *d, const fs_raster_out *out)
{
    const fs_status st = fs_raster_check(ex, vert, attr, tri, d, out);
    if (st != FS_OK)
        return st;
    /* Each vertex is snapped once (a dense mesh shares it among ~6
     * triangles, most of them smaller than a pixel, so per-triangle setup
     * dominates); INT64_MIN marks an invalid vertex. Without memory the
     * per-triangle setup is used: same result. */
    int64_t *const snap = n_vert > 0 ? fs_tmp_alloc((size_t)n_vert * 2 * sizeof(int64_t)) : NULL;
    if (snap)
        for (int i = 0; i < n_vert; i++)
            if (!fs_raster_snap_vertex(&vert[i], d, &snap[2 * i], &snap[2 * i + 1]))
                snap[2 * i] = INT64_MIN;
    fs_pool *const pool = ex ? ex->pool : NULL;
    raster_job j = {vert, attr, n_vert, tri, n_tri, d, out, snap,
                    fs_pool_bands(pool, d->height, RASTER_MIN_BAND_ROWS)};
    if (j.bands <= 1)
        draw_rows(&j, 0, d->height - 1);
    else
        (void)fs_pool_run(pool, j.bands, band_task, &j); /* the tasks cannot fail */
    fs_tmp_free(snap);
    return FS_OK;
}

void fs_raster_ops_init_fast(fs_raster_ops *ops)
{
    ops->triangles = fs_raster_triangles_fast;
}
