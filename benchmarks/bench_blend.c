/*
 * Blend-stage benchmark (issue 3, item 6): times the Poisson, multi-band and
 * feathered alpha blends of lib/compose on one face window of a 1920x1080
 * target, and prints the border-gradient seam measure (tests/quality/compose_quality.h,
 * the measure of item 4) of each. benchmarks/bench_blend.py runs this, then
 * OpenCV's seamlessClone on the same region, source and mask (written by
 * --out), and measures OpenCV's result with --seam, so both sides use the
 * same code for the measure.
 *
 *   bench_blend --source SOURCE [--reps N] [--crop-y N] [--out DIR] [POISSON] IMAGE
 *   bench_blend --synthetic [--reps N] [--crop-y N] [--out DIR] [--window X,Y,W,H]
 *               [POISSON] IMAGE
 *   bench_blend --seam TARGET.ppm RESULT.ppm MASK.pgm X Y
 *
 * The target is IMAGE cropped to 1920x1080 (rows from --crop-y, default 100).
 *
 * --source (the swap's own window): runs the swap pipeline once, as the
 * library does it, with the Poisson blend: SOURCE's largest face captured
 * (fs_identity_create_from_image), the target's largest face that the fitter
 * accepts detected and fitted, then lib/swap's fs_swap_face_rgb8 with the
 * renderer's settings. The blends are timed on what that swap fed its blend:
 * its face window, the colour-corrected render inside the hard mask and the
 * target outside it (as lib/swap/swap.c builds it), the hard mask, and for
 * multi-band and alpha the mask feathered as the swap does. Options as
 * lib/swap/swap.c passes them. As a check that these are the blend's real
 * inputs, each blend's result is compared with the swap's own output for
 * that blend mode (pipeline_diff_*: pixels that differ, expected 0).
 *
 * --synthetic (the earlier stand-in): the face window defaults to 400x400
 * around faceapi_sample1.jpg's largest face; the "render" is the window
 * mirrored left-right and colour shifted (gain 1.15/0.95/0.85, +12), the
 * mask an ellipse inside the window, feathered 8 px for multi-band/alpha.
 *
 * POISSON: --cycles N --tolerance T --rim N --band N override the Poisson options
 * (defaults: --source the swap's fs_swap_poisson_opts(); --synthetic 3, 0.25, 4); with
 * --source, pipeline_diff_poisson then shows how far the result moved.
 *
 * Prints key=value lines; asserts nothing. Run pinned to one core
 * (taskset -c 0; bench_blend.py pins itself).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#include "compose/blend.h"
#include "compose/mask.h"
#include "compose_quality.h"
#include "faceswap/faceswap.h"
#include "internal.h"
#include "swap/swap.h"
#include "engine.h"

enum { TW = 1920, TH = 1080 };

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

/* Pixels of two tw x th RGB images that differ outside the mask m (mw x mh
 * at x0, y0). */
static long changed_outside(const uint8_t *a, const uint8_t *b, int tw, int th, const uint8_t *m,
                            int x0, int y0, int mw, int mh)
{
    long changed = 0;
    for (int y = 0; y < th; y++)
        for (int x = 0; x < tw; x++) {
            const int inwin = x >= x0 && x < x0 + mw && y >= y0 && y < y0 + mh;
            const int inmask = inwin && m[(size_t)(y - y0) * mw + (x - x0)];
            const size_t o = ((size_t)y * tw + x) * 3;
            if (!inmask)
                changed += memcmp(a + o, b + o, 3) != 0;
        }
    return changed;
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
    printf("seam_result=%.4f\nseam_target=%.4f\nseam_ratio=%.4f\nseam_pairs=%ld\n"
           "outside_changed_pixels=%ld\n",
           sm.result_grad, sm.target_grad, sm.ratio, sm.pairs,
           changed_outside(t, r, tw, th, m, x0, y0, mw, mh));
    free(t), free(r), free(m);
    return 0;
}

/* What the blends get: the target, the window, the blend's source over the
 * window, its hard mask and feathered alpha, the Poisson options. */
typedef struct bench_case {
    uint8_t *target; /* TW x TH RGB */
    int wx, wy, ww, wh;
    uint8_t *src;   /* ww x wh RGB */
    uint8_t *mask;  /* ww x wh, 0/1 */
    float *alpha;   /* ww x wh */
    double feather; /* px */
    double feather_ms;
    fs_poisson_opts popts;
    /* --source only: the swap's output per blend mode (alpha, multiband,
     * poisson), to check the blends below against. */
    uint8_t *swapped[3];
} bench_case;

static void case_free(bench_case *bc)
{
    free(bc->target), free(bc->src), free(bc->mask), free(bc->alpha);
    for (int b = 0; b < 3; b++)
        free(bc->swapped[b]);
}

/* The mirrored, colour-shifted window and an ellipse mask (see the top). */
static int setup_synthetic(bench_case *bc)
{
    const int ww = bc->ww, wh = bc->wh;
    bc->src = malloc((size_t)ww * wh * 3);
    bc->mask = malloc((size_t)ww * wh);
    bc->alpha = malloc(sizeof(float) * (size_t)ww * wh);
    if (!bc->src || !bc->mask || !bc->alpha)
        return 1;
    static const float gain[3] = {1.15f, 0.95f, 0.85f};
    for (int y = 0; y < wh; y++)
        for (int x = 0; x < ww; x++) {
            const uint8_t *p = bc->target + ((size_t)(bc->wy + y) * TW + (bc->wx + ww - 1 - x)) * 3;
            for (int c = 0; c < 3; c++) {
                const float v = p[c] * gain[c] + 12.0f;
                bc->src[((size_t)y * ww + x) * 3 + c] = (uint8_t)(v > 255.0f ? 255.0f : v + 0.5f);
            }
            const double dx = (x - (ww - 1) / 2.0) / (0.42 * ww),
                         dy = (y - (wh - 1) / 2.0) / (0.46 * wh);
            bc->mask[(size_t)y * ww + x] = dx * dx + dy * dy <= 1.0;
        }
    bc->popts = (fs_poisson_opts){3, 0.25, 4, 0}; /* residual in 8-bit Laplacian units */
    bc->feather = 8.0;
    double t0 = bench_now_ms();
    if (fs_mask_feather(NULL, bc->mask, ww, wh, ww, bc->feather, 1, bc->alpha, ww) != FS_OK)
        return 1;
    bc->feather_ms = bench_now_ms() - t0;
    return 0;
}

/* The largest face of @p img that the fitter accepts. */
static int largest_fitted(fs_detector *det, fs_fitter *fit, const fs_image *img,
                          fs_face_box *box, fs_face_landmarks *lm)
{
    fs_face_box faces[16];
    int n = 0;
    if (fs_detector_run(det, img, faces, 16, &n) != FS_OK) {
        fprintf(stderr, "bench_blend: detector: %s\n", fs_detector_last_error(det));
        return 1;
    }
    n = n < 16 ? n : 16;
    int used[16] = {0};
    for (int k = 0; k < n; k++) {
        int best = -1;
        for (int i = 0; i < n; i++)
            if (!used[i] && (best < 0 || faces[i].width * faces[i].height >
                                             faces[best].width * faces[best].height))
                best = i;
        used[best] = 1;
        if (fs_fitter_run(fit, img, &faces[best], lm) == FS_OK) {
            *box = faces[best];
            return 0;
        }
    }
    fprintf(stderr, "bench_blend: no face fitted in the target\n");
    return 1;
}

/*
 * The swap's own window: one swap per blend mode on copies of the target
 * (the render does not depend on the mode; the outputs are the check), the
 * blend's inputs rebuilt from the Poisson run's debug images.
 */
static int setup_swap(fs_context *ctx, bench_case *bc, const char *source_path)
{
    fs_detector *det = NULL;
    fs_fitter *fit = NULL;
    fs_renderer *ren = NULL;
    fs_identity *id = NULL;
    fs_image src;
    memset(&src, 0, sizeof(src));
    fs_face_landmarks *lm = calloc(1, sizeof(*lm));
    fs_swap_info info;
    memset(&info, 0, sizeof(info));
    int rc = 1;
    if (!lm || fs_detector_create(ctx, &det) != FS_OK || fs_fitter_create(ctx, &fit) != FS_OK ||
        fs_renderer_create(ctx, &ren) != FS_OK) {
        fprintf(stderr, "bench_blend: set-up: %s\n", fs_context_last_error(ctx));
        goto done;
    }
    if (fs_image_read_file(ctx, source_path, &src) != FS_OK ||
        fs_identity_create_from_image(ctx, &src, FS_IDENTITY_LARGEST_FACE, &id) != FS_OK) {
        fprintf(stderr, "bench_blend: source %s: %s\n", source_path, fs_context_last_error(ctx));
        goto done;
    }
    fs_image tgt;
    memset(&tgt, 0, sizeof(tgt));
    tgt.width = TW;
    tgt.height = TH;
    tgt.stride = 3 * TW;
    tgt.format = FS_PIXEL_RGB8;
    tgt.memory = FS_MEMORY_HOST;
    tgt.data = bc->target;
    fs_face_box box;
    if (largest_fitted(det, fit, &tgt, &box, lm))
        goto done;

    const size_t tsz = (size_t)TW * TH * 3;
    for (int b = 0; b < 3; b++) {
        fs_swap_params p = *fs_renderer_internal_params(ren);
        p.blend = b;
        fs_image out = tgt;
        out.data = bc->swapped[b] = malloc(tsz);
        if (!out.data)
            goto done;
        memcpy(out.data, bc->target, tsz);
        fs_swap_info_free(&info);
        memset(&info, 0, sizeof(info));
        info.keep_debug = b == FS_BLEND_POISSON;
        fs_error_buf err = {{0}};
        if (fs_swap_face_rgb8(fs_context_engine(ctx), FS_EXEC_SERIAL(&err), fs_renderer_internal_mesh(ren), &p,
                              fs_identity_internal_data(id), &out,
                              (const float(*)[3])lm->points, &info) != FS_OK) {
            fprintf(stderr, "bench_blend: swap: %s\n", err.text);
            goto done;
        }
        if (b == FS_BLEND_POISSON)
            bc->feather = p.feather * info.face_size;
    }
    /* info is the Poisson run's (the last). */
    bc->wx = info.x0, bc->wy = info.y0, bc->ww = info.w, bc->wh = info.h;
    const int ww = bc->ww, wh = bc->wh;
    const size_t n = (size_t)ww * wh;
    bc->src = malloc(n * 3);
    bc->mask = malloc(n);
    bc->alpha = malloc(sizeof(float) * n);
    if (!bc->src || !bc->mask || !bc->alpha || !info.render_rgb || !info.alpha)
        goto done;
    /* info.render_rgb is the whole render (for looking at); the blend's source
     * is that inside the mask and the target outside it (lib/swap/swap.c). */
    long at_edge = 0;
    for (int y = 0; y < wh; y++)
        for (int x = 0; x < ww; x++) {
            const size_t p = (size_t)y * ww + x;
            const int in = info.alpha[p] > 0.0f;
            bc->mask[p] = (uint8_t)in;
            at_edge += in && (x == 0 || y == 0 || x == ww - 1 || y == wh - 1);
            memcpy(bc->src + 3 * p,
                   in ? info.render_rgb + 3 * p
                      : bc->target + ((size_t)(bc->wy + y) * TW + (size_t)(bc->wx + x)) * 3,
                   3);
        }
    /* The swap's Poisson call (lib/swap/swap.c). */
    bc->popts = fs_swap_poisson_opts(info.face_size);
    const double t0 = bench_now_ms();
    if (fs_mask_feather(NULL, bc->mask, ww, wh, ww, bc->feather, 0, bc->alpha, ww) != FS_OK)
        goto done;
    bc->feather_ms = bench_now_ms() - t0;
    printf("source=%s\ntarget_face=%.0f,%.0f,%.0fx%.0f\nface_size=%.1f\nwindow_clipped=%d\n"
           "mask_pixels_at_window_edge=%ld\n",
           source_path, box.x, box.y, box.width, box.height, info.face_size, info.clipped,
           at_edge);
    rc = 0;
done:
    fs_swap_info_free(&info);
    fs_identity_destroy(id);
    fs_renderer_destroy(ren);
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    fs_image_free(&src);
    free(lm);
    return rc;
}

static void write_out(const char *dir, const char *name, const uint8_t *px, int w, int h, int ch)
{
    if (!dir)
        return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (write_pnm(path, px, w, h, (ptrdiff_t)w * ch, ch) != 0)
        fprintf(stderr, "bench_blend: cannot write %s\n", path);
}

static int run_blends(const fs_compose_ops *ops, const bench_case *bc, int reps, const char *out_dir)
{
    const int ww = bc->ww, wh = bc->wh;
    const size_t tsz = (size_t)TW * TH * 3, woff = ((size_t)bc->wy * TW + bc->wx) * 3;
    uint8_t *work = malloc(tsz);
    double *t = malloc(sizeof(double) * (size_t)reps);
    if (!work || !t) {
        free(work), free(t);
        return 1;
    }
    long mask_px = 0;
    for (size_t i = 0; i < (size_t)ww * wh; i++)
        mask_px += bc->mask[i] != 0;
    fs_error_buf err = {{0}};
    fs_seam_measure sm;
    static const char *names[3] = {"alpha", "multiband", "poisson"};
    int rc = 0;
    /* Poisson, multi-band, alpha: the order the report reads. */
    for (int b = 2; b >= 0 && rc == 0; b--) {
        fs_poisson_info pinfo = {0, 0, 0};
        for (int r = 0; r < reps && rc == 0; r++) {
            memcpy(work, bc->target, tsz);
            const double t0 = bench_now_ms();
            fs_status st;
            if (b == FS_BLEND_POISSON)
                st = fs_blend_poisson_u8(FS_EXEC_SERIAL(&err), bc->src, 3 * ww, work + woff, 3 * TW, bc->mask, ww,
                                         ww, wh, &bc->popts, NULL);
            else if (b == FS_BLEND_MULTIBAND)
                st = fs_blend_multiband_u8(FS_EXEC_SERIAL(&err), bc->src, 3 * ww, work + woff, 3 * TW, bc->alpha,
                                           ww, wh, 0);
            else
                st = fs_blend_alpha_u8(FS_EXEC_SERIAL(&err), ops, bc->src, 3 * ww, work + woff, 3 * TW, bc->alpha,
                                       ww, ww, wh);
            t[r] = bench_now_ms() - t0;
            if (st != FS_OK) {
                fprintf(stderr, "bench_blend: %s: %s\n", names[b], err.text);
                rc = 1;
            }
        }
        /* The info costs a residual pass that the swap (info NULL) does
         * not run, so it comes from one more, untimed call (same result). */
        if (rc == 0 && b == FS_BLEND_POISSON) {
            memcpy(work, bc->target, tsz);
            if (fs_blend_poisson_u8(FS_EXEC_SERIAL(&err), bc->src, 3 * ww, work + woff, 3 * TW, bc->mask, ww, ww,
                                    wh, &bc->popts, &pinfo) != FS_OK)
                rc = 1;
        }
        if (rc)
            break;
        fs_seam_gradient_u8(NULL, work + woff, 3 * TW, bc->target + woff, 3 * TW, bc->mask, ww, ww,
                            wh, &sm);
        if (b == FS_BLEND_POISSON) {
            printf("window=%d,%d,%d,%d\nmask_pixels=%ld\nunknowns=%d\n", bc->wx, bc->wy, ww, wh,
                   mask_px, pinfo.unknowns);
            printf("poisson_opts=%d,%.2f,%d,%d\n", bc->popts.max_cycles, bc->popts.tolerance,
                   bc->popts.rim, bc->popts.band);
            printf("poisson_ms=%.3f\npoisson_cycles=%d\npoisson_residual=%.4f\npoisson_seam=%.4f\n",
                   bench_median(t, reps), pinfo.cycles, pinfo.max_residual, sm.result_grad);
            printf("target_seam=%.4f\nseam_pairs=%ld\n", sm.target_grad, sm.pairs);
        } else if (b == FS_BLEND_MULTIBAND) {
            printf("multiband_ms=%.3f\nmultiband_levels=%d\nmultiband_seam=%.4f\n"
                   "feather_px=%.2f\nfeather_ms=%.3f\n",
                   bench_median(t, reps), fs_blend_multiband_levels(ww, wh), sm.result_grad, bc->feather,
                   bc->feather_ms);
        } else {
            printf("alpha_ms=%.3f\nalpha_seam=%.4f\n", bench_median(t, reps), sm.result_grad);
        }
        printf("%s_outside_changed_pixels=%ld\n", names[b],
               changed_outside(bc->target, work, TW, TH, bc->mask, bc->wx, bc->wy, ww, wh));
        if (bc->swapped[b]) {
            long diff = 0;
            for (size_t i = 0; i < (size_t)TW * TH; i++)
                diff += memcmp(work + 3 * i, bc->swapped[b] + 3 * i, 3) != 0;
            printf("pipeline_diff_%s=%ld\n", names[b], diff);
        }
        if (b == FS_BLEND_POISSON)
            write_out(out_dir, "ours_poisson.ppm", work, TW, TH, 3);
        else if (b == FS_BLEND_MULTIBAND)
            write_out(out_dir, "ours_multiband.ppm", work, TW, TH, 3);
    }
    if (rc == 0 && out_dir) {
        write_out(out_dir, "target.ppm", bc->target, TW, TH, 3);
        write_out(out_dir, "source.ppm", bc->src, ww, wh, 3);
        for (size_t i = 0; i < (size_t)ww * wh; i++)
            work[i] = bc->mask[i] ? 255 : 0;
        write_out(out_dir, "mask.pgm", work, ww, wh, 1);
    }
    free(work), free(t);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "--seam") == 0)
        return seam_mode(argv);
    int reps = 30, cycles = -1, rim = -1, band = -1, wx = 314, wy = 204, ww = 400, wh = 400, crop_y = 100;
    int synthetic = 0;
    double tolerance = -1;
    const char *out_dir = NULL, *image = NULL, *source = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out_dir = argv[++i];
        else if (strcmp(argv[i], "--source") == 0 && i + 1 < argc)
            source = argv[++i];
        else if (strcmp(argv[i], "--synthetic") == 0)
            synthetic = 1;
        else if (strcmp(argv[i], "--rim") == 0 && i + 1 < argc)
            rim = atoi(argv[++i]);
        else if (strcmp(argv[i], "--band") == 0 && i + 1 < argc)
            band = atoi(argv[++i]);
        else if (strcmp(argv[i], "--cycles") == 0 && i + 1 < argc)
            cycles = atoi(argv[++i]);
        else if (strcmp(argv[i], "--tolerance") == 0 && i + 1 < argc)
            tolerance = atof(argv[++i]);
        else if (strcmp(argv[i], "--crop-y") == 0 && i + 1 < argc)
            crop_y = atoi(argv[++i]);
        else if (strcmp(argv[i], "--window") == 0 && i + 1 < argc) {
            if (sscanf(argv[++i], "%d,%d,%d,%d", &wx, &wy, &ww, &wh) != 4)
                return fprintf(stderr, "bad --window\n"), 2;
        } else
            image = argv[i];
    }
    if (!image || reps < 1 || reps > 10000 || crop_y < 0 || synthetic == (source != NULL) ||
        ww < 16 || wh < 16 || wx < 0 || wy < 0 || wx + ww > TW || wy + wh > TH) {
        fprintf(stderr, "usage: bench_blend --source SOURCE [--reps N] [--crop-y N] [--out DIR] "
                        "IMAGE\n       bench_blend --synthetic [--reps N] [--crop-y N] [--out DIR] "
                        "[--window X,Y,W,H] IMAGE\n"
                        "       (either: [--cycles N] [--tolerance T] [--rim N] [--band N])\n"
                        "       bench_blend --seam TARGET.ppm RESULT.ppm MASK.pgm X Y\n");
        return 2;
    }
    fs_context *ctx;
    fs_image img;
    memset(&img, 0, sizeof(img));
    if (fs_context_create(&ctx) != FS_OK)
        return 1;
    if (fs_image_read_file(ctx, image, &img) != FS_OK || img.format != FS_PIXEL_RGB8 ||
        img.width < TW || img.height < crop_y + TH) {
        fprintf(stderr, "bench_blend: cannot read %s as an RGB image of at least %dx%d\n", image,
                TW, TH + crop_y);
        fs_image_free(&img);
        fs_context_destroy(ctx);
        return 1;
    }
    bench_case bc;
    memset(&bc, 0, sizeof(bc));
    bc.target = malloc((size_t)TW * TH * 3);
    if (!bc.target) {
        fs_image_free(&img);
        fs_context_destroy(ctx);
        return 1;
    }
    for (int y = 0; y < TH; y++)
        memcpy(bc.target + (size_t)y * TW * 3,
               (const uint8_t *)img.data + (size_t)(y + crop_y) * img.stride, (size_t)TW * 3);
    fs_image_free(&img);
    int rc;
    if (synthetic) {
        bc.wx = wx, bc.wy = wy, bc.ww = ww, bc.wh = wh;
        printf("mode=synthetic\n");
        rc = setup_synthetic(&bc);
    } else {
        printf("mode=swap\n");
        rc = setup_swap(ctx, &bc, source);
    }
    /* Overrides (the blend checks their ranges). */
    if (cycles >= 0)
        bc.popts.max_cycles = cycles;
    if (tolerance >= 0)
        bc.popts.tolerance = tolerance;
    if (rim >= 0)
        bc.popts.rim = rim;
    if (band >= 0)
        bc.popts.band = band;
    if (rc == 0)
        rc = run_blends(&fs_context_engine(ctx)->compose, &bc, reps, out_dir);
    case_free(&bc);
    fs_context_destroy(ctx);
    return rc;
}
