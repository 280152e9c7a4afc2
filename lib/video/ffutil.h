/*
 * What the reader and the writer share of FFmpeg: quiet logging, error
 * text, and opening a local media file as untrusted input.
 */
#ifndef FS_VIDEO_FFUTIL_H
#define FS_VIDEO_FFUTIL_H

#include <libavformat/avformat.h>

#include "internal.h"

/* Silences FFmpeg's own logging once per process (thread-safe). */
void fs_ff_init(void);

/* FFmpeg's text for an AVERROR code, in @p buf. */
const char *fs_ff_errstr(int averr, char *buf, size_t size);

/* Maps an AVERROR to a status: ENOMEM -> OUT_OF_MEMORY, EIO-like -> IO,
 * everything else FS_ERR_VIDEO. */
fs_status fs_ff_status(int averr);

/*
 * Opens @p path for demuxing and reads its stream info: local files only
 * ("file" protocol, so no network and no playlists of other files), common
 * video containers only. On failure returns a status with @p what and the
 * path in the detail: NOT_FOUND, TRUNCATED (empty, or MP4/MOV without a
 * readable moov), VIDEO (not a media file this library reads), IO.
 */
fs_status fs_ff_open_input(const char *path, const char *what, AVFormatContext **out,
                           fs_error_buf *err);

#endif /* FS_VIDEO_FFUTIL_H */
