#include "ts-greedy.h"
#include "ts-error.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GREEDY_BLOCK_FLOATS (4u << 20) /* 16 MB of scores per sgemm block */

/* Live groups occupy slots 0..n-1 (compacted, so a new group's row is one
 * contiguous sgemv); ids are stable names (0..N-1 the patches, then one per
 * merge) and parent[] links merged ids to the id they went into. */
typedef struct {
  int N, d, n, adjacent;
  float *mean;    /* n x d size-weighted means, by slot */
  float *unit;    /* n x d the same, unit length */
  int *size, *key, *id; /* by slot; key = smallest original patch */
  float *best;    /* by slot: best cosine, or an upper bound when !exact */
  int *partner;   /* by slot: id of the best partner, -1 when none */
  guint8 *exact;
  int *slot_of;   /* by id, -1 once merged */
  int *parent;    /* by id */
  GArray **nbr;   /* adjacent mode, by slot: neighbour ids */
  float *row;     /* n scratch */
  int next_id;
} Greedy;

static void
greedy_clear (Greedy *g)
{
  g_free (g->mean);
  g_free (g->unit);
  g_free (g->size);
  g_free (g->key);
  g_free (g->id);
  g_free (g->best);
  g_free (g->partner);
  g_free (g->exact);
  g_free (g->slot_of);
  g_free (g->parent);
  g_free (g->row);
  if (g->nbr)
    for (int s = 0; s < g->n; s++)
      if (g->nbr[s])
        g_array_unref (g->nbr[s]);
  g_free (g->nbr);
}

static void
unit_row (const float *src, float *dst, int d)
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

/* Is candidate slot @c (cosine @v) better than the current (@bv, partner slot @bs)? */
static inline gboolean
better (const Greedy *g, float v, int c, float bv, int bs)
{
  return v > bv || (v == bv && bs >= 0 && g->key[c] < g->key[bs]);
}

/* Exact best partner of slot @s over all live slots or its neighbours. */
static void
compute_best (Greedy *g, int s)
{
  float bv = -INFINITY;
  int bs = -1;

  if (g->adjacent)
    {
      GArray *nb = g->nbr[s];
      for (guint k = 0; k < nb->len; k++)
        {
          int c = g->slot_of[g_array_index (nb, int, k)];
          float v = cblas_sdot (g->d, g->unit + (gsize) s * g->d, 1, g->unit + (gsize) c * g->d, 1);
          if (bs < 0 || better (g, v, c, bv, bs))
            bv = v, bs = c;
        }
    }
  else
    {
      cblas_sgemv (CblasRowMajor, CblasNoTrans, g->n, g->d, 1.0f, g->unit, g->d, g->unit + (gsize) s * g->d, 1,
                   0.0f, g->row, 1);
      for (int c = 0; c < g->n; c++)
        if (c != s && (bs < 0 || better (g, g->row[c], c, bv, bs)))
          bv = g->row[c], bs = c;
    }
  g->best[s] = bs >= 0 ? bv : -INFINITY;
  g->partner[s] = bs >= 0 ? g->id[bs] : -1;
  g->exact[s] = 1;
}

/* A live slot @t learns its cosine @v with the new group in slot @k. */
static inline void
offer (Greedy *g, int t, int k, float v)
{
  if (g->exact[t])
    {
      int ps = g->partner[t] >= 0 ? g->slot_of[g->partner[t]] : -1;
      if (ps < 0 || better (g, v, k, g->best[t], ps))
        g->best[t] = v, g->partner[t] = g->id[k];
    }
  else if (v > g->best[t])
    g->best[t] = v, g->partner[t] = g->id[k], g->exact[t] = 1;
}

/* Moves slot @from into slot @to (the old @to is already gone). */
static void
move_slot (Greedy *g, int from, int to)
{
  int d = g->d;

  memcpy (g->mean + (gsize) to * d, g->mean + (gsize) from * d, sizeof (float) * d);
  memcpy (g->unit + (gsize) to * d, g->unit + (gsize) from * d, sizeof (float) * d);
  g->size[to] = g->size[from];
  g->key[to] = g->key[from];
  g->id[to] = g->id[from];
  g->best[to] = g->best[from];
  g->partner[to] = g->partner[from];
  g->exact[to] = g->exact[from];
  g->slot_of[g->id[to]] = to;
  if (g->nbr)
    {
      g->nbr[to] = g->nbr[from];
      g->nbr[from] = NULL;
    }
}

/* Replaces ids @a and @b by @k in @arr, once. */
static void
relink (GArray *arr, int a, int b, int k)
{
  gboolean have = FALSE;
  guint w = 0;

  for (guint i = 0; i < arr->len; i++)
    {
      int v = g_array_index (arr, int, i);
      if (v == a || v == b || v == k)
        {
          if (have)
            continue;
          v = k, have = TRUE;
        }
      g_array_index (arr, int, w++) = v;
    }
  g_array_set_size (arr, w);
}

static int
int_cmp (gconstpointer a, gconstpointer b)
{
  int x = *(const int *) a, y = *(const int *) b;

  return (x > y) - (x < y);
}

/* Merges slots @s and @t into a new group. */
static void
merge (Greedy *g, int s, int t)
{
  int d = g->d, lo = MIN (s, t), hi = MAX (s, t), last = g->n - 1;
  int ids = g->id[s], idt = g->id[t], k = g->next_id++;
  float ws = (float) g->size[s], wt = (float) g->size[t], inv = 1.0f / (ws + wt);
  float *ms = g->mean + (gsize) s * d, *mt = g->mean + (gsize) t * d, *mk = g->mean + (gsize) lo * d;
  GArray *nb = NULL;

  for (int j = 0; j < d; j++)
    mk[j] = (ws * ms[j] + wt * mt[j]) * inv;
  unit_row (mk, g->unit + (gsize) lo * d, d);
  g->size[lo] = g->size[s] + g->size[t];
  g->key[lo] = MIN (g->key[s], g->key[t]);
  g->id[lo] = k;
  g->parent[ids] = g->parent[idt] = k;
  g->slot_of[ids] = g->slot_of[idt] = -1;
  g->slot_of[k] = lo;
  if (g->adjacent)
    {
      nb = g->nbr[lo];
      g_array_append_vals (nb, g->nbr[hi]->data, g->nbr[hi]->len);
      g_array_unref (g->nbr[hi]);
      g->nbr[hi] = NULL;
      /* union of both neighbourhoods, without the pair itself and without repeats */
      g_array_sort (nb, int_cmp);
      {
        guint w = 0;
        for (guint i = 0; i < nb->len; i++)
          {
            int v = g_array_index (nb, int, i);
            if (v == ids || v == idt || (w > 0 && g_array_index (nb, int, w - 1) == v))
              continue;
            g_array_index (nb, int, w++) = v;
          }
        g_array_set_size (nb, w);
      }
    }
  if (hi != last)
    move_slot (g, last, hi);
  g->n--;

  /* Groups that pointed at a merged id keep their score as an upper bound. */
  for (int c = 0; c < g->n; c++)
    if (g->partner[c] == ids || g->partner[c] == idt)
      g->exact[c] = 0;
  lo = g->slot_of[k];
  if (g->adjacent)
    {
      nb = g->nbr[lo];
      for (guint i = 0; i < nb->len; i++)
        {
          int c = g->slot_of[g_array_index (nb, int, i)];
          relink (g->nbr[c], ids, idt, k);
          offer (g, c, lo, cblas_sdot (d, g->unit + (gsize) c * d, 1, g->unit + (gsize) lo * d, 1));
        }
      compute_best (g, lo);
    }
  else
    {
      compute_best (g, lo); /* fills g->row with the new group's cosines */
      for (int c = 0; c < g->n; c++)
        if (c != lo)
          offer (g, c, lo, g->row[c]);
    }
}

/* Exact best partners of every slot at the start. */
static gboolean
initial_best (Greedy *g, GCancellable *cancellable, GError **error)
{
  int n = g->n, d = g->d;
  int block;
  g_autofree float *c = NULL;

  if (g->adjacent)
    {
      for (int s = 0; s < n; s++)
        compute_best (g, s);
      return TRUE;
    }
  block = (int) MAX (1, MIN ((gsize) n, GREEDY_BLOCK_FLOATS / (gsize) MAX (n, 1)));
  c = g_try_new (float, (gsize) block * n);
  if (c == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "out of memory for a %d x %d score block", block, n);
      return FALSE;
    }
  for (int i0 = 0; i0 < n; i0 += block)
    {
      int m = MIN (block, n - i0);
      if (ts_check_cancelled (cancellable, error))
        return FALSE;
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, n, d, 1.0f, g->unit + (gsize) i0 * d, d, g->unit,
                   d, 0.0f, c, n);
      for (int i = 0; i < m; i++)
        {
          const float *row = c + (gsize) i * n;
          float bv = -INFINITY;
          int bs = -1, s = i0 + i;
          for (int j = 0; j < n; j++) /* slots are in key order here: first maximum wins ties */
            if (j != s && (bs < 0 || row[j] > bv))
              bv = row[j], bs = j;
          g->best[s] = bs >= 0 ? bv : -INFINITY;
          g->partner[s] = bs >= 0 ? g->id[bs] : -1;
          g->exact[s] = 1;
        }
    }
  return TRUE;
}

static int
find_root (int *parent, int id)
{
  int r = id;

  while (parent[r] != r)
    r = parent[r];
  while (parent[id] != r)
    {
      int up = parent[id];
      parent[id] = r;
      id = up;
    }
  return r;
}

typedef struct {
  int key, index;
} Order;

static int
order_cmp (const void *pa, const void *pb)
{
  const Order *a = pa, *b = pb;

  return (a->key > b->key) - (a->key < b->key);
}

TsAssignment *
ts_greedy (const TsScene *scene, int target, gboolean adjacent_only, int n_protected, GCancellable *cancellable,
           GError **error)
{
  const TsGrid *grid = &scene->grid;
  int N = grid->tokens, d = scene->features->d, p = n_protected, iter = 0, m = 0;
  Greedy g = { 0 };
  g_autofree Order *order = NULL;
  g_autofree int *out_of_slot = NULL;
  TsAssignment *a = NULL;

  if (target < 1 || target > N || n_protected < 0 || n_protected > N)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "greedy merging needs a target of 1..%d tokens and 0..%d protected tokens (got %d, %d)", N, N,
                   target, n_protected);
      return NULL;
    }
  if (target < N && target <= n_protected)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "greedy merging cannot reach %d tokens when %d are protected", target, n_protected);
      return NULL;
    }
  g.N = N;
  g.d = d;
  g.n = N - p;
  g.adjacent = adjacent_only;
  g.mean = g_try_new (float, (gsize) g.n * d);
  g.unit = g_try_new (float, (gsize) g.n * d);
  if (g.mean == NULL || g.unit == NULL)
    {
      greedy_clear (&g);
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "out of memory for greedy merging of %d tokens of %d values",
                   N, d);
      return NULL;
    }
  g.size = g_new (int, g.n);
  g.key = g_new (int, g.n);
  g.id = g_new (int, g.n);
  g.best = g_new (float, g.n);
  g.partner = g_new (int, g.n);
  g.exact = g_new (guint8, g.n);
  g.row = g_new (float, MAX (g.n, 1));
  g.slot_of = g_new (int, 2 * (gsize) N);
  g.parent = g_new (int, 2 * (gsize) N);
  g.next_id = N;
  for (int i = 0; i < 2 * N; i++)
    g.parent[i] = i, g.slot_of[i] = -1;
  for (int s = 0; s < g.n; s++)
    {
      int t = p + s;
      memcpy (g.mean + (gsize) s * d, scene->features->data + (gsize) t * d, sizeof (float) * d);
      unit_row (g.mean + (gsize) s * d, g.unit + (gsize) s * d, d);
      g.size[s] = 1, g.key[s] = t, g.id[s] = t, g.slot_of[t] = s;
    }
  if (adjacent_only)
    {
      g.nbr = g_new0 (GArray *, MAX (g.n, 1));
      for (int s = 0; s < g.n; s++)
        {
          int t = p + s, r = t / grid->cols, c = t % grid->cols;
          int nb[4] = { r > 0 ? t - grid->cols : -1, c > 0 ? t - 1 : -1, c + 1 < grid->cols ? t + 1 : -1,
                        r + 1 < grid->rows ? t + grid->cols : -1 };
          g.nbr[s] = g_array_sized_new (FALSE, FALSE, sizeof (int), 4);
          for (int k = 0; k < 4; k++)
            if (nb[k] >= p)
              g_array_append_val (g.nbr[s], nb[k]);
        }
    }
  if (!initial_best (&g, cancellable, error))
    goto out;

  while (g.n + p > target)
    {
      int top = -1;
      if ((++iter & 255) == 0 && ts_check_cancelled (cancellable, error))
        goto out;
      for (int s = 0; s < g.n; s++)
        if (top < 0 || g.best[s] > g.best[top] || (g.best[s] == g.best[top] && g.key[s] < g.key[top]))
          top = s;
      if (!g.exact[top])
        {
          compute_best (&g, top);
          continue;
        }
      if (g.partner[top] < 0 || isnan (g.best[top]))
        {
          g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                       "greedy merging stopped at %d tokens: no groups left that may merge", g.n + p);
          goto out;
        }
      merge (&g, top, g.slot_of[g.partner[top]]);
    }

  /* Output tokens: protected patches and live groups, by smallest patch. */
  order = g_new (Order, p + g.n);
  out_of_slot = g_new (int, MAX (g.n, 1));
  for (int t = 0; t < p; t++)
    order[m++] = (Order){ t, -1 - t };
  for (int s = 0; s < g.n; s++)
    order[m++] = (Order){ g.key[s], s };
  qsort (order, m, sizeof (Order), order_cmp);
  a = ts_assignment_new (N, m, d, error);
  if (a == NULL)
    goto out;
  for (int o = 0; o < m; o++)
    if (order[o].index >= 0)
      out_of_slot[order[o].index] = o;
    else
      a->groups[-1 - order[o].index] = o;
  for (int t = p; t < N; t++)
    a->groups[t] = out_of_slot[g.slot_of[find_root (g.parent, t)]];
  ts_assignment_fill_group_means (a, scene->features);
  a->recon = TS_RECON_GROUP_MEAN;

out:
  greedy_clear (&g);
  return a;
}

TsAssignment *
ts_greedy_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable, GError **error)
{
  return ts_greedy (scene, ts_method_target (params, scene->grid.tokens), params->adjacent_only,
                    params->n_protected, cancellable, error);
}
