#include "ts-vit.h"
#include "ts-error.h"
#include "ts-features.h"
#include "ts-io.h"
#include "ts-model-attention.h"

#include <cblas.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Attention scores are computed in row blocks of at most this many floats. */
#define SCORE_BLOCK_FLOATS ((gsize) 1 << 22)
/* Rollout keeps one fused n x n matrix per block: refuse beyond this. */
#define ROLLOUT_MAX_BYTES ((guint64) 2 << 30)
/* Full attention matrices kept for the layers asked for: refuse beyond this. */
#define ATTN_MAX_BYTES ((guint64) 2 << 30)

/* The four matrices of a block are kept transposed (in x out, "wt") once
 * loaded: the forward multiplies by them without a transposed operand,
 * which OpenBLAS packs faster. */
typedef struct {
  float *ln1_w, *ln1_b;
  float *qkv_w, *qkv_b; /* 3D x D (q, k, v stacked, timm layout), then D x 3D; 3D */
  float *proj_w, *proj_b;
  float *ls1, *ls2;     /* D or NULL */
  float *ln2_w, *ln2_b;
  float *fc1_w, *fc1_b; /* M x D, then D x M */
  float *fc2_w, *fc2_b; /* D x M, then M x D */
} Block;

struct _TsVit {
  TsVitInfo info;
  float *patch_w, *patch_b; /* D x 3PP (channel, y, x), D or NULL */
  float *cls;               /* D or NULL */
  float *reg;               /* n_registers x D or NULL */
  float *pos;               /* (pos_prefix + pos_rows * pos_cols) x D */
  int pos_prefix;           /* position entries of prefix tokens: 0, 1 (CLS) or n_prefix */
  gboolean dinov2_offset;   /* interpolate with scale_factor (grid + 0.1) / stored */
  float *pre_w, *pre_b;     /* norm_pre / pre_layrnorm or NULL */
  float *norm_w, *norm_b;   /* final LayerNorm or NULL */
  gboolean avg_pool;        /* timm fc_norm: mean of patch tokens then fc_norm (in norm_w) */
  /* SigLIP attention-pooling head */
  float *probe, *head_in_w, *head_in_b, *head_out_w, *head_out_b, *head_ln_w, *head_ln_b;
  float *head_fc1_w, *head_fc1_b, *head_fc2_w, *head_fc2_b;
  int head_mlp;
  Block *blocks;
  GPtrArray *owned;
};

static const float imagenet_mean[3] = { 0.485f, 0.456f, 0.406f };
static const float imagenet_std[3] = { 0.229f, 0.224f, 0.225f };

/* ---- names ---- */

static const char *const family_names[] = { "auto", "timm", "clip", "siglip", "dinov2" };
static const char *const act_names[] = { "default", "gelu", "gelu_tanh", "quick_gelu" };
static const char *const fusion_names[] = { "mean", "max", "min" };

const char *
ts_vit_family_name (TsVitFamily family)
{
  return (guint) family < G_N_ELEMENTS (family_names) ? family_names[family] : "?";
}

gboolean
ts_vit_family_parse (const char *text, TsVitFamily *family, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (family_names); i++)
    if (text != NULL && g_ascii_strcasecmp (text, family_names[i]) == 0)
      {
        *family = (TsVitFamily) i;
        return TRUE;
      }
  g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
               "unknown model family '%s' (auto, timm, clip, siglip or dinov2)", text ? text : "");
  return FALSE;
}

const char *
ts_vit_act_name (TsVitAct act)
{
  return (guint) act < G_N_ELEMENTS (act_names) ? act_names[act] : "?";
}

gboolean
ts_vit_act_parse (const char *text, TsVitAct *act, GError **error)
{
  static const struct {
    const char *name;
    TsVitAct act;
  } aliases[] = {
    { "default", TS_VIT_ACT_DEFAULT }, { "gelu", TS_VIT_ACT_GELU },
    { "gelu_tanh", TS_VIT_ACT_GELU_TANH }, { "gelu_pytorch_tanh", TS_VIT_ACT_GELU_TANH },
    { "gelu_new", TS_VIT_ACT_GELU_TANH }, { "quick_gelu", TS_VIT_ACT_QUICK_GELU },
  };
  for (guint i = 0; i < G_N_ELEMENTS (aliases); i++)
    if (text != NULL && g_ascii_strcasecmp (text, aliases[i].name) == 0)
      {
        *act = aliases[i].act;
        return TRUE;
      }
  g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
               "unknown activation '%s' (gelu, gelu_tanh or quick_gelu)", text ? text : "");
  return FALSE;
}

const char *
ts_head_fusion_name (TsHeadFusion fusion)
{
  return (guint) fusion < G_N_ELEMENTS (fusion_names) ? fusion_names[fusion] : "?";
}

gboolean
ts_head_fusion_parse (const char *text, TsHeadFusion *fusion, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (fusion_names); i++)
    if (text != NULL && g_ascii_strcasecmp (text, fusion_names[i]) == 0)
      {
        *fusion = (TsHeadFusion) i;
        return TRUE;
      }
  g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "unknown head fusion '%s' (mean, max or min)",
               text ? text : "");
  return FALSE;
}

/* ---- loading ---- */

typedef struct {
  const TsSafetensors *st;
  TsVit *vit;
  const char *prefix;
} Loader;

static const TsTensorInfo *
find (const Loader *L, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static const TsTensorInfo *
find (const Loader *L, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *rest = NULL;
  g_autofree char *name = NULL;

  va_start (ap, fmt);
  rest = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  name = g_strconcat (L->prefix, rest, NULL);
  return ts_safetensors_find (L->st, name);
}

static float *
alloc_owned (TsVit *vit, gint64 n, GError **error)
{
  float *p;

  if (n <= 0 || (guint64) n > G_MAXSIZE / 8 || (p = g_try_new (float, n)) == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "cannot allocate %" G_GINT64_FORMAT " weights", n);
      return NULL;
    }
  g_ptr_array_add (vit->owned, p);
  return p;
}

/* Converts tensor @name (prefix added) into @dest after checking it holds
 * @numel values. Missing and !required: returns FALSE without error. */
static gboolean
take_into (const Loader *L, float *dest, gint64 numel, gboolean required, const char *name, GError **error)
{
  g_autofree char *full = g_strconcat (L->prefix, name, NULL);
  const TsTensorInfo *t = ts_safetensors_find (L->st, full);

  if (t == NULL)
    {
      if (required)
        g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: tensor '%s' is missing for a %s model",
                     ts_safetensors_name (L->st), full, ts_vit_family_name (L->vit->info.family));
      return FALSE;
    }
  if (t->numel != numel)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                   "%s: tensor '%s' has %" G_GINT64_FORMAT " values; a %s model of width %d needs %" G_GINT64_FORMAT,
                   ts_safetensors_name (L->st), full, t->numel, ts_vit_family_name (L->vit->info.family),
                   L->vit->info.width, numel);
      return FALSE;
    }
  ts_safetensors_convert (L->st, t, dest);
  ts_safetensors_evict (L->st, t);
  L->vit->info.parameters += numel;
  return TRUE;
}

/* Allocates and loads; NULL with @error set when required and missing or
 * mismatched, NULL without error when optional and missing. */
static float *
take (const Loader *L, gint64 numel, gboolean required, GError **error, const char *fmt, ...) G_GNUC_PRINTF (5, 6);

static float *
take (const Loader *L, gint64 numel, gboolean required, GError **error, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *name = NULL;
  g_autofree char *full = NULL;
  float *dest;
  GError *local = NULL;

  va_start (ap, fmt);
  name = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  full = g_strconcat (L->prefix, name, NULL);
  if (ts_safetensors_find (L->st, full) == NULL && !required)
    return NULL;
  dest = alloc_owned (L->vit, numel, error);
  if (dest == NULL)
    return NULL;
  if (!take_into (L, dest, numel, required, name, &local))
    {
      g_propagate_error (error, local);
      return NULL;
    }
  return dest;
}

/* The prefix before @suffix of the first tensor name ending with it whose
 * prefix also has @companion; NULL if none. Prefers "vision" prefixes. */
static char *
find_prefix (const TsSafetensors *st, const char *suffix, const char *companion)
{
  char *best = NULL;
  gsize ls = strlen (suffix);

  for (guint i = 0; i < ts_safetensors_n_tensors (st); i++)
    {
      const char *name = ts_safetensors_tensor (st, i)->name;
      gsize ln = strlen (name);
      g_autofree char *prefix = NULL;
      g_autofree char *comp = NULL;
      if (ln < ls || strcmp (name + ln - ls, suffix) != 0)
        continue;
      if (ln > ls && name[ln - ls - 1] != '.')
        continue;
      prefix = g_strndup (name, ln - ls);
      comp = g_strconcat (prefix, companion, NULL);
      if (ts_safetensors_find (st, comp) == NULL)
        continue;
      if (best == NULL || (strstr (prefix, "vision") != NULL && strstr (best, "vision") == NULL))
        {
          g_free (best);
          best = g_steal_pointer (&prefix);
        }
    }
  return best;
}

static const struct {
  TsVitFamily family;
  const char *block0;   /* marker of block 0 */
  const char *patch;    /* patch embedding weight */
} markers[] = {
  { TS_VIT_FAMILY_TIMM, "blocks.0.attn.qkv.weight", "patch_embed.proj.weight" },
  { TS_VIT_FAMILY_CLIP, "encoder.layers.0.self_attn.q_proj.weight", "embeddings.class_embedding" },
  { TS_VIT_FAMILY_SIGLIP, "encoder.layers.0.self_attn.q_proj.weight", "embeddings.patch_embedding.weight" },
  { TS_VIT_FAMILY_DINOV2, "encoder.layer.0.attention.attention.query.weight",
    "embeddings.patch_embeddings.projection.weight" },
};

static char *
detect (const TsSafetensors *st, TsVitFamily *family, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (markers); i++)
    {
      char *prefix;
      if (*family != TS_VIT_FAMILY_AUTO && *family != markers[i].family)
        continue;
      prefix = find_prefix (st, markers[i].block0, markers[i].patch);
      if (prefix != NULL)
        {
          *family = markers[i].family;
          return prefix;
        }
      /* SigLIP files lack class_embedding; a CLIP file always has it. */
    }
  if (*family == TS_VIT_FAMILY_AUTO)
    g_set_error (error, TS_ERROR, TS_ERROR_UNSUPPORTED,
                 "%s: no ViT naming recognised (timm 'blocks.0.attn.qkv.weight', Hugging Face CLIP/SigLIP "
                 "'vision_model.encoder.layers.0.self_attn.q_proj.weight', DINOv2 "
                 "'encoder.layer.0.attention.attention.query.weight'); try --family",
                 ts_safetensors_name (st));
  else
    g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: no tensors of the %s naming (expected '...%s' and '...%s')",
                 ts_safetensors_name (st), ts_vit_family_name (*family), markers[0].block0, markers[0].patch);
  return NULL;
}

typedef struct {
  int heads;
  TsVitAct act;
  double eps;
} Config;

static void
read_config_object (JsonObject *o, Config *c)
{
  if (json_object_has_member (o, "num_attention_heads"))
    c->heads = (int) json_object_get_int_member (o, "num_attention_heads");
  if (json_object_has_member (o, "hidden_act"))
    {
      JsonNode *n = json_object_get_member (o, "hidden_act");
      if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
        ts_vit_act_parse (json_node_get_string (n), &c->act, NULL);
    }
  if (json_object_has_member (o, "layer_norm_eps"))
    c->eps = json_object_get_double_member (o, "layer_norm_eps");
}

/* Reads what config.json says about heads, activation and LN eps. A missing
 * file is fine; a malformed one is an error (the user would want to know). */
static gboolean
read_config (const char *path, gboolean explicit_path, Config *c, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  JsonNode *root;

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      if (explicit_path)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_IO, "%s: no such config file", path);
          return FALSE;
        }
      return TRUE;
    }
  if (!json_parser_load_from_mapped_file (parser, path, &local))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: not valid JSON: %s", path, local->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return TRUE;
  read_config_object (json_node_get_object (root), c);
  if (json_object_has_member (json_node_get_object (root), "vision_config"))
    {
      JsonNode *v = json_object_get_member (json_node_get_object (root), "vision_config");
      if (JSON_NODE_HOLDS_OBJECT (v))
        read_config_object (json_node_get_object (v), c);
    }
  return TRUE;
}

static int
standard_heads (int width)
{
  switch (width)
    {
    case 1152: /* SigLIP so400m */
    case 1280: /* ViT-H */
    case 1408: /* ViT-g (OpenCLIP) */
    case 1664: /* ViT-bigG */
      return 16;
    default:
      return width % 64 == 0 ? width / 64 : 1;
    }
}

static gboolean
check_shape4 (const TsSafetensors *st, const TsTensorInfo *t, GError **error)
{
  if (t->ndim != 4 || t->shape[1] != 3 || t->shape[2] != t->shape[3] || t->shape[2] < TS_PATCH_MIN
      || t->shape[2] > TS_PATCH_MAX || t->shape[0] < 1 || t->shape[0] > 65536)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA,
                   "%s: the patch embedding '%s' should be [width, 3, P, P] with P in %d..%d", ts_safetensors_name (st),
                   t->name, TS_PATCH_MIN, TS_PATCH_MAX);
      return FALSE;
    }
  return TRUE;
}

static gboolean
isqrt_exact (gint64 v, int *root)
{
  gint64 r = (gint64) llround (sqrt ((double) v));

  if (v <= 0 || r * r != v)
    return FALSE;
  *root = (int) r;
  return TRUE;
}

static gboolean
take_qkv (const Loader *L, Block *b, const char *p, const char *const names[3], GError **error)
{
  gint64 D = L->vit->info.width;

  if (!(b->qkv_w = alloc_owned (L->vit, 3 * D * D, error)) || !(b->qkv_b = alloc_owned (L->vit, 3 * D, error)))
    return FALSE;
  for (int k = 0; k < 3; k++)
    {
      g_autofree char *w = g_strdup_printf ("%s%s.weight", p, names[k]);
      g_autofree char *bias = g_strdup_printf ("%s%s.bias", p, names[k]);
      if (!take_into (L, b->qkv_w + k * D * D, D * D, TRUE, w, error)
          || !take_into (L, b->qkv_b + k * D, D, TRUE, bias, error))
        return FALSE;
    }
  return TRUE;
}

/* w (rows x cols) becomes its transpose (cols x rows), through @tmp of the
 * same size (OpenBLAS's omatcopy: about 3x a plain tiled loop). */
static void
transpose_in_place (float *w, int rows, int cols, float *tmp)
{
  memcpy (tmp, w, (gsize) rows * cols * sizeof (float));
  cblas_somatcopy (CblasRowMajor, CblasTrans, rows, cols, 1.0f, tmp, cols, w, rows);
}

/* Puts the block matrices in the (in x out) layout the forward uses. */
static gboolean
transpose_blocks (TsVit *vit, GError **error)
{
  int D = vit->info.width, M = vit->info.mlp;
  g_autofree float *tmp = g_try_new (float, (gsize) MAX (3 * D, M) * D);

  if (tmp == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "cannot allocate %d x %d floats to lay out the weights",
                   MAX (3 * D, M), D);
      return FALSE;
    }
  for (int i = 0; i < vit->info.depth; i++)
    {
      Block *b = &vit->blocks[i];
      transpose_in_place (b->qkv_w, 3 * D, D, tmp);
      transpose_in_place (b->proj_w, D, D, tmp);
      transpose_in_place (b->fc1_w, M, D, tmp);
      transpose_in_place (b->fc2_w, D, M, tmp);
    }
  return TRUE;
}

static gboolean
load_blocks (const Loader *L, GError **error)
{
  TsVit *vit = L->vit;
  TsVitInfo *in = &vit->info;
  gint64 D = in->width, M = in->mlp;

  vit->blocks = g_new0 (Block, in->depth);
  g_ptr_array_add (vit->owned, vit->blocks);
  for (int i = 0; i < in->depth; i++)
    {
      Block *b = &vit->blocks[i];
      GError *e = NULL;
      switch (in->family)
        {
        case TS_VIT_FAMILY_TIMM:
          if (!(b->ln1_w = take (L, D, TRUE, &e, "blocks.%d.norm1.weight", i))
              || !(b->ln1_b = take (L, D, TRUE, &e, "blocks.%d.norm1.bias", i))
              || !(b->qkv_w = take (L, 3 * D * D, TRUE, &e, "blocks.%d.attn.qkv.weight", i))
              || !(b->proj_w = take (L, D * D, TRUE, &e, "blocks.%d.attn.proj.weight", i))
              || !(b->proj_b = take (L, D, TRUE, &e, "blocks.%d.attn.proj.bias", i))
              || !(b->ln2_w = take (L, D, TRUE, &e, "blocks.%d.norm2.weight", i))
              || !(b->ln2_b = take (L, D, TRUE, &e, "blocks.%d.norm2.bias", i))
              || !(b->fc1_w = take (L, M * D, TRUE, &e, "blocks.%d.mlp.fc1.weight", i))
              || !(b->fc1_b = take (L, M, TRUE, &e, "blocks.%d.mlp.fc1.bias", i))
              || !(b->fc2_w = take (L, D * M, TRUE, &e, "blocks.%d.mlp.fc2.weight", i))
              || !(b->fc2_b = take (L, D, TRUE, &e, "blocks.%d.mlp.fc2.bias", i)))
            break;
          b->qkv_b = take (L, 3 * D, FALSE, &e, "blocks.%d.attn.qkv.bias", i);
          if (e == NULL)
            b->ls1 = take (L, D, FALSE, &e, "blocks.%d.ls1.gamma", i);
          if (e == NULL)
            b->ls2 = take (L, D, FALSE, &e, "blocks.%d.ls2.gamma", i);
          break;
        case TS_VIT_FAMILY_CLIP:
        case TS_VIT_FAMILY_SIGLIP:
          {
            static const char *const qkv[3] = { "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj" };
            g_autofree char *p = g_strdup_printf ("encoder.layers.%d.", i);
            if (!take_qkv (L, b, p, qkv, &e)
                || !(b->ln1_w = take (L, D, TRUE, &e, "%slayer_norm1.weight", p))
                || !(b->ln1_b = take (L, D, TRUE, &e, "%slayer_norm1.bias", p))
                || !(b->proj_w = take (L, D * D, TRUE, &e, "%sself_attn.out_proj.weight", p))
                || !(b->proj_b = take (L, D, TRUE, &e, "%sself_attn.out_proj.bias", p))
                || !(b->ln2_w = take (L, D, TRUE, &e, "%slayer_norm2.weight", p))
                || !(b->ln2_b = take (L, D, TRUE, &e, "%slayer_norm2.bias", p))
                || !(b->fc1_w = take (L, M * D, TRUE, &e, "%smlp.fc1.weight", p))
                || !(b->fc1_b = take (L, M, TRUE, &e, "%smlp.fc1.bias", p))
                || !(b->fc2_w = take (L, D * M, TRUE, &e, "%smlp.fc2.weight", p))
                || !(b->fc2_b = take (L, D, TRUE, &e, "%smlp.fc2.bias", p)))
              break;
            break;
          }
        case TS_VIT_FAMILY_DINOV2:
          {
            static const char *const qkv[3] = { "attention.attention.query", "attention.attention.key",
                                                "attention.attention.value" };
            g_autofree char *p = g_strdup_printf ("encoder.layer.%d.", i);
            if (find (L, "%smlp.weights_in.weight", p) != NULL)
              {
                g_set_error (&e, TS_ERROR, TS_ERROR_UNSUPPORTED,
                             "%s: this DINOv2 uses a SwiGLU MLP (the giant model), which TokenScope does not run",
                             ts_safetensors_name (L->st));
                break;
              }
            if (!take_qkv (L, b, p, qkv, &e)
                || !(b->ln1_w = take (L, D, TRUE, &e, "%snorm1.weight", p))
                || !(b->ln1_b = take (L, D, TRUE, &e, "%snorm1.bias", p))
                || !(b->proj_w = take (L, D * D, TRUE, &e, "%sattention.output.dense.weight", p))
                || !(b->proj_b = take (L, D, TRUE, &e, "%sattention.output.dense.bias", p))
                || !(b->ln2_w = take (L, D, TRUE, &e, "%snorm2.weight", p))
                || !(b->ln2_b = take (L, D, TRUE, &e, "%snorm2.bias", p))
                || !(b->fc1_w = take (L, M * D, TRUE, &e, "%smlp.fc1.weight", p))
                || !(b->fc1_b = take (L, M, TRUE, &e, "%smlp.fc1.bias", p))
                || !(b->fc2_w = take (L, D * M, TRUE, &e, "%smlp.fc2.weight", p))
                || !(b->fc2_b = take (L, D, TRUE, &e, "%smlp.fc2.bias", p)))
              break;
            b->ls1 = take (L, D, FALSE, &e, "%slayer_scale1.lambda1", p);
            if (e == NULL)
              b->ls2 = take (L, D, FALSE, &e, "%slayer_scale2.lambda1", p);
            break;
          }
        case TS_VIT_FAMILY_AUTO:
        default:
          g_assert_not_reached ();
        }
      if (e != NULL)
        {
          g_propagate_error (error, e);
          return FALSE;
        }
      if (b->ls1 != NULL)
        in->layer_scale = TRUE;
    }
  return transpose_blocks (vit, error);
}

TsVit *
ts_vit_from_safetensors (const TsSafetensors *st, const char *config_path, const TsVitLoadOptions *options,
                         GError **error)
{
  TsVitLoadOptions defaults = { 0 };
  g_autoptr (TsVit) vit = NULL;
  g_autofree char *prefix = NULL;
  const TsTensorInfo *pe, *fc1, *pos;
  Config cfg = { 0, TS_VIT_ACT_DEFAULT, 0 };
  TsVitFamily family;
  TsVitInfo *in;
  Loader L;
  gint64 D, pos_count;
  const char *pos_name = NULL, *fc1_name = NULL;

  g_return_val_if_fail (st != NULL, NULL);
  if (options == NULL)
    options = &defaults;
  family = options->family;
  if ((guint) family >= G_N_ELEMENTS (family_names))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "unknown model family %d", family);
      return NULL;
    }
  prefix = detect (st, &family, error);
  if (prefix == NULL)
    return NULL;

  if (config_path != NULL && !read_config (config_path, options->config != NULL, &cfg, error))
    return NULL;

  vit = g_new0 (TsVit, 1);
  vit->owned = g_ptr_array_new_with_free_func (g_free);
  in = &vit->info;
  in->family = family;
  in->prefix = g_strdup (prefix);
  L.st = st;
  L.vit = vit;
  L.prefix = prefix;

  switch (family)
    {
    case TS_VIT_FAMILY_TIMM:
      pe = find (&L, "patch_embed.proj.weight");
      fc1_name = "blocks.0.mlp.fc1.weight";
      pos_name = "pos_embed";
      break;
    case TS_VIT_FAMILY_CLIP:
    case TS_VIT_FAMILY_SIGLIP:
      pe = find (&L, "embeddings.patch_embedding.weight");
      fc1_name = "encoder.layers.0.mlp.fc1.weight";
      pos_name = "embeddings.position_embedding.weight";
      break;
    case TS_VIT_FAMILY_DINOV2:
    default:
      pe = find (&L, "embeddings.patch_embeddings.projection.weight");
      fc1_name = "encoder.layer.0.mlp.fc1.weight";
      pos_name = "embeddings.position_embeddings";
      break;
    }
  if (pe == NULL || !check_shape4 (st, pe, error))
    {
      if (pe == NULL)
        g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: the patch embedding is missing", ts_safetensors_name (st));
      return NULL;
    }
  in->width = (int) pe->shape[0];
  in->patch = (int) pe->shape[2];
  D = in->width;
  fc1 = find (&L, "%s", fc1_name);
  if (fc1 == NULL || fc1->ndim != 2 || fc1->shape[1] != D || fc1->shape[0] < 1 || fc1->shape[0] > 1 << 20)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_BAD_DATA, "%s: '%s%s' is missing or not [mlp, %d]",
                   ts_safetensors_name (st), prefix, fc1_name, in->width);
      return NULL;
    }
  in->mlp = (int) fc1->shape[0];
  while (in->depth < 10000)
    {
      const TsTensorInfo *t = family == TS_VIT_FAMILY_TIMM     ? find (&L, "blocks.%d.attn.qkv.weight", in->depth)
                              : family == TS_VIT_FAMILY_DINOV2 ? find (&L, "encoder.layer.%d.attention.attention.query.weight", in->depth)
                                                               : find (&L, "encoder.layers.%d.self_attn.q_proj.weight", in->depth);
      if (t == NULL)
        break;
      in->depth++;
    }

  /* Heads, activation, eps, normalisation. */
  in->heads = options->heads > 0 ? options->heads : cfg.heads > 0 ? cfg.heads : standard_heads (in->width);
  in->heads_source = options->heads > 0 ? "option" : cfg.heads > 0 ? "config.json" : "standard (head_dim 64)";
  if (in->heads < 1 || in->width % in->heads != 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "%d heads do not divide the width %d of %s",
                   in->heads, in->width, ts_safetensors_name (st));
      return NULL;
    }
  in->head_dim = in->width / in->heads;
  in->act = options->act != TS_VIT_ACT_DEFAULT ? options->act
            : cfg.act != TS_VIT_ACT_DEFAULT   ? cfg.act
            : family == TS_VIT_FAMILY_CLIP    ? TS_VIT_ACT_QUICK_GELU
            : family == TS_VIT_FAMILY_SIGLIP  ? TS_VIT_ACT_GELU_TANH
                                              : TS_VIT_ACT_GELU;
  in->ln_eps = (float) (options->ln_eps > 0 ? options->ln_eps : cfg.eps > 0 ? cfg.eps
                        : family == TS_VIT_FAMILY_CLIP ? 1e-5 : 1e-6);
  for (int c = 0; c < 3; c++)
    {
      in->mean[c] = options->set_norm ? options->mean[c]
                    : family == TS_VIT_FAMILY_CLIP ? ts_clip_mean[c]
                    : family == TS_VIT_FAMILY_SIGLIP ? 0.5f : imagenet_mean[c];
      in->std[c] = options->set_norm ? options->std[c]
                   : family == TS_VIT_FAMILY_CLIP ? ts_clip_std[c]
                   : family == TS_VIT_FAMILY_SIGLIP ? 0.5f : imagenet_std[c];
      if (!(in->std[c] > 0))
        {
          g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "normalisation std must be positive");
          return NULL;
        }
    }

  /* Embeddings. */
  {
    gint64 ppd = (gint64) 3 * in->patch * in->patch;
    GError *e = NULL;
    const char *pe_w = family == TS_VIT_FAMILY_TIMM ? "patch_embed.proj" : family == TS_VIT_FAMILY_DINOV2
                       ? "embeddings.patch_embeddings.projection" : "embeddings.patch_embedding";
    if (!(vit->patch_w = take (&L, D * ppd, TRUE, &e, "%s.weight", pe_w)))
      goto fail;
    vit->patch_b = take (&L, D, FALSE, &e, "%s.bias", pe_w);
    if (e != NULL)
      goto fail;
    switch (family)
      {
      case TS_VIT_FAMILY_TIMM:
        vit->cls = take (&L, D, FALSE, &e, "cls_token");
        if (e == NULL && find (&L, "reg_token") != NULL)
          {
            const TsTensorInfo *r = find (&L, "reg_token");
            in->n_registers = (int) MIN (r->numel / D, 1024);
            vit->reg = take (&L, D * in->n_registers, TRUE, &e, "reg_token");
          }
        if (e == NULL)
          vit->pre_w = take (&L, D, FALSE, &e, "norm_pre.weight");
        if (e == NULL && vit->pre_w)
          vit->pre_b = take (&L, D, TRUE, &e, "norm_pre.bias");
        if (e == NULL && find (&L, "fc_norm.weight") != NULL)
          {
            vit->avg_pool = TRUE;
            if ((vit->norm_w = take (&L, D, TRUE, &e, "fc_norm.weight")))
              vit->norm_b = take (&L, D, TRUE, &e, "fc_norm.bias");
          }
        else if (e == NULL && (vit->norm_w = take (&L, D, FALSE, &e, "norm.weight")))
          vit->norm_b = take (&L, D, TRUE, &e, "norm.bias");
        if (e == NULL && vit->cls == NULL)
          vit->avg_pool = TRUE;
        in->pooling = vit->avg_pool ? "mean of the patch tokens, then fc_norm / norm" : "CLS token after the final norm";
        break;
      case TS_VIT_FAMILY_CLIP:
        if ((vit->cls = take (&L, D, TRUE, &e, "embeddings.class_embedding"))
            && (vit->pre_w = take (&L, D, TRUE, &e, "pre_layrnorm.weight"))
            && (vit->pre_b = take (&L, D, TRUE, &e, "pre_layrnorm.bias"))
            && (vit->norm_w = take (&L, D, TRUE, &e, "post_layernorm.weight")))
          vit->norm_b = take (&L, D, TRUE, &e, "post_layernorm.bias");
        in->pooling = "post_layernorm of the CLS token (pooler output, before visual_projection)";
        break;
      case TS_VIT_FAMILY_SIGLIP:
        if ((vit->norm_w = take (&L, D, TRUE, &e, "post_layernorm.weight")))
          vit->norm_b = take (&L, D, TRUE, &e, "post_layernorm.bias");
        if (e == NULL && find (&L, "head.probe") != NULL)
          {
            const TsTensorInfo *f = find (&L, "head.mlp.fc1.weight");
            vit->head_mlp = f != NULL && f->ndim == 2 && f->shape[1] == D ? (int) f->shape[0] : in->mlp;
            if ((vit->probe = take (&L, D, TRUE, &e, "head.probe"))
                && (vit->head_in_w = take (&L, 3 * D * D, TRUE, &e, "head.attention.in_proj_weight"))
                && (vit->head_in_b = take (&L, 3 * D, TRUE, &e, "head.attention.in_proj_bias"))
                && (vit->head_out_w = take (&L, D * D, TRUE, &e, "head.attention.out_proj.weight"))
                && (vit->head_out_b = take (&L, D, TRUE, &e, "head.attention.out_proj.bias"))
                && (vit->head_ln_w = take (&L, D, TRUE, &e, "head.layernorm.weight"))
                && (vit->head_ln_b = take (&L, D, TRUE, &e, "head.layernorm.bias"))
                && (vit->head_fc1_w = take (&L, (gint64) vit->head_mlp * D, TRUE, &e, "head.mlp.fc1.weight"))
                && (vit->head_fc1_b = take (&L, vit->head_mlp, TRUE, &e, "head.mlp.fc1.bias"))
                && (vit->head_fc2_w = take (&L, (gint64) vit->head_mlp * D, TRUE, &e, "head.mlp.fc2.weight")))
              vit->head_fc2_b = take (&L, D, TRUE, &e, "head.mlp.fc2.bias");
            in->pooling_head = TRUE;
          }
        in->pooling = in->pooling_head ? "attention-pooling head (probe) on post_layernorm tokens"
                                       : "mean of post_layernorm tokens (the file has no pooling head)";
        break;
      case TS_VIT_FAMILY_DINOV2:
      default:
        vit->cls = take (&L, D, TRUE, &e, "embeddings.cls_token");
        if (e == NULL && find (&L, "embeddings.register_tokens") != NULL)
          {
            const TsTensorInfo *r = find (&L, "embeddings.register_tokens");
            in->n_registers = (int) MIN (r->numel / D, 1024);
            vit->reg = take (&L, D * in->n_registers, TRUE, &e, "embeddings.register_tokens");
          }
        if (e == NULL && (vit->norm_w = take (&L, D, TRUE, &e, "layernorm.weight")))
          vit->norm_b = take (&L, D, TRUE, &e, "layernorm.bias");
        vit->dinov2_offset = TRUE;
        in->pooling = "CLS token after the final layernorm";
        break;
      }
    if (e != NULL)
      goto fail;
    in->has_cls = vit->cls != NULL;
    in->n_prefix = in->has_cls + in->n_registers;

    pos = find (&L, "%s", pos_name);
    if (pos == NULL || pos->numel % D != 0)
      {
        g_set_error (&e, TS_ERROR, TS_ERROR_BAD_DATA, "%s: position embedding '%s%s' is missing or not a multiple of width %d",
                     ts_safetensors_name (st), prefix, pos_name, in->width);
        goto fail;
      }
    pos_count = pos->numel / D;
    {
      int g;
      if (pos_count > in->n_prefix && isqrt_exact (pos_count - in->n_prefix, &g))
        vit->pos_prefix = in->n_prefix;
      else if (in->has_cls && pos_count > 1 && isqrt_exact (pos_count - 1, &g))
        vit->pos_prefix = 1;
      else if (isqrt_exact (pos_count, &g))
        vit->pos_prefix = 0;
      else
        {
          g_set_error (&e, TS_ERROR, TS_ERROR_BAD_DATA,
                       "%s: %" G_GINT64_FORMAT " position embeddings are not a square grid (plus %d prefix tokens)",
                       ts_safetensors_name (st), pos_count, in->n_prefix);
          goto fail;
        }
      in->pos_rows = in->pos_cols = g;
    }
    if (!(vit->pos = take (&L, pos_count * D, TRUE, &e, "%s", pos_name)))
      goto fail;
    if (!load_blocks (&L, &e))
      goto fail;
    return g_steal_pointer (&vit);
  fail:
    g_propagate_error (error, e);
    return NULL;
  }
}

TsVit *
ts_vit_load (const char *path, const TsVitLoadOptions *options, GError **error)
{
  g_autoptr (TsSafetensors) st = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *config = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  st = ts_safetensors_open (path, error);
  if (st == NULL)
    return NULL;
  if (options != NULL && options->config != NULL)
    config = g_strdup (options->config);
  else
    {
      dir = g_path_get_dirname (path);
      config = g_build_filename (dir, "config.json", NULL);
    }
  return ts_vit_from_safetensors (st, config, options, error);
}

void
ts_vit_free (TsVit *vit)
{
  if (vit == NULL)
    return;
  g_clear_pointer (&vit->owned, g_ptr_array_unref);
  g_free (vit->info.prefix);
  g_free (vit);
}

const TsVitInfo *
ts_vit_info (const TsVit *vit)
{
  return &vit->info;
}

gboolean
ts_vit_set_normalization (TsVit *vit, const float mean[3], const float std[3], GError **error)
{
  for (int c = 0; c < 3; c++)
    if (!(std[c] > 0) || !isfinite (std[c]) || !isfinite (mean[c]))
      {
        g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "normalisation std must be positive and finite");
        return FALSE;
      }
  memcpy (vit->info.mean, mean, sizeof vit->info.mean);
  memcpy (vit->info.std, std, sizeof vit->info.std);
  return TRUE;
}

/* ---- random weights ---- */

static guint64
splitmix (guint64 *s)
{
  guint64 z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static float *
random_owned (TsVit *vit, gint64 n, float std, guint64 *seed, GError **error)
{
  float *p = alloc_owned (vit, n, error);
  float a = std * 1.7320508f; /* uniform on [-a, a] has this std */

  if (p != NULL)
    for (gint64 i = 0; i < n; i++)
      p[i] = a * (2.0f * (float) (splitmix (seed) >> 40) * (1.0f / 16777216.0f) - 1.0f);
  vit->info.parameters += n;
  return p;
}

static float *
const_owned (TsVit *vit, gint64 n, float v, GError **error)
{
  float *p = alloc_owned (vit, n, error);

  if (p != NULL)
    for (gint64 i = 0; i < n; i++)
      p[i] = v;
  vit->info.parameters += n;
  return p;
}

TsVit *
ts_vit_new_random (TsVitFamily family, int patch, int width, int depth, int heads, int mlp, int pos_grid,
                   guint64 seed, GError **error)
{
  g_autoptr (TsVit) vit = NULL;
  TsVitInfo *in;
  gint64 D = width, M = mlp;
  GError *e = NULL;

  if (family == TS_VIT_FAMILY_AUTO || (guint) family >= G_N_ELEMENTS (family_names) || patch < TS_PATCH_MIN
      || patch > TS_PATCH_MAX || width < 1 || depth < 1 || heads < 1 || width % heads != 0 || mlp < 1
      || pos_grid < 1)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "invalid random ViT shape");
      return NULL;
    }
  vit = g_new0 (TsVit, 1);
  vit->owned = g_ptr_array_new_with_free_func (g_free);
  in = &vit->info;
  in->family = family;
  in->patch = patch;
  in->width = width;
  in->depth = depth;
  in->heads = heads;
  in->head_dim = width / heads;
  in->mlp = mlp;
  in->prefix = g_strdup ("");
  in->heads_source = "option";
  in->act = family == TS_VIT_FAMILY_CLIP ? TS_VIT_ACT_QUICK_GELU : family == TS_VIT_FAMILY_SIGLIP ? TS_VIT_ACT_GELU_TANH
                                                                                                   : TS_VIT_ACT_GELU;
  in->ln_eps = family == TS_VIT_FAMILY_CLIP ? 1e-5f : 1e-6f;
  for (int c = 0; c < 3; c++)
    {
      in->mean[c] = family == TS_VIT_FAMILY_CLIP ? ts_clip_mean[c] : 0.5f;
      in->std[c] = family == TS_VIT_FAMILY_CLIP ? ts_clip_std[c] : 0.5f;
    }
  in->has_cls = family != TS_VIT_FAMILY_SIGLIP;
  in->n_prefix = in->has_cls;
  in->pos_rows = in->pos_cols = pos_grid;
  in->pooling = in->has_cls ? "CLS token after the final norm" : "mean of post_layernorm tokens";
  vit->pos_prefix = in->n_prefix;
  if (!(vit->patch_w = random_owned (vit, D * 3 * patch * patch, 0.02f, &seed, &e))
      || !(vit->patch_b = const_owned (vit, D, 0.0f, &e))
      || (in->has_cls && !(vit->cls = random_owned (vit, D, 0.02f, &seed, &e)))
      || !(vit->pos = random_owned (vit, (in->n_prefix + (gint64) pos_grid * pos_grid) * D, 0.02f, &seed, &e))
      || !(vit->norm_w = const_owned (vit, D, 1.0f, &e)) || !(vit->norm_b = const_owned (vit, D, 0.0f, &e)))
    goto fail;
  if (family == TS_VIT_FAMILY_CLIP
      && (!(vit->pre_w = const_owned (vit, D, 1.0f, &e)) || !(vit->pre_b = const_owned (vit, D, 0.0f, &e))))
    goto fail;
  vit->blocks = g_new0 (Block, depth);
  g_ptr_array_add (vit->owned, vit->blocks);
  for (int i = 0; i < depth; i++)
    {
      Block *b = &vit->blocks[i];
      if (!(b->ln1_w = const_owned (vit, D, 1.0f, &e)) || !(b->ln1_b = const_owned (vit, D, 0.0f, &e))
          || !(b->qkv_w = random_owned (vit, 3 * D * D, 0.02f, &seed, &e))
          || !(b->qkv_b = const_owned (vit, 3 * D, 0.0f, &e))
          || !(b->proj_w = random_owned (vit, D * D, 0.02f, &seed, &e))
          || !(b->proj_b = const_owned (vit, D, 0.0f, &e))
          || !(b->ln2_w = const_owned (vit, D, 1.0f, &e)) || !(b->ln2_b = const_owned (vit, D, 0.0f, &e))
          || !(b->fc1_w = random_owned (vit, M * D, 0.02f, &seed, &e))
          || !(b->fc1_b = const_owned (vit, M, 0.0f, &e))
          || !(b->fc2_w = random_owned (vit, D * M, 0.02f, &seed, &e))
          || !(b->fc2_b = const_owned (vit, D, 0.0f, &e)))
        goto fail;
    }
  if (!transpose_blocks (vit, &e))
    goto fail;
  return g_steal_pointer (&vit);
fail:
  g_propagate_error (error, e);
  return NULL;
}

/* ---- forward helpers ---- */

/* The element-wise kernels, 4 floats wide everywhere and 8 wide (AVX2)
 * where the CPU has it; the _4 and _8 names come from ts-vit-kernels.h. */
#define VN 4
#define K(name) name##_4
#define KATTR
#include "ts-vit-kernels.h"
#undef VN
#undef K
#undef KATTR

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TS_VIT_AVX2 1
#define VN 8
#define K(name) name##_8
#define KATTR __attribute__ ((target ("avx2")))
#include "ts-vit-kernels.h"
#undef VN
#undef K
#undef KATTR
#endif

/* TRUE when the 8-wide kernels run: the CPU has AVX2 and the environment
 * does not set TS_VIT_NO_AVX2 (the test suite runs once without them). */
static gboolean
wide_kernels (void)
{
  static gsize wide = 0;

  if (g_once_init_enter (&wide))
    {
      gsize v = 1;
#ifdef TS_VIT_AVX2
      if (__builtin_cpu_supports ("avx2") && g_getenv ("TS_VIT_NO_AVX2") == NULL)
        v = 2;
#endif
      g_once_init_leave (&wide, v);
    }
  return wide == 2;
}

#ifdef TS_VIT_AVX2
#define DISPATCH(call) (wide_kernels () ? call##_8 : call##_4)
#else
#define DISPATCH(call) call##_4
#endif

static void
layer_norm (const float *x, int n, int d, const float *w, const float *b, float eps, float *out)
{
  DISPATCH (layer_norm) (x, n, d, w, b, eps, out);
}

static void
bias_act (float *x, const float *bias, gsize n, gboolean act_on, TsVitAct act)
{
  DISPATCH (bias_act) (x, bias, n, act_on, act);
}

static void
add_scaled (float *x, const float *s, const float *a, int n)
{
  DISPATCH (add_scaled) (x, s, a, n);
}

static void
softmax_row (float *row, int n)
{
  DISPATCH (softmax_row) (row, n);
}

/* out (n x o) = in (n x i) W^T (W: o x i) + bias */
static void
linear (const float *in, int n, int i, const float *w, const float *bias, int o, float *out)
{
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, o, i, 1.0f, in, i, w, i, 0.0f, out, o);
  if (bias != NULL)
    for (int r = 0; r < n; r++)
      bias_act (out + (gsize) r * o, bias, o, FALSE, TS_VIT_ACT_DEFAULT);
}

/* out (n x o) = in (n x i) Wt (Wt: i x o, a block matrix) + bias: the bias
 * rows are written first and the product added to them (beta = 1), which
 * also spares BLAS its pass that zeroes out. */
static void
linear_t (const float *in, int n, int i, const float *wt, const float *bias, int o, float *out)
{
  for (int r = 0; r < n; r++)
    memcpy (out + (gsize) r * o, bias, (gsize) o * sizeof (float));
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, o, i, 1.0f, in, i, wt, o, 1.0f, out, o);
}

/* x (n x o) += ls * (in Wt + bias), ls (o) may be NULL: without it the
 * product goes straight into x. @tmp (n x o) is scratch for the layer scale. */
static void
linear_t_residual (const float *in, int n, int i, const float *wt, const float *bias, const float *ls, int o,
                   float *x, float *tmp)
{
  if (ls == NULL)
    {
      for (int r = 0; r < n; r++)
        bias_act (x + (gsize) r * o, bias, o, FALSE, TS_VIT_ACT_DEFAULT);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, o, i, 1.0f, in, i, wt, o, 1.0f, x, o);
      return;
    }
  linear_t (in, n, i, wt, bias, o, tmp);
  for (int r = 0; r < n; r++)
    add_scaled (x + (gsize) r * o, ls, tmp + (gsize) r * o, o);
}

static void
cubic_weights (double t, double w[4])
{
  const double A = -0.75;
  double x;

  x = t + 1;
  w[0] = ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  x = t;
  w[1] = ((A + 2) * x - (A + 3)) * x * x + 1;
  x = 1 - t;
  w[2] = ((A + 2) * x - (A + 3)) * x * x + 1;
  x = 2 - t;
  w[3] = ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
}

/* PyTorch's upsample_bicubic2d (align_corners=False) on a grid of D-vectors:
 * src is sh x sw x D, dst dh x dw x D; scale_* is the source step per output pixel. */
static void
bicubic_grid (const float *src, int sh, int sw, int D, int dh, int dw, double scale_h, double scale_w, float *dst)
{
  for (int oy = 0; oy < dh; oy++)
    {
      double ry = scale_h * (oy + 0.5) - 0.5, wy[4];
      int iy = (int) floor (ry);
      cubic_weights (ry - iy, wy);
      for (int ox = 0; ox < dw; ox++)
        {
          double rx = scale_w * (ox + 0.5) - 0.5, wx[4];
          int ix = (int) floor (rx);
          float *o = dst + ((gsize) oy * dw + ox) * D;
          cubic_weights (rx - ix, wx);
          memset (o, 0, (gsize) D * sizeof (float));
          for (int a = 0; a < 4; a++)
            {
              int y = CLAMP (iy - 1 + a, 0, sh - 1);
              for (int b = 0; b < 4; b++)
                {
                  int x = CLAMP (ix - 1 + b, 0, sw - 1);
                  float w = (float) (wy[a] * wx[b]);
                  const float *s = src + ((gsize) y * sw + x) * D;
                  for (int k = 0; k < D; k++)
                    o[k] += w * s[k];
                }
            }
        }
    }
}

void
ts_vit_run_options_init (TsVitRunOptions *options)
{
  memset (options, 0, sizeof *options);
  options->layer = -2;
  options->fusion = TS_HEAD_FUSION_MEAN;
}

gboolean
ts_vit_resolve_layer (const TsVit *vit, int layer, int *resolved, GError **error)
{
  int depth = vit->info.depth;
  int r = layer < 0 ? depth + 1 + layer : layer;

  if (r < 0 || r > depth)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "layer %d is outside %d..%d for a model of %d blocks (0 = input of the first block, "
                   "negative from the end)", layer, -depth - 1, depth, depth);
      return FALSE;
    }
  *resolved = r;
  return TRUE;
}

void
ts_vit_tome_schedule (int depth, int r, double inflect, int *schedule)
{
  int min_val = (int) (r * (1.0 - inflect));
  int max_val = 2 * r - min_val;
  double step = depth > 1 ? (double) (max_val - min_val) / (depth - 1) : 0;

  for (int i = 0; i < depth; i++)
    schedule[i] = MAX (0, (int) (min_val + step * i));
}

void
ts_vit_output_free (TsVitOutput *out)
{
  if (out == NULL)
    return;
  g_free (out->tokens);
  g_free (out->embedding);
  for (int i = 0; i < out->n_attn; i++)
    g_free (out->attn[i]);
  g_free (out->attn);
  g_free (out->attn_layers);
  g_free (out->query_attn);
  g_free (out->rollout);
  g_free (out->tome_groups);
  g_free (out->tome_sizes);
  g_free (out->tome_schedule);
  g_free (out);
}

/* ---- forward ---- */

typedef struct {
  const TsVit *vit;
  const TsVitRunOptions *opt;
  TsVitOutput *out;
  int n, D, H, hd, M;
  float *x, *h, *qkv, *o, *mlp, *scores;
  float *logsize;    /* n: log of token sizes (proportional attention) or NULL */
  float *fused;      /* rollout: depth x n x n */
  float *mean_row;   /* heads x n accumulators for the mean query */
  /* ToMe */
  int *sizes;        /* n */
  int *first;        /* n: smallest original position (prefix: negative) */
  int *where;        /* n_patches: current token of each original patch */
} Fwd;

static gboolean
attention (Fwd *f, int layer, GCancellable *cancellable, GError **error)
{
  int n = f->n, D = f->D, hd = f->hd, H = f->H;
  gsize ld = (gsize) 3 * D;
  float scale = 1.0f / sqrtf ((float) hd);
  int rb = (int) CLAMP (SCORE_BLOCK_FLOATS / (gsize) n, 1, (gsize) n);
  float *full = NULL, *qrow = NULL, *fused = NULL;
  const TsVitRunOptions *opt = f->opt;
  TsVitOutput *out = f->out;

  for (int i = 0; i < out->n_attn; i++)
    if (out->attn_layers[i] == layer)
      full = out->attn[i];
  if (out->query_attn != NULL)
    {
      qrow = out->query_attn + (gsize) layer * H * n;
      memset (qrow, 0, (gsize) H * n * sizeof (float));
    }
  if (f->fused != NULL)
    fused = f->fused + (gsize) layer * n * n;

  for (int h = 0; h < H; h++)
    {
      const float *Q = f->qkv + (gsize) h * hd;
      const float *K = f->qkv + D + (gsize) h * hd;
      const float *V = f->qkv + 2 * (gsize) D + (gsize) h * hd;
      for (int r0 = 0; r0 < n; r0 += rb)
        {
          int rows = MIN (rb, n - r0);
          float *S = f->scores;
          if (ts_check_cancelled (cancellable, error))
            return FALSE;
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, rows, n, hd, scale, Q + (gsize) r0 * ld, (int) ld,
                       K, (int) ld, 0.0f, S, n);
          for (int i = 0; i < rows; i++)
            {
              float *row = S + (gsize) i * n;
              if (f->logsize != NULL)
                for (int j = 0; j < n; j++)
                  row[j] += f->logsize[j];
              softmax_row (row, n);
            }
          if (full != NULL)
            memcpy (full + ((gsize) h * n + r0) * n, S, (gsize) rows * n * sizeof (float));
          if (qrow != NULL)
            {
              float *q = qrow + (gsize) h * n;
              if (out->query_is_cls)
                {
                  if (r0 == 0)
                    memcpy (q, S, (gsize) n * sizeof (float));
                }
              else
                for (int i = 0; i < rows; i++)
                  for (int j = 0; j < n; j++)
                    q[j] += S[(gsize) i * n + j] / (float) n;
            }
          if (fused != NULL)
            {
              float *dst = fused + (gsize) r0 * n;
              gsize cnt = (gsize) rows * n;
              if (h == 0)
                memcpy (dst, S, cnt * sizeof (float));
              else if (opt->fusion == TS_HEAD_FUSION_MAX)
                for (gsize i = 0; i < cnt; i++)
                  dst[i] = MAX (dst[i], S[i]);
              else if (opt->fusion == TS_HEAD_FUSION_MIN)
                for (gsize i = 0; i < cnt; i++)
                  dst[i] = MIN (dst[i], S[i]);
              else
                for (gsize i = 0; i < cnt; i++)
                  dst[i] += S[i];
            }
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, hd, n, 1.0f, S, n, V, (int) ld, 0.0f,
                       f->o + (gsize) r0 * D + (gsize) h * hd, D);
        }
    }
  if (fused != NULL)
    {
      if (opt->fusion == TS_HEAD_FUSION_MEAN)
        for (gsize i = 0; i < (gsize) n * n; i++)
          fused[i] /= (float) H;
      ts_attention_rollout_prepare (fused, n, opt->discard, out->query_is_cls);
    }
  return TRUE;
}

typedef struct {
  float score;
  int a; /* index into the token list */
} Edge;

static int
compare_edge (const void *x, const void *y)
{
  const Edge *a = x, *b = y;

  if (a->score != b->score)
    return a->score > b->score ? -1 : 1; /* descending */
  return a->a - b->a;
}

typedef struct {
  int first;
  int old;
} Order;

static int
compare_order (const void *x, const void *y)
{
  const Order *a = x, *b = y;
  return a->first - b->first;
}

/* One ToMe bipartite soft matching step on the keys averaged over heads
 * (REFERENCE 3, official algorithm), merging x size-weighted; tokens stay
 * ordered by their smallest original position. */
static void
tome_merge (Fwd *f, int r)
{
  int n = f->n, D = f->D, hd = f->hd, H = f->H, P = f->out->n_prefix;
  int na = (n + 1) / 2, nb = n / 2;
  g_autofree float *metric = g_new0 (float, (gsize) n * hd);
  g_autofree Edge *edges = g_new (Edge, na);
  g_autofree int *best = g_new (int, na);
  g_autofree int *dest = g_new (int, n);  /* token -> token it merges into (itself if kept) */
  g_autofree Order *order = g_new (Order, n);
  g_autofree int *renum = g_new (int, n);
  g_autofree float *block = NULL;
  int finite = 0, m = 0;
  int rb;

  r = MIN (r, (n - P) / 2);
  if (r <= 0)
    return;
  /* metric = mean over heads of the keys, rows normalised */
  for (int i = 0; i < n; i++)
    {
      const float *k = f->qkv + (gsize) i * 3 * D + D;
      float *mrow = metric + (gsize) i * hd;
      double norm = 0;
      for (int h = 0; h < H; h++)
        for (int j = 0; j < hd; j++)
          mrow[j] += k[h * hd + j];
      for (int j = 0; j < hd; j++)
        norm += (double) mrow[j] * mrow[j];
      norm = sqrt (norm);
      for (int j = 0; j < hd; j++)
        mrow[j] = norm > 0 ? (float) (mrow[j] / norm) : 0.0f;
    }
  /* scores of A (even) against B (odd), blocked over A rows */
  rb = (int) CLAMP (SCORE_BLOCK_FLOATS / (gsize) MAX (nb, 1), 1, (gsize) na);
  block = g_new (float, (gsize) rb * MAX (nb, 1));
  for (int a0 = 0; a0 < na; a0 += rb)
    {
      int rows = MIN (rb, na - a0);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, rows, nb, hd, 1.0f, metric + (gsize) 2 * a0 * hd, 2 * hd,
                   metric + hd, 2 * hd, 0.0f, block, nb);
      for (int i = 0; i < rows; i++)
        {
          int a = a0 + i;
          float bs = -INFINITY;
          int bj = 0;
          if (2 * a >= P)
            for (int j = 0; j < nb; j++)
              if (2 * j + 1 >= P && block[(gsize) i * nb + j] > bs)
                {
                  bs = block[(gsize) i * nb + j];
                  bj = j;
                }
          edges[a].score = bs;
          edges[a].a = a;
          best[a] = bj;
          finite += isfinite (bs);
        }
    }
  r = MIN (r, finite);
  if (r <= 0)
    return;
  qsort (edges, na, sizeof *edges, compare_edge);
  for (int i = 0; i < n; i++)
    dest[i] = i;
  for (int e = 0; e < r; e++)
    {
      int a = edges[e].a;
      dest[2 * a] = 2 * best[a] + 1;
    }
  /* size-weighted merge into the B tokens */
  for (int i = 0; i < n; i++)
    if (dest[i] != i)
      {
        int d = dest[i];
        float *xd = f->x + (gsize) d * D;
        const float *xs = f->x + (gsize) i * D;
        float wd = (float) f->sizes[d], ws = (float) f->sizes[i];
        /* running weighted mean equals sum(size x) / sum(size) */
        for (int k = 0; k < D; k++)
          xd[k] = (xd[k] * wd + xs[k] * ws) / (wd + ws);
        f->sizes[d] += f->sizes[i];
        f->first[d] = MIN (f->first[d], f->first[i]);
      }
  /* keep the survivors ordered by their smallest original position */
  for (int i = 0; i < n; i++)
    if (dest[i] == i)
      {
        order[m].first = f->first[i];
        order[m].old = i;
        m++;
      }
  qsort (order, m, sizeof *order, compare_order);
  for (int i = 0; i < m; i++)
    renum[order[i].old] = i;
  for (int i = 0; i < n; i++)
    if (dest[i] != i)
      renum[i] = renum[dest[i]];
  {
    g_autofree float *nx = g_new (float, (gsize) m * D);
    g_autofree int *ns = g_new (int, m);
    g_autofree int *nf = g_new (int, m);
    for (int i = 0; i < m; i++)
      {
        memcpy (nx + (gsize) i * D, f->x + (gsize) order[i].old * D, (gsize) D * sizeof (float));
        ns[i] = f->sizes[order[i].old];
        nf[i] = f->first[order[i].old];
      }
    memcpy (f->x, nx, (gsize) m * D * sizeof (float));
    memcpy (f->sizes, ns, (gsize) m * sizeof (int));
    memcpy (f->first, nf, (gsize) m * sizeof (int));
  }
  for (int p = 0; p < f->out->rows * f->out->cols; p++)
    f->where[p] = renum[f->where[p]];
  f->n = m;
  if (f->logsize != NULL)
    for (int i = 0; i < m; i++)
      f->logsize[i] = logf ((float) f->sizes[i]);
}

static gboolean
block_forward (Fwd *f, int layer, int tome_r, GCancellable *cancellable, GError **error)
{
  const TsVit *vit = f->vit;
  const Block *b = &vit->blocks[layer];
  float eps = vit->info.ln_eps;
  int D = f->D, M = f->M;

  layer_norm (f->x, f->n, D, b->ln1_w, b->ln1_b, eps, f->h);
  linear_t (f->h, f->n, D, b->qkv_w, b->qkv_b, 3 * D, f->qkv);
  if (!attention (f, layer, cancellable, error))
    return FALSE;
  linear_t_residual (f->o, f->n, D, b->proj_w, b->proj_b, b->ls1, D, f->x, f->h);
  if (tome_r > 0)
    tome_merge (f, tome_r);
  if (ts_check_cancelled (cancellable, error))
    return FALSE;
  layer_norm (f->x, f->n, D, b->ln2_w, b->ln2_b, eps, f->h);
  linear_t (f->h, f->n, D, b->fc1_w, b->fc1_b, M, f->mlp);
  bias_act (f->mlp, NULL, (gsize) f->n * M, TRUE, vit->info.act);
  linear_t_residual (f->mlp, f->n, M, b->fc2_w, b->fc2_b, b->ls2, D, f->x, f->h);
  return TRUE;
}

/* Fills f->x with the embedded tokens [CLS, registers, patches]. */
static gboolean
embed (Fwd *f, const TsImage *image, GError **error)
{
  const TsVit *vit = f->vit;
  const TsVitInfo *in = &vit->info;
  int P = in->patch, D = f->D, rows = f->out->rows, cols = f->out->cols, np = rows * cols;
  int ppd = 3 * P * P, pre = in->n_prefix;
  float lut[3][256];
  g_autofree float *unfold = g_try_new (float, (gsize) np * ppd);
  const float *pos_grid = vit->pos + (gsize) vit->pos_prefix * D;
  float *xp = f->x + (gsize) pre * D;

  if (unfold == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "the image has too many patches for memory");
      return FALSE;
    }
  for (int c = 0; c < 3; c++)
    for (int v = 0; v < 256; v++)
      lut[c][v] = (v / 255.0f - in->mean[c]) / in->std[c];
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++)
      {
        float *u = unfold + ((gsize) r * cols + c) * ppd;
        for (int ch = 0; ch < 3; ch++)
          for (int y = 0; y < P; y++)
            {
              const guint8 *px = image->data + ((gsize) (r * P + y) * image->width + (gsize) c * P) * 3 + ch;
              for (int x = 0; x < P; x++)
                u[ch * P * P + y * P + x] = lut[ch][px[3 * x]];
            }
      }
  linear (unfold, np, ppd, vit->patch_w, vit->patch_b, D, xp);

  if (rows == in->pos_rows && cols == in->pos_cols)
    for (gsize i = 0; i < (gsize) np * D; i++)
      xp[i] += pos_grid[i];
  else
    {
      g_autofree float *interp = g_try_new (float, (gsize) np * D);
      double sh, sw;
      if (interp == NULL)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "the image has too many patches for memory");
          return FALSE;
        }
      if (vit->dinov2_offset)
        {
          /* DINOv2: F.interpolate(scale_factor=((rows + 0.1) / M, (cols + 0.1) / M)) */
          sh = (float) (1.0 / ((rows + 0.1) / in->pos_rows));
          sw = (float) (1.0 / ((cols + 0.1) / in->pos_cols));
        }
      else
        {
          sh = (float) ((double) in->pos_rows / rows);
          sw = (float) ((double) in->pos_cols / cols);
        }
      bicubic_grid (pos_grid, in->pos_rows, in->pos_cols, D, rows, cols, sh, sw, interp);
      for (gsize i = 0; i < (gsize) np * D; i++)
        xp[i] += interp[i];
    }

  if (in->has_cls)
    {
      memcpy (f->x, vit->cls, (gsize) D * sizeof (float));
      if (vit->pos_prefix >= 1)
        for (int k = 0; k < D; k++)
          f->x[k] += vit->pos[k];
    }
  for (int r = 0; r < in->n_registers; r++)
    {
      float *t = f->x + (gsize) (in->has_cls + r) * D;
      memcpy (t, vit->reg + (gsize) r * D, (gsize) D * sizeof (float));
      if (vit->pos_prefix == pre)
        for (int k = 0; k < D; k++)
          t[k] += vit->pos[(gsize) (in->has_cls + r) * D + k];
    }
  if (vit->pre_w != NULL)
    layer_norm (f->x, f->n, D, vit->pre_w, vit->pre_b, in->ln_eps, f->x);
  return TRUE;
}

/* The final CLS / pooled embedding from f->x (n tokens with sizes). */
static float *
final_embedding (Fwd *f)
{
  const TsVit *vit = f->vit;
  const TsVitInfo *in = &vit->info;
  int D = f->D, n = f->n, P = in->n_prefix;
  float *emb = g_new0 (float, D);

  if (in->family == TS_VIT_FAMILY_SIGLIP)
    {
      g_autofree float *y = g_new (float, (gsize) n * D);
      layer_norm (f->x, n, D, vit->norm_w, vit->norm_b, in->ln_eps, y);
      if (vit->probe != NULL)
        {
          int H = in->heads, hd = in->head_dim, HM = vit->head_mlp;
          g_autofree float *q = g_new (float, D);
          g_autofree float *kv = g_new (float, (gsize) n * 2 * D);
          g_autofree float *att = g_new0 (float, D);
          g_autofree float *o = g_new (float, D);
          g_autofree float *t = g_new (float, D);
          g_autofree float *m = g_new (float, HM);
          g_autofree float *s = g_new (float, n);
          linear (vit->probe, 1, D, vit->head_in_w, vit->head_in_b, D, q);
          linear (y, n, D, vit->head_in_w + (gsize) D * D, vit->head_in_b + D, 2 * D, kv);
          for (int h = 0; h < H; h++)
            {
              for (int j = 0; j < n; j++)
                {
                  const float *k = kv + (gsize) j * 2 * D + h * hd;
                  float dot = 0;
                  for (int c = 0; c < hd; c++)
                    dot += q[h * hd + c] * k[c];
                  s[j] = dot / sqrtf ((float) hd) + (f->logsize != NULL ? f->logsize[j] : 0.0f);
                }
              softmax_row (s, n);
              for (int j = 0; j < n; j++)
                {
                  const float *v = kv + (gsize) j * 2 * D + D + h * hd;
                  for (int c = 0; c < hd; c++)
                    att[h * hd + c] += s[j] * v[c];
                }
            }
          linear (att, 1, D, vit->head_out_w, vit->head_out_b, D, o);
          layer_norm (o, 1, D, vit->head_ln_w, vit->head_ln_b, in->ln_eps, t);
          linear (t, 1, D, vit->head_fc1_w, vit->head_fc1_b, HM, m);
          bias_act (m, NULL, HM, TRUE, in->act);
          linear (m, 1, HM, vit->head_fc2_w, vit->head_fc2_b, D, t);
          for (int k = 0; k < D; k++)
            emb[k] = o[k] + t[k];
        }
      else
        {
          double total = 0;
          for (int i = 0; i < n; i++)
            {
              float w = f->sizes != NULL ? (float) f->sizes[i] : 1.0f;
              for (int k = 0; k < D; k++)
                emb[k] += w * y[(gsize) i * D + k];
              total += w;
            }
          for (int k = 0; k < D; k++)
            emb[k] = (float) (emb[k] / total);
        }
      return emb;
    }
  if (vit->avg_pool || !in->has_cls)
    {
      double total = 0;
      for (int i = P; i < n; i++)
        {
          float w = f->sizes != NULL ? (float) f->sizes[i] : 1.0f;
          for (int k = 0; k < D; k++)
            emb[k] += w * f->x[(gsize) i * D + k];
          total += w;
        }
      for (int k = 0; k < D; k++)
        emb[k] = (float) (emb[k] / MAX (total, 1));
      if (vit->norm_w != NULL)
        layer_norm (emb, 1, D, vit->norm_w, vit->norm_b, in->ln_eps, emb);
      return emb;
    }
  if (vit->norm_w != NULL)
    layer_norm (f->x, 1, D, vit->norm_w, vit->norm_b, in->ln_eps, emb);
  else
    memcpy (emb, f->x, (gsize) D * sizeof (float));
  return emb;
}

static void
fwd_clear (Fwd *f)
{
  g_free (f->x);
  g_free (f->h);
  g_free (f->qkv);
  g_free (f->o);
  g_free (f->mlp);
  g_free (f->scores);
  g_free (f->logsize);
  g_free (f->fused);
  g_free (f->sizes);
  g_free (f->first);
  g_free (f->where);
}

TsVitOutput *
ts_vit_run (const TsVit *vit, const TsImage *image, const TsVitRunOptions *options, GCancellable *cancellable,
            GError **error)
{
  TsVitRunOptions defaults;
  const TsVitInfo *in;
  g_autoptr (TsVitOutput) out = NULL;
  Fwd f = { 0 };
  int layer, last, n, np;
  gboolean ok = FALSE, tome;
  guint64 bytes;

  g_return_val_if_fail (vit != NULL && image != NULL, NULL);
  if (options == NULL)
    {
      ts_vit_run_options_init (&defaults);
      options = &defaults;
    }
  in = &vit->info;
  if (!ts_vit_resolve_layer (vit, options->layer, &layer, error))
    return NULL;
  if (image->width < in->patch || image->height < in->patch)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "the image (%d x %d) is smaller than one %d-pixel patch",
                   image->width, image->height, in->patch);
      return NULL;
    }
  if (options->discard < 0 || options->discard >= 1 || !isfinite (options->discard))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "discard ratio %g is outside [0, 1)", options->discard);
      return NULL;
    }
  if (options->tome_r < 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "ToMe r must not be negative");
      return NULL;
    }
  tome = options->tome_r > 0;
  if (tome && (options->rollout || options->n_attn_layers > 0 || options->query_attention))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "attention maps are not available while ToMe merges tokens inside the model");
      return NULL;
    }

  out = g_new0 (TsVitOutput, 1);
  out->rows = image->height / in->patch;
  out->cols = image->width / in->patch;
  np = out->rows * out->cols;
  out->n_prefix = in->n_prefix;
  out->n_tokens = n = in->n_prefix + np;
  out->d = in->width;
  out->heads = in->heads;
  out->depth = in->depth;
  out->layer = layer;
  out->query_is_cls = in->has_cls;
  if ((gint64) n * n > G_MAXINT)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE,
                   "%d tokens are too many for one forward pass (at most 46340: attention grows with the "
                   "square of the token count); use a smaller --size", n);
      return NULL;
    }

  /* What has to run: up to the requested layer, or every block for the embedding / maps. */
  last = layer;
  if (options->embedding || options->rollout || tome)
    last = in->depth;
  for (int i = 0; i < options->n_attn_layers; i++)
    {
      int l = options->attn_layers[i];
      if (l < 0 || l >= in->depth)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "attention layer %d is outside 0..%d", l,
                       in->depth - 1);
          return NULL;
        }
      last = MAX (last, l + 1);
    }
  bytes = (guint64) options->n_attn_layers * in->heads * (guint64) n * n * 4;
  if (bytes > ATTN_MAX_BYTES)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE,
                   "keeping %d attention matrices of %d tokens needs %.1f GB; ask for fewer layers or a smaller image",
                   options->n_attn_layers, n, bytes / 1e9);
      return NULL;
    }
  if (options->rollout && (guint64) in->depth * n * n * 4 > ROLLOUT_MAX_BYTES)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE,
                   "attention rollout over %d tokens and %d blocks needs %.1f GB; use a smaller image",
                   n, in->depth, (double) in->depth * n * n * 4 / 1e9);
      return NULL;
    }

  f.vit = vit;
  f.opt = options;
  f.out = out;
  f.n = n;
  f.D = in->width;
  f.H = in->heads;
  f.hd = in->head_dim;
  f.M = in->mlp;
  f.x = g_try_new (float, (gsize) n * f.D);
  f.h = g_try_new (float, (gsize) n * f.D);
  f.qkv = g_try_new (float, (gsize) n * 3 * f.D);
  f.o = g_try_new (float, (gsize) n * f.D);
  f.mlp = g_try_new (float, (gsize) n * f.M);
  f.scores = g_try_new (float, (gsize) MIN ((gsize) n * n, MAX (SCORE_BLOCK_FLOATS, (gsize) n)));
  if (f.x == NULL || f.h == NULL || f.qkv == NULL || f.o == NULL || f.mlp == NULL || f.scores == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "%d tokens of width %d do not fit in memory", n, f.D);
      goto done;
    }
  if (options->n_attn_layers > 0)
    {
      out->n_attn = options->n_attn_layers;
      out->attn_layers = g_memdup2 (options->attn_layers, sizeof (int) * options->n_attn_layers);
      out->attn = g_new0 (float *, out->n_attn);
      for (int i = 0; i < out->n_attn; i++)
        if ((out->attn[i] = g_try_new (float, (gsize) in->heads * n * n)) == NULL)
          {
            g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "the attention matrices do not fit in memory");
            goto done;
          }
    }
  if (options->query_attention)
    out->query_attn = g_new0 (float, (gsize) in->depth * in->heads * n);
  if (options->rollout && (f.fused = g_try_new (float, (gsize) in->depth * n * n)) == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "the rollout matrices do not fit in memory");
      goto done;
    }
  if (tome)
    {
      out->tome_schedule = g_new (int, in->depth);
      ts_vit_tome_schedule (in->depth, options->tome_r, options->tome_inflect, out->tome_schedule);
      f.sizes = g_new (int, n);
      f.first = g_new (int, n);
      f.where = g_new (int, np);
      for (int i = 0; i < n; i++)
        {
          f.sizes[i] = 1;
          f.first[i] = i - in->n_prefix;
        }
      for (int p = 0; p < np; p++)
        f.where[p] = in->n_prefix + p;
      if (!options->tome_no_prop_attn)
        f.logsize = g_new0 (float, n);
    }

  if (!embed (&f, image, error))
    goto done;
  for (int l = 0; l <= last; l++)
    {
      if (l == layer && !tome)
        {
          out->tokens = g_new (float, (gsize) n * f.D);
          if (options->final_norm && vit->norm_w != NULL && !vit->avg_pool)
            layer_norm (f.x, n, f.D, vit->norm_w, vit->norm_b, in->ln_eps, out->tokens);
          else
            memcpy (out->tokens, f.x, (gsize) n * f.D * sizeof (float));
        }
      if (l == last)
        break;
      if (ts_check_cancelled (cancellable, error))
        goto done;
      if (!block_forward (&f, l, tome ? out->tome_schedule[l] : 0, cancellable, error))
        goto done;
    }
  if (options->embedding || tome)
    out->embedding = final_embedding (&f);
  if (options->rollout)
    {
      float **mats = g_new (float *, in->depth);
      out->rollout = g_new0 (float, n);
      if (in->has_cls)
        out->rollout[0] = 1.0f;
      else
        for (int i = 0; i < n; i++)
          out->rollout[i] = 1.0f / n;
      for (int l = 0; l < in->depth; l++)
        mats[l] = f.fused + (gsize) l * n * n;
      ts_attention_rollout_row (mats, in->depth, n, out->rollout);
      g_free (mats);
    }
  if (tome)
    {
      out->tome_tokens = f.n;
      out->tome_groups = g_new (int, np);
      out->tome_sizes = g_new (int, MAX (1, f.n - in->n_prefix));
      for (int p = 0; p < np; p++)
        out->tome_groups[p] = f.where[p] - in->n_prefix;
      for (int i = in->n_prefix; i < f.n; i++)
        out->tome_sizes[i - in->n_prefix] = f.sizes[i];
    }
  ok = TRUE;
done:
  fwd_clear (&f);
  return ok ? g_steal_pointer (&out) : NULL;
}

TsFeatures *
ts_vit_output_features (const TsVitOutput *out, GError **error)
{
  int np = out->rows * out->cols;
  TsFeatures *feat;

  if (out->tokens == NULL)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "the model run kept no tokens");
      return NULL;
    }
  feat = ts_features_new (np, out->d, error);
  if (feat != NULL)
    memcpy (feat->data, out->tokens + (gsize) out->n_prefix * out->d, (gsize) np * out->d * sizeof (float));
  return feat;
}

gboolean
ts_vit_tome_fidelity (const TsVit *vit, const TsImage *image, const TsVitRunOptions *options, double *fidelity,
                      TsVitOutput **merged, GCancellable *cancellable, GError **error)
{
  TsVitRunOptions plain;
  g_autoptr (TsVitOutput) a = NULL;
  g_autoptr (TsVitOutput) b = NULL;

  g_return_val_if_fail (options != NULL && fidelity != NULL, FALSE);
  if (options->tome_r <= 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "ToMe fidelity needs r > 0");
      return FALSE;
    }
  ts_vit_run_options_init (&plain);
  plain.embedding = TRUE;
  plain.layer = vit->info.depth;
  a = ts_vit_run (vit, image, &plain, cancellable, error);
  if (a == NULL)
    return FALSE;
  plain.tome_r = options->tome_r;
  plain.tome_inflect = options->tome_inflect;
  plain.tome_no_prop_attn = options->tome_no_prop_attn;
  b = ts_vit_run (vit, image, &plain, cancellable, error);
  if (b == NULL)
    return FALSE;
  *fidelity = ts_cosine (a->embedding, b->embedding, vit->info.width);
  if (merged != NULL)
    *merged = g_steal_pointer (&b);
  return TRUE;
}

TsScene *
ts_vit_scene_new (const TsVit *vit, const TsImage *image, const TsResize *resize, int layer,
                  TsVitImportance importance, GCancellable *cancellable, GError **error)
{
  g_autoptr (TsImage) work = NULL;
  g_autoptr (TsVitOutput) out = NULL;
  TsVitRunOptions opt;
  TsFeatures *feat;
  TsScene *scene;
  int resolved;

  g_return_val_if_fail (vit != NULL && image != NULL, NULL);
  if (!ts_vit_resolve_layer (vit, layer, &resolved, error))
    return NULL;
  work = resize != NULL ? ts_resize_apply (image, resize, vit->info.patch, error) : ts_image_copy (image);
  if (work == NULL)
    return NULL;
  ts_vit_run_options_init (&opt);
  opt.layer = resolved;
  opt.query_attention = importance == TS_VIT_IMPORTANCE_QUERY && resolved > 0;
  opt.rollout = importance == TS_VIT_IMPORTANCE_ROLLOUT;
  out = ts_vit_run (vit, work, &opt, cancellable, error);
  if (out == NULL)
    return NULL;
  feat = ts_vit_output_features (out, error);
  if (feat == NULL)
    return NULL;
  scene = ts_scene_new (g_steal_pointer (&work), vit->info.patch, TS_FEATURES_MODEL, feat, error);
  if (scene == NULL)
    return NULL;
  if (importance == TS_VIT_IMPORTANCE_QUERY && resolved > 0)
    {
      float *map = ts_model_attention_query_map (out, resolved - 1, -1, TS_HEAD_FUSION_MEAN, NULL);
      g_autofree char *src = g_strdup_printf ("%s attention of block %d (mean over heads), %s",
                                              ts_model_attention_query_kind (out), resolved - 1,
                                              ts_vit_family_name (vit->info.family));
      ts_scene_set_importance (scene, map, src);
    }
  else if (importance == TS_VIT_IMPORTANCE_ROLLOUT)
    {
      float *map = ts_model_attention_rollout_map (out, NULL);
      g_autofree char *src = g_strdup_printf ("attention rollout (%s, mean fusion), %s",
                                              ts_model_attention_query_kind (out), ts_vit_family_name (vit->info.family));
      ts_scene_set_importance (scene, map, src);
    }
  return scene;
}
