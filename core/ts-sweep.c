#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize ("O3") /* the SSIM filters below vectorise at O3 */
#endif
#include "ts-sweep.h"
#include "ts-error.h"
#include "ts-simd.h"
#include "ts-quality.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

static const double default_ratios[] = { 1, 2, 4, 8, 16, 32 };

/* ---- SSIM against one fixed original, the original's half done once ----
 * The same statistic as ts_ssim (Gaussian sigma 1.5, radius 5, K1 0.01,
 * K2 0.03, population moments, mean over the image without its 5-pixel
 * border): inside that border no window reaches the edge, so no padding is
 * needed and only the inner pixels are filtered. The original's mean and
 * second moment are filtered once per sweep; each point filters three planes
 * in float (second moments of luma - 128, which keeps float precise). */

#define R 5
#define TAPS (2 * R + 1)
#define RING (TAPS + 1) /* horizontally filtered rows kept: two output rows' */


/* Reconstructions already measured against one reference: several methods
 * and ratios of a sweep paint the very same picture (pooling at 2x and 4x
 * both pool 2 x 2; optical compression at 8x tiles as pooling does), whose
 * SSIM and PSNR are then the same: they are kept and looked up, by exact
 * equality of everything ts_reconstruct reads (behind a hash of the groups).
 * Feature retention, which reads the features, is always measured. */
typedef struct {
  GMutex lock;
  GPtrArray *points; /* Painted */
} MeasureCache;

typedef struct {
  guint hash;
  TsDropFill fill;
  TsReconKind recon;
  int n_in, n_out, down_width, down_height;
  int *groups, *sizes;
  TsRect *regions; /* or NULL */
  double ssim, psnr;
} Painted;

typedef struct {
  int w, h;
  float k[TAPS];
  float *mu_x;  /* filtered luma - 128, inner region (w x h layout) */
  float *vx;    /* its variance, filtered (luma - 128)^2 - mu_x^2 formed in double */
  double *luma; /* double luma for the small-image fallback */
  MeasureCache *cache;
} SsimRef;

/* Luma - 128 in float (16 to a vector): within a few float roundings of the
 * double luma, the same expression for the reference and every image. */
static inline float
luma_minus_128 (const guint8 *p)
{
  return 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2] - 128.0f;
}

static float *
luma_centered (const TsImage *im)
{
  gsize n = (gsize) im->width * im->height;
  float *y = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    {
      const guint8 *p = im->data + 3 * i;
      y[i] = luma_minus_128 (p);
    }
  return y;
}

/* The horizontal pass of one row: t[i] for the inner columns. Each output
 * is summed over its 11 taps in one go, tap 0 first, from 0: the sums of
 * adding tap after tap to a zeroed row, with one store per value. */
TS_CLONES static void
filter_h (const float *restrict in, int w, const float *k, float *restrict t)
{
  const float k0 = k[0], k1 = k[1], k2 = k[2], k3 = k[3], k4 = k[4], k5 = k[5], k6 = k[6], k7 = k[7], k8 = k[8],
              k9 = k[9], k10 = k[10];
  const float *s = in - R;

  for (int i = R; i < w - R; i++)
    t[i] = (((((((((((0.0f + k0 * s[i]) + k1 * s[i + 1]) + k2 * s[i + 2]) + k3 * s[i + 3]) + k4 * s[i + 4]) +
                  k5 * s[i + 5]) + k6 * s[i + 6]) + k7 * s[i + 7]) + k8 * s[i + 8]) + k9 * s[i + 9]) +
           k10 * s[i + 10]);
}

/* The vertical pass of one output row from its 11 horizontally filtered rows
 * @in[0] (the row R above) .. @in[10], summed the same way. */
TS_CLONES static void
filter_v (const float *const *in, int w, const float *k, float *restrict o)
{
  const float k0 = k[0], k1 = k[1], k2 = k[2], k3 = k[3], k4 = k[4], k5 = k[5], k6 = k[6], k7 = k[7], k8 = k[8],
              k9 = k[9], k10 = k[10];
  const float *restrict s0 = in[0], *restrict s1 = in[1], *restrict s2 = in[2], *restrict s3 = in[3],
              *restrict s4 = in[4], *restrict s5 = in[5], *restrict s6 = in[6], *restrict s7 = in[7],
              *restrict s8 = in[8], *restrict s9 = in[9], *restrict s10 = in[10];

  for (int i = R; i < w - R; i++)
    o[i] = (((((((((((0.0f + k0 * s0[i]) + k1 * s1[i]) + k2 * s2[i]) + k3 * s3[i]) + k4 * s4[i]) + k5 * s5[i]) +
                 k6 * s6[i]) + k7 * s7[i]) + k8 * s8[i]) + k9 * s9[i]) + k10 * s10[i]);
}

/* filter_v of two consecutive output rows from their 12 rows @in[0..11]
 * (each loaded once for both): the same sums as two calls. */
TS_CLONES static void
filter_v2 (const float *const *in, int w, const float *k, float *restrict o0, float *restrict o1)
{
  const float k0 = k[0], k1 = k[1], k2 = k[2], k3 = k[3], k4 = k[4], k5 = k[5], k6 = k[6], k7 = k[7], k8 = k[8],
              k9 = k[9], k10 = k[10];
  const float *restrict s0 = in[0], *restrict s1 = in[1], *restrict s2 = in[2], *restrict s3 = in[3],
              *restrict s4 = in[4], *restrict s5 = in[5], *restrict s6 = in[6], *restrict s7 = in[7],
              *restrict s8 = in[8], *restrict s9 = in[9], *restrict s10 = in[10], *restrict s11 = in[11];

  for (int i = R; i < w - R; i++)
    {
      float v0 = s0[i], v1 = s1[i], v2 = s2[i], v3 = s3[i], v4 = s4[i], v5 = s5[i], v6 = s6[i], v7 = s7[i],
            v8 = s8[i], v9 = s9[i], v10 = s10[i], v11 = s11[i];
      o0[i] = (((((((((((0.0f + k0 * v0) + k1 * v1) + k2 * v2) + k3 * v3) + k4 * v4) + k5 * v5) + k6 * v6) + k7 * v7) +
                  k8 * v8) + k9 * v9) + k10 * v10);
      o1[i] = (((((((((((0.0f + k0 * v1) + k1 * v2) + k2 * v3) + k3 * v4) + k4 * v5) + k5 * v6) + k6 * v7) + k7 * v8) +
                  k8 * v9) + k9 * v10) + k10 * v11);
    }
}

/* out = Gaussian(in) on the inner region; @tmp holds w x h floats. */
static void
filter_inner (const float *in, int w, int h, const float *k, float *tmp, float *out)
{
  for (int j = 0; j < h; j++)
    filter_h (in + (gsize) j * w, w, k, tmp + (gsize) j * w);
  for (int j = R; j < h - R; j++)
    {
      const float *rows[TAPS];
      for (int u = 0; u < TAPS; u++)
        rows[u] = tmp + (gsize) (j - R + u) * w;
      filter_v (rows, w, k, out + (gsize) j * w);
    }
}

static void
painted_free (gpointer data)
{
  Painted *p = data;

  g_free (p->groups);
  g_free (p->sizes);
  g_free (p->regions);
  g_free (p);
}

static guint
groups_hash (const TsAssignment *a)
{
  guint h = (guint) a->n_out * 31 + (guint) a->recon;

  for (int i = 0; i < a->n_in; i++)
    h = h * 33 + (guint) a->groups[i];
  return h;
}

/* The SSIM and PSNR of a reconstruction of @a measured before, or NULL
 * (never for a mix: resampler tokens are not kept). */
static const Painted *
painted_find (MeasureCache *c, const TsAssignment *a, guint hash, TsDropFill fill)
{
  const Painted *found = NULL;

  if (a->mix != NULL)
    return NULL;
  g_mutex_lock (&c->lock);
  for (guint i = 0; i < c->points->len && found == NULL; i++)
    {
      const Painted *p = g_ptr_array_index (c->points, i);
      if (p->hash == hash && p->fill == fill && p->recon == a->recon && p->n_in == a->n_in && p->n_out == a->n_out &&
          p->down_width == a->down_width && p->down_height == a->down_height &&
          (p->regions == NULL) == (a->regions == NULL) && memcmp (p->groups, a->groups, sizeof (int) * a->n_in) == 0 &&
          memcmp (p->sizes, a->sizes, sizeof (int) * a->n_out) == 0 &&
          (p->regions == NULL || memcmp (p->regions, a->regions, sizeof (TsRect) * a->n_out) == 0))
        found = p;
    }
  g_mutex_unlock (&c->lock);
  return found;
}

static void
painted_add (MeasureCache *c, const TsAssignment *a, guint hash, TsDropFill fill, double ssim, double psnr)
{
  Painted *p = g_new0 (Painted, 1);

  if (a->mix != NULL)
    {
      g_free (p);
      return;
    }
  *p = (Painted){ hash, fill, a->recon, a->n_in, a->n_out, a->down_width, a->down_height,
                  g_memdup2 (a->groups, sizeof (int) * a->n_in), g_memdup2 (a->sizes, sizeof (int) * a->n_out),
                  a->regions ? g_memdup2 (a->regions, sizeof (TsRect) * a->n_out) : NULL, ssim, psnr };
  g_mutex_lock (&c->lock);
  g_ptr_array_add (c->points, p);
  g_mutex_unlock (&c->lock);
}

static SsimRef *
ssim_ref_new (const TsImage *image)
{
  SsimRef *r = g_new0 (SsimRef, 1);
  gsize n = (gsize) image->width * image->height;
  double ksum = 0;

  r->w = image->width;
  r->h = image->height;
  r->cache = g_new0 (MeasureCache, 1);
  g_mutex_init (&r->cache->lock);
  r->cache->points = g_ptr_array_new_with_free_func (painted_free);
  if (r->w <= 2 * R || r->h <= 2 * R)
    {
      r->luma = ts_image_luma (image);
      return r;
    }
  {
    double kd[TAPS];
    for (int t = -R; t <= R; t++)
      ksum += kd[t + R] = exp (-0.5 * t * t / (1.5 * 1.5));
    for (int t = 0; t < TAPS; t++)
      r->k[t] = (float) (kd[t] / ksum);
  }
  r->mu_x = g_new (float, n);
  r->vx = g_new0 (float, n);
  {
    g_autofree float *xc = luma_centered (image);
    g_autofree float *sxx = g_new (float, n);
    g_autofree float *tmp = g_new (float, n);
    g_autofree float *sq = g_new (float, n);
    for (gsize i = 0; i < n; i++)
      sq[i] = xc[i] * xc[i];
    filter_inner (xc, r->w, r->h, r->k, tmp, r->mu_x); /* centred mean: add 128 back below */
    filter_inner (sq, r->w, r->h, r->k, tmp, sxx);
    for (int j = R; j < r->h - R; j++)
      for (int i = R; i < r->w - R; i++)
        {
          gsize at = (gsize) j * r->w + i;
          r->vx[at] = (float) ((double) sxx[at] - (double) r->mu_x[at] * r->mu_x[at]);
        }
  }
  return r;
}

static void
ssim_ref_free (SsimRef *r)
{
  if (r == NULL)
    return;
  g_free (r->mu_x);
  g_free (r->vx);
  g_free (r->luma);
  g_ptr_array_unref (r->cache->points);
  g_mutex_clear (&r->cache->lock);
  g_free (r->cache);
  g_free (r);
}

/* One image row's three planes: @yc = luma(b) - 128 as luma_centered, its
 * square and its product with the reference's luma(a) - 128; returns the sum
 * of squared differences of a and b over all channels (integers: exact, the
 * same sum ts_psnr forms). */
TS_CLONES static gint64
row_planes (const guint8 *restrict a, const guint8 *restrict b, int n, float *restrict yc, float *restrict sq,
            float *restrict xy)
{
  gint64 sse = 0;

  for (int i = 0; i < n; i++)
    {
      const guint8 *p = b + 3 * i, *q = a + 3 * i;
      int d0 = p[0] - q[0], d1 = p[1] - q[1], d2 = p[2] - q[2];
      float y = luma_minus_128 (p);
      yc[i] = y;
      sq[i] = y * y;
      xy[i] = luma_minus_128 (q) * y; /* formed again: cheaper than reading a float plane */
      sse += d0 * d0 + d1 * d1 + d2 * d2;
    }
  return sse;
}

/* The SSIM of one pixel in float (the moments are floats already; the
 * reference's variance comes formed in double). */
static inline float
ssim_of (float mxc, float vx, float my, float syy, float sxy)
{
  const float C1 = (0.01f * 255) * (0.01f * 255), C2 = (0.03f * 255) * (0.03f * 255);
  float ux = mxc + 128.0f, uy = my + 128.0f;
  float vy = syy - my * my, vxy = sxy - mxc * my;

  return ((2 * ux * uy + C1) * (2 * vxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
}

/* The sum of the SSIM of each inner pixel of row @j from its filtered rows:
 * in 16 float partial sums (so that it vectorises; a lane adds w / 16 values
 * of at most 1), then the rest and the lanes in double. */
TS_CLONES static double
ssim_row_sum (const SsimRef *r, int j, const float *restrict myc, const float *restrict syy,
              const float *restrict sxy)
{
  gsize at = (gsize) j * r->w;
  const float *restrict mx = r->mu_x + at, *restrict vx = r->vx + at;
  float lane[16] = { 0 };
  double sum = 0;
  int i = R;

  for (; i + 16 <= r->w - R; i += 16)
    for (int v = 0; v < 16; v++)
      lane[v] += ssim_of (mx[i + v], vx[i + v], myc[i + v], syy[i + v], sxy[i + v]);
  for (; i < r->w - R; i++)
    sum += ssim_of (mx[i], vx[i], myc[i], syy[i], sxy[i]);
  for (int v = 0; v < 16; v++)
    sum += lane[v];
  return sum;
}

/* SSIM of @image against the reference made from @orig and, when @psnr is
 * set, the PSNR of @orig against @image (ts_psnr's value). Streamed
 * by rows: each image row's luma (- 128), its square and its product with
 * the reference are filtered horizontally into a ring of the last 11 rows,
 * from which each inner row is filtered vertically and scored: the same
 * filtered values as filtering whole planes, in cache. */
static double
ssim_psnr_against (const SsimRef *r, const TsImage *orig, const TsImage *image, double *psnr)
{
  int w = r->w, h = r->h;
  g_autofree float *buf = NULL;
  float *yc, *sq, *xy, *ring[3], *out[3], *out2[3];
  gint64 sse = 0;
  double total = 0;

  if (r->luma != NULL)
    {
      g_autofree double *y = ts_image_luma (image);
      if (psnr)
        *psnr = ts_psnr (orig, image);
      return ts_ssim_luma (r->luma, y, r->w, r->h, NULL);
    }
  buf = g_new (float, (gsize) w * (9 + 3 * RING));
  yc = buf;
  sq = yc + w;
  xy = sq + w;
  for (int p = 0; p < 3; p++)
    {
      out[p] = buf + (gsize) (3 + p) * w;
      out2[p] = buf + (gsize) (6 + p) * w;
      ring[p] = buf + (gsize) (9 + p * RING) * w;
    }
  for (int j = 0; j < h; j++)
    {
      gsize at = (gsize) j * w;
      int jo = j - R - 1; /* with row j in the ring, rows jo - R .. jo + 1 + R are */
      sse += row_planes (orig->data + 3 * at, image->data + 3 * at, w, yc, sq, xy);
      filter_h (yc, w, r->k, ring[0] + (gsize) (j % RING) * w);
      filter_h (sq, w, r->k, ring[1] + (gsize) (j % RING) * w);
      filter_h (xy, w, r->k, ring[2] + (gsize) (j % RING) * w);
      /* inner rows two at a time (the pair jo, jo + 1), the last alone when their count is odd */
      if (jo >= R && (jo - R) % 2 == 0)
        {
          for (int p = 0; p < 3; p++)
            {
              const float *rows[TAPS + 1];
              for (int u = 0; u <= TAPS; u++)
                rows[u] = ring[p] + (gsize) ((jo - R + u) % RING) * w;
              filter_v2 (rows, w, r->k, out[p], out2[p]);
            }
          total += ssim_row_sum (r, jo, out[0], out[1], out[2]);
          total += ssim_row_sum (r, jo + 1, out2[0], out2[1], out2[2]);
        }
      else if (j == h - 1 && (h - 2 * R) % 2 == 1)
        {
          int last = h - 1 - R;
          for (int p = 0; p < 3; p++)
            {
              const float *rows[TAPS];
              for (int u = 0; u < TAPS; u++)
                rows[u] = ring[p] + (gsize) ((last - R + u) % RING) * w;
              filter_v (rows, w, r->k, out[p]);
            }
          total += ssim_row_sum (r, last, out[0], out[1], out[2]);
        }
    }
  if (psnr)
    *psnr = sse == 0 ? INFINITY : 10.0 * log10 (255.0 * 255.0 / ((double) sse / ((double) w * h * 3)));
  return total / ((double) (w - 2 * R) * (h - 2 * R));
}

typedef struct {
  const TsScene *scene;
  const SsimRef *ref;
  const TsMethodParams *params;
  TsSweepMetric metric;
  GCancellable *cancellable;
  GAsyncQueue *done;
} SweepShared;

typedef struct _SweepJob SweepJob;
struct _SweepJob {
  SweepShared *shared;
  const TsMethod *method;
  TsSweepPoint *point;
  SweepJob **group; /* a method with run_multi: its first job runs every ratio of the curve */
  int n_group;
};

void
ts_sweep_options_init (TsSweepOptions *options)
{
  memset (options, 0, sizeof *options);
  options->metric = TS_SWEEP_METRIC_SSIM;
  options->threshold = 0.95;
  ts_method_params_init (&options->params);
}

const char *
ts_sweep_metric_name (TsSweepMetric metric)
{
  return metric == TS_SWEEP_METRIC_FEATURE ? "feature" : "ssim";
}

gboolean
ts_sweep_metric_parse (const char *text, TsSweepMetric *metric, GError **error)
{
  if (text != NULL && g_ascii_strcasecmp (text, "ssim") == 0)
    *metric = TS_SWEEP_METRIC_SSIM;
  else if (text != NULL && (g_ascii_strcasecmp (text, "feature") == 0 ||
                            g_ascii_strcasecmp (text, "feature_retention") == 0))
    *metric = TS_SWEEP_METRIC_FEATURE;
  else
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "unknown quality metric '%s' (choose ssim or feature; PSNR is not a fraction)",
                   text ? text : "");
      return FALSE;
    }
  return TRUE;
}

double
ts_sweep_optimal_ratio (const double *ratios, const double *q, int n, double threshold)
{
  double best = 0;

  for (int i = 0; i < n; i++)
    if (q[i] >= threshold && ratios[i] > best) /* NaN compares false */
      best = ratios[i];
  return best;
}

static gpointer
sq_norms_new (const TsScene *scene, gpointer data)
{
  return ts_feature_sq_norms (scene->features);
}

static gboolean
measure (const TsScene *scene, const TsAssignment *a, const SsimRef *ref, TsDropFill fill, TsSweepPoint *point,
         GError **error)
{
  guint hash = groups_hash (a);
  const Painted *done = painted_find (ref->cache, a, hash, fill);

  if (done != NULL)
    point->ssim = done->ssim, point->psnr = done->psnr;
  else
    {
      g_autoptr (TsImage) recon = ts_reconstruct (scene->image, &scene->grid, a, fill, error);
      if (recon == NULL)
        return FALSE;
      point->ssim = ssim_psnr_against (ref, scene->image, recon, &point->psnr);
      painted_add (ref->cache, a, hash, fill, point->ssim, point->psnr);
    }
  /* the features' norms are the scene's: formed once for all points (ts_feature_retention's value) */
  point->feature_retention = ts_feature_retention_normed (
      scene->features, ts_scene_memo (scene, "quality:feature-sq-norms", sq_norms_new, NULL, g_free), a);
  point->tokens = a->n_out;
  point->q = point->ssim;
  point->efficiency = ((double) a->n_in / MAX (1, a->n_out)) * point->q;
  if (point->ratio == 0)
    point->ratio = (double) a->n_in / MAX (1, a->n_out);
  return TRUE;
}

gboolean
ts_sweep_measure (const TsScene *scene, const TsAssignment *a, TsDropFill fill, TsSweepPoint *point, GError **error)
{
  SsimRef *ref = ssim_ref_new (scene->image);
  gboolean ok = measure (scene, a, ref, fill, point, error);

  ssim_ref_free (ref);
  return ok;
}

double
ts_sweep_ssim (const TsImage *a, const TsImage *b)
{
  SsimRef *ref;
  double v;

  if (a->width != b->width || a->height != b->height)
    return NAN;
  ref = ssim_ref_new (a);
  v = ssim_psnr_against (ref, a, b, NULL);
  ssim_ref_free (ref);
  return v;
}

static void
point_identity (const TsScene *scene, TsSweepPoint *p)
{
  p->tokens = scene->grid.tokens;
  p->ssim = 1.0;
  p->psnr = INFINITY;
  p->feature_retention = 1.0;
}

/* Quality, efficiency and time of a finished point (an error makes them NaN). */
static void
point_finish (const SweepShared *sh, TsSweepPoint *p, gint64 t0)
{
  if (p->error != NULL)
    p->ssim = p->psnr = p->feature_retention = NAN;
  p->q = sh->metric == TS_SWEEP_METRIC_FEATURE ? p->feature_retention : p->ssim;
  p->efficiency = p->error ? NAN : ((double) sh->scene->grid.tokens / MAX (1, p->tokens)) * p->q;
  p->seconds += (g_get_monotonic_time () - t0) / 1e6;
}

static void
point_fail (TsSweepPoint *p, gboolean assigned, const GError *error)
{
  p->error = g_strdup (error ? error->message : "failed");
  p->unreachable = !assigned && g_error_matches (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

/* Every ratio of one curve from one ts_method_run_targets, then each point measured. */
static void
group_run (SweepJob *job)
{
  SweepShared *sh = job->shared;
  int n = job->n_group, m = 0;
  gint64 t0 = g_get_monotonic_time ();
  g_autofree int *targets = g_new (int, n);
  g_autofree TsAssignment **out = g_new0 (TsAssignment *, n);
  g_autoptr (GError) error = NULL;
  TsMethodParams params = *sh->params;
  double share;

  for (int i = 0; i < n; i++)
    if (job->group[i]->point->ratio > 1.0)
      {
        params.tokens = 0;
        params.ratio = job->group[i]->point->ratio;
        targets[m++] = ts_method_target (&params, sh->scene->grid.tokens);
      }
  if (!g_cancellable_is_cancelled (sh->cancellable))
    ts_method_run_targets (job->method, sh->scene, sh->params, targets, m, out, sh->cancellable, &error);
  share = (g_get_monotonic_time () - t0) / 1e6 / MAX (1, m);
  for (int i = 0, k = 0; i < n; i++)
    {
      TsSweepPoint *p = job->group[i]->point;
      g_autoptr (GError) local = NULL;
      gint64 t1 = g_get_monotonic_time ();
      if (g_cancellable_is_cancelled (sh->cancellable))
        p->error = g_strdup ("cancelled");
      else if (p->ratio <= 1.0)
        point_identity (sh->scene, p);
      else
        {
          TsAssignment *a = out[k++];
          p->seconds = share;
          if (a == NULL)
            point_fail (p, FALSE, error);
          else if (!measure (sh->scene, a, sh->ref, sh->params->fill, p, &local))
            point_fail (p, TRUE, local);
          ts_assignment_free (a);
        }
      point_finish (sh, p, t1);
    }
  for (int i = 0; i < n; i++)
    g_async_queue_push (sh->done, job->group[i]);
}

static void
job_run (gpointer data, gpointer user_data)
{
  SweepJob *job = data;
  SweepShared *sh = job->shared;
  TsSweepPoint *p = job->point;
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (GError) error = NULL;

  if (job->method == NULL) /* the Gram matrix, for the methods that read it */
    {
      ts_scene_gram (sh->scene);
      return;
    }
  if (job->group != NULL)
    {
      group_run (job);
      return;
    }
  if (g_cancellable_is_cancelled (sh->cancellable))
    p->error = g_strdup ("cancelled");
  else if (p->ratio <= 1.0)
    point_identity (sh->scene, p);
  else
    {
      TsMethodParams params = *sh->params;
      g_autoptr (TsAssignment) a = NULL;
      double ratio = p->ratio;

      params.tokens = 0;
      params.ratio = ratio;
      a = ts_method_run (job->method, sh->scene, &params, sh->cancellable, &error);
      if (a == NULL || !measure (sh->scene, a, sh->ref, params.fill, p, &error))
        point_fail (p, a != NULL, error);
      p->ratio = ratio;
    }
  point_finish (sh, p, t0);
  g_async_queue_push (sh->done, job);
}

/* Reorders a group's points into two runs of about equal cost (a point costs
 * its target token count; ratio 1 points nothing), the largest target first;
 * returns where the second begins, 0 when splitting gains nothing. */
static int
split_group (SweepJob **g, int n, const TsScene *scene)
{
  g_autofree SweepJob **sorted = g_memdup2 (g, sizeof (SweepJob *) * n);
  g_autofree gboolean *second = g_new0 (gboolean, n);
  double load[2] = { 0, 0 };
  int k = 0, first = 0, costly = 0;

  /* by ratio, ascending: the largest target first */
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && sorted[j]->point->ratio < sorted[j - 1]->point->ratio; j--)
      {
        SweepJob *t = sorted[j];
        sorted[j] = sorted[j - 1], sorted[j - 1] = t;
      }
  for (int i = 0; i < n; i++)
    {
      double cost = sorted[i]->point->ratio > 1.0 ? scene->grid.tokens / sorted[i]->point->ratio : 0;
      costly += cost > 0;
      second[i] = cost > 0 && load[1] < load[0];
      load[second[i]] += cost;
    }
  if (costly < 2)
    return 0;
  for (int i = 0; i < n; i++)
    if (!second[i])
      g[k++] = sorted[i];
  first = k;
  for (int i = 0; i < n; i++)
    if (second[i])
      g[k++] = sorted[i];
  return first;
}

/* Pool threads run SGEMMs side by side: OpenBLAS's own threads on top of them
 * only spin in sched_yield on 2 cores. OpenBLAS's thread count is global, so
 * concurrent sweeps share one counter: the first sets 1, the last restores. */
G_LOCK_DEFINE_STATIC (blas_threads);
static int blas_users, blas_saved;

static void
blas_single_begin (void)
{
  G_LOCK (blas_threads);
  if (blas_users++ == 0)
    {
      blas_saved = openblas_get_num_threads ();
      openblas_set_num_threads (1);
    }
  G_UNLOCK (blas_threads);
}

static void
blas_single_end (void)
{
  G_LOCK (blas_threads);
  if (--blas_users == 0)
    openblas_set_num_threads (blas_saved);
  G_UNLOCK (blas_threads);
}

/* A point that may run while the Gram matrix is built: of a method that
 * neither reads it nor runs its ratios as one group. */
static gboolean
is_early (const TsMethod *method)
{
  return method->run_multi == NULL && !(method->flags & TS_METHOD_GRAM);
}

static gboolean
add_method (GPtrArray *list, const char *name, GError **error)
{
  const TsMethod *m = ts_method_find (name, error);

  if (m == NULL)
    return FALSE;
  for (guint i = 0; i < list->len; i++)
    if (g_ptr_array_index (list, i) == m)
      return TRUE;
  g_ptr_array_add (list, (gpointer) m);
  return TRUE;
}

TsSweep *
ts_sweep_run (const TsScene *scene, const TsSweepOptions *options, GCancellable *cancellable, GError **error)
{
  TsSweepOptions defaults;
  g_autoptr (GPtrArray) methods = g_ptr_array_new ();
  g_autoptr (TsSweep) sweep = NULL;
  SsimRef *ref = NULL;
  g_autofree SweepJob *jobs = NULL;
  g_autofree SweepJob **groups = NULL;
  g_autoptr (GAsyncQueue) done = NULL;
  const double *ratios;
  const TsMethod *baseline;
  GThreadPool *pool;
  SweepShared shared;
  SweepJob gram_job;
  int early = -1; /* the ratio whose points run beside the Gram matrix's build */
  gint64 t0 = g_get_monotonic_time ();
  int n_ratios, total, threads;
  g_autoptr (GError) local = NULL;

  if (options == NULL)
    {
      ts_sweep_options_init (&defaults);
      options = &defaults;
    }
  ratios = options->ratios ? options->ratios : default_ratios;
  n_ratios = options->ratios ? options->n_ratios : (int) G_N_ELEMENTS (default_ratios);
  if (n_ratios < 1 || n_ratios > TS_SWEEP_MAX_RATIOS)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "a sweep takes 1 to %d ratios, not %d",
                   TS_SWEEP_MAX_RATIOS, n_ratios);
      return NULL;
    }
  for (int i = 0; i < n_ratios; i++)
    if (!(ratios[i] >= 1.0) || !isfinite (ratios[i]))
      {
        g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "compression ratio %g must be at least 1",
                     ratios[i]);
        return NULL;
      }
  if (!(options->threshold > 0.0 && options->threshold <= 1.0))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "the quality threshold %g is outside (0, 1]",
                   options->threshold);
      return NULL;
    }

  /* The baseline first, then the user's methods in their order (or the registry's). */
  baseline = ts_method_find ("downsample", &local);
  if (baseline == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "this build has no 'downsample' method, the baseline every sweep includes (%s)", local->message);
      return NULL;
    }
  g_ptr_array_add (methods, (gpointer) baseline);
  if (options->methods != NULL)
    {
      for (int i = 0; options->methods[i] != NULL; i++)
        if (!add_method (methods, options->methods[i], error))
          return NULL;
    }
  else
    {
      guint n;
      const TsMethod *const *all = ts_methods (&n);
      for (guint i = 0; i < n; i++)
        if (!add_method (methods, all[i]->name, error))
          return NULL;
    }

  sweep = g_new0 (TsSweep, 1);
  sweep->tokens = scene->grid.tokens;
  sweep->width = scene->grid.width;
  sweep->height = scene->grid.height;
  sweep->patch = scene->grid.patch;
  sweep->metric = options->metric;
  sweep->threshold = options->threshold;
  sweep->n_curves = methods->len;
  sweep->curves = g_new0 (TsSweepCurve, methods->len);
  for (guint m = 0; m < methods->len; m++)
    {
      const TsMethod *method = g_ptr_array_index (methods, m);
      TsSweepCurve *c = &sweep->curves[m];
      c->method = g_strdup (method->name);
      c->label = g_strdup (method->label);
      c->baseline = method == baseline;
      c->n_points = n_ratios;
      c->points = g_new0 (TsSweepPoint, n_ratios);
      for (int r = 0; r < n_ratios; r++)
        c->points[r].ratio = ratios[r];
    }

  ref = ssim_ref_new (scene->image);
  done = g_async_queue_new ();
  shared = (SweepShared){ scene, ref, &options->params, options->metric, cancellable, done };
  total = (int) methods->len * n_ratios;
  jobs = g_new0 (SweepJob, total);
  threads = options->threads > 0 ? options->threads : (int) g_get_num_processors ();
  threads = MAX (1, MIN (threads, total));
  if (threads > 1)
    blas_single_begin ();
  pool = g_thread_pool_new (job_run, NULL, threads, TRUE, NULL);
  groups = g_new0 (SweepJob *, total);
  for (int r = 0; r < n_ratios; r++)
    for (guint m = 0; m < methods->len; m++)
      {
        SweepJob *job = &jobs[r * methods->len + m];
        job->shared = &shared;
        job->method = g_ptr_array_index (methods, m);
        job->point = &sweep->curves[m].points[r];
        groups[m * n_ratios + r] = job;
      }
  /* The Gram matrix, when a swept method reads it, is the first job: one
   * SSYRK on one pool thread (OpenBLAS's own threads, once woken, would spin
   * for a while and take a core from the pool), while the other threads take
   * the points of the first ratio above 1 of the methods that do not read it;
   * then everything else in the order below. */
  for (guint m = 0; m < methods->len; m++)
    if (((const TsMethod *) g_ptr_array_index (methods, m))->flags & TS_METHOD_GRAM)
      {
        gram_job = (SweepJob){ &shared };
        g_thread_pool_push (pool, &gram_job, NULL);
        for (int r = 0; r < n_ratios && early < 0; r++)
          if (ratios[r] > 1.0)
            early = r;
        break;
      }
  if (early >= 0)
    for (guint m = 0; m < methods->len; m++)
      if (is_early (g_ptr_array_index (methods, m)))
        g_thread_pool_push (pool, &jobs[early * methods->len + m], NULL);
  /* Methods that derive every ratio from one run go first (one long job each),
   * then the others with the largest ratios last: the slow points (small ratios
   * of iterative methods) start first. A method whose targets may run apart
   * (resample) is split in two jobs of about equal cost when there are threads
   * to share: the first (with the largest target, which draws the shared
   * seeds) before the other groups, the second after them. */
  {
    g_autoptr (GPtrArray) later = g_ptr_array_new ();
    for (guint m = 0; m < methods->len; m++)
      {
        const TsMethod *method = g_ptr_array_index (methods, m);
        SweepJob **g = groups + m * n_ratios;
        int first;
        if (method->run_multi == NULL)
          continue;
        first = threads > 1 && (method->flags & TS_METHOD_SPLIT_TARGETS) ? split_group (g, n_ratios, scene) : 0;
        if (first > 0)
          {
            g[first]->group = g + first;
            g[first]->n_group = n_ratios - first;
            g_ptr_array_add (later, g[first]);
          }
        g[0]->group = g;
        g[0]->n_group = first > 0 ? first : n_ratios;
        g_thread_pool_push (pool, g[0], NULL);
      }
    for (guint i = 0; i < later->len; i++)
      g_thread_pool_push (pool, g_ptr_array_index (later, i), NULL);
  }
  for (int r = 0; r < n_ratios; r++)
    for (guint m = 0; m < methods->len; m++)
      if (((const TsMethod *) g_ptr_array_index (methods, m))->run_multi == NULL &&
          !(r == early && is_early (g_ptr_array_index (methods, m))))
        g_thread_pool_push (pool, &jobs[r * methods->len + m], NULL);
  for (int i = 0; i < total; i++)
    {
      SweepJob *job = g_async_queue_pop (done);
      if (options->progress != NULL)
        options->progress (i + 1, total, job->method->name, job->point->ratio, options->progress_data);
    }
  g_thread_pool_free (pool, FALSE, TRUE);
  if (threads > 1)
    blas_single_end ();
  ssim_ref_free (ref);
  if (ts_check_cancelled (cancellable, error))
    return NULL;

  for (int m = 0; m < sweep->n_curves; m++)
    {
      TsSweepCurve *c = &sweep->curves[m];
      double r[TS_SWEEP_MAX_RATIOS], q[TS_SWEEP_MAX_RATIOS];
      for (int i = 0; i < c->n_points; i++)
        {
          r[i] = c->points[i].ratio;
          q[i] = c->points[i].q;
        }
      c->optimal_ratio = ts_sweep_optimal_ratio (r, q, c->n_points, sweep->threshold);
    }
  sweep->seconds = (g_get_monotonic_time () - t0) / 1e6;
  return g_steal_pointer (&sweep);
}

const TsSweepCurve *
ts_sweep_find (const TsSweep *sweep, const char *method)
{
  for (int i = 0; i < sweep->n_curves; i++)
    if (g_ascii_strcasecmp (sweep->curves[i].method, method) == 0)
      return &sweep->curves[i];
  return NULL;
}

void
ts_sweep_free (TsSweep *sweep)
{
  if (sweep == NULL)
    return;
  for (int m = 0; m < sweep->n_curves; m++)
    {
      for (int i = 0; i < sweep->curves[m].n_points; i++)
        g_free (sweep->curves[m].points[i].error);
      g_free (sweep->curves[m].points);
      g_free (sweep->curves[m].method);
      g_free (sweep->curves[m].label);
    }
  g_free (sweep->curves);
  g_free (sweep);
}
