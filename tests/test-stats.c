/* Statistics for dataset summaries; expected values from numpy (mean, std, percentile, polyfit). */
#include <math.h>

#include "ts-stats.h"
#include "ts-test-util.h"

static void
test_summary (void)
{
  const double v[] = { 3, 1, 4, 1, 5, 9, 2, 6 };
  TsSummaryStats s;

  ts_stats_compute (v, G_N_ELEMENTS (v), &s);
  g_assert_cmpint (s.n, ==, 8);
  g_assert_cmpfloat_with_epsilon (s.mean, 3.875, 1e-12);
  g_assert_cmpfloat_with_epsilon (s.std, 2.5708704751503917, 1e-12);
  g_assert_cmpfloat_with_epsilon (s.p10, 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (s.p50, 3.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (s.p90, 6.9, 1e-12);
  g_assert_cmpfloat (s.min, ==, 1);
  g_assert_cmpfloat (s.max, ==, 9);
}

static void
test_nan_skipped (void)
{
  const double v[] = { NAN, 2, INFINITY, 4 };
  const double none[] = { NAN };
  TsSummaryStats s;

  ts_stats_compute (v, G_N_ELEMENTS (v), &s);
  g_assert_cmpint (s.n, ==, 2);
  g_assert_cmpfloat_with_epsilon (s.mean, 3, 1e-12);
  g_assert_cmpfloat_with_epsilon (s.std, 1, 1e-12);
  ts_stats_compute (none, 1, &s);
  g_assert_cmpint (s.n, ==, 0);
  g_assert_true (isnan (s.mean));
  ts_stats_compute (NULL, 0, &s);
  g_assert_cmpint (s.n, ==, 0);
}

static void
test_quantile (void)
{
  const double one[] = { 7 };
  const double two[] = { 0, 10 };

  g_assert_cmpfloat (ts_stats_quantile_sorted (one, 1, 0.9), ==, 7);
  g_assert_cmpfloat_with_epsilon (ts_stats_quantile_sorted (two, 2, 0.1), 1.0, 1e-12);
  g_assert_cmpfloat (ts_stats_quantile_sorted (two, 2, 1.0), ==, 10);
  g_assert_true (isnan (ts_stats_quantile_sorted (two, 0, 0.5)));
}

static void
test_fit (void)
{
  const double x[] = { 1, 2, 3, 4, 5 };
  const double y[] = { 2.1, 3.9, 6.2, 7.8, 10.1 };
  const double cx[] = { 2, 2, 2 };
  TsLinearFit f;

  g_assert_true (ts_stats_linear_fit (x, y, 5, &f));
  g_assert_cmpint (f.n, ==, 5);
  g_assert_cmpfloat_with_epsilon (f.slope, 1.99, 1e-12);
  g_assert_cmpfloat_with_epsilon (f.intercept, 0.05, 1e-12);
  g_assert_cmpfloat_with_epsilon (f.r2, 0.9973053289009771, 1e-12);
  g_assert_cmpfloat_with_epsilon (f.rmse, 0.1462873883832783, 1e-12);
  g_assert_false (ts_stats_linear_fit (cx, y, 3, &f)); /* x constant */
  g_assert_false (ts_stats_linear_fit (x, y, 1, &f));  /* one pair */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/stats/summary", test_summary);
  g_test_add_func ("/stats/nan-skipped", test_nan_skipped);
  g_test_add_func ("/stats/quantile", test_quantile);
  g_test_add_func ("/stats/linear-fit", test_fit);
  return g_test_run ();
}
