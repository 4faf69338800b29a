"""The labels of the implementations the workloads time, in report order."""

from __future__ import annotations

OURS = "nnscratch"
OURS_STEP = "nnscratch train_step loop"
NUMPY_CLASSIC = "numpy per-sample (classic)"
NUMPY_VEC = "numpy vectorized script"
TORCH = "torch"
SKLEARN = "sklearn MLPClassifier"
OURS_OPS = "nnscratch, Dense written with ops"

IMPL_ORDER = [OURS, OURS_STEP, OURS_OPS, NUMPY_CLASSIC, NUMPY_VEC, TORCH, SKLEARN]
