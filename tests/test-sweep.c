/* Sweeps: schema, the optimal-ratio rule, the baseline, ratio 1, efficiency, errors. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "ts-test-util.h"

static TsScene *
photo_like (int size)
{
  g_autoptr (TsImage) g = ts_test_gradient (size, size);
  return ts_scene_new (ts_test_noisy (g, 5, 20), 14, TS_FEATURES_PIXEL, NULL, NULL);
}

static void
test_optimal_rule (void)
{
  /* The seed's example: 1x 1.00, 2x 0.99, 4x 0.97, 8x 0.93, 16x 0.85 -> optimal 4x. */
  const double r[] = { 1, 2, 4, 8, 16 }, q[] = { 1.00, 0.99, 0.97, 0.93, 0.85 };
  /* Not monotone: the rule is "the highest ratio whose Q >= threshold", so 8 counts. */
  const double q2[] = { 1.0, 0.90, 0.94, 0.96, 0.5 };
  const double q3[] = { 0.9, 0.8, 0.7, 0.6, 0.5 };
  const double q4[] = { 1.0, NAN, 0.99, NAN, NAN };

  g_assert_cmpfloat (ts_sweep_optimal_ratio (r, q, 5, 0.95), ==, 4);
  g_assert_cmpfloat (ts_sweep_optimal_ratio (r, q, 5, 0.90), ==, 8);
  g_assert_cmpfloat (ts_sweep_optimal_ratio (r, q, 5, 0.85), ==, 16);
  g_assert_cmpfloat (ts_sweep_optimal_ratio (r, q2, 5, 0.95), ==, 8);
  g_assert_cmpfloat (ts_sweep_optimal_ratio (r, q3, 5, 0.95), ==, 0); /* none */
  g_assert_cmpfloat (ts_sweep_optimal_ratio (r, q4, 5, 0.95), ==, 4); /* NaN never qualifies */
  g_assert_cmpfloat (ts_sweep_optimal_ratio (r, q, 0, 0.95), ==, 0);
}

/* The sweep's float SSIM equals the reference ts_ssim (skimage-exact, double) to 1e-5. */
static void
test_fast_ssim (void)
{
  static const int sizes[][2] = { { 224, 224 }, { 97, 61 }, { 11, 40 }, { 8, 8 } };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr (TsImage) a = ts_test_gradient (sizes[i][0], sizes[i][1]);
      g_autoptr (TsImage) b = ts_test_noisy (a, 9, 40);
      g_autoptr (TsImage) c = ts_test_solid (sizes[i][0], sizes[i][1], 90, 200, 30);
      g_autoptr (TsImage) white = ts_test_solid (sizes[i][0], sizes[i][1], 255, 255, 255);
      g_autoptr (TsImage) black = ts_test_solid (sizes[i][0], sizes[i][1], 0, 0, 0);
      g_assert_cmpfloat_with_epsilon (ts_sweep_ssim (a, b), ts_ssim (a, b), 1e-5);
      g_assert_cmpfloat_with_epsilon (ts_sweep_ssim (a, c), ts_ssim (a, c), 1e-5);
      /* luma far from 128, where float moments cancel most */
      g_assert_cmpfloat_with_epsilon (ts_sweep_ssim (white, b), ts_ssim (white, b), 1e-5);
      g_assert_cmpfloat_with_epsilon (ts_sweep_ssim (b, black), ts_ssim (b, black), 1e-5);
      g_assert_cmpfloat_with_epsilon (ts_sweep_ssim (black, white), ts_ssim (black, white), 1e-5);
      g_assert_cmpfloat_with_epsilon (ts_sweep_ssim (a, a), 1.0, 1e-6);
    }
  {
    g_autoptr (TsImage) a = ts_test_gradient (20, 20);
    g_autoptr (TsImage) b = ts_test_gradient (21, 20);
    g_assert_true (isnan (ts_sweep_ssim (a, b)));
  }
}

typedef struct {
  int calls, last_done, total;
} Progress;

static void
progress_cb (int done, int total, const char *method, double ratio, gpointer data)
{
  Progress *p = data;
  g_assert_cmpint (done, ==, p->calls + 1);
  g_assert_nonnull (ts_method_find (method, NULL));
  g_assert_cmpfloat (ratio, >=, 1.0);
  p->calls++;
  p->last_done = done;
  p->total = total;
}

static void
test_schema_and_baseline (void)
{
  g_autoptr (TsScene) scene = photo_like (168); /* 12 x 12 = 144 tokens */
  TsSweepOptions o;
  g_autoptr (TsSweep) s = NULL;
  g_autoptr (GError) error = NULL;
  const TsSweepCurve *base;
  Progress p = { 0 };
  guint n;

  ts_methods (&n);
  ts_sweep_options_init (&o);
  o.progress = progress_cb;
  o.progress_data = &p;
  s = ts_sweep_run (scene, &o, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->tokens, ==, 144);
  g_assert_cmpint (s->n_curves, ==, (int) n); /* every registered method, the baseline once */
  g_assert_cmpint (p.calls, ==, (int) n * 6);
  g_assert_cmpint (p.total, ==, (int) n * 6);
  base = ts_sweep_find (s, "downsample");
  g_assert_nonnull (base);
  g_assert_true (base->baseline);
  g_assert_true (s->curves[0].baseline);
  for (int m = 0; m < s->n_curves; m++)
    {
      const TsSweepCurve *c = &s->curves[m];
      g_assert_cmpint (c->n_points, ==, 6);
      /* Ratio 1 is no compression: quality 1 for every method. */
      g_assert_cmpfloat (c->points[0].ratio, ==, 1);
      g_assert_cmpint (c->points[0].tokens, ==, 144);
      g_assert_cmpfloat (c->points[0].ssim, ==, 1.0);
      g_assert_cmpfloat (c->points[0].feature_retention, ==, 1.0);
      g_assert_true (isinf (c->points[0].psnr));
      g_assert_cmpfloat (c->points[0].efficiency, ==, 1.0);
      for (int i = 1; i < c->n_points; i++)
        {
          const TsSweepPoint *pt = &c->points[i];
          if (pt->error != NULL)
            continue; /* recorded, not fatal */
          g_assert_cmpint (pt->tokens, >=, 1);
          g_assert_cmpint (pt->tokens, <=, 144);
          g_assert_cmpfloat (pt->ssim, <=, 1.0);
          g_assert_cmpfloat (pt->q, ==, pt->ssim);
          g_assert_cmpfloat_with_epsilon (pt->efficiency, 144.0 / pt->tokens * pt->ssim, 1e-12);
        }
      /* The optimal ratio is one of the ratios (or 0) and its Q passes. */
      if (c->optimal_ratio > 0)
        {
          gboolean found = FALSE;
          for (int i = 0; i < c->n_points; i++)
            if (c->points[i].ratio == c->optimal_ratio)
              {
                found = TRUE;
                g_assert_cmpfloat (c->points[i].q, >=, 0.95);
              }
          g_assert_true (found);
        }
    }
  /* Downsampling 4x of a smooth gradient keeps it well; 32x loses more than 4x. */
  g_assert_cmpfloat (base->points[2].ssim, >, base->points[5].ssim);
}

static void
test_subset_metric_and_determinism (void)
{
  g_autoptr (TsScene) scene = photo_like (224);
  const char *methods[] = { "pool", NULL };
  const double ratios[] = { 1, 4, 16 };
  TsSweepOptions o;
  g_autoptr (TsSweep) a = NULL;
  g_autoptr (TsSweep) b = NULL;

  ts_sweep_options_init (&o);
  o.methods = methods;
  o.ratios = ratios;
  o.n_ratios = 3;
  o.metric = TS_SWEEP_METRIC_FEATURE;
  o.threads = 1;
  a = ts_sweep_run (scene, &o, NULL, NULL);
  o.threads = 2;
  b = ts_sweep_run (scene, &o, NULL, NULL);
  g_assert_cmpint (a->n_curves, ==, 2); /* pool plus the baseline */
  g_assert_nonnull (ts_sweep_find (a, "downsample"));
  g_assert_nonnull (ts_sweep_find (a, "pool"));
  for (int m = 0; m < 2; m++)
    for (int i = 0; i < 3; i++)
      {
        const TsSweepPoint *p = &a->curves[m].points[i], *q = &b->curves[m].points[i];
        g_assert_cmpfloat (p->q, ==, p->feature_retention);
        g_assert_cmpfloat (p->ssim, ==, q->ssim);
        g_assert_cmpint (p->tokens, ==, q->tokens);
      }
  /* Pool 4x on a 16 x 16 grid: k = 2, 64 tokens. */
  g_assert_cmpint (ts_sweep_find (a, "pool")->points[1].tokens, ==, 64);
}

/* Every point equals measuring a single ts_method_run at its ratio: the sweep's
 * shortcuts (one greedy run cut at every ratio, shared SSIM reference, the
 * numbers of a reconstruction painted before: pooling at 2x and 4x, optical
 * compression and pooling tile alike) change nothing. Prune drops patches
 * (grey fill), resample reconstructs from its mix. */
static void
test_points_equal_single_runs (void)
{
  g_autoptr (TsScene) scene = photo_like (224); /* 16 x 16 = 256 tokens */
  const char *methods[] = { "greedy", "pool", "prune", "resample", "tome", "optical", "adaptive", NULL };
  TsSweepOptions o;
  g_autoptr (TsSweep) s = NULL;
  g_autoptr (GError) error = NULL;

  ts_sweep_options_init (&o);
  o.methods = methods;
  o.params.adjacent_only = TRUE;
  o.threads = 1; /* with 2 the sweep runs OpenBLAS on one thread, whose SGEMM rounds differently */
  s = ts_sweep_run (scene, &o, NULL, &error);
  g_assert_no_error (error);
  for (int m = 0; m < s->n_curves; m++)
    for (int i = 1; i < s->curves[m].n_points; i++)
      {
        const TsSweepPoint *pt = &s->curves[m].points[i];
        TsMethodParams p = o.params;
        TsSweepPoint ref = { 0 };
        g_autoptr (TsAssignment) a = NULL;
        g_autoptr (TsImage) recon = NULL;
        if (pt->unreachable && strcmp (s->curves[m].method, "optical") == 0)
          continue; /* no DeepSeek-OCR mode fits 256 / 8 tokens: a recorded error */
        p.ratio = pt->ratio;
        a = ts_method_run (ts_method_find (s->curves[m].method, NULL), scene, &p, NULL, &error);
        g_assert_no_error (error);
        g_test_message ("%s at %g", s->curves[m].method, pt->ratio);
        g_assert_null (pt->error);
        g_assert_true (ts_sweep_measure (scene, a, p.fill, &ref, &error));
        g_assert_cmpint (pt->tokens, ==, a->n_out);
        g_assert_cmpfloat (pt->ssim, ==, ref.ssim);
        g_assert_cmpfloat (pt->psnr, ==, ref.psnr);
        g_assert_cmpfloat (pt->feature_retention, ==, ref.feature_retention);
        /* and the measurement itself against the reference metrics */
        recon = ts_reconstruct (scene->image, &scene->grid, a, p.fill, NULL);
        g_assert_cmpfloat_with_epsilon (pt->ssim, ts_ssim (scene->image, recon), 1e-5);
        g_assert_cmpfloat_with_epsilon (pt->psnr, ts_psnr (scene->image, recon), 1e-9 * fabs (pt->psnr));
        g_assert_cmpfloat_with_epsilon (pt->feature_retention, ts_feature_retention (scene->features, a), 1e-6);
      }
}

/* On two threads the resampler's ratios run as two jobs (its targets split,
 * the seeds shared through the scene): every point is still exactly the
 * single run's, in any order of ratios. OpenBLAS on one thread throughout, as
 * the sweep sets it, so that SGEMM rounds alike. */
static void
test_split_equals_single_runs (void)
{
  g_autoptr (TsScene) scene = photo_like (224); /* 256 tokens */
  const char *methods[] = { "resample", NULL };
  const double ratios[] = { 8, 1, 2, 32, 4, 2.5 };
  int saved = openblas_get_num_threads ();
  TsSweepOptions o;
  g_autoptr (TsSweep) s = NULL;
  g_autoptr (GError) error = NULL;
  const TsSweepCurve *c;

  g_assert_true (ts_method_find ("resample", NULL)->flags & TS_METHOD_SPLIT_TARGETS);
  openblas_set_num_threads (1);
  ts_sweep_options_init (&o);
  o.methods = methods;
  o.ratios = ratios;
  o.n_ratios = G_N_ELEMENTS (ratios);
  o.threads = 2;
  s = ts_sweep_run (scene, &o, NULL, &error);
  g_assert_no_error (error);
  c = ts_sweep_find (s, "resample");
  for (int i = 0; i < c->n_points; i++)
    {
      const TsSweepPoint *pt = &c->points[i];
      g_autoptr (TsScene) fresh = photo_like (224); /* nothing kept from the sweep */
      TsMethodParams p = o.params;
      TsSweepPoint ref = { 0 };
      g_autoptr (TsAssignment) a = NULL;
      g_assert_cmpfloat (pt->ratio, ==, ratios[i]);
      g_assert_null (pt->error);
      if (ratios[i] <= 1)
        {
          g_assert_cmpfloat (pt->ssim, ==, 1.0);
          continue;
        }
      p.ratio = ratios[i];
      a = ts_method_run (ts_method_find ("resample", NULL), fresh, &p, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (ts_sweep_measure (fresh, a, p.fill, &ref, &error));
      g_assert_cmpint (pt->tokens, ==, a->n_out);
      g_assert_cmpfloat (pt->ssim, ==, ref.ssim);
      g_assert_cmpfloat (pt->psnr, ==, ref.psnr);
      g_assert_cmpfloat (pt->feature_retention, ==, ref.feature_retention);
    }
  openblas_set_num_threads (saved);
}

static void
test_bad_input (void)
{
  g_autoptr (TsScene) scene = photo_like (112);
  const char *unknown[] = { "pool", "no-such", NULL };
  const double bad_ratios[] = { 0.5 };
  TsSweepOptions o;
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) c = g_cancellable_new ();

  ts_sweep_options_init (&o);
  o.methods = unknown;
  g_assert_null (ts_sweep_run (scene, &o, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ts_sweep_options_init (&o);
  o.ratios = bad_ratios;
  o.n_ratios = 1;
  g_assert_null (ts_sweep_run (scene, &o, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ts_sweep_options_init (&o);
  o.threshold = 1.5;
  g_assert_null (ts_sweep_run (scene, &o, NULL, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ts_sweep_options_init (&o);
  g_cancellable_cancel (c);
  g_assert_null (ts_sweep_run (scene, &o, c, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_CANCELLED);
  g_clear_error (&error);
  {
    TsSweepMetric m;
    g_assert_false (ts_sweep_metric_parse ("psnr", &m, &error));
    g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sweep/optimal-rule", test_optimal_rule);
  g_test_add_func ("/sweep/fast-ssim", test_fast_ssim);
  g_test_add_func ("/sweep/schema-and-baseline", test_schema_and_baseline);
  g_test_add_func ("/sweep/subset-metric-determinism", test_subset_metric_and_determinism);
  g_test_add_func ("/sweep/points-equal-single-runs", test_points_equal_single_runs);
  g_test_add_func ("/sweep/split-equals-single-runs", test_split_equals_single_runs);
  g_test_add_func ("/sweep/bad-input", test_bad_input);
  return g_test_run ();
}
