#include "ts-grid.h"
#include "ts-error.h"

gboolean
ts_grid_init (TsGrid *grid, int width, int height, int patch, GError **error)
{
  if (patch < TS_PATCH_MIN || patch > TS_PATCH_MAX)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "patch size %d is outside %d..%d", patch, TS_PATCH_MIN, TS_PATCH_MAX);
      return FALSE;
    }
  if (width < patch || height < patch)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "a %d x %d image is smaller than one %d x %d patch", width, height, patch, patch);
      return FALSE;
    }
  grid->width = width;
  grid->height = height;
  grid->patch = patch;
  grid->rows = height / patch;
  grid->cols = width / patch;
  if ((gint64) grid->rows * grid->cols > G_MAXINT / 4)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "%d x %d patches is too many tokens",
                   grid->rows, grid->cols);
      return FALSE;
    }
  grid->tokens = grid->rows * grid->cols;
  return TRUE;
}

double
ts_grid_tpm (const TsGrid *grid)
{
  return grid->tokens * 1e6 / ((double) grid->width * grid->height);
}

TsRect
ts_grid_patch_rect (const TsGrid *grid, int index)
{
  TsRect r = { (index % grid->cols) * grid->patch, (index / grid->cols) * grid->patch, grid->patch,
               grid->patch };
  return r;
}

int
ts_grid_token_at (const TsGrid *grid, double x, double y)
{
  int c, r;

  if (x < 0 || y < 0)
    return -1;
  c = (int) (x / grid->patch);
  r = (int) (y / grid->patch);
  if (c >= grid->cols || r >= grid->rows)
    return -1;
  return r * grid->cols + c;
}
