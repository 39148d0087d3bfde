/* ts-pool.h: k x k pooling over the token grid (avg or max).
 *
 * Cells of k x k tokens become one token; cells at the right and bottom edges
 * pool what exists (ragged edges). With a target instead of k, k is the
 * smallest whose token count ceil(rows/k) * ceil(cols/k) is <= the target.
 * Output tokens are in raster order of the pooled grid; each covers the
 * pixel rectangle of its cell (regions), reconstructed by resampling. */
#pragma once

#include "ts-method.h"

G_BEGIN_DECLS

TsAssignment *ts_pool (const TsScene *scene, int k, TsPoolMode mode, GError **error);
/* The smallest k reaching @target tokens on @grid. */
int ts_pool_k_for_target (const TsGrid *grid, int target);
TsAssignment *ts_pool_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable,
                           GError **error);

G_END_DECLS
