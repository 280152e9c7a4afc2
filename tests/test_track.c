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
#include "track/smooth.h"

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
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fs_test_run_suite(track_suite());
}
