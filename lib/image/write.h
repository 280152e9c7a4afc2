/*
 * What the image writer (fs_image_write_file) can make, for the callers that
 * check an output path before any work (the video's poster).
 */
#ifndef FS_IMAGE_WRITE_H
#define FS_IMAGE_WRITE_H

/* The detail for a path whose extension the writer does not know. */
#define FS_IMAGE_EXTENSIONS_HINT "unknown extension (use .png, .jpg, .jpeg, .bmp or .ppm)"

/* 1 when @p path ends in an extension fs_image_write_file writes (any case). */
int fs_image_path_writable(const char *path);

#endif /* FS_IMAGE_WRITE_H */
