/*
 * Swaps onto turned targets (issue 10, item 5): the landmarks found again
 * on the result (the detector, then the fitter from the result's detection
 * that best overlaps the target's) stay within 2% of the face diagonal on
 * average on real faces turned 25-31 degrees, and the shape transfer fades
 * out as the target turns away from the source's face
 * (fs_swap_shape_turn_weight); on skin the source's photo saw at a grazing
 * angle the render keeps the source's own light (fs_swap_light_share), so
 * that a profile target stays a profile. benchmarks/turned_drift measures
 * the same over every test face and Megamind.avi's frames (doc/swap.md).
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "swap/swap.h"
#include "engine.h"

/* The identity of @p photo's largest face (the photo itself is not kept). */
static fs_identity *capture(fs_test_swap_env *e, const char *photo)
{
    fs_image src;
    fs_test_load_rgb8(e->ctx, photo, &src);
    fs_identity *id = NULL;
    FS_ASSERT_OK(fs_identity_create_from_image(e->ctx, &src, FS_IDENTITY_LARGEST_FACE, &id));
    fs_image_free(&src);
    return id;
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

/* The detector's face @p index of @p img, fitted: its box and landmarks. */
static void fit_face(fs_test_swap_env *e, const fs_image *img, int index, fs_face_box *box, fs_face_landmarks *lm)
{
    fs_face_box faces[16];
    int n = 0;
    FS_ASSERT_OK(fs_detector_run(e->det, img, faces, 16, &n));
    ck_assert_int_gt(n, index);
    *box = faces[index];
    FS_ASSERT_OK(fs_fitter_run(e->fit, img, box, lm));
}

/* Mean and max distance of @p got's 468 mesh points from @p ref's, over
 * the diagonal of @p ref's bounding box. */
static void drift(const fs_face_landmarks *ref, const fs_face_landmarks *got, double *mean,
                  double *max)
{
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY, sum = 0, mx = 0;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        x0 = fmin(x0, ref->points[i][0]);
        y0 = fmin(y0, ref->points[i][1]);
        x1 = fmax(x1, ref->points[i][0]);
        y1 = fmax(y1, ref->points[i][1]);
        const double d = hypot(got->points[i][0] - ref->points[i][0],
                               got->points[i][1] - ref->points[i][1]);
        sum += d;
        mx = fmax(mx, d);
    }
    const double diag = hypot(x1 - x0, y1 - y0);
    *mean = sum / FS_MESH_LANDMARKS / diag;
    *max = mx / diag;
}

/* Swaps @p id (named @p src_name) onto face @p face of @p file, turned at
 * least @p min_yaw degrees, through the public API with the renderer's
 * defaults, finds it again (the detection that best overlaps the
 * target's, then the fitter) and gives the landmarks' drift. */
static void swap_drift(fs_test_swap_env *e, const fs_identity *id, const char *src_name, const char *file,
                       int face, double min_yaw, double *mean, double *max)
{
    fs_face_landmarks *lm = malloc(2 * sizeof(*lm));
    ck_assert_ptr_nonnull(lm);
    fs_image tgt;
    fs_test_load_rgb8(e->ctx, file, &tgt);
    fs_face_box box;
    fit_face(e, &tgt, face, &box, &lm[0]);
    ck_assert_double_ge(fabs(lm[0].pose.yaw), min_yaw);
    FS_ASSERT_OK(fs_renderer_swap_face(e->ren, id, &tgt, &lm[0]));
    fs_face_box faces[16];
    int n = 0, best = -1;
    FS_ASSERT_OK(fs_detector_run(e->det, &tgt, faces, 16, &n));
    double best_iou = 0.3;
    for (int i = 0; i < n && i < 16; i++)
        if (box_iou(&faces[i], &box) >= best_iou) {
            best_iou = box_iou(&faces[i], &box);
            best = i;
        }
    ck_assert_msg(best >= 0, "%s onto %s: the face is not found again", src_name, file);
    FS_ASSERT_OK(fs_fitter_run(e->fit, &tgt, &faces[best], &lm[1]));
    drift(&lm[0], &lm[1], mean, max);
    printf("swap_turned: %s onto %s face %d (yaw %+.1f): drift %.2f%% (max %.2f%%)\n", src_name,
           file, face, lm[0].pose.yaw, 100 * *mean, 100 * *max);
    fs_image_free(&tgt);
    free(lm);
}

START_TEST(shape_turn_weight)
{
    ck_assert_double_eq(fs_swap_shape_turn_weight(0), 1.0);
    ck_assert_double_eq(fs_swap_shape_turn_weight(25), 1.0);
    ck_assert_double_eq_tol(fs_swap_shape_turn_weight(47.5), 0.5, 1e-12);
    ck_assert_double_eq(fs_swap_shape_turn_weight(70), 0.0);
    ck_assert_double_eq(fs_swap_shape_turn_weight(180), 0.0);
    ck_assert_double_eq(fs_swap_shape_turn_weight(NAN), 0.0);
    for (double t = 0; t < 90; t += 0.5)
        ck_assert_double_ge(fs_swap_shape_turn_weight(t), fs_swap_shape_turn_weight(t + 0.5));
}
END_TEST

START_TEST(light_seen_weight)
{
    ck_assert_double_eq(fs_swap_light_seen_weight(-1), 0.0);
    ck_assert_double_eq(fs_swap_light_seen_weight(0.3), 0.0);
    ck_assert_double_eq_tol(fs_swap_light_seen_weight(0.5), 0.5, 1e-12);
    ck_assert_double_eq(fs_swap_light_seen_weight(0.7), 1.0);
    ck_assert_double_eq(fs_swap_light_seen_weight(1), 1.0);
    ck_assert_double_eq(fs_swap_light_seen_weight(NAN), 0.0);
    for (double f = -1; f < 1; f += 0.01)
        ck_assert_double_le(fs_swap_light_seen_weight(f), fs_swap_light_seen_weight(f + 0.01));
}
END_TEST

/* The light on a frontal source (astronaut) swapped onto a profile
 * (faceapi_sample2's face turned 55 degrees): the profile shows square-on
 * much of what the source's photo saw at a grazing angle, and there the
 * render keeps the source's own light; where the photo saw the skin well
 * it takes the target's, which differs. */
START_TEST(profile_keeps_source_light)
{
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    fs_image tgt;
    fs_test_load_rgb8(e.ctx, "faceapi_sample2.jpg", &tgt);
    fs_identity *sid = capture(&e, "astronaut.png");
    const fs_identity_data *id = fs_identity_internal_data(sid);
    ck_assert_int_gt(id->atlas.light.n_fit, 0);
    fs_face_landmarks *lm = malloc(sizeof(*lm));
    fs_swap_target *t = malloc(sizeof(*t));
    float(*mix)[3] = malloc(sizeof(float) * 3 * FS_MESH_LANDMARKS);
    float(*own)[3] = malloc(sizeof(float) * 3 * FS_MESH_LANDMARKS);
    float(*tn)[3] = malloc(sizeof(float) * 3 * FS_MESH_LANDMARKS);
    float *share = malloc(sizeof(float) * FS_MESH_LANDMARKS);
    ck_assert(lm && t && mix && own && tn && share);
    fs_face_box box;
    fit_face(&e, &tgt, 1, &box, lm);
    ck_assert_double_ge(fabs(lm->pose.yaw), 45);
    const fs_swap_mesh *mesh = fs_renderer_internal_mesh(e.ren);
    fs_swap_params p = *fs_renderer_internal_params(e.ren);
    ck_assert_int_eq(p.relight, 1);
    fs_error_buf eb;
    FS_ASSERT_OK(fs_swap_target_prepare(fs_context_engine(e.ctx), FS_EXEC_SERIAL(&eb), mesh, &p,
                                        &tgt, (const float(*)[3])lm->points, t));
    ck_assert_int_gt(t->light.n_fit, 0);
    ck_assert_int_eq(fs_swap_vertex_light(mesh, &p, id, t, mix), 1);
    p.relight = 0; /* the source's own light alone */
    ck_assert_int_eq(fs_swap_vertex_light(mesh, &p, id, t, own), 1);
    fs_swap_light_share(mesh, (const float(*)[3])id->landmarks, share);
    fs_atlas_vertex_normals((const float(*)[3])t->points, &mesh->atlas, tn);
    int shown = 0, grazed = 0, differ = 0;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        ck_assert(share[i] >= 0.0f && share[i] <= 1.0f);
        for (int c = 0; c < 3; c++) {
            ck_assert(isfinite(mix[i][c]) && mix[i][c] > 0.0f);
            if (share[i] == 0.0f)
                ck_assert_float_eq_tol(mix[i][c], own[i][c], 1e-6f);
        }
        if (share[i] == 1.0f && fabsf(mix[i][0] - own[i][0]) > 0.02f)
            differ++;
        if (tn[i][2] > 0.5f) { /* the profile shows it square-on */
            shown++;
            grazed += share[i] < 0.5f;
        }
    }
    printf("swap_turned: profile: %d of %d vertices shown square-on were seen at a grazing "
           "angle by the source; the target's light differs on %d\n",
           grazed, shown, differ);
    ck_assert_int_ge(grazed * 5, shown); /* a fifth at least */
    ck_assert_int_ge(differ, 20);
    free(share);
    free(tn);
    free(own);
    free(mix);
    free(t);
    free(lm);
    fs_identity_destroy(sid);
    fs_image_free(&tgt);
    fs_test_swap_env_close(&e);
}
END_TEST

/* astronaut onto the profile through the public API, found again: the
 * mean drift was 8.79% with the target's light on every vertex, 4.94% with
 * the source's own kept where its photo saw the skin at a grazing angle
 * (benchmarks/turned_drift, whose fit of the profile differs slightly:
 * 6.83% and 3.98%). The bound: between the two; the 2% is not
 * reached yet. 4.40% with the target's whole eye openings (the default
 * eyes mode since the light work's tenth step, doc/light-notes.md); 5.55%
 * in gaze mode with the albedo's headroom, 5.18% without it. */
START_TEST(profile_drift)
{
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    fs_identity *id = capture(&e, "astronaut.png");
    double mean, max;
    swap_drift(&e, id, "astronaut.png", "faceapi_sample2.jpg", 1, 45, &mean, &max);
    ck_assert_double_le(mean, 0.055);
    fs_identity_destroy(id);
    fs_test_swap_env_close(&e);
}
END_TEST

/* The source's landmarks turned by @p deg about the vertical axis through
 * their centroid (x and z, z in the same scale). */
static void turn_points(float (*p)[3], double deg)
{
    double cx = 0, cz = 0;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        cx += p[i][0];
        cz += p[i][2];
    }
    cx /= FS_MESH_LANDMARKS;
    cz /= FS_MESH_LANDMARKS;
    const double c = cos(deg * M_PI / 180), s = sin(deg * M_PI / 180);
    for (int i = 0; i < FS_LANDMARKS; i++) {
        const double x = p[i][0] - cx, z = p[i][2] - cz;
        p[i][0] = (float)(cx + c * x + s * z);
        p[i][2] = (float)(cz - s * x + c * z);
    }
}

/* Swaps @p id onto a copy of @p tgt with shape @p shape; the copy. */
static fs_image swap_copy(fs_test_swap_env *e, fs_swap_params p, double shape, const fs_identity_data *id,
                          const fs_image *tgt, const fs_face_landmarks *lm)
{
    fs_image out = fs_test_copy_image(tgt, 3);
    fs_error_buf err;
    p.shape = shape;
    FS_ASSERT_OK(fs_swap_face_rgb8(fs_context_engine(e->ctx), FS_EXEC_SERIAL(&err),
                                   fs_renderer_internal_mesh(e->ren), &p, id, &out,
                                   (const float(*)[3])lm->points, NULL));
    return out;
}

/* A source face turned 100 degrees from the target's (either way, at least
 * 70 from a target turned 31): the render is the one without shape
 * transfer, bit for bit; the same source unturned changes it. */
START_TEST(shape_off_when_turned_away)
{
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    fs_image tgt;
    fs_test_load_rgb8(e.ctx, "faceapi_sample5.jpg", &tgt);
    fs_identity *sid = capture(&e, "astronaut.png");
    fs_identity_data *id = malloc(sizeof(*id));
    fs_face_landmarks *lm = malloc(sizeof(*lm));
    ck_assert(id && lm);
    *id = *fs_identity_internal_data(sid); /* shares the atlas: read only */
    fs_face_box box;
    fit_face(&e, &tgt, 1, &box, lm);
    ck_assert_double_ge(fabs(lm->pose.yaw), 25);
    const fs_swap_params p = *fs_renderer_internal_params(e.ren);
    ck_assert_double_gt(p.shape, 0);
    const size_t bytes = (size_t)tgt.stride * (size_t)tgt.height;

    fs_image plain = swap_copy(&e, p, 0.0, id, &tgt, lm);
    fs_image shaped = swap_copy(&e, p, p.shape, id, &tgt, lm);
    ck_assert_msg(memcmp(plain.data, shaped.data, bytes) != 0,
                  "the shape transfer changed nothing on a face turned %.1f degrees", lm->pose.yaw);
    free(shaped.data);
    turn_points(id->landmarks, 100);
    fs_image turned = swap_copy(&e, p, p.shape, id, &tgt, lm);
    fs_image turned0 = swap_copy(&e, p, 0.0, id, &tgt, lm);
    ck_assert_mem_eq(turned.data, turned0.data, bytes);
    free(turned.data);
    free(turned0.data);
    free(plain.data);
    free(lm);
    free(id);
    fs_identity_destroy(sid);
    fs_image_free(&tgt);
    fs_test_swap_env_close(&e);
}
END_TEST

/* Two sources onto two real faces turned 25.8 and 30.7 degrees through the
 * public API with the renderer's defaults, then found again. Measured
 * (doc/swap.md): mean 0.88-1.61%, max 1.90-3.98%. The bounds: the issue's
 * 2% for the mean, 6% for the worst point (the fitter alone, given another
 * crop of the untouched faces, moves points by up to 2.7%). */
START_TEST(turned_targets_drift)
{
    static const struct {
        const char *file;
        int face;
    } targets[] = {{"faceapi_sample5.jpg", 1}, {"faceapi_sample4.jpg", 3}};
    static const char *const sources[] = {"astronaut.png", "faceapi_sample3.jpg"};
    fs_test_swap_env e;
    fs_test_swap_env_open(&e);
    for (int s = 0; s < 2; s++) {
        fs_identity *id = capture(&e, sources[s]);
        for (int t = 0; t < 2; t++) {
            double mean, max;
            swap_drift(&e, id, sources[s], targets[t].file, targets[t].face, 25, &mean, &max);
            ck_assert_double_le(mean, 0.02);
            ck_assert_double_le(max, 0.06);
        }
        fs_identity_destroy(id);
    }
    fs_test_swap_env_close(&e);
}
END_TEST

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    Suite *s = suite_create("swap_turned");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, shape_turn_weight);
    tcase_add_test(tc, shape_off_when_turned_away);
    tcase_add_test(tc, turned_targets_drift);
    tcase_add_test(tc, light_seen_weight);
    tcase_add_test(tc, profile_keeps_source_light);
    tcase_add_test(tc, profile_drift);
    suite_add_tcase(s, tc);
    return fs_test_run_suite(s);
}
