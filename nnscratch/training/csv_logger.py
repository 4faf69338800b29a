"""``CSVLogger``: one CSV row per epoch (``epoch`` then the log keys in sorted order), as Keras writes it."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

from ..core.errors import InvalidTypeError
from ..io.atomic import atomic_write
from .callbacks import Callback


class CSVLogger(Callback):
    """Write ``filename`` after every epoch (the whole file, atomically: a crash never leaves half a row).
    ``append=True`` keeps the rows a previous run wrote."""

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False) -> None:
        if not isinstance(filename, (str, os.PathLike)):
            raise InvalidTypeError(f"CSVLogger filename must be a path, got {filename!r}")
        self.path, self.separator, self.append = Path(filename), separator, bool(append)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.text = self.path.read_text() if self.append and self.path.is_file() else ""
        self.keys: list[str] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        out = io.StringIO()
        writer = csv.writer(out, delimiter=self.separator, lineterminator="\n")
        if self.keys is None:
            self.keys = sorted(logs)
            if not self.text:
                writer.writerow(["epoch", *self.keys])
        writer.writerow([epoch, *(logs.get(k, "NA") for k in self.keys)])
        self.text += out.getvalue()
        data = self.text.encode()

        def write(f: Any) -> None:
            f.write(data)

        atomic_write(self.path, write)
