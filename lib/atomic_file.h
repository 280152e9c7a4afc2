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

/*
 * Creates a fresh temporary beside @p path, "PATH.tmp-PID-N", exclusively
 * (*tmp: malloc'd name, *fd: open for writing). First removes the
 * temporaries of PATH that a killed writer left: names of that form whose
 * process is gone (not this one's), regular files of this user, untouched
 * for a minute; nothing else in the folder. FS_ERR_OUT_OF_MEMORY, or
 * FS_ERR_IO naming @p path when no temporary can be created.
 */
fs_status fs_tmp_create(const char *path, char **tmp, int *fd, fs_error_buf *err);

/* fs_tmp_create() as a FILE; FS_ERR_OUT_OF_MEMORY, FS_ERR_IO. */
fs_status fs_atomic_file_open(fs_atomic_file *af, const char *path, fs_error_buf *err);

/*
 * Ends the write: with @p commit, flushes, syncs and renames over the target
 * (FS_ERR_IO naming the path on any failure, the temporary removed);
 * without, removes the temporary and returns FS_OK. Always releases @p af.
 */
fs_status fs_atomic_file_close(fs_atomic_file *af, int commit, fs_error_buf *err);

/*
 * Opens @p path for reading only when it is a regular file (a link is
 * followed): the open does not wait for a FIFO's writer, and a device, FIFO
 * or folder is refused before a byte is read, so that no reader of an
 * untrusted path can block or read without end (a link to /dev/zero).
 * *fd (blocking again, close-on-exec) and *size (st_size) are set on FS_OK.
 * FS_ERR_NOT_FOUND, FS_ERR_IO (not a regular file, open or fstat failed);
 * the detail reads "@p what PATH: why" (@p what may be "").
 */
fs_status fs_file_open_regular(const char *path, const char *what, int *fd, uint64_t *size,
                               fs_error_buf *err);

/* Reads up to @p size bytes, fewer only at the end of the file (*got);
 * retries interrupted reads. Returns 0 or the errno of a failed read. */
int fs_fd_read_full(int fd, void *buf, size_t size, size_t *got);

/* The sha256 of the next @p max_bytes bytes (fewer at the end of the file:
 * *hashed). Returns 0 or the errno of a failed read. */
int fs_fd_sha256(int fd, uint64_t max_bytes, uint8_t digest[32], uint64_t *hashed);

/*
 * Reads a whole regular file of at most @p max_size bytes into a new
 * malloc'd buffer (*out, *out_size; at least one byte allocated).
 * FS_ERR_NOT_FOUND, FS_ERR_IO (not a regular file, a read error),
 * FS_ERR_TOO_LARGE ("(@p what are at most N)"), FS_ERR_OUT_OF_MEMORY.
 */
fs_status fs_file_read_all(const char *path, size_t max_size, const char *what, uint8_t **out,
                           size_t *out_size, fs_error_buf *err);

#endif /* FS_ATOMIC_FILE_H */
