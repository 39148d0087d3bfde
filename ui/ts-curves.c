/* ts-curves.c: the quality-versus-ratio plot. */
#include "ts-curves.h"

#include <math.h>

#define MARGIN_LEFT 52.0
#define MARGIN_RIGHT 14.0
#define MARGIN_TOP 12.0
#define MARGIN_BOTTOM 34.0

struct _TsCurves {
  GtkWidget parent_instance;

  GArray *curves;      /* TsCurve */
  TsMetric metric;
  double threshold[TS_N_METRICS];
  char *current_method;
  double current_ratio;
  double current_value;

  /* Axis ranges, fixed when the data is set (not in snapshot) */
  double x_max;        /* log2 of the largest ratio shown */
  double y_min, y_max;
  gboolean dragging;

  /* Everything but the current setting, drawn once: the slider moves only
   * the dot, and GTK redraws only what a new node changes. */
  GskRenderNode *plot_node;
  int plot_w, plot_h, plot_scale;
  GdkRGBA plot_fg;
};

G_DEFINE_FINAL_TYPE (TsCurves, ts_curves, GTK_TYPE_WIDGET)

/* The foreground colour (gtk_widget_get_color is GTK 4.10). */
static void
widget_fg (GtkWidget *widget, GdkRGBA *rgba)
{
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), rgba);
  G_GNUC_END_IGNORE_DEPRECATIONS
}

enum {
  POINT_ACTIVATED,
  THRESHOLD_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const struct {
  double from, to;
  const char *label;
} bands[] = {
  { 1, 4, "light" },
  { 4, 16, "medium" },
  { 16, 32, "heavy" },
  { 32, 4096, "extreme" },
};

void
ts_method_color (guint index, GdkRGBA *rgba)
{
  static const char *palette[] = {
    "#3584e4", "#e66100", "#2ec27e", "#9141ac", "#c64600", "#e01b24", "#f5c211", "#865e3c", "#00a0a0", "#ff77cc",
  };
  gdk_rgba_parse (rgba, palette[index % G_N_ELEMENTS (palette)]);
}

static guint
method_index (const TsMethod *method)
{
  guint n;
  const TsMethod *const *all = ts_methods (&n);

  for (guint i = 0; i < n; i++)
    if (all[i] == method)
      return i;
  return 0;
}

static void
update_ranges (TsCurves *self)
{
  double lo = 1.0, hi = 0.0, rmax = 64;

  for (guint i = 0; i < self->curves->len; i++)
    {
      const TsCurve *c = &g_array_index (self->curves, TsCurve, i);
      for (guint j = 0; j < c->n_points; j++)
        {
          double v = c->points[j].values[self->metric];
          if (isfinite (v))
            {
              lo = MIN (lo, v);
              hi = MAX (hi, v);
            }
          rmax = MAX (rmax, c->points[j].ratio);
        }
    }
  self->x_max = ceil (log2 (rmax));
  if (self->metric == TS_METRIC_PSNR)
    {
      self->y_min = hi > 0 ? floor (MIN (lo, self->threshold[TS_METRIC_PSNR]) / 5.0) * 5.0 - 5 : 10;
      self->y_max = hi > 0 ? ceil (MAX (hi, self->threshold[TS_METRIC_PSNR]) / 5.0) * 5.0 : 50;
      self->y_min = MAX (self->y_min, 0);
      if (self->y_max - self->y_min < 10)
        self->y_max = self->y_min + 10;
    }
  else
    {
      self->y_min = floor (MIN (MIN (lo, self->threshold[self->metric]), 0.9) * 10.0) / 10.0 - 0.05;
      self->y_min = MAX (self->y_min, 0.0);
      self->y_max = 1.02;
    }
}

static void
plot_rect (TsCurves *self, double *x0, double *y0, double *pw, double *ph)
{
  *x0 = MARGIN_LEFT;
  *y0 = MARGIN_TOP;
  *pw = MAX (10, gtk_widget_get_width (GTK_WIDGET (self)) - MARGIN_LEFT - MARGIN_RIGHT);
  *ph = MAX (10, gtk_widget_get_height (GTK_WIDGET (self)) - MARGIN_TOP - MARGIN_BOTTOM);
}

static double
x_of (TsCurves *self, double ratio)
{
  double x0, y0, pw, ph;
  plot_rect (self, &x0, &y0, &pw, &ph);
  return x0 + pw * log2 (MAX (ratio, 1.0)) / MAX (self->x_max, 1.0);
}

static double
y_of (TsCurves *self, double v)
{
  double x0, y0, pw, ph;
  plot_rect (self, &x0, &y0, &pw, &ph);
  return y0 + ph * (1.0 - (v - self->y_min) / (self->y_max - self->y_min));
}

static double
value_at_y (TsCurves *self, double y)
{
  double x0, y0, pw, ph;
  plot_rect (self, &x0, &y0, &pw, &ph);
  return self->y_min + (1.0 - (y - y0) / ph) * (self->y_max - self->y_min);
}

static double
curve_optimal (const TsCurve *c, TsMetric metric, double threshold)
{
  double best = NAN;

  for (guint j = 0; j < c->n_points; j++)
    if (c->points[j].values[metric] >= threshold && !(c->points[j].ratio <= best))
      best = c->points[j].ratio;
  return best;
}

static void
show_text (cairo_t *cr, PangoLayout *layout, const char *text, double x, double y, double xalign,
           double yalign)
{
  int w, h;

  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, x - w * xalign, y - h * yalign);
  pango_cairo_show_layout (cr, layout);
}

static void
invalidate_plot (TsCurves *self)
{
  g_clear_pointer (&self->plot_node, gsk_render_node_unref);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* The plot without the current setting's dot. */
static void
draw_plot (TsCurves *self, cairo_t *cr, int w, int h, const GdkRGBA *fg_color)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
  PangoFontDescription *font = pango_font_description_from_string ("Sans 8");
  double x0, y0, pw, ph;
  GdkRGBA fg = *fg_color;
  char buf[64];

  pango_layout_set_font_description (layout, font);
  plot_rect (self, &x0, &y0, &pw, &ph);

  /* bands */
  for (guint i = 0; i < G_N_ELEMENTS (bands); i++)
    {
      double a = x_of (self, bands[i].from), b = x_of (self, MIN (bands[i].to, exp2 (self->x_max)));
      if (b <= a)
        continue;
      cairo_rectangle (cr, a, y0, b - a, ph);
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.03 + 0.035 * i);
      cairo_fill (cr);
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.45);
      show_text (cr, layout, bands[i].label, (a + b) / 2, y0 + 2, 0.5, 0);
    }

  /* axes and ticks */
  cairo_set_line_width (cr, 1);
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.35);
  cairo_rectangle (cr, x0 + 0.5, y0 + 0.5, pw, ph);
  cairo_stroke (cr);
  for (int e = 0; e <= (int) self->x_max; e++)
    {
      double x = x_of (self, exp2 (e));
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.12);
      cairo_move_to (cr, floor (x) + 0.5, y0);
      cairo_line_to (cr, floor (x) + 0.5, y0 + ph);
      cairo_stroke (cr);
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.75);
      g_snprintf (buf, sizeof buf, "%gx", exp2 (e));
      show_text (cr, layout, buf, x, y0 + ph + 3, 0.5, 0);
    }
  {
    double step = self->metric == TS_METRIC_PSNR ? 5 : 0.1;
    for (double v = ceil (self->y_min / step) * step; v <= self->y_max + 1e-9; v += step)
      {
        double y = y_of (self, v);
        cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.12);
        cairo_move_to (cr, x0, floor (y) + 0.5);
        cairo_line_to (cr, x0 + pw, floor (y) + 0.5);
        cairo_stroke (cr);
        cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.75);
        g_snprintf (buf, sizeof buf, self->metric == TS_METRIC_PSNR ? "%.0f dB" : "%.1f", v);
        show_text (cr, layout, buf, x0 - 4, y, 1, 0.5);
      }
  }
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.75);
  show_text (cr, layout, "compression ratio (log scale)", x0 + pw / 2, h - 2, 0.5, 1);

  /* threshold line */
  {
    double t = self->threshold[self->metric], y = y_of (self, t);
    double dash[] = { 5, 3 };
    cairo_save (cr);
    cairo_set_dash (cr, dash, 2, 0);
    cairo_set_line_width (cr, 1.5);
    cairo_set_source_rgba (cr, 0.88, 0.11, 0.14, 0.9);
    cairo_move_to (cr, x0, y);
    cairo_line_to (cr, x0 + pw, y);
    cairo_stroke (cr);
    cairo_restore (cr);
    g_snprintf (buf, sizeof buf, self->metric == TS_METRIC_PSNR ? "threshold %.1f dB" : "threshold %.3f", t);
    cairo_set_source_rgba (cr, 0.88, 0.11, 0.14, 1);
    /* above the line, or below it when the band labels take the top */
    if (y - 28 < y0)
      show_text (cr, layout, buf, x0 + 4, y + 2, 0, 0);
    else
      show_text (cr, layout, buf, x0 + 4, y - 2, 0, 1);
  }

  /* curves, optimal points */
  for (guint i = 0; i < self->curves->len; i++)
    {
      const TsCurve *c = &g_array_index (self->curves, TsCurve, i);
      gboolean started = FALSE;
      GdkRGBA col;
      double opt;

      ts_method_color (method_index (c->method), &col);
      cairo_save (cr);
      if (c->baseline)
        {
          double dash[] = { 6, 4 };
          cairo_set_dash (cr, dash, 2, 0);
          col = fg;
          col.alpha = 0.7;
        }
      gdk_cairo_set_source_rgba (cr, &col);
      cairo_set_line_width (cr, 2);
      for (guint j = 0; j < c->n_points; j++)
        {
          double v = c->points[j].values[self->metric];
          if (!isfinite (v))
            continue;
          if (!started)
            cairo_move_to (cr, x_of (self, c->points[j].ratio), y_of (self, v));
          else
            cairo_line_to (cr, x_of (self, c->points[j].ratio), y_of (self, v));
          started = TRUE;
        }
      cairo_stroke (cr);
      cairo_restore (cr);
      gdk_cairo_set_source_rgba (cr, &col);
      cairo_new_path (cr);
      for (guint j = 0; j < c->n_points; j++)
        {
          double v = c->points[j].values[self->metric];
          if (!isfinite (v))
            continue;
          cairo_new_sub_path (cr);
          cairo_arc (cr, x_of (self, c->points[j].ratio), y_of (self, v), 2.5, 0, 2 * G_PI);
          cairo_fill (cr);
        }
      opt = curve_optimal (c, self->metric, self->threshold[self->metric]);
      if (!isnan (opt))
        {
          for (guint j = 0; j < c->n_points; j++)
            if (c->points[j].ratio == opt)
              {
                double x = x_of (self, opt), y = y_of (self, c->points[j].values[self->metric]);
                cairo_move_to (cr, x, y - 6);
                cairo_line_to (cr, x + 6, y);
                cairo_line_to (cr, x, y + 6);
                cairo_line_to (cr, x - 6, y);
                cairo_close_path (cr);
                gdk_cairo_set_source_rgba (cr, &col);
                cairo_fill_preserve (cr);
                cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.9);
                cairo_set_line_width (cr, 1);
                cairo_stroke (cr);
              }
        }
    }

  /* legend, top right, on a veil so the curves under it do not hide it */
  {
    double ly = y0 + 18;
    double lum = 0.3 * fg.red + 0.6 * fg.green + 0.1 * fg.blue;

    if (self->curves->len > 0)
      {
        cairo_rectangle (cr, x0 + pw - 116, ly - 2, 112, 13.0 * self->curves->len + 4);
        cairo_set_source_rgba (cr, lum < 0.5 ? 1 : 0.1, lum < 0.5 ? 1 : 0.1, lum < 0.5 ? 1 : 0.1, 0.8);
        cairo_fill (cr);
      }
    for (guint i = 0; i < self->curves->len; i++)
      {
        const TsCurve *c = &g_array_index (self->curves, TsCurve, i);
        GdkRGBA col;
        ts_method_color (method_index (c->method), &col);
        if (c->baseline)
          col = fg;
        gdk_cairo_set_source_rgba (cr, &col);
        cairo_rectangle (cr, x0 + pw - 110, ly + 4, 14, 3);
        cairo_fill (cr);
        cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.85);
        show_text (cr, layout, c->method->name, x0 + pw - 92, ly, 0, 0);
        ly += 13;
      }
    if (self->curves->len == 0)
      {
        cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.6);
        show_text (cr, layout, "Measuring the methods...", x0 + pw / 2, y0 + ph / 2, 0.5, 0.5);
      }
  }

  pango_font_description_free (font);
  g_object_unref (layout);
}

static void
ts_curves_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  TsCurves *self = TS_CURVES (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  int scale = gtk_widget_get_scale_factor (widget);
  GdkRGBA fg;
  cairo_t *cr;

  widget_fg (widget, &fg);
  if (self->plot_node == NULL || self->plot_w != w || self->plot_h != h || self->plot_scale != scale
      || !gdk_rgba_equal (&self->plot_fg, &fg))
    {
      /* Rasterised once: a Cairo node records its drawing and replays every
       * line and glyph of it whenever the plot is repainted (each frame that
       * moves the current dot, under the Cairo renderer); painting one image
       * is a copy. */
      GtkSnapshot *plot = gtk_snapshot_new ();
      cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, MAX (1, w * scale),
                                                             MAX (1, h * scale));
      cairo_surface_set_device_scale (surface, scale, scale);
      cr = cairo_create (surface);
      draw_plot (self, cr, w, h, &fg);
      cairo_destroy (cr);
      cr = gtk_snapshot_append_cairo (plot, &GRAPHENE_RECT_INIT (0, 0, w, h));
      cairo_set_source_surface (cr, surface, 0, 0);
      cairo_paint (cr);
      cairo_destroy (cr);
      cairo_surface_destroy (surface);
      g_clear_pointer (&self->plot_node, gsk_render_node_unref);
      self->plot_node = gtk_snapshot_free_to_node (plot);
      self->plot_w = w;
      self->plot_h = h;
      self->plot_scale = scale;
      self->plot_fg = fg;
    }
  if (self->plot_node != NULL)
    gtk_snapshot_append_node (snapshot, self->plot_node);

  /* current setting */
  if (isfinite (self->current_value) && self->current_ratio >= 1)
    {
      double x = x_of (self, self->current_ratio), y = y_of (self, self->current_value);
      cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (x - 9, y - 9, 18, 18));
      cairo_new_path (cr);
      cairo_arc (cr, x, y, 6.5, 0, 2 * G_PI);
      cairo_set_source_rgba (cr, 1, 1, 1, 1);
      cairo_fill_preserve (cr);
      cairo_set_source_rgba (cr, 0.1, 0.1, 0.1, 1);
      cairo_set_line_width (cr, 2.5);
      cairo_stroke (cr);
      cairo_destroy (cr);
    }
}

/* The curve point nearest (x, y) within 10 px. */
static gboolean
hit_point (TsCurves *self, double x, double y, const TsCurve **curve, guint *index)
{
  double best = 10.0;
  gboolean found = FALSE;

  for (guint i = 0; i < self->curves->len; i++)
    {
      const TsCurve *c = &g_array_index (self->curves, TsCurve, i);
      for (guint j = 0; j < c->n_points; j++)
        {
          double v = c->points[j].values[self->metric];
          double d;
          if (!isfinite (v))
            continue;
          d = hypot (x - x_of (self, c->points[j].ratio), y - y_of (self, v));
          if (d < best)
            {
              best = d;
              *curve = c;
              *index = j;
              found = TRUE;
            }
        }
    }
  return found;
}

static void
drag_begin_cb (GtkGestureDrag *drag, double x, double y, TsCurves *self)
{
  self->dragging = fabs (y - y_of (self, self->threshold[self->metric])) <= 6;
  if (!self->dragging)
    gtk_gesture_set_state (GTK_GESTURE (drag), GTK_EVENT_SEQUENCE_DENIED);
}

static void
drag_update_cb (GtkGestureDrag *drag, double dx, double dy, TsCurves *self)
{
  double sx, sy;

  if (!self->dragging)
    return;
  gtk_gesture_drag_get_start_point (drag, &sx, &sy);
  ts_curves_set_threshold (self, value_at_y (self, sy + dy));
}

static void
drag_end_cb (GtkGestureDrag *drag, double dx, double dy, TsCurves *self)
{
  self->dragging = FALSE;
}

static void
click_cb (GtkGestureClick *click, int n_press, double x, double y, TsCurves *self)
{
  const TsCurve *c;
  guint j;

  if (hit_point (self, x, y, &c, &j))
    g_signal_emit (self, signals[POINT_ACTIVATED], 0, c->method->name, c->points[j].ratio);
}

static gboolean
query_tooltip_cb (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip, TsCurves *self)
{
  const TsCurve *c;
  guint j;
  g_autofree char *text = NULL;

  if (fabs (y - y_of (self, self->threshold[self->metric])) <= 5)
    {
      gtk_tooltip_set_text (tooltip, "Drag to change the quality threshold; diamonds mark each method's "
                                     "highest ratio still above it");
      return TRUE;
    }
  if (!hit_point (self, x, y, &c, &j))
    return FALSE;
  text = g_strdup_printf ("<b>%s</b>  %.2fx, %d tokens\nSSIM %.4f  PSNR %.2f dB  retention %.4f\n"
                          "<small>Click to use this setting</small>",
                          c->method->label, c->points[j].ratio, c->points[j].tokens,
                          c->points[j].values[TS_METRIC_SSIM], c->points[j].values[TS_METRIC_PSNR],
                          c->points[j].values[TS_METRIC_RETENTION]);
  gtk_tooltip_set_markup (tooltip, text);
  return TRUE;
}

static void
ts_curves_finalize (GObject *object)
{
  TsCurves *self = TS_CURVES (object);

  g_array_unref (self->curves);
  g_free (self->current_method);
  g_clear_pointer (&self->plot_node, gsk_render_node_unref);
  G_OBJECT_CLASS (ts_curves_parent_class)->finalize (object);
}

static void
ts_curves_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *min, int *nat,
                   int *min_baseline, int *nat_baseline)
{
  *min = orientation == GTK_ORIENTATION_HORIZONTAL ? 240 : 160;
  *nat = orientation == GTK_ORIENTATION_HORIZONTAL ? 480 : 220;
}

static void
ts_curves_class_init (TsCurvesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = ts_curves_finalize;
  widget_class->snapshot = ts_curves_snapshot;
  widget_class->measure = ts_curves_measure;

  /* point-activated (const char *method, double ratio) */
  signals[POINT_ACTIVATED] = g_signal_new ("point-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                           NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_DOUBLE);
  /* threshold-changed (double threshold) */
  signals[THRESHOLD_CHANGED] = g_signal_new ("threshold-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                             0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_DOUBLE);
  gtk_widget_class_set_css_name (widget_class, "tscurves");
}

static void
ts_curves_init (TsCurves *self)
{
  GtkGesture *drag = gtk_gesture_drag_new ();
  GtkGesture *click = gtk_gesture_click_new ();

  self->curves = g_array_new (FALSE, TRUE, sizeof (TsCurve));
  self->threshold[TS_METRIC_SSIM] = 0.9;
  self->threshold[TS_METRIC_PSNR] = 28.0;
  self->threshold[TS_METRIC_RETENTION] = 0.95;
  self->current_value = NAN;
  self->x_max = 6;
  self->y_min = 0.5;
  self->y_max = 1.02;

  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update_cb), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (drag_end_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
  g_signal_connect (click, "released", G_CALLBACK (click_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (query_tooltip_cb), self);
}

GtkWidget *
ts_curves_new (void)
{
  return g_object_new (TS_TYPE_CURVES, NULL);
}

void
ts_curves_set_curves (TsCurves *self, const TsCurve *curves, guint n)
{
  g_return_if_fail (TS_IS_CURVES (self));
  g_array_set_size (self->curves, 0);
  g_array_append_vals (self->curves, curves, n);
  update_ranges (self);
  invalidate_plot (self);
}

void
ts_curves_set_metric (TsCurves *self, TsMetric metric)
{
  g_return_if_fail (TS_IS_CURVES (self));
  self->metric = CLAMP (metric, 0, TS_N_METRICS - 1);
  update_ranges (self);
  invalidate_plot (self);
}

TsMetric
ts_curves_get_metric (TsCurves *self)
{
  return self->metric;
}

void
ts_curves_set_threshold (TsCurves *self, double threshold)
{
  g_return_if_fail (TS_IS_CURVES (self));
  if (self->metric == TS_METRIC_PSNR)
    threshold = CLAMP (threshold, 0, 99);
  else
    threshold = CLAMP (threshold, 0, 1);
  if (threshold == self->threshold[self->metric])
    return;
  self->threshold[self->metric] = threshold;
  g_signal_emit (self, signals[THRESHOLD_CHANGED], 0, threshold);
  invalidate_plot (self);
}

double
ts_curves_get_threshold (TsCurves *self)
{
  return self->threshold[self->metric];
}

void
ts_curves_set_current (TsCurves *self, const char *method, double ratio, double value)
{
  g_return_if_fail (TS_IS_CURVES (self));
  g_free (self->current_method);
  self->current_method = g_strdup (method);
  self->current_ratio = ratio;
  self->current_value = value;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

double
ts_curves_get_optimal (TsCurves *self, const char *method)
{
  for (guint i = 0; i < self->curves->len; i++)
    {
      const TsCurve *c = &g_array_index (self->curves, TsCurve, i);
      if (g_strcmp0 (c->method->name, method) == 0)
        return curve_optimal (c, self->metric, self->threshold[self->metric]);
    }
  return NAN;
}

gboolean
ts_curves_point_position (TsCurves *self, const char *method, guint index, double *x, double *y)
{
  for (guint i = 0; i < self->curves->len; i++)
    {
      const TsCurve *c = &g_array_index (self->curves, TsCurve, i);
      if (g_strcmp0 (c->method->name, method) == 0 && index < c->n_points)
        {
          *x = x_of (self, c->points[index].ratio);
          *y = y_of (self, c->points[index].values[self->metric]);
          return TRUE;
        }
    }
  return FALSE;
}
