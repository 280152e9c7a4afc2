/*
 * Image files: decoding every supported format (test data and files built
 * here byte by byte), EXIF orientation, bad input of every kind, writing
 * and reading back, and the overlay drawing helpers.
 */
#include "testutil.h"
#include "sha256.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_image_write.h>
#include <turbojpeg.h>

#include "image/draw.h"
#include "internal.h"

/* Failing-allocation injection: malloc, calloc and realloc are interposed
 * over glibc's (stb's calls included); while armed, the allocation after
 * `alloc_budget` successful ones fails and every allocation is counted
 * against its free, so a leak on any error path shows. Off under
 * sanitizers (they own malloc) and off glibc. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FAIL_ALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define FAIL_ALLOC 0
#endif
#endif
#if !defined(FAIL_ALLOC) && defined(__GLIBC__)
#define FAIL_ALLOC 1
#endif
#ifndef FAIL_ALLOC
#define FAIL_ALLOC 0
#endif

static volatile int alloc_armed;
static volatile long alloc_budget, alloc_live, alloc_failed;

#if FAIL_ALLOC
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t size);
void free(void *p);

static int alloc_allowed(void)
{
    if (!alloc_armed)
        return 1;
    if (alloc_budget == 0) {
        alloc_failed++;
        return 0;
    }
    alloc_budget--;
    return 1;
}

void *malloc(size_t size)
{
    if (!alloc_allowed())
        return NULL;
    void *const p = __libc_malloc(size);
    if (p && alloc_armed)
        alloc_live++;
    return p;
}

void *calloc(size_t n, size_t size)
{
    if (!alloc_allowed())
        return NULL;
    void *const p = __libc_calloc(n, size);
    if (p && alloc_armed)
        alloc_live++;
    return p;
}

void *realloc(void *p, size_t size)
{
    if (!alloc_allowed())
        return NULL;
    void *const q = __libc_realloc(p, size);
    if (q && !p && alloc_armed)
        alloc_live++;
    return q;
}

void free(void *p)
{
    if (p && alloc_armed)
        alloc_live--;
    __libc_free(p);
}
#endif

/* ------------------------------------------------------------------ */
/* Byte buffers and small encoders                                    */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put_bytes(buf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        ck_assert_ptr_nonnull(b->p);
    }
    if (n)
        memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put8(buf *b, unsigned v)
{
    const uint8_t c = (uint8_t)v;
    put_bytes(b, &c, 1);
}

static void put_be16(buf *b, unsigned v) { put8(b, v >> 8); put8(b, v); }
static void put_be32(buf *b, uint32_t v) { put_be16(b, v >> 16); put_be16(b, v & 0xffff); }
static void put_le16(buf *b, unsigned v) { put8(b, v); put8(b, v >> 8); }
static void put_le32(buf *b, uint32_t v) { put_le16(b, v & 0xffff); put_le16(b, v >> 16); }

static void buf_free(buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

static void png_chunk(buf *b, const char *type, const uint8_t *data, size_t n)
{
    put_be32(b, (uint32_t)n);
    const size_t at = b->n;
    put_bytes(b, type, 4);
    put_bytes(b, data, n);
    put_be32(b, crc32_of(b->p + at, n + 4));
}

/* A PNG of raw rows (filter byte 0 each), zlib "stored" blocks: no
 * compressor needed. */
static buf make_png(uint32_t w, uint32_t h, int depth, int color, const uint8_t *rows, size_t row_bytes)
{
    buf raw = {0}, z = {0}, out = {0};
    for (uint32_t y = 0; y < h; y++) {
        put8(&raw, 0);
        put_bytes(&raw, rows + (size_t)y * row_bytes, row_bytes);
    }
    put8(&z, 0x78);
    put8(&z, 0x01);
    size_t pos = 0;
    do {
        const size_t len = raw.n - pos > 65535 ? 65535 : raw.n - pos;
        put8(&z, pos + len == raw.n ? 1 : 0);
        put_le16(&z, (unsigned)len);
        put_le16(&z, (unsigned)~len & 0xffff);
        put_bytes(&z, raw.p + pos, len);
        pos += len;
    } while (pos < raw.n);
    uint32_t a = 1, bsum = 0;
    for (size_t i = 0; i < raw.n; i++) {
        a = (a + raw.p[i]) % 65521;
        bsum = (bsum + a) % 65521;
    }
    put_be32(&z, (bsum << 16) | a);
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    put_bytes(&out, sig, 8);
    buf ih = {0};
    put_be32(&ih, w);
    put_be32(&ih, h);
    put8(&ih, (unsigned)depth);
    put8(&ih, (unsigned)color);
    put8(&ih, 0);
    put8(&ih, 0);
    put8(&ih, 0);
    png_chunk(&out, "IHDR", ih.p, ih.n);
    png_chunk(&out, "IDAT", z.p, z.n);
    png_chunk(&out, "IEND", NULL, 0);
    buf_free(&ih);
    buf_free(&raw);
    buf_free(&z);
    return out;
}

static void mem_write(void *ctx, void *data, int size)
{
    put_bytes(ctx, data, (size_t)size);
}

/* A reference pattern: channel values that differ per pixel and channel. */
static uint8_t pat(int x, int y, int c)
{
    return (uint8_t)(x * 29 + y * 71 + c * 101 + (x ^ y) * 3);
}

static fs_context *new_ctx(void)
{
    fs_context *ctx = NULL;
    FS_ASSERT_OK(fs_context_create(&ctx));
    return ctx;
}

static fs_status decode(fs_context *ctx, const buf *b, fs_image *im)
{
    return fs_image_read_memory(ctx, b->p, b->n, im);
}

static void assert_rgb(const fs_image *im, int w, int h)
{
    ck_assert_int_eq(im->width, w);
    ck_assert_int_eq(im->height, h);
    ck_assert_int_eq(im->format, FS_PIXEL_RGB8);
    ck_assert_int_eq(im->memory, FS_MEMORY_HOST);
    ck_assert_int_ge(im->stride, w * 3);
    ck_assert_ptr_nonnull(im->data);
}

static const uint8_t *px_at(const fs_image *im, int x, int y)
{
    return (const uint8_t *)im->data + (size_t)y * (size_t)im->stride + (size_t)x * 3;
}

/* ------------------------------------------------------------------ */
/* Decoded pixels are compared with the golden files by SHA-256 (lib/sha256.c,
 * whose known-answer vectors are in test_detect.c). */

static void sha_hex(fs_sha256_ctx *s, char out[FS_SHA256_HEX_SIZE])
{
    uint8_t digest[FS_SHA256_SIZE];
    fs_sha256_final(s, digest);
    fs_sha256_hex(digest, out);
}

/* How far two RGB8 images of one size are apart, over every byte. */
typedef struct jpeg_diff {
    double mean;      /* mean |a - b| */
    double differing; /* fraction of bytes that differ */
    int max;          /* largest |a - b| */
} jpeg_diff;

static jpeg_diff image_diff(const fs_image *a, const fs_image *b)
{
    ck_assert(a->width == b->width && a->height == b->height);
    jpeg_diff d = {0, 0, 0};
    size_t sum = 0, ne = 0;
    for (int y = 0; y < a->height; y++) {
        for (int x = 0; x < a->width * 3; x++) {
            const int e = abs(px_at(a, 0, y)[x] - px_at(b, 0, y)[x]);
            sum += (size_t)e;
            ne += e != 0;
            d.max = e > d.max ? e : d.max;
        }
    }
    const double n = (double)a->width * a->height * 3;
    d.mean = (double)sum / n;
    d.differing = (double)ne / n;
    return d;
}

/* ------------------------------------------------------------------ */
/* Test data                                                          */

static const struct {
    const char *file;
    int w, h;
    const char *golden; /* sha256 of packed RGB8 rows, from tests/golden/<name>.txt */
} testdata[] = {
    {"astronaut.png", 512, 512, "astronaut.txt"},
    {"messi5.jpg", 548, 342, "messi5.txt"},
    {"faceapi_sample1.jpg", 1920, 1280, NULL},
    {"faceapi_sample2.jpg", 1920, 1367, NULL},
    {"faceapi_sample3.jpg", 1920, 1350, NULL},
    {"faceapi_sample4.jpg", 1920, 1448, NULL},
    {"faceapi_sample5.jpg", 1920, 1398, "faceapi_sample5.txt"},
    {"faceapi_sample6.jpg", 1920, 1537, NULL},
    {"noface_3.png", 200, 200, NULL},
    {"noface_7.png", 200, 200, NULL},
    {"noface_12.png", 200, 200, "noface_12.txt"},
};

/* The hash on the "image <name> <w> <h> <sha256>" line of a golden file. */
static int golden_image_hash(const char *golden, char out[65])
{
    FILE *f = fopen(fs_test_golden_path(golden), "r");
    if (!f)
        return 0;
    char line[512];
    int found = 0;
    while (!found && fgets(line, sizeof(line), f)) {
        char name[128];
        int w, h;
        if (sscanf(line, "image %127s %d %d %64s", name, &w, &h, out) == 4)
            found = 1;
    }
    fclose(f);
    return found;
}

START_TEST(testdata_decodes)
{
    const char *const path = fs_test_data_path(testdata[_i].file);
    ck_assert_msg(fs_test_file_exists(path), "%s missing: run scripts/fetch-data.sh", path);
    fs_context *ctx = new_ctx();
    fs_image im;
    FS_ASSERT_OK(fs_image_read_file(ctx, path, &im));
    assert_rgb(&im, testdata[_i].w, testdata[_i].h);
    /* Not a flat image. */
    const uint8_t *a = px_at(&im, 0, 0), *b = px_at(&im, im.width / 2, im.height / 2);
    ck_assert(memcmp(a, b, 3) != 0 || memcmp(a, px_at(&im, im.width - 1, im.height - 1), 3) != 0);
    /* A golden's pixels are stb's decode (tests/golden/README.md): PNGs
     * decode to exactly those bytes; JPEGs, decoded by libjpeg-turbo, stay
     * within rounding of stb's (its IDCT and upsampling round differently). */
    fs_image ref;
    fs_test_load_path(ctx, path, &ref);
    assert_rgb(&ref, im.width, im.height);
    if (testdata[_i].golden) {
        char want[65];
        ck_assert_msg(golden_image_hash(testdata[_i].golden, want), "no image line in %s",
                      testdata[_i].golden);
        fs_sha256_ctx s;
        fs_sha256_init(&s);
        for (int y = 0; y < ref.height; y++)
            fs_sha256_update(&s, px_at(&ref, 0, y), (size_t)ref.width * 3);
        char got[65];
        sha_hex(&s, got);
        ck_assert_msg(strcmp(got, want) == 0, "%s: pixels differ from the golden decode (%s vs %s)",
                      testdata[_i].file, got, want);
    }
    const jpeg_diff dd = image_diff(&im, &ref);
    const int is_jpeg = strstr(testdata[_i].file, ".jpg") != NULL;
    printf("%s: against stb's decode: mean |diff| %.4f, %.2f%% of bytes differ\n", testdata[_i].file, dd.mean,
           100.0 * dd.differing);
    ck_assert_msg(is_jpeg ? dd.mean < 0.1 && dd.differing < 0.08 : dd.max == 0,
                  "%s: mean |diff| %.4f, %.2f%% of bytes differ from stb's decode", testdata[_i].file,
                  dd.mean, 100.0 * dd.differing);
    fs_image_free(&ref);
    fs_image_free(&im);
    ck_assert_ptr_null(im.data);
    ck_assert_int_eq(im.width, 0);
    fs_context_destroy(ctx);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Formats built here                                                  */

enum { PW = 13, PH = 7 };

START_TEST(png_variants)
{
    fs_context *ctx = new_ctx();
    fs_image im;
    uint8_t rows[PH * PW * 8];
    /* colour types 0 (gray), 4 (gray+alpha), 6 (RGBA), 2 (RGB) at 8 bits */
    static const struct { int color, nc; } kinds[] = {{0, 1}, {4, 2}, {6, 4}, {2, 3}};
    for (size_t k = 0; k < 4; k++) {
        const int nc = kinds[k].nc;
        for (int y = 0; y < PH; y++)
            for (int x = 0; x < PW; x++)
                for (int c = 0; c < nc; c++)
                    rows[(y * PW + x) * nc + c] = pat(x, y, c);
        buf png = make_png(PW, PH, 8, kinds[k].color, rows, (size_t)PW * (size_t)nc);
        FS_ASSERT_OK(decode(ctx, &png, &im));
        assert_rgb(&im, PW, PH);
        for (int y = 0; y < PH; y++) {
            for (int x = 0; x < PW; x++) {
                const uint8_t *p = px_at(&im, x, y);
                for (int c = 0; c < 3; c++) {
                    /* gray (and gray+alpha) replicate channel 0; alpha is dropped */
                    const uint8_t want = pat(x, y, nc <= 2 ? 0 : c);
                    ck_assert_msg(p[c] == want, "colour type %d (%d,%d,%d): %d want %d",
                                  kinds[k].color, x, y, c, p[c], want);
                }
            }
        }
        fs_image_free(&im);
        buf_free(&png);
    }
    /* 16 bits: RGB and gray, reduced as round(v * 255 / 65535) (pngjs). */
    static const uint16_t probes[] = {0, 1, 127, 128, 255, 256, 32767, 32768, 0x80ff, 0x8100, 65279, 65534, 65535};
    const int np = (int)(sizeof(probes) / sizeof(probes[0]));
    for (int gray = 0; gray <= 1; gray++) {
        const int nc = gray ? 1 : 3;
        uint8_t r16[64 * 6];
        for (int x = 0; x < np; x++)
            for (int c = 0; c < nc; c++) {
                const uint16_t v = probes[(x + c * 5) % np];
                r16[(x * nc + c) * 2] = (uint8_t)(v >> 8);
                r16[(x * nc + c) * 2 + 1] = (uint8_t)v;
            }
        buf png = make_png((uint32_t)np, 1, 16, gray ? 0 : 2, r16, (size_t)np * (size_t)nc * 2);
        FS_ASSERT_OK(decode(ctx, &png, &im));
        assert_rgb(&im, np, 1);
        for (int x = 0; x < np; x++)
            for (int c = 0; c < 3; c++) {
                const unsigned v = probes[(x + (gray ? 0 : c) * 5) % np];
                const unsigned want = (unsigned)((double)v * 255.0 / 65535.0 + 0.5);
                ck_assert_msg(px_at(&im, x, 0)[c] == want, "16-bit %u -> %u want %u", v,
                              px_at(&im, x, 0)[c], want);
            }
        fs_image_free(&im);
        buf_free(&png);
    }
    fs_context_destroy(ctx);
}
END_TEST

static buf make_bmp24(int w, int h, int top_down)
{
    buf b = {0};
    const int row = (w * 3 + 3) & ~3;
    put_bytes(&b, "BM", 2);
    put_le32(&b, (uint32_t)(54 + row * h));
    put_le32(&b, 0);
    put_le32(&b, 54);
    put_le32(&b, 40);
    put_le32(&b, (uint32_t)w);
    put_le32(&b, (uint32_t)(top_down ? -h : h));
    put_le16(&b, 1);
    put_le16(&b, 24);
    put_le32(&b, 0);
    put_le32(&b, (uint32_t)(row * h));
    put_le32(&b, 2835);
    put_le32(&b, 2835);
    put_le32(&b, 0);
    put_le32(&b, 0);
    for (int r = 0; r < h; r++) {
        const int y = top_down ? r : h - 1 - r;
        for (int x = 0; x < w; x++) {
            put8(&b, pat(x, y, 2)); /* B G R */
            put8(&b, pat(x, y, 1));
            put8(&b, pat(x, y, 0));
        }
        for (int k = w * 3; k < row; k++)
            put8(&b, 0);
    }
    return b;
}

static void assert_pattern(const fs_image *im, int w, int h, int gray, int tol)
{
    assert_rgb(im, w, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                const int want = pat(x, y, gray ? 0 : c), got = px_at(im, x, y)[c];
                ck_assert_msg(abs(got - want) <= tol, "(%d,%d,%d): %d want %d", x, y, c, got, want);
            }
}

START_TEST(bmp_variants)
{
    fs_context *ctx = new_ctx();
    fs_image im;
    for (int td = 0; td <= 1; td++) {
        buf b = make_bmp24(PW, PH, td);
        FS_ASSERT_OK(decode(ctx, &b, &im));
        assert_pattern(&im, PW, PH, 0, 0);
        fs_image_free(&im);
        buf_free(&b);
    }
    fs_context_destroy(ctx);
}
END_TEST

/* A BMP built field by field. */
typedef struct bmp_spec {
    uint32_t dib;          /* info header size: 12, 40, 52, 56, 108 or 124 */
    unsigned bpp;
    const uint32_t *masks; /* R, G, B: BI_BITFIELDS (after a 40-byte header, else inside) */
    unsigned colors;       /* bpp <= 8: colour table entries (and biClrUsed) */
    unsigned indices;      /* bpp <= 8: pixels index 0..indices-1 (beyond colors: black) */
    unsigned gap;          /* bytes between the headers and the pixels */
    int top_down;
} bmp_spec;

static const uint32_t *bmp_masks(const bmp_spec *sp)
{
    static const uint32_t m555[3] = {0x7c00u, 0x03e0u, 0x001fu};
    static const uint32_t m888[3] = {0xff0000u, 0x00ff00u, 0x0000ffu};
    return sp->masks ? sp->masks : sp->bpp == 16 ? m555 : m888;
}

static unsigned mask_shift(uint32_t m)
{
    unsigned s = 0;
    while (!((m >> s) & 1u))
        s++;
    return s;
}

static uint8_t palette_colour(unsigned i, int c)
{
    return (uint8_t)(c == 0 ? i * 3u : c == 1 ? 255u - i : i * 7u);
}

/* What a decoder must give for pixel (x, y), channel c (R, G, B): the
 * pattern quantised to the channel's mask and scaled back, rounding to
 * nearest; for a palette image the table's colour (black beyond it). */
static uint8_t bmp_expected(const bmp_spec *sp, int x, int y, int c)
{
    if (sp->bpp <= 8) {
        const unsigned i = pat(x, y, 0) % sp->indices;
        return i < sp->colors ? palette_colour(i, c) : 0;
    }
    const uint32_t m = bmp_masks(sp)[c];
    const uint64_t top = m >> mask_shift(m);
    const uint64_t q = (pat(x, y, c) * top + 127) / 255;
    return (uint8_t)((q * 255 + top / 2) / top);
}

static buf make_bmp(int w, int h, const bmp_spec *sp)
{
    buf b = {0};
    const unsigned bpp = sp->bpp;
    const int row = (int)(((unsigned)w * bpp + 31) / 32 * 4);
    const uint32_t masks_after = sp->masks && sp->dib == 40 ? 12 : 0;
    const unsigned entry = sp->dib == 12 ? 3 : 4;
    const uint32_t offset = 14 + sp->dib + masks_after + (bpp <= 8 ? sp->colors * entry : 0) + sp->gap;
    put_bytes(&b, "BM", 2);
    put_le32(&b, offset + (uint32_t)(row * h));
    put_le32(&b, 0);
    put_le32(&b, offset);
    if (sp->dib == 12) {
        put_le32(&b, 12);
        put_le16(&b, (unsigned)w);
        put_le16(&b, (unsigned)h);
        put_le16(&b, 1);
        put_le16(&b, bpp);
    } else {
        put_le32(&b, sp->dib);
        put_le32(&b, (uint32_t)w);
        put_le32(&b, (uint32_t)(sp->top_down ? -h : h));
        put_le16(&b, 1);
        put_le16(&b, bpp);
        put_le32(&b, sp->masks ? 3 : 0);
        put_le32(&b, (uint32_t)(row * h));
        put_le32(&b, 2835);
        put_le32(&b, 2835);
        put_le32(&b, bpp <= 8 ? sp->colors : 0);
        put_le32(&b, 0);
        for (uint32_t k = 40; k < sp->dib + masks_after; k += 4)
            put_le32(&b, k < 52 && sp->masks ? sp->masks[(k - 40) / 4] : 0);
    }
    for (unsigned i = 0; bpp <= 8 && i < sp->colors; i++) {
        put8(&b, palette_colour(i, 2)); /* B G R (reserved) */
        put8(&b, palette_colour(i, 1));
        put8(&b, palette_colour(i, 0));
        if (entry == 4)
            put8(&b, 0);
    }
    for (unsigned k = 0; k < sp->gap; k++)
        put8(&b, 0xaa);
    const uint32_t *m = bmp_masks(sp);
    for (int r = 0; r < h; r++) {
        const int y = sp->top_down ? r : h - 1 - r;
        uint8_t line[4 * 64 + 4] = {0};
        ck_assert_int_le(row, (int)sizeof(line));
        for (int x = 0; x < w; x++) {
            if (bpp <= 8) {
                const unsigned i = pat(x, y, 0) % sp->indices;
                const unsigned bit = (unsigned)x * bpp;
                line[bit / 8] |= (uint8_t)(i << (8 - bpp - bit % 8));
                continue;
            }
            uint32_t v = 0;
            for (int c = 0; c < 3; c++) {
                const uint32_t top = m[c] >> mask_shift(m[c]);
                v |= (uint32_t)((pat(x, y, c) * (uint64_t)top + 127) / 255) << mask_shift(m[c]);
            }
            for (unsigned k = 0; k < bpp / 8; k++)
                line[(size_t)x * (bpp / 8) + k] = (uint8_t)(v >> (8 * k));
        }
        put_bytes(&b, line, (size_t)row);
    }
    return b;
}

/* Every header version, bit depth and mask layout the prober accepts
 * decodes, to the pixel (V2 and V3 headers with BI_BITFIELDS included,
 * which stb refused and which were reported as out of memory). */
START_TEST(bmp_headers_and_masks)
{
    static const uint32_t rgb8[3] = {0xff0000u, 0x00ff00u, 0x0000ffu};
    static const uint32_t bgr8[3] = {0x0000ffu, 0x00ff00u, 0xff0000u};
    static const uint32_t m565[3] = {0xf800u, 0x07e0u, 0x001fu};
    static const uint32_t m10[3] = {0x3ff00000u, 0x000ffc00u, 0x000003ffu};
    static const uint32_t m_top[3] = {0xff000000u, 0x00ff0000u, 0x0000ff00u};
    const bmp_spec specs[] = {
        {.dib = 52, .bpp = 32, .masks = rgb8},              /* V2: the probe's file */
        {.dib = 52, .bpp = 24, .masks = rgb8},
        {.dib = 56, .bpp = 32, .masks = bgr8},              /* V3 */
        {.dib = 56, .bpp = 24, .masks = bgr8, .gap = 37},
        {.dib = 52, .bpp = 32, .masks = m_top, .top_down = 1},
        {.dib = 40, .bpp = 16, .masks = m565},              /* masks after a V1 header */
        {.dib = 40, .bpp = 32, .masks = m10},               /* 10 bits a channel */
        {.dib = 124, .bpp = 32, .masks = m10},
        {.dib = 108, .bpp = 16},                            /* 5-5-5 */
        {.dib = 40, .bpp = 32},
        {.dib = 124, .bpp = 24, .gap = 3},
        {.dib = 12, .bpp = 24},
        {.dib = 40, .bpp = 8, .colors = 256, .indices = 256},
        {.dib = 52, .bpp = 4, .colors = 16, .indices = 16},
        {.dib = 56, .bpp = 1, .colors = 2, .indices = 2, .top_down = 1},
        {.dib = 12, .bpp = 8, .colors = 200, .indices = 200},
        {.dib = 40, .bpp = 4, .colors = 5, .indices = 16},  /* short table: black beyond */
    };
    fs_context *ctx = new_ctx();
    for (size_t k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
        const bmp_spec *sp = &specs[k];
        buf b = make_bmp(PW, PH, sp);
        fs_image im;
        const fs_status st = decode(ctx, &b, &im);
        ck_assert_msg(st == FS_OK, "spec %zu (header %u, %u bits): %s: %s", k, sp->dib, sp->bpp,
                      fs_status_name(st), fs_context_last_error(ctx));
        assert_rgb(&im, PW, PH);
        for (int y = 0; y < PH; y++)
            for (int x = 0; x < PW; x++)
                for (int c = 0; c < 3; c++)
                    ck_assert_msg(px_at(&im, x, y)[c] == bmp_expected(sp, x, y, c),
                                  "spec %zu (%d,%d,%d): %d want %d", k, x, y, c,
                                  px_at(&im, x, y)[c], bmp_expected(sp, x, y, c));
        fs_image_free(&im);
        buf_free(&b);
    }
    fs_context_destroy(ctx);
}
END_TEST

/* What no decoder can read is a format error that says why. */
START_TEST(bmp_bad_masks)
{
    static const uint32_t holes[3] = {0xff0000u, 0x0f0f00u, 0x0000ffu};
    static const uint32_t zero[3] = {0xff0000u, 0, 0x0000ffu};
    static const uint32_t wide[3] = {0x1f0000u, 0x07e0u, 0x001fu}; /* beyond 16 bits */
    const struct {
        bmp_spec sp;
        const char *why;
    } cases[] = {
        {{.dib = 52, .bpp = 32, .masks = holes}, "colour mask"},
        {{.dib = 40, .bpp = 32, .masks = zero}, "colour mask"},
        {{.dib = 56, .bpp = 16, .masks = wide}, "colour mask"},
    };
    fs_context *ctx = new_ctx();
    fs_image im;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const uint32_t ok[3] = {0xff0000u, 0x00ff00u, 0x0000ffu};
        bmp_spec sp = cases[k].sp;
        sp.masks = ok; /* the pixels of a good file, then the bad masks written in */
        buf b = make_bmp(PW, PH, &sp);
        const size_t at = 14 + 40; /* after a V1 header, or inside a larger one */
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 4; i++)
                b.p[at + 4 * (size_t)c + (size_t)i] = (uint8_t)(cases[k].sp.masks[c] >> (8 * i));
        FS_ASSERT_STATUS(decode(ctx, &b, &im), FS_ERR_CORRUPT);
        ck_assert_msg(strstr(fs_context_last_error(ctx), cases[k].why), "%zu: %s", k,
                      fs_context_last_error(ctx));
        buf_free(&b);
    }
    /* bit fields on a palette image; masks after a V1 header that the pixels overlap */
    buf b = make_bmp(PW, PH, &(bmp_spec){.dib = 40, .bpp = 8, .colors = 4, .indices = 4});
    b.p[30] = 3;
    FS_ASSERT_STATUS(decode(ctx, &b, &im), FS_ERR_CORRUPT);
    buf_free(&b);
    static const uint32_t rgb8[3] = {0xff0000u, 0x00ff00u, 0x0000ffu};
    b = make_bmp(PW, PH, &(bmp_spec){.dib = 40, .bpp = 32, .masks = rgb8});
    b.p[10] = 14 + 40 + 4;
    FS_ASSERT_STATUS(decode(ctx, &b, &im), FS_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(fs_context_last_error(ctx), "overlaps"));
    buf_free(&b);
    fs_context_destroy(ctx);
}
END_TEST

static buf make_pnm(int w, int h, int gray, unsigned maxval, const char *comment)
{
    buf b = {0};
    char head[128];
    const int n = snprintf(head, sizeof(head), "P%c\n%s%d %d\n%u\n", gray ? '5' : '6',
                           comment ? comment : "", w, h, maxval);
    put_bytes(&b, head, (size_t)n);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < (gray ? 1 : 3); c++) {
                /* the 8-bit pattern stretched to maxval */
                const unsigned v = (unsigned)(pat(x, y, c) * maxval / 255u);
                if (maxval > 255)
                    put_be16(&b, v);
                else
                    put8(&b, v);
            }
    return b;
}

START_TEST(ppm_variants)
{
    fs_context *ctx = new_ctx();
    fs_image im;
    buf b = make_pnm(PW, PH, 0, 255, "# a comment\n");
    FS_ASSERT_OK(decode(ctx, &b, &im));
    assert_pattern(&im, PW, PH, 0, 0);
    fs_image_free(&im);
    buf_free(&b);
    /* 16-bit samples (maxval 65535): v * 255 / 65535 rounds back exactly. */
    b = make_pnm(PW, PH, 0, 65535, NULL);
    FS_ASSERT_OK(decode(ctx, &b, &im));
    assert_pattern(&im, PW, PH, 0, 0);
    fs_image_free(&im);
    buf_free(&b);
    /* maxval 1000 (16-bit storage) and 100 (8-bit): within rounding */
    b = make_pnm(PW, PH, 0, 1000, NULL);
    FS_ASSERT_OK(decode(ctx, &b, &im));
    assert_pattern(&im, PW, PH, 0, 1);
    fs_image_free(&im);
    buf_free(&b);
    b = make_pnm(PW, PH, 0, 100, NULL);
    FS_ASSERT_OK(decode(ctx, &b, &im));
    assert_pattern(&im, PW, PH, 0, 3);
    fs_image_free(&im);
    buf_free(&b);
    /* P5 (gray) expands to RGB */
    b = make_pnm(PW, PH, 1, 255, NULL);
    FS_ASSERT_OK(decode(ctx, &b, &im));
    assert_pattern(&im, PW, PH, 1, 0);
    fs_image_free(&im);
    buf_free(&b);
    fs_context_destroy(ctx);
}
END_TEST

/* ------------------------------------------------------------------ */
/* JPEG and EXIF orientation                                          */

/* 4 x 2 blocks of 16 x 16, each a distinct flat colour. */
enum { BS = 16, BX = 4, BY = 2, JW = BS * BX, JH = BS * BY };
static const uint8_t block_colors[BY][BX][3] = {
    {{240, 20, 20}, {20, 240, 20}, {20, 20, 240}, {240, 240, 20}},
    {{20, 240, 240}, {240, 20, 240}, {250, 250, 250}, {10, 10, 10}},
};

static buf make_jpeg(void)
{
    static uint8_t px[JH][JW][3];
    for (int y = 0; y < JH; y++)
        for (int x = 0; x < JW; x++)
            memcpy(px[y][x], block_colors[y / BS][x / BS], 3);
    buf b = {0};
    ck_assert(stbi_write_jpg_to_func(mem_write, &b, JW, JH, 3, px, 95));
    return b;
}

/* APP1 Exif with IFD0 = {Make (ASCII), Orientation (SHORT)}. */
static buf make_exif_app1(int big_endian, unsigned orientation, int bad_offset)
{
    buf t = {0};
    void (*p16)(buf *, unsigned) = big_endian ? put_be16 : put_le16;
    void (*p32)(buf *, uint32_t) = big_endian ? put_be32 : put_le32;
    put_bytes(&t, big_endian ? "MM" : "II", 2);
    p16(&t, 42);
    p32(&t, bad_offset ? 0xfffffff0u : 8);
    p16(&t, 2);
    p16(&t, 0x010f); p16(&t, 2); p32(&t, 4); put_bytes(&t, "fs\0\0", 4);
    p16(&t, 0x0112); p16(&t, 3); p32(&t, 1); p16(&t, orientation); p16(&t, 0);
    p32(&t, 0);
    buf seg = {0};
    put_be16(&seg, 0xffe1);
    put_be16(&seg, (unsigned)(2 + 6 + t.n));
    put_bytes(&seg, "Exif\0\0", 6);
    put_bytes(&seg, t.p, t.n);
    buf_free(&t);
    return seg;
}

static buf splice_after_soi(const buf *jpeg, const buf *seg)
{
    buf out = {0};
    put_bytes(&out, jpeg->p, 2);
    put_bytes(&out, seg->p, seg->n);
    put_bytes(&out, jpeg->p + 2, jpeg->n - 2);
    return out;
}

/* The EXIF definitions, written as "mirror left-right first (or not),
 * then turn clockwise by q quarter turns", applied forwards to the grid of
 * block indices: grid[dy][dx] = source block (sx, sy). */
typedef struct block_grid {
    int w, h;
    int sx[4][4], sy[4][4];
} block_grid;

static block_grid expected_grid(int o)
{
    static const struct { int mirror, quarters; } def[9] = {
        {0, 0}, {0, 0}, {1, 0}, {0, 2}, {1, 2}, {1, 3}, {0, 1}, {1, 1}, {0, 3}};
    block_grid g = {.w = BX, .h = BY};
    for (int y = 0; y < BY; y++)
        for (int x = 0; x < BX; x++) {
            g.sx[y][x] = def[o].mirror ? BX - 1 - x : x;
            g.sy[y][x] = y;
        }
    for (int q = 0; q < def[o].quarters; q++) {
        /* clockwise: out[y][x] = in[h-1-x][y], out is h wide and w high */
        block_grid r = {.w = g.h, .h = g.w};
        for (int y = 0; y < r.h; y++)
            for (int x = 0; x < r.w; x++) {
                r.sx[y][x] = g.sx[g.h - 1 - x][y];
                r.sy[y][x] = g.sy[g.h - 1 - x][y];
            }
        g = r;
    }
    return g;
}

START_TEST(exif_orientations)
{
    fs_context *ctx = new_ctx();
    buf jpeg = make_jpeg();
    for (int be = 0; be <= 1; be++) {
        for (int o = 1; o <= 8; o++) {
            buf seg = make_exif_app1(be, (unsigned)o, 0);
            buf file = splice_after_soi(&jpeg, &seg);
            fs_image im;
            FS_ASSERT_OK(decode(ctx, &file, &im));
            const block_grid g = expected_grid(o);
            assert_rgb(&im, g.w * BS, g.h * BS);
            for (int by = 0; by < g.h; by++) {
                for (int bx = 0; bx < g.w; bx++) {
                    const uint8_t *want = block_colors[g.sy[by][bx]][g.sx[by][bx]];
                    /* block centres: far from JPEG's block-edge ringing */
                    const uint8_t *got = px_at(&im, bx * BS + BS / 2, by * BS + BS / 2);
                    for (int c = 0; c < 3; c++)
                        ck_assert_msg(abs(got[c] - want[c]) <= 12,
                                      "orientation %d (%s): block (%d,%d) channel %d: %d want %d",
                                      o, be ? "MM" : "II", bx, by, c, got[c], want[c]);
                }
            }
            fs_image_free(&im);
            buf_free(&file);
            buf_free(&seg);
        }
    }
    /* Invalid orientation values and a broken IFD offset are ignored. */
    for (int k = 0; k < 3; k++) {
        buf seg = make_exif_app1(k == 1, k == 2 ? 6 : (k ? 0 : 9), k == 2);
        buf file = splice_after_soi(&jpeg, &seg);
        fs_image im;
        FS_ASSERT_OK(decode(ctx, &file, &im));
        assert_rgb(&im, JW, JH);
        fs_image_free(&im);
        buf_free(&file);
        buf_free(&seg);
    }
    /* A truncated Exif segment (declared length beyond the TIFF data) is
     * safe: every cut of the segment's payload still decodes or errs. */
    buf seg = make_exif_app1(0, 6, 0);
    for (size_t cut = 4; cut < seg.n; cut++) {
        buf s2 = {0};
        put_bytes(&s2, seg.p, cut);
        s2.p[2] = (uint8_t)((cut - 2) >> 8);
        s2.p[3] = (uint8_t)(cut - 2);
        buf file = splice_after_soi(&jpeg, &s2);
        fs_image im;
        FS_ASSERT_OK(decode(ctx, &file, &im));
        ck_assert(im.width == JW || im.width == JH);
        fs_image_free(&im);
        buf_free(&file);
        buf_free(&s2);
    }
    buf_free(&seg);
    buf_free(&jpeg);
    fs_context_destroy(ctx);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Bad input                                                          */

static int is_error(fs_status st)
{
    return st == FS_ERR_TRUNCATED || st == FS_ERR_CORRUPT || st == FS_ERR_UNSUPPORTED;
}

static buf file_bytes(const char *path)
{
    buf b = {0};
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s missing: run scripts/fetch-data.sh", path);
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        put_bytes(&b, chunk, n);
    fclose(f);
    return b;
}

/* Every way to get the file list used by the truncation / corruption tests. */
static buf sample_file(int k)
{
    uint8_t rows[PH * PW * 3];
    for (int i = 0; i < PH * PW * 3; i++)
        rows[i] = (uint8_t)(i * 7);
    switch (k) {
    case 0: return make_png(PW, PH, 8, 2, rows, PW * 3);
    case 1: return make_jpeg();
    case 2: return make_bmp24(PW, PH, 0);
    case 3: return make_pnm(PW, PH, 0, 255, NULL);
    case 4: return make_pnm(PW, PH, 0, 65535, NULL);
    case 5: return file_bytes(fs_test_data_path("messi5.jpg"));
    default: return file_bytes(fs_test_data_path("noface_12.png"));
    }
}
#define N_SAMPLE_FILES 7

START_TEST(truncated)
{
    fs_context *ctx = new_ctx();
    buf b = sample_file(_i);
    fs_image im;
    FS_ASSERT_OK(decode(ctx, &b, &im));
    fs_image_free(&im);
    const size_t cuts[] = {1, 2, 3, 5, 8, 10, 16, 20, 33, 40, 64, b.n / 4, b.n / 2,
                           b.n - 100, b.n - 10, b.n - 2, b.n - 1};
    for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
        const size_t n = cuts[k];
        if (n == 0 || n >= b.n)
            continue;
        memset(&im, 0x5a, sizeof(im));
        const fs_status st = fs_image_read_memory(ctx, b.p, n, &im);
        ck_assert_msg(st == FS_ERR_TRUNCATED || st == FS_ERR_CORRUPT,
                      "file %d cut at %zu of %zu: %s (%s)", _i, n, b.n, fs_status_name(st),
                      fs_context_last_error(ctx));
        ck_assert_msg(strlen(fs_context_last_error(ctx)) > 0, "no error detail");
        /* out untouched on failure */
        ck_assert_int_eq(im.width, 0x5a5a5a5a);
    }
    /* Losing the very last byte (JPEG EOI, PNG IEND, the last pixel) is
     * reported as truncation, not silently decoded. */
    FS_ASSERT_STATUS(fs_image_read_memory(ctx, b.p, b.n - 1, &im), FS_ERR_TRUNCATED);
    buf_free(&b);
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(corrupt)
{
    fs_context *ctx = new_ctx();
    fs_image im;
    /* random bytes: no known signature */
    uint8_t junk[4096];
    unsigned seed = 7;
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < sizeof(junk); i++) {
            seed = seed * 1664525u + 1013904223u;
            junk[i] = (uint8_t)(seed >> 24);
        }
        if (junk[0] == 0xff || junk[0] == 0x89 || junk[0] == 'B' || junk[0] == 'P')
            junk[0] = 0;
        FS_ASSERT_STATUS(fs_image_read_memory(ctx, junk, sizeof(junk), &im), FS_ERR_UNSUPPORTED);
    }
    FS_ASSERT_STATUS(fs_image_read_memory(ctx, "GIF89a....", 10, &im), FS_ERR_UNSUPPORTED);
    FS_ASSERT_STATUS(fs_image_read_memory(ctx, "P3\n1 1\n255\n0 0 0\n", 17, &im), FS_ERR_UNSUPPORTED);
    /* a valid signature followed by noise */
    for (int k = 0; k < 4; k++) {
        static const char *const sigs[] = {"\xff\xd8\xff", "\x89PNG\r\n\x1a\n", "BM", "P6 "};
        const size_t sl = strlen(sigs[k]);
        for (int round = 0; round < 20; round++) {
            for (size_t i = 0; i < sizeof(junk); i++) {
                seed = seed * 1664525u + 1013904223u;
                junk[i] = (uint8_t)(seed >> 24);
            }
            memcpy(junk, sigs[k], sl);
            const fs_status st = fs_image_read_memory(ctx, junk, sizeof(junk), &im);
            ck_assert_msg(is_error(st) || st == FS_ERR_TOO_LARGE, "signature %d + noise: %s", k,
                          fs_status_name(st));
        }
    }
    /* every byte of each sample file's first 100 flipped, one at a time:
     * PNG is covered by CRCs, so it must fail; the others may decode */
    for (int f = 0; f < N_SAMPLE_FILES; f++) {
        buf b = sample_file(f);
        for (size_t i = 0; i < 100 && i < b.n; i++) {
            b.p[i] ^= 0xff;
            const fs_status st = decode(ctx, &b, &im);
            if (st == FS_OK) {
                ck_assert_msg(f != 0 && f != 6, "PNG with byte %zu flipped decoded", i);
                ck_assert(im.width > 0 && im.height > 0);
                fs_image_free(&im);
            } else {
                ck_assert_msg(is_error(st) || st == FS_ERR_TOO_LARGE, "file %d byte %zu: %s", f,
                              i, fs_status_name(st));
            }
            b.p[i] ^= 0xff;
        }
        /* and noise over the tail half */
        for (size_t i = b.n / 2; i < b.n; i++) {
            seed = seed * 1664525u + 1013904223u;
            b.p[i] ^= (uint8_t)(seed >> 24);
        }
        const fs_status st = decode(ctx, &b, &im);
        if (st == FS_OK)
            fs_image_free(&im);
        else
            ck_assert(is_error(st));
        buf_free(&b);
    }
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(zero_sized)
{
    fs_context *ctx = new_ctx();
    fs_image im;
    FS_ASSERT_STATUS(fs_image_read_memory(ctx, "P6 0 0 255\n", 11, &im), FS_ERR_CORRUPT);
    FS_ASSERT_STATUS(fs_image_read_memory(ctx, "P6\n5 0\n255\n", 11, &im), FS_ERR_CORRUPT);
    uint8_t row[4] = {0};
    buf png = make_png(0, 1, 8, 2, row, 0);
    FS_ASSERT_STATUS(decode(ctx, &png, &im), FS_ERR_CORRUPT);
    buf_free(&png);
    buf bmp = make_bmp24(0, 3, 0);
    FS_ASSERT_STATUS(decode(ctx, &bmp, &im), FS_ERR_CORRUPT);
    buf_free(&bmp);
    /* JPEG frame header saying 0 lines */
    buf j = make_jpeg();
    for (size_t i = 2; i + 9 < j.n; i++) {
        if (j.p[i] == 0xff && j.p[i + 1] == 0xc0) {
            j.p[i + 5] = 0;
            j.p[i + 6] = 0;
            break;
        }
    }
    FS_ASSERT_STATUS(decode(ctx, &j, &im), FS_ERR_CORRUPT);
    buf_free(&j);
    fs_context_destroy(ctx);
}
END_TEST

/* Valid files of kinds stb cannot decode are unsupported, not corrupt. */
START_TEST(unsupported_variants)
{
    fs_context *ctx = new_ctx();
    fs_image im;
    for (int k = 0; k < 2; k++) {
        buf j = make_jpeg();
        for (size_t i = 2; i + 9 < j.n; i++) {
            if (j.p[i] == 0xff && j.p[i + 1] == 0xc0) {
                if (k == 0)
                    j.p[i + 1] = 0xc9; /* arithmetic coding */
                else
                    j.p[i + 4] = 12; /* 12-bit samples */
                break;
            }
        }
        FS_ASSERT_STATUS(decode(ctx, &j, &im), FS_ERR_UNSUPPORTED);
        buf_free(&j);
    }
    buf b = make_bmp24(PW, PH, 0);
    b.p[30] = 1; /* BI_RLE8 */
    FS_ASSERT_STATUS(decode(ctx, &b, &im), FS_ERR_UNSUPPORTED);
    b.p[30] = 0;
    b.p[14] = 20; /* an info header size that does not exist */
    FS_ASSERT_STATUS(decode(ctx, &b, &im), FS_ERR_UNSUPPORTED);
    buf_free(&b);
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(too_large)
{
    fs_context *ctx = new_ctx();
    fs_image im;
    /* A header claiming 10^10 pixels with no data: refused for its size,
     * before any allocation. */
    const char *const big = "P6\n100000 100000\n255\n\x01\x02\x03";
    FS_ASSERT_STATUS(fs_image_read_memory(ctx, big, strlen(big), &im), FS_ERR_TOO_LARGE);
    ck_assert_ptr_nonnull(strstr(fs_context_last_error(ctx), "100000x100000"));
    uint8_t row[3] = {0};
    buf png = make_png(100000, 100000, 8, 2, row, 0); /* IDAT empty: never read */
    FS_ASSERT_STATUS(decode(ctx, &png, &im), FS_ERR_TOO_LARGE);
    buf_free(&png);
    buf j = make_jpeg();
    for (size_t i = 2; i + 9 < j.n; i++) {
        if (j.p[i] == 0xff && j.p[i + 1] == 0xc0) {
            j.p[i + 5] = j.p[i + 7] = 0xea; /* 60000 x 60000 */
            j.p[i + 6] = j.p[i + 8] = 0x60;
            break;
        }
    }
    FS_ASSERT_STATUS(decode(ctx, &j, &im), FS_ERR_TOO_LARGE);
    buf_free(&j);
    /* A real image over a small pixel limit, and just at it. */
    const char *const astro = fs_test_data_path("astronaut.png");
    FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_MAX_PIXELS, 512 * 512 - 1));
    FS_ASSERT_STATUS(fs_image_read_file(ctx, astro, &im), FS_ERR_TOO_LARGE);
    ck_assert_ptr_nonnull(strstr(fs_context_last_error(ctx), "astronaut.png"));
    FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_MAX_PIXELS, 512 * 512));
    FS_ASSERT_OK(fs_image_read_file(ctx, astro, &im));
    fs_image_free(&im);
    /* A file above the byte limit (sparse: no disk used) is not read. */
    const char *const huge = fs_test_tmp_path("huge.png");
    const int fd = open(huge, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)600 << 20), 0);
    close(fd);
    FS_ASSERT_STATUS(fs_image_read_file(ctx, huge, &im), FS_ERR_TOO_LARGE);
    unlink(huge);
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(files_and_arguments)
{
    fs_context *ctx = new_ctx();
    fs_image im;
    memset(&im, 0x33, sizeof(im));
    FS_ASSERT_STATUS(fs_image_read_file(ctx, "/nonexistent/dir/x.png", &im), FS_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(fs_context_last_error(ctx), "/nonexistent/dir/x.png"));
    ck_assert_int_eq(im.width, 0x33333333);
    FS_ASSERT_STATUS(fs_image_read_file(ctx, fs_test_data_path("no-such-file.jpg"), &im), FS_ERR_NOT_FOUND);
    FS_ASSERT_STATUS(fs_image_read_file(ctx, "/tmp", &im), FS_ERR_IO);
    const char *const empty = fs_test_tmp_path("empty.jpg");
    FILE *f = fopen(empty, "wb");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    FS_ASSERT_STATUS(fs_image_read_file(ctx, empty, &im), FS_ERR_TRUNCATED);
    ck_assert_ptr_nonnull(strstr(fs_context_last_error(ctx), "empty"));
    unlink(empty);
    FS_ASSERT_STATUS(fs_image_read_memory(ctx, "", 0, &im), FS_ERR_TRUNCATED);
    FS_ASSERT_STATUS(fs_image_read_memory(ctx, NULL, 0, &im), FS_ERR_TRUNCATED);
    /* NULL arguments */
    FS_ASSERT_STATUS(fs_image_read_file(NULL, "x.png", &im), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_image_read_file(ctx, NULL, &im), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_image_read_file(ctx, "x.png", NULL), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_image_read_memory(NULL, "P6", 2, &im), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_image_read_memory(ctx, NULL, 10, &im), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_image_read_memory(ctx, "P6", 2, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(im.width, 0x33333333);
    fs_image_free(NULL);
    fs_image zero = {0};
    fs_image_free(&zero);
    /* signature prefixes are truncations, not unknown formats */
    FS_ASSERT_STATUS(fs_image_read_memory(ctx, "\xff", 1, &im), FS_ERR_TRUNCATED);
    FS_ASSERT_STATUS(fs_image_read_memory(ctx, "\x89PN", 3, &im), FS_ERR_TRUNCATED);
    FS_ASSERT_STATUS(fs_image_read_memory(ctx, "P6", 2, &im), FS_ERR_TRUNCATED);
    ck_assert_int_eq(fs_pixel_format_channels(FS_PIXEL_RGB8), 3);
    ck_assert_int_eq(fs_pixel_format_channels(FS_PIXEL_BGRA8), 4);
    ck_assert_int_eq(fs_pixel_format_channels(FS_PIXEL_GRAY8), 1);
    ck_assert_int_eq(fs_pixel_format_channels((fs_pixel_format)0), 0);
    ck_assert_int_eq(fs_pixel_format_channels((fs_pixel_format)77), 0);
    fs_context_destroy(ctx);
}
END_TEST

#if FAIL_ALLOC
/*
 * The one leak allowed: libjpeg-turbo 2.1's tjInitDecompress and
 * tjInitCompress leak their memory manager (one block) when the
 * allocation after it fails (their error path frees the handle but does
 * not destroy the libjpeg object). It shows for JPEG only, at one failing
 * allocation of the sweep, as out of memory starting the coder, and as one
 * block: anything else is a leak of ours.
 */
static int tj_init_leak(int jpeg, fs_status st, const char *detail, int leaky_budgets)
{
    return jpeg && st == FS_ERR_OUT_OF_MEMORY && alloc_live == 1 && leaky_budgets == 1 &&
           strstr(detail, "starting the JPEG") != NULL;
}

/* Every allocation of a decode or an encode failing in turn: the call
 * reports FS_ERR_OUT_OF_MEMORY (or copes), never crashes, never leaks. */
START_TEST(out_of_memory)
{
    fs_context *ctx = new_ctx();
    uint8_t rows[PH * PW * 6];
    for (size_t i = 0; i < sizeof(rows); i++)
        rows[i] = (uint8_t)(i * 13);
    buf jpeg = make_jpeg(), seg = make_exif_app1(0, 6, 0);
    buf inputs[5];
    inputs[0] = make_png(PW, PH, 8, 2, rows, PW * 3);
    inputs[1] = make_png(PW, PH, 16, 2, rows, PW * 6);
    inputs[2] = splice_after_soi(&jpeg, &seg);
    inputs[3] = make_pnm(PW, PH, 0, 65535, NULL);
    inputs[4] = make_bmp24(PW, PH, 1);
    buf_free(&jpeg);
    buf_free(&seg);
    for (int k = 0; k < 5; k++) {
        int done = 0, failures = 0, leaky = 0;
        for (long budget = 0; budget < 500 && !done; budget++) {
            fs_image im;
            alloc_budget = budget;
            alloc_live = 0;
            alloc_failed = 0;
            alloc_armed = 1;
            const fs_status st = decode(ctx, &inputs[k], &im);
            if (st == FS_OK)
                fs_image_free(&im);
            alloc_armed = 0;
            ck_assert_msg(st == FS_OK || st == FS_ERR_OUT_OF_MEMORY,
                          "input %d, allocation %ld failing: %s (%s)", k, budget, fs_status_name(st), fs_context_last_error(ctx));
            leaky += alloc_live != 0;
            ck_assert_msg(alloc_live == 0 || tj_init_leak(k == 2, st, fs_context_last_error(ctx), leaky),
                          "input %d, allocation %ld failing: %ld blocks leaked", k, budget, (long)alloc_live);
            failures += st != FS_OK;
            done = alloc_failed == 0; /* every allocation was granted */
        }
        ck_assert_msg(done && failures > 0, "input %d: injection never completed", k);
    }
    uint8_t px[20 * 10 * 4];
    for (size_t i = 0; i < sizeof(px); i++)
        px[i] = (uint8_t)(i * 7);
    const fs_image im = {.width = 20, .height = 10, .stride = 80, .format = FS_PIXEL_BGRA8,
                         .memory = FS_MEMORY_HOST, .data = px};
    static const char *const names[] = {"oom.png", "oom.jpg", "oom.bmp", "oom.ppm"};
    for (int k = 0; k < 4; k++) {
        const char *const path = fs_test_tmp_path(names[k]);
        int done = 0, leaky = 0;
        for (long budget = 0; budget < 500 && !done; budget++) {
            unlink(path);
            alloc_budget = budget;
            alloc_live = 0;
            alloc_failed = 0;
            alloc_armed = 1;
            const fs_status st = fs_image_write_file(ctx, &im, path);
            alloc_armed = 0;
            ck_assert_msg(st == FS_OK || st == FS_ERR_OUT_OF_MEMORY, "%s, allocation %ld failing: %s",
                          names[k], budget, fs_status_name(st));
            leaky += alloc_live != 0;
            ck_assert_msg(alloc_live == 0 || tj_init_leak(k == 1, st, fs_context_last_error(ctx), leaky),
                          "%s, allocation %ld failing: %ld blocks leaked", names[k], budget, (long)alloc_live);
            /* the file exists exactly when the call succeeded */
            ck_assert_int_eq(fs_test_file_exists(path), st == FS_OK);
            done = alloc_failed == 0;
        }
        ck_assert(done);
        unlink(path);
    }
    for (int k = 0; k < 5; k++)
        buf_free(&inputs[k]);
    fs_context_destroy(ctx);
}
END_TEST
#endif

/* ------------------------------------------------------------------ */
/* Writing                                                            */

static int count_leftovers(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && strstr(e->d_name, ".tmp-"))
            n++;
    closedir(d);
    return n;
}

START_TEST(write_round_trip)
{
    fs_context *ctx = new_ctx();
    static const int formats[] = {FS_PIXEL_RGB8, FS_PIXEL_RGBA8, FS_PIXEL_BGR8, FS_PIXEL_BGRA8, FS_PIXEL_GRAY8};
    static const char *const exts[] = {"png", "ppm", "bmp", "jpg", "JPEG"};
    enum { W = 40, H = 24, PAD = 9 };
    for (size_t f = 0; f < 5; f++) {
        const int nc = fs_pixel_format_channels((fs_pixel_format)formats[f]);
        const int stride = W * nc + PAD;
        uint8_t *const px = malloc((size_t)stride * H);
        ck_assert_ptr_nonnull(px);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                /* smooth content, so JPEG stays close */
                const uint8_t r = (uint8_t)(x * 5 + 20), g = (uint8_t)(y * 8 + 10), b = (uint8_t)(200 - x * 2 - y);
                uint8_t *p = px + y * stride + x * nc;
                switch (formats[f]) {
                case FS_PIXEL_RGB8: p[0] = r; p[1] = g; p[2] = b; break;
                case FS_PIXEL_RGBA8: p[0] = r; p[1] = g; p[2] = b; p[3] = 255; break;
                case FS_PIXEL_BGR8: p[0] = b; p[1] = g; p[2] = r; break;
                case FS_PIXEL_BGRA8: p[0] = b; p[1] = g; p[2] = r; p[3] = 255; break;
                default: p[0] = r; break;
                }
            }
        const fs_image im = {.width = W, .height = H, .stride = stride, .format = formats[f],
                             .memory = FS_MEMORY_HOST, .data = px};
        for (size_t e = 0; e < 5; e++) {
            char tag[32];
            snprintf(tag, sizeof(tag), "rt%zu.%s", f, exts[e]);
            const char *const path = fs_test_tmp_path(tag);
            FS_ASSERT_OK(fs_image_write_file(ctx, &im, path));
            fs_image back;
            FS_ASSERT_OK(fs_image_read_file(ctx, path, &back));
            assert_rgb(&back, W, H);
            const int tol = e >= 3 ? 12 : 0;
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    const uint8_t r = (uint8_t)(x * 5 + 20), g = (uint8_t)(y * 8 + 10), b = (uint8_t)(200 - x * 2 - y);
                    const uint8_t *want3 = formats[f] == FS_PIXEL_GRAY8 ? (const uint8_t[]){r, r, r}
                                                                        : (const uint8_t[]){r, g, b};
                    for (int c = 0; c < 3; c++)
                        ck_assert_msg(abs(px_at(&back, x, y)[c] - want3[c]) <= tol,
                                      "format %d .%s (%d,%d,%d): %d want %d", formats[f], exts[e],
                                      x, y, c, px_at(&back, x, y)[c], want3[c]);
                }
            fs_image_free(&back);
            unlink(path);
        }
        free(px);
    }
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(write_errors)
{
    fs_context *ctx = new_ctx();
    uint8_t px[4 * 4 * 4] = {0};
    fs_image im = {.width = 4, .height = 4, .stride = 12, .format = FS_PIXEL_RGB8,
                   .memory = FS_MEMORY_HOST, .data = px};
    const char *const ok = fs_test_tmp_path("w.png");
    FS_ASSERT_STATUS(fs_image_write_file(NULL, &im, ok), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_image_write_file(ctx, NULL, ok), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_image_write_file(ctx, &im, NULL), FS_ERR_INVALID_ARGUMENT);
    fs_image bad = im;
    bad.stride = 11;
    FS_ASSERT_STATUS(fs_image_write_file(ctx, &bad, ok), FS_ERR_INVALID_ARGUMENT);
    bad = im;
    bad.format = FS_PIXEL_RGBA8; /* 4 x 4 bytes per row > stride 12 */
    FS_ASSERT_STATUS(fs_image_write_file(ctx, &bad, ok), FS_ERR_INVALID_ARGUMENT);
    bad = im;
    bad.format = 42;
    FS_ASSERT_STATUS(fs_image_write_file(ctx, &bad, ok), FS_ERR_UNSUPPORTED);
    bad = im;
    bad.width = 0;
    FS_ASSERT_STATUS(fs_image_write_file(ctx, &bad, ok), FS_ERR_INVALID_ARGUMENT);
    bad = im;
    bad.data = NULL;
    FS_ASSERT_STATUS(fs_image_write_file(ctx, &bad, ok), FS_ERR_INVALID_ARGUMENT);
    bad = im;
    bad.memory = FS_MEMORY_DEVICE;
    FS_ASSERT_STATUS(fs_image_write_file(ctx, &bad, ok), FS_ERR_UNSUPPORTED);
    FS_ASSERT_STATUS(fs_image_write_file(ctx, &im, fs_test_tmp_path("w.gif")), FS_ERR_UNSUPPORTED);
    FS_ASSERT_STATUS(fs_image_write_file(ctx, &im, fs_test_tmp_path("noext")), FS_ERR_UNSUPPORTED);
    ck_assert(!fs_test_file_exists(ok));
    /* A folder that does not exist: an error, and no file anywhere. */
    const char *const dir = fs_test_tmp_path("nodir");
    char path[4200];
    snprintf(path, sizeof(path), "%s/out.png", dir);
    FS_ASSERT_STATUS(fs_image_write_file(ctx, &im, path), FS_ERR_IO);
    ck_assert_ptr_nonnull(strstr(fs_context_last_error(ctx), "out.png"));
    ck_assert(!fs_test_file_exists(path));
    ck_assert(!fs_test_file_exists(dir));
    /* The target is a folder: rename fails, the temporary file is removed. */
    const char *const tdir = fs_test_tmp_path("target.png");
    ck_assert_int_eq(mkdir(tdir, 0755), 0);
    FS_ASSERT_STATUS(fs_image_write_file(ctx, &im, tdir), FS_ERR_IO);
    char base[256];
    snprintf(base, sizeof(base), "fs_test_%ld_target.png", (long)getpid());
    const char *const tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    ck_assert_int_eq(count_leftovers(tmpdir, base), 0);
    rmdir(tdir);
    /* Overwriting an existing file replaces it whole. */
    FS_ASSERT_OK(fs_image_write_file(ctx, &im, ok));
    px[0] = 200;
    FS_ASSERT_OK(fs_image_write_file(ctx, &im, ok));
    fs_image back;
    FS_ASSERT_OK(fs_image_read_file(ctx, ok, &back));
    ck_assert_int_eq(((uint8_t *)back.data)[0], 200);
    fs_image_free(&back);
    snprintf(base, sizeof(base), "fs_test_%ld_w.png", (long)getpid());
    ck_assert_int_eq(count_leftovers(tmpdir, base), 0);
    unlink(ok);
    fs_context_destroy(ctx);
}
END_TEST

/* ------------------------------------------------------------------ */
/* JPEG through libjpeg-turbo, fast PNG                                */

/* The first frame header's (H, V) sampling factors of component @p c. */
static int jpeg_sampling(const buf *j, int c)
{
    for (size_t i = 2; i + 10 + 3 * (size_t)c < j->n; i++)
        if (j->p[i] == 0xff && j->p[i + 1] >= 0xc0 && j->p[i + 1] <= 0xc2)
            return j->p[i + 11 + 3 * (size_t)c];
    return -1;
}

/* A photo written and read back: PNG gives the same bytes, JPEG (quality
 * 92, 4:2:0 chroma) the same size and close pixels. */
START_TEST(photo_round_trip)
{
    fs_context *ctx = new_ctx();
    fs_image src;
    fs_test_load_image(ctx, "faceapi_sample3.jpg", &src);
    static const char *const names[] = {"photo.png", "photo.jpg"};
    for (int k = 0; k < 2; k++) {
        const char *const path = fs_test_tmp_path(names[k]);
        FS_ASSERT_OK(fs_image_write_file(ctx, &src, path));
        fs_image back;
        FS_ASSERT_OK(fs_image_read_file(ctx, path, &back));
        assert_rgb(&back, src.width, src.height);
        const jpeg_diff d = image_diff(&back, &src);
        printf("%s %dx%d: mean |diff| %.3f, max %d\n", names[k], src.width, src.height, d.mean, d.max);
        if (k == 0) {
            ck_assert_int_eq(d.max, 0);
        } else {
            /* measured 0.76 (max 36, at sharp colour edges: 4:2:0) on this photo */
            ck_assert_msg(d.mean < 1.0, "JPEG round trip: mean |diff| %.3f", d.mean);
            buf j = file_bytes(path);
            ck_assert_int_eq(jpeg_sampling(&j, 0), 0x22); /* luma 2x2: chroma at half size both ways */
            ck_assert_int_eq(jpeg_sampling(&j, 1), 0x11);
            buf_free(&j);
        }
        fs_image_free(&back);
        unlink(path);
    }
    /* Gray stays one component. */
    uint8_t gray[64 * 48];
    for (int i = 0; i < 64 * 48; i++)
        gray[i] = (uint8_t)(i % 64 * 3 + i / 64);
    const fs_image g = {.width = 64, .height = 48, .stride = 64, .format = FS_PIXEL_GRAY8,
                        .memory = FS_MEMORY_HOST, .data = gray};
    const char *const gpath = fs_test_tmp_path("gray.jpg");
    FS_ASSERT_OK(fs_image_write_file(ctx, &g, gpath));
    buf j = file_bytes(gpath);
    for (size_t i = 2; i + 9 < j.n; i++)
        if (j.p[i] == 0xff && j.p[i + 1] == 0xc0) {
            ck_assert_int_eq(j.p[i + 9], 1); /* components */
            break;
        }
    buf_free(&j);
    unlink(gpath);
    fs_image_free(&src);
    fs_context_destroy(ctx);
}
END_TEST

/* Offset of the first scan's entropy-coded data. */
static size_t jpeg_scan_start(const buf *j)
{
    for (size_t i = 2; i + 4 < j->n; i++)
        if (j->p[i] == 0xff && j->p[i + 1] == 0xda)
            return i + 2 + (((size_t)j->p[i + 2] << 8) | j->p[i + 3]);
    ck_abort_msg("no SOS marker");
    return 0;
}

static void assert_jpeg_error(fs_context *ctx, const buf *b, fs_status want, const char *what)
{
    fs_image im;
    memset(&im, 0x5a, sizeof(im));
    const fs_status st = decode(ctx, b, &im);
    const char *const msg = fs_context_last_error(ctx);
    ck_assert_msg(st == want, "%s: %s (%s), want %s", what, fs_status_name(st), msg, fs_status_name(want));
    ck_assert_msg(strstr(msg, "JPEG") != NULL && strstr(msg, "png") == NULL, "%s: message \"%s\"", what, msg);
    ck_assert_int_eq(im.width, 0x5a5a5a5a);
}

/* Data the prober cannot judge (it walks markers, not Huffman codes): the
 * decoder's complaints are format errors with libjpeg's own words. */
START_TEST(jpeg_bad_data)
{
    fs_context *ctx = new_ctx();
    buf ok = sample_file(5); /* messi5.jpg */
    const size_t scan = jpeg_scan_start(&ok);
    /* Scan data replaced by a byte pattern that is no valid Huffman stream. */
    buf b = {0};
    put_bytes(&b, ok.p, ok.n);
    for (size_t i = scan; i + 2 < b.n; i++)
        b.p[i] = (uint8_t)(i & 1 ? 0xfe : 0x00);
    assert_jpeg_error(ctx, &b, FS_ERR_CORRUPT, "garbage scan");
    buf_free(&b);
    /* Frame headers disagreeing with the data of a 64x32 image: 65535x1
     * (above libjpeg's 65500, refused from the header), 4000x1 and 64x64
     * (the data runs out before the frame is full). */
    static const unsigned dims[3][2] = {{65535, 1}, {4000, 1}, {64, 64}};
    for (int k = 0; k < 3; k++) {
        b = make_jpeg();
        for (size_t i = 2; i + 9 < b.n; i++)
            if (b.p[i] == 0xff && b.p[i + 1] == 0xc0) {
                b.p[i + 5] = (uint8_t)(dims[k][1] >> 8);
                b.p[i + 6] = (uint8_t)dims[k][1];
                b.p[i + 7] = (uint8_t)(dims[k][0] >> 8);
                b.p[i + 8] = (uint8_t)dims[k][0];
                break;
            }
        assert_jpeg_error(ctx, &b, FS_ERR_CORRUPT, "frame header over 64x32 data");
        buf_free(&b);
    }
    /* Cut in the middle of the scan, the EOI marker put back: the prober
     * sees a whole file, the decoder runs out of data. */
    const size_t cut = scan + (ok.n - scan) / 2;
    put_bytes(&b, ok.p, cut);
    put_bytes(&b, "\xff\xd9", 2);
    assert_jpeg_error(ctx, &b, FS_ERR_CORRUPT, "scan cut, EOI kept");
    buf_free(&b);
    /* Cut without its EOI: refused by the prober before any decoding. */
    put_bytes(&b, ok.p, cut);
    assert_jpeg_error(ctx, &b, FS_ERR_TRUNCATED, "scan cut");
    buf_free(&b);
    /* Junk between the last scan and EOI (seen in the wild) leaves every
     * pixel whole: decoded, the same pixels as without it. */
    put_bytes(&b, ok.p, ok.n - 2);
    put_bytes(&b, "junk", 4);
    put_bytes(&b, "\xff\xd9", 2);
    fs_image a, c;
    FS_ASSERT_OK(decode(ctx, &ok, &a));
    FS_ASSERT_OK(decode(ctx, &b, &c));
    ck_assert_int_eq(image_diff(&a, &c).max, 0);
    fs_image_free(&a);
    fs_image_free(&c);
    buf_free(&b);
    buf_free(&ok);
    fs_context_destroy(ctx);
}
END_TEST

/* An Adobe CMYK JPEG (inverted inks, as Photoshop writes them) decodes to
 * RGB = ink * black / 255, as stb did. */
START_TEST(jpeg_cmyk)
{
    enum { W = 32, H = 16 };
    uint8_t cmyk[W * H * 4];
    for (int i = 0; i < W * H; i++) {
        cmyk[i * 4 + 0] = 200;
        cmyk[i * 4 + 1] = 100;
        cmyk[i * 4 + 2] = 50;
        cmyk[i * 4 + 3] = i % W < W / 2 ? 255 : 128;
    }
    tjhandle tj = tjInitCompress();
    ck_assert_ptr_nonnull(tj);
    unsigned char *jpg = NULL;
    unsigned long size = 0;
    ck_assert_int_eq(tjCompress2(tj, cmyk, W, 0, H, TJPF_CMYK, &jpg, &size, TJSAMP_444, 100, TJFLAG_ACCURATEDCT), 0);
    tjDestroy(tj);
    fs_context *ctx = new_ctx();
    fs_image im;
    FS_ASSERT_OK(fs_image_read_memory(ctx, jpg, size, &im));
    tjFree(jpg);
    assert_rgb(&im, W, H);
    static const uint8_t want[2][3] = {{200, 100, 50}, {100, 50, 25}}; /* k = 255, k = 128 */
    for (int half = 0; half < 2; half++) {
        const uint8_t *const got = px_at(&im, half * W / 2 + W / 4, H / 2);
        for (int c = 0; c < 3; c++)
            ck_assert_msg(abs(got[c] - want[half][c]) <= 3, "half %d channel %d: %d want %d", half, c, got[c],
                          want[half][c]);
    }
    fs_image_free(&im);
    fs_context_destroy(ctx);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Drawing                                                            */

START_TEST(drawing)
{
    enum { W = 30, H = 20 };
    uint8_t px[H][W][3];
    memset(px, 0, sizeof(px));
    fs_image im = {.width = W, .height = H, .stride = W * 3, .format = FS_PIXEL_RGB8,
                   .memory = FS_MEMORY_HOST, .data = px};
    const fs_rgb red = {255, 0, 0}, green = {0, 255, 0}, blue = {0, 0, 255};
    /* horizontal line from x=2 to x=10 on row 5: exactly those 9 pixels */
    ck_assert_int_eq(fs_draw_line(&im, 2, 5, 10, 5, 1, red), 0);
    int n = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            if (px[y][x][0] == 255) {
                ck_assert(y == 5 && x >= 2 && x <= 10);
                n++;
            }
    ck_assert_int_eq(n, 9);
    /* diagonal: one pixel per column */
    memset(px, 0, sizeof(px));
    fs_draw_line(&im, 0, 0, 9, 9, 1, green);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(px[i][i][1], 255);
    ck_assert_int_eq(px[0][1][1], 0);
    /* filled circle radius 3 at (15, 10): centre and the 4 axis points at
     * distance 3 are in, the corners of its box are out */
    memset(px, 0, sizeof(px));
    fs_draw_circle(&im, 15, 10, 3, blue);
    ck_assert(px[10][15][2] == 255 && px[7][15][2] == 255 && px[13][15][2] == 255 &&
              px[10][12][2] == 255 && px[10][18][2] == 255);
    ck_assert(px[7][12][2] == 0 && px[13][18][2] == 0 && px[10][19][2] == 0);
    /* rectangle outline, thickness 1: border in, inside out */
    memset(px, 0, sizeof(px));
    fs_draw_rect(&im, 3, 4, 12, 9, 1, red);
    ck_assert(px[4][3][0] == 255 && px[9][12][0] == 255 && px[4][12][0] == 255 && px[9][3][0] == 255);
    ck_assert(px[6][7][0] == 0 && px[3][3][0] == 0 && px[4][13][0] == 0);
    memset(px, 0, sizeof(px));
    fs_draw_rect(&im, 3, 2, 15, 17, 3, red); /* thick: inwards */
    ck_assert(px[8][3][0] == 255 && px[8][5][0] == 255 && px[8][6][0] == 0 && px[8][2][0] == 0);
    ck_assert(px[4][8][0] == 255 && px[5][8][0] == 0 && px[15][8][0] == 255 && px[14][8][0] == 0);
    fs_draw_fill_rect(&im, 20, 15, 22, 16, green);
    ck_assert(px[15][20][1] == 255 && px[16][22][1] == 255 && px[14][20][1] == 0 && px[16][23][1] == 0);
    /* clipping, huge and NaN coordinates: no crash, no hang, no stray write */
    memset(px, 0, sizeof(px));
    fs_draw_line(&im, -1e12, -1e12, 1e12, 1e12, 3, red);
    fs_draw_line(&im, NAN, 0, 5, 5, 1, red);
    fs_draw_line(&im, -50, 3, -10, 3, 2, red);
    fs_draw_circle(&im, INFINITY, 3, 2, red);
    fs_draw_circle(&im, 5, 5, NAN, red);
    fs_draw_circle(&im, -100, -100, 5, red);
    fs_draw_rect(&im, NAN, 0, 5, 5, 1, red);
    fs_draw_fill_rect(&im, -1e300, -1e300, 1e300, 1e300, green);
    ck_assert(px[0][0][1] == 255 && px[H - 1][W - 1][1] == 255);
    /* other formats: gray gets the luma, BGRA gets reordered and opaque */
    uint8_t g[4] = {0};
    fs_image gi = {.width = 2, .height = 2, .stride = 2, .format = FS_PIXEL_GRAY8, .data = g};
    fs_draw_fill_rect(&gi, 0, 0, 1, 1, (fs_rgb){255, 255, 255});
    ck_assert_int_eq(g[3], 255);
    uint8_t bgra[4] = {0};
    fs_image bi = {.width = 1, .height = 1, .stride = 4, .format = FS_PIXEL_BGRA8, .data = bgra};
    fs_draw_circle(&bi, 0, 0, 0.2, (fs_rgb){10, 20, 30});
    ck_assert(bgra[0] == 30 && bgra[1] == 20 && bgra[2] == 10 && bgra[3] == 255);
    /* not drawable */
    ck_assert_int_eq(fs_draw_line(NULL, 0, 0, 1, 1, 1, red), -1);
    fs_image dev = im;
    dev.memory = FS_MEMORY_DEVICE;
    ck_assert_int_eq(fs_draw_circle(&dev, 1, 1, 1, red), -1);
    fs_image narrow = im;
    narrow.stride = 10;
    ck_assert_int_eq(fs_draw_rect(&narrow, 1, 1, 2, 2, 1, red), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, testdata_decodes, 0, (int)(sizeof(testdata) / sizeof(testdata[0])));
    tcase_add_test(tc, png_variants);
    tcase_add_test(tc, bmp_variants);
    tcase_add_test(tc, bmp_headers_and_masks);
    tcase_add_test(tc, bmp_bad_masks);
    tcase_add_test(tc, ppm_variants);
    tcase_add_test(tc, exif_orientations);
    tcase_add_loop_test(tc, truncated, 0, N_SAMPLE_FILES);
    tcase_add_test(tc, corrupt);
    tcase_add_test(tc, zero_sized);
    tcase_add_test(tc, unsupported_variants);
    tcase_add_test(tc, too_large);
    tcase_add_test(tc, files_and_arguments);
#if FAIL_ALLOC
    tcase_add_test(tc, out_of_memory);
#endif
    tcase_add_test(tc, write_round_trip);
    tcase_add_test(tc, write_errors);
    tcase_add_test(tc, photo_round_trip);
    tcase_add_test(tc, jpeg_bad_data);
    tcase_add_test(tc, jpeg_cmyk);
    tcase_add_test(tc, drawing);
    suite_add_tcase(s, tc);
    return fs_test_run_suite(s);
}
