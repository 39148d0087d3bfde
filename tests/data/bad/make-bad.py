#!/usr/bin/python3
"""Writes the hostile-input catalogue tests/data/bad/ and its MANIFEST.

Run by hand after changing it (/usr/bin/python3 tests/data/bad/make-bad.py);
the outputs are committed and tests/test-hostile.c reads MANIFEST at run time,
so the tests never need Python. Standard library only; deterministic.

MANIFEST columns (tab-separated):
  file      name in this folder
  outcome   ok | BAD_DATA | TOO_LARGE | UNSUPPORTED | IO : what the core loader
            returns (images: ts_media_load_any with default limits; .npy:
            ts_npy_read; .json: ts_settings_load; .safetensors: ts_safetensors_open)
  exit      tokenscope-cli exit status (0 ok, 2 input error) of `grid FILE` and
            `report FILE` (images), `settings check FILE` (.json), `model info
            FILE` (.safetensors), or - when no CLI command reads the file alone
  what      the hostile feature
"""
import os
import struct
import zlib

here = os.path.dirname(os.path.abspath(__file__))
rows = []


def put(name, data, outcome, exit_code, what):
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)
    rows.append((name, outcome, str(exit_code), what))


# ---- PNG -------------------------------------------------------------------
def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


SIG = b"\x89PNG\r\n\x1a\n"


def png(w, h, colour=2, depth=8, rows_data=None, ihdr_extra=b"\x00\x00\x00"):
    ch = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour, 3)
    if rows_data is None:
        raw = b"".join(b"\x00" + bytes((x * 7 + y * 13 + c) % 256 for x in range(w) for c in range(ch))
                       for y in range(h))
        rows_data = zlib.compress(raw, 9)
    ihdr = struct.pack(">IIBB", w, h, depth, colour) + ihdr_extra
    return SIG + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows_data) + chunk(b"IEND", b"")


good = png(20, 20)
put("empty.png", b"", "BAD_DATA", 2, "0-byte file")
put("text.png", b"This is a text file that someone named .png\n", "BAD_DATA", 2, "text named .png")
put("html.jpg", b"<!DOCTYPE html><html><body>404 Not Found</body></html>\n", "BAD_DATA", 2,
    "an HTML error page saved as .jpg")
put("png-signature-only.png", SIG, "BAD_DATA", 2, "PNG signature and nothing else")
put("png-truncated-ihdr.png", good[:20], "BAD_DATA", 2, "PNG cut inside IHDR")
put("png-truncated-idat.png", good[:len(good) - 30], "BAD_DATA", 2, "PNG cut inside IDAT")
put("png-corrupt-zlib.png", png(20, 20, rows_data=b"\x78\x9c" + bytes(range(200, 255)) * 3), "BAD_DATA", 2,
    "IDAT that is not a zlib stream")
put("png-no-idat.png", SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)) + chunk(b"IEND", b""),
    "BAD_DATA", 2, "PNG without image data")
put("png-huge-ihdr.png", SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
    + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""), "TOO_LARGE", 2,
    "IHDR claims 100000 x 100000 (valid CRC): 10 gigapixels")
put("png-wide-ihdr.png", SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 16000000, 20, 8, 2, 0, 0, 0))
    + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""), "TOO_LARGE", 2,
    "IHDR claims 16000000 x 20: 320 megapixels in a thin strip")
put("png-zero-width.png", png(0, 5, rows_data=zlib.compress(b"\x00" * 5)), "BAD_DATA", 2, "IHDR width 0")
put("png-2g-width.png", SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 0x80000000, 1, 8, 2, 0, 0, 0))
    + chunk(b"IEND", b""), "TOO_LARGE", 2, "IHDR width 2^31 (stb itself says only 'unknown image type')")
put("png-bad-colour-type.png", png(4, 4, colour=5), "BAD_DATA", 2, "colour type 5 does not exist")
put("png-bad-depth.png", png(4, 4, depth=7), "BAD_DATA", 2, "bit depth 7 does not exist")
put("png-1x1.png", png(1, 1), "ok", 0, "1 x 1 image: loads, native resize pads it to one patch")
put("png-1x200.png", png(1, 200), "ok", 0, "1 x 200 image: loads, one column of patches")
put("png-13x13.png", png(13, 13, colour=6), "ok", 0, "13 x 13 RGBA, smaller than a 14-pixel patch")
put("png-16bit.png", png(3, 3, depth=16, rows_data=zlib.compress(b"".join(b"\x00" + b"\x12\x34" * 9 for _ in range(3)))),
    "ok", 0, "16-bit PNG (valid, converted to 8 bits)")

# ---- JPEG ------------------------------------------------------------------
def seg(marker, body):
    return b"\xff" + bytes([marker]) + struct.pack(">H", len(body) + 2) + body


def sof(w, h):
    return seg(0xC0, struct.pack(">BHHB", 8, h, w, 1) + b"\x01\x11\x00")


dqt = seg(0xDB, b"\x00" + bytes([1] * 64))
dht_ok = seg(0xC4, b"\x00" + bytes([0, 1] + [0] * 14) + b"\x00")
jpeg_head = b"\xff\xd8" + seg(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00") + dqt
put("jpeg-soi-only.jpg", b"\xff\xd8", "BAD_DATA", 2, "JPEG start marker and nothing else")
put("jpeg-truncated-header.jpg", jpeg_head[:30], "BAD_DATA", 2, "JPEG cut inside its quantisation table")
put("jpeg-huge-sof.jpg", jpeg_head + sof(65535, 65535) + dht_ok + b"\xff\xd9", "TOO_LARGE", 2,
    "SOF claims 65535 x 65535")
put("jpeg-zero-height.jpg", jpeg_head + sof(64, 0) + b"\xff\xd9", "BAD_DATA", 2, "SOF height 0 (DNL) ")
put("jpeg-no-sof.jpg", jpeg_head + dht_ok + b"\xff\xd9", "BAD_DATA", 2, "no frame header before EOI")
put("jpeg-dht-overflow.jpg", jpeg_head + seg(0xC4, b"\x00" + bytes([0, 255, 255] + [0] * 13) + bytes(range(256)) * 2)
    + sof(8, 8) + b"\xff\xd9", "BAD_DATA", 2,
    "Huffman table declaring 510 codes (overflows stb_image 2.27's tables)")
put("jpeg-fill-dht-overflow.png", b"\xff" * 40 + b"\xd8" + seg(0xC4, b"\x10" + bytes([200, 200] + [0] * 14)) + b"\xff\xd9",
    "BAD_DATA", 2, "fill bytes before SOI (stb still reads it as JPEG) hiding an overflowing Huffman table")
put("jpeg-garbage.jpg", b"\xff\xd8\xff" + bytes((i * 37 + 11) % 256 for i in range(300)), "BAD_DATA", 2,
    "JPEG signature followed by noise")

# ---- GIF -------------------------------------------------------------------
def gif(w, h, frames, frame_w=1, frame_h=1, palette=True, code_size=2, trailer=True, gce=0x00):
    out = b"GIF89a" + struct.pack("<HHBBB", w, h, 0x80 if palette else 0x00, 0, 0)
    if palette:
        out += b"\x00\x00\x00\xff\xff\xff"
    for _ in range(frames):
        out += b"\x21\xf9\x04" + bytes([gce]) + b"\x02\x00\x00\x00"         # graphic control, 20 ms
        out += b"\x2c" + struct.pack("<HHHHB", 0, 0, frame_w, frame_h, 0)
        out += bytes([code_size]) + b"\x02\x44\x01\x00"             # clear, 0, end (1 px)
    return out + (b"\x3b" if trailer else b"")


put("gif-header-only.gif", b"GIF89a\x01\x00", "BAD_DATA", 2, "GIF cut inside its screen descriptor")
put("gif-zero-frames.gif", gif(4, 4, 0), "BAD_DATA", 2, "a well-formed GIF with no frame")
put("gif-2001-frames.gif", gif(1, 1, 2001), "TOO_LARGE", 2, "2001 frames: over the 2000-frame limit")
put("gif-huge-screen.gif", gif(65535, 65535, 1), "TOO_LARGE", 2, "logical screen 65535 x 65535, one 1-pixel frame")
put("gif-frames-times-size.gif", gif(10000, 10000, 3), "TOO_LARGE", 2,
    "3 frames of 10000 x 10000: each under the pixel limit, together over it")
put("gif-no-palette.gif", gif(2, 2, 1, palette=False), "BAD_DATA", 2, "no global or local colour table")
put("gif-bad-code-size.gif", gif(2, 2, 1, code_size=13), "BAD_DATA", 2, "LZW minimum code size 13")
put("gif-truncated-frame.gif", gif(2, 2, 2)[:-5], "ok", 0,
    "second frame cut short: the complete first frame loads")
put("gif-no-trailer.gif", gif(2, 2, 2, trailer=False), "ok", 0, "missing trailer after complete frames")
put("gif-dispose-previous.gif", gif(2, 2, 4, gce=0x0C), "ok", 0,
    "4 frames with 'restore to previous' disposal (stb 2.27 reads before its buffer; decoded as restore to background)")
put("gif-cut-descriptor.gif", gif(2, 2, 2, trailer=False)[:-9], "ok", 0,
    "second image descriptor cut short (stb decodes it from zeros: counted as a frame)")
put("gif-1x1.gif", gif(1, 1, 1), "ok", 0, "1 x 1 GIF")

# ---- BMP -------------------------------------------------------------------
def bmp(w, h, bpp=24, pixels=None, size_field=None):
    row = (w * bpp // 8 + 3) & ~3 if w > 0 else 0
    data = pixels if pixels is not None else bytes((i * 5) % 256 for i in range(row * abs(h)))
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, bpp, 0, len(data), 2835, 2835, 0, 0)
    head = b"BM" + struct.pack("<IHHI", size_field or 54 + len(data), 0, 0, 54)
    return head + info + data


put("bmp-truncated-header.bmp", bmp(4, 4)[:20], "BAD_DATA", 2, "BMP cut inside its info header")
put("bmp-huge.bmp", bmp(100000, 100000, pixels=b"\x00" * 16), "TOO_LARGE", 2, "BMP claims 100000 x 100000")
put("bmp-bad-bpp.bmp", bmp(4, 4, bpp=7), "BAD_DATA", 2, "7 bits per pixel")
put("bmp-zero-width.bmp", bmp(0, 4, pixels=b""), "BAD_DATA", 2, "width 0")
put("bmp-truncated-pixels.bmp", bmp(8, 8)[:70], "BAD_DATA", 2,
    "pixel data cut short (refused before stb, which would fill the rest with black)")
put("bmp-top-down-1x1.bmp", bmp(1, -1), "ok", 0, "1 x 1 top-down BMP (negative height)")

# ---- TGA (no signature) ----------------------------------------------------
def tga(w, h, kind=2, bpp=24, data=None):
    head = struct.pack("<BBBHHBHHHHBB", 0, 0, kind, 0, 0, 0, 0, 0, w, h, bpp, 0)
    return head + (data if data is not None else b"\x40" * (w * h * bpp // 8))


put("tga-truncated.tga", tga(4, 4)[:10], "BAD_DATA", 2, "TGA cut inside its header")
put("tga-huge.tga", tga(65535, 65535, data=b"\x00" * 12), "TOO_LARGE", 2, "TGA claims 65535 x 65535")
put("tga-truncated-pixels.tga", tga(16, 16)[:100], "BAD_DATA", 2,
    "uncompressed TGA with 82 of 768 pixel bytes (stb 2.27 would return uninitialised memory)")
put("tga-bad-type.tga", tga(4, 4, kind=7), "BAD_DATA", 2, "image type 7 does not exist")
put("tga-bad-bpp.tga", tga(4, 4, bpp=13), "BAD_DATA", 2, "13 bits per pixel")

# ---- PNM -------------------------------------------------------------------
put("pnm-magic-only.ppm", b"P6\n", "BAD_DATA", 2, "PPM magic and nothing else")
put("pnm-huge.ppm", b"P6\n100000 100000\n255\n" + b"\x00" * 12, "TOO_LARGE", 2, "PPM claims 100000 x 100000")
put("pnm-maxval-70000.ppm", b"P6\n2 2\n70000\n" + b"\x00" * 24, "BAD_DATA", 2, "maxval 70000 (over 65535)")
put("pnm-truncated-pixels.pgm", b"P5\n16 16\n255\n" + b"\x80" * 100, "BAD_DATA", 2,
    "PGM with 100 of 256 pixels (stb 2.27 would return uninitialised memory)")
put("pnm-negative.ppm", b"P6\n-3 4\n255\n" + b"\x00" * 36, "BAD_DATA", 2, "negative width")
put("pnm-1x1.pgm", b"P5\n1 1\n255\n\x7f", "ok", 0, "1 x 1 PGM")

# ---- formats refused on purpose --------------------------------------------
put("psd-header.png", b"8BPS\x00\x01" + b"\x00" * 6 + b"\x00\x03\x00\x00\x00\x10\x00\x00\x00\x10\x00\x08\x00\x03"
    + b"\x00" * 12, "UNSUPPORTED", 2, "Photoshop data named .png (never handed to stb)")
put("hdr-loop.hdr", b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 4 +X 4\n" + b"\x02\x02\x00\x04" * 3,
    "UNSUPPORTED", 2, "Radiance HDR (stb 2.27 can loop on these: CVE-2021-42715)")


# ---- NPY -------------------------------------------------------------------
def npy(header, body, version=1):
    h = header
    pre = 10 if version == 1 else 12
    h += " " * ((64 - (pre + len(h) + 1) % 64) % 64) + "\n"
    if version == 1:
        head = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h))
    else:
        head = b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<I", len(h))
    return head + h.encode("latin1") + body


f32 = struct.pack("<12f", *[i / 4 for i in range(12)])
put("npy-ok.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", f32), "ok", "-",
    "a valid 3 x 4 float32 array (control)")
put("npy-fortran.npy", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4), }", f32), "ok", "-",
    "Fortran order: read and transposed into C order")
put("npy-lying-shape.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (300, 400), }", f32),
    "BAD_DATA", "-", "header promises 120000 values, file holds 12")
put("npy-truncated-data.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", f32[:30]),
    "BAD_DATA", "-", "data cut short by 18 bytes")
put("npy-shape-overflow.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647, 8), }", f32),
    "BAD_DATA", "-", "shape whose element count overflows 64 bits")
put("npy-negative-shape.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 12), }", f32),
    "BAD_DATA", "-", "negative dimension")
put("npy-int64.npy", npy("{'descr': '<i8', 'fortran_order': False, 'shape': (12,), }", f32 * 2),
    "UNSUPPORTED", "-", "int64 dtype")
put("npy-object.npy", npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", b"\x80\x04N."),
    "UNSUPPORTED", "-", "object dtype (pickles are never read)")
put("npy-complex.npy", npy("{'descr': '<c8', 'fortran_order': False, 'shape': (6,), }", f32),
    "UNSUPPORTED", "-", "complex64 dtype")
put("npy-header-past-end.npy", b"\x93NUMPY\x01\x00\xff\xff{'descr': '<f4'", "BAD_DATA", "-",
    "header length 65535 in a 26-byte file")
put("npy-version-9.npy", b"\x93NUMPY\x09\x00" + b"\x00" * 60, "UNSUPPORTED", "-", "format version 9")
put("npy-no-magic.npy", b"PK\x03\x04 this is a zip, maybe an .npz", "BAD_DATA", "-", "an .npz/zip named .npy")
put("npy-missing-shape.npy", npy("{'descr': '<f4', 'fortran_order': False, }", f32), "BAD_DATA", "-",
    "header without a shape")
put("npy-5d.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 3, 4), }", f32),
    "BAD_DATA", "-", "five dimensions")
put("npy-empty.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }", b""), "BAD_DATA", "-",
    "zero elements")
put("npy-bad-fortran.npy", npy("{'descr': '<f4', 'fortran_order': maybe, 'shape': (3, 4), }", f32), "BAD_DATA",
    "-", "fortran_order neither True nor False")
put("npy-v2-lying-header-len.npy", b"\x93NUMPY\x02\x00\xff\xff\xff\x7f{'descr': '<f4'}", "BAD_DATA", "-",
    "version 2 header length 2 GB")

# ---- settings JSON -----------------------------------------------------------
put("settings-empty.json", b"", "BAD_DATA", 2, "empty settings file")
put("settings-not-json.json", b"resize = pad\npatch = 14\n", "BAD_DATA", 2, "INI text, not JSON")
put("settings-array.json", b"[1, 2, 3]\n", "BAD_DATA", 2, "a JSON array instead of an object")
put("settings-truncated.json", b'{"tokenscope_settings": 1, "resize": {"policy": "pad", "si', "BAD_DATA", 2,
    "JSON cut mid-object")
put("settings-wrong-type-patch.json", b'{"tokenscope_settings": 1, "patch": "fourteen"}\n', "BAD_DATA", 2,
    "patch is a string")
put("settings-wrong-type-resize.json", b'{"tokenscope_settings": 1, "resize": 336}\n', "BAD_DATA", 2,
    "resize is a number, not an object")
put("settings-patch-range.json", b'{"tokenscope_settings": 1, "patch": 100000}\n', "BAD_DATA", 2,
    "patch 100000, outside 2..64")
put("settings-nan.json", b'{"tokenscope_settings": 1, "analysis": {"threshold": 1e999}}\n', "BAD_DATA", 2,
    "threshold 1e999 (infinity)")
put("settings-unknown-method.json", b'{"tokenscope_settings": 1, "method": "rm -rf /"}\n', "BAD_DATA", 2,
    "unknown method name")
put("settings-unknown-keys.json", b'{"tokenscope_settings": 1, "colour": "blue", "resize": {"policy": "pad", "size": 336, "dpi": 300}}\n',
    "ok", 0, "unknown members: warned about and ignored")
put("settings-missing-fields.json", b'{"tokenscope_settings": 1}\n', "ok", 0, "no members at all: the defaults")
put("settings-deep.json", b"[" * 5000 + b"]" * 5000, "BAD_DATA", 2, "5000 nested arrays")
put("settings-binary.json", bytes(range(256)), "BAD_DATA", 2, "binary garbage")


# ---- safetensors -------------------------------------------------------------
def st(header, data=b"", length=None):
    h = header.encode()
    return struct.pack("<Q", len(h) if length is None else length) + h + data


put("st-empty.safetensors", b"", "BAD_DATA", 2, "0-byte weights file")
put("st-short.safetensors", b"\x10\x00\x00", "BAD_DATA", 2, "shorter than the 8-byte header length")
put("st-huge-header-len.safetensors", st('{}', length=1 << 62), "BAD_DATA", 2, "header length 2^62")
put("st-header-past-end.safetensors", st('{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', length=4096),
    "BAD_DATA", 2, "header length past the end of the file")
put("st-not-json.safetensors", st("this is not json"), "BAD_DATA", 2, "header that is not JSON")
put("st-offsets-past-end.safetensors", st('{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}', b"\0" * 8),
    "BAD_DATA", 2, "tensor data past the end of the file")
put("st-shape-mismatch.safetensors", st('{"w": {"dtype": "F32", "shape": [3, 3], "data_offsets": [0, 8]}}', b"\0" * 8),
    "BAD_DATA", 2, "shape 3 x 3 for 8 bytes")
put("st-shape-overflow.safetensors", st('{"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 4]}}', b"\0" * 4),
    "BAD_DATA", 2, "shape whose element count overflows")
put("st-negative-offsets.safetensors", st('{"w": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}}', b"\0" * 8),
    "BAD_DATA", 2, "end offset before begin")
put("st-int-dtype.safetensors", st('{"w": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}}', b"\0" * 8),
    "UNSUPPORTED", 2, "int64 tensor")


with open(os.path.join(here, "MANIFEST"), "w") as f:
    f.write("# file\toutcome\texit\twhat  (written by make-bad.py; see its docstring)\n")
    for r in rows:
        f.write("\t".join(r) + "\n")
print(len(rows), "files")
