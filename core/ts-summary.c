#include "ts-summary.h"
#include "ts-dataset.h"
#include "ts-error.h"
#include "ts-stats.h"

#include <math.h>
#include <string.h>

static const char *const metrics[] = { "ssim", "psnr", "feature_retention", "efficiency", "tokens" };
#define N_METRICS G_N_ELEMENTS (metrics)

static double
member_double (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return NAN;
  switch (json_node_get_value_type (n))
    {
    case G_TYPE_INT64:
    case G_TYPE_DOUBLE:
      return json_node_get_double (n);
    default:
      return NAN;
    }
}

static int
compare_records (gconstpointer a, gconstpointer b)
{
  JsonObject *x = json_node_get_object (*(JsonNode *const *) a);
  JsonObject *y = json_node_get_object (*(JsonNode *const *) b);

  return strcmp (json_object_get_string_member_with_default (x, "image", ""),
                 json_object_get_string_member_with_default (y, "image", ""));
}

/* One method's values: ratios in order of first appearance, sorted later. */
typedef struct {
  char *name;
  GArray *ratios;    /* double, sorted */
  GPtrArray *values; /* per ratio: GArray of double[N_METRICS] per image */
  GArray *optimal;   /* per image with this method: log2 optimal ratio */
  GArray *bits;      /* per image: bits per token (paired with optimal) */
} MethodAcc;

static void
method_acc_free (MethodAcc *m)
{
  g_free (m->name);
  g_array_unref (m->ratios);
  g_ptr_array_unref (m->values);
  g_array_unref (m->optimal);
  g_array_unref (m->bits);
  g_free (m);
}

static int
ratio_slot (MethodAcc *m, double ratio)
{
  guint i;

  for (i = 0; i < m->ratios->len; i++)
    if (g_array_index (m->ratios, double, i) == ratio)
      return (int) i;
  g_array_append_val (m->ratios, ratio);
  g_ptr_array_add (m->values, g_array_new (FALSE, FALSE, sizeof (double) * N_METRICS));
  return (int) i;
}

static void
add_stats (JsonBuilder *b, const char *name, const TsSummaryStats *s)
{
  const char *keys[] = { "mean", "std", "p10", "p50", "p90", "min", "max" };
  double vals[] = { s->mean, s->std, s->p10, s->p50, s->p90, s->min, s->max };

  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "n");
  json_builder_add_int_value (b, s->n);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      json_builder_set_member_name (b, keys[i]);
      if (isfinite (vals[i]))
        json_builder_add_double_value (b, vals[i]);
      else
        json_builder_add_null_value (b);
    }
  json_builder_end_object (b);
}

typedef struct {
  const char *image;
  double bits, redundancy;
} Redundancy;

static int
compare_redundancy (gconstpointer a, gconstpointer b)
{
  const Redundancy *x = a, *y = b;

  if (x->bits != y->bits)
    return x->bits < y->bits ? -1 : 1;
  return strcmp (x->image, y->image);
}

static void
add_extremes (JsonBuilder *b, const char *name, GArray *red, int count, gboolean from_start)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (int k = 0; k < count && k < (int) red->len; k++)
    {
      Redundancy *r = &g_array_index (red, Redundancy, from_start ? (guint) k : red->len - 1 - (guint) k);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "image");
      json_builder_add_string_value (b, r->image);
      json_builder_set_member_name (b, "bits_per_token");
      json_builder_add_double_value (b, r->bits);
      json_builder_set_member_name (b, "redundancy_ratio");
      if (isfinite (r->redundancy))
        json_builder_add_double_value (b, r->redundancy);
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

JsonNode *
ts_summary_build (GPtrArray *records_in, const TsSummaryOptions *options, GError **error)
{
  TsSummaryOptions defaults = { "ssim", 0.95, 5 };
  const TsSummaryOptions *o = options ? options : &defaults;
  const char *qkey = (o->metric && strcmp (o->metric, "feature") == 0) ? "feature_retention" : "ssim";
  int qindex = strcmp (qkey, "ssim") == 0 ? 0 : 2;
  g_autoptr (GPtrArray) records = g_ptr_array_new ();
  g_autoptr (GPtrArray) methods = g_ptr_array_new_with_free_func ((GDestroyNotify) method_acc_free);
  g_autoptr (GArray) red = g_array_new (FALSE, FALSE, sizeof (Redundancy));
  g_autoptr (JsonBuilder) b = json_builder_new ();
  int ok_images = 0, failed = 0;

  if (o->metric && strcmp (o->metric, "ssim") != 0 && strcmp (o->metric, "feature") != 0)
    {
      g_set_error (error, TS_ERROR, TS_ERROR_INVALID_ARGUMENT, "metric must be ssim or feature, not '%s'", o->metric);
      return NULL;
    }
  /* sort by key and drop duplicates (the first record of a key wins) */
  for (guint i = 0; i < records_in->len; i++)
    if (JSON_NODE_HOLDS_OBJECT ((JsonNode *) records_in->pdata[i]))
      g_ptr_array_add (records, records_in->pdata[i]);
  g_ptr_array_sort (records, compare_records);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "failures");
  json_builder_begin_array (b);
  for (guint i = 0; i < records->len; i++)
    {
      JsonObject *rec = json_node_get_object (records->pdata[i]);
      const char *image = json_object_get_string_member_with_default (rec, "image", "");
      JsonNode *curves_node;
      JsonArray *curves;
      double bits;

      if (i > 0 && compare_records (&records->pdata[i - 1], &records->pdata[i]) == 0)
        continue;
      if (json_object_has_member (rec, "error"))
        {
          failed++;
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "image");
          json_builder_add_string_value (b, image);
          json_builder_set_member_name (b, "error");
          json_builder_add_string_value (b, json_object_get_string_member_with_default (rec, "error", ""));
          json_builder_end_object (b);
          continue;
        }
      curves_node = json_object_get_member (rec, "curves");
      if (curves_node == NULL || !JSON_NODE_HOLDS_ARRAY (curves_node))
        continue;
      ok_images++;
      bits = json_object_has_member (rec, "entropy")
                 ? member_double (json_object_get_object_member (rec, "entropy"), "bits_per_token")
                 : NAN;
      if (isfinite (bits))
        {
          Redundancy r = { image, bits,
                           member_double (json_object_get_object_member (rec, "entropy"), "redundancy_ratio") };
          g_array_append_val (red, r);
        }
      curves = json_node_get_array (curves_node);
      for (guint c = 0; c < json_array_get_length (curves); c++)
        {
          JsonObject *curve = json_array_get_object_element (curves, c);
          const char *name = json_object_get_string_member_with_default (curve, "method", NULL);
          JsonArray *points;
          MethodAcc *m = NULL;
          double best = NAN;

          if (name == NULL || !json_object_has_member (curve, "points"))
            continue;
          for (guint k = 0; k < methods->len && !m; k++)
            if (strcmp (((MethodAcc *) methods->pdata[k])->name, name) == 0)
              m = methods->pdata[k];
          if (m == NULL)
            {
              m = g_new0 (MethodAcc, 1);
              m->name = g_strdup (name);
              m->ratios = g_array_new (FALSE, FALSE, sizeof (double));
              m->values = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
              m->optimal = g_array_new (FALSE, FALSE, sizeof (double));
              m->bits = g_array_new (FALSE, FALSE, sizeof (double));
              g_ptr_array_add (methods, m);
            }
          points = json_object_get_array_member (curve, "points");
          for (guint p = 0; p < json_array_get_length (points); p++)
            {
              JsonObject *pt = json_array_get_object_element (points, p);
              double ratio = member_double (pt, "ratio"), v[N_METRICS];
              int slot;
              if (!isfinite (ratio))
                continue;
              slot = ratio_slot (m, ratio);
              for (guint k = 0; k < N_METRICS; k++)
                v[k] = member_double (pt, metrics[k]);
              g_array_append_vals (g_ptr_array_index (m->values, slot), v, 1);
              if (v[qindex] >= o->threshold && !(ratio <= best))
                best = ratio;
            }
          if (isfinite (best) && isfinite (bits))
            {
              double l = log2 (best);
              g_array_append_val (m->optimal, l);
              g_array_append_val (m->bits, bits);
            }
        }
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "images");
  json_builder_add_int_value (b, ok_images);
  json_builder_set_member_name (b, "failed");
  json_builder_add_int_value (b, failed);
  json_builder_set_member_name (b, "metric");
  json_builder_add_string_value (b, qkey);
  json_builder_set_member_name (b, "threshold");
  json_builder_add_double_value (b, o->threshold);

  json_builder_set_member_name (b, "methods");
  json_builder_begin_array (b);
  for (guint k = 0; k < methods->len; k++)
    {
      MethodAcc *m = methods->pdata[k];
      g_autofree guint *order = g_new (guint, m->ratios->len);
      double rec_mean = NAN, rec_p10 = NAN;
      TsLinearFit fit;

      /* ratios ascending */
      for (guint i = 0; i < m->ratios->len; i++)
        order[i] = i;
      for (guint i = 1; i < m->ratios->len; i++)
        for (guint j = i; j > 0 && g_array_index (m->ratios, double, order[j - 1]) >
                                       g_array_index (m->ratios, double, order[j]); j--)
          {
            guint t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
          }
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "method");
      json_builder_add_string_value (b, m->name);
      json_builder_set_member_name (b, "points");
      json_builder_begin_array (b);
      for (guint i = 0; i < m->ratios->len; i++)
        {
          GArray *vals = g_ptr_array_index (m->values, order[i]);
          double ratio = g_array_index (m->ratios, double, order[i]);
          g_autofree double *col = g_new (double, MAX (vals->len, 1));
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "ratio");
          json_builder_add_double_value (b, ratio);
          for (guint q = 0; q < N_METRICS; q++)
            {
              TsSummaryStats st;
              for (guint r = 0; r < vals->len; r++)
                col[r] = ((double *) vals->data)[r * N_METRICS + q];
              ts_stats_compute (col, (int) vals->len, &st);
              add_stats (b, metrics[q], &st);
              if ((int) q == qindex && st.n > 0)
                {
                  if (st.mean >= o->threshold)
                    rec_mean = ratio;
                  if (st.p10 >= o->threshold)
                    rec_p10 = ratio;
                }
            }
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "recommended_ratio");
      if (isfinite (rec_mean))
        json_builder_add_double_value (b, rec_mean);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "recommended_ratio_p10");
      if (isfinite (rec_p10))
        json_builder_add_double_value (b, rec_p10);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "policy");
      if (ts_stats_linear_fit ((double *) m->bits->data, (double *) m->optimal->data, (int) m->bits->len, &fit))
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "relation");
          json_builder_add_string_value (b, "log2(optimal_ratio) = intercept + slope * bits_per_token");
          json_builder_set_member_name (b, "slope");
          json_builder_add_double_value (b, fit.slope);
          json_builder_set_member_name (b, "intercept");
          json_builder_add_double_value (b, fit.intercept);
          json_builder_set_member_name (b, "r2");
          if (isfinite (fit.r2))
            json_builder_add_double_value (b, fit.r2);
          else
            json_builder_add_null_value (b);
          json_builder_set_member_name (b, "rmse_log2");
          json_builder_add_double_value (b, fit.rmse);
          json_builder_set_member_name (b, "n");
          json_builder_add_int_value (b, fit.n);
          json_builder_end_object (b);
        }
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  g_array_sort (red, compare_redundancy);
  add_extremes (b, "most_redundant", red, o->extremes > 0 ? o->extremes : 5, TRUE);
  add_extremes (b, "least_redundant", red, o->extremes > 0 ? o->extremes : 5, FALSE);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

char *
ts_summary_to_csv (JsonNode *summary)
{
  GString *csv = g_string_new ("method,ratio,metric,n,mean,std,p10,p50,p90\n");
  JsonArray *methods = json_object_get_array_member (json_node_get_object (summary), "methods");
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  for (guint k = 0; k < json_array_get_length (methods); k++)
    {
      JsonObject *m = json_array_get_object_element (methods, k);
      JsonArray *points = json_object_get_array_member (m, "points");
      for (guint p = 0; p < json_array_get_length (points); p++)
        {
          JsonObject *pt = json_array_get_object_element (points, p);
          for (guint q = 0; q < N_METRICS; q++)
            {
              JsonObject *st = json_object_get_object_member (pt, metrics[q]);
              const char *keys[] = { "mean", "std", "p10", "p50", "p90" };
              g_string_append_printf (csv, "%s,%s,%s,%" G_GINT64_FORMAT, json_object_get_string_member (m, "method"),
                                      g_ascii_formatd (buf, sizeof buf, "%.10g", json_object_get_double_member (pt, "ratio")),
                                      metrics[q], json_object_get_int_member (st, "n"));
              for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
                {
                  JsonNode *n = json_object_get_member (st, keys[i]);
                  g_string_append_c (csv, ',');
                  if (n && !JSON_NODE_HOLDS_NULL (n))
                    g_string_append (csv, g_ascii_formatd (buf, sizeof buf, "%.10g", json_node_get_double (n)));
                }
              g_string_append_c (csv, '\n');
            }
        }
    }
  return g_string_free (csv, FALSE);
}

GPtrArray *
ts_summary_collect (const char *const *dirs, int *bad, GError **error)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  int total_bad = 0;

  for (int i = 0; dirs[i]; i++)
    {
      g_autofree char *path = g_build_filename (dirs[i], "images.jsonl", NULL);
      g_autoptr (GPtrArray) records = NULL;
      int nbad = 0;
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, TS_ERROR, TS_ERROR_IO, "%s: no images.jsonl here (is it a dataset --out folder?)",
                       dirs[i]);
          return NULL;
        }
      records = ts_dataset_read_jsonl (path, &nbad, error);
      if (records == NULL)
        return NULL;
      total_bad += nbad;
      for (guint k = 0; k < records->len; k++)
        g_ptr_array_add (all, json_node_ref (records->pdata[k]));
    }
  if (bad)
    *bad = total_bad;
  return g_steal_pointer (&all);
}
