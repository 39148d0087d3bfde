#include "ts-pool.h"
#include "ts-error.h"
#include "ts-simd.h"

#include <string.h>

/* dst = the element-wise maximum (@max) or the mean of the patches [r0, r1) x
 * [c0, c1) of the rows of @data (@cols patches a grid row), @size of them:
 * 16 columns at a time summed (from 0.0f, in row-major order) or maximised
 * in registers, then divided by the size, the same floats as a plain loop. */
TS_CLONES static void
pool_cell (const float *restrict data, int cols, int d, int r0, int r1, int c0, int c1, gboolean max, int size,
           float *restrict dst)
{
  float start = max ? -G_MAXFLOAT : 0.0f, fsize = (float) size; /* as x /= size converts it */
  int j = 0;

  for (; j + 16 <= d; j += 16)
    {
      float acc[16];
      for (int u = 0; u < 16; u++)
        acc[u] = start;
      for (int r = r0; r < r1; r++)
        for (int c = c0; c < c1; c++)
          {
            const float *src = data + ((gsize) r * cols + c) * d + j;
            if (max)
              for (int u = 0; u < 16; u++)
                acc[u] = MAX (acc[u], src[u]);
            else
              for (int u = 0; u < 16; u++)
                acc[u] += src[u];
          }
      if (max)
        for (int u = 0; u < 16; u++)
          dst[j + u] = acc[u];
      else
        for (int u = 0; u < 16; u++)
          dst[j + u] = acc[u] / fsize;
    }
  for (; j < d; j++)
    {
      float acc = start;
      for (int r = r0; r < r1; r++)
        for (int c = c0; c < c1; c++)
          {
            float x = data[((gsize) r * cols + c) * d + j];
            acc = max ? MAX (acc, x) : acc + x;
          }
      dst[j] = max ? acc : acc / fsize;
    }
}

int
ts_pool_k_for_target (const TsGrid *grid, int target)
{
  int k = 1;

  while (k < MAX (grid->rows, grid->cols) &&
         (gint64) ((grid->rows + k - 1) / k) * ((grid->cols + k - 1) / k) > target)
    k++;
  return k;
}

TsAssignment *
ts_pool (const TsScene *scene, int k, TsPoolMode mode, GError **error)
{
  const TsGrid *g = &scene->grid;
  const TsFeatures *f = scene->features;
  int prow, pcol, d = f->d;
  TsAssignment *a;

  if (k < 1)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "pooling size k must be at least 1, not %d", k);
      return NULL;
    }
  prow = (g->rows + k - 1) / k;
  pcol = (g->cols + k - 1) / k;
  a = ts_assignment_new (g->tokens, prow * pcol, d, error);
  if (a == NULL)
    return NULL;
  a->regions = g_new (TsRect, a->n_out);
  a->recon = TS_RECON_REGION;

  for (int t = 0; t < g->tokens; t++)
    {
      int r = t / g->cols, c = t % g->cols;
      a->groups[t] = (r / k) * pcol + c / k;
    }
  for (int o = 0; o < a->n_out; o++)
    {
      int r0 = (o / pcol) * k, c0 = (o % pcol) * k;
      int r1 = MIN (r0 + k, g->rows), c1 = MIN (c0 + k, g->cols);
      float *dst = a->features + (gsize) o * d;
      a->regions[o] = (TsRect){ c0 * g->patch, r0 * g->patch, (c1 - c0) * g->patch, (r1 - r0) * g->patch };
      a->sizes[o] = (r1 - r0) * (c1 - c0);
      pool_cell (f->data, g->cols, d, r0, r1, c0, c1, mode == TS_POOL_MAX, a->sizes[o], dst);
    }
  return a;
}

TsAssignment *
ts_pool_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable, GError **error)
{
  int target = ts_method_target (params, scene->grid.tokens);

  if (ts_check_cancelled (cancellable, error))
    return NULL;
  return ts_pool (scene, ts_pool_k_for_target (&scene->grid, target), params->pool_mode, error);
}
