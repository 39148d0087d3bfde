#!/usr/bin/python3
"""PyTorch reference for bench-methods: ToMe 2304 -> 576 and skimage SSIM, side by side.

Usage:
  build/tests/bench-methods --export /tmp/tsbench [IMAGE]
  /usr/bin/python3 tests/bench/tome_torch.py /tmp/tsbench [--repeat 7] [--threads N] [--order patch|official]

ToMe is facebookresearch/ToMe's bipartite_soft_matching + merge_wavg (tome/merge.py),
applied to the same pixel features (features.npy), the features themselves as the
metric, with TokenScope's schedule (r = min(n - target, n // 2) per step,
size-weighted). --order patch (the default) is the same algorithm as TokenScope's
ts_tome: after each step the tokens are put in the order of the smallest patch they
hold (REFERENCE 3), one argsort and gather per step; the final groups are then
compared patch by patch with bench-methods' tome_groups.txt. --order official keeps
ToMe's [unmerged, merged] concatenation (groups not compared).

Threads: torch.set_num_threads(N) for torch's own kernels; the matmul goes to the
system BLAS (OpenBLAS here, BLAS_INFO=generic), which uses OPENBLAS_NUM_THREADS like
bench-methods. N defaults to OPENBLAS_NUM_THREADS, else the CPUs this process may use,
so both sides use the same threads. Timing: median, fastest and slowest wall time and
the median process CPU time of --repeat runs after one warm-up run.

SSIM is skimage.metrics.structural_similarity on the luma of image.png and recon.png
with gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255
(what ts_ssim reproduces). The machine is shared: compare runs taken side by side."""
import math
import os
import statistics
import sys
import time
import warnings

import numpy as np
import torch
from skimage.io import imread
from skimage.metrics import structural_similarity

warnings.filterwarnings("ignore", message="scatter_reduce")


def do_nothing(x, mode=None):
    return x


def bipartite_soft_matching(metric, r, class_token=False, distill_token=False):
    """tome/merge.py, unchanged."""
    protected = 0
    if class_token:
        protected += 1
    if distill_token:
        protected += 1
    t = metric.shape[1]
    r = min(r, (t - protected) // 2)
    if r <= 0:
        return do_nothing, do_nothing
    with torch.no_grad():
        metric = metric / metric.norm(dim=-1, keepdim=True)
        a, b = metric[..., ::2, :], metric[..., 1::2, :]
        scores = a @ b.transpose(-1, -2)
        if class_token:
            scores[..., 0, :] = -math.inf
        if distill_token:
            scores[..., :, 0] = -math.inf
        node_max, node_idx = scores.max(dim=-1)
        edge_idx = node_max.argsort(dim=-1, descending=True)[..., None]
        unm_idx = edge_idx[..., r:, :]
        src_idx = edge_idx[..., :r, :]
        dst_idx = node_idx[..., None].gather(dim=-2, index=src_idx)
        if class_token:
            unm_idx = unm_idx.sort(dim=1)[0]

    def merge(x, mode="mean"):
        src, dst = x[..., ::2, :], x[..., 1::2, :]
        n, t1, c = src.shape
        unm = src.gather(dim=-2, index=unm_idx.expand(n, t1 - r, c))
        src = src.gather(dim=-2, index=src_idx.expand(n, r, c))
        dst = dst.scatter_reduce(-2, dst_idx.expand(n, r, c), src, reduce=mode)
        return torch.cat([unm, dst], dim=1)

    return merge, None


def merge_wavg(merge, x, size):
    x = merge(x * size, mode="sum")
    size = merge(size, mode="sum")
    return x / size, size


def tome(x, target, order="patch", track=False):
    """x: [1, N, D]. Returns the merged features, the sizes and, with track (slow,
    untimed), each patch's final token."""
    n0 = x.shape[1]
    size = torch.ones_like(x[..., 0, None])
    minp = torch.arange(n0, dtype=x.dtype)[None, :, None]  # the smallest patch of each token
    tok = torch.arange(n0) if track else None
    while x.shape[1] > target:
        n = x.shape[1]
        r = min(n - target, n // 2)
        merge, _ = bipartite_soft_matching(x, r)
        x, size = merge_wavg(merge, x, size)
        if track:  # the slot every token lands in: merge a one-hot per token
            tok = merge(torch.eye(n, dtype=x.dtype)[None], mode="sum")[0].argmax(dim=0)[tok]
        if order == "patch":
            minp = merge(minp, mode="amin")
            perm = minp[0, :, 0].argsort()
            x, size, minp = x[:, perm], size[:, perm], minp[:, perm]
            if track:
                rank = torch.empty_like(perm)
                rank[perm] = torch.arange(perm.shape[0])
                tok = rank[tok]
    return x, size, tok


def groups_of(labels):
    found = {}
    for patch, label in enumerate(labels):
        found.setdefault(int(label), []).append(patch)
    return {tuple(g) for g in found.values()}


def compare_groups(feats, ours):
    """Identical groups between torch's run and bench-methods' tome_groups.txt, and how
    often torch's float32 first step picks the float64 argmax: a near-tie decided by
    rounding in step 1 changes the order by smallest patch, so the A/B split of step 2
    differs around it and step 2 differs more."""
    with torch.no_grad():
        _, _, tok = tome(feats, 576, "patch", track=True)
    theirs, mine = groups_of(tok.numpy()), groups_of(ours)
    same = theirs & mine
    print("groups identical to bench-methods' tome_groups.txt: %d of %d (%d of %d patches)"
          % (len(same), len(mine), sum(len(g) for g in same), ours.shape[0]))
    x = feats[0].numpy().astype(np.float64)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-300)
    exact = (x[::2] @ x[1::2].T).argmax(axis=1)
    metric = feats / feats.norm(dim=-1, keepdim=True)
    fp32 = (metric[0, ::2] @ metric[0, 1::2].T).argmax(dim=-1).numpy()
    print("step 1: torch's float32 partner is the float64 argmax for %d of %d A tokens"
          % (int((exact == fp32).sum()), exact.shape[0]))


def luma(img):
    img = img[..., :3].astype(np.float64)
    return 0.299 * img[..., 0] + 0.587 * img[..., 1] + 0.114 * img[..., 2]


def stats(times):
    return statistics.median(times) * 1e3, min(times) * 1e3, max(times) * 1e3


def main():
    args = sys.argv[1:]

    def option(name, default):
        return args[args.index(name) + 1] if name in args else default

    folder = args[0] if args and not args[0].startswith("--") else "/tmp/tsbench"
    repeat = int(option("--repeat", "7"))
    order = option("--order", "patch")
    threads = int(option("--threads", os.environ.get("OPENBLAS_NUM_THREADS", len(os.sched_getaffinity(0)))))
    torch.set_num_threads(threads)
    feats = torch.from_numpy(np.load(folder + "/features.npy").astype(np.float32))[None]
    print("torch %s, %d threads (OPENBLAS_NUM_THREADS %s); features %s; order %s"
          % (torch.__version__, torch.get_num_threads(), os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
             tuple(feats.shape), order))
    with torch.no_grad():
        tome(feats, 576, order)  # warm-up
        wall, cpu = [], []
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            out, size, _ = tome(feats, 576, order)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    print("torch tome %d -> %d       %8.2f ms  cpu %8.2f  min %8.2f  max %8.2f  (median of %d)"
          % (feats.shape[1], out.shape[1], *stats(wall)[:1], statistics.median(cpu) * 1e3, *stats(wall)[1:], repeat))
    if order == "patch" and os.path.exists(folder + "/tome_groups.txt"):
        compare_groups(feats, np.loadtxt(folder + "/tome_groups.txt", dtype=np.int64))
    x = luma(imread(folder + "/image.png"))
    y = luma(imread(folder + "/recon.png"))
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        s = structural_similarity(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                  data_range=255)
        times.append(time.perf_counter() - t0)
    print("skimage ssim %dx%d         %8.2f ms  (median of %d, SSIM %.6f)"
          % (x.shape[1], x.shape[0], statistics.median(times) * 1e3, repeat, s))


if __name__ == "__main__":
    main()
