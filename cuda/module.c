/*
 * libfaceswap-cuda.so's C entry file: the one exported symbol
 * (fs_cuda_backend_v1), the device probe, and the engine entries this module
 * overrides. Kernels live in the .cu files behind cuda/kernels.h.
 *
 * This module is loaded by lib/backend.c with dlopen() and links nothing of
 * the core: it must not call fs_fail(), fs_log() or other core functions.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cuda_runtime_api.h>

#include "backend.h"
#include "internal.h" /* fs_error_buf only: the module calls no core function */
#include "kernels.h"

#ifndef FS_CUDA_ARCHS
#define FS_CUDA_ARCHS "unknown architectures"
#endif
#define FS_STR_(x) #x
#define FS_STR(x) FS_STR_(x)

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void set_detail(char *detail, size_t size, const char *fmt, ...)
{
    if (!detail || !size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, size, fmt, ap);
    va_end(ap);
}

/*
 * The device this process's kernels run on. fs_nn_kernel.create() receives
 * no context, so the module serves one device per process for now; a second
 * device is refused by probe() rather than silently run on the first.
 */
static pthread_mutex_t bind_lock = PTHREAD_MUTEX_INITIALIZER;
static int bound_device = -1;

static int get_bound_device(void)
{
    pthread_mutex_lock(&bind_lock);
    const int d = bound_device;
    pthread_mutex_unlock(&bind_lock);
    return d;
}

static fs_status cuda_probe(int device, char *detail, size_t size)
{
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        set_detail(detail, size, "no CUDA device: %s (%s)", cudaGetErrorString(e),
                   cudaGetErrorName(e));
        /* Clear the sticky last-error so later runtime calls start clean. */
        (void)cudaGetLastError();
        return FS_ERR_BACKEND_UNAVAILABLE;
    }
    if (count <= 0) {
        set_detail(detail, size, "no CUDA device: cudaGetDeviceCount found none");
        return FS_ERR_BACKEND_UNAVAILABLE;
    }
    if (device < 0 || device >= count) {
        set_detail(detail, size, "no CUDA device %d: %d device%s present", device, count,
                   count == 1 ? "" : "s");
        return FS_ERR_BACKEND_UNAVAILABLE;
    }
    const int bound = get_bound_device();
    if (bound >= 0 && bound != device) {
        set_detail(detail, size,
                   "CUDA device %d refused: this process already runs the CUDA module on "
                   "device %d (one device per process for now)",
                   device, bound);
        return FS_ERR_BACKEND_UNAVAILABLE;
    }
    struct cudaDeviceProp prop;
    e = cudaGetDeviceProperties(&prop, device);
    if (e == cudaSuccess)
        e = cudaSetDevice(device);
    if (e != cudaSuccess) {
        set_detail(detail, size, "CUDA device %d unusable: %s (%s)", device, cudaGetErrorString(e),
                   cudaGetErrorName(e));
        (void)cudaGetLastError();
        return FS_ERR_BACKEND_UNAVAILABLE;
    }
    e = fs_cuda_check_kernels();
    if (e != cudaSuccess) {
        set_detail(detail, size,
                   "CUDA device %d (%s, compute capability %d.%d) cannot run this module, "
                   "built for %s: %s (%s); rebuild with -Dgpu_arch=%d.%d",
                   device, prop.name, prop.major, prop.minor, FS_CUDA_ARCHS,
                   cudaGetErrorString(e), cudaGetErrorName(e), prop.major, prop.minor);
        (void)cudaGetLastError();
        return FS_ERR_BACKEND_UNAVAILABLE;
    }
    return FS_OK;
}

/* ---- FS_NN_ACTIVATION --------------------------------------------------- */

typedef struct act_state {
    int device;
    size_t count;
    int channels;
    fs_nn_act act;
    float clamp_min, clamp_max;
    size_t bytes;
    float *data;        /* device, count floats: the op runs in place there */
    float *alpha;       /* device, channels floats (PRELU) or NULL */
    cudaStream_t stream;
} act_state;

static void act_destroy(void *opaque)
{
    act_state *s = opaque;
    if (!s)
        return;
    /* Best effort: a failing free at teardown leaves nothing to recover. */
    if (cudaSetDevice(s->device) == cudaSuccess) {
        if (s->stream)
            (void)cudaStreamDestroy(s->stream);
        (void)cudaFree(s->data);
        (void)cudaFree(s->alpha);
    }
    (void)cudaGetLastError();
    free(s);
}

static int shape_equal(fs_nn_shape a, fs_nn_shape b)
{
    return a.n == b.n && a.h == b.h && a.w == b.w && a.c == b.c;
}

/* n*h*w*c without overflow; 0 for an empty or invalid shape. */
static size_t shape_count(fs_nn_shape s)
{
    if (s.n <= 0 || s.h <= 0 || s.w <= 0 || s.c <= 0)
        return 0;
    const size_t dims[4] = {(size_t)s.n, (size_t)s.h, (size_t)s.w, (size_t)s.c};
    size_t total = 1;
    for (int i = 0; i < 4; i++) {
        if (total > SIZE_MAX / sizeof(float) / dims[i])
            return 0;
        total *= dims[i];
    }
    return total;
}

static fs_status act_create(const fs_nn_op_desc *desc, void **out)
{
    if (!desc || !out)
        return FS_ERR_INVALID_ARGUMENT;
    /* Anything this kernel does not handle goes back to the reference. */
    if (desc->type != FS_NN_ACTIVATION || desc->num_inputs != 1 ||
        !shape_equal(desc->in[0], desc->out))
        return FS_ERR_UNSUPPORTED;
    switch (desc->act) {
    case FS_NN_ACT_NONE:
    case FS_NN_ACT_RELU:
    case FS_NN_ACT_SIGMOID:
        break;
    case FS_NN_ACT_CLAMP:
        if (!(desc->clamp_min <= desc->clamp_max)) /* also rejects NaN */
            return FS_ERR_INVALID_ARGUMENT;
        break;
    case FS_NN_ACT_PRELU:
        if (!desc->alpha)
            return FS_ERR_INVALID_ARGUMENT;
        break;
    default:
        return FS_ERR_UNSUPPORTED;
    }
    const size_t count = shape_count(desc->out);
    if (count == 0)
        return FS_ERR_UNSUPPORTED;
    const int device = get_bound_device();
    if (device < 0)
        return FS_ERR_BACKEND_UNAVAILABLE;

    act_state *s = calloc(1, sizeof(*s));
    if (!s)
        return FS_ERR_OUT_OF_MEMORY;
    s->device = device;
    s->count = count;
    s->channels = desc->out.c;
    s->act = desc->act;
    s->clamp_min = desc->clamp_min;
    s->clamp_max = desc->clamp_max;
    s->bytes = count * sizeof(float);

    cudaError_t e = cudaSetDevice(device);
    if (e == cudaSuccess)
        e = cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking);
    if (e == cudaSuccess)
        e = cudaMalloc((void **)&s->data, s->bytes);
    if (e == cudaSuccess && s->act == FS_NN_ACT_PRELU) {
        const size_t alpha_bytes = (size_t)s->channels * sizeof(float);
        e = cudaMalloc((void **)&s->alpha, alpha_bytes);
        if (e == cudaSuccess)
            e = cudaMemcpy(s->alpha, desc->alpha, alpha_bytes, cudaMemcpyHostToDevice);
    }
    if (e != cudaSuccess) {
        const fs_status st = e == cudaErrorMemoryAllocation ? FS_ERR_OUT_OF_MEMORY : FS_ERR_GPU;
        act_destroy(s);
        return st;
    }
    *out = s;
    return FS_OK;
}

static fs_status act_run(const fs_exec *ex, void *opaque, const float *const *inputs,
                         float *output)
{
    act_state *s = opaque;
    /* Host in, host out until the graph runtime keeps tensors on the device. */
    cudaError_t e = cudaSetDevice(s->device);
    if (e == cudaSuccess)
        e = cudaMemcpyAsync(s->data, inputs[0], s->bytes, cudaMemcpyHostToDevice, s->stream);
    if (e == cudaSuccess)
        e = fs_cuda_activation(s->data, s->count, s->channels, (int)s->act, s->clamp_min,
                               s->clamp_max, s->alpha, s->stream);
    if (e == cudaSuccess)
        e = cudaMemcpyAsync(output, s->data, s->bytes, cudaMemcpyDeviceToHost, s->stream);
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(s->stream);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        if (ex && ex->err)
            set_detail(ex->err->text, sizeof(ex->err->text), "CUDA activation on device %d: %s",
                       s->device, cudaGetErrorString(e));
        return e == cudaErrorMemoryAllocation ? FS_ERR_OUT_OF_MEMORY : FS_ERR_GPU;
    }
    return FS_OK;
}

/* ---- the module table --------------------------------------------------- */

static fs_status cuda_install(int device, fs_engine *engine, char *detail, size_t size)
{
    if (!engine) {
        set_detail(detail, size, "CUDA module install: no engine");
        return FS_ERR_INVALID_ARGUMENT;
    }
    pthread_mutex_lock(&bind_lock);
    const int bound = bound_device;
    if (bound < 0)
        bound_device = device;
    pthread_mutex_unlock(&bind_lock);
    if (bound >= 0 && bound != device) {
        set_detail(detail, size, "CUDA module already runs on device %d, not %d", bound, device);
        return FS_ERR_BACKEND_UNAVAILABLE;
    }
    engine->nn.k[FS_NN_ACTIVATION] = (fs_nn_kernel){
        .create = act_create,
        .run = act_run,
        .destroy = act_destroy,
        .name = "cuda",
    };
    return FS_OK;
}

static const fs_backend_module module = {
    .abi = FS_BACKEND_ABI_INIT,
    .name = "cuda",
    .build_info = "CUDA runtime " FS_STR(CUDART_VERSION) ", " FS_CUDA_ARCHS,
    .probe = cuda_probe,
    .install = cuda_install,
};

__attribute__((visibility("default"))) const fs_backend_module *fs_cuda_backend_v1(void)
{
    return &module;
}
