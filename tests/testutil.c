#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *join(const char *env, const char *fallback, const char *file)
{
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ % 8];
    const char *dir = getenv(env);
    snprintf(b, sizeof(bufs[0]), "%s/%s", dir && *dir ? dir : fallback, file);
    return b;
}

const char *fs_test_model_path(const char *file)
{
    return join("FS_MODEL_DIR", "data/models", file);
}

const char *fs_test_data_path(const char *file)
{
    return join("FS_TESTDATA_DIR", "data/testdata", file);
}

const char *fs_test_golden_path(const char *file)
{
    return join("FS_GOLDEN_DIR", "tests/golden", file);
}

int fs_test_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

const char *fs_test_tmp_path(const char *tag)
{
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ % 8];
    const char *dir = getenv("TMPDIR");
    snprintf(b, sizeof(bufs[0]), "%s/fs_test_%ld_%s", dir && *dir ? dir : "/tmp", (long)getpid(), tag);
    return b;
}

void fs_test_copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    ck_assert_msg(a && b, "copy %s -> %s", from, to);
    char buf[1 << 15];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), a)) > 0)
        ck_assert(fwrite(buf, 1, n, b) == n);
    fclose(a);
    ck_assert(fclose(b) == 0);
}

int fs_test_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
