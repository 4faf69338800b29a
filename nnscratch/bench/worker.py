"""The worker side: one workload at one thread count in a fresh process, and how the parent spawns it."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nnscratch

from . import workloads
from .context import Context
from .machine import blas_threads
from .results import jsonable, write_results
from .selection import UsageError, parse_threads

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS", "BLIS_NUM_THREADS")


def worker_main(args: argparse.Namespace) -> int:
    """Run one workload at one thread count in this (fresh) process and write its JSON."""
    threads = parse_threads(args.threads, 1)
    if len(threads) != 1:
        raise UsageError("--worker runs one thread setting: pass --threads T")
    t = threads[0]
    limiter = None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        pass
    else:
        limiter = threadpool_limits(limits=t)
    nnscratch.set_num_threads(t)  # its data-parallel training steps, like torch.set_num_threads(t)

    ctx = Context(threads=t, reps=args.reps, warmup=args.warmup, quick=args.quick, data_dir=args.data_dir,
                  use_torch=not args.no_torch, use_sklearn=not args.no_sklearn)
    workload = workloads.get(args.worker)
    start = time.perf_counter()
    rows = workload.run(ctx)
    out = {
        "workload": workload.name, "threads": t, "rows": rows, "notes": ctx.notes, "data_source": ctx.data_source,
        "seconds": time.perf_counter() - start, "blas_threads": blas_threads(),
        "env": {k: os.environ.get(k) for k in THREAD_VARS if os.environ.get(k) is not None},
        "threadpoolctl": limiter is not None, "nnscratch_threads": nnscratch.get_num_threads(),
    }
    if "torch" in sys.modules:
        out["torch_threads"] = sys.modules["torch"].get_num_threads()
    if args.worker_out:
        write_results(args.worker_out, out)
    else:
        print(json.dumps(jsonable(out)))
    return 0


def worker_env(threads: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker: every BLAS/OpenMP thread variable set to ``threads``."""
    env = dict(os.environ if base is None else base)
    for var in THREAD_VARS:
        env[var] = str(threads)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


# A worker imports nnscratch from the folder the parent's copy came from (not whatever the current folder
# holds), then runs this suite's command line with the worker arguments.
WORKER_BOOT = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
               "from nnscratch.bench.cli import main; sys.exit(main(sys.argv[1:]))")


def worker_command(name: str, threads: int, out: str | os.PathLike, args: argparse.Namespace) -> list[str]:
    """The worker's command line: this Python, the same nnscratch, one workload at one thread count."""
    package_parent = str(Path(nnscratch.__file__).resolve().parents[1])
    cmd = [sys.executable, "-c", WORKER_BOOT, package_parent, "--worker", name, "--threads", str(threads),
           "--worker-out", str(out), "--warmup", str(args.warmup)]
    if args.reps is not None:
        cmd += ["--reps", str(args.reps)]
    if args.quick:
        cmd.append("--quick")
    if args.data_dir:
        cmd += ["--data-dir", str(args.data_dir)]
    if args.no_torch:
        cmd.append("--no-torch")
    if args.no_sklearn:
        cmd.append("--no-sklearn")
    return cmd


def spawn_worker(name: str, threads: int, args: argparse.Namespace, timeout: float | None = None) -> dict[str, Any]:
    """Run a worker subprocess; returns its JSON, or ``{"error": ...}`` if it failed."""
    with tempfile.TemporaryDirectory(prefix="nnscratch-bench-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = worker_command(name, threads, out, args)
        try:
            proc = subprocess.run(cmd, env=worker_env(threads), capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"workload": name, "threads": threads, "error": f"worker timed out after {timeout:.0f} s"}
        if proc.returncode != 0 or not out.is_file():
            lines = [line for line in (proc.stderr or "").strip().splitlines() if line.strip()]
            last = lines[-1] if lines else f"exit status {proc.returncode}"
            return {"workload": name, "threads": threads, "error": f"worker failed ({last})",
                    "stderr_tail": "\n".join(lines[-20:])}
        return json.loads(out.read_text())
