/* model: a user's ViT from safetensors: info, features, attention maps, ToMe inside the model. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct {
  char *model;
  char *family;
  char *act;
  char *mean;
  char *std;
  char *config;
  int heads;
} ModelOptions;

static void
model_options_clear (ModelOptions *m)
{
  g_free (m->model);
  g_free (m->family);
  g_free (m->act);
  g_free (m->mean);
  g_free (m->std);
  g_free (m->config);
}

/* Image options where the model decides: its patch, square at its native size
 * unless --resize / --size say otherwise. */
static void
model_image_options_init (TsCliImageOptions *io)
{
  ts_cli_image_options_init (io);
  g_clear_pointer (&io->resize, g_free);
  io->patch = 0;
  io->size = 0;
}

static void
add_model_options (GOptionContext *context, ModelOptions *m, gboolean with_model)
{
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &m->model, "The model's .safetensors weights", "FILE" },
    { "family", 0, 0, G_OPTION_ARG_STRING, &m->family, "Weight naming: auto (default), timm, clip, siglip, dinov2", "NAME" },
    { "heads", 0, 0, G_OPTION_ARG_INT, &m->heads,
      "Attention heads (default: config.json beside the file, else head_dim 64)", "N" },
    { "act", 0, 0, G_OPTION_ARG_STRING, &m->act,
      "MLP activation: gelu, gelu_tanh, quick_gelu (default: config.json, else the family's)", "NAME" },
    { "norm-mean", 0, 0, G_OPTION_ARG_STRING, &m->mean, "Input mean R,G,B (default: the family's)", "R,G,B" },
    { "norm-std", 0, 0, G_OPTION_ARG_STRING, &m->std, "Input std R,G,B (default: the family's)", "R,G,B" },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &m->config, "A config.json to read instead of the one beside FILE", "FILE" },
    G_OPTION_ENTRY_NULL
  };
  GOptionGroup *group = g_option_group_new ("model", "Model options:", "Show model options", NULL, NULL);

  g_option_group_add_entries (group, with_model ? entries : entries + 1);
  g_option_context_add_group (context, group);
}

static gboolean
parse_triple (const char *text, const char *what, float out[3], GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);

  if (g_strv_length (parts) != 3)
    goto bad;
  for (int i = 0; i < 3; i++)
    {
      char *end = NULL;
      out[i] = (float) g_ascii_strtod (parts[i], &end);
      if (end == parts[i] || *end != '\0' || !isfinite (out[i]))
        goto bad;
    }
  return TRUE;
bad:
  g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "%s must be three numbers R,G,B, not '%s'", what, text);
  return FALSE;
}

static TsVit *
load_model (const char *path, const ModelOptions *m, GError **error)
{
  TsVitLoadOptions opt = { 0 };
  g_autoptr (TsVit) vit = NULL;

  if (path == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "--model FILE is required");
      return NULL;
    }
  if (m->family != NULL && !ts_vit_family_parse (m->family, &opt.family, error))
    return NULL;
  if (m->act != NULL && !ts_vit_act_parse (m->act, &opt.act, error))
    return NULL;
  if (m->heads < 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "--heads must be positive");
      return NULL;
    }
  opt.heads = m->heads;
  opt.config = m->config;
  vit = ts_vit_load (path, &opt, error);
  if (vit == NULL)
    return NULL;
  if (m->mean != NULL || m->std != NULL)
    {
      /* start from the family's values so one of the two may be given alone */
      float mean[3], std[3];
      memcpy (mean, ts_vit_info (vit)->mean, sizeof mean);
      memcpy (std, ts_vit_info (vit)->std, sizeof std);
      if ((m->mean != NULL && !parse_triple (m->mean, "--norm-mean", mean, error))
          || (m->std != NULL && !parse_triple (m->std, "--norm-std", std, error))
          || !ts_vit_set_normalization (vit, mean, std, error))
        return NULL;
    }
  return g_steal_pointer (&vit);
}

/* Loads IMAGE for @vit: --patch is the model's; the default resize is square
 * at the model's native resolution (its position grid times the patch). */
static TsImage *
load_image_for (const char *path, const TsVit *vit, TsCliImageOptions *io, TsGrid *grid, GError **error)
{
  const TsVitInfo *in = ts_vit_info (vit);

  if (io->patch != 0 && io->patch != in->patch)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "--patch %d differs from the model's patch size %d", io->patch, in->patch);
      return NULL;
    }
  io->patch = in->patch;
  if (io->size <= 0)
    io->size = in->pos_rows * in->patch;
  if (io->resize == NULL)
    io->resize = g_strdup ("square");
  return ts_cli_load_image (path, io, grid, error);
}

static void
add_info_json (JsonBuilder *b, const TsVit *vit, const char *file)
{
  const TsVitInfo *in = ts_vit_info (vit);

  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, file);
  json_builder_set_member_name (b, "family");
  json_builder_add_string_value (b, ts_vit_family_name (in->family));
  json_builder_set_member_name (b, "patch");
  json_builder_add_int_value (b, in->patch);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, in->width);
  json_builder_set_member_name (b, "depth");
  json_builder_add_int_value (b, in->depth);
  json_builder_set_member_name (b, "heads");
  json_builder_add_int_value (b, in->heads);
}

static void
print_info (const TsVit *vit, const TsSafetensors *st, gboolean tensors)
{
  const TsVitInfo *in = ts_vit_info (vit);
  guint counts[3] = { 0 };

  for (guint i = 0; i < ts_safetensors_n_tensors (st); i++)
    counts[ts_safetensors_tensor (st, i)->dtype]++;
  printf ("file          %s\n", ts_safetensors_name (st));
  printf ("family        %s%s%s%s\n", ts_vit_family_name (in->family), *in->prefix ? " (prefix '" : "", in->prefix,
          *in->prefix ? "')" : "");
  printf ("patch         %d\n", in->patch);
  printf ("width         %d\n", in->width);
  printf ("depth         %d\n", in->depth);
  printf ("heads         %d (head_dim %d; %s)\n", in->heads, in->head_dim, in->heads_source);
  printf ("mlp           %d\n", in->mlp);
  if (in->n_registers > 0)
    printf ("tokens        %s%d register%s before the patches\n", in->has_cls ? "CLS + " : "", in->n_registers,
            in->n_registers == 1 ? "" : "s");
  else
    printf ("tokens        %s\n", in->has_cls ? "CLS before the patches" : "patches only (no CLS)");
  printf ("native        %d x %d px (%d x %d positions)\n", in->pos_cols * in->patch, in->pos_rows * in->patch,
          in->pos_cols, in->pos_rows);
  printf ("activation    %s\n", ts_vit_act_name (in->act));
  printf ("layer norm    eps %g%s\n", in->ln_eps, in->layer_scale ? ", layer scale" : "");
  printf ("input         mean %.4f %.4f %.4f, std %.4f %.4f %.4f\n", in->mean[0], in->mean[1], in->mean[2],
          in->std[0], in->std[1], in->std[2]);
  printf ("embedding     %s\n", in->pooling);
  printf ("parameters    %.2f M used by the encoder\n", in->parameters / 1e6);
  printf ("tensors       %u in the file (F32 %u, F16 %u, BF16 %u), %.2f M values\n", ts_safetensors_n_tensors (st),
          counts[TS_DTYPE_F32], counts[TS_DTYPE_F16], counts[TS_DTYPE_BF16], ts_safetensors_numel (st) / 1e6);
  if (tensors)
    for (guint i = 0; i < ts_safetensors_n_tensors (st); i++)
      {
        const TsTensorInfo *t = ts_safetensors_tensor (st, i);
        g_autoptr (GString) shape = g_string_new ("[");
        for (int k = 0; k < t->ndim; k++)
          g_string_append_printf (shape, "%s%" G_GINT64_FORMAT, k ? ", " : "", t->shape[k]);
        g_string_append_c (shape, ']');
        printf ("  %-64s %-5s %s\n", t->name, ts_dtype_name (t->dtype), shape->str);
      }
}

static int
model_info (int argc, char **argv)
{
  ModelOptions m = { 0 };
  g_autofree char *json = NULL;
  gboolean tensors = FALSE;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsVit) vit = NULL;
  g_autoptr (TsSafetensors) st = NULL;
  int status = TS_EXIT_OK;
  GOptionEntry entries[] = {
    { "tensors", 't', 0, G_OPTION_ARG_NONE, &tensors, "List every tensor (name, dtype, shape)", NULL },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json, "Write JSON to FILE (- for standard output)", "FILE" },
    G_OPTION_ENTRY_NULL
  };

  context = ts_cli_context ("model info", "FILE", "What a .safetensors ViT is: family, patch, width, depth, heads, tensors.",
                            "Examples:\n"
                            "  tokenscope-cli model info clip-vit-large-patch14-336/model.safetensors\n"
                            "  tokenscope-cli model info dinov2-base/model.safetensors --tensors\n");
  add_model_options (context, &m, FALSE);
  status = ts_cli_parse_args (context, entries, &argc, &argv, 1, 1, "expects exactly one FILE");
  if (status != TS_EXIT_OK)
    goto out;
  if ((st = ts_safetensors_open (argv[1], &error)) == NULL || (vit = load_model (argv[1], &m, &error)) == NULL)
    status = ts_cli_fail (error);
  else if (json != NULL)
    {
      const TsVitInfo *in = ts_vit_info (vit);
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      json_builder_begin_object (b);
      add_info_json (b, vit, ts_safetensors_name (st));
      json_builder_set_member_name (b, "heads_source");
      json_builder_add_string_value (b, in->heads_source);
      json_builder_set_member_name (b, "head_dim");
      json_builder_add_int_value (b, in->head_dim);
      json_builder_set_member_name (b, "mlp");
      json_builder_add_int_value (b, in->mlp);
      json_builder_set_member_name (b, "cls");
      json_builder_add_boolean_value (b, in->has_cls);
      json_builder_set_member_name (b, "registers");
      json_builder_add_int_value (b, in->n_registers);
      json_builder_set_member_name (b, "native_size");
      json_builder_add_int_value (b, in->pos_rows * in->patch);
      json_builder_set_member_name (b, "activation");
      json_builder_add_string_value (b, ts_vit_act_name (in->act));
      ts_json_add_double (b, "layer_norm_eps", in->ln_eps);
      json_builder_set_member_name (b, "pooling");
      json_builder_add_string_value (b, in->pooling);
      json_builder_set_member_name (b, "parameters");
      json_builder_add_int_value (b, in->parameters);
      json_builder_set_member_name (b, "tensors");
      json_builder_begin_array (b);
      for (guint i = 0; i < ts_safetensors_n_tensors (st); i++)
        {
          const TsTensorInfo *t = ts_safetensors_tensor (st, i);
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "name");
          json_builder_add_string_value (b, t->name);
          json_builder_set_member_name (b, "dtype");
          json_builder_add_string_value (b, ts_dtype_name (t->dtype));
          json_builder_set_member_name (b, "shape");
          json_builder_begin_array (b);
          for (int k = 0; k < t->ndim; k++)
            json_builder_add_int_value (b, t->shape[k]);
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      if (!ts_cli_write_json (root, json, &error))
        status = ts_cli_fail (error);
    }
  else
    print_info (vit, st, tensors);
out:
  model_options_clear (&m);
  return status;
}

static int
model_features (int argc, char **argv)
{
  ModelOptions m = { 0 };
  TsCliImageOptions io;
  g_autofree char *json = NULL, *out_features = NULL, *out_embedding = NULL;
  gboolean final_norm = FALSE;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsVit) vit = NULL;
  g_autoptr (TsImage) image = NULL;
  g_autoptr (TsVitOutput) out = NULL;
  g_autoptr (TsFeatures) feat = NULL;
  TsVitRunOptions opt;
  TsGrid grid;
  int layer = -2, status = TS_EXIT_OK;
  GOptionEntry entries[] = {
    { "layer", 'l', 0, G_OPTION_ARG_INT, &layer,
      "hidden_states layer: 0 = embeddings, depth = last block, negative from the end (default -2, as LLaVA)", "L" },
    { "final-norm", 0, 0, G_OPTION_ARG_NONE, &final_norm, "Apply the final LayerNorm to the tokens", NULL },
    { "export-features", 'o', 0, G_OPTION_ARG_FILENAME, &out_features, "Write the patch tokens [N, D] as .npy", "OUT.npy" },
    { "export-embedding", 0, 0, G_OPTION_ARG_FILENAME, &out_embedding, "Write the final CLS / pooled embedding [D] as .npy", "OUT.npy" },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json, "Write a JSON summary to FILE (- for standard output)", "FILE" },
    G_OPTION_ENTRY_NULL
  };

  model_image_options_init (&io);
  context = ts_cli_context ("model features", "IMAGE --model FILE",
                            "Run the model on IMAGE and export the patch tokens of one layer (CLS and registers dropped).\n"
                            "The image is resized square to the model's native resolution unless --resize/--size say otherwise;\n"
                            "position embeddings are interpolated bicubically for other sizes.",
                            "Examples:\n"
                            "  tokenscope-cli model features photo.jpg --model clip-vit-large-patch14-336/model.safetensors \\\n"
                            "      --export-features photo-clip.npy\n"
                            "  tokenscope-cli model features scan.png --model dinov2-base/model.safetensors --layer -1 \\\n"
                            "      --final-norm --resize fit --size 518 --export-features scan.npy --json -\n");
  add_model_options (context, &m, TRUE);
  ts_cli_add_image_options (context, &io);
  status = ts_cli_parse_args (context, entries, &argc, &argv, 1, 1, "expects exactly one IMAGE");
  if (status != TS_EXIT_OK)
    goto out;
  if ((vit = load_model (m.model, &m, &error)) == NULL
      || (image = load_image_for (argv[1], vit, &io, &grid, &error)) == NULL)
    {
      status = ts_cli_fail (error);
      goto out;
    }
  ts_vit_run_options_init (&opt);
  opt.layer = layer;
  opt.final_norm = final_norm;
  opt.embedding = out_embedding != NULL || json != NULL;
  if ((out = ts_vit_run (vit, image, &opt, NULL, &error)) == NULL || (feat = ts_vit_output_features (out, &error)) == NULL
      || (out_features != NULL && !ts_features_save_npy (feat, out_features, &error)))
    {
      status = ts_cli_fail (error);
      goto out;
    }
  if (out_embedding != NULL)
    {
      gint64 shape[1] = { out->d };
      if (!ts_npy_write (out_embedding, out->embedding, 1, shape, &error))
        {
          status = ts_cli_fail (error);
          goto out;
        }
    }
  if (json != NULL)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      g_autofree char *name = g_path_get_basename (argv[1]);
      g_autofree char *mname = ts_display_name (m.model);
      double norm = 0;
      for (int k = 0; k < out->d; k++)
        norm += (double) out->embedding[k] * out->embedding[k];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "image");
      json_builder_add_string_value (b, name);
      add_info_json (b, vit, mname);
      json_builder_set_member_name (b, "layer");
      json_builder_add_int_value (b, out->layer);
      json_builder_set_member_name (b, "width_px");
      json_builder_add_int_value (b, grid.width);
      json_builder_set_member_name (b, "height_px");
      json_builder_add_int_value (b, grid.height);
      json_builder_set_member_name (b, "rows");
      json_builder_add_int_value (b, out->rows);
      json_builder_set_member_name (b, "cols");
      json_builder_add_int_value (b, out->cols);
      json_builder_set_member_name (b, "tokens");
      json_builder_add_int_value (b, out->rows * out->cols);
      json_builder_set_member_name (b, "prefix_tokens");
      json_builder_add_int_value (b, out->n_prefix);
      json_builder_set_member_name (b, "d");
      json_builder_add_int_value (b, out->d);
      ts_json_add_double (b, "embedding_norm", sqrt (norm));
      if (out_features != NULL)
        {
          json_builder_set_member_name (b, "features");
          json_builder_add_string_value (b, out_features);
        }
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      if (!ts_cli_write_json (root, json, &error))
        status = ts_cli_fail (error);
    }
  else
    printf ("%s: layer %d of %d, %d x %d patches of %d px, %d tokens x %d%s%s\n", argv[1], out->layer,
            ts_vit_info (vit)->depth, out->cols, out->rows, ts_vit_info (vit)->patch, out->rows * out->cols, out->d,
            out_features ? " -> " : "", out_features ? out_features : "");
out:
  ts_cli_image_options_clear (&io);
  model_options_clear (&m);
  return status;
}

/* A heat overlay: the image darkened, the map (nearest per patch) as a warm ramp on top. */
static TsImage *
overlay (const TsImage *image, const TsGrid *grid, const float *map)
{
  TsImage *o = ts_image_copy (image);

  for (int y = 0; y < grid->rows * grid->patch; y++)
    for (int x = 0; x < grid->cols * grid->patch; x++)
      {
        float v = map[(y / grid->patch) * grid->cols + x / grid->patch];
        guint8 *p = o->data + ((gsize) y * o->width + x) * 3;
        float heat[3] = { MIN (1.0f, 3 * v) * 255, CLAMP (3 * v - 1, 0, 1) * 255, CLAMP (3 * v - 2, 0, 1) * 255 };
        for (int c = 0; c < 3; c++)
          p[c] = (guint8) (0.35f * p[c] + 0.65f * heat[c] + 0.5f);
      }
  return o;
}

static int
model_attention (int argc, char **argv)
{
  ModelOptions m = { 0 };
  TsCliImageOptions io;
  g_autofree char *json = NULL, *png = NULL, *fusion_text = NULL;
  gboolean rollout = FALSE;
  double discard = 0;
  int layer = G_MININT, head = -1, status = TS_EXIT_OK;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsVit) vit = NULL;
  g_autoptr (TsImage) image = NULL;
  g_autoptr (TsVitOutput) out = NULL;
  g_autofree float *map = NULL;
  TsHeadFusion fusion = TS_HEAD_FUSION_MEAN;
  TsVitRunOptions opt;
  TsGrid grid;
  int block = 0;
  GOptionEntry entries[] = {
    { "rollout", 'r', 0, G_OPTION_ARG_NONE, &rollout, "Attention rollout over all blocks (rows normalised)", NULL },
    { "head-fusion", 0, 0, G_OPTION_ARG_STRING, &fusion_text, "How heads combine: mean (default), max, min", "HOW" },
    { "discard", 0, 0, G_OPTION_ARG_DOUBLE, &discard, "Rollout: zero this lowest fraction per block, 0..1 (default 0)", "F" },
    { "layer", 'l', 0, G_OPTION_ARG_INT, &layer, "Block whose CLS attention to show, 0-based, negative from the end", "L" },
    { "head", 0, 0, G_OPTION_ARG_INT, &head, "One head (default: fuse all with --head-fusion)", "H" },
    { "png", 0, 0, G_OPTION_ARG_FILENAME, &png, "Write the map over the image as PNG", "FILE" },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json, "Write JSON to FILE (- for standard output)", "FILE" },
    G_OPTION_ENTRY_NULL
  };

  model_image_options_init (&io);
  context = ts_cli_context ("model attention", "IMAGE --model FILE (--rollout | --layer L)",
                            "Attention maps of the model on IMAGE: the CLS query's attention in one block (DINO convention),\n"
                            "or attention rollout. Maps cover the patch grid, CLS and registers left out, scaled to max 1.\n"
                            "SigLIP has no CLS token: its maps use the mean query (the mean of all attention rows) and say so.",
                            "Examples:\n"
                            "  tokenscope-cli model attention cat.jpg --model dinov2-base/model.safetensors --layer -1 --png cls.png\n"
                            "  tokenscope-cli model attention cat.jpg --model clip-vit-base-patch16/model.safetensors \\\n"
                            "      --rollout --head-fusion max --discard 0.9 --json -\n");
  add_model_options (context, &m, TRUE);
  ts_cli_add_image_options (context, &io);
  status = ts_cli_parse_args (context, entries, &argc, &argv, 1, 1, "expects exactly one IMAGE");
  if (status != TS_EXIT_OK)
    goto out;
  if (rollout == (layer != G_MININT))
    {
      status = ts_cli_usage ("model attention", "give either --rollout or --layer L");
      goto out;
    }
  if (rollout && head != -1)
    {
      status = ts_cli_usage ("model attention", "--head applies to --layer, not --rollout");
      goto out;
    }
  if (fusion_text != NULL && !ts_head_fusion_parse (fusion_text, &fusion, &error))
    {
      status = ts_cli_fail (error);
      goto out;
    }
  if ((vit = load_model (m.model, &m, &error)) == NULL
      || (image = load_image_for (argv[1], vit, &io, &grid, &error)) == NULL)
    {
      status = ts_cli_fail (error);
      goto out;
    }
  ts_vit_run_options_init (&opt);
  if (rollout)
    {
      opt.rollout = TRUE;
      opt.fusion = fusion;
      opt.discard = discard;
      opt.layer = 0;
    }
  else
    {
      int depth = ts_vit_info (vit)->depth;
      block = layer < 0 ? depth + layer : layer;
      if (block < 0 || block >= depth)
        {
          g_set_error (&error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "--layer %d is outside %d..%d for %d blocks", layer,
                       -depth, depth - 1, depth);
          status = ts_cli_fail (error);
          goto out;
        }
      if (head < -1 || head >= ts_vit_info (vit)->heads)
        {
          g_set_error (&error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "--head %d is outside 0..%d", head,
                       ts_vit_info (vit)->heads - 1);
          status = ts_cli_fail (error);
          goto out;
        }
      opt.query_attention = TRUE;
      opt.layer = block + 1;
    }
  if ((out = ts_vit_run (vit, image, &opt, NULL, &error)) == NULL
      || (map = rollout ? ts_model_attention_rollout_map (out, &error)
                        : ts_model_attention_query_map (out, block, head, fusion, &error)) == NULL)
    {
      status = ts_cli_fail (error);
      goto out;
    }
  if (!ts_vit_info (vit)->has_cls)
    fprintf (stderr, "tokenscope-cli: note: %s has no CLS token; the map uses the mean query instead\n",
             ts_vit_family_name (ts_vit_info (vit)->family));
  if (png != NULL)
    {
      g_autoptr (TsImage) o = overlay (image, &grid, map);
      if (!ts_image_save_png (o, png, &error))
        {
          status = ts_cli_fail (error);
          goto out;
        }
    }
  if (json != NULL)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      g_autofree char *name = g_path_get_basename (argv[1]);
      g_autofree char *mname = ts_display_name (m.model);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "image");
      json_builder_add_string_value (b, name);
      add_info_json (b, vit, mname);
      json_builder_set_member_name (b, "kind");
      json_builder_add_string_value (b, rollout ? "rollout" : "attention");
      json_builder_set_member_name (b, "query");
      json_builder_add_string_value (b, out->query_is_cls ? "cls" : "mean");
      if (rollout)
        {
          ts_json_add_double (b, "discard", discard);
        }
      else
        {
          json_builder_set_member_name (b, "layer");
          json_builder_add_int_value (b, block);
          json_builder_set_member_name (b, "head");
          if (head >= 0)
            json_builder_add_int_value (b, head);
          else
            json_builder_add_null_value (b);
        }
      json_builder_set_member_name (b, "head_fusion");
      if (rollout || head < 0)
        json_builder_add_string_value (b, ts_head_fusion_name (fusion));
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "rows");
      json_builder_add_int_value (b, out->rows);
      json_builder_set_member_name (b, "cols");
      json_builder_add_int_value (b, out->cols);
      json_builder_set_member_name (b, "map");
      json_builder_begin_array (b);
      for (int r = 0; r < out->rows; r++)
        {
          json_builder_begin_array (b);
          for (int c = 0; c < out->cols; c++)
            json_builder_add_double_value (b, map[r * out->cols + c]);
          json_builder_end_array (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      if (!ts_cli_write_json (root, json, &error))
        status = ts_cli_fail (error);
    }
  else
    {
      int best = 0;
      for (int i = 1; i < out->rows * out->cols; i++)
        if (map[i] > map[best])
          best = i;
      printf ("%s: %s %s map, %d x %d patches; peak at row %d col %d%s%s\n", argv[1],
              rollout ? "rollout" : "attention", out->query_is_cls ? "CLS" : "mean-query", out->cols, out->rows,
              best / out->cols, best % out->cols, png ? " -> " : "", png ? png : "");
    }
out:
  ts_cli_image_options_clear (&io);
  model_options_clear (&m);
  return status;
}

static int
model_tome (int argc, char **argv)
{
  ModelOptions m = { 0 };
  TsCliImageOptions io;
  g_autofree char *json = NULL, *schedule = NULL;
  gboolean no_prop = FALSE;
  int r = 0, status = TS_EXIT_OK;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TsVit) vit = NULL;
  g_autoptr (TsImage) image = NULL;
  g_autoptr (TsVitOutput) merged = NULL;
  TsVitRunOptions opt;
  TsGrid grid;
  double fidelity = NAN;
  GOptionEntry entries[] = {
    { "r", 'r', 0, G_OPTION_ARG_INT, &r, "Tokens merged per block", "R" },
    { "schedule", 0, 0, G_OPTION_ARG_STRING, &schedule,
      "constant (default) or decreasing (1.5 r down to 0.5 r, ToMe's inflect -0.5)", "HOW" },
    { "no-prop-attn", 0, 0, G_OPTION_ARG_NONE, &no_prop, "Without proportional attention (log size on the logits)", NULL },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json, "Write JSON to FILE (- for standard output)", "FILE" },
    G_OPTION_ENTRY_NULL
  };

  model_image_options_init (&io);
  context = ts_cli_context ("model tome", "IMAGE --model FILE --r R",
                            "ToMe inside the model: merge R tokens in every block (bipartite soft matching on the keys\n"
                            "averaged over heads, proportional attention) and report model_fidelity, the cosine between\n"
                            "the final embedding with and without merging.",
                            "Example:\n"
                            "  tokenscope-cli model tome photo.jpg --model vit-base-patch16-224.safetensors --r 8 --json -\n");
  add_model_options (context, &m, TRUE);
  ts_cli_add_image_options (context, &io);
  status = ts_cli_parse_args (context, entries, &argc, &argv, 1, 1, "expects exactly one IMAGE");
  if (status != TS_EXIT_OK)
    goto out;
  if (r <= 0)
    {
      status = ts_cli_usage ("model tome", "--r must be a positive number of tokens per block");
      goto out;
    }
  ts_vit_run_options_init (&opt);
  opt.tome_r = r;
  opt.tome_no_prop_attn = no_prop;
  if (schedule == NULL || strcmp (schedule, "constant") == 0)
    opt.tome_inflect = 0;
  else if (strcmp (schedule, "decreasing") == 0)
    opt.tome_inflect = -0.5;
  else
    {
      status = ts_cli_usage ("model tome", "--schedule is constant or decreasing");
      goto out;
    }
  if ((vit = load_model (m.model, &m, &error)) == NULL
      || (image = load_image_for (argv[1], vit, &io, &grid, &error)) == NULL
      || !ts_vit_tome_fidelity (vit, image, &opt, &fidelity, &merged, NULL, &error))
    {
      status = ts_cli_fail (error);
      goto out;
    }
  if (json != NULL)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      g_autofree char *name = g_path_get_basename (argv[1]);
      g_autofree char *mname = ts_display_name (m.model);
      int np = merged->rows * merged->cols, left = merged->tome_tokens - merged->n_prefix;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "image");
      json_builder_add_string_value (b, name);
      add_info_json (b, vit, mname);
      json_builder_set_member_name (b, "r");
      json_builder_add_int_value (b, r);
      json_builder_set_member_name (b, "schedule");
      json_builder_begin_array (b);
      for (int i = 0; i < merged->depth; i++)
        json_builder_add_int_value (b, merged->tome_schedule[i]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "tokens_in");
      json_builder_add_int_value (b, np);
      json_builder_set_member_name (b, "tokens_out");
      json_builder_add_int_value (b, left);
      ts_json_add_double (b, "ratio", (double) np / MAX (left, 1));
      ts_json_add_double (b, "model_fidelity", fidelity);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      if (!ts_cli_write_json (root, json, &error))
        status = ts_cli_fail (error);
    }
  else
    printf ("%s: %d -> %d patch tokens after %d blocks (r %d, %s), model_fidelity %.6f\n", argv[1],
            merged->rows * merged->cols, merged->tome_tokens - merged->n_prefix, merged->depth, r,
            opt.tome_inflect < 0 ? "decreasing" : "constant", fidelity);
out:
  ts_cli_image_options_clear (&io);
  model_options_clear (&m);
  return status;
}

static const TsCliCommand model_commands[] = {
  { "info", model_info, "family, patch, width, depth, heads and tensors of a .safetensors ViT" },
  { "features", model_features, "patch tokens of one layer, exported as .npy" },
  { "attention", model_attention, "CLS attention of a block, or attention rollout" },
  { "tome", model_tome, "ToMe inside the model and its model_fidelity" },
};

int
ts_cli_model (int argc, char **argv)
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      FILE *f = argc < 2 ? stderr : stdout;
      fprintf (f, "Usage: tokenscope-cli model SUBCOMMAND ...\n\nA user's ViT from .safetensors weights "
                  "(timm, Hugging Face CLIP, SigLIP, DINOv2), fp32 on OpenBLAS.\n\nSubcommands:\n");
      for (guint i = 0; i < G_N_ELEMENTS (model_commands); i++)
        fprintf (f, "  %-12s %s\n", model_commands[i].name, model_commands[i].summary);
      fprintf (f, "\nRun 'tokenscope-cli model SUBCOMMAND --help' for options and examples.\n");
      return argc < 2 ? TS_EXIT_USAGE : TS_EXIT_OK;
    }
  for (guint i = 0; i < G_N_ELEMENTS (model_commands); i++)
    if (strcmp (argv[1], model_commands[i].name) == 0)
      {
        /* argv[0] becomes "model SUBCOMMAND" for messages */
        g_autofree char *name = g_strdup_printf ("model %s", argv[1]);
        char *saved = argv[1];
        int status;
        argv[1] = name;
        status = model_commands[i].func (argc - 1, argv + 1);
        argv[1] = saved;
        return status;
      }
  fprintf (stderr, "tokenscope-cli model: unknown subcommand '%s' (info, features, attention, tome)\n", argv[1]);
  return TS_EXIT_USAGE;
}
