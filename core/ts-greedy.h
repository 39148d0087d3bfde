/* ts-greedy.h: greedy agglomerative token merging (REFERENCE 3).
 *
 * Repeatedly merges the most similar pair of groups, similarity being the
 * cosine of their size-weighted mean features, until @target groups remain.
 * Exact semantics: every step takes the pair of maximal cosine; ties go to
 * the pair whose (smaller, larger) smallest-original-patch keys are
 * lexicographically first. With @adjacent_only only groups that touch on the
 * patch grid (4-neighbourhood, a region adjacency graph) may merge. The first
 * @n_protected tokens are never merged.
 *
 * Memory is O(N d): no N x N matrix. Every group keeps its best partner and
 * its score: computed once by blocked cblas_sgemm, then after each merge the
 * new group's row (one sgemv, or its neighbours) updates every group's best,
 * and groups whose partner was merged keep their old score as an upper bound
 * and are recomputed lazily only when they reach the top. Steps cost
 * O(N d) (global) or O(degree d) (adjacent). For large N and d the global
 * scans first go through a 32-dim orthonormal projection (the leading
 * principal directions) with the exact bound u.v <= Pu.Pv + |Qu||Qv|, and
 * compute full cosines only where that bound reaches the current best: the
 * same merges, several times less memory traffic, so 85k tokens finish.
 *
 * Functions are reentrant; the scene is only read. */
#pragma once

#include "ts-method.h"

G_BEGIN_DECLS

/* Merges @scene's tokens down to @target (n_protected + 1 .. N); output
 * tokens are ordered by their smallest patch, features are group means. */
TsAssignment *ts_greedy (const TsScene *scene, int target, gboolean adjacent_only, int n_protected,
                         GCancellable *cancellable, GError **error);

/* The same with the bound's dimension chosen: 0 scans full cosines, r > 0
 * scans an r-dim projection bound first, -1 picks (32 when d >= 128 and
 * N >= 1024, global mode). The result is the same either way (up to float
 * rounding in exact ties); only the speed differs. */
TsAssignment *ts_greedy_full (const TsScene *scene, int target, gboolean adjacent_only, int n_protected,
                              int bound_dims, GCancellable *cancellable, GError **error);

/* One merge sequence cut at each of @n_targets targets (any order, repeats
 * allowed): out[i] is exactly ts_greedy (scene, targets[i], ...), since the
 * merges down to a target are the first merges of any smaller target. FALSE
 * with @error when a target is invalid or cannot be reached; out[i] of the
 * targets reached before stay set (the caller frees every non-NULL entry). */
gboolean ts_greedy_multi (const TsScene *scene, const int *targets, int n_targets, gboolean adjacent_only,
                          int n_protected, TsAssignment **out, GCancellable *cancellable, GError **error);

/* Registry entry: params->tokens / ratio, adjacent_only, n_protected. */
TsAssignment *ts_greedy_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable,
                             GError **error);

/* Registry multi-target entry (TsMethodRunMulti): adjacent_only, n_protected. */
gboolean ts_greedy_run_multi (const TsScene *scene, const TsMethodParams *params, const int *targets, int n_targets,
                              TsAssignment **out, GCancellable *cancellable, GError **error);

G_END_DECLS
