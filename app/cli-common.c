#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static TsSettings settings;
static gboolean settings_ready;

TsSettings *
ts_cli_settings (void)
{
  if (!settings_ready)
    {
      ts_settings_init (&settings);
      settings_ready = TRUE;
    }
  return &settings;
}

gboolean
ts_cli_take_settings (int *argc, char **argv, GError **error)
{
  const char *file = NULL;
  int out = 0;

  for (int i = 0; i < *argc; i++)
    {
      if (strcmp (argv[i], "--settings") == 0 && i + 1 < *argc)
        file = argv[++i];
      else if (g_str_has_prefix (argv[i], "--settings="))
        file = argv[i] + strlen ("--settings=");
      else if (strcmp (argv[i], "--settings") == 0)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "--settings needs a FILE");
          return FALSE;
        }
      else
        argv[out++] = argv[i];
    }
  argv[out] = NULL;
  *argc = out;
  if (file != NULL)
    {
      g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
      if (!ts_settings_load (ts_cli_settings (), file, warnings, error))
        return FALSE;
      for (guint i = 0; i < warnings->len; i++)
        fprintf (stderr, "tokenscope-cli: warning: %s\n", (char *) warnings->pdata[i]);
    }
  return TRUE;
}

static gboolean
parse_enum_option (const char *name, const char *value, gpointer data, GError **error)
{
  TsSettings *s = data;
  TsMethodParams *p = &s->params;

  if (strcmp (name, "--method") == 0)
    {
      if (ts_method_find (value, error) == NULL)
        return FALSE;
      g_free (s->method);
      s->method = g_strdup (value);
      return TRUE;
    }
  if (strcmp (name, "--pool-mode") == 0)
    return ts_pool_mode_parse (value, &p->pool_mode, error);
  if (strcmp (name, "--detail") == 0)
    return ts_detail_parse (value, &p->detail, error);
  if (strcmp (name, "--fill") == 0)
    return ts_drop_fill_parse (value, &p->fill, error);
  if (strcmp (name, "--seed") == 0)
    return g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT64, &p->seed, error);
  if (strcmp (name, "--tokens") == 0)
    {
      guint64 v;
      if (!g_ascii_string_to_unsigned (value, 10, 1, G_MAXINT / 4, &v, error))
        return FALSE;
      p->tokens = (int) v;
      return TRUE;
    }
  if (strcmp (name, "--ratio") == 0)
    {
      char *end;
      double v = g_ascii_strtod (value, &end);
      if (*end != '\0' || !(v >= 1.0 && v <= 1e6))
        {
          g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "--ratio must be a number >= 1, not '%s'", value);
          return FALSE;
        }
      p->ratio = v;
      p->tokens = 0;
      return TRUE;
    }
  g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "unexpected option %s", name);
  return FALSE;
}

void
ts_cli_add_method_options (GOptionContext *context, TsSettings *s)
{
  TsMethodParams *p = &s->params;
  GOptionEntry entries[] = {
    { "method", 'm', 0, G_OPTION_ARG_CALLBACK, parse_enum_option, "Compression method (see 'compress --help')", "NAME" },
    { "tokens", 'n', 0, G_OPTION_ARG_CALLBACK, parse_enum_option, "Target token count", "N" },
    { "ratio", 'r', 0, G_OPTION_ARG_CALLBACK, parse_enum_option, "Target compression ratio N_in / N_out (default 4)", "R" },
    { "pool-mode", 0, 0, G_OPTION_ARG_CALLBACK, parse_enum_option, "pool: avg (default) or max", "MODE" },
    { "protected", 0, 0, G_OPTION_ARG_INT, &p->n_protected, "tome/greedy: never merge away the first N tokens", "N" },
    { "adjacent-only", 0, 0, G_OPTION_ARG_NONE, &p->adjacent_only, "greedy: merge only spatially adjacent groups", NULL },
    { "tome-r", 0, 0, G_OPTION_ARG_INT, &p->tome_r, "tome: tokens removed per step (default: the schedule)", "R" },
    { "dominant", 0, 0, G_OPTION_ARG_DOUBLE, &p->dominant_fraction, "visionzip: dominant share of the budget (0.85)", "F" },
    { "rounds", 0, 0, G_OPTION_ARG_INT, &p->rounds, "resample: attention rounds (default 3)", "N" },
    { "tau", 0, 0, G_OPTION_ARG_DOUBLE, &p->tau, "attention temperature (default 0.1)", "T" },
    { "detail", 0, 0, G_OPTION_ARG_CALLBACK, parse_enum_option, "adaptive: blur (default), entropy or gradient", "SCORE" },
    { "entropy-threshold", 0, 0, G_OPTION_ARG_DOUBLE, &p->entropy_threshold,
      "adaptive: split while entropy exceeds this many bits (threshold mode)", "BITS" },
    { "fill", 0, 0, G_OPTION_ARG_CALLBACK, parse_enum_option, "dropped patches: grey (default: no information) or nearest (copy the nearest kept patch)", "FILL" },
    { "seed", 0, 0, G_OPTION_ARG_CALLBACK, parse_enum_option, "seed for anything random (default 0)", "SEED" },
    G_OPTION_ENTRY_NULL
  };
  GOptionGroup *group = g_option_group_new ("method", "Method options:", "Show method options", s, NULL);

  g_option_group_add_entries (group, entries);
  g_option_context_add_group (context, group);
}

void
ts_cli_image_options_init (TsCliImageOptions *o)
{
  const TsSettings *s = ts_cli_settings ();

  memset (o, 0, sizeof *o);
  o->patch = s->patch;
  o->size = s->resize.size;
  /* o->resize stays NULL (= the settings' policy): GOption does not free a
   * default string it replaces, so an allocated default would leak */
  o->max_megapixels = TS_DEFAULT_MAX_PIXELS / 1e6;
  o->max_frames = TS_DEFAULT_MAX_FRAMES;
}

void
ts_cli_image_options_clear (TsCliImageOptions *o)
{
  g_clear_pointer (&o->resize, g_free);
  g_clear_pointer (&o->alpha, g_free);
}

void
ts_cli_add_image_options (GOptionContext *context, TsCliImageOptions *o)
{
  GOptionEntry entries[] = {
    { "resize", 0, 0, G_OPTION_ARG_STRING, &o->resize,
      "Resize policy: native (default; crop to a multiple of the patch), fit, square, pad", "POLICY" },
    { "size", 0, 0, G_OPTION_ARG_INT, &o->size, "Target size S for fit/square/pad (default 336)", "S" },
    { "patch", 'p', 0, G_OPTION_ARG_INT, &o->patch, "Patch size in pixels, 2..64 (default 14)", "P" },
    { "max-megapixels", 0, 0, G_OPTION_ARG_DOUBLE, &o->max_megapixels,
      "Refuse images (or all frames of an animation together) larger than this (default 200)", "MP" },
    { "max-frames", 0, 0, G_OPTION_ARG_INT, &o->max_frames,
      "Refuse animations and frame folders with more frames than this (default 2000)", "N" },
    { "alpha", 0, 0, G_OPTION_ARG_STRING, &o->alpha,
      "Composite transparency over white (default) or checker", "BG" },
    G_OPTION_ENTRY_NULL
  };
  GOptionGroup *group = g_option_group_new ("image", "Image options:", "Show image options", NULL, NULL);

  g_option_group_add_entries (group, entries);
  g_option_context_add_group (context, group);
}

gboolean
ts_cli_load_options (const TsCliImageOptions *o, TsLoadOptions *load, GError **error)
{
  memset (load, 0, sizeof *load);
  if (!(o->max_megapixels > 0) || o->max_megapixels > 1e6)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "--max-megapixels must be between 0 and 1000000, not %g", o->max_megapixels);
      return FALSE;
    }
  load->max_pixels = MAX ((guint64) 1, (guint64) (o->max_megapixels * 1e6));
  if (o->max_frames < 1)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "--max-frames must be at least 1");
      return FALSE;
    }
  load->max_frames = (guint) o->max_frames;
  if (o->alpha == NULL || strcmp (o->alpha, "white") == 0)
    load->alpha = TS_ALPHA_OVER_WHITE;
  else if (strcmp (o->alpha, "checker") == 0)
    load->alpha = TS_ALPHA_OVER_CHECKER;
  else
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "--alpha must be white or checker, not '%s'",
                   o->alpha);
      return FALSE;
    }
  return TRUE;
}

gboolean
ts_cli_resize_options (const TsCliImageOptions *o, TsResize *resize, GError **error)
{
  resize->policy = ts_cli_settings ()->resize.policy;
  resize->size = o->size;
  if (o->resize != NULL && !ts_resize_policy_parse (o->resize, &resize->policy, error))
    return FALSE;
  if (o->patch < TS_PATCH_MIN || o->patch > TS_PATCH_MAX)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "--patch %d is outside %d..%d", o->patch,
                   TS_PATCH_MIN, TS_PATCH_MAX);
      return FALSE;
    }
  if (resize->policy != TS_RESIZE_NATIVE && (o->size < o->patch || o->size > 65536))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "--size %d must be between the patch size %d and 65536", o->size, o->patch);
      return FALSE;
    }
  return TRUE;
}

TsImage *
ts_cli_load_image (const char *path, const TsCliImageOptions *o, TsGrid *grid, GError **error)
{
  TsLoadOptions load;
  TsResize resize;
  g_autoptr (TsImage) image = NULL;
  g_autoptr (TsImage) resized = NULL;

  if (!ts_cli_load_options (o, &load, error) || !ts_cli_resize_options (o, &resize, error))
    return NULL;
  image = ts_image_load (path, &load, error);
  if (image == NULL)
    return NULL;
  resized = ts_resize_apply (image, &resize, o->patch, error);
  if (resized == NULL)
    return NULL;
  if (!ts_grid_init (grid, resized->width, resized->height, o->patch, error))
    return NULL;
  return g_steal_pointer (&resized);
}

GOptionContext *
ts_cli_context (const char *command, const char *params, const char *summary, const char *examples)
{
  g_autofree char *usage = g_strdup_printf ("%s %s", command, params);
  GOptionContext *context = g_option_context_new (usage);

  g_option_context_set_summary (context, summary);
  if (examples != NULL)
    g_option_context_set_description (context, examples);
  return context;
}

gboolean
ts_cli_parse (GOptionContext *context, int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      fprintf (stderr, "tokenscope-cli: %s\n(see 'tokenscope-cli %s --help')\n", error->message, (*argv)[0]);
      return FALSE;
    }
  return TRUE;
}

int
ts_cli_parse_args (GOptionContext *context, const GOptionEntry *entries, int *argc, char ***argv, int min_args,
                   int max_args, const char *expects)
{
  int n;

  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, NULL);
  if (!ts_cli_parse (context, argc, argv))
    return TS_EXIT_USAGE;
  n = *argc - 1;
  if (n < min_args || (max_args >= 0 && n > max_args))
    return ts_cli_usage ((*argv)[0], expects);
  return TS_EXIT_OK;
}

int
ts_cli_fail (const GError *error)
{
  fprintf (stderr, "tokenscope-cli: %s\n", error->message);
  if (error->domain == TS_ERROR && error->code == TS_ERROR_INVALID_ARGUMENT)
    return TS_EXIT_USAGE;
  return TS_EXIT_INPUT;
}

int
ts_cli_usage (const char *command, const char *message)
{
  fprintf (stderr, "tokenscope-cli %s: %s\n(see 'tokenscope-cli %s --help')\n", command, message, command);
  return TS_EXIT_USAGE;
}

gboolean
ts_cli_write_json (JsonNode *root, const char *dest, GError **error)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;
  gsize len;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &len);
  if (dest == NULL || strcmp (dest, "-") == 0)
    {
      fwrite (text, 1, len, stdout);
      fputc ('\n', stdout);
      fflush (stdout);
      return TRUE;
    }
  {
    g_autofree char *with_nl = g_strconcat (text, "\n", NULL);
    return ts_file_write (dest, with_nl, len + 1, error);
  }
}

void
ts_json_add_double (JsonBuilder *b, const char *key, double v)
{
  ts_report_add_double (b, key, v);
}

/* ---- --model ---------------------------------------------------------------- */

void
ts_cli_model_options_init (TsCliModelOptions *m)
{
  const TsSettings *s = ts_cli_settings ();

  memset (m, 0, sizeof *m);
  m->file = g_strdup (s->model_file);
  m->family = NULL; /* NULL: the settings' family */
  m->layer = s->model_layer;
}

void
ts_cli_model_options_clear (TsCliModelOptions *m)
{
  g_clear_pointer (&m->file, g_free);
  g_clear_pointer (&m->family, g_free);
  g_clear_pointer (&m->importance, g_free);
}

void
ts_cli_add_model_options (GOptionContext *context, TsCliModelOptions *m)
{
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &m->file,
      "Token features from this ViT (.safetensors: CLIP, SigLIP, DINOv2, timm)", "FILE" },
    { "family", 0, 0, G_OPTION_ARG_STRING, &m->family, "Weight family: auto (default), timm, clip, siglip, dinov2",
      "NAME" },
    { "layer", 0, 0, G_OPTION_ARG_INT, &m->layer, "Hidden layer whose tokens are the features (default -2)", "L" },
    { "heads", 0, 0, G_OPTION_ARG_INT, &m->heads, "Attention heads, when no config.json says", "H" },
    { "importance", 0, 0, G_OPTION_ARG_STRING, &m->importance,
      "Pruning importance from the model: query (CLS attention, default), rollout or none", "KIND" },
    G_OPTION_ENTRY_NULL
  };
  GOptionGroup *group = g_option_group_new ("model", "Model options:", "Show model options", NULL, NULL);

  ts_cli_model_options_init (m);
  g_option_group_add_entries (group, entries);
  g_option_context_add_group (context, group);
}

TsVit *
ts_cli_load_model (const TsCliModelOptions *m, GError **error)
{
  TsVitLoadOptions lo = { 0 };
  const char *family = m->family ? m->family : ts_cli_settings ()->model_family;

  if (m->file == NULL)
    return NULL;
  if (family != NULL && !ts_vit_family_parse (family, &lo.family, error))
    return NULL;
  if (m->heads < 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "--heads must be positive");
      return NULL;
    }
  lo.heads = m->heads;
  return ts_vit_load (m->file, &lo, error);
}

TsScene *
ts_cli_model_scene (const TsVit *vit, const TsCliModelOptions *m, const char *path, const TsCliImageOptions *io,
                    GCancellable *cancellable, GError **error)
{
  const TsVitInfo *info = ts_vit_info (vit);
  TsVitImportance importance = TS_VIT_IMPORTANCE_QUERY;
  TsLoadOptions load;
  TsResize resize;
  g_autoptr (TsImage) image = NULL;
  TsCliImageOptions model_io = *io;

  if (m->importance == NULL || strcmp (m->importance, "query") == 0)
    importance = TS_VIT_IMPORTANCE_QUERY; /* SigLIP: the mean query, said in the scene's source */
  else if (strcmp (m->importance, "rollout") == 0)
    importance = TS_VIT_IMPORTANCE_ROLLOUT;
  else if (strcmp (m->importance, "none") == 0)
    importance = TS_VIT_IMPORTANCE_NONE;
  else
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "--importance must be query, rollout or none, not '%s'",
                   m->importance);
      return NULL;
    }
  /* the model fixes the patch size; without --resize, its native square resolution */
  model_io.patch = info->patch;
  if (io->resize == NULL)
    {
      resize.policy = TS_RESIZE_SQUARE;
      resize.size = info->pos_cols * info->patch;
    }
  else if (!ts_cli_resize_options (&model_io, &resize, error))
    return NULL;
  if (!ts_cli_load_options (io, &load, error) || (image = ts_image_load (path, &load, error)) == NULL)
    return NULL;
  return ts_vit_scene_new (vit, image, &resize, m->layer, importance, cancellable, error);
}
