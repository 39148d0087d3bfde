#include "ts-features.h"
#include "ts-error.h"

#include <math.h>
#include <string.h>

const float ts_clip_mean[3] = { 0.48145466f, 0.4578275f, 0.40821073f };
const float ts_clip_std[3] = { 0.26862954f, 0.26130258f, 0.27577711f };

static const char *const kind_names[] = { "pixel", "descriptor", "npy", "model" };

gboolean
ts_feature_kind_parse (const char *text, TsFeatureKind *kind, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (kind_names); i++)
    if (text != NULL && g_ascii_strcasecmp (text, kind_names[i]) == 0)
      {
        *kind = (TsFeatureKind) i;
        return TRUE;
      }
  g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
               "unknown feature kind '%s' (use pixel, descriptor, npy or model)", text ? text : "");
  return FALSE;
}

const char *
ts_feature_kind_name (TsFeatureKind kind)
{
  return (guint) kind < G_N_ELEMENTS (kind_names) ? kind_names[kind] : "unknown";
}

TsFeatures *
ts_features_new (int n, int d, GError **error)
{
  TsFeatures *f;
  gsize count;

  if (n <= 0 || d <= 0 || !g_size_checked_mul (&count, (gsize) n, (gsize) d) ||
      count > G_MAXSIZE / sizeof (float))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "invalid feature matrix %d x %d", n, d);
      return NULL;
    }
  f = g_new0 (TsFeatures, 1);
  f->n = n;
  f->d = d;
  f->data = g_try_malloc0 (count * sizeof (float));
  if (f->data == NULL)
    {
      g_free (f);
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE,
                   "a %d x %d feature matrix (%.1f MB) does not fit in memory", n, d,
                   count * sizeof (float) / 1e6);
      return NULL;
    }
  return f;
}

TsFeatures *
ts_features_copy (const TsFeatures *features)
{
  TsFeatures *copy = ts_features_new (features->n, features->d, NULL);

  if (copy != NULL)
    memcpy (copy->data, features->data, (gsize) features->n * features->d * sizeof (float));
  return copy;
}

void
ts_features_free (TsFeatures *features)
{
  if (features == NULL)
    return;
  g_free (features->data);
  g_free (features);
}

/* The grid must lie on the image: TS_ERROR_INVALID_ARGUMENT otherwise. */
static gboolean
check_grid (const TsImage *image, const TsGrid *grid, GError **error)
{
  if (image == NULL || grid == NULL || grid->patch < TS_PATCH_MIN || grid->patch > TS_PATCH_MAX ||
      grid->rows < 1 || grid->cols < 1 || grid->tokens != grid->rows * grid->cols ||
      image->width < grid->cols * grid->patch || image->height < grid->rows * grid->patch)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "a %d x %d patch grid at patch %d does not fit a %d x %d image", grid ? grid->rows : 0,
                   grid ? grid->cols : 0, grid ? grid->patch : 0, image ? image->width : 0,
                   image ? image->height : 0);
      return FALSE;
    }
  return TRUE;
}

TsFeatures *
ts_features_pixel (const TsImage *image, const TsGrid *grid, GError **error)
{
  int p;
  TsFeatures *f;
  float lut[3][256];

  if (!check_grid (image, grid, error))
    return NULL;
  p = grid->patch;
  f = ts_features_new (grid->tokens, 3 * p * p, error);
  if (f == NULL)
    return NULL;
  for (int c = 0; c < 3; c++)
    for (int v = 0; v < 256; v++)
      lut[c][v] = (v / 255.0f - ts_clip_mean[c]) / ts_clip_std[c];

  for (int t = 0; t < grid->tokens; t++)
    {
      TsRect r = ts_grid_patch_rect (grid, t);
      float *row = f->data + (gsize) t * f->d;
      for (int y = 0; y < p; y++)
        {
          const guint8 *src = image->data + ((gsize) (r.y + y) * image->width + r.x) * 3;
          for (int i = 0; i < p * 3; i++)
            row[y * p * 3 + i] = lut[i % 3][src[i]];
        }
    }
  return f;
}

/* Zig-zag order of the first @count (u, v) DCT indices of a p x p block. */
static int
zigzag (int p, int count, int *us, int *vs)
{
  int k = 0;

  for (int s = 0; s <= 2 * (p - 1) && k < count; s++)
    for (int i = 0; i <= s && k < count; i++)
      {
        int u = (s & 1) ? i : s - i; /* alternate direction on each diagonal */
        int v = s - u;
        if (u < p && v < p)
          us[k] = u, vs[k] = v, k++;
      }
  return k;
}

TsFeatures *
ts_features_descriptor (const TsImage *image, const TsGrid *grid, GError **error)
{
  int p, us[16], vs[16], ncoef;
  g_autofree float *cosv = NULL;
  g_autofree float *luma = NULL;
  TsFeatures *f;

  if (!check_grid (image, grid, error))
    return NULL;
  p = grid->patch;
  f = ts_features_new (grid->tokens, TS_DESCRIPTOR_DIM, error);
  if (f == NULL)
    return NULL;
  cosv = g_new (float, (gsize) p * p);
  luma = g_new (float, (gsize) p * p);
  ncoef = zigzag (p, 16, us, vs);
  for (int u = 0; u < p; u++)
    for (int x = 0; x < p; x++)
      cosv[u * p + x] = (float) (cos ((2 * x + 1) * u * G_PI / (2.0 * p)) *
                                 (u == 0 ? sqrt (1.0 / p) : sqrt (2.0 / p)));

  for (int t = 0; t < grid->tokens; t++)
    {
      TsRect r = ts_grid_patch_rect (grid, t);
      float *row = f->data + (gsize) t * f->d;
      double sum[3] = { 0 }, sq[3] = { 0 }, hist[9] = { 0 };
      int n = p * p;

      for (int y = 0; y < p; y++)
        for (int x = 0; x < p; x++)
          {
            const guint8 *s = image->data + ((gsize) (r.y + y) * image->width + r.x + x) * 3;
            for (int c = 0; c < 3; c++)
              sum[c] += s[c] / 255.0, sq[c] += (s[c] / 255.0) * (s[c] / 255.0);
            luma[y * p + x] = (0.299f * s[0] + 0.587f * s[1] + 0.114f * s[2]) / 255.0f;
          }
      for (int c = 0; c < 3; c++)
        {
          double mean = sum[c] / n, var = MAX (0.0, sq[c] / n - mean * mean);
          row[c] = (float) ((mean - ts_clip_mean[c]) / ts_clip_std[c]);
          row[3 + c] = (float) (sqrt (var) / ts_clip_std[c]);
        }
      /* gradient orientation histogram, central differences clamped to the patch */
      for (int y = 0; y < p; y++)
        for (int x = 0; x < p; x++)
          {
            float gx = luma[y * p + MIN (x + 1, p - 1)] - luma[y * p + MAX (x - 1, 0)];
            float gy = luma[MIN (y + 1, p - 1) * p + x] - luma[MAX (y - 1, 0) * p + x];
            float mag = sqrtf (gx * gx + gy * gy);
            double ang;
            int bin;
            if (mag <= 0)
              continue;
            ang = atan2 (gy, gx);
            if (ang < 0)
              ang += G_PI;
            bin = MIN (8, (int) (ang / G_PI * 9));
            hist[bin] += mag;
          }
      for (int b = 0; b < 9; b++)
        row[6 + b] = (float) (4.0 * hist[b] / n);
      /* |AC DCT| of luma, skipping the DC term (the means carry it) */
      for (int k = 1; k < 16; k++)
        {
          double acc = 0;
          if (k < ncoef)
            {
              const float *cu = cosv + us[k] * p, *cv = cosv + vs[k] * p;
              for (int y = 0; y < p; y++)
                for (int x = 0; x < p; x++)
                  acc += cu[y] * cv[x] * luma[y * p + x];
            }
          row[15 + k - 1] = (float) (fabs (acc) / p);
        }
    }
  return f;
}

TsFeatures *
ts_features_normalized (const TsFeatures *features, GError **error)
{
  TsFeatures *out = ts_features_new (features->n, features->d, error);

  if (out == NULL)
    return NULL;
  for (int i = 0; i < features->n; i++)
    {
      const float *s = features->data + (gsize) i * features->d;
      float *o = out->data + (gsize) i * features->d;
      double norm = 0;
      for (int j = 0; j < features->d; j++)
        norm += (double) s[j] * s[j];
      norm = sqrt (norm);
      for (int j = 0; j < features->d; j++)
        o[j] = norm > 0 ? (float) (s[j] / norm) : 0.0f;
    }
  return out;
}

float
ts_cosine (const float *a, const float *b, int d)
{
  double ab = 0, aa = 0, bb = 0;

  for (int i = 0; i < d; i++)
    ab += (double) a[i] * b[i], aa += (double) a[i] * a[i], bb += (double) b[i] * b[i];
  if (aa <= 0 || bb <= 0)
    return 0.0f;
  return (float) (ab / sqrt (aa * bb));
}
