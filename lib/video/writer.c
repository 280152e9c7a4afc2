/*
 * Video writer: H.264 yuv420p in an MP4 with its index first, the
 * template's timing, colour tags and rotation, and the template's audio
 * (copied, or re-encoded to AAC when browsers could not play it).
 */
#include "video/ffutil.h"
#include "video/video_io.h"
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>

struct fs_video_writer {
    AVFormatContext *oc;
    AVCodecContext *enc;
    AVStream *vst;
    AVFrame *frm;
    AVPacket *pkt;
    const char *encoder_name;
    fs_video_props props;
    int64_t last_pts, frames;
    char *path, *tmp;
    /* audio */
    fs_video_audio audio;
    AVFormatContext *ain;
    int astream;
    AVStream *ast;
    AVPacket *apkt;
    int a_have, a_eof;
    int64_t a_last_dts;
    AVCodecContext *adec, *aenc;
    SwrContext *swr;
    AVAudioFifo *fifo;
    AVFrame *aframe, *aconv;
    int64_t a_next_pts; /* transcoded samples, in 1/sample_rate */
};

fs_video_encode_opts fs_video_encode_opts_default(void)
{
    fs_video_encode_opts o;
    memset(&o, 0, sizeof(o));
    o.crf = 23;
    return o;
}

fs_video_audio fs_video_writer_audio(const fs_video_writer *w)
{
    return w ? w->audio : FS_VIDEO_AUDIO_NONE;
}

const char *fs_video_writer_encoder(const fs_video_writer *w)
{
    return w && w->encoder_name ? w->encoder_name : "";
}

static void writer_free(fs_video_writer *w, int remove_tmp)
{
    if (w->oc) {
        if (w->oc->pb)
            avio_closep(&w->oc->pb);
        avformat_free_context(w->oc);
    }
    if (remove_tmp && w->tmp)
        unlink(w->tmp);
    avcodec_free_context(&w->enc);
    av_frame_free(&w->frm);
    av_packet_free(&w->pkt);
    avformat_close_input(&w->ain);
    av_packet_free(&w->apkt);
    avcodec_free_context(&w->adec);
    avcodec_free_context(&w->aenc);
    swr_free(&w->swr);
    if (w->fifo)
        av_audio_fifo_free(w->fifo);
    av_frame_free(&w->aframe);
    av_frame_free(&w->aconv);
    free(w->path);
    free(w->tmp);
    free(w);
}

void fs_video_writer_abort(fs_video_writer *w)
{
    if (w)
        writer_free(w, 1);
}

/* A fresh, exclusively created name beside the target (lib/atomic_file.h),
 * reopened by FFmpeg by name. */
static fs_status make_tmp(fs_video_writer *w, fs_error_buf *err)
{
    int fd = -1;
    const fs_status st = fs_tmp_create(w->path, &w->tmp, &fd, err);
    if (st == FS_OK)
        close(fd);
    return st;
}

static fs_status mux_error(fs_video_writer *w, int ret, fs_error_buf *err)
{
    char es[AV_ERROR_MAX_STRING_SIZE];
    return fs_fail(err, fs_ff_status(ret), "%s: writing the video failed (%s)", w->path,
                   fs_ff_errstr(ret, es, sizeof(es)));
}

static fs_status open_encoder(fs_video_writer *w, const char *name, const fs_video_encode_opts *o,
                              fs_error_buf *err)
{
    const AVCodec *const codec = avcodec_find_encoder_by_name(name);
    if (!codec)
        return fs_fail(err, FS_ERR_UNSUPPORTED, "%s: encoder %s is not available", w->path, name);
    AVCodecContext *c = avcodec_alloc_context3(codec);
    if (!c)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", w->path);
    const fs_video_props *const p = &w->props;
    /* H.264 4:2:0 codes even sizes only: odd ones keep the frame's padding. */
    c->width = (p->width + 1) & ~1;
    c->height = (p->height + 1) & ~1;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->time_base = (AVRational){p->tb_num, p->tb_den};
    if (p->fps_num > 0 && p->fps_den > 0)
        c->framerate = (AVRational){p->fps_num, p->fps_den};
    c->color_range = (enum AVColorRange)p->color_range;
    c->color_primaries = (enum AVColorPrimaries)p->color_primaries;
    c->color_trc = (enum AVColorTransferCharacteristic)p->color_trc;
    c->colorspace = (enum AVColorSpace)p->color_space;
    c->thread_count = o->threads > 0 ? o->threads : 0;
    if (o->max_bitrate > 0) {
        c->rc_max_rate = o->max_bitrate;
        c->rc_buffer_size = (int)(2 * o->max_bitrate > INT32_MAX ? INT32_MAX : 2 * o->max_bitrate);
    }
    if (w->oc->oformat->flags & AVFMT_GLOBALHEADER)
        c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary *opts = NULL;
    char crf[16];
    snprintf(crf, sizeof(crf), "%d", o->crf);
    /* High plays in every browser; CRF 0 is x264's lossless mode, which
     * only High 4:4:4 Predictive holds (for tests and archive copies: the
     * frames then decode to exactly what was encoded). */
    if (o->crf > 0 || strcmp(name, "libx264") != 0)
        av_dict_set(&opts, "profile", "high", 0);
    if (strcmp(name, "libx264") == 0) {
        av_dict_set(&opts, "preset", o->preset[0] ? o->preset : "veryfast", 0);
        av_dict_set(&opts, "crf", crf, 0);
    } else {
        /* NVENC has its own preset names; its constant-quality mode stands in for CRF. */
        av_dict_set(&opts, "rc", "vbr", 0);
        av_dict_set(&opts, "cq", crf, 0);
    }
    const int ret = avcodec_open2(c, codec, &opts);
    av_dict_free(&opts);
    if (ret < 0) {
        char es[AV_ERROR_MAX_STRING_SIZE];
        avcodec_free_context(&c);
        return fs_fail(err, ret == AVERROR(ENOMEM) ? FS_ERR_OUT_OF_MEMORY : FS_ERR_UNSUPPORTED,
                       "%s: encoder %s does not open (%s)", w->path, name,
                       fs_ff_errstr(ret, es, sizeof(es)));
    }
    w->enc = c;
    w->encoder_name = strcmp(name, "libx264") == 0 ? "libx264" : "h264_nvenc";
    return FS_OK;
}

/* Browsers play AAC and MP3 in MP4 everywhere; anything else is re-encoded. */
static int audio_copyable(enum AVCodecID id)
{
    return id == AV_CODEC_ID_AAC || id == AV_CODEC_ID_MP3;
}

static fs_status open_audio_transcoder(fs_video_writer *w, const AVStream *in, fs_error_buf *err)
{
    char es[AV_ERROR_MAX_STRING_SIZE];
    const AVCodec *const dcodec = avcodec_find_decoder(in->codecpar->codec_id);
    const AVCodec *const ecodec = avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (!dcodec || !ecodec)
        return fs_fail(err, FS_ERR_UNSUPPORTED, "%s: cannot re-encode %s audio to AAC", w->path,
                       avcodec_get_name(in->codecpar->codec_id));
    w->adec = avcodec_alloc_context3(dcodec);
    w->aenc = avcodec_alloc_context3(ecodec);
    w->aframe = av_frame_alloc();
    w->aconv = av_frame_alloc();
    if (!w->adec || !w->aenc || !w->aframe || !w->aconv)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", w->path);
    int ret = avcodec_parameters_to_context(w->adec, in->codecpar);
    if (ret >= 0) {
        w->adec->pkt_timebase = in->time_base;
        ret = avcodec_open2(w->adec, dcodec, NULL);
    }
    if (ret < 0)
        return fs_fail(err, FS_ERR_VIDEO, "%s: cannot decode the %s audio (%s)", w->path,
                       avcodec_get_name(in->codecpar->codec_id), fs_ff_errstr(ret, es, sizeof(es)));
    if (w->adec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC && w->adec->ch_layout.nb_channels > 0) {
        const int n = w->adec->ch_layout.nb_channels;
        av_channel_layout_uninit(&w->adec->ch_layout);
        av_channel_layout_default(&w->adec->ch_layout, n);
    }
    /* Mono stays mono, anything else becomes stereo: what phones play. */
    const int mono = w->adec->ch_layout.nb_channels == 1;
    AVCodecContext *const e = w->aenc;
    av_channel_layout_default(&e->ch_layout, mono ? 1 : 2);
    e->sample_fmt = AV_SAMPLE_FMT_FLTP;
    e->sample_rate = 48000;
    static const int rates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                22050, 16000, 12000, 11025, 8000};
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
        if (w->adec->sample_rate == rates[i])
            e->sample_rate = rates[i];
    e->bit_rate = mono ? 96000 : 160000;
    e->time_base = (AVRational){1, e->sample_rate};
    if (w->oc->oformat->flags & AVFMT_GLOBALHEADER)
        e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    ret = avcodec_open2(e, ecodec, NULL);
    if (ret < 0)
        return fs_fail(err, FS_ERR_VIDEO, "%s: cannot open the AAC encoder (%s)", w->path,
                       fs_ff_errstr(ret, es, sizeof(es)));
    ret = swr_alloc_set_opts2(&w->swr, &e->ch_layout, e->sample_fmt, e->sample_rate,
                              &w->adec->ch_layout, w->adec->sample_fmt, w->adec->sample_rate, 0,
                              NULL);
    if (ret >= 0)
        ret = swr_init(w->swr);
    if (ret < 0)
        return fs_fail(err, FS_ERR_VIDEO, "%s: cannot convert the audio (%s)", w->path,
                       fs_ff_errstr(ret, es, sizeof(es)));
    w->fifo = av_audio_fifo_alloc(e->sample_fmt, e->ch_layout.nb_channels, 4096);
    if (!w->fifo)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", w->path);
    w->a_next_pts = AV_NOPTS_VALUE;
    return FS_OK;
}

static fs_status open_audio(fs_video_writer *w, const char *audio_from, fs_error_buf *err)
{
    fs_status st = fs_ff_open_input(audio_from, "audio source", &w->ain, err);
    if (st != FS_OK)
        return st;
    w->astream = av_find_best_stream(w->ain, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    if (w->astream < 0) {
        avformat_close_input(&w->ain);
        return FS_OK;
    }
    for (unsigned i = 0; i < w->ain->nb_streams; i++)
        if ((int)i != w->astream)
            w->ain->streams[i]->discard = AVDISCARD_ALL;
    const AVStream *const in = w->ain->streams[w->astream];
    w->apkt = av_packet_alloc();
    w->ast = avformat_new_stream(w->oc, NULL);
    if (!w->apkt || !w->ast)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", w->path);
    if (audio_copyable(in->codecpar->codec_id)) {
        const int ret = avcodec_parameters_copy(w->ast->codecpar, in->codecpar);
        if (ret < 0)
            return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", w->path);
        w->ast->codecpar->codec_tag = 0;
        w->ast->time_base = in->time_base;
        w->audio = FS_VIDEO_AUDIO_COPIED;
    } else {
        st = open_audio_transcoder(w, in, err);
        if (st != FS_OK)
            return st;
        const int ret = avcodec_parameters_from_context(w->ast->codecpar, w->aenc);
        if (ret < 0)
            return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", w->path);
        w->ast->time_base = w->aenc->time_base;
        w->audio = FS_VIDEO_AUDIO_TRANSCODED;
    }
    w->ast->disposition = AV_DISPOSITION_DEFAULT;
    w->a_last_dts = AV_NOPTS_VALUE;
    return FS_OK;
}

fs_status fs_video_writer_open(const char *path, const fs_video_props *props,
                               const fs_video_encode_opts *o, const char *audio_from,
                               fs_video_writer **out, fs_error_buf *err)
{
    if (!path || !props || !out)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "video writer: NULL argument");
    fs_ff_init();
    const fs_video_encode_opts defaults = fs_video_encode_opts_default();
    if (!o)
        o = &defaults;
    if (props->width <= 0 || props->height <= 0 || props->width > 32768 || props->height > 32768)
        return fs_fail(err, FS_ERR_OUT_OF_RANGE, "%s: frame size %dx%d out of range", path,
                       props->width, props->height);
    if (props->tb_num <= 0 || props->tb_den <= 0 || props->fps_num < 0 || props->fps_den <= 0)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "%s: bad time base %d/%d or frame rate %d/%d",
                       path, props->tb_num, props->tb_den, props->fps_num, props->fps_den);
    if (o->crf < 0 || o->crf > 51 || o->max_bitrate < 0 || o->threads < 0)
        return fs_fail(err, FS_ERR_OUT_OF_RANGE, "%s: crf %d (0..51), max bitrate or threads < 0",
                       path, o->crf);
    if (!memchr(o->preset, '\0', sizeof(o->preset)) || !memchr(o->encoder, '\0', sizeof(o->encoder)))
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "%s: preset or encoder name not terminated", path);
    if (o->encoder[0] && strcmp(o->encoder, "libx264") != 0 && strcmp(o->encoder, "h264_nvenc") != 0)
        return fs_fail(err, FS_ERR_UNSUPPORTED, "%s: unknown encoder \"%s\" (libx264, h264_nvenc)",
                       path, o->encoder);
    static const char *const presets[] = {"ultrafast", "superfast", "veryfast", "faster", "fast",
                                          "medium", "slow", "slower", "veryslow", "placebo"};
    int preset_ok = !o->preset[0];
    for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
        preset_ok |= strcmp(o->preset, presets[i]) == 0;
    if (!preset_ok)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "%s: unknown x264 preset \"%s\"", path,
                       o->preset);

    fs_video_writer *const w = calloc(1, sizeof(*w));
    if (!w)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    w->props = *props;
    w->last_pts = AV_NOPTS_VALUE;
    w->path = strdup(path);
    fs_status st = FS_OK;
    int ret;
    char *url = NULL;
    if (!w->path) {
        st = fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
        goto fail;
    }
    st = make_tmp(w, err);
    if (st != FS_OK)
        goto fail;
    const size_t ul = strlen(w->tmp) + 6;
    url = av_malloc(ul);
    if (!url) {
        st = fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
        goto fail;
    }
    snprintf(url, ul, "file:%s", w->tmp);
    ret = avformat_alloc_output_context2(&w->oc, NULL, "mp4", url);
    if (ret < 0 || !w->oc) {
        st = fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
        goto fail;
    }
    /* The faststart pass reopens the file by name: local files only. */
    w->oc->protocol_whitelist = av_strdup("file");
    if (!w->oc->protocol_whitelist) {
        st = fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
        goto fail;
    }
    if (o->encoder[0]) {
        st = open_encoder(w, o->encoder, o, err);
    } else {
        /* NVENC when a GPU with an encoder is there, else x264, silently. */
        st = open_encoder(w, "h264_nvenc", o, NULL);
        if (st != FS_OK)
            st = open_encoder(w, "libx264", o, err);
    }
    if (st != FS_OK)
        goto fail;
    w->vst = avformat_new_stream(w->oc, NULL);
    w->frm = av_frame_alloc();
    w->pkt = av_packet_alloc();
    if (!w->vst || !w->frm || !w->pkt) {
        st = fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
        goto fail;
    }
    ret = avcodec_parameters_from_context(w->vst->codecpar, w->enc);
    if (ret < 0) {
        st = fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
        goto fail;
    }
    w->vst->time_base = w->enc->time_base;
    if (props->fps_num > 0)
        w->vst->avg_frame_rate = (AVRational){props->fps_num, props->fps_den};
    if (props->rotation % 360 != 0) {
        uint8_t *const m = av_stream_new_side_data(w->vst, AV_PKT_DATA_DISPLAYMATRIX,
                                                   9 * sizeof(int32_t));
        if (!m) {
            st = fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
            goto fail;
        }
        /* _set takes the clockwise angle (_get answers counter-clockwise). */
        av_display_rotation_set((int32_t *)m, (double)props->rotation);
    }
    if (audio_from) {
        st = open_audio(w, audio_from, err);
        if (st != FS_OK)
            goto fail;
    }
    w->frm->format = AV_PIX_FMT_YUV420P;
    w->frm->width = w->enc->width;
    w->frm->height = w->enc->height;
    ret = av_frame_get_buffer(w->frm, 0);
    if (ret < 0) {
        st = fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
        goto fail;
    }
    AVDictionary *io_opts = NULL;
    av_dict_set(&io_opts, "protocol_whitelist", "file", 0);
    ret = avio_open2(&w->oc->pb, url, AVIO_FLAG_WRITE, NULL, &io_opts);
    av_dict_free(&io_opts);
    if (ret < 0) {
        st = mux_error(w, ret, err);
        goto fail;
    }
    AVDictionary *mux_opts = NULL;
    av_dict_set(&mux_opts, "movflags", "+faststart", 0);
    ret = avformat_write_header(w->oc, &mux_opts);
    av_dict_free(&mux_opts);
    if (ret < 0) {
        st = mux_error(w, ret, err);
        goto fail;
    }
    av_free(url);
    *out = w;
    return FS_OK;
fail:
    av_free(url);
    writer_free(w, 1);
    return st;
}

static fs_status write_packet(fs_video_writer *w, AVPacket *p, fs_error_buf *err)
{
    const int ret = av_interleaved_write_frame(w->oc, p);
    return ret < 0 ? mux_error(w, ret, err) : FS_OK;
}

/* Encoded AAC packets out of the encoder, into the file. */
static fs_status drain_audio_encoder(fs_video_writer *w, fs_error_buf *err)
{
    for (;;) {
        int ret = avcodec_receive_packet(w->aenc, w->apkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return FS_OK;
        if (ret < 0)
            return mux_error(w, ret, err);
        av_packet_rescale_ts(w->apkt, w->aenc->time_base, w->ast->time_base);
        w->apkt->stream_index = w->ast->index;
        const fs_status st = write_packet(w, w->apkt, err);
        if (st != FS_OK)
            return st;
    }
}

/* Whole AAC frames from the FIFO to the encoder (the short rest too when @p last). */
static fs_status encode_fifo(fs_video_writer *w, int last, fs_error_buf *err)
{
    const int fs = w->aenc->frame_size > 0 ? w->aenc->frame_size : 1024;
    while (av_audio_fifo_size(w->fifo) >= fs || (last && av_audio_fifo_size(w->fifo) > 0)) {
        const int n = FFMIN(fs, av_audio_fifo_size(w->fifo));
        AVFrame *const f = w->aframe;
        av_frame_unref(f);
        f->nb_samples = n;
        f->format = w->aenc->sample_fmt;
        f->sample_rate = w->aenc->sample_rate;
        int ret = av_channel_layout_copy(&f->ch_layout, &w->aenc->ch_layout);
        if (ret >= 0)
            ret = av_frame_get_buffer(f, 0);
        if (ret < 0)
            return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", w->path);
        if (av_audio_fifo_read(w->fifo, (void **)f->data, n) < n)
            return fs_fail(err, FS_ERR_INTERNAL, "%s: audio FIFO short", w->path);
        f->pts = w->a_next_pts;
        w->a_next_pts += n;
        ret = avcodec_send_frame(w->aenc, f);
        av_frame_unref(f);
        if (ret < 0)
            return mux_error(w, ret, err);
        const fs_status st = drain_audio_encoder(w, err);
        if (st != FS_OK)
            return st;
    }
    return FS_OK;
}

/* Decoded audio through the resampler into the FIFO; @p in NULL flushes the resampler. */
static fs_status resample(fs_video_writer *w, const AVFrame *in, fs_error_buf *err)
{
    const int out_n = swr_get_out_samples(w->swr, in ? in->nb_samples : 0);
    if (out_n <= 0)
        return FS_OK;
    AVFrame *const c = w->aconv;
    av_frame_unref(c);
    c->nb_samples = out_n;
    c->format = w->aenc->sample_fmt;
    c->sample_rate = w->aenc->sample_rate;
    int ret = av_channel_layout_copy(&c->ch_layout, &w->aenc->ch_layout);
    if (ret >= 0)
        ret = av_frame_get_buffer(c, 0);
    if (ret < 0)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", w->path);
    const int n = swr_convert(w->swr, c->data, out_n, in ? (const uint8_t **)in->extended_data : NULL,
                              in ? in->nb_samples : 0);
    if (n < 0)
        return mux_error(w, n, err);
    if (n > 0 && av_audio_fifo_write(w->fifo, (void **)c->data, n) < n)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", w->path);
    av_frame_unref(c);
    return FS_OK;
}

/* One source audio packet (NULL: the end) into the file, copied or re-encoded. */
static fs_status audio_packet(fs_video_writer *w, AVPacket *p, fs_error_buf *err)
{
    const AVStream *const in = w->ain->streams[w->astream];
    if (w->audio == FS_VIDEO_AUDIO_COPIED) {
        if (!p)
            return FS_OK;
        /* Packets as they are; timestamps only rescaled, and kept strictly
         * increasing as the muxer demands. */
        if (p->dts == AV_NOPTS_VALUE)
            p->dts = p->pts;
        av_packet_rescale_ts(p, in->time_base, w->ast->time_base);
        if (p->dts == AV_NOPTS_VALUE)
            p->dts = w->a_last_dts == AV_NOPTS_VALUE ? 0 : w->a_last_dts + FFMAX(p->duration, 1);
        if (w->a_last_dts != AV_NOPTS_VALUE && p->dts <= w->a_last_dts)
            p->dts = w->a_last_dts + 1;
        if (p->pts == AV_NOPTS_VALUE || p->pts < p->dts)
            p->pts = p->dts;
        w->a_last_dts = p->dts;
        p->stream_index = w->ast->index;
        p->pos = -1;
        return write_packet(w, p, err);
    }
    /* Re-encode: a packet the decoder refuses is skipped, like the video's. */
    int ret = avcodec_send_packet(w->adec, p);
    if (ret < 0 && ret != AVERROR_EOF && p)
        return FS_OK;
    for (;;) {
        ret = avcodec_receive_frame(w->adec, w->aframe);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            break;
        if (ret < 0)
            break; /* a damaged frame: its sound is skipped, the rest goes on */
        if (w->a_next_pts == AV_NOPTS_VALUE) {
            /* The first sample keeps its time, so the sound stays in sync. */
            const int64_t t = w->aframe->best_effort_timestamp;
            w->a_next_pts = t == AV_NOPTS_VALUE ? 0
                                                : av_rescale_q(t, in->time_base, w->aenc->time_base);
        }
        fs_status st = resample(w, w->aframe, err);
        av_frame_unref(w->aframe);
        if (st == FS_OK)
            st = encode_fifo(w, 0, err);
        if (st != FS_OK)
            return st;
    }
    if (p)
        return FS_OK;
    if (w->a_next_pts == AV_NOPTS_VALUE)
        w->a_next_pts = 0;
    fs_status st = resample(w, NULL, err);
    if (st == FS_OK)
        st = encode_fifo(w, 1, err);
    if (st != FS_OK)
        return st;
    ret = avcodec_send_frame(w->aenc, NULL);
    if (ret < 0 && ret != AVERROR_EOF)
        return mux_error(w, ret, err);
    return drain_audio_encoder(w, err);
}

/* Source audio up to time @p t in @p tb (everything, then the end, when @p all). */
static fs_status pump_audio(fs_video_writer *w, int64_t t, AVRational tb, int all,
                            fs_error_buf *err)
{
    if (!w->ain || w->a_eof)
        return FS_OK;
    const AVRational in_tb = w->ain->streams[w->astream]->time_base;
    for (;;) {
        if (!w->a_have) {
            const int ret = av_read_frame(w->ain, w->apkt);
            if (ret < 0)
                break; /* the end, or a cut in the file: the audio stops there */
            if (w->apkt->stream_index != w->astream) {
                av_packet_unref(w->apkt);
                continue;
            }
            w->a_have = 1;
        }
        const int64_t at = w->apkt->dts != AV_NOPTS_VALUE ? w->apkt->dts : w->apkt->pts;
        if (!all && at != AV_NOPTS_VALUE && av_compare_ts(at, in_tb, t, tb) > 0)
            return FS_OK;
        const fs_status st = audio_packet(w, w->apkt, err);
        av_packet_unref(w->apkt);
        w->a_have = 0;
        if (st != FS_OK)
            return st;
    }
    w->a_eof = 1;
    return audio_packet(w, NULL, err);
}

/* Encoded video packets out of the encoder, with the audio up to their time. */
static fs_status drain_video(fs_video_writer *w, fs_error_buf *err)
{
    for (;;) {
        const int ret = avcodec_receive_packet(w->enc, w->pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return FS_OK;
        if (ret < 0)
            return mux_error(w, ret, err);
        av_packet_rescale_ts(w->pkt, w->enc->time_base, w->vst->time_base);
        w->pkt->stream_index = w->vst->index;
        fs_status st = pump_audio(w, w->pkt->dts, w->vst->time_base, 0, err);
        if (st == FS_OK)
            st = write_packet(w, w->pkt, err);
        av_packet_unref(w->pkt);
        if (st != FS_OK)
            return st;
    }
}

fs_status fs_video_writer_write(fs_video_writer *w, const fs_video_frame *f, fs_error_buf *err)
{
    if (!w || !f || !f->plane[0] || !f->plane[1] || !f->plane[2])
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "video writer: NULL argument");
    if (f->width != w->props.width || f->height != w->props.height)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "%s: frame is %dx%d, the video %dx%d",
                       w->path, f->width, f->height, w->props.width, w->props.height);
    if (w->last_pts != AV_NOPTS_VALUE && f->pts <= w->last_pts)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT,
                       "%s: frame pts %lld not after the previous %lld", w->path,
                       (long long)f->pts, (long long)w->last_pts);
    int ret = av_frame_make_writable(w->frm);
    if (ret < 0)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "%s: out of memory", w->path);
    for (int p = 0; p < 3; p++) {
        const int pw = p ? w->enc->width / 2 : w->enc->width;
        const int ph = p ? w->enc->height / 2 : w->enc->height;
        for (int y = 0; y < ph; y++)
            memcpy(w->frm->data[p] + (ptrdiff_t)y * w->frm->linesize[p],
                   f->plane[p] + (ptrdiff_t)y * f->stride[p], (size_t)pw);
    }
    w->frm->pts = f->pts;
    ret = avcodec_send_frame(w->enc, w->frm);
    if (ret < 0)
        return mux_error(w, ret, err);
    w->last_pts = f->pts;
    w->frames++;
    return drain_video(w, err);
}

fs_status fs_video_writer_finish(fs_video_writer *w, fs_error_buf *err)
{
    if (!w)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "video writer: NULL writer");
    fs_status st = FS_OK;
    if (w->frames == 0)
        st = fs_fail(err, FS_ERR_INVALID_ARGUMENT, "%s: no frame was written", w->path);
    if (st == FS_OK) {
        const int ret = avcodec_send_frame(w->enc, NULL);
        st = ret < 0 ? mux_error(w, ret, err) : drain_video(w, err);
    }
    if (st == FS_OK)
        st = pump_audio(w, 0, (AVRational){1, 1}, 1, err);
    if (st == FS_OK) {
        const int ret = av_write_trailer(w->oc);
        if (ret < 0)
            st = mux_error(w, ret, err);
    }
    if (st == FS_OK) {
        const int ret = avio_closep(&w->oc->pb);
        if (ret < 0)
            st = mux_error(w, ret, err);
    }
    if (st == FS_OK) {
        /* Durable before it becomes visible under its name. */
        const int fd = open(w->tmp, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) != 0)
            st = fs_fail(err, FS_ERR_IO, "%s: write failed: %s", w->path, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    if (st == FS_OK && rename(w->tmp, w->path) != 0)
        st = fs_fail(err, FS_ERR_IO, "%s: write failed: %s", w->path, strerror(errno));
    writer_free(w, st != FS_OK);
    return st;
}
