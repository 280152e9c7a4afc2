/*
 * Minimal embedding example: finds the faces in one image and fits their
 * 478 3D landmarks, using only the public API.
 *
 *   cc embed.c $(pkg-config --cflags --libs faceswap) -o embed
 *   FS_MODEL_DIR=/path/to/models ./embed photo.jpg
 *
 * The model folder is FS_MODEL_DIR when set, otherwise the one the library
 * was installed with (pkg-config --variable=modeldir faceswap); a second
 * argument overrides both. tests/test_install.sh builds and runs this file
 * against an installed copy of the library.
 */
#include <stdio.h>
#include <stdlib.h>

#include <faceswap/faceswap.h>

enum { MAX_FACES = 16 };

/* Prints the failing call, its status and the object's detail string. */
static int report(const char *what, fs_status st, const char *detail)
{
    fprintf(stderr, "embed: %s: %s (%s)%s%s\n", what, fs_status_name(st),
            fs_status_message(st), detail && *detail ? ": " : "", detail ? detail : "");
    return 1;
}

/* Detects the faces of one image and fits each; returns 0 on success. */
static int detect_and_fit(fs_detector *det, fs_fitter *fit, const fs_image *img)
{
    fs_face_box faces[MAX_FACES];
    int count = 0;
    fs_status st = fs_detector_run(det, img, faces, MAX_FACES, &count);
    if (st != FS_OK)
        return report("fs_detector_run", st, fs_detector_last_error(det));
    printf("faces %d\n", count);

    const int shown = count < MAX_FACES ? count : MAX_FACES;
    for (int i = 0; i < shown; i++) {
        const fs_face_box *const b = &faces[i];
        printf("face %d box %.1f %.1f %.1f %.1f score %.3f\n", i, b->x, b->y, b->width,
               b->height, b->score);
        /* Static: the landmarks struct is ~6 KB, kept off small thread stacks. */
        static fs_face_landmarks lm;
        st = fs_fitter_run(fit, img, b, &lm);
        if (st == FS_ERR_NO_FACE) {
            printf("face %d rejected by the landmark model\n", i);
            continue;
        }
        if (st != FS_OK)
            return report("fs_fitter_run", st, fs_fitter_last_error(fit));
        /* Landmark 1 is the nose tip, 468 and 473 the iris centres. */
        printf("face %d landmarks %d confidence %.3f nose %.1f %.1f irises %.1f %.1f %.1f %.1f"
               " yaw %.1f pitch %.1f roll %.1f\n",
               i, FS_LANDMARKS, lm.confidence, lm.points[1][0], lm.points[1][1],
               lm.points[468][0], lm.points[468][1], lm.points[473][0], lm.points[473][1],
               lm.pose.yaw, lm.pose.pitch, lm.pose.roll);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s IMAGE [MODEL_DIR]\n", argv[0]);
        return 2;
    }
    printf("libfaceswap %s\n", fs_version_string());

    fs_context *ctx = NULL;
    fs_detector *det = NULL;
    fs_fitter *fit = NULL;
    fs_image img = {0};
    int rc = 1;

    fs_status st = fs_context_create(&ctx);
    if (st != FS_OK)
        return report("fs_context_create", st, NULL);
    if (argc == 3 && (st = fs_context_set_model_dir(ctx, argv[2])) != FS_OK)
        report("fs_context_set_model_dir", st, fs_context_last_error(ctx));
    else if ((st = fs_image_read_file(ctx, argv[1], &img)) != FS_OK)
        report(argv[1], st, fs_context_last_error(ctx));
    else if ((st = fs_detector_create(ctx, &det)) != FS_OK)
        report("fs_detector_create", st, fs_context_last_error(ctx));
    else if ((st = fs_fitter_create(ctx, &fit)) != FS_OK)
        report("fs_fitter_create", st, fs_context_last_error(ctx));
    else {
        printf("image %s %dx%d\n", argv[1], (int)img.width, (int)img.height);
        rc = detect_and_fit(det, fit, &img);
    }

    /* Destroy functions accept NULL, so one exit path serves every failure. */
    fs_fitter_destroy(fit);
    fs_detector_destroy(det);
    fs_image_free(&img);
    fs_context_destroy(ctx);
    return rc;
}
