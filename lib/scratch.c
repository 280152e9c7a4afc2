/*
 * The scratch arena (lib/scratch.h). The arena is a stack whose blocks may
 * be given back in any order: a block given back out of order is marked
 * and popped once everything above it is gone. Every block takes a place
 * on that stack even when the arena is too small for it (then its memory
 * comes from malloc): so the stack's high-water mark is exactly what the
 * same sequence of calls needs next time.
 */
#include "scratch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Under AddressSanitizer the arena's free space and every block header
 * are poisoned, so that a stage reading or writing past its block is
 * caught as it would be past a malloc'd one. */
#if defined(__SANITIZE_ADDRESS__)
#define FS_SCRATCH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FS_SCRATCH_ASAN 1
#endif
#endif
#ifdef FS_SCRATCH_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

typedef struct block {
    fs_scratch *owner; /* NULL: a plain malloc block, no arena bound */
    struct block *prev; /* the block under this one on the owner's stack */
    size_t off;        /* place on the stack, bytes from its bottom */
    size_t span;       /* header + rounded size */
    unsigned char freed, in_arena;
} block;

#define ALIGN 16
/* Blocks stay 16-byte aligned, as malloc's are. */
#define HEADER ((sizeof(block) + ALIGN - 1) / ALIGN * ALIGN)

static _Thread_local fs_scratch *bound;

fs_scratch *fs_scratch_bind(fs_scratch *s)
{
    fs_scratch *old = bound;
    bound = s;
    return old;
}

void *fs_tmp_alloc(size_t bytes)
{
    if (bytes == 0 || bytes > SIZE_MAX / 2 - HEADER)
        return NULL;
    const size_t span = HEADER + (bytes + ALIGN - 1) / ALIGN * ALIGN;
    fs_scratch *s = bound;
    block *b;
    if (!s) {
        b = malloc(span);
        if (!b)
            return NULL;
        memset(b, 0, sizeof(*b));
        return (unsigned char *)b + HEADER;
    }
    const size_t off = s->used;
    const int fits = s->base && off <= s->cap && span <= s->cap - off;
    b = fits ? (block *)(void *)(s->base + off) : malloc(span);
    if (!b)
        return NULL;
    if (fits)
        UNPOISON(b, span);
    b->owner = s;
    b->prev = s->top;
    b->off = off;
    b->freed = 0;
    b->in_arena = fits != 0;
    b->span = span;
    s->top = b;
    s->used = off + span;
    s->live += span;
    if (s->used > s->peak)
        s->peak = s->used;
    if (fits) {
        POISON(b, HEADER);
        POISON((unsigned char *)b + HEADER + bytes, span - HEADER - bytes);
    }
    return (unsigned char *)b + HEADER;
}

/* A block's header, readable for a moment. */
static block *header(void *p)
{
    block *b = (block *)(void *)((unsigned char *)p - HEADER);
    UNPOISON(b, sizeof(*b));
    return b;
}

/* Done with a header: poisoned again when it lies in an arena. */
static void header_done(block *b)
{
    if (b->owner && b->in_arena)
        POISON(b, HEADER);
}

void *fs_tmp_calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    void *p = fs_tmp_alloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void fs_tmp_free(void *p)
{
    if (!p)
        return;
    block *b = header(p);
    fs_scratch *s = b->owner;
    if (!s) {
        free(b);
        return;
    }
    b->freed = 1;
    s->live -= b->span;
    if (b->in_arena)
        POISON(p, b->span - HEADER);
    header_done(b);
    /* Pop every given-back block from the top. */
    block *t = s->top;
    while (t) {
        UNPOISON(t, sizeof(*t));
        if (!t->freed) {
            header_done(t);
            break;
        }
        block *under = t->prev;
        s->used = t->off;
        if (t->in_arena)
            POISON(t, t->span);
        else
            free(t);
        t = under;
    }
    s->top = t;
}

int fs_scratch_fit(fs_scratch *s)
{
    if (!s || s->top || s->peak <= s->cap)
        return 1;
    /* Half as much again: a video's face grows over many frames, and each
     * regrowth faults every page of the new block in again (tens of
     * thousands of faults for a 20 MB arena, a visible share of a render's
     * time); with this headroom a face may grow by a fifth in width before
     * the next one. */
    const size_t want = s->peak + s->peak / 2;
    unsigned char *nb = malloc(want);
    if (!nb)
        return 0;
    free(s->base);
    s->base = nb;
    s->cap = want;
    POISON(nb, want);
    return 1;
}

void fs_scratch_free(fs_scratch *s)
{
    if (!s)
        return;
    if (s->base)
        UNPOISON(s->base, s->cap);
    free(s->base);
    memset(s, 0, sizeof(*s));
}
