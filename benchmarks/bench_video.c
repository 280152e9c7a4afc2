/*
 * The micro-film's figures (issue 9, item 7; doc/video.md): on a template
 * video with one face,
 *  1. the analysis' wall time (fs_template_analyse, the context's threads);
 *  2. the per-frame swap stage, render + colour + blend of one face on one
 *     core: fs_swap_render on the frame's face window, median over frames;
 *  3. the per-user render + encode wall time (fs_video_render) beside a
 *     plain transcode of the same file with the same encoder settings by the
 *     ffmpeg tool (`ffmpeg -i T -c:v libx264 -preset P -crf C -c:a copy`),
 *     run alternately in the same process, with the render's time split
 *     (decode, swap, encode, waiting), and the same render with the process
 *     pinned to one core beside it on all N.
 *
 *   bench_video [--reps N] [--threads N] [--preset NAME] [--crf N] VIDEO PHOTO
 *
 * Run from a release or debugoptimized build on an otherwise idle machine.
 */
#include <math.h>
#include <sched.h> /* sched_setaffinity (GNU: the build defines _GNU_SOURCE) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "internal.h"
#include "engine.h"
#include "swap/swap.h"
#include "template/template_api.h"
#include "video/video_io.h"

static const char *const presets[] = {"ultrafast", "superfast", "veryfast", "faster", "fast",
                                      "medium",    "slow",      "slower",   "veryslow"};

static void die(const char *what, fs_status st, const char *detail)
{
    fprintf(stderr, "bench_video: %s: %s: %s\n", what, fs_status_name(st), detail);
    exit(1);
}

/* The swap stage alone, one core: every frame's face window converted to
 * RGB, then fs_swap_render timed on it (the window restored before each
 * repetition, so each one does the same work). */
static void swap_stage(fs_context *ctx, const fs_template *t, const char *video,
                       const fs_identity *id, const fs_renderer *ren, int reps)
{
    const fs_tpl_data *d = &t->data;
    fs_error_buf err;
    fs_video_reader *r = NULL;
    fs_video_props p;
    fs_status st = fs_video_reader_open(video, NULL, &r, &p, &err);
    if (st != FS_OK)
        die("open", st, err.text);
    fs_video_frame f;
    if ((st = fs_video_frame_alloc(&f, p.width, p.height, &err)) != FS_OK)
        die("frame", st, err.text);
    const fs_yuv_desc yd = fs_yuv_desc_from(p.color_space, p.color_range, p.height);
    const fs_engine *ops = fs_context_engine(ctx);
    const fs_swap_mesh *mesh = fs_renderer_internal_mesh(ren);
    const fs_swap_params *params = fs_renderer_internal_params(ren);
    const fs_identity_data *idd = fs_identity_internal_data(id);
    fs_swap_workspace ws;
    memset(&ws, 0, sizeof(ws));
    fs_swap_target *tg = malloc(sizeof(*tg));
    const int max_frames = 100;
    double *ms = malloc(sizeof(double) * (size_t)max_frames);
    uint8_t *win = NULL, *keep = NULL;
    size_t cap = 0;
    int n = 0;
    double size_sum = 0;
    for (int64_t k = 0; n < max_frames; k++) {
        int eof = 0;
        if ((st = fs_video_reader_read(r, &f, &eof, &err)) != FS_OK)
            die("read", st, err.text);
        if (eof)
            break;
        /* every third frame: a spread over the clip's motion */
        if (k % 3 != 0)
            continue;
        const fs_tpl_face *face = fs_tpl_find(d, k, d->protagonist);
        if (!face)
            continue;
        st = fs_swap_target_geometry(mesh, params, p.width, p.height,
                                     (const float(*)[3])face->points, tg, &err);
        if (st != FS_OK)
            continue;
        const size_t need = (size_t)tg->w * tg->h * 3;
        if (need > cap) {
            win = realloc(win, need);
            keep = realloc(keep, need);
            cap = need;
        }
        const ptrdiff_t stride = (ptrdiff_t)tg->w * 3;
        fs_yuv420_to_rgb_window(&f, &yd, tg->x0, tg->y0, tg->w, tg->h, win, stride);
        memcpy(keep, win, need);
        for (int c = 0; c < 3; c++) {
            tg->lab_mean[c] = face->stats[c];
            tg->lab_sd[c] = face->stats[3 + c];
        }
        tg->skin_pixels = 1;
        double best = INFINITY;
        for (int rep = 0; rep < reps; rep++) {
            memcpy(win, keep, need);
            const double t0 = bench_now_ms();
            st = fs_swap_render(ops, FS_EXEC_SERIAL(&err), &ws, mesh, params, idd, tg, win, stride, NULL);
            const double dt = bench_now_ms() - t0;
            if (st != FS_OK)
                die("fs_swap_render", st, err.text);
            best = fmin(best, dt);
        }
        ms[n++] = best;
        size_sum += tg->face_size;
    }
    if (n == 0)
        die("swap stage", FS_ERR_NO_FACE, "no frame of the protagonist");
    const double med = bench_median(ms, n);
    printf("swap stage (render + colour + blend, one face, one core): median %.2f ms, min "
           "%.2f, max %.2f over %d frames (best of %d each); face %.0f px; window includes "
           "no colour conversion\n",
           med, ms[0], ms[n - 1], n, reps, size_sum / n);
    free(ms);
    free(win);
    free(keep);
    free(tg);
    fs_swap_workspace_free(&ws);
    fs_video_frame_free(&f);
    fs_video_reader_close(r);
}

static double transcode_ms(const char *video, const char *out, const char *preset, int crf,
                           int threads)
{
    char cmd[8192];
    snprintf(cmd, sizeof(cmd),
             "ffmpeg -nostdin -hide_banner -loglevel error -y -threads %d -i '%s' -c:v libx264 "
             "-preset %s -crf %d -threads %d -c:a copy '%s'",
             threads, video, preset, crf, threads, out);
    const double t0 = bench_now_ms();
    const int rc = system(cmd);
    const double dt = bench_now_ms() - t0;
    if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
        fprintf(stderr, "bench_video: the ffmpeg tool failed: %s\n", cmd);
        exit(1);
    }
    return dt;
}

static fs_video_report render(fs_context *ctx, const fs_renderer *ren, const fs_identity *id,
                              const fs_template *t, const char *video, const char *out,
                              int preset, int crf)
{
    fs_video *v = NULL;
    fs_status st = fs_video_create(ctx, &v);
    if (st == FS_OK)
        st = fs_video_set(v, FS_VIDEO_PRESET, preset);
    if (st == FS_OK)
        st = fs_video_set(v, FS_VIDEO_CRF, crf);
    if (st == FS_OK)
        st = fs_video_set(v, FS_VIDEO_ENCODER, FS_ENCODER_X264);
    if (st == FS_OK)
        st = fs_video_render(v, ren, id, t, video, out, NULL, NULL);
    if (st != FS_OK)
        die("fs_video_render", st, v ? fs_video_last_error(v) : "");
    fs_video_report rep;
    fs_video_get_report(v, &rep);
    fs_video_destroy(v);
    return rep;
}

int main(int argc, char **argv)
{
    int reps = 3, threads = (int)sysconf(_SC_NPROCESSORS_ONLN), preset = FS_PRESET_VERYFAST,
        crf = 23, i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (!strcmp(argv[i], "--reps"))
            reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--crf"))
            crf = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--preset")) {
            preset = -1;
            for (int k = 0; k < 9; k++)
                if (!strcmp(argv[i + 1], presets[k]))
                    preset = k;
        } else
            break;
    }
    if (argc - i != 2 || reps < 1 || threads < 1 || preset < 0) {
        fprintf(stderr, "usage: bench_video [--reps N] [--threads N] [--preset NAME] [--crf N] "
                        "VIDEO PHOTO\n");
        return 1;
    }
    const char *video = argv[i], *photo = argv[i + 1];
    fs_context *ctx = NULL;
    fs_status st = fs_context_create(&ctx);
    if (st != FS_OK)
        die("context", st, "");
    fs_context_set(ctx, FS_CONTEXT_THREADS, threads);

    /* 1. analysis */
    fs_template *t = NULL;
    fs_template_create(ctx, &t);
    double t0 = bench_now_ms();
    if ((st = fs_template_analyse(t, video, NULL, NULL)) != FS_OK)
        die("analyse", st, fs_template_last_error(t));
    const double analyse_ms = bench_now_ms() - t0;
    fs_template_info in;
    fs_template_get_info(t, &in);
    printf("template: %s, %dx%d, %lld frames, %.2f s, %d track(s), face in %lld frames\n", video,
           in.width, in.height, (long long)in.frames, in.duration, in.tracks,
           (long long)in.frames_with_face);
    printf("analysis: %.2f s wall at %d threads (%.1f ms a frame)\n", analyse_ms / 1e3, threads,
           analyse_ms / (double)in.frames);

    fs_renderer *ren = NULL;
    fs_identity *id = NULL;
    fs_image img;
    if ((st = fs_renderer_create(ctx, &ren)) != FS_OK ||
        (st = fs_image_read_file(ctx, photo, &img)) != FS_OK)
        die("set-up", st, fs_context_last_error(ctx));
    if ((st = fs_identity_create_from_image(ctx, &img, FS_IDENTITY_LARGEST_FACE, &id)) != FS_OK)
        die("identity", st, fs_context_last_error(ctx));
    fs_image_free(&img);

    /* 2. the swap stage on one core */
    fs_context *one = NULL;
    fs_context_create(&one);
    swap_stage(one, t, video, id, ren, reps);

    /* 3. render + encode beside the plain transcode, alternately */
    char out[4096], ref[4096];
    const char *tmp = getenv("TMPDIR");
    snprintf(out, sizeof(out), "%s/bench_video_%d.mp4", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    snprintf(ref, sizeof(ref), "%s/bench_video_%d_ffmpeg.mp4", tmp && *tmp ? tmp : "/tmp",
             (int)getpid());
    double *r_ms = malloc(sizeof(double) * (size_t)reps), *f_ms = malloc(sizeof(double) * (size_t)reps);
    fs_video_report last;
    memset(&last, 0, sizeof(last));
    for (int rep = 0; rep < reps; rep++) {
        f_ms[rep] = transcode_ms(video, ref, presets[preset], crf, threads);
        last = render(ctx, ren, id, t, video, out, preset, crf);
        r_ms[rep] = last.seconds * 1e3;
    }
    const double rm = bench_median(r_ms, reps), fm = bench_median(f_ms, reps);
    printf("render + encode (%s, crf %d, %d threads): median %.2f s; plain transcode by the "
           "ffmpeg tool, same settings: median %.2f s; ratio %.2f (over %d runs each, "
           "alternating)\n",
           presets[preset], crf, threads, rm / 1e3, fm / 1e3, rm / fm, reps);
    printf("  last render: %lld frames, %lld swapped, %.1f fps; busy: decode %.2f s, swap %.2f s "
           "(summed over %d workers), encode %.2f s; encoder waiting for frames %.2f s\n",
           (long long)last.frames, (long long)last.frames_swapped,
           (double)last.frames / last.seconds, last.decode_seconds, last.swap_seconds,
           last.threads, last.encode_seconds, last.wait_seconds);
    if (threads > 1) {
        /* One core, not one thread: the decoder, the worker and x264 run
         * side by side even at one thread, so only pinning the process (its
         * threads inherit the mask) shows what a second core buys. */
        cpu_set_t all, one_core;
        CPU_ZERO(&one_core);
        const int pinned = sched_getaffinity(0, sizeof(all), &all) == 0;
        for (int c = 0; pinned && c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &all)) {
                CPU_SET(c, &one_core);
                break;
            }
        fs_context *c1 = NULL;
        fs_context_create(&c1);
        if (pinned && sched_setaffinity(0, sizeof(one_core), &one_core) == 0) {
            const fs_video_report r1 = render(c1, ren, id, t, video, out, preset, crf);
            sched_setaffinity(0, sizeof(all), &all);
            printf("  the same render on 1 core (1 thread): %.2f s (%.2fx the %d-core time)\n",
                   r1.seconds, r1.seconds / (rm / 1e3), threads);
        }
        fs_context_destroy(c1);
    }
    unlink(out);
    unlink(ref);
    free(r_ms);
    free(f_ms);
    fs_identity_destroy(id);
    fs_renderer_destroy(ren);
    fs_template_destroy(t);
    fs_context_destroy(one);
    fs_context_destroy(ctx);
    return 0;
}
