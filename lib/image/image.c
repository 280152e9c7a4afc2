/*
 * Image files in and out: JPEG (EXIF orientation applied), PNG, BMP and
 * binary PPM/PGM, decoded to packed RGB8.
 *
 * Every input is untrusted. Before a decoder sees a byte, the container is
 * walked here: the format is recognised by its signature (stb is never
 * asked to guess, as it would take random bytes for a TGA), the dimensions
 * are read and checked against the context's pixel limit, and the
 * structure is checked to the end (JPEG up to EOI, PNG up to IEND with
 * CRCs, BMP pixel array size), because decoders quietly decode truncated
 * files with grey or zero tails. Then libjpeg-turbo (TurboJPEG) decodes
 * what passed as JPEG, stb the PNG and BMP files, and PPM is read here.
 */
#include "image/write.h"
#include "internal.h"
#include "atomic_file.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_image.h>
#include <stb_image_write.h>
#include <turbojpeg.h>
#include <zlib.h>

/* Largest file accepted, in bytes (also keeps sizes inside stb's int). */
#define MAX_FILE_BYTES ((size_t)512 << 20)
#define JPEG_QUALITY 92
/* Chroma at half size both ways (4:2:0, as cameras write it; stb wrote
 * 4:4:4 at this quality) and the accurate integer DCT (TurboJPEG's default
 * below quality 96 is the fast one, 0.2 dB worse for no measurable time).
 * doc/swap.md has the measurements behind both. */
#define JPEG_SUBSAMP TJSAMP_420
#define JPEG_DCT_FLAG TJFLAG_ACCURATEDCT

int fs_pixel_format_channels(fs_pixel_format format)
{
    switch (format) {
    case FS_PIXEL_RGB8:
    case FS_PIXEL_BGR8:
        return 3;
    case FS_PIXEL_RGBA8:
    case FS_PIXEL_BGRA8:
        return 4;
    case FS_PIXEL_GRAY8:
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Container checks                                                   */

typedef enum file_kind {
    KIND_UNKNOWN = 0,
    KIND_JPEG,
    KIND_PNG,
    KIND_BMP,
    KIND_PNM /* P6 (RGB) or P5 (gray) */
} file_kind;

typedef struct probe_info {
    file_kind kind;
    const char *kind_name;
    int have_dims;
    uint32_t width, height;
    int png_16bit;
    int orientation;          /* JPEG EXIF, 1..8 */
    int pnm_channels;         /* 3 for P6, 1 for P5 */
    unsigned pnm_maxval;
    size_t pnm_data_offset;
    struct {                  /* what decode_bmp needs, checked by probe_bmp */
        size_t offset;        /* of the pixel array */
        unsigned bpp;
        int top_down;
        uint32_t mask[3];     /* R, G, B in a pixel's little-endian value (bpp >= 16) */
        size_t palette;       /* bpp <= 8: offset of the colour table ... */
        unsigned colors;      /* ... its entries (1..256) ... */
        unsigned entry;       /* ... and their size, 3 (OS/2 header) or 4 bytes */
    } bmp;
} probe_info;

/* What a probe reports besides the status: the detail of its error. */
typedef struct probe_error {
    char text[160];
} probe_error;

static fs_status probe_fail(probe_error *e, fs_status st, const char *what)
{
    snprintf(e->text, sizeof(e->text), "%s", what);
    return st;
}

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static unsigned be16(const uint8_t *p)
{
    return ((unsigned)p[0] << 8) | p[1];
}

static uint32_t le32(const uint8_t *p)
{
    return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

static unsigned le16(const uint8_t *p)
{
    return ((unsigned)p[1] << 8) | p[0];
}

static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

/* Recognises the format; a file shorter than its signature is truncated. */
static file_kind sniff(const uint8_t *d, size_t n, int *is_prefix)
{
    static const struct {
        const uint8_t *sig;
        size_t len;
        file_kind kind;
    } sigs[] = {
        {(const uint8_t *)"\xff\xd8\xff", 3, KIND_JPEG},
        {png_signature, 8, KIND_PNG},
        {(const uint8_t *)"BM", 2, KIND_BMP},
        {(const uint8_t *)"P6", 2, KIND_PNM},
        {(const uint8_t *)"P5", 2, KIND_PNM},
    };
    *is_prefix = 0;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        if (n >= sigs[i].len && memcmp(d, sigs[i].sig, sigs[i].len) == 0)
            return sigs[i].kind;
        if (n < sigs[i].len && memcmp(d, sigs[i].sig, n) == 0)
            *is_prefix = 1;
    }
    return KIND_UNKNOWN;
}

/* EXIF orientation from the TIFF structure of an APP1 "Exif" payload;
 * 0 when absent or malformed (every offset is checked against len). */
static int exif_orientation(const uint8_t *t, size_t len)
{
    if (len < 8)
        return 0;
    int little;
    if (t[0] == 'I' && t[1] == 'I')
        little = 1;
    else if (t[0] == 'M' && t[1] == 'M')
        little = 0;
    else
        return 0;
#define RD16(p) (little ? le16(p) : be16(p))
#define RD32(p) (little ? le32(p) : be32(p))
    if (RD16(t + 2) != 42)
        return 0;
    const uint32_t ifd = RD32(t + 4);
    if (ifd > len || len - ifd < 2)
        return 0;
    const unsigned count = RD16(t + ifd);
    for (unsigned i = 0; i < count; i++) {
        const size_t e = (size_t)ifd + 2 + (size_t)i * 12;
        if (e + 12 > len)
            break;
        if (RD16(t + e) != 0x0112)
            continue;
        const unsigned type = RD16(t + e + 2);
        const uint32_t n = RD32(t + e + 4);
        uint32_t v = 0;
        if (type == 3 && n >= 1) /* SHORT, stored left-justified in the value field */
            v = RD16(t + e + 8);
        else if (type == 4 && n >= 1) /* LONG: rare but seen */
            v = RD32(t + e + 8);
        return v >= 1 && v <= 8 ? (int)v : 0;
    }
    return 0;
#undef RD16
#undef RD32
}

static int is_sof(unsigned m)
{
    return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

/* Walks JPEG markers from SOI to EOI, through the entropy-coded data of
 * every scan. Finds the frame size and the EXIF orientation on the way. */
static fs_status probe_jpeg(const uint8_t *d, size_t n, probe_info *pi, probe_error *e)
{
    size_t pos = 2;
    int seen_sos = 0;
    pi->orientation = 1;
    int have_exif = 0;
    for (;;) {
        /* Tolerate stray bytes between segments (libjpeg warns and goes on). */
        while (pos < n && d[pos] != 0xff)
            pos++;
        while (pos < n && d[pos] == 0xff)
            pos++; /* fill bytes */
        if (pos >= n)
            return probe_fail(e, FS_ERR_TRUNCATED, "JPEG ends before its EOI marker");
        const unsigned m = d[pos++];
        if (m == 0xd9) {
            if (!pi->have_dims || !seen_sos)
                return probe_fail(e, FS_ERR_CORRUPT, "JPEG has no frame or no scan before EOI");
            return FS_OK;
        }
        if (m == 0xd8)
            return probe_fail(e, FS_ERR_CORRUPT, "JPEG has a second SOI marker");
        if ((m >= 0xd0 && m <= 0xd7) || m == 0x01)
            continue; /* standalone markers */
        if (n - pos < 2)
            return probe_fail(e, FS_ERR_TRUNCATED, "JPEG cut inside a segment header");
        const size_t len = be16(d + pos);
        if (len < 2)
            return probe_fail(e, FS_ERR_CORRUPT, "JPEG segment length below 2");
        if (n - pos < len)
            return probe_fail(e, FS_ERR_TRUNCATED, "JPEG cut inside a segment");
        const uint8_t *seg = d + pos + 2;
        const size_t seg_len = len - 2;
        if (is_sof(m) && !pi->have_dims) {
            if (seg_len < 6)
                return probe_fail(e, FS_ERR_CORRUPT, "JPEG frame header too short");
            pi->height = be16(seg + 1);
            pi->width = be16(seg + 3);
            pi->have_dims = 1;
            /* stb decodes 8-bit baseline, extended and progressive Huffman
             * JPEGs; not lossless, hierarchical or arithmetic-coded ones. */
            if (m > 0xc2)
                return probe_fail(e, FS_ERR_UNSUPPORTED,
                                  "lossless, hierarchical or arithmetic-coded JPEG");
            if (seg[0] != 8)
                return probe_fail(e, FS_ERR_UNSUPPORTED, "JPEG with samples other than 8 bits");
        } else if (m == 0xe1 && !have_exif && seg_len >= 6 && memcmp(seg, "Exif\0\0", 6) == 0) {
            have_exif = 1;
            const int o = exif_orientation(seg + 6, seg_len - 6);
            if (o)
                pi->orientation = o;
        }
        pos += len;
        if (m == 0xda) {
            if (!pi->have_dims)
                return probe_fail(e, FS_ERR_CORRUPT, "JPEG scan before its frame header");
            seen_sos = 1;
            /* Entropy-coded data: runs until a marker other than a stuffed
             * 0xFF00 or a restart marker. */
            for (;;) {
                if (pos >= n)
                    return probe_fail(e, FS_ERR_TRUNCATED, "JPEG cut inside scan data");
                const uint8_t *ff = memchr(d + pos, 0xff, n - pos);
                if (!ff || (size_t)(ff - d) + 1 >= n)
                    return probe_fail(e, FS_ERR_TRUNCATED, "JPEG cut inside scan data");
                const size_t at = (size_t)(ff - d);
                const uint8_t next = d[at + 1];
                if (next == 0x00 || (next >= 0xd0 && next <= 0xd7)) {
                    pos = at + 2;
                } else if (next == 0xff) {
                    pos = at + 1;
                } else {
                    pos = at;
                    break;
                }
            }
        }
    }
}

/* Reads IHDR, then every chunk up to IEND checking lengths and CRCs (as
 * pngjs, the reference's decoder, does; stb skips CRCs). */
static fs_status probe_png(const uint8_t *d, size_t n, probe_info *pi, probe_error *e)
{
    if (n < 8 + 8 + 13 + 4)
        return probe_fail(e, FS_ERR_TRUNCATED, "PNG cut inside its IHDR chunk");
    if (be32(d + 8) != 13 || memcmp(d + 12, "IHDR", 4) != 0)
        return probe_fail(e, FS_ERR_CORRUPT, "PNG does not start with a 13-byte IHDR chunk");
    const uint8_t *ih = d + 16;
    pi->width = be32(ih);
    pi->height = be32(ih + 4);
    pi->have_dims = 1;
    if (pi->width > 0x7fffffffu || pi->height > 0x7fffffffu)
        return probe_fail(e, FS_ERR_CORRUPT, "PNG dimension above 2^31-1");
    const unsigned depth = ih[8], color = ih[9];
    const int depth_ok = (color == 0 && (depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16)) ||
                         (color == 3 && (depth == 1 || depth == 2 || depth == 4 || depth == 8)) ||
                         ((color == 2 || color == 4 || color == 6) && (depth == 8 || depth == 16));
    if (!depth_ok)
        return probe_fail(e, FS_ERR_CORRUPT, "PNG has an invalid bit depth / colour type pair");
    if (ih[10] != 0 || ih[11] != 0 || ih[12] > 1)
        return probe_fail(e, FS_ERR_CORRUPT, "PNG has an invalid compression, filter or interlace method");
    pi->png_16bit = depth == 16;

    size_t pos = 8;
    int have_idat = 0;
    for (;;) {
        if (n - pos < 12)
            return probe_fail(e, FS_ERR_TRUNCATED, "PNG ends before its IEND chunk");
        const uint32_t len = be32(d + pos);
        if (len > 0x7fffffffu)
            return probe_fail(e, FS_ERR_CORRUPT, "PNG chunk length above 2^31-1");
        if (n - pos - 12 < len)
            return probe_fail(e, FS_ERR_TRUNCATED, "PNG cut inside a chunk");
        const uint8_t *type = d + pos + 4;
        const uint32_t crc = (uint32_t)crc32_z(0, type, 4 + (size_t)len);
        if (crc != be32(type + 4 + len))
            return probe_fail(e, FS_ERR_CORRUPT, "PNG chunk CRC mismatch");
        if (memcmp(type, "IDAT", 4) == 0)
            have_idat = 1;
        pos += 12 + (size_t)len;
        if (memcmp(type, "IEND", 4) == 0)
            break;
    }
    if (!have_idat)
        return probe_fail(e, FS_ERR_CORRUPT, "PNG has no IDAT chunk");
    return FS_OK;
}

/* A colour mask must be one run of set bits inside the pixel. */
static int bmp_mask_ok(uint32_t m, unsigned bpp)
{
    if (m == 0 || (bpp < 32 && (m >> bpp) != 0))
        return 0;
    const uint32_t low = m & (~m + 1u); /* lowest set bit */
    const uint32_t run = m + low;       /* carries through the run: 0 or one bit above it */
    return (run & m) == 0 && (run & (run - 1u)) == 0;
}

/*
 * BMP file and info headers (OS/2 core, V1 to V5), colour masks and colour
 * table, and the pixel array, which must be all there. What passes here is
 * what decode_bmp decodes: uncompressed or BI_BITFIELDS, 1 to 32 bits.
 */
static fs_status probe_bmp(const uint8_t *d, size_t n, probe_info *pi, probe_error *e)
{
    if (n < 18)
        return probe_fail(e, FS_ERR_TRUNCATED, "BMP cut inside its headers");
    const uint32_t offset = le32(d + 10);
    const uint32_t dib = le32(d + 14);
    uint32_t bpp, compression = 0, colors_used = 0;
    int64_t w, h;
    if (dib == 12) {
        if (n < 14 + 12)
            return probe_fail(e, FS_ERR_TRUNCATED, "BMP cut inside its headers");
        w = le16(d + 18);
        h = le16(d + 20);
        bpp = le16(d + 24);
    } else if (dib == 40 || dib == 52 || dib == 56 || dib == 108 || dib == 124) {
        if (n < 14 + (size_t)dib)
            return probe_fail(e, FS_ERR_TRUNCATED, "BMP cut inside its headers");
        w = (int32_t)le32(d + 18);
        h = (int32_t)le32(d + 22);
        bpp = le16(d + 28);
        compression = le32(d + 30);
        colors_used = le32(d + 46);
    } else {
        return probe_fail(e, FS_ERR_UNSUPPORTED, "BMP info header of an unsupported size");
    }
    pi->bmp.top_down = h < 0;
    if (h < 0)
        h = -h; /* top-down rows */
    if (w < 0)
        return probe_fail(e, FS_ERR_CORRUPT, "BMP has a negative width");
    pi->width = (uint32_t)w;
    pi->height = (uint32_t)h;
    pi->have_dims = 1;
    if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32)
        return probe_fail(e, FS_ERR_CORRUPT, "BMP has an invalid bit count");
    if (compression != 0 && compression != 3)
        return probe_fail(e, FS_ERR_UNSUPPORTED, "BMP is compressed (RLE, JPEG or PNG inside) or has alpha bit fields");
    if (compression == 3 && bpp < 16)
        return probe_fail(e, FS_ERR_CORRUPT, "BMP has bit fields on a palette image");
    size_t end = 14 + (size_t)dib; /* of the headers, masks and colour table */
    pi->bmp.bpp = bpp;
    if (compression == 3) {
        /* V1 headers keep the masks after them, V2 and later inside */
        const size_t at = dib == 40 ? end : 14 + 40;
        if (dib == 40)
            end += 12;
        if (n < end)
            return probe_fail(e, FS_ERR_TRUNCATED, "BMP cut inside its colour masks");
        for (int c = 0; c < 3; c++) {
            pi->bmp.mask[c] = le32(d + at + 4 * (size_t)c);
            if (!bmp_mask_ok(pi->bmp.mask[c], bpp))
                return probe_fail(e, FS_ERR_CORRUPT, "BMP colour mask is not one run of bits inside the pixel");
        }
    } else if (bpp == 16) {
        pi->bmp.mask[0] = 0x7c00u; /* 5-5-5 */
        pi->bmp.mask[1] = 0x03e0u;
        pi->bmp.mask[2] = 0x001fu;
    } else if (bpp >= 24) {
        pi->bmp.mask[0] = 0xff0000u; /* B, G, R bytes; a 32-bit pixel's top byte unused */
        pi->bmp.mask[1] = 0x00ff00u;
        pi->bmp.mask[2] = 0x0000ffu;
    }
    if (offset < end)
        return probe_fail(e, FS_ERR_CORRUPT, "BMP pixel data overlaps its headers");
    if (bpp <= 8) {
        /* A colour table shorter than 2^bpp (or than it says) is read as far
         * as it goes before the pixels; indices beyond it are black. */
        const unsigned entry = dib == 12 ? 3u : 4u;
        const size_t room = ((size_t)offset - end) / entry;
        size_t colors = colors_used && colors_used < (1u << bpp) ? colors_used : 1u << bpp;
        colors = colors < room ? colors : room;
        if (colors == 0)
            return probe_fail(e, FS_ERR_CORRUPT, "BMP has no colour table");
        pi->bmp.palette = end;
        pi->bmp.colors = (unsigned)colors;
        pi->bmp.entry = entry;
    }
    pi->bmp.offset = offset;
    /* Rows are padded to 4 bytes; 64-bit arithmetic cannot overflow for
     * dimensions below 2^31. */
    const uint64_t row = (((uint64_t)w * bpp + 31) / 32) * 4;
    const uint64_t need = (uint64_t)offset + row * (uint64_t)h;
    if (need > n)
        return probe_fail(e, FS_ERR_TRUNCATED, "BMP pixel data cut short");
    return FS_OK;
}

static int pnm_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* One header number: skips whitespace and '#' comments first. */
static fs_status pnm_number(const uint8_t *d, size_t n, size_t *pos, uint32_t *out, probe_error *e)
{
    size_t p = *pos;
    for (;;) {
        if (p >= n)
            return probe_fail(e, FS_ERR_TRUNCATED, "PPM header cut short");
        if (pnm_space(d[p])) {
            p++;
        } else if (d[p] == '#') {
            while (p < n && d[p] != '\n' && d[p] != '\r')
                p++;
        } else {
            break;
        }
    }
    if (d[p] < '0' || d[p] > '9')
        return probe_fail(e, FS_ERR_CORRUPT, "PPM header has a non-numeric field");
    uint64_t v = 0;
    while (p < n && d[p] >= '0' && d[p] <= '9') {
        v = v * 10 + (uint64_t)(d[p] - '0');
        if (v > 0x7fffffffu)
            return probe_fail(e, FS_ERR_CORRUPT, "PPM header number above 2^31-1");
        p++;
    }
    if (p >= n)
        return probe_fail(e, FS_ERR_TRUNCATED, "PPM header cut short");
    *out = (uint32_t)v;
    *pos = p;
    return FS_OK;
}

static fs_status probe_pnm(const uint8_t *d, size_t n, probe_info *pi, probe_error *e)
{
    pi->pnm_channels = d[1] == '6' ? 3 : 1;
    size_t pos = 2;
    if (pos >= n)
        return probe_fail(e, FS_ERR_TRUNCATED, "PPM header cut short");
    if (!pnm_space(d[pos]) && d[pos] != '#')
        return probe_fail(e, FS_ERR_UNSUPPORTED, "not a binary PPM (P6) or PGM (P5)");
    uint32_t w, h, maxval;
    fs_status st;
    if ((st = pnm_number(d, n, &pos, &w, e)) != FS_OK ||
        (st = pnm_number(d, n, &pos, &h, e)) != FS_OK)
        return st;
    pi->width = w;
    pi->height = h;
    pi->have_dims = 1;
    if ((st = pnm_number(d, n, &pos, &maxval, e)) != FS_OK)
        return st;
    if (maxval == 0 || maxval > 65535)
        return probe_fail(e, FS_ERR_CORRUPT, "PPM maxval outside 1..65535");
    /* Exactly one whitespace byte separates the header from the samples. */
    if (!pnm_space(d[pos]))
        return probe_fail(e, FS_ERR_CORRUPT, "PPM header not followed by whitespace");
    pos++;
    pi->pnm_maxval = maxval;
    pi->pnm_data_offset = pos;
    const uint64_t bytes = (uint64_t)w * h * (uint64_t)pi->pnm_channels * (maxval > 255 ? 2u : 1u);
    if (bytes > n - pos)
        return probe_fail(e, FS_ERR_TRUNCATED, "PPM pixel data cut short");
    return FS_OK;
}

/* ------------------------------------------------------------------ */
/* Decoding                                                           */

/* Applies an EXIF orientation: out(x, y) = in(source(x, y)). */
static uint8_t *orient(const uint8_t *src, int w, int h, int o, int *ow, int *oh)
{
    const int swap = o >= 5;
    const int dw = swap ? h : w, dh = swap ? w : h;
    uint8_t *const dst = malloc((size_t)dw * (size_t)dh * 3);
    if (!dst)
        return NULL;
    /* 64x64 tiles keep the transposing orientations cache-friendly. */
    enum { TILE = 64 };
    for (int ty = 0; ty < dh; ty += TILE) {
        for (int tx = 0; tx < dw; tx += TILE) {
            const int ye = ty + TILE < dh ? ty + TILE : dh;
            const int xe = tx + TILE < dw ? tx + TILE : dw;
            for (int y = ty; y < ye; y++) {
                for (int x = tx; x < xe; x++) {
                    int sx, sy;
                    switch (o) {
                    case 2: sx = w - 1 - x; sy = y; break;
                    case 3: sx = w - 1 - x; sy = h - 1 - y; break;
                    case 4: sx = x; sy = h - 1 - y; break;
                    case 5: sx = y; sy = x; break;
                    case 6: sx = y; sy = h - 1 - x; break;
                    case 7: sx = w - 1 - y; sy = h - 1 - x; break;
                    case 8: sx = w - 1 - y; sy = x; break;
                    default: sx = x; sy = y; break;
                    }
                    const uint8_t *s = src + ((size_t)sy * (size_t)w + (size_t)sx) * 3;
                    uint8_t *t = dst + ((size_t)y * (size_t)dw + (size_t)x) * 3;
                    t[0] = s[0];
                    t[1] = s[1];
                    t[2] = s[2];
                }
            }
        }
    }
    *ow = dw;
    *oh = dh;
    return dst;
}

static fs_status stb_failure(fs_context *ctx, const char *name, const char *kind)
{
    const char *why = stbi_failure_reason();
    /* stb sees only PNG and JPEG, whose type tests check no more than the
     * signature we checked: not knowing the type means its JPEG test, which
     * allocates, could not. Every other failure is the file's. */
    if (why && (strcmp(why, "outofmem") == 0 || strcmp(why, "unknown image type") == 0))
        return fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_MEMORY, "%s: out of memory decoding the %s", name, kind);
    return fs_fail(fs_context_err(ctx), FS_ERR_CORRUPT, "%s: corrupt %s (decoder: %s)", name, kind, why ? why : "no reason given");
}

/* Whether a libjpeg warning leaves the pixels whole. Only junk between the
 * last scan and EOI does: every pixel is decoded before libjpeg reads that
 * marker, and TurboJPEG keeps the first warning's text, so nothing worse
 * can hide behind it. That case is common in the wild (some cameras and
 * editors pad the end); every other warning means missing or misread
 * entropy-coded data (a grey or garbage tail), which is refused. */
static int jpeg_warning_harmless(const char *msg)
{
    return strstr(msg, "extraneous bytes before marker 0xd9") != NULL;
}

/* @p why: tjGetErrorStr2's text, read once (it clears the handle's own). */
static fs_status jpeg_failure(fs_context *ctx, const char *name, const char *why)
{
    /* libjpeg's own allocation failure (JERR_OUT_OF_MEMORY); any other
     * failure is the file's fault. */
    if (strstr(why, "Insufficient memory") || strstr(why, "Memory allocation failure"))
        return fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_MEMORY, "%s: out of memory decoding the JPEG (%s)",
                       name, why);
    return fs_fail(fs_context_err(ctx), FS_ERR_CORRUPT, "%s: corrupt JPEG (%s)", name, why);
}

/* Adobe CMYK and YCCK JPEGs store inverted inks (255 = none); as stb did,
 * each colour is scaled by the black channel: c * k / 255, rounded. */
static void cmyk_to_rgb(uint8_t *px, size_t npx)
{
    for (size_t i = 0; i < npx; i++) {
        const unsigned k = px[i * 4 + 3];
        for (int c = 0; c < 3; c++) {
            const unsigned t = px[i * 4 + (size_t)c] * k + 128;
            px[i * 3 + (size_t)c] = (uint8_t)((t + (t >> 8)) >> 8);
        }
    }
}

/* libjpeg-turbo through TurboJPEG, on a file probe_jpeg accepted: the
 * pixel count is already within the limit, and the decoder must agree
 * with the prober on the size before anything is allocated. */
static fs_status decode_jpeg(fs_context *ctx, const char *name, const uint8_t *d, size_t n,
                             const probe_info *pi, uint8_t **out)
{
    tjhandle const tj = tjInitDecompress();
    if (!tj)
        return fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_MEMORY, "%s: out of memory starting the JPEG decoder",
                       name);
    int w = 0, h = 0, subsamp = -1, cs = -1;
    /* TurboJPEG 2.1 fails this call for sampling factors it has no name for
     * (and on warnings) after reading the header; libjpeg decodes those, so
     * only a header that gave no size or colour space is refused here. */
    if (tjDecompressHeader3(tj, d, (unsigned long)n, &w, &h, &subsamp, &cs) != 0 && (w <= 0 || h <= 0 || cs < 0)) {
        const fs_status st = jpeg_failure(ctx, name, tjGetErrorStr2(tj));
        tjDestroy(tj);
        return st;
    }
    if ((uint32_t)w != pi->width || (uint32_t)h != pi->height) {
        tjDestroy(tj);
        return fs_fail(fs_context_err(ctx), FS_ERR_CORRUPT, "%s: JPEG decoder reads %dx%d, frame header says %ux%u",
                       name, w, h, pi->width, pi->height);
    }
    const int cmyk = cs == TJCS_CMYK || cs == TJCS_YCCK;
    const size_t npx = (size_t)w * (size_t)h;
    uint8_t *px = malloc(npx * (cmyk ? 4 : 3));
    if (!px) {
        tjDestroy(tj);
        return fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_MEMORY, "%s: out of memory for %dx%d pixels", name, w, h);
    }
    /* Accurate integer IDCT (TurboJPEG's default) and fancy upsampling;
     * LIMITSCANS refuses progressive files of more than 500 scans, whose
     * decode time grows without bound. */
    if (tjDecompress2(tj, d, (unsigned long)n, px, w, 0, h, cmyk ? TJPF_CMYK : TJPF_RGB, TJFLAG_LIMITSCANS) != 0) {
        const int warning = tjGetErrorCode(tj) == TJERR_WARNING;
        const char *const why = tjGetErrorStr2(tj);
        if (!warning || !jpeg_warning_harmless(why)) {
            const fs_status st = jpeg_failure(ctx, name, why);
            free(px);
            tjDestroy(tj);
            return st;
        }
    }
    tjDestroy(tj);
    if (cmyk) {
        cmyk_to_rgb(px, npx);
        uint8_t *const packed = realloc(px, npx * 3);
        if (packed)
            px = packed; /* a failed shrink keeps the larger block */
    }
    *out = px;
    return FS_OK;
}

static fs_status decode_pnm(fs_context *ctx, const char *name, const uint8_t *d,
                            const probe_info *pi, uint8_t **out)
{
    const size_t npx = (size_t)pi->width * pi->height;
    uint8_t *const px = malloc(npx * 3);
    if (!px)
        return fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_MEMORY, "%s: out of memory for %ux%u pixels",
                       name, pi->width, pi->height);
    const uint8_t *s = d + pi->pnm_data_offset;
    const unsigned maxval = pi->pnm_maxval;
    const int wide = maxval > 255;
    const int nc = pi->pnm_channels;
    for (size_t i = 0; i < npx; i++) {
        for (int c = 0; c < 3; c++) {
            const size_t k = i * (size_t)nc + (size_t)(nc == 3 ? c : 0);
            unsigned v = wide ? be16(s + 2 * k) : s[k];
            if (v > maxval)
                v = maxval; /* out-of-range samples saturate */
            /* Rescale to 8 bits rounding to nearest, as pngjs does for PNG. */
            px[i * 3 + (size_t)c] = maxval == 255 ? (uint8_t)v : (uint8_t)((v * 255u + maxval / 2) / maxval);
        }
    }
    *out = px;
    return FS_OK;
}

/* The BMP probe_bmp checked, to RGB8: palette or masked pixels, rows
 * bottom-up unless the header's height was negative. */
static fs_status decode_bmp(fs_context *ctx, const char *name, const uint8_t *d,
                            const probe_info *pi, uint8_t **out)
{
    const size_t w = pi->width, h = pi->height;
    uint8_t *const px = malloc(w * h * 3);
    if (!px)
        return fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_MEMORY, "%s: out of memory for %ux%u pixels",
                       name, pi->width, pi->height);
    const unsigned bpp = pi->bmp.bpp;
    const size_t row = ((w * bpp + 31) / 32) * 4;
    unsigned shift[3] = {0, 0, 0};
    uint32_t top[3] = {0, 0, 0}; /* a channel's largest value, after the shift */
    for (int c = 0; c < 3 && bpp >= 16; c++) {
        uint32_t m = pi->bmp.mask[c];
        while (!(m & 1u)) {
            m >>= 1;
            shift[c]++;
        }
        top[c] = m;
    }
    for (size_t y = 0; y < h; y++) {
        const uint8_t *s = d + pi->bmp.offset + (pi->bmp.top_down ? y : h - 1 - y) * row;
        uint8_t *t = px + y * w * 3;
        for (size_t x = 0; x < w; x++, t += 3) {
            if (bpp <= 8) {
                /* leftmost pixel in the high bits */
                const size_t bit = x * bpp;
                const unsigned i = (s[bit / 8] >> (8 - bpp - bit % 8)) & ((1u << bpp) - 1u);
                const uint8_t *p = d + pi->bmp.palette + (size_t)i * pi->bmp.entry;
                const int known = i < pi->bmp.colors;
                t[0] = known ? p[2] : 0; /* B G R (reserved) */
                t[1] = known ? p[1] : 0;
                t[2] = known ? p[0] : 0;
                continue;
            }
            const uint8_t *p = s + x * (bpp / 8);
            uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8;
            if (bpp >= 24)
                v |= (uint32_t)p[2] << 16;
            if (bpp == 32)
                v |= (uint32_t)p[3] << 24;
            for (int c = 0; c < 3; c++) {
                const uint32_t k = (v >> shift[c]) & top[c];
                /* to 0..255, rounding to nearest, as decode_pnm does */
                t[c] = top[c] == 255u ? (uint8_t)k
                                      : (uint8_t)(((uint64_t)k * 255u + top[c] / 2) / top[c]);
            }
        }
    }
    *out = px;
    return FS_OK;
}

/* 16-bit PNG: stb would keep the high byte; the reference (pngjs) rounds
 * v * 255 / 65535, which is what the harness's pixels are. */
static fs_status decode_png16(fs_context *ctx, const char *name, const uint8_t *d, size_t n,
                              int *w, int *h, uint8_t **out)
{
    int comp = 0;
    stbi_us *const s = stbi_load_16_from_memory(d, (int)n, w, h, &comp, 3);
    if (!s)
        return stb_failure(ctx, name, "PNG");
    const size_t count = (size_t)*w * (size_t)*h * 3;
    uint8_t *const px = malloc(count);
    if (!px) {
        stbi_image_free(s);
        return fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
    }
    for (size_t i = 0; i < count; i++)
        px[i] = (uint8_t)(((uint32_t)s[i] * 255u + 32767u) / 65535u);
    stbi_image_free(s);
    *out = px;
    return FS_OK;
}

static fs_status decode_memory(fs_context *ctx, const char *name, const uint8_t *d, size_t n,
                               fs_image *out)
{
    if (n == 0)
        return fs_fail(fs_context_err(ctx), FS_ERR_TRUNCATED, "%s: empty", name);
    if (n > MAX_FILE_BYTES)
        return fs_fail(fs_context_err(ctx), FS_ERR_TOO_LARGE, "%s: %zu bytes, above the %zu-byte limit",
                       name, n, MAX_FILE_BYTES);
    int prefix = 0;
    probe_info pi = {0};
    pi.kind = sniff(d, n, &prefix);
    if (pi.kind == KIND_UNKNOWN) {
        if (prefix)
            return fs_fail(fs_context_err(ctx), FS_ERR_TRUNCATED, "%s: cut inside its signature", name);
        return fs_fail(fs_context_err(ctx), FS_ERR_UNSUPPORTED,
                       "%s: not a JPEG, PNG, BMP or binary PPM file", name);
    }
    static const char *const kind_names[] = {"image", "JPEG", "PNG", "BMP", "PPM"};
    const char *const kind = kind_names[pi.kind];

    probe_error pe = {{0}};
    fs_status st;
    switch (pi.kind) {
    case KIND_JPEG: st = probe_jpeg(d, n, &pi, &pe); break;
    case KIND_PNG: st = probe_png(d, n, &pi, &pe); break;
    case KIND_BMP: st = probe_bmp(d, n, &pi, &pe); break;
    default: st = probe_pnm(d, n, &pi, &pe); break;
    }
    /* Size verdicts first: a header claiming a huge image is refused as
     * such, whatever follows it. */
    if (pi.have_dims) {
        if (pi.width == 0 || pi.height == 0)
            return fs_fail(fs_context_err(ctx), FS_ERR_CORRUPT, "%s: %s of %ux%u pixels", name, kind,
                           pi.width, pi.height);
        const uint64_t pixels = (uint64_t)pi.width * pi.height;
        const int64_t limit = ctx->params[FS_CONTEXT_MAX_PIXELS];
        if (pixels > (uint64_t)limit)
            return fs_fail(fs_context_err(ctx), FS_ERR_TOO_LARGE,
                           "%s: %ux%u pixels, above the limit of %lld (FS_CONTEXT_MAX_PIXELS)",
                           name, pi.width, pi.height, (long long)limit);
        if (pi.width > (1u << 24) || pi.height > (1u << 24))
            return fs_fail(fs_context_err(ctx), FS_ERR_TOO_LARGE, "%s: %ux%u pixels, a side above 2^24",
                           name, pi.width, pi.height);
    }
    if (st != FS_OK)
        return fs_fail(fs_context_err(ctx), st, "%s: %s", name, pe.text);

    int w = (int)pi.width, h = (int)pi.height;
    uint8_t *px = NULL;
    /* An application that also uses stb may have asked it to flip images
     * process-wide; this thread's setting overrides that. */
    stbi_set_flip_vertically_on_load_thread(0);
    if (pi.kind == KIND_PNM || pi.kind == KIND_BMP) {
        st = pi.kind == KIND_PNM ? decode_pnm(ctx, name, d, &pi, &px) : decode_bmp(ctx, name, d, &pi, &px);
        if (st != FS_OK)
            return st;
    } else if (pi.kind == KIND_JPEG) {
        st = decode_jpeg(ctx, name, d, n, &pi, &px);
        if (st != FS_OK)
            return st;
    } else if (pi.kind == KIND_PNG && pi.png_16bit) {
        st = decode_png16(ctx, name, d, n, &w, &h, &px);
        if (st != FS_OK)
            return st;
    } else {
        int comp = 0;
        stbi_uc *const s = stbi_load_from_memory(d, (int)n, &w, &h, &comp, 3);
        if (!s)
            return stb_failure(ctx, name, kind);
        if ((uint32_t)w != pi.width || (uint32_t)h != pi.height) {
            stbi_image_free(s);
            return fs_fail(fs_context_err(ctx), FS_ERR_CORRUPT, "%s: decoded %dx%d, header says %ux%u",
                           name, w, h, pi.width, pi.height);
        }
        /* stb allocates with its own allocator: copy so that fs_image_free()
         * has one owner to release. */
        const size_t bytes = (size_t)w * (size_t)h * 3;
        px = malloc(bytes);
        if (px)
            memcpy(px, s, bytes);
        stbi_image_free(s);
        if (!px)
            return fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
    }
    if ((uint32_t)w != pi.width || (uint32_t)h != pi.height) {
        free(px);
        return fs_fail(fs_context_err(ctx), FS_ERR_CORRUPT, "%s: decoded %dx%d, header says %ux%u", name,
                       w, h, pi.width, pi.height);
    }
    if (pi.kind == KIND_JPEG && pi.orientation > 1) {
        int ow, oh;
        uint8_t *const turned = orient(px, w, h, pi.orientation, &ow, &oh);
        free(px);
        if (!turned)
            return fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
        px = turned;
        w = ow;
        h = oh;
    }
    memset(out, 0, sizeof(*out));
    out->width = w;
    out->height = h;
    out->stride = w * 3;
    out->format = FS_PIXEL_RGB8;
    out->memory = FS_MEMORY_HOST;
    out->data = px;
    return FS_OK;
}

fs_status fs_image_read_memory(fs_context *ctx, const void *data, size_t size, fs_image *out)
{
    if (!ctx)
        return FS_ERR_INVALID_ARGUMENT;
    if (!out)
        return fs_fail(fs_context_err(ctx), FS_ERR_INVALID_ARGUMENT, "fs_image_read_memory: out is NULL");
    if (!data && size > 0)
        return fs_fail(fs_context_err(ctx), FS_ERR_INVALID_ARGUMENT, "fs_image_read_memory: data is NULL");
    return decode_memory(ctx, "<memory>", data, size, out);
}

/* Reads a whole file (regular or not) up to the size limit. */
static fs_status read_whole(fs_context *ctx, const char *path, uint8_t **data, size_t *size)
{
    FILE *const f = fopen(path, "rb");
    if (!f) {
        const int err = errno;
        if (err == ENOENT || err == ENOTDIR)
            return fs_fail(fs_context_err(ctx), FS_ERR_NOT_FOUND, "%s: %s", path, strerror(err));
        return fs_fail(fs_context_err(ctx), FS_ERR_IO, "%s: %s", path, strerror(err));
    }
    struct stat sb;
    size_t cap = 1 << 16;
    if (fstat(fileno(f), &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) {
            fclose(f);
            return fs_fail(fs_context_err(ctx), FS_ERR_IO, "%s: is a folder", path);
        }
        if (S_ISREG(sb.st_mode)) {
            if ((uint64_t)sb.st_size > MAX_FILE_BYTES) {
                fclose(f);
                return fs_fail(fs_context_err(ctx), FS_ERR_TOO_LARGE,
                               "%s: %lld bytes, above the %zu-byte limit", path,
                               (long long)sb.st_size, MAX_FILE_BYTES);
            }
            cap = (size_t)sb.st_size + 1; /* +1 sees growth without a realloc */
        }
    }
    uint8_t *buf = malloc(cap);
    size_t n = 0;
    fs_status st = FS_OK;
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) {
            if (ferror(f))
                st = fs_fail(fs_context_err(ctx), FS_ERR_IO, "%s: read error", path);
            break;
        }
        if (cap > MAX_FILE_BYTES) {
            st = fs_fail(fs_context_err(ctx), FS_ERR_TOO_LARGE, "%s: above the %zu-byte limit", path,
                         MAX_FILE_BYTES);
            break;
        }
        const size_t grown = cap * 2 > MAX_FILE_BYTES + 1 ? MAX_FILE_BYTES + 1 : cap * 2;
        uint8_t *const bigger = realloc(buf, grown);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap = grown;
    }
    fclose(f);
    if (!buf)
        return fs_fail(fs_context_err(ctx), FS_ERR_OUT_OF_MEMORY, "%s: out of memory reading the file", path);
    if (st != FS_OK) {
        free(buf);
        return st;
    }
    *data = buf;
    *size = n;
    return FS_OK;
}

fs_status fs_image_read_file(fs_context *ctx, const char *path, fs_image *out)
{
    if (!ctx)
        return FS_ERR_INVALID_ARGUMENT;
    if (!path || !out)
        return fs_fail(fs_context_err(ctx), FS_ERR_INVALID_ARGUMENT, "fs_image_read_file: %s is NULL",
                       !path ? "path" : "out");
    uint8_t *data = NULL;
    size_t size = 0;
    fs_status st = read_whole(ctx, path, &data, &size);
    if (st != FS_OK)
        return st;
    st = decode_memory(ctx, path, data, size, out);
    free(data);
    return st;
}

void fs_image_free(fs_image *image)
{
    if (!image)
        return;
    free(image->data);
    memset(image, 0, sizeof(*image));
}

/* ------------------------------------------------------------------ */
/* Encoding                                                           */

typedef enum out_kind { OUT_PNG, OUT_JPEG, OUT_BMP, OUT_PPM } out_kind;

typedef struct writer {
    FILE *f;
    int failed;
    const char *oom_what; /* what ran out of memory, when not the encoding as such */
} writer;

static void write_cb(void *user, void *data, int size)
{
    writer *const w = user;
    if (!w->failed && size > 0 && fwrite(data, 1, (size_t)size, w->f) != (size_t)size)
        w->failed = 1;
}

static int ext_is(const char *ext, const char *want)
{
    return strcasecmp(ext, want) == 0;
}

/* Packs the view into rows of `nc` channels: RGB order, gray kept as gray
 * when nc == 1, alpha kept when nc == 4 (and present), else dropped. */
static uint8_t *pack(const fs_image *im, int nc)
{
    const int ic = fs_pixel_format_channels((fs_pixel_format)im->format);
    const int bgr = im->format == FS_PIXEL_BGR8 || im->format == FS_PIXEL_BGRA8;
    uint8_t *const out = malloc((size_t)im->width * (size_t)im->height * (size_t)nc);
    if (!out)
        return NULL;
    for (int y = 0; y < im->height; y++) {
        const uint8_t *s = (const uint8_t *)im->data + (size_t)y * (size_t)im->stride;
        uint8_t *t = out + (size_t)y * (size_t)im->width * (size_t)nc;
        for (int x = 0; x < im->width; x++, s += ic, t += nc) {
            if (nc == 1) {
                t[0] = s[0]; /* only chosen for GRAY8 sources */
                continue;
            }
            if (ic == 1) {
                t[0] = t[1] = t[2] = s[0];
            } else {
                t[0] = s[bgr ? 2 : 0];
                t[1] = s[1];
                t[2] = s[bgr ? 0 : 2];
            }
            if (nc == 4)
                t[3] = ic == 4 ? s[3] : 255;
        }
    }
    return out;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void png_chunk(writer *w, const char *type, const uint8_t *data, size_t n)
{
    uint8_t head[8], tail[4];
    put_be32(head, (uint32_t)n);
    memcpy(head + 4, type, 4);
    uLong crc = crc32_z(0, head + 4, 4);
    if (n)
        crc = crc32_z(crc, data, n);
    put_be32(tail, (uint32_t)crc);
    write_cb(w, head, 8);
    if (n)
        write_cb(w, (void *)data, (int)n);
    write_cb(w, tail, 4);
}

/* PNG filter @p f (0 none, 1 sub, 2 up, 3 average, 4 Paeth) of one row of
 * @p row bytes, @p bpp bytes per pixel, the row above @p prev (zeros on the
 * first row), into @p o. One loop per filter, so each runs without a
 * per-byte branch. Returns the sum of |signed bytes| of the result. */
static unsigned long png_filter_row(int f, const uint8_t *cur, const uint8_t *prev, size_t row, size_t bpp,
                                    uint8_t *o)
{
    const size_t lead = bpp < row ? bpp : row; /* bytes with no left neighbour */
    switch (f) {
    case 1:
        memcpy(o, cur, lead);
        for (size_t i = bpp; i < row; i++)
            o[i] = (uint8_t)(cur[i] - cur[i - bpp]);
        break;
    case 2:
        for (size_t i = 0; i < row; i++)
            o[i] = (uint8_t)(cur[i] - prev[i]);
        break;
    case 3:
        for (size_t i = 0; i < lead; i++)
            o[i] = (uint8_t)(cur[i] - (prev[i] >> 1));
        for (size_t i = bpp; i < row; i++)
            o[i] = (uint8_t)(cur[i] - ((cur[i - bpp] + prev[i]) >> 1));
        break;
    case 4:
        for (size_t i = 0; i < lead; i++)
            o[i] = (uint8_t)(cur[i] - prev[i]); /* Paeth with a = c = 0 picks b */
        for (size_t i = bpp; i < row; i++) {
            const int a = cur[i - bpp], b = prev[i], c = prev[i - bpp];
            const int pa = abs(b - c), pb = abs(a - c), pc = abs(a + b - 2 * c);
            o[i] = (uint8_t)(cur[i] - (pa <= pb && pa <= pc ? a : pb <= pc ? b : c));
        }
        break;
    default:
        memcpy(o, cur, row);
        break;
    }
    unsigned long sum = 0;
    for (size_t i = 0; i < row; i++)
        sum += (unsigned long)abs((int)(int8_t)o[i]);
    return sum;
}

/*
 * PNG through zlib rather than stb's writer: stb's deflate asserts (aborts
 * the process) when a realloc fails, zlib reports it. Each row takes the
 * filter with the smallest sum of |signed bytes|, the usual heuristic.
 * Deflate runs with Z_RLE (matches at distance 1 only): on filtered photo
 * rows it packs as tightly as the default level 6 (0.2% larger on a
 * 1920x1080 photo) in a fraction of the time; doc/swap.md has the figures.
 */
static fs_status write_png(writer *w, const uint8_t *px, int width, int height, int nc)
{
    const size_t row = (size_t)width * (size_t)nc;
    enum { OUT_CHUNK = 1 << 16 };
    uint8_t *const rows = malloc(5 * (row + 1) + row + OUT_CHUNK);
    if (!rows)
        return FS_ERR_OUT_OF_MEMORY;
    uint8_t *const zero_row = rows + 5 * (row + 1);
    memset(zero_row, 0, row);
    uint8_t *const out = zero_row + row;
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, 1, Z_DEFLATED, 15, 8, Z_RLE) != Z_OK) {
        free(rows);
        return FS_ERR_OUT_OF_MEMORY;
    }
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    write_cb(w, (void *)signature, 8);
    uint8_t ihdr[13];
    put_be32(ihdr, (uint32_t)width);
    put_be32(ihdr + 4, (uint32_t)height);
    ihdr[8] = 8;
    ihdr[9] = nc == 1 ? 0 : nc == 3 ? 2 : 6;
    ihdr[10] = ihdr[11] = ihdr[12] = 0;
    png_chunk(w, "IHDR", ihdr, 13);

    fs_status st = FS_OK;
    for (int y = 0; y <= height && st == FS_OK; y++) {
        int flush = Z_FINISH;
        if (y < height) {
            const uint8_t *cur = px + (size_t)y * row;
            const uint8_t *prev = y > 0 ? cur - row : zero_row;
            unsigned long best_sum = ULONG_MAX;
            int best = 0;
            for (int f = 0; f < 5; f++) {
                uint8_t *const o = rows + (size_t)f * (row + 1);
                o[0] = (uint8_t)f;
                const unsigned long sum = png_filter_row(f, cur, prev, row, (size_t)nc, o + 1);
                if (sum < best_sum) {
                    best_sum = sum;
                    best = f;
                }
            }
            zs.next_in = rows + (size_t)best * (row + 1);
            zs.avail_in = (uInt)(row + 1);
            flush = Z_NO_FLUSH;
        }
        int zr;
        do {
            zs.next_out = out;
            zs.avail_out = OUT_CHUNK;
            zr = deflate(&zs, flush);
            if (zr == Z_STREAM_ERROR || (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)) {
                st = zr == Z_MEM_ERROR ? FS_ERR_OUT_OF_MEMORY : FS_ERR_INTERNAL;
                break;
            }
            const size_t produced = OUT_CHUNK - zs.avail_out;
            if (produced)
                png_chunk(w, "IDAT", out, produced);
        } while (zs.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
    }
    deflateEnd(&zs);
    free(rows);
    if (st == FS_OK)
        png_chunk(w, "IEND", NULL, 0);
    return st;
}

/* TurboJPEG reads every fs_pixel_format in place (alpha ignored): no
 * packed copy. Output in one block sized by tjBufSize, so the encoder
 * never reallocates. */
static fs_status write_jpeg(writer *w, const fs_image *im)
{
    int pf;
    switch (im->format) {
    case FS_PIXEL_RGB8: pf = TJPF_RGB; break;
    case FS_PIXEL_BGR8: pf = TJPF_BGR; break;
    case FS_PIXEL_RGBA8: pf = TJPF_RGBX; break;
    case FS_PIXEL_BGRA8: pf = TJPF_BGRX; break;
    default: pf = TJPF_GRAY; break;
    }
    const int subsamp = pf == TJPF_GRAY ? TJSAMP_GRAY : JPEG_SUBSAMP;
    const unsigned long cap = tjBufSize(im->width, im->height, subsamp);
    if (cap == (unsigned long)-1)
        return FS_ERR_UNSUPPORTED;
    unsigned char *jpg = malloc(cap);
    if (!jpg)
        return FS_ERR_OUT_OF_MEMORY;
    tjhandle const tj = tjInitCompress();
    if (!tj) {
        free(jpg);
        w->oom_what = "starting the JPEG encoder";
        return FS_ERR_OUT_OF_MEMORY;
    }
    unsigned long size = cap;
    const int rc = tjCompress2(tj, im->data, im->width, im->stride, im->height, pf, &jpg, &size, subsamp,
                               JPEG_QUALITY, TJFLAG_NOREALLOC | JPEG_DCT_FLAG);
    tjDestroy(tj);
    /* With a buffer of tjBufSize and valid arguments, only libjpeg's own
     * allocations can fail. */
    if (rc != 0) {
        free(jpg);
        return FS_ERR_OUT_OF_MEMORY;
    }
    write_cb(w, jpg, (int)size);
    free(jpg);
    return FS_OK;
}

static fs_status encode(writer *w, out_kind kind, const fs_image *im)
{
    if (kind == OUT_JPEG)
        return write_jpeg(w, im);
    const int ic = fs_pixel_format_channels((fs_pixel_format)im->format);
    const int nc = kind == OUT_PNG ? ic : 3; /* PNG: gray, RGB or RGBA; BMP and PPM: RGB */
    uint8_t *const px = pack(im, nc);
    if (!px)
        return FS_ERR_OUT_OF_MEMORY;
    int ok;
    switch (kind) {
    case OUT_PNG: {
        const fs_status st = write_png(w, px, im->width, im->height, nc);
        free(px);
        return st;
    }
    case OUT_BMP:
        ok = stbi_write_bmp_to_func(write_cb, w, im->width, im->height, nc, px);
        break;
    default: {
        char head[64];
        const int hl = snprintf(head, sizeof(head), "P6\n%d %d\n255\n", im->width, im->height);
        write_cb(w, head, hl);
        write_cb(w, px, im->width * im->height * 3);
        ok = 1;
        break;
    }
    }
    free(px);
    /* stb's BMP writer allocates nothing and cannot fail here (write
     * errors are caught by write_cb); kept as a guard. */
    return ok ? FS_OK : FS_ERR_OUT_OF_MEMORY;
}

/* The format a path's extension asks for, or -1. */
static int out_kind_of(const char *path)
{
    const char *const slash = strrchr(path, '/');
    const char *const dot = strrchr(slash ? slash : path, '.');
    if (dot && ext_is(dot, ".png"))
        return OUT_PNG;
    if (dot && (ext_is(dot, ".jpg") || ext_is(dot, ".jpeg")))
        return OUT_JPEG;
    if (dot && ext_is(dot, ".bmp"))
        return OUT_BMP;
    if (dot && ext_is(dot, ".ppm"))
        return OUT_PPM;
    return -1;
}

int fs_image_path_writable(const char *path)
{
    return path && out_kind_of(path) >= 0;
}

fs_status fs_image_write_file(fs_context *ctx, const fs_image *image, const char *path)
{
    if (!ctx)
        return FS_ERR_INVALID_ARGUMENT;
    if (!image || !path)
        return fs_fail(fs_context_err(ctx), FS_ERR_INVALID_ARGUMENT, "fs_image_write_file: %s is NULL",
                       !image ? "image" : "path");
    const int k = out_kind_of(path);
    if (k < 0)
        return fs_fail(fs_context_err(ctx), FS_ERR_UNSUPPORTED, "%s: " FS_IMAGE_EXTENSIONS_HINT,
                       path);
    const out_kind kind = (out_kind)k;
    const int ic = fs_pixel_format_channels((fs_pixel_format)image->format);
    if (ic == 0)
        return fs_fail(fs_context_err(ctx), FS_ERR_UNSUPPORTED, "%s: unknown pixel format %d", path,
                       (int)image->format);
    if (image->memory != FS_MEMORY_HOST)
        return fs_fail(fs_context_err(ctx), FS_ERR_UNSUPPORTED, "%s: image is not in host memory", path);
    if (image->width <= 0 || image->height <= 0 || !image->data)
        return fs_fail(fs_context_err(ctx), FS_ERR_INVALID_ARGUMENT, "%s: image is %dx%d%s", path,
                       (int)image->width, (int)image->height, image->data ? "" : " with no pixels");
    if ((int64_t)image->stride < (int64_t)image->width * ic)
        return fs_fail(fs_context_err(ctx), FS_ERR_INVALID_ARGUMENT,
                       "%s: stride %d below width %d x %d channels", path, (int)image->stride,
                       (int)image->width, ic);
    /* The encoders count bytes in int. */
    if ((int64_t)image->width * image->height * 4 > INT_MAX)
        return fs_fail(fs_context_err(ctx), FS_ERR_UNSUPPORTED, "%s: %dx%d is too large to encode", path,
                       (int)image->width, (int)image->height);

    fs_atomic_file af;
    fs_status st = fs_atomic_file_open(&af, path, fs_context_err(ctx));
    if (st != FS_OK)
        return st;
    writer w = {af.f, 0, NULL};
    st = encode(&w, kind, image);
    const int write_errno = w.failed ? errno : 0;
    if (st == FS_OK && w.failed)
        st = FS_ERR_IO;
    const fs_status closed = fs_atomic_file_close(&af, st == FS_OK, fs_context_err(ctx));
    if (st == FS_ERR_OUT_OF_MEMORY)
        return fs_fail(fs_context_err(ctx), st, "%s: out of memory %s", path, w.oom_what ? w.oom_what : "encoding");
    if (st != FS_OK)
        return fs_fail(fs_context_err(ctx), st, "%s: write failed: %s", path,
                       write_errno ? strerror(write_errno) : "encoder error");
    return closed;
}
