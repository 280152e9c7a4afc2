/*
 * `faceswap check PHOTO [--json]`: the selfie check of a photo
 * (include/faceswap/check.h), and the judgement of the source photo that
 * `swap` and `video` capture (a warning, or a refusal with --strict-source).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* What each criterion's flag means, in the order of its bit. */
static const char *const criterion_words[FS_CHECK_CRITERIA] = {
    "face too small", "head turned or tilted", "too dark", "overexposed", "coloured light or none",
    "blurred", "eyes closed", "face covered", "face cut by the frame", "several faces"};

/* The measures behind criterion @p i, in words. */
static void describe(char *buf, size_t n, int i, const fs_source_check *c)
{
    switch (i) {
    case 0: snprintf(buf, n, "face %.0f px across", c->face_size); break;
    case 1: snprintf(buf, n, "yaw %.1f, pitch %.1f, roll %.1f degrees", c->yaw, c->pitch, c->roll); break;
    case 2: snprintf(buf, n, "mean luma %.0f of 255, %.0f%% of the skin black", c->luma, 100.0 * c->dark); break;
    case 3: snprintf(buf, n, "mean luma %.0f of 255, %.0f%% of the skin clipped", c->luma, 100.0 * c->clipped); break;
    case 4: {
        const double chroma = hypot(c->skin_a, c->skin_b);
        snprintf(buf, n, "skin a* %.1f b* %.1f (chroma %.1f%s); the face or one half %.1f from skin under white light",
                 c->skin_a, c->skin_b, chroma, chroma < 3.0 ? ": no colour, a black-and-white photo?" : "",
                 c->cast);
        break;
    }
    case 5: snprintf(buf, n, "sharpness %.3f", c->sharpness); break;
    case 6: snprintf(buf, n, "eye opening %.3f of the eye's width", c->eye_openness); break;
    case 7: snprintf(buf, n, "%.0f%% of nose, lip and chin unlike the forehead's skin", 100.0 * c->covered); break;
    case 8: snprintf(buf, n, "%.1f%% of the face outside the image", 100.0 * c->outside); break;
    default: snprintf(buf, n, "largest other face %.0f%% of this one's size", 100.0 * c->crowd); break;
    }
}

/* "face too small (face 35 px across); ..." for every flag raised. */
static void failed_list(char *buf, size_t n, const fs_source_check *c)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < FS_CHECK_CRITERIA && used < n; i++) {
        if (!(c->flags & (1u << i)))
            continue;
        char d[160];
        describe(d, sizeof(d), i, c);
        const int w = snprintf(buf + used, n - used, "%s%s (%s)", used ? "; " : "", criterion_words[i], d);
        used += w > 0 ? (size_t)w : 0;
    }
}

int judge_source(const swap_options *o, const fs_identity *id)
{
    fs_source_check c;
    if (fs_identity_get_check(id, &c) != FS_OK || c.flags == 0)
        return -1;
    char list[1024];
    failed_list(list, sizeof(list), &c);
    fprintf(stderr, "faceswap: %ssource photo '%s' fails the selfie check (score %.2f): %s\n",
            o->strict_source ? "" : "warning: ", o->source, c.score, list);
    return o->strict_source ? EXIT_CHECK : -1;
}

static void print_check_json(FILE *out, const char *path, const fs_image *img, const fs_source_check *c)
{
    fputs("{\"image\":", out);
    put_json_string(out, path);
    fprintf(out, ",\"width\":%d,\"height\":%d,\"pass\":%s,\"score\":", (int)img->width,
            (int)img->height, c->flags ? "false" : "true");
    put_num(out, c->score, 4);
    fputs(",\"flags\":[", out);
    for (int i = 0, k = 0; i < FS_CHECK_CRITERIA; i++)
        if (c->flags & (1u << i))
            fprintf(out, "%s\"%s\"", k++ ? "," : "", fs_check_flag_name(1u << i));
    fprintf(out, "],\"faces\":%d,\"face_index\":%d,\"box\":[", (int)c->faces, (int)c->face_index);
    const float box[4] = {c->box.x, c->box.y, c->box.width, c->box.height};
    for (int i = 0; i < 4; i++) {
        if (i)
            fputc(',', out);
        put_num(out, box[i], 3);
    }
    const struct {
        const char *name;
        float v;
        int digits;
    } m[] = {
        {"face_size", c->face_size, 2}, {"yaw", c->yaw, 2},         {"pitch", c->pitch, 2},
        {"roll", c->roll, 2},           {"luma", c->luma, 2},       {"clipped", c->clipped, 4},
        {"dark", c->dark, 4},           {"skin_a", c->skin_a, 2},   {"skin_b", c->skin_b, 2},
        {"cast", c->cast, 2},           {"sharpness", c->sharpness, 4},
        {"eye_openness", c->eye_openness, 4}, {"covered", c->covered, 4},
        {"confidence", c->confidence, 4}, {"outside", c->outside, 4}, {"crowd", c->crowd, 4},
    };
    fputs("],\"measures\":{", out);
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
        fprintf(out, "%s\"%s\":", i ? "," : "", m[i].name);
        put_num(out, m[i].v, m[i].digits);
    }
    fputs("},\"quality\":{", out);
    for (int i = 0; i < FS_CHECK_CRITERIA; i++) {
        fprintf(out, "%s\"%s\":", i ? "," : "", fs_check_flag_name(1u << i));
        put_num(out, c->quality[i], 4);
    }
    fputs("}}\n", out);
}

static void print_check_text(FILE *out, const char *path, const fs_source_check *c)
{
    if (c->flags) {
        fprintf(out, "%s: fails the selfie check (score %.2f):", path, c->score);
        for (int i = 0; i < FS_CHECK_CRITERIA; i++)
            if (c->flags & (1u << i))
                fprintf(out, " %s", fs_check_flag_name(1u << i));
        fputc('\n', out);
    } else {
        fprintf(out, "%s: passes the selfie check (score %.2f)\n", path, c->score);
    }
    fprintf(out, "  face %d of %d, box %.0f,%.0f %.0fx%.0f\n", (int)c->face_index, (int)c->faces,
            c->box.x, c->box.y, c->box.width, c->box.height);
    for (int i = 0; i < FS_CHECK_CRITERIA; i++) {
        char d[160];
        describe(d, sizeof(d), i, c);
        fprintf(out, "  %-12s %-4s %.2f  %s\n", fs_check_flag_name(1u << i),
                c->flags & (1u << i) ? "FAIL" : "ok", c->quality[i], d);
    }
}

/* Options of `check`; -1 on success, else the exit code. */
static int parse_check_args(int argc, char **argv, swap_options *o, int *face)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--json") == 0 || strcmp(arg, "--reference") == 0) {
            *(arg[2] == 'j' ? &o->json : &o->reference) = 1;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0) {
            if (o->source) {
                usage_error("check: unexpected argument '%s'", arg);
                return EXIT_USAGE;
            }
            o->source = arg;
            continue;
        }
        char name[64];
        const char *value = NULL;
        if (!split_option(argc, argv, &i, name, &value))
            return EXIT_USAGE;
        int64_t n = 0;
        if (strcmp(name, "--models") == 0) {
            o->models = value;
        } else if (strcmp(name, "--threads") == 0) {
            if (!parse_threads(value, &o->threads))
                return EXIT_USAGE;
        } else if (strcmp(name, "--max-pixels") == 0) {
            if (!parse_max_pixels(value, &o->max_pixels))
                return EXIT_USAGE;
        } else if (strcmp(name, "--face") == 0) {
            if (strcmp(value, "largest") == 0) {
                *face = FS_IDENTITY_LARGEST_FACE;
            } else if (parse_int64(value, &n) && n >= 0 && n < 100) {
                *face = (int)n;
            } else {
                usage_error("--face: '%s' is not largest or an index 0..99", value);
                return EXIT_USAGE;
            }
        } else {
            usage_error("check: unknown option '%s'", name);
            return EXIT_USAGE;
        }
    }
    if (!o->source) {
        usage_error("check needs a PHOTO");
        return EXIT_USAGE;
    }
    return -1;
}

int run_check(int argc, char **argv)
{
    swap_options o;
    memset(&o, 0, sizeof(o));
    o.threads = -1;
    o.max_pixels = -1; /* the library's default */
    int face = FS_IDENTITY_LARGEST_FACE;
    int rc = parse_check_args(argc, argv, &o, &face);
    if (rc >= 0)
        return rc;
    fs_context *ctx = NULL;
    if ((rc = make_context(&o, &ctx)) >= 0)
        return rc;
    char what[4160];
    fs_image img;
    memset(&img, 0, sizeof(img));
    fs_source_check c;
    fs_status st = fs_image_read_file(ctx, o.source, &img);
    if (st != FS_OK) {
        snprintf(what, sizeof(what), "cannot read image '%s'", o.source);
        report(what, st, fs_context_last_error(ctx));
        rc = exit_for_image_status(st);
        goto done;
    }
    st = fs_identity_check_image(ctx, &img, face, &c);
    if (st != FS_OK) {
        snprintf(what, sizeof(what),
                 st == FS_ERR_NO_FACE || st == FS_ERR_OUT_OF_RANGE ? "no face to check in '%s'"
                                                                    : "cannot check '%s'",
                 o.source);
        report(what, st, fs_context_last_error(ctx));
        rc = st == FS_ERR_NO_FACE || st == FS_ERR_OUT_OF_RANGE ? EXIT_NO_FACE
             : st == FS_ERR_NOT_FOUND || st == FS_ERR_CHECKSUM || st == FS_ERR_MODEL
                 ? EXIT_MODEL
                 : exit_for_run_status(st);
        goto done;
    }
    if (o.json)
        print_check_json(stdout, o.source, &img, &c);
    else
        print_check_text(stdout, o.source, &c);
    rc = fflush(stdout) != 0 || ferror(stdout) ? EXIT_OUTPUT : c.flags ? EXIT_CHECK : EXIT_OK;
    if (rc == EXIT_OUTPUT)
        fprintf(stderr, "faceswap: cannot write to standard output\n");
done:
    fs_image_free(&img);
    fs_context_destroy(ctx);
    return rc;
}
