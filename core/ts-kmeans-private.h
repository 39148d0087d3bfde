/* ts-kmeans-private.h: the unaccelerated k-means the tests compare with.
 * Internal to the core and its tests; not part of core.h. */
#pragma once

#include "ts-kmeans.h"

G_BEGIN_DECLS

/* ts_kmeans with every distance computed: k-means++ seeding without pruning
 * and a full distance pass at every Lloyd assignment, no bounds. The same
 * result as ts_kmeans, which only skips distances that cannot matter. */
TsKMeans *ts_kmeans_full (const float *x, int n, int d, int k, const TsKMeansOptions *options,
                          GCancellable *cancellable, GError **error);

G_END_DECLS
