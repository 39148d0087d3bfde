/* ts-kmeans.h: k-means++ seeding and Lloyd iterations on float32 rows.
 *
 * Shared by the resampler (query initialisation) and the redundancy analysis
 * (token entropy, REFERENCE 6). Distances are squared Euclidean, computed in
 * blocks of rows with cblas_sgemm as ||x||^2 - 2 x.c + ||c||^2, so memory is
 * O(block x k) (plus the bounds below, at most 64 MB) and never n x n. The
 * nearest centre is exact: when other centres lie within the rounding of
 * that expansion (a bound from d and the norms) of the smallest, the
 * distances to those are summed directly in double and decide (ties to the
 * lower index), so labels do not depend on the BLAS kernel or the number of
 * threads.
 *
 * Exact acceleration (the same result as computing every distance, which
 * the tests check): seeding skips a row's distance to a candidate when the
 * triangle inequality through the row's nearest centre shows the candidate
 * farther; Lloyd keeps Elkan's bounds (n x k lower bounds, when (n + 2k) x k
 * floats fit in 64 MB; ts_kmeans takes the first ones from the seeding
 * instead of a full n x k distance pass) and computes only the distances
 * they cannot rule out (rows with many: one SGEMM over those rows), and
 * recomputes the means of the clusters whose rows changed only.
 *
 * Seeding is sklearn's greedy k-means++: the first centre is a uniformly
 * drawn row; each next centre is the best (lowest total potential) of
 * n_local_trials rows drawn with probability proportional to D(x)^2. When
 * every remaining D(x)^2 is 0 (fewer distinct rows than k) the lowest-index
 * unchosen row is taken. Lloyd then alternates assignment (nearest centre,
 * ties to the lower index) and update (mean of members, summed in double in
 * row order) until no label changes, the centres move less than the
 * tolerance, or max_iter is reached. An empty cluster is moved to the row
 * farthest from its current centre (sklearn's relocation; distances summed
 * in double, ties to the lower row); when every row already sits on its
 * centre, the empty centre stays where it is.
 *
 * Randomness: GRand (Mersenne Twister) seeded with the 64-bit seed, so the
 * same rows, k and seed give the same result on every machine.
 * Ownership: ts_kmeans returns a new TsKMeans freed with ts_kmeans_free
 * (NULL is a no-op). Functions are reentrant; nothing is shared. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  int max_iter;       /* Lloyd iterations; 0 = 100; < 0 = seeding only */
  int n_local_trials; /* greedy k-means++ candidates per centre; 0 = 2 + floor(ln k) as sklearn */
  guint64 seed;
  double tol;         /* stop when the squared centre shift summed over all centres is
                         <= tol x the mean column variance of x (sklearn's tol);
                         ts_kmeans_options_init sets 1e-4; 0 = until labels stop changing */
} TsKMeansOptions;

typedef struct {
  int n, d, k;
  float *centroids; /* k x d */
  int *labels;      /* n, nearest centroid of each row */
  int *sizes;       /* k, rows per centroid */
  double inertia;   /* sum of squared distances to the assigned centroid */
  int iterations;   /* Lloyd iterations run */
  gboolean converged; /* labels stopped changing or the tolerance was met before max_iter */
} TsKMeans;

void ts_kmeans_options_init (TsKMeansOptions *options);

/* Clusters the n x d row-major @x into @k groups (1 <= k <= n); @options
 * NULL means ts_kmeans_options_init's defaults.
 * TS_ERROR_INVALID_ARGUMENT for bad sizes, TS_ERROR_BAD_DATA for NaN or
 * infinite values, TS_ERROR_CANCELLED, TS_ERROR_TOO_LARGE when memory fails. */
TsKMeans *ts_kmeans (const float *x, int n, int d, int k, const TsKMeansOptions *options,
                     GCancellable *cancellable, GError **error);

/* Lloyd iterations from the given k x d @centroids (updated in place), as
 * sklearn's KMeans(init=centroids, n_init=1, algorithm="lloyd", tol=0). */
TsKMeans *ts_kmeans_lloyd (const float *x, int n, int d, const float *centroids, int k, int max_iter,
                           GCancellable *cancellable, GError **error);

/* The k-means++ seeding of ts_kmeans alone (@options: seed, n_local_trials)
 * into @centroids (k x d): the same centres ts_kmeans starts Lloyd from. */
gboolean ts_kmeans_seed (const float *x, int n, int d, int k, const TsKMeansOptions *options, float *centroids,
                         GCancellable *cancellable, GError **error);

/* @steps Lloyd updates (assignment, then means, empty clusters relocated as
 * above; fewer when labels stop changing) on @centroids in place, without the
 * final assignment ts_kmeans_lloyd adds: what an initialisation needs. */
gboolean ts_kmeans_steps (const float *x, int n, int d, float *centroids, int k, int steps,
                          GCancellable *cancellable, GError **error);

/* ts_kmeans_seed into @seeds (k x d, NULL: not wanted), then ts_kmeans_steps
 * from them into @centroids (k x d): the same centres, with the first
 * assignment bounded by what the seeding learnt (ts_kmeans's way) instead of
 * a full distance pass. */
gboolean ts_kmeans_seed_steps (const float *x, int n, int d, int k, const TsKMeansOptions *options, int steps,
                               float *seeds, float *centroids, GCancellable *cancellable, GError **error);

/* Nearest of @k centroids for each of @n rows: @labels (n) and optionally
 * @dist2 (n, squared distances as the sgemm expansion gives them). Blocked
 * sgemm, exact as above; ties go to the lower index. */
gboolean ts_kmeans_assign (const float *x, int n, int d, const float *centroids, int k, int *labels,
                           float *dist2, GCancellable *cancellable, GError **error);

void ts_kmeans_free (TsKMeans *km);

/* ---- k-means through the Gram matrix ----
 *
 * The same k-means, in exact arithmetic (but for the last bits of a
 * double), for rows whose Gram matrix @gram (n x n, gram[i][j] = x_i . x_j
 * as float dot products give it, both triangles) is at hand: it tells which
 * few distances need computing, so a seeding or an assignment costs about
 * n^2 + n k additions instead of n k d multiply-adds.
 *
 * ts_kmeans_gram_seed draws as ts_kmeans_seed does (the same GRand
 * sequence, the same greedy choice, a squared distance below 1e-6 of the two
 * squared norms counted as 0) from every row's exact squared distance to its
 * nearest seed, in double: a new seed's distance is computed only for the
 * rows its Gram row (gram_ii + gram_cc - 2 gram_ic, within 4 gamma_d max
 * |x|^2 of it) cannot show farther than their nearest seed. The float
 * distances of ts_kmeans_seed draw the same seeds unless a draw falls within
 * their rounding of a boundary between two rows (a photo with many
 * near-identical patches can have one in a thousand draws).
 * ts_kmeans_gram_steps keeps every centre as the exact mean of its rows
 * (never rounded to float, unlike ts_kmeans_steps) and assigns each row to
 * its exactly nearest centre: the centres' dot products with every row are
 * their rows' Gram rows summed, over their count, their squared norms the
 * sums of those over their rows; when other centres lie within the rounding
 * of those sums (a bound from d and the largest cluster) of the nearest, the
 * distances to them are summed in double from @x and the means in double
 * (ties to the lower index). Empty clusters are relocated as
 * ts_kmeans_steps relocates them. */

/* Centres as means of rows: centre c is the mean of rows rows[start[c]] ..
 * rows[start[c + 1] - 1] (ascending); labels: each row's centre in the last
 * assignment (-1 each before any). Freed with ts_kmeans_members_free (NULL
 * is a no-op). */
typedef struct {
  int n, k;
  int *labels; /* n */
  int *start;  /* k + 1 */
  int *rows;   /* start[k] */
} TsKMeansMembers;

/* k-means++ seeds of ts_kmeans_seed (@options: seed, n_local_trials) of
 * the rows @x (n x d, for their squared norms) whose Gram matrix is @gram,
 * as row indices into @seeds (k). */
gboolean ts_kmeans_gram_seed (const float *x, int n, int d, const float *gram, int k,
                              const TsKMeansOptions *options, int *seeds, GCancellable *cancellable,
                              GError **error);

/* @steps Lloyd updates (ts_kmeans_steps: fewer when labels stop changing)
 * of the rows @x (n x d) whose Gram matrix is @gram, from the k centres at
 * rows @first (k indices). */
TsKMeansMembers *ts_kmeans_gram_steps (const float *x, int n, int d, const float *gram, const int *first, int k,
                                       int steps, GCancellable *cancellable, GError **error);

/* out[j] = sum of @gram[t][j] over the rows t of centre @c in order (float):
 * the centre's dot product with row j times its count. */
void ts_kmeans_members_dots (const TsKMeansMembers *m, int c, const float *gram, float *out);

void ts_kmeans_members_free (TsKMeansMembers *m);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsKMeansMembers, ts_kmeans_members_free)


G_DEFINE_AUTOPTR_CLEANUP_FUNC (TsKMeans, ts_kmeans_free)

G_END_DECLS
