#!/usr/bin/python3
"""Builds a folder of real photos plus bad files for trying `tokenscope-cli dataset`
end to end (outside CI; docs/dataset.md, "200 real photos").

    /usr/bin/python3 tests/bench/make_photo_folder.py OUT [--count 200] [--bad 12] [--seed 1]

The sources are the real photographs that ship with scikit-image, scikit-learn and
matplotlib (astronaut, coffee, chelsea, rocket, retina, china, flower, grace_hopper ...).
Each good file is a random crop (40-100 % of each side) of one source, scaled so its long
side is 160..640 pixels, maybe mirrored, saved as PNG, JPEG, BMP, TGA or GIF in one of a
few sub-folders. The bad files are truncated JPEGs and PNGs, text saved as .png, empty
files and random bytes named .jpg: the dataset run must record each with its error and
go on. Deterministic for a given seed.
"""
import argparse
import glob
import io
import os
import random

import numpy as np
from PIL import Image

SOURCES = [
    "/usr/lib/python3/dist-packages/skimage/data/astronaut.png",
    "/usr/lib/python3/dist-packages/skimage/data/coffee.png",
    "/usr/lib/python3/dist-packages/skimage/data/chelsea.png",
    "/usr/lib/python3/dist-packages/skimage/data/rocket.jpg",
    "/usr/lib/python3/dist-packages/skimage/data/retina.jpg",
    "/usr/lib/python3/dist-packages/skimage/data/hubble_deep_field.jpg",
    "/usr/lib/python3/dist-packages/skimage/data/motorcycle_left.png",
    "/usr/lib/python3/dist-packages/skimage/data/camera.png",
    "/usr/lib/python3/dist-packages/skimage/data/moon.png",
    "/usr/lib/python3/dist-packages/skimage/data/coins.png",
    "/usr/lib/python3/dist-packages/skimage/data/grass.png",
    "/usr/lib/python3/dist-packages/skimage/data/gravel.png",
    "/usr/lib/python3/dist-packages/skimage/data/brick.png",
    "/usr/lib/python3/dist-packages/skimage/data/ihc.png",
    "/usr/lib/python3/dist-packages/skimage/data/page.png",
    "/usr/lib/python3/dist-packages/sklearn/datasets/images/china.jpg",
    "/usr/lib/python3/dist-packages/sklearn/datasets/images/flower.jpg",
    "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg",
]
FORMATS = [("png", "PNG"), ("jpg", "JPEG"), ("bmp", "BMP"), ("tga", "TGA"), ("gif", "GIF")]
FOLDERS = ["", "street", "nature/close", "scans"]


def variant(src, rng):
    w, h = src.size
    cw = int(w * rng.uniform(0.4, 1.0))
    ch = int(h * rng.uniform(0.4, 1.0))
    x = rng.randrange(0, w - cw + 1)
    y = rng.randrange(0, h - ch + 1)
    img = src.crop((x, y, x + cw, y + ch))
    long_side = rng.randrange(160, 641)
    s = long_side / max(cw, ch)
    img = img.resize((max(16, round(cw * s)), max(16, round(ch * s))), Image.LANCZOS)
    if rng.random() < 0.5:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    return img


def bad_files(out, n, rng, good_paths):
    made = []
    kinds = ["truncated-jpg", "truncated-png", "text-as-png", "empty", "random-bytes"]
    for i in range(n):
        kind = kinds[i % len(kinds)]
        if kind.startswith("truncated"):
            ext = kind.split("-")[1]
            donors = [p for p in good_paths if p.endswith("." + ext)]
            data = open(rng.choice(donors), "rb").read()
            data = data[: max(64, len(data) // rng.randrange(3, 9))]
            name = f"bad-{i:02d}-truncated.{ext}"
        elif kind == "text-as-png":
            data = b"this is a note, not a picture\n" * 20
            name = f"bad-{i:02d}-text.png"
        elif kind == "empty":
            data = b""
            name = f"bad-{i:02d}-empty.{rng.choice(['png', 'jpg', 'gif'])}"
        else:
            data = bytes(rng.randrange(256) for _ in range(4096))
            name = f"bad-{i:02d}-noise.jpg"
        path = os.path.join(out, "broken" if i % 2 else "", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        made.append(path)
    return made


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=200, help="files in all, good and bad")
    ap.add_argument("--bad", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    sources = [(os.path.splitext(os.path.basename(p))[0], Image.open(p).convert("RGB"))
               for p in SOURCES if os.path.exists(p)]
    good = []
    for i in range(args.count - args.bad):
        name, src = sources[i % len(sources)]
        ext, fmt = FORMATS[(i // len(sources) + i) % len(FORMATS)]
        img = variant(src, rng)
        if i % 7 == 3:
            img = img.convert("L")  # some greyscale files
        folder = os.path.join(args.out, FOLDERS[i % len(FOLDERS)])
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"{name}-{i:03d}.{ext}")
        if fmt == "GIF":
            img = img.convert("P", palette=Image.ADAPTIVE)
        kw = {"quality": rng.randrange(60, 96)} if fmt == "JPEG" else {}
        img.save(path, fmt, **kw)
        good.append(path)
    bad = bad_files(args.out, args.bad, rng, good)
    with open(os.path.join(args.out, "README.txt"), "w") as f:
        f.write("made by tests/bench/make_photo_folder.py; not an image (skipped by the dataset run)\n")
    print(f"{args.out}: {len(good)} photos from {len(sources)} sources, {len(bad)} bad files")


if __name__ == "__main__":
    main()
