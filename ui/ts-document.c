/* ts-document.c: settings in, computed scene / assignment / quality out,
 * all heavy work in GTask threads. See ts-document.h. */
#include "ts-document.h"
#include "ts-document-model.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* Immutable shared data, reference counted so a worker can keep using a
 * scene the main thread has already replaced. */
typedef struct {
  TsMedia *media;
} MediaBox;

typedef struct {
  TsResizePolicy policy;
  int size;
  int patch;
  TsFeatureKind kind;
  char *npy_path;      /* the .npy features, or the .safetensors model */
  int model_layer;
  TsVitFamily model_family;
} SceneKey;

/* How long the second stage (reconstruction, numbers) waits after the groups
 * are shown: a frame, so that frame has both cores. */
#define QUALITY_DELAY_MS 20
/* How long the main thread may wait for groups it expects within that time
 * (see start_job_cb). */
#define SYNC_WAIT_US 8000

/* A scene and what it was built from, so a request can tell whether it may reuse it. */
typedef struct {
  TsScene *scene;
  SceneKey key;
  MediaBox *media;  /* held, so its address cannot be reused while this scene lives */
  guint frame;
} SceneBox;

/* How work in flight finds its document: the document clears `doc` when it
 * is disposed, so late results are dropped. Only the main thread reads `doc`. */
typedef struct {
  TsDocument *doc;
} Link;

/* One recomputation request: a snapshot of everything the worker reads. */
typedef struct {
  Link *link;
  guint64 serial;
  MediaBox *media;
  guint frame;
  SceneKey key;
  SceneBox *scene;           /* reused, or NULL: the worker builds it */
  const TsMethod *method;
  TsMethodParams params;
  int query;
  double tau;
  float *attention;          /* the map shown, when the scene, query and tau are unchanged */
  gint64 change_time;
  /* the main thread may wait a few milliseconds for the groups (see start_job_cb) */
  GMutex lock;
  GCond cond;
  gboolean finished;
  struct _Result *result;    /* the groups, until the main thread takes them */
} Job;

/* What the first stage hands back: the groups and the attention map. */
typedef struct _Result {
  Link *link;
  guint64 serial;
  SceneBox *scene;
  TsAssignment *assignment;
  float *attention;
  int query;                 /* what the attention map is of */
  double tau;
  gint64 change_time;
  gint64 started, attention_done, groups_done; /* monotonic, for TS_FRAME_TIMINGS */
} Result;

/* The second stage: the reconstruction and quality numbers of one
 * first-stage result. */
typedef struct {
  Link *link;
  guint64 serial;            /* of the first-stage result measured */
  GMainContext *context;
  SceneBox *scene;
  TsAssignment *assignment;
  TsMethodParams params;
} QualityJob;

/* Posted as soon as it exists, before the numbers (the canvas blends it). */
typedef struct {
  Link *link;
  guint64 serial;
  TsImage *recon;
} ReconUpdate;

typedef struct {
  double psnr, ssim, retention;
} Quality;

typedef struct {
  Link *link;
  guint64 serial;
  SceneBox *scene;
  TsMethodParams params;
  GPtrArray *methods;        /* const TsMethod * */
  GCancellable *cancellable;
  GMainContext *context;     /* where the curves are posted */
} CurvesJob;

typedef struct {
  Link *link;
  guint64 serial;
  TsCurve curve;
} CurveUpdate;

typedef struct {
  Link *link;
  guint64 serial;
  TsEntropy *entropy;
} EntropyUpdate;

struct _TsDocument {
  GObject parent_instance;

  /* Inputs */
  MediaBox *media;
  char *name;
  char *path;
  guint frame;
  SceneKey key;
  const TsMethod *method;
  TsMethodParams params;
  int query;
  guint debounce_ms;

  /* Results */
  SceneBox *scene;
  TsAssignment *assignment;
  TsImage *recon;
  float *attention;
  double psnr, ssim, retention;
  guint64 shown_serial;    /* of the first-stage result shown */
  gint64 change_time;      /* of the results shown */
  GArray *curves;          /* TsCurve */
  TsEntropy *entropy;      /* of the scene shown, measured with the curves */

  /* Scheduling */
  Link *link;
  GStrv curve_methods;     /* NULL: every registered method */
  guint64 serial;          /* of the newest request */
  guint64 quality_serial;  /* of the newest second stage started */
  guint64 curves_serial;
  GCancellable *cancellable;
  GCancellable *quality_cancellable;
  GCancellable *curves_cancellable;
  guint debounce_source;
  gint64 pending_since;    /* first change no request has taken yet */
  gint64 carried_since;    /* first change the newest request answers */
  gboolean running;        /* the first stage */
  gboolean measuring;      /* the second stage */
  guint quality_source;
  const TsMethod *timed_method; /* the method of the last first stages on a ready scene */
  gint64 timed_us[3];           /* how long the last three ran (a ring; 0: none yet) */
  guint timed_next;
  int attention_query;     /* what the attention map shown is of */
  double attention_tau;    /* the second stage waits for the first stage's frame */
  gboolean busy;           /* either */
};

G_DEFINE_FINAL_TYPE (TsDocument, ts_document, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_RESIZE_POLICY,
  PROP_RESIZE_SIZE,
  PROP_PATCH,
  PROP_FEATURE_KIND,
  PROP_NPY_PATH,
  PROP_METHOD,
  PROP_RATIO,
  PROP_POOL_MODE,
  PROP_TAU,
  PROP_QUERY,
  PROP_FILL,
  PROP_BUSY,
  PROP_TOKENS_IN,
  PROP_TOKENS_OUT,
  PROP_FRAME,
  N_PROPS
};

enum {
  CHANGED,
  NOTICE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static const double curve_ratios[] = { 1, 2, 4, 8, 16, 32, 64 };

/* Worker threads inside a computation, of every document (ts_document_wait_workers). */
static gint running_workers;

static void
worker_enter (void)
{
  g_atomic_int_inc (&running_workers);
}

static void
worker_leave (void)
{
  g_atomic_int_dec_and_test (&running_workers);
}

static void schedule (TsDocument *self);

/* ------------------------------------------------------------------ boxes */

static void
media_box_clear (gpointer data)
{
  MediaBox *box = data;
  ts_media_free (box->media);
}

static MediaBox *
media_box_new (TsMedia *media)
{
  MediaBox *box = g_atomic_rc_box_new0 (MediaBox);
  box->media = media;
  return box;
}

static void
media_box_unref (MediaBox *box)
{
  if (box)
    g_atomic_rc_box_release_full (box, media_box_clear);
}

static void
scene_box_clear (gpointer data)
{
  SceneBox *box = data;
  ts_scene_free (box->scene);
  g_free (box->key.npy_path);
  media_box_unref (box->media);
}

static void scene_key_copy (SceneKey *dst, const SceneKey *src);

static SceneBox *
scene_box_new (TsScene *scene, const SceneKey *key, MediaBox *media, guint frame)
{
  SceneBox *box = g_atomic_rc_box_new0 (SceneBox);
  box->scene = scene;
  scene_key_copy (&box->key, key);
  box->media = g_atomic_rc_box_acquire (media);
  box->frame = frame;
  return box;
}

static void
scene_box_unref (SceneBox *box)
{
  if (box)
    g_atomic_rc_box_release_full (box, scene_box_clear);
}

static SceneBox *
scene_box_ref (SceneBox *box)
{
  return box ? g_atomic_rc_box_acquire (box) : NULL;
}

static void
scene_key_copy (SceneKey *dst, const SceneKey *src)
{
  *dst = *src;
  dst->npy_path = g_strdup (src->npy_path);
}

static Link *
link_ref (Link *link)
{
  return g_atomic_rc_box_acquire (link);
}

static void
link_unref (Link *link)
{
  if (link)
    g_atomic_rc_box_release (link);
}

static void result_free (gpointer data);

static void
job_free (gpointer data)
{
  Job *job = data;
  result_free (job->result);
  link_unref (job->link);
  media_box_unref (job->media);
  g_free (job->key.npy_path);
  scene_box_unref (job->scene);
  g_free (job->attention);
  g_mutex_clear (&job->lock);
  g_cond_clear (&job->cond);
  g_free (job);
}

static void
job_finish (Job *job, Result *r)
{
  g_mutex_lock (&job->lock);
  job->result = r;
  job->finished = TRUE;
  g_cond_signal (&job->cond);
  g_mutex_unlock (&job->lock);
}

static void
result_free (gpointer data)
{
  Result *r = data;
  if (r == NULL)
    return;
  link_unref (r->link);
  scene_box_unref (r->scene);
  ts_assignment_free (r->assignment);
  g_free (r->attention);
  g_free (r);
}

static void
quality_job_free (gpointer data)
{
  QualityJob *job = data;
  link_unref (job->link);
  g_main_context_unref (job->context);
  scene_box_unref (job->scene);
  ts_assignment_free (job->assignment);
  g_free (job);
}

static void
recon_update_free (gpointer data)
{
  ReconUpdate *u = data;
  link_unref (u->link);
  ts_image_free (u->recon);
  g_free (u);
}

/* ---------------------------------------------------------------- workers */

static TsScene *
build_scene (const TsImage *frame, const SceneKey *key, GCancellable *cancellable, GError **error)
{
  TsResize resize = { key->policy, key->size };
  g_autoptr (TsImage) image = NULL;
  g_autoptr (TsFeatures) features = NULL;
  TsGrid grid;

  if (key->kind == TS_FEATURES_MODEL) /* the model fixes the patch */
    return ts_document_model_scene (key->npy_path, key->model_family, key->model_layer, frame, &resize, cancellable,
                                    error);
  image = ts_resize_apply (frame, &resize, key->patch, error);
  if (image == NULL || !ts_grid_init (&grid, image->width, image->height, key->patch, error))
    return NULL;
  switch (key->kind)
    {
    case TS_FEATURES_DESCRIPTOR:
      features = ts_features_descriptor (image, &grid, error);
      break;
    case TS_FEATURES_NPY:
      if (key->npy_path == NULL)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                       "choose a .npy file with the features first");
          return NULL;
        }
      features = ts_features_load_npy (key->npy_path, &grid, TS_NPY_CLS_AUTO, error);
      break;
    case TS_FEATURES_PIXEL:
    case TS_FEATURES_MODEL:
    default:
      features = ts_features_pixel (image, &grid, error);
      break;
    }
  if (features == NULL)
    return NULL;
  return ts_scene_new (g_steal_pointer (&image), key->patch, key->kind, g_steal_pointer (&features),
                       error);
}

/* Feature attention (core/ts-attention.h): row @query of softmax(X X^T / tau),
 * or the mean-token view when @query is -1; scaled to max 1 for display. */
static float *
feature_attention (const TsScene *scene, int query, double tau, GError **error)
{
  const TsFeatures *x = scene->normalized;
  g_autofree float *a = g_new (float, x->n);
  float max = 0;

  /* the model's own CLS attention stands for the global query */
  if (query < 0 && scene->kind == TS_FEATURES_MODEL && scene->importance)
    memcpy (a, scene->importance, sizeof (float) * x->n);
  else if (!ts_attention_map (x, query >= 0 ? TS_ATTENTION_QUERY : TS_ATTENTION_GLOBAL, query, tau, a, NULL, error))
    return NULL;
  for (int i = 0; i < x->n; i++)
    max = MAX (max, a[i]);
  for (int i = 0; i < x->n && max > 0; i++)
    a[i] /= max;
  return g_steal_pointer (&a);
}

/* First stage: the groups and the attention map, what the canvas outlines.
 * It only runs the method, so a setting change reaches the screen in
 * milliseconds; the reconstruction and the numbers follow in the second
 * stage (quality_thread). */
static void
compute_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Job *job = task_data;
  g_autoptr (GError) error = NULL;
  Result *r = g_new0 (Result, 1);
  const TsScene *scene;

  worker_enter ();
  r->serial = job->serial;
  r->change_time = job->change_time;
  r->query = job->query;
  r->tau = job->tau;
  r->started = g_get_monotonic_time ();
  g_debug ("job %" G_GUINT64_FORMAT " starts %.1f ms after the change", job->serial,
           (g_get_monotonic_time () - job->change_time) / 1000.0);
  if (job->scene == NULL)
    {
      const TsMedia *media = job->media->media;
      TsScene *built = build_scene (media->frames[MIN (job->frame, media->n_frames - 1)], &job->key, cancellable,
                                    &error);
      if (built == NULL)
        goto fail;
      r->scene = scene_box_new (built, &job->key, job->media, job->frame);
    }
  else
    r->scene = scene_box_ref (job->scene);
  scene = r->scene->scene;
  if (ts_check_cancelled (cancellable, &error))
    goto fail;

  r->attention = job->attention ? g_steal_pointer (&job->attention) : feature_attention (scene, job->query, job->tau, &error);
  if (r->attention == NULL)
    goto fail;
  r->attention_done = g_get_monotonic_time ();
  r->assignment = ts_method_run (job->method, scene, &job->params, cancellable, &error);
  if (r->assignment == NULL)
    goto fail;
  r->groups_done = g_get_monotonic_time ();
  if (ts_check_cancelled (cancellable, &error))
    goto fail;
  g_debug ("job %" G_GUINT64_FORMAT ": %s groups ready %.1f ms after the change", job->serial,
           job->method->name, (g_get_monotonic_time () - job->change_time) / 1000.0);
  job_finish (job, r);
  g_task_return_boolean (task, TRUE);
  worker_leave ();
  return;

fail:
  result_free (r);
  job_finish (job, NULL);
  g_task_return_error (task, g_steal_pointer (&error));
  worker_leave ();
}

static gboolean apply_recon_cb (gpointer data);

/* Second stage: the reconstruction (posted at once), then PSNR, SSIM and
 * feature retention of one first-stage result. */
static void
quality_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  QualityJob *job = task_data;
  const TsScene *scene = job->scene->scene;
  g_autofree Quality *q = g_new (Quality, 1);
  g_autoptr (TsImage) recon = NULL;
  GError *error = NULL;
  ReconUpdate *u;
  gint64 t0 = g_get_monotonic_time ();

  worker_enter ();
  recon = ts_reconstruct (scene->image, &scene->grid, job->assignment, job->params.fill, &error);
  if (recon == NULL || ts_check_cancelled (cancellable, &error))
    goto fail;
  u = g_new0 (ReconUpdate, 1);
  u->link = link_ref (job->link);
  u->serial = job->serial;
  u->recon = ts_image_copy (recon);
  g_main_context_invoke_full (job->context, G_PRIORITY_DEFAULT, apply_recon_cb, u, recon_update_free);
  q->psnr = ts_psnr (scene->image, recon);
  if (ts_check_cancelled (cancellable, &error))
    goto fail;
  q->ssim = ts_ssim (scene->image, recon);
  q->retention = job->assignment->d == scene->features->d ? ts_feature_retention (scene->features, job->assignment)
                                                          : NAN;
  if (ts_check_cancelled (cancellable, &error))
    goto fail;
  g_debug ("job %" G_GUINT64_FORMAT ": reconstruction and quality took %.1f ms", job->serial,
           (g_get_monotonic_time () - t0) / 1000.0);
  g_task_return_pointer (task, g_steal_pointer (&q), g_free);
  worker_leave ();
  return;

fail:
  g_task_return_error (task, error);
  worker_leave ();
}

static gboolean
curve_update_cb (gpointer data)
{
  CurveUpdate *u = data;
  TsDocument *self = u->link->doc;
  gboolean found = FALSE;

  if (self == NULL || u->serial != self->curves_serial)
    return G_SOURCE_REMOVE;
  for (guint i = 0; i < self->curves->len; i++)
    {
      TsCurve *c = &g_array_index (self->curves, TsCurve, i);
      if (c->method == u->curve.method)
        {
          *c = u->curve;
          found = TRUE;
        }
    }
  if (!found)
    g_array_append_val (self->curves, u->curve);
  g_signal_emit (self, signals[CHANGED], 0, TS_DOCUMENT_CHANGED_CURVES);
  return G_SOURCE_REMOVE;
}

static void
curve_update_free (gpointer data)
{
  CurveUpdate *u = data;
  link_unref (u->link);
  g_free (u);
}

static void
curves_job_free (gpointer data)
{
  CurvesJob *job = data;
  link_unref (job->link);
  g_ptr_array_unref (job->methods);
  scene_box_unref (job->scene);
  g_object_unref (job->cancellable);
  g_main_context_unref (job->context);
  g_free (job);
}

static gboolean
entropy_update_cb (gpointer data)
{
  EntropyUpdate *u = data;
  TsDocument *self = u->link->doc;

  if (self == NULL || u->serial != self->curves_serial)
    return G_SOURCE_REMOVE;
  ts_entropy_free (self->entropy);
  self->entropy = g_steal_pointer (&u->entropy);
  g_signal_emit (self, signals[CHANGED], 0, TS_DOCUMENT_CHANGED_ENTROPY);
  return G_SOURCE_REMOVE;
}

static void
entropy_update_free (gpointer data)
{
  EntropyUpdate *u = data;

  link_unref (u->link);
  ts_entropy_free (u->entropy);
  g_free (u);
}

/* The scene's entropy, then quality at a ladder of ratios for every
 * registered method; the entropy and each curve are posted to the main thread
 * when they are complete. */
static void
curves_thread (gpointer data, gpointer pool_data)
{
  CurvesJob *job = data;
  GCancellable *cancellable = job->cancellable;
#ifdef __linux__
  /* nice values are per thread on Linux, and this thread only measures curves */
  setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), 10);
#endif
  /* counted as running since start_curves queued it (a queued job counts too) */
  const TsScene *scene = job->scene->scene;
  const TsMethod *const *methods;
  guint n_methods;
  GMainContext *context = job->context;

  methods = (const TsMethod *const *) job->methods->pdata;
  n_methods = job->methods->len;
  if (g_cancellable_is_cancelled (cancellable))
    {
      curves_job_free (job);
      worker_leave ();
      return;
    }
  /* the token entropy first: one k-means, a fraction of the curves' time */
  {
    TsEntropyOptions opts;
    EntropyUpdate *u = g_new0 (EntropyUpdate, 1);
    ts_entropy_options_init (&opts);
    u->link = link_ref (job->link);
    u->serial = job->serial;
    u->entropy = ts_entropy_compute (scene, &opts, cancellable, NULL);
    if (u->entropy != NULL)
      g_main_context_invoke_full (context, G_PRIORITY_DEFAULT_IDLE, entropy_update_cb, u, entropy_update_free);
    else
      entropy_update_free (u);
  }
  for (guint m = 0; m < n_methods; m++)
    {
      CurveUpdate *u = g_new0 (CurveUpdate, 1);
      int last_tokens = -1;

      u->link = link_ref (job->link);
      u->serial = job->serial;
      u->curve.method = methods[m];
      u->curve.baseline = g_str_equal (methods[m]->name, "downsample");
      for (guint i = 0; i < G_N_ELEMENTS (curve_ratios) && u->curve.n_points < TS_CURVE_MAX_POINTS; i++)
        {
          TsMethodParams params = job->params;
          g_autoptr (TsAssignment) a = NULL;
          TsCurvePoint *p;

          if (g_cancellable_is_cancelled (cancellable))
            {
              curve_update_free (u);
              curves_job_free (job);
              worker_leave ();
              return;
            }
          params.tokens = 0;
          params.ratio = curve_ratios[i];
          a = ts_method_run (methods[m], scene, &params, cancellable, NULL);
          if (a == NULL || a->n_out == last_tokens || a->n_out < 1)
            continue;
          last_tokens = a->n_out;
          if (a->n_out == a->n_in && ts_assignment_kept (a) == a->n_in)
            {
              /* every patch its own token: nothing lost (SSIM 1, PSNR shown as the 99 dB cap) */
              p = &u->curve.points[u->curve.n_points++];
              p->tokens = a->n_out;
              p->ratio = 1.0;
              p->values[TS_METRIC_SSIM] = 1.0;
              p->values[TS_METRIC_PSNR] = 99.0;
              p->values[TS_METRIC_RETENTION] = 1.0;
              continue;
            }
          /* measured the sweep's way (core/ts-sweep.h), like tokenscope-cli sweep */
          {
            TsSweepPoint pt = { 0 };
            gboolean ok = ts_sweep_measure (scene, a, params.fill, &pt, NULL);
            g_free (pt.error);
            if (!ok)
              continue;
            p = &u->curve.points[u->curve.n_points++];
            p->tokens = a->n_out;
            p->ratio = ts_assignment_ratio (a);
            p->values[TS_METRIC_SSIM] = pt.ssim;
            p->values[TS_METRIC_PSNR] = MIN (pt.psnr, 99.0);
            p->values[TS_METRIC_RETENTION] = pt.feature_retention;
          }
        }
      g_main_context_invoke_full (context, G_PRIORITY_DEFAULT_IDLE, curve_update_cb, u, curve_update_free);
    }
  curves_job_free (job);
  worker_leave ();
}

/* The curves' own thread: one for the whole process, at a lower priority
 * than the interactive work (the stages above and the main thread), so a
 * few seconds of curve measurement never delay a frame. A cancelled job
 * stops at its next point and the next one starts. */
static gpointer
curves_pool_init (gpointer data)
{
  return g_thread_pool_new (curves_thread, NULL, 1, TRUE, NULL);
}

static GThreadPool *
curves_pool (void)
{
  static GOnce once = G_ONCE_INIT;
  return g_once (&once, curves_pool_init, NULL);
}

/* -------------------------------------------------------------- main side */

static void
start_curves (TsDocument *self)
{
  CurvesJob *job;

  g_cancellable_cancel (self->curves_cancellable);
  g_clear_object (&self->curves_cancellable);
  g_clear_pointer (&self->entropy, ts_entropy_free);
  if (self->curves->len > 0)
    {
      g_array_set_size (self->curves, 0);
      g_signal_emit (self, signals[CHANGED], 0, TS_DOCUMENT_CHANGED_CURVES);
    }
  if (self->scene == NULL)
    return;
  self->curves_cancellable = g_cancellable_new ();
  job = g_new0 (CurvesJob, 1);
  job->link = link_ref (self->link);
  job->serial = ++self->curves_serial;
  job->scene = scene_box_ref (self->scene);
  job->params = self->params;
  job->methods = g_ptr_array_new ();
  {
    guint n;
    const TsMethod *const *all = ts_methods (&n);
    for (guint i = 0; i < n; i++)
      if (self->curve_methods == NULL || g_strv_contains ((const char *const *) self->curve_methods, all[i]->name))
        g_ptr_array_add (job->methods, (gpointer) all[i]);
  }
  job->cancellable = g_object_ref (self->curves_cancellable);
  job->context = g_main_context_ref_thread_default ();
  worker_enter ();
  g_thread_pool_push (curves_pool (), job, NULL);
}

static void
update_busy (TsDocument *self)
{
  gboolean busy = self->debounce_source != 0 || self->running || self->measuring;

  if (self->busy == busy)
    return;
  self->busy = busy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
quality_done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  QualityJob *job = g_task_get_task_data (G_TASK (res));
  TsDocument *self = job->link->doc;
  g_autoptr (GError) error = NULL;
  g_autofree Quality *q = g_task_propagate_pointer (G_TASK (res), &error);

  if (self == NULL)
    return;
  if (job->serial == self->quality_serial)
    {
      self->measuring = FALSE;
      update_busy (self);
    }
  /* numbers of groups no longer shown are dropped, even when they were not cancelled in time */
  if (q == NULL || job->serial != self->shown_serial)
    return;
  self->psnr = q->psnr;
  self->ssim = q->ssim;
  self->retention = q->retention;
  g_signal_emit (self, signals[CHANGED], 0, TS_DOCUMENT_CHANGED_QUALITY);
}

static gboolean
apply_recon_cb (gpointer data)
{
  ReconUpdate *u = data;
  TsDocument *self = u->link->doc;

  if (self == NULL || u->serial != self->shown_serial)
    return G_SOURCE_REMOVE;
  ts_image_free (self->recon);
  self->recon = g_steal_pointer (&u->recon);
  g_signal_emit (self, signals[CHANGED], 0, TS_DOCUMENT_CHANGED_RECONSTRUCTION);
  return G_SOURCE_REMOVE;
}

/* Measures what is shown now, in a worker; a newer result cancels it. */
static void
start_quality (TsDocument *self)
{
  g_autoptr (GTask) task = NULL;
  QualityJob *job;

  g_cancellable_cancel (self->quality_cancellable);
  g_clear_object (&self->quality_cancellable);
  self->quality_cancellable = g_cancellable_new ();
  job = g_new0 (QualityJob, 1);
  job->link = link_ref (self->link);
  job->serial = self->quality_serial = self->shown_serial;
  job->context = g_main_context_ref_thread_default ();
  job->scene = scene_box_ref (self->scene);
  job->assignment = ts_assignment_copy (self->assignment);
  job->params = self->params;
  task = g_task_new (NULL, self->quality_cancellable, quality_done_cb, NULL);
  g_task_set_source_tag (task, start_quality);
  g_task_set_task_data (task, job, quality_job_free);
  self->measuring = TRUE;
  update_busy (self);
  g_task_run_in_thread (task, quality_thread);
}

static gboolean
start_quality_cb (gpointer data)
{
  TsDocument *self = data;

  self->quality_source = 0;
  start_quality (self);
  return G_SOURCE_REMOVE;
}

/* The numbers start a frame after the groups are announced: on two cores
 * the frame that shows the groups is painted first, not beside them. */
static void
start_quality_after_frame (TsDocument *self)
{
  g_cancellable_cancel (self->quality_cancellable);
  g_clear_handle_id (&self->quality_source, g_source_remove);
  self->quality_source = g_timeout_add (QUALITY_DELAY_MS, start_quality_cb, self);
  self->measuring = TRUE;
  update_busy (self);
}

/* Shows a first-stage result; the reconstruction and numbers of the
 * previous groups no longer apply. */
static guint
apply_result (TsDocument *self, Result *r)
{
  guint what = TS_DOCUMENT_CHANGED_ASSIGNMENT | TS_DOCUMENT_CHANGED_ATTENTION;
  int old_out = ts_document_get_tokens_out (self);
  int old_in = ts_document_get_tokens_in (self);

  if (r->scene != self->scene)
    {
      scene_box_unref (self->scene);
      self->scene = scene_box_ref (r->scene);
      what |= TS_DOCUMENT_CHANGED_SCENE;
    }
  ts_assignment_free (self->assignment);
  self->assignment = g_steal_pointer (&r->assignment);
  g_clear_pointer (&self->recon, ts_image_free);
  g_free (self->attention);
  self->attention = g_steal_pointer (&r->attention);
  self->attention_query = r->query;
  self->attention_tau = r->tau;
  self->shown_serial = r->serial;
  self->change_time = r->change_time;
  self->psnr = self->ssim = self->retention = NAN;
  if (old_in != ts_document_get_tokens_in (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOKENS_IN]);
  if (old_out != ts_document_get_tokens_out (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOKENS_OUT]);
  return what;
}

/* A features file (.npy, model) that failed: back to the features the scene shown has. */
static void
revert_features (TsDocument *self, const Job *job)
{
  const SceneKey *shown;

  if (job->scene != NULL || self->scene == NULL || (job->key.kind != TS_FEATURES_NPY && job->key.kind != TS_FEATURES_MODEL))
    return;
  shown = &self->scene->key;
  if (job->key.kind == shown->kind && g_strcmp0 (job->key.npy_path, shown->npy_path) == 0
      && job->key.model_layer == shown->model_layer && job->key.model_family == shown->model_family)
    return;
  self->key.model_layer = shown->model_layer;
  self->key.model_family = shown->model_family;
  ts_document_set_features (self, shown->kind, shown->npy_path);
  schedule (self);
}

static Result *
job_take_result (Job *job)
{
  Result *r;

  g_mutex_lock (&job->lock);
  r = g_steal_pointer (&job->result);
  g_mutex_unlock (&job->lock);
  return r;
}

/* Shows the groups of the current request. */
static void
show_result (TsDocument *self, Job *job, Result *r)
{
  guint what;

  self->running = FALSE;
  self->carried_since = 0;
  if (ts_frame_timings_enabled ())
    g_printerr ("ts-frame: stage 1 started %.2f ms after the change, attention %.2f ms, %s %.2f ms, shown at %.2f ms\n",
                (r->started - r->change_time) / 1000.0, (r->attention_done - r->started) / 1000.0,
                job->method->name, (r->groups_done - r->attention_done) / 1000.0,
                (g_get_monotonic_time () - r->change_time) / 1000.0);
  if (job->scene != NULL)
    {
      if (self->timed_method != job->method)
        memset (self->timed_us, 0, sizeof self->timed_us);
      self->timed_method = job->method;
      self->timed_us[self->timed_next++ % G_N_ELEMENTS (self->timed_us)] = MAX (1, r->groups_done - r->started);
    }
  what = apply_result (self, r);
  result_free (r);
  /* the numbers are scheduled before the frame is announced, so busy stays TRUE throughout */
  start_quality_after_frame (self);
  g_signal_emit (self, signals[CHANGED], 0, what);
  if (what & TS_DOCUMENT_CHANGED_SCENE)
    start_curves (self);
}

static void
compute_done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Job *job = g_task_get_task_data (G_TASK (res));
  TsDocument *self = job->link->doc;
  g_autoptr (GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (res), &error);
  Result *r = job_take_result (job);

  if (self == NULL || job->serial != self->serial)
    {
      result_free (r);
      return;
    }
  if (ok)
    {
      /* NULL: the main thread waited for it and has shown it */
      if (r != NULL)
        show_result (self, job, r);
      return;
    }
  self->running = FALSE;
  self->carried_since = 0;
  /* what is still shown gets its numbers back if the failed request cancelled them */
  if (self->assignment && isnan (self->ssim))
    start_quality (self);
  update_busy (self);
  if (!g_error_matches (error, TS_ERROR, TS_ERROR_CANCELLED)
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      revert_features (self, job);
      g_signal_emit (self, signals[NOTICE], 0, error->message);
    }
}

static gboolean
scene_key_equal (const SceneKey *a, const SceneKey *b)
{
  return a->policy == b->policy && a->size == b->size && a->patch == b->patch && a->kind == b->kind
         && g_strcmp0 (a->npy_path, b->npy_path) == 0 && a->model_layer == b->model_layer
         && a->model_family == b->model_family;
}

/* Starts the request for the current settings. With @wait, the main thread
 * waits up to SYNC_WAIT_US for the groups and shows them at once. */
static void
start_job (TsDocument *self, gboolean wait)
{
  g_autoptr (GTask) task = NULL;
  Job *job;
  Result *r;

  g_clear_handle_id (&self->debounce_source, g_source_remove);
  if (self->media == NULL || self->method == NULL)
    {
      update_busy (self);
      return;
    }
  /* the older request and the numbers of what is shown are both stale now */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_cancellable_cancel (self->quality_cancellable);
  g_clear_handle_id (&self->quality_source, g_source_remove);
  self->measuring = FALSE;

  job = g_new0 (Job, 1);
  g_mutex_init (&job->lock);
  g_cond_init (&job->cond);
  job->link = link_ref (self->link);
  job->serial = ++self->serial;
  job->media = g_atomic_rc_box_acquire (self->media);
  job->frame = self->frame;
  scene_key_copy (&job->key, &self->key);
  if (self->scene && self->scene->media == self->media && self->scene->frame == self->frame
      && scene_key_equal (&self->key, &self->scene->key))
    job->scene = scene_box_ref (self->scene);
  job->method = self->method;
  job->params = self->params;
  job->query = self->query;
  job->tau = self->params.tau;
  if (job->scene != NULL && job->scene == self->scene && self->attention != NULL && job->query == self->attention_query
      && job->tau == self->attention_tau)
    job->attention = g_memdup2 (self->attention, sizeof (float) * job->scene->scene->normalized->n);
  /* a request cancelled before it showed anything hands its oldest change on */
  if (self->carried_since == 0)
    self->carried_since = self->pending_since ? self->pending_since : g_get_monotonic_time ();
  self->pending_since = 0;
  job->change_time = self->carried_since;

  task = g_task_new (NULL, self->cancellable, compute_done_cb, NULL);
  g_task_set_source_tag (task, start_job);
  g_task_set_task_data (task, job, job_free);
  self->running = TRUE;
  update_busy (self);
  g_task_run_in_thread (task, compute_thread);

  if (!wait)
    return;
  g_mutex_lock (&job->lock);
  {
    gint64 deadline = g_get_monotonic_time () + SYNC_WAIT_US;
    while (!job->finished)
      if (!g_cond_wait_until (&job->cond, &job->lock, deadline))
        break;
  }
  r = g_steal_pointer (&job->result);
  g_mutex_unlock (&job->lock);
  if (r != NULL)
    show_result (self, job, r);
}

static gboolean
start_job_cb (gpointer data)
{
  TsDocument *self = data;

  self->debounce_source = 0;
  start_job (self, FALSE);
  return G_SOURCE_REMOVE;
}

/* TRUE when a request now would reuse the scene shown and the method ran
 * on it in well under SYNC_WAIT_US in one of its last three runs (the
 * fastest: one run slowed by a busy machine does not turn the path off). */
static gboolean
fast_request (TsDocument *self)
{
  gint64 fastest = G_MAXINT64;

  for (guint i = 0; i < G_N_ELEMENTS (self->timed_us); i++)
    if (self->timed_us[i] > 0)
      fastest = MIN (fastest, self->timed_us[i]);
  return self->debounce_ms == 0 && self->media != NULL && self->scene != NULL && self->scene->media == self->media
         && self->scene->frame == self->frame && scene_key_equal (&self->key, &self->scene->key)
         && self->method != NULL && self->method == self->timed_method && fastest < SYNC_WAIT_US * 3 / 4;
}

/* A change the user makes continuously (the target): when the groups come
 * within a few milliseconds, they are shown in the frame that answers the
 * change itself, with the slider's own redraw, rather than in the next
 * frame 16 ms later (GTK paints right after delivering the event, before
 * any idle source runs). Otherwise as schedule(). */
static void
schedule_interactive (TsDocument *self)
{
  if (!fast_request (self))
    {
      schedule (self);
      return;
    }
  if (self->pending_since == 0)
    self->pending_since = g_get_monotonic_time ();
  start_job (self, TRUE);
}

static void
schedule (TsDocument *self)
{
  if (self->pending_since == 0)
    self->pending_since = g_get_monotonic_time ();
  if (self->debounce_source != 0)
    return;
  if (self->debounce_ms == 0)
    self->debounce_source = g_idle_add_full (G_PRIORITY_HIGH_IDLE, start_job_cb, self, NULL);
  else
    self->debounce_source = g_timeout_add (self->debounce_ms, start_job_cb, self);
  update_busy (self);
}


/* ---------------------------------------------------------------- loading */

typedef struct {
  char *path;
  GBytes *bytes;
  char *name;
} LoadData;

static void
load_data_free (gpointer data)
{
  LoadData *d = data;
  g_free (d->path);
  g_clear_pointer (&d->bytes, g_bytes_unref);
  g_free (d->name);
  g_free (d);
}

static void
load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  LoadData *d = task_data;
  TsLoadOptions opts = { 0 };
  GError *error = NULL;
  TsMedia *media;
  gint64 t0 = g_get_monotonic_time ();

  if (d->bytes)
    media = ts_media_load_from_memory (g_bytes_get_data (d->bytes, NULL), g_bytes_get_size (d->bytes),
                                       d->name, &opts, &error);
  else
    media = ts_media_load_any (d->path, &opts, &error);
  g_debug ("loading %s took %.1f ms", d->name, (g_get_monotonic_time () - t0) / 1000.0);
  if (media == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, media, (GDestroyNotify) ts_media_free);
}

static void
load_async (TsDocument *self, LoadData *d, GCancellable *cancellable, GAsyncReadyCallback callback,
            gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, load_async);
  g_task_set_task_data (task, d, load_data_free);
  g_task_run_in_thread (task, load_thread);
}

void
ts_document_load_file_async (TsDocument *self, const char *path, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  LoadData *d = g_new0 (LoadData, 1);

  g_return_if_fail (TS_IS_DOCUMENT (self));
  d->path = g_strdup (path);
  d->name = ts_display_name (path);
  load_async (self, d, cancellable, callback, user_data);
}

void
ts_document_load_bytes_async (TsDocument *self, GBytes *bytes, const char *name,
                              GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  LoadData *d = g_new0 (LoadData, 1);

  g_return_if_fail (TS_IS_DOCUMENT (self));
  d->bytes = g_bytes_ref (bytes);
  d->name = g_strdup (name);
  load_async (self, d, cancellable, callback, user_data);
}

gboolean
ts_document_load_finish (TsDocument *self, GAsyncResult *result, GError **error)
{
  LoadData *d = g_task_get_task_data (G_TASK (result));
  TsMedia *media = g_task_propagate_pointer (G_TASK (result), error);

  if (media == NULL)
    return FALSE;
  media_box_unref (self->media);
  self->media = media_box_new (media);
  g_free (self->name);
  self->name = g_strdup (d->name);
  g_free (self->path);
  self->path = g_strdup (d->path);
  self->frame = 0;
  self->query = -1;
  /* busy before anyone hears of the new media */
  schedule (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRAME]);
  g_signal_emit (self, signals[CHANGED], 0, TS_DOCUMENT_CHANGED_MEDIA);
  return TRUE;
}

/* --------------------------------------------------------------- GObject */

static void
ts_document_finalize (GObject *object)
{
  TsDocument *self = TS_DOCUMENT (object);

  g_clear_handle_id (&self->debounce_source, g_source_remove);
  g_clear_handle_id (&self->quality_source, g_source_remove);
  self->link->doc = NULL;
  link_unref (self->link);
  g_strfreev (self->curve_methods);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_cancellable_cancel (self->quality_cancellable);
  g_clear_object (&self->quality_cancellable);
  g_cancellable_cancel (self->curves_cancellable);
  g_clear_object (&self->curves_cancellable);
  media_box_unref (self->media);
  scene_box_unref (self->scene);
  g_free (self->name);
  g_free (self->path);
  g_free (self->key.npy_path);
  ts_assignment_free (self->assignment);
  ts_image_free (self->recon);
  g_free (self->attention);
  g_array_unref (self->curves);
  ts_entropy_free (self->entropy);
  G_OBJECT_CLASS (ts_document_parent_class)->finalize (object);
}

static void
ts_document_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TsDocument *self = TS_DOCUMENT (object);

  switch (prop_id)
    {
    case PROP_RESIZE_POLICY: g_value_set_int (value, self->key.policy); break;
    case PROP_RESIZE_SIZE: g_value_set_int (value, self->key.size); break;
    case PROP_PATCH: g_value_set_int (value, self->key.patch); break;
    case PROP_FEATURE_KIND: g_value_set_int (value, self->key.kind); break;
    case PROP_NPY_PATH: g_value_set_string (value, self->key.npy_path); break;
    case PROP_METHOD: g_value_set_string (value, self->method ? self->method->name : NULL); break;
    case PROP_RATIO: g_value_set_double (value, self->params.ratio); break;
    case PROP_POOL_MODE: g_value_set_int (value, self->params.pool_mode); break;
    case PROP_TAU: g_value_set_double (value, self->params.tau); break;
    case PROP_QUERY: g_value_set_int (value, self->query); break;
    case PROP_FILL: g_value_set_int (value, self->params.fill); break;
    case PROP_BUSY: g_value_set_boolean (value, self->busy); break;
    case PROP_TOKENS_IN: g_value_set_int (value, ts_document_get_tokens_in (self)); break;
    case PROP_TOKENS_OUT: g_value_set_int (value, ts_document_get_tokens_out (self)); break;
    case PROP_FRAME: g_value_set_uint (value, self->frame); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ts_document_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TsDocument *self = TS_DOCUMENT (object);

  switch (prop_id)
    {
    case PROP_RESIZE_POLICY: ts_document_set_resize (self, g_value_get_int (value), self->key.size); break;
    case PROP_RESIZE_SIZE: ts_document_set_resize (self, self->key.policy, g_value_get_int (value)); break;
    case PROP_PATCH: ts_document_set_patch (self, g_value_get_int (value)); break;
    case PROP_FEATURE_KIND: ts_document_set_features (self, g_value_get_int (value), self->key.npy_path); break;
    case PROP_NPY_PATH: ts_document_set_features (self, self->key.kind, g_value_get_string (value)); break;
    case PROP_METHOD: ts_document_set_method (self, g_value_get_string (value)); break;
    case PROP_RATIO: ts_document_set_ratio (self, g_value_get_double (value)); break;
    case PROP_POOL_MODE: ts_document_set_pool_mode (self, g_value_get_int (value)); break;
    case PROP_TAU: ts_document_set_tau (self, g_value_get_double (value)); break;
    case PROP_QUERY: ts_document_set_query (self, g_value_get_int (value)); break;
    case PROP_FILL: ts_document_set_fill (self, g_value_get_int (value)); break;
    case PROP_FRAME: ts_document_set_frame (self, g_value_get_uint (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ts_document_class_init (TsDocumentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = ts_document_finalize;
  object_class->get_property = ts_document_get_property;
  object_class->set_property = ts_document_set_property;

  properties[PROP_RESIZE_POLICY] = g_param_spec_int ("resize-policy", NULL, NULL, TS_RESIZE_NATIVE,
                                                     TS_RESIZE_PAD, TS_RESIZE_FIT, rw);
  properties[PROP_RESIZE_SIZE] = g_param_spec_int ("resize-size", NULL, NULL, 2, 8192, 672, rw);
  properties[PROP_PATCH] = g_param_spec_int ("patch", NULL, NULL, TS_PATCH_MIN, TS_PATCH_MAX, 14, rw);
  properties[PROP_FEATURE_KIND] = g_param_spec_int ("feature-kind", NULL, NULL, TS_FEATURES_PIXEL,
                                                    TS_FEATURES_MODEL, TS_FEATURES_PIXEL, rw);
  properties[PROP_NPY_PATH] = g_param_spec_string ("npy-path", NULL, NULL, NULL, rw);
  properties[PROP_METHOD] = g_param_spec_string ("method", NULL, NULL, NULL, rw);
  properties[PROP_RATIO] = g_param_spec_double ("ratio", NULL, NULL, 1.0, 4096.0, 4.0, rw);
  properties[PROP_POOL_MODE] = g_param_spec_int ("pool-mode", NULL, NULL, TS_POOL_AVG, TS_POOL_MAX,
                                                 TS_POOL_AVG, rw);
  properties[PROP_TAU] = g_param_spec_double ("tau", NULL, NULL, 0.001, 10.0, 0.1, rw);
  properties[PROP_QUERY] = g_param_spec_int ("query", NULL, NULL, -1, G_MAXINT, -1, rw);
  properties[PROP_FILL] = g_param_spec_int ("fill", NULL, NULL, TS_DROP_FILL_GREY, TS_DROP_FILL_NEAREST,
                                            TS_DROP_FILL_NEAREST, rw);
  properties[PROP_BUSY] = g_param_spec_boolean ("busy", NULL, NULL, FALSE, ro);
  properties[PROP_TOKENS_IN] = g_param_spec_int ("tokens-in", NULL, NULL, 0, G_MAXINT, 0, ro);
  properties[PROP_TOKENS_OUT] = g_param_spec_int ("tokens-out", NULL, NULL, 0, G_MAXINT, 0, ro);
  properties[PROP_FRAME] = g_param_spec_uint ("frame", NULL, NULL, 0, G_MAXUINT, 0, rw);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* changed (guint what): TsDocumentChanged bits */
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                   NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  /* notice (const char *message): something the user should read (a failed computation) */
  signals[NOTICE] = g_signal_new ("notice", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                  NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
ts_document_init (TsDocument *self)
{
  guint n;

  self->key.policy = TS_RESIZE_FIT;
  self->key.size = 672;
  self->key.patch = 14;
  self->key.kind = TS_FEATURES_PIXEL;
  self->key.model_layer = -2;
  ts_method_params_init (&self->params);
  self->method = ts_methods (&n)[0];
  self->query = -1;
  self->debounce_ms = 0;
  self->psnr = self->ssim = self->retention = NAN;
  self->curves = g_array_new (FALSE, TRUE, sizeof (TsCurve));
  self->link = g_atomic_rc_box_new0 (Link);
  self->link->doc = self;
}

/* ------------------------------------------------------------- public API */

gboolean
ts_frame_timings_enabled (void)
{
  static int enabled = -1;

  if (enabled < 0)
    enabled = g_getenv ("TS_FRAME_TIMINGS") != NULL && g_strcmp0 (g_getenv ("TS_FRAME_TIMINGS"), "0") != 0;
  return enabled;
}

gboolean
ts_document_wait_workers (guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (g_atomic_int_get (&running_workers) > 0)
    {
      if (g_get_monotonic_time () >= end)
        return FALSE;
      g_usleep (2000);
    }
  return TRUE;
}

TsDocument *
ts_document_new (void)
{
  return g_object_new (TS_TYPE_DOCUMENT, NULL);
}

void
ts_document_set_resize (TsDocument *self, TsResizePolicy policy, int size)
{
  g_return_if_fail (TS_IS_DOCUMENT (self));
  policy = CLAMP (policy, TS_RESIZE_NATIVE, TS_RESIZE_PAD);
  size = CLAMP (size, 2, 8192);
  if (policy == self->key.policy && size == self->key.size)
    return;
  if (policy != self->key.policy)
    {
      self->key.policy = policy;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RESIZE_POLICY]);
    }
  if (size != self->key.size)
    {
      self->key.size = size;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RESIZE_SIZE]);
    }
  self->query = -1;
  schedule (self);
}

void
ts_document_set_frame (TsDocument *self, guint frame)
{
  g_return_if_fail (TS_IS_DOCUMENT (self));
  frame = MIN (frame, MAX (ts_document_get_n_frames (self), 1) - 1);
  if (frame == self->frame)
    return;
  self->frame = frame;
  schedule (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRAME]);
}

guint ts_document_get_frame (TsDocument *self) { return self->frame; }

guint
ts_document_get_n_frames (TsDocument *self)
{
  return self->media ? self->media->media->n_frames : 0;
}

gpointer
ts_document_media_ref (TsDocument *self, const TsMedia **media)
{
  *media = self->media ? self->media->media : NULL;
  return self->media ? g_atomic_rc_box_acquire (self->media) : NULL;
}

void
ts_document_media_unref (gpointer ref)
{
  media_box_unref (ref);
}

void
ts_document_set_patch (TsDocument *self, int patch)
{
  g_return_if_fail (TS_IS_DOCUMENT (self));
  patch = CLAMP (patch, TS_PATCH_MIN, TS_PATCH_MAX);
  if (patch == self->key.patch)
    return;
  self->key.patch = patch;
  self->query = -1;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PATCH]);
  schedule (self);
}

void
ts_document_set_features (TsDocument *self, TsFeatureKind kind, const char *npy_path)
{
  g_return_if_fail (TS_IS_DOCUMENT (self));
  if (kind != TS_FEATURES_DESCRIPTOR && kind != TS_FEATURES_NPY && kind != TS_FEATURES_MODEL)
    kind = TS_FEATURES_PIXEL;
  if (kind == self->key.kind && g_strcmp0 (npy_path, self->key.npy_path) == 0)
    return;
  if (kind != self->key.kind)
    {
      self->key.kind = kind;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FEATURE_KIND]);
    }
  if (g_strcmp0 (npy_path, self->key.npy_path) != 0)
    {
      g_free (self->key.npy_path);
      self->key.npy_path = g_strdup (npy_path);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NPY_PATH]);
    }
  schedule (self);
}

void
ts_document_set_model_layer (TsDocument *self, int layer)
{
  g_return_if_fail (TS_IS_DOCUMENT (self));
  if (layer == self->key.model_layer)
    return;
  self->key.model_layer = layer;
  if (self->key.kind == TS_FEATURES_MODEL)
    schedule (self);
}

int
ts_document_get_model_layer (TsDocument *self)
{
  return self->key.model_layer;
}

void
ts_document_set_model_family (TsDocument *self, TsVitFamily family)
{
  g_return_if_fail (TS_IS_DOCUMENT (self));
  if (family == self->key.model_family || family < TS_VIT_FAMILY_AUTO || family > TS_VIT_FAMILY_DINOV2)
    return;
  self->key.model_family = family;
  if (self->key.kind == TS_FEATURES_MODEL)
    schedule (self);
}

TsVitFamily
ts_document_get_model_family (TsDocument *self)
{
  return self->key.model_family;
}

void
ts_document_set_method (TsDocument *self, const char *name)
{
  const TsMethod *method;
  g_autoptr (GError) error = NULL;

  g_return_if_fail (TS_IS_DOCUMENT (self));
  method = ts_method_find (name, &error);
  if (method == NULL)
    {
      g_signal_emit (self, signals[NOTICE], 0, error->message);
      return;
    }
  if (method == self->method)
    return;
  self->method = method;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_METHOD]);
  schedule (self);
}

void
ts_document_set_ratio (TsDocument *self, double ratio)
{
  g_return_if_fail (TS_IS_DOCUMENT (self));
  if (!(ratio >= 1.0))
    ratio = 1.0;
  ratio = MIN (ratio, 4096.0);
  if (ratio == self->params.ratio)
    return;
  self->params.ratio = ratio;
  self->params.tokens = 0;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RATIO]);
  schedule_interactive (self);
}

void
ts_document_set_target_tokens (TsDocument *self, int tokens)
{
  int n = ts_document_get_tokens_in (self);

  g_return_if_fail (TS_IS_DOCUMENT (self));
  if (n <= 0 || tokens <= 0)
    return;
  ts_document_set_ratio (self, (double) n / CLAMP (tokens, 1, n));
}

void
ts_document_set_pool_mode (TsDocument *self, TsPoolMode mode)
{
  g_return_if_fail (TS_IS_DOCUMENT (self));
  mode = mode == TS_POOL_MAX ? TS_POOL_MAX : TS_POOL_AVG;
  if (mode == self->params.pool_mode)
    return;
  self->params.pool_mode = mode;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POOL_MODE]);
  schedule (self);
}

void
ts_document_set_tau (TsDocument *self, double tau)
{
  g_return_if_fail (TS_IS_DOCUMENT (self));
  tau = CLAMP (tau, 0.001, 10.0);
  if (tau == self->params.tau)
    return;
  self->params.tau = tau;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TAU]);
  schedule (self);
}

void
ts_document_set_query (TsDocument *self, int token)
{
  g_return_if_fail (TS_IS_DOCUMENT (self));
  if (token < -1 || (self->scene && token >= self->scene->scene->grid.tokens))
    token = -1;
  if (token == self->query)
    return;
  self->query = token;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_QUERY]);
  schedule (self);
}

void
ts_document_set_fill (TsDocument *self, TsDropFill fill)
{
  g_return_if_fail (TS_IS_DOCUMENT (self));
  fill = fill == TS_DROP_FILL_GREY ? TS_DROP_FILL_GREY : TS_DROP_FILL_NEAREST;
  if (fill == self->params.fill)
    return;
  self->params.fill = fill;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILL]);
  schedule (self);
}

void
ts_document_set_method_options (TsDocument *self, const TsMethodParams *options)
{
  TsMethodParams p;

  g_return_if_fail (TS_IS_DOCUMENT (self));
  p = *options;
  p.tokens = self->params.tokens;
  p.ratio = self->params.ratio;
  p.tau = self->params.tau;
  p.dominant_fraction = CLAMP (p.dominant_fraction, 0.0, 1.0);
  p.rounds = CLAMP (p.rounds, 0, 50);
  if (memcmp (&p, &self->params, sizeof p) == 0)
    return;
  self->params = p;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POOL_MODE]);
  schedule (self);
}

void
ts_document_set_curve_methods (TsDocument *self, const char *const *names)
{
  g_return_if_fail (TS_IS_DOCUMENT (self));
  g_strfreev (self->curve_methods);
  self->curve_methods = g_strdupv ((char **) names);
  if (self->scene)
    start_curves (self);
}

void
ts_document_set_debounce (TsDocument *self, guint ms)
{
  g_return_if_fail (TS_IS_DOCUMENT (self));
  self->debounce_ms = MIN (ms, 1000);
}

TsResizePolicy ts_document_get_resize_policy (TsDocument *self) { return self->key.policy; }
int ts_document_get_resize_size (TsDocument *self) { return self->key.size; }
int ts_document_get_patch (TsDocument *self) { return self->key.patch; }
TsFeatureKind ts_document_get_feature_kind (TsDocument *self) { return self->key.kind; }
const char *ts_document_get_npy_path (TsDocument *self) { return self->key.npy_path; }
const TsMethod *ts_document_get_method (TsDocument *self) { return self->method; }
double ts_document_get_ratio (TsDocument *self) { return self->params.ratio; }
const TsMethodParams *ts_document_get_params (TsDocument *self) { return &self->params; }
int ts_document_get_query (TsDocument *self) { return self->query; }
const char *ts_document_get_name (TsDocument *self) { return self->name; }
const char *ts_document_get_path (TsDocument *self) { return self->path; }
const TsMedia *ts_document_get_media (TsDocument *self) { return self->media ? self->media->media : NULL; }
const TsScene *ts_document_get_scene (TsDocument *self) { return self->scene ? self->scene->scene : NULL; }
const TsAssignment *ts_document_get_assignment (TsDocument *self) { return self->assignment; }
const TsImage *ts_document_get_reconstruction (TsDocument *self) { return self->recon; }
const float *ts_document_get_attention (TsDocument *self) { return self->attention; }
double ts_document_get_psnr (TsDocument *self) { return self->psnr; }
double ts_document_get_ssim (TsDocument *self) { return self->ssim; }
double ts_document_get_retention (TsDocument *self) { return self->retention; }
gboolean ts_document_get_busy (TsDocument *self) { return self->busy; }
gint64 ts_document_get_change_time (TsDocument *self) { return self->change_time; }

int
ts_document_get_tokens_in (TsDocument *self)
{
  return self->scene ? self->scene->scene->grid.tokens : 0;
}

int
ts_document_get_tokens_out (TsDocument *self)
{
  return self->assignment ? self->assignment->n_out : 0;
}

double
ts_document_get_tpm (TsDocument *self)
{
  return self->scene ? ts_grid_tpm (&self->scene->scene->grid) : NAN;
}

const TsEntropy *
ts_document_get_entropy (TsDocument *self)
{
  return self->entropy;
}

const TsCurve *
ts_document_get_curves (TsDocument *self, guint *n)
{
  *n = self->curves->len;
  return (const TsCurve *) (gpointer) self->curves->data;
}

/* The current choices as the settings the CLI reads (core/ts-settings.h). */
static void
fill_settings (TsDocument *self, TsSettings *s)
{
  ts_settings_init (s);
  s->resize.policy = self->key.policy;
  s->resize.size = self->key.size;
  s->patch = self->key.patch;
  s->features = self->key.kind;
  if (self->key.kind == TS_FEATURES_MODEL)
    {
      g_free (s->model_file);
      s->model_file = g_strdup (self->key.npy_path);
      s->model_layer = self->key.model_layer;
      g_free (s->model_family);
      s->model_family = g_strdup (ts_vit_family_name (self->key.model_family));
    }
  else
    s->features_file = g_strdup (self->key.npy_path);
  g_free (s->method);
  s->method = g_strdup (self->method->name);
  s->params = self->params;
}

char *
ts_document_dup_command (TsDocument *self)
{
  TsSettings s;
  char *cmd;

  fill_settings (self, &s);
  cmd = ts_settings_to_command (&s, self->path ? self->path : self->name);
  ts_settings_clear (&s);
  return cmd;
}

gboolean
ts_document_export_settings (TsDocument *self, const char *path, GError **error)
{
  TsSettings s;
  gboolean ok;

  fill_settings (self, &s);
  ok = ts_settings_save (&s, path, error);
  ts_settings_clear (&s);
  return ok;
}

static double
efficiency (TsDocument *self)
{
  if (self->assignment == NULL || isnan (self->ssim))
    return NAN;
  return ts_assignment_ratio (self->assignment) * self->ssim;
}

char *
ts_document_dup_numbers_json (TsDocument *self)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  const TsScene *scene = ts_document_get_scene (self);
  struct { const char *key; double v; } nums[] = {
    { "cr", self->assignment ? ts_assignment_ratio (self->assignment) : NAN },
    { "tpm", ts_document_get_tpm (self) },
    { "psnr", self->psnr },
    { "ssim", self->ssim },
    { "feature_retention", self->retention },
    { "efficiency", efficiency (self) },
  };

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "image");
  json_builder_add_string_value (b, self->name ? self->name : "");
  if (scene)
    {
      json_builder_set_member_name (b, "width");
      json_builder_add_int_value (b, scene->grid.width);
      json_builder_set_member_name (b, "height");
      json_builder_add_int_value (b, scene->grid.height);
      json_builder_set_member_name (b, "patch");
      json_builder_add_int_value (b, scene->grid.patch);
    }
  json_builder_set_member_name (b, "method");
  json_builder_add_string_value (b, self->method->name);
  json_builder_set_member_name (b, "tokens_in");
  json_builder_add_int_value (b, ts_document_get_tokens_in (self));
  json_builder_set_member_name (b, "tokens_out");
  json_builder_add_int_value (b, ts_document_get_tokens_out (self));
  for (guint i = 0; i < G_N_ELEMENTS (nums); i++)
    {
      json_builder_set_member_name (b, nums[i].key);
      if (isfinite (nums[i].v))
        json_builder_add_double_value (b, nums[i].v);
      else if (isinf (nums[i].v))
        json_builder_add_string_value (b, "inf");
      else
        json_builder_add_null_value (b);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_data (gen, NULL);
}

char *
ts_document_dup_numbers_csv (TsDocument *self)
{
  GString *s = g_string_new ("image,method,tokens_in,tokens_out,cr,tpm,psnr,ssim,feature_retention,efficiency\n");
  double v[] = { self->assignment ? ts_assignment_ratio (self->assignment) : NAN, ts_document_get_tpm (self),
                 self->psnr, self->ssim, self->retention, efficiency (self) };
  g_autofree char *name = g_strdup (self->name ? self->name : "");

  g_strdelimit (name, ",\"\n", '_');
  g_string_append_printf (s, "%s,%s,%d,%d", name, self->method->name, ts_document_get_tokens_in (self),
                          ts_document_get_tokens_out (self));
  for (guint i = 0; i < G_N_ELEMENTS (v); i++)
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      g_string_append_c (s, ',');
      if (!isnan (v[i]))
        g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.6g", v[i]));
    }
  g_string_append_c (s, '\n');
  return g_string_free (s, FALSE);
}

#define GROUP "document"

void
ts_document_save_settings (TsDocument *self, GKeyFile *kf)
{
  g_key_file_set_string (kf, GROUP, "resize", ts_resize_policy_name (self->key.policy));
  g_key_file_set_integer (kf, GROUP, "size", self->key.size);
  g_key_file_set_integer (kf, GROUP, "patch", self->key.patch);
  g_key_file_set_string (kf, GROUP, "features", ts_feature_kind_name (self->key.kind));
  if (self->key.npy_path)
    g_key_file_set_string (kf, GROUP, self->key.kind == TS_FEATURES_MODEL ? "model" : "npy", self->key.npy_path);
  g_key_file_set_integer (kf, GROUP, "model-layer", self->key.model_layer);
  g_key_file_set_string (kf, GROUP, "model-family", ts_vit_family_name (self->key.model_family));
  g_key_file_set_string (kf, GROUP, "method", self->method->name);
  g_key_file_set_double (kf, GROUP, "ratio", self->params.ratio);
  g_key_file_set_string (kf, GROUP, "pool-mode", self->params.pool_mode == TS_POOL_MAX ? "max" : "avg");
  g_key_file_set_double (kf, GROUP, "tau", self->params.tau);
  g_key_file_set_string (kf, GROUP, "fill", self->params.fill == TS_DROP_FILL_GREY ? "grey" : "nearest");
}

/* Each key is read on its own: a missing or bad one keeps its default. */
void
ts_document_load_settings (TsDocument *self, GKeyFile *kf)
{
  g_autofree char *resize = g_key_file_get_string (kf, GROUP, "resize", NULL);
  g_autofree char *features = g_key_file_get_string (kf, GROUP, "features", NULL);
  g_autofree char *npy = g_key_file_get_string (kf, GROUP, "npy", NULL);
  g_autofree char *model = g_key_file_get_string (kf, GROUP, "model", NULL);
  g_autofree char *family = g_key_file_get_string (kf, GROUP, "model-family", NULL);
  TsVitFamily vit_family = TS_VIT_FAMILY_AUTO;
  g_autofree char *method = g_key_file_get_string (kf, GROUP, "method", NULL);
  g_autofree char *pool_mode = g_key_file_get_string (kf, GROUP, "pool-mode", NULL);
  g_autofree char *fill = g_key_file_get_string (kf, GROUP, "fill", NULL);
  g_autoptr (GError) error = NULL;
  TsResizePolicy policy = self->key.policy;
  TsFeatureKind kind = self->key.kind;
  int size, patch;
  double ratio, tau;

  if (resize)
    ts_resize_policy_parse (resize, &policy, NULL);
  size = g_key_file_get_integer (kf, GROUP, "size", &error);
  if (error || size < 2)
    size = self->key.size;
  g_clear_error (&error);
  ts_document_set_resize (self, policy, size);
  patch = g_key_file_get_integer (kf, GROUP, "patch", &error);
  if (!error)
    ts_document_set_patch (self, patch);
  g_clear_error (&error);
  if (features && ts_feature_kind_parse (features, &kind, NULL))
    {
      const char *file = kind == TS_FEATURES_NPY ? npy : kind == TS_FEATURES_MODEL ? model : NULL;
      if ((kind == TS_FEATURES_NPY || kind == TS_FEATURES_MODEL)
          && (file == NULL || !g_file_test (file, G_FILE_TEST_IS_REGULAR)))
        kind = TS_FEATURES_PIXEL;
      int layer = g_key_file_get_integer (kf, GROUP, "model-layer", &error);
      ts_document_set_model_layer (self, error ? -2 : layer);
      if (family == NULL || !ts_vit_family_parse (family, &vit_family, NULL))
        vit_family = TS_VIT_FAMILY_AUTO;
      ts_document_set_model_family (self, vit_family);
      g_clear_error (&error);
      ts_document_set_features (self, kind, kind == TS_FEATURES_PIXEL || kind == TS_FEATURES_DESCRIPTOR ? NULL : file);
    }
  if (method && ts_method_find (method, NULL))
    ts_document_set_method (self, method);
  ratio = g_key_file_get_double (kf, GROUP, "ratio", &error);
  if (!error && isfinite (ratio))
    ts_document_set_ratio (self, ratio);
  g_clear_error (&error);
  tau = g_key_file_get_double (kf, GROUP, "tau", &error);
  if (!error && isfinite (tau))
    ts_document_set_tau (self, tau);
  g_clear_error (&error);
  if (pool_mode)
    ts_document_set_pool_mode (self, g_str_equal (pool_mode, "max") ? TS_POOL_MAX : TS_POOL_AVG);
  if (fill)
    ts_document_set_fill (self, g_str_equal (fill, "grey") ? TS_DROP_FILL_GREY : TS_DROP_FILL_NEAREST);
}
