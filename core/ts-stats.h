/* ts-stats.h: the small statistics dataset summaries need.
 * Pure functions on double arrays; NaN values are skipped everywhere. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  int n;           /* values used (NaN skipped) */
  double mean;
  double std;      /* population standard deviation (divides by n) */
  double min, max;
  double p10, p50, p90; /* linear interpolation between order statistics (numpy's default) */
} TsSummaryStats;

/* Fills @out from @n values; with no finite value every field but n is NaN. */
void ts_stats_compute (const double *values, int n, TsSummaryStats *out);

/* The q-quantile (0..1) of @n sorted values, linear interpolation. */
double ts_stats_quantile_sorted (const double *sorted, int n, double q);

typedef struct {
  int n;
  double slope, intercept;
  double r2;   /* coefficient of determination; NaN when y is constant */
  double rmse; /* root mean squared residual */
} TsLinearFit;

/* Ordinary least squares y = intercept + slope x over pairs where both are
 * finite; FALSE when fewer than 2 pairs or x is constant. */
gboolean ts_stats_linear_fit (const double *x, const double *y, int n, TsLinearFit *fit);

G_END_DECLS
