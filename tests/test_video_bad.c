/*
 * The video path on bad and odd input, through the public API
 * (include/faceswap/template.h, video.h): every file of
 * tests/clips/make-bad-clips.sh gets its status and a detail that names
 * the file; every file the library reads is also rendered, and the MP4 is
 * read back for its frame count, timestamps, rotation and audio. Template
 * files from another video, truncated, altered or of another version;
 * cancels from the progress callback; NULL and out-of-range arguments of
 * every fs_template_* and fs_video_* function. No call may leave a file
 * behind when it fails (the ASan build also checks for leaks).
 *
 * The clips are made once, before the suite, in a temporary folder (about
 * 25 s of CPU); exit 77 (skip) without the ffmpeg tool.
 *
 * Decisions this test pins (doc in include/faceswap/template.h):
 *   a file with no video stream (audio only) is FS_ERR_VIDEO, like any other
 *   file that is not a video; a PNG named .mp4 is FS_ERR_VIDEO too (image
 *   demuxers are not on the library's list); a video track without samples
 *   is FS_ERR_TRUNCATED ("no frame could be decoded"); HDR is
 *   FS_ERR_UNSUPPORTED.
 */
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "template/template_api.h"
#include "video/video_io.h"

/* For the set-up before the suite, where ck_assert cannot run. */
#define NEED(c)                                                                  \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #c);      \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

static char dir[512];

typedef struct row {
    char file[96], kind[16], what[320];
} row;

static row rows[64];
static int n_rows;

static const char *path_of(const char *name)
{
    static char buf[8][1024];
    static int k;
    char *const p = buf[k++ & 7];
    snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
    return p;
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Names in a folder other than . and .., for "nothing left behind". */
static int count_entries(const char *folder, char *first, size_t first_size)
{
    DIR *const d = opendir(folder);
    ck_assert_msg(d != NULL, "opendir %s", folder);
    int n = 0;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == 0 && first)
            snprintf(first, first_size, "%s", e->d_name);
        n++;
    }
    closedir(d);
    return n;
}

/* A new empty folder under the clips folder, its path in @p p. */
static void new_folder(const char *name, char p[1024])
{
    snprintf(p, 1024, "%s", path_of(name));
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p);
    ck_assert(system(cmd) == 0);
    ck_assert_msg(mkdir(p, 0700) == 0, "mkdir %s", p);
}

/* Frames of the truth file beside a clip (NAME.txt for NAME.ext); -1 if none. */
static int64_t truth_frames(const char *file)
{
    char name[128];
    snprintf(name, sizeof(name), "%s", file);
    char *const dot = strrchr(name, '.');
    if (dot)
        *dot = '\0';
    strncat(name, ".txt", sizeof(name) - strlen(name) - 1);
    FILE *const f = fopen(path_of(name), "r");
    if (!f)
        return -1;
    char line[512];
    long long frames = -1;
    while (fgets(line, sizeof(line), f)) {
        const char *const p = strstr(line, "# canvas ");
        const char *const q = p ? strstr(p, " frames ") : NULL;
        if (q && sscanf(q, " frames %lld", &frames) == 1)
            break;
    }
    fclose(f);
    return frames;
}

/* Display rotation, degrees clockwise, as the ffprobe tool reads the
 * stream's display matrix (its "rotation" is counter-clockwise, as
 * av_display_rotation_get answers, and FFmpeg's own autorotate turns the
 * picture by minus that). */
static int probe_rotation(const char *path)
{
    char cmd[1400];
    snprintf(cmd, sizeof(cmd),
             "ffprobe -v error -select_streams v:0 -show_entries stream_side_data=rotation "
             "-of csv=p=0 '%s'", path);
    FILE *const p = popen(cmd, "r");
    ck_assert(p != NULL);
    double ccw = 0;
    if (fscanf(p, "%lf", &ccw) != 1)
        ccw = 0;
    pclose(p);
    const int cw = ((int)lround(-ccw) % 360 + 360) % 360;
    return cw;
}

/* Frames of the video stream as the ffprobe tool counts them (decoding all). */
static int64_t probe_frames(const char *path)
{
    char cmd[1400];
    snprintf(cmd, sizeof(cmd),
             "ffprobe -v error -select_streams v:0 -count_frames -show_entries "
             "stream=nb_read_frames -of csv=p=0 '%s'", path);
    FILE *const p = popen(cmd, "r");
    ck_assert(p != NULL);
    long long n = -1;
    if (fscanf(p, "%lld", &n) != 1)
        n = -1;
    pclose(p);
    return n;
}

static fs_context *new_context(void)
{
    fs_context *const ctx = fs_test_new_context();
    return ctx;
}

static fs_identity *new_identity(fs_context *ctx)
{
    fs_image img;
    fs_test_load_rgb8(ctx, "astronaut.png", &img);
    fs_identity *id = NULL;
    FS_ASSERT_OK(fs_identity_create_from_image(ctx, &img, -1, &id));
    fs_image_free(&img);
    return id;
}

/* ------------------------------------------------------------ progress */

typedef struct progress {
    int64_t calls, last_done, last_total, cancel_at;
    int bad; /* done not 1, 2, 3 ... or total moved */
} progress;

static int on_progress(void *user, int64_t done, int64_t total)
{
    progress *p = user;
    p->calls++;
    if (done != p->calls || total < 0 || (p->calls > 1 && total != p->last_total))
        p->bad = 1;
    p->last_done = done;
    p->last_total = total;
    return p->cancel_at > 0 && done >= p->cancel_at;
}

/* ------------------------------------------------------------ expectations */

typedef struct expect {
    const char *file;
    fs_status status;
    const char *needle; /* in the detail, besides the file's name */
} expect;

/* Every 'bad', 'limit' and refused 'convert' row of the manifest. */
static const expect expects[] = {
    {"hdr_pq.mp4", FS_ERR_UNSUPPORTED, "HDR"},
    {"not_video.mp4", FS_ERR_VIDEO, "not a video"},
    {"empty.mp4", FS_ERR_TRUNCATED, "empty"},
    {"image_as_video.mp4", FS_ERR_VIDEO, "not a video"},
    {"truncated_no_moov.mp4", FS_ERR_TRUNCATED, "moov"},
    {"audio_only.m4a", FS_ERR_VIDEO, "no video stream"},
    {"audio_only.mp4", FS_ERR_VIDEO, "no video stream"},
    {"zero_frames.mp4", FS_ERR_TRUNCATED, "no frame"},
    {"large_4096x2304.mp4", FS_ERR_TOO_LARGE, "pixel"},
    {"long_tiny.mp4", FS_ERR_TOO_LARGE, "limit"},
};

static const expect *expect_of(const char *file)
{
    for (size_t i = 0; i < sizeof(expects) / sizeof(expects[0]); i++)
        if (strcmp(expects[i].file, file) == 0)
            return &expects[i];
    return NULL;
}

/* ------------------------------------------------------------ the render check */

/*
 * Renders @p id into @p clip with template @p t (preset ultrafast) in a
 * folder of its own and checks the MP4 against the template: frame count,
 * every timestamp, rotation, audio; and that the folder holds only the
 * output (and the poster when asked for).
 */
static void render_and_check(fs_context *ctx, const fs_identity *id, const fs_template *t,
                             const char *clip, int had_audio, int poster, const char *tag)
{
    char folder[1024];
    new_folder(tag, folder);
    char out[1100], poster_path[1100];
    snprintf(out, sizeof(out), "%s/out.mp4", folder);
    snprintf(poster_path, sizeof(poster_path), "%s/poster.jpg", folder);
    fs_renderer *ren = NULL;
    fs_video *v = NULL;
    FS_ASSERT_OK(fs_renderer_create(ctx, &ren));
    FS_ASSERT_OK(fs_video_create(ctx, &v));
    FS_ASSERT_OK(fs_video_set(v, FS_VIDEO_PRESET, FS_PRESET_ULTRAFAST));
    FS_ASSERT_OK(fs_video_set(v, FS_VIDEO_ENCODER, FS_ENCODER_X264));
    if (poster)
        FS_ASSERT_OK(fs_video_set_poster(v, poster_path));
    fs_template_info in;
    FS_ASSERT_OK(fs_template_get_info(t, &in));
    progress pr = {0};
    const fs_status st = fs_video_render(v, ren, id, t, clip, out, on_progress, &pr);
    ck_assert_msg(st == FS_OK, "%s: render: %s (%s)", clip, fs_status_name(st),
                  fs_video_last_error(v));
    ck_assert_str_eq(fs_video_last_error(v), "");
    ck_assert_msg(!pr.bad && pr.calls == in.frames && pr.last_total == in.frames,
                  "%s: progress %lld calls, last %lld/%lld", clip, (long long)pr.calls,
                  (long long)pr.last_done, (long long)pr.last_total);
    fs_video_report rep;
    FS_ASSERT_OK(fs_video_get_report(v, &rep));
    ck_assert_int_eq(rep.frames, in.frames);
    ck_assert_int_le(rep.frames_swapped, in.frames_with_face);
    /* the clips show one frontal face throughout: most frames are swapped */
    ck_assert_msg(rep.frames_swapped * 10 >= in.frames_with_face * 8,
                  "%s: %lld of %lld frames with a face swapped", clip,
                  (long long)rep.frames_swapped, (long long)in.frames_with_face);
    ck_assert_msg(had_audio ? rep.audio == 1 || rep.audio == 2 : rep.audio == 0,
                  "%s: input audio %d, report.audio %d", clip, had_audio, rep.audio);
    ck_assert_str_eq(rep.encoder, "libx264");
    ck_assert(rep.seconds > 0.0);

    /* the file, read back */
    fs_error_buf err;
    fs_video_reader *rd = NULL;
    fs_video_props op;
    fs_status rst = fs_video_reader_open(out, NULL, &rd, &op, &err);
    ck_assert_msg(rst == FS_OK, "%s: %s", out, err.text);
    ck_assert_str_eq(op.codec, "h264");
    ck_assert_int_eq(op.width, (in.width + 1) & ~1);
    ck_assert_int_eq(op.height, (in.height + 1) & ~1);
    ck_assert_int_eq(op.rotation, in.rotation);
    ck_assert_int_eq(op.has_audio, had_audio);
    fs_video_frame f;
    memset(&f, 0, sizeof(f));
    FS_ASSERT_OK(fs_video_frame_alloc(&f, op.width, op.height, &err));
    const fs_tpl_data *d = &t->data;
    const double ttb = (double)d->tb_num / d->tb_den, otb = (double)op.tb_num / op.tb_den;
    int64_t n = 0;
    double worst = 0.0;
    for (;;) {
        int eof = 0;
        rst = fs_video_reader_read(rd, &f, &eof, &err);
        ck_assert_msg(rst == FS_OK, "%s: frame %lld: %s", out, (long long)n, err.text);
        if (eof)
            break;
        if (n < d->n_frames) {
            const double dt = fabs((double)f.pts * otb - (double)d->frames[n].pts * ttb);
            worst = fmax(worst, dt);
        }
        n++;
    }
    ck_assert_msg(n == in.frames, "%s: %lld frames, the template %lld", out, (long long)n,
                  (long long)in.frames);
    /* one tick of the coarser time base, at least 1 ms */
    const double tol = fmax(fmax(ttb, otb), 1e-3);
    ck_assert_msg(worst <= tol, "%s: a timestamp is %.4f s off the template's (tolerance %.4f)",
                  out, worst, tol);
    ck_assert_int_eq(fs_video_reader_decode_errors(rd), 0);
    fs_video_frame_free(&f);
    fs_video_reader_close(rd);

    char first[256] = "";
    const int entries = count_entries(folder, first, sizeof(first));
    ck_assert_msg(entries == 1 + (poster && in.poster_frame >= 0),
                  "%s: %d files beside the output (first: %s)", folder, entries, first);
    if (poster && in.poster_frame >= 0) {
        FILE *const pf = fopen(poster_path, "rb");
        ck_assert_msg(pf != NULL, "no poster %s", poster_path);
        unsigned char m[3] = {0};
        ck_assert(fread(m, 1, 3, pf) == 3);
        fclose(pf);
        ck_assert_msg(m[0] == 0xff && m[1] == 0xd8 && m[2] == 0xff, "poster is not a JPEG");
        fs_image pimg;
        FS_ASSERT_OK(fs_image_read_file(ctx, poster_path, &pimg));
        /* upright as players show the film: a display rotation turns it */
        const int turn = in.rotation == 90 || in.rotation == 270;
        ck_assert_int_eq(pimg.width, turn ? in.height : in.width);
        ck_assert_int_eq(pimg.height, turn ? in.width : in.height);
        if (in.rotation != 0) {
            /* the ffmpeg tool's own view of that frame of the film (it
             * applies the display matrix): the same picture, not a turn
             * the wrong way */
            char cmd[2400];
            snprintf(cmd, sizeof(cmd),
                     "ffmpeg -nostdin -v error -i '%s' -vf 'select=eq(n\\,%lld)' -vframes 1 "
                     "-f rawvideo -pix_fmt rgb24 -", out, (long long)in.poster_frame);
            FILE *const pipe = popen(cmd, "r");
            ck_assert_ptr_nonnull(pipe);
            const size_t bytes = (size_t)pimg.width * pimg.height * 3;
            uint8_t *const ref = malloc(bytes);
            ck_assert_ptr_nonnull(ref);
            ck_assert_msg(fread(ref, 1, bytes, pipe) == bytes, "%s: no rotated frame", out);
            pclose(pipe);
            double diff = 0;
            for (int y = 0; y < pimg.height; y++)
                for (int x = 0; x < pimg.width * 3; x++)
                    diff += abs((int)((uint8_t *)pimg.data)[(size_t)y * pimg.stride + x] -
                                (int)ref[(size_t)y * pimg.width * 3 + x]);
            diff /= (double)bytes;
            ck_assert_msg(diff < 6.0, "%s: the poster differs from the film's frame by %.1f "
                          "levels on average", poster_path, diff);
            free(ref);
        }
        fs_image_free(&pimg);
    }
    fs_video_destroy(v);
    fs_renderer_destroy(ren);
}

/* ------------------------------------------------------------ one manifest row */

START_TEST(manifest_row)
{
    const row *r = &rows[_i];
    const char *const clip = path_of(r->file);
    const expect *const ex = expect_of(r->file);
    const int is_ok = strcmp(r->kind, "ok") == 0, is_damaged = strcmp(r->kind, "damaged") == 0;
    const int is_limit = strcmp(r->kind, "limit") == 0;
    ck_assert_msg(ex || is_ok || is_damaged || strcmp(r->kind, "convert") == 0,
                  "%s (%s): a new row of the manifest; give it an expectation here", r->file,
                  r->kind);

    fs_context *ctx = new_context();
    fs_template *t = NULL;
    FS_ASSERT_OK(fs_template_create(ctx, &t));
    if (is_limit && strstr(r->file, "large"))
        FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_MAX_PIXELS, 4000000));
    if (is_limit && strstr(r->file, "long"))
        FS_ASSERT_OK(fs_template_set(t, FS_TEMPLATE_MAX_SECONDS, 60));
    progress pr = {0};
    const fs_status st = fs_template_analyse(t, clip, on_progress, &pr);
    const char *const detail = fs_template_last_error(t);

    if (ex) {
        ck_assert_msg(st == ex->status, "%s (%s): %s, want %s (%s)", r->file, r->what,
                      fs_status_name(st), fs_status_name(ex->status), detail);
        ck_assert_msg(strstr(detail, ex->needle) && strstr(detail, r->file),
                      "%s: the detail '%s' should say '%s' and name the file", r->file, detail,
                      ex->needle);
        fs_template_info in;
        ck_assert_int_eq(fs_template_get_info(t, &in), FS_ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(fs_template_save_file(t, path_of("never.fst")), FS_ERR_INVALID_ARGUMENT);
        ck_assert(!exists(path_of("never.fst")));
        fs_template_destroy(t);
        fs_context_destroy(ctx);
        return;
    }

    ck_assert_msg(st == FS_OK, "%s (%s): %s (%s)", r->file, r->what, fs_status_name(st), detail);
    ck_assert_str_eq(detail, "");
    fs_template_info in;
    FS_ASSERT_OK(fs_template_get_info(t, &in));
    ck_assert_msg(!pr.bad && pr.calls == in.frames, "%s: %lld progress calls for %lld frames",
                  r->file, (long long)pr.calls, (long long)in.frames);
    /* the clip's own truth, else the short clip's (damaged copies of it) */
    int64_t truth = truth_frames(r->file);
    if (truth < 0 && is_damaged)
        truth = truth_frames("short.mp4");
    if (is_damaged) {
        ck_assert_int_gt(truth, 0);
        ck_assert_msg(in.decode_errors > 0 || in.frames < truth,
                      "%s: %lld frames, %lld decode errors: the damage went unnoticed", r->file,
                      (long long)in.frames, (long long)in.decode_errors);
        ck_assert_int_gt(in.frames, 0);
        ck_assert_int_le(in.frames, truth);
        fs_template_destroy(t);
        fs_context_destroy(ctx);
        return;
    }
    /* ok and converted rows: every frame, as the truth and ffprobe count them */
    const int64_t probed = probe_frames(clip);
    ck_assert_msg(in.frames == probed, "%s: %lld frames, ffprobe counts %lld", r->file,
                  (long long)in.frames, (long long)probed);
    if (truth >= 0)
        ck_assert_msg(in.frames == truth, "%s: %lld frames, the truth %lld", r->file,
                      (long long)in.frames, (long long)truth);
    ck_assert_int_eq(in.decode_errors, 0);
    /* rotated_90.mp4 is 270 clockwise: the ffmpeg 5.1 tool writes its
     * "-metadata:s:v rotate=90" as a matrix that FFmpeg itself reads as a
     * quarter turn counter-clockwise (ffprobe: rotation 90) */
    const int rotation = probe_rotation(clip);
    ck_assert_int_eq(in.rotation, rotation);
    ck_assert_int_eq(in.rotation != 0, strstr(r->file, "rotated") != NULL);
    ck_assert_int_eq(in.width, strstr(r->file, "719x405") ? 719 : 1280);
    ck_assert_int_eq(in.height, strstr(r->file, "719x405") ? 405 : 720);
    ck_assert_msg(in.protagonist >= 0 && in.frames_with_face * 10 >= in.frames * 9,
                  "%s: a face in %lld of %lld frames", r->file, (long long)in.frames_with_face,
                  (long long)in.frames);
    ck_assert(in.poster_frame >= 0 && in.poster_frame < in.frames);
    ck_assert(in.duration > 0.0);

    fs_video_reader *rd = NULL;
    fs_video_props ip;
    fs_error_buf err;
    FS_ASSERT_OK(fs_video_reader_open(clip, NULL, &rd, &ip, &err));
    fs_video_reader_close(rd);
    fs_identity *id = new_identity(ctx);
    char tag[128];
    snprintf(tag, sizeof(tag), "render-%d", _i);
    render_and_check(ctx, id, t, clip, ip.has_audio,
                     strcmp(r->file, "short.mp4") == 0 || strstr(r->file, "rotated") != NULL, tag);
    fs_identity_destroy(id);
    fs_template_destroy(t);
    fs_context_destroy(ctx);
}
END_TEST

/* ------------------------------------------------------------ template files */

static uint8_t *slurp(const char *path, size_t *n)
{
    uint8_t *const b = fs_test_slurp(path, n);
    ck_assert_msg(b != NULL, "read %s", path);
    return b;
}

static void spit(const char *path, const uint8_t *b, size_t n)
{
    ck_assert_msg(fs_test_spit(path, b, n) == 0, "write %s", path);
}

/* The template of short.mp4, made once before the suite. */
static fs_template *load_short(fs_context *ctx)
{
    fs_template *t = NULL;
    FS_ASSERT_OK(fs_template_create(ctx, &t));
    FS_ASSERT_OK(fs_template_load_file(t, path_of("short.fst")));
    return t;
}

/* What the render tests need: a context, short.mp4's template, an identity,
 * a renderer and an fs_video at the fastest preset. */
typedef struct kit {
    fs_context *ctx;
    fs_template *t;
    fs_identity *id;
    fs_renderer *ren;
    fs_video *v;
} kit;

static void kit_open(kit *k)
{
    k->ctx = new_context();
    k->t = load_short(k->ctx);
    k->id = new_identity(k->ctx);
    k->ren = NULL;
    k->v = NULL;
    FS_ASSERT_OK(fs_renderer_create(k->ctx, &k->ren));
    FS_ASSERT_OK(fs_video_create(k->ctx, &k->v));
    FS_ASSERT_OK(fs_video_set(k->v, FS_VIDEO_PRESET, FS_PRESET_ULTRAFAST));
}

static void kit_close(kit *k)
{
    fs_video_destroy(k->v);
    fs_renderer_destroy(k->ren);
    fs_identity_destroy(k->id);
    fs_template_destroy(k->t);
    fs_context_destroy(k->ctx);
}

START_TEST(template_file_damage)
{
    fs_context *ctx = new_context();
    fs_template *t = load_short(ctx);
    fs_template_info before, after;
    FS_ASSERT_OK(fs_template_get_info(t, &before));
    size_t size = 0;
    uint8_t *const good = slurp(path_of("short.fst"), &size);
    ck_assert_int_gt(size, 64);
    uint8_t *const b = malloc(size);
    ck_assert(b);

    struct {
        const char *what;
        size_t size;
        long off;
        uint8_t xor_;
        fs_status want;
        const char *needle;
    } const cases[] = {
        {"cut in half", size / 2, -1, 0, FS_ERR_TRUNCATED, "truncated"},
        {"header only", 40, -1, 0, FS_ERR_TRUNCATED, "truncated"},
        {"a byte of the landmarks altered", size, (long)(size * 2 / 3), 0x01, FS_ERR_CHECKSUM,
         "checksum"},
        {"the last byte altered", size, (long)size - 1, 0x80, FS_ERR_CHECKSUM, "checksum"},
        {"format version 6", size, 4, 0x04, FS_ERR_VERSION, "version"},
        {"another magic", size, 0, 0x20, FS_ERR_CORRUPT, ""},
        {"empty", 0, -1, 0, FS_ERR_TRUNCATED, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(b, good, size);
        if (cases[i].off >= 0)
            b[cases[i].off] ^= cases[i].xor_;
        const char *const p = path_of("damaged.fst");
        spit(p, b, cases[i].size);
        const fs_status st = fs_template_load_file(t, p);
        const char *const detail = fs_template_last_error(t);
        ck_assert_msg(st == cases[i].want, "%s: %s, want %s (%s)", cases[i].what,
                      fs_status_name(st), fs_status_name(cases[i].want), detail);
        ck_assert_msg(detail[0] != '\0' && strstr(detail, cases[i].needle),
                      "%s: detail '%s' should say '%s'", cases[i].what, detail, cases[i].needle);
        /* left as it was */
        FS_ASSERT_OK(fs_template_get_info(t, &after));
        ck_assert_mem_eq(&after, &before, sizeof(before));
    }
    ck_assert_int_eq(fs_template_load_file(t, path_of("no-such.fst")), FS_ERR_NOT_FOUND);
    ck_assert(strstr(fs_template_last_error(t), "no-such.fst"));
    /* a video is not a template */
    ck_assert_int_eq(fs_template_load_file(t, path_of("short.mp4")), FS_ERR_CORRUPT);
    ck_assert_int_eq(fs_template_load_file(t, dir), FS_ERR_IO);
    FS_ASSERT_OK(fs_template_get_info(t, &after));
    ck_assert_mem_eq(&after, &before, sizeof(before));
    /* and the good file still loads, into a fresh template too */
    FS_ASSERT_OK(fs_template_load_file(t, path_of("short.fst")));
    ck_assert_str_eq(fs_template_last_error(t), "");
    remove(path_of("damaged.fst"));
    free(b);
    free(good);
    fs_template_destroy(t);
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(template_of_another_video)
{
    kit kt;
    kit_open(&kt);
    fs_template *t = kt.t;
    fs_identity *id = kt.id;
    fs_renderer *ren = kt.ren;
    fs_video *v = kt.v;
    char folder[1024];
    new_folder("another", folder);
    char out[1100], poster[1100];
    snprintf(out, sizeof(out), "%s/out.mp4", folder);
    snprintf(poster, sizeof(poster), "%s/poster.jpg", folder);
    FS_ASSERT_OK(fs_video_set_poster(v, poster));
    /* same frames, other bytes; another codec; another size */
    const char *const others[] = {"short_moov_end.mp4", "mkv_vp9.mkv", "odd_719x405.mp4",
                                  "corrupt_mid.mp4"};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        const fs_status st =
            fs_video_render(v, ren, id, t, path_of(others[i]), out, NULL, NULL);
        ck_assert_msg(st == FS_ERR_CHECKSUM, "%s: %s (%s)", others[i], fs_status_name(st),
                      fs_video_last_error(v));
        ck_assert_msg(strstr(fs_video_last_error(v), "not the video"), "%s",
                      fs_video_last_error(v));
        ck_assert_int_eq(count_entries(folder, NULL, 0), 0);
    }
    fs_video_report rep;
    ck_assert_int_eq(fs_video_get_report(v, &rep), FS_ERR_INVALID_ARGUMENT);
    /* missing video */
    ck_assert_int_eq(fs_video_render(v, ren, id, t, path_of("no-such.mp4"), out, NULL, NULL),
                     FS_ERR_NOT_FOUND);
    ck_assert(strstr(fs_video_last_error(v), "no-such.mp4"));
    /* the same bytes under another name are the same video: the render
     * starts (and is cancelled at its first frame) */
    fs_test_copy_file(path_of("short.mp4"), path_of("short-copy.mov"));
    progress pr = {.cancel_at = 1};
    ck_assert_int_eq(fs_video_render(v, ren, id, t, path_of("short-copy.mov"), out, on_progress,
                                     &pr),
                     FS_ERR_CANCELLED);
    ck_assert_int_eq(pr.calls, 1);
    ck_assert_int_eq(count_entries(folder, NULL, 0), 0);
    remove(path_of("short-copy.mov"));
    kit_close(&kt);
}
END_TEST

/* ------------------------------------------------------------ cancel */

START_TEST(cancel_analyse)
{
    fs_context *ctx = new_context();
    fs_template *t = NULL;
    FS_ASSERT_OK(fs_template_create(ctx, &t));
    /* first into a loaded template: a cancelled analysis leaves it empty */
    FS_ASSERT_OK(fs_template_load_file(t, path_of("short.fst")));
    progress pr = {.cancel_at = 5};
    ck_assert_int_eq(fs_template_analyse(t, path_of("short.mp4"), on_progress, &pr),
                     FS_ERR_CANCELLED);
    ck_assert_int_eq(pr.calls, 5);
    ck_assert_int_eq(pr.bad, 0);
    ck_assert_int_gt(pr.last_total, 5);
    ck_assert_msg(strstr(fs_template_last_error(t), "cancel"), "%s", fs_template_last_error(t));
    fs_template_info in;
    ck_assert_int_eq(fs_template_get_info(t, &in), FS_ERR_INVALID_ARGUMENT);
    fs_template_track_info tr;
    ck_assert_int_eq(fs_template_get_track(t, 0, &tr), FS_ERR_OUT_OF_RANGE);
    fs_face_landmarks lm;
    ck_assert_int_eq(fs_template_get_face(t, 0, 0, &lm), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_save_file(t, path_of("cancelled.fst")), FS_ERR_INVALID_ARGUMENT);
    ck_assert(!exists(path_of("cancelled.fst")));
    /* cancelled at the very first frame too */
    progress first = {.cancel_at = 1};
    ck_assert_int_eq(fs_template_analyse(t, path_of("short.mp4"), on_progress, &first),
                     FS_ERR_CANCELLED);
    ck_assert_int_eq(first.calls, 1);
    /* and the same template analyses afterwards */
    FS_ASSERT_OK(fs_template_set(t, FS_TEMPLATE_MAX_SECONDS, 1));
    ck_assert_int_eq(fs_template_analyse(t, path_of("short.mp4"), NULL, NULL), FS_ERR_TOO_LARGE);
    ck_assert_int_eq(fs_template_get_info(t, &in), FS_ERR_INVALID_ARGUMENT);
    fs_template_destroy(t);
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(cancel_render)
{
    kit kt;
    kit_open(&kt);
    fs_template *t = kt.t;
    fs_identity *id = kt.id;
    fs_renderer *ren = kt.ren;
    fs_video *v = kt.v;
    char folder[1024];
    new_folder("cancel", folder);
    char out[1100], poster[1100];
    snprintf(out, sizeof(out), "%s/out.mp4", folder);
    snprintf(poster, sizeof(poster), "%s/poster.jpg", folder);
    FS_ASSERT_OK(fs_video_set_poster(v, poster));
    fs_template_info in;
    FS_ASSERT_OK(fs_template_get_info(t, &in));
    /* near the start, past the poster frame, and at the last frame */
    const int64_t at[] = {3, in.poster_frame + 2 < in.frames ? in.poster_frame + 2 : in.frames,
                          in.frames};
    for (int k = 0; k < 3; k++) {
        progress pr = {.cancel_at = at[k]};
        const fs_status st = fs_video_render(v, ren, id, t, path_of("short.mp4"), out,
                                             on_progress, &pr);
        ck_assert_msg(st == FS_ERR_CANCELLED, "cancel at %lld: %s (%s)", (long long)at[k],
                      fs_status_name(st), fs_video_last_error(v));
        ck_assert_int_eq(pr.calls, at[k]);
        ck_assert_int_eq(pr.bad, 0);
        ck_assert_msg(strstr(fs_video_last_error(v), "cancel"), "%s", fs_video_last_error(v));
        char first[256] = "";
        ck_assert_msg(count_entries(folder, first, sizeof(first)) == 0,
                      "cancel at %lld left %s", (long long)at[k], first);
        fs_video_report rep;
        ck_assert_int_eq(fs_video_get_report(v, &rep), FS_ERR_INVALID_ARGUMENT);
    }
    kit_close(&kt);
}
END_TEST

/* An output that cannot be written: a missing folder, for the video and for
 * the poster (which is written last: the video must go too). */
START_TEST(unwritable_outputs)
{
    kit kt;
    kit_open(&kt);
    fs_template *t = kt.t;
    fs_identity *id = kt.id;
    fs_renderer *ren = kt.ren;
    fs_video *v = kt.v;
    char folder[1024];
    new_folder("unwritable", folder);
    char out[1100], bad[1100];
    snprintf(out, sizeof(out), "%s/out.mp4", folder);
    snprintf(bad, sizeof(bad), "%s/no-such-folder/x.mp4", folder);
    fs_status st = fs_video_render(v, ren, id, t, path_of("short.mp4"), bad, NULL, NULL);
    ck_assert_msg(st == FS_ERR_IO, "%s (%s)", fs_status_name(st), fs_video_last_error(v));
    ck_assert_int_eq(count_entries(folder, NULL, 0), 0);
    snprintf(bad, sizeof(bad), "%s/no-such-folder/poster.jpg", folder);
    FS_ASSERT_OK(fs_video_set_poster(v, bad));
    st = fs_video_render(v, ren, id, t, path_of("short.mp4"), out, NULL, NULL);
    ck_assert_msg(st != FS_OK, "a poster in a missing folder");
    ck_assert_msg(strstr(fs_video_last_error(v), "poster"), "%s", fs_video_last_error(v));
    char first[256] = "";
    ck_assert_msg(count_entries(folder, first, sizeof(first)) == 0, "left %s", first);
    kit_close(&kt);
}
END_TEST

/* ------------------------------------------------------------ arguments */

START_TEST(template_arguments)
{
    fs_context *ctx = new_context();
    fs_template *t = NULL, *e = NULL;
    ck_assert_int_eq(fs_template_create(NULL, &t), FS_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(fs_template_create(ctx, NULL), FS_ERR_INVALID_ARGUMENT);
    fs_template_destroy(NULL);
    FS_ASSERT_OK(fs_template_create(ctx, &e)); /* stays empty */
    t = load_short(ctx);
    double v = 0, lo = 0, hi = 0;
    const fs_template_param bad_param = (fs_template_param)99;
    ck_assert_int_eq(fs_template_set(NULL, FS_TEMPLATE_SMOOTH, 1), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_set(t, bad_param, 1), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_set(t, (fs_template_param)-1, 1), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_get(NULL, FS_TEMPLATE_SMOOTH, &v), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_get(t, FS_TEMPLATE_SMOOTH, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_get(t, bad_param, &v), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_param_bounds(bad_param, &lo, &hi), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_param_bounds(FS_TEMPLATE_SMOOTH, NULL, &hi),
                     FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_param_bounds(FS_TEMPLATE_SMOOTH, &lo, NULL),
                     FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_analyse(NULL, path_of("short.mp4"), NULL, NULL),
                     FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_analyse(e, NULL, NULL, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert_str_ne(fs_template_last_error(e), "");
    ck_assert_int_eq(fs_template_analyse(e, path_of("no-such.mp4"), NULL, NULL),
                     FS_ERR_NOT_FOUND);
    ck_assert_int_eq(fs_template_analyse(e, dir, NULL, NULL), FS_ERR_IO);
    ck_assert_int_eq(fs_template_save_file(NULL, path_of("x.fst")), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_save_file(t, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_save_file(e, path_of("x.fst")), FS_ERR_INVALID_ARGUMENT);
    ck_assert(!exists(path_of("x.fst")));
    char missing[1100];
    snprintf(missing, sizeof(missing), "%s/no-such-folder/x.fst", dir);
    ck_assert_int_eq(fs_template_save_file(t, missing), FS_ERR_IO);
    ck_assert_int_eq(fs_template_load_file(NULL, path_of("short.fst")), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_load_file(t, NULL), FS_ERR_INVALID_ARGUMENT);
    fs_template_info in;
    ck_assert_int_eq(fs_template_get_info(NULL, &in), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_get_info(t, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_get_info(e, &in), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_OK(fs_template_get_info(t, &in));
    ck_assert_int_ge(in.tracks, 1);
    for (int i = 0; i < 16; i++)
        ck_assert_int_eq(in.reserved[i], 0);
    fs_template_track_info tr;
    ck_assert_int_eq(fs_template_get_track(NULL, 0, &tr), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_get_track(t, 0, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_get_track(t, -1, &tr), FS_ERR_OUT_OF_RANGE);
    ck_assert_int_eq(fs_template_get_track(t, in.tracks, &tr), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_OK(fs_template_get_track(t, in.protagonist, &tr));
    ck_assert_int_eq(tr.id, in.protagonist);
    ck_assert(tr.first_frame >= 0 && tr.first_frame <= tr.last_frame && tr.last_frame < in.frames);
    ck_assert(tr.frames > 0 && tr.frames <= tr.last_frame - tr.first_frame + 1);
    ck_assert(tr.mean_size > 50.0f);
    fs_face_landmarks lm;
    ck_assert_int_eq(fs_template_get_face(NULL, 0, 0, &lm), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_get_face(t, 0, 0, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_get_face(e, 0, 0, &lm), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_template_get_face(t, -1, in.protagonist, &lm), FS_ERR_OUT_OF_RANGE);
    ck_assert_int_eq(fs_template_get_face(t, in.frames, in.protagonist, &lm),
                     FS_ERR_OUT_OF_RANGE);
    ck_assert_int_eq(fs_template_get_face(t, 0, 9999, &lm), FS_ERR_NO_FACE);
    ck_assert_int_eq(fs_template_get_face(t, 0, -7, &lm), FS_ERR_NO_FACE);
    FS_ASSERT_OK(fs_template_get_face(t, tr.first_frame, tr.id, &lm));
    ck_assert(lm.confidence > 0.0f && lm.confidence <= 1.0f);
    for (int p = 0; p < FS_LANDMARKS; p++)
        ck_assert(isfinite(lm.points[p][0]) && lm.points[p][0] > -in.width &&
                  lm.points[p][0] < 2 * in.width);
    ck_assert_str_eq(fs_template_last_error(NULL), "");
    /* a track beyond the template's */
    ck_assert_int_eq(fs_template_set(t, FS_TEMPLATE_TRACK, in.tracks), FS_ERR_OUT_OF_RANGE);
    ck_assert_str_ne(fs_template_last_error(t), "");
    FS_ASSERT_OK(fs_template_set(t, FS_TEMPLATE_TRACK, FS_TRACK_ALL));
    ck_assert_str_eq(fs_template_last_error(t), "");
    fs_template_destroy(t);
    fs_template_destroy(e);
    fs_context_destroy(ctx);
}
END_TEST

/* One parameter of a handle: bounds, default, refused values, both ends. */
typedef struct param_want {
    int p;
    double min, max, def;
    int open_max; /* track ids: the maximum is only checked to be >= 0 */
} param_want;

/* The handle's setters as one shape, so one loop checks both objects. */
typedef struct param_api {
    void *h;
    fs_status (*set)(void *h, int p, double v);
    fs_status (*get)(void *h, int p, double *v);
    fs_status (*bounds)(int p, double *lo, double *hi);
    const char *(*last_error)(void *h);
} param_api;

static void check_params(const param_api *api, const param_want *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const int p = want[i].p;
        double lo = 0, hi = 0, v = 0;
        FS_ASSERT_OK(api->bounds(p, &lo, &hi));
        ck_assert_msg(lo == want[i].min, "param %d: min %g", p, lo);
        if (want[i].open_max)
            ck_assert_msg(hi >= 0, "track ids 0.. must be settable (max %g)", hi);
        else
            ck_assert_msg(hi == want[i].max, "param %d: max %g", p, hi);
        FS_ASSERT_OK(api->get(api->h, p, &v));
        ck_assert_msg(v == want[i].def, "param %d: default %g", p, v);
        const double bad[] = {lo - 1, hi + 1, lo + 0.5, NAN, INFINITY, -INFINITY};
        for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
            ck_assert_msg(api->set(api->h, p, bad[k]) == FS_ERR_OUT_OF_RANGE, "param %d = %g", p,
                          bad[k]);
            ck_assert_str_ne(api->last_error(api->h), "");
            FS_ASSERT_OK(api->get(api->h, p, &v));
            ck_assert_msg(v == want[i].def, "param %d changed by a refused set", p);
        }
        const double ends[] = {lo, hi, want[i].def};
        for (size_t k = 0; k < 3; k++) {
            FS_ASSERT_OK(api->set(api->h, p, ends[k]));
            FS_ASSERT_OK(api->get(api->h, p, &v));
            ck_assert(v == ends[k]);
        }
    }
}

static fs_status tpl_set(void *h, int p, double v) { return fs_template_set(h, (fs_template_param)p, v); }
static fs_status tpl_get(void *h, int p, double *v) { return fs_template_get(h, (fs_template_param)p, v); }
static fs_status tpl_bounds(int p, double *lo, double *hi) { return fs_template_param_bounds((fs_template_param)p, lo, hi); }
static const char *tpl_error(void *h) { return fs_template_last_error(h); }
static fs_status vid_set(void *h, int p, double v) { return fs_video_set(h, (fs_video_param)p, v); }
static fs_status vid_get(void *h, int p, double *v) { return fs_video_get(h, (fs_video_param)p, v); }
static fs_status vid_bounds(int p, double *lo, double *hi) { return fs_video_param_bounds((fs_video_param)p, lo, hi); }
static const char *vid_error(void *h) { return fs_video_last_error(h); }

START_TEST(template_bounds)
{
    fs_context *ctx = new_context();
    fs_template *t = NULL;
    FS_ASSERT_OK(fs_template_create(ctx, &t));
    static const param_want want[] = {
        {FS_TEMPLATE_TRACK, FS_TRACK_ALL, -1, FS_TRACK_PROTAGONIST, 1},
        {FS_TEMPLATE_REDETECT_INTERVAL, 1, 1000, 12, 0},
        {FS_TEMPLATE_MAX_MISS, 0, 300, 12, 0},
        {FS_TEMPLATE_SMOOTH, 0, 1, 1, 0},
        {FS_TEMPLATE_MAX_SECONDS, 1, 3600, 600, 0},
        {FS_TEMPLATE_MAX_FACES, 1, 16, 4, 0},
        {FS_TEMPLATE_JOIN_SHOTS, 0, 1, 1, 0},
    };
    const param_api api = {t, tpl_set, tpl_get, tpl_bounds, tpl_error};
    check_params(&api, want, sizeof(want) / sizeof(want[0]));
    fs_template_destroy(t);
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(video_arguments)
{
    fs_context *ctx = new_context();
    fs_template *t = load_short(ctx), *e = NULL;
    FS_ASSERT_OK(fs_template_create(ctx, &e));
    fs_identity *id = new_identity(ctx);
    fs_renderer *ren = NULL;
    FS_ASSERT_OK(fs_renderer_create(ctx, &ren));
    fs_video *v = NULL;
    ck_assert_int_eq(fs_video_create(NULL, &v), FS_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(fs_video_create(ctx, NULL), FS_ERR_INVALID_ARGUMENT);
    fs_video_destroy(NULL);
    FS_ASSERT_OK(fs_video_create(ctx, &v));
    const fs_video_param bad_param = (fs_video_param)99;
    double x = 0, lo = 0, hi = 0;
    ck_assert_int_eq(fs_video_set(NULL, FS_VIDEO_CRF, 20), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_video_set(v, bad_param, 20), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_video_get(NULL, FS_VIDEO_CRF, &x), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_video_get(v, FS_VIDEO_CRF, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_video_get(v, bad_param, &x), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_video_param_bounds(bad_param, &lo, &hi), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_video_param_bounds(FS_VIDEO_CRF, NULL, &hi), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_video_param_bounds(FS_VIDEO_CRF, &lo, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_video_set_poster(NULL, "x.jpg"), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_OK(fs_video_set_poster(v, "x.jpg"));
    FS_ASSERT_OK(fs_video_set_poster(v, "dir.v2/X.JPEG"));
    /* An extension the writer cannot make is refused before any render. */
    ck_assert_int_eq(fs_video_set_poster(v, "poster.gif"), FS_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(fs_video_last_error(v), "poster.gif"), "%s", fs_video_last_error(v));
    ck_assert_int_eq(fs_video_set_poster(v, "poster.jpg/x"), FS_ERR_UNSUPPORTED);
    ck_assert_int_eq(fs_video_set_poster(v, "dir.jpg/poster"), FS_ERR_UNSUPPORTED);
    FS_ASSERT_OK(fs_video_set_poster(v, NULL));
    fs_video_report rep;
    ck_assert_int_eq(fs_video_get_report(NULL, &rep), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_video_get_report(v, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_video_get_report(v, &rep), FS_ERR_INVALID_ARGUMENT); /* no render yet */
    ck_assert_str_eq(fs_video_last_error(NULL), "");

    char folder[1024];
    new_folder("arguments", folder);
    char out[1100];
    snprintf(out, sizeof(out), "%s/out.mp4", folder);
    const char *const clip = path_of("short.mp4");
    ck_assert_int_eq(fs_video_render(NULL, ren, id, t, clip, out, NULL, NULL),
                     FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_video_render(v, NULL, id, t, clip, out, NULL, NULL),
                     FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_video_render(v, ren, NULL, t, clip, out, NULL, NULL),
                     FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_video_render(v, ren, id, NULL, clip, out, NULL, NULL),
                     FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_video_render(v, ren, id, t, NULL, out, NULL, NULL),
                     FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fs_video_render(v, ren, id, t, clip, NULL, NULL, NULL),
                     FS_ERR_INVALID_ARGUMENT);
    ck_assert_str_ne(fs_video_last_error(v), "");
    ck_assert_int_eq(fs_video_render(v, ren, id, e, clip, out, NULL, NULL),
                     FS_ERR_INVALID_ARGUMENT);
    ck_assert(strstr(fs_video_last_error(v), "empty"));
    /* a track the template does not have */
    fs_template_info in;
    FS_ASSERT_OK(fs_template_get_info(t, &in));
    FS_ASSERT_OK(fs_video_set(v, FS_VIDEO_TRACK, in.tracks));
    ck_assert_int_eq(fs_video_render(v, ren, id, t, clip, out, NULL, NULL), FS_ERR_OUT_OF_RANGE);
    ck_assert_int_eq(count_entries(folder, NULL, 0), 0);
    fs_video_destroy(v);
    fs_renderer_destroy(ren);
    fs_identity_destroy(id);
    fs_template_destroy(t);
    fs_template_destroy(e);
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(video_bounds)
{
    fs_context *ctx = new_context();
    fs_video *v = NULL;
    FS_ASSERT_OK(fs_video_create(ctx, &v));
    static const param_want want[] = {
        {FS_VIDEO_CRF, 0, 51, 23, 0},
        {FS_VIDEO_PRESET, FS_PRESET_ULTRAFAST, FS_PRESET_VERYSLOW, FS_PRESET_VERYFAST, 0},
        {FS_VIDEO_MAX_KBITRATE, 0, 100000, 0, 0},
        {FS_VIDEO_ENCODER, FS_ENCODER_AUTO, FS_ENCODER_NVENC, FS_ENCODER_AUTO, 0},
        {FS_VIDEO_TRACK, -3, -1, -3, 1},
    };
    const param_api api = {v, vid_set, vid_get, vid_bounds, vid_error};
    check_params(&api, want, sizeof(want) / sizeof(want[0]));
    fs_video_destroy(v);
    fs_context_destroy(ctx);
}
END_TEST

/* ------------------------------------------------------------ set-up */

static void read_manifest(void)
{
    FILE *const f = fopen(path_of("MANIFEST.tsv"), "r");
    NEED(f != NULL);
    char line[1024];
    NEED(fgets(line, sizeof(line), f) != NULL); /* header */
    while (fgets(line, sizeof(line), f) && n_rows < (int)(sizeof(rows) / sizeof(rows[0]))) {
        line[strcspn(line, "\n")] = '\0';
        char *const tab1 = strchr(line, '\t');
        char *const tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
        NEED(tab1 && tab2);
        *tab1 = *tab2 = '\0';
        row *r = &rows[n_rows++];
        snprintf(r->file, sizeof(r->file), "%.95s", line);
        snprintf(r->kind, sizeof(r->kind), "%.15s", tab1 + 1);
        snprintf(r->what, sizeof(r->what), "%.319s", tab2 + 1);
    }
    fclose(f);
    NEED(n_rows >= 20);
}

/* The template of short.mp4 the other tests load (made once). */
static void make_short_template(void)
{
    fs_context *ctx = NULL;
    fs_template *t = NULL;
    NEED(fs_context_create(&ctx) == FS_OK);
    NEED(fs_template_create(ctx, &t) == FS_OK);
    const fs_status st = fs_template_analyse(t, path_of("short.mp4"), NULL, NULL);
    if (st != FS_OK)
        fprintf(stderr, "short.mp4: %s (%s)\n", fs_status_name(st), fs_template_last_error(t));
    NEED(st == FS_OK);
    NEED(fs_template_save_file(t, path_of("short.fst")) == FS_OK);
    fs_template_destroy(t);
    fs_context_destroy(ctx);
}

int main(void)
{
    if (system("command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1") != 0) {
        fprintf(stderr, "no ffmpeg/ffprobe tool: skipped\n");
        return 77;
    }
    const char *const clips = getenv("FS_CLIPS_DIR");
    const char *const tmp = getenv("TMPDIR");
    /* FS_BAD_CLIPS_DIR: a folder of make-bad-clips.sh kept from an earlier
     * run (while working on the tests); it is used and left as it is. */
    const char *const kept = getenv("FS_BAD_CLIPS_DIR");
    char cmd[2048];
    int rc = 0;
    if (kept && *kept) {
        snprintf(dir, sizeof(dir), "%s", kept);
    } else {
        snprintf(dir, sizeof(dir), "%s/fs_video_bad_XXXXXX", tmp && *tmp ? tmp : "/tmp");
        NEED(mkdtemp(dir) != NULL);
        snprintf(cmd, sizeof(cmd), "bash '%s/make-bad-clips.sh' '%s' %s >/dev/null",
                 clips ? clips : "tests/clips", dir,
                 getenv("FS_MAKE_CLIP") ? getenv("FS_MAKE_CLIP") : "");
        rc = system(cmd);
    }
    int status = 0;
    if (rc != 0) {
        fprintf(stderr, "make-bad-clips.sh failed (%d)\n", rc);
        status = WIFEXITED(rc) && WEXITSTATUS(rc) == 77 ? 77 : 1;
    } else {
        read_manifest();
        make_short_template();
        Suite *s = suite_create("video_bad");
        TCase *tc = tcase_create("video_bad");
        tcase_set_timeout(tc, 600);
        tcase_add_loop_test(tc, manifest_row, 0, n_rows);
        tcase_add_test(tc, template_file_damage);
        tcase_add_test(tc, template_of_another_video);
        tcase_add_test(tc, cancel_analyse);
        tcase_add_test(tc, cancel_render);
        tcase_add_test(tc, unwritable_outputs);
        tcase_add_test(tc, template_arguments);
        tcase_add_test(tc, template_bounds);
        tcase_add_test(tc, video_arguments);
        tcase_add_test(tc, video_bounds);
        suite_add_tcase(s, tc);
        status = fs_test_run_suite(s);
    }
    if (!(kept && *kept) && !getenv("FS_KEEP_CLIPS")) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    } else {
        fprintf(stderr, "clips kept in %s\n", dir);
    }
    return status;
}
