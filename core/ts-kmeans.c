#include "ts-kmeans.h"
#include "ts-kmeans-private.h"
#include "ts-error.h"
#include "ts-simd.h"

#include <cblas.h>
#include <math.h>
#include <string.h>


/* Up to this many centres a block's dot products are computed directly: an
 * SGEMM would repack all of x for a handful of output columns (k-means++
 * seeding asks for 1 to 2 + ln k centres per step, n times over). */
#define DIRECT_MAX 8

/* Most floats of bounds ((n + 2k) x k, 64 MB) the bounded Lloyd keeps; beyond,
 * every assignment is a full distance pass. */
#define BOUNDS_MAX (1 << 24)

/* Bounds are moved outward by 2 units in the last place at every update, more
 * than the rounding of the update itself. */
#define BOUND_UP (1.0f + 0x1p-22f)
#define BOUND_DOWN (1.0f - 0x1p-22f)

/* Rows per distance block: at most 32 MB of distances, and few enough SGEMM calls
 * that packing the centroids does not dominate. */
static int
block_rows (int k)
{
  return CLAMP ((1 << 23) / MAX (k, 1), 64, 8192);
}

/* Squared norms, summed in double over 8 lanes (so that it vectorises) and
 * rounded to float. */
TS_CLONES static void
row_norms (const float *restrict x, int n, int d, float *restrict out)
{
  for (int i = 0; i < n; i++)
    {
      const float *r = x + (gsize) i * d;
      double lane[8] = { 0 }, s = 0;
      int j = 0;
      for (; j + 8 <= d; j += 8)
        for (int t = 0; t < 8; t++)
          lane[t] += (double) r[j + t] * r[j + t];
      for (; j < d; j++)
        s += (double) r[j] * r[j];
      for (int t = 0; t < 8; t++)
        s += lane[t];
      out[i] = (float) s;
    }
}

/* out (m x k) = -2 x.c for k <= DIRECT_MAX centres and the rows x + idx[p] d
 * (@idx NULL: rows 0 to m - 1): one pass over the rows, four at a time. Each
 * dot is summed exactly as ts_dot_lanes sums it (16 lanes, the tail, then the
 * lanes in order), the same bits, but four chains of multiply-adds overlap. */
TS_CLONES static void
direct_dots (const float *restrict x, const int *restrict idx, int m, int d, const float *restrict c, int k,
             float *restrict out)
{
  int p = 0;

  for (; p + 4 <= m; p += 4)
    {
      const float *r[4];
      for (int q = 0; q < 4; q++)
        r[q] = x + (gsize) (idx ? idx[p + q] : p + q) * d;
      for (int j = 0; j < k; j++)
        {
          const float *cj = c + (gsize) j * d;
          float l0[16] = { 0 }, l1[16] = { 0 }, l2[16] = { 0 }, l3[16] = { 0 }, s[4] = { 0 };
          int t = 0;
          for (; t + 16 <= d; t += 16)
            for (int u = 0; u < 16; u++)
              {
                l0[u] += r[0][t + u] * cj[t + u];
                l1[u] += r[1][t + u] * cj[t + u];
                l2[u] += r[2][t + u] * cj[t + u];
                l3[u] += r[3][t + u] * cj[t + u];
              }
          for (; t < d; t++)
            for (int q = 0; q < 4; q++)
              s[q] += r[q][t] * cj[t];
          for (int u = 0; u < 16; u++)
            {
              s[0] += l0[u];
              s[1] += l1[u];
              s[2] += l2[u];
              s[3] += l3[u];
            }
          for (int q = 0; q < 4; q++)
            out[(gsize) (p + q) * k + j] = -2.0f * s[q];
        }
    }
  for (; p < m; p++)
    {
      const float *r = x + (gsize) (idx ? idx[p] : p) * d;
      for (int j = 0; j < k; j++)
        out[(gsize) p * k + j] = -2.0f * ts_dot_lanes (r, c + (gsize) j * d, d);
    }
}

/* o[0..k) = -2 x.c + ||x||^2 (@r) + ||c||^2: squared distances of one row. */
TS_CLONES static void
add_norms (float *restrict o, float r, const float *restrict cn, int k)
{
  int j = 0;

  /* Below float resolution of the norms the expansion is only rounding noise
   * (different SGEMM paths round differently): a row on its centre is at 0.
   * Lanes of 16 so that the loop vectorises (each value computed alone). */
  for (; j + 16 <= k; j += 16)
    for (int t = 0; t < 16; t++)
      {
        float v = o[j + t] + r + cn[j + t];
        o[j + t] = v > 1e-6f * (r + cn[j + t]) ? v : 0.0f;
      }
  for (; j < k; j++)
    {
      float v = o[j] + r + cn[j];
      o[j] = v > 1e-6f * (r + cn[j]) ? v : 0.0f;
    }
}

/* out (nb x k) = squared distances of rows x[0..nb) to the k centres c. */
static void
block_dist (const float *x, const float *xn, int nb, int d, const float *c, const float *cn, int k,
            float *out)
{
  if (k <= DIRECT_MAX)
    direct_dots (x, NULL, nb, d, c, k, out);
  else
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, nb, k, d, -2.0f, x, d, c, d, 0.0f, out, k);
  for (int i = 0; i < nb; i++)
    add_norms (out + (gsize) i * k, xn[i], cn, k);
}

/* Whether x[0..count) holds no NaN or infinity: x * 0 is NaN exactly for
 * those, and a NaN stays in a sum (16 lanes, so that it vectorises). */
TS_CLONES static gboolean
all_finite (const float *restrict x, gsize count)
{
  float lane[16] = { 0 }, s = 0;
  gsize i = 0;

  for (; i + 16 <= count; i += 16)
    for (int t = 0; t < 16; t++)
      lane[t] += x[i + t] * 0.0f;
  for (; i < count; i++)
    s += x[i] * 0.0f;
  for (int t = 0; t < 16; t++)
    s += lane[t];
  return s == 0;
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
  if (!all_finite (x, (gsize) n * d))
    for (gsize i = 0;; i++)
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
  float m = ts_min_lanes (o, k);
  int j = 0;

  while (o[j] != m)
    j++;
  return j;
}

/* A bound on the rounding of a squared distance ||x||^2 - 2 x.c + ||c||^2 as
 * block_dist computes it, relative to ||x||^2 + ||c||^2: d products summed in
 * any order (Higham's gamma_d, whatever SGEMM's order), the rounded norms and
 * two additions; plus the 1e-6 below which block_dist answers 0. */
static float
rounding (int d)
{
  return (float) ((1.01 * d + 8) * 0x1p-24 + 1e-6);
}

/* A lower bound on a distance whose square was computed as @v with rounding
 * at most @e, and an upper bound. */
static inline float
lower_bound (float v, float e)
{
  return v > e ? sqrtf (v - e) * BOUND_DOWN : 0.0f;
}

static inline float
upper_bound (float v, float e)
{
  return sqrtf (v + e) * BOUND_UP;
}

/* Elkan's bounds between Lloyd assignments (Elkan 2003, "Using the triangle
 * inequality to accelerate k-means"): a centre whose lower bound exceeds the
 * row's upper bound, or which lies more than twice that bound from the row's
 * centre, is farther than the row's centre and its distance is not computed.
 * Every bound is widened by the rounding of the distances it came from
 * (rounding ()), and a centre is skipped only when it is farther by more
 * than one such rounding (on squared distances), so never a tie. The centres
 * still in question are computed one dot product at a time and decided by
 * nearest (), as in the full pass: the same labels. */
typedef struct {
  int n, d, k;
  float coef;     /* rounding (d) */
  float cn_max;   /* largest centre squared norm */
  float *l;       /* n x k: lower bounds on each row's distance (not squared) to each centre */
  float *u;       /* n: upper bound on each row's distance to its labelled centre */
  float *cc;      /* k x k: lower bounds on the distances between centres */
  float *cn;      /* k: the centres' squared norms */
  float *drift;   /* k: upper bound on how far each centre moved since the last assignment */
  float *moved;   /* k x d: rows of the centres that moved */
  float *mn;      /* k: their squared norms */
  float *out;     /* k x k: their squared distances to every centre */
  int *which;     /* k: their indices */
  int *left;      /* n: how many centres besides its own each row's bounds leave in question */
  int *heavy;     /* n: the rows with many of those */
  int gather;     /* rows gathered for one SGEMM */
  float *rows;    /* gather x d: those rows */
  float *rows_n;  /* gather: their squared norms */
  float *rows_out; /* gather x k: their squared distances */
  int *need;      /* k: 1 for the centres a row's bounds leave in question */
  int *cand;      /* k: centres whose distance a row computed */
  float *cand_v;  /* k: those squared distances */
  gboolean valid;   /* l, u and cc hold for the labels and the centres less drift */
  gboolean recheck; /* the labels are not yet the nearest centres (bounds from seeding) */
  gboolean cc_valid; /* cc holds for the centres less drift */
} Bounds;

static void
bounds_free (Bounds *b)
{
  if (b == NULL)
    return;
  g_free (b->l);
  g_free (b->u);
  g_free (b->cc);
  g_free (b->cn);
  g_free (b->drift);
  g_free (b->moved);
  g_free (b->mn);
  g_free (b->out);
  g_free (b->which);
  g_free (b->left);
  g_free (b->heavy);
  g_free (b->rows);
  g_free (b->rows_n);
  g_free (b->rows_out);
  g_free (b->need);
  g_free (b->cand);
  g_free (b->cand_v);
  g_free (b);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Bounds, bounds_free)

/* NULL when the bounds would be too large (or memory is short): then every
 * assignment is a full pass. */
static Bounds *
bounds_new (int n, int d, int k)
{
  g_autoptr (Bounds) b = NULL;

  if (((gint64) n + 2 * (gint64) k) * k > BOUNDS_MAX)
    return NULL;
  b = g_new0 (Bounds, 1);
  b->n = n, b->d = d, b->k = k;
  b->coef = rounding (d);
  b->l = g_try_new (float, (gsize) n * k);
  b->u = g_try_new (float, n);
  b->cc = g_try_new (float, (gsize) k * k);
  b->cn = g_try_new (float, k);
  b->drift = g_try_new0 (float, k);
  b->moved = g_try_new (float, (gsize) k * d);
  b->mn = g_try_new (float, k);
  b->out = g_try_new (float, (gsize) k * k);
  b->which = g_try_new (int, k);
  b->left = g_try_new (int, n);
  b->heavy = g_try_new (int, n);
  b->gather = MIN (n, 256);
  b->rows = g_try_new (float, (gsize) b->gather * d);
  b->rows_n = g_try_new (float, b->gather);
  b->rows_out = g_try_new (float, (gsize) b->gather * k);
  b->need = g_try_new (int, k);
  b->cand = g_try_new (int, k);
  b->cand_v = g_try_new (float, k);
  if (b->l == NULL || b->u == NULL || b->cc == NULL || b->cn == NULL || b->drift == NULL || b->moved == NULL
      || b->mn == NULL || b->out == NULL || b->which == NULL || b->left == NULL || b->heavy == NULL
      || b->rows == NULL || b->rows_n == NULL || b->rows_out == NULL || b->need == NULL || b->cand == NULL || b->cand_v == NULL)
    return NULL;
  return g_steal_pointer (&b);
}

/* r[0..k) = lower bounds of the squared distances r[0..k) computed with rounding e. */
TS_CLONES static void
lower_bounds (float *restrict r, int k, float e)
{
  int j = 0;

  for (; j + 16 <= k; j += 16)
    for (int t = 0; t < 16; t++)
      r[j + t] = lower_bound (r[j + t], e);
  for (; j < k; j++)
    r[j] = lower_bound (r[j], e);
}

/* cc rows and columns of the @nm centres in b->which (every centre when nm is
 * k, or when cc is stale). */
static void
centre_dists (const float *centroids, Bounds *b, int nm)
{
  int k = b->k, d = b->d;

  if (nm * 4 > k || !b->cc_valid)
    {
      b->cc_valid = TRUE;
      block_dist (centroids, b->cn, k, d, centroids, b->cn, k, b->cc);
      for (int i = 0; i < k; i++)
        lower_bounds (b->cc + (gsize) i * k, k, b->coef * (b->cn[i] + b->cn_max));
      return;
    }
  for (int r = 0; r < nm; r++)
    {
      memcpy (b->moved + (gsize) r * d, centroids + (gsize) b->which[r] * d, sizeof (float) * d);
      b->mn[r] = b->cn[b->which[r]];
    }
  block_dist (b->moved, b->mn, nm, d, centroids, b->cn, k, b->out);
  for (int r = 0; r < nm; r++)
    {
      int m = b->which[r];
      float *o = b->out + (gsize) r * k;
      lower_bounds (o, k, b->coef * (b->cn[m] + b->cn_max));
      for (int j = 0; j < k; j++)
        b->cc[(gsize) m * k + j] = b->cc[(gsize) j * k + m] = o[j];
    }
}

/* Squared distance summed directly in double, in order: the arbiter between
 * centres whose computed distances lie within their rounding of each other,
 * and the distance of empty-cluster relocation. Seldom called; one summation
 * order on every path (no clones, whose fused multiply-adds would round
 * differently). */
static double
exact_dist2 (const float *r, const float *c, int d)
{
  double s = 0;

  for (int j = 0; j < d; j++)
    s += ((double) r[j] - c[j]) * ((double) r[j] - c[j]);
  return s;
}

/* How many of o[0..k) are at most @limit. */
TS_CLONES static int
count_within (const float *restrict o, int k, float limit)
{
  int lane[16] = { 0 }, count = 0, j = 0;

  for (; j + 16 <= k; j += 16)
    for (int t = 0; t < 16; t++)
      lane[t] += o[j + t] <= limit;
  for (; j < k; j++)
    count += o[j] <= limit;
  for (int t = 0; t < 16; t++)
    count += lane[t];
  return count;
}

/* The nearest of the centres idx[0..nc) (NULL: 0 to nc - 1) to row @r, given
 * its computed squared distances v[0..nc) (rounding at most @e each): the
 * smallest, unless others lie within 2e of it; then the nearest of those by
 * exact_dist2, ties to the lower index. The truly nearest centre is always
 * among them, so the answer does not depend on how the distances were
 * rounded (which SGEMM kernel, which rows together, which path). Returns a
 * position in the list. */
static int
nearest (const float *r, const float *centroids, int d, const int *idx, const float *v, int nc, float e)
{
  int best = first_min (v, nc), best_j = -1;
  float limit = (v[best] + 2 * e) * BOUND_UP;
  double bd = G_MAXDOUBLE;

  if (count_within (v, nc, limit) == 1)
    return best;
  for (int p = 0; p < nc; p++)
    if (v[p] <= limit)
      {
        int j = idx ? idx[p] : p;
        double s = exact_dist2 (r, centroids + (gsize) j * d, d);
        if (s < bd || (s == bd && j < best_j))
          bd = s, best = p, best_j = j;
      }
  return best;
}

/* Full distance pass: @labels and @dist2 (may be NULL: the computed squared
 * distance to the labelled centre) for the rows with squared norms @xn_given
 * (NULL: computed here). With @b the blocks are b->l, turned into fresh bounds. */
static gboolean
assign (const float *x, const float *xn_given, int n, int d, const float *centroids, int k, int *labels,
        float *dist2, Bounds *b, GCancellable *cancellable, GError **error)
{
  int bs = block_rows (k);
  float coef = rounding (d), cn_max = 0;
  g_autofree float *xn = NULL;
  g_autofree float *cn_own = NULL;
  g_autofree float *block_own = NULL;
  float *cn = b ? b->cn : (cn_own = g_new (float, k));
  float *block = b ? b->l : (block_own = g_try_new (float, (gsize) MIN (bs, n) * k));

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
  for (int c = 0; c < k; c++)
    cn_max = MAX (cn_max, cn[c]);
  for (int i0 = 0; i0 < n; i0 += bs)
    {
      int nb = MIN (bs, n - i0);
      float *out = b ? block + (gsize) i0 * k : block;
      if (ts_check_cancelled (cancellable, error))
        return FALSE;
      block_dist (x + (gsize) i0 * d, xn_given + i0, nb, d, centroids, cn, k, out);
      for (int i = i0; i < i0 + nb; i++)
        {
          float *o = out + (gsize) (i - i0) * k, e = coef * (xn_given[i] + cn_max);
          int best = nearest (x + (gsize) i * d, centroids, d, NULL, o, k, e);
          labels[i] = best;
          if (dist2)
            dist2[i] = o[best];
          if (b)
            {
              b->u[i] = upper_bound (o[best], e);
              lower_bounds (o, k, e);
            }
        }
    }
  if (b)
    {
      /* cc waits for the next bounded pass: after an update most centres
       * have usually moved, and it would be made again. */
      b->cn_max = cn_max;
      b->cc_valid = FALSE;
      memset (b->drift, 0, sizeof (float) * k);
      b->valid = TRUE;
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
  return assign (x, NULL, n, d, centroids, k, labels, dist2, NULL, cancellable, error);
}

/* s[0..d) += r[0..d) in double (lanes of 16: each sum in the same order). */
TS_CLONES static void
add_row (double *restrict s, const float *restrict r, int d)
{
  int j = 0;

  for (; j + 16 <= d; j += 16)
    for (int t = 0; t < 16; t++)
      s[j + t] += r[j + t];
  for (; j < d; j++)
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

/* out (cols x rows) = the transpose of a (rows x cols), in tiles of 16 x 16. */
static void
transpose (const float *restrict a, int rows, int cols, float *restrict out)
{
  for (int i0 = 0; i0 < rows; i0 += 16)
    for (int j0 = 0; j0 < cols; j0 += 16)
      {
        const float *t = a + (gsize) i0 * cols + j0;
        float *o = out + (gsize) j0 * rows + i0;
        if (i0 + 16 <= rows && j0 + 16 <= cols) /* a whole tile: fixed bounds, unrolled */
          for (int j = 0; j < 16; j++)
            for (int i = 0; i < 16; i++)
              o[(gsize) j * rows + i] = t[(gsize) i * cols + j];
        else
          for (int j = 0; j < MIN (16, cols - j0); j++)
            for (int i = 0; i < MIN (16, rows - i0); i++)
              o[(gsize) j * rows + i] = t[(gsize) i * cols + j];
      }
}

/* Twice an upper bound on a distance whose square was computed as @v with
 * rounding at most @e. A candidate at least this far (a lower bound) from a
 * row's nearest centre is, by the triangle inequality, farther from the row
 * than that centre by more than the rounding: its computed distance cannot be
 * below the row's closest one. */
static float
reach_of (float v, double e)
{
  return (float) (2 * sqrt (v + e) * (1 + 0x1p-20));
}

/* GRand seeded with the 64-bit @seed (both halves). */
static GRand *
seeded_rand (guint64 seed)
{
  guint32 words[2] = { (guint32) seed, (guint32) (seed >> 32) };

  return g_rand_new_with_seed_array (words, 2);
}

/* The lowest row not yet @chosen, now chosen: the next centre when every
 * remaining distance is 0. */
static int
lowest_unchosen (gboolean *chosen)
{
  int r = 0;

  while (chosen[r])
    r++;
  chosen[r] = TRUE;
  return r;
}

/* A k-means++ draw: the first row whose running sum of distances @cumsum
 * (n, positive total) exceeds a uniform draw times the total
 * (np.searchsorted, side left), moved down past rows whose distance is 0
 * (their running sum does not grow: a row already on a centre is never
 * drawn, whatever the rounding). */
static int
draw_row (GRand *rand, const double *cumsum, int n)
{
  double v = g_rand_double (rand) * cumsum[n - 1];
  int lo = 0, hi = n - 1;

  while (lo < hi)
    {
      int mid = (lo + hi) / 2;
      if (cumsum[mid] > v)
        hi = mid;
      else
        lo = mid + 1;
    }
  while (lo > 0 && cumsum[lo] == cumsum[lo - 1])
    lo--;
  return lo;
}

/* The row an empty cluster takes (sklearn's relocation): the farthest from
 * its centre (@dist2) of the rows not @used in clusters of more than one row,
 * ties to the lower row; -1 when every such row sits on its centre. */
static int
farthest_row (const int *labels, const int *sizes, const double *dist2, const gboolean *used, int n)
{
  int far = -1;

  for (int i = 0; i < n; i++)
    if (!used[i] && sizes[labels[i]] > 1 && dist2[i] > 0 && (far < 0 || dist2[i] > dist2[far]))
      far = i;
  return far;
}

/* Greedy k-means++ (sklearn's _kmeans_plusplus) into @centres.
 * With @prune (and up to DIRECT_MAX candidates, whose distances are per-row
 * dot products) a row skips a candidate when the triangle inequality through
 * the row's nearest centre shows the candidate farther than that centre by
 * more than the rounding of either distance: the full pass would keep the
 * row's closest distance there, and so does the pruned one, bit for bit. */
static gboolean
seed_plusplus (const float *x, const float *xn, int n, int d, int k, int trials, guint64 seed, gboolean prune,
               float *centres, Bounds *b, int *labels, GCancellable *cancellable, GError **error)
{
  g_autoptr (GRand) rand = seeded_rand (seed);
  int bs = block_rows (trials);
  double coef = rounding (d);
  float xn_max = 0;
  g_autofree float *closest = g_new (float, n);
  g_autofree int *near = g_new0 (int, n); /* the centre at the closest distance */
  g_autofree float *reach = g_new (float, n); /* twice an upper bound on the distance to it */
  g_autofree float *cn = g_new (float, k);
  g_autofree float *ccl = g_new (float, (gsize) trials * k); /* lower bounds, candidate to centre */
  g_autofree float *cand_dist = g_new (float, (gsize) trials * n); /* trials x n */
  g_autofree double *cumsum = g_new (double, n);
  g_autofree gboolean *chosen = g_new0 (gboolean, n);
  g_autofree int *cand = g_new (int, trials);
  g_autofree float *cand_rows = g_new (float, (gsize) trials * d);
  g_autofree float *cand_norm = g_new (float, trials);
  g_autofree float *block = g_new (float, (gsize) MIN (bs, n) * trials);
  g_autofree int *rows = g_new (int, n); /* the rows a step computes */
  g_autofree float *cand_low = NULL; /* trials x n: lower bounds on the rows' distances to each candidate */
  g_autofree float *lower = NULL;    /* k x n: lower bounds on the rows' distances to each centre */
  int first = g_rand_int_range (rand, 0, n);

  prune = prune && trials <= DIRECT_MAX;
  if (prune && b != NULL && (lower = g_try_new (float, (gsize) k * n)) != NULL)
    cand_low = g_new (float, (gsize) trials * n);
  for (int i = 0; i < n; i++)
    xn_max = MAX (xn_max, xn[i]);
  memcpy (centres, x + (gsize) first * d, sizeof (float) * d);
  cn[0] = xn[first];
  chosen[first] = TRUE;
  for (int i0 = 0; i0 < n; i0 += bs)
    {
      int nb = MIN (bs, n - i0);
      block_dist (x + (gsize) i0 * d, xn + i0, nb, d, centres, cn, 1, closest + i0);
    }
  closest[first] = 0;
  for (int i = 0; i < n && prune; i++)
    reach[i] = reach_of (closest[i], coef * ((double) xn[i] + xn_max));
  for (int i = 0; i < n && lower; i++)
    lower[i] = lower_bound (closest[i], (float) (coef * ((double) xn[i] + xn_max)));

  for (int c = 1; c < k; c++)
    {
      double acc = 0;
      int nt, best_t = 0;
      double best_pot = G_MAXDOUBLE;
      int m = 0; /* rows computed (pruning) */

      if (ts_check_cancelled (cancellable, error))
        return FALSE;
      for (int i = 0; i < n; i++)
        cumsum[i] = (acc += closest[i]);
      if (!(acc > 0))
        {
          /* Every row coincides with a centre: take the lowest unchosen row. */
          int r = lowest_unchosen (chosen);
          memcpy (centres + (gsize) c * d, x + (gsize) r * d, sizeof (float) * d);
          cn[c] = xn[r];
          if (lower)
            memset (lower + (gsize) c * n, 0, sizeof (float) * n);
          continue;
        }
      nt = trials;
      for (int t = 0; t < nt; t++)
        {
          int lo = draw_row (rand, cumsum, n);
          cand[t] = lo;
          memcpy (cand_rows + (gsize) t * d, x + (gsize) lo * d, sizeof (float) * d);
          cand_norm[t] = xn[lo];
        }
      if (prune)
        {
          block_dist (cand_rows, cand_norm, nt, d, centres, cn, c, ccl); /* nt x c */
          for (int t = 0; t < nt; t++)
            for (int j = 0; j < c; j++)
              ccl[t * c + j] = lower_bound (ccl[t * c + j], (float) (coef * ((double) cand_norm[t] + cn[j])));
          for (int t = 0; t < nt; t++) /* what a skipped row keeps */
            memcpy (cand_dist + (gsize) t * n, closest, sizeof (float) * n);
          for (int i = 0; i < n; i++)
            {
              gboolean skip = ccl[near[i]] >= reach[i];
              for (int t = 1; t < nt; t++)
                skip &= ccl[t * c + near[i]] >= reach[i];
              if (!skip)
                rows[m++] = i;
              else
                for (int t = 0; t < nt && lower; t++) /* d(x, cand) >= d(cand, near) - d(x, near) */
                  cand_low[(gsize) t * n + i] = (ccl[t * c + near[i]] - 0.5f * reach[i]) * BOUND_DOWN;
            }
          /* The rows left, in blocks, as block_dist would compute them. */
          for (int p0 = 0; p0 < m; p0 += bs)
            {
              int nb = MIN (bs, m - p0);
              direct_dots (x, rows + p0, nb, d, cand_rows, nt, block);
              for (int q = 0; q < nb; q++)
                {
                  int i = rows[p0 + q];
                  float *o = block + (gsize) q * nt;
                  add_norms (o, xn[i], cand_norm, nt);
                  for (int t = 0; t < nt; t++)
                    cand_dist[(gsize) t * n + i] = MIN (o[t], closest[i]);
                  for (int t = 0; t < nt && lower; t++)
                    cand_low[(gsize) t * n + i] = lower_bound (o[t], (float) (coef * ((double) xn[i] + xn_max)));
                }
            }
        }
      else
        for (int i0 = 0; i0 < n; i0 += bs)
          {
            int nb = MIN (bs, n - i0);
            block_dist (x + (gsize) i0 * d, xn + i0, nb, d, cand_rows, cand_norm, nt, block);
            for (int i = 0; i < nb; i++)
              for (int t = 0; t < nt; t++)
                cand_dist[(gsize) t * n + i0 + i] = MIN (block[(gsize) i * nt + t], closest[i0 + i]);
          }
      for (int t = 0; t < nt; t++)
        cand_dist[(gsize) t * n + cand[t]] = 0;
      for (int t = 0; t < nt && nt > 1; t++)
        {
          double p = 0;
          const float *cd = cand_dist + (gsize) t * n;
          for (int i = 0; i < n; i++)
            p += cd[i];
          if (p < best_pot)
            best_pot = p, best_t = t;
        }
      if (lower)
        {
          memcpy (lower + (gsize) c * n, cand_low + (gsize) best_t * n, sizeof (float) * n);
          lower[(gsize) c * n + cand[best_t]] = 0;
        }
      /* Nearer to the new centre: only computed rows and the centre's own row. */
      for (int p = 0; p <= m && prune; p++)
        {
          int i = p < m ? rows[p] : cand[best_t];
          if (cand_dist[(gsize) best_t * n + i] < closest[i])
            {
              near[i] = c;
              reach[i] = reach_of (cand_dist[(gsize) best_t * n + i], coef * ((double) xn[i] + xn_max));
            }
        }
      memcpy (closest, cand_dist + (gsize) best_t * n, sizeof (float) * n);
      chosen[cand[best_t]] = TRUE;
      memcpy (centres + (gsize) c * d, x + (gsize) cand[best_t] * d, sizeof (float) * d);
      cn[c] = xn[cand[best_t]];
    }
  if (lower)
    {
      /* Bounds for the first Lloyd assignment, which checks every row. */
      transpose (lower, k, n, b->l);
      memcpy (labels, near, sizeof (int) * n);
      for (int i = 0; i < n; i++)
        b->u[i] = upper_bound (closest[i], (float) (coef * ((double) xn[i] + xn_max)));
      memcpy (b->cn, cn, sizeof (float) * k);
      b->cn_max = 0;
      for (int c = 0; c < k; c++)
        b->cn_max = MAX (b->cn_max, cn[c]);
      /* No centre distances yet (zeros, valid lower bounds): the row bounds
       * alone settle nearly every row, and the next pass, after most centres
       * have moved, makes them all. */
      memset (b->cc, 0, sizeof (float) * k * k);
      b->cc_valid = TRUE;
      memset (b->drift, 0, sizeof (float) * k);
      b->valid = b->recheck = TRUE;
    }
  return TRUE;
}

/* Whether a centre at lower bound @l, whose lower-bounded distance from the
 * row's centre is @c, may be nearer than the row's upper bound @u, within the
 * margin @m on squared distances. */
static inline int
needed (float l, float c, float u, float m)
{
  return (l * l - u * u <= m) & (c * (c - 2 * u) <= m);
}

/* Moves the row's lower bounds l[0..k) down by the centres' drift and
 * counts the centres still in question (16 lanes, so that it vectorises). */
TS_CLONES static int
loosen (float *restrict l, const float *restrict drift, const float *restrict cc_row, int k, float u, float m)
{
  int lane[16] = { 0 }, count = 0, j = 0;

  for (; j + 16 <= k; j += 16)
    for (int t = 0; t < 16; t++)
      {
        float v = (l[j + t] - drift[j + t]) * BOUND_DOWN;
        v = v > 0.0f ? v : 0.0f;
        l[j + t] = v;
        lane[t] += needed (v, cc_row[j + t], u, m);
      }
  for (; j < k; j++)
    {
      float v = MAX ((l[j] - drift[j]) * BOUND_DOWN, 0.0f);
      l[j] = v;
      count += needed (v, cc_row[j], u, m);
    }
  for (int t = 0; t < 16; t++)
    count += lane[t];
  return count;
}

/* need[0..k) = whether each centre is still in question (as loosen counts). */
TS_CLONES static void
mark (const float *restrict l, const float *restrict cc_row, int k, float u, float m, int *restrict need)
{
  int j = 0;

  for (; j + 16 <= k; j += 16)
    for (int t = 0; t < 16; t++)
      need[j + t] = needed (l[j + t], cc_row[j + t], u, m);
  for (; j < k; j++)
    need[j] = needed (l[j], cc_row[j], u, m);
}

/* Squared distance of row @r to centre @c as block_dist computes it. */
TS_CLONES static float
pair_dist (const float *r, float rn, const float *c, float cn, int d)
{
  float v = -2.0f * ts_dot_lanes (r, c, d) + rn + cn;
  return v > 1e-6f * (rn + cn) ? v : 0.0f;
}

/* Labels for centroids that moved by b->drift since the bounds were made.
 * First every row's bounds are moved. A row whose bounds leave more than an
 * eighth of the centres in question gets all its distances from one SGEMM
 * over such rows gathered (a distance alone costs about what eight cost in
 * an SGEMM), as in a full pass; the others one dot product per centre. */
static gboolean
bounded_assign (const float *x, const float *xn, const float *centroids, Bounds *b, int *labels,
                GCancellable *cancellable, GError **error)
{
  int n = b->n, d = b->d, k = b->k, nm = 0, nh = 0;

  if (ts_check_cancelled (cancellable, error))
    return FALSE;
  for (int c = 0; c < k; c++)
    if (b->drift[c] > 0)
      b->which[nm++] = c;
  if (nm == 0 && !b->recheck)
    return TRUE; /* no centre moved: the labels stand */
  b->recheck = FALSE;
  b->cn_max = 0;
  for (int r = 0; r < nm; r++)
    row_norms (centroids + (gsize) b->which[r] * d, 1, d, b->cn + b->which[r]);
  for (int c = 0; c < k; c++)
    b->cn_max = MAX (b->cn_max, b->cn[c]);
  if (nm > 0 || !b->cc_valid)
    centre_dists (centroids, b, nm);
  for (int i = 0; i < n; i++)
    {
      int a = labels[i];
      float e = b->coef * (xn[i] + b->cn_max), u = (b->u[i] + b->drift[a]) * BOUND_UP;
      const float *cc_row = b->cc + (gsize) a * k;
      float *l = b->l + (gsize) i * k;
      b->u[i] = u;
      b->left[i] = loosen (l, b->drift, cc_row, k, u, e) - needed (l[a], cc_row[a], u, e);
      if (b->left[i] * 8 > k)
        b->heavy[nh++] = i;
    }
  memset (b->drift, 0, sizeof (float) * k);
  for (int h0 = 0; h0 < nh; h0 += b->gather)
    {
      int m = MIN (b->gather, nh - h0);
      for (int q = 0; q < m; q++)
        {
          memcpy (b->rows + (gsize) q * d, x + (gsize) b->heavy[h0 + q] * d, sizeof (float) * d);
          b->rows_n[q] = xn[b->heavy[h0 + q]];
        }
      block_dist (b->rows, b->rows_n, m, d, centroids, b->cn, k, b->rows_out);
      for (int q = 0; q < m; q++)
        {
          int i = b->heavy[h0 + q];
          float *o = b->rows_out + (gsize) q * k, e = b->coef * (xn[i] + b->cn_max);
          labels[i] = nearest (x + (gsize) i * d, centroids, d, NULL, o, k, e);
          b->u[i] = upper_bound (o[labels[i]], e);
          lower_bounds (o, k, e);
          memcpy (b->l + (gsize) i * k, o, sizeof (float) * k);
          b->left[i] = 0;
        }
    }
  for (int i = 0; i < n; i++)
    {
      const float *r = x + (gsize) i * d;
      float *l = b->l + (gsize) i * k;
      float e = b->coef * (xn[i] + b->cn_max), va = 0, u = b->u[i];
      int a0 = labels[i], a = a0, nc = 0, left = b->left[i];
      const float *cc_row = b->cc + (gsize) a * k;

      /* Only the centres marked here can be nearer than a0 (the others are
       * farther than a0 by more than e); each is tested again as the bound
       * tightens and the nearest so far changes. */
      if (left > 0)
        {
          mark (l, cc_row, k, u, e, b->need);
          for (int j = 0; j < k && left > 0; j++)
            {
              float vj;
              if (!b->need[j] || j == a0)
                continue;
              left--;
              if (!needed (l[j], cc_row[j], u, e))
                continue;
              if (nc == 0) /* first tighten the row's own bound */
                {
                  va = pair_dist (r, xn[i], centroids + (gsize) a * d, b->cn[a], d);
                  u = MIN (u, upper_bound (va, e));
                  l[a] = lower_bound (va, e);
                  b->cand[nc] = a, b->cand_v[nc++] = va;
                  if (!needed (l[j], cc_row[j], u, e))
                    continue;
                }
              vj = pair_dist (r, xn[i], centroids + (gsize) j * d, b->cn[j], d);
              l[j] = lower_bound (vj, e);
              b->cand[nc] = j, b->cand_v[nc++] = vj;
              if (vj < va) /* the nearest so far, for the bounds of the rest */
                {
                  a = j, va = vj;
                  u = upper_bound (vj, e);
                  cc_row = b->cc + (gsize) a * k;
                }
            }
          if (nc > 1)
            {
              int p = nearest (r, centroids, d, b->cand, b->cand_v, nc, e);
              a = b->cand[p];
              u = upper_bound (b->cand_v[p], e);
            }
        }
      labels[i] = a;
      b->u[i] = u;
    }
  return TRUE;
}

/* One assignment: full without bounds or when they are stale, bounded otherwise. */
static gboolean
assign_step (const float *x, const float *xn, int n, int d, const float *centroids, int k, Bounds *b,
             int *labels, GCancellable *cancellable, GError **error)
{
  if (b == NULL || !b->valid)
    return assign (x, xn, n, d, centroids, k, labels, NULL, b, cancellable, error);
  return bounded_assign (x, xn, centroids, b, labels, cancellable, error);
}

/* Squared distance summed directly in double over 8 lanes (so that it
 * vectorises; a different order from exact_dist2, for the inertia only). */
static double
row_dist2 (const float *r, const float *c, int d)
{
  double lane[8] = { 0 }, s = 0;
  int j = 0;

  for (; j + 8 <= d; j += 8)
    for (int t = 0; t < 8; t++)
      lane[t] += ((double) r[j + t] - c[j + t]) * ((double) r[j + t] - c[j + t]);
  for (; j < d; j++)
    s += ((double) r[j] - c[j]) * ((double) r[j] - c[j]);
  for (int t = 0; t < 8; t++)
    s += lane[t];
  return s;
}

/* Lloyd iterations on km (centroids set); fills labels, sizes, inertia.
 * @b (may be NULL, then every assignment is a full pass): Elkan's bounds, valid
 * (from the seeding) or to be made by the first full pass. Only clusters
 * whose members changed get a new mean (summed in row order, as a full update
 * would: the same bits), and only their centres move. */
static gboolean
lloyd (const float *x, const float *xn, int n, int d, TsKMeans *km, int max_iter, double tol, Bounds *b,
       gboolean final, GCancellable *cancellable, GError **error)
{
  int k = km->k;
  g_autofree int *prev = g_new (int, n);
  g_autofree double *dist2 = g_new (double, n);
  g_autofree double *sums = g_try_new (double, (gsize) k * d);
  g_autofree gboolean *used = g_new0 (gboolean, n);
  g_autofree gboolean *dirty = g_new (gboolean, k);
  gboolean all_dirty = TRUE; /* the centroids are not (all) the means of their rows */
  gboolean labelled = FALSE; /* km->labels are those of the current centroids */

  if (sums == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "no memory for %d k-means sums", k);
      return FALSE;
    }
  km->iterations = 0;
  km->converged = FALSE;
  for (int it = 0; it < max_iter; it++)
    {
      int empty = 0;
      double shift = 0;

      if (!assign_step (x, xn, n, d, km->centroids, k, b, km->labels, cancellable, error))
        return FALSE;
      km->iterations = it + 1;
      memset (km->sizes, 0, sizeof (int) * k);
      for (int i = 0; i < n; i++)
        km->sizes[km->labels[i]]++;
      for (int c = 0; c < k; c++)
        empty += km->sizes[c] == 0;
      if (it > 0 && memcmp (prev, km->labels, sizeof (int) * n) == 0)
        {
          km->converged = TRUE;
          labelled = TRUE;
          break;
        }
      if (all_dirty || empty > 0)
        for (int c = 0; c < k; c++)
          dirty[c] = TRUE;
      else
        {
          memset (dirty, 0, sizeof (gboolean) * k);
          for (int i = 0; i < n; i++)
            if (km->labels[i] != prev[i])
              dirty[km->labels[i]] = dirty[prev[i]] = TRUE;
        }
      memcpy (prev, km->labels, sizeof (int) * n);

      for (int c = 0; c < k; c++)
        if (dirty[c])
          memset (sums + (gsize) c * d, 0, sizeof (double) * d);
      for (int i = 0; i < n; i++)
        if (dirty[km->labels[i]])
          add_row (sums + (gsize) km->labels[i] * d, x + (gsize) i * d, d);
      /* Empty clusters take the farthest rows (sklearn's relocation; the
       * distances summed directly, ties to the lower row). */
      all_dirty = empty > 0;
      if (empty > 0)
        {
          memset (used, 0, sizeof (gboolean) * n);
          for (int i = 0; i < n; i++)
            dist2[i] = exact_dist2 (x + (gsize) i * d, km->centroids + (gsize) km->labels[i] * d, d);
        }
      for (int c = 0; c < k && empty > 0; c++)
        {
          int far;
          if (km->sizes[c] > 0)
            continue;
          far = farthest_row (km->labels, km->sizes, dist2, used, n);
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
          if (b != NULL)
            b->valid = FALSE; /* a row changed centre without its bounds */
        }
      /* New means; the squared shift summed in the order of a full update (a
       * centre that stays adds exact zeros). */
      for (int c = 0; c < k; c++)
        {
          float *centre = km->centroids + (gsize) c * d;
          double moved = 0;
          if (!dirty[c] || km->sizes[c] == 0)
            continue;
          for (int j = 0; j < d; j++)
            {
              float v = (float) (sums[(gsize) c * d + j] / km->sizes[c]);
              double diff = (double) v - centre[j];
              shift += diff * diff;
              moved += diff * diff;
              centre[j] = v;
            }
          if (b != NULL && moved > 0)
            b->drift[c] = (b->drift[c] + (float) (sqrt (moved) * (1 + 0x1p-20))) * BOUND_UP;
        }
      if (tol > 0 && shift <= tol)
        {
          km->converged = TRUE;
          break;
        }
    }
  if (!final)
    return TRUE;
  /* Labels and inertia for the final centroids. */
  if (!labelled && !assign_step (x, xn, n, d, km->centroids, k, b, km->labels, cancellable, error))
    return FALSE;
  /* Inertia summed directly, sum (x - c)^2 in double, as sklearn's _inertia:
   * the sgemm expansion is only accurate to the float resolution of the norms. */
  memset (km->sizes, 0, sizeof (int) * k);
  km->inertia = 0;
  for (int i = 0; i < n; i++)
    {
      km->sizes[km->labels[i]]++;
      km->inertia += row_dist2 (x + (gsize) i * d, km->centroids + (gsize) km->labels[i] * d, d);
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
  g_autofree double *mean = NULL;
  g_autofree double *var = NULL;

  if (!(tol > 0))
    return 0;
  /* Row by row (each column still summed in row order) for the cache. */
  mean = g_new0 (double, d);
  var = g_new0 (double, d);
  for (int i = 0; i < n; i++)
    add_row (mean, x + (gsize) i * d, d);
  for (int j = 0; j < d; j++)
    mean[j] /= n;
  for (int i = 0; i < n; i++)
    {
      const float *r = x + (gsize) i * d;
      int j = 0;
      for (; j + 8 <= d; j += 8) /* lanes of 8 so that it vectorises, each sum as before */
        for (int t = 0; t < 8; t++)
          var[j + t] += (r[j + t] - mean[j + t]) * (r[j + t] - mean[j + t]);
      for (; j < d; j++)
        var[j] += (r[j] - mean[j]) * (r[j] - mean[j]);
    }
  for (int j = 0; j < d; j++)
    total += var[j] / n;
  return tol * total / d;
}

/* Seeding then Lloyd. ts_kmeans: @bounded, pruned seeding and bounded Lloyd
 * (else every distance computed), @max_iter < 0 from the options, the
 * options' tolerance and the final assignment. ts_kmeans_seed_steps: @max_iter
 * steps, tolerance 0, no final assignment. @seeds (optional): the seeding's centres. */
static TsKMeans *
kmeans_run (const float *x, int n, int d, int k, const TsKMeansOptions *options, gboolean bounded, int max_iter,
            gboolean final, float *seeds, GCancellable *cancellable, GError **error)
{
  TsKMeansOptions defaults;
  g_autoptr (TsKMeans) km = NULL;
  g_autoptr (Bounds) b = NULL;
  g_autofree float *xn = NULL;
  int trials;

  if (options == NULL)
    {
      ts_kmeans_options_init (&defaults);
      options = &defaults;
    }
  if (!check_input (x, n, d, k, error))
    return NULL;
  trials = options->n_local_trials > 0 ? options->n_local_trials : 2 + (int) floor (log (k));
  if (final)
    max_iter = options->max_iter == 0 ? 100 : options->max_iter;
  if ((km = kmeans_alloc (n, d, k, error)) == NULL)
    return NULL;
  xn = g_new (float, n);
  row_norms (x, n, d, xn);
  b = bounded && max_iter >= 0 ? bounds_new (n, d, k) : NULL;
  if (!seed_plusplus (x, xn, n, d, k, trials, options->seed, bounded, km->centroids, b, km->labels, cancellable,
                      error))
    return NULL;
  if (seeds != NULL)
    memcpy (seeds, km->centroids, sizeof (float) * (gsize) k * d);
  if (!lloyd (x, xn, n, d, km, MAX (max_iter, 0), final ? absolute_tol (x, n, d, options->tol) : 0, b, final,
              cancellable, error))
    return NULL;
  return g_steal_pointer (&km);
}

TsKMeans *
ts_kmeans (const float *x, int n, int d, int k, const TsKMeansOptions *options, GCancellable *cancellable,
           GError **error)
{
  return kmeans_run (x, n, d, k, options, TRUE, 0, TRUE, NULL, cancellable, error);
}

TsKMeans *
ts_kmeans_full (const float *x, int n, int d, int k, const TsKMeansOptions *options, GCancellable *cancellable,
                GError **error)
{
  return kmeans_run (x, n, d, k, options, FALSE, 0, TRUE, NULL, cancellable, error);
}

/* Lloyd from given centroids; @final: labels and inertia for the last centroids too. */
static TsKMeans *
lloyd_from (const float *x, int n, int d, const float *centroids, int k, int max_iter, gboolean final,
            GCancellable *cancellable, GError **error)
{
  g_autoptr (TsKMeans) km = NULL;
  g_autoptr (Bounds) b = NULL;
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
  if (max_iter + final > 1) /* bounds pay from the second assignment on */
    b = bounds_new (n, d, k);
  if (!lloyd (x, xn, n, d, km, max_iter, 0, b, final, cancellable, error))
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
                        options->seed, TRUE, centroids, NULL, NULL, cancellable, error);
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

gboolean
ts_kmeans_seed_steps (const float *x, int n, int d, int k, const TsKMeansOptions *options, int steps,
                      float *seeds, float *centroids, GCancellable *cancellable, GError **error)
{
  g_autoptr (TsKMeans) km = NULL;

  if (centroids == NULL || steps < 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "k-means steps need room for the centroids and a count >= 0 (got %d)", steps);
      return FALSE;
    }
  if ((km = kmeans_run (x, n, d, k, options, TRUE, steps, FALSE, seeds, cancellable, error)) == NULL)
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

/* ---- k-means through the Gram matrix ---- */

/* |r - c|^2 in double over 8 lanes (so that it vectorises): exact but for
 * the last bits of a double. */
TS_CLONES static double
mean_dist2 (const float *restrict r, const double *restrict c, int d)
{
  double lane[8] = { 0 }, s = 0;
  int j = 0;

  for (; j + 8 <= d; j += 8)
    for (int t = 0; t < 8; t++)
      lane[t] += (r[j + t] - c[j + t]) * (r[j + t] - c[j + t]);
  for (; j < d; j++)
    s += (r[j] - c[j]) * (r[j] - c[j]);
  for (int t = 0; t < 8; t++)
    s += lane[t];
  return s;
}

/* The rows whose distance to row c may be below their closest[i] (within
 * @e of it, on squared distances) by c's Gram row @row: their indices into
 * @rows, their count returned (branch-free, so that it vectorises). */
TS_CLONES static int
gram_screen (const float *restrict diag, float gcc, const float *restrict row, const double *restrict closest,
             int n, float e, int *restrict rows)
{
  int m = 0;

  for (int i = 0; i < n; i++)
    {
      float v = -2.0f * row[i] + diag[i] + gcc;
      rows[m] = i;
      m += v <= (float) closest[i] + e;
    }
  return m;
}

/* Squared distance of rows @r and @c in double, zero below 1e-6 of their
 * squared norms @rn and @cn (as block_dist zeroes rounding noise). */
static double
seed_dist2 (const float *r, double rn, const float *c, double cn, int d)
{
  double v = row_dist2 (r, c, d);

  return v > 1e-6 * (rn + cn) ? v : 0.0;
}

/* out = closest, lowered where row @c is nearer: the rows gram_screen
 * leaves, by seed_dist2. */
static void
seed_closest (const float *x, const double *xn, int n, int d, const float *gram, const float *diag, float e,
              int c, const double *closest, int *rows, double *out)
{
  int m = gram_screen (diag, diag[c], gram + (gsize) c * n, closest, n, e, rows);

  memcpy (out, closest, sizeof (double) * n);
  for (int p = 0; p < m; p++)
    {
      int i = rows[p];
      double v = seed_dist2 (x + (gsize) i * d, xn[i], x + (gsize) c * d, xn[c], d);
      out[i] = MIN (out[i], v);
    }
  out[c] = 0;
}

gboolean
ts_kmeans_gram_seed (const float *x, int n, int d, const float *gram, int k, const TsKMeansOptions *options,
                     int *seeds, GCancellable *cancellable, GError **error)
{
  TsKMeansOptions defaults;
  g_autoptr (GRand) rand = NULL;
  g_autofree double *xn = NULL;
  g_autofree float *diag = NULL;
  g_autofree double *closest = NULL;
  g_autofree double *cand_dist = NULL;
  g_autofree double *cumsum = NULL;
  g_autofree gboolean *chosen = NULL;
  g_autofree int *cand = NULL;
  g_autofree int *rows = NULL;
  int trials, first;
  float e, diag_max = 0;

  if (options == NULL)
    {
      ts_kmeans_options_init (&defaults);
      options = &defaults;
    }
  if (!check_input (x, n, d, k, error))
    return FALSE;
  if (gram == NULL || seeds == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "k-means++ seeding through a Gram matrix needs the matrix and room for the seeds");
      return FALSE;
    }
  trials = options->n_local_trials > 0 ? options->n_local_trials : 2 + (int) floor (log (k));
  xn = g_new (double, n);
  diag = g_new (float, n);
  for (int i = 0; i < n; i++)
    {
      const float *r = x + (gsize) i * d;
      xn[i] = 0;
      for (int j = 0; j < d; j++)
        xn[i] += (double) r[j] * r[j];
      diag[i] = gram[(gsize) i * n + i];
      diag_max = MAX (diag_max, diag[i]);
    }
  /* A distance through the Gram matrix is within 4 gamma_d max |x|^2 of the
   * exact one (its three entries, of which one doubled); then the rounding of
   * its three float operations and of the closest distance to float, with
   * room to spare. */
  e = (float) ((4.04 * d + 32) * 0x1p-24 * diag_max);
  rand = seeded_rand (options->seed);
  closest = g_new (double, n);
  cand_dist = g_new (double, (gsize) trials * n);
  cumsum = g_new (double, n);
  chosen = g_new0 (gboolean, n);
  cand = g_new (int, trials);
  rows = g_new (int, n);

  /* As seed_plusplus, on the exact distances to the nearest centre; a new
   * centre's distance is computed for the rows its Gram row cannot rule out. */
  first = g_rand_int_range (rand, 0, n);
  for (int i = 0; i < n; i++)
    closest[i] = seed_dist2 (x + (gsize) i * d, xn[i], x + (gsize) first * d, xn[first], d);
  closest[first] = 0;
  chosen[first] = TRUE;
  seeds[0] = first;
  for (int c = 1; c < k; c++)
    {
      double acc = 0, best_pot = G_MAXDOUBLE;
      int best_t = 0;

      if (ts_check_cancelled (cancellable, error))
        return FALSE;
      for (int i = 0; i < n; i++)
        cumsum[i] = (acc += closest[i]);
      if (!(acc > 0))
        {
          seeds[c] = lowest_unchosen (chosen);
          continue;
        }
      for (int t = 0; t < trials; t++)
        {
          int lo = draw_row (rand, cumsum, n);
          cand[t] = lo;
          seed_closest (x, xn, n, d, gram, diag, e, lo, closest, rows, cand_dist + (gsize) t * n);
        }
      for (int t = 0; t < trials && trials > 1; t++)
        {
          double p = 0;
          const double *cd = cand_dist + (gsize) t * n;
          for (int i = 0; i < n; i++)
            p += cd[i];
          if (p < best_pot)
            best_pot = p, best_t = t;
        }
      memcpy (closest, cand_dist + (gsize) best_t * n, sizeof (double) * n);
      chosen[cand[best_t]] = TRUE;
      seeds[c] = cand[best_t];
    }
  return TRUE;
}

/* out (n) = out + r0 + r1 + r2 + r3, added one after the other. */
TS_CLONES static void
add_rows4 (float *restrict out, const float *restrict r0, const float *restrict r1, const float *restrict r2,
           const float *restrict r3, int n)
{
  for (int j = 0; j < n; j++)
    out[j] = (((out[j] + r0[j]) + r1[j]) + r2[j]) + r3[j];
}

TS_CLONES static void
add_rows1 (float *restrict out, const float *restrict r0, int n)
{
  for (int j = 0; j < n; j++)
    out[j] += r0[j];
}

TS_CLONES static void
sum_rows2 (float *restrict out, const float *restrict r0, const float *restrict r1, int n)
{
  for (int j = 0; j < n; j++)
    out[j] = r0[j] + r1[j];
}

void
ts_kmeans_members_dots (const TsKMeansMembers *m, int c, const float *gram, float *out)
{
  int n = m->n, p = m->start[c], end = m->start[c + 1];
  const int *r = m->rows;

  if (p == end)
    {
      memset (out, 0, sizeof (float) * n);
      return;
    }
  if (end - p == 1)
    {
      memcpy (out, gram + (gsize) r[p] * n, sizeof (float) * n);
      return;
    }
  sum_rows2 (out, gram + (gsize) r[p] * n, gram + (gsize) r[p + 1] * n, n);
  for (p += 2; p + 4 <= end; p += 4)
    add_rows4 (out, gram + (gsize) r[p] * n, gram + (gsize) r[p + 1] * n, gram + (gsize) r[p + 2] * n,
               gram + (gsize) r[p + 3] * n, n);
  for (; p < end; p++)
    add_rows1 (out, gram + (gsize) r[p] * n, n);
}

void
ts_kmeans_members_free (TsKMeansMembers *m)
{
  if (m == NULL)
    return;
  g_free (m->labels);
  g_free (m->start);
  g_free (m->rows);
  g_free (m);
}

/* Centres scanned together by scan_scores: one pass over the rows' two
 * nearest for eight centres. */
#define SCAN_GROUP 8

/* Row i's nearest (best, arg) and second nearest score after centre @c's
 * score @v (ties keep the lower centre; second then equals best). */
static inline void
scan_one (float v, int c, float *b, float *s, int *a)
{
  int lt = v < *b;

  *s = lt ? *b : (v < *s ? v : *s);
  *b = lt ? v : *b;
  *a = lt ? c : *a;
}

/* Every row's nearest and second nearest centre so far, on the scores
 * v = |c|^2 - 2 x.c (the squared distance less |x|^2), for the centres c0 to
 * c0 + 7 in order: centre c0 + q's scores are cn[q] - w2[q] p_q[i]. A centre
 * of +infinity norm changes nothing (a group of fewer than eight). Rows in
 * lanes of 16, so that it vectorises. */
TS_CLONES static void
scan_scores (const float *restrict p0, const float *restrict p1, const float *restrict p2,
             const float *restrict p3, const float *restrict p4, const float *restrict p5,
             const float *restrict p6, const float *restrict p7, const float *restrict cn,
             const float *restrict w2, int c0, int n, float *restrict best, float *restrict second,
             int *restrict arg)
{
  int i0 = 0;

#define SCAN_ROW(i)                                                                                                  \
  do                                                                                                                 \
    {                                                                                                                \
      int a = arg[i];                                                                                                \
      float b = best[i], s = second[i];                                                                              \
      scan_one (cn[0] - w2[0] * p0[i], c0, &b, &s, &a);                                                              \
      scan_one (cn[1] - w2[1] * p1[i], c0 + 1, &b, &s, &a);                                                          \
      scan_one (cn[2] - w2[2] * p2[i], c0 + 2, &b, &s, &a);                                                          \
      scan_one (cn[3] - w2[3] * p3[i], c0 + 3, &b, &s, &a);                                                          \
      scan_one (cn[4] - w2[4] * p4[i], c0 + 4, &b, &s, &a);                                                          \
      scan_one (cn[5] - w2[5] * p5[i], c0 + 5, &b, &s, &a);                                                          \
      scan_one (cn[6] - w2[6] * p6[i], c0 + 6, &b, &s, &a);                                                          \
      scan_one (cn[7] - w2[7] * p7[i], c0 + 7, &b, &s, &a);                                                          \
      best[i] = b;                                                                                                   \
      second[i] = s;                                                                                                 \
      arg[i] = a;                                                                                                    \
    }                                                                                                                \
  while (0)
  for (; i0 + 16 <= n; i0 += 16)
    for (int t = 0; t < 16; t++)
      SCAN_ROW (i0 + t);
  for (; i0 < n; i0++)
    SCAN_ROW (i0);
#undef SCAN_ROW
}

/* Lloyd through the Gram matrix: the centres' squared norms, their exact
 * means (made when a decision needs them) and the scan's workspace. */
typedef struct {
  const float *x, *gram;
  int n, d, k;
  float *xn;      /* n: |x_i|^2 (row_norms) */
  float diag_max; /* the largest */
  double *cn;     /* k: the centres' squared norms from the Gram sums */
  double *means;  /* k x d: the centres' means in double, where made */
  gboolean *made; /* k */
  float *acc;     /* SCAN_GROUP x n: centres' Gram sums */
  double *w2;     /* k: 2 / each centre's count */
  float *best, *second;
  int *arg;
  double *v;      /* k: one row's scores */
} GramLloyd;

static void
gram_lloyd_clear (GramLloyd *g)
{
  g_free (g->xn);
  g_free (g->cn);
  g_free (g->means);
  g_free (g->made);
  g_free (g->acc);
  g_free (g->w2);
  g_free (g->best);
  g_free (g->second);
  g_free (g->arg);
  g_free (g->v);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (GramLloyd, gram_lloyd_clear)

/* Centre @c's mean in double (the sum of its rows in order over their count). */
static const double *
exact_mean (GramLloyd *g, const TsKMeansMembers *m, int c)
{
  double *mean = g->means + (gsize) c * g->d;
  int cnt = m->start[c + 1] - m->start[c];

  if (!g->made[c])
    {
      memset (mean, 0, sizeof (double) * g->d);
      for (int p = m->start[c]; p < m->start[c + 1]; p++)
        add_row (mean, g->x + (gsize) m->rows[p] * g->d, g->d);
      for (int j = 0; j < g->d; j++)
        mean[j] /= cnt;
      g->made[c] = TRUE;
    }
  return mean;
}


/* The exactly nearest centre to row @i, whose scores lie within @e of each
 * other's: the scores again in double from row i of the Gram matrix, then
 * each centre within 2e of the smallest by mean_dist2 (ties to the lower). */
static int
gram_nearest (GramLloyd *g, const TsKMeansMembers *m, int i, float e)
{
  const float *gi = g->gram + (gsize) i * g->n;
  const float *r = g->x + (gsize) i * g->d;
  double vmin = G_MAXDOUBLE, bd = G_MAXDOUBLE;
  int best = 0;

  for (int c = 0; c < g->k; c++)
    {
      double dot = 0;
      for (int p = m->start[c]; p < m->start[c + 1]; p++)
        dot += gi[m->rows[p]];
      g->v[c] = g->cn[c] - g->w2[c] * dot;
      vmin = MIN (vmin, g->v[c]);
    }
  for (int c = 0; c < g->k; c++)
    if (g->v[c] <= vmin + 2.0 * e)
      {
        double s = mean_dist2 (r, exact_mean (g, m, c), g->d);
        if (s < bd)
          bd = s, best = c;
      }
  return best;
}

/* Each row's exactly nearest centre of @m into @labels: the centres' Gram
 * sums (one pass over the Gram matrix) scanned for every row's two nearest;
 * rows whose two lie within the rounding decided by gram_nearest. */
static gboolean
gram_assign (GramLloyd *g, const TsKMeansMembers *m, int *labels, GCancellable *cancellable, GError **error)
{
  int n = g->n, smax = 1;
  float e;

  for (int i = 0; i < n; i++)
    {
      g->best[i] = g->second[i] = INFINITY;
      g->arg[i] = 0;
    }
  for (int c0 = 0; c0 < g->k; c0 += SCAN_GROUP)
    {
      const float *p[SCAN_GROUP];
      float cn[SCAN_GROUP], w2[SCAN_GROUP];
      if ((c0 & 255) == 0 && ts_check_cancelled (cancellable, error))
        return FALSE;
      for (int q = 0; q < SCAN_GROUP; q++)
        {
          int c = c0 + q, cnt;
          double s = 0;
          if (c >= g->k) /* no centre: scores of +infinity */
            {
              p[q] = p[0], cn[q] = INFINITY, w2[q] = 0;
              continue;
            }
          cnt = m->start[c + 1] - m->start[c];
          if (cnt == 1)
            p[q] = g->gram + (gsize) m->rows[m->start[c]] * n;
          else
            {
              ts_kmeans_members_dots (m, c, g->gram, g->acc + (gsize) q * n);
              p[q] = g->acc + (gsize) q * n;
            }
          for (int r = m->start[c]; r < m->start[c + 1]; r++) /* the diagonal's terms from the norms */
            {
              int t = m->rows[r];
              s += p[q][t] - (double) g->gram[(gsize) t * n + t] + g->xn[t];
            }
          g->cn[c] = s / ((double) cnt * cnt);
          g->w2[c] = 2.0 / cnt;
          cn[q] = (float) g->cn[c];
          w2[q] = (float) g->w2[c];
          smax = MAX (smax, cnt);
        }
      scan_scores (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], cn, w2, c0, n, g->best, g->second, g->arg);
    }
  /* The scores' rounding: each Gram entry within gamma_d |x_i||x_j| of the
   * dot product, each sum of at most smax of them within gamma_smax more,
   * three such terms, and a few roundings of the score itself. */
  e = (float) ((3.03 * (g->d + smax) + 32) * 0x1p-24 * g->diag_max);
  for (int i = 0; i < n; i++)
    labels[i] = g->second[i] <= g->best[i] + 2 * e ? gram_nearest (g, m, i, e) : g->arg[i];
  return TRUE;
}

/* The members after an assignment: each centre with rows is their mean; a
 * centre without keeps its rows (an empty cluster that stayed). */
static gboolean
members_update (TsKMeansMembers *m, const int *labels, const int *sizes)
{
  int n = m->n, k = m->k, total = 0;
  g_autofree int *start = g_new (int, k + 1);
  g_autofree int *at = g_new (int, k);
  int *rows;

  for (int c = 0; c < k; c++)
    {
      start[c] = total;
      total += sizes[c] > 0 ? sizes[c] : m->start[c + 1] - m->start[c];
    }
  start[k] = total;
  rows = g_try_new (int, MAX (total, 1));
  if (rows == NULL)
    return FALSE;
  memcpy (at, start, sizeof (int) * k);
  for (int i = 0; i < n; i++)
    rows[at[labels[i]]++] = i;
  for (int c = 0; c < k; c++)
    if (sizes[c] == 0)
      memcpy (rows + start[c], m->rows + m->start[c], sizeof (int) * (start[c + 1] - start[c]));
  g_free (m->rows);
  g_free (m->start);
  m->rows = rows;
  m->start = g_steal_pointer (&start);
  memcpy (m->labels, labels, sizeof (int) * n);
  return TRUE;
}

TsKMeansMembers *
ts_kmeans_gram_steps (const float *x, int n, int d, const float *gram, const int *first, int k, int steps,
                      GCancellable *cancellable, GError **error)
{
  g_auto (GramLloyd) g = { x, gram, n, d, k };
  g_autoptr (TsKMeansMembers) m = NULL;
  g_autofree int *labels = NULL;
  g_autofree int *sizes = NULL;
  g_autofree double *dist2 = NULL;
  g_autofree gboolean *used = NULL;

  if (!check_input (x, n, d, k, error))
    return NULL;
  if (gram == NULL || first == NULL || steps < 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "k-means steps through a Gram matrix need the matrix, the first centres and a count >= 0 (got %d)",
                   steps);
      return NULL;
    }
  for (int c = 0; c < k; c++)
    if (first[c] < 0 || first[c] >= n)
      {
        g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "k-means centre %d starts at row %d of 0..%d", c,
                     first[c], n - 1);
        return NULL;
      }
  g.xn = g_new (float, n);
  row_norms (x, n, d, g.xn);
  for (int i = 0; i < n; i++)
    g.diag_max = MAX (g.diag_max, g.xn[i]);
  m = g_new0 (TsKMeansMembers, 1);
  m->n = n, m->k = k;
  m->labels = g_new (int, n);
  m->start = g_new (int, k + 1);
  m->rows = g_memdup2 (first, sizeof (int) * k);
  for (int i = 0; i < n; i++)
    m->labels[i] = -1;
  for (int c = 0; c <= k; c++)
    m->start[c] = c;
  g.cn = g_new (double, k);
  g.means = g_try_new (double, (gsize) k * d);
  g.made = g_new (gboolean, k);
  g.acc = g_new (float, (gsize) SCAN_GROUP * n);
  g.w2 = g_new (double, k);
  g.best = g_new (float, n);
  g.second = g_new (float, n);
  g.arg = g_new (int, n);
  g.v = g_new (double, k);
  labels = g_new (int, n);
  sizes = g_new (int, k);
  dist2 = g_new (double, n);
  used = g_new (gboolean, n);
  if (g.means == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "no memory for %d k-means centroids of dimension %d", k, d);
      return NULL;
    }
  for (int it = 0; it < steps; it++)
    {
      int empty = 0;

      if (ts_check_cancelled (cancellable, error))
        return NULL;
      memset (g.made, 0, sizeof (gboolean) * k);
      if (!gram_assign (&g, m, labels, cancellable, error))
        return NULL;
      if (it > 0 && memcmp (labels, m->labels, sizeof (int) * n) == 0)
        break; /* converged: the means stay */
      memset (sizes, 0, sizeof (int) * k);
      for (int i = 0; i < n; i++)
        sizes[labels[i]]++;
      for (int c = 0; c < k; c++)
        empty += sizes[c] == 0;
      /* Empty clusters take the farthest rows, as lloyd () relocates them
       * (distances to the centres of this assignment, exactly). */
      if (empty > 0)
        {
          memset (used, 0, sizeof (gboolean) * n);
          for (int i = 0; i < n; i++)
            dist2[i] = mean_dist2 (x + (gsize) i * d, exact_mean (&g, m, labels[i]), d);
        }
      for (int c = 0; c < k && empty > 0; c++)
        {
          int far;
          if (sizes[c] > 0)
            continue;
          far = farthest_row (labels, sizes, dist2, used, n);
          if (far < 0)
            continue;
          used[far] = TRUE;
          sizes[labels[far]]--;
          sizes[c] = 1;
          labels[far] = c;
        }
      if (!members_update (m, labels, sizes))
        {
          g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "no memory for the members of %d k-means centres", k);
          return NULL;
        }
    }
  return g_steal_pointer (&m);
}
