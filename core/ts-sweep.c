#include "ts-sweep.h"
#include "ts-error.h"
#include "ts-quality.h"

#include <math.h>
#include <string.h>

static const double default_ratios[] = { 1, 2, 4, 8, 16, 32 };

typedef struct {
  const TsScene *scene;
  const double *luma;
  const TsMethodParams *params;
  TsSweepMetric metric;
  GCancellable *cancellable;
  GAsyncQueue *done;
} SweepShared;

typedef struct {
  SweepShared *shared;
  const TsMethod *method;
  TsSweepPoint *point;
} SweepJob;

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

gboolean
ts_sweep_measure (const TsScene *scene, const TsAssignment *a, const double *original_luma, TsDropFill fill,
                  TsSweepPoint *point, GError **error)
{
  g_autoptr (TsImage) recon = ts_reconstruct (scene->image, &scene->grid, a, fill, error);
  g_autofree double *own = NULL;
  g_autofree double *luma = NULL;

  if (recon == NULL)
    return FALSE;
  if (original_luma == NULL)
    original_luma = own = ts_image_luma (scene->image);
  luma = ts_image_luma (recon);
  point->tokens = a->n_out;
  point->ssim = ts_ssim_luma (original_luma, luma, recon->width, recon->height, NULL);
  point->psnr = ts_psnr (scene->image, recon);
  point->feature_retention = ts_feature_retention (scene->features, a);
  point->q = point->ssim;
  point->efficiency = ((double) a->n_in / MAX (1, a->n_out)) * point->q;
  if (point->ratio == 0)
    point->ratio = (double) a->n_in / MAX (1, a->n_out);
  return TRUE;
}

static void
point_identity (const TsScene *scene, TsSweepPoint *p)
{
  p->tokens = scene->grid.tokens;
  p->ssim = 1.0;
  p->psnr = INFINITY;
  p->feature_retention = 1.0;
}

static void
job_run (gpointer data, gpointer user_data)
{
  SweepJob *job = data;
  SweepShared *sh = job->shared;
  TsSweepPoint *p = job->point;
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (GError) error = NULL;

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
      if (a == NULL || !ts_sweep_measure (sh->scene, a, sh->luma, params.fill, p, &error))
        p->error = g_strdup (error->message);
      p->ratio = ratio;
    }
  if (p->error != NULL)
    p->ssim = p->psnr = p->feature_retention = NAN;
  p->q = sh->metric == TS_SWEEP_METRIC_FEATURE ? p->feature_retention : p->ssim;
  p->efficiency = p->error ? NAN : ((double) sh->scene->grid.tokens / MAX (1, p->tokens)) * p->q;
  p->seconds = (g_get_monotonic_time () - t0) / 1e6;
  g_async_queue_push (sh->done, job);
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
  g_autofree double *luma = NULL;
  g_autofree SweepJob *jobs = NULL;
  g_autoptr (GAsyncQueue) done = NULL;
  const double *ratios;
  const TsMethod *baseline;
  GThreadPool *pool;
  SweepShared shared;
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

  luma = ts_image_luma (scene->image);
  done = g_async_queue_new ();
  shared = (SweepShared){ scene, luma, &options->params, options->metric, cancellable, done };
  total = (int) methods->len * n_ratios;
  jobs = g_new0 (SweepJob, total);
  threads = options->threads > 0 ? options->threads : (int) g_get_num_processors ();
  pool = g_thread_pool_new (job_run, NULL, MAX (1, MIN (threads, total)), TRUE, NULL);
  /* Largest ratios last: the slow points (small ratios of iterative methods) start first. */
  for (int r = 0; r < n_ratios; r++)
    for (guint m = 0; m < methods->len; m++)
      {
        SweepJob *job = &jobs[r * methods->len + m];
        job->shared = &shared;
        job->method = g_ptr_array_index (methods, m);
        job->point = &sweep->curves[m].points[r];
        g_thread_pool_push (pool, job, NULL);
      }
  for (int i = 0; i < total; i++)
    {
      SweepJob *job = g_async_queue_pop (done);
      if (options->progress != NULL)
        options->progress (i + 1, total, job->method->name, job->point->ratio, options->progress_data);
    }
  g_thread_pool_free (pool, FALSE, TRUE);
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
