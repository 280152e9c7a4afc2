/*
 * The source's light out of the atlas (issue 10, item 1): a second-order
 * spherical-harmonics light fitted over the well-seen skin texels against
 * the source mesh's normals, in linear light, kept close to white; divided
 * out, with specular highlights pulled down to the local albedo. Internal.
 */
#ifndef FS_IDENTITY_LIGHT_H
#define FS_IDENTITY_LIGHT_H

#include "identity/atlas.h"

#define FS_SH_COEFFS 9

/* A fitted light: per channel (linear R, G, B) the 9 SH coefficients of the
 * shading, normalised so that its mean over the fitted skin is 1. */
typedef struct fs_sh_light {
    float coeff[3][FS_SH_COEFFS];
    int n_fit; /* skin texels (or pixels) behind the fit; 0: no fit (flat light) */
} fs_sh_light;

/* The 9 real SH basis functions (unnormalised constants: only the fit's
 * own evaluation uses them) at unit normal @p n (x right, y down, z towards
 * the camera). */
void fs_sh_basis(const float n[3], float out[FS_SH_COEFFS]);

/* The shading of @p light at normal @p n for the three channels. */
void fs_sh_shade(const fs_sh_light *light, const float n[3], float out[3]);

/*
 * Removes the source's light from @p atlas in place (built by fs_atlas_build
 * from @p points and @p mesh): per-texel normals of the source mesh, the
 * SH fit over skin texels (well seen, own colour, outside the eye and mouth
 * openings and the lips, without dark outliers (brows, hair), the brightest
 * 3% (highlights) and saturated texels), the division with the shading
 * clamped at 0.25 of its mean, then highlights pulled down to the local
 * albedo. The atlas' skin mean stays that of the photo (the shading is
 * normalised to mean 1 over the skin); its CIELAB statistics are measured
 * again. @p light (may be NULL) receives the fitted light. Too few skin
 * texels (< 64) leave the atlas unchanged and light->n_fit 0.
 * FS_ERR_INVALID_ARGUMENT, FS_ERR_OUT_OF_MEMORY (atlas unchanged).
 */
fs_status fs_atlas_delight(fs_atlas *atlas, const float (*points)[3], const fs_atlas_mesh *mesh,
                           fs_sh_light *light, fs_error_buf *err);

#endif /* FS_IDENTITY_LIGHT_H */
