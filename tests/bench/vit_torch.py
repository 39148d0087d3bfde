#!/usr/bin/python3
"""PyTorch side of tests/bench/bench-vit.c: the same ViT-B/16 at 224 (random
weights, fp32, timm-style pre-LN blocks, GELU), forward time with 1 and 2
threads, median of N runs after one warm-up. torch.set_num_threads only sets
the intra-op (OpenMP) threads: Debian's torch runs its GEMMs in the system
OpenBLAS, which keeps its own thread count (all cores by default), so the
OpenBLAS threads are set too, through threadpoolctl (otherwise "1 thread"
runs its GEMMs on 2 cores). 2 threads are timed as intra-op 2 + BLAS 2 and
as intra-op 1 + BLAS 2; compare with the faster of the two.

  /usr/bin/python3 tests/bench/vit_torch.py [runs] [--large]
--large: one ViT-L/14 forward at 336 (for /usr/bin/time -v peak RSS)."""
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from threadpoolctl import threadpool_info, threadpool_limits


class Block(nn.Module):
    def __init__(self, d, heads, mlp):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(d, eps=1e-6), nn.LayerNorm(d, eps=1e-6)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, mlp), nn.Linear(mlp, d)

    def forward(self, x):
        n, d = x.shape[1], x.shape[2]
        q, k, v = self.qkv(self.norm1(x)).reshape(1, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = (q @ k.transpose(-2, -1) * (d // self.heads) ** -0.5).softmax(-1)
        x = x + self.proj((a @ v).transpose(1, 2).reshape(1, n, d))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    def __init__(self, patch, d, depth, heads, mlp, grid):
        super().__init__()
        self.patch = nn.Conv2d(3, d, patch, patch)
        self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, grid * grid + 1, d) * 0.02)
        self.blocks = nn.ModuleList(Block(d, heads, mlp) for _ in range(depth))
        self.norm = nn.LayerNorm(d, eps=1e-6)

    def forward(self, img):
        x = self.patch(img).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls, x], 1) + self.pos
        for b in self.blocks:
            x = b(x)
        return self.norm(x)[:, 0]


def median_ms(model, img, runs):
    """Median wall and process-CPU milliseconds per forward."""
    times, cpu = [], []
    with torch.inference_mode():
        model(img)
        for _ in range(runs):
            t0, c0 = time.perf_counter(), time.process_time()
            model(img)
            times.append((time.perf_counter() - t0) * 1e3)
            cpu.append((time.process_time() - c0) * 1e3)
    return statistics.median(times), statistics.median(cpu)


def set_threads(threads, blas=None):
    """Intra-op threads and the BLAS threads behind torch's GEMMs (default: the
    same number); returns a description."""
    torch.set_num_threads(threads)
    threadpool_limits(limits=blas or threads, user_api="blas")
    blas = [f"{p['internal_api']} {p['version']} {p.get('architecture', '')}: {p['num_threads']}"
            for p in threadpool_info() if p["user_api"] == "blas"]
    return f"torch {torch.get_num_threads()}, " + ", ".join(blas)


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 7
    torch.manual_seed(0)
    print(f"# torch {torch.__version__}, {torch.__config__.parallel_info().splitlines()[0]}")
    if "--large" in sys.argv:
        print(f"# threads: {set_threads(2)}")
        model = ViT(14, 1024, 24, 16, 4096, 24).eval()
        print(f"ViT-L/14 @ 336, 2 threads: {median_ms(model, torch.rand(1, 3, 336, 336), 1)[0]:.1f} ms")
        return
    model = ViT(16, 768, 12, 12, 3072, 14).eval()
    img = torch.rand(1, 3, 224, 224)
    print(f"# ViT-B/16 @ 224, fp32, median of {runs} runs")
    # 2 threads twice: intra-op 2 (its OpenMP threads spin between ops and
    # compete with the BLAS threads) and intra-op 1 with 2 BLAS threads
    # (Debian torch's default here); compare with the faster.
    for threads, blas in ((1, 1), (2, 2), (1, 2)):
        print(f"# threads: {set_threads(threads, blas)}")
        wall, cpu = median_ms(model, img, runs)
        print(f"torch ViT-B/16 @ 224, {threads} intra-op thread{'s' if threads > 1 else ''}, {blas} BLAS: "
              f"{wall:.1f} ms wall, {cpu:.1f} ms CPU")


if __name__ == "__main__":
    main()
