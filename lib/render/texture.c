/* Bilinear RGB8 texture lookup of rasterised UVs (plain C; see texture.h). */
#include "render/texture.h"

#include <math.h>
#include <stddef.h>

/* Texel coordinate of a UV component, clamped to the atlas (NaN to 0). */
static float texel(float t, int size)
{
    float s = t * (float)size - 0.5f;
    if (!(s > 0.0f))
        s = 0.0f;
    if (s > (float)(size - 1))
        s = (float)(size - 1);
    return s;
}

int fs_raster_texture_rgb8(const fs_raster_desc *d, const float *attr, int uv_index,
                           const uint8_t *mask, const uint8_t *tex, int tex_w, int tex_h,
                           int stride, int flip_v, float *rgb)
{
    if (!d || !attr || !mask || !tex || !rgb || d->width < 0 || d->height < 0 || uv_index < 0 ||
        uv_index + 2 > d->n_attr || tex_w <= 0 || tex_h <= 0 || tex_w > INT32_MAX / 3 ||
        stride < 3 * tex_w)
        return 0;
    const size_t n = (size_t)d->width * (size_t)d->height, na = (size_t)d->n_attr;
    for (size_t o = 0; o < n; o++) {
        if (!mask[o])
            continue;
        const float u = attr[o * na + (size_t)uv_index];
        const float v0 = attr[o * na + (size_t)uv_index + 1];
        const float sx = texel(u, tex_w), sy = texel(flip_v ? 1.0f - v0 : v0, tex_h);
        const int x0 = (int)sx, y0 = (int)sy;
        const int x1 = x0 + 1 < tex_w ? x0 + 1 : x0, y1 = y0 + 1 < tex_h ? y0 + 1 : y0;
        const float ax = sx - (float)x0, ay = sy - (float)y0;
        const uint8_t *r0 = tex + (size_t)y0 * (size_t)stride, *r1 = tex + (size_t)y1 * (size_t)stride;
        for (int c = 0; c < 3; c++) {
            const float tl = r0[x0 * 3 + c], tr = r0[x1 * 3 + c];
            const float bl = r1[x0 * 3 + c], br = r1[x1 * 3 + c];
            const float top = tl + (tr - tl) * ax, bottom = bl + (br - bl) * ax;
            rgb[o * 3 + (size_t)c] = top + (bottom - top) * ay;
        }
    }
    return 1;
}
