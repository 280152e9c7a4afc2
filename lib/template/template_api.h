/*
 * The public fs_template's inside, for the render (lib/video) and tests.
 */
#ifndef FS_TEMPLATE_API_H
#define FS_TEMPLATE_API_H

#include "internal.h"
#include "template/analyse.h"
#include "template/template.h"

struct fs_template {
    fs_context *ctx;
    fs_analyse_params params;
    fs_tpl_data data; /* n_frames 0: nothing analysed or loaded */
    fs_error_buf err;
};

/*
 * The faces of frame @p frame that track choice @p choice (a track id,
 * FS_TRACK_PROTAGONIST or FS_TRACK_ALL) selects: returns how many, and
 * stores the first @p cap of them in @p faces (may be NULL).
 */
int fs_tpl_chosen_face(const fs_tpl_data *d, int choice, int64_t frame, const fs_tpl_face **faces,
                       int cap);

/* A stored face as public landmarks (crop and reserved fields zero). */
void fs_tpl_face_landmarks(const fs_tpl_face *f, fs_face_landmarks *out);

#endif /* FS_TEMPLATE_API_H */
