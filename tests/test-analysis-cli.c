/* tokenscope-cli sweep, entropy, budget, vlm-tokens: JSON schemas with the keys the
 * issue names, hand-derived numbers, files written, exit codes. */
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "ts-test-util.h"

/* 112 x 112 at P 14: 8 x 8 = 64 tokens. */
static const char *
photo (void)
{
  static char *path;

  if (path == NULL)
    {
      g_autoptr (TsImage) base = ts_test_gradient (112, 112);
      g_autoptr (TsImage) img = ts_test_noisy (base, 4, 25);
      path = ts_test_path ("photo.png");
      g_assert_true (ts_image_save_png (img, path, NULL));
    }
  return path;
}

static JsonObject *
parse (JsonNode **keep, const char *out)
{
  g_autoptr (GError) error = NULL;

  *keep = json_from_string (out, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (*keep));
  return json_node_get_object (*keep);
}

static void
test_sweep_json (void)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *o;
  JsonArray *curves;
  int status = ts_test_cli (&out, &err, "sweep", photo (), "--methods", "pool,tome", "--ratios", "1,4,16", "--json",
                            "-", NULL);

  g_assert_cmpint (status, ==, 0);
  o = parse (&root, out);
  g_assert_cmpint (json_object_get_int_member (o, "tokens"), ==, 64);
  g_assert_cmpstr (json_object_get_string_member (o, "metric"), ==, "ssim");
  g_assert_cmpfloat (json_object_get_double_member (o, "threshold"), ==, 0.95);
  curves = json_object_get_array_member (o, "curves");
  g_assert_cmpint (json_array_get_length (curves), ==, 3); /* the baseline, pool, tome */
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (curves, 0), "method"), ==,
                   "downsample");
  g_assert_true (json_object_get_boolean_member (json_array_get_object_element (curves, 0), "baseline"));
  for (guint c = 0; c < 3; c++)
    {
      JsonObject *curve = json_array_get_object_element (curves, c);
      JsonArray *points = json_object_get_array_member (curve, "points");
      JsonObject *p0 = json_array_get_object_element (points, 0);
      static const char *keys[] = { "ratio", "tokens", "ssim", "psnr", "feature_retention", "efficiency" };
      g_assert_true (json_object_has_member (curve, "optimal_ratio"));
      g_assert_cmpint (json_array_get_length (points), ==, 3);
      for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
        g_assert_true (json_object_has_member (p0, keys[k]));
      g_assert_cmpfloat (json_object_get_double_member (p0, "ssim"), ==, 1.0);
      g_assert_true (json_node_is_null (json_object_get_member (p0, "psnr"))); /* infinite */
      g_assert_cmpint (json_object_get_int_member (p0, "tokens"), ==, 64);
    }
  /* pool at 4x: k = 2 on 8 x 8 -> 16 tokens. */
  {
    JsonObject *pool = json_array_get_object_element (curves, 1);
    JsonObject *p1 = json_array_get_object_element (json_object_get_array_member (pool, "points"), 1);
    g_assert_cmpint (json_object_get_int_member (p1, "tokens"), ==, 16);
    g_assert_cmpfloat_with_epsilon (json_object_get_double_member (p1, "efficiency"),
                                    4.0 * json_object_get_double_member (p1, "ssim"), 1e-9);
  }
}

static void
test_sweep_files (void)
{
  g_autofree char *csv = ts_test_path ("points.csv");
  g_autofree char *svg = ts_test_path ("curves.svg");
  g_autofree char *png = ts_test_path ("curves.png");
  g_autofree char *text = NULL, *err = NULL;
  g_autoptr (TsImage) im = NULL;
  int status;

  status = ts_test_cli (NULL, &err, "sweep", photo (), "--methods", "pool", "--ratios", "1,4", "--csv", csv, "--plot",
                        svg, "-q", NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "method,baseline,ratio,tokens,ssim,psnr,feature_retention,efficiency"));
  {
    g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
    g_assert_cmpint (g_strv_length (lines), ==, 6); /* header + 4 rows + final "" */
  }
  g_assert_true (g_file_test (svg, G_FILE_TEST_EXISTS));
  status = ts_test_cli (NULL, NULL, "sweep", photo (), "--methods", "pool", "--ratios", "1,4", "--plot", png,
                        "--plot-size", "450x280", "-q", NULL);
  g_assert_cmpint (status, ==, 0);
  im = ts_image_load (png, NULL, NULL);
  g_assert_nonnull (im);
  g_assert_cmpint (im->width, ==, 900); /* 2 pixels per point */
}

static void
test_sweep_errors (void)
{
  g_assert_cmpint (ts_test_cli (NULL, NULL, "sweep", photo (), "--metric", "psnr", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "sweep", photo (), "--ratios", "0.5,2", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "sweep", photo (), "--methods", "nonsense", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "sweep", photo (), "--methods", "pool", "--plot", "x.gif", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "sweep", "/nonexistent.png", NULL), ==, 2);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "sweep", NULL), ==, 1);
}

static void
test_entropy (void)
{
  g_autoptr (TsImage) solid = ts_test_solid (56, 56, 10, 200, 90);
  g_autofree char *path = ts_test_path ("solid.png");
  g_autofree char *out = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *o;
  JsonArray *s;

  g_assert_true (ts_image_save_png (solid, path, NULL));
  g_assert_cmpint (ts_test_cli (&out, NULL, "entropy", path, "--json", "-", NULL), ==, 0);
  o = parse (&root, out);
  /* One colour: 0 bits, 1 cluster, 2^0 = 1 effective token, redundancy 16 / 1. */
  g_assert_cmpfloat (json_object_get_double_member (o, "bits_per_token"), ==, 0.0);
  g_assert_cmpint (json_object_get_int_member (o, "clusters"), ==, 1);
  g_assert_cmpfloat (json_object_get_double_member (o, "effective_tokens"), ==, 1.0);
  g_assert_cmpfloat (json_object_get_double_member (o, "redundancy_ratio"), ==, 16.0);
  s = json_object_get_array_member (o, "suggested_ratio");
  g_assert_cmpfloat (json_array_get_double_element (s, 0), ==, 16);
  g_assert_cmpfloat (json_array_get_double_element (s, 1), ==, 32);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (ts_test_cli (&out, NULL, "entropy", photo (), "--k", "8", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "bits per token"));
  g_assert_cmpint (ts_test_cli (NULL, NULL, "entropy", photo (), "--k", "-3", NULL), ==, 1);
}

static void
test_budget (void)
{
  g_autoptr (TsImage) base = ts_test_gradient (336, 336);
  g_autoptr (TsImage) img = ts_test_noisy (base, 2, 10);
  g_autofree char *path = ts_test_path ("budget.png");
  g_autofree char *out = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *o, *a, *b, *llm;
  JsonArray *flops;
  gboolean has_qformer = FALSE;

  g_assert_true (ts_image_save_png (img, path, NULL));
  g_assert_cmpint (ts_test_cli (&out, NULL, "budget", path, "--context", "400", "--text", "100", "--complexity", "0.8",
                                "--max-tokens", "576", "--method", "pool", "--json", "-", NULL),
                   ==, 0);
  o = parse (&root, out);
  g_assert_cmpint (json_object_get_int_member (o, "tokens"), ==, 576);
  g_assert_cmpint (json_object_get_int_member (o, "budget"), ==, 300);
  /* A: 17 x 17 = 289 <= 300 < 18 x 18 -> 238 x 238 px. */
  a = json_array_get_object_element (json_object_get_array_member (o, "options"), 0);
  g_assert_cmpint (json_object_get_int_member (a, "tokens"), ==, 289);
  g_assert_cmpfloat (json_array_get_double_element (json_object_get_array_member (a, "size"), 0), ==, 238);
  /* B: ceil(576 / 300) = 2 -> pool asked for 288 tokens gives k 2: 144. */
  b = json_array_get_object_element (json_object_get_array_member (o, "options"), 1);
  g_assert_cmpint (json_object_get_int_member (b, "tokens"), ==, 144);
  g_assert_cmpstr (json_object_get_string_member (b, "method"), ==, "pool");
  /* Dynamic: 144 + 0.8 * 432 = 489.6 -> 489. */
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (o, "dynamic"), "budget"), ==, 489);
  /* LLaMA-2-7B: 576 * 2 * 32 * 32 * 128 * 2 = 301,989,888 B. */
  llm = json_object_get_object_member (o, "llm");
  g_assert_cmpfloat (json_object_get_double_member (llm, "kv_cache_bytes_full"), ==, 301989888.0);
  flops = json_object_get_array_member (o, "flops_per_token");
  for (guint i = 0; i < json_array_get_length (flops); i++)
    {
      JsonObject *r = json_array_get_object_element (flops, i);
      if (g_strcmp0 (json_object_get_string_member (r, "method"), "qformer") == 0)
        {
          has_qformer = TRUE;
          g_assert_cmpfloat (json_object_get_double_member (r, "relative"), >, 15);
        }
    }
  g_assert_true (has_qformer);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "budget", path, "--context", "400", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "budget", path, "--context", "400", "--text", "500", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "budget", path, "--context", "400", "--text", "10", "--llm", "gpt-9", NULL),
                   ==, 1);
}

static void
test_vlm_tokens (void)
{
  g_autofree char *out = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *o;
  JsonArray *models;
  gboolean found = FALSE;

  g_assert_cmpint (ts_test_cli (&out, NULL, "vlm-tokens", "1024x768", "--json", "-", NULL), ==, 0);
  o = parse (&root, out);
  models = json_object_get_array_member (o, "models");
  g_assert_cmpint (json_array_get_length (models), ==, TS_VLM_N_MODELS);
  for (guint i = 0; i < json_array_get_length (models); i++)
    {
      JsonObject *m = json_array_get_object_element (models, i);
      g_assert_true (json_object_has_member (m, "note"));
      g_assert_true (json_object_has_member (m, "tiles"));
      if (g_strcmp0 (json_object_get_string_member (m, "name"), "llava-next") == 0)
        {
          JsonArray *r = json_object_get_array_member (m, "resized");
          found = TRUE;
          g_assert_cmpint (json_object_get_int_member (m, "tokens"), ==, 2340);
          g_assert_cmpfloat (json_array_get_double_element (r, 0), ==, 672);
          g_assert_cmpfloat (json_array_get_double_element (r, 1), ==, 672);
          g_assert_cmpint (json_object_get_int_member (m, "tiles"), ==, 4);
        }
    }
  g_assert_true (found);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (ts_test_cli (&out, NULL, "vlm-tokens", "1920x1080", "--model", "qwen2-vl", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "1222"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (ts_test_cli (&out, NULL, "vlm-tokens", photo (), "--model", "llava-1.5", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "112 x 112"));
  g_assert_cmpint (ts_test_cli (NULL, NULL, "vlm-tokens", "12x", NULL), ==, 1);
  g_assert_cmpint (ts_test_cli (NULL, NULL, "vlm-tokens", "100x100", "--model", "llava-9", NULL), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/analysis-cli/sweep-json", test_sweep_json);
  g_test_add_func ("/analysis-cli/sweep-files", test_sweep_files);
  g_test_add_func ("/analysis-cli/sweep-errors", test_sweep_errors);
  g_test_add_func ("/analysis-cli/entropy", test_entropy);
  g_test_add_func ("/analysis-cli/budget", test_budget);
  g_test_add_func ("/analysis-cli/vlm-tokens", test_vlm_tokens);
  return g_test_run ();
}
