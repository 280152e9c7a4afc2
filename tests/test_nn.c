/*
 * Graph-model runtime (lib/nn): JSON reader, tfjs loader, planner, executor.
 *
 *  - the four shipped models load, plan and give the documented outputs;
 *  - their outputs agree with TensorFlow.js (the .f32 files in tests/golden/nn, made by
 *    make-nn-golden.js) with the reference kernels and with the fast table;
 *  - small hand-written graphs check padding arithmetic, fusion and
 *    dequantisation against values computed here;
 *  - bad files and arguments give the right status and a detail naming the
 *    file or node; the JSON reader survives truncation and byte flips.
 */
#include "testutil.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "nn/json.h"
#include "nn/nn.h"
#include "nn/ops_kernels.h"

/* ------------------------------------------------------------ helpers */

static char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s (run scripts/fetch-data.sh?)", path);
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert(buf != NULL);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *size = (size_t)n;
    return buf;
}

static void write_all(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_int_eq(fwrite(data, 1, size, f), size);
    fclose(f);
}

/* A copy of @p text with the first occurrence of @p from replaced by @p to. */
static char *replace_once(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    ck_assert_msg(at != NULL, "'%s' not found in the model", from);
    const size_t a = (size_t)(at - text), nf = strlen(from), nt = strlen(to);
    const size_t rest = strlen(at + nf);
    char *out = malloc(a + nt + rest + 1);
    ck_assert(out != NULL);
    memcpy(out, text, a);
    memcpy(out + a, to, nt);
    memcpy(out + a + nt, at + nf, rest + 1);
    return out;
}

static int contains(const char *text, const char *part)
{
    return strstr(text, part) != NULL;
}

static void init_ref(fs_nn_ops *ops)
{
    fs_nn_ops_init_reference(ops);
}

static void init_fast(fs_nn_ops *ops)
{
    fs_nn_ops_init_reference(ops);
    fs_nn_ops_init_fast(ops);
}

static const char *model_json(const char *name)
{
    static char buf[4][1024];
    static int k;
    char *b = buf[k++ % 4];
    char file[64];
    snprintf(file, sizeof(file), "%s.json", name);
    snprintf(b, sizeof(buf[0]), "%s", fs_test_model_path(file));
    ck_assert_msg(fs_test_file_exists(b), "%s missing: run scripts/fetch-data.sh", b);
    return b;
}

/* A scratch folder holding a (possibly altered) copy of a model. */
typedef struct scratch {
    char dir[512];
    char json[600];
    char bin[600];
} scratch;

static void scratch_make(scratch *s, const char *tag, const char *json_text, size_t json_size,
                         const char *bin_name, const void *bin, size_t bin_size)
{
    snprintf(s->dir, sizeof(s->dir), "%s", fs_test_tmp_path(tag));
    mkdir(s->dir, 0700);
    snprintf(s->json, sizeof(s->json), "%s/model.json", s->dir);
    snprintf(s->bin, sizeof(s->bin), "%s/%s", s->dir, bin_name);
    unlink(s->bin);
    write_all(s->json, json_text, json_size);
    if (bin)
        write_all(s->bin, bin, bin_size);
}

static void scratch_remove(scratch *s)
{
    unlink(s->json);
    unlink(s->bin);
    rmdir(s->dir);
}

/* ------------------------------------------------------------ synthetic input */

static uint32_t hash32(uint32_t i)
{
    uint32_t x = i ^ 0x9e3779b9u;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    x ^= x >> 16;
    return x;
}

/* Exactly the input of tests/golden/nn/make-nn-golden.js (double, then float32). */
static float *make_input(int b, int h, int w, double scale, double offset)
{
    const size_t n = (size_t)b * h * w * 3;
    float *x = malloc(n * sizeof(float));
    ck_assert(x != NULL);
    for (size_t i = 0; i < n; i++) {
        const size_t c = i % 3, p = (i / 3) % ((size_t)h * w);
        const double px = (double)(p % (size_t)w), py = (double)(p / (size_t)w);
        const double bb = (double)(i / ((size_t)h * w * 3));
        const double v = 0.5 + 0.25 * sin(0.05 * px + 0.9 * (double)c + 0.3 * bb) +
                         0.2 * cos(0.037 * py - 0.02 * px) +
                         0.05 * (hash32((uint32_t)i) / 2147483648.0 - 1.0);
        x[i] = (float)(scale * v + offset);
    }
    return x;
}

/* ------------------------------------------------------------ JSON reader */

static fs_status parse(const char *text, fs_json_doc **doc, char *err, size_t n)
{
    return fs_json_parse(text, strlen(text), doc, err, n);
}

START_TEST(json_values)
{
    fs_json_doc *doc = NULL;
    char err[256];
    const char *text = " {\"a\": [1, -2.5e2, 0.125, true, false, null, \"x\\n\\u00e9\\ud83d\\ude00\"],"
                       " \"b\": {\"i\": \"-42\"}, \"c\": {}, \"d\": [], \"\\u0041\": \"caf\xc3\xa9\"} ";
    FS_ASSERT_OK(parse(text, &doc, err, sizeof(err)));
    const fs_json *root = fs_json_root(doc);
    ck_assert_int_eq(root->type, FS_JSON_OBJECT);
    ck_assert_int_eq(root->count, 5);
    const fs_json *a = fs_json_get_typed(root, "a", FS_JSON_ARRAY);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->count, 7);
    const fs_json *v = a->child;
    ck_assert(v->type == FS_JSON_NUMBER && v->num == 1.0);
    v = v->next;
    ck_assert(v->num == -250.0);
    v = v->next;
    ck_assert(v->num == 0.125);
    v = v->next;
    ck_assert_int_eq(v->type, FS_JSON_TRUE);
    v = v->next;
    ck_assert_int_eq(v->type, FS_JSON_FALSE);
    v = v->next;
    ck_assert_int_eq(v->type, FS_JSON_NULL);
    v = v->next;
    ck_assert_str_eq(v->str, "x\n\xc3\xa9\xf0\x9f\x98\x80"); /* U+00E9, U+1F600 */
    ck_assert_int_eq(v->count, 8);
    ck_assert_ptr_null(v->next);
    int64_t i;
    ck_assert(fs_json_int(fs_json_get(fs_json_get(root, "b"), "i"), &i) && i == -42);
    ck_assert(fs_json_int(a->child, &i) && i == 1);
    ck_assert(!fs_json_int(a->child->next->next, &i)); /* 0.125 */
    ck_assert_int_eq(fs_json_get(root, "c")->count, 0);
    ck_assert_ptr_null(fs_json_get(root, "c")->child);
    ck_assert_str_eq(fs_json_string(fs_json_get(root, "A")), "caf\xc3\xa9");
    ck_assert_ptr_null(fs_json_get(root, "missing"));
    ck_assert_ptr_null(fs_json_get(a, "a")); /* not an object */
    fs_json_free(doc);
    fs_json_free(NULL);

    /* Depth limit: exactly FS_JSON_MAX_DEPTH levels parse, one more does not. */
    char deep[2 * FS_JSON_MAX_DEPTH + 8];
    for (int d = FS_JSON_MAX_DEPTH; d <= FS_JSON_MAX_DEPTH + 1; d++) {
        memset(deep, '[', (size_t)d);
        memset(deep + d, ']', (size_t)d);
        deep[2 * d] = '\0';
        doc = NULL;
        const fs_status st = parse(deep, &doc, err, sizeof(err));
        ck_assert_int_eq(st, d == FS_JSON_MAX_DEPTH ? FS_OK : FS_ERR_CORRUPT);
        fs_json_free(doc);
    }
    ck_assert(contains(err, "nested deeper"));
}
END_TEST

START_TEST(json_errors)
{
    static const struct {
        const char *text;
        fs_status want;
        const char *detail;
    } cases[] = {
        {"", FS_ERR_TRUNCATED, "empty"},
        {"  \n ", FS_ERR_TRUNCATED, "empty"},
        {"{\"a\": [1, 2", FS_ERR_CORRUPT, "unexpected end"},
        {"{\"a\": 1,}", FS_ERR_CORRUPT, "line 1, column 9"},
        {"[1, 2,]", FS_ERR_CORRUPT, "unexpected character ']'"},
        {"[01]", FS_ERR_CORRUPT, "expected ','"},
        {"[1.]", FS_ERR_CORRUPT, "no digit after '.'"},
        {"[1e]", FS_ERR_CORRUPT, "exponent"},
        {"[-]", FS_ERR_CORRUPT, "invalid number"},
        {"[1e999]", FS_ERR_CORRUPT, "out of range"},
        {"[NaN]", FS_ERR_CORRUPT, "unexpected character 'N'"},
        {"{\"a\" 1}", FS_ERR_CORRUPT, "expected ':'"},
        {"{1: 2}", FS_ERR_CORRUPT, "member name"},
        {"[\"abc]", FS_ERR_CORRUPT, "unterminated string"},
        {"[\"a\tb\"]", FS_ERR_CORRUPT, "control character"},
        {"[\"\\x\"]", FS_ERR_CORRUPT, "invalid escape"},
        {"[\"\\u12G4\"]", FS_ERR_CORRUPT, "\\u escape"},
        {"[\"\\ud800\"]", FS_ERR_CORRUPT, "unpaired high surrogate"},
        {"[\"\\udc00\"]", FS_ERR_CORRUPT, "unpaired low surrogate"},
        {"[\"\xc0\xaf\"]", FS_ERR_CORRUPT, "UTF-8"},       /* overlong '/' */
        {"[\"\xed\xa0\x80\"]", FS_ERR_CORRUPT, "UTF-8"},   /* encoded surrogate */
        {"[\"\xf4\x90\x80\x80\"]", FS_ERR_CORRUPT, "UTF-8"}, /* above U+10FFFF */
        {"[\"\xe2\x82\"]", FS_ERR_CORRUPT, "UTF-8"},       /* cut sequence */
        {"[tru]", FS_ERR_CORRUPT, "unexpected character"},
        {"[1] [2]", FS_ERR_CORRUPT, "after the document"},
        {"\xff\xfe", FS_ERR_CORRUPT, "unexpected byte 0xff"},
        {"{\n  \"a\":\n  x}", FS_ERR_CORRUPT, "line 3, column 3"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        fs_json_doc *doc = (fs_json_doc *)&cases; /* must stay untouched */
        char err[256] = "";
        const fs_status st = parse(cases[k].text, &doc, err, sizeof(err));
        ck_assert_msg(st == cases[k].want, "case %zu: %s, want %s (%s)", k, fs_status_name(st),
                      fs_status_name(cases[k].want), err);
        ck_assert_msg(contains(err, cases[k].detail), "case %zu: detail '%s' lacks '%s'", k, err,
                      cases[k].detail);
        ck_assert(doc == (fs_json_doc *)&cases);
    }
    /* Embedded NUL bytes are data outside strings: an error, not an end. */
    fs_json_doc *doc = NULL;
    FS_ASSERT_STATUS(fs_json_parse("[1]\0", 4, &doc, NULL, 0), FS_ERR_CORRUPT);
    FS_ASSERT_STATUS(fs_json_parse(NULL, 1, &doc, NULL, 0), FS_ERR_INVALID_ARGUMENT);
}
END_TEST

/* Truncated prefixes (every 997th length) and random byte changes of the
 * real model.json files: the reader and the loader must fail cleanly. */
START_TEST(json_fuzz)
{
    static const char *names[] = {"blazeface", "facemesh", "iris", "faceres"};
    static const char interesting[] = "{}[]\",:0123456789-+.eE\\ tfn\x80\xff";
    fs_nn_ops ops;
    init_ref(&ops);
    uint32_t seed = 12345;
    int parsed = 0, loaded = 0, prepared = 0, total = 0;
    for (int mi = 0; mi < 4; mi++) {
        size_t n, wn;
        char *text = read_all(model_json(names[mi]), &n);
        char bin[64];
        snprintf(bin, sizeof(bin), "%s.bin", names[mi]);
        char *weights = read_all(fs_test_model_path(bin), &wn);
        for (size_t len = 0; len < n; len += 997) {
            fs_json_doc *doc = NULL;
            char err[256];
            const fs_status st = fs_json_parse(text, len, &doc, err, sizeof(err));
            ck_assert_msg(st == FS_ERR_CORRUPT || st == FS_ERR_TRUNCATED,
                          "%s prefix %zu: %s", names[mi], len, fs_status_name(st));
            ck_assert_ptr_null(doc);
            fs_error_buf eb = {{0}};
            fs_nn_model *m = NULL;
            ck_assert_int_ne(fs_nn_model_load_memory(&ops, text, len, weights, wn, &eb, &m), FS_OK);
            ck_assert_ptr_null(m);
            ck_assert(contains(eb.text, "model.json"));
        }
        char *mut = malloc(n);
        ck_assert(mut != NULL);
        int ran_here = 0;
        for (int r = 0; r < 150; r++) {
            memcpy(mut, text, n);
            const int flips = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 4;
            for (int f = 0; f < flips; f++) {
                seed = seed * 1103515245u + 12345u;
                const size_t at = (seed >> 8) % n;
                seed = seed * 1103515245u + 12345u;
                mut[at] = (seed >> 16) % 3 ? interesting[(seed >> 8) % (sizeof(interesting) - 1)]
                                           : (char)(seed >> 20);
            }
            total++;
            fs_json_doc *doc = NULL;
            if (fs_json_parse(mut, n, &doc, NULL, 0) == FS_OK) {
                parsed++;
                fs_json_free(doc);
            }
            fs_error_buf eb = {{0}};
            fs_nn_model *m = NULL;
            const fs_status st = fs_nn_model_load_memory(&ops, mut, n, weights, wn, &eb, &m);
            if (st != FS_OK) {
                ck_assert_ptr_null(m);
                ck_assert_msg(eb.text[0] != '\0', "%s: no detail for %s", names[mi],
                              fs_status_name(st));
                continue;
            }
            loaded++;
            /* A valid variant must plan (or refuse) without harm, and what
             * plans must run: the first few per model are run. */
            if (fs_nn_model_prepare(m, 1, &eb) == FS_OK) {
                if (ran_here < 3) {
                    const fs_nn_shape is = fs_nn_model_input_shape(m);
                    const size_t cnt = (size_t)is.h * is.w * is.c;
                    float *in = calloc(cnt ? cnt : 1, sizeof(float));
                    ck_assert(in != NULL);
                    FS_ASSERT_OK(fs_nn_model_run(m, FS_EXEC_SERIAL(&eb), in));
                    free(in);
                    ran_here++;
                }
                prepared++;
            }
            fs_nn_model_destroy(m);
        }
        free(mut);
        free(text);
        free(weights);
    }
    printf("json_fuzz: %d mutants, %d parsed, %d loaded, %d prepared\n", total, parsed, loaded,
           prepared);
    ck_assert(parsed > 0 && loaded > 0); /* the mutants do reach the loader and the planner */
}
END_TEST

/* ------------------------------------------------------------ real models */

typedef struct out_spec {
    const char *name;
    int rank;
    int64_t dims[4];
} out_spec;

typedef struct model_spec {
    const char *name;
    int batch;
    int h, w;
    double scale, offset;
    int declared_batch; /* fs_nn_model_input_shape().n: 0 = any */
    int num_outputs;
    out_spec out[4];    /* in the order of the golden file */
} model_spec;

static const model_spec specs[] = {
    {"blazeface", 1, 256, 256, 2.0, -1.0, 1, 4,
     {{"Identity", 3, {1, 512, 1}},
      {"Identity_1", 3, {1, 384, 1}},
      {"Identity_2", 3, {1, 512, 16}},
      {"Identity_3", 3, {1, 384, 16}}}},
    {"facemesh", 1, 192, 192, 1.0, 0.0, 0, 3,
     {{"Identity", 2, {1, 266}}, {"Identity_1", 2, {1, 1}}, {"Identity_2", 2, {1, 1404}}}},
    {"iris", 2, 64, 64, 1.0, 0.0, 0, 1, {{"Identity", 4, {2, 1, 1, 228}}}},
    {"faceres", 1, 224, 224, 255.0, 0.0, 0, 3,
     {{"global_pooling/Mean", 2, {1, 1024}},
      {"gender_pred/Sigmoid", 2, {1, 1}},
      {"age_pred/Softmax", 2, {1, 100}}}},
};

static fs_nn_model *load_prepared(const fs_nn_ops *ops, const model_spec *sp)
{
    fs_error_buf err = {{0}};
    fs_nn_model *m = NULL;
    fs_status st = fs_nn_model_load(ops, model_json(sp->name), &err, &m);
    ck_assert_msg(st == FS_OK, "%s: %s %s", sp->name, fs_status_name(st), err.text);
    st = fs_nn_model_prepare(m, sp->batch, &err);
    ck_assert_msg(st == FS_OK, "%s: %s %s", sp->name, fs_status_name(st), err.text);
    return m;
}

START_TEST(real_models_shapes)
{
    fs_nn_ops ops;
    init_fast(&ops);
    for (size_t k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
        const model_spec *sp = &specs[k];
        fs_nn_model *m = load_prepared(&ops, sp);
        const fs_nn_shape in = fs_nn_model_input_shape(m);
        ck_assert_int_eq(in.n, sp->declared_batch);
        ck_assert(in.h == sp->h && in.w == sp->w && in.c == 3);
        ck_assert_int_eq(fs_nn_model_output_count(m), sp->num_outputs);
        size_t out_bytes = 0;
        for (int o = 0; o < sp->num_outputs; o++) {
            const out_spec *os = &sp->out[o];
            const float *data = NULL;
            fs_nn_shape s;
            int rank;
            int64_t dims[4];
            FS_ASSERT_OK(fs_nn_model_output(m, os->name, &data, &s));
            FS_ASSERT_OK(fs_nn_model_output_dims(m, os->name, &rank, dims));
            ck_assert_ptr_nonnull(data);
            ck_assert_msg(rank == os->rank, "%s %s: rank %d", sp->name, os->name, rank);
            size_t count = 1;
            for (int d = 0; d < rank; d++) {
                ck_assert_msg(dims[d] == os->dims[d], "%s %s: dim %d is %lld", sp->name, os->name,
                              d, (long long)dims[d]);
                count *= (size_t)dims[d];
            }
            ck_assert_uint_eq(fs_nn_shape_size(s), count);
            ck_assert_int_eq(s.n, (int)dims[0]);
            ck_assert_int_eq(s.c, (int)dims[rank - 1]);
            out_bytes += count * sizeof(float);
        }
        /* Output names come back in graph order, each findable. */
        for (int o = 0; o < fs_nn_model_output_count(m); o++)
            FS_ASSERT_OK(fs_nn_model_output(m, fs_nn_model_output_name(m, o), NULL, NULL));
        ck_assert_ptr_null(fs_nn_model_output_name(m, sp->num_outputs));
        FS_ASSERT_STATUS(fs_nn_model_output(m, "no such output", NULL, NULL),
                         FS_ERR_INVALID_ARGUMENT);
        /* An intermediate node is not an output (its buffer is reused). */
        FS_ASSERT_STATUS(fs_nn_model_output(m, "input_1", NULL, NULL), FS_ERR_INVALID_ARGUMENT);
        const size_t arena = fs_nn_model_arena_bytes(m);
        ck_assert(arena > out_bytes);
        printf("%s: batch %d, %d kernel steps (%d ref), arena %zu KiB\n", sp->name, sp->batch,
               fs_nn_model_step_count(m), fs_nn_model_steps_using(m, "ref"), arena / 1024);
        fs_nn_model_destroy(m);
    }
}
END_TEST

/* Buffers are shared: the arena is far smaller than the sum of all
 * activations, and a larger batch scales it. */
START_TEST(real_models_batches)
{
    fs_nn_ops ops;
    init_ref(&ops);
    fs_error_buf err = {{0}};
    fs_nn_model *m = NULL;
    FS_ASSERT_OK(fs_nn_model_load(&ops, model_json("facemesh"), &err, &m));
    FS_ASSERT_OK(fs_nn_model_prepare(m, 1, &err));
    const size_t a1 = fs_nn_model_arena_bytes(m);
    /* 96x96x16 floats (after the first stride-2 convolution) is the largest
     * activation; a residual block keeps 3 such alive, and reuse keeps the
     * arena near that (the 89 activations add up to 30 times more). */
    const size_t big = 96 * 96 * 16 * sizeof(float);
    ck_assert_msg(a1 >= 3 * big && a1 < 4 * big, "arena %zu", a1);
    FS_ASSERT_OK(fs_nn_model_prepare(m, 3, &err));
    const size_t a3 = fs_nn_model_arena_bytes(m);
    ck_assert(a3 > 2 * a1 && a3 < 4 * a1);
    fs_nn_shape s;
    FS_ASSERT_OK(fs_nn_model_output(m, "Identity_2", NULL, &s));
    ck_assert(s.n == 3 && s.c == 1404);
    fs_nn_model_destroy(m);

    /* blazeface's Reshape constants fix the batch to 1. */
    m = NULL;
    FS_ASSERT_OK(fs_nn_model_load(&ops, model_json("blazeface"), &err, &m));
    FS_ASSERT_STATUS(fs_nn_model_prepare(m, 2, &err), FS_ERR_SHAPE);
    ck_assert_msg(contains(err.text, "node 'input'") && contains(err.text, "batch"), "%s",
                  err.text);
    FS_ASSERT_STATUS(fs_nn_model_run(m, FS_EXEC_SERIAL(&err), (const float *)&s), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_nn_model_prepare(m, 0, &err), FS_ERR_OUT_OF_RANGE);
    FS_ASSERT_OK(fs_nn_model_prepare(m, 1, &err));
    fs_nn_model_destroy(m);
}
END_TEST

/* A kernel that fails on its nth run, to check that the executor stops at
 * the failing step and hands its status and detail up. */
static int fail_countdown;
static int runs_after_failure;
static fs_nn_kernel inner_kernels[FS_NN_OP_COUNT];

static fs_status failing_run(const fs_exec *ex, void *state, const float *const *inputs,
                             float *output)
{
    if (fail_countdown < 0) {
        runs_after_failure++;
        return FS_OK;
    }
    if (fail_countdown-- == 0) {
        fail_countdown = -1;
        return fs_fail(FS_EXEC_ERR(ex), FS_ERR_GPU, "injected kernel failure");
    }
    /* only CONV2D is wrapped: its state is the reference CONV2D's */
    return inner_kernels[FS_NN_CONV2D].run(ex, state, inputs, output);
}

START_TEST(kernel_failure_stops_the_run)
{
    fs_nn_ops ops;
    init_ref(&ops);
    memcpy(inner_kernels, ops.k, sizeof(inner_kernels));
    ops.k[FS_NN_CONV2D].run = failing_run;
    fs_error_buf err = {{0}};
    fs_nn_model *m = NULL;
    FS_ASSERT_OK(fs_nn_model_load(&ops, model_json("blazeface"), &err, &m));
    FS_ASSERT_OK(fs_nn_model_prepare(m, 1, &err));
    const fs_nn_shape in = fs_nn_model_input_shape(m);
    float *x = calloc(fs_nn_shape_size((fs_nn_shape){1, in.h, in.w, in.c}), sizeof(float));
    ck_assert_ptr_nonnull(x);
    /* the third convolution fails: the run returns its status and detail,
     * and no convolution runs after it */
    fail_countdown = 2;
    runs_after_failure = 0;
    FS_ASSERT_STATUS(fs_nn_model_run(m, FS_EXEC_SERIAL(&err), x), FS_ERR_GPU);
    ck_assert_msg(contains(err.text, "injected kernel failure"), "%s", err.text);
    ck_assert_int_eq(runs_after_failure, 0);
    /* the same model runs again once the kernel recovers */
    FS_ASSERT_OK(fs_nn_model_run(m, FS_EXEC_SERIAL(&err), x));
    ck_assert_int_gt(runs_after_failure, 10);
    /* a NULL execution context is a bad argument, not a crash */
    FS_ASSERT_STATUS(fs_nn_model_run(m, NULL, x), FS_ERR_INVALID_ARGUMENT);
    free(x);
    fs_nn_model_destroy(m);
}
END_TEST

/*
 * Agreement with TensorFlow.js (cpu backend, float32). Tolerance: max |error|
 * over an output <= 2e-5 x max |golden| of that output, at least 1e-6. The
 * kernels sum in another order than tfjs (and the planner folds biases and
 * batch-norm scales into convolutions), which moves each result by a few
 * float32 ulps; through 30-60 layers that measured at most 2.6e-6 of the
 * output range here (reference and fast tables alike), the size of tfjs' own
 * cpu-vs-wasm gap (1.2e-6 on blazeface, printed by make-nn-golden.js). 2e-5
 * leaves room for other compilers and SIMD widths, while a real bug (a wrong
 * pad, bias or buffer) moves outputs by 1e-2 of the range or more. The 1e-6
 * floor covers outputs that are all near 0 (facemesh's faceflag is 1.7e-4 on
 * this non-face input; its error is 3e-9).
 */
#define GOLDEN_REL_TOL 2e-5

static void check_golden(const fs_nn_ops *ops, const model_spec *sp, const char *table)
{
    char file[64];
    snprintf(file, sizeof(file), "nn/%s.f32", sp->name);
    size_t gsize;
    char *gbytes = read_all(fs_test_golden_path(file), &gsize);
    const float *golden = (const float *)gbytes;
    fs_nn_model *m = load_prepared(ops, sp);
    float *x = make_input(sp->batch, sp->h, sp->w, sp->scale, sp->offset);
    fs_error_buf err = {{0}};
    FS_ASSERT_OK(fs_nn_model_run(m, FS_EXEC_SERIAL(&err), x));
    size_t off = 0;
    for (int o = 0; o < sp->num_outputs; o++) {
        const float *data;
        fs_nn_shape s;
        FS_ASSERT_OK(fs_nn_model_output(m, sp->out[o].name, &data, &s));
        const size_t n = fs_nn_shape_size(s);
        ck_assert_uint_le((off + n) * sizeof(float), gsize);
        double range = 0.0, max_err = 0.0;
        for (size_t i = 0; i < n; i++) {
            range = fmax(range, fabs(golden[off + i]));
            const double e = fabs((double)data[i] - golden[off + i]);
            max_err = isnan(e) ? INFINITY : fmax(max_err, e);
        }
        const double tol = fmax(GOLDEN_REL_TOL * range, 1e-6);
        printf("golden %-9s %-5s %-20s max|golden| %9.4g  max err %.3g (%.2g of range)\n",
               sp->name, table, sp->out[o].name, range, max_err, max_err / fmax(range, 1e-30));
        ck_assert_msg(max_err <= tol, "%s (%s kernels) %s: max error %g > %g", sp->name, table,
                      sp->out[o].name, max_err, tol);
        off += n;
    }
    ck_assert_uint_eq(off * sizeof(float), gsize);

    /* Running again on other data and back gives the same result: no state
     * survives between runs and no buffer is shared while still needed. */
    const char *first = sp->out[0].name;
    const float *data;
    fs_nn_shape s;
    FS_ASSERT_OK(fs_nn_model_output(m, first, &data, &s));
    const size_t n = fs_nn_shape_size(s);
    float *keep = malloc(n * sizeof(float));
    ck_assert(keep != NULL);
    memcpy(keep, data, n * sizeof(float));
    float *y = make_input(sp->batch, sp->h, sp->w, -sp->scale, sp->offset + sp->scale);
    FS_ASSERT_OK(fs_nn_model_run(m, FS_EXEC_SERIAL(&err), y));
    FS_ASSERT_OK(fs_nn_model_run(m, FS_EXEC_SERIAL(&err), x));
    FS_ASSERT_OK(fs_nn_model_output(m, first, &data, &s));
    ck_assert(memcmp(keep, data, n * sizeof(float)) == 0);
    free(keep);
    free(y);
    free(x);
    free(gbytes);
    fs_nn_model_destroy(m);
}

START_TEST(golden_reference)
{
    fs_nn_ops ops;
    init_ref(&ops);
    const model_spec *sp = &specs[_i];
    check_golden(&ops, sp, "ref");
}
END_TEST

START_TEST(golden_fast)
{
    fs_nn_ops ops;
    init_fast(&ops);
    check_golden(&ops, &specs[_i], "fast");
}
END_TEST

/* ------------------------------------------------------------ small graphs */

/* Builds a model.json and its weights in memory. */
typedef struct mini {
    char nodes[16384];
    char manifest[8192];
    unsigned char weights[8192];
    size_t wsize;
    char json[32768];
} mini;

static void mini_init(mini *mm, const char *input_shape)
{
    memset(mm, 0, sizeof(*mm));
    snprintf(mm->nodes, sizeof(mm->nodes),
             "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"},"
             "\"shape\":{\"shape\":{\"dim\":[%s]}}}}",
             input_shape);
}

static void mini_node(mini *mm, const char *name, const char *op, const char *inputs,
                      const char *attrs)
{
    const size_t n = strlen(mm->nodes);
    snprintf(mm->nodes + n, sizeof(mm->nodes) - n,
             ",\n{\"name\":\"%s\",\"op\":\"%s\",\"input\":[%s],\"attr\":{%s}}", name, op, inputs,
             attrs ? attrs : "");
}

/* A float32 (or int32 when ints != NULL) constant; quant: NULL or a manifest
 * "quantization" object, with data the raw quantised bytes. */
static void mini_const(mini *mm, const char *name, const char *shape, const float *f,
                       const int32_t *ints, size_t count, const char *quant, const void *raw,
                       size_t raw_bytes)
{
    const char *dt = ints ? "DT_INT32" : "DT_FLOAT";
    mini_node(mm, name, "Const", "", NULL);
    /* replace the empty attr with the dtype */
    char *tail = strrchr(mm->nodes, '{');
    snprintf(tail, sizeof(mm->nodes) - (size_t)(tail - mm->nodes), "{\"dtype\":{\"type\":\"%s\"}}}",
             dt);
    size_t n = strlen(mm->manifest);
    snprintf(mm->manifest + n, sizeof(mm->manifest) - n,
             "%s{\"name\":\"%s\",\"shape\":[%s],\"dtype\":\"%s\"%s%s}", n ? "," : "", name, shape,
             ints ? "int32" : "float32", quant ? ",\"quantization\":" : "", quant ? quant : "");
    const void *src = raw ? raw : ints ? (const void *)ints : (const void *)f;
    const size_t bytes = raw ? raw_bytes : count * 4;
    ck_assert(mm->wsize + bytes <= sizeof(mm->weights));
    memcpy(mm->weights + mm->wsize, src, bytes); /* the test machine is little-endian */
    mm->wsize += bytes;
}

static const char *mini_json(mini *mm)
{
    snprintf(mm->json, sizeof(mm->json),
             "{\"format\":\"graph-model\",\"modelTopology\":{\"node\":[\n%s\n]},"
             "\"weightsManifest\":[{\"paths\":[\"w.bin\"],\"weights\":[%s]}]}",
             mm->nodes, mm->manifest);
    return mm->json;
}

static fs_status mini_load(mini *mm, const fs_nn_ops *ops, fs_error_buf *err, fs_nn_model **m)
{
    const char *j = mini_json(mm);
    return fs_nn_model_load_memory(ops, j, strlen(j), mm->weights, mm->wsize, err, m);
}

#define B64_SAME "\"U0FNRQ==\""
#define B64_VALID "\"VkFMSUQ=\""
#define STRIDES(h, w) "\"strides\":{\"list\":{\"i\":[\"1\",\"" #h "\",\"" #w "\",\"1\"]}}"

/* Conv2D + Add(bias) + Relu + Minimum(6) + Maximum(0) becomes one step with
 * a CLAMP, and gives what the separate ops give; so does the batch-norm form
 * Conv2D + Mul(scale) + Add(bias) + ... (faceres). */
START_TEST(fusion_clamp)
{
    for (int variant = 0; variant < 3; variant++) {
        mini mm;
        mini_init(&mm, "{\"size\":\"-1\"},{\"size\":\"2\"},{\"size\":\"2\"},{\"size\":\"2\"}");
        const float w[2 * 3] = {1.0f, -2.0f, 3.0f, 0.5f, 4.0f, -1.0f}; /* [1][1][2][3] */
        const float b[3] = {0.25f, -0.5f, 1.0f};
        const float six = 6.0f, zero = 0.0f;
        const float scale[3] = {variant == 2 ? 0.5f : 1.0f, variant == 2 ? -3.0f : 1.0f, 1.0f};
        mini_const(&mm, "scale", "1,1,1,3", scale, NULL, 3, NULL, NULL, 0);
        mini_const(&mm, "w", "1,1,2,3", w, NULL, 6, NULL, NULL, 0);
        mini_const(&mm, "b", "3", b, NULL, 3, NULL, NULL, 0);
        mini_const(&mm, "six", "", &six, NULL, 1, NULL, NULL, 0);
        mini_const(&mm, "zero", "", &zero, NULL, 1, NULL, NULL, 0);
        mini_node(&mm, "conv", "Conv2D", "\"x\",\"w\"", "\"padding\":{\"s\":" B64_VALID "}," STRIDES(1, 1));
        if (variant == 2)
            mini_node(&mm, "mul", "Mul", "\"scale\",\"conv\"", NULL);
        mini_node(&mm, "add", "Add", variant == 2 ? "\"mul\",\"b\"" : "\"conv\",\"b\"", NULL);
        mini_node(&mm, "relu", "Relu", "\"add\"", NULL);
        mini_node(&mm, "mn", "Minimum", "\"relu\",\"six\"", NULL);
        mini_node(&mm, "mx", "Maximum", "\"zero\",\"mn\"", NULL);
        mini_node(&mm, "Identity", "Identity", "\"mx\"", NULL);
        if (variant == 1) /* the conv's own result is wanted too: no fusion into it */
            mini_node(&mm, "Identity_1", "Identity", "\"conv\"", NULL);
        fs_nn_ops ops;
        init_ref(&ops);
        fs_error_buf err = {{0}};
        fs_nn_model *m = NULL;
        fs_status st = mini_load(&mm, &ops, &err, &m);
        ck_assert_msg(st == FS_OK, "%s", err.text);
        FS_ASSERT_OK(fs_nn_model_prepare(m, 2, &err));
        /* variant 1: the conv, then Add with Relu, Minimum and Maximum fused as a clamp */
        ck_assert_int_eq(fs_nn_model_step_count(m), variant == 1 ? 2 : 1);
        float x[2 * 2 * 2 * 2];
        for (int i = 0; i < 16; i++)
            x[i] = (float)(i % 5) - 1.5f + 0.25f * (float)(i / 5);
        FS_ASSERT_OK(fs_nn_model_run(m, FS_EXEC_SERIAL(&err), x));
        const float *y, *conv = NULL;
        fs_nn_shape s;
        FS_ASSERT_OK(fs_nn_model_output(m, "Identity", &y, &s));
        ck_assert(s.n == 2 && s.h == 2 && s.w == 2 && s.c == 3);
        if (variant == 1)
            FS_ASSERT_OK(fs_nn_model_output(m, "Identity_1", &conv, NULL));
        for (int p = 0; p < 8; p++)
            for (int o = 0; o < 3; o++) {
                const float c = x[2 * p] * w[o] + x[2 * p + 1] * w[3 + o];
                const float want = fmaxf(fminf(fmaxf(c * scale[o] + b[o], 0.0f), 6.0f), 0.0f);
                ck_assert_msg(fabsf(y[3 * p + o] - want) <= 1e-5f, "p %d o %d: %g want %g", p, o,
                              y[3 * p + o], want);
                if (conv)
                    ck_assert(fabsf(conv[3 * p + o] - c) <= 1e-6f);
            }
        fs_nn_model_destroy(m);
    }
}
END_TEST

/* A residual block's 1x1 conv and the Add after it run as one step where
 * the fast table has a kernel for the pair (AVX2: lib/nn/plan.c,
 * fuse_residual_adds), and not where the conv's own result is wanted too;
 * either way the values are the separate ops'. */
START_TEST(fusion_residual_add)
{
    fs_nn_ops fast;
    init_fast(&fast);
    const int fusable = strcmp(fast.k[FS_NN_CONV2D_ADD].name, "ref") != 0;
    for (int variant = 0; variant < 2; variant++) {
        mini mm;
        mini_init(&mm, "{\"size\":\"-1\"},{\"size\":\"3\"},{\"size\":\"3\"},{\"size\":\"8\"}");
        float w[8 * 8];
        for (int i = 0; i < 64; i++)
            w[i] = (float)((i * 37) % 11) / 8.0f - 0.6f;
        mini_const(&mm, "w", "1,1,8,8", w, NULL, 64, NULL, NULL, 0);
        mini_node(&mm, "conv", "Conv2D", "\"x\",\"w\"", "\"padding\":{\"s\":" B64_VALID "}," STRIDES(1, 1));
        mini_node(&mm, "add", "AddV2", "\"x\",\"conv\"", NULL);
        mini_node(&mm, "relu", "Relu", "\"add\"", NULL);
        mini_node(&mm, "Identity", "Identity", "\"relu\"", NULL);
        if (variant == 1)
            mini_node(&mm, "Identity_1", "Identity", "\"conv\"", NULL);
        fs_error_buf err = {{0}};
        fs_nn_model *m = NULL;
        const fs_status st = mini_load(&mm, &fast, &err, &m);
        ck_assert_msg(st == FS_OK, "%s", err.text);
        FS_ASSERT_OK(fs_nn_model_prepare(m, 2, &err));
        ck_assert_int_eq(fs_nn_model_step_count(m), fusable && variant == 0 ? 1 : 2);
        float x[2 * 3 * 3 * 8];
        for (int i = 0; i < 144; i++)
            x[i] = (float)(i % 7) - 3.0f + 0.125f * (float)(i % 5);
        FS_ASSERT_OK(fs_nn_model_run(m, FS_EXEC_SERIAL(&err), x));
        const float *y;
        FS_ASSERT_OK(fs_nn_model_output(m, "Identity", &y, NULL));
        for (int p = 0; p < 18; p++)
            for (int o = 0; o < 8; o++) {
                double c = 0;
                for (int i = 0; i < 8; i++)
                    c += (double)x[8 * p + i] * w[8 * i + o];
                const double want = fmax(x[8 * p + o] + c, 0.0);
                ck_assert_msg(fabs(y[8 * p + o] - want) <= 1e-5, "p %d o %d: %g want %g", p, o,
                              y[8 * p + o], want);
            }
        fs_nn_model_destroy(m);
    }
}
END_TEST

/* Dequantisation: uint8 (q * scale + min), float16 (incl. subnormal,
 * negative zero, max), int32; a constant on either side of an Add. */
START_TEST(dequantisation)
{
    mini mm;
    mini_init(&mm, "{\"size\":\"-1\"},{\"size\":\"4\"}");
    const uint8_t q8[4] = {0, 1, 128, 255};
    const uint16_t h16[4] = {0x3C00, 0x0001, 0x8000, 0x7BFF}; /* 1, 2^-24, -0, 65504 */
    mini_const(&mm, "c8", "4", NULL, NULL, 4,
               "{\"dtype\":\"uint8\",\"scale\":0.5,\"min\":-1.25}", q8, 4);
    mini_const(&mm, "c16", "1,4", NULL, NULL, 4, "{\"dtype\":\"float16\"}", h16, 8);
    const int32_t shape[2] = {-1, 2};
    mini_const(&mm, "shape", "2", NULL, shape, 2, NULL, NULL, 0);
    mini_node(&mm, "a8", "AddV2", "\"x\",\"c8\"", NULL);
    mini_node(&mm, "a16", "AddV2", "\"c16\",\"x:0\",\"^a8\"", NULL);
    mini_node(&mm, "r", "Reshape", "\"a16\",\"shape\"", NULL);
    mini_node(&mm, "Identity", "Identity", "\"a8\"", NULL);
    mini_node(&mm, "Identity_1", "Identity", "\"r\"", NULL);
    mini_node(&mm, "Identity_2", "Identity", "\"x\"", NULL); /* the input itself */
    fs_nn_ops ops;
    init_fast(&ops);
    fs_error_buf err = {{0}};
    fs_nn_model *m = NULL;
    fs_status st = mini_load(&mm, &ops, &err, &m);
    ck_assert_msg(st == FS_OK, "%s", err.text);
    FS_ASSERT_OK(fs_nn_model_prepare(m, 1, &err));
    const float x[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    FS_ASSERT_OK(fs_nn_model_run(m, FS_EXEC_SERIAL(&err), x));
    const float *y;
    fs_nn_shape s;
    int rank;
    int64_t dims[4];
    FS_ASSERT_OK(fs_nn_model_output(m, "Identity", &y, &s));
    ck_assert(y[0] == -1.25f && y[1] == -0.75f && y[2] == 62.75f && y[3] == 126.25f);
    FS_ASSERT_OK(fs_nn_model_output(m, "Identity_1", &y, &s));
    FS_ASSERT_OK(fs_nn_model_output_dims(m, "Identity_1", &rank, dims));
    ck_assert(rank == 2 && dims[0] == 2 && dims[1] == 2);
    ck_assert(y[0] == 1.0f && y[1] == ldexpf(1.0f, -24) && y[2] == 0.0f && y[3] == 65504.0f);
    ck_assert(signbit(y[2]) == 0); /* 0 + -0 */
    const float x2[4] = {1.5f, -2.0f, 3.0f, 4.0f};
    FS_ASSERT_OK(fs_nn_model_run(m, FS_EXEC_SERIAL(&err), x2));
    FS_ASSERT_OK(fs_nn_model_output(m, "Identity_2", &y, &s));
    ck_assert(memcmp(y, x2, sizeof(x2)) == 0 && y != x2); /* a copy, valid after the caller's buffer */
    fs_nn_model_destroy(m);
}
END_TEST

/* Naive TF convolution with explicit padding, for the SAME checks below. */
static float naive_conv_at(const float *x, int h, int w, int c, const float *wt, int kh, int kw,
                           int oc, int o, int oy, int ox, int sh, int sw, int pt, int pl)
{
    float acc = 0.0f;
    for (int ky = 0; ky < kh; ky++)
        for (int kx = 0; kx < kw; kx++) {
            const int iy = oy * sh - pt + ky, ix = ox * sw - pl + kx;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                continue;
            for (int i = 0; i < c; i++)
                acc += x[(iy * w + ix) * c + i] * wt[((ky * kw + kx) * c + i) * oc + o];
        }
    return acc;
}

/* TF "SAME" padding on even sizes puts the extra row/column at the bottom/right;
 * MaxPool never lets a padded cell win (all inputs negative here); channel Pad. */
START_TEST(same_padding)
{
    mini mm;
    mini_init(&mm, "{\"size\":\"1\"},{\"size\":\"6\"},{\"size\":\"5\"},{\"size\":\"2\"}");
    float w[3 * 3 * 2 * 2];
    for (int i = 0; i < 36; i++)
        w[i] = (float)((i * 7) % 11) / 11.0f - 0.4f;
    const int32_t pads[8] = {0, 0, 0, 0, 0, 0, 1, 2};
    mini_const(&mm, "w", "3,3,2,2", w, NULL, 36, NULL, NULL, 0);
    mini_const(&mm, "pads", "4,2", NULL, pads, 8, NULL, NULL, 0);
    mini_node(&mm, "conv", "Conv2D", "\"x\",\"w\"", "\"padding\":{\"s\":" B64_SAME "}," STRIDES(2, 2));
    mini_node(&mm, "pool", "MaxPool", "\"x\"",
              "\"padding\":{\"s\":" B64_SAME "}," STRIDES(2, 2)
              ",\"ksize\":{\"list\":{\"i\":[\"1\",\"2\",\"2\",\"1\"]}}");
    mini_node(&mm, "pad", "Pad", "\"pool\",\"pads\"", NULL);
    mini_node(&mm, "Identity", "Identity", "\"conv\"", NULL);
    mini_node(&mm, "Identity_1", "Identity", "\"pad\"", NULL);
    for (int table = 0; table < 2; table++) {
        fs_nn_ops ops;
        table ? init_fast(&ops) : init_ref(&ops);
        fs_error_buf err = {{0}};
        fs_nn_model *m = NULL;
        fs_status st = mini_load(&mm, &ops, &err, &m);
        ck_assert_msg(st == FS_OK, "%s", err.text);
        FS_ASSERT_OK(fs_nn_model_prepare(m, 1, &err));
        float x[6 * 5 * 2];
        for (int i = 0; i < 60; i++)
            x[i] = -1.0f - (float)((i * 13) % 17) / 4.0f;
        FS_ASSERT_OK(fs_nn_model_run(m, FS_EXEC_SERIAL(&err), x));
        const float *y;
        fs_nn_shape s;
        FS_ASSERT_OK(fs_nn_model_output(m, "Identity", &y, &s));
        /* out = ceil(6/2) x ceil(5/2) = 3 x 3; pad rows: total 1 -> top 0, bottom 1;
         * cols: (3-1)*2+3-5 = 2 -> left 1, right 1. */
        ck_assert(s.h == 3 && s.w == 3 && s.c == 2);
        for (int oy = 0; oy < 3; oy++)
            for (int ox = 0; ox < 3; ox++)
                for (int o = 0; o < 2; o++) {
                    const float want = naive_conv_at(x, 6, 5, 2, w, 3, 3, 2, o, oy, ox, 2, 2, 0, 1);
                    ck_assert_msg(fabsf(y[(oy * 3 + ox) * 2 + o] - want) <= 1e-5f,
                                  "conv %d,%d,%d: %g want %g", oy, ox, o, y[(oy * 3 + ox) * 2 + o],
                                  want);
                }
        FS_ASSERT_OK(fs_nn_model_output(m, "Identity_1", &y, &s));
        /* pool: 3 x 3 x 2, then channels padded 1 before, 2 after -> 5 */
        ck_assert(s.h == 3 && s.w == 3 && s.c == 5);
        for (int oy = 0; oy < 3; oy++)
            for (int ox = 0; ox < 3; ox++)
                for (int c = 0; c < 5; c++) {
                    float want = 0.0f;
                    if (c >= 1 && c < 3) {
                        want = -INFINITY;
                        for (int ky = 0; ky < 2; ky++)
                            for (int kx = 0; kx < 2; kx++) {
                                const int iy = 2 * oy + ky, ix = 2 * ox + kx; /* pad 0 top/left */
                                if (iy < 6 && ix < 5)
                                    want = fmaxf(want, x[(iy * 5 + ix) * 2 + c - 1]);
                            }
                    }
                    ck_assert_msg(y[(oy * 3 + ox) * 5 + c] == want, "pool %d,%d,%d: %g want %g",
                                  oy, ox, c, y[(oy * 3 + ox) * 5 + c], want);
                }
        fs_nn_model_destroy(m);
    }
}
END_TEST

/* Graph-level errors of small graphs: status and the node named. */
START_TEST(graph_errors)
{
    static const struct {
        const char *name, *op, *inputs, *attrs;
        fs_status load, prepare;
        const char *detail;
    } cases[] = {
        {"n", "Erf", "\"x\"", NULL, FS_ERR_MODEL, FS_OK, "node 'n': unsupported op 'Erf'"},
        {"n", "Relu", "\"nope\"", NULL, FS_ERR_MODEL, FS_OK, "input 'nope' is not a node"},
        {"n", "Relu", "\"n\"", NULL, FS_ERR_MODEL, FS_OK, "cycle"},
        {"n", "Relu", "\"x:1\"", NULL, FS_ERR_MODEL, FS_OK, "only output 0"},
        {"n", "Relu", "\"x\",\"x\"", NULL, FS_ERR_MODEL, FS_OK, "takes 1 inputs, has 2"},
        {"n", "Conv2D", "\"x\",\"w\"", "\"padding\":{\"s\":\"Rk9P\"}", FS_ERR_MODEL, FS_OK,
         "unsupported padding 'FOO'"},
        {"n", "Conv2D", "\"x\",\"w\"", "\"padding\":{\"s\":\"!!\"}", FS_ERR_MODEL, FS_OK,
         "malformed padding"},
        {"n", "Conv2D", "\"x\",\"w\"", "\"padding\":{\"s\":" B64_SAME "},\"data_format\":{\"s\":\"TkNIVw==\"}",
         FS_ERR_MODEL, FS_OK, "NHWC"},
        {"n", "Conv2D", "\"x\",\"w\"", "\"padding\":{\"s\":" B64_SAME "}," STRIDES(0, 1), FS_ERR_MODEL,
         FS_OK, "strides"},
        {"n", "_FusedConv2D", "\"x\",\"w\",\"b\"",
         "\"padding\":{\"s\":" B64_SAME "},\"fused_ops\":{\"list\":{\"s\":[\"Qmlhc0FkZA==\",\"RWx1\"]}},\"num_args\":{\"i\":\"1\"}",
         FS_ERR_MODEL, FS_OK, "unsupported fused op 'Elu'"},
        {"n", "_FusedConv2D", "\"x\",\"w\",\"b\"",
         "\"padding\":{\"s\":" B64_SAME "},\"fused_ops\":{\"list\":{\"s\":[\"Qmlhc0FkZA==\"]}},\"num_args\":{\"i\":\"2\"}",
         FS_ERR_MODEL, FS_OK, "num_args"},
        /* shapes: w is [1,1,3,4] but x has 2 channels */
        {"n", "Conv2D", "\"x\",\"w\"", "\"padding\":{\"s\":" B64_SAME "}", FS_OK, FS_ERR_SHAPE,
         "node 'n' (Conv2D): filter 'w' of shape [1,1,3,4] does not fit 2 input channels"},
        {"n", "Conv2D", "\"x\",\"x\"", "\"padding\":{\"s\":" B64_SAME "}", FS_OK, FS_ERR_MODEL,
         "must be a constant"},
        {"n", "AddV2", "\"x\",\"b\"", NULL, FS_OK, FS_ERR_SHAPE, "does not broadcast"},
        {"n", "AddV2", "\"w\",\"b\"", NULL, FS_OK, FS_ERR_MODEL, "both operands are constants"},
        {"n", "Reshape", "\"x\",\"shape\"", NULL, FS_OK, FS_ERR_SHAPE, "cannot reshape [1,3,3,2] into [-1,7]"},
        {"n", "ConcatV2", "\"x\",\"x\",\"one\"", NULL, FS_OK, FS_ERR_MODEL, "only the last axis"},
        {"n", "Mean", "\"x\",\"one\"", NULL, FS_OK, FS_ERR_MODEL, "H and W"},
        {"n", "MaxPool", "\"x\"",
         "\"padding\":{\"s\":" B64_VALID "},\"ksize\":{\"list\":{\"i\":[\"1\",\"5\",\"5\",\"1\"]}}",
         FS_OK, FS_ERR_SHAPE, "exceeds the padded input"},
    };
    const float w[12] = {0}, b[4] = {0};
    const int32_t shape[2] = {-1, 7}, one = 1;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        mini mm;
        mini_init(&mm, "{\"size\":\"-1\"},{\"size\":\"3\"},{\"size\":\"3\"},{\"size\":\"2\"}");
        mini_const(&mm, "w", "1,1,3,4", w, NULL, 12, NULL, NULL, 0);
        mini_const(&mm, "b", "4", b, NULL, 4, NULL, NULL, 0);
        mini_const(&mm, "shape", "2", NULL, shape, 2, NULL, NULL, 0);
        mini_const(&mm, "one", "", NULL, &one, 1, NULL, NULL, 0);
        mini_node(&mm, cases[k].name, cases[k].op, cases[k].inputs, cases[k].attrs);
        fs_nn_ops ops;
        init_ref(&ops);
        fs_error_buf err = {{0}};
        fs_nn_model *m = NULL;
        fs_status st = mini_load(&mm, &ops, &err, &m);
        ck_assert_msg(st == cases[k].load, "case %zu: load %s (%s)", k, fs_status_name(st), err.text);
        if (st == FS_OK) {
            st = fs_nn_model_prepare(m, 1, &err);
            ck_assert_msg(st == cases[k].prepare, "case %zu: prepare %s (%s)", k,
                          fs_status_name(st), err.text);
            fs_nn_model_destroy(m);
        } else {
            ck_assert_ptr_null(m);
        }
        ck_assert_msg(contains(err.text, cases[k].detail), "case %zu: '%s' lacks '%s'", k,
                      err.text, cases[k].detail);
        ck_assert(contains(err.text, "model.json"));
    }
}
END_TEST

/* ------------------------------------------------------------ bad files */

START_TEST(bad_files)
{
    fs_nn_ops ops;
    init_ref(&ops);
    fs_error_buf err = {{0}};
    fs_nn_model *m = (fs_nn_model *)&ops; /* must stay untouched on failure */
    fs_nn_model *const sentinel = m;
    size_t jn, bn;
    char *json = read_all(model_json("blazeface"), &jn);
    char *bin = read_all(fs_test_model_path("blazeface.bin"), &bn);
    scratch s;

    /* missing model.json */
    FS_ASSERT_STATUS(fs_nn_model_load(&ops, "/nonexistent/blazeface.json", &err, &m),
                     FS_ERR_NOT_FOUND);
    ck_assert(contains(err.text, "/nonexistent/blazeface.json") && m == sentinel);

    /* missing shard */
    scratch_make(&s, "nn_noshard", json, jn, "blazeface.bin", NULL, 0);
    FS_ASSERT_STATUS(fs_nn_model_load(&ops, s.json, &err, &m), FS_ERR_NOT_FOUND);
    ck_assert_msg(contains(err.text, "blazeface.bin"), "%s", err.text);
    ck_assert(m == sentinel);
    scratch_remove(&s);

    /* truncated shard, and one with extra bytes */
    scratch_make(&s, "nn_short", json, jn, "blazeface.bin", bin, bn / 2);
    FS_ASSERT_STATUS(fs_nn_model_load(&ops, s.json, &err, &m), FS_ERR_TRUNCATED);
    ck_assert_msg(contains(err.text, "blazeface.bin") && contains(err.text, "needs 538928"), "%s",
                  err.text);
    scratch_remove(&s);
    char *longer = malloc(bn + 4);
    memcpy(longer, bin, bn);
    memset(longer + bn, 0, 4);
    scratch_make(&s, "nn_long", json, jn, "blazeface.bin", longer, bn + 4);
    FS_ASSERT_STATUS(fs_nn_model_load(&ops, s.json, &err, &m), FS_ERR_CORRUPT);
    ck_assert_msg(contains(err.text, "blazeface.bin"), "%s", err.text);
    scratch_remove(&s);
    free(longer);

    /* model.json cut in the middle, garbage bytes, empty */
    scratch_make(&s, "nn_cut", json, jn / 2, "blazeface.bin", bin, bn);
    FS_ASSERT_STATUS(fs_nn_model_load(&ops, s.json, &err, &m), FS_ERR_CORRUPT);
    ck_assert_msg(contains(err.text, s.json) && contains(err.text, "line"), "%s", err.text);
    scratch_remove(&s);
    char *garbage = malloc(jn);
    memcpy(garbage, json, jn);
    memset(garbage + jn / 3, 0xA5, 16);
    scratch_make(&s, "nn_garbage", garbage, jn, "blazeface.bin", bin, bn);
    FS_ASSERT_STATUS(fs_nn_model_load(&ops, s.json, &err, &m), FS_ERR_CORRUPT);
    ck_assert(contains(err.text, s.json));
    scratch_remove(&s);
    free(garbage);
    scratch_make(&s, "nn_empty", "", 0, "blazeface.bin", bin, bn);
    FS_ASSERT_STATUS(fs_nn_model_load(&ops, s.json, &err, &m), FS_ERR_TRUNCATED);
    scratch_remove(&s);

    /* an unknown op, named with its node */
    char *patched = replace_once(json, "\"op\":\"DepthwiseConv2dNative\"", "\"op\":\"FancyConv\"");
    scratch_make(&s, "nn_op", patched, strlen(patched), "blazeface.bin", bin, bn);
    FS_ASSERT_STATUS(fs_nn_model_load(&ops, s.json, &err, &m), FS_ERR_MODEL);
    ck_assert_msg(contains(err.text, "node 'StatefulPartitionedCall/functional_1/depthwise_conv2d/depthwise'") &&
                      contains(err.text, "unsupported op 'FancyConv'"),
                  "%s", err.text);
    scratch_remove(&s);
    free(patched);

    /* a weight shape altered in the manifest: more bytes than the shard
     * holds; the same bytes in another shape than the graph's */
    patched = replace_once(json, "{\"name\":\"unknown_135\",\"shape\":[1,1,96,2]",
                           "{\"name\":\"unknown_135\",\"shape\":[1,1,96,3]");
    scratch_make(&s, "nn_wshape", patched, strlen(patched), "blazeface.bin", bin, bn);
    FS_ASSERT_STATUS(fs_nn_model_load(&ops, s.json, &err, &m), FS_ERR_TRUNCATED);
    ck_assert(contains(err.text, "blazeface.bin"));
    scratch_remove(&s);
    free(patched);
    patched = replace_once(json, "{\"name\":\"unknown_135\",\"shape\":[1,1,96,2]",
                           "{\"name\":\"unknown_135\",\"shape\":[1,1,2,96]");
    scratch_make(&s, "nn_wshape2", patched, strlen(patched), "blazeface.bin", bin, bn);
    FS_ASSERT_STATUS(fs_nn_model_load(&ops, s.json, &err, &m), FS_ERR_SHAPE);
    ck_assert_msg(contains(err.text, "node 'unknown_135'"), "%s", err.text);
    scratch_remove(&s);
    free(patched);

    /* a weight file outside the model's folder */
    patched = replace_once(json, "\"paths\": [\"blazeface.bin\"]", "\"paths\": [\"../blazeface.bin\"]");
    scratch_make(&s, "nn_path", patched, strlen(patched), "blazeface.bin", bin, bn);
    FS_ASSERT_STATUS(fs_nn_model_load(&ops, s.json, &err, &m), FS_ERR_CORRUPT);
    ck_assert(contains(err.text, "../blazeface.bin"));
    scratch_remove(&s);
    free(patched);

    /* a wrong input shape: 4 channels reach the first convolution */
    patched = replace_once(json,
                           "{\"size\":\"256\"},{\"size\":\"256\"},{\"size\":\"3\"}]}}}}",
                           "{\"size\":\"256\"},{\"size\":\"256\"},{\"size\":\"4\"}]}}}}");
    scratch_make(&s, "nn_input", patched, strlen(patched), "blazeface.bin", bin, bn);
    m = NULL;
    FS_ASSERT_OK(fs_nn_model_load(&ops, s.json, &err, &m));
    FS_ASSERT_STATUS(fs_nn_model_prepare(m, 1, &err), FS_ERR_SHAPE);
    ck_assert_msg(contains(err.text, "node 'StatefulPartitionedCall/functional_1/conv2d/Relu'") &&
                      contains(err.text, "4 input channels"),
                  "%s", err.text);
    fs_nn_model_destroy(m);
    m = sentinel;
    scratch_remove(&s);
    free(patched);
    /* ... and a smaller image: the detector head's Reshape no longer fits */
    patched = replace_once(json,
                           "{\"size\":\"256\"},{\"size\":\"256\"},{\"size\":\"3\"}]}}}}",
                           "{\"size\":\"128\"},{\"size\":\"128\"},{\"size\":\"3\"}]}}}}");
    scratch_make(&s, "nn_input2", patched, strlen(patched), "blazeface.bin", bin, bn);
    m = NULL;
    FS_ASSERT_OK(fs_nn_model_load(&ops, s.json, &err, &m));
    FS_ASSERT_STATUS(fs_nn_model_prepare(m, 1, &err), FS_ERR_SHAPE);
    ck_assert_msg(contains(err.text, "(Reshape): cannot reshape"), "%s", err.text);
    fs_nn_model_destroy(m);
    m = sentinel;
    scratch_remove(&s);
    free(patched);

    /* in memory: weights too short or too long */
    FS_ASSERT_STATUS(fs_nn_model_load_memory(&ops, json, jn, bin, bn - 1, &err, &m), FS_ERR_TRUNCATED);
    FS_ASSERT_STATUS(fs_nn_model_load_memory(&ops, json, jn, bin, bn + 0, &err, NULL),
                     FS_ERR_INVALID_ARGUMENT);
    ck_assert(m == sentinel);

    /* NULL arguments */
    FS_ASSERT_STATUS(fs_nn_model_load(NULL, "x", &err, &m), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_nn_model_load(&ops, NULL, &err, &m), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_nn_model_prepare(NULL, 1, &err), FS_ERR_INVALID_ARGUMENT);
    FS_ASSERT_STATUS(fs_nn_model_run(NULL, FS_EXEC_SERIAL(&err), bin ? (const float *)bin : NULL),
                     FS_ERR_INVALID_ARGUMENT);
    ck_assert(m == sentinel);
    fs_nn_model_destroy(NULL);

    free(json);
    free(bin);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn");
    TCase *tc = tcase_create("json");
    tcase_add_test(tc, json_values);
    tcase_add_test(tc, json_errors);
    tcase_add_test(tc, json_fuzz);
    suite_add_tcase(s, tc);
    tc = tcase_create("models");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, real_models_shapes);
    tcase_add_test(tc, real_models_batches);
    tcase_add_test(tc, kernel_failure_stops_the_run);
    tcase_add_loop_test(tc, golden_reference, 0, (int)(sizeof(specs) / sizeof(specs[0])));
    tcase_add_loop_test(tc, golden_fast, 0, (int)(sizeof(specs) / sizeof(specs[0])));
    suite_add_tcase(s, tc);
    tc = tcase_create("graphs");
    tcase_add_test(tc, fusion_clamp);
    tcase_add_test(tc, fusion_residual_add);
    tcase_add_test(tc, dequantisation);
    tcase_add_test(tc, same_padding);
    tcase_add_test(tc, graph_errors);
    tcase_add_test(tc, bad_files);
    suite_add_tcase(s, tc);
    return fs_test_run_suite(s);
}
