/*
 * Swap benchmark over the public API (issue 3, item 6): a 1920x1080 target
 * with one face (the face photo, its centre cropped to 1920x1080 where
 * larger, pasted on a grey canvas), median
 * milliseconds of
 *   - identity capture from a decoded photo (fs_identity_create_from_image;
 *     the context keeps its detector and fitter after the first call, which
 *     is timed apart as "first capture"),
 *   - detect + fit of the target (fs_detector_run + fs_fitter_run),
 *   - render + colour + blend (fs_renderer_swap_face) per blend mode,
 * and, apart, decoding the source and target files and encoding the
 * result as JPEG and PNG (written to OUTDIR).
 *
 *   bench_swap [--reps N] SOURCE FACE_IMAGE [OUTDIR]
 *
 * Pin it to one core (taskset -c 0): the figures in doc/swap.md are
 * one-core figures.
 */
#include <faceswap/faceswap.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

static int check(fs_status st, const char *what, fs_context *ctx)
{
    if (st == FS_OK)
        return 0;
    fprintf(stderr, "bench_swap: %s: %s (%s)\n", what, fs_status_name(st),
            ctx ? fs_context_last_error(ctx) : "");
    return 1;
}

/* A caller-owned RGB8 image of w x h, packed rows; data NULL on failure. */
static fs_image new_rgb(int w, int h)
{
    fs_image im;
    memset(&im, 0, sizeof(im));
    im.width = w;
    im.height = h;
    im.stride = w * 3;
    im.format = FS_PIXEL_RGB8;
    im.memory = FS_MEMORY_HOST;
    im.data = malloc((size_t)w * (size_t)h * 3);
    return im;
}

static void copy_rgb(fs_image *dst, const fs_image *src)
{
    for (int y = 0; y < src->height; y++)
        memcpy((uint8_t *)dst->data + (size_t)y * (size_t)dst->stride,
               (const uint8_t *)src->data + (size_t)y * (size_t)src->stride, (size_t)src->width * 3);
}

int main(int argc, char **argv)
{
    int reps = 15, first = 1;
    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
        if (strcmp(argv[first], "--reps") == 0 && first + 1 < argc)
            reps = atoi(argv[++first]);
        else
            break;
    }
    if (argc - first < 2 || argc - first > 3 || reps < 1) {
        fprintf(stderr, "usage: bench_swap [--reps N] SOURCE FACE_IMAGE [OUTDIR]\n");
        return 2;
    }
    const char *src_path = argv[first], *face_path = argv[first + 1];
    const char *outdir = argc - first == 3 ? argv[first + 2] : "/tmp";
    char tgt_png[4096], tgt_jpg[4096], out_png[4096], out_jpg[4096];
    snprintf(tgt_png, sizeof(tgt_png), "%s/bench_swap_target.png", outdir);
    snprintf(tgt_jpg, sizeof(tgt_jpg), "%s/bench_swap_target.jpg", outdir);
    snprintf(out_png, sizeof(out_png), "%s/bench_swap_result.png", outdir);
    snprintf(out_jpg, sizeof(out_jpg), "%s/bench_swap_result.jpg", outdir);

    fs_context *ctx = NULL;
    fs_detector *det = NULL;
    fs_fitter *fit = NULL;
    fs_renderer *ren = NULL;
    if (check(fs_context_create(&ctx), "context", NULL) ||
        check(fs_detector_create(ctx, &det), "detector", ctx) ||
        check(fs_fitter_create(ctx, &fit), "fitter", ctx) ||
        check(fs_renderer_create(ctx, &ren), "renderer", ctx))
        return 1;
    double *t = calloc((size_t)reps, sizeof(double));
    if (!t)
        return 1;

    /* The target: the face photo pasted in the middle of a grey 1920x1080 canvas. */
    fs_image src, face;
    if (check(fs_image_read_file(ctx, src_path, &src), src_path, ctx) ||
        check(fs_image_read_file(ctx, face_path, &face), face_path, ctx))
        return 1;
    if (src.format != FS_PIXEL_RGB8 || face.format != FS_PIXEL_RGB8) {
        fprintf(stderr, "bench_swap: RGB images expected\n");
        return 1;
    }
    fs_image big = new_rgb(1920, 1080), work = new_rgb(1920, 1080);
    if (!big.data || !work.data)
        return 1;
    memset(big.data, 128, (size_t)big.stride * 1080);
    {
        /* its centre, cropped to the canvas where larger */
        const int cw = face.width < 1920 ? face.width : 1920;
        const int ch = face.height < 1080 ? face.height : 1080;
        fs_image part = face;
        part.width = cw;
        part.height = ch;
        part.data = (uint8_t *)face.data + (size_t)((face.height - ch) / 2) * (size_t)face.stride +
                    (size_t)((face.width - cw) / 2) * 3;
        fs_image dst = big;
        dst.data = (uint8_t *)big.data + (size_t)((1080 - ch) / 2) * (size_t)big.stride +
                   (size_t)((1920 - cw) / 2) * 3;
        copy_rgb(&dst, &part);
    }

    /* Identity capture: the first call of the context (loads the models), then the median. */
    fs_identity *id = NULL;
    double t0 = bench_now_ms();
    if (check(fs_identity_create_from_image(ctx, &src, FS_IDENTITY_LARGEST_FACE, &id), "capture", ctx))
        return 1;
    const double t_first = bench_now_ms() - t0;
    for (int r = 0; r < reps; r++) {
        fs_identity *x = NULL;
        t0 = bench_now_ms();
        if (check(fs_identity_create_from_image(ctx, &src, FS_IDENTITY_LARGEST_FACE, &x), "capture", ctx))
            return 1;
        t[r] = bench_now_ms() - t0;
        fs_identity_destroy(x);
    }
    const double t_capture = bench_median(t, reps);

    /* Detect + fit of the target. */
    fs_face_box box[16];
    fs_face_landmarks lm;
    int n = 0, found = 0, face_k = 0;
    for (int r = -2; r < reps; r++) { /* two warm-up runs */
        t0 = bench_now_ms();
        if (check(fs_detector_run(det, &big, box, 16, &n), "detect", ctx))
            return 1;
        /* the largest face the fitter accepts */
        int best = -1;
        for (int k = 0; k < n && k < 16; k++)
            if (best < 0 || box[k].width * box[k].height > box[best].width * box[best].height)
                best = k;
        face_k = best >= 0 ? best : 0;
        found = best >= 0 && fs_fitter_run(fit, &big, &box[best], &lm) == FS_OK;
        if (r >= 0)
            t[r] = bench_now_ms() - t0;
    }
    if (!found) {
        fprintf(stderr, "bench_swap: no face fitted in the target\n");
        return 1;
    }
    const double t_fit = bench_median(t, reps);

    /* Render + colour + blend, per blend mode (the image copy is not timed). */
    static const char *blend_names[3] = {"alpha", "multiband", "poisson"};
    double t_blend[3];
    for (int b = 0; b < 3; b++) {
        if (fs_renderer_set(ren, FS_RENDERER_BLEND, b) != FS_OK)
            return 1;
        for (int r = -1; r < reps; r++) {
            copy_rgb(&work, &big);
            t0 = bench_now_ms();
            if (fs_renderer_swap_face(ren, id, &work, &lm) != FS_OK) {
                fprintf(stderr, "bench_swap: swap: %s\n", fs_renderer_last_error(ren));
                return 1;
            }
            if (r >= 0)
                t[r] = bench_now_ms() - t0;
        }
        t_blend[b] = bench_median(t, reps);
    }
    /* `work` now holds the poisson result; encode the default (multiband) one. */
    if (fs_renderer_set(ren, FS_RENDERER_BLEND, FS_BLEND_MULTIBAND) != FS_OK)
        return 1;
    copy_rgb(&work, &big);
    if (fs_renderer_swap_face(ren, id, &work, &lm) != FS_OK)
        return 1;

    /* File costs: decode of the source and of the 1920x1080 target (PNG and
     * JPEG), encode of the result. */
    if (check(fs_image_write_file(ctx, &big, tgt_png), tgt_png, ctx) ||
        check(fs_image_write_file(ctx, &big, tgt_jpg), tgt_jpg, ctx))
        return 1;
    const char *dec_paths[3] = {src_path, tgt_png, tgt_jpg};
    double t_dec[3];
    for (int k = 0; k < 3; k++) {
        for (int r = 0; r < reps; r++) {
            fs_image im;
            t0 = bench_now_ms();
            if (check(fs_image_read_file(ctx, dec_paths[k], &im), dec_paths[k], ctx))
                return 1;
            t[r] = bench_now_ms() - t0;
            fs_image_free(&im);
        }
        t_dec[k] = bench_median(t, reps);
    }
    const char *enc_paths[2] = {out_jpg, out_png};
    double t_enc[2];
    for (int k = 0; k < 2; k++) {
        for (int r = 0; r < reps; r++) {
            t0 = bench_now_ms();
            if (check(fs_image_write_file(ctx, &work, enc_paths[k]), enc_paths[k], ctx))
                return 1;
            t[r] = bench_now_ms() - t0;
        }
        t_enc[k] = bench_median(t, reps);
    }

    fprintf(stderr, "target 1920x1080, face box %.0fx%.0f px; %d reps, median ms\n", box[face_k].width,
            box[face_k].height, reps);
    fprintf(stderr, "identity capture (%dx%d source, decoded): %.2f ms (first call of the context, "
            "loading the models: %.2f ms)\n", src.width, src.height, t_capture, t_first);
    fprintf(stderr, "detect + fit (target): %.2f ms\n", t_fit);
    for (int b = 0; b < 3; b++)
        fprintf(stderr, "render + colour + blend %-9s: %.2f ms; detect + fit + swap %.2f ms\n",
                blend_names[b], t_blend[b], t_fit + t_blend[b]);
    fprintf(stderr, "decode: source %.2f ms, target PNG %.2f ms, target JPEG %.2f ms\n", t_dec[0],
            t_dec[1], t_dec[2]);
    fprintf(stderr, "encode result: JPEG (q92) %.2f ms, PNG %.2f ms\n", t_enc[0], t_enc[1]);
    printf("{\"benchmark\":\"swap\",\"reps\":%d,\"capture_ms\":%.3f,\"first_capture_ms\":%.3f,"
           "\"detect_fit_ms\":%.3f,\"swap_alpha_ms\":%.3f,\"swap_multiband_ms\":%.3f,"
           "\"swap_poisson_ms\":%.3f,\"decode_source_ms\":%.3f,\"decode_target_png_ms\":%.3f,"
           "\"decode_target_jpg_ms\":%.3f,\"encode_jpg_ms\":%.3f,\"encode_png_ms\":%.3f}\n",
           reps, t_capture, t_first, t_fit, t_blend[0], t_blend[1], t_blend[2], t_dec[0], t_dec[1],
           t_dec[2], t_enc[0], t_enc[1]);

    free(t);
    free(big.data);
    free(work.data);
    fs_identity_destroy(id);
    fs_image_free(&face);
    fs_image_free(&src);
    fs_renderer_destroy(ren);
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
    return 0;
}
