#include "ts-resample.h"
#include "ts-attention.h"
#include "ts-error.h"
#include "ts-kmeans.h"
#include "ts-simd.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* Through the Gram matrix, a later round's logits of a query come from A G
 * while at most D / ROW_SHARE of its weights count (nnz(A) N multiply-adds,
 * gathered from G: about as fast as the dense way's D N at D / 2 on a
 * 2304-token photo), else the dense way. */
#define ROW_SHARE 2

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
 * (each ratio of a sweep, in any thread; a slider moving) draws them once:
 * as token indices through the scene's Gram matrix, else as rows. */
typedef struct {
  GMutex lock;
  int k, d;
  float *q;  /* k x d */
  int kr;
  int *rows; /* kr token indices */
} SeedCache;

static void
seed_cache_free (gpointer data)
{
  SeedCache *c = data;

  g_mutex_clear (&c->lock);
  g_free (c->q);
  g_free (c->rows);
  g_free (c);
}

static gpointer
seed_cache_new (const TsScene *scene, gpointer data)
{
  SeedCache *c = g_new0 (SeedCache, 1);

  g_mutex_init (&c->lock);
  return c;
}

static SeedCache *
seed_cache (const TsScene *scene, guint64 seed)
{
  g_autofree char *key = g_strdup_printf ("resample seeds %" G_GUINT64_FORMAT, seed);

  return ts_scene_memo (scene, key, seed_cache_new, NULL, seed_cache_free);
}

static void
seed_options (TsKMeansOptions *kopt, guint64 seed)
{
  ts_kmeans_options_init (kopt);
  kopt->seed = seed;
  kopt->n_local_trials = 1;
}

/* The first @K k-means++ seeds of @xt for @seed, newly allocated (K x d).
 * When they are drawn here and @steps >= 0, also the k-means after @steps
 * Lloyd steps from them into *@queries (newly allocated; else NULL): the
 * seeding's bounds spare the first assignment its full distance pass. */
static float *
seeds_new (const TsScene *scene, const float *xt, int n, int d, int K, guint64 seed, int steps, float **queries,
           GCancellable *cancellable, GError **error)
{
  SeedCache *c = seed_cache (scene, seed);
  float *q = NULL;

  *queries = NULL;
  g_mutex_lock (&c->lock); /* another thread drawing them is waited for, not repeated */
  if (c->k < K || c->d != d)
    {
      TsKMeansOptions kopt;
      g_autofree float *more = g_new (float, (gsize) K * d);
      g_autofree float *stepped = steps >= 0 ? g_new (float, (gsize) K * d) : NULL;
      gboolean ok;
      seed_options (&kopt, seed);
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

/* The first @K k-means++ seeds for @seed as token indices, drawn through the
 * scene's Gram matrix @gram, newly allocated. */
static int *
seed_rows_new (const TsScene *scene, const float *gram, int K, guint64 seed, GCancellable *cancellable,
               GError **error)
{
  const TsFeatures *xn = scene->normalized;
  SeedCache *c = seed_cache (scene, seed);
  int *rows = NULL;

  g_mutex_lock (&c->lock);
  if (c->kr < K)
    {
      TsKMeansOptions kopt;
      g_autofree int *more = g_new (int, K);
      seed_options (&kopt, seed);
      if (ts_kmeans_gram_seed (xn->data, xn->n, xn->d, gram, K, &kopt, more, cancellable, error))
        {
          g_free (c->rows);
          c->rows = g_steal_pointer (&more);
          c->kr = K;
        }
    }
  if (c->kr >= K)
    rows = g_memdup2 (c->rows, sizeof (int) * K);
  g_mutex_unlock (&c->lock);
  return rows;
}

/* The k-means queries of step 2 through the Gram matrix: their members (a
 * query is their mean), from @seeds (at least K token indices) when
 * kmeans_steps says seeded, else from evenly strided tokens. */
static TsKMeansMembers *
gram_queries (const TsScene *scene, const float *gram, int K, const int *seeds, GCancellable *cancellable,
              GError **error)
{
  const TsFeatures *xn = scene->normalized;
  g_autofree int *strided = NULL;
  gboolean seeded;
  int steps = kmeans_steps (xn->n, K, xn->d, &seeded);

  if (!seeded)
    {
      strided = g_new (int, K);
      for (int j = 0; j < K; j++)
        strided[j] = (int) ((gint64) j * xn->n / K);
    }
  return ts_kmeans_gram_steps (xn->data, xn->n, xn->d, gram, seeded ? seeds : strided, K, steps, cancellable,
                               error);
}

/* The k-means queries of step 2 as rows (K x d, newly allocated) of @xt:
 * @queries when the seeding did the steps too, else the steps from @seeds. */
static float *
dense_queries (const float *xt, int n, int d, int K, const float *seeds, const float *queries,
               GCancellable *cancellable, GError **error)
{
  g_autofree float *q = g_new (float, (gsize) K * d);
  gboolean seeded;
  int steps = kmeans_steps (n, K, d, &seeded);

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
  return g_steal_pointer (&q);
}

/* Where @row (n) exceeds @colmax, it becomes the column's maximum and @q
 * its group (vectorises). */
TS_CLONES static void
column_argmax (const float *restrict row, int n, int q, float *restrict colmax, int *restrict groups)
{
  for (int j = 0; j < n; j++)
    {
      int gt = row[j] > colmax[j];
      colmax[j] = gt ? row[j] : colmax[j];
      groups[j] = gt ? q : groups[j];
    }
}

/* ts_assignment_sort_spatial for @a, its mix's rows permuted in place (the
 * sort would copy the whole mix twice): the order is the one the sort gives,
 * queries by their first patch, then those no patch chose in query order. */
static void
sort_spatial (TsAssignment *a)
{
  g_autofree int *first = g_new (int, a->n_out);
  g_autofree int *order = g_new (int, a->n_out);
  g_autofree guint8 *done = g_new0 (guint8, a->n_out);
  g_autofree float *spare = NULL;
  float *mix = g_steal_pointer (&a->mix);
  gsize n = a->n_in;
  int k = 0;

  if (mix == NULL)
    {
      ts_assignment_sort_spatial (a);
      return;
    }
  for (int g = 0; g < a->n_out; g++)
    first[g] = -1;
  for (int i = 0; i < a->n_in; i++)
    if (first[a->groups[i]] < 0)
      {
        first[a->groups[i]] = i;
        order[k++] = a->groups[i];
      }
  for (int g = 0; g < a->n_out; g++)
    if (first[g] < 0)
      order[k++] = g;
  ts_assignment_sort_spatial (a); /* without the mix */
  /* row r of the sorted mix is row order[r] of @mix: each cycle of the
   * permutation through one spare row */
  spare = g_new (float, n);
  for (int s = 0; s < a->n_out; s++)
    {
      int r = s;
      if (done[s])
        continue;
      memcpy (spare, mix + s * n, sizeof (float) * n);
      for (; order[r] != s; r = order[r])
        {
          memcpy (mix + r * n, mix + order[r] * n, sizeof (float) * n);
          done[r] = 1;
        }
      memcpy (mix + r * n, spare, sizeof (float) * n);
      done[r] = 1;
    }
  a->mix = mix;
}

/* Steps 3 to 5 for K queries: @q (K x d) or, through the Gram matrix @gram,
 * the @members whose means they are. */
static TsAssignment *
resample_one (const TsScene *scene, const float *xt, int K, int rounds, double tau, const float *q,
              const float *gram, const TsKMeansMembers *members, gint64 max_mix, GCancellable *cancellable,
              GError **error)
{
  int n = scene->normalized->n, d = scene->normalized->d, bs;
  float scale;
  gboolean keep_mix;
  g_autofree float *qb = NULL;
  g_autofree float *block = NULL;
  g_autofree float *colmax = NULL;
  g_autofree float *spare = NULL;
  g_autofree int *left = NULL;
  g_autoptr (TsAssignment) a = NULL;
  g_autoptr (TsAttentionProduct) product = NULL;

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
  qb = g_new (float, (gsize) bs * d);
  colmax = g_new (float, n);
  product = ts_attention_product_new (bs, n);
  if (gram != NULL && rounds > 1)
    {
      spare = g_try_new (float, (gsize) bs * n);
      left = g_new (int, bs);
    }
  if ((!keep_mix && block == NULL) || (gram != NULL && rounds > 1 && spare == NULL))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "no memory for a %d x %d attention block", bs, n);
      return NULL;
    }

  /* 3. attention rounds; 4. the last one also gives tokens, mix and groups.
   * Each block of queries goes through every round before the next (rows do
   * not depend on one another). Through the Gram matrix G = X~ X~^T / D
   * (the cosines), the first round's logits of a query, the mean of its
   * members, are the sum of their rows of G times D / size. */
  scale = 1.0f / (float) (tau * sqrtf ((float) d));
  for (int j = 0; j < n; j++)
    colmax[j] = -1.0f;
  for (int q0 = 0; q0 < K; q0 += bs)
    {
      int nb = MIN (bs, K - q0);
      float *A = keep_mix ? a->mix + (gsize) q0 * n : block;
      if (ts_check_cancelled (cancellable, error))
        return NULL;
      if (members != NULL)
        {
          for (int i = 0; i < nb; i++)
            {
              int c = q0 + i, size = members->start[c + 1] - members->start[c];
              ts_kmeans_members_dots (members, c, gram, A + (gsize) i * n);
              ts_attention_softmax (A + (gsize) i * n, 1, n, (float) (scale * ((double) d / size)));
            }
        }
      else
        ts_attention_softmax_rows (q + (gsize) q0 * d, nb, xt, n, d, scale, A);
      for (int r = 1; r < rounds; r++)
        {
          int nl = gram != NULL ? ts_attention_product_rows (product, A, nb, n, gram, n, d / ROW_SHARE, A, left) : -1;
          if (nl < 0) /* the dense way for the whole block */
            {
              ts_attention_product (product, A, nb, n, xt, d, qb);
              ts_attention_softmax_rows (qb, nb, xt, n, d, scale, A);
              continue;
            }
          if (nl > 0) /* the rows with many weights the dense way, in G's units */
            {
              for (int k = 0; k < nl; k++)
                memcpy (spare + (gsize) k * n, A + (gsize) left[k] * n, sizeof (float) * n);
              ts_attention_product (product, spare, nl, n, xt, d, qb);
              cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, nl, n, d, 1.0f / d, qb, d, xt, d, 0.0f, spare, n);
              for (int k = 0; k < nl; k++)
                memcpy (A + (gsize) left[k] * n, spare + (gsize) k * n, sizeof (float) * n);
            }
          ts_attention_softmax (A, nb, n, scale * d);
        }
      ts_attention_product (product, A, nb, n, scene->features->data, a->d, a->features + (gsize) q0 * a->d);
      for (int i = 0; i < nb; i++)
        column_argmax (A + (gsize) i * n, n, q0 + i, colmax, a->groups);
    }
  memset (a->sizes, 0, sizeof (int) * K);
  for (int j = 0; j < n; j++)
    a->sizes[a->groups[j]]++;
  sort_spatial (a);
  return g_steal_pointer (&a);
}

/* Steps 2 to 5 for K queries: through the Gram matrix @gram when not NULL
 * (@rows: at least K seeds as token indices), else from @seeds (at least K
 * seed rows) or @stepped (the k-means already stepped). */
static TsAssignment *
resample_k (const TsScene *scene, const float *xt, int K, int rounds, double tau, const float *gram,
            const int *rows, const float *seeds, const float *stepped, gint64 max_mix, GCancellable *cancellable,
            GError **error)
{
  int n = scene->normalized->n, d = scene->normalized->d;
  g_autoptr (TsKMeansMembers) members = NULL;
  g_autofree float *q = NULL;

  if (gram != NULL)
    members = gram_queries (scene, gram, K, rows, cancellable, error);
  else
    q = dense_queries (xt, n, d, K, seeds, stepped, cancellable, error);
  if (members == NULL && q == NULL)
    return NULL;
  return resample_one (scene, xt, K, rounds, tau, q, gram, members, max_mix, cancellable, error);
}

/* The scene's Gram matrix when K queries in R rounds go through it: when
 * TS_RESAMPLE_GRAM_SHARE K R >= N, a rule of K alone (a result never
 * depends on what ran before); else, or beyond ts_scene_gram's tokens, NULL. */
static const float *
gram_for (const TsScene *scene, int K, int rounds)
{
  if ((gint64) TS_RESAMPLE_GRAM_SHARE * K * rounds < scene->normalized->n)
    return NULL;
  return ts_scene_gram (scene);
}

TsAssignment *
ts_resample (const TsScene *scene, int queries, int rounds, double tau, guint64 seed, gint64 max_mix,
             GCancellable *cancellable, GError **error)
{
  g_autofree float *xt = resample_prepare (scene, &rounds, tau, error);
  g_autofree float *seeds = NULL;
  g_autofree float *stepped = NULL;
  g_autofree int *rows = NULL;
  const float *gram;
  int n, d, steps;
  gboolean seeded;

  if (xt == NULL)
    return NULL;
  n = scene->normalized->n;
  d = scene->normalized->d;
  if (!check_queries (queries, n, error))
    return NULL;
  steps = kmeans_steps (n, queries, d, &seeded);
  gram = gram_for (scene, queries, rounds);
  if (seeded && gram != NULL && (rows = seed_rows_new (scene, gram, queries, seed, cancellable, error)) == NULL)
    return NULL;
  if (seeded && gram == NULL
      && (seeds = seeds_new (scene, xt, n, d, queries, seed, steps, &stepped, cancellable, error)) == NULL)
    return NULL;
  return resample_k (scene, xt, queries, rounds, tau, gram, rows, seeds, stepped, max_mix, cancellable, error);
}

gboolean
ts_resample_multi (const TsScene *scene, const int *queries, int n_targets, int rounds, double tau, guint64 seed,
                   gint64 max_mix, TsAssignment **out, GCancellable *cancellable, GError **error)
{
  g_autofree float *xt = NULL;
  g_autofree float *seeds = NULL;
  g_autofree float *stepped = NULL; /* the k-means for @most when its seeds were drawn here */
  g_autofree int *rows = NULL;
  const float *gram = NULL;
  int n, d, most = 0, most_gram = 0, steps = -1;

  for (int i = 0; i < n_targets; i++)
    out[i] = NULL;
  if ((xt = resample_prepare (scene, &rounds, tau, error)) == NULL)
    return FALSE;
  n = scene->normalized->n;
  d = scene->normalized->d;
  /* The seeds are drawn once for each way, for its largest count. */
  for (int i = 0; i < n_targets; i++)
    {
      gboolean seeded;
      if (!check_queries (queries[i], n, error))
        return FALSE;
      int k_steps = kmeans_steps (n, queries[i], d, &seeded);
      if (seeded && gram_for (scene, queries[i], rounds) != NULL)
        gram = gram_for (scene, queries[i], rounds), most_gram = MAX (most_gram, queries[i]);
      else if (seeded && queries[i] > most)
        most = queries[i], steps = k_steps;
    }
  if (most_gram > 0 && (rows = seed_rows_new (scene, gram, most_gram, seed, cancellable, error)) == NULL)
    return FALSE;
  if (most > 0 && (seeds = seeds_new (scene, xt, n, d, most, seed, steps, &stepped, cancellable, error)) == NULL)
    return FALSE;
  for (int i = 0; i < n_targets; i++)
    if ((out[i] = resample_k (scene, xt, queries[i], rounds, tau, gram_for (scene, queries[i], rounds), rows, seeds,
                              queries[i] == most ? stepped : NULL, max_mix, cancellable, error)) == NULL)
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
