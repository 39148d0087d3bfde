/* ts-quality.h: how much a compressed token set keeps (REFERENCE 5).
 *
 * Reconstruction paints every original patch with the pixels its token
 * stands for; PSNR and SSIM compare that picture with the original; feature
 * retention compares each original token with its representative.
 * All functions are reentrant. */
#pragma once

#include "ts-assignment.h"
#include "ts-image.h"

G_BEGIN_DECLS

typedef enum {
  TS_DROP_FILL_GREY,    /* dropped patches become mid-grey (128) */
  TS_DROP_FILL_NEAREST, /* dropped patches take the reconstruction of the nearest kept patch */
} TsDropFill;

/* A new image of @image's size: the grid area reconstructed from @a, pixels
 * outside the grid copied. NULL with TS_ERROR_INVALID_ARGUMENT on a mismatch,
 * TS_ERROR_BAD_DATA when @a breaks an invariant (ts_assignment_validate). */
TsImage *ts_reconstruct (const TsImage *image, const TsGrid *grid, const TsAssignment *a,
                         TsDropFill fill, GError **error);

/* PSNR over all RGB channels, 10 log10(255^2 / MSE); +INFINITY when identical;
 * NAN when the sizes differ. */
double ts_psnr (const TsImage *a, const TsImage *b);

/* SSIM of the luma planes exactly as skimage's structural_similarity with
 * gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
 * data_range=255 (reflect padding, 5-pixel border cropped; images under
 * 11 pixels a side are averaged whole). NAN when the sizes differ. */
double ts_ssim (const TsImage *a, const TsImage *b);
/* SSIM of two luma planes (row-major doubles in [0,255]); optional @map
 * receives the per-pixel SSIM (w * h). */
double ts_ssim_luma (const double *x, const double *y, int w, int h, double *map);
/* Luma plane Y = 0.299 R + 0.587 G + 0.114 B, newly allocated. */
double *ts_image_luma (const TsImage *image);

/* Mean over original tokens of cos(x_i, representative of i); dropped
 * patches count 0. NAN when @a's features are not in @features' space. */
double ts_feature_retention (const TsFeatures *features, const TsAssignment *a);
/* The same value with the squared L2 norms of @features' rows given, as
 * ts_feature_sq_norms forms them (newly allocated, features->n doubles):
 * callers measuring many assignments of one scene form them once. */
double *ts_feature_sq_norms (const TsFeatures *features);
double ts_feature_retention_normed (const TsFeatures *features, const double *sq_norms, const TsAssignment *a);

G_END_DECLS
