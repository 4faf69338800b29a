"""The machine under test: CPU and BLAS description, measured matmul peak, memory (RSS) probes.

Nothing here needs more than NumPy; threadpoolctl (the optional ``bench`` extra), torch and
scikit-learn are only described when they are installed.
"""

from __future__ import annotations

import io
import os
import platform
import resource
import sys
import time
import warnings
from contextlib import redirect_stdout
from typing import Any

import numpy as np


# ----------------------------------------------------------------------------- cores and CPU
def cpu_count() -> int:
    """CPUs this process may run on (the affinity mask where available, else ``os.cpu_count()``)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (Linux), else ``platform.processor()``."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def cpu_flags() -> list[str]:
    """The SIMD flags relevant to matmul speed (avx2, fma, avx512*...), from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = line.split(":", 1)[1].split()
                    return sorted(f for f in flags if f.startswith(("avx", "fma", "sse4", "amx")))
    except OSError:
        pass
    return []


# ----------------------------------------------------------------------------- BLAS and versions
def blas_info() -> dict[str, Any]:
    """The BLAS NumPy uses: from threadpoolctl at run time when installed, else NumPy's build config."""
    info: dict[str, Any] = {}
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        info["source"] = "numpy.show_config (threadpoolctl not installed)"
    else:
        info["source"] = "threadpoolctl"
        info["threadpools"] = [
            {k: v for k, v in pool.items() if k in ("user_api", "internal_api", "version", "num_threads",
                                                      "threading_layer", "architecture", "prefix")}
            for pool in threadpool_info()
        ]
    try:
        with warnings.catch_warnings(), redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            config = np.show_config(mode="dicts")
        blas = config.get("Build Dependencies", {}).get("blas", {})
        keys = ("name", "version", "openblas configuration")
        info["numpy_build_blas"] = {k: blas.get(k) for k in keys if blas.get(k)}
    except Exception as exc:  # older NumPy without mode="dicts"
        info["numpy_build_blas"] = {"error": f"{type(exc).__name__}: {exc}"}
    return info


def blas_threads() -> int | None:
    """The thread count NumPy's BLAS reports now (threadpoolctl), or None when it cannot be known."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    counts = [pool.get("num_threads") for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return counts[0] if counts else None


def _version(module: str) -> str | None:
    """The installed version of ``module`` without importing it (importing torch costs a second)."""
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return None
    dist = {"sklearn": "scikit-learn"}.get(module, module)
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def describe_machine() -> dict[str, Any]:
    """Everything needed to interpret the figures: CPU, cores, memory, BLAS, library versions."""
    import nnscratch

    mem_total = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_total = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {
        "cpu_model": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cores_available": cpu_count(),
        "cores_total": os.cpu_count(),
        "memory_total_bytes": mem_total,
        "platform": platform.platform(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "blas": blas_info(),
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "nnscratch": getattr(nnscratch, "__version__", None),
            "threadpoolctl": _version("threadpoolctl"),
            "torch": _version("torch"),
            "sklearn": _version("sklearn"),
            "matplotlib": _version("matplotlib"),
        },
        "python_executable": sys.executable,
    }


# ----------------------------------------------------------------------------- matmul peak
def matmul_flops(n: int, k: int, m: int) -> int:
    """Floating-point operations of an ``(n, k) @ (k, m)`` product (one multiply and one add each)."""
    return 2 * n * k * m


def measure_peak(dtype: Any = np.float32, n: int = 2048, reps: int = 5, min_seconds: float = 0.0) -> dict[str, Any]:
    """Best achieved GFLOP/s of ``(n, n) @ (n, n)`` in ``dtype`` over ``reps`` timed products (after one warm-up).

    The best (not the median) is the machine's attainable peak with this BLAS and thread count.
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype)
    np.matmul(a, b, out=out)  # warm-up: threads started, pages touched
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < reps or time.perf_counter() - started < min_seconds:
        t0 = time.perf_counter()
        np.matmul(a, b, out=out)
        times.append(time.perf_counter() - t0)
    flops = matmul_flops(n, n, n)
    return {
        "dtype": np.dtype(dtype).name,
        "n": n,
        "reps": len(times),
        "best_seconds": min(times),
        "median_seconds": float(np.median(times)),
        "gflops": flops / min(times) / 1e9,
        "gflops_median": flops / float(np.median(times)) / 1e9,
    }


# ----------------------------------------------------------------------------- memory
def _status_field(field: str) -> int | None:
    """A ``kB`` field of /proc/self/status (VmRSS, VmHWM) in bytes, or None off Linux."""
    try:
        with open("/proc/self/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def ru_maxrss_bytes() -> int:
    """``getrusage(RUSAGE_SELF).ru_maxrss`` in bytes (Linux reports kB, macOS bytes)."""
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value if sys.platform == "darwin" else value * 1024


def current_rss_bytes() -> int:
    """The resident set size now (VmRSS), falling back to the peak where /proc is unavailable."""
    value = _status_field("VmRSS")
    return value if value is not None else ru_maxrss_bytes()


def peak_rss_bytes() -> int:
    """The peak resident set size (VmHWM, resettable with ``reset_peak_rss``), else ``ru_maxrss``."""
    value = _status_field("VmHWM")
    return value if value is not None else ru_maxrss_bytes()


def reset_peak_rss() -> bool:
    """Reset the peak RSS (VmHWM) to the current RSS (Linux >= 4.0); False where that is not possible.

    ``ru_maxrss`` itself cannot be reset, so a worker that reset the mark reads VmHWM instead; both are
    reported.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class MemoryProbe:
    """Peak RSS of a piece of work relative to a baseline taken after imports and data loading.

    ``probe = MemoryProbe(); ... work ...; probe.report()`` gives the baseline RSS, the peak and the
    increment in bytes. The baseline is the current RSS at construction; the peak mark is reset there
    when the OS allows (``method`` says which counter was used).
    """

    def __init__(self) -> None:
        import gc

        gc.collect()
        self.baseline = current_rss_bytes()
        self.ru_baseline = ru_maxrss_bytes()
        self.resettable = reset_peak_rss()

    def report(self) -> dict[str, Any]:
        peak = peak_rss_bytes() if self.resettable else ru_maxrss_bytes()
        return {
            "baseline_rss_bytes": self.baseline,
            "peak_rss_bytes": peak,
            "increment_bytes": max(0, peak - self.baseline),
            "ru_maxrss_bytes": ru_maxrss_bytes(),
            "ru_maxrss_at_baseline_bytes": self.ru_baseline,
            "method": "VmHWM reset at baseline" if self.resettable else "ru_maxrss (includes loading peaks)",
        }
