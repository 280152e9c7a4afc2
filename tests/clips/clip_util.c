/* Helpers of the video tests around the test clips (clip_util.h). */
#include "clip_util.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

void make_dir(char *dir, size_t size, const char *tag)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, size, "%s/fs_clips_%s_XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s", dir);
}

void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4200];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        remove(path);
    }
    closedir(d);
    rmdir(dir);
}

const char *make_clip_exe(void)
{
    const char *exe = getenv("FS_MAKE_CLIP");
    ck_assert_msg(exe && *exe, "FS_MAKE_CLIP is not set (run through meson test)");
    return exe;
}

int run_make_clip(const char *args)
{
    char cmd[8192];
    snprintf(cmd, sizeof(cmd), "'%s' %s", make_clip_exe(), args);
    const int st = system(cmd);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int have_ffmpeg(void)
{
    const int st = system("ffmpeg -version >/dev/null 2>&1");
    return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

void fit_still(fs_context *ctx, fs_detector *det, fs_fitter *fit, const char *path,
                      fs_face_landmarks *lm)
{
    fs_image img;
    FS_ASSERT_OK(fs_image_read_file(ctx, path, &img));
    fs_face_box boxes[10];
    int n = 0;
    FS_ASSERT_OK(fs_detector_run(det, &img, boxes, 10, &n));
    ck_assert_msg(n >= 1, "no face in %s", path);
    FS_ASSERT_OK(fs_fitter_run(fit, &img, &boxes[0], lm));
    fs_image_free(&img);
}

