"""The ``startup`` workload: whole-process start-up, ``import nnscratch`` vs ``import numpy``, and the XOR example.

Each candidate is a fresh interpreter, timed from launch to exit; the candidates are interleaved and the
goals use the best of the repetitions (start-up times have a long tail on a busy machine). A warm-up run
of each writes the bytecode caches if they are missing, as an installed package has them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nnscratch

from ...core.errors import NNScratchError
from ..context import Context
from ..impls import OURS
from ..targets import IMPORT_CONFIG, NUMPY_IMPORT, XOR_CONFIG
from ..timing import interleaved, make_row

BARE = "python -c pass"


def startup_env() -> dict[str, str]:
    """The worker's environment with this nnscratch first on the path and bytecode caching on."""
    parent = str(Path(nnscratch.__file__).resolve().parents[1])
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (parent, os.environ.get("PYTHONPATH")) if p)
    return env


def xor_script() -> Path | None:
    """``examples/xor.py`` of the checkout this nnscratch comes from, or None (an installed package has none)."""
    path = Path(nnscratch.__file__).resolve().parents[1] / "examples" / "xor.py"
    return path if path.is_file() else None


def run_process(cmd: list[str], env: dict[str, str]) -> None:
    """Run ``cmd`` to its end, its output discarded; a failure is an error."""
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise NNScratchError(f"start-up benchmark: {' '.join(cmd)} exited with status {done.returncode} ({last}); "
                             "expected 0")


# Appended to a candidate to report its own peak RSS. /proc/self/status's VmHWM belongs to the process image
# (ru_maxrss would also count the benchmark process it was forked from).
PEAK_PROBE = """
import sys as _sys
try:
    with open("/proc/self/status") as _status:
        _sys.stderr.write("\\nVmHWM " + [ln.split()[1] for ln in _status if ln.startswith("VmHWM:")][0] + "\\n")
except (OSError, IndexError):
    pass
"""


def peak_rss(code: str, env: dict[str, str]) -> int | None:
    """Peak RSS in bytes of a fresh interpreter running ``code`` (an untimed run), or None where unknown."""
    done = subprocess.run([sys.executable, "-c", code + PEAK_PROBE], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    lines = [line for line in done.stderr.splitlines() if line.startswith("VmHWM ")]
    return int(lines[-1].split()[1]) * 1024 if done.returncode == 0 and lines else None


def startup(ctx: Context) -> list[dict[str, Any]]:
    """``import nnscratch``, ``import numpy``, a bare interpreter and ``examples/xor.py``, interleaved."""
    env = startup_env()
    commands = {OURS: [sys.executable, "-c", "import nnscratch"], NUMPY_IMPORT: [sys.executable, "-c", "import numpy"],
                BARE: [sys.executable, "-c", "pass"]}
    script = xor_script()
    if script is not None:
        commands["xor"] = [sys.executable, str(script)]
    else:
        ctx.note("startup: examples/xor.py is not next to this nnscratch (an installed package): its row is skipped")

    def candidate(name: str) -> Callable[[], None]:
        return lambda: run_process(commands[name], env)

    timed = interleaved({name: candidate(name) for name in commands}, ctx.reps_for(20, 8), max(1, ctx.warmup))
    codes = {OURS: "import nnscratch", NUMPY_IMPORT: "import numpy", BARE: "pass"}
    if script is not None:  # the script as __main__, as `python examples/xor.py` runs it
        codes["xor"] = (f"import runpy, sys\nsys.argv = [{str(script)!r}]\nsys.path.insert(0, {str(script.parent)!r})"
                        f"\nrunpy.run_path({str(script)!r}, run_name='__main__')")
    peaks = {name: peak_rss(code, env) for name, code in codes.items()}
    rows = []
    for name, t in timed.items():
        config = XOR_CONFIG if name == "xor" else IMPORT_CONFIG
        extra: dict[str, Any] = {"command": " ".join(commands[name][1:]) if name != BARE else "pass"}
        if peaks.get(name):
            extra["memory"] = {"peak_rss_bytes": peaks[name], "method": "VmHWM of the process, one untimed run"}
        rows.append(make_row("startup", config, OURS if name == "xor" else name, t["times"], threads=ctx.threads,
                             dtype="-", steps=0, **extra))
    return rows
