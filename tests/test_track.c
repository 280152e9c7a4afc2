/*
 * lib/track: the One Euro filter, the offline landmark smoother on a real
 * face moved along a known path, the per-frame series smoother, the track
 * table and the scene-cut detector, all on synthetic data.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "track/one_euro.h"
#include "track/scenecut.h"
#include "track/smooth.h"
#include "track/tracker.h"

#define PI 3.14159265358979323846

/* ---------------------------------------------------------------- helpers */

/* Deterministic normal deviates: xorshift64* and Box-Muller. */
typedef struct rng {
    uint64_t s;
} rng;

static double rng_uniform(rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return ((r->s * 2685821657736338717ULL) >> 11) * (1.0 / 9007199254740992.0);
}

static double rng_normal(rng *r)
{
    double u = rng_uniform(r);
    while (u <= 0.0)
        u = rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(2.0 * PI * rng_uniform(r));
}

/* ---------------------------------------------------------------- One Euro */

START_TEST(one_euro_constant)
{
    fs_one_euro f;
    fs_one_euro_init(&f, 1.0, 0.5, 1.0);
    double t = 0.0;
    rng r = {7};
    for (int i = 0; i < 200; i++) {
        t += 0.02 + 0.03 * rng_uniform(&r); /* irregular frame times */
        const double y = fs_one_euro_step(&f, 3.25, t);
        ck_assert_msg(y == 3.25, "step %d: %.17g", i, y);
    }
    /* A repeated timestamp holds the output. */
    fs_one_euro_step(&f, 10.0, t + 0.04);
    const double held = f.x;
    ck_assert(fs_one_euro_step(&f, -50.0, t + 0.04) == held);
}
END_TEST

/* The first step at which a unit step's output passes 0.95, or -1. */
static int settle_steps(double min_cutoff, double beta, double dt)
{
    fs_one_euro f;
    fs_one_euro_init(&f, min_cutoff, beta, 1.0);
    fs_one_euro_step(&f, 0.0, 0.0);
    for (int i = 1; i < 1000; i++) {
        const double y = fs_one_euro_step(&f, 1.0, i * dt);
        ck_assert(y >= 0.0 && y <= 1.0);
        if (y > 0.95)
            return i;
    }
    return -1;
}

START_TEST(one_euro_step_cutoff_beta)
{
    /* Plain low-pass (beta 0): a first-order filter settles to 95 % in
     * ln(20) tau; at 1 Hz, 25 fps: tau = 0.159 s, 0.48 s = 12 frames. */
    const int s1 = settle_steps(1.0, 0.0, 0.04);
    ck_assert_msg(s1 >= 10 && s1 <= 14, "1 Hz settles in %d steps", s1);
    /* A higher cutoff follows faster; beta opens the filter on the step. */
    const int s4 = settle_steps(4.0, 0.0, 0.04);
    const int sb = settle_steps(1.0, 1.0, 0.04);
    ck_assert_msg(s4 < s1 / 2, "4 Hz %d vs 1 Hz %d", s4, s1);
    ck_assert_msg(sb < s1 / 2, "beta 1: %d vs %d", sb, s1);
    /* The same cutoff in Hz settles in the same time at 60 fps. */
    const int s60 = settle_steps(1.0, 0.0, 1.0 / 60);
    ck_assert_msg(fabs(s60 / 60.0 - s1 / 25.0) < 0.05, "%d @ 60 vs %d @ 25", s60, s1);

    /* On noise, a lower cutoff leaves less of it; beta lets through more. */
    double var[3] = {0};
    const double cut[3] = {0.5, 2.0, 0.5}, bet[3] = {0.0, 0.0, 5.0};
    for (int c = 0; c < 3; c++) {
        fs_one_euro f;
        fs_one_euro_init(&f, cut[c], bet[c], 1.0);
        rng r = {99};
        for (int i = 0; i < 2000; i++) {
            const double y = fs_one_euro_step(&f, rng_normal(&r), i * 0.04);
            if (i >= 100)
                var[c] += y * y / 1900;
        }
    }
    ck_assert_msg(var[0] < var[1] && var[0] < var[2] && var[0] < 0.1, "%g %g %g", var[0], var[1],
                  var[2]);
    /* Scaled speed: the same signal in px with speeds in face sizes. */
    fs_one_euro a, b;
    fs_one_euro_init(&a, 1.0, 1.0, 1.0);
    fs_one_euro_init(&b, 1.0, 1.0, 1.0);
    for (int i = 0; i < 50; i++) {
        const double x = i < 10 ? 0.0 : 1.0, ya = fs_one_euro_step(&a, x, i * 0.04);
        const double yb = fs_one_euro_step_scaled(&b, 200.0 * x, i * 0.04, 200.0);
        ck_assert_msg(fabs(200.0 * ya - yb) < 1e-9 * 200, "step %d: %g vs %g", i, ya, yb);
    }
}
END_TEST

/* ---------------------------------------------------------------- landmark smoothing */

/* One fit of the astronaut: the face every smoothing test moves. */
static float base_points[FS_LANDMARKS][3];
static int base_ready;

static void load_base(void)
{
    if (base_ready)
        return;
    fs_context *ctx = fs_test_new_context();
    fs_detector *det = fs_test_new_detector(ctx);
    fs_fitter *fit = fs_test_new_fitter(ctx);
    fs_image img;
    fs_test_load_rgb8(ctx, "astronaut.png", &img);
    fs_face_box box;
    int n = 0;
    FS_ASSERT_OK(fs_detector_run(det, &img, &box, 1, &n));
    ck_assert_int_ge(n, 1);
    fs_face_landmarks lm;
    FS_ASSERT_OK(fs_fitter_run(fit, &img, &box, &lm));
    memcpy(base_points, lm.points, sizeof(base_points));
    fs_image_free(&img);
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
    base_ready = 1;
}

static double eye_distance(const float (*p)[3])
{
    const double rx = 0.5 * (p[33][0] + p[133][0]), ry = 0.5 * (p[33][1] + p[133][1]);
    const double lx = 0.5 * (p[263][0] + p[362][0]), ly = 0.5 * (p[263][1] + p[362][1]);
    return hypot(lx - rx, ly - ry);
}

/* sqrt of the mesh's extent's area, as tests/test_fit.c measures a face. */
static double face_size(const float (*p)[3])
{
    double e[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        e[0] = fmin(e[0], p[i][0]);
        e[1] = fmin(e[1], p[i][1]);
        e[2] = fmax(e[2], p[i][0]);
        e[3] = fmax(e[3], p[i][1]);
    }
    return sqrt((e[2] - e[0]) * (e[3] - e[1]));
}

/*
 * The path, in seconds, for a face of size S (px):
 *   0-1 still; 1-4 pan at 1.5 S/s (300 px/s for a 200-px face) with a
 *   zoom 0.8 -> 1.2; 4-5 still; 5-7 in-plane turn at 20 deg/s; 7-8 still;
 *   8-8.3 a move of one face width (cosine eased: peak 5.2 S/s);
 *   8.3-9.3 still.
 */
#define PATH_END 9.3
/* Pause frames this close to a start or a stop are left out of the
 * stillness figure: there the two-sided filter rounds the corner. */
#define PAUSE_MARGIN 0.25
typedef struct path_state {
    double tx, ty, zoom, angle;
} path_state;

static path_state path_at(double t, double size)
{
    path_state s = {0.0, 0.0, 0.8, 0.0};
    const double pan = 1.5 * size;
    const double u1 = fmin(fmax(t - 1.0, 0.0), 3.0);
    s.tx = pan * u1;
    s.ty = 0.25 * pan * u1;
    s.zoom = 0.8 + 0.4 * u1 / 3.0;
    s.angle = 20.0 * fmin(fmax(t - 5.0, 0.0), 2.0) * PI / 180.0;
    const double u3 = fmin(fmax((t - 8.0) / 0.3, 0.0), 1.0);
    s.tx -= size * 0.5 * (1.0 - cos(PI * u3));
    return s;
}

static int in_range(double t, double a, double b)
{
    return t >= a - 1e-9 && t <= b + 1e-9;
}

static void place(const float (*base)[3], double cx, double cy, path_state s, float (*out)[3])
{
    const double c = cos(s.angle), sn = sin(s.angle);
    for (int j = 0; j < FS_LANDMARKS; j++) {
        const double x = base[j][0] - cx, y = base[j][1] - cy;
        out[j][0] = (float)(cx + s.tx + s.zoom * (c * x - sn * y));
        out[j][1] = (float)(cy + s.ty + s.zoom * (sn * x + c * y));
        out[j][2] = (float)(s.zoom * base[j][2]);
    }
}

typedef struct smooth_figures {
    double jitter_in, jitter_out;  /* RMS second difference / eye distance */
    double err_in, err_out;        /* mean |error| / face size, all frames */
    double err_fast;               /* the same during the fast move */
    double err_worst_frame;        /* the worst frame's mean error / face size */
    double worst_t;                /* its time */
    double pause_move;             /* largest mean point move between two frames of a pause, px */
    double pause_move_max;         /* largest single point move there, px */
    double gap_err;                /* mean error / face size on the bridged frames */
    double gap_jerk;               /* largest jitter at the gap over the input's jitter */
    int bridged;
} smooth_figures;

/*
 * Runs the path for a face scaled by @p scale at @p fps, with per-point
 * noise of @p noise eye distances and a frame jitter, and three frames
 * missing at t = 6 s; fills @p fig.
 */
static void run_path(double scale, double fps, double noise, smooth_figures *fig)
{
    load_base();
    float(*base)[3] = malloc(sizeof(float[FS_LANDMARKS][3]));
    ck_assert_ptr_nonnull(base);
    double cx = 0.0, cy = 0.0;
    for (int j = 0; j < FS_MESH_LANDMARKS; j++) {
        cx += base_points[j][0] / FS_MESH_LANDMARKS;
        cy += base_points[j][1] / FS_MESH_LANDMARKS;
    }
    for (int j = 0; j < FS_LANDMARKS; j++)
        for (int k = 0; k < 3; k++)
            base[j][k] = (float)((k == 0 ? cx : k == 1 ? cy : 0.0) +
                                 scale * (base_points[j][k] - (k == 0 ? cx : k == 1 ? cy : 0.0)));
    const double size = face_size((const float(*)[3])base);
    const double eye = eye_distance((const float(*)[3])base);

    const int n = (int)floor(PATH_END * fps) + 1;
    float(*truth)[FS_LANDMARKS][3] = malloc((size_t)n * sizeof(*truth));
    float(*noisy)[FS_LANDMARKS][3] = malloc((size_t)n * sizeof(*noisy));
    float(*out)[FS_LANDMARKS][3] = malloc((size_t)n * sizeof(*out));
    double *t = malloc((size_t)n * sizeof(double));
    uint8_t *valid = malloc((size_t)n);
    ck_assert(truth && noisy && out && t && valid);
    rng r = {12345};
    const int gap0 = (int)lround(6.0 * fps);
    for (int i = 0; i < n; i++) {
        t[i] = i / fps;
        const path_state s = path_at(t[i], size);
        place((const float(*)[3])base, cx, cy, s, truth[i]);
        /* Frame jitter: the whole face shifts and breathes a little, as a
         * fitter's crop does from frame to frame. */
        const double jx = 0.003 * eye * rng_normal(&r), jy = 0.003 * eye * rng_normal(&r);
        const double js = 1.0 + 0.001 * rng_normal(&r);
        for (int j = 0; j < FS_LANDMARKS; j++)
            for (int k = 0; k < 3; k++) {
                const double c0 = k == 0 ? cx + s.tx : k == 1 ? cy + s.ty : 0.0;
                noisy[i][j][k] = (float)(c0 + js * (truth[i][j][k] - c0) +
                                         (k == 0 ? jx : k == 1 ? jy : 0.0) +
                                         noise * eye * rng_normal(&r));
            }
        valid[i] = !(i >= gap0 && i < gap0 + 3);
        if (!valid[i])
            for (int j = 0; j < FS_LANDMARKS; j++)
                noisy[i][j][0] = noisy[i][j][1] = noisy[i][j][2] = 1e30f; /* must not be read */
    }
    memcpy(out, noisy, (size_t)n * sizeof(*out));
    fs_smooth_params p;
    fs_smooth_params_default(&p);
    fs_error_buf err = {{0}};
    FS_ASSERT_OK(fs_smooth_track(out, t, valid, n, &p, &err));

    memset(fig, 0, sizeof(*fig));
    /* Jitter: the second difference of the error against the true path
     * (the path's own curvature is motion, not jitter), over frames whose
     * neighbours are all measured in the input. */
    double j_in = 0.0, j_out = 0.0;
    int j_count = 0;
    for (int i = 1; i + 1 < n; i++) {
        if (!(valid[i - 1] == FS_SMOOTH_MEASURED && valid[i] == FS_SMOOTH_MEASURED &&
              valid[i + 1] == FS_SMOOTH_MEASURED))
            continue;
        for (int j = 0; j < FS_LANDMARKS; j++)
            for (int k = 0; k < 2; k++) {
                const double tr = truth[i + 1][j][k] - 2.0 * truth[i][j][k] + truth[i - 1][j][k];
                const double a = noisy[i + 1][j][k] - 2.0 * noisy[i][j][k] + noisy[i - 1][j][k] - tr;
                const double b = out[i + 1][j][k] - 2.0 * out[i][j][k] + out[i - 1][j][k] - tr;
                j_in += a * a;
                j_out += b * b;
            }
        j_count += FS_LANDMARKS;
    }
    fig->jitter_in = sqrt(j_in / j_count) / eye;
    fig->jitter_out = sqrt(j_out / j_count) / eye;

    double e_in = 0.0, e_out = 0.0, e_fast = 0.0, e_gap = 0.0;
    int c_all = 0, c_fast = 0, c_gap = 0;
    for (int i = 0; i < n; i++) {
        const double fsz = size * path_at(t[i], size).zoom;
        double ei = 0.0, eo = 0.0;
        for (int j = 0; j < FS_LANDMARKS; j++) {
            eo += hypot(out[i][j][0] - truth[i][j][0], out[i][j][1] - truth[i][j][1]);
            if (valid[i] == FS_SMOOTH_MEASURED)
                ei += hypot(noisy[i][j][0] - truth[i][j][0], noisy[i][j][1] - truth[i][j][1]);
        }
        eo /= FS_LANDMARKS * fsz;
        ei /= FS_LANDMARKS * fsz;
        if (eo > fig->err_worst_frame) {
            fig->err_worst_frame = eo;
            fig->worst_t = t[i];
        }
        if (valid[i] == FS_SMOOTH_BRIDGED) {
            e_gap += eo;
            c_gap++;
            continue;
        }
        e_in += ei;
        e_out += eo;
        c_all++;
        if (in_range(t[i], 8.0, 8.3)) {
            e_fast += eo;
            c_fast++;
        }
    }
    fig->err_in = e_in / c_all;
    fig->err_out = e_out / c_all;
    fig->err_fast = e_fast / c_fast;
    fig->bridged = c_gap;
    fig->gap_err = c_gap ? e_gap / c_gap : INFINITY;

    /* Pauses: 0-1, 4-5, 7-8, 8.3-9.3, less 0.2 s at each end where the
     * two-sided filter rounds the corner of a stop or a start. */
    const double pauses[4][2] = {{0.0, 1.0}, {4.0, 5.0}, {7.0, 8.0}, {8.3, 9.3}};
    for (int i = 1; i < n; i++)
        for (int q = 0; q < 4; q++) {
            if (!in_range(t[i - 1], pauses[q][0] + PAUSE_MARGIN, pauses[q][1] - PAUSE_MARGIN) ||
                !in_range(t[i], pauses[q][0] + PAUSE_MARGIN, pauses[q][1] - PAUSE_MARGIN))
                continue;
            double mv = 0.0;
            for (int j = 0; j < FS_LANDMARKS; j++) {
                const double d = hypot(out[i][j][0] - out[i - 1][j][0], out[i][j][1] - out[i - 1][j][1]);
                mv += d / FS_LANDMARKS;
                fig->pause_move_max = fmax(fig->pause_move_max, d);
            }
            fig->pause_move = fmax(fig->pause_move, mv);
            if (getenv("FS_PAUSE_DEBUG"))
                printf("pause %d t %.2f move %.4f\n", q, t[i], mv);
        }

    /* The gap: the second difference of the error on the frames around it,
     * against the input's jitter (a jump would stand out of the noise). */
    for (int i = gap0 - 1; i <= gap0 + 3; i++) {
        double d2 = 0.0;
        for (int j = 0; j < FS_LANDMARKS; j++)
            for (int k = 0; k < 2; k++) {
                const double tr = truth[i + 1][j][k] - 2.0 * truth[i][j][k] + truth[i - 1][j][k];
                const double b = out[i + 1][j][k] - 2.0 * out[i][j][k] + out[i - 1][j][k] - tr;
                d2 += b * b / FS_LANDMARKS;
            }
        fig->gap_jerk = fmax(fig->gap_jerk, sqrt(d2) / eye / fig->jitter_in);
    }

    printf("smooth: face %.0f px (eye %.1f px), %.0f fps, noise %.2f%% eye + frame jitter:\n"
           "  jitter %.5f -> %.5f eye (%.1fx lower); error %.3f%% -> %.3f%% of the face, "
           "fast move %.3f%%, worst frame %.3f%% at %.2f s\n"
           "  pauses: mean move %.4f px, largest point %.4f px; gap: %d frames bridged, "
           "error %.3f%%, jitter there %.2fx the input's\n",
           size, eye, fps, 100 * noise, fig->jitter_in, fig->jitter_out,
           fig->jitter_in / fig->jitter_out, 100 * fig->err_in, 100 * fig->err_out,
           100 * fig->err_fast, 100 * fig->err_worst_frame, fig->worst_t, fig->pause_move,
           fig->pause_move_max, fig->bridged, 100 * fig->gap_err, fig->gap_jerk);
    free(base);
    free(truth);
    free(noisy);
    free(out);
    free(t);
    free(valid);
}

static void assert_figures(const smooth_figures *f)
{
    ck_assert_msg(f->jitter_out * 3.0 <= f->jitter_in, "jitter %g -> %g", f->jitter_in,
                  f->jitter_out);
    ck_assert_msg(f->err_out < 0.01, "mean error %.4f of the face", f->err_out);
    ck_assert_msg(f->err_fast < 0.02, "fast-move error %.4f of the face", f->err_fast);
    ck_assert_msg(f->pause_move < 0.05, "pause move %.4f px", f->pause_move);
    ck_assert_int_eq(f->bridged, 3);
    ck_assert_msg(f->gap_err < 0.01, "gap error %.4f", f->gap_err);
    ck_assert_msg(f->gap_jerk < 0.5, "jitter at the gap %.2fx the input's", f->gap_jerk);
}

START_TEST(smooth_path_25fps)
{
    smooth_figures f;
    run_path(1.0, 25.0, 0.0075, &f);
    assert_figures(&f);
}
END_TEST

START_TEST(smooth_path_scales_rates)
{
    smooth_figures f;
    load_base();
    const double s0 = face_size((const float(*)[3])base_points);
    run_path(100.0 / s0, 24.0, 0.01, &f);
    assert_figures(&f);
    run_path(600.0 / s0, 60.0, 0.005, &f);
    assert_figures(&f);
    run_path(250.0 / s0, 30.0, 0.01, &f);
    assert_figures(&f);
}
END_TEST


START_TEST(smooth_blink)
{
    /* A still face blinks (upper lids down in 0.08 s, closed 0.04 s, up in
     * 0.16 s) with the path test's noise: the shape's own speed must open
     * its filter enough to keep most of the blink. */
    load_base();
    enum { N = 75 };
    static const int upper[2][7] = {{246, 161, 160, 159, 158, 157, 173},
                                    {466, 388, 387, 386, 385, 384, 398}};
    const double eye = eye_distance((const float(*)[3])base_points);
    const double open = base_points[145][1] - base_points[159][1];
    float(*pts)[FS_LANDMARKS][3] = malloc(N * sizeof(*pts));
    ck_assert_ptr_nonnull(pts);
    double t[N], closure[N];
    uint8_t valid[N];
    rng r = {31};
    for (int i = 0; i < N; i++) {
        t[i] = i / 25.0;
        valid[i] = 1;
        const double u = t[i] - 1.4;
        double c = 0.0; /* 0 open .. 1 closed */
        if (u >= 0.0 && u < 0.08)
            c = 0.5 * (1.0 - cos(PI * u / 0.08));
        else if (u >= 0.08 && u < 0.12)
            c = 1.0;
        else if (u >= 0.12 && u < 0.28)
            c = 0.5 * (1.0 + cos(PI * (u - 0.12) / 0.16));
        closure[i] = c;
        const double jx = 0.003 * eye * rng_normal(&r), jy = 0.003 * eye * rng_normal(&r);
        for (int j = 0; j < FS_LANDMARKS; j++)
            for (int k = 0; k < 3; k++)
                pts[i][j][k] = (float)(base_points[j][k] + (k == 0 ? jx : k == 1 ? jy : 0.0) +
                                       0.0075 * eye * rng_normal(&r));
        for (int e = 0; e < 2; e++)
            for (int q = 0; q < 7; q++)
                pts[i][upper[e][q]][1] += (float)(0.9 * open * c);
    }
    fs_smooth_params p;
    fs_smooth_params_default(&p);
    fs_error_buf err = {{0}};
    FS_ASSERT_OK(fs_smooth_track(pts, t, valid, N, &p, &err));
    /* The lids' mean drop over the frames of the blink, against the truth. */
    double kept = 0.0, want = 0.0, peak = 0.0;
    for (int i = 0; i < N; i++) {
        double drop = 0.0;
        for (int e = 0; e < 2; e++)
            for (int q = 0; q < 7; q++)
                drop += (pts[i][upper[e][q]][1] - base_points[upper[e][q]][1]) / 14.0;
        if (closure[i] > 0.0) {
            kept += drop;
            want += 0.9 * open * closure[i];
        }
        peak = fmax(peak, drop / (0.9 * open));
    }
    printf("smooth: blink of %.1f px kept %.0f%% over its frames, deepest %.0f%%\n", 0.9 * open,
           100.0 * kept / want, 100.0 * peak);
    ck_assert_msg(kept > 0.7 * want && peak > 0.8, "blink kept %.2f, peak %.2f", kept / want,
                  peak);
    free(pts);
}
END_TEST

START_TEST(smooth_gaps_and_arguments)
{
    load_base();
    enum { N = 60 };
    float(*pts)[FS_LANDMARKS][3] = malloc(N * sizeof(*pts));
    float(*orig)[FS_LANDMARKS][3] = malloc(N * sizeof(*pts));
    double t[N];
    uint8_t valid[N], valid0[N];
    ck_assert(pts && orig);
    rng r = {5};
    /* Still face, noisy; frames 20..39 missing (0.8 s: longer than max_gap);
     * the face jumps 200 px across the gap. Frame 59 alone after a gap. */
    for (int i = 0; i < N; i++) {
        t[i] = i * 0.04;
        valid[i] = !(i >= 20 && i < 40) && i != 58;
        for (int j = 0; j < FS_LANDMARKS; j++)
            for (int k = 0; k < 3; k++)
                pts[i][j][k] = base_points[j][k] + (k == 0 && i >= 40 ? 200.0f : 0.0f) +
                               (float)(0.3 * rng_normal(&r));
    }
    /* Frame 59 is its own segment (58 missing, max_gap below 0.08 s). */
    memcpy(orig, pts, N * sizeof(*pts));
    memcpy(valid0, valid, sizeof(valid));
    fs_smooth_params p;
    fs_smooth_params_default(&p);
    p.max_gap = 0.06;
    fs_error_buf err = {{0}};
    FS_ASSERT_OK(fs_smooth_track(pts, t, valid, N, &p, &err));
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(valid[i], valid0[i] ? FS_SMOOTH_MEASURED : FS_SMOOTH_MISSING);
    /* No blending across the long gap: frames next to it stay at their side. */
    ck_assert_msg(fabsf(pts[19][1][0] - base_points[1][0]) < 1.0f, "%g", (double)pts[19][1][0]);
    ck_assert_msg(fabsf(pts[40][1][0] - base_points[1][0] - 200.0f) < 1.0f, "%g",
                  (double)pts[40][1][0]);
    /* Missing frames are not written; a lone frame is left as it was. */
    ck_assert(memcmp(pts[25], orig[25], sizeof(pts[25])) == 0);
    ck_assert(memcmp(pts[59], orig[59], sizeof(pts[59])) == 0);
    /* Smoothed: the still face's points scatter less than the input's. */
    double s_in = 0.0, s_out = 0.0;
    for (int i = 1; i < 19; i++)
        for (int j = 0; j < FS_LANDMARKS; j++) {
            s_in += fabs(orig[i][j][0] - base_points[j][0]);
            s_out += fabs(pts[i][j][0] - base_points[j][0]);
        }
    ck_assert_msg(s_out < 0.5 * s_in, "%g vs %g", s_out, s_in);

    /* Bad input: nothing written, a clear status. */
    memcpy(pts, orig, N * sizeof(*pts));
    memcpy(valid, valid0, sizeof(valid));
    double tb[N];
    memcpy(tb, t, sizeof(t));
    tb[30] = tb[29] - 0.01;
    FS_ASSERT_STATUS(fs_smooth_track(pts, tb, valid, N, &p, &err), FS_ERR_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err.text, "frame 30") != NULL, "%s", err.text);
    tb[30] = NAN;
    FS_ASSERT_STATUS(fs_smooth_track(pts, tb, valid, N, &p, &err), FS_ERR_INVALID_ARGUMENT);
    pts[10][100][1] = NAN;
    FS_ASSERT_STATUS(fs_smooth_track(pts, t, valid, N, &p, &err), FS_ERR_INVALID_ARGUMENT);
    pts[10][100][1] = orig[10][100][1];
    for (int j = 0; j < FS_LANDMARKS; j++)
        pts[12][j][0] = pts[12][j][1] = 5.0f; /* a face collapsed to a point */
    FS_ASSERT_STATUS(fs_smooth_track(pts, t, valid, N, &p, &err), FS_ERR_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err.text, "frame 12") != NULL, "%s", err.text);
    memcpy(pts[12], orig[12], sizeof(pts[12]));
    fs_smooth_params bad = p;
    bad.min_cutoff = 0.0;
    FS_ASSERT_STATUS(fs_smooth_track(pts, t, valid, N, &bad, &err), FS_ERR_INVALID_ARGUMENT);
    bad = p;
    bad.beta = NAN;
    FS_ASSERT_STATUS(fs_smooth_track(pts, t, valid, N, &bad, &err), FS_ERR_INVALID_ARGUMENT);
    bad = p;
    bad.max_gap = INFINITY;
    FS_ASSERT_STATUS(fs_smooth_track(pts, t, valid, N, &bad, &err), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_smooth_track(NULL, t, valid, N, &p, &err), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_smooth_track(pts, t, valid, -1, &p, &err), FS_ERR_INVALID_ARGUMENT);
    ck_assert(memcmp(pts, orig, N * sizeof(*pts)) == 0);
    ck_assert(memcmp(valid, valid0, sizeof(valid)) == 0);
    /* Empty, and nothing valid: fine, nothing written. */
    FS_ASSERT_OK(fs_smooth_track(NULL, NULL, NULL, 0, &p, &err));
    uint8_t none[N] = {0};
    FS_ASSERT_OK(fs_smooth_track(pts, t, none, N, &p, &err));
    ck_assert(memcmp(pts, orig, N * sizeof(*pts)) == 0);
    /* Equal timestamps (a duplicated frame) are allowed. */
    memcpy(tb, t, sizeof(t));
    tb[31] = tb[30];
    tb[5] = tb[4];
    FS_ASSERT_OK(fs_smooth_track(pts, tb, valid, N, &p, &err));
    for (int i = 0; i < N; i++)
        for (int j = 0; j < FS_LANDMARKS; j++)
            ck_assert(isfinite(pts[i][j][0]) && isfinite(pts[i][j][1]) && isfinite(pts[i][j][2]));
    free(pts);
    free(orig);
}
END_TEST

START_TEST(smooth_series_zero_phase)
{
    enum { N = 200, K = 3 };
    float v[N * K], v0[N * K];
    double t[N];
    uint8_t valid[N];
    rng r = {77};
    double tt = 0.0;
    for (int i = 0; i < N; i++) {
        tt += 0.03 + 0.02 * rng_uniform(&r); /* variable frame rate */
        t[i] = tt;
        valid[i] = !(i >= 100 && i < 110);
        v[i * K + 0] = 42.5f;                                    /* constant */
        v[i * K + 1] = (float)(10.0 * t[i]);                     /* ramp */
        v[i * K + 2] = (float)(100.0 + 5.0 * rng_normal(&r));    /* noise */
        if (!valid[i])
            v[i * K + 0] = v[i * K + 1] = v[i * K + 2] = NAN;    /* never read */
    }
    memcpy(v0, v, sizeof(v));
    fs_error_buf err = {{0}};
    FS_ASSERT_OK(fs_smooth_series(v, K, t, valid, N, 1.0, &err));
    double var_in = 0.0, var_out = 0.0, ramp_err = 0.0;
    for (int i = 0; i < N; i++) {
        if (!valid[i]) {
            ck_assert(isnan(v[i * K]) && isnan(v[i * K + 1]) && isnan(v[i * K + 2]));
            continue;
        }
        ck_assert_msg(fabsf(v[i * K] - 42.5f) < 1e-4f, "constant %g", (double)v[i * K]);
        if (i > 20 && i < N - 20)
            ramp_err = fmax(ramp_err, fabs(v[i * K + 1] - 10.0 * t[i]));
        var_in += (v0[i * K + 2] - 100.0) * (v0[i * K + 2] - 100.0);
        var_out += (v[i * K + 2] - 100.0) * (v[i * K + 2] - 100.0);
    }
    printf("series: ramp error %.4f (of 10 per s), noise variance %.2f -> %.2f\n", ramp_err,
           var_in / N, var_out / N);
    /* Zero phase: no lag on a ramp, even at irregular times (a causal
     * first-order filter at 1 Hz would lag 10 * 0.16 = 1.6). */
    ck_assert_msg(ramp_err < 0.1, "ramp error %g", ramp_err);
    ck_assert_msg(var_out < 0.1 * var_in, "noise %g -> %g", var_in, var_out);
    FS_ASSERT_STATUS(fs_smooth_series(v, 0, t, valid, N, 1.0, &err), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_smooth_series(v, K, t, valid, N, 0.0, &err), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_smooth_series(v, K, NULL, valid, N, 1.0, &err), FS_ERR_INVALID_ARGUMENT);
    valid[100] = 1; /* a NaN among the valid values */
    memcpy(v0, v, sizeof(v));
    FS_ASSERT_STATUS(fs_smooth_series(v, K, t, valid, N, 1.0, &err), FS_ERR_INVALID_ARGUMENT);
    ck_assert(memcmp(v, v0, sizeof(v)) == 0);
}
END_TEST

/* ---------------------------------------------------------------- tracks */

/*
 * A loop like the analysis's, on boxes: the "fitter" follows a track to
 * the visible face that overlaps its last box most (it loses it below 0.2),
 * the "detector" finds every visible face. ids[f] receives the id given to
 * world face f (-1 when it is not visible or not reported).
 */
#define MAX_WORLD 4
#define MAX_IDS 64

typedef struct sim {
    fs_tracker *tr;
    float last[MAX_IDS][4]; /* last box of each id, as the loop keeps it */
    int detect_runs;
} sim;

static void sim_frame(sim *s, float (*boxes)[4], const int *visible, int n, int cut, int *ids)
{
    fs_tracker *tr = s->tr;
    fs_tracker_begin(tr, cut);
    const int nf = fs_tracker_follow_count(tr);
    for (int k = 0; k < nf; k++) {
        const fs_face_landmarks *prev = (const fs_face_landmarks *)1;
        const int id = fs_tracker_follow(tr, k, &prev);
        ck_assert(id >= 0 && id < MAX_IDS);
        ck_assert_ptr_null(prev); /* added without landmarks */
        int best = -1;
        double best_iou = 0.2;
        for (int f = 0; f < n; f++) {
            const double iou = visible[f] ? fs_tracker_iou(boxes[f], s->last[id]) : 0.0;
            if (iou > best_iou) {
                best_iou = iou;
                best = f;
            }
        }
        if (best >= 0)
            FS_ASSERT_OK(fs_tracker_add(tr, id, boxes[best], NULL));
        else
            fs_tracker_lost(tr, id);
    }
    if (fs_tracker_need_detect(tr)) {
        s->detect_runs++;
        for (int f = 0; f < n; f++)
            if (visible[f])
                FS_ASSERT_OK(fs_tracker_add(tr, -1, boxes[f], NULL));
    }
    fs_tracker_end(tr);
    for (int f = 0; f < n; f++)
        ids[f] = -1;
    for (int k = 0; k < fs_tracker_face_count(tr); k++) {
        const fs_tracker_face *face = fs_tracker_face_at(tr, k);
        ck_assert(face->id >= 0 && face->id < MAX_IDS);
        memcpy(s->last[face->id], face->box, sizeof(face->box));
        for (int f = 0; f < n; f++)
            if (visible[f] && memcmp(face->box, boxes[f], sizeof(face->box)) == 0) {
                ck_assert_msg(ids[f] < 0, "world face %d reported twice", f);
                ids[f] = face->id;
            }
    }
}

static sim new_sim(void)
{
    sim s;
    memset(&s, 0, sizeof(s));
    fs_tracker_params p;
    fs_tracker_params_default(&p);
    fs_error_buf err = {{0}};
    FS_ASSERT_OK(fs_tracker_create(&p, &s.tr, &err));
    return s;
}

START_TEST(tracker_crossing)
{
    /* A walks right, B left, at one height and size; while they overlap
     * A is in front and B is not seen. Both keep their ids. */
    sim s = new_sim();
    int id_a = -1, id_b = -1, hidden = 0;
    for (int f = 0; f < 41; f++) {
        float boxes[2][4] = {{50.0f + 15.0f * f, 100, 100, 120}, {650.0f - 15.0f * f, 104, 100, 120}};
        int visible[2] = {1, fs_tracker_iou(boxes[0], boxes[1]) < 0.15};
        int ids[2];
        hidden += !visible[1];
        sim_frame(&s, boxes, visible, 2, 0, ids);
        ck_assert_int_ge(ids[0], 0);
        if (id_a < 0)
            id_a = ids[0];
        ck_assert_msg(ids[0] == id_a, "frame %d: A has id %d, was %d", f, ids[0], id_a);
        if (visible[1]) {
            ck_assert_int_ge(ids[1], 0);
            if (id_b < 0)
                id_b = ids[1];
            ck_assert_msg(ids[1] == id_b, "frame %d: B has id %d, was %d", f, ids[1], id_b);
        }
    }
    ck_assert_int_ne(id_a, id_b);
    ck_assert_msg(hidden >= 3, "B hidden %d frames", hidden);
    printf("tracker: crossing, B hidden %d frames, ids %d and %d kept, detector on %d of 41 "
           "frames\n", hidden, id_a, id_b, s.detect_runs);
    fs_tracker_destroy(s.tr);
}
END_TEST

START_TEST(tracker_misses_and_cuts)
{
    sim s = new_sim();
    int first = -1, after3 = -1, after30 = -1, after_cut = -1;
    int need[80];
    for (int f = 0; f < 80; f++) {
        /* Seen 0..9, missing 10..12, seen 13..19, missing 20..49, seen 50..;
         * a cut at 65. The face drifts slowly. */
        float boxes[1][4] = {{200.0f + 2.0f * f, 150, 120, 140}};
        const int vis[1] = {!((f >= 10 && f <= 12) || (f >= 20 && f <= 49))};
        int ids[1];
        /* Ask before the frame's faces come in, as the loop would after following. */
        sim_frame(&s, boxes, vis, 1, f == 65, ids);
        need[f] = s.detect_runs;
        if (f == 0)
            first = ids[0];
        if (f == 13)
            after3 = ids[0];
        if (f == 50)
            after30 = ids[0];
        if (f == 65)
            after_cut = ids[0];
        if (f > 65)
            ck_assert_int_eq(ids[0], after_cut);
    }
    ck_assert_int_ge(first, 0);
    ck_assert_msg(after3 == first, "3 frames missing: id %d, was %d", after3, first);
    ck_assert_msg(after30 >= 0 && after30 != first, "30 frames missing: id %d, was %d", after30,
                  first);
    ck_assert_msg(after_cut >= 0 && after_cut != after30, "after the cut: id %d, was %d",
                  after_cut, after30);
    /* The detector: frame 0, every 10 frames while followed, each missing
     * frame, the cut. Frames 1..9 followed without it. */
    ck_assert_int_eq(need[0], 1);
    ck_assert_int_eq(need[9], 1);
    ck_assert_int_eq(need[10], 2);               /* the interval, and the face is lost */
    ck_assert_int_eq(need[12] - need[9], 3);     /* missing: every frame */
    ck_assert_int_eq(need[64] - need[63], 0);
    ck_assert_int_eq(need[65] - need[64], 1);    /* the cut */
    ck_assert_int_eq(need[75] - need[65], 1);    /* then the interval again */
    fs_tracker_destroy(s.tr);
}
END_TEST

START_TEST(tracker_arguments)
{
    fs_tracker_params p;
    fs_tracker_params_default(&p);
    fs_error_buf err = {{0}};
    fs_tracker *tr = (fs_tracker *)&err;
    fs_tracker_params bad = p;
    bad.max_faces = 0;
    FS_ASSERT_STATUS(fs_tracker_create(&bad, &tr, &err), FS_ERR_INVALID_ARGUMENT);
    bad = p;
    bad.iou_threshold = NAN;
    FS_ASSERT_STATUS(fs_tracker_create(&bad, &tr, &err), FS_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_eq(tr, (fs_tracker *)&err);
    fs_tracker_destroy(NULL);
    p.max_faces = 2;
    FS_ASSERT_OK(fs_tracker_create(&p, &tr, &err));
    fs_tracker_begin(tr, 0);
    const float ok[4] = {0, 0, 10, 10}, empty[4] = {0, 0, 0, 10}, nan[4] = {NAN, 0, 10, 10};
    FS_ASSERT_STATUS(fs_tracker_add(tr, -1, NULL, NULL), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_tracker_add(tr, -1, empty, NULL), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_tracker_add(tr, -1, nan, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert(strlen(fs_tracker_last_error(tr)) > 0);
    FS_ASSERT_OK(fs_tracker_add(tr, -1, ok, NULL));
    const float ok2[4] = {100, 0, 10, 10}, ok3[4] = {200, 0, 10, 10};
    FS_ASSERT_OK(fs_tracker_add(tr, 7, ok2, NULL)); /* unknown id: a detection */
    FS_ASSERT_STATUS(fs_tracker_add(tr, -1, ok3, NULL), FS_ERR_TOO_LARGE);
    fs_tracker_end(tr);
    ck_assert_int_eq(fs_tracker_face_count(tr), 2);
    ck_assert_int_eq(fs_tracker_live_count(tr), 2);
    ck_assert(fs_tracker_face_at(tr, 0)->is_new && fs_tracker_face_at(tr, 0)->detected);
    ck_assert_ptr_null(fs_tracker_face_at(tr, 2));
    ck_assert_int_eq(fs_tracker_follow(tr, 5, NULL), -1);
    /* Landmarks travel with their track; the extent is the mesh's box. */
    fs_face_landmarks lm;
    memset(&lm, 0, sizeof(lm));
    for (int j = 0; j < FS_LANDMARKS; j++) {
        lm.points[j][0] = 10.0f + (float)(j % 20);
        lm.points[j][1] = 30.0f + (float)(j % 7);
    }
    float box[4];
    fs_tracker_extent(&lm, box);
    ck_assert(box[0] == 10.0f && box[1] == 30.0f && box[2] == 19.0f && box[3] == 6.0f);
    fs_tracker_begin(tr, 0);
    const fs_face_landmarks *prev = NULL;
    const int id0 = fs_tracker_follow(tr, 0, &prev);
    FS_ASSERT_OK(fs_tracker_add(tr, id0, box, &lm));
    fs_tracker_end(tr);
    fs_tracker_begin(tr, 0);
    ck_assert_int_eq(fs_tracker_follow(tr, 0, &prev), id0);
    ck_assert_ptr_nonnull(prev);
    ck_assert(memcmp(prev->points, lm.points, sizeof(lm.points)) == 0);
    fs_tracker_end(tr);
    fs_tracker_destroy(tr);
}
END_TEST

/* ---------------------------------------------------------------- scene cuts */

/* Luma of an RGB8 image. */
static uint8_t *luma_of(const fs_image *img)
{
    uint8_t *y = malloc((size_t)img->width * img->height);
    ck_assert_ptr_nonnull(y);
    for (int r = 0; r < img->height; r++) {
        const uint8_t *p = (const uint8_t *)img->data + (size_t)r * img->stride;
        for (int c = 0; c < img->width; c++)
            y[(size_t)r * img->width + c] =
                (uint8_t)((77 * p[3 * c] + 150 * p[3 * c + 1] + 29 * p[3 * c + 2] + 128) >> 8);
    }
    return y;
}

#define FW 640
#define FH 360

typedef struct scene_src {
    uint8_t *y;
    int w, h;
} scene_src;

static scene_src load_luma(fs_context *ctx, const char *file)
{
    fs_image img;
    fs_test_load_rgb8(ctx, file, &img);
    scene_src s = {luma_of(&img), img.width, img.height};
    fs_image_free(&img);
    return s;
}

/* A FW x FH window of @p a at (x, y), mixed with @p b's at (bx, by) by
 * @p mix, plus @p gain grey levels. */
static void frame_of(const scene_src *a, int x, int y, const scene_src *b, int bx, int by,
                     double mix, int gain, uint8_t *out)
{
    for (int r = 0; r < FH; r++)
        for (int c = 0; c < FW; c++) {
            double v = a->y[(size_t)(y + r) * a->w + x + c];
            if (b)
                v = (1.0 - mix) * v + mix * b->y[(size_t)(by + r) * b->w + bx + c];
            v += gain;
            out[r * FW + c] = (uint8_t)fmin(fmax(v + 0.5, 0.0), 255.0);
        }
}

START_TEST(scenecut_pan_switch_fade)
{
    fs_context *ctx = fs_test_new_context();
    scene_src s1 = load_luma(ctx, "faceapi_sample1.jpg"), s2 = load_luma(ctx, "faceapi_sample4.jpg");
    scene_src s3 = load_luma(ctx, "faceapi_sample3.jpg");
    fs_scenecut_params p;
    fs_scenecut_params_default(&p);
    fs_scenecut *sc = NULL;
    fs_error_buf err = {{0}};
    FS_ASSERT_OK(fs_scenecut_create(&p, &sc, &err));
    uint8_t *fr = malloc(FW * FH);
    ck_assert_ptr_nonnull(fr);
    /* Scenario: 0..49 a fast pan over s1 (24 px a frame: a frame's width in
     * 27 frames) with a flash (+40 grey) on 20..21; 50..59 a cut to s2,
     * held; 60..69 a fade to s3 over 10 frames; 70..79 s3 held, its
     * window drifting down and right (2 px a frame). */
    double max_pan = 0.0, max_pan_h = 0.0, max_fade = 0.0, cut_s = 0.0, cut_h = 0.0;
    int cuts[80], n_cuts = 0;
    for (int f = 0; f < 80; f++) {
        if (f < 50)
            frame_of(&s1, 24 * f, 300, NULL, 0, 0, 0.0, (f == 20 || f == 21) ? 40 : 0, fr);
        else if (f < 60)
            frame_of(&s2, 600, 500, NULL, 0, 0, 0.0, 0, fr);
        else if (f < 70)
            frame_of(&s2, 600, 500, &s3, 500, 400, (f - 59) / 10.0, 0, fr);
        else
            frame_of(&s3, 500 + 2 * (f - 70), 400 + 2 * (f - 70), NULL, 0, 0, 0.0, 0, fr);
        int cut = -1;
        double ds, dh;
        FS_ASSERT_OK(fs_scenecut_push(sc, fr, FW, FH, FW, &cut, &ds, &dh));
        ck_assert(cut == 0 || cut == 1);
        cuts[f] = cut;
        n_cuts += cut;
        if (f > 0 && f < 50) {
            max_pan = fmax(max_pan, ds);
            max_pan_h = fmax(max_pan_h, dh);
        }
        if (f == 50) {
            cut_s = ds;
            cut_h = dh;
        }
        if (f >= 60 && f < 80)
            max_fade = fmax(max_fade, ds);
    }
    printf("scene cut: pan + flash structure <= %.3f (histogram <= %.3f); cut %.3f (%.3f); "
           "fade and drift <= %.3f; %d cut(s)\n",
           max_pan, max_pan_h, cut_s, cut_h, max_fade, n_cuts);
    for (int f = 0; f < 60; f++)
        ck_assert_msg(cuts[f] == (f == 50), "frame %d: cut %d", f, cuts[f]);
    int fade_cuts = 0;
    for (int f = 60; f < 80; f++)
        fade_cuts += cuts[f];
    ck_assert_msg(fade_cuts <= 1, "%d cuts in the fade", fade_cuts);

    /* A new frame size is a cut; a reset forgets. */
    int cut = -1;
    FS_ASSERT_OK(fs_scenecut_push(sc, fr, FW / 2, FH / 2, FW, &cut, NULL, NULL));
    ck_assert_int_eq(cut, 1);
    fs_scenecut_reset(sc);
    FS_ASSERT_OK(fs_scenecut_push(sc, fr, FW, FH, FW, &cut, NULL, NULL));
    ck_assert_int_eq(cut, 0);
    /* Flat frames: black to black is no cut, black to the picture is. */
    memset(fr, 0, FW * FH);
    for (int i = 0; i < 8; i++)
        FS_ASSERT_OK(fs_scenecut_push(sc, fr, FW, FH, FW, &cut, NULL, NULL));
    ck_assert_int_eq(cut, 0);
    frame_of(&s1, 0, 0, NULL, 0, 0, 0.0, 0, fr);
    FS_ASSERT_OK(fs_scenecut_push(sc, fr, FW, FH, FW, &cut, NULL, NULL));
    ck_assert_int_eq(cut, 1);
    /* Bad input. Tiny frames work. */
    cut = 7;
    FS_ASSERT_STATUS(fs_scenecut_push(sc, NULL, FW, FH, FW, &cut, NULL, NULL),
                     FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_scenecut_push(sc, fr, FW, FH, FW - 1, &cut, NULL, NULL),
                     FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_scenecut_push(sc, fr, 0, FH, FW, &cut, NULL, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(cut, 7);
    ck_assert(strlen(fs_scenecut_last_error(sc)) > 0);
    FS_ASSERT_OK(fs_scenecut_push(sc, fr, 3, 2, FW, &cut, NULL, NULL));
    FS_ASSERT_OK(fs_scenecut_push(sc, fr, 3, 2, FW, &cut, NULL, NULL));
    fs_scenecut_params bad = p;
    bad.ratio = 0.5;
    fs_scenecut *sc2 = NULL;
    FS_ASSERT_STATUS(fs_scenecut_create(&bad, &sc2, &err), FS_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(sc2);
    fs_scenecut_destroy(NULL);
    fs_scenecut_destroy(sc);
    free(fr);
    free(s1.y);
    free(s2.y);
    free(s3.y);
    fs_context_destroy(ctx);
}
END_TEST


START_TEST(scenecut_moving_face)
{
    /* A 240-px face (the astronaut) crosses a still background at 30 px a
     * frame, then jumps back: the face changes, the shot does not. */
    fs_context *ctx = fs_test_new_context();
    scene_src bg = load_luma(ctx, "faceapi_sample2.jpg"), face = load_luma(ctx, "astronaut.png");
    uint8_t *fr = malloc(FW * FH);
    ck_assert_ptr_nonnull(fr);
    fs_scenecut_params p;
    fs_scenecut_params_default(&p);
    fs_error_buf err = {{0}};
    fs_scenecut *sc = NULL;
    FS_ASSERT_OK(fs_scenecut_create(&p, &sc, &err));
    double worst = 0.0;
    for (int f = 0; f < 20; f++) {
        frame_of(&bg, 200, 200, NULL, 0, 0, 0.0, 0, fr);
        const int x0 = f < 14 ? 30 * f : 30 * (f - 14), y0 = 60;
        for (int r = 0; r < 240; r++)
            for (int c = 0; c < 240 && x0 + c < FW; c++)
                fr[(y0 + r) * FW + x0 + c] = face.y[(size_t)(140 + r) * face.w + 150 + c];
        int cut = -1;
        double ds;
        FS_ASSERT_OK(fs_scenecut_push(sc, fr, FW, FH, FW, &cut, &ds, NULL));
        ck_assert_msg(cut == 0, "frame %d: cut (structure %.3f)", f, ds);
        worst = fmax(worst, ds);
    }
    printf("scene cut: a face crossing the frame, structure <= %.3f, no cut\n", worst);
    fs_scenecut_destroy(sc);
    free(fr);
    free(bg.y);
    free(face.y);
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(scenecut_photo_pairs)
{
    /* Every switch between two of the six sample photos (windows of one
     * place in each) is a cut, whatever their light and palette. */
    fs_context *ctx = fs_test_new_context();
    scene_src src[6];
    char name[32];
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof(name), "faceapi_sample%d.jpg", i + 1);
        src[i] = load_luma(ctx, name);
    }
    uint8_t *fr = malloc(FW * FH);
    ck_assert_ptr_nonnull(fr);
    fs_scenecut_params p;
    fs_scenecut_params_default(&p);
    fs_error_buf err = {{0}};
    double lowest = 2.0;
    for (int a = 0; a < 6; a++)
        for (int b = 0; b < 6; b++) {
            if (a == b)
                continue;
            fs_scenecut *sc = NULL;
            FS_ASSERT_OK(fs_scenecut_create(&p, &sc, &err));
            int cut = -1;
            double ds = 0.0;
            for (int f = 0; f < 8; f++) {
                frame_of(&src[a], 400 + 4 * f, 300, NULL, 0, 0, 0.0, 0, fr);
                FS_ASSERT_OK(fs_scenecut_push(sc, fr, FW, FH, FW, &cut, NULL, NULL));
                ck_assert_int_eq(cut, 0);
            }
            frame_of(&src[b], 400, 300, NULL, 0, 0, 0.0, 0, fr);
            FS_ASSERT_OK(fs_scenecut_push(sc, fr, FW, FH, FW, &cut, &ds, NULL));
            ck_assert_msg(cut == 1, "sample %d -> %d: no cut (structure %.3f)", a + 1, b + 1, ds);
            lowest = fmin(lowest, ds);
            fs_scenecut_destroy(sc);
        }
    printf("scene cut: 30 switches between sample photos, all cuts, structure >= %.3f\n", lowest);
    for (int i = 0; i < 6; i++)
        free(src[i].y);
    free(fr);
    fs_context_destroy(ctx);
}
END_TEST

/* ---------------------------------------------------------------- suite */

static Suite *track_suite(void)
{
    Suite *s = suite_create("track");
    TCase *tc = tcase_create("one_euro");
    tcase_add_test(tc, one_euro_constant);
    tcase_add_test(tc, one_euro_step_cutoff_beta);
    suite_add_tcase(s, tc);
    tc = tcase_create("smooth");
    tcase_add_test(tc, smooth_path_25fps);
    tcase_add_test(tc, smooth_path_scales_rates);
    tcase_add_test(tc, smooth_blink);
    tcase_add_test(tc, smooth_gaps_and_arguments);
    tcase_add_test(tc, smooth_series_zero_phase);
    suite_add_tcase(s, tc);
    tc = tcase_create("tracker");
    tcase_add_test(tc, tracker_crossing);
    tcase_add_test(tc, tracker_misses_and_cuts);
    tcase_add_test(tc, tracker_arguments);
    suite_add_tcase(s, tc);
    tc = tcase_create("scenecut");
    tcase_add_test(tc, scenecut_pan_switch_fade);
    tcase_add_test(tc, scenecut_moving_face);
    tcase_add_test(tc, scenecut_photo_pairs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fs_test_run_suite(track_suite());
}
