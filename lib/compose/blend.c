/*
 * Alpha, multi-band and Poisson blending on a face window. See blend.h for
 * the equations; comments here say why the code is shaped as it is.
 */
#include "compose/blend.h"
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

fs_status fs_blend_alpha_u8(fs_error_buf *err, const fs_ops *ops, const uint8_t *src,
                            ptrdiff_t sstride, uint8_t *dst, ptrdiff_t dstride,
                            const float *alpha, ptrdiff_t astride, int w, int h)
{
    fs_status st = check_common(err, "fs_blend_alpha_u8", w, h, ops, src, dst, alpha);
    if (st != FS_OK)
        return st;
    if (sstride < 3 * (ptrdiff_t)w || dstride < 3 * (ptrdiff_t)w || astride < w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_blend_alpha_u8: bad stride");
    ops->compose_alpha_u8(src, sstride, dst, dstride, alpha, astride, w, h);
    return FS_OK;
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
    for (int y = 0; y < h; y++)
        for (int X = 0; X < wc; X++)
            for (int c = 0; c < C; c++) {
                float s = 0.0f;
                for (int i = -2; i <= 2; i++)
                    s += k[i + 2] * in[((size_t)y * w + clampi(2 * X + i, 0, w - 1)) * C + c];
                tmp[((size_t)y * wc + X) * C + c] = s;
            }
    for (int Y = 0; Y < hc; Y++)
        for (int X = 0; X < wc; X++)
            for (int c = 0; c < C; c++) {
                float s = 0.0f;
                for (int j = -2; j <= 2; j++)
                    s += k[j + 2] * tmp[((size_t)clampi(2 * Y + j, 0, h - 1) * wc + X) * C + c];
                out[((size_t)Y * wc + X) * C + c] = s;
            }
}

/* Linear interpolation back to (w, h): fine 2X sits on coarse X, fine 2X+1
 * half-way to X+1 (replicated past the edge). */
static void pyr_up(const float *in, int wc, int hc, int C, float *out, int w, int h)
{
    for (int y = 0; y < h; y++) {
        const int Y0 = y >> 1, Y1 = (y & 1) ? clampi(Y0 + 1, 0, hc - 1) : Y0;
        for (int x = 0; x < w; x++) {
            const int X0 = x >> 1, X1 = (x & 1) ? clampi(X0 + 1, 0, wc - 1) : X0;
            for (int c = 0; c < C; c++) {
                const float a = in[((size_t)Y0 * wc + X0) * C + c],
                            b = in[((size_t)Y0 * wc + X1) * C + c],
                            d = in[((size_t)Y1 * wc + X0) * C + c],
                            e = in[((size_t)Y1 * wc + X1) * C + c];
                out[((size_t)y * w + x) * C + c] = 0.25f * ((a + b) + (d + e));
            }
        }
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
    /* gs, gt: Gaussian pyramids (then Laplacian in place); ga: alpha's;
     * up and tmp: one level-0 sized scratch each. */
    float *buf = malloc(sizeof(float) * (2 * n3 + n1 + 2 * n0));
    if (!buf)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_blend_multiband_f32: out of memory");
    float *gs = buf, *gt = gs + n3, *ga = gt + n3, *up = ga + n1, *tmp = up + n0;
    for (int y = 0; y < h; y++) {
        memcpy(gs + (size_t)y * 3 * w, src + (size_t)y * sstride, sizeof(float) * 3 * w);
        memcpy(gt + (size_t)y * 3 * w, tgt + (size_t)y * tstride, sizeof(float) * 3 * w);
        memcpy(ga + (size_t)y * w, alpha + (size_t)y * w, sizeof(float) * w);
    }
    for (int l = 0; l < levels; l++) {
        pyr_down(gs + off3[l], lw[l], lh[l], 3, gs + off3[l + 1], tmp);
        pyr_down(gt + off3[l], lw[l], lh[l], 3, gt + off3[l + 1], tmp);
        pyr_down(ga + off1[l], lw[l], lh[l], 1, ga + off1[l + 1], tmp);
    }
    /* Laplacian levels in place, finest first (each needs the next Gaussian). */
    for (int l = 0; l < levels; l++) {
        const size_t n = (size_t)lw[l] * lh[l] * 3;
        pyr_up(gs + off3[l + 1], lw[l + 1], lh[l + 1], 3, up, lw[l], lh[l]);
        for (size_t i = 0; i < n; i++)
            gs[off3[l] + i] -= up[i];
        pyr_up(gt + off3[l + 1], lw[l + 1], lh[l + 1], 3, up, lw[l], lh[l]);
        for (size_t i = 0; i < n; i++)
            gt[off3[l] + i] -= up[i];
    }
    /* Blend every level into gs (a = 1 gives the source band exactly). */
    for (int l = 0; l <= levels; l++) {
        const size_t n = (size_t)lw[l] * lh[l];
        for (size_t i = 0; i < n; i++) {
            const float a = ga[off1[l] + i];
            for (int c = 0; c < 3; c++) {
                float *s = &gs[off3[l] + 3 * i + c];
                *s = a * *s + (1.0f - a) * gt[off3[l] + 3 * i + c];
            }
        }
    }
    /* Collapse, coarsest first. */
    for (int l = levels - 1; l >= 0; l--) {
        const size_t n = (size_t)lw[l] * lh[l] * 3;
        pyr_up(gs + off3[l + 1], lw[l + 1], lh[l + 1], 3, up, lw[l], lh[l]);
        for (size_t i = 0; i < n; i++)
            gs[off3[l] + i] += up[i];
    }
    /* The coarse bands reach beyond the mask, and cutting them at its edge
     * would leave a step; the final cross-fade by alpha itself brings the
     * result back to the target at the edge (a = 1 keeps the collapse as is). */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const float a = alpha[(size_t)y * w + x];
            for (int c = 0; c < 3; c++) {
                const float t = tgt[(size_t)y * tstride + 3 * x + c];
                float *o = &out[(size_t)y * ostride + 3 * x + c];
                if (!(a > 0.0f))
                    *o = t;
                else if (a >= 1.0f)
                    *o = gs[((size_t)y * w + x) * 3 + c];
                else
                    *o = t + a * (gs[((size_t)y * w + x) * 3 + c] - t);
            }
        }
    free(buf);
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
} pl_level;

#define PL_MAX_LEVELS 16
/* A coarse cell joins the coarse domain when at least 3 of its 2x2
 * children are unknowns. With "any child" the coarse domain is larger than
 * the fine one, its Dirichlet boundary lies farther out, and the coarse
 * correction overshoots the smoothest error (the cycles diverged on an
 * ellipse); 3 of 4 measured ~0.2 residual reduction per V(2,2) cycle, all
 * four ~0.3 with a slow tail. */
#define PL_COARSE_MIN 3

/* One red-black Gauss-Seidel half sweep: pixels with (x + y) & 1 == par.
 * The update solves row p of the stencil for u_p with its neighbours fixed:
 * u_p = (b_p + sum u_q) / n_p, n_p = the in-window neighbour count (a
 * neighbour beyond the window edge carries no term: zero flux). Rows and
 * columns away from the edge take the branch-free path. */
static void pl_smooth_half(const pl_level *L, int par)
{
    const int w = L->w, h = L->h;
    float *u = L->u;
    const float *b = L->b;
    for (int y = 0; y < h; y++) {
        const int edge_row = (y == 0 || y == h - 1);
        for (int x = (y + par) & 1; x < w; x += 2) {
            const size_t p = (size_t)y * w + x;
            if (!L->D[p])
                continue;
            float s0 = b[3 * p], s1 = b[3 * p + 1], s2 = b[3 * p + 2];
            if (!edge_row && x > 0 && x < w - 1) {
                const float *l = &u[3 * (p - 1)], *r = &u[3 * (p + 1)], *t = &u[3 * (p - w)],
                            *d = &u[3 * (p + w)];
                u[3 * p] = 0.25f * (s0 + ((l[0] + r[0]) + (t[0] + d[0])));
                u[3 * p + 1] = 0.25f * (s1 + ((l[1] + r[1]) + (t[1] + d[1])));
                u[3 * p + 2] = 0.25f * (s2 + ((l[2] + r[2]) + (t[2] + d[2])));
                continue;
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
    }
}

static void pl_smooth(const pl_level *L, int sweeps)
{
    for (int i = 0; i < sweeps; i++) {
        pl_smooth_half(L, 0);
        pl_smooth_half(L, 1);
    }
}

/* r = b - A u on D (0 elsewhere); returns max |r|. */
static double pl_residual(const pl_level *L)
{
    const int w = L->w, h = L->h;
    double mx = 0.0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const size_t p = (size_t)y * w + x;
            if (!L->D[p]) {
                L->r[3 * p] = L->r[3 * p + 1] = L->r[3 * p + 2] = 0.0f;
                continue;
            }
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
static void pl_weights(int x, int nc, int idx[2], float wt[2])
{
    const int X0 = x >> 1, X1 = (x & 1) ? X0 + 1 : X0 - 1;
    idx[0] = X0, wt[0] = 0.75f;
    if (X1 < 0 || X1 >= nc)
        idx[1] = X0, wt[1] = 0.0f, wt[0] = 1.0f;
    else
        idx[1] = X1, wt[1] = 0.25f;
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
        for (int x = 0; x < F->w; x++) {
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

/* u_fine += P u_coarse on the fine domain (coarse u is 0 outside its domain). */
static void pl_prolong_add(const pl_level *F, const pl_level *Cl)
{
    for (int y = 0; y < F->h; y++) {
        const int *iy = F->iy + 2 * y;
        const float *wy = F->wy + 2 * y;
        const uint8_t *D = F->D + (size_t)y * F->w;
        float *u = F->u + 3 * (size_t)y * F->w;
        const float *c0 = Cl->u + 3 * (size_t)iy[0] * Cl->w, *c1 = Cl->u + 3 * (size_t)iy[1] * Cl->w;
        for (int x = 0; x < F->w; x++) {
            if (!D[x])
                continue;
            const int *ix = F->ix + 2 * x;
            const float *wx = F->wx + 2 * x;
            const float w00 = wy[0] * wx[0], w01 = wy[0] * wx[1], w10 = wy[1] * wx[0],
                        w11 = wy[1] * wx[1];
            const float *a = c0 + 3 * ix[0], *b = c0 + 3 * ix[1], *c = c1 + 3 * ix[0],
                        *d = c1 + 3 * ix[1];
            for (int ch = 0; ch < 3; ch++)
                u[3 * x + ch] += w00 * a[ch] + w01 * b[ch] + w10 * c[ch] + w11 * d[ch];
        }
    }
}

static void pl_vcycle(pl_level *lv, int l, int nlev)
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
    pl_vcycle(lv, l + 1, nlev);
    pl_prolong_add(L, Cl);
    pl_smooth(L, 2);
}

/* The solve on a window whose every unknown has its neighbours inside it
 * or beyond the window's edge (zero flux); see fs_blend_poisson_f32. */
static fs_status poisson_solve(fs_error_buf *err, const float *src, ptrdiff_t sstride,
                               const float *tgt, ptrdiff_t tstride, const uint8_t *mask,
                               ptrdiff_t mstride, int w, int h, int max_cycles, double tol,
                               int rim, float *out, ptrdiff_t ostride, fs_poisson_info *info)
{

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
    float *fbuf = malloc(sizeof(float) * 9 * total);
    uint8_t *dbuf = calloc(total, 1);
    int *ibuf = malloc(sizeof(int) * 2 * sides);
    float *wbuf = malloc(sizeof(float) * 2 * sides);
    if (!fbuf || !dbuf || !ibuf || !wbuf) {
        free(fbuf), free(dbuf), free(ibuf), free(wbuf);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_blend_poisson_f32: out of memory");
    }
    size_t off = 0, soff = 0;
    for (int l = 0; l < nlev; l++) {
        const size_t n = (size_t)lv[l].w * lv[l].h;
        lv[l].u = fbuf + 9 * off, lv[l].b = lv[l].u + 3 * n, lv[l].r = lv[l].b + 3 * n;
        lv[l].D = dbuf + off;
        off += n;
        lv[l].iy = ibuf + 2 * soff, lv[l].wy = wbuf + 2 * soff;
        lv[l].ix = lv[l].iy + 2 * lv[l].h, lv[l].wx = lv[l].wy + 2 * lv[l].h;
        soff += (size_t)lv[l].w + (size_t)lv[l].h;
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
    /* Coarse domains: a coarse cell is unknown when at least PL_COARSE_MIN
     * of its 2x2 children are (counted in dbuf, then thresholded). */
    for (int l = 1; l < nlev; l++) {
        for (int y = 0; y < lv[l - 1].h; y++)
            for (int x = 0; x < lv[l - 1].w; x++)
                if (lv[l - 1].D[(size_t)y * lv[l - 1].w + x])
                    lv[l].D[(size_t)(y >> 1) * lv[l].w + (x >> 1)]++;
        for (size_t q = 0; q < (size_t)lv[l].w * lv[l].h; q++)
            lv[l].D[q] = lv[l].D[q] >= PL_COARSE_MIN;
    }

    /* b = the source's own Laplacian under the same stencil; the initial
     * guess is the source shifted by the mean boundary difference, which
     * leaves the V-cycles only the variation of that difference to solve. */
    double dsum[3] = {0, 0, 0};
    long dn = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const size_t p = (size_t)y * w + x;
            const float *s = &src[(size_t)y * sstride + 3 * x];
            const float *t = &tgt[(size_t)y * tstride + 3 * x];
            if (!L0->D[p]) {
                memcpy(&L0->u[3 * p], t, sizeof(float) * 3);
                memset(&L0->b[3 * p], 0, sizeof(float) * 3);
                const int touches = (x > 0 && L0->D[p - 1]) || (x < w - 1 && L0->D[p + 1]) ||
                                    (y > 0 && L0->D[p - w]) || (y < h - 1 && L0->D[p + w]);
                if (touches) {
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
            const int ok[4] = {x > 0, x < w - 1, y > 0, y < h - 1};
            const int dx[4] = {-1, 1, 0, 0}, dy[4] = {0, 0, -1, 1};
            for (int c = 0; c < 3; c++) {
                float acc = 0.0f;
                for (int k = 0; k < 4; k++) {
                    if (!ok[k])
                        continue;
                    const int qx = x + dx[k], qy = y + dy[k];
                    /* Edges that cross the domain boundary take the target's
                     * own difference: the seam then carries the target's
                     * texture gradient rather than the source's. */
                    if (L0->D[(size_t)qy * w + qx])
                        acc += s[c] - src[(size_t)qy * sstride + 3 * qx + c];
                    else
                        acc += t[c] - tgt[(size_t)qy * tstride + 3 * qx + c];
                }
                L0->b[3 * p + c] = acc;
            }
        }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const size_t p = (size_t)y * w + x;
            if (L0->D[p])
                for (int c = 0; c < 3; c++)
                    L0->u[3 * p + c] = (float)(src[(size_t)y * sstride + 3 * x + c] +
                                               (dn ? dsum[c] / (double)dn : 0.0));
        }

    int cycles = 0;
    double res = -1.0; /* not computed yet */
    if (dn > 0 && unknowns > 0) {
        double prev = INFINITY; /* the first cycle always runs */
        for (cycles = 0; cycles < max_cycles;) {
            pl_vcycle(lv, 0, nlev);
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
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const size_t p = (size_t)y * w + x;
            float *o = &out[(size_t)y * ostride + 3 * x];
            if (L0->D[p])
                memcpy(o, &L0->u[3 * p], sizeof(float) * 3);
            else if (o != &tgt[(size_t)y * tstride + 3 * x])
                memcpy(o, &tgt[(size_t)y * tstride + 3 * x], sizeof(float) * 3);
        }
    if (info) {
        info->cycles = cycles;
        info->max_residual = res;
        info->unknowns = unknowns;
    }
    free(fbuf), free(dbuf), free(ibuf), free(wbuf);
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
    const int max_cycles = opts && opts->max_cycles > 0 ? opts->max_cycles : 8;
    const double tol = opts && opts->tolerance > 0.0 ? opts->tolerance : 0.0;
    const int rim = opts ? opts->rim : 0;
    if (max_cycles > 1000 || rim < 0 || rim > 16)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT,
                       "fs_blend_poisson_f32: max_cycles > 1000 or rim outside 0..16");
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
    return poisson_solve(err, src + (size_t)y0 * (size_t)sstride + 3 * (size_t)x0, sstride,
                         tgt + (size_t)y0 * (size_t)tstride + 3 * (size_t)x0, tstride,
                         mask + (size_t)y0 * (size_t)mstride + (size_t)x0, mstride, x1 - x0 + 1,
                         y1 - y0 + 1, max_cycles, tol, rim,
                         out + (size_t)y0 * (size_t)ostride + 3 * (size_t)x0, ostride, info);
}

static fs_status to_float_pair(fs_error_buf *err, const uint8_t *src, ptrdiff_t sstride,
                               const uint8_t *dst, ptrdiff_t dstride, int w, int h, float **out)
{
    const size_t n = (size_t)w * h * 3;
    float *f = malloc(sizeof(float) * n * 3);
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

static uint8_t round_u8(float v)
{
    return (uint8_t)(v <= 0.0f ? 0 : (v >= 255.0f ? 255 : (int)(v + 0.5f)));
}

fs_status fs_blend_poisson_u8(fs_error_buf *err, const uint8_t *src, ptrdiff_t sstride,
                              uint8_t *dst, ptrdiff_t dstride, const uint8_t *mask,
                              ptrdiff_t mstride, int w, int h, const fs_poisson_opts *opts,
                              fs_poisson_info *info)
{
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
    float *f;
    if ((st = to_float_pair(err, src, sstride, dst, dstride, w, h, &f)) != FS_OK)
        return st;
    const size_t n = (size_t)w * h * 3;
    st = fs_blend_poisson_f32(err, f, 3 * (ptrdiff_t)w, f + n, 3 * (ptrdiff_t)w, mask, mstride,
                              w, h, opts, f + 2 * n, 3 * (ptrdiff_t)w, info);
    if (st == FS_OK)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (mask[(size_t)y * mstride + x])
                    for (int c = 0; c < 3; c++)
                        dst[(size_t)y * dstride + 3 * x + c] =
                            round_u8(f[2 * n + ((size_t)y * w + x) * 3 + c]);
    free(f);
    return st;
}

fs_status fs_blend_multiband_u8(fs_error_buf *err, const uint8_t *src, ptrdiff_t sstride,
                                uint8_t *dst, ptrdiff_t dstride, const float *alpha, int w,
                                int h, int levels)
{
    fs_status st = check_common(err, "fs_blend_multiband_u8", w, h, src, dst, alpha, alpha);
    if (st != FS_OK)
        return st;
    if (sstride < 3 * (ptrdiff_t)w || dstride < 3 * (ptrdiff_t)w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_blend_multiband_u8: bad stride");
    float *f;
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
    free(f);
    return st;
}
