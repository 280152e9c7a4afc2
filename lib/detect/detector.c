/*
 * fs_detector: BlazeFace (the "front" 256x256 model of @vladmandic/human
 * 3.3.6) with the post-processing of golden.js / Human: anchors, sigmoid,
 * greedy NMS, detector pixels -> image pixels.
 */
#include "detect/detect_internal.h"
#include "image/view.h"
#include "model_files.h"
#include "param.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define MAX_FACES_LIMIT 100
#define MAX_TURN_ANGLE (60.0 * 3.14159265358979323846 / 180.0)

/* Default input mode: see doc/detector-input.md for the figures behind it. */
#define DEFAULT_INPUT_MODE FS_DETECTOR_INPUT_LETTERBOX

struct fs_detector {
    fs_context *ctx;
    fs_sample_ops sample;       /* the engine's sampling family (the model copied its nn) */
    fs_nn_model *model;
    fs_error_buf err;
    fs_exec ex;                 /* of the run in progress: the context's pool, err */

    double score_threshold;
    double nms_threshold;
    int max_faces;
    int input_mode;
    int rotations;

    /* output names of the model, by role */
    const char *out_score16, *out_reg16, *out_score32, *out_reg32;

    /* per-run buffers, allocated once */
    float *input;               /* [256][256][3] */
    float *rows;                /* [896][17] */
    double anchors[FS_DET_ANCHORS * 2];
    double boxes[FS_DET_ANCHORS * 4];
    double scores[FS_DET_ANCHORS];
    int order[FS_DET_ANCHORS];
    int selected[MAX_FACES_LIMIT];

    /* FS_DETECTOR_ROTATIONS: candidates of the four quarter turns, image px;
     * allocated when the parameter is first set */
    int n_cand;
    double *cand_box;           /* [4 * 896][4] */
    double *cand_score;         /* [4 * 896] */
    float *cand_kp;             /* [4 * 896][12] */
    int *cand_order;            /* [4 * 896] */
};

/* ---------------------------------------------------------------- pure post-processing */

void fs_det_anchors(double *anchors)
{
    /* Human's generateAnchors for a 256 input: strides 16 and 32 with 2 and
     * 6 anchors per cell, every anchor at its cell's centre. */
    static const int strides[2] = {16, 32};
    static const int per_cell[2] = {2, 6};
    int k = 0;
    for (int s = 0; s < 2; s++) {
        const int cells = (FS_DET_SIZE + strides[s] - 1) / strides[s];
        for (int gy = 0; gy < cells; gy++)
            for (int gx = 0; gx < cells; gx++)
                for (int a = 0; a < per_cell[s]; a++) {
                    anchors[2 * k] = strides[s] * (gx + 0.5);
                    anchors[2 * k + 1] = strides[s] * (gy + 0.5);
                    k++;
                }
    }
}

void fs_det_gather(const float *score16, const float *reg16, const float *score32,
                   const float *reg32, float *rows)
{
    for (int i = 0; i < 512; i++) {
        rows[i * FS_DET_COLS] = score16[i];
        memcpy(rows + i * FS_DET_COLS + 1, reg16 + i * 16, 16 * sizeof(float));
    }
    for (int i = 0; i < 384; i++) {
        rows[(512 + i) * FS_DET_COLS] = score32[i];
        memcpy(rows + (512 + i) * FS_DET_COLS + 1, reg32 + i * 16, 16 * sizeof(float));
    }
}

void fs_det_decode(const float *rows, const double *anchors, double *boxes, double *scores)
{
    for (int i = 0; i < FS_DET_ANCHORS; i++) {
        const float *r = rows + i * FS_DET_COLS;
        const double cx = (double)r[1] + anchors[2 * i];
        const double cy = (double)r[2] + anchors[2 * i + 1];
        const double w = r[3], h = r[4];
        double *const b = boxes + 4 * i;
        b[0] = cx - w / 2;
        b[1] = cy - h / 2;
        b[2] = cx + w / 2;
        b[3] = cy + h / 2;
        scores[i] = 1.0 / (1.0 + exp(-(double)r[0]));
    }
}

double fs_det_iou(const double a[4], const double b[4])
{
    const double xa1 = fmin(a[0], a[2]), ya1 = fmin(a[1], a[3]);
    const double xa2 = fmax(a[0], a[2]), ya2 = fmax(a[1], a[3]);
    const double xb1 = fmin(b[0], b[2]), yb1 = fmin(b[1], b[3]);
    const double xb2 = fmax(b[0], b[2]), yb2 = fmax(b[1], b[3]);
    const double area_a = (ya2 - ya1) * (xa2 - xa1);
    const double area_b = (yb2 - yb1) * (xb2 - xb1);
    if (!(area_a > 0) || !(area_b > 0))
        return 0.0;
    const double iw = fmax(fmin(xa2, xb2) - fmax(xa1, xb1), 0.0);
    const double ih = fmax(fmin(ya2, yb2) - fmax(ya1, yb1), 0.0);
    const double inter = iw * ih;
    return inter / (area_a + area_b - inter);
}

int fs_det_nms(const double *boxes, const double *scores, int n, int max_out,
               double iou_thr, double score_thr, int *order, int *selected)
{
    int cand = 0;
    for (int i = 0; i < n; i++)
        if (scores[i] > score_thr)
            order[cand++] = i;
    /* Insertion sort: stable, so ties keep the lower index first, and the
     * candidate list is short (a few dozen at most in practice). */
    for (int i = 1; i < cand; i++) {
        const int v = order[i];
        int j = i - 1;
        while (j >= 0 && scores[order[j]] < scores[v]) {
            order[j + 1] = order[j];
            j--;
        }
        order[j + 1] = v;
    }
    int kept = 0;
    for (int c = 0; c < cand && kept < max_out; c++) {
        const int i = order[c];
        int keep = 1;
        for (int k = 0; k < kept && keep; k++)
            if (fs_det_iou(boxes + 4 * i, boxes + 4 * selected[k]) > iou_thr)
                keep = 0;
        if (keep)
            selected[kept++] = i;
    }
    return kept;
}

void fs_det_face(const float *rows, const double *anchors, const double *boxes,
                 const double *scores, int index, const fs_det_map *map, fs_face_box *out)
{
    const float *r = rows + index * FS_DET_COLS;
    const double *b = boxes + 4 * index;
    const double x1 = b[0] * map->scale_x + map->offset_x;
    const double y1 = b[1] * map->scale_y + map->offset_y;
    const double x2 = b[2] * map->scale_x + map->offset_x;
    const double y2 = b[3] * map->scale_y + map->offset_y;
    memset(out, 0, sizeof(*out));
    out->x = (float)x1;
    out->y = (float)y1;
    out->width = (float)(x2 - x1);
    out->height = (float)(y2 - y1);
    out->score = (float)scores[index];
    for (int k = 0; k < FS_FACE_KEYPOINTS; k++) {
        out->keypoints[k][0] =
            (float)(((double)r[5 + 2 * k] + anchors[2 * index]) * map->scale_x + map->offset_x);
        out->keypoints[k][1] =
            (float)(((double)r[6 + 2 * k] + anchors[2 * index + 1]) * map->scale_y + map->offset_y);
    }
}

/* ---------------------------------------------------------------- parameters */

#define DET_PARAM(p, min, max, def, integer, storage, field) \
    [p] = {(min), (max), (def), (integer), (storage), offsetof(fs_detector, field)}

static const fs_param_def det_defs[] = {
    DET_PARAM(FS_DETECTOR_SCORE_THRESHOLD, 0.0, 1.0, 0.2, 0, FS_PARAM_DOUBLE, score_threshold),
    DET_PARAM(FS_DETECTOR_NMS_THRESHOLD, 0.0, 1.0, 0.1, 0, FS_PARAM_DOUBLE, nms_threshold),
    DET_PARAM(FS_DETECTOR_MAX_FACES, 1, MAX_FACES_LIMIT, 10, 1, FS_PARAM_INT, max_faces),
    DET_PARAM(FS_DETECTOR_INPUT_MODE, FS_DETECTOR_INPUT_SQUASH, FS_DETECTOR_INPUT_LETTERBOX,
              DEFAULT_INPUT_MODE, 1, FS_PARAM_INT, input_mode),
    DET_PARAM(FS_DETECTOR_ROTATIONS, 0, 1, 0, 1, FS_PARAM_INT, rotations),
};
static const fs_param_table det_params = FS_PARAM_TABLE("fs_detector_set", det_defs);

fs_status fs_detector_param_bounds(fs_detector_param param, double *min, double *max)
{
    return fs_param_bounds(&det_params, (int)param, min, max);
}

fs_status fs_detector_param_default(fs_detector_param param, double *value)
{
    return fs_param_default(&det_params, (int)param, value);
}

fs_status fs_detector_set(fs_detector *det, fs_detector_param param, double value)
{
    if (!det)
        return FS_ERR_INVALID_ARGUMENT;
    const fs_status st = fs_param_check(&det_params, (int)param, value, &det->err);
    if (st != FS_OK)
        return st;
    if (param == FS_DETECTOR_ROTATIONS && value != 0 && !det->cand_box) {
        const size_t n = (size_t)4 * FS_DET_ANCHORS;
        det->cand_box = malloc(n * 4 * sizeof(double));
        det->cand_score = malloc(n * sizeof(double));
        det->cand_kp = malloc(n * 2 * FS_FACE_KEYPOINTS * sizeof(float));
        det->cand_order = malloc(n * sizeof(int));
        if (!det->cand_box || !det->cand_score || !det->cand_kp || !det->cand_order) {
            free(det->cand_box);
            free(det->cand_score);
            free(det->cand_kp);
            free(det->cand_order);
            det->cand_box = NULL;
            det->cand_score = NULL;
            det->cand_kp = NULL;
            det->cand_order = NULL;
            return fs_fail(&det->err, FS_ERR_OUT_OF_MEMORY, "fs_detector_set: out of memory");
        }
    }
    fs_param_store(&det_params, (int)param, det, value);
    fs_clear_error(&det->err);
    return FS_OK;
}

fs_status fs_detector_get(const fs_detector *det, fs_detector_param param, double *value)
{
    if (!det || !value || !fs_param_find(&det_params, (int)param))
        return FS_ERR_INVALID_ARGUMENT;
    *value = fs_param_load(&det_params, (int)param, det);
    return FS_OK;
}

/* ---------------------------------------------------------------- life cycle */

/* Finds the four outputs by element count (the reference sorts them by size). */
static fs_status find_outputs(fs_detector *det)
{
    const int n = fs_nn_model_output_count(det->model);
    if (n != 4)
        return fs_fail(&det->err, FS_ERR_MODEL, "blazeface.json: %d outputs, expected 4", n);
    for (int i = 0; i < n; i++) {
        const char *name = fs_nn_model_output_name(det->model, i);
        const float *data = NULL;
        fs_nn_shape shape;
        if (!name || fs_nn_model_output(det->model, name, &data, &shape) != FS_OK)
            return fs_fail(&det->err, FS_ERR_MODEL, "blazeface.json: output %d unreadable", i);
        switch (fs_nn_shape_size(shape)) {
        case 512: det->out_score16 = name; break;
        case 512 * 16: det->out_reg16 = name; break;
        case 384: det->out_score32 = name; break;
        case 384 * 16: det->out_reg32 = name; break;
        default:
            return fs_fail(&det->err, FS_ERR_MODEL,
                           "blazeface.json: output %s has %zu values, expected 512, 384, "
                           "8192 or 6144", name, fs_nn_shape_size(shape));
        }
    }
    if (!det->out_score16 || !det->out_reg16 || !det->out_score32 || !det->out_reg32)
        return fs_fail(&det->err, FS_ERR_MODEL, "blazeface.json: outputs do not match BlazeFace's");
    return FS_OK;
}

static fs_status create(fs_context *ctx, fs_detector *det)
{
    det->ctx = ctx;
    const fs_engine *engine = fs_context_engine(ctx);
    det->sample = engine->sample;
    if (!det->sample.u8)
        return fs_fail(&det->err, FS_ERR_INTERNAL, "fs_detector_create: no image sampler in the engine");
    fs_status st = fs_model_load_checked(ctx, &engine->nn, "blazeface", &det->err, &det->model);
    if (st != FS_OK)
        return st;
    const fs_nn_shape in = fs_nn_model_input_shape(det->model);
    if (in.h != FS_DET_SIZE || in.w != FS_DET_SIZE || in.c != 3)
        return fs_fail(&det->err, FS_ERR_MODEL, "blazeface.json: input %dx%dx%d, expected 256x256x3",
                       in.h, in.w, in.c);
    st = fs_nn_model_prepare(det->model, 1, &det->err);
    if (st != FS_OK)
        return st;
    st = find_outputs(det);
    if (st != FS_OK)
        return st;
    det->input = malloc(sizeof(float) * FS_DET_SIZE * FS_DET_SIZE * 3);
    det->rows = malloc(sizeof(float) * FS_DET_ANCHORS * FS_DET_COLS);
    if (!det->input || !det->rows)
        return fs_fail(&det->err, FS_ERR_OUT_OF_MEMORY, "fs_detector_create: out of memory");
    fs_det_anchors(det->anchors);
    fs_param_init(&det_params, det);
    return FS_OK;
}

fs_status fs_detector_create(fs_context *ctx, fs_detector **out)
{
    if (!ctx)
        return FS_ERR_INVALID_ARGUMENT;
    if (!out)
        return fs_fail(fs_context_err(ctx), FS_ERR_INVALID_ARGUMENT, "fs_detector_create: out is NULL");
    fs_detector *det = calloc(1, sizeof(*det));
    if (!det)
        return fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_MEMORY, "fs_detector_create: out of memory");
    const fs_status st = create(ctx, det);
    if (st != FS_OK) {
        fs_copy_error(fs_context_err(ctx), &det->err);
        fs_detector_destroy(det);
        return st;
    }
    fs_context_clear_error(ctx);
    *out = det;
    return FS_OK;
}

void fs_detector_destroy(fs_detector *det)
{
    if (!det)
        return;
    fs_nn_model_destroy(det->model);
    free(det->input);
    free(det->rows);
    free(det->cand_box);
    free(det->cand_score);
    free(det->cand_kp);
    free(det->cand_order);
    free(det);
}

const char *fs_detector_last_error(const fs_detector *det)
{
    return det ? det->err.text : "";
}

const float *fs_detector_tensor(const fs_detector *det, const char *name, size_t *count)
{
    if (!det || !name || !count)
        return NULL;
    if (strcmp(name, "detector_input") == 0) {
        *count = (size_t)FS_DET_SIZE * FS_DET_SIZE * 3;
        return det->input;
    }
    if (strcmp(name, "detector_output_896x17") == 0) {
        *count = (size_t)FS_DET_ANCHORS * FS_DET_COLS;
        return det->rows;
    }
    return NULL;
}

/* ---------------------------------------------------------------- run */

/* The sampler descriptor that fills the 256x256 input, and its inverse map. */
static void input_geometry(int mode, int width, int height, fs_sample_desc *d, fs_det_map *map)
{
    if (mode == FS_DETECTOR_INPUT_SQUASH) {
        /* tf.image.resizeBilinear(img, [256, 256]): the reference. */
        fs_sample_desc_resize(d, width, height, FS_DET_SIZE, FS_DET_SIZE);
        map->scale_x = (double)width / FS_DET_SIZE;
        map->scale_y = (double)height / FS_DET_SIZE;
        map->offset_x = map->offset_y = 0.0;
    } else {
        /* Same sampling rule along the long side; the short side is centred
         * and padded with black (a zero sample). */
        const double s = (double)(width > height ? width : height) / FS_DET_SIZE;
        memset(d, 0, sizeof(*d));
        d->out_w = d->out_h = FS_DET_SIZE;
        d->border = FS_BORDER_ZERO;
        d->m[0] = s;
        d->m[4] = s;
        d->m[2] = -(FS_DET_SIZE * s - width) / 2;
        d->m[5] = -(FS_DET_SIZE * s - height) / 2;
        if (width >= height)
            d->m[2] = 0.0;
        else
            d->m[5] = 0.0;
        map->scale_x = map->scale_y = s;
        map->offset_x = d->m[2];
        map->offset_y = d->m[5];
    }
    d->scale = (float)(1.0 / 127.5);
    d->offset = -1.0f;
}

/* Runs the network on the prepared input and decodes every anchor. */
static fs_status infer(fs_detector *det)
{
    fs_status st = fs_nn_model_run(det->model, &det->ex, det->input);
    if (st != FS_OK)
        return st;
    const float *o[4];
    const char *names[4] = {det->out_score16, det->out_reg16, det->out_score32, det->out_reg32};
    for (int i = 0; i < 4; i++) {
        fs_nn_shape shape;
        st = fs_nn_model_output(det->model, names[i], &o[i], &shape);
        if (st != FS_OK)
            return fs_fail(&det->err, FS_ERR_INTERNAL, "fs_detector_run: output %s missing", names[i]);
    }
    fs_det_gather(o[0], o[1], o[2], o[3], det->rows);
    fs_det_decode(det->rows, det->anchors, det->boxes, det->scores);
    return FS_OK;
}

/*
 * FS_DETECTOR_ROTATIONS: quarter turn k maps detector pixel (x, y) to the
 * mode's square frame by a rotation about its centre (127.5 in the
 * sampler's pixel-centre convention), then to the image as in turn 0.
 * Candidates of every turn are mapped to image px and merged by one NMS.
 */
static fs_status run_rotations(fs_detector *det, const fs_image *image)
{
    static const double turn[4][6] = {
        {1, 0, 0, 0, 1, 0},
        {0, -1, FS_DET_SIZE - 1, 1, 0, 0},
        {-1, 0, FS_DET_SIZE - 1, 0, -1, FS_DET_SIZE - 1},
        {0, 1, 0, -1, 0, FS_DET_SIZE - 1},
    };
    det->n_cand = 0;
    for (int k = 0; k < 4; k++) {
        fs_sample_desc d;
        fs_det_map map;
        input_geometry(det->input_mode, image->width, image->height, &d, &map);
        /* image = S (T p) + o with S = diag(scale), T the turn */
        double a[6];
        for (int r = 0; r < 2; r++) {
            const double sc = r ? map.scale_y : map.scale_x, off = r ? map.offset_y : map.offset_x;
            a[3 * r] = sc * turn[k][3 * r];
            a[3 * r + 1] = sc * turn[k][3 * r + 1];
            a[3 * r + 2] = sc * turn[k][3 * r + 2] + off;
        }
        if (k > 0)
            memcpy(d.m, a, sizeof(a));
        fs_status st = det->sample.u8(&det->ex, image->data, image->width, image->height,
                                      image->stride, image->format, &d, det->input);
        if (st == FS_OK)
            st = infer(det);
        if (st != FS_OK)
            return st;
        for (int i = 0; i < FS_DET_ANCHORS; i++) {
            if (!(det->scores[i] > det->score_threshold))
                continue;
            /* A turn keeps the faces it sees roughly upright (eye line within
             * 60 degrees of its x axis): the turn that sees a face most
             * upright gives its keypoints, instead of a turn in which the
             * network, confident anyway, describes a sideways face. */
            const float *row = det->rows + i * FS_DET_COLS;
            if (fabs(atan2((double)row[8] - row[6], (double)row[7] - row[5])) > MAX_TURN_ANGLE)
                continue;
            const int c = det->n_cand++;
            const double *b = det->boxes + 4 * i;
            const double x1 = a[0] * b[0] + a[1] * b[1] + a[2], y1 = a[3] * b[0] + a[4] * b[1] + a[5];
            const double x2 = a[0] * b[2] + a[1] * b[3] + a[2], y2 = a[3] * b[2] + a[4] * b[3] + a[5];
            double *cb = det->cand_box + 4 * c;
            cb[0] = fmin(x1, x2);
            cb[1] = fmin(y1, y2);
            cb[2] = fmax(x1, x2);
            cb[3] = fmax(y1, y2);
            det->cand_score[c] = det->scores[i];
            const float *r = det->rows + i * FS_DET_COLS;
            for (int p = 0; p < FS_FACE_KEYPOINTS; p++) {
                const double x = (double)r[5 + 2 * p] + det->anchors[2 * i];
                const double y = (double)r[6 + 2 * p] + det->anchors[2 * i + 1];
                det->cand_kp[12 * c + 2 * p] = (float)(a[0] * x + a[1] * y + a[2]);
                det->cand_kp[12 * c + 2 * p + 1] = (float)(a[3] * x + a[4] * y + a[5]);
            }
        }
    }
    return FS_OK;
}

fs_status fs_detector_run(fs_detector *det, const fs_image *image, fs_face_box *faces,
                          int capacity, int *count)
{
    if (!det)
        return FS_ERR_INVALID_ARGUMENT;
    if (!count)
        return fs_fail(&det->err, FS_ERR_INVALID_ARGUMENT, "fs_detector_run: count is NULL");
    if (capacity < 0 || (capacity > 0 && !faces))
        return fs_fail(&det->err, FS_ERR_INVALID_ARGUMENT,
                       "fs_detector_run: capacity %d with faces %s", capacity,
                       faces ? "set" : "NULL");
    fs_status st = fs_image_view_check(det->ctx, image, "fs_detector_run", &det->err);
    if (st != FS_OK)
        return st;
    fs_context_exec(det->ctx, &det->err, &det->ex);

    if (det->rotations) {
        st = run_rotations(det, image);
        if (st != FS_OK)
            return st;
        const int kept = fs_det_nms(det->cand_box, det->cand_score, det->n_cand, det->max_faces,
                                    det->nms_threshold, det->score_threshold, det->cand_order,
                                    det->selected);
        for (int k = 0; k < kept && k < capacity; k++) {
            const int c = det->selected[k];
            const double *b = det->cand_box + 4 * c;
            fs_face_box *f = &faces[k];
            memset(f, 0, sizeof(*f));
            f->x = (float)b[0];
            f->y = (float)b[1];
            f->width = (float)(b[2] - b[0]);
            f->height = (float)(b[3] - b[1]);
            f->score = (float)det->cand_score[c];
            memcpy(f->keypoints, det->cand_kp + 12 * c, sizeof(f->keypoints));
        }
        *count = kept;
        fs_clear_error(&det->err);
        return FS_OK;
    }

    /* The reference: one upright pass, NMS in detector pixels. */
    fs_sample_desc d;
    fs_det_map map;
    input_geometry(det->input_mode, image->width, image->height, &d, &map);
    st = det->sample.u8(&det->ex, image->data, image->width, image->height, image->stride,
                        image->format, &d, det->input);
    if (st == FS_OK)
        st = infer(det);
    if (st != FS_OK)
        return st;
    const int kept = fs_det_nms(det->boxes, det->scores, FS_DET_ANCHORS, det->max_faces,
                                det->nms_threshold, det->score_threshold, det->order,
                                det->selected);
    for (int k = 0; k < kept && k < capacity; k++)
        fs_det_face(det->rows, det->anchors, det->boxes, det->scores, det->selected[k], &map,
                    &faces[k]);
    *count = kept;
    fs_clear_error(&det->err);
    return FS_OK;
}

double fs_js_round(double x)
{
    /* floor(x + 0.5) would round 0.49999999999999994 up; this does not. */
    const double f = floor(x);
    return (x - f >= 0.5) ? f + 1.0 : f;
}
