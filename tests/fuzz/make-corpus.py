#!/usr/bin/python3
"""Writes the small seed corpora for the fuzz targets (run once by hand; the
outputs are committed). Needs Debian's python3-pil and python3-numpy.

  /usr/bin/python3 tests/fuzz/make-corpus.py
"""
import io
import os
import struct

import numpy as np
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))


def save(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def picture(w, h, mode="RGB"):
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([(3 * x + y) % 256, (x * y) % 256, (5 * y + 2 * x) % 256], -1).astype(np.uint8)
    im = Image.fromarray(rgb, "RGB")
    return im.convert(mode) if mode != "RGB" else im


def encode(im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


# image: one small valid file per format stb reads, plus variants
save("image", "rgb.png", encode(picture(16, 9), "PNG"))
save("image", "rgba.png", encode(picture(5, 7, "RGBA"), "PNG"))
save("image", "grey.png", encode(picture(6, 3, "L"), "PNG"))
save("image", "palette.png", encode(picture(8, 8, "P"), "PNG"))
save("image", "square.png", encode(picture(9, 9), "PNG"))
save("image", "baseline.jpg", encode(picture(16, 16), "JPEG", quality=50))
save("image", "progressive.jpg", encode(picture(17, 9), "JPEG", quality=30, progressive=True))
save("image", "grey.jpg", encode(picture(8, 8, "L"), "JPEG", quality=40))
save("image", "rgb.bmp", encode(picture(5, 3), "BMP"))
save("image", "palette.bmp", encode(picture(4, 4, "P"), "BMP"))
save("image", "rgb.tga", encode(picture(4, 3), "TGA"))
save("image", "rle.tga", encode(picture(6, 2), "TGA", compression="tga_rle"))
save("image", "rgb.ppm", encode(picture(3, 2), "PPM"))
save("image", "grey.pgm", encode(picture(3, 2, "L"), "PPM"))
frames = [picture(6, 5, "P"), picture(6, 5, "P").transpose(Image.FLIP_LEFT_RIGHT)]
anim = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=[40, 80], loop=0)
save("image", "anim.gif", anim)
save("image", "still.gif", encode(picture(7, 3, "P"), "GIF"))

# gif: the same GIFs without their 6-byte signature (the target prepends GIF89a)
save("gif", "anim", anim[6:])
save("gif", "still", encode(picture(7, 3, "P"), "GIF")[6:])
three = [picture(4, 4, "P").rotate(90 * i) for i in range(3)]
save("gif", "three", encode(three[0], "GIF", save_all=True, append_images=three[1:], duration=30)[6:])
save("gif", "empty", b"\x01\x00\x01\x00\x00\x00\x00;")


# npy: every dtype and layout the reader accepts
def npy(arr, version=1, fortran=False):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        arr.dtype.str, "True" if fortran else "False", str(tuple(arr.shape)))
    pre = 10 if version == 1 else 12
    pad = (64 - (pre + len(header) + 1) % 64) % 64
    header = header + " " * pad + "\n"
    if version == 1:
        head = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header))
    else:
        head = b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<I", len(header))
    body = arr.tobytes(order="F" if fortran else "C")
    return head + header.encode("latin1") + body


a = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
save("npy", "f32.npy", npy(a))
save("npy", "f16.npy", npy(a.astype(np.float16)))
save("npy", "f64be.npy", npy(a.astype(">f8")))
save("npy", "fortran.npy", npy(a, fortran=True))
save("npy", "v2-3d.npy", npy(np.ones((1, 2, 3), np.float32), version=2))
save("npy", "v3-1d.npy", npy(np.linspace(-1, 1, 5).astype(np.float32), version=3))
save("npy", "4d.npy", npy(np.zeros((1, 1, 2, 2), np.float32)))
save("npy", "subnormal.npy", npy(np.array([1e-7, -6e-8, 65504, np.inf], np.float16)))


# safetensors: an 8-byte little-endian header length, a JSON header, the data
def safetensors(tensors, metadata=None):
    import json
    header, blob = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + blob


w = np.arange(6, dtype=np.float32) / 3
save("safetensors", "f32.safetensors", safetensors({"w": ("F32", [2, 3], w.tobytes())}, {"format": "pt"}))
save("safetensors", "mixed.safetensors", safetensors({
    "a.weight": ("F16", [3], w[:3].astype(np.float16).tobytes()),
    "b.bias": ("BF16", [2], (w[:2].view(np.uint32) >> 16).astype(np.uint16).tobytes()),
    "scalar": ("F32", [], np.float32(2.5).tobytes()),
}))
save("safetensors", "empty.safetensors", safetensors({}))
