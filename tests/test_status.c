#include "testutil.h"

#include <string.h>

START_TEST(names_and_messages)
{
    ck_assert_str_eq(fs_status_name(FS_OK), "FS_OK");
    ck_assert_str_eq(fs_status_name(FS_ERR_NO_FACE), "FS_ERR_NO_FACE");
    ck_assert_str_eq(fs_status_name((fs_status)-9999), "FS_ERR_UNKNOWN");
    ck_assert_str_eq(fs_status_message((fs_status)12345), "unknown status code");
    /* Every code in the table has a distinct name and a non-empty message. */
    static const fs_status all[] = {
#define X_(name, value, message) FS_##name,
        FS_STATUS_LIST(X_)
#undef X_
    };
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        ck_assert(all[i] <= 0);
        ck_assert(strlen(fs_status_message(all[i])) > 0);
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(fs_status_name(all[i]), fs_status_name(all[j]));
    }
}
END_TEST

START_TEST(version)
{
    ck_assert_int_eq(fs_version(), FS_VERSION);
    char want[32];
    snprintf(want, sizeof(want), "%d.%d.%d", FS_VERSION_MAJOR, FS_VERSION_MINOR, FS_VERSION_PATCH);
    ck_assert_str_eq(fs_version_string(), want);
}
END_TEST

START_TEST(context_params)
{
    fs_context *ctx = NULL;
    FS_ASSERT_STATUS(fs_context_create(NULL), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_OK(fs_context_create(&ctx));
    int64_t v = -7, lo, hi;
    FS_ASSERT_OK(fs_context_get(ctx, FS_CONTEXT_THREADS, &v));
    ck_assert_int_eq(v, 1);
    FS_ASSERT_OK(fs_context_param_bounds(FS_CONTEXT_THREADS, &lo, &hi));
    FS_ASSERT_STATUS(fs_context_set(ctx, FS_CONTEXT_THREADS, hi + 1), FS_ERR_OUT_OF_RANGE);
    ck_assert(strlen(fs_context_last_error(ctx)) > 0);
    FS_ASSERT_STATUS(fs_context_set(ctx, (fs_context_param)99, 1), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_context_set(NULL, FS_CONTEXT_THREADS, 1), FS_ERR_INVALID_ARGUMENT);
    v = 42;
    FS_ASSERT_STATUS(fs_context_get(ctx, (fs_context_param)-1, &v), FS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(v, 42); /* untouched on failure */
    FS_ASSERT_OK(fs_context_set_model_dir(ctx, "/nowhere"));
    ck_assert_str_eq(fs_context_model_dir(ctx), "/nowhere");
    FS_ASSERT_STATUS(fs_context_set_model_dir(ctx, NULL), FS_ERR_INVALID_ARGUMENT);
    fs_context_destroy(ctx);
    fs_context_destroy(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, names_and_messages);
    tcase_add_test(tc, version);
    tcase_add_test(tc, context_params);
    suite_add_tcase(s, tc);
    return fs_test_run_suite(s);
}
