/*
 * The poster on one core (issue 10, item 8): a 1920x1080 JPEG with one face
 * of about 250 px in, the swapped JPEG out, timed part by part:
 *   decode   fs_image_read_file of the poster JPEG
 *   detect   fs_detector_run
 *   fit      fs_swap_fit_face (the largest face the fitter accepts)
 *   prepare  fs_swap_target_prepare (the target's side: window, skin statistics)
 *   swap     fs_swap_render: render + light + colour + blend, the renderer's defaults
 *   encode   fs_image_write_file of the result as JPEG (quality 92)
 * and the total of one poster (all six in a row, timed as a whole). The
 * identity is made once beforehand. The input is built in the run: the
 * face photo scaled so that its largest face's detector box is FACE_PX
 * wide, that face centred on a grey 1920x1080 canvas, written as JPEG.
 *
 *   bench_poster [--reps N] SOURCE FACE_PHOTO [OUTDIR]
 *
 * Pin it to one core (taskset -c 0). Prints median ms of each part beside
 * the targets (total <= 60 ms, swap <= 15 ms), then one JSON line.
 */
#include <faceswap/faceswap.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "engine.h"
#include "scratch.h"
#include "swap/swap.h"

enum { CANVAS_W = 1920, CANVAS_H = 1080, FACE_PX = 250, MAX_FACES = 16 };
enum { P_DECODE, P_DETECT, P_FIT, P_PREPARE, P_SWAP, P_ENCODE, P_TOTAL, P_N };
static const char *const part_name[P_N] = {"decode", "detect", "fit", "prepare", "swap", "encode", "total"};

static int fail(fs_status st, const char *what, const char *detail)
{
    fprintf(stderr, "bench_poster: %s: %s (%s)\n", what, fs_status_name(st), detail ? detail : "");
    return 1;
}

/* Bilinear sample of packed RGB8 @p src at (x, y), clamped to the edges. */
static void sample_rgb(const fs_image *src, double x, double y, uint8_t out[3])
{
    x = x < 0 ? 0 : x > src->width - 1 ? src->width - 1 : x;
    y = y < 0 ? 0 : y > src->height - 1 ? src->height - 1 : y;
    const int x0 = (int)x, y0 = (int)y;
    const int x1 = x0 + 1 < src->width ? x0 + 1 : x0, y1 = y0 + 1 < src->height ? y0 + 1 : y0;
    const double fx = x - x0, fy = y - y0;
    const uint8_t *const p = src->data;
    for (int c = 0; c < 3; c++) {
        const double top = p[(size_t)y0 * src->stride + (size_t)x0 * 3 + c] * (1 - fx) +
                           p[(size_t)y0 * src->stride + (size_t)x1 * 3 + c] * fx;
        const double bot = p[(size_t)y1 * src->stride + (size_t)x0 * 3 + c] * (1 - fx) +
                           p[(size_t)y1 * src->stride + (size_t)x1 * 3 + c] * fx;
        out[c] = (uint8_t)lrint(top * (1 - fy) + bot * fy);
    }
}

/* The poster input: @p photo scaled by FACE_PX / box width, the box's centre
 * at the canvas centre, grey where the photo does not reach. Written to
 * @p path as JPEG. */
static fs_status make_poster(fs_context *ctx, fs_detector *det, const fs_image *photo, const char *path)
{
    fs_face_box faces[MAX_FACES];
    int n = 0;
    fs_status st = fs_detector_run(det, photo, faces, MAX_FACES, &n);
    if (st != FS_OK)
        return st;
    if (n == 0)
        return FS_ERR_NO_FACE;
    int big = 0;
    for (int k = 1; k < n && k < MAX_FACES; k++)
        if (faces[k].width * faces[k].height > faces[big].width * faces[big].height)
            big = k;
    const double scale = FACE_PX / (double)faces[big].width;
    const double cx = faces[big].x + faces[big].width / 2, cy = faces[big].y + faces[big].height / 2;
    fs_image canvas = {.width = CANVAS_W, .height = CANVAS_H, .stride = CANVAS_W * 3,
                       .format = FS_PIXEL_RGB8, .memory = FS_MEMORY_HOST};
    uint8_t *const px = malloc((size_t)CANVAS_W * CANVAS_H * 3);
    if (!px)
        return FS_ERR_OUT_OF_MEMORY;
    canvas.data = px;
    for (int y = 0; y < CANVAS_H; y++) {
        for (int x = 0; x < CANVAS_W; x++) {
            uint8_t *const o = px + ((size_t)y * CANVAS_W + (size_t)x) * 3;
            const double sx = cx + (x + 0.5 - CANVAS_W / 2.0) / scale - 0.5;
            const double sy = cy + (y + 0.5 - CANVAS_H / 2.0) / scale - 0.5;
            if (sx < -0.5 || sy < -0.5 || sx > photo->width - 0.5 || sy > photo->height - 0.5)
                o[0] = o[1] = o[2] = 128;
            else
                sample_rgb(photo, sx, sy, o);
        }
    }
    st = fs_image_write_file(ctx, &canvas, path);
    free(px);
    return st;
}

int main(int argc, char **argv)
{
    int reps = 15, a = 1;
    if (argc > 2 && strcmp(argv[1], "--reps") == 0) {
        reps = atoi(argv[2]);
        a = 3;
    }
    if (argc - a < 2 || argc - a > 3 || reps < 1 || reps > 100000) {
        fprintf(stderr, "usage: bench_poster [--reps N] SOURCE FACE_PHOTO [OUTDIR]\n");
        return 2;
    }
    const char *const outdir = argc - a == 3 ? argv[a + 2] : "/tmp";
    char in_path[4096], out_path[4096];
    snprintf(in_path, sizeof(in_path), "%s/bench_poster_in.jpg", outdir);
    snprintf(out_path, sizeof(out_path), "%s/bench_poster_out.jpg", outdir);

    fs_context *ctx;
    fs_detector *det;
    fs_fitter *fit;
    fs_renderer *ren;
    fs_identity *id;
    fs_image src, photo;
    fs_status st = fs_context_create(&ctx);
    if (st != FS_OK)
        return fail(st, "context", NULL);
    if ((st = fs_detector_create(ctx, &det)) != FS_OK || (st = fs_fitter_create(ctx, &fit)) != FS_OK ||
        (st = fs_renderer_create(ctx, &ren)) != FS_OK)
        return fail(st, "create", fs_context_last_error(ctx));
    if ((st = fs_image_read_file(ctx, argv[a], &src)) != FS_OK ||
        (st = fs_image_read_file(ctx, argv[a + 1], &photo)) != FS_OK)
        return fail(st, "load", fs_context_last_error(ctx));
    if ((st = fs_identity_create_from_image(ctx, &src, FS_IDENTITY_LARGEST_FACE, &id)) != FS_OK)
        return fail(st, "identity", fs_context_last_error(ctx));
    if ((st = make_poster(ctx, det, &photo, in_path)) != FS_OK)
        return fail(st, "poster input", fs_context_last_error(ctx));

    const fs_engine *const ops = fs_context_engine(ctx);
    const fs_swap_mesh *const mesh = fs_renderer_internal_mesh(ren);
    const fs_identity_data *const idd = fs_identity_internal_data(id);
    const fs_swap_params *const p = fs_renderer_internal_params(ren);
    fs_error_buf err;
    fs_swap_workspace ws = {0};
    fs_swap_target t;
    double *const ms = malloc(sizeof(double) * (size_t)reps * P_N);
    if (!ms)
        return fail(FS_ERR_OUT_OF_MEMORY, "malloc", NULL);
    double box_px = 0;
    for (int r = -2; r < reps; r++) { /* two warm-up posters: caches, the workspace grows */
        double part[P_N];
        fs_image im;
        fs_face_box faces[MAX_FACES];
        fs_face_landmarks lm;
        int n = 0, chosen = -1;
        const double t0 = bench_now_ms();
        double tp = t0, tn;
#define LAP(k) (tn = bench_now_ms(), part[k] = tn - tp, tp = tn)
        if ((st = fs_image_read_file(ctx, in_path, &im)) != FS_OK)
            return fail(st, "decode", fs_context_last_error(ctx));
        LAP(P_DECODE);
        if ((st = fs_detector_run(det, &im, faces, MAX_FACES, &n)) != FS_OK)
            return fail(st, "detect", fs_detector_last_error(det));
        LAP(P_DETECT);
        if ((st = fs_swap_fit_face(fit, &im, faces, n < MAX_FACES ? n : MAX_FACES, -1, &lm, &chosen)) != FS_OK)
            return fail(st, "fit", fs_fitter_last_error(fit));
        LAP(P_FIT);
        /* As fs_swap_face does it: the prepare's temporaries from the workspace. */
        fs_scratch *const outer = fs_scratch_bind(&ws.scratch);
        st = fs_swap_target_prepare(ops, FS_EXEC_SERIAL(&err), mesh, p, &im, (const float(*)[3])lm.points, &t);
        fs_scratch_bind(outer);
        (void)fs_scratch_fit(&ws.scratch);
        if (st != FS_OK)
            return fail(st, "prepare", err.text);
        LAP(P_PREPARE);
        uint8_t *const win = (uint8_t *)im.data + (size_t)t.y0 * (size_t)im.stride + (size_t)t.x0 * 3;
        if ((st = fs_swap_render(ops, FS_EXEC_SERIAL(&err), &ws, mesh, p, idd, &t, win, im.stride, NULL)) != FS_OK)
            return fail(st, "swap", err.text);
        LAP(P_SWAP);
        if ((st = fs_image_write_file(ctx, &im, out_path)) != FS_OK)
            return fail(st, "encode", fs_context_last_error(ctx));
        LAP(P_ENCODE);
#undef LAP
        part[P_TOTAL] = tp - t0;
        box_px = faces[chosen].width;
        fs_image_free(&im);
        if (r >= 0)
            for (int k = 0; k < P_N; k++)
                ms[(size_t)k * (size_t)reps + (size_t)r] = part[k];
    }
    double med[P_N];
    for (int k = 0; k < P_N; k++)
        med[k] = bench_median(ms + (size_t)k * (size_t)reps, reps);

    printf("poster %dx%d JPEG (%s), face box %.0f px (swap face size %.0f px, window %dx%d); "
           "%d posters, median ms\n", CANVAS_W, CANVAS_H, in_path, box_px, t.face_size, t.w, t.h, reps);
    for (int k = 0; k < P_N; k++) {
        const char *const target = k == P_TOTAL ? "   (target <= 60)" : k == P_SWAP ? "   (target <= 15)" : "";
        printf("  %-8s %7.2f%s\n", part_name[k], med[k], target);
    }
    printf("{\"benchmark\":\"poster\",\"reps\":%d,\"face_box_px\":%.0f", reps, box_px);
    for (int k = 0; k < P_N; k++)
        printf(",\"%s_ms\":%.3f", part_name[k], med[k]);
    printf("}\n");

    free(ms);
    fs_swap_workspace_free(&ws);
    fs_identity_destroy(id);
    fs_image_free(&photo);
    fs_image_free(&src);
    fs_renderer_destroy(ren);
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
    return 0;
}
