/*
 * The bilinear samplers of the sampling family against hand-computed cases and
 * against TensorFlow.js (wasm backend): small generated cases
 * (golden/sample_cases.h) and the model inputs the reference harness
 * recorded for real images (golden/<image>.txt tensors).
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "golden/sample_cases.h"
#include "internal.h"
#include "engine.h"
#include "sample/sample.h"

static fs_sample_desc desc_for(const sample_case *c)
{
    fs_sample_desc d;
    if (c->crop)
        fs_sample_desc_crop(&d, c->in_w, c->in_h, c->box[0], c->box[1], c->box[2], c->box[3],
                            c->out_w, c->out_h);
    else
        fs_sample_desc_resize(&d, c->in_w, c->in_h, c->out_w, c->out_h);
    d.flip_x = c->flip;
    return d;
}

/* Packs an RGB float image of whole numbers into an 8-bit image of any
 * format, with `pad` spare bytes per row; alpha / pad bytes are noise. */
static uint8_t *to_format(const float *rgb, int w, int h, int format, int pad, int *stride)
{
    const int nc = fs_pixel_format_channels((fs_pixel_format)format);
    *stride = w * nc + pad;
    uint8_t *const p = malloc((size_t)*stride * (size_t)h);
    ck_assert_ptr_nonnull(p);
    for (int i = 0; i < *stride * h; i++)
        p[i] = (uint8_t)(i * 151 + 7);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            const float *s = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;
            uint8_t *t = p + (size_t)y * (size_t)*stride + (size_t)x * (size_t)nc;
            switch (format) {
            case FS_PIXEL_RGB8:
            case FS_PIXEL_RGBA8:
                t[0] = (uint8_t)s[0]; t[1] = (uint8_t)s[1]; t[2] = (uint8_t)s[2];
                break;
            case FS_PIXEL_BGR8:
            case FS_PIXEL_BGRA8:
                t[0] = (uint8_t)s[2]; t[1] = (uint8_t)s[1]; t[2] = (uint8_t)s[0];
                break;
            default:
                t[0] = (uint8_t)s[0];
                break;
            }
        }
    }
    return p;
}

static void assert_exact(const float *got, const float *want, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "%s: element %zu: got %.9g, want %.9g", what, i,
                      (double)got[i], (double)want[i]);
}

static void assert_close(const float *got, const float *want, size_t n, double tol, const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs((double)got[i] - (double)want[i]) <= tol,
                      "%s: element %zu: got %.9g, want %.9g (tolerance %g)", what, i,
                      (double)got[i], (double)want[i], tol);
}

/* tfjs wasm resizeBilinear / cropAndResize (+ flipLeftRight): bit for bit. */
START_TEST(tfjs_cases_exact)
{
    const sample_case *c = &sample_cases[_i];
    const size_t n = (size_t)c->out_w * (size_t)c->out_h * 3;
    float *const got = malloc(n * sizeof(float));
    ck_assert_ptr_nonnull(got);
    const fs_sample_desc d = desc_for(c);
    FS_ASSERT_OK(fs_sample_f32_ref(FS_EXEC_SERIAL(NULL), c->input, c->in_w, c->in_h, &d, got));
    assert_exact(got, c->expect, n, c->name);

    /* The harness's normalisation, done as tfjs does it (a division) on the
     * raw sample, is exact too; done by the sampler's scale it is within
     * an ulp or two. */
    float *const norm = malloc(n * sizeof(float));
    ck_assert_ptr_nonnull(norm);
    for (size_t i = 0; i < n; i++)
        norm[i] = c->crop ? got[i] / 255.0f : got[i] / 127.5f - 1.0f;
    assert_exact(norm, c->expect_norm, n, c->name);
    fs_sample_desc ds = d;
    ds.scale = c->crop ? 1.0f / 255.0f : 1.0f / 127.5f;
    ds.offset = c->crop ? 0.0f : -1.0f;
    FS_ASSERT_OK(fs_sample_f32_ref(FS_EXEC_SERIAL(NULL), c->input, c->in_w, c->in_h, &ds, norm));
    assert_close(norm, c->expect_norm, n, 1e-6, c->name);

    if (c->integer) {
        static const int formats[] = {FS_PIXEL_RGB8, FS_PIXEL_RGBA8, FS_PIXEL_BGR8, FS_PIXEL_BGRA8};
        for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
            for (int pad = 0; pad <= 5; pad += 5) {
                int stride;
                uint8_t *const img = to_format(c->input, c->in_w, c->in_h, formats[f], pad, &stride);
                memset(got, 0, n * sizeof(float));
                FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), img, c->in_w, c->in_h, stride, formats[f], &d, got));
                assert_exact(got, c->expect, n, c->name);
                free(img);
            }
        }
    }
    free(norm);
    free(got);
}
END_TEST

/* The context's table (reference, or reference + fast overrides) agrees
 * with the reference: the fast entries are bit-identical (tolerance 0). */
START_TEST(context_table_agrees)
{
    for (int force = 0; force <= 1; force++) {
        fs_context *ctx = NULL;
        FS_ASSERT_OK(fs_context_create(&ctx));
        FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_FORCE_REFERENCE, force));
        const fs_sample_ops *ops = &fs_context_engine(ctx)->sample;
        ck_assert(ops->u8 != NULL);
        ck_assert(ops->f32 != NULL);
        ck_assert(ops->u8 == (force ? fs_sample_u8_ref : fs_sample_u8_fast));
        ck_assert(ops->f32 == (force ? fs_sample_f32_ref : fs_sample_f32_fast));
        for (size_t k = 0; k < sizeof(sample_cases) / sizeof(sample_cases[0]); k++) {
            const sample_case *c = &sample_cases[k];
            const size_t n = (size_t)c->out_w * (size_t)c->out_h * 3;
            float got[4096];
            ck_assert(n <= 4096);
            const fs_sample_desc d = desc_for(c);
            FS_ASSERT_OK(ops->f32(FS_EXEC_SERIAL(NULL), c->input, c->in_w, c->in_h, &d, got));
            assert_exact(got, c->expect, n, c->name);
            if (c->integer) {
                int stride;
                uint8_t *const img = to_format(c->input, c->in_w, c->in_h, FS_PIXEL_RGB8, 3, &stride);
                FS_ASSERT_OK(ops->u8(FS_EXEC_SERIAL(NULL), img, c->in_w, c->in_h, stride, FS_PIXEL_RGB8, &d, got));
                assert_exact(got, c->expect, n, c->name);
                free(img);
            }
        }
        fs_context_destroy(ctx);
    }
}
END_TEST

static unsigned next_random(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 8) & 0xffffff;
}

/* The fast entries (lib/sample/sample_fast.c) against the reference on random
 * images and descriptors: stated tolerance 0, they are bit-identical. */
START_TEST(fast_matches_reference)
{
    unsigned seed = 2024;
#define RND() next_random(&seed)
#define UNIT() ((float)next_random(&seed) / 16777216.0f)
    for (int round = 0; round < 300; round++) {
        const int w = 1 + (int)(RND() % 90), h = 1 + (int)(RND() % 70);
        const int ow = 1 + (int)(RND() % (round % 10 == 0 ? 700 : 60));
        const int oh = 1 + (int)(RND() % 50);
        const int formats[] = {FS_PIXEL_RGB8, FS_PIXEL_RGBA8, FS_PIXEL_BGR8, FS_PIXEL_BGRA8, FS_PIXEL_GRAY8};
        const int format = formats[round % 5];
        const int nc = fs_pixel_format_channels((fs_pixel_format)format);
        const int stride = w * nc + (int)(RND() % 4);
        uint8_t *const u8 = malloc((size_t)stride * (size_t)h);
        float *const f32 = malloc((size_t)w * (size_t)h * 3 * sizeof(float));
        float *const a = malloc((size_t)ow * (size_t)oh * 3 * sizeof(float));
        float *const b = malloc((size_t)ow * (size_t)oh * 3 * sizeof(float));
        ck_assert(u8 && f32 && a && b);
        for (int i = 0; i < stride * h; i++)
            u8[i] = (uint8_t)RND();
        for (int i = 0; i < w * h * 3; i++)
            f32[i] = UNIT() * 3.0f - 1.0f;
        fs_sample_desc d;
        if (round % 3 == 0) {
            fs_sample_desc_resize(&d, w, h, ow, oh);
        } else {
            const float y1 = UNIT() * 1.6f - 0.3f;
            const float x1 = UNIT() * 1.6f - 0.3f;
            const float y2 = y1 + UNIT() * 1.5f - 0.4f;
            const float x2 = x1 + UNIT() - 0.2f;
            fs_sample_desc_crop(&d, w, h, y1, x1, y2, x2, ow, oh);
        }
        if (round % 4 == 1)
            d.border = d.border == FS_BORDER_ZERO ? FS_BORDER_CLAMP : FS_BORDER_ZERO;
        d.flip_x = (round / 2) % 2;
        if (round % 5 == 2) {
            d.scale = 1.0f / 127.5f;
            d.offset = -1.0f;
        }
        const size_t n = (size_t)ow * (size_t)oh * 3;
        FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), u8, w, h, stride, format, &d, a));
        FS_ASSERT_OK(fs_sample_u8_fast(FS_EXEC_SERIAL(NULL), u8, w, h, stride, format, &d, b));
        ck_assert_msg(memcmp(a, b, n * sizeof(float)) == 0, "u8 round %d differs", round);
        FS_ASSERT_OK(fs_sample_f32_ref(FS_EXEC_SERIAL(NULL), f32, w, h, &d, a));
        FS_ASSERT_OK(fs_sample_f32_fast(FS_EXEC_SERIAL(NULL), f32, w, h, &d, b));
        ck_assert_msg(memcmp(a, b, n * sizeof(float)) == 0, "f32 round %d differs", round);
        /* rotated (the fitter's crops turned by the face's roll, with
         * coordinates in double: their own loop in the fast file); every
         * fourth round a shear along one axis only */
        d.m[1] = (double)UNIT() - 0.5;
        d.m[3] = round % 4 == 3 ? 0.0 : (double)UNIT() - 0.5;
        FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), u8, w, h, stride, format, &d, a));
        FS_ASSERT_OK(fs_sample_u8_fast(FS_EXEC_SERIAL(NULL), u8, w, h, stride, format, &d, b));
        ck_assert_msg(memcmp(a, b, n * sizeof(float)) == 0, "rotated u8 round %d differs", round);
        FS_ASSERT_OK(fs_sample_f32_ref(FS_EXEC_SERIAL(NULL), f32, w, h, &d, a));
        FS_ASSERT_OK(fs_sample_f32_fast(FS_EXEC_SERIAL(NULL), f32, w, h, &d, b));
        ck_assert_msg(memcmp(a, b, n * sizeof(float)) == 0, "rotated f32 round %d differs", round);
        free(u8);
        free(f32);
        free(a);
        free(b);
    }
#undef RND
#undef UNIT
    /* and the tfjs cases */
    for (size_t k = 0; k < sizeof(sample_cases) / sizeof(sample_cases[0]); k++) {
        const sample_case *c = &sample_cases[k];
        float got[4096];
        const fs_sample_desc d = desc_for(c);
        FS_ASSERT_OK(fs_sample_f32_fast(FS_EXEC_SERIAL(NULL), c->input, c->in_w, c->in_h, &d, got));
        assert_exact(got, c->expect, (size_t)c->out_w * (size_t)c->out_h * 3, c->name);
    }
}
END_TEST

/* 2x2 gray source [0 100; 200 40], by hand. */
static const uint8_t gray2x2[4] = {0, 100, 200, 40};

START_TEST(clamp_by_hand)
{
    fs_sample_desc d;
    fs_sample_desc_resize(&d, 2, 2, 4, 4); /* step 0.5, the last column/row clamps */
    ck_assert(d.m[0] == 0.5 && d.m[4] == 0.5 && d.m[2] == 0.0 && d.m[5] == 0.0);
    ck_assert_int_eq(d.border, FS_BORDER_CLAMP);
    float out[4 * 4 * 3];
    FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), gray2x2, 2, 2, 2, FS_PIXEL_GRAY8, &d, out));
    static const float want[16] = {
        0, 50, 100, 100,
        100, 85, 70, 70,
        200, 120, 40, 40,
        200, 120, 40, 40,
    };
    for (int i = 0; i < 16; i++)
        for (int c = 0; c < 3; c++)
            ck_assert_msg(out[i * 3 + c] == want[i], "pixel %d: %g want %g", i, (double)out[i * 3 + c],
                          (double)want[i]);
    /* Coordinates below 0 clamp to the first pixel. */
    d.m[2] = -3.0;
    d.m[5] = -7.5;
    FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), gray2x2, 2, 2, 2, FS_PIXEL_GRAY8, &d, out));
    ck_assert(out[0] == 0.0f);
    /* scale and offset */
    fs_sample_desc_resize(&d, 2, 2, 4, 4);
    d.scale = 0.5f;
    d.offset = 3.0f;
    FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), gray2x2, 2, 2, 2, FS_PIXEL_GRAY8, &d, out));
    ck_assert(out[1 * 3] == 50 * 0.5f + 3.0f && out[5 * 3] == 85 * 0.5f + 3.0f);
}
END_TEST

START_TEST(zero_and_flip_by_hand)
{
    /* sx = x - 0.5, sy = y: x = 0 and x = 2 fall outside [0, 1]. */
    fs_sample_desc d = {.m = {1, 0, -0.5, 0, 1, 0}, .out_w = 3, .out_h = 2,
                        .border = FS_BORDER_ZERO, .scale = 1.0f, .offset = 0.0f};
    float out[3 * 2 * 3];
    FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), gray2x2, 2, 2, 2, FS_PIXEL_GRAY8, &d, out));
    static const float want[6] = {0, 50, 0, 0, 120, 0};
    for (int i = 0; i < 6; i++)
        ck_assert_msg(out[i * 3] == want[i], "pixel %d: %g want %g", i, (double)out[i * 3], (double)want[i]);
    /* The border value goes through scale and offset like any sample. */
    d.offset = -1.0f;
    d.scale = 2.0f;
    FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), gray2x2, 2, 2, 2, FS_PIXEL_GRAY8, &d, out));
    ck_assert(out[0] == -1.0f && out[3] == 99.0f);
    /* Edges are inside: exactly 0 and exactly size - 1. */
    fs_sample_desc e = {.m = {1, 0, 0, 0, 1, 0}, .out_w = 2, .out_h = 2,
                        .border = FS_BORDER_ZERO, .scale = 1.0f};
    FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), gray2x2, 2, 2, 2, FS_PIXEL_GRAY8, &e, out));
    for (int i = 0; i < 4; i++)
        ck_assert(out[i * 3] == gray2x2[i]);
    /* A row below the image is zero as a whole. */
    e.m[5] = 1.0;
    FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), gray2x2, 2, 2, 2, FS_PIXEL_GRAY8, &e, out));
    ck_assert(out[0] == 200.0f && out[3] == 40.0f && out[6] == 0.0f && out[9] == 0.0f);
    /* flip_x mirrors the output row. */
    d.offset = 0.0f;
    d.scale = 1.0f;
    d.m[2] = -0.25; /* sx = -0.25, 0.75, 1.75 */
    float plain[18], flipped[18];
    FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), gray2x2, 2, 2, 2, FS_PIXEL_GRAY8, &d, plain));
    d.flip_x = 1;
    FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), gray2x2, 2, 2, 2, FS_PIXEL_GRAY8, &d, flipped));
    ck_assert(plain[3] == 75.0f && plain[0] == 0.0f);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 3; x++)
            for (int c = 0; c < 3; c++)
                ck_assert(flipped[(y * 3 + x) * 3 + c] == plain[(y * 3 + (2 - x)) * 3 + c]);
}
END_TEST

/* A linear ramp v = 2x + 3y + 1 (per channel offset) is reproduced exactly
 * by bilinear interpolation at any point: check rotated descriptors. */
START_TEST(rotation)
{
    enum { W = 40, H = 30 };
    float src[H][W][3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++)
                src[y][x][c] = (float)(2 * x + 3 * y + 10 * c);
    for (int deg = 0; deg < 360; deg += 15) {
        const double a = deg * M_PI / 180.0, s = 1.3;
        /* out (x, y) -> rotate by a and scale by s around the centres */
        fs_sample_desc d = {.out_w = 24, .out_h = 20, .border = FS_BORDER_ZERO, .scale = 1.0f};
        const double co = cos(a) * s, si = sin(a) * s, cx = 11.5, cy = 9.5, sx0 = 19.5, sy0 = 14.5;
        d.m[0] = co; d.m[1] = -si; d.m[2] = sx0 - co * cx + si * cy;
        d.m[3] = si; d.m[4] = co;  d.m[5] = sy0 - si * cx - co * cy;
        for (int border = 0; border <= 1; border++) {
            d.border = border ? FS_BORDER_ZERO : FS_BORDER_CLAMP;
            for (int flip = 0; flip <= 1; flip++) {
                d.flip_x = flip;
                float out[20][24][3];
                FS_ASSERT_OK(fs_sample_f32_ref(FS_EXEC_SERIAL(NULL), &src[0][0][0], W, H, &d, &out[0][0][0]));
                for (int y = 0; y < d.out_h; y++) {
                    for (int x = 0; x < d.out_w; x++) {
                        const int xs = flip ? d.out_w - 1 - x : x;
                        double px = d.m[0] * xs + d.m[1] * y + d.m[2];
                        double py = d.m[3] * xs + d.m[4] * y + d.m[5];
                        const int inside = px >= 0 && px <= W - 1 && py >= 0 && py <= H - 1;
                        if (!inside && border) {
                            for (int c = 0; c < 3; c++)
                                ck_assert(out[y][x][c] == 0.0f);
                            continue;
                        }
                        px = fmin(fmax(px, 0), W - 1);
                        py = fmin(fmax(py, 0), H - 1);
                        for (int c = 0; c < 3; c++)
                            ck_assert_msg(fabs(out[y][x][c] - (2 * px + 3 * py + 10 * c)) < 1e-3,
                                          "deg %d border %d (%d,%d): %g want %g", deg, border, x, y,
                                          (double)out[y][x][c], 2 * px + 3 * py + 10 * c);
                    }
                }
            }
        }
    }
    /* Exact 90-degree turn: out(x, y) = src(y, H-1-x). */
    fs_sample_desc q = {.m = {0, 1, 0, -1, 0, H - 1}, .out_w = H, .out_h = W,
                        .border = FS_BORDER_ZERO, .scale = 1.0f};
    static float out90[W][H][3];
    FS_ASSERT_OK(fs_sample_f32_ref(FS_EXEC_SERIAL(NULL), &src[0][0][0], W, H, &q, &out90[0][0][0]));
    for (int y = 0; y < W; y++)
        for (int x = 0; x < H; x++)
            for (int c = 0; c < 3; c++)
                ck_assert(out90[y][x][c] == src[H - 1 - x][y][c]);
    /* Rotated: a point 1e-9 left of the image is outside for ZERO and
     * clamps for CLAMP. */
    q.m[2] = -1e-9;
    FS_ASSERT_OK(fs_sample_f32_ref(FS_EXEC_SERIAL(NULL), &src[0][0][0], W, H, &q, &out90[0][0][0]));
    ck_assert(out90[0][0][0] == 0.0f);
    q.border = FS_BORDER_CLAMP;
    FS_ASSERT_OK(fs_sample_f32_ref(FS_EXEC_SERIAL(NULL), &src[0][0][0], W, H, &q, &out90[0][0][0]));
    ck_assert(out90[0][0][1] == src[H - 1][0][1]);
}
END_TEST

/* Every pixel format reads as RGB, random images and descriptors. */
START_TEST(formats_agree)
{
    enum { W = 23, H = 17 };
    float rgb[H * W * 3], gray_rgb[H * W * 3];
    unsigned seed = 99;
    for (int i = 0; i < H * W * 3; i++) {
        seed = seed * 1103515245u + 12345u;
        rgb[i] = (float)((seed >> 16) & 255);
    }
    for (int i = 0; i < H * W; i++)
        gray_rgb[i * 3] = gray_rgb[i * 3 + 1] = gray_rgb[i * 3 + 2] = rgb[i * 3];
    fs_sample_desc descs[4];
    fs_sample_desc_resize(&descs[0], W, H, 9, 31);
    fs_sample_desc_crop(&descs[1], W, H, -0.3f, 0.2f, 0.8f, 1.1f, 12, 13);
    descs[2] = descs[1];
    descs[2].flip_x = 1;
    descs[2].scale = 1.0f / 255.0f;
    descs[3] = (fs_sample_desc){.m = {0.8, 0.3, -2, -0.3, 0.8, 4}, .out_w = 15, .out_h = 15,
                                .border = FS_BORDER_ZERO, .scale = 1.0f / 127.5f, .offset = -1.0f};
    static const int formats[] = {FS_PIXEL_RGB8, FS_PIXEL_RGBA8, FS_PIXEL_BGR8, FS_PIXEL_BGRA8,
                                  FS_PIXEL_GRAY8};
    for (int k = 0; k < 4; k++) {
        const fs_sample_desc *d = &descs[k];
        const size_t n = (size_t)d->out_w * (size_t)d->out_h * 3;
        float want[31 * 31 * 3], want_gray[31 * 31 * 3], got[31 * 31 * 3];
        FS_ASSERT_OK(fs_sample_f32_ref(FS_EXEC_SERIAL(NULL), rgb, W, H, d, want));
        FS_ASSERT_OK(fs_sample_f32_ref(FS_EXEC_SERIAL(NULL), gray_rgb, W, H, d, want_gray));
        for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
            for (int pad = 0; pad <= 7; pad += 7) {
                int stride;
                uint8_t *const img = to_format(rgb, W, H, formats[f], pad, &stride);
                FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), img, W, H, stride, formats[f], d, got));
                assert_exact(got, formats[f] == FS_PIXEL_GRAY8 ? want_gray : want, n, "format");
                free(img);
            }
        }
    }
}
END_TEST

START_TEST(degenerate_inputs)
{
    float out[4 * 3];
    for (int i = 0; i < 12; i++)
        out[i] = 42.0f;
    fs_sample_desc d;
    fs_sample_desc_resize(&d, 2, 2, 0, 0);
    FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), gray2x2, 2, 2, 2, FS_PIXEL_GRAY8, &d, out)); /* nothing to write */
    ck_assert(out[0] == 42.0f);
    fs_sample_desc_resize(&d, 2, 2, 2, 2);
    d.offset = 5.0f;
    FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), gray2x2, 2, 2, 2, 99, &d, out)); /* unknown format: border value */
    ck_assert(out[0] == 5.0f && out[11] == 5.0f);
    FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), gray2x2, 2, 2, 1, FS_PIXEL_GRAY8, &d, out)); /* stride too small */
    ck_assert(out[0] == 5.0f);
    FS_ASSERT_OK(fs_sample_f32_ref(FS_EXEC_SERIAL(NULL), NULL, 2, 2, &d, out));
    ck_assert(out[0] == 5.0f);
    /* NaN and huge coordinates: clamp / zero, never a wild read. */
    fs_sample_desc z = {.m = {NAN, 0, 0, 0, 1e30, -1e30}, .out_w = 2, .out_h = 2,
                        .border = FS_BORDER_ZERO, .scale = 1.0f};
    FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), gray2x2, 2, 2, 2, FS_PIXEL_GRAY8, &z, out));
    for (int i = 0; i < 12; i++)
        ck_assert(out[i] == 0.0f);
    z.border = FS_BORDER_CLAMP;
    FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), gray2x2, 2, 2, 2, FS_PIXEL_GRAY8, &z, out));
    for (int i = 0; i < 12; i++)
        ck_assert(isfinite(out[i]));
    z.m[1] = 1e300; /* rotated path, double overflow to inf */
    z.m[3] = INFINITY;
    z.border = FS_BORDER_ZERO;
    FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), gray2x2, 2, 2, 2, FS_PIXEL_GRAY8, &z, out));
    z.border = FS_BORDER_CLAMP;
    FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), gray2x2, 2, 2, 2, FS_PIXEL_GRAY8, &z, out));
    for (int i = 0; i < 12; i++)
        ck_assert(isfinite(out[i]));
}
END_TEST

/* ---- the model inputs the harness recorded for real images ---- */

typedef struct golden_tensor {
    long total, stride, n;
    float *v;
} golden_tensor;

typedef struct golden_file {
    char *text;
} golden_file;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *t = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(fread(t, 1, (size_t)n, f), (size_t)n);
    t[n] = '\0';
    fclose(f);
    return t;
}

/* "tensor <name> total stride n" then a line of n values. */
static golden_tensor find_tensor(const char *text, const char *name)
{
    golden_tensor g = {0};
    char key[128];
    snprintf(key, sizeof(key), "\ntensor %s ", name);
    const char *p = strstr(text, key);
    ck_assert_msg(p != NULL, "golden tensor %s not found", name);
    p += strlen(key);
    char *end;
    g.total = strtol(p, &end, 10);
    g.stride = strtol(end, &end, 10);
    g.n = strtol(end, &end, 10);
    ck_assert(g.n > 0 && g.stride > 0);
    g.v = malloc((size_t)g.n * sizeof(float));
    ck_assert_ptr_nonnull(g.v);
    for (long i = 0; i < g.n; i++) {
        g.v[i] = strtof(end, &end);
    }
    return g;
}

/* Compares samples [0], [stride], ... of a full tensor; tfjs' "/ 127.5 - 1"
 * or "/ 255" is applied here as a division, so equality is exact. */
static void compare_tensor(const golden_tensor *g, const float *raw, long total, int detector,
                           const char *what)
{
    ck_assert_int_eq(g->total, total);
    long k = 0;
    for (long i = 0; i < total && k < g->n; i += g->stride, k++) {
        const float v = detector ? raw[i] / 127.5f - 1.0f : raw[i] / 255.0f;
        ck_assert_msg(v == g->v[k], "%s: element %ld: got %.9g, want %.9g", what, i, (double)v,
                      (double)g->v[k]);
    }
    ck_assert_int_eq(k, g->n);
}

static void check_image(const char *golden, const char *image_file)
{
    const char *const gpath = fs_test_golden_path(golden);
    char *const text = slurp(gpath);
    ck_assert_msg(text != NULL, "cannot read %s", gpath);
    const char *const ipath = fs_test_data_path(image_file);
    ck_assert_msg(fs_test_file_exists(ipath), "%s missing: run scripts/fetch-data.sh", ipath);
    fs_context *ctx = NULL;
    FS_ASSERT_OK(fs_context_create(&ctx));
    fs_image im;
    fs_test_load_path(ctx, ipath, &im); /* JPEGs through stb, as the reference saw them */
    const int W = im.width, H = im.height;

    /* detector input: resizeBilinear to 256 x 256, / 127.5 - 1 */
    float *const det = malloc(256 * 256 * 3 * sizeof(float));
    ck_assert_ptr_nonnull(det);
    fs_sample_desc d;
    fs_sample_desc_resize(&d, W, H, 256, 256);
    FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), im.data, W, H, im.stride, im.format, &d, det));
    golden_tensor g = find_tensor(text, "detector_input");
    compare_tensor(&g, det, 256 * 256 * 3, 1, golden);
    free(g.v);
    free(det);

    /* mesh inputs: cropAndResize of each "cropbox x1 y1 x2 y2" to 192 x 192, / 255;
     * the first face's iris inputs: crops of that, flipped. */
    float *const mesh = malloc(192 * 192 * 3 * sizeof(float));
    ck_assert_ptr_nonnull(mesh);
    const char *p = text;
    for (int face = 0; (p = strstr(p, "\ncropbox ")) != NULL; face++) {
        p += 9;
        int x1, y1, x2, y2;
        ck_assert_int_eq(sscanf(p, "%d %d %d %d", &x1, &y1, &x2, &y2), 4);
        /* As golden.js: box / [H, W] in double, stored as float32. */
        fs_sample_desc_crop(&d, W, H, (float)((double)y1 / H), (float)((double)x1 / W),
                            (float)((double)y2 / H), (float)((double)x2 / W), 192, 192);
        FS_ASSERT_OK(fs_sample_u8_ref(FS_EXEC_SERIAL(NULL), im.data, W, H, im.stride, im.format, &d, mesh));
        char name[64];
        snprintf(name, sizeof(name), "face%d_mesh_input", face);
        g = find_tensor(text, name);
        compare_tensor(&g, mesh, 192 * 192 * 3, 0, name);
        free(g.v);
        if (face != 0)
            continue;
        const char *eyes = strstr(text, "eye boxes (192-px crop units) left [");
        ck_assert(eyes != NULL);
        int e[8];
        ck_assert_int_eq(sscanf(eyes, "eye boxes (192-px crop units) left [%d, %d, %d, %d] right [%d, %d, %d, %d]",
                                &e[0], &e[1], &e[2], &e[3], &e[4], &e[5], &e[6], &e[7]), 8);
        float *const face_t = malloc(192 * 192 * 3 * sizeof(float));
        float *const iris = malloc(2 * 64 * 64 * 3 * sizeof(float));
        ck_assert(face_t && iris);
        for (int i = 0; i < 192 * 192 * 3; i++)
            face_t[i] = mesh[i] / 255.0f; /* the harness's faceT */
        for (int k = 0; k < 2; k++) {
            const int *b = e + 4 * k; /* x1 y1 x2 y2 */
            fs_sample_desc_crop(&d, 192, 192, (float)(b[1] / 192.0), (float)(b[0] / 192.0),
                                (float)(b[3] / 192.0), (float)(b[2] / 192.0), 64, 64);
            d.flip_x = 1;
            FS_ASSERT_OK(fs_sample_f32_ref(FS_EXEC_SERIAL(NULL), face_t, 192, 192, &d, iris + (size_t)k * 64 * 64 * 3));
        }
        g = find_tensor(text, "face0_iris_input");
        ck_assert_int_eq(g.total, 2 * 64 * 64 * 3);
        long k = 0;
        for (long i = 0; i < g.total; i += g.stride, k++)
            ck_assert_msg(iris[i] == g.v[k], "iris element %ld: got %.9g, want %.9g", i,
                          (double)iris[i], (double)g.v[k]);
        free(g.v);
        free(face_t);
        free(iris);
    }
    free(mesh);
    fs_image_free(&im);
    fs_context_destroy(ctx);
    free(text);
}

START_TEST(harness_inputs_astronaut)
{
    check_image("astronaut.txt", "astronaut.png");
}
END_TEST

START_TEST(harness_inputs_messi5)
{
    /* face 1 of messi5 has its crop box 51 px above the image. */
    check_image("messi5.txt", "messi5.jpg");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sample");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, tfjs_cases_exact, 0, (int)(sizeof(sample_cases) / sizeof(sample_cases[0])));
    tcase_add_test(tc, context_table_agrees);
    tcase_add_test(tc, fast_matches_reference);
    tcase_add_test(tc, clamp_by_hand);
    tcase_add_test(tc, zero_and_flip_by_hand);
    tcase_add_test(tc, rotation);
    tcase_add_test(tc, formats_agree);
    tcase_add_test(tc, degenerate_inputs);
    tcase_add_test(tc, harness_inputs_astronaut);
    tcase_add_test(tc, harness_inputs_messi5);
    suite_add_tcase(s, tc);
    return fs_test_run_suite(s);
}
