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
    return (unsigned char *)b + HEADER;
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
    block *b = (block *)(void *)((unsigned char *)p - HEADER);
    fs_scratch *s = b->owner;
    if (!s) {
        free(b);
        return;
    }
    b->freed = 1;
    s->live -= b->span;
    /* Pop every given-back block from the top. */
    block *t = s->top;
    while (t && t->freed) {
        block *under = t->prev;
        s->used = t->off;
        if (!t->in_arena)
            free(t);
        t = under;
    }
    s->top = t;
}

int fs_scratch_fit(fs_scratch *s)
{
    if (!s || s->top || s->peak <= s->cap)
        return 1;
    /* An eighth more, so that a window a few pixels larger does not fall
     * back to malloc at once. */
    const size_t want = s->peak + s->peak / 8;
    unsigned char *nb = malloc(want);
    if (!nb)
        return 0;
    free(s->base);
    s->base = nb;
    s->cap = want;
    return 1;
}

void fs_scratch_free(fs_scratch *s)
{
    if (!s)
        return;
    free(s->base);
    memset(s, 0, sizeof(*s));
}
