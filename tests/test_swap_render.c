/*
 * The swap split for video (issue 9): fs_swap_target_prepare (the target
 * frame's side, once per template frame) and fs_swap_render (the user's
 * side, on the window only, with a workspace reused across calls), and the
 * scratch arena under them.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_count.h"
#include "compose/colour.h"
#include "scratch.h"
#include "engine.h"
#include "swap/swap.h"

/* ---------------------------------------------------------------- helpers */

typedef struct env {
    fs_context *ctx;
    fs_renderer *ren;
    fs_identity *id;
    fs_image tgt;
    fs_face_landmarks lm;
} env;

/* astronaut.png's face as the identity, faceapi_sample1.jpg's largest face
 * as the target. */
static void env_open(env *e)
{
    memset(e, 0, sizeof(*e));
    e->ctx = fs_test_new_context();
    fs_detector *det = fs_test_new_detector(e->ctx);
    fs_fitter *fit = fs_test_new_fitter(e->ctx);
    FS_ASSERT_OK(fs_renderer_create(e->ctx, &e->ren));
    fs_image src;
    fs_test_load_rgb8(e->ctx, "astronaut.png", &src);
    FS_ASSERT_OK(fs_identity_create_from_image(e->ctx, &src, FS_IDENTITY_LARGEST_FACE, &e->id));
    fs_image_free(&src);
    fs_test_load_rgb8(e->ctx, "faceapi_sample1.jpg", &e->tgt);
    fs_face_box faces[16];
    int n = 0, chosen = -1;
    FS_ASSERT_OK(fs_detector_run(det, &e->tgt, faces, 16, &n));
    FS_ASSERT_OK(fs_swap_fit_face(fit, &e->tgt, faces, n < 16 ? n : 16, -1, &e->lm, &chosen));
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
}

static void env_close(env *e)
{
    fs_image_free(&e->tgt);
    fs_identity_destroy(e->id);
    fs_renderer_destroy(e->ren);
    fs_context_destroy(e->ctx);
}

static const float (*pts(const env *e))[3]
{
    return (const float(*)[3])e->lm.points;
}

/* The window of @p t copied out of @p img into a buffer with a 7-byte
 * guard band after every row and 64 guard bytes after the last, all 0xA5. */
#define GUARD_ROW 7
#define GUARD_END 64
static uint8_t *window_copy(const fs_image *img, const fs_swap_target *t, ptrdiff_t *stride)
{
    *stride = 3 * (ptrdiff_t)t->w + GUARD_ROW;
    const size_t bytes = (size_t)*stride * (size_t)t->h + GUARD_END;
    uint8_t *buf = malloc(bytes);
    ck_assert_ptr_nonnull(buf);
    memset(buf, 0xA5, bytes);
    for (int y = 0; y < t->h; y++)
        memcpy(buf + (size_t)y * (size_t)*stride,
               (const uint8_t *)img->data + (size_t)(t->y0 + y) * (size_t)img->stride + (size_t)t->x0 * 3,
               (size_t)t->w * 3);
    return buf;
}

static void check_guards(const uint8_t *buf, const fs_swap_target *t, ptrdiff_t stride)
{
    for (int y = 0; y < t->h; y++)
        for (int k = 0; k < GUARD_ROW; k++)
            ck_assert_msg(buf[(size_t)y * (size_t)stride + (size_t)t->w * 3 + (size_t)k] == 0xA5,
                          "row %d: byte %d after the window written", y, k);
    for (int k = 0; k < GUARD_END; k++)
        ck_assert(buf[(size_t)stride * (size_t)t->h + (size_t)k] == 0xA5);
}

/* Window rows of @p buf equal to those of @p img at t's window. */
static int window_equal(const uint8_t *buf, ptrdiff_t stride, const fs_image *img,
                        const fs_swap_target *t)
{
    for (int y = 0; y < t->h; y++)
        if (memcmp(buf + (size_t)y * (size_t)stride,
                   (const uint8_t *)img->data + (size_t)(t->y0 + y) * (size_t)img->stride + (size_t)t->x0 * 3,
                   (size_t)t->w * 3) != 0)
            return 0;
    return 1;
}

/* ---------------------------------------------------------------- tests */

/* prepare + render on a copy of the window alone gives the bytes of the
 * whole-image swap, writes nothing outside the window, and a reused
 * workspace gives the same bytes again. */
START_TEST(render_window_only)
{
    env e;
    env_open(&e);
    const fs_engine *ops = fs_context_engine(e.ctx);
    const fs_swap_mesh *mesh = fs_renderer_internal_mesh(e.ren);
    const fs_swap_params *p = fs_renderer_internal_params(e.ren);
    const fs_identity_data *id = fs_identity_internal_data(e.id);
    fs_error_buf err;

    fs_image whole = fs_test_copy_image(&e.tgt, 3);
    fs_swap_info info;
    memset(&info, 0, sizeof(info));
    FS_ASSERT_OK(fs_swap_face_rgb8(ops, FS_EXEC_SERIAL(&err), mesh, p, id, &whole, pts(&e), &info));

    fs_swap_target t;
    FS_ASSERT_OK(fs_swap_target_prepare(ops, FS_EXEC_SERIAL(&err), mesh, p, &e.tgt, pts(&e), &t));
    ck_assert_int_eq(t.x0, info.x0);
    ck_assert_int_eq(t.y0, info.y0);
    ck_assert_int_eq(t.w, info.w);
    ck_assert_int_eq(t.h, info.h);
    ck_assert(t.face_size > 150 && t.face_size < 400);
    ck_assert_int_gt(t.skin_pixels, 5000);
    /* Skin: light, a little red and yellow. */
    ck_assert(t.lab_mean[0] > 30 && t.lab_mean[0] < 90);
    ck_assert(t.lab_mean[1] > 0 && t.lab_mean[2] > 0);
    for (int c = 0; c < 3; c++)
        ck_assert(t.lab_sd[c] > 0.5 && t.lab_sd[c] < 30);

    fs_swap_workspace ws = {0};
    for (int round = 0; round < 2; round++) {
        ptrdiff_t stride;
        uint8_t *win = window_copy(&e.tgt, &t, &stride);
        fs_swap_info ri;
        memset(&ri, 0, sizeof(ri));
        FS_ASSERT_OK(fs_swap_render(ops, FS_EXEC_SERIAL(&err), &ws, mesh, p, id, &t, win, stride, &ri));
        check_guards(win, &t, stride);
        ck_assert_msg(window_equal(win, stride, &whole, &t), "round %d: window differs", round);
        ck_assert_int_eq(ri.covered, info.covered);
        ck_assert_int_eq(ri.mask_pixels, info.mask_pixels);
        free(win);
    }
    fs_swap_workspace_free(&ws);
    fs_swap_workspace_free(&ws); /* twice: it was zeroed */
    fs_swap_workspace_free(NULL);
    free(whole.data);
    env_close(&e);
}
END_TEST

/* After a first call, renders of the same window or a smaller one allocate
 * nothing. */
START_TEST(render_allocates_nothing)
{
    if (!alloc_count_available()) {
        printf("allocation counting unavailable (sanitizer build): skipped\n");
        return;
    }
    env e;
    env_open(&e);
    const fs_engine *ops = fs_context_engine(e.ctx);
    const fs_swap_mesh *mesh = fs_renderer_internal_mesh(e.ren);
    const fs_identity_data *id = fs_identity_internal_data(e.id);
    fs_error_buf err;
    fs_swap_target big, small;
    static const int blends[3] = {FS_BLEND_MULTIBAND, FS_BLEND_POISSON, FS_BLEND_ALPHA};
    for (int b = 0; b < 3; b++) {
        fs_swap_params p = *fs_renderer_internal_params(e.ren);
        p.blend = blends[b];
        p.colour = b == 1 ? FS_COLOR_FULL : FS_COLOR_MEANSTD;
        FS_ASSERT_OK(fs_swap_target_prepare(ops, FS_EXEC_SERIAL(&err), mesh, &p, &e.tgt, pts(&e), &big));
        /* The same face at 0.7 of its size: a smaller window. */
        float (*shrunk)[3] = malloc(sizeof(float) * 3 * FS_LANDMARKS);
        ck_assert_ptr_nonnull(shrunk);
        for (int i = 0; i < FS_LANDMARKS; i++)
            for (int c = 0; c < 3; c++)
                shrunk[i][c] = pts(&e)[i][c] * (c < 2 ? 0.7f : 0.7f) + (c < 2 ? 10.0f : 0.0f);
        FS_ASSERT_OK(fs_swap_target_prepare(ops, FS_EXEC_SERIAL(&err), mesh, &p, &e.tgt, (const float(*)[3])shrunk, &small));
        free(shrunk);
        ck_assert_int_lt(small.w * small.h, big.w * big.h);

        fs_image frame = fs_test_copy_image(&e.tgt, 3);
        uint8_t *bw = (uint8_t *)frame.data + (size_t)big.y0 * (size_t)frame.stride + (size_t)big.x0 * 3;
        uint8_t *sw = (uint8_t *)frame.data + (size_t)small.y0 * (size_t)frame.stride + (size_t)small.x0 * 3;
        fs_swap_workspace ws = {0};
        FS_ASSERT_OK(fs_swap_render(ops, FS_EXEC_SERIAL(&err), &ws, mesh, &p, id, &big, bw, frame.stride, NULL));
        for (int k = 0; k < 3; k++) {
            fs_swap_target *t = k == 1 ? &small : &big;
            uint8_t *w = k == 1 ? sw : bw;
            alloc_count_start();
            const fs_status st = fs_swap_render(ops, FS_EXEC_SERIAL(&err), &ws, mesh, &p, id, t, w, frame.stride, NULL);
            const long calls = alloc_count_stop();
            FS_ASSERT_OK(st);
            ck_assert_msg(calls == 0, "blend %d, call %d: fs_swap_render allocated %ld times", blends[b], k, calls);
        }
        fs_swap_workspace_free(&ws);
        free(frame.data);
    }
    /* The renderer owns a workspace: its still swap of one face (prepare
     * + render) also allocates nothing once warm. */
    fs_image frame = fs_test_copy_image(&e.tgt, 3);
    FS_ASSERT_OK(fs_renderer_swap_face(e.ren, e.id, &frame, &e.lm));
    for (int k = 0; k < 2; k++) {
        alloc_count_start();
        const fs_status st = fs_renderer_swap_face(e.ren, e.id, &frame, &e.lm);
        const long calls = alloc_count_stop();
        FS_ASSERT_OK(st);
        ck_assert_msg(calls == 0, "fs_renderer_swap_face allocated %ld times", calls);
    }
    free(frame.data);
    env_close(&e);
}
END_TEST

/* On a frame of one flat colour the target's statistics are that colour's
 * CIELAB value with no spread. */
START_TEST(target_stats_flat)
{
    env e;
    env_open(&e);
    const fs_engine *ops = fs_context_engine(e.ctx);
    fs_image flat = fs_test_copy_image(&e.tgt, 3);
    static const uint8_t rgb8[3] = {201, 150, 118};
    for (int y = 0; y < flat.height; y++)
        for (int x = 0; x < flat.width; x++)
            memcpy((uint8_t *)flat.data + (size_t)y * (size_t)flat.stride + (size_t)x * 3, rgb8, 3);
    fs_swap_target t;
    fs_error_buf err;
    FS_ASSERT_OK(fs_swap_target_prepare(ops, FS_EXEC_SERIAL(&err), fs_renderer_internal_mesh(e.ren),
                                        fs_renderer_internal_params(e.ren), &flat, pts(&e), &t));
    const float rgb[3] = {rgb8[0] / 255.0f, rgb8[1] / 255.0f, rgb8[2] / 255.0f};
    float lab[3];
    fs_colour_srgb_to_lab(rgb, lab, 1);
    for (int c = 0; c < 3; c++) {
        ck_assert_msg(fabs(t.lab_mean[c] - lab[c]) < 1e-3, "channel %d: %g vs %g", c, t.lab_mean[c], lab[c]);
        ck_assert(t.lab_sd[c] < 1e-3);
    }
    free(flat.data);
    env_close(&e);
}
END_TEST

/* A target that does not hold together (as from an altered template
 * file) is refused and the window stays as it was. */
START_TEST(render_bad_target)
{
    env e;
    env_open(&e);
    const fs_engine *ops = fs_context_engine(e.ctx);
    const fs_swap_mesh *mesh = fs_renderer_internal_mesh(e.ren);
    const fs_swap_params *p = fs_renderer_internal_params(e.ren);
    const fs_identity_data *id = fs_identity_internal_data(e.id);
    fs_error_buf err;
    fs_swap_target good;
    FS_ASSERT_OK(fs_swap_target_prepare(ops, FS_EXEC_SERIAL(&err), mesh, p, &e.tgt, pts(&e), &good));
    ptrdiff_t stride;
    uint8_t *win = window_copy(&e.tgt, &good, &stride);
    fs_swap_target *t = malloc(sizeof(*t));
    ck_assert_ptr_nonnull(t);
    for (int k = 0; k < 9; k++) {
        *t = good;
        switch (k) {
        case 0: t->w = 0; break;
        case 1: t->x0 = t->frame_w - t->w + 1; break;
        case 2: t->lab_mean[1] = NAN; break;
        case 3: t->lab_sd[0] = -1; break;
        case 4: t->points[100][0] = INFINITY; break;
        case 5: t->face_size = 2; break;
        case 6: t->skin_pixels = 0; break;
        case 7: t->h = 1 << 30; t->frame_h = 1 << 30; break;
        default: t->iris[1][2] = NAN; break;
        }
        const fs_status st = fs_swap_render(ops, FS_EXEC_SERIAL(&err), NULL, mesh, p, id, t, win, stride, NULL);
        ck_assert_msg(st == FS_ERR_INVALID_ARGUMENT || st == FS_ERR_TOO_LARGE, "case %d: status %d", k, st);
        ck_assert(window_equal(win, stride, &e.tgt, &good));
    }
    FS_ASSERT_STATUS(fs_swap_render(ops, FS_EXEC_SERIAL(&err), NULL, mesh, p, id, &good, win, 3 * good.w - 1, NULL),
                     FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_swap_render(ops, FS_EXEC_SERIAL(&err), NULL, mesh, p, id, NULL, win, stride, NULL),
                     FS_ERR_INVALID_ARGUMENT);
    fs_swap_params bad = *p;
    bad.erode = 2;
    FS_ASSERT_STATUS(fs_swap_render(ops, FS_EXEC_SERIAL(&err), NULL, mesh, &bad, id, &good, win, stride, NULL),
                     FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_STATUS(fs_swap_target_prepare(ops, FS_EXEC_SERIAL(&err), mesh, &bad, &e.tgt, pts(&e), t),
                     FS_ERR_OUT_OF_RANGE);
    ck_assert(window_equal(win, stride, &e.tgt, &good));
    free(t);
    free(win);
    env_close(&e);
}
END_TEST

/* CIELAB by the exact formulas in double, as an independent reference. */
static double ref_lin(double c)
{
    return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

static double ref_f(double t)
{
    const double d = 6.0 / 29.0;
    return t > d * d * d ? cbrt(t) : t / (3.0 * d * d) + 4.0 / 29.0;
}

static void ref_lab(const float rgb[3], float lab[3])
{
    const double r = ref_lin(rgb[0]), g = ref_lin(rgb[1]), b = ref_lin(rgb[2]);
    const double x = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b;
    const double y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
    const double z = 0.0193339 * r + 0.1191920 * g + 0.9503041 * b;
    const double fx = ref_f(x / 0.95047), fy = ref_f(y), fz = ref_f(z / 1.08883);
    lab[0] = (float)(116.0 * fy - 16.0);
    lab[1] = (float)(500.0 * (fx - fy));
    lab[2] = (float)(200.0 * (fy - fz));
}

/* The 8-bit values' table gives the formulas' own floats, bit for bit, and
 * other values still go through the formulas. */
START_TEST(lab_table_exact)
{
    uint64_t s = 12345;
    for (int i = 0; i < 256 * 64; i++) {
        float rgb[3], got[3], want[3];
        for (int c = 0; c < 3; c++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            const int k = i < 256 ? i : (int)(s >> 56);
            /* Every other pixel: a value between the 8-bit steps, or just outside [0, 1]. */
            rgb[c] = (i & 1) ? (float)((double)(s >> 11) / 9007199254740992.0 * 1.02 - 0.01)
                             : (float)k * (1.0f / 255.0f);
        }
        fs_colour_srgb_to_lab(rgb, got, 1);
        ref_lab(rgb, want);
        for (int c = 0; c < 3; c++)
            ck_assert_msg(memcmp(&got[c], &want[c], sizeof(float)) == 0,
                          "(%.9g %.9g %.9g) channel %d: %.9g vs %.9g", rgb[0], rgb[1], rgb[2], c,
                          got[c], want[c]);
    }
}
END_TEST

/* Blocks given back in any order, then a fit: the same sequence again
 * stays in the arena, and blocks never overlap. */
START_TEST(scratch_arena)
{
    fs_scratch s = {0};
    static const size_t sizes[6] = {100, 4000, 17, 65536, 1, 333};
    for (int round = 0; round < 3; round++) {
        fs_scratch *old = fs_scratch_bind(&s);
        ck_assert_ptr_null(old);
        uint8_t *b[6];
        for (int i = 0; i < 6; i++) {
            b[i] = fs_tmp_alloc(sizes[i]);
            ck_assert_ptr_nonnull(b[i]);
            ck_assert_int_eq((uintptr_t)b[i] % 16, 0);
            memset(b[i], i + 1, sizes[i]);
            if (i == 2) { /* out of order: 1 then 0, under the live 2 */
                fs_tmp_free(b[1]);
                fs_tmp_free(b[0]);
                b[0] = b[1] = NULL;
            }
        }
        uint8_t *z = fs_tmp_calloc(10, 7);
        ck_assert_ptr_nonnull(z);
        for (int i = 0; i < 70; i++)
            ck_assert_int_eq(z[i], 0);
        for (int i = 2; i < 6; i++)
            for (size_t j = 0; j < sizes[i]; j++)
                ck_assert_int_eq(b[i][j], i + 1);
        const int in_arena = s.base && b[5] >= s.base && b[5] < s.base + s.cap;
        ck_assert_int_eq(in_arena, round > 0);
        fs_tmp_free(b[3]);
        fs_tmp_free(z);
        fs_tmp_free(b[2]);
        fs_tmp_free(b[5]);
        fs_tmp_free(b[4]);
        ck_assert_ptr_null(s.top);
        ck_assert_int_eq(s.used, 0);
        ck_assert_int_eq(s.live, 0);
        ck_assert_ptr_eq(fs_scratch_bind(NULL), &s);
        ck_assert(fs_scratch_fit(&s));
        ck_assert_int_ge(s.cap, s.peak);
    }
    /* Unbound: plain allocations. */
    void *q = fs_tmp_alloc(10);
    ck_assert_ptr_nonnull(q);
    fs_tmp_free(q);
    fs_tmp_free(NULL);
    ck_assert_ptr_null(fs_tmp_alloc(0));
    ck_assert_ptr_null(fs_tmp_calloc(SIZE_MAX / 2, 4));
    fs_scratch_free(&s);
    fs_scratch_free(NULL);
}
END_TEST

static Suite *swap_render_suite(void)
{
    Suite *s = suite_create("swap_render");
    TCase *tc = tcase_create("swap_render");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, scratch_arena);
    tcase_add_test(tc, lab_table_exact);
    tcase_add_test(tc, render_window_only);
    tcase_add_test(tc, render_allocates_nothing);
    tcase_add_test(tc, target_stats_flat);
    tcase_add_test(tc, render_bad_target);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return fs_test_run_suite(swap_render_suite());
}
