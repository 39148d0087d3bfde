#!/usr/bin/python3
"""Writes a random ViT of a real checkpoint's shape and naming to a
.safetensors file (for benchmarks and peak-RSS measurements; nothing is
downloaded). Uses the writers of tests/golden/make_vit_golden.py.

  /usr/bin/python3 tests/bench/make_random_vit.py clip-l14-336 /tmp/clip-l14-336.safetensors [F16|BF16|F32]
Shapes: clip-l14-336 (openai/clip-vit-large-patch14-336), vit-b16-224 (timm
vit_base_patch16_224), siglip-so400m-384, dinov2-base."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
import make_vit_golden as g  # noqa: E402

SHAPES = {
    # naming, patch, width, depth, mlp, grid, cls
    "clip-l14-336": ("clip", 14, 1024, 24, 4096, 24, True),
    "vit-b16-224": ("timm", 16, 768, 12, 3072, 14, True),
    "siglip-so400m-384": ("siglip", 14, 1152, 27, 4304, 27, False),
    "dinov2-base": ("dinov2", 14, 768, 12, 3072, 37, True),
}


def main():
    shape, path = sys.argv[1], sys.argv[2]
    dtype = sys.argv[3] if len(sys.argv) > 3 else "F16"
    naming, patch, width, depth, mlp, grid, cls = SHAPES[shape]
    g.D, g.DEPTH, g.MLP = width, depth, mlp
    rng = np.random.default_rng(0)
    pos_tokens = grid * grid + (1 if cls else 0)
    p = g.make_params(rng, patch, pos_tokens, cls, 0, naming == "dinov2", "F32", head=naming == "siglip")
    names = {"timm": g.names_timm, "clip": lambda q: g.names_hf_clip(q, False),
             "siglip": lambda q: g.names_hf_clip(q, True), "dinov2": g.names_dinov2}[naming](p)
    g.write_safetensors(path, names, dtype)
    print(f"{path}: {shape} ({naming} naming, {dtype}), {os.path.getsize(path) / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
