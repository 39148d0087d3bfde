#include "ts-resize.h"
#include "ts-error.h"

#include <math.h>
#include <stb_image_resize.h>
#include <string.h>

static const char *const policy_names[] = { "native", "fit", "square", "pad" };

gboolean
ts_resize_policy_parse (const char *text, TsResizePolicy *policy, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (policy_names); i++)
    if (text != NULL && g_ascii_strcasecmp (text, policy_names[i]) == 0)
      {
        *policy = (TsResizePolicy) i;
        return TRUE;
      }
  g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
               "unknown resize policy '%s' (use native, fit, square or pad)", text ? text : "");
  return FALSE;
}

const char *
ts_resize_policy_name (TsResizePolicy policy)
{
  return (guint) policy < G_N_ELEMENTS (policy_names) ? policy_names[policy] : "unknown";
}

static int
round_to_patches (double v, int patch)
{
  int n = (int) floor (v / patch + 0.5);
  return MAX (1, n) * patch;
}

gboolean
ts_resize_target_size (const TsResize *resize, int width, int height, int patch,
                       int *out_width, int *out_height, GError **error)
{
  int s;

  if (patch < 1 || width < 1 || height < 1)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "invalid size %d x %d at patch %d",
                   width, height, patch);
      return FALSE;
    }
  if (resize->policy != TS_RESIZE_NATIVE && (resize->size < patch || resize->size > 65536))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "resize size %d must be between the patch size %d and 65536", resize->size, patch);
      return FALSE;
    }
  s = (resize->size / patch) * patch;
  switch (resize->policy)
    {
    case TS_RESIZE_NATIVE:
      *out_width = MAX (1, width / patch) * patch;
      *out_height = MAX (1, height / patch) * patch;
      return TRUE;
    case TS_RESIZE_FIT:
      if (width >= height)
        *out_width = s, *out_height = MIN (s, round_to_patches ((double) height * s / width, patch));
      else
        *out_height = s, *out_width = MIN (s, round_to_patches ((double) width * s / height, patch));
      return TRUE;
    case TS_RESIZE_SQUARE:
    case TS_RESIZE_PAD:
      *out_width = *out_height = s;
      return TRUE;
    default:
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "unknown resize policy %d",
                   resize->policy);
      return FALSE;
    }
}

void
ts_image_mean_color (const TsImage *image, guint8 rgb[3])
{
  guint64 sum[3] = { 0, 0, 0 };
  gsize n = (gsize) image->width * image->height;

  for (gsize i = 0; i < n; i++)
    for (int c = 0; c < 3; c++)
      sum[c] += image->data[i * 3 + c];
  for (int c = 0; c < 3; c++)
    rgb[c] = (guint8) ((sum[c] + n / 2) / n);
}

TsImage *
ts_image_resample (const TsImage *image, int width, int height)
{
  TsImage *out;

  g_return_val_if_fail (image != NULL, NULL);
  if (width == image->width && height == image->height)
    return ts_image_copy (image);
  out = ts_image_new (width, height);
  if (out == NULL)
    return NULL;
  if (!stbir_resize_uint8_generic (image->data, image->width, image->height, image->width * 3,
                                   out->data, width, height, width * 3, 3, STBIR_ALPHA_CHANNEL_NONE,
                                   0, STBIR_EDGE_CLAMP, STBIR_FILTER_CATMULLROM,
                                   STBIR_COLORSPACE_LINEAR, NULL))
    {
      ts_image_free (out);
      return NULL;
    }
  return out;
}

TsImage *
ts_resize_apply (const TsImage *image, const TsResize *resize, int patch, GError **error)
{
  int w, h;
  guint8 mean[3];
  TsImage *out;

  g_return_val_if_fail (image != NULL && resize != NULL, NULL);
  if (!ts_resize_target_size (resize, image->width, image->height, patch, &w, &h, error))
    return NULL;

  if (resize->policy == TS_RESIZE_NATIVE)
    {
      ts_image_mean_color (image, mean);
      out = ts_image_crop (image, 0, 0, w, h, mean);
    }
  else if (resize->policy == TS_RESIZE_PAD && image->width != image->height)
    {
      int side = MAX (image->width, image->height);
      g_autoptr (TsImage) square = NULL;
      ts_image_mean_color (image, mean);
      /* centred, as LLaVA's expand2square does */
      square = ts_image_crop (image, -(side - image->width) / 2, -(side - image->height) / 2, side,
                              side, mean);
      out = square ? ts_image_resample (square, w, h) : NULL;
    }
  else
    out = ts_image_resample (image, w, h);

  if (out == NULL)
    g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "cannot allocate a %d x %d image", w, h);
  return out;
}
