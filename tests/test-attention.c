/* Feature attention: rows against a naive dense softmax, blockwise == dense, bricks, the odd patch, CLI. */
#include <cblas.h>
#include <json-glib/json-glib.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "ts-test-util.h"

/* Deterministic features in [-1, 1] from an LCG. */
static TsFeatures *
lcg_features (int n, int d, guint32 seed)
{
  TsFeatures *f = ts_features_new (n, d, NULL);

  for (int i = 0; i < n * d; i++)
    {
      seed = seed * 1664525u + 1013904223u;
      f->data[i] = (float) ((seed >> 8) / 8388608.0 - 1.0);
    }
  return f;
}

/* Naive dense A = softmax(X X^T / tau) in double, X normalised here. */
static double *
dense_attention (const TsFeatures *raw, double tau)
{
  int n = raw->n, d = raw->d;
  double *a = g_new (double, (gsize) n * n);

  for (int i = 0; i < n; i++)
    {
      double mx = -G_MAXDOUBLE, sum = 0;
      for (int j = 0; j < n; j++)
        {
          a[i * n + j] = ts_cosine (raw->data + i * d, raw->data + j * d, d) / tau;
          mx = MAX (mx, a[i * n + j]);
        }
      for (int j = 0; j < n; j++)
        sum += (a[i * n + j] = exp (a[i * n + j] - mx));
      for (int j = 0; j < n; j++)
        a[i * n + j] /= sum;
    }
  return a;
}

static void
test_rows_vs_dense (void)
{
  g_autoptr (TsFeatures) raw = lcg_features (50, 7, 3);
  g_autoptr (TsFeatures) x = ts_features_normalized (raw, NULL);
  const double taus[] = { 0.05, 0.1, 1.0 };

  for (guint t = 0; t < G_N_ELEMENTS (taus); t++)
    {
      g_autofree double *dense = dense_attention (raw, taus[t]);
      g_autofree float *rows = g_new (float, 50 * 50);
      float row[50];
      g_assert_true (ts_attention_rows (x, 0, 50, taus[t], rows, NULL));
      for (int i = 0; i < 50; i++)
        {
          double sum = 0;
          for (int j = 0; j < 50; j++)
            {
              sum += rows[i * 50 + j];
              g_assert_cmpfloat_with_epsilon (rows[i * 50 + j], dense[i * 50 + j], 1e-5);
            }
          g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
        }
      /* the query view is one row; a block in the middle equals the same rows */
      g_assert_true (ts_attention_map (x, TS_ATTENTION_QUERY, 17, taus[t], row, NULL, NULL));
      for (int j = 0; j < 50; j++)
        g_assert_cmpfloat_with_epsilon (row[j], dense[17 * 50 + j], 1e-5);
      g_assert_true (ts_attention_rows (x, 20, 5, taus[t], rows, NULL));
      for (int j = 0; j < 5 * 50; j++)
        g_assert_cmpfloat_with_epsilon (rows[j], dense[20 * 50 + j], 1e-5);
    }
}

/* The softmax as it was first written (one pass each for max, exp and sum,
 * divide, over the whole row), on the logits ts_attention_softmax_rows forms. */
static void
softmax_whole_row (float *row, int n)
{
  float mx = row[0];
  double sum = 0;

  for (int j = 1; j < n; j++)
    mx = MAX (mx, row[j]);
  for (int j = 0; j < n; j++)
    {
      float v = row[j] - mx;
      row[j] = v < -104.0f ? 0.0f : expf (v);
      sum += row[j];
    }
  for (int j = 0; j < n; j++)
    row[j] = (float) (row[j] / sum);
}

static void
test_softmax_bits (void)
{
  /* sharp rows (mostly exact zeros), soft rows, a row count that is no
   * multiple of the 16 lanes of the maximum, one row (sgemv) and rows of
   * 1 .. 40 tokens: the same bits as the whole-row softmax */
  const int sizes[][3] = { { 203, 9, 17 }, { 40, 5, 40 }, { 31, 3, 4 }, { 1, 4, 1 }, { 77, 6, 1 } };
  const float scales[] = { 300.0f, 20.0f, 1.0f };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (guint c = 0; c < G_N_ELEMENTS (scales); c++)
      {
        int n = sizes[s][0], d = sizes[s][1], m = sizes[s][2];
        g_autoptr (TsFeatures) raw = lcg_features (n, d, 5 + s);
        g_autoptr (TsFeatures) x = ts_features_normalized (raw, NULL);
        g_autofree float *got = g_new (float, (gsize) m * n);
        g_autofree float *want = g_new (float, (gsize) m * n);
        int zeros = 0;
        ts_attention_softmax_rows (x->data, m, x->data, n, d, scales[c], got);
        if (m == 1)
          cblas_sgemv (CblasRowMajor, CblasNoTrans, n, d, scales[c], x->data, d, x->data, 1, 0.0f, want, 1);
        else
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, n, d, scales[c], x->data, d, x->data, d, 0.0f,
                       want, n);
        for (int i = 0; i < m; i++)
          softmax_whole_row (want + (gsize) i * n, n);
        for (int i = 0; i < m * n; i++)
          {
            g_assert_true (memcmp (&got[i], &want[i], sizeof (float)) == 0);
            zeros += got[i] == 0.0f;
          }
        if (scales[c] == 300.0f && n > 100)
          g_assert_cmpint (zeros, >, m * n / 4); /* the sharp case does drop entries */
      }
}

/* ts_attention_softmax with a scale (applied where the logits are read) gives
 * the bits of scaling every logit first, then the whole-row softmax: scales
 * that round (not powers of two), sharp and soft, one, a negative scale (its
 * own pass), on logits of either sign with ties and zeros of either sign. */
static void
test_softmax_scaled (void)
{
  const float scales[] = { 241.9f * 3.3f, 24.19f, 1.0f, 0.37f, -2.5f };
  const int n = 203, m = 7;

  for (guint c = 0; c < G_N_ELEMENTS (scales); c++)
    {
      g_autofree float *got = g_new (float, (gsize) m * n);
      g_autofree float *want = g_new (float, (gsize) m * n);
      guint32 state = 99 + c;
      for (int i = 0; i < m * n; i++)
        {
          state = state * 1664525u + 1013904223u;
          got[i] = ((float) (state >> 8) / 16777216.0f - 0.5f) * 0.7f;
        }
      got[3] = got[40] = got[5 * n + 17]; /* ties */
      got[n + 1] = 0.0f;
      got[n + 2] = -0.0f;
      for (int i = 0; i < m * n; i++)
        want[i] = scales[c] * got[i];
      ts_attention_softmax (got, m, n, scales[c]);
      for (int i = 0; i < m; i++)
        softmax_whole_row (want + (gsize) i * n, n);
      for (int i = 0; i < m * n; i++)
        g_assert_true (memcmp (&got[i], &want[i], sizeof (float)) == 0);
    }
}

/* The softmax's exponentials (a vectorised expf where it gives expf's bits)
 * against expf itself: rows whose logits run from the maximum down to 104
 * below it, 60 000 uniform over that range and each float within 8 ulps
 * of where expf's result turns subnormal, its smallest value or 0; the
 * whole-row softmax's bits. */
static void
test_softmax_exp_range (void)
{
  const float edges[] = { -0x1.9fe368p6f, -0x1.9d1d9ep6f, -0x1.5d589ep6f, -88.0f, -104.0f };
  g_autoptr (GArray) logits = g_array_new (FALSE, FALSE, sizeof (float));
  g_autofree float *got = NULL, *want = NULL;
  float zero = 0.0f;
  int n, m = 0, subnormal = 0;
  guint32 state = 7;

  for (int i = 0; i < 60000; i++) /* uniform over [-104, 0] */
    {
      float f;
      state = state * 1664525u + 1013904223u;
      f = -104.0f * (float) (state >> 8) / 16777216.0f;
      g_array_append_val (logits, f);
    }
  for (guint e = 0; e < G_N_ELEMENTS (edges); e++) /* 8 floats either side of each edge */
    {
      float f = edges[e];
      for (int k = 0; k < 8; k++)
        f = nextafterf (f, -INFINITY);
      for (int k = 0; k < 17; k++, f = nextafterf (f, 0.0f))
        if (f >= -104.0f)
          g_array_append_val (logits, f);
    }
  /* rows of 1000 logits, each with a maximum of 0 */
  n = 1000;
  m = (int) (logits->len + n - 2) / (n - 1);
  got = g_new (float, (gsize) m * n);
  for (int i = 0; i < m * n; i++)
    {
      int k = i / n * (n - 1) + i % n - 1;
      got[i] = i % n == 0 ? zero : g_array_index (logits, float, k % logits->len);
    }
  want = g_memdup2 (got, sizeof (float) * m * n);
  ts_attention_softmax (got, m, n, 1.0f);
  for (int i = 0; i < m; i++)
    softmax_whole_row (want + (gsize) i * n, n);
  for (int i = 0; i < m * n; i++)
    {
      g_assert_true (memcmp (&got[i], &want[i], sizeof (float)) == 0);
      subnormal += got[i] > 0.0f && got[i] < FLT_MIN;
    }
  g_assert_cmpint (subnormal, >, 50); /* the range reaches expf's subnormal results */
}

/* ts_attention_product: sharp rows (the sparse path) within float rounding of
 * the exact product; soft rows, a negative weight, no workspace or too many
 * rows: the dense SGEMM, bit for bit. */
static void
test_attention_product (void)
{
  const int n = 203, d = 9, m = 17, dx = 37;
  g_autoptr (TsFeatures) raw = lcg_features (n, d, 3);
  g_autoptr (TsFeatures) x = ts_features_normalized (raw, NULL);
  g_autofree float *vals = ts_test_lcg_matrix (n, dx, 8);
  g_autofree float *A = g_new (float, (gsize) m * n);
  g_autofree float *got = g_new (float, (gsize) m * dx);
  g_autofree float *dense = g_new (float, (gsize) m * dx);
  g_autoptr (TsAttentionProduct) p = ts_attention_product_new (m, n);
  const float scales[] = { 300.0f, 1.0f };
  double vmax = 0;

  g_assert_nonnull (p);
  for (int i = 0; i < n * dx; i++)
    vmax = MAX (vmax, fabsf (vals[i]));
  for (guint c = 0; c < G_N_ELEMENTS (scales); c++)
    {
      int kept = 0;
      ts_attention_softmax_rows (x->data, m, x->data, n, d, scales[c], A);
      for (int i = 0; i < m * n; i++)
        kept += A[i] >= 0x1p-24f / n;
      ts_attention_product (p, A, m, n, vals, dx, got);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, dx, n, 1.0f, A, n, vals, dx, 0.0f, dense, dx);
      if (kept > m * n / 4)
        {
          g_assert_cmpfloat (scales[c], ==, 1.0f); /* soft rows: dense */
          g_assert_cmpmem (got, sizeof (float) * m * dx, dense, sizeof (float) * m * dx);
          continue;
        }
      for (int i = 0; i < m; i++)
        for (int k = 0; k < dx; k++)
          {
            double e = 0;
            for (int j = 0; j < n; j++)
              e += (double) A[(gsize) i * n + j] * vals[(gsize) j * dx + k];
            g_assert_cmpfloat_with_epsilon (got[(gsize) i * dx + k], e, 1e-6 * vmax);
          }
    }
  /* a negative or NaN weight, no workspace, more rows than it holds: dense */
  ts_attention_softmax_rows (x->data, m, x->data, n, d, 300.0f, A);
  A[5] = -0.25f;
  ts_attention_product (p, A, m, n, vals, dx, got);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, dx, n, 1.0f, A, n, vals, dx, 0.0f, dense, dx);
  g_assert_cmpmem (got, sizeof (float) * m * dx, dense, sizeof (float) * m * dx);
  A[5] = NAN; /* not a weight either */
  ts_attention_product (p, A, m, n, vals, dx, got);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, dx, n, 1.0f, A, n, vals, dx, 0.0f, dense, dx);
  g_assert_cmpmem (got, sizeof (float) * m * dx, dense, sizeof (float) * m * dx);
  A[5] = 0.0f;
  ts_attention_product (NULL, A, m, n, vals, dx, got);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, dx, n, 1.0f, A, n, vals, dx, 0.0f, dense, dx);
  g_assert_cmpmem (got, sizeof (float) * m * dx, dense, sizeof (float) * m * dx);
  {
    g_autoptr (TsAttentionProduct) small = ts_attention_product_new (m - 1, n);
    ts_attention_product (small, A, m, n, vals, dx, got);
    g_assert_cmpmem (got, sizeof (float) * m * dx, dense, sizeof (float) * m * dx);
  }
  ts_attention_product_free (NULL);
}

static void
test_received_blockwise (void)
{
  /* 3000 tokens: the column mean is computed in blocks of 1398 query rows; compare
   * with the dense column mean accumulated row by row. */
  const int n = 3000, d = 6;
  g_autoptr (TsFeatures) raw = lcg_features (n, d, 11);
  g_autoptr (TsFeatures) x = ts_features_normalized (raw, NULL);
  g_autofree float *map = g_new (float, n);
  g_autofree double *col = g_new0 (double, n);
  g_autofree float *row = g_new (float, n);
  double total = 0;

  g_assert_true (ts_attention_map (x, TS_ATTENTION_RECEIVED, 0, 0.1, map, NULL, NULL));
  for (int i = 0; i < n; i++)
    {
      g_assert_true (ts_attention_rows (x, i, 1, 0.1, row, NULL));
      for (int j = 0; j < n; j++)
        col[j] += row[j];
    }
  for (int j = 0; j < n; j++)
    {
      g_assert_cmpfloat_with_epsilon (map[j], col[j] / n, 1e-8);
      total += map[j];
    }
  g_assert_cmpfloat_with_epsilon (total, 1.0, 1e-4); /* column means of a row-stochastic A sum to 1 */
}

static void
test_global_and_distinct (void)
{
  g_autoptr (TsFeatures) raw = lcg_features (40, 5, 5);
  g_autoptr (TsFeatures) x = ts_features_normalized (raw, NULL);
  float glob[40], dist[40], mean[5] = { 0 };
  double norm = 0, sum = 0, mx = -G_MAXDOUBLE;
  double logit[40];

  g_assert_true (ts_attention_map (x, TS_ATTENTION_GLOBAL, 0, 0.2, glob, NULL, NULL));
  g_assert_true (ts_attention_map (x, TS_ATTENTION_DISTINCT, 0, 0.2, dist, NULL, NULL));
  for (int i = 0; i < 40; i++)
    for (int j = 0; j < 5; j++)
      mean[j] += x->data[i * 5 + j] / 40.0f;
  for (int j = 0; j < 5; j++)
    norm += mean[j] * mean[j];
  for (int i = 0; i < 40; i++)
    {
      double dot = 0, cossum = 0;
      for (int j = 0; j < 5; j++)
        dot += x->data[i * 5 + j] * mean[j];
      logit[i] = dot / sqrt (norm) / 0.2;
      mx = MAX (mx, logit[i]);
      for (int k = 0; k < 40; k++)
        cossum += ts_cosine (raw->data + i * 5, raw->data + k * 5, 5);
      g_assert_cmpfloat_with_epsilon (dist[i], 1.0 - cossum / 40, 1e-5);
    }
  for (int i = 0; i < 40; i++)
    sum += exp (logit[i] - mx);
  for (int i = 0; i < 40; i++)
    g_assert_cmpfloat_with_epsilon (glob[i], exp (logit[i] - mx) / sum, 1e-5);
}

/* A 12 x 12 grid of 8-pixel patches: brick patches (red, noisy) with mortar
 * rows every third patch row and mortar joints staggered per course. */
static gboolean
is_mortar (int r, int c)
{
  return r % 3 == 2 || (c + 2 * (r / 3)) % 4 == 3;
}

static TsImage *
brick_texture (void)
{
  TsImage *im = ts_image_new (96, 96);
  guint32 s = 99;

  for (int y = 0; y < 96; y++)
    for (int x = 0; x < 96; x++)
      {
        guint8 *p = im->data + (y * 96 + x) * 3;
        int n;
        s = s * 1664525u + 1013904223u;
        n = (int) (s >> 27) - 16; /* -16..15 */
        if (is_mortar (y / 8, x / 8))
          p[0] = p[1] = p[2] = (guint8) (200 + n / 2);
        else
          p[0] = (guint8) (150 + n), p[1] = (guint8) (60 + n), p[2] = (guint8) (40 + n);
      }
  return im;
}

static TsScene *
scene_of (TsImage *image, int patch, TsFeatureKind kind)
{
  TsGrid grid;
  TsFeatures *f;

  g_assert_true (ts_grid_init (&grid, image->width, image->height, patch, NULL));
  f = kind == TS_FEATURES_DESCRIPTOR ? ts_features_descriptor (image, &grid, NULL) : ts_features_pixel (image, &grid, NULL);
  return ts_scene_new (image, patch, kind, f, NULL);
}

static void
test_bricks_light_up (void)
{
  const TsFeatureKind kinds[] = { TS_FEATURES_PIXEL, TS_FEATURES_DESCRIPTOR };

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      g_autoptr (TsScene) scene = scene_of (brick_texture (), 8, kinds[k]);
      float map[144];
      double brick = 0, mortar = 0;
      int nb = 0, nm = 0, q = 4 * 12 + 4;
      g_autofree int *top = NULL;
      g_assert_false (is_mortar (4, 4));
      g_assert_true (ts_attention_map (scene->normalized, TS_ATTENTION_QUERY, q, 0.1, map, NULL, NULL));
      for (int t = 0; t < 144; t++)
        if (is_mortar (t / 12, t % 12))
          mortar += map[t], nm++;
        else
          brick += map[t], nb++;
      /* a brick attends to bricks: per-patch attention on bricks is far above that on mortar */
      g_assert_cmpfloat (brick / nb, >, 20 * (mortar / nm));
      top = ts_prune_top_k (map, 144, 30);
      for (int i = 0; i < 30; i++)
        g_assert_false (is_mortar (top[i] / 12, top[i] % 12));
    }
}

static void
test_distinct_odd_patch (void)
{
  g_autoptr (TsImage) im = brick_texture ();
  g_autoptr (TsScene) scene = NULL;
  float map[144];
  int odd = 7 * 12 + 2, best = 0;

  for (int y = 56; y < 64; y++) /* patch (7, 2) painted blue */
    for (int x = 16; x < 24; x++)
      {
        guint8 *p = im->data + (y * 96 + x) * 3;
        p[0] = 20, p[1] = 40, p[2] = 220;
      }
  scene = scene_of (g_steal_pointer (&im), 8, TS_FEATURES_PIXEL);
  g_assert_true (ts_attention_map (scene->normalized, TS_ATTENTION_DISTINCT, 0, 0.1, map, NULL, NULL));
  for (int t = 1; t < 144; t++)
    if (map[t] > map[best])
      best = t;
  g_assert_cmpint (best, ==, odd);
  /* and the default importance is softmax(distinct / 0.1): same ranking, sums to 1 */
  {
    g_autofree char *source = NULL;
    g_autofree float *imp = ts_attention_importance (scene, &source, NULL);
    double sum = 0, z = 0;
    for (int t = 0; t < 144; t++)
      z += exp ((map[t] - map[odd]) / 0.1);
    for (int t = 0; t < 144; t++)
      {
        sum += imp[t];
        g_assert_cmpfloat_with_epsilon (imp[t], exp ((map[t] - map[odd]) / 0.1) / z, 1e-6);
      }
    g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
    g_assert_nonnull (strstr (source, "mean cos"));
  }
}

static void
test_importance_from_scene (void)
{
  g_autoptr (TsScene) scene = scene_of (brick_texture (), 8, TS_FEATURES_PIXEL);
  float *cls = g_new (float, 144);
  g_autofree float *imp = NULL;
  g_autofree char *source = NULL;
  GError *error = NULL;

  for (int t = 0; t < 144; t++)
    cls[t] = (float) (t % 7);
  ts_scene_set_importance (scene, cls, "CLS attention layer 22");
  imp = ts_attention_importance (scene, &source, NULL);
  g_assert_cmpmem (imp, 144 * sizeof (float), cls, 144 * sizeof (float));
  g_assert_cmpstr (source, ==, "CLS attention layer 22");
  cls[5] = NAN;
  g_assert_null (ts_attention_importance (scene, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
  g_clear_error (&error);
  g_assert_null (ts_attention_importance (NULL, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
}

static void
test_uniform_and_mode_names (void)
{
  g_autoptr (TsFeatures) x = ts_features_new (9, 3, NULL); /* all zero: uniform attention */
  float map[9];
  TsAttentionMode mode;
  GError *error = NULL;

  g_assert_true (ts_attention_map (x, TS_ATTENTION_GLOBAL, 0, 0.1, map, NULL, NULL));
  for (int i = 0; i < 9; i++)
    g_assert_cmpfloat_with_epsilon (map[i], 1.0 / 9, 1e-7);
  g_assert_true (ts_attention_map (x, TS_ATTENTION_DISTINCT, 0, 0.1, map, NULL, NULL));
  for (int i = 0; i < 9; i++)
    g_assert_cmpfloat_with_epsilon (map[i], 1.0, 1e-7);
  for (int m = TS_ATTENTION_QUERY; m <= TS_ATTENTION_RECEIVED; m++)
    {
      g_assert_true (ts_attention_mode_parse (ts_attention_mode_name (m), &mode, NULL));
      g_assert_cmpint (mode, ==, m);
    }
  g_assert_false (ts_attention_mode_parse ("cls", &mode, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
}

static void
test_bad_input (void)
{
  g_autoptr (TsFeatures) x = lcg_features (10, 3, 1);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  TsFeatures empty = { 0, 3, NULL };
  float map[10];
  const double bad_tau[] = { 0, -1, NAN, INFINITY };
  GError *error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad_tau); i++)
    {
      g_assert_false (ts_attention_map (x, TS_ATTENTION_GLOBAL, 0, bad_tau[i], map, NULL, &error));
      g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
  g_assert_false (ts_attention_map (x, TS_ATTENTION_QUERY, 10, 0.1, map, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_attention_map (x, TS_ATTENTION_QUERY, -1, 0.1, map, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_attention_map (&empty, TS_ATTENTION_GLOBAL, 0, 0.1, map, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_attention_map (x, (TsAttentionMode) 42, 0, 0.1, map, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_attention_rows (x, 8, 3, 0.1, map, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_cancellable_cancel (cancel);
  g_assert_false (ts_attention_map (x, TS_ATTENTION_RECEIVED, 0, 0.1, map, cancel, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_CANCELLED);
  g_clear_error (&error);
}

static void
test_colormap (void)
{
  guint8 rgb[3];
  TsColormap map;
  g_autoptr (TsImage) im = ts_test_solid (8, 4, 0, 0, 0);
  g_autoptr (TsImage) heat = NULL;
  TsGrid grid;
  const float values[2] = { 1.0f, 3.0f };
  GError *error = NULL;

  /* matplotlib's end points: viridis(0) = #440154, viridis(1) = #fde725, magma(1) = #fcfdbf */
  ts_colormap_lookup (TS_COLORMAP_VIRIDIS, 0.0, rgb);
  g_assert_cmpint ((rgb[0] << 16) | (rgb[1] << 8) | rgb[2], ==, 0x440154);
  ts_colormap_lookup (TS_COLORMAP_VIRIDIS, 7.0, rgb);
  g_assert_cmpint ((rgb[0] << 16) | (rgb[1] << 8) | rgb[2], ==, 0xfde725);
  ts_colormap_lookup (TS_COLORMAP_MAGMA, 1.0, rgb);
  g_assert_cmpint ((rgb[0] << 16) | (rgb[1] << 8) | rgb[2], ==, 0xfcfdbf);
  ts_colormap_lookup (TS_COLORMAP_MAGMA, NAN, rgb);
  g_assert_cmpint ((rgb[0] << 16) | (rgb[1] << 8) | rgb[2], ==, 0x000004);

  g_assert_true (ts_grid_init (&grid, 8, 4, 4, NULL));
  heat = ts_colormap_overlay (im, &grid, values, TS_COLORMAP_VIRIDIS, 1.0, NULL);
  g_assert_cmpint (heat->data[0], ==, 0x44);             /* low value: first colour */
  g_assert_cmpint (heat->data[(4) * 3 + 1], ==, 0xe7);   /* high value: last colour */
  g_assert_true (ts_colormap_parse ("Magma", &map, NULL));
  g_assert_cmpint (map, ==, TS_COLORMAP_MAGMA);
  g_assert_false (ts_colormap_parse ("jet", &map, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ts_colormap_overlay (im, &grid, values, TS_COLORMAP_VIRIDIS, 1.5, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
}

static char *
write_bricks_png (void)
{
  g_autoptr (TsImage) im = brick_texture ();
  char *path = ts_test_path ("bricks.png");

  g_assert_true (ts_image_save_png (im, path, NULL));
  return path;
}

static void
test_cli (void)
{
  g_autofree char *png = write_bricks_png ();
  g_autofree char *heat = ts_test_path ("heat.png");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o;
  JsonArray *map;
  double sum = 0;

  g_assert_cmpint (ts_test_cli (&out, NULL, "attention", png, "--patch", "8", "--query", "4,5", "--json", "-",
                                "--png", heat, NULL), ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (o, "mode"), ==, "query");
  g_assert_cmpint (json_object_get_int_member (o, "rows"), ==, 12);
  g_assert_cmpint (json_object_get_int_member (o, "cols"), ==, 12);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "tau"), 0.1, 1e-12);
  map = json_object_get_array_member (o, "map");
  g_assert_cmpint (json_array_get_length (map), ==, 144);
  for (guint i = 0; i < 144; i++)
    sum += json_array_get_double_element (map, i);
  g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-4);
  {
    g_autoptr (TsImage) h = ts_image_load (heat, NULL, NULL);
    g_assert_nonnull (h);
    g_assert_cmpint (h->width, ==, 96);
    g_assert_cmpint (h->height, ==, 96);
  }
  /* received: column means of a row-stochastic A also sum to 1 */
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (ts_test_cli (&out, NULL, "attention", png, "--patch", "8", "--received", "--colormap", "magma",
                                "--png", heat, "--json", "-", NULL), ==, 0);
  {
    g_autoptr (JsonParser) p2 = json_parser_new ();
    JsonArray *m2;
    g_assert_true (json_parser_load_from_data (p2, out, -1, NULL));
    o = json_node_get_object (json_parser_get_root (p2));
    g_assert_cmpstr (json_object_get_string_member (o, "mode"), ==, "received");
    g_assert_false (json_object_has_member (o, "query"));
    m2 = json_object_get_array_member (o, "map");
    sum = 0;
    for (guint i = 0; i < json_array_get_length (m2); i++)
      sum += json_array_get_double_element (m2, i);
    g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-4);
  }
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (ts_test_cli (&out, NULL, "attention", png, "--patch", "8", "--distinct", "--features",
                                "descriptor", "--tau", "0.05", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "distinct"));

  /* npy features: the bricks' descriptor rows exported, then read back by the CLI */
  {
    g_autoptr (TsImage) im = ts_image_load (png, NULL, NULL);
    g_autofree char *npy = ts_test_path ("bricks.npy");
    g_autofree char *spec = g_strconcat ("npy:", npy, NULL);
    g_autoptr (TsFeatures) f = NULL;
    TsGrid grid;
    g_assert_true (ts_grid_init (&grid, 96, 96, 8, NULL));
    f = ts_features_descriptor (im, &grid, NULL);
    g_assert_true (ts_features_save_npy (f, npy, NULL));
    g_clear_pointer (&out, g_free);
    g_assert_cmpint (ts_test_cli (&out, NULL, "attention", png, "--patch", "8", "--global", "--features", spec,
                                  "--json", "-", NULL), ==, 0);
    g_assert_nonnull (strstr (out, "\"features\" : \"npy\""));
    g_assert_cmpint (ts_test_cli (NULL, NULL, "attention", png, "--patch", "4", "--global", "--features", spec,
                                  NULL), ==, 2); /* 144 rows for a 24 x 24 grid */
  }

  /* usage errors exit 1, input errors 2 */
  g_assert_cmpint (ts_test_cli (NULL, &err, "attention", png, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "exactly one"));
  g_assert_cmpint (ts_test_cli (NULL, NULL, "attention", png, "--global", "--distinct", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "attention", png, "--patch", "8", "--query", "12,0", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "attention", png, "--query", "a,b", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "attention", png, "--global", "--tau", "0", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "attention", png, "--global", "--features", "vit", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "attention", png, "--global", "--colormap", "jet", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "attention", png, "--global", "--opacity", "2", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "attention", "/nonexistent/photo.png", "--global", NULL), ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/attention/rows-vs-dense", test_rows_vs_dense);
  g_test_add_func ("/attention/softmax-bits", test_softmax_bits);
  g_test_add_func ("/attention/softmax-scaled", test_softmax_scaled);
  g_test_add_func ("/attention/softmax-exp-range", test_softmax_exp_range);
  g_test_add_func ("/attention/product", test_attention_product);
  g_test_add_func ("/attention/received-blockwise", test_received_blockwise);
  g_test_add_func ("/attention/global-and-distinct", test_global_and_distinct);
  g_test_add_func ("/attention/bricks-light-up", test_bricks_light_up);
  g_test_add_func ("/attention/distinct-odd-patch", test_distinct_odd_patch);
  g_test_add_func ("/attention/importance-from-scene", test_importance_from_scene);
  g_test_add_func ("/attention/uniform-and-mode-names", test_uniform_and_mode_names);
  g_test_add_func ("/attention/bad-input", test_bad_input);
  g_test_add_func ("/attention/colormap", test_colormap);
  g_test_add_func ("/attention/cli", test_cli);
  return g_test_run ();
}
