/* ts-features.h: one feature vector per token, what similarity is computed on.
 *
 * A TsFeatures is a row-major float32 matrix, n rows (tokens, raster order) by
 * d columns. Kinds (REFERENCE 2):
 *   pixel       the patch's P*P*3 values in [0,1], normalised per channel with
 *               the CLIP mean and std; d = 3 P^2, laid out (y, x, channel)
 *   descriptor  a compact shift-tolerant embedding, d = TS_DESCRIPTOR_DIM:
 *               [0..2] channel means and [3..5] channel stds (CLIP-normalised),
 *               [6..14] 9-bin unsigned gradient-orientation histogram weighted
 *               by magnitude (mean magnitude per pixel, x4),
 *               [15..29] magnitudes of the 15 lowest AC DCT-II coefficients of
 *               luma in zig-zag order (orthonormal, luma in [0,1], / P)
 *   npy         a user's own [N, D] or [rows, cols, D] array (see ts-npy.h)
 * Ownership: new objects; free with ts_features_free (NULL is a no-op). */
#pragma once

#include "ts-grid.h"
#include "ts-image.h"

G_BEGIN_DECLS

#define TS_DESCRIPTOR_DIM 30

typedef struct {
  int n;
  int d;
  float *data; /* n * d */
} TsFeatures;

typedef enum {
  TS_FEATURES_PIXEL,
  TS_FEATURES_DESCRIPTOR,
  TS_FEATURES_NPY,
  TS_FEATURES_MODEL,
} TsFeatureKind;

extern const float ts_clip_mean[3];
extern const float ts_clip_std[3];

/* "pixel", "descriptor", "npy", "model". */
gboolean ts_feature_kind_parse (const char *text, TsFeatureKind *kind, GError **error);
const char *ts_feature_kind_name (TsFeatureKind kind);

/* Zero-filled n x d matrix; NULL (TS_ERROR_TOO_LARGE) if it cannot be allocated. */
TsFeatures *ts_features_new (int n, int d, GError **error);
TsFeatures *ts_features_copy (const TsFeatures *features);
void ts_features_free (TsFeatures *features);

TsFeatures *ts_features_pixel (const TsImage *image, const TsGrid *grid, GError **error);
TsFeatures *ts_features_descriptor (const TsImage *image, const TsGrid *grid, GError **error);

/* A copy with every row scaled to unit L2 norm (zero rows stay zero). */
TsFeatures *ts_features_normalized (const TsFeatures *features, GError **error);
/* Cosine similarity of two vectors of length d (0 when either is zero). */
float ts_cosine (const float *a, const float *b, int d);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsFeatures, ts_features_free)

G_END_DECLS
