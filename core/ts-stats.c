#include "ts-stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

double
ts_stats_quantile_sorted (const double *sorted, int n, double q)
{
  double pos, frac;
  int lo;

  if (n <= 0)
    return NAN;
  pos = q * (n - 1);
  lo = (int) floor (pos);
  if (lo >= n - 1)
    return sorted[n - 1];
  frac = pos - lo;
  return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

void
ts_stats_compute (const double *values, int n, TsSummaryStats *out)
{
  g_autofree double *v = g_new (double, MAX (n, 1));
  int m = 0;
  double sum = 0, sq = 0;

  for (int i = 0; i < n; i++)
    if (isfinite (values[i]))
      v[m++] = values[i];
  out->n = m;
  if (m == 0)
    {
      out->mean = out->std = out->min = out->max = out->p10 = out->p50 = out->p90 = NAN;
      return;
    }
  qsort (v, m, sizeof (double), compare_doubles);
  for (int i = 0; i < m; i++)
    sum += v[i];
  out->mean = sum / m;
  for (int i = 0; i < m; i++)
    sq += (v[i] - out->mean) * (v[i] - out->mean);
  out->std = sqrt (sq / m);
  out->min = v[0];
  out->max = v[m - 1];
  out->p10 = ts_stats_quantile_sorted (v, m, 0.10);
  out->p50 = ts_stats_quantile_sorted (v, m, 0.50);
  out->p90 = ts_stats_quantile_sorted (v, m, 0.90);
}

gboolean
ts_stats_linear_fit (const double *x, const double *y, int n, TsLinearFit *fit)
{
  double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0, ss_res = 0;
  int m = 0;

  memset (fit, 0, sizeof *fit);
  for (int i = 0; i < n; i++)
    if (isfinite (x[i]) && isfinite (y[i]))
      m++, sx += x[i], sy += y[i];
  fit->n = m;
  if (m < 2)
    return FALSE;
  sx /= m, sy /= m;
  for (int i = 0; i < n; i++)
    if (isfinite (x[i]) && isfinite (y[i]))
      {
        double dx = x[i] - sx, dy = y[i] - sy;
        sxx += dx * dx, sxy += dx * dy, syy += dy * dy;
      }
  if (sxx <= 0)
    return FALSE;
  fit->slope = sxy / sxx;
  fit->intercept = sy - fit->slope * sx;
  for (int i = 0; i < n; i++)
    if (isfinite (x[i]) && isfinite (y[i]))
      {
        double r = y[i] - (fit->intercept + fit->slope * x[i]);
        ss_res += r * r;
      }
  fit->r2 = syy > 0 ? 1.0 - ss_res / syy : NAN;
  fit->rmse = sqrt (ss_res / m);
  return TRUE;
}
