/*
 * Truth files of the test clips and the temporal measures (temporal.h).
 */
#include "temporal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t err_size, const char *fmt, ...)
{
    if (err && err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ------------------------------------------------------------ truth file */

int fs_clip_truth_write(const fs_clip_truth *t, const char *path, char *err, size_t err_size)
{
    if (!t || !path || t->frame_count < 0 || (t->frame_count && !t->frames))
        return fail(err, err_size, "truth write: bad arguments");
    FILE *f = fopen(path, "w");
    if (!f)
        return fail(err, err_size, "%s: %s", path, strerror(errno));
    fprintf(f, "%s\n", FS_CLIP_TRUTH_MAGIC);
    fprintf(f, "# canvas %d %d fps %d/%d frames %d\n", t->width, t->height, t->fps_num,
            t->fps_den, t->frame_count);
    for (int p = 0; p < t->photo_count; p++)
        fprintf(f, "# photo %d %s\n", p, t->photos[p]);
    fprintf(f, "# frame photo shot m0 m1 m2 m3 m4 m5: photo pixel (x, y) lands on canvas "
               "(m0 x + m1 y + m2, m3 x + m4 y + m5), edge coordinates\n");
    for (int i = 0; i < t->frame_count; i++) {
        const fs_clip_frame *fr = &t->frames[i];
        /* %.17g: the matrices read back bit for bit. */
        fprintf(f, "%d %d %d %.17g %.17g %.17g %.17g %.17g %.17g\n", i, fr->photo, fr->shot,
                fr->m[0] + 0.0, fr->m[1] + 0.0, fr->m[2] + 0.0, fr->m[3] + 0.0, fr->m[4] + 0.0,
                fr->m[5] + 0.0); /* + 0.0: no "-0" */
    }
    if (ferror(f) | (fclose(f) != 0))
        return fail(err, err_size, "%s: write failed", path);
    return 0;
}

void fs_clip_truth_free(fs_clip_truth *t)
{
    if (!t)
        return;
    free(t->frames);
    memset(t, 0, sizeof(*t));
}

int fs_clip_truth_read(const char *path, fs_clip_truth *out, char *err, size_t err_size)
{
    if (!path || !out)
        return fail(err, err_size, "truth read: bad arguments");
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(err, err_size, "%s: %s", path, strerror(errno));
    fs_clip_truth t;
    memset(&t, 0, sizeof(t));
    char line[2048];
    int lineno = 0, have_canvas = 0, n = 0, rc = -1;
    if (!fgets(line, sizeof(line), f) || strncmp(line, FS_CLIP_TRUTH_MAGIC,
                                                 strlen(FS_CLIP_TRUTH_MAGIC)) != 0) {
        fail(err, err_size, "%s: not a make_clip truth file (first line)", path);
        goto done;
    }
    lineno = 1;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        const size_t len = strlen(line);
        if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
            fail(err, err_size, "%s:%d: line too long", path, lineno);
            goto done;
        }
        if (line[0] == '#') {
            int a, b, c, d, e, p, off = 0;
            if (sscanf(line, "# canvas %d %d fps %d/%d frames %d", &a, &b, &c, &d, &e) == 5) {
                if (have_canvas || a <= 0 || b <= 0 || a > 65536 || b > 65536 || c <= 0 ||
                    d <= 0 || e < 0 || e > FS_CLIP_MAX_FRAMES) {
                    fail(err, err_size, "%s:%d: bad or repeated canvas line", path, lineno);
                    goto done;
                }
                t.width = a, t.height = b, t.fps_num = c, t.fps_den = d, t.frame_count = e;
                t.frames = calloc(e ? (size_t)e : 1, sizeof(*t.frames));
                if (!t.frames) {
                    fail(err, err_size, "%s: out of memory", path);
                    goto done;
                }
                have_canvas = 1;
            } else if (sscanf(line, "# photo %d %n", &p, &off) == 1 && off > 0) {
                if (p != t.photo_count || p >= FS_CLIP_MAX_PHOTOS) {
                    fail(err, err_size, "%s:%d: photo %d out of order or too many", path,
                         lineno, p);
                    goto done;
                }
                snprintf(t.photos[p], sizeof(t.photos[p]), "%s", line + off);
                t.photos[p][strcspn(t.photos[p], "\r\n")] = '\0';
                t.photo_count++;
            }
            continue;
        }
        if (line[strspn(line, " \t\r\n")] == '\0')
            continue;
        if (!have_canvas) {
            fail(err, err_size, "%s:%d: frame before the canvas line", path, lineno);
            goto done;
        }
        int idx, photo, shot, used = 0;
        fs_clip_frame fr;
        if (sscanf(line, "%d %d %d %lf %lf %lf %lf %lf %lf %n", &idx, &photo, &shot, &fr.m[0],
                   &fr.m[1], &fr.m[2], &fr.m[3], &fr.m[4], &fr.m[5], &used) != 9 ||
            line[used] != '\0') {
            fail(err, err_size, "%s:%d: expected 'frame photo shot m0..m5'", path, lineno);
            goto done;
        }
        if (idx != n || n >= t.frame_count) {
            fail(err, err_size, "%s:%d: frame %d out of order (want %d of %d)", path, lineno, idx,
                 n, t.frame_count);
            goto done;
        }
        if (photo < 0 || photo >= t.photo_count) {
            fail(err, err_size, "%s:%d: photo %d not declared", path, lineno, photo);
            goto done;
        }
        if (shot < 0 || (n > 0 && shot != t.frames[n - 1].shot && shot != t.frames[n - 1].shot + 1) ||
            (n == 0 && shot != 0)) {
            fail(err, err_size, "%s:%d: shot %d does not follow the previous frame's", path,
                 lineno, shot);
            goto done;
        }
        if (n > 0 && shot == t.frames[n - 1].shot && photo != t.frames[n - 1].photo) {
            fail(err, err_size, "%s:%d: photo changes without a new shot", path, lineno);
            goto done;
        }
        int finite = 1;
        for (int k = 0; k < 6; k++)
            finite &= isfinite(fr.m[k]) && fabs(fr.m[k]) < 1e7;
        const double det = fr.m[0] * fr.m[4] - fr.m[1] * fr.m[3];
        if (!finite || !(fabs(det) > 1e-9)) {
            fail(err, err_size, "%s:%d: matrix not finite or not invertible", path, lineno);
            goto done;
        }
        fr.photo = photo;
        fr.shot = shot;
        t.frames[n++] = fr;
    }
    if (!have_canvas) {
        fail(err, err_size, "%s: no canvas line", path);
        goto done;
    }
    if (n != t.frame_count) {
        fail(err, err_size, "%s: %d frames, the header says %d", path, n, t.frame_count);
        goto done;
    }
    *out = t;
    rc = 0;
done:
    fclose(f);
    if (rc != 0)
        free(t.frames);
    return rc;
}

/* ---------------------------------------------------------------- series */

int fs_clip_series_alloc(fs_clip_series *s, int frames, int points)
{
    if (!s || frames < 0 || frames > FS_CLIP_MAX_FRAMES || points <= 0 || points > FS_LANDMARKS)
        return -1;
    fs_clip_series n = {frames, points, NULL, NULL};
    n.xy = calloc((size_t)(frames ? frames : 1) * (size_t)points * 2, sizeof(float));
    n.valid = calloc(frames ? (size_t)frames : 1, 1);
    if (!n.xy || !n.valid) {
        free(n.xy);
        free(n.valid);
        return -1;
    }
    *s = n;
    return 0;
}

void fs_clip_series_free(fs_clip_series *s)
{
    if (!s)
        return;
    free(s->xy);
    free(s->valid);
    memset(s, 0, sizeof(*s));
}

void fs_clip_series_set(fs_clip_series *s, int f, const fs_face_landmarks *lm)
{
    if (!s || !lm || f < 0 || f >= s->frames)
        return;
    float *p = s->xy + (size_t)f * (size_t)s->points * 2;
    for (int k = 0; k < s->points; k++) {
        p[2 * k] = lm->points[k][0];
        p[2 * k + 1] = lm->points[k][1];
    }
    s->valid[f] = 1;
}

int fs_clip_truth_series(const fs_clip_truth *t, const fs_face_landmarks *photo_landmarks,
                         int points, fs_clip_series *out)
{
    if (!t || !photo_landmarks || !out)
        return -1;
    fs_clip_series s;
    if (fs_clip_series_alloc(&s, t->frame_count, points) != 0)
        return -1;
    for (int f = 0; f < t->frame_count; f++) {
        const double *m = t->frames[f].m;
        const fs_face_landmarks *lm = &photo_landmarks[t->frames[f].photo];
        float *p = s.xy + (size_t)f * (size_t)points * 2;
        for (int k = 0; k < points; k++) {
            const double x = lm->points[k][0], y = lm->points[k][1];
            p[2 * k] = (float)(m[0] * x + m[1] * y + m[2]);
            p[2 * k + 1] = (float)(m[3] * x + m[4] * y + m[5]);
        }
        s.valid[f] = 1;
    }
    *out = s;
    return 0;
}

static const float *frame_xy(const fs_clip_series *s, int f)
{
    return s->xy + (size_t)f * (size_t)s->points * 2;
}

/* Clamps [first, first + count) to the frames both series have. */
static void clamp_run(int frames, int *first, int *count)
{
    if (*first < 0) {
        *count += *first;
        *first = 0;
    }
    if (*count > frames - *first)
        *count = frames - *first;
    if (*count < 0)
        *count = 0;
}

fs_clip_stat fs_clip_jitter(const fs_clip_truth *t, const fs_clip_series *truth,
                            const fs_clip_series *fit, int first, int count,
                            fs_clip_jitter_mode mode)
{
    fs_clip_stat st = {0.0, 0};
    if (!t || !truth || !fit || truth->frames != fit->frames || truth->points != fit->points ||
        truth->points <= FS_CLIP_EYE_LEFT_OUTER || truth->frames > t->frame_count)
        return st;
    clamp_run(fit->frames, &first, &count);
    const int np = fit->points;
    double sum = 0.0;
    for (int i = first + 1; i + 1 < first + count; i++) {
        if (!fit->valid[i - 1] || !fit->valid[i] || !fit->valid[i + 1])
            continue;
        const int shot = t->frames[i].shot;
        if (t->frames[i - 1].shot != shot || t->frames[i + 1].shot != shot)
            continue;
        const float *a = frame_xy(fit, i - 1), *b = frame_xy(fit, i), *c = frame_xy(fit, i + 1);
        const float *ta = frame_xy(truth, i - 1), *tb = frame_xy(truth, i),
                    *tc = frame_xy(truth, i + 1);
        const double eye = hypot(tb[2 * FS_CLIP_EYE_LEFT_OUTER] - tb[2 * FS_CLIP_EYE_RIGHT_OUTER],
                                 tb[2 * FS_CLIP_EYE_LEFT_OUTER + 1] -
                                     tb[2 * FS_CLIP_EYE_RIGHT_OUTER + 1]);
        if (!(eye > 0.0))
            continue;
        double s = 0.0;
        for (int k = 0; k < 2 * np; k++) {
            double d = (double)c[k] - 2.0 * b[k] + a[k];
            if (mode == FS_CLIP_JITTER_RESIDUAL)
                d -= (double)tc[k] - 2.0 * tb[k] + ta[k];
            s += d * d; /* x and y terms of one point add to its squared length */
        }
        sum += s / np / (eye * eye);
        st.samples++;
    }
    if (st.samples)
        st.value = sqrt(sum / (double)st.samples);
    return st;
}

fs_clip_stat fs_clip_error(const fs_clip_series *truth, const fs_clip_series *fit, int first,
                           int count, double *max_error)
{
    fs_clip_stat st = {0.0, 0};
    double worst = 0.0;
    if (truth && fit && truth->frames == fit->frames && truth->points == fit->points) {
        clamp_run(fit->frames, &first, &count);
        const int np = fit->points;
        const int nbox = np < FS_MESH_LANDMARKS ? np : FS_MESH_LANDMARKS;
        double sum = 0.0;
        for (int i = first; i < first + count; i++) {
            if (!fit->valid[i] || !truth->valid[i])
                continue;
            const float *p = frame_xy(fit, i), *q = frame_xy(truth, i);
            double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
            for (int k = 0; k < nbox; k++) {
                x0 = fmin(x0, q[2 * k]);
                x1 = fmax(x1, q[2 * k]);
                y0 = fmin(y0, q[2 * k + 1]);
                y1 = fmax(y1, q[2 * k + 1]);
            }
            const double size = fmax(x1 - x0, y1 - y0);
            if (!(size > 0.0))
                continue;
            double d = 0.0;
            for (int k = 0; k < np; k++)
                d += hypot((double)p[2 * k] - q[2 * k], (double)p[2 * k + 1] - q[2 * k + 1]);
            d /= np * size;
            sum += d;
            worst = fmax(worst, d);
            st.samples++;
        }
        if (st.samples)
            st.value = sum / (double)st.samples;
    }
    if (max_error)
        *max_error = worst;
    return st;
}

/* ---------------------------------------------------------------- frames */

static int rgb_ok(const fs_image *a)
{
    return a && a->data && a->format == FS_PIXEL_RGB8 && a->memory == FS_MEMORY_HOST &&
           a->width > 0 && a->height > 0 && a->stride >= a->width * 3;
}

static int pair_ok(const fs_image *a, const fs_image *b, const fs_image *mask)
{
    if (!rgb_ok(a) || !rgb_ok(b) || a->width != b->width || a->height != b->height)
        return 0;
    return !mask || (mask->data && mask->format == FS_PIXEL_GRAY8 &&
                     mask->memory == FS_MEMORY_HOST && mask->width == a->width &&
                     mask->height == a->height && mask->stride >= mask->width);
}

double fs_clip_frame_change(const fs_image *a, const fs_image *b, const fs_image *mask)
{
    if (!pair_ok(a, b, mask))
        return -1.0;
    double sum = 0.0;
    long n = 0;
    for (int y = 0; y < a->height; y++) {
        const uint8_t *pa = (const uint8_t *)a->data + (size_t)y * a->stride;
        const uint8_t *pb = (const uint8_t *)b->data + (size_t)y * b->stride;
        const uint8_t *pm = mask ? (const uint8_t *)mask->data + (size_t)y * mask->stride : NULL;
        long row = 0;
        for (int x = 0; x < a->width; x++) {
            if (pm && !pm[x])
                continue;
            for (int c = 0; c < 3; c++)
                row += abs((int)pb[3 * x + c] - (int)pa[3 * x + c]);
            n++;
        }
        sum += (double)row;
    }
    return n ? sum / (3.0 * (double)n) : -1.0;
}

double fs_clip_steadiness(const fs_image *frames, int count, const fs_image *masks,
                          int mask_count)
{
    if (!frames || count < 2 || (masks && mask_count != 1 && mask_count != count))
        return -1.0;
    double sum = 0.0;
    int n = 0;
    for (int i = 1; i < count; i++) {
        const fs_image *m = masks ? &masks[mask_count == 1 ? 0 : i] : NULL;
        const double d = fs_clip_frame_change(&frames[i - 1], &frames[i], m);
        if (d < 0.0)
            continue;
        sum += d;
        n++;
    }
    return n ? sum / n : -1.0;
}

long fs_clip_count_outside(const fs_image *a, const fs_image *b, const fs_image *mask,
                           int tolerance, int *max_diff)
{
    if (!pair_ok(a, b, mask))
        return -1;
    long count = 0;
    int worst = 0;
    for (int y = 0; y < a->height; y++) {
        const uint8_t *pa = (const uint8_t *)a->data + (size_t)y * a->stride;
        const uint8_t *pb = (const uint8_t *)b->data + (size_t)y * b->stride;
        const uint8_t *pm = mask ? (const uint8_t *)mask->data + (size_t)y * mask->stride : NULL;
        for (int x = 0; x < a->width; x++) {
            if (pm && pm[x])
                continue;
            int d = 0;
            for (int c = 0; c < 3; c++) {
                const int e = abs((int)pb[3 * x + c] - (int)pa[3 * x + c]);
                d = e > d ? e : d;
            }
            worst = d > worst ? d : worst;
            count += d > tolerance;
        }
    }
    if (max_diff)
        *max_diff = worst;
    return count;
}

/* ------------------------------------------------------------------ mask */

static double cross(const double *o, const double *a, const double *b)
{
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

static int cmp_xy(const void *pa, const void *pb)
{
    const double *a = pa, *b = pb;
    if (a[0] != b[0])
        return a[0] < b[0] ? -1 : 1;
    return (a[1] > b[1]) - (a[1] < b[1]);
}

int fs_clip_mask_hull(fs_image *mask, const float *xy, int n, double grow)
{
    if (!mask || !mask->data || mask->format != FS_PIXEL_GRAY8 || mask->width <= 0 ||
        mask->height <= 0 || mask->stride < mask->width || !xy || n < 3 || n > 100000 ||
        !(grow >= 0.0 && grow < 1e6))
        return -1;
    double(*p)[2] = malloc(sizeof(*p) * (size_t)n);
    double(*h)[2] = malloc(sizeof(*h) * (size_t)(2 * n));
    if (!p || !h) {
        free(p);
        free(h);
        return -1;
    }
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(xy[2 * i]) && isfinite(xy[2 * i + 1])) {
            p[m][0] = xy[2 * i];
            p[m][1] = xy[2 * i + 1];
            m++;
        }
    /* Andrew's monotone chain; the hull comes out counter-clockwise in
     * (x right, y down) terms of cross(), i.e. cross > 0 means a left turn. */
    qsort(p, (size_t)m, sizeof(*p), cmp_xy);
    int k = 0;
    for (int i = 0; i < m; i++) {
        while (k >= 2 && cross(h[k - 2], h[k - 1], p[i]) <= 0)
            k--;
        h[k][0] = p[i][0], h[k][1] = p[i][1], k++;
    }
    for (int i = m - 2, lo = k + 1; i >= 0; i--) {
        while (k >= lo && cross(h[k - 2], h[k - 1], p[i]) <= 0)
            k--;
        h[k][0] = p[i][0], h[k][1] = p[i][1], k++;
    }
    k--; /* the last point repeats the first */
    for (int y = 0; y < mask->height; y++)
        memset((uint8_t *)mask->data + (size_t)y * mask->stride, 0, (size_t)mask->width);
    if (k < 3) {
        free(p);
        free(h);
        return 0;
    }
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (int i = 0; i < k; i++) {
        x0 = fmin(x0, h[i][0]), x1 = fmax(x1, h[i][0]);
        y0 = fmin(y0, h[i][1]), y1 = fmax(y1, h[i][1]);
    }
    const int ya = (int)fmax(0.0, floor(y0 - grow)), yb = (int)fmin(mask->height - 1.0, ceil(y1 + grow));
    const int xa = (int)fmax(0.0, floor(x0 - grow)), xb = (int)fmin(mask->width - 1.0, ceil(x1 + grow));
    for (int y = ya; y <= yb; y++) {
        uint8_t *row = (uint8_t *)mask->data + (size_t)y * mask->stride;
        for (int x = xa; x <= xb; x++) {
            /* Pixel centre inside every edge's half-plane pushed out by grow. */
            const double c[2] = {x + 0.5, y + 0.5};
            int in = 1;
            for (int i = 0; i < k && in; i++) {
                const double *a = h[i], *b = h[(i + 1) % k];
                const double len = hypot(b[0] - a[0], b[1] - a[1]);
                in = len == 0.0 || cross(a, b, c) / len >= -grow;
            }
            row[x] = in ? 255 : 0;
        }
    }
    free(p);
    free(h);
    return 0;
}
