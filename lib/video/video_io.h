/*
 * Video I/O below the template analysis and the per-user render: an FFmpeg
 * reader that hands out 8-bit yuv420p frames in presentation order, an MP4
 * (H.264) writer that copies the template's timing, colour tags, rotation
 * and audio, and plain-C YUV <-> RGB windows for the swap, which works on
 * RGB around a face while the frame stays yuv420p.
 *
 * lib/video/ is the only folder that includes FFmpeg headers; nothing here
 * exposes an FFmpeg type. Not installed.
 *
 * Threads: a reader or a writer is used by one thread at a time. Frames are
 * plain caller-owned buffers, so worker threads may hold and modify frames
 * while the reader decodes the next one into another frame.
 */
#ifndef FS_VIDEO_IO_H
#define FS_VIDEO_IO_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

typedef struct fs_video_limits {
    int64_t max_pixels;  /* width*height of a frame; <= 0: no limit */
    double max_seconds;  /* container duration at open, and presentation time while decoding; <= 0: none */
    int64_t max_frames;  /* frames decoded; <= 0: none */
    int threads;         /* decoder threads, 0 = FFmpeg's choice */
} fs_video_limits;

typedef struct fs_video_props {
    int width, height;       /* decoded frame size (before rotation); every frame has it */
    int rotation;            /* display rotation, degrees clockwise: 0, 90, 180 or 270 */
    int tb_num, tb_den;      /* video stream time base: the unit of fs_video_frame.pts */
    int fps_num, fps_den;    /* average frame rate, 0/1 when unknown */
    int64_t frames_hint;     /* container's frame count or duration * fps; 0 unknown */
    double duration;         /* seconds, 0 unknown */
    /* AVCOL_* values as int, as the frames carry them: colour_space and
     * colour_range describe the frames' YUV (for an RGB source, the matrix
     * and range the reader converted to). */
    int color_range, color_primaries, color_trc, color_space;
    int bit_depth;           /* of the source pixel format (frames are always 8-bit) */
    int has_audio;           /* the file has an audio stream */
    char codec[32];          /* e.g. "h264" */
    char container[32];      /* demuxer's first name, e.g. "mov", "matroska", "avi" */
} fs_video_props;

/*
 * A caller-owned 8-bit yuv420p frame. The planes are allocated for the size
 * rounded up to even (chroma (w+1)/2 x (h+1)/2); on an odd size the reader
 * fills the extra luma column/row with copies of the last ones, and the
 * writer encodes the even size (H.264 4:2:0 cannot code an odd size).
 */
typedef struct fs_video_frame {
    int width, height;
    uint8_t *plane[3];
    int stride[3];
    int64_t pts;    /* stream time base; best-effort timestamp made strictly increasing */
    int64_t index;  /* 0.. in presentation order */
    int corrupt;    /* the decoder flagged this frame, or a packet before it was lost */
} fs_video_frame;

/* Allocates the planes (FS_ERR_OUT_OF_RANGE for a size <= 0 or > 32768);
 * contents are mid-grey. @p f untouched on failure. */
fs_status fs_video_frame_alloc(fs_video_frame *f, int width, int height, fs_error_buf *err);
/* Releases the planes and zeroes @p f; NULL and a zeroed frame are fine. */
void fs_video_frame_free(fs_video_frame *f);
/* Copies pixels, pts, index and flag between frames of the same size. */
fs_status fs_video_frame_copy(fs_video_frame *dst, const fs_video_frame *src, fs_error_buf *err);

/* ---- reader ---- */

typedef struct fs_video_reader fs_video_reader;

/*
 * Opens @p path (a local file; no network, no playlists) and its best video
 * stream. @p lim may be NULL (no limits). Statuses: FS_ERR_NOT_FOUND (no such
 * file), FS_ERR_TRUNCATED (empty file; MP4/MOV whose index (moov) is missing),
 * FS_ERR_VIDEO (not a video this library reads, "no video stream", or a
 * demuxer/decoder error, FFmpeg's text in the detail), FS_ERR_UNSUPPORTED (HDR
 * (PQ/HLG); no decoder), FS_ERR_TOO_LARGE (pixels or duration over @p lim),
 * FS_ERR_IO, FS_ERR_OUT_OF_MEMORY. *out and *props untouched on failure.
 */
fs_status fs_video_reader_open(const char *path, const fs_video_limits *lim,
                               fs_video_reader **out, fs_video_props *props, fs_error_buf *err);

/*
 * Decodes the next frame into @p f (allocated with props' size). At the end
 * returns FS_OK with *eof = 1 and @p f untouched. Packets the decoder refuses
 * are counted and skipped. FS_ERR_TRUNCATED when the video ends before any
 * frame decoded ("no frame could be decoded"); FS_ERR_TOO_LARGE past the
 * frame or duration limit; FS_ERR_UNSUPPORTED when the stream turns HDR;
 * FS_ERR_INVALID_ARGUMENT for a frame of another size. After an error the
 * reader only reports the end.
 */
fs_status fs_video_reader_read(fs_video_reader *r, fs_video_frame *f, int *eof, fs_error_buf *err);

/* Decode problems so far: packets refused, decoder errors, frames flagged corrupt. */
int64_t fs_video_reader_decode_errors(const fs_video_reader *r);
/* Frames returned so far. */
int64_t fs_video_reader_frames(const fs_video_reader *r);
void fs_video_reader_close(fs_video_reader *r);

/* ---- writer ---- */

typedef struct fs_video_encode_opts {
    int crf;              /* 0..51; x264's CRF, nvenc's CQ. 0 is x264's lossless mode, coded in
                             High 4:4:4 Predictive, which browsers do not play (tests, archives) */
    char preset[16];      /* x264 preset; "" = "veryfast" */
    int64_t max_bitrate;  /* bits/s, 0 = none (else VBV maxrate, buffer 2x) */
    int threads;          /* encoder threads, 0 = the encoder's choice */
    char encoder[16];     /* "libx264", "h264_nvenc", or "" = h264_nvenc when it opens, else libx264 */
} fs_video_encode_opts;

/* crf 23, preset "" (veryfast), no bitrate cap, auto threads, encoder "". */
fs_video_encode_opts fs_video_encode_opts_default(void);

/* What became of the audio of `audio_from`. */
typedef enum fs_video_audio {
    FS_VIDEO_AUDIO_NONE = 0,       /* no audio_from, or it has no audio stream */
    FS_VIDEO_AUDIO_COPIED = 1,     /* copied packet for packet */
    FS_VIDEO_AUDIO_TRANSCODED = 2, /* MP4 cannot hold its codec: re-encoded to AAC */
} fs_video_audio;

typedef struct fs_video_writer fs_video_writer;

/*
 * Starts an MP4 at a temporary name beside @p path (path + ".tmp-<pid>-<n>").
 * @p props gives the size, time base, frame rate, colour tags and rotation
 * (normally the reader's props of the template); @p o may be NULL
 * (defaults); @p audio_from may be NULL (no audio) or a file whose best
 * audio stream is copied. Statuses: FS_ERR_INVALID_ARGUMENT / OUT_OF_RANGE
 * (bad props or options), FS_ERR_UNSUPPORTED (unknown encoder, or the named
 * one does not open), FS_ERR_IO (cannot create the file), the reader's
 * statuses for audio_from, FS_ERR_VIDEO. Nothing is left on disk on failure.
 */
fs_status fs_video_writer_open(const char *path, const fs_video_props *props,
                               const fs_video_encode_opts *o, const char *audio_from,
                               fs_video_writer **out, fs_error_buf *err);

/* Encodes one frame (props' size; pts strictly increasing, in props' time base). */
fs_status fs_video_writer_write(fs_video_writer *w, const fs_video_frame *f, fs_error_buf *err);

/* Flushes the encoder, writes the remaining audio and the index (moov
 * first), syncs, renames over @p path. Frees @p w, even on failure, and
 * then removes the temporary. */
fs_status fs_video_writer_finish(fs_video_writer *w, fs_error_buf *err);

/* Drops everything and removes the temporary; frees @p w; NULL is fine. */
void fs_video_writer_abort(fs_video_writer *w);

fs_video_audio fs_video_writer_audio(const fs_video_writer *w);
/* The encoder in use, "libx264" or "h264_nvenc" (static string). */
const char *fs_video_writer_encoder(const fs_video_writer *w);

/* ---- YUV <-> RGB windows (plain C) ---- */

/*
 * A YUV matrix and range in 16.16 fixed point. Matrix from color_space
 * (AVCOL_SPC_*: BT.709, BT.601 (BT470BG, SMPTE170M), BT.2020 NCL; anything
 * else: BT.601 below 720 lines, BT.709 from 720), range from color_range
 * (AVCOL_RANGE_JPEG = full, anything else limited).
 */
typedef struct fs_yuv_desc {
    int matrix;      /* 601, 709 or 2020 */
    int full_range;  /* 1 = 0..255, 0 = 16..235 / 16..240 */
    /* to RGB: R = (ys*(Y-yo) + rv*(V-128)) >> 16, ... */
    int32_t ys, rv, gu, gv, bu;
    int32_t yo;
    /* to YUV: Y = yo + (yr*R + yg*G + yb*B) >> 16, U = 128 + (ur*R + ug*G + ub*B) >> 16, ... */
    int32_t yr, yg, yb, ur, ug, ub, vr, vg, vb;
} fs_yuv_desc;

fs_yuv_desc fs_yuv_desc_from(int color_space, int color_range, int height);

/*
 * The window [x0, x0+w) x [y0, y0+h), which must lie inside the frame, as
 * packed RGB8 at @p rgb (rows @p rgb_stride bytes apart). Chroma is upsampled
 * by nearest neighbour (each 2x2 block's U/V for its four pixels): it is the
 * exact inverse of the 2x2 average fs_rgb_window_to_yuv420 uses, so a block
 * converted back keeps its chroma. FS_ERR_OUT_OF_RANGE for a window outside
 * the frame, FS_ERR_INVALID_ARGUMENT for NULL pointers or a short stride.
 */
fs_status fs_yuv420_to_rgb_window(const fs_video_frame *f, const fs_yuv_desc *d, int x0, int y0,
                                  int w, int h, uint8_t *rgb, ptrdiff_t rgb_stride);

/*
 * Writes back only what changed: Y where the RGB pixel differs from
 * @p before (the window as fs_yuv420_to_rgb_window gave it), and U/V of
 * each 2x2 block with a changed pixel, from the average of its pixels' RGB
 * (new values inside the window, the frame's own outside it). Unchanged
 * pixels keep their exact Y/U/V bytes. Both buffers share @p stride.
 * Padding of an odd-sized frame follows its last column/row.
 */
fs_status fs_rgb_window_to_yuv420(fs_video_frame *f, const fs_yuv_desc *d, int x0, int y0,
                                  int w, int h, const uint8_t *rgb, const uint8_t *before,
                                  ptrdiff_t stride);

/* The whole frame as RGB (the window function over the frame). */
fs_status fs_yuv420_to_rgb(const fs_video_frame *f, const fs_yuv_desc *d, uint8_t *rgb,
                           ptrdiff_t rgb_stride);

#endif /* FS_VIDEO_IO_H */
