/* ts-downsample.h: the downsample baseline (REFERENCE 3).
 *
 * Instead of compressing tokens, shrink the image so that the target number
 * of tokens covers it at the same patch size: a rows' x cols' token grid with
 * rows' * cols' the largest count <= target whose aspect follows the grid's:
 * cols' is rows' cols / rows rounded down or up, or rows' is cols' rows / cols
 * rounded down or up (ties: the closer aspect).
 * Output token (r, c) covers the pixel rectangle
 * [floor(c W / cols'), floor((c + 1) W / cols')) x [floor(r H / rows'), ...)
 * of the W x H grid area; each original patch belongs to the token containing
 * its centre. Pixel features are those of the downsampled image (what a ViT
 * would actually see); other kinds take the group means. Reconstruction
 * resamples the whole image down and back up (TS_RECON_DOWNSAMPLE).
 *
 * Studies find this plain baseline beats many clever methods: always plot it.
 * Functions are reentrant. */
#pragma once

#include "ts-method.h"

G_BEGIN_DECLS

/* The downsampled token grid for @target tokens (1..grid->tokens) on @grid. */
void ts_downsample_shape (const TsGrid *grid, int target, int *rows, int *cols);

/* The assignment of @scene's patches to a @rows x @cols coarse tiling of its
 * grid area (1 <= rows <= grid rows, 1 <= cols <= grid cols) with regions and
 * group-mean features; recon TS_RECON_REGION. Shared with the optical presets. */
TsAssignment *ts_downsample_tiling (const TsScene *scene, int rows, int cols, GError **error);

/* The baseline at an explicit @rows x @cols token grid. */
TsAssignment *ts_downsample (const TsScene *scene, int rows, int cols, GError **error);

TsAssignment *ts_downsample_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable,
                                 GError **error);

G_END_DECLS
