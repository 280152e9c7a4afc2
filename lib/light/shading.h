/*
 * A face's light: a smooth shading fitted over its skin, the same model for
 * the source photo (divided out of the atlas at capture) and for the target
 * (put back on the render). Internal.
 *
 * The model, per linear-light channel, is a sum of 6 terms: the 4
 * first-order spherical harmonics of the surface normal (an ambient and a
 * distant light on a Lambertian surface) and the 2 first-order terms of
 * the position in the face's frame (x, y = (pixel - face centre) / face
 * size). Second-order terms of either were tried and dropped: over a face's
 * narrow spread of normals they are barely determined, so a highlight on
 * one cheek swung them and changed the whole face's light (light leak of a
 * spot 1.37 against 1.27 with 6 terms), and the source's and the target's
 * fits, over different parts of the face, disagreed where each
 * extrapolates (self-swap SSIM 0.931 against 0.936; doc/light-notes.md). The normal's terms hold what a lamp or the sky does to a
 * face; the position's hold what they cannot: a light falling off across
 * the face (a lamp close by), a soft shadow from something off the face,
 * bounce from a wall. Both are smooth at the scale of the face, so neither
 * takes features (brows, freckles, lips) out of the albedo.
 *
 * White-leaning: the channels share one luminance shading and differ only
 * by a strongly penalised per-channel part, so that a face-wide colour stays
 * the skin's and only colour that changes over the face is read as light.
 */
#ifndef FS_LIGHT_SHADING_H
#define FS_LIGHT_SHADING_H

#include <stdint.h>

#include "faceswap/fitter.h"
#include "internal.h"

#define FS_SHADE_TERMS 6

typedef struct fs_shading {
    /* Per linear R, G, B: the terms' weights, normalised so that the
     * shading's mean over the fitted skin is 1. */
    float coeff[3][FS_SHADE_TERMS];
    int32_t n_fit; /* samples behind the fit; 0: flat (1 everywhere) */
} fs_shading;

/* The face's frame: centre and size of the bounding box of the 468 mesh
 * points, frame px. */
typedef struct fs_face_frame {
    float cx, cy, inv_size;
} fs_face_frame;

void fs_face_frame_of(const float (*points)[3], fs_face_frame *out);

/* The flat light: 1 in every channel everywhere. */
void fs_shading_flat(fs_shading *s);

/* The FS_SHADE_TERMS terms at unit normal @p n (x right, y down, z towards the camera)
 * and frame position (@p x, @p y) px. */
void fs_shading_basis(const fs_face_frame *f, const float n[3], float x, float y,
                      float out[FS_SHADE_TERMS]);

/* The shading of each channel for the terms @p basis, each channel held
 * within a factor of 1.3 of the model's luminance shading there (0.2126 R
 * + 0.7152 G + 0.0722 B of the terms' sums), where that is positive. */
void fs_shading_eval(const fs_shading *s, const float basis[FS_SHADE_TERMS], float out[3]);

/* Least facing (z of the unit normal) of the samples both fits take
 * (FS_ATLAS_DIRECT_FULL, the same 0.35): past it the linear terms run on
 * unchecked towards a grazing normal, down to the floor on the side the
 * light comes from least. The renderer evaluates the target's light at no
 * less facing (fs_shading_clamp_facing): evaluated as it was, the
 * silhouette of a turned face's nose showed a black line one or two pixels
 * wide along its side. Measured (light_leak, quality_swap, turned_drift;
 * doc/light-notes.md, twelfth step): self-swap SSIM 0.9815 -> 0.9816 (min
 * 0.9715 -> 0.9716; faceapi_sample6's turned face alone 0.9677 -> 0.9716),
 * worst channel 2.58 -> 2.39 levels; identity, leak and drift unchanged.
 * Clamped at capture too (the source's albedo divided by the clamped
 * light), the astronaut's grazing cheek came out darker, the skin guard
 * cut a hole in it on faceapi_sample2's profile, and that face's drift rose
 * 2.55% -> 3.14%. */
#define FS_SHADE_NZ_MIN 0.35f

/* @p n (unit) turned towards the camera in its own plane of view until it
 * faces it at least FS_SHADE_NZ_MIN; unchanged when it does; (0, 0, 1)
 * when it points straight away (no plane of view). Unit on return. */
void fs_shading_clamp_facing(float n[3]);

/* Smallest face, px (the larger side of the mesh's bounding box), whose
 * light is measured, at capture and on the target: below it the fit follows
 * the photo's noise and compression more than its light. */
#define FS_LIGHT_MIN_FACE 64.0f

/* Smallest shading divided out or put back, as a fraction of its mean, and
 * the bound under which a fit's samples count as dark (fs_shading_fit's
 * plausibility). A deep shadow divided out would blow up the photo's
 * noise; and where the six terms put less light than the photo shows (the
 * lids under the brow ridge, the side of the nose) the albedo came out up
 * to twice the cheeks' and every other target showed it as a pale band
 * over the eyes and an orange streak down the nose. At 0.5 rather than
 * 0.25 most fits of the test photos are blended a quarter of the way
 * towards flat light (a tenth of their samples under 0.5), and the figures
 * all moved the right way (doc/light-notes.md, fourteenth step): identity
 * +0.213 (min +0.142) -> +0.219 (+0.152), self-swap SSIM 0.9818 -> 0.9844,
 * MAE 1.63 -> 1.52, light leak 0.739 -> 0.728, the turned profile's drift
 * 2.66 -> 1.95% (astronaut), before the forehead's hair bound went to 20
 * (swap/lookup.c), which that made necessary. */
#define FS_SHADE_FLOOR 0.5f

/* An atlas that holds albedo holds it over this: the photo divided by this
 * times its light, the render's shading this times the light it puts on.
 * Where the model puts less light than the photo shows (the brow ridge, the
 * lids under it, the lit side of a face under two lights) the albedo runs
 * past white, and 8 bits cannot hold it: scaled down as a whole there
 * (atlas.c's unlight), it came back darker, and the colour match then
 * moved the whole face to make up for it. 1.25 keeps a texel lit at 0.8 of
 * what the model says within range, for a fifth of the 8-bit levels.
 * Measured (doc/light-notes.md, tenth step), against 1 with the target's
 * fit weighed by atlas area: self-swap worst channel 3.24 -> 2.53 (every
 * test photo within 3), SSIM 0.9797 -> 0.9810, identity +0.218 -> +0.222;
 * leak 0.882 -> 0.899 (the synthetic spots are no longer cut off). */
#define FS_ALBEDO_HEADROOM 1.25f

/*
 * Fits @p out over @p n samples: @p lin their linear RGB (n x 3, 0..1),
 * @p basis their terms (n x FS_SHADE_TERMS). The caller leaves out what is
 * not skin (openings, lips, saturated pixels); the fit itself leaves out
 * the brightest 3% (highlights) and dark outliers (brows, hair, deep
 * shadow: 1.5 deviations under the mean). A fit whose luminance falls under
 * FS_SHADE_FLOOR on more than 5% of the samples is blended towards flat
 * light, a quarter at a time, until it does not. Returns 1 with a fit, 0 with too
 * few samples (under 64) or a singular system, @p out then flat; -1 out of
 * memory (@p out flat).
 */
int fs_shading_fit(const float *lin, const float *basis, long n, fs_shading *out);

/* fs_shading_fit with a weight per sample, @p prior (n, mean about 1; NULL:
 * all 1), on top of the fit's own outlier weights. */
int fs_shading_fit_weighted(const float *lin, const float *basis, const float *prior, long n,
                            fs_shading *out);

/*
 * The low-order part of a ratio between two images over @p n samples:
 * log(@p ratio[i]) ~ sum_k coeff[k] basis[i][k] (@p basis n x
 * FS_SHADE_TERMS), by least squares, three rounds, each leaving out the
 * samples further than 2.5 times the mean absolute residual from the last
 * fit. Samples with a ratio that is not positive and finite are left out.
 * Returns 1 with a fit; 0 with fewer than 24 samples left or a singular
 * system (@p coeff then 0: a ratio of 1); -1 out of memory.
 */
int fs_shading_ratio_fit(const float *ratio, const float *basis, int n, float coeff[FS_SHADE_TERMS]);

/* Masked box mean (radius @p r px) of the 3-channel w x h image @p in over
 * the pixels where @p m (separable running sums), into @p out; where the
 * box holds none of them, out = in and *held (w*h, may be NULL) 0, else 1.
 * Returns 0 out of memory. */
int fs_light_masked_box(const float *in, const uint8_t *m, int w, int h, int r, float *out,
                        uint8_t *held);
/* The same without the AVX2 column pass it takes where the CPU has AVX2:
 * the same bits (tests/test_identity.c compares them). */
int fs_light_masked_box_scalar(const float *in, const uint8_t *m, int w, int h, int r,
                               float *out, uint8_t *held);

/*
 * Specular highlights. On skin a highlight is the light's own colour added
 * on top of the diffuse colour (the dichromatic model): the highlight layer
 * of a w x h linear RGB image @p lin (light divided out, where there is a
 * model of it) is, per pixel where @p may, the excess of its luminance
 * box-smoothed over @p fine_r px (pores and freckles are not highlights)
 * over @p margin times the luminance of the local albedo: the box
 * mean over @p wide_r px of the pixels of @p local_from, without the
 * highlights themselves (two passes), which would raise it. Into @p excess
 * (w*h, luminance, 0 where none) and @p local (w*h*3, the local albedo).
 * The capture subtracts it from the source's albedo, the renderer adds the
 * target's back: the highlights are the target's light's, like its shading.
 * Returns 0 out of memory (outputs undefined), else 1.
 */
int fs_light_highlights(const float *lin, const uint8_t *local_from, const uint8_t *may, int w,
                        int h, int fine_r, int wide_r, float margin, float *excess,
                        float *local);

/* sRGB 0..1 <-> linear 0..1. */
float fs_srgb_to_linear(float c);
float fs_linear_to_srgb(float v);

/* out[i] = fs_srgb_to_linear(i / 255): 8-bit values linearised by table. */
void fs_srgb_to_linear_table(float out[256]);

#endif /* FS_LIGHT_SHADING_H */
