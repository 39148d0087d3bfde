#!/usr/bin/python3
"""PyTorch reference for bench-methods: official-style ToMe 2304 -> 576 and skimage SSIM.

Usage:
  build/tests/bench-methods --export /tmp/tsbench [IMAGE]
  /usr/bin/python3 tests/bench/tome_torch.py /tmp/tsbench [--repeat 5]

ToMe is facebookresearch/ToMe's bipartite_soft_matching + merge_wavg (tome/merge.py),
applied to the same pixel features (features.npy) with the same schedule as
TokenScope (r = min(n - target, n // 2) per step, size-weighted), the features
themselves as the metric. Timing is the median of --repeat runs, on CPU with
torch's default threads. SSIM is skimage.metrics.structural_similarity on the
luma of image.png and recon.png with gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=255 (what ts_ssim reproduces).
The machine is shared: compare medians taken side by side."""
import math
import statistics
import sys
import time

import numpy as np
import torch
from skimage.io import imread
from skimage.metrics import structural_similarity


def do_nothing(x, mode=None):
    return x


def bipartite_soft_matching(metric, r, class_token=False, distill_token=False):
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


def tome(x, target):
    size = torch.ones_like(x[..., 0, None])
    while x.shape[1] > target:
        n = x.shape[1]
        r = min(n - target, n // 2)
        merge, _ = bipartite_soft_matching(x, r)
        x, size = merge_wavg(merge, x, size)
    return x, size


def luma(img):
    img = img[..., :3].astype(np.float64)
    return 0.299 * img[..., 0] + 0.587 * img[..., 1] + 0.114 * img[..., 2]


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "/tmp/tsbench"
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 5
    feats = torch.from_numpy(np.load(folder + "/features.npy").astype(np.float32))[None]
    print("torch %s, %d threads; features %s" % (torch.__version__, torch.get_num_threads(), tuple(feats.shape)))
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out, size = tome(feats, 576)
        times.append(time.perf_counter() - t0)
    print("torch tome %d -> %d          %9.2f ms (median of %d)" % (feats.shape[1], out.shape[1],
                                                                   statistics.median(times) * 1e3, repeat))
    x = luma(imread(folder + "/image.png"))
    y = luma(imread(folder + "/recon.png"))
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        s = structural_similarity(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                  data_range=255)
        times.append(time.perf_counter() - t0)
    print("skimage ssim %dx%d           %9.2f ms (median of %d, SSIM %.6f)" % (x.shape[1], x.shape[0],
                                                                            statistics.median(times) * 1e3, repeat, s))


if __name__ == "__main__":
    main()
