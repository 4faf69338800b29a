"""The nnscratch benchmark suite: nnscratch against plain NumPy (and PyTorch, scikit-learn when installed).

    python -m nnscratch.bench --quick            # smoke run, about two minutes, no torch or data needed
    python -m nnscratch.bench --list             # the workloads
    python -m nnscratch.bench --only mnist_epoch --json results/bench.json

``main(argv)`` is the command line (it returns the exit status). The parent process runs each workload
at each thread count in a fresh worker process (``worker.py``) and derives ratios, fractions of the
measured matmul peak and thread speedups from the workers' rows (``derived.py``, ``targets.py``).
``benchmarks/README.md`` in the source repository explains how to read the output.
"""

from __future__ import annotations

from .cli import main

__all__ = ["main"]
