/*
 * fs_fitter: FaceMesh (192x192) + Iris (64x64, both eyes in one batch) as
 * golden.js runDirect/runIris computes them, then the head pose by weighted
 * Procrustes against MediaPipe's canonical face.
 *
 * Two things differ from the reference by default, each with a parameter
 * that restores it:
 *  - FS_FITTER_ALIGN_ROLL turns the crop by the roll of the eye keypoints
 *    (and the landmarks back), so tilted and upside-down faces are fitted
 *    upright; FS_FITTER_ALIGN_NONE is the reference's axis-aligned crop.
 *  - The Iris model is trained on one eye side (MediaPipe flips the other
 *    eye's crop before it and the points back after it). Human 3.3.6 flips
 *    both crops but un-flips only the left eye's points, so its right-eye
 *    points come out mirrored inside the eye box. By default the right eye
 *    is not flipped at all; FS_FITTER_REFERENCE_QUIRKS = 1 restores Human's
 *    handling (doc/fitter.md has the figures).
 */
#include "fit/fit_internal.h"
#include "image/view.h"
#include "model_files.h"
#include "param.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect_internal.h"
#include "nn/nn.h"
#include "engine.h"

#define CROP_FACTOR 1.4      /* detector box -> FaceMesh crop (Human's detector.scale) */
/* fs_fitter_run_steady: faces whose detection box is under this many px
 * are fitted from five crops, the box's own and the box moved by
 * STEADY_SHIFT of its size each way, and the landmarks averaged. On a
 * small face the mesh's 192 px input is an enlarged crop, and where the
 * crop falls moves the landmarks by a larger share of the face.
 * Every face is then averaged with its crop's mirror image: FaceMesh does
 * not fit a mirrored face as the mirror of its fit (1.9-2.6 px apart on
 * faces of 138-192 px, up to 9.5 px at one point: tests/test_fit.c), and
 * the mean of the two keeps only what both see. */
#define STEADY_FACE_MAX 160.0f
#define STEADY_SHIFT 0.03
#define IRIS_FACTOR 2.3      /* eye corners -> Iris crop (Human's iris.scale) */
/* Landmark extent -> FaceMesh crop when tracking, chosen so that a track
 * crop matches the detection crop of the same face (see test_fit). */
#define TRACK_FACTOR 1.5
/* Landmarks per iris after the mesh's (its centre, then four round it). */
#define IRIS_LM ((FS_LANDMARKS - FS_MESH_LANDMARKS) / 2)

struct fs_fitter {
    fs_context *ctx;
    fs_sample_ops sample;      /* the engine's sampling family (the models copied its nn) */
    fs_error_buf err;
    fs_nn_model *mesh;
    fs_nn_model *iris;
    const char *out_flag, *out_mesh, *out_iris;
    fs_canonical_face *canon;
    /* Each landmark's mirror image: the canonical face's mirror map, and
     * the irises swapped point for point (each lists its centre, then its
     * four points in the same order from the nose's side: 469 and 474). */
    uint16_t mirror[FS_LANDMARKS];

    int align;
    double min_confidence;
    int iris_on;
    int quirks;
    fs_iris_flip flip_override;
    int flip_override_on;

    /* per-run buffers, allocated once */
    float *mesh_in;   /* [192][192][3] */
    float *iris_in;   /* [2][64][64][3] */
    double rc[FS_LANDMARKS][3];
    float mesh_raw[FS_MESH_LANDMARKS * 3];
    float iris_raw[2 * FS_IRIS_POINTS * 3];
    float flag_raw;
    fs_face_landmarks result;
};

/* ---------------------------------------------------------------- parameters */

#define FIT_PARAM(p, min, max, def, integer, storage, field) \
    [p] = {(min), (max), (def), (integer), (storage), offsetof(fs_fitter, field)}

static const fs_param_def fit_defs[] = {
    FIT_PARAM(FS_FITTER_ALIGN, FS_FITTER_ALIGN_NONE, FS_FITTER_ALIGN_ROLL, FS_FITTER_ALIGN_ROLL, 1,
              FS_PARAM_INT, align),
    FIT_PARAM(FS_FITTER_MIN_CONFIDENCE, 0.0, 1.0, 0.2, 0, FS_PARAM_DOUBLE, min_confidence),
    FIT_PARAM(FS_FITTER_IRIS, 0, 1, 1, 1, FS_PARAM_INT, iris_on),
    FIT_PARAM(FS_FITTER_REFERENCE_QUIRKS, 0, 1, 0, 1, FS_PARAM_INT, quirks),
};
static const fs_param_table fit_params = FS_PARAM_TABLE("fs_fitter_set", fit_defs);

fs_status fs_fitter_param_bounds(fs_fitter_param param, double *min, double *max)
{
    return fs_param_bounds(&fit_params, (int)param, min, max);
}

fs_status fs_fitter_param_default(fs_fitter_param param, double *value)
{
    return fs_param_default(&fit_params, (int)param, value);
}

fs_status fs_fitter_set(fs_fitter *fit, fs_fitter_param param, double value)
{
    if (!fit)
        return FS_ERR_INVALID_ARGUMENT;
    const fs_status st = fs_param_check(&fit_params, (int)param, value, &fit->err);
    if (st != FS_OK)
        return st;
    fs_param_store(&fit_params, (int)param, fit, value);
    fs_clear_error(&fit->err);
    return FS_OK;
}

fs_status fs_fitter_get(const fs_fitter *fit, fs_fitter_param param, double *value)
{
    if (!fit || !value || !fs_param_find(&fit_params, (int)param))
        return FS_ERR_INVALID_ARGUMENT;
    *value = fs_param_load(&fit_params, (int)param, fit);
    return FS_OK;
}

void fs_fitter_set_iris_flip(fs_fitter *fit, const fs_iris_flip *flip)
{
    if (!fit)
        return;
    fit->flip_override_on = flip != NULL;
    if (flip)
        fit->flip_override = *flip;
}

/* ---------------------------------------------------------------- life cycle */

/* Finds an output of @p m by its element count per batch item. */
static const char *output_by_size(fs_nn_model *m, size_t want, int batch)
{
    const int n = fs_nn_model_output_count(m);
    for (int i = 0; i < n; i++) {
        const char *name = fs_nn_model_output_name(m, i);
        const float *data;
        fs_nn_shape shape;
        if (name && fs_nn_model_output(m, name, &data, &shape) == FS_OK &&
            fs_nn_shape_size(shape) == want * (size_t)batch)
            return name;
    }
    return NULL;
}

static fs_status load_model(fs_fitter *fit, const char *base, int side, int batch,
                            fs_nn_model **out)
{
    fs_status st =
        fs_model_load_checked(fit->ctx, &fs_context_engine(fit->ctx)->nn, base, &fit->err, out);
    if (st != FS_OK)
        return st;
    const fs_nn_shape in = fs_nn_model_input_shape(*out);
    if (in.h != side || in.w != side || in.c != 3)
        return fs_fail(&fit->err, FS_ERR_MODEL, "%s.json: input %dx%dx%d, expected %dx%dx3", base,
                       in.h, in.w, in.c, side, side);
    return fs_nn_model_prepare(*out, batch, &fit->err);
}

static fs_status create(fs_context *ctx, fs_fitter *fit)
{
    fit->ctx = ctx;
    fit->sample = fs_context_engine(ctx)->sample;
    if (!fit->sample.u8 || !fit->sample.f32)
        return fs_fail(&fit->err, FS_ERR_INTERNAL, "fs_fitter_create: no image sampler in the engine");
    fs_status st = load_model(fit, "facemesh", FS_MESH_SIZE, 1, &fit->mesh);
    if (st != FS_OK)
        return st;
    fit->out_flag = output_by_size(fit->mesh, 1, 1);
    fit->out_mesh = output_by_size(fit->mesh, FS_MESH_LANDMARKS * 3, 1);
    if (!fit->out_flag || !fit->out_mesh)
        return fs_fail(&fit->err, FS_ERR_MODEL, "facemesh.json: no [1] face flag and [1404] mesh outputs");
    st = load_model(fit, "iris", FS_IRIS_SIZE, 2, &fit->iris);
    if (st != FS_OK)
        return st;
    fit->out_iris = output_by_size(fit->iris, FS_IRIS_POINTS * 3, 2);
    if (!fit->out_iris)
        return fs_fail(&fit->err, FS_ERR_MODEL, "iris.json: no [228] output");

    fit->canon = malloc(sizeof(*fit->canon));
    st = fit->canon ? fs_canonical_face_load(ctx, fit->canon, &fit->err)
                    : fs_fail(&fit->err, FS_ERR_OUT_OF_MEMORY, "fs_fitter_create: out of memory");
    if (st != FS_OK)
        return st;

    const float asym = fs_canonical_mirror(fit->canon, fit->mirror);
    if (asym > 0.1f)
        return fs_fail(&fit->err, FS_ERR_MODEL, "canonical face: not symmetric (%.3f cm off)",
                       (double)asym);
    for (int e = 0; e < 2; e++)
        for (int j = 0; j < IRIS_LM; j++)
            fit->mirror[FS_MESH_LANDMARKS + IRIS_LM * e + j] =
                (uint16_t)(FS_MESH_LANDMARKS + IRIS_LM * (1 - e) + j);
    fit->mesh_in = malloc(sizeof(float) * FS_MESH_SIZE * FS_MESH_SIZE * 3);
    fit->iris_in = malloc(sizeof(float) * 2 * FS_IRIS_SIZE * FS_IRIS_SIZE * 3);
    if (!fit->mesh_in || !fit->iris_in)
        return fs_fail(&fit->err, FS_ERR_OUT_OF_MEMORY, "fs_fitter_create: out of memory");
    fs_param_init(&fit_params, fit);
    return FS_OK;
}

fs_status fs_fitter_create(fs_context *ctx, fs_fitter **out)
{
    if (!ctx)
        return FS_ERR_INVALID_ARGUMENT;
    if (!out)
        return fs_fail(fs_context_err(ctx), FS_ERR_INVALID_ARGUMENT, "fs_fitter_create: out is NULL");
    fs_fitter *fit = calloc(1, sizeof(*fit));
    if (!fit)
        return fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_MEMORY, "fs_fitter_create: out of memory");
    const fs_status st = create(ctx, fit);
    if (st != FS_OK) {
        fs_copy_error(fs_context_err(ctx), &fit->err);
        fs_fitter_destroy(fit);
        return st;
    }
    fs_context_clear_error(ctx);
    *out = fit;
    return FS_OK;
}

void fs_fitter_destroy(fs_fitter *fit)
{
    if (!fit)
        return;
    fs_nn_model_destroy(fit->mesh);
    fs_nn_model_destroy(fit->iris);
    free(fit->canon);
    free(fit->mesh_in);
    free(fit->iris_in);
    free(fit);
}

const char *fs_fitter_last_error(const fs_fitter *fit)
{
    return fit ? fit->err.text : "";
}

const float *fs_fitter_tensor(const fs_fitter *fit, const char *name, size_t *count)
{
    if (!fit || !name || !count)
        return NULL;
    if (strcmp(name, "mesh_input") == 0) {
        *count = FS_MESH_SIZE * FS_MESH_SIZE * 3;
        return fit->mesh_in;
    }
    if (strcmp(name, "iris_input") == 0) {
        *count = 2 * FS_IRIS_SIZE * FS_IRIS_SIZE * 3;
        return fit->iris_in;
    }
    if (strcmp(name, "mesh_1404") == 0) {
        *count = FS_MESH_LANDMARKS * 3;
        return fit->mesh_raw;
    }
    if (strcmp(name, "faceflag") == 0) {
        *count = 1;
        return &fit->flag_raw;
    }
    if (strcmp(name, "iris_output") == 0) {
        *count = 2 * FS_IRIS_POINTS * 3;
        return fit->iris_raw;
    }
    return NULL;
}

/* ---------------------------------------------------------------- the fit */

static fs_iris_flip iris_flip_of(const fs_fitter *fit)
{
    if (fit->flip_override_on)
        return fit->flip_override;
    if (fit->quirks)
        return (fs_iris_flip){{1, 1}, {1, 0}}; /* Human 3.3.6 */
    return (fs_iris_flip){{1, 0}, {1, 0}};     /* MediaPipe: only the left eye is mirrored */
}

static int finite_box(const fs_face_box *b)
{
    if (!isfinite(b->x) || !isfinite(b->y) || !isfinite(b->width) || !isfinite(b->height) ||
        !(b->width > 0) || !(b->height > 0))
        return 0;
    for (int k = 0; k < FS_FACE_KEYPOINTS; k++)
        if (!isfinite(b->keypoints[k][0]) || !isfinite(b->keypoints[k][1]))
            return 0;
    /* Far beyond any image the pixel limit allows: refuse rather than sample nothing. */
    const double lim = 1e7;
    return fabs(b->x) < lim && fabs(b->y) < lim && b->width < lim && b->height < lim;
}

double fs_roll_from_keypoints(const fs_face_box *face)
{
    /* MediaPipe's choice: the line from the right eye to the left eye.
     * (Mixing in the eyes-to-mouth line helped one profile face and hurt
     * most others on the test photos, so it is not done.) */
    const float *r = face->keypoints[FS_KEYPOINT_RIGHT_EYE];
    const float *l = face->keypoints[FS_KEYPOINT_LEFT_EYE];
    return atan2((double)l[1] - r[1], (double)l[0] - r[0]);
}

/* Runs FaceMesh (+ Iris) on one crop and fills fit->result; with
 * @p mirrored on the crop mirrored left-right (see fs_fitter_run_steady),
 * the landmarks mirrored back. */
static fs_status fit_crop(fs_fitter *fit, const fs_image *img, const fs_crop *crop, int mirrored,
                          const char *what)
{
    fs_exec ex;
    fs_context_exec(fit->ctx, &fit->err, &ex);
    fs_sample_desc d;
    fs_crop_desc(crop, img->width, img->height, FS_MESH_SIZE, (float)(1.0 / 255.0), &d);
    d.flip_x = mirrored;
    fs_status st = fit->sample.u8(&ex, img->data, img->width, img->height, img->stride,
                                  img->format, &d, fit->mesh_in);
    if (st == FS_OK)
        st = fs_nn_model_run(fit->mesh, &ex, fit->mesh_in);
    if (st != FS_OK)
        return st;
    const float *flag, *mesh;
    fs_nn_shape shape;
    if (fs_nn_model_output(fit->mesh, fit->out_flag, &flag, &shape) != FS_OK ||
        fs_nn_model_output(fit->mesh, fit->out_mesh, &mesh, &shape) != FS_OK)
        return fs_fail(&fit->err, FS_ERR_INTERNAL, "%s: facemesh outputs missing", what);
    fit->flag_raw = flag[0];
    memcpy(fit->mesh_raw, mesh, sizeof(fit->mesh_raw));

    /* Human rounds the face score to 0.01 before comparing. */
    const double score = fs_js_round(100.0 * (double)flag[0]) / 100.0;
    if (!(score > fit->min_confidence))
        return fs_fail(&fit->err, FS_ERR_NO_FACE, "%s: face confidence %.3f not above %.3f", what,
                       (double)flag[0], fit->min_confidence);

    double (*rc)[3] = fit->rc;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++)
        for (int k = 0; k < 3; k++)
            rc[i][k] = mesh[3 * i + k];

    if (fit->iris_on) {
        fs_eye_box boxes[2];
        fs_eye_boxes((const double (*)[3])rc, IRIS_FACTOR, boxes);
        const fs_iris_flip flip = iris_flip_of(fit);
        for (int e = 0; e < 2; e++) {
            fs_sample_desc_crop(&d, FS_MESH_SIZE, FS_MESH_SIZE, (float)(boxes[e].y1 / FS_MESH_SIZE),
                                (float)(boxes[e].x1 / FS_MESH_SIZE), (float)(boxes[e].y2 / FS_MESH_SIZE),
                                (float)(boxes[e].x2 / FS_MESH_SIZE), FS_IRIS_SIZE, FS_IRIS_SIZE);
            d.flip_x = flip.flip_in[e];
            st = fit->sample.f32(&ex, fit->mesh_in, FS_MESH_SIZE, FS_MESH_SIZE, &d,
                                 fit->iris_in + (size_t)e * FS_IRIS_SIZE * FS_IRIS_SIZE * 3);
            if (st != FS_OK)
                return st;
        }
        st = fs_nn_model_run(fit->iris, &ex, fit->iris_in);
        if (st != FS_OK)
            return st;
        const float *iris;
        if (fs_nn_model_output(fit->iris, fit->out_iris, &iris, &shape) != FS_OK)
            return fs_fail(&fit->err, FS_ERR_INTERNAL, "%s: iris output missing", what);
        memcpy(fit->iris_raw, iris, sizeof(fit->iris_raw));
        fs_iris_apply(rc, iris, boxes, &flip);
    } else {
        fs_iris_from_mesh(rc);
    }

    fs_face_landmarks *res = &fit->result;
    memset(res, 0, sizeof(*res));
    for (int i = 0; i < FS_LANDMARKS; i++) {
        /* Point i of the face is the mirror of point mirror[i] of the
         * mirrored face; crop pixel k's centre lies at k + 0.5, and flip_x
         * shows column FS_MESH_SIZE - 1 - k there. */
        const double *q = rc[mirrored ? fit->mirror[i] : i];
        const double p[3] = {mirrored ? FS_MESH_SIZE - q[0] : q[0], q[1], q[2]};
        fs_crop_to_image(crop, p, res->points[i]);
        if (!isfinite(res->points[i][0]) || !isfinite(res->points[i][1]) ||
            !isfinite(res->points[i][2]))
            return fs_fail(&fit->err, FS_ERR_INTERNAL, "%s: landmark %d is not finite", what, i);
    }
    res->confidence = flag[0];
    if (!fs_pose_fit((const float (*)[3])res->points, fit->canon, &res->pose))
        memset(&res->pose, 0, sizeof(res->pose));
    res->crop[0] = (float)crop->cx;
    res->crop[1] = (float)crop->cy;
    res->crop[2] = (float)crop->size_x;
    res->crop[3] = (float)crop->angle;
    return FS_OK;
}

/* FaceMesh (+ Iris) on the crop of a detection box moved by (dx, dy) of
 * its width and height. */
static fs_status fit_box(fs_fitter *fit, const fs_image *image, const fs_face_box *face, double dx,
                         double dy, int mirrored, const char *what)
{
    double angle = 0.0;
    if (fit->align == FS_FITTER_ALIGN_ROLL)
        angle = fs_roll_from_keypoints(face);
    const double ox = dx * face->width, oy = dy * face->height;
    const double x1 = face->x + ox, y1 = face->y + oy;
    const double x2 = (double)(face->x + face->width) + ox, y2 = (double)(face->y + face->height) + oy;
    fs_crop crop;
    fs_crop_from_box(x1, y1, x2, y2, CROP_FACTOR, angle, fit->align == FS_FITTER_ALIGN_NONE, &crop);
    return fit_crop(fit, image, &crop, mirrored, what);
}

fs_status fs_fitter_run(fs_fitter *fit, const fs_image *image, const fs_face_box *face,
                        fs_face_landmarks *out)
{
    if (!fit)
        return FS_ERR_INVALID_ARGUMENT;
    if (!face || !out)
        return fs_fail(&fit->err, FS_ERR_INVALID_ARGUMENT, "fs_fitter_run: %s is NULL",
                       !face ? "face" : "out");
    fs_status st = fs_image_view_check(fit->ctx, image, "fs_fitter_run", &fit->err);
    if (st != FS_OK)
        return st;
    if (!finite_box(face))
        return fs_fail(&fit->err, FS_ERR_INVALID_ARGUMENT,
                       "fs_fitter_run: face box (%g, %g, %g x %g) is not a finite, positive box",
                       (double)face->x, (double)face->y, (double)face->width, (double)face->height);
    st = fit_box(fit, image, face, 0.0, 0.0, 0, "fs_fitter_run");
    if (st != FS_OK)
        return st;
    fit->result.box = *face;
    memcpy(out, &fit->result, sizeof(*out));
    fs_clear_error(&fit->err);
    return FS_OK;
}

/* The mean of the box's fits (one, or five for a small face), then that
 * mean and the fit of the box's own crop mirrored weighed alike. */
static fs_status steady_mean(fs_fitter *fit, const fs_image *image, const fs_face_box *face,
                             fs_face_landmarks *out)
{
    fs_status st = fs_fitter_run(fit, image, face, out);
    if (st != FS_OK)
        return st;
    double sum[FS_LANDMARKS][3];
    for (int i = 0; i < FS_LANDMARKS; i++)
        for (int k = 0; k < 3; k++)
            sum[i][k] = out->points[i][k];
    int fits = 1;
    if (fmaxf(face->width, face->height) < STEADY_FACE_MAX) {
        static const double shift[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
        for (int j = 0; j < 4; j++) {
            /* A crop the mesh rejects (too little of the face left in it) is
             * left out; the first fit stands alone if all are. */
            if (fit_box(fit, image, face, STEADY_SHIFT * shift[j][0], STEADY_SHIFT * shift[j][1], 0,
                        "fs_fitter_run_steady") != FS_OK)
                continue;
            for (int i = 0; i < FS_LANDMARKS; i++)
                for (int k = 0; k < 3; k++)
                    sum[i][k] += fit->result.points[i][k];
            fits++;
        }
    }
    /* Likewise a mirrored crop the mesh rejects. */
    const int mirrored = fit_box(fit, image, face, 0.0, 0.0, 1, "fs_fitter_run_steady") == FS_OK;
    for (int i = 0; i < FS_LANDMARKS; i++)
        for (int k = 0; k < 3; k++) {
            const double m = sum[i][k] / fits;
            out->points[i][k] = (float)(mirrored ? 0.5 * (m + fit->result.points[i][k]) : m);
        }
    return FS_OK;
}

fs_status fs_fitter_run_steady(fs_fitter *fit, const fs_image *image, const fs_face_box *face,
                               fs_face_landmarks *out)
{
    const fs_status st = steady_mean(fit, image, face, out);
    if (st != FS_OK)
        return st;
    if (!fs_pose_fit((const float (*)[3])out->points, fit->canon, &out->pose))
        memset(&out->pose, 0, sizeof(out->pose));
    memcpy(&fit->result, out, sizeof(*out));
    fs_clear_error(&fit->err);
    return FS_OK;
}

/* A detection-like box from landmarks: their extent, and keypoints at the
 * mesh points matching BlazeFace's (eye centres, nose tip, mouth, tragions). */
static void box_from_landmarks(const fs_face_landmarks *lm, fs_face_box *b)
{
    double x1 = INFINITY, y1 = INFINITY, x2 = -INFINITY, y2 = -INFINITY;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        x1 = fmin(x1, lm->points[i][0]);
        y1 = fmin(y1, lm->points[i][1]);
        x2 = fmax(x2, lm->points[i][0]);
        y2 = fmax(y2, lm->points[i][1]);
    }
    memset(b, 0, sizeof(*b));
    b->x = (float)x1;
    b->y = (float)y1;
    b->width = (float)(x2 - x1);
    b->height = (float)(y2 - y1);
    b->score = lm->confidence;
    static const int kp[FS_FACE_KEYPOINTS][2] = {{33, 133}, {263, 362}, {1, 1},
                                                 {13, 14},  {234, 234}, {454, 454}};
    for (int k = 0; k < FS_FACE_KEYPOINTS; k++)
        for (int c = 0; c < 2; c++)
            b->keypoints[k][c] = (lm->points[kp[k][0]][c] + lm->points[kp[k][1]][c]) / 2;
}

fs_status fs_fitter_track(fs_fitter *fit, const fs_image *image, const fs_face_landmarks *previous,
                          fs_face_landmarks *out)
{
    if (!fit)
        return FS_ERR_INVALID_ARGUMENT;
    if (!previous || !out)
        return fs_fail(&fit->err, FS_ERR_INVALID_ARGUMENT, "fs_fitter_track: %s is NULL",
                       !previous ? "previous" : "out");
    fs_status st = fs_image_view_check(fit->ctx, image, "fs_fitter_track", &fit->err);
    if (st != FS_OK)
        return st;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++)
        if (!isfinite(previous->points[i][0]) || !isfinite(previous->points[i][1]) ||
            fabs(previous->points[i][0]) > 1e7 || fabs(previous->points[i][1]) > 1e7)
            return fs_fail(&fit->err, FS_ERR_INVALID_ARGUMENT,
                           "fs_fitter_track: previous landmark %d is not finite", i);

    /* Roll from the outer eye corners, then the extent in the face's own
     * frame (turned by -roll about the centroid). */
    double angle = 0.0;
    if (fit->align == FS_FITTER_ALIGN_ROLL)
        angle = atan2((double)previous->points[263][1] - previous->points[33][1],
                      (double)previous->points[263][0] - previous->points[33][0]);
    const double c = cos(angle), s = sin(angle);
    double mx = 0, my = 0;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        mx += previous->points[i][0];
        my += previous->points[i][1];
    }
    mx /= FS_MESH_LANDMARKS;
    my /= FS_MESH_LANDMARKS;
    double u1 = INFINITY, v1 = INFINITY, u2 = -INFINITY, v2 = -INFINITY;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        const double dx = previous->points[i][0] - mx, dy = previous->points[i][1] - my;
        const double u = c * dx + s * dy, v = -s * dx + c * dy;
        u1 = fmin(u1, u);
        v1 = fmin(v1, v);
        u2 = fmax(u2, u);
        v2 = fmax(v2, v);
    }
    if (!(u2 - u1 > 0) || !(v2 - v1 > 0))
        return fs_fail(&fit->err, FS_ERR_INVALID_ARGUMENT,
                       "fs_fitter_track: previous landmarks have no extent");
    const double uc = (u1 + u2) / 2, vc = (v1 + v2) / 2;
    const double cx = mx + c * uc - s * vc, cy = my + s * uc + c * vc;
    const double hw = (u2 - u1) / 2, hh = (v2 - v1) / 2;
    fs_crop crop;
    fs_crop_from_box(cx - hw, cy - hh, cx + hw, cy + hh, TRACK_FACTOR, angle,
                     fit->align == FS_FITTER_ALIGN_NONE, &crop);

    fs_face_box box;
    box_from_landmarks(previous, &box);
    st = fit_crop(fit, image, &crop, 0, "fs_fitter_track");
    if (st != FS_OK)
        return st;
    fit->result.box = box;
    memcpy(out, &fit->result, sizeof(*out)); /* out may be previous: written last */
    fs_clear_error(&fit->err);
    return FS_OK;
}

const fs_canonical_face *fs_fitter_canonical(const fs_fitter *fit)
{
    return fit ? fit->canon : NULL;
}
