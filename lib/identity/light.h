/*
 * The source's light out of the atlas (issue 10, item 1): the light model
 * of lib/light/shading.h fitted over the well-seen skin texels against the
 * source mesh's normals and the texels' places in the photo, divided out,
 * with specular highlights pulled down to the local albedo. Internal.
 */
#ifndef FS_IDENTITY_LIGHT_H
#define FS_IDENTITY_LIGHT_H

#include "identity/atlas.h"

#include "light/shading.h"

/* 1 where atlas place (@p u, @p v) is skin the light is fitted over:
 * outside the openings and the lips' outer ring. The target's light is
 * fitted over the same places (lib/swap/swap.c), so that a face swapped
 * onto its own photo gets back the light it gave. */
int fs_atlas_light_skin(const fs_atlas_mesh *mesh, float u, float v);

/*
 * Fits @p light over the own-colour texels of an atlas being built (size
 * @p n): @p rgba and @p weight as fs_atlas holds them, @p own 1 where the
 * texel's colour is its own point's, @p ta per texel its normal (3, not
 * normalised) and photo position (2). Skin only: well seen (weight >= 77),
 * outside the openings and the lips' outer ring, not saturated (>= 250).
 * @p light is flat when too few texels remain. FS_ERR_OUT_OF_MEMORY.
 */
fs_status fs_atlas_light_fit(const uint8_t *rgba, const uint8_t *weight, const uint8_t *own,
                             const float *ta, const fs_atlas_mesh *mesh,
                             const fs_face_frame *frame, int n, fs_shading *light,
                             fs_error_buf *err);

/*
 * The atlas' specular highlights (fs_light_highlights at @p margin; none
 * when it is 0) subtracted, then its CIELAB statistics measured again: the last step of fs_atlas_build with the light taken
 * out. FS_ERR_OUT_OF_MEMORY (the atlas may be half pulled: the caller
 * frees it).
 */
fs_status fs_atlas_light_finish(fs_atlas *atlas, const fs_atlas_mesh *mesh, float margin,
                                fs_error_buf *err);

#endif /* FS_IDENTITY_LIGHT_H */
