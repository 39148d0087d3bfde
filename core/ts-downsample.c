#include "ts-downsample.h"
#include "ts-error.h"
#include "ts-resize.h"

#include <math.h>
#include <string.h>

static void
consider (const TsGrid *grid, int target, int r, int c, int *best_r, int *best_c, double *best_err)
{
  gint64 prod = (gint64) r * c, best = (gint64) *best_r * *best_c;
  double err = fabs (log (((double) c / r) / ((double) grid->cols / grid->rows)));

  if (r < 1 || c < 1 || r > grid->rows || c > grid->cols || prod > target)
    return;
  if (prod > best || (prod == best && err < *best_err))
    *best_r = r, *best_c = c, *best_err = err;
}

void
ts_downsample_shape (const TsGrid *grid, int target, int *rows, int *cols)
{
  int br = 1, bc = 1;
  double berr = fabs (log ((double) grid->rows / grid->cols));

  for (int r = 1; r <= grid->rows; r++)
    {
      double c = (double) r * grid->cols / grid->rows;
      consider (grid, target, r, MAX (1, (int) floor (c)), &br, &bc, &berr);
      consider (grid, target, r, (int) ceil (c), &br, &bc, &berr);
    }
  for (int c = 1; c <= grid->cols; c++)
    {
      double r = (double) c * grid->rows / grid->cols;
      consider (grid, target, MAX (1, (int) floor (r)), c, &br, &bc, &berr);
      consider (grid, target, (int) ceil (r), c, &br, &bc, &berr);
    }
  *rows = br;
  *cols = bc;
}

/* The tiling's regions and groups; its features the group means when @means. */
static TsAssignment *
tiling (const TsScene *scene, int rows, int cols, gboolean means, GError **error)
{
  const TsGrid *g = &scene->grid;
  int W = g->cols * g->patch, H = g->rows * g->patch;
  TsAssignment *a;

  if (rows < 1 || cols < 1 || rows > g->rows || cols > g->cols)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "a %d x %d token grid does not fit the %d x %d patch grid", rows, cols, g->rows, g->cols);
      return NULL;
    }
  a = ts_assignment_new (g->tokens, rows * cols, scene->features->d, error);
  if (a == NULL)
    return NULL;
  a->regions = g_new (TsRect, a->n_out);
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++)
      {
        int x0 = (int) ((gint64) c * W / cols), x1 = (int) ((gint64) (c + 1) * W / cols);
        int y0 = (int) ((gint64) r * H / rows), y1 = (int) ((gint64) (r + 1) * H / rows);
        a->regions[r * cols + c] = (TsRect){ x0, y0, x1 - x0, y1 - y0 };
      }
  /* the token containing each patch centre: floor((col + 1/2) P cols' / W) */
  for (int t = 0; t < g->tokens; t++)
    {
      int pr = t / g->cols, pc = t % g->cols;
      int r = (int) ((gint64) (2 * pr + 1) * rows / (2 * g->rows));
      int c = (int) ((gint64) (2 * pc + 1) * cols / (2 * g->cols));
      a->groups[t] = r * cols + c;
    }
  if (means)
    ts_assignment_fill_group_means (a, scene->features); /* and the sizes */
  else
    for (int t = 0; t < g->tokens; t++)
      a->sizes[a->groups[t]]++;
  a->recon = TS_RECON_REGION;
  return a;
}

TsAssignment *
ts_downsample_tiling (const TsScene *scene, int rows, int cols, GError **error)
{
  return tiling (scene, rows, cols, TRUE, error);
}

TsAssignment *
ts_downsample (const TsScene *scene, int rows, int cols, GError **error)
{
  const TsGrid *g = &scene->grid;
  /* pixel features of a smaller grid come from the smaller image, not the means */
  gboolean resampled = scene->kind == TS_FEATURES_PIXEL && (rows != g->rows || cols != g->cols);
  g_autoptr (TsAssignment) a = tiling (scene, rows, cols, !resampled, error);

  if (a == NULL)
    return NULL;
  a->recon = TS_RECON_DOWNSAMPLE;
  a->down_width = cols * g->patch;
  a->down_height = rows * g->patch;
  if (resampled)
    {
      int W = g->cols * g->patch, H = g->rows * g->patch;
      gboolean whole = scene->image->width == W && scene->image->height == H;
      g_autoptr (TsImage) area = whole ? NULL : ts_image_crop (scene->image, 0, 0, W, H, (const guint8[3]){ 0, 0, 0 });
      g_autoptr (TsImage) small = ts_image_resample (whole ? scene->image : area, a->down_width, a->down_height);
      g_autoptr (TsFeatures) f = NULL;
      TsGrid sg;
      if (small == NULL || !ts_grid_init (&sg, small->width, small->height, g->patch, error) ||
          (f = ts_features_pixel (small, &sg, error)) == NULL)
        {
          if (error != NULL && *error == NULL)
            g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "could not downsample the image to %d x %d",
                         a->down_width, a->down_height);
          return NULL;
        }
      g_assert (f->n == a->n_out && f->d == a->d);
      memcpy (a->features, f->data, sizeof (float) * (gsize) f->n * f->d);
    }
  return g_steal_pointer (&a);
}

TsAssignment *
ts_downsample_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable, GError **error)
{
  int rows, cols;

  if (ts_check_cancelled (cancellable, error))
    return NULL;
  ts_downsample_shape (&scene->grid, ts_method_target (params, scene->grid.tokens), &rows, &cols);
  return ts_downsample (scene, rows, cols, error);
}
