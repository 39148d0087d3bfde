#include "ts-kmeans.h"
#include "ts-error.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#define BLOCK 512 /* rows per sgemm block */

void
ts_kmeans_options_init (TsKMeansOptions *options)
{
  memset (options, 0, sizeof *options);
}

void
ts_kmeans_free (TsKMeans *km)
{
  if (km == NULL)
    return;
  g_free (km->centroids);
  g_free (km->labels);
  g_free (km->sizes);
  g_free (km);
}

static void
row_norms (const float *x, int n, int d, float *out)
{
  for (int i = 0; i < n; i++)
    {
      const float *r = x + (gsize) i * d;
      float s = 0;
      for (int j = 0; j < d; j++)
        s += r[j] * r[j];
      out[i] = s;
    }
}

/* Labels and squared distances of rows to @k centroids with precomputed norms. */
static gboolean
assign (const float *x, const float *xn, int n, int d, const float *c, int k, const gboolean *dead, int *labels,
        float *dist2, GCancellable *cancellable, GError **error)
{
  g_autofree float *cn = g_new (float, k);
  g_autofree float *dot = g_try_new (float, (gsize) BLOCK * k);

  if (dot == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "out of memory for k-means distances (k %d)", k);
      return FALSE;
    }
  row_norms (c, k, d, cn);
  if (dead != NULL)
    for (int j = 0; j < k; j++)
      if (dead[j])
        cn[j] = INFINITY;
  for (int b0 = 0; b0 < n; b0 += BLOCK)
    {
      int bn = MIN (BLOCK, n - b0);
      if (ts_check_cancelled (cancellable, error))
        return FALSE;
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, bn, k, d, 1.0f, x + (gsize) b0 * d, d, c, d, 0.0f,
                   dot, k);
      for (int i = 0; i < bn; i++)
        {
          const float *row = dot + (gsize) i * k;
          float best = G_MAXFLOAT;
          int bl = 0;
          for (int j = 0; j < k; j++)
            {
              float v = cn[j] - 2.0f * row[j];
              if (v < best)
                {
                  best = v;
                  bl = j;
                }
            }
          labels[b0 + i] = bl;
          if (dist2)
            dist2[b0 + i] = MAX (0.0f, best + xn[b0 + i]);
        }
    }
  return TRUE;
}

gboolean
ts_kmeans_assign (const float *x, int n, int d, const float *centroids, int k, int *labels, float *dist2,
                  GCancellable *cancellable, GError **error)
{
  g_autofree float *xn = NULL;

  if (x == NULL || centroids == NULL || labels == NULL || n < 1 || d < 1 || k < 1)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "k-means assignment needs rows, centroids and k >= 1");
      return FALSE;
    }
  xn = g_new (float, n);
  row_norms (x, n, d, xn);
  return assign (x, xn, n, d, centroids, k, NULL, labels, dist2, cancellable, error);
}

static guint64
row_hash (const float *r, int d)
{
  const guint8 *b = (const guint8 *) r;
  guint64 h = 1469598103934665603ull;

  for (gsize i = 0; i < sizeof (float) * (gsize) d; i++)
    h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

/* TRUE when row @row equals one of the first @c centres (hashes first, then bytes). */
static gboolean
is_duplicate (const float *centroids, const guint64 *hashes, int c, const float *row, guint64 h, int d)
{
  for (int i = 0; i < c; i++)
    if (hashes[i] == h && memcmp (centroids + (gsize) i * d, row, sizeof (float) * d) == 0)
      return TRUE;
  return FALSE;
}

/* Index of the first cumulative weight exceeding @u. */
static int
sample_index (const double *cum, int n, double u)
{
  int lo = 0, hi = n - 1;

  while (lo < hi)
    {
      int mid = (lo + hi) / 2;
      if (cum[mid] > u)
        hi = mid;
      else
        lo = mid + 1;
    }
  return lo;
}

static gboolean
seed_plus_plus (const float *x, const float *xn, int n, int d, int k, int trials, GRand *rand, float *centroids,
                gboolean *dead, GCancellable *cancellable, GError **error)
{
  g_autofree guint64 *hashes = g_new (guint64, k);
  g_autofree float *best_d = g_new (float, n);
  g_autofree float *cand_d = g_new (float, (gsize) trials * d);
  g_autofree float *dot = g_new (float, (gsize) n * trials);
  g_autofree double *cum = g_new (double, n);
  g_autofree gboolean *chosen = g_new0 (gboolean, n);
  g_autofree int *cand = g_new (int, trials);
  int first = g_rand_int_range (rand, 0, n);

  memcpy (centroids, x + (gsize) first * d, sizeof (float) * d);
  chosen[first] = TRUE;
  hashes[0] = row_hash (centroids, d);
  for (int i = 0; i < n; i++)
    {
      const float *r = x + (gsize) i * d, *c = centroids;
      float s = 0;
      for (int j = 0; j < d; j++)
        s += (r[j] - c[j]) * (r[j] - c[j]);
      best_d[i] = s;
    }
  for (int c = 1; c < k; c++)
    {
      double total = 0, best_pot = INFINITY;
      int best = -1;

      if (ts_check_cancelled (cancellable, error))
        return FALSE;
      for (int i = 0; i < n; i++)
        cum[i] = (total += best_d[i]);
      if (!(total > 0))
        {
          for (int i = 0; i < n && best < 0; i++)
            if (!chosen[i])
              best = i;
          if (best < 0)
            best = 0;
        }
      else
        {
          /* Candidates' distances to every row: one sgemm of n x trials. */
          for (int t = 0; t < trials; t++)
            cand[t] = sample_index (cum, n, g_rand_double (rand) * total);
          for (int t = 0; t < trials; t++)
            memcpy (cand_d + (gsize) t * d, x + (gsize) cand[t] * d, sizeof (float) * d);
          {
            cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, trials, d, 1.0f, x, d, cand_d, d, 0.0f, dot,
                         trials);
            for (int t = 0; t < trials; t++)
              {
                double pot = 0;
                float cnorm = xn[cand[t]];
                for (int i = 0; i < n; i++)
                  pot += MIN (best_d[i], MAX (0.0f, xn[i] - 2.0f * dot[(gsize) i * trials + t] + cnorm));
                if (pot < best_pot)
                  {
                    best_pot = pot;
                    best = t;
                  }
              }
            for (int i = 0; i < n; i++)
              best_d[i] = MIN (best_d[i], MAX (0.0f, xn[i] - 2.0f * dot[(gsize) i * trials + best] + xn[cand[best]]));
            best = cand[best];
          }
        }
      chosen[best] = TRUE;
      if (!(total > 0))
        for (int i = 0; i < n; i++)
          {
            const float *r = x + (gsize) i * d, *q = x + (gsize) best * d;
            float s = 0;
            for (int j = 0; j < d; j++)
              s += (r[j] - q[j]) * (r[j] - q[j]);
            best_d[i] = MIN (best_d[i], s);
          }
      memcpy (centroids + (gsize) c * d, x + (gsize) best * d, sizeof (float) * d);
      hashes[c] = row_hash (centroids + (gsize) c * d, d);
      /* Fewer distinct rows than k: a copy of an existing centre would only split ties by rounding. */
      dead[c] = is_duplicate (centroids, hashes, c, centroids + (gsize) c * d, hashes[c], d);
    }
  return TRUE;
}

TsKMeans *
ts_kmeans (const float *x, int n, int d, int k, const TsKMeansOptions *options, GCancellable *cancellable,
           GError **error)
{
  TsKMeansOptions defaults;
  g_autoptr (TsKMeans) km = NULL;
  g_autoptr (GRand) rand = NULL;
  g_autofree float *xn = NULL;
  g_autofree float *dist = NULL;
  g_autofree double *sums = NULL;
  g_autofree gboolean *dead = NULL;
  int trials, max_iter;

  if (x == NULL || n < 1 || d < 1 || k < 1 || k > n || (gint64) n * d > G_MAXINT32)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "k-means needs 1 <= k (%d) <= rows (%d) and d >= 1",
                   k, n);
      return NULL;
    }
  for (gsize i = 0; i < (gsize) n * d; i++)
    if (!isfinite (x[i]))
      {
        g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "k-means input row %d has a NaN or infinite value",
                     (int) (i / d));
        return NULL;
      }
  if (options == NULL)
    {
      ts_kmeans_options_init (&defaults);
      options = &defaults;
    }
  trials = options->n_local_trials > 0 ? options->n_local_trials : 2 + (int) floor (log (k));
  max_iter = options->max_iter == 0 ? 100 : options->max_iter;

  km = g_new0 (TsKMeans, 1);
  km->n = n;
  km->d = d;
  km->k = k;
  km->centroids = g_try_new (float, (gsize) k * d);
  km->labels = g_new0 (int, n);
  km->sizes = g_new0 (int, k);
  xn = g_new (float, n);
  dist = g_new (float, n);
  sums = g_try_new (double, (gsize) k * d);
  if (km->centroids == NULL || sums == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "out of memory for %d k-means centroids of %d values", k, d);
      return NULL;
    }
  row_norms (x, n, d, xn);
  rand = g_rand_new_with_seed_array ((const guint32[]){ (guint32) options->seed, (guint32) (options->seed >> 32) }, 2);
  dead = g_new0 (gboolean, k);
  if (!seed_plus_plus (x, xn, n, d, k, trials, rand, km->centroids, dead, cancellable, error))
    return NULL;
  if (!assign (x, xn, n, d, km->centroids, k, dead, km->labels, dist, cancellable, error))
    return NULL;

  for (int it = 0; it < max_iter; it++)
    {
      int changed = 0;
      g_autofree int *old = g_memdup2 (km->labels, sizeof (int) * n);

      memset (sums, 0, sizeof (double) * k * d);
      memset (km->sizes, 0, sizeof (int) * k);
      for (int i = 0; i < n; i++)
        {
          double *s = sums + (gsize) km->labels[i] * d;
          const float *r = x + (gsize) i * d;
          km->sizes[km->labels[i]]++;
          for (int j = 0; j < d; j++)
            s[j] += r[j];
        }
      for (int c = 0; c < k; c++)
        if (km->sizes[c] > 0)
          for (int j = 0; j < d; j++)
            km->centroids[(gsize) c * d + j] = (float) (sums[(gsize) c * d + j] / km->sizes[c]);
      if (!assign (x, xn, n, d, km->centroids, k, dead, km->labels, dist, cancellable, error))
        return NULL;
      km->iterations = it + 1;
      for (int i = 0; i < n; i++)
        changed += km->labels[i] != old[i];
      if (changed == 0)
        {
          km->converged = TRUE;
          break;
        }
    }
  memset (km->sizes, 0, sizeof (int) * k);
  km->inertia = 0;
  for (int i = 0; i < n; i++)
    {
      const float *r = x + (gsize) i * d, *c = km->centroids + (gsize) km->labels[i] * d;
      double s = 0;
      km->sizes[km->labels[i]]++;
      for (int j = 0; j < d; j++) /* exact, not the rounded norm expansion */
        s += ((double) r[j] - c[j]) * ((double) r[j] - c[j]);
      km->inertia += s;
    }
  return g_steal_pointer (&km);
}
