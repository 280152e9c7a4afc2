/*
 * video_service: how a C service uses libfaceswap for the micro-film job.
 * The template is analysed once (`faceswap analyse`) and loaded once here;
 * every request then costs one identity capture and one render. Requests
 * run on a few service threads at once: the context, the renderer and the
 * template are shared read-only, and each thread owns its fs_video.
 *
 *   video_service TEMPLATE.fst VIDEO OUTDIR PHOTO...
 *
 * writes OUTDIR/<photo name>.mp4 for each PHOTO and prints one line per
 * request. Build: cc video_service.c $(pkg-config --cflags --libs faceswap) -lpthread
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <faceswap/faceswap.h>

typedef struct service {
    fs_context *ctx;
    const fs_renderer *renderer; /* shared: renders only read it */
    const fs_template *tpl;      /* shared: analysed once, read-only */
    const char *video, *outdir;
    char **photos;
    int n_photos, next;
    pthread_mutex_t mu;
    int failures;
} service;

/* One request: a user's photo in, a film out. */
static int handle(service *s, fs_video *v, const char *photo)
{
    fs_image img;
    fs_identity *id = NULL;
    fs_status st = fs_image_read_file(s->ctx, photo, &img);
    if (st == FS_OK) {
        st = fs_identity_create_from_image(s->ctx, &img, FS_IDENTITY_LARGEST_FACE, &id);
        fs_image_free(&img);
    }
    if (st != FS_OK) {
        /* the detail text of the context is this thread's own */
        fprintf(stderr, "%s: %s: %s\n", photo, fs_status_name(st), fs_context_last_error(s->ctx));
        return 1;
    }
    const char *base = strrchr(photo, '/');
    base = base ? base + 1 : photo;
    char out[4096];
    snprintf(out, sizeof(out), "%s/%.*s.mp4", s->outdir, (int)strcspn(base, "."), base);
    st = fs_video_render(v, s->renderer, id, s->tpl, s->video, out, NULL, NULL);
    fs_identity_destroy(id);
    if (st != FS_OK) {
        fprintf(stderr, "%s: %s: %s\n", out, fs_status_name(st), fs_video_last_error(v));
        return 1;
    }
    fs_video_report r;
    fs_video_get_report(v, &r);
    printf("%s: %lld frames, face in %lld, %.2f s\n", out, (long long)r.frames,
           (long long)r.frames_swapped, r.seconds);
    return 0;
}

static void *service_thread(void *arg)
{
    service *s = arg;
    fs_video *v = NULL;
    if (fs_video_create(s->ctx, &v) != FS_OK)
        return NULL;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        const int k = s->next < s->n_photos ? s->next++ : -1;
        pthread_mutex_unlock(&s->mu);
        if (k < 0)
            break;
        const int failed = handle(s, v, s->photos[k]);
        pthread_mutex_lock(&s->mu);
        s->failures += failed;
        pthread_mutex_unlock(&s->mu);
    }
    fs_video_destroy(v);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: video_service TEMPLATE.fst VIDEO OUTDIR PHOTO...\n");
        return 1;
    }
    service s = {.video = argv[2], .outdir = argv[3], .photos = argv + 4, .n_photos = argc - 4};
    pthread_mutex_init(&s.mu, NULL);
    fs_renderer *ren = NULL;
    fs_template *tpl = NULL;
    /* Two requests at a time, each render with two threads: on a larger
     * machine, more requests at once use the cores better than more
     * threads per render (the encoder's threads scale less than linearly). */
    fs_status st = fs_context_create(&s.ctx);
    if (st == FS_OK)
        st = fs_context_set(s.ctx, FS_CONTEXT_THREADS, 2);
    if (st == FS_OK)
        st = fs_renderer_create(s.ctx, &ren);
    if (st == FS_OK)
        st = fs_template_create(s.ctx, &tpl);
    if (st == FS_OK)
        st = fs_template_load_file(tpl, argv[1]);
    if (st != FS_OK) {
        fprintf(stderr, "set-up: %s: %s\n", fs_status_name(st),
                tpl ? fs_template_last_error(tpl) : fs_context_last_error(s.ctx));
        fs_template_destroy(tpl);
        fs_renderer_destroy(ren);
        fs_context_destroy(s.ctx);
        return 1;
    }
    s.renderer = ren;
    s.tpl = tpl;
    pthread_t th[2];
    int started = 0;
    for (int i = 0; i < 2; i++)
        started += pthread_create(&th[started], NULL, service_thread, &s) == 0;
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    fs_template_destroy(tpl);
    fs_renderer_destroy(ren);
    fs_context_destroy(s.ctx);
    pthread_mutex_destroy(&s.mu);
    return s.failures || started == 0 ? 1 : 0;
}
