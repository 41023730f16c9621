"""A reader for PyTorch's legacy (pre-1.6, non-zip) `.pth` format that needs only `pickle` and numpy.

The legacy file is five pickles in a row (magic number, protocol version, system info, the object with
storages as persistent ids, the list of storage keys) followed by each storage's raw bytes, in key order,
each preceded by its element count as a little-endian int64. Tensors are rebuilt with
`torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`, which this reader answers with
numpy views, so no torch is needed. Only the classes a state dict uses are allowed (no arbitrary code).
"""
from __future__ import annotations

import collections
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import LoupeError

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


@dataclass(frozen=True)
class _StorageRef:
    key: str
    dtype: type


@dataclass(frozen=True)
class _TensorRef:
    storage: _StorageRef
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor_v2(storage: _StorageRef, offset: int, size: tuple, stride: tuple, *_: Any) -> _TensorRef:
    return _TensorRef(storage, int(offset), tuple(size), tuple(stride))


class _StateDictUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "torch" and name in STORAGE_DTYPES:
            return STORAGE_DTYPES[name]
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise LoupeError(f"The weights file refers to {module}.{name}, which a plain state dict never needs.")

    def persistent_load(self, saved_id: Any) -> _StorageRef:
        typename, dtype, key, *_ = saved_id
        if typename != "storage":
            raise LoupeError(f"Unknown persistent id {typename!r} in the weights file.")
        return _StorageRef(str(key), dtype)


def read_state_dict(path: Path) -> dict[str, np.ndarray]:
    """The named tensors of a legacy `.pth` state dict, as float/int numpy arrays (copies, C order)."""
    with open(path, "rb") as fh:
        if pickle.load(fh) != MAGIC_NUMBER:
            raise LoupeError(f"{Path(path).name} is not a legacy PyTorch file (wrong magic number).")
        pickle.load(fh)  # protocol version
        sys_info = pickle.load(fh)
        if not sys_info.get("little_endian", True):
            raise LoupeError(f"{Path(path).name} was written on a big-endian machine; that is not supported.")
        tree = _StateDictUnpickler(fh).load()
        keys = pickle.load(fh)
        storages: dict[str, np.ndarray] = {}
        dtypes = {ref.storage.key: ref.storage.dtype for ref in tree.values() if isinstance(ref, _TensorRef)}
        for key in keys:
            (count,) = struct.unpack("<q", fh.read(8))
            dtype = np.dtype(dtypes.get(key, np.float32))
            storages[key] = np.frombuffer(fh.read(count * dtype.itemsize), dtype=dtype)
    out: dict[str, np.ndarray] = {}
    for name, ref in tree.items():
        if not isinstance(ref, _TensorRef):
            continue
        flat = storages[ref.storage.key]
        item = flat.itemsize
        view = np.lib.stride_tricks.as_strided(flat[ref.offset:], shape=ref.size,
                                               strides=tuple(s * item for s in ref.stride))
        out[name] = np.ascontiguousarray(view).copy()
    return out
