#!/usr/bin/python3
"""Writes the NumPy-made .npy files in tests/data/ that tests/test-npy.c reads
(run by hand with Debian's numpy, never in CI): real np.save output, so the
parser is checked against NumPy itself and not only against our own writer.
Usage: /usr/bin/python3 tests/golden/make_npy.py
"""
import os
import numpy as np

out = os.path.join(os.path.dirname(__file__), "..", "data")
# values v[i, j] = i * 10 + j / 4 are exact in float16, float32 and float64
base = np.array([[i * 10 + j / 4 for j in range(5)] for i in range(6)])
np.save(os.path.join(out, "numpy-f32-6x5.npy"), base.astype("<f4"))
np.save(os.path.join(out, "numpy-f16-6x5.npy"), base.astype("<f2"))
np.save(os.path.join(out, "numpy-f64be-6x5.npy"), base.astype(">f8"))
np.save(os.path.join(out, "numpy-f32-fortran-6x5.npy"), np.asfortranarray(base.astype("<f4")))
# [rows, cols, D] = [2, 3, 5]: the same 30 values
np.save(os.path.join(out, "numpy-f32-2x3x5.npy"), base.astype("<f4").reshape(2, 3, 5))
