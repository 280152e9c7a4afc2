/*
 * A small JSON reader for untrusted input (tfjs model.json files).
 *
 * The whole text is parsed at once into a read-only tree owned by an
 * fs_json_doc. The parser never recurses (an explicit stack bounded by
 * FS_JSON_MAX_DEPTH), checks every size, accepts only well-formed UTF-8 and
 * strict RFC 8259 grammar (no comments, no trailing commas, no NaN), and
 * reports the line and column of the first error.
 *
 * Not thread-safe per document while parsing; a parsed document may be read
 * from any number of threads.
 */
#ifndef FS_NN_JSON_H
#define FS_NN_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "faceswap/common.h"

/* Nesting deeper than this is refused (tfjs model.json files nest about 8 deep). */
#define FS_JSON_MAX_DEPTH 64
/* Texts larger than this are refused with FS_ERR_TOO_LARGE. */
#define FS_JSON_MAX_SIZE ((size_t)64 << 20)

typedef enum fs_json_type {
    FS_JSON_NULL = 0,
    FS_JSON_FALSE,
    FS_JSON_TRUE,
    FS_JSON_NUMBER,
    FS_JSON_STRING,
    FS_JSON_ARRAY,
    FS_JSON_OBJECT
} fs_json_type;

typedef struct fs_json fs_json;
struct fs_json {
    fs_json_type type;
    uint32_t count;       /* ARRAY, OBJECT: number of children; STRING: bytes (without the NUL) */
    double num;           /* NUMBER */
    const char *key;      /* name of this member when the parent is an object, else NULL */
    const char *str;      /* STRING: NUL-terminated UTF-8 ("\u0000" inside: use count) */
    const fs_json *child; /* ARRAY, OBJECT: first child, NULL when empty */
    const fs_json *next;  /* next sibling in the parent, NULL for the last */
};

typedef struct fs_json_doc fs_json_doc;

/*
 * Parses @p size bytes of @p text (need not be NUL-terminated). On failure
 * writes "line L, column C: what" into @p err (when not NULL) and returns
 * FS_ERR_CORRUPT (syntax, encoding, nesting), FS_ERR_TRUNCATED (empty text),
 * FS_ERR_TOO_LARGE or FS_ERR_OUT_OF_MEMORY; *out is then untouched.
 */
fs_status fs_json_parse(const char *text, size_t size, fs_json_doc **out, char *err,
                        size_t err_size);

void fs_json_free(fs_json_doc *doc);

const fs_json *fs_json_root(const fs_json_doc *doc);

/* Member @p key of object @p obj (the first one if repeated); NULL if @p obj
 * is NULL, not an object, or has no such member. */
const fs_json *fs_json_get(const fs_json *obj, const char *key);

/* As fs_json_get(), NULL unless the member has type @p type. */
const fs_json *fs_json_get_typed(const fs_json *obj, const char *key, fs_json_type type);

/* The string of @p v, or NULL when @p v is NULL or not a string. */
const char *fs_json_string(const fs_json *v);

/*
 * An integer written as a JSON number or as a decimal string (protobuf's
 * JSON form of int64, which tfjs uses for attributes). Returns 1 and sets
 * *out when @p v holds an exact integer in [-2^53, 2^53], else 0.
 */
int fs_json_int(const fs_json *v, int64_t *out);

/* A number, or one of the strings "NaN", "Infinity", "-Infinity" (protobuf's
 * JSON form of special floats). Returns 1 and sets *out on success. */
int fs_json_double(const fs_json *v, double *out);

#endif /* FS_NN_JSON_H */
