/* ts-adaptive.h: adaptive quadtree patching (Quadformer / APT, REFERENCE 3).
 *
 * Regions are squares of s x s patches (s = 1, 2, 4, ...: sP pixels a side),
 * each one token (its pixels resampled to P x P). They sit on the dyadic
 * quadtree of the patch grid, aligned to multiples of s from the top-left.
 *
 * Coarsest tiling: the smallest set of such aligned squares that tiles the
 * rows x cols grid exactly. A 32 x 32 grid is one 32-cell; a 48 x 48 grid is
 * one 32-cell and five 16-cells (6 tokens); a ragged 7 x 5 grid (rows x cols)
 * is one 4-cell, two 2-cells and eleven single patches at the ragged edges
 * (14 tokens).
 * Squares are at most 2^TS_ADAPTIVE_MAX_LEVEL patches a side.
 *
 * Budget mode: starting from the coarsest tiling, repeatedly split the
 * region with the highest detail score into its 4 children (+3 tokens) while
 * count + 3 <= budget. Reachable counts are n0 + 3k (n0 the coarsest count)
 * up to rows * cols, and the greedy always reaches the largest of them
 * <= budget. When the budget is below n0 the coarsest tiling is returned
 * (its n0 tokens exceed the budget; ts_adaptive_min_tokens tells callers).
 * Ties: higher score first, then the larger region, then raster order.
 *
 * Threshold mode (APT): a region of level l (2^l patches a side) splits
 * while its luma entropy exceeds thresholds[l - 1] (the last threshold for
 * deeper levels); the image chooses the count. A budget > 0 caps it (the
 * highest-entropy regions split first).
 *
 * Detail scores (per pixel, of one region of side sP):
 *   blur      MSE(region, up(down(region))) over RGB, down = area average to
 *             P x P (each cell s x s pixels), up = each value fills its cell:
 *             the within-cell variance, 0 for single patches
 *   entropy   -sum p log2 p of the luma histogram (256 bins,
 *             Y = round(0.299 R + 0.587 G + 0.114 B)), in bits
 *   gradient  mean of gx^2 + gy^2 of luma (0.299 R + 0.587 G + 0.114 B),
 *             gradients as numpy.gradient over the whole image (central
 *             differences, one-sided at the image border)
 *
 * Output: one token per region, spatial order (by the top-left patch),
 * regions in pixels, groups (each patch -> the region holding it), features
 * the mean of the member patches' features, recon TS_RECON_REGION.
 *
 * Thread safety: reentrant; the scene is only read. */
#pragma once

#include "ts-method.h"

G_BEGIN_DECLS

#define TS_ADAPTIVE_MAX_LEVEL 12
#define TS_ADAPTIVE_MAX_THRESHOLDS 8

typedef struct {
  TsDetailScore detail; /* budget mode score; threshold mode always uses entropy */
  int budget;           /* budget mode: tokens (>= 1); threshold mode: a cap, 0 = none */
  int n_thresholds;     /* > 0 selects threshold mode */
  double thresholds[TS_ADAPTIVE_MAX_THRESHOLDS]; /* bits, for levels 1, 2, ... */
} TsAdaptiveOptions;

/* Count of the coarsest tiling of @grid (the fewest tokens reachable). */
int ts_adaptive_min_tokens (const TsGrid *grid);

/* The largest count <= @budget that budget mode reaches on @grid (the
 * coarsest count when @budget is below it). */
int ts_adaptive_reachable (const TsGrid *grid, int budget);

TsAssignment *ts_adaptive (const TsScene *scene, const TsAdaptiveOptions *options,
                           GCancellable *cancellable, GError **error);

/* The detail score of one square region of @image, computed directly from
 * the definitions above (slow; for tests, tooltips and checks). @rect must
 * be a square of s * @patch pixels, s a power of two, inside @image.
 * TS_ERROR_INVALID_ARGUMENT otherwise. */
gboolean ts_adaptive_detail (const TsImage *image, TsRect rect, int patch, TsDetailScore detail,
                             double *score, GError **error);

/* The registry entry: budget mode at ts_method_target (params->detail), or
 * threshold mode when params->entropy_threshold > 0 (one threshold for every
 * level; params->tokens, when set, caps the count). */
TsAssignment *ts_adaptive_run (const TsScene *scene, const TsMethodParams *params,
                               GCancellable *cancellable, GError **error);

G_END_DECLS
