/* ts-overlay-render.h: drawing token overlays with Cairo only (no GTK).
 *
 * The GUI canvas and the CLI's --overlay export share this code. A TsOverlay
 * is prepared once per result (group colour and heat-map surfaces, group
 * border segments) by ts_overlay_new; ts_overlay_draw then only paints, in
 * working-image pixel coordinates, onto any cairo_t (screen, PNG, SVG, PDF).
 * A TsOverlay is immutable after creation and may be drawn from any thread,
 * but one cairo_t must not be shared between threads. */
#pragma once

#include <cairo.h>

#include "core.h"

G_BEGIN_DECLS

typedef enum {
  TS_GROUP_FILL_NONE,
  TS_GROUP_FILL_MEAN,  /* each patch painted with its token's reconstruction (ToMe-vis style) */
  TS_GROUP_FILL_COLOR, /* a distinct colour per output token */
} TsGroupFill;

typedef struct {
  gboolean grid;          /* the patch grid */
  gboolean borders;       /* outlines between different output tokens */
  TsGroupFill fill;
  double fill_opacity;    /* 0..1 */
  gboolean regions;       /* variable-size regions (pooling, adaptive) */
  gboolean heatmap;       /* the importance / attention map */
  double heat_opacity;    /* 0..1 */
  gboolean dim_dropped;   /* darken patches that lost their token */
  int highlight;          /* a patch whose whole group is outlined; -1 none */
  int query;              /* the attention query patch, marked with a ring; -1 none */
  double pixel;           /* working-image pixels per device pixel (line widths); 1 for files */
  gboolean changed;       /* video: dim static patches, outline the changed tokens (ts_overlay_set_changed) */
} TsOverlayOptions;

typedef struct _TsOverlay TsOverlay;

void ts_overlay_options_init (TsOverlayOptions *opts);

/* Prepares the drawing data. @a, @recon and @heat (grid->tokens values in
 * [0,1]) may each be NULL; what they feed is then not drawn. */
TsOverlay *ts_overlay_new (const TsGrid *grid, const TsAssignment *a, const TsImage *recon,
                           const float *heat);
void ts_overlay_free (TsOverlay *overlay);
/* The changed-token mask of a video frame (grid->tokens bytes, 1 = changed;
 * copied), drawn when the options ask for it; NULL removes it. Call before
 * the overlay is shared with another thread. */
void ts_overlay_set_changed (TsOverlay *overlay, const guint8 *mask);
const TsGrid *ts_overlay_get_grid (const TsOverlay *overlay);

/* Paints the overlays enabled in @opts; @cr's user space is working-image pixels. */
void ts_overlay_draw (const TsOverlay *overlay, cairo_t *cr, const TsOverlayOptions *opts);

/* A vertical colour bar of the heat colormap (0 bottom, 1 top) with a label. */
void ts_overlay_draw_colorbar (cairo_t *cr, double x, double y, double w, double h, const char *label);

/* The heat colormap (magma, core/ts-colormap.h), @t in [0,1] (NaN: 0), components in [0,1]. */
void ts_heat_color (double t, double rgb[3]);
/* A distinct colour for output token @id. */
void ts_group_color (int id, double rgb[3]);

/* An RGB24 surface with @image's pixels (caller destroys it). */
cairo_surface_t *ts_image_to_surface (const TsImage *image);

/* Draws @base, the overlays and (with a heat map) a colour bar into @path;
 * the format follows the extension: .png, .svg or .pdf. Written atomically.
 * TS_ERROR_INVALID_ARGUMENT for another extension, TS_ERROR_IO on failure. */
gboolean ts_overlay_render_file (const TsImage *base, const TsOverlay *overlay, const TsOverlayOptions *opts,
                                 const char *path, GError **error);

/* ---- A VLM's resize and tiling (core/ts-vlm.h) over the working image ---- */

/* Where a model's input lands on a @width x @height working image. The image
 * is the content the model resizes (aspect kept or stretched, as @count says)
 * and the padding is split evenly around it, so the encoder canvas may reach
 * outside the image. All values are working-image pixels. */
typedef struct {
  double x, y, width, height;     /* the encoder canvas (tile grid or resized image) */
  double scale_x, scale_y;        /* working-image pixels per encoder pixel */
  int cols, rows;                 /* tile grid; 1 x 1 when the model does not tile */
  double tile_width, tile_height;
  double unit_x, unit_y;          /* one visual token's cell (0 when unknown) */
} TsVlmLayout;

/* FALSE (nothing to draw) for an empty count or size. */
gboolean ts_vlm_layout_init (TsVlmLayout *layout, const TsVlmCount *count, int width, int height);
/* Tile @i (raster order, 0 <= i < cols * rows) in working-image pixels. */
void ts_vlm_layout_tile (const TsVlmLayout *layout, int i, cairo_rectangle_t *rect);

/* Paints the layout: a faint token-cell grid, the tile borders, the canvas
 * outline (padding shaded) and @label at the top left. @pixel is working-image
 * pixels per device pixel, as in TsOverlayOptions. */
void ts_overlay_draw_vlm (cairo_t *cr, const TsVlmLayout *layout, const char *label, double pixel);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsOverlay, ts_overlay_free)

G_END_DECLS
