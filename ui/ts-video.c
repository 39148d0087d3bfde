/* ts-video.c: temporal analysis of the document's clip in a worker thread.
 * See ts-video.h. */
#include "ts-video.h"

#include <math.h>
#include <string.h>

#define DEFAULT_DELAY_MS 100

/* What a run was started from: a new run starts only when this changes. */
typedef struct {
  gpointer media_ref;          /* held: its address cannot be reused while kept */
  TsResize resize;
  int patch;
  TsFeatureKind features;
  TsTemporalOptions options;
} VideoKey;

/* How work in flight finds its TsVideo: cleared on dispose, read on the main thread only. */
typedef struct {
  TsVideo *video;
} Link;

typedef struct {
  Link *link;
  guint64 serial;
  const TsMedia *media;
  VideoKey key;
} VideoJob;

typedef struct {
  Link *link;
  guint64 serial;
  guint done, total;
} VideoProgress;

struct _TsVideo {
  GObject parent_instance;

  /* Owned references */
  TsDocument *document;
  Link *link;
  TsTemporalResult *result;
  GCancellable *cancellable;
  int *tokens;                 /* sent per frame, from result */

  /* State */
  TsTemporalOptions options;
  VideoKey key;                /* of the newest run; media_ref NULL: none */
  guint64 serial;
  gboolean busy;
  guint done, total;
  gulong changed_handler;
};

G_DEFINE_FINAL_TYPE (TsVideo, ts_video, G_TYPE_OBJECT)

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
video_job_free (gpointer data)
{
  VideoJob *job = data;
  g_atomic_rc_box_release (job->link);
  ts_document_media_unref (job->key.media_ref);
  g_free (job);
}

static void
video_progress_free (gpointer data)
{
  VideoProgress *p = data;
  g_atomic_rc_box_release (p->link);
  g_free (p);
}

static gboolean
progress_cb (gpointer data)
{
  VideoProgress *p = data;
  TsVideo *self = p->link->video;

  if (self == NULL || p->serial != self->serial)
    return G_SOURCE_REMOVE;
  self->done = p->done;
  self->total = p->total;
  g_signal_emit (self, signals[CHANGED], 0);
  return G_SOURCE_REMOVE;
}

typedef struct {
  VideoJob *job;
  GMainContext *context;
  gint64 last;
} ProgressData;

static void
temporal_progress (guint done, guint total, gpointer user_data)
{
  ProgressData *pd = user_data;
  VideoProgress *p;
  gint64 now = g_get_monotonic_time ();

  if (done < total && now - pd->last < 50000)
    return; /* 20 updates a second are plenty */
  pd->last = now;
  p = g_new0 (VideoProgress, 1);
  p->link = g_atomic_rc_box_acquire (pd->job->link);
  p->serial = pd->job->serial;
  p->done = done;
  p->total = total;
  g_main_context_invoke_full (pd->context, G_PRIORITY_DEFAULT_IDLE, progress_cb, p, video_progress_free);
}

static void
temporal_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  VideoJob *job = task_data;
  g_autoptr (GPtrArray) frames = NULL;
  ProgressData pd = { job, g_task_get_context (task), 0 };
  TsTemporalOptions options = job->key.options;
  GError *error = NULL;
  TsTemporalResult *result;

  options.features = job->key.features;
  frames = ts_temporal_prepare (job->media, &job->key.resize, job->key.patch, cancellable, &error);
  if (frames == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  result = ts_temporal_run ((TsImage *const *) frames->pdata, frames->len, job->key.patch, &options,
                            temporal_progress, &pd, cancellable, &error);
  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, (GDestroyNotify) ts_temporal_result_free);
}

static void
set_result (TsVideo *self, TsTemporalResult *result)
{
  g_clear_pointer (&self->result, ts_temporal_result_free);
  g_clear_pointer (&self->tokens, g_free);
  self->result = result;
  if (result)
    {
      self->tokens = g_new (int, result->n_frames);
      for (guint i = 0; i < result->n_frames; i++)
        self->tokens[i] = result->frames[i].sent;
    }
}

static void
temporal_done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  VideoJob *job = g_task_get_task_data (G_TASK (res));
  TsVideo *self = job->link->video;
  g_autoptr (GError) error = NULL;
  TsTemporalResult *result = g_task_propagate_pointer (G_TASK (res), &error);

  if (self == NULL || job->serial != self->serial)
    {
      g_clear_pointer (&result, ts_temporal_result_free);
      return;
    }
  self->busy = FALSE;
  set_result (self, result);
  if (result == NULL && !g_error_matches (error, TS_ERROR, TS_ERROR_CANCELLED))
    g_debug ("temporal analysis failed: %s", error->message);
  g_signal_emit (self, signals[CHANGED], 0);
}

static void
key_clear (VideoKey *key)
{
  g_clear_pointer (&key->media_ref, ts_document_media_unref);
}

static void
current_key (TsVideo *self, VideoKey *key, const TsMedia **media)
{
  memset (key, 0, sizeof *key);
  key->media_ref = ts_document_media_ref (self->document, media);
  key->resize.policy = ts_document_get_resize_policy (self->document);
  key->resize.size = ts_document_get_resize_size (self->document);
  key->patch = ts_document_get_patch (self->document);
  key->features = ts_document_get_feature_kind (self->document) == TS_FEATURES_DESCRIPTOR ? TS_FEATURES_DESCRIPTOR
                                                                                          : TS_FEATURES_PIXEL;
  key->options = self->options;
}

static gboolean
key_equal (const VideoKey *a, const VideoKey *b)
{
  return a->media_ref == b->media_ref && a->resize.policy == b->resize.policy && a->resize.size == b->resize.size
         && a->patch == b->patch && a->features == b->features && a->options.mode == b->options.mode
         && a->options.threshold == b->options.threshold && a->options.topk == b->options.topk
         && a->options.keyframe == b->options.keyframe;
}

/* Starts a run when the clip, its grid or the options differ from the last run's. */
static void
refresh (TsVideo *self)
{
  g_autoptr (GTask) task = NULL;
  const TsMedia *media;
  VideoKey key;
  VideoJob *job;

  current_key (self, &key, &media);
  if (key_equal (&key, &self->key))
    {
      key_clear (&key);
      return;
    }
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  key_clear (&self->key);
  self->key = key;
  self->serial++;
  set_result (self, NULL);
  self->done = 0;
  self->total = media ? media->n_frames : 0;
  if (media == NULL || media->n_frames < 2)
    {
      self->busy = FALSE;
      g_signal_emit (self, signals[CHANGED], 0);
      return;
    }
  self->cancellable = g_cancellable_new ();
  job = g_new0 (VideoJob, 1);
  job->link = g_atomic_rc_box_acquire (self->link);
  job->serial = self->serial;
  job->media = media;
  job->key = key;
  job->key.media_ref = ts_document_media_ref (self->document, &media);
  task = g_task_new (NULL, self->cancellable, temporal_done_cb, NULL);
  g_task_set_source_tag (task, refresh);
  g_task_set_task_data (task, job, video_job_free);
  g_task_set_priority (task, G_PRIORITY_LOW);
  self->busy = TRUE;
  g_task_run_in_thread (task, temporal_thread);
  g_signal_emit (self, signals[CHANGED], 0);
}

static void
document_changed_cb (TsDocument *document, guint what, TsVideo *self)
{
  if (what & (TS_DOCUMENT_CHANGED_MEDIA | TS_DOCUMENT_CHANGED_SCENE))
    refresh (self);
}

static void
ts_video_dispose (GObject *object)
{
  TsVideo *self = TS_VIDEO (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_signal_handler (&self->changed_handler, self->document);
  g_clear_object (&self->document);
  if (self->link)
    {
      self->link->video = NULL;
      g_clear_pointer (&self->link, g_atomic_rc_box_release);
    }
  key_clear (&self->key);
  set_result (self, NULL);
  G_OBJECT_CLASS (ts_video_parent_class)->dispose (object);
}

static void
ts_video_class_init (TsVideoClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = ts_video_dispose;
  /* changed: a new result, progress, or the analysis was cleared */
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                   G_TYPE_NONE, 0);
}

static void
ts_video_init (TsVideo *self)
{
  ts_temporal_options_init (&self->options);
  self->options.topk = 16;
  self->link = g_atomic_rc_box_new0 (Link);
  self->link->video = self;
}

TsVideo *
ts_video_new (TsDocument *document)
{
  TsVideo *self;

  g_return_val_if_fail (TS_IS_DOCUMENT (document), NULL);
  self = g_object_new (TS_TYPE_VIDEO, NULL);
  self->document = g_object_ref (document);
  self->changed_handler = g_signal_connect (document, "changed", G_CALLBACK (document_changed_cb), self);
  refresh (self);
  return self;
}

TsDocument *ts_video_get_document (TsVideo *self) { return self->document; }
const TsTemporalOptions *ts_video_get_options (TsVideo *self) { return &self->options; }
const TsTemporalResult *ts_video_get_result (TsVideo *self) { return self->result; }
gboolean ts_video_get_busy (TsVideo *self) { return self->busy; }

void
ts_video_set_options (TsVideo *self, const TsTemporalOptions *options)
{
  g_return_if_fail (TS_IS_VIDEO (self));
  self->options = *options;
  self->options.mode = options->mode == TS_TEMPORAL_TOPK ? TS_TEMPORAL_TOPK : TS_TEMPORAL_THRESHOLD;
  self->options.threshold = CLAMP (isnan (options->threshold) ? 0.02 : options->threshold, 0.0, 2.0);
  self->options.topk = MAX (options->topk, 1);
  self->options.keyframe = MAX (options->keyframe, 0);
  refresh (self);
}

void
ts_video_get_progress (TsVideo *self, guint *done, guint *total)
{
  *done = self->result ? self->result->n_frames : self->done;
  *total = self->result ? self->result->n_frames : self->total;
}

const int *
ts_video_get_tokens_per_frame (TsVideo *self, guint *n_frames)
{
  *n_frames = self->result ? self->result->n_frames : 0;
  return self->tokens;
}

const guint8 *
ts_video_get_changed_mask (TsVideo *self, guint frame)
{
  if (self->result == NULL || frame >= self->result->n_frames)
    return NULL;
  return self->result->frames[frame].sent_mask;
}

guint
ts_video_get_delay_ms (TsVideo *self, guint frame)
{
  const TsMedia *media = ts_document_get_media (self->document);

  if (media == NULL || frame >= media->n_frames || media->delays_ms == NULL || media->delays_ms[frame] <= 0)
    return DEFAULT_DELAY_MS;
  return media->delays_ms[frame];
}
