/* ts-budget.h: token budgets, KV-cache memory, encoder FLOPs and task
 * guidance (REFERENCE 1 and 7, the seed's practical guidelines).
 *
 * Pure arithmetic (budgets, KV bytes, FLOPs, presets) is reentrant and needs
 * no scene. ts_budget_fixed() measures the three fixed-budget options on a
 * scene: A downsample, B compress with a registered method, C adaptive
 * patching (when the "adaptive" method is registered).
 *
 * Units: FLOPs count a multiply-add as 2 FLOPs (the seed's "190 GFLOPs" for
 * ViT-L/14 @ 336 are multiply-adds: 0.38 TFLOP here). Bytes are bytes;
 * "MB" in messages means 10^6 bytes.
 * Presets are static tables; copy one into your own struct to edit it. */
#pragma once

#include <gio/gio.h>

#include "ts-method.h"
#include "ts-scene.h"

G_BEGIN_DECLS

/* ---- Fixed and dynamic budgets ---------------------------------------- */

/* context - text; TS_ERROR_INVALID_ARGUMENT unless 0 <= text < context. */
int ts_budget_visual (int context, int text, GError **error);

/* Option A: the largest aspect-kept size (multiples of @patch, at least one
 * patch a side) whose token count is <= @budget. Returns the tokens, or -1
 * with TS_ERROR_INVALID_ARGUMENT for bad sizes or a budget < 1. */
int ts_budget_downsample_size (int width, int height, int patch, int budget, int *out_width,
                               int *out_height, GError **error);

/* Option B: the whole compression factor ceil(n / budget) and the tokens it
 * leaves, ceil(n / factor) (2304 tokens, budget 548 -> factor 5, 461 tokens). */
int ts_budget_compress_factor (int n, int budget, int *tokens);

/* Dynamic budget by query complexity @c in [0, 1] (the seed's allocate_budget):
 * min = max // 4; budget = int(min + c (max - min)), truncated.
 * -1 with TS_ERROR_INVALID_ARGUMENT when c is outside [0, 1] or max < 1. */
int ts_budget_dynamic (int max_tokens, double c, GError **error);

typedef struct {
  char letter;          /* 'A', 'B', 'C' */
  const char *name;     /* "downsample", "compress", "adaptive" */
  gboolean available;   /* C needs the adaptive method */
  char *method;         /* the method used (B, C), or NULL */
  int width, height;    /* the image the encoder sees */
  int tokens;
  double factor;        /* tokens of the full-resolution grid / tokens */
  double ssim, psnr, feature_retention; /* NAN when not measured */
  char *note;
} TsBudgetOption;

typedef struct {
  int context, text, budget;
  int tokens;           /* the scene's full-resolution token count */
  TsBudgetOption options[3];
} TsBudgetFixed;

/* Measures the three options on @scene. @compress_method names the method for
 * option B (NULL: "tome" when registered, else "pool"). */
TsBudgetFixed *ts_budget_fixed (const TsScene *scene, int context, int text, const char *compress_method,
                                const TsMethodParams *params, GCancellable *cancellable, GError **error);
void ts_budget_fixed_free (TsBudgetFixed *fixed);

/* ---- KV cache --------------------------------------------------------- */

typedef struct {
  const char *name;
  int layers;
  int kv_heads;       /* key/value heads (GQA models have fewer than query heads) */
  int head_dim;
  int bytes_per_value; /* 2 for fp16/bf16 */
  const char *note;
} TsLlmPreset;

const TsLlmPreset *ts_llm_presets (guint *n);
/* Copies the preset named @name (case-insensitive) into @out. */
gboolean ts_llm_preset_find (const char *name, TsLlmPreset *out, GError **error);
/* tokens * 2 * layers * kv_heads * head_dim * bytes_per_value. */
double ts_kv_cache_bytes (const TsLlmPreset *llm, double tokens);

/* ---- ViT encoder FLOPs ------------------------------------------------ */

typedef struct {
  const char *name;
  int layers;
  int width;       /* D */
  int mlp_dim;     /* 4 D for most ViTs; SigLIP-So400m 4304 */
  int patch;
  int image_size;  /* the preset's native square input */
  gboolean cls;    /* one extra token in attention */
} TsVitPreset;

const TsVitPreset *ts_vit_presets (guint *n);
gboolean ts_vit_preset_find (const char *name, TsVitPreset *out, GError **error);
/* FLOPs of the encoder over @patches patch tokens (plus CLS when the preset has one):
 * layers * (8 N D^2 + 4 N D M + 4 N^2 D) + 2 patches P^2 3 D, N = patches + cls;
 * with M = 4 D that is REFERENCE's 24 N D^2 + 4 N^2 D per layer. */
double ts_vit_flops (const TsVitPreset *vit, double patches);

/* ---- FLOPs per output token ------------------------------------------- */

/* The method's own FLOPs to turn @n_in tokens of width @d into @n_out
 * (estimates documented per method in ts-budget.c; @image_pixels is the
 * working image's pixel count for pixel-space methods). Unknown names
 * return NAN. "qformer" is the BLIP-2 Q-Former (12 BERT-base layers,
 * cross-attention every other layer), for the seed's trade-off. */
double ts_method_flops (const char *method, const TsMethodParams *params, int n_in, int n_out, int d,
                        double image_pixels);

typedef struct {
  char *method;
  int tokens_in, tokens_out;
  double encoder_flops;   /* at the tokens the encoder sees (fewer for downsample) */
  double method_flops;
  double flops_per_token; /* (encoder + method) / tokens_out */
  double relative;        /* flops_per_token / the uncompressed flops per token */
} TsFlopsRow;

/* One row for @method at @n_out tokens from @n_in patches on @vit. */
gboolean ts_flops_per_token (const TsVitPreset *vit, const char *method, const TsMethodParams *params,
                             int n_in, int n_out, TsFlopsRow *row, GError **error);
void ts_flops_row_clear (TsFlopsRow *row);

/* ---- Guidance --------------------------------------------------------- */

typedef struct {
  const char *name;      /* "light", "medium", "heavy", "extreme" */
  const char *label;
  double lo, hi;         /* ratio range; hi = INFINITY for extreme */
  const char *methods;   /* the seed's methods for the band */
  const char *impact;    /* the seed's quality impact */
} TsRatioBand;

/* The four bands light 2-4, medium 4-8, heavy 8-16, extreme 16+. */
const TsRatioBand *ts_ratio_bands (guint *n);
/* The band containing @ratio (lo <= ratio < hi), or NULL below 2. */
const TsRatioBand *ts_ratio_band_for (double ratio);

typedef struct {
  const char *name;      /* "document", "vqa", "scene", "chart" */
  const char *label;
  const char *detail;    /* detail the task needs */
  const char *methods;   /* comma-separated registry names to try, most suitable first */
  double ratio_lo, ratio_hi;
  const char *rationale;
} TsTaskPreset;

const TsTaskPreset *ts_task_presets (guint *n);
const TsTaskPreset *ts_task_preset_find (const char *name, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsBudgetFixed, ts_budget_fixed_free)

G_END_DECLS
