/*
 * The CUDA backend's plumbing, on any machine: the module is found or its
 * absence is reported clearly, FS_BACKEND_CUDA fails with
 * FS_ERR_BACKEND_UNAVAILABLE where it cannot run, AUTO falls back to the
 * CPU, and the module (when built: FS_CUDA_MODULE is set by meson) loads,
 * exports only its entry point and reports itself unavailable without a GPU.
 * The kernel-vs-reference comparison on a GPU is tests/test_cuda_gpu.c.
 *
 * Every test runs in its own forked child (forced below, whatever CK_FORK
 * says): the module is loaded once per process, so each test starts with
 * none loaded and may point FS_CUDA_MODULE elsewhere, and no CUDA state is
 * ever created in the parent before a fork.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "internal.h"
#include "testutil.h"

/* The built module, or NULL when the build has none (-Dcuda=disabled or no CUDA). */
static const char *built_module;

typedef struct log_capture {
    char text[4096];
    int count;
} log_capture;

static void capture_log(void *user, fs_log_level level, const char *message)
{
    log_capture *cap = user;
    const size_t used = strlen(cap->text);
    snprintf(cap->text + used, sizeof(cap->text) - used, "[%d] %s\n", (int)level, message);
    cap->count++;
}

static fs_context *new_context(log_capture *cap)
{
    fs_context *ctx = NULL;
    FS_ASSERT_OK(fs_context_create(&ctx));
    if (cap) {
        memset(cap, 0, sizeof(*cap));
        fs_context_set_log_callback(ctx, capture_log, cap, FS_LOG_DEBUG);
    }
    return ctx;
}

/* Asking for CUDA fails, leaves the context on AUTO and says why. */
static void assert_cuda_refused(fs_context *ctx, const char *want_in_detail)
{
    FS_ASSERT_STATUS(fs_context_set(ctx, FS_CONTEXT_BACKEND, FS_BACKEND_CUDA),
                     FS_ERR_BACKEND_UNAVAILABLE);
    const char *detail = fs_context_last_error(ctx);
    ck_assert_msg(strstr(detail, want_in_detail), "detail \"%s\" lacks \"%s\"", detail,
                  want_in_detail);
    ck_assert_msg(strstr(detail, "backend CUDA"), "detail \"%s\" does not name the backend",
                  detail);
    int64_t backend = -1;
    FS_ASSERT_OK(fs_context_get(ctx, FS_CONTEXT_BACKEND, &backend));
    ck_assert_int_eq(backend, FS_BACKEND_AUTO);
    ck_assert_int_eq(fs_context_active_backend(ctx), FS_BACKEND_CPU);
}

/* AUTO resolves to the CPU, keeps the CPU kernels and logs why at info level. */
static void assert_auto_falls_back(fs_context *ctx, const log_capture *cap,
                                   const char *want_in_log)
{
    const fs_engine *ops = fs_context_engine(ctx);
    ck_assert_ptr_nonnull(ops);
    ck_assert_int_eq(fs_context_active_backend(ctx), FS_BACKEND_CPU);
    ck_assert_ptr_nonnull(ops->nn.k[FS_NN_ACTIVATION].name);
    ck_assert_str_ne(ops->nn.k[FS_NN_ACTIVATION].name, "cuda");
    ck_assert_msg(strstr(cap->text, "[2] CUDA backend not used") != NULL,
                  "no info-level fallback message in log:\n%s", cap->text);
    ck_assert_msg(strstr(cap->text, want_in_log) != NULL, "log lacks \"%s\":\n%s", want_in_log,
                  cap->text);
    /* Resolved once: asking again neither reloads nor logs again. */
    const int logged = cap->count;
    ck_assert_ptr_eq(fs_context_engine(ctx), ops);
    ck_assert_int_eq(cap->count, logged);
}

START_TEST(test_missing_module_refused)
{
    setenv("FS_CUDA_MODULE", "/nonexistent/libfaceswap-cuda.so", 1);
    fs_context *ctx = new_context(NULL);
    assert_cuda_refused(ctx, "CUDA module not found: FS_CUDA_MODULE=/nonexistent/");
    /* The CPU and AUTO stay available. */
    FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_BACKEND, FS_BACKEND_CPU));
    ck_assert_str_eq(fs_context_last_error(ctx), "");
    FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_BACKEND, FS_BACKEND_AUTO));
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(test_missing_module_auto_falls_back)
{
    setenv("FS_CUDA_MODULE", "/nonexistent/libfaceswap-cuda.so", 1);
    log_capture cap;
    fs_context *ctx = new_context(&cap);
    assert_auto_falls_back(ctx, &cap, "not found");
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(test_default_search_folder)
{
    /* Without FS_CUDA_MODULE the core looks next to the binary holding it:
     * here the test program's folder, which never holds the module. */
    unsetenv("FS_CUDA_MODULE");
    fs_context *ctx = new_context(NULL);
    assert_cuda_refused(ctx, "CUDA module not found: no ");
    ck_assert_msg(strstr(fs_context_last_error(ctx), "/" FS_CUDA_MODULE_FILE),
                  "detail does not name the file looked for: %s", fs_context_last_error(ctx));
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(test_not_a_module)
{
    /* A file that is no shared object at all. */
    const char *path = fs_test_tmp_path("not_a_module.so");
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("not an ELF file\n", f);
    fclose(f);
    setenv("FS_CUDA_MODULE", path, 1);
    fs_context *ctx = new_context(NULL);
    assert_cuda_refused(ctx, "cannot be loaded");
    fs_context_destroy(ctx);
    remove(path);
}
END_TEST

START_TEST(test_wrong_library)
{
    /* A real shared object without the entry point: the C library, found
     * through the FILE object stderr points into. */
    Dl_info info;
    ck_assert(dladdr(stderr, &info) != 0 && info.dli_fname && info.dli_fname[0] == '/');
    setenv("FS_CUDA_MODULE", info.dli_fname, 1);
    fs_context *ctx = new_context(NULL);
    assert_cuda_refused(ctx,
                        "is not a libfaceswap CUDA module: it does not export " FS_CUDA_BACKEND_ENTRY);
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(test_cpu_never_loads)
{
    /* Choosing the CPU or forcing the reference must not touch the module. */
    setenv("FS_CUDA_MODULE", "/nonexistent/libfaceswap-cuda.so", 1);
    log_capture cap;
    fs_context *ctx = new_context(&cap);
    FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_BACKEND, FS_BACKEND_CPU));
    ck_assert_ptr_nonnull(fs_context_engine(ctx));
    ck_assert_int_eq(fs_context_active_backend(ctx), FS_BACKEND_CPU);
    ck_assert_int_eq(cap.count, 0);

    FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_BACKEND, FS_BACKEND_AUTO));
    FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_FORCE_REFERENCE, 1));
    const fs_engine *ops = fs_context_engine(ctx);
    ck_assert_int_eq(fs_context_active_backend(ctx), FS_BACKEND_CPU);
    ck_assert_str_eq(ops->nn.k[FS_NN_ACTIVATION].name, "ref");
    ck_assert_msg(strstr(cap.text, "reference path forced"), "log:\n%s", cap.text);
    fs_context_destroy(ctx);
}
END_TEST

/* ---- with the built module -------------------------------------------- */

START_TEST(test_module_loads)
{
    /* dlopen alone creates no CUDA context: safe in any process. */
    void *h = dlopen(built_module, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(h != NULL, "dlopen(%s): %s", built_module, dlerror());
    fs_backend_entry_fn entry;
    *(void **)&entry = dlsym(h, FS_CUDA_BACKEND_ENTRY);
    ck_assert_msg(entry != NULL, "%s does not export %s", built_module, FS_CUDA_BACKEND_ENTRY);
    const fs_backend_module *m = entry();
    ck_assert_ptr_nonnull(m);
    const fs_backend_abi want = FS_BACKEND_ABI_INIT;
    ck_assert_int_eq(m->abi.version, want.version);
    ck_assert_int_eq(m->abi.version, 2);
    ck_assert_int_eq(m->abi.size_engine, want.size_engine);
    ck_assert_int_eq(m->abi.size_nn_ops, want.size_nn_ops);
    ck_assert_int_eq(m->abi.size_sample_ops, want.size_sample_ops);
    ck_assert_int_eq(m->abi.size_raster_ops, want.size_raster_ops);
    ck_assert_int_eq(m->abi.size_compose_ops, want.size_compose_ops);
    ck_assert_int_eq(m->abi.size_swap_texture_ops, want.size_swap_texture_ops);
    ck_assert_int_eq(m->abi.size_exec, want.size_exec);
    ck_assert_int_eq(m->abi.size_nn_op_desc, want.size_nn_op_desc);
    ck_assert_int_eq(m->abi.size_sample_desc, want.size_sample_desc);
    ck_assert_str_eq(m->name, "cuda");
    ck_assert_msg(strstr(m->build_info, "sm_") != NULL, "build_info: %s", m->build_info);
    /* Hidden visibility reached the nvcc-compiled objects too. */
    const char *hidden[] = {"fs_cuda_activation", "fs_cuda_check_kernels", "cuda_probe",
                            "cuda_install", "act_create"};
    for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
        ck_assert_msg(dlsym(h, hidden[i]) == NULL, "module exports %s", hidden[i]);
    /* Never dlclose()d: see lib/backend.c. */
}
END_TEST

START_TEST(test_core_loads_module)
{
    setenv("FS_CUDA_MODULE", built_module, 1);
    char detail[FS_ERROR_DETAIL_SIZE] = "";
    const fs_backend_module *m = fs_backend_cuda_module(detail, sizeof(detail));
    ck_assert_msg(m != NULL, "module not loaded: %s", detail);
    ck_assert_str_eq(m->name, "cuda");
    /* Loaded once: the same table on every call. */
    ck_assert_ptr_eq(fs_backend_cuda_module(NULL, 0), m);
}
END_TEST

START_TEST(test_install_overrides_activation_only)
{
    /* install() is plain table work (no CUDA call), so it can be checked
     * on any machine; kernels created from it are the GPU test's job. */
    setenv("FS_CUDA_MODULE", built_module, 1);
    const fs_backend_module *m = fs_backend_cuda_module(NULL, 0);
    ck_assert_ptr_nonnull(m);
    fs_engine before, ops;
    fs_engine_init_reference(&before);
    ops = before;
    char detail[256] = "";
    FS_ASSERT_OK(m->install(0, &ops, detail, sizeof(detail)));
    for (int t = 0; t < FS_NN_OP_COUNT; t++) {
        if (t == FS_NN_ACTIVATION) {
            ck_assert_str_eq(ops.nn.k[t].name, "cuda");
            ck_assert(ops.nn.k[t].create != NULL);
            ck_assert(ops.nn.k[t].run != NULL);
            ck_assert(ops.nn.k[t].destroy != NULL);
        } else {
            ck_assert_msg(memcmp(&ops.nn.k[t], &before.nn.k[t], sizeof(fs_nn_kernel)) == 0,
                          "nn op %d changed", t);
        }
    }
    /* the families it does not accelerate are left as they were */
    ck_assert(memcmp(&ops.sample, &before.sample, sizeof(ops.sample)) == 0);
    ck_assert(memcmp(&ops.raster, &before.raster, sizeof(ops.raster)) == 0);
    ck_assert(memcmp(&ops.compose, &before.compose, sizeof(ops.compose)) == 0);
    ck_assert(memcmp(&ops.swap, &before.swap, sizeof(ops.swap)) == 0);

    /* What the kernel cannot run goes back to the caller before any CUDA call. */
    const fs_nn_kernel k = ops.nn.k[FS_NN_ACTIVATION];
    fs_nn_op_desc d;
    memset(&d, 0, sizeof(d));
    d.type = FS_NN_ACTIVATION;
    d.num_inputs = 1;
    d.in[0] = d.out = (fs_nn_shape){1, 4, 4, 3};
    d.act = FS_NN_ACT_RELU;
    void *state = NULL;
    d.out.c = 5; /* shape mismatch */
    ck_assert_int_eq(k.create(&d, &state), FS_ERR_UNSUPPORTED);
    d.out.c = 3;
    d.type = FS_NN_CONV2D;
    ck_assert_int_eq(k.create(&d, &state), FS_ERR_UNSUPPORTED);
    d.type = FS_NN_ACTIVATION;
    d.act = FS_NN_ACT_PRELU; /* without alpha */
    ck_assert_int_eq(k.create(&d, &state), FS_ERR_INVALID_ARGUMENT);
    d.act = FS_NN_ACT_CLAMP;
    d.clamp_min = 6.0f;
    d.clamp_max = 0.0f;
    ck_assert_int_eq(k.create(&d, &state), FS_ERR_INVALID_ARGUMENT);
    d.act = (fs_nn_act)99;
    ck_assert_int_eq(k.create(&d, &state), FS_ERR_UNSUPPORTED);
    ck_assert_ptr_null(state);
    k.destroy(NULL);
}
END_TEST

START_TEST(test_hidden_devices)
{
    /* CUDA_VISIBLE_DEVICES=-1 hides every GPU, so this holds on a GPU
     * machine too: the module loads and reports "no CUDA device". Set before
     * the runtime's first call in this (fresh) process. */
    setenv("CUDA_VISIBLE_DEVICES", "-1", 1);
    setenv("FS_CUDA_MODULE", built_module, 1);
    fs_context *ctx = new_context(NULL);
    assert_cuda_refused(ctx, "no CUDA device: ");
    fprintf(stderr, "  (detail seen: %s)\n", fs_context_last_error(ctx));
    fs_context_destroy(ctx);

    log_capture cap;
    ctx = new_context(&cap);
    assert_auto_falls_back(ctx, &cap, "no CUDA device: ");
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(test_this_machine)
{
    /* Whatever this machine has: the module's verdict and the context's agree. */
    setenv("FS_CUDA_MODULE", built_module, 1);
    const fs_backend_module *m = fs_backend_cuda_module(NULL, 0);
    ck_assert_ptr_nonnull(m);
    char detail[FS_ERROR_DETAIL_SIZE] = "";
    const fs_status st = m->probe(0, detail, sizeof(detail));
    log_capture cap;
    fs_context *ctx = new_context(&cap);
    if (st != FS_OK) {
        ck_assert_int_eq(st, FS_ERR_BACKEND_UNAVAILABLE);
        ck_assert_msg(detail[0] != '\0', "probe gave no reason");
        fprintf(stderr, "  (no usable GPU here: %s)\n", detail);
        assert_cuda_refused(ctx, detail);
        /* A device index past any real count is refused as well. */
        FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_DEVICE, 1023));
        assert_cuda_refused(ctx, "no CUDA device");
        FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_DEVICE, 0));
        assert_auto_falls_back(ctx, &cap, detail);
    } else {
        fprintf(stderr, "  (GPU found: %s)\n", m->build_info);
        /* AUTO picks the GPU. */
        ck_assert_str_eq(fs_context_engine(ctx)->nn.k[FS_NN_ACTIVATION].name, "cuda");
        ck_assert_int_eq(fs_context_active_backend(ctx), FS_BACKEND_CUDA);
        FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_BACKEND, FS_BACKEND_CUDA));
        ck_assert_str_eq(fs_context_engine(ctx)->nn.k[FS_NN_ACTIVATION].name, "cuda");
        ck_assert_int_eq(fs_context_active_backend(ctx), FS_BACKEND_CUDA);
        /* An absent device is refused and the CUDA choice on device 0 kept. */
        FS_ASSERT_STATUS(fs_context_set(ctx, FS_CONTEXT_DEVICE, 1023),
                         FS_ERR_BACKEND_UNAVAILABLE);
        ck_assert_msg(strstr(fs_context_last_error(ctx), "no CUDA device 1023"), "%s",
                      fs_context_last_error(ctx));
        int64_t device = -1;
        FS_ASSERT_OK(fs_context_get(ctx, FS_CONTEXT_DEVICE, &device));
        ck_assert_int_eq(device, 0);
        FS_ASSERT_OK(fs_context_set(ctx, FS_CONTEXT_FORCE_REFERENCE, 1));
        ck_assert_str_eq(fs_context_engine(ctx)->nn.k[FS_NN_ACTIVATION].name, "ref");
        ck_assert_int_eq(fs_context_active_backend(ctx), FS_BACKEND_CPU);
    }
    fs_context_destroy(ctx);
}
END_TEST

START_TEST(test_module_absent_from_build)
{
    /* -Dcuda=disabled (or no CUDA): nothing to load, every path says so. */
    unsetenv("FS_CUDA_MODULE");
    char detail[FS_ERROR_DETAIL_SIZE] = "";
    ck_assert_ptr_null(fs_backend_cuda_module(detail, sizeof(detail)));
    ck_assert_msg(strstr(detail, "CUDA module not found"), "%s", detail);
    log_capture cap;
    fs_context *ctx = new_context(&cap);
    assert_cuda_refused(ctx, "CUDA module not found");
    assert_auto_falls_back(ctx, &cap, "CUDA module not found");
    fs_context_destroy(ctx);
}
END_TEST

static Suite *cuda_module_suite(void)
{
    Suite *s = suite_create("cuda_module");
    TCase *tc = tcase_create("without_module");
    tcase_add_test(tc, test_missing_module_refused);
    tcase_add_test(tc, test_missing_module_auto_falls_back);
    tcase_add_test(tc, test_default_search_folder);
    tcase_add_test(tc, test_not_a_module);
    tcase_add_test(tc, test_wrong_library);
    tcase_add_test(tc, test_cpu_never_loads);
    suite_add_tcase(s, tc);

    tc = tcase_create(built_module ? "with_module" : "module_not_built");
    if (built_module) {
        tcase_add_test(tc, test_module_loads);
        tcase_add_test(tc, test_core_loads_module);
        tcase_add_test(tc, test_install_overrides_activation_only);
        tcase_add_test(tc, test_hidden_devices);
        tcase_add_test(tc, test_this_machine);
    } else {
        tcase_add_test(tc, test_module_absent_from_build);
    }
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    /* meson sets FS_CUDA_MODULE to the built module (tests/meson.build). */
    const char *env = getenv("FS_CUDA_MODULE");
    built_module = env && *env ? strdup(env) : NULL;
    /* Backend selection is what this test checks; a forced reference path
     * (the reference-only CI stage sets it) would hide it. */
    unsetenv("FS_FORCE_REFERENCE");
    printf("cuda_module: %s\n", built_module ? built_module : "module not built");

    SRunner *sr = srunner_create(cuda_module_suite());
    /* Per-test processes are what this test is about (see the top). */
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    free((void *)built_module);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
