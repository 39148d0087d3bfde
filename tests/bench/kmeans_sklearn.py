#!/usr/bin/python3
"""sklearn's KMeans on the same token features bench-analysis clusters, for the
side-by-side speed comparison of the analysis issue (k 256, same iterations).

    build/tests/bench-analysis IMAGE --export-npy /tmp/tokens.npy
    /usr/bin/python3 tests/bench/kmeans_sklearn.py /tmp/tokens.npy [--iterations 20] [--repeat 5]

Uses Debian's python3-sklearn (KMeans, Lloyd, greedy k-means++ seeding, n_init 1,
tol 0 so it stops exactly when labels stop changing, like ts_kmeans). Outside CI.
Prints the median and min wall time and the entropy of the cluster sizes."""
import argparse
import os
import time

import numpy as np
from sklearn.cluster import KMeans
import sklearn

ap = argparse.ArgumentParser()
ap.add_argument("npy")
ap.add_argument("--k", type=int, default=256)
ap.add_argument("--iterations", type=int, default=20)
ap.add_argument("--repeat", type=int, default=5)
a = ap.parse_args()

x = np.load(a.npy).astype(np.float32)
k = min(a.k, len(x))
times = []
for r in range(a.repeat):
    t = time.perf_counter()
    km = KMeans(n_clusters=k, init="k-means++", n_init=1, max_iter=a.iterations, tol=0.0,
                algorithm="lloyd", random_state=r).fit(x)
    times.append(time.perf_counter() - t)
sizes = np.bincount(km.labels_, minlength=k)
p = sizes[sizes > 0] / len(x)
print("sklearn %s, OMP_NUM_THREADS=%s, %d x %d tokens, k %d, max_iter %d (ran %d)"
      % (sklearn.__version__, os.environ.get("OMP_NUM_THREADS", "unset"), x.shape[0], x.shape[1], k,
         a.iterations, km.n_iter_))
print("entropy %.3f bits/token" % float(-(p * np.log2(p)).sum()))
print("KMeans: median %.1f ms, min %.1f ms over %d runs" % (1e3 * np.median(times), 1e3 * min(times), a.repeat))
