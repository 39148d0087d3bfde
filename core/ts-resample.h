/* ts-resample.h: training-free cross-attention resampling with K queries (REFERENCE 3).
 *
 * The shape of BLIP-2's Q-Former (32 queries) and Flamingo's Perceiver
 * Resampler (64 latents), without their learned weights:
 *   1. tokens X~ = sqrt(D) * x / |x| (unit-norm rows rescaled to norm sqrt(D),
 *      i.e. unit mean square per component, the scale the 1 / sqrt(D) of
 *      scaled dot-product attention assumes);
 *   2. K queries Q = k-means centroids of X~: classic k-means++ seeding (one
 *      candidate per centre, seeded with params->seed) refined by
 *      TS_RESAMPLE_KMEANS_ITER Lloyd steps, fewer when N K D is large so that
 *      seeding and steps stay within TS_RESAMPLE_KMEANS_BUDGET multiply-adds;
 *      when even one step and the seeding exceed it (thousands of queries on
 *      tens of thousands of tokens) one Lloyd step from evenly strided tokens
 *      j N / K, the token-grid analogue of a pooled-grid initialisation.
 *      (Before issue 4: greedy k-means++ with 2 + ln K candidates and up to
 *      10 Lloyd iterations, whose seeding alone cost more than everything else
 *      for hundreds of queries; the attention rounds refine the queries anyway.)
 *   3. R rounds (params->rounds, 0 = 3) of
 *        A = softmax(Q X~^T / (tau sqrt(D)))   (each row over the N patches)
 *        Q <- A X~
 *      so a query's logit for patch j is |q| cos(q, x_j) / tau;
 *   4. output token q = sum_j A_qj x_j over the raw features with the last
 *      round's A; A is stored as the assignment's mix (K x N, rows sum to 1),
 *      and reconstruction paints each patch with its token's attention-weighted
 *      mix of patches (TS_RECON_MIX);
 *   5. hard groups for overlays: patch j belongs to argmax_q A_qj (ties to the
 *      lower query). A query no patch chose keeps size 0 (sorted last).
 * Cost: (Lloyd steps + R) N K D multiply-adds in SGEMM, plus the R products
 * A X: after the sharp softmax most weights are 0 or below 2^-24 / N (their
 * sum is under 2^-24 of the row's), so only the others are gathered and added
 * (within float rounding of the dense product; the dense SGEMM when more than
 * a quarter count, e.g. at a large tau).
 * The attention is computed in blocks of queries (never K x N beyond the mix
 * itself). When K x N exceeds TS_RESAMPLE_MAX_MIX weights the mix is not
 * stored and reconstruction falls back to the hard groups' mean patch
 * (recon = TS_RECON_GROUP_MEAN); the assignment says which.
 * The k-means++ seeds of the largest K drawn on a scene are kept in its memo
 * (ts_scene_memo, per seed; the seeds for K are their first K rows), so the
 * runs of a sweep and a moving slider draw them once; results are unchanged.
 * The run that draws them also takes its Lloyd steps with the seeding's
 * bounds (ts_kmeans_seed_steps: the same centres, without the first full
 * distance pass).
 * Through the scene's Gram matrix G (ts_scene_gram: the cosines of the
 * normalised features, X~ X~^T = D G) when TS_RESAMPLE_GRAM_SHARE K R >= N,
 * a rule of K alone so that a result never depends on what ran before
 * (beyond TS_SCENE_GRAM_MAX_TOKENS, or with fewer queries, all of the above
 * stands):
 *   - step 2 in exact arithmetic (ts_kmeans_gram_seed and _steps: seeds are
 *     tokens, a centre the exact mean of its members; N^2 + N K additions
 *     per step instead of N K D multiply-adds); its seeds (token indices) are
 *     kept in the memo as above;
 *   - the first round's logits of a query are its members' rows of G summed,
 *     times D / size (N additions a member instead of N D multiply-adds);
 *   - a later round's logits of a query are A G over the weights that count
 *     (ts_attention_product_rows, G read in column blocks) while at most D / 2
 *     count, else (A X~) X~^T as above.
 *   The same results within float rounding (tests: tokens and mix no farther
 *   from exact arithmetic than the float way's own rounding).
 * Reentrant; deterministic for a given seed. */
#pragma once

#include "ts-method.h"

G_BEGIN_DECLS

#define TS_RESAMPLE_QFORMER 32         /* BLIP-2 Q-Former queries */
#define TS_RESAMPLE_PERCEIVER 64       /* Flamingo Perceiver Resampler latents */
#define TS_RESAMPLE_KMEANS_ITER 2
#define TS_RESAMPLE_KMEANS_BUDGET 2e10 /* multiply-adds, about a second of SGEMM on a laptop core */
#define TS_RESAMPLE_MAX_MIX ((gint64) 1 << 26) /* 64 M weights = 256 MB */
#define TS_RESAMPLE_GRAM_SHARE 16 /* through the scene's Gram matrix when 16 K R >= N */

/* @max_mix: the largest K x N mix kept; 0 = TS_RESAMPLE_MAX_MIX. */
TsAssignment *ts_resample (const TsScene *scene, int queries, int rounds, double tau, guint64 seed,
                           gint64 max_mix, GCancellable *cancellable, GError **error);

/* ts_resample for each of @n_targets query counts into out[i], exactly the
 * single runs' results: the k-means++ seeds are drawn once, for the largest
 * count (or taken from the scene's memo), since the seeds of a smaller count
 * are their first K rows. FALSE with
 * @error at the first failure (out[i] already made stay set; the caller frees
 * every non-NULL entry). */
gboolean ts_resample_multi (const TsScene *scene, const int *queries, int n_targets, int rounds, double tau,
                            guint64 seed, gint64 max_mix, TsAssignment **out, GCancellable *cancellable,
                            GError **error);

/* Registry entry point: K = the target (ts_method_target). */
TsAssignment *ts_resample_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable,
                               GError **error);

/* Registry multi-target entry (TsMethodRunMulti). */
gboolean ts_resample_run_multi (const TsScene *scene, const TsMethodParams *params, const int *targets,
                                int n_targets, TsAssignment **out, GCancellable *cancellable, GError **error);

G_END_DECLS
