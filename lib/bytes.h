/*
 * Little-endian fields of the library's file formats (identity blobs,
 * template files): fixed byte order so a file moves between machines.
 */
#ifndef FS_BYTES_H
#define FS_BYTES_H

#include <stdint.h>
#include <string.h>

static inline void fs_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t fs_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void fs_put_u64(uint8_t *p, uint64_t v)
{
    fs_put_u32(p, (uint32_t)v);
    fs_put_u32(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t fs_get_u64(const uint8_t *p)
{
    return (uint64_t)fs_get_u32(p) | (uint64_t)fs_get_u32(p + 4) << 32;
}

static inline void fs_put_f32(uint8_t *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    fs_put_u32(p, v);
}

static inline float fs_get_f32(const uint8_t *p)
{
    const uint32_t v = fs_get_u32(p);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

static inline void fs_put_f64(uint8_t *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    fs_put_u64(p, v);
}

static inline double fs_get_f64(const uint8_t *p)
{
    const uint64_t v = fs_get_u64(p);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

#endif /* FS_BYTES_H */
