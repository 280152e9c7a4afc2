/*
 * The per-frame swap stage of the video path (issue 9, items 1 and 7):
 * fs_swap_target_prepare once (the template's side), then fs_swap_render
 * of one face (render + colour + blend, the user's side) again and again
 * on the window with one workspace, as a video worker runs it. Prints the
 * median ms per blend mode and, for the default mode, the median ms of
 * each stage (timed through a wrapped copy of the engine; "rest" is the
 * mask loops and the copies between stages).
 *
 *   bench_render [--reps N] SOURCE TARGET
 *
 * Pin it to one core (taskset -c 0): the target is <= 10 ms on one
 * core for a face of about 250 px.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "compose/colour.h"
#include "engine.h"
#include "swap/lookup.h"
#include "swap/swap.h"

enum { S_RASTER, S_LOOKUP, S_ERODE, S_FEATHER, S_MATCH, S_SHADING, S_CHROMA, S_DETAIL, S_FINISH, S_MULTIBAND, S_POISSON, S_N };
static const char *const stage_name[S_N] = {"raster", "lookup", "erode", "feather", "match", "shading", "chroma", "detail", "finish", "multiband", "poisson"};
static double stage_ms[S_N];
static long blur_calls; /* separable blurs of one plane, all stages */
static const fs_engine *base;

#define TIMED(k, call)                        \
    do {                                      \
        const double t0_ = bench_now_ms();    \
        call;                                 \
        stage_ms[k] += bench_now_ms() - t0_;  \
    } while (0)

static fs_status t_raster(const fs_exec *ex, const fs_raster_vertex *v, const float *a, int nv,
                          const int32_t (*tri)[3], int nt, const fs_raster_desc *d,
                          const fs_raster_out *o)
{
    fs_status st;
    TIMED(S_RASTER, st = base->raster.triangles(ex, v, a, nv, tri, nt, d, o));
    return st;
}
static fs_status t_blur(const fs_exec *ex, const float *src, int w, int h, const float *k, int r,
                        float *tmp, float *dst)
{
    blur_calls++;
    return base->compose.blur(ex, src, w, h, k, r, tmp, dst);
}
static fs_status t_lookup(const fs_exec *ex, const fs_swap_lookup *d, fs_swap_lookup_out *o)
{
    fs_status st;
    TIMED(S_LOOKUP, st = base->swap.lookup(ex, d, o));
    return st;
}
static fs_status t_erode(const fs_exec *ex, const uint8_t *m, int w, int h, ptrdiff_t s, double r,
                         int bb, uint8_t *o, ptrdiff_t os)
{
    fs_status st;
    TIMED(S_ERODE, st = base->compose.mask_erode(ex, m, w, h, s, r, bb, o, os));
    return st;
}
static fs_status t_feather(const fs_exec *ex, const uint8_t *m, int w, int h, ptrdiff_t s,
                           double f, int bb, float *a, ptrdiff_t as)
{
    fs_status st;
    TIMED(S_FEATHER, st = base->compose.mask_feather(ex, m, w, h, s, f, bb, a, as));
    return st;
}
static fs_status t_match_to(const fs_exec *ex, float *r, ptrdiff_t rs, const float *m, int w,
                            int h, const double mean[3], const double sd[3],
                            fs_colour_lightness lightness)
{
    fs_status st;
    TIMED(S_MATCH, st = base->compose.colour_match_to(ex, r, rs, m, w, h, mean, sd, lightness));
    return st;
}
static fs_status t_shading(const fs_exec *ex, const fs_compose_ops *ops, float *r, ptrdiff_t rs,
                           const float *t, ptrdiff_t ts, const float *m, int w, int h, double sg,
                           double g)
{
    fs_status st;
    TIMED(S_SHADING, st = base->compose.colour_shading(ex, ops, r, rs, t, ts, m, w, h, sg, g));
    return st;
}
static fs_status t_chroma(const fs_exec *ex, const fs_compose_ops *ops, float *r, ptrdiff_t rs,
                          const float *t, ptrdiff_t ts, const float *m, int w, int h, double sg,
                          double g)
{
    fs_status st;
    TIMED(S_CHROMA, st = base->compose.colour_chroma(ex, ops, r, rs, t, ts, m, w, h, sg, g));
    return st;
}
static fs_status t_detail(const fs_exec *ex, const fs_compose_ops *ops, float *r, ptrdiff_t rs,
                          const float *t, ptrdiff_t ts, const float *m, int w, int h,
                          uint64_t seed, fs_detail_match *out)
{
    fs_status st;
    TIMED(S_DETAIL, st = base->compose.colour_detail(ex, ops, r, rs, t, ts, m, w, h, seed, out));
    return st;
}
static fs_status t_finish(const fs_exec *ex, float *r, const float *wp, const float *ai,
                          const uint8_t *er, const uint8_t *img, ptrdiff_t is, int w, int h,
                          uint8_t *out)
{
    fs_status st;
    TIMED(S_FINISH, st = base->swap.finish_u8(ex, r, wp, ai, er, img, is, w, h, out));
    return st;
}
static fs_status t_multiband(const fs_exec *ex, const uint8_t *s, ptrdiff_t ss, uint8_t *d,
                             ptrdiff_t ds, const float *a, int w, int h, int lv)
{
    fs_status st;
    TIMED(S_MULTIBAND, st = base->compose.blend_multiband_u8(ex, s, ss, d, ds, a, w, h, lv));
    return st;
}
static fs_status t_poisson(const fs_exec *ex, const uint8_t *s, ptrdiff_t ss, uint8_t *d,
                           ptrdiff_t ds, const uint8_t *m, ptrdiff_t ms, int w, int h,
                           const fs_poisson_opts *o, fs_poisson_info *info)
{
    fs_status st;
    TIMED(S_POISSON, st = base->compose.blend_poisson_u8(ex, s, ss, d, ds, m, ms, w, h, o, info));
    return st;
}

/* Reads @p path as packed RGB8 (the swap's format). */
static fs_status load_rgb8(fs_context *ctx, const char *path, fs_image *out)
{
    fs_image im;
    fs_status st = fs_image_read_file(ctx, path, &im);
    if (st != FS_OK)
        return st;
    int ch = 0, off[3] = {0, 1, 2};
    switch (im.format) {
    case FS_PIXEL_RGB8: ch = 3; break;
    case FS_PIXEL_RGBA8: ch = 4; break;
    case FS_PIXEL_BGR8: ch = 3; off[0] = 2; off[2] = 0; break;
    case FS_PIXEL_BGRA8: ch = 4; off[0] = 2; off[2] = 0; break;
    case FS_PIXEL_GRAY8: ch = 1; off[1] = off[2] = 0; break;
    default: fs_image_free(&im); return FS_ERR_UNSUPPORTED;
    }
    *out = im;
    out->format = FS_PIXEL_RGB8;
    out->stride = im.width * 3;
    out->data = malloc((size_t)im.width * (size_t)im.height * 3);
    if (!out->data) {
        fs_image_free(&im);
        return FS_ERR_OUT_OF_MEMORY;
    }
    for (int y = 0; y < im.height; y++)
        for (int x = 0; x < im.width; x++)
            for (int c = 0; c < 3; c++)
                ((uint8_t *)out->data)[((size_t)y * (size_t)im.width + (size_t)x) * 3 + (size_t)c] =
                    ((const uint8_t *)im.data)[(size_t)y * (size_t)im.stride + (size_t)x * (size_t)ch + (size_t)off[c]];
    fs_image_free(&im);
    return FS_OK;
}

static int fail(fs_status st, const char *what, const char *detail)
{
    fprintf(stderr, "bench_render: %s: %s (%s)\n", what, fs_status_name(st), detail ? detail : "");
    return 1;
}

int main(int argc, char **argv)
{
    int reps = 30, a = 1;
    if (argc > 2 && strcmp(argv[1], "--reps") == 0) {
        reps = atoi(argv[2]);
        a = 3;
    }
    if (argc - a != 2 || reps < 1 || reps > 100000) {
        fprintf(stderr, "usage: bench_render [--reps N] SOURCE TARGET\n");
        return 2;
    }
    fs_context *ctx;
    fs_detector *det;
    fs_fitter *fit;
    fs_renderer *ren;
    fs_identity *id;
    fs_image src, tgt;
    fs_status st = fs_context_create(&ctx);
    if (st != FS_OK)
        return fail(st, "context", NULL);
    if ((st = fs_detector_create(ctx, &det)) != FS_OK || (st = fs_fitter_create(ctx, &fit)) != FS_OK ||
        (st = fs_renderer_create(ctx, &ren)) != FS_OK)
        return fail(st, "create", fs_context_last_error(ctx));
    if ((st = load_rgb8(ctx, argv[a], &src)) != FS_OK || (st = load_rgb8(ctx, argv[a + 1], &tgt)) != FS_OK)
        return fail(st, "load", fs_context_last_error(ctx));
    if ((st = fs_identity_create_from_image(ctx, &src, FS_IDENTITY_LARGEST_FACE, &id)) != FS_OK)
        return fail(st, "identity", fs_context_last_error(ctx));
    fs_face_box faces[16];
    fs_face_landmarks lm;
    int n = 0, chosen = -1;
    if ((st = fs_detector_run(det, &tgt, faces, 16, &n)) != FS_OK ||
        (st = fs_swap_fit_face(fit, &tgt, faces, n < 16 ? n : 16, -1, &lm, &chosen)) != FS_OK)
        return fail(st, "target face", NULL);

    const fs_engine *ops = fs_context_engine(ctx);
    const fs_swap_mesh *mesh = fs_renderer_internal_mesh(ren);
    const fs_identity_data *idd = fs_identity_internal_data(id);
    fs_swap_params p = *fs_renderer_internal_params(ren);
    fs_error_buf err;
    fs_swap_target *t = malloc(sizeof(*t));
    double *ms = malloc(sizeof(double) * (size_t)reps);
    uint8_t *win = malloc((size_t)tgt.stride * (size_t)tgt.height);
    if (!t || !ms || !win)
        return fail(FS_ERR_OUT_OF_MEMORY, "malloc", NULL);
    for (int r = 0; r < reps; r++) {
        const double t0 = bench_now_ms();
        st = fs_swap_target_prepare(ops, FS_EXEC_SERIAL(&err), mesh, &p, &tgt, (const float(*)[3])lm.points, t);
        ms[r] = bench_now_ms() - t0;
        if (st != FS_OK)
            return fail(st, "prepare", err.text);
    }
    printf("face %.0f px, window %d x %d\n", t->face_size, t->w, t->h);
    printf("prepare (once per template frame)  %7.2f ms\n", bench_median(ms, reps));

    fs_engine timed = *ops;
    base = ops;
    timed.raster.triangles = t_raster;
    timed.compose.blur = t_blur;
    timed.swap.lookup = t_lookup;
    timed.compose.mask_erode = t_erode;
    timed.compose.mask_feather = t_feather;
    timed.compose.colour_match_to = t_match_to;
    timed.compose.colour_shading = t_shading;
    timed.compose.colour_chroma = t_chroma;
    timed.compose.colour_detail = t_detail;
    timed.swap.finish_u8 = t_finish;
    timed.compose.blend_multiband_u8 = t_multiband;
    timed.compose.blend_poisson_u8 = t_poisson;
    static const char *const blend_name[3] = {"alpha", "multiband", "poisson"};
    const int def_blend = p.blend;
    fs_swap_workspace ws = {0};
    for (int b = 0; b < 3; b++) {
        p.blend = b;
        memset(stage_ms, 0, sizeof(stage_ms));
        for (int r = -1; r < reps; r++) { /* r = -1: the workspace grows */
            for (int y = 0; y < t->h; y++)
                memcpy(win + (size_t)y * (size_t)tgt.stride,
                       (const uint8_t *)tgt.data + (size_t)(t->y0 + y) * (size_t)tgt.stride + (size_t)t->x0 * 3,
                       (size_t)t->w * 3);
            const double t0 = bench_now_ms();
            st = fs_swap_render(b == def_blend ? &timed : ops, FS_EXEC_SERIAL(&err), &ws, mesh, &p, idd, t, win, tgt.stride, NULL);
            if (r >= 0)
                ms[r] = bench_now_ms() - t0;
            if (st != FS_OK)
                return fail(st, "render", err.text);
            if (r == -1) {
                memset(stage_ms, 0, sizeof(stage_ms));
                blur_calls = 0;
            }
        }
        double mean = 0;
        for (int r = 0; r < reps; r++)
            mean += ms[r] / reps;
        const double med = bench_median(ms, reps);
        printf("render + colour + blend, %-9s  %7.2f ms (min %.2f)%s\n", blend_name[b], med, ms[0],
               b == def_blend ? "  (default)" : "");
        if (b == def_blend) {
            double sum = 0;
            for (int k = 0; k < S_N; k++)
                if (stage_ms[k] > 0) {
                    printf("    %-10s %6.2f ms\n", stage_name[k], stage_ms[k] / reps);
                    sum += stage_ms[k] / reps;
                }
            printf("    %-10s %6.2f ms (mean %.2f minus the stages: mask loops, copies)\n", "rest", mean - sum, mean);
            printf("    %.1f plane blurs per call\n", (double)blur_calls / reps);
        }
    }
    fs_swap_workspace_free(&ws);
    free(win);
    free(ms);
    free(t);
    free(src.data);
    free(tgt.data);
    fs_identity_destroy(id);
    fs_renderer_destroy(ren);
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
    return 0;
}
