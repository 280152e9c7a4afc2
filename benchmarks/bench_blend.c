/*
 * Blend-stage benchmark (issue 3, item 6): times the Poisson and multi-band
 * blends of lib/compose on one face window of a 1920x1080 target, and
 * prints the border-gradient seam measure (lib/compose/quality.h) of each.
 * benchmarks/bench_blend.py runs this, then OpenCV's seamlessClone on the
 * same region, source and mask (written by --out), and measures OpenCV's
 * result with --seam, so both sides use the same code for the measure.
 *
 *   bench_blend [--reps N] [--cycles N] [--rim N] [--out DIR] [--window X,Y,W,H] IMAGE
 *   bench_blend --seam TARGET.ppm RESULT.ppm MASK.pgm X Y
 *
 * The target is IMAGE cropped to 1920x1080 (rows from --crop-y, default
 * 100); the face window defaults to 400x400 around faceapi_sample1.jpg's
 * largest face (the library's detector puts it at 418,408 192x192 in the
 * full image). The "render" is the window mirrored left-right and colour
 * shifted (gain 1.15/0.95/0.85, +12): a different face at another colour,
 * which is what a swap blends. The mask is an ellipse inside the window.
 * Prints key=value lines; asserts nothing. Run pinned to one core
 * (taskset -c 0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compose/blend.h"
#include "compose/mask.h"
#include "compose/quality.h"
#include "faceswap/faceswap.h"
#include "internal.h"

enum { TW = 1920, TH = 1080 };

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int write_pnm(const char *path, const uint8_t *px, int w, int h, ptrdiff_t stride, int ch)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    fprintf(f, "P%d\n%d %d\n255\n", ch == 3 ? 6 : 5, w, h);
    for (int y = 0; y < h; y++)
        fwrite(px + (size_t)y * stride, 1, (size_t)w * ch, f);
    return fclose(f);
}

/* Reads a binary P5/P6 with maxval 255 written by write_pnm or OpenCV. */
static uint8_t *read_pnm(const char *path, int ch, int *w, int *h)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    int type = 0, maxv = 0;
    uint8_t *px = NULL;
    if (fscanf(f, "P%d %d %d %d", &type, w, h, &maxv) == 4 && type == (ch == 3 ? 6 : 5) &&
        maxv == 255 && *w > 0 && *h > 0 && *w <= 16384 && *h <= 16384 && fgetc(f) != EOF) {
        const size_t n = (size_t)*w * *h * ch;
        px = malloc(n);
        if (px && fread(px, 1, n, f) != n) {
            free(px);
            px = NULL;
        }
    }
    fclose(f);
    return px;
}

static int seam_mode(char **argv)
{
    int tw, th, rw, rh, mw, mh;
    uint8_t *t = read_pnm(argv[2], 3, &tw, &th), *r = read_pnm(argv[3], 3, &rw, &rh),
            *m = read_pnm(argv[4], 1, &mw, &mh);
    const int x0 = atoi(argv[5]), y0 = atoi(argv[6]);
    if (!t || !r || !m || tw != rw || th != rh || x0 < 0 || y0 < 0 || x0 + mw > tw ||
        y0 + mh > th) {
        fprintf(stderr, "bench_blend --seam: cannot read the images or the window is outside\n");
        return 1;
    }
    for (int i = 0; i < mw * mh; i++)
        m[i] = m[i] >= 128;
    fs_seam_measure sm;
    const size_t off = ((size_t)y0 * tw + x0) * 3;
    if (fs_seam_gradient_u8(NULL, r + off, 3 * tw, t + off, 3 * tw, m, mw, mw, mh, &sm) != FS_OK)
        return 1;
    /* Also how much of the image outside the window changed. */
    long changed = 0;
    for (int y = 0; y < th; y++)
        for (int x = 0; x < tw; x++) {
            const int inwin = x >= x0 && x < x0 + mw && y >= y0 && y < y0 + mh;
            const int inmask = inwin && m[(size_t)(y - y0) * mw + (x - x0)];
            if (!inmask)
                changed += memcmp(&t[((size_t)y * tw + x) * 3], &r[((size_t)y * tw + x) * 3], 3) != 0;
        }
    printf("seam_result=%.4f\nseam_target=%.4f\nseam_ratio=%.4f\nseam_pairs=%ld\n"
           "outside_changed_pixels=%ld\n",
           sm.result_grad, sm.target_grad, sm.ratio, sm.pairs, changed);
    free(t), free(r), free(m);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "--seam") == 0)
        return seam_mode(argv);
    int reps = 30, cycles = 3, rim = 4, wx = 314, wy = 204, ww = 400, wh = 400, crop_y = 100;
    const char *out_dir = NULL, *image = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out_dir = argv[++i];
        else if (strcmp(argv[i], "--rim") == 0 && i + 1 < argc)
            rim = atoi(argv[++i]);
        else if (strcmp(argv[i], "--cycles") == 0 && i + 1 < argc)
            cycles = atoi(argv[++i]);
        else if (strcmp(argv[i], "--crop-y") == 0 && i + 1 < argc)
            crop_y = atoi(argv[++i]);
        else if (strcmp(argv[i], "--window") == 0 && i + 1 < argc) {
            if (sscanf(argv[++i], "%d,%d,%d,%d", &wx, &wy, &ww, &wh) != 4)
                return fprintf(stderr, "bad --window\n"), 2;
        } else
            image = argv[i];
    }
    if (!image || reps < 1 || reps > 10000 || ww < 16 || wh < 16 || wx < 0 || wy < 0 ||
        wx + ww > TW || wy + wh > TH) {
        fprintf(stderr, "usage: bench_blend [--reps N] [--out DIR] [--window X,Y,W,H] IMAGE\n");
        return 2;
    }
    fs_context *ctx;
    fs_image img;
    if (fs_context_create(&ctx) != FS_OK || fs_image_read_file(ctx, image, &img) != FS_OK ||
        img.width < TW || img.height < crop_y + TH) {
        fprintf(stderr, "bench_blend: cannot read %s as an image of at least %dx%d\n", image, TW,
                TH + crop_y);
        return 1;
    }
    const size_t tsz = (size_t)TW * TH * 3;
    uint8_t *target = malloc(tsz), *work = malloc(tsz);
    uint8_t *src = malloc((size_t)ww * wh * 3), *mask = malloc((size_t)ww * wh);
    float *alpha = malloc(sizeof(float) * (size_t)ww * wh);
    double *t = malloc(sizeof(double) * (size_t)reps);
    if (!target || !work || !src || !mask || !alpha || !t)
        return 1;
    for (int y = 0; y < TH; y++)
        memcpy(target + (size_t)y * TW * 3, (const uint8_t *)img.data + (size_t)(y + crop_y) * img.stride,
               (size_t)TW * 3);
    static const float gain[3] = {1.15f, 0.95f, 0.85f};
    for (int y = 0; y < wh; y++)
        for (int x = 0; x < ww; x++) {
            const uint8_t *p = target + ((size_t)(wy + y) * TW + (wx + ww - 1 - x)) * 3;
            for (int c = 0; c < 3; c++) {
                const float v = p[c] * gain[c] + 12.0f;
                src[((size_t)y * ww + x) * 3 + c] = (uint8_t)(v > 255.0f ? 255.0f : v + 0.5f);
            }
            const double dx = (x - (ww - 1) / 2.0) / (0.42 * ww),
                         dy = (y - (wh - 1) / 2.0) / (0.46 * wh);
            mask[(size_t)y * ww + x] = dx * dx + dy * dy <= 1.0;
        }
    const size_t woff = ((size_t)wy * TW + wx) * 3;
    fs_error_buf err = {{0}};
    fs_ops ops;
    fs_ops_init_reference(&ops);
    fs_ops_init_fast(&ops);

    /* Poisson. */
    const fs_poisson_opts popts = {cycles, 0.25, rim}; /* residual in 8-bit Laplacian units */
    fs_poisson_info info = {0, 0, 0};
    for (int r = 0; r < reps; r++) {
        memcpy(work, target, tsz);
        const double t0 = now_ms();
        if (fs_blend_poisson_u8(&err, src, 3 * ww, work + woff, 3 * TW, mask, ww, ww, wh, &popts,
                                &info) != FS_OK)
            return fprintf(stderr, "poisson: %s\n", err.text), 1;
        t[r] = now_ms() - t0;
    }
    fs_seam_measure sm;
    fs_seam_gradient_u8(NULL, work + woff, 3 * TW, target + woff, 3 * TW, mask, ww, ww, wh, &sm);
    printf("window=%d,%d,%d,%d\nunknowns=%d\n", wx, wy, ww, wh, info.unknowns);
    printf("poisson_ms=%.3f\npoisson_cycles=%d\npoisson_residual=%.4f\npoisson_seam=%.4f\n",
           median(t, reps), info.cycles, info.max_residual, sm.result_grad);
    printf("target_seam=%.4f\n", sm.target_grad);
    if (out_dir) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/ours_poisson.ppm", out_dir);
        write_pnm(path, work, TW, TH, 3 * TW, 3);
    }

    /* Multi-band, feathered 8 px (the feather is the mask stage's; timed apart). */
    double tf = now_ms();
    fs_mask_feather(&err, mask, ww, wh, ww, 8.0, 1, alpha, ww);
    tf = now_ms() - tf;
    for (int r = 0; r < reps; r++) {
        memcpy(work, target, tsz);
        const double t0 = now_ms();
        if (fs_blend_multiband_u8(&err, src, 3 * ww, work + woff, 3 * TW, alpha, ww, wh, 0) != FS_OK)
            return fprintf(stderr, "multiband: %s\n", err.text), 1;
        t[r] = now_ms() - t0;
    }
    fs_seam_gradient_u8(NULL, work + woff, 3 * TW, target + woff, 3 * TW, mask, ww, ww, wh, &sm);
    printf("multiband_ms=%.3f\nmultiband_levels=%d\nmultiband_seam=%.4f\nfeather_ms=%.3f\n",
           median(t, reps), fs_blend_multiband_levels(ww, wh), sm.result_grad, tf);
    if (out_dir) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/ours_multiband.ppm", out_dir);
        write_pnm(path, work, TW, TH, 3 * TW, 3);
    }

    /* Feathered alpha, for scale (the seam a plain paste leaves). */
    for (int r = 0; r < reps; r++) {
        memcpy(work, target, tsz);
        const double t0 = now_ms();
        fs_blend_alpha_u8(&err, &ops, src, 3 * ww, work + woff, 3 * TW, alpha, ww, ww, wh);
        t[r] = now_ms() - t0;
    }
    fs_seam_gradient_u8(NULL, work + woff, 3 * TW, target + woff, 3 * TW, mask, ww, ww, wh, &sm);
    printf("alpha_ms=%.3f\nalpha_seam=%.4f\n", median(t, reps), sm.result_grad);

    if (out_dir) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/target.ppm", out_dir);
        write_pnm(path, target, TW, TH, 3 * TW, 3);
        snprintf(path, sizeof(path), "%s/source.ppm", out_dir);
        write_pnm(path, src, ww, wh, 3 * ww, 3);
        for (int i = 0; i < ww * wh; i++)
            mask[i] = mask[i] ? 255 : 0;
        snprintf(path, sizeof(path), "%s/mask.pgm", out_dir);
        write_pnm(path, mask, ww, wh, ww, 1);
    }
    free(target), free(work), free(src), free(mask), free(alpha), free(t);
    fs_image_free(&img);
    fs_context_destroy(ctx);
    return 0;
}
