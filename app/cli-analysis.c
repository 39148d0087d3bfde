/* sweep, entropy, budget, vlm-tokens: the numbers behind decisions (REFERENCE 1, 6, 7, 8). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ts-plot-render.h"

/* ---- Shared ------------------------------------------------------------ */

/* The scene of @path: image options and pixel / descriptor / npy:FILE features,
 * or the tokens of the user's ViT with --model. */
static TsScene *
load_scene (const char *path, const TsCliImageOptions *io, const TsCliModelOptions *mo, const char *features,
            GError **error)
{
  g_autoptr (TsImage) image = NULL;
  g_autoptr (TsFeatures) f = NULL;
  TsFeatureKind kind = TS_FEATURES_PIXEL;
  TsGrid grid;

  if (mo->file != NULL)
    {
      g_autoptr (TsVit) vit = ts_cli_load_model (mo, error);
      return vit ? ts_cli_model_scene (vit, mo, path, io, NULL, error) : NULL;
    }
  if (features != NULL && g_str_has_prefix (features, "npy:"))
    kind = TS_FEATURES_NPY;
  else if (features != NULL && !ts_feature_kind_parse (features, &kind, error))
    return NULL;
  if (kind != TS_FEATURES_PIXEL && kind != TS_FEATURES_DESCRIPTOR && kind != TS_FEATURES_NPY)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "--features must be pixel, descriptor or npy:FILE, not '%s'", features);
      return NULL;
    }
  if ((image = ts_cli_load_image (path, io, &grid, error)) == NULL)
    return NULL;
  if (kind == TS_FEATURES_NPY && (f = ts_features_load_npy (features + 4, &grid, TS_NPY_CLS_AUTO, error)) == NULL)
    return NULL;
  if (kind == TS_FEATURES_DESCRIPTOR && (f = ts_features_descriptor (image, &grid, error)) == NULL)
    return NULL;
  return ts_scene_new (g_steal_pointer (&image), io->patch, kind, g_steal_pointer (&f), error);
}

/* --ratios: "1,2,4" or "1 2 4" -> doubles (each >= 1). */
static GArray *
parse_ratios (const char *text, GError **error)
{
  g_autoptr (GArray) out = g_array_new (FALSE, FALSE, sizeof (double));
  int n;

  g_array_set_size (out, TS_SWEEP_MAX_RATIOS);
  if (!ts_ratio_list_parse (text, (double *) (gpointer) out->data, TS_SWEEP_MAX_RATIOS, &n, error))
    {
      g_prefix_error (error, "--ratios: ");
      return NULL;
    }
  g_array_set_size (out, n);
  return g_steal_pointer (&out);
}

static void
add_int (JsonBuilder *b, const char *key, gint64 v)
{
  json_builder_set_member_name (b, key);
  json_builder_add_int_value (b, v);
}

static void
add_string (JsonBuilder *b, const char *key, const char *v)
{
  json_builder_set_member_name (b, key);
  if (v)
    json_builder_add_string_value (b, v);
  else
    json_builder_add_null_value (b);
}

static void
add_pair (JsonBuilder *b, const char *key, double x, double y)
{
  json_builder_set_member_name (b, key);
  json_builder_begin_array (b);
  if (isfinite (x))
    json_builder_add_double_value (b, x);
  else
    json_builder_add_null_value (b);
  if (isfinite (y))
    json_builder_add_double_value (b, y);
  else
    json_builder_add_null_value (b);
  json_builder_end_array (b);
}

static void
add_bands (JsonBuilder *b)
{
  guint n;
  const TsRatioBand *bands = ts_ratio_bands (&n);

  json_builder_set_member_name (b, "bands");
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++)
    {
      json_builder_begin_object (b);
      add_string (b, "name", bands[i].name);
      add_pair (b, "range", bands[i].lo, bands[i].hi);
      add_string (b, "methods", bands[i].methods);
      add_string (b, "impact", bands[i].impact);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

/* ---- sweep ------------------------------------------------------------- */

static void
progress_cb (int done, int total, const char *method, double ratio, gpointer data)
{
  fprintf (stderr, "\rsweep %3d/%d  %-12s %5gx ", done, total, method, ratio);
  if (done == total)
    fprintf (stderr, "\r%*s\r", 40, "");
  fflush (stderr);
}

static JsonNode *
sweep_json (const char *path, const TsSweep *s)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *name = g_path_get_basename (path);

  json_builder_begin_object (b);
  add_string (b, "image", name);
  ts_report_add_sweep (b, s);
  ts_json_add_double (b, "seconds", s->seconds);
  add_bands (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static char *
sweep_csv (const TsSweep *s)
{
  GString *out = g_string_new ("method,baseline,ratio,tokens,ssim,psnr,feature_retention,efficiency,optimal_ratio\n");

  for (int m = 0; m < s->n_curves; m++)
    for (int i = 0; i < s->curves[m].n_points; i++)
      {
        const TsSweepPoint *p = &s->curves[m].points[i];
        char v[5][G_ASCII_DTOSTR_BUF_SIZE];
        g_ascii_formatd (v[0], sizeof v[0], "%.6f", p->ssim);
        g_ascii_formatd (v[1], sizeof v[1], "%.4f", p->psnr);
        g_ascii_formatd (v[2], sizeof v[2], "%.6f", p->feature_retention);
        g_ascii_formatd (v[3], sizeof v[3], "%.6f", p->efficiency);
        g_ascii_formatd (v[4], sizeof v[4], "%g", s->curves[m].optimal_ratio);
        g_string_append_printf (out, "%s,%d,%g,%d,%s,%s,%s,%s,%s\n", s->curves[m].method, s->curves[m].baseline,
                                p->ratio, p->tokens, isnan (p->ssim) ? "" : v[0],
                                isfinite (p->psnr) ? v[1] : (isinf (p->psnr) ? "inf" : ""),
                                isnan (p->feature_retention) ? "" : v[2], isnan (p->efficiency) ? "" : v[3],
                                s->curves[m].optimal_ratio > 0 ? v[4] : "");
      }
  return g_string_free (out, FALSE);
}

static void
print_sweep (const TsSweep *s)
{
  const TsSweepCurve *c0 = &s->curves[0];

  printf ("%d x %d at patch %d: %d tokens; Q = %s, threshold %.2f; %.2f s\n\n", s->width, s->height, s->patch,
          s->tokens, s->metric == TS_SWEEP_METRIC_FEATURE ? "feature retention" : "SSIM", s->threshold, s->seconds);
  printf ("%-12s", "method");
  for (int i = 0; i < c0->n_points; i++)
    printf (" %7gx", c0->points[i].ratio);
  printf ("   optimal\n");
  for (int m = 0; m < s->n_curves; m++)
    {
      const TsSweepCurve *c = &s->curves[m];
      printf ("%-12s", c->method);
      for (int i = 0; i < c->n_points; i++)
        {
          if (c->points[i].error)
            printf (" %8s", c->points[i].unreachable ? "-" : "error");
          else
            printf (" %8.4f", c->points[i].q);
        }
      if (c->optimal_ratio > 0)
        printf ("   %gx%s\n", c->optimal_ratio, c->baseline ? " (baseline)" : "");
      else
        printf ("   none%s\n", c->baseline ? " (baseline)" : "");
    }
  fflush (stdout);
  for (int m = 0; m < s->n_curves; m++)
    for (int i = 0; i < s->curves[m].n_points; i++)
      if (s->curves[m].points[i].error)
        fprintf (stderr, "tokenscope-cli: %s at %gx %s: %s\n", s->curves[m].method, s->curves[m].points[i].ratio,
                 s->curves[m].points[i].unreachable ? "not reachable" : "failed", s->curves[m].points[i].error);
}

int
ts_cli_sweep (int argc, char **argv)
{
  const TsSettings *settings = ts_cli_settings ();
  TsCliImageOptions io;
  TsCliModelOptions mo = { 0 };
  g_autofree char *methods = NULL, *ratios = NULL, *metric = NULL, *json = NULL, *csv = NULL, *plot = NULL;
  g_autofree char *features = NULL, *plot_size = NULL, *title = NULL;
  double threshold = settings->threshold;
  int threads = 0;
  gboolean quiet = FALSE;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsScene) scene = NULL;
  g_autoptr (TsSweep) sweep = NULL;
  g_autoptr (GArray) ratio_list = NULL;
  g_auto (GStrv) method_list = NULL;
  TsSweepOptions o;
  int status = TS_EXIT_OK;
  GOptionEntry entries[] = {
    { "methods", 'm', 0, G_OPTION_ARG_STRING, &methods, "Comma-separated methods (default: all registered)", "LIST" },
    { "ratios", 'r', 0, G_OPTION_ARG_STRING, &ratios, "Comma-separated ratios (default 1,2,4,8,16,32)", "LIST" },
    { "metric", 0, 0, G_OPTION_ARG_STRING, &metric, "Quality Q: ssim (default) or feature", "METRIC" },
    { "threshold", 't', 0, G_OPTION_ARG_DOUBLE, &threshold, "Optimal ratio: highest with Q >= this (0.95)", "Q" },
    { "features", 'f', 0, G_OPTION_ARG_STRING, &features, "Token features: pixel (default), descriptor, npy:FILE",
      "KIND" },
    { "threads", 'j', 0, G_OPTION_ARG_INT, &threads, "Worker threads (default: all processors)", "N" },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json, "Write JSON to FILE (- for standard output)", "FILE" },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &csv, "Write one CSV row per point to FILE (- for standard output)",
      "FILE" },
    { "plot", 0, 0, G_OPTION_ARG_FILENAME, &plot, "Draw the curves to OUT.svg, OUT.pdf or OUT.png", "OUT" },
    { "plot-size", 0, 0, G_OPTION_ARG_STRING, &plot_size, "Figure size in points (default 900x560)", "WxH" },
    { "title", 0, 0, G_OPTION_ARG_STRING, &title, "Figure title (default: the image name)", "TEXT" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress on standard error", NULL },
    G_OPTION_ENTRY_NULL
  };

  ts_cli_image_options_init (&io);
  context = ts_cli_context (
    "sweep", "IMAGE",
    "Quality versus compression: every method at every ratio, SSIM, PSNR, feature retention,\n"
    "tokens and efficiency CR * Q, with the downsample baseline always included and each\n"
    "method's optimal ratio (the highest whose Q >= threshold, or none).",
    "Examples:\n"
    "  tokenscope-cli sweep photo.jpg\n"
    "  tokenscope-cli sweep photo.jpg --resize square --size 672 --plot curves.svg\n"
    "  tokenscope-cli sweep page.png --methods tome,pool,adaptive --ratios 1,2,4,8,16 --metric feature --json -\n"
    "  tokenscope-cli sweep photo.jpg --threshold 0.9 --csv points.csv --plot curves.png\n"
    "\nJSON: image, width, height, patch, tokens, metric, threshold, seconds, curves [{method, label, baseline,\n"
    "points [{ratio, tokens, ssim, psnr, feature_retention, efficiency}], optimal_ratio}], bands.\n"
    "Ratio 1 is no compression (Q = 1). PSNR of a perfect reconstruction is null (infinite).\n");
  ts_cli_add_image_options (context, &io);
  ts_cli_add_model_options (context, &mo);
  status = ts_cli_parse_args (context, entries, &argc, &argv, 1, 1, "expects exactly one IMAGE");
  if (status != TS_EXIT_OK)
    goto out;
  ts_sweep_options_init (&o);
  o.params = settings->params;
  o.threshold = threshold;
  o.threads = threads;
  if (metric == NULL && settings->metric != NULL)
    metric = g_strdup (settings->metric);
  if (metric != NULL && !ts_sweep_metric_parse (metric, &o.metric, &error))
    {
      status = ts_cli_fail (error);
      goto out;
    }
  if (ratios != NULL)
    {
      if ((ratio_list = parse_ratios (ratios, &error)) == NULL)
        {
          status = ts_cli_fail (error);
          goto out;
        }
    }
  else if (settings->ratios != NULL && settings->ratios->len > 0)
    ratio_list = g_array_ref (settings->ratios);
  if (ratio_list != NULL)
    {
      o.ratios = (const double *) (void *) ratio_list->data;
      o.n_ratios = ratio_list->len;
    }
  if (methods != NULL)
    {
      method_list = g_strsplit_set (methods, ", ", -1);
      {
        int w = 0;
        for (int i = 0; method_list[i] != NULL; i++)
          if (*method_list[i] != '\0')
            method_list[w++] = method_list[i];
          else
            g_free (method_list[i]);
        method_list[w] = NULL;
      }
      o.methods = (const char *const *) method_list;
    }
  else if (settings->methods != NULL && settings->methods->len > 0)
    {
      method_list = g_new0 (char *, settings->methods->len + 1);
      for (guint i = 0; i < settings->methods->len; i++)
        method_list[i] = g_strdup (g_ptr_array_index (settings->methods, i));
      o.methods = (const char *const *) method_list;
    }
  if (!quiet && isatty (STDERR_FILENO))
    o.progress = progress_cb;
  if ((scene = load_scene (argv[1], &io, &mo, features, &error)) == NULL ||
      (sweep = ts_sweep_run (scene, &o, NULL, &error)) == NULL)
    {
      status = ts_cli_fail (error);
      goto out;
    }
  if (json != NULL)
    {
      g_autoptr (JsonNode) root = sweep_json (argv[1], sweep);
      if (!ts_cli_write_json (root, json, &error))
        {
          status = ts_cli_fail (error);
          goto out;
        }
    }
  if (csv != NULL)
    {
      g_autofree char *text = sweep_csv (sweep);
      if (strcmp (csv, "-") == 0)
        fputs (text, stdout);
      else if (!ts_file_write (csv, text, strlen (text), &error))
        {
          status = ts_cli_fail (error);
          goto out;
        }
    }
  if (plot != NULL)
    {
      g_autoptr (TsPlot) p = ts_plot_new_from_sweep (sweep);
      g_autofree char *name = g_path_get_basename (argv[1]);
      g_autofree char *auto_title = NULL;
      int w = 900, h = 560;
      if (plot_size != NULL && !ts_vlm_parse_size (plot_size, &w, &h, &error))
        {
          status = ts_cli_fail (error);
          goto out;
        }
      auto_title = g_strdup_printf ("%s: %d x %d, patch %d, %d tokens", name, sweep->width, sweep->height,
                                    sweep->patch, sweep->tokens);
      ts_plot_set_title (p, title ? title : auto_title);
      if (!ts_plot_save (p, plot, w, h, 2.0, &error))
        {
          status = ts_cli_fail (error);
          goto out;
        }
    }
  if ((json == NULL || strcmp (json, "-") != 0) && (csv == NULL || strcmp (csv, "-") != 0))
    print_sweep (sweep);
  /* Unreachable targets (a preset's smallest mode) are reported, not failures. */
  for (int m = 0; m < sweep->n_curves; m++)
    for (int i = 0; i < sweep->curves[m].n_points; i++)
      if (sweep->curves[m].points[i].error && !sweep->curves[m].points[i].unreachable)
        status = TS_EXIT_PARTIAL;
out:
  ts_cli_image_options_clear (&io);
  ts_cli_model_options_clear (&mo);
  return status;
}

/* ---- entropy ----------------------------------------------------------- */

int
ts_cli_entropy (int argc, char **argv)
{
  TsCliImageOptions io;
  TsCliModelOptions mo = { 0 };
  TsEntropyOptions eo;
  g_autofree char *json = NULL, *features = NULL;
  gint64 seed = 0;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsScene) scene = NULL;
  g_autoptr (TsEntropy) e = NULL;
  int status = TS_EXIT_OK;
  GOptionEntry entries[] = {
    { "k", 'k', 0, G_OPTION_ARG_INT, &eo.k, "Clusters (default 256; min(k, tokens) are used)", "K" },
    { "iterations", 0, 0, G_OPTION_ARG_INT, &eo.iterations, "Lloyd iterations (default 20)", "N" },
    { "region", 0, 0, G_OPTION_ARG_INT, &eo.region, "Tokens per side of a map region (default 4)", "R" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "k-means++ seed (default 0)", "S" },
    { "features", 'f', 0, G_OPTION_ARG_STRING, &features, "Token features: pixel (default), descriptor, npy:FILE",
      "KIND" },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json, "Write JSON to FILE (- for standard output)", "FILE" },
    G_OPTION_ENTRY_NULL
  };

  ts_entropy_options_init (&eo);
  ts_cli_image_options_init (&io);
  context = ts_cli_context (
    "entropy", "IMAGE",
    "Token redundancy: k-means entropy H in bits per token, effective unique tokens 2^H,\n"
    "redundancy ratio N / 2^H and the ratio range the seed's reading suggests\n"
    "(7-8 bits low redundancy 1-2x; 4-6 bits 2-4x; 1-3 bits 8-16x).",
    "Examples:\n"
    "  tokenscope-cli entropy photo.jpg\n"
    "  tokenscope-cli entropy photo.jpg --resize square --size 336 --k 64 --json -\n"
    "\nJSON: bits_per_token, clusters, effective_tokens, redundancy_ratio, suggested_ratio [lo, hi],\n"
    "tokens, k, reading, map {region, rows, cols, bits [rows * cols, raster order]}.\n");
  ts_cli_add_image_options (context, &io);
  ts_cli_add_model_options (context, &mo);
  status = ts_cli_parse_args (context, entries, &argc, &argv, 1, 1, "expects exactly one IMAGE");
  if (status != TS_EXIT_OK)
    goto out;
  eo.seed = (guint64) seed;
  if ((scene = load_scene (argv[1], &io, &mo, features, &error)) == NULL ||
      (e = ts_entropy_compute (scene, &eo, NULL, &error)) == NULL)
    {
      status = ts_cli_fail (error);
      goto out;
    }
  if (json != NULL)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      g_autofree char *name = g_path_get_basename (argv[1]);
      json_builder_begin_object (b);
      add_string (b, "image", name);
      add_int (b, "tokens", e->n);
      add_int (b, "k", e->k);
      ts_report_add_entropy (b, e);
      json_builder_set_member_name (b, "map");
      json_builder_begin_object (b);
      add_int (b, "region", e->region);
      add_int (b, "rows", e->map_rows);
      add_int (b, "cols", e->map_cols);
      json_builder_set_member_name (b, "bits");
      json_builder_begin_array (b);
      for (int i = 0; i < e->map_rows * e->map_cols; i++)
        json_builder_add_double_value (b, e->map[i]);
      json_builder_end_array (b);
      json_builder_end_object (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      if (!ts_cli_write_json (root, json, &error))
        {
          status = ts_cli_fail (error);
          goto out;
        }
    }
  if (json == NULL || strcmp (json, "-") != 0)
    printf ("tokens            %d\nclusters          %d of k %d\nbits per token    %.3f\n"
            "effective tokens  %.1f\nredundancy ratio  %.2f\nsuggested ratio   %g-%gx (%s)\n",
            e->n, e->clusters, e->k, e->bits_per_token, e->effective_tokens, e->redundancy_ratio, e->suggested_lo,
            e->suggested_hi, e->reading);
out:
  ts_cli_image_options_clear (&io);
  ts_cli_model_options_clear (&mo);
  return status;
}

/* ---- budget ------------------------------------------------------------ */

static void
option_json (JsonBuilder *b, const TsBudgetOption *o, const TsLlmPreset *llm)
{
  char letter[2] = { o->letter, 0 };

  json_builder_begin_object (b);
  add_string (b, "option", letter);
  add_string (b, "name", o->name);
  json_builder_set_member_name (b, "available");
  json_builder_add_boolean_value (b, o->available);
  add_string (b, "method", o->method);
  if (o->available)
    {
      add_int (b, "tokens", o->tokens);
      add_pair (b, "size", o->width, o->height);
      ts_json_add_double (b, "factor", o->factor);
      ts_json_add_double (b, "ssim", o->ssim);
      ts_json_add_double (b, "psnr", o->psnr);
      ts_json_add_double (b, "feature_retention", o->feature_retention);
      ts_json_add_double (b, "kv_cache_bytes", ts_kv_cache_bytes (llm, o->tokens));
    }
  add_string (b, "note", o->note);
  json_builder_end_object (b);
}

int
ts_cli_budget (int argc, char **argv)
{
  const TsSettings *settings = ts_cli_settings ();
  TsCliImageOptions io;
  TsCliModelOptions mo = { 0 };
  int context_limit = 0, text = -1, layers = 0, kv_heads = 0, head_dim = 0, bytes = 0, max_tokens = 0;
  int vit_layers = 0, vit_width = 0, vit_mlp = 0;
  double complexity = NAN;
  g_autofree char *llm_name = NULL, *vit_name = NULL, *method = NULL, *task = NULL, *json = NULL, *features = NULL;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsScene) scene = NULL;
  g_autoptr (TsBudgetFixed) f = NULL;
  const TsTaskPreset *preset = NULL;
  TsLlmPreset llm;
  TsVitPreset vit;
  int dynamic = -1, status = TS_EXIT_OK, factor;
  GArray *rows = NULL;
  GOptionEntry entries[] = {
    { "context", 'c', 0, G_OPTION_ARG_INT, &context_limit, "LLM context limit in tokens (required)", "C" },
    { "text", 't', 0, G_OPTION_ARG_INT, &text, "Tokens reserved for text (required)", "T" },
    { "complexity", 0, 0, G_OPTION_ARG_DOUBLE, &complexity, "Query complexity 0..1 for the dynamic budget", "c" },
    { "max-tokens", 0, 0, G_OPTION_ARG_INT, &max_tokens, "Dynamic budget maximum (default: the image's tokens)",
      "N" },
    { "method", 'm', 0, G_OPTION_ARG_STRING, &method, "Method for option B (default tome)", "NAME" },
    { "llm", 0, 0, G_OPTION_ARG_STRING, &llm_name, "Language model preset for KV cache (default llama-2-7b)",
      "PRESET" },
    { "layers", 0, 0, G_OPTION_ARG_INT, &layers, "Override the LLM's layers", "N" },
    { "kv-heads", 0, 0, G_OPTION_ARG_INT, &kv_heads, "Override the LLM's key/value heads", "N" },
    { "head-dim", 0, 0, G_OPTION_ARG_INT, &head_dim, "Override the LLM's head dimension", "N" },
    { "bytes", 0, 0, G_OPTION_ARG_INT, &bytes, "Override bytes per cached value (2 fp16, 1 int8)", "N" },
    { "vit", 0, 0, G_OPTION_ARG_STRING, &vit_name, "Encoder preset for FLOPs (default vit-l/14-336)", "PRESET" },
    { "vit-layers", 0, 0, G_OPTION_ARG_INT, &vit_layers, "Override the encoder's layers", "N" },
    { "vit-width", 0, 0, G_OPTION_ARG_INT, &vit_width, "Override the encoder's width D", "D" },
    { "vit-mlp", 0, 0, G_OPTION_ARG_INT, &vit_mlp, "Override the encoder's MLP width", "M" },
    { "task", 0, 0, G_OPTION_ARG_STRING, &task, "Task guidance: document, vqa, scene or chart", "TASK" },
    { "features", 'f', 0, G_OPTION_ARG_STRING, &features, "Token features: pixel (default), descriptor, npy:FILE",
      "KIND" },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json, "Write JSON to FILE (- for standard output)", "FILE" },
    G_OPTION_ENTRY_NULL
  };

  ts_cli_image_options_init (&io);
  context = ts_cli_context (
    "budget", "IMAGE --context C --text T",
    "Token budgets for IMAGE: the visual budget C - T and its three options (A downsample,\n"
    "B compress by ceil(N / budget), C adaptive patching), each with tokens and quality; the\n"
    "dynamic budget min + c (max - min), min = max // 4; KV-cache bytes of the visual tokens;\n"
    "encoder FLOPs and FLOPs per output token for every method (multiply-add = 2 FLOPs).",
    "Examples:\n"
    "  tokenscope-cli budget photo.jpg --resize square --size 672 --context 2048 --text 1500\n"
    "  tokenscope-cli budget photo.jpg --context 4096 --text 1000 --complexity 0.2 --llm qwen2-7b --json -\n"
    "  tokenscope-cli budget page.png --context 8192 --text 2000 --task document --vit siglip-so400m\n");
  ts_cli_add_image_options (context, &io);
  ts_cli_add_model_options (context, &mo);
  status = ts_cli_parse_args (context, entries, &argc, &argv, 1, 1, "expects exactly one IMAGE");
  if (status != TS_EXIT_OK)
    goto out;
  if (context_limit <= 0 || text < 0)
    {
      status = ts_cli_usage ("budget", "needs --context C and --text T");
      goto out;
    }
  if (!ts_llm_preset_find (llm_name ? llm_name : "llama-2-7b", &llm, &error) ||
      !ts_vit_preset_find (vit_name ? vit_name : "vit-l/14-336", &vit, &error) ||
      (task != NULL && (preset = ts_task_preset_find (task, &error)) == NULL))
    {
      status = ts_cli_fail (error);
      goto out;
    }
  if (layers < 0 || kv_heads < 0 || head_dim < 0 || bytes < 0 || vit_layers < 0 || vit_width < 0 || vit_mlp < 0)
    {
      status = ts_cli_usage ("budget", "model overrides must be positive");
      goto out;
    }
  llm.layers = layers ? layers : llm.layers;
  llm.kv_heads = kv_heads ? kv_heads : llm.kv_heads;
  llm.head_dim = head_dim ? head_dim : llm.head_dim;
  llm.bytes_per_value = bytes ? bytes : llm.bytes_per_value;
  vit.layers = vit_layers ? vit_layers : vit.layers;
  vit.width = vit_width ? vit_width : vit.width;
  vit.mlp_dim = vit_mlp ? vit_mlp : (vit_width ? 4 * vit_width : vit.mlp_dim);
  if ((scene = load_scene (argv[1], &io, &mo, features, &error)) == NULL ||
      (f = ts_budget_fixed (scene, context_limit, text, method, &settings->params, NULL, &error)) == NULL)
    {
      status = ts_cli_fail (error);
      goto out;
    }
  if (!isnan (complexity) &&
      (dynamic = ts_budget_dynamic (max_tokens > 0 ? max_tokens : f->tokens, complexity, &error)) < 0)
    {
      status = ts_cli_fail (error);
      goto out;
    }

  /* FLOPs per output token for every registered method at option B's factor, plus the references. */
  factor = ts_budget_compress_factor (f->tokens, f->budget, NULL);
  factor = MAX (factor, 2);
  rows = g_array_new (FALSE, TRUE, sizeof (TsFlopsRow));
  {
    guint n;
    const TsMethod *const *all = ts_methods (&n);
    int out_tokens = MAX (1, (f->tokens + factor - 1) / factor);
    TsFlopsRow r;
    if (ts_flops_per_token (&vit, "none", NULL, f->tokens, f->tokens, &r, NULL))
      g_array_append_val (rows, r);
    for (guint i = 0; i < n; i++)
      if (ts_flops_per_token (&vit, all[i]->name, &settings->params, f->tokens, out_tokens, &r, NULL))
        g_array_append_val (rows, r);
    if (ts_flops_per_token (&vit, "qformer", NULL, f->tokens, MIN (32, f->tokens), &r, NULL))
      g_array_append_val (rows, r);
  }

  if (json != NULL)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      g_autofree char *name = g_path_get_basename (argv[1]);
      guint nt;
      const TsTaskPreset *tasks = ts_task_presets (&nt);

      json_builder_begin_object (b);
      add_string (b, "image", name);
      add_int (b, "tokens", f->tokens);
      add_int (b, "context", f->context);
      add_int (b, "text", f->text);
      add_int (b, "budget", f->budget);
      json_builder_set_member_name (b, "options");
      json_builder_begin_array (b);
      for (int i = 0; i < 3; i++)
        option_json (b, &f->options[i], &llm);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "dynamic");
      if (dynamic >= 0)
        {
          json_builder_begin_object (b);
          ts_json_add_double (b, "complexity", complexity);
          add_int (b, "max", max_tokens > 0 ? max_tokens : f->tokens);
          add_int (b, "min", (max_tokens > 0 ? max_tokens : f->tokens) / 4);
          add_int (b, "budget", dynamic);
          json_builder_end_object (b);
        }
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "llm");
      json_builder_begin_object (b);
      add_string (b, "name", llm.name);
      add_int (b, "layers", llm.layers);
      add_int (b, "kv_heads", llm.kv_heads);
      add_int (b, "head_dim", llm.head_dim);
      add_int (b, "bytes_per_value", llm.bytes_per_value);
      ts_json_add_double (b, "kv_cache_bytes_full", ts_kv_cache_bytes (&llm, f->tokens));
      ts_json_add_double (b, "kv_cache_bytes_budget", ts_kv_cache_bytes (&llm, MIN (f->budget, f->tokens)));
      json_builder_end_object (b);
      json_builder_set_member_name (b, "encoder");
      json_builder_begin_object (b);
      add_string (b, "name", vit.name);
      add_int (b, "layers", vit.layers);
      add_int (b, "width", vit.width);
      add_int (b, "mlp_dim", vit.mlp_dim);
      ts_json_add_double (b, "flops", ts_vit_flops (&vit, f->tokens));
      add_string (b, "unit", "FLOPs (multiply-add = 2)");
      json_builder_end_object (b);
      json_builder_set_member_name (b, "flops_per_token");
      json_builder_begin_array (b);
      for (guint i = 0; i < rows->len; i++)
        {
          const TsFlopsRow *r = &g_array_index (rows, TsFlopsRow, i);
          json_builder_begin_object (b);
          add_string (b, "method", r->method);
          add_int (b, "tokens_out", r->tokens_out);
          ts_json_add_double (b, "encoder_flops", r->encoder_flops);
          ts_json_add_double (b, "method_flops", r->method_flops);
          ts_json_add_double (b, "flops_per_token", r->flops_per_token);
          ts_json_add_double (b, "relative", r->relative);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "tasks");
      json_builder_begin_array (b);
      for (guint i = 0; i < nt; i++)
        {
          if (preset != NULL && preset != &tasks[i])
            continue;
          json_builder_begin_object (b);
          add_string (b, "name", tasks[i].name);
          add_string (b, "label", tasks[i].label);
          add_string (b, "methods", tasks[i].methods);
          add_pair (b, "ratio", tasks[i].ratio_lo, tasks[i].ratio_hi);
          add_string (b, "rationale", tasks[i].rationale);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      add_bands (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      if (!ts_cli_write_json (root, json, &error))
        {
          status = ts_cli_fail (error);
          goto out;
        }
    }
  if (json == NULL || strcmp (json, "-") != 0)
    {
      printf ("image: %d x %d at patch %d, %d tokens; visual budget %d - %d = %d\n\n", scene->grid.width,
              scene->grid.height, scene->grid.patch, f->tokens, f->context, f->text, f->budget);
      for (int i = 0; i < 3; i++)
        {
          const TsBudgetOption *o = &f->options[i];
          if (!o->available)
            printf ("%c %-10s  unavailable: %s\n", o->letter, o->name, o->note);
          else
            printf ("%c %-10s  %5d tokens  SSIM %.4f  PSNR %5.2f dB  KV %7.1f MB  %s\n", o->letter, o->name,
                    o->tokens, o->ssim, o->psnr, ts_kv_cache_bytes (&llm, o->tokens) / 1e6, o->note);
        }
      if (dynamic >= 0)
        printf ("\ndynamic budget: complexity %.2f of max %d -> %d tokens\n", complexity,
                max_tokens > 0 ? max_tokens : f->tokens, dynamic);
      printf ("\nKV cache (%s: %d layers x %d kv heads x %d x %d B): %.1f MB for all %d tokens\n", llm.name,
              llm.layers, llm.kv_heads, llm.head_dim, llm.bytes_per_value, ts_kv_cache_bytes (&llm, f->tokens) / 1e6,
              f->tokens);
      printf ("\nencoder %s: %.1f GFLOP for %d patches (multiply-add = 2 FLOPs)\n", vit.name,
              ts_vit_flops (&vit, f->tokens) / 1e9, f->tokens);
      printf ("%-12s %7s %12s %12s %14s %9s\n", "method", "tokens", "encoder GF", "method GF", "MFLOP/token",
              "relative");
      for (guint i = 0; i < rows->len; i++)
        {
          const TsFlopsRow *r = &g_array_index (rows, TsFlopsRow, i);
          printf ("%-12s %7d %12.2f %12.4f %14.1f %8.1fx\n", r->method, r->tokens_out, r->encoder_flops / 1e9,
                  r->method_flops / 1e9, r->flops_per_token / 1e6, r->relative);
        }
      if (preset != NULL)
        printf ("\ntask %s: try %s at %g-%gx (%s)\n", preset->label, preset->methods, preset->ratio_lo,
                preset->ratio_hi, preset->rationale);
    }
out:
  if (rows != NULL)
    {
      for (guint i = 0; i < rows->len; i++)
        ts_flops_row_clear (&g_array_index (rows, TsFlopsRow, i));
      g_array_unref (rows);
    }
  ts_cli_image_options_clear (&io);
  ts_cli_model_options_clear (&mo);
  return status;
}

/* ---- vlm-tokens -------------------------------------------------------- */

int
ts_cli_vlm_tokens (int argc, char **argv)
{
  g_autofree char *model = NULL, *json = NULL;
  int vit_size = 224, vit_patch = 16;
  gboolean vit_cls = FALSE;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  TsVlmGeneric generic;
  TsVlmModel only = TS_VLM_N_MODELS;
  int w, h, status;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &model, "One model, or all (default)", "NAME" },
    { "vit-size", 0, 0, G_OPTION_ARG_INT, &vit_size, "Generic ViT: square input size (default 224)", "S" },
    { "vit-patch", 0, 0, G_OPTION_ARG_INT, &vit_patch, "Generic ViT: patch size (default 16)", "P" },
    { "vit-cls", 0, 0, G_OPTION_ARG_NONE, &vit_cls, "Generic ViT: count a CLS token", NULL },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json, "Write JSON to FILE (- for standard output)", "FILE" },
    G_OPTION_ENTRY_NULL
  };

  context = ts_cli_context (
    "vlm-tokens", "(IMAGE | WxH)",
    "Visual tokens popular VLMs spend on an image of this size, with the resized canvas or tile\n"
    "grid each rule implies. Claude's count is Anthropic's published approximation.",
    "Models: llava-1.5, llava-next, qwen2-vl (processor defaults), qwen2-vl-config (model config),\n"
    "internvl2.5, deepseek-ocr-{tiny,small,base,large,gundam}, gpt-4o-high, gpt-4o-low, claude, vit.\n\n"
    "Examples:\n"
    "  tokenscope-cli vlm-tokens 1024x768\n"
    "  tokenscope-cli vlm-tokens photo.jpg --model qwen2-vl --json -\n"
    "  tokenscope-cli vlm-tokens 1920x1080 --model vit --vit-size 384 --vit-patch 14\n"
    "\nJSON: width, height, models [{name, label, tokens, resized [w, h], content [w, h], tiles,\n"
    "tile_grid [cols, rows], tile_size [w, h], extra_views, approximate, note}].\n");
  if ((status = ts_cli_parse_args (context, entries, &argc, &argv, 1, 1, "expects one IMAGE or a size WxH")) != TS_EXIT_OK)
    return status;
  if (model != NULL && g_ascii_strcasecmp (model, "all") != 0 && !ts_vlm_model_parse (model, &only, &error))
    return ts_cli_fail (error);
  if (!g_file_test (argv[1], G_FILE_TEST_EXISTS) && g_ascii_isdigit (argv[1][0]))
    {
      if (!ts_vlm_parse_size (argv[1], &w, &h, &error))
        return ts_cli_fail (error);
    }
  else
    {
      g_autoptr (TsImage) image = ts_image_load (argv[1], NULL, &error);
      if (image == NULL)
        return ts_cli_fail (error);
      w = image->width;
      h = image->height;
    }
  ts_vlm_generic_init (&generic);
  generic.resize.size = vit_size;
  generic.patch = vit_patch;
  generic.cls = vit_cls;

  b = json_builder_new ();
  json_builder_begin_object (b);
  add_int (b, "width", w);
  add_int (b, "height", h);
  json_builder_set_member_name (b, "models");
  json_builder_begin_array (b);
  if (json == NULL || strcmp (json, "-") != 0)
    printf ("%d x %d image\n\n%-40s %7s  %-11s %-9s\n", w, h, "model", "tokens", "canvas", "tiles");
  for (int m = 0; m < TS_VLM_N_MODELS; m++)
    {
      TsVlmCount c;
      if (only != TS_VLM_N_MODELS && m != (int) only)
        continue;
      if (!ts_vlm_count ((TsVlmModel) m, w, h, &generic, &c, &error))
        {
          if (only != TS_VLM_N_MODELS || !g_error_matches (error, TS_ERROR, TS_ERROR_UNSUPPORTED))
            return ts_cli_fail (error);
          fprintf (stderr, "tokenscope-cli: %s: %s\n", ts_vlm_model_name ((TsVlmModel) m), error->message);
          g_clear_error (&error);
          continue;
        }
      json_builder_begin_object (b);
      add_string (b, "name", c.name);
      add_string (b, "label", c.label);
      add_int (b, "tokens", c.tokens);
      add_pair (b, "resized", c.resized_width, c.resized_height);
      add_pair (b, "content", c.content_width, c.content_height);
      add_int (b, "tiles", c.tile_cols * c.tile_rows);
      add_pair (b, "tile_grid", c.tile_cols, c.tile_rows);
      add_pair (b, "tile_size", c.tile_width, c.tile_height);
      add_int (b, "extra_views", c.extra_views);
      json_builder_set_member_name (b, "approximate");
      json_builder_add_boolean_value (b, c.approximate);
      add_string (b, "note", c.note);
      json_builder_end_object (b);
      if (json == NULL || strcmp (json, "-") != 0)
        {
          char canvas[32], tiles[32] = "";
          g_snprintf (canvas, sizeof canvas, "%dx%d", c.resized_width, c.resized_height);
          if (c.tile_cols > 0)
            g_snprintf (tiles, sizeof tiles, "%dx%d%s", c.tile_cols, c.tile_rows, c.extra_views ? " +1" : "");
          printf ("%-40s %7d  %-11s %-9s\n", c.label, c.tokens, canvas, tiles);
        }
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  if (json != NULL)
    {
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      if (!ts_cli_write_json (root, json, &error))
        return ts_cli_fail (error);
    }
  return TS_EXIT_OK;
}
