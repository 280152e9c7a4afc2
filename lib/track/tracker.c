/*
 * The track table of the template analysis (tracker.h).
 */
#include "track/tracker.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FACES_LIMIT 256
#define FRAMES_LIMIT 100000

typedef struct track {
    int id;
    int misses;        /* frames unseen since last seen */
    int age;           /* frames seen */
    float box[4];
    double vel[2];     /* centre, px per frame, smoothed */
    int has_landmarks;
    fs_face_landmarks landmarks;
    int seen;          /* has a face this frame */
    int lost;          /* following failed this frame */
} track;

typedef struct obs {
    int from;          /* index of the track it was followed from, or -1 */
    int keep;
    int track;         /* index into tracks after matching */
    fs_tracker_face face;
} obs;

struct fs_tracker {
    fs_tracker_params p;
    track *tracks;     /* max_faces */
    int n_tracks;
    obs *obs;          /* 2 * max_faces: followed, then detected */
    int n_obs, n_followed, n_detected;
    fs_tracker_face *faces; /* 2 * max_faces */
    int n_faces;
    int next_id;
    int since_detect;  /* frames since the detector last ran; large at first */
    int cut;
    fs_error_buf err;
};

void fs_tracker_params_default(fs_tracker_params *p)
{
    p->iou_threshold = 0.3;
    p->merge_iou = 0.5;
    p->max_miss = 12;
    p->redetect_interval = 10;
    p->max_faces = 16;
}

fs_status fs_tracker_create(const fs_tracker_params *p, fs_tracker **out, fs_error_buf *err)
{
    if (!p || !out)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "tracker: NULL argument");
    if (!(p->iou_threshold >= 0.0 && p->iou_threshold <= 1.0) ||
        !(p->merge_iou >= 0.0 && p->merge_iou <= 1.0) || p->max_miss < 0 ||
        p->max_miss > FRAMES_LIMIT || p->redetect_interval < 1 ||
        p->redetect_interval > FRAMES_LIMIT || p->max_faces < 1 || p->max_faces > MAX_FACES_LIMIT)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT,
                       "tracker: IoU thresholds in 0..1, max_miss 0..%d, redetect_interval "
                       "1..%d, max_faces 1..%d",
                       FRAMES_LIMIT, FRAMES_LIMIT, MAX_FACES_LIMIT);
    fs_tracker *tr = calloc(1, sizeof(*tr));
    if (tr) {
        tr->tracks = calloc((size_t)p->max_faces, sizeof(track));
        tr->obs = calloc(2 * (size_t)p->max_faces, sizeof(obs));
        tr->faces = calloc(2 * (size_t)p->max_faces, sizeof(fs_tracker_face));
    }
    if (!tr || !tr->tracks || !tr->obs || !tr->faces) {
        fs_tracker_destroy(tr);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "tracker: %d faces", p->max_faces);
    }
    tr->p = *p;
    tr->since_detect = FRAMES_LIMIT;
    *out = tr;
    return FS_OK;
}

void fs_tracker_destroy(fs_tracker *tr)
{
    if (!tr)
        return;
    free(tr->tracks);
    free(tr->obs);
    free(tr->faces);
    free(tr);
}

const char *fs_tracker_last_error(const fs_tracker *tr)
{
    return tr ? tr->err.text : "";
}

double fs_tracker_iou(const float a[4], const float b[4])
{
    const double x0 = fmax(a[0], b[0]), y0 = fmax(a[1], b[1]);
    const double x1 = fmin((double)a[0] + a[2], (double)b[0] + b[2]);
    const double y1 = fmin((double)a[1] + a[3], (double)b[1] + b[3]);
    if (!(x1 > x0 && y1 > y0))
        return 0.0;
    const double inter = (x1 - x0) * (y1 - y0);
    const double uni = (double)a[2] * a[3] + (double)b[2] * b[3] - inter;
    return uni > 0.0 ? inter / uni : 0.0;
}

void fs_tracker_extent(const fs_face_landmarks *lm, float box[4])
{
    float x0 = lm->points[0][0], y0 = lm->points[0][1], x1 = x0, y1 = y0;
    for (int i = 1; i < FS_MESH_LANDMARKS; i++) {
        x0 = fminf(x0, lm->points[i][0]);
        y0 = fminf(y0, lm->points[i][1]);
        x1 = fmaxf(x1, lm->points[i][0]);
        y1 = fmaxf(y1, lm->points[i][1]);
    }
    box[0] = x0;
    box[1] = y0;
    box[2] = x1 - x0;
    box[3] = y1 - y0;
}

void fs_tracker_begin(fs_tracker *tr, int cut)
{
    if (cut)
        tr->n_tracks = 0;
    tr->cut = cut != 0;
    for (int i = 0; i < tr->n_tracks; i++) {
        tr->tracks[i].seen = 0;
        tr->tracks[i].lost = 0;
    }
    tr->n_obs = tr->n_followed = tr->n_detected = 0;
    tr->n_faces = 0;
    if (tr->since_detect < FRAMES_LIMIT)
        tr->since_detect++;
    fs_clear_error(&tr->err);
}

/* Tracks to follow are those seen in the last frame: misses == 0. */
int fs_tracker_follow_count(const fs_tracker *tr)
{
    int n = 0;
    for (int i = 0; i < tr->n_tracks; i++)
        n += tr->tracks[i].misses == 0;
    return n;
}

static int follow_index(const fs_tracker *tr, int k)
{
    for (int i = 0; i < tr->n_tracks; i++)
        if (tr->tracks[i].misses == 0 && k-- == 0)
            return i;
    return -1;
}

int fs_tracker_follow(const fs_tracker *tr, int k, const fs_face_landmarks **last)
{
    const int i = k >= 0 ? follow_index(tr, k) : -1;
    if (last)
        *last = i >= 0 && tr->tracks[i].has_landmarks ? &tr->tracks[i].landmarks : NULL;
    return i >= 0 ? tr->tracks[i].id : -1;
}

static int track_index(const fs_tracker *tr, int id)
{
    for (int i = 0; i < tr->n_tracks; i++)
        if (tr->tracks[i].id == id)
            return i;
    return -1;
}

fs_status fs_tracker_add(fs_tracker *tr, int from_id, const float box[4],
                         const fs_face_landmarks *lm)
{
    if (!box)
        return fs_fail(&tr->err, FS_ERR_INVALID_ARGUMENT, "tracker: NULL box");
    for (int k = 0; k < 4; k++)
        if (!(fabsf(box[k]) <= 1e7f))
            return fs_fail(&tr->err, FS_ERR_INVALID_ARGUMENT, "tracker: box value not finite");
    if (!(box[2] > 0.0f && box[3] > 0.0f))
        return fs_fail(&tr->err, FS_ERR_INVALID_ARGUMENT, "tracker: box %gx%g is empty",
                       (double)box[2], (double)box[3]);
    int from = from_id >= 0 ? track_index(tr, from_id) : -1;
    if (from >= 0 && (tr->tracks[from].misses != 0 || tr->tracks[from].seen))
        from = -1;
    int *count = from >= 0 ? &tr->n_followed : &tr->n_detected;
    if (*count >= tr->p.max_faces)
        return fs_fail(&tr->err, FS_ERR_TOO_LARGE, "tracker: more than %d %s faces in a frame",
                       tr->p.max_faces, from >= 0 ? "followed" : "detected");
    (*count)++;
    if (from >= 0)
        tr->tracks[from].seen = 1;
    obs *o = &tr->obs[tr->n_obs++];
    memset(o, 0, sizeof(*o));
    o->from = from;
    o->track = -1;
    memcpy(o->face.box, box, sizeof(o->face.box));
    o->face.detected = from < 0;
    if (lm) {
        o->face.has_landmarks = 1;
        o->face.landmarks = *lm;
    }
    return FS_OK;
}

void fs_tracker_lost(fs_tracker *tr, int id)
{
    const int i = track_index(tr, id);
    if (i >= 0)
        tr->tracks[i].lost = 1;
}

int fs_tracker_need_detect(const fs_tracker *tr)
{
    if (tr->cut || tr->n_tracks == 0 || tr->since_detect >= tr->p.redetect_interval)
        return 1;
    for (int i = 0; i < tr->n_tracks; i++)
        if (tr->tracks[i].lost || tr->tracks[i].misses > 0)
            return 1;
    return 0;
}

/* The track's box moved on by its velocity for the frames since it was seen. */
static void predicted_box(const track *t, float box[4])
{
    const double f = t->misses + 1.0;
    box[0] = (float)(t->box[0] + f * t->vel[0]);
    box[1] = (float)(t->box[1] + f * t->vel[1]);
    box[2] = t->box[2];
    box[3] = t->box[3];
}

static void update_track(track *t, const obs *o)
{
    if (t->age > 0) {
        const double frames = t->misses + 1.0;
        const double vx = (o->face.box[0] + 0.5 * o->face.box[2] - t->box[0] - 0.5 * t->box[2]) / frames;
        const double vy = (o->face.box[1] + 0.5 * o->face.box[3] - t->box[1] - 0.5 * t->box[3]) / frames;
        /* Half of the new step: one odd frame does not turn a track round. */
        t->vel[0] = t->age > 1 ? 0.5 * (t->vel[0] + vx) : vx;
        t->vel[1] = t->age > 1 ? 0.5 * (t->vel[1] + vy) : vy;
    }
    memcpy(t->box, o->face.box, sizeof(t->box));
    t->has_landmarks = o->face.has_landmarks;
    if (o->face.has_landmarks)
        t->landmarks = o->face.landmarks;
    t->misses = 0;
    t->age++;
    t->seen = 1;
}

void fs_tracker_end(fs_tracker *tr)
{
    const int n_obs = tr->n_obs;
    /* As the loop saw it, after following: it ran the detector if so. */
    const int detector_ran = fs_tracker_need_detect(tr) || tr->n_detected > 0;
    /* Which tracks have a face this frame: recomputed from the kept faces. */
    for (int i = 0; i < tr->n_tracks; i++)
        tr->tracks[i].seen = 0;
    /* 1. Followed faces stay with their tracks, but two tracks on one face
     * merge: the older keeps it. */
    for (int a = 0; a < n_obs; a++) {
        obs *oa = &tr->obs[a];
        if (oa->from < 0)
            continue;
        oa->keep = 1;
        oa->track = oa->from;
        for (int b = 0; b < a; b++) {
            obs *ob = &tr->obs[b];
            if (ob->from < 0 || !ob->keep ||
                fs_tracker_iou(oa->face.box, ob->face.box) < tr->p.merge_iou)
                continue;
            const track *ta = &tr->tracks[oa->from], *tb = &tr->tracks[ob->from];
            const int a_older = ta->age > tb->age || (ta->age == tb->age && ta->id < tb->id);
            if (a_older)
                ob->keep = 0;
            else
                oa->keep = 0;
            if (!oa->keep)
                break;
        }
    }
    for (int a = 0; a < n_obs; a++)
        if (tr->obs[a].from >= 0 && tr->obs[a].keep)
            tr->tracks[tr->obs[a].from].seen = 1;
    /* 2. Detections of faces already followed are dropped. */
    for (int a = 0; a < n_obs; a++) {
        obs *oa = &tr->obs[a];
        if (oa->from >= 0)
            continue;
        oa->keep = 1;
        for (int b = 0; b < n_obs; b++) {
            const obs *ob = &tr->obs[b];
            if (ob->from >= 0 && ob->keep &&
                fs_tracker_iou(oa->face.box, ob->face.box) >= tr->p.iou_threshold) {
                oa->keep = 0;
                break;
            }
        }
    }
    /* 3. The rest meet the unseen tracks, best overlap first. */
    for (;;) {
        double best = -1.0;
        int best_o = -1, best_t = -1;
        for (int a = 0; a < n_obs; a++) {
            const obs *oa = &tr->obs[a];
            if (oa->from >= 0 || !oa->keep || oa->track >= 0)
                continue;
            for (int i = 0; i < tr->n_tracks; i++) {
                if (tr->tracks[i].seen)
                    continue;
                float pb[4];
                predicted_box(&tr->tracks[i], pb);
                const double iou = fs_tracker_iou(oa->face.box, pb);
                if (iou >= tr->p.iou_threshold && iou > best) {
                    best = iou;
                    best_o = a;
                    best_t = i;
                }
            }
        }
        if (best_o < 0)
            break;
        tr->obs[best_o].track = best_t;
        tr->tracks[best_t].seen = 1;
    }
    /* 4. Misses, and the end of tracks unseen too long. */
    int w = 0;
    int remap[MAX_FACES_LIMIT];
    for (int i = 0; i < tr->n_tracks; i++) {
        track *t = &tr->tracks[i];
        if (!t->seen && ++t->misses > tr->p.max_miss) {
            remap[i] = -1;
            continue;
        }
        remap[i] = w;
        if (w != i)
            tr->tracks[w] = *t;
        w++;
    }
    tr->n_tracks = w;
    /* 5. Kept faces update their tracks; new ones start tracks. */
    for (int a = 0; a < n_obs; a++) {
        obs *o = &tr->obs[a];
        if (!o->keep)
            continue;
        int ti = o->track >= 0 ? remap[o->track] : -1;
        o->face.is_new = 0;
        if (ti < 0) {
            if (tr->n_tracks >= tr->p.max_faces || tr->next_id == INT32_MAX)
                continue; /* the table is full: the face goes unreported */
            ti = tr->n_tracks++;
            memset(&tr->tracks[ti], 0, sizeof(track));
            tr->tracks[ti].id = tr->next_id++;
            o->face.is_new = 1;
        }
        update_track(&tr->tracks[ti], o);
        o->face.id = tr->tracks[ti].id;
        tr->faces[tr->n_faces++] = o->face;
    }
    if (detector_ran)
        tr->since_detect = 0;
    tr->cut = 0;
}

int fs_tracker_face_count(const fs_tracker *tr)
{
    return tr->n_faces;
}

const fs_tracker_face *fs_tracker_face_at(const fs_tracker *tr, int k)
{
    return k >= 0 && k < tr->n_faces ? &tr->faces[k] : NULL;
}

int fs_tracker_live_count(const fs_tracker *tr)
{
    return tr->n_tracks;
}
