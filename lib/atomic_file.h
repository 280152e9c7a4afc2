/*
 * Files that appear complete or not at all: the data goes to a fresh,
 * exclusively created temporary beside the target, which is flushed,
 * fsynced and renamed over the target only when the writer commits. Used by
 * every writer of output files (images, identity blobs), so that a failure
 * never leaves a half-written file.
 */
#ifndef FS_ATOMIC_FILE_H
#define FS_ATOMIC_FILE_H

#include <stdint.h>
#include <stdio.h>

#include "internal.h"

typedef struct fs_atomic_file {
    FILE *f;          /* write here */
    char *tmp;        /* the temporary's name */
    const char *path; /* the target, not copied: must outlive the file */
} fs_atomic_file;

/* FS_ERR_OUT_OF_MEMORY, or FS_ERR_IO naming @p path when no temporary can be created. */
fs_status fs_atomic_file_open(fs_atomic_file *af, const char *path, fs_error_buf *err);

/*
 * Ends the write: with @p commit, flushes, syncs and renames over the target
 * (FS_ERR_IO naming the path on any failure, the temporary removed);
 * without, removes the temporary and returns FS_OK. Always releases @p af.
 */
fs_status fs_atomic_file_close(fs_atomic_file *af, int commit, fs_error_buf *err);

/*
 * Reads a whole regular file of at most @p max_size bytes into a new
 * malloc'd buffer (*out, *out_size; at least one byte allocated).
 * FS_ERR_NOT_FOUND, FS_ERR_IO (not a regular file, a read error),
 * FS_ERR_TOO_LARGE ("(@p what are at most N)"), FS_ERR_OUT_OF_MEMORY.
 */
fs_status fs_file_read_all(const char *path, size_t max_size, const char *what, uint8_t **out,
                           size_t *out_size, fs_error_buf *err);

#endif /* FS_ATOMIC_FILE_H */
