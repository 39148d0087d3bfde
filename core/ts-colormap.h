/* ts-colormap.h: perceptual colormaps and heatmaps over the patch grid.
 *
 * Viridis and magma are matplotlib's perceptually uniform maps (256-entry
 * tables copied from matplotlib 3.6, interpolated linearly between entries):
 * equal steps in value look like equal steps in lightness, they stay readable
 * in greyscale and for the common colour-vision deficiencies. Used by the CLI
 * (attention --png), the GUI overlays and figures. Reentrant; no state. */
#pragma once

#include "ts-grid.h"
#include "ts-image.h"

G_BEGIN_DECLS

typedef enum {
  TS_COLORMAP_VIRIDIS,
  TS_COLORMAP_MAGMA,
} TsColormap;

/* "viridis", "magma". */
gboolean ts_colormap_parse (const char *text, TsColormap *map, GError **error);

/* The colour of @t in [0, 1] (clamped; NaN gives the lowest colour). */
void ts_colormap_lookup (TsColormap map, double t, guint8 rgb[3]);

/* A copy of @image with every grid patch blended with the colour of its value
 * over the image's luma (grey, so the image's own colours do not mix with the
 * map's): out = (1 - alpha) Y + alpha colour((v - lo) / (hi - lo)). @values has
 * grid->tokens floats (raster order); lo and hi are their min and max
 * (a constant map paints the middle colour). Pixels outside the grid are
 * copied. TS_ERROR_INVALID_ARGUMENT when the grid does not fit the image or
 * alpha is outside [0, 1]. */
TsImage *ts_colormap_overlay (const TsImage *image, const TsGrid *grid, const float *values, TsColormap map,
                              double alpha, GError **error);

G_END_DECLS
