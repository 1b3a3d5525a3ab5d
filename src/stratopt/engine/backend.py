"""Array backends: the numeric code is written once against an array module."""

from __future__ import annotations

import logging
import os
from types import ModuleType
from typing import Any

from stratopt.errors import ConfigError


def numpy_module() -> ModuleType:
    import numpy

    return numpy


def cupy_module() -> ModuleType:
    """CuPy, or a clear error naming what is missing."""
    try:
        import cupy
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise ConfigError(
            "backend 'cupy' selected but CuPy is not installed (pip install 'stratopt[gpu]')"
        ) from exc
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # pragma: no cover - depends on the machine
        raise ConfigError(f"backend 'cupy' selected but no CUDA device is usable: {exc}") from exc
    return cupy


def get_xp(name: str = "numpy") -> ModuleType:
    """The array module registered under `name` in the stratopt.backends group."""
    from stratopt.registry import load

    return load("backends", name)()


def to_numpy(array):  # noqa: ANN001, ANN201 - any backend's array in, NumPy out
    """One transfer back to the host where the array lives on a device."""
    get = getattr(array, "get", None)
    return get() if callable(get) else array


def cupy_available() -> bool:
    try:
        cupy_module()
    except ConfigError:
        return False
    return True


def load_kernels(xp: ModuleType, metric: Any, compiled: bool | None) -> ModuleType | None:
    """The numba kernels when they apply: NumPy backend, a statistics-based metric, numba present."""
    if compiled is False or os.environ.get("STRATOPT_NO_NUMBA"):
        return None
    usable = xp is numpy_module() and hasattr(metric, "from_stats")
    if not usable:
        if compiled:
            raise ValueError("compiled kernels need the NumPy backend and a built-in metric")
        return None
    try:
        from stratopt.engine import kernels
    except ImportError:
        if compiled:
            raise
        logging.getLogger("stratopt.engine.evaluator").warning(
            "numba is not installed: the evaluator runs its NumPy path"
        )
        return None
    return kernels
