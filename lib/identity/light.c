/*
 * The source's light out of the atlas: see light.h.
 *
 * The model and why: lib/light/shading.h. Here: which texels are skin,
 * where each lies in the photo and which way it faces, and the
 * highlights, which no smooth light holds.
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

static uint8_t to_srgb8(float v)
{
    return (uint8_t)(255.0f * fs_linear_to_srgb(v) + 0.5f);
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

int fs_atlas_light_skin(const fs_atlas_mesh *mesh, float u, float v)
{
    return !fs_atlas_in_region(mesh, u, v) && !in_polygon(mesh, ring_lips, N_LIPS, u, v);
}

/* Specular highlights: on skin the highlight is the light's own colour
 * added on top of the diffuse colour (the dichromatic model), so it is taken
 * out by subtraction, not by replacing the texel: the skin's texture under
 * it stays. The highlight layer is the smooth excess of the albedo's
 * luminance (box-smoothed over a texel or two, so that pores and freckles
 * are not highlights) over the local albedo of the skin around it (box mean at
 * a tenth of the atlas, without the highlights themselves, which would
 * raise it), beyond the margin (FS_ATLAS_HIGHLIGHT_MARGIN) times it. A texel
 * keeps at least HL_KEEP of the local albedo. The margin is wide: at 1.08 the
 * self-swap's SSIM fell from 0.932 to 0.875 (the light fit's own residue read
 * as highlight), at 1.5 the pull took a turned face's own lighter skin and
 * likeness with it, and a broad test spot still mostly stays
 * (doc/light-notes.md). */
#define HL_KEEP 0.6f

static int pull_highlights(float *alb, const uint8_t *use, int n, float margin)
{
    const size_t texels = (size_t)n * (size_t)n;
    uint8_t *m = malloc(texels), *all = malloc(texels);
    float *excess = malloc(texels * sizeof(float)), *local = malloc(texels * 3 * sizeof(float));
    int ok = m && all && excess && local;
    /* The local albedo from the fit's kind of skin only (no brows, make-up,
     * lips or hair, which would pull it down and make plain skin next to
     * them look like a highlight); every footprint skin texel may lose its
     * highlight. */
    for (size_t t = 0; t < texels && ok; t++) {
        m[t] = use[t] == 1;
        all[t] = use[t] != 0;
    }
    if (ok)
        ok = fs_light_highlights(alb, m, all, n, n, n / 128 > 1 ? n / 128 : 1,
                                 n / 10 > 3 ? n / 10 : 3, margin, excess, local);
    for (size_t t = 0; t < texels && ok; t++) {
        if (!(excess[t] > 0.0f))
            continue;
        for (int c = 0; c < 3; c++) {
            float *a = alb + 3 * t + (size_t)c;
            *a = fmaxf(*a - excess[t], fminf(*a, HL_KEEP * local[3 * t + (size_t)c]));
        }
    }
    free(m);
    free(all);
    free(excess);
    free(local);
    return ok;
}

/* Skin texels the photo saw badly, own and mirror alike (atlas weight
 * under FILL_FULL), hold what a grazing view gives: the face's edge mixed
 * with background or hair, under a light the fit extrapolated there. A
 * target that shows that side squarely showed them as pale or grey patches
 * (the astronaut onto faceapi_sample2's profile: a blue-grey wedge by the
 * ear, its texels seen at 0.10-0.19). They are blended towards the local
 * albedo of the well-seen skin (a masked box mean over n/12 texels, n/4
 * where that holds none), wholly at FILL_NONE and under, smoothly up to
 * FILL_FULL: the smooth in-painting of item 3. */
#define FILL_NONE 0.1f
#define FILL_FULL 0.3f

static int fill_unseen(float *alb, const uint8_t *use, const uint8_t *weight, int n)
{
    const size_t texels = (size_t)n * (size_t)n;
    uint8_t *m = malloc(texels), *held = malloc(texels);
    float *near = malloc(texels * 3 * sizeof(float)), *far = malloc(texels * 3 * sizeof(float));
    int ok = m && held && near && far;
    for (size_t t = 0; t < texels && ok; t++)
        m[t] = use[t] == 1;
    if (ok)
        ok = fs_light_masked_box(alb, m, n, n, n / 12 > 1 ? n / 12 : 1, near, held);
    if (ok)
        ok = fs_light_masked_box(alb, m, n, n, n / 4 > 1 ? n / 4 : 1, far, NULL);
    for (size_t t = 0; t < texels && ok; t++) {
        if (use[t] != 2)
            continue;
        const float w = (float)weight[t] / 255.0f;
        const float s = fminf(fmaxf((w - FILL_NONE) / (FILL_FULL - FILL_NONE), 0.0f), 1.0f);
        const float keep = s * s * (3.0f - 2.0f * s);
        const float *local = held[t] ? near + 3 * t : far + 3 * t;
        for (int c = 0; c < 3; c++)
            alb[3 * t + (size_t)c] = keep * alb[3 * t + (size_t)c] + (1.0f - keep) * local[c];
    }
    free(m);
    free(held);
    free(near);
    free(far);
    return ok;
}

fs_status fs_atlas_light_fit(const uint8_t *rgba, const uint8_t *weight, const uint8_t *own,
                             const float *ta, const fs_atlas_mesh *mesh,
                             const fs_face_frame *frame, int n, fs_shading *light,
                             fs_error_buf *err)
{
    const size_t texels = (size_t)n * (size_t)n;
    float *lin = malloc(texels * 3 * sizeof(float));
    float *basis = malloc(texels * FS_SHADE_TERMS * sizeof(float));
    if (!lin || !basis) {
        free(lin);
        free(basis);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "atlas light: out of memory");
    }
    float lut[256];
    fs_srgb_to_linear_table(lut);
    long cand = 0;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            const size_t t = (size_t)y * (size_t)n + (size_t)x;
            const uint8_t *px = rgba + 4 * t;
            const float *at = ta + 5 * t;
            if (!own[t] || weight[t] < 77 || px[0] >= 250 || px[1] >= 250 || px[2] >= 250 ||
                (at[0] == 0.0f && at[1] == 0.0f && at[2] == 0.0f))
                continue;
            const float u = ((float)x + 0.5f) / (float)n, v = ((float)y + 0.5f) / (float)n;
            if (!fs_atlas_light_skin(mesh, u, v))
                continue;
            float nrm[3];
            const float len = sqrtf(at[0] * at[0] + at[1] * at[1] + at[2] * at[2]);
            for (int c = 0; c < 3; c++) {
                nrm[c] = at[c] / len;
                lin[3 * cand + c] = lut[px[c]];
            }
            fs_shading_basis(frame, nrm, at[3], at[4], basis + (size_t)cand * FS_SHADE_TERMS);
            cand++;
        }
    const int r = fs_shading_fit(lin, basis, cand, light);
    free(lin);
    free(basis);
    return r < 0 ? fs_fail(err, FS_ERR_OUT_OF_MEMORY, "atlas light: out of memory") : FS_OK;
}

fs_status fs_atlas_light_finish(fs_atlas *atlas, const fs_atlas_mesh *mesh, float margin,
                                fs_error_buf *err)
{
    const int n = atlas->size;
    const size_t texels = (size_t)n * (size_t)n;
    float *lin = malloc(texels * 3 * sizeof(float));
    float *tmp = malloc(texels * 3 * sizeof(float));
    uint8_t *use = calloc(texels, 1); /* 1: skin for the local albedo; 2: skin that may be pulled */
    if (!lin || !tmp || !use) {
        free(lin);
        free(tmp);
        free(use);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "atlas light: out of memory");
    }
    float lut[256];
    fs_srgb_to_linear_table(lut);
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            const size_t t = (size_t)y * (size_t)n + (size_t)x;
            const uint8_t *px = atlas->rgba + 4 * t;
            for (int c = 0; c < 3; c++)
                lin[3 * t + (size_t)c] = lut[px[c]];
            const float u = ((float)x + 0.5f) / (float)n, v = ((float)y + 0.5f) / (float)n;
            if (px[3] != 255 || fs_atlas_in_region(mesh, u, v) ||
                in_polygon(mesh, ring_lips, N_LIPS, u, v))
                continue;
            use[t] = atlas->weight[t] >= 77 ? 1 : 2;
        }
    int ok = margin > 0.0f ? pull_highlights(lin, use, n, margin) : 1;
    if (ok)
        ok = fill_unseen(lin, use, atlas->weight, n);
    if (ok) {
        /* Back to 8 bits, and the CIELAB statistics over the well-seen skin
         * as fs_atlas_build takes them (one texel in four), of the albedo
         * under a light of mean 1 (times the atlas' albedo_scale): the
         * lookup's hair guard holds the relit render against them. */
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
                float lab[3], l3[3];
                for (int c = 0; c < 3; c++)
                    l3[c] = lut[px[c]] * atlas->albedo_scale;
                fs_linear_to_lab(l3, lab);
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
    free(lin);
    free(tmp);
    free(use);
    return ok ? FS_OK : fs_fail(err, FS_ERR_OUT_OF_MEMORY, "atlas light: out of memory");
}
