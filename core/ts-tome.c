#include "ts-tome.h"
#include "ts-error.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Scores per sgemm block: 4M floats (16 MB) whatever N is. */
#define TOME_BLOCK_FLOATS (4u << 20)

typedef struct {
  float score;
  int index;
} Edge;

/* Descending score, then ascending index: a stable ranking. */
static int
edge_cmp (const void *pa, const void *pb)
{
  const Edge *a = pa, *b = pb;

  if (a->score > b->score)
    return -1;
  if (a->score < b->score)
    return 1;
  return (a->index > b->index) - (a->index < b->index);
}

static void
normalize_row (const float *src, float *dst, int d)
{
  double s = 0;

  for (int j = 0; j < d; j++)
    s += (double) src[j] * src[j];
  if (s > 0)
    {
      float inv = (float) (1.0 / sqrt (s));
      for (int j = 0; j < d; j++)
        dst[j] = src[j] * inv;
    }
  else
    memset (dst, 0, sizeof (float) * d);
}

/* For every A row, its best B column (skipping the first @b_skip columns) and
 * score, by blocked A x B^T. */
static gboolean
best_partners (const float *a, int na, const float *b, int nb, int d, int b_skip, Edge *edges, int *best,
               GCancellable *cancellable, GError **error)
{
  int block = (int) MAX (1, MIN ((gsize) na, TOME_BLOCK_FLOATS / (gsize) nb));
  g_autofree float *c = g_try_new (float, (gsize) block * nb);

  if (c == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "out of memory for a %d x %d score block", block, nb);
      return FALSE;
    }
  for (int i0 = 0; i0 < na; i0 += block)
    {
      int m = MIN (block, na - i0);
      if (ts_check_cancelled (cancellable, error))
        return FALSE;
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, nb, d, 1.0f, a + (gsize) i0 * d, d, b, d, 0.0f,
                   c, nb);
      for (int i = 0; i < m; i++)
        {
          const float *row = c + (gsize) i * nb;
          float s = -INFINITY;
          int arg = b_skip;
          for (int j = b_skip; j < nb; j++)
            if (row[j] > s)
              s = row[j], arg = j;
          edges[i0 + i] = (Edge){ s, i0 + i };
          best[i0 + i] = arg;
        }
    }
  return TRUE;
}

int
ts_tome_match (const float *x, int n, int d, int r, int n_protected, int *dst, GCancellable *cancellable,
               GError **error)
{
  int na, nb, a_skip, b_skip;
  g_autofree float *ab = NULL;
  g_autofree Edge *edges = NULL;
  g_autofree int *best = NULL;

  if (x == NULL || dst == NULL || n < 1 || d < 1 || r < 0 || n_protected < 0 || n_protected > n)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "ToMe matching needs n >= 1 tokens of d >= 1 values, r >= 0 and 0..n protected tokens "
                   "(got n %d, d %d, r %d, protected %d)", n, d, r, n_protected);
      return -1;
    }
  for (int i = 0; i < n; i++)
    dst[i] = i;
  r = MIN (r, (n - n_protected) / 2);
  if (r <= 0)
    return 0;

  /* A = even positions, B = odd positions, each L2-normalised and contiguous. */
  na = (n + 1) / 2;
  nb = n / 2;
  a_skip = (n_protected + 1) / 2; /* protected A rows: positions 0, 2, ... < n_protected */
  b_skip = n_protected / 2;       /* protected B columns: positions 1, 3, ... < n_protected */
  ab = g_try_new (float, (gsize) n * d);
  edges = g_try_new (Edge, na);
  best = g_try_new (int, na);
  if (ab == NULL || edges == NULL || best == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "out of memory for ToMe on %d tokens of %d values", n, d);
      return -1;
    }
  for (int i = 0; i < n; i++)
    normalize_row (x + (gsize) i * d, ab + ((gsize) (i % 2 ? na + i / 2 : i / 2)) * d, d);
  if (!best_partners (ab, na, ab + (gsize) na * d, nb, d, b_skip, edges, best, cancellable, error))
    return -1;
  for (int i = 0; i < na; i++)
    if (i < a_skip || isnan (edges[i].score))
      edges[i].score = -INFINITY;
  qsort (edges, na, sizeof (Edge), edge_cmp);
  for (int e = 0; e < r; e++)
    {
      int i = edges[e].index;
      dst[2 * i] = 2 * best[i] + 1;
    }
  return r;
}

typedef struct {
  int key;
  int index;
} Order;

static int
order_cmp (const void *pa, const void *pb)
{
  const Order *a = pa, *b = pb;

  return (a->key > b->key) - (a->key < b->key);
}

TsAssignment *
ts_tome (const TsScene *scene, int target, int r, int n_protected, GCancellable *cancellable, GError **error)
{
  int N = scene->grid.tokens, d = scene->features->d, n = N;
  g_autofree float *cur = NULL;
  g_autofree int *size = g_new (int, N);
  g_autofree int *minp = g_new (int, N);
  g_autofree int *tok = g_new (int, N);
  g_autofree int *dst = g_new (int, N);
  g_autofree int *map = g_new (int, N);
  g_autofree Order *order = g_new (Order, N);
  TsAssignment *a;

  if (target < 1 || target > N || r < 0 || n_protected < 0 || n_protected > N)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "ToMe needs a target of 1..%d tokens, r >= 0 and 0..%d protected tokens "
                   "(got target %d, r %d, protected %d)", N, N, target, r, n_protected);
      return NULL;
    }
  if (target < N && target <= n_protected)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "ToMe cannot reach %d tokens when %d are protected: at least one other token remains",
                   target, n_protected);
      return NULL;
    }
  cur = g_try_new (float, (gsize) N * d);
  if (cur == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "out of memory for ToMe on %d tokens of %d values", N, d);
      return NULL;
    }
  memcpy (cur, scene->features->data, sizeof (float) * (gsize) N * d);
  for (int i = 0; i < N; i++)
    size[i] = 1, minp[i] = i, tok[i] = i;

  while (n > target)
    {
      int step = r > 0 ? MIN (r, n - target) : n - target, merged, m = 0;
      g_autofree float *next = NULL;

      step = MIN (step, (n - n_protected) / 2);
      merged = ts_tome_match (cur, n, d, step, n_protected, dst, cancellable, error);
      if (merged < 0)
        return NULL;
      if (merged == 0)
        break;
      /* Size-weighted merge: receivers become sums, sources add in, then divide. */
      memset (map, 0, sizeof (int) * n);
      for (int i = 0; i < n; i++)
        if (dst[i] != i)
          map[dst[i]] = 1;
      for (int i = 0; i < n; i++)
        if (map[i])
          cblas_sscal (d, (float) size[i], cur + (gsize) i * d, 1);
      for (int i = 0; i < n; i++)
        if (dst[i] != i)
          {
            int b = dst[i];
            cblas_saxpy (d, (float) size[i], cur + (gsize) i * d, 1, cur + (gsize) b * d, 1);
            size[b] += size[i];
            minp[b] = MIN (minp[b], minp[i]);
          }
      for (int i = 0; i < n; i++)
        if (map[i])
          cblas_sscal (d, 1.0f / size[i], cur + (gsize) i * d, 1);
      /* Survivors ordered by their smallest original patch. */
      for (int i = 0; i < n; i++)
        if (dst[i] == i)
          order[m++] = (Order){ minp[i], i };
      qsort (order, m, sizeof (Order), order_cmp);
      next = g_try_new (float, (gsize) m * d);
      if (next == NULL)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "out of memory for ToMe on %d tokens", n);
          return NULL;
        }
      for (int k = 0; k < m; k++)
        {
          int i = order[k].index;
          memcpy (next + (gsize) k * d, cur + (gsize) i * d, sizeof (float) * d);
          map[i] = k;
        }
      for (int i = 0; i < n; i++)
        if (dst[i] != i)
          map[i] = map[dst[i]];
      for (int k = 0; k < m; k++)
        {
          int i = order[k].index;
          dst[k] = size[i]; /* reuse dst as scratch for the new sizes */
        }
      memcpy (size, dst, sizeof (int) * m);
      for (int k = 0; k < m; k++)
        minp[k] = order[k].key;
      for (int p = 0; p < N; p++)
        tok[p] = map[tok[p]];
      g_free (cur);
      cur = g_steal_pointer (&next);
      n = m;
    }

  a = ts_assignment_new (N, n, d, error);
  if (a == NULL)
    return NULL;
  memcpy (a->groups, tok, sizeof (int) * N);
  ts_assignment_fill_group_means (a, scene->features);
  a->recon = TS_RECON_GROUP_MEAN;
  return a;
}

TsAssignment *
ts_tome_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable, GError **error)
{
  return ts_tome (scene, ts_method_target (params, scene->grid.tokens), params->tome_r, params->n_protected,
                  cancellable, error);
}
