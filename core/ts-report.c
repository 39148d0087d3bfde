#include "ts-report.h"

#include <math.h>

void
ts_report_add_double (JsonBuilder *b, const char *member, double value)
{
  json_builder_set_member_name (b, member);
  if (isfinite (value))
    json_builder_add_double_value (b, value);
  else
    json_builder_add_null_value (b);
}

void
ts_report_add_sweep (JsonBuilder *b, const TsSweep *sweep)
{
  json_builder_set_member_name (b, "tokens");
  json_builder_add_int_value (b, sweep->tokens);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, sweep->width);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, sweep->height);
  json_builder_set_member_name (b, "patch");
  json_builder_add_int_value (b, sweep->patch);
  json_builder_set_member_name (b, "metric");
  json_builder_add_string_value (b, ts_sweep_metric_name (sweep->metric));
  ts_report_add_double (b, "threshold", sweep->threshold);
  json_builder_set_member_name (b, "curves");
  json_builder_begin_array (b);
  for (int c = 0; c < sweep->n_curves; c++)
    {
      const TsSweepCurve *curve = &sweep->curves[c];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "method");
      json_builder_add_string_value (b, curve->method);
      json_builder_set_member_name (b, "label");
      json_builder_add_string_value (b, curve->label ? curve->label : curve->method);
      json_builder_set_member_name (b, "baseline");
      json_builder_add_boolean_value (b, curve->baseline);
      json_builder_set_member_name (b, "points");
      json_builder_begin_array (b);
      for (int p = 0; p < curve->n_points; p++)
        {
          const TsSweepPoint *pt = &curve->points[p];
          json_builder_begin_object (b);
          ts_report_add_double (b, "ratio", pt->ratio);
          json_builder_set_member_name (b, "tokens");
          json_builder_add_int_value (b, pt->tokens);
          ts_report_add_double (b, "ssim", pt->ssim);
          ts_report_add_double (b, "psnr", pt->psnr);
          ts_report_add_double (b, "feature_retention", pt->feature_retention);
          ts_report_add_double (b, "efficiency", pt->efficiency);
          if (pt->error)
            {
              json_builder_set_member_name (b, "error");
              json_builder_add_string_value (b, pt->error);
            }
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "optimal_ratio");
      if (curve->optimal_ratio > 0)
        json_builder_add_double_value (b, curve->optimal_ratio);
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

void
ts_report_add_entropy (JsonBuilder *b, const TsEntropy *e)
{
  ts_report_add_double (b, "bits_per_token", e->bits_per_token);
  json_builder_set_member_name (b, "clusters");
  json_builder_add_int_value (b, e->clusters);
  ts_report_add_double (b, "effective_tokens", e->effective_tokens);
  ts_report_add_double (b, "redundancy_ratio", e->redundancy_ratio);
  json_builder_set_member_name (b, "suggested_ratio");
  json_builder_begin_array (b);
  json_builder_add_double_value (b, e->suggested_lo);
  json_builder_add_double_value (b, e->suggested_hi);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "reading");
  json_builder_add_string_value (b, e->reading ? e->reading : "");
}

JsonNode *
ts_report_sweep (const TsSweep *sweep)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  ts_report_add_sweep (b, sweep);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
ts_report_entropy (const TsEntropy *entropy)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  ts_report_add_entropy (b, entropy);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

void
ts_report_add_dataset_image (JsonBuilder *b, int source_width, int source_height, const TsSweep *sweep,
                             const TsEntropy *entropy)
{
  json_builder_set_member_name (b, "source_width");
  json_builder_add_int_value (b, source_width);
  json_builder_set_member_name (b, "source_height");
  json_builder_add_int_value (b, source_height);
  ts_report_add_sweep (b, sweep);
  json_builder_set_member_name (b, "entropy");
  json_builder_begin_object (b);
  ts_report_add_entropy (b, entropy);
  json_builder_end_object (b);
}
