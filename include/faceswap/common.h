/*
 * libfaceswap: export macro, status codes and the few plain types shared by
 * every object family. Self-contained C99; compiles as C and C++.
 */
#ifndef FS_COMMON_H
#define FS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "version.h"

#if defined(_WIN32)
#  if defined(FS_BUILDING_LIBRARY)
#    define FS_API __declspec(dllexport)
#  else
#    define FS_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define FS_API __attribute__((visibility("default")))
#else
#  define FS_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Every status the library returns: X(NAME, value, message).
 * Values are fixed for ever; new codes are only appended. FS_OK is 0, every
 * error is negative. fs_status_name() and fs_status_message() read this table.
 */
#define FS_STATUS_LIST(X)                                                              \
    X(OK, 0, "success")                                                                \
    X(ERR_INVALID_ARGUMENT, -1, "invalid argument (NULL pointer or bad value)")        \
    X(ERR_OUT_OF_RANGE, -2, "argument out of range")                                   \
    X(ERR_OUT_OF_MEMORY, -3, "out of memory")                                          \
    X(ERR_IO, -4, "input/output error")                                                \
    X(ERR_NOT_FOUND, -5, "file not found")                                             \
    X(ERR_TRUNCATED, -6, "input is empty or truncated")                                \
    X(ERR_CORRUPT, -7, "input is corrupt")                                             \
    X(ERR_UNSUPPORTED, -8, "unsupported format or feature")                            \
    X(ERR_TOO_LARGE, -9, "input exceeds a configured size limit")                      \
    X(ERR_CHECKSUM, -10, "checksum mismatch (file altered or from another version)")   \
    X(ERR_MODEL, -11, "invalid or unsupported model graph")                            \
    X(ERR_SHAPE, -12, "tensor shape mismatch")                                         \
    X(ERR_NO_FACE, -13, "no face found")                                               \
    X(ERR_BACKEND_UNAVAILABLE, -14, "requested backend is not available")              \
    X(ERR_GPU, -15, "GPU runtime error")                                               \
    X(ERR_VERSION, -16, "incompatible version")                                        \
    X(ERR_BUFFER_TOO_SMALL, -17, "output buffer too small")                            \
    X(ERR_CANCELLED, -18, "operation cancelled")                                       \
    X(ERR_INTERNAL, -19, "internal error")                                             \
    X(ERR_VIDEO, -20, "video container or codec error")

/** Status code returned by every fallible function. */
typedef enum fs_status {
#define FS_STATUS_ENUM_(name, value, message) FS_##name = value,
    FS_STATUS_LIST(FS_STATUS_ENUM_)
#undef FS_STATUS_ENUM_
    FS_STATUS_MIN_ = -20 /* lowest code; internal use */
} fs_status;

/**
 * Name of a status code, e.g. "FS_ERR_NO_FACE". Never NULL: unknown codes
 * give "FS_ERR_UNKNOWN". The string is static. Thread-safe. Since 0.1.
 */
FS_API const char *fs_status_name(fs_status status);

/** English message for a status code; static, never NULL. Thread-safe. Since 0.1. */
FS_API const char *fs_status_message(fs_status status);

/** Run-time library version, FS_VERSION_NUMBER(major, minor, patch). Since 0.1. */
FS_API int fs_version(void);

/** Run-time version as a static string "major.minor.patch". Since 0.1. */
FS_API const char *fs_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* FS_COMMON_H */
