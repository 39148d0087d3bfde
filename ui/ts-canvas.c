/* ts-canvas.c: image view drawing prepared textures and overlays.
 *
 * The overlay (grid, borders, dimming, heat map, regions) is rasterised once
 * into a texture at the on-screen size and reused until the overlay, its
 * options or the view change; the hover outline, which follows the pointer,
 * is drawn on top of it every frame. */
#include "ts-canvas.h"
#include "ts-document.h"

#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>

struct _TsCanvas {
  GtkWidget parent_instance;

  /* Owned references */
  GdkTexture *original;
  GdkTexture *reconstruction; /* made when a view needs it, as the two below */
  GdkTexture *blend;          /* the original with the group-mean fill over it */
  double blend_opacity;
  GdkTexture *difference;    /* made when the Difference view needs it */
  TsImage *original_image;   /* for the difference */
  TsImage *reconstruction_image;
  TsOverlay *overlay;
  char *placeholder;

  /* The overlay rasterised for the current view (NULL: redraw it) */
  GdkTexture *overlay_texture;
  graphene_rect_t overlay_rect; /* where it goes, widget coordinates */
  TsOverlayOptions overlay_options;
  double overlay_scale, overlay_ox, overlay_oy;

  /* State */
  TsOverlayOptions options;
  TsCanvasView view;
  int img_width, img_height;
  double zoom;         /* 0 = fit */
  double pan_x, pan_y; /* image point shown at the widget centre, when not fitting */
  double drag_pan_x, drag_pan_y;
  gboolean dragged;
  TsVlmLayout vlm;     /* a VLM's resize and tiling; width 0 = none */
  char *vlm_label;

  /* Frame timings (TS_FRAME_TIMINGS) */
  gint64 change_time;        /* of the setting change the next snapshot shows */
  gint64 drawn_change_time;  /* drawn, waiting for the frame clock's after-paint */
  double drawn_ms;
  double layout_ms;          /* the frame clock's layout phase ended, after the change */
  gulong after_paint_id, layout_id;
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

/* A picture the canvas draws: a cairo image surface, shared by a texture
 * made from the same bytes (GDK_MEMORY_DEFAULT is cairo's ARGB32). */
static GdkTexture *
texture_from_surface (cairo_surface_t *surface)
{
  int w = cairo_image_surface_get_width (surface), h = cairo_image_surface_get_height (surface);
  int stride = cairo_image_surface_get_stride (surface);
  g_autoptr (GBytes) bytes = NULL;
  GdkTexture *texture;

  cairo_surface_flush (surface);
  /* the bytes keep the surface alive, and the texture keeps the surface at hand for drawing */
  bytes = g_bytes_new_with_free_func (cairo_image_surface_get_data (surface), (gsize) stride * h,
                                      (GDestroyNotify) cairo_surface_destroy, cairo_surface_reference (surface));
  texture = gdk_memory_texture_new (w, h, GDK_MEMORY_DEFAULT, bytes, stride);
  g_object_set_data_full (G_OBJECT (texture), "ts-surface", surface, (GDestroyNotify) cairo_surface_destroy);
  return texture;
}

/* @a as an opaque picture, or with @b (the same size) blended over it at
 * @opacity when @b is given. */
static GdkTexture *
texture_from_images (const TsImage *a, const TsImage *b, double opacity)
{
  unsigned wb = b ? (unsigned) lround (CLAMP (opacity, 0, 1) * 256) : 0, wa = 256 - wb;
  cairo_surface_t *surface;
  int stride;
  guchar *data;

  if (a == NULL || (b != NULL && (a->width != b->width || a->height != b->height)))
    return NULL;
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, a->width, a->height);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (surface);
      return NULL;
    }
  stride = cairo_image_surface_get_stride (surface);
  data = cairo_image_surface_get_data (surface);
  for (int y = 0; y < a->height; y++)
    {
      guint32 *row = (guint32 *) (gpointer) (data + (gsize) y * stride);
      const guint8 *p = a->data + (gsize) y * a->width * 3;
      if (b == NULL)
        for (int x = 0; x < a->width; x++, p += 3)
          row[x] = 0xff000000u | (guint32) p[0] << 16 | (guint32) p[1] << 8 | p[2];
      else
        for (const guint8 *q = b->data + (gsize) y * b->width * 3, *end = p + (gsize) a->width * 3; p < end;
             p += 3, q += 3, row++)
          *row = 0xff000000u | (guint32) ((p[0] * wa + q[0] * wb + 128) >> 8) << 16
                 | (guint32) ((p[1] * wa + q[1] * wb + 128) >> 8) << 8 | ((p[2] * wa + q[2] * wb + 128) >> 8);
    }
  cairo_surface_mark_dirty (surface);
  return texture_from_surface (surface);
}

static GdkTexture *
texture_from_image (const TsImage *image)
{
  return texture_from_images (image, NULL, 0);
}

/* Under the Cairo renderer, a picture drawn at one place and opacity: a
 * copy scaled once to the device pixels it covers, and the render node that
 * paints it, reused while nothing changes (GTK diffs frames by node, so an
 * unchanged picture is not redrawn; a fresh cairo node always would be). */
typedef struct {
  graphene_rect_t rect;
  double opacity;
  int scale;
  GskRenderNode *node;
} PictureNode;

static void
picture_node_free (gpointer data)
{
  PictureNode *pn = data;

  gsk_render_node_unref (pn->node);
  g_free (pn);
}

/* Copies scaled once are kept up to this many device pixels (16 MB);
 * a picture zoomed in beyond it is scaled as it is painted. */
#define PICTURE_COPY_MAX_PIXELS ((gsize) 4 << 20)

static GskRenderNode *
picture_node_new (cairo_surface_t *surface, const graphene_rect_t *rect, double opacity, int scale)
{
  int tw = cairo_image_surface_get_width (surface), th = cairo_image_surface_get_height (surface);
  /* whole device pixels, so a copy is painted 1:1 */
  double x = round (rect->origin.x * scale) / scale, y = round (rect->origin.y * scale) / scale;
  int dw = MAX (1, (int) round (rect->size.width * scale)), dh = MAX (1, (int) round (rect->size.height * scale));
  graphene_rect_t bounds = GRAPHENE_RECT_INIT (x, y, (double) dw / scale, (double) dh / scale);
  gboolean copy = (dw != tw || dh != th) && (gsize) dw * dh <= PICTURE_COPY_MAX_PIXELS;
  g_autoptr (GtkSnapshot) snapshot = gtk_snapshot_new ();
  cairo_pattern_t *pattern;
  cairo_matrix_t m;
  cairo_t *cr;

  pattern = cairo_pattern_create_for_surface (surface);
  cairo_pattern_set_extend (pattern, CAIRO_EXTEND_PAD);
  /* bilinear as GPU renderers draw it; cairo's box filter where it shrinks to under half */
  cairo_pattern_set_filter (pattern, dw == tw && dh == th ? CAIRO_FILTER_NEAREST
                                     : dw * 2 < tw || dh * 2 < th ? CAIRO_FILTER_GOOD
                                                                  : CAIRO_FILTER_BILINEAR);
  if (copy)
    {
      cairo_surface_t *scaled = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, dw, dh);
      cr = cairo_create (scaled);
      cairo_matrix_init_scale (&m, (double) tw / dw, (double) th / dh);
      cairo_pattern_set_matrix (pattern, &m);
      cairo_set_source (cr, pattern);
      cairo_set_operator (cr, CAIRO_OPERATOR_SOURCE);
      cairo_paint (cr);
      cairo_destroy (cr);
      cairo_pattern_destroy (pattern);
      cairo_surface_set_device_scale (scaled, scale, scale);
      pattern = cairo_pattern_create_for_surface (scaled);
      cairo_pattern_set_filter (pattern, CAIRO_FILTER_NEAREST);
      cairo_surface_destroy (scaled);
      cairo_matrix_init_translate (&m, -x, -y);
    }
  else
    {
      cairo_matrix_init_scale (&m, tw / bounds.size.width, th / bounds.size.height);
      cairo_matrix_translate (&m, -x, -y);
    }
  cairo_pattern_set_matrix (pattern, &m);
  cr = gtk_snapshot_append_cairo (snapshot, &bounds);
  cairo_set_source (cr, pattern);
  cairo_rectangle (cr, x, y, bounds.size.width, bounds.size.height);
  cairo_clip (cr);
  cairo_paint_with_alpha (cr, opacity);
  cairo_destroy (cr);
  cairo_pattern_destroy (pattern);
  return gtk_snapshot_to_node (snapshot);
}

/* GTK 4.8's Cairo renderer converts every texture it draws through floats,
 * on every frame (a 672 x 672 picture costs 10 ms a frame), so under that
 * renderer the canvas paints its own surfaces (see PictureNode); GPU
 * renderers get the texture. */
static void
append_picture (GtkWidget *widget, GtkSnapshot *snapshot, GdkTexture *texture, const graphene_rect_t *rect,
                double opacity)
{
  GtkNative *native = gtk_widget_get_native (widget);
  GskRenderer *renderer = native ? gtk_native_get_renderer (native) : NULL;
  cairo_surface_t *surface = g_object_get_data (G_OBJECT (texture), "ts-surface");
  int scale = gtk_widget_get_scale_factor (widget);
  PictureNode *pn;

  if (surface == NULL || renderer == NULL || !GSK_IS_CAIRO_RENDERER (renderer))
    {
      if (opacity < 1)
        gtk_snapshot_push_opacity (snapshot, opacity);
      gtk_snapshot_append_texture (snapshot, texture, rect);
      if (opacity < 1)
        gtk_snapshot_pop (snapshot);
      return;
    }
  pn = g_object_get_data (G_OBJECT (texture), "ts-picture-node");
  if (pn == NULL || !graphene_rect_equal (&pn->rect, rect) || pn->opacity != opacity || pn->scale != scale)
    {
      pn = g_new (PictureNode, 1);
      *pn = (PictureNode){ *rect, opacity, scale, picture_node_new (surface, rect, opacity, scale) };
      g_object_set_data_full (G_OBJECT (texture), "ts-picture-node", pn, picture_node_free);
    }
  gtk_snapshot_append_node (snapshot, pn->node);
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

/* Frame timings, main thread only: from a setting change to the end of the
 * canvas snapshot that shows its groups, and to the end of the frame that
 * painted that snapshot (GdkFrameClock::after-paint: the window rendered). */
static GArray *snapshot_timings;
static GArray *frame_timings;
static enum { FIRST_NOT_DRAWN, FIRST_DRAWN, FIRST_LOGGED } first_frame;

static void
add_timing (GArray **timings, double ms)
{
  if (*timings == NULL)
    *timings = g_array_new (FALSE, FALSE, sizeof (double));
  g_array_append_val (*timings, ms);
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static void
report (GArray *timings, const char *what)
{
  guint n;
  double *v;

  if (timings == NULL || timings->len == 0)
    return;
  g_array_sort (timings, compare_double);
  n = timings->len;
  v = (double *) (gpointer) timings->data;
  g_printerr ("ts-frame summary (%s): %u frames, p50 %.2f ms, p95 %.2f ms, max %.2f ms\n", what, n,
              v[(n - 1) / 2], v[MIN (n - 1, (guint) ceil (0.95 * n) - 1)], v[n - 1]);
}

void
ts_canvas_report_timings (void)
{
  report (snapshot_timings, "setting change to the end of the canvas snapshot");
  report (frame_timings, "setting change to the end of the painted frame");
}

/* Milliseconds since the kernel started this process (Linux), or -1. */
static double
process_age_ms (void)
{
  g_autofree char *stat = NULL;
  const char *p;
  unsigned long long start = 0;
  struct timespec now;

  if (!g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL) || (p = strrchr (stat, ')')) == NULL)
    return -1;
  /* field 22, starttime in clock ticks since boot; p points at the end of field 2 */
  for (int field = 2; field < 22 && p; field++)
    p = strchr (p + 1, ' ');
  if (p == NULL || sscanf (p + 1, "%llu", &start) != 1 || clock_gettime (CLOCK_BOOTTIME, &now) != 0)
    return -1;
  return (now.tv_sec + now.tv_nsec / 1e9 - (double) start / sysconf (_SC_CLK_TCK)) * 1000.0;
}

static void
after_paint_cb (GdkFrameClock *clock, TsCanvas *self)
{
  double ms;

  if (first_frame == FIRST_DRAWN)
    {
      first_frame = FIRST_LOGGED;
      g_printerr ("ts-frame: first frame with the picture and its grid painted %.1f ms after the process started\n",
                  process_age_ms ());
    }
  if (self->drawn_change_time == 0)
    return;
  ms = (g_get_monotonic_time () - self->drawn_change_time) / 1000.0;
  add_timing (&frame_timings, ms);
  g_printerr ("ts-frame: %.2f ms from setting change to frame (layout ended at %.2f ms, snapshot ended at %.2f ms, "
              "canvas drawn in %.2f ms)\n",
              ms, self->layout_ms, g_array_index (snapshot_timings, double, snapshot_timings->len - 1), self->drawn_ms);
  self->drawn_change_time = 0;
}

/* Runs after GTK's own layout handler (connected when the window was realized). */
static void
layout_cb (GdkFrameClock *clock, TsCanvas *self)
{
  self->layout_ms = self->change_time ? (g_get_monotonic_time () - self->change_time) / 1000.0 : NAN;
}

/* ---------------------------------------------------------------- drawing */

static void
invalidate_overlay (TsCanvas *self)
{
  g_clear_object (&self->overlay_texture);
}

/* What the cached overlay texture shows: everything but the hover outline. */
static TsOverlayOptions
cached_options (TsCanvas *self, double scale)
{
  TsOverlayOptions opts = self->options;

  if (opts.fill == TS_GROUP_FILL_MEAN) /* the canvas blends the reconstruction texture itself */
    opts.fill = TS_GROUP_FILL_NONE;
  opts.highlight = -1;
  opts.pixel = 1.0 / scale;
  return opts;
}

/* Rasterises the overlay over @visible (widget coordinates) at the device
 * scale; the result is kept until something it shows changes. */
static void
update_overlay_texture (TsCanvas *self, const graphene_rect_t *visible, double s, double ox, double oy)
{
  TsOverlayOptions opts = cached_options (self, s);
  int dev = gtk_widget_get_scale_factor (GTK_WIDGET (self));
  int x0 = (int) floor (visible->origin.x), y0 = (int) floor (visible->origin.y);
  int x1 = (int) ceil (visible->origin.x + visible->size.width);
  int y1 = (int) ceil (visible->origin.y + visible->size.height);
  cairo_surface_t *surface;
  cairo_t *cr;

  if (self->overlay_texture && s == self->overlay_scale && ox == self->overlay_ox && oy == self->overlay_oy
      && self->overlay_rect.origin.x == x0 && self->overlay_rect.origin.y == y0
      && self->overlay_rect.size.width == x1 - x0 && self->overlay_rect.size.height == y1 - y0
      && memcmp (&opts, &self->overlay_options, sizeof opts) == 0)
    return;
  invalidate_overlay (self);
  if (x1 <= x0 || y1 <= y0)
    return;
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (x1 - x0) * dev, (y1 - y0) * dev);
  cr = cairo_create (surface);
  cairo_scale (cr, dev, dev);
  cairo_translate (cr, ox - x0, oy - y0);
  cairo_scale (cr, s, s);
  ts_overlay_draw (self->overlay, cr, &opts);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  self->overlay_texture = texture_from_surface (surface);
  self->overlay_rect = GRAPHENE_RECT_INIT (x0, y0, x1 - x0, y1 - y0);
  self->overlay_options = opts;
  self->overlay_scale = s;
  self->overlay_ox = ox;
  self->overlay_oy = oy;
}

static void
ts_canvas_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  TsCanvas *self = TS_CANVAS (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  GdkTexture *base = self->original;
  gint64 t0 = g_get_monotonic_time ();
  double s, ox, oy;
  graphene_rect_t rect, visible;
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

  if (self->reconstruction_image && self->reconstruction == NULL && self->view == TS_CANVAS_RECONSTRUCTION)
    self->reconstruction = texture_from_image (self->reconstruction_image);
  if (self->view == TS_CANVAS_RECONSTRUCTION && self->reconstruction)
    base = self->reconstruction;
  else if (self->view == TS_CANVAS_DIFFERENCE && self->difference)
    base = self->difference;

  get_transform (self, &s, &ox, &oy);
  rect = GRAPHENE_RECT_INIT (ox, oy, self->img_width * s, self->img_height * s);
  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  /* group-mean fill over the original, blended into it once: the canvas
   * paints one opaque picture instead of two layers (a full-size blend less
   * in every frame that repaints the canvas) */
  if (self->options.fill == TS_GROUP_FILL_MEAN && self->reconstruction_image && self->view == TS_CANVAS_ORIGINAL
      && self->options.fill_opacity > 0)
    {
      if (self->blend == NULL || self->blend_opacity != self->options.fill_opacity)
        {
          g_clear_object (&self->blend);
          self->blend = texture_from_images (self->original_image, self->reconstruction_image,
                                             self->options.fill_opacity);
          self->blend_opacity = self->options.fill_opacity;
        }
      if (self->blend)
        base = self->blend;
    }
  append_picture (widget, snapshot, base, &rect, 1.0);

  if (self->overlay && graphene_rect_intersection (&rect, &GRAPHENE_RECT_INIT (0, 0, w, h), &visible))
    {
      update_overlay_texture (self, &visible, s, ox, oy);
      if (self->overlay_texture)
        append_picture (widget, snapshot, self->overlay_texture, &self->overlay_rect, 1.0);
      /* the hover outline moves with the pointer: drawn live, on its own */
      if (self->options.highlight >= 0)
        {
          TsOverlayOptions hover = { .highlight = self->options.highlight, .query = -1, .pixel = 1.0 / s };
          cr = gtk_snapshot_append_cairo (snapshot, &visible);
          cairo_translate (cr, ox, oy);
          cairo_scale (cr, s, s);
          ts_overlay_draw (self->overlay, cr, &hover);
          cairo_destroy (cr);
        }
      if (self->options.heatmap && h > 160)
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

  if (ts_frame_timings_enabled () && self->overlay)
    {
      gint64 t1 = g_get_monotonic_time ();
      if (first_frame == FIRST_NOT_DRAWN)
        first_frame = FIRST_DRAWN;
      if (self->change_time != 0)
        {
          add_timing (&snapshot_timings, (t1 - self->change_time) / 1000.0);
          self->drawn_change_time = self->change_time;
          self->drawn_ms = (t1 - t0) / 1000.0;
          self->change_time = 0;
        }
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
ts_canvas_realize (GtkWidget *widget)
{
  TsCanvas *self = TS_CANVAS (widget);

  GTK_WIDGET_CLASS (ts_canvas_parent_class)->realize (widget);
  if (ts_frame_timings_enabled ())
    {
      self->after_paint_id = g_signal_connect (gtk_widget_get_frame_clock (widget), "after-paint",
                                               G_CALLBACK (after_paint_cb), self);
      self->layout_id = g_signal_connect (gtk_widget_get_frame_clock (widget), "layout", G_CALLBACK (layout_cb),
                                          self);
    }
}

static void
ts_canvas_unrealize (GtkWidget *widget)
{
  TsCanvas *self = TS_CANVAS (widget);

  if (self->after_paint_id)
    g_clear_signal_handler (&self->after_paint_id, gtk_widget_get_frame_clock (widget));
  if (self->layout_id)
    g_clear_signal_handler (&self->layout_id, gtk_widget_get_frame_clock (widget));
  GTK_WIDGET_CLASS (ts_canvas_parent_class)->unrealize (widget);
}

static void
ts_canvas_dispose (GObject *object)
{
  TsCanvas *self = TS_CANVAS (object);

  g_clear_object (&self->original);
  g_clear_object (&self->reconstruction);
  g_clear_object (&self->blend);
  g_clear_object (&self->difference);
  g_clear_object (&self->overlay_texture);
  g_clear_pointer (&self->original_image, ts_image_free);
  g_clear_pointer (&self->reconstruction_image, ts_image_free);
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
  widget_class->realize = ts_canvas_realize;
  widget_class->unrealize = ts_canvas_unrealize;

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

/* The difference picture exists only while the Difference view shows it. */
static void
update_difference (TsCanvas *self)
{
  g_clear_object (&self->difference);
  if (self->view == TS_CANVAS_DIFFERENCE)
    self->difference = difference_texture (self->original_image, self->reconstruction_image);
}

void
ts_canvas_set_images (TsCanvas *self, const TsImage *original, const TsImage *reconstruction)
{
  g_return_if_fail (TS_IS_CANVAS (self));
  g_clear_object (&self->original);
  g_clear_pointer (&self->original_image, ts_image_free);
  self->original = texture_from_image (original);
  self->original_image = original ? ts_image_copy (original) : NULL;
  if (original && (original->width != self->img_width || original->height != self->img_height))
    {
      self->img_width = original->width;
      self->img_height = original->height;
      self->zoom = 0;
    }
  if (original == NULL)
    self->img_width = self->img_height = 0;
  ts_canvas_set_reconstruction (self, reconstruction);
}

void
ts_canvas_set_reconstruction (TsCanvas *self, const TsImage *reconstruction)
{
  g_return_if_fail (TS_IS_CANVAS (self));
  g_clear_object (&self->reconstruction);
  g_clear_object (&self->blend);
  g_clear_pointer (&self->reconstruction_image, ts_image_free);
  self->reconstruction_image = reconstruction ? ts_image_copy (reconstruction) : NULL;
  update_difference (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
ts_canvas_set_overlay (TsCanvas *self, TsOverlay *overlay)
{
  g_return_if_fail (TS_IS_CANVAS (self));
  g_clear_pointer (&self->overlay, ts_overlay_free);
  self->overlay = overlay;
  invalidate_overlay (self);
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
  if (view == self->view)
    return;
  self->view = view;
  update_difference (self);
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
  /* groups replaced before they were drawn: the frame answers the oldest change */
  if (ts_frame_timings_enabled () && change_time > 0 && (self->change_time == 0 || change_time < self->change_time))
    self->change_time = change_time;
}
