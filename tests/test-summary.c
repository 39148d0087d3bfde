/* Dataset summaries: statistics per method and ratio, recommendations, the
 * per-image policy fit, and independence from record order (shards). */
#include <math.h>
#include <string.h>

#include "ts-summary.h"
#include "ts-test-util.h"

/* image, bits per token, then ssim at ratios 1, 2, 4, 8 for method "m" */
typedef struct {
  const char *image;
  double bits;
  double ssim[4];
} Row;

static const Row rows[] = {
  { "a.png", 2.0, { 1.0, 0.99, 0.97, 0.96 } }, /* optimal 8 */
  { "b.png", 4.0, { 1.0, 0.98, 0.96, 0.90 } }, /* optimal 4 */
  { "c.png", 6.0, { 1.0, 0.96, 0.90, 0.80 } }, /* optimal 2 */
};

static JsonNode *
record (const Row *r)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  const double ratios[] = { 1, 2, 4, 8 };

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "image");
  json_builder_add_string_value (b, r->image);
  json_builder_set_member_name (b, "entropy");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "bits_per_token");
  json_builder_add_double_value (b, r->bits);
  json_builder_set_member_name (b, "redundancy_ratio");
  json_builder_add_double_value (b, 576 / pow (2, r->bits));
  json_builder_end_object (b);
  json_builder_set_member_name (b, "curves");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "method");
  json_builder_add_string_value (b, "m");
  json_builder_set_member_name (b, "points");
  json_builder_begin_array (b);
  for (int i = 0; i < 4; i++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "ratio");
      json_builder_add_double_value (b, ratios[i]);
      json_builder_set_member_name (b, "tokens");
      json_builder_add_int_value (b, (gint64) (576 / ratios[i]));
      json_builder_set_member_name (b, "ssim");
      json_builder_add_double_value (b, r->ssim[i]);
      json_builder_set_member_name (b, "psnr");
      json_builder_add_double_value (b, 40 - 3 * i);
      json_builder_set_member_name (b, "feature_retention");
      json_builder_add_double_value (b, 1 - 0.01 * i);
      json_builder_set_member_name (b, "efficiency");
      json_builder_add_double_value (b, ratios[i] * r->ssim[i]);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static JsonNode *
failure (const char *image)
{
  JsonObject *o = json_object_new ();
  JsonNode *n = json_node_alloc ();

  json_object_set_string_member (o, "image", image);
  json_object_set_string_member (o, "error", "corrupt PNG");
  json_node_init_object (n, o);
  json_object_unref (o);
  return n;
}

static GPtrArray *
records_in_order (const int *order, int n)
{
  GPtrArray *a = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);

  for (int i = 0; i < n; i++)
    g_ptr_array_add (a, order[i] < 3 ? record (&rows[order[i]]) : failure ("z-bad.png"));
  return a;
}

static char *
to_text (JsonNode *n)
{
  return json_to_string (n, FALSE);
}

static void
test_numbers (void)
{
  const int order[] = { 0, 1, 2, 3 };
  g_autoptr (GPtrArray) recs = records_in_order (order, 4);
  g_autoptr (JsonNode) s = ts_summary_build (recs, NULL, NULL);
  JsonObject *root = json_node_get_object (s);
  JsonObject *m = json_array_get_object_element (json_object_get_array_member (root, "methods"), 0);
  JsonArray *points = json_object_get_array_member (m, "points");
  JsonObject *p4 = json_array_get_object_element (points, 2);
  JsonObject *ssim4 = json_object_get_object_member (p4, "ssim");
  JsonObject *policy = json_object_get_object_member (m, "policy");

  g_assert_cmpint (json_object_get_int_member (root, "images"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (root, "failed"), ==, 1);
  g_assert_cmpfloat (json_object_get_double_member (p4, "ratio"), ==, 4);
  /* ssim at 4x: 0.97, 0.96, 0.90 -> mean 0.943333, p10 = 0.90 + 0.2 * 0.06 = 0.912, p50 0.96 */
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (ssim4, "mean"), (0.97 + 0.96 + 0.90) / 3, 1e-12);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (ssim4, "p10"), 0.912, 1e-12);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (ssim4, "p50"), 0.96, 1e-12);
  /* mean ssim: 2x 0.9767 >= 0.95, 4x 0.9433 < 0.95 -> recommended 2; p10 at 2x: 0.96 + 0.2*0.02 = 0.964 -> 2 */
  g_assert_cmpfloat (json_object_get_double_member (m, "recommended_ratio"), ==, 2);
  g_assert_cmpfloat (json_object_get_double_member (m, "recommended_ratio_p10"), ==, 2);
  /* policy: log2 optimal = 3, 2, 1 at bits 2, 4, 6 -> slope -0.5, intercept 4, r2 1 */
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (policy, "slope"), -0.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (policy, "intercept"), 4.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (policy, "r2"), 1.0, 1e-12);
  g_assert_cmpint (json_object_get_int_member (policy, "n"), ==, 3);
  /* most redundant = lowest entropy */
  g_assert_cmpstr (json_object_get_string_member (
                     json_array_get_object_element (json_object_get_array_member (root, "most_redundant"), 0), "image"),
                   ==, "a.png");
  g_assert_cmpstr (json_object_get_string_member (
                     json_array_get_object_element (json_object_get_array_member (root, "least_redundant"), 0), "image"),
                   ==, "c.png");
  g_assert_cmpstr (json_object_get_string_member (
                     json_array_get_object_element (json_object_get_array_member (root, "failures"), 0), "image"),
                   ==, "z-bad.png");
}

static void
test_order_independent (void)
{
  const int a[] = { 0, 1, 2, 3 }, b[] = { 3, 2, 0, 1 }, c[] = { 1, 3, 2, 0, 0 }; /* c repeats a.png */
  g_autoptr (GPtrArray) ra = records_in_order (a, 4);
  g_autoptr (GPtrArray) rb = records_in_order (b, 4);
  g_autoptr (GPtrArray) rc = records_in_order (c, 5);
  g_autoptr (JsonNode) sa = ts_summary_build (ra, NULL, NULL);
  g_autoptr (JsonNode) sb = ts_summary_build (rb, NULL, NULL);
  g_autoptr (JsonNode) sc = ts_summary_build (rc, NULL, NULL);
  g_autofree char *ta = to_text (sa);
  g_autofree char *tb = to_text (sb);
  g_autofree char *tc = to_text (sc);

  g_assert_cmpstr (ta, ==, tb);
  g_assert_cmpstr (ta, ==, tc);
}

static void
test_threshold_and_metric (void)
{
  const int order[] = { 0, 1, 2 };
  g_autoptr (GPtrArray) recs = records_in_order (order, 3);
  TsSummaryOptions loose = { "ssim", 0.9, 5 }, feature = { "feature", 0.975, 5 }, bad = { "psnr", 0.9, 5 };
  g_autoptr (JsonNode) s1 = ts_summary_build (recs, &loose, NULL);
  g_autoptr (JsonNode) s2 = ts_summary_build (recs, &feature, NULL);
  g_autoptr (GError) error = NULL;
  JsonObject *m1 = json_array_get_object_element (json_object_get_array_member (json_node_get_object (s1), "methods"), 0);
  JsonObject *m2 = json_array_get_object_element (json_object_get_array_member (json_node_get_object (s2), "methods"), 0);

  /* mean ssim at 8x: (0.96 + 0.90 + 0.80) / 3 = 0.8867 < 0.9; 4x 0.943 -> 4; p10 at 4x = 0.912 -> 4 */
  g_assert_cmpfloat (json_object_get_double_member (m1, "recommended_ratio"), ==, 4);
  g_assert_cmpfloat (json_object_get_double_member (m1, "recommended_ratio_p10"), ==, 4);
  /* feature retention 1, 0.99, 0.98, 0.97: >= 0.975 up to 4x */
  g_assert_cmpfloat (json_object_get_double_member (m2, "recommended_ratio"), ==, 4);
  g_assert_null (ts_summary_build (recs, &bad, &error));
  g_assert_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT);
}

static void
test_csv (void)
{
  const int order[] = { 0, 1, 2 };
  g_autoptr (GPtrArray) recs = records_in_order (order, 3);
  g_autoptr (JsonNode) s = ts_summary_build (recs, NULL, NULL);
  g_autofree char *csv = ts_summary_to_csv (s);
  g_auto (GStrv) lines = g_strsplit (csv, "\n", -1);

  g_assert_cmpstr (lines[0], ==, "method,ratio,metric,n,mean,std,p10,p50,p90");
  /* 4 ratios x 5 metrics + header + trailing empty */
  g_assert_cmpuint (g_strv_length (lines), ==, 22);
  g_assert_true (g_str_has_prefix (lines[1], "m,1,ssim,3,1,0,1,1,1"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/summary/numbers", test_numbers);
  g_test_add_func ("/summary/order-independent", test_order_independent);
  g_test_add_func ("/summary/threshold-and-metric", test_threshold_and_metric);
  g_test_add_func ("/summary/csv", test_csv);
  return g_test_run ();
}
