/*
 * End-to-end perception benchmark over the public API: for each image, the
 * median milliseconds of detect (fs_detector_run) and of detect + fit of
 * every face (fs_fitter_run, FaceMesh + Iris), decode excluded. Prints one
 * line per image and a JSON object on the last line.
 *
 *   bench_pipeline [--reps N] [--reference] [--compat] IMAGE...
 *
 * --reference forces the plain-C kernels; --compat uses the settings of the
 * TensorFlow.js reference (squash input, no roll alignment, Human's iris
 * handling), so that its figures compare like for like with
 * benchmarks/tfjs_reference.sh (same faces, same number of FaceMesh runs).
 *
 * Pin it to one core (benchmarks/run.sh uses taskset -c 0): the figures in
 * doc/performance.md are one-core figures.
 */
#include <faceswap/faceswap.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

static int check(fs_status st, const char *what, fs_context *ctx)
{
    if (st == FS_OK)
        return 0;
    fprintf(stderr, "bench_pipeline: %s: %s (%s)\n", what, fs_status_name(st),
            ctx ? fs_context_last_error(ctx) : "");
    return 1;
}

int main(int argc, char **argv)
{
    int reps = 30, reference = 0, compat = 0, first = 1;
    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
        if (strcmp(argv[first], "--reps") == 0 && first + 1 < argc)
            reps = atoi(argv[++first]);
        else if (strcmp(argv[first], "--reference") == 0)
            reference = 1;
        else if (strcmp(argv[first], "--compat") == 0)
            compat = 1;
        else {
            fprintf(stderr, "usage: bench_pipeline [--reps N] [--reference] [--compat] IMAGE...\n");
            return 2;
        }
    }
    if (first >= argc || reps < 1) {
        fprintf(stderr, "usage: bench_pipeline [--reps N] [--reference] [--compat] IMAGE...\n");
        return 2;
    }
    fs_context *ctx = NULL;
    fs_detector *det = NULL;
    fs_fitter *fit = NULL;
    if (check(fs_context_create(&ctx), "context", NULL) ||
        check(fs_context_set(ctx, FS_CONTEXT_FORCE_REFERENCE, reference), "reference", ctx) ||
        check(fs_detector_create(ctx, &det), "detector", ctx) ||
        check(fs_fitter_create(ctx, &fit), "fitter", ctx))
        return 1;
    if (compat &&
        (check(fs_detector_set(det, FS_DETECTOR_INPUT_MODE, FS_DETECTOR_INPUT_SQUASH), "squash", ctx) ||
         check(fs_fitter_set(fit, FS_FITTER_ALIGN, FS_FITTER_ALIGN_NONE), "align", ctx) ||
         check(fs_fitter_set(fit, FS_FITTER_REFERENCE_QUIRKS, 1), "quirks", ctx)))
        return 1;

    double *t_det = calloc((size_t)reps, sizeof(double));
    double *t_all = calloc((size_t)reps, sizeof(double));
    if (!t_det || !t_all)
        return 1;
    printf("{\"benchmark\":\"pipeline\",\"path\":\"%s\",\"settings\":\"%s\",\"reps\":%d,\"images\":[",
           reference ? "reference" : "fast", compat ? "reference-compatible" : "default", reps);
    for (int i = first; i < argc; i++) {
        fs_image img;
        if (check(fs_image_read_file(ctx, argv[i], &img), argv[i], ctx))
            return 1;
        fs_face_box faces[16];
        fs_face_landmarks lm;
        int n = 0, fitted = 0;
        for (int r = -2; r < reps; r++) { /* two warm-up runs */
            double t0 = bench_now_ms();
            if (check(fs_detector_run(det, &img, faces, 16, &n), "detect", ctx))
                return 1;
            double t1 = bench_now_ms();
            fitted = 0;
            for (int k = 0; k < n && k < 16; k++)
                fitted += fs_fitter_run(fit, &img, &faces[k], &lm) == FS_OK;
            double t2 = bench_now_ms();
            if (r >= 0) {
                t_det[r] = t1 - t0;
                t_all[r] = t2 - t0;
            }
        }
        double md = bench_median(t_det, reps), ma = bench_median(t_all, reps);
        fprintf(stderr, "%s: %dx%d faces=%d fitted=%d detect %.2f ms, detect+fit %.2f ms (%.2f ms per face fit)\n",
                argv[i], img.width, img.height, n, fitted, md, ma, fitted ? (ma - md) / fitted : 0.0);
        printf("%s{\"image\":\"%s\",\"width\":%d,\"height\":%d,\"faces\":%d,\"fitted\":%d,"
               "\"detect_ms\":%.3f,\"detect_fit_ms\":%.3f}",
               i > first ? "," : "", argv[i], img.width, img.height, n, fitted, md, ma);
        fs_image_free(&img);
    }
    printf("]}\n");
    free(t_det);
    free(t_all);
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
    return 0;
}
