/*
 * A contact sheet of the eyes and the mouth of swap pairs, before and
 * after (issue 10, item 4; doc/eyes-mouth.md): one row per pair, the
 * target's eyes | the result's eyes | the target's mouth | the result's
 * mouth, each crop framed by the target's landmarks and scaled to one row
 * height. It prints, per pair, how open the target's mouth is (inner lip
 * distance over mouth width) and whether the swap treats it as closed.
 *
 *   eyes_mouth_sheet [options] OUT.png SOURCE[:FACE] TARGET[:FACE] [...]
 *     FACE: the detector's index (default: the largest face)
 *     --row PX          row height (default 72)
 *     --eyes-mouth N    FS_RENDERER_SWAP_EYES_MOUTH for the swap (default: the library's)
 *
 * Images are looked up in $FS_TESTDATA_DIR when not found as given.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swap/lookup.h"
#include "swap/swap.h"
#include "engine.h"
#include "bench_util.h"

#define MAX_PAIRS 32
#define GAP 4

static int fail(fs_status st, const char *what, const char *detail)
{
    fprintf(stderr, "eyes_mouth_sheet: %s: %s (%s)\n", what, fs_status_name(st), detail ? detail : "");
    return 1;
}

/* The box around landmarks @p idx of @p p, grown by @p pad of its width
 * each side and widened to at least @p aspect (width / height). */
static void crop_box(const float (*p)[3], const int *idx, int n, double pad, double aspect,
                     double box[4])
{
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (int i = 0; i < n; i++) {
        x0 = fmin(x0, p[idx[i]][0]);
        y0 = fmin(y0, p[idx[i]][1]);
        x1 = fmax(x1, p[idx[i]][0]);
        y1 = fmax(y1, p[idx[i]][1]);
    }
    const double cx = 0.5 * (x0 + x1), cy = 0.5 * (y0 + y1);
    double w = (x1 - x0) * (1.0 + 2.0 * pad), h = fmax(y1 - y0 + (x1 - x0) * 2.0 * pad, 1.0);
    if (w < aspect * h)
        w = aspect * h;
    else
        h = w / aspect;
    box[0] = cx - 0.5 * w;
    box[1] = cy - 0.5 * h;
    box[2] = w;
    box[3] = h;
}

/* @p box of @p img, bilinear, into the dw x dh block of @p sheet at (ox, oy). */
static void paste(const fs_image *img, const double box[4], uint8_t *sheet, int sheet_w, int ox,
                  int oy, int dw, int dh)
{
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++) {
            double sx = box[0] + (x + 0.5) * box[2] / dw - 0.5;
            double sy = box[1] + (y + 0.5) * box[3] / dh - 0.5;
            sx = fmin(fmax(sx, 0.0), img->width - 1.0);
            sy = fmin(fmax(sy, 0.0), img->height - 1.0);
            const int x0 = (int)sx, y0 = (int)sy;
            const int x1 = x0 + (x0 < img->width - 1), y1 = y0 + (y0 < img->height - 1);
            const double fx = sx - x0, fy = sy - y0;
            const uint8_t *d = img->data;
            const uint8_t *a = d + (size_t)y0 * (size_t)img->stride + (size_t)x0 * 3;
            const uint8_t *b = d + (size_t)y0 * (size_t)img->stride + (size_t)x1 * 3;
            const uint8_t *c = d + (size_t)y1 * (size_t)img->stride + (size_t)x0 * 3;
            const uint8_t *e = d + (size_t)y1 * (size_t)img->stride + (size_t)x1 * 3;
            uint8_t *o = sheet + ((size_t)(oy + y) * (size_t)sheet_w + (size_t)(ox + x)) * 3;
            for (int ch = 0; ch < 3; ch++) {
                const double top = a[ch] + fx * (b[ch] - a[ch]), bot = c[ch] + fx * (e[ch] - c[ch]);
                o[ch] = (uint8_t)lrint(top + fy * (bot - top));
            }
        }
}

int main(int argc, char **argv)
{
    const char *pairs[2 * MAX_PAIRS], *out_path = NULL;
    int n_pairs = 0, row = 72;
    fs_swap_params params;
    fs_swap_params_default(&params);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "--row") == 0 || strcmp(a, "--eyes-mouth") == 0) && i + 1 < argc) {
            const int v = atoi(argv[++i]);
            if (a[2] == 'r')
                row = v;
            else
                params.eyes = v;
        } else if (strncmp(a, "--", 2) == 0) {
            fprintf(stderr, "eyes_mouth_sheet: unknown option %s\n", a);
            return 2;
        } else if (!out_path) {
            out_path = a;
        } else if (n_pairs < 2 * MAX_PAIRS) {
            pairs[n_pairs++] = a;
        }
    }
    if (!out_path || n_pairs < 2 || n_pairs % 2 || row < 16 || row > 512) {
        fprintf(stderr, "usage: eyes_mouth_sheet [--row PX] [--eyes-mouth N] OUT.png SOURCE[:FACE] "
                        "TARGET[:FACE] ...\n");
        return 2;
    }
    /* Eyes 2.6 times as wide as tall, the mouth 1.6: the sheet's columns. */
    const int eye_w = (int)lrint(2.6 * row), mouth_w = (int)lrint(1.6 * row);
    const int sheet_w = 2 * eye_w + 2 * mouth_w + 3 * GAP;
    const int sheet_h = n_pairs / 2 * (row + GAP) - GAP;
    uint8_t *sheet = calloc((size_t)sheet_w * (size_t)sheet_h, 3);
    if (!sheet)
        return fail(FS_ERR_OUT_OF_MEMORY, "sheet", NULL);
    memset(sheet, 255, (size_t)sheet_w * (size_t)sheet_h * 3);

    fs_context *ctx = NULL;
    fs_detector *det = NULL;
    fs_fitter *fit = NULL;
    fs_renderer *ren = NULL;
    fs_status st = fs_context_create(&ctx);
    if (st == FS_OK)
        st = fs_detector_create(ctx, &det);
    if (st == FS_OK)
        st = fs_fitter_create(ctx, &fit);
    if (st == FS_OK)
        st = fs_renderer_create(ctx, &ren);
    int rc = st == FS_OK ? 0 : fail(st, "set-up", ctx ? fs_context_last_error(ctx) : NULL);
    /* Both eyes' corners and lids; the outer lip line. */
    static const int eyes[] = {33, 133, 159, 145, 263, 362, 386, 374, 70, 300};
    static const int mouth[] = {61, 291, 0, 17, 13, 14};
    for (int k = 0; k < n_pairs / 2 && rc == 0; k++) {
        fs_image src, tgt;
        int sface, tface;
        if (bench_load_photo(ctx, "eyes_mouth_sheet", pairs[2 * k], &src, &sface)) {
            rc = 1;
            break;
        }
        if (bench_load_photo(ctx, "eyes_mouth_sheet", pairs[2 * k + 1], &tgt, &tface)) {
            fs_image_free(&src);
            rc = 1;
            break;
        }
        fs_identity *id = NULL;
        fs_face_landmarks *lm = calloc(1, sizeof(*lm));
        fs_face_box faces[16];
        int n = 0, chosen = -1;
        st = lm ? fs_identity_create_from_image(ctx, &src, sface, &id) : FS_ERR_OUT_OF_MEMORY;
        if (st == FS_OK)
            st = fs_detector_run(det, &tgt, faces, 16, &n);
        if (st == FS_OK)
            st = fs_swap_fit_face(fit, &tgt, faces, n < 16 ? n : 16, tface, lm, &chosen);
        fs_image out = tgt;
        out.data = NULL;
        if (st == FS_OK) {
            out.data = malloc((size_t)tgt.stride * (size_t)tgt.height);
            st = out.data ? FS_OK : FS_ERR_OUT_OF_MEMORY;
        }
        fs_error_buf err = {{0}};
        if (st == FS_OK) {
            memcpy(out.data, tgt.data, (size_t)tgt.stride * (size_t)tgt.height);
            st = fs_swap_face_rgb8(fs_context_engine(ctx), FS_EXEC_SERIAL(&err),
                                   fs_renderer_internal_mesh(ren), &params,
                                   fs_identity_internal_data(id), &out,
                                   (const float(*)[3])lm->points, NULL);
        }
        if (st != FS_OK) {
            rc = fail(st, pairs[2 * k + 1], err.text[0] ? err.text : fs_context_last_error(ctx));
        } else {
            const float(*p)[3] = (const float(*)[3])lm->points;
            const double open = fs_swap_mouth_open(p);
            printf("%-24s -> %-24s mouth open %.3f (%s)\n", pairs[2 * k], pairs[2 * k + 1], open,
                   open < FS_SWAP_MOUTH_CLOSED ? "closed: no opening" : "open");
            double eb[4], mb[4];
            crop_box(p, eyes, (int)(sizeof(eyes) / sizeof(eyes[0])), 0.08, 2.6, eb);
            crop_box(p, mouth, (int)(sizeof(mouth) / sizeof(mouth[0])), 0.2, 1.6, mb);
            const int oy = k * (row + GAP);
            paste(&tgt, eb, sheet, sheet_w, 0, oy, eye_w, row);
            paste(&out, eb, sheet, sheet_w, eye_w + GAP, oy, eye_w, row);
            paste(&tgt, mb, sheet, sheet_w, 2 * (eye_w + GAP), oy, mouth_w, row);
            paste(&out, mb, sheet, sheet_w, 2 * (eye_w + GAP) + mouth_w + GAP, oy, mouth_w, row);
        }
        free(out.data);
        free(lm);
        fs_identity_destroy(id);
        fs_image_free(&tgt);
        fs_image_free(&src);
    }
    if (rc == 0) {
        const fs_image img = {.width = sheet_w, .height = sheet_h, .stride = 3 * sheet_w,
                              .format = FS_PIXEL_RGB8, .memory = FS_MEMORY_HOST, .data = sheet};
        st = fs_image_write_file(ctx, &img, out_path);
        if (st != FS_OK)
            rc = fail(st, out_path, fs_context_last_error(ctx));
    }
    free(sheet);
    fs_renderer_destroy(ren);
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
    return rc;
}
