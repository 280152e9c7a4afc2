/*
 * The parameter tables (lib/param.h).
 */
#include "param.h"

#include <math.h>
#include <string.h>

const fs_param_def *fs_param_find(const fs_param_table *t, int param)
{
    return t && param >= 0 && param < t->n ? &t->defs[param] : NULL;
}

fs_status fs_param_bounds(const fs_param_table *t, int param, double *min, double *max)
{
    const fs_param_def *d = fs_param_find(t, param);
    if (!d || !min || !max)
        return FS_ERR_INVALID_ARGUMENT;
    *min = d->min;
    *max = d->max;
    return FS_OK;
}

fs_status fs_param_default(const fs_param_table *t, int param, double *value)
{
    const fs_param_def *d = fs_param_find(t, param);
    if (!d || !value)
        return FS_ERR_INVALID_ARGUMENT;
    *value = d->def;
    return FS_OK;
}

fs_status fs_param_check(const fs_param_table *t, int param, double value, fs_error_buf *err)
{
    const fs_param_def *d = fs_param_find(t, param);
    if (!d)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "%s: unknown parameter %d",
                       t ? t->who : "fs_param", param);
    if (!(value >= d->min && value <= d->max) || (d->integer && value != floor(value)))
        return fs_fail(err, FS_ERR_OUT_OF_RANGE, "%s: parameter %d: %.17g is not %s in [%.17g, %.17g]",
                       t->who, param, value, d->integer ? "an integer" : "a value", d->min, d->max);
    return FS_OK;
}

void fs_param_store(const fs_param_table *t, int param, void *obj, double value)
{
    const fs_param_def *d = fs_param_find(t, param);
    if (!d || !obj)
        return;
    unsigned char *p = (unsigned char *)obj + d->offset;
    /* memcpy: the handle's field may sit at any offset the compiler chose,
     * and this way no alignment is assumed. */
    switch (d->storage) {
    case FS_PARAM_INT: {
        const int v = (int)value;
        memcpy(p, &v, sizeof(v));
        break;
    }
    case FS_PARAM_INT64: {
        const int64_t v = (int64_t)value;
        memcpy(p, &v, sizeof(v));
        break;
    }
    default:
        memcpy(p, &value, sizeof(value));
        break;
    }
}

double fs_param_load(const fs_param_table *t, int param, const void *obj)
{
    const fs_param_def *d = fs_param_find(t, param);
    if (!d || !obj)
        return 0.0;
    const unsigned char *p = (const unsigned char *)obj + d->offset;
    switch (d->storage) {
    case FS_PARAM_INT: {
        int v;
        memcpy(&v, p, sizeof(v));
        return v;
    }
    case FS_PARAM_INT64: {
        int64_t v;
        memcpy(&v, p, sizeof(v));
        return (double)v;
    }
    default: {
        double v;
        memcpy(&v, p, sizeof(v));
        return v;
    }
    }
}

void fs_param_init(const fs_param_table *t, void *obj)
{
    for (int i = 0; t && i < t->n; i++)
        fs_param_store(t, i, obj, t->defs[i].def);
}
