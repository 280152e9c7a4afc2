/*
 * The one check of a caller's image view (fs_image) for the CPU path,
 * used by every entry point that takes one.
 */
#ifndef FS_IMAGE_VIEW_H
#define FS_IMAGE_VIEW_H

#include "internal.h"

/*
 * Validates a caller's image view for the CPU path: non-NULL data, positive
 * size within FS_CONTEXT_MAX_PIXELS (FS_ERR_TOO_LARGE; no limit for a NULL ctx), a known format,
 * stride >= width * channels, zero reserved fields, host memory
 * (FS_ERR_UNSUPPORTED otherwise). @p what names the caller in the detail.
 */
fs_status fs_image_view_check(const fs_context *ctx, const fs_image *img, const char *what,
                              fs_error_buf *err);

#endif /* FS_IMAGE_VIEW_H */
