/*
 * fs_fitter: API contract, the canonical-face reader, head pose (synthetic
 * and plausibility), the iris post-processing against the reference's raw
 * tensors, the iris flip decision, roll alignment on turned copies,
 * tracking, pixel formats, allocation-free runs and model-file checks.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc_count.h"
#include "detect/detect_internal.h"
#include "fit/fit_internal.h"
#include "golden_reader.h"
#include "perception_util.h"

/* ---------------------------------------------------------------- helpers */

static int detect(fs_detector *det, const fs_image *img, fs_face_box *faces, int cap)
{
    int n = -1;
    FS_ASSERT_OK(fs_detector_run(det, img, faces, cap, &n));
    return n < cap ? n : cap;
}

static fs_canonical_face *read_canonical(void)
{
    const char *path = fs_test_model_path("face_geometry.binarypb");
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "missing %s", path);
    static uint8_t buf[1 << 16];
    const size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    fs_canonical_face *c = malloc(sizeof(*c));
    ck_assert_ptr_nonnull(c);
    fs_error_buf err;
    FS_ASSERT_OK(fs_canonical_face_parse(buf, n, c, &err));
    return c;
}

/* Size of a face: sqrt of its landmark extent's area. */
static double face_size(const fs_face_landmarks *lm)
{
    double e[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        e[0] = fmin(e[0], lm->points[i][0]);
        e[1] = fmin(e[1], lm->points[i][1]);
        e[2] = fmax(e[2], lm->points[i][0]);
        e[3] = fmax(e[3], lm->points[i][1]);
    }
    return sqrt((e[2] - e[0]) * (e[3] - e[1]));
}

/* Mean / max distance of @p lm, mapped back through @p v, from @p ref. */
static void landmark_error(const fs_face_landmarks *lm, const pu_image *v, const fs_face_landmarks *ref,
                           double *mean, double *max)
{
    double s = 0.0, m = 0.0;
    for (int i = 0; i < FS_LANDMARKS; i++) {
        double x = lm->points[i][0], y = lm->points[i][1];
        if (v)
            pu_unmap(v, x, y, &x, &y);
        const double d = hypot(x - ref->points[i][0], y - ref->points[i][1]);
        s += d;
        m = fmax(m, d);
    }
    *mean = s / FS_LANDMARKS;
    *max = m;
}

/* The detection @p b of an image, as it lands in a transformed copy. */
static fs_face_box map_box(const fs_face_box *b, const pu_image *v)
{
    fs_face_box o = *b;
    double cx, cy;
    pu_map(v, b->x + b->width / 2, b->y + b->height / 2, &cx, &cy);
    o.x = (float)(cx - b->width / 2);
    o.y = (float)(cy - b->height / 2);
    for (int k = 0; k < FS_FACE_KEYPOINTS; k++) {
        double x, y;
        pu_map(v, b->keypoints[k][0], b->keypoints[k][1], &x, &y);
        o.keypoints[k][0] = (float)x;
        o.keypoints[k][1] = (float)y;
    }
    return o;
}

static double wrap_deg(double d)
{
    return remainder(d, 360.0);
}

/* ---------------------------------------------------------------- tables and parsing */

/* Finds `name: [a, b, ...]` in the TypeScript source and reads the list. */
static int ts_list(const char *src, const char *name, int *out, int cap)
{
    char pat[96];
    snprintf(pat, sizeof(pat), "%s: [", name);
    const char *p = strstr(src, pat);
    if (!p)
        return -1;
    p += strlen(pat);
    int n = 0;
    while (*p && *p != ']' && n < cap) {
        char *end;
        const long v = strtol(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        out[n++] = (int)v;
        p = end;
    }
    return n;
}

START_TEST(eye_tables_match_facemeshcoords)
{
    const char *path = fs_test_model_path("facemeshcoords.ts");
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "missing %s", path);
    static char src[1 << 17];
    const size_t n = fread(src, 1, sizeof(src) - 1, f);
    src[n] = '\0';
    fclose(f);
    for (int g = 0; g < FS_EYE_GROUPS; g++) {
        const fs_eye_group *eg = &fs_eye_groups[g];
        int v[16];
        char name[64];
        snprintf(name, sizeof(name), "right%s", eg->key);
        ck_assert_int_eq(ts_list(src, name, v, 16), eg->count);
        for (int j = 0; j < eg->count; j++)
            ck_assert_int_eq(v[j], eg->right[j]);
        snprintf(name, sizeof(name), "left%s", eg->key);
        ck_assert_int_eq(ts_list(src, name, v, 16), eg->count);
        for (int j = 0; j < eg->count; j++)
            ck_assert_int_eq(v[j], eg->left[j]);
        /* irisIndices: { key: 'EyeUpper0', indices: [...] } */
        snprintf(name, sizeof(name), "key: '%s', indices", eg->key);
        ck_assert_int_eq(ts_list(src, name, v, 16), eg->count);
        for (int j = 0; j < eg->count; j++)
            ck_assert_int_eq(v[j], eg->iris[j]);
    }
}
END_TEST

START_TEST(canonical_face_reader)
{
    const char *path = fs_test_model_path("face_geometry.binarypb");
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "missing %s", path);
    static uint8_t buf[1 << 16];
    const size_t size = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    static fs_canonical_face c;
    fs_error_buf err;
    FS_ASSERT_OK(fs_canonical_face_parse(buf, size, &c, &err));
    ck_assert_int_eq(c.n_triangles, 898);
    ck_assert_int_eq(c.n_basis, 33);
    /* centimetres, x to the image's right, y up, z towards the viewer */
    ck_assert(fabs(c.vertices[33][0] + 4.445859f) < 1e-4 && fabs(c.vertices[263][0] - 4.445859f) < 1e-4);
    ck_assert(c.vertices[10][1] > 8 && c.vertices[152][1] < -9); /* forehead up, chin down */
    ck_assert(c.vertices[1][2] > 7); /* nose tip nearest */
    double w = 0;
    for (int i = 0; i < c.n_basis; i++) {
        ck_assert(c.basis_id[i] >= 0 && c.basis_id[i] < FS_MESH_LANDMARKS);
        w += c.basis_weight[i];
    }
    ck_assert(fabs(w - 1.055) < 1e-3);

    /* Every truncation is refused cleanly (never read past the end), except
     * the cuts between the trailing basis entries, which are shorter but
     * well-formed files (the mesh field ends at byte 3 + 19050). */
    static fs_canonical_face scratch;
    for (size_t n = 0; n < size; n++) {
        const fs_status st = fs_canonical_face_parse(buf, n, &scratch, &err);
        if (st == FS_OK) {
            ck_assert_msg(n >= 19053, "prefix of %zu bytes parsed", n);
            ck_assert(scratch.n_basis >= 3 && scratch.n_basis <= 33);
            continue;
        }
        ck_assert_msg(st == FS_ERR_CORRUPT || st == FS_ERR_MODEL || st == FS_ERR_TRUNCATED,
                      "prefix of %zu bytes: %s", n, fs_status_name(st));
    }
    /* Random damage: any error or a parse, never a crash. */
    static uint8_t bad[1 << 16];
    unsigned seed = 12345;
    for (int t = 0; t < 3000; t++) {
        memcpy(bad, buf, size);
        for (int k = 0; k < 1 + t % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            bad[(seed >> 8) % size] ^= (uint8_t)(1u << ((seed >> 4) & 7));
        }
        const fs_status st = fs_canonical_face_parse(bad, size, &scratch, &err);
        ck_assert(st == FS_OK || st == FS_ERR_CORRUPT || st == FS_ERR_MODEL);
    }
    /* a group (wire type 3) is refused */
    static const uint8_t group[] = {0x0b, 0x0c};
    FS_ASSERT_STATUS(fs_canonical_face_parse(group, sizeof(group), &scratch, &err), FS_ERR_CORRUPT);
    FS_ASSERT_STATUS(fs_canonical_face_parse(buf, 0, &scratch, &err), FS_ERR_TRUNCATED);
    /* an over-long varint */
    static const uint8_t varint[] = {0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    FS_ASSERT_STATUS(fs_canonical_face_parse(varint, sizeof(varint), &scratch, &err), FS_ERR_CORRUPT);
}
END_TEST

/* ---------------------------------------------------------------- pose */

START_TEST(pose_recovers_synthetic_poses)
{
    fs_canonical_face *c = read_canonical();
    static const double poses[][6] = {
        /* yaw, pitch, roll, scale, tx, ty */
        {0, 0, 0, 10, 300, 200},   {30, 0, 0, 12, 100, 50},    {0, 25, 0, 8, 0, 0},
        {0, 0, 40, 20, 640, 480},  {-35, 15, -20, 5, 10, 900}, {20, -30, 170, 15, 320, 240},
        {60, 40, -120, 3, 5, 5},
    };
    static float pts[FS_MESH_LANDMARKS][3];
    for (size_t p = 0; p < sizeof(poses) / sizeof(poses[0]); p++) {
        double r[9];
        fs_pose_rotation(poses[p][0], poses[p][1], poses[p][2], r);
        for (int noise = 0; noise < 2; noise++) {
            unsigned seed = 7;
            for (int i = 0; i < FS_MESH_LANDMARKS; i++)
                for (int k = 0; k < 3; k++) {
                    const float *v = c->vertices[i];
                    seed = seed * 1103515245u + 12345u;
                    const double n = noise ? ((seed >> 8) % 1000 / 1000.0 - 0.5) : 0.0;
                    pts[i][k] = (float)(poses[p][3] * (r[3 * k] * v[0] + r[3 * k + 1] * v[1] + r[3 * k + 2] * v[2]) +
                                        (k == 0 ? poses[p][4] : (k == 1 ? poses[p][5] : 0.0)) + n);
                }
            fs_head_pose pose;
            ck_assert(fs_pose_fit((const float (*)[3])pts, c, &pose));
            const double tol = noise ? 1.0 : 1e-2;
            ck_assert_msg(fabs(wrap_deg(pose.yaw - poses[p][0])) < tol &&
                              fabs(wrap_deg(pose.pitch - poses[p][1])) < tol &&
                              fabs(wrap_deg(pose.roll - poses[p][2])) < tol,
                          "pose %zu noise %d: got %.3f %.3f %.3f", p, noise, (double)pose.yaw,
                          (double)pose.pitch, (double)pose.roll);
            ck_assert(fabs(pose.scale - poses[p][3]) < (noise ? 0.05 : 1e-4) * poses[p][3]);
            if (!noise) {
                for (int k = 0; k < 9; k++)
                    ck_assert(fabs(pose.rotation[k] - r[k]) < 1e-4);
                ck_assert(fabs(pose.translation[0] - poses[p][4]) < 1e-2);
                ck_assert(fabs(pose.translation[1] - poses[p][5]) < 1e-2);
            }
        }
    }
    /* The signs as documented, in image terms. */
    double r[9];
    fs_pose_rotation(30, 0, 0, r); /* yaw: the nose tip moves to the image's right */
    ck_assert(r[0] * c->vertices[1][0] + r[1] * c->vertices[1][1] + r[2] * c->vertices[1][2] > 2);
    fs_pose_rotation(0, 30, 0, r); /* pitch: the nose tip moves up (y down) */
    const double ny0 = -c->vertices[1][1];
    ck_assert(r[3] * c->vertices[1][0] + r[4] * c->vertices[1][1] + r[5] * c->vertices[1][2] < ny0 - 2);
    fs_pose_rotation(0, 0, 30, r); /* roll: the eye line turns clockwise, 30 degrees */
    double e[2][2];
    for (int k = 0; k < 2; k++) {
        const float *v = c->vertices[k ? 263 : 33];
        e[k][0] = r[0] * v[0] + r[1] * v[1] + r[2] * v[2];
        e[k][1] = r[3] * v[0] + r[4] * v[1] + r[5] * v[2];
    }
    ck_assert(fabs(atan2(e[1][1] - e[0][1], e[1][0] - e[0][0]) * 180 / PU_PI - 30) < 1e-6);
    free(c);
}
END_TEST

/* ---------------------------------------------------------------- reference tensors */

START_TEST(iris_postprocess_matches_reference_tensors)
{
    static const char *const names[] = {"astronaut.txt", "messi5.txt"};
    for (int i = 0; i < 2; i++) {
        golden *g = golden_read(fs_test_golden_path(names[i]));
        ck_assert_ptr_nonnull(g);
        int checked = 0;
        for (int k = 0; k < g->nfaces; k++) {
            const golden_face *gf = &g->faces[k];
            if (!gf->accepted)
                continue;
            char tn[64];
            snprintf(tn, sizeof(tn), "face%d_mesh_1404", k);
            const golden_tensor *tm = golden_tensor_get(g, tn);
            snprintf(tn, sizeof(tn), "face%d_iris_output", k);
            const golden_tensor *ti = golden_tensor_get(g, tn);
            ck_assert(tm && ti && tm->n == 1404 && ti->n == 456);
            static double rc[FS_LANDMARKS][3];
            for (int p = 0; p < FS_MESH_LANDMARKS; p++)
                for (int c = 0; c < 3; c++)
                    rc[p][c] = tm->v[3 * p + c];
            fs_eye_box eyes[2];
            fs_eye_boxes((const double (*)[3])rc, 2.3, eyes);
            ck_assert(eyes[0].x1 == gf->eye_left[0] && eyes[0].y1 == gf->eye_left[1] &&
                      eyes[0].x2 == gf->eye_left[2] && eyes[0].y2 == gf->eye_left[3]);
            ck_assert(eyes[1].x1 == gf->eye_right[0] && eyes[1].y1 == gf->eye_right[1] &&
                      eyes[1].x2 == gf->eye_right[2] && eyes[1].y2 == gf->eye_right[3]);
            const fs_iris_flip human = {{1, 1}, {1, 0}};
            fs_iris_apply(rc, ti->v, eyes, &human);
            fs_crop crop;
            memset(&crop, 0, sizeof(crop));
            crop.tfjs = 1;
            crop.x1 = gf->cropbox[0];
            crop.y1 = gf->cropbox[1];
            crop.x2 = gf->cropbox[2];
            crop.y2 = gf->cropbox[3];
            crop.size_x = crop.x2 - crop.x1;
            crop.size_y = crop.y2 - crop.y1;
            crop.cx = crop.x1 + crop.size_x / 2;
            crop.cy = crop.y1 + crop.size_y / 2;
            double worst = 0.0;
            for (int p = 0; p < FS_LANDMARKS; p++) {
                float o[3];
                fs_crop_to_image(&crop, rc[p], o);
                worst = fmax(worst, hypot(o[0] - gf->meshfinal[p][0], o[1] - gf->meshfinal[p][1]));
                worst = fmax(worst, fabs(o[2] - gf->meshfinal[p][2] * crop.size_x / FS_MESH_SIZE));
            }
            ck_assert_msg(worst < 1e-3, "%s face %d: %.3g px from meshfinal", g->name, k, worst);
            /* the crop box of the reference from its detection box */
            fs_crop again;
            fs_crop_from_box(gf->box[0], gf->box[1], gf->box[2], gf->box[3], 1.4, 0.0, 1, &again);
            ck_assert(again.x1 == crop.x1 && again.y1 == crop.y1 && again.x2 == crop.x2 &&
                      again.y2 == crop.y2);
            checked++;
        }
        ck_assert_int_ge(checked, 1);
        golden_free(g);
    }
}
END_TEST

/* ---------------------------------------------------------------- API contract */

START_TEST(api_contract)
{
    fs_context *ctx = fs_test_new_context();
    fs_fitter *fit = (fs_fitter *)(uintptr_t)0x1;
    FS_ASSERT_STATUS(fs_fitter_create(NULL, &fit), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_fitter_create(ctx, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_eq(fit, (fs_fitter *)(uintptr_t)0x1);
    fit = fs_test_new_fitter(ctx);
    fs_fitter_destroy(NULL);
    ck_assert_str_eq(fs_fitter_last_error(NULL), "");

    fs_image img;
    fs_test_load_image(ctx, "astronaut.png", &img);
    fs_detector *det = fs_test_new_detector(ctx);
    fs_face_box face;
    ck_assert_int_eq(detect(det, &img, &face, 1), 1);

    fs_face_landmarks out, pattern;
    memset(&pattern, 0xa5, sizeof(pattern));
    out = pattern;
    FS_ASSERT_STATUS(fs_fitter_run(NULL, &img, &face, &out), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_fitter_run(fit, NULL, &face, &out), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_fitter_run(fit, &img, NULL, &out), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_fitter_run(fit, &img, &face, NULL), FS_ERR_INVALID_ARGUMENT);
    fs_face_box bad = face;
    bad.width = 0;
    FS_ASSERT_STATUS(fs_fitter_run(fit, &img, &bad, &out), FS_ERR_INVALID_ARGUMENT);
    bad = face;
    bad.x = NAN;
    FS_ASSERT_STATUS(fs_fitter_run(fit, &img, &bad, &out), FS_ERR_INVALID_ARGUMENT);
    bad = face;
    bad.keypoints[1][0] = INFINITY;
    FS_ASSERT_STATUS(fs_fitter_run(fit, &img, &bad, &out), FS_ERR_INVALID_ARGUMENT);
    bad = face;
    bad.height = 1e30f;
    FS_ASSERT_STATUS(fs_fitter_run(fit, &img, &bad, &out), FS_ERR_INVALID_ARGUMENT);
    ck_assert(strlen(fs_fitter_last_error(fit)) > 0);
    fs_image bimg = img;
    bimg.format = 0;
    FS_ASSERT_STATUS(fs_fitter_run(fit, &bimg, &face, &out), FS_ERR_UNSUPPORTED);
    FS_ASSERT_STATUS(fs_fitter_track(fit, &bimg, &out, &out), FS_ERR_UNSUPPORTED);
    ck_assert(memcmp(&out, &pattern, sizeof(out)) == 0);

    /* a box far from the face: no face, out untouched */
    fs_face_box away = face;
    away.x = 420;
    away.y = 430;
    for (int k = 0; k < FS_FACE_KEYPOINTS; k++) {
        away.keypoints[k][0] += 250;
        away.keypoints[k][1] += 355;
    }
    const fs_status st = fs_fitter_run(fit, &img, &away, &out);
    FS_ASSERT_STATUS(st, FS_ERR_NO_FACE);
    ck_assert_ptr_nonnull(strstr(fs_fitter_last_error(fit), "confidence"));
    ck_assert(memcmp(&out, &pattern, sizeof(out)) == 0);

    FS_ASSERT_OK(fs_fitter_run(fit, &img, &face, &out));
    ck_assert_str_eq(fs_fitter_last_error(fit), "");
    ck_assert(out.confidence > 0.9f && out.confidence <= 1.0f);
    ck_assert(memcmp(&out.box, &face, sizeof(face)) == 0);
    for (int i = 0; i < 11; i++)
        ck_assert(out.reserved[i] == 0.0f);
    for (int i = 0; i < 8; i++)
        ck_assert(out.pose.reserved[i] == 0.0f);
    ck_assert(out.crop[4] == 0.0f && out.crop[2] > face.width);

    /* tracking's own argument checks */
    fs_face_landmarks t = pattern;
    FS_ASSERT_STATUS(fs_fitter_track(NULL, &img, &out, &t), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_fitter_track(fit, &img, NULL, &t), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_fitter_track(fit, &img, &out, NULL), FS_ERR_INVALID_ARGUMENT);
    fs_face_landmarks nanlm = out;
    nanlm.points[17][1] = NAN;
    FS_ASSERT_STATUS(fs_fitter_track(fit, &img, &nanlm, &t), FS_ERR_INVALID_ARGUMENT);
    ck_assert(memcmp(&t, &pattern, sizeof(t)) == 0);

    fs_detector_destroy(det);
    fs_image_free(&img);
    fs_fitter_destroy(fit);
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(parameters)
{
    fs_context *ctx = fs_test_new_context();
    fs_fitter *fit = fs_test_new_fitter(ctx);
    double v, lo, hi;
    FS_ASSERT_OK(fs_fitter_get(fit, FS_FITTER_ALIGN, &v));
    ck_assert(v == FS_FITTER_ALIGN_ROLL);
    FS_ASSERT_OK(fs_fitter_get(fit, FS_FITTER_MIN_CONFIDENCE, &v));
    ck_assert(v == 0.2);
    FS_ASSERT_OK(fs_fitter_get(fit, FS_FITTER_IRIS, &v));
    ck_assert(v == 1);
    FS_ASSERT_OK(fs_fitter_get(fit, FS_FITTER_REFERENCE_QUIRKS, &v));
    ck_assert(v == 0);
    for (int p = FS_FITTER_ALIGN; p <= FS_FITTER_REFERENCE_QUIRKS; p++) {
        FS_ASSERT_OK(fs_fitter_param_bounds((fs_fitter_param)p, &lo, &hi));
        FS_ASSERT_OK(fs_fitter_set(fit, (fs_fitter_param)p, hi));
        FS_ASSERT_OK(fs_fitter_set(fit, (fs_fitter_param)p, lo));
        FS_ASSERT_STATUS(fs_fitter_set(fit, (fs_fitter_param)p, hi + 0.5), FS_ERR_OUT_OF_RANGE);
        FS_ASSERT_STATUS(fs_fitter_set(fit, (fs_fitter_param)p, lo - 0.5), FS_ERR_OUT_OF_RANGE);
        FS_ASSERT_STATUS(fs_fitter_set(fit, (fs_fitter_param)p, NAN), FS_ERR_OUT_OF_RANGE);
        FS_ASSERT_OK(fs_fitter_get(fit, (fs_fitter_param)p, &v));
        ck_assert(v == lo);
    }
    FS_ASSERT_STATUS(fs_fitter_set(fit, FS_FITTER_ALIGN, 0.5), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_STATUS(fs_fitter_set(fit, (fs_fitter_param)77, 0), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_fitter_set(NULL, FS_FITTER_ALIGN, 0), FS_ERR_INVALID_ARGUMENT);
    v = 9;
    FS_ASSERT_STATUS(fs_fitter_get(fit, (fs_fitter_param)77, &v), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_fitter_get(fit, FS_FITTER_ALIGN, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert(v == 9);
    FS_ASSERT_STATUS(fs_fitter_param_bounds((fs_fitter_param)77, &lo, &hi), FS_ERR_INVALID_ARGUMENT);
    fs_fitter_destroy(fit);
    fs_context_destroy(ctx);
}
END_TEST

/* ---------------------------------------------------------------- behaviour */

START_TEST(formats_and_tiny_images)
{
    fs_context *ctx = fs_test_new_context();
    fs_fitter *fit = fs_test_new_fitter(ctx);
    fs_detector *det = fs_test_new_detector(ctx);
    fs_image img;
    fs_test_load_image(ctx, "astronaut.png", &img);
    fs_face_box face;
    ck_assert_int_eq(detect(det, &img, &face, 1), 1);
    fs_face_landmarks want, got;
    FS_ASSERT_OK(fs_fitter_run(fit, &img, &face, &want));
    /* BGR / RGBA / BGRA with padded rows give bit-identical landmarks */
    static const int formats[] = {FS_PIXEL_RGBA8, FS_PIXEL_BGR8, FS_PIXEL_BGRA8};
    for (int f = 0; f < 3; f++) {
        const int ch = fs_pixel_format_channels((fs_pixel_format)formats[f]);
        fs_image c = img;
        c.format = formats[f];
        c.stride = img.width * ch + 7;
        uint8_t *d = malloc((size_t)c.stride * (size_t)img.height);
        ck_assert_ptr_nonnull(d);
        for (int y = 0; y < img.height; y++)
            for (int x = 0; x < img.width; x++) {
                const uint8_t *s = (const uint8_t *)img.data + (size_t)y * img.stride + (size_t)x * 3;
                uint8_t *t = d + (size_t)y * c.stride + (size_t)x * ch;
                const int bgr = formats[f] != FS_PIXEL_RGBA8;
                t[0] = s[bgr ? 2 : 0];
                t[1] = s[1];
                t[2] = s[bgr ? 0 : 2];
                if (ch == 4)
                    t[3] = 3;
            }
        c.data = d;
        FS_ASSERT_OK(fs_fitter_run(fit, &c, &face, &got));
        ck_assert(memcmp(got.points, want.points, sizeof(want.points)) == 0);
        free(d);
    }
    /* tiny images: a clean status, no crash */
    static const int sizes[][2] = {{1, 1}, {2, 300}, {300, 2}};
    for (int i = 0; i < 3; i++) {
        fs_image t;
        memset(&t, 0, sizeof(t));
        t.width = sizes[i][0];
        t.height = sizes[i][1];
        t.format = FS_PIXEL_GRAY8;
        t.stride = t.width;
        t.data = calloc((size_t)t.width * (size_t)t.height, 1);
        fs_face_box b;
        memset(&b, 0, sizeof(b));
        b.width = (float)t.width;
        b.height = (float)t.height;
        for (int a = 0; a < 2; a++) {
            FS_ASSERT_OK(fs_fitter_set(fit, FS_FITTER_ALIGN, a));
            const fs_status st = fs_fitter_run(fit, &t, &b, &got);
            ck_assert(st == FS_OK || st == FS_ERR_NO_FACE);
        }
        free(t.data);
    }
    fs_detector_destroy(det);
    fs_image_free(&img);
    fs_fitter_destroy(fit);
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(pose_is_plausible)
{
    fs_context *ctx = fs_test_new_context();
    fs_fitter *fit = fs_test_new_fitter(ctx);
    fs_detector *det = fs_test_new_detector(ctx);
    fs_canonical_face *canon = read_canonical();
    fs_image img;
    fs_test_load_image(ctx, "astronaut.png", &img);
    fs_face_box face;
    ck_assert_int_eq(detect(det, &img, &face, 1), 1);
    fs_face_landmarks lm;
    FS_ASSERT_OK(fs_fitter_run(fit, &img, &face, &lm));
    const fs_head_pose *p = &lm.pose;
    printf("astronaut pose: yaw %.1f pitch %.1f roll %.1f scale %.2f px/cm\n", (double)p->yaw,
           (double)p->pitch, (double)p->roll, (double)p->scale);
    ck_assert(fabs(p->yaw) < 10 && fabs(p->pitch) < 20 && fabs(p->roll) < 10);
    /* a proper rotation */
    const float *r = p->rotation;
    const double det3 = r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6]) +
                        r[2] * (r[3] * r[7] - r[4] * r[6]);
    ck_assert(fabs(det3 - 1) < 1e-4);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            const double d = r[3 * i] * r[3 * j] + r[3 * i + 1] * r[3 * j + 1] + r[3 * i + 2] * r[3 * j + 2];
            ck_assert(fabs(d - (i == j)) < 1e-4);
        }
    /* the face is ~15 cm wide: scale * 15 is about the face's width in px */
    ck_assert(p->scale * 15 > 0.6 * face_size(&lm) && p->scale * 15 < 1.6 * face_size(&lm));
    /* the posed canonical face lies on the landmarks */
    double res = 0;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        const float *v = canon->vertices[i];
        double q[3];
        for (int k = 0; k < 3; k++)
            q[k] = p->scale * (r[3 * k] * v[0] + r[3 * k + 1] * v[1] + r[3 * k + 2] * v[2]) + p->translation[k];
        res += hypot(q[0] - lm.points[i][0], q[1] - lm.points[i][1]);
    }
    res /= FS_MESH_LANDMARKS;
    printf("canonical face on the landmarks: mean %.2f px (%.1f %% of face size)\n", res,
           100 * res / face_size(&lm));
    ck_assert(res < 0.05 * face_size(&lm));
    free(canon);
    fs_detector_destroy(det);
    fs_image_free(&img);
    fs_fitter_destroy(fit);
    fs_context_destroy(ctx);
}
END_TEST

/*
 * Roll alignment on turned copies (issue 2, item 6). Each face of the test
 * photos is fitted upright; the photo is turned by 30, 60 (bilinear), 90 and
 * 180 degrees (exact), the detection turned with it, and the face fitted
 * again. With FS_FITTER_ALIGN_ROLL the landmarks, turned back, stay on the
 * upright ones and the pose's roll follows the turn; the axis-aligned crop
 * (the reference) loses the face or lands far off from 60 degrees on.
 */
START_TEST(roll_alignment_on_turned_copies)
{
    fs_context *ctx = fs_test_new_context();
    fs_fitter *fit = fs_test_new_fitter(ctx);
    fs_detector *det = fs_test_new_detector(ctx);
    const fs_engine *ops = fs_context_engine(ctx);
    static const char *files[] = {"astronaut.png", "messi5.jpg", "faceapi_sample5.jpg"};
    static const int angles[] = {30, 60, 90, 180};
    double roll_mean[4] = {0}, roll_max[4] = {0}, roll_dpose[4] = {0};
    double none_mean[4] = {0};
    int none_lost[4] = {0}, none_far[4] = {0}, faces = 0;
    for (int fi = 0; fi < 3; fi++) {
        fs_image img;
        fs_test_load_image(ctx, files[fi], &img);
        fs_face_box fb[8];
        const int n = detect(det, &img, fb, 8);
        for (int k = 0; k < n; k++) {
            fs_face_landmarks up;
            FS_ASSERT_OK(fs_fitter_set(fit, FS_FITTER_ALIGN, FS_FITTER_ALIGN_ROLL));
            if (fs_fitter_run(fit, &img, &fb[k], &up) != FS_OK)
                continue;
            faces++;
            const double size = face_size(&up);
            for (int a = 0; a < 4; a++) {
                pu_image v;
                ck_assert(angles[a] % 90 == 0 ? pu_rotate90(&img, angles[a] / 90, &v)
                                              : pu_rotate(ops, &img, angles[a], &v));
                const fs_face_box turned = map_box(&fb[k], &v);
                fs_face_landmarks lm;
                double mean, max;
                FS_ASSERT_OK(fs_fitter_set(fit, FS_FITTER_ALIGN, FS_FITTER_ALIGN_ROLL));
                const fs_status st = fs_fitter_run(fit, &v.img, &turned, &lm);
                ck_assert_msg(st == FS_OK, "%s face %d at %d degrees: %s", files[fi], k, angles[a],
                              fs_status_name(st));
                landmark_error(&lm, &v, &up, &mean, &max);
                roll_mean[a] += mean / size;
                roll_max[a] = fmax(roll_max[a], max / size);
                const double dr = fabs(wrap_deg(lm.pose.roll - up.pose.roll - angles[a]));
                roll_dpose[a] = fmax(roll_dpose[a], dr);
                /* resampling a turned copy blurs a small face: a pixel of slack */
                ck_assert_msg(mean < fmax(0.01 * size, 1.0) && max < fmax(0.04 * size, 3.0),
                              "%s face %d at %d: mean %.2f max %.2f px (face %.0f px)", files[fi], k,
                              angles[a], mean, max, size);
                ck_assert_msg(dr < 2.0, "%s face %d at %d: roll %.1f, upright %.1f", files[fi], k,
                              angles[a], (double)lm.pose.roll, (double)up.pose.roll);

                FS_ASSERT_OK(fs_fitter_set(fit, FS_FITTER_ALIGN, FS_FITTER_ALIGN_NONE));
                if (fs_fitter_run(fit, &v.img, &turned, &lm) != FS_OK) {
                    none_lost[a]++;
                } else {
                    landmark_error(&lm, &v, &up, &mean, &max);
                    none_mean[a] += mean / size;
                    none_far[a] += mean > 0.1 * size;
                }
                pu_free(&v);
            }
        }
        fs_image_free(&img);
    }
    ck_assert_int_eq(faces, 7); /* astronaut 1, messi5 1, faceapi_sample5 5 */
    printf("\n| turn | faces | roll-aligned: mean / max error (%% of face size), roll error (deg) | "
           "axis-aligned: lost, > 10 %% off, mean error of the rest |\n| --- | ---: | ---: | ---: |\n");
    for (int a = 0; a < 4; a++) {
        const int kept = faces - none_lost[a];
        printf("| %d | %d | %.2f %% / %.2f %%, %.2f | %d, %d, %.1f %% |\n", angles[a], faces,
               100 * roll_mean[a] / faces, 100 * roll_max[a], roll_dpose[a], none_lost[a],
               none_far[a], kept ? 100 * none_mean[a] / kept : 0.0);
        if (angles[a] >= 90) /* the reference crop fails on every face */
            ck_assert_int_eq(none_lost[a] + none_far[a], faces);
    }
    ck_assert_int_ge(none_lost[1] + none_far[1], faces / 2); /* and on most at 60 */
    fflush(stdout);
    fs_detector_destroy(det);
    fs_fitter_destroy(fit);
    fs_context_destroy(ctx);
}
END_TEST

/* The whole pipeline on an upside-down photo: the upright detector pass
 * misplaces the eye keypoints (the face looks upright to BlazeFace), so the
 * fit lands on an upright mesh over an upside-down face; with
 * FS_DETECTOR_ROTATIONS the keypoints follow the face and the fit holds. */
START_TEST(upside_down_pipeline)
{
    fs_context *ctx = fs_test_new_context();
    fs_fitter *fit = fs_test_new_fitter(ctx);
    fs_detector *det = fs_test_new_detector(ctx);
    fs_image img;
    fs_test_load_image(ctx, "astronaut.png", &img);
    fs_face_box fb;
    ck_assert_int_eq(detect(det, &img, &fb, 1), 1);
    fs_face_landmarks up, lm;
    FS_ASSERT_OK(fs_fitter_run(fit, &img, &fb, &up));
    pu_image v;
    ck_assert(pu_rotate90(&img, 2, &v));
    double mean[2], max;
    for (int rot = 0; rot < 2; rot++) {
        FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_ROTATIONS, rot));
        ck_assert_int_ge(detect(det, &v.img, &fb, 1), 1);
        FS_ASSERT_OK(fs_fitter_run(fit, &v.img, &fb, &lm));
        landmark_error(&lm, &v, &up, &mean[rot], &max);
        printf("upside down, rotations %d: detector score %.3f, landmarks mean %.1f px from upright, "
               "roll %.1f\n", rot, (double)fb.score, mean[rot], (double)lm.pose.roll);
    }
    ck_assert(mean[0] > 0.2 * face_size(&up));
    ck_assert(mean[1] < 0.02 * face_size(&up));
    pu_free(&v);
    fs_detector_destroy(det);
    fs_image_free(&img);
    fs_fitter_destroy(fit);
    fs_context_destroy(ctx);
}
END_TEST

/* Distance (192-px crop units) between the iris model's eye contour
 * (EyeUpper0 + EyeLower0) and FaceMesh's own, per eye, for the last run. */
static void contour_distance(const fs_fitter *fit, const fs_iris_flip *flip, double d[2])
{
    size_t count;
    const float *mesh = fs_fitter_tensor(fit, "mesh_1404", &count);
    const float *iris = fs_fitter_tensor(fit, "iris_output", &count);
    static double rc[FS_LANDMARKS][3];
    for (int i = 0; i < FS_MESH_LANDMARKS; i++)
        for (int c = 0; c < 3; c++)
            rc[i][c] = mesh[3 * i + c];
    fs_eye_box eb[2];
    fs_eye_boxes((const double (*)[3])rc, 2.3, eb);
    for (int e = 0; e < 2; e++) {
        double s = 0;
        int n = 0;
        for (int g = 0; g < FS_EYE_GROUPS; g++) {
            const fs_eye_group *gr = &fs_eye_groups[g];
            if (strcmp(gr->key, "EyeUpper0") != 0 && strcmp(gr->key, "EyeLower0") != 0)
                continue;
            for (int j = 0; j < gr->count; j++) {
                const float *o = iris + e * FS_IRIS_POINTS * 3 + 3 * gr->iris[j];
                const double x = o[0] / 64.0, y = o[1] / 64.0;
                const double px = (flip->unflip_out[e] ? 1 - x : x) * eb[e].w + eb[e].x1;
                const double py = y * eb[e].h + eb[e].y1;
                const int m = e == 0 ? gr->left[j] : gr->right[j];
                s += hypot(px - rc[m][0], py - rc[m][1]);
                n++;
            }
        }
        d[e] = s / n;
    }
}

/*
 * Which eye crop must be mirrored for the Iris model? The right answer puts
 * the model's eye contour on FaceMesh's own. Figures over every face of the
 * test photos, for the four ways to flip, the default and Human's included.
 */
START_TEST(iris_flip_decision)
{
    fs_context *ctx = fs_test_new_context();
    fs_fitter *fit = fs_test_new_fitter(ctx);
    fs_detector *det = fs_test_new_detector(ctx);
    static const struct {
        const char *name;
        fs_iris_flip flip;
    } ways[] = {
        {"left eye flipped (default, MediaPipe)", {{1, 0}, {1, 0}}},
        {"both flipped, left un-flipped (Human 3.3.6, quirks)", {{1, 1}, {1, 0}}},
        {"both flipped and un-flipped", {{1, 1}, {1, 1}}},
        {"no flip", {{0, 0}, {0, 0}}},
    };
    static const char *files[] = {"astronaut.png", "messi5.jpg", "faceapi_sample1.jpg",
                                  "faceapi_sample2.jpg", "faceapi_sample3.jpg", "faceapi_sample4.jpg",
                                  "faceapi_sample5.jpg", "faceapi_sample6.jpg"};
    double sum[4][2] = {{0}};
    int faces = 0;
    for (size_t fi = 0; fi < sizeof(files) / sizeof(files[0]); fi++) {
        fs_image img;
        fs_test_load_image(ctx, files[fi], &img);
        fs_face_box fb[8];
        const int n = detect(det, &img, fb, 8);
        for (int k = 0; k < n; k++) {
            double d[4][2];
            int ok = 1;
            for (int w = 0; w < 4 && ok; w++) {
                fs_fitter_set_iris_flip(fit, &ways[w].flip);
                fs_face_landmarks lm;
                ok = fs_fitter_run(fit, &img, &fb[k], &lm) == FS_OK;
                if (ok)
                    contour_distance(fit, &ways[w].flip, d[w]);
            }
            if (!ok)
                continue;
            faces++;
            for (int w = 0; w < 4; w++)
                for (int e = 0; e < 2; e++)
                    sum[w][e] += d[w][e];
        }
        fs_image_free(&img);
    }
    fs_fitter_set_iris_flip(fit, NULL);
    printf("\n| iris crops | left eye | right eye |\n| --- | ---: | ---: |\n");
    for (int w = 0; w < 4; w++)
        printf("| %s | %.2f | %.2f |\n", ways[w].name, sum[w][0] / faces, sum[w][1] / faces);
    printf("(mean distance in 192-px crop units between the iris model's and FaceMesh's eye "
           "contours, %d faces)\n", faces);
    fflush(stdout);
    ck_assert_int_ge(faces, 20);
    /* The default is the best way for each eye, and better than Human's for the right eye. */
    for (int w = 1; w < 4; w++)
        for (int e = 0; e < 2; e++)
            ck_assert(sum[0][e] <= sum[w][e] + 1e-9);
    ck_assert(sum[0][1] < 0.8 * sum[1][1]);
    fs_detector_destroy(det);
    fs_fitter_destroy(fit);
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(iris_off_and_quirks)
{
    fs_context *ctx = fs_test_new_context();
    fs_fitter *fit = fs_test_new_fitter(ctx);
    fs_detector *det = fs_test_new_detector(ctx);
    golden *g = golden_read(fs_test_golden_path("astronaut.txt"));
    ck_assert_ptr_nonnull(g);
    fs_image img;
    fs_test_load_image(ctx, "astronaut.png", &img);
    fs_face_box fb;
    FS_ASSERT_OK(fs_detector_set(det, FS_DETECTOR_INPUT_MODE, FS_DETECTOR_INPUT_SQUASH));
    ck_assert_int_eq(detect(det, &img, &fb, 1), 1);
    FS_ASSERT_OK(fs_fitter_set(fit, FS_FITTER_ALIGN, FS_FITTER_ALIGN_NONE));
    fs_face_landmarks lm, quirks;
    /* without Iris: FaceMesh's points as they are, iris points at the eye centres */
    FS_ASSERT_OK(fs_fitter_set(fit, FS_FITTER_IRIS, 0));
    FS_ASSERT_OK(fs_fitter_run(fit, &img, &fb, &lm));
    for (int i = 0; i < FS_MESH_LANDMARKS; i++)
        ck_assert(hypot(lm.points[i][0] - g->faces[0].mesh468[i][0],
                        lm.points[i][1] - g->faces[0].mesh468[i][1]) < 0.01);
    for (int e = 0; e < 2; e++)
        for (int i = 1; i < 5; i++)
            ck_assert(memcmp(lm.points[468 + 5 * e], lm.points[468 + 5 * e + i], sizeof(lm.points[0])) == 0);
    ck_assert(lm.points[468][0] > lm.points[473][0]); /* left eye on the image's right */
    /* Iris on: quirks reproduce Human; the default differs only in the right eye */
    FS_ASSERT_OK(fs_fitter_set(fit, FS_FITTER_IRIS, 1));
    FS_ASSERT_OK(fs_fitter_set(fit, FS_FITTER_REFERENCE_QUIRKS, 1));
    FS_ASSERT_OK(fs_fitter_run(fit, &img, &fb, &quirks));
    FS_ASSERT_OK(fs_fitter_set(fit, FS_FITTER_REFERENCE_QUIRKS, 0));
    FS_ASSERT_OK(fs_fitter_run(fit, &img, &fb, &lm));
    for (int i = 0; i < FS_LANDMARKS; i++)
        ck_assert(hypot(quirks.points[i][0] - g->faces[0].meshfinal[i][0],
                        quirks.points[i][1] - g->faces[0].meshfinal[i][1]) < 0.01);
    int moved = 0;
    for (int i = 0; i < FS_LANDMARKS; i++)
        moved += memcmp(lm.points[i], quirks.points[i], sizeof(lm.points[i])) != 0;
    for (int g2 = 0; g2 < FS_EYE_GROUPS; g2++)
        for (int j = 0; j < fs_eye_groups[g2].count; j++)
            ck_assert(memcmp(lm.points[fs_eye_groups[g2].left[j]],
                             quirks.points[fs_eye_groups[g2].left[j]], sizeof(lm.points[0])) == 0);
    ck_assert_int_gt(moved, 50);
    golden_free(g);
    fs_image_free(&img);
    fs_detector_destroy(det);
    fs_fitter_destroy(fit);
    fs_context_destroy(ctx);
}
END_TEST

/* Tracking follows a shifted copy without a detector, in both alignments. */
START_TEST(tracking_follows_a_shift)
{
    fs_context *ctx = fs_test_new_context();
    fs_fitter *fit = fs_test_new_fitter(ctx);
    fs_detector *det = fs_test_new_detector(ctx);
    static const char *files[] = {"astronaut.png", "faceapi_sample5.jpg"};
    for (int fi = 0; fi < 2; fi++) {
        fs_image img;
        fs_test_load_image(ctx, files[fi], &img);
        fs_face_box fb[8];
        const int n = detect(det, &img, fb, 8);
        for (int align = 0; align < 2; align++) {
            FS_ASSERT_OK(fs_fitter_set(fit, FS_FITTER_ALIGN, align));
            for (int k = 0; k < n; k++) {
                fs_face_landmarks up, t;
                FS_ASSERT_OK(fs_fitter_run(fit, &img, &fb[k], &up));
                const double size = face_size(&up);
                /* same frame: the track stays on the face */
                FS_ASSERT_OK(fs_fitter_track(fit, &img, &up, &t));
                double mean, max;
                landmark_error(&t, NULL, &up, &mean, &max);
                ck_assert_msg(mean < 0.03 * size, "%s face %d: track drifts %.1f px", files[fi], k, mean);
                ck_assert(t.box.width > 0 && t.box.height > 0 && t.box.score == up.confidence);
                /* a copy moved by (-23, +14) px: the track moves with it */
                pu_image v;
                ck_assert(pu_window(&img, 23, -14, img.width, img.height, &v));
                fs_face_landmarks prev = up;
                FS_ASSERT_OK(fs_fitter_track(fit, &v.img, &prev, &prev)); /* in place */
                landmark_error(&prev, &v, &up, &mean, &max);
                if (fi == 0 || k == 0)
                    printf("%s face %d, align %d: shifted track %.2f px mean from the shifted fit "
                           "(face %.0f px)\n", files[fi], k, align, mean, size);
                ck_assert_msg(mean < 0.03 * size, "%s face %d: shifted track off by %.1f px",
                              files[fi], k, mean);
                pu_free(&v);
            }
        }
        /* a frame without the face: the track is lost, out untouched */
        fs_face_landmarks up, t, pattern;
        FS_ASSERT_OK(fs_fitter_run(fit, &img, &fb[0], &up));
        fs_image flat = img;
        flat.stride = img.width * 3;
        flat.data = calloc((size_t)img.width * (size_t)img.height, 3);
        memset(flat.data, 90, (size_t)img.width * (size_t)img.height * 3);
        memset(&pattern, 0x3c, sizeof(pattern));
        t = pattern;
        FS_ASSERT_STATUS(fs_fitter_track(fit, &flat, &up, &t), FS_ERR_NO_FACE);
        ck_assert(memcmp(&t, &pattern, sizeof(t)) == 0);
        free(flat.data);
        fs_image_free(&img);
    }
    fs_detector_destroy(det);
    fs_fitter_destroy(fit);
    fs_context_destroy(ctx);
}
END_TEST

/* fs_fitter_run_steady: the mean of the box's fits (its own crop, and for
 * a box under 160 px the box moved 3% each way too, rebuilt here as moved
 * boxes) and the fit of the image mirrored left-right, mirrored back,
 * weighed alike; the pose fitted to the result. So a face and its mirror
 * image get mirror-image landmarks (exactly for a face of 160 px or more),
 * which a single fit does not give; and a small face's landmarks move less
 * under a moved detection (boxes moved 2% four ways, as two detections of
 * the same face may differ). */
static double spread(const fs_face_landmarks *lm, int n)
{
    double mean[FS_LANDMARKS][2] = {{0}}, d = 0;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < FS_LANDMARKS; i++)
            for (int c = 0; c < 2; c++)
                mean[i][c] += lm[j].points[i][c] / n;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < FS_LANDMARKS; i++)
            d += hypot(lm[j].points[i][0] - mean[i][0], lm[j].points[i][1] - mean[i][1]);
    return d / (n * FS_LANDMARKS);
}

static fs_face_box moved_box(const fs_face_box *b, double dx, double dy)
{
    fs_face_box m = *b;
    const float ox = (float)(dx * b->width), oy = (float)(dy * b->height);
    m.x += ox;
    m.y += oy;
    for (int k = 0; k < FS_FACE_KEYPOINTS; k++) {
        m.keypoints[k][0] += ox;
        m.keypoints[k][1] += oy;
    }
    return m;
}

/* @p img mirrored left-right into a new image (pixel x to width-1-x). */
static void mirror_image(const fs_image *img, fs_image *out)
{
    *out = *img;
    out->data = malloc((size_t)img->stride * (size_t)img->height);
    ck_assert_ptr_nonnull(out->data);
    for (int y = 0; y < img->height; y++) {
        const uint8_t *s = (const uint8_t *)img->data + (size_t)y * (size_t)img->stride;
        uint8_t *d = (uint8_t *)out->data + (size_t)y * (size_t)out->stride;
        for (int x = 0; x < img->width; x++)
            memcpy(d + 3 * (size_t)(img->width - 1 - x), s + 3 * (size_t)x, 3);
    }
}

/* The box of the mirrored image's face: corners, keypoints mirrored, the
 * eyes' and ears' swapped. Boxes and landmarks put pixel x's centre at
 * x + 0.5, so the mirror of x is width - x. */
static fs_face_box mirror_box(const fs_face_box *b, int width)
{
    fs_face_box m = *b;
    m.x = (float)width - (b->x + b->width);
    static const int swap[FS_FACE_KEYPOINTS] = {1, 0, 2, 3, 5, 4};
    for (int k = 0; k < FS_FACE_KEYPOINTS; k++) {
        m.keypoints[k][0] = (float)width - b->keypoints[swap[k]][0];
        m.keypoints[k][1] = b->keypoints[swap[k]][1];
    }
    return m;
}

/* Landmarks of the mirrored image mirrored back: point i is the mirror of
 * point mirror[i] (the canonical face's map; each iris to the other). */
static void mirror_back(const fs_face_landmarks *lm, const uint16_t *mirror, int width,
                        double out[FS_LANDMARKS][2])
{
    for (int i = 0; i < FS_LANDMARKS; i++) {
        const int j = i < FS_MESH_LANDMARKS ? mirror[i] : i < FS_MESH_LANDMARKS + 5 ? i + 5 : i - 5;
        out[i][0] = (double)width - lm->points[j][0];
        out[i][1] = lm->points[j][1];
    }
}

static double mean_distance(const fs_face_landmarks *a, double b[FS_LANDMARKS][2], double *worst)
{
    double d = 0;
    *worst = 0;
    for (int i = 0; i < FS_LANDMARKS; i++) {
        const double e = hypot(a->points[i][0] - b[i][0], a->points[i][1] - b[i][1]);
        d += e;
        *worst = fmax(*worst, e);
    }
    return d / FS_LANDMARKS;
}

START_TEST(steady_fit_mirrors_and_averages)
{
    fs_context *ctx = fs_test_new_context();
    fs_fitter *fit = fs_test_new_fitter(ctx);
    fs_detector *det = fs_test_new_detector(ctx);
    uint16_t mirror[FS_MESH_LANDMARKS];
    ck_assert(fs_canonical_mirror(fs_fitter_canonical(fit), mirror) < 0.1f);
    static const char *files[] = {"messi5.jpg", "faceapi_sample1.jpg"};
    int small = 0, large = 0;
    for (int fi = 0; fi < 2; fi++) {
        fs_image img, mir;
        fs_test_load_rgb8(ctx, files[fi], &img);
        mirror_image(&img, &mir);
        fs_face_box fb[8];
        const int n = detect(det, &img, fb, 8);
        for (int k = 0; k < n; k++) {
            fs_face_landmarks one, st, mone, mst;
            const fs_face_box mb = mirror_box(&fb[k], img.width);
            if (fs_fitter_run(fit, &img, &fb[k], &one) != FS_OK ||
                fs_fitter_run(fit, &mir, &mb, &mone) != FS_OK)
                continue;
            FS_ASSERT_OK(fs_fitter_run_steady(fit, &img, &fb[k], &st));
            FS_ASSERT_OK(fs_fitter_run_steady(fit, &mir, &mb, &mst));
            ck_assert(st.confidence == one.confidence);
            const int is_small = fmaxf(fb[k].width, fb[k].height) < 160.0f;
            small += is_small;
            large += !is_small;

            /* The mean of the unmirrored fits, rebuilt. */
            static const double sh[4][2] = {{0.03, 0}, {-0.03, 0}, {0, 0.03}, {0, -0.03}};
            double mean[FS_LANDMARKS][2];
            for (int i = 0; i < FS_LANDMARKS; i++)
                for (int c = 0; c < 2; c++)
                    mean[i][c] = one.points[i][c];
            int fits = 1;
            for (int j = 0; j < 4 * is_small; j++) {
                const fs_face_box m = moved_box(&fb[k], sh[j][0], sh[j][1]);
                fs_face_landmarks o;
                if (fs_fitter_run(fit, &img, &m, &o) != FS_OK)
                    continue;
                for (int i = 0; i < FS_LANDMARKS; i++)
                    for (int c = 0; c < 2; c++)
                        mean[i][c] += o.points[i][c];
                fits++;
            }
            /* Weighed alike with the mirrored image's fit, mirrored back:
             * the library mirrors the crop instead of the image, which
             * samples the same pixels. */
            double back[FS_LANDMARKS][2], want[FS_LANDMARKS][2];
            mirror_back(&mone, mirror, img.width, back);
            for (int i = 0; i < FS_LANDMARKS; i++)
                for (int c = 0; c < 2; c++)
                    want[i][c] = 0.5 * (mean[i][c] / fits + back[i][c]);
            double worst;
            mean_distance(&st, want, &worst);
            ck_assert_msg(worst < 0.01, "%s face %d: %g px from the mean of %d fits and the mirrored one",
                          files[fi], k, worst, fits);

            /* Mirror images, mirror-image landmarks. */
            double single_worst, steady_worst;
            const double single = mean_distance(&one, back, &single_worst);
            mirror_back(&mst, mirror, img.width, back);
            const double steady = mean_distance(&st, back, &steady_worst);
            printf("%s face %d (box %.0f px): mirrored image's fit, mirrored back, %.3f px from the "
                   "fit (worst %.3f), %.5f px steadily (worst %.5f)\n",
                   files[fi], k, (double)fb[k].width, single, single_worst, steady, steady_worst);
            /* Exactly for a large face; a small one's mirrored half is one
             * crop against five, and comes nearer. */
            if (is_small)
                ck_assert_msg(2 * steady < single, "%s face %d: single fits %g px apart, steady %g",
                              files[fi], k, single, steady);
            else
                ck_assert_msg(steady_worst < 0.01 && single > 10 * steady,
                              "%s face %d: single fits %g px apart, steady %g (worst %g)", files[fi],
                              k, single, steady, steady_worst);
            if (!is_small)
                continue;

            /* Steadier under a moved detection. */
            static const double jit[4][2] = {{0.02, 0.02}, {-0.02, 0.02}, {0.02, -0.02}, {-0.02, -0.02}};
            fs_face_landmarks a[4], b[4];
            for (int j = 0; j < 4; j++) {
                const fs_face_box m = moved_box(&fb[k], jit[j][0], jit[j][1]);
                FS_ASSERT_OK(fs_fitter_run(fit, &img, &m, &a[j]));
                FS_ASSERT_OK(fs_fitter_run_steady(fit, &img, &m, &b[j]));
            }
            const double s1 = spread(a, 4), s5 = spread(b, 4);
            printf("%s face %d (box %.0f px): landmarks move %.3f px under 2%% moves of the box, "
                   "%.3f px fitted steadily (%d fits and the mirrored one)\n", files[fi], k,
                   (double)fb[k].width, s1, s5, fits);
            ck_assert_msg(s5 < s1, "%s face %d: steady %g px against %g", files[fi], k, s5, s1);
        }
        fs_image_free(&mir);
        fs_image_free(&img);
    }
    ck_assert_int_gt(small, 0);
    ck_assert_int_gt(large, 0);
    fs_detector_destroy(det);
    fs_fitter_destroy(fit);
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(runs_allocate_nothing)
{
    if (!alloc_count_available()) {
        printf("allocation counting unavailable (sanitizer build): skipped\n");
        return;
    }
    fs_context *ctx = fs_test_new_context();
    fs_fitter *fit = fs_test_new_fitter(ctx);
    fs_detector *det = fs_test_new_detector(ctx);
    fs_image img;
    fs_test_load_image(ctx, "astronaut.png", &img);
    fs_face_box fb;
    ck_assert_int_eq(detect(det, &img, &fb, 1), 1);
    fs_face_landmarks lm;
    for (int align = 0; align < 2; align++) {
        FS_ASSERT_OK(fs_fitter_set(fit, FS_FITTER_ALIGN, align));
        FS_ASSERT_OK(fs_fitter_run(fit, &img, &fb, &lm)); /* warm-up */
        FS_ASSERT_OK(fs_fitter_track(fit, &img, &lm, &lm));
        alloc_count_start();
        const fs_status a = fs_fitter_run(fit, &img, &fb, &lm);
        const fs_status b = fs_fitter_track(fit, &img, &lm, &lm);
        const long calls = alloc_count_stop();
        FS_ASSERT_OK(a);
        FS_ASSERT_OK(b);
        ck_assert_msg(calls == 0, "fit + track allocated %ld times", calls);
    }
    fs_image_free(&img);
    fs_detector_destroy(det);
    fs_fitter_destroy(fit);
    fs_context_destroy(ctx);
}
END_TEST

/* ---------------------------------------------------------------- model files */

START_TEST(model_file_checks)
{
    static const char *const files[] = {"facemesh.json", "facemesh.bin", "iris.json", "iris.bin",
                                        "face_geometry.binarypb"};
    char tmpl[] = "/tmp/fs_test_fit_models_XXXXXX";
    char *dir = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(dir);
    char p[4096];
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
        fs_test_copy_file(fs_test_model_path(files[i]), p);
    }
    fs_context *ctx = fs_test_new_context();
    FS_ASSERT_OK(fs_context_set_model_dir(ctx, dir));
    fs_fitter *fit = fs_test_new_fitter(ctx);
    fs_fitter_destroy(fit);
    fit = (fs_fitter *)(uintptr_t)0x3;

    /* every file missing in turn: FS_ERR_NOT_FOUND naming it */
    for (int i = 0; i < 5; i++) {
        char moved[4096];
        snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
        snprintf(moved, sizeof(moved), "%s/moved", dir);
        ck_assert(rename(p, moved) == 0);
        FS_ASSERT_STATUS(fs_fitter_create(ctx, &fit), FS_ERR_NOT_FOUND);
        ck_assert_msg(strstr(fs_context_last_error(ctx), files[i]) != NULL, "%s",
                      fs_context_last_error(ctx));
        ck_assert(rename(moved, p) == 0);
    }
    /* an altered canonical face: checksum error; unchecked, the reader refuses it */
    snprintf(p, sizeof(p), "%s/face_geometry.binarypb", dir);
    ck_assert(truncate(p, 5000) == 0);
    FS_ASSERT_STATUS(fs_fitter_create(ctx, &fit), FS_ERR_CHECKSUM);
    ck_assert_ptr_nonnull(strstr(fs_context_last_error(ctx), "face_geometry.binarypb"));
    FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_VERIFY_MODELS, 0));
    const fs_status st = fs_fitter_create(ctx, &fit);
    ck_assert_msg(st == FS_ERR_CORRUPT || st == FS_ERR_MODEL, "%s", fs_status_name(st));
    ck_assert_ptr_eq(fit, (fs_fitter *)(uintptr_t)0x3);
    fs_context_destroy(ctx);
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fit");
    TCase *pure = tcase_create("pure");
    tcase_add_test(pure, eye_tables_match_facemeshcoords);
    tcase_add_test(pure, canonical_face_reader);
    tcase_add_test(pure, pose_recovers_synthetic_poses);
    tcase_add_test(pure, iris_postprocess_matches_reference_tensors);
    suite_add_tcase(s, pure);
    TCase *api = tcase_create("api");
    tcase_set_timeout(api, 1200);
    tcase_add_test(api, api_contract);
    tcase_add_test(api, parameters);
    tcase_add_test(api, formats_and_tiny_images);
    tcase_add_test(api, pose_is_plausible);
    tcase_add_test(api, roll_alignment_on_turned_copies);
    tcase_add_test(api, upside_down_pipeline);
    tcase_add_test(api, iris_flip_decision);
    tcase_add_test(api, iris_off_and_quirks);
    tcase_add_test(api, tracking_follows_a_shift);
    tcase_add_test(api, steady_fit_mirrors_and_averages);
    tcase_add_test(api, runs_allocate_nothing);
    tcase_add_test(api, model_file_checks);
    suite_add_tcase(s, api);
    return fs_test_run_suite(s);
}
