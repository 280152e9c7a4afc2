/*
 * Two-sided smoothing of landmark tracks and per-frame statistics
 * (smooth.h).
 */
#include "track/smooth.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "track/one_euro.h"

#define COORD_LIMIT 1e6
#define CUTOFF_LIMIT 1e6
#define SERIES_MAX_K 1024
#define TIME_LIMIT 1e6
#define PI 3.14159265358979323846

/* One frame's similarity: p = c + s R(theta) q. */
enum { SIM_CX, SIM_CY, SIM_LOGS, SIM_THETA, SIM_N };

void fs_smooth_params_default(fs_smooth_params *p)
{
    p->min_cutoff = 0.5;
    p->beta = 10.0;
    p->shape_cutoff = 0.3;
    p->shape_beta = 10.0;
    p->speed_window = 0.1;
    p->max_gap = 0.25;
    p->lead = 0.15;
    p->speed_floor = 0.1;
    p->shape_floor = 0.3;
}

/*
 * Forward then backward first-order low-pass of m samples of d values
 * (x[i * d + j]), in place. The interval between samples i - 1 and i uses
 * the larger cutoff of its two ends (fc[] or, when NULL, fc_const), the
 * same factor both ways, so the result does not depend on the direction
 * of time.
 */
static void zero_phase(double *x, int d, const double *t, const double *fc, double fc_const,
                       int m)
{
    for (int i = 1; i < m; i++) {
        const double c = fc ? fmax(fc[i - 1], fc[i]) : fc_const;
        const double a = fs_one_euro_alpha(t[i] - t[i - 1], c);
        for (int j = 0; j < d; j++)
            x[i * d + j] = x[(i - 1) * d + j] + a * (x[i * d + j] - x[(i - 1) * d + j]);
    }
    for (int i = m - 1; i > 0; i--) {
        const double c = fc ? fmax(fc[i - 1], fc[i]) : fc_const;
        const double a = fs_one_euro_alpha(t[i] - t[i - 1], c);
        for (int j = 0; j < d; j++)
            x[(i - 1) * d + j] = x[i * d + j] + a * (x[(i - 1) * d + j] - x[i * d + j]);
    }
}

/*
 * Speed of m samples of d values (the first d_used of them count), in
 * units per second, the first two values (a position) divided by unit[i]
 * when unit is not NULL: the least-squares slope over the samples within
 * +-@p window seconds (a compact window: a move's speed does not leak into
 * the still frames beyond it, as an IIR low-pass's tail would), then the
 * norm. @p tmp holds d doubles.
 */
static void speed_of(const double *x, int d, int d_used, const double *t, const double *unit,
                     int m, double window, double *tmp, double *speed)
{
    int lo = 0, hi = 0;
    for (int i = 0; i < m; i++) {
        while (t[i] - t[lo] > window)
            lo++;
        if (hi < i)
            hi = i;
        while (hi + 1 < m && t[hi + 1] - t[i] <= window)
            hi++;
        /* Too few samples near the track's ends: widen to three. */
        int a = lo, b = hi;
        if (b - a < 2) {
            a = i > 0 ? i - 1 : 0;
            b = i < m - 1 ? i + 1 : m - 1;
        }
        double tm = 0.0;
        for (int k = a; k <= b; k++)
            tm += t[k];
        tm /= b - a + 1;
        double stt = 0.0;
        for (int j = 0; j < d; j++)
            tmp[j] = 0.0;
        for (int k = a; k <= b; k++) {
            const double dt = t[k] - tm;
            stt += dt * dt;
            for (int j = 0; j < d; j++)
                tmp[j] += dt * x[k * d + j];
        }
        double s2 = 0.0;
        if (stt > 0.0)
            for (int j = 0; j < d_used; j++) {
                const double u = unit && j < 2 ? unit[i] : 1.0;
                const double v = tmp[j] / (stt * u);
                s2 += v * v;
            }
        speed[i] = sqrt(s2);
    }
}

/* Each speed becomes the largest within +-@p lead seconds: the filter opens
 * before a move starts and closes after it ends. @p tmp holds m doubles. */
static void dilate(double *speed, const double *t, int m, double lead, double *tmp)
{
    if (!(lead > 0.0))
        return;
    memcpy(tmp, speed, (size_t)m * sizeof(double));
    int lo = 0, hi = 0;
    for (int i = 0; i < m; i++) {
        while (t[i] - t[lo] > lead)
            lo++;
        if (hi < i)
            hi = i;
        while (hi + 1 < m && t[hi + 1] - t[i] <= lead)
            hi++;
        double v = 0.0;
        for (int j = lo; j <= hi; j++)
            v = fmax(v, tmp[j]);
        speed[i] = v;
    }
}

static int params_ok(const fs_smooth_params *p)
{
    const double c[2] = {p->min_cutoff, p->shape_cutoff};
    for (int i = 0; i < 2; i++)
        if (!(c[i] > 0.0 && c[i] <= CUTOFF_LIMIT))
            return 0;
    const double r[4] = {p->beta, p->shape_beta, p->speed_floor, p->shape_floor};
    for (int i = 0; i < 4; i++)
        if (!(r[i] >= 0.0 && r[i] <= CUTOFF_LIMIT))
            return 0;
    const double s[3] = {p->max_gap, p->lead, p->speed_window};
    for (int i = 0; i < 3; i++)
        if (!(s[i] >= 0.0 && s[i] <= TIME_LIMIT))
            return 0;
    return 1;
}

static fs_status check_times(const double *t, int n, fs_error_buf *err)
{
    for (int i = 0; i < n; i++) {
        if (!(fabs(t[i]) <= TIME_LIMIT))
            return fs_fail(err, FS_ERR_INVALID_ARGUMENT,
                           "time of frame %d is not finite or beyond 1e6 s", i);
        if (i > 0 && t[i] < t[i - 1])
            return fs_fail(err, FS_ERR_INVALID_ARGUMENT,
                           "time of frame %d (%.6f s) is before frame %d's (%.6f s)", i, t[i],
                           i - 1, t[i - 1]);
    }
    return FS_OK;
}

/* Centroid, scale and rotation of frame @p pts against the unit-RMS,
 * centred reference @p ref (mesh points, x and y). 0 when degenerate. */
static int fit_similarity(const float (*pts)[3], const double (*ref)[2], double sim[SIM_N])
{
    double cx = 0.0, cy = 0.0;
    for (int j = 0; j < FS_MESH_LANDMARKS; j++) {
        cx += pts[j][0];
        cy += pts[j][1];
    }
    cx /= FS_MESH_LANDMARKS;
    cy /= FS_MESH_LANDMARKS;
    /* With complex a (reference) and b (frame, centred), the best s e^{i theta}
     * is sum conj(a) b / sum |a|^2; sum |a|^2 = FS_MESH_LANDMARKS. */
    double re = 0.0, im = 0.0;
    for (int j = 0; j < FS_MESH_LANDMARKS; j++) {
        const double bx = pts[j][0] - cx, by = pts[j][1] - cy;
        re += ref[j][0] * bx + ref[j][1] * by;
        im += ref[j][0] * by - ref[j][1] * bx;
    }
    const double s = hypot(re, im) / FS_MESH_LANDMARKS;
    if (!(s > 1e-6) || !isfinite(s))
        return 0;
    sim[SIM_CX] = cx;
    sim[SIM_CY] = cy;
    sim[SIM_LOGS] = log(s);
    sim[SIM_THETA] = atan2(im, re);
    return 1;
}

static void to_local(const float p[3], const double sim[SIM_N], double q[3])
{
    const double s = exp(sim[SIM_LOGS]), c = cos(sim[SIM_THETA]), sn = sin(sim[SIM_THETA]);
    const double dx = p[0] - sim[SIM_CX], dy = p[1] - sim[SIM_CY];
    q[0] = (c * dx + sn * dy) / s;
    q[1] = (-sn * dx + c * dy) / s;
    q[2] = p[2] / s;
}

static void to_image(const double q[3], const double sim[SIM_N], float p[3])
{
    const double s = exp(sim[SIM_LOGS]), c = cos(sim[SIM_THETA]), sn = sin(sim[SIM_THETA]);
    p[0] = (float)(sim[SIM_CX] + s * (c * q[0] - sn * q[1]));
    p[1] = (float)(sim[SIM_CY] + s * (sn * q[0] + c * q[1]));
    p[2] = (float)(s * q[2]);
}

/* Centres @p ref and scales it to unit RMS radius. 0 when degenerate. */
static int normalise_shape(double (*ref)[2])
{
    double cx = 0.0, cy = 0.0, r2 = 0.0;
    for (int j = 0; j < FS_MESH_LANDMARKS; j++) {
        cx += ref[j][0];
        cy += ref[j][1];
    }
    cx /= FS_MESH_LANDMARKS;
    cy /= FS_MESH_LANDMARKS;
    for (int j = 0; j < FS_MESH_LANDMARKS; j++) {
        ref[j][0] -= cx;
        ref[j][1] -= cy;
        r2 += ref[j][0] * ref[j][0] + ref[j][1] * ref[j][1];
    }
    const double r = sqrt(r2 / FS_MESH_LANDMARKS);
    if (!(r > 1e-9) || !isfinite(r))
        return 0;
    for (int j = 0; j < FS_MESH_LANDMARKS; j++) {
        ref[j][0] /= r;
        ref[j][1] /= r;
    }
    return 1;
}

/* Scratch of fs_smooth_track, allocated at once before anything is written. */
typedef struct smooth_work {
    double (*ref)[2];  /* FS_MESH_LANDMARKS */
    double *sim;       /* n * SIM_N, per measured frame, as fitted */
    double *sim_s;     /* n * SIM_N, smoothed */
    uint8_t *bridged;  /* n */
    double *col;       /* n * 4: one point's local shape, or the similarity */
    double *tmp;       /* n * 4 */
    double *speed;     /* n */
    double *fc;        /* n */
    double *unit;      /* n */
} smooth_work;

static void work_free(smooth_work *w)
{
    free(w->ref);
    free(w->sim);
    free(w->sim_s);
    free(w->bridged);
    free(w->col);
    free(w->tmp);
    free(w->speed);
    free(w->fc);
    free(w->unit);
}

static int work_alloc(smooth_work *w, int n)
{
    memset(w, 0, sizeof(*w));
    size_t n4;
    if (!fs_mul_size((size_t)n, SIM_N * sizeof(double), &n4))
        return 0;
    w->ref = malloc(sizeof(double[FS_MESH_LANDMARKS][2]));
    w->sim = malloc(n4);
    w->sim_s = malloc(n4);
    w->bridged = calloc((size_t)n, 1);
    w->col = malloc(n4);
    w->tmp = malloc(n4);
    w->speed = malloc((size_t)n * sizeof(double));
    w->fc = malloc((size_t)n * sizeof(double));
    w->unit = malloc((size_t)n * sizeof(double));
    if (!w->ref || !w->sim || !w->sim_s || !w->bridged || !w->col || !w->tmp || !w->speed ||
        !w->fc || !w->unit) {
        work_free(w);
        return 0;
    }
    return 1;
}

/* Linear interpolation of d values between samples a and b at time t. */
static void lerp(const double *xa, const double *xb, double ta, double tb, double t, int d,
                 double *out)
{
    const double u = tb > ta ? (t - ta) / (tb - ta) : 0.5;
    for (int j = 0; j < d; j++)
        out[j] = xa[j] + u * (xb[j] - xa[j]);
}

/* The first measured frame after bridged frame @p i; @p known is the last
 * answer, reused while it is still ahead (a gap is walked once). */
static int next_measured(const uint8_t *bridged, int i, int known)
{
    if (known > i)
        return known;
    int next = i + 1;
    while (bridged[next])
        next++;
    return next;
}

/* Smooths frames s..e (all measured or bridged) of the track. */
static void smooth_segment(float (*points)[FS_LANDMARKS][3], const double *t, int s, int e,
                           const fs_smooth_params *p, smooth_work *w)
{
    const int m = e - s + 1;
    const double *ts = t + s;
    /* The similarity, gaps filled, in w->col as (cx, cy, log s, theta). */
    int last = s, next = s;
    for (int i = s; i <= e; i++) {
        double *dst = w->col + (size_t)(i - s) * SIM_N;
        if (!w->bridged[i]) {
            memcpy(dst, w->sim + (size_t)i * SIM_N, SIM_N * sizeof(double));
            last = i;
        } else {
            next = next_measured(w->bridged, i, next);
            lerp(w->sim + (size_t)last * SIM_N, w->sim + (size_t)next * SIM_N, t[last], t[next],
                 t[i], SIM_N, dst);
        }
        /* Translation speeds in radii per second. */
        w->unit[i - s] = exp(dst[SIM_LOGS]);
    }
    /* Speeds of the four in radii/s: position / scale, and a point at one
     * radius moves by d(log s) and d(theta) radii. */
    speed_of(w->col, SIM_N, SIM_N, ts, w->unit, m, p->speed_window, w->tmp, w->speed);
    dilate(w->speed, ts, m, p->lead, w->tmp);
    for (int i = 0; i < m; i++)
        w->fc[i] = p->min_cutoff + p->beta * fmax(w->speed[i] - p->speed_floor, 0.0);
    zero_phase(w->col, SIM_N, ts, w->fc, 0.0, m);
    memcpy(w->sim_s + (size_t)s * SIM_N, w->col, (size_t)m * SIM_N * sizeof(double));

    for (int k = 0; k < FS_LANDMARKS; k++) {
        last = next = s;
        for (int i = s; i <= e; i++) {
            double *q = w->col + (size_t)(i - s) * 3;
            if (!w->bridged[i]) {
                to_local(points[i][k], w->sim + (size_t)i * SIM_N, q);
                last = i;
            } else {
                next = next_measured(w->bridged, i, next);
                double qa[3], qb[3];
                to_local(points[last][k], w->sim + (size_t)last * SIM_N, qa);
                to_local(points[next][k], w->sim + (size_t)next * SIM_N, qb);
                lerp(qa, qb, t[last], t[next], t[i], 3, q);
            }
        }
        speed_of(w->col, 3, 2, ts, NULL, m, p->speed_window, w->tmp, w->speed);
        for (int i = 0; i < m; i++)
            w->fc[i] = p->shape_cutoff + p->shape_beta * fmax(w->speed[i] - p->shape_floor, 0.0);
        zero_phase(w->col, 3, ts, w->fc, 0.0, m);
        for (int i = s; i <= e; i++)
            to_image(w->col + (size_t)(i - s) * 3, w->sim_s + (size_t)i * SIM_N, points[i][k]);
    }
}

fs_status fs_smooth_track(float (*points)[FS_LANDMARKS][3], const double *t, uint8_t *valid,
                          int n, const fs_smooth_params *p, fs_error_buf *err)
{
    if (n < 0 || !p || (n > 0 && (!points || !t || !valid)))
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "smooth track: NULL argument or n < 0");
    if (!params_ok(p))
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT,
                       "smooth track: cutoffs must be in (0, 1e6] Hz, betas and floors in "
                       "[0, 1e6], times (max_gap, lead, speed_window) in [0, 1e6] s");
    fs_status st = check_times(t, n, err);
    if (st != FS_OK)
        return st;
    int first = -1;
    for (int i = 0; i < n; i++) {
        if (!valid[i])
            continue;
        if (first < 0)
            first = i;
        for (int k = 0; k < FS_LANDMARKS; k++)
            for (int c = 0; c < 3; c++)
                if (!(fabsf(points[i][k][c]) <= COORD_LIMIT))
                    return fs_fail(err, FS_ERR_INVALID_ARGUMENT,
                                   "frame %d, landmark %d: coordinate not finite or beyond 1e6", i,
                                   k);
    }
    if (first < 0)
        return FS_OK;

    smooth_work w;
    if (!work_alloc(&w, n))
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "smooth track: %d frames", n);

    /* Reference shape: the first frame, then the mean of every frame aligned
     * to it (one Procrustes round is plenty: the reference only names the
     * frame the shape lives in; any fixed one decomposes exactly). */
    for (int j = 0; j < FS_MESH_LANDMARKS; j++) {
        w.ref[j][0] = points[first][j][0];
        w.ref[j][1] = points[first][j][1];
    }
    int ok = normalise_shape(w.ref);
    int bad = ok ? -1 : first;
    if (ok) {
        double acc[FS_MESH_LANDMARKS][2];
        memset(acc, 0, sizeof(acc));
        for (int i = first; i < n && bad < 0; i++) {
            if (!valid[i])
                continue;
            double sim[SIM_N];
            if (!fit_similarity((const float(*)[3])points[i], (const double(*)[2])w.ref, sim)) {
                bad = i;
                break;
            }
            for (int j = 0; j < FS_MESH_LANDMARKS; j++) {
                double q[3];
                to_local(points[i][j], sim, q);
                acc[j][0] += q[0];
                acc[j][1] += q[1];
            }
        }
        if (bad < 0) {
            memcpy(w.ref, acc, sizeof(acc));
            if (!normalise_shape(w.ref))
                bad = first;
        }
    }
    /* The similarity of every measured frame, theta unwrapped along the track. */
    double prev_theta = 0.0;
    int have_prev = 0;
    for (int i = first; i < n && bad < 0; i++) {
        if (!valid[i])
            continue;
        double *sim = w.sim + (size_t)i * SIM_N;
        if (!fit_similarity((const float(*)[3])points[i], (const double(*)[2])w.ref, sim)) {
            bad = i;
            break;
        }
        if (have_prev) {
            const double d = sim[SIM_THETA] - prev_theta;
            sim[SIM_THETA] = prev_theta + (d - 2.0 * PI * floor((d + PI) / (2.0 * PI)));
        }
        prev_theta = sim[SIM_THETA];
        have_prev = 1;
    }
    if (bad >= 0) {
        work_free(&w);
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT,
                       "frame %d: the landmarks collapse to a point (no face shape)", bad);
    }

    /* Segments: runs of measured frames joined across short gaps. */
    int seg_start = first, prev = first;
    for (int i = first + 1; i <= n; i++) {
        if (i < n && !valid[i])
            continue;
        if (i < n && i > prev + 1 && t[i] - t[prev] <= p->max_gap) {
            for (int g = prev + 1; g < i; g++)
                w.bridged[g] = 1;
        } else if (i == n || i > prev + 1) {
            if (prev > seg_start)
                smooth_segment(points, t, seg_start, prev, p, &w);
            seg_start = i;
        }
        prev = i;
    }
    for (int i = 0; i < n; i++) {
        if (w.bridged[i])
            valid[i] = FS_SMOOTH_BRIDGED;
        else if (valid[i])
            valid[i] = FS_SMOOTH_MEASURED;
    }
    work_free(&w);
    return FS_OK;
}

fs_status fs_smooth_series(float *v, int k, const double *t, const uint8_t *valid, int n,
                           double cutoff_hz, fs_error_buf *err)
{
    if (n < 0 || (n > 0 && (!v || !t || !valid)))
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "smooth series: NULL argument or n < 0");
    if (k < 1 || k > SERIES_MAX_K)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "smooth series: k = %d outside 1..%d", k,
                       SERIES_MAX_K);
    if (!(cutoff_hz > 0.0 && cutoff_hz <= CUTOFF_LIMIT))
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "smooth series: cutoff %g Hz not in (0, 1e6]",
                       cutoff_hz);
    fs_status st = check_times(t, n, err);
    if (st != FS_OK)
        return st;
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (!valid[i])
            continue;
        m++;
        for (int j = 0; j < k; j++)
            if (!isfinite(v[(size_t)i * k + j]))
                return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "smooth series: frame %d, value %d "
                               "not finite", i, j);
    }
    if (m < 2)
        return FS_OK;
    size_t bytes;
    double *x = NULL, *ts = NULL;
    if (fs_mul_size((size_t)m * (size_t)k, sizeof(double), &bytes)) {
        x = malloc(bytes);
        ts = malloc((size_t)m * sizeof(double));
    }
    if (!x || !ts) {
        free(x);
        free(ts);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "smooth series: %d frames x %d", m, k);
    }
    for (int i = 0, r = 0; i < n; i++) {
        if (!valid[i])
            continue;
        ts[r] = t[i];
        for (int j = 0; j < k; j++)
            x[(size_t)r * k + j] = v[(size_t)i * k + j];
        r++;
    }
    zero_phase(x, k, ts, NULL, cutoff_hz, m);
    for (int i = 0, r = 0; i < n; i++) {
        if (!valid[i])
            continue;
        for (int j = 0; j < k; j++)
            v[(size_t)i * k + j] = (float)x[(size_t)r * k + j];
        r++;
    }
    free(x);
    free(ts);
    return FS_OK;
}
