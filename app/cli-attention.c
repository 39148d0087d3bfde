/* attention: feature attention maps (REFERENCE 4) as numbers and heatmaps. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ts-overlay-render.h"

typedef struct {
  char *query;
  gboolean global;
  gboolean distinct;
  gboolean received;
  double tau;
  char *features;
  char *json;
  char *png;
  char *overlay;
  char *colormap;
  double alpha;
} AttentionOptions;

static void
attention_options_clear (AttentionOptions *o)
{
  g_free (o->query);
  g_free (o->features);
  g_free (o->json);
  g_free (o->png);
  g_free (o->overlay);
  g_free (o->colormap);
}

/* "ROW,COL" inside the grid -> patch index. */
static gboolean
parse_query (const char *text, const TsGrid *grid, int *row, int *col, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  gint64 r, c;

  if (g_strv_length (parts) != 2 || !g_ascii_string_to_signed (g_strstrip (parts[0]), 10, 0, G_MAXINT, &r, NULL) ||
      !g_ascii_string_to_signed (g_strstrip (parts[1]), 10, 0, G_MAXINT, &c, NULL))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "--query expects ROW,COL (two patch indices from 0), not '%s'", text);
      return FALSE;
    }
  if (r >= grid->rows || c >= grid->cols)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "--query %d,%d is outside the %d x %d patch grid (rows 0..%d, cols 0..%d)", (int) r, (int) c,
                   grid->rows, grid->cols, grid->rows - 1, grid->cols - 1);
      return FALSE;
    }
  *row = (int) r;
  *col = (int) c;
  return TRUE;
}

/* Features of the requested kind for @image on @grid. */
static TsFeatures *
load_features (const char *spec, const TsImage *image, const TsGrid *grid, TsFeatureKind *kind, GError **error)
{
  if (spec == NULL || strcmp (spec, "pixel") == 0)
    {
      *kind = TS_FEATURES_PIXEL;
      return ts_features_pixel (image, grid, error);
    }
  if (strcmp (spec, "descriptor") == 0)
    {
      *kind = TS_FEATURES_DESCRIPTOR;
      return ts_features_descriptor (image, grid, error);
    }
  if (g_str_has_prefix (spec, "npy:") && spec[4] != '\0')
    {
      *kind = TS_FEATURES_NPY;
      return ts_features_load_npy (spec + 4, grid, TS_NPY_CLS_AUTO, error);
    }
  g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
               "--features must be pixel, descriptor or npy:FILE, not '%s'", spec);
  return NULL;
}

static JsonNode *
map_json (const char *name, const TsScene *scene, TsAttentionMode mode, double tau, int qrow, int qcol,
          const char *features, const float *map)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "image");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "mode");
  json_builder_add_string_value (b, ts_attention_mode_name (mode));
  ts_json_add_double (b, "tau", tau);
  json_builder_set_member_name (b, "features");
  json_builder_add_string_value (b, features);
  if (mode == TS_ATTENTION_QUERY)
    {
      json_builder_set_member_name (b, "query");
      json_builder_begin_array (b);
      json_builder_add_int_value (b, qrow);
      json_builder_add_int_value (b, qcol);
      json_builder_end_array (b);
    }
  json_builder_set_member_name (b, "rows");
  json_builder_add_int_value (b, scene->grid.rows);
  json_builder_set_member_name (b, "cols");
  json_builder_add_int_value (b, scene->grid.cols);
  json_builder_set_member_name (b, "patch");
  json_builder_add_int_value (b, scene->grid.patch);
  json_builder_set_member_name (b, "map");
  json_builder_begin_array (b);
  for (int i = 0; i < scene->grid.tokens; i++)
    json_builder_add_double_value (b, map[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* A 2-pixel white frame with a dark inner line around patch @t. */
static void
mark_patch (TsImage *image, const TsGrid *grid, int t)
{
  TsRect r = ts_grid_patch_rect (grid, t);

  for (int y = r.y; y < r.y + r.h; y++)
    for (int x = r.x; x < r.x + r.w; x++)
      {
        int edge = MIN (MIN (x - r.x, r.x + r.w - 1 - x), MIN (y - r.y, r.y + r.h - 1 - y));
        guint8 *p = image->data + ((gsize) y * image->width + x) * 3;
        if (edge < 2)
          p[0] = p[1] = p[2] = 255;
        else if (edge == 2)
          p[0] = p[1] = p[2] = 0;
      }
}

static void
print_summary (const char *name, const TsScene *scene, TsAttentionMode mode, double tau, const float *map)
{
  int n = scene->grid.tokens, shown = MIN (n, 5);
  g_autofree int *top = ts_prune_top_k (map, n, shown);
  float lo = map[0], hi = map[0];
  double sum = 0;

  for (int i = 0; i < n; i++)
    {
      lo = MIN (lo, map[i]), hi = MAX (hi, map[i]);
      sum += map[i];
    }
  printf ("image   %s\nmode    %s\ntau     %g\ngrid    %d x %d (%d tokens, patch %d)\n", name,
          ts_attention_mode_name (mode), tau, scene->grid.rows, scene->grid.cols, n, scene->grid.patch);
  printf ("min     %.6g\nmax     %.6g\nmean    %.6g\ntop     ", lo, hi, sum / n);
  for (int i = 0; i < shown; i++)
    printf ("%s(%d,%d) %.4g", i ? ", " : "", top[i] / scene->grid.cols, top[i] % scene->grid.cols, map[top[i]]);
  printf ("\n");
}

int
ts_cli_attention (int argc, char **argv)
{
  TsCliImageOptions io;
  TsCliModelOptions mo = { 0 };
  g_autoptr (TsVit) vit = NULL;
  AttentionOptions o = { .tau = TS_ATTENTION_DEFAULT_TAU, .alpha = 0.6 };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsScene) scene = NULL;
  g_autofree float *map = NULL;
  TsImage *image;
  TsFeatures *features;
  TsFeatureKind kind = TS_FEATURES_PIXEL;
  TsAttentionMode mode = TS_ATTENTION_GLOBAL;
  TsColormap cmap = TS_COLORMAP_VIRIDIS;
  TsGrid grid;
  int qrow = 0, qcol = 0, n_modes;
  int status = TS_EXIT_OK;
  GOptionEntry entries[] = {
    { "query", 'q', 0, G_OPTION_ARG_STRING, &o.query, "Row of A for the patch at ROW,COL: what it attends to",
      "ROW,COL" },
    { "global", 'g', 0, G_OPTION_ARG_NONE, &o.global, "Attention from the mean-token query", NULL },
    { "distinct", 'd', 0, G_OPTION_ARG_NONE, &o.distinct, "Distinctiveness 1 - mean_j cos(x_i, x_j)", NULL },
    { "received", 0, 0, G_OPTION_ARG_NONE, &o.received,
      "Attention each patch receives, averaged over all queries (O(N^2 D), blockwise)", NULL },
    { "tau", 't', 0, G_OPTION_ARG_DOUBLE, &o.tau, "Softmax temperature (default 0.1)", "T" },
    { "features", 'f', 0, G_OPTION_ARG_STRING, &o.features,
      "Token features: pixel (default), descriptor or npy:FILE", "KIND" },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &o.json, "Write JSON to FILE (- for standard output)", "FILE" },
    { "png", 0, 0, G_OPTION_ARG_FILENAME, &o.png, "Write the map as a heatmap over the image", "OUT" },
    { "overlay", 0, 0, G_OPTION_ARG_FILENAME, &o.overlay,
      "Publication figure: image, patch grid, heatmap and colorbar (.png, .svg or .pdf)", "OUT" },
    { "colormap", 0, 0, G_OPTION_ARG_STRING, &o.colormap, "Heatmap colours: viridis (default) or magma", "MAP" },
    { "opacity", 0, 0, G_OPTION_ARG_DOUBLE, &o.alpha, "Heatmap opacity over the image, 0..1 (default 0.6)", "A" },
    G_OPTION_ENTRY_NULL
  };

  ts_cli_image_options_init (&io);
  {
    /* tau from --settings FILE; flags override it (features: after parsing) */
    const TsSettings *st = ts_cli_settings ();
    o.tau = st->params.tau > 0 ? st->params.tau : TS_ATTENTION_DEFAULT_TAU;
  }
  context = ts_cli_context (
    "attention", "IMAGE (--query ROW,COL | --global | --distinct | --received)",
    "Feature attention maps without a model: A = softmax(X X^T / tau) on L2-normalised token features.\n"
    "  --query ROW,COL  row of A for one patch (on a brick wall every brick lights up)\n"
    "  --global         attention from the mean token (a stand-in for CLS attention)\n"
    "  --distinct       1 - mean cosine to all tokens: salient, non-redundant patches\n"
    "  --received       column mean of A: attention received from every query\n"
    "JSON: map (one float per patch, raster order), rows, cols, mode, tau.",
    "Examples:\n"
    "  tokenscope-cli attention photo.jpg --query 12,20 --png bricks.png\n"
    "  tokenscope-cli attention photo.jpg --global --tau 0.05 --json -\n"
    "  tokenscope-cli attention photo.jpg --distinct --features descriptor --resize square --size 336 "
    "--png distinct.png --colormap magma\n");
  ts_cli_add_image_options (context, &io);
  ts_cli_add_model_options (context, &mo);
  status = ts_cli_parse_args (context, entries, &argc, &argv, 1, 1, "expects exactly one IMAGE");
  if (status != TS_EXIT_OK)
    goto out;
  n_modes = (o.query != NULL) + o.global + o.distinct + o.received;
  if (n_modes != 1)
    {
      status = ts_cli_usage ("attention", "choose exactly one of --query ROW,COL, --global, --distinct, --received");
      goto out;
    }
  mode = o.query ? TS_ATTENTION_QUERY : o.global ? TS_ATTENTION_GLOBAL : o.distinct ? TS_ATTENTION_DISTINCT
                                                                                     : TS_ATTENTION_RECEIVED;
  if (!(o.tau > 0) || !isfinite (o.tau))
    {
      status = ts_cli_usage ("attention", "--tau must be a positive number");
      goto out;
    }
  if (!(o.alpha >= 0 && o.alpha <= 1))
    {
      status = ts_cli_usage ("attention", "--opacity must be between 0 and 1");
      goto out;
    }
  if (o.colormap != NULL && !ts_colormap_parse (o.colormap, &cmap, &error))
    {
      status = ts_cli_fail (error);
      goto out;
    }
  if (o.features == NULL)
    {
      const TsSettings *st = ts_cli_settings ();
      if (st->features == TS_FEATURES_DESCRIPTOR)
        o.features = g_strdup ("descriptor");
      else if (st->features == TS_FEATURES_NPY && st->features_file != NULL)
        o.features = g_strconcat ("npy:", st->features_file, NULL);
    }
  if (mo.file != NULL)
    {
      /* token features from the user's ViT; the map is computed on them */
      if ((vit = ts_cli_load_model (&mo, &error)) == NULL ||
          (scene = ts_cli_model_scene (vit, &mo, argv[1], &io, NULL, &error)) == NULL ||
          (o.query != NULL && !parse_query (o.query, &scene->grid, &qrow, &qcol, &error)))
        {
          status = ts_cli_fail (error);
          goto out;
        }
    }
  else
    {
      if ((image = ts_cli_load_image (argv[1], &io, &grid, &error)) == NULL)
        {
          status = ts_cli_fail (error);
          goto out;
        }
      if (o.query != NULL && !parse_query (o.query, &grid, &qrow, &qcol, &error))
        {
          ts_image_free (image);
          status = ts_cli_fail (error);
          goto out;
        }
      if ((features = load_features (o.features, image, &grid, &kind, &error)) == NULL)
        {
          ts_image_free (image);
          status = ts_cli_fail (error);
          goto out;
        }
      if ((scene = ts_scene_new (image, io.patch, kind, features, &error)) == NULL)
        {
          status = ts_cli_fail (error);
          goto out;
        }
    }
  map = g_new (float, scene->grid.tokens);
  if (!ts_attention_map (scene->normalized, mode, qrow * scene->grid.cols + qcol, o.tau, map, NULL, &error))
    {
      status = ts_cli_fail (error);
      goto out;
    }

  {
    g_autofree char *name = g_path_get_basename (argv[1]);
    const char *fname = mo.file ? "model"
                        : o.features ? (g_str_has_prefix (o.features, "npy:") ? "npy" : o.features) : "pixel";
    if (o.png != NULL)
      {
        g_autoptr (TsImage) heat = ts_colormap_overlay (scene->image, &scene->grid, map, cmap, o.alpha, &error);
        if (heat != NULL && mode == TS_ATTENTION_QUERY)
          mark_patch (heat, &scene->grid, qrow * scene->grid.cols + qcol);
        if (heat == NULL || !ts_image_save_png (heat, o.png, &error))
          {
            status = ts_cli_fail (error);
            goto out;
          }
      }
    if (o.overlay != NULL)
      {
        /* the figure shows the map scaled to its maximum (the colorbar reads 0..1 of the max) */
        g_autofree float *scaled = g_memdup2 (map, sizeof (float) * scene->grid.tokens);
        g_autoptr (TsOverlay) overlay = NULL;
        TsOverlayOptions oo;
        float lo = G_MAXFLOAT, hi = -G_MAXFLOAT;
        for (int i = 0; i < scene->grid.tokens; i++)
          lo = MIN (lo, scaled[i]), hi = MAX (hi, scaled[i]);
        for (int i = 0; i < scene->grid.tokens; i++)
          scaled[i] = hi > lo ? (scaled[i] - lo) / (hi - lo) : 0.0f;
        overlay = ts_overlay_new (&scene->grid, NULL, NULL, scaled);
        ts_overlay_options_init (&oo);
        oo.grid = TRUE;
        oo.heatmap = TRUE;
        oo.heat_opacity = o.alpha;
        oo.fill = TS_GROUP_FILL_NONE;
        oo.borders = FALSE;
        oo.query = mode == TS_ATTENTION_QUERY ? qrow * scene->grid.cols + qcol : -1;
        if (!ts_overlay_render_file (scene->image, overlay, &oo, o.overlay, &error))
          {
            status = ts_cli_fail (error);
            goto out;
          }
      }
    if (o.json != NULL)
      {
        g_autoptr (JsonNode) root = map_json (name, scene, mode, o.tau, qrow, qcol, fname, map);
        if (!ts_cli_write_json (root, o.json, &error))
          {
            status = ts_cli_fail (error);
            goto out;
          }
      }
    if (o.json == NULL || strcmp (o.json, "-") != 0)
      print_summary (name, scene, mode, o.tau, map);
  }

out:
  attention_options_clear (&o);
  ts_cli_model_options_clear (&mo);
  ts_cli_image_options_clear (&io);
  return status;
}
