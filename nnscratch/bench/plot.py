"""The optional bar chart (matplotlib, the ``plot`` extra): each implementation's time relative to nnscratch."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .derived import find_row, first_config
from .impls import IMPL_ORDER
from .report import SUMMARY_COLUMNS


def plot_results(results: dict[str, Any], path: str | os.PathLike) -> Path | None:
    """Bar chart: each implementation's time relative to nnscratch, per headline workload and thread count."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    rows, threads = results["rows"], results["settings"]["threads"]
    fig, axes = plt.subplots(1, len(threads), figsize=(6 * len(threads), 4.5), squeeze=False)
    for ax, t in zip(axes[0], threads):
        labels = [title for w, title in SUMMARY_COLUMNS]
        width = 0.8 / len(IMPL_ORDER)
        for i, impl in enumerate(IMPL_ORDER):
            values = []
            for workload, _ in SUMMARY_COLUMNS:
                r = find_row(rows, workload, impl, t, config=first_config(rows, workload))
                ours = find_row(rows, workload, "nnscratch", t, config=first_config(rows, workload))
                values.append(r["median_s"] / ours["median_s"] if r and ours else np.nan)
            if not all(np.isnan(values)):
                ax.bar(np.arange(len(labels)) + (i - len(IMPL_ORDER) / 2 + 0.5) * width, values, width, label=impl)
        ax.axhline(1.0, color="black", lw=0.8)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%.3g"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%.2g"))
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, rotation=20, ha="right", fontsize=8)
        ax.set_ylabel("time relative to nnscratch (> 1: slower than nnscratch)")
        ax.set_title(f"{t} thread{'s' if t > 1 else ''}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
