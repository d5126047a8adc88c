"""Reads the tensors of a legacy (pre-1.6, non-zip) torch checkpoint into numpy, without torch.

Such a file is five things one after another: three small pickles (magic number, format version,
byte order and type sizes), the main pickle (tensors appear in it as persistent ids naming a
storage, plus `_rebuild_tensor_v2(storage, offset, shape, stride, ...)` calls), a pickle listing
the storage keys, then each storage's raw bytes after an int64 element count. The bytes come
after the pickle, so tensors are rebuilt once all storages are read.

A pickle can run arbitrary code, so this unpickler resolves only the globals a plain tensor
checkpoint needs (`_GLOBALS`) and refuses everything else before anything is called.
"""

from __future__ import annotations

import collections
import io
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from f2f.errors import WeightsNotFoundError

_MAGIC = 0x1950A86A20F9469CFC6C  # torch's legacy magic number
_PROTOCOL = 1001
_STORAGE_DTYPES = {"FloatStorage": np.dtype("<f4")}  # the only storage type the encoder uses


@dataclass(frozen=True)
class _Storage:
    key: str
    dtype: np.dtype
    numel: int


@dataclass(frozen=True)
class _TensorRef:
    """A tensor whose storage bytes have not been read yet."""

    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor_v2(storage: _Storage, offset: int, shape: tuple[int, ...],
                       stride: tuple[int, ...], requires_grad: bool = False,
                       backward_hooks: Any = None, metadata: Any = None) -> _TensorRef:
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError("a tensor without a storage")
    return _TensorRef(storage, int(offset), tuple(map(int, shape)), tuple(map(int, stride)))


def _storage_marker(name: str) -> type:
    return type(name, (), {"dtype": _STORAGE_DTYPES[name]})


_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    **{("torch", name): _storage_marker(name) for name in _STORAGE_DTYPES},
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, handle: io.BufferedReader, storages: dict[str, _Storage] | None) -> None:
        super().__init__(handle)
        self._storages = storages  # None: a pickle that may hold no tensors at all

    def find_class(self, module: str, name: str) -> Any:
        if self._storages is None or (module, name) not in _GLOBALS:
            raise pickle.UnpicklingError(f"refused global {module}.{name}")
        return _GLOBALS[(module, name)]

    def persistent_load(self, pid: Any) -> _Storage:
        if self._storages is None or not (isinstance(pid, tuple) and len(pid) == 6
                                          and pid[0] == "storage" and pid[5] is None):
            raise pickle.UnpicklingError(f"refused persistent id {pid!r:.80}")
        _, kind, key, _location, numel, _view = pid
        if getattr(kind, "dtype", None) is None or not isinstance(key, str):
            raise pickle.UnpicklingError(f"refused storage {pid!r:.80}")
        storage = _Storage(key, kind.dtype, int(numel))
        if self._storages.setdefault(key, storage) != storage:
            raise pickle.UnpicklingError(f"storage {key} declared twice differently")
        return storage


def _materialise(ref: _TensorRef, flat: np.ndarray) -> np.ndarray:
    """A copy of the strided view `ref` describes, checked to lie inside its storage."""
    last = ref.offset + sum((n - 1) * s for n, s in zip(ref.shape, ref.stride) if n > 0)
    if ref.offset < 0 or min(ref.stride, default=0) < 0 or last >= max(flat.size, 1):
        raise pickle.UnpicklingError(f"tensor outside its storage {ref.storage.key}")
    view = np.lib.stride_tricks.as_strided(
        flat[ref.offset:], ref.shape, tuple(s * flat.itemsize for s in ref.stride))
    return np.array(view)


def _resolve(obj: Any, flats: dict[str, np.ndarray]) -> Any:
    if isinstance(obj, _TensorRef):
        return _materialise(obj, flats[obj.storage.key])
    if isinstance(obj, dict):
        return {k: _resolve(v, flats) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_resolve(v, flats) for v in obj)
    return obj


def load_legacy_checkpoint(path: Path) -> Any:
    """The checkpoint's object with every tensor as a numpy array (dicts stay dicts)."""
    try:
        with path.open("rb") as handle:
            header = [_Unpickler(handle, None).load() for _ in range(3)]
            if header[0] != _MAGIC or header[1] != _PROTOCOL:
                raise pickle.UnpicklingError("not a legacy torch checkpoint")
            if not (isinstance(header[2], dict) and header[2].get("little_endian")):
                raise pickle.UnpicklingError("not a little-endian checkpoint")
            storages: dict[str, _Storage] = {}
            obj = _Unpickler(handle, storages).load()
            keys = _Unpickler(handle, None).load()
            if not isinstance(keys, list) or set(keys) != set(storages):
                raise pickle.UnpicklingError("storage keys do not match the tensors")
            flats = {}
            for key in keys:
                storage = storages[key]
                numel = int(np.frombuffer(handle.read(8), "<i8")[0])
                data = handle.read(numel * storage.dtype.itemsize)
                if numel != storage.numel or len(data) != numel * storage.dtype.itemsize:
                    raise pickle.UnpicklingError(f"storage {key} is truncated")
                flats[key] = np.frombuffer(data, storage.dtype)
            return _resolve(obj, flats)
    except (pickle.UnpicklingError, EOFError, IndexError, ValueError, TypeError) as exc:
        raise WeightsNotFoundError(
            f"{path} is not a plain torch weights file f2f can read ({exc}); "
            f"reinstall the package that ships it") from exc
