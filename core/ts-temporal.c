#include "ts-temporal.h"
#include "ts-error.h"
#include "ts-quality.h"

#include <math.h>
#include <string.h>

void
ts_temporal_options_init (TsTemporalOptions *options)
{
  memset (options, 0, sizeof *options);
  options->mode = TS_TEMPORAL_THRESHOLD;
  options->threshold = 0.02;
  options->topk = 0;
  options->keyframe = 0;
  options->features = TS_FEATURES_PIXEL;
}

GPtrArray *
ts_temporal_prepare (const TsMedia *media, const TsResize *resize, int patch, GCancellable *cancellable,
                     GError **error)
{
  g_autoptr (GPtrArray) frames = NULL;

  if (media == NULL || media->n_frames == 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "the clip has no frames");
      return NULL;
    }
  frames = g_ptr_array_new_full (media->n_frames, (GDestroyNotify) ts_image_free);
  for (guint i = 0; i < media->n_frames; i++)
    {
      TsImage *f;
      if (ts_check_cancelled (cancellable, error))
        return NULL;
      f = ts_resize_apply (media->frames[i], resize, patch, error);
      if (f == NULL)
        {
          g_prefix_error (error, "%s, frame %u: ", media->name ? media->name : "clip", i);
          return NULL;
        }
      g_ptr_array_add (frames, f);
    }
  return g_steal_pointer (&frames);
}

static gboolean
check_options (const TsTemporalOptions *o, GError **error)
{
  if (o->mode == TS_TEMPORAL_THRESHOLD && !(o->threshold >= 0 && o->threshold <= 2))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "the change threshold is a cosine distance in 0..2, not %g", o->threshold);
      return FALSE;
    }
  if (o->mode == TS_TEMPORAL_TOPK && o->topk < 1)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "top-k needs k >= 1 tokens per frame, not %d", o->topk);
      return FALSE;
    }
  if (o->mode != TS_TEMPORAL_THRESHOLD && o->mode != TS_TEMPORAL_TOPK)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "unknown temporal mode %d", (int) o->mode);
      return FALSE;
    }
  if (o->keyframe < 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "the keyframe interval must be >= 0, not %d",
                   o->keyframe);
      return FALSE;
    }
  if (o->features != TS_FEATURES_PIXEL && o->features != TS_FEATURES_DESCRIPTOR)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "temporal redundancy computes its own features per frame: choose pixel or descriptor, not %s",
                   ts_feature_kind_name (o->features));
      return FALSE;
    }
  return TRUE;
}

/* 1 - cos(a, b); exactly 0 for bitwise-equal vectors. */
static float
cosine_distance (const float *a, const float *b, int d)
{
  double ab = 0, aa = 0, bb = 0;

  if (memcmp (a, b, sizeof (float) * d) == 0)
    return 0.0f;
  for (int j = 0; j < d; j++)
    {
      ab += (double) a[j] * b[j];
      aa += (double) a[j] * a[j];
      bb += (double) b[j] * b[j];
    }
  if (aa == 0 || bb == 0)
    return 1.0f;
  return (float) MAX (0.0, 1.0 - ab / sqrt (aa * bb));
}

typedef struct {
  float distance;
  int index;
} Ranked;

static int
compare_ranked (gconstpointer pa, gconstpointer pb)
{
  const Ranked *a = pa, *b = pb;

  if (a->distance != b->distance)
    return a->distance > b->distance ? -1 : 1;
  return (a->index > b->index) - (a->index < b->index);
}

static void
copy_patch (TsImage *dst, const TsImage *src, TsRect r)
{
  for (int y = r.y; y < r.y + r.h; y++)
    memcpy (dst->data + ((gsize) y * dst->width + r.x) * 3, src->data + ((gsize) y * src->width + r.x) * 3,
            (gsize) r.w * 3);
}

static gboolean
patch_equal (const TsImage *a, const TsImage *b, TsRect r)
{
  for (int y = r.y; y < r.y + r.h; y++)
    if (memcmp (a->data + ((gsize) y * a->width + r.x) * 3, b->data + ((gsize) y * b->width + r.x) * 3,
                (gsize) r.w * 3) != 0)
      return FALSE;
  return TRUE;
}

/* Luma of the w x h rectangle at (x, y) of @image. */
static double *
luma_crop (const TsImage *image, int x, int y, int w, int h)
{
  double *l = g_new (double, (gsize) w * h);

  for (int j = 0; j < h; j++)
    {
      const guint8 *p = image->data + ((gsize) (y + j) * image->width + x) * 3;
      for (int i = 0; i < w; i++, p += 3)
        l[(gsize) j * w + i] = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
    }
  return l;
}

/* ts_ssim (view, truth) when they differ only inside the patches marked
 * @stale (patches whose pixels differ): the local SSIM of a pixel whose 11 x 11 window sees identical
 * pixels is exactly 1, so only the stale patches' bounding box, grown by
 * the window radius, is computed (on a crop grown by twice the radius, so
 * the values there equal the whole image's). */
static double
frame_ssim (const TsImage *view, const TsImage *truth, const TsGrid *g, const guint8 *stale)
{
  const int R = 5; /* ts_ssim's window radius */
  int W = view->width, H = view->height;
  int bx0 = W, by0 = H, bx1 = 0, by1 = 0;
  int ix0, iy0, ix1, iy1, cx0, cy0, cx1, cy1, vx0, vy0, vx1, vy1;
  double sum = 0;
  gint64 inside = 0, valid;

  for (int i = 0; i < g->tokens; i++)
    if (stale[i])
      {
        TsRect r = ts_grid_patch_rect (g, i);
        bx0 = MIN (bx0, r.x), by0 = MIN (by0, r.y);
        bx1 = MAX (bx1, r.x + r.w), by1 = MAX (by1, r.y + r.h);
      }
  if (bx1 <= bx0)
    return 1.0;
  ix0 = MAX (0, bx0 - R), iy0 = MAX (0, by0 - R), ix1 = MIN (W, bx1 + R), iy1 = MIN (H, by1 + R);
  cx0 = MAX (0, bx0 - 2 * R), cy0 = MAX (0, by0 - 2 * R), cx1 = MIN (W, bx1 + 2 * R), cy1 = MIN (H, by1 + 2 * R);
  if (W <= 2 * R || H <= 2 * R || (cx0 == 0 && cy0 == 0 && cx1 == W && cy1 == H))
    return ts_ssim (view, truth);
  {
    int cw = cx1 - cx0, ch = cy1 - cy0;
    g_autofree double *a = luma_crop (view, cx0, cy0, cw, ch);
    g_autofree double *b = luma_crop (truth, cx0, cy0, cw, ch);
    g_autofree double *map = g_new (double, (gsize) cw * ch);
    ts_ssim_luma (a, b, cw, ch, map);
    /* the mean runs over the image without its R-pixel border */
    vx0 = MAX (ix0, R), vy0 = MAX (iy0, R), vx1 = MIN (ix1, W - R), vy1 = MIN (iy1, H - R);
    for (int y = vy0; y < vy1; y++)
      for (int x = vx0; x < vx1; x++)
        sum += map[(gsize) (y - cy0) * cw + (x - cx0)], inside++;
  }
  valid = (gint64) (W - 2 * R) * (H - 2 * R);
  return (sum + (double) (valid - inside)) / valid;
}

void
ts_temporal_result_free (TsTemporalResult *result)
{
  if (result == NULL)
    return;
  for (guint i = 0; i < result->n_frames; i++)
    {
      g_free (result->frames[i].sent_mask);
      g_free (result->frames[i].distance);
      g_free (result->frames[i].source);
    }
  g_free (result->frames);
  g_free (result);
}

TsTemporalResult *
ts_temporal_run (TsImage *const *frames, guint n_frames, int patch, const TsTemporalOptions *options,
                 TsTemporalProgress progress, gpointer user_data, GCancellable *cancellable, GError **error)
{
  g_autoptr (TsTemporalResult) res = NULL;
  g_autoptr (TsFeatures) ref = NULL;
  g_autoptr (TsImage) view = NULL;
  g_autoptr (GArray) ranked = NULL;
  g_autofree guint8 *stale = NULL;
  TsGrid grid;
  int n, d;

  if (!check_options (options, error))
    return NULL;
  if (frames == NULL || n_frames == 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "the clip has no frames");
      return NULL;
    }
  for (guint t = 1; t < n_frames; t++)
    if (frames[t]->width != frames[0]->width || frames[t]->height != frames[0]->height)
      {
        g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "frame %u is %d x %d but frame 0 is %d x %d", t,
                     frames[t]->width, frames[t]->height, frames[0]->width, frames[0]->height);
        return NULL;
      }
  if (!ts_grid_init (&grid, frames[0]->width, frames[0]->height, patch, error))
    return NULL;

  n = grid.tokens;
  res = g_new0 (TsTemporalResult, 1);
  res->grid = grid;
  res->options = *options;
  res->frames = g_new0 (TsTemporalFrame, n_frames);
  ranked = g_array_sized_new (FALSE, FALSE, sizeof (Ranked), n);
  stale = g_new (guint8, n);

  for (guint t = 0; t < n_frames; t++)
    {
      TsTemporalFrame *fr = &res->frames[t];
      g_autoptr (TsFeatures) cur = NULL;
      gboolean key = t == 0 || (options->keyframe > 0 && t % (guint) options->keyframe == 0);

      if (ts_check_cancelled (cancellable, error))
        return NULL;
      cur = options->features == TS_FEATURES_DESCRIPTOR ? ts_features_descriptor (frames[t], &grid, error)
                                                        : ts_features_pixel (frames[t], &grid, error);
      if (cur == NULL)
        return NULL;
      d = cur->d;
      res->n_frames = t + 1;
      fr->keyframe = key;
      fr->sent_mask = g_new0 (guint8, n);
      fr->distance = g_new0 (float, n);
      fr->source = g_new (int, n);

      if (t == 0)
        {
          ref = ts_features_copy (cur);
          view = ts_image_copy (frames[0]);
          memset (fr->sent_mask, 1, n);
          for (int i = 0; i < n; i++)
            fr->source[i] = 0;
          fr->sent = fr->changed = n;
        }
      else
        {
          float min_dist = options->mode == TS_TEMPORAL_TOPK ? 0.0f : (float) options->threshold;
          memcpy (fr->source, res->frames[t - 1].source, sizeof (int) * n);
          g_array_set_size (ranked, 0);
          for (int i = 0; i < n; i++)
            {
              float dist = cosine_distance (cur->data + (gsize) i * d, ref->data + (gsize) i * d, d);
              fr->distance[i] = dist;
              if (dist > min_dist)
                {
                  Ranked r = { dist, i };
                  g_array_append_val (ranked, r);
                }
            }
          fr->changed = (int) ranked->len;
          if (key)
            memset (fr->sent_mask, 1, n);
          else if (options->mode == TS_TEMPORAL_TOPK)
            {
              g_array_sort (ranked, compare_ranked);
              for (guint k = 0; k < MIN (ranked->len, (guint) options->topk); k++)
                fr->sent_mask[g_array_index (ranked, Ranked, k).index] = 1;
            }
          else
            for (guint k = 0; k < ranked->len; k++)
              fr->sent_mask[g_array_index (ranked, Ranked, k).index] = 1;
          for (int i = 0; i < n; i++)
            if (fr->sent_mask[i])
              {
                fr->sent++;
                fr->source[i] = (int) t;
                memcpy (ref->data + (gsize) i * d, cur->data + (gsize) i * d, sizeof (float) * d);
                copy_patch (view, frames[t], ts_grid_patch_rect (&grid, i));
              }
          /* pixels outside the grid (none after ts_resize_apply) follow the true frame */
          if (grid.cols * patch < view->width || grid.rows * patch < view->height)
            {
              int gw = grid.cols * patch, gh = grid.rows * patch;
              if (gw < view->width)
                copy_patch (view, frames[t], (TsRect){ gw, 0, view->width - gw, view->height });
              if (gh < view->height)
                copy_patch (view, frames[t], (TsRect){ 0, gh, gw, view->height - gh });
            }
        }
      res->tokens_sent += fr->sent;
      if (ts_image_equal (view, frames[t]))
        fr->psnr = INFINITY, fr->ssim = 1.0;
      else
        {
          for (int i = 0; i < n; i++)
            stale[i] = fr->source[i] != (int) t && !patch_equal (view, frames[t], ts_grid_patch_rect (&grid, i));
          fr->psnr = ts_psnr (view, frames[t]);
          fr->ssim = frame_ssim (view, frames[t], &grid, stale);
        }
      if (progress)
        progress (t + 1, n_frames, user_data);
    }
  res->tokens_total = (gint64) n * n_frames;
  res->clip_ratio = (double) res->tokens_total / res->tokens_sent;
  return g_steal_pointer (&res);
}

TsImage *
ts_temporal_reconstruct (const TsTemporalResult *result, TsImage *const *frames, guint n_frames, guint index,
                         GError **error)
{
  const TsGrid *g = &result->grid;
  TsImage *out;

  if (index >= result->n_frames || n_frames != result->n_frames || frames == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "no frame %u in a result of %u frames (given %u)",
                   index, result->n_frames, n_frames);
      return NULL;
    }
  for (guint t = 0; t < n_frames; t++)
    if (frames[t]->width != g->width || frames[t]->height != g->height)
      {
        g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "frame %u is %d x %d, the result's grid is %d x %d",
                     t, frames[t]->width, frames[t]->height, g->width, g->height);
        return NULL;
      }
  out = ts_image_copy (frames[index]);
  for (int i = 0; i < g->tokens; i++)
    {
      int src = result->frames[index].source[i];
      if (src != (int) index)
        copy_patch (out, frames[src], ts_grid_patch_rect (g, i));
    }
  return out;
}
