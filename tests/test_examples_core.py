"""The lesson scripts run as a user runs them and meet the figures they promise."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name, *args):
    return subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, timeout=300)


def test_perceptron_learns_to_add(tmp_path):
    out = tmp_path / "result.json"
    proc = run_example("perceptron_addition.py", "--json", str(out), "--seed", "0")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert result["max_abs_error"] <= 0.05
    assert result["epochs"] == 10_000
    table = [line for line in proc.stdout.splitlines() if "+" in line]
    assert len(table) == 25  # one row per test pair: input, prediction, true sum


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_xor_is_learned_both_ways(tmp_path, seed):
    """Learned means every output within 0.1 of its target (not just on the right side of 0.5)."""
    out = tmp_path / "xor.json"
    proc = run_example("xor.py", "--json", str(out), "--seed", str(seed))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert result["accuracy"] == 1.0 and result["epochs"] == 1000 and result["train_seconds"] > 0
    assert result["fast"]["accuracy"] == 1.0 and result["fast"]["epochs"] < 1000
    for run in (result, result["fast"]):
        assert run["max_error"] < 0.1 and run["learned"] is True
    printed = re.findall(r"^  (\d) xor (\d) -> (-?\d\.\d{3})$", proc.stdout, re.M)
    assert len(printed) == 8  # four points, two recipes
    for a, b, p in printed:
        assert abs(float(p) - (int(a) ^ int(b))) <= 0.1, proc.stdout
    assert proc.stdout.count("(every output within 0.1 of its target)") == 2


def test_bad_argument_exits_2_without_traceback():
    proc = run_example("xor.py", "--seed", "minus-one")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
