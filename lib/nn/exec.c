/*
 * Executor: runs the prepared steps in order. Everything was decided and
 * allocated by the planner; a run only moves pointers and calls kernels.
 */
#include "nn/graph.h"

#include <string.h>

fs_status fs_nn_model_run(fs_nn_model *m, const fs_exec *ex, const float *input)
{
    fs_error_buf *err = ex ? ex->err : NULL;
    if (!m || !input || !ex)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "fs_nn_model_run: NULL %s",
                       !m ? "model" : !input ? "input" : "execution context");
    if (!m->prepared)
        return fs_fail(err, FS_ERR_INVALID_ARGUMENT, "'%s': run before prepare", m->label);
    if (m->input_in_arena) {
        const fs_nn_tensor *t = &m->tensors[m->input];
        memcpy(m->arena + t->offset / sizeof(float), input,
               fs_nn_shape_size(t->shape) * sizeof(float));
    }
    for (int i = 0; i < m->num_steps; i++) {
        const fs_nn_step *s = &m->steps[i];
        const float *in[FS_NN_MAX_INPUTS];
        for (int k = 0; k < s->desc.num_inputs; k++)
            in[k] = (s->external >> k) & 1u ? input : s->in[k];
        /* The kernel wrote its detail; later steps would read its output. */
        const fs_status st = s->kernel->run(ex, s->state, in, s->out);
        if (st != FS_OK)
            return st;
    }
    return FS_OK;
}

static int find_output(const fs_nn_model *m, const char *name)
{
    for (int i = 0; i < m->num_outputs; i++)
        if (strcmp(m->nodes[m->outputs[i]].name, name) == 0)
            return m->outputs[i];
    return -1;
}

fs_status fs_nn_model_output(const fs_nn_model *m, const char *name, const float **data,
                             fs_nn_shape *shape)
{
    if (!m || !name || !m->prepared)
        return FS_ERR_INVALID_ARGUMENT;
    const int node = find_output(m, name);
    if (node < 0)
        return FS_ERR_INVALID_ARGUMENT;
    const fs_nn_tensor *t = &m->tensors[node];
    if (data)
        *data = m->arena + m->tensors[t->root].offset / sizeof(float);
    if (shape)
        *shape = t->shape;
    return FS_OK;
}

fs_status fs_nn_model_output_dims(const fs_nn_model *m, const char *name, int *rank,
                                  int64_t dims[4])
{
    if (!m || !name || !m->prepared)
        return FS_ERR_INVALID_ARGUMENT;
    const int node = find_output(m, name);
    if (node < 0)
        return FS_ERR_INVALID_ARGUMENT;
    const fs_nn_tensor *t = &m->tensors[node];
    if (rank)
        *rank = t->rank;
    if (dims)
        for (int i = 0; i < 4; i++)
            dims[i] = i < t->rank ? t->dims[i] : 1;
    return FS_OK;
}

int fs_nn_model_output_count(const fs_nn_model *m)
{
    return m ? m->num_outputs : 0;
}

const char *fs_nn_model_output_name(const fs_nn_model *m, int index)
{
    if (!m || index < 0 || index >= m->num_outputs)
        return NULL;
    return m->nodes[m->outputs[index]].name;
}

fs_nn_shape fs_nn_model_input_shape(const fs_nn_model *m)
{
    fs_nn_shape s = {0, 0, 0, 0};
    if (!m)
        return s;
    const fs_nn_node *nd = &m->nodes[m->input];
    int64_t v[4] = {1, 1, 1, 1};
    const int64_t *d = nd->dims;
    switch (nd->rank) {
    case 1: v[3] = d[0]; break;
    case 2: v[0] = d[0]; v[3] = d[1]; break;
    case 3: v[0] = d[0]; v[2] = d[1]; v[3] = d[2]; break;
    case 4: memcpy(v, d, sizeof(v)); break;
    default: return s; /* rank > 4 cannot be prepared */
    }
    s.n = v[0] < 0 ? 0 : (int)v[0];
    s.h = (int)v[1];
    s.w = (int)v[2];
    s.c = (int)v[3];
    return s;
}

int fs_nn_model_step_count(const fs_nn_model *m)
{
    return m && m->prepared ? m->num_steps : 0;
}

int fs_nn_model_steps_using(const fs_nn_model *m, const char *kernel_name)
{
    int n = 0;
    if (!m || !m->prepared || !kernel_name)
        return 0;
    for (int i = 0; i < m->num_steps; i++) {
        const char *k = m->steps[i].kernel->name;
        n += k && strcmp(k, kernel_name) == 0;
    }
    return n;
}
