/*
 * Test clips with known motion (tests/clips): the truth file, the temporal
 * measures on synthetic series with known answers, make_clip's paths, and
 * the baseline the video path must beat: the detector and fitter run on
 * every decoded frame independently (no tracking, no smoothing), measured
 * against the true path. Without the ffmpeg tool the video cases are left
 * out and the program exits 77 (skip) once the others pass.
 */
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clip_util.h"
#include "temporal.h"

/* ---------------------------------------------------------------- helpers */

/* A photo "face": 478 points on a jittered grid, outer eye corners 100 px apart. */
static void fake_landmarks(fs_face_landmarks *lm)
{
    memset(lm, 0, sizeof(*lm));
    for (int k = 0; k < FS_LANDMARKS; k++) {
        lm->points[k][0] = (float)(100 + (k % 22) * 5 + (k * 7 % 3));
        lm->points[k][1] = (float)(80 + (k / 22) * 6);
    }
    lm->points[FS_CLIP_EYE_RIGHT_OUTER][0] = 150, lm->points[FS_CLIP_EYE_RIGHT_OUTER][1] = 120;
    lm->points[FS_CLIP_EYE_LEFT_OUTER][0] = 250, lm->points[FS_CLIP_EYE_LEFT_OUTER][1] = 120;
}

/* A truth of @p n frames: one photo, an accelerating pan (x = 0.5 i^2) at
 * scale 1.5, a cut to the same photo at frame @p cut (no cut when < 0). */
static void synthetic_truth(fs_clip_truth *t, int n, int cut)
{
    memset(t, 0, sizeof(*t));
    t->width = 640, t->height = 480, t->fps_num = 25, t->fps_den = 1;
    t->frame_count = n;
    t->photo_count = 1;
    snprintf(t->photos[0], sizeof(t->photos[0]), "synthetic");
    t->frames = calloc((size_t)n, sizeof(*t->frames));
    ck_assert_ptr_nonnull(t->frames);
    for (int i = 0; i < n; i++) {
        fs_clip_frame *f = &t->frames[i];
        f->shot = cut >= 0 && i >= cut;
        f->m[0] = f->m[4] = 1.5;
        f->m[2] = 10.0 + 0.5 * i * i + (f->shot ? 200.0 : 0.0);
        f->m[5] = 20.0;
    }
}

static fs_image rgb_view(uint8_t *data, int w, int h)
{
    fs_image im;
    memset(&im, 0, sizeof(im));
    im.width = w, im.height = h, im.stride = w * 3;
    im.format = FS_PIXEL_RGB8;
    im.memory = FS_MEMORY_HOST;
    im.data = data;
    return im;
}

static fs_image gray_view(uint8_t *data, int w, int h)
{
    fs_image im = rgb_view(data, w, h);
    im.stride = w;
    im.format = FS_PIXEL_GRAY8;
    return im;
}

/* ------------------------------------------------------------ truth file */

START_TEST(truth_round_trip_and_bad_files)
{
    fs_clip_truth t;
    synthetic_truth(&t, 7, 4);
    t.photo_count = 2;
    snprintf(t.photos[1], sizeof(t.photos[1]), "second photo.jpg");
    t.frames[5].photo = t.frames[6].photo = 1;
    t.frames[3].m[1] = -0.1234567890123456789; /* a turn, to check exact read-back */
    char dir[4096], path[4200], err[512];
    make_dir(dir, sizeof(dir), "truth");
    snprintf(path, sizeof(path), "%s/t.txt", dir);
    ck_assert_int_eq(fs_clip_truth_write(&t, path, err, sizeof(err)), 0);
    /* photo changes within shot 1 (frames 4 -> 5): the reader refuses it */
    fs_clip_truth r;
    memset(&r, 0x5a, sizeof(r));
    ck_assert_int_eq(fs_clip_truth_read(path, &r, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "without a new shot") != NULL, "%s", err);
    ck_assert_int_eq(r.width, 0x5a5a5a5a); /* untouched on failure */
    t.frames[4].photo = 1;
    ck_assert_int_eq(fs_clip_truth_write(&t, path, err, sizeof(err)), 0);
    ck_assert_int_eq(fs_clip_truth_read(path, &r, err, sizeof(err)), 0);
    ck_assert_int_eq(r.width, 640);
    ck_assert_int_eq(r.height, 480);
    ck_assert_int_eq(r.fps_num, 25);
    ck_assert_int_eq(r.frame_count, 7);
    ck_assert_int_eq(r.photo_count, 2);
    ck_assert_str_eq(r.photos[1], "second photo.jpg");
    for (int i = 0; i < 7; i++) {
        ck_assert_int_eq(r.frames[i].photo, t.frames[i].photo);
        ck_assert_int_eq(r.frames[i].shot, t.frames[i].shot);
        for (int k = 0; k < 6; k++)
            ck_assert_msg(r.frames[i].m[k] == t.frames[i].m[k], "frame %d m%d %.17g != %.17g",
                          i, k, r.frames[i].m[k], t.frames[i].m[k]);
    }
    fs_clip_truth_free(&r);
    fs_clip_truth_free(&r); /* zeroed: a second free is harmless */
    fs_clip_truth_free(NULL);

    /* Each broken file: -1 and a message naming the fault. */
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"hello\n", "not a make_clip truth file"},
        {FS_CLIP_TRUTH_MAGIC "\n# photo 0 a\n", "no canvas line"},
        {FS_CLIP_TRUTH_MAGIC "\n# canvas 64 64 fps 25/1 frames 2\n# photo 0 a\n0 0 0 1 0 0 0 1 0\n",
         "1 frames, the header says 2"},
        {FS_CLIP_TRUTH_MAGIC "\n# canvas 64 64 fps 25/1 frames 2\n# photo 0 a\n1 0 0 1 0 0 0 1 0\n",
         "out of order"},
        {FS_CLIP_TRUTH_MAGIC "\n# canvas 64 64 fps 25/1 frames 1\n# photo 0 a\n0 1 0 1 0 0 0 1 0\n",
         "not declared"},
        {FS_CLIP_TRUTH_MAGIC "\n# canvas 64 64 fps 25/1 frames 1\n# photo 0 a\n0 0 0 1 2 0 0.5 1 0\n",
         "not invertible"},
        {FS_CLIP_TRUTH_MAGIC "\n# canvas 64 64 fps 25/1 frames 1\n# photo 0 a\n0 0 0 1 0 0 0 nan 0\n",
         "not finite"},
        {FS_CLIP_TRUTH_MAGIC "\n# canvas 64 64 fps 25/1 frames 2\n# photo 0 a\n0 0 0 1 0 0 0 1 0\n"
                             "1 0 2 1 0 0 0 1 0\n",
         "does not follow"},
        {FS_CLIP_TRUTH_MAGIC "\n# canvas 64 64 fps 25/1 frames 1\n# photo 0 a\n0 0 0 1 0 0 0 1\n",
         "expected"},
        {FS_CLIP_TRUTH_MAGIC "\n# canvas 0 64 fps 25/1 frames 1\n", "bad or repeated canvas"},
        {FS_CLIP_TRUTH_MAGIC "\n# canvas 64 64 fps 25/1 frames 99999999\n", "bad or repeated canvas"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(bad[i].text, f);
        fclose(f);
        err[0] = '\0';
        ck_assert_msg(fs_clip_truth_read(path, &r, err, sizeof(err)) == -1, "case %zu read", i);
        ck_assert_msg(strstr(err, bad[i].want) != NULL, "case %zu: '%s' lacks '%s'", i, err,
                      bad[i].want);
    }
    remove(path);
    ck_assert_int_eq(fs_clip_truth_read(path, &r, err, sizeof(err)), -1);
    fs_clip_truth_free(&t);
    rm_dir(dir);
}
END_TEST

/* -------------------------------------------------------------- measures */

START_TEST(jitter_and_error_known_answers)
{
    enum { N = 12, CUT = 6 };
    fs_clip_truth t;
    synthetic_truth(&t, N, CUT);
    fs_face_landmarks photo;
    fake_landmarks(&photo);
    fs_clip_series truth, fit;
    ck_assert_int_eq(fs_clip_truth_series(&t, &photo, FS_MESH_LANDMARKS, &truth), 0);
    ck_assert_int_eq(fs_clip_series_alloc(&fit, N, FS_MESH_LANDMARKS), 0);
    /* truth x = 1.5 x0 + 10 + 0.5 i^2 (+200 after the cut) */
    ck_assert_float_eq_tol(truth.xy[(5 * FS_MESH_LANDMARKS + 0) * 2], 1.5f * 100 + 10 + 12.5f, 1e-4);
    ck_assert_float_eq_tol(truth.xy[(6 * FS_MESH_LANDMARKS + 0) * 2], 1.5f * 100 + 210 + 18, 1e-4);

    /* fit = truth + alternating +-a in x and a constant (3, 4) offset: the
     * residual's second difference is 4a at every point, the error 5 px
     * plus what the alternation adds. */
    const double a = 0.6, eye = 1.5 * 100.0;
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < FS_MESH_LANDMARKS; k++) {
            const float *q = truth.xy + ((size_t)i * FS_MESH_LANDMARKS + k) * 2;
            float *p = fit.xy + ((size_t)i * FS_MESH_LANDMARKS + k) * 2;
            p[0] = q[0] + 3.0f + (float)(i % 2 ? -a : a);
            p[1] = q[1] + 4.0f;
        }
        fit.valid[i] = 1;
    }
    fs_clip_stat j = fs_clip_jitter(&t, &truth, &fit, 0, N, FS_CLIP_JITTER_RESIDUAL);
    /* triples centred on 1..10, less those spanning the cut (centred on 5 and 6) */
    ck_assert_int_eq(j.samples, N - 2 - 2);
    ck_assert_double_eq_tol(j.value, 4 * a / eye, 1e-5);
    /* Raw adds the true acceleration (second difference 1 px in x). */
    fs_clip_stat raw = fs_clip_jitter(&t, &truth, &fit, 0, N, FS_CLIP_JITTER_RAW);
    ck_assert_int_eq(raw.samples, j.samples);
    /* d2 = (1 -+ 4a, 0), alternating; four triples of each sign */
    ck_assert_double_eq_tol(raw.value, sqrt(1.0 + 16 * a * a) / eye, 1e-5);
    /* A run of frames, and an invalid frame removing the triples around it. */
    j = fs_clip_jitter(&t, &truth, &fit, 0, 5, FS_CLIP_JITTER_RESIDUAL);
    ck_assert_int_eq(j.samples, 3);
    fit.valid[8] = 0;
    j = fs_clip_jitter(&t, &truth, &fit, 0, N, FS_CLIP_JITTER_RESIDUAL);
    ck_assert_int_eq(j.samples, N - 4 - 3);
    fit.valid[8] = 1;
    /* Clamped runs and mismatched series count nothing rather than read past the end. */
    ck_assert_int_eq(fs_clip_jitter(&t, &truth, &fit, -5, 8, FS_CLIP_JITTER_RESIDUAL).samples, 1);
    ck_assert_int_eq(fs_clip_jitter(&t, &truth, &fit, 10, 100, FS_CLIP_JITTER_RESIDUAL).samples, 0);
    fs_clip_series other;
    ck_assert_int_eq(fs_clip_series_alloc(&other, N, 100), 0);
    ck_assert_int_eq(fs_clip_jitter(&t, &truth, &other, 0, N, FS_CLIP_JITTER_RESIDUAL).samples, 0);
    ck_assert_int_eq(fs_clip_error(&truth, &other, 0, N, NULL).samples, 0);
    fs_clip_series_free(&other);

    /* Error: face size = larger side of the truth's box, 1.5 x the photo's. */
    double x0 = 1e9, x1 = -1e9, y0 = 1e9, y1 = -1e9;
    for (int k = 0; k < FS_MESH_LANDMARKS; k++) {
        x0 = fmin(x0, photo.points[k][0]), x1 = fmax(x1, photo.points[k][0]);
        y0 = fmin(y0, photo.points[k][1]), y1 = fmax(y1, photo.points[k][1]);
    }
    const double size = 1.5 * fmax(x1 - x0, y1 - y0);
    const double d_even = hypot(3 + a, 4), d_odd = hypot(3 - a, 4);
    double worst = 0.0;
    fs_clip_stat e = fs_clip_error(&truth, &fit, 0, N, &worst);
    ck_assert_int_eq(e.samples, N);
    ck_assert_double_eq_tol(e.value, (d_even + d_odd) / 2 / size, 1e-5);
    ck_assert_double_eq_tol(worst, d_even / size, 1e-5);
    fit.valid[0] = 0;
    e = fs_clip_error(&truth, &fit, 0, 2, NULL);
    ck_assert_int_eq(e.samples, 1);
    ck_assert_double_eq_tol(e.value, d_odd / size, 1e-5);

    /* The truth against itself: zero, with every frame counted. */
    ck_assert_double_eq_tol(fs_clip_error(&truth, &truth, 0, N, NULL).value, 0.0, 1e-12);
    ck_assert_double_eq_tol(fs_clip_jitter(&t, &truth, &truth, 0, N, FS_CLIP_JITTER_RESIDUAL).value,
                            0.0, 1e-12);

    /* fs_clip_series_set takes the fitter's layout. */
    fs_clip_series_set(&fit, 2, &photo);
    ck_assert_float_eq(fit.xy[(2 * FS_MESH_LANDMARKS + 263) * 2], 250.0f);
    fs_clip_series_set(&fit, N, &photo); /* out of range: ignored */
    fs_clip_series_free(&fit);
    fs_clip_series_free(&truth);
    fs_clip_series_free(NULL);
    fs_clip_truth_free(&t);
}
END_TEST

START_TEST(frame_measures_known_answers)
{
    enum { W = 40, H = 30 };
    static uint8_t a[W * H * 3], b[W * H * 3], c[W * H * 3], m[W * H], m2[W * H];
    for (int i = 0; i < W * H * 3; i++)
        a[i] = (uint8_t)(i * 37 % 200);
    memcpy(b, a, sizeof(a));
    fs_image fa = rgb_view(a, W, H), fb = rgb_view(b, W, H), mask = gray_view(m, W, H);
    /* Mask: the square [10, 20) x [5, 15), as a hull of its corners. */
    const float sq[8] = {10, 5, 20, 5, 20, 15, 10, 15};
    ck_assert_int_eq(fs_clip_mask_hull(&mask, sq, 4, 0.0), 0);
    int inside = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const int want = x >= 10 && x < 20 && y >= 5 && y < 15;
            ck_assert_msg(!!m[y * W + x] == want, "mask at %d,%d", x, y);
            inside += want;
        }
    ck_assert_int_eq(inside, 100);
    /* grown by 2: a 14 x 14 square (mitred corners) */
    fs_image mask2 = gray_view(m2, W, H);
    ck_assert_int_eq(fs_clip_mask_hull(&mask2, sq, 4, 2.0), 0);
    int grown = 0;
    for (int i = 0; i < W * H; i++)
        grown += m2[i] != 0;
    ck_assert_int_eq(grown, 196);

    /* +2 on every channel inside, +10 on one pixel outside. */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            if (m[y * W + x])
                for (int k = 0; k < 3; k++)
                    b[(y * W + x) * 3 + k] += 2;
    b[(2 * W + 3) * 3 + 1] += 10;
    ck_assert_double_eq_tol(fs_clip_frame_change(&fa, &fb, &mask), 2.0, 1e-12);
    ck_assert_double_eq_tol(fs_clip_frame_change(&fa, &fb, NULL),
                            (100.0 * 2 * 3 + 10) / (3.0 * W * H), 1e-12);
    int worst = -1;
    ck_assert_int_eq(fs_clip_count_outside(&fa, &fb, &mask, 9, &worst), 1);
    ck_assert_int_eq(worst, 10);
    ck_assert_int_eq(fs_clip_count_outside(&fa, &fb, &mask, 10, NULL), 0);
    ck_assert_int_eq(fs_clip_count_outside(&fa, &fb, NULL, 1, NULL), 101);
    ck_assert_int_eq(fs_clip_count_outside(&fa, &fa, NULL, 0, &worst), 0);
    ck_assert_int_eq(worst, 0);

    /* A sequence a, b, c with c = b + 1 inside: steps of 2 and 1. */
    memcpy(c, b, sizeof(b));
    for (int i = 0; i < W * H; i++)
        if (m[i])
            for (int k = 0; k < 3; k++)
                c[i * 3 + k] += 1;
    const fs_image seq[3] = {fa, fb, rgb_view(c, W, H)};
    ck_assert_double_eq_tol(fs_clip_steadiness(seq, 3, &mask, 1), 1.5, 1e-12);
    const fs_image masks[3] = {mask, mask, mask2}; /* the third pair in the grown mask */
    ck_assert_double_eq_tol(fs_clip_steadiness(seq, 3, masks, 3), (2.0 + 100.0 / 196.0) / 2, 1e-12);

    /* Mismatches and empty masks say so instead of measuring. */
    fs_image small = rgb_view(c, W - 1, H);
    ck_assert_double_eq(fs_clip_frame_change(&fa, &small, NULL), -1.0);
    ck_assert_int_eq(fs_clip_count_outside(&fa, &small, NULL, 0, NULL), -1);
    fs_image wrong = mask;
    wrong.format = FS_PIXEL_RGB8;
    ck_assert_double_eq(fs_clip_frame_change(&fa, &fb, &wrong), -1.0);
    memset(m, 0, sizeof(m));
    ck_assert_double_eq(fs_clip_frame_change(&fa, &fb, &mask), -1.0);
    ck_assert_double_eq(fs_clip_steadiness(seq, 1, NULL, 0), -1.0);
    ck_assert_double_eq(fs_clip_steadiness(seq, 3, masks, 2), -1.0);
    ck_assert_int_eq(fs_clip_mask_hull(&mask, sq, 2, 0.0), -1);
}
END_TEST

/* ------------------------------------------------------------ make_clip */

/* Face centre (the mapped anchor) of frame i: the truth applied to the
 * photo's landmark box centre. */
static void face_centre(const fs_clip_series *s, int i, double *cx, double *cy)
{
    double x0 = 1e18, x1 = -1e18, y0 = 1e18, y1 = -1e18;
    const float *p = s->xy + (size_t)i * s->points * 2;
    for (int k = 0; k < FS_MESH_LANDMARKS; k++) {
        x0 = fmin(x0, p[2 * k]), x1 = fmax(x1, p[2 * k]);
        y0 = fmin(y0, p[2 * k + 1]), y1 = fmax(y1, p[2 * k + 1]);
    }
    *cx = 0.5 * (x0 + x1);
    *cy = 0.5 * (y0 + y1);
}

START_TEST(make_clip_paths)
{
    char dir[4096], args[16384], truth_path[4200];
    make_dir(dir, sizeof(dir), "paths");
    snprintf(truth_path, sizeof(truth_path), "%s/motion.txt", dir);
    snprintf(args, sizeof(args), "--scenario motion --truth-only '%s/x.mp4' '%s'", dir, truth_path);
    ck_assert_int_eq(run_make_clip(args), 0);
    fs_clip_truth t;
    char err[512];
    ck_assert_msg(fs_clip_truth_read(truth_path, &t, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(t.width, 1280);
    ck_assert_int_eq(t.height, 720);
    ck_assert_int_eq(t.frame_count, 250);
    ck_assert_int_eq(t.photo_count, 2);

    fs_context *ctx = fs_test_new_context();
    fs_detector *det = fs_test_new_detector(ctx);
    fs_fitter *fit = fs_test_new_fitter(ctx);
    fs_face_landmarks lm[2];
    for (int p = 0; p < 2; p++)
        fit_still(ctx, det, fit, t.photos[p], &lm[p]);
    fs_clip_series s;
    ck_assert_int_eq(fs_clip_truth_series(&t, lm, FS_LANDMARKS, &s), 0);

    /* The path as written: 'at -300 0; zoom 0.8; pause 1s; pan 300px/s 2s;
     * zoom 0.8->1.2 2s; turn 20deg/s 1.5s; pause 1s; cut to photo 2;
     * pause 0.5s; fast move 1 face width in 0.3s; pause 1s; move -200 60 0.7s' */
    double cx, cy;
    face_centre(&s, 0, &cx, &cy);
    ck_assert_double_eq_tol(cx, 640 - 300, 1e-3);
    ck_assert_double_eq_tol(cy, 360, 1e-3);
    face_centre(&s, 75, &cx, &cy); /* after the pan (3 s) */
    ck_assert_double_eq_tol(cx, 640 + 300, 1e-3);
    /* zoom 0.8 -> 1.2: the face's scale 1.5x, over 3..5 s */
    ck_assert_double_eq_tol(hypot(t.frames[125].m[0], t.frames[125].m[3]) /
                                hypot(t.frames[75].m[0], t.frames[75].m[3]),
                            1.5, 1e-9);
    /* turn: 30 degrees at 6.5 s, clockwise as seen (y down) */
    ck_assert_double_eq_tol(atan2(t.frames[163].m[3], t.frames[163].m[0]) * 180 / 3.14159265358979,
                            30.0, 1e-6);
    /* The cut at 7.5 s: frames up to 187 on photo 1, from 188 on photo 2,
     * reset to the canvas centre at zoom 1 (face 250 px). */
    ck_assert_int_eq(t.frames[187].shot, 0);
    ck_assert_int_eq(t.frames[188].shot, 1);
    ck_assert_int_eq(t.frames[188].photo, 1);
    face_centre(&s, 188, &cx, &cy);
    ck_assert_double_eq_tol(cx, 640, 1e-3);
    ck_assert_double_eq_tol(cy, 360, 1e-3);
    /* 1 face width in 0.3 s from 8 s: 250 px to the right by 8.3 s */
    face_centre(&s, 208, &cx, &cy);
    ck_assert_double_eq_tol(cx, 640 + 250, 1e-3);

    /* Pauses hold the matrix exactly; everywhere in a shot the path is C1:
     * the per-frame step changes by no more than the eased steps allow
     * (largest here: 250 px in 7.5 frames, 6 d / T^2 = 26.7 px per frame^2). */
    int paused = 0;
    for (int i = 1; i < 250; i++)
        paused += !memcmp(t.frames[i].m, t.frames[i - 1].m, sizeof(t.frames[i].m));
    ck_assert_msg(paused >= 25 * 3 - 5, "%d paused frames", paused);
    double worst_acc = 0.0;
    for (int i = 1; i + 1 < 250; i++) {
        if (t.frames[i - 1].shot != t.frames[i + 1].shot)
            continue;
        double c0x, c0y, c1x, c1y, c2x, c2y;
        face_centre(&s, i - 1, &c0x, &c0y);
        face_centre(&s, i, &c1x, &c1y);
        face_centre(&s, i + 1, &c2x, &c2y);
        worst_acc = fmax(worst_acc, hypot(c2x - 2 * c1x + c0x, c2y - 2 * c1y + c0y));
    }
    ck_assert_msg(worst_acc < 27.0, "acceleration %.2f px/frame^2", worst_acc);

    /* --seconds holds the end; bad specs and options exit 2 with a message. */
    snprintf(args, sizeof(args),
             "--truth-only --seconds 1 --fps 30000/1001 --path 'pan 10 0 0.5s' '%s/y.mp4' '%s'",
             dir, truth_path);
    ck_assert_int_eq(run_make_clip(args), 0);
    fs_clip_truth u;
    ck_assert_msg(fs_clip_truth_read(truth_path, &u, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(u.frame_count, 30);
    ck_assert_int_eq(u.fps_num, 30000);
    ck_assert_int_eq(u.fps_den, 1001);
    ck_assert(!memcmp(u.frames[29].m, u.frames[20].m, sizeof(u.frames[0].m)));
    ck_assert_double_eq_tol(u.frames[29].m[2] - u.frames[0].m[2], 10.0, 1e-9);
    fs_clip_truth_free(&u);
    static const char *bad[] = {
        "--path 'jump 3s'", "--path 'pan 10 0'", "--path 'pause 1s; at 5 5'",
        "--path 'zoom 0.5->2 1s'", "--path 'cut to photo 3'", "--path 'pan 10 20 30 1s'",
        "--path 'turn 10rad 1s'", "--size 10x10", "--fps 0", "--scenario nope",
        "--codec 'x;rm'", "--seconds -1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(args, sizeof(args), "--truth-only %s '%s/z.mp4' '%s/z.txt' 2>/dev/null", bad[i],
                 dir, dir);
        ck_assert_msg(run_make_clip(args) == 2, "make_clip %s did not refuse", bad[i]);
    }
    fs_clip_series_free(&s);
    fs_clip_truth_free(&t);
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
    rm_dir(dir);
}
END_TEST

/* ------------------------------------------------------------- baseline */

/* What a clip's raw per-frame fits measure. */
typedef struct baseline {
    int frames, decoded, fitted;
    fs_clip_stat error, jitter_res, jitter_raw_pause, jitter_res_motion;
    double max_error;
    double still_change, moving_change; /* template's own frame change in the face */
} baseline;

/* Makes scenario @p name, decodes it with the ffmpeg tool, fits every frame
 * independently and measures the fits against the truth. */
static void run_baseline(const char *name, const char *extra, baseline *out)
{
    char dir[4096], video[4200], truth_path[4200], args[9000];
    make_dir(dir, sizeof(dir), name);
    snprintf(video, sizeof(video), "%s/%s.mp4", dir, name);
    snprintf(truth_path, sizeof(truth_path), "%s/%s.txt", dir, name);
    snprintf(args, sizeof(args), "--scenario %s %s '%s' '%s'", name, extra, video, truth_path);
    ck_assert_msg(run_make_clip(args) == 0, "make_clip %s failed", args);
    fs_clip_truth t;
    char err[512];
    ck_assert_msg(fs_clip_truth_read(truth_path, &t, err, sizeof(err)) == 0, "%s", err);

    fs_context *ctx = fs_test_new_context();
    fs_detector *det = fs_test_new_detector(ctx);
    fs_fitter *fit = fs_test_new_fitter(ctx);
    fs_face_landmarks still[FS_CLIP_MAX_PHOTOS];
    for (int p = 0; p < t.photo_count; p++)
        fit_still(ctx, det, fit, t.photos[p], &still[p]);
    fs_clip_series truth, fits;
    ck_assert_int_eq(fs_clip_truth_series(&t, still, FS_LANDMARKS, &truth), 0);
    ck_assert_int_eq(fs_clip_series_alloc(&fits, t.frame_count, FS_LANDMARKS), 0);

    char cmd[4400];
    snprintf(cmd, sizeof(cmd),
             "ffmpeg -hide_banner -loglevel error -nostdin -i '%s' -fps_mode passthrough "
             "-f rawvideo -pix_fmt rgb24 -",
             video);
    FILE *pipe = popen(cmd, "r");
    ck_assert_ptr_nonnull(pipe);
    const size_t frame_bytes = (size_t)t.width * t.height * 3;
    uint8_t *cur = malloc(frame_bytes), *prev = malloc(frame_bytes), *m = malloc(frame_bytes / 3);
    ck_assert(cur && prev && m);
    fs_image mask = gray_view(m, t.width, t.height);
    double still_sum = 0.0, moving_sum = 0.0;
    int still_n = 0, moving_n = 0, n = 0, multi = 0;
    while (fread(cur, 1, frame_bytes, pipe) == frame_bytes) {
        ck_assert_msg(n < t.frame_count, "more frames decoded than the truth has");
        fs_image img = rgb_view(cur, t.width, t.height);
        /* The template's own change inside the true face, in pauses and in motion. */
        if (n > 0 && t.frames[n].shot == t.frames[n - 1].shot) {
            ck_assert_int_eq(
                fs_clip_mask_hull(&mask, truth.xy + (size_t)n * FS_LANDMARKS * 2, FS_MESH_LANDMARKS, 0.0), 0);
            fs_image before = rgb_view(prev, t.width, t.height);
            const double d = fs_clip_frame_change(&before, &img, &mask);
            ck_assert(d >= 0.0);
            if (!memcmp(t.frames[n].m, t.frames[n - 1].m, sizeof(t.frames[n].m)))
                still_sum += d, still_n++;
            else
                moving_sum += d, moving_n++;
        }
        /* Raw per-frame fit: of the detections, the one nearest the true face. */
        fs_face_box boxes[8];
        int nb = 0;
        FS_ASSERT_OK(fs_detector_run(det, &img, boxes, 8, &nb));
        nb = nb < 8 ? nb : 8;
        multi += nb > 1;
        double tcx, tcy;
        face_centre(&truth, n, &tcx, &tcy);
        int best = -1;
        double best_d = INFINITY;
        for (int b = 0; b < nb; b++) {
            const double d = hypot(boxes[b].x + boxes[b].width / 2 - tcx,
                                   boxes[b].y + boxes[b].height / 2 - tcy);
            if (d < best_d)
                best_d = d, best = b;
        }
        fs_face_landmarks lm;
        if (best >= 0 && fs_fitter_run(fit, &img, &boxes[best], &lm) == FS_OK)
            fs_clip_series_set(&fits, n, &lm);
        uint8_t *swap = prev;
        prev = cur;
        cur = swap;
        n++;
    }
    const int status = pclose(pipe);
    ck_assert_msg(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "ffmpeg decode of %s failed", video);

    memset(out, 0, sizeof(*out));
    out->frames = t.frame_count;
    out->decoded = n;
    for (int i = 0; i < t.frame_count; i++)
        out->fitted += fits.valid[i];
    out->error = fs_clip_error(&truth, &fits, 0, t.frame_count, &out->max_error);
    out->jitter_res = fs_clip_jitter(&t, &truth, &fits, 0, t.frame_count, FS_CLIP_JITTER_RESIDUAL);
    /* Jitter in pauses (raw = residual there) and in motion, from runs of
     * frames whose matrices hold or change. */
    fs_clip_series pause_fits, move_fits;
    ck_assert_int_eq(fs_clip_series_alloc(&pause_fits, t.frame_count, FS_LANDMARKS), 0);
    ck_assert_int_eq(fs_clip_series_alloc(&move_fits, t.frame_count, FS_LANDMARKS), 0);
    memcpy(pause_fits.xy, fits.xy, sizeof(float) * (size_t)t.frame_count * FS_LANDMARKS * 2);
    memcpy(move_fits.xy, fits.xy, sizeof(float) * (size_t)t.frame_count * FS_LANDMARKS * 2);
    for (int i = 0; i < t.frame_count; i++) {
        const int held = (i > 0 && !memcmp(t.frames[i].m, t.frames[i - 1].m, sizeof(t.frames[i].m))) &&
                         (i + 1 < t.frame_count &&
                          !memcmp(t.frames[i].m, t.frames[i + 1].m, sizeof(t.frames[i].m)));
        pause_fits.valid[i] = fits.valid[i] && held;
        move_fits.valid[i] = fits.valid[i] && !held;
    }
    out->jitter_raw_pause = fs_clip_jitter(&t, &truth, &pause_fits, 0, t.frame_count, FS_CLIP_JITTER_RAW);
    out->jitter_res_motion =
        fs_clip_jitter(&t, &truth, &move_fits, 0, t.frame_count, FS_CLIP_JITTER_RESIDUAL);
    out->still_change = still_n ? still_sum / still_n : -1.0;
    out->moving_change = moving_n ? moving_sum / moving_n : -1.0;
    printf("clips: %s: %d frames, %d decoded, %d fitted (%d with more than one detection)\n"
           "clips: %s raw per-frame fits: error %.4f of face size (worst frame %.4f); jitter "
           "(second difference / eye distance, RMS) of the residual %.5f over %ld triples, "
           "in pauses %.5f (%ld), in motion %.5f (%ld)\n"
           "clips: %s template's own mean change inside the face: %.3f levels in pauses, "
           "%.3f in motion\n",
           name, out->frames, out->decoded, out->fitted, multi, name, out->error.value,
           out->max_error, out->jitter_res.value, out->jitter_res.samples,
           out->jitter_raw_pause.value, out->jitter_raw_pause.samples,
           out->jitter_res_motion.value, out->jitter_res_motion.samples, name, out->still_change,
           out->moving_change);
    fflush(stdout);
    fs_clip_series_free(&pause_fits);
    fs_clip_series_free(&move_fits);
    free(cur);
    free(prev);
    free(m);
    fs_clip_series_free(&fits);
    fs_clip_series_free(&truth);
    fs_clip_truth_free(&t);
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
    rm_dir(dir);
}

START_TEST(baseline_short)
{
    baseline b;
    run_baseline("short", "", &b);
    ck_assert_int_eq(b.decoded, b.frames);
    ck_assert_int_eq(b.frames, 50);
    ck_assert_int_eq(b.fitted, b.frames);
    /* the truth path and the measures agree with what the fitter sees */
    ck_assert_msg(b.error.value < 0.03, "raw error %.4f of the face size", b.error.value);
    ck_assert_msg(b.max_error < 0.05, "worst frame %.4f", b.max_error);
    /* the measure sees encoder noise in pauses, real change in motion */
    ck_assert_msg(b.still_change >= 0.0 && b.still_change < 1.5, "still %.3f", b.still_change);
    ck_assert_msg(b.moving_change > 2.0 * b.still_change, "moving %.3f", b.moving_change);
}
END_TEST

START_TEST(baseline_motion)
{
    baseline b;
    run_baseline("motion", "--no-audio", &b);
    ck_assert_int_eq(b.decoded, b.frames);
    ck_assert_int_eq(b.frames, 250);
    ck_assert_msg(b.fitted >= b.frames * 95 / 100, "%d of %d frames fitted", b.fitted, b.frames);
    ck_assert_msg(b.error.value < 0.03, "raw error %.4f of the face size", b.error.value);
    /* a jitter to beat: the raw fits are not already still, in pauses too,
     * where the clip's noise (--noise 3) survives the encoder as a camera's
     * does (a clean clip's pause frames come out almost identical) */
    ck_assert_msg(b.jitter_res.samples > 200 && b.jitter_res.value > 0.0, "jitter %.5f (%ld)",
                  b.jitter_res.value, b.jitter_res.samples);
    ck_assert_msg(b.jitter_raw_pause.samples > 50 && b.jitter_raw_pause.value > 0.002,
                  "pause jitter %.5f (%ld)", b.jitter_raw_pause.value, b.jitter_raw_pause.samples);
    ck_assert_msg(b.still_change > 0.3 && b.still_change < 3.0, "still %.3f", b.still_change);
}
END_TEST

static int ffmpeg_present;

int main(void)
{
    Suite *s = suite_create("clips");
    TCase *pure = tcase_create("measures");
    tcase_add_test(pure, truth_round_trip_and_bad_files);
    tcase_add_test(pure, jitter_and_error_known_answers);
    tcase_add_test(pure, frame_measures_known_answers);
    tcase_add_test(pure, make_clip_paths);
    suite_add_tcase(s, pure);
    ffmpeg_present = have_ffmpeg();
    if (ffmpeg_present) {
        TCase *video = tcase_create("video");
        tcase_set_timeout(video, 1200);
        tcase_add_test(video, baseline_short);
        tcase_add_test(video, baseline_motion);
        suite_add_tcase(s, video);
    } else {
        printf("clips: no ffmpeg tool: the video cases are skipped\n");
    }
    const int rc = fs_test_run_suite(s);
    return rc == 0 && !ffmpeg_present ? 77 : rc;
}
