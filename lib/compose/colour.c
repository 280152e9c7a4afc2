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

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

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

/*
 * The fast conversions: float arithmetic and three tables with linear
 * interpolation instead of double pow and cbrt, batched so the loops
 * vectorise. The curves are tabulated where they are smooth: the gamma
 * curve over its input, the cube root and the inverse gamma over the square
 * root of theirs (their curvature near 0 is then bounded). Their error,
 * measured by tests/test_swap_fast.c against the exact functions: below
 * 1e-5 of the [0, 1] range for the sRGB values (2.6e-3 of one 8-bit level,
 * the worst where the float matrix cancels) and below 2e-4 in L, a and b. Inputs beyond the tables (out-of-gamut values,
 * which the swap clamps anyway) take the exact formulas.
 */
#define FAST_N 2048 /* intervals per table */
/* The cube root's table reaches t = FAST_CBRT_S^2: X/WX, Y and Z/WZ of any
 * colour with sRGB channels in [0, 1] lie below 1. */
#define FAST_CBRT_S 1.25f
static float fast_lin[FAST_N + 2], fast_cbrt[FAST_N + 2], fast_gamma[FAST_N + 2];
/* The same curves over (1, 2] (sRGB values) and (1, 4] (linear ones): a
 * render lit by a brighter light than its source's runs past 1 on its
 * highlights before the colour match brings it back, and the exact double
 * pow on those pixels cost a video frame about 0.25 ms. */
static float fast_lin_hi[FAST_N + 2], fast_gamma_hi[FAST_N + 2];
static pthread_once_t fast_once = PTHREAD_ONCE_INIT;

static void fast_init(void)
{
    for (int i = 0; i <= FAST_N + 1; i++) {
        const double u = (double)i / FAST_N;
        /* The curved branches only, continued past their joints with the
         * linear ones (which are computed directly): an interval across a
         * joint would interpolate over its kink. */
        fast_lin[i] = (float)pow((u + 0.055) / 1.055, 2.4);
        const double s = u * FAST_CBRT_S;
        fast_cbrt[i] = (float)cbrt(s * s);
        fast_gamma[i] = (float)(1.055 * pow(u * u, 1.0 / 2.4) - 0.055);
        fast_lin_hi[i] = (float)pow((1.0 + u + 0.055) / 1.055, 2.4);
        fast_gamma_hi[i] = (float)(1.055 * pow((1.0 + u) * (1.0 + u), 1.0 / 2.4) - 0.055);
    }
}

/* table(u * FAST_N) interpolated, u in [0, 1]. */
static inline float fast_lerp(const float *table, float u)
{
    const float x = u * (float)FAST_N;
    int i = (int)x;
    i = i > FAST_N - 1 ? FAST_N - 1 : i;
    const float f = x - (float)i;
    return table[i] + f * (table[i + 1] - table[i]);
}

static inline float fast_to_linear(float v)
{
    if (v > 0.04045f && v <= 1.0f)
        return fast_lerp(fast_lin, v);
    if (v >= 0.0f && v <= 0.04045f)
        return v * (float)(1.0 / 12.92);
    if (v > 1.0f && v <= 2.0f)
        return fast_lerp(fast_lin_hi, v - 1.0f);
    return (float)srgb_to_linear(v);
}

static inline float fast_lab_f(float t)
{
    const float d3 = (float)(216.0 / 24389.0); /* (6/29)^3 */
    if (t > d3 && t < FAST_CBRT_S * FAST_CBRT_S)
        return fast_lerp(fast_cbrt, sqrtf(t) * (1.0f / FAST_CBRT_S));
    return (float)lab_f(t);
}

static inline float fast_finv(float t)
{
    const float d = 6.0f / 29.0f;
    return t > d ? t * t * t : 3.0f * d * d * (t - 4.0f / 29.0f);
}

/* linear_to_srgb with the mirror for negative values, as the exact path. */
static inline float fast_to_srgb(float c)
{
    const float a = fabsf(c);
    const float g = a <= 0.0031308f ? 12.92f * a :
                    a <= 1.0f        ? fast_lerp(fast_gamma, sqrtf(a)) :
                    a <= 4.0f        ? fast_lerp(fast_gamma_hi, sqrtf(a) - 1.0f) :
                                       (float)linear_to_srgb(a);
    return c < 0.0f ? -g : g;
}

/* One pixel of each fast conversion: the scalar loops', and the AVX2
 * loops' fallback for a group of eight with a value off the tables. */
static inline void srgb_to_lab_px(const float *rgb, float *lab)
{
    const float r = fast_to_linear(rgb[0]), g = fast_to_linear(rgb[1]), b = fast_to_linear(rgb[2]);
    const float x = (0.4124564f * r + 0.3575761f * g + 0.1804375f * b) * (float)(1.0 / 0.95047);
    const float y = 0.2126729f * r + 0.7151522f * g + 0.0721750f * b;
    const float z = (0.0193339f * r + 0.1191920f * g + 0.9503041f * b) * (float)(1.0 / 1.08883);
    const float fx = fast_lab_f(x), fy = fast_lab_f(y), fz = fast_lab_f(z);
    lab[0] = 116.0f * fy - 16.0f;
    lab[1] = 500.0f * (fx - fy);
    lab[2] = 200.0f * (fy - fz);
}

static inline void lab_to_srgb_px(const float *lab, float *rgb)
{
    const float fy = (lab[0] + 16.0f) * (1.0f / 116.0f);
    const float fx = fy + lab[1] * (1.0f / 500.0f), fz = fy - lab[2] * (1.0f / 200.0f);
    const float x = 0.95047f * fast_finv(fx), y = fast_finv(fy), z = 1.08883f * fast_finv(fz);
    const float r = 3.2404542f * x - 1.5371385f * y - 0.4985314f * z;
    const float g = -0.9692660f * x + 1.8760108f * y + 0.0415560f * z;
    const float b = 0.0556434f * x - 0.2040259f * y + 1.0572252f * z;
    rgb[0] = fast_to_srgb(r);
    rgb[1] = fast_to_srgb(g);
    rgb[2] = fast_to_srgb(b);
}

void fs_colour_srgb_to_lab_fast_scalar(const float *rgb, float *lab, size_t n)
{
    pthread_once(&fast_once, fast_init);
    for (size_t i = 0; i < n; i++)
        srgb_to_lab_px(rgb + 3 * i, lab + 3 * i);
}

void fs_colour_lab_to_srgb_fast_scalar(const float *lab, float *rgb, size_t n)
{
    pthread_once(&fast_once, fast_init);
    for (size_t i = 0; i < n; i++)
        lab_to_srgb_px(lab + 3 * i, rgb + 3 * i);
}

#if defined(__x86_64__) && defined(__GNUC__)
/* Eight pixels at a time: the scalar path's float operations in its order
 * (mul then add, no FMA in this target), the tables read by gathers, so
 * the bits are the scalar's (tests/test_swap_fast.c compares them). A
 * group with any value off the main tables (an sRGB value outside [0, 1],
 * a colour too dark for the cube root's table, a linear value past 1 on
 * the way back; NaN) is done by the scalar code, before any index is
 * formed from it. The conversions were 1.5 ms of a 260-px face's swap. */
__attribute__((target("avx2"))) static inline __m256 lerp8(const float *table, __m256 u)
{
    const __m256 x = _mm256_mul_ps(u, _mm256_set1_ps((float)FAST_N));
    const __m256i i = _mm256_min_epi32(_mm256_cvttps_epi32(x), _mm256_set1_epi32(FAST_N - 1));
    const __m256 f = _mm256_sub_ps(x, _mm256_cvtepi32_ps(i));
    const __m256 t0 = _mm256_i32gather_ps(table, i, 4), t1 = _mm256_i32gather_ps(table + 1, i, 4);
    return _mm256_add_ps(t0, _mm256_mul_ps(f, _mm256_sub_ps(t1, t0)));
}

/* The three channels of eight interleaved pixels, and back. */
__attribute__((target("avx2"))) static inline void load3x8(const float *p, __m256 *a, __m256 *b,
                                                          __m256 *c)
{
    const __m256i idx = _mm256_setr_epi32(0, 3, 6, 9, 12, 15, 18, 21);
    *a = _mm256_i32gather_ps(p, idx, 4);
    *b = _mm256_i32gather_ps(p + 1, idx, 4);
    *c = _mm256_i32gather_ps(p + 2, idx, 4);
}

__attribute__((target("avx2"))) static inline void store3x8(float *p, __m256 a, __m256 b,
                                                           __m256 c)
{
    float ta[8], tb[8], tc[8];
    _mm256_storeu_ps(ta, a);
    _mm256_storeu_ps(tb, b);
    _mm256_storeu_ps(tc, c);
    for (int j = 0; j < 8; j++) {
        p[3 * j] = ta[j];
        p[3 * j + 1] = tb[j];
        p[3 * j + 2] = tc[j];
    }
}

/* Lanes of @p v within [lo, hi] (NaN never is), as a bit mask. */
__attribute__((target("avx2"))) static inline int in8(__m256 v, float lo, float hi)
{
    const __m256 m = _mm256_and_ps(_mm256_cmp_ps(v, _mm256_set1_ps(lo), _CMP_GE_OQ),
                                   _mm256_cmp_ps(v, _mm256_set1_ps(hi), _CMP_LE_OQ));
    return _mm256_movemask_ps(m);
}

__attribute__((target("avx2"))) static inline __m256 to_linear8(__m256 v)
{
    const __m256 low = _mm256_mul_ps(v, _mm256_set1_ps((float)(1.0 / 12.92)));
    const __m256 is_low = _mm256_cmp_ps(v, _mm256_set1_ps(0.04045f), _CMP_LE_OQ);
    return _mm256_blendv_ps(lerp8(fast_lin, v), low, is_low);
}

__attribute__((target("avx2"))) static inline __m256 lab_f8(__m256 t)
{
    return lerp8(fast_cbrt, _mm256_mul_ps(_mm256_sqrt_ps(t), _mm256_set1_ps(1.0f / FAST_CBRT_S)));
}

__attribute__((target("avx2"))) static inline __m256 dot3(float a, float b, float c, __m256 x,
                                                         __m256 y, __m256 z)
{
    const __m256 s = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(a), x),
                                   _mm256_mul_ps(_mm256_set1_ps(b), y));
    return _mm256_add_ps(s, _mm256_mul_ps(_mm256_set1_ps(c), z));
}

/* Eight pixels into @p lab; 0 (nothing written) when a value lies off the
 * tables, for the scalar code to take them. */
__attribute__((target("avx2"))) static inline int srgb_to_lab8(const float *p, float *lab)
{
    /* The cube root's table: t in (d3, FAST_CBRT_S^2), open both ends. */
    const float d3 = (float)(216.0 / 24389.0), top = FAST_CBRT_S * FAST_CBRT_S;
    __m256 r, g, b;
    load3x8(p, &r, &g, &b);
    if ((in8(r, 0.0f, 1.0f) & in8(g, 0.0f, 1.0f) & in8(b, 0.0f, 1.0f)) != 0xff)
        return 0;
    r = to_linear8(r), g = to_linear8(g), b = to_linear8(b);
    const __m256 x = _mm256_mul_ps(dot3(0.4124564f, 0.3575761f, 0.1804375f, r, g, b),
                                   _mm256_set1_ps((float)(1.0 / 0.95047)));
    const __m256 y = dot3(0.2126729f, 0.7151522f, 0.0721750f, r, g, b);
    const __m256 z = _mm256_mul_ps(dot3(0.0193339f, 0.1191920f, 0.9503041f, r, g, b),
                                   _mm256_set1_ps((float)(1.0 / 1.08883)));
    const __m256 dd = _mm256_set1_ps(d3), tt = _mm256_set1_ps(top);
    const __m256 ok = _mm256_and_ps(
        _mm256_and_ps(_mm256_and_ps(_mm256_cmp_ps(x, dd, _CMP_GT_OQ),
                                    _mm256_cmp_ps(x, tt, _CMP_LT_OQ)),
                      _mm256_and_ps(_mm256_cmp_ps(y, dd, _CMP_GT_OQ),
                                    _mm256_cmp_ps(y, tt, _CMP_LT_OQ))),
        _mm256_and_ps(_mm256_cmp_ps(z, dd, _CMP_GT_OQ), _mm256_cmp_ps(z, tt, _CMP_LT_OQ)));
    if (_mm256_movemask_ps(ok) != 0xff)
        return 0;
    const __m256 fx = lab_f8(x), fy = lab_f8(y), fz = lab_f8(z);
    store3x8(lab, _mm256_sub_ps(_mm256_mul_ps(_mm256_set1_ps(116.0f), fy), _mm256_set1_ps(16.0f)),
             _mm256_mul_ps(_mm256_set1_ps(500.0f), _mm256_sub_ps(fx, fy)),
             _mm256_mul_ps(_mm256_set1_ps(200.0f), _mm256_sub_ps(fy, fz)));
    return 1;
}

__attribute__((target("avx2"))) static void srgb_to_lab_avx2(const float *rgb, float *lab,
                                                             size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        if (!srgb_to_lab8(rgb + 3 * i, lab + 3 * i))
            for (size_t j = i; j < i + 8; j++)
                srgb_to_lab_px(rgb + 3 * j, lab + 3 * j);
    for (; i < n; i++)
        srgb_to_lab_px(rgb + 3 * i, lab + 3 * i);
}

__attribute__((target("avx2"))) static inline __m256 finv8(__m256 t)
{
    const float d = 6.0f / 29.0f, lin = 3.0f * d * d;
    const __m256 cube = _mm256_mul_ps(_mm256_mul_ps(t, t), t);
    const __m256 low =
        _mm256_mul_ps(_mm256_set1_ps(lin), _mm256_sub_ps(t, _mm256_set1_ps(4.0f / 29.0f)));
    return _mm256_blendv_ps(low, cube, _mm256_cmp_ps(t, _mm256_set1_ps(d), _CMP_GT_OQ));
}

/* fast_to_srgb for |c| <= 1, which the caller has checked. */
__attribute__((target("avx2"))) static inline __m256 to_srgb8(__m256 c)
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 a = _mm256_andnot_ps(sign, c);
    const __m256 low = _mm256_mul_ps(_mm256_set1_ps(12.92f), a);
    const __m256 g = _mm256_blendv_ps(lerp8(fast_gamma, _mm256_sqrt_ps(a)), low,
                                      _mm256_cmp_ps(a, _mm256_set1_ps(0.0031308f), _CMP_LE_OQ));
    /* c < 0: -g (a sign flip, as the scalar's negation) */
    return _mm256_blendv_ps(g, _mm256_xor_ps(g, sign),
                            _mm256_cmp_ps(c, _mm256_setzero_ps(), _CMP_LT_OQ));
}

__attribute__((target("avx2"))) static void lab_to_srgb_avx2(const float *lab, float *rgb,
                                                             size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float *p = lab + 3 * i;
        __m256 l, a, b;
        load3x8(p, &l, &a, &b);
        const __m256 fy =
            _mm256_mul_ps(_mm256_add_ps(l, _mm256_set1_ps(16.0f)), _mm256_set1_ps(1.0f / 116.0f));
        const __m256 fx = _mm256_add_ps(fy, _mm256_mul_ps(a, _mm256_set1_ps(1.0f / 500.0f)));
        const __m256 fz = _mm256_sub_ps(fy, _mm256_mul_ps(b, _mm256_set1_ps(1.0f / 200.0f)));
        const __m256 x = _mm256_mul_ps(_mm256_set1_ps(0.95047f), finv8(fx)), y = finv8(fy),
                     z = _mm256_mul_ps(_mm256_set1_ps(1.08883f), finv8(fz));
        const __m256 nx = _mm256_sub_ps(_mm256_mul_ps(_mm256_set1_ps(3.2404542f), x),
                                        _mm256_mul_ps(_mm256_set1_ps(1.5371385f), y));
        const __m256 r = _mm256_sub_ps(nx, _mm256_mul_ps(_mm256_set1_ps(0.4985314f), z));
        const __m256 g = dot3(-0.9692660f, 1.8760108f, 0.0415560f, x, y, z);
        const __m256 ny = _mm256_sub_ps(_mm256_mul_ps(_mm256_set1_ps(0.0556434f), x),
                                        _mm256_mul_ps(_mm256_set1_ps(0.2040259f), y));
        const __m256 bb = _mm256_add_ps(ny, _mm256_mul_ps(_mm256_set1_ps(1.0572252f), z));
        if ((in8(r, -1.0f, 1.0f) & in8(g, -1.0f, 1.0f) & in8(bb, -1.0f, 1.0f)) != 0xff) {
            for (int j = 0; j < 8; j++)
                lab_to_srgb_px(p + 3 * j, rgb + 3 * (i + j));
            continue;
        }
        store3x8(rgb + 3 * i, to_srgb8(r), to_srgb8(g), to_srgb8(bb));
    }
    for (; i < n; i++)
        lab_to_srgb_px(lab + 3 * i, rgb + 3 * i);
}
#endif

void fs_colour_srgb_to_lab_fast(const float *rgb, float *lab, size_t n)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (fs_cpu_has_avx2()) {
        pthread_once(&fast_once, fast_init);
        srgb_to_lab_avx2(rgb, lab, n);
        return;
    }
#endif
    fs_colour_srgb_to_lab_fast_scalar(rgb, lab, n);
}

void fs_colour_lab_to_srgb_fast(const float *lab, float *rgb, size_t n)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (fs_cpu_has_avx2()) {
        pthread_once(&fast_once, fast_init);
        lab_to_srgb_avx2(lab, rgb, n);
        return;
    }
#endif
    fs_colour_lab_to_srgb_fast_scalar(lab, rgb, n);
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

/* The statistics a colour match moves towards: finite, deviations >= 0
 * (a template file's values are input like any other). */
static fs_status check_target_stats(fs_error_buf *err, const double to_mean[3],
                                    const double to_sd[3])
{
    if (!to_mean || !to_sd)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_colour_match_lab: bad arguments");
    for (int c = 0; c < 3; c++)
        if (!isfinite(to_mean[c]) || !isfinite(to_sd[c]) || to_sd[c] < 0.0)
            return fs_fail(err, FS_ERR_INVALID_ARGUMENT,
                           "fs_colour_match_lab: bad target statistics");
    return FS_OK;
}

/* The factor on a channel's deviations: the target's spread over the
 * render's, within FS_COLOUR_SPREAD_MAX either way (1 for a flat render). */
static double spread_gain(double from_sd, double to_sd)
{
    if (!(from_sd > 0.0))
        return 1.0;
    return fmin(fmax(to_sd / from_sd, 1.0 / FS_COLOUR_SPREAD_MAX), FS_COLOUR_SPREAD_MAX);
}

/* Each channel's factor on the render's deviations from its mean @p from
 * (deviation @p from_sd) towards @p to_mean / @p to_sd: the spread gain,
 * for L* under FS_COLOUR_L_GAIN times the exposure's factor on L* + 16
 * (1 where either side is black, or a template's mean lies below it). */
static void match_gains(const double from[3], const double from_sd[3], const double to_mean[3],
                        const double to_sd[3], fs_colour_lightness lightness, double gain[3])
{
    double s = 1.0;
    if (lightness == FS_COLOUR_L_GAIN && from[0] + 16.0 > 1.0 && to_mean[0] + 16.0 > 1.0)
        s = (to_mean[0] + 16.0) / (from[0] + 16.0);
    gain[0] = s * spread_gain(s * from_sd[0], to_sd[0]);
    for (int c = 1; c < 3; c++)
        gain[c] = spread_gain(from_sd[c], to_sd[c]);
}

fs_status fs_colour_match_lab_to(const fs_exec *ex, float *render, ptrdiff_t rstride,
                                 const float *mask, int w, int h, const double to_mean[3],
                                 const double to_sd[3], fs_colour_lightness lightness)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    fs_status st = check_target_stats(err, to_mean, to_sd);
    if (st != FS_OK)
        return st;
    float *rl;
    double rm[3], rs[3];
    st = masked_lab(err, "fs_colour_match_lab", render, rstride, mask, w, h, &rl, rm, rs);
    if (st == FS_OK) {
        double sd[3], gain[3];
        match_gains(rm, rs, to_mean, to_sd, lightness, gain);
        for (int c = 0; c < 3; c++)
            sd[c] = rs[c] > 0.0 ? rs[c] * gain[c] : to_sd[c];
        fs_colour_transfer(rl, w, h, 3 * (ptrdiff_t)w, mask, rm, rs, to_mean, sd);
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

/* The masked pixels of @p img packed for the fast path: their Lab (3 floats
 * each), weight and offset in @p img, so that the conversions run over one
 * dense batch; and their weighted statistics as fs_colour_masked_stats makes
 * them (double sums, the deviation about the mean). */
typedef struct packed_lab {
    float *lab, *wt;
    size_t *at, m;
    double mean[3], sd[3];
} packed_lab;

static void packed_free(packed_lab *p)
{
    fs_tmp_free(p->at);
    fs_tmp_free(p->lab);
    p->at = NULL;
    p->lab = p->wt = NULL;
}

static fs_status packed_lab_fast(fs_error_buf *err, const char *who, const float *img,
                                 ptrdiff_t stride, const float *mask, int w, int h,
                                 packed_lab *p)
{
    memset(p, 0, sizeof *p);
    fs_status st = fs_compose_check_size(err, w, h);
    if (st != FS_OK)
        return st;
    if (!img || !mask || stride < 3 * (ptrdiff_t)w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "%s: bad arguments", who);
    const size_t n = (size_t)w * h;
    p->lab = fs_tmp_alloc(sizeof(float) * 4 * n);
    p->at = fs_tmp_alloc(sizeof(size_t) * n);
    if (!p->lab || !p->at) {
        packed_free(p);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
    }
    float *lab = p->lab, *wt = p->wt = p->lab + 3 * n;
    size_t m = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const float a = mask[(size_t)y * w + x];
            if (!(a > 0.0f))
                continue;
            const float *q = &img[(size_t)y * stride + 3 * x];
            lab[3 * m] = q[0];
            lab[3 * m + 1] = q[1];
            lab[3 * m + 2] = q[2];
            wt[m] = a;
            p->at[m++] = (size_t)y * (size_t)stride + 3 * (size_t)x;
        }
    p->m = m;
    fs_colour_srgb_to_lab_fast(lab, lab, m);
    double sw = 0.0, s[3] = {0, 0, 0}, v[3] = {0, 0, 0};
    for (size_t i = 0; i < m; i++) {
        sw += wt[i];
        for (int c = 0; c < 3; c++)
            s[c] += (double)wt[i] * lab[3 * i + c];
    }
    if (!(sw > 0.0)) {
        packed_free(p);
        return fs_fail(err, FS_ERR_OUT_OF_RANGE, "fs_colour_masked_stats: empty mask");
    }
    for (int c = 0; c < 3; c++)
        p->mean[c] = s[c] / sw;
    for (size_t i = 0; i < m; i++)
        for (int c = 0; c < 3; c++) {
            const double d = lab[3 * i + c] - p->mean[c];
            v[c] += (double)wt[i] * d * d;
        }
    for (int c = 0; c < 3; c++)
        p->sd[c] = sqrt(v[c] / sw);
    return FS_OK;
}

fs_status fs_colour_lab_stats_fast(const fs_exec *ex, const float *img, ptrdiff_t stride,
                                   const float *mask, int w, int h, double mean[3], double sd[3])
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    if (!mean || !sd)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_colour_lab_stats: bad arguments");
    packed_lab p;
    const fs_status st = packed_lab_fast(err, "fs_colour_lab_stats", img, stride, mask, w, h, &p);
    if (st == FS_OK) {
        memcpy(mean, p.mean, sizeof p.mean);
        memcpy(sd, p.sd, sizeof p.sd);
    }
    packed_free(&p);
    return st;
}

fs_status fs_colour_match_lab_to_fast(const fs_exec *ex, float *render, ptrdiff_t rstride,
                                      const float *mask, int w, int h, const double to_mean[3],
                                      const double to_sd[3], fs_colour_lightness lightness)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    fs_status st = check_target_stats(err, to_mean, to_sd);
    if (st != FS_OK)
        return st;
    packed_lab p;
    st = packed_lab_fast(err, "fs_colour_match_lab", render, rstride, mask, w, h, &p);
    if (st != FS_OK)
        return st;
    float fm[3], fg[3], ft[3];
    double gain[3];
    match_gains(p.mean, p.sd, to_mean, to_sd, lightness, gain);
    for (int c = 0; c < 3; c++) {
        fm[c] = (float)p.mean[c];
        fg[c] = (float)gain[c];
        ft[c] = (float)to_mean[c];
    }
    float *lab = p.lab;
    for (size_t i = 0; i < p.m; i++)
        for (int c = 0; c < 3; c++)
            lab[3 * i + c] = (lab[3 * i + c] - fm[c]) * fg[c] + ft[c];
    fs_colour_lab_to_srgb_fast(lab, lab, p.m);
    for (size_t i = 0; i < p.m; i++) {
        float *q = render + p.at[i];
        for (int c = 0; c < 3; c++)
            q[c] = clamp01(lab[3 * i + c]);
    }
    packed_free(&p);
    return FS_OK;
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
    return st != FS_OK ? st
                       : fs_colour_match_lab_to(ex, render, rstride, mask, w, h, tm, ts,
                                                FS_COLOUR_L_SHIFT);
}

static void luminance(const float *img, ptrdiff_t stride, int w, int h, float *yp)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            yp[(size_t)y * w + x] = fs_luma709(&img[(size_t)y * stride + 3 * x]);
}

/* The body of both transfers: @p k 1, the luminance (one gain for every
 * channel); 3, the chromaticity (a gain per channel: the ratio of the two
 * low-passed colours, each over its own luminance, so that luminance is
 * left as it is).
 *
 * The low-pass is face-sized (the swap's sigma is 0.15 of the face: 39 px
 * on a 260 px face), so it is taken on a grid of f x f blocks (f about
 * sigma / 3, at most 16): the masked sums of both images (their luminance,
 * or each channel) and the mask's own, blurred there at the sigma left
 * after the box's spread, the gain taken on the grid and brought back by
 * bilinear interpolation. The full-size window is then read twice (the
 * sums) and written once (the gain), whatever the sigma; a video frame
 * spends about a third of what full-size planes and their upsampling cost.
 * At 6 px and under, f is 1: the direct masked blur. tests/test_compose.c
 * holds the luminance transfer against a full-size one. */
static fs_status lowpass_transfer(const fs_exec *ex, const fs_compose_ops *ops, float *render,
                                  ptrdiff_t rstride, const float *target, ptrdiff_t tstride,
                                  const float *mask, int w, int h, double sigma, double max_gain,
                                  int k, const char *who)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    fs_status st = fs_compose_check_size(err, w, h);
    if (st != FS_OK)
        return st;
    if (!ops || !render || !target || !mask || rstride < 3 * (ptrdiff_t)w ||
        tstride < 3 * (ptrdiff_t)w || !(sigma > 0.0) || !(sigma < 1e6) || !(max_gain >= 1.0) ||
        !(max_gain <= 1e6))
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "%s: bad arguments", who);
    int f = (int)(sigma / 3.0);
    f = sigma <= 6.0 ? 1 : f < 2 ? 2 : f > 16 ? 16 : f;
    const int sw = (w + f - 1) / f, sh = (h + f - 1) / f;
    const size_t n = (size_t)sw * (size_t)sh;
    /* planes: the mask's, then k of the target's and k of the render's */
    const int np = 1 + 2 * k;
    /* grid: the sums, their blurs, a scratch plane, the gains; full size:
     * each plane's column sums, each column's interpolation */
    float *buf = fs_tmp_alloc(sizeof(float) * ((2 * (size_t)np + 1 + (size_t)k) * n + (size_t)np * (size_t)w +
                                               (size_t)k * (size_t)w) +
                              sizeof(fs_lerp_at) * (size_t)w);
    if (!buf)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
    float *sum = buf, *blur = buf + (size_t)np * n, *tmp = blur + (size_t)np * n;
    float *gain = tmp + n, *col_sum = gain + (size_t)k * n, *grow = col_sum + (size_t)np * (size_t)w;
    fs_lerp_at *col = (fs_lerp_at *)(grow + (size_t)k * (size_t)w);
    /* Column sums over a block row first: the inner loop runs along x and
     * vectorises; each block then adds f of them. */
    for (int by = 0; by < sh; by++) {
        memset(col_sum, 0, sizeof(float) * (size_t)np * (size_t)w);
        const int y1 = by * f + f < h ? by * f + f : h;
        for (int y = by * f; y < y1; y++) {
            const float *mr = mask + (size_t)y * w;
            const float *tp = target + (size_t)y * tstride, *rp = render + (size_t)y * rstride;
            if (k == 1) {
                float *cm = col_sum, *ct = cm + w, *cr = ct + w;
                for (int x = 0; x < w; x++) {
                    const float m = mr[x];
                    cm[x] += m;
                    ct[x] += m * fs_luma709(tp + 3 * x);
                    cr[x] += m * fs_luma709(rp + 3 * x);
                }
            } else {
                for (int x = 0; x < w; x++) {
                    const float m = mr[x];
                    col_sum[x] += m;
                    for (int c = 0; c < 3; c++) {
                        col_sum[(size_t)(1 + c) * w + x] += m * tp[3 * x + c];
                        col_sum[(size_t)(4 + c) * w + x] += m * rp[3 * x + c];
                    }
                }
            }
        }
        for (int p = 0; p < np; p++) {
            const float *cs = col_sum + (size_t)p * w;
            float *out = sum + (size_t)p * n + (size_t)by * sw;
            for (int bx = 0; bx < sw; bx++) {
                const int x0 = bx * f, x1 = x0 + f < w ? x0 + f : w;
                float a = 0.0f;
                for (int x = x0; x < x1; x++)
                    a += cs[x];
                out[bx] = a;
            }
        }
    }
    /* A box of f px has a spread of sqrt((f^2 - 1) / 12) px: the Gaussian
     * adds what is left of sigma. Sums, not means: the division cancels
     * the block area, and edge blocks that hold fewer pixels weigh less. */
    const double box = ((double)f * f - 1.0) / 12.0;
    float kern[2 * FS_COMPOSE_MAX_RADIUS + 1];
    const int r = fs_compose_gauss_kernel(sqrt(fmax(sigma * sigma - box, 1.0)) / f, kern);
    for (int p = 0; p < np && st == FS_OK; p++)
        st = ops->blur(ex, sum + (size_t)p * n, sw, sh, kern, r, tmp, blur + (size_t)p * n);
    if (st == FS_OK) {
        /* g = (Lt + eps) / (Lr + eps) with L = blurred sum / blurred
         * weight; eps keeps black regions from dividing by zero. Where the
         * mask reaches no grid sample the gain is 1. */
        const float eps = 1e-3f;
        const float gmax = (float)max_gain, gmin = 1.0f / gmax;
        const float *bm = blur, *bt = blur + n, *br = blur + (size_t)(1 + k) * n;
        for (size_t i = 0; i < n; i++) {
            float g[3] = {1.0f, 1.0f, 1.0f};
            if (bm[i] > 1e-6f) {
                for (int c = 0; c < k; c++)
                    g[c] = (bt[(size_t)c * n + i] + eps * bm[i]) / (br[(size_t)c * n + i] + eps * bm[i]);
                if (k == 3) {
                    /* over the luminance gain: chromaticity alone */
                    const float t3[3] = {bt[i], bt[n + i], bt[2 * n + i]};
                    const float r3[3] = {br[i], br[n + i], br[2 * n + i]};
                    const float gl = (fs_luma709(t3) + eps * bm[i]) / (fs_luma709(r3) + eps * bm[i]);
                    for (int c = 0; c < 3; c++)
                        g[c] /= gl;
                }
            }
            for (int c = 0; c < k; c++)
                gain[(size_t)c * n + i] = g[c] < gmin ? gmin : (g[c] > gmax ? gmax : g[c]);
        }
        for (int x = 0; x < w; x++)
            col[x] = fs_lerp_of(x, f, sw);
        for (int y = 0; y < h; y++) {
            const fs_lerp_at row = fs_lerp_of(y, f, sh);
            for (int c = 0; c < k; c++) {
                const float *g0 = gain + (size_t)c * n + (size_t)row.i0 * sw;
                const float *g1 = gain + (size_t)c * n + (size_t)row.i1 * sw;
                float *gr = grow + (size_t)c * w;
                for (int bx = 0; bx < sw; bx++)
                    gr[bx] = g0[bx] + row.a * (g1[bx] - g0[bx]);
            }
            const float *mr = mask + (size_t)y * w;
            float *rp = render + (size_t)y * rstride;
            for (int x = 0; x < w; x++) {
                if (!(mr[x] > 0.0f))
                    continue;
                const fs_lerp_at c = col[x];
                /* one gain for the three channels when k is 1 */
                float g = 0.0f;
                for (int ch = 0; ch < 3; ch++) {
                    if (ch < k) {
                        const float *gr = grow + (size_t)ch * w;
                        g = gr[c.i0] + c.a * (gr[c.i1] - gr[c.i0]);
                    }
                    rp[3 * x + ch] = clamp01(rp[3 * x + ch] * g);
                }
            }
        }
    }
    fs_tmp_free(buf);
    return st;
}

fs_status fs_colour_shading_transfer(const fs_exec *ex, const fs_compose_ops *ops, float *render,
                                     ptrdiff_t rstride, const float *target, ptrdiff_t tstride,
                                     const float *mask, int w, int h, double sigma,
                                     double max_gain)
{
    return lowpass_transfer(ex, ops, render, rstride, target, tstride, mask, w, h, sigma, max_gain,
                            1, "fs_colour_shading_transfer");
}

fs_status fs_colour_chroma_transfer(const fs_exec *ex, const fs_compose_ops *ops, float *render,
                                    ptrdiff_t rstride, const float *target, ptrdiff_t tstride,
                                    const float *mask, int w, int h, double sigma,
                                    double max_gain)
{
    return lowpass_transfer(ex, ops, render, rstride, target, tstride, mask, w, h, sigma, max_gain,
                            3, "fs_colour_chroma_transfer");
}

/* High-pass energy of luminance planes under one mask, with d = Y -
 * masked_blur_1(Y). The mask's own blur does not depend on Y, so it is made
 * once per mask (the sharpness search measures up to a dozen planes under
 * the same mask).
 *
 * The energy is a robust one: the square of the weighted median of |d|
 * over HP_MAD_SIGMA (for Gaussian detail, its variance), not the mean of
 * d^2. The mean is ruled by the few strongest edges in the mask,
 * and a target with dark make-up on its cheeks (faceapi_sample1's painted
 * dots and triangles) measured as a very grainy one: the stage covered
 * the swapped face with speckle noise (the astronaut onto herself with
 * five near-black dots painted on: 7.2 levels apart from the plain swap
 * away from the dots; 0.8 with the median). The median reads the skin's
 * own grain. Its histogram: HP_BINS bins of |d| up to HP_MAX (luminance
 * 0..1; a bin is 0.03 grey levels), the rest in the last, and the
 * median's bin split as finely again. */
#define HP_BINS 4096
#define HP_MAX 0.5f
#define HP_MAD_SIGMA 0.6744897501960817
#define HP_MIN_SAMPLES 64

typedef struct hp_meter {
    const fs_exec *ex;
    const fs_compose_ops *ops;
    fs_status st;               /* the first blur that failed: measures after it read 0 */
    const float *mask;
    int w, h, r;
    float k[2 * FS_COMPOSE_MAX_RADIUS + 1];
    double *hist;               /* 2 x HP_BINS, then in the same allocation: */
    float *bm, *mx, *bmx, *tmp; /* 4 planes */
} hp_meter;

/* Gives back the meter's allocation (NULL: nothing). */
static void hp_close(hp_meter *m)
{
    fs_tmp_free(m->hist);
    m->hist = NULL;
    m->bm = m->mx = m->bmx = m->tmp = NULL;
}

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
    m->hist = fs_tmp_alloc(sizeof(double) * 2 * HP_BINS + sizeof(float) * n * 4);
    if (!m->hist)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "compose: out of memory");
    m->bm = (float *)(void *)(m->hist + 2 * HP_BINS);
    m->mx = m->bm + n;
    m->bmx = m->bm + 2 * n;
    m->tmp = m->bm + 3 * n;
    m->r = fs_compose_gauss_kernel(1.0, m->k);
    const fs_status st = ops->blur(ex, mask, w, h, m->k, m->r, m->tmp, m->bm);
    if (st != FS_OK) {
        hp_close(m);
        return st;
    }
    double sw = 0.0;
    for (size_t i = 0; i < n; i++)
        if (mask[i] > 0.0f)
            sw += mask[i];
    if (!(sw > 0.0)) {
        hp_close(m);
        return fs_fail(err, FS_ERR_OUT_OF_RANGE, "compose: empty mask");
    }
    return FS_OK;
}

/* @p lp (may be NULL): the low-pass itself, all pixels, as
 * fs_compose_masked_blur of sigma 1 makes it (the same blurs and division,
 * so the same bits). */
static double hp_measure_lp(hp_meter *m, const float *yp, float *lp)
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
    if (lp)
        fs_compose_masked_quotient(m->bmx, m->bm, yp, n, lp);
    /* |d| and the weight of every other masked pixel each way, packed into
     * mx and tmp, which the blur has done with: a median over a quarter of
     * the face's thousands of pixels moves by a fraction of a percent, and
     * the searches measure up to eight times per frame. A mask with fewer
     * than HP_MIN_SAMPLES such pixels gives all of its own. */
    size_t cnt = 0;
    double wsum = 0.0;
    for (int step = 2; step > 0; step--) {
        memset(m->hist, 0, sizeof(double) * HP_BINS);
        cnt = 0;
        wsum = 0.0;
        for (int y = 0; y < m->h; y += step)
            for (int x = 0; x < m->w; x += step) {
                const size_t i = (size_t)y * (size_t)m->w + (size_t)x;
                if (!(m->mask[i] > 0.0f))
                    continue;
                const float lo = m->bm[i] > 1e-6f ? m->bmx[i] / m->bm[i] : yp[i];
                const float d = fabsf(yp[i] - lo), a = d * ((float)HP_BINS / HP_MAX);
                m->mx[cnt] = d;
                m->tmp[cnt++] = m->mask[i];
                m->hist[a < (float)(HP_BINS - 1) ? (int)a : HP_BINS - 1] += m->mask[i];
                wsum += m->mask[i];
            }
        if (cnt >= HP_MIN_SAMPLES)
            break;
    }
    /* The weighted median of |d|: its bin, then that bin split again
     * HP_BINS ways (a flat render measures about 0, not half a bin), and
     * interpolated within the finer bin so that the searches over blur and
     * sharpening see a continuous measure. */
    const double half = 0.5 * wsum;
    double run = 0.0;
    int b = 0;
    while (b < HP_BINS - 1 && run + m->hist[b] < half)
        run += m->hist[b++];
    const double width = (double)HP_MAX / HP_BINS, base = (double)b * width;
    double *fine = m->hist + HP_BINS;
    memset(fine, 0, sizeof(double) * HP_BINS);
    for (size_t q = 0; q < cnt; q++) {
        const float a = m->mx[q] * ((float)HP_BINS / HP_MAX);
        if ((a < (float)(HP_BINS - 1) ? (int)a : HP_BINS - 1) != b)
            continue;
        const double f = ((double)m->mx[q] - base) / width * HP_BINS;
        fine[!(f > 0.0) ? 0 : f >= HP_BINS - 1 ? HP_BINS - 1 : (int)f] += m->tmp[q];
    }
    int k = 0;
    while (k < HP_BINS - 1 && run + fine[k] < half)
        run += fine[k++];
    const double frac = fine[k] > 0.0 ? (half - run) / fine[k] : 0.0;
    const double scale = (base + ((double)k + frac) * (width / HP_BINS)) / HP_MAD_SIGMA;
    return scale * scale;
}

static double hp_measure(hp_meter *m, const float *yp)
{
    return hp_measure_lp(m, yp, NULL);
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

/* The noise's uniforms come from a hash of the pixel's place, not from a
 * stream: a pixel's noise depends on (x, y) and the seed only, so only the
 * masked pixels need drawing, a row's draws are independent (the loop
 * vectorises), and in a video a face's grain does not reshuffle when its
 * window changes width by a pixel. The mixer is a 32-bit multiply-xorshift
 * finaliser (constants of the "lowbias32" kind); two uniforms per pixel
 * from two hashes, 24 bits each, centred in their bins: (k + 0.5) / 2^24,
 * never 0 (the Box-Muller log) nor 1. */
static inline uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

static inline uint32_t row_key(uint64_t seed, int y)
{
    return mix32((uint32_t)y ^ mix32((uint32_t)seed ^ mix32((uint32_t)(seed >> 32))));
}

static inline void noise_uniforms(uint32_t row, int x, float *u1, float *u2)
{
    const uint32_t a = mix32((uint32_t)x * 0x9e3779b1u + row);
    const uint32_t b = mix32(a ^ 0x68e31da4u);
    *u1 = ((float)(a >> 8) + 0.5f) * (1.0f / 16777216.0f);
    *u2 = ((float)(b >> 8) + 0.5f) * (1.0f / 16777216.0f);
}

/* ln(u) for u in (0, 1], float, branch-free so that its loop vectorises:
 * u = m 2^e with m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s), s = (m - 1) /
 * (m + 1), |s| < 0.172, by its series to s^9 (error below 1e-8). */
static inline float fast_log(float u)
{
    uint32_t b;
    memcpy(&b, &u, sizeof(b));
    /* Exponent against sqrt(1/2) = 0x3f3504f3: the mantissa then lies in
     * [sqrt(1/2), sqrt(2)). */
    const int32_t e = (int32_t)(b - 0x3f3504f3u) >> 23;
    const uint32_t mb = b - ((uint32_t)e << 23);
    float m;
    memcpy(&m, &mb, sizeof(m));
    const float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
    const float q = 1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9))));
    return 2.0f * s * q + (float)e * 0.69314718f;
}

/* cos(2 pi u) for u in [0, 1], float: folded onto [0, 1/4] (x in [0,
 * pi/2]), where the Taylor series to x^12 is within 1e-8. */
static inline float fast_cos2pi(float u)
{
    /* cos(2 pi u) = -cos(2 pi a0), and -cos(2 pi a0) = cos(2 pi (1/2 - a0));
     * the fold as arithmetic, which GCC vectorises where it would not
     * if-convert the select. */
    const float a0 = fabsf(u - 0.5f);
    const float far = (float)(a0 > 0.25f);
    const float sign = 2.0f * far - 1.0f;
    const float a = a0 + far * (0.5f - 2.0f * a0);
    const float x = 6.2831853f * a, x2 = x * x;
    const float c = 1.0f + x2 * (-1.0f / 2 + x2 * (1.0f / 24 + x2 * (-1.0f / 720 + x2 * (1.0f / 40320 + x2 * (-1.0f / 3628800 + x2 * (1.0f / 479001600))))));
    return sign * c;
}

static inline float min_f(float a, float b)
{
    return b < a ? b : a;
}

static inline float max_f(float a, float b)
{
    return b > a ? b : a;
}

/* The 3x3 minimum (sign = 1) or maximum (sign = -1, on negated values) of
 * the masked pixels, separably (rows into tmp, then columns): a min is
 * exact in any order, so this equals the direct 9-tap scan; unmasked pixels
 * take part as +inf. The masked values go to @p out first, the rows' minima
 * from there into @p tmp, the columns' back into @p out: no pass reads what
 * it writes, so each inner loop vectorises. */
static void masked_min3x3(const float *yr, const float *mask, int w, int h, float sign,
                          float *tmp, float *out)
{
    for (int y = 0; y < h; y++) {
        const float *yy = yr + (size_t)y * w, *m = mask + (size_t)y * w;
        float *v = out + (size_t)y * w, *t = tmp + (size_t)y * w;
        for (int x = 0; x < w; x++)
            v[x] = m[x] > 0.0f ? sign * yy[x] : INFINITY;
        t[0] = w > 1 ? min_f(v[0], v[1]) : v[0];
        for (int x = 1; x < w - 1; x++)
            t[x] = min_f(min_f(v[x - 1], v[x]), v[x + 1]);
        if (w > 1)
            t[w - 1] = min_f(v[w - 2], v[w - 1]);
    }
    for (int y = 0; y < h; y++) {
        const float *a = tmp + (size_t)(y > 0 ? y - 1 : y) * w, *b = tmp + (size_t)y * w,
                    *c = tmp + (size_t)(y + 1 < h ? y + 1 : y) * w;
        float *o = out + (size_t)y * w;
        for (int x = 0; x < w; x++)
            o[x] = min_f(min_f(a[x], b[x]), c[x]);
    }
}

/* Each pixel's range over its 3x3 masked neighbourhood: the bounds that
 * sharpening keeps to. Unclamped, the boost rings into bright and dark halos
 * at strong edges (a nostril, a lash line), which look worse than the
 * softness they fix. Outside the mask sharpening leaves yr as it is, which
 * [yr, yr] keeps. @p tmp: w*h scratch. */
static void local_range(const float *yr, const float *mask, int w, int h, float *lo, float *hi,
                        float *tmp)
{
    masked_min3x3(yr, mask, w, h, 1.0f, tmp, lo);
    masked_min3x3(yr, mask, w, h, -1.0f, tmp, hi);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        const int in = mask[i] > 0.0f;
        lo[i] = in ? min_f(yr[i], lo[i]) : yr[i];
        hi[i] = in ? max_f(yr[i], -hi[i]) : yr[i];
    }
}

/* out = yr + amount * mask * (yr - yb), kept within [lo, hi]. */
static void sharpen_clamped(const float *yr, const float *yb, const float *lo, const float *hi,
                            const float *mask, size_t n, double amount, float *out)
{
    const float a = (float)amount;
    for (size_t i = 0; i < n; i++) {
        const float v = yr[i] + a * mask[i] * (yr[i] - yb[i]);
        /* As v < lo ? lo : v > hi ? hi : v (lo <= hi), in a form that
         * vectorises. */
        const float t = v > hi[i] ? hi[i] : v;
        out[i] = t < lo[i] ? lo[i] : t;
    }
}

/* fs_compose_masked_blur (lib/compose/filter.c) in the caller's scratch
 * @p s4 (4 w*h planes): the same blurs and division, the same bits. It
 * keeps every branch of the detail stage at one peak of scratch memory, so
 * that a workspace sized by one frame serves the next whichever branch that
 * one takes. @p mb: the mask's own blur at @p sigma where the caller has
 * it; NULL: made here, into s4's second plane, which later calls with the
 * same mask and sigma may pass as @p mb. */
static fs_status masked_blur_in(const fs_exec *ex, const fs_compose_ops *ops, const float *x,
                                const float *m, const float *mb, int w, int h, double sigma,
                                float *out, float *s4)
{
    const size_t n = (size_t)w * h;
    float *mx = s4, *bmx = s4 + 2 * n, *tmp = s4 + 3 * n;
    float k[2 * FS_COMPOSE_MAX_RADIUS + 1];
    const int r = fs_compose_gauss_kernel(sigma, k);
    for (size_t i = 0; i < n; i++)
        mx[i] = m[i] * x[i];
    fs_status st = ops->blur(ex, mx, w, h, k, r, tmp, bmx);
    if (st == FS_OK && !mb) {
        st = ops->blur(ex, m, w, h, k, r, tmp, s4 + n);
        mb = s4 + n;
    }
    if (st == FS_OK)
        fs_compose_masked_quotient(bmx, mb, x, n, out);
    return st;
}

/* Blurs the render (all three channels, masked Gaussian of @p sigma). */
static fs_status blur_render(const fs_exec *ex, const fs_compose_ops *ops, float *render,
                             ptrdiff_t rstride, const float *mask, int w, int h, double sigma,
                             float *ch, float *cb, float *s4)
{
    fs_status st = FS_OK;
    for (int c = 0; c < 3 && st == FS_OK; c++) {
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                ch[(size_t)y * w + x] = render[(size_t)y * rstride + 3 * x + c];
        /* The mask's blur is the same for the three: made once. */
        st = masked_blur_in(ex, ops, ch, mask, c ? s4 + (size_t)w * h : NULL, w, h, sigma, cb, s4);
        if (st != FS_OK)
            break;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (mask[(size_t)y * w + x] > 0.0f)
                    render[(size_t)y * rstride + 3 * x + c] = cb[(size_t)y * w + x];
    }
    return st;
}

/* Adds plus[i] - minus[i] (minus NULL: plus[i]) to the three channels of
 * each masked pixel of the render, clamped to [0, 1]. */
static void add_masked(float *render, ptrdiff_t rstride, const float *mask, int w, int h,
                       const float *plus, const float *minus)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const size_t i = (size_t)y * w + x;
            if (!(mask[i] > 0.0f))
                continue;
            float *p = &render[(size_t)y * rstride + 3 * x];
            const float d = minus ? plus[i] - minus[i] : plus[i];
            for (int c = 0; c < 3; c++)
                p[c] = clamp01(p[c] + d);
        }
}

/* Gaussian luminance noise of deviation @p amp times the mask, tied to the
 * window's pixels (ox, oy) and @p seed; fast: the Box-Muller transform in
 * float over whole rows without a branch, so that it vectorises (the mask
 * zeroes what lies outside), else in double over the masked pixels. */
static void noise_plane(uint64_t seed, int ox, int oy, const float *mask, int w, int h,
                        double amp, int fast, float *out)
{
    const uint64_t s = seed ? seed : 0x9E3779B97F4A7C15ull;
    const float af = (float)amp;
    for (int y = 0; y < h; y++) {
        const uint32_t row = row_key(s, y + oy);
        const float *mr = mask + (size_t)y * w;
        float *g = out + (size_t)y * w;
        if (fast) {
            for (int x = 0; x < w; x++) {
                float u1, u2;
                noise_uniforms(row, x + ox, &u1, &u2);
                const float mk = mr[x] > 0.0f ? mr[x] : 0.0f;
                g[x] = sqrtf(-2.0f * fast_log(u1)) * fast_cos2pi(u2) * af * mk;
            }
            continue;
        }
        for (int x = 0; x < w; x++) {
            g[x] = 0.0f;
            if (!(mr[x] > 0.0f))
                continue;
            float u1, u2;
            noise_uniforms(row, x + ox, &u1, &u2);
            const double gd = sqrt(-2.0 * log((double)u1)) * cos(6.283185307179586 * u2);
            g[x] = (float)(gd * amp * mr[x]);
        }
    }
}

/* Adds Gaussian luminance noise to the masked render, whose luminance
 * @p yl measures @p e, so that it measures @p et (> e); returns the
 * noise's deviation. White noise keeps about 0.76 of its variance past the
 * sigma-1 low-pass (1 - 2 k0 + sum k^2 of that 2D kernel), hence the first
 * guess; but the median's energy of a plane with detail of its own is no
 * sum of variances (with the guess alone, the quality benchmark measured
 * 1.5 times the target's energy on a blurred face), so the guess is
 * measured and one secant step on e + k amp^2 follows. @p g, @p tmp:
 * planes of the meter's size. */
static double fill_noise(hp_meter *m, float *render, ptrdiff_t rstride, const float *yl, double e,
                         double et, uint64_t seed, int ox, int oy, int fast, float *g, float *tmp)
{
    const size_t n = (size_t)m->w * m->h;
    noise_plane(seed, ox, oy, m->mask, m->w, m->h, 1.0, fast, g);
    const double guess = sqrt((et - e) / 0.76);
    for (size_t i = 0; i < n; i++)
        tmp[i] = yl[i] + (float)guess * g[i];
    const double ea = hp_measure(m, tmp), k = (ea - e) / (guess * guess);
    /* At most twice the guess: a measure the noise hardly moved would
     * otherwise ask for any amount. */
    const double amp = k > 0.0 ? fmin(sqrt((et - e) / k), 2.0 * guess) : guess;
    for (size_t i = 0; i < n; i++)
        g[i] *= (float)amp;
    add_masked(render, rstride, m->mask, m->w, m->h, g, NULL);
    return amp;
}

/* How sharp a face is, apart from how much it holds: the detail between
 * the sigma-1 and sigma-3 low-passes over that between sigma 3 and 6
 * (mean absolute, mask-weighted). A blurred photo loses the first band
 * before the second; a face with more make-up or creases has more of both.
 * The sigma-1 energy alone (hp_measure) reads a soft video frame's sensor
 * and JPEG grain as detail: the astronaut onto faceapi_sample4's blurred
 * face 3 kept her creases and freckles crisp on it. Measured at half
 * resolution (the bands' sigmas halved), on planes of 2 x 2 means. */
#define BAND_ENTER 1.05 /* the render's ratio over the target's that blurs it */
#define BAND_STEP 1.0   /* the half-resolution blurs it is measured at, */
#define BAND_STEPS 2    /* up to this many of them */

typedef struct band_meter {
    const fs_exec *ex;
    const fs_compose_ops *ops;
    int w, h;             /* half-resolution size */
    float *m, *yt, *yr;   /* the mask and the two luminances, 2 x 2 means */
    float *b[3], *mb0[3]; /* three low-passes; the mask's own at no blur */
    float *s4;            /* masked_blur_in's scratch */
} band_meter;

static void band_close(band_meter *b)
{
    fs_tmp_free(b->m);
    b->m = NULL;
}

static const double band_sig[3] = {0.5, 1.5, 3.0};

/* Half-resolution planes of @p yt, @p yr under @p mask (w x h), and the
 * mask's low-passes at no blur (both faces are measured there); a mask
 * under 2 x 2 pixels: b->m stays NULL (no measure). */
static fs_status band_open(const fs_exec *ex, band_meter *b, const fs_compose_ops *ops,
                           const float *yt, const float *yr, const float *mask, int w, int h)
{
    memset(b, 0, sizeof(*b));
    b->ex = ex;
    b->ops = ops;
    b->w = w / 2;
    b->h = h / 2;
    if (b->w < 1 || b->h < 1)
        return FS_OK;
    const size_t n = (size_t)b->w * b->h;
    b->m = fs_tmp_alloc(sizeof(float) * n * 13);
    if (!b->m)
        return fs_fail(FS_EXEC_ERR(ex), FS_ERR_OUT_OF_MEMORY, "compose: out of memory");
    b->yt = b->m + n;
    b->yr = b->m + 2 * n;
    for (int k = 0; k < 3; k++) {
        b->b[k] = b->m + (3 + k) * n;
        b->mb0[k] = b->m + (6 + k) * n;
    }
    b->s4 = b->m + 9 * n;
    for (int y = 0; y < b->h; y++)
        for (int x = 0; x < b->w; x++) {
            double ms = 0.0, ts = 0.0, rs = 0.0;
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++) {
                    const size_t i = (size_t)(2 * y + dy) * w + (size_t)(2 * x + dx);
                    const float mk = mask[i] > 0.0f ? mask[i] : 0.0f;
                    ms += mk;
                    ts += mk * yt[i];
                    rs += mk * yr[i];
                }
            const size_t o = (size_t)y * b->w + x;
            b->m[o] = (float)(ms / 4.0);
            b->yt[o] = ms > 0.0 ? (float)(ts / ms) : 0.0f;
            b->yr[o] = ms > 0.0 ? (float)(rs / ms) : 0.0f;
        }
    fs_status st = FS_OK;
    for (int k = 0; k < 3 && st == FS_OK; k++) {
        float kern[2 * FS_COMPOSE_MAX_RADIUS + 1];
        const int r = fs_compose_gauss_kernel(band_sig[k], kern);
        st = ops->blur(ex, b->m, b->w, b->h, kern, r, b->s4, b->mb0[k]);
    }
    if (st != FS_OK)
        band_close(b);
    return st;
}

/* The band ratio of @p y after a Gaussian blur of @p s half-resolution
 * pixels (folded into the low-passes: sigma^2 adds); 0 with no detail. */
static double band_ratio(band_meter *b, const float *y, double s, fs_status *st)
{
    const size_t n = (size_t)b->w * b->h;
    for (int k = 0; k < 3 && *st == FS_OK; k++)
        *st = masked_blur_in(b->ex, b->ops, y, b->m, s > 0.0 ? NULL : b->mb0[k], b->w, b->h,
                             sqrt(band_sig[k] * band_sig[k] + s * s), b->b[k], b->s4);
    if (*st != FS_OK)
        return 0.0;
    double fine = 0.0, coarse = 0.0;
    for (size_t i = 0; i < n; i++)
        if (b->m[i] > 0.0f) {
            fine += b->m[i] * fabsf(b->b[0][i] - b->b[1][i]);
            coarse += b->m[i] * fabsf(b->b[1][i] - b->b[2][i]);
        }
    return coarse > 0.0 ? fine / coarse : 0.0;
}

/* The full-resolution blur (px, up to 4) that brings the render's band
 * ratio down to BAND_ENTER times the target's; 0 where it is not above
 * that. The ratio is measured at half-resolution blurs of 0, 1 and 2 (the
 * last two only as far as needed), its log taken as linear in the blur
 * between the two that bracket the goal: each measure is six blurs of the
 * plane, and on white noise blurred by 1.2 px this finds 1.16 to 1.22
 * (linear in the blur or in its square: 1.24 to 1.47, 1.57 to 1.71; a
 * regula falsi needs two more measures for as close an answer). */
static double band_blur(band_meter *b, fs_status *st)
{
    if (!b->m)
        return 0.0;
    const double goal = BAND_ENTER * band_ratio(b, b->yt, 0.0, st);
    double s0 = 0.0, f0 = band_ratio(b, b->yr, 0.0, st) - goal;
    if (*st != FS_OK || !(goal > 0.0) || !(f0 > 0.0))
        return 0.0;
    for (int k = 1; k <= BAND_STEPS; k++) {
        const double s1 = (double)k * BAND_STEP, f1 = band_ratio(b, b->yr, s1, st) - goal;
        if (*st != FS_OK)
            return 0.0;
        if (!(f1 > 0.0)) {
            const double l0 = log(f0 + goal), l1 = log(fmax(f1 + goal, 1e-9)), lg = log(goal);
            return 2.0 * (s0 + (s1 - s0) * (l0 - lg) / (l0 - l1));
        }
        s0 = s1;
        f0 = f1;
    }
    return 2.0 * s0;
}

/* Regula falsi with the Illinois rule on a bracket [a, b] whose ends' values
 * fa, fb have opposite signs: both of the detail stage's searches (the
 * blur's and the sharpening's) step with it. */
typedef struct falsi {
    double a, fa, b, fb;
    int kept; /* the end the last step kept: -1 a, 1 b, 0 none yet */
} falsi;

static inline double falsi_point(const falsi *r)
{
    return (r->a * r->fb - r->b * r->fa) / (r->fb - r->fa);
}

/* Puts @p x (value @p fx) in place of the end whose value has its sign (a
 * for fx = 0 when fa < 0, b when fa > 0), halving the kept end's value when
 * that end was kept the step before as well. Returns -1 (a replaced) or 1. */
static inline int falsi_take(falsi *r, double x, double fx)
{
    if ((fx > 0.0) == (r->fa > 0.0)) {
        r->a = x, r->fa = fx;
        r->fb *= r->kept == 1 ? 0.5 : 1.0;
        r->kept = 1;
        return -1;
    }
    r->b = x, r->fb = fx;
    r->fa *= r->kept == -1 ? 0.5 : 1.0;
    r->kept = -1;
    return 1;
}

/* The blur (px, up to 4) that brings the render's energy @p er down to the
 * target's @p et (er > et). The energy falls monotonically and smoothly with
 * the blur; its log is close to linear in the blur's square near 0. Regula
 * falsi with the Illinois rule on that log over sigma^2, each new point kept
 * within the middle 80% of its bracket (so a curve far from the line still
 * halves it at least geometrically), bracketed by [0, 1 px], or [1, 4] when
 * 1 px is not enough; it stops within 1% of the target energy, or after as
 * many measures as the bisection on [0, 4] it replaces always took (six,
 * sigma within 0.03 px), each three blurs of the plane and a median: most
 * of the stage's time on a poster, where this takes four (doc/swap.md).
 * @p yb, @p s4: scratch planes. */
static double energy_blur(const fs_exec *ex, const fs_compose_ops *ops, hp_meter *m,
                          const float *yr, const float *mask, int w, int h, double er, double et,
                          float *yb, float *s4, fs_status *st)
{
    const double tol = log(1.01), let = log(et);
    int measures = 0;
#define ENERGY_AT(sig, out)                                                                     \
    do {                                                                                        \
        *st = masked_blur_in(ex, ops, yr, mask, NULL, w, h, (sig), yb, s4);                     \
        (out) = *st == FS_OK ? log(fmax(hp_measure(m, yb), 1e-30)) - let : 0.0;                 \
        measures++;                                                                             \
    } while (0)
    /* a, b: sigma^2 at the bracket's ends; fa > 0 >= fb */
    falsi r = {0.0, log(er) - let, 1.0, 0.0, 0};
    ENERGY_AT(1.0, r.fb);
    if (*st != FS_OK)
        return 0.0;
    if (fabs(r.fb) <= tol)
        return 1.0;
    if (r.fb > 0.0) {
        r.a = 1.0, r.fa = r.fb;
        r.b = 16.0;
        ENERGY_AT(4.0, r.fb);
        if (*st != FS_OK || r.fb >= 0.0)
            return *st == FS_OK ? 4.0 : 0.0;
    }
    while (measures < 6) {
        const double x = fmin(fmax(falsi_point(&r), r.a + 0.1 * (r.b - r.a)), r.b - 0.1 * (r.b - r.a));
        double fx;
        ENERGY_AT(sqrt(x), fx);
        if (*st != FS_OK)
            return 0.0;
        if (fabs(fx) <= tol)
            return sqrt(x);
        falsi_take(&r, x, fx);
    }
#undef ENERGY_AT
    return sqrt(falsi_point(&r));
}

/* The reference (fast = 0) and the fast entry (fast = 1: the noise's
 * Box-Muller transform in float with fast_log and fast_cos2pi, over whole
 * rows without a branch, so that it vectorises) share this body. */
static inline fs_status match_sharpness_at(const fs_exec *ex, const fs_compose_ops *ops,
                                           float *render, ptrdiff_t rstride, const float *target,
                                           ptrdiff_t tstride, const float *mask, int w, int h,
                                           int ox, int oy, uint64_t seed, fs_detail_match *out,
                                           int fast)
{
    fs_error_buf *const err = FS_EXEC_ERR(ex);
    fs_status st = fs_compose_check_size(err, w, h);
    if (st != FS_OK)
        return st;
    if (!ops || !render || !target || !mask || rstride < 3 * (ptrdiff_t)w ||
        tstride < 3 * (ptrdiff_t)w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_colour_match_sharpness: bad arguments");
    const size_t n = (size_t)w * h;
    float *buf = fs_tmp_alloc(sizeof(float) * n * 10); /* 6 planes + masked_blur_in's 4 */
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
        er = hp_measure_lp(&m, yr, yb); /* yb: the sharpening's sigma-1 low-pass */
        st = m.st;
    }
    /* A render at least as grainy as the target may still be sharper than
     * it: the band ratio's blur. (Softer at the finest scale, it is
     * sharpened below whatever the ratio says.) */
    double band_sigma = 0.0;
    if (st == FS_OK && er >= et * 0.95) {
        band_meter bm;
        st = band_open(ex, &bm, ops, yt, yr, mask, w, h);
        if (st == FS_OK)
            band_sigma = band_blur(&bm, &st);
        band_close(&bm);
    }
    if (st == FS_OK && (band_sigma > 0.0 || er > et * 1.05)) {
        const double sigma_e =
            er > et * 1.05 ? energy_blur(ex, ops, &m, yr, mask, w, h, er, et, yb, buf + 6 * n, &st)
                           : 0.0;
        const int band = band_sigma > sigma_e;
        sigma = band ? band_sigma : sigma_e;
        if (st == FS_OK)
            st = blur_render(ex, ops, render, rstride, mask, w, h, sigma, ch, lo, buf + 6 * n);
        /* The band's blur takes the render's grain below the target's (a
         * soft frame still has its sensor's and its JPEG's): noise brings
         * it back, else the face reads as smoother than the skin around
         * it. */
        if (st == FS_OK && band) {
            luminance(render, rstride, w, h, yb);
            const double e = hp_measure(&m, yb);
            st = m.st;
            if (st == FS_OK && e < et * 0.95)
                noise = fill_noise(&m, render, rstride, yb, e, et, seed, ox, oy, fast, ch, hi);
        }
    } else if (st == FS_OK && er < et * 0.95) {
        /* A render softer than the target (a small source photo enlarged)
         * first gets its own edges back: clamped unsharp masking, the amount
         * bisected on [0, FS_DETAIL_MAX_SHARPEN] (the clamp keeps the
         * energy monotone in it, not quadratic). Noise is left for what
         * sharpening cannot reach: added alone it reads as speckle. */
        double e = er;
        if (er > 1e-12) {
            /* yb holds masked_blur(yr, sigma 1) from measuring er. */
            {
                local_range(yr, mask, w, h, lo, hi, ch);
                double a = 0.0, b = FS_DETAIL_MAX_SHARPEN, ea = er;
                sharpen_clamped(yr, yb, lo, hi, mask, n, b, ch);
                const double eb = hp_measure(&m, ch);
                int ready = 0; /* ch holds the sharpening by a */
                if (eb <= et) {
                    a = b;
                    ea = eb;
                    ready = 1;
                } else {
                    /* Regula falsi with the Illinois rule: the energy is
                     * nearly quadratic in the amount, and 2 or 3 measures
                     * land within 1% of the target where 6 halvings took 6
                     * (on a video frame each is a full pass and a blur).
                     * The bracket keeps a below the target, b above; at the
                     * end the amount is a, or the last measure if it came
                     * within 1%. */
                    falsi r = {a, ea - et, b, eb - et, 0};
                    for (int it = 0; it < 6; it++) {
                        const double x = falsi_point(&r);
                        sharpen_clamped(yr, yb, lo, hi, mask, n, x, ch);
                        const double ex_ = hp_measure(&m, ch), fx = ex_ - et;
                        if (fabs(fx) <= 0.01 * et) {
                            r.a = x;
                            ea = ex_;
                            ready = 1;
                            break;
                        }
                        if (falsi_take(&r, x, fx) < 0)
                            ea = ex_;
                    }
                    a = r.a;
                }
                amount = a;
                e = ea;
                if (a > 0.0) {
                    if (!ready)
                        sharpen_clamped(yr, yb, lo, hi, mask, n, a, ch);
                    add_masked(render, rstride, mask, w, h, ch, yr);
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
            noise_plane(seed, ox, oy, mask, w, h, noise, fast, ch);
            add_masked(render, rstride, mask, w, h, ch, NULL);
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

/* The detail stage over the mask's bounding box only: every measure and
 * change it makes is a masked one, and outside the mask the masked blurs
 * add zeros, the 3x3 ranges see +inf and nothing is written, so the box
 * gives the very same bits at a fraction of a window's cost (the window's
 * margin around the face is about half of it). (ox, oy): the box's corner,
 * which keeps the noise tied to the window's pixels. */
static fs_status match_sharpness(const fs_exec *ex, const fs_compose_ops *ops, float *render,
                                 ptrdiff_t rstride, const float *target, ptrdiff_t tstride,
                                 const float *mask, int w, int h, uint64_t seed,
                                 fs_detail_match *out, int fast)
{
    int x0 = w, x1 = -1, y0 = h, y1 = -1;
    if (render && target && mask && w > 0 && h > 0 && rstride >= 3 * (ptrdiff_t)w &&
        tstride >= 3 * (ptrdiff_t)w && fs_compose_check_size(NULL, w, h) == FS_OK)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (mask[(size_t)y * w + x] > 0.0f) {
                    x0 = x < x0 ? x : x0;
                    x1 = x > x1 ? x : x1;
                    y0 = y < y0 ? y : y0;
                    y1 = y > y1 ? y : y1;
                }
    const int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
    if (x1 < 0 || (bw == w && bh == h)) /* empty (its error), whole, or bad arguments */
        return match_sharpness_at(ex, ops, render, rstride, target, tstride, mask, w, h, 0, 0,
                                  seed, out, fast);
    float *m = fs_tmp_alloc(sizeof(float) * (size_t)bw * (size_t)bh);
    if (!m)
        return fs_fail(FS_EXEC_ERR(ex), FS_ERR_OUT_OF_MEMORY,
                       "fs_colour_match_sharpness: out of memory");
    for (int y = 0; y < bh; y++)
        memcpy(m + (size_t)y * bw, mask + (size_t)(y0 + y) * w + x0, sizeof(float) * (size_t)bw);
    const fs_status st = match_sharpness_at(ex, ops, render + (size_t)y0 * rstride + 3 * (size_t)x0,
                                            rstride, target + (size_t)y0 * tstride + 3 * (size_t)x0,
                                            tstride, m, bw, bh, x0, y0, seed, out, fast);
    fs_tmp_free(m);
    return st;
}

fs_status fs_colour_match_sharpness(const fs_exec *ex, const fs_compose_ops *ops, float *render,
                                    ptrdiff_t rstride, const float *target, ptrdiff_t tstride,
                                    const float *mask, int w, int h, uint64_t seed,
                                    fs_detail_match *out)
{
    return match_sharpness(ex, ops, render, rstride, target, tstride, mask, w, h, seed, out, 0);
}

fs_status fs_colour_match_sharpness_fast(const fs_exec *ex, const fs_compose_ops *ops,
                                         float *render, ptrdiff_t rstride, const float *target,
                                         ptrdiff_t tstride, const float *mask, int w, int h,
                                         uint64_t seed, fs_detail_match *out)
{
    return match_sharpness(ex, ops, render, rstride, target, tstride, mask, w, h, seed, out, 1);
}
