"""examples/custom_train_step.py: a GAN trained by fit through an overridden train_step."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "custom_train_step.py"


def test_the_gan_learns_the_mean_of_its_data(tmp_path: Path) -> None:
    out = tmp_path / "gan.json"
    subprocess.run([sys.executable, str(EXAMPLE), "--epochs", "30", "--seed", "0", "--json", str(out)],
                   check=True, capture_output=True, text=True, timeout=300)
    result = json.loads(out.read_text())
    assert abs(result["mean"] - 3.0) < 0.25, result  # the generator started near 0
    assert result["std"] < 1.5, result
    # at the equilibrium both losses are near ln 2: each network holds the other in check
    assert 0.5 < result["d_loss"] < 0.8 and 0.5 < result["g_loss"] < 1.0, result
