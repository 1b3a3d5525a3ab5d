"""Array backends: the numeric code is written once against an array module."""

from __future__ import annotations

from types import ModuleType

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
