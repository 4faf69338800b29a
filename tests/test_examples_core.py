"""The lesson scripts run as a user runs them and meet the figures they promise."""

import json
import subprocess
import sys
from pathlib import Path

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


def test_xor_reaches_full_accuracy_both_ways(tmp_path):
    out = tmp_path / "xor.json"
    proc = run_example("xor.py", "--json", str(out), "--seed", "1")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert result["accuracy"] == 1.0 and result["epochs"] == 1000
    assert result["fast"]["accuracy"] == 1.0 and result["fast"]["epochs"] < 1000
    assert result["train_seconds"] > 0


def test_bad_argument_exits_2_without_traceback():
    proc = run_example("xor.py", "--seed", "minus-one")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
