/*
 * Internal pieces of the fitter, split into pure functions so that tests can
 * check them against the reference's raw tensors and synthetic poses.
 */
#ifndef FS_FIT_INTERNAL_H
#define FS_FIT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "sample/sample.h"

#define FS_MESH_SIZE 192 /* FaceMesh input side */
#define FS_IRIS_SIZE 64  /* Iris input side */
#define FS_IRIS_POINTS 76 /* Iris model points per eye: 71 contour + 5 iris */

/* ---------------------------------------------------------------- canonical face */

#define FS_CANON_MAX_TRIANGLES 4096

/* MediaPipe's canonical face (face_geometry.binarypb: GeometryPipelineMetadata). */
typedef struct fs_canonical_face {
    float vertices[FS_MESH_LANDMARKS][3]; /* cm; x to the image's right, y up, z towards the viewer */
    float uv[FS_MESH_LANDMARKS][2];
    int n_basis;                          /* Procrustes landmarks with their weights */
    int basis_id[FS_MESH_LANDMARKS];
    float basis_weight[FS_MESH_LANDMARKS];
    int n_triangles;
    uint16_t triangles[FS_CANON_MAX_TRIANGLES][3];
} fs_canonical_face;

/*
 * Parses the protobuf wire format of face_geometry.binarypb with a bounded
 * reader: GeometryPipelineMetadata { 1: Mesh3d canonical_mesh; 2: repeated
 * WeightedLandmarkRef procrustes_landmark_basis; 3: input_source }, Mesh3d
 * { 1: vertex_type (0 = position + texture); 2: primitive_type (0 =
 * triangle); 3: repeated float vertex_buffer; 4: repeated uint32
 * index_buffer }, WeightedLandmarkRef { 1: landmark_id; 2: weight }.
 * Packed and unpacked repeated fields are both accepted, unknown fields
 * skipped. FS_ERR_CORRUPT (detail names the field) or FS_ERR_MODEL (a
 * well-formed file that is not a 468-vertex face).
 */
fs_status fs_canonical_face_parse(const uint8_t *data, size_t size, fs_canonical_face *out,
                                  fs_error_buf *err);

/* Reads and parses face_geometry.binarypb from the context's model folder
 * (checked as every model file is): the one place the fitter and the
 * renderer get the canonical face from. @p out is untouched on failure
 * but for a partial parse. */
fs_status fs_canonical_face_load(fs_context *ctx, fs_canonical_face *out, fs_error_buf *err);

/* The vertex nearest to each vertex's reflection in x = 0 (the canonical
 * face is symmetric about it) into @p mirror; returns the largest distance
 * from a reflection to its nearest vertex, in cm: MediaPipe's face is
 * symmetric to well under a millimetre. */
float fs_canonical_mirror(const fs_canonical_face *canon, uint16_t mirror[FS_MESH_LANDMARKS]);

/* ---------------------------------------------------------------- head pose */

/*
 * Weighted similarity Procrustes: finds scale s, rotation R (proper) and
 * translation t minimising sum w_i |s R c_i + t - p_i|^2 over the basis
 * landmarks of @p canon, with p the landmarks (x, y image px, y down; z in
 * the same scale, smaller is nearer). Fills rotation, translation, scale and
 * yaw/pitch/roll (see fs_pose_angles). Returns 0 when degenerate.
 */
int fs_pose_fit(const float (*points)[3], const fs_canonical_face *canon, fs_head_pose *pose);

/* The canonical face a fitter loaded (for refitting the pose of smoothed landmarks). */
const fs_canonical_face *fs_fitter_canonical(const fs_fitter *fit);

/*
 * Angles of an image-frame rotation (as fs_head_pose.rotation), in degrees:
 * yaw > 0 the face turns towards the image's right (the person looks to
 * their left), pitch > 0 the face tilts up, roll > 0 the face turns
 * clockwise in the image (the eye line's angle with y pointing down).
 * Order: pitch, then yaw, then roll about the camera axis, so turning the
 * image by d degrees adds d to roll and leaves yaw and pitch alone.
 */
void fs_pose_angles(const double r[9], double *yaw, double *pitch, double *roll);

/* The inverse: an image-frame rotation from angles in degrees. */
void fs_pose_rotation(double yaw, double pitch, double roll, double r[9]);

/* ---------------------------------------------------------------- eye tables */

/* Human's iris key groups, in the order Human replaces them. */
#define FS_EYE_GROUPS 9
typedef struct fs_eye_group {
    const char *key;     /* e.g. "EyeUpper0" */
    int count;
    int iris[9];         /* iris-model point of each mesh point */
    int right[9];        /* mesh points of the right eye (33/133 side) */
    int left[9];         /* mesh points of the left eye (263/362 side) */
} fs_eye_group;
extern const fs_eye_group fs_eye_groups[FS_EYE_GROUPS];

/* ---------------------------------------------------------------- crops and iris */

/* A square face crop in the image. */
typedef struct fs_crop {
    double cx, cy;         /* centre, image px */
    double size_x, size_y; /* side along the crop's axes, image px */
    double angle;          /* radians, image frame (y down): the crop's x axis direction */
    int tfjs;              /* 1: integer axis-aligned box sampled as tf.image.cropAndResize */
    double x1, y1, x2, y2; /* the integer box when tfjs */
} fs_crop;

/*
 * Crop for a face box (x1, y1, x2, y2): enlarged by @p factor around its
 * centre. angle == 0 and tfjs: squared with JS-rounded corners (the
 * reference); otherwise a square of side factor * max(w, h) turned by @p angle.
 */
void fs_crop_from_box(double x1, double y1, double x2, double y2, double factor, double angle,
                      int tfjs, fs_crop *crop);

/* Sampler descriptor reading the crop into a side x side tensor, scaled by @p scale. */
void fs_crop_desc(const fs_crop *crop, int img_w, int img_h, int side, float scale,
                  fs_sample_desc *d);

/* Crop units (0..192) to image px; z scaled like x. */
void fs_crop_to_image(const fs_crop *crop, const double p[3], float out[3]);

/* An eye box in 192-px crop units, squared and rounded as Human does. */
typedef struct fs_eye_box {
    double x1, y1, x2, y2;
    double w, h;
} fs_eye_box;

/* Eye boxes from crop-space mesh points: [0] left (263, 362), [1] right (33, 133). */
void fs_eye_boxes(const double (*rc)[3], double factor, fs_eye_box boxes[2]);

/* How each eye crop goes through the iris model: flip the crop before,
 * un-flip the points after. */
typedef struct fs_iris_flip {
    int flip_in[2];   /* [0] left, [1] right */
    int unflip_out[2];
} fs_iris_flip;

/*
 * Human's iris post-processing in crop units: maps each eye's 76 points out
 * of its box, replaces the mesh's eye contours (both eyes when the eyes'
 * depth differs by < 30, else only the nearer eye's EyeUpper0/EyeLower0),
 * appends the 5 + 5 iris points with Human's z. @p rc has 478 rows; rows
 * 0..467 are the mesh and are updated; rows 468..477 are written.
 */
void fs_iris_apply(double (*rc)[3], const float *iris_out, const fs_eye_box boxes[2],
                   const fs_iris_flip *flip);

/* Without the iris model: each eye's 5 iris points at its contour centre. */
void fs_iris_from_mesh(double (*rc)[3]);

/* ---------------------------------------------------------------- fitter internals */

/* The roll (radians, image frame) FS_FITTER_ALIGN_ROLL turns a detection's crop by. */
double fs_roll_from_keypoints(const fs_face_box *face);

/* fs_fitter_run, and where the detection box is under 160 px the mean of
 * five fits: the box's own crop and the box moved by 3% of its size left,
 * right, up and down (crops the mesh rejects left out); then that and the
 * fit of the box's own crop mirrored left-right, mirrored back, weighed
 * alike (left out if the mesh rejects it), the head pose fitted again to
 * the result. A face of 160 px or more and its mirror image so get mirror-
 * image landmarks. Its confidence, box and crop are the first fit's. The
 * library's capture and still-image swap fit with it; fs_fitter_run stays
 * the reference pipeline's single crop. */
fs_status fs_fitter_run_steady(fs_fitter *fit, const fs_image *image, const fs_face_box *face,
                               fs_face_landmarks *out);

/* Overrides the iris flips (NULL restores the parameter-driven choice): for
 * the experiment that decides the default (tests/test_fit.c). */
void fs_fitter_set_iris_flip(fs_fitter *fit, const fs_iris_flip *flip);

/*
 * The last run's tensors, for locating a disagreement with the reference:
 * "mesh_input" [192][192][3], "mesh_1404", "faceflag", "iris_input"
 * [2][64][64][3], "iris_output" [2][228]. NULL for an unknown name.
 */
const float *fs_fitter_tensor(const fs_fitter *fit, const char *name, size_t *count);

#endif /* FS_FIT_INTERNAL_H */
