/*
 * Video reader: the best video stream of a file, decoded in presentation
 * order into caller-owned 8-bit yuv420p frames.
 */
#include "video/ffutil.h"
#include "video/video_io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

/* Errors in a row, without a frame or a packet accepted in between, after
 * which the stream is taken as ended rather than retried for ever. */
#define FS_MAX_ERRORS_IN_A_ROW 256
/* Packets taken without a frame coming out, after which the stream is
 * taken as ended: decoders hold back a few frames (reordering, frame
 * threads), never thousands, while a crafted index can point thousands of
 * samples at the same few bytes. */
#define FS_MAX_PACKETS_WITHOUT_FRAME 4096

struct fs_video_reader {
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frm;
    struct SwsContext *sws;
    int stream;
    fs_video_props props;
    fs_video_limits lim;
    int src_rgb;          /* the source pixel format is RGB: converted with props' matrix */
    int flushing, ended;  /* decoder drained / end reported */
    int lost;             /* a packet was lost since the last frame */
    int pending;          /* pkt holds a packet the decoder could not take yet */
    int64_t frames, errors, run_errors, run_packets;
    int64_t last_pts, first_pts;
    char *path;
};

static int is_hdr_trc(int trc)
{
    return trc == AVCOL_TRC_SMPTE2084 || trc == AVCOL_TRC_ARIB_STD_B67;
}

static void first_name(char *dst, size_t size, const char *names)
{
    size_t n = strcspn(names ? names : "", ",");
    if (n >= size)
        n = size - 1;
    memcpy(dst, names ? names : "", n);
    dst[n] = '\0';
}

/* Display rotation, clockwise, rounded to a quarter turn. */
static int stream_rotation(const AVStream *st)
{
    size_t size = 0;
    const uint8_t *const m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    double ccw = 0.0;
    if (m && size >= 9 * sizeof(int32_t)) {
        ccw = av_display_rotation_get((const int32_t *)m);
    } else {
        const AVDictionaryEntry *const e = av_dict_get(st->metadata, "rotate", NULL, 0);
        if (!e)
            return 0;
        ccw = -atof(e->value);
    }
    if (!isfinite(ccw))
        return 0;
    long q = lround(-ccw / 90.0) % 4;
    if (q < 0)
        q += 4;
    return (int)q * 90;
}

static fs_status fill_props(fs_video_reader *r, const AVStream *st, fs_error_buf *err)
{
    const AVCodecParameters *const par = st->codecpar;
    fs_video_props *const p = &r->props;
    memset(p, 0, sizeof(*p));
    p->width = par->width;
    p->height = par->height;
    p->rotation = stream_rotation(st);
    p->tb_num = st->time_base.num;
    p->tb_den = st->time_base.den;
    AVRational fps = st->avg_frame_rate;
    if (fps.num <= 0 || fps.den <= 0)
        fps = st->r_frame_rate;
    if (fps.num > 0 && fps.den > 0) {
        p->fps_num = fps.num;
        p->fps_den = fps.den;
    } else {
        p->fps_num = 0;
        p->fps_den = 1;
    }
    if (st->duration > 0 && st->duration != AV_NOPTS_VALUE)
        p->duration = (double)st->duration * av_q2d(st->time_base);
    else if (r->fmt->duration > 0 && r->fmt->duration != AV_NOPTS_VALUE)
        p->duration = (double)r->fmt->duration / AV_TIME_BASE;
    if (st->nb_frames > 0)
        p->frames_hint = st->nb_frames;
    else if (p->duration > 0 && p->fps_num > 0)
        p->frames_hint = llround(p->duration * p->fps_num / p->fps_den);
    p->color_range = par->color_range;
    p->color_primaries = par->color_primaries;
    p->color_trc = par->color_trc;
    p->color_space = par->color_space;
    const AVPixFmtDescriptor *const desc = av_pix_fmt_desc_get((enum AVPixelFormat)par->format);
    p->bit_depth = desc ? desc->comp[0].depth : 8;
    if (desc && (desc->flags & AV_PIX_FMT_FLAG_RGB)) {
        /* RGB sources become YUV with the matrix the frames then carry. */
        r->src_rgb = 1;
        p->color_space = p->height < 720 ? AVCOL_SPC_SMPTE170M : AVCOL_SPC_BT709;
        p->color_range = AVCOL_RANGE_MPEG;
    } else if (par->format == AV_PIX_FMT_YUVJ420P || par->format == AV_PIX_FMT_YUVJ422P ||
               par->format == AV_PIX_FMT_YUVJ444P || par->format == AV_PIX_FMT_YUVJ440P) {
        p->color_range = AVCOL_RANGE_JPEG;
    }
    p->has_audio = av_find_best_stream(r->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0) >= 0;
    first_name(p->codec, sizeof(p->codec), avcodec_get_name(par->codec_id));
    first_name(p->container, sizeof(p->container), r->fmt->iformat->name);
    if (p->width <= 0 || p->height <= 0)
        return fs_fail(err, FS_ERR_VIDEO, "video %s: frame size unknown", r->path);
    if (p->tb_num <= 0 || p->tb_den <= 0)
        return fs_fail(err, FS_ERR_VIDEO, "video %s: no time base", r->path);
    if (r->lim.max_pixels > 0 && (int64_t)p->width * p->height > r->lim.max_pixels)
        return fs_fail(err, FS_ERR_TOO_LARGE, "video %s: %dx%d frames exceed the limit of %lld pixels",
                       r->path, p->width, p->height, (long long)r->lim.max_pixels);
    if (p->width > 32768 || p->height > 32768)
        return fs_fail(err, FS_ERR_TOO_LARGE, "video %s: %dx%d frames are too large", r->path,
                       p->width, p->height);
    if (r->lim.max_seconds > 0 && p->duration > r->lim.max_seconds)
        return fs_fail(err, FS_ERR_TOO_LARGE, "video %s: %.2f s exceeds the limit of %.2f s",
                       r->path, p->duration, r->lim.max_seconds);
    if (is_hdr_trc(p->color_trc))
        return fs_fail(err, FS_ERR_UNSUPPORTED,
                       "video %s: HDR (%s transfer) is not supported; convert it to SDR first",
                       r->path, p->color_trc == AVCOL_TRC_SMPTE2084 ? "PQ" : "HLG");
    return FS_OK;
}

/* The video stream: the best one that is not a cover picture. */
static int pick_stream(AVFormatContext *fmt)
{
    const int best = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (best >= 0 && !(fmt->streams[best]->disposition & AV_DISPOSITION_ATTACHED_PIC))
        return best;
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        const AVStream *const st = fmt->streams[i];
        if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
            !(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
            return (int)i;
    }
    return -1;
}

fs_status fs_video_reader_open(const char *path, const fs_video_limits *lim,
                               fs_video_reader **out, fs_video_props *props, fs_error_buf *err)
{
    if (!path || !out)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "video reader: NULL argument");
    fs_video_reader *const r = calloc(1, sizeof(*r));
    if (!r)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "video %s: out of memory", path);
    if (lim)
        r->lim = *lim;
    r->last_pts = AV_NOPTS_VALUE;
    r->first_pts = AV_NOPTS_VALUE;
    fs_status st;
    char es[AV_ERROR_MAX_STRING_SIZE];
    r->path = strdup(path);
    if (!r->path) {
        st = fs_fail(err, FS_ERR_OUT_OF_MEMORY, "video %s: out of memory", path);
        goto fail;
    }
    st = fs_ff_open_input(path, "video", &r->fmt, err);
    if (st != FS_OK)
        goto fail;
    r->stream = pick_stream(r->fmt);
    if (r->stream < 0) {
        /* audio alone is as much "not a video" as a text file is */
        st = fs_fail(err, FS_ERR_VIDEO, "video %s: no video stream", path);
        goto fail;
    }
    AVStream *const vs = r->fmt->streams[r->stream];
    /* Only the video stream's packets are read. */
    for (unsigned i = 0; i < r->fmt->nb_streams; i++)
        if ((int)i != r->stream)
            r->fmt->streams[i]->discard = AVDISCARD_ALL;
    st = fill_props(r, vs, err);
    if (st != FS_OK)
        goto fail;
    const AVCodec *const codec = avcodec_find_decoder(vs->codecpar->codec_id);
    if (!codec) {
        st = fs_fail(err, FS_ERR_UNSUPPORTED, "video %s: no decoder for codec %s", path,
                     avcodec_get_name(vs->codecpar->codec_id));
        goto fail;
    }
    r->dec = avcodec_alloc_context3(codec);
    r->pkt = av_packet_alloc();
    r->frm = av_frame_alloc();
    if (!r->dec || !r->pkt || !r->frm) {
        st = fs_fail(err, FS_ERR_OUT_OF_MEMORY, "video %s: out of memory", path);
        goto fail;
    }
    int ret = avcodec_parameters_to_context(r->dec, vs->codecpar);
    if (ret >= 0) {
        r->dec->pkt_timebase = vs->time_base;
        r->dec->thread_count = r->lim.threads > 0 ? r->lim.threads : 0;
        /* The decoder itself refuses frames over the pixel limit, so a
         * stream whose size grows mid-way cannot allocate past it. */
        if (r->lim.max_pixels > 0)
            r->dec->max_pixels = r->lim.max_pixels;
        ret = avcodec_open2(r->dec, codec, NULL);
    }
    if (ret < 0) {
        st = fs_fail(err, fs_ff_status(ret), "video %s: cannot open the %s decoder (%s)", path,
                     codec->name, fs_ff_errstr(ret, es, sizeof(es)));
        goto fail;
    }
    *out = r;
    if (props)
        *props = r->props;
    return FS_OK;
fail:
    fs_video_reader_close(r);
    return st;
}

/* Converts the decoded frame into @p f (props' size, 8-bit 4:2:0). */
static fs_status convert(fs_video_reader *r, const AVFrame *src, fs_video_frame *f,
                         fs_error_buf *err)
{
    const int w = r->props.width, h = r->props.height;
    const enum AVPixelFormat fmt = (enum AVPixelFormat)src->format;
    if ((fmt == AV_PIX_FMT_YUV420P || fmt == AV_PIX_FMT_YUVJ420P) && src->width == w &&
        src->height == h) {
        for (int p = 0; p < 3; p++) {
            const int pw = p ? (w + 1) / 2 : w, ph = p ? (h + 1) / 2 : h;
            for (int y = 0; y < ph; y++)
                memcpy(f->plane[p] + (size_t)y * f->stride[p],
                       src->data[p] + (ptrdiff_t)y * src->linesize[p], (size_t)pw);
        }
    } else {
        r->sws = sws_getCachedContext(r->sws, src->width, src->height, fmt, w, h,
                                      AV_PIX_FMT_YUV420P, SWS_BICUBIC | SWS_ACCURATE_RND, NULL,
                                      NULL, NULL);
        if (!r->sws)
            return fs_fail(err, FS_ERR_UNSUPPORTED,
                           "video %s: cannot convert %s %dx%d frames to yuv420p", r->path,
                           av_get_pix_fmt_name(fmt) ? av_get_pix_fmt_name(fmt) : "?",
                           src->width, src->height);
        /* YUV stays in its own matrix and range (only depth and layout
         * change); RGB is converted with the matrix props report. */
        const int full = r->props.color_range == AVCOL_RANGE_JPEG;
        const int cs = r->props.color_space == AVCOL_SPC_BT709        ? SWS_CS_ITU709
                       : r->props.color_space == AVCOL_SPC_BT2020_NCL ? SWS_CS_BT2020
                                                                      : SWS_CS_ITU601;
        const int *const coef = sws_getCoefficients(cs);
        sws_setColorspaceDetails(r->sws, coef, r->src_rgb ? 1 : full, coef,
                                 r->src_rgb ? 0 : full, 0, 1 << 16, 1 << 16);
        uint8_t *dst[4] = {f->plane[0], f->plane[1], f->plane[2], NULL};
        int dst_stride[4] = {f->stride[0], f->stride[1], f->stride[2], 0};
        const int ret = sws_scale(r->sws, (const uint8_t *const *)src->data, src->linesize, 0,
                                  src->height, dst, dst_stride);
        if (ret <= 0)
            return fs_fail(err, FS_ERR_VIDEO, "video %s: frame conversion failed", r->path);
    }
    /* Odd sizes: the even padding repeats the last column and row. */
    if (w & 1)
        for (int y = 0; y < h; y++)
            f->plane[0][(size_t)y * f->stride[0] + w] = f->plane[0][(size_t)y * f->stride[0] + w - 1];
    if (h & 1)
        memcpy(f->plane[0] + (size_t)h * f->stride[0], f->plane[0] + (size_t)(h - 1) * f->stride[0],
               (size_t)((w + 1) & ~1));
    return FS_OK;
}

/* Next packet of the video stream into the decoder; sets flushing at the end. */
static void feed(fs_video_reader *r)
{
    for (;;) {
        const int ret = r->pending ? 0 : av_read_frame(r->fmt, r->pkt);
        r->pending = 0;
        if (ret < 0) {
            if (ret != AVERROR_EOF && ret != AVERROR(EAGAIN))
                r->errors++;
            /* A demuxer error is the end of what can be read: a truncated
             * file reports its cut this way, and retrying would not move. */
            avcodec_send_packet(r->dec, NULL);
            r->flushing = 1;
            return;
        }
        if (r->pkt->stream_index != r->stream) {
            av_packet_unref(r->pkt);
            continue;
        }
        const int sret = avcodec_send_packet(r->dec, r->pkt);
        if (sret == AVERROR(EAGAIN)) {
            /* Frames are waiting: the packet goes in after they are out. */
            r->pending = 1;
            return;
        }
        av_packet_unref(r->pkt);
        if (sret < 0) {
            /* One bad packet must not end the video: counted, skipped. */
            r->errors++;
            r->run_errors++;
            r->lost = 1;
            if (r->run_errors > FS_MAX_ERRORS_IN_A_ROW) {
                avcodec_send_packet(r->dec, NULL);
                r->flushing = 1;
            }
            return;
        }
        r->run_errors = 0;
        if (++r->run_packets > FS_MAX_PACKETS_WITHOUT_FRAME) {
            r->errors++;
            avcodec_send_packet(r->dec, NULL);
            r->flushing = 1;
        }
        return;
    }
}

fs_status fs_video_reader_read(fs_video_reader *r, fs_video_frame *f, int *eof, fs_error_buf *err)
{
    if (!r || !f || !eof || !f->plane[0])
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "video reader: NULL argument");
    *eof = 0;
    if (f->width != r->props.width || f->height != r->props.height)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "video %s: frame is %dx%d, the video %dx%d",
                       r->path, f->width, f->height, r->props.width, r->props.height);
    if (r->ended) {
        *eof = 1;
        return FS_OK;
    }
    for (;;) {
        const int ret = avcodec_receive_frame(r->dec, r->frm);
        if (ret == AVERROR(EAGAIN)) {
            if (r->flushing) {
                /* Should not happen after a flush; end rather than spin. */
                break;
            }
            feed(r);
            continue;
        }
        if (ret == AVERROR_EOF)
            break;
        if (ret < 0) {
            if (ret == AVERROR(ENOMEM)) {
                r->ended = 1;
                return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "video %s: out of memory decoding", r->path);
            }
            r->errors++;
            r->lost = 1;
            if (++r->run_errors > FS_MAX_ERRORS_IN_A_ROW) {
                if (!r->flushing) {
                    avcodec_send_packet(r->dec, NULL);
                    r->flushing = 1;
                }
                if (r->run_errors > 2 * FS_MAX_ERRORS_IN_A_ROW)
                    break;
            }
            continue;
        }
        r->run_errors = 0;
        r->run_packets = 0;
        /* A decoded frame. */
        const AVFrame *const d = r->frm;
        fs_status st = FS_OK;
        if (is_hdr_trc(d->color_trc))
            st = fs_fail(err, FS_ERR_UNSUPPORTED,
                         "video %s: HDR (PQ/HLG transfer) frames are not supported; convert to SDR first",
                         r->path);
        else if (r->lim.max_frames > 0 && r->frames >= r->lim.max_frames)
            st = fs_fail(err, FS_ERR_TOO_LARGE, "video %s: more than the limit of %lld frames",
                         r->path, (long long)r->lim.max_frames);
        else if (r->lim.max_pixels > 0 && (int64_t)d->width * d->height > r->lim.max_pixels)
            st = fs_fail(err, FS_ERR_TOO_LARGE, "video %s: a %dx%d frame exceeds the pixel limit",
                         r->path, d->width, d->height);
        if (st != FS_OK) {
            av_frame_unref(r->frm);
            r->ended = 1;
            return st;
        }
        /* Strictly increasing timestamps: a missing one follows the last by
         * the frame's duration, a repeated or backward one by one tick. */
        int64_t pts = d->best_effort_timestamp;
        if (pts == AV_NOPTS_VALUE) {
            int64_t step = d->pkt_duration > 0 ? d->pkt_duration : 0;
            if (step <= 0 && r->props.fps_num > 0)
                step = av_rescale_q(1, (AVRational){r->props.fps_den, r->props.fps_num},
                                    (AVRational){r->props.tb_num, r->props.tb_den});
            pts = r->last_pts == AV_NOPTS_VALUE ? 0 : r->last_pts + (step > 0 ? step : 1);
        }
        if (r->last_pts != AV_NOPTS_VALUE && pts <= r->last_pts)
            pts = r->last_pts + 1;
        if (r->first_pts == AV_NOPTS_VALUE)
            r->first_pts = pts;
        if (r->lim.max_seconds > 0 &&
            (double)(pts - r->first_pts) * r->props.tb_num / r->props.tb_den > r->lim.max_seconds) {
            av_frame_unref(r->frm);
            r->ended = 1;
            return fs_fail(err, FS_ERR_TOO_LARGE, "video %s: longer than the limit of %.2f s",
                           r->path, r->lim.max_seconds);
        }
        const int flagged = (d->flags & AV_FRAME_FLAG_CORRUPT) || d->decode_error_flags;
        st = convert(r, d, f, err);
        av_frame_unref(r->frm);
        if (st != FS_OK) {
            r->ended = 1;
            return st;
        }
        if (flagged)
            r->errors++;
        f->corrupt = flagged || r->lost;
        r->lost = 0;
        f->pts = pts;
        f->index = r->frames++;
        r->last_pts = pts;
        return FS_OK;
    }
    r->ended = 1;
    if (r->frames == 0)
        return fs_fail(err, FS_ERR_TRUNCATED, "video %s: no frame could be decoded", r->path);
    *eof = 1;
    return FS_OK;
}

int64_t fs_video_reader_decode_errors(const fs_video_reader *r)
{
    return r ? r->errors : 0;
}

int64_t fs_video_reader_frames(const fs_video_reader *r)
{
    return r ? r->frames : 0;
}

void fs_video_reader_close(fs_video_reader *r)
{
    if (!r)
        return;
    sws_freeContext(r->sws);
    av_frame_free(&r->frm);
    av_packet_free(&r->pkt);
    avcodec_free_context(&r->dec);
    avformat_close_input(&r->fmt);
    free(r->path);
    free(r);
}
