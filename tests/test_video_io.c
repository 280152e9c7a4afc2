/*
 * lib/video: the FFmpeg reader on every container and codec of the video
 * path and on bad input, the MP4 writer (timing, quality, moov first,
 * colour, rotation, audio copied or re-encoded, no partial files), and the
 * YUV <-> RGB windows. Inputs are made here with the ffmpeg tool (exit 77,
 * skip, without it) in a temporary folder.
 */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "video/video_io.h"

/* AVCOL_* values (libavutil/pixfmt.h; tests include no FFmpeg header). */
enum { SPC_BT709 = 1, SPC_BT470BG = 5, SPC_SMPTE170M = 6, SPC_BT2020_NCL = 9, RANGE_MPEG = 1,
       RANGE_JPEG = 2, TRC_BT709 = 1, PRI_BT709 = 1 };

static char dir[256];

/* For helpers that also run before the suite, where ck_assert cannot. */
#define NEED(c)                                                                  \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #c);      \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

static const char *path_of(const char *name)
{
    static char buf[8][512];
    static int k;
    char *const p = buf[k++ & 7];
    snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
    return p;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return system(cmd);
}

#define FF "ffmpeg -nostdin -hide_banner -loglevel error -y "
#define SRC(size, dur) "-f lavfi -i testsrc2=size=" size ":rate=25:duration=" dur " "
#define TONE(dur) "-f lavfi -i sine=frequency=440:duration=" dur " "
#define TAGS709 "-colorspace bt709 -color_primaries bt709 -color_trc bt709 -color_range tv "

/* The clips of the format test: name, ffmpeg arguments, codec, container. */
typedef struct clip {
    const char *name, *args, *codec, *container;
    int width, height, bit_depth;
} clip;

static const clip clips[] = {
    {"h264.mp4", SRC("320x240", "2") TONE("2") "-c:v libx264 -preset ultrafast -pix_fmt yuv420p "
     TAGS709 "-c:a aac -shortest", "h264", "mov", 320, 240, 8},
    {"vp9.mkv", SRC("320x240", "2") TONE("2") "-c:v libvpx-vp9 -deadline realtime -cpu-used 8 "
     "-b:v 300k -c:a libopus -shortest", "vp9", "matroska", 320, 240, 8},
    {"vp8.webm", SRC("320x240", "2") TONE("2") "-c:v libvpx -deadline realtime -cpu-used 8 "
     "-b:v 300k -c:a libvorbis -shortest", "vp8", "matroska", 320, 240, 8},
    {"mpeg4.avi", SRC("320x240", "2") TONE("2") "-c:v mpeg4 -q:v 3 -c:a libmp3lame -shortest",
     "mpeg4", "avi", 320, 240, 8},
    {"hevc.mov", SRC("320x240", "2") TONE("2") "-c:v libx265 -preset ultrafast "
     "-x265-params log-level=error -tag:v hvc1 -pix_fmt yuv420p -c:a pcm_s16le -shortest",
     "hevc", "mov", 320, 240, 8},
    /* VP9 codes odd sizes (H.264 4:2:0 cannot). */
    {"odd.webm", SRC("719x405", "1") "-vf format=yuv444p,scale=719:405,format=yuv420p "
     "-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 500k",
     "vp9", "matroska", 719, 405, 8},
    {"hevc10.mp4", SRC("320x240", "1") "-c:v libx265 -preset ultrafast -x265-params "
     "log-level=error -pix_fmt yuv420p10le", "hevc", "mov", 320, 240, 10},
    {"vfr.mp4", SRC("320x240", "2") "-vf \"setpts=N/25/TB+if(gt(N\\,10)\\,0.02*N/TB\\,0)\" "
     "-fps_mode passthrough -c:v libx264 -preset ultrafast -pix_fmt yuv420p",
     "h264", "mov", 320, 240, 8},
    {"rot.mp4", SRC("320x240", "1") TONE("1") "-c:v libx264 -preset ultrafast -pix_fmt yuv420p "
     "-c:a aac -shortest", "h264", "mov", 320, 240, 8},
};
#define N_CLIPS ((int)(sizeof(clips) / sizeof(clips[0])))

/* ---- file helpers ---- */

static uint8_t *slurp(const char *path, size_t *n)
{
    uint8_t *const b = fs_test_slurp(path, n);
    NEED(b != NULL);
    return b;
}

static void spit(const char *path, const uint8_t *b, size_t n)
{
    NEED(fs_test_spit(path, b, n) == 0);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Offset of the first top-level MP4 box of this type, -1 if none. */
static long top_box(const uint8_t *b, size_t n, const char *type, size_t *size)
{
    size_t o = 0;
    while (o + 8 <= n) {
        uint64_t sz = be32(b + o);
        if (sz == 1 && o + 16 <= n)
            sz = (uint64_t)be32(b + o + 8) << 32 | be32(b + o + 12);
        else if (sz == 0)
            sz = n - o;
        if (sz < 8)
            return -1;
        if (memcmp(b + o + 4, type, 4) == 0) {
            if (size)
                *size = (size_t)sz;
            return (long)o;
        }
        o += (size_t)sz;
    }
    return -1;
}

/* Integers printed one a line by a shell command. */
static int64_t *ints_of(const char *cmd, int *count)
{
    FILE *const p = popen(cmd, "r");
    ck_assert(p != NULL);
    int64_t *v = NULL;
    int n = 0, cap = 0;
    char line[128];
    while (fgets(line, sizeof(line), p)) {
        if (line[0] < '0' && line[0] != '-')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            v = realloc(v, (size_t)cap * sizeof(*v));
            ck_assert(v != NULL);
        }
        v[n++] = strtoll(line, NULL, 10);
    }
    pclose(p);
    *count = n;
    return v;
}

/* ffprobe's best-effort timestamps of the video frames. */
static int64_t *probe_pts(const char *path, int *n)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "ffprobe -v error -select_streams v:0 -show_entries frame=best_effort_timestamp "
             "-of csv=p=0 '%s'", path);
    return ints_of(cmd, n);
}

static void probe_audio(const char *path, int *packets, int64_t *bytes, char *codec, size_t csize)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "ffprobe -v error -select_streams a:0 -show_entries packet=size -of csv=p=0 '%s'", path);
    int n = 0;
    int64_t *const v = ints_of(cmd, &n);
    *packets = n;
    *bytes = 0;
    for (int i = 0; i < n; i++)
        *bytes += v[i];
    free(v);
    snprintf(cmd, sizeof(cmd),
             "ffprobe -v error -select_streams a:0 -show_entries stream=codec_name -of csv=p=0 '%s'",
             path);
    FILE *const p = popen(cmd, "r");
    ck_assert(p != NULL);
    codec[0] = '\0';
    if (fgets(codec, (int)csize, p))
        codec[strcspn(codec, "\r\n,")] = '\0';
    pclose(p);
}

/* No file in the test folder starts with @p prefix. */
static int leftovers(const char *prefix)
{
    DIR *const d = opendir(dir);
    ck_assert(d != NULL);
    int n = 0;
    const struct dirent *e;
    while ((e = readdir(d)))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

/* ---- reading helpers ---- */

typedef struct clip_frames {
    fs_video_props props;
    fs_video_frame *f;
    int n;
    int64_t errors;
} clip_frames;

static fs_status read_all(const char *path, const fs_video_limits *lim, clip_frames *cf,
                          fs_error_buf *err)
{
    memset(cf, 0, sizeof(*cf));
    fs_video_reader *r = NULL;
    fs_status st = fs_video_reader_open(path, lim, &r, &cf->props, err);
    if (st != FS_OK)
        return st;
    int cap = 0;
    for (;;) {
        if (cf->n == cap) {
            cap = cap ? 2 * cap : 64;
            cf->f = realloc(cf->f, (size_t)cap * sizeof(*cf->f));
            ck_assert(cf->f != NULL);
        }
        fs_video_frame *const f = &cf->f[cf->n];
        FS_ASSERT_OK(fs_video_frame_alloc(f, cf->props.width, cf->props.height, err));
        int eof = 0;
        st = fs_video_reader_read(r, f, &eof, err);
        if (st != FS_OK || eof) {
            fs_video_frame_free(f);
            break;
        }
        cf->n++;
    }
    cf->errors = fs_video_reader_decode_errors(r);
    fs_video_reader_close(r);
    return st;
}

static void free_frames(clip_frames *cf)
{
    for (int i = 0; i < cf->n; i++)
        fs_video_frame_free(&cf->f[i]);
    free(cf->f);
    memset(cf, 0, sizeof(*cf));
}

/* PSNR of the luma of the w x h area. */
static double psnr_y(const fs_video_frame *a, const fs_video_frame *b, int w, int h)
{
    double se = 0.0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const double d = (double)a->plane[0][y * a->stride[0] + x] -
                             b->plane[0][y * b->stride[0] + x];
            se += d * d;
        }
    const double mse = se / ((double)w * h);
    return mse <= 0 ? 99.0 : 10.0 * log10(255.0 * 255.0 / mse);
}

/* pts a in tb a equals pts b in tb b, exactly. */
static int same_time(int64_t a, int an, int ad, int64_t b, int bn, int bd)
{
    __extension__ typedef __int128 wide;
    return (wide)a * an * bd == (wide)b * bn * ad;
}

/* ---- reader tests ---- */

START_TEST(reads_every_format)
{
    const clip *const c = &clips[_i];
    fs_error_buf err = {{0}};
    clip_frames cf;
    const fs_status st = read_all(path_of(c->name), NULL, &cf, &err);
    ck_assert_msg(st == FS_OK, "%s: %s %s", c->name, fs_status_name(st), err.text);
    const fs_video_props *const p = &cf.props;
    ck_assert_int_eq(p->width, c->width);
    ck_assert_int_eq(p->height, c->height);
    ck_assert_str_eq(p->codec, c->codec);
    ck_assert_str_eq(p->container, c->container);
    ck_assert_int_eq(p->bit_depth, c->bit_depth);
    ck_assert_int_eq(p->has_audio, strstr(c->args, "sine") != NULL);
    if (strcmp(c->name, "vfr.mp4") != 0) {
        ck_assert_msg(p->fps_num == 25 * p->fps_den, "%s: fps %d/%d", c->name, p->fps_num,
                      p->fps_den);
    }
    /* Frame count and every timestamp as ffprobe decodes them. */
    int np = 0;
    int64_t *const want = probe_pts(path_of(c->name), &np);
    ck_assert_msg(np > 0 && cf.n == np, "%s: %d frames, ffprobe %d", c->name, cf.n, np);
    for (int i = 0; i < cf.n; i++) {
        ck_assert_msg(cf.f[i].pts == want[i], "%s frame %d: pts %lld, ffprobe %lld", c->name, i,
                      (long long)cf.f[i].pts, (long long)want[i]);
        ck_assert_int_eq(cf.f[i].index, i);
        ck_assert(i == 0 || cf.f[i].pts > cf.f[i - 1].pts);
        ck_assert_int_eq(cf.f[i].corrupt, 0);
    }
    ck_assert_int_eq(cf.errors, 0);
    if (p->frames_hint > 0)
        ck_assert_msg(llabs(p->frames_hint - cf.n) <= 2, "%s: hint %lld for %d frames", c->name,
                      (long long)p->frames_hint, cf.n);
    /* Pixels as ffmpeg's own yuv420p conversion gives them: the same
     * bytes for 8-bit 4:2:0 (the same decoder), within a level of
     * rounding for the 10-bit source. */
    const char *const raw = path_of("frame0.yuv");
    ck_assert_int_eq(sh(FF "-noautorotate -i '%s' -frames:v 1 -f rawvideo -pix_fmt yuv420p '%s'",
                        path_of(c->name), raw), 0);
    size_t n = 0;
    uint8_t *const ref = slurp(raw, &n);
    const int w = c->width, h = c->height, cw = (w + 1) / 2, ch = (h + 1) / 2;
    ck_assert_uint_eq(n, (size_t)w * h + 2 * (size_t)cw * ch);
    double sum = 0.0;
    int maxd = 0;
    const uint8_t *src = ref;
    for (int pl = 0; pl < 3; pl++) {
        const int pw = pl ? cw : w, ph = pl ? ch : h;
        for (int y = 0; y < ph; y++, src += pw)
            for (int x = 0; x < pw; x++) {
                const int d = abs(src[x] - cf.f[0].plane[pl][y * cf.f[0].stride[pl] + x]);
                sum += d;
                maxd = d > maxd ? d : maxd;
            }
    }
    const double mean = sum / (double)n;
    if (c->bit_depth == 8)
        ck_assert_msg(maxd == 0, "%s: first frame differs from ffmpeg's by up to %d", c->name, maxd);
    else
        ck_assert_msg(mean < 1.0 && maxd <= 3, "%s: mean %.3f max %d", c->name, mean, maxd);
    /* Odd sizes: the padding repeats the last column and row. */
    if (w & 1)
        for (int y = 0; y < h; y++)
            ck_assert_int_eq(cf.f[0].plane[0][y * cf.f[0].stride[0] + w],
                             cf.f[0].plane[0][y * cf.f[0].stride[0] + w - 1]);
    if (h & 1)
        ck_assert(memcmp(cf.f[0].plane[0] + h * cf.f[0].stride[0],
                         cf.f[0].plane[0] + (h - 1) * cf.f[0].stride[0], (size_t)w + 1) == 0);
    free(ref);
    free(want);
    free_frames(&cf);
}
END_TEST

START_TEST(props_tags_and_rotation)
{
    fs_error_buf err = {{0}};
    fs_video_reader *r = NULL;
    fs_video_props p;
    FS_ASSERT_OK(fs_video_reader_open(path_of("h264.mp4"), NULL, &r, &p, &err));
    ck_assert_int_eq(p.color_space, SPC_BT709);
    ck_assert_int_eq(p.color_primaries, PRI_BT709);
    ck_assert_int_eq(p.color_trc, TRC_BT709);
    ck_assert_int_eq(p.color_range, RANGE_MPEG);
    ck_assert_int_eq(p.rotation, 0);
    ck_assert_msg(fabs(p.duration - 2.0) < 0.1, "duration %.3f", p.duration);
    ck_assert_int_eq(p.tb_den % 25, 0);
    fs_video_reader_close(r);
    FS_ASSERT_OK(fs_video_reader_open(path_of("rot.mp4"), NULL, &r, &p, &err));
    ck_assert_int_eq(p.rotation, 90);
    fs_video_reader_close(r);
    FS_ASSERT_OK(fs_video_reader_open(path_of("rot270.mp4"), NULL, &r, &p, &err));
    ck_assert_int_eq(p.rotation, 270);
    fs_video_reader_close(r);
}
END_TEST

START_TEST(bad_inputs)
{
    static const struct {
        const char *name;
        fs_status want;
        const char *says;
    } cases[] = {
        {"missing.mp4", FS_ERR_NOT_FOUND, "No such file"},
        {"empty.mp4", FS_ERR_TRUNCATED, "empty"},
        {"garbage.bin", FS_ERR_VIDEO, "not a video"},
        {"tone.m4a", FS_ERR_VIDEO, "no video stream"},
        {"cut_moov_end.mp4", FS_ERR_TRUNCATED, "moov"},
        {"hdr.mp4", FS_ERR_UNSUPPORTED, "HDR"},
        {"textfile.txt", FS_ERR_VIDEO, "not a video"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fs_error_buf err = {{0}};
        fs_video_reader *r = (fs_video_reader *)&err;
        fs_video_props p;
        memset(&p, 0x5a, sizeof(p));
        const fs_status st = fs_video_reader_open(path_of(cases[i].name), NULL, &r, &p, &err);
        ck_assert_msg(st == cases[i].want, "%s: %s (%s), want %s", cases[i].name,
                      fs_status_name(st), err.text, fs_status_name(cases[i].want));
        ck_assert_msg(strstr(err.text, cases[i].says) != NULL, "%s: detail \"%s\"", cases[i].name,
                      err.text);
        ck_assert(r == (fs_video_reader *)&err);
        ck_assert_int_eq(p.width, 0x5a5a5a5a);
    }
    /* A video stream without a frame: found at the first read. */
    fs_error_buf err = {{0}};
    clip_frames cf;
    const fs_status st = read_all(path_of("zero.avi"), NULL, &cf, &err);
    ck_assert_msg(st == FS_ERR_TRUNCATED, "%s %s", fs_status_name(st), err.text);
    ck_assert(strstr(err.text, "no frame could be decoded") != NULL);
    ck_assert_int_eq(cf.n, 0);
    free_frames(&cf);
}
END_TEST

START_TEST(truncated_and_corrupt)
{
    /* Faststart MP4 cut in the middle of its media: the frames before the
     * cut, then the end. */
    fs_error_buf err = {{0}};
    clip_frames cf;
    fs_status st = read_all(path_of("cut_mdat.mp4"), NULL, &cf, &err);
    ck_assert_msg(st == FS_OK, "%s %s", fs_status_name(st), err.text);
    ck_assert_msg(cf.n >= 40 && cf.n < 100, "cut: %d of 100 frames", cf.n);
    for (int i = 1; i < cf.n; i++)
        ck_assert(cf.f[i].pts > cf.f[i - 1].pts);
    free_frames(&cf);
    /* Bytes overwritten in the middle of the media: most frames still come
     * out, the damage is counted, and the frames after it are there. And
     * FFmpeg's complaints about it do not reach stderr. */
    fflush(stderr);
    const int saved = dup(2);
    const char *const log = path_of("stderr.txt");
    FILE *const lf = fopen(log, "w");
    ck_assert(saved >= 0 && lf != NULL);
    dup2(fileno(lf), 2);
    st = read_all(path_of("corrupt.mp4"), NULL, &cf, &err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(lf);
    size_t logged = 0;
    free(slurp(log, &logged));
    ck_assert_msg(logged == 0, "%zu bytes on stderr while decoding a damaged file", logged);
    ck_assert_msg(st == FS_OK, "%s %s", fs_status_name(st), err.text);
    ck_assert_msg(cf.n >= 90, "corrupt: %d of 100 frames", cf.n);
    ck_assert_msg(cf.errors > 0, "corrupt: no decode error counted");
    int flagged = 0;
    for (int i = 0; i < cf.n; i++)
        flagged += cf.f[i].corrupt;
    ck_assert_msg(flagged > 0, "no frame flagged corrupt");
    ck_assert_int_eq(cf.f[cf.n - 1].index, cf.n - 1);
    free_frames(&cf);
}
END_TEST

START_TEST(limits)
{
    fs_error_buf err = {{0}};
    fs_video_reader *r = NULL;
    fs_video_props p;
    fs_video_limits lim = {.max_pixels = 320 * 240 - 1};
    FS_ASSERT_STATUS(fs_video_reader_open(path_of("h264.mp4"), &lim, &r, &p, &err), FS_ERR_TOO_LARGE);
    ck_assert(strstr(err.text, "pixels") != NULL);
    lim = (fs_video_limits){.max_seconds = 1.5};
    FS_ASSERT_STATUS(fs_video_reader_open(path_of("h264.mp4"), &lim, &r, &p, &err), FS_ERR_TOO_LARGE);
    /* The frame limit holds while decoding: frame 11 is refused. */
    lim = (fs_video_limits){.max_pixels = 320 * 240, .max_seconds = 2.5, .max_frames = 10, .threads = 2};
    clip_frames cf;
    const fs_status st = read_all(path_of("h264.mp4"), &lim, &cf, &err);
    ck_assert_msg(st == FS_ERR_TOO_LARGE, "%s %s", fs_status_name(st), err.text);
    ck_assert_int_eq(cf.n, 10);
    free_frames(&cf);
    /* Wrong frame size and NULLs. */
    FS_ASSERT_OK(fs_video_reader_open(path_of("h264.mp4"), NULL, &r, &p, &err));
    fs_video_frame f;
    FS_ASSERT_OK(fs_video_frame_alloc(&f, 16, 16, &err));
    int eof = 0;
    FS_ASSERT_STATUS(fs_video_reader_read(r, &f, &eof, &err), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_video_reader_read(r, NULL, &eof, &err), FS_ERR_INVALID_ARGUMENT);
    fs_video_frame_free(&f);
    fs_video_reader_close(r);
    fs_video_reader_close(NULL);
    FS_ASSERT_STATUS(fs_video_frame_alloc(&f, 0, 10, &err), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_STATUS(fs_video_frame_alloc(&f, 40000, 10, &err), FS_ERR_OUT_OF_RANGE);
    fs_video_frame_free(NULL);
}
END_TEST

/* ---- writer tests ---- */

/* Writes @p cf's frames to @p out with audio from @p audio; checks what comes back. */
static void write_and_check(const char *src_name, const char *out_name, const char *audio,
                            fs_video_audio want_audio)
{
    fs_error_buf err = {{0}};
    clip_frames src;
    FS_ASSERT_OK(read_all(path_of(src_name), NULL, &src, &err));
    fs_video_encode_opts o = fs_video_encode_opts_default();
    o.crf = 18;
    o.threads = 2;
    fs_video_writer *w = NULL;
    const char *const out = path_of(out_name);
    fs_status st = fs_video_writer_open(out, &src.props, &o, audio ? path_of(audio) : NULL, &w, &err);
    ck_assert_msg(st == FS_OK, "%s", err.text);
    ck_assert_str_eq(fs_video_writer_encoder(w), "libx264");
    ck_assert_int_eq(fs_video_writer_audio(w), want_audio);
    for (int i = 0; i < src.n; i++)
        FS_ASSERT_OK(fs_video_writer_write(w, &src.f[i], &err));
    st = fs_video_writer_finish(w, &err);
    ck_assert_msg(st == FS_OK, "%s", err.text);
    ck_assert_int_eq(leftovers(out_name), 1); /* the file itself, no temporary */

    clip_frames got;
    FS_ASSERT_OK(read_all(out, NULL, &got, &err));
    ck_assert_int_eq(got.n, src.n);
    ck_assert_int_eq(got.props.width, (src.props.width + 1) & ~1);
    ck_assert_int_eq(got.props.height, (src.props.height + 1) & ~1);
    ck_assert_str_eq(got.props.codec, "h264");
    ck_assert_int_eq(got.props.rotation, src.props.rotation);
    ck_assert_int_eq(got.props.color_space, src.props.color_space);
    ck_assert_int_eq(got.props.color_primaries, src.props.color_primaries);
    ck_assert_int_eq(got.props.color_trc, src.props.color_trc);
    /* Limited range with nothing else tagged is H.264's default, which
     * neither x264 nor the MP4 muxer writes out: it reads back untagged. */
    const int untagged = src.props.color_primaries == 2 && src.props.color_trc == 2 &&
                         src.props.color_space == 2 && src.props.color_range == RANGE_MPEG;
    ck_assert_int_eq(got.props.color_range, untagged ? 0 : src.props.color_range);
    double worst = 99.0;
    for (int i = 0; i < src.n; i++) {
        ck_assert_msg(same_time(got.f[i].pts, got.props.tb_num, got.props.tb_den, src.f[i].pts,
                                src.props.tb_num, src.props.tb_den),
                      "%s frame %d: pts %lld (%d/%d), source %lld (%d/%d)", out_name, i,
                      (long long)got.f[i].pts, got.props.tb_num, got.props.tb_den,
                      (long long)src.f[i].pts, src.props.tb_num, src.props.tb_den);
        const double q = psnr_y(&got.f[i], &src.f[i], src.props.width, src.props.height);
        worst = q < worst ? q : worst;
    }
    ck_assert_msg(worst > 35.0, "%s: PSNR %.2f dB", out_name, worst);
    /* moov before mdat. */
    size_t n = 0;
    uint8_t *const b = slurp(out, &n);
    const long moov = top_box(b, n, "moov", NULL), mdat = top_box(b, n, "mdat", NULL);
    ck_assert_msg(moov > 0 && mdat > 0 && moov < mdat, "moov at %ld, mdat at %ld", moov, mdat);
    free(b);
    /* H.264 High, yuv420p, as ffprobe sees it. */
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "ffprobe -v error -select_streams v:0 -show_entries "
             "stream=profile,pix_fmt -of csv=p=0 '%s' | grep -q '^High,yuv420p'", out);
    ck_assert_int_eq(system(cmd), 0);
    /* Audio: the same packets when copied; AAC of the same length otherwise. */
    if (audio && want_audio == FS_VIDEO_AUDIO_NONE) {
        int op = 0;
        int64_t ob = 0;
        char oc[64];
        probe_audio(out, &op, &ob, oc, sizeof(oc));
        ck_assert_msg(op == 0 && oc[0] == '\0', "audio %s, %d packets", oc, op);
    } else if (audio) {
        int sp = 0, op = 0;
        int64_t sb = 0, ob = 0;
        char sc[64], oc[64];
        probe_audio(path_of(audio), &sp, &sb, sc, sizeof(sc));
        probe_audio(out, &op, &ob, oc, sizeof(oc));
        if (want_audio == FS_VIDEO_AUDIO_COPIED) {
            ck_assert_msg(op == sp && ob == sb, "audio %d packets %lld bytes, source %d %lld", op,
                          (long long)ob, sp, (long long)sb);
            ck_assert_str_eq(oc, sc);
        } else {
            ck_assert_str_eq(oc, "aac");
            /* 2 s of sound at 44.1 or 48 kHz, 1024 samples a packet. */
            ck_assert_msg(op >= 84 && op <= 98, "%d AAC packets for 2 s", op);
        }
    }
    free_frames(&got);
    free_frames(&src);
}

START_TEST(write_copy_audio)
{
    write_and_check("h264.mp4", "out_h264.mp4", "h264.mp4", FS_VIDEO_AUDIO_COPIED);
}
END_TEST

START_TEST(write_transcode_audio)
{
    /* MOV with PCM sound: MP4 cannot carry it, so it becomes AAC. */
    write_and_check("hevc.mov", "out_hevc.mp4", "hevc.mov", FS_VIDEO_AUDIO_TRANSCODED);
    write_and_check("vp9.mkv", "out_vp9.mp4", "vp9.mkv", FS_VIDEO_AUDIO_TRANSCODED);
}
END_TEST

START_TEST(write_vfr_rotated_odd)
{
    write_and_check("vfr.mp4", "out_vfr.mp4", NULL, FS_VIDEO_AUDIO_NONE);
    write_and_check("rot.mp4", "out_rot.mp4", "rot.mp4", FS_VIDEO_AUDIO_COPIED);
    write_and_check("odd.webm", "out_odd.mp4", "tone.m4a", FS_VIDEO_AUDIO_COPIED);
    /* A file without audio as the audio source: no audio. */
    write_and_check("mpeg4.avi", "out_avi.mp4", "odd.webm", FS_VIDEO_AUDIO_NONE);
}
END_TEST

START_TEST(write_abort_and_failures)
{
    fs_error_buf err = {{0}};
    clip_frames src;
    FS_ASSERT_OK(read_all(path_of("rot.mp4"), NULL, &src, &err));
    fs_video_writer *w = NULL;
    const char *const out = path_of("aborted.mp4");
    FS_ASSERT_OK(fs_video_writer_open(out, &src.props, NULL, path_of("rot.mp4"), &w, &err));
    ck_assert_int_eq(leftovers("aborted.mp4"), 1); /* the temporary */
    for (int i = 0; i < 3; i++)
        FS_ASSERT_OK(fs_video_writer_write(w, &src.f[i], &err));
    /* Out-of-order and wrongly sized frames are refused. */
    FS_ASSERT_STATUS(fs_video_writer_write(w, &src.f[1], &err), FS_ERR_INVALID_ARGUMENT);
    fs_video_writer_abort(w);
    fs_video_writer_abort(NULL);
    ck_assert_int_eq(leftovers("aborted.mp4"), 0);

    /* Failed opens leave nothing. */
    fs_video_writer *const sentinel = (fs_video_writer *)&err;
    w = sentinel;
    FS_ASSERT_STATUS(fs_video_writer_open(out, &src.props, NULL, path_of("garbage.bin"), &w, &err),
                     FS_ERR_VIDEO);
    FS_ASSERT_STATUS(fs_video_writer_open(out, &src.props, NULL, path_of("nothing.mp4"), &w, &err),
                     FS_ERR_NOT_FOUND);
    fs_video_encode_opts o = fs_video_encode_opts_default();
    o.crf = 52;
    FS_ASSERT_STATUS(fs_video_writer_open(out, &src.props, &o, NULL, &w, &err), FS_ERR_OUT_OF_RANGE);
    o.crf = -1;
    FS_ASSERT_STATUS(fs_video_writer_open(out, &src.props, &o, NULL, &w, &err), FS_ERR_OUT_OF_RANGE);
    o = fs_video_encode_opts_default();
    memset(o.preset, 'x', sizeof(o.preset));
    FS_ASSERT_STATUS(fs_video_writer_open(out, &src.props, &o, NULL, &w, &err),
                     FS_ERR_INVALID_ARGUMENT);
    o = fs_video_encode_opts_default();
    strcpy(o.preset, "warp");
    FS_ASSERT_STATUS(fs_video_writer_open(out, &src.props, &o, NULL, &w, &err),
                     FS_ERR_INVALID_ARGUMENT);
    o = fs_video_encode_opts_default();
    strcpy(o.encoder, "libfoo");
    FS_ASSERT_STATUS(fs_video_writer_open(out, &src.props, &o, NULL, &w, &err), FS_ERR_UNSUPPORTED);
    FS_ASSERT_STATUS(fs_video_writer_open(path_of("no/such/dir/x.mp4"), &src.props, NULL, NULL, &w,
                                          &err), FS_ERR_IO);
    fs_video_props bad = src.props;
    bad.tb_den = 0;
    FS_ASSERT_STATUS(fs_video_writer_open(out, &bad, NULL, NULL, &w, &err), FS_ERR_INVALID_ARGUMENT);
    ck_assert(w == sentinel);
    ck_assert_int_eq(leftovers("aborted.mp4"), 0);
    /* A bitrate cap, an explicit encoder and preset, x264's own threads. */
    o = fs_video_encode_opts_default();
    o.max_bitrate = 100000;
    o.threads = 1;
    strcpy(o.encoder, "libx264");
    strcpy(o.preset, "ultrafast");
    FS_ASSERT_OK(fs_video_writer_open(path_of("capped.mp4"), &src.props, &o, NULL, &w, &err));
    for (int i = 0; i < src.n; i++)
        FS_ASSERT_OK(fs_video_writer_write(w, &src.f[i], &err));
    FS_ASSERT_OK(fs_video_writer_finish(w, &err));
    struct stat sb;
    ck_assert_int_eq(stat(path_of("capped.mp4"), &sb), 0);
    /* 1 s at 100 kbit/s with a 200 kbit buffer: about 40 kB at most (92 kB uncapped). */
    ck_assert_msg(sb.st_size < 45000, "capped output %lld bytes", (long long)sb.st_size);
    /* Finishing without a frame is an error and leaves nothing. */
    FS_ASSERT_OK(fs_video_writer_open(out, &src.props, NULL, NULL, &w, &err));
    FS_ASSERT_STATUS(fs_video_writer_finish(w, &err), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(leftovers("aborted.mp4"), 0);
    free_frames(&src);
}
END_TEST

/* ---- YUV <-> RGB ---- */

static void random_frame(fs_video_frame *f, uint32_t seed)
{
    for (int p = 0; p < 3; p++) {
        const int h = p ? (f->height + 1) / 2 : (f->height + 1) & ~1;
        const int w = p ? (f->width + 1) / 2 : (f->width + 1) & ~1;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                seed = seed * 1664525u + 1013904223u;
                /* Smooth-ish values in the legal range, with noise. */
                const int base = p ? 128 + (int)(60 * sin(x * 0.1 + y * 0.07 + p))
                                   : 126 + (int)(90 * sin(x * 0.05) * cos(y * 0.04));
                f->plane[p][y * f->stride[p] + x] = (uint8_t)(base + (int)(seed >> 29) - 4);
            }
    }
}

START_TEST(yuv_matrices)
{
    const fs_yuv_desc d709 = fs_yuv_desc_from(SPC_BT709, RANGE_MPEG, 240);
    ck_assert_int_eq(d709.matrix, 709);
    ck_assert_int_eq(fs_yuv_desc_from(2, 0, 480).matrix, 601);
    ck_assert_int_eq(fs_yuv_desc_from(2, 0, 720).matrix, 709);
    ck_assert_int_eq(fs_yuv_desc_from(SPC_BT470BG, 0, 1080).matrix, 601);
    ck_assert_int_eq(fs_yuv_desc_from(SPC_SMPTE170M, 0, 1080).matrix, 601);
    ck_assert_int_eq(fs_yuv_desc_from(SPC_BT2020_NCL, 0, 2160).matrix, 2020);
    ck_assert_int_eq(fs_yuv_desc_from(SPC_BT709, RANGE_JPEG, 240).full_range, 1);
    /* Known points: limited-range white, black and BT.709 red (63, 102, 240). */
    fs_video_frame f;
    fs_error_buf err = {{0}};
    FS_ASSERT_OK(fs_video_frame_alloc(&f, 2, 2, &err));
    uint8_t rgb[2 * 2 * 3];
    const struct { int y, u, v, r, g, b; } pts[] = {
        {235, 128, 128, 255, 255, 255}, {16, 128, 128, 0, 0, 0}, {63, 102, 240, 255, 0, 0},
        {173, 42, 26, 0, 255, 0}, {32, 240, 118, 0, 0, 255}};
    for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
        memset(f.plane[0], pts[i].y, (size_t)f.stride[0] * 2);
        f.plane[1][0] = (uint8_t)pts[i].u;
        f.plane[2][0] = (uint8_t)pts[i].v;
        FS_ASSERT_OK(fs_yuv420_to_rgb(&f, &d709, rgb, 6));
        ck_assert_msg(abs(rgb[0] - pts[i].r) <= 2 && abs(rgb[1] - pts[i].g) <= 2 &&
                      abs(rgb[2] - pts[i].b) <= 2, "YUV %d %d %d -> %d %d %d", pts[i].y, pts[i].u,
                      pts[i].v, rgb[0], rgb[1], rgb[2]);
    }
    /* And back: the same code values within a level. */
    for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
        memset(f.plane[0], 128, (size_t)f.stride[0] * 2);
        f.plane[1][0] = f.plane[2][0] = 100;
        uint8_t before[12], now[12];
        FS_ASSERT_OK(fs_yuv420_to_rgb(&f, &d709, before, 6));
        for (int k = 0; k < 4; k++) {
            now[3 * k] = (uint8_t)pts[i].r;
            now[3 * k + 1] = (uint8_t)pts[i].g;
            now[3 * k + 2] = (uint8_t)pts[i].b;
        }
        FS_ASSERT_OK(fs_rgb_window_to_yuv420(&f, &d709, 0, 0, 2, 2, now, before, 6));
        ck_assert_msg(abs(f.plane[0][0] - pts[i].y) <= 1 && abs(f.plane[1][0] - pts[i].u) <= 1 &&
                      abs(f.plane[2][0] - pts[i].v) <= 1, "RGB -> %d %d %d, want %d %d %d",
                      f.plane[0][0], f.plane[1][0], f.plane[2][0], pts[i].y, pts[i].u, pts[i].v);
    }
    fs_video_frame_free(&f);
}
END_TEST

START_TEST(yuv_round_trip)
{
    /* Every matrix and range; odd frame sizes and windows at odd offsets. */
    static const struct { int spc, range, w, h, x0, y0, ww, wh; } cases[] = {
        {SPC_BT709, RANGE_MPEG, 64, 48, 8, 6, 40, 30},
        {SPC_BT470BG, RANGE_MPEG, 63, 47, 3, 5, 60, 42},
        {SPC_BT2020_NCL, RANGE_MPEG, 33, 21, 1, 1, 31, 19},
        {SPC_BT709, RANGE_JPEG, 65, 49, 0, 0, 65, 49},
        {2, RANGE_JPEG, 40, 30, 7, 9, 33, 21},
    };
    fs_error_buf err = {{0}};
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const int W = cases[c].w, H = cases[c].h, x0 = cases[c].x0, y0 = cases[c].y0;
        const int ww = cases[c].ww, wh = cases[c].wh;
        const fs_yuv_desc d = fs_yuv_desc_from(cases[c].spc, cases[c].range, H);
        fs_video_frame f, orig;
        FS_ASSERT_OK(fs_video_frame_alloc(&f, W, H, &err));
        FS_ASSERT_OK(fs_video_frame_alloc(&orig, W, H, &err));
        random_frame(&f, (uint32_t)c + 1);
        /* Padding as the reader leaves it. */
        for (int y = 0; y < H; y++)
            if (W & 1)
                f.plane[0][y * f.stride[0] + W] = f.plane[0][y * f.stride[0] + W - 1];
        if (H & 1)
            memcpy(f.plane[0] + H * f.stride[0], f.plane[0] + (H - 1) * f.stride[0], (size_t)W + 1);
        FS_ASSERT_OK(fs_video_frame_copy(&orig, &f, &err));
        const ptrdiff_t stride = (ptrdiff_t)ww * 3 + 5;
        uint8_t *const before = calloc((size_t)stride * wh, 1);
        uint8_t *const rgb = calloc((size_t)stride * wh, 1);
        uint8_t *const back = calloc((size_t)stride * wh, 1);
        FS_ASSERT_OK(fs_yuv420_to_rgb_window(&f, &d, x0, y0, ww, wh, before, stride));
        /* Nothing changed: nothing written, the same bytes. */
        memcpy(rgb, before, (size_t)stride * wh);
        FS_ASSERT_OK(fs_rgb_window_to_yuv420(&f, &d, x0, y0, ww, wh, rgb, before, stride));
        for (int p = 0; p < 3; p++) {
            const int ph = p ? (H + 1) / 2 : (H + 1) & ~1, pw = p ? (W + 1) / 2 : (W + 1) & ~1;
            for (int y = 0; y < ph; y++)
                ck_assert(memcmp(f.plane[p] + y * f.stride[p], orig.plane[p] + y * orig.stride[p],
                                 (size_t)pw) == 0);
        }
        /* A patch of new colour, constant over the frame's 2x2 blocks (what
         * 4:2:0 can hold), covering part of the window from an odd offset. */
        const int px0 = x0 + 3, py0 = y0 + 1, px1 = x0 + ww - 2, py1 = y0 + wh - 3;
        for (int y = py0; y < py1; y++)
            for (int x = px0; x < px1; x++) {
                uint8_t *const q = rgb + (y - y0) * stride + (x - x0) * 3;
                const int bx = x >> 1, by = y >> 1;
                q[0] = (uint8_t)(40 + 9 * bx + (x & 1) * 3);
                q[1] = (uint8_t)(200 - 7 * by + (y & 1) * 2);
                q[2] = (uint8_t)(90 + 5 * ((bx + by) % 20));
            }
        FS_ASSERT_OK(fs_rgb_window_to_yuv420(&f, &d, x0, y0, ww, wh, rgb, before, stride));
        FS_ASSERT_OK(fs_yuv420_to_rgb_window(&f, &d, x0, y0, ww, wh, back, stride));
        int worst = 0;
        for (int y = py0; y < py1; y++)
            for (int x = px0; x < px1; x++) {
                const uint8_t *const a = rgb + (y - y0) * stride + (x - x0) * 3;
                const uint8_t *const b = back + (y - y0) * stride + (x - x0) * 3;
                const int bx = x >> 1, by = y >> 1;
                /* Blocks cut by the patch edge mix old and new colour. */
                const int whole = 2 * bx >= px0 && 2 * bx + 1 < px1 && 2 * by >= py0 &&
                                  2 * by + 1 < py1;
                if (!whole)
                    continue;
                for (int k = 0; k < 3; k++)
                    worst = abs(a[k] - b[k]) > worst ? abs(a[k] - b[k]) : worst;
            }
        ck_assert_msg(worst <= 3, "case %zu: round trip off by %d", c, worst);
        /* Untouched pixels keep their bytes: luma outside the patch, chroma
         * of blocks without a patch pixel. */
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                const int in = x >= px0 && x < px1 && y >= py0 && y < py1;
                if (!in)
                    ck_assert(f.plane[0][y * f.stride[0] + x] == orig.plane[0][y * orig.stride[0] + x]);
            }
        for (int by = 0; by < (H + 1) / 2; by++)
            for (int bx = 0; bx < (W + 1) / 2; bx++) {
                const int touched = 2 * bx + 1 >= px0 && 2 * bx < px1 && 2 * by + 1 >= py0 &&
                                    2 * by < py1;
                if (!touched) {
                    ck_assert(f.plane[1][by * f.stride[1] + bx] == orig.plane[1][by * orig.stride[1] + bx]);
                    ck_assert(f.plane[2][by * f.stride[2] + bx] == orig.plane[2][by * orig.stride[2] + bx]);
                }
            }
        /* The padding follows. */
        if (W & 1)
            for (int y = 0; y < H; y++)
                ck_assert(f.plane[0][y * f.stride[0] + W] == f.plane[0][y * f.stride[0] + W - 1]);
        if (H & 1)
            ck_assert(memcmp(f.plane[0] + H * f.stride[0], f.plane[0] + (H - 1) * f.stride[0],
                             (size_t)W + 1) == 0);
        free(before);
        free(rgb);
        free(back);
        fs_video_frame_free(&f);
        fs_video_frame_free(&orig);
    }
    /* Windows outside the frame and bad arguments. */
    fs_video_frame f;
    FS_ASSERT_OK(fs_video_frame_alloc(&f, 8, 8, &err));
    const fs_yuv_desc d = fs_yuv_desc_from(SPC_BT709, RANGE_MPEG, 8);
    uint8_t buf[8 * 8 * 3];
    FS_ASSERT_STATUS(fs_yuv420_to_rgb_window(&f, &d, 1, 0, 8, 8, buf, 24), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_STATUS(fs_yuv420_to_rgb_window(&f, &d, -1, 0, 2, 2, buf, 24), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_STATUS(fs_yuv420_to_rgb_window(&f, &d, 0, 0, 0, 2, buf, 24), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_STATUS(fs_yuv420_to_rgb_window(&f, &d, 0, 0, 8, 8, buf, 23), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_rgb_window_to_yuv420(&f, &d, 0, 0, 8, 8, buf, NULL, 24), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_yuv420_to_rgb(NULL, &d, buf, 24), FS_ERR_INVALID_ARGUMENT);
    fs_video_frame_free(&f);
}
END_TEST

/* ---- inputs ---- */

/* Sets the first video track's tkhd matrix to a quarter turn clockwise (@p q = 1) or three. */
static void rotate_tkhd(const char *from, const char *to, int q)
{
    size_t n = 0;
    uint8_t *const b = slurp(from, &n);
    uint8_t *const t = memmem(b, n, "tkhd", 4);
    NEED(t != NULL);
    const int v1 = t[4] == 1;
    uint8_t *const m = t + 4 + 4 + (v1 ? 32 : 20) + 16;
    static const uint32_t cw90[9] = {0, 0x10000, 0, 0xFFFF0000u, 0, 0, 0, 0, 0x40000000};
    static const uint32_t cw270[9] = {0, 0xFFFF0000u, 0, 0x10000, 0, 0, 0, 0, 0x40000000};
    const uint32_t *const mat = q == 1 ? cw90 : cw270;
    NEED(be32(m) == 0x10000 && be32(m + 32) == 0x40000000);
    for (int i = 0; i < 9; i++) {
        m[4 * i] = (uint8_t)(mat[i] >> 24);
        m[4 * i + 1] = (uint8_t)(mat[i] >> 16);
        m[4 * i + 2] = (uint8_t)(mat[i] >> 8);
        m[4 * i + 3] = (uint8_t)mat[i];
    }
    spit(to, b, n);
    free(b);
}

static void make_inputs(void)
{
    for (int i = 0; i < N_CLIPS; i++) {
        const char *const out = strcmp(clips[i].name, "rot.mp4") == 0 ? "rot0.mp4" : clips[i].name;
        if (sh(FF "%s '%s'", clips[i].args, path_of(out)) != 0) {
            fprintf(stderr, "cannot make %s\n", clips[i].name);
            exit(1);
        }
    }
    rotate_tkhd(path_of("rot0.mp4"), path_of("rot.mp4"), 1);
    rotate_tkhd(path_of("rot0.mp4"), path_of("rot270.mp4"), 3);
    int bad = 0;
    bad |= sh(FF TONE("2") "-c:a aac '%s'", path_of("tone.m4a"));
    bad |= sh(FF SRC("320x240", "0.4") "-c:v libx265 -preset ultrafast -x265-params log-level=error "
              "-pix_fmt yuv420p10le -color_primaries bt2020 -color_trc smpte2084 "
              "-colorspace bt2020nc '%s'", path_of("hdr.mp4"));
    bad |= sh(FF "-f lavfi -i testsrc2=size=320x240:rate=25 -frames:v 0 -c:v mpeg4 '%s'",
              path_of("zero.avi"));
    bad |= sh(FF SRC("320x240", "4") TONE("4") "-c:v libx264 -preset ultrafast -g 25 -c:a aac "
              "-shortest -movflags +faststart '%s'", path_of("fast.mp4"));
    if (bad) {
        fprintf(stderr, "cannot make the bad-input clips\n");
        exit(1);
    }
    spit(path_of("empty.mp4"), (const uint8_t *)"", 0);
    spit(path_of("textfile.txt"), (const uint8_t *)"hello, this is not a video\n", 27);
    uint8_t *const junk = malloc(100000);
    uint32_t s = 12345;
    for (int i = 0; i < 100000; i++) {
        s = s * 1664525u + 1013904223u;
        junk[i] = (uint8_t)(s >> 24);
    }
    spit(path_of("garbage.bin"), junk, 100000);
    free(junk);
    size_t n = 0, msize = 0;
    uint8_t *b = slurp(path_of("h264.mp4"), &n);
    NEED(top_box(b, n, "moov", NULL) > top_box(b, n, "mdat", NULL)); /* moov at the end */
    spit(path_of("cut_moov_end.mp4"), b, n / 2);
    free(b);
    b = slurp(path_of("fast.mp4"), &n);
    const long mdat = top_box(b, n, "mdat", &msize);
    NEED(mdat > top_box(b, n, "moov", NULL));
    spit(path_of("cut_mdat.mp4"), b, (size_t)mdat + msize / 2);
    /* Damage in the middle of the media: three runs of bytes overwritten. */
    for (int k = 0; k < 3; k++) {
        uint8_t *const at = b + mdat + msize * (35 + 10 * k) / 100;
        for (int i = 0; i < 1500; i++)
            at[i] = (uint8_t)(0xA5 ^ (i * 7));
    }
    spit(path_of("corrupt.mp4"), b, n);
    free(b);
}

int main(void)
{
    if (system("ffmpeg -version >/dev/null 2>&1") != 0 ||
        system("ffprobe -version >/dev/null 2>&1") != 0) {
        fprintf(stderr, "ffmpeg/ffprobe not found: skipped\n");
        return 77;
    }
    const char *const tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/fs_video_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    make_inputs();
    Suite *s = suite_create("video_io");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, reads_every_format, 0, N_CLIPS);
    tcase_add_test(tc, props_tags_and_rotation);
    tcase_add_test(tc, bad_inputs);
    tcase_add_test(tc, truncated_and_corrupt);
    tcase_add_test(tc, limits);
    tcase_add_test(tc, write_copy_audio);
    tcase_add_test(tc, write_transcode_audio);
    tcase_add_test(tc, write_vfr_rotated_odd);
    tcase_add_test(tc, write_abort_and_failures);
    tcase_add_test(tc, yuv_matrices);
    tcase_add_test(tc, yuv_round_trip);
    suite_add_tcase(s, tc);
    const int rc = fs_test_run_suite(s);
    if (!getenv("FS_KEEP_TEST_FILES"))
        sh("rm -rf '%s'", dir);
    return rc;
}
