/* Swap quality measures (tests/quality/swap_quality.h). */
#include "swap_quality.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compose/colour.h"
#include "compose_quality.h"
#include "engine.h"

#define MATCH_FACES 16

void fs_swap_params_plain(fs_swap_params *p)
{
    fs_swap_params_default(p);
    p->colour = FS_COLOR_MEANSTD;
    p->blend = FS_BLEND_ALPHA;
    p->subdivision = 0;
    p->eyes = FS_SWAP_EYES_SOURCE;
    p->swap_forehead = 1;
    p->erode = 0;
    p->feather = 0.05;
    p->hole_feather = 0;
    p->brow_lift = 0;
    p->skin_guard = 0;
    p->match_detail = 0;
    p->shape = 0;
}

static double box_iou(const fs_face_box *a, const fs_face_box *b)
{
    const double x0 = fmax(a->x, b->x), y0 = fmax(a->y, b->y);
    const double x1 = fmin(a->x + a->width, b->x + b->width);
    const double y1 = fmin(a->y + a->height, b->y + b->height);
    const double i = fmax(0, x1 - x0) * fmax(0, y1 - y0);
    const double u = (double)a->width * a->height + (double)b->width * b->height - i;
    return u > 0 ? i / u : 0;
}

/* Diagonal of the 468 mesh points' bounding box, px. */
static double face_diagonal(const fs_face_landmarks *lm)
{
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        x0 = fmin(x0, lm->points[i][0]);
        y0 = fmin(y0, lm->points[i][1]);
        x1 = fmax(x1, lm->points[i][0]);
        y1 = fmax(y1, lm->points[i][1]);
    }
    return hypot(x1 - x0, y1 - y0);
}

double fs_swap_oval_coverage(const fs_face_landmarks *lm, const fs_swap_info *info)
{
    /* MediaPipe's silhouette ring. */
    static const int oval[] = {10,  338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288,
                               397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136,
                               172, 58,  132, 93,  234, 127, 162, 21,  54,  103, 67,  109};
    const int n = (int)(sizeof(oval) / sizeof(oval[0]));
    long inside = 0, covered = 0;
    for (int y = 0; y < info->h; y++) {
        const double Y = info->y0 + y;
        for (int x = 0; x < info->w; x++) {
            const double X = info->x0 + x;
            int in = 0;
            for (int i = 0, j = n - 1; i < n; j = i++) {
                const double xi = lm->points[oval[i]][0], yi = lm->points[oval[i]][1];
                const double xj = lm->points[oval[j]][0], yj = lm->points[oval[j]][1];
                if ((yi > Y) != (yj > Y) && X < (xj - xi) * (Y - yi) / (yj - yi) + xi)
                    in = !in;
            }
            if (!in)
                continue;
            inside++;
            covered += info->mesh_mask[(size_t)y * (size_t)info->w + (size_t)x] != 0;
        }
    }
    return inside ? (double)covered / (double)inside : 0;
}

static const uint8_t *pixel(const fs_image *img, int x, int y)
{
    return (const uint8_t *)img->data + (size_t)y * (size_t)img->stride + (size_t)x * 3;
}

/* High-pass energy of the result's window over the target's, where the
 * blend weight is full. */
static fs_status detail_ratio(const fs_engine *ops, const fs_image *target, const fs_image *result,
                              const fs_swap_info *info, double *ratio, fs_error_buf *err)
{
    const size_t n = (size_t)info->w * (size_t)info->h;
    float *t = malloc(n * 3 * sizeof(float)), *r = malloc(n * 3 * sizeof(float));
    float *m = malloc(n * sizeof(float));
    if (!t || !r || !m) {
        free(t);
        free(r);
        free(m);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap_quality_measure: out of memory");
    }
    for (int y = 0; y < info->h; y++)
        for (int x = 0; x < info->w; x++) {
            const size_t p = (size_t)y * (size_t)info->w + (size_t)x;
            const uint8_t *a = pixel(target, info->x0 + x, info->y0 + y);
            const uint8_t *b = pixel(result, info->x0 + x, info->y0 + y);
            for (int c = 0; c < 3; c++) {
                t[3 * p + (size_t)c] = (float)a[c] * (1.0f / 255.0f);
                r[3 * p + (size_t)c] = (float)b[c] * (1.0f / 255.0f);
            }
            m[p] = info->alpha[p] >= 0.999f ? 1.0f : 0.0f;
        }
    double et = 0, er = 0;
    fs_status st = fs_colour_highpass_energy(FS_EXEC_SERIAL(err), &ops->compose, t, 3 * (ptrdiff_t)info->w, m, info->w,
                                             info->h, &et);
    if (st == FS_OK)
        st = fs_colour_highpass_energy(FS_EXEC_SERIAL(err), &ops->compose, r, 3 * (ptrdiff_t)info->w, m, info->w, info->h,
                                       &er);
    *ratio = st == FS_OK && et > 0 ? er / et : 0;
    free(t);
    free(r);
    free(m);
    return st;
}

fs_status fs_swap_quality_measure(const fs_engine *ops, fs_detector *det, fs_fitter *fit, fs_embedder *emb,
                                  const fs_image *source, const fs_face_landmarks *slm,
                                  const fs_image *target, const fs_face_box *tbox,
                                  const fs_face_landmarks *tlm, const fs_image *result,
                                  const fs_swap_info *info, fs_swap_quality *q,
                                  fs_error_buf *err)
{
    if (!ops || !det || !fit || !target || !tbox || !tlm || !result || !info || !q ||
        !info->mesh_mask || !info->alpha || (emb && (!source || !slm)))
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_swap_quality_measure: NULL argument");
    if (target->format != FS_PIXEL_RGB8 || result->format != FS_PIXEL_RGB8 ||
        target->width != result->width || target->height != result->height ||
        info->x0 < 0 || info->y0 < 0 || info->w <= 0 || info->h <= 0 ||
        info->x0 + info->w > target->width || info->y0 + info->h > target->height)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT,
                       "fs_swap_quality_measure: images or window do not match");
    memset(q, 0, sizeof(*q));
    q->target_score = tbox->score;

    /* Coverage. */
    q->covered_frac = fs_swap_oval_coverage(tlm, info);
    q->textured_frac = info->covered ? (double)info->textured / (double)info->covered : 0;

    /* Seam across the blend weight's support. */
    const size_t n = (size_t)info->w * (size_t)info->h;
    uint8_t *m8 = malloc(n);
    fs_face_landmarks *rlm = malloc(sizeof(*rlm));
    if (!m8 || !rlm) {
        free(m8);
        free(rlm);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "fs_swap_quality_measure: out of memory");
    }
    for (size_t i = 0; i < n; i++)
        m8[i] = info->alpha[i] > 0.0f;
    fs_seam_measure seam;
    fs_status st = fs_seam_gradient_u8(err, pixel(result, info->x0, info->y0), result->stride,
                                       pixel(target, info->x0, info->y0), target->stride, m8,
                                       info->w, info->w, info->h, &seam);
    free(m8);
    q->seam_ratio = seam.ratio;

    if (st == FS_OK)
        st = detail_ratio(ops, target, result, info, &q->detail_ratio, err);

    /* The detector on the result: the box best overlapping the target's. */
    fs_face_box faces[MATCH_FACES];
    int nf = 0;
    if (st == FS_OK && (st = fs_detector_run(det, result, faces, MATCH_FACES, &nf)) != FS_OK)
        fs_fail(err, st, "fs_swap_quality_measure: %s", fs_detector_last_error(det));
    for (int i = 0; st == FS_OK && i < nf && i < MATCH_FACES; i++) {
        const double iou = box_iou(&faces[i], tbox);
        if (iou > q->box_iou) {
            q->box_iou = iou;
            q->result_score = faces[i].score;
        }
    }
    q->score_ratio = q->target_score > 0 ? q->result_score / q->target_score : 0;

    /* Landmarks fitted again from the same detection: only the pixels differ. */
    if (st == FS_OK && (st = fs_fitter_run(fit, result, tbox, rlm)) != FS_OK)
        fs_fail(err, st, "fs_swap_quality_measure: %s", fs_fitter_last_error(fit));
    if (st == FS_OK) {
        const double diag = face_diagonal(tlm);
        double sum = 0, mx = 0;
        for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
            const double d = hypot(rlm->points[i][0] - tlm->points[i][0],
                                   rlm->points[i][1] - tlm->points[i][1]);
            sum += d;
            mx = fmax(mx, d);
        }
        q->lm_mean = diag > 0 ? sum / FS_MESH_LANDMARKS / diag : 0;
        q->lm_max = diag > 0 ? mx / diag : 0;
    }
    free(rlm);

    if (st == FS_OK && emb) {
        float e[3][FS_EMBED_DIM];
        st = fs_embedder_run(emb, source, slm, e[0]);
        if (st == FS_OK)
            st = fs_embedder_run(emb, target, tlm, e[1]);
        if (st == FS_OK)
            st = fs_embedder_run(emb, result, tlm, e[2]);
        if (st != FS_OK)
            return fs_fail(err, st, "fs_swap_quality_measure: %s", fs_embedder_last_error(emb));
        q->cos_st = fs_embedding_cosine(e[0], e[1]);
        q->cos_sr = fs_embedding_cosine(e[0], e[2]);
        q->gain = q->cos_sr - q->cos_st;
    }
    return st;
}

/* ------------------------------------------------ self-swap fidelity */

uint8_t *fs_swap_face_pixels(const fs_image *img, const fs_swap_info *info, long *n)
{
    uint8_t *m = calloc((size_t)img->width * (size_t)img->height, 1);
    *n = 0;
    if (!m)
        return NULL;
    for (int y = 0; y < info->h; y++)
        for (int x = 0; x < info->w; x++)
            if (info->alpha[(size_t)y * (size_t)info->w + (size_t)x] >= 0.5f) {
                m[(size_t)(info->y0 + y) * (size_t)img->width + (size_t)(info->x0 + x)] = 1;
                (*n)++;
            }
    return m;
}

void fs_swap_mask_mae(const fs_image *a, const fs_image *b, const uint8_t *m, double out[3])
{
    double s[3] = {0, 0, 0};
    long n = 0;
    for (int y = 0; y < a->height; y++) {
        const uint8_t *pa = (const uint8_t *)a->data + (size_t)y * (size_t)a->stride;
        const uint8_t *pb = (const uint8_t *)b->data + (size_t)y * (size_t)b->stride;
        for (int x = 0; x < a->width; x++) {
            if (!m[(size_t)y * (size_t)a->width + (size_t)x])
                continue;
            for (int c = 0; c < 3; c++)
                s[c] += abs((int)pa[3 * x + c] - (int)pb[3 * x + c]);
            n++;
        }
    }
    for (int c = 0; c < 3; c++)
        out[c] = n ? s[c] / (double)n : 0;
}

/* One pass of the sigma-1.5 kernel @p k (11 taps) along @p lines lines of
 * @p len samples, @p step apart within a line and @p pitch between lines,
 * edges clamped. */
static void gauss15_pass(const float *k, const float *in, float *out, int lines, int len,
                         size_t step, size_t pitch)
{
    for (int l = 0; l < lines; l++)
        for (int t = 0; t < len; t++) {
            float a = 0;
            for (int i = -5; i <= 5; i++) {
                const int tt = t + i < 0 ? 0 : t + i >= len ? len - 1 : t + i;
                a += k[i + 5] * in[(size_t)l * pitch + (size_t)tt * step];
            }
            out[(size_t)l * pitch + (size_t)t * step] = a;
        }
}

/* Separable Gaussian (sigma 1.5, radius 5) of a w x h plane, edges clamped. */
static void gauss15(const float *in, float *tmp, float *out, int w, int h)
{
    float k[11], sum = 0;
    for (int i = -5; i <= 5; i++)
        sum += k[i + 5] = expf(-(float)(i * i) / (2 * 1.5f * 1.5f));
    for (int i = 0; i < 11; i++)
        k[i] /= sum;
    gauss15_pass(k, in, tmp, h, w, 1, (size_t)w);
    gauss15_pass(k, tmp, out, w, h, (size_t)w, 1);
}

double fs_swap_mask_ssim(const fs_image *a, const fs_image *b, const uint8_t *m, const fs_swap_info *info)
{
    const int w = info->w, h = info->h;
    const size_t n = (size_t)w * (size_t)h;
    float *buf = malloc(sizeof(float) * n * 11);
    if (!buf)
        return -1;
    float *x = buf, *yv = buf + n, *xx = buf + 2 * n, *yy = buf + 3 * n, *xy = buf + 4 * n,
          *mx = buf + 5 * n, *my = buf + 6 * n, *sxx = buf + 7 * n, *syy = buf + 8 * n,
          *sxy = buf + 9 * n, *tmp = buf + 10 * n;
    const double c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255);
    double total = 0;
    long count = 0;
    for (int c = 0; c < 3; c++) {
        for (int r = 0; r < h; r++)
            for (int q = 0; q < w; q++) {
                const size_t off = (size_t)(info->y0 + r) * (size_t)a->stride + (size_t)(info->x0 + q) * 3 + (size_t)c;
                const float va = ((const uint8_t *)a->data)[off], vb = ((const uint8_t *)b->data)[off];
                const size_t i = (size_t)r * (size_t)w + (size_t)q;
                x[i] = va;
                yv[i] = vb;
                xx[i] = va * va;
                yy[i] = vb * vb;
                xy[i] = va * vb;
            }
        gauss15(x, tmp, mx, w, h);
        gauss15(yv, tmp, my, w, h);
        gauss15(xx, tmp, sxx, w, h);
        gauss15(yy, tmp, syy, w, h);
        gauss15(xy, tmp, sxy, w, h);
        for (int r = 0; r < h; r++)
            for (int q = 0; q < w; q++) {
                if (!m[(size_t)(info->y0 + r) * (size_t)a->width + (size_t)(info->x0 + q)])
                    continue;
                const size_t i = (size_t)r * (size_t)w + (size_t)q;
                const double ux = mx[i], uy = my[i];
                const double vx = sxx[i] - ux * ux, vy = syy[i] - uy * uy, cxy = sxy[i] - ux * uy;
                total += ((2 * ux * uy + c1) * (2 * cxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
                count++;
            }
    }
    free(buf);
    return count ? total / (double)count : -1;
}
