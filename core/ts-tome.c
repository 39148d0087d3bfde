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

/* Pruned scoring (best_partners_pruned): a basis of up to TOME_PROJ_K
 * directions, used when |A|, |B| and d are all at least TOME_PRUNE_MIN. */
#define TOME_PROJ_K 48
#define TOME_PRUNE_MIN 256

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

/* 1 / |x| in float (0 for a zero row), summed in double (four running sums,
 * so the additions overlap). */
static float
inv_norm (const float *x, int d)
{
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s;
  int j = 0;

  for (; j + 4 <= d; j += 4)
    {
      s0 += (double) x[j] * x[j];
      s1 += (double) x[j + 1] * x[j + 1];
      s2 += (double) x[j + 2] * x[j + 2];
      s3 += (double) x[j + 3] * x[j + 3];
    }
  for (; j < d; j++)
    s0 += (double) x[j] * x[j];
  s = (s0 + s1) + (s2 + s3);
  return s > 0 ? (float) (1.0 / sqrt (s)) : 0.0f;
}

/* Buffers reused across steps, carved from one block sized for the first
 * (largest) step. Pages a step does not reach are never touched. */
typedef struct {
  int n, d;     /* the first step's size */
  char *block;  /* everything below lives in it */
  gsize size;
  float *c;     /* block x nb scores */
  Edge *edges;  /* na */
  int *best;    /* na */
  float *ab;    /* dense scoring: unit rows, A then B */
  /* pruned scoring */
  float *inv;   /* n: 1 / |row|, A rows then B rows */
  float *p;     /* n x (TOME_PROJ_K + 1): projections of the unit rows and the
                 * length of their part outside the basis, original order */
  int *list;    /* nb / 16 + 8: candidate B rows of one A row */
  double *s;    /* TOME_PROJ_K x d: sampled rows, then the basis */
  float *q;     /* TOME_PROJ_K x d: the basis in float */
  int *hard;    /* na: rows scored densely */
  float *g;     /* g_rows x d: those rows gathered */
  int g_rows;
  int parts;    /* threads for pruned scoring: 1, or 2 (see blas_single) */
  /* the second thread's c, list and g (pruned scoring in two parts) */
  float *c2;
  int *list2;
  float *g2;
} Work;

/* One block kept between calls (under a lock): repeated runs (a slider, a
 * benchmark) reuse warm pages instead of faulting in fresh ones, which at
 * 2304 tokens costs more than the arithmetic. Blocks over TOME_KEEP_MAX are
 * freed after use; a concurrent call simply allocates its own. */
#define TOME_KEEP_MAX ((gsize) 64 << 20)
G_LOCK_DEFINE_STATIC (kept);
static char *kept_block;
static gsize kept_size;

static char *
scratch_take (gsize size, gsize *got)
{
  char *block = NULL;

  G_LOCK (kept);
  if (kept_block != NULL && kept_size >= size)
    {
      block = kept_block;
      *got = kept_size;
      kept_block = NULL;
      kept_size = 0;
    }
  G_UNLOCK (kept);
  if (block == NULL)
    {
      block = g_try_malloc (size);
      *got = size;
    }
  return block;
}

static void
scratch_give (char *block, gsize size)
{
  char *drop = block;

  G_LOCK (kept);
  if (size <= TOME_KEEP_MAX && size > kept_size)
    {
      drop = kept_block;
      kept_block = block;
      kept_size = size;
    }
  G_UNLOCK (kept);
  g_free (drop);
}

static void
work_clear (Work *w)
{
  if (w->block != NULL)
    scratch_give (w->block, w->size);
  w->block = NULL;
}

static gboolean
out_of_memory (int n, int d, GError **error)
{
  g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "out of memory for ToMe on %d tokens of %d values", n, d);
  return FALSE;
}

static int
block_rows (int na, int nb)
{
  return MAX (1, MIN (na, MAX (TOME_BLOCK_MIN_ROWS, (int) (TOME_BLOCK_FLOATS / (gsize) MAX (nb, 1)))));
}

static gboolean
prunable (int na, int nb, int d)
{
  return na >= TOME_PRUNE_MIN && nb >= TOME_PRUNE_MIN && d >= TOME_PRUNE_MIN;
}

/* Reserves @bytes at *@at (64-byte aligned), returns the offset. */
static gsize
place (gsize *at, gsize bytes)
{
  gsize offset = *at;

  *at += (bytes + 63) / 64 * 64;
  return offset;
}

/* Buffers for a step on @n tokens. */
static gboolean
work_init (Work *w, int n, int d, GError **error)
{
  int na = (n + 1) / 2, nb = MAX (n / 2, 1);
  gboolean prune = prunable (na, nb, d);
  /* Dense steps after pruned ones have fewer than 2 TOME_PRUNE_MIN tokens.
   * A pruned step's block has at most max(first block, 513) rows: beyond
   * the first, na nb <= TOME_BLOCK_FLOATS whenever block = na. */
  int n_dense = prune ? MIN (n, 2 * TOME_PRUNE_MIN) : n;
  gsize at = 0, o_c, o_edges, o_best, o_ab, o_inv = 0, o_list = 0, o_p = 0, o_s = 0, o_q = 0, o_hard = 0, o_g = 0,
        o_c2 = 0, o_list2 = 0, o_g2 = 0, fd = sizeof (float) * d,
        c_floats = MAX ((gsize) TOME_BLOCK_FLOATS, (gsize) TOME_BLOCK_MIN_ROWS * nb);

  memset (w, 0, sizeof *w);
  w->n = n;
  w->d = d;
  w->g_rows = prune ? MIN (na, MAX (block_rows (na, nb), 513)) : 0;
  /* enough for every later, smaller step too: block rows * nb <= max(block floats, 64 nb) */
  o_c = place (&at, sizeof (float) * c_floats);
  o_edges = place (&at, sizeof (Edge) * na);
  o_best = place (&at, sizeof (int) * na);
  o_ab = place (&at, fd * n_dense);
  if (prune)
    {
      o_inv = place (&at, sizeof (float) * n);
      o_list = place (&at, sizeof (int) * (nb / 16 + 8));
      o_p = place (&at, sizeof (float) * n * (TOME_PROJ_K + 1));
      o_s = place (&at, sizeof (double) * TOME_PROJ_K * d);
      o_q = place (&at, sizeof (float) * TOME_PROJ_K * d);
      o_hard = place (&at, sizeof (int) * na);
      o_g = place (&at, fd * w->g_rows);
      o_c2 = place (&at, sizeof (float) * c_floats);
      o_list2 = place (&at, sizeof (int) * (nb / 16 + 8));
      o_g2 = place (&at, fd * w->g_rows);
    }
  w->block = scratch_take (at, &w->size);
  if (w->block == NULL)
    return out_of_memory (n, d, error);
  w->c = (float *) (w->block + o_c);
  w->edges = (Edge *) (w->block + o_edges);
  w->best = (int *) (w->block + o_best);
  w->ab = (float *) (w->block + o_ab);
  if (prune)
    {
      w->inv = (float *) (w->block + o_inv);
      w->list = (int *) (w->block + o_list);
      w->p = (float *) (w->block + o_p);
      w->s = (double *) (w->block + o_s);
      w->q = (float *) (w->block + o_q);
      w->hard = (int *) (w->block + o_hard);
      w->g = (float *) (w->block + o_g);
      w->c2 = (float *) (w->block + o_c2);
      w->list2 = (int *) (w->block + o_list2);
      w->g2 = (float *) (w->block + o_g2);
    }
  return TRUE;
}

/* The index of the largest of @v[from..n) (the first on ties), @from when
 * none is larger than -inf (all NaN); the value in @max. The maximum is
 * found with eight independent running maxima, then its first position. */
static int
argmax (const float *v, int from, int n, float *max)
{
  float m[8] = { -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY }, s;
  int j = from;

  for (; j + 8 <= n; j += 8)
    for (int t = 0; t < 8; t++)
      m[t] = v[j + t] > m[t] ? v[j + t] : m[t];
  for (; j < n; j++)
    m[0] = v[j] > m[0] ? v[j] : m[0];
  s = MAX (MAX (MAX (m[0], m[1]), MAX (m[2], m[3])), MAX (MAX (m[4], m[5]), MAX (m[6], m[7])));
  *max = s;
  if (s == -INFINITY)
    return from;
  for (j = from; v[j] != s; j++)
    ;
  return j;
}

/* Appends to @list the j in [from, n), other than @skip, with @v[j] >= @thr,
 * stopping after @limit + 1 of them; returns how many. */
static int
collect (const float *v, int from, int n, float thr, int skip, int *list, int limit)
{
  int count = 0, j = from;

  for (; j + 8 <= n && count <= limit; j += 8)
    if ((v[j] >= thr) | (v[j + 1] >= thr) | (v[j + 2] >= thr) | (v[j + 3] >= thr) | (v[j + 4] >= thr) |
        (v[j + 5] >= thr) | (v[j + 6] >= thr) | (v[j + 7] >= thr))
      for (int t = j; t < j + 8; t++)
        if (v[t] >= thr && t != skip)
          list[count++] = t;
  for (; j < n && count <= limit; j++)
    if (v[j] >= thr && j != skip)
      list[count++] = j;
  return count;
}

/* For every A row (even rows of @x), its best B row (odd rows), skipping
 * the first @b_skip, and the cosine, by blocked A x B^T of the unit rows. */
static gboolean
best_partners_dense (Work *w, const float *x, int n, int d, int b_skip, GCancellable *cancellable, GError **error)
{
  int na = (n + 1) / 2, nb = n / 2, block = block_rows (na, nb);
  const float *a, *b;

  /* A = even rows, B = odd rows, each unit length and contiguous */
  for (int i = 0; i < n; i++)
    {
      const float *src = x + (gsize) i * d;
      float *dst = w->ab + (gsize) (i % 2 ? na + i / 2 : i / 2) * d, inv = inv_norm (src, d);
      for (int j = 0; j < d; j++)
        dst[j] = src[j] * inv;
    }
  a = w->ab;
  b = w->ab + (gsize) na * d;
  for (int i0 = 0; i0 < na; i0 += block)
    {
      int m = MIN (block, na - i0);
      if (ts_check_cancelled (cancellable, error))
        return FALSE;
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, nb, d, 1.0f, a + (gsize) i0 * d, d, b, d, 0.0f,
                   w->c, nb);
      for (int i = 0; i < m; i++)
        {
          float s;
          w->best[i0 + i] = argmax (w->c + (gsize) i * nb, b_skip, nb, &s);
          w->edges[i0 + i] = (Edge){ s, i0 + i };
        }
    }
  return TRUE;
}

/* An orthonormal basis (rows of w->q; returns how many, <= TOME_PROJ_K) of
 * the span of up to TOME_PROJ_K evenly spread rows of @x: Cholesky QR in
 * double, leaving out each row within 1% (in length) of the span of the
 * rows kept before it, so the basis stays orthonormal to double rounding. */
static int
build_basis (Work *w, const float *x, int n, int d)
{
  enum { K = TOME_PROJ_K };
  double g[K * K], l[K * K] = { 0 }, lt[K];
  int k0 = MIN (K, n), kept = 0, keep[K];

  for (int t = 0; t < k0; t++)
    {
      const float *src = x + (gsize) ((2 * (gsize) t + 1) * n / (2 * k0)) * d;
      for (int j = 0; j < d; j++)
        w->s[(gsize) t * d + j] = src[j];
    }
  cblas_dsyrk (CblasRowMajor, CblasLower, CblasNoTrans, k0, d, 1.0, w->s, d, 0.0, g, k0);
  for (int t = 0; t < k0; t++)
    {
      double piv = g[t * k0 + t];
      for (int u = 0; u < kept; u++)
        {
          double v = g[t * k0 + keep[u]];
          for (int m = 0; m < u; m++)
            v -= lt[m] * l[u * K + m];
          lt[u] = v / l[u * K + u];
          piv -= lt[u] * lt[u];
        }
      if (!(piv > 1e-4 * g[t * k0 + t]))
        continue;
      for (int m = 0; m < kept; m++)
        l[kept * K + m] = lt[m];
      l[kept * K + kept] = sqrt (piv);
      keep[kept++] = t;
    }
  if (kept == 0)
    return 0;
  for (int u = 0; u < kept; u++)
    if (keep[u] != u)
      memcpy (w->s + (gsize) u * d, w->s + (gsize) keep[u] * d, sizeof (double) * d);
  /* the kept rows are S = L Q with Q orthonormal: Q = L^-1 S */
  cblas_dtrsm (CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, kept, d, 1.0, l, K, w->s, d);
  for (gsize i = 0; i < (gsize) kept * d; i++)
    w->q[i] = (float) w->s[i];
  return kept;
}

/* best_partners_dense's result without most of A x B^T. With Q the basis,
 * every unit row u = Q^T (Q u) + r, r orthogonal to the basis, so
 *   a . b = (Qa) . (Qb) + r_a . r_b <= (Qa, |r_a|) . (Qb, |r_b|),
 * an upper bound from (k + 1)-long rows instead of d-long ones, all of them
 * by one small sgemm per block. For each A row the exact cosine (cblas_sdot
 * of the rows, times the inverse norms) is taken first for the B row of the
 * highest bound, then only for the B rows whose bound reaches the best
 * cosine so far less a slack for float rounding; usually a handful. A row
 * with more than nb / 16 such B rows (near-duplicates) goes through the
 * dense sgemm, and so does the rest of a step once a block had more than
 * half of such rows. The partner is the argmax (lowest B on ties) as in the dense
 * path, up to the rounding of the dot products themselves (the dense path's
 * is of the same order). */
/* One pruned scoring, shared by the parts that run it (one, or two threads
 * while OpenBLAS is allowed two: each part takes rows or blocks of its own,
 * with OpenBLAS single-threaded inside, so the results do not depend on the
 * split). */
typedef struct {
  Work *w;
  const float *x;
  int n, d, k, kk, na, nb, block, b_skip, limit, n_blocks, parts;
  float slack;
  double rho_eps;
  int *block_hard;      /* per block: how many of its rows went to the dense pass */
  int first_full;       /* the first block most of whose rows did (G_MAXINT: none); atomic */
  int n_hard;
  GCancellable *cancellable;
  int cancelled;        /* atomic */
} Pruned;

/* p: row i = (Q u_i, |r_i|), rows in the original order, and 1 / |row|. */
static void
project_part (Pruned *pr, int part)
{
  Work *w = pr->w;
  int n = pr->n, d = pr->d, k = pr->k, kk = pr->kk, na = pr->na;
  int r0 = (int) ((gint64) n * part / pr->parts), r1 = (int) ((gint64) n * (part + 1) / pr->parts);

  if (r1 <= r0)
    return;
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, k, d, 1.0f, pr->x + (gsize) r0 * d, d, w->q, d,
               0.0f, w->p + (gsize) r0 * kk, kk);
  for (int i = r0; i < r1; i++)
    {
      float *p = w->p + (gsize) i * kk, inv = inv_norm (pr->x + (gsize) i * d, d);
      double s = 0;
      for (int t = 0; t < k; t++)
        {
          p[t] *= inv;
          s += (double) p[t] * p[t];
        }
      p[k] = (float) sqrt (MAX (0.0, 1.0 - s) + pr->rho_eps);
      w->inv[i % 2 ? na + i / 2 : i / 2] = inv;
    }
}

/* The blocks part, part + parts, ...: bounds, then exact cosines of the
 * candidates; rows with too many candidates are listed in w->hard at their
 * block's first row. */
static void
blocks_part (Pruned *pr, int part)
{
  Work *w = pr->w;
  const float *x = pr->x, *b = pr->x + pr->d, *inv_a = w->inv, *inv_b = w->inv + pr->na;
  float *c = part ? w->c2 : w->c;
  int *list = part ? w->list2 : w->list;
  int d = pr->d, nb = pr->nb, kk = pr->kk, b_skip = pr->b_skip, limit = pr->limit;

  for (int bi = part; bi < pr->n_blocks; bi += pr->parts)
    {
      int i0 = bi * pr->block, m = MIN (pr->block, pr->na - i0), n_hard = 0;
      /* blocks after one that went mostly dense are scored densely anyway */
      if (bi > g_atomic_int_get (&pr->first_full) || g_atomic_int_get (&pr->cancelled))
        break;
      if (g_cancellable_is_cancelled (pr->cancellable))
        {
          g_atomic_int_set (&pr->cancelled, 1);
          break;
        }
      /* bounds: A = even rows of p, B = odd rows */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, nb, kk, 1.0f, w->p + (gsize) 2 * i0 * kk, 2 * kk,
                   w->p + kk, 2 * kk, 0.0f, c, nb);
      for (int i = 0; i < m; i++)
        {
          const float *ub = c + (gsize) i * nb, *xa = x + (gsize) 2 * (i0 + i) * d;
          float best = -INFINITY, thr, top;
          int j_top = argmax (ub, b_skip, nb, &top), arg = b_skip, count = 0;

          if (top > -INFINITY)
            {
              best = cblas_sdot (d, xa, 1, b + (gsize) 2 * j_top * d, 1) * inv_b[j_top];
              arg = j_top;
              if (!(best > -INFINITY))
                best = -INFINITY, arg = b_skip;
            }
          /* the threshold is a unit cosine; best is in units of |a| */
          thr = best * inv_a[i0 + i] - pr->slack;
          count = collect (ub, b_skip, nb, thr, j_top, list, limit);
          if (count > limit)
            {
              w->hard[i0 + n_hard++] = i0 + i;
              continue;
            }
          for (int e = 0; e < count; e++)
            {
              int j = list[e];
              float s;
              if (ub[j] < thr)
                continue;
              s = cblas_sdot (d, xa, 1, b + (gsize) 2 * j * d, 1) * inv_b[j];
              if (s > best || (s == best && j < arg))
                {
                  best = s, arg = j;
                  thr = MAX (thr, best * inv_a[i0 + i] - pr->slack);
                }
            }
          w->best[i0 + i] = arg;
          w->edges[i0 + i] = (Edge){ best * inv_a[i0 + i], i0 + i };
        }
      pr->block_hard[bi] = n_hard;
      /* Bounds that leave most rows of a block to the dense sgemm (features
       * without a few dominant directions, noise) are not worth computing:
       * the rest of the step goes dense. */
      if (n_hard > m / 2)
        {
          int was = g_atomic_int_get (&pr->first_full);
          while (bi < was && !g_atomic_int_compare_and_exchange (&pr->first_full, was, bi))
            was = g_atomic_int_get (&pr->first_full);
          break;
        }
    }
}

/* The dense rows, in chunks: chunks part, part + parts, ... */
static void
hard_part (Pruned *pr, int part)
{
  Work *w = pr->w;
  const float *b = pr->x + pr->d, *inv_a = w->inv, *inv_b = w->inv + pr->na;
  float *c = part ? w->c2 : w->c, *g = part ? w->g2 : w->g;
  int d = pr->d, nb = pr->nb, b_skip = pr->b_skip;

  /* chunks of a block's rows at most, and one per part at least */
  int chunk = MIN (pr->block, (pr->n_hard + pr->parts - 1) / pr->parts);

  for (int h0 = part * chunk; h0 < pr->n_hard; h0 += pr->parts * chunk)
    {
      int m = MIN (chunk, pr->n_hard - h0);
      if (g_cancellable_is_cancelled (pr->cancellable))
        {
          g_atomic_int_set (&pr->cancelled, 1);
          return;
        }
      for (int h = 0; h < m; h++)
        memcpy (g + (gsize) h * d, pr->x + (gsize) 2 * w->hard[h0 + h] * d, sizeof (float) * d);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, nb, d, 1.0f, g, d, b, 2 * d, 0.0f, c, nb);
      for (int h = 0; h < m; h++)
        {
          float *ch = c + (gsize) h * nb, s;
          int i = w->hard[h0 + h];
          for (int j = b_skip; j < nb; j++)
            ch[j] *= inv_b[j];
          w->best[i] = argmax (ch, b_skip, nb, &s);
          w->edges[i] = (Edge){ s * inv_a[i], i };
        }
    }
}

typedef struct {
  void (*func) (Pruned *pr, int part);
  Pruned *pr;
} PartCall;

static gpointer
part_thread (gpointer data)
{
  PartCall *call = data;

  call->func (call->pr, 1);
  return NULL;
}

/* @func on every part: part 1 in a thread of its own when there are two. */
static void
run_parts (Pruned *pr, void (*func) (Pruned *pr, int part))
{
  PartCall call = { func, pr };
  GThread *thread = NULL;

  if (pr->parts > 1)
    thread = g_thread_new ("tome-part", part_thread, &call);
  func (pr, 0);
  if (thread != NULL)
    g_thread_join (thread);
}

/* best_partners_dense's result without most of A x B^T. With Q the basis,
 * every unit row u = Q^T (Q u) + r, r orthogonal to the basis, so
 *   a . b = (Qa) . (Qb) + r_a . r_b <= (Qa, |r_a|) . (Qb, |r_b|),
 * an upper bound from (k + 1)-long rows instead of d-long ones, all of them
 * by one small sgemm per block. For each A row the exact cosine (cblas_sdot
 * of the rows, times the inverse norms) is taken first for the B row of the
 * highest bound, then only for the B rows whose bound reaches the best
 * cosine so far less a slack for float rounding; usually a handful. A row
 * with more than nb / 16 such B rows (near-duplicates) goes through the
 * dense sgemm, and so does the rest of a step once a block had more than
 * half of such rows. The partner is the argmax (lowest B on ties) as in the dense
 * path, up to the rounding of the dot products themselves (the dense path's
 * is of the same order). While OpenBLAS may use more than one thread, the
 * rows and blocks are split over two threads instead, each with OpenBLAS
 * single-threaded (its own threading gains little on these shapes), with the
 * same result. */
static gboolean
best_partners_pruned (Work *w, const float *x, int n, int d, int b_skip, GCancellable *cancellable, GError **error)
{
  Pruned pr = { 0 };
  g_autofree int *block_hard = NULL;

  pr.w = w;
  pr.x = x;
  pr.n = n;
  pr.d = d;
  pr.na = (n + 1) / 2;
  pr.nb = n / 2;
  pr.block = block_rows (pr.na, pr.nb);
  pr.limit = pr.nb / 16;
  pr.b_skip = b_skip;
  /* A d-term float dot product of unit rows rounds by less than d 2^-24; the
   * projections round by about sqrt(k d) 2^-24 (Higham and Mary's
   * probabilistic bound), 8 times that is added to |r|^2 = 1 - |Qu|^2 (8e-5
   * at d 588, 40 times the largest error measured on a photo), and is far
   * below the 1e-4 added to the scores. */
  pr.slack = 1e-4f + d * 0x1p-24f;
  pr.rho_eps = 8.0 * sqrt ((double) TOME_PROJ_K * d) * 0x1p-24;
  pr.first_full = G_MAXINT;
  pr.cancellable = cancellable;
  pr.k = build_basis (w, x, n, d);
  if (pr.k == 0)
    return best_partners_dense (w, x, n, d, b_skip, cancellable, error);
  pr.kk = pr.k + 1;
  pr.n_blocks = (pr.na + pr.block - 1) / pr.block;
  pr.block_hard = block_hard = g_new0 (int, pr.n_blocks);
  g_assert (pr.block <= w->g_rows);
  pr.parts = w->parts > 1 && pr.n_blocks > 1 ? 2 : 1;

  run_parts (&pr, project_part);
  run_parts (&pr, blocks_part);
  /* the dense rows in block order: each block's own, then every row after
   * the first block that went mostly dense */
  for (int bi = 0; bi < pr.n_blocks && !pr.cancelled; bi++)
    {
      int i0 = bi * pr.block, m = MIN (pr.block, pr.na - i0);
      if (bi > pr.first_full)
        {
          for (int i = i0; i < i0 + m; i++)
            w->hard[pr.n_hard++] = i;
          continue;
        }
      memmove (w->hard + pr.n_hard, w->hard + i0, sizeof (int) * block_hard[bi]);
      pr.n_hard += block_hard[bi];
    }
  if (!pr.cancelled)
    run_parts (&pr, hard_part);
  if (pr.cancelled || g_cancellable_is_cancelled (cancellable))
    return !ts_check_cancelled (cancellable, error);
  return TRUE;
}

/* Scores a step on @n rows of @x: every A row's best B partner (w->best)
 * and the A rows ranked by that score (w->edges, protected rows last). */
static gboolean
score (Work *w, const float *x, int n, int d, int n_protected, GCancellable *cancellable, GError **error)
{
  int na = (n + 1) / 2, nb = n / 2, a_skip = (n_protected + 1) / 2;
  gboolean ok;

  /* protected A rows: positions 0, 2, ... < n_protected; B: 1, 3, ... */
  ok = prunable (na, nb, d) ? best_partners_pruned (w, x, n, d, n_protected / 2, cancellable, error)
                            : best_partners_dense (w, x, n, d, n_protected / 2, cancellable, error);
  if (!ok)
    return FALSE;
  for (int i = 0; i < na; i++)
    if (i < a_skip || isnan (w->edges[i].score))
      w->edges[i].score = -INFINITY;
  qsort (w->edges, na, sizeof (Edge), edge_cmp);
  return TRUE;
}

/* The first @r ranked edges as a step: @dst[i] is the row row i merges into
 * (itself when it stays). */
static void
edges_to_dst (const Edge *edges, const int *best, int n, int r, int *dst)
{
  for (int i = 0; i < n; i++)
    dst[i] = i;
  for (int e = 0; e < r; e++)
    {
      int i = edges[e].index;
      dst[2 * i] = 2 * best[i] + 1;
    }
}

/* While OpenBLAS may use several threads, ToMe's own work runs with it
 * single-threaded and splits pruned steps over two threads of its own
 * (OpenBLAS's threading gains little on these shapes, and its idle threads
 * spin on the cores ours need). Returns the setting to give back. */
static int
blas_single (int *parts)
{
  int threads = openblas_get_num_threads ();

  *parts = threads > 1 ? 2 : 1;
  if (threads > 1)
    openblas_set_num_threads (1);
  return threads;
}

static void
blas_restore (int threads)
{
  if (threads > 1)
    openblas_set_num_threads (threads);
}

int
ts_tome_match (const float *x, int n, int d, int r, int n_protected, int *dst, GCancellable *cancellable,
               GError **error)
{
  Work w;
  gboolean ok;
  int blas;

  if (x == NULL || dst == NULL || n < 1 || d < 1 || r < 0 || n_protected < 0 || n_protected > n)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "ToMe matching needs n >= 1 tokens of d >= 1 values, r >= 0 and 0..n protected tokens "
                   "(got n %d, d %d, r %d, protected %d)", n, d, r, n_protected);
      return -1;
    }
  r = MIN (r, (n - n_protected) / 2);
  if (r <= 0)
    {
      for (int i = 0; i < n; i++)
        dst[i] = i;
      return 0;
    }
  if (!work_init (&w, n, d, error))
    return -1;
  blas = blas_single (&w.parts);
  ok = score (&w, x, n, d, n_protected, cancellable, error);
  blas_restore (blas);
  if (ok)
    edges_to_dst (w.edges, w.best, n, r, dst);
  work_clear (&w);
  return ok ? r : -1;
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

/* The rows of @src after a step, in the order of @order (m survivors), into
 * @out: a row that received merges becomes the size-weighted mean (scaled
 * by its size, the sources added in index order, divided by the new size);
 * @size holds the sizes before the step, @new_size after. */
static void
merge_rows (const float *src, int n, int d, const int *dst, const int *size, const int *new_size,
            const Order *order, int m, const int *rank, float *out)
{
  for (int k = 0; k < m; k++)
    {
      int b = order[k].index;
      const float *x = src + (gsize) b * d;
      float *y = out + (gsize) k * d, s = (float) size[b];
      if (new_size[b] == size[b])
        memcpy (y, x, sizeof (float) * d);
      else
        for (int j = 0; j < d; j++)
          y[j] = x[j] * s;
    }
  for (int i = 0; i < n; i++)
    if (dst[i] != i)
      cblas_saxpy (d, (float) size[i], src + (gsize) i * d, 1, out + (gsize) rank[dst[i]] * d, 1);
  for (int k = 0; k < m; k++)
    {
      int b = order[k].index;
      if (new_size[b] != size[b])
        cblas_sscal (d, 1.0f / new_size[b], out + (gsize) k * d, 1);
    }
}

/* ---------------------------------------------------------------- the chain
 *
 * Whatever the target, the steps are the same up to the last one: a step on
 * n tokens merges min(r_full, n - target) tokens, r_full = min(r or
 * infinity, (n - protected) / 2), always the best-ranked edges of the same
 * scoring. So a chain keeps each state's ranking once scored, and a target
 * takes the full steps while n - target >= r_full, then the first
 * n - target edges of the next state's ranking. The state after a full step
 * is only bookkeeping (sizes, smallest patches, where each token goes); the
 * merged features are kept for the deepest state reached while they are
 * small, and otherwise rebuilt from the scene's when a deeper state is
 * scored. */

typedef struct {
  int n;       /* tokens */
  int *size;   /* n: patches per token */
  int *minp;   /* n: smallest patch per token (tokens are in this order) */
  int r_full;  /* what a full step merges here; -1 until scored */
  Edge *edges; /* (n + 1) / 2, ranked */
  int *best;   /* (n + 1) / 2 */
  int *map;    /* n: each token's position after the full step, once taken */
} State;

/* Chain features kept between cuts up to this size. */
#define TOME_CHAIN_KEEP_FLOATS ((gsize) 8 << 20)

struct _TsTomeChain {
  const TsScene *scene;
  int r, n_protected;
  GMutex lock;
  GPtrArray *states;
  /* the merged features of state feat_state (NULL: only the scene's, state 0) */
  float *feat;
  int feat_state;
  gsize keep_floats;  /* feat kept between cuts up to this size */
  int parts;          /* during a cut: threads for pruned scoring */
};

static void
state_free (gpointer data)
{
  State *st = data;

  g_free (st->size);
  g_free (st->minp);
  g_free (st->edges);
  g_free (st->best);
  g_free (st->map);
  g_free (st);
}

TsTomeChain *
ts_tome_chain_new (const TsScene *scene, int r, int n_protected)
{
  TsTomeChain *chain = g_new0 (TsTomeChain, 1);
  int N = scene->grid.tokens;
  State *st = g_new0 (State, 1);

  chain->scene = scene;
  chain->r = MAX (r, 0);
  chain->n_protected = CLAMP (n_protected, 0, N);
  chain->keep_floats = TOME_CHAIN_KEEP_FLOATS;
  g_mutex_init (&chain->lock);
  chain->states = g_ptr_array_new_with_free_func (state_free);
  st->n = N;
  st->size = g_new (int, N);
  st->minp = g_new (int, N);
  st->r_full = -1;
  for (int i = 0; i < N; i++)
    st->size[i] = 1, st->minp[i] = i;
  g_ptr_array_add (chain->states, st);
  return chain;
}

void
ts_tome_chain_set_feature_cache (TsTomeChain *chain, gsize max_floats)
{
  g_mutex_lock (&chain->lock);
  chain->keep_floats = max_floats;
  g_mutex_unlock (&chain->lock);
}

void
ts_tome_chain_free (TsTomeChain *chain)
{
  if (chain == NULL)
    return;
  g_ptr_array_unref (chain->states);
  g_free (chain->feat);
  g_mutex_clear (&chain->lock);
  g_free (chain);
}

/* A step of @s edges from @st: the survivors in order of their smallest
 * patch (@order, m of them, returned) and each token's new position (@map);
 * @dst, @new_size as merge_rows takes them. */
static int
take_step (const State *st, int s, int *dst, int *new_size, Order *order, int *map)
{
  int n = st->n, m = 0;
  g_autofree int *minp = g_memdup2 (st->minp, sizeof (int) * n);

  edges_to_dst (st->edges, st->best, n, s, dst);
  memcpy (new_size, st->size, sizeof (int) * n);
  for (int i = 0; i < n; i++)
    if (dst[i] != i)
      {
        new_size[dst[i]] += st->size[i];
        minp[dst[i]] = MIN (minp[dst[i]], minp[i]);
      }
  for (int i = 0; i < n; i++)
    if (dst[i] == i)
      order[m++] = (Order){ minp[i], i };
  qsort (order, m, sizeof (Order), order_cmp);
  for (int k = 0; k < m; k++)
    map[order[k].index] = k;
  for (int i = 0; i < n; i++)
    if (dst[i] != i)
      map[i] = map[dst[i]];
  return m;
}

/* The features of state @k (from the deepest kept, or rebuilt from the
 * scene's by replaying the full steps): chain->feat, or the scene's. */
static const float *
features_of (TsTomeChain *chain, int k, GError **error)
{
  const TsFeatures *x = chain->scene->features;
  const float *cur;
  int from;

  if (k == 0)
    return x->data;
  if (chain->feat != NULL && chain->feat_state == k)
    return chain->feat;
  from = chain->feat != NULL && chain->feat_state < k ? chain->feat_state : 0;
  if (from == 0)
    g_clear_pointer (&chain->feat, g_free);
  cur = from > 0 ? chain->feat : x->data;
  chain->feat = NULL;
  for (int j = from; j < k; j++)
    {
      const State *st = g_ptr_array_index (chain->states, j);
      g_autofree int *dst = g_new (int, st->n);
      g_autofree int *new_size = g_new (int, st->n);
      g_autofree int *map = g_new (int, st->n);
      g_autofree Order *order = g_new (Order, st->n);
      float *out = g_try_new (float, (gsize) st->n * x->d);
      int m;

      if (out == NULL)
        {
          /* keep what was rebuilt so far */
          chain->feat = cur != x->data ? (float *) cur : NULL;
          chain->feat_state = j;
          out_of_memory (st->n, x->d, error);
          return NULL;
        }
      m = take_step (st, st->r_full, dst, new_size, order, map);
      merge_rows (cur, st->n, x->d, dst, st->size, new_size, order, m, map, out);
      if (cur != x->data)
        g_free ((float *) cur);
      cur = out;
    }
  chain->feat = (float *) cur;
  chain->feat_state = k;
  return cur;
}

/* Scores state @k (the deepest) if it is not yet. */
static gboolean
ensure_scored (TsTomeChain *chain, int k, GCancellable *cancellable, GError **error)
{
  State *st = g_ptr_array_index (chain->states, k);
  int n = st->n, d = chain->scene->features->d, na = (n + 1) / 2;
  const float *x;
  Work w;

  if (st->r_full >= 0)
    return TRUE;
  st->r_full = 0;
  if ((n - chain->n_protected) / 2 <= 0)
    return TRUE;
  x = features_of (chain, k, error);
  if (x == NULL || !work_init (&w, n, d, error))
    {
      st->r_full = -1;
      return FALSE;
    }
  w.parts = chain->parts;
  if (!score (&w, x, n, d, chain->n_protected, cancellable, error))
    {
      work_clear (&w);
      st->r_full = -1;
      return FALSE;
    }
  st->edges = g_memdup2 (w.edges, sizeof (Edge) * na);
  st->best = g_memdup2 (w.best, sizeof (int) * na);
  work_clear (&w);
  st->r_full = (n - chain->n_protected) / 2;
  if (chain->r > 0)
    st->r_full = MIN (st->r_full, chain->r);
  return TRUE;
}

/* Each patch's token after @s edges of state @k, through the full steps
 * before it: into @tok (N); returns the token count. */
static int
tokens_at (TsTomeChain *chain, int k, int s, int *tok)
{
  int N = chain->scene->grid.tokens, m;
  const State *st = g_ptr_array_index (chain->states, k);
  g_autofree int *dst = g_new (int, st->n);
  g_autofree int *new_size = g_new (int, st->n);
  g_autofree int *map = g_new (int, st->n);
  g_autofree Order *order = g_new (Order, st->n);

  for (int p = 0; p < N; p++)
    tok[p] = p;
  for (int j = 0; j < k; j++)
    {
      const State *sj = g_ptr_array_index (chain->states, j);
      for (int p = 0; p < N; p++)
        tok[p] = sj->map[tok[p]];
    }
  if (s <= 0)
    return st->n;
  m = take_step (st, s, dst, new_size, order, map);
  for (int p = 0; p < N; p++)
    tok[p] = map[tok[p]];
  return m;
}

/* Takes the full step of the deepest state @k: state k + 1. */
static void
extend (TsTomeChain *chain, int k)
{
  State *st = g_ptr_array_index (chain->states, k), *next = g_new0 (State, 1);
  int n = st->n;
  g_autofree int *dst = g_new (int, n);
  g_autofree int *new_size = g_new (int, n);
  g_autofree Order *order = g_new (Order, n);

  st->map = g_new (int, n);
  next->n = take_step (st, st->r_full, dst, new_size, order, st->map);
  next->size = g_new (int, next->n);
  next->minp = g_new (int, next->n);
  next->r_full = -1;
  for (int j = 0; j < next->n; j++)
    {
      next->size[j] = new_size[order[j].index];
      next->minp[j] = order[j].key;
    }
  g_ptr_array_add (chain->states, next);
}

TsAssignment *
ts_tome_chain_cut (TsTomeChain *chain, int target, GCancellable *cancellable, GError **error)
{
  const TsScene *scene = chain->scene;
  int N = scene->grid.tokens, d = scene->features->d, k = 0, s = 0, n, blas;
  g_autofree int *tok = g_new (int, N);
  TsAssignment *a;

  if (target < 1 || target > N)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "ToMe needs a target of 1..%d tokens (got %d)", N,
                   target);
      return NULL;
    }
  if (target < N && target <= chain->n_protected)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "ToMe cannot reach %d tokens when %d are protected: at least one other token remains",
                   target, chain->n_protected);
      return NULL;
    }
  g_mutex_lock (&chain->lock);
  blas = blas_single (&chain->parts);
  for (;;)
    {
      State *st = g_ptr_array_index (chain->states, k);
      if (st->n <= target)
        break;
      if (!ensure_scored (chain, k, cancellable, error))
        {
          blas_restore (blas);
          g_mutex_unlock (&chain->lock);
          return NULL;
        }
      if (st->r_full <= 0)
        break;                      /* nothing more can merge */
      if (st->n - target < st->r_full)
        {
          s = st->n - target;       /* the last, partial step */
          break;
        }
      if (st->map == NULL)
        extend (chain, k);
      k++;
    }
  blas_restore (blas);
  n = tokens_at (chain, k, s, tok);
  /* merged features kept only while small; a later, deeper cut rebuilds them */
  if (chain->feat != NULL
      && (gsize) ((State *) g_ptr_array_index (chain->states, chain->feat_state))->n * d > chain->keep_floats)
    g_clear_pointer (&chain->feat, g_free);
  g_mutex_unlock (&chain->lock);

  a = ts_assignment_new (N, n, d, error);
  if (a == NULL)
    return NULL;
  memcpy (a->groups, tok, sizeof (int) * N);
  ts_assignment_fill_group_means (a, scene->features);
  a->recon = TS_RECON_GROUP_MEAN;
  return a;
}

TsAssignment *
ts_tome (const TsScene *scene, int target, int r, int n_protected, GCancellable *cancellable, GError **error)
{
  int N = scene->grid.tokens;
  g_autoptr (TsTomeChain) chain = NULL;

  if (target < 1 || target > N || r < 0 || n_protected < 0 || n_protected > N)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "ToMe needs a target of 1..%d tokens, r >= 0 and 0..%d protected tokens "
                   "(got target %d, r %d, protected %d)", N, N, target, r, n_protected);
      return NULL;
    }
  chain = ts_tome_chain_new (scene, r, n_protected);
  return ts_tome_chain_cut (chain, target, cancellable, error);
}

typedef struct {
  int r, n_protected;
} ChainKey;

static gpointer
build_chain (const TsScene *scene, gpointer data)
{
  const ChainKey *key = data;

  return ts_tome_chain_new (scene, key->r, key->n_protected);
}

TsAssignment *
ts_tome_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable, GError **error)
{
  int N = scene->grid.tokens, target = ts_method_target (params, N);
  ChainKey key = { params->tome_r, params->n_protected };
  g_autofree char *name = NULL;
  TsTomeChain *chain;

  if (key.r < 0 || key.n_protected < 0 || key.n_protected > N)
    return ts_tome (scene, target, key.r, key.n_protected, cancellable, error); /* its message */
  /* every run on this scene with these options shares the scoring */
  name = g_strdup_printf ("tome r %d protected %d", key.r, key.n_protected);
  chain = ts_scene_memo (scene, name, build_chain, &key, (GDestroyNotify) ts_tome_chain_free);
  return ts_tome_chain_cut (chain, target, cancellable, error);
}
