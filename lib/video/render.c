/*
 * The per-user render (include/faceswap/video.h): decode -> swap workers ->
 * in-order encode, overlapped on threads.
 *
 * Frames stay in YUV 4:2:0 from the decoder to the encoder: only the window
 * around each swapped face is converted to RGB, swapped and converted back,
 * and only the pixels the swap changed are written back. So a frame costs no
 * whole-frame colour conversion either way, and everything outside the face
 * reaches the encoder with the decoder's own bytes.
 *
 * Threads: one decoder thread fills free frame slots; the swap workers take
 * decoded slots lowest index first; the calling thread writes finished
 * slots to the encoder in order (x264 runs its own threads behind it) and
 * reports progress. A slot ring of workers + 3 frames bounds memory and
 * lets the decoder run ahead while the encoder waits for a slow frame.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image/write.h"
#include "engine.h"
#include "internal.h"
#include "swap/swap.h"
#include "template/template_api.h"
#include "video/video_api.h"
#include "video/video_io.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

enum slot_state { SLOT_FREE, SLOT_DECODED, SLOT_SWAPPING, SLOT_DONE };

typedef struct slot {
    fs_video_frame frame;
    enum slot_state state;
    int swapped;
} slot;

/* What each swap worker owns: its RGB window buffers and the swap's workspace. */
typedef struct worker {
    pthread_t thread;
    int started;
    struct run *run;
    fs_swap_workspace ws;
    fs_swap_target target; /* large (the points): kept off the thread's stack */
    uint8_t *win, *before;
    size_t win_cap;
    fs_error_buf err;
    double busy;
} worker;

typedef struct run {
    /* read-only for the threads */
    const fs_tpl_data *tpl;
    int choice;
    const fs_swap_mesh *mesh;
    const fs_swap_params *params;
    const fs_engine *eng;
    const fs_identity_data *id;
    double min_face, max_yaw;
    fs_yuv_desc yd;
    int width, height;
    int64_t poster_frame;

    fs_video_reader *reader;
    slot *slots;
    int n_slots;
    worker *workers;
    int n_workers;

    pthread_mutex_t mu;
    pthread_cond_t cv_free, cv_work, cv_done;
    int64_t decoded;  /* frames the decoder has produced */
    int eof;          /* the decoder is done */
    int abort;        /* stop everything: an error or a cancel */
    fs_status st;     /* first error */
    fs_error_buf err; /* its detail */
    pthread_t decoder;
    int decoder_started;
    double decode_busy;

    /* results, under mu */
    int64_t frames_swapped, faces_skipped;
    uint8_t *poster_rgb; /* width*height*3 when a poster was asked for */
    int poster_done;
} run;

/* Records the first error and stops every thread. Called with mu held. */
static void fail_locked(run *r, fs_status st, const fs_error_buf *err)
{
    if (!r->abort) {
        r->abort = 1;
        r->st = st;
        fs_copy_error(&r->err, err);
    }
    pthread_cond_broadcast(&r->cv_free);
    pthread_cond_broadcast(&r->cv_work);
    pthread_cond_broadcast(&r->cv_done);
}

static slot *slot_of(run *r, int64_t index)
{
    return &r->slots[index % r->n_slots];
}

static void *decoder_main(void *arg)
{
    run *r = arg;
    fs_error_buf err;
    fs_clear_error(&err);
    for (int64_t k = 0;; k++) {
        slot *s = slot_of(r, k);
        pthread_mutex_lock(&r->mu);
        while (!r->abort && s->state != SLOT_FREE)
            pthread_cond_wait(&r->cv_free, &r->mu);
        const int stop = r->abort;
        pthread_mutex_unlock(&r->mu);
        if (stop)
            break;
        int eof = 0;
        const double t0 = now_seconds();
        const fs_status st = fs_video_reader_read(r->reader, &s->frame, &eof, &err);
        r->decode_busy += now_seconds() - t0;
        pthread_mutex_lock(&r->mu);
        if (st != FS_OK) {
            fail_locked(r, st, &err);
        } else if (eof) {
            r->eof = 1;
            pthread_cond_broadcast(&r->cv_work);
            pthread_cond_broadcast(&r->cv_done);
        } else {
            s->frame.index = k;
            s->state = SLOT_DECODED;
            s->swapped = 0;
            r->decoded = k + 1;
            pthread_cond_signal(&r->cv_work);
        }
        const int end = r->abort || r->eof;
        pthread_mutex_unlock(&r->mu);
        if (end)
            break;
    }
    return NULL;
}

/* The window (frame px) of a face, grown to even corners so that its 2x2
 * chroma blocks are whole. */
static void even_window(const fs_swap_target *t, int fw, int fh, int *x0, int *y0, int *x1, int *y1)
{
    *x0 = t->x0 & ~1;
    *y0 = t->y0 & ~1;
    *x1 = (t->x0 + t->w + 1) & ~1;
    *y1 = (t->y0 + t->h + 1) & ~1;
    if (*x1 > fw)
        *x1 = fw;
    if (*y1 > fh)
        *y1 = fh;
}

/* Swaps the chosen faces of one frame. Returns the swap status (an error
 * ends the render) and counts faces swapped and skipped. */
static fs_status swap_frame(run *r, worker *w, slot *s, int *n_swapped, int *n_skipped)
{
    const fs_tpl_face *faces[FS_TPL_MAX_FACES_PER_FRAME];
    const int n = fs_tpl_chosen_face(r->tpl, r->choice, s->frame.index, faces,
                                     FS_TPL_MAX_FACES_PER_FRAME);
    *n_swapped = 0;
    *n_skipped = 0;
    /* No pool: the workers already swap frames in parallel, one each. The
     * worker's own error buffer, so that workers never share one. */
    const fs_exec ex = {NULL, &w->err, NULL, NULL};
    for (int i = 0; i < n && i < FS_TPL_MAX_FACES_PER_FRAME; i++) {
        const fs_tpl_face *f = faces[i];
        if (fabsf(f->pose[13]) > r->max_yaw) {
            (*n_skipped)++;
            continue;
        }
        fs_swap_target *t = &w->target;
        fs_status st = fs_swap_target_geometry(r->mesh, r->params, r->width, r->height,
                                               (const float(*)[3])f->points, t, &w->err);
        if (st == FS_ERR_NO_FACE || (st == FS_OK && t->face_size < r->min_face)) {
            (*n_skipped)++;
            continue;
        }
        if (st != FS_OK)
            return st;
        int x0, y0, x1, y1;
        even_window(t, r->width, r->height, &x0, &y0, &x1, &y1);
        const int ww = x1 - x0, wh = y1 - y0;
        const size_t need = (size_t)ww * (size_t)wh * 3;
        if (need > w->win_cap) {
            uint8_t *a = realloc(w->win, need), *b = a ? realloc(w->before, need) : NULL;
            if (a)
                w->win = a;
            if (!b)
                return fs_fail(&w->err, FS_ERR_OUT_OF_MEMORY, "video: out of memory (%dx%d window)",
                               ww, wh);
            w->before = b;
            w->win_cap = need;
        }
        const ptrdiff_t stride = (ptrdiff_t)ww * 3;
        st = fs_yuv420_to_rgb_window(&s->frame, &r->yd, x0, y0, ww, wh, w->win, stride);
        if (st != FS_OK)
            return fs_fail(&w->err, st, "video: frame %lld: window outside the frame",
                           (long long)s->frame.index);
        memcpy(w->before, w->win, need);
        uint8_t *origin = w->win + (size_t)(t->y0 - y0) * (size_t)stride + (size_t)(t->x0 - x0) * 3;
        if (f->flags & FS_TPL_FACE_STATS) {
            /* the template's statistics, smoothed over time: no flicker */
            for (int c = 0; c < 3; c++) {
                t->lab_mean[c] = f->stats[c];
                t->lab_sd[c] = f->stats[3 + c];
            }
            t->skin_pixels = 1;
            /* and its light, smoothed alike (none: the source's own light) */
            fs_shading_flat(&t->light);
            if (f->flags & FS_TPL_FACE_LIGHT) {
                memcpy(t->light.coeff, f->light, sizeof(t->light.coeff));
                t->light.n_fit = 1;
            }
        } else {
            st = fs_swap_target_measure(r->eng, &ex, r->mesh, r->params, origin, stride, t);
            if (st == FS_ERR_NO_FACE) {
                (*n_skipped)++;
                continue;
            }
            if (st != FS_OK)
                return st;
        }
        st = fs_swap_render(r->eng, &ex, &w->ws, r->mesh, r->params, r->id, t, origin, stride,
                            NULL);
        if (st == FS_ERR_NO_FACE) {
            (*n_skipped)++;
            continue;
        }
        if (st != FS_OK)
            return st;
        st = fs_rgb_window_to_yuv420(&s->frame, &r->yd, x0, y0, ww, wh, w->win, w->before, stride);
        if (st != FS_OK)
            return fs_fail(&w->err, st, "video: frame %lld: window outside the frame",
                           (long long)s->frame.index);
        (*n_swapped)++;
    }
    return FS_OK;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    run *r = w->run;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        slot *s = NULL;
        for (;;) {
            if (r->abort)
                break;
            /* lowest decoded index first: the encoder waits for it */
            int64_t best = INT64_MAX;
            for (int i = 0; i < r->n_slots; i++)
                if (r->slots[i].state == SLOT_DECODED && r->slots[i].frame.index < best) {
                    best = r->slots[i].frame.index;
                    s = &r->slots[i];
                }
            if (s || r->eof)
                break;
            pthread_cond_wait(&r->cv_work, &r->mu);
        }
        if (!s) {
            pthread_mutex_unlock(&r->mu);
            break;
        }
        s->state = SLOT_SWAPPING;
        pthread_mutex_unlock(&r->mu);

        const double t0 = now_seconds();
        int n_sw = 0, n_sk = 0;
        fs_status st = swap_frame(r, w, s, &n_sw, &n_sk);
        /* The poster is the frame as it will be encoded: taken after the swap. */
        if (st == FS_OK && r->poster_rgb && s->frame.index == r->poster_frame)
            st = fs_yuv420_to_rgb(&s->frame, &r->yd, r->poster_rgb, (ptrdiff_t)r->width * 3);
        w->busy += now_seconds() - t0;

        pthread_mutex_lock(&r->mu);
        if (st != FS_OK) {
            fail_locked(r, st, &w->err);
        } else {
            s->state = SLOT_DONE;
            s->swapped = n_sw > 0;
            r->frames_swapped += n_sw > 0;
            r->faces_skipped += n_sk;
            if (s->frame.index == r->poster_frame && r->poster_rgb)
                r->poster_done = 1;
            pthread_cond_broadcast(&r->cv_done);
        }
        pthread_mutex_unlock(&r->mu);
    }
    return NULL;
}

/* ------------------------------------------------------------ the render */

static const char *const preset_names[] = {"ultrafast", "superfast", "veryfast",
                                           "faster",    "fast",      "medium",
                                           "slow",      "slower",    "veryslow"};

/*
 * The poster as a viewer shows the video: a phone's portrait video is stored
 * on its side with a display rotation, which players apply and an image file
 * has no room for, so the pixels are turned here (clockwise by @p rotation).
 * r->poster_rgb is replaced by the turned copy.
 */
static fs_status upright_poster(run *r, int rotation, fs_image *out, fs_error_buf *err)
{
    const int w = r->width, h = r->height, turn = rotation == 90 || rotation == 270;
    const int ow = turn ? h : w, oh = turn ? w : h;
    if (rotation == 90 || rotation == 180 || rotation == 270) {
        uint8_t *dst = malloc((size_t)w * (size_t)h * 3);
        if (!dst)
            return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "video: out of memory (poster)");
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                /* where source pixel (x, y) lands after the clockwise turn */
                const int dx = rotation == 90 ? h - 1 - y : rotation == 180 ? w - 1 - x : y;
                const int dy = rotation == 90 ? x : rotation == 180 ? h - 1 - y : w - 1 - x;
                memcpy(dst + ((size_t)dy * ow + dx) * 3, r->poster_rgb + ((size_t)y * w + x) * 3, 3);
            }
        free(r->poster_rgb);
        r->poster_rgb = dst;
    }
    *out = (fs_image){ow, oh, ow * 3, FS_PIXEL_RGB8, FS_MEMORY_HOST, 0, r->poster_rgb, {0}};
    return FS_OK;
}

/* Stops the threads and waits for them (a no-op for threads never started). */
static void run_stop(run *r)
{
    pthread_mutex_lock(&r->mu);
    if (!r->eof) {
        r->abort = 1;
        pthread_cond_broadcast(&r->cv_free);
        pthread_cond_broadcast(&r->cv_work);
        pthread_cond_broadcast(&r->cv_done);
    }
    pthread_mutex_unlock(&r->mu);
    if (r->decoder_started)
        pthread_join(r->decoder, NULL);
    r->decoder_started = 0;
    for (int i = 0; i < r->n_workers; i++)
        if (r->workers[i].started) {
            pthread_join(r->workers[i].thread, NULL);
            r->workers[i].started = 0;
        }
}

static void run_free(run *r)
{
    for (int i = 0; r->slots && i < r->n_slots; i++)
        fs_video_frame_free(&r->slots[i].frame);
    free(r->slots);
    for (int i = 0; r->workers && i < r->n_workers; i++) {
        fs_swap_workspace_free(&r->workers[i].ws);
        free(r->workers[i].win);
        free(r->workers[i].before);
    }
    free(r->workers);
    free(r->poster_rgb);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv_free);
    pthread_cond_destroy(&r->cv_work);
    pthread_cond_destroy(&r->cv_done);
}

/* Allocates slots and workers and starts the threads. */
static fs_status run_start(run *r, int n_workers, int want_poster, fs_error_buf *err)
{
    r->n_workers = n_workers;
    r->n_slots = n_workers + 3;
    r->slots = calloc((size_t)r->n_slots, sizeof(*r->slots));
    r->workers = calloc((size_t)n_workers, sizeof(*r->workers));
    if (!r->slots || !r->workers)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "video: out of memory");
    for (int i = 0; i < r->n_slots; i++) {
        const fs_status st = fs_video_frame_alloc(&r->slots[i].frame, r->width, r->height, err);
        if (st != FS_OK)
            return st;
    }
    if (want_poster) {
        r->poster_rgb = malloc((size_t)r->width * (size_t)r->height * 3);
        if (!r->poster_rgb)
            return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "video: out of memory (poster)");
    }
    for (int i = 0; i < n_workers; i++) {
        worker *w = &r->workers[i];
        w->run = r;
    }
    if (pthread_create(&r->decoder, NULL, decoder_main, r) != 0)
        return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "video: cannot start the decoder thread");
    r->decoder_started = 1;
    for (int i = 0; i < n_workers; i++) {
        if (pthread_create(&r->workers[i].thread, NULL, worker_main, &r->workers[i]) != 0)
            return fs_fail(err, FS_ERR_OUT_OF_MEMORY, "video: cannot start a swap thread");
        r->workers[i].started = 1;
    }
    return FS_OK;
}

/* The calling thread's part: frames to the encoder in order. */
static fs_status encode_loop(run *r, fs_video_writer *wr, int64_t total, fs_progress_fn progress,
                             void *user, double *encode_busy, double *wait, fs_error_buf *err)
{
    for (int64_t k = 0;; k++) {
        slot *s = slot_of(r, k);
        const double t0 = now_seconds();
        pthread_mutex_lock(&r->mu);
        while (!r->abort && !(s->state == SLOT_DONE && s->frame.index == k) &&
               !(r->eof && r->decoded <= k))
            pthread_cond_wait(&r->cv_done, &r->mu);
        const int end = r->abort || (r->eof && r->decoded <= k);
        pthread_mutex_unlock(&r->mu);
        *wait += now_seconds() - t0;
        if (end)
            break;
        const double t1 = now_seconds();
        fs_status st = fs_video_writer_write(wr, &s->frame, err);
        *encode_busy += now_seconds() - t1;
        pthread_mutex_lock(&r->mu);
        if (st != FS_OK) {
            fail_locked(r, st, err);
        } else {
            s->state = SLOT_FREE;
            pthread_cond_signal(&r->cv_free);
        }
        pthread_mutex_unlock(&r->mu);
        if (st != FS_OK)
            break;
        if (progress && progress(user, k + 1, total) != 0) {
            fs_error_buf e;
            fs_fail(&e, FS_ERR_CANCELLED, "video: cancelled at frame %lld", (long long)k + 1);
            pthread_mutex_lock(&r->mu);
            fail_locked(r, FS_ERR_CANCELLED, &e);
            pthread_mutex_unlock(&r->mu);
            break;
        }
    }
    pthread_mutex_lock(&r->mu);
    const fs_status st = r->abort ? r->st : FS_OK;
    if (r->abort)
        fs_copy_error(err, &r->err);
    pthread_mutex_unlock(&r->mu);
    return st;
}

static fs_status check_template(const fs_tpl_data *d, const char *path, fs_error_buf *err)
{
    uint8_t hash[32];
    uint64_t size = 0;
    const fs_status st = fs_tpl_hash_file(path, hash, &size, err);
    if (st != FS_OK)
        return st;
    if (size != d->file_size || memcmp(hash, d->hash, 32) != 0)
        return fs_fail(err, FS_ERR_CHECKSUM,
                       "%s is not the video the template was analysed from (content hash "
                       "differs; %llu bytes, the template's video had %llu)",
                       path, (unsigned long long)size, (unsigned long long)d->file_size);
    return FS_OK;
}

fs_status fs_video_render(fs_video *v, const fs_renderer *renderer, const fs_identity *id,
                          const fs_template *tpl, const char *video_path, const char *out_path,
                          fs_progress_fn progress, void *user)
{
    if (!v)
        return FS_ERR_INVALID_ARGUMENT;
    fs_error_buf *err = &v->err;
    if (!renderer || !id || !tpl || !video_path || !out_path)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_video_render: NULL argument");
    const fs_tpl_data *d = &tpl->data;
    if (d->n_frames <= 0)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_video_render: the template is empty");
    const int choice = v->track == -3 ? d->track_choice : v->track;
    if (choice >= d->n_tracks)
        return fs_fail(err, FS_ERR_OUT_OF_RANGE, "fs_video_render: track %d: the template has %d",
                       choice, (int)d->n_tracks);
    fs_status st = check_template(d, video_path, err);
    if (st != FS_OK)
        return st;
    const double t_start = now_seconds();

    int64_t threads = 1, max_pixels = 0;
    fs_context_get(v->ctx, FS_CONTEXT_THREADS, &threads);
    fs_context_get(v->ctx, FS_CONTEXT_MAX_PIXELS, &max_pixels);
    const fs_video_limits lim = {max_pixels, 1e7, d->n_frames + 1, (int)threads};

    run r;
    memset(&r, 0, sizeof(r));
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv_free, NULL);
    pthread_cond_init(&r.cv_work, NULL);
    pthread_cond_init(&r.cv_done, NULL);
    r.tpl = d;
    r.choice = choice;
    r.mesh = fs_renderer_internal_mesh(renderer);
    r.params = fs_renderer_internal_params(renderer);
    r.eng = fs_context_engine(fs_renderer_internal_context(renderer));
    fs_renderer_internal_limits(renderer, &r.min_face, &r.max_yaw);
    r.id = fs_identity_internal_data(id);
    r.poster_frame = v->poster ? d->poster_frame : -1;

    fs_video_props props;
    fs_video_writer *wr = NULL;
    st = fs_video_reader_open(video_path, &lim, &r.reader, &props, err);
    if (st == FS_OK && (props.width != d->width || props.height != d->height))
        st = fs_fail(err, FS_ERR_CHECKSUM, "%s: %dx%d frames, the template's are %dx%d", video_path,
                     props.width, props.height, d->width, d->height);
    if (st == FS_OK) {
        r.width = props.width;
        r.height = props.height;
        r.yd = fs_yuv_desc_from(props.color_space, props.color_range, props.height);
        fs_video_encode_opts eo;
        memset(&eo, 0, sizeof(eo));
        eo.crf = v->crf;
        snprintf(eo.preset, sizeof(eo.preset), "%s", preset_names[v->preset]);
        eo.max_bitrate = (int64_t)v->max_kbitrate * 1000;
        eo.threads = (int)threads;
        snprintf(eo.encoder, sizeof(eo.encoder), "%s",
                 v->encoder == FS_ENCODER_X264 ? "libx264"
                 : v->encoder == FS_ENCODER_NVENC ? "h264_nvenc"
                                                  : "");
        st = fs_video_writer_open(out_path, &props, &eo, video_path, &wr, err);
    }
    /* The encoder has the context's threads; the swap runs beside it on as
     * many workers, which wait on the decoder and the encoder as often as
     * they run. */
    const int n_workers = (int)(threads < 1 ? 1 : threads > 64 ? 64 : threads);
    if (st == FS_OK)
        st = run_start(&r, n_workers, v->poster != NULL && d->poster_frame >= 0, err);
    double encode_busy = 0.0, wait = 0.0;
    if (st == FS_OK)
        st = encode_loop(&r, wr, d->n_frames, progress, user, &encode_busy, &wait, err);
    run_stop(&r);
    if (st == FS_OK && r.decoded != d->n_frames)
        st = fs_fail(err, FS_ERR_CHECKSUM,
                     "%s: %lld frames decoded, the template has %lld (another video?)", video_path,
                     (long long)r.decoded, (long long)d->n_frames);
    fs_video_report rep;
    memset(&rep, 0, sizeof(rep));
    if (st == FS_OK) {
        rep.audio = (int32_t)fs_video_writer_audio(wr);
        snprintf(rep.encoder, sizeof(rep.encoder), "%s", fs_video_writer_encoder(wr));
        const double t1 = now_seconds();
        st = fs_video_writer_finish(wr, err);
        wr = NULL;
        encode_busy += now_seconds() - t1;
    }
    fs_video_writer_abort(wr);
    if (st == FS_OK && v->poster && r.poster_done) {
        fs_image img;
        st = upright_poster(&r, props.rotation, &img, err);
        if (st == FS_OK) {
            st = fs_image_write_file(v->ctx, &img, v->poster);
            if (st != FS_OK)
                fs_fail(err, st, "poster %s: %s", v->poster, fs_context_last_error(v->ctx));
        }
        if (st != FS_OK)
            unlink(out_path); /* all or nothing */
    }
    if (st == FS_OK) {
        rep.frames = r.decoded;
        rep.frames_swapped = r.frames_swapped;
        rep.faces_skipped = r.faces_skipped;
        rep.decode_errors = fs_video_reader_decode_errors(r.reader);
        rep.threads = n_workers;
        rep.seconds = now_seconds() - t_start;
        rep.decode_seconds = r.decode_busy;
        for (int i = 0; i < r.n_workers; i++)
            rep.swap_seconds += r.workers[i].busy;
        rep.encode_seconds = encode_busy;
        rep.wait_seconds = wait;
        v->report = rep;
        v->have_report = 1;
        fs_clear_error(err);
    }
    fs_video_reader_close(r.reader);
    run_free(&r);
    return st;
}

/* ------------------------------------------------------------ the object */

typedef struct param_info {
    double min, max, def;
} param_info;

static const param_info video_params[] = {
    [FS_VIDEO_CRF] = {0, 51, 23},
    [FS_VIDEO_PRESET] = {FS_PRESET_ULTRAFAST, FS_PRESET_VERYSLOW, FS_PRESET_VERYFAST},
    [FS_VIDEO_MAX_KBITRATE] = {0, 100000, 0},
    [FS_VIDEO_ENCODER] = {FS_ENCODER_AUTO, FS_ENCODER_NVENC, FS_ENCODER_AUTO},
    [FS_VIDEO_TRACK] = {-3, 65535, -3},
};
#define N_PARAMS ((int)(sizeof(video_params) / sizeof(video_params[0])))

fs_status fs_video_create(fs_context *ctx, fs_video **out)
{
    if (!ctx || !out)
        return FS_ERR_INVALID_ARGUMENT;
    fs_video *v = calloc(1, sizeof(*v));
    if (!v)
        return FS_ERR_OUT_OF_MEMORY;
    v->ctx = ctx;
    v->crf = (int)video_params[FS_VIDEO_CRF].def;
    v->preset = (int)video_params[FS_VIDEO_PRESET].def;
    v->max_kbitrate = (int)video_params[FS_VIDEO_MAX_KBITRATE].def;
    v->encoder = (int)video_params[FS_VIDEO_ENCODER].def;
    v->track = (int)video_params[FS_VIDEO_TRACK].def;
    *out = v;
    return FS_OK;
}

void fs_video_destroy(fs_video *v)
{
    if (!v)
        return;
    free(v->poster);
    free(v);
}

fs_status fs_video_param_bounds(fs_video_param param, double *min, double *max)
{
    if ((int)param < 0 || (int)param >= N_PARAMS || !min || !max)
        return FS_ERR_INVALID_ARGUMENT;
    *min = video_params[param].min;
    *max = video_params[param].max;
    return FS_OK;
}

static int *video_field(fs_video *v, fs_video_param param)
{
    switch (param) {
    case FS_VIDEO_CRF: return &v->crf;
    case FS_VIDEO_PRESET: return &v->preset;
    case FS_VIDEO_MAX_KBITRATE: return &v->max_kbitrate;
    case FS_VIDEO_ENCODER: return &v->encoder;
    case FS_VIDEO_TRACK: return &v->track;
    }
    return NULL;
}

fs_status fs_video_set(fs_video *v, fs_video_param param, double value)
{
    if (!v)
        return FS_ERR_INVALID_ARGUMENT;
    if ((int)param < 0 || (int)param >= N_PARAMS)
        return fs_fail(&v->err, FS_ERR_INVALID_ARGUMENT, "fs_video_set: unknown parameter %d",
                       (int)param);
    const param_info *pi = &video_params[param];
    if (!(value >= pi->min && value <= pi->max) || value != floor(value))
        return fs_fail(&v->err, FS_ERR_OUT_OF_RANGE,
                       "fs_video_set: parameter %d: %g outside %g..%g (integer)", (int)param,
                       value, pi->min, pi->max);
    *video_field(v, param) = (int)value;
    fs_clear_error(&v->err);
    return FS_OK;
}

fs_status fs_video_get(const fs_video *v, fs_video_param param, double *value)
{
    if (!v || !value || (int)param < 0 || (int)param >= N_PARAMS)
        return FS_ERR_INVALID_ARGUMENT;
    *value = *video_field((fs_video *)v, param);
    return FS_OK;
}

fs_status fs_video_set_poster(fs_video *v, const char *path)
{
    if (!v)
        return FS_ERR_INVALID_ARGUMENT;
    /* Here, not after the render: a poster the writer cannot make must not
     * cost a whole film first. */
    if (path && !fs_image_path_writable(path))
        return fs_fail(&v->err, FS_ERR_UNSUPPORTED, "poster %s: " FS_IMAGE_EXTENSIONS_HINT, path);
    char *copy = NULL;
    if (path && !(copy = strdup(path)))
        return fs_fail(&v->err, FS_ERR_OUT_OF_MEMORY, "fs_video_set_poster: out of memory");
    free(v->poster);
    v->poster = copy;
    return FS_OK;
}

fs_status fs_video_get_report(const fs_video *v, fs_video_report *out)
{
    if (!v || !out || !v->have_report)
        return FS_ERR_INVALID_ARGUMENT;
    *out = v->report;
    return FS_OK;
}

const char *fs_video_last_error(const fs_video *v)
{
    return v ? v->err.text : "";
}
