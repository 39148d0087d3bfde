#!/usr/bin/python3
"""Expected ToMe matching for tests/test-tome.c, from the official algorithm.

bipartite_soft_matching below follows facebookresearch/ToMe tome/merge.py
(class_token / distill_token protection, A = even, B = odd, argsort of the
best-edge scores, top r merged). Inputs come from the same LCG the C test
uses, so the C side can rebuild them. Prints, per case, the destination of
every token (its own index when it stays), ready to paste into the test.
Run: python3 tests/golden/tome_golden.py (Debian python3-torch)."""
import math

import torch


def lcg_matrix(n, d, seed):
    s = seed & 0x7FFFFFFF
    out = []
    for _ in range(n * d):
        s = (s * 1103515245 + 12345) & 0x7FFFFFFF
        out.append((s >> 8) / float(1 << 23) - 0.5)
    return torch.tensor(out, dtype=torch.float32).reshape(1, n, d)


def bipartite_soft_matching(metric, r, class_token=False, distill_token=False):
    protected = 0
    if class_token:
        protected += 1
    if distill_token:
        protected += 1
    t = metric.shape[1]
    r = min(r, (t - protected) // 2)
    if r <= 0:
        return None
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
        src_idx = edge_idx[..., :r, :]
        dst_idx = node_idx[..., None].gather(dim=-2, index=src_idx)
    return r, src_idx[0, :, 0].tolist(), dst_idx[0, :, 0].tolist()


CASES = [  # n, d, r, protected, seed
    (12, 5, 4, 0, 1),
    (13, 4, 6, 1, 2),
    (16, 6, 5, 2, 3),
    (21, 3, 10, 0, 4),
    (9, 8, 2, 1, 5),
]

for n, d, r, prot, seed in CASES:
    x = lcg_matrix(n, d, seed)
    res = bipartite_soft_matching(x, r, class_token=prot >= 1, distill_token=prot >= 2)
    dst = list(range(n))
    if res is not None:
        r_eff, src, dsts = res
        for i, j in zip(src, dsts):
            dst[2 * i] = 2 * j + 1
    print("  { %d, %d, %d, %d, %d, { %s } }," % (n, d, r, prot, seed, ", ".join(map(str, dst))))
