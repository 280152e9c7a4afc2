/* The image-view check (lib/image/view.h). */
#include "image/view.h"

fs_status fs_image_view_check(const fs_context *ctx, const fs_image *img, const char *what,
                              fs_error_buf *err)
{
    if (!img)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "%s: image is NULL", what);
    if (img->width <= 0 || img->height <= 0)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "%s: image size %dx%d is not positive", what,
                       (int)img->width, (int)img->height);
    const int ch = fs_pixel_format_channels((fs_pixel_format)img->format);
    if (ch <= 0)
        return fs_fail(err, FS_ERR_UNSUPPORTED, "%s: unknown pixel format %d", what,
                       (int)img->format);
    if (img->reserved0 != 0 || img->reserved[0] || img->reserved[1] || img->reserved[2] ||
        img->reserved[3])
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "%s: image reserved fields must be zero",
                       what);
    if (img->memory != FS_MEMORY_HOST)
        return fs_fail(err, FS_ERR_UNSUPPORTED, "%s: only host images run on the CPU path", what);
    if (!img->data)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "%s: image data is NULL", what);
    if ((int64_t)img->stride < (int64_t)img->width * ch)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "%s: stride %d < width %d x %d channels",
                       what, (int)img->stride, (int)img->width, ch);
    const int64_t pixels = (int64_t)img->width * img->height;
    const int64_t max_pixels = ctx ? ctx->params[FS_CONTEXT_MAX_PIXELS] : INT64_MAX;
    if (pixels > max_pixels)
        return fs_fail(err, FS_ERR_TOO_LARGE, "%s: image %dx%d exceeds the limit of %lld pixels",
                       what, (int)img->width, (int)img->height, (long long)max_pixels);
    return FS_OK;
}
