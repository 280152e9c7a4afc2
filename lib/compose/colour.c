/*
 * Colour correction: CIELAB conversion and statistics transfer (Reinhard et
 * al., "Color Transfer between Images", 2001, in CIELAB rather than l-alpha-
 * beta), shading as a ratio of low-passed luminances, and sharpness matching
 * by high-pass energy.
 */
#include "compose/colour.h"
#include "scratch.h"
#include "compose/filter.h"
#include "compose/mask.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const double WX = 0.95047, WY = 1.0, WZ = 1.08883;

static double srgb_to_linear(double c)
{
    return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

static double linear_to_srgb(double c)
{
    return c <= 0.0031308 ? 12.92 * c : 1.055 * pow(c, 1.0 / 2.4) - 0.055;
}

/* CIE f(t): cube root above (6/29)^3, the linear segment below. */
static double lab_f(double t)
{
    const double d = 6.0 / 29.0;
    return t > d * d * d ? cbrt(t) : t / (3.0 * d * d) + 4.0 / 29.0;
}

static double lab_finv(double t)
{
    const double d = 6.0 / 29.0;
    return t > d ? t * t * t : 3.0 * d * d * (t - 4.0 / 29.0);
}

/* srgb_to_linear of the 256 values k * (1 / 255.0f), the way 8-bit pixels
 * become floats everywhere in the swap (the target's window, the atlas'
 * texels): for those, a table gives the same double as pow does, at a
 * fraction of its cost. Built once (pthread_once). */
static double lin_table[256];
static pthread_once_t lin_once = PTHREAD_ONCE_INIT;

static void lin_init(void)
{
    for (int k = 0; k < 256; k++)
        lin_table[k] = srgb_to_linear((float)k * (1.0f / 255.0f));
}

/* srgb_to_linear(v), exact: from the table when v is one of its inputs. */
static inline double to_linear(float v)
{
    if (v >= 0.0f && v <= 1.0f) {
        const int k = (int)(v * 255.0f + 0.5f);
        if ((float)k * (1.0f / 255.0f) == v)
            return lin_table[k];
    }
    return srgb_to_linear(v);
}

void fs_colour_srgb_to_lab(const float *rgb, float *lab, size_t n)
{
    pthread_once(&lin_once, lin_init);
    for (size_t i = 0; i < n; i++) {
        const double r = to_linear(rgb[3 * i]), g = to_linear(rgb[3 * i + 1]),
                     b = to_linear(rgb[3 * i + 2]);
        /* IEC 61966-2-1 matrix (D65). */
        const double x = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b;
        const double y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
        const double z = 0.0193339 * r + 0.1191920 * g + 0.9503041 * b;
        const double fx = lab_f(x / WX), fy = lab_f(y / WY), fz = lab_f(z / WZ);
        lab[3 * i] = (float)(116.0 * fy - 16.0);
        lab[3 * i + 1] = (float)(500.0 * (fx - fy));
        lab[3 * i + 2] = (float)(200.0 * (fy - fz));
    }
}

void fs_colour_lab_to_srgb(const float *lab, float *rgb, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const double fy = (lab[3 * i] + 16.0) / 116.0;
        const double fx = fy + lab[3 * i + 1] / 500.0, fz = fy - lab[3 * i + 2] / 200.0;
        const double x = WX * lab_finv(fx), y = WY * lab_finv(fy), z = WZ * lab_finv(fz);
        /* Inverse of the matrix above. */
        const double r = 3.2404542 * x - 1.5371385 * y - 0.4985314 * z;
        const double g = -0.9692660 * x + 1.8760108 * y + 0.0415560 * z;
        const double b = 0.0556434 * x - 0.2040259 * y + 1.0572252 * z;
        /* Out-of-gamut linear values below 0 have no sRGB encoding: mirror
         * the curve so the round trip still holds for slightly negative values. */
        const double c[3] = {r, g, b};
        for (int k = 0; k < 3; k++)
            rgb[3 * i + k] =
                (float)(c[k] < 0.0 ? -linear_to_srgb(-c[k]) : linear_to_srgb(c[k]));
    }
}

fs_status fs_colour_masked_stats(fs_error_buf *err, const float *img, int w, int h,
                                 ptrdiff_t stride, const float *weight, double mean[3],
                                 double sd[3])
{
    fs_status st = fs_compose_check_size(err, w, h);
    if (st != FS_OK)
        return st;
    if (!img || !weight || !mean || !sd || stride < 3 * (ptrdiff_t)w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_colour_masked_stats: bad arguments");
    double sw = 0.0, s[3] = {0, 0, 0};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const double m = weight[(size_t)y * w + x];
            if (!(m > 0.0))
                continue;
            sw += m;
            for (int c = 0; c < 3; c++)
                s[c] += m * img[(size_t)y * stride + 3 * x + c];
        }
    if (!(sw > 0.0))
        return fs_fail(err, FS_ERR_OUT_OF_RANGE, "fs_colour_masked_stats: empty mask");
    for (int c = 0; c < 3; c++)
        mean[c] = s[c] / sw;
    /* Second pass about the mean: no cancellation. */
    double v[3] = {0, 0, 0};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const double m = weight[(size_t)y * w + x];
            if (!(m > 0.0))
                continue;
            for (int c = 0; c < 3; c++) {
                const double d = img[(size_t)y * stride + 3 * x + c] - mean[c];
                v[c] += m * d * d;
            }
        }
    for (int c = 0; c < 3; c++)
        sd[c] = sqrt(v[c] / sw);
    return FS_OK;
}

void fs_colour_transfer(float *img, int w, int h, ptrdiff_t stride, const float *weight,
                        const double from_mean[3], const double from_sd[3],
                        const double to_mean[3], const double to_sd[3])
{
    double gain[3];
    for (int c = 0; c < 3; c++)
        gain[c] = from_sd[c] > 0.0 ? to_sd[c] / from_sd[c] : 1.0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (!(weight[(size_t)y * w + x] > 0.0f))
                continue;
            float *p = &img[(size_t)y * stride + 3 * x];
            for (int c = 0; c < 3; c++)
                p[c] = (float)((p[c] - from_mean[c]) * gain[c] + to_mean[c]);
        }
}

/* Copies a strided 3-channel window into a packed w*h*3 buffer. */
static float *pack3(const float *img, ptrdiff_t stride, int w, int h)
{
    float *out = fs_tmp_alloc(sizeof(float) * 3 * (size_t)w * h);
    if (out)
        for (int y = 0; y < h; y++)
            memcpy(out + (size_t)y * 3 * w, img + (size_t)y * stride, sizeof(float) * 3 * w);
    return out;
}

static float clamp01(float v)
{
    return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}

/* The masked pixels of @p img in CIELAB, packed w*h*3 in a new temporary
 * (*lab, the others left as they were: nothing reads them), and their
 * statistics. *lab is NULL on failure. */
static fs_status masked_lab(fs_error_buf *err, const char *who, const float *img, ptrdiff_t stride,
                            const float *mask, int w, int h, float **lab, double mean[3],
                            double sd[3])
{
    *lab = NULL;
    fs_status st = fs_compose_check_size(err, w, h);
    if (st != FS_OK)
        return st;
    if (!img || !mask || stride < 3 * (ptrdiff_t)w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "%s: bad arguments", who);
    const size_t n = (size_t)w * h;
    float *l = pack3(img, stride, w, h);
    if (!l)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
    /* Only the masked pixels are converted: the statistics, the transfer
     * and the write-back read no others, and the window's margin is about
     * half of it. */
    for (size_t i = 0; i < n; i++)
        if (mask[i] > 0.0f)
            fs_colour_srgb_to_lab(l + 3 * i, l + 3 * i, 1);
    st = fs_colour_masked_stats(err, l, w, h, 3 * (ptrdiff_t)w, mask, mean, sd);
    if (st != FS_OK) {
        fs_tmp_free(l);
        return st;
    }
    *lab = l;
    return FS_OK;
}

fs_status fs_colour_lab_stats(const fs_exec *ex, const float *img, ptrdiff_t stride,
                              const float *mask, int w, int h, double mean[3], double sd[3])
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    if (!mean || !sd)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_colour_lab_stats: bad arguments");
    float *lab;
    const fs_status st = masked_lab(err, "fs_colour_lab_stats", img, stride, mask, w, h, &lab, mean, sd);
    fs_tmp_free(lab);
    return st;
}

fs_status fs_colour_match_lab_to(const fs_exec *ex, float *render, ptrdiff_t rstride,
                                 const float *mask, int w, int h, const double to_mean[3],
                                 const double to_sd[3])
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    if (!to_mean || !to_sd)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_colour_match_lab: bad arguments");
    for (int c = 0; c < 3; c++)
        if (!isfinite(to_mean[c]) || !isfinite(to_sd[c]) || to_sd[c] < 0.0)
            return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_colour_match_lab: bad target statistics");
    float *rl;
    double rm[3], rs[3];
    fs_status st = masked_lab(err, "fs_colour_match_lab", render, rstride, mask, w, h, &rl, rm, rs);
    if (st == FS_OK) {
        fs_colour_transfer(rl, w, h, 3 * (ptrdiff_t)w, mask, rm, rs, to_mean, to_sd);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (mask[(size_t)y * w + x] > 0.0f) {
                    float *p = rl + ((size_t)y * w + x) * 3;
                    fs_colour_lab_to_srgb(p, p, 1);
                    for (int c = 0; c < 3; c++)
                        render[(size_t)y * rstride + 3 * x + c] = clamp01(p[c]);
                }
    }
    fs_tmp_free(rl);
    return st;
}

fs_status fs_colour_match_lab(const fs_exec *ex, float *render, ptrdiff_t rstride,
                              const float *target, ptrdiff_t tstride, const float *mask, int w,
                              int h)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    if (!render || !target || !mask || rstride < 3 * (ptrdiff_t)w || tstride < 3 * (ptrdiff_t)w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_colour_match_lab: bad arguments");
    double tm[3], ts[3];
    const fs_status st = fs_colour_lab_stats(ex, target, tstride, mask, w, h, tm, ts);
    return st != FS_OK ? st : fs_colour_match_lab_to(ex, render, rstride, mask, w, h, tm, ts);
}

static void luminance(const float *img, ptrdiff_t stride, int w, int h, float *yp)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const float *p = &img[(size_t)y * stride + 3 * x];
            yp[(size_t)y * w + x] = 0.2126f * p[0] + 0.7152f * p[1] + 0.0722f * p[2];
        }
}

fs_status fs_colour_shading_transfer(const fs_exec *ex, const fs_compose_ops *ops, float *render,
                                     ptrdiff_t rstride, const float *target, ptrdiff_t tstride,
                                     const float *mask, int w, int h, double sigma,
                                     double max_gain)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    fs_status st = fs_compose_check_size(err, w, h);
    if (st != FS_OK)
        return st;
    if (!ops || !render || !target || !mask || rstride < 3 * (ptrdiff_t)w ||
        tstride < 3 * (ptrdiff_t)w || !(sigma > 0.0) || !(max_gain >= 1.0) ||
        !(max_gain <= 1e6))
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_colour_shading_transfer: bad arguments");
    const size_t n = (size_t)w * h;
    float *buf = fs_tmp_alloc(sizeof(float) * n * 4);
    if (!buf)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_colour_shading_transfer: out of memory");
    float *yt = buf, *yr = buf + n, *lt = buf + 2 * n, *lr = buf + 3 * n;
    luminance(target, tstride, w, h, yt);
    luminance(render, rstride, w, h, yr);
    st = fs_compose_masked_blur(ex, ops, yt, mask, w, h, sigma, lt);
    if (st == FS_OK)
        st = fs_compose_masked_blur(ex, ops, yr, mask, w, h, sigma, lr);
    if (st == FS_OK) {
        const float eps = 1e-3f; /* keeps black regions from dividing by zero */
        const float gmax = (float)max_gain, gmin = 1.0f / gmax;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                const size_t i = (size_t)y * w + x;
                if (!(mask[i] > 0.0f))
                    continue;
                float g = (lt[i] + eps) / (lr[i] + eps);
                g = g < gmin ? gmin : (g > gmax ? gmax : g);
                float *p = &render[(size_t)y * rstride + 3 * x];
                for (int c = 0; c < 3; c++)
                    p[c] = clamp01(p[c] * g);
            }
    }
    fs_tmp_free(buf);
    return st;
}

/* High-pass energy of luminance planes under one mask: the weighted mean of
 * (Y - masked_blur_1(Y))^2. The mask's own blur and weight sum do not depend
 * on Y, so they are made once per mask (the sharpness search measures up to
 * a dozen planes under the same mask). */
typedef struct hp_meter {
    const fs_exec *ex;
    const fs_compose_ops *ops;
    fs_status st;               /* the first blur that failed: measures after it read 0 */
    const float *mask;
    int w, h, r;
    float k[2 * FS_COMPOSE_MAX_RADIUS + 1];
    float *bm, *mx, *bmx, *tmp; /* one allocation, 4 planes */
    double sw;
} hp_meter;

static fs_status hp_open(const fs_exec *ex, hp_meter *m, const fs_compose_ops *ops,
                         const float *mask, int w, int h)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    const size_t n = (size_t)w * h;
    m->ex = ex;
    m->ops = ops;
    m->st = FS_OK;
    m->mask = mask;
    m->w = w;
    m->h = h;
    m->bm = fs_tmp_alloc(sizeof(float) * n * 4);
    if (!m->bm)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "compose: out of memory");
    m->mx = m->bm + n;
    m->bmx = m->bm + 2 * n;
    m->tmp = m->bm + 3 * n;
    m->r = fs_compose_gauss_kernel(1.0, m->k);
    const fs_status st = ops->blur(ex, mask, w, h, m->k, m->r, m->tmp, m->bm);
    if (st != FS_OK) {
        fs_tmp_free(m->bm);
        m->bm = NULL;
        return st;
    }
    m->sw = 0.0;
    for (size_t i = 0; i < n; i++)
        if (mask[i] > 0.0f)
            m->sw += mask[i];
    if (!(m->sw > 0.0)) {
        fs_tmp_free(m->bm);
        m->bm = NULL;
        return fs_fail(err, FS_ERR_OUT_OF_RANGE, "compose: empty mask");
    }
    return FS_OK;
}

static double hp_measure(hp_meter *m, const float *yp)
{
    const size_t n = (size_t)m->w * m->h;
    for (size_t i = 0; i < n; i++)
        m->mx[i] = m->mask[i] * yp[i];
    const fs_status st = m->ops->blur(m->ex, m->mx, m->w, m->h, m->k, m->r, m->tmp, m->bmx);
    if (st != FS_OK) {
        if (m->st == FS_OK)
            m->st = st;
        return 0.0;
    }
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        if (m->mask[i] > 0.0f) {
            const float lo = m->bm[i] > 1e-6f ? m->bmx[i] / m->bm[i] : yp[i];
            const double d = yp[i] - lo;
            s += m->mask[i] * d * d;
        }
    return s / m->sw;
}

static void hp_close(hp_meter *m)
{
    fs_tmp_free(m->bm);
    m->bm = NULL;
}

fs_status fs_colour_highpass_energy(const fs_exec *ex, const fs_compose_ops *ops, const float *img,
                                    ptrdiff_t stride, const float *mask, int w, int h,
                                    double *energy)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    fs_status st = fs_compose_check_size(err, w, h);
    if (st != FS_OK)
        return st;
    if (!ops || !img || !mask || !energy || stride < 3 * (ptrdiff_t)w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_colour_highpass_energy: bad arguments");
    float *y = fs_tmp_alloc(sizeof(float) * (size_t)w * h);
    if (!y)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_colour_highpass_energy: out of memory");
    luminance(img, stride, w, h, y);
    hp_meter m;
    st = hp_open(ex, &m, ops, mask, w, h);
    const double e = st == FS_OK ? hp_measure(&m, y) : 0.0;
    if (st == FS_OK && (st = m.st) == FS_OK)
        *energy = e;
    hp_close(&m);
    fs_tmp_free(y);
    return st;
}

/* xorshift64* and Box-Muller: deterministic noise for a given seed. */
static double rand_unit(uint64_t *s)
{
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return ((double)((*s * 2685821657736338717ull) >> 11) + 0.5) / 9007199254740992.0;
}

/* Each pixel's range over its 3x3 masked neighbourhood: the bounds that
 * sharpening keeps to. Unclamped, the boost rings into bright and dark halos
 * at strong edges (a nostril, a lash line), which look worse than the
 * softness they fix. */
static void local_range(const float *yr, const float *mask, int w, int h, float *lo, float *hi)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const size_t i = (size_t)y * w + x;
            float a = yr[i], b = yr[i];
            for (int yy = y > 0 ? y - 1 : 0; yy <= y + 1 && yy < h; yy++)
                for (int xx = x > 0 ? x - 1 : 0; xx <= x + 1 && xx < w; xx++) {
                    const size_t j = (size_t)yy * w + xx;
                    if (mask[j] > 0.0f) {
                        a = yr[j] < a ? yr[j] : a;
                        b = yr[j] > b ? yr[j] : b;
                    }
                }
            lo[i] = a;
            hi[i] = b;
        }
}

/* out = yr + amount * mask * (yr - yb), kept within [lo, hi]. */
static void sharpen_clamped(const float *yr, const float *yb, const float *lo, const float *hi,
                            const float *mask, size_t n, double amount, float *out)
{
    const float a = (float)amount;
    for (size_t i = 0; i < n; i++) {
        const float v = yr[i] + a * mask[i] * (yr[i] - yb[i]);
        out[i] = v < lo[i] ? lo[i] : (v > hi[i] ? hi[i] : v);
    }
}

/* Blurs the render (all three channels, masked Gaussian of @p sigma). */
static fs_status blur_render(const fs_exec *ex, const fs_compose_ops *ops, float *render,
                             ptrdiff_t rstride, const float *mask, int w, int h, double sigma,
                             float *ch, float *cb)
{
    const size_t n = (size_t)w * h;
    fs_status st = FS_OK;
    for (int c = 0; c < 3 && st == FS_OK; c++) {
        for (size_t i = 0; i < n; i++)
            ch[i] = render[(i / w) * rstride + 3 * (i % w) + c];
        st = fs_compose_masked_blur(ex, ops, ch, mask, w, h, sigma, cb);
        for (size_t i = 0; i < n && st == FS_OK; i++)
            if (mask[i] > 0.0f)
                render[(i / w) * rstride + 3 * (i % w) + c] = cb[i];
    }
    return st;
}

fs_status fs_colour_match_sharpness(const fs_exec *ex, const fs_compose_ops *ops, float *render,
                                    ptrdiff_t rstride, const float *target, ptrdiff_t tstride,
                                    const float *mask, int w, int h, uint64_t seed,
                                    fs_detail_match *out)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    fs_status st = fs_compose_check_size(err, w, h);
    if (st != FS_OK)
        return st;
    if (!ops || !render || !target || !mask || rstride < 3 * (ptrdiff_t)w ||
        tstride < 3 * (ptrdiff_t)w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_colour_match_sharpness: bad arguments");
    const size_t n = (size_t)w * h;
    float *buf = fs_tmp_alloc(sizeof(float) * n * 6);
    if (!buf)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_colour_match_sharpness: out of memory");
    float *yt = buf, *yr = buf + n, *yb = buf + 2 * n, *ch = buf + 3 * n, *lo = buf + 4 * n,
          *hi = buf + 5 * n;
    hp_meter m;
    st = hp_open(ex, &m, ops, mask, w, h);
    double et = 0.0, er = 0.0, sigma = 0.0, amount = 0.0, noise = 0.0;
    if (st == FS_OK) {
        luminance(target, tstride, w, h, yt);
        luminance(render, rstride, w, h, yr);
        et = hp_measure(&m, yt);
        er = hp_measure(&m, yr);
        st = m.st;
    }
    if (st == FS_OK && er > et * 1.05) {
        /* Blur energy falls monotonically with sigma: bisect on [0, 4]. */
        double a = 0.0, b = 4.0;
        for (int it = 0; it < 10 && st == FS_OK; it++) {
            const double mid = 0.5 * (a + b);
            st = fs_compose_masked_blur(ex, ops, yr, mask, w, h, mid, yb);
            if (st == FS_OK && hp_measure(&m, yb) > et)
                a = mid;
            else
                b = mid;
        }
        sigma = 0.5 * (a + b);
        if (st == FS_OK)
            st = blur_render(ex, ops, render, rstride, mask, w, h, sigma, ch, lo);
    } else if (st == FS_OK && er < et * 0.95) {
        /* A render softer than the target (a small source photo enlarged)
         * first gets its own edges back: clamped unsharp masking, the amount
         * bisected on [0, FS_DETAIL_MAX_SHARPEN] (the clamp keeps the
         * energy monotone in it, not quadratic). Noise is left for what
         * sharpening cannot reach: added alone it reads as speckle. */
        double e = er;
        if (er > 1e-12) {
            st = fs_compose_masked_blur(ex, ops, yr, mask, w, h, 1.0, yb);
            if (st == FS_OK) {
                local_range(yr, mask, w, h, lo, hi);
                double a = 0.0, b = FS_DETAIL_MAX_SHARPEN, ea = er;
                sharpen_clamped(yr, yb, lo, hi, mask, n, b, ch);
                const double eb = hp_measure(&m, ch);
                if (eb <= et) {
                    a = b;
                    ea = eb;
                } else {
                    /* 6 halvings: the amount to 0.025, well inside the 5%
                     * dead band on the energy. */
                    for (int it = 0; it < 6; it++) {
                        const double mid = 0.5 * (a + b);
                        sharpen_clamped(yr, yb, lo, hi, mask, n, mid, ch);
                        const double em = hp_measure(&m, ch);
                        if (em > et) {
                            b = mid;
                        } else {
                            a = mid;
                            ea = em;
                        }
                    }
                }
                amount = a;
                e = ea;
                if (a > 0.0) {
                    sharpen_clamped(yr, yb, lo, hi, mask, n, a, ch);
                    for (size_t i = 0; i < n; i++)
                        if (mask[i] > 0.0f) {
                            float *p = &render[(i / w) * rstride + 3 * (i % w)];
                            const float d = ch[i] - yr[i];
                            for (int c = 0; c < 3; c++)
                                p[c] = clamp01(p[c] + d);
                        }
                }
            }
        }
        if (st == FS_OK && e < et * 0.95) {
            /* White noise of variance v loses a fraction of its energy to
             * the sigma-1 low-pass; about 0.76 remains (1 - 2 k0 + sum k^2
             * of that 2D kernel), so scale the variance up to match the
             * missing energy. */
            const double v = (et - e) / 0.76;
            noise = sqrt(v);
            uint64_t s = seed ? seed : 0x9E3779B97F4A7C15ull;
            for (size_t i = 0; i < n; i++) {
                const double u1 = rand_unit(&s), u2 = rand_unit(&s);
                const double g = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
                if (mask[i] > 0.0f) {
                    float *p = &render[(i / w) * rstride + 3 * (i % w)];
                    for (int c = 0; c < 3; c++)
                        p[c] = clamp01(p[c] + (float)(g * noise * mask[i]));
                }
            }
        }
    }
    if (st == FS_OK)
        st = m.st;
    hp_close(&m);
    if (st == FS_OK && out) {
        out->blur_sigma = sigma;
        out->sharpen = amount;
        out->noise = noise;
    }
    fs_tmp_free(buf);
    return st;
}
