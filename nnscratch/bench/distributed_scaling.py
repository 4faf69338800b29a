"""The paper model of data-parallel training on 8-64 workers, from a suite run's ``distributed_epoch`` rows.

    python -m nnscratch.bench --only distributed_epoch --threads 1,2 --json results/distributed.json
    python -m nnscratch.bench.distributed_scaling results/distributed.json [--bandwidth-gbs 1.25]

Per network, from the Ray rows at 1 and 2 workers: ``c`` the compute per sample on one core
(``compute_us_per_sample`` at 1 worker), ``S`` the bytes of the weights (``bytes_per_step / 2`` at 1
worker) and the synchronisation per step ``s0 + W s1`` (``sync_ms`` at 1 and 2 workers: ``s1 = sync(2) -
sync(1)``, ``s0 = sync(1) - s1``). With W workers, a network of ``b`` bytes/s between machines and a
per-hop latency ``a``, the exchange per step costs, through the driver (what ``fit_distributed`` does)
``T_ps = s0 + W (s1 + 2 S / b)`` and by ring all-reduce among the workers
``T_ar = fixed + 2 (W - 1) a + 2 S (W - 1) / (W b)``; half the step is compute when the per-worker
batch ``B / W`` reaches ``T / c``. See ``docs/distributed.md``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from ..core.errors import InvalidValueError
from .formatting import format_table
from .workloads.distributed_epoch import RAY


def model_inputs(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """``{network: {"c_us", "s0_ms", "s1_ms", "weight_bytes"}}`` from the ``distributed_epoch`` Ray rows."""
    by_net: dict[str, dict[int, dict[str, Any]]] = {}
    for r in rows:
        if r.get("workload") == "distributed_epoch" and r.get("impl") == RAY:
            by_net.setdefault(r["network"], {})[int(r["workers"])] = r
    out = {}
    for net, per_workers in by_net.items():
        if 1 not in per_workers or 2 not in per_workers:
            raise InvalidValueError(f"the {net} rows have workers {sorted(per_workers)}; the model needs 1 and 2 "
                                    "(run the workload with --threads 1,2)")
        one, two = per_workers[1], per_workers[2]
        s1 = two["sync_ms"] - one["sync_ms"]
        out[net] = {"c_us": one["compute_us_per_sample"], "s0_ms": one["sync_ms"] - s1, "s1_ms": s1,
                    "weight_bytes": one["bytes_per_step"] / 2}
    if not out:
        raise InvalidValueError("no distributed_epoch Ray rows in these results: run "
                                "python -m nnscratch.bench --only distributed_epoch --threads 1,2 --json PATH")
    return out


def exchange_ms(inputs: dict[str, float], workers: int, bandwidth: float = 1.25e9, hop_us: float = 50.0,
                fixed_ms: float = 1.0) -> tuple[float, float]:
    """``(T_ps, T_ar)`` in ms per step for ``workers`` workers (``bandwidth`` in bytes/s)."""
    size = inputs["weight_bytes"]
    t_ps = inputs["s0_ms"] + workers * (inputs["s1_ms"] + 2e3 * size / bandwidth)
    t_ar = fixed_ms + 2 * (workers - 1) * hop_us / 1e3 + 2e3 * size * (workers - 1) / (workers * bandwidth)
    return t_ps, t_ar


def scaling_table(rows: list[dict[str, Any]], workers: Sequence[int] = (8, 16, 32, 64),
                  bandwidth: float = 1.25e9, hop_us: float = 50.0, fixed_ms: float = 1.0) -> str:
    """The model's inputs per network, then per W: ``T_ps``, ``T_ar`` and the per-worker batch for 50% compute."""
    inputs = model_inputs(rows)
    lines = ["inputs: " + "; ".join(f"{net}: c = {v['c_us']:.0f} us/sample, sync = {v['s0_ms']:.1f} ms + W x "
                                     f"{v['s1_ms']:.1f} ms, S = {v['weight_bytes'] / 1e6:.2f} MB"
                                     for net, v in inputs.items()),
             f"network {bandwidth / 1e9:g} GB/s, hop latency {hop_us:g} us, all-reduce fixed cost {fixed_ms:g} ms"]
    head, table = ["W"], []
    for net in inputs:
        head += [f"{net}: T_ps ms", "B/W >=", f"{net}: T_ar ms", "B/W >="]
    for w in workers:
        cells: list[Any] = [w]
        for v in inputs.values():
            for t in exchange_ms(v, w, bandwidth, hop_us, fixed_ms):
                cells += [f"{t:.1f}", f"{1e3 * t / v['c_us']:,.0f}"]
        table.append(cells)
    return "\n".join([*lines, format_table(head, table, align="r" * len(head))])


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m nnscratch.bench.distributed_scaling",
                                description="the 8-64 worker paper model from a suite run's distributed_epoch rows")
    p.add_argument("results", help="the --json file of a run with --only distributed_epoch --threads 1,2")
    p.add_argument("--bandwidth-gbs", type=float, default=1.25, help="GB/s between machines (default 1.25: 10 GbE)")
    p.add_argument("--hop-us", type=float, default=50.0, help="all-reduce latency per hop in us (default 50)")
    p.add_argument("--fixed-ms", type=float, default=1.0, help="all-reduce fixed cost per step in ms (default 1)")
    args = p.parse_args(argv)
    with open(args.results, encoding="utf-8") as f:
        rows = json.load(f)["rows"]
    print(scaling_table(rows, bandwidth=args.bandwidth_gbs * 1e9, hop_us=args.hop_us, fixed_ms=args.fixed_ms))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
