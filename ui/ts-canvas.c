/* ts-canvas.c: image view drawing prepared textures and overlays. */
#include "ts-canvas.h"

#include <math.h>
#include <string.h>

struct _TsCanvas {
  GtkWidget parent_instance;

  /* Owned references */
  GdkTexture *original;
  GdkTexture *reconstruction;
  GdkTexture *difference;
  TsOverlay *overlay;
  char *placeholder;

  /* State */
  TsOverlayOptions options;
  TsCanvasView view;
  int img_width, img_height;
  double zoom;         /* 0 = fit */
  double pan_x, pan_y; /* image point shown at the widget centre, when not fitting */
  double drag_pan_x, drag_pan_y;
  gboolean dragged;
  gint64 change_time;
  TsVlmLayout vlm;     /* a VLM's resize and tiling; width 0 = none */
  char *vlm_label;
};

G_DEFINE_FINAL_TYPE (TsCanvas, ts_canvas, GTK_TYPE_WIDGET)

/* The foreground colour (gtk_widget_get_color is GTK 4.10). */
static void
widget_fg (GtkWidget *widget, GdkRGBA *rgba)
{
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), rgba);
  G_GNUC_END_IGNORE_DEPRECATIONS
}

enum {
  PATCH_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---------------------------------------------------------------- helpers */

static GdkTexture *
texture_from_image (const TsImage *image)
{
  g_autoptr (GBytes) bytes = NULL;

  if (image == NULL)
    return NULL;
  bytes = g_bytes_new (image->data, (gsize) image->width * image->height * 3);
  return gdk_memory_texture_new (image->width, image->height, GDK_MEMORY_R8G8B8, bytes,
                                 (gsize) image->width * 3);
}

/* |original - reconstruction| per channel, amplified 4x so small errors show. */
static GdkTexture *
difference_texture (const TsImage *a, const TsImage *b)
{
  g_autoptr (TsImage) d = NULL;
  gsize n;

  if (a == NULL || b == NULL || a->width != b->width || a->height != b->height)
    return NULL;
  d = ts_image_new (a->width, a->height);
  n = (gsize) a->width * a->height * 3;
  for (gsize i = 0; i < n; i++)
    d->data[i] = (guint8) MIN (255, 4 * abs ((int) a->data[i] - (int) b->data[i]));
  return texture_from_image (d);
}

/* Image-to-widget transform: widget = origin + scale * image. */
static void
get_transform (TsCanvas *self, double *scale, double *ox, double *oy)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self));
  int h = gtk_widget_get_height (GTK_WIDGET (self));
  double s;

  if (self->img_width <= 0)
    {
      *scale = 1;
      *ox = *oy = 0;
      return;
    }
  if (self->zoom <= 0)
    {
      s = MIN ((w - 24.0) / self->img_width, (h - 24.0) / self->img_height);
      s = MAX (s, 0.01);
      *scale = s;
      *ox = (w - self->img_width * s) / 2;
      *oy = (h - self->img_height * s) / 2;
      return;
    }
  s = self->zoom;
  *scale = s;
  *ox = w / 2.0 - self->pan_x * s;
  *oy = h / 2.0 - self->pan_y * s;
}

/* Keeps at least part of the image on screen. */
static void
clamp_pan (TsCanvas *self)
{
  self->pan_x = CLAMP (self->pan_x, 0, self->img_width);
  self->pan_y = CLAMP (self->pan_y, 0, self->img_height);
}

static GArray *frame_timings; /* double ms, main thread only */

static void
record_timing (gint64 change_time)
{
  double ms = (g_get_monotonic_time () - change_time) / 1000.0;

  if (frame_timings == NULL)
    frame_timings = g_array_new (FALSE, FALSE, sizeof (double));
  g_array_append_val (frame_timings, ms);
  g_printerr ("ts-frame: %.2f ms from setting change to frame\n", ms);
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

void
ts_canvas_report_timings (void)
{
  guint n;
  double *v;

  if (frame_timings == NULL || frame_timings->len == 0)
    return;
  g_array_sort (frame_timings, compare_double);
  n = frame_timings->len;
  v = (double *) (gpointer) frame_timings->data;
  g_printerr ("ts-frame summary: %u frames, p50 %.2f ms, p95 %.2f ms, max %.2f ms\n", n, v[(n - 1) / 2],
              v[MIN (n - 1, (guint) ceil (0.95 * n) - 1)], v[n - 1]);
}

/* ---------------------------------------------------------------- drawing */

static void
ts_canvas_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  TsCanvas *self = TS_CANVAS (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  GdkTexture *base = self->original;
  double s, ox, oy;
  graphene_rect_t rect;
  cairo_t *cr;

  if (self->original == NULL)
    {
      if (self->placeholder)
        {
          PangoLayout *layout = gtk_widget_create_pango_layout (widget, self->placeholder);
          int lw, lh;
          GdkRGBA fg;
          pango_layout_get_pixel_size (layout, &lw, &lh);
          widget_fg (widget, &fg);
          fg.alpha *= 0.6;
          gtk_snapshot_save (snapshot);
          gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT ((w - lw) / 2.0, (h - lh) / 2.0));
          gtk_snapshot_append_layout (snapshot, layout, &fg);
          gtk_snapshot_restore (snapshot);
          g_object_unref (layout);
        }
      return;
    }

  if (self->view == TS_CANVAS_RECONSTRUCTION && self->reconstruction)
    base = self->reconstruction;
  else if (self->view == TS_CANVAS_DIFFERENCE && self->difference)
    base = self->difference;

  get_transform (self, &s, &ox, &oy);
  rect = GRAPHENE_RECT_INIT (ox, oy, self->img_width * s, self->img_height * s);
  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  gtk_snapshot_append_texture (snapshot, base, &rect);

  /* group-mean fill over the original: a texture, blended on the GPU */
  if (self->options.fill == TS_GROUP_FILL_MEAN && self->reconstruction && self->view == TS_CANVAS_ORIGINAL
      && self->options.fill_opacity > 0)
    {
      gtk_snapshot_push_opacity (snapshot, self->options.fill_opacity);
      gtk_snapshot_append_texture (snapshot, self->reconstruction, &rect);
      gtk_snapshot_pop (snapshot);
    }

  if (self->overlay)
    {
      TsOverlayOptions opts = self->options;
      graphene_rect_t visible;
      graphene_rect_t bounds = GRAPHENE_RECT_INIT (0, 0, w, h);

      if (opts.fill == TS_GROUP_FILL_MEAN)
        opts.fill = TS_GROUP_FILL_NONE;
      opts.pixel = 1.0 / s;
      if (graphene_rect_intersection (&rect, &bounds, &visible))
        {
          cr = gtk_snapshot_append_cairo (snapshot, &visible);
          cairo_translate (cr, ox, oy);
          cairo_scale (cr, s, s);
          ts_overlay_draw (self->overlay, cr, &opts);
          cairo_destroy (cr);
        }
      if (opts.heatmap && h > 160)
        {
          graphene_rect_t bar = GRAPHENE_RECT_INIT (w - 64, 12, 60, MIN (200, h - 24));
          cr = gtk_snapshot_append_cairo (snapshot, &bar);
          ts_overlay_draw_colorbar (cr, w - 52, 34, 12, bar.size.height - 36, "attention");
          cairo_destroy (cr);
        }
    }
  if (self->vlm.width > 0)
    {
      cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
      cairo_translate (cr, ox, oy);
      cairo_scale (cr, s, s);
      ts_overlay_draw_vlm (cr, &self->vlm, self->vlm_label, 1.0 / s);
      cairo_destroy (cr);
    }
  gtk_snapshot_pop (snapshot);

  if (self->change_time != 0)
    {
      record_timing (self->change_time);
      self->change_time = 0;
    }
}

/* ------------------------------------------------------------------ input */

static gboolean
scroll_cb (GtkEventControllerScroll *scroll, double dx, double dy, TsCanvas *self)
{
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (scroll));
  double s, ox, oy, px, py, ix, iy, factor;
  GdkEvent *event;

  if (self->img_width <= 0)
    return FALSE;
  get_transform (self, &s, &ox, &oy);
  if (!(mods & GDK_CONTROL_MASK))
    {
      /* plain scroll pans once zoomed in */
      if (self->zoom <= 0)
        return FALSE;
      self->pan_x += dx * 40 / s;
      self->pan_y += dy * 40 / s;
      clamp_pan (self);
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return TRUE;
    }
  event = gtk_event_controller_get_current_event (GTK_EVENT_CONTROLLER (scroll));
  if (event == NULL || !gdk_event_get_position (event, &px, &py))
    {
      px = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
      py = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
    }
  /* keep the image point under the pointer fixed */
  ix = (px - ox) / s;
  iy = (py - oy) / s;
  factor = pow (1.2, -dy);
  self->zoom = CLAMP (s * factor, 0.05, 64.0);
  self->pan_x = ix - (px - gtk_widget_get_width (GTK_WIDGET (self)) / 2.0) / self->zoom;
  self->pan_y = iy - (py - gtk_widget_get_height (GTK_WIDGET (self)) / 2.0) / self->zoom;
  clamp_pan (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return TRUE;
}

static void
drag_begin_cb (GtkGestureDrag *drag, double x, double y, TsCanvas *self)
{
  double s, ox, oy;

  get_transform (self, &s, &ox, &oy);
  self->dragged = FALSE;
  if (self->zoom <= 0)
    {
      /* start panning from the fitted view */
      self->drag_pan_x = (gtk_widget_get_width (GTK_WIDGET (self)) / 2.0 - ox) / s;
      self->drag_pan_y = (gtk_widget_get_height (GTK_WIDGET (self)) / 2.0 - oy) / s;
    }
  else
    {
      self->drag_pan_x = self->pan_x;
      self->drag_pan_y = self->pan_y;
    }
}

static void
drag_update_cb (GtkGestureDrag *drag, double dx, double dy, TsCanvas *self)
{
  double s, ox, oy;

  if (!self->dragged && hypot (dx, dy) < 6)
    return;
  get_transform (self, &s, &ox, &oy);
  if (!self->dragged && self->zoom <= 0)
    self->zoom = s;
  self->dragged = TRUE;
  self->pan_x = self->drag_pan_x - dx / self->zoom;
  self->pan_y = self->drag_pan_y - dy / self->zoom;
  clamp_pan (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
drag_end_cb (GtkGestureDrag *drag, double dx, double dy, TsCanvas *self)
{
  double x, y;
  int token;

  if (self->dragged)
    return;
  gtk_gesture_drag_get_start_point (drag, &x, &y);
  token = ts_canvas_token_at (self, x, y);
  if (token >= 0)
    g_signal_emit (self, signals[PATCH_ACTIVATED], 0, token);
}

static void
motion_cb (GtkEventControllerMotion *motion, double x, double y, TsCanvas *self)
{
  int token = ts_canvas_token_at (self, x, y);

  if (token != self->options.highlight)
    {
      self->options.highlight = token;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
leave_cb (GtkEventControllerMotion *motion, TsCanvas *self)
{
  if (self->options.highlight != -1)
    {
      self->options.highlight = -1;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
zoom_action (GtkWidget *widget, const char *action, GVariant *param)
{
  TsCanvas *self = TS_CANVAS (widget);

  if (g_str_equal (action, "canvas.zoom-in"))
    ts_canvas_zoom_by (self, 1.25);
  else if (g_str_equal (action, "canvas.zoom-out"))
    ts_canvas_zoom_by (self, 0.8);
  else if (g_str_equal (action, "canvas.zoom-fit"))
    ts_canvas_set_zoom (self, 0);
  else
    ts_canvas_set_zoom (self, 1.0);
}

/* ---------------------------------------------------------------- GObject */

static void
ts_canvas_dispose (GObject *object)
{
  TsCanvas *self = TS_CANVAS (object);

  g_clear_object (&self->original);
  g_clear_object (&self->reconstruction);
  g_clear_object (&self->difference);
  g_clear_pointer (&self->overlay, ts_overlay_free);
  g_clear_pointer (&self->placeholder, g_free);
  g_clear_pointer (&self->vlm_label, g_free);
  G_OBJECT_CLASS (ts_canvas_parent_class)->dispose (object);
}

static void
ts_canvas_class_init (TsCanvasClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ts_canvas_dispose;
  widget_class->snapshot = ts_canvas_snapshot;

  /* patch-activated (int token): the user clicked a patch */
  signals[PATCH_ACTIVATED] = g_signal_new ("patch-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);

  gtk_widget_class_install_action (widget_class, "canvas.zoom-in", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "canvas.zoom-out", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "canvas.zoom-fit", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "canvas.zoom-one", NULL, zoom_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, 0, "canvas.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Add, 0, "canvas.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_equal, 0, "canvas.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, 0, "canvas.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Subtract, 0, "canvas.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, GDK_CONTROL_MASK, "canvas.zoom-fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_CONTROL_MASK, "canvas.zoom-one", NULL);
  gtk_widget_class_set_css_name (widget_class, "tscanvas");
}

static void
ts_canvas_init (TsCanvas *self)
{
  GtkEventController *scroll, *motion;
  GtkGesture *drag;

  ts_overlay_options_init (&self->options);
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);

  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect (scroll, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);

  drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), GDK_BUTTON_PRIMARY);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update_cb), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (drag_end_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));

  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
}

/* ------------------------------------------------------------- public API */

GtkWidget *
ts_canvas_new (void)
{
  return g_object_new (TS_TYPE_CANVAS, NULL);
}

void
ts_canvas_set_images (TsCanvas *self, const TsImage *original, const TsImage *reconstruction)
{
  g_return_if_fail (TS_IS_CANVAS (self));
  g_clear_object (&self->original);
  g_clear_object (&self->reconstruction);
  g_clear_object (&self->difference);
  self->original = texture_from_image (original);
  self->reconstruction = texture_from_image (reconstruction);
  self->difference = difference_texture (original, reconstruction);
  if (original && (original->width != self->img_width || original->height != self->img_height))
    {
      self->img_width = original->width;
      self->img_height = original->height;
      self->zoom = 0;
    }
  if (original == NULL)
    self->img_width = self->img_height = 0;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
ts_canvas_set_overlay (TsCanvas *self, TsOverlay *overlay)
{
  g_return_if_fail (TS_IS_CANVAS (self));
  g_clear_pointer (&self->overlay, ts_overlay_free);
  self->overlay = overlay;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
ts_canvas_set_options (TsCanvas *self, const TsOverlayOptions *options)
{
  int highlight = self->options.highlight;

  g_return_if_fail (TS_IS_CANVAS (self));
  self->options = *options;
  self->options.highlight = highlight;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

const TsOverlayOptions *
ts_canvas_get_options (TsCanvas *self)
{
  return &self->options;
}

void
ts_canvas_set_view (TsCanvas *self, TsCanvasView view)
{
  g_return_if_fail (TS_IS_CANVAS (self));
  self->view = view;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

TsCanvasView
ts_canvas_get_view (TsCanvas *self)
{
  return self->view;
}

void
ts_canvas_set_placeholder (TsCanvas *self, const char *text)
{
  g_free (self->placeholder);
  self->placeholder = g_strdup (text);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
ts_canvas_set_vlm (TsCanvas *self, const TsVlmLayout *layout, const char *label)
{
  g_return_if_fail (TS_IS_CANVAS (self));
  if (layout)
    self->vlm = *layout;
  else
    memset (&self->vlm, 0, sizeof self->vlm);
  g_free (self->vlm_label);
  self->vlm_label = layout ? g_strdup (label) : NULL;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
ts_canvas_set_zoom (TsCanvas *self, double zoom)
{
  double s, ox, oy;

  g_return_if_fail (TS_IS_CANVAS (self));
  if (zoom > 0 && self->zoom <= 0)
    {
      /* keep the current centre */
      get_transform (self, &s, &ox, &oy);
      self->pan_x = (gtk_widget_get_width (GTK_WIDGET (self)) / 2.0 - ox) / s;
      self->pan_y = (gtk_widget_get_height (GTK_WIDGET (self)) / 2.0 - oy) / s;
    }
  self->zoom = zoom > 0 ? CLAMP (zoom, 0.05, 64.0) : 0;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

double
ts_canvas_get_scale (TsCanvas *self)
{
  double s, ox, oy;

  get_transform (self, &s, &ox, &oy);
  return s;
}

void
ts_canvas_zoom_by (TsCanvas *self, double factor)
{
  ts_canvas_set_zoom (self, ts_canvas_get_scale (self) * factor);
}

int
ts_canvas_token_at (TsCanvas *self, double x, double y)
{
  double s, ox, oy;

  if (self->overlay == NULL)
    return -1;
  get_transform (self, &s, &ox, &oy);
  return ts_grid_token_at (ts_overlay_get_grid (self->overlay), (x - ox) / s, (y - oy) / s);
}

gboolean
ts_canvas_token_center (TsCanvas *self, int token, double *x, double *y)
{
  double s, ox, oy;
  const TsGrid *grid;
  TsRect r;

  if (self->overlay == NULL)
    return FALSE;
  grid = ts_overlay_get_grid (self->overlay);
  if (token < 0 || token >= grid->tokens)
    return FALSE;
  get_transform (self, &s, &ox, &oy);
  r = ts_grid_patch_rect (grid, token);
  *x = ox + (r.x + r.w / 2.0) * s;
  *y = oy + (r.y + r.h / 2.0) * s;
  return TRUE;
}

void
ts_canvas_mark_change (TsCanvas *self, gint64 change_time)
{
  static int enabled = -1;

  if (enabled < 0)
    enabled = g_getenv ("TS_FRAME_TIMINGS") != NULL && g_strcmp0 (g_getenv ("TS_FRAME_TIMINGS"), "0") != 0;
  if (enabled && change_time > 0)
    self->change_time = change_time;
}
