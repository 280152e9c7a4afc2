#include "atomic_file.h"
#include "sha256.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A temporary's name: "<target>.tmp-<pid>-<counter>". */
#define TMP_TAG ".tmp-"

/* The pid of a temporary of @p base in @p name ("<base>.tmp-<pid>-<n>",
 * digits only), or 0 when @p name is not one. */
static long tmp_owner(const char *name, const char *base, size_t base_len)
{
    if (strncmp(name, base, base_len) != 0 || strncmp(name + base_len, TMP_TAG, 5) != 0)
        return 0;
    const char *p = name + base_len + 5;
    long pid = 0;
    for (; *p >= '0' && *p <= '9' && pid < 100000000L; p++)
        pid = pid * 10 + (*p - '0');
    if (pid <= 0 || *p++ != '-' || !(*p >= '0' && *p <= '9'))
        return 0;
    while (*p >= '0' && *p <= '9')
        p++;
    return *p == '\0' ? pid : 0;
}

/*
 * Removes the temporaries a killed writer left beside @p path: our names
 * only, regular files of this user whose process is gone and that nobody
 * wrote for STALE_SECONDS (a folder shared with another machine or pid
 * namespace may hold a live writer whose pid means nothing here). Costs
 * one read of the folder. Best effort: what cannot be removed stays.
 */
#define STALE_SECONDS 60
static void remove_stale_tmps(const char *path)
{
    const char *const slash = strrchr(path, '/');
    const char *const base = slash ? slash + 1 : path;
    const size_t base_len = strlen(base);
    char *const dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
    DIR *const d = dir ? opendir(dir) : NULL;
    free(dir);
    if (!d || base_len == 0) {
        if (d)
            closedir(d);
        return;
    }
    const time_t now = time(NULL);
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const long pid = tmp_owner(e->d_name, base, base_len);
        struct stat sb;
        if (pid == 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH ||
            fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(sb.st_mode) || sb.st_uid != geteuid() || now - sb.st_mtime < STALE_SECONDS)
            continue;
        (void)unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

fs_status fs_tmp_create(const char *path, char **tmp_out, int *fd_out, fs_error_buf *err)
{
    static atomic_uint counter;
    remove_stale_tmps(path);
    const size_t tl = strlen(path) + 48;
    char *const tmp = malloc(tl);
    if (!tmp)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    /* The pid and a counter make clashes rare; O_EXCL makes them harmless. */
    int fd = -1;
    for (int attempt = 0; attempt < 32 && fd < 0; attempt++) {
        snprintf(tmp, tl, "%s" TMP_TAG "%ld-%u", path, (long)getpid(),
                 atomic_fetch_add(&counter, 1u));
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        const int e = errno;
        free(tmp);
        return fs_fail(err, FS_ERR_IO, "%s: cannot create a file there: %s", path, strerror(e));
    }
    *tmp_out = tmp;
    *fd_out = fd;
    return FS_OK;
}

fs_status fs_atomic_file_open(fs_atomic_file *af, const char *path, fs_error_buf *err)
{
    memset(af, 0, sizeof(*af));
    char *tmp = NULL;
    int fd = -1;
    const fs_status st = fs_tmp_create(path, &tmp, &fd, err);
    if (st != FS_OK)
        return st;
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

fs_status fs_file_open_regular(const char *path, const char *what, int *fd, uint64_t *size,
                               fs_error_buf *err)
{
    const char *const sep = what && *what ? " " : "";
    what = what ? what : "";
    const int f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (f < 0) {
        const int e = errno;
        return fs_fail(err, e == ENOENT || e == ENOTDIR ? FS_ERR_NOT_FOUND : FS_ERR_IO,
                       "%s%s%s: %s", what, sep, path, strerror(e));
    }
    struct stat sb;
    if (fstat(f, &sb) != 0) {
        const int e = errno;
        close(f);
        return fs_fail(err, FS_ERR_IO, "%s%s%s: %s", what, sep, path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(f);
        return fs_fail(err, FS_ERR_IO, "%s%s%s: not a regular file (%s)", what, sep, path,
                       S_ISDIR(sb.st_mode)    ? "a folder"
                       : S_ISFIFO(sb.st_mode) ? "a FIFO"
                       : S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) ? "a device"
                                                                     : "a socket or other");
    }
    /* Regular files never block; cleared so that reads behave as usual. */
    const int flags = fcntl(f, F_GETFL);
    if (flags != -1)
        (void)fcntl(f, F_SETFL, flags & ~O_NONBLOCK);
    *fd = f;
    *size = (uint64_t)sb.st_size;
    return FS_OK;
}

int fs_fd_read_full(int fd, void *buf, size_t size, size_t *got)
{
    size_t n = 0;
    int e = 0;
    while (n < size) {
        const ssize_t r = read(fd, (uint8_t *)buf + n, size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            e = errno;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    *got = n;
    return e;
}

int fs_fd_sha256(int fd, uint64_t max_bytes, uint8_t digest[FS_SHA256_SIZE], uint64_t *hashed)
{
    fs_sha256_ctx c;
    fs_sha256_init(&c);
    uint8_t buf[1 << 15];
    uint64_t total = 0;
    size_t got = 0;
    int e = 0;
    while (total < max_bytes) {
        const uint64_t left = max_bytes - total;
        e = fs_fd_read_full(fd, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf), &got);
        if (e != 0 || got == 0)
            break;
        fs_sha256_update(&c, buf, got);
        total += got;
    }
    fs_sha256_final(&c, digest);
    *hashed = total;
    return e;
}

fs_status fs_file_read_all(const char *path, size_t max_size, const char *what, uint8_t **out,
                           size_t *out_size, fs_error_buf *err)
{
    int fd = -1;
    uint64_t file_size = 0;
    const fs_status st = fs_file_open_regular(path, "", &fd, &file_size, err);
    if (st != FS_OK)
        return st;
    if (file_size > max_size) {
        close(fd);
        return fs_fail(err, FS_ERR_TOO_LARGE, "%s: %llu bytes (%s are at most %zu)", path,
                       (unsigned long long)file_size, what, max_size);
    }
    const size_t size = (size_t)file_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    size_t got = 0;
    const int read_errno = fs_fd_read_full(fd, buf, size, &got);
    close(fd);
    if (read_errno != 0) {
        free(buf);
        return fs_fail(err, FS_ERR_IO, "%s: %s", path, strerror(read_errno));
    }
    /* A file that shrank while being read is read as what it became. */
    *out = buf;
    *out_size = got;
    return FS_OK;
}
