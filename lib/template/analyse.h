/*
 * The template analysis (lib/template/analyse.c). Internal.
 */
#ifndef FS_TEMPLATE_ANALYSE_H
#define FS_TEMPLATE_ANALYSE_H

#include "internal.h"
#include "swap/swap.h"
#include "template/template.h"

/* The statistics' low-pass, Hz: light and white balance change over a
 * second or more; faster changes are the estimate's noise (flicker). */
#define FS_ANALYSE_STATS_HZ 1.0

/* Two tracks of different shots are one person when the faceres embeddings
 * of their best views have at least this cosine. Measured: one person in
 * two shots 0.72 and 0.84 (Megamind.avi's two characters, drawn faces);
 * different people 0.55-0.63 there and 0.30-0.51 on photos of real people. */
#define FS_ANALYSE_JOIN_COSINE 0.70

typedef struct fs_analyse_params {
    int redetect_interval; /* FS_TEMPLATE_REDETECT_INTERVAL */
    int max_miss;          /* FS_TEMPLATE_MAX_MISS */
    int smooth;            /* FS_TEMPLATE_SMOOTH */
    double max_seconds;    /* FS_TEMPLATE_MAX_SECONDS */
    int max_faces;         /* FS_TEMPLATE_MAX_FACES */
    int track_choice;      /* FS_TEMPLATE_TRACK, stored in the result */
    int join;              /* FS_TEMPLATE_JOIN_SHOTS */
} fs_analyse_params;

void fs_analyse_params_default(fs_analyse_params *p);

/* What the analysis runs: the caller's detector and fitter (their settings
 * apply), and the swap's mesh and parameters for the target-side statistics. */
typedef struct fs_analyse_models {
    fs_detector *det;
    fs_fitter *fit;
    const fs_swap_mesh *mesh;
    const fs_swap_params *params;
} fs_analyse_models;

/*
 * Decodes @p path and fills @p out (untouched on failure). Statuses as
 * fs_template_analyse().
 */
fs_status fs_analyse_video(fs_context *ctx, const char *path, const fs_analyse_params *ap,
                           const fs_analyse_models *models, fs_progress_fn progress, void *user,
                           fs_tpl_data *out, fs_error_buf *err);

#endif /* FS_TEMPLATE_ANALYSE_H */
