#!/usr/bin/python3
"""Independent SSIM/PSNR values for tests/test-quality.c (run by hand, never in CI).

Builds the same deterministic pictures as tests/ts-test-util.c and prints
skimage's SSIM on luma (REFERENCE 5) and PSNR on RGB.
Usage: /usr/bin/python3 tests/golden/ssim_golden.py
"""
import numpy as np
from skimage.metrics import structural_similarity, peak_signal_noise_ratio


def gradient(w, h):
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([(3 * x + y) % 256, (x * y) % 256, (5 * y + 2 * x) % 256], -1).astype(np.uint8)


def noisy(img, seed, amp):
    flat = img.reshape(-1).astype(np.int64).copy()
    state = seed
    for i in range(flat.size):
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        flat[i] = min(255, max(0, flat[i] + ((state >> 16) % (2 * amp + 1)) - amp))
    return flat.reshape(img.shape).astype(np.uint8)


def luma(img):
    f = img.astype(np.float64)
    return 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]


def ssim(a, b):
    return structural_similarity(luma(a), luma(b), gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False, data_range=255)


cases = [
    ("gradient 64x48 vs noisy(seed 1, amp 20)", gradient(64, 48), noisy(gradient(64, 48), 1, 20)),
    ("gradient 33x17 vs noisy(seed 7, amp 60)", gradient(33, 17), noisy(gradient(33, 17), 7, 60)),
    ("gradient 100x80 vs noisy(seed 42, amp 5)", gradient(100, 80), noisy(gradient(100, 80), 42, 5)),
]
for name, a, b in cases:
    print(f"{name}: ssim {ssim(a, b):.10f} psnr {peak_signal_noise_ratio(a, b, data_range=255):.10f}")

# Real pictures: the committed samples (tests/test-cli.c runs `tokenscope-cli quality` on them).
import os
from skimage.io import imread

samples = os.path.join(os.path.dirname(__file__), "..", "..", "resources", "samples")
city = imread(os.path.join(samples, "01-city-sky.png"))[..., :3]
bricks = imread(os.path.join(samples, "02-bricks.png"))[..., :3]
cat = imread(os.path.join(samples, "06-photo-cat.png"))[..., :3]
print(f"01-city-sky.png vs 02-bricks.png: ssim {ssim(city, bricks):.10f} "
      f"psnr {peak_signal_noise_ratio(city, bricks, data_range=255):.10f}")
cat_shift = np.roll(cat, 3, axis=1)  # every row moved 3 px right, wrapping around
print(f"06-photo-cat.png vs itself rolled 3 px right: ssim {ssim(cat, cat_shift):.10f} "
      f"psnr {peak_signal_noise_ratio(cat, cat_shift, data_range=255):.10f}")
