/* ts-dataset-model.c: a dataset run in a worker thread, summarised on the
 * main thread. See ts-dataset-model.h. */
#include "ts-dataset-model.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------ rows */

struct _TsDatasetRow {
  GObject parent_instance;
  char *image;
  char *path;
  char *error;
  double bits;
  double threshold;
  JsonObject *record;
};

G_DEFINE_FINAL_TYPE (TsDatasetRow, ts_dataset_row, G_TYPE_OBJECT)

static void
ts_dataset_row_finalize (GObject *object)
{
  TsDatasetRow *row = TS_DATASET_ROW (object);

  g_free (row->image);
  g_free (row->path);
  g_free (row->error);
  g_clear_pointer (&row->record, json_object_unref);
  G_OBJECT_CLASS (ts_dataset_row_parent_class)->finalize (object);
}

static void
ts_dataset_row_class_init (TsDatasetRowClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ts_dataset_row_finalize;
}

static void
ts_dataset_row_init (TsDatasetRow *row)
{
  row->bits = NAN;
}

static double
member_double (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) != G_TYPE_STRING ? json_node_get_double (n)
                                                                                          : NAN;
}

static JsonArray *
row_points (TsDatasetRow *row, const char *method)
{
  JsonArray *curves;

  if (row->record == NULL || !json_object_has_member (row->record, "curves"))
    return NULL;
  curves = json_object_get_array_member (row->record, "curves");
  for (guint i = 0; i < json_array_get_length (curves); i++)
    {
      JsonObject *c = json_array_get_object_element (curves, i);
      if (g_strcmp0 (json_object_get_string_member_with_default (c, "method", NULL), method) == 0
          && json_object_has_member (c, "points"))
        return json_object_get_array_member (c, "points");
    }
  return NULL;
}

const char *ts_dataset_row_get_image (TsDatasetRow *row) { return row->image; }
const char *ts_dataset_row_get_path (TsDatasetRow *row) { return row->path; }
const char *ts_dataset_row_get_error (TsDatasetRow *row) { return row->error; }
double ts_dataset_row_get_bits (TsDatasetRow *row) { return row->bits; }

double
ts_dataset_row_get_optimal (TsDatasetRow *row, const char *method)
{
  JsonArray *points = row_points (row, method);
  double best = 0;

  if (points == NULL)
    return NAN;
  /* the summary's rule: the highest ratio whose SSIM reaches the threshold */
  for (guint i = 0; i < json_array_get_length (points); i++)
    {
      JsonObject *pt = json_array_get_object_element (points, i);
      double ratio = member_double (pt, "ratio");
      if (member_double (pt, "ssim") >= row->threshold && ratio > best)
        best = ratio;
    }
  return best;
}

double
ts_dataset_row_get_ssim (TsDatasetRow *row, const char *method, double ratio)
{
  JsonArray *points = row_points (row, method);

  for (guint i = 0; points && i < json_array_get_length (points); i++)
    {
      JsonObject *pt = json_array_get_object_element (points, i);
      if (member_double (pt, "ratio") == ratio)
        return member_double (pt, "ssim");
    }
  return NAN;
}

/* ----------------------------------------------------------------- model */

typedef struct {
  TsDatasetModel *model; /* cleared on dispose; read on the main thread only */
} Link;

typedef struct {
  Link *link;
  char *folder;
  char *out_dir;
  TsDatasetSetup setup;
  GStrv methods;
  double *ratios;
  GMainContext *context;
} RunJob;

typedef struct {
  Link *link;
  int done, total, failed;
} RunProgress;

typedef struct {
  GPtrArray *records;  /* JsonNode */
  char *error;         /* why the run stopped early */
} RunResult;

struct _TsDatasetModel {
  GObject parent_instance;

  /* Owned references */
  Link *link;
  GCancellable *cancellable;
  GPtrArray *records;  /* JsonNode of the last run */
  JsonNode *summary;
  GListStore *rows;
  GStrv methods;
  GArray *ratios;      /* double */
  char *folder;
  char *out_dir;
  char *error;

  /* State */
  double threshold;
  gboolean running;
  int done, total, failed;
};

G_DEFINE_FINAL_TYPE (TsDatasetModel, ts_dataset_model, G_TYPE_OBJECT)

enum {
  PROGRESS,
  FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

void
ts_dataset_setup_init (TsDatasetSetup *setup)
{
  memset (setup, 0, sizeof *setup);
  setup->resize.policy = TS_RESIZE_FIT;
  setup->resize.size = 672;
  setup->patch = 14;
  setup->features = TS_FEATURES_PIXEL;
  setup->jobs = 1;
}

static void
run_job_free (gpointer data)
{
  RunJob *job = data;

  g_atomic_rc_box_release (job->link);
  g_free (job->folder);
  g_free (job->out_dir);
  g_strfreev (job->methods);
  g_free (job->ratios);
  g_main_context_unref (job->context);
  g_free (job);
}

static void
run_result_free (gpointer data)
{
  RunResult *r = data;

  g_clear_pointer (&r->records, g_ptr_array_unref);
  g_free (r->error);
  g_free (r);
}

static void
run_progress_free (gpointer data)
{
  RunProgress *p = data;
  g_atomic_rc_box_release (p->link);
  g_free (p);
}

/* One image: the sweep and the entropy, as `tokenscope-cli dataset` records them. */
static JsonNode *
analyse_image (const char *path, gpointer data, GCancellable *cancellable, GError **error)
{
  RunJob *job = data;
  TsLoadOptions load = { 0 };
  TsSweepOptions sweep_opts;
  TsEntropyOptions entropy_opts;
  g_autoptr (TsImage) image = NULL;
  g_autoptr (TsScene) scene = NULL;
  g_autoptr (TsSweep) sweep = NULL;
  g_autoptr (TsEntropy) entropy = NULL;
  g_autoptr (JsonBuilder) b = NULL;

  if ((image = ts_image_load (path, &load, error)) == NULL
      || (scene = ts_scene_new_resized (image, &job->setup.resize, job->setup.patch, job->setup.features, error)) == NULL)
    return NULL;
  ts_sweep_options_init (&sweep_opts);
  sweep_opts.methods = (const char *const *) job->methods;
  sweep_opts.ratios = job->ratios;
  sweep_opts.n_ratios = job->setup.n_ratios;
  sweep_opts.threads = job->setup.jobs > 1 ? 1 : 0;
  ts_entropy_options_init (&entropy_opts);
  if (job->setup.entropy_k > 0)
    entropy_opts.k = job->setup.entropy_k;
  if ((sweep = ts_sweep_run (scene, &sweep_opts, cancellable, error)) == NULL
      || (entropy = ts_entropy_compute (scene, &entropy_opts, cancellable, error)) == NULL)
    return NULL;
  b = json_builder_new ();
  json_builder_begin_object (b);
  ts_report_add_dataset_image (b, image->width, image->height, sweep, entropy);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static gboolean
progress_cb (gpointer data)
{
  RunProgress *p = data;
  TsDatasetModel *self = p->link->model;

  if (self == NULL || !self->running)
    return G_SOURCE_REMOVE;
  self->done = p->done;
  self->total = p->total;
  self->failed = p->failed;
  g_signal_emit (self, signals[PROGRESS], 0);
  return G_SOURCE_REMOVE;
}

static void
run_progress (const TsDatasetProgress *progress, gpointer data)
{
  RunJob *job = data;
  RunProgress *p = g_new0 (RunProgress, 1);

  p->link = g_atomic_rc_box_acquire (job->link);
  p->done = progress->done;
  p->total = progress->total;
  p->failed = progress->failed;
  g_main_context_invoke_full (job->context, G_PRIORITY_DEFAULT, progress_cb, p, run_progress_free);
}

static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RunJob *job = task_data;
  RunResult *r = g_new0 (RunResult, 1);
  g_autoptr (TsDatasetList) list = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *jsonl = g_build_filename (job->out_dir, "images.jsonl", NULL);
  TsDatasetOptions opts = { job->out_dir, MAX (job->setup.jobs, 1), FALSE };
  int bad = 0;

  list = ts_dataset_list (job->folder, cancellable, &error);
  if (list != NULL && list->paths->len == 0)
    g_set_error (&error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "%s holds no images (PNG, JPEG, BMP, TGA, GIF)",
                 job->folder);
  if (error == NULL)
    {
      TsDatasetProgress first = { (int) list->paths->len, 0, 0, 0, 0, NULL };
      run_progress (&first, job);
      /* a fresh run: an earlier images.jsonl in this folder would be appended to */
      if (g_file_test (jsonl, G_FILE_TEST_EXISTS) && g_unlink (jsonl) != 0)
        g_set_error (&error, TS_ERROR, TS_ERROR_IO, "%s: cannot replace it: %s", jsonl, g_strerror (errno));
      else
        ts_dataset_run (list, &opts, analyse_image, job, run_progress, job, cancellable, NULL, &error);
    }
  if (error)
    r->error = g_strdup (error->message);
  /* what finished before a cancel is kept */
  if (g_file_test (jsonl, G_FILE_TEST_EXISTS))
    r->records = ts_dataset_read_jsonl (jsonl, &bad, NULL);
  g_task_return_pointer (task, r, run_result_free);
}

static void
clear_results (TsDatasetModel *self)
{
  g_clear_pointer (&self->summary, json_node_unref);
  g_list_store_remove_all (self->rows);
  g_clear_pointer (&self->methods, g_strfreev);
  g_array_set_size (self->ratios, 0);
}

static int
compare_rows (gconstpointer a, gconstpointer b, gpointer data)
{
  return g_strcmp0 (TS_DATASET_ROW ((gpointer) a)->image, TS_DATASET_ROW ((gpointer) b)->image);
}

/* Summary, rows, methods and ratios from the records at the current threshold. */
static void
summarise (TsDatasetModel *self)
{
  TsSummaryOptions opts = { "ssim", self->threshold, 5 };
  g_autoptr (GStrvBuilder) names = g_strv_builder_new ();
  g_autoptr (GError) error = NULL;
  JsonArray *methods;

  clear_results (self);
  if (self->records == NULL || self->records->len == 0)
    return;
  self->summary = ts_summary_build (self->records, &opts, &error);
  if (self->summary == NULL)
    {
      g_free (self->error);
      self->error = g_strdup (error->message);
      return;
    }
  methods = json_object_get_array_member (json_node_get_object (self->summary), "methods");
  for (guint i = 0; i < json_array_get_length (methods); i++)
    {
      JsonObject *m = json_array_get_object_element (methods, i);
      JsonArray *points = json_object_get_array_member (m, "points");
      g_strv_builder_add (names, json_object_get_string_member (m, "method"));
      for (guint k = 0; k < json_array_get_length (points); k++)
        {
          double r = json_object_get_double_member (json_array_get_object_element (points, k), "ratio");
          gboolean seen = FALSE;
          for (guint j = 0; j < self->ratios->len && !seen; j++)
            seen = g_array_index (self->ratios, double, j) == r;
          if (!seen)
            g_array_append_val (self->ratios, r);
        }
    }
  self->methods = g_strv_builder_end (names);
  for (guint i = 0; i < self->records->len; i++)
    {
      JsonObject *rec = json_node_get_object (self->records->pdata[i]);
      TsDatasetRow *row = g_object_new (TS_TYPE_DATASET_ROW, NULL);
      const char *key = json_object_get_string_member_with_default (rec, "image", "");

      row->image = g_strdup (key);
      row->path = g_build_filename (self->folder, key, NULL);
      row->error = g_strdup (json_object_get_string_member_with_default (rec, "error", NULL));
      if (json_object_has_member (rec, "entropy"))
        row->bits = member_double (json_object_get_object_member (rec, "entropy"), "bits_per_token");
      row->threshold = self->threshold;
      row->record = json_object_ref (rec);
      g_list_store_insert_sorted (self->rows, row, compare_rows, NULL);
      g_object_unref (row);
    }
}

static void
run_done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  RunJob *job = g_task_get_task_data (G_TASK (res));
  TsDatasetModel *self = job->link->model;
  RunResult *r = g_task_propagate_pointer (G_TASK (res), NULL);

  if (self == NULL)
    {
      g_clear_pointer (&r, run_result_free);
      return;
    }
  self->running = FALSE;
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->records, g_ptr_array_unref);
  self->records = g_steal_pointer (&r->records);
  g_free (self->error);
  self->error = g_steal_pointer (&r->error);
  run_result_free (r);
  summarise (self);
  g_signal_emit (self, signals[FINISHED], 0);
}

static void
ts_dataset_model_dispose (GObject *object)
{
  TsDatasetModel *self = TS_DATASET_MODEL (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->link)
    {
      self->link->model = NULL;
      g_clear_pointer (&self->link, g_atomic_rc_box_release);
    }
  g_clear_object (&self->rows);
  G_OBJECT_CLASS (ts_dataset_model_parent_class)->dispose (object);
}

static void
ts_dataset_model_finalize (GObject *object)
{
  TsDatasetModel *self = TS_DATASET_MODEL (object);

  g_clear_pointer (&self->records, g_ptr_array_unref);
  g_clear_pointer (&self->summary, json_node_unref);
  g_strfreev (self->methods);
  g_array_unref (self->ratios);
  g_free (self->folder);
  g_free (self->out_dir);
  g_free (self->error);
  G_OBJECT_CLASS (ts_dataset_model_parent_class)->finalize (object);
}

static void
ts_dataset_model_class_init (TsDatasetModelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ts_dataset_model_dispose;
  object_class->finalize = ts_dataset_model_finalize;
  /* progress: the counts changed (ts_dataset_model_get_progress) */
  signals[PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                    G_TYPE_NONE, 0);
  /* finished: the run ended (done, cancelled or failed) and was summarised */
  signals[FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                    G_TYPE_NONE, 0);
}

static void
ts_dataset_model_init (TsDatasetModel *self)
{
  self->link = g_atomic_rc_box_new0 (Link);
  self->link->model = self;
  self->rows = g_list_store_new (TS_TYPE_DATASET_ROW);
  self->ratios = g_array_new (FALSE, FALSE, sizeof (double));
  self->threshold = 0.95;
}

TsDatasetModel *
ts_dataset_model_new (void)
{
  return g_object_new (TS_TYPE_DATASET_MODEL, NULL);
}

gboolean
ts_dataset_model_start (TsDatasetModel *self, const char *folder, const char *out_dir,
                        const TsDatasetSetup *setup, GError **error)
{
  g_autoptr (GTask) task = NULL;
  RunJob *job;

  g_return_val_if_fail (TS_IS_DATASET_MODEL (self), FALSE);
  if (self->running)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "a run is already in progress");
      return FALSE;
    }
  if (folder == NULL || !g_file_test (folder, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "%s is not a folder", folder ? folder : "(none)");
      return FALSE;
    }
  if (out_dir == NULL || g_mkdir_with_parents (out_dir, 0755) != 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_IO, "cannot create the output folder %s: %s",
                   out_dir ? out_dir : "(none)", g_strerror (errno));
      return FALSE;
    }
  job = g_new0 (RunJob, 1);
  job->link = g_atomic_rc_box_acquire (self->link);
  job->folder = g_strdup (folder);
  job->out_dir = g_strdup (out_dir);
  job->setup = *setup;
  job->methods = g_strdupv ((char **) setup->methods);
  job->setup.methods = NULL;
  if (setup->ratios && setup->n_ratios > 0)
    job->ratios = g_memdup2 (setup->ratios, sizeof (double) * MIN (setup->n_ratios, TS_SWEEP_MAX_RATIOS));
  job->setup.n_ratios = job->ratios ? MIN (setup->n_ratios, TS_SWEEP_MAX_RATIOS) : 0;
  job->setup.ratios = NULL;
  job->context = g_main_context_ref_thread_default ();

  g_free (self->folder);
  self->folder = g_strdup (folder);
  g_free (self->out_dir);
  self->out_dir = g_strdup (out_dir);
  g_clear_pointer (&self->error, g_free);
  g_clear_pointer (&self->records, g_ptr_array_unref);
  clear_results (self);
  self->done = self->total = self->failed = 0;
  self->running = TRUE;
  self->cancellable = g_cancellable_new ();
  task = g_task_new (NULL, self->cancellable, run_done_cb, NULL);
  g_task_set_source_tag (task, ts_dataset_model_start);
  g_task_set_check_cancellable (task, FALSE); /* a cancelled run still hands back what it finished */
  g_task_set_task_data (task, job, run_job_free);
  g_task_run_in_thread (task, run_thread);
  g_signal_emit (self, signals[PROGRESS], 0);
  return TRUE;
}

void
ts_dataset_model_cancel (TsDatasetModel *self)
{
  g_return_if_fail (TS_IS_DATASET_MODEL (self));
  g_cancellable_cancel (self->cancellable);
}

gboolean ts_dataset_model_get_running (TsDatasetModel *self) { return self->running; }
const char *ts_dataset_model_get_error (TsDatasetModel *self) { return self->error; }
const char *ts_dataset_model_get_out_dir (TsDatasetModel *self) { return self->out_dir; }
double ts_dataset_model_get_threshold (TsDatasetModel *self) { return self->threshold; }
JsonNode *ts_dataset_model_get_summary (TsDatasetModel *self) { return self->summary; }
GListModel *ts_dataset_model_get_rows (TsDatasetModel *self) { return G_LIST_MODEL (self->rows); }

void
ts_dataset_model_get_progress (TsDatasetModel *self, int *done, int *total, int *failed)
{
  *done = self->done;
  *total = self->total;
  *failed = self->failed;
}

void
ts_dataset_model_set_threshold (TsDatasetModel *self, double threshold)
{
  g_return_if_fail (TS_IS_DATASET_MODEL (self));
  threshold = CLAMP (isnan (threshold) ? 0.95 : threshold, 0.0, 1.0);
  if (threshold == self->threshold)
    return;
  self->threshold = threshold;
  if (!self->running)
    summarise (self);
}

const char *const *
ts_dataset_model_get_methods (TsDatasetModel *self)
{
  static const char *const none[] = { NULL };
  return self->methods ? (const char *const *) self->methods : none;
}

const double *
ts_dataset_model_get_ratios (TsDatasetModel *self, guint *n)
{
  *n = self->ratios->len;
  return (const double *) (gpointer) self->ratios->data;
}

char *
ts_dataset_model_dup_recommendation (TsDatasetModel *self)
{
  JsonObject *root;
  JsonArray *methods;
  GString *s;

  if (self->summary == NULL)
    return g_strdup ("");
  root = json_node_get_object (self->summary);
  methods = json_object_get_array_member (root, "methods");
  s = g_string_new (NULL);
  g_string_append_printf (s, "%" G_GINT64_FORMAT " images (%" G_GINT64_FORMAT " failed). Highest ratio whose "
                          "mean SSIM stays at or above %.3g, and the strict one where 9 images in 10 do:",
                          json_object_get_int_member (root, "images"), json_object_get_int_member (root, "failed"),
                          self->threshold);
  for (guint i = 0; i < json_array_get_length (methods); i++)
    {
      JsonObject *m = json_array_get_object_element (methods, i);
      double rec = member_double (m, "recommended_ratio"), strict = member_double (m, "recommended_ratio_p10");
      g_string_append_printf (s, "\n%s: ", json_object_get_string_member (m, "method"));
      if (isnan (rec))
        g_string_append (s, "none reaches it");
      else
        g_string_append_printf (s, "%g×", rec);
      if (!isnan (strict))
        g_string_append_printf (s, " (strict %g×)", strict);
    }
  return g_string_free (s, FALSE);
}

gboolean
ts_dataset_model_export (TsDatasetModel *self, const char *path, GError **error)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);
  g_autofree char *text = NULL;

  if (self->summary == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "%s: run the analysis first", path);
      return FALSE;
    }
  if (g_str_has_suffix (lower, ".json"))
    {
      g_autoptr (JsonGenerator) gen = json_generator_new ();
      json_generator_set_root (gen, self->summary);
      json_generator_set_pretty (gen, TRUE);
      text = json_generator_to_data (gen, NULL);
    }
  else if (g_str_has_suffix (lower, ".csv"))
    text = ts_summary_to_csv (self->summary);
  else
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "%s: the summary is written as .json or .csv", path);
      return FALSE;
    }
  return ts_file_write (path, text, strlen (text), error);
}
