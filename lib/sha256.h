/*
 * SHA-256 (FIPS 180-4), used to check model files against their pinned sums
 * and by tests to compare decoded pixels with the golden files. Not installed.
 */
#ifndef FS_SHA256_H
#define FS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define FS_SHA256_SIZE 32
#define FS_SHA256_HEX_SIZE 65 /* 64 hex digits + NUL */

typedef struct fs_sha256_ctx {
    uint32_t h[8];
    uint64_t length;      /* bytes hashed so far */
    uint8_t block[64];
    size_t used;          /* bytes waiting in block */
} fs_sha256_ctx;

void fs_sha256_init(fs_sha256_ctx *c);
void fs_sha256_update(fs_sha256_ctx *c, const void *data, size_t size);
void fs_sha256_final(fs_sha256_ctx *c, uint8_t digest[FS_SHA256_SIZE]);

/* One-shot digest of a buffer. */
void fs_sha256(const void *data, size_t size, uint8_t digest[FS_SHA256_SIZE]);

/* Lower-case hex of a digest, NUL-terminated. */
void fs_sha256_hex(const uint8_t digest[FS_SHA256_SIZE], char hex[FS_SHA256_HEX_SIZE]);

#endif /* FS_SHA256_H */
