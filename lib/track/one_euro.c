/*
 * One Euro filter with explicit timestamps (one_euro.h).
 */
#include "track/one_euro.h"

#include <math.h>

#define TWO_PI 6.28318530717958647692

double fs_one_euro_alpha(double dt, double cutoff)
{
    if (!(dt > 0.0) || !(cutoff > 0.0))
        return 0.0;
    if (isinf(dt) || isinf(cutoff))
        return 1.0;
    /* dt / (dt + tau) rather than 1 / (1 + tau / dt): no division by a
     * vanishing dt, and exactly 0 at dt = 0. */
    const double tau = 1.0 / (TWO_PI * cutoff);
    return dt / (dt + tau);
}

void fs_one_euro_init(fs_one_euro *f, double min_cutoff, double beta, double d_cutoff)
{
    f->min_cutoff = min_cutoff;
    f->beta = beta;
    f->d_cutoff = d_cutoff;
    fs_one_euro_reset(f);
}

void fs_one_euro_reset(fs_one_euro *f)
{
    f->x = 0.0;
    f->dx = 0.0;
    f->t = 0.0;
    f->started = 0;
}

double fs_one_euro_step_scaled(fs_one_euro *f, double x, double t, double speed_unit)
{
    if (!f->started) {
        f->x = x;
        f->dx = 0.0;
        f->t = t;
        f->started = 1;
        return x;
    }
    const double dt = t - f->t;
    if (!(dt > 0.0))
        return f->x;
    /* The speed is measured against the last output, not the last input, as
     * in the paper: a noisy input then reads as slow. */
    const double raw_dx = (x - f->x) / dt;
    f->dx += fs_one_euro_alpha(dt, f->d_cutoff) * (raw_dx - f->dx);
    const double speed = fabs(f->dx) / (speed_unit > 0.0 ? speed_unit : 1.0);
    const double cutoff = f->min_cutoff + f->beta * speed;
    f->x += fs_one_euro_alpha(dt, cutoff) * (x - f->x);
    f->t = t;
    return f->x;
}

double fs_one_euro_step(fs_one_euro *f, double x, double t)
{
    return fs_one_euro_step_scaled(f, x, t, 1.0);
}
