#include "ts-budget.h"
#include "ts-error.h"
#include "ts-resize.h"
#include "ts-sweep.h"

#include <math.h>
#include <string.h>

/* ---- Fixed and dynamic budgets ---------------------------------------- */

int
ts_budget_visual (int context, int text, GError **error)
{
  if (context < 1 || text < 0 || text >= context)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "the text reserve (%d) must be at least 0 and smaller than the context limit (%d)", text,
                   context);
      return -1;
    }
  return context - text;
}

int
ts_budget_downsample_size (int width, int height, int patch, int budget, int *out_width, int *out_height,
                           GError **error)
{
  int best = -1, bw = 0, bh = 0;

  if (width < 1 || height < 1 || patch < 1 || budget < 1)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "cannot downsample a %d x %d image at patch %d to a budget of %d tokens", width, height,
                   patch, budget);
      return -1;
    }
  /* Walk the short side's patch count; the long side follows the aspect ratio. */
  for (int pass = 0; pass < 2; pass++)
    {
      int side = pass == 0 ? height : width, other = pass == 0 ? width : height;
      int kmax = MAX (1, side / patch);
      for (int k = kmax; k >= 1; k--)
        {
          gint64 ko = MAX (1, (gint64) floor ((double) other * k / side));
          gint64 tokens = ko * k;
          if (tokens > budget)
            continue;
          if (tokens > best)
            {
              best = (int) tokens;
              bw = (int) ((pass == 0 ? ko : k) * patch);
              bh = (int) ((pass == 0 ? k : ko) * patch);
            }
          break;
        }
    }
  if (best < 0)
    {
      best = 1;
      bw = bh = patch;
    }
  if (out_width)
    *out_width = bw;
  if (out_height)
    *out_height = bh;
  return best;
}

int
ts_budget_compress_factor (int n, int budget, int *tokens)
{
  int factor;

  if (n < 1 || budget < 1)
    return -1;
  factor = (n + budget - 1) / budget;
  if (tokens)
    *tokens = (n + factor - 1) / factor;
  return factor;
}

int
ts_budget_dynamic (int max_tokens, double c, GError **error)
{
  int min;

  if (max_tokens < 1 || !(c >= 0.0 && c <= 1.0))
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "query complexity must be in [0, 1] and the maximum at least 1 token (got %g, %d)", c,
                   max_tokens);
      return -1;
    }
  min = max_tokens / 4;
  return (int) (min + c * (max_tokens - min));
}

static void
option_init (TsBudgetOption *o, char letter, const char *name)
{
  memset (o, 0, sizeof *o);
  o->letter = letter;
  o->name = name;
  o->ssim = o->psnr = o->feature_retention = NAN;
}

static gboolean
measure_method (const TsScene *scene, const char *name, const TsMethodParams *base, int tokens, TsBudgetOption *o,
                GCancellable *cancellable, GError **error)
{
  const TsMethod *m = ts_method_find (name, error);
  TsMethodParams params = *base;
  g_autoptr (TsAssignment) a = NULL;
  TsSweepPoint pt = { 0 };

  if (m == NULL)
    return FALSE;
  params.tokens = tokens;
  a = ts_method_run (m, scene, &params, cancellable, error);
  if (a == NULL)
    return FALSE;
  if (!ts_sweep_measure (scene, a, params.fill, &pt, error))
    return FALSE;
  o->method = g_strdup (m->name);
  o->available = TRUE;
  o->width = scene->grid.width;
  o->height = scene->grid.height;
  o->tokens = a->n_out;
  o->factor = (double) scene->grid.tokens / a->n_out;
  o->ssim = pt.ssim;
  o->psnr = pt.psnr;
  o->feature_retention = pt.feature_retention;
  return TRUE;
}

TsBudgetFixed *
ts_budget_fixed (const TsScene *scene, int context, int text, const char *compress_method,
                 const TsMethodParams *params, GCancellable *cancellable, GError **error)
{
  g_autoptr (TsBudgetFixed) f = g_new0 (TsBudgetFixed, 1);
  TsMethodParams defaults;
  const TsGrid *g = &scene->grid;
  int factor, tokens;

  if (params == NULL)
    {
      ts_method_params_init (&defaults);
      params = &defaults;
    }
  f->context = context;
  f->text = text;
  f->tokens = g->tokens;
  option_init (&f->options[0], 'A', "downsample");
  option_init (&f->options[1], 'B', "compress");
  option_init (&f->options[2], 'C', "adaptive");
  if ((f->budget = ts_budget_visual (context, text, error)) < 0)
    return NULL;

  /* A: fewer pixels, same patch. Quality: the image resampled down and back up. */
  {
    TsBudgetOption *o = &f->options[0];
    g_autoptr (TsImage) small = NULL;
    g_autoptr (TsImage) back = NULL;
    tokens = ts_budget_downsample_size (g->width, g->height, g->patch, f->budget, &o->width, &o->height, error);
    if (tokens < 0)
      return NULL;
    o->available = TRUE;
    o->tokens = tokens;
    o->factor = (double) g->tokens / tokens;
    if (tokens < g->tokens)
      {
        small = ts_image_resample (scene->image, o->width, o->height);
        back = small ? ts_image_resample (small, g->width, g->height) : NULL;
      }
    else
      back = ts_image_copy (scene->image);
    if (back == NULL)
      {
        g_set_error (error, TS_ERROR, TS_ERROR_TOO_LARGE, "out of memory resampling the image");
        return NULL;
      }
    o->ssim = ts_ssim (scene->image, back);
    o->psnr = ts_psnr (scene->image, back);
    o->note = g_strdup_printf ("resize %d x %d -> %d x %d, patch %d: %d tokens (%.0f%% of the pixels)", g->width,
                               g->height, o->width, o->height, g->patch, tokens,
                               100.0 * o->width * o->height / ((double) g->width * g->height));
  }

  /* B: keep the resolution, compress by the whole factor ceil(N / budget). */
  {
    TsBudgetOption *o = &f->options[1];
    const char *name = compress_method;
    if (name == NULL)
      name = ts_method_find ("tome", NULL) ? "tome" : "pool";
    factor = ts_budget_compress_factor (g->tokens, f->budget, &tokens);
    if (factor <= 1)
      tokens = g->tokens;
    if (!measure_method (scene, name, params, tokens, o, cancellable, error))
      return NULL;
    o->note = g_strdup_printf ("keep %d x %d, compress %dx with %s: %d -> %d tokens", g->width, g->height,
                               MAX (factor, 1), o->method, g->tokens, o->tokens);
  }

  /* C: adaptive patching to the budget, when the method is built in. */
  {
    TsBudgetOption *o = &f->options[2];
    if (ts_method_find ("adaptive", NULL) == NULL)
      o->note = g_strdup ("adaptive patching is not available in this build");
    else
      {
        if (!measure_method (scene, "adaptive", params, MIN (f->budget, g->tokens), o, cancellable, error))
          return NULL;
        o->note = g_strdup_printf ("variable patches from %d px up: %d tokens", g->patch, o->tokens);
      }
  }
  return g_steal_pointer (&f);
}

void
ts_budget_fixed_free (TsBudgetFixed *fixed)
{
  if (fixed == NULL)
    return;
  for (int i = 0; i < 3; i++)
    {
      g_free (fixed->options[i].method);
      g_free (fixed->options[i].note);
    }
  g_free (fixed);
}

/* ---- KV cache --------------------------------------------------------- */

static const TsLlmPreset llms[] = {
  { "llama-2-7b", 32, 32, 128, 2, "LLaMA-2-7B / LLaMA-7B, MHA, fp16 (LLaVA-1.5-7B's language model family)" },
  { "vicuna-7b", 32, 32, 128, 2, "Vicuna-7B v1.5 (LLaVA-1.5-7B), MHA, fp16" },
  { "vicuna-13b", 40, 40, 128, 2, "Vicuna-13B v1.5 (LLaVA-1.5-13B), MHA, fp16" },
  { "llama-2-13b", 40, 40, 128, 2, "LLaMA-2-13B, MHA, fp16" },
  { "llama-2-70b", 80, 8, 128, 2, "LLaMA-2-70B, GQA 8 kv heads, fp16" },
  { "llama-3-8b", 32, 8, 128, 2, "LLaMA-3 / 3.1-8B, GQA 8 kv heads, bf16" },
  { "mistral-7b", 32, 8, 128, 2, "Mistral-7B (LLaVA-NeXT-Mistral), GQA 8 kv heads, bf16" },
  { "qwen2-7b", 28, 4, 128, 2, "Qwen2 / Qwen2.5-7B (Qwen2-VL-7B), GQA 4 kv heads, bf16" },
  { "qwen2-1.5b", 28, 2, 128, 2, "Qwen2 / Qwen2.5-1.5B, GQA 2 kv heads, bf16" },
  { "qwen2-72b", 80, 8, 128, 2, "Qwen2 / Qwen2.5-72B, GQA 8 kv heads, bf16" },
  { "internlm2.5-7b", 32, 8, 128, 2, "InternLM2.5-7B (InternVL2.5-8B), GQA 8 kv heads, bf16" },
  { "phi-3-mini", 32, 32, 96, 2, "Phi-3-mini 3.8B, MHA, bf16" },
};

const TsLlmPreset *
ts_llm_presets (guint *n)
{
  if (n)
    *n = G_N_ELEMENTS (llms);
  return llms;
}

gboolean
ts_llm_preset_find (const char *name, TsLlmPreset *out, GError **error)
{
  g_autoptr (GString) names = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (llms); i++)
    {
      if (name != NULL && g_ascii_strcasecmp (name, llms[i].name) == 0)
        {
          *out = llms[i];
          return TRUE;
        }
      g_string_append_printf (names, "%s%s", i ? ", " : "", llms[i].name);
    }
  g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "unknown language model '%s' (choose from %s)",
               name ? name : "", names->str);
  return FALSE;
}

double
ts_kv_cache_bytes (const TsLlmPreset *llm, double tokens)
{
  return tokens * 2.0 * llm->layers * llm->kv_heads * llm->head_dim * llm->bytes_per_value;
}

/* ---- ViT encoder FLOPs ------------------------------------------------ */

static const TsVitPreset vits[] = {
  { "vit-b/16", 12, 768, 3072, 16, 224, TRUE },
  { "vit-l/14", 24, 1024, 4096, 14, 224, TRUE },
  { "vit-l/14-336", 24, 1024, 4096, 14, 336, TRUE },
  { "siglip-so400m", 27, 1152, 4304, 14, 384, FALSE },
  { "vit-h/14", 32, 1280, 5120, 14, 224, TRUE },
  { "eva-vit-g/14", 40, 1408, 6144, 14, 224, TRUE },
};

const TsVitPreset *
ts_vit_presets (guint *n)
{
  if (n)
    *n = G_N_ELEMENTS (vits);
  return vits;
}

gboolean
ts_vit_preset_find (const char *name, TsVitPreset *out, GError **error)
{
  g_autoptr (GString) names = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (vits); i++)
    {
      if (name != NULL && g_ascii_strcasecmp (name, vits[i].name) == 0)
        {
          *out = vits[i];
          return TRUE;
        }
      g_string_append_printf (names, "%s%s", i ? ", " : "", vits[i].name);
    }
  g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "unknown encoder '%s' (choose from %s)",
               name ? name : "", names->str);
  return FALSE;
}

double
ts_vit_flops (const TsVitPreset *vit, double patches)
{
  double n = patches + (vit->cls ? 1 : 0), d = vit->width, m = vit->mlp_dim;
  double layer = 8 * n * d * d + 4 * n * d * m + 4 * n * n * d;

  return vit->layers * layer + 2 * patches * vit->patch * vit->patch * 3 * d;
}

/* ---- Method FLOPs ----------------------------------------------------- */

/* Feature attention softmax(X X^T / tau): the product plus ~5 FLOPs per entry (scale, exp, sum, divide). */
static double
feature_attention_flops (double n, double d)
{
  return 2 * n * n * d + 5 * n * n;
}

double
ts_method_flops (const char *method, const TsMethodParams *params, int n_in, int n_out, int d, double image_pixels)
{
  double n = n_in, m = MAX (1, n_out), D = d;
  TsMethodParams defaults;

  if (method == NULL)
    return NAN;
  if (params == NULL)
    {
      ts_method_params_init (&defaults);
      params = &defaults;
    }
  /* Pooling, and optical compression shown with its 4 x 4 pooling stand-in: one add per value. */
  if (strcmp (method, "pool") == 0 || strcmp (method, "optical") == 0)
    return n * D + m * D;
  /* Downsampling: separable 4-tap resampling, 2 passes x 4 taps x 2 FLOPs per channel of the input. */
  if (strcmp (method, "downsample") == 0)
    return 16.0 * 3 * image_pixels;
  /* ToMe: per step, norms, the |A| x |B| similarity and the size-weighted merge of r tokens. */
  if (strcmp (method, "tome") == 0)
    {
      double total = 0, cur = n;
      while (cur > m)
        {
          double a = ceil (cur / 2), b = cur - a;
          double r = params->tome_r > 0 ? MIN (params->tome_r, cur - m) : MIN (cur - m, floor (cur / 2));
          total += 2 * cur * D + 2 * a * b * D + a * b + 4 * r * D;
          if (r < 1)
            break;
          cur -= r;
        }
      return total;
    }
  /* Greedy: every token's best partner once (blocked n x n product), then after each merge the new
   * token's similarity to the remaining ones; adjacent-only looks at ~8 neighbours instead. */
  if (strcmp (method, "greedy") == 0)
    {
      if (params->adjacent_only)
        return 2 * 8 * n * D + (n - m) * 2 * 8 * D;
      return 2 * n * n * D + D * (n * n - m * m);
    }
  /* Importance pruning (feature attention without a ViT) plus a top-k selection. */
  if (strcmp (method, "prune") == 0)
    return feature_attention_flops (n, D) + n * log2 (MAX (2, n));
  /* VisionZip: importance, then the remaining tokens assigned to k_c contextual targets and averaged. */
  if (strcmp (method, "visionzip") == 0)
    {
      double kd = floor (params->dominant_fraction * m), kc = MAX (1, m - kd);
      return feature_attention_flops (n, D) + 2 * (n - kd) * kc * D + (n - kd) * D;
    }
  /* PruMerge: importance, the IQR outlier rule, then each kept token's similarity to all tokens. */
  if (strcmp (method, "prumerge") == 0)
    return feature_attention_flops (n, D) + n * log2 (MAX (2, n)) + 2 * m * n * D + n * D;
  /* Training-free resampler: k-means init (seeding + 10 Lloyd iterations), then per round
   * Q X^T, softmax and A X. */
  if (strcmp (method, "resample") == 0)
    {
      double rounds = params->rounds > 0 ? params->rounds : 3;
      return 11 * 2 * n * m * D + rounds * (4 * m * n * D + 5 * m * n);
    }
  /* Adaptive patching: detail scores over every pixel at each quadtree level (~3) and ~10 FLOPs a value. */
  if (strcmp (method, "adaptive") == 0)
    return 3 * 10 * 3 * image_pixels;
  /* Temporal: one cosine per token against the reference frame. */
  if (strcmp (method, "temporal") == 0)
    return 3 * n * D;
  /* BLIP-2 Q-Former: 12 BERT-base layers (768 wide, FFN 3072) over m queries; self-attention and FFN in
   * every layer, cross-attention to the n image tokens (width D) in every other layer. */
  if (strcmp (method, "qformer") == 0)
    {
      const double q = 768, layers = 12, cross = 6;
      double self = 8 * m * q * q + 4 * m * m * q + 16 * m * q * q;
      double xattn = 2 * m * q * q + 4 * n * D * q + 4 * m * n * q + 2 * m * q * q;
      return layers * self + cross * xattn;
    }
  return NAN;
}

gboolean
ts_flops_per_token (const TsVitPreset *vit, const char *method, const TsMethodParams *params, int n_in, int n_out,
                    TsFlopsRow *row, GError **error)
{
  double patch_px, base;

  memset (row, 0, sizeof *row);
  if (vit == NULL || vit->layers < 1 || vit->width < 1 || vit->patch < 1 || n_in < 1 || n_out < 1 || n_out > n_in)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
                   "FLOPs per token need an encoder and 1 <= output tokens (%d) <= input tokens (%d)", n_out, n_in);
      return FALSE;
    }
  patch_px = (double) vit->patch * vit->patch;
  row->method = g_strdup (method ? method : "none");
  row->tokens_in = n_in;
  row->tokens_out = n_out;
  if (method == NULL || strcmp (method, "none") == 0)
    {
      row->encoder_flops = ts_vit_flops (vit, n_in);
      row->method_flops = 0;
    }
  else if (strcmp (method, "downsample") == 0)
    {
      row->encoder_flops = ts_vit_flops (vit, n_out);
      row->method_flops = ts_method_flops (method, params, n_in, n_out, vit->width, n_in * patch_px);
    }
  else
    {
      row->encoder_flops = ts_vit_flops (vit, n_in);
      row->method_flops = ts_method_flops (method, params, n_in, n_out, vit->width, n_in * patch_px);
      if (isnan (row->method_flops))
        {
          g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "no FLOPs estimate for method '%s'", method);
          ts_flops_row_clear (row);
          return FALSE;
        }
    }
  row->flops_per_token = (row->encoder_flops + row->method_flops) / n_out;
  base = ts_vit_flops (vit, n_in) / n_in;
  row->relative = row->flops_per_token / base;
  return TRUE;
}

void
ts_flops_row_clear (TsFlopsRow *row)
{
  g_clear_pointer (&row->method, g_free);
}

/* ---- Guidance --------------------------------------------------------- */

static const TsRatioBand bands[] = {
  { "light", "Light (2-4x)", 2, 4, "spatial pooling, light token merging", "<2% quality impact" },
  { "medium", "Medium (4-8x)", 4, 8, "token merging, learned compression", "2-5% quality impact" },
  { "heavy", "Heavy (8-16x)", 8, 16, "cross-attention, optical compression", "5-10% quality impact" },
  { "extreme", "Extreme (16x+)", 16, INFINITY, "aggressive pooling, minimal query sets", "10-25% quality impact" },
};

const TsRatioBand *
ts_ratio_bands (guint *n)
{
  if (n)
    *n = G_N_ELEMENTS (bands);
  return bands;
}

const TsRatioBand *
ts_ratio_band_for (double ratio)
{
  for (guint i = 0; i < G_N_ELEMENTS (bands); i++)
    if (ratio >= bands[i].lo && ratio < bands[i].hi)
      return &bands[i];
  return NULL;
}

static const TsTaskPreset tasks[] = {
  { "document", "Document understanding (OCR-heavy)", "high detail",
    "optical,adaptive,tome", 8, 16,
    "Optical compression (DeepSeek-OCR style, 16x) preserves text while compressing backgrounds" },
  { "vqa", "General VQA", "moderate detail", "tome,resample,visionzip", 4, 8,
    "Token merging (4-8x) or cross-attention (8x) balance efficiency and quality" },
  { "scene", "Scene classification", "low detail", "pool,greedy,tome", 4, 16,
    "Spatial pooling (4-8x) or aggressive merging (16x): global semantics survive heavy compression" },
  { "chart", "Chart / diagram understanding", "moderate-high detail", "adaptive,resample", 4, 8,
    "Adaptive patching or cross-attention (4-8x) focus tokens on chart elements and compress whitespace" },
};

const TsTaskPreset *
ts_task_presets (guint *n)
{
  if (n)
    *n = G_N_ELEMENTS (tasks);
  return tasks;
}

const TsTaskPreset *
ts_task_preset_find (const char *name, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    if (name != NULL && g_ascii_strcasecmp (name, tasks[i].name) == 0)
      return &tasks[i];
  g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT,
               "unknown task '%s' (choose from document, vqa, scene, chart)", name ? name : "");
  return NULL;
}
