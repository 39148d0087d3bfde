#!/usr/bin/python3
"""Independent re-implementation of the VLM token rules (REFERENCE 8), written
from the models' Python preprocessing code (HF transformers, InternVL,
DeepSeek-OCR, OpenAI's published tile rule), used to cross-check the hand
derivations pasted into tests/test-vlm.c. Not run by the test suite."""
import math

SIZES = [(1024, 768), (1920, 1080), (336, 336), (100, 100), (640, 480), (4000, 3000),
         (800, 1200), (3000, 500), (448, 448), (1280, 720), (2048, 4096), (300, 2000)]

def llava_next(W, H):
    pins = [(336, 672), (672, 336), (672, 672), (1008, 336), (336, 1008)]  # (h, w)
    best, be, bw_ = None, -1, 1e18
    for h, w in pins:
        s = min(w / W, h / H)
        eff = min(int(W * s) * int(H * s), W * H)
        waste = w * h - eff
        if eff > be or (eff == be and waste < bw_):
            best, be, bw_ = (h, w), eff, waste
    bh, bw = best
    ch, cw = 24 * bh // 336, 24 * bw // 336
    if W / H > cw / ch:
        nh = int(math.floor(H * cw / W + 0.5))
        ch -= 2 * ((ch - nh) // 2)
    else:
        nw = int(math.floor(W * ch / H + 0.5))
        cw -= 2 * ((cw - nw) // 2)
    return 576 + ch * cw + ch, (bw, bh)

def qwen(W, H, mx, mn=3136, f=28):
    h = max(f, round(H / f) * f)
    w = max(f, round(W / f) * f)
    if h * w > mx:
        b = math.sqrt(H * W / mx)
        h = max(f, math.floor(H / b / f) * f)
        w = max(f, math.floor(W / b / f) * f)
    elif h * w < mn:
        b = math.sqrt(mn / (H * W))
        h = math.ceil(H * b / f) * f
        w = math.ceil(W * b / f) * f
    return (h // f) * (w // f), (w, h)

def internvl_grid(W, H, mn, mx, size):
    ratios = sorted(set((i, j) for n in range(mn, mx + 1) for i in range(1, n + 1)
                        for j in range(1, n + 1) if mn <= i * j <= mx), key=lambda x: x[0] * x[1])
    ar = W / H
    bd, br = float('inf'), (1, 1)
    for r in ratios:
        d = abs(ar - r[0] / r[1])
        if d < bd:
            bd, br = d, r
        elif d == bd and W * H > 0.5 * size * size * r[0] * r[1]:
            br = r
    return br

def internvl(W, H):
    i, j = internvl_grid(W, H, 1, 12, 448)
    t = i * j
    return 256 * (t + (1 if t > 1 else 0)), (448 * i, 448 * j)

def gundam(W, H):
    if W <= 640 and H <= 640:
        return 256, (1024, 1024)
    i, j = internvl_grid(W, H, 2, 9, 640)
    return 100 * i * j + 256, (640 * i, 640 * j)

def gpt4o(W, H):
    w, h = W, H
    if w > 2048 or h > 2048:
        r = w / h
        if r > 1:
            w, h = 2048, int(2048 / r)
        else:
            w, h = int(2048 * r), 2048
    if w >= h and h > 768:
        w, h = int((768 / h) * w), 768
    elif h > w and w > 768:
        w, h = 768, int((768 / w) * h)
    return 85 + 170 * math.ceil(w / 512) * math.ceil(h / 512), (w, h)

def claude(W, H):
    w, h = W, H
    if max(w, h) > 1568:
        s = 1568 / max(w, h)
        w, h = int(math.floor(w * s + 0.5)), int(math.floor(h * s + 0.5))
    return math.ceil(w * h / 750), (w, h)

def vit(W, H, S=224, P=16):
    return (S // P) ** 2, (S, S)

for name, fn in [("llava-next", llava_next), ("qwen2-vl", lambda W, H: qwen(W, H, 1003520)),
                 ("qwen2-vl-config", lambda W, H: qwen(W, H, 12845056)), ("internvl2.5", internvl),
                 ("deepseek-ocr-gundam", gundam), ("gpt-4o-high", gpt4o), ("claude", claude)]:
    print(name)
    for W, H in SIZES:
        t, (rw, rh) = fn(W, H)
        print("    { %d, %d, %d, %d, %d }," % (W, H, t, rw, rh))
