/* Settings: the reproducibility file shared by the CLI and the GUI. */
#include <string.h>

#include "ts-test-util.h"

static void
test_defaults (void)
{
  TsSettings s;

  ts_settings_init (&s);
  g_assert_cmpint (s.patch, ==, 14);
  g_assert_cmpint (s.resize.policy, ==, TS_RESIZE_NATIVE);
  g_assert_cmpstr (s.method, ==, "pool");
  g_assert_cmpfloat (s.params.ratio, ==, 4.0);
  g_assert_cmpfloat (s.threshold, ==, 0.95);
  g_assert_cmpuint (s.ratios->len, ==, 6);
  g_assert_cmpfloat (g_array_index (s.ratios, double, 5), ==, 32.0);
  ts_settings_clear (&s);
}

static void
test_round_trip (void)
{
  TsSettings s, t;
  g_autofree char *path = ts_test_path ("round.json");
  g_autoptr (GError) error = NULL;
  double r[] = { 1.5, 3 };

  ts_settings_init (&s);
  ts_settings_init (&t);
  s.resize = (TsResize){ TS_RESIZE_PAD, 448 };
  s.patch = 16;
  s.features = TS_FEATURES_NPY;
  s.features_file = g_strdup ("/data/feat ures.npy");
  s.cls = TS_NPY_CLS_YES;
  s.params.tokens = 77;
  s.params.ratio = 8;
  s.params.pool_mode = TS_POOL_MAX;
  s.params.n_protected = 1;
  s.params.adjacent_only = TRUE;
  s.params.tau = 0.05;
  s.params.detail = TS_DETAIL_GRADIENT;
  s.params.fill = TS_DROP_FILL_NEAREST;
  s.params.seed = 1234567;
  g_free (s.metric);
  s.metric = g_strdup ("feature");
  s.threshold = 0.9;
  g_array_set_size (s.ratios, 0);
  g_array_append_vals (s.ratios, r, 2);
  g_ptr_array_add (s.methods, g_strdup ("pool"));
  s.model_layer = -3;

  g_assert_true (ts_settings_save (&s, path, &error));
  g_assert_no_error (error);
  g_assert_true (ts_settings_load (&t, path, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (t.resize.policy, ==, TS_RESIZE_PAD);
  g_assert_cmpint (t.resize.size, ==, 448);
  g_assert_cmpint (t.patch, ==, 16);
  g_assert_cmpint (t.features, ==, TS_FEATURES_NPY);
  g_assert_cmpstr (t.features_file, ==, "/data/feat ures.npy");
  g_assert_cmpint (t.cls, ==, TS_NPY_CLS_YES);
  g_assert_cmpint (t.params.tokens, ==, 77);
  g_assert_cmpint (t.params.pool_mode, ==, TS_POOL_MAX);
  g_assert_cmpint (t.params.n_protected, ==, 1);
  g_assert_true (t.params.adjacent_only);
  g_assert_cmpfloat_with_epsilon (t.params.tau, 0.05, 1e-12);
  g_assert_cmpint (t.params.detail, ==, TS_DETAIL_GRADIENT);
  g_assert_cmpint (t.params.fill, ==, TS_DROP_FILL_NEAREST);
  g_assert_cmpuint (t.params.seed, ==, 1234567);
  g_assert_cmpstr (t.metric, ==, "feature");
  g_assert_cmpfloat (t.threshold, ==, 0.9);
  g_assert_cmpuint (t.ratios->len, ==, 2);
  g_assert_cmpfloat (g_array_index (t.ratios, double, 0), ==, 1.5);
  g_assert_cmpuint (t.methods->len, ==, 1);
  g_assert_cmpint (t.model_layer, ==, -3);
  ts_settings_clear (&s);
  ts_settings_clear (&t);
}

static void
test_missing_and_unknown (void)
{
  TsSettings s;
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  const char *json = "{\"patch\": 16, \"colour\": \"blue\", \"params\": {\"tau\": 0.2, \"magic\": 1}}";

  ts_settings_init (&s);
  g_assert_true (ts_settings_parse (&s, json, -1, "x.json", warnings, &error));
  g_assert_no_error (error);
  g_assert_cmpint (s.patch, ==, 16);
  g_assert_cmpfloat_with_epsilon (s.params.tau, 0.2, 1e-12);
  g_assert_cmpstr (s.method, ==, "pool"); /* missing: default */
  g_assert_cmpuint (warnings->len, ==, 2);
  g_assert_nonnull (strstr (warnings->pdata[0], "colour"));
  g_assert_nonnull (strstr (warnings->pdata[1], "params.magic"));
  ts_settings_clear (&s);
}

typedef struct {
  const char *json;
  const char *member; /* expected in the message */
} BadCase;

static const BadCase bad_cases[] = {
  { "{\"patch\": \"14\"}", "patch" },
  { "{\"patch\": 1}", "patch" },
  { "{\"patch\": 14.5}", "patch" },
  { "{\"method\": 3}", "method" },
  { "{\"method\": \"magic\"}", "magic" },
  { "{\"resize\": []}", "resize" },
  { "{\"resize\": {\"policy\": \"zoom\"}}", "resize.policy" },
  { "{\"target\": {\"ratio\": 0.5}}", "ratio" },
  { "{\"params\": {\"adjacent_only\": 1}}", "adjacent_only" },
  { "{\"params\": {\"fill\": \"black\"}}", "fill" },
  { "{\"analysis\": {\"ratios\": [1, \"x\"]}}", "ratios" },
  { "{\"analysis\": {\"ratios\": []}}", "ratios" },
  { "{\"analysis\": {\"threshold\": 2}}", "threshold" },
  { "{\"analysis\": {\"metric\": \"psnr\"}}", "metric" },
  { "{\"features\": {\"kind\": \"clip\"}}", "features.kind" },
  { "[1, 2]", "JSON object" },
  { "{\"patch\": ", "not valid JSON" },
};

static void
test_bad (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      TsSettings s;
      g_autoptr (GError) error = NULL;
      ts_settings_init (&s);
      g_assert_false (ts_settings_parse (&s, bad_cases[i].json, -1, "/tmp/bad.json", NULL, &error));
      g_assert_error (error, TS_ERROR, TS_ERROR_BAD_DATA);
      g_assert_nonnull (strstr (error->message, "bad.json"));
      if (strstr (error->message, bad_cases[i].member) == NULL)
        g_error ("case %u: '%s' does not mention %s", i, error->message, bad_cases[i].member);
      /* a failed parse leaves the settings untouched */
      g_assert_cmpint (s.patch, ==, 14);
      g_assert_cmpstr (s.method, ==, "pool");
      ts_settings_clear (&s);
    }
}

static void
test_files (void)
{
  TsSettings s;
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;
  g_autofree char *empty = ts_test_write ("empty.json", "", 0);

  ts_settings_init (&s);
  g_assert_false (ts_settings_load (&s, "/nonexistent/settings.json", NULL, &e1));
  g_assert_error (e1, TS_ERROR, TS_ERROR_IO);
  g_assert_false (ts_settings_load (&s, empty, NULL, &e2));
  g_assert_error (e2, TS_ERROR, TS_ERROR_BAD_DATA);
  ts_settings_clear (&s);
}

static void
test_command (void)
{
  TsSettings s;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  ts_settings_init (&s);
  a = ts_settings_to_command (&s, "photo.jpg");
  g_assert_cmpstr (a, ==, "tokenscope-cli compress photo.jpg --method pool --ratio 4");
  s.params.tokens = 64;
  s.resize = (TsResize){ TS_RESIZE_PAD, 336 };
  s.params.pool_mode = TS_POOL_MAX;
  s.params.seed = 7;
  b = ts_settings_to_command (&s, "my photo.jpg");
  g_assert_cmpstr (b, ==,
                   "tokenscope-cli compress 'my photo.jpg' --method pool --tokens 64 --resize pad --size 336 "
                   "--pool-mode max --seed 7");
  ts_settings_clear (&s);
}

static void
test_ratio_list (void)
{
  double r[4];
  int n = -1;
  const char *bad[] = { "", " , ", "0.5", "2,abc", "4y", "inf", "nan", "1,2,3,4,5", "2xx", NULL };

  g_assert_true (ts_ratio_list_parse ("1,2,4,8", r, 4, &n, NULL));
  g_assert_cmpint (n, ==, 4);
  g_assert_cmpfloat (r[0], ==, 1);
  g_assert_cmpfloat (r[3], ==, 8);
  g_assert_true (ts_ratio_list_parse (" 2x, 3.5  16x ", r, 4, &n, NULL));
  g_assert_cmpint (n, ==, 3);
  g_assert_cmpfloat (r[0], ==, 2);
  g_assert_cmpfloat (r[1], ==, 3.5);
  g_assert_cmpfloat (r[2], ==, 16);
  for (int i = 0; bad[i]; i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (ts_ratio_list_parse (bad[i], r, 4, &n, &error));
      g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/settings/defaults", test_defaults);
  g_test_add_func ("/settings/round-trip", test_round_trip);
  g_test_add_func ("/settings/missing-and-unknown", test_missing_and_unknown);
  g_test_add_func ("/settings/bad-members", test_bad);
  g_test_add_func ("/settings/files", test_files);
  g_test_add_func ("/settings/command", test_command);
  g_test_add_func ("/settings/ratio-list", test_ratio_list);
  return g_test_run ();
}
