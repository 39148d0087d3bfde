#include "ts-greedy.h"
#include "ts-alloc.h"
#include "ts-error.h"
#include "ts-simd.h"

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
  double *best;   /* by slot: best cosine, or an upper bound when !exact */
  int *partner;   /* by slot: id of the best partner, -1 when none */
  guint8 *exact;
  int *slot_of;   /* by id, -1 once merged */
  int *parent;    /* by id */
  GArray **nbr;   /* adjacent mode, by slot: neighbour ids */
  float *row;     /* n scratch: the cosines (or their bounds) of one group with all */
  /* Gram mode (global merging, ts_scene_gram available): no features. S holds the dot
   * products of the groups' feature sums in double, one row of ld values per
   * slot (slot s's is row srow[s]), indexed by slot; the cosine of slots s and
   * c is S[s][c] (inv[s] inv[c]) with inv = 1 / |sum| (0 for a zero sum), the
   * cosine of the means. Merging writes the new group's row only: every merge
   * is logged (lo, hi, last: lo and hi merged into lo, slot last moved into
   * hi), and another row catches up on the merges since its stamp when it is
   * next read, S[c][lo] += S[c][hi], S[c][hi] = S[c][last], the additions
   * the new row made (S stays exactly symmetric) without writing a column of
   * the matrix a step. */
  double *S;
  double *inv;    /* by slot */
  double *drow;   /* n scratch: the cosines of one group with all */
  guint8 *want;   /* n + 8 scratch: the slots to offer a new group to */
  int ld;
  int *srow;      /* by slot: its row of S */
  int *stamp;     /* by slot: merges its row has caught up on */
  int *log;       /* 3 per merge: lo, hi, last */
  int n_log;
  /* Gram mode, by slot: an upper bound of the best cosine but the best
   * partner's, for exact slots (what a new group must reach to matter, and
   * the slot's bound once its partner merges away); = best for the others. */
  double *best2;
  /* A tournament over the slots: win[1] is the slot of the highest best
   * (ties: the smaller key), leaves at win[leaves + slot] (-1 past n). */
  int *win;
  int leaves;
  /* Projection bound (global mode, large d): B is an r x d orthonormal basis,
   * proj = B u and resid = |u - B^T B u|, so u . v <= proj_u . proj_v +
   * resid_u resid_v (+ a rounding margin): an r-dim scan finds the few
   * groups whose exact d-dim cosine can matter. */
  int r;
  float *basis;   /* d x r: column k is direction k */
  float *proj;    /* n x r, by slot */
  float *projt;   /* the same by blocks of 16 slots, each r x 16 (slot fastest) */
  float *resid;   /* n, by slot */
  int next_id;
} Greedy;

#define BOUND_MARGIN 1e-4f

#define GREEDY_AUTO_DIMS 32

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
  g_free (g->basis);
  g_free (g->proj);
  g_free (g->projt);
  g_free (g->resid);
  free (g->S);
  g_free (g->inv);
  g_free (g->drow);
  g_free (g->want);
  g_free (g->srow);
  g_free (g->stamp);
  g_free (g->log);
  g_free (g->best2);
  g_free (g->win);
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
better (const Greedy *g, double v, int c, double bv, int bs)
{
  return v > bv || (v == bv && bs >= 0 && g->key[c] < g->key[bs]);
}

/* Does slot @b come before slot @a in the merge order: a higher best (a NaN
 * never does), ties to the smaller key? -1 is no slot. */
static inline gboolean
ahead (const Greedy *g, int b, int a)
{
  if (a < 0 || b < 0)
    return a < 0 && b >= 0;
  return g->best[b] > g->best[a] || (g->best[b] == g->best[a] && g->key[b] < g->key[a])
         || (isnan (g->best[a]) && !isnan (g->best[b]));
}

/* Slot @s's best or key changed (or it died): its path to the top again. */
static void
tour_update (Greedy *g, int s)
{
  int i = g->leaves + s;

  g->win[i] = s < g->n ? s : -1;
  for (i /= 2; i >= 1; i /= 2)
    {
      int a = g->win[2 * i], b = g->win[2 * i + 1];
      g->win[i] = ahead (g, b, a) ? b : a;
    }
}

static void
tour_build (Greedy *g)
{
  g->leaves = 1;
  while (g->leaves < MAX (g->n, 1))
    g->leaves *= 2;
  g->win = g_new (int, 2 * (gsize) g->leaves);
  for (int s = 0; s < g->leaves; s++)
    g->win[g->leaves + s] = s < g->n ? s : -1;
  for (int i = g->leaves - 1; i >= 1; i--)
    {
      int a = g->win[2 * i], b = g->win[2 * i + 1];
      g->win[i] = ahead (g, b, a) ? b : a;
    }
}

typedef float Slots16 __attribute__ ((vector_size (16 * sizeof (float)))); /* one value per slot of a block */

/* g->row[c] = the cosine of slot @s with every slot (plain), or an upper
 * bound of it (projection mode): ts_dot_lanes of the projections (16 lanes,
 * the tail, then the lanes added in order) plus the residual term. Whole
 * blocks of 16 slots read the transposed copy @projt and run the 16 slots'
 * sums side by side in vectors: the same additions, the same bits. */
TS_CLONES static void
bound_scan (const float *restrict proj, const float *restrict projt, const float *restrict resid, int n, int r, int s,
            float *restrict row)
{
  /* a plain loop: at r = 32 a threaded sgemv spends more on thread hand-offs than on arithmetic */
  const float *ps = proj + (gsize) s * r;
  float es = resid[s];
  int body = r / 16 * 16, c0 = 0;

  for (; c0 + 16 <= n; c0 += 16)
    {
      const float *bt = projt + (gsize) c0 * r; /* block c0 / 16: r rows of 16 slots */
      Slots16 lane[16], sum = { 0 }, v;
      for (int u = 0; u < 16; u++)
        lane[u] = sum;
      for (int j = 0; j < body; j += 16)
        for (int u = 0; u < 16; u++)
          {
            memcpy (&v, bt + (gsize) (j + u) * 16, sizeof v);
            lane[u] += ps[j + u] * v;
          }
      for (int j = body; j < r; j++)
        {
          memcpy (&v, bt + (gsize) j * 16, sizeof v);
          sum += ps[j] * v;
        }
      for (int u = 0; u < 16; u++)
        sum += lane[u];
      memcpy (&v, resid + c0, sizeof v);
      sum = sum + es * v + BOUND_MARGIN;
      memcpy (row + c0, &sum, sizeof sum);
    }
  for (int c = c0; c < n; c++)
    row[c] = ts_dot_lanes (ps, proj + (gsize) c * r, r) + es * resid[c] + BOUND_MARGIN;
}

/* Copies slot @s's projection into the transposed blocks. */
static void
projt_store (Greedy *g, int s)
{
  float *bt = g->projt + (gsize) (s / 16 * 16) * g->r + s % 16;
  const float *p = g->proj + (gsize) s * g->r;

  for (int k = 0; k < g->r; k++)
    bt[(gsize) k * 16] = p[k];
}

static void
row_bounds (Greedy *g, int s)
{
  if (g->r > 0)
    bound_scan (g->proj, g->projt, g->resid, g->n, g->r, s, g->row);
  else
    cblas_sgemv (CblasRowMajor, CblasNoTrans, g->n, g->d, 1.0f, g->unit, g->d, g->unit + (gsize) s * g->d, 1,
                 0.0f, g->row, 1);
}

/* The exact cosine of slots @s and @c given @s's row from row_bounds. */
static inline float
exact_cos (const Greedy *g, int s, int c, const float *row)
{
  if (g->r > 0)
    return cblas_sdot (g->d, g->unit + (gsize) s * g->d, 1, g->unit + (gsize) c * g->d, 1);
  return row[c];
}

/* The best partner of slot @s from its bound row: exact cosines only where the
 * bound reaches the best found so far (seeded with the highest bound). */
static void
pick_best (Greedy *g, int s, const float *row, float *out_v, int *out_s)
{
  float bv = -INFINITY;
  int bs = -1, seed = -1;

  for (int c = 0; c < g->n; c++)
    if (c != s && (seed < 0 || row[c] > row[seed]))
      seed = c;
  if (seed >= 0)
    bv = exact_cos (g, s, seed, row), bs = seed;
  for (int c = 0; c < g->n; c++)
    if (c != s && c != seed && row[c] >= bv)
      {
        float v = exact_cos (g, s, c, row);
        if (better (g, v, c, bv, bs))
          bv = v, bs = c;
      }
  *out_v = bv;
  *out_s = bs;
}

static inline double
inv_norm (double ss)
{
  return ss > 0 ? 1.0 / sqrt (ss) : 0.0;
}

typedef double Doubles8 __attribute__ ((vector_size (8 * sizeof (double))));
typedef gint64 Int8 __attribute__ ((vector_size (8 * sizeof (gint64))));

/* The running maximum of a row scan, lane by lane: the largest value, the
 * first index reaching it and how many reach it (NaNs never do), and the
 * largest of the other values (an upper bound of it when NaNs were met). */
typedef struct {
  Doubles8 top, top2;
  Int8 at, count;
} ScanMax;

/* yes where @mask is set, no elsewhere (a macro: vectors do not cross calls) */
#define PICK8(mask, yes, no) (((yes) & (mask)) | ((no) & ~(mask)))

/* out[c] = S[s][c] (is inv[c]) for c in [c0, c1), folded into @m: the
 * cosines of slot s (is = inv[s]) with slots c, the same bits as slot c's
 * scan gives for s (S is symmetric, is inv[c] = inv[c] is). */
TS_CLONES static void
gram_scan (const double *restrict srow, const double *restrict inv, int c0, int c1, double is,
           double *restrict out, ScanMax *restrict m)
{
  Doubles8 top = m->top, top2 = m->top2, v, w, lose;
  Int8 at = m->at, count = m->count, index = { 0, 1, 2, 3, 4, 5, 6, 7 }, one = index - index + 1;
  int c = c0;

  index += c0;
  for (; c + 8 <= c1; c += 8, index += 8)
    {
      Int8 up, eq;
      memcpy (&v, srow + c, sizeof v);
      memcpy (&w, inv + c, sizeof w);
      v = v * (is * w);
      memcpy (out + c, &v, sizeof v);
      up = v > top;
      eq = v == top;
      lose = (Doubles8) PICK8 (up, (Int8) top, (Int8) v);
      top2 = (Doubles8) PICK8 (lose > top2, (Int8) lose, (Int8) top2);
      top = (Doubles8) PICK8 (up, (Int8) v, (Int8) top);
      at = PICK8 (up, index, at);
      count = PICK8 (up, one, count - eq);
    }
  for (int u = 0; c < c1; c++, u++) /* the tail, in the first lanes */
    {
      double x = srow[c] * (is * inv[c]);
      out[c] = x;
      double l = x > top[u] ? top[u] : x;
      if (l > top2[u])
        top2[u] = l;
      if (x > top[u])
        top[u] = x, at[u] = c, count[u] = 1;
      else if (x == top[u])
        count[u]++;
    }
  m->top = top;
  m->top2 = top2;
  m->at = at;
  m->count = count;
}

/* Slot @s's row of S, caught up on the merges logged since its stamp. */
static double *
gram_row (Greedy *g, int s)
{
  double *row = g->S + (gsize) g->srow[s] * g->ld;

  for (int e = g->stamp[s]; e < g->n_log; e++)
    {
      const int *m = g->log + 3 * (gsize) e;
      row[m[0]] += row[m[1]];
      row[m[1]] = row[m[2]];
    }
  g->stamp[s] = g->n_log;
  return row;
}

/* The best partner of slot @s over all slots (maximal cosine, then the
 * smallest key), its cosines with every slot left in g->drow. */
static void
gram_best (Greedy *g, int s, double *out_v, int *out_s)
{
  const double *srow = gram_row (g, s);
  ScanMax m;
  double bv = -INFINITY;
  int bs = -1, ties = 0;

  for (int u = 0; u < 8; u++)
    m.top[u] = m.top2[u] = -INFINITY, m.at[u] = -1, m.count[u] = 0;
  gram_scan (srow, g->inv, 0, s, g->inv[s], g->drow, &m);
  gram_scan (srow, g->inv, s + 1, g->n, g->inv[s], g->drow, &m);
  g->drow[s] = -INFINITY;
  for (int u = 0; u < 8; u++)
    if (m.at[u] >= 0 && m.top[u] >= bv)
      {
        if (m.top[u] > bv)
          bv = m.top[u], bs = (int) m.at[u], ties = 0;
        else if (m.at[u] < bs)
          bs = (int) m.at[u];
        ties += (int) m.count[u];
      }
  if (ties > 1) /* equal cosines: the smallest key */
    for (int c = 0; c < g->n; c++)
      if (g->drow[c] == bv && g->key[c] < g->key[bs])
        bs = c;
  /* the next best: the largest value but one instance of bv */
  g->best2[s] = ties > 1 ? bv : -INFINITY;
  for (int u = 0; u < 8; u++)
    g->best2[s] = MAX (g->best2[s], MAX (m.top2[u], m.top[u] < bv ? m.top[u] : -INFINITY));
  *out_v = bv;
  *out_s = bs;
}

/* Exact best partner of slot @s over all live slots or its neighbours. */
static void
compute_best (Greedy *g, int s)
{
  double bv = -INFINITY;
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
  else if (g->S)
    {
      gram_best (g, s, &bv, &bs);
    }
  else
    {
      float fv;
      row_bounds (g, s);
      pick_best (g, s, g->row, &fv, &bs);
      bv = fv;
    }
  g->best[s] = bs >= 0 ? bv : -INFINITY;
  g->partner[s] = bs >= 0 ? g->id[bs] : -1;
  g->exact[s] = 1;
  if (g->win)
    tour_update (g, s);
}

/* A live slot @t learns its cosine @v with the new group in slot @k. */
static inline void
offer (Greedy *g, int t, int k, double v)
{
  if (g->exact[t])
    {
      int ps = g->partner[t] >= 0 ? g->slot_of[g->partner[t]] : -1;
      if (ps < 0 || better (g, v, k, g->best[t], ps))
        {
          if (g->best2)
            g->best2[t] = g->best[t];
          g->best[t] = v, g->partner[t] = g->id[k], tour_update (g, t);
        }
      else if (g->best2 && v > g->best2[t])
        g->best2[t] = v;
    }
  else if (v > g->best[t])
    {
      if (g->best2) /* the old bound bounds the others */
        g->best2[t] = g->best[t];
      g->best[t] = v, g->partner[t] = g->id[k], g->exact[t] = 1, tour_update (g, t);
    }
}

/* p (r) = B u and |u|^2 for a d x r basis (column-major directions): vector
 * updates over the r outputs, 8 partial sums for |u|^2. */
TS_CLONES static double
project_row (const float *restrict bt, const float *restrict u, int d, int r, float *restrict p)
{
  double lane[8] = { 0 }, uu = 0;
  int j = 0;

  for (int k = 0; k < r; k++)
    p[k] = 0;
  for (int t = 0; t < d; t++) /* 16 outputs at a time, so that it vectorises */
    {
      const float *b = bt + (gsize) t * r;
      float ut = u[t];
      int k = 0;
      for (; k + 16 <= r; k += 16)
        for (int v = 0; v < 16; v++)
          p[k + v] += b[k + v] * ut;
      for (; k < r; k++)
        p[k] += b[k] * ut;
    }
  for (; j + 8 <= d; j += 8)
    for (int v = 0; v < 8; v++)
      lane[v] += (double) u[j + v] * u[j + v];
  for (; j < d; j++)
    uu += (double) u[j] * u[j];
  for (int v = 0; v < 8; v++)
    uu += lane[v];
  return uu;
}

/* proj and resid of slot @s from its unit vector. */
static void
project (Greedy *g, int s)
{
  float *p = g->proj + (gsize) s * g->r;
  double uu = project_row (g->basis, g->unit + (gsize) s * g->d, g->d, g->r, p), pp = 0;

  for (int j = 0; j < g->r; j++)
    pp += (double) p[j] * p[j];
  g->resid[s] = (float) sqrt (MAX (0.0, uu - pp));
  projt_store (g, s);
}

/* An r-dim orthonormal basis of the leading principal directions of the unit
 * rows (subspace iteration on a sample's Gram matrix). Its quality only
 * affects speed: the bound holds for any orthonormal basis. */
static gboolean
build_basis (Greedy *g, int r)
{
  int d = g->d, step = MAX (1, g->n / 8192), m = (g->n + step - 1) / step;
  g_autofree float *sample = g_try_new (float, (gsize) m * d);
  g_autofree float *gram = g_try_new (float, (gsize) d * d);
  g_autofree float *q = g_new (float, (gsize) d * r);
  g_autofree float *z = g_new (float, (gsize) d * r);
  guint32 seed = 12345;

  if (sample == NULL || gram == NULL)
    return FALSE;
  for (int i = 0; i < m; i++)
    memcpy (sample + (gsize) i * d, g->unit + (gsize) i * step * d, sizeof (float) * d);
  cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, d, d, m, 1.0f, sample, d, sample, d, 0.0f, gram, d);
  for (gsize i = 0; i < (gsize) d * r; i++)
    {
      seed = seed * 1103515245u + 12345u;
      q[i] = (float) ((seed >> 8) / (double) (1 << 24) - 0.5);
    }
  for (int it = 0; it < 8; it++)
    {
      /* z = gram q, then orthonormalise z's columns (modified Gram-Schmidt, double) into q */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, d, r, d, 1.0f, gram, d, q, r, 0.0f, z, r);
      for (int c = 0; c < r; c++)
        {
          double norm = 0;
          for (int k = 0; k < c; k++)
            {
              double dot = 0;
              for (int j = 0; j < d; j++)
                dot += (double) z[(gsize) j * r + c] * q[(gsize) j * r + k];
              for (int j = 0; j < d; j++)
                z[(gsize) j * r + c] -= (float) (dot * q[(gsize) j * r + k]);
            }
          for (int j = 0; j < d; j++)
            norm += (double) z[(gsize) j * r + c] * z[(gsize) j * r + c];
          norm = sqrt (norm);
          for (int j = 0; j < d; j++)
            q[(gsize) j * r + c] = norm > 1e-20 ? (float) (z[(gsize) j * r + c] / norm) : 0.0f;
        }
    }
  g->r = r;
  g->basis = g_steal_pointer (&q);
  g->proj = g_new (float, (gsize) g->n * r);
  g->projt = g_new (float, (gsize) (g->n + 15) / 16 * 16 * r);
  g->resid = g_new (float, g->n);
  for (int s = 0; s < g->n; s++)
    project (g, s);
  return TRUE;
}

/* Moves slot @from into slot @to (the old @to is already gone). */
static void
move_slot (Greedy *g, int from, int to)
{
  int d = g->d;

  if (g->mean)
    {
      memcpy (g->mean + (gsize) to * d, g->mean + (gsize) from * d, sizeof (float) * d);
      memcpy (g->unit + (gsize) to * d, g->unit + (gsize) from * d, sizeof (float) * d);
    }
  if (g->S)
    {
      int r = g->srow[to]; /* @to's row is free: keep it, for no row is lost */
      g->inv[to] = g->inv[from];
      g->best2[to] = g->best2[from];
      g->srow[to] = g->srow[from], g->srow[from] = r;
      g->stamp[to] = g->stamp[from];
    }
  g->size[to] = g->size[from];
  g->key[to] = g->key[from];
  g->id[to] = g->id[from];
  g->best[to] = g->best[from];
  g->partner[to] = g->partner[from];
  g->exact[to] = g->exact[from];
  g->slot_of[g->id[to]] = to;
  if (g->r > 0)
    {
      memcpy (g->proj + (gsize) to * g->r, g->proj + (gsize) from * g->r, sizeof (float) * g->r);
      projt_store (g, to);
      g->resid[to] = g->resid[from];
    }
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

/* Gram mode: S's row for slot @lo = the merge of slots @lo and @hi, slot
 * @last to move into @hi (when it is another slot): the new group's sum is
 * the sum of both, so its row is the sum of their rows and |s_lo + s_hi|^2 =
 * |s_lo|^2 + |s_hi|^2 + 2 s_lo . s_hi. The other rows learn it from the log. */
static void
gram_merge (Greedy *g, int lo, int hi, int last)
{
  int n = g->n, *m = g->log + 3 * (gsize) g->n_log;
  double *rl = gram_row (g, lo), *rh = gram_row (g, hi);
  double self = rl[lo] + rh[hi] + 2 * rl[hi];

  for (int c = 0; c < n; c++)
    rl[c] += rh[c];
  rl[lo] = self;
  rl[hi] = rl[last];
  g->inv[lo] = inv_norm (self);
  m[0] = lo, m[1] = hi, m[2] = last;
  g->stamp[lo] = ++g->n_log;
}

typedef gint32 Int32x8 __attribute__ ((vector_size (8 * sizeof (gint32))));
typedef gint8 Bytes8 __attribute__ ((vector_size (8)));

/* exact[c] = 0 where partner[c] is @a or @b, c < @n. */
TS_CLONES static void
unmark_partners (const int *restrict partner, guint8 *restrict exact, int n, int a, int b)
{
  int c = 0;

  for (; c + 8 <= n; c += 8)
    {
      Int32x8 pv;
      Bytes8 e;
      memcpy (&pv, partner + c, sizeof pv);
      memcpy (&e, exact + c, sizeof e);
      e &= __builtin_convertvector ((pv != a) & (pv != b), Bytes8);
      memcpy (exact + c, &e, sizeof e);
    }
  for (; c < n; c++)
    exact[c] &= partner[c] != a && partner[c] != b;
}

/* want[c] = whether exact slot c's partner is @a or @b; want is padded to 8. */
TS_CLONES static void
partners_named (const int *restrict partner, const guint8 *restrict exact, int n, int a, int b,
                guint8 *restrict want)
{
  int c = 0;

  for (; c + 8 <= n; c += 8)
    {
      Int32x8 pv;
      Bytes8 e, w;
      memcpy (&pv, partner + c, sizeof pv);
      memcpy (&e, exact + c, sizeof e);
      w = __builtin_convertvector ((pv == a) | (pv == b), Bytes8) & e;
      memcpy (want + c, &w, sizeof w);
    }
  for (; c < n; c++)
    want[c] = exact[c] && (partner[c] == a || partner[c] == b);
  for (; c % 8 != 0; c++)
    want[c] = 0;
}

/* want[c] = whether slot c must hear of a new group of cosine drow[c]: it
 * has no partner or the cosine reaches its best; want is padded to 8. */
TS_CLONES static void
offer_wanted (const double *restrict drow, const double *restrict best, const int *restrict partner, int n,
              guint8 *restrict want)
{
  int c = 0;

  for (; c + 8 <= n; c += 8)
    {
      Doubles8 dv, bv;
      Int32x8 pv;
      Bytes8 w;
      memcpy (&dv, drow + c, sizeof dv);
      memcpy (&bv, best + c, sizeof bv);
      memcpy (&pv, partner + c, sizeof pv);
      w = __builtin_convertvector ((dv >= bv) | __builtin_convertvector (pv < 0, Int8), Bytes8);
      memcpy (want + c, &w, sizeof w);
    }
  for (; c < n; c++)
    want[c] = partner[c] < 0 || drow[c] >= best[c];
  for (; c % 8 != 0; c++)
    want[c] = 0;
}

/* Merges slots @s and @t into a new group. */
static void
merge (Greedy *g, int s, int t)
{
  int d = g->d, lo = MIN (s, t), hi = MAX (s, t), last = g->n - 1;
  int ids = g->id[s], idt = g->id[t], k = g->next_id++;
  GArray *nb = NULL;

  if (g->S)
    gram_merge (g, lo, hi, last);
  else
    {
      float ws = (float) g->size[s], wt = (float) g->size[t], inv = 1.0f / (ws + wt);
      float *ms = g->mean + (gsize) s * d, *mt = g->mean + (gsize) t * d, *mk = g->mean + (gsize) lo * d;
      for (int j = 0; j < d; j++)
        mk[j] = (ws * ms[j] + wt * mt[j]) * inv;
      unit_row (mk, g->unit + (gsize) lo * d, d);
      if (g->r > 0)
        project (g, lo);
    }
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
  tour_update (g, hi);
  tour_update (g, last);

  /* Groups that pointed at a merged id keep an upper bound of their best:
   * their score, or in Gram mode their next best, tighter. */
  if (g->best2)
    {
      partners_named (g->partner, g->exact, g->n, ids, idt, g->want);
      for (int c0 = 0; c0 < g->n; c0 += 8)
        {
          guint64 w;
          memcpy (&w, g->want + c0, sizeof w);
          for (int c = c0; w != 0; c++, w >>= 8)
            if (w & 0xff)
              g->best[c] = g->best2[c], g->exact[c] = 0, tour_update (g, c);
        }
    }
  else
    unmark_partners (g->partner, g->exact, g->n, ids, idt);
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
  else if (g->S)
    {
      compute_best (g, lo); /* leaves the new group's cosines in g->drow */
      offer_wanted (g->drow, g->best2, g->partner, g->n, g->want); /* 8 slots at a time, mostly none */
      for (int c0 = 0; c0 < g->n; c0 += 8)
        {
          guint64 w;
          memcpy (&w, g->want + c0, sizeof w);
          for (int c = c0; w != 0; c++, w >>= 8)
            if ((w & 0xff) && c != lo)
              offer (g, c, lo, g->drow[c]);
        }
    }
  else
    {
      compute_best (g, lo); /* leaves the new group's cosines (or bounds) in g->row */
      for (int c = 0; c < g->n; c++)
        if (c != lo && (g->partner[c] < 0 || g->row[c] >= g->best[c]))
          offer (g, c, lo, exact_cos (g, lo, c, g->row));
    }
}

/* srow[j] = (ni norm[j]) G_row[j], 0 where that norm product is 0: the dot
 * products of one token with all, in double. */
TS_CLONES static void
gram_fill_row (const float *restrict grow, const double *restrict norm, double ni, int n, double *restrict srow)
{
  int j = 0;

  for (; j + 8 <= n; j += 8)
    {
      Doubles8 nn, v;
      float gf[8];
      memcpy (&nn, norm + j, sizeof nn);
      memcpy (gf, grow + j, sizeof gf);
      nn = ni * nn;
      for (int u = 0; u < 8; u++)
        v[u] = gf[u];
      v = nn * v;
      v = (Doubles8) ((Int8) v & (nn != 0));
      memcpy (srow + j, &v, sizeof v);
    }
  for (; j < n; j++)
    srow[j] = ni * norm[j] != 0 ? (ni * norm[j]) * grow[j] : 0.0;
}

/* Gram mode: S of the single tokens p.. from the scene's Gram matrix @G
 * (x_i . x_j = |x_i| |x_j| cos_ij) and every slot's best partner. */
static gboolean
gram_initial_best (Greedy *g, const TsScene *scene, const float *G, int p, GCancellable *cancellable,
                   GError **error)
{
  int n = g->n, N = g->N, d = g->d;
  g_autofree double *norm = g_new (double, MAX (n, 1));

  for (int i0 = 0; i0 < n; i0 += 8)
    {
      /* 8 tokens side by side, each summed in its own order: |x|^2 in double */
      const float *x = scene->features->data + (gsize) (p + i0) * d;
      int m = MIN (8, n - i0);
      double ss[8] = { 0 };
      for (int j = 0; j < d; j++)
        for (int u = 0; u < m; u++)
          ss[u] += (double) x[(gsize) u * d + j] * x[(gsize) u * d + j];
      for (int u = 0; u < m; u++)
        {
          int i = i0 + u;
          /* a token that is not finite counts as zero, like its all-zero normalised row */
          norm[i] = isfinite (ss[u]) ? sqrt (ss[u]) : 0.0;
          g->inv[i] = inv_norm (norm[i] * norm[i] * G[(gsize) (p + i) * N + p + i]);
        }
    }
  for (int i = 0; i < n; i++)
    {
      g->srow[i] = i, g->stamp[i] = 0;
      if ((i & 63) == 0 && ts_check_cancelled (cancellable, error))
        return FALSE;
      gram_fill_row (G + (gsize) (p + i) * N + p, norm, norm[i], n, g->S + (gsize) i * g->ld);
      compute_best (g, i);
    }
  return TRUE;
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
      if (g->r > 0)
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, n, g->r, 1.0f, g->proj + (gsize) i0 * g->r, g->r,
                     g->proj, g->r, 0.0f, c, n);
      else
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, n, d, 1.0f, g->unit + (gsize) i0 * d, d, g->unit,
                     d, 0.0f, c, n);
      for (int i = 0; i < m; i++)
        {
          float *row = c + (gsize) i * n, bv;
          int bs, s = i0 + i;
          if (g->r > 0)
            for (int j = 0; j < n; j++)
              row[j] += g->resid[s] * g->resid[j] + BOUND_MARGIN;
          pick_best (g, s, row, &bv, &bs);
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
  return ts_greedy_full (scene, target, adjacent_only, n_protected, -1, cancellable, error);
}

/* The current groups as an assignment: protected patches and live groups, by smallest patch. */
static TsAssignment *
greedy_output (Greedy *g, const TsScene *scene, int p, GError **error)
{
  int N = g->N, m = 0;
  g_autofree Order *order = g_new (Order, p + g->n);
  g_autofree int *out_of_slot = g_new (int, MAX (g->n, 1));
  TsAssignment *a;

  for (int t = 0; t < p; t++)
    order[m++] = (Order){ t, -1 - t };
  for (int s = 0; s < g->n; s++)
    order[m++] = (Order){ g->key[s], s };
  qsort (order, m, sizeof (Order), order_cmp);
  a = ts_assignment_new (N, m, g->d, error);
  if (a == NULL)
    return NULL;
  for (int o = 0; o < m; o++)
    if (order[o].index >= 0)
      out_of_slot[order[o].index] = o;
    else
      a->groups[-1 - order[o].index] = o;
  for (int t = p; t < N; t++)
    a->groups[t] = out_of_slot[g->slot_of[find_root (g->parent, t)]];
  ts_assignment_fill_group_means (a, scene->features);
  a->recon = TS_RECON_GROUP_MEAN;
  return a;
}

static int
int_desc (const void *pa, const void *pb)
{
  int a = *(const int *) pa, b = *(const int *) pb;

  return (a < b) - (a > b);
}

/* One merge sequence, cut at every target: out[i] receives the assignment at
 * targets[i] (NULL for a target the merging could not reach, with @error set). */
static gboolean
greedy_multi (const TsScene *scene, const int *targets, int n_targets, gboolean adjacent_only, int n_protected,
              int bound_dims, TsAssignment **out, GCancellable *cancellable, GError **error)
{
  const TsGrid *grid = &scene->grid;
  int N = grid->tokens, d = scene->features->d, p = n_protected, iter = 0, next = 0;
  Greedy g = { 0 };
  const float *G = NULL;
  g_autofree int *order = g_memdup2 (targets, sizeof (int) * MAX (n_targets, 1));
  gboolean ok = FALSE;

  for (int i = 0; i < n_targets; i++)
    {
      int target = targets[i];
      out[i] = NULL;
      if (target < 1 || target > N || n_protected < 0 || n_protected > N)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                       "greedy merging needs a target of 1..%d tokens and 0..%d protected tokens (got %d, %d)", N,
                       N, target, n_protected);
          return FALSE;
        }
      if (target < N && target <= n_protected)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                       "greedy merging cannot reach %d tokens when %d are protected", target, n_protected);
          return FALSE;
        }
    }
  if (n_targets < 1)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "greedy merging needs at least one target");
      return FALSE;
    }
  qsort (order, n_targets, sizeof (int), int_desc);
  g.N = N;
  g.d = d;
  g.n = N - p;
  g.adjacent = adjacent_only;
  /* adjacent merging compares a few neighbours a step: O(degree d) beats O(n) */
  if (bound_dims < 0 && !adjacent_only && g.n >= 2 && (G = ts_scene_gram (scene)) != NULL)
    {
      g.S = ts_alloc_large (sizeof (double) * (gsize) g.n * g.n);
      if (g.S == NULL)
        G = NULL;
    }
  if (G != NULL)
    {
      g.ld = g.n;
      g.inv = g_new (double, g.n);
      g.drow = g_new (double, g.n);
      g.want = g_new (guint8, g.n + 8);
      g.srow = g_new (int, g.n);
      g.stamp = g_new (int, g.n);
      g.log = g_new (int, 3 * (gsize) g.n);
      g.best2 = g_new (double, g.n);
    }
  else
    {
      g.mean = g_try_new (float, (gsize) g.n * d);
      g.unit = g_try_new (float, (gsize) g.n * d);
    }
  if (G == NULL && (g.mean == NULL || g.unit == NULL))
    {
      greedy_clear (&g);
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "out of memory for greedy merging of %d tokens of %d values",
                   N, d);
      return FALSE;
    }
  g.size = g_new (int, g.n);
  g.key = g_new (int, g.n);
  g.id = g_new (int, g.n);
  g.best = g_new (double, g.n);
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
      if (G == NULL)
        {
          memcpy (g.mean + (gsize) s * d, scene->features->data + (gsize) t * d, sizeof (float) * d);
          unit_row (g.mean + (gsize) s * d, g.unit + (gsize) s * d, d);
        }
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
  if (G != NULL)
    bound_dims = 0;
  else if (bound_dims < 0)
    bound_dims = !adjacent_only && d >= 4 * GREEDY_AUTO_DIMS && g.n >= 1024 ? GREEDY_AUTO_DIMS : 0;
  if (!adjacent_only && bound_dims > 0 && bound_dims < d && !build_basis (&g, bound_dims))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "out of memory for greedy merging of %d tokens", N);
      goto out;
    }
  if (G != NULL ? !gram_initial_best (&g, scene, G, p, cancellable, error) : !initial_best (&g, cancellable, error))
    goto out;

  tour_build (&g);
  for (;;)
    {
      int top;
      while (next < n_targets && g.n + p == order[next])
        {
          TsAssignment *a = greedy_output (&g, scene, p, error);
          if (a == NULL)
            goto out;
          for (int i = 0; i < n_targets; i++) /* every slot asking for this count */
            if (targets[i] == order[next] && out[i] == NULL)
              {
                out[i] = a;
                break;
              }
          next++;
        }
      if (next == n_targets)
        break;
      if ((++iter & 255) == 0 && ts_check_cancelled (cancellable, error))
        goto out;
      top = g.win[1];
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
  ok = TRUE;

out:
  greedy_clear (&g);
  return ok;
}

TsAssignment *
ts_greedy_full (const TsScene *scene, int target, gboolean adjacent_only, int n_protected, int bound_dims,
                GCancellable *cancellable, GError **error)
{
  TsAssignment *a = NULL;

  greedy_multi (scene, &target, 1, adjacent_only, n_protected, bound_dims, &a, cancellable, error);
  return a;
}

gboolean
ts_greedy_multi (const TsScene *scene, const int *targets, int n_targets, gboolean adjacent_only, int n_protected,
                 TsAssignment **out, GCancellable *cancellable, GError **error)
{
  return greedy_multi (scene, targets, n_targets, adjacent_only, n_protected, -1, out, cancellable, error);
}

TsAssignment *
ts_greedy_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable, GError **error)
{
  return ts_greedy (scene, ts_method_target (params, scene->grid.tokens), params->adjacent_only,
                    params->n_protected, cancellable, error);
}

gboolean
ts_greedy_run_multi (const TsScene *scene, const TsMethodParams *params, const int *targets, int n_targets,
                     TsAssignment **out, GCancellable *cancellable, GError **error)
{
  return ts_greedy_multi (scene, targets, n_targets, params->adjacent_only, params->n_protected, out, cancellable,
                          error);
}
