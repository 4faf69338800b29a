"""Get dataset files: download from public mirrors, or copy from a folder, always checksum-verified and atomic.

Mirrors are base URLs; a file's URL is ``<base>/<name>``. They are tried in order. Override them with
the ``mirrors`` argument or the ``NNSCRATCH_MIRROR`` environment variable (whitespace-separated URLs).

Time limits: ``timeout`` bounds each network operation (connect, one read); ``deadline`` bounds a whole
download from one mirror (default ``DEFAULT_DEADLINE`` seconds, or ``$NNSCRATCH_DOWNLOAD_DEADLINE``), so
a server trickling bytes cannot stall it for hours.
"""

from __future__ import annotations

import contextlib
import http.client
import math
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Generator, Sequence
from functools import partial
from pathlib import Path
from typing import IO

from ..core.errors import DatasetError
from .atomic import write_verified
from .checksum import CHUNK, verify_file
from .errors import ChecksumError, DownloadError, MissingFileError, fix_hint
from .files import ENV_MIRROR, known_file
from .paths import data_dir

ENV_DEADLINE = "NNSCRATCH_DOWNLOAD_DEADLINE"
DEFAULT_DEADLINE = 600.0  # seconds for one file from one mirror (MNIST's largest file is 9.9 MB)

MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    "cat": (
        "https://raw.githubusercontent.com/ramakris/coursera-deeplearning/master/neuralnetworks/week2/datasets/",
        "https://raw.githubusercontent.com/Hiren2002/Logistic-Regression/HEAD/datasets/",
    ),
}


def mirror_urls(name: str, mirrors: Sequence[str] | None = None) -> list[str]:
    """URLs to try for ``name``: from ``mirrors``, else ``$NNSCRATCH_MIRROR``, else ``MIRRORS``."""
    bases = list(mirrors) if mirrors is not None else os.environ.get(ENV_MIRROR, "").split()
    if not bases:
        bases = list(MIRRORS[known_file(name).dataset])
    urls = [base.rstrip("/") + "/" + name for base in bases]
    for url in urls:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise DatasetError(f"mirror {url!r} is not an http:// or https:// URL")
    return urls


def _target(name: str, dest: str | os.PathLike[str] | None) -> Path:
    """``<dest>/<name>`` (default folder: ``data_dir()``), creating the folder if needed."""
    known_file(name)
    folder = Path(dest).expanduser() if dest is not None else data_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"cannot create the data folder {folder}: {exc.strerror or exc}") from exc
    return folder / name


class _Progress:
    """A one-line progress bar redrawn in place with carriage returns."""

    def __init__(self, label: str, total: int | None, stream: IO[str]) -> None:
        self.label, self.total, self.stream, self.done, self.shown = label, total, stream, 0, -1

    def update(self, n: int) -> None:
        self.done += n
        if self.total:
            percent = min(100, 100 * self.done // self.total)
            if percent != self.shown:
                self.shown = percent
                bar = "#" * (percent // 5) + "." * (20 - percent // 5)
                self.stream.write(f"\r{self.label} [{bar}] {percent:3d}% of {self.total / 1e6:.1f} MB")
        else:
            self.stream.write(f"\r{self.label} {self.done / 1e6:.1f} MB")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _deadline(deadline: float | None) -> float:
    """``deadline``, else ``$NNSCRATCH_DOWNLOAD_DEADLINE``, else ``DEFAULT_DEADLINE``: a number of seconds > 0."""
    value: str | float
    if deadline is None:
        text = os.environ.get(ENV_DEADLINE, "").strip()
        if not text:
            return DEFAULT_DEADLINE
        source, value = ENV_DEADLINE, text
    else:
        source, value = "deadline", deadline
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if isinstance(value, bool) or not 0 < seconds < math.inf:
        raise DatasetError(f"{source} must be a positive number of seconds, got {value!r}")
    return seconds


def _http_chunks(url: str, timeout: float, progress: bool,
                 deadline: float = DEFAULT_DEADLINE) -> Generator[bytes, None, None]:
    """The body of ``url`` in chunks; every network failure becomes a ``DownloadError`` with a short reason.

    Each read waits at most ``timeout`` seconds; the whole transfer must end within ``deadline`` seconds.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "nnscratch"})
    start = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=min(timeout, deadline)) as response:
            length = response.headers.get("Content-Length", "")
            total = int(length) if length.isdigit() else None
            bar = _Progress(url.rsplit("/", 1)[-1], total, sys.stderr) if progress else None
            received = 0
            try:
                while chunk := response.read1(CHUNK):  # read1: returns what arrived, so the deadline is checked often
                    if time.monotonic() - start > deadline:
                        raise DownloadError(f"not complete within the deadline of {deadline:g} s ({received} of "
                                            f"{total if total is not None else 'unknown'} bytes received; set "
                                            f"{ENV_DEADLINE} or pass deadline= to allow more)")
                    received += len(chunk)
                    if bar:
                        bar.update(len(chunk))
                    yield chunk
            finally:
                if bar:
                    bar.close()
            if total is not None and received != total:
                raise DownloadError(f"connection closed after {received} of {total} bytes")
    except DownloadError:
        raise
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise DownloadError(str(exc.reason)) from exc
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise DownloadError(str(exc) or type(exc).__name__) from exc


def download(name: str, dest: str | os.PathLike[str] | None = None, *,
             mirrors: Sequence[str] | None = None, timeout: float = 30.0,
             progress: bool | None = None, deadline: float | None = None) -> Path:
    """Download the known file ``name`` into the folder ``dest`` (default ``data_dir()``); return its path.

    Mirrors are tried in order until one delivers the exact original (size and SHA-256). ``timeout``
    bounds each network read, ``deadline`` (seconds, default ``$NNSCRATCH_DOWNLOAD_DEADLINE`` or
    ``DEFAULT_DEADLINE``) the whole download from one mirror. A progress bar
    is drawn on stderr when ``progress`` is true (default: when stderr is a terminal). Nothing is left in
    ``dest`` unless the checksum matched (an existing file is replaced atomically). Raises
    ``ChecksumError`` if some mirror sent wrong bytes and none sent the right ones, else ``DownloadError``.
    """
    target = _target(name, dest)
    limit = _deadline(deadline)
    show = sys.stderr.isatty() if progress is None else progress
    failures: list[str] = []
    checksum_failed = False
    for url in mirror_urls(name, mirrors):
        try:
            with contextlib.closing(_http_chunks(url, timeout, show, limit)) as chunks:
                return write_verified(chunks, target, url)
        except ChecksumError as exc:
            checksum_failed = True
            failures.append(str(exc))
        except DownloadError as exc:
            failures.append(f"{url}: {exc}")
    cls = ChecksumError if checksum_failed else DownloadError
    raise cls(f"could not download {name} (tried {'; '.join(failures)}); nothing was written to "
              f"{target.parent}; copy the file from another machine with `python -m nnscratch.datasets "
              f"fetch --from DIR` or set {ENV_MIRROR} to a mirror")


def copy_verified(name: str, source_dir: str | os.PathLike[str], dest: str | os.PathLike[str] | None = None) -> Path:
    """Copy ``<source_dir>/<name>`` into the folder ``dest`` (default ``data_dir()``) if it is the original.

    Atomic like ``download``; if source and target are the same file it is only verified.
    """
    source = Path(source_dir).expanduser() / name
    if not source.is_file():
        raise MissingFileError(f"dataset file {name} not found in {source.parent}; {fix_hint(name)}")
    target = _target(name, dest)
    if target.exists() and os.path.samefile(source, target):
        return verify_file(target)
    try:
        with open(source, "rb") as f:
            return write_verified(iter(partial(f.read, CHUNK), b""), target, str(source))
    except ChecksumError as exc:
        raise ChecksumError(f"{exc}; not copied to {target.parent}; {fix_hint(name)}") from exc
    except OSError as exc:
        if isinstance(exc, DatasetError):
            raise
        raise DatasetError(f"{source}: cannot be read ({exc.strerror or exc})") from exc
