"""One request's predictions through XGBoost's C API, without the Python wrapper's per-call work.

`Booster.inplace_predict` costs about 0.1 ms a call before any tree is walked: it re-imports its data
helpers, builds the array interface and its config as JSON, has the library build a fresh proxy DMatrix
(whose context reads the cgroup CPU quota from /sys), and wraps the result in a class made per call
(cyclic garbage for the collector). That is most of a one-row request and a third of a 100-row one
(bench/bench_serving.py). `DensePredictor` makes the same library call, `XGBoosterPredictFromDense`
(public C API, `xgboost/c_api.h`, since 1.4), with the config written once and one proxy DMatrix per
thread kept for the life of the model, and copies the result out. Same function, same arguments: the
predictions are bit for bit `inplace_predict`'s (tests/ml_pipelines/serving/test_predict.py checks it).
"""

from __future__ import annotations

import ctypes
import json
import threading
import weakref
from typing import Any

import numpy as np

_FloatPointer = ctypes.POINTER(ctypes.c_float)
_ShapePointer = ctypes.POINTER(ctypes.c_uint64)
# what inplace_predict sends: value predictions of every tree, NaN is missing, shape as the model gives it
CONFIG = json.dumps(
    {
        "type": 0,
        "training": False,
        "iteration_begin": 0,
        "iteration_end": 0,
        "missing": float("nan"),
        "strict_shape": False,
        "cache_id": 0,
    }
).encode()


def library() -> ctypes.CDLL:
    """XGBoost's shared library (the one xgboost itself loaded: dlopen returns the same handle)."""
    from xgboost.libpath import find_lib_path

    lib = ctypes.CDLL(find_lib_path()[0])
    lib.XGBoosterPredictFromDense.restype = ctypes.c_int
    lib.XGBoosterPredictFromDense.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_void_p,
        ctypes.POINTER(_ShapePointer),
        ctypes.POINTER(ctypes.c_uint64),
        ctypes.POINTER(_FloatPointer),
    ]
    lib.XGProxyDMatrixCreate.restype = ctypes.c_int
    lib.XGProxyDMatrixCreate.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
    lib.XGDMatrixFree.restype = ctypes.c_int
    lib.XGDMatrixFree.argtypes = [ctypes.c_void_p]
    lib.XGBGetLastError.restype = ctypes.c_char_p
    return lib


class DensePredictor:
    """Probabilities of a float32 matrix for one booster; safe to call from several threads."""

    def __init__(self, booster: Any) -> None:
        self.booster = booster  # keeps the handle alive
        self.handle = booster.handle
        self.lib = library()
        self.local = threading.local()

    def _proxy(self) -> ctypes.c_void_p:
        proxy = getattr(self.local, "proxy", None)
        if proxy is None:
            proxy = ctypes.c_void_p()
            self._check(self.lib.XGProxyDMatrixCreate(ctypes.byref(proxy)))
            weakref.finalize(self, self.lib.XGDMatrixFree, proxy)
            self.local.proxy = proxy
        return proxy

    def _check(self, status: int) -> None:
        if status != 0:
            raise RuntimeError(f"xgboost: {(self.lib.XGBGetLastError() or b'').decode(errors='replace')}")

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        if rows.ndim != 2:
            raise ValueError(f"expected a 2-d matrix, got shape {rows.shape}")
        interface = b'{"data":[%d,true],"shape":[%d,%d],"typestr":"<f4","version":3}' % (
            rows.ctypes.data,
            rows.shape[0],
            rows.shape[1],
        )
        shape = _ShapePointer()
        dims = ctypes.c_uint64()
        result = _FloatPointer()
        self._check(
            self.lib.XGBoosterPredictFromDense(
                self.handle,
                interface,
                CONFIG,
                self._proxy(),
                ctypes.byref(shape),
                ctypes.byref(dims),
                ctypes.byref(result),
            )
        )
        out_shape = tuple(int(shape[i]) for i in range(dims.value))
        out = np.empty(out_shape, dtype=np.float32)
        # the result lives in the booster's per-thread buffer until its next call: copy it out now
        ctypes.memmove(out.ctypes.data, result, out.nbytes)
        return out
