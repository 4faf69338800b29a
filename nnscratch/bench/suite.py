"""The parent side: run the selected workloads in workers, collect their rows and notes, derive the figures."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from . import workloads
from .derived import add_derived
from .machine import cpu_count, describe_machine
from .results import SCHEMA
from .selection import parse_only, parse_threads
from .targets import TARGETS, compute_targets
from .worker import THREAD_VARS, spawn_worker


def run_suite(args: argparse.Namespace, log: Callable[[str], None] | None = None) -> tuple[dict[str, Any], int]:
    """Run the selected workloads in workers; returns the results and the number of failed workers."""
    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    known = list(workloads.WORKLOADS)
    selected = parse_only(args.only, known)
    explicit = bool(args.only)
    cores = cpu_count()
    threads = parse_threads(args.threads, cores, quick=args.quick)
    timeout = args.timeout or (120.0 if args.quick else 1800.0)
    results: dict[str, Any] = {
        "schema": SCHEMA, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": describe_machine(),
        "settings": {"quick": args.quick, "reps": args.reps, "warmup": args.warmup, "threads": threads,
                     "workloads": selected, "data_dir": args.data_dir, "torch": not args.no_torch,
                     "sklearn": not args.no_sklearn, "thread_env_vars": list(THREAD_VARS)},
        "targets_definition": TARGETS, "peak_rows": [], "rows": [], "workers": [], "notes": [],
        "workload_status": {}, "data_source": None,
    }
    failures = 0
    started = time.perf_counter()

    def collect(name: str, t: int) -> dict[str, Any]:
        nonlocal failures
        t0 = time.perf_counter()
        log(f"  {name} at {t} thread{'s' if t > 1 else ''} ...")
        res = spawn_worker(name, t, args, timeout)
        log(f"    done in {time.perf_counter() - t0:.1f} s" + (f" -- {res['error']}" if "error" in res else ""))
        results["workers"].append({k: res.get(k) for k in ("workload", "threads", "seconds", "blas_threads", "env",
                                                           "torch_threads", "threadpoolctl", "error", "stderr_tail")
                                   if res.get(k) is not None})
        if "error" in res:
            failures += 1
            results["notes"].append(f"{name} at {t} threads: {res['error']}")
        for note in res.get("notes", []):
            if note not in results["notes"]:
                results["notes"].append(note)
        if res.get("data_source") and results["data_source"] in (None, res["data_source"]):
            results["data_source"] = res["data_source"]
        return res

    if args.quick and args.threads is None and cores > 1:
        results["notes"].append(f"--quick times 1 BLAS thread only; add --threads 1,{cores} for the all-cores "
                                "comparison (the full run does both)")
    load = results["machine"].get("load_average")
    if load and load[0] > 0.5 * cores:
        results["notes"].append(f"the machine was busy at the start (load average {load[0]:.2f} on {cores} cores): "
                                "absolute times and multi-thread figures are unreliable; ratios are interleaved")
    log(f"nnscratch benchmarks: workloads {', '.join(selected)}; threads {threads}")
    for t in threads:
        results["peak_rows"].extend(collect("peak", t).get("rows", []))
    for name in selected:
        w = workloads.WORKLOADS[name]
        if args.quick and not w.in_quick and not explicit:
            results["workload_status"][name] = "skipped by --quick (run it with --only " + name + ")"
            results["notes"].append(f"{name} skipped by --quick; run `python -m nnscratch.bench --only {name}`")
            continue
        errors = []
        for t in threads:
            res = collect(name, t)
            results["rows"].extend(res.get("rows", []))
            if "error" in res:
                errors.append(res["error"])
        ok = [r for r in results["rows"] if r["workload"] == name]
        results["workload_status"][name] = "ok" if ok and not errors else ("; ".join(errors) or "skipped (see notes)")
    add_derived(results)
    results["targets"] = compute_targets(results)
    results["total_seconds"] = time.perf_counter() - started
    return results, failures
