/* ts-report.h: the JSON shapes of analysis results, shared by the CLI's
 * sweep/entropy/dataset commands and the GUI's exports, so every output of
 * TokenScope spells a result the same way.
 *
 *   sweep:   { "tokens", "width", "height", "patch", "metric", "threshold",
 *              "curves": [ { "method", "label", "baseline",
 *                            "points": [ { "ratio", "tokens", "ssim", "psnr",
 *                                          "feature_retention", "efficiency" } ],
 *                            "optimal_ratio" (null when none) } ] }
 *   entropy: { "bits_per_token", "clusters", "effective_tokens",
 *              "redundancy_ratio", "suggested_ratio": [lo, hi], "reading" }
 * Non-finite numbers (PSNR of identical images, failed points) are null. */
#pragma once

#include <json-glib/json-glib.h>

#include "ts-entropy.h"
#include "ts-sweep.h"

G_BEGIN_DECLS

/* Adds the members of a sweep to the object being built in @b. */
void ts_report_add_sweep (JsonBuilder *b, const TsSweep *sweep);
/* Adds the entropy members to the object being built in @b. */
void ts_report_add_entropy (JsonBuilder *b, const TsEntropy *entropy);
/* Adds the members of one image's dataset record (core/ts-dataset.h): the
 * source size, the sweep, and the entropy as an "entropy" object. */
void ts_report_add_dataset_image (JsonBuilder *b, int source_width, int source_height, const TsSweep *sweep,
                                  const TsEntropy *entropy);
/* A number, or null when not finite. */
void ts_report_add_double (JsonBuilder *b, const char *member, double value);

JsonNode *ts_report_sweep (const TsSweep *sweep);
JsonNode *ts_report_entropy (const TsEntropy *entropy);

G_END_DECLS
