"""Training killed with SIGKILL at random moments, then resumed: the checkpoint folder always loads, and
the resumed run reaches the weights of an uninterrupted run, bit for bit."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.training.checkpoint import LAST, read_checkpoint

REPO = Path(__file__).resolve().parents[1]
EPOCHS = 40

WORKER = textwrap.dedent(f"""
    import sys
    from pathlib import Path
    import numpy as np
    import nnscratch as nn

    folder = Path(sys.argv[1])
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 384)
    x = (rng.standard_normal((384, 20)) + np.eye(3, 20)[y] * 1.5).astype(np.float32)
    model = nn.Sequential([nn.Dense(48, activation="relu"), nn.Dropout(0.25), nn.Dense(32, activation="tanh"),
                           nn.Dense(3), nn.Softmax()], seed=11)
    model.compile("categorical_crossentropy", nn.Adam(lr=nn.schedules.CosineDecay(0.01, 24 * {EPOCHS})),
                  metrics=["accuracy"])
    resume = folder if (folder / "last.npz").exists() else None
    model.fit(x, y, epochs={EPOCHS}, batch_size=16, validation_split=0.1, callbacks=[nn.Checkpoint(folder)],
              resume_from=resume, verbose=0)
""")


def start(script: Path, folder: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, str(script), str(folder)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)


def run_to_end(script: Path, folder: Path) -> None:
    proc = start(script, folder)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()


def kill_and_resume(tmp_path: Path, kills: int, seed: int) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    reference, folder = tmp_path / "reference", tmp_path / "killed"
    started = time.perf_counter()
    run_to_end(script, reference)  # uninterrupted; also tells how long a whole run takes here
    whole = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import nnscratch"], env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    startup = time.perf_counter() - started
    training = max(whole - startup, 0.2)
    chooser = random.Random(seed)
    epochs_seen, mid_write, late = [0], 0, 0.0
    for _ in range(kills):
        proc = start(script, folder)
        time.sleep(0.8 * startup + late + chooser.uniform(0.0, 0.35) * training)  # before or during training
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        mid_write += any(p.name.endswith(".tmp") for p in folder.glob(".*"))
        epoch = 0
        if (folder / LAST).exists():  # the folder always holds a complete, loadable checkpoint
            state = read_checkpoint(folder)
            assert state.epoch >= epochs_seen[-1]
            assert len(state.history.epoch) == state.epoch
            nn.load_model(folder / LAST)
            epoch = state.epoch
        late = 0.0 if epoch > epochs_seen[-1] else late + 0.5 * startup  # a slow start-up: kill later next time
        epochs_seen.append(epoch)
        if epoch == EPOCHS:
            break
    run_to_end(script, folder)
    done, expected = read_checkpoint(folder), read_checkpoint(reference)
    assert done.epoch == expected.epoch == EPOCHS
    assert done.history.to_dict() == expected.history.to_dict()
    assert done.weights.keys() == expected.weights.keys()
    for name in expected.weights:
        assert np.array_equal(done.weights[name], expected.weights[name]), name
    for key, value in expected.optimizer_state.items():
        assert np.array_equal(done.optimizer_state[key], value), key
    assert sorted(p.name for p in folder.iterdir()) == [LAST]  # no temporary file left after the last run
    assert len(set(epochs_seen)) > 1, f"no kill landed during training: {epochs_seen}"
    print("epochs at the kills:", epochs_seen, f"kills during a write: {mid_write}",
          f"(start-up {startup:.2f} s, a whole run {whole:.2f} s)")


def test_killed_training_resumes_to_the_same_weights(tmp_path):
    kill_and_resume(tmp_path, kills=3, seed=0)


@pytest.mark.slow
def test_killed_many_times(tmp_path):
    kill_and_resume(tmp_path, kills=15, seed=1)
