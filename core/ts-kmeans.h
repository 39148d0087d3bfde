/* ts-kmeans.h: k-means++ seeding and Lloyd iterations on float32 rows.
 *
 * Used by the redundancy analysis (token entropy, REFERENCE 6) and the
 * resampler's query initialisation. Distances are squared Euclidean,
 * ||x||^2 - 2 x.c + ||c||^2, with x.c computed by cblas_sgemm in blocks of
 * rows, so memory stays O(block x k), never n x n.
 *
 * Seeding is greedy k-means++ (sklearn's): the first centre is a uniformly
 * drawn row; each next one is the best (lowest total potential) of
 * n_local_trials rows drawn with probability proportional to D(x)^2; when
 * every D(x)^2 is 0 the lowest-index unchosen row is taken. Lloyd alternates
 * assignment (nearest centre, ties to the lower index) and update (member
 * mean) until no label changes or max_iter. An empty cluster keeps its centre.
 *
 * Randomness: GRand seeded from the 64-bit seed: same input, same output.
 * Ownership: ts_kmeans returns a new TsKMeans (ts_kmeans_free; NULL is a no-op).
 * Functions are reentrant. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  int max_iter;       /* Lloyd iterations; 0 = 100; < 0 = seeding only */
  int n_local_trials; /* greedy k-means++ candidates per centre; 0 = 2 + floor(ln k) as sklearn */
  guint64 seed;
} TsKMeansOptions;

typedef struct {
  int n, d, k;
  float *centroids;   /* k x d */
  int *labels;        /* n */
  int *sizes;         /* k */
  double inertia;     /* sum of squared distances to the assigned centroid */
  int iterations;     /* Lloyd iterations run */
  gboolean converged; /* labels stopped changing before max_iter */
} TsKMeans;

void ts_kmeans_options_init (TsKMeansOptions *options);

/* Clusters the n x d row-major @x into @k groups (1 <= k <= n).
 * TS_ERROR_INVALID_ARGUMENT for bad sizes, TS_ERROR_BAD_DATA for NaN or
 * infinite values, TS_ERROR_CANCELLED, TS_ERROR_TOO_LARGE when memory fails. */
TsKMeans *ts_kmeans (const float *x, int n, int d, int k, const TsKMeansOptions *options,
                     GCancellable *cancellable, GError **error);

/* Nearest of @k centroids for each of @n rows: @labels and optionally @dist2.
 * Blocked sgemm; ties go to the lower index. */
gboolean ts_kmeans_assign (const float *x, int n, int d, const float *centroids, int k, int *labels,
                           float *dist2, GCancellable *cancellable, GError **error);

void ts_kmeans_free (TsKMeans *km);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsKMeans, ts_kmeans_free)

G_END_DECLS
