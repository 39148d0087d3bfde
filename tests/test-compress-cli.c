/* tokenscope-cli compress: JSON schema for every registered method, exact
 * counts, identity at ratio 1, exports, npy features with --grid, errors. */
#include "ts-test-util.h"

#include <json-glib/json-glib.h>
#include <math.h>

/* 336 x 224 at P 14: 16 rows x 24 cols = 384 tokens. */
static const char *
photo (void)
{
  static char *path;

  if (path == NULL)
    {
      g_autoptr (TsImage) base = ts_test_gradient (336, 224);
      g_autoptr (TsImage) img = ts_test_noisy (base, 11, 25);
      path = ts_test_path ("photo.png");
      g_assert_true (ts_image_save_png (img, path, NULL));
    }
  return path;
}

static JsonObject *
run_json (JsonNode **keep, const char *method, const char *opt1, const char *opt2, const char *opt3,
          const char *opt4)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = ts_test_cli (&out, &err, "compress", photo (), "--method", method, "--json", "-", opt1, opt2, opt3,
                            opt4, NULL);

  if (status != 0)
    g_error ("compress --method %s failed (%d): %s", method, status, err);
  *keep = json_from_string (out, &error);
  g_assert_no_error (error);
  return json_node_get_object (*keep);
}

/* The keys the issue names, with consistent values. */
static void
check_schema (JsonObject *o, const char *method, int tokens_in)
{
  JsonObject *q;
  JsonArray *groups;
  int out, kept = 0;
  g_autofree int *count = NULL;

  g_assert_cmpstr (json_object_get_string_member (o, "method"), ==, method);
  g_assert_cmpint (json_object_get_int_member (o, "tokens_in"), ==, tokens_in);
  out = (int) json_object_get_int_member (o, "tokens_out");
  g_assert_cmpint (out, >=, 1);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "ratio"), (double) tokens_in / out, 1e-9);
  g_assert_true (json_object_has_member (o, "seconds"));
  g_assert_cmpfloat (json_object_get_double_member (o, "seconds"), >=, 0);
  q = json_object_get_object_member (o, "quality");
  g_assert_nonnull (q);
  g_assert_true (json_object_has_member (q, "psnr"));
  g_assert_true (json_object_has_member (q, "ssim"));
  g_assert_true (json_object_has_member (q, "feature_retention"));
  groups = json_object_get_array_member (o, "groups");
  g_assert_cmpint (json_array_get_length (groups), ==, tokens_in);
  count = g_new0 (int, out);
  for (int i = 0; i < tokens_in; i++)
    {
      gint64 g = json_array_get_int_element (groups, i);
      g_assert_cmpint (g, >=, -1);
      g_assert_cmpint (g, <, out);
      if (g >= 0)
        count[g]++, kept++;
    }
  g_assert_cmpint (kept, ==, json_object_get_int_member (o, "kept"));
  if (json_object_has_member (o, "regions"))
    {
      JsonArray *regions = json_object_get_array_member (o, "regions");
      gint64 area = 0;
      g_assert_cmpint (json_array_get_length (regions), ==, out);
      for (int g = 0; g < out; g++)
        {
          JsonArray *r = json_array_get_array_element (regions, g);
          g_assert_cmpint (json_array_get_length (r), ==, 4);
          area += json_array_get_int_element (r, 2) * json_array_get_int_element (r, 3);
        }
      g_assert_cmpint (area, ==, 336 * 224);
    }
}

static void
test_every_method (void)
{
  guint n;
  const TsMethod *const *methods = ts_methods (&n);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (JsonNode) root = NULL;
      JsonObject *o = run_json (&root, methods[i]->name, "--ratio", "4", NULL, NULL);
      check_schema (o, methods[i]->name, 384);
      g_assert_cmpint (json_object_has_member (o, "regions"), ==, (methods[i]->flags & TS_METHOD_REGIONS) != 0);
      g_assert_cmpint (json_object_has_member (o, "stand_in"), ==, (methods[i]->flags & TS_METHOD_STAND_IN) != 0);
      if (!(methods[i]->flags & (TS_METHOD_QUANTISED | TS_METHOD_AUTO_COUNT)))
        g_assert_cmpint (json_object_get_int_member (o, "tokens_out"), ==, 96);
    }
}

typedef struct {
  const char *method, *opt1, *opt2, *opt3, *opt4;
  int tokens_out;
} CountCase;

/* Worked by hand on the 16 x 24 grid. */
static const CountCase counts[] = {
  { "pool", "--ratio", "4", NULL, NULL, 96 },                 /* k = 2: 8 x 12 */
  { "pool", "--tokens", "40", NULL, NULL, 24 },               /* k = 3 gives 6 x 8 = 48 > 40; k = 4: 4 x 6 */
  { "tome", "--tokens", "100", NULL, NULL, 100 },
  { "tome", "--tokens", "7", "--protected", "2", 7 },
  { "greedy", "--tokens", "37", "--adjacent-only", NULL, 37 },
  { "greedy", "--ratio", "8", NULL, NULL, 48 },
  { "downsample", "--ratio", "4", NULL, NULL, 96 },           /* 8 x 12 */
  { "downsample", "--tokens", "100", NULL, NULL, 96 },        /* 8 x 13 = 104 and 9 x 12 are over */
  { "optical", "--tokens", "100", NULL, NULL, 100 },          /* Small: 10 x 10 */
  { "optical", "--ratio", "4", NULL, NULL, 64 },              /* target 96: Tiny 8 x 8 */
};

static void
test_counts (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (counts); i++)
    {
      const CountCase *c = &counts[i];
      g_autoptr (JsonNode) root = NULL;
      JsonObject *o = run_json (&root, c->method, c->opt1, c->opt2, c->opt3, c->opt4);
      check_schema (o, c->method, 384);
      g_assert_cmpint (json_object_get_int_member (o, "tokens_out"), ==, c->tokens_out);
    }
}

/* Ratio 1 keeps everything: SSIM 1, PSNR infinite (null), retention 1. */
static void
test_identity (void)
{
  const char *methods[] = { "pool", "tome", "greedy", "downsample" };

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      g_autoptr (JsonNode) root = NULL;
      JsonObject *o = run_json (&root, methods[i], "--ratio", "1", NULL, NULL);
      JsonObject *q = json_object_get_object_member (o, "quality");
      check_schema (o, methods[i], 384);
      g_assert_cmpint (json_object_get_int_member (o, "tokens_out"), ==, 384);
      g_assert_cmpfloat (json_object_get_double_member (q, "ssim"), ==, 1.0);
      g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (q, "psnr")));
      g_assert_cmpfloat_with_epsilon (json_object_get_double_member (q, "feature_retention"), 1.0, 1e-6);
    }
}

static void
test_exports (void)
{
  g_autofree char *recon = ts_test_path ("recon.png");
  g_autofree char *npy = ts_test_path ("tokens.npy");
  g_autofree char *json = ts_test_path ("out.json");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (TsImage) img = NULL;
  g_autoptr (TsNpyArray) arr = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_assert_cmpint (ts_test_cli (&out, &err, "compress", photo (), "--method", "tome", "--tokens", "50", "--recon",
                                recon, "--export-features", npy, "--json", json, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "384 -> 50"));
  img = ts_image_load (recon, NULL, NULL);
  g_assert_nonnull (img);
  g_assert_cmpint (img->width, ==, 336);
  g_assert_cmpint (img->height, ==, 224);
  arr = ts_npy_read (npy, NULL);
  g_assert_nonnull (arr);
  g_assert_cmpint (arr->ndim, ==, 2);
  g_assert_cmpint (arr->shape[0], ==, 50);
  g_assert_cmpint (arr->shape[1], ==, 3 * 14 * 14);
  g_assert_true (json_parser_load_from_file (parser, json, NULL));
  check_schema (json_node_get_object (json_parser_get_root (parser)), "tome", 384);
}

/* npy features on a coarser grid: the image is resampled so that 6 x 8 patches cover it. */
static void
test_npy_grid (void)
{
  g_autofree char *npy = ts_test_path ("feat.npy");
  g_autofree char *spec = NULL;
  gint64 shape[3] = { 6, 8, 5 };
  g_autofree float *data = g_new (float, 6 * 8 * 5);
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *err = NULL;
  JsonObject *o;

  for (int i = 0; i < 6 * 8 * 5; i++)
    data[i] = (float) sin (i * 0.37) + (i % 5 == 0 ? 2.0f : 0.0f);
  g_assert_true (ts_npy_write (npy, data, 3, shape, NULL));
  spec = g_strconcat ("npy:", npy, NULL);
  o = run_json (&root, "greedy", "--features", spec, "--grid", "6x8");
  g_assert_cmpint (json_object_get_int_member (o, "tokens_in"), ==, 48);
  g_assert_cmpint (json_object_get_int_member (o, "tokens_out"), ==, 12);
  g_assert_cmpstr (json_object_get_string_member (o, "features"), ==, "npy");
  /* without --grid the 16 x 24 image grid does not match the 6 x 8 features */
  g_assert_cmpint (ts_test_cli (NULL, &err, "compress", photo (), "--method", "tome", "--features", spec, NULL), ==,
                   2);
  g_assert_nonnull (strstr (err, "feat.npy"));
}

static void
test_errors (void)
{
  struct {
    const char *a, *b;
    int status;
  } cases[] = {
    { "--method", "nosuch", 1 },
    { "--grid", "6by8", 1 },
    { "--features", "npy:", 1 },
    { "--features", "colour", 1 },
    { "--tome-r", "-3", 1 },
    { "--ratio", "0.5", 1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *err = NULL;
      int st = ts_test_cli (NULL, &err, "compress", photo (), "--method", "tome", cases[i].a, cases[i].b, NULL);
      if (st != cases[i].status)
        g_error ("%s %s: exit %d, expected %d (%s)", cases[i].a, cases[i].b, st, cases[i].status, err);
      g_assert_cmpstr (err, !=, "");
    }
  {
    g_autofree char *err = NULL;
    g_autofree char *missing = ts_test_path ("missing.png");
    g_assert_cmpint (ts_test_cli (NULL, &err, "compress", missing, "--method", "tome", NULL), ==, 2);
    g_assert_cmpint (ts_test_cli (NULL, &err, "compress", NULL), ==, 1);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/compress-cli/every-method", test_every_method);
  g_test_add_func ("/compress-cli/counts", test_counts);
  g_test_add_func ("/compress-cli/identity", test_identity);
  g_test_add_func ("/compress-cli/exports", test_exports);
  g_test_add_func ("/compress-cli/npy-grid", test_npy_grid);
  g_test_add_func ("/compress-cli/errors", test_errors);
  return g_test_run ();
}
