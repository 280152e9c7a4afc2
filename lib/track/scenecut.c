/*
 * Scene-cut detection from thumbnails and histograms (scenecut.h).
 */
#include "track/scenecut.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define THUMB 32
#define SHIFT 3
#define BINS 64
#define SIZE_LIMIT 65536
#define FLAT_STD 2.0      /* grey levels: below, a thumbnail has no structure */
#define AVG_WEIGHT 0.1    /* of the newest change in the recent average */

struct fs_scenecut {
    fs_scenecut_params p;
    double thumb[2][THUMB * THUMB];
    double hist[2][BINS];
    int cur;             /* index of the newest frame's thumbnail and histogram */
    int frames;          /* frames seen since the reset */
    int width, height;
    int since_cut;       /* frames since the last cut */
    double avg_structure, avg_hist;
    int have_avg;
    fs_error_buf err;
};

void fs_scenecut_params_default(fs_scenecut_params *p)
{
    p->threshold = 0.35;
    p->strong_threshold = 0.7;
    p->hist_threshold = 0.15;
    p->ratio = 3.0;
    p->min_gap = 5;
}

fs_status fs_scenecut_create(const fs_scenecut_params *p, fs_scenecut **out, fs_error_buf *err)
{
    if (!p || !out)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "scene cut: NULL argument");
    if (!(p->threshold >= 0.0 && p->threshold <= 2.0) ||
        !(p->strong_threshold >= 0.0 && p->strong_threshold <= 2.0) ||
        !(p->hist_threshold >= 0.0 && p->hist_threshold <= 1.0) ||
        !(p->ratio >= 1.0 && p->ratio <= 1000.0) || p->min_gap < 0 || p->min_gap > 100000)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT,
                       "scene cut: thresholds 0..2 (histogram 0..1), ratio 1..1000, "
                       "min_gap 0..100000");
    fs_scenecut *sc = calloc(1, sizeof(*sc));
    if (!sc)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "scene cut: %zu bytes", sizeof(*sc));
    sc->p = *p;
    fs_scenecut_reset(sc);
    *out = sc;
    return FS_OK;
}

void fs_scenecut_destroy(fs_scenecut *sc)
{
    free(sc);
}

void fs_scenecut_reset(fs_scenecut *sc)
{
    sc->frames = 0;
    sc->since_cut = 0;
    sc->have_avg = 0;
    sc->avg_structure = sc->avg_hist = 0.0;
}

const char *fs_scenecut_last_error(const fs_scenecut *sc)
{
    return sc ? sc->err.text : "";
}

/* Block means and the normalised histogram of one frame. */
static void reduce(const uint8_t *luma, int w, int h, int stride, double *thumb, double *hist)
{
    uint32_t counts[BINS] = {0};
    for (int by = 0; by < THUMB; by++) {
        const int y0 = (int)((int64_t)by * h / THUMB);
        int y1 = (int)((int64_t)(by + 1) * h / THUMB);
        if (y1 <= y0)
            y1 = y0 + 1;
        for (int bx = 0; bx < THUMB; bx++) {
            const int x0 = (int)((int64_t)bx * w / THUMB);
            int x1 = (int)((int64_t)(bx + 1) * w / THUMB);
            if (x1 <= x0)
                x1 = x0 + 1;
            uint64_t sum = 0;
            for (int y = y0; y < y1; y++) {
                const uint8_t *row = luma + (size_t)y * stride;
                for (int x = x0; x < x1; x++)
                    sum += row[x];
            }
            thumb[by * THUMB + bx] = (double)sum / ((double)(y1 - y0) * (x1 - x0));
        }
    }
    /* The histogram over every other row and column: a quarter of the
     * pixels tell the distribution as well. */
    uint64_t total = 0;
    for (int y = 0; y < h; y += 2) {
        const uint8_t *row = luma + (size_t)y * stride;
        for (int x = 0; x < w; x += 2) {
            counts[row[x] >> 2]++;
            total++;
        }
    }
    for (int i = 0; i < BINS; i++)
        hist[i] = (double)counts[i] / (double)total;
}

static double std_of(const double *t, double *mean)
{
    double s = 0.0, s2 = 0.0;
    for (int i = 0; i < THUMB * THUMB; i++) {
        s += t[i];
        s2 += t[i] * t[i];
    }
    const double m = s / (THUMB * THUMB);
    *mean = m;
    return sqrt(fmax(s2 / (THUMB * THUMB) - m * m, 0.0));
}

/* 1 - the best normalised cross-correlation over shifts (scenecut.h). */
static double structure_change(const double *a, const double *b)
{
    double ma, mb;
    const double sa = std_of(a, &ma), sb = std_of(b, &mb);
    if (sa < FLAT_STD || sb < FLAT_STD)
        return sa < FLAT_STD && sb < FLAT_STD ? fmin(fabs(ma - mb) / 32.0, 1.0) : 1.0;
    double best = -1.0;
    for (int dy = -SHIFT; dy <= SHIFT; dy++)
        for (int dx = -SHIFT; dx <= SHIFT; dx++) {
            /* Over the overlap only, with its own means: the parts that
             * left or entered the frame do not count. */
            double s_a = 0.0, s_b = 0.0, s_aa = 0.0, s_bb = 0.0, s_ab = 0.0;
            int n = 0;
            for (int y = 0; y < THUMB; y++) {
                const int y2 = y + dy;
                if (y2 < 0 || y2 >= THUMB)
                    continue;
                for (int x = 0; x < THUMB; x++) {
                    const int x2 = x + dx;
                    if (x2 < 0 || x2 >= THUMB)
                        continue;
                    const double va = a[y * THUMB + x], vb = b[y2 * THUMB + x2];
                    s_a += va;
                    s_b += vb;
                    s_aa += va * va;
                    s_bb += vb * vb;
                    s_ab += va * vb;
                    n++;
                }
            }
            const double cov = s_ab - s_a * s_b / n;
            const double va = s_aa - s_a * s_a / n, vb = s_bb - s_b * s_b / n;
            /* An overlap with no contrast of its own proves nothing. */
            if (va < FLAT_STD * FLAT_STD * n || vb < FLAT_STD * FLAT_STD * n)
                continue;
            best = fmax(best, cov / sqrt(va * vb));
        }
    return best < -1.0 + 1e-12 ? 1.0 : 1.0 - best;
}

static double hist_change(const double *a, const double *b)
{
    double d = 0.0;
    for (int i = 0; i < BINS; i++)
        d += fabs(a[i] - b[i]);
    return 0.5 * d;
}

fs_status fs_scenecut_push(fs_scenecut *sc, const uint8_t *luma, int width, int height,
                           int stride, int *is_cut, double *structure, double *histogram)
{
    if (!sc)
        return FS_ERR_INVALID_ARGUMENT;
    if (!luma || !is_cut)
        return fs_fail(&sc->err, FS_ERR_INVALID_ARGUMENT, "scene cut: NULL argument");
    if (width < 1 || height < 1 || width > SIZE_LIMIT || height > SIZE_LIMIT || stride < width)
        return fs_fail(&sc->err, FS_ERR_INVALID_ARGUMENT,
                       "scene cut: frame %dx%d, stride %d (sides 1..%d, stride >= width)", width,
                       height, stride, SIZE_LIMIT);
    fs_clear_error(&sc->err);
    const int next = sc->frames ? 1 - sc->cur : sc->cur;
    reduce(luma, width, height, stride, sc->thumb[next], sc->hist[next]);
    double ds = 0.0, dh = 0.0;
    int cut = 0;
    if (sc->frames > 0 && (width != sc->width || height != sc->height)) {
        cut = 1;
        ds = dh = 1.0;
    } else if (sc->frames > 0) {
        ds = structure_change(sc->thumb[sc->cur], sc->thumb[next]);
        dh = hist_change(sc->hist[sc->cur], sc->hist[next]);
        const int structural = ds >= sc->p.threshold && ds >= sc->p.ratio * sc->avg_structure;
        const int tonal = dh >= sc->p.hist_threshold && dh >= sc->p.ratio * sc->avg_hist;
        cut = structural && (tonal || ds >= sc->p.strong_threshold) &&
              sc->since_cut >= sc->p.min_gap;
        if (!cut) {
            /* Cuts stay out of the average: it describes the shot. */
            const double a = sc->have_avg ? AVG_WEIGHT : 1.0;
            sc->avg_structure += a * (ds - sc->avg_structure);
            sc->avg_hist += a * (dh - sc->avg_hist);
            sc->have_avg = 1;
        }
    }
    if (cut) {
        sc->since_cut = 0;
        sc->have_avg = 0;
        sc->avg_structure = sc->avg_hist = 0.0;
    } else if (sc->since_cut < 100000) {
        sc->since_cut++;
    }
    if (sc->frames == 0)
        sc->since_cut = sc->p.min_gap;
    sc->cur = next;
    sc->width = width;
    sc->height = height;
    if (sc->frames < 2)
        sc->frames++;
    *is_cut = cut;
    if (structure)
        *structure = ds;
    if (histogram)
        *histogram = dh;
    return FS_OK;
}
