#include "nn/json.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Nodes are first built in a growable array linked by index (the array
 * moves while it grows), then copied once into the public fs_json array
 * linked by pointer. Decoded strings go to one buffer of size + 1 bytes: a
 * string's decoded bytes plus its NUL never exceed its raw bytes with both
 * quotes (escapes only shrink), so that buffer never overflows.
 */
typedef struct jnode {
    fs_json_type type;
    uint32_t count;
    double num;
    size_t key;     /* offset + 1 into strings; 0 = none */
    size_t str;     /* offset + 1 into strings; 0 = none */
    uint32_t child; /* index + 1; 0 = none */
    uint32_t next;
    uint32_t last;  /* last child, for appending */
} jnode;

struct fs_json_doc {
    fs_json *nodes;
    size_t count;
    char *strings;
};

static int fs_json_mul_ok(size_t a, size_t b, size_t *out)
{
    if (b != 0 && a > SIZE_MAX / b)
        return 0;
    *out = a * b;
    return 1;
}

typedef struct parser {
    const char *begin, *p, *end;
    jnode *nodes;
    size_t count, cap;
    char *strings;
    size_t slen, scap;
    uint32_t stack[FS_JSON_MAX_DEPTH];
    int depth;
    char *err;
    size_t err_size;
} parser;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static fs_status fail(parser *ps, fs_status st, const char *fmt, ...)
{
    if (ps->err && ps->err_size) {
        int line = 1, col = 1;
        for (const char *q = ps->begin; q < ps->p; q++) {
            if (*q == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        int n = snprintf(ps->err, ps->err_size, "line %d, column %d: ", line, col);
        if (n >= 0 && (size_t)n < ps->err_size) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(ps->err + n, ps->err_size - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return st;
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static fs_status new_node(parser *ps, fs_json_type type, size_t key, uint32_t *idx)
{
    if (ps->count == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 256;
        size_t bytes;
        /* Indices are stored as uint32 + 1; the size limit keeps far below. */
        if (cap > UINT32_MAX - 1 || !fs_json_mul_ok(cap, sizeof(jnode), &bytes))
            return fail(ps, FS_ERR_TOO_LARGE, "too many values");
        jnode *n = realloc(ps->nodes, bytes);
        if (!n)
            return fail(ps, FS_ERR_OUT_OF_MEMORY, "out of memory");
        ps->nodes = n;
        ps->cap = cap;
    }
    uint32_t i = (uint32_t)ps->count++;
    jnode *nd = &ps->nodes[i];
    memset(nd, 0, sizeof(*nd));
    nd->type = type;
    nd->key = key;
    if (ps->depth > 0) {
        jnode *parent = &ps->nodes[ps->stack[ps->depth - 1]];
        if (parent->count == UINT32_MAX)
            return fail(ps, FS_ERR_TOO_LARGE, "too many values in one container");
        parent->count++;
        if (parent->last)
            ps->nodes[parent->last - 1].next = i + 1;
        else
            parent->child = i + 1;
        parent->last = i + 1;
    }
    *idx = i;
    return FS_OK;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        const char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), 0 if ill-formed
 * (overlong forms, surrogates and code points above U+10FFFF are ill-formed). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    const unsigned c = s[0];
    unsigned lo = 0x80, hi = 0xBF;
    size_t len;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

static size_t put_utf8(char *dst, unsigned cp)
{
    if (cp < 0x80) {
        dst[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        dst[0] = (char)(0xC0 | (cp >> 6));
        dst[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        dst[0] = (char)(0xE0 | (cp >> 12));
        dst[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        dst[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    dst[0] = (char)(0xF0 | (cp >> 18));
    dst[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    dst[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    dst[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ps->p at the opening quote; on success *off is the offset + 1 of the
 * decoded NUL-terminated string and *len its length. */
static fs_status parse_string(parser *ps, size_t *off, uint32_t *len)
{
    const size_t start = ps->slen;
    ps->p++; /* opening quote */
    for (;;) {
        if (ps->p >= ps->end)
            return fail(ps, FS_ERR_CORRUPT, "unterminated string");
        /* One step appends at most 4 bytes and a NUL follows; the bound is
         * proven above, this check only guards against a mistake in it. */
        if (ps->scap - ps->slen < 5 && ps->scap - ps->slen < (size_t)(ps->end - ps->p) + 1)
            return fail(ps, FS_ERR_INTERNAL, "string buffer exhausted");
        const unsigned char c = (unsigned char)*ps->p;
        if (c == '"') {
            ps->p++;
            break;
        }
        if (c < 0x20)
            return fail(ps, FS_ERR_CORRUPT, "control character 0x%02x in a string", c);
        if (c == '\\') {
            if (ps->end - ps->p < 2)
                return fail(ps, FS_ERR_CORRUPT, "unterminated escape");
            const char e = ps->p[1];
            char out = 0;
            switch (e) {
            case '"': out = '"'; break;
            case '\\': out = '\\'; break;
            case '/': out = '/'; break;
            case 'b': out = '\b'; break;
            case 'f': out = '\f'; break;
            case 'n': out = '\n'; break;
            case 'r': out = '\r'; break;
            case 't': out = '\t'; break;
            case 'u': break;
            default:
                ps->p++;
                return fail(ps, FS_ERR_CORRUPT, "invalid escape '\\%c'", e);
            }
            if (e != 'u') {
                ps->strings[ps->slen++] = out;
                ps->p += 2;
                continue;
            }
            unsigned cp;
            if (ps->end - ps->p < 6 || !hex4(ps->p + 2, &cp))
                return fail(ps, FS_ERR_CORRUPT, "invalid \\u escape");
            ps->p += 6;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return fail(ps, FS_ERR_CORRUPT, "unpaired low surrogate in \\u escape");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
                    !hex4(ps->p + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return fail(ps, FS_ERR_CORRUPT, "unpaired high surrogate in \\u escape");
                ps->p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            ps->slen += put_utf8(ps->strings + ps->slen, cp);
            continue;
        }
        const size_t n = utf8_len((const unsigned char *)ps->p, (size_t)(ps->end - ps->p));
        if (n == 0)
            return fail(ps, FS_ERR_CORRUPT, "invalid UTF-8 in a string");
        memcpy(ps->strings + ps->slen, ps->p, n);
        ps->slen += n;
        ps->p += n;
    }
    const size_t n = ps->slen - start;
    if (n > UINT32_MAX)
        return fail(ps, FS_ERR_TOO_LARGE, "string too long");
    ps->strings[ps->slen++] = '\0';
    *off = start + 1;
    *len = (uint32_t)n;
    return FS_OK;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static fs_status parse_number(parser *ps, double *out)
{
    const char *s = ps->p;
    const char *q = s;
    if (q < ps->end && *q == '-')
        q++;
    if (q >= ps->end || !is_digit(*q))
        return fail(ps, FS_ERR_CORRUPT, "invalid number");
    if (*q == '0') {
        q++;
    } else {
        while (q < ps->end && is_digit(*q))
            q++;
    }
    if (q < ps->end && *q == '.') {
        q++;
        if (q >= ps->end || !is_digit(*q)) {
            ps->p = q;
            return fail(ps, FS_ERR_CORRUPT, "invalid number: no digit after '.'");
        }
        while (q < ps->end && is_digit(*q))
            q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < ps->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= ps->end || !is_digit(*q)) {
            ps->p = q;
            return fail(ps, FS_ERR_CORRUPT, "invalid number: no digit in the exponent");
        }
        while (q < ps->end && is_digit(*q))
            q++;
    }
    /* strtod needs a NUL-terminated copy in the current locale's form. */
    char buf[512];
    const size_t n = (size_t)(q - s);
    const char *dp = localeconv()->decimal_point;
    const size_t dpl = dp && *dp ? strlen(dp) : 1;
    if (n + dpl >= sizeof(buf))
        return fail(ps, FS_ERR_CORRUPT, "number too long");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.' && dp && *dp) {
            memcpy(buf + k, dp, dpl);
            k += dpl;
        } else {
            buf[k++] = s[i];
        }
    }
    buf[k] = '\0';
    char *endp = NULL;
    const double v = strtod(buf, &endp);
    if (endp != buf + k)
        return fail(ps, FS_ERR_CORRUPT, "invalid number");
    if (isinf(v))
        return fail(ps, FS_ERR_CORRUPT, "number out of range");
    ps->p = q;
    *out = v;
    return FS_OK;
}

static int match(parser *ps, const char *lit)
{
    const size_t n = strlen(lit);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0)
        return 0;
    ps->p += n;
    return 1;
}

/* A member name and its colon; *key is the string offset + 1. */
static fs_status parse_key(parser *ps, size_t *key)
{
    skip_ws(ps);
    if (ps->p >= ps->end)
        return fail(ps, FS_ERR_CORRUPT, "unexpected end of input, expected a member name");
    if (*ps->p != '"')
        return fail(ps, FS_ERR_CORRUPT, "expected a member name in quotes");
    uint32_t len;
    fs_status st = parse_string(ps, key, &len);
    if (st != FS_OK)
        return st;
    skip_ws(ps);
    if (ps->p >= ps->end)
        return fail(ps, FS_ERR_CORRUPT, "unexpected end of input, expected ':'");
    if (*ps->p != ':')
        return fail(ps, FS_ERR_CORRUPT, "expected ':' after a member name");
    ps->p++;
    return FS_OK;
}

static fs_status parse_all(parser *ps)
{
    size_t key = 0;
    fs_status st;
    for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end)
            return fail(ps, FS_ERR_CORRUPT, "unexpected end of input, expected a value");
        const char c = *ps->p;
        uint32_t idx;
        if (c == '{' || c == '[') {
            if (ps->depth >= FS_JSON_MAX_DEPTH)
                return fail(ps, FS_ERR_CORRUPT, "nested deeper than %d levels", FS_JSON_MAX_DEPTH);
            st = new_node(ps, c == '{' ? FS_JSON_OBJECT : FS_JSON_ARRAY, key, &idx);
            if (st != FS_OK)
                return st;
            ps->p++;
            ps->stack[ps->depth++] = idx;
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == (c == '{' ? '}' : ']')) {
                ps->p++;
                ps->depth--;
            } else {
                key = 0;
                if (c == '{' && (st = parse_key(ps, &key)) != FS_OK)
                    return st;
                continue;
            }
        } else if (c == '"') {
            size_t off;
            uint32_t len;
            st = new_node(ps, FS_JSON_STRING, key, &idx);
            if (st != FS_OK)
                return st;
            if ((st = parse_string(ps, &off, &len)) != FS_OK)
                return st;
            ps->nodes[idx].str = off;
            ps->nodes[idx].count = len;
        } else if (c == '-' || is_digit(c)) {
            double v = 0.0;
            if ((st = parse_number(ps, &v)) != FS_OK)
                return st;
            if ((st = new_node(ps, FS_JSON_NUMBER, key, &idx)) != FS_OK)
                return st;
            ps->nodes[idx].num = v;
        } else {
            fs_json_type t;
            if (match(ps, "true"))
                t = FS_JSON_TRUE;
            else if (match(ps, "false"))
                t = FS_JSON_FALSE;
            else if (match(ps, "null"))
                t = FS_JSON_NULL;
            else if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7F)
                return fail(ps, FS_ERR_CORRUPT, "unexpected character '%c'", c);
            else
                return fail(ps, FS_ERR_CORRUPT, "unexpected byte 0x%02x", (unsigned char)c);
            if ((st = new_node(ps, t, key, &idx)) != FS_OK)
                return st;
        }
        /* A value is complete: close containers or move to the next element. */
        key = 0;
        for (;;) {
            skip_ws(ps);
            if (ps->depth == 0) {
                if (ps->p != ps->end)
                    return fail(ps, FS_ERR_CORRUPT, "unexpected data after the document");
                return FS_OK;
            }
            if (ps->p >= ps->end)
                return fail(ps, FS_ERR_CORRUPT, "unexpected end of input");
            const int is_obj = ps->nodes[ps->stack[ps->depth - 1]].type == FS_JSON_OBJECT;
            if (*ps->p == ',') {
                ps->p++;
                if (is_obj && (st = parse_key(ps, &key)) != FS_OK)
                    return st;
                break;
            }
            if (*ps->p == (is_obj ? '}' : ']')) {
                ps->p++;
                ps->depth--;
                continue;
            }
            return fail(ps, FS_ERR_CORRUPT, "expected ',' or '%c'", is_obj ? '}' : ']');
        }
    }
}

fs_status fs_json_parse(const char *text, size_t size, fs_json_doc **out, char *err,
                        size_t err_size)
{
    parser ps;
    memset(&ps, 0, sizeof(ps));
    ps.err = err;
    ps.err_size = err_size;
    if (err && err_size)
        err[0] = '\0';
    if (!out || (!text && size))
        return FS_ERR_INVALID_ARGUMENT;
    ps.begin = ps.p = text;
    ps.end = text + size;
    if (size > FS_JSON_MAX_SIZE)
        return fail(&ps, FS_ERR_TOO_LARGE, "text of %zu bytes exceeds the %zu-byte limit", size,
                    FS_JSON_MAX_SIZE);
    skip_ws(&ps);
    if (ps.p == ps.end)
        return fail(&ps, FS_ERR_TRUNCATED, "empty text");
    ps.p = ps.begin;
    ps.scap = size + 1;
    ps.strings = malloc(ps.scap + 4);
    if (!ps.strings)
        return fail(&ps, FS_ERR_OUT_OF_MEMORY, "out of memory");

    fs_status st = parse_all(&ps);
    fs_json_doc *doc = NULL;
    if (st == FS_OK) {
        doc = calloc(1, sizeof(*doc));
        size_t bytes;
        if (!doc || !fs_json_mul_ok(ps.count, sizeof(fs_json), &bytes) ||
            !(doc->nodes = malloc(bytes))) {
            st = fail(&ps, FS_ERR_OUT_OF_MEMORY, "out of memory");
        }
    }
    if (st != FS_OK) {
        if (doc)
            free(doc->nodes);
        free(doc);
        free(ps.nodes);
        free(ps.strings);
        return st;
    }
    for (size_t i = 0; i < ps.count; i++) {
        const jnode *s = &ps.nodes[i];
        fs_json *d = &doc->nodes[i];
        d->type = s->type;
        d->count = s->count;
        d->num = s->num;
        d->key = s->key ? ps.strings + s->key - 1 : NULL;
        d->str = s->str ? ps.strings + s->str - 1 : NULL;
        d->child = s->child ? &doc->nodes[s->child - 1] : NULL;
        d->next = s->next ? &doc->nodes[s->next - 1] : NULL;
    }
    doc->count = ps.count;
    doc->strings = ps.strings;
    free(ps.nodes);
    *out = doc;
    return FS_OK;
}

void fs_json_free(fs_json_doc *doc)
{
    if (!doc)
        return;
    free(doc->nodes);
    free(doc->strings);
    free(doc);
}

const fs_json *fs_json_root(const fs_json_doc *doc)
{
    return doc && doc->count ? &doc->nodes[0] : NULL;
}

const fs_json *fs_json_get(const fs_json *obj, const char *key)
{
    if (!obj || obj->type != FS_JSON_OBJECT || !key)
        return NULL;
    for (const fs_json *c = obj->child; c; c = c->next)
        if (strcmp(c->key, key) == 0)
            return c;
    return NULL;
}

const fs_json *fs_json_get_typed(const fs_json *obj, const char *key, fs_json_type type)
{
    const fs_json *v = fs_json_get(obj, key);
    return v && v->type == type ? v : NULL;
}

const char *fs_json_string(const fs_json *v)
{
    return v && v->type == FS_JSON_STRING ? v->str : NULL;
}

#define JSON_MAX_EXACT 9007199254740992.0 /* 2^53 */

int fs_json_int(const fs_json *v, int64_t *out)
{
    if (!v)
        return 0;
    if (v->type == FS_JSON_NUMBER) {
        const double d = v->num;
        if (!(d >= -JSON_MAX_EXACT && d <= JSON_MAX_EXACT) || d != floor(d))
            return 0;
        *out = (int64_t)d;
        return 1;
    }
    if (v->type != FS_JSON_STRING)
        return 0;
    const char *s = v->str;
    int neg = 0;
    if (*s == '-') {
        neg = 1;
        s++;
    }
    if (!is_digit(*s) || (size_t)(s - v->str) + strlen(s) != v->count)
        return 0;
    int64_t r = 0;
    for (; *s; s++) {
        if (!is_digit(*s))
            return 0;
        r = r * 10 + (*s - '0');
        if (r > (int64_t)JSON_MAX_EXACT)
            return 0;
    }
    *out = neg ? -r : r;
    return 1;
}

int fs_json_double(const fs_json *v, double *out)
{
    if (!v)
        return 0;
    if (v->type == FS_JSON_NUMBER) {
        *out = v->num;
        return 1;
    }
    if (v->type != FS_JSON_STRING)
        return 0;
    if (strcmp(v->str, "NaN") == 0)
        *out = NAN;
    else if (strcmp(v->str, "Infinity") == 0)
        *out = INFINITY;
    else if (strcmp(v->str, "-Infinity") == 0)
        *out = -INFINITY;
    else
        return 0;
    return 1;
}
