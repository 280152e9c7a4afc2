/*
 * Offline smoothing of one face track's landmarks, and of small per-frame
 * statistics, for the template analysis.
 *
 * The analysis holds a whole track before it saves anything, so the
 * smoothers here are two-sided (zero phase): a first-order low-pass run
 * forward, then backward over the forward pass's output, with the same
 * per-interval smoothing factors both ways. A ramp (steady pan, zoom or
 * turn) comes out without lag, and noise meets the filter twice.
 *
 * The cutoff of each interval follows One Euro's rule, fc = cutoff + beta
 * * speed, with three changes that a whole track allows and the test's
 * figures asked for (tests/test_track.c, smooth_*):
 *  - the speed is a least-squares slope over a compact window centred on
 *    the frame (+-speed_window), not a causal low-pass: it does not lag the
 *    motion, and a move's speed does not leak into the still frames around
 *    it (with an IIR low-pass of the speed the filter stayed open in the
 *    pauses and they jittered 0.2 px);
 *  - the similarity's speed is the largest within +-lead, so the filter is
 *    already open where a move starts and still open where it stops: a
 *    zero-phase filter errs at a change of velocity, by v * tau / 2 at a
 *    kink, and the error it has left when it closes drains slowly through
 *    the pause that follows;
 *  - speeds below a floor count as the fitter's noise (beta acts on
 *    speed - floor), so that a still face does not open its own filter.
 * Why not the average of a forward and a backward One Euro: each pass lags
 * (or leads) through the start of a motion, and the average halves the
 * noise power at best; the cascade squares the filter's attenuation.
 */
#ifndef FS_TRACK_SMOOTH_H
#define FS_TRACK_SMOOTH_H

#include <stdint.h>

#include "internal.h"

/* valid[] values: 0 no face in the frame; measured; filled across a gap. */
#define FS_SMOOTH_MISSING 0
#define FS_SMOOTH_MEASURED 1
#define FS_SMOOTH_BRIDGED 2

/*
 * Speeds are counted in face radii per second, the radius being the RMS
 * distance of the 468 mesh points from their centroid (about a third of
 * the face's width): one setting then serves 100-px and 600-px faces, and
 * cutoffs in Hz serve every frame rate.
 */
typedef struct fs_smooth_params {
    double min_cutoff;   /* Hz, > 0: the head's similarity (position, size, roll) at rest */
    double beta;         /* Hz per radius/s, >= 0: how fast the similarity's cutoff opens */
    double shape_cutoff; /* Hz, > 0: the face's shape in its own frame, at rest */
    double shape_beta;   /* Hz per radius/s, >= 0: opens on a point's own motion (blinks, mouth) */
    double speed_window; /* s, >= 0: speeds are least-squares slopes over +-speed_window */
    double max_gap;      /* s, >= 0: missing spans up to this long are bridged */
    double lead;         /* s, >= 0: the similarity's speed is the largest within +-lead,
                            so its filter opens before a move starts */
    double speed_floor;  /* radius/s, >= 0: similarity speeds below it are noise, not motion */
    double shape_floor;  /* radius/s, >= 0: the same for a point of the shape (noisier) */
} fs_smooth_params;

/* The defaults (tests/test_track.c measures them). */
void fs_smooth_params_default(fs_smooth_params *p);

/*
 * Smooths one track in place.
 *
 * Each measured frame's 478 points are split into a similarity (centroid,
 * scale, in-plane rotation: a Procrustes fit of the mesh points, x and y,
 * to the track's mean shape) and a local shape (the points in the face's
 * own frame; z divided by the scale). The similarity is smoothed with
 * min_cutoff / beta, one speed shared by its four parameters (a pan, a
 * zoom and a turn all open it); each point of the local shape with
 * shape_cutoff / shape_beta on its own speed; then they are recomposed.
 *
 * @param points  n frames of FS_LANDMARKS x (x, y, z), image px; only
 *                frames with valid[i] != 0 are read.
 * @param t       n times in seconds, |t| <= 1e6, non-decreasing (frame times
 *                may be irregular; equal times are allowed).
 * @param valid   n flags: 0 no face, nonzero measured. On success a missing
 *                span whose valid neighbours are at most max_gap apart
 *                (t[b] - t[a]) is filled by interpolation (of the
 *                similarity and the shape, so a turn stays a turn) and
 *                marked FS_SMOOTH_BRIDGED, and smoothed with its segment;
 *                measured frames become FS_SMOOTH_MEASURED. Longer spans
 *                split the track: each segment is smoothed alone.
 * @return FS_OK; FS_ERR_INVALID_ARGUMENT (NULL, n < 0, a parameter out of
 *         range, a time beyond 1e6 s or decreasing, a coordinate not finite
 *         or beyond 1e6 px, a frame whose points collapse to one point);
 *         FS_ERR_OUT_OF_MEMORY. On failure nothing is written.
 */
fs_status fs_smooth_track(float (*points)[FS_LANDMARKS][3], const double *t, uint8_t *valid,
                          int n, const fs_smooth_params *p, fs_error_buf *err);

/*
 * Zero-phase low-pass (first order, forward then backward, cutoff_hz) of
 * k values per frame, v[i * k + j], over the frames with valid[i] != 0, at
 * their times; other frames are neither read nor written. A gap long
 * against 1 / cutoff_hz restarts the filter in effect (the smoothing
 * factor of an interval goes to 1 as it lengthens).
 * @return FS_OK; FS_ERR_INVALID_ARGUMENT (NULL, n < 0, k outside 1..1024,
 *         cutoff not > 0, a time beyond 1e6 s or decreasing, a value not
 *         finite); FS_ERR_OUT_OF_MEMORY. On failure nothing is written.
 */
fs_status fs_smooth_series(float *v, int k, const double *t, const uint8_t *valid, int n,
                           double cutoff_hz, fs_error_buf *err);

#endif /* FS_TRACK_SMOOTH_H */
