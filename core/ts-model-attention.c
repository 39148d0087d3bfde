#include "ts-model-attention.h"
#include "ts-error.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void
ts_attention_fuse_heads (const float *attn, int heads, gsize nm, TsHeadFusion fusion, float *out)
{
  memcpy (out, attn, nm * sizeof (float));
  for (int h = 1; h < heads; h++)
    {
      const float *a = attn + (gsize) h * nm;
      switch (fusion)
        {
        case TS_HEAD_FUSION_MAX:
          for (gsize i = 0; i < nm; i++)
            out[i] = MAX (out[i], a[i]);
          break;
        case TS_HEAD_FUSION_MIN:
          for (gsize i = 0; i < nm; i++)
            out[i] = MIN (out[i], a[i]);
          break;
        case TS_HEAD_FUSION_MEAN:
        default:
          for (gsize i = 0; i < nm; i++)
            out[i] += a[i];
          break;
        }
    }
  if (fusion == TS_HEAD_FUSION_MEAN && heads > 1)
    for (gsize i = 0; i < nm; i++)
      out[i] /= (float) heads;
}

static int
compare_float (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return x < y ? -1 : x > y;
}

void
ts_attention_rollout_prepare (float *a, int n, double discard, gboolean keep_first)
{
  gsize nn = (gsize) n * n;
  gsize k = discard > 0 ? (gsize) (nn * MIN (discard, 1.0)) : 0;

  if (k > 0)
    {
      /* The k lowest entries (ties broken by position) become 0, as torch.topk(largest=False). */
      g_autofree float *sorted = g_new (float, nn);
      float t;
      gsize below = 0, at_t;
      memcpy (sorted, a, nn * sizeof (float));
      qsort (sorted, nn, sizeof (float), compare_float);
      t = sorted[k - 1];
      for (gsize i = 0; i < nn; i++)
        below += a[i] < t;
      at_t = k - below;
      for (gsize i = 0; i < nn; i++)
        {
          gboolean zero = a[i] < t;
          if (!zero && a[i] == t && at_t > 0)
            {
              zero = TRUE;
              at_t--;
            }
          if (zero && !(keep_first && i == 0))
            a[i] = 0.0f;
        }
    }
  for (int i = 0; i < n; i++)
    {
      float *row = a + (gsize) i * n;
      double sum = 0;
      row[i] += 1.0f;
      for (int j = 0; j < n; j++)
        sum += row[j] *= 0.5f;
      if (sum > 0)
        for (int j = 0; j < n; j++)
          row[j] = (float) (row[j] / sum);
    }
}

void
ts_attention_rollout_row (float *const *layers, int n_layers, int n, float *row)
{
  g_autofree float *tmp = g_new (float, n);

  /* row R = row A'_L ... A'_1: apply the last block first. */
  for (int l = n_layers - 1; l >= 0; l--)
    {
      cblas_sgemv (CblasRowMajor, CblasTrans, n, n, 1.0f, layers[l], n, row, 1, 0.0f, tmp, 1);
      memcpy (row, tmp, (gsize) n * sizeof (float));
    }
}

float *
ts_attention_patch_map (const float *row, int n_prefix, int n_patches)
{
  float *map = g_new (float, n_patches);
  float mx = 0.0f;

  for (int i = 0; i < n_patches; i++)
    {
      map[i] = row[n_prefix + i];
      mx = MAX (mx, map[i]);
    }
  if (mx > 0)
    for (int i = 0; i < n_patches; i++)
      map[i] /= mx;
  return map;
}

const char *
ts_model_attention_query_kind (const TsVitOutput *out)
{
  return out->query_is_cls ? "CLS" : "mean query";
}

float *
ts_model_attention_query_map (const TsVitOutput *out, int block, int head, TsHeadFusion fusion,
                              GError **error)
{
  int n = out->n_tokens;
  g_autofree float *fused = NULL;

  if (out->query_attn == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "the model was run without query attention");
      return NULL;
    }
  if (block < 0)
    block += out->depth;
  if (block < 0 || block >= out->depth)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "layer %d is outside 0..%d (the model has %d blocks)",
                   block, out->depth - 1, out->depth);
      return NULL;
    }
  if (head < -1 || head >= out->heads)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "head %d is outside 0..%d", head, out->heads - 1);
      return NULL;
    }
  {
    const float *rows = out->query_attn + (gsize) block * out->heads * n;
    if (head >= 0)
      return ts_attention_patch_map (rows + (gsize) head * n, out->n_prefix, out->rows * out->cols);
    fused = g_new (float, n);
    ts_attention_fuse_heads (rows, out->heads, n, fusion, fused);
    return ts_attention_patch_map (fused, out->n_prefix, out->rows * out->cols);
  }
}

float *
ts_model_attention_rollout_map (const TsVitOutput *out, GError **error)
{
  if (out->rollout == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "the model was run without rollout");
      return NULL;
    }
  return ts_attention_patch_map (out->rollout, out->n_prefix, out->rows * out->cols);
}
