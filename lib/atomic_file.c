#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

fs_status fs_atomic_file_open(fs_atomic_file *af, const char *path, fs_error_buf *err)
{
    static atomic_uint counter;
    memset(af, 0, sizeof(*af));
    const size_t tl = strlen(path) + 48;
    char *const tmp = malloc(tl);
    if (!tmp)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    /* The pid and a counter make clashes rare; O_EXCL makes them harmless. */
    int fd = -1;
    for (int attempt = 0; attempt < 32 && fd < 0; attempt++) {
        snprintf(tmp, tl, "%s.tmp-%ld-%u", path, (long)getpid(), atomic_fetch_add(&counter, 1u));
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        const int e = errno;
        free(tmp);
        return fs_fail(err, FS_ERR_IO, "%s: cannot create a file there: %s", path, strerror(e));
    }
    FILE *const f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmp);
        free(tmp);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    af->f = f;
    af->tmp = tmp;
    af->path = path;
    return FS_OK;
}

fs_status fs_atomic_file_close(fs_atomic_file *af, int commit, fs_error_buf *err)
{
    int e = 0;
    if (commit && (fflush(af->f) != 0 || fsync(fileno(af->f)) != 0))
        e = errno ? errno : EIO;
    if (fclose(af->f) != 0 && commit && !e)
        e = errno ? errno : EIO;
    if (commit && !e && rename(af->tmp, af->path) != 0)
        e = errno;
    if (!commit || e)
        unlink(af->tmp);
    free(af->tmp);
    const char *const path = af->path;
    memset(af, 0, sizeof(*af));
    if (e)
        return fs_fail(err, FS_ERR_IO, "%s: write failed: %s", path, strerror(e));
    return FS_OK;
}

fs_status fs_file_read_all(const char *path, size_t max_size, const char *what, uint8_t **out,
                           size_t *out_size, fs_error_buf *err)
{
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int e = errno;
        return fs_fail(err, e == ENOENT ? FS_ERR_NOT_FOUND : FS_ERR_IO, "%s: %s", path,
                       strerror(e));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return fs_fail(err, FS_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > max_size) {
        close(fd);
        return fs_fail(err, FS_ERR_TOO_LARGE, "%s: %lld bytes (%s are at most %zu)", path,
                       (long long)sb.st_size, what, max_size);
    }
    const size_t size = (size_t)sb.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    size_t got = 0;
    while (got < size) {
        const ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    const int read_errno = got < size ? errno : 0;
    close(fd);
    if (got < size && read_errno != 0) {
        free(buf);
        return fs_fail(err, FS_ERR_IO, "%s: %s", path, strerror(read_errno));
    }
    /* A file that shrank while being read is read as what it became. */
    *out = buf;
    *out_size = got;
    return FS_OK;
}
