/*
 * The public fs_video's inside (lib/video/render.c). Internal.
 */
#ifndef FS_VIDEO_API_H
#define FS_VIDEO_API_H

#include "internal.h"

struct fs_video {
    fs_context *ctx;
    int crf, preset, max_kbitrate, encoder, track;
    char *poster;
    fs_video_report report;
    int have_report;
    fs_error_buf err;
};

#endif /* FS_VIDEO_API_H */
