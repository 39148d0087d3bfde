#include "ts-kmeans.h"
#include "ts-error.h"
#include "ts-simd.h"

#include <cblas.h>
#include <math.h>
#include <string.h>


/* Up to this many centres a block's dot products are computed directly: an
 * SGEMM would repack all of x for a handful of output columns (k-means++
 * seeding asks for 1 to 2 + ln k centres per step, n times over). */
#define DIRECT_MAX 8

/* Rows per distance block: at most 32 MB of distances, and few enough SGEMM calls
 * that packing the centroids does not dominate. */
static int
block_rows (int k)
{
  return CLAMP ((1 << 23) / MAX (k, 1), 64, 8192);
}

static void
row_norms (const float *x, int n, int d, float *out)
{
  for (int i = 0; i < n; i++)
    {
      const float *r = x + (gsize) i * d;
      double s = 0;
      for (int j = 0; j < d; j++)
        s += (double) r[j] * r[j];
      out[i] = (float) s;
    }
}

/* out (nb x k) = -2 x.c for k <= DIRECT_MAX centres: one pass over the rows. */
TS_CLONES static void
direct_dots (const float *restrict x, int nb, int d, const float *restrict c, int k, float *restrict out)
{
  for (int i = 0; i < nb; i++)
    {
      const float *r = x + (gsize) i * d;
      for (int j = 0; j < k; j++)
        {
          out[(gsize) i * k + j] = -2.0f * ts_dot_lanes (r, c + (gsize) j * d, d);
        }
    }
}

/* out (nb x k) = squared distances of rows x[0..nb) to the k centres c. */
TS_CLONES static void
block_dist (const float *x, const float *xn, int nb, int d, const float *c, const float *cn, int k,
            float *out)
{
  if (k <= DIRECT_MAX)
    direct_dots (x, nb, d, c, k, out);
  else
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, nb, k, d, -2.0f, x, d, c, d, 0.0f, out, k);
  for (int i = 0; i < nb; i++)
    {
      float *o = out + (gsize) i * k;
      for (int j = 0; j < k; j++)
        {
          /* Below float resolution of the norms the expansion is only rounding noise
           * (different SGEMM paths round differently): a row on its centre is at 0. */
          float v = o[j] + xn[i] + cn[j];
          o[j] = v > 1e-6f * (xn[i] + cn[j]) ? v : 0.0f;
        }
    }
}

static gboolean
check_input (const float *x, int n, int d, int k, GError **error)
{
  if (x == NULL || n < 1 || d < 1 || k < 1 || k > n)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "k-means needs 1 <= k <= n rows of dimension >= 1 (got k %d, n %d, d %d)", k, n, d);
      return FALSE;
    }
  for (gsize i = 0; i < (gsize) n * d; i++)
    if (!isfinite (x[i]))
      {
        g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "k-means input row %d has a NaN or infinite value",
                     (int) (i / d));
        return FALSE;
      }
  return TRUE;
}

/* Index of the first smallest of @k finite values: the minimum by a
 * vectorisable pass, then its first position (ties to the lower index). */
TS_CLONES static int
first_min (const float *restrict o, int k)
{
  float m = o[0];
  int j = 0;

  for (int t = 1; t < k; t++)
    m = o[t] < m ? o[t] : m;
  while (o[j] != m)
    j++;
  return j;
}

/* ts_kmeans_assign with the rows' squared norms @xn given (NULL: computed here). */
static gboolean
assign (const float *x, const float *xn_given, int n, int d, const float *centroids, int k, int *labels,
        float *dist2, GCancellable *cancellable, GError **error)
{
  int bs = block_rows (k);
  g_autofree float *xn = NULL;
  g_autofree float *cn = NULL;
  g_autofree float *block = NULL;

  cn = g_new (float, k);
  block = g_try_new (float, (gsize) MIN (bs, n) * k);
  if (block == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "no memory for a %d x %d distance block", bs, k);
      return FALSE;
    }
  if (xn_given == NULL)
    {
      xn = g_new (float, n);
      row_norms (x, n, d, xn);
      xn_given = xn;
    }
  row_norms (centroids, k, d, cn);
  for (int i0 = 0; i0 < n; i0 += bs)
    {
      int nb = MIN (bs, n - i0);
      if (ts_check_cancelled (cancellable, error))
        return FALSE;
      block_dist (x + (gsize) i0 * d, xn_given + i0, nb, d, centroids, cn, k, block);
      for (int i = 0; i < nb; i++)
        {
          const float *o = block + (gsize) i * k;
          int best = first_min (o, k);
          labels[i0 + i] = best;
          if (dist2)
            dist2[i0 + i] = o[best];
        }
    }
  return TRUE;
}

gboolean
ts_kmeans_assign (const float *x, int n, int d, const float *centroids, int k, int *labels, float *dist2,
                  GCancellable *cancellable, GError **error)
{
  if (x == NULL || centroids == NULL || labels == NULL || n < 1 || d < 1 || k < 1)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "nearest-centroid assignment needs rows, centroids and sizes >= 1 (n %d, d %d, k %d)", n, d, k);
      return FALSE;
    }
  return assign (x, NULL, n, d, centroids, k, labels, dist2, cancellable, error);
}

/* s[0..d) += r[0..d) in double. */
TS_CLONES static void
add_row (double *restrict s, const float *restrict r, int d)
{
  for (int j = 0; j < d; j++)
    s[j] += r[j];
}

static TsKMeans *
kmeans_alloc (int n, int d, int k, GError **error)
{
  TsKMeans *km = g_new0 (TsKMeans, 1);

  km->n = n, km->d = d, km->k = k;
  km->centroids = g_try_new (float, (gsize) k * d);
  km->labels = g_try_new (int, n);
  km->sizes = g_try_new0 (int, k);
  if (km->centroids == NULL || km->labels == NULL || km->sizes == NULL)
    {
      ts_kmeans_free (km);
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "no memory for %d k-means centroids of dimension %d",
                   k, d);
      return NULL;
    }
  return km;
}

/* Greedy k-means++ (sklearn's _kmeans_plusplus) into @centres. */
static gboolean
seed_plusplus (const float *x, const float *xn, int n, int d, int k, int trials, guint64 seed,
               float *centres, GCancellable *cancellable, GError **error)
{
  guint32 seed_words[2] = { (guint32) seed, (guint32) (seed >> 32) };
  g_autoptr (GRand) rand = g_rand_new_with_seed_array (seed_words, 2);
  int bs = block_rows (trials);
  g_autofree float *closest = g_new (float, n);
  g_autofree float *cand_dist = g_new (float, (gsize) trials * n); /* trials x n */
  g_autofree double *cumsum = g_new (double, n);
  g_autofree gboolean *chosen = g_new0 (gboolean, n);
  g_autofree int *cand = g_new (int, trials);
  g_autofree float *cand_rows = g_new (float, (gsize) trials * d);
  g_autofree float *cand_norm = g_new (float, trials);
  g_autofree float *block = g_new (float, (gsize) MIN (bs, n) * trials);
  int first = g_rand_int_range (rand, 0, n);

  memcpy (centres, x + (gsize) first * d, sizeof (float) * d);
  chosen[first] = TRUE;
  {
    float cn = xn[first];
    for (int i0 = 0; i0 < n; i0 += bs)
      {
        int nb = MIN (bs, n - i0);
        block_dist (x + (gsize) i0 * d, xn + i0, nb, d, centres, &cn, 1, closest + i0);
      }
  }
  closest[first] = 0;

  for (int c = 1; c < k; c++)
    {
      double acc = 0;
      int nt, best_t = 0;
      double best_pot = G_MAXDOUBLE;

      if (ts_check_cancelled (cancellable, error))
        return FALSE;
      for (int i = 0; i < n; i++)
        cumsum[i] = (acc += closest[i]);
      if (!(acc > 0))
        {
          /* Every row coincides with a centre: take the lowest unchosen row. */
          int r = 0;
          while (chosen[r])
            r++;
          chosen[r] = TRUE;
          memcpy (centres + (gsize) c * d, x + (gsize) r * d, sizeof (float) * d);
          continue;
        }
      nt = trials;
      for (int t = 0; t < nt; t++)
        {
          double v = g_rand_double (rand) * acc;
          int lo = 0, hi = n - 1;
          while (lo < hi) /* first index with cumsum > v (np.searchsorted, side left on v) */
            {
              int mid = (lo + hi) / 2;
              if (cumsum[mid] > v)
                hi = mid;
              else
                lo = mid + 1;
            }
          while (closest[lo] == 0 && lo > 0) /* rounding guard: never a row already on a centre */
            lo--;
          cand[t] = lo;
          memcpy (cand_rows + (gsize) t * d, x + (gsize) lo * d, sizeof (float) * d);
          cand_norm[t] = xn[lo];
        }
      for (int i0 = 0; i0 < n; i0 += bs)
        {
          int nb = MIN (bs, n - i0);
          block_dist (x + (gsize) i0 * d, xn + i0, nb, d, cand_rows, cand_norm, nt, block);
          for (int i = 0; i < nb; i++)
            for (int t = 0; t < nt; t++)
              cand_dist[(gsize) t * n + i0 + i] = MIN (block[(gsize) i * nt + t], closest[i0 + i]);
        }
      for (int t = 0; t < nt; t++)
        {
          double p = 0;
          const float *cd = cand_dist + (gsize) t * n;
          cand_dist[(gsize) t * n + cand[t]] = 0;
          for (int i = 0; i < n; i++)
            p += cd[i];
          if (p < best_pot)
            best_pot = p, best_t = t;
        }
      memcpy (closest, cand_dist + (gsize) best_t * n, sizeof (float) * n);
      chosen[cand[best_t]] = TRUE;
      memcpy (centres + (gsize) c * d, x + (gsize) cand[best_t] * d, sizeof (float) * d);
    }
  return TRUE;
}

/* Lloyd iterations on km (centroids set); fills labels, sizes, inertia. */
static gboolean
lloyd (const float *x, const float *xn, int n, int d, TsKMeans *km, int max_iter, double tol, gboolean final,
       GCancellable *cancellable, GError **error)
{
  int k = km->k;
  g_autofree float *old = g_new (float, (gsize) k * d);
  g_autofree int *prev = g_new (int, n);
  g_autofree float *dist2 = g_new (float, n);
  g_autofree double *sums = g_try_new (double, (gsize) k * d);
  g_autofree gboolean *used = g_new0 (gboolean, n);

  if (sums == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "no memory for %d k-means sums", k);
      return FALSE;
    }
  km->iterations = 0;
  km->converged = FALSE;
  for (int it = 0; it < max_iter; it++)
    {
      if (!assign (x, xn, n, d, km->centroids, k, km->labels, dist2, cancellable, error))
        return FALSE;
      km->iterations = it + 1;
      if (it > 0 && memcmp (prev, km->labels, sizeof (int) * n) == 0)
        {
          km->converged = TRUE;
          break;
        }
      memcpy (prev, km->labels, sizeof (int) * n);

      memset (sums, 0, sizeof (double) * k * d);
      memset (km->sizes, 0, sizeof (int) * k);
      for (int i = 0; i < n; i++)
        {
          double *s = sums + (gsize) km->labels[i] * d;
          km->sizes[km->labels[i]]++;
          add_row (s, x + (gsize) i * d, d);
        }
      /* Empty clusters take the farthest rows (sklearn's relocation). */
      memset (used, 0, sizeof (gboolean) * n);
      for (int c = 0; c < k; c++)
        {
          int far = -1;
          if (km->sizes[c] > 0)
            continue;
          for (int i = 0; i < n; i++)
            if (!used[i] && km->sizes[km->labels[i]] > 1 && dist2[i] > 0 && (far < 0 || dist2[i] > dist2[far]))
              far = i;
          if (far < 0)
            continue; /* every row sits on its centre: the empty centre stays */
          used[far] = TRUE;
          {
            double *from = sums + (gsize) km->labels[far] * d;
            double *to = sums + (gsize) c * d;
            const float *r = x + (gsize) far * d;
            for (int j = 0; j < d; j++)
              from[j] -= r[j], to[j] = r[j];
            km->sizes[km->labels[far]]--;
            km->sizes[c] = 1;
            km->labels[far] = c;
            prev[far] = c;
          }
        }
      memcpy (old, km->centroids, sizeof (float) * (gsize) k * d);
      for (int c = 0; c < k; c++)
        if (km->sizes[c] > 0)
          for (int j = 0; j < d; j++)
            km->centroids[(gsize) c * d + j] = (float) (sums[(gsize) c * d + j] / km->sizes[c]);
      if (tol > 0)
        {
          double shift = 0;
          for (gsize i = 0; i < (gsize) k * d; i++)
            shift += ((double) km->centroids[i] - old[i]) * ((double) km->centroids[i] - old[i]);
          if (shift <= tol)
            {
              km->converged = TRUE;
              break;
            }
        }
    }
  if (!final)
    return TRUE;
  /* Labels and inertia for the final centroids. */
  if (!assign (x, xn, n, d, km->centroids, k, km->labels, dist2, cancellable, error))
    return FALSE;
  /* Inertia summed directly, sum (x - c)^2 in double, as sklearn's _inertia:
   * the sgemm expansion is only accurate to the float resolution of the norms. */
  memset (km->sizes, 0, sizeof (int) * k);
  km->inertia = 0;
  for (int i = 0; i < n; i++)
    {
      const float *r = x + (gsize) i * d, *c = km->centroids + (gsize) km->labels[i] * d;
      km->sizes[km->labels[i]]++;
      for (int j = 0; j < d; j++)
        km->inertia += ((double) r[j] - c[j]) * ((double) r[j] - c[j]);
    }
  return TRUE;
}

void
ts_kmeans_options_init (TsKMeansOptions *options)
{
  memset (options, 0, sizeof *options);
  options->tol = 1e-4;
}

/* sklearn's _tolerance: tol times the mean per-column variance of x. */
static double
absolute_tol (const float *x, int n, int d, double tol)
{
  double total = 0;

  if (!(tol > 0))
    return 0;
  for (int j = 0; j < d; j++)
    {
      double mean = 0, var = 0;
      for (int i = 0; i < n; i++)
        mean += x[(gsize) i * d + j];
      mean /= n;
      for (int i = 0; i < n; i++)
        var += (x[(gsize) i * d + j] - mean) * (x[(gsize) i * d + j] - mean);
      total += var / n;
    }
  return tol * total / d;
}

TsKMeans *
ts_kmeans (const float *x, int n, int d, int k, const TsKMeansOptions *options, GCancellable *cancellable,
           GError **error)
{
  TsKMeansOptions defaults;
  g_autoptr (TsKMeans) km = NULL;
  g_autofree float *xn = NULL;
  int trials, max_iter;

  if (options == NULL)
    {
      ts_kmeans_options_init (&defaults);
      options = &defaults;
    }
  if (!check_input (x, n, d, k, error))
    return NULL;
  trials = options->n_local_trials > 0 ? options->n_local_trials : 2 + (int) floor (log (k));
  max_iter = options->max_iter == 0 ? 100 : options->max_iter;
  if ((km = kmeans_alloc (n, d, k, error)) == NULL)
    return NULL;
  xn = g_new (float, n);
  row_norms (x, n, d, xn);
  if (!seed_plusplus (x, xn, n, d, k, trials, options->seed, km->centroids, cancellable, error))
    return NULL;
  if (!lloyd (x, xn, n, d, km, MAX (max_iter, 0), absolute_tol (x, n, d, options->tol), TRUE, cancellable,
              error))
    return NULL;
  return g_steal_pointer (&km);
}

/* Lloyd from given centroids; @final: labels and inertia for the last centroids too. */
static TsKMeans *
lloyd_from (const float *x, int n, int d, const float *centroids, int k, int max_iter, gboolean final,
            GCancellable *cancellable, GError **error)
{
  g_autoptr (TsKMeans) km = NULL;
  g_autofree float *xn = NULL;

  if (!check_input (x, n, d, k, error))
    return NULL;
  if (centroids == NULL || max_iter < 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "Lloyd iterations need initial centroids and a count >= 0 (got %d)", max_iter);
      return NULL;
    }
  if ((km = kmeans_alloc (n, d, k, error)) == NULL)
    return NULL;
  memcpy (km->centroids, centroids, sizeof (float) * (gsize) k * d);
  xn = g_new (float, n);
  row_norms (x, n, d, xn);
  if (!lloyd (x, xn, n, d, km, max_iter, 0, final, cancellable, error))
    return NULL;
  return g_steal_pointer (&km);
}

TsKMeans *
ts_kmeans_lloyd (const float *x, int n, int d, const float *centroids, int k, int max_iter,
                 GCancellable *cancellable, GError **error)
{
  return lloyd_from (x, n, d, centroids, k, max_iter, TRUE, cancellable, error);
}

gboolean
ts_kmeans_seed (const float *x, int n, int d, int k, const TsKMeansOptions *options, float *centroids,
                GCancellable *cancellable, GError **error)
{
  TsKMeansOptions defaults;
  g_autofree float *xn = NULL;

  if (options == NULL)
    {
      ts_kmeans_options_init (&defaults);
      options = &defaults;
    }
  if (!check_input (x, n, d, k, error))
    return FALSE;
  if (centroids == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "k-means++ seeding needs room for the centroids");
      return FALSE;
    }
  xn = g_new (float, n);
  row_norms (x, n, d, xn);
  return seed_plusplus (x, xn, n, d, k,
                        options->n_local_trials > 0 ? options->n_local_trials : 2 + (int) floor (log (k)),
                        options->seed, centroids, cancellable, error);
}

gboolean
ts_kmeans_steps (const float *x, int n, int d, float *centroids, int k, int steps, GCancellable *cancellable,
                 GError **error)
{
  g_autoptr (TsKMeans) km = lloyd_from (x, n, d, centroids, k, steps, FALSE, cancellable, error);

  if (km == NULL)
    return FALSE;
  memcpy (centroids, km->centroids, sizeof (float) * (gsize) k * d);
  return TRUE;
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
