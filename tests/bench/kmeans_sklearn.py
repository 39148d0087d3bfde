#!/usr/bin/python3
"""sklearn's KMeans on the same token features bench-analysis clusters, for the
side-by-side speed comparison of the analysis issue (k 256, same iterations).

    build/tests/bench-analysis IMAGE --export-npy /tmp/tokens.npy
    /usr/bin/python3 tests/bench/kmeans_sklearn.py /tmp/tokens.npy [--iterations 20] [--repeat 5]

The same algorithm as ts_entropy_compute's k-means: classic k-means++ seeding
(sklearn's kmeans_plusplus with n_local_trials=1, what ts_entropy asks of
ts_kmeans; sklearn's KMeans default would try 2 + ln k candidates per centre),
then KMeans(init=those centres, n_init=1, algorithm="lloyd", tol=1e-4: sklearn's
rule, which ts_kmeans implements too), at most --iterations Lloyd iterations.
The time covers seeding and Lloyd. Same iterations: both print how many ran;
compare at an --iterations low enough that neither converges (e.g. 8) for the
same work on both sides. --init greedy instead times sklearn's default seeding
(KMeans(init="k-means++"): 2 + ln k candidates per centre), more work than
ts_entropy's seeding, for reference. Uses Debian's python3-sklearn. Outside CI.
Prints the median and min wall time and the entropy of the cluster sizes."""
import argparse
import os
import time

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus
import sklearn

ap = argparse.ArgumentParser()
ap.add_argument("npy")
ap.add_argument("--k", type=int, default=256)
ap.add_argument("--iterations", type=int, default=20)
ap.add_argument("--repeat", type=int, default=5)
ap.add_argument("--init", choices=["classic", "greedy"], default="classic")
a = ap.parse_args()

x = np.load(a.npy).astype(np.float32)
k = min(a.k, len(x))
times = []
for r in range(a.repeat):
    t = time.perf_counter()
    if a.init == "classic":
        centres, _ = kmeans_plusplus(x, k, n_local_trials=1, random_state=r)
        km = KMeans(n_clusters=k, init=centres, n_init=1, max_iter=a.iterations, tol=1e-4,
                    algorithm="lloyd").fit(x)
    else:
        km = KMeans(n_clusters=k, init="k-means++", n_init=1, max_iter=a.iterations, tol=1e-4,
                    algorithm="lloyd", random_state=r).fit(x)
    times.append(time.perf_counter() - t)
sizes = np.bincount(km.labels_, minlength=k)
p = sizes[sizes > 0] / len(x)
print("sklearn %s, OMP_NUM_THREADS=%s, %d x %d tokens, k %d, %s k-means++, max_iter %d (ran %d)"
      % (sklearn.__version__, os.environ.get("OMP_NUM_THREADS", "unset"), x.shape[0], x.shape[1], k, a.init,
         a.iterations, km.n_iter_))
print("entropy %.3f bits/token" % float(-(p * np.log2(p)).sum()))
print("KMeans (seeding + Lloyd): median %.1f ms, min %.1f ms over %d runs" % (1e3 * np.median(times), 1e3 * min(times), a.repeat))
