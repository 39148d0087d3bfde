/* dataset and summarize: choosing compression settings for a whole dataset. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ts-plot-render.h"

/* The dataset's curves: mean Q per method and ratio, the p10..p90 band around it. */
static gboolean
save_summary_plot (JsonNode *summary, const char *path, GError **error)
{
  g_autoptr (TsPlot) plot = ts_plot_new_from_summary (summary);
  return ts_plot_save (plot, path, 900, 560, 1.0, error);
}

int
ts_cli_summarize (int argc, char **argv)
{
  g_autofree char *metric = NULL;
  g_autofree char *out = NULL;
  g_autofree char *plot = NULL;
  g_autofree char *plot_path = NULL;
  double threshold = ts_cli_settings ()->threshold;
  int extremes = 5;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (JsonNode) summary = NULL;
  g_autofree char *csv = NULL;
  g_autofree char *json_path = NULL;
  g_autofree char *csv_path = NULL;
  TsSummaryOptions options;
  GOptionEntry entries[] = {
    { "metric", 0, 0, G_OPTION_ARG_STRING, &metric, "Quality for recommendations: ssim (default) or feature", "Q" },
    { "threshold", 't', 0, G_OPTION_ARG_DOUBLE, &threshold, "Quality threshold (default 0.95)", "Q" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Folder for summary.json and summary.csv (default: the first OUT)", "DIR" },
    { "plot", 0, 0, G_OPTION_ARG_FILENAME, &plot,
      "The curves figure (default OUT/summary-curves.svg; .png and .pdf too)", "FILE" },
    { "extremes", 0, 0, G_OPTION_ARG_INT, &extremes, "How many most/least redundant images to list (default 5)", "N" },
    G_OPTION_ENTRY_NULL
  };
  int bad = 0, status;

  context = ts_cli_context ("summarize", "OUT [OUT2 ...]",
                            "Merge the images.jsonl of one or more dataset runs (shards) into summary.json and\n"
                            "summary.csv: per method and ratio the mean, std, p10, p50, p90 of every metric, the\n"
                            "recommended ratio per method (mean Q >= threshold, and the strict p10 Q >= threshold),\n"
                            "the most and least redundant images, and a per-image policy: the least-squares line\n"
                            "log2(optimal ratio) = a + b * bits_per_token. Shards merge exactly: N shards give the\n"
                            "same numbers as one unsharded run.",
                            "Examples:\n"
                            "  tokenscope-cli summarize runs/photos\n"
                            "  tokenscope-cli summarize shard-0 shard-1 shard-2 --out merged --threshold 0.9\n");
  status = ts_cli_parse_args (context, entries, &argc, &argv, 1, -1, "expects at least one dataset output folder");
  if (status != TS_EXIT_OK)
    return status;
  if (!(threshold >= 0 && threshold <= 1))
    return ts_cli_usage ("summarize", "--threshold must be between 0 and 1");

  records = ts_summary_collect ((const char *const *) argv + 1, &bad, &error);
  if (records == NULL)
    return ts_cli_fail (error);
  if (bad > 0)
    fprintf (stderr, "tokenscope-cli: warning: %d torn or invalid line%s skipped\n", bad, bad == 1 ? "" : "s");
  options.metric = metric ? metric : ts_cli_settings ()->metric;
  options.threshold = threshold;
  options.extremes = extremes;
  summary = ts_summary_build (records, &options, &error);
  if (summary == NULL)
    return ts_cli_fail (error);

  if (out == NULL)
    out = g_strdup (argv[1]);
  if (g_mkdir_with_parents (out, 0755) != 0)
    {
      fprintf (stderr, "tokenscope-cli: %s: cannot create the folder\n", out);
      return TS_EXIT_INPUT;
    }
  json_path = g_build_filename (out, "summary.json", NULL);
  csv_path = g_build_filename (out, "summary.csv", NULL);
  csv = ts_summary_to_csv (summary);
  plot_path = plot ? g_strdup (plot) : g_build_filename (out, "summary-curves.svg", NULL);
  if (!ts_cli_write_json (summary, json_path, &error) || !ts_file_write (csv_path, csv, strlen (csv), &error) ||
      !save_summary_plot (summary, plot_path, &error))
    return ts_cli_fail (error);

  {
    JsonObject *root = json_node_get_object (summary);
    JsonArray *methods = json_object_get_array_member (root, "methods");
    printf ("%" G_GINT64_FORMAT " images (%" G_GINT64_FORMAT " failed), %s >= %.3g\n",
            json_object_get_int_member (root, "images"), json_object_get_int_member (root, "failed"),
            json_object_get_string_member (root, "metric"), threshold);
    printf ("%-12s %12s %12s %s\n", "method", "recommended", "strict(p10)", "policy log2(ratio) = a + b*bits");
    for (guint i = 0; i < json_array_get_length (methods); i++)
      {
        JsonObject *m = json_array_get_object_element (methods, i);
        JsonNode *r = json_object_get_member (m, "recommended_ratio");
        JsonNode *r10 = json_object_get_member (m, "recommended_ratio_p10");
        JsonNode *pol = json_object_get_member (m, "policy");
        char a[32] = "none", b[32] = "none", c[96] = "n/a";
        if (!JSON_NODE_HOLDS_NULL (r))
          g_snprintf (a, sizeof a, "%gx", json_node_get_double (r));
        if (!JSON_NODE_HOLDS_NULL (r10))
          g_snprintf (b, sizeof b, "%gx", json_node_get_double (r10));
        if (!JSON_NODE_HOLDS_NULL (pol))
          {
            JsonObject *p = json_node_get_object (pol);
            JsonNode *r2 = json_object_get_member (p, "r2");
            char r2s[32] = "n/a";
            if (!JSON_NODE_HOLDS_NULL (r2))
              g_snprintf (r2s, sizeof r2s, "%.3f", json_node_get_double (r2));
            g_snprintf (c, sizeof c, "a %.3f, b %.3f (R^2 %s, n %" G_GINT64_FORMAT ")",
                        json_object_get_double_member (p, "intercept"), json_object_get_double_member (p, "slope"), r2s,
                        json_object_get_int_member (p, "n"));
          }
        printf ("%-12s %12s %12s %s\n", json_object_get_string_member (m, "method"), a, b, c);
      }
    printf ("wrote %s, %s and %s\n", json_path, csv_path, plot_path);
  }
  return TS_EXIT_OK;
}

/* ---- dataset --------------------------------------------------------------- */

typedef struct {
  TsCliImageOptions io;
  TsCliModelOptions model;
  TsVit *vit;            /* shared by the workers: the forward pass only reads it */
  TsFeatureKind features;
  TsSweepOptions sweep;
  char **methods;        /* NULL-terminated or NULL */
  double ratios[TS_SWEEP_MAX_RATIOS];
  int n_ratios;
  TsEntropyOptions entropy;
  gboolean tty;
  gint64 last_print;
} DatasetJob;

static JsonNode *
analyse_image (const char *path, gpointer data, GCancellable *cancellable, GError **error)
{
  DatasetJob *job = data;
  TsLoadOptions load;
  TsResize resize;
  g_autoptr (TsImage) image = NULL;
  g_autoptr (TsScene) scene = NULL;
  g_autoptr (TsSweep) sweep = NULL;
  g_autoptr (TsEntropy) entropy = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GTimer) timer = g_timer_new ();

  if (!ts_cli_load_options (&job->io, &load, error) || !ts_cli_resize_options (&job->io, &resize, error))
    return NULL;
  if (job->vit != NULL)
    {
      scene = ts_cli_model_scene (job->vit, &job->model, path, &job->io, cancellable, error);
      if (scene == NULL || (image = ts_image_load (path, &load, error)) == NULL)
        return NULL;
    }
  else if ((image = ts_image_load (path, &load, error)) == NULL ||
           (scene = ts_scene_new_resized (image, &resize, job->io.patch, job->features, error)) == NULL)
    return NULL;
  if ((sweep = ts_sweep_run (scene, &job->sweep, cancellable, error)) == NULL ||
      (entropy = ts_entropy_compute (scene, &job->entropy, cancellable, error)) == NULL)
    return NULL;

  json_builder_begin_object (b);
  ts_report_add_dataset_image (b, image->width, image->height, sweep, entropy);
  ts_report_add_double (b, "seconds", g_timer_elapsed (timer, NULL));
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
format_duration (double s, char *buf, gsize len)
{
  if (!isfinite (s) || s < 0)
    g_strlcpy (buf, "--", len);
  else if (s < 60)
    g_snprintf (buf, len, "%.0fs", s);
  else if (s < 3600)
    g_snprintf (buf, len, "%dm%02ds", (int) s / 60, (int) s % 60);
  else
    g_snprintf (buf, len, "%dh%02dm", (int) s / 3600, ((int) s % 3600) / 60);
}

static void
print_progress (const TsDatasetProgress *p, gpointer data)
{
  DatasetJob *job = data;
  double rate = p->elapsed > 0 ? p->done / p->elapsed : 0;
  double eta = rate > 0 ? (p->total - p->done) / rate : NAN;
  char eta_s[32];

  format_duration (eta, eta_s, sizeof eta_s);
  if (job->tty)
    {
      const int width = 30;
      int fill = p->total > 0 ? (int) ((double) width * p->done / p->total) : width;
      gint64 now = g_get_monotonic_time ();
      if (p->done < p->total && now - job->last_print < 100000)
        return; /* 10 redraws a second are plenty */
      job->last_print = now;
      fprintf (stderr, "\r[");
      for (int i = 0; i < width; i++)
        fputc (i < fill ? '#' : '.', stderr);
      fprintf (stderr, "] %d/%d images  %.2f img/s  ETA %s", p->done, p->total, rate, eta_s);
      if (p->failed)
        fprintf (stderr, "  %d failed", p->failed);
      if (p->resumed)
        fprintf (stderr, "  (%d already done)", p->resumed);
      fprintf (stderr, "\033[K");
      if (p->done == p->total)
        fputc ('\n', stderr);
    }
  else if (p->last != NULL)
    fprintf (stderr, "%d/%d %s (%.2f img/s, ETA %s)\n", p->done, p->total, p->last, rate, eta_s);
  fflush (stderr);
}

static gboolean
parse_ratio_list (const char *text, double *ratios, int *n, GError **error)
{
  if (ts_ratio_list_parse (text, ratios, TS_SWEEP_MAX_RATIOS, n, error))
    return TRUE;
  g_prefix_error (error, "--ratios: ");
  return FALSE;
}

int
ts_cli_dataset (int argc, char **argv)
{
  TsSettings *s = ts_cli_settings ();
  DatasetJob job = { 0 };
  g_autofree char *methods = NULL;
  g_autofree char *ratios = NULL;
  g_autofree char *metric = NULL;
  g_autofree char *features = NULL;
  g_autofree char *out = NULL;
  g_autofree char *shard = NULL;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsDatasetList) list = NULL;
  g_auto (GStrv) method_list = NULL;
  double threshold = s->threshold;
  gboolean resume = FALSE;
  int jobs = 1, shard_i = 0, shard_n = 1, k = 0;
  TsDatasetOptions dopt;
  TsDatasetProgress final;
  GOptionEntry entries[] = {
    { "methods", 0, 0, G_OPTION_ARG_STRING, &methods, "Comma-separated methods (default: all)", "LIST" },
    { "ratios", 0, 0, G_OPTION_ARG_STRING, &ratios, "Comma-separated ratios (default 1,2,4,8,16,32)", "LIST" },
    { "metric", 0, 0, G_OPTION_ARG_STRING, &metric, "Quality Q: ssim (default) or feature", "Q" },
    { "threshold", 't', 0, G_OPTION_ARG_DOUBLE, &threshold, "Optimal ratio: the highest with Q >= this (0.95)", "Q" },
    { "features", 0, 0, G_OPTION_ARG_STRING, &features, "Token features: pixel (default) or descriptor", "KIND" },
    { "k", 0, 0, G_OPTION_ARG_INT, &k, "k-means clusters for the token entropy (default 256)", "K" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Images analysed at once (default 1)", "N" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Output folder (default tokenscope-dataset)", "DIR" },
    { "shard", 0, 0, G_OPTION_ARG_STRING, &shard, "Only shard I of N (0-based), e.g. $SLURM_ARRAY_TASK_ID/4", "I/N" },
    { "resume", 0, 0, G_OPTION_ARG_NONE, &resume, "Continue a run: skip images already in OUT/images.jsonl", NULL },
    G_OPTION_ENTRY_NULL
  };
  int status;

  ts_cli_image_options_init (&job.io);
  context = ts_cli_context (
    "dataset", "DIR|LISTFILE",
    "Sweep every image of a dataset (a folder, recursively, or a list file with one path per line):\n"
    "all methods x ratios with SSIM, PSNR, feature retention and efficiency, plus the token entropy.\n"
    "One JSON line per image is appended to OUT/images.jsonl as soon as it finishes, so an\n"
    "interrupted run loses at most the images in flight; --resume continues it. Unreadable images\n"
    "are recorded with their error. Then run 'tokenscope-cli summarize OUT'.",
    "Examples:\n"
    "  tokenscope-cli dataset ~/photos --out runs/photos --jobs 2\n"
    "  tokenscope-cli dataset ~/photos --out runs/photos --resume\n"
    "  tokenscope-cli dataset list.txt --methods pool,tome --ratios 1,4,16 --resize pad --size 336\n"
    "  tokenscope-cli dataset /data/coco --shard $SLURM_ARRAY_TASK_ID/8 --out runs/coco-$SLURM_ARRAY_TASK_ID\n"
    "Exit status: 0 all images analysed, 3 some images failed (see their \"error\"), 2 the run could not\n"
    "proceed, 1 usage error.\n");
  ts_cli_add_image_options (context, &job.io);
  ts_cli_add_model_options (context, &job.model);
  status = ts_cli_parse_args (context, entries, &argc, &argv, 1, 1, "expects one DIR or LISTFILE");

  ts_sweep_options_init (&job.sweep);
  ts_entropy_options_init (&job.entropy);
  job.sweep.params = s->params;
  job.sweep.threshold = threshold;
  job.features = TS_FEATURES_PIXEL;
  if (status != TS_EXIT_OK)
    goto out;
  if (jobs < 1 || jobs > 256)
    status = ts_cli_usage ("dataset", "--jobs must be between 1 and 256");
  else if (k < 0)
    status = ts_cli_usage ("dataset", "--k must be positive");
  else if ((metric && !ts_sweep_metric_parse (metric, &job.sweep.metric, &error)) ||
           (ratios && !parse_ratio_list (ratios, job.ratios, &job.n_ratios, &error)) ||
           (shard && !ts_dataset_parse_shard (shard, &shard_i, &shard_n, &error)) ||
           (features && !ts_feature_kind_parse (features, &job.features, &error)))
    status = ts_cli_fail (error);
  else if (job.features != TS_FEATURES_PIXEL && job.features != TS_FEATURES_DESCRIPTOR)
    status = ts_cli_usage ("dataset", "--features must be pixel or descriptor for a dataset");
  if (status == TS_EXIT_OK && methods)
    {
      method_list = g_strsplit (methods, ",", -1);
      for (int i = 0; method_list[i] && status == TS_EXIT_OK; i++)
        if (ts_method_find (g_strstrip (method_list[i]), &error) == NULL)
          status = ts_cli_fail (error);
      job.sweep.methods = (const char *const *) method_list;
    }
  else if (status == TS_EXIT_OK && s->methods->len > 0)
    {
      method_list = g_new0 (char *, s->methods->len + 1);
      for (guint i = 0; i < s->methods->len; i++)
        method_list[i] = g_strdup (s->methods->pdata[i]);
      job.sweep.methods = (const char *const *) method_list;
    }
  if (status == TS_EXIT_OK && ratios == NULL && s->ratios->len > 0)
    {
      job.n_ratios = (int) MIN (s->ratios->len, TS_SWEEP_MAX_RATIOS);
      memcpy (job.ratios, s->ratios->data, sizeof (double) * job.n_ratios);
    }
  if (status != TS_EXIT_OK)
    goto out;
  job.sweep.ratios = job.ratios;
  job.sweep.n_ratios = job.n_ratios;
  job.sweep.threads = jobs > 1 ? 1 : 0; /* parallel over images, or over points */
  if (jobs > 1)
    openblas_set_num_threads (1); /* each job's SGEMMs in its own thread, not queued on OpenBLAS's lock */
  if (k > 0)
    job.entropy.k = k;
  job.tty = isatty (STDERR_FILENO);
  if (job.model.file != NULL && (job.vit = ts_cli_load_model (&job.model, &error)) == NULL)
    {
      status = ts_cli_fail (error);
      goto out;
    }

  list = ts_dataset_list (argv[1], NULL, &error);
  if (list == NULL || !ts_dataset_list_shard (list, shard_i, shard_n, &error))
    {
      status = ts_cli_fail (error);
      goto out;
    }
  fprintf (stderr, "%u images%s", list->keys->len, shard ? " in this shard" : "");
  if (list->skipped)
    fprintf (stderr, " (%d other files skipped)", list->skipped);
  fprintf (stderr, "\n");

  dopt.out_dir = out ? out : "tokenscope-dataset";
  dopt.jobs = jobs;
  dopt.resume = resume;
  if (!ts_dataset_run (list, &dopt, analyse_image, &job, print_progress, &job, NULL, &final, &error))
    status = ts_cli_fail (error);
  else
    {
      fprintf (stderr, "%d analysed, %d failed, %d already done; results in %s/images.jsonl (%.1f s)\n",
               final.done - final.failed, final.failed, final.resumed, dopt.out_dir, final.elapsed);
      status = final.failed > 0 ? TS_EXIT_PARTIAL : TS_EXIT_OK;
    }
out:
  ts_cli_image_options_clear (&job.io);
  ts_cli_model_options_clear (&job.model);
  g_clear_pointer (&job.vit, ts_vit_free);
  return status;
}
