/*
 * Head pose: weighted similarity Procrustes between the fitted landmarks and
 * the canonical face, solved with Horn's unit-quaternion method (the best
 * rotation is the eigenvector of the largest eigenvalue of a symmetric 4x4
 * matrix, found by Jacobi rotations), so the result is always a proper
 * rotation without an SVD sign fix-up.
 *
 * Frames. Canonical face: x to the image's right, y up, z towards the
 * viewer (cm). Landmarks: x right, y down, z smaller-is-nearer, i.e. the
 * camera frame turned 180 degrees about x. Both are right-handed, so
 * landmark = s R c + t with R proper; R = F for a frontal upright face,
 * F = diag(1, -1, -1). Angles are read from F R (camera frame, y up).
 */
#include "fit/fit_internal.h"

#include <math.h>
#include <string.h>

#define RAD2DEG (180.0 / 3.14159265358979323846)

/* Eigenvector of the largest eigenvalue of a symmetric 4x4 matrix. */
static void max_eigenvector4(double a[4][4], double v_out[4])
{
    double v[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
    for (int sweep = 0; sweep < 64; sweep++) {
        double off = 0.0, diag = 0.0;
        for (int p = 0; p < 4; p++) {
            diag += a[p][p] * a[p][p];
            for (int q = p + 1; q < 4; q++)
                off += a[p][q] * a[p][q];
        }
        if (off <= 1e-30 * (diag + 1e-300))
            break;
        for (int p = 0; p < 4; p++)
            for (int q = p + 1; q < 4; q++) {
                if (a[p][q] == 0.0)
                    continue;
                const double theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                const double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                const double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
                for (int k = 0; k < 4; k++) { /* A <- A J (columns p, q) */
                    const double akp = a[k][p], akq = a[k][q];
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for (int k = 0; k < 4; k++) { /* A <- J^T A (rows p, q) */
                    const double apk = a[p][k], aqk = a[q][k];
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for (int k = 0; k < 4; k++) {
                    const double vkp = v[k][p], vkq = v[k][q];
                    v[k][p] = c * vkp - s * vkq;
                    v[k][q] = s * vkp + c * vkq;
                }
            }
    }
    int best = 0;
    for (int i = 1; i < 4; i++)
        if (a[i][i] > a[best][best])
            best = i;
    for (int k = 0; k < 4; k++)
        v_out[k] = v[k][best];
}

int fs_pose_fit(const float (*points)[3], const fs_canonical_face *canon, fs_head_pose *pose)
{
    double wsum = 0.0, pc[3] = {0}, cc[3] = {0};
    for (int i = 0; i < canon->n_basis; i++) {
        const int id = canon->basis_id[i];
        const double w = canon->basis_weight[i];
        wsum += w;
        for (int k = 0; k < 3; k++) {
            pc[k] += w * points[id][k];
            cc[k] += w * canon->vertices[id][k];
        }
    }
    if (!(wsum > 0.0))
        return 0;
    for (int k = 0; k < 3; k++) {
        pc[k] /= wsum;
        cc[k] /= wsum;
    }
    /* S[i][j] = sum w a_i b_j, a = canonical (centred), b = landmarks (centred). */
    double s[3][3] = {{0}}, aa = 0.0;
    for (int i = 0; i < canon->n_basis; i++) {
        const int id = canon->basis_id[i];
        const double w = canon->basis_weight[i];
        double a[3], b[3];
        for (int k = 0; k < 3; k++) {
            a[k] = canon->vertices[id][k] - cc[k];
            b[k] = points[id][k] - pc[k];
        }
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 3; c++)
                s[r][c] += w * a[r] * b[c];
        aa += w * (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
    }
    if (!(aa > 0.0) || !isfinite(aa))
        return 0;
    const double sxx = s[0][0], sxy = s[0][1], sxz = s[0][2];
    const double syx = s[1][0], syy = s[1][1], syz = s[1][2];
    const double szx = s[2][0], szy = s[2][1], szz = s[2][2];
    double n[4][4] = {
        {sxx + syy + szz, syz - szy, szx - sxz, sxy - syx},
        {syz - szy, sxx - syy - szz, sxy + syx, szx + sxz},
        {szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy},
        {sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz},
    };
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            if (!isfinite(n[i][j]))
                return 0;
    double q[4];
    max_eigenvector4(n, q);
    const double qn = sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    if (!(qn > 0.0))
        return 0;
    const double w = q[0] / qn, x = q[1] / qn, y = q[2] / qn, z = q[3] / qn;
    const double r[9] = {
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z),     2 * (x * z + w * y),
        2 * (x * y + w * z),     1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y),     2 * (y * z + w * x),     1 - 2 * (x * x + y * y),
    };
    /* scale = sum w b . (R a) / sum w |a|^2 */
    double num = 0.0;
    for (int i = 0; i < canon->n_basis; i++) {
        const int id = canon->basis_id[i];
        double a[3], b[3];
        for (int k = 0; k < 3; k++) {
            a[k] = canon->vertices[id][k] - cc[k];
            b[k] = points[id][k] - pc[k];
        }
        for (int k = 0; k < 3; k++)
            num += canon->basis_weight[i] * b[k] * (r[3 * k] * a[0] + r[3 * k + 1] * a[1] + r[3 * k + 2] * a[2]);
    }
    const double scale = num / aa;
    if (!isfinite(scale))
        return 0;
    memset(pose, 0, sizeof(*pose));
    for (int k = 0; k < 9; k++)
        pose->rotation[k] = (float)r[k];
    for (int k = 0; k < 3; k++)
        pose->translation[k] =
            (float)(pc[k] - scale * (r[3 * k] * cc[0] + r[3 * k + 1] * cc[1] + r[3 * k + 2] * cc[2]));
    pose->scale = (float)scale;
    double yaw, pitch, roll;
    fs_pose_angles(r, &yaw, &pitch, &roll);
    pose->yaw = (float)yaw;
    pose->pitch = (float)pitch;
    pose->roll = (float)roll;
    return 1;
}

/*
 * Camera-frame rotation C = F R is decomposed as Rz(c) Ry(a) Rx(b) (standard
 * right-handed matrices, y up): roll is the outermost turn, about the camera
 * axis, so turning the image changes roll alone. yaw = a, pitch = -b,
 * roll = -c so that the signs read naturally in the image (fit_internal.h).
 */
void fs_pose_angles(const double r[9], double *yaw, double *pitch, double *roll)
{
    double c[9];
    for (int k = 0; k < 3; k++) {
        c[k] = r[k];
        c[3 + k] = -r[3 + k];
        c[6 + k] = -r[6 + k];
    }
    const double sa = -c[6];
    const double a = asin(sa > 1 ? 1 : (sa < -1 ? -1 : sa));
    const double b = atan2(c[7], c[8]);
    const double cz = atan2(c[3], c[0]);
    *yaw = a * RAD2DEG;
    *pitch = -b * RAD2DEG;
    *roll = -cz * RAD2DEG;
}

static void matmul3(const double a[9], const double b[9], double out[9])
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            out[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
}

void fs_pose_rotation(double yaw, double pitch, double roll, double r[9])
{
    const double a = yaw / RAD2DEG, b = -pitch / RAD2DEG, cz = -roll / RAD2DEG;
    const double ry[9] = {cos(a), 0, sin(a), 0, 1, 0, -sin(a), 0, cos(a)};
    const double rx[9] = {1, 0, 0, 0, cos(b), -sin(b), 0, sin(b), cos(b)};
    const double rz[9] = {cos(cz), -sin(cz), 0, sin(cz), cos(cz), 0, 0, 0, 1};
    double t[9], c[9];
    matmul3(ry, rx, t);
    matmul3(rz, t, c);
    for (int k = 0; k < 3; k++) { /* R = F C */
        r[k] = c[k];
        r[3 + k] = -c[3 + k];
        r[6 + k] = -c[6 + k];
    }
}
