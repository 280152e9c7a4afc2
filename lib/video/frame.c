#include "video/video_io.h"

#include <stdlib.h>
#include <string.h>

/* Rows start on 64-byte boundaries so that SIMD loops in the swap stages
 * and the encoder's copy can use aligned loads. */
#define FS_FRAME_ALIGN 64
#define FS_FRAME_MAX_SIDE 32768

fs_status fs_video_frame_alloc(fs_video_frame *f, int width, int height, fs_error_buf *err)
{
    if (!f)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "video frame: NULL frame");
    if (width <= 0 || height <= 0 || width > FS_FRAME_MAX_SIDE || height > FS_FRAME_MAX_SIDE)
        return fs_fail(err, FS_ERR_OUT_OF_RANGE, "video frame: size %dx%d out of range (1..%d)",
                       width, height, FS_FRAME_MAX_SIDE);
    const size_t ew = ((size_t)width + 1) & ~(size_t)1, eh = ((size_t)height + 1) & ~(size_t)1;
    const size_t s0 = (ew + FS_FRAME_ALIGN - 1) & ~(size_t)(FS_FRAME_ALIGN - 1);
    const size_t s1 = (ew / 2 + FS_FRAME_ALIGN - 1) & ~(size_t)(FS_FRAME_ALIGN - 1);
    /* Sides are at most 32768, so these products cannot overflow a size_t. */
    const size_t luma = s0 * eh, chroma = s1 * (eh / 2);
    uint8_t *const mem = aligned_alloc(FS_FRAME_ALIGN, luma + 2 * chroma);
    if (!mem)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "video frame: out of memory for %dx%d", width,
                       height);
    memset(mem, 128, luma + 2 * chroma);
    memset(f, 0, sizeof(*f));
    f->width = width;
    f->height = height;
    f->plane[0] = mem;
    f->plane[1] = mem + luma;
    f->plane[2] = mem + luma + chroma;
    f->stride[0] = (int)s0;
    f->stride[1] = f->stride[2] = (int)s1;
    return FS_OK;
}

void fs_video_frame_free(fs_video_frame *f)
{
    if (!f)
        return;
    free(f->plane[0]);
    memset(f, 0, sizeof(*f));
}

fs_status fs_video_frame_copy(fs_video_frame *dst, const fs_video_frame *src, fs_error_buf *err)
{
    if (!dst || !src || !dst->plane[0] || !src->plane[0])
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "video frame copy: NULL frame");
    if (dst->width != src->width || dst->height != src->height)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "video frame copy: %dx%d into %dx%d",
                       src->width, src->height, dst->width, dst->height);
    const int ew = (src->width + 1) & ~1, eh = (src->height + 1) & ~1;
    for (int p = 0; p < 3; p++) {
        const int w = p ? ew / 2 : ew, h = p ? eh / 2 : eh;
        for (int y = 0; y < h; y++)
            memcpy(dst->plane[p] + (size_t)y * dst->stride[p],
                   src->plane[p] + (size_t)y * src->stride[p], (size_t)w);
    }
    dst->pts = src->pts;
    dst->index = src->index;
    dst->corrupt = src->corrupt;
    return FS_OK;
}
