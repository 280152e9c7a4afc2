/*
 * What the video tests share around the test clips (tests/clips): temporary
 * folders, running make_clip, the ffmpeg check, the still photos' fits the
 * truth is made of. Check assertions inside: call from test cases (or from
 * main() before the suite, where a failure aborts the program).
 */
#ifndef FS_CLIP_UTIL_H
#define FS_CLIP_UTIL_H

#include <stddef.h>

#include <faceswap/faceswap.h>

/* A fresh temporary folder, removed with its files by rm_dir(). */
void make_dir(char *dir, size_t size, const char *tag);
void rm_dir(const char *dir);
/* $FS_MAKE_CLIP (set by meson test). */
const char *make_clip_exe(void);
/* Runs make_clip with @p args; returns its exit status. */
int run_make_clip(const char *args);
/* 1 when the ffmpeg tool runs. */
int have_ffmpeg(void);
/* Landmarks of a still photo as the truth assumes them: the best
 * detection's fit, default settings. */
void fit_still(fs_context *ctx, fs_detector *det, fs_fitter *fit, const char *path,
               fs_face_landmarks *lm);

#endif /* FS_CLIP_UTIL_H */
