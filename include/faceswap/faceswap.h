/*
 * libfaceswap umbrella header: include this one.
 */
#ifndef FS_FACESWAP_H
#define FS_FACESWAP_H

#include "common.h"
#include "version.h"
#include "context.h"
#include "image.h"
#include "detector.h"
#include "fitter.h"
#include "identity.h"
#include "check.h"
#include "renderer.h"
#include "template.h"
#include "video.h"

#endif /* FS_FACESWAP_H */
