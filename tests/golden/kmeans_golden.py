#!/usr/bin/python3
"""Golden values for tests/test-kmeans.c, from scikit-learn (Debian python3-sklearn 1.2.1).

The point sets are defined by formulas that test-kmeans.c reproduces exactly in float32:
  blobs:   i = 0..59, centre c = BLOB_CENTRES[i % 4], x_ij = c_j + ((i * 37 + j * 11) % 17) / 8 - 1
  golden:  i = 0..199, x_i0 = frac(i * 0.6180339887), x_i1 = frac(i * 0.7548776662)  (float64 then float32)
Run: /usr/bin/python3 tests/golden/kmeans_golden.py
"""
import numpy as np
from sklearn.cluster import KMeans

BLOB_CENTRES = [(0, 0, 0), (5, 5, 0), (0, 5, 5), (5, 0, 5)]


def blobs():
    x = np.zeros((60, 3), dtype=np.float32)
    for i in range(60):
        c = BLOB_CENTRES[i % 4]
        for j in range(3):
            x[i, j] = c[j] + ((i * 37 + j * 11) % 17) / 8.0 - 1.0
    return x


def golden():
    i = np.arange(200, dtype=np.float64)
    x = np.stack([np.modf(i * 0.6180339887)[0], np.modf(i * 0.7548776662)[0]], axis=1)
    return x.astype(np.float32)


def main():
    x = blobs()
    km = KMeans(n_clusters=4, n_init=10, random_state=0).fit(x)
    order = np.lexsort(km.cluster_centers_.T[::-1])
    print("blobs k=4 inertia %.6f" % km.inertia_)
    for c in km.cluster_centers_[order]:
        print("  { %.6f, %.6f, %.6f }," % tuple(c))

    x = golden()
    for k, iters in ((5, 300), (8, 300), (8, 2)):
        km = KMeans(n_clusters=k, init=x[:k], n_init=1, algorithm="lloyd", tol=0.0, max_iter=iters).fit(x)
        print("golden k=%d max_iter=%d inertia %.6f n_iter %d" % (k, iters, km.inertia_, km.n_iter_))
        for c in km.cluster_centers_:
            print("  { %.6f, %.6f }," % tuple(c))
        print("  labels[0..19]", ", ".join(str(v) for v in km.labels_[:20]))
        print("  sizes", ", ".join(str(v) for v in np.bincount(km.labels_, minlength=k)))


if __name__ == "__main__":
    main()
