/*
 * Face embedding with Human's faceres model (HSE-FaceRes): a 1024-value
 * descriptor of who a face is, used to measure how far a swap moves the
 * identity of a target towards the source (issue 3, item 4). Internal: the
 * public API is designed later from this one.
 *
 * The crop mirrors what Human 3.3.6 feeds faceres, expressed from landmarks:
 * Human gives faceres the FaceMesh input crop (the BlazeFace box enlarged
 * x1.4, squared, JS-rounded corners, axis-aligned, tf.image.cropAndResize,
 * /255) resized to 224x224 and multiplied by 255, so the model sees 0..255
 * RGB. Here the square is centred on the landmarks' extent and its side is
 * FS_EMBED_CROP_FACTOR times the larger side of that extent, a factor
 * measured on the test photos so the two squares agree; the square is read straight into 224x224 with
 * cropAndResize semantics and values 0..255.
 */
#ifndef FS_EMBED_H
#define FS_EMBED_H

#include "internal.h"

#define FS_EMBED_SIZE 224   /* faceres input side */
#define FS_EMBED_DIM 1024   /* "global_pooling/Mean" */
/* Human's crop side over the landmarks' larger extent on the 24 faces of
 * the test photos (astronaut, messi5, faceapi_sample1-6; fitter without roll
 * alignment): median 1.35, range 1.23-1.59; Human's centre sits 0-5% of
 * the extent lower, which is left out. */
#define FS_EMBED_CROP_FACTOR 1.35

typedef struct fs_embedder fs_embedder;

/*
 * Loads faceres.json/.bin from the context's model folder, checked against
 * the pinned sha256 (when FS_CONTEXT_VERIFY_MODELS is on), and prepares it.
 * FS_ERR_INVALID_ARGUMENT, FS_ERR_NOT_FOUND, FS_ERR_CHECKSUM, FS_ERR_MODEL,
 * FS_ERR_TRUNCATED, FS_ERR_CORRUPT, FS_ERR_OUT_OF_MEMORY; detail in the
 * context's last error. *out untouched on failure. The context must outlive
 * the embedder.
 */
fs_status fs_embedder_create(fs_context *ctx, fs_embedder **out);

/* Accepts NULL. */
void fs_embedder_destroy(fs_embedder *e);

/* Detail of the embedder's last error, "" when none. */
const char *fs_embedder_last_error(const fs_embedder *e);

/*
 * The crop square of a face, image pixels: x1, y1, x2, y2 with integer
 * (JS-rounded) corners. Returns 0 when the landmarks are not finite or
 * their extent is under 4 px (no usable face).
 */
int fs_embed_crop_box(const fs_face_landmarks *lm, double box[4]);

/*
 * L2-normalised embedding of the face of @p lm in @p image (any pixel
 * format; host memory). FS_ERR_INVALID_ARGUMENT (NULL, bad landmarks, a
 * crop square entirely outside the image), FS_ERR_TOO_LARGE,
 * FS_ERR_UNSUPPORTED, FS_ERR_INTERNAL (the model gave a zero or non-finite
 * descriptor). One thread at a time per embedder.
 */
fs_status fs_embedder_run(fs_embedder *e, const fs_image *image, const fs_face_landmarks *lm,
                          float out[FS_EMBED_DIM]);

/* As fs_embedder_run() with an explicit crop square (x1, y1, x2, y2, image px). */
fs_status fs_embedder_run_box(fs_embedder *e, const fs_image *image, const double box[4],
                              float out[FS_EMBED_DIM]);

/*
 * The model input of the last run, [224][224][3] float 0..255 (for tests
 * that feed the same tensor to the reference); NULL before the first run.
 */
const float *fs_embedder_input(const fs_embedder *e);

/* Cosine similarity of two embeddings (need not be normalised); 0 if either is zero. */
double fs_embedding_cosine(const float *a, const float *b);

#endif /* FS_EMBED_H */
