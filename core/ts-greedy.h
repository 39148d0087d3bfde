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
 * Every group keeps its best partner and its score; after each merge the new
 * group's similarities update every group's best, groups whose partner was
 * merged keep their old score as an upper bound and are recomputed lazily
 * only when they reach the top, and a tournament tree over the groups names
 * the next pair in O(log N).
 *
 * Global merging on a scene with a Gram matrix (ts_scene_gram, N <= 4096)
 * never touches the features: cosines of means are cosines of sums, and the
 * sums' dot products are sums of token dot products, x_i . x_j = |x_i| |x_j|
 * G_ij. An N x N matrix S of group-sum dot products (double, 8 N^2 bytes,
 * 42 MB at N = 2304, on 2 MB pages where Linux gives them) starts from G; merging A and B makes row
 * A + B and |s_A + s_B|^2 = |s_A|^2 + |s_B|^2 + 2 S_AB, so a step costs
 * O(N) whatever d; the other rows catch up on a log of the merges when next
 * read (S_CA += S_CB), so S stays exactly symmetric without column writes;
 * a group whose partner merged falls to a tighter bound, its next best
 * cosine, kept by every scan and offer.
 * Tokens with non-finite features count as zero vectors.
 *
 * Otherwise (N > 4096, adjacent-only, or no memory for S) memory is O(N d),
 * no N x N matrix: the bests come from blocked cblas_sgemm, each merge's new
 * row from one sgemv (or its neighbours): steps cost O(N d) (global) or
 * O(degree d) (adjacent). For large N and d the global scans first go
 * through a 32-dim orthonormal projection (the leading principal directions)
 * with the exact bound u.v <= Pu.Pv + |Qu||Qv|, and compute full cosines only
 * where that bound reaches the current best: the same merges, several times
 * less memory traffic, so 85k tokens finish.
 *
 * Both paths compute cosines with float rounding (G, the features are
 * float), so they can order two pairs differently only where the pairs'
 * exact cosines are within that rounding (about 1e-7).
 *
 * Functions are reentrant; the scene is only read. */
#pragma once

#include "ts-method.h"

G_BEGIN_DECLS

/* Merges @scene's tokens down to @target (n_protected + 1 .. N); output
 * tokens are ordered by their smallest patch, features are group means. */
TsAssignment *ts_greedy (const TsScene *scene, int target, gboolean adjacent_only, int n_protected,
                         GCancellable *cancellable, GError **error);

/* The same with the path chosen: -1 picks (the Gram path when it applies,
 * else a 32-dim bound when d >= 128 and N >= 1024, global mode); 0 and r > 0
 * take the features (never the Gram matrix) and scan full cosines (0) or an
 * r-dim projection bound first. The bound changes only the speed; the Gram
 * path may order pairs differently where their cosines are within float
 * rounding. */
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
