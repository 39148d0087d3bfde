#include "ts-resample.h"
#include "ts-attention.h"
#include "ts-error.h"
#include "ts-kmeans.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

TsAssignment *
ts_resample (const TsScene *scene, int queries, int rounds, double tau, guint64 seed, gint64 max_mix,
             GCancellable *cancellable, GError **error)
{
  const TsFeatures *xn;
  int n, d, K, bs;
  float sqd, scale;
  gboolean keep_mix;
  g_autofree float *xt = NULL;
  g_autofree float *q = NULL;
  g_autofree float *qnext = NULL;
  g_autofree float *block = NULL;
  g_autofree float *colmax = NULL;
  g_autoptr (TsAssignment) a = NULL;

  if (scene == NULL || scene->normalized == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "resampling needs a scene with features");
      return NULL;
    }
  xn = scene->normalized;
  n = xn->n;
  d = xn->d;
  K = queries;
  if (K < 1 || K > n)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "cannot resample %d tokens with %d queries", n, K);
      return NULL;
    }
  if (rounds == 0)
    rounds = 3;
  if (rounds < 1 || rounds > 100)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "resampling rounds must be 1..100, not %d", rounds);
      return NULL;
    }
  if (!(tau > 0) || !isfinite (tau))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "the resampling temperature tau must be positive, not %g",
                   tau);
      return NULL;
    }

  /* 1. tokens rescaled to norm sqrt(D) */
  sqd = sqrtf ((float) d);
  xt = g_try_new (float, (gsize) n * d);
  if (xt == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "no memory for %d x %d token features", n, d);
      return NULL;
    }
  for (gsize i = 0; i < (gsize) n * d; i++)
    xt[i] = xn->data[i] * sqd;

  /* 2. k-means queries within a compute budget: classic k-means++ seeding (one
   * candidate per centre, about one distance pass) and a few Lloyd steps; when
   * even that exceeds the budget, evenly strided tokens and one Lloyd step. */
  {
    double pass = (double) n * K * d; /* multiply-adds of one distance pass */
    int steps = (int) CLAMP (TS_RESAMPLE_KMEANS_BUDGET / pass - 1, 1, TS_RESAMPLE_KMEANS_ITER);
    if (pass * (1 + steps) <= TS_RESAMPLE_KMEANS_BUDGET)
      {
        TsKMeansOptions kopt;
        ts_kmeans_options_init (&kopt);
        kopt.seed = seed;
        kopt.n_local_trials = 1;
        q = g_new (float, (gsize) K * d);
        if (!ts_kmeans_seed (xt, n, d, K, &kopt, q, cancellable, error))
          return NULL;
      }
    else
      {
        q = g_new (float, (gsize) K * d);
        for (int j = 0; j < K; j++)
          memcpy (q + (gsize) j * d, xt + (gsize) ((gint64) j * n / K) * d, sizeof (float) * d);
      }
    if (!ts_kmeans_steps (xt, n, d, q, K, steps, cancellable, error))
      return NULL;
  }
  qnext = g_new (float, (gsize) K * d);

  if ((a = ts_assignment_new (n, K, scene->features->d, error)) == NULL)
    return NULL;
  keep_mix = (gint64) K * n <= (max_mix > 0 ? max_mix : TS_RESAMPLE_MAX_MIX);
  if (keep_mix)
    {
      a->mix = g_try_new (float, (gsize) K * n);
      keep_mix = a->mix != NULL;
    }
  a->recon = keep_mix ? TS_RECON_MIX : TS_RECON_GROUP_MEAN;
  bs = CLAMP ((1 << 24) / n, 1, K);
  if (!keep_mix)
    block = g_try_new (float, (gsize) bs * n);
  colmax = g_new (float, n);
  if (!keep_mix && block == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "no memory for a %d x %d attention block", bs, n);
      return NULL;
    }

  /* 3. attention rounds; 4. the last one also gives tokens, mix and groups */
  scale = 1.0f / (float) (tau * sqd);
  for (int r = 0; r < rounds; r++)
    {
      gboolean last = r == rounds - 1;
      for (int j = 0; j < n; j++)
        colmax[j] = -1.0f;
      for (int q0 = 0; q0 < K; q0 += bs)
        {
          int nb = MIN (bs, K - q0);
          float *A = keep_mix ? a->mix + (gsize) q0 * n : block;
          if (ts_check_cancelled (cancellable, error))
            return NULL;
          ts_attention_softmax_rows (q + (gsize) q0 * d, nb, xt, n, d, scale, A);
          if (!last)
            {
              cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, nb, d, n, 1.0f, A, n, xt, d, 0.0f,
                           qnext + (gsize) q0 * d, d);
              continue;
            }
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, nb, a->d, n, 1.0f, A, n, scene->features->data,
                       a->d, 0.0f, a->features + (gsize) q0 * a->d, a->d);
          for (int i = 0; i < nb; i++)
            {
              const float *row = A + (gsize) i * n;
              for (int j = 0; j < n; j++)
                if (row[j] > colmax[j])
                  colmax[j] = row[j], a->groups[j] = q0 + i;
            }
        }
      if (!last)
        memcpy (q, qnext, sizeof (float) * (gsize) K * d);
    }
  memset (a->sizes, 0, sizeof (int) * K);
  for (int j = 0; j < n; j++)
    a->sizes[a->groups[j]]++;
  ts_assignment_sort_spatial (a);
  return g_steal_pointer (&a);
}

TsAssignment *
ts_resample_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable, GError **error)
{
  return ts_resample (scene, ts_method_target (params, scene->grid.tokens), params->rounds, params->tau,
                      params->seed, 0, cancellable, error);
}
