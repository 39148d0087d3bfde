/* grid, quality and report: the first questions about an image. */
#include <gio/gio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static JsonNode *
grid_json (const TsGrid *grid, const char *name)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  if (name != NULL)
    {
      json_builder_set_member_name (b, "image");
      json_builder_add_string_value (b, name);
    }
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
  int status = TS_EXIT_OK;

  ts_cli_image_options_init (&io);
  context = ts_cli_context ("grid", "IMAGE", "Lay the ViT patch grid over IMAGE and count its tokens.",
                            "Examples:\n"
                            "  tokenscope-cli grid photo.jpg --resize square --size 336 --patch 14\n"
                            "  tokenscope-cli grid scan.png --resize fit --size 1024 --patch 16 --json -\n");
  g_option_context_add_main_entries (context, entries, NULL);
  ts_cli_add_image_options (context, &io);
  if (!ts_cli_parse (context, &argc, &argv))
    status = TS_EXIT_USAGE;
  else if (argc != 2)
    status = ts_cli_usage ("grid", "expects exactly one IMAGE");
  else if ((image = ts_cli_load_image (argv[1], &io, &grid, &error)) == NULL)
    status = ts_cli_fail (error);
  else if (json != NULL)
    {
      g_autofree char *name = g_path_get_basename (argv[1]);
      g_autoptr (JsonNode) root = grid_json (&grid, name);
      if (!ts_cli_write_json (root, json, &error))
        status = ts_cli_fail (error);
    }
  else
    print_grid (&grid);
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

  context = ts_cli_context ("quality", "A B",
                            "PSNR (all RGB channels) and SSIM (luma, as skimage) of two same-size images.\n"
                            "Identical images have infinite PSNR: printed 'inf', null in JSON.",
                            "Example:\n  tokenscope-cli quality original.png reconstruction.png --json -\n");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!ts_cli_parse (context, &argc, &argv))
    return TS_EXIT_USAGE;
  if (argc != 3)
    return ts_cli_usage ("quality", "expects two images A and B");
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

/* The first embedded sample's resource path, or NULL. */
static char *
first_sample (void)
{
  g_auto (GStrv) names = g_resources_enumerate_children ("/org/tokenscope/TokenScope/samples/",
                                                         G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);

  if (names == NULL || names[0] == NULL)
    return NULL;
  return g_strconcat ("/org/tokenscope/TokenScope/samples/", names[0], NULL);
}

static int
report_run (TsCliImageOptions *io, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsMedia) media = NULL;
  g_autoptr (TsImage) resized = NULL;
  g_autoptr (TsFeatures) features = NULL;
  TsResize resize = { TS_RESIZE_NATIVE, 336 };
  TsLoadOptions load;
  TsGrid grid;
  const char *name;
  int status = TS_EXIT_OK;

  context = ts_cli_context ("report", "[IMAGE]",
                            "A short token report for IMAGE, or for the embedded sample without one.",
                            "Example:\n  tokenscope-cli report photo.jpg --resize pad --size 336\n");
  ts_cli_add_image_options (context, io);
  if (!ts_cli_parse (context, &argc, &argv))
    return TS_EXIT_USAGE;
  if (argc > 2)
    return ts_cli_usage ("report", "expects at most one IMAGE");
  if (io->resize && !ts_resize_policy_parse (io->resize, &resize.policy, &error))
    return ts_cli_fail (error);
  resize.size = io->size;

  if (!ts_cli_load_options (io, &load, &error))
    return ts_cli_fail (error);
  if (argc == 2)
    {
      name = argv[1];
      media = ts_media_load_any (name, &load, &error);
    }
  else
    {
      g_autofree char *path = first_sample ();
      g_autoptr (GBytes) bytes = path ? g_resources_lookup_data (path, 0, &error) : NULL;
      name = "embedded sample";
      if (bytes != NULL)
        media = ts_media_load_from_memory (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), path,
                                           &load, &error);
      else if (error == NULL)
        g_set_error (&error, TS_ERROR, TS_ERROR_IO, "no embedded sample in this build");
    }
  if (media == NULL)
    return ts_cli_fail (error);
  if ((resized = ts_resize_apply (media->frames[0], &resize, io->patch, &error)) == NULL ||
      !ts_grid_init (&grid, resized->width, resized->height, io->patch, &error) ||
      (features = ts_features_pixel (resized, &grid, &error)) == NULL)
    return ts_cli_fail (error);

  printf ("TokenScope report: %s (%s, %d x %d, %u frame%s)\n", media->name, media->format,
          media->frames[0]->width, media->frames[0]->height, media->n_frames, media->n_frames == 1 ? "" : "s");
  printf ("resize %s -> %d x %d, patch %d\n", ts_resize_policy_name (resize.policy), grid.width,
          grid.height, grid.patch);
  printf ("tokens %d (%d rows x %d cols), %.0f tokens per megapixel\n", grid.tokens, grid.rows, grid.cols,
          ts_grid_tpm (&grid));
  return status;
}

int
ts_cli_report (int argc, char **argv)
{
  TsCliImageOptions io;
  int status;

  ts_cli_image_options_init (&io);
  status = report_run (&io, argc, argv);
  ts_cli_image_options_clear (&io);
  return status;
}
