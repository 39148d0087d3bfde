#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void
ts_cli_image_options_init (TsCliImageOptions *o)
{
  memset (o, 0, sizeof *o);
  o->patch = 14;
  o->size = 336;
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
  if (!(o->max_megapixels > 0 && o->max_megapixels <= 1e6))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "--max-megapixels must be in (0, 1000000]");
      return FALSE;
    }
  if (o->max_frames < 1)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "--max-frames must be at least 1");
      return FALSE;
    }
  load->max_pixels = (guint64) (o->max_megapixels * 1e6);
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

TsImage *
ts_cli_load_image (const char *path, const TsCliImageOptions *o, TsGrid *grid, GError **error)
{
  TsLoadOptions load;
  TsResize resize = { TS_RESIZE_NATIVE, o->size };
  g_autoptr (TsImage) image = NULL;
  g_autoptr (TsImage) resized = NULL;

  if (!ts_cli_load_options (o, &load, error))
    return NULL;
  if (o->resize != NULL && !ts_resize_policy_parse (o->resize, &resize.policy, error))
    return NULL;
  if (o->patch < TS_PATCH_MIN || o->patch > TS_PATCH_MAX)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "--patch %d is outside %d..%d", o->patch,
                   TS_PATCH_MIN, TS_PATCH_MAX);
      return NULL;
    }
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
      fprintf (stderr, "tokenscope-cli: %s\n(see '%s --help')\n", error->message, (*argv)[0]);
      return FALSE;
    }
  return TRUE;
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
  json_builder_set_member_name (b, key);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}
