/* ts-tome.h: ToMe bipartite soft matching (Bolya et al., ICLR 2023; REFERENCE 3).
 *
 * One step removes r tokens: the current tokens (kept in order of the
 * smallest original patch they contain) are split alternately into A (even
 * positions) and B (odd positions); every A token picks its most similar B
 * token by cosine of the size-weighted means; the r A tokens with the highest
 * scores are merged into their B partners (sizes add, features are
 * size-weighted means). The first @n_protected tokens (a CLS, a distillation
 * token) are never merged away and never receive merges, as the official
 * implementation's class_token / distill_token. Steps repeat with
 * r = min(n - target, floor((n - n_protected) / 2)), or a fixed r, until
 * the target count.
 *
 * Scores are computed in row blocks keeping only each A row's best B, so
 * memory stays O(N d) at any N. From 256 A and B tokens and d >= 256 most of
 * A x B^T is skipped: upper bounds from a 48-direction basis of the tokens
 * leave a few exact cosines per A row (ts-tome.c, best_partners_pruned); rows
 * among many near-duplicates, and features without dominant directions, get
 * the dense cblas_sgemm. Either way the partner is the argmax up to float
 * rounding of the cosines. Ties: an A row's best B is the lowest B position;
 * edges of equal score are ranked by A position (a stable sort).
 *
 * Functions are reentrant; the scene is only read. One scratch block (at
 * most 64 MB) is kept between calls, under a lock, so repeated runs do not
 * fault in fresh pages. While OpenBLAS may use two or more threads, ToMe
 * runs with it single-threaded and splits a pruned step over two threads of
 * its own (OpenBLAS's threading gains little on these shapes); the setting
 * is process-wide, so callers that share BLAS between threads set one
 * thread, as the GUI and the sweep do. The result is the same either way. */
#pragma once

#include "ts-method.h"

G_BEGIN_DECLS

/* One matching step on @n rows of @x (n x d, need not be normalised): fills
 * @dst (n entries) with, for every row, the row it is merged into, or its own
 * index when it stays. Returns the number of rows merged away (<= @r), or -1
 * with @error set (TS_ERROR_INVALID_ARGUMENT for bad sizes, TS_ERROR_CANCELLED). */
int ts_tome_match (const float *x, int n, int d, int r, int n_protected, int *dst, GCancellable *cancellable,
                   GError **error);

/* Merges @scene's tokens down to @target (1..N) with steps of @r tokens
 * (0 = the schedule). Output tokens are ordered by their smallest patch. */
TsAssignment *ts_tome (const TsScene *scene, int target, int r, int n_protected, GCancellable *cancellable,
                       GError **error);

/* The steps toward every target at once: the scoring of each state is done
 * once and reused by every later cut (a slider, a sweep's ratios), with the
 * same result as ts_tome. The chain reads @scene, which must outlive it.
 * Cuts are serialised by the chain's lock. */
typedef struct _TsTomeChain TsTomeChain;

TsTomeChain *ts_tome_chain_new (const TsScene *scene, int r, int n_protected);
/* ts_tome (scene, @target, r, n_protected) from the chain's steps. */
TsAssignment *ts_tome_chain_cut (TsTomeChain *chain, int target, GCancellable *cancellable, GError **error);
/* How many floats of merged features the chain keeps between cuts (default
 * 8 M, 32 MB); beyond that, or with 0, a cut that goes deeper than before
 * rebuilds them from the scene's by replaying the full steps. */
void ts_tome_chain_set_feature_cache (TsTomeChain *chain, gsize max_floats);
void ts_tome_chain_free (TsTomeChain *chain);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsTomeChain, ts_tome_chain_free)

/* Registry entry: params->tokens / ratio, tome_r, n_protected; the chain is
 * kept in the scene's memo, so runs on one scene share its scoring. */
TsAssignment *ts_tome_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable,
                           GError **error);

G_END_DECLS
