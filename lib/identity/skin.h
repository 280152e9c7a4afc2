/*
 * The source face's own skin colour: a two-component Gaussian mixture in
 * YCbCr, fitted at capture over the atlas' cheeks and forehead where the
 * photo saw them well. The swap asks it which texels of the face's outer
 * band and forehead are skin (and may replace the target's) and which are
 * the source's hair, a fringe or strands over a cheek (which stay out of
 * the mask). Internal.
 *
 * Why a model of the face's own skin and not deviations from the whole
 * face's mean: the mean and spread over every skin texel take in the
 * brows' shadow, the jaw's, stubble and make-up, so that fixed thresholds
 * around them were either too loose for a light-brown fringe or too tight
 * for dark eye make-up (read as hair). Two components hold skin that is
 * not one colour: a ruddy cheek and a paler forehead, the two sides of a
 * face under two lights. YCbCr (BT.601, full range) keeps brightness apart
 * from the skin's narrow range of chroma.
 */
#ifndef FS_IDENTITY_SKIN_H
#define FS_IDENTITY_SKIN_H

#include <stdint.h>

#define FS_SKIN_COMPONENTS 2

typedef struct fs_skin_model {
    int32_t k; /* components, 1..FS_SKIN_COMPONENTS; 0: no model */
    float weight[FS_SKIN_COMPONENTS];
    float mean[FS_SKIN_COMPONENTS][3]; /* Y, Cb, Cr of the atlas' 8-bit values, 0..255 */
    float icov[FS_SKIN_COMPONENTS][6]; /* inverse covariance: YY, YCb, YCr, CbCb, CbCr, CrCr */
    float lognorm[FS_SKIN_COMPONENTS]; /* log(weight) + log(det(icov)) / 2, from the above */
} fs_skin_model;

/* Squared Mahalanobis distance of the 8-bit-scale sRGB colour @p rgb
 * (0..255) to the component that explains it best (largest density), and
 * in *dy (may be NULL) how much brighter it is than that component's mean
 * (Y minus mean Y; below 0: darker). @p m must hold a model (k >= 1). */
float fs_skin_distance(const fs_skin_model *m, const float rgb[3], float *dy);

/* Fits @p out over @p n samples @p rgb (n x 3, 0..255): expectation-
 * maximisation from a split by brightness, with a floor on each variance
 * (8-bit noise and JPEG). Returns 1 fitted, 0 with under 64 samples (k =
 * 0), -1 out of memory (k = 0). */
int fs_skin_model_fit(const float *rgb, long n, fs_skin_model *out);

/* Fills lognorm from the weights and inverse covariances, and checks the
 * model as a file gives it: k in 0..FS_SKIN_COMPONENTS, finite values,
 * weights in (0, 1], means within 0..255, inverse covariances positive
 * definite and bounded. 1 when it may be used, 0 when not. */
int fs_skin_model_check(fs_skin_model *m);

#endif /* FS_IDENTITY_SKIN_H */
