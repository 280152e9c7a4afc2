/*
 * Scratch memory for the per-frame stages: a grow-only arena that an owner
 * (a renderer's workspace, a video worker's) binds to the calling thread
 * for the length of one call. Stages take their temporaries with
 * fs_tmp_alloc and give them back with fs_tmp_free in any order; with no
 * arena bound, or when the bound one is full, they fall back to malloc, and
 * the arena learns the call's peak so that fs_scratch_fit can grow it once
 * the call is over. A steady stream of same-size calls then allocates
 * nothing.
 *
 * Why a thread binding and not a field of the engine's fs_exec (lib/exec.h),
 * which every entry now takes: one fs_exec is shared by the tasks that a
 * stage runs on its pool's threads, and the arena is a stack with no lock;
 * bound to the thread, a pool worker simply has none and mallocs. Only the
 * thread that called the stage takes temporaries today (the banded
 * rasteriser allocates before it splits), so the arena serves the whole
 * call.
 */
#ifndef FS_SCRATCH_H
#define FS_SCRATCH_H

#include <stddef.h>

typedef struct fs_scratch {
    unsigned char *base;
    size_t cap;    /* bytes at base */
    size_t used;   /* bytes from base held by live blocks (and freed ones under them) */
    void *top;     /* the top block's header; NULL: none */
    size_t live;   /* bytes asked for and not yet given back, arena and malloc alike */
    size_t peak;   /* the most `live` reached (with block overhead) since the last fit */
} fs_scratch;

/* Binds @p s (NULL unbinds) to the calling thread; returns the one bound before. */
fs_scratch *fs_scratch_bind(fs_scratch *s);

/* Grows the arena to the peak seen (plus a little), when no block is live.
 * Returns 0 when the allocation failed (the arena is kept as it was). */
int fs_scratch_fit(fs_scratch *s);

/* Releases the arena's memory; the struct is zeroed. Accepts NULL. */
void fs_scratch_free(fs_scratch *s);

/* Temporaries: from the bound arena when it has room, else malloc. NULL
 * when bytes is 0 or memory is out. fs_tmp_calloc zeroes. fs_tmp_free
 * accepts NULL and either kind. */
void *fs_tmp_alloc(size_t bytes);
void *fs_tmp_calloc(size_t n, size_t size);
void fs_tmp_free(void *p);

#endif /* FS_SCRATCH_H */
