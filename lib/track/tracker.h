/*
 * fs_tracker: the table of face tracks of the template analysis, with
 * stable ids, and the advice of when to run the detector.
 *
 * The analysis loop, per frame (t is a frame of the video, in order):
 *
 *     fs_tracker_begin(tr, is_cut);               // a cut ends every track
 *     for (int k = 0; k < fs_tracker_follow_count(tr); k++) {
 *         const fs_face_landmarks *prev;
 *         int id = fs_tracker_follow(tr, k, &prev);   // seen in the last frame
 *         if (prev && fs_fitter_track(fit, img, prev, &lm) == FS_OK) {
 *             fs_tracker_extent(&lm, box);
 *             fs_tracker_add(tr, id, box, &lm);
 *         } else {
 *             fs_tracker_lost(tr, id);
 *         }
 *     }
 *     if (fs_tracker_need_detect(tr))             // ask after following
 *         for each detection d whose fs_fitter_run gives lm:
 *             fs_tracker_extent(&lm, box), fs_tracker_add(tr, -1, box, &lm);
 *     fs_tracker_end(tr);
 *     for (int k = 0; k < fs_tracker_face_count(tr); k++)
 *         keep fs_tracker_face_at(tr, k): its id, box and landmarks
 *
 * Boxes are compared with boxes of the same kind: pass the landmarks'
 * extent (fs_tracker_extent) for followed and detected faces alike, not the
 * detector's box, which covers less of the face.
 *
 * What end() decides:
 *  - a followed face stays with its track; when two followed faces overlap
 *    by merge_iou or more (two tracks drifted onto one face, as when one
 *    face passes in front of another), the younger track yields its face
 *    and counts a miss;
 *  - a detected face that overlaps a face already kept this frame by
 *    iou_threshold or more is the same face and is dropped (the followed
 *    fit is kept: it continues its track's landmarks);
 *  - the other detections are matched to the tracks not seen this frame,
 *    greedily by IoU (highest first, at least iou_threshold) against each
 *    track's box moved on by its recent velocity for the frames it missed,
 *    so a face that passed behind another is found where it went;
 *  - a detection left over starts a track with a new id (ids grow from 0
 *    and are never reused); a track unseen for more than max_miss frames
 *    ends.
 * need_detect() is 1 on the first frame, at a cut, when no track is live,
 * when any track was lost this frame or is missing, and every
 * redetect_interval frames (the loop is taken to run the detector whenever
 * it was told to).
 *
 * Threading: one tracker per analysis; not for two threads at once.
 */
#ifndef FS_TRACK_TRACKER_H
#define FS_TRACK_TRACKER_H

#include "internal.h"

typedef struct fs_tracker fs_tracker;

typedef struct fs_tracker_params {
    double iou_threshold;  /* 0..1 (0.3): a detection joins a track or a kept face */
    double merge_iou;      /* 0..1 (0.5): two followed faces this close are one */
    int max_miss;          /* 0..100000 frames (12: 0.5 s at 25 fps) a track survives unseen */
    int redetect_interval; /* 1..100000 frames (10) between detector runs otherwise */
    int max_faces;         /* 1..256 (16): live tracks, and faces of each kind per frame */
} fs_tracker_params;

/* One face of the frame, after fs_tracker_end. */
typedef struct fs_tracker_face {
    int id;                      /* the track's id */
    int is_new;                  /* 1 on the track's first frame */
    int detected;                /* 1 when it came from this frame's detection */
    float box[4];                /* x, y, width, height as added */
    int has_landmarks;           /* 0 when added without landmarks */
    fs_face_landmarks landmarks; /* as added */
} fs_tracker_face;

void fs_tracker_params_default(fs_tracker_params *p);

/* @return FS_OK, FS_ERR_INVALID_ARGUMENT (NULL, a parameter out of range),
 *         FS_ERR_OUT_OF_MEMORY. @p out untouched on failure. */
fs_status fs_tracker_create(const fs_tracker_params *p, fs_tracker **out, fs_error_buf *err);

/* Accepts NULL. */
void fs_tracker_destroy(fs_tracker *tr);

/* Starts a frame; @p cut != 0 ends every track first. */
void fs_tracker_begin(fs_tracker *tr, int cut);

/* The tracks seen in the last frame, to follow with fs_fitter_track. */
int fs_tracker_follow_count(const fs_tracker *tr);

/* The id of the k-th track to follow; *last its last landmarks (NULL when
 * it was added without). -1 for k out of range. */
int fs_tracker_follow(const fs_tracker *tr, int k, const fs_face_landmarks **last);

/*
 * Adds a face of this frame: followed from track @p from_id, or detected
 * (from_id -1). @p box is x, y, width, height (finite, width and height
 * > 0); @p lm may be NULL. A from_id that is not a track followed this
 * frame, or that already has a face, is taken as a detection.
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT (NULL box, bad box),
 *         FS_ERR_TOO_LARGE (more than max_faces faces of one kind this frame).
 */
fs_status fs_tracker_add(fs_tracker *tr, int from_id, const float box[4],
                         const fs_face_landmarks *lm);

/* Says that following track @p id failed this frame (the fitter lost it). */
void fs_tracker_lost(fs_tracker *tr, int id);

/* 1 when the loop should run the detector on this frame (see above). */
int fs_tracker_need_detect(const fs_tracker *tr);

/* Ends the frame: matches, ids, misses. */
void fs_tracker_end(fs_tracker *tr);

/* The faces of the frame just ended, in the order they were added. */
int fs_tracker_face_count(const fs_tracker *tr);
const fs_tracker_face *fs_tracker_face_at(const fs_tracker *tr, int k);

/* Live tracks: seen in the last frame or missing for at most max_miss. */
int fs_tracker_live_count(const fs_tracker *tr);

/* Detail of the last error, "" when none. */
const char *fs_tracker_last_error(const fs_tracker *tr);

/* Box (x, y, width, height) of the 468 mesh points' extent. */
void fs_tracker_extent(const fs_face_landmarks *lm, float box[4]);

/* Intersection over union of two x, y, width, height boxes; 0 when empty. */
double fs_tracker_iou(const float a[4], const float b[4]);

#endif /* FS_TRACK_TRACKER_H */
