"""nnscratch.utils.confusion, plotting and cost_printer: the reporting pieces the examples and the CLI share."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError, NNScratchError, ShapeError
from nnscratch.utils.confusion import (
    confusion_matrix,
    format_confusion,
    per_class_accuracy,
)
from nnscratch.utils.cost_printer import CostPrinter

PNG = b"\x89PNG\r\n\x1a\n"


def test_confusion_matrix_and_per_class_accuracy() -> None:
    cm = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], classes=3)
    assert cm.dtype == np.int64 and cm.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert confusion_matrix([1, 0], [1, 1], ["no", "yes"]).tolist() == [[0, 1], [0, 1]]
    assert per_class_accuracy(cm) == [0.5, 1.0, pytest.approx(2 / 3)]
    assert per_class_accuracy(np.zeros((2, 2), int)) == [None, None]
    with pytest.raises(InvalidValueError, match="0..2"):
        confusion_matrix([0, 3], [0, 1], 3)
    with pytest.raises(ShapeError):
        confusion_matrix([0, 1], [0], 3)


def test_format_confusion() -> None:
    lines = format_confusion(confusion_matrix(np.arange(10), np.arange(10), 10)).splitlines()
    assert len(lines) == 11 and "accuracy" in lines[0] and lines[1].strip().endswith("100.00%")
    named = format_confusion(np.array([[3, 1], [0, 0]]), names=["non-cat", "cat"]).splitlines()
    assert named[1].split()[:3] == ["non-cat", "3", "1"] and named[1].endswith("75.00%") and named[2].endswith("-")
    with pytest.raises(InvalidValueError):
        format_confusion(np.zeros((2, 2), int), names=["a"])


def test_cost_printer_prints_the_course_lines_and_the_last() -> None:
    lines = []
    model = nn.Sequential([nn.Dense(1, activation="sigmoid")], seed=0)
    model.compile(loss="binary_crossentropy", optimizer=nn.SGD(lr=0.1))
    x, y = np.eye(4, dtype=np.float32), np.array([[0], [1], [1], [0]], np.float32)
    printer = CostPrinter(every=10, log=lines.append)
    history = model.fit(x, y, epochs=25, batch_size=None, verbose=0, callbacks=[printer])
    assert [i for i, _ in printer.printed] == [0, 10, 20, 24]
    assert lines[0] == f"Cost after iteration 0: {history['loss'][0]:f}"
    assert lines[-1] == f"Cost after iteration 24: {history['loss'][24]:f}"
    custom = []
    model.fit(x, y, epochs=2, batch_size=None, verbose=0,
              callbacks=[CostPrinter(1, "{n}/{epochs} {loss:.2f}", log=custom.append)])
    assert [line.split()[0] for line in custom] == ["1/2", "2/2"]


def history() -> nn.History:
    model = nn.Sequential([nn.Dense(1, activation="sigmoid")], seed=0)
    model.compile(loss="binary_crossentropy", optimizer="sgd", metrics=["accuracy"])
    x = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    return model.fit(x, (x[:, :1] > 0).astype(np.float32), epochs=3, validation_split=0.25, verbose=0)


def test_plot_history_and_confusion_write_pngs(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    from nnscratch.utils.plotting import plot_confusion, plot_history

    h = history()
    path = plot_history(h, tmp_path / "curves.png", title="t")
    assert path == tmp_path / "curves.png" and path.read_bytes()[:8] == PNG
    fig = plot_history([h, h.to_dict()])  # two members, no path: the figure
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["member 1", "member 2"]
    single = plot_history(h)
    assert [line.get_label() for line in single.axes[0].get_lines()] == ["training", "validation"]
    assert plot_confusion(np.eye(3, dtype=int), tmp_path / "cm.png").read_bytes()[:8] == PNG
    with pytest.raises(InvalidValueError):
        plot_history({"accuracy": [1.0]})


def test_plotting_without_matplotlib_names_the_extra() -> None:
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from nnscratch.utils.plotting import plot_history\n"
            "from nnscratch.utils.confusion import confusion_matrix\n"
            "assert confusion_matrix([0], [0], 2).tolist() == [[1, 0], [0, 0]]\n"
            "try:\n    plot_history({'loss': [1.0]})\n"
            "except Exception as exc:\n    print(type(exc).__mro__[1:3], exc)\n")
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60,
                          env={**os.environ})
    assert proc.returncode == 0, proc.stderr
    assert "NNScratchError" in proc.stdout and "ImportError" in proc.stdout
    assert 'pip install "nnscratch[plot]"' in proc.stdout and "matplotlib" in proc.stdout
    assert issubclass(__import__("nnscratch.utils.extras", fromlist=["x"]).MissingExtraError, NNScratchError)
