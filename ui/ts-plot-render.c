#include "ts-plot-render.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <math.h>
#include <string.h>

#include "ts-budget.h"
#include "ts-error.h"
#include "ts-io.h"

typedef struct {
  char *name;
  gboolean baseline;
  int n;
  double *ratio;
  double *q;
  double *lo, *hi;  /* optional spread (e.g. p10..p90 over a dataset), aligned with ratio/q */
  double optimal;
} Series;

struct _TsPlot {
  GPtrArray *series; /* Series* */
  char *title;
  char *y_label;
  double threshold;
  gboolean bands;
  double current_ratio, current_q;
};

typedef struct {
  double fs;             /* font size */
  double x0, y0, w, h;   /* plot area */
  double legend_x, legend_y;
  double lmin, lmax;     /* log2 ratio range */
  double qmin, qmax;
} Layout;

/* Tableau 10 without its grey (the baseline is black). */
static const double palette[][3] = {
  { 0.122, 0.467, 0.706 }, { 1.000, 0.498, 0.055 }, { 0.173, 0.627, 0.173 }, { 0.839, 0.153, 0.157 },
  { 0.580, 0.404, 0.741 }, { 0.549, 0.337, 0.294 }, { 0.890, 0.467, 0.761 }, { 0.090, 0.745, 0.812 },
  { 0.737, 0.741, 0.133 }, { 0.682, 0.780, 0.910 },
};

static const double band_rgb[4][3] = {
  { 0.906, 0.961, 0.906 }, /* light: pale green */
  { 0.988, 0.965, 0.871 }, /* medium: pale yellow */
  { 0.992, 0.918, 0.847 }, /* heavy: pale orange */
  { 0.976, 0.878, 0.878 }, /* extreme: pale red */
};

void
ts_plot_band_rgb (int index, double rgb[3])
{
  index = CLAMP (index, 0, 3);
  memcpy (rgb, band_rgb[index], sizeof band_rgb[index]);
}

static void
series_free (gpointer data)
{
  Series *s = data;
  g_free (s->name);
  g_free (s->ratio);
  g_free (s->q);
  g_free (s->lo);
  g_free (s->hi);
  g_free (s);
}

TsPlot *
ts_plot_new (void)
{
  TsPlot *p = g_new0 (TsPlot, 1);

  p->series = g_ptr_array_new_with_free_func (series_free);
  p->y_label = g_strdup ("Quality retained Q (SSIM)");
  p->threshold = NAN;
  p->bands = TRUE;
  p->current_ratio = p->current_q = NAN;
  return p;
}

void
ts_plot_free (TsPlot *plot)
{
  if (plot == NULL)
    return;
  g_ptr_array_unref (plot->series);
  g_free (plot->title);
  g_free (plot->y_label);
  g_free (plot);
}

void
ts_plot_add_series (TsPlot *plot, const char *name, gboolean baseline, const double *ratios, const double *q, int n,
                    double optimal_ratio)
{
  Series *s = g_new0 (Series, 1);

  s->name = g_strdup (name);
  s->baseline = baseline;
  s->ratio = g_new (double, MAX (n, 1));
  s->q = g_new (double, MAX (n, 1));
  for (int i = 0; i < n; i++)
    if (ratios[i] >= 1 && isfinite (ratios[i]) && isfinite (q[i]))
      {
        s->ratio[s->n] = ratios[i];
        s->q[s->n] = q[i];
        s->n++;
      }
  s->optimal = optimal_ratio;
  g_ptr_array_add (plot->series, s);
}

void
ts_plot_set_spread (TsPlot *plot, const double *ratios, const double *lo, const double *hi, int n)
{
  Series *s;

  g_return_if_fail (plot->series->len > 0);
  s = g_ptr_array_index (plot->series, plot->series->len - 1);
  g_clear_pointer (&s->lo, g_free);
  g_clear_pointer (&s->hi, g_free);
  s->lo = g_new (double, MAX (s->n, 1));
  s->hi = g_new (double, MAX (s->n, 1));
  /* match by ratio: add_series dropped non-finite points */
  for (int k = 0; k < s->n; k++)
    {
      s->lo[k] = s->hi[k] = s->q[k];
      for (int i = 0; i < n; i++)
        if (ratios[i] == s->ratio[k] && isfinite (lo[i]) && isfinite (hi[i]))
          s->lo[k] = lo[i], s->hi[k] = hi[i];
    }
}

TsPlot *
ts_plot_new_from_sweep (const TsSweep *sweep)
{
  TsPlot *p = ts_plot_new ();
  g_autofree double *r = NULL;
  g_autofree double *q = NULL;

  for (int m = 0; m < sweep->n_curves; m++)
    {
      const TsSweepCurve *c = &sweep->curves[m];
      r = g_renew (double, r, MAX (1, c->n_points));
      q = g_renew (double, q, MAX (1, c->n_points));
      double optimal = 0;
      /* Points sit at the achieved ratio N / tokens (quantised methods may overshoot the request). */
      for (int i = 0; i < c->n_points; i++)
        {
          const TsSweepPoint *pt = &c->points[i];
          r[i] = pt->error || pt->tokens < 1 ? NAN : (double) sweep->tokens / pt->tokens;
          q[i] = pt->error ? NAN : pt->q;
          if (c->optimal_ratio > 0 && pt->ratio == c->optimal_ratio)
            optimal = r[i];
        }
      ts_plot_add_series (p, c->method, c->baseline, r, q, c->n_points, optimal);
    }
  ts_plot_set_threshold (p, sweep->threshold);
  ts_plot_set_y_label (p, sweep->metric == TS_SWEEP_METRIC_FEATURE ? "Quality retained Q (feature retention)"
                                                                   : "Quality retained Q (SSIM)");
  return p;
}

void
ts_plot_set_title (TsPlot *plot, const char *title)
{
  g_free (plot->title);
  plot->title = g_strdup (title);
}

void
ts_plot_set_y_label (TsPlot *plot, const char *label)
{
  g_free (plot->y_label);
  plot->y_label = g_strdup (label);
}

void
ts_plot_set_threshold (TsPlot *plot, double threshold)
{
  plot->threshold = threshold;
}

void
ts_plot_set_bands (TsPlot *plot, gboolean show)
{
  plot->bands = show;
}

void
ts_plot_set_current (TsPlot *plot, double ratio, double q)
{
  plot->current_ratio = ratio;
  plot->current_q = q;
}

/* ---- Layout ------------------------------------------------------------ */

static void
legend_label (const Series *se, char *buf, gsize size)
{
  if (se->optimal > 0)
    g_snprintf (buf, size, "%s%s  opt %.3gx", se->name, se->baseline ? " (baseline)" : "", se->optimal);
  else
    g_snprintf (buf, size, "%s%s  opt none", se->name, se->baseline ? " (baseline)" : "");
}

/* Width of the widest legend label at font size @fs (measured on a scratch surface). */
static double
legend_text_width (const TsPlot *p, double fs)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_A8, 1, 1);
  cairo_t *cr = cairo_create (s);
  double w = 0;
  char buf[160];

  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, fs);
  for (guint i = 0; i < p->series->len; i++)
    {
      cairo_text_extents_t ext;
      legend_label (g_ptr_array_index (p->series, i), buf, sizeof buf);
      cairo_text_extents (cr, buf, &ext);
      w = MAX (w, ext.x_advance);
    }
  cairo_destroy (cr);
  cairo_surface_destroy (s);
  return w;
}

static void
layout (const TsPlot *p, double width, double height, Layout *L)
{
  double rmin = INFINITY, rmax = -INFINITY, qmin = INFINITY;

  L->fs = CLAMP (MIN (width / 900.0, height / 560.0) * 13.0, 8.0, 22.0);
  for (guint s = 0; s < p->series->len; s++)
    {
      const Series *se = g_ptr_array_index (p->series, s);
      for (int i = 0; i < se->n; i++)
        {
          rmin = MIN (rmin, se->ratio[i]);
          rmax = MAX (rmax, se->ratio[i]);
          qmin = MIN (qmin, se->q[i]);
          if (se->lo)
            qmin = MIN (qmin, se->lo[i]);
        }
    }
  if (isfinite (p->current_ratio) && isfinite (p->current_q) && p->current_ratio >= 1)
    {
      rmin = MIN (rmin, p->current_ratio);
      rmax = MAX (rmax, p->current_ratio);
      qmin = MIN (qmin, p->current_q);
    }
  if (!isfinite (rmin))
    {
      rmin = 1;
      rmax = 32;
    }
  if (rmax < rmin * 2)
    rmax = rmin * 2;
  if (isfinite (p->threshold))
    qmin = MIN (qmin, p->threshold);
  if (!isfinite (qmin))
    qmin = 0.5;
  L->lmin = log2 (rmin) - 0.3;
  L->lmax = log2 (rmax) + 0.3;
  L->qmax = 1.0;
  L->qmin = floor (MIN (qmin, 0.9) * 10.0 - 1e-9) / 10.0;
  L->qmin = MAX (L->qmin, MIN (0.0, floor (qmin * 10.0) / 10.0));
  {
    double pad = (L->qmax - L->qmin) * 0.04;
    L->qmax += pad;
    L->qmin -= pad;
  }
  L->x0 = 5.2 * L->fs;
  L->y0 = (p->title ? 3.0 : 1.6) * L->fs;
  /* room for the longest label ("downsample (baseline)  opt none" does not fit 14.5 fs) */
  L->legend_x = width - MAX (14.5 * L->fs, 3.5 * L->fs + legend_text_width (p, 0.95 * L->fs));
  L->legend_y = L->y0;
  L->w = MAX (10.0, L->legend_x - 1.5 * L->fs - L->x0);
  L->h = MAX (10.0, height - L->y0 - 4.2 * L->fs);
}

static double
xr (const Layout *L, double ratio)
{
  return L->x0 + (log2 (ratio) - L->lmin) / (L->lmax - L->lmin) * L->w;
}

static double
yq (const Layout *L, double q)
{
  return L->y0 + (L->qmax - q) / (L->qmax - L->qmin) * L->h;
}

double
ts_plot_x_for_ratio (const TsPlot *plot, double width, double height, double ratio)
{
  Layout L;
  layout (plot, width, height, &L);
  return xr (&L, ratio);
}

double
ts_plot_y_for_q (const TsPlot *plot, double width, double height, double q)
{
  Layout L;
  layout (plot, width, height, &L);
  return yq (&L, q);
}

/* ---- Drawing ----------------------------------------------------------- */

static void
series_rgb (const Series *s, int colour_index, double rgb[3])
{
  if (s->baseline)
    rgb[0] = rgb[1] = rgb[2] = 0.0;
  else
    memcpy (rgb, palette[colour_index % G_N_ELEMENTS (palette)], sizeof (double) * 3);
}

static void
text_at (cairo_t *cr, double x, double y, const char *text, double align_x, double align_y)
{
  cairo_text_extents_t e;

  cairo_text_extents (cr, text, &e);
  cairo_move_to (cr, x - e.x_bearing - align_x * e.width, y - e.y_bearing - align_y * e.height);
  cairo_show_text (cr, text);
}

static void
marker (cairo_t *cr, double x, double y, double r, const double rgb[3])
{
  cairo_new_sub_path (cr);
  cairo_arc (cr, x, y, r, 0, 2 * G_PI);
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  cairo_fill_preserve (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_set_line_width (cr, r * 0.45);
  cairo_stroke (cr);
}

static void
ring (cairo_t *cr, double x, double y, double r, const double rgb[3])
{
  cairo_new_sub_path (cr);
  cairo_arc (cr, x, y, r, 0, 2 * G_PI);
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  cairo_set_line_width (cr, r * 0.3);
  cairo_stroke (cr);
}

static void
set_series_line (cairo_t *cr, const Series *s, double fs)
{
  static const double dash[] = { 6, 4 };
  double d[2] = { dash[0] * fs / 12.0, dash[1] * fs / 12.0 };

  cairo_set_line_width (cr, (s->baseline ? 2.4 : 1.9) * fs / 12.0);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_dash (cr, d, s->baseline ? 2 : 0, 0);
}

static void
draw_bands (const TsPlot *p, cairo_t *cr, const Layout *L)
{
  guint n;
  const TsRatioBand *bands = ts_ratio_bands (&n);

  cairo_set_font_size (cr, L->fs * 0.85);
  for (guint b = 0; b < n && b < 4; b++)
    {
      double xa = xr (L, bands[b].lo), xb = isfinite (bands[b].hi) ? xr (L, bands[b].hi) : L->x0 + L->w;
      xa = CLAMP (xa, L->x0, L->x0 + L->w);
      xb = CLAMP (xb, L->x0, L->x0 + L->w);
      if (xb - xa < 1)
        continue;
      cairo_rectangle (cr, xa, L->y0, xb - xa, L->h);
      cairo_set_source_rgb (cr, band_rgb[b][0], band_rgb[b][1], band_rgb[b][2]);
      cairo_fill (cr);
      if (xb - xa > 3.2 * L->fs)
        {
          cairo_set_source_rgb (cr, 0.45, 0.45, 0.45);
          text_at (cr, (xa + xb) / 2, L->y0 + 0.45 * L->fs, bands[b].name, 0.5, 0.0);
        }
    }
}

static void
draw_axes (const TsPlot *p, cairo_t *cr, const Layout *L)
{
  double step = (L->qmax - L->qmin) > 0.45 ? 0.1 : 0.05;
  char buf[32];

  /* Grid and ticks. */
  cairo_set_dash (cr, NULL, 0, 0);
  cairo_set_font_size (cr, L->fs);
  for (int e = (int) ceil (L->lmin); e <= (int) floor (L->lmax); e++)
    {
      double x = xr (L, exp2 (e));
      cairo_set_source_rgba (cr, 0, 0, 0, 0.10);
      cairo_set_line_width (cr, 1.0 * L->fs / 12.0);
      cairo_move_to (cr, x, L->y0);
      cairo_line_to (cr, x, L->y0 + L->h);
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0.15, 0.15, 0.15);
      g_snprintf (buf, sizeof buf, "%gx", exp2 (e));
      text_at (cr, x, L->y0 + L->h + 0.6 * L->fs, buf, 0.5, 0.0);
    }
  for (double q = ceil (L->qmin / step - 1e-9) * step; q <= L->qmax + 1e-9; q += step)
    {
      double y = yq (L, q);
      cairo_set_source_rgba (cr, 0, 0, 0, 0.10);
      cairo_set_line_width (cr, 1.0 * L->fs / 12.0);
      cairo_move_to (cr, L->x0, y);
      cairo_line_to (cr, L->x0 + L->w, y);
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0.15, 0.15, 0.15);
      g_snprintf (buf, sizeof buf, "%.2f", fabs (q) < 1e-9 ? 0.0 : q);
      text_at (cr, L->x0 - 0.5 * L->fs, y, buf, 1.0, 0.5);
    }
  /* Frame. */
  cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
  cairo_set_line_width (cr, 1.1 * L->fs / 12.0);
  cairo_rectangle (cr, L->x0, L->y0, L->w, L->h);
  cairo_stroke (cr);
  /* Axis labels. */
  cairo_set_font_size (cr, L->fs * 1.05);
  cairo_set_source_rgb (cr, 0, 0, 0);
  text_at (cr, L->x0 + L->w / 2, L->y0 + L->h + 2.3 * L->fs, "Compression ratio CR = N / tokens (log2 scale)", 0.5,
           0.0);
  cairo_save (cr);
  cairo_translate (cr, 1.2 * L->fs, L->y0 + L->h / 2);
  cairo_rotate (cr, -G_PI / 2);
  text_at (cr, 0, 0, p->y_label ? p->y_label : "Quality", 0.5, 0.5);
  cairo_restore (cr);
  if (p->title)
    {
      cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
      cairo_set_font_size (cr, L->fs * 1.25);
      text_at (cr, L->x0, 0.9 * L->fs, p->title, 0.0, 0.0);
      cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    }
}

static void
draw_threshold (const TsPlot *p, cairo_t *cr, const Layout *L)
{
  double d[2] = { 3 * L->fs / 12.0, 3 * L->fs / 12.0 };
  double y;
  char buf[48];

  if (!isfinite (p->threshold) || p->threshold < L->qmin || p->threshold > L->qmax)
    return;
  y = yq (L, p->threshold);
  cairo_set_source_rgb (cr, 0.70, 0.05, 0.05);
  cairo_set_line_width (cr, 1.4 * L->fs / 12.0);
  cairo_set_dash (cr, d, 2, 0);
  cairo_move_to (cr, L->x0, y);
  cairo_line_to (cr, L->x0 + L->w, y);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  cairo_set_font_size (cr, L->fs * 0.9);
  g_snprintf (buf, sizeof buf, "threshold Q = %.2f", p->threshold);
  {
    cairo_text_extents_t e;
    double tx, ty;
    cairo_text_extents (cr, buf, &e);
    tx = L->x0 + L->w - 0.4 * L->fs - e.width;
    ty = y - 0.35 * L->fs - e.height;
    cairo_rectangle (cr, tx - 0.25 * L->fs, ty - 0.2 * L->fs, e.width + 0.5 * L->fs, e.height + 0.4 * L->fs);
    cairo_set_source_rgba (cr, 1, 1, 1, 0.85);
    cairo_fill (cr);
    cairo_set_source_rgb (cr, 0.70, 0.05, 0.05);
    text_at (cr, tx, ty, buf, 0.0, 0.0);
  }
}

static void
draw_series (const TsPlot *p, cairo_t *cr, const Layout *L)
{
  int colour = 0;

  cairo_save (cr);
  cairo_rectangle (cr, L->x0, L->y0, L->w, L->h);
  cairo_clip (cr);
  /* Spreads under everything, translucent in their series' colour. */
  colour = 0;
  for (guint s = 0; s < p->series->len; s++)
    {
      const Series *se = g_ptr_array_index (p->series, s);
      double rgb[3];
      if (!se->baseline)
        colour++;
      if (se->lo == NULL || se->n < 2)
        continue;
      series_rgb (se, se->baseline ? 0 : colour - 1, rgb);
      for (int i = 0; i < se->n; i++)
        {
          if (i == 0)
            cairo_move_to (cr, xr (L, se->ratio[i]), yq (L, se->hi[i]));
          else
            cairo_line_to (cr, xr (L, se->ratio[i]), yq (L, se->hi[i]));
        }
      for (int i = se->n - 1; i >= 0; i--)
        cairo_line_to (cr, xr (L, se->ratio[i]), yq (L, se->lo[i]));
      cairo_close_path (cr);
      cairo_set_source_rgba (cr, rgb[0], rgb[1], rgb[2], se->baseline ? 0.10 : 0.16);
      cairo_fill (cr);
    }
  /* Baseline first (under), then the methods in order. */
  for (int pass = 0; pass < 2; pass++)
    {
      colour = 0;
      for (guint s = 0; s < p->series->len; s++)
        {
          const Series *se = g_ptr_array_index (p->series, s);
          double rgb[3];
          if (!se->baseline)
            colour++;
          if ((pass == 0) != se->baseline)
            continue;
          series_rgb (se, colour - 1, rgb);
          set_series_line (cr, se, L->fs);
          cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
          for (int i = 0; i < se->n; i++)
            {
              if (i == 0)
                cairo_move_to (cr, xr (L, se->ratio[i]), yq (L, se->q[i]));
              else
                cairo_line_to (cr, xr (L, se->ratio[i]), yq (L, se->q[i]));
            }
          cairo_stroke (cr);
          cairo_set_dash (cr, NULL, 0, 0);
          for (int i = 0; i < se->n; i++)
            marker (cr, xr (L, se->ratio[i]), yq (L, se->q[i]), (se->baseline ? 0.36 : 0.32) * L->fs, rgb);
          for (int i = 0; i < se->n; i++)
            if (se->optimal > 1 && se->ratio[i] == se->optimal) /* 1x: nothing to mark */
              ring (cr, xr (L, se->ratio[i]), yq (L, se->q[i]), 0.72 * L->fs, rgb);
        }
    }
  if (isfinite (p->current_ratio) && isfinite (p->current_q) && p->current_ratio >= 1)
    {
      double x = xr (L, p->current_ratio), y = yq (L, p->current_q);
      cairo_new_sub_path (cr);
      cairo_arc (cr, x, y, 0.5 * L->fs, 0, 2 * G_PI);
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      cairo_fill_preserve (cr);
      cairo_set_source_rgb (cr, 1, 0.85, 0.0);
      cairo_set_line_width (cr, 0.22 * L->fs);
      cairo_stroke (cr);
    }
  cairo_restore (cr);
}

static void
draw_legend (const TsPlot *p, cairo_t *cr, const Layout *L)
{
  double x = L->legend_x, y = L->legend_y + 0.4 * L->fs, row = 1.55 * L->fs;
  int colour = 0;
  char buf[160];

  cairo_set_font_size (cr, L->fs * 0.95);
  for (guint s = 0; s < p->series->len; s++)
    {
      const Series *se = g_ptr_array_index (p->series, s);
      double rgb[3];
      if (!se->baseline)
        colour++;
      series_rgb (se, colour - 1, rgb);
      set_series_line (cr, se, L->fs);
      cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
      cairo_move_to (cr, x, y + row / 2);
      cairo_line_to (cr, x + 2.4 * L->fs, y + row / 2);
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
      marker (cr, x + 1.2 * L->fs, y + row / 2, 0.32 * L->fs, rgb);
      legend_label (se, buf, sizeof buf);
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      text_at (cr, x + 3.0 * L->fs, y + row / 2, buf, 0.0, 0.5);
      y += row;
    }
  /* Keys for the marks. */
  y += 0.4 * L->fs;
  {
    double rgb[3] = { 0.3, 0.3, 0.3 };
    ring (cr, x + 1.2 * L->fs, y + row / 2, 0.62 * L->fs, rgb);
    cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
    text_at (cr, x + 3.0 * L->fs, y + row / 2, "optimal ratio", 0.0, 0.5);
    y += row;
  }
  if (isfinite (p->current_ratio) && isfinite (p->current_q))
    {
      cairo_new_sub_path (cr);
      cairo_arc (cr, x + 1.2 * L->fs, y + row / 2, 0.45 * L->fs, 0, 2 * G_PI);
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      cairo_fill_preserve (cr);
      cairo_set_source_rgb (cr, 1, 0.85, 0.0);
      cairo_set_line_width (cr, 0.2 * L->fs);
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      text_at (cr, x + 3.0 * L->fs, y + row / 2, "current setting", 0.0, 0.5);
      y += row;
    }
  if (p->bands)
    {
      guint n;
      const TsRatioBand *bands = ts_ratio_bands (&n);
      y += 0.4 * L->fs;
      for (guint b = 0; b < n && b < 4; b++)
        {
          cairo_rectangle (cr, x + 0.3 * L->fs, y + 0.25 * row, 1.8 * L->fs, 0.5 * row);
          cairo_set_source_rgb (cr, band_rgb[b][0], band_rgb[b][1], band_rgb[b][2]);
          cairo_fill_preserve (cr);
          cairo_set_source_rgba (cr, 0, 0, 0, 0.25);
          cairo_set_line_width (cr, 0.06 * L->fs);
          cairo_stroke (cr);
          cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
          text_at (cr, x + 3.0 * L->fs, y + row / 2, bands[b].label, 0.0, 0.5);
          y += row * 0.9;
        }
    }
}

void
ts_plot_draw (const TsPlot *plot, cairo_t *cr, double width, double height)
{
  Layout L;

  layout (plot, width, height, &L);
  cairo_save (cr);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_fill (cr);
  if (plot->bands)
    draw_bands (plot, cr, &L);
  draw_axes (plot, cr, &L);
  draw_series (plot, cr, &L);
  draw_threshold (plot, cr, &L);
  draw_legend (plot, cr, &L);
  cairo_restore (cr);
}

/* ---- Files ------------------------------------------------------------- */

static cairo_status_t
append_cb (void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

gboolean
ts_plot_save (const TsPlot *plot, const char *path, int width, int height, double scale, GError **error)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autofree char *lower = g_ascii_strdown (path ? path : "", -1);
  cairo_surface_t *surface;
  cairo_status_t status;
  cairo_t *cr;
  gboolean png = g_str_has_suffix (lower, ".png");

  if (width < 100 || height < 100 || width > 10000 || height > 10000 || (png && !(scale > 0 && scale <= 8)))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "plot size %d x %d (scale %g) is outside 100..10000 units (scale 0..8)", width, height, scale);
      return FALSE;
    }
  if (png)
    surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int) ceil (width * scale),
                                          (int) ceil (height * scale));
  else if (g_str_has_suffix (lower, ".svg"))
    surface = cairo_svg_surface_create_for_stream (append_cb, bytes, width, height);
  else if (g_str_has_suffix (lower, ".pdf"))
    surface = cairo_pdf_surface_create_for_stream (append_cb, bytes, width, height);
  else
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "%s: the plot file must end in .png, .svg or .pdf", path ? path : "");
      return FALSE;
    }
  cr = cairo_create (surface);
  if (png)
    cairo_scale (cr, scale, scale);
  ts_plot_draw (plot, cr, width, height);
  status = cairo_status (cr);
  cairo_destroy (cr);
  if (png && status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_write_to_png_stream (surface, append_cb, bytes);
  cairo_surface_finish (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_IO, "%s: drawing the plot failed: %s", path,
                   cairo_status_to_string (status));
      return FALSE;
    }
  return ts_file_write (path, bytes->data, bytes->len, error);
}

gboolean
ts_plot_hit_test (const TsPlot *plot, double width, double height, double x, double y, double radius,
                  const char **method, double *ratio, double *q)
{
  Layout L;
  double best = radius * radius;
  const Series *hit = NULL;
  int hit_i = -1;

  layout (plot, width, height, &L);
  for (guint s = 0; s < plot->series->len; s++)
    {
      const Series *se = g_ptr_array_index (plot->series, s);
      for (int i = 0; i < se->n; i++)
        {
          double dx = xr (&L, se->ratio[i]) - x, dy = yq (&L, se->q[i]) - y;
          double d2 = dx * dx + dy * dy;
          if (d2 <= best)
            {
              best = d2;
              hit = se;
              hit_i = i;
            }
        }
    }
  if (hit == NULL)
    return FALSE;
  if (method)
    *method = hit->name;
  if (ratio)
    *ratio = hit->ratio[hit_i];
  if (q)
    *q = hit->q[hit_i];
  return TRUE;
}

/* The dataset's curves: mean Q per method and ratio, the p10..p90 band around it. */
TsPlot *
ts_plot_new_from_summary (JsonNode *summary)
{
  JsonObject *root = json_node_get_object (summary);
  JsonArray *methods = json_object_get_array_member (root, "methods");
  const char *metric = json_object_get_string_member (root, "metric");
  g_autoptr (TsPlot) plot = ts_plot_new ();
  g_autofree char *title = g_strdup_printf ("%" G_GINT64_FORMAT " images: mean %s, band p10-p90",
                                            json_object_get_int_member (root, "images"),
                                            strcmp (metric, "ssim") == 0 ? "SSIM" : "feature retention");

  for (guint k = 0; k < json_array_get_length (methods); k++)
    {
      JsonObject *m = json_array_get_object_element (methods, k);
      JsonArray *points = json_object_get_array_member (m, "points");
      guint n = json_array_get_length (points);
      g_autofree double *r = g_new (double, MAX (n, 1));
      g_autofree double *q = g_new (double, MAX (n, 1));
      g_autofree double *lo = g_new (double, MAX (n, 1));
      g_autofree double *hi = g_new (double, MAX (n, 1));
      JsonNode *rec = json_object_get_member (m, "recommended_ratio");
      const char *name = json_object_get_string_member (m, "method");

      for (guint i = 0; i < n; i++)
        {
          JsonObject *pt = json_array_get_object_element (points, i);
          JsonObject *st = json_object_get_object_member (pt, metric);
          JsonNode *mean = json_object_get_member (st, "mean");
          JsonNode *p10 = json_object_get_member (st, "p10");
          JsonNode *p90 = json_object_get_member (st, "p90");
          r[i] = json_object_get_double_member (pt, "ratio");
          q[i] = JSON_NODE_HOLDS_NULL (mean) ? NAN : json_node_get_double (mean);
          lo[i] = JSON_NODE_HOLDS_NULL (p10) ? NAN : json_node_get_double (p10);
          hi[i] = JSON_NODE_HOLDS_NULL (p90) ? NAN : json_node_get_double (p90);
        }
      ts_plot_add_series (plot, name, strcmp (name, "downsample") == 0, r, q, (int) n,
                          rec && !JSON_NODE_HOLDS_NULL (rec) ? json_node_get_double (rec) : 0);
      ts_plot_set_spread (plot, r, lo, hi, (int) n);
    }
  ts_plot_set_title (plot, title);
  ts_plot_set_y_label (plot, strcmp (metric, "ssim") == 0 ? "SSIM" : "feature retention");
  ts_plot_set_threshold (plot, json_object_get_double_member (root, "threshold"));
  ts_plot_set_bands (plot, TRUE);
  return g_steal_pointer (&plot);
}
