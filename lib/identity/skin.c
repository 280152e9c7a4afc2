/*
 * The skin colour model: see skin.h.
 */
#include "identity/skin.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIN_SAMPLES 64
#define EM_ROUNDS 8
/* Each variance at least this (levels^2): 8-bit steps, JPEG's chroma. */
#define VAR_FLOOR 4.0
/* A component with less of the samples than this is dropped. */
#define MIN_WEIGHT 0.05

static void to_ycc(const float rgb[3], float out[3])
{
    out[0] = 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
    out[1] = 128.0f - 0.168736f * rgb[0] - 0.331264f * rgb[1] + 0.5f * rgb[2];
    out[2] = 128.0f + 0.5f * rgb[0] - 0.418688f * rgb[1] - 0.081312f * rgb[2];
}

static float mahalanobis(const float *ic, const float d[3])
{
    return ic[0] * d[0] * d[0] + ic[3] * d[1] * d[1] + ic[5] * d[2] * d[2] +
           2.0f * (ic[1] * d[0] * d[1] + ic[2] * d[0] * d[2] + ic[4] * d[1] * d[2]);
}

float fs_skin_distance(const fs_skin_model *m, const float rgb[3], float *dy)
{
    float ycc[3], best_d = 0.0f, best_score = -INFINITY;
    int best = 0;
    to_ycc(rgb, ycc);
    for (int j = 0; j < m->k; j++) {
        const float d[3] = {ycc[0] - m->mean[j][0], ycc[1] - m->mean[j][1], ycc[2] - m->mean[j][2]};
        const float q = mahalanobis(m->icov[j], d);
        const float score = m->lognorm[j] - 0.5f * q;
        if (score > best_score) {
            best_score = score;
            best_d = q;
            best = j;
        }
    }
    if (dy)
        *dy = ycc[0] - m->mean[best][0];
    return best_d;
}

/* Inverse of the symmetric 3 x 3 @p c (packed as icov) into @p out; its
 * determinant, <= 0 when not positive definite. */
static double invert_sym(const double c[6], double out[6])
{
    const double a = c[0], b = c[1], cc = c[2], d = c[3], e = c[4], f = c[5];
    const double A = d * f - e * e, B = -(b * f - e * cc), C = b * e - d * cc;
    const double det = a * A + b * B + cc * C;
    if (!(det > 0.0))
        return det;
    out[0] = A / det;
    out[1] = B / det;
    out[2] = C / det;
    out[3] = (a * f - cc * cc) / det;
    out[4] = -(a * e - b * cc) / det;
    out[5] = (a * d - b * b) / det;
    return det;
}

int fs_skin_model_check(fs_skin_model *m)
{
    if (m->k < 0 || m->k > FS_SKIN_COMPONENTS)
        return 0;
    for (int j = 0; j < m->k; j++) {
        if (!(m->weight[j] > 0.0f && m->weight[j] <= 1.0f))
            return 0;
        for (int c = 0; c < 3; c++)
            if (!(m->mean[j][c] >= 0.0f && m->mean[j][c] <= 255.0f))
                return 0;
        double ic[6], cov[6];
        for (int i = 0; i < 6; i++) {
            if (!(fabsf(m->icov[j][i]) <= 1.0f)) /* variances of at least 1 level^2 */
                return 0;
            ic[i] = m->icov[j][i];
        }
        /* Positive definite: leading minors positive. */
        if (!(ic[0] > 0.0) || !(ic[0] * ic[3] - ic[1] * ic[1] > 0.0))
            return 0;
        const double det_cov = invert_sym(ic, cov);
        if (!(det_cov > 0.0))
            return 0;
        m->lognorm[j] = (float)(log(m->weight[j]) + 0.5 * log(det_cov));
    }
    return 1;
}

int fs_skin_model_fit(const float *rgb, long n, fs_skin_model *out)
{
    memset(out, 0, sizeof(*out));
    if (n < MIN_SAMPLES)
        return 0;
    float *ycc = malloc((size_t)n * 3 * sizeof(float));
    float *resp = malloc((size_t)n * FS_SKIN_COMPONENTS * sizeof(float));
    if (!ycc || !resp) {
        free(ycc);
        free(resp);
        return -1;
    }
    double ymean = 0;
    for (long i = 0; i < n; i++) {
        to_ycc(rgb + 3 * i, ycc + 3 * i);
        ymean += ycc[3 * i];
    }
    ymean /= (double)n;
    /* Start: the darker and the brighter half, each wholly one component. */
    int k = FS_SKIN_COMPONENTS;
    for (long i = 0; i < n; i++) {
        const int bright = ycc[3 * i] >= ymean;
        resp[i * k] = bright ? 0.0f : 1.0f;
        resp[i * k + 1] = bright ? 1.0f : 0.0f;
    }
    fs_skin_model m;
    int ok = 0;
    for (int round = 0; round <= EM_ROUNDS; round++) {
        /* M step. */
        memset(&m, 0, sizeof(m));
        int kept = 0;
        for (int j = 0; j < k; j++) {
            double w = 0, mu[3] = {0, 0, 0};
            for (long i = 0; i < n; i++) {
                const double r = resp[i * k + j];
                w += r;
                for (int c = 0; c < 3; c++)
                    mu[c] += r * ycc[3 * i + c];
            }
            if (!(w >= MIN_WEIGHT * (double)n))
                continue;
            for (int c = 0; c < 3; c++)
                mu[c] /= w;
            double cov[6] = {0};
            for (long i = 0; i < n; i++) {
                const double r = resp[i * k + j];
                const double d0 = ycc[3 * i] - mu[0], d1 = ycc[3 * i + 1] - mu[1],
                             d2 = ycc[3 * i + 2] - mu[2];
                cov[0] += r * d0 * d0;
                cov[1] += r * d0 * d1;
                cov[2] += r * d0 * d2;
                cov[3] += r * d1 * d1;
                cov[4] += r * d1 * d2;
                cov[5] += r * d2 * d2;
            }
            for (int c = 0; c < 6; c++)
                cov[c] /= w;
            cov[0] += VAR_FLOOR;
            cov[3] += VAR_FLOOR;
            cov[5] += VAR_FLOOR;
            double ic[6];
            if (!(invert_sym(cov, ic) > 0.0))
                continue;
            m.weight[kept] = (float)(w / (double)n);
            for (int c = 0; c < 3; c++)
                m.mean[kept][c] = (float)mu[c];
            for (int c = 0; c < 6; c++)
                m.icov[kept][c] = (float)ic[c];
            kept++;
        }
        m.k = kept;
        ok = kept > 0 && fs_skin_model_check(&m);
        if (!ok || round == EM_ROUNDS)
            break;
        /* E step, over the components kept. */
        k = kept;
        for (long i = 0; i < n; i++) {
            double p[FS_SKIN_COMPONENTS], s = 0, best = -INFINITY;
            for (int j = 0; j < k; j++) {
                const float d[3] = {ycc[3 * i] - m.mean[j][0], ycc[3 * i + 1] - m.mean[j][1],
                                    ycc[3 * i + 2] - m.mean[j][2]};
                p[j] = m.lognorm[j] - 0.5 * mahalanobis(m.icov[j], d);
                best = p[j] > best ? p[j] : best;
            }
            for (int j = 0; j < k; j++)
                s += (p[j] = exp(p[j] - best));
            for (int j = 0; j < k; j++)
                resp[i * k + j] = (float)(p[j] / s);
        }
    }
    free(ycc);
    free(resp);
    if (!ok)
        return 0;
    *out = m;
    return 1;
}
