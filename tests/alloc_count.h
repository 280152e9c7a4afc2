/*
 * Counts heap allocations made while a flag is set, by interposing malloc,
 * calloc and realloc over glibc's (__libc_*). Used to check that
 * fs_detector_run / fs_fitter_run allocate nothing per call. Header-only,
 * included by one test program each. Disabled (alloc_count_available() == 0)
 * under sanitizers, which own malloc, and off glibc.
 */
#ifndef FS_TEST_ALLOC_COUNT_H
#define FS_TEST_ALLOC_COUNT_H

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FS_ALLOC_COUNT 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define FS_ALLOC_COUNT 0
#endif
#endif
#if !defined(FS_ALLOC_COUNT) && defined(__GLIBC__)
#define FS_ALLOC_COUNT 1
#endif
#ifndef FS_ALLOC_COUNT
#define FS_ALLOC_COUNT 0
#endif

static volatile int alloc_counting;
static volatile long alloc_calls;

#if FS_ALLOC_COUNT
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);

void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t size);

void *malloc(size_t size)
{
    if (alloc_counting)
        alloc_calls++;
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    if (alloc_counting)
        alloc_calls++;
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    if (alloc_counting)
        alloc_calls++;
    return __libc_realloc(p, size);
}
#endif

static int alloc_count_available(void)
{
    return FS_ALLOC_COUNT;
}

static void alloc_count_start(void)
{
    alloc_calls = 0;
    alloc_counting = 1;
}

static long alloc_count_stop(void)
{
    alloc_counting = 0;
    return alloc_calls;
}

#endif /* FS_TEST_ALLOC_COUNT_H */
