/*
 * The source's light out of the atlas: see light.h.
 *
 * Why this model: a face is close to Lambertian at the scale of a cheek,
 * and second-order spherical harmonics hold any distant light on a convex
 * Lambertian surface to within a few percent, so 9 coefficients describe a
 * ramp, a side light or a top light. A coloured light and a skin colour
 * look the same to a per-channel fit, so the channels share one luminance
 * light and only a strongly penalised per-channel deviation: a colour over
 * the whole face stays skin, a colour that changes with the normal is light.
 */
#include "identity/light.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The lips' outer contour (MediaPipe lipsUpperOuter + lipsLowerOuter):
 * lips are redder and darker than skin and would read as light. */
static const uint16_t ring_lips[] = {61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291,
                                     375, 321, 405, 314, 17, 84, 181, 91, 146};
#define N_LIPS (int)(sizeof(ring_lips) / sizeof(ring_lips[0]))

void fs_sh_basis(const float n[3], float out[FS_SH_COEFFS])
{
    const float x = n[0], y = n[1], z = n[2];
    out[0] = 1.0f;
    out[1] = y;
    out[2] = z;
    out[3] = x;
    out[4] = x * y;
    out[5] = y * z;
    out[6] = 3.0f * z * z - 1.0f;
    out[7] = x * z;
    out[8] = x * x - y * y;
}

void fs_sh_shade(const fs_sh_light *light, const float n[3], float out[3])
{
    float h[FS_SH_COEFFS];
    fs_sh_basis(n, h);
    for (int c = 0; c < 3; c++) {
        float s = 0;
        for (int k = 0; k < FS_SH_COEFFS; k++)
            s += light->coeff[c][k] * h[k];
        out[c] = s;
    }
}

static float to_linear(float c)
{
    c /= 255.0f;
    return c <= 0.04045f ? c / 12.92f : powf((c + 0.055f) / 1.055f, 2.4f);
}

static uint8_t to_srgb8(float v)
{
    v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    const float c = v <= 0.0031308f ? 12.92f * v : 1.055f * powf(v, 1.0f / 2.4f) - 0.055f;
    return (uint8_t)(255.0f * c + 0.5f);
}

static int in_polygon(const fs_atlas_mesh *mesh, const uint16_t *ring, int n, float u, float v)
{
    int inside = 0;
    for (int i = 0, j = n - 1; i < n; j = i++) {
        const float *a = mesh->uv[ring[i]], *b = mesh->uv[ring[j]];
        if ((a[1] > v) != (b[1] > v) && u < (b[0] - a[0]) * (v - a[1]) / (b[1] - a[1]) + a[0])
            inside = !inside;
    }
    return inside;
}

/* Per-texel normals interpolated over the UV triangles (0 where none). */
static void texel_normals(const fs_atlas_mesh *mesh, float vn[FS_MESH_LANDMARKS][3], int size,
                          float *out)
{
    for (int t = 0; t < mesh->n_triangles; t++) {
        const uint16_t *tr = mesh->triangles[t];
        float U[3], V[3];
        for (int k = 0; k < 3; k++) {
            U[k] = mesh->uv[tr[k]][0] * (float)size - 0.5f;
            V[k] = mesh->uv[tr[k]][1] * (float)size - 0.5f;
        }
        const float area = (U[1] - U[0]) * (V[2] - V[0]) - (V[1] - V[0]) * (U[2] - U[0]);
        if (fabsf(area) < 1e-9f)
            continue;
        const int x0 = (int)fmaxf(0.0f, floorf(fminf(U[0], fminf(U[1], U[2])))),
                  x1 = (int)fminf((float)size - 1, ceilf(fmaxf(U[0], fmaxf(U[1], U[2])))),
                  y0 = (int)fmaxf(0.0f, floorf(fminf(V[0], fminf(V[1], V[2])))),
                  y1 = (int)fminf((float)size - 1, ceilf(fmaxf(V[0], fmaxf(V[1], V[2]))));
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++) {
                const float px = (float)x, py = (float)y;
                const float b1 = ((px - U[0]) * (V[2] - V[0]) - (py - V[0]) * (U[2] - U[0])) / area;
                const float b2 = ((U[1] - U[0]) * (py - V[0]) - (V[1] - V[0]) * (px - U[0])) / area;
                const float b0 = 1.0f - b1 - b2;
                if (b0 < -1e-3f || b1 < -1e-3f || b2 < -1e-3f)
                    continue;
                float n[3];
                for (int j = 0; j < 3; j++)
                    n[j] = b0 * vn[tr[0]][j] + b1 * vn[tr[1]][j] + b2 * vn[tr[2]][j];
                const float len = sqrtf(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
                float *o = out + 3 * ((size_t)y * (size_t)size + (size_t)x);
                for (int j = 0; j < 3; j++)
                    o[j] = len > 1e-6f ? n[j] / len : 0.0f;
            }
    }
}

/* Solves (A + ridge I) x = b, 9 x 9, by Gaussian elimination with partial
 * pivoting; 0 when singular. */
static int solve9(const double A[FS_SH_COEFFS][FS_SH_COEFFS], const double b[FS_SH_COEFFS],
                  double ridge, double x[FS_SH_COEFFS])
{
    double m[FS_SH_COEFFS][FS_SH_COEFFS + 1];
    for (int i = 0; i < FS_SH_COEFFS; i++) {
        for (int j = 0; j < FS_SH_COEFFS; j++)
            m[i][j] = A[i][j] + (i == j ? ridge : 0.0);
        m[i][FS_SH_COEFFS] = b[i];
    }
    for (int c = 0; c < FS_SH_COEFFS; c++) {
        int p = c;
        for (int r = c + 1; r < FS_SH_COEFFS; r++)
            if (fabs(m[r][c]) > fabs(m[p][c]))
                p = r;
        if (!(fabs(m[p][c]) > 1e-12))
            return 0;
        for (int j = 0; j <= FS_SH_COEFFS; j++) {
            const double t = m[c][j];
            m[c][j] = m[p][j];
            m[p][j] = t;
        }
        for (int r = c + 1; r < FS_SH_COEFFS; r++) {
            const double f = m[r][c] / m[c][c];
            for (int j = c; j <= FS_SH_COEFFS; j++)
                m[r][j] -= f * m[c][j];
        }
    }
    for (int i = FS_SH_COEFFS - 1; i >= 0; i--) {
        double s = m[i][FS_SH_COEFFS];
        for (int j = i + 1; j < FS_SH_COEFFS; j++)
            s -= m[i][j] * x[j];
        x[i] = s / m[i][i];
    }
    return 1;
}

/* Ridge on the luminance light, a fraction of the mean diagonal: the face's
 * normals cover less than a hemisphere, so some second-order terms are
 * barely determined. The per-channel deviation gets a strong one. */
#define RIDGE_LUMA 0.02
#define RIDGE_COLOUR 0.5
#define MIN_FIT 64
/* Shading floor (fraction of its skin mean): a deep shadow divided out
 * would blow up the photo's noise. */
#define SHADE_FLOOR 0.25f

/* Masked box mean (radius @p r) of the 3 planes @p in where @p m, through
 * an integral image; out = in where the box holds nothing. */
static int masked_box(const float *in, const uint8_t *m, int n, int r, float *out)
{
    const size_t w1 = (size_t)n + 1;
    double *I = calloc(w1 * w1 * 4, sizeof(double));
    if (!I)
        return 0;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            const size_t t = (size_t)y * (size_t)n + (size_t)x;
            for (int k = 0; k < 4; k++) {
                const double v = m[t] ? (k < 3 ? in[3 * t + (size_t)k] : 1.0) : 0.0;
                I[4 * ((size_t)(y + 1) * w1 + (size_t)(x + 1)) + (size_t)k] =
                    v + I[4 * ((size_t)y * w1 + (size_t)(x + 1)) + (size_t)k] +
                    I[4 * ((size_t)(y + 1) * w1 + (size_t)x) + (size_t)k] -
                    I[4 * ((size_t)y * w1 + (size_t)x) + (size_t)k];
            }
        }
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            const int xa = x - r < 0 ? 0 : x - r, xb = x + r + 1 > n ? n : x + r + 1;
            const int ya = y - r < 0 ? 0 : y - r, yb = y + r + 1 > n ? n : y + r + 1;
            double s[4];
            for (int k = 0; k < 4; k++)
                s[k] = I[4 * ((size_t)yb * w1 + (size_t)xb) + (size_t)k] -
                       I[4 * ((size_t)ya * w1 + (size_t)xb) + (size_t)k] -
                       I[4 * ((size_t)yb * w1 + (size_t)xa) + (size_t)k] +
                       I[4 * ((size_t)ya * w1 + (size_t)xa) + (size_t)k];
            const size_t t = (size_t)y * (size_t)n + (size_t)x;
            for (int k = 0; k < 3; k++)
                out[3 * t + (size_t)k] = s[3] > 0.5 ? (float)(s[k] / s[3]) : in[3 * t + (size_t)k];
        }
    free(I);
    return 1;
}

static float luma(const float *c)
{
    return 0.2126f * c[0] + 0.7152f * c[1] + 0.0722f * c[2];
}

/* Highlights: texels brighter than the local albedo of the skin around
 * them (a box mean without the highlights themselves) by more than
 * HL_START are pulled towards it, fully from HL_FULL: a highlight is the
 * light's colour added on the skin, not skin, and would travel with it. */
#define HL_START 1.15f
#define HL_FULL 1.35f

static int pull_highlights(float *alb, const uint8_t *use, int n, float *local)
{
    const size_t texels = (size_t)n * (size_t)n;
    uint8_t *m = malloc(texels);
    if (!m)
        return 0;
    /* The local albedo from the fit's skin only (no brows, make-up, lips
     * or hair, which would pull it down and make plain skin next to them
     * look like a highlight); every footprint skin texel may be pulled. */
    for (size_t t = 0; t < texels; t++)
        m[t] = use[t] == 1;
    const int r = n / 24 > 2 ? n / 24 : 2;
    for (int pass = 0; pass < 2; pass++) {
        if (!masked_box(alb, m, n, r, local)) {
            free(m);
            return 0;
        }
        /* The second pass measures the local albedo without the first's
         * highlights, which would raise it. */
        for (size_t t = 0; t < texels; t++)
            if (m[t] && luma(alb + 3 * t) > HL_START * luma(local + 3 * t))
                m[t] = 0;
    }
    for (size_t t = 0; t < texels; t++) {
        const float y = luma(alb + 3 * t), ly = luma(local + 3 * t);
        if (!use[t] || !(ly > 0.0f) || y <= HL_START * ly)
            continue;
        float f = (y / ly - HL_START) / (HL_FULL - HL_START);
        f = f > 1.0f ? 1.0f : f;
        for (int c = 0; c < 3; c++)
            alb[3 * t + (size_t)c] += f * (local[3 * t + (size_t)c] - alb[3 * t + (size_t)c]);
    }
    free(m);
    return 1;
}

fs_status fs_atlas_delight(fs_atlas *atlas, const float (*points)[3], const fs_atlas_mesh *mesh,
                           fs_sh_light *light, fs_error_buf *err)
{
    if (!atlas || !atlas->rgba || !atlas->weight || !points || !mesh)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_atlas_delight: NULL argument");
    const int n = atlas->size;
    const size_t texels = (size_t)n * (size_t)n;
    float *nrm = calloc(texels * 3, sizeof(float));
    float *lin = malloc(texels * 3 * sizeof(float));
    float *tmp = malloc(texels * 3 * sizeof(float));
    uint8_t *use = calloc(texels, 1);  /* 1: skin for the fit; 2: footprint skin (highlights) */
    if (!nrm || !lin || !tmp || !use) {
        free(nrm);
        free(lin);
        free(tmp);
        free(use);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "atlas light: out of memory");
    }
    float vn[FS_MESH_LANDMARKS][3];
    fs_atlas_vertex_normals(points, mesh, vn);
    texel_normals(mesh, vn, n, nrm);

    /* Candidate skin: well seen, inside the footprint, outside the openings
     * and the lips, not saturated, with a normal. */
    float lut[256];
    for (int i = 0; i < 256; i++)
        lut[i] = to_linear((float)i);
    enum { BINS = 1024 };
    int hist[BINS] = {0};
    double sy = 0, syy = 0;
    long cand = 0;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            const size_t t = (size_t)y * (size_t)n + (size_t)x;
            const uint8_t *px = atlas->rgba + 4 * t;
            for (int c = 0; c < 3; c++)
                lin[3 * t + (size_t)c] = lut[px[c]];
            const float *nt = nrm + 3 * t;
            if (px[3] != 255 || (nt[2] == 0.0f && nt[0] == 0.0f && nt[1] == 0.0f))
                continue;
            const float u = ((float)x + 0.5f) / (float)n, v = ((float)y + 0.5f) / (float)n;
            if (fs_atlas_in_region(mesh, u, v) || in_polygon(mesh, ring_lips, N_LIPS, u, v))
                continue;
            use[t] = 2;
            if (atlas->weight[t] < 77 || px[0] >= 250 || px[1] >= 250 || px[2] >= 250)
                continue;
            const float Y = luma(lin + 3 * t);
            use[t] = 1;
            sy += Y;
            syy += (double)Y * Y;
            hist[(int)fminf(Y * (BINS - 1), BINS - 1)]++;
            cand++;
        }
    fs_sh_light L;
    memset(&L, 0, sizeof(L));
    for (int c = 0; c < 3; c++)
        L.coeff[c][0] = 1.0f;
    if (cand >= MIN_FIT) {
        const double my = sy / (double)cand;
        const double sd = sqrt(fmax(syy / (double)cand - my * my, 0.0));
        /* Highlights: the brightest 3%; dark outliers (brows, hair, shadow
         * holes): 1.5 deviations under the mean. */
        long above = 0;
        int top = BINS - 1;
        while (top > 0 && above + hist[top] <= cand * 3 / 100)
            above += hist[top--];
        const float hi = (float)(top + 1) / (BINS - 1), lo = (float)(my - 1.5 * sd);
        double mean[3] = {0, 0, 0};
        long nf = 0;
        for (size_t t = 0; t < texels; t++) {
            if (use[t] != 1)
                continue;
            const float Y = luma(lin + 3 * t);
            if (Y >= hi || Y < lo) {
                use[t] = 2;
                continue;
            }
            for (int c = 0; c < 3; c++)
                mean[c] += lin[3 * t + (size_t)c];
            nf++;
        }
        double A[FS_SH_COEFFS][FS_SH_COEFFS] = {{0}}, b[3][FS_SH_COEFFS] = {{0}},
               bl[FS_SH_COEFFS] = {0};
        for (int c = 0; c < 3; c++)
            mean[c] = nf ? fmax(mean[c] / (double)nf, 1e-6) : 1.0;
        for (size_t t = 0; t < texels && nf >= MIN_FIT; t++) {
            if (use[t] != 1)
                continue;
            float h[FS_SH_COEFFS];
            fs_sh_basis(nrm + 3 * t, h);
            /* Each channel over its own skin mean: the face-wide colour is
             * skin, what is left is light. */
            double q[3], ql = 0;
            for (int c = 0; c < 3; c++) {
                q[c] = lin[3 * t + (size_t)c] / mean[c];
                ql += q[c] / 3.0;
            }
            for (int i = 0; i < FS_SH_COEFFS; i++) {
                for (int j = 0; j < FS_SH_COEFFS; j++)
                    A[i][j] += (double)h[i] * h[j];
                bl[i] += h[i] * ql;
                for (int c = 0; c < 3; c++)
                    b[c][i] += h[i] * (q[c] - ql);
            }
        }
        double diag = 0;
        for (int i = 0; i < FS_SH_COEFFS; i++)
            diag += A[i][i] / FS_SH_COEFFS;
        double xl[FS_SH_COEFFS], xc[3][FS_SH_COEFFS];
        int ok = nf >= MIN_FIT && solve9((const double(*)[FS_SH_COEFFS])A, bl, RIDGE_LUMA * diag, xl);
        for (int c = 0; c < 3 && ok; c++)
            ok = solve9((const double(*)[FS_SH_COEFFS])A, b[c], RIDGE_COLOUR * diag, xc[c]);
        if (ok) {
            /* Normalise each channel's shading to mean 1 over the fitted
             * skin, so that the albedo keeps the photo's skin mean. */
            double smean[3] = {0, 0, 0};
            for (size_t t = 0; t < texels; t++) {
                if (use[t] != 1)
                    continue;
                float h[FS_SH_COEFFS];
                fs_sh_basis(nrm + 3 * t, h);
                for (int c = 0; c < 3; c++)
                    for (int i = 0; i < FS_SH_COEFFS; i++)
                        smean[c] += (xl[i] + xc[c][i]) * h[i];
            }
            for (int c = 0; c < 3; c++) {
                smean[c] /= (double)nf;
                for (int i = 0; i < FS_SH_COEFFS; i++)
                    L.coeff[c][i] = smean[c] > 1e-6 ? (float)((xl[i] + xc[c][i]) / smean[c]) : (i == 0);
            }
            L.n_fit = (int)nf;
        }
    }
    if (L.n_fit > 0) {
        for (size_t t = 0; t < texels; t++) {
            const float *nt = nrm + 3 * t;
            if (atlas->rgba[4 * t + 3] != 255 || (nt[0] == 0.0f && nt[1] == 0.0f && nt[2] == 0.0f))
                continue;
            float s[3];
            fs_sh_shade(&L, nt, s);
            for (int c = 0; c < 3; c++)
                lin[3 * t + (size_t)c] /= fmaxf(s[c], SHADE_FLOOR);
        }
        if (!pull_highlights(lin, use, n, tmp)) {
            free(nrm);
            free(lin);
            free(tmp);
            free(use);
            return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "atlas light: out of memory");
        }
        /* Back to 8 bits, and the CIELAB statistics over the well-seen skin
         * as fs_atlas_build takes them (one texel in four). */
        double acc[7] = {0};
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++) {
                const size_t t = (size_t)y * (size_t)n + (size_t)x;
                uint8_t *px = atlas->rgba + 4 * t;
                if (px[3] != 255)
                    continue;
                for (int c = 0; c < 3; c++)
                    px[c] = to_srgb8(lin[3 * t + (size_t)c]);
                if (((x | y) & 1) || atlas->weight[t] < 77 ||
                    fs_atlas_in_region(mesh, ((float)x + 0.5f) / (float)n, ((float)y + 0.5f) / (float)n))
                    continue;
                float lab[3];
                fs_srgb_to_lab(px, lab);
                acc[0] += 1;
                for (int c = 0; c < 3; c++) {
                    acc[1 + c] += lab[c];
                    acc[4 + c] += (double)lab[c] * lab[c];
                }
            }
        for (int c = 0; c < 3 && acc[0] > 0; c++) {
            const double m = acc[1 + c] / acc[0], var = acc[4 + c] / acc[0] - m * m;
            atlas->lab_mean[c] = (float)m;
            atlas->lab_std[c] = (float)sqrt(var > 0 ? var : 0);
        }
    }
    if (light)
        *light = L;
    free(nrm);
    free(lin);
    free(tmp);
    free(use);
    return FS_OK;
}
