/* Cross-attention resampling: exact counts, row-stochastic mix, argmax groups, hand cases, determinism. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "ts-test-util.h"

static TsScene *
gradient_scene (int size, int patch)
{
  g_autoptr (GError) error = NULL;
  TsScene *scene = ts_scene_new (ts_test_noisy_gradient (size, size, 5, 30), patch, TS_FEATURES_PIXEL,
                                 NULL, &error);
  g_assert_no_error (error);
  return scene;
}

/* 16 tokens on a 4 x 4 grid, d = 8: the left half near e0, the right half near e1. */
static TsScene *
two_clusters (void)
{
  TsFeatures *f = ts_features_new (16, 8, NULL);
  guint32 s = 17;

  for (int i = 0; i < 16; i++)
    {
      int left = (i % 4) < 2;
      for (int j = 0; j < 8; j++)
        {
          s = s * 1664525u + 1013904223u;
          f->data[i * 8 + j] = (float) ((s >> 8) / 16777216.0 - 0.5) * 0.1f;
        }
      f->data[i * 8 + (left ? 0 : 1)] += 1.0f;
    }
  return ts_scene_new (ts_test_gradient (8, 8), 2, TS_FEATURES_NPY, f, NULL);
}

/* The invariants every resampling must keep. */
static void
check_resampling (const TsScene *scene, const TsAssignment *a, int K)
{
  int n = scene->grid.tokens;

  g_assert_cmpint (a->n_out, ==, K);
  g_assert_true (ts_assignment_validate (a, &scene->grid, NULL));
  g_assert_nonnull (a->mix);
  g_assert_cmpint (a->recon, ==, TS_RECON_MIX);
  g_assert_cmpint (ts_assignment_kept (a), ==, n);
  for (int q = 0; q < K; q++)
    {
      double sum = 0;
      for (int j = 0; j < n; j++)
        {
          g_assert_cmpfloat (a->mix[(gsize) q * n + j], >=, 0.0f);
          sum += a->mix[(gsize) q * n + j];
        }
      g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-4);
    }
  for (int j = 0; j < n; j++) /* each patch belongs to the query attending to it most */
    for (int q = 0; q < K; q++)
      g_assert_cmpfloat (a->mix[(gsize) q * n + j], <=, a->mix[(gsize) a->groups[j] * n + j]);
}

static void
test_two_clusters (void)
{
  g_autoptr (TsScene) scene = two_clusters ();
  g_autoptr (TsAssignment) a = ts_resample (scene, 2, 3, 0.1, 0, 0, NULL, NULL);
  const TsFeatures *f = scene->features;

  check_resampling (scene, a, 2);
  for (int i = 0; i < 16; i++)
    g_assert_cmpint (a->groups[i], ==, (i % 4) < 2 ? 0 : 1); /* token 0 holds patch 0: the left half */
  g_assert_cmpint (a->sizes[0], ==, 8);
  g_assert_cmpint (a->sizes[1], ==, 8);
  for (int q = 0; q < 2; q++)
    {
      float mean[8] = { 0 };
      double other = 0;
      for (int i = 0; i < 16; i++)
        if (a->groups[i] == q)
          for (int j = 0; j < 8; j++)
            mean[j] += f->data[i * 8 + j] / 8;
        else
          other += a->mix[q * 16 + i];
      g_assert_cmpfloat (other, <, 1e-6); /* a query does not read the other half */
      g_assert_cmpfloat (ts_cosine (a->features + q * 8, mean, 8), >, 0.999);
    }
  g_assert_cmpfloat (ts_feature_retention (f, a), >, 0.99);
}

static void
test_exact_counts (void)
{
  g_autoptr (TsScene) scene = gradient_scene (96, 4); /* 24 x 24 = 576 tokens, as LLaVA-1.5 */
  const int ks[] = { 1, 2, 7, TS_RESAMPLE_QFORMER, TS_RESAMPLE_PERCEIVER, 144 };

  g_assert_cmpint (TS_RESAMPLE_QFORMER, ==, 32);
  g_assert_cmpint (TS_RESAMPLE_PERCEIVER, ==, 64);
  for (guint i = 0; i < G_N_ELEMENTS (ks); i++)
    {
      TsMethodParams p;
      g_autoptr (GError) error = NULL;
      g_autoptr (TsAssignment) a = NULL;
      ts_method_params_init (&p);
      p.tokens = ks[i];
      a = ts_method_run (ts_method_find ("resample", NULL), scene, &p, NULL, &error);
      g_assert_no_error (error);
      check_resampling (scene, a, ks[i]);
      g_assert_cmpstr (a->method, ==, "resample");
    }
}

static void
test_ratio_one (void)
{
  /* K = N: every token its own query; a soft mixer is not exactly the identity,
   * but with distinct tokens each query reads almost only its own patch. */
  g_autoptr (TsScene) scene = gradient_scene (48, 4);
  TsMethodParams p;
  g_autoptr (TsAssignment) a = NULL;
  g_autoptr (TsImage) rec = NULL;

  ts_method_params_init (&p);
  p.ratio = 1.0;
  a = ts_method_run (ts_method_find ("resample", NULL), scene, &p, NULL, NULL);
  check_resampling (scene, a, 144);
  rec = ts_reconstruct (scene->image, &scene->grid, a, p.fill, NULL);
  g_assert_cmpfloat (ts_feature_retention (scene->features, a), >, 0.99);
  g_assert_cmpfloat (ts_ssim (scene->image, rec), >, 0.95);
}

static void
test_mix_reconstruction (void)
{
  /* K = 1: every patch is painted with the mix-weighted mean patch */
  g_autoptr (TsScene) scene = gradient_scene (16, 4);
  g_autoptr (TsAssignment) a = ts_resample (scene, 1, 2, 0.1, 0, 0, NULL, NULL);
  g_autoptr (TsImage) rec = ts_reconstruct (scene->image, &scene->grid, a, TS_DROP_FILL_GREY, NULL);

  check_resampling (scene, a, 1);
  for (int c = 0; c < 3; c++)
    {
      double v = 0;
      for (int j = 0; j < 16; j++)
        {
          TsRect r = ts_grid_patch_rect (&scene->grid, j);
          v += a->mix[j] * scene->image->data[((gsize) r.y * 16 + r.x) * 3 + c];
        }
      for (int j = 0; j < 16; j++)
        {
          TsRect r = ts_grid_patch_rect (&scene->grid, j);
          g_assert_cmpint (abs (rec->data[((gsize) r.y * 16 + r.x) * 3 + c] - (int) lround (v)), <=, 1);
        }
    }
}

static double
mean_row_entropy (const TsAssignment *a)
{
  double h = 0;

  for (int q = 0; q < a->n_out; q++)
    for (int j = 0; j < a->n_in; j++)
      {
        double p = a->mix[(gsize) q * a->n_in + j];
        if (p > 0)
          h -= p * log2 (p);
      }
  return h / a->n_out;
}

static void
test_temperature_and_determinism (void)
{
  g_autoptr (TsScene) scene = gradient_scene (96, 8);
  g_autoptr (TsAssignment) a = ts_resample (scene, 16, 3, 0.1, 42, 0, NULL, NULL);
  g_autoptr (TsAssignment) b = ts_resample (scene, 16, 3, 0.1, 42, 0, NULL, NULL);
  g_autoptr (TsAssignment) c = ts_resample (scene, 16, 3, 0.1, 43, 0, NULL, NULL);
  g_autoptr (TsAssignment) soft = ts_resample (scene, 16, 3, 2.0, 42, 0, NULL, NULL);
  g_autoptr (TsAssignment) one = ts_resample (scene, 16, 1, 0.1, 42, 0, NULL, NULL);

  g_assert_cmpmem (a->groups, 144 * sizeof (int), b->groups, 144 * sizeof (int));
  g_assert_cmpmem (a->mix, 16 * 144 * sizeof (float), b->mix, 16 * 144 * sizeof (float));
  g_assert_cmpmem (a->features, (gsize) 16 * a->d * sizeof (float), b->features, (gsize) 16 * b->d * sizeof (float));
  check_resampling (scene, c, 16);
  check_resampling (scene, one, 16);
  /* a higher temperature spreads each query's attention: higher row entropy */
  g_assert_cmpfloat (mean_row_entropy (soft), >, mean_row_entropy (a) + 1.0);
}

static void
test_without_mix (void)
{
  /* over the mix limit the attention runs in blocks, no mix is kept, and the
   * reconstruction uses the hard groups' mean; groups and tokens are unchanged */
  g_autoptr (TsScene) scene = gradient_scene (96, 8);
  g_autoptr (TsAssignment) full = ts_resample (scene, 16, 3, 0.1, 7, 0, NULL, NULL);
  g_autoptr (TsAssignment) blocked = ts_resample (scene, 16, 3, 0.1, 7, 1, NULL, NULL);
  g_autoptr (TsImage) rec = NULL;

  g_assert_null (blocked->mix);
  g_assert_cmpint (blocked->recon, ==, TS_RECON_GROUP_MEAN);
  g_assert_true (ts_assignment_validate (blocked, &scene->grid, NULL));
  g_assert_cmpmem (full->groups, 144 * sizeof (int), blocked->groups, 144 * sizeof (int));
  for (gsize i = 0; i < (gsize) 16 * full->d; i++)
    g_assert_cmpfloat_with_epsilon (full->features[i], blocked->features[i], 1e-5);
  rec = ts_reconstruct (scene->image, &scene->grid, blocked, TS_DROP_FILL_GREY, NULL);
  g_assert_nonnull (rec);
}

/* Several query counts from one call (seeds drawn once, for the largest) are
 * exactly the single runs, through the registry as the sweep calls it. */
static void
test_multi_equals_single (void)
{
  g_autoptr (TsScene) scene = gradient_scene (96, 4); /* 576 tokens */
  const int ks[] = { 144, 288, 7, 36, 288, 1 };
  const int n = G_N_ELEMENTS (ks);
  TsAssignment *out[G_N_ELEMENTS (ks)];
  TsMethodParams p;
  const TsMethod *m = ts_method_find ("resample", NULL);
  g_autoptr (GError) error = NULL;

  ts_method_params_init (&p);
  p.seed = 5;
  g_assert_nonnull (m->run_multi);
  g_assert_true (ts_method_run_targets (m, scene, &p, ks, n, out, NULL, &error));
  g_assert_no_error (error);
  for (int i = 0; i < n; i++)
    {
      g_autoptr (TsAssignment) single = NULL;
      p.tokens = ks[i];
      single = ts_method_run (m, scene, &p, NULL, NULL);
      g_assert_cmpint (out[i]->n_out, ==, ks[i]);
      g_assert_cmpmem (out[i]->groups, sizeof (int) * 576, single->groups, sizeof (int) * 576);
      g_assert_cmpmem (out[i]->sizes, sizeof (int) * ks[i], single->sizes, sizeof (int) * ks[i]);
      g_assert_cmpmem (out[i]->features, sizeof (float) * ks[i] * single->d, single->features,
                       sizeof (float) * ks[i] * single->d);
      g_assert_cmpmem (out[i]->mix, sizeof (float) * ks[i] * 576, single->mix, sizeof (float) * ks[i] * 576);
      ts_assignment_free (out[i]);
    }
  {
    /* a bad count fails the call with the single run's error */
    const int bad[] = { 4, 0 };
    TsAssignment *o2[2];
    g_autoptr (GError) e2 = NULL;
    g_assert_false (ts_resample_multi (scene, bad, 2, 3, 0.1, 0, 0, o2, NULL, &e2));
    g_assert_error (e2, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
    g_assert_null (o2[0]);
  }
}

/* out (m x dx) = A (m x n) X (n x dx), or in double when @exact. */
static void
product (gboolean exact, const float *A, int m, int n, const float *x, int dx, float *out)
{
  if (!exact)
    {
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, dx, n, 1.0f, A, n, x, dx, 0.0f, out, dx);
      return;
    }
  for (int i = 0; i < m; i++)
    for (int k = 0; k < dx; k++)
      {
        double s = 0;
        for (int j = 0; j < n; j++)
          s += (double) A[(gsize) i * n + j] * x[(gsize) j * dx + k];
        out[(gsize) i * dx + k] = (float) s;
      }
}

/* Argmax groups of a mix (ties to the lower query), sorted as ts_resample sorts them. */
static void
mix_groups (TsAssignment *a)
{
  int n = a->n_in, K = a->n_out;

  memset (a->sizes, 0, sizeof (int) * K);
  for (int j = 0; j < n; j++)
    {
      int best = 0;
      for (int k = 1; k < K; k++)
        if (a->mix[(gsize) k * n + j] > a->mix[(gsize) best * n + j])
          best = k;
      a->groups[j] = best;
      a->sizes[best]++;
    }
  ts_assignment_sort_spatial (a);
}

/* The tokens X~ = sqrt(D) x as ts_resample scales them, new (n x d). */
static float *
scaled_tokens (const TsScene *scene)
{
  const TsFeatures *x = scene->normalized;
  float sqd = sqrtf ((float) x->d), *xt = g_new (float, (gsize) x->n * x->d);

  for (gsize i = 0; i < (gsize) x->n * x->d; i++)
    xt[i] = x->data[i] * sqd;
  return xt;
}

/* The resampler's k-means options: one k-means++ candidate per centre. */
static void
resample_kmeans_options (TsKMeansOptions *kopt, guint64 seed)
{
  ts_kmeans_options_init (kopt);
  kopt->seed = seed;
  kopt->n_local_trials = 1;
}

/* Steps 3 to 5 of ts_resample as first written, from the queries @q (K x d,
 * X~ units), every A X a dense SGEMM (in double when @exact). */
static TsAssignment *
dense_rounds (const TsScene *scene, float *q, int K, int rounds, double tau, gboolean exact)
{
  const TsFeatures *x = scene->normalized;
  int n = x->n, d = x->d, fd = scene->features->d;
  float scale = 1.0f / (float) (tau * sqrtf ((float) d));
  g_autofree float *xt = scaled_tokens (scene);
  g_autofree float *qn = g_new (float, (gsize) K * d);
  TsAssignment *a = ts_assignment_new (n, K, fd, NULL);

  a->mix = g_new (float, (gsize) K * n);
  a->recon = TS_RECON_MIX;
  for (int r = 0; r < rounds; r++)
    {
      ts_attention_softmax_rows (q, K, xt, n, d, scale, a->mix);
      if (r < rounds - 1)
        {
          product (exact, a->mix, K, n, xt, d, qn);
          memcpy (q, qn, sizeof (float) * (gsize) K * d);
        }
      else
        product (exact, a->mix, K, n, scene->features->data, fd, a->features);
    }
  mix_groups (a);
  return a;
}

/* ts_resample as first written (the way it still goes without the Gram
 * matrix): the float k-means++ seeds and Lloyd steps, then dense_rounds. */
static TsAssignment *
dense_resample (const TsScene *scene, int K, int rounds, double tau, guint64 seed, gboolean exact)
{
  int n = scene->normalized->n, d = scene->normalized->d;
  g_autofree float *xt = scaled_tokens (scene);
  g_autofree float *q = g_new (float, (gsize) K * d);
  TsKMeansOptions kopt;

  resample_kmeans_options (&kopt, seed);
  g_assert_true (ts_kmeans_seed (xt, n, d, K, &kopt, q, NULL, NULL));
  g_assert_true (ts_kmeans_steps (xt, n, d, q, K, TS_RESAMPLE_KMEANS_ITER, NULL, NULL));
  return dense_rounds (scene, q, K, rounds, tau, exact);
}

/* The resampling in exact arithmetic, as near as double gets: the tokens
 * X~ = sqrt(D) x in double, the k-means of ts_kmeans_gram_seed and
 * ts_kmeans_gram_steps (exact arithmetic: /kmeans/gram-seed, gram-steps),
 * the queries their means in double, every logit, softmax and product in
 * double; mix and tokens rounded to float at the end. Also those queries
 * rounded to float into @queries (K x d, new), for dense_rounds. */
static TsAssignment *
exact_resample (const TsScene *scene, int K, int rounds, double tau, guint64 seed, float **queries)
{
  const TsFeatures *x = scene->normalized;
  int n = x->n, d = x->d, fd = scene->features->d;
  double sqd = sqrt ((double) d);
  const float *gram = ts_scene_gram (scene);
  g_autofree double *xt = g_new (double, (gsize) n * d);
  g_autofree double *qd = g_new0 (double, (gsize) K * d);
  g_autofree double *A = g_new (double, (gsize) K * n);
  g_autofree int *seeds = g_new (int, K);
  g_autoptr (TsKMeansMembers) m = NULL;
  TsAssignment *a = ts_assignment_new (n, K, fd, NULL);
  TsKMeansOptions kopt;

  for (gsize i = 0; i < (gsize) n * d; i++)
    xt[i] = x->data[i] * sqd;
  resample_kmeans_options (&kopt, seed);
  g_assert_nonnull (gram);
  g_assert_true (ts_kmeans_gram_seed (x->data, n, d, gram, K, &kopt, seeds, NULL, NULL));
  m = ts_kmeans_gram_steps (x->data, n, d, gram, seeds, K, TS_RESAMPLE_KMEANS_ITER, NULL, NULL);
  g_assert_nonnull (m);
  *queries = g_new (float, (gsize) K * d);
  for (int c = 0; c < K; c++)
    for (int k = 0; k < d; k++)
      {
        for (int p = m->start[c]; p < m->start[c + 1]; p++)
          qd[(gsize) c * d + k] += xt[(gsize) m->rows[p] * d + k];
        qd[(gsize) c * d + k] /= m->start[c + 1] - m->start[c];
        (*queries)[(gsize) c * d + k] = (float) qd[(gsize) c * d + k];
      }
  for (int r = 0; r < rounds; r++)
    {
      for (int i = 0; i < K; i++)
        {
          double *row = A + (gsize) i * n, mx = -INFINITY, sum = 0;
          for (int j = 0; j < n; j++)
            {
              double t = 0;
              for (int k = 0; k < d; k++)
                t += qd[(gsize) i * d + k] * xt[(gsize) j * d + k];
              row[j] = t / (tau * sqd);
              mx = MAX (mx, row[j]);
            }
          for (int j = 0; j < n; j++)
            sum += row[j] = exp (row[j] - mx);
          for (int j = 0; j < n; j++)
            row[j] /= sum;
        }
      if (r == rounds - 1)
        break;
      for (int i = 0; i < K; i++)
        for (int k = 0; k < d; k++)
          {
            double t = 0;
            for (int j = 0; j < n; j++)
              t += A[(gsize) i * n + j] * xt[(gsize) j * d + k];
            qd[(gsize) i * d + k] = t;
          }
    }
  a->mix = g_new (float, (gsize) K * n);
  a->recon = TS_RECON_MIX;
  for (gsize i = 0; i < (gsize) K * n; i++)
    a->mix[i] = (float) A[i];
  for (int i = 0; i < K; i++)
    for (int k = 0; k < fd; k++)
      {
        double t = 0;
        for (int j = 0; j < n; j++)
          t += A[(gsize) i * n + j] * scene->features->data[(gsize) j * fd + k];
        a->features[(gsize) i * fd + k] = (float) t;
      }
  mix_groups (a);
  return a;
}

static double
max_diff (const float *a, const float *b, gsize count)
{
  double m = 0;

  for (gsize i = 0; i < count; i++)
    m = MAX (m, fabs ((double) a[i] - b[i]));
  return m;
}

/* Patches whose group differs between @a and @b. */
static int
groups_apart (const TsAssignment *a, const TsAssignment *b)
{
  int apart = 0;

  for (int j = 0; j < a->n_in; j++)
    apart += a->groups[j] != b->groups[j];
  return apart;
}

/* The share of a mix's weights of at least 2^-24 / n: A X adds only those
 * when they are at most a quarter of the weights. */
static double
kept_share (const TsAssignment *a)
{
  gsize kept = 0, all = (gsize) a->n_out * a->n_in;

  for (gsize i = 0; i < all; i++)
    kept += a->mix[i] >= 0x1p-24f / (float) a->n_in;
  return (double) kept / all;
}

static double
largest_feature (const TsScene *scene)
{
  double fmax = 0;

  for (gsize i = 0; i < (gsize) scene->features->n * scene->features->d; i++)
    fmax = MAX (fmax, fabsf (scene->features->data[i]));
  return fmax;
}

/* Without the Gram matrix (16 K R < N, or beyond TS_SCENE_GRAM_MAX_TOKENS):
 * ts_resample as first written but for A X. Sharp attention (most weights
 * below 2^-24 / n): A X over the weights that count (each row leaves out
 * less than 2^-24 of its weight, and adds in another order) gives the same
 * groups and sizes, and tokens and mix as far from the dense SGEMM's as the
 * dense ones are from the same computation with every A X in double (the
 * rounding, grown through the sharp softmax rounds). Soft attention (a large
 * tau): the dense SGEMM, the same bits. */
static void
check_dense_way (const TsScene *scene, int K, double tau, gboolean sparse)
{
  int n = scene->grid.tokens, fd = scene->features->d;
  g_autoptr (TsAssignment) got = ts_resample (scene, K, 3, tau, 4, 0, NULL, NULL);
  g_autoptr (TsAssignment) want = dense_resample (scene, K, 3, tau, 4, FALSE);
  g_autoptr (TsAssignment) exact = dense_resample (scene, K, 3, tau, 4, TRUE);
  double fmax = largest_feature (scene), noise;

  g_assert_nonnull (got);
  g_test_message ("%d tokens, K %d tau %g: %.1f %% of the weights count", n, K, tau, 100 * kept_share (want));
  g_assert_cmpint (kept_share (want) <= 0.25, ==, sparse);
  if (!sparse)
    {
      g_assert_cmpmem (got->features, sizeof (float) * K * fd, want->features, sizeof (float) * K * fd);
      g_assert_cmpmem (got->mix, sizeof (float) * K * n, want->mix, sizeof (float) * K * n);
      g_assert_cmpmem (got->groups, sizeof (int) * n, want->groups, sizeof (int) * n);
      return;
    }
  g_assert_cmpmem (got->groups, sizeof (int) * n, want->groups, sizeof (int) * n);
  g_assert_cmpmem (got->sizes, sizeof (int) * K, want->sizes, sizeof (int) * K);
  noise = max_diff (want->features, exact->features, K * fd);
  g_test_message ("tokens: sparse - dense %g, dense - double %g", max_diff (got->features, want->features, K * fd),
                  noise);
  g_assert_cmpfloat (max_diff (got->features, want->features, K * fd), <=, 2 * noise + 1e-6);
  g_assert_cmpfloat (max_diff (got->features, exact->features, K * fd), <=, 2 * noise + 1e-6);
  g_assert_cmpfloat (noise, <, 2e-4 * fmax);
  noise = max_diff (want->mix, exact->mix, (gsize) K * n);
  g_test_message ("mix: sparse - dense %g, dense - double %g", max_diff (got->mix, want->mix, (gsize) K * n), noise);
  g_assert_cmpfloat (max_diff (got->mix, want->mix, (gsize) K * n), <=, 2 * noise + 1e-9);
  g_assert_cmpfloat (noise, <, 1e-4);
}

static void
test_sparse_product (void)
{
  g_autoptr (TsScene) scene = ts_scene_new (ts_test_noisy_gradient (96, 96, 9, 90), 4, TS_FEATURES_PIXEL, NULL,
                                            NULL); /* 576 tokens, d 48 */
  g_autoptr (TsScene) large = ts_scene_new (ts_test_noisy_gradient (132, 132, 9, 90), 2, TS_FEATURES_PIXEL, NULL,
                                            NULL); /* 4356 tokens, d 12: no Gram matrix */

  g_assert_cmpint (large->grid.tokens, >, TS_SCENE_GRAM_MAX_TOKENS);
  g_assert_null (ts_scene_gram (large));
  g_assert_cmpint (TS_RESAMPLE_GRAM_SHARE * 11 * 3, <, scene->grid.tokens);
  check_dense_way (scene, 11, 0.1, TRUE);
  check_dense_way (scene, 7, 0.05, TRUE);
  check_dense_way (scene, 9, 20.0, FALSE);
  check_dense_way (large, 300, 0.03, TRUE);
}

/* Through the Gram matrix (16 K R >= N): the k-means exactly (its centres
 * never rounded), the first round's logits from the members' rows of G, the
 * later rounds' from A G for the rows with at most D / 2 weights that count
 * and the dense way for the others (both kinds occur here: after the first
 * round about half the rows of K 144 have more than 24). Exact arithmetic
 * (exact_resample) is the reference; the scale of float rounding is how far
 * the float way as first written (dense_rounds) is from it from the same
 * queries rounded to float: tokens and mix no farther from exact than twice
 * that (plus a float's resolution), no more patches grouped apart from it. */
static void
test_gram_exact (void)
{
  g_autoptr (TsScene) scene = ts_scene_new (ts_test_noisy_gradient (96, 96, 9, 90), 4, TS_FEATURES_PIXEL, NULL,
                                            NULL); /* 576 tokens, d 48 */
  const struct { int K; double tau; int rounds; } cases[] = {
    { 144, 0.1, 3 }, { 36, 0.05, 3 }, { 288, 0.1, 3 }, { 72, 20.0, 3 }, { 100, 0.1, 1 }, { 100, 0.1, 2 },
    { 576, 0.1, 3 },
  };
  int n = scene->grid.tokens, fd = scene->features->d;
  double fmax = largest_feature (scene);

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      int K = cases[c].K, R = cases[c].rounds;
      g_autofree float *q = NULL;
      g_autoptr (TsAssignment) got = ts_resample (scene, K, R, cases[c].tau, 4, 0, NULL, NULL);
      g_autoptr (TsAssignment) exact = exact_resample (scene, K, R, cases[c].tau, 4, &q);
      g_autoptr (TsAssignment) want = dense_rounds (scene, q, K, R, cases[c].tau, FALSE);
      double tok = max_diff (want->features, exact->features, K * fd);
      double mix = max_diff (want->mix, exact->mix, (gsize) K * n);

      g_assert_nonnull (got);
      g_assert_cmpint (TS_RESAMPLE_GRAM_SHARE * K * R, >=, n);
      g_test_message ("K %d tau %g, %d rounds: %.1f %% of the weights count; grouped apart from exact: %d, "
                      "float %d; tokens - exact %g, float %g; mix - exact %g, float %g",
                      K, cases[c].tau, R, 100 * kept_share (got), groups_apart (got, exact),
                      groups_apart (want, exact), max_diff (got->features, exact->features, K * fd), tok,
                      max_diff (got->mix, exact->mix, (gsize) K * n), mix);
      g_assert_cmpint (groups_apart (got, exact), <=, groups_apart (want, exact));
      g_assert_cmpfloat (max_diff (got->features, exact->features, K * fd), <=, 2 * tok + 1e-6 * fmax);
      g_assert_cmpfloat (max_diff (got->mix, exact->mix, (gsize) K * n), <=, 2 * mix + 1e-7);
    }
}

/* The reconstruction paints each patch with its token's mix of patches, the
 * product over the weights that count (ts_attention_product): every byte is
 * the exact (double) mix rounded, off by at most 1 and only next to a
 * rounding boundary. */
static void
test_mix_reconstruction_sparse (void)
{
  g_autoptr (TsScene) scene = ts_scene_new (ts_test_noisy_gradient (96, 96, 9, 90), 4, TS_FEATURES_PIXEL, NULL,
                                            NULL); /* 576 tokens */
  const int ks[] = { 144, 300 };

  for (guint c = 0; c < G_N_ELEMENTS (ks); c++)
    {
      g_autoptr (TsAssignment) a = ts_resample (scene, ks[c], 3, 0.1, 4, 0, NULL, NULL);
      g_autoptr (TsImage) rec = ts_reconstruct (scene->image, &scene->grid, a, TS_DROP_FILL_GREY, NULL);
      int n = scene->grid.tokens, p = scene->grid.patch, w = scene->image->width, near = 0;
      g_assert_cmpfloat (kept_share (a), <=, 0.25); /* the sparse product did it */
      for (int j = 0; j < n; j++)
        {
          TsRect r = ts_grid_patch_rect (&scene->grid, j);
          const float *mix = a->mix + (gsize) a->groups[j] * n;
          for (int o = 0; o < p * p * 3; o++)
            {
              int y = o / (p * 3), xc = o % (p * 3);
              double v = 0, frac;
              int got = rec->data[((gsize) (r.y + y) * w + r.x) * 3 + xc];
              for (int i = 0; i < n; i++)
                {
                  TsRect s = ts_grid_patch_rect (&scene->grid, i);
                  v += (double) mix[i] * scene->image->data[((gsize) (s.y + y) * w + s.x) * 3 + xc];
                }
              v = CLAMP (v, 0, 255);
              frac = v - floor (v);
              if (fabs (frac - 0.5) < 1e-3)
                {
                  g_assert_cmpint (abs (got - (int) lrint (v)), <=, 1);
                  near++;
                }
              else
                g_assert_cmpint (got, ==, (int) lrint (v));
            }
        }
      g_test_message ("K %d: %d of %d bytes next to a rounding boundary", ks[c], near, n * p * p * 3);
    }
}

/* The seeds a scene keeps change nothing: smaller, larger (drawn again) and
 * smaller again query counts on one scene give exactly what fresh scenes give. */
static void
test_seeds_kept (void)
{
  g_autoptr (TsScene) shared = gradient_scene (96, 4); /* 576 tokens */
  const int ks[] = { 36, 144, 7, 144, 90 };

  for (guint i = 0; i < G_N_ELEMENTS (ks); i++)
    {
      g_autoptr (TsScene) fresh = gradient_scene (96, 4);
      g_autoptr (TsAssignment) a = ts_resample (shared, ks[i], 3, 0.1, 11, 0, NULL, NULL);
      g_autoptr (TsAssignment) b = ts_resample (fresh, ks[i], 3, 0.1, 11, 0, NULL, NULL);
      g_autoptr (TsAssignment) other_seed = ts_resample (shared, ks[i], 3, 0.1, 12, 0, NULL, NULL);
      g_autoptr (TsAssignment) other_fresh = ts_resample (fresh, ks[i], 3, 0.1, 12, 0, NULL, NULL);
      g_assert_cmpmem (a->groups, sizeof (int) * 576, b->groups, sizeof (int) * 576);
      g_assert_cmpmem (a->mix, sizeof (float) * ks[i] * 576, b->mix, sizeof (float) * ks[i] * 576);
      g_assert_cmpmem (a->features, sizeof (float) * ks[i] * a->d, b->features, sizeof (float) * ks[i] * b->d);
      g_assert_cmpmem (other_seed->mix, sizeof (float) * ks[i] * 576, other_fresh->mix, sizeof (float) * ks[i] * 576);
    }
}

static void
test_bad_input (void)
{
  g_autoptr (TsScene) scene = gradient_scene (16, 4);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  GError *error = NULL;
  struct {
    int k, rounds;
    double tau;
  } bad[] = { { 0, 3, 0.1 }, { 17, 3, 0.1 }, { 4, 101, 0.1 }, { 4, -1, 0.1 }, { 4, 3, 0 }, { 4, 3, NAN } };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_null (ts_resample (scene, bad[i].k, bad[i].rounds, bad[i].tau, 0, 0, NULL, &error));
      g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
  g_assert_null (ts_resample (NULL, 4, 3, 0.1, 0, 0, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_cancellable_cancel (cancel);
  g_assert_null (ts_resample (scene, 4, 3, 0.1, 0, 0, cancel, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_CANCELLED);
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/resample/two-clusters", test_two_clusters);
  g_test_add_func ("/resample/exact-counts", test_exact_counts);
  g_test_add_func ("/resample/ratio-one", test_ratio_one);
  g_test_add_func ("/resample/mix-reconstruction", test_mix_reconstruction);
  g_test_add_func ("/resample/temperature-and-determinism", test_temperature_and_determinism);
  g_test_add_func ("/resample/without-mix", test_without_mix);
  g_test_add_func ("/resample/multi-equals-single", test_multi_equals_single);
  g_test_add_func ("/resample/seeds-kept", test_seeds_kept);
  g_test_add_func ("/resample/sparse-product", test_sparse_product);
  g_test_add_func ("/resample/gram-exact", test_gram_exact);
  g_test_add_func ("/resample/mix-reconstruction-sparse", test_mix_reconstruction_sparse);
  g_test_add_func ("/resample/bad-input", test_bad_input);
  return g_test_run ();
}
