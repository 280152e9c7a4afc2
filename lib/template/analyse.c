/*
 * The template analysis: every frame decoded in order; faces detected, then
 * tracked from the previous frame's landmarks; tracks kept through short
 * misses and ended at scene cuts; then, per track, the landmarks and the
 * target-side statistics smoothed over the whole track at once (the
 * analysis sees the whole video before it saves anything, so the smoother
 * can look both ways and has no lag).
 */
#include "template/analyse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "embed/embed.h"
#include "engine.h"
#include "fit/fit_internal.h"
#include "swap/swap.h"
#include "track/scenecut.h"
#include "track/smooth.h"
#include "track/tracker.h"
#include "video/video_io.h"

void fs_analyse_params_default(fs_analyse_params *p)
{
    p->redetect_interval = 12;
    p->max_miss = 12;
    p->smooth = 1;
    p->max_seconds = 600.0;
    p->max_faces = 4;
    p->track_choice = -1;
    p->join = 1;
}

/* Raw fits gathered during the pass, before smoothing. */
typedef struct raw_face {
    int64_t frame;
    int32_t track;
    float confidence;
    float box[4];
    float points[FS_LANDMARKS][3];
    float stats[FS_TPL_STATS];
    float light[FS_TPL_LIGHT];
    int has_stats, has_light;
} raw_face;

typedef struct raw_list {
    raw_face *v;
    size_t n, cap;
} raw_list;

static raw_face *raw_push(raw_list *l)
{
    if (l->n == l->cap) {
        const size_t cap = l->cap ? 2 * l->cap : 256;
        raw_face *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    raw_face *f = &l->v[l->n++];
    memset(f, 0, sizeof(*f));
    return f;
}

typedef struct frame_list {
    int64_t *pts;
    int64_t n, cap;
} frame_list;

static int frame_push(frame_list *l, int64_t pts)
{
    if (l->n == l->cap) {
        const int64_t cap = l->cap ? 2 * l->cap : 512;
        int64_t *v = realloc(l->pts, (size_t)cap * sizeof(*v));
        if (!v)
            return 0;
        l->pts = v;
        l->cap = cap;
    }
    l->pts[l->n++] = pts;
    return 1;
}

static double face_size(const float (*p)[3])
{
    float x0 = p[0][0], x1 = x0, y0 = p[0][1], y1 = y0;
    for (int i = 1; i < FS_MESH_LANDMARKS; i++) {
        x0 = fminf(x0, p[i][0]);
        x1 = fmaxf(x1, p[i][0]);
        y0 = fminf(y0, p[i][1]);
        y1 = fmaxf(y1, p[i][1]);
    }
    return fmax(x1 - x0, y1 - y0);
}

/* ------------------------------------------------------------ smoothing */

/* The per-face series smoothed over a track besides the landmarks. */
enum { SERIES_STATS, SERIES_LIGHT };

/* Series @p which of face @p f: its values (NULL when the face has none
 * measured) and their count. */
static float *series_of(raw_face *f, int which, int *k)
{
    *k = which == SERIES_STATS ? FS_TPL_STATS : FS_TPL_LIGHT;
    if (which == SERIES_STATS)
        return f->has_stats ? f->stats : NULL;
    return f->has_light ? f->light : NULL;
}

/* Smooths series @p which of the track's faces over its time grid @p t
 * (span frames from the first face's); faces without a measurement of it
 * keep none. */
static fs_status smooth_series_of(raw_list *raw, const size_t *idx, size_t n, const double *t,
                                  size_t span, int which, fs_error_buf *err)
{
    const int64_t first = raw->v[idx[0]].frame;
    int k = 0;
    series_of(&raw->v[idx[0]], which, &k);
    float *v = calloc(span * (size_t)k, sizeof(float));
    uint8_t *valid = calloc(span, 1);
    fs_status st = FS_OK;
    if (!v || !valid)
        st = fs_fail(err, FS_ERR_OUT_OF_MEMORY, "template analysis: out of memory (smoothing)");
    for (size_t j = 0; j < n && st == FS_OK; j++) {
        const float *f = series_of(&raw->v[idx[j]], which, &k);
        const size_t at = (size_t)(raw->v[idx[j]].frame - first);
        if (f) {
            memcpy(v + at * (size_t)k, f, (size_t)k * sizeof(float));
            valid[at] = 1;
        }
    }
    if (st == FS_OK)
        st = fs_smooth_series(v, k, t, valid, (int)span, FS_ANALYSE_STATS_HZ, err);
    for (size_t j = 0; j < n && st == FS_OK; j++) {
        float *f = series_of(&raw->v[idx[j]], which, &k);
        if (f)
            memcpy(f, v + (size_t)(raw->v[idx[j]].frame - first) * (size_t)k,
                   (size_t)k * sizeof(float));
    }
    free(v);
    free(valid);
    return st;
}

/* Smooths one track's faces (raw[idx[0..n-1]], in frame order) in place. */
static fs_status smooth_track(raw_list *raw, const size_t *idx, size_t n, const frame_list *frames,
                              double tb, const fs_analyse_params *ap, fs_error_buf *err)
{
    const int64_t first = raw->v[idx[0]].frame, last = raw->v[idx[n - 1]].frame;
    const size_t span = (size_t)(last - first + 1);
    float(*pts)[FS_LANDMARKS][3] = malloc(span * sizeof(*pts));
    double *t = malloc(span * sizeof(*t));
    uint8_t *valid = calloc(span, 1);
    fs_status st = FS_OK;
    if (!pts || !t || !valid) {
        st = fs_fail(err, FS_ERR_OUT_OF_MEMORY, "template analysis: out of memory (smoothing)");
        goto done;
    }
    for (size_t k = 0; k < span; k++) {
        t[k] = (double)frames->pts[first + (int64_t)k] * tb;
        memset(pts[k], 0, sizeof(pts[k]));
    }
    for (size_t j = 0; j < n; j++) {
        const raw_face *f = &raw->v[idx[j]];
        const size_t k = (size_t)(f->frame - first);
        memcpy(pts[k], f->points, sizeof(pts[k]));
        valid[k] = 1;
    }
    fs_smooth_params sp;
    fs_smooth_params_default(&sp);
    st = fs_smooth_track(pts, t, valid, (int)span, &sp, err);
    /* The statistics and the light change with the scene's light, slowly;
     * a per-frame estimate of either flickers. */
    if (st == FS_OK)
        st = smooth_series_of(raw, idx, n, t, span, SERIES_STATS, err);
    if (st == FS_OK)
        st = smooth_series_of(raw, idx, n, t, span, SERIES_LIGHT, err);
    if (st != FS_OK)
        goto done;
    for (size_t j = 0; j < n; j++) {
        raw_face *f = &raw->v[idx[j]];
        memcpy(f->points, pts[(size_t)(f->frame - first)], sizeof(f->points));
    }
    (void)ap;
done:
    free(pts);
    free(t);
    free(valid);
    return st;
}

/* ------------------------------------------------------------ the pass */

/* A track's last centroid and its step from the frame before: the fitter
 * follows a face from a crop placed where the face is expected, not where
 * it was (a fast move takes a face a third of its width in a frame). */
typedef struct track_motion {
    int64_t frame; /* of the last fit */
    float cx, cy, vx, vy;
    float size; /* face size, px */
    /* Who the track is, for joining it with the tracks of the same person
     * in other shots: the faceres embedding of its best view so far. */
    double view;              /* that view's score (face size x frontality), 0 none */
    float emb[FS_EMBED_DIM];
} track_motion;

typedef struct pass {
    fs_context *ctx;
    const fs_analyse_params *ap;
    fs_error_buf *err;
    fs_detector *det;
    fs_fitter *fit;
    const fs_swap_mesh *mesh;
    const fs_swap_params *sp;
    const fs_engine *eng;
    fs_tracker *tracker;
    int32_t n_tracks; /* ids seen: the tracker's ids are 0.. and never reused */
    track_motion *motion; /* by track id, n_motion of them */
    int32_t n_motion;
    fs_embedder *embedder; /* NULL: tracks are not joined across shots */
    raw_list raw;
    frame_list frames;
} pass;

/* Embeds the face when it is the track's best view so far by a margin (a
 * few embeddings a track: each costs about a detection). Faces under 48 px
 * or turned far say little about who they are. */
static fs_status embed_view(pass *ps, track_motion *m, const fs_face_landmarks *lm,
                            const fs_image *rgb)
{
    if (!ps->embedder)
        return FS_OK;
    fs_head_pose pose;
    const fs_canonical_face *canon = fs_fitter_canonical(ps->fit);
    if (!canon || !fs_pose_fit((const float(*)[3])lm->points, canon, &pose))
        return FS_OK;
    const double turn = cos(pose.yaw * M_PI / 180.0) * cos(pose.pitch * M_PI / 180.0);
    const double view = m->size * (turn > 0 ? turn : 0);
    if (m->size < 48.0f || fabs(pose.yaw) > 45.0 || view < 1.25 * m->view)
        return FS_OK;
    const fs_status st = fs_embedder_run(ps->embedder, rgb, lm, m->emb);
    if (st == FS_ERR_NO_FACE || st == FS_ERR_INVALID_ARGUMENT)
        return FS_OK; /* no usable crop: the next view may do */
    if (st != FS_OK)
        return fs_fail(ps->err, st, "template analysis: %s", fs_embedder_last_error(ps->embedder));
    m->view = view;
    return FS_OK;
}

static fs_status record(pass *ps, int64_t frame, const fs_tracker_face *tf, const fs_image *rgb)
{
    raw_face *f = raw_push(&ps->raw);
    if (!f)
        return fs_fail(ps->err, FS_ERR_OUT_OF_MEMORY, "template analysis: out of memory");
    const fs_face_landmarks *lm = &tf->landmarks;
    f->frame = frame;
    f->track = tf->id;
    f->confidence = lm->confidence;
    memcpy(f->box, tf->box, sizeof(f->box));
    memcpy(f->points, lm->points, sizeof(f->points));
    fs_swap_target tg;
    fs_error_buf ignore;
    fs_exec ex;
    fs_context_exec(ps->ctx, &ignore, &ex);
    /* The statistics need the face's pixels; a face the swap cannot use
     * (outside the frame) simply has none. */
    if (fs_swap_target_prepare(ps->eng, &ex, ps->mesh, ps->sp, rgb,
                               (const float(*)[3])lm->points, &tg) == FS_OK) {
        for (int c = 0; c < 3; c++) {
            f->stats[c] = (float)tg.lab_mean[c];
            f->stats[3 + c] = (float)tg.lab_sd[c];
        }
        f->has_stats = 1;
        /* A face too small for a light (or relight off) has none: its
         * frames get the source's own light back. */
        if (tg.light.n_fit > 0) {
            memcpy(f->light, tg.light.coeff, sizeof(f->light));
            f->has_light = 1;
        }
    }
    if (tf->id >= ps->n_tracks)
        ps->n_tracks = tf->id + 1;
    if (tf->id >= ps->n_motion) {
        const int32_t n = tf->id + 16;
        track_motion *m = realloc(ps->motion, (size_t)n * sizeof(*m));
        if (!m)
            return fs_fail(ps->err, FS_ERR_OUT_OF_MEMORY, "template analysis: out of memory");
        /* frame: far from any real one, so "seen in the frame before" is false */
        for (int32_t i = ps->n_motion; i < n; i++)
            m[i] = (track_motion){.frame = INT64_MIN / 2};
        ps->motion = m;
        ps->n_motion = n;
    }
    track_motion *m = &ps->motion[tf->id];
    double cx = 0, cy = 0;
    for (int i = 0; i < FS_MESH_LANDMARKS; i++) {
        cx += lm->points[i][0];
        cy += lm->points[i][1];
    }
    cx /= FS_MESH_LANDMARKS;
    cy /= FS_MESH_LANDMARKS;
    /* A track first seen in frame 0 has no step yet (frame - 1 is the -1 of "none"). */
    const int steady = m->frame >= 0 && m->frame == frame - 1;
    m->vx = steady ? (float)cx - m->cx : 0.0f;
    m->vy = steady ? (float)cy - m->cy : 0.0f;
    m->cx = (float)cx;
    m->cy = (float)cy;
    m->size = (float)face_size((const float(*)[3])lm->points);
    m->frame = frame;
    return embed_view(ps, m, lm, rgb);
}

/* Where track @p id's face is expected in @p frame: its last landmarks
 * moved on by its last step, when it was seen in the frame before. */
static const fs_face_landmarks *predict(const pass *ps, int id, int64_t frame,
                                        const fs_face_landmarks *prev, fs_face_landmarks *out)
{
    if (id < 0 || id >= ps->n_motion || ps->motion[id].frame != frame - 1)
        return prev;
    const track_motion *m = &ps->motion[id];
    /* Steps below 2% of the face are the fitter's own noise, not motion:
     * following them would shake the crop of a still face. */
    if (hypotf(m->vx, m->vy) < 0.02f * m->size)
        return prev;
    *out = *prev;
    for (int i = 0; i < FS_LANDMARKS; i++) {
        out->points[i][0] += m->vx;
        out->points[i][1] += m->vy;
    }
    return out;
}

/* A detection that lies on a face followed this frame is that face: the
 * fitter need not run on it (the tracker would drop it anyway). */
static int on_followed(const fs_face_box *b, float (*followed)[4], int n)
{
    const float db[4] = {b->x, b->y, b->width, b->height};
    const float cx = b->x + 0.5f * b->width, cy = b->y + 0.5f * b->height;
    for (int i = 0; i < n; i++) {
        const float *f = followed[i];
        if (fs_tracker_iou(db, f) > 0.2 ||
            (cx > f[0] && cx < f[0] + f[2] && cy > f[1] && cy < f[1] + f[3]))
            return 1;
    }
    return 0;
}

static fs_status fit_fail(pass *ps, fs_status st, int64_t frame, const char *detail)
{
    return fs_fail(ps->err, st, "template analysis: frame %lld: %s", (long long)frame, detail);
}

/* One frame: follow the tracks, detect when the tracker asks, record the faces. */
static fs_status analyse_frame(pass *ps, int64_t frame, const fs_image *rgb, int cut)
{
    fs_tracker *tr = ps->tracker;
    fs_status st;
    float followed[FS_TPL_MAX_FACES_PER_FRAME][4];
    int n_followed = 0;
    fs_tracker_begin(tr, cut);
    const int n_follow = fs_tracker_follow_count(tr);
    for (int k = 0; k < n_follow; k++) {
        const fs_face_landmarks *prev = NULL;
        const int id = fs_tracker_follow(tr, k, &prev);
        fs_face_landmarks lm, expected;
        st = prev ? fs_fitter_track(ps->fit, rgb, predict(ps, id, frame, prev, &expected), &lm)
                  : FS_ERR_NO_FACE;
        if (st == FS_ERR_NO_FACE) {
            fs_tracker_lost(tr, id);
            continue;
        }
        if (st != FS_OK)
            return fit_fail(ps, st, frame, fs_fitter_last_error(ps->fit));
        float box[4];
        fs_tracker_extent(&lm, box);
        if ((st = fs_tracker_add(tr, id, box, &lm)) != FS_OK)
            return fit_fail(ps, st, frame, fs_tracker_last_error(tr));
        if (n_followed < FS_TPL_MAX_FACES_PER_FRAME)
            memcpy(followed[n_followed++], box, sizeof(box));
    }
    if (fs_tracker_need_detect(tr)) {
        fs_face_box boxes[FS_TPL_MAX_FACES_PER_FRAME];
        int n = 0;
        st = fs_detector_run(ps->det, rgb, boxes, FS_TPL_MAX_FACES_PER_FRAME, &n);
        if (st != FS_OK)
            return fit_fail(ps, st, frame, fs_detector_last_error(ps->det));
        for (int b = 0; b < n && b < FS_TPL_MAX_FACES_PER_FRAME; b++) {
            if (on_followed(&boxes[b], followed, n_followed))
                continue;
            fs_face_landmarks lm;
            st = fs_fitter_run(ps->fit, rgb, &boxes[b], &lm);
            if (st == FS_ERR_NO_FACE)
                continue;
            if (st != FS_OK)
                return fit_fail(ps, st, frame, fs_fitter_last_error(ps->fit));
            float box[4];
            fs_tracker_extent(&lm, box);
            st = fs_tracker_add(tr, -1, box, &lm);
            if (st == FS_ERR_TOO_LARGE)
                break; /* more faces than tracked at once: the best-scored are in */
            if (st != FS_OK)
                return fit_fail(ps, st, frame, fs_tracker_last_error(tr));
        }
    }
    fs_tracker_end(tr);
    const int n_faces = fs_tracker_face_count(tr);
    for (int k = 0; k < n_faces; k++) {
        const fs_tracker_face *tf = fs_tracker_face_at(tr, k);
        if (!tf->has_landmarks)
            continue;
        if ((st = record(ps, frame, tf, rgb)) != FS_OK)
            return st;
    }
    return FS_OK;
}

/* ------------------------------------------------------------ assembly */

static int by_track_frame(const void *a, const void *b, void *raw)
{
    const raw_face *v = raw;
    const raw_face *x = &v[*(const size_t *)a], *y = &v[*(const size_t *)b];
    if (x->track != y->track)
        return x->track < y->track ? -1 : 1;
    return x->frame < y->frame ? -1 : x->frame > y->frame;
}

static int by_frame_track(const void *a, const void *b, void *raw)
{
    const raw_face *v = raw;
    const raw_face *x = &v[*(const size_t *)a], *y = &v[*(const size_t *)b];
    if (x->frame != y->frame)
        return x->frame < y->frame ? -1 : 1;
    return x->track < y->track ? -1 : x->track > y->track;
}

/* Builds the template's tables from the (smoothed) faces. */
static fs_status assemble(pass *ps, fs_tpl_data *d, const fs_canonical_face *canon,
                          size_t *order)
{
    const size_t n = ps->raw.n;
    d->n_frames = ps->frames.n;
    d->n_tracks = ps->n_tracks;
    d->n_faces = (uint32_t)n;
    d->frames = calloc((size_t)d->n_frames, sizeof(*d->frames));
    d->tracks = calloc((size_t)(d->n_tracks ? d->n_tracks : 1), sizeof(*d->tracks));
    d->faces = calloc(n ? n : 1, sizeof(*d->faces));
    if (!d->frames || !d->tracks || !d->faces)
        return fs_fail(ps->err, FS_ERR_OUT_OF_MEMORY, "template analysis: out of memory");
    for (int64_t i = 0; i < d->n_frames; i++)
        d->frames[i].pts = ps->frames.pts[i];
    for (int32_t i = 0; i < d->n_tracks; i++) {
        d->tracks[i].id = i;
        d->tracks[i].first = -1;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    qsort_r(order, n, sizeof(*order), by_frame_track, ps->raw.v);
    double *size_sum = calloc((size_t)(d->n_tracks ? d->n_tracks : 1), sizeof(double));
    if (!size_sum)
        return fs_fail(ps->err, FS_ERR_OUT_OF_MEMORY, "template analysis: out of memory");
    for (size_t i = 0; i < n; i++) {
        const raw_face *r = &ps->raw.v[order[i]];
        fs_tpl_face *f = &d->faces[i];
        f->track = r->track;
        f->flags = FS_TPL_FACE_FITTED | (r->has_stats ? FS_TPL_FACE_STATS : 0u) |
                   (r->has_light ? FS_TPL_FACE_LIGHT : 0u);
        f->confidence = r->confidence;
        memcpy(f->box, r->box, sizeof(f->box));
        memcpy(f->points, r->points, sizeof(f->points));
        memcpy(f->stats, r->stats, sizeof(f->stats));
        memcpy(f->light, r->light, sizeof(f->light));
        fs_head_pose pose;
        memset(&pose, 0, sizeof(pose));
        if (!canon || !fs_pose_fit((const float(*)[3])f->points, canon, &pose))
            memset(&pose, 0, sizeof(pose));
        memcpy(f->pose, pose.rotation, 9 * sizeof(float));
        memcpy(f->pose + 9, pose.translation, 3 * sizeof(float));
        f->pose[12] = pose.scale;
        f->pose[13] = pose.yaw;
        f->pose[14] = pose.pitch;
        f->pose[15] = pose.roll;
        fs_tpl_frame *fr = &d->frames[r->frame];
        if (fr->n_faces == 0)
            fr->first_face = (uint32_t)i;
        fr->n_faces++;
        fs_tpl_track *t = &d->tracks[r->track];
        if (t->first < 0)
            t->first = r->frame;
        t->last = r->frame;
        t->frames++;
        size_sum[r->track] += face_size((const float(*)[3])f->points);
    }
    /* Frames without faces point where the next face would go. */
    uint32_t next = 0;
    for (int64_t i = 0; i < d->n_frames; i++) {
        if (d->frames[i].n_faces == 0)
            d->frames[i].first_face = next;
        next = d->frames[i].first_face + d->frames[i].n_faces;
    }
    /* Tracks that lost every face (a duplicate ended at once) keep an empty range. */
    d->protagonist = -1;
    for (int32_t i = 0; i < d->n_tracks; i++) {
        fs_tpl_track *t = &d->tracks[i];
        if (t->frames == 0) {
            t->first = 0;
            t->last = 0;
            continue;
        }
        t->mean_size = (float)(size_sum[i] / (double)t->frames);
        const fs_tpl_track *p = d->protagonist >= 0 ? &d->tracks[d->protagonist] : NULL;
        if (!p || t->frames > p->frames || (t->frames == p->frames && t->mean_size > p->mean_size))
            d->protagonist = i;
    }
    free(size_sum);
    /* The poster: the protagonist's largest, most frontal face. */
    d->poster_frame = -1;
    double best = -1.0;
    for (uint32_t i = 0; i < d->n_faces && d->protagonist >= 0; i++) {
        const fs_tpl_face *f = &d->faces[i];
        if (f->track != d->protagonist)
            continue;
        const double yaw = f->pose[13] * M_PI / 180.0, pitch = f->pose[14] * M_PI / 180.0;
        const double score = face_size((const float(*)[3])f->points) * fmax(cos(yaw), 0.0) *
                             fmax(cos(pitch), 0.0) * f->confidence;
        if (score > best) {
            best = score;
            d->poster_frame = ps->raw.v[order[i]].frame;
        }
    }
    return FS_OK;
}

/* ------------------------------------------------------------ one person, several shots */

typedef struct track_span {
    int64_t first, last;
    int32_t group;
} track_span;

static int32_t group_of(track_span *t, int32_t i)
{
    while (t[i].group != i) {
        t[i].group = t[t[i].group].group;
        i = t[i].group;
    }
    return i;
}

/* Whether two groups of tracks could be one person: no frame shows both,
 * and every pair of their embedded tracks looks alike (complete linkage:
 * a chain of near matches does not join two people). */
static int joinable(const pass *ps, track_span *t, int32_t ga, int32_t gb)
{
    for (int32_t a = 0; a < ps->n_tracks; a++) {
        if (group_of(t, a) != ga)
            continue;
        for (int32_t b = 0; b < ps->n_tracks; b++) {
            if (group_of(t, b) != gb)
                continue;
            if (t[a].first <= t[b].last && t[b].first <= t[a].last)
                return 0;
            const track_motion *ma = &ps->motion[a], *mb = &ps->motion[b];
            if (ma->view > 0 && mb->view > 0 &&
                fs_embedding_cosine(ma->emb, mb->emb) < FS_ANALYSE_JOIN_COSINE)
                return 0;
        }
    }
    return 1;
}

typedef struct track_pair {
    int32_t a, b;
    double cos;
} track_pair;

static int by_cosine(const void *x, const void *y)
{
    const double a = ((const track_pair *)x)->cos, b = ((const track_pair *)y)->cos;
    return (a < b) - (a > b);
}

/*
 * Joins the tracks of one person across shots (a film cuts back and forth
 * between the same people; each cut ends every track) and renumbers the
 * tracks 0.. by first appearance. Called after smoothing, which must not
 * run across a cut. The most alike pairs are joined first.
 */
static fs_status join_tracks(pass *ps)
{
    const int32_t n = ps->n_tracks;
    if (n < 2 || !ps->embedder)
        return FS_OK;
    track_span *t = malloc(sizeof(*t) * (size_t)n);
    track_pair *pairs = malloc(sizeof(*pairs) * (size_t)n * (size_t)(n - 1) / 2 + sizeof(*pairs));
    int32_t *id = malloc(sizeof(*id) * (size_t)n);
    if (!t || !pairs || !id) {
        free(t);
        free(pairs);
        free(id);
        return fs_fail(ps->err, FS_ERR_OUT_OF_MEMORY, "template analysis: out of memory");
    }
    for (int32_t i = 0; i < n; i++)
        t[i] = (track_span){INT64_MAX, -1, i};
    for (size_t i = 0; i < ps->raw.n; i++) {
        const raw_face *f = &ps->raw.v[i];
        t[f->track].first = f->frame < t[f->track].first ? f->frame : t[f->track].first;
        t[f->track].last = f->frame > t[f->track].last ? f->frame : t[f->track].last;
    }
    size_t np = 0;
    for (int32_t a = 0; a < n; a++)
        for (int32_t b = a + 1; b < n && a < ps->n_motion && b < ps->n_motion; b++)
            if (ps->motion[a].view > 0 && ps->motion[b].view > 0) {
                const double c = fs_embedding_cosine(ps->motion[a].emb, ps->motion[b].emb);
                if (c >= FS_ANALYSE_JOIN_COSINE)
                    pairs[np++] = (track_pair){a, b, c};
            }
    qsort(pairs, np, sizeof(*pairs), by_cosine);
    for (size_t k = 0; k < np; k++) {
        const int32_t ga = group_of(t, pairs[k].a), gb = group_of(t, pairs[k].b);
        if (ga != gb && joinable(ps, t, ga, gb))
            t[gb > ga ? gb : ga].group = gb > ga ? ga : gb;
    }
    /* New ids in order of first appearance of each group. */
    for (int32_t i = 0; i < n; i++)
        id[i] = -1;
    int32_t next = 0;
    for (;;) {
        int32_t pick = -1;
        for (int32_t i = 0; i < n; i++) {
            const int32_t g = group_of(t, i);
            if (id[g] < 0 && t[i].last >= 0 && (pick < 0 || t[i].first < t[pick].first))
                pick = i;
        }
        if (pick < 0)
            break;
        id[group_of(t, pick)] = next++;
    }
    for (size_t i = 0; i < ps->raw.n; i++)
        ps->raw.v[i].track = id[group_of(t, ps->raw.v[i].track)];
    fs_log(ps->ctx, FS_LOG_INFO, "template analysis: %d tracks, %d after joining shots", (int)n,
           (int)next);
    ps->n_tracks = next;
    free(t);
    free(pairs);
    free(id);
    return FS_OK;
}

/* Smooths every track (faces grouped by track, in frame order). */
static fs_status smooth_all(pass *ps, double tb, size_t *order)
{
    const size_t n = ps->raw.n;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    qsort_r(order, n, sizeof(*order), by_track_frame, ps->raw.v);
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        while (b < n && ps->raw.v[order[b]].track == ps->raw.v[order[a]].track)
            b++;
        const fs_status st = smooth_track(&ps->raw, order + a, b - a, &ps->frames, tb, ps->ap,
                                          ps->err);
        if (st != FS_OK)
            return st;
        a = b;
    }
    return FS_OK;
}

fs_status fs_analyse_video(fs_context *ctx, const char *path, const fs_analyse_params *ap,
                           const fs_analyse_models *models, fs_progress_fn progress, void *user,
                           fs_tpl_data *out, fs_error_buf *err)
{
    fs_tpl_data d;
    memset(&d, 0, sizeof(d));
    fs_status st = fs_tpl_hash_file(path, d.hash, &d.file_size, err);
    if (st != FS_OK)
        return st;

    int64_t threads = 1;
    fs_context_get(ctx, FS_CONTEXT_THREADS, &threads);
    int64_t max_pixels = 0;
    fs_context_get(ctx, FS_CONTEXT_MAX_PIXELS, &max_pixels);
    const fs_video_limits lim = {max_pixels, ap->max_seconds,
                                 (int64_t)(ap->max_seconds * 240.0) + 1, (int)threads};
    fs_video_reader *rd = NULL;
    fs_video_props props;
    st = fs_video_reader_open(path, &lim, &rd, &props, err);
    if (st != FS_OK)
        return st;
    d.width = props.width;
    d.height = props.height;
    d.rotation = props.rotation;
    d.tb_num = props.tb_num;
    d.tb_den = props.tb_den;
    d.fps_num = props.fps_num;
    d.fps_den = props.fps_den > 0 ? props.fps_den : 1;
    d.track_choice = ap->track_choice;
    const double tb = (double)props.tb_num / (double)props.tb_den;

    pass ps;
    memset(&ps, 0, sizeof(ps));
    ps.ctx = ctx;
    ps.ap = ap;
    ps.err = err;
    ps.det = models->det;
    ps.fit = models->fit;
    ps.mesh = models->mesh;
    ps.sp = models->params;
    ps.eng = fs_context_engine(ctx);

    fs_video_frame frame;
    memset(&frame, 0, sizeof(frame));
    uint8_t *rgb = NULL;
    size_t *order = NULL;
    fs_scenecut *cuts = NULL;
    st = fs_video_frame_alloc(&frame, props.width, props.height, err);
    if (st == FS_OK) {
        rgb = malloc((size_t)props.width * (size_t)props.height * 3);
        if (!rgb)
            st = fs_fail(err, FS_ERR_OUT_OF_MEMORY, "template analysis: out of memory");
    }
    if (st == FS_OK) {
        fs_scenecut_params cp;
        fs_scenecut_params_default(&cp);
        st = fs_scenecut_create(&cp, &cuts, err);
    }
    if (st == FS_OK) {
        fs_tracker_params tp;
        fs_tracker_params_default(&tp);
        tp.max_miss = ap->max_miss;
        tp.redetect_interval = ap->redetect_interval;
        tp.max_faces = ap->max_faces;
        st = fs_tracker_create(&tp, &ps.tracker, err);
    }
    if (st == FS_OK && ap->join && fs_embedder_create(ctx, &ps.embedder) != FS_OK)
        fs_log(ctx, FS_LOG_WARNING, "template analysis: no face embedder (%s): tracks are not "
               "joined across shots", fs_context_last_error(ctx));
    const fs_yuv_desc yd =
        fs_yuv_desc_from(props.color_space, props.color_range, props.height);
    const fs_image img = {props.width, props.height, props.width * 3, FS_PIXEL_RGB8,
                          FS_MEMORY_HOST, 0, rgb, {0}};
    while (st == FS_OK) {
        int eof = 0;
        st = fs_video_reader_read(rd, &frame, &eof, err);
        if (st != FS_OK || eof)
            break;
        const int64_t i = ps.frames.n;
        if (!frame_push(&ps.frames, frame.pts)) {
            st = fs_fail(err, FS_ERR_OUT_OF_MEMORY, "template analysis: out of memory");
            break;
        }
        int cut = 0;
        st = fs_yuv420_to_rgb(&frame, &yd, rgb, (ptrdiff_t)props.width * 3);
        if (st == FS_OK && fs_scenecut_push(cuts, frame.plane[0], props.width, props.height,
                                            frame.stride[0], &cut, NULL, NULL) != FS_OK)
            st = fs_fail(err, FS_ERR_INTERNAL, "template analysis: %s",
                         fs_scenecut_last_error(cuts));
        if (st == FS_OK)
            st = analyse_frame(&ps, i, &img, cut);
        if (st == FS_OK && progress && progress(user, i + 1, props.frames_hint) != 0)
            st = fs_fail(err, FS_ERR_CANCELLED, "template analysis: cancelled at frame %lld",
                         (long long)i);
    }
    if (st == FS_OK && ps.frames.n == 0)
        st = fs_fail(err, FS_ERR_TRUNCATED, "%s: no frame could be decoded", path);
    if (st == FS_OK) {
        d.decode_errors = fs_video_reader_decode_errors(rd);
        d.duration = props.duration;
        if (ps.frames.n > 0) {
            /* first to last frame, plus the last frame's own length */
            const double per = props.fps_num > 0 ? (double)props.fps_den / props.fps_num : 0.0;
            d.duration = (double)(ps.frames.pts[ps.frames.n - 1] - ps.frames.pts[0]) * tb + per;
        }
        order = malloc((ps.raw.n ? ps.raw.n : 1) * sizeof(*order));
        if (!order)
            st = fs_fail(err, FS_ERR_OUT_OF_MEMORY, "template analysis: out of memory");
    }
    if (st == FS_OK && ap->smooth)
        st = smooth_all(&ps, tb, order);
    if (st == FS_OK && ap->join)
        st = join_tracks(&ps);
    if (st == FS_OK)
        st = assemble(&ps, &d, fs_fitter_canonical(ps.fit), order);
    fs_scenecut_destroy(cuts);
    fs_tracker_destroy(ps.tracker);
    fs_embedder_destroy(ps.embedder);
    fs_video_reader_close(rd);
    fs_video_frame_free(&frame);
    free(rgb);
    free(order);
    free(ps.raw.v);
    free(ps.frames.pts);
    free(ps.motion);
    if (st != FS_OK) {
        fs_tpl_data_free(&d);
        return st;
    }
    *out = d;
    return FS_OK;
}
