#include "ts-resample.h"
#include "ts-attention.h"
#include "ts-error.h"
#include "ts-kmeans.h"
#include "ts-simd.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* Checks what every entry shares; returns the tokens rescaled to norm sqrt(D) (n x d). */
static float *
resample_prepare (const TsScene *scene, int *rounds, double tau, GError **error)
{
  const TsFeatures *xn;
  float sqd, *xt;

  if (scene == NULL || scene->normalized == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "resampling needs a scene with features");
      return NULL;
    }
  if (*rounds == 0)
    *rounds = 3;
  if (*rounds < 1 || *rounds > 100)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "resampling rounds must be 1..100, not %d", *rounds);
      return NULL;
    }
  if (!(tau > 0) || !isfinite (tau))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "the resampling temperature tau must be positive, not %g",
                   tau);
      return NULL;
    }
  xn = scene->normalized;
  sqd = sqrtf ((float) xn->d);
  xt = g_try_new (float, (gsize) xn->n * xn->d);
  if (xt == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "no memory for %d x %d token features", xn->n, xn->d);
      return NULL;
    }
  for (gsize i = 0; i < (gsize) xn->n * xn->d; i++)
    xt[i] = xn->data[i] * sqd;
  return xt;
}

static gboolean
check_queries (int K, int n, GError **error)
{
  if (K < 1 || K > n)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "cannot resample %d tokens with %d queries", n, K);
      return FALSE;
    }
  return TRUE;
}

/* Lloyd steps for K queries within the compute budget; TRUE in *seeded when
 * k-means++ seeding fits in it too (else the start is evenly strided tokens). */
static int
kmeans_steps (int n, int K, int d, gboolean *seeded)
{
  double pass = (double) n * K * d; /* multiply-adds of one distance pass */
  int steps = (int) CLAMP (TS_RESAMPLE_KMEANS_BUDGET / pass - 1, 1, TS_RESAMPLE_KMEANS_ITER);

  *seeded = pass * (1 + steps) <= TS_RESAMPLE_KMEANS_BUDGET;
  return steps;
}

/* Classic k-means++ seeds (one candidate per centre): the first K of a run for
 * more centres are exactly the seeds of a run for K. A scene keeps, per seed,
 * the seeds of the largest K drawn so far (in its memo), so every run on it
 * (each ratio of a sweep, in any thread; a slider moving) draws them once. */
typedef struct {
  GMutex lock;
  int k, d;
  float *q; /* k x d */
} SeedCache;

static void
seed_cache_free (gpointer data)
{
  SeedCache *c = data;

  g_mutex_clear (&c->lock);
  g_free (c->q);
  g_free (c);
}

static gpointer
seed_cache_new (const TsScene *scene, gpointer data)
{
  SeedCache *c = g_new0 (SeedCache, 1);

  g_mutex_init (&c->lock);
  return c;
}

/* The first @K k-means++ seeds of @xt for @seed, newly allocated (K x d).
 * When they are drawn here and @steps >= 0, also the k-means after @steps
 * Lloyd steps from them into *@queries (newly allocated; else NULL): the
 * seeding's bounds spare the first assignment its full distance pass. */
static float *
seeds_new (const TsScene *scene, const float *xt, int n, int d, int K, guint64 seed, int steps, float **queries,
           GCancellable *cancellable, GError **error)
{
  g_autofree char *key = g_strdup_printf ("resample seeds %" G_GUINT64_FORMAT, seed);
  SeedCache *c = ts_scene_memo (scene, key, seed_cache_new, NULL, seed_cache_free);
  float *q = NULL;

  *queries = NULL;
  g_mutex_lock (&c->lock); /* another thread drawing them is waited for, not repeated */
  if (c->k < K || c->d != d)
    {
      TsKMeansOptions kopt;
      g_autofree float *more = g_new (float, (gsize) K * d);
      g_autofree float *stepped = steps >= 0 ? g_new (float, (gsize) K * d) : NULL;
      gboolean ok;
      ts_kmeans_options_init (&kopt);
      kopt.seed = seed;
      kopt.n_local_trials = 1;
      ok = stepped ? ts_kmeans_seed_steps (xt, n, d, K, &kopt, steps, more, stepped, cancellable, error)
                   : ts_kmeans_seed (xt, n, d, K, &kopt, more, cancellable, error);
      if (ok)
        {
          g_free (c->q);
          c->q = g_steal_pointer (&more);
          c->k = K;
          c->d = d;
          *queries = g_steal_pointer (&stepped);
        }
    }
  if (c->k >= K && c->d == d)
    q = g_memdup2 (c->q, sizeof (float) * (gsize) K * d);
  g_mutex_unlock (&c->lock);
  return q;
}

/* ---- A X over the weights that count ----
 * After the sharp softmax most of an attention row is 0 or tiny (on a 672^2
 * photo at tau 0.1, 3 to 10 % of the weights are at least 2^-24 / N). The
 * weights below 2^-24 / N together weigh less than 2^-24 of the row's unit
 * sum, so leaving them out moves a row of A X by less than 2^-24 times the
 * largest feature magnitude: half a float ulp of it, below the rounding of
 * the product itself. The others are gathered per row in token order and
 * added into the output row in that order, token chunk by token chunk (the
 * chunk's features stay in cache while every row takes its share). When more
 * than 1 / SPARSE_FILL of a block's weights count (soft attention, a large
 * tau) the dense SGEMM is faster and does the product, as before. */
#define SPARSE_FILL 4
#define TOKEN_CHUNK 256

typedef struct {
  gsize cap;  /* kept weights a block may have (1 / SPARSE_FILL of it) */
  int *start; /* rows + 1: where each row's weights begin */
  int *at;    /* rows: each row's next weight while adding */
  int *idx;   /* cap + n: token of each kept weight */
  float *w;   /* cap + n: the weights */
} Sparse;

static void
sparse_clear (Sparse *s)
{
  g_free (s->start);
  g_free (s->at);
  g_free (s->idx);
  g_free (s->w);
}

/* Room for blocks of @rows x @n weights; FALSE when there is no memory (the
 * dense product then does every block). */
static gboolean
sparse_init (Sparse *s, int rows, int n)
{
  s->cap = (gsize) rows * n / SPARSE_FILL;
  s->start = g_try_new (int, rows + 1);
  s->at = g_try_new (int, rows);
  s->idx = g_try_new (int, s->cap + n);
  s->w = g_try_new (float, s->cap + n);
  return s->start && s->at && s->idx && s->w;
}

/* The weights of @A (nb x n) of at least 2^-24 / n into @s, per row in token
 * order; FALSE when more than s->cap of them count. */
static gboolean
sparse_gather (Sparse *s, const float *A, int nb, int n)
{
  const float t = 0x1p-24f / (float) n;
  gsize m = 0;

  for (int i = 0; i < nb; i++)
    {
      const float *row = A + (gsize) i * n;
      if (m > s->cap)
        return FALSE;
      s->start[i] = (int) m;
      for (int j = 0; j < n; j++) /* branch-free: kept or not is a coin toss */
        {
          s->idx[m] = j;
          s->w[m] = row[j];
          m += row[j] >= t;
        }
    }
  s->start[nb] = (int) m;
  return m <= s->cap;
}

/* acc += w x over @d floats (16 lanes so that it vectorises). */
TS_CLONES static void
add_scaled (float *restrict acc, float w, const float *restrict x, int d)
{
  int k = 0;

  for (; k + 16 <= d; k += 16)
    for (int u = 0; u < 16; u++)
      acc[k + u] += w * x[k + u];
  for (; k < d; k++)
    acc[k] += w * x[k];
}

/* acc += w0 x0 + w1 x1 + w2 x2 + w3 x3, added one after the other (the sums
 * of four add_scaled), with one pass over acc. */
TS_CLONES static void
add_scaled4 (float *restrict acc, const float *restrict w, const float *restrict x0, const float *restrict x1,
             const float *restrict x2, const float *restrict x3, int d)
{
  int k = 0;

  for (; k + 16 <= d; k += 16)
    for (int u = 0; u < 16; u++)
      acc[k + u] = (((acc[k + u] + w[0] * x0[k + u]) + w[1] * x1[k + u]) + w[2] * x2[k + u]) + w[3] * x3[k + u];
  for (; k < d; k++)
    acc[k] = (((acc[k] + w[0] * x0[k]) + w[1] * x1[k]) + w[2] * x2[k]) + w[3] * x3[k];
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Sparse, sparse_clear)

/* @out (nb x dx) = A X for the attention rows @A (nb x n) and the features @x
 * (n x dx): over the weights that count when few do (@s NULL: never). */
static void
attention_product (Sparse *s, const float *A, int nb, int n, const float *x, int dx, float *out)
{
  if (s == NULL || !sparse_gather (s, A, nb, n))
    {
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, nb, dx, n, 1.0f, A, n, x, dx, 0.0f, out, dx);
      return;
    }
  memset (out, 0, sizeof (float) * (gsize) nb * dx);
  memcpy (s->at, s->start, sizeof (int) * nb);
  for (int j1 = TOKEN_CHUNK; j1 - TOKEN_CHUNK < n; j1 += TOKEN_CHUNK)
    for (int i = 0; i < nb; i++)
      {
        float *acc = out + (gsize) i * dx;
        int c = s->at[i], end = s->start[i + 1];
        const int *t = s->idx;
        for (; c + 4 <= end && t[c + 3] < j1; c += 4) /* tokens ascend within a row */
          add_scaled4 (acc, s->w + c, x + (gsize) t[c] * dx, x + (gsize) t[c + 1] * dx, x + (gsize) t[c + 2] * dx,
                       x + (gsize) t[c + 3] * dx, dx);
        for (; c < end && s->idx[c] < j1; c++)
          add_scaled (acc, s->w[c], x + (gsize) s->idx[c] * dx, dx);
        s->at[i] = c;
      }
}

/* Steps 2 to 5 for K queries; @seeds holds at least K k-means++ seeds when
 * kmeans_steps says seeded. */
static TsAssignment *
resample_one (const TsScene *scene, const float *xt, int K, int rounds, double tau, const float *seeds,
              const float *queries, gint64 max_mix, GCancellable *cancellable, GError **error)
{
  int n = scene->normalized->n, d = scene->normalized->d, bs, steps;
  float scale;
  gboolean keep_mix, seeded;
  g_autofree float *q = g_new (float, (gsize) K * d);
  g_autofree float *qnext = NULL;
  g_autofree float *block = NULL;
  g_autofree float *colmax = NULL;
  g_autoptr (TsAssignment) a = NULL;
  g_auto (Sparse) sparse = { 0 };
  Sparse *sp;

  /* 2. k-means queries within a compute budget: classic k-means++ seeding (one
   * candidate per centre, about one distance pass) and a few Lloyd steps; when
   * even that exceeds the budget, evenly strided tokens and one Lloyd step. */
  steps = kmeans_steps (n, K, d, &seeded);
  if (queries != NULL) /* seeding and steps already done together */
    memcpy (q, queries, sizeof (float) * (gsize) K * d);
  else
    {
      if (seeded)
        memcpy (q, seeds, sizeof (float) * (gsize) K * d);
      else
        for (int j = 0; j < K; j++)
          memcpy (q + (gsize) j * d, xt + (gsize) ((gint64) j * n / K) * d, sizeof (float) * d);
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
  sp = sparse_init (&sparse, bs, n) ? &sparse : NULL;
  if (!keep_mix && block == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "no memory for a %d x %d attention block", bs, n);
      return NULL;
    }

  /* 3. attention rounds; 4. the last one also gives tokens, mix and groups */
  scale = 1.0f / (float) (tau * sqrtf ((float) d));
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
              attention_product (sp, A, nb, n, xt, d, qnext + (gsize) q0 * d);
              continue;
            }
          attention_product (sp, A, nb, n, scene->features->data, a->d, a->features + (gsize) q0 * a->d);
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
ts_resample (const TsScene *scene, int queries, int rounds, double tau, guint64 seed, gint64 max_mix,
             GCancellable *cancellable, GError **error)
{
  g_autofree float *xt = resample_prepare (scene, &rounds, tau, error);
  g_autofree float *seeds = NULL;
  g_autofree float *stepped = NULL;
  int n, d, steps;
  gboolean seeded;

  if (xt == NULL)
    return NULL;
  n = scene->normalized->n;
  d = scene->normalized->d;
  if (!check_queries (queries, n, error))
    return NULL;
  steps = kmeans_steps (n, queries, d, &seeded);
  if (seeded && (seeds = seeds_new (scene, xt, n, d, queries, seed, steps, &stepped, cancellable, error)) == NULL)
    return NULL;
  return resample_one (scene, xt, queries, rounds, tau, seeds, stepped, max_mix, cancellable, error);
}

gboolean
ts_resample_multi (const TsScene *scene, const int *queries, int n_targets, int rounds, double tau, guint64 seed,
                   gint64 max_mix, TsAssignment **out, GCancellable *cancellable, GError **error)
{
  g_autofree float *xt = NULL;
  g_autofree float *seeds = NULL;
  g_autofree float *stepped = NULL; /* the k-means for @most when its seeds were drawn here */
  int n, d, most = 0, steps = -1;

  for (int i = 0; i < n_targets; i++)
    out[i] = NULL;
  if ((xt = resample_prepare (scene, &rounds, tau, error)) == NULL)
    return FALSE;
  n = scene->normalized->n;
  d = scene->normalized->d;
  for (int i = 0; i < n_targets; i++)
    {
      gboolean seeded;
      if (!check_queries (queries[i], n, error))
        return FALSE;
      int k_steps = kmeans_steps (n, queries[i], d, &seeded);
      if (seeded && queries[i] > most)
        most = queries[i], steps = k_steps;
    }
  if (most > 0 && (seeds = seeds_new (scene, xt, n, d, most, seed, steps, &stepped, cancellable, error)) == NULL)
    return FALSE;
  for (int i = 0; i < n_targets; i++)
    if ((out[i] = resample_one (scene, xt, queries[i], rounds, tau, seeds, queries[i] == most ? stepped : NULL,
                                max_mix, cancellable, error)) == NULL)
      return FALSE;
  return TRUE;
}

TsAssignment *
ts_resample_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable, GError **error)
{
  return ts_resample (scene, ts_method_target (params, scene->grid.tokens), params->rounds, params->tau,
                      params->seed, 0, cancellable, error);
}

gboolean
ts_resample_run_multi (const TsScene *scene, const TsMethodParams *params, const int *targets, int n_targets,
                       TsAssignment **out, GCancellable *cancellable, GError **error)
{
  return ts_resample_multi (scene, targets, n_targets, params->rounds, params->tau, params->seed, 0, out,
                            cancellable, error);
}
