/* ts-model-attention.h: attention maps of a real ViT (REFERENCE 4).
 *
 * CLS attention: attn[block, h, 0, prefix:] on the patch grid (DINO
 * convention), one head or fused over heads (mean / max / min). Models
 * without a CLS (SigLIP) have no such row: TsVitOutput then carries the mean
 * query instead, the mean of all rows of attn[block, h] (how much attention
 * each token receives on average), and the maps say so through
 * ts_model_attention_query_kind().
 *
 * Rollout (Abnar & Zuidema 2020, as the popular jacobgil implementation, but
 * normalising ROWS): per block fuse the heads, zero the lowest `discard`
 * fraction of the fused n x n matrix (never the CLS->CLS entry), A' = (A + I) / 2,
 * divide every ROW by its sum, and multiply from the input:
 * R = A'_L ... A'_1. The map is the CLS row of R (the mean row without a CLS)
 * without the CLS and register columns, scaled to max 1.
 *
 * Maps are rows * cols floats in raster order, max 1 (all zero stays zero),
 * newly allocated. Functions are reentrant. */
#pragma once

#include "ts-vit.h"

G_BEGIN_DECLS

/* Fuses @heads matrices of @n x @m (heads x n x m, contiguous) into @out (n x m). */
void ts_attention_fuse_heads (const float *attn, int heads, gsize nm, TsHeadFusion fusion, float *out);

/* Prepares one fused n x n block matrix in place for rollout: discard,
 * (A + I) / 2, rows normalised. @keep_first: never discard entry [0, 0]. */
void ts_attention_rollout_prepare (float *a, int n, double discard, gboolean keep_first);

/* row := row A'_L ... A'_1 for @n_layers prepared matrices (layers[0] = block 0).
 * @row holds the starting row (e_0 for CLS, 1/n for the mean query). */
void ts_attention_rollout_row (float *const *layers, int n_layers, int n, float *row);

/* The patch part of a token row (drops @n_prefix entries), scaled to max 1. */
float *ts_attention_patch_map (const float *row, int n_prefix, int n_patches);

/* "CLS" or "mean query". */
const char *ts_model_attention_query_kind (const TsVitOutput *out);

/* Query (CLS or mean-query) map of @block (0-based; negative from the end);
 * @head >= 0 one head, -1 fused with @fusion. Needs out->query_attn.
 * TS_ERROR_INVALID_ARGUMENT for a block or head out of range. */
float *ts_model_attention_query_map (const TsVitOutput *out, int block, int head, TsHeadFusion fusion,
                                     GError **error);
/* Rollout map; needs out->rollout. */
float *ts_model_attention_rollout_map (const TsVitOutput *out, GError **error);

G_END_DECLS
