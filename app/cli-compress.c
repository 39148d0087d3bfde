/* compress: run any registered compression method on an image and measure what it keeps. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ts-overlay-render.h"

typedef struct {
  char *features;
  char *grid;
  char *json;
  char *recon;
  char *overlay;
  char *export_features;
} CompressOptions;

static void
compress_options_clear (CompressOptions *o)
{
  g_free (o->features);
  g_free (o->grid);
  g_free (o->json);
  g_free (o->recon);
  g_free (o->overlay);
  g_free (o->export_features);
}

static char *
method_names (void)
{
  guint n;
  const TsMethod *const *m = ts_methods (&n);
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "%s%s", i ? "|" : "", m[i]->name);
  return g_string_free (s, FALSE);
}

/* Checks the method options a user typed; TS_ERROR_INVALID_ARGUMENT names the bad one. */
static gboolean
check_params (const TsMethodParams *p, GError **error)
{
  const char *bad = NULL;

  if (p->n_protected < 0)
    bad = "--protected must be >= 0";
  else if (p->tome_r < 0)
    bad = "--tome-r must be >= 0";
  else if (p->rounds < 1)
    bad = "--rounds must be >= 1";
  else if (!(p->tau > 0))
    bad = "--tau must be positive";
  else if (!(p->dominant_fraction >= 0 && p->dominant_fraction <= 1))
    bad = "--dominant must be in 0..1";
  else if (!(p->entropy_threshold >= 0))
    bad = "--entropy-threshold must be >= 0 bits";
  if (bad != NULL)
    g_set_error_literal (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, bad);
  return bad == NULL;
}

/* "RxC" -> rows, cols. */
static gboolean
parse_grid (const char *text, int *rows, int *cols, GError **error)
{
  char *end = NULL;
  gint64 r, c;

  r = g_ascii_strtoll (text, &end, 10);
  if (end == text || (*end != 'x' && *end != 'X'))
    goto bad;
  text = end + 1;
  c = g_ascii_strtoll (text, &end, 10);
  if (end == text || *end != '\0' || r < 1 || c < 1 || r > 100000 || c > 100000)
    goto bad;
  *rows = (int) r;
  *cols = (int) c;
  return TRUE;
bad:
  g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "--grid expects ROWSxCOLS such as 24x24");
  return FALSE;
}

/* The scene for @path: image options, an optional --grid override and the features. */
static TsScene *
load_scene (const char *path, const TsCliImageOptions *io, const CompressOptions *o, const TsSettings *s,
            GError **error)
{
  g_autoptr (TsImage) image = NULL;
  g_autoptr (TsFeatures) features = NULL;
  g_autofree char *from_settings = NULL;
  TsFeatureKind kind = TS_FEATURES_PIXEL;
  const char *spec = o->features;
  TsNpyCls cls = o->features ? TS_NPY_CLS_AUTO : s->cls;
  TsGrid grid;

  if (spec == NULL)
    {
      if (s->features == TS_FEATURES_NPY && s->features_file != NULL)
        spec = from_settings = g_strconcat ("npy:", s->features_file, NULL);
      else
        spec = ts_feature_kind_name (s->features);
    }

  if (g_str_has_prefix (spec, "npy:"))
    {
      if (spec[4] == '\0')
        {
          g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "--features npy:FILE needs a file name");
          return NULL;
        }
      kind = TS_FEATURES_NPY;
    }
  else if (!ts_feature_kind_parse (spec, &kind, error))
    return NULL;
  else if (kind != TS_FEATURES_PIXEL && kind != TS_FEATURES_DESCRIPTOR)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "--features must be pixel, descriptor or npy:FILE, not '%s'", spec);
      return NULL;
    }
  image = ts_cli_load_image (path, io, &grid, error);
  if (image == NULL)
    return NULL;
  if (o->grid != NULL)
    {
      int rows, cols;
      if (!parse_grid (o->grid, &rows, &cols, error))
        return NULL;
      if (rows != grid.rows || cols != grid.cols)
        {
          /* Resample so that a rows x cols grid at the same patch covers the image. */
          TsImage *resized = ts_image_resample (image, cols * io->patch, rows * io->patch);
          if (resized == NULL)
            {
              g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "cannot resample %s to a %d x %d grid at patch %d",
                           path, rows, cols, io->patch);
              return NULL;
            }
          ts_image_free (image);
          image = resized;
          if (!ts_grid_init (&grid, image->width, image->height, io->patch, error))
            return NULL;
        }
    }
  if (kind == TS_FEATURES_NPY)
    features = ts_features_load_npy (spec + 4, &grid, cls, error);
  else if (kind == TS_FEATURES_DESCRIPTOR)
    features = ts_features_descriptor (image, &grid, error);
  if (kind != TS_FEATURES_PIXEL && features == NULL)
    return NULL;
  return ts_scene_new (g_steal_pointer (&image), io->patch, kind, g_steal_pointer (&features), error);
}

static JsonNode *
result_json (const char *path, const TsScene *scene, const TsMethod *method, const TsAssignment *a, double psnr,
             double ssim, double retention, double seconds)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *name = g_path_get_basename (path);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "image");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "method");
  json_builder_add_string_value (b, method->name);
  json_builder_set_member_name (b, "label");
  json_builder_add_string_value (b, method->label);
  if (method->flags & TS_METHOD_STAND_IN)
    {
      json_builder_set_member_name (b, "stand_in");
      json_builder_add_boolean_value (b, TRUE);
      json_builder_set_member_name (b, "note");
      json_builder_add_string_value (b, method->explanation);
    }
  json_builder_set_member_name (b, "features");
  json_builder_add_string_value (b, ts_feature_kind_name (scene->kind));
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, scene->grid.width);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, scene->grid.height);
  json_builder_set_member_name (b, "patch");
  json_builder_add_int_value (b, scene->grid.patch);
  json_builder_set_member_name (b, "rows");
  json_builder_add_int_value (b, scene->grid.rows);
  json_builder_set_member_name (b, "cols");
  json_builder_add_int_value (b, scene->grid.cols);
  json_builder_set_member_name (b, "tokens_in");
  json_builder_add_int_value (b, a->n_in);
  json_builder_set_member_name (b, "tokens_out");
  json_builder_add_int_value (b, a->n_out);
  json_builder_set_member_name (b, "kept");
  json_builder_add_int_value (b, ts_assignment_kept (a));
  ts_json_add_double (b, "ratio", ts_assignment_ratio (a));
  json_builder_set_member_name (b, "quality");
  json_builder_begin_object (b);
  ts_json_add_double (b, "psnr", psnr);
  ts_json_add_double (b, "ssim", ssim);
  ts_json_add_double (b, "feature_retention", retention);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "groups");
  json_builder_begin_array (b);
  for (int i = 0; i < a->n_in; i++)
    json_builder_add_int_value (b, a->groups[i]);
  json_builder_end_array (b);
  if (a->regions != NULL)
    {
      json_builder_set_member_name (b, "regions");
      json_builder_begin_array (b);
      for (int g = 0; g < a->n_out; g++)
        {
          TsRect r = a->regions[g];
          json_builder_begin_array (b);
          json_builder_add_int_value (b, r.x);
          json_builder_add_int_value (b, r.y);
          json_builder_add_int_value (b, r.w);
          json_builder_add_int_value (b, r.h);
          json_builder_end_array (b);
        }
      json_builder_end_array (b);
    }
  ts_json_add_double (b, "seconds", seconds);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

int
ts_cli_compress (int argc, char **argv)
{
  TsCliImageOptions io;
  TsCliModelOptions mo = { 0 };
  g_autoptr (TsVit) vit = NULL;
  TsSettings settings;
  CompressOptions o = { 0 };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsScene) scene = NULL;
  g_autoptr (TsAssignment) a = NULL;
  g_autoptr (TsImage) recon = NULL;
  g_autofree char *names = method_names ();
  g_autofree char *description = NULL;
  const TsMethod *method;
  const TsMethodParams *params;
  gint64 t0;
  double seconds, psnr, ssim, retention;
  int status = TS_EXIT_OK;
  GOptionEntry entries[] = {
    { "features", 'f', 0, G_OPTION_ARG_STRING, &o.features,
      "Token features: pixel (default), descriptor or npy:FILE", "KIND" },
    { "grid", 0, 0, G_OPTION_ARG_STRING, &o.grid,
      "Token grid of npy features when it differs from the image's (the image is resampled to it)", "RxC" },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &o.json, "Write JSON to FILE (- for standard output)", "FILE" },
    { "recon", 0, 0, G_OPTION_ARG_FILENAME, &o.recon, "Save the reconstruction as PNG", "OUT.png" },
    { "overlay", 0, 0, G_OPTION_ARG_FILENAME, &o.overlay,
      "Publication figure: token groups (mean fill + borders), regions and dropped patches over the image "
      "(.png, .svg or .pdf)", "OUT" },
    { "export-features", 0, 0, G_OPTION_ARG_FILENAME, &o.export_features,
      "Save the compressed tokens' features as float32 [tokens, D] .npy", "OUT.npy" },
    G_OPTION_ENTRY_NULL
  };

  ts_settings_copy (&settings, ts_cli_settings ());
  params = &settings.params;
  ts_cli_image_options_init (&io);
  description = g_strdup_printf (
    "Methods: %s (method options: --help-method).\n"
    "The target is --tokens N or --ratio R (default 4); quantised methods (pool, downsample, optical,\n"
    "adaptive) give the largest reachable count <= the target.\n\n"
    "Examples:\n"
    "  tokenscope-cli compress photo.jpg --method tome --tokens 576 --resize square --size 672\n"
    "  tokenscope-cli compress photo.jpg --method greedy --ratio 8 --adjacent-only --recon merged.png\n"
    "  tokenscope-cli compress photo.jpg --method downsample --ratio 4 --json -\n"
    "  tokenscope-cli compress page.png --method optical --tokens 256 --resize square --size 1024 --patch 16\n"
    "  tokenscope-cli compress photo.jpg --method pool --features npy:clip.npy --grid 24x24 --json out.json\n"
    "\nJSON keys: method, tokens_in, tokens_out, ratio, quality {psnr, ssim, feature_retention},\n"
    "groups (one per original patch in raster order, -1 = dropped), regions ([x, y, w, h] per token,\n"
    "region methods only), seconds (the method alone). A perfect reconstruction's PSNR is null.\n",
    names);
  context = ts_cli_context ("compress", "IMAGE",
                            "Compress IMAGE's tokens with a method and report tokens, ratio and quality\n"
                            "(PSNR and SSIM of the reconstruction, feature retention).",
                            description);
  ts_cli_add_method_options (context, &settings);
  ts_cli_add_image_options (context, &io);
  ts_cli_add_model_options (context, &mo);
  status = ts_cli_parse_args (context, entries, &argc, &argv, 1, 1, "expects exactly one IMAGE");
  if (status != TS_EXIT_OK)
    goto out;
  if ((method = ts_method_find (settings.method, &error)) == NULL || !check_params (params, &error))
    {
      status = ts_cli_fail (error);
      goto out;
    }
  if (mo.file != NULL)
    {
      if ((vit = ts_cli_load_model (&mo, &error)) == NULL ||
          (scene = ts_cli_model_scene (vit, &mo, argv[1], &io, NULL, &error)) == NULL)
        {
          status = ts_cli_fail (error);
          goto out;
        }
    }
  else if ((scene = load_scene (argv[1], &io, &o, &settings, &error)) == NULL)
    {
      status = ts_cli_fail (error);
      goto out;
    }
  t0 = g_get_monotonic_time ();
  a = ts_method_run (method, scene, params, NULL, &error);
  seconds = (g_get_monotonic_time () - t0) / 1e6;
  if (a == NULL)
    {
      status = ts_cli_fail (error);
      goto out;
    }
  if ((recon = ts_reconstruct (scene->image, &scene->grid, a, params->fill, &error)) == NULL)
    {
      status = ts_cli_fail (error);
      goto out;
    }
  psnr = ts_psnr (scene->image, recon);
  ssim = ts_ssim (scene->image, recon);
  retention = ts_feature_retention (scene->features, a);

  if (o.overlay != NULL)
    {
      g_autoptr (TsOverlay) overlay = ts_overlay_new (&scene->grid, a, recon, NULL);
      TsOverlayOptions oo;
      ts_overlay_options_init (&oo);
      oo.grid = FALSE;
      oo.borders = TRUE;
      oo.fill = TS_GROUP_FILL_MEAN;
      oo.fill_opacity = 1.0;
      oo.regions = a->regions != NULL;
      oo.dim_dropped = TRUE;
      if (!ts_overlay_render_file (scene->image, overlay, &oo, o.overlay, &error))
        {
          status = ts_cli_fail (error);
          goto out;
        }
    }
  if (o.recon != NULL && !ts_image_save_png (recon, o.recon, &error))
    {
      status = ts_cli_fail (error);
      goto out;
    }
  if (o.export_features != NULL)
    {
      gint64 shape[2] = { a->n_out, a->d };
      if (a->features == NULL || a->d == 0)
        g_set_error (&error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "%s produced no token features to export",
                     method->name);
      if (error != NULL || !ts_npy_write (o.export_features, a->features, 2, shape, &error))
        {
          status = ts_cli_fail (error);
          goto out;
        }
    }
  if (o.json != NULL)
    {
      g_autoptr (JsonNode) root = result_json (argv[1], scene, method, a, psnr, ssim, retention, seconds);
      if (!ts_cli_write_json (root, o.json, &error))
        status = ts_cli_fail (error);
    }
  if (o.json == NULL || strcmp (o.json, "-") != 0)
    {
      printf ("%s: %s\n", method->name, method->label);
      if (method->flags & TS_METHOD_STAND_IN)
        printf ("note       a geometry stand-in, not the learned method (see its explanation)\n");
      printf ("grid       %d x %d at patch %d (%s features, d %d)\n", scene->grid.rows, scene->grid.cols,
              scene->grid.patch, ts_feature_kind_name (scene->kind), scene->features->d);
      printf ("tokens     %d -> %d (ratio %.3f", a->n_in, a->n_out, ts_assignment_ratio (a));
      if (ts_assignment_kept (a) != a->n_in)
        printf (", %d patches kept, %d dropped", ts_assignment_kept (a), a->n_in - ts_assignment_kept (a));
      printf (")\n");
      if (isinf (psnr))
        printf ("psnr       inf (identical)\n");
      else
        printf ("psnr       %.4f dB\n", psnr);
      printf ("ssim       %.6f\nretention  %.6f\nseconds    %.4f\n", ssim, retention, seconds);
    }
out:
  compress_options_clear (&o);
  ts_cli_model_options_clear (&mo);
  ts_settings_clear (&settings);
  ts_cli_image_options_clear (&io);
  return status;
}
