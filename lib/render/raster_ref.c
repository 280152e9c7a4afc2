/*
 * Plain-C reference rasteriser: for every pixel of the triangle's clipped
 * bounding box, the three exact integer edge functions decide coverage;
 * barycentrics, depth and attributes are computed from them in double.
 */
#include "render/raster.h"

#include "internal.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

static int vertex_ok(const fs_raster_vertex *v)
{
    /* Written so that NaN fails every comparison. */
    return isfinite(v->z) && v->w > 0.0f && isfinite(v->w) && fabsf(v->x) <= FS_RASTER_MAX_COORD &&
           fabsf(v->y) <= FS_RASTER_MAX_COORD;
}

/* Floor / ceiling of a / b for b > 0, exact in integers. */
static int64_t floor_div(int64_t a, int64_t b)
{
    const int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

int fs_raster_snap_vertex(const fs_raster_vertex *v, const fs_raster_desc *d, int64_t *X,
                          int64_t *Y)
{
    if (!vertex_ok(v))
        return 0;
    /* x - x0 is exact in double (float x, int x0), so the snap grid is the
     * image's, whatever the window: tiles of one image agree. */
    *X = llrint(((double)v->x - d->x0) * FS_RASTER_SUBPIXEL);
    *Y = llrint(((double)v->y - d->y0) * FS_RASTER_SUBPIXEL);
    return 1;
}

int fs_raster_setup_triangle(const fs_raster_vertex *vert, int n_vert, const int32_t t[3],
                             const fs_raster_desc *d, fs_raster_setup *s)
{
    int64_t X[3], Y[3];
    for (int k = 0; k < 3; k++)
        if (t[k] < 0 || t[k] >= n_vert || !fs_raster_snap_vertex(&vert[t[k]], d, &X[k], &Y[k]))
            return 0;
    return fs_raster_setup_snapped(X, Y, t, d, s);
}

int fs_raster_setup_snapped(const int64_t Xin[3], const int64_t Yin[3], const int32_t t[3],
                            const fs_raster_desc *d, fs_raster_setup *s)
{
    int64_t X[3] = {Xin[0], Xin[1], Xin[2]}, Y[3] = {Yin[0], Yin[1], Yin[2]};
    int idx[3] = {t[0], t[1], t[2]};
    int64_t area2 = (X[1] - X[0]) * (Y[2] - Y[0]) - (Y[1] - Y[0]) * (X[2] - X[0]);
    if (area2 == 0)
        return 0;
    /* area2 > 0: clockwise on the image (y down). */
    if ((d->cull == FS_RASTER_CULL_CW && area2 > 0) || (d->cull == FS_RASTER_CULL_CCW && area2 < 0))
        return 0;
    if (area2 < 0) {
        int64_t tx = X[1], ty = Y[1];
        X[1] = X[2], Y[1] = Y[2], X[2] = tx, Y[2] = ty;
        const int ti = idx[1];
        idx[1] = idx[2], idx[2] = ti;
        area2 = -area2;
    }
    int64_t xmin = X[0], xmax = X[0], ymin = Y[0], ymax = Y[0];
    for (int k = 1; k < 3; k++) {
        xmin = X[k] < xmin ? X[k] : xmin;
        xmax = X[k] > xmax ? X[k] : xmax;
        ymin = Y[k] < ymin ? Y[k] : ymin;
        ymax = Y[k] > ymax ? Y[k] : ymax;
    }
    /* Pixel centres i * SUBPIXEL inside [min, max]. */
    int64_t bx0 = -floor_div(-xmin, FS_RASTER_SUBPIXEL), bx1 = floor_div(xmax, FS_RASTER_SUBPIXEL);
    int64_t by0 = -floor_div(-ymin, FS_RASTER_SUBPIXEL), by1 = floor_div(ymax, FS_RASTER_SUBPIXEL);
    bx0 = bx0 < 0 ? 0 : bx0;
    by0 = by0 < 0 ? 0 : by0;
    bx1 = bx1 > d->width - 1 ? d->width - 1 : bx1;
    by1 = by1 > d->height - 1 ? d->height - 1 : by1;
    if (bx0 > bx1 || by0 > by1)
        return 0;
    for (int k = 0; k < 3; k++) {
        s->X[k] = X[k];
        s->Y[k] = Y[k];
        s->v[k] = idx[k];
        const int k1 = (k + 1) % 3, k2 = (k + 2) % 3;
        const int64_t dx = X[k2] - X[k1], dy = Y[k2] - Y[k1];
        /* With area2 > 0 in y-down coordinates, the interior is on the side
         * where E > 0: an edge going up (dy < 0) is a left edge, a horizontal
         * one going right (dx > 0) is a top edge. A shared edge is walked in
         * the opposite direction by its other triangle, so exactly one of the
         * two owns the pixels on it. */
        s->bias[k] = (dy < 0 || (dy == 0 && dx > 0)) ? 0 : 1;
    }
    s->area2 = area2;
    s->bx0 = (int)bx0, s->by0 = (int)by0, s->bx1 = (int)bx1, s->by1 = (int)by1;
    return 1;
}

int fs_raster_desc_ok(const fs_raster_desc *d, const fs_raster_out *out)
{
    /* The bounds keep every edge product below 2^62 (see raster.h). */
    const int lim = (int)FS_RASTER_MAX_COORD;
    return d && out && out->depth && d->width >= 0 && d->height >= 0 && d->width <= lim &&
           d->height <= lim && d->x0 >= -lim && d->x0 <= lim && d->y0 >= -lim && d->y0 <= lim &&
           d->n_attr >= 0 && d->n_attr <= FS_RASTER_MAX_ATTR;
}

void fs_raster_clear(const fs_raster_desc *d, const fs_raster_out *out)
{
    if (!d || !out || d->width <= 0 || d->height <= 0)
        return;
    const size_t n = (size_t)d->width * (size_t)d->height;
    for (size_t i = 0; i < n; i++) {
        if (out->depth)
            out->depth[i] = INFINITY;
        if (out->tri_id)
            out->tri_id[i] = -1;
    }
    if (out->mask)
        memset(out->mask, 0, n);
    if (out->attr && d->n_attr > 0)
        memset(out->attr, 0, n * (size_t)d->n_attr * sizeof(float));
}

fs_status fs_raster_check(const fs_exec *ex, const fs_raster_vertex *vert, const float *attr,
                          const int32_t (*tri)[3], const fs_raster_desc *d,
                          const fs_raster_out *out)
{
    if (!fs_raster_desc_ok(d, out) || !vert || !tri || (d->n_attr > 0 && !attr))
        return fs_fail(ex ? ex->err : NULL, FS_ERR_INVALID_ARGUMENT,
                       "rasteriser: invalid window, outputs or NULL mesh");
    return FS_OK;
}

fs_status fs_raster_triangles_ref(const fs_exec *ex, const fs_raster_vertex *vert,
                                  const float *attr, int n_vert, const int32_t (*tri)[3],
                                  int n_tri, const fs_raster_desc *d, const fs_raster_out *out)
{
    const fs_status st = fs_raster_check(ex, vert, attr, tri, d, out);
    if (st != FS_OK)
        return st;
    const int na = d->n_attr;
    for (int t = 0; t < n_tri; t++) {
        fs_raster_setup s;
        if (!fs_raster_setup_triangle(vert, n_vert, tri[t], d, &s))
            continue;
        const fs_raster_vertex *v[3] = {&vert[s.v[0]], &vert[s.v[1]], &vert[s.v[2]]};
        for (int py = s.by0; py <= s.by1; py++) {
            const int64_t Py = (int64_t)py * FS_RASTER_SUBPIXEL;
            for (int px = s.bx0; px <= s.bx1; px++) {
                const int64_t Px = (int64_t)px * FS_RASTER_SUBPIXEL;
                int64_t e[3];
                int inside = 1;
                for (int k = 0; k < 3; k++) {
                    const int k1 = (k + 1) % 3, k2 = (k + 2) % 3;
                    e[k] = (s.X[k2] - s.X[k1]) * (Py - s.Y[k1]) -
                           (s.Y[k2] - s.Y[k1]) * (Px - s.X[k1]);
                    inside &= e[k] - s.bias[k] >= 0;
                }
                if (!inside)
                    continue;
                double b[3];
                for (int k = 0; k < 3; k++)
                    b[k] = (double)e[k] / (double)s.area2;
                const double z = b[0] * v[0]->z + b[1] * v[1]->z + b[2] * v[2]->z;
                const size_t o = (size_t)py * (size_t)d->width + (size_t)px;
                if (!((float)z < out->depth[o]))
                    continue;
                out->depth[o] = (float)z;
                if (out->mask)
                    out->mask[o] = 255;
                if (out->tri_id)
                    out->tri_id[o] = t;
                if (out->attr && na > 0) {
                    double q[3], qs = 0.0;
                    for (int k = 0; k < 3; k++) {
                        q[k] = b[k] / v[k]->w;
                        qs += q[k];
                    }
                    for (int c = 0; c < na; c++) {
                        double a = 0.0;
                        for (int k = 0; k < 3; k++)
                            a += q[k] * attr[(size_t)s.v[k] * (size_t)na + (size_t)c];
                        out->attr[o * (size_t)na + (size_t)c] = (float)(a / qs);
                    }
                }
            }
        }
    }
    return FS_OK;
}

void fs_raster_ops_init_reference(fs_raster_ops *ops)
{
    ops->triangles = fs_raster_triangles_ref;
}
