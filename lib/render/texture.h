/*
 * Texture lookup for rasterised pixels: turns the per-pixel UVs the
 * rasteriser interpolated (fs_raster_out.attr) into RGB by bilinear sampling
 * of an RGB8 atlas.
 *
 * UV convention: u = 0 is the atlas' left edge and u = 1 its right edge;
 * v = 0 is the top row's top edge and v = 1 the bottom row's bottom edge
 * (flip_v = 1 for atlases whose v points up, as OpenGL's). Texel centres sit
 * at ((i + 0.5) / tex_w, (j + 0.5) / tex_h), so the sample point in texel
 * coordinates (centres at integers, as lib/sample/sample.h) is
 *     sx = u * tex_w - 0.5,  sy = v * tex_h - 0.5,
 * clamped to [0, size - 1] (edge texels repeat), then interpolated in float.
 */
#ifndef FS_RENDER_TEXTURE_H
#define FS_RENDER_TEXTURE_H

#include <stdint.h>

#include "render/raster.h"

/*
 * For every pixel of the window with mask != 0, reads (u, v) at
 * attr[pixel][uv_index], attr[pixel][uv_index + 1] and writes RGB floats in
 * 0..255 to rgb[pixel][3]; other pixels are left untouched. tex is RGB8 rows
 * of @p stride bytes. Returns 0 (writing nothing) for invalid arguments.
 */
int fs_raster_texture_rgb8(const fs_raster_desc *d, const float *attr, int uv_index,
                           const uint8_t *mask, const uint8_t *tex, int tex_w, int tex_h,
                           int stride, int flip_v, float *rgb);

#endif /* FS_RENDER_TEXTURE_H */
