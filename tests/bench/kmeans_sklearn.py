#!/usr/bin/python3
"""sklearn's KMeans on the same token features bench-analysis clusters, for the
side-by-side speed comparison of the analysis issue (k 256, same seeding, same
Lloyd iterations; target: ts_entropy_compute at least 5x faster).

    build/tests/bench-analysis IMAGE --kmeans-only --export-npy /tmp/tokens.npy --export-init /tmp/init.npy
    /usr/bin/python3 tests/bench/kmeans_sklearn.py /tmp/tokens.npy --init-npy /tmp/init.npy \\
        [--ours build/tests/bench-analysis IMAGE] [--iterations 20] [--repeat 5]

The same algorithm as ts_entropy_compute's k-means: classic k-means++ seeding
(sklearn's kmeans_plusplus with n_local_trials=1, what ts_entropy asks of
ts_kmeans; sklearn's KMeans default would try 2 + ln k candidates per centre),
then KMeans(init=centres, n_init=1, algorithm="lloyd", tol=1e-4: sklearn's
rule, which ts_kmeans implements too), at most --iterations Lloyd iterations.
The time covers seeding and Lloyd, and is also printed split in two.

Same iterations: with --init-npy, sklearn's Lloyd starts from the seeds
bench-analysis exported (ts_kmeans_seed, the centres ts_entropy_compute starts
from), so both run the same Lloyd iterations from the same centres (both
print how many ran); sklearn's own classic kmeans_plusplus is still run and
timed as the seeding. Without it sklearn seeds with random_state = run index
and may run a different number of iterations: compare per iteration then.

--ours BENCH IMAGE runs `BENCH IMAGE --kmeans-only --repeat 1` after each
sklearn run, so both sides see the same load on a shared machine, and prints
the ratios of the medians (wall time; CPU time of all threads; per Lloyd
iteration, as (total - seeding) / iterations, and with --init-npy also as
(T(N) - T(1)) / (N - 1), each side timed again with one iteration from the
same start, which leaves the fixed costs out). --algorithm elkan times sklearn's own bounded Lloyd (the same
result), for reference; --init greedy times sklearn's default seeding
(KMeans(init="k-means++"): 2 + ln k candidates per centre), more work than
ts_entropy's seeding, for reference. Uses Debian's python3-sklearn. Outside CI.
Prints medians and mins and the entropy of the cluster sizes."""
import argparse
import os
import re
import subprocess
import time

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus
import sklearn
from threadpoolctl import threadpool_info

ap = argparse.ArgumentParser()
ap.add_argument("npy")
ap.add_argument("--k", type=int, default=256)
ap.add_argument("--iterations", type=int, default=20)
ap.add_argument("--repeat", type=int, default=5)
ap.add_argument("--init", choices=["classic", "greedy"], default="classic")
ap.add_argument("--init-npy", help="k x d starting centres (bench-analysis --export-init)")
ap.add_argument("--algorithm", choices=["lloyd", "elkan"], default="lloyd")
ap.add_argument("--ours", nargs=2, metavar=("BENCH", "IMAGE"),
                help="run bench-analysis on IMAGE after each sklearn run and print the ratios")
a = ap.parse_args()

x = np.load(a.npy).astype(np.float32)
k = min(a.k, len(x))
start = None
if a.init_npy:
    start = np.load(a.init_npy).astype(np.float32)
    if start.shape != (k, x.shape[1]):
        raise SystemExit("%s: %s centres, expected %d x %d" % (a.init_npy, start.shape, k, x.shape[1]))


def ours_once():
    out = subprocess.run([a.ours[0], a.ours[1], "--kmeans-only", "--repeat", "1", "--iterations",
                          str(a.iterations)], check=True, capture_output=True, text=True).stdout
    wall = float(re.search(r"max \d+ iterations: median ([\d.]+) ms", out).group(1))
    cpu = float(re.search(r"CPU time \(all threads\): median ([\d.]+) ms", out).group(1))
    seed = float(re.search(r"seeding alone median ([\d.]+) ms", out).group(1))
    iters = int(re.search(r"(\d+) Lloyd iterations", out).group(1))
    blas = re.search(r"OpenBLAS (\S+), (\d+) threads", out).groups()
    further = re.search(r"= ([\d.]+) ms per further Lloyd iteration", out)
    return wall, cpu, seed, iters, blas, float(further.group(1)) if further else None


walls, cpus, seeds, ones, ours = [], [], [], [], []
for r in range(a.repeat):
    t, c = time.perf_counter(), time.process_time()
    if a.init == "classic":
        centres, _ = kmeans_plusplus(x, k, n_local_trials=1, random_state=r)
        t_seed = time.perf_counter()
        km = KMeans(n_clusters=k, init=centres if start is None else start, n_init=1, max_iter=a.iterations,
                    tol=1e-4, algorithm=a.algorithm).fit(x)
    else:
        t_seed = t
        km = KMeans(n_clusters=k, init="k-means++", n_init=1, max_iter=a.iterations, tol=1e-4,
                    algorithm=a.algorithm, random_state=r).fit(x)
    walls.append(1e3 * (time.perf_counter() - t))
    cpus.append(1e3 * (time.process_time() - c))
    seeds.append(1e3 * (t_seed - t))
    if start is not None:  # one Lloyd iteration from the same centres: the fixed costs
        t1 = time.perf_counter()
        KMeans(n_clusters=k, init=start, n_init=1, max_iter=1, tol=1e-4, algorithm=a.algorithm).fit(x)
        ones.append(1e3 * (time.perf_counter() - t1))
    if a.ours:
        ours.append(ours_once())

sizes = np.bincount(km.labels_, minlength=k)
p = sizes[sizes > 0] / len(x)
blas = [" ".join(filter(None, (i.get("internal_api"), i.get("architecture")))) + " (%s threads)" % i.get("num_threads")
        for i in threadpool_info()]
wall, cpu, seed = np.median(walls), np.median(cpus), np.median(seeds)
print("sklearn %s, OMP_NUM_THREADS=%s, %s; %d x %d tokens, k %d, %s k-means++%s, %s, max_iter %d (ran %d)"
      % (sklearn.__version__, os.environ.get("OMP_NUM_THREADS", "unset"), ", ".join(blas), x.shape[0],
         x.shape[1], k, a.init, " (Lloyd from --init-npy)" if start is not None else "", a.algorithm, a.iterations,
         km.n_iter_))
print("entropy %.3f bits/token" % float(-(p * np.log2(p)).sum()))
print("KMeans (seeding + Lloyd): median %.1f ms, min %.1f ms over %d runs; CPU time (all threads) median %.1f ms"
      % (wall, min(walls), a.repeat, cpu))
print("sklearn split: seeding median %.1f ms; Lloyd %.1f ms = %.2f ms per iteration (%d iterations)"
      % (seed, wall - seed, (wall - seed) / km.n_iter_, km.n_iter_))
further = None
if ones and km.n_iter_ > 1:
    further = (wall - seed - np.median(ones)) / (km.n_iter_ - 1)
    print("sklearn further iterations: one iteration alone median %.1f ms; (T(%d) - T(1)) / %d = %.2f ms"
          " per further Lloyd iteration" % (np.median(ones), km.n_iter_, km.n_iter_ - 1, further))
if ours:
    o_wall = np.median([o[0] for o in ours])
    o_cpu = np.median([o[1] for o in ours])
    o_seed = np.median([o[2] for o in ours])
    o_iters = ours[-1][3]
    print("ours, interleaved (OpenBLAS %s, %s threads): median %.1f ms, CPU %.1f ms; seeding %.1f ms; "
          "the rest %.2f ms per iteration (%d iterations)"
          % (ours[-1][4][0], ours[-1][4][1], o_wall, o_cpu, o_seed, (o_wall - o_seed) / o_iters, o_iters))
    print("ratio sklearn / ours: wall %.1fx, CPU %.1fx, seeding %.1fx, per Lloyd iteration %.1fx%s"
          % (wall / o_wall, cpu / o_cpu, seed / o_seed,
             ((wall - seed) / km.n_iter_) / ((o_wall - o_seed) / o_iters),
             "" if o_iters == km.n_iter_ else " (iterations differ: %d vs %d)" % (km.n_iter_, o_iters)))
    o_further = [o[5] for o in ours if o[5] is not None]
    if further is not None and o_further:
        print("ratio sklearn / ours per further Lloyd iteration ((T(N) - T(1)) / (N - 1), fixed costs apart): %.1fx"
              " (%.2f ms vs %.2f ms)" % (further / np.median(o_further), further, np.median(o_further)))
