/* k-means++ and Lloyd against scikit-learn (tests/golden/kmeans_golden.py), hand cases, bad input;
 * the bounded (accelerated) path against the full one and against a plain Lloyd written here;
 * the k-means through the Gram matrix against exact arithmetic written here. */
#include <cblas.h>
#include <math.h>

#include "ts-kmeans-private.h"
#include "ts-test-util.h"

static const float blob_centres[4][3] = { { 0, 0, 0 }, { 5, 5, 0 }, { 0, 5, 5 }, { 5, 0, 5 } };

/* The formulas of kmeans_golden.py. */
static float *
blobs (void)
{
  float *x = g_new (float, 60 * 3);

  for (int i = 0; i < 60; i++)
    for (int j = 0; j < 3; j++)
      x[i * 3 + j] = (float) (blob_centres[i % 4][j] + ((i * 37 + j * 11) % 17) / 8.0 - 1.0);
  return x;
}

static float *
golden_points (void)
{
  float *x = g_new (float, 200 * 2);
  double ip;

  for (int i = 0; i < 200; i++)
    {
      x[i * 2] = (float) modf (i * 0.6180339887, &ip);
      x[i * 2 + 1] = (float) modf (i * 0.7548776662, &ip);
    }
  return x;
}

typedef struct {
  int k, max_iter;
  double inertia;
  int n_iter;
  float centres[8][2];
  int labels[20];
  int sizes[8];
} LloydCase;

/* /usr/bin/python3 tests/golden/kmeans_golden.py (scikit-learn 1.2.1):
 * KMeans(init=x[:k], n_init=1, algorithm="lloyd", tol=0, max_iter) on the golden points. */
static const LloydCase lloyd_cases[] = {
  { 5, 300, 6.987218, 10,
    { { 0.159501, 0.250301 }, { 0.773173, 0.740435 }, { 0.261374, 0.763353 }, { 0.829677, 0.206060 },
      { 0.513742, 0.297826 } },
    { 0, 1, 2, 3, 4, 2, 1, 0, 3, 1, 2, 3, 4, 2, 1, 0, 3, 2, 2, 3 },
    { 36, 48, 49, 31, 36 } },
  { 8, 300, 4.241347, 12,
    { { 0.171032, 0.198473 }, { 0.766849, 0.845761 }, { 0.123511, 0.521308 }, { 0.822991, 0.159976 },
      { 0.513807, 0.181244 }, { 0.259456, 0.850787 }, { 0.850309, 0.531029 }, { 0.487437, 0.551540 } },
    { 0, 1, 2, 3, 4, 5, 6, 0, 3, 1, 2, 3, 4, 5, 7, 0, 3, 5, 2, 3 },
    { 27, 27, 18, 24, 23, 31, 23, 27 } },
  { 8, 2, 5.071050, 2,
    { { 0.117003, 0.162370 }, { 0.671885, 0.824963 }, { 0.222284, 0.528547 }, { 0.831070, 0.191944 },
      { 0.539919, 0.135396 }, { 0.204313, 0.844631 }, { 0.773890, 0.549047 }, { 0.343952, 0.294249 } },
    { 0, 1, 2, 3, 4, 5, 6, 7, 3, 1, 2, 3, 4, 5, 6, 7, 3, 1, 2, 3 },
    { 21, 33, 26, 23, 20, 28, 33, 16 } },
};

static void
test_lloyd_sklearn (void)
{
  g_autofree float *x = golden_points ();

  for (guint c = 0; c < G_N_ELEMENTS (lloyd_cases); c++)
    {
      const LloydCase *lc = &lloyd_cases[c];
      g_autoptr (GError) error = NULL;
      g_autoptr (TsKMeans) km = ts_kmeans_lloyd (x, 200, 2, x, lc->k, lc->max_iter, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (km->iterations, ==, lc->n_iter);
      g_assert_cmpfloat_with_epsilon (km->inertia, lc->inertia, 1e-4);
      for (int j = 0; j < lc->k; j++)
        {
          g_assert_cmpfloat_with_epsilon (km->centroids[j * 2], lc->centres[j][0], 2e-6);
          g_assert_cmpfloat_with_epsilon (km->centroids[j * 2 + 1], lc->centres[j][1], 2e-6);
          g_assert_cmpint (km->sizes[j], ==, lc->sizes[j]);
        }
      for (int i = 0; i < 20; i++)
        g_assert_cmpint (km->labels[i], ==, lc->labels[i]);
    }
}

static int
cmp_centre (gconstpointer a, gconstpointer b)
{
  const float *p = a, *q = b;
  for (int j = 0; j < 3; j++)
    if (p[j] != q[j])
      return p[j] < q[j] ? -1 : 1;
  return 0;
}

static void
test_plusplus_blobs (void)
{
  /* KMeans(n_clusters=4, n_init=10, random_state=0): inertia 67.002083, centres sorted by x, y, z */
  static const float expect[4][3] = { { -0.091667f, 5.008333f, 4.966667f },
                                       { 0.008333f, -0.033334f, -0.075000f },
                                       { 4.958333f, 5.058333f, 0.016667f },
                                       { 5.000000f, -0.041667f, 5.058333f } };
  g_autofree float *x = blobs ();

  for (guint64 seed = 0; seed < 5; seed++)
    {
      TsKMeansOptions opt;
      g_autoptr (GError) error = NULL;
      g_autoptr (TsKMeans) km = NULL;
      ts_kmeans_options_init (&opt);
      opt.seed = seed;
      km = ts_kmeans (x, 60, 3, 4, &opt, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (km->converged);
      g_assert_cmpfloat_with_epsilon (km->inertia, 67.002083, 1e-3);
      qsort (km->centroids, 4, 3 * sizeof (float), cmp_centre);
      for (int c = 0; c < 4; c++)
        for (int j = 0; j < 3; j++)
          g_assert_cmpfloat_with_epsilon (km->centroids[c * 3 + j], expect[c][j], 1e-5);
      for (int c = 0; c < 4; c++)
        g_assert_cmpint (km->sizes[c], ==, 15);
    }
}

static void
test_hand_1d (void)
{
  /* {0, 1} and {10, 11}: centres 0.5 and 10.5, inertia 4 x 0.25 = 1 */
  const float x[] = { 0, 10, 1, 11 };
  g_autoptr (TsKMeans) km = ts_kmeans (x, 4, 1, 2, NULL, NULL, NULL);
  float lo, hi;

  g_assert_nonnull (km);
  lo = MIN (km->centroids[0], km->centroids[1]);
  hi = MAX (km->centroids[0], km->centroids[1]);
  g_assert_cmpfloat_with_epsilon (lo, 0.5, 1e-6);
  g_assert_cmpfloat_with_epsilon (hi, 10.5, 1e-6);
  g_assert_cmpfloat_with_epsilon (km->inertia, 1.0, 1e-5);
  g_assert_cmpint (km->labels[0], ==, km->labels[2]);
  g_assert_cmpint (km->labels[1], ==, km->labels[3]);
  g_assert_cmpint (km->labels[0], !=, km->labels[1]);
}

static void
test_assign_ties (void)
{
  /* 0.5 is equidistant from 0 and 1: the lower index wins */
  const float x[] = { 0.5f, -3.0f, 4.0f };
  const float c[] = { 1.0f, 0.0f };
  int labels[3];
  float d2[3];

  g_assert_true (ts_kmeans_assign (x, 3, 1, c, 2, labels, d2, NULL, NULL));
  g_assert_cmpint (labels[0], ==, 0);
  g_assert_cmpint (labels[1], ==, 1);
  g_assert_cmpint (labels[2], ==, 0);
  g_assert_cmpfloat_with_epsilon (d2[0], 0.25, 1e-6);
  g_assert_cmpfloat_with_epsilon (d2[1], 9.0, 1e-5);
  g_assert_cmpfloat_with_epsilon (d2[2], 9.0, 1e-5);
}

static void
test_k_equals_n_and_duplicates (void)
{
  g_autofree float *x = golden_points ();
  g_autoptr (TsKMeans) all = ts_kmeans (x, 30, 2, 30, NULL, NULL, NULL);
  /* 12 rows but only 3 distinct values; k = 5 */
  float dup[12];
  g_autoptr (TsKMeans) km = NULL;
  int total = 0, nonempty = 0;

  g_assert_nonnull (all);
  g_assert_cmpfloat_with_epsilon (all->inertia, 0.0, 1e-9);
  for (int c = 0; c < 30; c++)
    g_assert_cmpint (all->sizes[c], ==, 1);
  for (int i = 0; i < 12; i++)
    dup[i] = (float) (i % 3);
  km = ts_kmeans (dup, 12, 1, 5, NULL, NULL, NULL);
  g_assert_nonnull (km);
  g_assert_cmpfloat_with_epsilon (km->inertia, 0.0, 1e-9);
  for (int c = 0; c < 5; c++)
    {
      total += km->sizes[c];
      nonempty += km->sizes[c] > 0;
    }
  g_assert_cmpint (total, ==, 12);
  g_assert_cmpint (nonempty, ==, 3);
}

static void
test_determinism (void)
{
  g_autofree float *x = golden_points ();
  TsKMeansOptions opt;
  g_autoptr (TsKMeans) a = NULL;
  g_autoptr (TsKMeans) b = NULL;
  g_autoptr (TsKMeans) c = NULL;

  ts_kmeans_options_init (&opt);
  opt.seed = 12345678901ULL;
  a = ts_kmeans (x, 200, 2, 16, &opt, NULL, NULL);
  b = ts_kmeans (x, 200, 2, 16, &opt, NULL, NULL);
  opt.seed = 7;
  c = ts_kmeans (x, 200, 2, 16, &opt, NULL, NULL);
  g_assert_cmpmem (a->centroids, 16 * 2 * sizeof (float), b->centroids, 16 * 2 * sizeof (float));
  g_assert_cmpmem (a->labels, 200 * sizeof (int), b->labels, 200 * sizeof (int));
  g_assert_nonnull (c);
  /* seeding only: max_iter < 0 gives k-means++ centres that are data rows */
  opt.max_iter = -1;
  {
    g_autoptr (TsKMeans) s = ts_kmeans (x, 200, 2, 16, &opt, NULL, NULL);
    g_assert_cmpint (s->iterations, ==, 0);
    for (int j = 0; j < 16; j++)
      {
        gboolean found = FALSE;
        for (int i = 0; i < 200 && !found; i++)
          found = x[i * 2] == s->centroids[j * 2] && x[i * 2 + 1] == s->centroids[j * 2 + 1];
        g_assert_true (found);
      }
  }
}

/* The pieces the resampler uses: seeding alone is ts_kmeans's start, Lloyd
 * steps are ts_kmeans_lloyd's centroids; seeding with up to 8 and with more
 * candidates (direct dots vs SGEMM distances) on 300 x 40 rows. */
static void
test_seed_and_steps (void)
{
  g_autofree float *x = g_new (float, 300 * 40);
  guint32 r = 99;
  const int trials[] = { 1, 3, 8, 12 };

  for (int i = 0; i < 300 * 40; i++)
    {
      r = r * 1664525u + 1013904223u;
      x[i] = (float) (r >> 8) / 16777216.0f + (i / 40) % 5; /* five loose blobs */
    }
  for (guint t = 0; t < G_N_ELEMENTS (trials); t++)
    {
      TsKMeansOptions o;
      g_autoptr (TsKMeans) seeded = NULL;
      g_autoptr (TsKMeans) lloyd = NULL;
      g_autofree float *c = g_new (float, 17 * 40);
      ts_kmeans_options_init (&o);
      o.seed = 7 + t;
      o.n_local_trials = trials[t];
      o.max_iter = -1; /* seeding only */
      seeded = ts_kmeans (x, 300, 40, 17, &o, NULL, NULL);
      g_assert_true (ts_kmeans_seed (x, 300, 40, 17, &o, c, NULL, NULL));
      g_assert_cmpmem (c, sizeof (float) * 17 * 40, seeded->centroids, sizeof (float) * 17 * 40);
      lloyd = ts_kmeans_lloyd (x, 300, 40, c, 17, 3, NULL, NULL);
      g_assert_true (ts_kmeans_steps (x, 300, 40, c, 17, 3, NULL, NULL));
      g_assert_cmpmem (c, sizeof (float) * 17 * 40, lloyd->centroids, sizeof (float) * 17 * 40);
    }
}

/* Test inputs for the bounded path: loose blobs (most distances skipped),
 * uniform noise (few skipped: bounded passes give way to full ones),
 * integer rows with exact ties and duplicates (from the first rows as
 * centres: empty clusters relocated), fewer distinct rows than k. */
typedef enum { INPUT_BLOBS, INPUT_NOISE, INPUT_GRID, INPUT_FEW_DISTINCT, INPUT_EMPTY } InputKind;

typedef struct {
  const char *name;
  InputKind kind;
  int n, d, k;
} Input;

static const Input inputs[] = {
  { "blobs 300 x 40, k 17", INPUT_BLOBS, 300, 40, 17 },
  { "blobs 400 x 24, k 64", INPUT_BLOBS, 400, 24, 64 },
  { "blobs 64 x 5, k 64 (k = n)", INPUT_BLOBS, 64, 5, 64 },
  { "uniform noise 300 x 64, k 40 (bounds leave most distances: full passes)", INPUT_NOISE, 300, 64, 40 },
  { "uniform noise 500 x 2, k 60 (many rows near a boundary)", INPUT_NOISE, 500, 2, 60 },
  { "integer grid 90 x 2 with duplicates, k 12", INPUT_GRID, 90, 2, 12 },
  { "integer grid 60 x 3, k 20", INPUT_GRID, 60, 3, 20 },
  { "3 distinct rows in 24, k 5", INPUT_FEW_DISTINCT, 24, 2, 5 },
  { "line 0 0 2 3 .. 19, k 4: an empty cluster moves to 19", INPUT_EMPTY, 20, 1, 4 },
};

static float *
input_rows (const Input *in)
{
  float *x = g_new (float, (gsize) in->n * in->d);
  guint32 r = 1234 + in->n + in->k;

  for (int i = 0; i < in->n; i++)
    for (int j = 0; j < in->d; j++)
      {
        float *v = x + (gsize) i * in->d + j;
        r = r * 1664525u + 1013904223u;
        switch (in->kind)
          {
          case INPUT_BLOBS: /* 8 blob centres at integer offsets, uniform noise of width 1 */
            *v = (float) ((i % 8) * ((j % 3) + 1) + (r >> 8) / 16777216.0);
            break;
          case INPUT_NOISE:
            *v = (float) ((r >> 8) / 16777216.0);
            break;
          case INPUT_GRID: /* small integers: every distance exact, many ties, repeated rows */
            *v = (float) ((r >> 24) % 5);
            break;
          case INPUT_FEW_DISTINCT:
            *v = (float) ((i % 3) * 2 + j);
            break;
          case INPUT_EMPTY: /* from the first rows, centre 1 ties with centre 0 and is left empty */
          default:
            *v = i == 1 ? 0.0f : (float) i;
            break;
          }
      }
  return x;
}

static void
assert_same_kmeans (const TsKMeans *a, const TsKMeans *b)
{
  g_assert_cmpint (a->iterations, ==, b->iterations);
  g_assert_cmpint (a->converged, ==, b->converged);
  g_assert_cmpmem (a->labels, sizeof (int) * a->n, b->labels, sizeof (int) * b->n);
  g_assert_cmpmem (a->sizes, sizeof (int) * a->k, b->sizes, sizeof (int) * b->k);
  g_assert_cmpmem (a->centroids, sizeof (float) * a->k * a->d, b->centroids, sizeof (float) * b->k * b->d);
  g_assert_cmpfloat (a->inertia, ==, b->inertia);
}

/* ts_kmeans (pruned seeding, bounded Lloyd) gives bit for bit what
 * ts_kmeans_full (every distance computed) gives: seeding alone, a few
 * iterations, to convergence with and without sklearn's tolerance; seeding
 * with 1 and 3 candidates (pruned) and 12 (SGEMM, not pruned). */
static void
test_bounded_equals_full (void)
{
  const int max_iters[] = { -1, 1, 3, 0 };
  const double tols[] = { 1e-4, 0 };
  const int trials[] = { 1, 3, 12 };

  for (guint c = 0; c < G_N_ELEMENTS (inputs); c++)
    {
      g_autofree float *x = input_rows (&inputs[c]);
      for (guint m = 0; m < G_N_ELEMENTS (max_iters); m++)
        for (guint t = 0; t < G_N_ELEMENTS (tols); t++)
          for (guint s = 0; s < G_N_ELEMENTS (trials); s++)
            {
              TsKMeansOptions o;
              g_autoptr (GError) error = NULL;
              g_autoptr (TsKMeans) fast = NULL;
              g_autoptr (TsKMeans) full = NULL;
              ts_kmeans_options_init (&o);
              o.seed = 11 + c + s;
              o.max_iter = max_iters[m];
              o.tol = tols[t];
              o.n_local_trials = trials[s];
              g_test_message ("%s, max_iter %d, tol %g, %d candidates", inputs[c].name, o.max_iter, o.tol,
                              o.n_local_trials);
              fast = ts_kmeans (x, inputs[c].n, inputs[c].d, inputs[c].k, &o, NULL, &error);
              g_assert_no_error (error);
              full = ts_kmeans_full (x, inputs[c].n, inputs[c].d, inputs[c].k, &o, NULL, &error);
              g_assert_no_error (error);
              assert_same_kmeans (fast, full);
            }
    }
}

/* The row an empty cluster takes: the farthest from its centre among the
 * rows not @used in clusters of at least two, the lowest of the farthest; -1
 * when all of those sit on their centres. */
static int
relocated_row (const int *labels, const int *sizes, const double *dist2, const gboolean *used, int n)
{
  int far = -1;
  double most = 0;

  for (int i = n - 1; i >= 0; i--) /* backwards with >=: the lowest row among the farthest */
    if (!used[i] && sizes[labels[i]] >= 2 && dist2[i] >= most && dist2[i] > 0)
      most = dist2[i], far = i;
  return far;
}

/* Plain Lloyd as sklearn's _kmeans_single_lloyd states it, written out
 * without any of ts_kmeans's machinery: distances summed in double, the
 * nearest centre with ties to the lower index, means in double, an empty
 * cluster moved to the farthest row of a cluster with more than one row, no
 * tolerance (labels unchanged stops); then the labels of the final centres. */
static TsKMeans *
plain_lloyd (const float *x, int n, int d, const float *init, int k, int max_iter)
{
  TsKMeans *km = g_new0 (TsKMeans, 1);
  g_autofree double *dist2 = g_new (double, n);
  g_autofree double *sums = g_new (double, (gsize) k * d);
  g_autofree int *prev = g_new (int, n);
  g_autofree gboolean *used = g_new (gboolean, n);
  gboolean stable = FALSE;

  km->n = n, km->d = d, km->k = k;
  km->centroids = g_memdup2 (init, sizeof (float) * k * d);
  km->labels = g_new (int, n);
  km->sizes = g_new0 (int, k);
  for (int it = 0; it <= max_iter && !stable; it++)
    {
      for (int i = 0; i < n; i++)
        for (int c = 0; c < k; c++)
          {
            double s = 0;
            for (int j = 0; j < d; j++)
              s += ((double) x[i * d + j] - km->centroids[c * d + j]) * ((double) x[i * d + j] - km->centroids[c * d + j]);
            if (c == 0 || s < dist2[i])
              dist2[i] = s, km->labels[i] = c;
          }
      if (it == max_iter) /* the final labels */
        break;
      km->iterations = it + 1;
      if (it > 0 && memcmp (prev, km->labels, sizeof (int) * n) == 0)
        {
          stable = km->converged = TRUE;
          break;
        }
      memcpy (prev, km->labels, sizeof (int) * n);
      memset (sums, 0, sizeof (double) * k * d);
      memset (km->sizes, 0, sizeof (int) * k);
      memset (used, 0, sizeof (gboolean) * n);
      for (int i = 0; i < n; i++)
        {
          km->sizes[km->labels[i]]++;
          for (int j = 0; j < d; j++)
            sums[km->labels[i] * d + j] += x[i * d + j];
        }
      for (int c = 0; c < k; c++)
        {
          int far;
          if (km->sizes[c] > 0)
            continue;
          far = relocated_row (km->labels, km->sizes, dist2, used, n);
          if (far < 0)
            continue;
          used[far] = TRUE;
          for (int j = 0; j < d; j++)
            {
              sums[km->labels[far] * d + j] -= x[far * d + j];
              sums[c * d + j] = x[far * d + j];
            }
          km->sizes[km->labels[far]]--;
          km->sizes[c] = 1;
          km->labels[far] = prev[far] = c;
        }
      for (int c = 0; c < k; c++)
        for (int j = 0; j < d && km->sizes[c] > 0; j++)
          km->centroids[c * d + j] = (float) (sums[c * d + j] / km->sizes[c]);
    }
  memset (km->sizes, 0, sizeof (int) * k);
  for (int i = 0; i < n; i++)
    {
      km->sizes[km->labels[i]]++;
      km->inertia += dist2[i];
    }
  return km;
}

/* ts_kmeans_lloyd (bounded) against plain_lloyd from the same centres (the
 * first k rows: duplicates among them where the rows repeat, so ties between
 * equal centres too): the same labels, centres, sizes and iterations. */
static void
test_bounded_equals_plain (void)
{
  const int max_iters[] = { 1, 2, 5, 300 };

  for (guint c = 0; c < G_N_ELEMENTS (inputs); c++)
    for (guint m = 0; m < G_N_ELEMENTS (max_iters); m++)
      {
        const Input *in = &inputs[c];
        g_autofree float *x = input_rows (in);
        g_autoptr (GError) error = NULL;
        g_autoptr (TsKMeans) km = NULL;
        g_autoptr (TsKMeans) ref = NULL;
        g_test_message ("%s, max_iter %d", in->name, max_iters[m]);
        km = ts_kmeans_lloyd (x, in->n, in->d, x, in->k, max_iters[m], NULL, &error);
        g_assert_no_error (error);
        ref = plain_lloyd (x, in->n, in->d, x, in->k, max_iters[m]);
        g_assert_cmpint (km->iterations, ==, ref->iterations);
        g_assert_cmpint (km->converged, ==, ref->converged);
        g_assert_cmpmem (km->labels, sizeof (int) * in->n, ref->labels, sizeof (int) * in->n);
        g_assert_cmpmem (km->sizes, sizeof (int) * in->k, ref->sizes, sizeof (int) * in->k);
        g_assert_cmpmem (km->centroids, sizeof (float) * in->k * in->d, ref->centroids,
                         sizeof (float) * in->k * in->d);
        g_assert_cmpfloat_with_epsilon (km->inertia, ref->inertia, 1e-9 * (1 + ref->inertia));
      }
}

/* Normalised pixel features of a photo-like picture, as token entropy
 * clusters them (576 tokens x 588): the bounded k-means equals the full one. */
static void
test_bounded_equals_full_features (void)
{
  g_autoptr (TsImage) im = ts_test_noisy_gradient (336, 336, 3, 20);
  g_autoptr (TsScene) s = ts_scene_new (ts_image_copy (im), 14, TS_FEATURES_PIXEL, NULL, NULL);
  const TsFeatures *f = s->normalized;
  TsKMeansOptions o;
  g_autoptr (TsKMeans) fast = NULL;
  g_autoptr (TsKMeans) full = NULL;

  ts_kmeans_options_init (&o);
  o.n_local_trials = 1;
  o.max_iter = 50;
  fast = ts_kmeans (f->data, f->n, f->d, 96, &o, NULL, NULL);
  full = ts_kmeans_full (f->data, f->n, f->d, 96, &o, NULL, NULL);
  g_assert_cmpint (fast->iterations, >, 3);
  assert_same_kmeans (fast, full);
}

/* ts_kmeans_seed_steps (the first assignment bounded by the seeding) gives
 * bit for bit the seeds of ts_kmeans_seed and the centres of ts_kmeans_steps
 * from them, on every test input and on pixel features, for 0 to 3 steps. */
static void
test_seed_steps (void)
{
  g_autoptr (TsImage) im = ts_test_noisy_gradient (336, 336, 3, 20);
  g_autoptr (TsScene) s = ts_scene_new (ts_image_copy (im), 14, TS_FEATURES_PIXEL, NULL, NULL);

  for (guint c = 0; c <= G_N_ELEMENTS (inputs); c++)
    for (int steps = 0; steps <= 3; steps++)
      {
        gboolean photo = c == G_N_ELEMENTS (inputs);
        int n = photo ? s->normalized->n : inputs[c].n, d = photo ? s->normalized->d : inputs[c].d;
        int k = photo ? 144 : inputs[c].k;
        g_autofree float *rows = photo ? NULL : input_rows (&inputs[c]);
        const float *x = photo ? s->normalized->data : rows;
        g_autofree float *seeds = g_new (float, (gsize) k * d);
        g_autofree float *got = g_new (float, (gsize) k * d);
        g_autofree float *want = g_new (float, (gsize) k * d);
        TsKMeansOptions o;
        ts_kmeans_options_init (&o);
        o.seed = 3 + c;
        o.n_local_trials = c % 2 ? 1 : 0; /* the resampler's one candidate, and sklearn's several */
        g_test_message ("%s, %d steps", photo ? "pixel features 576 x 588, k 144" : inputs[c].name, steps);
        g_assert_true (ts_kmeans_seed (x, n, d, k, &o, want, NULL, NULL));
        g_assert_true (ts_kmeans_seed_steps (x, n, d, k, &o, steps, seeds, got, NULL, NULL));
        g_assert_cmpmem (seeds, sizeof (float) * k * d, want, sizeof (float) * k * d);
        g_assert_true (ts_kmeans_steps (x, n, d, want, k, steps, NULL, NULL));
        g_assert_cmpmem (got, sizeof (float) * k * d, want, sizeof (float) * k * d);
        g_assert_true (ts_kmeans_seed_steps (x, n, d, k, &o, steps, NULL, got, NULL, NULL)); /* seeds not wanted */
        g_assert_cmpmem (got, sizeof (float) * k * d, want, sizeof (float) * k * d);
      }
}

/* ---- through the Gram matrix ---- */

/* The n x n Gram matrix of @x as a scene makes it (ts_scene_gram): SSYRK's
 * upper triangle, mirrored. */
static float *
gram_of (const float *x, int n, int d)
{
  float *g = g_new (float, (gsize) n * n);

  cblas_ssyrk (CblasRowMajor, CblasUpper, CblasNoTrans, n, d, 1.0f, x, d, 0.0f, g, n);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < i; j++)
      g[(gsize) i * n + j] = g[(gsize) j * n + i];
  return g;
}

static double
dist2_exact (const float *a, const double *b, int d)
{
  double s = 0;

  for (int j = 0; j < d; j++)
    s += (a[j] - b[j]) * (a[j] - b[j]);
  return s;
}

/* k-means++ seeding as seed_plusplus states it (the same GRand draws, the
 * greedy choice of @trials candidates, a squared distance below 1e-6 of the
 * two squared norms counted as 0, the lowest unchosen row when every
 * distance is 0), every distance in double: exact arithmetic but for the
 * last bits of a double. */
static void
exact_seed (const float *x, int n, int d, int k, int trials, guint64 seed, int *out)
{
  guint32 words[2] = { (guint32) seed, (guint32) (seed >> 32) };
  g_autoptr (GRand) rand = g_rand_new_with_seed_array (words, 2);
  g_autofree double *xn = g_new0 (double, n);
  g_autofree double *closest = g_new (double, n);
  g_autofree double *cand = g_new (double, (gsize) trials * n);
  g_autofree double *row = g_new (double, d);
  g_autofree int *ci = g_new (int, trials);
  g_autofree gboolean *chosen = g_new0 (gboolean, n);

  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++)
      xn[i] += (double) x[i * d + j] * x[i * d + j];
  for (int c = 0; c < k; c++)
    {
      int best_t = 0;
      double acc = 0, best_pot = G_MAXDOUBLE;
      if (c == 0)
        {
          ci[0] = g_rand_int_range (rand, 0, n);
          for (int i = 0; i < n; i++)
            closest[i] = G_MAXDOUBLE;
        }
      else
        {
          int lowest = 0;
          for (int i = 0; i < n; i++)
            acc += closest[i];
          for (; acc == 0 && chosen[lowest]; lowest++)
            ;
          if (acc == 0) /* every distance 0: the lowest row not chosen */
            {
              chosen[lowest] = TRUE;
              out[c] = lowest;
              continue;
            }
        }
      for (int t = 0; t < (c == 0 ? 1 : trials); t++)
        {
          if (c > 0)
            {
              double v = g_rand_double (rand) * acc, run = closest[0];
              int lo = 0;
              while (run <= v && lo < n - 1) /* the first row whose running sum exceeds v */
                run += closest[++lo];
              while (closest[lo] == 0 && lo > 0)
                lo--;
              ci[t] = lo;
            }
          for (int j = 0; j < d; j++)
            row[j] = x[ci[t] * d + j];
          for (int i = 0; i < n; i++)
            {
              double v = dist2_exact (x + i * d, row, d);
              if (!(v > 1e-6 * (xn[i] + xn[ci[t]])))
                v = 0;
              cand[(gsize) t * n + i] = MIN (v, closest[i]);
            }
          cand[(gsize) t * n + ci[t]] = 0;
        }
      for (int t = 0; t < trials && c > 0 && trials > 1; t++)
        {
          double p = 0;
          for (int i = 0; i < n; i++)
            p += cand[(gsize) t * n + i];
          if (p < best_pot)
            best_pot = p, best_t = t;
        }
      memcpy (closest, cand + (gsize) best_t * n, sizeof (double) * n);
      chosen[ci[best_t]] = TRUE;
      out[c] = ci[best_t];
    }
}

/* @steps Lloyd updates as plain_lloyd states them, on exact means: each
 * centre the mean in double of its rows (never rounded), each row to its
 * nearest centre by distances in double (ties to the lower index), an empty
 * cluster to the farthest row of a cluster with more than one row (ties to
 * the lower row) or else left where it was; stops when labels repeat. The
 * centres into @centres (k x d), the last labels into @labels (-1 after none). */
static void
exact_steps (const float *x, int n, int d, const int *first, int k, int steps, double *centres, int *labels)
{
  g_autofree double *dist2 = g_new (double, n);
  g_autofree int *sizes = g_new (int, k);
  g_autofree int *prev = g_new (int, n);
  g_autofree gboolean *used = g_new (gboolean, n);

  for (int c = 0; c < k; c++)
    for (int j = 0; j < d; j++)
      centres[c * d + j] = x[first[c] * d + j];
  for (int i = 0; i < n; i++)
    labels[i] = -1;
  for (int it = 0; it < steps; it++)
    {
      memcpy (prev, labels, sizeof (int) * n);
      for (int i = 0; i < n; i++)
        for (int c = 0; c < k; c++)
          {
            double s = dist2_exact (x + i * d, centres + c * d, d);
            if (c == 0 || s < dist2[i])
              dist2[i] = s, labels[i] = c;
          }
      if (it > 0 && memcmp (prev, labels, sizeof (int) * n) == 0)
        break;
      memset (sizes, 0, sizeof (int) * k);
      memset (used, 0, sizeof (gboolean) * n);
      for (int i = 0; i < n; i++)
        sizes[labels[i]]++;
      for (int c = 0; c < k; c++)
        if (sizes[c] == 0)
          {
            int far = relocated_row (labels, sizes, dist2, used, n);
            if (far >= 0) /* it leaves its cluster for c */
              {
                used[far] = TRUE;
                sizes[labels[far]] -= 1;
                labels[far] = c;
                sizes[c] = 1;
              }
          }
      for (int c = 0; c < k; c++)
        if (sizes[c] > 0)
          {
            for (int j = 0; j < d; j++)
              centres[c * d + j] = 0;
            for (int i = 0; i < n; i++) /* in row order */
              for (int j = 0; j < d && labels[i] == c; j++)
                centres[c * d + j] += x[i * d + j];
            for (int j = 0; j < d; j++)
              centres[c * d + j] /= sizes[c];
          }
    }
}

/* Normalised pixel features of a photo-like picture (576 x 588), and of a
 * picture with flat areas (many identical rows). */
static TsScene *
gram_scene (gboolean flat)
{
  TsImage *im = ts_test_noisy_gradient (336, 336, 3, 20);

  for (int y = 0; y < 336 && flat; y++) /* the top left quarter one colour */
    for (int x = 0; x < 168 && y < 168; x++)
      for (int c = 0; c < 3; c++)
        im->data[((gsize) y * 336 + x) * 3 + c] = (guint8) (40 + 50 * c);
  return ts_scene_new (im, 14, TS_FEATURES_PIXEL, NULL, NULL);
}

/* Input @c of the Gram tests: the test inputs, then pixel features of
 * @photo and of @flat (k 144), with their Gram matrix. */
typedef struct {
  const char *name;
  int n, d, k;
  float *rows; /* the test input's rows, when one */
  const float *x;
  float *gram;
} GramCase;

static void
gram_case_init (GramCase *g, guint c, const TsScene *photo, const TsScene *flat)
{
  const TsScene *s = c == G_N_ELEMENTS (inputs) ? photo : c > G_N_ELEMENTS (inputs) ? flat : NULL;

  g->name = s ? (s == flat ? "flat pixel features" : "pixel features") : inputs[c].name;
  g->n = s ? s->normalized->n : inputs[c].n;
  g->d = s ? s->normalized->d : inputs[c].d;
  g->k = s ? 144 : inputs[c].k;
  g->rows = s ? NULL : input_rows (&inputs[c]);
  g->x = s ? s->normalized->data : g->rows;
  g->gram = gram_of (g->x, g->n, g->d);
}

static void
gram_case_clear (GramCase *g)
{
  g_free (g->rows);
  g_free (g->gram);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (GramCase, gram_case_clear)

/* ts_kmeans_gram_seed draws the seeds of exact arithmetic (exact_seed) on
 * every test input and on pixel features, with 1 and 3 candidates; where
 * float distances draw the same (ts_kmeans_seed), its rows are those seeds. */
static void
test_gram_seed (void)
{
  g_autoptr (TsScene) photo = gram_scene (FALSE);
  g_autoptr (TsScene) flat = gram_scene (TRUE);
  int same_as_float = 0, cases = 0;

  for (guint c = 0; c < G_N_ELEMENTS (inputs) + 2; c++)
    for (int trials = 1; trials <= 3; trials += 2)
      {
        g_auto (GramCase) in = { 0 };
        gram_case_init (&in, c, photo, flat);
        int n = in.n, d = in.d, k = in.k;
        const float *x = in.x, *gram = in.gram;
        g_autofree int *got = g_new (int, k);
        g_autofree int *want = g_new (int, k);
        g_autofree float *dense = g_new (float, (gsize) k * d);
        g_autoptr (GError) error = NULL;
        TsKMeansOptions o;
        gboolean same = TRUE;
        ts_kmeans_options_init (&o);
        o.seed = 5 + c;
        o.n_local_trials = trials;
        g_test_message ("%s, %d candidates", in.name, trials);
        g_assert_true (ts_kmeans_gram_seed (x, n, d, gram, k, &o, got, NULL, &error));
        g_assert_no_error (error);
        exact_seed (x, n, d, k, trials, o.seed, want);
        g_assert_cmpmem (got, sizeof (int) * k, want, sizeof (int) * k);
        g_assert_true (ts_kmeans_seed (x, n, d, k, &o, dense, NULL, NULL));
        for (int j = 0; j < k; j++)
          same &= memcmp (dense + (gsize) j * d, x + (gsize) got[j] * d, sizeof (float) * d) == 0;
        same_as_float += same;
        cases++;
      }
  /* here no draw falls within float rounding of a boundary (on a photo with
   * many near-identical patches one may: then only the exact draws agree) */
  g_test_message ("float distances drew the same seeds in %d of %d cases", same_as_float, cases);
  g_assert_cmpint (same_as_float, ==, cases);
}

/* ts_kmeans_gram_steps is exact Lloyd (exact_steps) from the same centres,
 * for 0 to 3 steps, on every test input (duplicates, ties, empty clusters)
 * and pixel features: the same labels, and each centre the mean of its rows
 * equal to the exact centre; ts_kmeans_members_dots within float rounding of
 * the dot products. */
static void
test_gram_steps (void)
{
  g_autoptr (TsScene) photo = gram_scene (FALSE);
  g_autoptr (TsScene) flat = gram_scene (TRUE);

  for (guint c = 0; c < G_N_ELEMENTS (inputs) + 2; c++)
    for (int steps = 0; steps <= 3; steps++)
      {
        g_auto (GramCase) in = { 0 };
        gram_case_init (&in, c, photo, flat);
        int n = in.n, d = in.d, k = in.k;
        const float *x = in.x, *gram = in.gram;
        g_autofree int *first = g_new (int, k);
        g_autofree int *labels = g_new (int, n);
        g_autofree double *want = g_new (double, (gsize) k * d);
        g_autofree double *mean = g_new (double, d);
        g_autofree float *dots = g_new (float, n);
        g_autoptr (TsKMeansMembers) m = NULL;
        g_autoptr (GError) error = NULL;
        TsKMeansOptions o;
        ts_kmeans_options_init (&o);
        o.seed = 9 + c;
        o.n_local_trials = 1;
        g_test_message ("%s, %d steps", in.name, steps);
        exact_seed (x, n, d, k, 1, o.seed, first);
        m = ts_kmeans_gram_steps (x, n, d, gram, first, k, steps, NULL, &error);
        g_assert_no_error (error);
        exact_steps (x, n, d, first, k, steps, want, labels);
        g_assert_cmpmem (m->labels, sizeof (int) * n, labels, sizeof (int) * n);
        for (int q = 0; q < k; q++)
          {
            int size = m->start[q + 1] - m->start[q];
            double scale = 0;
            g_assert_cmpint (size, >, 0);
            memset (mean, 0, sizeof (double) * d);
            for (int p = m->start[q]; p < m->start[q + 1]; p++)
              {
                g_assert_true (p == m->start[q] || m->rows[p] > m->rows[p - 1]);
                for (int j = 0; j < d; j++)
                  mean[j] += x[m->rows[p] * d + j];
              }
            for (int j = 0; j < d; j++)
              {
                mean[j] /= size;
                g_assert_cmpfloat (mean[j], ==, want[q * d + j]);
              }
            /* the centre's dot products: its rows' Gram rows summed */
            ts_kmeans_members_dots (m, q, gram, dots);
            for (int i = 0; i < n; i++)
              scale = MAX (scale, fabs (gram[(gsize) i * n + i]));
            for (int i = 0; i < n; i += 7)
              {
                double dot = 0;
                for (int j = 0; j < d; j++)
                  dot += mean[j] * x[i * d + j];
                g_assert_cmpfloat (fabs (dots[i] / size - dot), <=, (d + size + 2) * 0x1p-24 * scale);
              }
          }
        for (int i = 0; i < n && steps > 0; i++) /* every row among its centre's rows */
          {
            int q = m->labels[i], found = 0;
            for (int p = m->start[q]; p < m->start[q + 1]; p++)
              found += m->rows[p] == i;
            g_assert_cmpint (found, ==, 1);
          }
      }
}

static void
test_bad_input (void)
{
  const float x[] = { 0, 1, 2, NAN };
  const float ok[] = { 0, 1, 2, 3 };
  int labels[4];
  float labels_f[4] = { 0, 1, 2, 3 };
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  GError *error = NULL;

  g_assert_null (ts_kmeans (ok, 4, 1, 0, NULL, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ts_kmeans (ok, 4, 1, 5, NULL, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ts_kmeans (NULL, 4, 1, 2, NULL, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ts_kmeans (x, 4, 1, 2, NULL, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_clear_error (&error);
  g_assert_null (ts_kmeans_lloyd (ok, 4, 1, NULL, 2, 10, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_kmeans_assign (ok, 4, 1, NULL, 2, labels, NULL, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_kmeans_seed (ok, 4, 1, 2, NULL, NULL, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_kmeans_seed (x, 4, 1, 2, NULL, labels_f, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_clear_error (&error);
  g_assert_false (ts_kmeans_steps (ok, 4, 1, NULL, 2, 1, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_kmeans_steps (ok, 4, 1, labels_f, 2, -1, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_kmeans_seed_steps (ok, 4, 1, 2, NULL, 1, NULL, NULL, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_kmeans_seed_steps (ok, 4, 1, 2, NULL, -1, NULL, labels_f, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_kmeans_seed_steps (x, 4, 1, 2, NULL, 1, NULL, labels_f, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_clear_error (&error);
  {
    const float gram[] = { 0, 0, 0, 0, 0, 1, 2, 3, 0, 2, 4, 6, 0, 3, 6, 9 }; /* of ok */
    const int first[] = { 0, 3 }, outside[] = { 0, 4 };
    int seeds[2];
    g_assert_false (ts_kmeans_gram_seed (ok, 4, 1, NULL, 2, NULL, seeds, NULL, &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_false (ts_kmeans_gram_seed (ok, 4, 1, gram, 2, NULL, NULL, NULL, &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_false (ts_kmeans_gram_seed (ok, 4, 1, gram, 5, NULL, seeds, NULL, &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_false (ts_kmeans_gram_seed (x, 4, 1, gram, 2, NULL, seeds, NULL, &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
    g_clear_error (&error);
    g_assert_null (ts_kmeans_gram_steps (ok, 4, 1, NULL, first, 2, 1, NULL, &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_null (ts_kmeans_gram_steps (ok, 4, 1, gram, outside, 2, 1, NULL, &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_null (ts_kmeans_gram_steps (ok, 4, 1, gram, first, 2, -1, NULL, &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_null (ts_kmeans_gram_steps (x, 4, 1, gram, first, 2, 1, NULL, &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
    g_clear_error (&error);
    g_cancellable_cancel (cancel);
    g_assert_false (ts_kmeans_gram_seed (ok, 4, 1, gram, 3, NULL, seeds, cancel, &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_CANCELLED);
    g_clear_error (&error);
    g_assert_null (ts_kmeans_gram_steps (ok, 4, 1, gram, first, 2, 1, cancel, &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_CANCELLED);
    g_clear_error (&error);
    ts_kmeans_members_free (NULL);
  }
  g_assert_null (ts_kmeans (ok, 4, 1, 2, NULL, cancel, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_CANCELLED);
  g_clear_error (&error);
  ts_kmeans_free (NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kmeans/lloyd-sklearn", test_lloyd_sklearn);
  g_test_add_func ("/kmeans/plusplus-blobs", test_plusplus_blobs);
  g_test_add_func ("/kmeans/hand-1d", test_hand_1d);
  g_test_add_func ("/kmeans/assign-ties", test_assign_ties);
  g_test_add_func ("/kmeans/k-equals-n-duplicates", test_k_equals_n_and_duplicates);
  g_test_add_func ("/kmeans/determinism", test_determinism);
  g_test_add_func ("/kmeans/seed-and-steps", test_seed_and_steps);
  g_test_add_func ("/kmeans/bounded-equals-full", test_bounded_equals_full);
  g_test_add_func ("/kmeans/bounded-equals-plain", test_bounded_equals_plain);
  g_test_add_func ("/kmeans/bounded-equals-full-features", test_bounded_equals_full_features);
  g_test_add_func ("/kmeans/seed-steps", test_seed_steps);
  g_test_add_func ("/kmeans/gram-seed", test_gram_seed);
  g_test_add_func ("/kmeans/gram-steps", test_gram_steps);
  g_test_add_func ("/kmeans/bad-input", test_bad_input);
  return g_test_run ();
}
