/* ts-overlay-render.c: Cairo drawing of grids, groups, regions and heat maps. */
#include "ts-overlay-render.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <math.h>
#include <string.h>

struct _TsOverlay {
  TsGrid grid;
  int n_out;
  int *groups;                       /* n_in copy or NULL */
  TsRect *regions;                   /* n_out copy or NULL */
  cairo_surface_t *mean;             /* reconstruction, working-image size */
  cairo_surface_t *colors;           /* cols x rows, colour per group */
  cairo_surface_t *heat;             /* cols x rows, colormapped */
  cairo_surface_t *dropped;          /* cols x rows A8, opaque where dropped */
  float *segments;                   /* border segments x0 y0 x1 y1 */
  gsize n_segments;
  guint8 *changed;                   /* n_in changed-token mask of a video frame, or NULL */
  cairo_surface_t *unchanged;        /* cols x rows A8, opaque where not changed */
};

void
ts_overlay_options_init (TsOverlayOptions *opts)
{
  memset (opts, 0, sizeof *opts);
  opts->grid = TRUE;
  opts->borders = TRUE;
  opts->fill = TS_GROUP_FILL_MEAN;
  opts->fill_opacity = 0.6;
  opts->regions = FALSE;
  opts->heatmap = FALSE;
  opts->heat_opacity = 0.55;
  opts->dim_dropped = TRUE;
  opts->highlight = -1;
  opts->query = -1;
  opts->pixel = 1.0;
}

void
ts_heat_color (double t, double rgb[3])
{
  guint8 c[3];

  ts_colormap_lookup (TS_COLORMAP_MAGMA, t, c);
  for (int i = 0; i < 3; i++)
    rgb[i] = c[i] / 255.0;
}

void
ts_group_color (int id, double rgb[3])
{
  /* golden-angle hues, two lightness levels so neighbours differ */
  double h = fmod (id * 0.618033988749895, 1.0) * 6.0;
  double s = 0.65, v = (id & 1) ? 0.95 : 0.78;
  int i = (int) h;
  double f = h - i, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));

  switch (i % 6)
    {
    case 0: rgb[0] = v; rgb[1] = t; rgb[2] = p; break;
    case 1: rgb[0] = q; rgb[1] = v; rgb[2] = p; break;
    case 2: rgb[0] = p; rgb[1] = v; rgb[2] = t; break;
    case 3: rgb[0] = p; rgb[1] = q; rgb[2] = v; break;
    case 4: rgb[0] = t; rgb[1] = p; rgb[2] = v; break;
    default: rgb[0] = v; rgb[1] = p; rgb[2] = q; break;
    }
}

cairo_surface_t *
ts_image_to_surface (const TsImage *image)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, image->width, image->height);
  guint8 *dst = cairo_image_surface_get_data (s);
  int stride = cairo_image_surface_get_stride (s);

  for (int y = 0; y < image->height; y++)
    {
      const guint8 *src = image->data + (gsize) y * image->width * 3;
      guint32 *row = (guint32 *) (gpointer) (dst + (gsize) y * stride);
      for (int x = 0; x < image->width; x++)
        row[x] = 0xff000000u | (guint32) src[3 * x] << 16 | (guint32) src[3 * x + 1] << 8 | src[3 * x + 2];
    }
  cairo_surface_mark_dirty (s);
  return s;
}

/* A cols x rows surface with one pixel per patch. */
static cairo_surface_t *
patch_surface (const TsGrid *grid, cairo_format_t format, guint8 **data, int *stride)
{
  cairo_surface_t *s = cairo_image_surface_create (format, grid->cols, grid->rows);

  cairo_surface_flush (s);
  *data = cairo_image_surface_get_data (s);
  *stride = cairo_image_surface_get_stride (s);
  return s;
}

static void
add_segment (GArray *segs, double x0, double y0, double x1, double y1)
{
  float v[4] = { (float) x0, (float) y0, (float) x1, (float) y1 };
  g_array_append_vals (segs, v, 4);
}

TsOverlay *
ts_overlay_new (const TsGrid *grid, const TsAssignment *a, const TsImage *recon, const float *heat)
{
  TsOverlay *o = g_new0 (TsOverlay, 1);
  guint8 *data;
  int stride;

  g_return_val_if_fail (grid != NULL, o);
  o->grid = *grid;
  if (a != NULL && a->n_in == grid->tokens)
    {
      g_autoptr (GArray) segs = g_array_new (FALSE, FALSE, sizeof (float));
      int P = grid->patch;

      o->n_out = a->n_out;
      o->groups = g_memdup2 (a->groups, sizeof (int) * a->n_in);
      if (a->regions)
        o->regions = g_memdup2 (a->regions, sizeof (TsRect) * a->n_out);

      o->colors = patch_surface (grid, CAIRO_FORMAT_ARGB32, &data, &stride);
      o->dropped = NULL;
      for (int r = 0; r < grid->rows; r++)
        for (int c = 0; c < grid->cols; c++)
          {
            int g = a->groups[r * grid->cols + c];
            double rgb[3] = { 0, 0, 0 };
            guint32 *px = (guint32 *) (gpointer) (data + (gsize) r * stride) + c;
            if (g >= 0)
              ts_group_color (g, rgb);
            *px = (g >= 0 ? 0xff000000u : 0) | (guint32) (rgb[0] * 255) << 16 | (guint32) (rgb[1] * 255) << 8
                  | (guint32) (rgb[2] * 255);
            if (g < 0)
              *px = 0;
          }
      cairo_surface_mark_dirty (o->colors);

      if (ts_assignment_kept (a) < a->n_in)
        {
          o->dropped = patch_surface (grid, CAIRO_FORMAT_A8, &data, &stride);
          for (int r = 0; r < grid->rows; r++)
            for (int c = 0; c < grid->cols; c++)
              data[(gsize) r * stride + c] = a->groups[r * grid->cols + c] < 0 ? 255 : 0;
          cairo_surface_mark_dirty (o->dropped);
        }

      /* Borders: each patch edge whose two sides belong to different tokens
       * (a dropped patch is its own side), merged into horizontal runs. */
      for (int r = 0; r <= grid->rows; r++)
        {
          int run = -1;
          for (int c = 0; c <= grid->cols; c++)
            {
              gboolean edge = FALSE;
              if (c < grid->cols)
                {
                  int up = r > 0 ? a->groups[(r - 1) * grid->cols + c] : -2;
                  int down = r < grid->rows ? a->groups[r * grid->cols + c] : -2;
                  edge = r > 0 && r < grid->rows && (up != down || up < 0);
                }
              if (edge && run < 0)
                run = c;
              else if (!edge && run >= 0)
                {
                  add_segment (segs, run * P, r * P, c * P, r * P);
                  run = -1;
                }
            }
        }
      for (int c = 1; c < grid->cols; c++)
        {
          int run = -1;
          for (int r = 0; r <= grid->rows; r++)
            {
              gboolean edge = FALSE;
              if (r < grid->rows)
                {
                  int left = a->groups[r * grid->cols + c - 1];
                  int right = a->groups[r * grid->cols + c];
                  edge = left != right || left < 0;
                }
              if (edge && run < 0)
                run = r;
              else if (!edge && run >= 0)
                {
                  add_segment (segs, c * P, run * P, c * P, r * P);
                  run = -1;
                }
            }
        }
      o->n_segments = segs->len / 4;
      o->segments = (float *) (gpointer) g_array_free (g_steal_pointer (&segs), FALSE);
    }
  if (recon != NULL)
    o->mean = ts_image_to_surface (recon);
  if (heat != NULL)
    {
      o->heat = patch_surface (grid, CAIRO_FORMAT_RGB24, &data, &stride);
      for (int r = 0; r < grid->rows; r++)
        for (int c = 0; c < grid->cols; c++)
          {
            double rgb[3];
            ts_heat_color (heat[r * grid->cols + c], rgb);
            ((guint32 *) (gpointer) (data + (gsize) r * stride))[c] =
              0xff000000u | (guint32) (rgb[0] * 255) << 16 | (guint32) (rgb[1] * 255) << 8 | (guint32) (rgb[2] * 255);
          }
      cairo_surface_mark_dirty (o->heat);
    }
  return o;
}

void
ts_overlay_free (TsOverlay *o)
{
  if (o == NULL)
    return;
  g_free (o->groups);
  g_free (o->regions);
  g_clear_pointer (&o->mean, cairo_surface_destroy);
  g_clear_pointer (&o->colors, cairo_surface_destroy);
  g_clear_pointer (&o->heat, cairo_surface_destroy);
  g_clear_pointer (&o->dropped, cairo_surface_destroy);
  g_free (o->segments);
  g_free (o->changed);
  g_clear_pointer (&o->unchanged, cairo_surface_destroy);
  g_free (o);
}

void
ts_overlay_set_changed (TsOverlay *o, const guint8 *mask)
{
  const TsGrid *grid = &o->grid;
  guint8 *data;
  int stride;

  g_clear_pointer (&o->changed, g_free);
  g_clear_pointer (&o->unchanged, cairo_surface_destroy);
  if (mask == NULL)
    return;
  o->changed = g_memdup2 (mask, grid->tokens);
  o->unchanged = patch_surface (grid, CAIRO_FORMAT_A8, &data, &stride);
  for (int r = 0; r < grid->rows; r++)
    for (int c = 0; c < grid->cols; c++)
      data[(gsize) r * stride + c] = mask[r * grid->cols + c] ? 0 : 255;
  cairo_surface_mark_dirty (o->unchanged);
}

const TsGrid *
ts_overlay_get_grid (const TsOverlay *o)
{
  return &o->grid;
}

/* A cols x rows surface stretched over the grid, one pixel per patch. */
static void
paint_patch_surface (cairo_t *cr, const TsGrid *grid, cairo_surface_t *s, double alpha, cairo_filter_t filter)
{
  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, grid->cols * grid->patch, grid->rows * grid->patch);
  cairo_clip (cr);
  cairo_scale (cr, grid->patch, grid->patch);
  cairo_set_source_surface (cr, s, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), filter);
  cairo_pattern_set_extend (cairo_get_source (cr), CAIRO_EXTEND_PAD);
  cairo_paint_with_alpha (cr, alpha);
  cairo_restore (cr);
}

/* Paints (@r, @g, @b, @a) over the patches where the cols x rows A8 @mask is opaque. */
static void
darken_patches (cairo_t *cr, int P, cairo_surface_t *mask_surface, double r, double g, double b, double a)
{
  cairo_pattern_t *mask = cairo_pattern_create_for_surface (mask_surface);

  cairo_save (cr);
  cairo_scale (cr, P, P);
  cairo_pattern_set_filter (mask, CAIRO_FILTER_NEAREST);
  cairo_set_source_rgba (cr, r, g, b, a);
  cairo_mask (cr, mask);
  cairo_restore (cr);
  cairo_pattern_destroy (mask);
}

static void
stroke_twice (cairo_t *cr, double width, double r, double g, double b, double a)
{
  /* a dark halo under a light line reads on any picture */
  cairo_set_line_width (cr, width * 2.0);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.5 * a);
  cairo_stroke_preserve (cr);
  cairo_set_line_width (cr, width);
  cairo_set_source_rgba (cr, r, g, b, a);
  cairo_stroke (cr);
}

void
ts_overlay_draw (const TsOverlay *o, cairo_t *cr, const TsOverlayOptions *opts)
{
  const TsGrid *grid = &o->grid;
  double px = opts->pixel > 0 ? opts->pixel : 1.0;
  int P = grid->patch;
  double gw = grid->cols * P, gh = grid->rows * P;

  cairo_save (cr);
  if (opts->fill == TS_GROUP_FILL_MEAN && o->mean)
    {
      cairo_save (cr);
      cairo_rectangle (cr, 0, 0, gw, gh);
      cairo_clip (cr);
      cairo_set_source_surface (cr, o->mean, 0, 0);
      cairo_paint_with_alpha (cr, opts->fill_opacity);
      cairo_restore (cr);
    }
  else if (opts->fill == TS_GROUP_FILL_COLOR && o->colors)
    paint_patch_surface (cr, grid, o->colors, opts->fill_opacity, CAIRO_FILTER_NEAREST);

  if (opts->dim_dropped && o->dropped)
    darken_patches (cr, P, o->dropped, 0.05, 0.05, 0.08, 0.72);

  if (opts->heatmap && o->heat)
    paint_patch_surface (cr, grid, o->heat, opts->heat_opacity, CAIRO_FILTER_NEAREST);

  cairo_set_line_cap (cr, CAIRO_LINE_CAP_SQUARE);

  /* a video frame: static patches dimmed, the changed (re-sent) ones outlined */
  if (opts->changed && o->changed)
    {
      darken_patches (cr, P, o->unchanged, 0.0, 0.0, 0.0, 0.55);
      for (int i = 0; i < grid->tokens; i++)
        if (o->changed[i])
          cairo_rectangle (cr, (i % grid->cols) * P + px, (i / grid->cols) * P + px, P - 2 * px, P - 2 * px);
      stroke_twice (cr, 1.2 * px, 1.0, 0.55, 0.1, 1.0);
    }
  if (opts->grid && P / px >= 3.0)
    {
      /* faint: thinner than the group borders, fades out when patches are tiny */
      double a = CLAMP ((P / px - 3.0) / 6.0, 0.0, 1.0) * 0.22;
      for (int c = 0; c <= grid->cols; c++)
        {
          cairo_move_to (cr, c * P, 0);
          cairo_line_to (cr, c * P, gh);
        }
      for (int r = 0; r <= grid->rows; r++)
        {
          cairo_move_to (cr, 0, r * P);
          cairo_line_to (cr, gw, r * P);
        }
      cairo_set_line_width (cr, px);
      cairo_set_source_rgba (cr, 1, 1, 1, a);
      cairo_stroke (cr);
    }

  if (opts->borders && o->segments)
    {
      for (gsize i = 0; i < o->n_segments; i++)
        {
          const float *s = o->segments + 4 * i;
          cairo_move_to (cr, s[0], s[1]);
          cairo_line_to (cr, s[2], s[3]);
        }
      stroke_twice (cr, 2.0 * px, 1, 1, 1, 0.95);
    }

  if (opts->regions && o->regions)
    {
      for (int i = 0; i < o->n_out; i++)
        cairo_rectangle (cr, o->regions[i].x + px, o->regions[i].y + px, o->regions[i].w - 2 * px,
                         o->regions[i].h - 2 * px);
      stroke_twice (cr, 1.2 * px, 1.0, 0.84, 0.2, 0.95);
    }

  if (opts->highlight >= 0 && opts->highlight < grid->tokens && o->groups)
    {
      int g = o->groups[opts->highlight];
      for (int i = 0; i < grid->tokens; i++)
        {
          int r = i / grid->cols, c = i % grid->cols;
          if ((g >= 0 && o->groups[i] != g) || (g < 0 && i != opts->highlight))
            continue;
          /* outline the outer edges of the group */
          if (r == 0 || (g >= 0 ? o->groups[i - grid->cols] != g : TRUE))
            { cairo_move_to (cr, c * P, r * P); cairo_line_to (cr, (c + 1) * P, r * P); }
          if (r == grid->rows - 1 || (g >= 0 ? o->groups[i + grid->cols] != g : TRUE))
            { cairo_move_to (cr, c * P, (r + 1) * P); cairo_line_to (cr, (c + 1) * P, (r + 1) * P); }
          if (c == 0 || (g >= 0 ? o->groups[i - 1] != g : TRUE))
            { cairo_move_to (cr, c * P, r * P); cairo_line_to (cr, c * P, (r + 1) * P); }
          if (c == grid->cols - 1 || (g >= 0 ? o->groups[i + 1] != g : TRUE))
            { cairo_move_to (cr, (c + 1) * P, r * P); cairo_line_to (cr, (c + 1) * P, (r + 1) * P); }
        }
      stroke_twice (cr, 2.5 * px, 0.25, 0.75, 1.0, 1.0);
    }

  if (opts->query >= 0 && opts->query < grid->tokens)
    {
      TsRect r = ts_grid_patch_rect (grid, opts->query);
      double radius = MAX (r.w * 0.5, 6 * px);
      cairo_new_sub_path (cr);
      cairo_arc (cr, r.x + r.w / 2.0, r.y + r.h / 2.0, radius, 0, 2 * G_PI);
      stroke_twice (cr, 2 * px, 0.3, 1.0, 0.6, 1.0);
    }
  cairo_restore (cr);
}

void
ts_overlay_draw_colorbar (cairo_t *cr, double x, double y, double w, double h, const char *label)
{
  cairo_pattern_t *p = cairo_pattern_create_linear (0, y + h, 0, y);
  cairo_text_extents_t ext;

  for (int i = 0; i <= 8; i++)
    {
      double rgb[3];
      ts_heat_color (i / 8.0, rgb);
      cairo_pattern_add_color_stop_rgb (p, i / 8.0, rgb[0], rgb[1], rgb[2]);
    }
  cairo_save (cr);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.55);
  cairo_rectangle (cr, x - 4, y - 18, w + 34, h + 26);
  cairo_fill (cr);
  cairo_rectangle (cr, x, y, w, h);
  cairo_set_source (cr, p);
  cairo_fill_preserve (cr);
  cairo_set_source_rgba (cr, 1, 1, 1, 0.8);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 10);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_move_to (cr, x + w + 4, y + 8);
  cairo_show_text (cr, "1");
  cairo_move_to (cr, x + w + 4, y + h);
  cairo_show_text (cr, "0");
  if (label)
    {
      cairo_text_extents (cr, label, &ext);
      cairo_move_to (cr, x, y - 6);
      cairo_show_text (cr, label);
    }
  cairo_restore (cr);
  cairo_pattern_destroy (p);
}

static cairo_status_t
append_cb (void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

static void
draw_all (cairo_t *cr, const TsImage *base, const TsOverlay *o, const TsOverlayOptions *opts)
{
  cairo_surface_t *img = ts_image_to_surface (base);

  cairo_set_source_surface (cr, img, 0, 0);
  cairo_paint (cr);
  cairo_surface_destroy (img);
  ts_overlay_draw (o, cr, opts);
  if (opts->heatmap && o->heat && base->width >= 80 && base->height >= 120)
    ts_overlay_draw_colorbar (cr, base->width - 44, 28, 12, MIN (160, base->height - 48), "attention");
}

gboolean
ts_overlay_render_file (const TsImage *base, const TsOverlay *o, const TsOverlayOptions *opts, const char *path,
                        GError **error)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autofree char *lower = g_ascii_strdown (path, -1);
  cairo_surface_t *surface;
  cairo_status_t status;
  cairo_t *cr;

  if (base == NULL || o == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "nothing to draw into %s", path);
      return FALSE;
    }
  if (g_str_has_suffix (lower, ".png"))
    surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, base->width, base->height);
  else if (g_str_has_suffix (lower, ".svg"))
    surface = cairo_svg_surface_create_for_stream (append_cb, bytes, base->width, base->height);
  else if (g_str_has_suffix (lower, ".pdf"))
    surface = cairo_pdf_surface_create_for_stream (append_cb, bytes, base->width, base->height);
  else
    {
      g_autofree char *name = ts_display_name (path);
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "%s: choose a .png, .svg or .pdf name for the overlay", name);
      return FALSE;
    }
  cr = cairo_create (surface);
  draw_all (cr, base, o, opts);
  cairo_destroy (cr);
  if (g_str_has_suffix (lower, ".png"))
    cairo_surface_write_to_png_stream (surface, append_cb, bytes);
  cairo_surface_finish (surface);
  status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_IO, "cannot draw %s: %s", path, cairo_status_to_string (status));
      return FALSE;
    }
  return ts_file_write (path, bytes->data, bytes->len, error);
}

/* ---- VLM resize and tiling ------------------------------------------------ */

gboolean
ts_vlm_layout_init (TsVlmLayout *l, const TsVlmCount *count, int width, int height)
{
  memset (l, 0, sizeof *l);
  if (count == NULL || width < 1 || height < 1 || count->content_width < 1 || count->content_height < 1
      || count->resized_width < 1 || count->resized_height < 1)
    return FALSE;
  l->scale_x = (double) width / count->content_width;
  l->scale_y = (double) height / count->content_height;
  l->width = count->resized_width * l->scale_x;
  l->height = count->resized_height * l->scale_y;
  l->x = -(count->resized_width - count->content_width) / 2.0 * l->scale_x;
  l->y = -(count->resized_height - count->content_height) / 2.0 * l->scale_y;
  if (count->tile_cols > 0 && count->tile_rows > 0 && count->tile_width > 0 && count->tile_height > 0)
    {
      l->cols = count->tile_cols;
      l->rows = count->tile_rows;
      l->tile_width = count->tile_width * l->scale_x;
      l->tile_height = count->tile_height * l->scale_y;
    }
  else
    {
      l->cols = l->rows = 1;
      l->tile_width = l->width;
      l->tile_height = l->height;
    }
  l->unit_x = count->unit * l->scale_x;
  l->unit_y = count->unit * l->scale_y;
  return TRUE;
}

void
ts_vlm_layout_tile (const TsVlmLayout *l, int i, cairo_rectangle_t *rect)
{
  int c = l->cols > 0 ? i % l->cols : 0, r = l->cols > 0 ? i / l->cols : 0;

  rect->x = l->x + c * l->tile_width;
  rect->y = l->y + r * l->tile_height;
  rect->width = l->tile_width;
  rect->height = l->tile_height;
}

void
ts_overlay_draw_vlm (cairo_t *cr, const TsVlmLayout *l, const char *label, double pixel)
{
  double px = pixel > 0 ? pixel : 1.0;
  cairo_rectangle_t tile;

  if (l == NULL || l->width <= 0 || l->height <= 0)
    return;
  cairo_save (cr);
  /* padding the model adds around the image (the image spans the canvas minus 2 x its offset) */
  if (l->x < 0 || l->y < 0)
    {
      cairo_set_fill_rule (cr, CAIRO_FILL_RULE_EVEN_ODD);
      cairo_rectangle (cr, l->x, l->y, l->width, l->height);
      cairo_rectangle (cr, 0, 0, l->width + 2 * l->x, l->height + 2 * l->y);
      cairo_set_source_rgba (cr, 0.25, 0.95, 1.0, 0.18);
      cairo_fill (cr);
    }
  cairo_restore (cr);
  cairo_save (cr);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_SQUARE);
  /* token cells, faint, only when they are at least 4 device pixels */
  if (l->unit_x / px >= 4.0 && l->unit_y / px >= 4.0)
    {
      cairo_set_source_rgba (cr, 0.3, 0.9, 1.0, 0.28);
      cairo_set_line_width (cr, px);
      for (double x = l->x + l->unit_x; x < l->x + l->width - 0.5 * l->unit_x; x += l->unit_x)
        {
          cairo_move_to (cr, x, l->y);
          cairo_line_to (cr, x, l->y + l->height);
        }
      for (double y = l->y + l->unit_y; y < l->y + l->height - 0.5 * l->unit_y; y += l->unit_y)
        {
          cairo_move_to (cr, l->x, y);
          cairo_line_to (cr, l->x + l->width, y);
        }
      cairo_stroke (cr);
    }
  /* tiles: a dark line under a bright one so they show on any picture */
  for (int pass = 0; pass < 2; pass++)
    {
      if (pass == 0)
        cairo_set_source_rgba (cr, 0, 0, 0, 0.6);
      else
        cairo_set_source_rgba (cr, 0.25, 0.95, 1.0, 1.0);
      cairo_set_line_width (cr, (pass == 0 ? 5.0 : 2.5) * px);
      for (int i = 0; i < l->cols * l->rows; i++)
        {
          ts_vlm_layout_tile (l, i, &tile);
          cairo_rectangle (cr, tile.x, tile.y, tile.width, tile.height);
        }
      cairo_stroke (cr);
    }
  if (label && *label)
    {
      cairo_text_extents_t ext;
      double fs = 13 * px;

      cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
      cairo_set_font_size (cr, fs);
      cairo_text_extents (cr, label, &ext);
      cairo_set_source_rgba (cr, 0, 0, 0, 0.65);
      cairo_rectangle (cr, l->x + 4 * px, l->y + 4 * px, ext.x_advance + 10 * px, fs * 1.5);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.25, 0.95, 1.0);
      cairo_move_to (cr, l->x + 9 * px, l->y + 4 * px + fs * 1.1);
      cairo_show_text (cr, label);
    }
  cairo_restore (cr);
}
