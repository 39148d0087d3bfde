/* ts-grid.h: the ViT patch grid over a (resized) image.
 *
 * Tokens are numbered in raster order: index = row * cols + col. A grid
 * covers the top-left rows*patch x cols*patch pixels; after ts_resize_apply
 * that is the whole image. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TS_PATCH_MIN 2
#define TS_PATCH_MAX 64

typedef struct {
  int x, y, w, h;
} TsRect;

typedef struct {
  int width, height; /* the image the grid lies on */
  int patch;
  int rows, cols;
  int tokens;        /* rows * cols */
} TsGrid;

/* Fills @grid for a @width x @height image; TS_ERROR_INVALID_ARGUMENT when the
 * patch is outside 2..64 or the image is smaller than one patch. */
gboolean ts_grid_init (TsGrid *grid, int width, int height, int patch, GError **error);

/* Tokens per megapixel of the image: tokens * 1e6 / (width * height). */
double ts_grid_tpm (const TsGrid *grid);

/* Pixel rectangle of token @index. */
TsRect ts_grid_patch_rect (const TsGrid *grid, int index);

/* Token under pixel (x, y), or -1 outside the grid. */
int ts_grid_token_at (const TsGrid *grid, double x, double y);

G_END_DECLS
