/* ts-summary.h: what a dataset run says, merged over any number of shards.
 *
 * Input: dataset records (ts-dataset.h), each
 *   { "image": KEY, "entropy": { "bits_per_token": H, "redundancy_ratio": R, ... },
 *     "curves": [ { "method": M, "points": [ { "ratio", "tokens", "ssim", "psnr",
 *                   "feature_retention", "efficiency" } ... ] } ... ] }
 * or { "image": KEY, "error": MESSAGE }.
 * Records are sorted by image key and de-duplicated first, so the numbers do
 * not depend on shard boundaries or completion order: N shards summarised
 * equal one unsharded run bit for bit.
 *
 * Per method and ratio: mean, std (population), p10, p50, p90 of ssim, psnr,
 * feature_retention, efficiency and tokens. Per method: the recommended
 * ratio (highest whose mean Q >= threshold) and the strict one (p10 Q >=
 * threshold), Q being SSIM or feature retention; and a per-image policy:
 * the least-squares line log2(optimal ratio) = a + b * bits_per_token over
 * images, each image's optimal ratio being its highest ratio with Q >=
 * threshold. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *metric; /* "ssim" (default) or "feature" */
  double threshold;   /* default 0.95 */
  int extremes;       /* how many most/least redundant images to list (default 5) */
} TsSummaryOptions;

/* Builds the summary JSON object from @records (JsonNode objects; not modified). */
JsonNode *ts_summary_build (GPtrArray *records, const TsSummaryOptions *options, GError **error);

/* The per-method, per-ratio table as CSV text (header + one row per method, ratio, metric). */
char *ts_summary_to_csv (JsonNode *summary);

/* Reads OUT/images.jsonl of every folder in @dirs into one array (JsonNode
 * objects), reporting unreadable folders as errors and torn lines in @bad. */
GPtrArray *ts_summary_collect (const char *const *dirs, int *bad, GError **error);

G_END_DECLS
