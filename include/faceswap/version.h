/*
 * libfaceswap version numbers.
 *
 * FS_VERSION_* follow the releases. FS_ABI_VERSION is the SONAME number
 * (libfaceswap.so.FS_ABI_VERSION): it changes only on a real ABI break.
 * meson reads both from this file, so this is the one place to bump them.
 */
#ifndef FS_VERSION_H
#define FS_VERSION_H

#define FS_VERSION_MAJOR 0
#define FS_VERSION_MINOR 4
#define FS_VERSION_PATCH 0

#define FS_ABI_VERSION 0

/** Packs a version into one integer: major * 10000 + minor * 100 + patch. */
#define FS_VERSION_NUMBER(major, minor, patch) ((major) * 10000 + (minor) * 100 + (patch))
#define FS_VERSION FS_VERSION_NUMBER(FS_VERSION_MAJOR, FS_VERSION_MINOR, FS_VERSION_PATCH)

#endif /* FS_VERSION_H */
