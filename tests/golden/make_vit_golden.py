#!/usr/bin/python3
"""Golden fixtures for tests/test-vit.c and tests/test-safetensors.c.

Builds tiny random ViTs (depth 2, width 64, 4 heads, MLP 128) in the four
weight namings TokenScope reads (timm, Hugging Face CLIP, SigLIP, DINOv2),
writes their weights as .safetensors (the format written by hand: 8-byte
little-endian header length, JSON header, raw little-endian data), runs a
straightforward float64 PyTorch forward of each, and saves the outputs as
.npy into tests/data/models/:

  NAME.safetensors         weights (timm F32, clip F16, siglip BF16, dinov2 F32,
                           timm_avg F16: no CLS, norm_pre, fc_norm average pooling)
  NAME_tokens.npy          hidden_states[-2] (all tokens, prefix first)
  NAME_embedding.npy       the final CLS / pooled embedding
  NAME_attn.npy            attention probabilities [depth, heads, n, n]
  NAME_rollout.npy         the rollout row (CLS, or the mean row without CLS)
  NAME_tome_embedding.npy  (timm, siglip) the embedding with ToMe merging
  NAME_tome_groups.npy     final token of every patch after ToMe (float32 integers)

The image is tests/ts-test-util.c's gradient: R = (3x + y) mod 256,
G = (x y) mod 256, B = (5y + 2x) mod 256.

Run with Debian's interpreter (python3-torch, python3-numpy):
  /usr/bin/python3 tests/golden/make_vit_golden.py
Not used by CI: the C tests read the committed fixtures.
"""
import json
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "models")
D, HEADS, DEPTH, MLP = 64, 4, 2, 128
HD = D // HEADS
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def gradient(w, h):
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([(3 * x + y) % 256, (x * y) % 256, (5 * y + 2 * x) % 256], axis=-1)
    return img.astype(np.uint8)


# ---------------------------------------------------------------- safetensors

def bf16_round(a):
    """float32 -> bfloat16 bit patterns (round to nearest even)."""
    bits = np.asarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return bits.astype(np.uint16)


def quantise(a, dtype):
    """What the file will hold, as float64 (so the reference sees the same weights)."""
    a = np.asarray(a, dtype=np.float32)
    if dtype == "F16":
        return a.astype(np.float16).astype(np.float64)
    if dtype == "BF16":
        return (bf16_round(a).astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return a.astype(np.float64)


def write_safetensors(path, tensors, dtype, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        a = np.asarray(tensors[name], dtype=np.float32)
        if dtype == "F16":
            raw = a.astype("<f2").tobytes()
        elif dtype == "BF16":
            raw = bf16_round(a).astype("<u2").tobytes()
        else:
            raw = a.astype("<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------- model

def make_params(rng, patch, pos_tokens, cls, n_reg, layer_scale, dtype, head=False):
    def rnd(*shape, s=0.1):
        return quantise(rng.standard_normal(shape) * s, dtype)

    p = {
        "patch_w": rnd(D, 3, patch, patch, s=0.05),
        "patch_b": rnd(D, s=0.1),
        "pos": rnd(pos_tokens, D, s=0.5),
        "cls": rnd(D, s=1.0) if cls else None,
        "reg": rnd(n_reg, D, s=1.0) if n_reg else None,
        "blocks": [],
    }
    for _ in range(DEPTH):
        b = {
            "ln1_w": quantise(1 + rng.standard_normal(D) * 0.1, dtype), "ln1_b": rnd(D),
            "qkv_w": rnd(3 * D, D, s=0.25), "qkv_b": rnd(3 * D),
            "proj_w": rnd(D, D, s=0.15), "proj_b": rnd(D),
            "ln2_w": quantise(1 + rng.standard_normal(D) * 0.1, dtype), "ln2_b": rnd(D),
            "fc1_w": rnd(MLP, D, s=0.15), "fc1_b": rnd(MLP),
            "fc2_w": rnd(D, MLP, s=0.15), "fc2_b": rnd(D),
            "ls1": quantise(0.5 + rng.random(D), dtype) if layer_scale else None,
            "ls2": quantise(0.5 + rng.random(D), dtype) if layer_scale else None,
        }
        p["blocks"].append(b)
    p["pre_w"], p["pre_b"] = quantise(1 + rng.standard_normal(D) * 0.1, dtype), rnd(D)
    p["norm_w"], p["norm_b"] = quantise(1 + rng.standard_normal(D) * 0.1, dtype), rnd(D)
    if head:
        p["head"] = {
            "probe": rnd(1, 1, D, s=1.0), "in_w": rnd(3 * D, D, s=0.25), "in_b": rnd(3 * D),
            "out_w": rnd(D, D, s=0.15), "out_b": rnd(D),
            "ln_w": quantise(1 + rng.standard_normal(D) * 0.1, dtype), "ln_b": rnd(D),
            "fc1_w": rnd(MLP, D, s=0.15), "fc1_b": rnd(MLP), "fc2_w": rnd(D, MLP, s=0.15), "fc2_b": rnd(D),
        }
    return p


def T(a):
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


def act_fn(name, x):
    if name == "quick_gelu":
        return x * torch.sigmoid(1.702 * x)
    if name == "gelu_tanh":
        return F.gelu(x, approximate="tanh")
    return F.gelu(x)


def forward(p, cfg, img, layer=-2, tome=None):
    """cfg: patch, mean, std, eps, act, pre (bool), pos_prefix, dinov2 (bool), pooling."""
    P = cfg["patch"]
    H, W = img.shape[:2]
    rows, cols = H // P, W // P
    x = T(img[: rows * P, : cols * P]) / 255.0
    x = (x - T(cfg["mean"])) / T(cfg["std"])
    x = x.permute(2, 0, 1)[None]
    t = F.conv2d(x, T(p["patch_w"]), T(p["patch_b"]), stride=P)[0].flatten(1).T  # np x D
    pos = T(p["pos"])
    pp = cfg["pos_prefix"]
    grid = pos[pp:]
    g = int(round(grid.shape[0] ** 0.5))
    if (rows, cols) != (g, g):
        pg = grid.reshape(1, g, g, D).permute(0, 3, 1, 2)
        if cfg["dinov2"]:
            pg = F.interpolate(pg, scale_factor=((rows + 0.1) / g, (cols + 0.1) / g), mode="bicubic",
                               align_corners=False)
        else:
            pg = F.interpolate(pg, size=(rows, cols), mode="bicubic", align_corners=False)
        grid = pg[0].permute(1, 2, 0).reshape(rows * cols, D)
    t = t + grid
    prefix = []
    if p["cls"] is not None:
        prefix.append(T(p["cls"])[None] + (pos[0:1] if pp >= 1 else 0))
    if p["reg"] is not None:
        r = T(p["reg"])
        n_pre = 1 + r.shape[0]
        prefix.append(r + (pos[1:n_pre] if pp == n_pre else 0))
    n_prefix = sum(a.shape[0] for a in prefix)
    x = torch.cat(prefix + [t], 0)
    eps = cfg["eps"]
    ln = lambda v, w, b: F.layer_norm(v, (D,), T(w), T(b), eps)
    if cfg["pre"]:
        x = ln(x, p["pre_w"], p["pre_b"])
    hidden, attns = [x], []
    n_patches = rows * cols
    sizes = torch.ones(x.shape[0])
    first = torch.arange(x.shape[0]) - n_prefix
    where = torch.arange(n_patches) + n_prefix
    schedule = tome_schedule(DEPTH, *tome) if tome else [0] * DEPTH
    for bi, b in enumerate(p["blocks"]):
        n = x.shape[0]
        h = ln(x, b["ln1_w"], b["ln1_b"])
        qkv = h @ T(b["qkv_w"]).T + T(b["qkv_b"])
        q, k, v = (qkv[:, i * D:(i + 1) * D].reshape(n, HEADS, HD).transpose(0, 1) for i in range(3))
        logits = q @ k.transpose(1, 2) / HD ** 0.5
        if tome:
            logits = logits + sizes.log()[None, None, :]
        a = logits.softmax(-1)
        attns.append(a)
        o = (a @ v).transpose(0, 1).reshape(n, D) @ T(b["proj_w"]).T + T(b["proj_b"])
        x = x + (T(b["ls1"]) * o if b["ls1"] is not None else o)
        if schedule[bi] > 0:
            x, sizes, first, where = tome_merge(x, k.transpose(0, 1).reshape(n, D), sizes, first, where,
                                                schedule[bi], n_prefix)
        h = ln(x, b["ln2_w"], b["ln2_b"])
        m = act_fn(cfg["act"], h @ T(b["fc1_w"]).T + T(b["fc1_b"])) @ T(b["fc2_w"]).T + T(b["fc2_b"])
        x = x + (T(b["ls2"]) * m if b["ls2"] is not None else m)
        hidden.append(x)
    emb = pool(p, cfg, x, sizes if tome else None, n_prefix)
    return {"hidden": hidden, "tokens": hidden[layer], "attns": attns, "emb": emb, "n_prefix": n_prefix,
            "where": where - n_prefix, "n_final": x.shape[0]}


def pool(p, cfg, x, sizes, n_prefix):
    eps = cfg["eps"]
    ln = lambda v, w, b: F.layer_norm(v, (D,), T(w), T(b), eps)
    if cfg["pooling"] == "cls":
        return ln(x[0], p["norm_w"], p["norm_b"])
    if cfg["pooling"] == "avg":  # timm global_pool='avg': mean of the patch tokens, then fc_norm
        w = torch.ones(x.shape[0]) if sizes is None else sizes
        w = w[n_prefix:]
        return ln((x[n_prefix:] * w[:, None]).sum(0) / w.sum(), p["norm_w"], p["norm_b"])
    # SigLIP: post_layernorm then the attention-pooling head (nn.MultiheadAttention)
    y = ln(x, p["norm_w"], p["norm_b"])
    hp = p["head"]
    mha = torch.nn.MultiheadAttention(D, HEADS, batch_first=True)
    with torch.no_grad():
        mha.in_proj_weight.copy_(T(hp["in_w"]))
        mha.in_proj_bias.copy_(T(hp["in_b"]))
        mha.out_proj.weight.copy_(T(hp["out_w"]))
        mha.out_proj.bias.copy_(T(hp["out_b"]))
        mask = None if sizes is None else sizes.log()[None, :].expand(1, y.shape[0])
        o = mha(T(hp["probe"]), y[None], y[None], attn_mask=mask, need_weights=False)[0][0, 0]
        res = o
        t = F.layer_norm(o, (D,), T(hp["ln_w"]), T(hp["ln_b"]), eps)
        t = act_fn(cfg["act"], t @ T(hp["fc1_w"]).T + T(hp["fc1_b"])) @ T(hp["fc2_w"]).T + T(hp["fc2_b"])
        return res + t


def tome_schedule(depth, r, inflect):
    """Official ToMe parse_r."""
    min_val = int(r * (1.0 - inflect))
    max_val = 2 * r - min_val
    step = (max_val - min_val) / (depth - 1)
    return [int(min_val + step * i) for i in range(depth)]


def tome_merge(x, keys, sizes, first, where, r, n_prefix):
    """ToMe bipartite soft matching (official), keys averaged over heads as the
    metric, size-weighted merge; survivors ordered by smallest original position."""
    n = x.shape[0]
    r = min(r, (n - n_prefix) // 2)
    if r <= 0:
        return x, sizes, first, where
    metric = keys.reshape(n, HEADS, HD).mean(1)
    metric = metric / metric.norm(dim=-1, keepdim=True)
    a, b = metric[0::2], metric[1::2]
    scores = a @ b.T
    for i in range(a.shape[0]):
        if 2 * i < n_prefix:
            scores[i, :] = -float("inf")
    for j in range(b.shape[0]):
        if 2 * j + 1 < n_prefix:
            scores[:, j] = -float("inf")
    node_max, node_idx = scores.max(-1)
    r = min(r, int(torch.isfinite(node_max).sum()))
    order = sorted(range(a.shape[0]), key=lambda i: (-float(node_max[i]), i))
    dest = list(range(n))
    for i in order[:r]:
        dest[2 * i] = 2 * int(node_idx[i]) + 1
    xs = x * sizes[:, None]
    acc_x, acc_s, acc_f = xs.clone(), sizes.clone(), first.clone()
    for i in range(n):
        if dest[i] != i:
            d = dest[i]
            acc_x[d] += xs[i]
            acc_s[d] += sizes[i]
            acc_f[d] = min(acc_f[d], first[i])
    keep = sorted([i for i in range(n) if dest[i] == i], key=lambda i: int(acc_f[i]))
    renum = {old: new for new, old in enumerate(keep)}
    for i in range(n):
        if dest[i] != i:
            renum[i] = renum[dest[i]]
    new_x = torch.stack([acc_x[i] / acc_s[i] for i in keep])
    new_where = torch.tensor([renum[int(w)] for w in where])
    return new_x, acc_s[keep], acc_f[keep], new_where


def rollout(attns, fusion, discard, cls):
    n = attns[0].shape[-1]
    result = torch.eye(n)
    for a in attns:
        fused = {"mean": a.mean(0), "max": a.max(0)[0], "min": a.min(0)[0]}[fusion].clone()
        flat = fused.view(-1)
        k = int(flat.numel() * discard)
        if k > 0:
            idx = flat.topk(k, largest=False).indices
            if cls:
                idx = idx[idx != 0]
            flat[idx] = 0
        m = (fused + torch.eye(n)) / 2
        m = m / m.sum(-1, keepdim=True)  # rows
        result = m @ result
    return result[0] if cls else result.mean(0)


# ---------------------------------------------------------------- namings

def names_timm(p):
    t = {"patch_embed.proj.weight": p["patch_w"], "patch_embed.proj.bias": p["patch_b"],
         "pos_embed": p["pos"][None], "norm.weight": p["norm_w"], "norm.bias": p["norm_b"]}
    if p["cls"] is not None:
        t["cls_token"] = p["cls"][None, None]
    if p["reg"] is not None:
        t["reg_token"] = p["reg"][None]
    for i, b in enumerate(p["blocks"]):
        pre = f"blocks.{i}."
        t.update({pre + "norm1.weight": b["ln1_w"], pre + "norm1.bias": b["ln1_b"],
                  pre + "attn.qkv.weight": b["qkv_w"], pre + "attn.qkv.bias": b["qkv_b"],
                  pre + "attn.proj.weight": b["proj_w"], pre + "attn.proj.bias": b["proj_b"],
                  pre + "norm2.weight": b["ln2_w"], pre + "norm2.bias": b["ln2_b"],
                  pre + "mlp.fc1.weight": b["fc1_w"], pre + "mlp.fc1.bias": b["fc1_b"],
                  pre + "mlp.fc2.weight": b["fc2_w"], pre + "mlp.fc2.bias": b["fc2_b"]})
        if b["ls1"] is not None:
            t[pre + "ls1.gamma"] = b["ls1"]
            t[pre + "ls2.gamma"] = b["ls2"]
    t["head.weight"] = np.zeros((10, D))  # a classifier the forward ignores
    t["head.bias"] = np.zeros(10)
    return t


def names_timm_avg(p):
    """timm without a class token: norm_pre (as timm's CLIP ports), fc_norm and average pooling."""
    t = names_timm(p)
    del t["norm.weight"], t["norm.bias"]
    t["fc_norm.weight"], t["fc_norm.bias"] = p["norm_w"], p["norm_b"]
    t["norm_pre.weight"], t["norm_pre.bias"] = p["pre_w"], p["pre_b"]
    return t


def split_qkv(t, pre, b, names):
    for k, nm in enumerate(names):
        t[pre + nm + ".weight"] = b["qkv_w"][k * D:(k + 1) * D]
        t[pre + nm + ".bias"] = b["qkv_b"][k * D:(k + 1) * D]


def names_hf_clip(p, siglip):
    v = "vision_model."
    t = {v + "embeddings.patch_embedding.weight": p["patch_w"],
         v + "embeddings.position_embedding.weight": p["pos"],
         v + "post_layernorm.weight": p["norm_w"], v + "post_layernorm.bias": p["norm_b"]}
    if siglip:
        t[v + "embeddings.patch_embedding.bias"] = p["patch_b"]
        hp = p["head"]
        t.update({v + "head.probe": hp["probe"], v + "head.attention.in_proj_weight": hp["in_w"],
                  v + "head.attention.in_proj_bias": hp["in_b"],
                  v + "head.attention.out_proj.weight": hp["out_w"], v + "head.attention.out_proj.bias": hp["out_b"],
                  v + "head.layernorm.weight": hp["ln_w"], v + "head.layernorm.bias": hp["ln_b"],
                  v + "head.mlp.fc1.weight": hp["fc1_w"], v + "head.mlp.fc1.bias": hp["fc1_b"],
                  v + "head.mlp.fc2.weight": hp["fc2_w"], v + "head.mlp.fc2.bias": hp["fc2_b"]})
    else:
        t[v + "embeddings.class_embedding"] = p["cls"]
        t[v + "pre_layrnorm.weight"] = p["pre_w"]
        t[v + "pre_layrnorm.bias"] = p["pre_b"]
        # a CLIPModel file also holds the text tower: a decoy the detection must skip
        t["text_model.encoder.layers.0.self_attn.q_proj.weight"] = np.zeros((8, 8))
        t["visual_projection.weight"] = np.zeros((32, D))
    for i, b in enumerate(p["blocks"]):
        pre = v + f"encoder.layers.{i}."
        split_qkv(t, pre, b, ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"])
        t.update({pre + "self_attn.out_proj.weight": b["proj_w"], pre + "self_attn.out_proj.bias": b["proj_b"],
                  pre + "layer_norm1.weight": b["ln1_w"], pre + "layer_norm1.bias": b["ln1_b"],
                  pre + "layer_norm2.weight": b["ln2_w"], pre + "layer_norm2.bias": b["ln2_b"],
                  pre + "mlp.fc1.weight": b["fc1_w"], pre + "mlp.fc1.bias": b["fc1_b"],
                  pre + "mlp.fc2.weight": b["fc2_w"], pre + "mlp.fc2.bias": b["fc2_b"]})
    return t


def names_dinov2(p):
    t = {"embeddings.patch_embeddings.projection.weight": p["patch_w"],
         "embeddings.patch_embeddings.projection.bias": p["patch_b"],
         "embeddings.position_embeddings": p["pos"][None], "embeddings.cls_token": p["cls"][None, None],
         "embeddings.mask_token": np.zeros((1, D)),
         "layernorm.weight": p["norm_w"], "layernorm.bias": p["norm_b"]}
    for i, b in enumerate(p["blocks"]):
        pre = f"encoder.layer.{i}."
        split_qkv(t, pre, b, ["attention.attention.query", "attention.attention.key", "attention.attention.value"])
        t.update({pre + "attention.output.dense.weight": b["proj_w"], pre + "attention.output.dense.bias": b["proj_b"],
                  pre + "norm1.weight": b["ln1_w"], pre + "norm1.bias": b["ln1_b"],
                  pre + "norm2.weight": b["ln2_w"], pre + "norm2.bias": b["ln2_b"],
                  pre + "mlp.fc1.weight": b["fc1_w"], pre + "mlp.fc1.bias": b["fc1_b"],
                  pre + "mlp.fc2.weight": b["fc2_w"], pre + "mlp.fc2.bias": b["fc2_b"],
                  pre + "layer_scale1.lambda1": b["ls1"], pre + "layer_scale2.lambda1": b["ls2"]})
    return t


def save(name, arr):
    np.save(os.path.join(OUT, name + ".npy"), np.asarray(arr, dtype=np.float32))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261124)
    models = [
        # name, dtype, patch, stored grid, image (w, h), cls, registers, layer scale, rollout, tome
        dict(name="timm", dtype="F32", patch=8, grid=6, img=(56, 40), cls=True, reg=2, ls=True, pos_prefix=1,
             cfg=dict(mean=IMAGENET_MEAN, std=IMAGENET_STD, eps=1e-6, act="gelu", pre=False, dinov2=False,
                      pooling="cls"),
             rollout=("max", 0.5), tome=(8, 0.0), naming=names_timm),
        dict(name="clip", dtype="F16", patch=14, grid=4, img=(56, 56), cls=True, reg=0, ls=False, pos_prefix=1,
             cfg=dict(mean=CLIP_MEAN, std=CLIP_STD, eps=1e-5, act="quick_gelu", pre=True, dinov2=False,
                      pooling="cls"),
             rollout=("mean", 0.0), tome=None, naming=lambda p: names_hf_clip(p, False)),
        dict(name="siglip", dtype="BF16", patch=8, grid=7, img=(56, 56), cls=False, reg=0, ls=False, pos_prefix=0,
             cfg=dict(mean=(0.5,) * 3, std=(0.5,) * 3, eps=1e-6, act="gelu_tanh", pre=False, dinov2=False,
                      pooling="head"),
             rollout=("mean", 0.0), tome=(6, -0.5), naming=lambda p: names_hf_clip(p, True)),
        dict(name="dinov2", dtype="F32", patch=8, grid=6, img=(56, 56), cls=True, reg=0, ls=True, pos_prefix=1,
             cfg=dict(mean=IMAGENET_MEAN, std=IMAGENET_STD, eps=1e-6, act="gelu", pre=False, dinov2=True,
                      pooling="cls"),
             rollout=("min", 0.2), tome=None, naming=names_dinov2),
        dict(name="timm_avg", dtype="F16", patch=8, grid=7, img=(48, 64), cls=False, reg=0, ls=False, pos_prefix=0,
             cfg=dict(mean=IMAGENET_MEAN, std=IMAGENET_STD, eps=1e-6, act="gelu", pre=True, dinov2=False,
                      pooling="avg"),
             rollout=("mean", 0.1), tome=(5, 0.0), naming=names_timm_avg),
    ]
    for m in models:
        n_pos = m["grid"] ** 2 + m["pos_prefix"]
        p = make_params(rng, m["patch"], n_pos, m["cls"], m["reg"], m["ls"], m["dtype"], head=m["name"] == "siglip")
        if m["name"] == "clip":
            p["patch_b"] = np.zeros(D)  # CLIP's patch embedding has no bias
        cfg = dict(m["cfg"], patch=m["patch"], pos_prefix=m["pos_prefix"])
        img = gradient(*m["img"])
        with torch.no_grad():
            out = forward(p, cfg, img)
            ro = rollout(out["attns"], *m["rollout"], cls=m["cls"])
        write_safetensors(os.path.join(OUT, m["name"] + ".safetensors"), m["naming"](p), m["dtype"],
                          metadata={"format": "pt", "made_by": "tests/golden/make_vit_golden.py"})
        save(m["name"] + "_tokens", out["tokens"])
        save(m["name"] + "_embedding", out["emb"])
        save(m["name"] + "_attn", torch.stack(out["attns"]))
        save(m["name"] + "_rollout", ro)
        msg = f"{m['name']}: {out['tokens'].shape[0]} tokens, rollout {m['rollout']}"
        if m["tome"]:
            with torch.no_grad():
                tm = forward(p, cfg, img, tome=m["tome"])
            fid = float(F.cosine_similarity(tm["emb"], out["emb"], dim=0))
            save(m["name"] + "_tome_embedding", tm["emb"])
            save(m["name"] + "_tome_groups", tm["where"].numpy())
            msg += f", ToMe {m['tome']} -> {tm['n_final']} tokens, model_fidelity {fid:.6f}"
        print(msg)


if __name__ == "__main__":
    main()
