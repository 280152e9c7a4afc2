/*
 * The one parameter mechanism (lib/param.c) and the handles' use of it:
 * bounds, defaults, checks, storage.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "param.h"
#include "swap/swap.h"

typedef struct probe {
    char pad;
    int i;
    double d;
    int64_t l;
} probe;

static const fs_param_def probe_defs[] = {
    {-3, 7, 2, 1, FS_PARAM_INT, offsetof(probe, i)},
    {0, 1, 0.25, 0, FS_PARAM_DOUBLE, offsetof(probe, d)},
    {1, 4294967296.0, 50000000, 1, FS_PARAM_INT64, offsetof(probe, l)},
};
static const fs_param_table probe_params = FS_PARAM_TABLE("probe_set", probe_defs);

START_TEST(param_table)
{
    probe p;
    memset(&p, 0x5a, sizeof(p));
    fs_param_init(&probe_params, &p);
    ck_assert_int_eq(p.pad, 0x5a);
    ck_assert_int_eq(p.i, 2);
    ck_assert(p.d == 0.25);
    ck_assert(p.l == 50000000);
    fs_error_buf err;
    FS_ASSERT_OK(fs_param_check(&probe_params, 0, -3, &err));
    FS_ASSERT_STATUS(fs_param_check(&probe_params, 0, 2.5, &err), FS_ERR_OUT_OF_RANGE);
    ck_assert_ptr_nonnull(strstr(err.text, "probe_set"));
    FS_ASSERT_STATUS(fs_param_check(&probe_params, 0, 8, &err), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_STATUS(fs_param_check(&probe_params, 1, NAN, &err), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_OK(fs_param_check(&probe_params, 1, 0.5, &err));
    FS_ASSERT_STATUS(fs_param_check(&probe_params, 3, 0, &err), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_param_check(&probe_params, -1, 0, &err), FS_ERR_INVALID_ARGUMENT);
    fs_param_store(&probe_params, 0, &p, -3);
    fs_param_store(&probe_params, 1, &p, 0.75);
    fs_param_store(&probe_params, 2, &p, 4294967296.0);
    ck_assert_int_eq(p.i, -3);
    ck_assert(p.d == 0.75);
    ck_assert(p.l == INT64_C(4294967296));
    ck_assert(fs_param_load(&probe_params, 0, &p) == -3);
    ck_assert(fs_param_load(&probe_params, 1, &p) == 0.75);
    ck_assert(fs_param_load(&probe_params, 2, &p) == 4294967296.0);
    double lo = 9, hi = 9, def = 9;
    FS_ASSERT_STATUS(fs_param_bounds(&probe_params, 5, &lo, &hi), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_param_default(&probe_params, 0, NULL), FS_ERR_INVALID_ARGUMENT);
    ck_assert(lo == 9 && hi == 9);
    FS_ASSERT_OK(fs_param_bounds(&probe_params, 2, &lo, &hi));
    FS_ASSERT_OK(fs_param_default(&probe_params, 2, &def));
    ck_assert(lo == 1 && hi == 4294967296.0 && def == 50000000);
}
END_TEST

/* Every handle: a new one holds the defaults; each default lies in its
 * bounds; unknown parameters and NULL outputs are refused. */
START_TEST(param_handles)
{
    fs_context *ctx = fs_test_new_context();
    fs_detector *det = fs_test_new_detector(ctx);
    fs_fitter *fit = fs_test_new_fitter(ctx);
    fs_renderer *ren;
    FS_ASSERT_OK(fs_renderer_create(ctx, &ren));
    double v, lo, hi, def;
    int k;
    for (k = 0; fs_detector_param_default((fs_detector_param)k, &def) == FS_OK; k++) {
        FS_ASSERT_OK(fs_detector_get(det, (fs_detector_param)k, &v));
        FS_ASSERT_OK(fs_detector_param_bounds((fs_detector_param)k, &lo, &hi));
        ck_assert_msg(v == def && def >= lo && def <= hi, "detector %d: %g, default %g", k, v, def);
        FS_ASSERT_STATUS(fs_detector_set(det, (fs_detector_param)k, hi + 1), FS_ERR_OUT_OF_RANGE);
    }
    ck_assert_int_eq(k, 5);
    for (k = 0; fs_fitter_param_default((fs_fitter_param)k, &def) == FS_OK; k++) {
        FS_ASSERT_OK(fs_fitter_get(fit, (fs_fitter_param)k, &v));
        FS_ASSERT_OK(fs_fitter_param_bounds((fs_fitter_param)k, &lo, &hi));
        ck_assert_msg(v == def && def >= lo && def <= hi, "fitter %d: %g, default %g", k, v, def);
        FS_ASSERT_STATUS(fs_fitter_set(fit, (fs_fitter_param)k, lo - 1), FS_ERR_OUT_OF_RANGE);
    }
    ck_assert_int_eq(k, 4);
    for (k = 0; fs_renderer_param_default((fs_renderer_param)k, &def) == FS_OK; k++) {
        FS_ASSERT_OK(fs_renderer_get(ren, (fs_renderer_param)k, &v));
        FS_ASSERT_OK(fs_renderer_param_bounds((fs_renderer_param)k, &lo, &hi));
        ck_assert_msg(v == def && def >= lo && def <= hi, "renderer %d: %g, default %g", k, v, def);
        FS_ASSERT_STATUS(fs_renderer_set(ren, (fs_renderer_param)k, hi + 0.5), FS_ERR_OUT_OF_RANGE);
        FS_ASSERT_OK(fs_renderer_set(ren, (fs_renderer_param)k, lo));
        FS_ASSERT_OK(fs_renderer_get(ren, (fs_renderer_param)k, &v));
        ck_assert(v == lo);
    }
    ck_assert_int_eq(k, 12);
    int64_t iv, ilo, ihi, idef;
    for (k = 0; fs_context_param_default((fs_context_param)k, &idef) == FS_OK; k++) {
        FS_ASSERT_OK(fs_context_param_bounds((fs_context_param)k, &ilo, &ihi));
        ck_assert(idef >= ilo && idef <= ihi);
        if (k != FS_CONTEXT_FORCE_REFERENCE) { /* the environment may set it */
            FS_ASSERT_OK(fs_context_get(ctx, (fs_context_param)k, &iv));
            ck_assert_msg(iv == idef, "context %d: %lld, default %lld", k, (long long)iv, (long long)idef);
        }
        FS_ASSERT_STATUS(fs_context_set(ctx, (fs_context_param)k, ihi + 1), FS_ERR_OUT_OF_RANGE);
    }
    ck_assert_int_eq(k, 6);
    FS_ASSERT_STATUS(fs_context_set(ctx, FS_CONTEXT_MAX_PIXELS, INT64_MAX), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_STATUS(fs_context_set(ctx, FS_CONTEXT_MAX_PIXELS, INT64_MIN), FS_ERR_OUT_OF_RANGE);
    idef = 77;
    FS_ASSERT_STATUS(fs_context_param_default((fs_context_param)99, &idef), FS_ERR_INVALID_ARGUMENT);
    ck_assert(idef == 77);
    FS_ASSERT_STATUS(fs_renderer_param_default(FS_RENDERER_COLOR, NULL), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_renderer_set(ren, (fs_renderer_param)-1, 0), FS_ERR_INVALID_ARGUMENT);
    fs_renderer_destroy(ren);

    /* The public defaults are the swap's own (fs_swap_params_default). */
    FS_ASSERT_OK(fs_renderer_create(ctx, &ren));
    fs_swap_params sp;
    memset(&sp, 0, sizeof(sp)); /* padding: the renderer was calloc'd */
    fs_swap_params_default(&sp);
    ck_assert_int_eq(memcmp(&sp, fs_renderer_internal_params(ren), sizeof(sp)), 0);
    fs_renderer_destroy(ren);
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    fs_context_destroy(ctx);
}
END_TEST

static Suite *param_suite(void)
{
    Suite *s = suite_create("param");
    TCase *tc = tcase_create("param");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, param_table);
    tcase_add_test(tc, param_handles);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fs_test_run_suite(param_suite());
}
