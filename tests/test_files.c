/*
 * Untrusted paths and bytes around the library's files: every reader
 * refuses what is not a regular file (a FIFO, a link to /dev/zero, a
 * folder) at once instead of blocking or reading without end; error
 * details that quote file content carry no control byte; and a writer
 * removes the temporaries a killed writer left beside its target, and
 * nothing else.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomic_file.h"
#include "internal.h"
#include "template/template.h"

/* A fresh folder under the test's temporary area. */
static const char *fresh_dir(const char *tag)
{
    const char *const dir = fs_test_tmp_path(tag);
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(mkdir(dir, 0777), 0);
    return dir;
}

static char *join(const char *dir, const char *name)
{
    const size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* The special files a probe put where a file was expected: a FIFO with no
 * writer (opening it for reading blocks), a link to /dev/zero (reads never
 * end) and a folder. */
enum { SPECIAL_FIFO, SPECIAL_ZERO, SPECIAL_DIR, N_SPECIAL };

static void make_special(const char *path, int kind)
{
    unlink(path);
    rmdir(path);
    switch (kind) {
    case SPECIAL_FIFO: ck_assert_int_eq(mkfifo(path, 0666), 0); break;
    case SPECIAL_ZERO: ck_assert_int_eq(symlink("/dev/zero", path), 0); break;
    default: ck_assert_int_eq(mkdir(path, 0777), 0); break;
    }
}

static void remove_special(const char *path)
{
    if (unlink(path) != 0)
        rmdir(path);
}

/* Creates the handle that reads group @p g's model files: the detector,
 * the fitter, the renderer (its mesh). */
static fs_status create_for_group(fs_context *ctx, int g)
{
    fs_status st;
    if (g == 0) {
        fs_detector *det = NULL;
        st = fs_detector_create(ctx, &det);
        fs_detector_destroy(det);
    } else if (g == 1) {
        fs_fitter *fit = NULL;
        st = fs_fitter_create(ctx, &fit);
        fs_fitter_destroy(fit);
    } else {
        fs_renderer *r = NULL;
        st = fs_renderer_create(ctx, &r);
        fs_renderer_destroy(r);
    }
    return st;
}

/* Each reader is run with an alarm: a reader that blocks or reads forever
 * ends the test with SIGALRM instead of hanging the suite. */
#define WITHIN_SECONDS 20

START_TEST(readers_refuse_special_files)
{
    const int kind = _i;
    alarm(WITHIN_SECONDS);
    const char *const dir = fresh_dir("special");
    char *const path = join(dir, "file");
    make_special(path, kind);
    fs_error_buf err;
    uint8_t *data = NULL;
    size_t size = 0;

    int fd = -1;
    uint64_t n = 0;
    FS_ASSERT_STATUS(fs_file_open_regular(path, "thing", &fd, &n, &err), FS_ERR_IO);
    ck_assert_msg(strstr(err.text, "thing ") == err.text && strstr(err.text, "not a regular file"),
                  "%s", err.text);
    FS_ASSERT_STATUS(fs_file_read_all(path, 1 << 20, "things", &data, &size, &err), FS_ERR_IO);
    uint8_t hash[32];
    FS_ASSERT_STATUS(fs_tpl_hash_file(path, hash, &n, &err), FS_ERR_IO);

    /* public readers: identity and template files */
    fs_context *ctx = NULL;
    FS_ASSERT_OK(fs_context_create(&ctx));
    fs_identity *id = NULL;
    FS_ASSERT_STATUS(fs_identity_load_file(ctx, path, &id), FS_ERR_IO);
    ck_assert_ptr_null(id);
    fs_template *t = NULL;
    FS_ASSERT_OK(fs_template_create(ctx, &t));
    FS_ASSERT_STATUS(fs_template_load_file(t, path), FS_ERR_IO);
    fs_template_destroy(t);

    /* model files, with and without the checksum pass: the files of one
     * handle in a folder of their own, one of them replaced */
    static const char *const groups[3][5] = {
        {"blazeface.json", "blazeface.bin", NULL},
        {"facemesh.json", "facemesh.bin", "iris.json", "iris.bin", NULL},
        {"face_geometry.binarypb", NULL}};
    for (int g = 0; g < 3; g++) {
        for (int victim = 0; groups[g][victim]; victim++) {
            const char *const mdir = fresh_dir("special_models");
            for (int f = 0; groups[g][f]; f++) {
                char *const to = join(mdir, groups[g][f]);
                if (f == victim)
                    make_special(to, kind);
                else
                    fs_test_copy_file(fs_test_model_path(groups[g][f]), to);
                free(to);
            }
            FS_ASSERT_OK(fs_context_set_model_dir(ctx, mdir));
            for (int verify = 0; verify <= 1; verify++) {
                FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_VERIFY_MODELS, verify));
                const fs_status st = create_for_group(ctx, g);
                ck_assert_msg(st == FS_ERR_IO, "%s, verify %d: %s: %s", groups[g][victim], verify,
                              fs_status_name(st), fs_context_last_error(ctx));
                ck_assert_msg(strstr(fs_context_last_error(ctx), "not a regular file"), "%s",
                              fs_context_last_error(ctx));
            }
        }
    }
    fs_context_destroy(ctx);
    remove_special(path);
    free(path);
    alarm(0);
}
END_TEST

/* Model files above the size limit are refused by size, before a read
 * (sparse files: no disk used). */
START_TEST(model_file_size_limit)
{
    alarm(WITHIN_SECONDS);
    static const struct {
        const char *file;
        off_t size;
        int group;
    } big[] = {{"face_geometry.binarypb", (off_t)2 << 20, 2}, {"blazeface.bin", (off_t)3 << 30, 0}};
    fs_context *ctx = NULL;
    FS_ASSERT_OK(fs_context_create(&ctx));
    for (size_t k = 0; k < sizeof(big) / sizeof(big[0]); k++) {
        const char *const mdir = fresh_dir("big_models");
        if (big[k].group == 0) {
            char *const json = join(mdir, "blazeface.json");
            fs_test_copy_file(fs_test_model_path("blazeface.json"), json);
            free(json);
        }
        char *const path = join(mdir, big[k].file);
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(ftruncate(fileno(f), big[k].size), 0);
        fclose(f);
        FS_ASSERT_OK(fs_context_set_model_dir(ctx, mdir));
        FS_ASSERT_STATUS(create_for_group(ctx, big[k].group), FS_ERR_TOO_LARGE);
        ck_assert_msg(strstr(fs_context_last_error(ctx), big[k].file), "%s", fs_context_last_error(ctx));
        unlink(path);
        free(path);
    }
    fs_context_destroy(ctx);
    alarm(0);
}
END_TEST

/* No byte that a terminal obeys survives into a detail. */
START_TEST(details_are_escaped)
{
    char out[64];
    /* a PNG chunk type of ESC [ 2 J, C1 CSI (raw and as UTF-8), DEL, NUL-free controls */
    fs_text_escape(out, sizeof(out), "type \x1b[2J end");
    ck_assert_str_eq(out, "type \\x1b[2J end");
    fs_text_escape(out, sizeof(out), "a\x9b" "1m b\xc2\x9b" "1m\x7f\t\r\n");
    ck_assert_str_eq(out, "a\\x9b1m b\\xc2\\x9b1m\\x7f\\x09\\x0d\\x0a");
    /* well-formed UTF-8 is kept; broken sequences and surrogates are not */
    fs_text_escape(out, sizeof(out), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82");
    ck_assert_str_eq(out, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82");
    fs_text_escape(out, sizeof(out), "\xc3 \xed\xa0\x80 \xf4\x90\x80\x80");
    ck_assert_str_eq(out, "\\xc3 \\xed\\xa0\\x80 \\xf4\\x90\\x80\\x80");
    /* idempotent, and cut at a whole escape */
    char again[64];
    fs_text_escape(out, sizeof(out), "x\x1b\x1b");
    fs_text_escape(again, sizeof(again), out);
    ck_assert_str_eq(again, out);
    char small[6];
    ck_assert_uint_eq(fs_text_escape(small, sizeof(small), "ab\x1b"), 2);
    ck_assert_str_eq(small, "ab");

    /* through fs_fail, and through a real decoder's detail: a PNG whose
     * chunk type is ESC [ 2 J fails its CRC check and names nothing raw */
    fs_error_buf err;
    ck_assert_int_eq(fs_fail(&err, FS_ERR_CORRUPT, "chunk %s", "\x1b[2J"), FS_ERR_CORRUPT);
    ck_assert_str_eq(err.text, "chunk \\x1b[2J");
    fs_context *ctx = NULL;
    FS_ASSERT_OK(fs_context_create(&ctx));
    const char *const dir = fresh_dir("escape");
    char *const path = join(dir, "evil\x1b[2J.png");
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("\x89PNG\r\n\x1a\n", f);
    fclose(f);
    fs_image im;
    ck_assert_int_ne(fs_image_read_file(ctx, path, &im), FS_OK);
    const char *const detail = fs_context_last_error(ctx);
    ck_assert_msg(strstr(detail, "evil\\x1b[2J.png"), "%s", detail);
    for (const char *c = detail; *c; c++)
        ck_assert_msg((unsigned char)*c >= 0x20 && *c != 0x7f, "control byte in '%s'", detail);
    unlink(path);
    free(path);
    fs_context_destroy(ctx);
}
END_TEST

static void touch_old(const char *path, int age_seconds)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("half-written", f);
    fclose(f);
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= age_seconds;
    tv[1] = tv[0];
    ck_assert_int_eq(utimes(path, tv), 0);
}

/* A pid that is surely gone: a child that has exited and been reaped. */
static long dead_pid(void)
{
    const pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    return (long)pid;
}

/* A killed writer's temporary beside the target is removed by the next
 * write there; every other file stays: another target's, a live
 * process's, a fresh one, names that only look like ours, a folder. */
START_TEST(stale_temporaries_removed)
{
    const char *const dir = fresh_dir("stale");
    const long dead = dead_pid(), alive = (long)getppid();
    char name[256];
    struct {
        const char *fmt;
        long pid;
        int age;
        int removed;
    } const files[] = {
        {"out.png.tmp-%ld-0", dead, 3600, 1},     /* a killed writer's */
        {"out.png.tmp-%ld-17", dead, 120, 1},
        {"out.png.tmp-%ld-1", alive, 3600, 0},    /* a live process's */
        {"out.png.tmp-%ld-2", dead, 0, 0},        /* just written: maybe another machine's */
        {"other.png.tmp-%ld-0", dead, 3600, 0},   /* another target's */
        {"out.png.tmp-%ld-x", dead, 3600, 0},     /* not our pattern */
        {"out.png.tmp-%ld-", dead, 3600, 0},
        {"out.png.tmp-%ld", dead, 3600, 0},
        {"xout.png.tmp-%ld-0", dead, 3600, 0},
        {"out.png.%ld", dead, 3600, 0},
    };
    const size_t nf = sizeof(files) / sizeof(files[0]);
    for (size_t k = 0; k < nf; k++) {
        snprintf(name, sizeof(name), files[k].fmt, files[k].pid);
        char *const p = join(dir, name);
        touch_old(p, files[k].age);
        free(p);
    }
    snprintf(name, sizeof(name), "out.png.tmp-%ld-5", dead); /* a folder of that name */
    char *const sub = join(dir, name);
    ck_assert_int_eq(mkdir(sub, 0777), 0);

    fs_context *ctx = NULL;
    FS_ASSERT_OK(fs_context_create(&ctx));
    uint8_t px[4 * 4 * 3] = {0};
    const fs_image im = {.width = 4, .height = 4, .stride = 12, .format = FS_PIXEL_RGB8,
                         .memory = FS_MEMORY_HOST, .data = px};
    char *const out = join(dir, "out.png");
    FS_ASSERT_OK(fs_image_write_file(ctx, &im, out));
    ck_assert(fs_test_file_exists(out));
    for (size_t k = 0; k < nf; k++) {
        snprintf(name, sizeof(name), files[k].fmt, files[k].pid);
        char *const p = join(dir, name);
        ck_assert_msg(fs_test_file_exists(p) == !files[k].removed, "%s: %s", name,
                      files[k].removed ? "left" : "removed");
        free(p);
    }
    struct stat sb;
    ck_assert_int_eq(stat(sub, &sb), 0);
    rmdir(sub);
    free(sub);
    free(out);
    fs_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("files");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, readers_refuse_special_files, 0, N_SPECIAL);
    tcase_add_test(tc, model_file_size_limit);
    tcase_add_test(tc, details_are_escaped);
    tcase_add_test(tc, stale_temporaries_removed);
    suite_add_tcase(s, tc);
    return fs_test_run_suite(s);
}
