"""Figures derived from the rows: fraction of the matmul peak, ours/impl time ratios, thread speedups."""

from __future__ import annotations

from typing import Any


def peaks_by_threads(results: dict[str, Any]) -> dict[tuple[int, str], float]:
    """The measured matmul peak in GFLOP/s by ``(threads, dtype)``."""
    return {(int(r["threads"]), r["dtype"]): r["gflops"] for r in results.get("peak_rows", [])}


def add_derived(results: dict[str, Any]) -> None:
    """Fill in fraction of peak, ours/impl time ratios and all-cores vs 1-thread speedups on the rows."""
    peaks = peaks_by_threads(results)
    rows = results["rows"]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        peak = peaks.get((int(r["threads"]), r.get("dtype")))
        if r.get("gflops") and peak:
            r["fraction_of_peak"] = r["gflops"] / peak
        groups.setdefault((r["workload"], r["config"], r["threads"]), []).append(r)
    for group in groups.values():
        ours = next((r for r in group if r["impl"] == "nnscratch"), None)
        for r in group:
            if ours is not None and r is not ours and r["median_s"] > 0:
                r["ours_over_impl"] = ours["median_s"] / r["median_s"]
    by_impl: dict[tuple, dict[int, dict]] = {}
    for r in rows:
        by_impl.setdefault((r["workload"], r["config"], r["impl"]), {})[int(r["threads"])] = r
    for per_threads in by_impl.values():
        if 1 in per_threads and len(per_threads) > 1:
            top = per_threads[max(per_threads)]
            if top["median_s"] > 0:
                top["speedup_vs_1_thread"] = per_threads[1]["median_s"] / top["median_s"]


def find_row(rows: list[dict], workload: str, impl: str, threads: int, config: str | None = None,
             headline: bool = False) -> dict | None:
    """The first row of ``workload`` by ``impl`` at ``threads`` (in ``config``; a headline row if asked), or None."""
    for r in rows:
        if r["workload"] == workload and r["impl"] == impl and int(r["threads"]) == threads:
            if config is not None and r["config"] != config:
                continue
            if headline and not r.get("headline", True):
                continue
            return r
    return None


def first_config(rows: list[dict], workload: str) -> str | None:
    """The first configuration a workload reported (its headline), or None."""
    return next((r["config"] for r in rows if r["workload"] == workload), None)
