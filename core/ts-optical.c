#include "ts-optical.h"
#include "ts-downsample.h"
#include "ts-error.h"

#include <math.h>

static const TsOpticalMode modes[] = {
  { "tiny", "Tiny (512 x 512, 64 tokens)", 512, 64, FALSE, FALSE },
  { "small", "Small (640 x 640, 100 tokens)", 640, 100, FALSE, FALSE },
  { "base", "Base (1024 x 1024, 256 tokens)", 1024, 256, TRUE, FALSE },
  { "large", "Large (1280 x 1280, 400 tokens)", 1280, 400, TRUE, FALSE },
  { "gundam", "Gundam (n 640 x 640 crops + 1024 global)", 1024, 256, TRUE, TRUE },
};

const TsOpticalMode *
ts_optical_modes (guint *n)
{
  if (n)
    *n = G_N_ELEMENTS (modes);
  return modes;
}

const TsOpticalMode *
ts_optical_mode_find (const char *name, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    if (name != NULL && g_ascii_strcasecmp (name, modes[i].name) == 0)
      return &modes[i];
  g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
               "unknown DeepSeek-OCR mode '%s' (choose from tiny, small, base, large, gundam)", name ? name : "");
  return NULL;
}

int
ts_optical_gundam (int width, int height, int max_crops, int *crop_cols, int *crop_rows)
{
  double aspect, best_diff = G_MAXDOUBLE;
  int bi = 1, bj = 1;

  if (width < 1 || height < 1 || max_crops < 2 || max_crops > 9)
    return -1;
  *crop_cols = *crop_rows = 0;
  if (width <= TS_OPTICAL_TILE && height <= TS_OPTICAL_TILE)
    return 256;
  /* InternVL's find_closest_aspect_ratio over grids with 2..max crops, in
   * order of increasing crop count; a tie goes to the larger grid when the
   * image area exceeds half of that grid's area. */
  aspect = (double) width / height;
  for (int n = 2; n <= max_crops; n++)
    for (int i = 1; i <= n; i++)
      for (int j = 1; j <= n; j++)
        {
          double diff;
          if (i * j != n)
            continue;
          diff = fabs (aspect - (double) i / j);
          if (diff < best_diff)
            best_diff = diff, bi = i, bj = j;
          else if (diff == best_diff &&
                   (double) width * height > 0.5 * TS_OPTICAL_TILE * TS_OPTICAL_TILE * i * j)
            bi = i, bj = j;
        }
  *crop_cols = bi;
  *crop_rows = bj;
  return bi * bj * 100 + 256;
}

int
ts_optical_tokens (const TsOpticalMode *mode, int width, int height)
{
  int c, r;

  if (mode->tiled)
    return ts_optical_gundam (width, height, TS_OPTICAL_MAX_CROPS, &c, &r);
  return mode->tokens;
}

TsAssignment *
ts_optical_run (const TsScene *scene, const TsMethodParams *params, GCancellable *cancellable, GError **error)
{
  const TsGrid *g = &scene->grid;
  int target = ts_method_target (params, g->tokens);
  const TsOpticalMode *pick = NULL;

  if (ts_check_cancelled (cancellable, error))
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      int side = modes[i].resolution / (TS_OPTICAL_PATCH * TS_OPTICAL_POOL);
      if (!modes[i].tiled && modes[i].tokens <= target && side <= g->rows && side <= g->cols)
        pick = &modes[i];
    }
  if (pick == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "no DeepSeek-OCR mode fits %d tokens on a %d x %d patch grid (Tiny needs 64 tokens and "
                   "an 8 x 8 grid)", target, g->rows, g->cols);
      return NULL;
    }
  {
    int side = pick->resolution / (TS_OPTICAL_PATCH * TS_OPTICAL_POOL);
    return ts_downsample_tiling (scene, side, side, error);
  }
}
