#include "video/ffutil.h"
#include "atomic_file.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/log.h>

static pthread_once_t ff_once = PTHREAD_ONCE_INIT;

static void ff_init_once(void)
{
    /* A library must not print: every failure reaches the caller as a
     * status with FFmpeg's error text. This is process-wide state, so it is
     * set once and never again; an application that wants FFmpeg's log sets
     * its own level after its first video call. */
    av_log_set_level(AV_LOG_QUIET);
}

void fs_ff_init(void)
{
    pthread_once(&ff_once, ff_init_once);
}

const char *fs_ff_errstr(int averr, char *buf, size_t size)
{
    if (av_strerror(averr, buf, size) < 0)
        snprintf(buf, size, "FFmpeg error %d", averr);
    return buf;
}

fs_status fs_ff_status(int averr)
{
    if (averr == AVERROR(ENOMEM))
        return FS_ERR_OUT_OF_MEMORY;
    if (averr == AVERROR(EIO) || averr == AVERROR(EACCES) || averr == AVERROR(ENOSPC) ||
        averr == AVERROR(EROFS) || averr == AVERROR(EISDIR))
        return FS_ERR_IO;
    return FS_ERR_VIDEO;
}

/* Demuxers of the containers the video path takes: MP4/MOV family,
 * Matroska/WebM, AVI, MPEG-TS/PS, FLV, Ogg, ASF, raw H.264/HEVC/MPEG-4.
 * Everything else (playlists, images, text, devices) is refused, so that
 * an untrusted file cannot make a demuxer open other files or guess a
 * format from random bytes. */
static const char ff_formats[] =
    "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts,mpeg,flv,ogg,asf,h264,hevc,m4v";

fs_status fs_ff_open_input(const char *path, const char *what, AVFormatContext **out,
                           fs_error_buf *err)
{
    fs_ff_init();
    if (!path)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "%s: NULL path", what);
    int fd = -1;
    uint64_t size = 0;
    const fs_status ost = fs_file_open_regular(path, what, &fd, &size, err);
    if (ost != FS_OK)
        return ost;
    unsigned char head[8] = {0};
    size_t nhead = 0;
    const int rerr = size ? fs_fd_read_full(fd, head, sizeof(head), &nhead) : 0;
    close(fd);
    if (size == 0)
        return fs_fail(err, FS_ERR_TRUNCATED, "%s %s: empty file", what, path);
    if (rerr != 0)
        return fs_fail(err, FS_ERR_IO, "%s %s: %s", what, path, strerror(rerr));

    /* "file:" keeps a name with a colon from being read as another protocol. */
    const size_t ul = strlen(path) + 6;
    char *const url = av_malloc(ul);
    if (!url)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s %s: out of memory", what, path);
    snprintf(url, ul, "file:%s", path);
    AVDictionary *opts = NULL;
    av_dict_set(&opts, "protocol_whitelist", "file", 0);
    av_dict_set(&opts, "format_whitelist", ff_formats, 0);
    AVFormatContext *fmt = NULL;
    char es[AV_ERROR_MAX_STRING_SIZE];
    int ret = avformat_open_input(&fmt, url, NULL, &opts);
    av_dict_free(&opts);
    av_free(url);
    if (ret < 0) {
        if (nhead == 8 && memcmp(head + 4, "ftyp", 4) == 0 && ret != AVERROR(ENOMEM))
            return fs_fail(err, FS_ERR_TRUNCATED,
                           "%s %s: MP4/MOV whose index (moov) is missing or unreadable, "
                           "probably truncated (%s)",
                           what, path, fs_ff_errstr(ret, es, sizeof(es)));
        const fs_status st = fs_ff_status(ret);
        return fs_fail(err, st, "%s %s: %s (%s)", what, path,
                       st == FS_ERR_VIDEO ? "not a video file this library reads" : "cannot read",
                       fs_ff_errstr(ret, es, sizeof(es)));
    }
    ret = avformat_find_stream_info(fmt, NULL);
    if (ret < 0) {
        avformat_close_input(&fmt);
        return fs_fail(err, fs_ff_status(ret), "%s %s: cannot read its streams (%s)", what, path,
                       fs_ff_errstr(ret, es, sizeof(es)));
    }
    *out = fmt;
    return FS_OK;
}
