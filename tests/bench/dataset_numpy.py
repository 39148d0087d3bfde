#!/usr/bin/python3
"""The `tokenscope-cli dataset` sweep written in numpy + scikit-image, for the throughput
comparison in README (issue #5). Outside CI; the product never needs Python.

    /usr/bin/python3 tests/bench/dataset_numpy.py FOLDER [--jobs 1|2] [--limit N]
                     [--out images.jsonl] [--check TOKENSCOPE_RUN/images.jsonl]

Per image, like the C tool with its defaults: native resize (crop to a multiple of the
patch 14), pixel features (CLIP-normalised RGB of each patch), every registered method
(downsample, pool, tome, greedy, optical, prune, visionzip, prumerge, resample, adaptive)
at ratios 1 2 4 8 16 32, each point reconstructed and measured with SSIM
(skimage.metrics.structural_similarity on luma: Gaussian sigma 1.5, K1 0.01, K2 0.03,
population moments, data range 255: the settings of core/ts-quality.c), PSNR and feature
retention; plus the k-means token entropy (k = 256, classic k-means++, 20 Lloyd rounds).
Images are spread over --jobs worker processes (as `dataset --jobs`); with one job numpy's
BLAS keeps its own threads, with more each worker uses one (as the C tool does).
Prints images/s. --check compares the numbers with a tokenscope run on the same folder.

Each method is a vectorised port of core/ts-<method>.c (docs/methods-*.md) with the same
defaults; ties and float rounding may differ, so individual points can differ slightly
(greedy's and k-means' tie-breaking above all); --check prints the differences.
"""
import argparse
import heapq
import json
import math
import os
import resource
import sys
import time

P = 14
RATIOS = [1, 2, 4, 8, 16, 32]
METHODS = ["downsample", "pool", "tome", "greedy", "optical", "prune", "visionzip", "prumerge", "resample",
           "adaptive"]
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tga", ".gif")

np = Image = ssim_fn = None  # imported in main(), after the BLAS thread count is set


class Unreachable(Exception):
    pass


# ---- the scene: image, grid, features ----------------------------------------------

def load(path):
    im = Image.open(path)
    im.load()
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba)
    a = np.asarray(im.convert("RGB"), dtype=np.uint8)
    h, w = a.shape[:2]
    H, W = max(1, h // P) * P, max(1, w // P) * P
    if H > h or W > w:  # smaller than a patch: pad with the mean colour (ts_resize_apply)
        out = np.empty((H, W, 3), np.uint8)
        out[:] = np.round(a.reshape(-1, 3).mean(0)).astype(np.uint8)
        out[:h, :w] = a[:H, :W]
        return out, (w, h)
    return np.ascontiguousarray(a[:H, :W]), (w, h)


def patches(img):
    """n x (3 P^2) in raster order, each row y, x, channel."""
    H, W = img.shape[:2]
    rows, cols = H // P, W // P
    return img.reshape(rows, P, cols, P, 3).transpose(0, 2, 1, 3, 4).reshape(rows * cols, 3 * P * P)


def pixel_features(img):
    lut = ((np.arange(256, dtype=np.float32)[None, :] / 255.0 - np.array(CLIP_MEAN, np.float32)[:, None])
           / np.array(CLIP_STD, np.float32)[:, None])  # 3 x 256
    p = patches(img)
    ch = np.tile(np.arange(3), P * P)
    return lut[ch[None, :], p].astype(np.float32)


def unit(x):
    n = np.sqrt((x.astype(np.float64) ** 2).sum(1))
    out = np.zeros_like(x, dtype=np.float32)
    ok = n > 0
    out[ok] = (x[ok] / n[ok, None]).astype(np.float32)
    return out


class Scene:
    def __init__(self, img):
        self.img = img
        self.rows, self.cols = img.shape[0] // P, img.shape[1] // P
        self.n = self.rows * self.cols
        self.f = pixel_features(img)
        self.xn = unit(self.f)
        self.patches = patches(img).astype(np.float32)
        self._imp = None

    def importance(self):
        """softmax((1 - mean cos) / 0.1): ts_attention_importance without a model."""
        if self._imp is None:
            distinct = 1.0 - self.xn @ self.xn.mean(0)
            z = distinct / np.float32(0.1)
            e = np.exp(z - z.max())
            self._imp = (e / e.astype(np.float64).sum()).astype(np.float32)
        return self._imp


def target(n, ratio):
    return int(min(max(int(math.floor(n / ratio + 0.5)), 1), n))


def group_means(groups, n_out, f):
    kept = groups >= 0
    out = np.zeros((n_out, f.shape[1]), np.float64)
    np.add.at(out, groups[kept], f[kept])
    size = np.bincount(groups[kept], minlength=n_out)
    out[size > 0] /= size[size > 0, None]
    return out.astype(np.float32), size


class Assignment:
    """groups: output token of each patch (-1 dropped); features: n_out x d; recon: how the
    image is rebuilt ('region' with regions [x, y, w, h], 'downsample', 'mean', 'mix')."""

    def __init__(self, groups, n_out, features, recon, regions=None, down=None, mix=None):
        self.groups, self.n_out, self.features = groups, n_out, features
        self.recon, self.regions, self.down, self.mix = recon, regions, down, mix


# ---- methods ------------------------------------------------------------------------

def resample(a, w, h):
    """Catmull-Rom (Pillow's bicubic, a = -0.5), as stb_image_resize in ts_image_resample."""
    if a.shape[1] == w and a.shape[0] == h:
        return a
    return np.asarray(Image.fromarray(a).resize((w, h), Image.BICUBIC))


def tiling(s, rows, cols):
    W, H = s.cols * P, s.rows * P
    regions = [(c * W // cols, r * H // rows, (c + 1) * W // cols - c * W // cols,
                (r + 1) * H // rows - r * H // rows) for r in range(rows) for c in range(cols)]
    pr, pc = np.divmod(np.arange(s.n), s.cols)
    groups = ((2 * pr + 1) * rows // (2 * s.rows)) * cols + (2 * pc + 1) * cols // (2 * s.cols)
    return groups, regions


def downsample_shape(R, C, t):
    best = [1, 1, abs(math.log(R / C))]

    def consider(r, c):
        if r < 1 or c < 1 or r > R or c > C or r * c > t:
            return
        err = abs(math.log((c / r) / (C / R)))
        if r * c > best[0] * best[1] or (r * c == best[0] * best[1] and err < best[2]):
            best[:] = [r, c, err]
    for r in range(1, R + 1):
        c = r * C / R
        consider(r, max(1, math.floor(c)))
        consider(r, math.ceil(c))
    for c in range(1, C + 1):
        r = c * R / C
        consider(max(1, math.floor(r)), c)
        consider(math.ceil(r), c)
    return best[0], best[1]


def m_downsample(s, t):
    rows, cols = downsample_shape(s.rows, s.cols, t)
    groups, regions = tiling(s, rows, cols)
    if (rows, cols) != (s.rows, s.cols):
        small = resample(s.img, cols * P, rows * P)
        feats = pixel_features(small)
    else:
        feats, _ = group_means(groups, rows * cols, s.f)
    return Assignment(groups, rows * cols, feats, "downsample", regions, down=(cols * P, rows * P))


def m_pool(s, t):
    k = 1
    while k < max(s.rows, s.cols) and ((s.rows + k - 1) // k) * ((s.cols + k - 1) // k) > t:
        k += 1
    pr, pc = (s.rows + k - 1) // k, (s.cols + k - 1) // k
    r, c = np.divmod(np.arange(s.n), s.cols)
    groups = (r // k) * pc + c // k
    regions = []
    for o in range(pr * pc):
        r0, c0 = (o // pc) * k, (o % pc) * k
        r1, c1 = min(r0 + k, s.rows), min(c0 + k, s.cols)
        regions.append((c0 * P, r0 * P, (c1 - c0) * P, (r1 - r0) * P))
    feats, _ = group_means(groups, pr * pc, s.f)
    return Assignment(groups, pr * pc, feats, "region", regions)


def m_optical(s, t):
    pick = None
    for res, tokens in ((512, 64), (640, 100), (1024, 256), (1280, 400)):
        side = res // 64
        if tokens <= t and side <= s.rows and side <= s.cols:
            pick = side
    if pick is None:
        raise Unreachable("no DeepSeek-OCR mode fits")
    groups, regions = tiling(s, pick, pick)
    feats, _ = group_means(groups, pick * pick, s.f)
    return Assignment(groups, pick * pick, feats, "region", regions)


def m_tome(s, t):
    cur = s.f.astype(np.float32).copy()
    n = s.n
    size = np.ones(n, np.float32)
    minp = np.arange(n)
    tok = np.arange(n)
    while n > t:
        r = min(n - t, n // 2)
        if r <= 0:
            break
        u = unit(cur)
        A, B = u[0::2], u[1::2]
        sc = A @ B.T
        best = sc.argmax(1)
        score = sc[np.arange(len(A)), best]
        order = np.lexsort((np.arange(len(A)), -score))[:r]  # descending score, then index
        dst = np.arange(n)
        dst[2 * order] = 2 * best[order] + 1
        src = np.flatnonzero(dst != np.arange(n))
        recv = np.unique(dst[src])
        cur[recv] *= size[recv, None]
        np.add.at(cur, dst[src], cur[src] * size[src, None])
        np.add.at(size, dst[src], size[src])
        np.minimum.at(minp, dst[src], minp[src])
        cur[recv] /= size[recv, None]
        alive = np.flatnonzero(dst == np.arange(n))
        alive = alive[np.argsort(minp[alive], kind="stable")]
        newidx = np.empty(n, np.int64)
        newidx[alive] = np.arange(len(alive))
        newidx[src] = newidx[dst[src]]
        tok = newidx[tok]
        cur, size, minp = cur[alive], size[alive], minp[alive]
        n = len(alive)
    feats, _ = group_means(tok, n, s.f)
    return Assignment(tok, n, feats, "mean")


def m_greedy(s, t):
    """Merge the most similar pair of groups (cosine of size-weighted means) until t remain."""
    n = s.n
    mean = s.f.astype(np.float64)
    size = np.ones(n)
    key = np.arange(n)
    alive = np.ones(n, bool)
    u = unit(s.f).astype(np.float64)
    S = u @ u.T
    np.fill_diagonal(S, -np.inf)
    best = S.argmax(1)
    bval = S[np.arange(n), best]
    owner = np.arange(n)
    count = n
    while count > t:
        g = int(np.argmax(np.where(alive, bval, -np.inf)))
        h = int(best[g])
        g, h = (g, h) if key[g] <= key[h] else (h, g)
        mean[g] = (size[g] * mean[g] + size[h] * mean[h]) / (size[g] + size[h])
        size[g] += size[h]
        alive[h] = False
        owner[owner == h] = g
        S[h, :] = -np.inf
        S[:, h] = -np.inf
        nrm = np.linalg.norm(mean[g])
        ug = mean[g] / nrm if nrm > 0 else mean[g] * 0
        u[g] = ug
        row = u @ ug
        row[~alive] = -np.inf
        row[g] = -np.inf
        S[g, :] = row
        S[:, g] = row
        count -= 1
        stale = alive & ((best == g) | (best == h))
        stale[g] = True
        for i in np.flatnonzero(stale):
            best[i] = int(np.argmax(S[i]))
            bval[i] = S[i, best[i]]
        better = alive & (row > bval)
        best[better] = g
        bval[better] = row[better]
    ids = np.flatnonzero(alive)
    rank = np.empty(n, np.int64)
    rank[ids] = np.arange(len(ids))
    groups = rank[owner]
    feats, _ = group_means(groups, len(ids), s.f)
    return Assignment(groups, len(ids), feats, "mean")


def top_k(imp, k):
    return np.lexsort((np.arange(len(imp)), -imp))[:k]


def m_prune(s, t):
    groups = np.full(s.n, -1)
    groups[top_k(s.importance(), t)] = np.arange(t)
    feats, _ = group_means(groups, t, s.f)
    return Assignment(groups, t, feats, "mean")


def m_visionzip(s, t):
    dom = min(max(int(math.floor(t * 0.85 + 0.5)), 0), t)
    ctx = t - dom
    groups = np.full(s.n, -1)
    top = top_k(s.importance(), dom)
    groups[top] = np.arange(dom)
    rest = np.setdiff1d(np.arange(s.n), top)
    if ctx > 0 and len(rest) > 0:
        targets = rest[(np.arange(ctx) * len(rest)) // ctx]
        best = (s.xn[rest] @ s.xn[targets].T).argmax(1)
        groups[rest] = dom + best
        groups[targets] = dom + np.arange(ctx)
    feats, _ = group_means(groups, t, s.f)
    return Assignment(groups, t, feats, "mean")


def m_prumerge(s, t):
    imp = s.importance()
    q1, q3 = np.percentile(imp.astype(np.float64), [25, 75])
    kept = np.flatnonzero(imp > q3 + 1.5 * (q3 - q1))
    if len(kept) == 0:
        kept = np.sort(top_k(imp, t))
    m = len(kept)
    rest = np.setdiff1d(np.arange(s.n), kept)
    groups = np.full(s.n, -1)
    groups[kept] = np.arange(m)
    if len(rest) > 0:
        k = min((len(rest) + m - 1) // m, len(rest))
        sims = s.xn[kept] @ s.xn[rest].T
        order = np.lexsort((np.broadcast_to(np.arange(len(rest)), sims.shape), -sims), axis=1)[:, :k]
        chosen = np.full(sims.shape, -np.inf, np.float32)
        np.put_along_axis(chosen, order, np.take_along_axis(sims, order, 1), 1)
        owner = chosen.argmax(0)
        has = np.isfinite(chosen.max(0))
        groups[rest[has]] = owner[has]
    feats, _ = group_means(groups, m, s.f)
    return Assignment(groups, m, feats, "mean")


def kmeans_pp(x, k, rng, trials):
    """k-means++ seeding (sklearn's greedy variant with @trials candidates per centre)."""
    n = len(x)
    xx = (x * x).sum(1)
    centers = np.empty((k, x.shape[1]), x.dtype)
    first = rng.integers(n)
    centers[0] = x[first]
    d2 = np.maximum(xx - 2 * x @ x[first] + xx[first], 0)
    for c in range(1, k):
        pot = d2.sum()
        cand = np.searchsorted(np.cumsum(d2), rng.random(trials) * pot)
        cand = np.minimum(cand, n - 1)
        dc = np.maximum(xx[None, :] - 2 * x[cand] @ x.T + xx[cand, None], 0)
        dc = np.minimum(dc, d2[None, :])
        b = int(np.argmin(dc.sum(1)))
        centers[c] = x[cand[b]]
        d2 = dc[b]
    return centers


def lloyd(x, centers, iters, tol=1e-4):
    xx = (x * x).sum(1)
    atol = tol * x.var(0).mean()
    labels = None
    for _ in range(iters):
        d = xx[:, None] - 2 * x @ centers.T + (centers * centers).sum(1)[None, :]
        labels = d.argmin(1)
        new = np.zeros_like(centers)
        np.add.at(new, labels, x)
        cnt = np.bincount(labels, minlength=len(centers))
        new[cnt > 0] /= cnt[cnt > 0, None]
        new[cnt == 0] = centers[cnt == 0]
        shift = ((new - centers) ** 2).sum()
        centers = new
        if shift <= atol:
            break
    d = xx[:, None] - 2 * x @ centers.T + (centers * centers).sum(1)[None, :]
    return centers, d.argmin(1)


def m_resample(s, t):
    n, d, K = s.n, s.xn.shape[1], t
    sqd = np.float32(math.sqrt(d))
    xt = s.xn * sqd
    rng = np.random.default_rng(0)
    pass_ = n * K * d
    iters = int(min(max(2e10 / pass_, 1), 10))
    trials = 2 + int(math.floor(math.log(K)))
    if pass_ * trials <= 2e10:
        q = kmeans_pp(xt, K, rng, trials)
    else:
        q = xt[(np.arange(K) * n) // K].copy()
    q, _ = lloyd(xt, q, iters)
    scale = np.float32(1.0 / (0.1 * sqd))
    for _ in range(3):
        z = (q @ xt.T) * scale
        z -= z.max(1, keepdims=True)
        A = np.exp(z)
        A /= A.sum(1, keepdims=True)
        q = A @ xt
    groups = A.argmax(0)
    return Assignment(groups, K, A @ s.f, "mix", mix=A)


def m_adaptive(s, t):
    img = s.img.astype(np.int64)
    R, C = s.rows, s.cols
    top = 0
    while (1 << top) < max(R, C):
        top += 1
    top = min(top, 12)

    def score(level, r, c):
        k = 1 << level
        reg = img[r * P:(r + k) * P, c * P:(c + k) * P]
        cells = reg.reshape(P, k, P, k, 3).sum((1, 3))
        sse = (reg * reg).sum() - (cells.astype(np.float64) ** 2).sum() / (k * k)
        return max(0.0, sse) / (3.0 * (k * P) ** 2)

    leaves, heap = [], []

    def add(level, r, c):
        if level >= 1:
            sc = score(level, r, c)
            heapq.heappush(heap, (-sc, -level, r, c))
        else:
            leaves.append((level, r, c))

    def tile(level, r, c):
        k = 1 << level
        if r >= R or c >= C:
            return
        if r + k <= R and c + k <= C:
            add(level, r, c)
            return
        h = k // 2
        for dr, dc in ((0, 0), (0, h), (h, 0), (h, h)):
            tile(level - 1, r + dr, c + dc)

    for r in range(0, R, 1 << top):
        for c in range(0, C, 1 << top):
            tile(top, r, c)
    count = len(leaves) + len(heap)
    while heap and count + 3 <= t:
        _, nl, r, c = heapq.heappop(heap)
        level = -nl - 1
        h = 1 << level
        for dr, dc in ((0, 0), (0, h), (h, 0), (h, h)):
            add(level, r + dr, c + dc)
        count += 3
    nodes = sorted(leaves + [(-nl, r, c) for _, nl, r, c in heap], key=lambda v: (v[1], v[2]))
    groups = np.empty((R, C), np.int64)
    regions = []
    for i, (level, r, c) in enumerate(nodes):
        k = 1 << level
        groups[r:r + k, c:c + k] = i
        regions.append((c * P, r * P, k * P, k * P))
    groups = groups.reshape(-1)
    feats, _ = group_means(groups, len(nodes), s.f)
    return Assignment(groups, len(nodes), feats, "region", regions)


RUN = {"downsample": m_downsample, "pool": m_pool, "tome": m_tome, "greedy": m_greedy, "optical": m_optical,
       "prune": m_prune, "visionzip": m_visionzip, "prumerge": m_prumerge, "resample": m_resample,
       "adaptive": m_adaptive}


# ---- reconstruction and quality -----------------------------------------------------

def reconstruct(s, a):
    out = s.img.copy()
    H, W = s.rows * P, s.cols * P
    if a.recon == "downsample":
        out[:H, :W] = resample(resample(s.img[:H, :W], *a.down), W, H)
    elif a.recon == "region":
        for x, y, w, h in a.regions:
            crop = s.img[y:y + h, x:x + w]
            out[y:y + h, x:x + w] = crop if (w, h) == (P, P) else resample(resample(crop, P, P), w, h)
    else:
        if a.recon == "mix":
            tok = a.mix @ s.patches
        else:
            tok, _ = group_means(a.groups, a.n_out, s.patches)
        kept = a.groups >= 0
        px = np.zeros((s.n, 3 * P * P), np.uint8)
        px[kept] = np.clip(np.rint(tok[a.groups[kept]]), 0, 255).astype(np.uint8)
        grid = px.reshape(s.rows, s.cols, P, P, 3).transpose(0, 2, 1, 3, 4).reshape(H, W, 3)
        out[:H, :W] = grid
    drop = (a.groups < 0).reshape(s.rows, s.cols)
    if drop.any():
        mask = np.repeat(np.repeat(drop, P, 0), P, 1)
        out[:H, :W][mask] = 128
    return out


def luma(img):
    f = img.astype(np.float64)
    return 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]


def measure(s, a, ref_luma):
    rec = reconstruct(s, a)
    ssim = ssim_fn(ref_luma, luma(rec), gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                   data_range=255)
    mse = ((s.img.astype(np.float64) - rec) ** 2).mean()
    psnr = None if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)
    kept = a.groups >= 0
    fr = (s.xn[kept] * unit(a.features)[a.groups[kept]]).sum(1, dtype=np.float64).sum() / s.n
    return {"tokens": a.n_out, "ssim": float(ssim), "psnr": psnr, "feature_retention": float(fr)}


def entropy(s):
    k = min(256, s.n)
    x = s.xn
    uniq, labels = np.unique(x, axis=0, return_inverse=True)
    if len(uniq) > k:
        c = kmeans_pp(x, k, np.random.default_rng(0), 1)
        _, labels = lloyd(x, c, 20)
    cnt = np.bincount(labels.reshape(-1), minlength=k)
    p = cnt[cnt > 0] / cnt.sum()
    return float(max(0.0, -(p * np.log2(p)).sum()))


def sweep_image(path):
    t0 = time.perf_counter()
    try:
        img, (w, h) = load(path)
    except Exception as e:  # noqa: BLE001 - recorded like the C tool does
        return {"image": path, "error": str(e), "seconds": time.perf_counter() - t0}
    s = Scene(img)
    ref = luma(img)
    curves = []
    for m in METHODS:
        pts = []
        for r in RATIOS:
            if r <= 1:
                pts.append({"ratio": r, "tokens": s.n, "ssim": 1.0, "psnr": None, "feature_retention": 1.0})
                continue
            try:
                p = measure(s, RUN[m](s, target(s.n, r)), ref)
            except Unreachable:
                p = {"tokens": 0, "ssim": None, "psnr": None, "feature_retention": None}
            p["ratio"] = r
            pts.append(p)
        curves.append({"method": m, "points": pts})
    return {"image": path, "tokens": s.n, "width": img.shape[1], "height": img.shape[0],
            "bits_per_token": entropy(s), "curves": curves, "seconds": time.perf_counter() - t0}


def check(records, tokenscope_jsonl, folder):
    ref = {}
    for line in open(tokenscope_jsonl):
        r = json.loads(line)
        ref[r["image"]] = r
    worst = {}
    for rec in records:
        key = os.path.relpath(rec["image"], folder)
        if "curves" not in rec or key not in ref or "curves" not in ref[key]:
            continue
        rc = {c["method"]: c for c in ref[key]["curves"]}
        for c in rec["curves"]:
            for p, q in zip(c["points"], rc[c["method"]]["points"]):
                for field in ("ssim", "feature_retention"):
                    if p.get(field) is None or q.get(field) is None:
                        continue
                    dv = abs(p[field] - q[field])
                    k = (c["method"], field)
                    worst[k] = max(worst.get(k, 0), dv)
                if p["tokens"] != q["tokens"] and q.get("ssim") is not None:
                    worst[(c["method"], "tokens")] = worst.get((c["method"], "tokens"), 0) + 1
    print("largest |numpy - tokenscope| per method (tokens: points whose count differs):")
    for m in METHODS:
        print(f"  {m:11s} ssim {worst.get((m, 'ssim'), 0):.2e}  feature {worst.get((m, 'feature_retention'), 0):.2e}"
              f"  tokens {worst.get((m, 'tokens'), 0)}")


def main():
    global np, Image, ssim_fn
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0, help="only the first N images")
    ap.add_argument("--out", help="write one JSON line per image here")
    ap.add_argument("--check", help="a tokenscope images.jsonl of the same folder to compare with")
    args = ap.parse_args()
    if args.jobs > 1:
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        os.environ["OMP_NUM_THREADS"] = "1"
    import numpy
    from PIL import Image as PILImage
    from skimage.metrics import structural_similarity
    np, Image, ssim_fn = numpy, PILImage, structural_similarity

    paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(args.folder) for f in fs
                   if f.lower().endswith(EXTS))
    if args.limit:
        paths = paths[:args.limit]
    t0 = time.perf_counter()
    c0 = time.process_time()
    if args.jobs > 1:
        import multiprocessing
        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            records = list(pool.imap_unordered(sweep_image, paths))
    else:
        records = [sweep_image(p) for p in paths]
    wall = time.perf_counter() - t0
    failed = sum("error" in r for r in records)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - c0 + ru.ru_utime + ru.ru_stime
    print(f"numpy+skimage --jobs {args.jobs}: {len(paths) / wall:.3f} images/s ({wall:.1f} s wall, {cpu:.1f} s CPU, "
          f"{cpu / max(1, len(paths)):.2f} CPU s per image; {len(paths)} images, {failed} failed)")
    if args.out:
        with open(args.out, "w") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")
    if args.check:
        check(records, args.check, args.folder)


if __name__ == "__main__":
    main()
