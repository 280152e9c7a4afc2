/*
 * fs_image: a plain, fixed-size view of pixels. The caller owns the pixels,
 * except for images filled by fs_image_read_*, which must be released with
 * fs_image_free().
 */
#ifndef FS_IMAGE_H
#define FS_IMAGE_H

#include "common.h"
#include "context.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Pixel layouts, 8 bits per channel, channels interleaved in the order named. */
typedef enum fs_pixel_format {
    FS_PIXEL_RGB8 = 1,
    FS_PIXEL_RGBA8 = 2,
    FS_PIXEL_BGR8 = 3,
    FS_PIXEL_BGRA8 = 4,
    FS_PIXEL_GRAY8 = 5
} fs_pixel_format;

/** Where the pixels live. */
typedef enum fs_memory {
    FS_MEMORY_HOST = 0,
    FS_MEMORY_DEVICE = 1 /**< CUDA device memory (CUDA backend only) */
} fs_memory;

/**
 * A view of an image. Fixed layout for the life of ABI 0; the reserved
 * fields must be zero.
 */
typedef struct fs_image {
    int32_t width;     /**< pixels, > 0 */
    int32_t height;    /**< pixels, > 0 */
    int32_t stride;    /**< bytes from one row to the next, >= width * channels */
    int32_t format;    /**< fs_pixel_format */
    int32_t memory;    /**< fs_memory */
    int32_t reserved0; /**< zero */
    void *data;        /**< first byte of the top row */
    void *reserved[4]; /**< zero */
} fs_image;

/** Bytes per pixel of a format, 0 for an unknown one. Since 0.1. */
FS_API int fs_pixel_format_channels(fs_pixel_format format);

/**
 * Decodes a JPEG, PNG, BMP or binary PPM (P6; P5 gray too) file into a new
 * RGB8 image (stride = width * 3). JPEG EXIF orientation is applied;
 * grayscale is expanded to RGB; alpha is dropped (not composited); 16-bit
 * samples are reduced to 8 bits as round(v * 255 / maxval); Adobe CMYK
 * JPEGs are converted to RGB. BMP: OS/2 and V1 to V5 headers, uncompressed
 * or BI_BITFIELDS, 1 to 32 bits. The whole structure is checked before any
 * pixel is decoded (JPEG up to its EOI marker, PNG chunk CRCs); a JPEG
 * whose entropy-coded data the decoder cannot read whole (corrupt, cut
 * short, or disagreeing with its frame header) is FS_ERR_CORRUPT, never a
 * partly grey image; junk bytes before the EOI marker are tolerated. Files
 * above 512 MiB are refused (FS_ERR_TOO_LARGE) without being read. Thread-safe
 * for distinct output images (the context's error detail is per thread).
 * @param ctx   limits (FS_CONTEXT_MAX_PIXELS) and error detail; required.
 * @param[out] out filled on success (release with fs_image_free()); untouched on failure.
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT, FS_ERR_NOT_FOUND, FS_ERR_IO,
 *         FS_ERR_TRUNCATED (empty or cut short), FS_ERR_CORRUPT,
 *         FS_ERR_UNSUPPORTED (not a supported format), FS_ERR_TOO_LARGE
 *         (over the pixel limit), FS_ERR_OUT_OF_MEMORY.
 * Since 0.1.
 */
FS_API fs_status fs_image_read_file(fs_context *ctx, const char *path, fs_image *out);

/** As fs_image_read_file(), from a memory buffer (not retained). Since 0.1. */
FS_API fs_status fs_image_read_memory(fs_context *ctx, const void *data, size_t size,
                                      fs_image *out);

/**
 * Releases pixels allocated by fs_image_read_* and zeroes the view.
 * Accepts NULL and zeroed images. Must not be used on caller-owned pixels. Since 0.1.
 */
FS_API void fs_image_free(fs_image *image);

/**
 * Encodes an image to a file; the format follows the extension: .png
 * (lossless, fast deflate), .jpg / .jpeg (quality 92, baseline, chroma
 * 4:2:0; gray images as one-component JPEG), .bmp, .ppm. The file is
 * written to a temporary name beside @p path and renamed, so a failure
 * never leaves a half-written file; the temporaries of @p path a killed
 * writer left (PATH.tmp-PID-N of a process that is gone, a minute old) are
 * removed first.
 * @return FS_OK, FS_ERR_INVALID_ARGUMENT (NULL, size, stride),
 *         FS_ERR_UNSUPPORTED (extension, pixel format, device memory, or too
 *         large for the encoders: width * height * 4 above INT_MAX),
 *         FS_ERR_IO (folder missing, not writable, disk full),
 *         FS_ERR_OUT_OF_MEMORY.
 * Since 0.1.
 */
FS_API fs_status fs_image_write_file(fs_context *ctx, const fs_image *image, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* FS_IMAGE_H */
