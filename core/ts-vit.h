/* ts-vit.h: a user's Vision Transformer run from safetensors weights (fp32, OpenBLAS).
 *
 * Weight families (detected from tensor names, any prefix such as
 * "model.vision_tower.vision_tower." allowed; or forced):
 *   timm    blocks.{i}.attn.qkv.weight; cls_token, optional reg_token
 *           (DINOv2 registers), ls1.gamma / ls2.gamma (layer scale), norm_pre
 *           (timm CLIP ports), norm or fc_norm; GELU (erf), LN eps 1e-6,
 *           ImageNet mean/std. Embedding: norm(x)[CLS], or with fc_norm the
 *           mean of the patch tokens then fc_norm.
 *   clip    Hugging Face CLIPVisionModel / CLIPModel:
 *           vision_model.encoder.layers.{i}.self_attn.q_proj.weight,
 *           class_embedding, pre_layrnorm, post_layernorm; quick-GELU (OpenAI
 *           CLIP), LN eps 1e-5, CLIP mean/std. Embedding: post_layernorm(x[CLS])
 *           (the pooler output, before visual_projection).
 *   siglip  Hugging Face SiglipVisionModel: the CLIP names without CLS or
 *           pre_layrnorm; tanh-GELU, LN eps 1e-6, mean/std 0.5. Embedding: the
 *           attention-pooling head (vision_model.head.*) applied to
 *           post_layernorm(x) when the file has it, else the mean of
 *           post_layernorm(x) over tokens (TsVitInfo.pooling says which).
 *   dinov2  Hugging Face Dinov2Model: encoder.layer.{i}.attention.attention.query.weight,
 *           layer_scale1.lambda1, optional embeddings.register_tokens; GELU,
 *           LN eps 1e-6, ImageNet mean/std. Embedding: layernorm(x)[CLS].
 * Patch size, width, depth and MLP width come from the shapes. Heads cannot
 * (q/k/v are D x D whatever the head count): they come from the options, else
 * num_attention_heads of a config.json beside the file (or
 * vision_config.num_attention_heads), else the family's standard: head_dim 64
 * except known widths (1152 -> 16 heads for SigLIP so400m, 1280 -> 16,
 * 1408 -> 16, 1664 -> 16). hidden_act and layer_norm_eps are read from that
 * config.json too.
 *
 * Forward (per image): the grid-covered image, scaled to [0,1] and normalised
 * per channel, unfolded to patches and embedded by one GEMM; CLS and register
 * tokens; position embeddings resampled bicubically (PyTorch's
 * F.interpolate(mode="bicubic", align_corners=False), a = -0.75, edge indices
 * clamped) to the grid when it differs from the stored one; dinov2 uses the
 * original DINOv2 scale_factor (grid + 0.1) / stored. Pre-LN blocks,
 * attention and MLP through cblas_sgemm; attention scores are computed in
 * row blocks, so no n x n matrix is allocated unless asked for.
 *
 * Layers are numbered as Hugging Face hidden_states: 0 is the input of the
 * first block (after pre_layrnorm / norm_pre), k the output of block k, depth
 * the output of the last; negative values count from the end (-1 the last,
 * -2 the second last: LLaVA's choice and the default).
 *
 * Ownership: a TsVit owns its float32 weights and is read-only after load:
 * any number of threads may run it at once. Outputs are new objects. */
#pragma once

#include <gio/gio.h>

#include "ts-image.h"
#include "ts-resize.h"
#include "ts-safetensors.h"
#include "ts-scene.h"

G_BEGIN_DECLS

typedef enum {
  TS_VIT_FAMILY_AUTO,
  TS_VIT_FAMILY_TIMM,
  TS_VIT_FAMILY_CLIP,
  TS_VIT_FAMILY_SIGLIP,
  TS_VIT_FAMILY_DINOV2,
} TsVitFamily;

typedef enum {
  TS_VIT_ACT_DEFAULT,    /* config.json's hidden_act, else the family's */
  TS_VIT_ACT_GELU,       /* erf GELU */
  TS_VIT_ACT_GELU_TANH,  /* tanh approximation */
  TS_VIT_ACT_QUICK_GELU, /* x * sigmoid(1.702 x) */
} TsVitAct;

typedef enum {
  TS_HEAD_FUSION_MEAN,
  TS_HEAD_FUSION_MAX,
  TS_HEAD_FUSION_MIN,
} TsHeadFusion;

typedef struct {
  TsVitFamily family;  /* AUTO (default) detects from names */
  int heads;           /* 0: config.json or the family's standard */
  TsVitAct act;
  double ln_eps;       /* 0: config.json or the family's */
  gboolean set_norm;   /* use mean/std below instead of the family's */
  float mean[3];
  float std[3];
  const char *config;  /* a config.json to read; NULL: the one beside the file, if any */
} TsVitLoadOptions;

typedef struct {
  TsVitFamily family;
  int patch, width, depth, heads, head_dim, mlp;
  gboolean has_cls;
  int n_registers;
  int n_prefix;         /* has_cls + n_registers: tokens before the patches */
  int pos_rows, pos_cols; /* the stored position grid (native resolution = pos * patch) */
  TsVitAct act;
  float ln_eps;
  float mean[3], std[3];
  gboolean layer_scale;
  gboolean pooling_head; /* SigLIP attention-pooling head present */
  const char *pooling;   /* how the embedding is made, in words */
  const char *heads_source; /* "option", "config.json", "standard head_dim 64", ... */
  char *prefix;          /* tensor name prefix found, e.g. "vision_model." */
  gint64 parameters;     /* used by the forward pass */
} TsVitInfo;

typedef struct _TsVit TsVit;

TsVit *ts_vit_load (const char *path, const TsVitLoadOptions *options, GError **error);
TsVit *ts_vit_from_safetensors (const TsSafetensors *st, const char *config_path,
                                const TsVitLoadOptions *options, GError **error);
/* Random weights of a given shape (benchmarks, tests): normal(0, 0.02) linear
 * weights, LayerNorm weight 1 / bias 0, deterministic from @seed. */
TsVit *ts_vit_new_random (TsVitFamily family, int patch, int width, int depth, int heads, int mlp,
                          int pos_grid, guint64 seed, GError **error);
void ts_vit_free (TsVit *vit);
const TsVitInfo *ts_vit_info (const TsVit *vit);
/* Overrides the input normalisation (before the model is shared between
 * threads); TS_ERROR_INVALID_ARGUMENT unless every std is positive. */
gboolean ts_vit_set_normalization (TsVit *vit, const float mean[3], const float std[3], GError **error);

const char *ts_vit_family_name (TsVitFamily family);
gboolean ts_vit_family_parse (const char *text, TsVitFamily *family, GError **error);
const char *ts_vit_act_name (TsVitAct act);
gboolean ts_vit_act_parse (const char *text, TsVitAct *act, GError **error);
const char *ts_head_fusion_name (TsHeadFusion fusion);
gboolean ts_head_fusion_parse (const char *text, TsHeadFusion *fusion, GError **error);

/* Resolves a hidden_states layer number (negative from the end) to 0..depth;
 * TS_ERROR_INVALID_ARGUMENT when out of range. */
gboolean ts_vit_resolve_layer (const TsVit *vit, int layer, int *resolved, GError **error);

typedef struct {
  int layer;             /* tokens of this hidden_states layer (default -2) */
  gboolean final_norm;   /* apply the final LayerNorm to those tokens */
  gboolean embedding;    /* compute the final CLS / pooled embedding (runs every block) */
  const int *attn_layers; /* blocks (0-based) whose full attention (heads x n x n) is kept */
  int n_attn_layers;
  gboolean query_attention; /* per block and head: the CLS query's attention row, or without a CLS
                               the mean of all rows (depth x heads x n; zero for blocks that did
                               not run: blocks run up to `layer`, or all with embedding/rollout) */
  gboolean rollout;      /* attention rollout over all blocks (REFERENCE 4) */
  TsHeadFusion fusion;   /* rollout head fusion (default mean) */
  double discard;        /* rollout: zero this lowest fraction of each fused matrix, 0..1 */
  int tome_r;            /* ToMe inside the model: tokens merged per block; 0 = off */
  double tome_inflect;   /* ToMe schedule: 0 constant r; < 0 decreasing (-0.5: 1.5r down to 0.5r) */
  gboolean tome_no_prop_attn; /* disable proportional attention (log size added to logits) */
} TsVitRunOptions;

void ts_vit_run_options_init (TsVitRunOptions *options);

typedef struct {
  int rows, cols;        /* the patch grid the image gave */
  int n_prefix;          /* CLS + registers */
  int n_tokens;          /* n_prefix + rows * cols */
  int d, heads, depth;
  int layer;             /* the resolved layer of `tokens` */
  float *tokens;         /* n_tokens x d (with ToMe: NULL) */
  float *embedding;      /* d or NULL */
  int n_attn;
  int *attn_layers;      /* n_attn block indices */
  float **attn;          /* n_attn arrays of heads x n_tokens x n_tokens */
  float *query_attn;     /* depth x heads x n_tokens or NULL */
  gboolean query_is_cls; /* FALSE: mean-query rows (no CLS token) */
  float *rollout;        /* n_tokens: the CLS row (or the mean row) of the rollout, or NULL */
  /* ToMe */
  int tome_tokens;       /* tokens left after the last block (prefix included) */
  int *tome_groups;      /* rows*cols: the final patch token (0-based, after the prefix) each patch went to */
  int *tome_sizes;       /* tome_tokens - n_prefix sizes */
  int *tome_schedule;    /* depth: r applied per block */
} TsVitOutput;

/* Runs @vit on the top-left grid area of @image (rows = H / patch,
 * cols = W / patch; resize first: ts_resize_apply with the model's patch). */
TsVitOutput *ts_vit_run (const TsVit *vit, const TsImage *image, const TsVitRunOptions *options,
                         GCancellable *cancellable, GError **error);
void ts_vit_output_free (TsVitOutput *out);

/* ToMe's schedule (official parse_r): r_i = int(min + (max - min) i / (depth - 1)),
 * min = int(r (1 - inflect)), max = 2 r - min. @schedule has depth entries. */
void ts_vit_tome_schedule (int depth, int r, double inflect, int *schedule);

/* The patch tokens of @out (prefix dropped) as features of its grid. */
TsFeatures *ts_vit_output_features (const TsVitOutput *out, GError **error);

/* ToMe quality: cosine between the final embedding with merging (@options'
 * tome_r and schedule) and without; also returns the merged output when
 * @merged is not NULL. */
gboolean ts_vit_tome_fidelity (const TsVit *vit, const TsImage *image, const TsVitRunOptions *options,
                               double *fidelity, TsVitOutput **merged, GCancellable *cancellable,
                               GError **error);

typedef enum {
  TS_VIT_IMPORTANCE_NONE,
  TS_VIT_IMPORTANCE_QUERY,   /* CLS attention (mean over heads) of the block producing the features;
                                the mean query without a CLS (FasterVLM / VisionZip's choice) */
  TS_VIT_IMPORTANCE_ROLLOUT, /* attention rollout, mean fusion, no discard */
} TsVitImportance;

/* The one-liner for CLIs and the GUI: resizes @image with @resize at the
 * model's patch (NULL: @image is used as it is, e.g. from ts_cli_load_image
 * with --patch set to the model's patch; its grid is the top-left area),
 * runs the model, and returns a scene whose features are the patch tokens of
 * @layer (TS_FEATURES_MODEL) and whose importance is set as asked (with its
 * source in words; QUERY needs @layer >= 1). @image is not taken. Example:
 *   scene = ts_vit_scene_new (vit, image, NULL, -2, TS_VIT_IMPORTANCE_QUERY, cancellable, error); */
TsScene *ts_vit_scene_new (const TsVit *vit, const TsImage *image, const TsResize *resize, int layer,
                           TsVitImportance importance, GCancellable *cancellable, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsVit, ts_vit_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsVitOutput, ts_vit_output_free)

G_END_DECLS
