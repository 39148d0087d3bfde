/* VLM token counts (REFERENCE 8).
 *
 * The worked examples of REFERENCE 8 plus 12 sizes per model. Values were
 * derived by hand for a few per model (comments) and all were cross-checked
 * with tests/golden/vlm_golden.py, an independent Python re-implementation
 * written from the models' preprocessing code (HF transformers, InternVL,
 * DeepSeek-OCR, OpenAI's tile rule); pasted here, Python is not needed to run. */
#include <string.h>

#include "ts-test-util.h"

typedef struct {
  TsVlmModel model;
  int w, h;
  int tokens;
  int rw, rh; /* resized canvas */
} VlmCase;

/* Hand checks, e.g.:
 *  llava-next 1024x768: pinpoint 672x672 (eff 672*504), cw = ch = 48, W/H 1.33 > 1 -> nh = round(768*48/1024) = 36,
 *    ch = 48 - 2*6 = 36 -> 576 + 36*48 + 36 = 2340.
 *  llava-next 336x336: 336x672 and 672x336 both keep all pixels with equal waste; the first listed (h 336, w 672)
 *    wins -> cw 48, ch 24, nw = 24, cw = 24 -> 576 + 576 + 24 = 1176.
 *  qwen2-vl 1920x1080: 39*28 x 69*28 = 1092 x 1932 > 1003520 -> b = sqrt(2073600/1003520) = 1.4375,
 *    h = floor(1080/b/28) = 26, w = floor(1920/b/28) = 47 -> 1222; with max 12845056: 39 * 69 = 2691.
 *  qwen2-vl 1024x768: round(27.43) = 27, round(36.57) = 37, 756 * 1036 < max -> 999.
 *  internvl2.5 1024x768: aspect 4/3 matches grid 4 x 3 exactly -> 12 tiles + thumbnail = 13 * 256 = 3328.
 *  gpt-4o-high 1920x1080: short side 1080 -> 768, long 1365 -> 3 x 2 tiles -> 6 * 170 + 85 = 1105.
 *  claude 1920x1080: long edge 1920 -> 1568, 1080 -> 882; 1568 * 882 / 750 = 1843.97 -> 1844.
 *  deepseek-ocr-gundam 1280x720: aspect 1.78; 2x1 (2.0) and 4x2 (2.0) tie, area 921600 < 0.5*640^2*8 -> 2 tiles:
 *    200 + 256 = 456. */
static const VlmCase cases[] = {
  { TS_VLM_LLAVA_NEXT, 1024, 768, 2340, 672, 672 },
  { TS_VLM_LLAVA_NEXT, 1920, 1080, 1948, 672, 672 },
  { TS_VLM_LLAVA_NEXT, 336, 336, 1176, 672, 336 },
  { TS_VLM_LLAVA_NEXT, 100, 100, 1176, 672, 336 },
  { TS_VLM_LLAVA_NEXT, 640, 480, 2340, 672, 672 },
  { TS_VLM_LLAVA_NEXT, 4000, 3000, 2340, 672, 672 },
  { TS_VLM_LLAVA_NEXT, 800, 1200, 2160, 672, 672 },
  { TS_VLM_LLAVA_NEXT, 3000, 500, 1452, 1008, 336 },
  { TS_VLM_LLAVA_NEXT, 448, 448, 2928, 672, 672 },
  { TS_VLM_LLAVA_NEXT, 1280, 720, 1948, 672, 672 },
  { TS_VLM_LLAVA_NEXT, 2048, 4096, 1776, 336, 672 },
  { TS_VLM_LLAVA_NEXT, 300, 2000, 1512, 336, 1008 },
  { TS_VLM_QWEN2_VL, 1024, 768, 999, 1036, 756 },
  { TS_VLM_QWEN2_VL, 1920, 1080, 1222, 1316, 728 },
  { TS_VLM_QWEN2_VL, 336, 336, 144, 336, 336 },
  { TS_VLM_QWEN2_VL, 100, 100, 16, 112, 112 },
  { TS_VLM_QWEN2_VL, 640, 480, 391, 644, 476 },
  { TS_VLM_QWEN2_VL, 4000, 3000, 1230, 1148, 840 },
  { TS_VLM_QWEN2_VL, 800, 1200, 1247, 812, 1204 },
  { TS_VLM_QWEN2_VL, 3000, 500, 1218, 2436, 392 },
  { TS_VLM_QWEN2_VL, 448, 448, 256, 448, 448 },
  { TS_VLM_QWEN2_VL, 1280, 720, 1196, 1288, 728 },
  { TS_VLM_QWEN2_VL, 2048, 4096, 1250, 700, 1400 },
  { TS_VLM_QWEN2_VL, 300, 2000, 781, 308, 1988 },
  { TS_VLM_QWEN2_VL_CONFIG, 1024, 768, 999, 1036, 756 },
  { TS_VLM_QWEN2_VL_CONFIG, 1920, 1080, 2691, 1932, 1092 },
  { TS_VLM_QWEN2_VL_CONFIG, 336, 336, 144, 336, 336 },
  { TS_VLM_QWEN2_VL_CONFIG, 100, 100, 16, 112, 112 },
  { TS_VLM_QWEN2_VL_CONFIG, 640, 480, 391, 644, 476 },
  { TS_VLM_QWEN2_VL_CONFIG, 4000, 3000, 15301, 4004, 2996 },
  { TS_VLM_QWEN2_VL_CONFIG, 800, 1200, 1247, 812, 1204 },
  { TS_VLM_QWEN2_VL_CONFIG, 3000, 500, 1926, 2996, 504 },
  { TS_VLM_QWEN2_VL_CONFIG, 448, 448, 256, 448, 448 },
  { TS_VLM_QWEN2_VL_CONFIG, 1280, 720, 1196, 1288, 728 },
  { TS_VLM_QWEN2_VL_CONFIG, 2048, 4096, 10658, 2044, 4088 },
  { TS_VLM_QWEN2_VL_CONFIG, 300, 2000, 781, 308, 1988 },
  { TS_VLM_INTERNVL25, 1024, 768, 3328, 1792, 1344 },
  { TS_VLM_INTERNVL25, 1920, 1080, 2304, 1792, 896 },
  { TS_VLM_INTERNVL25, 336, 336, 256, 448, 448 },
  { TS_VLM_INTERNVL25, 100, 100, 256, 448, 448 },
  { TS_VLM_INTERNVL25, 640, 480, 3328, 1792, 1344 },
  { TS_VLM_INTERNVL25, 4000, 3000, 3328, 1792, 1344 },
  { TS_VLM_INTERNVL25, 800, 1200, 1792, 896, 1344 },
  { TS_VLM_INTERNVL25, 3000, 500, 1792, 2688, 448 },
  { TS_VLM_INTERNVL25, 448, 448, 256, 448, 448 },
  { TS_VLM_INTERNVL25, 1280, 720, 2304, 1792, 896 },
  { TS_VLM_INTERNVL25, 2048, 4096, 2304, 896, 1792 },
  { TS_VLM_INTERNVL25, 300, 2000, 2048, 448, 3136 },
  { TS_VLM_DEEPSEEK_OCR_GUNDAM, 1024, 768, 856, 1920, 1280 },
  { TS_VLM_DEEPSEEK_OCR_GUNDAM, 1920, 1080, 1056, 2560, 1280 },
  { TS_VLM_DEEPSEEK_OCR_GUNDAM, 336, 336, 256, 1024, 1024 },
  { TS_VLM_DEEPSEEK_OCR_GUNDAM, 100, 100, 256, 1024, 1024 },
  { TS_VLM_DEEPSEEK_OCR_GUNDAM, 640, 480, 256, 1024, 1024 },
  { TS_VLM_DEEPSEEK_OCR_GUNDAM, 4000, 3000, 856, 1920, 1280 },
  { TS_VLM_DEEPSEEK_OCR_GUNDAM, 800, 1200, 856, 1280, 1920 },
  { TS_VLM_DEEPSEEK_OCR_GUNDAM, 3000, 500, 856, 3840, 640 },
  { TS_VLM_DEEPSEEK_OCR_GUNDAM, 448, 448, 256, 1024, 1024 },
  { TS_VLM_DEEPSEEK_OCR_GUNDAM, 1280, 720, 456, 1280, 640 },
  { TS_VLM_DEEPSEEK_OCR_GUNDAM, 2048, 4096, 1056, 1280, 2560 },
  { TS_VLM_DEEPSEEK_OCR_GUNDAM, 300, 2000, 956, 640, 4480 },
  { TS_VLM_GPT4O_HIGH, 1024, 768, 765, 1024, 768 },
  { TS_VLM_GPT4O_HIGH, 1920, 1080, 1105, 1365, 768 },
  { TS_VLM_GPT4O_HIGH, 336, 336, 255, 336, 336 },
  { TS_VLM_GPT4O_HIGH, 100, 100, 255, 100, 100 },
  { TS_VLM_GPT4O_HIGH, 640, 480, 425, 640, 480 },
  { TS_VLM_GPT4O_HIGH, 4000, 3000, 765, 1024, 768 },
  { TS_VLM_GPT4O_HIGH, 800, 1200, 1105, 768, 1152 },
  { TS_VLM_GPT4O_HIGH, 3000, 500, 765, 2048, 341 },
  { TS_VLM_GPT4O_HIGH, 448, 448, 255, 448, 448 },
  { TS_VLM_GPT4O_HIGH, 1280, 720, 1105, 1280, 720 },
  { TS_VLM_GPT4O_HIGH, 2048, 4096, 1105, 768, 1536 },
  { TS_VLM_GPT4O_HIGH, 300, 2000, 765, 300, 2000 },
  { TS_VLM_CLAUDE, 1024, 768, 1049, 1024, 768 },
  { TS_VLM_CLAUDE, 1920, 1080, 1844, 1568, 882 },
  { TS_VLM_CLAUDE, 336, 336, 151, 336, 336 },
  { TS_VLM_CLAUDE, 100, 100, 14, 100, 100 },
  { TS_VLM_CLAUDE, 640, 480, 410, 640, 480 },
  { TS_VLM_CLAUDE, 4000, 3000, 2459, 1568, 1176 },
  { TS_VLM_CLAUDE, 800, 1200, 1280, 800, 1200 },
  { TS_VLM_CLAUDE, 3000, 500, 546, 1568, 261 },
  { TS_VLM_CLAUDE, 448, 448, 268, 448, 448 },
  { TS_VLM_CLAUDE, 1280, 720, 1229, 1280, 720 },
  { TS_VLM_CLAUDE, 2048, 4096, 1640, 784, 1568 },
  { TS_VLM_CLAUDE, 300, 2000, 492, 235, 1568 },
};

static void
test_table (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const VlmCase *c = &cases[i];
      TsVlmCount o;
      g_autoptr (GError) error = NULL;

      g_test_message ("%s %dx%d", ts_vlm_model_name (c->model), c->w, c->h);
      g_assert_true (ts_vlm_count (c->model, c->w, c->h, NULL, &o, &error));
      g_assert_no_error (error);
      g_assert_cmpint (o.tokens, ==, c->tokens);
      g_assert_cmpint (o.resized_width, ==, c->rw);
      g_assert_cmpint (o.resized_height, ==, c->rh);
    }
}

static void
test_reference_examples (void)
{
  TsVlmCount o;

  g_assert_true (ts_vlm_count (TS_VLM_LLAVA_NEXT, 1024, 768, NULL, &o, NULL));
  g_assert_cmpint (o.tokens, ==, 2340);
  g_assert_cmpint (o.resized_width, ==, 672);
  g_assert_cmpint (o.resized_height, ==, 672);
  g_assert_cmpint (o.tile_cols, ==, 2);
  g_assert_cmpint (o.tile_rows, ==, 2);
  g_assert_cmpint (o.content_width, ==, 672);
  g_assert_cmpint (o.content_height, ==, 504);
  g_assert_true (ts_vlm_count (TS_VLM_QWEN2_VL, 1920, 1080, NULL, &o, NULL));
  g_assert_cmpint (o.tokens, ==, 1222);
  g_assert_nonnull (strstr (o.note, "processor"));
  g_assert_true (ts_vlm_count (TS_VLM_QWEN2_VL_CONFIG, 1920, 1080, NULL, &o, NULL));
  g_assert_cmpint (o.tokens, ==, 2691);
  g_assert_nonnull (strstr (o.note, "config"));
}

/* Models whose count does not depend on the size: check count and canvas on 10+ sizes,
 * and the aspect-kept content box (hand: 1024x768 in 336 -> 336 x 252). */
static void
test_fixed_models (void)
{
  static const struct { TsVlmModel m; int tokens, side; } fixed[] = {
    { TS_VLM_LLAVA_15, 576, 336 },        { TS_VLM_DEEPSEEK_OCR_TINY, 64, 512 },
    { TS_VLM_DEEPSEEK_OCR_SMALL, 100, 640 }, { TS_VLM_DEEPSEEK_OCR_BASE, 256, 1024 },
    { TS_VLM_DEEPSEEK_OCR_LARGE, 400, 1280 }, { TS_VLM_GPT4O_LOW, 85, 512 },
  };
  static const int sizes[][2] = { { 1024, 768 }, { 1920, 1080 }, { 336, 336 }, { 100, 100 }, { 640, 480 },
                                  { 4000, 3000 }, { 800, 1200 }, { 3000, 500 }, { 448, 448 }, { 1, 1 },
                                  { 1000000, 1 } };

  for (guint m = 0; m < G_N_ELEMENTS (fixed); m++)
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
      {
        TsVlmCount o;
        g_assert_true (ts_vlm_count (fixed[m].m, sizes[s][0], sizes[s][1], NULL, &o, NULL));
        g_assert_cmpint (o.tokens, ==, fixed[m].tokens);
        g_assert_cmpint (o.resized_width, ==, fixed[m].side);
        g_assert_cmpint (o.resized_height, ==, fixed[m].side);
        g_assert_cmpint (o.content_width, <=, fixed[m].side);
        g_assert_cmpint (o.content_height, <=, fixed[m].side);
      }
  {
    TsVlmCount o;
    g_assert_true (ts_vlm_count (TS_VLM_LLAVA_15, 1024, 768, NULL, &o, NULL));
    g_assert_cmpint (o.content_width, ==, 336);
    g_assert_cmpint (o.content_height, ==, 252);
    g_assert_true (ts_vlm_count (TS_VLM_DEEPSEEK_OCR_BASE, 800, 1200, NULL, &o, NULL));
    g_assert_cmpint (o.content_width, ==, 683); /* 1024 * 800 / 1200 = 682.67 */
    g_assert_cmpint (o.content_height, ==, 1024);
  }
}

/* Generic ViT: (S/P)^2 for square S; fit keeps the aspect. Hand-derived. */
static void
test_generic (void)
{
  static const struct { TsResizePolicy pol; int size, patch; gboolean cls; int w, h, tokens; } g[] = {
    { TS_RESIZE_SQUARE, 224, 16, FALSE, 1024, 768, 196 },
    { TS_RESIZE_SQUARE, 224, 16, TRUE, 1024, 768, 197 },
    { TS_RESIZE_SQUARE, 336, 14, FALSE, 50, 50, 576 },
    { TS_RESIZE_SQUARE, 384, 14, FALSE, 640, 480, 729 },   /* SigLIP 384: 27^2 */
    { TS_RESIZE_SQUARE, 518, 14, TRUE, 640, 480, 1370 },   /* DINOv2 518: 37^2 + 1 */
    { TS_RESIZE_NATIVE, 0, 14, FALSE, 672, 672, 2304 },
    { TS_RESIZE_NATIVE, 0, 16, FALSE, 1024, 768, 3072 },   /* 64 x 48 */
    { TS_RESIZE_NATIVE, 0, 14, FALSE, 100, 100, 49 },      /* cropped to 98: 7 x 7 */
    { TS_RESIZE_PAD, 336, 14, FALSE, 1024, 768, 576 },
    { TS_RESIZE_FIT, 448, 14, FALSE, 448, 224, 512 },      /* 32 x 16 */
  };
  for (guint i = 0; i < G_N_ELEMENTS (g); i++)
    {
      TsVlmGeneric gen = { { g[i].pol, g[i].size }, g[i].patch, g[i].cls };
      TsVlmCount o;
      g_autoptr (GError) error = NULL;
      g_assert_true (ts_vlm_count (TS_VLM_GENERIC_VIT, g[i].w, g[i].h, &gen, &o, &error));
      g_assert_no_error (error);
      g_assert_cmpint (o.tokens, ==, g[i].tokens);
    }
  {
    TsVlmCount o;
    g_assert_true (ts_vlm_count (TS_VLM_GENERIC_VIT, 1024, 768, NULL, &o, NULL));
    g_assert_cmpint (o.tokens, ==, 196);
  }
}

static void
test_names (void)
{
  for (int i = 0; i < TS_VLM_N_MODELS; i++)
    {
      TsVlmModel m;
      g_assert_true (ts_vlm_model_parse (ts_vlm_model_name ((TsVlmModel) i), &m, NULL));
      g_assert_cmpint (m, ==, i);
    }
}

static void
test_parse_size (void)
{
  int w = 0, h = 0;
  g_autoptr (GError) error = NULL;

  g_assert_true (ts_vlm_parse_size ("1024x768", &w, &h, NULL));
  g_assert_cmpint (w, ==, 1024);
  g_assert_cmpint (h, ==, 768);
  g_assert_true (ts_vlm_parse_size ("640 X 480", &w, &h, NULL));
  g_assert_cmpint (h, ==, 480);
  g_assert_false (ts_vlm_parse_size ("1024", &w, &h, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_vlm_parse_size ("0x10", &w, &h, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_vlm_parse_size ("10x10junk", &w, &h, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

static void
test_bad_input (void)
{
  TsVlmCount o;
  TsVlmModel m;
  TsVlmGeneric gen;
  g_autoptr (GError) error = NULL;

  g_assert_false (ts_vlm_count (TS_VLM_LLAVA_15, 0, 10, NULL, &o, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_vlm_count (TS_VLM_N_MODELS, 10, 10, NULL, &o, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_vlm_count (TS_VLM_QWEN2_VL, 30000, 100, NULL, &o, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_false (ts_vlm_model_parse ("llava-9", &m, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "llava-next"));
  g_clear_error (&error);
  ts_vlm_generic_init (&gen);
  gen.patch = 0;
  g_assert_false (ts_vlm_count (TS_VLM_GENERIC_VIT, 100, 100, &gen, &o, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vlm/reference-examples", test_reference_examples);
  g_test_add_func ("/vlm/table", test_table);
  g_test_add_func ("/vlm/fixed-models", test_fixed_models);
  g_test_add_func ("/vlm/generic", test_generic);
  g_test_add_func ("/vlm/names", test_names);
  g_test_add_func ("/vlm/parse-size", test_parse_size);
  g_test_add_func ("/vlm/bad-input", test_bad_input);
  return g_test_run ();
}
