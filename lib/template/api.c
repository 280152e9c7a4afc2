/*
 * The public fs_template (include/faceswap/template.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "template/analyse.h"
#include "template/template_api.h"

typedef struct param_info {
    double min, max, def;
} param_info;

/* Indexed by fs_template_param; all integers. */
static const param_info template_params[] = {
    [FS_TEMPLATE_TRACK] = {-2, FS_TPL_MAX_TRACKS - 1, -1},
    [FS_TEMPLATE_REDETECT_INTERVAL] = {1, 1000, 12},
    [FS_TEMPLATE_MAX_MISS] = {0, 300, 12},
    [FS_TEMPLATE_SMOOTH] = {0, 1, 1},
    [FS_TEMPLATE_MAX_SECONDS] = {1, 3600, 600},
    [FS_TEMPLATE_MAX_FACES] = {1, FS_TPL_MAX_FACES_PER_FRAME, 4},
    [FS_TEMPLATE_JOIN_SHOTS] = {0, 1, 1},
};
#define N_PARAMS ((int)(sizeof(template_params) / sizeof(template_params[0])))

fs_status fs_template_create(fs_context *ctx, fs_template **out)
{
    if (!ctx || !out)
        return FS_ERR_INVALID_ARGUMENT;
    fs_template *t = calloc(1, sizeof(*t));
    if (!t)
        return FS_ERR_OUT_OF_MEMORY;
    t->ctx = ctx;
    fs_analyse_params_default(&t->params);
    *out = t;
    return FS_OK;
}

void fs_template_destroy(fs_template *t)
{
    if (!t)
        return;
    fs_tpl_data_free(&t->data);
    free(t);
}

fs_status fs_template_param_bounds(fs_template_param param, double *min, double *max)
{
    if ((int)param < 0 || (int)param >= N_PARAMS || !min || !max)
        return FS_ERR_INVALID_ARGUMENT;
    *min = template_params[param].min;
    *max = template_params[param].max;
    return FS_OK;
}

fs_status fs_template_set(fs_template *t, fs_template_param param, double value)
{
    if (!t)
        return FS_ERR_INVALID_ARGUMENT;
    if ((int)param < 0 || (int)param >= N_PARAMS)
        return fs_fail(&t->err, FS_ERR_INVALID_ARGUMENT, "fs_template_set: unknown parameter %d",
                       (int)param);
    const param_info *pi = &template_params[param];
    if (!(value >= pi->min && value <= pi->max) || value != floor(value))
        return fs_fail(&t->err, FS_ERR_OUT_OF_RANGE,
                       "fs_template_set: parameter %d: %g outside %g..%g (integer)", (int)param,
                       value, pi->min, pi->max);
    if (param == FS_TEMPLATE_TRACK && t->data.n_frames > 0 && value >= t->data.n_tracks)
        return fs_fail(&t->err, FS_ERR_OUT_OF_RANGE,
                       "fs_template_set: track %g: the template has %d tracks", value,
                       (int)t->data.n_tracks);
    const int v = (int)value;
    switch (param) {
    case FS_TEMPLATE_TRACK:
        t->params.track_choice = v;
        t->data.track_choice = v;
        break;
    case FS_TEMPLATE_REDETECT_INTERVAL: t->params.redetect_interval = v; break;
    case FS_TEMPLATE_MAX_MISS: t->params.max_miss = v; break;
    case FS_TEMPLATE_SMOOTH: t->params.smooth = v; break;
    case FS_TEMPLATE_MAX_SECONDS: t->params.max_seconds = v; break;
    case FS_TEMPLATE_MAX_FACES: t->params.max_faces = v; break;
    case FS_TEMPLATE_JOIN_SHOTS: t->params.join = v; break;
    }
    fs_clear_error(&t->err);
    return FS_OK;
}

fs_status fs_template_get(const fs_template *t, fs_template_param param, double *value)
{
    if (!t || !value || (int)param < 0 || (int)param >= N_PARAMS)
        return FS_ERR_INVALID_ARGUMENT;
    switch (param) {
    case FS_TEMPLATE_TRACK: *value = t->params.track_choice; break;
    case FS_TEMPLATE_REDETECT_INTERVAL: *value = t->params.redetect_interval; break;
    case FS_TEMPLATE_MAX_MISS: *value = t->params.max_miss; break;
    case FS_TEMPLATE_SMOOTH: *value = t->params.smooth; break;
    case FS_TEMPLATE_MAX_SECONDS: *value = t->params.max_seconds; break;
    case FS_TEMPLATE_MAX_FACES: *value = t->params.max_faces; break;
    case FS_TEMPLATE_JOIN_SHOTS: *value = t->params.join; break;
    }
    return FS_OK;
}

fs_status fs_template_analyse(fs_template *t, const char *path, fs_progress_fn progress, void *user)
{
    if (!t)
        return FS_ERR_INVALID_ARGUMENT;
    if (!path)
        return fs_fail(&t->err, FS_ERR_INVALID_ARGUMENT, "fs_template_analyse: NULL path");
    fs_tpl_data_free(&t->data);
    fs_detector *det = NULL;
    fs_fitter *fit = NULL;
    fs_swap_mesh *mesh = malloc(sizeof(*mesh));
    fs_status st = mesh ? FS_OK : FS_ERR_OUT_OF_MEMORY;
    if (st != FS_OK)
        fs_fail(&t->err, st, "fs_template_analyse: out of memory");
    if (st == FS_OK && (st = fs_detector_create(t->ctx, &det)) != FS_OK)
        fs_fail(&t->err, st, "fs_template_analyse: %s", fs_context_last_error(t->ctx));
    if (st == FS_OK && (st = fs_fitter_create(t->ctx, &fit)) != FS_OK)
        fs_fail(&t->err, st, "fs_template_analyse: %s", fs_context_last_error(t->ctx));
    if (st == FS_OK)
        st = fs_swap_mesh_load(t->ctx, mesh, &t->err);
    if (st == FS_OK) {
        fs_swap_params sp;
        fs_swap_params_default(&sp);
        const fs_analyse_models models = {det, fit, mesh, &sp};
        st = fs_analyse_video(t->ctx, path, &t->params, &models, progress, user, &t->data,
                              &t->err);
    }
    fs_detector_destroy(det);
    fs_fitter_destroy(fit);
    free(mesh);
    if (st == FS_OK)
        fs_clear_error(&t->err);
    return st;
}

fs_status fs_template_save_file(const fs_template *t, const char *path)
{
    if (!t || !path)
        return FS_ERR_INVALID_ARGUMENT;
    fs_error_buf *err = (fs_error_buf *)&t->err; /* the detail is the only thing written */
    uint8_t *buf = NULL;
    size_t size = 0;
    fs_status st = fs_tpl_save(&t->data, &buf, &size, err);
    if (st != FS_OK)
        return st;
    fs_atomic_file af;
    st = fs_atomic_file_open(&af, path, err);
    if (st == FS_OK) {
        const int ok = fwrite(buf, 1, size, af.f) == size;
        st = fs_atomic_file_close(&af, ok, err);
        if (st == FS_OK && !ok)
            st = fs_fail(err, FS_ERR_IO, "%s: write failed", path);
    }
    free(buf);
    return st;
}

fs_status fs_template_load_file(fs_template *t, const char *path)
{
    if (!t)
        return FS_ERR_INVALID_ARGUMENT;
    if (!path)
        return fs_fail(&t->err, FS_ERR_INVALID_ARGUMENT, "fs_template_load_file: NULL path");
    uint8_t *buf = NULL;
    size_t size = 0;
    fs_status st = fs_file_read_all(path, FS_TPL_MAX_FILE, "template files", &buf, &size, &t->err);
    if (st != FS_OK)
        return st;
    fs_tpl_data d;
    st = fs_tpl_load(buf, size, &d, &t->err);
    free(buf);
    if (st != FS_OK) {
        /* the file's name in the detail: a service loads many */
        char why[FS_ERROR_DETAIL_SIZE];
        snprintf(why, sizeof(why), "%s", t->err.text);
        return fs_fail(&t->err, st, "%s: %s", path, why);
    }
    fs_tpl_data_free(&t->data);
    t->data = d;
    t->params.track_choice = d.track_choice;
    fs_clear_error(&t->err);
    return FS_OK;
}

fs_status fs_template_get_info(const fs_template *t, fs_template_info *out)
{
    if (!t || !out || t->data.n_frames <= 0)
        return FS_ERR_INVALID_ARGUMENT;
    const fs_tpl_data *d = &t->data;
    fs_template_info in;
    memset(&in, 0, sizeof(in));
    in.width = d->width;
    in.height = d->height;
    in.rotation = d->rotation;
    in.fps_num = d->fps_num;
    in.fps_den = d->fps_den;
    in.frames = d->n_frames;
    in.duration = d->duration;
    in.tracks = d->n_tracks;
    in.protagonist = d->protagonist;
    in.poster_frame = d->poster_frame;
    in.decode_errors = d->decode_errors;
    for (int64_t i = 0; i < d->n_frames; i++)
        in.frames_with_face += fs_tpl_chosen_face(d, d->track_choice, i, NULL, 0) > 0;
    memcpy(in.content_hash, d->hash, 32);
    *out = in;
    return FS_OK;
}

fs_status fs_template_get_track(const fs_template *t, int index, fs_template_track_info *out)
{
    if (!t || !out)
        return FS_ERR_INVALID_ARGUMENT;
    if (index < 0 || index >= t->data.n_tracks)
        return FS_ERR_OUT_OF_RANGE;
    const fs_tpl_track *tr = &t->data.tracks[index];
    fs_template_track_info in;
    memset(&in, 0, sizeof(in));
    in.id = tr->id;
    in.first_frame = tr->first;
    in.last_frame = tr->last;
    in.frames = tr->frames;
    in.mean_size = tr->mean_size;
    *out = in;
    return FS_OK;
}

void fs_tpl_face_landmarks(const fs_tpl_face *f, fs_face_landmarks *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->points, f->points, sizeof(out->points));
    out->confidence = f->confidence;
    memcpy(out->pose.rotation, f->pose, 9 * sizeof(float));
    memcpy(out->pose.translation, f->pose + 9, 3 * sizeof(float));
    out->pose.scale = f->pose[12];
    out->pose.yaw = f->pose[13];
    out->pose.pitch = f->pose[14];
    out->pose.roll = f->pose[15];
    out->box.x = f->box[0];
    out->box.y = f->box[1];
    out->box.width = f->box[2];
    out->box.height = f->box[3];
}

fs_status fs_template_get_face(const fs_template *t, int64_t frame, int track_id,
                               fs_face_landmarks *out)
{
    if (!t || !out || t->data.n_frames <= 0)
        return FS_ERR_INVALID_ARGUMENT;
    if (frame < 0 || frame >= t->data.n_frames)
        return FS_ERR_OUT_OF_RANGE;
    const fs_tpl_face *f = fs_tpl_find(&t->data, frame, track_id);
    if (!f)
        return FS_ERR_NO_FACE;
    fs_tpl_face_landmarks(f, out);
    return FS_OK;
}

const char *fs_template_last_error(const fs_template *t)
{
    return t ? t->err.text : "";
}

int fs_tpl_chosen_face(const fs_tpl_data *d, int choice, int64_t frame, const fs_tpl_face **faces,
                       int cap)
{
    if (frame < 0 || frame >= d->n_frames)
        return 0;
    if (choice == FS_TRACK_PROTAGONIST)
        choice = d->protagonist;
    const fs_tpl_frame *fr = &d->frames[frame];
    int n = 0;
    for (uint32_t i = 0; i < fr->n_faces; i++) {
        const fs_tpl_face *f = &d->faces[fr->first_face + i];
        if (choice != FS_TRACK_ALL && f->track != choice)
            continue;
        if (faces && n < cap)
            faces[n] = f;
        n++;
    }
    return n;
}
