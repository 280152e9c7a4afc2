/*
 * One mechanism for the integer- and real-valued parameters of every
 * handle (context, detector, fitter, renderer): a table of definitions
 * (range, default, whole numbers only, where the value lives in the
 * handle), checked, stored, read and reported the same way. The public
 * set/get/bounds/default functions of each handle are thin wrappers; what
 * a parameter does beyond being stored (a backend check, a buffer to
 * allocate) stays with its handle.
 */
#ifndef FS_PARAM_H
#define FS_PARAM_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* How a value is stored in its handle. */
typedef enum fs_param_storage {
    FS_PARAM_INT = 0,    /* int */
    FS_PARAM_DOUBLE = 1, /* double */
    FS_PARAM_INT64 = 2   /* int64_t */
} fs_param_storage;

/* One parameter. Bounds and default pass as double, exact for every
 * integer up to 2^53. */
typedef struct fs_param_def {
    double min, max, def; /* inclusive range and default */
    int integer;          /* 1: whole numbers only */
    int storage;          /* fs_param_storage */
    size_t offset;        /* offsetof the value in the handle */
} fs_param_def;

typedef struct fs_param_table {
    const char *who;          /* "fs_detector_set" ...: names the setter in details */
    const fs_param_def *defs; /* indexed by the handle's parameter enum */
    int n;
} fs_param_table;

#define FS_PARAM_TABLE(who, defs) {(who), (defs), (int)(sizeof(defs) / sizeof((defs)[0]))}

/* The definition of @p param, NULL when the table has none (unknown). */
const fs_param_def *fs_param_find(const fs_param_table *t, int param);

/* FS_OK, FS_ERR_INVALID_ARGUMENT for an unknown parameter or NULL outputs. */
fs_status fs_param_bounds(const fs_param_table *t, int param, double *min, double *max);
fs_status fs_param_default(const fs_param_table *t, int param, double *value);

/* FS_OK when @p value may be stored; FS_ERR_INVALID_ARGUMENT (unknown) or
 * FS_ERR_OUT_OF_RANGE (outside the range, NaN, or not whole for an
 * integer parameter), with a detail in @p err. */
fs_status fs_param_check(const fs_param_table *t, int param, double value, fs_error_buf *err);

/* Stores a checked @p value into @p obj; reads it back. */
void fs_param_store(const fs_param_table *t, int param, void *obj, double value);
double fs_param_load(const fs_param_table *t, int param, const void *obj);

/* Every parameter of @p obj at its default. */
void fs_param_init(const fs_param_table *t, void *obj);

#endif /* FS_PARAM_H */
