/* ts-entropy.h: token redundancy by k-means entropy (REFERENCE 6).
 *
 * The scene's L2-normalised token features are quantised with k-means
 * (k = min(K, N), K = 256 by default; greedy k-means++ from a seed, Lloyd
 * with sgemm distances); the histogram of cluster sizes gives
 *   H = -sum p log2 p        bits per token (0 for a uniform image)
 *   effective tokens = 2^H,  redundancy ratio = N / 2^H.
 * The seed's reading becomes a suggested ratio range:
 *   H >= 7: [1, 2] low redundancy; 4 <= H < 7: [2, 4] moderate;
 *   3 <= H < 4: [4, 8]; 1 <= H < 3: [8, 16] high; H < 1: [16, 32] extreme.
 * (H can never exceed log2 k: with 256 clusters, 8 bits.) When the tokens hold
 * at most k distinct vectors the quantisation is exact (each its own cluster)
 * and k-means is skipped.
 * The region map is H of the cluster labels inside each R x R block of tokens
 * (edge blocks hold what exists): where the image repeats itself.
 * Ownership: a new TsEntropy freed with ts_entropy_free. Reentrant. */
#pragma once

#include <gio/gio.h>

#include "ts-scene.h"

G_BEGIN_DECLS

#define TS_ENTROPY_DEFAULT_K 256
#define TS_ENTROPY_DEFAULT_ITERATIONS 20
#define TS_ENTROPY_DEFAULT_REGION 4

typedef struct {
  int k;            /* clusters requested, 0 = 256 */
  int iterations;   /* Lloyd iterations, 0 = 20 */
  int region;       /* tokens per side of a map region, 0 = 4 */
  guint64 seed;
} TsEntropyOptions;

typedef struct {
  int n;                   /* tokens */
  int k;                   /* min(k, n) */
  int clusters;            /* non-empty clusters */
  double bits_per_token;
  double effective_tokens;
  double redundancy_ratio;
  double suggested_lo, suggested_hi;
  const char *reading;     /* "low redundancy", ... */
  double inertia;
  int iterations;
  int *labels;             /* n cluster labels, raster order */
  int region;              /* tokens per side of a map region */
  int map_rows, map_cols;
  float *map;              /* map_rows x map_cols bits */
} TsEntropy;

void ts_entropy_options_init (TsEntropyOptions *options);

TsEntropy *ts_entropy_compute (const TsScene *scene, const TsEntropyOptions *options, GCancellable *cancellable,
                               GError **error);
void ts_entropy_free (TsEntropy *entropy);

/* H in bits of a histogram of @n counts (zero counts skipped). */
double ts_entropy_bits (const int *counts, int n);
/* The seed's reading of @bits: the suggested ratio range; returns the reading's name. */
const char *ts_entropy_suggest (double bits, double *lo, double *hi);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsEntropy, ts_entropy_free)

G_END_DECLS
