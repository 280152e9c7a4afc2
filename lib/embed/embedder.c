/*
 * faceres embedder: crop as Human does, run the graph model with the
 * context's sampling family, L2-normalise the descriptor.
 */
#include "embed/embed.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect_internal.h"
#include "image/view.h"
#include "model_files.h"
#include "nn/nn.h"
#include "engine.h"

#define OUTPUT_NAME "global_pooling/Mean"

struct fs_embedder {
    fs_context *ctx;
    fs_sample_ops sample; /* the engine's sampling family (the model copied its nn) */
    fs_nn_model *model;
    float *input; /* [224][224][3] */
    int has_input;
    fs_error_buf err;
};

static fs_status create(fs_context *ctx, fs_embedder *e)
{
    e->ctx = ctx;
    const fs_engine *engine = fs_context_engine(ctx);
    e->sample = engine->sample;
    if (!e->sample.u8)
        return fs_fail(&e->err, FS_ERR_INTERNAL, "fs_embedder_create: no image sampler in the engine");
    fs_status st = fs_model_load_checked(ctx, &engine->nn, "faceres", &e->err, &e->model);
    if (st != FS_OK)
        return st;
    const fs_nn_shape in = fs_nn_model_input_shape(e->model);
    if (in.h != FS_EMBED_SIZE || in.w != FS_EMBED_SIZE || in.c != 3)
        return fs_fail(&e->err, FS_ERR_MODEL, "faceres.json: input %dx%dx%d, expected 224x224x3",
                       in.h, in.w, in.c);
    st = fs_nn_model_prepare(e->model, 1, &e->err);
    if (st != FS_OK)
        return st;
    int rank = 0;
    int64_t dims[4];
    if (fs_nn_model_output_dims(e->model, OUTPUT_NAME, &rank, dims) != FS_OK || rank != 2 ||
        dims[0] != 1 || dims[1] != FS_EMBED_DIM)
        return fs_fail(&e->err, FS_ERR_MODEL, "faceres.json: no [1,%d] output \"%s\"",
                       FS_EMBED_DIM, OUTPUT_NAME);
    e->input = malloc(sizeof(float) * FS_EMBED_SIZE * FS_EMBED_SIZE * 3);
    if (!e->input)
        return fs_fail(&e->err, FS_ERR_OUT_OF_MEMORY, "fs_embedder_create: out of memory");
    return FS_OK;
}

fs_status fs_embedder_create(fs_context *ctx, fs_embedder **out)
{
    if (!ctx)
        return FS_ERR_INVALID_ARGUMENT;
    if (!out)
        return fs_fail(fs_context_err(ctx), FS_ERR_INVALID_ARGUMENT, "fs_embedder_create: out is NULL");
    fs_embedder *e = calloc(1, sizeof(*e));
    if (!e)
        return fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_MEMORY, "fs_embedder_create: out of memory");
    const fs_status st = create(ctx, e);
    if (st != FS_OK) {
        fs_copy_error(fs_context_err(ctx), &e->err);
        fs_embedder_destroy(e);
        return st;
    }
    fs_context_clear_error(ctx);
    *out = e;
    return FS_OK;
}

void fs_embedder_destroy(fs_embedder *e)
{
    if (!e)
        return;
    fs_nn_model_destroy(e->model);
    free(e->input);
    free(e);
}

const char *fs_embedder_last_error(const fs_embedder *e)
{
    return e ? e->err.text : "";
}

int fs_embed_crop_box(const fs_face_landmarks *lm, double box[4])
{
    if (!lm || !box)
        return 0;
    /* The 468 mesh points only: the iris points lie inside them anyway. */
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        const double x = lm->points[i][0], y = lm->points[i][1];
        if (!isfinite(x) || !isfinite(y))
            return 0;
        x0 = fmin(x0, x);
        x1 = fmax(x1, x);
        y0 = fmin(y0, y);
        y1 = fmax(y1, y);
    }
    const double side = fmax(x1 - x0, y1 - y0);
    /* Bound the side so that the rounded corners below stay exact doubles. */
    if (!(side >= 4.0) || side > 1e7)
        return 0;
    const double half = FS_EMBED_CROP_FACTOR * side / 2.0;
    const double cx = (x0 + x1) / 2.0, cy = (y0 + y1) / 2.0;
    /* Corners rounded as Human's squarifyBox does (Math.round). */
    box[0] = fs_js_round(cx - half);
    box[1] = fs_js_round(cy - half);
    box[2] = fs_js_round(cx + half);
    box[3] = fs_js_round(cy + half);
    return 1;
}

static fs_status check_image(fs_embedder *e, const fs_image *image)
{
    return fs_image_view_check(e->ctx, image, "fs_embedder_run", &e->err);
}

static fs_status run_crop(fs_embedder *e, const fs_image *image, const double box[4],
                          float out[FS_EMBED_DIM])
{
    const double w = image->width, h = image->height;
    if (!(box[2] > box[0] && box[3] > box[1]) || box[2] < 0 || box[3] < 0 || box[0] > w - 1 ||
        box[1] > h - 1)
        return fs_fail(&e->err, FS_ERR_INVALID_ARGUMENT,
                       "fs_embedder_run: crop [%g, %g, %g, %g] is empty or outside the %dx%d image",
                       box[0], box[1], box[2], box[3], image->width, image->height);
    /* As Human's cutAndResize: the box normalised by the image size as
     * float32, sampled with zero beyond the image. Values stay 0..255:
     * Human divides by 255 for FaceMesh, then faceres multiplies by 255. */
    fs_sample_desc d;
    fs_sample_desc_crop(&d, image->width, image->height, (float)(box[1] / h), (float)(box[0] / w),
                        (float)(box[3] / h), (float)(box[2] / w), FS_EMBED_SIZE, FS_EMBED_SIZE);
    fs_exec ex;
    fs_context_exec(e->ctx, &e->err, &ex);
    fs_status st = e->sample.u8(&ex, (const uint8_t *)image->data, image->width, image->height,
                                image->stride, image->format, &d, e->input);
    if (st != FS_OK)
        return st;
    e->has_input = 1;
    st = fs_nn_model_run(e->model, &ex, e->input);
    if (st != FS_OK)
        return st;
    const float *desc = NULL;
    fs_nn_shape shape;
    st = fs_nn_model_output(e->model, OUTPUT_NAME, &desc, &shape);
    if (st != FS_OK)
        return fs_fail(&e->err, st, "fs_embedder_run: no output %s", OUTPUT_NAME);
    double ss = 0.0;
    for (int i = 0; i < FS_EMBED_DIM; i++)
        ss += (double)desc[i] * desc[i];
    if (!(ss > 0.0) || !isfinite(ss))
        return fs_fail(&e->err, FS_ERR_INTERNAL,
                       "fs_embedder_run: descriptor norm^2 %g is zero or not finite", ss);
    const double inv = 1.0 / sqrt(ss);
    for (int i = 0; i < FS_EMBED_DIM; i++)
        out[i] = (float)(desc[i] * inv);
    fs_clear_error(&e->err);
    return FS_OK;
}

fs_status fs_embedder_run_box(fs_embedder *e, const fs_image *image, const double box[4],
                              float out[FS_EMBED_DIM])
{
    if (!e)
        return FS_ERR_INVALID_ARGUMENT;
    if (!box || !out)
        return fs_fail(&e->err, FS_ERR_INVALID_ARGUMENT, "fs_embedder_run: box or out is NULL");
    for (int i = 0; i < 4; i++)
        if (!isfinite(box[i]) || fabs(box[i]) > 1e7)
            return fs_fail(&e->err, FS_ERR_INVALID_ARGUMENT,
                           "fs_embedder_run: crop corner %d is not finite or out of range", i);
    const fs_status st = check_image(e, image);
    if (st != FS_OK)
        return st;
    return run_crop(e, image, box, out);
}

fs_status fs_embedder_run(fs_embedder *e, const fs_image *image, const fs_face_landmarks *lm,
                          float out[FS_EMBED_DIM])
{
    if (!e)
        return FS_ERR_INVALID_ARGUMENT;
    if (!lm || !out)
        return fs_fail(&e->err, FS_ERR_INVALID_ARGUMENT, "fs_embedder_run: landmarks or out is NULL");
    const fs_status st = check_image(e, image);
    if (st != FS_OK)
        return st;
    double box[4];
    if (!fs_embed_crop_box(lm, box))
        return fs_fail(&e->err, FS_ERR_INVALID_ARGUMENT,
                       "fs_embedder_run: landmarks not finite or their extent is under 4 px");
    return run_crop(e, image, box, out);
}

const float *fs_embedder_input(const fs_embedder *e)
{
    return e && e->has_input ? e->input : NULL;
}

double fs_embedding_cosine(const float *a, const float *b)
{
    if (!a || !b)
        return 0.0;
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (int i = 0; i < FS_EMBED_DIM; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    if (!(aa > 0.0) || !(bb > 0.0))
        return 0.0;
    return ab / sqrt(aa * bb);
}
