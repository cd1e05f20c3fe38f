"""Compact, exact storage of numpy arrays inside JSON documents (zlib + base64).

Examples
--------
>>> import numpy as np
>>> blob = StoredArray.from_array(np.arange(6.0).reshape(2, 3))
>>> blob.to_array().tolist()
[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
"""

from __future__ import annotations

import base64
import zlib

import numpy as np
from pydantic import BaseModel


class StoredArray(BaseModel):
    """A numpy array as dtype, shape and compressed little-endian bytes."""

    dtype: str
    shape: list[int]
    data: str

    @classmethod
    def from_array(cls, array) -> StoredArray:
        arr = np.ascontiguousarray(array)
        if arr.dtype.kind == "f":
            arr = arr.astype("<f8")
        elif arr.dtype.kind in "iu":
            arr = arr.astype("<i8")
        raw = zlib.compress(arr.tobytes(), level=1)
        return cls(dtype=arr.dtype.str, shape=list(arr.shape), data=base64.b64encode(raw).decode())

    def to_array(self) -> np.ndarray:
        raw = zlib.decompress(base64.b64decode(self.data))
        return np.frombuffer(raw, dtype=np.dtype(self.dtype)).reshape(self.shape).copy()
