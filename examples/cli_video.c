/*
 * faceswap analyse / faceswap video: the template analysis and the
 * per-user render, over the public API (include/faceswap/template.h,
 * video.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* ------------------------------------------------------------ progress */

typedef struct progress_state {
    const char *what;
    int on;
    double start, last;
    int printed;
} progress_state;

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A one-line bar on stderr: frames done, frames per second, time left. */
static int on_progress(void *user, int64_t done, int64_t total)
{
    progress_state *p = user;
    if (!p->on)
        return 0;
    const double t = seconds_now();
    const int last = total > 0 && done >= total;
    if (!last && t - p->last < 0.1)
        return 0;
    p->last = t;
    const double fps = t > p->start ? (double)done / (t - p->start) : 0.0;
    char left[32] = "";
    if (total > done && fps > 0) {
        const int s = (int)ceil((double)(total - done) / fps);
        snprintf(left, sizeof(left), "  %d:%02d left", s / 60, s % 60);
    }
    if (total > 0) {
        const int width = 24;
        int fill = (int)((double)width * (double)done / (double)total);
        fill = fill > width ? width : fill;
        fprintf(stderr, "\r%s [%.*s%*s] %lld/%lld frames  %.1f fps%s   ", p->what, fill,
                "########################", width - fill, "", (long long)done, (long long)total,
                fps, left);
    } else {
        fprintf(stderr, "\r%s %lld frames  %.1f fps   ", p->what, (long long)done, fps);
    }
    p->printed = 1;
    return 0;
}

static void progress_begin(progress_state *p, const char *what, const swap_options *o)
{
    memset(p, 0, sizeof(*p));
    p->what = what;
    p->on = o->progress >= 0 ? o->progress : isatty(2);
    p->start = seconds_now();
}

static void progress_end(progress_state *p)
{
    if (p->printed)
        fputc('\n', stderr);
    p->printed = 0;
}

/* ------------------------------------------------------------ analyse */

static int exit_for_video_status(fs_status st)
{
    switch (st) {
    case FS_ERR_OUT_OF_MEMORY:
    case FS_ERR_INTERNAL:
    case FS_ERR_GPU:
    case FS_ERR_BACKEND_UNAVAILABLE:
    case FS_ERR_CANCELLED:
        return EXIT_RUNTIME;
    case FS_ERR_MODEL:
        return EXIT_MODEL;
    default:
        return EXIT_VIDEO;
    }
}

static void put_hex(FILE *out, const uint8_t *b, int n)
{
    for (int i = 0; i < n; i++)
        fprintf(out, "%02x", b[i]);
}

static void print_template_json(FILE *out, const fs_template *t, const char *file)
{
    fs_template_info in;
    if (fs_template_get_info(t, &in) != FS_OK)
        return;
    fputs("{\"template\":", out);
    put_json_string(out, file);
    fprintf(out,
            ",\"width\":%d,\"height\":%d,\"rotation\":%d,\"fps\":[%d,%d],\"frames\":%lld,"
            "\"duration\":%.3f,\"decode_errors\":%lld,\"protagonist\":%d,\"poster_frame\":%lld,"
            "\"frames_with_face\":%lld,\"content_sha256\":\"",
            in.width, in.height, in.rotation, in.fps_num, in.fps_den, (long long)in.frames,
            in.duration, (long long)in.decode_errors, in.protagonist, (long long)in.poster_frame,
            (long long)in.frames_with_face);
    put_hex(out, in.content_hash, 32);
    fputs("\",\"tracks\":[", out);
    for (int i = 0; i < in.tracks; i++) {
        fs_template_track_info tr;
        if (fs_template_get_track(t, i, &tr) != FS_OK)
            continue;
        fprintf(out, "%s{\"id\":%d,\"first_frame\":%lld,\"last_frame\":%lld,\"frames\":%lld,"
                     "\"mean_size\":%.1f}",
                i ? "," : "", tr.id, (long long)tr.first_frame, (long long)tr.last_frame,
                (long long)tr.frames, tr.mean_size);
    }
    fputs("]}\n", out);
}

static void print_template_summary(FILE *out, const fs_template *t, const char *file)
{
    fs_template_info in;
    if (fs_template_get_info(t, &in) != FS_OK)
        return;
    fprintf(out, "%s: %dx%d, %lld frames, %.2f s, %d track%s", file, in.width, in.height,
            (long long)in.frames, in.duration, in.tracks, in.tracks == 1 ? "" : "s");
    if (in.protagonist >= 0)
        fprintf(out, ", protagonist track %d, face in %lld frames, poster frame %lld",
                in.protagonist, (long long)in.frames_with_face, (long long)in.poster_frame);
    else
        fputs(", no face", out);
    if (in.decode_errors)
        fprintf(out, ", %lld decode errors", (long long)in.decode_errors);
    fputc('\n', out);
}

/* Analyses o->video into a new template; -1 or an exit code. */
static int analyse_into(fs_context *ctx, const swap_options *o, fs_template **out)
{
    fs_template *t = NULL;
    fs_status st = fs_template_create(ctx, &t);
    if (st != FS_OK) {
        report("cannot create a template", st, fs_context_last_error(ctx));
        return EXIT_RUNTIME;
    }
    if (o->track != -3 && (st = fs_template_set(t, FS_TEMPLATE_TRACK, o->track)) != FS_OK) {
        report("--track", st, fs_template_last_error(t));
        fs_template_destroy(t);
        return EXIT_USAGE;
    }
    progress_state ps;
    progress_begin(&ps, "analyse", o);
    st = fs_template_analyse(t, o->video, on_progress, &ps);
    progress_end(&ps);
    if (st != FS_OK) {
        /* the analysis loads the models first: a broken folder is said as detect says it */
        int rc = check_models_after(ctx, st);
        if (rc < 0) {
            char what[4160];
            snprintf(what, sizeof(what), "cannot analyse '%s'", o->video);
            report(what, st, fs_template_last_error(t));
            rc = exit_for_video_status(st);
        }
        fs_template_destroy(t);
        return rc;
    }
    if (o->track >= 0) {
        fs_template_info in;
        if (fs_template_get_info(t, &in) == FS_OK && o->track >= in.tracks) {
            usage_error("--track %d: '%s' has %d track%s", o->track, o->video, in.tracks,
                        in.tracks == 1 ? "" : "s");
            fs_template_destroy(t);
            return EXIT_USAGE;
        }
    }
    *out = t;
    return -1;
}

int run_analyse(const swap_options *o)
{
    fs_context *ctx = NULL;
    fs_template *t = NULL;
    int rc = make_context(o, &ctx);
    if (rc >= 0)
        return rc;
    if ((rc = analyse_into(ctx, o, &t)) >= 0)
        goto done;
    const fs_status st = fs_template_save_file(t, o->template_file);
    if (st != FS_OK) {
        char what[4160];
        snprintf(what, sizeof(what), "cannot write '%s'", o->template_file);
        report(what, st, fs_template_last_error(t));
        rc = st == FS_ERR_OUT_OF_MEMORY ? EXIT_RUNTIME : EXIT_OUTPUT;
        goto done;
    }
    if (o->json)
        print_template_json(stdout, t, o->template_file);
    else
        print_template_summary(stdout, t, o->template_file);
    rc = finish_stdout();
done:
    fs_template_destroy(t);
    fs_context_destroy(ctx);
    return rc;
}

/* ------------------------------------------------------------ video */

static int apply_video_options(fs_video *v, const swap_options *o)
{
    fs_status st = FS_OK;
    if ((o->crf >= 0 && (st = fs_video_set(v, FS_VIDEO_CRF, o->crf)) != FS_OK) ||
        (o->preset >= 0 && (st = fs_video_set(v, FS_VIDEO_PRESET, o->preset)) != FS_OK) ||
        (o->max_kbitrate >= 0 &&
         (st = fs_video_set(v, FS_VIDEO_MAX_KBITRATE, o->max_kbitrate)) != FS_OK) ||
        (o->encoder >= 0 && (st = fs_video_set(v, FS_VIDEO_ENCODER, o->encoder)) != FS_OK) ||
        (o->track != -3 && (st = fs_video_set(v, FS_VIDEO_TRACK, o->track)) != FS_OK) ||
        (o->poster && (st = fs_video_set_poster(v, o->poster)) != FS_OK)) {
        report("video options", st, fs_video_last_error(v));
        return EXIT_USAGE;
    }
    return -1;
}

static void print_video_json(FILE *out, const fs_video_report *r, const swap_options *o,
                             const fs_template *t)
{
    fs_template_info in;
    memset(&in, 0, sizeof(in));
    fs_template_get_info(t, &in);
    fputs("{\"output\":", out);
    put_json_string(out, o->output);
    fputs(",\"poster\":", out);
    put_json_string(out, o->poster);
    fprintf(out,
            ",\"frames\":%lld,\"frames_swapped\":%lld,\"faces_skipped\":%lld,"
            "\"decode_errors\":%lld,\"audio\":\"%s\",\"encoder\":\"%s\",\"threads\":%d,"
            "\"seconds\":%.3f,\"decode_seconds\":%.3f,\"swap_seconds\":%.3f,"
            "\"encode_seconds\":%.3f,\"wait_seconds\":%.3f,\"protagonist\":%d}\n",
            (long long)r->frames, (long long)r->frames_swapped, (long long)r->faces_skipped,
            (long long)r->decode_errors, r->audio == 1 ? "copied" : r->audio == 2 ? "aac" : "none",
            r->encoder, r->threads, r->seconds, r->decode_seconds, r->swap_seconds,
            r->encode_seconds, r->wait_seconds, in.protagonist);
}

int run_video(const swap_options *o)
{
    char what[4160];
    fs_context *ctx = NULL;
    fs_renderer *ren = NULL;
    fs_identity *id = NULL;
    fs_template *t = NULL;
    fs_video *v = NULL;
    fs_image src;
    memset(&src, 0, sizeof(src));
    /* before any work: a poster name that cannot be written fails fast */
    int rc = o->poster ? check_image_extension("--poster", o->poster) : -1;
    if (rc >= 0 || (rc = make_context(o, &ctx)) >= 0)
        return rc;
    if ((rc = make_renderer(ctx, o, &ren)) >= 0)
        goto done;
    fs_status st = fs_video_create(ctx, &v);
    if (st != FS_OK) {
        report("cannot create a video", st, fs_context_last_error(ctx));
        rc = EXIT_RUNTIME;
        goto done;
    }
    if ((rc = apply_video_options(v, o)) >= 0)
        goto done;
    /* the photo first: a selfie without a face should not cost an analysis */
    if ((rc = capture_source(ctx, o, &src, &id)) >= 0)
        goto done;
    if (o->template_file) {
        if ((st = fs_template_create(ctx, &t)) == FS_OK)
            st = fs_template_load_file(t, o->template_file);
        if (st != FS_OK) {
            snprintf(what, sizeof(what), "cannot load the template '%s'", o->template_file);
            report(what, st, t ? fs_template_last_error(t) : fs_context_last_error(ctx));
            rc = exit_for_video_status(st);
            goto done;
        }
    } else if ((rc = analyse_into(ctx, o, &t)) >= 0) {
        goto done;
    }
    fs_template_info in;
    if (o->track >= 0 && fs_template_get_info(t, &in) == FS_OK && o->track >= in.tracks) {
        /* as analyse says it: a track the video does not have is a usage error */
        usage_error("--track %d: the template of '%s' has %d track%s", o->track, o->video,
                    in.tracks, in.tracks == 1 ? "" : "s");
        rc = EXIT_USAGE;
        goto done;
    }
    progress_state ps;
    progress_begin(&ps, "render ", o);
    st = fs_video_render(v, ren, id, t, o->video, o->output, on_progress, &ps);
    progress_end(&ps);
    if (st != FS_OK) {
        if ((rc = check_models_after(ctx, st)) >= 0)
            goto done;
        snprintf(what, sizeof(what), "cannot render '%s'", o->output);
        report(what, st, fs_video_last_error(v));
        rc = st == FS_ERR_IO ? EXIT_OUTPUT : exit_for_video_status(st);
        goto done;
    }
    fs_video_report r;
    memset(&r, 0, sizeof(r));
    fs_video_get_report(v, &r);
    if (o->json)
        print_video_json(stdout, &r, o, t);
    else
        printf("%s: %lld frames, face swapped in %lld, %.1f s (%.1f fps)%s%s\n", o->output,
               (long long)r.frames, (long long)r.frames_swapped, r.seconds,
               r.seconds > 0 ? (double)r.frames / r.seconds : 0.0,
               o->poster ? ", poster " : "", o->poster ? o->poster : "");
    rc = finish_stdout();
done:
    fs_video_destroy(v);
    fs_template_destroy(t);
    fs_identity_destroy(id);
    fs_image_free(&src);
    fs_renderer_destroy(ren);
    fs_context_destroy(ctx);
    return rc;
}
