/* dataset and summarize: choosing compression settings for a whole dataset. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int
ts_cli_summarize (int argc, char **argv)
{
  g_autofree char *metric = NULL;
  g_autofree char *out = NULL;
  double threshold = ts_cli_settings ()->threshold;
  int extremes = 5;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (JsonNode) summary = NULL;
  g_autofree char *csv = NULL;
  g_autofree char *json_path = NULL;
  g_autofree char *csv_path = NULL;
  TsSummaryOptions options;
  GOptionEntry entries[] = {
    { "metric", 0, 0, G_OPTION_ARG_STRING, &metric, "Quality for recommendations: ssim (default) or feature", "Q" },
    { "threshold", 't', 0, G_OPTION_ARG_DOUBLE, &threshold, "Quality threshold (default 0.95)", "Q" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Folder for summary.json and summary.csv (default: the first OUT)", "DIR" },
    { "extremes", 0, 0, G_OPTION_ARG_INT, &extremes, "How many most/least redundant images to list (default 5)", "N" },
    G_OPTION_ENTRY_NULL
  };
  int bad = 0;

  context = ts_cli_context ("summarize", "OUT [OUT2 ...]",
                            "Merge the images.jsonl of one or more dataset runs (shards) into summary.json and\n"
                            "summary.csv: per method and ratio the mean, std, p10, p50, p90 of every metric, the\n"
                            "recommended ratio per method (mean Q >= threshold, and the strict p10 Q >= threshold),\n"
                            "the most and least redundant images, and a per-image policy: the least-squares line\n"
                            "log2(optimal ratio) = a + b * bits_per_token. Shards merge exactly: N shards give the\n"
                            "same numbers as one unsharded run.",
                            "Examples:\n"
                            "  tokenscope-cli summarize runs/photos\n"
                            "  tokenscope-cli summarize shard-0 shard-1 shard-2 --out merged --threshold 0.9\n");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!ts_cli_parse (context, &argc, &argv))
    return TS_EXIT_USAGE;
  if (argc < 2)
    return ts_cli_usage ("summarize", "expects at least one dataset output folder");
  if (!(threshold >= 0 && threshold <= 1))
    return ts_cli_usage ("summarize", "--threshold must be between 0 and 1");

  records = ts_summary_collect ((const char *const *) argv + 1, &bad, &error);
  if (records == NULL)
    return ts_cli_fail (error);
  if (bad > 0)
    fprintf (stderr, "tokenscope-cli: warning: %d torn or invalid line%s skipped\n", bad, bad == 1 ? "" : "s");
  options.metric = metric ? metric : ts_cli_settings ()->metric;
  options.threshold = threshold;
  options.extremes = extremes;
  summary = ts_summary_build (records, &options, &error);
  if (summary == NULL)
    return ts_cli_fail (error);

  if (out == NULL)
    out = g_strdup (argv[1]);
  if (g_mkdir_with_parents (out, 0755) != 0)
    {
      fprintf (stderr, "tokenscope-cli: %s: cannot create the folder\n", out);
      return TS_EXIT_INPUT;
    }
  json_path = g_build_filename (out, "summary.json", NULL);
  csv_path = g_build_filename (out, "summary.csv", NULL);
  csv = ts_summary_to_csv (summary);
  if (!ts_cli_write_json (summary, json_path, &error) || !ts_file_write (csv_path, csv, strlen (csv), &error))
    return ts_cli_fail (error);

  {
    JsonObject *root = json_node_get_object (summary);
    JsonArray *methods = json_object_get_array_member (root, "methods");
    printf ("%" G_GINT64_FORMAT " images (%" G_GINT64_FORMAT " failed), %s >= %.3g\n",
            json_object_get_int_member (root, "images"), json_object_get_int_member (root, "failed"),
            json_object_get_string_member (root, "metric"), threshold);
    printf ("%-12s %12s %12s %s\n", "method", "recommended", "strict(p10)", "policy log2(ratio) = a + b*bits");
    for (guint i = 0; i < json_array_get_length (methods); i++)
      {
        JsonObject *m = json_array_get_object_element (methods, i);
        JsonNode *r = json_object_get_member (m, "recommended_ratio");
        JsonNode *r10 = json_object_get_member (m, "recommended_ratio_p10");
        JsonNode *pol = json_object_get_member (m, "policy");
        char a[32] = "none", b[32] = "none", c[96] = "n/a";
        if (!JSON_NODE_HOLDS_NULL (r))
          g_snprintf (a, sizeof a, "%gx", json_node_get_double (r));
        if (!JSON_NODE_HOLDS_NULL (r10))
          g_snprintf (b, sizeof b, "%gx", json_node_get_double (r10));
        if (!JSON_NODE_HOLDS_NULL (pol))
          {
            JsonObject *p = json_node_get_object (pol);
            JsonNode *r2 = json_object_get_member (p, "r2");
            char r2s[32] = "n/a";
            if (!JSON_NODE_HOLDS_NULL (r2))
              g_snprintf (r2s, sizeof r2s, "%.3f", json_node_get_double (r2));
            g_snprintf (c, sizeof c, "a %.3f, b %.3f (R^2 %s, n %" G_GINT64_FORMAT ")",
                        json_object_get_double_member (p, "intercept"), json_object_get_double_member (p, "slope"), r2s,
                        json_object_get_int_member (p, "n"));
          }
        printf ("%-12s %12s %12s %s\n", json_object_get_string_member (m, "method"), a, b, c);
      }
    printf ("wrote %s and %s\n", json_path, csv_path);
  }
  return TS_EXIT_OK;
}
