/* ts-attention.h: feature attention maps and the importance that pruning reads (REFERENCE 4).
 *
 * Feature attention needs no model: A = softmax(X X^T / tau) over
 * L2-normalised token features X (rows of unit norm, e.g. scene->normalized),
 * so A_ij = exp(cos(x_i, x_j) / tau) / sum_k exp(cos(x_i, x_k) / tau) and every
 * row sums to 1. Views, one float per token in raster order:
 *   query     row q of A: what patch q attends to (all bricks light up)
 *   global    softmax(X m / tau) with m the mean token, normalised to unit
 *             length: attention from the mean-token query (uniform when the
 *             mean is zero); the stand-in for CLS attention when there is none
 *   distinct  1 - mean_j cos(x_i, x_j) = 1 - x_i . mean(X), j over all tokens
 *             including i: salient, non-redundant patches score high
 *   received  column mean of A, (1/N) sum_i A_ij: how much attention token j
 *             receives from all queries (FastV's "attention received");
 *             computed in blocks of query rows with cblas_sgemm, O(N^2 D) time,
 *             O(block x N) memory, cancellable
 * query, global and distinct cost O(N D): one matrix-vector product. Nothing
 * here allocates N x N.
 *
 * Importance for pruning (ts_attention_importance): the scene's own
 * importance when it carries one (model attention, ts_scene_set_importance),
 * else softmax_i(distinct_i / tau) with tau = TS_ATTENTION_DEFAULT_TAU: the
 * distinctiveness ranking shaped like an attention distribution (positive,
 * sums to 1, heavy-tailed like CLS attention, which PruMerge's outlier test
 * expects). Distinctiveness ranks tokens exactly in the
 * reverse order of the global view (both are monotone in cos(x_i, m)), so
 * keeping the most distinctive tokens = dropping the ones the mean query
 * attends to most, i.e. the most redundant. The received view is available
 * as a map but is not the default: with softmax rows it is close to uniform
 * (each cluster of m similar tokens shares about m units of attention) and it
 * costs O(N^2 D).
 *
 * All functions are reentrant; outputs are caller-allocated arrays of n floats
 * or new arrays freed with g_free. */
#pragma once

#include <gio/gio.h>

#include "ts-features.h"
#include "ts-scene.h"

G_BEGIN_DECLS

#define TS_ATTENTION_DEFAULT_TAU 0.1

typedef enum {
  TS_ATTENTION_QUERY,
  TS_ATTENTION_GLOBAL,
  TS_ATTENTION_DISTINCT,
  TS_ATTENTION_RECEIVED,
} TsAttentionMode;

/* "query", "global", "distinct", "received". */
gboolean ts_attention_mode_parse (const char *text, TsAttentionMode *mode, GError **error);
const char *ts_attention_mode_name (TsAttentionMode mode);

/* Fills @out (x->n floats) with the @mode view of @x (rows of unit norm).
 * @query is the patch index for TS_ATTENTION_QUERY (ignored otherwise).
 * TS_ERROR_INVALID_ARGUMENT: tau not finite and > 0, query out of range,
 * empty features; TS_ERROR_CANCELLED (received view only). */
gboolean ts_attention_map (const TsFeatures *x, TsAttentionMode mode, int query, double tau, float *out,
                           GCancellable *cancellable, GError **error);

/* out (m x n) = row-wise softmax(scale * Q X^T) for m queries @q (m x d) and
 * n keys @x (n x d): the building block of feature attention and of the
 * resampler. @out must hold m * n floats; callers block their queries. */
void ts_attention_softmax_rows (const float *q, int m, const float *x, int n, int d, float scale, float *out);

/* In place, each of the @m rows of @n logits becomes softmax(scale * row)
 * (@scale 1: the second half of ts_attention_softmax_rows, the same bits;
 * any @scale: the bits of scaling each logit first). Exponentials as expf
 * gives them (8 at a time where the check at first use allows). */
void ts_attention_softmax (float *rows, int m, int n, float scale);

/* A X for rows of attention weights, over the weights that count. After a
 * sharp softmax most of a row is 0 or tiny (on a 672^2 photo at tau 0.1, 3 to
 * 10 % of a resampler's weights are at least 2^-24 / N of their row's sum).
 * The weights below 2^-24 / n of their row's sum s together weigh under
 * 2^-24 s, so leaving them out moves a row of A X by less than 2^-24 s times
 * the largest feature magnitude: half a float ulp of it for a softmax row,
 * below the rounding of the product itself. The others are gathered per row
 * in token order and added in that order, in chunks of tokens that stay in
 * cache. A block with a negative weight, or in which more than a quarter of
 * the weights count (soft attention, a large tau), goes through the dense
 * cblas_sgemm as before.
 * A workspace for blocks of up to @rows rows of @n weights (about rows x n /
 * 2 floats); NULL when there is no memory. One per thread; free of NULL is a
 * no-op. */
typedef struct _TsAttentionProduct TsAttentionProduct;
TsAttentionProduct *ts_attention_product_new (int rows, int n);
void ts_attention_product_free (TsAttentionProduct *p);

/* @out (m x dx) = A X for @m rows @A (m x n) and the features @x (n x dx),
 * with @p made for at least @m rows of @n (else, or @p NULL: cblas_sgemm). */
void ts_attention_product (TsAttentionProduct *p, const float *A, int m, int n, const float *x, int dx, float *out);

/* ts_attention_product over the weights that count, row by row: the rows
 * of @A with at most @most weights that count into @out (A X); the others'
 * indices into @left (m ints; their rows of @out untouched), for callers with
 * a dense way of their own; returns how many were left, or -1 (nothing
 * written) when the block would take the dense SGEMM. @out may be @A itself
 * when @dx is @n (the weights are gathered before it is written). */
int ts_attention_product_rows (TsAttentionProduct *p, const float *A, int m, int n, const float *x, int dx,
                               int most, float *out, int *left);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsAttentionProduct, ts_attention_product_free)

/* Rows r0 .. r0 + nb - 1 of A = softmax(X X^T / tau) into @out (nb x n). */
gboolean ts_attention_rows (const TsFeatures *x, int r0, int nb, double tau, float *out, GError **error);

/* The importance pruning uses, newly allocated (grid.tokens floats, higher =
 * keep): the scene's importance when set, else softmax(distinctiveness / tau)
 * of scene->normalized. @source (optional) receives a description to report. */
float *ts_attention_importance (const TsScene *scene, char **source, GError **error);

G_END_DECLS
