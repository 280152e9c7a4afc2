/*
 * The swap's intermediate images through the public API (issue 3, item 3:
 * `faceswap swap --debug`): fs_identity_get_landmarks, fs_identity_get_atlas,
 * FS_RENDERER_KEEP_DEBUG and fs_renderer_debug_image. Kept off, nothing is
 * kept; on, every face of the last call has a render, a mask and a coverage
 * view of one window, whose mask is what the blend used: the result equals
 * the render where the mask is 255 and the target where it is 0.
 *
 * faceapi_sample3.jpg (the source) onto astronaut.png (the target, small,
 * with a large face), so that the program stays quick under the sanitizers
 * and the reference path.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "swap/swap.h"

/* MediaPipe FaceMesh: the nose tip, well inside any face mask. */
#define NOSE_TIP 1

typedef struct env {
    fs_context *ctx;
    fs_renderer *ren;
    fs_identity *id;
    fs_image src, tgt;
    fs_face_landmarks *lm; /* the target's largest face */
} env;

/* The largest face of @p img that the fitter accepts. */
static void fit_largest(fs_context *ctx, const fs_image *img, fs_face_landmarks *lm)
{
    fs_detector *det = fs_test_new_detector(ctx);
    fs_fitter *fit = fs_test_new_fitter(ctx);
    fs_face_box faces[16];
    int n = 0, chosen = -1;
    FS_ASSERT_OK(fs_detector_run(det, img, faces, 16, &n));
    ck_assert_msg(fs_swap_fit_face(fit, img, faces, n < 16 ? n : 16, -1, lm, &chosen) == FS_OK,
                  "no face fitted in the target");
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
}

static void env_open(env *e, int need_target)
{
    memset(e, 0, sizeof(*e));
    e->ctx = fs_test_new_context();
    FS_ASSERT_OK(fs_renderer_create(e->ctx, &e->ren));
    fs_test_load_image(e->ctx, "faceapi_sample3.jpg", &e->src);
    FS_ASSERT_OK(fs_identity_create_from_image(e->ctx, &e->src, FS_IDENTITY_LARGEST_FACE, &e->id));
    if (need_target) {
        fs_test_load_image(e->ctx, "astronaut.png", &e->tgt);
        e->lm = malloc(sizeof(*e->lm));
        ck_assert_ptr_nonnull(e->lm);
        fit_largest(e->ctx, &e->tgt, e->lm);
    }
}

static void env_close(env *e)
{
    free(e->lm);
    fs_image_free(&e->tgt);
    fs_image_free(&e->src);
    fs_identity_destroy(e->id);
    fs_renderer_destroy(e->ren);
    fs_context_destroy(e->ctx);
}

static const uint8_t *at(const fs_image *img, int x, int y, int ch)
{
    return (const uint8_t *)img->data + (size_t)y * (size_t)img->stride + (size_t)x * (size_t)ch;
}

/* A view filled with a pattern, to check that failures leave it untouched. */
static void poison(fs_image *v)
{
    memset(v, 0xA5, sizeof(*v));
}

static int is_poisoned(const fs_image *v)
{
    fs_image p;
    poison(&p);
    return memcmp(&p, v, sizeof(p)) == 0;
}

/* ---------------------------------------------------------------- identity getters */

START_TEST(identity_getters)
{
    env e;
    env_open(&e, 0);
    const fs_identity_data *d = fs_identity_internal_data(e.id);

    fs_face_landmarks *lm = malloc(sizeof(*lm));
    ck_assert_ptr_nonnull(lm);
    memset(lm, 0x5A, sizeof(*lm));
    FS_ASSERT_OK(fs_identity_get_landmarks(e.id, lm));
    ck_assert(memcmp(lm->points, d->landmarks, sizeof(lm->points)) == 0);
    ck_assert(lm->confidence == 0.0f && lm->box.width == 0.0f && lm->reserved[10] == 0.0f);
    /* a face inside the photo */
    const float nx = lm->points[NOSE_TIP][0], ny = lm->points[NOSE_TIP][1];
    ck_assert_msg(nx > 0 && nx < e.src.width && ny > 0 && ny < e.src.height, "nose at %g, %g", nx, ny);
    ck_assert_msg(fabsf(lm->points[234][0] - lm->points[454][0]) > 50, "face narrower than 50 px");

    fs_image atlas;
    FS_ASSERT_OK(fs_identity_get_atlas(e.id, &atlas));
    ck_assert_int_eq(atlas.format, FS_PIXEL_RGBA8);
    ck_assert_int_eq(atlas.memory, FS_MEMORY_HOST);
    ck_assert_int_eq(atlas.width, d->atlas.size);
    ck_assert_int_eq(atlas.height, atlas.width);
    ck_assert_int_eq(atlas.stride, 4 * atlas.width);
    ck_assert_ptr_eq(atlas.data, d->atlas.rgba);
    ck_assert(atlas.reserved0 == 0 && atlas.reserved[0] == NULL && atlas.reserved[3] == NULL);
    /* the footprint is opaque, the corners (outside the mesh's UVs) empty */
    long opaque = 0;
    for (int y = 0; y < atlas.height; y++)
        for (int x = 0; x < atlas.width; x++)
            opaque += at(&atlas, x, y, 4)[3] == 255;
    const long texels = (long)atlas.width * atlas.height;
    ck_assert_msg(opaque > texels / 4 && opaque < texels, "%ld of %ld texels opaque", opaque, texels);
    ck_assert_int_eq(at(&atlas, 0, 0, 4)[3], 0);

    /* a loaded identity answers the same */
    void *blob = NULL;
    size_t size = 0;
    FS_ASSERT_OK(fs_identity_save_memory(e.id, &blob, &size));
    fs_identity *again = NULL;
    FS_ASSERT_OK(fs_identity_load_memory(e.ctx, blob, size, &again));
    fs_identity_free_memory(blob);
    fs_face_landmarks *lm2 = malloc(sizeof(*lm2));
    ck_assert_ptr_nonnull(lm2);
    FS_ASSERT_OK(fs_identity_get_landmarks(again, lm2));
    ck_assert(memcmp(lm->points, lm2->points, sizeof(lm->points)) == 0);
    fs_image atlas2;
    FS_ASSERT_OK(fs_identity_get_atlas(again, &atlas2));
    ck_assert_int_eq(atlas2.width, atlas.width);
    ck_assert(memcmp(atlas2.data, atlas.data, (size_t)atlas.stride * (size_t)atlas.height) == 0);
    fs_identity_destroy(again);

    /* bad arguments: a status, outputs untouched */
    memset(lm2, 0x5A, sizeof(*lm2));
    FS_ASSERT_STATUS(fs_identity_get_landmarks(NULL, lm2), FS_ERR_INVALID_ARGUMENT);
    ck_assert(((const uint8_t *)lm2)[0] == 0x5A && ((const uint8_t *)lm2)[sizeof(*lm2) - 1] == 0x5A);
    FS_ASSERT_STATUS(fs_identity_get_landmarks(e.id, NULL), FS_ERR_INVALID_ARGUMENT);
    poison(&atlas2);
    FS_ASSERT_STATUS(fs_identity_get_atlas(NULL, &atlas2), FS_ERR_INVALID_ARGUMENT);
    ck_assert(is_poisoned(&atlas2));
    FS_ASSERT_STATUS(fs_identity_get_atlas(e.id, NULL), FS_ERR_INVALID_ARGUMENT);

    free(lm2);
    free(lm);
    env_close(&e);
}
END_TEST

/* ---------------------------------------------------------------- renderer */

START_TEST(debug_param)
{
    env e;
    env_open(&e, 0);
    double v = -1, lo = -1, hi = -1;
    FS_ASSERT_OK(fs_renderer_get(e.ren, FS_RENDERER_KEEP_DEBUG, &v));
    ck_assert(v == 0.0);
    FS_ASSERT_OK(fs_renderer_param_bounds(FS_RENDERER_KEEP_DEBUG, &lo, &hi));
    ck_assert(lo == 0.0 && hi == 1.0);
    FS_ASSERT_STATUS(fs_renderer_set(e.ren, FS_RENDERER_KEEP_DEBUG, 2), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_STATUS(fs_renderer_set(e.ren, FS_RENDERER_KEEP_DEBUG, 0.5), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_STATUS(fs_renderer_set(e.ren, FS_RENDERER_KEEP_DEBUG, NAN), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_OK(fs_renderer_set(e.ren, FS_RENDERER_KEEP_DEBUG, 1));
    FS_ASSERT_OK(fs_renderer_get(e.ren, FS_RENDERER_KEEP_DEBUG, &v));
    ck_assert(v == 1.0);
    /* nothing swapped yet: nothing kept */
    fs_image view;
    poison(&view);
    FS_ASSERT_STATUS(fs_renderer_debug_image(e.ren, 0, FS_DEBUG_RENDER, &view, NULL, NULL),
                     FS_ERR_OUT_OF_RANGE);
    ck_assert(is_poisoned(&view));
    env_close(&e);
}
END_TEST

START_TEST(debug_off_keeps_nothing)
{
    env e;
    env_open(&e, 1);
    fs_image t = fs_test_copy_image(&e.tgt, 3);
    FS_ASSERT_OK(fs_renderer_swap_face(e.ren, e.id, &t, e.lm));
    for (int kind = FS_DEBUG_RENDER; kind <= FS_DEBUG_COVERAGE; kind++) {
        fs_image view;
        int x0 = -7, y0 = -7;
        poison(&view);
        FS_ASSERT_STATUS(fs_renderer_debug_image(e.ren, 0, (fs_renderer_debug_kind)kind, &view,
                                                 &x0, &y0),
                         FS_ERR_OUT_OF_RANGE);
        ck_assert(is_poisoned(&view) && x0 == -7 && y0 == -7);
    }
    free(t.data);
    env_close(&e);
}
END_TEST

/* Swaps with KEEP_DEBUG on and checks the kept views against the result. */
static void check_views(int blend)
{
    env e;
    env_open(&e, 1);
    FS_ASSERT_OK(fs_renderer_set(e.ren, FS_RENDERER_BLEND, blend));
    FS_ASSERT_OK(fs_renderer_set(e.ren, FS_RENDERER_KEEP_DEBUG, 1));
    fs_image t = fs_test_copy_image(&e.tgt, 3);
    FS_ASSERT_OK(fs_renderer_swap_face(e.ren, e.id, &t, e.lm));

    fs_image render, mask, cover;
    int x0 = -1, y0 = -1, mx = -1, my = -1, cx = -1, cy = -1;
    FS_ASSERT_OK(fs_renderer_debug_image(e.ren, 0, FS_DEBUG_RENDER, &render, &x0, &y0));
    FS_ASSERT_OK(fs_renderer_debug_image(e.ren, 0, FS_DEBUG_MASK, &mask, &mx, &my));
    FS_ASSERT_OK(fs_renderer_debug_image(e.ren, 0, FS_DEBUG_COVERAGE, &cover, &cx, &cy));
    ck_assert_int_eq(render.format, FS_PIXEL_RGB8);
    ck_assert_int_eq(mask.format, FS_PIXEL_GRAY8);
    ck_assert_int_eq(cover.format, FS_PIXEL_GRAY8);
    ck_assert(render.memory == FS_MEMORY_HOST && render.reserved0 == 0 && render.reserved[0] == NULL);
    ck_assert_int_eq(render.stride, 3 * render.width);
    ck_assert_int_eq(mask.stride, mask.width);
    ck_assert_int_eq(cover.stride, cover.width);
    ck_assert(mask.width == render.width && mask.height == render.height);
    ck_assert(cover.width == render.width && cover.height == render.height);
    ck_assert(mx == x0 && my == y0 && cx == x0 && cy == y0);
    const int w = render.width, h = render.height;
    ck_assert(x0 >= 0 && y0 >= 0 && x0 + w <= t.width && y0 + h <= t.height);
    ck_assert_msg(w > 40 && h > 40, "window %dx%d", w, h);
    /* one face only; the NULL corner pointers are optional */
    fs_image view;
    poison(&view);
    FS_ASSERT_STATUS(fs_renderer_debug_image(e.ren, 1, FS_DEBUG_RENDER, &view, NULL, NULL),
                     FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_STATUS(fs_renderer_debug_image(e.ren, -1, FS_DEBUG_MASK, &view, NULL, NULL),
                     FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_STATUS(fs_renderer_debug_image(e.ren, 0, (fs_renderer_debug_kind)3, &view, NULL,
                                             NULL),
                     FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_renderer_debug_image(e.ren, 0, (fs_renderer_debug_kind)-1, &view, NULL,
                                             NULL),
                     FS_ERR_INVALID_ARGUMENT);
    ck_assert(is_poisoned(&view));
    FS_ASSERT_STATUS(fs_renderer_debug_image(NULL, 0, FS_DEBUG_RENDER, &view, NULL, NULL),
                     FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_renderer_debug_image(e.ren, 0, FS_DEBUG_RENDER, NULL, NULL, NULL),
                     FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_OK(fs_renderer_debug_image(e.ren, 0, FS_DEBUG_MASK, &view, NULL, NULL));
    ck_assert_ptr_eq(view.data, mask.data);

    /* the nose is inside the mask and the mesh; the window's corners (it
     * has a margin around the mesh) in neither */
    const int nx = (int)lrintf(e.lm->points[NOSE_TIP][0]) - x0;
    const int ny = (int)lrintf(e.lm->points[NOSE_TIP][1]) - y0;
    ck_assert(nx > 0 && nx < w && ny > 0 && ny < h);
    ck_assert_int_gt(at(&mask, nx, ny, 1)[0], 0);
    ck_assert_int_eq(at(&cover, nx, ny, 1)[0], 255);
    const int corners[4][2] = {{0, 0}, {w - 1, 0}, {0, h - 1}, {w - 1, h - 1}};
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(at(&mask, corners[i][0], corners[i][1], 1)[0], 0);
        ck_assert_int_eq(at(&cover, corners[i][0], corners[i][1], 1)[0], 0);
    }

    /* The mask is the blend weight: the result is the target where it is 0
     * (bit-identical) and the render where it is 255: exactly for alpha;
     * the pyramid's coarse bands mix the target's low frequencies in even
     * there, so for multiband the result only has to be much nearer the
     * render than the target (measured on this pair with two versions of
     * the pipeline: mean |result - render| 4.1 and 7.0 levels against 38
     * and 31 to the target; the largest differences, 48-54, lie at the
     * mask's inner edge, 5 at 12 px inside it; the bound leaves room for
     * further pipeline changes).
     * The mask lies within the mesh's coverage. */
    long full = 0, zero_changed = 0, outside_cover = 0;
    double to_render = 0, to_target = 0;
    int worst = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t m = at(&mask, x, y, 1)[0];
            const uint8_t *r = at(&render, x, y, 3), *a = at(&t, x0 + x, y0 + y, 3);
            const uint8_t *b = at(&e.tgt, x0 + x, y0 + y, 3);
            outside_cover += m > 0 && at(&cover, x, y, 1)[0] == 0;
            if (m == 0)
                zero_changed += memcmp(a, b, 3) != 0;
            if (m != 255)
                continue;
            full++;
            for (int c = 0; c < 3; c++) {
                const int d = abs((int)r[c] - (int)a[c]);
                worst = d > worst ? d : worst;
                to_render += d;
                to_target += abs((int)b[c] - (int)a[c]);
            }
        }
    to_render /= 3.0 * (double)(full ? full : 1);
    to_target /= 3.0 * (double)(full ? full : 1);
    printf("blend %d: window %dx%d at %d,%d, %ld px at mask 255: mean |result - render| %.2f, "
           "|result - target| %.2f, max |result - render| %d\n",
           blend, w, h, x0, y0, full, to_render, to_target, worst);
    ck_assert_msg(full > (long)w * h / 20, "%ld of %d px at 255", full, w * h);
    ck_assert_int_eq(zero_changed, 0);
    ck_assert_int_eq(outside_cover, 0);
    ck_assert_msg(to_target > 10.0, "the result kept the target's face (%.2f)", to_target);
    if (blend == FS_BLEND_ALPHA)
        ck_assert_msg(worst == 0, "alpha: render vs result differs by %d", worst);
    else
        ck_assert_msg(to_render <= 12.0 && to_render <= 0.4 * to_target,
                      "multiband: the result is %.2f from the render, %.2f from the target",
                      to_render, to_target);

    /* a failed call keeps nothing; KEEP_DEBUG 0 releases the views */
    fs_face_landmarks *far = malloc(sizeof(*far));
    ck_assert_ptr_nonnull(far);
    *far = *e.lm;
    for (int i = 0; i < FS_LANDMARKS; i++)
        far->points[i][0] += 1e5f;
    FS_ASSERT_STATUS(fs_renderer_swap_face(e.ren, e.id, &t, far), FS_ERR_NO_FACE);
    FS_ASSERT_STATUS(fs_renderer_debug_image(e.ren, 0, FS_DEBUG_RENDER, &view, NULL, NULL),
                     FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_OK(fs_renderer_swap_face(e.ren, e.id, &t, e.lm));
    FS_ASSERT_OK(fs_renderer_debug_image(e.ren, 0, FS_DEBUG_RENDER, &view, NULL, NULL));
    FS_ASSERT_OK(fs_renderer_set(e.ren, FS_RENDERER_KEEP_DEBUG, 0));
    FS_ASSERT_STATUS(fs_renderer_debug_image(e.ren, 0, FS_DEBUG_RENDER, &view, NULL, NULL),
                     FS_ERR_OUT_OF_RANGE);
    free(far);
    free(t.data);
    env_close(&e);
}

START_TEST(debug_views_alpha)
{
    check_views(FS_BLEND_ALPHA);
}
END_TEST

START_TEST(debug_views_multiband)
{
    check_views(FS_BLEND_MULTIBAND);
}
END_TEST

/* Another pixel format goes through an RGB copy: the same views. The
 * whole-image call keeps its faces, a call that finds none keeps nothing. */
START_TEST(debug_formats_and_swap_image)
{
    env e;
    env_open(&e, 1);
    FS_ASSERT_OK(fs_renderer_set(e.ren, FS_RENDERER_KEEP_DEBUG, 1));
    fs_image t = fs_test_copy_image(&e.tgt, 3);
    FS_ASSERT_OK(fs_renderer_swap_face(e.ren, e.id, &t, e.lm));
    fs_image r1, m1;
    int x1, y1;
    FS_ASSERT_OK(fs_renderer_debug_image(e.ren, 0, FS_DEBUG_RENDER, &r1, &x1, &y1));
    FS_ASSERT_OK(fs_renderer_debug_image(e.ren, 0, FS_DEBUG_MASK, &m1, NULL, NULL));
    const size_t rn = (size_t)r1.stride * (size_t)r1.height, mn = (size_t)m1.stride * (size_t)m1.height;
    uint8_t *keep_r = malloc(rn), *keep_m = malloc(mn);
    ck_assert(keep_r && keep_m);
    memcpy(keep_r, r1.data, rn);
    memcpy(keep_m, m1.data, mn);

    /* BGRA copy of the untouched target */
    fs_image bgra = e.tgt;
    bgra.format = FS_PIXEL_BGRA8;
    bgra.stride = 4 * e.tgt.width;
    bgra.data = malloc((size_t)bgra.stride * (size_t)bgra.height);
    ck_assert_ptr_nonnull(bgra.data);
    for (int y = 0; y < e.tgt.height; y++)
        for (int x = 0; x < e.tgt.width; x++) {
            const uint8_t *s = at(&e.tgt, x, y, 3);
            uint8_t *d = (uint8_t *)bgra.data + (size_t)y * (size_t)bgra.stride + (size_t)x * 4;
            d[0] = s[2];
            d[1] = s[1];
            d[2] = s[0];
            d[3] = 255;
        }
    FS_ASSERT_OK(fs_renderer_swap_face(e.ren, e.id, &bgra, e.lm));
    fs_image r2, m2;
    int x2, y2;
    FS_ASSERT_OK(fs_renderer_debug_image(e.ren, 0, FS_DEBUG_RENDER, &r2, &x2, &y2));
    FS_ASSERT_OK(fs_renderer_debug_image(e.ren, 0, FS_DEBUG_MASK, &m2, NULL, NULL));
    ck_assert(x2 == x1 && y2 == y1 && r2.width == r1.width && r2.height == r1.height);
    ck_assert_int_eq(r2.format, FS_PIXEL_RGB8); /* the views are RGB whatever the image */
    ck_assert(memcmp(r2.data, keep_r, rn) == 0);
    ck_assert(memcmp(m2.data, keep_m, mn) == 0);

    /* the whole-image call: the largest face, kept once */
    fs_image t2 = fs_test_copy_image(&e.tgt, 3);
    int swapped = 0;
    FS_ASSERT_OK(fs_renderer_swap_image(e.ren, e.id, &t2, FS_SWAP_FACES_LARGEST, &swapped));
    ck_assert_int_eq(swapped, 1);
    fs_image v;
    FS_ASSERT_OK(fs_renderer_debug_image(e.ren, 0, FS_DEBUG_COVERAGE, &v, NULL, NULL));
    ck_assert(v.width > 40 && v.format == FS_PIXEL_GRAY8);
    FS_ASSERT_STATUS(fs_renderer_debug_image(e.ren, 1, FS_DEBUG_COVERAGE, &v, NULL, NULL),
                     FS_ERR_OUT_OF_RANGE);
    fs_image noface;
    fs_test_load_image(e.ctx, "noface_3.png", &noface);
    FS_ASSERT_STATUS(fs_renderer_swap_image(e.ren, e.id, &noface, FS_SWAP_FACES_ALL, NULL),
                     FS_ERR_NO_FACE);
    FS_ASSERT_STATUS(fs_renderer_debug_image(e.ren, 0, FS_DEBUG_COVERAGE, &v, NULL, NULL),
                     FS_ERR_OUT_OF_RANGE);

    fs_image_free(&noface);
    free(t2.data);
    free(bgra.data);
    free(keep_m);
    free(keep_r);
    free(t.data);
    env_close(&e);
}
END_TEST

static Suite *swap_debug_suite(void)
{
    Suite *s = suite_create("swap_debug");
    TCase *tc = tcase_create("swap_debug");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, identity_getters);
    tcase_add_test(tc, debug_param);
    tcase_add_test(tc, debug_off_keeps_nothing);
    tcase_add_test(tc, debug_views_alpha);
    tcase_add_test(tc, debug_views_multiband);
    tcase_add_test(tc, debug_formats_and_swap_image);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return fs_test_run_suite(swap_debug_suite());
}
