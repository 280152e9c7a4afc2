/*
 * One Euro filter (Casiez, Roussel, Vogel, CHI 2012) on one scalar, with
 * explicit timestamps so that irregular frame times (variable-frame-rate
 * video, dropped frames) are filtered as what they are.
 *
 * Each step low-passes the signal with a first-order filter whose cutoff
 * rises with the signal's speed: fc = min_cutoff + beta * |dx/dt|, where
 * dx/dt is itself low-passed at d_cutoff. Slow signals are smoothed hard
 * (jitter goes), fast ones pass with little lag. Units: cutoffs in Hz; beta
 * in Hz per (signal unit per second), so a caller that wants one setting
 * for every face size feeds the filter values in face sizes, or scales the
 * speed itself (fs_one_euro_step_scaled).
 */
#ifndef FS_TRACK_ONE_EURO_H
#define FS_TRACK_ONE_EURO_H

typedef struct fs_one_euro {
    double min_cutoff; /* Hz, > 0 */
    double beta;       /* Hz per (unit/s), >= 0 */
    double d_cutoff;   /* Hz, > 0 */
    double x, dx, t;   /* last output, last filtered speed, last time */
    int started;
} fs_one_euro;

/* Smoothing factor of a first-order low-pass at @p cutoff Hz over a step of
 * @p dt seconds: dt / (dt + 1 / (2 pi cutoff)). 0 for dt <= 0 (a repeated
 * timestamp holds the output), close to 1 for dt much longer than the
 * filter's time constant (a long gap restarts it in effect). */
double fs_one_euro_alpha(double dt, double cutoff);

/* Sets the parameters and clears the state. Values are not checked here:
 * callers validate their own parameter sets. */
void fs_one_euro_init(fs_one_euro *f, double min_cutoff, double beta, double d_cutoff);

/* Forgets the signal (the next step passes its input through). */
void fs_one_euro_reset(fs_one_euro *f);

/*
 * Filters @p x taken at time @p t (seconds). The first step after init or
 * reset returns x. Times must not decrease; a step with t equal to the
 * previous one returns the previous output unchanged.
 */
double fs_one_euro_step(fs_one_euro *f, double x, double t);

/* As fs_one_euro_step, with the speed divided by @p speed_unit (> 0) before
 * it meets beta: e.g. px values with speeds counted in face sizes per
 * second. */
double fs_one_euro_step_scaled(fs_one_euro *f, double x, double t, double speed_unit);

#endif /* FS_TRACK_ONE_EURO_H */
