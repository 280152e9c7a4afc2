/*
 * Alpha, multi-band and Poisson blending on a face window. See blend.h for
 * the equations; comments here say why the code is shaped as it is.
 */
#include "compose/blend.h"
#include "scratch.h"
#include "compose/mask.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static fs_status check_common(fs_error_buf *err, const char *fn, int w, int h, const void *a,
                              const void *b, const void *c, const void *d)
{
    fs_status st = fs_compose_check_size(err, w, h);
    if (st != FS_OK)
        return st;
    if (!a || !b || !c || !d)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "%s: NULL argument", fn);
    return FS_OK;
}

fs_status fs_blend_alpha_u8(const fs_exec *ex, const fs_compose_ops *ops, const uint8_t *src,
                            ptrdiff_t sstride, uint8_t *dst, ptrdiff_t dstride,
                            const float *alpha, ptrdiff_t astride, int w, int h)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    fs_status st = check_common(err, "fs_blend_alpha_u8", w, h, ops, src, dst, alpha);
    if (st != FS_OK)
        return st;
    if (sstride < 3 * (ptrdiff_t)w || dstride < 3 * (ptrdiff_t)w || astride < w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_blend_alpha_u8: bad stride");
    return ops->alpha_u8(ex, src, sstride, dst, dstride, alpha, astride, w, h);
}

fs_status fs_blend_alpha_f32(fs_error_buf *err, const float *src, ptrdiff_t sstride,
                             const float *tgt, ptrdiff_t tstride, const float *alpha, int w,
                             int h, float *out, ptrdiff_t ostride)
{
    fs_status st = check_common(err, "fs_blend_alpha_f32", w, h, src, tgt, alpha, out);
    if (st != FS_OK)
        return st;
    if (sstride < 3 * (ptrdiff_t)w || tstride < 3 * (ptrdiff_t)w || ostride < 3 * (ptrdiff_t)w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_blend_alpha_f32: bad stride");
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const float a = alpha[(size_t)y * w + x];
            for (int c = 0; c < 3; c++) {
                const float t = tgt[(size_t)y * tstride + 3 * x + c];
                float *o = &out[(size_t)y * ostride + 3 * x + c];
                if (!(a > 0.0f))
                    *o = t; /* no arithmetic: bit-identical even for -0.0 or NaN weights */
                else if (a >= 1.0f)
                    *o = src[(size_t)y * sstride + 3 * x + c];
                else
                    *o = (1.0f - a) * t + a * src[(size_t)y * sstride + 3 * x + c];
            }
        }
    return FS_OK;
}

/* ---- Pyramids: packed buffers of C channels, row length w * C. ---- */

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Binomial 1-4-6-4-1 low-pass and decimation to ((w+1)/2, (h+1)/2); the
 * edge is replicated. The taps are exact binary fractions summing to 1, so a
 * constant plane stays exactly constant (an all-ones mask stays 1). */
static void pyr_down(const float *in, int w, int h, int C, float *out, float *tmp)
{
    static const float k[5] = {0.0625f, 0.25f, 0.375f, 0.25f, 0.0625f};
    const int wc = (w + 1) / 2, hc = (h + 1) / 2;
    /* Columns X in [1, xin) read no replicated edge: there the taps go
     * without clamping, in the same order (the same sums, bit for bit). */
    const int xin = (w - 3) / 2 + 1 > 1 ? (w - 3) / 2 + 1 : 1;
    for (int y = 0; y < h; y++) {
        const float *r = in + (size_t)y * w * C;
        float *t = tmp + (size_t)y * wc * C;
        for (int X = 0; X < wc; X++) {
            if (X >= 1 && X < xin) {
                const float *q = r + (size_t)(2 * X - 2) * C;
                for (int c = 0; c < C; c++) {
                    float s = 0.0f;
                    s += k[0] * q[c];
                    s += k[1] * q[C + c];
                    s += k[2] * q[2 * C + c];
                    s += k[3] * q[3 * C + c];
                    s += k[4] * q[4 * C + c];
                    t[(size_t)X * C + c] = s;
                }
                continue;
            }
            for (int c = 0; c < C; c++) {
                float s = 0.0f;
                for (int i = -2; i <= 2; i++)
                    s += k[i + 2] * r[(size_t)clampi(2 * X + i, 0, w - 1) * C + c];
                t[(size_t)X * C + c] = s;
            }
        }
    }
    /* Rows: five whole rows of tmp per output row, the inner loop along it. */
    const size_t rw = (size_t)wc * C;
    for (int Y = 0; Y < hc; Y++) {
        const float *a = tmp + (size_t)clampi(2 * Y - 2, 0, h - 1) * rw,
                    *b = tmp + (size_t)clampi(2 * Y - 1, 0, h - 1) * rw,
                    *c = tmp + (size_t)clampi(2 * Y, 0, h - 1) * rw,
                    *d = tmp + (size_t)clampi(2 * Y + 1, 0, h - 1) * rw,
                    *e = tmp + (size_t)clampi(2 * Y + 2, 0, h - 1) * rw;
        float *o = out + (size_t)Y * rw;
        for (size_t i = 0; i < rw; i++) {
            float s = 0.0f;
            s += k[0] * a[i];
            s += k[1] * b[i];
            s += k[2] * c[i];
            s += k[3] * d[i];
            s += k[4] * e[i];
            o[i] = s;
        }
    }
}

/* Linear interpolation back to (w, h): fine 2X sits on coarse X, fine 2X+1
 * half-way to X+1 (replicated past the edge). Each coarse row is first
 * widened into @p tmp (hc * w * C floats), the sums of the horizontal pairs,
 * then pairs of widened rows are added: the same sums, in the same order,
 * as the four taps written out, with inner loops that vectorise. */
static void pyr_up(const float *in, int wc, int hc, int C, float *out, int w, int h, float *tmp)
{
    for (int Y = 0; Y < hc; Y++) {
        const float *r = in + (size_t)Y * wc * C;
        float *t = tmp + (size_t)Y * w * C;
        for (int x = 0; x < w; x++) {
            const int X0 = x >> 1, X1 = (x & 1) ? clampi(X0 + 1, 0, wc - 1) : X0;
            for (int c = 0; c < C; c++)
                t[(size_t)x * C + c] = r[(size_t)X0 * C + c] + r[(size_t)X1 * C + c];
        }
    }
    const size_t rw = (size_t)w * C;
    for (int y = 0; y < h; y++) {
        const int Y0 = y >> 1, Y1 = (y & 1) ? clampi(Y0 + 1, 0, hc - 1) : Y0;
        const float *a = tmp + (size_t)Y0 * rw, *b = tmp + (size_t)Y1 * rw;
        float *o = out + (size_t)y * rw;
        for (size_t i = 0; i < rw; i++)
            o[i] = 0.25f * (a[i] + b[i]);
    }
}

int fs_blend_multiband_levels(int w, int h)
{
    int m = w < h ? w : h, levels = 0;
    while (m >= 16 && levels < 8) {
        m = (m + 1) / 2;
        levels++;
    }
    return levels < 1 ? 1 : levels;
}

fs_status fs_blend_multiband_f32(fs_error_buf *err, const float *src, ptrdiff_t sstride,
                                 const float *tgt, ptrdiff_t tstride, const float *alpha, int w,
                                 int h, int levels, float *out, ptrdiff_t ostride)
{
    fs_status st = check_common(err, "fs_blend_multiband_f32", w, h, src, tgt, alpha, out);
    if (st != FS_OK)
        return st;
    if (sstride < 3 * (ptrdiff_t)w || tstride < 3 * (ptrdiff_t)w || ostride < 3 * (ptrdiff_t)w ||
        levels > 16)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_blend_multiband_f32: bad arguments");
    if (levels <= 0)
        levels = fs_blend_multiband_levels(w, h);
    int lw[17], lh[17];
    size_t off3[18], off1[18];
    lw[0] = w, lh[0] = h, off3[0] = 0, off1[0] = 0;
    for (int l = 0; l <= levels; l++) {
        if (l > 0)
            lw[l] = (lw[l - 1] + 1) / 2, lh[l] = (lh[l - 1] + 1) / 2;
        off3[l + 1] = off3[l] + (size_t)lw[l] * lh[l] * 3;
        off1[l + 1] = off1[l] + (size_t)lw[l] * lh[l];
    }
    const size_t n3 = off3[levels + 1], n1 = off1[levels + 1], n0 = (size_t)w * h * 3;
    /* The blend of the two Laplacian pyramids, a Ls + (1 - a) Lt, is
     * Lt + a (Ls - Lt), and the pyramids are linear: Ls - Lt is the
     * pyramid of src - tgt, and tgt's own pyramid collapses back to tgt.
     * So one pyramid, of the difference, is built and collapsed, and tgt
     * added at the end: half the work of two, the same result up to
     * float rounding (about 1e-7). gd: the difference's Gaussian (then
     * Laplacian) pyramid; ga: alpha's; up and tmp: level-0 sized scratch. */
    float *buf = fs_tmp_alloc(sizeof(float) * (n3 + n1 + 2 * n0));
    if (!buf)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_blend_multiband_f32: out of memory");
    float *gd = buf, *ga = gd + n3, *up = ga + n1, *tmp = up + n0;
    for (int y = 0; y < h; y++) {
        const float *s = src + (size_t)y * sstride, *t = tgt + (size_t)y * tstride;
        float *d = gd + (size_t)y * 3 * w;
        for (int i = 0; i < 3 * w; i++)
            d[i] = s[i] - t[i];
        memcpy(ga + (size_t)y * w, alpha + (size_t)y * w, sizeof(float) * w);
    }
    for (int l = 0; l < levels; l++) {
        pyr_down(gd + off3[l], lw[l], lh[l], 3, gd + off3[l + 1], tmp);
        pyr_down(ga + off1[l], lw[l], lh[l], 1, ga + off1[l + 1], tmp);
    }
    /* Laplacian levels in place, finest first (each needs the next Gaussian). */
    for (int l = 0; l < levels; l++) {
        const size_t n = (size_t)lw[l] * lh[l] * 3;
        pyr_up(gd + off3[l + 1], lw[l + 1], lh[l + 1], 3, up, lw[l], lh[l], tmp);
        for (size_t i = 0; i < n; i++)
            gd[off3[l] + i] -= up[i];
    }
    /* Every band weighted by its level of alpha's pyramid. */
    for (int l = 0; l <= levels; l++) {
        const size_t n = (size_t)lw[l] * lh[l];
        float *d = gd + off3[l];
        const float *a = ga + off1[l];
        for (size_t i = 0; i < n; i++)
            for (int c = 0; c < 3; c++)
                d[3 * i + c] *= a[i];
    }
    /* Collapse, coarsest first. */
    for (int l = levels - 1; l >= 0; l--) {
        const size_t n = (size_t)lw[l] * lh[l] * 3;
        pyr_up(gd + off3[l + 1], lw[l + 1], lh[l + 1], 3, up, lw[l], lh[l], tmp);
        for (size_t i = 0; i < n; i++)
            gd[off3[l] + i] += up[i];
    }
    /* The coarse bands reach beyond the mask, and cutting them at its edge
     * would leave a step; the final cross-fade by alpha itself brings the
     * result back to the target at the edge (a = 1 keeps the collapse as is). */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const float a = alpha[(size_t)y * w + x];
            for (int c = 0; c < 3; c++) {
                const float t = tgt[(size_t)y * tstride + 3 * x + c];
                const float d = gd[((size_t)y * w + x) * 3 + c];
                float *o = &out[(size_t)y * ostride + 3 * x + c];
                if (!(a > 0.0f))
                    *o = t;
                else if (a >= 1.0f)
                    *o = t + d;
                else
                    *o = t + a * d;
            }
        }
    fs_tmp_free(buf);
    return FS_OK;
}

/* ---- Poisson: multigrid on the masked domain. ---- */

typedef struct pl_level {
    int w, h;
    float *u;   /* 3 channels; at level 0 the solution (tgt outside D), else the correction (0 outside D) */
    float *b;   /* right-hand side, 3 channels */
    float *r;   /* residual scratch, 3 channels */
    uint8_t *D; /* 1 = unknown */
    /* Prolongation weights to the next coarser level, per row and column:
     * parent and neighbour index, and their weights (pl_weights). */
    int *iy, *ix;
    float *wy, *wx;
    /* Per row, the first and one past the last column of D (x0 >= x1: none):
     * the passes walk only these spans. */
    int *x0, *x1;
    float *row; /* scratch of 3 * (w + 1) floats, shared by the levels */
} pl_level;

#define PL_MAX_LEVELS 16

/* A source or target image as the solve reads it: float (3 channels,
 * stride in floats) or, for the 8-bit path, the bytes themselves (stride in
 * bytes), which spares a float copy of the box: the two-level solve reads
 * the target only near the edge and the source once per pixel. */
typedef struct pl_img {
    const float *f;
    const uint8_t *b;
    ptrdiff_t stride;
} pl_img;

static inline float pl_at(const pl_img *im, int x, int y, int c)
{
    const size_t i = (size_t)y * (size_t)im->stride + 3 * (size_t)x + (size_t)c;
    return im->b ? (float)im->b[i] : im->f[i];
}

static void pl_spans(pl_level *L)
{
    for (int y = 0; y < L->h; y++) {
        const uint8_t *D = L->D + (size_t)y * L->w;
        int a = 0, b = L->w;
        while (a < b && !D[a])
            a++;
        while (b > a && !D[b - 1])
            b--;
        L->x0[y] = a, L->x1[y] = b;
    }
}
/* A coarse cell joins the coarse domain when at least 3 of its 2x2
 * children are unknowns. With "any child" the coarse domain is larger than
 * the fine one, its Dirichlet boundary lies farther out, and the coarse
 * correction overshoots the smoothest error (the cycles diverged on an
 * ellipse); 3 of 4 measured ~0.2 residual reduction per V(2,2) cycle, all
 * four ~0.3 with a slow tail. */
#define PL_COARSE_MIN 3

/* One Gauss-Seidel update of unknown p = (x, y): solves row p of the
 * stencil for u_p with its neighbours fixed, u_p = (b_p + sum u_q) / n_p,
 * n_p = the in-window neighbour count (a neighbour beyond the window edge
 * carries no term: zero flux). @p inner: all four neighbours in the window. */
static inline void pl_gs_update(const pl_level *L, size_t p, int x, int y, int inner)
{
    const int w = L->w, h = L->h;
    float *u = L->u;
    const float *b = L->b;
    float s0 = b[3 * p], s1 = b[3 * p + 1], s2 = b[3 * p + 2];
    if (inner) {
        const float *l = &u[3 * (p - 1)], *r = &u[3 * (p + 1)], *t = &u[3 * (p - w)],
                    *d = &u[3 * (p + w)];
        u[3 * p] = 0.25f * (s0 + ((l[0] + r[0]) + (t[0] + d[0])));
        u[3 * p + 1] = 0.25f * (s1 + ((l[1] + r[1]) + (t[1] + d[1])));
        u[3 * p + 2] = 0.25f * (s2 + ((l[2] + r[2]) + (t[2] + d[2])));
        return;
    }
    int n = 0;
    const size_t nb[4] = {p - 1, p + 1, p - (size_t)w, p + (size_t)w};
    const int ok[4] = {x > 0, x < w - 1, y > 0, y < h - 1};
    for (int k = 0; k < 4; k++)
        if (ok[k]) {
            s0 += u[3 * nb[k]], s1 += u[3 * nb[k] + 1], s2 += u[3 * nb[k] + 2];
            n++;
        }
    if (n > 0) {
        const float inv = 1.0f / (float)n;
        u[3 * p] = s0 * inv, u[3 * p + 1] = s1 * inv, u[3 * p + 2] = s2 * inv;
    }
}

/* One red-black Gauss-Seidel half sweep: pixels with (x + y) & 1 == par.
 * Rows and columns away from the edge take the branch-free path. */
static void pl_smooth_half(const pl_level *L, int par)
{
    const int w = L->w, h = L->h;
    for (int y = 0; y < h; y++) {
        const int edge_row = (y == 0 || y == h - 1);
        const int xs = L->x0[y] + ((L->x0[y] + y + par) & 1);
        for (int x = xs; x < L->x1[y]; x += 2) {
            const size_t p = (size_t)y * w + x;
            if (!L->D[p])
                continue;
            pl_gs_update(L, p, x, y, !edge_row && x > 0 && x < w - 1);
        }
    }
}

static void pl_smooth(const pl_level *L, int sweeps)
{
    for (int i = 0; i < sweeps; i++) {
        pl_smooth_half(L, 0);
        pl_smooth_half(L, 1);
    }
}

/* r = b - A u on D (left as it was elsewhere: pl_restrict reads D only);
 * returns max |r|. */
static double pl_residual(const pl_level *L)
{
    const int w = L->w, h = L->h;
    double mx = 0.0;
    for (int y = 0; y < h; y++)
        for (int x = L->x0[y]; x < L->x1[y]; x++) {
            const size_t p = (size_t)y * w + x;
            if (!L->D[p])
                continue;
            if (y > 0 && y < h - 1 && x > 0 && x < w - 1) {
                /* Interior: all four neighbours, no bounds checks. */
                const float *u = &L->u[3 * p], *l = u - 3, *rr = u + 3, *t = u - 3 * (size_t)w,
                            *d = u + 3 * (size_t)w;
                for (int c = 0; c < 3; c++) {
                    const float r =
                        L->b[3 * p + c] - (4.0f * u[c] - ((l[c] + rr[c]) + (t[c] + d[c])));
                    L->r[3 * p + c] = r;
                    const double ar = fabs((double)r);
                    mx = ar > mx ? ar : mx;
                }
                continue;
            }
            const size_t nb[4] = {p - 1, p + 1, p - (size_t)w, p + (size_t)w};
            const int ok[4] = {x > 0, x < w - 1, y > 0, y < h - 1};
            for (int c = 0; c < 3; c++) {
                float s = 0.0f;
                int n = 0;
                for (int k = 0; k < 4; k++)
                    if (ok[k])
                        s += L->u[3 * nb[k] + c], n++;
                const float r = L->b[3 * p + c] - ((float)n * L->u[3 * p + c] - s);
                L->r[3 * p + c] = r;
                if (fabs((double)r) > mx)
                    mx = fabs((double)r);
            }
        }
    return mx;
}

/* The 1D bilinear weights of a fine index on the cell-centred coarse grid:
 * 3/4 on its parent, 1/4 on the parent's other neighbour (merged into the
 * parent past the edge). */
#define PL_PARENT 0.75f
#define PL_OTHER 0.25f

static void pl_weights(int x, int nc, int idx[2], float wt[2])
{
    const int X0 = x >> 1, X1 = (x & 1) ? X0 + 1 : X0 - 1;
    idx[0] = X0, wt[0] = PL_PARENT;
    if (X1 < 0 || X1 >= nc)
        idx[1] = X0, wt[1] = 0.0f, wt[0] = 1.0f;
    else
        idx[1] = X1, wt[1] = PL_OTHER;
}

/* Coarse rhs = P^T r (the transpose of the prolongation below: with the
 * unit 5-point stencil on both grids this is the Galerkin scaling). The
 * per-column weights are the level's tables (pl_weights, once per call). */
static void pl_restrict(const pl_level *F, const pl_level *Cl)
{
    memset(Cl->b, 0, sizeof(float) * 3 * (size_t)Cl->w * Cl->h);
    for (int y = 0; y < F->h; y++) {
        const int *iy = F->iy + 2 * y;
        const float *wy = F->wy + 2 * y;
        const uint8_t *D = F->D + (size_t)y * F->w;
        const float *r = F->r + 3 * (size_t)y * F->w;
        for (int x = F->x0[y]; x < F->x1[y]; x++) {
            if (!D[x])
                continue;
            const int *ix = F->ix + 2 * x;
            const float *wx = F->wx + 2 * x;
            const float *rp = r + 3 * x;
            for (int j = 0; j < 2; j++) {
                float *row = Cl->b + 3 * (size_t)iy[j] * Cl->w;
                for (int i = 0; i < 2; i++) {
                    const float wgt = wy[j] * wx[i];
                    float *q = row + 3 * ix[i];
                    q[0] += wgt * rp[0];
                    q[1] += wgt * rp[1];
                    q[2] += wgt * rp[2];
                }
            }
        }
    }
    for (size_t q = 0; q < (size_t)Cl->w * Cl->h; q++)
        if (!Cl->D[q])
            Cl->b[3 * q] = Cl->b[3 * q + 1] = Cl->b[3 * q + 2] = 0.0f;
}

static uint8_t round_u8(float v)
{
    v = v < 0.0f ? 0.0f : v; /* selects, not branches: this runs per channel */
    v = v > 255.0f ? 255.0f : v;
    return (uint8_t)(int)(v + 0.5f);
}

/* Fine row y's two coarse rows blended by its vertical weights, over the
 * coarse columns its span reads (its parents, one either side), into F->r
 * (free whenever a prolongation runs: after the restriction, or outside
 * the V-cycles). A pixel then reads two values, not four. */
static const float *pl_row_blend(const pl_level *F, const pl_level *Cl, int y)
{
    const int *iy = F->iy + 2 * y;
    const float *wy = F->wy + 2 * y;
    const float *c0 = Cl->u + 3 * (size_t)iy[0] * Cl->w, *c1 = Cl->u + 3 * (size_t)iy[1] * Cl->w;
    int X0 = (F->x0[y] >> 1) - 1, X1 = ((F->x1[y] - 1) >> 1) + 2;
    X0 = X0 < 0 ? 0 : X0;
    X1 = X1 > Cl->w ? Cl->w : X1;
    for (int i = 3 * X0; i < 3 * X1; i++)
        F->r[i] = wy[0] * c0[i] + wy[1] * c1[i];
    return F->r;
}

/* u_fine += P u_coarse on the fine domain (coarse u is 0 outside its
 * domain); with @p src (the fused end of the two-level solve,
 * pl_two_level): u = src + P u_coarse where the edge walk reached
 * (dist > 0), and that value rounded into out8 elsewhere, its final one. */
static void pl_prolong(const pl_level *F, const pl_level *Cl, const pl_img *src,
                       const uint8_t *dist, uint8_t *out8, ptrdiff_t o8stride)
{
    float *ev = F->row; /* the row's correction, fine columns x0..x1 */
    for (int y = 0; y < F->h; y++) {
        if (F->x0[y] >= F->x1[y])
            continue;
        const float *v = pl_row_blend(F, Cl, y);
        /* Across, as pl_weights: fine 2X and 2X+1 take 3/4 of coarse X and
         * 1/4 of X-1 and X+1, or all of X where that neighbour is past the
         * grid's edge. Coarse column by column, so no index tables; the
         * edge keeps pl_weights' (1, 0) pair as a sum, so that the result is
         * the tables' to the bit, a non-finite value included. */
        const int X0 = F->x0[y] >> 1, X1 = (F->x1[y] - 1) >> 1;
        for (int X = X0; X <= X1; X++) {
            const float *m = v + 3 * X;
            float *e0 = ev + 6 * X, *e1 = e0 + 3;
            if (X > 0)
                for (int ch = 0; ch < 3; ch++)
                    e0[ch] = PL_PARENT * m[ch] + PL_OTHER * m[ch - 3];
            else
                for (int ch = 0; ch < 3; ch++)
                    e0[ch] = 1.0f * m[ch] + 0.0f * m[ch];
            if (X + 1 < Cl->w)
                for (int ch = 0; ch < 3; ch++)
                    e1[ch] = PL_PARENT * m[ch] + PL_OTHER * m[ch + 3];
            else
                for (int ch = 0; ch < 3; ch++)
                    e1[ch] = 1.0f * m[ch] + 0.0f * m[ch];
        }
        const uint8_t *D = F->D + (size_t)y * F->w;
        float *u = F->u + 3 * (size_t)y * F->w;
        for (int x = F->x0[y]; x < F->x1[y]; x++) {
            if (!D[x])
                continue;
            const float *e = ev + 3 * x;
            if (!src) {
                for (int ch = 0; ch < 3; ch++)
                    u[3 * x + ch] += e[ch];
                continue;
            }
            float sp[3];
            for (int ch = 0; ch < 3; ch++)
                sp[ch] = pl_at(src, x, y, ch);
            if (dist[(size_t)y * F->w + x]) {
                for (int ch = 0; ch < 3; ch++)
                    u[3 * x + ch] = sp[ch] + e[ch];
            } else {
                uint8_t *o = out8 + (size_t)y * o8stride + 3 * x;
                for (int ch = 0; ch < 3; ch++)
                    o[ch] = round_u8(sp[ch] + e[ch]);
            }
        }
    }
}

static void pl_prolong_add(const pl_level *F, const pl_level *Cl)
{
    pl_prolong(F, Cl, NULL, NULL, NULL, 0);
}

/* One V(2, post) cycle from level l down. */
static void pl_vcycle(pl_level *lv, int l, int nlev, int post)
{
    pl_level *L = &lv[l];
    if (l == nlev - 1) {
        /* Coarsest grid: a few hundred unknowns at most; smoothing alone
         * converges well enough for a correction. */
        pl_smooth(L, 40);
        return;
    }
    pl_smooth(L, 2);
    pl_residual(L);
    pl_level *Cl = &lv[l + 1];
    pl_restrict(L, Cl);
    memset(Cl->u, 0, sizeof(float) * 3 * (size_t)Cl->w * Cl->h);
    pl_vcycle(lv, l + 1, nlev, 2);
    pl_prolong_add(L, Cl);
    pl_smooth(L, post);
}

/* The domains of levels from..nlev-1, each from the one above: a coarse
 * cell is unknown when at least PL_COARSE_MIN of its 2x2 children are. */
static void pl_coarsen(pl_level *lv, int from, int nlev)
{
    for (int l = from; l < nlev; l++) {
        const pl_level *F = &lv[l - 1];
        pl_level *C = &lv[l];
        /* Whole 2x2 blocks in a loop the compiler vectorises; a cell of an
         * odd last row or column has at most two children, so it never
         * joins. */
        const int fw2 = F->w >> 1;
        for (int Y = 0; Y < C->h; Y++) {
            const uint8_t *r0 = F->D + (size_t)(2 * Y) * F->w;
            const uint8_t *r1 = 2 * Y + 1 < F->h ? r0 + F->w : NULL;
            uint8_t *c = C->D + (size_t)Y * C->w;
            if (r1)
                for (int X = 0; X < fw2; X++)
                    c[X] = (uint8_t)(r0[2 * X] + r0[2 * X + 1] + r1[2 * X] + r1[2 * X + 1] >=
                                     PL_COARSE_MIN);
            else
                for (int X = 0; X < fw2; X++)
                    c[X] = (uint8_t)(r0[2 * X] + r0[2 * X + 1] >= PL_COARSE_MIN);
            if (fw2 < C->w)
                c[fw2] = (uint8_t)(r0[2 * fw2] + (r1 ? r1[2 * fw2] : 0) >= PL_COARSE_MIN);
        }
        pl_spans(C);
    }
}

/* One pixel of D's right-hand side (pl_rhs), with every edge tested. */
static void pl_rhs_pixel(const pl_level *L0, const pl_img *src, const pl_img *tgt, int x, int y,
                         float *b)
{
    const int w = L0->w, h = L0->h;
    const int ok[4] = {x > 0, x < w - 1, y > 0, y < h - 1};
    const int dx[4] = {-1, 1, 0, 0}, dy[4] = {0, 0, -1, 1};
    for (int c = 0; c < 3; c++) {
        float acc = 0.0f;
        for (int k = 0; k < 4; k++) {
            if (!ok[k])
                continue;
            const int qx = x + dx[k], qy = y + dy[k];
            /* Edges that cross the domain boundary take the target's own
             * difference: the seam then carries the target's texture
             * gradient rather than the source's. */
            if (L0->D[(size_t)qy * w + qx])
                acc += pl_at(src, x, y, c) - pl_at(src, qx, qy, c);
            else
                acc += pl_at(tgt, x, y, c) - pl_at(tgt, qx, qy, c);
        }
        b[c] = acc;
    }
}

/* b = the source's own Laplacian under the same stencil, with the target's
 * own difference on the edges that leave D; u = the target outside D.
 * dsum/dn: the sum and count of target - source over the pixels outside D
 * that touch it (NULL: not wanted). */
static void pl_rhs(pl_level *L0, const float *src, ptrdiff_t sstride, const float *tgt,
                   ptrdiff_t tstride, double dsum_out[3], long *dn_out)
{
    const int w = L0->w, h = L0->h;
    double dsum[3] = {0, 0, 0};
    long dn = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const size_t p = (size_t)y * w + x;
            const float *s = &src[(size_t)y * sstride + 3 * x];
            const float *t = &tgt[(size_t)y * tstride + 3 * x];
            if (!L0->D[p]) {
                /* Outside D only the pixels next to it are read (u, as the
                 * Dirichlet values), and only they need to be valid in src
                 * and tgt (fs_blend_poisson_u8 converts no others). */
                const int touches = (x > 0 && L0->D[p - 1]) || (x < w - 1 && L0->D[p + 1]) ||
                                    (y > 0 && L0->D[p - w]) || (y < h - 1 && L0->D[p + w]);
                if (touches) {
                    memcpy(&L0->u[3 * p], t, sizeof(float) * 3);
                    for (int c = 0; c < 3; c++)
                        dsum[c] += (double)t[c] - s[c];
                    dn++;
                }
                continue;
            }
            if (x > 0 && x < w - 1 && y > 0 && y < h - 1 && L0->D[p - 1] && L0->D[p + 1] &&
                L0->D[p - (size_t)w] && L0->D[p + (size_t)w]) {
                /* All four neighbours unknown (most of the domain): the
                 * source's own Laplacian, without the per-edge tests. */
                const float *l = s - 3, *r = s + 3, *u = s - sstride, *d = s + sstride;
                for (int c = 0; c < 3; c++)
                    L0->b[3 * p + c] = 4.0f * s[c] - ((l[c] + r[c]) + (u[c] + d[c]));
                continue;
            }
            const pl_img si = {src, NULL, sstride}, ti = {tgt, NULL, tstride};
            pl_rhs_pixel(L0, &si, &ti, x, y, &L0->b[3 * p]);
        }
    if (dsum_out) {
        for (int c = 0; c < 3; c++)
            dsum_out[c] = dsum[c];
        *dn_out = dn;
    }
}

/* Gauss-Seidel on a list of level-0 unknowns (one colour of the band's
 * red-black split): the same update as pl_smooth_half. */
static void pl_smooth_list(const pl_level *L, const int32_t *idx, size_t count)
{
    const int w = L->w, h = L->h;
    for (size_t i = 0; i < count; i++) {
        const size_t p = (size_t)idx[i];
        const int x = (int)(p % (size_t)w), y = (int)(p / (size_t)w);
        pl_gs_update(L, p, x, y, y > 0 && y < h - 1 && x > 0 && x < w - 1);
    }
}

/* Values for the cells of L that are neither fixed (state 1) nor unknown
 * (state 2): the fixed values carried two cells outward (states 3, 4), as
 * the bilinear prolongation reads at most one cell beyond a pixel's
 * parent. */
static void pl_extend(pl_level *L, uint8_t *state)
{
    const int w = L->w, h = L->h;
    for (int pass = 1; pass <= 2; pass++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                const size_t q = (size_t)y * w + x;
                if (state[q])
                    continue;
                float acc[3] = {0, 0, 0};
                int k = 0;
                const int ok[4] = {x > 0, x < w - 1, y > 0, y < h - 1};
                const size_t nb[4] = {q - 1, q + 1, q - (size_t)w, q + (size_t)w};
                for (int j = 0; j < 4; j++)
                    if (ok[j] && (state[nb[j]] == 1 || (pass == 2 && state[nb[j]] == 3))) {
                        for (int c = 0; c < 3; c++)
                            acc[c] += L->u[3 * nb[j] + c];
                        k++;
                    }
                if (k) {
                    state[q] = (uint8_t)(2 + pass);
                    for (int c = 0; c < 3; c++)
                        L->u[3 * q + c] = acc[c] / (float)k;
                }
            }
}

/* Level l's fixed-cell problem from the sums of fixed values in its r
 * (3 planes) and their counts in its b (first plane): a cell with a count
 * is fixed (state 1) to the mean and leaves the domain, the domain's cells
 * (state 2) start at @p start, pl_extend fills the rest; b is cleared (a
 * Laplace problem) and the levels below get domains without the fixed
 * cells. */
static void pl_pose_fixed(pl_level *lv, int l, int nlev, uint8_t *state, const double start[3])
{
    pl_level *L = &lv[l];
    const size_t n = (size_t)L->w * L->h;
    for (size_t q = 0; q < n; q++) {
        const float cnt = L->b[q];
        if (cnt > 0.0f) {
            state[q] = 1;
            L->D[q] = 0;
            for (int c = 0; c < 3; c++)
                L->u[3 * q + c] = L->r[3 * q + c] / cnt;
        } else {
            state[q] = L->D[q] ? 2 : 0;
            for (int c = 0; c < 3; c++)
                L->u[3 * q + c] = L->D[q] ? (float)start[c] : 0.0f;
        }
    }
    pl_extend(L, state);
    memset(L->b, 0, sizeof(float) * 3 * n);
    pl_spans(L);
    pl_coarsen(lv, l + 1, nlev);
}

/* Level 1's fixed-cell problem (states as pl_extend's) posed on level 2:
 * a level-2 cell with fixed children is fixed to their mean, the rest of
 * level 2's domain is solved by @p cycles - 1 V-cycles, and the result,
 * brought up bilinearly, becomes level 1's unknowns' starting values.
 * Levels 2 and below get their domains back. Returns 0 (nothing done)
 * without memory. */
static int pl_nested(pl_level *lv, int nlev, const uint8_t *state1, const double gm[3],
                     int cycles)
{
    pl_level *L1 = &lv[1], *L2 = &lv[2];
    const size_t n1 = (size_t)L1->w * L1->h, n2 = (size_t)L2->w * L2->h;
    uint8_t *state2 = fs_tmp_calloc(n2, 1);
    if (!state2)
        return 0;
    memset(L2->r, 0, sizeof(float) * 3 * n2);
    memset(L2->b, 0, sizeof(float) * 3 * n2);
    for (int y = 0; y < L1->h; y++)
        for (int x = 0; x < L1->w; x++) {
            const size_t q = (size_t)y * L1->w + x;
            if (state1[q] != 1)
                continue;
            const size_t q2 = (size_t)(y >> 1) * L2->w + (size_t)(x >> 1);
            for (int c = 0; c < 3; c++)
                L2->r[3 * q2 + c] += L1->u[3 * q + c];
            L2->b[q2] += 1.0f;
        }
    pl_pose_fixed(lv, 2, nlev, state2, gm);
    for (int c = 0; c < cycles - 1; c++)
        pl_vcycle(lv, 2, nlev, 1);
    for (size_t q = 0; q < n1; q++)
        if (L1->D[q])
            L1->u[3 * q] = L1->u[3 * q + 1] = L1->u[3 * q + 2] = 0.0f;
    pl_prolong_add(L1, L2);
    pl_coarsen(lv, 2, nlev);
    fs_tmp_free(state2);
    return 1;
}

/*
 * The two-level solve (fs_poisson_opts.band). With u = the source on D, the
 * correction e = u - s still to add is harmonic inside D and, on a pixel of
 * D next to the complement, tied to g = t - s there (the edges that leave D
 * carry the target's own difference). e is smooth except within a few
 * pixels of the edge, so the half-resolution grid solves for it: the coarse
 * cells that hold edge pixels take the mean of their g as fixed values, the
 * cells beyond them that value carried outward (so that the bilinear
 * prolongation leans towards g at the edge), and the cells inside are
 * solved by the coarse grid's own V-cycles (a quarter of the unknowns).
 * Then Gauss-Seidel on the band along the edge (found by a breadth-first
 * walk from it, so no pass over the whole box) removes what the coarse grid
 * cannot represent there, and the rim cross-fade is applied on the same
 * walk. Level 0's b is filled on the band only (all of it when @p residual,
 * not NULL, asks for max |b - A u| before the rim). Returns 1, 0 when D
 * has no edge pixel (no boundary data: u = s), or -1 out of memory.
 */
static int pl_two_level(pl_level *lv, int nlev, const pl_img *src, const pl_img *tgt, int cycles,
                        int band, int rim, double *residual, uint8_t *out8, ptrdiff_t o8stride)
{
    pl_level *L0 = &lv[0], *L1 = &lv[1];
    const int w = L0->w, h = L0->h, w1 = L1->w, h1 = L1->h;
    const size_t n = (size_t)w * h, n1 = (size_t)w1 * h1;
    /* Fused: the pixels beyond the walk go straight to out8 from the
     * prolongation, and only the walk's pixels keep u; the band's sweeps
     * then need their neighbours one step further in the walk. */
    const int fused = out8 && !residual;
    const int reach = fused ? (band + 1 > rim ? band + 1 : rim) : (band > rim ? band : rim);
    uint8_t *dist = fs_tmp_calloc(n, 1), *known = fs_tmp_calloc(n1, 1);
    int32_t *queue = fs_tmp_alloc(sizeof(int32_t) * n);
    if (!dist || !known || !queue) {
        fs_tmp_free(dist), fs_tmp_free(known), fs_tmp_free(queue);
        return -1;
    }
    /* Sums of g per coarse cell in L1->r, their counts in L1->b's first plane. */
    memset(L1->r, 0, sizeof(float) * 3 * n1);
    memset(L1->b, 0, sizeof(float) * 3 * n1);
    size_t qn = 0;
    double gm[3] = {0, 0, 0}; /* the sum of g over the edge pixels */
    /* All-known stand-in for the rows above the first and below the last:
     * beyond the window there is no edge (zero flux). */
    uint8_t *ones = fs_tmp_alloc((size_t)w);
    if (!ones) {
        fs_tmp_free(dist), fs_tmp_free(known), fs_tmp_free(queue);
        return -1;
    }
    memset(ones, 1, (size_t)w);
    for (int y = 0; y < h; y++) {
        const int a = L0->x0[y], b = L0->x1[y];
        if (a >= b)
            continue;
        const uint8_t *D = L0->D + (size_t)y * w;
        const uint8_t *up = y > 0 ? D - w : ones, *dn = y < h - 1 ? D + w : ones;
        float *u = L0->u + 3 * (size_t)y * w;
        if (!fused)
            for (int x = a; x < b; x++)
                if (D[x])
                    for (int c = 0; c < 3; c++)
                        u[3 * x + c] = pl_at(src, x, y, c);
        /* Edge pixels (in D, a neighbour in the window that is not), first
         * as flags in dist's row by a loop the compiler vectorises (the
         * window's first and last columns apart), then walked. */
        uint8_t *E = dist + (size_t)y * w;
        const int ia = a > 1 ? a : 1, ib = b < w - 1 ? b : w - 1;
        for (int x = ia; x < ib; x++)
            E[x] = (uint8_t)(D[x] & ~(D[x - 1] & D[x + 1] & up[x] & dn[x]) & 1);
        if (a == 0)
            E[0] = (uint8_t)(D[0] & ~((w > 1 ? D[1] : 1) & up[0] & dn[0]) & 1);
        if (b == w && w > 1)
            E[w - 1] = (uint8_t)(D[w - 1] & ~(D[w - 2] & up[w - 1] & dn[w - 1]) & 1);
        for (int x = a; x < b; x++) {
            if (!E[x])
                continue;
            /* u outside D is read only next to it (the band's sweeps). */
            const int ok[4] = {x > 0, x < w - 1, y > 0, y < h - 1};
            const int dx[4] = {-1, 1, 0, 0}, dy[4] = {0, 0, -1, 1};
            for (int k = 0; k < 4; k++)
                if (ok[k] && !D[x + dx[k] + dy[k] * w]) {
                    float *o = u + 3 * (x + dx[k] + dy[k] * w);
                    for (int c = 0; c < 3; c++)
                        o[c] = pl_at(tgt, x + dx[k], y + dy[k], c);
                }
            queue[qn++] = (int32_t)((size_t)y * w + x);
            const size_t q = (size_t)(y >> 1) * w1 + (size_t)(x >> 1);
            for (int c = 0; c < 3; c++) {
                const float g = pl_at(tgt, x, y, c) - pl_at(src, x, y, c);
                L1->r[3 * q + c] += g;
                gm[c] += g;
            }
            L1->b[q] += 1.0f;
        }
    }
    fs_tmp_free(ones);
    /* Unknown cells start at the mean of g: the cycles then only solve for
     * its variation along the edge. */
    for (int c = 0; c < 3; c++)
        gm[c] = qn ? gm[c] / (double)qn : 0.0;
    pl_pose_fixed(lv, 1, nlev, known, gm);
    /* Nested iteration: the same problem one level down gives the level's
     * cycles a starting point that already has the membrane's shape, so one
     * cycle here does what two from the mean did. V(2,1): the second
     * post-smoothing sweep bought little (mean distance to the converged
     * solve 0.9-1.2 levels against 0.7-1.0 on faceapi_sample1..3). */
    int here = cycles;
    if (nlev >= 3 && cycles >= 2 && pl_nested(lv, nlev, known, gm, cycles))
        here = cycles - 1;
    for (int c = 0; c < here; c++)
        pl_vcycle(lv, 1, nlev, 1);
    fs_tmp_free(known);

    /* Breadth-first from the edge: dist is the 4-neighbour distance to the
     * complement, queue holds the pixels up to reach in that order. */
    size_t nband = 0;
    for (size_t head = 0; head < qn; head++) {
        const size_t p = (size_t)queue[head];
        const int d = dist[p], x = (int)(p % (size_t)w), y = (int)(p / (size_t)w);
        if (d <= band)
            nband = head + 1;
        if (d >= reach)
            continue;
        const size_t nb[4] = {p - 1, p + 1, p - (size_t)w, p + (size_t)w};
        const int ok[4] = {x > 0, x < w - 1, y > 0, y < h - 1};
        for (int k = 0; k < 4; k++)
            if (ok[k] && L0->D[nb[k]] && !dist[nb[k]]) {
                dist[nb[k]] = (uint8_t)(d + 1);
                queue[qn++] = (int32_t)nb[k];
            }
    }
    if (fused)
        pl_prolong(L0, L1, src, dist, out8, o8stride);
    else
        pl_prolong_add(L0, L1);
    /* The band's rhs, and its red-black split. */
    int32_t *split = fs_tmp_alloc(sizeof(int32_t) * (nband ? nband : 1));
    if (!split) {
        fs_tmp_free(dist), fs_tmp_free(queue);
        return -1;
    }
    size_t nred = 0, nblack = nband;
    for (size_t i = 0; i < nband; i++) {
        const size_t p = (size_t)queue[i];
        const int x = (int)(p % (size_t)w), y = (int)(p / (size_t)w);
        pl_rhs_pixel(L0, src, tgt, x, y, &L0->b[3 * p]);
        if ((x + y) & 1)
            split[--nblack] = (int32_t)p;
        else
            split[nred++] = (int32_t)p;
    }
    for (int sweep = 0; sweep < band + 2; sweep++) {
        pl_smooth_list(L0, split, nred);
        pl_smooth_list(L0, split + nblack, nband - nblack);
    }
    if (residual) { /* the full rhs, for the residual only (before the rim, as the V-cycles') */
        pl_rhs(L0, src->f, src->stride, tgt->f, tgt->stride, NULL, NULL);
        *residual = pl_residual(L0);
    }
    for (size_t i = 0; i < qn && rim > 0; i++) {
        const size_t p = (size_t)queue[i];
        if (dist[p] > rim)
            break; /* the queue is in distance order */
        const int x = (int)(p % (size_t)w), y = (int)(p / (size_t)w);
        const float a = (float)dist[p] / (float)(rim + 1);
        for (int c = 0; c < 3; c++) {
            const float t = pl_at(tgt, x, y, c);
            L0->u[3 * p + c] = t + a * (L0->u[3 * p + c] - t);
        }
    }
    for (size_t i = 0; i < qn && fused; i++) {
        const size_t p = (size_t)queue[i];
        const int x = (int)(p % (size_t)w), y = (int)(p / (size_t)w);
        for (int c = 0; c < 3; c++)
            out8[(size_t)y * o8stride + 3 * x + c] = round_u8(L0->u[3 * p + c]);
    }
    fs_tmp_free(split), fs_tmp_free(dist), fs_tmp_free(queue);
    return qn > 0;
}

/* The solve on a window whose every unknown has its neighbours inside it
 * or beyond the window's edge (zero flux); see fs_blend_poisson_f32. The
 * images may be 8-bit (pl_img) only for the fused two-level solve (band > 0,
 * out8, no info); every other path reads float ones. */
static fs_status poisson_solve(fs_error_buf *err, const pl_img *si, const pl_img *ti,
                               const uint8_t *mask, ptrdiff_t mstride, int w, int h,
                               int max_cycles, double tol, int rim, int band, float *out,
                               ptrdiff_t ostride, uint8_t *out8, ptrdiff_t o8stride,
                               fs_poisson_info *info)
{
    const float *src = si->f, *tgt = ti->f;
    const ptrdiff_t sstride = si->stride, tstride = ti->stride;

    pl_level lv[PL_MAX_LEVELS];
    int nlev = 0;
    size_t total = 0;
    for (int lw = w, lh = h; nlev < PL_MAX_LEVELS; nlev++) {
        lv[nlev].w = lw, lv[nlev].h = lh;
        total += (size_t)lw * lh;
        if (lw <= 4 || lh <= 4)
            break;
        lw = (lw + 1) / 2, lh = (lh + 1) / 2;
    }
    if (nlev < PL_MAX_LEVELS)
        nlev++;
    size_t sides = 0;
    for (int l = 0; l < nlev; l++)
        sides += (size_t)lv[l].w + (size_t)lv[l].h;
    float *fbuf = fs_tmp_alloc(sizeof(float) * 9 * total);
    uint8_t *dbuf = fs_tmp_calloc(total, 1);
    size_t rows = 0;
    for (int l = 0; l < nlev; l++)
        rows += (size_t)lv[l].h;
    int *ibuf = fs_tmp_alloc(sizeof(int) * (2 * sides + 2 * rows));
    float *wbuf = fs_tmp_alloc(sizeof(float) * (2 * sides + 3 * ((size_t)w + 1)));
    if (!fbuf || !dbuf || !ibuf || !wbuf) {
        fs_tmp_free(fbuf), fs_tmp_free(dbuf), fs_tmp_free(ibuf), fs_tmp_free(wbuf);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_blend_poisson_f32: out of memory");
    }
    size_t off = 0, soff = 0, roff = 2 * sides;
    for (int l = 0; l < nlev; l++) {
        const size_t n = (size_t)lv[l].w * lv[l].h;
        lv[l].u = fbuf + 9 * off, lv[l].b = lv[l].u + 3 * n, lv[l].r = lv[l].b + 3 * n;
        lv[l].D = dbuf + off;
        off += n;
        lv[l].iy = ibuf + 2 * soff, lv[l].wy = wbuf + 2 * soff;
        lv[l].ix = lv[l].iy + 2 * lv[l].h, lv[l].wx = lv[l].wy + 2 * lv[l].h;
        soff += (size_t)lv[l].w + (size_t)lv[l].h;
        lv[l].x0 = ibuf + roff, lv[l].x1 = ibuf + roff + lv[l].h;
        roff += 2 * (size_t)lv[l].h;
        lv[l].row = wbuf + 2 * sides;
        if (l + 1 < nlev) {
            for (int y = 0; y < lv[l].h; y++)
                pl_weights(y, lv[l + 1].h, lv[l].iy + 2 * y, lv[l].wy + 2 * y);
            for (int x = 0; x < lv[l].w; x++)
                pl_weights(x, lv[l + 1].w, lv[l].ix + 2 * x, lv[l].wx + 2 * x);
        }
    }
    pl_level *L0 = &lv[0];
    int unknowns = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const int in = mask[(size_t)y * mstride + x] != 0;
            L0->D[(size_t)y * w + x] = (uint8_t)in;
            unknowns += in;
        }
    pl_spans(L0);
    /* Coarse domains: a coarse cell is unknown when at least PL_COARSE_MIN
     * of its 2x2 children are (counted in dbuf, then thresholded). */
    pl_coarsen(lv, 1, nlev);

    /* b = the source's own Laplacian under the same stencil; the initial
     * guess is the source shifted by the mean boundary difference, which
     * leaves the V-cycles only the variation of that difference to solve. */
    int cycles = 0;
    double res = -1.0; /* not computed yet */
    if (band > 0 && nlev >= 2 && unknowns > 0) {
        const int done = pl_two_level(lv, nlev, si, ti, max_cycles, band, rim, info ? &res : NULL,
                                      out8, o8stride);
        if (done < 0) {
            fs_tmp_free(fbuf), fs_tmp_free(dbuf), fs_tmp_free(ibuf), fs_tmp_free(wbuf);
            return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_blend_poisson_f32: out of memory");
        }
        cycles = done ? max_cycles : 0;
        rim = 0; /* applied on the band's walk */
        if (out8 && !info)
            goto written; /* and out8 written there */
        goto output;
    }
    double dsum[3];
    long dn = 0;
    pl_rhs(L0, src, sstride, tgt, tstride, dsum, &dn);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const size_t p = (size_t)y * w + x;
            if (L0->D[p])
                for (int c = 0; c < 3; c++)
                    L0->u[3 * p + c] = (float)(src[(size_t)y * sstride + 3 * x + c] +
                                               (dn ? dsum[c] / (double)dn : 0.0));
        }

    if (dn > 0 && unknowns > 0) {
        double prev = INFINITY; /* the first cycle always runs */
        for (cycles = 0; cycles < max_cycles;) {
            pl_vcycle(lv, 0, nlev, 2);
            cycles++;
            if (tol <= 0.0)
                continue; /* a fixed number of cycles: no residual pass per cycle */
            res = pl_residual(L0);
            if (res <= tol || !(res < 4.0 * prev))
                break; /* converged, or (never seen) not contracting: stop rather than diverge */
            prev = res;
        }
    }
    if (res < 0.0 && info)
        res = unknowns > 0 ? pl_residual(L0) : 0.0;

    if (rim > 0) {
        /* 4-neighbour distance to the complement, up to rim, in lv[0].r's
         * first plane (free now): rim passes, each growing the ring by one. */
        float *dist = L0->r;
        for (size_t p = 0; p < (size_t)w * h; p++)
            dist[p] = L0->D[p] ? (float)(rim + 1) : 0.0f;
        /* Rows whose pixels may change at pass d lie within d of a row
         * holding an unknown next to the complement; a pass touches only
         * unknowns still beyond d, so the row test is all the saving. */
        for (int d = 1; d <= rim; d++)
            for (int y = 0; y < h; y++) {
                float *row = dist + (size_t)y * w;
                for (int x = 0; x < w; x++) {
                    if (row[x] <= (float)d)
                        continue;
                    const float want = (float)(d - 1);
                    if ((x > 0 && row[x - 1] == want) || (x < w - 1 && row[x + 1] == want) ||
                        (y > 0 && row[x - w] == want) || (y < h - 1 && row[x + w] == want))
                        row[x] = (float)d;
                }
            }
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                const size_t p = (size_t)y * w + x;
                if (!L0->D[p] || dist[p] > (float)rim)
                    continue;
                const float a = dist[p] / (float)(rim + 1);
                for (int c = 0; c < 3; c++) {
                    const float t = tgt[(size_t)y * tstride + 3 * x + c];
                    L0->u[3 * p + c] = t + a * (L0->u[3 * p + c] - t);
                }
            }
    }
output:
    for (int y = 0; y < h && out8; y++) /* the 8-bit wrapper: only D is written */
        for (int x = L0->x0[y]; x < L0->x1[y]; x++) {
            const size_t p = (size_t)y * w + x;
            if (L0->D[p])
                for (int c = 0; c < 3; c++)
                    out8[(size_t)y * o8stride + 3 * x + c] = round_u8(L0->u[3 * p + c]);
        }
    for (int y = 0; y < h && !out8; y++)
        for (int x = 0; x < w; x++) {
            const size_t p = (size_t)y * w + x;
            float *o = &out[(size_t)y * ostride + 3 * x];
            if (L0->D[p])
                memcpy(o, &L0->u[3 * p], sizeof(float) * 3);
            else if (o != &tgt[(size_t)y * tstride + 3 * x])
                memcpy(o, &tgt[(size_t)y * tstride + 3 * x], sizeof(float) * 3);
        }
written:
    if (info) {
        info->cycles = cycles;
        info->max_residual = res;
        info->unknowns = unknowns;
    }
    fs_tmp_free(fbuf), fs_tmp_free(dbuf), fs_tmp_free(ibuf), fs_tmp_free(wbuf);
    return FS_OK;
}

/* The mask's bounding box grown by one pixel where the window allows
 * (x1 < 0 for an empty mask). */
static void mask_box(const uint8_t *mask, ptrdiff_t mstride, int w, int h, int *bx0, int *by0,
                     int *bx1, int *by1)
{
    int x0 = w, y0 = h, x1 = -1, y1 = -1;
    for (int y = 0; y < h; y++) {
        const uint8_t *m = mask + (size_t)y * (size_t)mstride;
        for (int x = 0; x < w; x++)
            if (m[x]) {
                x0 = x < x0 ? x : x0;
                x1 = x > x1 ? x : x1;
                y0 = y < y0 ? y : y0;
                y1 = y;
            }
    }
    if (x1 < 0) {
        *bx0 = *by0 = 0;
        *bx1 = *by1 = -1;
        return;
    }
    *bx0 = x0 > 0 ? x0 - 1 : 0;
    *by0 = y0 > 0 ? y0 - 1 : 0;
    *bx1 = x1 < w - 1 ? x1 + 1 : w - 1;
    *by1 = y1 < h - 1 ? y1 + 1 : h - 1;
}

/* opts (NULL: the defaults) checked and unpacked. */
static fs_status poisson_options(fs_error_buf *err, const char *fn, const fs_poisson_opts *opts,
                                 int *max_cycles, double *tol, int *rim, int *band)
{
    *max_cycles = opts && opts->max_cycles > 0 ? opts->max_cycles : 8;
    *tol = opts && opts->tolerance > 0.0 ? opts->tolerance : 0.0;
    *rim = opts ? opts->rim : 0;
    *band = opts ? opts->band : 0;
    if (*max_cycles > 1000 || *rim < 0 || *rim > 16 || *band < 0 || *band > 16)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT,
                       "%s: max_cycles > 1000, or rim or band outside 0..16", fn);
    return FS_OK;
}

fs_status fs_blend_poisson_f32(fs_error_buf *err, const float *src, ptrdiff_t sstride,
                               const float *tgt, ptrdiff_t tstride, const uint8_t *mask,
                               ptrdiff_t mstride, int w, int h, const fs_poisson_opts *opts,
                               float *out, ptrdiff_t ostride, fs_poisson_info *info)
{
    fs_status st = check_common(err, "fs_blend_poisson_f32", w, h, src, tgt, mask, out);
    if (st != FS_OK)
        return st;
    if (sstride < 3 * (ptrdiff_t)w || tstride < 3 * (ptrdiff_t)w || ostride < 3 * (ptrdiff_t)w ||
        mstride < w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_blend_poisson_f32: bad stride");
    int max_cycles, rim, band;
    double tol;
    if ((st = poisson_options(err, "fs_blend_poisson_f32", opts, &max_cycles, &tol, &rim,
                              &band)) != FS_OK)
        return st;
    /* Only the mask's bounding box, grown by the one pixel of Dirichlet
     * boundary, takes part: a face's window is mostly margin, and every
     * pass of the solver would otherwise walk it. Grown only where the
     * window allows, so a mask touching the window edge keeps its
     * zero-flux edge there, as on the whole window. */
    int x0, y0, x1, y1;
    mask_box(mask, mstride, w, h, &x0, &y0, &x1, &y1);
    for (int y = 0; y < h; y++) {
        const float *t = tgt + (size_t)y * (size_t)tstride;
        float *o = out + (size_t)y * (size_t)ostride;
        if (o == t)
            continue;
        if (y < y0 || y > y1) {
            memcpy(o, t, sizeof(float) * 3 * (size_t)w);
        } else {
            memcpy(o, t, sizeof(float) * 3 * (size_t)x0);
            memcpy(o + 3 * (x1 + 1), t + 3 * (x1 + 1), sizeof(float) * 3 * (size_t)(w - 1 - x1));
        }
    }
    if (x1 < 0) {
        if (info) {
            info->cycles = 0;
            info->max_residual = 0;
            info->unknowns = 0;
        }
        return FS_OK;
    }
    const pl_img si = {src + (size_t)y0 * (size_t)sstride + 3 * (size_t)x0, NULL, sstride};
    const pl_img ti = {tgt + (size_t)y0 * (size_t)tstride + 3 * (size_t)x0, NULL, tstride};
    return poisson_solve(err, &si, &ti, mask + (size_t)y0 * (size_t)mstride + (size_t)x0, mstride,
                         x1 - x0 + 1, y1 - y0 + 1, max_cycles, tol, rim, band,
                         out + (size_t)y0 * (size_t)ostride + 3 * (size_t)x0, ostride, NULL, 0,
                         info);
}

static fs_status to_float_pair(fs_error_buf *err, const uint8_t *src, ptrdiff_t sstride,
                               const uint8_t *dst, ptrdiff_t dstride, int w, int h, float **out)
{
    const size_t n = (size_t)w * h * 3;
    float *f = fs_tmp_alloc(sizeof(float) * n * 3);
    if (!f)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "compose blend: out of memory");
    for (int y = 0; y < h; y++)
        for (int i = 0; i < 3 * w; i++) {
            f[(size_t)y * 3 * w + i] = src[(size_t)y * sstride + i];
            f[n + (size_t)y * 3 * w + i] = dst[(size_t)y * dstride + i];
        }
    *out = f;
    return FS_OK;
}

/* Float copies of src and dst (2 planes, packed) for the Poisson solve,
 * which reads them only on the mask and the pixels next to it: each row
 * converts just the span of the mask on it and its two neighbour rows,
 * one pixel wider. */
static fs_status to_float_near_mask(fs_error_buf *err, const uint8_t *src, ptrdiff_t sstride,
                                    const uint8_t *dst, ptrdiff_t dstride, const uint8_t *mask,
                                    ptrdiff_t mstride, int w, int h, float **out)
{
    const size_t n = (size_t)w * h * 3;
    float *f = fs_tmp_alloc(sizeof(float) * n * 2);
    int *span = fs_tmp_alloc(sizeof(int) * 2 * (size_t)h);
    if (!f || !span) {
        fs_tmp_free(f), fs_tmp_free(span);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "compose blend: out of memory");
    }
    for (int y = 0; y < h; y++) {
        const uint8_t *m = mask + (size_t)y * (size_t)mstride;
        int a = 0, b = w;
        while (a < b && !m[a])
            a++;
        while (b > a && !m[b - 1])
            b--;
        span[2 * y] = a, span[2 * y + 1] = b;
    }
    for (int y = 0; y < h; y++) {
        int a = w, b = 0;
        for (int yy = y > 0 ? y - 1 : 0; yy <= y + 1 && yy < h; yy++)
            if (span[2 * yy] < span[2 * yy + 1]) {
                a = span[2 * yy] < a ? span[2 * yy] : a;
                b = span[2 * yy + 1] > b ? span[2 * yy + 1] : b;
            }
        a = a > 0 ? a - 1 : 0;
        b = b < w ? b + 1 : w;
        for (int i = 3 * a; i < 3 * b; i++) {
            f[(size_t)y * 3 * w + i] = src[(size_t)y * sstride + i];
            f[n + (size_t)y * 3 * w + i] = dst[(size_t)y * dstride + i];
        }
    }
    fs_tmp_free(span);
    *out = f;
    return FS_OK;
}

fs_status fs_blend_poisson_u8(const fs_exec *ex, const uint8_t *src, ptrdiff_t sstride,
                              uint8_t *dst, ptrdiff_t dstride, const uint8_t *mask,
                              ptrdiff_t mstride, int w, int h, const fs_poisson_opts *opts,
                              fs_poisson_info *info)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    fs_status st = check_common(err, "fs_blend_poisson_u8", w, h, src, dst, mask, mask);
    if (st != FS_OK)
        return st;
    if (sstride < 3 * (ptrdiff_t)w || dstride < 3 * (ptrdiff_t)w || mstride < w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_blend_poisson_u8: bad stride");
    /* Only the mask's box (and its one-pixel boundary) is read or written:
     * the float copies then cost the box, not the window. */
    int x0, y0, x1, y1;
    mask_box(mask, mstride, w, h, &x0, &y0, &x1, &y1);
    if (x1 < 0) {
        x0 = y0 = 0;
        x1 = y1 = 0; /* an empty mask: a 1x1 solve with nothing to solve */
    }
    src += (size_t)y0 * (size_t)sstride + 3 * (size_t)x0;
    dst += (size_t)y0 * (size_t)dstride + 3 * (size_t)x0;
    mask += (size_t)y0 * (size_t)mstride + (size_t)x0;
    w = x1 - x0 + 1;
    h = y1 - y0 + 1;
    int max_cycles, rim, band;
    double tol;
    if ((st = poisson_options(err, "fs_blend_poisson_u8", opts, &max_cycles, &tol, &rim,
                              &band)) != FS_OK)
        return st;
    /* The box is already the one fs_blend_poisson_f32 would cut; the solve
     * writes the rounded domain straight into dst. The fused two-level solve
     * reads the bytes themselves; the others read float copies (the same
     * values: a byte converts to float exactly, so the result is too). */
    if (band > 0 && !info) {
        const pl_img si = {NULL, src, sstride}, ti = {NULL, dst, dstride};
        return poisson_solve(err, &si, &ti, mask, mstride, w, h, max_cycles, tol, rim, band, NULL,
                             0, dst, dstride, NULL);
    }
    float *f = NULL;
    if ((st = to_float_near_mask(err, src, sstride, dst, dstride, mask, mstride, w, h, &f)) !=
        FS_OK)
        return st;
    const size_t n = (size_t)w * h * 3;
    const pl_img si = {f, NULL, 3 * (ptrdiff_t)w}, ti = {f + n, NULL, 3 * (ptrdiff_t)w};
    st = poisson_solve(err, &si, &ti, mask, mstride, w, h, max_cycles, tol, rim, band, NULL, 0, dst,
                       dstride, info);
    fs_tmp_free(f);
    return st;
}

fs_status fs_blend_multiband_u8(const fs_exec *ex, const uint8_t *src, ptrdiff_t sstride,
                                uint8_t *dst, ptrdiff_t dstride, const float *alpha, int w,
                                int h, int levels)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    fs_status st = check_common(err, "fs_blend_multiband_u8", w, h, src, dst, alpha, alpha);
    if (st != FS_OK)
        return st;
    if (sstride < 3 * (ptrdiff_t)w || dstride < 3 * (ptrdiff_t)w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_blend_multiband_u8: bad stride");
    float *f = NULL;
    if ((st = to_float_pair(err, src, sstride, dst, dstride, w, h, &f)) != FS_OK)
        return st;
    const size_t n = (size_t)w * h * 3;
    st = fs_blend_multiband_f32(err, f, 3 * (ptrdiff_t)w, f + n, 3 * (ptrdiff_t)w, alpha, w, h,
                                levels, f + 2 * n, 3 * (ptrdiff_t)w);
    if (st == FS_OK)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (alpha[(size_t)y * w + x] > 0.0f)
                    for (int c = 0; c < 3; c++)
                        dst[(size_t)y * dstride + 3 * x + c] =
                            round_u8(f[2 * n + ((size_t)y * w + x) * 3 + c]);
    fs_tmp_free(f);
    return st;
}
