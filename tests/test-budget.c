/* Budgets, KV cache, encoder FLOPs, FLOPs per token, guidance (REFERENCE 1, 7).
 * Expected values derived by hand; the arithmetic is shown beside each. */
#include <math.h>
#include <string.h>

#include "ts-test-util.h"

static void
test_visual (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (ts_budget_visual (2048, 1500, NULL), ==, 548);
  g_assert_cmpint (ts_budget_visual (4096, 0, NULL), ==, 4096);
  g_assert_cmpint (ts_budget_visual (2048, 2048, &error), ==, -1);
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

static void
test_downsample (void)
{
  static const struct { int w, h, p, budget, tokens, ow, oh; } c[] = {
    { 672, 672, 14, 548, 529, 322, 322 }, /* 23^2 = 529 <= 548 < 24^2; the seed's 308 (22^2 = 484) also fits */
    { 672, 672, 14, 484, 484, 308, 308 }, /* the seed's option A exactly */
    { 672, 672, 14, 5000, 2304, 672, 672 }, /* already within budget: unchanged */
    { 1024, 768, 14, 548, 540, 378, 280 }, /* 27 x 20 = 540 (28 x 21 = 588 too many) */
    { 336, 336, 14, 1, 1, 14, 14 },
    { 224, 224, 16, 100, 100, 160, 160 }, /* 10 x 10 */
  };
  g_autoptr (GError) error = NULL;
  int ow, oh;

  for (guint i = 0; i < G_N_ELEMENTS (c); i++)
    {
      g_assert_cmpint (ts_budget_downsample_size (c[i].w, c[i].h, c[i].p, c[i].budget, &ow, &oh, NULL), ==, c[i].tokens);
      g_assert_cmpint (ow, ==, c[i].ow);
      g_assert_cmpint (oh, ==, c[i].oh);
    }
  g_assert_cmpint (ts_budget_downsample_size (672, 672, 14, 0, &ow, &oh, &error), ==, -1);
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

static void
test_compress (void)
{
  int tokens;

  g_assert_cmpint (ts_budget_compress_factor (2304, 548, &tokens), ==, 5); /* ceil(4.2) */
  g_assert_cmpint (tokens, ==, 461);                                       /* ceil(460.8) */
  g_assert_cmpint (ts_budget_compress_factor (576, 548, &tokens), ==, 2);
  g_assert_cmpint (tokens, ==, 288);
  g_assert_cmpint (ts_budget_compress_factor (500, 548, &tokens), ==, 1);
  g_assert_cmpint (tokens, ==, 500);
  g_assert_cmpint (ts_budget_compress_factor (0, 548, &tokens), ==, -1);
}

static void
test_dynamic (void)
{
  g_autoptr (GError) error = NULL;

  /* min = 576 // 4 = 144; 144 + 0.8 * 432 = 489.6 -> 489 (truncated, as the seed's int()). */
  g_assert_cmpint (ts_budget_dynamic (576, 0.8, NULL), ==, 489);
  /* 144 + 0.2 * 432 = 230.4 -> 230. The seed prints 173 for this call, which its own formula
   * does not give (173 = 0.3 * 576); we follow the formula. */
  g_assert_cmpint (ts_budget_dynamic (576, 0.2, NULL), ==, 230);
  g_assert_cmpint (ts_budget_dynamic (576, 0.0, NULL), ==, 144);
  g_assert_cmpint (ts_budget_dynamic (576, 1.0, NULL), ==, 576);
  g_assert_cmpint (ts_budget_dynamic (3, 0.5, NULL), ==, 1); /* 0 + 1.5 */
  g_assert_cmpint (ts_budget_dynamic (576, 1.5, &error), ==, -1);
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpint (ts_budget_dynamic (576, NAN, &error), ==, -1);
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

static void
test_kv (void)
{
  TsLlmPreset llm;
  g_autoptr (GError) error = NULL;

  g_assert_true (ts_llm_preset_find ("llama-2-7b", &llm, NULL));
  /* 576 * 2 * 32 * 32 * 128 * 2 = 301,989,888 B = 302 MB; 36 tokens: 18.9 MB. */
  g_assert_cmpfloat (ts_kv_cache_bytes (&llm, 576), ==, 301989888.0);
  g_assert_cmpfloat (ts_kv_cache_bytes (&llm, 36), ==, 18874368.0);
  g_assert_true (ts_llm_preset_find ("Qwen2-7B", &llm, NULL));
  g_assert_cmpint (llm.kv_heads, ==, 4);
  g_assert_cmpfloat (ts_kv_cache_bytes (&llm, 576), ==, 33030144.0); /* 576 * 2 * 28 * 4 * 128 * 2 */
  g_assert_true (ts_llm_preset_find ("vicuna-13b", &llm, NULL));
  g_assert_cmpfloat (ts_kv_cache_bytes (&llm, 576), ==, 471859200.0); /* 576 * 2 * 40 * 40 * 128 * 2 */
  llm.bytes_per_value = 1; /* edited: int8 cache halves it */
  g_assert_cmpfloat (ts_kv_cache_bytes (&llm, 576), ==, 235929600.0);
  g_assert_false (ts_llm_preset_find ("gpt-2", &llm, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

static void
test_vit_flops (void)
{
  TsVitPreset vit;
  g_autoptr (GError) error = NULL;

  g_assert_true (ts_vit_preset_find ("vit-l/14-336", &vit, NULL));
  /* N = 577, D = 1024: 24 (24 N D^2 + 4 N^2 D) = 381,224,583,168; patch embedding
   * 2 * 576 * 14^2 * 3 * 1024 = 693,633,024; total 0.382 TFLOP = 191 G multiply-adds. */
  g_assert_cmpfloat (ts_vit_flops (&vit, 576), ==, 381918216192.0);
  g_assert_true (ts_vit_preset_find ("vit-b/16", &vit, NULL));
  /* N = 197, D = 768: 12 (2,788,687,872 + 119,221,248) + 231,211,008. */
  g_assert_cmpfloat (ts_vit_flops (&vit, 196), ==, 35126120448.0);
  g_assert_true (ts_vit_preset_find ("siglip-so400m", &vit, NULL));
  g_assert_false (vit.cls);
  /* Custom: 1 layer, D 2, MLP 8, P 1, no CLS, 3 patches: 8*3*4 + 4*3*2*8 + 4*9*2 + 2*3*1*3*2 = 96+192+72+36. */
  vit = (TsVitPreset){ "custom", 1, 2, 8, 1, 3, FALSE };
  g_assert_cmpfloat (ts_vit_flops (&vit, 3), ==, 396.0);
  g_assert_false (ts_vit_preset_find ("vit-z", &vit, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

static void
test_flops_per_token (void)
{
  TsVitPreset vit;
  TsFlopsRow none, qf, pool, down;
  g_autoptr (GError) error = NULL;
  guint n;
  const TsMethod *const *all = ts_methods (&n);

  g_assert_true (ts_vit_preset_find ("vit-l/14-336", &vit, NULL));
  g_assert_true (ts_flops_per_token (&vit, NULL, NULL, 576, 576, &none, NULL));
  g_assert_cmpfloat_with_epsilon (none.relative, 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (none.flops_per_token, 381918216192.0 / 576, 1);
  /* The seed's trade-off: 32 Q-Former queries, 18x fewer tokens, ~19x the compute per token. */
  g_assert_true (ts_flops_per_token (&vit, "qformer", NULL, 576, 32, &qf, NULL));
  g_assert_cmpfloat (qf.method_flops, >, 10e9);
  g_assert_cmpfloat (qf.method_flops, <, 40e9);
  g_assert_cmpfloat (qf.relative, >, 18.0);
  g_assert_cmpfloat (qf.relative, <, 21.0);
  /* Pooling 4x: one add per value, 576 * 1024 + 144 * 1024. */
  g_assert_true (ts_flops_per_token (&vit, "pool", NULL, 576, 144, &pool, NULL));
  g_assert_cmpfloat (pool.method_flops, ==, 720.0 * 1024);
  g_assert_cmpfloat_with_epsilon (pool.relative, 4.0, 0.01);
  /* Downsampling runs the encoder on fewer patches: about 1x per token. */
  g_assert_true (ts_flops_per_token (&vit, "downsample", NULL, 576, 144, &down, NULL));
  g_assert_cmpfloat (down.encoder_flops, ==, ts_vit_flops (&vit, 144));
  g_assert_cmpfloat (down.relative, <, 1.05);
  /* Every registered method has an estimate. */
  for (guint i = 0; i < n; i++)
    {
      TsFlopsRow row;
      g_assert_true (ts_flops_per_token (&vit, all[i]->name, NULL, 576, 72, &row, NULL));
      g_assert_true (isfinite (row.method_flops));
      ts_flops_row_clear (&row);
    }
  ts_flops_row_clear (&pool); /* reused below: its method string is ours to free */
  g_assert_false (ts_flops_per_token (&vit, "unknown-method", NULL, 576, 72, &pool, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ts_flops_per_token (&vit, "pool", NULL, 576, 577, &pool, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  ts_flops_row_clear (&none);
  ts_flops_row_clear (&qf);
  ts_flops_row_clear (&down);
}

static void
test_guidance (void)
{
  guint n;
  const TsRatioBand *b = ts_ratio_bands (&n);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (n, ==, 4);
  g_assert_cmpstr (b[0].name, ==, "light");
  g_assert_cmpfloat (b[0].lo, ==, 2);
  g_assert_cmpfloat (b[3].lo, ==, 16);
  g_assert_true (isinf (b[3].hi));
  g_assert_cmpstr (ts_ratio_band_for (3)->name, ==, "light");
  g_assert_cmpstr (ts_ratio_band_for (4)->name, ==, "medium");
  g_assert_cmpstr (ts_ratio_band_for (12)->name, ==, "heavy");
  g_assert_cmpstr (ts_ratio_band_for (64)->name, ==, "extreme");
  g_assert_null (ts_ratio_band_for (1.5));
  g_assert_cmpint (ts_task_presets (&n) != NULL, ==, TRUE);
  g_assert_cmpint (n, ==, 4);
  g_assert_cmpfloat (ts_task_preset_find ("vqa", NULL)->ratio_lo, ==, 4);
  g_assert_cmpfloat (ts_task_preset_find ("vqa", NULL)->ratio_hi, ==, 8);
  g_assert_nonnull (strstr (ts_task_preset_find ("document", NULL)->methods, "optical"));
  g_assert_null (ts_task_preset_find ("poetry", &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

static void
test_fixed (void)
{
  g_autoptr (TsScene) scene = ts_scene_new (ts_test_gradient (672, 672), 14, TS_FEATURES_PIXEL, NULL, NULL);
  g_autoptr (TsBudgetFixed) f = NULL;
  g_autoptr (GError) error = NULL;

  f = ts_budget_fixed (scene, 2048, 1500, "pool", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (f->budget, ==, 548);
  g_assert_cmpint (f->tokens, ==, 2304);
  g_assert_cmpint (f->options[0].tokens, ==, 529);
  g_assert_cmpint (f->options[0].width, ==, 322);
  g_assert_cmpfloat (f->options[0].ssim, <, 1.0);
  g_assert_cmpfloat (f->options[0].ssim, >, 0.0);
  /* B asks pool for 461 tokens: the largest pooled grid under it is k = 3, 16 x 16 = 256. */
  g_assert_cmpstr (f->options[1].method, ==, "pool");
  g_assert_cmpint (f->options[1].tokens, ==, 256);
  g_assert_cmpfloat (f->options[1].ssim, >, 0.0);
  g_assert_cmpfloat (f->options[1].feature_retention, >, 0.0);
  if (f->options[2].available)
    g_assert_cmpint (f->options[2].tokens, <=, 548);
  else
    g_assert_null (ts_method_find ("adaptive", NULL));
  g_clear_pointer (&f, ts_budget_fixed_free);
  f = ts_budget_fixed (scene, 100, 200, NULL, NULL, NULL, &error);
  g_assert_null (f);
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  f = ts_budget_fixed (scene, 2048, 1500, "no-such-method", NULL, NULL, &error);
  g_assert_null (f);
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/budget/visual", test_visual);
  g_test_add_func ("/budget/downsample", test_downsample);
  g_test_add_func ("/budget/compress", test_compress);
  g_test_add_func ("/budget/dynamic", test_dynamic);
  g_test_add_func ("/budget/kv-cache", test_kv);
  g_test_add_func ("/budget/vit-flops", test_vit_flops);
  g_test_add_func ("/budget/flops-per-token", test_flops_per_token);
  g_test_add_func ("/budget/guidance", test_guidance);
  g_test_add_func ("/budget/fixed", test_fixed);
  return g_test_run ();
}
