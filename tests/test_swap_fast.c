/*
 * The per-frame swap stage's fast entries against their references (issue 9,
 * item 7): the float CIELAB conversions, the colour match to measured
 * statistics, the detail stage's noise, the swap's texture lookup, the
 * erosion and feather by a small radius, and the whole swap on a real pair.
 *
 * Tolerances:
 * - CIELAB: sRGB -> Lab within 2e-4 in L, a and b of the exact (double)
 *   formulas for inputs in [-0.1, 2.2] (a relit render runs past 1); Lab -> sRGB within 1e-5 (2.6e-3 of
 *   an 8-bit level; the worst is a dark channel of a bright colour, where the
 *   float matrix cancels and the curve's slope is 12.92) for outputs in
 *   [-1, 1] from colours up to white, 1e-5 relative to the larger of the
 *   output and the colour's largest of X, Y, Z beyond.
 * - colour match: within 1e-4 (0.03 of a level) per channel; the Lab
 *   statistics alone within 2e-4 (mean) and 4e-4 (deviation).
 * - detail: the same decision (sigma, amount, noise equal to 1e-9
 *   relative), pixels within 1e-5.
 * - erosion and feather: bit-identical to the full distance transform.
 * - lookup: render, target and warp identical; skin mask differing on at
 *   most 0.1% of the window (a hair guard's bound met within 2e-4 in Lab).
 * - the whole swap (default settings, astronaut.png onto faceapi_sample1.jpg
 *   and faceapi_sample3.jpg): |fast - reference| <= 1 on 99.9% of the
 *   window's bytes and <= 2 on all.
 * $FS_TEST_SEED picks the random seed.
 */
#include "testutil.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compose/colour.h"
#include "compose/mask.h"
#include "engine.h"
#include "swap/lookup.h"
#include "swap/swap.h"

static uint64_t rng_state;

static void rng_seed(void)
{
    const char *e = getenv("FS_TEST_SEED");
    rng_state = e ? strtoull(e, NULL, 10) : 4242u;
    if (!rng_state)
        rng_state = 1;
}

static double urand(void)
{
    rng_state ^= rng_state >> 12, rng_state ^= rng_state << 25, rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* ------------------------------------------------------------- CIELAB */

START_TEST(lab_fast_matches_exact)
{
    rng_seed();
    enum { N = 20000 };
    float *rgb = malloc(sizeof(float) * 3 * N), *a = malloc(sizeof(float) * 3 * N),
          *b = malloc(sizeof(float) * 3 * N);
    ck_assert(rgb && a && b);
    /* Edge cases first: the 8-bit values, both curves' joints, 0, 1, tiny,
     * slightly outside [0, 1]; then random colours. */
    static const float edge[] = {0.0f,     1.0f,    0.04045f, 0.040451f, 0.04044f, 1e-7f,
                                 1e-30f,   -0.05f,  1.05f,    0.5f,      0.999999f, 0.0031308f,
                                 0.00313f, -1e-6f,  1.1f,     -0.1f,     1.5f,      2.0f,
                                 2.05f};
    const int ne = (int)(sizeof(edge) / sizeof(edge[0]));
    for (int i = 0; i < N; i++)
        for (int c = 0; c < 3; c++) {
            float v;
            if (i < 256)
                v = (float)((i + 37 * c) % 256) * (1.0f / 255.0f);
            else if (i < 256 + ne * ne)
                v = edge[c == 0 ? (i - 256) % ne : c == 1 ? (i - 256) / ne : (i * 7) % ne];
            else if (i < 4096) /* in gamut and off black: the AVX2 loops' own groups */
                v = (float)(0.05 + 0.95 * urand());
            else
                v = (float)(i % 2 ? urand() * 1.2 - 0.1 : urand() * 2.3 - 0.1);
            rgb[3 * i + c] = v;
        }
    fs_colour_srgb_to_lab(rgb, a, N);
    fs_colour_srgb_to_lab_fast(rgb, b, N);
    /* The AVX2 loops (where the CPU has them) give the scalar's bits,
     * groups of eight with edge values among them included: tolerance 0. */
    float *sc = malloc(sizeof(float) * 3 * N);
    ck_assert(sc);
    fs_colour_srgb_to_lab_fast_scalar(rgb, sc, N);
    ck_assert(memcmp(b, sc, sizeof(float) * 3 * N) == 0);
    double worst = 0;
    for (int i = 0; i < 3 * N; i++) {
        const double d = fabs((double)a[i] - b[i]);
        worst = d > worst ? d : worst;
        ck_assert_msg(d <= 2e-4, "Lab %d of (%g %g %g): %.7g vs %.7g", i % 3, rgb[i / 3 * 3],
                      rgb[i / 3 * 3 + 1], rgb[i / 3 * 3 + 2], a[i], b[i]);
    }
    /* Back: Lab over and beyond the sRGB gamut. */
    for (int i = 0; i < N; i++) {
        if (i < N / 2) { /* the converted colours: back to rgb */
            for (int c = 0; c < 3; c++)
                rgb[3 * i + c] = a[3 * i + c];
        } else {
            rgb[3 * i] = (float)(urand() * 110.0 - 5.0);
            rgb[3 * i + 1] = (float)(urand() * 240.0 - 120.0);
            rgb[3 * i + 2] = (float)(urand() * 240.0 - 120.0);
        }
    }
    fs_colour_lab_to_srgb(rgb, a, N);
    fs_colour_lab_to_srgb_fast(rgb, b, N);
    fs_colour_lab_to_srgb_fast_scalar(rgb, sc, N);
    ck_assert(memcmp(b, sc, sizeof(float) * 3 * N) == 0);
    /* A NaN among a group of eight goes the scalar way and stays NaN. */
    {
        float g[3 * 9], q[3 * 9], e[3 * 9];
        for (int i = 0; i < 3 * 9; i++)
            g[i] = 0.3f + 0.01f * (float)i;
        g[13] = NAN;
        fs_colour_srgb_to_lab_fast(g, q, 9);
        fs_colour_srgb_to_lab_fast_scalar(g, e, 9);
        for (int i = 0; i < 3 * 9; i++)
            ck_assert(q[i] == e[i] || (q[i] != q[i] && e[i] != e[i]));
        ck_assert(q[13] != q[13]);
        for (int i = 0; i < 3 * 9; i++)
            g[i] = 40.0f + (float)i;
        g[13] = NAN;
        fs_colour_lab_to_srgb_fast(g, q, 9);
        fs_colour_lab_to_srgb_fast_scalar(g, e, 9);
        for (int i = 0; i < 3 * 9; i++)
            ck_assert(q[i] == e[i] || (q[i] != q[i] && e[i] != e[i]));
    }
    for (int i = 0; i < 3 * N; i++) {
        /* A dark channel of a colour beyond white comes from terms of the
         * colour's size that cancel: the error scales with X, Y and Z. */
        const float *lab = &rgb[i / 3 * 3];
        const double fy = (lab[0] + 16.0) / 116.0;
        const double xyz = fmax(fmax(fabs(pow(fy + lab[1] / 500.0, 3.0)), fabs(pow(fy, 3.0))),
                                fabs(pow(fy - lab[2] / 200.0, 3.0)));
        const double tol = 1e-5 * fmax(fmax(1.0, fabs(a[i])), xyz);
        ck_assert_msg(fabs((double)a[i] - b[i]) <= tol, "rgb %d of Lab (%g %g %g): %.8g vs %.8g",
                      i % 3, rgb[i / 3 * 3], rgb[i / 3 * 3 + 1], rgb[i / 3 * 3 + 2], a[i], b[i]);
    }
    /* In place, as the exact one allows. */
    memcpy(a, rgb, sizeof(float) * 3 * N);
    fs_colour_lab_to_srgb_fast(a, a, N);
    ck_assert(memcmp(a, b, sizeof(float) * 3 * N) == 0);
    fs_colour_srgb_to_lab_fast(rgb, b, 0); /* n = 0 touches nothing */
    free(rgb), free(a), free(b), free(sc);
}
END_TEST

/* A random window: smooth colour plus noise in [0, 1]. */
static void random_window(float *img, int w, int h, double noise)
{
    const double p0 = urand() * 6, p1 = urand() * 6;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                double v = 0.5 + 0.25 * sin(0.11 * x + p0 + c) * cos(0.07 * y + p1) +
                           noise * (urand() - 0.5);
                img[((size_t)y * w + x) * 3 + c] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
            }
}

START_TEST(match_to_fast_matches_reference)
{
    rng_seed();
    for (int trial = 0; trial < 12; trial++) {
        const int w = 1 + (int)(urand() * 90), h = 1 + (int)(urand() * 70);
        const size_t n = (size_t)w * h;
        float *img = malloc(sizeof(float) * 3 * n), *r1 = malloc(sizeof(float) * 3 * n),
              *r2 = malloc(sizeof(float) * 3 * n), *m = malloc(sizeof(float) * n);
        ck_assert(img && r1 && r2 && m);
        random_window(img, w, h, trial % 3 ? 0.1 : 0.0);
        for (size_t i = 0; i < n; i++) { /* binary, fractional, some zero */
            const double u = urand();
            m[i] = trial % 2 ? (u < 0.4 ? 0.0f : 1.0f) : (float)(u < 0.3 ? 0.0 : u);
        }
        m[0] = 1.0f; /* never empty */
        const double tm[3] = {40 + urand() * 40, urand() * 30 - 5, urand() * 40 - 5};
        const double ts[3] = {urand() * 20, trial == 5 ? 0.0 : urand() * 10, urand() * 10};
        /* both ways of moving the lightness, with either mask */
        const fs_colour_lightness lm = (trial / 2) % 2 ? FS_COLOUR_L_GAIN : FS_COLOUR_L_SHIFT;
        memcpy(r1, img, sizeof(float) * 3 * n);
        memcpy(r2, img, sizeof(float) * 3 * n);
        fs_error_buf e1, e2;
        FS_ASSERT_OK(fs_colour_match_lab_to(FS_EXEC_SERIAL(&e1), r1, 3 * (ptrdiff_t)w, m, w, h, tm, ts, lm));
        FS_ASSERT_OK(fs_colour_match_lab_to_fast(FS_EXEC_SERIAL(&e2), r2, 3 * (ptrdiff_t)w, m, w, h, tm, ts, lm));
        for (size_t i = 0; i < 3 * n; i++)
            ck_assert_msg(fabsf(r1[i] - r2[i]) <= 1e-4f, "trial %d px %zu: %.7g vs %.7g", trial,
                          i / 3, r1[i], r2[i]);
        /* The statistics alone (a target's, measured once per frame). */
        double sm1[3], ss1[3], sm2[3], ss2[3];
        FS_ASSERT_OK(fs_colour_lab_stats(FS_EXEC_SERIAL(&e1), img, 3 * (ptrdiff_t)w, m, w, h, sm1, ss1));
        FS_ASSERT_OK(fs_colour_lab_stats_fast(FS_EXEC_SERIAL(&e2), img, 3 * (ptrdiff_t)w, m, w, h, sm2, ss2));
        for (int c = 0; c < 3; c++) {
            ck_assert_msg(fabs(sm1[c] - sm2[c]) <= 2e-4, "trial %d mean %d: %.7g vs %.7g", trial, c,
                          sm1[c], sm2[c]);
            ck_assert_msg(fabs(ss1[c] - ss2[c]) <= 4e-4, "trial %d sd %d: %.7g vs %.7g", trial, c,
                          ss1[c], ss2[c]);
        }
        /* An empty mask and bad statistics fail as the reference does. */
        memset(m, 0, sizeof(float) * n);
        FS_ASSERT_STATUS(fs_colour_lab_stats_fast(FS_EXEC_SERIAL(&e2), img, 3 * (ptrdiff_t)w, m, w, h, sm2, ss2),
                         FS_ERR_OUT_OF_RANGE);
        FS_ASSERT_STATUS(fs_colour_match_lab_to(FS_EXEC_SERIAL(&e1), r1, 3 * (ptrdiff_t)w, m, w, h, tm, ts, lm),
                         FS_ERR_OUT_OF_RANGE);
        FS_ASSERT_STATUS(fs_colour_match_lab_to_fast(FS_EXEC_SERIAL(&e2), r2, 3 * (ptrdiff_t)w, m, w, h, tm, ts, lm),
                         FS_ERR_OUT_OF_RANGE);
        const double bad[3] = {NAN, 0, 0};
        FS_ASSERT_STATUS(fs_colour_match_lab_to_fast(FS_EXEC_SERIAL(&e2), r2, 3 * (ptrdiff_t)w, m, w, h, bad, ts, lm),
                         FS_ERR_INVALID_ARGUMENT);
        FS_ASSERT_STATUS(fs_colour_match_lab_to_fast(FS_EXEC_SERIAL(&e2), NULL, 3 * (ptrdiff_t)w, m, w, h, tm, ts, lm),
                         FS_ERR_INVALID_ARGUMENT);
        FS_ASSERT_STATUS(fs_colour_match_lab_to_fast(FS_EXEC_SERIAL(&e2), r2, 3 * (ptrdiff_t)w, m, 0, h, tm, ts, lm),
                         FS_ERR_INVALID_ARGUMENT);
        free(img), free(r1), free(r2), free(m);
    }
}
END_TEST

/* ------------------------------------------------------------- detail */

START_TEST(detail_fast_matches_reference)
{
    rng_seed();
    fs_compose_ops ops;
    fs_compose_ops_init_reference(&ops);
    /* Three kinds of render against the target: softer (sharpening and
     * noise), much softer and flat (noise alone), sharper (blur). */
    for (int kind = 0; kind < 3; kind++) {
        const int w = 60 + kind * 7, h = 53;
        const size_t n = (size_t)w * h;
        float *tgt = malloc(sizeof(float) * 3 * n), *r1 = malloc(sizeof(float) * 3 * n),
              *r2 = malloc(sizeof(float) * 3 * n), *m = malloc(sizeof(float) * n);
        ck_assert(tgt && r1 && r2 && m);
        random_window(tgt, w, h, kind == 2 ? 0.0 : 0.3);
        random_window(r1, w, h, kind == 2 ? 0.3 : kind == 0 ? 0.05 : 0.0);
        if (kind == 1)
            for (size_t i = 0; i < 3 * n; i++)
                r1[i] = 0.5f;
        memcpy(r2, r1, sizeof(float) * 3 * n);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) { /* an ellipse, soft at its rim */
                const double d = hypot((x - w / 2.0) / (w * 0.4), (y - h / 2.0) / (h * 0.4));
                m[(size_t)y * w + x] = (float)(d < 0.9 ? 1.0 : d < 1.0 ? (1.0 - d) * 10 : 0.0);
            }
        fs_detail_match d1, d2;
        FS_ASSERT_OK(fs_colour_match_sharpness(NULL, &ops, r1, 3 * w, tgt, 3 * w, m, w, h, 99, &d1));
        FS_ASSERT_OK(fs_colour_match_sharpness_fast(NULL, &ops, r2, 3 * w, tgt, 3 * w, m, w, h, 99, &d2));
        ck_assert(d1.blur_sigma == d2.blur_sigma && d1.sharpen == d2.sharpen);
        ck_assert(fabs(d1.noise - d2.noise) <= 1e-9 * d1.noise);
        if (kind < 2)
            ck_assert_msg(d1.noise > 0.01, "kind %d: no noise (%g)", kind, d1.noise);
        else
            ck_assert(d1.blur_sigma > 0);
        double worst = 0;
        for (size_t i = 0; i < 3 * n; i++) {
            const double e = fabs((double)r1[i] - r2[i]);
            worst = e > worst ? e : worst;
        }
        ck_assert_msg(worst <= 1e-5, "kind %d: %g", kind, worst);
        free(tgt), free(r1), free(r2), free(m);
    }
}
END_TEST

/* ------------------------------------------------------------- masks */

/* Erosion and feather by radii up to 20 (both sides of the small-radius
 * path's limit) equal what the full distance transform gives. */
START_TEST(mask_small_radius_exact)
{
    rng_seed();
    for (int trial = 0; trial < 40; trial++) {
        const int w = 1 + (int)(urand() * 80), h = 1 + (int)(urand() * 60);
        const ptrdiff_t stride = w + (trial % 3);
        const size_t n = (size_t)w * h;
        uint8_t *m = calloc((size_t)stride * h, 1), *e1 = malloc(n), *e2 = malloc(n);
        float *d2 = malloc(sizeof(float) * n), *a = malloc(sizeof(float) * n);
        ck_assert(m && e1 && e2 && d2 && a);
        /* Blobs, a full mask, an empty one. */
        const int kind = trial % 8;
        const double cx = urand() * w, cy = urand() * h, rr = 3 + urand() * 30;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                m[(size_t)y * stride + x] = kind == 6 ? 1 : kind == 7 ? 0 :
                    (hypot(x - cx, y - cy) < rr) ^ (urand() < 0.02);
        const int border = trial % 2;
        const double radius = trial < 4 ? (double)trial : urand() * 20.0;
        FS_ASSERT_OK(fs_mask_distance2(NULL, m, w, h, stride, border, d2));
        FS_ASSERT_OK(fs_mask_erode(NULL, m, w, h, stride, radius, border, e1, w));
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(e1[i] == ((double)d2[i] > radius * radius),
                          "trial %d r %.3f: erode differs at %zu", trial, radius, i);
        FS_ASSERT_OK(fs_mask_feather(NULL, m, w, h, stride, radius, border, a, w));
        for (size_t i = 0; i < n; i++) {
            const float q = d2[i];
            const float want = q <= 0.0f ? 0.0f : (radius <= 0.0 || q >= FS_MASK_FAR) ? 1.0f :
                               (float)fmin(1.0, sqrt((double)q) / radius);
            ck_assert_msg(a[i] == want, "trial %d r %.3f: feather %g vs %g at %zu", trial, radius,
                          a[i], want, i);
        }
        (void)e2;
        free(m), free(e1), free(e2), free(d2), free(a);
    }
}
END_TEST

/* ------------------------------------------------------------- the swap */

/* The fast lookup beside the reference on every call the swap makes. */
static long lookup_calls, lookup_skin_diff, lookup_pixels;

static fs_status both_lookups(const fs_exec *ex, const fs_swap_lookup *d, fs_swap_lookup_out *o)
{
    const size_t n = (size_t)d->w * (size_t)d->h;
    fs_swap_lookup_out r = *o;
    r.render = malloc(sizeof(float) * 3 * n);
    r.target = malloc(sizeof(float) * 3 * n);
    r.warp = malloc(sizeof(float) * 3 * n);
    r.skin = malloc(n);
    r.open = malloc(n);
    ck_assert(r.render && r.target && r.warp && r.skin && r.open);
    FS_ASSERT_OK(fs_swap_lookup_ref(ex, d, &r));
    const fs_status st = fs_swap_lookup_fast(ex, d, o);
    FS_ASSERT_OK(st);
    ck_assert(memcmp(r.render, o->render, sizeof(float) * 3 * n) == 0);
    ck_assert(memcmp(r.target, o->target, sizeof(float) * 3 * n) == 0);
    ck_assert(memcmp(r.warp, o->warp, sizeof(float) * 3 * n) == 0);
    ck_assert(memcmp(r.open, o->open, n) == 0);
    ck_assert_int_eq(r.covered, o->covered);
    ck_assert_int_eq(r.textured, o->textured);
    for (size_t i = 0; i < n; i++)
        lookup_skin_diff += r.skin[i] != o->skin[i];
    lookup_pixels += (long)n;
    lookup_calls++;
    free(r.render), free(r.target), free(r.warp), free(r.skin), free(r.open);
    return st;
}

static void swap_pair(const char *target_name)
{
    fs_context *ctx = fs_test_new_context();
    fs_detector *det = fs_test_new_detector(ctx);
    fs_fitter *fit = fs_test_new_fitter(ctx);
    fs_renderer *ren;
    fs_identity *id;
    FS_ASSERT_OK(fs_renderer_create(ctx, &ren));
    fs_image src, tgt;
    fs_test_load_rgb8(ctx, "astronaut.png", &src);
    FS_ASSERT_OK(fs_identity_create_from_image(ctx, &src, FS_IDENTITY_LARGEST_FACE, &id));
    fs_test_load_rgb8(ctx, target_name, &tgt);
    fs_face_box faces[16];
    fs_face_landmarks lm;
    int nf = 0, chosen = -1;
    FS_ASSERT_OK(fs_detector_run(det, &tgt, faces, 16, &nf));
    FS_ASSERT_OK(fs_swap_fit_face(fit, &tgt, faces, nf < 16 ? nf : 16, -1, &lm, &chosen));

    fs_engine ref, fast;
    fs_engine_init_reference(&ref);
    fs_engine_init_reference(&fast);
    fs_engine_init_fast(&fast);
    fast.swap.lookup = both_lookups;
    const fs_swap_mesh *mesh = fs_renderer_internal_mesh(ren);
    const fs_swap_params *p = fs_renderer_internal_params(ren);
    const fs_identity_data *idd = fs_identity_internal_data(id);
    fs_image a = fs_test_copy_image(&tgt, 3), b = fs_test_copy_image(&tgt, 3);
    fs_swap_info ia, ib;
    memset(&ia, 0, sizeof(ia));
    memset(&ib, 0, sizeof(ib));
    fs_error_buf err;
    const float(*pts)[3] = (const float(*)[3])lm.points;
    FS_ASSERT_OK(fs_swap_face_rgb8(&ref, FS_EXEC_SERIAL(&err), mesh, p, idd, &a, pts, &ia));
    lookup_calls = lookup_skin_diff = lookup_pixels = 0;
    FS_ASSERT_OK(fs_swap_face_rgb8(&fast, FS_EXEC_SERIAL(&err), mesh, p, idd, &b, pts, &ib));
    ck_assert_int_eq(lookup_calls, 1);
    ck_assert_msg(lookup_skin_diff * 1000 <= lookup_pixels, "%s: skin differs on %ld of %ld",
                  target_name, lookup_skin_diff, lookup_pixels);
    ck_assert_int_eq(ia.x0, ib.x0);
    ck_assert_int_eq(ia.w, ib.w);
    long bytes = 0, over1 = 0, changed = 0;
    int worst = 0;
    for (int y = 0; y < a.height; y++)
        for (int x = 0; x < 3 * a.width; x++) {
            const uint8_t *pa = (const uint8_t *)a.data + (size_t)y * (size_t)a.stride + (size_t)x;
            const uint8_t *pb = (const uint8_t *)b.data + (size_t)y * (size_t)b.stride + (size_t)x;
            const int d = abs((int)*pa - (int)*pb);
            const int in = x / 3 >= ia.x0 && x / 3 < ia.x0 + ia.w && y >= ia.y0 && y < ia.y0 + ia.h;
            if (!in) {
                ck_assert_int_eq(d, 0); /* outside the window: untouched by both */
                continue;
            }
            bytes++;
            changed += d > 0;
            over1 += d > 1;
            worst = d > worst ? d : worst;
        }
    ck_assert_msg(worst <= 2 && over1 * 1000 <= bytes, "%s: %ld of %ld bytes off by more than 1, worst %d",
                  target_name, over1, bytes, worst);
    /* Not a vacuous pass: the fast path ran and its results are close, not
     * identical by accident of an unused stage. */
    ck_assert_int_gt(ib.mask_pixels, 1000);
    free(a.data), free(b.data);
    fs_image_free(&src), fs_image_free(&tgt);
    fs_identity_destroy(id);
    fs_renderer_destroy(ren);
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
    (void)changed;
}

START_TEST(swap_fast_matches_reference)
{
    swap_pair("faceapi_sample1.jpg");
    swap_pair("faceapi_sample3.jpg");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("swap_fast");
    TCase *tc = tcase_create("swap_fast");
    tcase_add_test(tc, lab_fast_matches_exact);
    tcase_add_test(tc, match_to_fast_matches_reference);
    tcase_add_test(tc, detail_fast_matches_reference);
    tcase_add_test(tc, mask_small_radius_exact);
    tcase_add_test(tc, swap_fast_matches_reference);
    suite_add_tcase(s, tc);
    return fs_test_run_suite(s);
}
