/*
 * Reader of tests/golden/<image>.txt (format in tests/golden/README.md),
 * shared by test_detect.c, test_fit.c and test_golden.c. Header-only: each
 * test program includes it once.
 */
#ifndef FS_TEST_GOLDEN_READER_H
#define FS_TEST_GOLDEN_READER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_MAX_FACES 16
#define GOLDEN_MAX_TENSORS 64

typedef struct golden_tensor {
    char name[64];
    size_t total, stride, n;
    float *v;
} golden_tensor;

typedef struct golden_face {
    int accepted;
    int anchor;
    double score, box[4], keypoints[12], cropbox[4], faceflag;
    int eye_left[4], eye_right[4]; /* iris eye boxes, 192-px crop units (from the comment) */
    int has_mesh;
    double mesh468[468][3];
    double meshfinal[478][3];
} golden_face;

typedef struct golden {
    char name[64];
    int width, height;
    char sha256[65];
    int nfaces;
    golden_face faces[GOLDEN_MAX_FACES];
    int ntensors;
    golden_tensor tensors[GOLDEN_MAX_TENSORS];
} golden;

static void golden_free(golden *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->ntensors; i++)
        free(g->tensors[i].v);
    free(g);
}

static const golden_tensor *golden_tensor_get(const golden *g, const char *name)
{
    for (int i = 0; i < g->ntensors; i++)
        if (strcmp(g->tensors[i].name, name) == 0)
            return &g->tensors[i];
    return NULL;
}

/* Reads one line (any length) into *buf; returns 0 at EOF. */
static int golden_getline(FILE *f, char **buf, size_t *cap)
{
    size_t n = 0;
    int c;
    while ((c = fgetc(f)) != EOF) {
        if (n + 2 > *cap) {
            *cap = *cap ? *cap * 2 : 4096;
            *buf = realloc(*buf, *cap);
            if (!*buf)
                return 0;
        }
        if (c == '\n')
            break;
        (*buf)[n++] = (char)c;
    }
    if (c == EOF && n == 0)
        return 0;
    (*buf)[n] = '\0';
    return 1;
}

static int golden_points(FILE *f, char **line, size_t *cap, double (*pts)[3], int n)
{
    for (int i = 0; i < n; i++) {
        if (!golden_getline(f, line, cap) ||
            sscanf(*line, "%lf %lf %lf", &pts[i][0], &pts[i][1], &pts[i][2]) != 3)
            return 0;
    }
    return 1;
}

/* Parses a golden file; NULL (with a message on stderr) on any error. */
static golden *golden_read(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "golden: cannot open %s\n", path);
        return NULL;
    }
    golden *g = calloc(1, sizeof(*g));
    char *line = NULL;
    size_t cap = 0;
    golden_face *cur = NULL;
    int ok = g != NULL;
    while (ok && golden_getline(f, &line, &cap)) {
        char word[64];
        if (sscanf(line, "%63s", word) != 1)
            continue;
        if (word[0] == '#') {
            const char *p;
            if (cur && (p = strstr(line, "# anchor ")))
                sscanf(p, "# anchor %d", &cur->anchor);
            if (cur && (p = strstr(line, "eye boxes (192-px crop units) left [")))
                sscanf(p, "eye boxes (192-px crop units) left [%d, %d, %d, %d] right [%d, %d, %d, %d]",
                       &cur->eye_left[0], &cur->eye_left[1], &cur->eye_left[2], &cur->eye_left[3],
                       &cur->eye_right[0], &cur->eye_right[1], &cur->eye_right[2],
                       &cur->eye_right[3]);
            continue;
        }
        if (strcmp(word, "image") == 0) {
            ok = sscanf(line, "image %63s %d %d %64s", g->name, &g->width, &g->height, g->sha256) == 4;
        } else if (strcmp(word, "faces") == 0) {
            ok = sscanf(line, "faces %d", &g->nfaces) == 1 && g->nfaces >= 0 &&
                 g->nfaces <= GOLDEN_MAX_FACES;
        } else if (strcmp(word, "face") == 0) {
            int k;
            char state[32];
            ok = sscanf(line, "face %d %31s", &k, state) == 2 && k >= 0 && k < g->nfaces;
            if (ok) {
                cur = &g->faces[k];
                cur->accepted = strcmp(state, "accepted") == 0;
            }
        } else if (strcmp(word, "score") == 0 && cur) {
            ok = sscanf(line, "score %lf", &cur->score) == 1;
        } else if (strcmp(word, "box") == 0 && cur) {
            ok = sscanf(line, "box %lf %lf %lf %lf", &cur->box[0], &cur->box[1], &cur->box[2],
                        &cur->box[3]) == 4;
        } else if (strcmp(word, "cropbox") == 0 && cur) {
            ok = sscanf(line, "cropbox %lf %lf %lf %lf", &cur->cropbox[0], &cur->cropbox[1],
                        &cur->cropbox[2], &cur->cropbox[3]) == 4;
        } else if (strcmp(word, "keypoints") == 0 && cur) {
            const char *p = line + strlen("keypoints");
            for (int i = 0; ok && i < 12; i++) {
                char *end;
                cur->keypoints[i] = strtod(p, &end);
                ok = end != p;
                p = end;
            }
        } else if (strcmp(word, "faceflag") == 0 && cur) {
            ok = sscanf(line, "faceflag %lf", &cur->faceflag) == 1;
        } else if (strcmp(word, "mesh468") == 0 && cur) {
            ok = golden_points(f, &line, &cap, cur->mesh468, 468);
            cur->has_mesh = ok;
        } else if (strcmp(word, "meshfinal") == 0 && cur) {
            ok = golden_points(f, &line, &cap, cur->meshfinal, 478);
        } else if (strcmp(word, "tensor") == 0) {
            ok = g->ntensors < GOLDEN_MAX_TENSORS;
            golden_tensor *t = ok ? &g->tensors[g->ntensors] : NULL;
            ok = ok && sscanf(line, "tensor %63s %zu %zu %zu", t->name, &t->total, &t->stride, &t->n) == 4 &&
                 t->n > 0 && t->n <= t->total;
            ok = ok && (t->v = malloc(t->n * sizeof(float))) != NULL;
            ok = ok && golden_getline(f, &line, &cap);
            const char *p = line;
            for (size_t i = 0; ok && i < t->n; i++) {
                char *end;
                t->v[i] = strtof(p, &end);
                ok = end != p;
                p = end;
            }
            if (t)
                g->ntensors++;
        }
        if (!ok)
            fprintf(stderr, "golden: %s: cannot parse line: %.80s\n", path, line);
    }
    free(line);
    fclose(f);
    if (!ok) {
        golden_free(g);
        return NULL;
    }
    return g;
}

#endif /* FS_TEST_GOLDEN_READER_H */
