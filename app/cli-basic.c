/* grid, quality and report: the first questions about an image. */
#include <gio/gio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define TS_SAMPLES_PATH "/org/tokenscope/TokenScope/samples/"

/* Exactly the seven keys of issue 2: width, height, rows, cols, patch, tokens, tpm. */
static JsonNode *
grid_json (const TsGrid *grid)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, grid->width);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, grid->height);
  json_builder_set_member_name (b, "rows");
  json_builder_add_int_value (b, grid->rows);
  json_builder_set_member_name (b, "cols");
  json_builder_add_int_value (b, grid->cols);
  json_builder_set_member_name (b, "patch");
  json_builder_add_int_value (b, grid->patch);
  json_builder_set_member_name (b, "tokens");
  json_builder_add_int_value (b, grid->tokens);
  ts_json_add_double (b, "tpm", ts_grid_tpm (grid));
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
print_grid (const TsGrid *grid)
{
  printf ("width   %d\nheight  %d\nrows    %d\ncols    %d\npatch   %d\ntokens  %d\ntpm     %.0f\n",
          grid->width, grid->height, grid->rows, grid->cols, grid->patch, grid->tokens, ts_grid_tpm (grid));
}

int
ts_cli_grid (int argc, char **argv)
{
  TsCliImageOptions io;
  g_autofree char *json = NULL;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsImage) image = NULL;
  TsGrid grid;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json, "Write JSON to FILE (- for standard output)", "FILE" },
    G_OPTION_ENTRY_NULL
  };
  int status;

  ts_cli_image_options_init (&io);
  context = ts_cli_context ("grid", "IMAGE", "Lay the ViT patch grid over IMAGE and count its tokens.",
                            "Examples:\n"
                            "  tokenscope-cli grid photo.jpg --resize square --size 336 --patch 14\n"
                            "  tokenscope-cli grid scan.png --resize fit --size 1024 --patch 16 --json -\n");
  ts_cli_add_image_options (context, &io);
  status = ts_cli_parse_args (context, entries, &argc, &argv, 1, 1, "expects exactly one IMAGE");
  if (status == TS_EXIT_OK)
    {
      if ((image = ts_cli_load_image (argv[1], &io, &grid, &error)) == NULL)
        status = ts_cli_fail (error);
      else if (json != NULL)
        {
          g_autoptr (JsonNode) root = grid_json (&grid);
          if (!ts_cli_write_json (root, json, &error))
            status = ts_cli_fail (error);
        }
      else
        print_grid (&grid);
    }
  ts_cli_image_options_clear (&io);
  return status;
}

int
ts_cli_quality (int argc, char **argv)
{
  g_autofree char *json = NULL;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsImage) a = NULL;
  g_autoptr (TsImage) b = NULL;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json, "Write JSON to FILE (- for standard output)", "FILE" },
    G_OPTION_ENTRY_NULL
  };
  double psnr, ssim;
  int status;

  context = ts_cli_context ("quality", "A B",
                            "PSNR (all RGB channels) and SSIM (luma, as skimage) of two same-size images.\n"
                            "Identical images have infinite PSNR: printed 'inf', null in JSON.",
                            "Example:\n  tokenscope-cli quality original.png reconstruction.png --json -\n");
  if ((status = ts_cli_parse_args (context, entries, &argc, &argv, 2, 2, "expects two images A and B")) != TS_EXIT_OK)
    return status;
  if ((a = ts_image_load (argv[1], NULL, &error)) == NULL || (b = ts_image_load (argv[2], NULL, &error)) == NULL)
    return ts_cli_fail (error);
  if (a->width != b->width || a->height != b->height)
    {
      fprintf (stderr, "tokenscope-cli: %s is %d x %d but %s is %d x %d; quality needs equal sizes\n",
               argv[1], a->width, a->height, argv[2], b->width, b->height);
      return TS_EXIT_INPUT;
    }
  psnr = ts_psnr (a, b);
  ssim = ts_ssim (a, b);
  if (json != NULL)
    {
      g_autoptr (JsonBuilder) jb = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      json_builder_begin_object (jb);
      ts_json_add_double (jb, "psnr", psnr);
      ts_json_add_double (jb, "ssim", ssim);
      json_builder_end_object (jb);
      root = json_builder_get_root (jb);
      if (!ts_cli_write_json (root, json, &error))
        return ts_cli_fail (error);
    }
  else
    {
      if (isinf (psnr))
        printf ("psnr  inf (identical)\n");
      else
        printf ("psnr  %.4f dB\n", psnr);
      printf ("ssim  %.6f\n", ssim);
    }
  return TS_EXIT_OK;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The embedded sample that comes first by name (01-city-sky.png), or NULL.
 * GResource enumerates in hash order, so the names are sorted here. */
static char *
first_sample (void)
{
  g_auto (GStrv) names = g_resources_enumerate_children (TS_SAMPLES_PATH, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  guint n;

  if (names == NULL || names[0] == NULL)
    return NULL;
  n = g_strv_length (names);
  qsort (names, n, sizeof (char *), compare_strings);
  return g_strconcat (TS_SAMPLES_PATH, names[0], NULL);
}

/* Share of tokens whose right or lower neighbour has cosine >= @threshold. */
static double
near_duplicate_share (const TsScene *scene, double threshold)
{
  const TsGrid *g = &scene->grid;
  const TsFeatures *f = scene->normalized;
  int dup = 0;

  for (int t = 0; t < g->tokens; t++)
    {
      int r = t / g->cols, c = t % g->cols;
      gboolean hit = FALSE;
      if (c + 1 < g->cols)
        hit = ts_cosine (f->data + (gsize) t * f->d, f->data + (gsize) (t + 1) * f->d, f->d) >= threshold;
      if (!hit && r + 1 < g->rows)
        hit = ts_cosine (f->data + (gsize) t * f->d, f->data + (gsize) (t + g->cols) * f->d, f->d) >= threshold;
      dup += hit;
    }
  return (double) dup / g->tokens;
}

/* One line per pooling ratio: what k x k average pooling keeps of this image. */
static gboolean
print_pooling (const TsScene *scene, int k, GError **error)
{
  g_autoptr (TsAssignment) a = ts_pool (scene, k, TS_POOL_AVG, error);
  g_autoptr (TsImage) recon = NULL;

  if (a == NULL || (recon = ts_reconstruct (scene->image, &scene->grid, a, TS_DROP_FILL_NEAREST, error)) == NULL)
    return FALSE;
  printf ("  pool %dx%d  %5d tokens  CR %5.1f  PSNR %5.1f dB  SSIM %.3f  feature retention %.3f\n", k, k,
          a->n_out, ts_assignment_ratio (a), ts_psnr (scene->image, recon), ts_ssim (scene->image, recon),
          ts_feature_retention (scene->features, a));
  return TRUE;
}

int
ts_cli_report (int argc, char **argv)
{
  TsCliImageOptions io;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = NULL;
  g_autoptr (TsImage) resized = NULL;
  g_autoptr (TsScene) scene = NULL;
  g_autofree char *sample = NULL;
  TsLoadOptions load;
  TsResize resize;
  int status = TS_EXIT_OK;

  ts_cli_image_options_init (&io);
  context = ts_cli_context ("report", "[IMAGE]",
                            "A short token report for IMAGE (a file or a folder of frames), or for the\n"
                            "embedded sample 01-city-sky.png without one: the patch grid, how many\n"
                            "tokens repeat a neighbour, and what 2x2 and 4x4 average pooling keep.",
                            "Examples:\n"
                            "  tokenscope-cli report\n"
                            "  tokenscope-cli report photo.jpg --resize pad --size 336\n"
                            "  tokenscope-cli report scan.png --resize fit --size 1024 --patch 16\n");
  ts_cli_add_image_options (context, &io);
  status = ts_cli_parse_args (context, NULL, &argc, &argv, 0, 1, "expects at most one IMAGE");
  if (status == TS_EXIT_OK &&
      (!ts_cli_load_options (&io, &load, &error) || !ts_cli_resize_options (&io, &resize, &error)))
    status = ts_cli_fail (error);
  ts_cli_image_options_clear (&io);
  if (status != TS_EXIT_OK)
    return status;

  if (argc == 2)
    media = ts_media_load_any (argv[1], &load, &error);
  else if ((sample = first_sample ()) == NULL)
    g_set_error (&error, TS_ERROR, TS_ERROR_IO, "no embedded sample in this build");
  else
    {
      g_autoptr (GBytes) bytes = g_resources_lookup_data (sample, 0, NULL);
      gsize len = 0;
      const guint8 *data = bytes ? g_bytes_get_data (bytes, &len) : NULL;
      media = ts_media_load_from_memory (data, len, sample, &load, &error);
    }
  if (media == NULL)
    return ts_cli_fail (error);
  if ((resized = ts_resize_apply (media->frames[0], &resize, io.patch, &error)) == NULL ||
      (scene = ts_scene_new (g_steal_pointer (&resized), io.patch, TS_FEATURES_PIXEL, NULL, &error)) == NULL)
    return ts_cli_fail (error);

  printf ("TokenScope report: %s (%s, %d x %d", media->name, media->format, media->frames[0]->width,
          media->frames[0]->height);
  if (media->n_frames > 1)
    {
      gint64 total_ms = 0;
      for (guint i = 0; i < media->n_frames; i++)
        total_ms += media->delays_ms[i];
      printf (", %u frames, %.2f s", media->n_frames, total_ms / 1000.0);
    }
  printf (")\n");
  if (media->had_alpha)
    printf ("transparency composited over %s\n", media->alpha == TS_ALPHA_OVER_CHECKER ? "a checkerboard" : "white");
  printf ("resize %s -> %d x %d, patch %d\n", ts_resize_policy_name (resize.policy), scene->grid.width,
          scene->grid.height, scene->grid.patch);
  printf ("tokens %d (%d rows x %d cols), %.0f tokens per megapixel%s\n", scene->grid.tokens, scene->grid.rows,
          scene->grid.cols, ts_grid_tpm (&scene->grid), media->n_frames > 1 ? " (first frame)" : "");
  printf ("near-duplicates %.0f%% of tokens have a right or lower neighbour with cosine >= 0.99 "
          "(pixel features)\n",
          100 * near_duplicate_share (scene, 0.99));
  printf ("average pooling, reconstruction against the working image:\n");
  for (int k = 2; k <= 4; k += 2)
    if (MIN (scene->grid.rows, scene->grid.cols) >= k && !print_pooling (scene, k, &error))
      return ts_cli_fail (error);
  return TS_EXIT_OK;
}

int
ts_cli_settings_cmd (int argc, char **argv)
{
  TsSettings *s = ts_cli_settings ();
  TsCliImageOptions io;
  g_autofree char *out = NULL;
  g_autofree char *features = NULL;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Write the settings to FILE (default: standard output)", "FILE" },
    { "features", 0, 0, G_OPTION_ARG_STRING, &features, "pixel, descriptor or npy:FILE", "KIND" },
    G_OPTION_ENTRY_NULL
  };
  const char *expects = "expects 'export' or 'check FILE'";
  int status;

  ts_cli_image_options_init (&io);
  context = ts_cli_context ("settings", "export|check [FILE]",
                            "Write a settings file recording every choice (export), or check one (check FILE).\n"
                            "Every command reads one with --settings FILE; flags after it override it.",
                            "Examples:\n"
                            "  tokenscope-cli settings export --resize pad --size 336 --method tome --ratio 8 -o run.json\n"
                            "  tokenscope-cli settings check run.json\n"
                            "  tokenscope-cli compress photo.jpg --settings run.json --ratio 16\n");
  ts_cli_add_image_options (context, &io);
  ts_cli_add_method_options (context, s);
  status = ts_cli_parse_args (context, entries, &argc, &argv, 1, 2, expects);
  if (status != TS_EXIT_OK)
    goto out;
  if (argc == 3 && strcmp (argv[1], "check") == 0)
    {
      g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
      TsSettings t;
      ts_settings_init (&t);
      if (!ts_settings_load (&t, argv[2], warnings, &error))
        status = ts_cli_fail (error);
      else
        {
          for (guint i = 0; i < warnings->len; i++)
            fprintf (stderr, "tokenscope-cli: warning: %s\n", (char *) warnings->pdata[i]);
          printf ("%s: valid settings (method %s, patch %d)\n", argv[2], t.method, t.patch);
        }
      ts_settings_clear (&t);
    }
  else if (argc == 2 && strcmp (argv[1], "export") == 0)
    {
      g_autofree char *json = NULL;
      if (io.resize && !ts_resize_policy_parse (io.resize, &s->resize.policy, &error))
        status = ts_cli_fail (error);
      else if (io.patch < TS_PATCH_MIN || io.patch > TS_PATCH_MAX)
        status = ts_cli_usage ("settings", "--patch must be between 2 and 64");
      else
        {
          s->resize.size = io.size;
          s->patch = io.patch;
          if (features != NULL && g_str_has_prefix (features, "npy:"))
            {
              s->features = TS_FEATURES_NPY;
              g_free (s->features_file);
              s->features_file = g_strdup (features + 4);
            }
          else if (features != NULL && !ts_feature_kind_parse (features, &s->features, &error))
            status = ts_cli_fail (error);
          if (status == TS_EXIT_OK)
            {
              if (out == NULL || strcmp (out, "-") == 0)
                {
                  json = ts_settings_to_json (s);
                  printf ("%s\n", json);
                }
              else if (!ts_settings_save (s, out, &error))
                status = ts_cli_fail (error);
            }
        }
    }
  else
    status = ts_cli_usage ("settings", expects);
out:
  ts_cli_image_options_clear (&io);
  return status;
}
