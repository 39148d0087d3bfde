#include "ts-tome.h"
#include "ts-error.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Scores per sgemm block: about 1 MB, so the argmax reads a cache-hot block,
 * but at least 64 rows so the sgemm stays efficient at large N. */
#define TOME_BLOCK_FLOATS (256u << 10)
#define TOME_BLOCK_MIN_ROWS 64

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

/* Buffers reused across steps (fresh multi-megabyte allocations per step
 * cost more in page faults than the arithmetic). */
typedef struct {
  float *ab;   /* n x d: A rows then B rows, unit length */
  float *c;    /* block x nb scores */
  Edge *edges; /* na */
  int *best;   /* na */
} Work;

static void
work_clear (Work *w)
{
  g_free (w->ab);
  g_free (w->c);
  g_free (w->edges);
  g_free (w->best);
}

static int
block_rows (int na, int nb)
{
  return MAX (1, MIN (na, MAX (TOME_BLOCK_MIN_ROWS, (int) (TOME_BLOCK_FLOATS / (gsize) MAX (nb, 1)))));
}

static gboolean
work_init (Work *w, int n, int d, GError **error)
{
  int na = (n + 1) / 2, nb = MAX (n / 2, 1);

  memset (w, 0, sizeof *w);
  w->ab = g_try_new (float, (gsize) n * d);
  /* enough for every later, smaller step too: block rows * nb <= max(block floats, 64 nb) */
  w->c = g_try_new (float, MAX ((gsize) TOME_BLOCK_FLOATS, (gsize) TOME_BLOCK_MIN_ROWS * nb));
  w->edges = g_try_new (Edge, na);
  w->best = g_try_new (int, na);
  if (w->ab == NULL || w->c == NULL || w->edges == NULL || w->best == NULL)
    {
      work_clear (w);
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "out of memory for ToMe on %d tokens of %d values", n, d);
      return FALSE;
    }
  return TRUE;
}

/* For every A row, its best B column (skipping the first @b_skip columns) and
 * score, by blocked A x B^T. */
static gboolean
best_partners (Work *w, int na, int nb, int d, int b_skip, GCancellable *cancellable, GError **error)
{
  const float *a = w->ab, *b = w->ab + (gsize) na * d;
  int block = block_rows (na, nb);

  for (int i0 = 0; i0 < na; i0 += block)
    {
      int m = MIN (block, na - i0);
      if (ts_check_cancelled (cancellable, error))
        return FALSE;
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, nb, d, 1.0f, a + (gsize) i0 * d, d, b, d, 0.0f,
                   w->c, nb);
      for (int i = 0; i < m; i++)
        {
          const float *row = w->c + (gsize) i * nb;
          float s = -INFINITY;
          int arg = b_skip;
          for (int j = b_skip; j < nb; j++)
            if (row[j] > s)
              s = row[j], arg = j;
          w->edges[i0 + i] = (Edge){ s, i0 + i };
          w->best[i0 + i] = arg;
        }
    }
  return TRUE;
}

/* ts_tome_match with caller-owned buffers sized for at least @n tokens. */
static int
match (Work *w, const float *x, int n, int d, int r, int n_protected, int *dst, GCancellable *cancellable,
       GError **error)
{
  int na, nb, a_skip;

  for (int i = 0; i < n; i++)
    dst[i] = i;
  r = MIN (r, (n - n_protected) / 2);
  if (r <= 0)
    return 0;
  /* A = even positions, B = odd positions, each L2-normalised and contiguous. */
  na = (n + 1) / 2;
  nb = n / 2;
  a_skip = (n_protected + 1) / 2; /* protected A rows: positions 0, 2, ... < n_protected */
  for (int i = 0; i < n; i++)
    normalize_row (x + (gsize) i * d, w->ab + ((gsize) (i % 2 ? na + i / 2 : i / 2)) * d, d);
  /* protected B columns: positions 1, 3, ... < n_protected */
  if (!best_partners (w, na, nb, d, n_protected / 2, cancellable, error))
    return -1;
  for (int i = 0; i < na; i++)
    if (i < a_skip || isnan (w->edges[i].score))
      w->edges[i].score = -INFINITY;
  qsort (w->edges, na, sizeof (Edge), edge_cmp);
  for (int e = 0; e < r; e++)
    {
      int i = w->edges[e].index;
      dst[2 * i] = 2 * w->best[i] + 1;
    }
  return r;
}

int
ts_tome_match (const float *x, int n, int d, int r, int n_protected, int *dst, GCancellable *cancellable,
               GError **error)
{
  Work w;
  int merged;

  if (x == NULL || dst == NULL || n < 1 || d < 1 || r < 0 || n_protected < 0 || n_protected > n)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "ToMe matching needs n >= 1 tokens of d >= 1 values, r >= 0 and 0..n protected tokens "
                   "(got n %d, d %d, r %d, protected %d)", n, d, r, n_protected);
      return -1;
    }
  if (MIN (r, (n - n_protected) / 2) <= 0)
    {
      for (int i = 0; i < n; i++)
        dst[i] = i;
      return 0;
    }
  if (!work_init (&w, n, d, error))
    return -1;
  merged = match (&w, x, n, d, r, n_protected, dst, cancellable, error);
  work_clear (&w);
  return merged;
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
  Work w = { 0 };
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
  if (cur == NULL || (N > 1 && !work_init (&w, N, d, error)))
    {
      if (cur == NULL)
        g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "out of memory for ToMe on %d tokens of %d values", N, d);
      return NULL;
    }
  memcpy (cur, scene->features->data, sizeof (float) * (gsize) N * d);
  for (int i = 0; i < N; i++)
    size[i] = 1, minp[i] = i, tok[i] = i;

  while (n > target)
    {
      int step = r > 0 ? MIN (r, n - target) : n - target, merged, m = 0;

      step = MIN (step, (n - n_protected) / 2);
      merged = match (&w, cur, n, d, step, n_protected, dst, cancellable, error);
      if (merged < 0)
        {
          work_clear (&w);
          return NULL;
        }
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
      for (int k = 0; k < m; k++)
        map[order[k].index] = k;
      for (int i = 0; i < n; i++)
        if (dst[i] != i)
          map[i] = map[dst[i]];
      for (int p = 0; p < N; p++)
        tok[p] = map[tok[p]];
      /* Compact: row order[k].index moves to row k. Sources of rows only
       * come from later or equal positions in order, but not monotonically,
       * so gather through the (now free) normalised buffer. */
      for (int k = 0; k < m; k++)
        memcpy (w.ab + (gsize) k * d, cur + (gsize) order[k].index * d, sizeof (float) * d);
      memcpy (cur, w.ab, sizeof (float) * (gsize) m * d);
      for (int k = 0; k < m; k++)
        dst[k] = size[order[k].index]; /* dst is scratch here */
      memcpy (size, dst, sizeof (int) * m);
      for (int k = 0; k < m; k++)
        minp[k] = order[k].key;
      n = m;
    }
  work_clear (&w);

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
