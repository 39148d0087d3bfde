#include "ts-vlm.h"
#include "ts-error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *name;
  const char *label;
} ModelInfo;

static const ModelInfo models[TS_VLM_N_MODELS] = {
  [TS_VLM_LLAVA_15] = { "llava-1.5", "LLaVA-1.5" },
  [TS_VLM_LLAVA_NEXT] = { "llava-next", "LLaVA-NeXT (anyres)" },
  [TS_VLM_QWEN2_VL] = { "qwen2-vl", "Qwen2-VL / 2.5-VL (processor defaults)" },
  [TS_VLM_QWEN2_VL_CONFIG] = { "qwen2-vl-config", "Qwen2-VL / 2.5-VL (model config)" },
  [TS_VLM_INTERNVL25] = { "internvl2.5", "InternVL2 / 2.5" },
  [TS_VLM_DEEPSEEK_OCR_TINY] = { "deepseek-ocr-tiny", "DeepSeek-OCR Tiny" },
  [TS_VLM_DEEPSEEK_OCR_SMALL] = { "deepseek-ocr-small", "DeepSeek-OCR Small" },
  [TS_VLM_DEEPSEEK_OCR_BASE] = { "deepseek-ocr-base", "DeepSeek-OCR Base" },
  [TS_VLM_DEEPSEEK_OCR_LARGE] = { "deepseek-ocr-large", "DeepSeek-OCR Large" },
  [TS_VLM_DEEPSEEK_OCR_GUNDAM] = { "deepseek-ocr-gundam", "DeepSeek-OCR Gundam" },
  [TS_VLM_GPT4O_HIGH] = { "gpt-4o-high", "GPT-4o (high detail)" },
  [TS_VLM_GPT4O_LOW] = { "gpt-4o-low", "GPT-4o (low detail)" },
  [TS_VLM_CLAUDE] = { "claude", "Claude (approximate)" },
  [TS_VLM_GENERIC_VIT] = { "vit", "Generic ViT" },
};

void
ts_vlm_generic_init (TsVlmGeneric *generic)
{
  generic->resize.policy = TS_RESIZE_SQUARE;
  generic->resize.size = 224;
  generic->patch = 16;
  generic->cls = FALSE;
}

const char *
ts_vlm_model_name (TsVlmModel model)
{
  return (guint) model < TS_VLM_N_MODELS ? models[model].name : "unknown";
}

const char *
ts_vlm_model_label (TsVlmModel model)
{
  return (guint) model < TS_VLM_N_MODELS ? models[model].label : "unknown";
}

gboolean
ts_vlm_model_parse (const char *name, TsVlmModel *model, GError **error)
{
  g_autoptr (GString) names = g_string_new (NULL);

  for (int i = 0; i < TS_VLM_N_MODELS; i++)
    {
      if (name != NULL && g_ascii_strcasecmp (name, models[i].name) == 0)
        {
          *model = (TsVlmModel) i;
          return TRUE;
        }
      g_string_append_printf (names, "%s%s", i ? ", " : "", models[i].name);
    }
  g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "unknown model '%s' (choose from %s)",
               name ? name : "", names->str);
  return FALSE;
}

gboolean
ts_vlm_parse_size (const char *text, int *width, int *height, GError **error)
{
  char *end = NULL;
  gint64 w, h;
  const char *p;

  if (text == NULL)
    goto bad;
  w = g_ascii_strtoll (text, &end, 10);
  if (end == text)
    goto bad;
  p = end;
  while (*p == ' ')
    p++;
  if (*p != 'x' && *p != 'X' && *p != '*')
    goto bad;
  p++;
  while (*p == ' ')
    p++;
  h = g_ascii_strtoll (p, &end, 10);
  if (end == p || *end != '\0')
    goto bad;
  if (w < 1 || h < 1 || w > TS_VLM_MAX_SIDE || h > TS_VLM_MAX_SIDE)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "image size %s is outside 1..%d per side",
                   text, TS_VLM_MAX_SIDE);
      return FALSE;
    }
  *width = (int) w;
  *height = (int) h;
  return TRUE;

bad:
  g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "'%s' is not an image size like 1024x768",
               text ? text : "");
  return FALSE;
}

/* Fits @w x @h inside @box x @box keeping the aspect (the long side becomes @box). */
static void
fit_square (int w, int h, int box, int *cw, int *ch)
{
  if (w >= h)
    {
      *cw = box;
      *ch = MAX (1, (int) lround ((double) box * h / w));
    }
  else
    {
      *ch = box;
      *cw = MAX (1, (int) lround ((double) box * w / h));
    }
}

static void
llava_next (int W, int H, TsVlmCount *o)
{
  /* (h, w) pinpoints in the order of the released config. */
  static const int pins[][2] = { { 336, 672 }, { 672, 336 }, { 672, 672 }, { 1008, 336 }, { 336, 1008 } };
  gint64 best_eff = -1, best_waste = G_MAXINT64;
  int bh = 336, bw = 336, ch, cw;

  for (guint i = 0; i < G_N_ELEMENTS (pins); i++)
    {
      int ph = pins[i][0], pw = pins[i][1];
      double s = MIN ((double) pw / W, (double) ph / H);
      gint64 dw = (gint64) floor (W * s), dh = (gint64) floor (H * s);
      gint64 eff = MIN (dw * dh, (gint64) W * H);
      gint64 waste = (gint64) pw * ph - eff;
      if (eff > best_eff || (eff == best_eff && waste < best_waste))
        {
          best_eff = eff;
          best_waste = waste;
          bh = ph;
          bw = pw;
        }
    }
  ch = 24 * bh / 336;
  cw = 24 * bw / 336;
  if ((double) W / H > (double) cw / ch)
    {
      int nh = (int) lround ((double) H * cw / W);
      ch -= 2 * ((ch - nh) / 2);
    }
  else
    {
      int nw = (int) lround ((double) W * ch / H);
      cw -= 2 * ((cw - nw) / 2);
    }
  o->tokens = 576 + ch * cw + ch;
  o->resized_width = bw;
  o->resized_height = bh;
  {
    double s = MIN ((double) bw / W, (double) bh / H);
    o->content_width = MAX (1, (int) floor (W * s));
    o->content_height = MAX (1, (int) floor (H * s));
  }
  o->tile_cols = bw / 336;
  o->tile_rows = bh / 336;
  o->tile_width = o->tile_height = 336;
  o->extra_views = 1;
  o->extra_view_size = 336;
  o->unit = 14;
  o->note = "576 base-view tokens + unpadded grid rows x cols + one newline token per row "
            "(unpad uses round as REFERENCE 8; the HF processor truncates, which can differ by two rows)";
}

static void
qwen2_vl (int W, int H, double max_pixels, TsVlmCount *o)
{
  const int f = 28;
  const double min_pixels = 3136;
  gint64 h = (gint64) nearbyint ((double) H / f) * f; /* Python round: half to even */
  gint64 w = (gint64) nearbyint ((double) W / f) * f;

  h = MAX (f, h);
  w = MAX (f, w);
  if ((double) h * w > max_pixels)
    {
      double b = sqrt ((double) H * W / max_pixels);
      h = MAX (f, (gint64) floor (H / b / f) * f);
      w = MAX (f, (gint64) floor (W / b / f) * f);
    }
  else if ((double) h * w < min_pixels)
    {
      double b = sqrt (min_pixels / ((double) H * W));
      h = (gint64) ceil (H * b / f) * f;
      w = (gint64) ceil (W * b / f) * f;
    }
  o->tokens = (int) ((h / f) * (w / f));
  o->resized_width = o->content_width = (int) w;
  o->resized_height = o->content_height = (int) h;
  o->unit = f;
}

/* InternVL's dynamic_preprocess grid choice; returns the grid in @gi (cols) x @gj (rows). */
static void
closest_grid (int W, int H, int min_num, int max_num, int image_size, int *gi, int *gj)
{
  double aspect = (double) W / H, best_diff = INFINITY;
  double area = (double) W * H;

  *gi = *gj = 1;
  for (int n = 1; n <= max_num; n++)   /* sorted by tile count */
    for (int i = 1; i <= n; i++)
      {
        int j;
        double diff;
        if (n % i != 0)
          continue;
        j = n / i;
        if (n < min_num)
          continue;
        diff = fabs (aspect - (double) i / j);
        if (diff < best_diff)
          {
            best_diff = diff;
            *gi = i;
            *gj = j;
          }
        else if (diff == best_diff && area > 0.5 * image_size * image_size * i * j)
          {
            *gi = i;
            *gj = j;
          }
      }
}

static void
internvl (int W, int H, TsVlmCount *o)
{
  int gi, gj, tiles;

  closest_grid (W, H, 1, 12, 448, &gi, &gj);
  tiles = gi * gj;
  o->tokens = 256 * (tiles + (tiles > 1 ? 1 : 0));
  o->resized_width = o->content_width = 448 * gi;
  o->resized_height = o->content_height = 448 * gj;
  o->tile_cols = gi;
  o->tile_rows = gj;
  o->tile_width = o->tile_height = 448;
  o->extra_views = tiles > 1 ? 1 : 0;
  o->extra_view_size = 448;
  o->unit = 28;
  o->note = "448 px tiles, 256 tokens each (14 px patches, pixel shuffle 0.5), plus a 448 px thumbnail "
            "when there is more than one tile; grid = closest aspect ratio with 1..12 tiles";
}

static void
deepseek_mode (int W, int H, int size, int tokens, gboolean pad, TsVlmCount *o)
{
  o->tokens = tokens;
  o->resized_width = o->resized_height = size;
  if (pad)
    fit_square (W, H, size, &o->content_width, &o->content_height);
  else
    o->content_width = o->content_height = size;
  o->unit = 64;
  o->note = pad ? "padded to a square (aspect kept), 16 px patches then a 16x token compressor; "
                  "padding tokens count, the paper's 'valid' tokens exclude them"
                : "resized to a square, 16 px patches then a 16x token compressor (4x per side)";
}

static void
deepseek_gundam (int W, int H, TsVlmCount *o)
{
  int gi = 1, gj = 1, tiles = 0;

  if (W > 640 || H > 640)
    {
      closest_grid (W, H, 2, 9, 640, &gi, &gj);
      tiles = gi * gj;
    }
  o->tokens = 100 * tiles + 256;
  o->resized_width = o->content_width = tiles ? 640 * gi : 1024;
  o->resized_height = o->content_height = tiles ? 640 * gj : 1024;
  if (tiles == 0)
    fit_square (W, H, 1024, &o->content_width, &o->content_height);
  o->tile_cols = tiles ? gi : 0;
  o->tile_rows = tiles ? gj : 0;
  o->tile_width = o->tile_height = 640;
  o->extra_views = 1;
  o->extra_view_size = 1024;
  o->unit = 64;
  o->note = "n 640 px tiles (100 tokens each; 2..9 tiles, closest aspect ratio; none when the image fits "
            "640 x 640) + one padded 1024 px global view (256); the released code adds newline and "
            "separator tokens on top";
}

static void
gpt4o_high (int W, int H, TsVlmCount *o)
{
  double w = W, h = H;

  if (w > 2048 || h > 2048)
    {
      double r = w / h;
      if (r > 1)
        {
          w = 2048;
          h = floor (2048 / r);
        }
      else
        {
          h = 2048;
          w = floor (2048 * r);
        }
    }
  if (w >= h && h > 768)
    {
      w = floor (768 / h * w);
      h = 768;
    }
  else if (h > w && w > 768)
    {
      h = floor (768 / w * h);
      w = 768;
    }
  w = MAX (1, w);
  h = MAX (1, h);
  o->tile_cols = (int) ceil (w / 512);
  o->tile_rows = (int) ceil (h / 512);
  o->tile_width = o->tile_height = 512;
  o->tokens = 170 * o->tile_cols * o->tile_rows + 85;
  o->resized_width = o->content_width = (int) w;
  o->resized_height = o->content_height = (int) h;
  o->unit = 512;
  o->note = "fit inside 2048 x 2048, shortest side scaled down to 768, 170 tokens per 512 px tile + 85 base";
}

static void
claude (int W, int H, TsVlmCount *o)
{
  double w = W, h = H, longest = MAX (w, h);

  if (longest > 1568)
    {
      double s = 1568 / longest;
      w = MAX (1, floor (w * s + 0.5));
      h = MAX (1, floor (h * s + 0.5));
    }
  o->tokens = (int) ceil (w * h / 750);
  o->resized_width = o->content_width = (int) w;
  o->resized_height = o->content_height = (int) h;
  o->approximate = TRUE;
  o->note = "approximate: Anthropic's published rule of thumb w * h / 750 (rounded up) after a long edge "
            "over 1568 px is scaled down to 1568; the service may resize further";
}

static gboolean
generic_vit (int W, int H, const TsVlmGeneric *g, TsVlmCount *o, GError **error)
{
  TsVlmGeneric def;
  int w, h;

  if (g == NULL)
    {
      ts_vlm_generic_init (&def);
      g = &def;
    }
  if (g->patch < 1 || g->patch > 1024)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "patch size %d is outside 1..1024", g->patch);
      return FALSE;
    }
  if (!ts_resize_target_size (&g->resize, W, H, g->patch, &w, &h, error))
    return FALSE;
  o->tokens = (w / g->patch) * (h / g->patch) + (g->cls ? 1 : 0);
  o->resized_width = w;
  o->resized_height = h;
  if (g->resize.policy == TS_RESIZE_PAD)
    fit_square (W, H, w, &o->content_width, &o->content_height);
  else
    {
      o->content_width = w;
      o->content_height = h;
    }
  o->unit = g->patch;
  o->note = g->cls ? "(W/P) x (H/P) patch tokens + 1 CLS token after the resize policy"
                   : "(W/P) x (H/P) patch tokens after the resize policy";
  return TRUE;
}

gboolean
ts_vlm_count (TsVlmModel model, int width, int height, const TsVlmGeneric *generic, TsVlmCount *out,
              GError **error)
{
  TsVlmCount o = { 0 };

  if ((guint) model >= TS_VLM_N_MODELS)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "unknown VLM model %d", (int) model);
      return FALSE;
    }
  if (width < 1 || height < 1 || width > TS_VLM_MAX_SIDE || height > TS_VLM_MAX_SIDE)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "image size %d x %d is outside 1..%d per side",
                   width, height, TS_VLM_MAX_SIDE);
      return FALSE;
    }
  o.model = model;
  o.name = models[model].name;
  o.label = models[model].label;

  switch (model)
    {
    case TS_VLM_LLAVA_15:
      o.tokens = 576;
      o.resized_width = o.resized_height = 336;
      fit_square (width, height, 336, &o.content_width, &o.content_height);
      o.unit = 14;
      o.note = "padded to a square with the mean colour, resized to 336 x 336, ViT-L/14: 24 x 24 tokens";
      break;
    case TS_VLM_LLAVA_NEXT:
      llava_next (width, height, &o);
      break;
    case TS_VLM_QWEN2_VL:
    case TS_VLM_QWEN2_VL_CONFIG:
      if ((double) MAX (width, height) / MIN (width, height) > 200)
        {
          g_set_error (error, TS_ERROR, TS_ERROR_UNSUPPORTED,
                       "Qwen2-VL refuses images with an aspect ratio over 200 (%d x %d)", width, height);
          return FALSE;
        }
      qwen2_vl (width, height, model == TS_VLM_QWEN2_VL ? 1003520.0 : 12845056.0, &o);
      o.note = model == TS_VLM_QWEN2_VL
                 ? "source: the processor class defaults (min_pixels 3136, max_pixels 1003520 = 28*28*1280); "
                   "one token per 28 x 28 px (14 px patches merged 2 x 2); +2 vision start/end markers not counted"
                 : "source: the published model config (max_pixels 12845056); one token per 28 x 28 px; "
                   "+2 vision start/end markers not counted";
      break;
    case TS_VLM_INTERNVL25:
      internvl (width, height, &o);
      break;
    case TS_VLM_DEEPSEEK_OCR_TINY:
      deepseek_mode (width, height, 512, 64, FALSE, &o);
      break;
    case TS_VLM_DEEPSEEK_OCR_SMALL:
      deepseek_mode (width, height, 640, 100, FALSE, &o);
      break;
    case TS_VLM_DEEPSEEK_OCR_BASE:
      deepseek_mode (width, height, 1024, 256, TRUE, &o);
      break;
    case TS_VLM_DEEPSEEK_OCR_LARGE:
      deepseek_mode (width, height, 1280, 400, TRUE, &o);
      break;
    case TS_VLM_DEEPSEEK_OCR_GUNDAM:
      deepseek_gundam (width, height, &o);
      break;
    case TS_VLM_GPT4O_HIGH:
      gpt4o_high (width, height, &o);
      break;
    case TS_VLM_GPT4O_LOW:
      o.tokens = 85;
      o.resized_width = o.resized_height = 512;
      fit_square (width, height, 512, &o.content_width, &o.content_height);
      o.unit = 512;
      o.note = "low detail: a fixed 85 tokens, the image seen at 512 x 512";
      break;
    case TS_VLM_CLAUDE:
      claude (width, height, &o);
      break;
    case TS_VLM_GENERIC_VIT:
      if (!generic_vit (width, height, generic, &o, error))
        return FALSE;
      break;
    case TS_VLM_N_MODELS:
    default:
      g_assert_not_reached ();
    }
  *out = o;
  return TRUE;
}
