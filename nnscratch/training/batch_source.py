"""Batches that do not sit in one array: a ``PyDataset`` (batch ``i`` on request, ``len`` batches an epoch)
or a Python generator / iterator of batches, for ``fit``, ``evaluate`` and ``predict``.

A batch is ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``, where ``x`` and ``y`` are what the
array methods take (an array, or a list or dict of arrays for several inputs/outputs). Epochs follow
Keras: an epoch is ``len(dataset)`` batches (in a new random order each epoch when ``fit`` shuffles), or
``steps_per_epoch`` batches taken on from where the last epoch stopped; a generator without
``steps_per_epoch`` gives one epoch per pass until it is exhausted.
"""

from __future__ import annotations

import itertools
import warnings
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from ..core.errors import InvalidTypeError, InvalidValueError
from ..core.validation import positive_int


class PyDataset:
    """Base class for data that come one batch at a time: subclass it with ``__len__`` (batches per epoch)
    and ``__getitem__(i)`` (batch ``i``: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``), and optionally
    ``on_epoch_begin`` / ``on_epoch_end`` (e.g. to reshuffle files). Keras's ``keras.utils.PyDataset``.

    ``workers > 1`` loads up to ``max_queue_size`` batches ahead in that many threads (for batches read
    from files: NumPy and file reads release the GIL); the batches still arrive in order, so training is
    the same. ``use_multiprocessing`` is accepted for Keras programs and also uses threads: nnscratch never
    pickles."""

    workers, use_multiprocessing, max_queue_size = 1, False, 10  # for a subclass that skips super().__init__()

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10) -> None:
        self.workers = positive_int(workers, "workers")
        self.use_multiprocessing = bool(use_multiprocessing)
        self.max_queue_size = positive_int(max_queue_size, "max_queue_size")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__ (the number of batches)")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__ (batch number index)")

    @property
    def num_batches(self) -> int | None:
        """Batches per epoch (``len``); a subclass may return None instead, for endless data."""
        return len(self)

    def __iter__(self) -> Iterator[Any]:
        """The batches in order (one pass)."""
        return (self[i] for i in range(len(self)))

    def on_epoch_begin(self) -> None:
        """Called before each epoch's first batch."""

    def on_epoch_end(self) -> None:
        """Called after each epoch's last batch."""


def is_batch_source(x: Any) -> bool:
    """``x`` is a ``PyDataset`` or an iterator (a generator) rather than arrays."""
    return isinstance(x, (PyDataset, Iterator))


def split_batch(batch: Any, where: str) -> tuple[Any, Any, Any]:
    """``(x, y, sample_weight)`` of a batch (missing parts None)."""
    if isinstance(batch, np.ndarray):
        return batch, None, None
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple) or len(batch) not in (1, 2, 3):
        what = f"a tuple of length {len(batch)}" if isinstance(batch, tuple) else type(batch).__name__
        raise InvalidTypeError(f"{where} is {what}; expected x, (x,), (x, y) or (x, y, sample_weight), with x "
                               f"and y arrays (lists of arrays for several inputs or outputs)")
    return (*batch, *[None] * (3 - len(batch)))


class BatchSource:
    """The batches of ``data`` (a ``PyDataset`` or an iterator) epoch by epoch, for one ``fit``,
    ``evaluate`` or ``predict`` call. ``steps``: batches per epoch (None: ``len(data)``, or until a
    generator is exhausted); ``shuffle``: a new order of a ``PyDataset``'s batches each epoch."""

    def __init__(self, data: Any, steps: Any = None, shuffle: bool = False, name: str = "x") -> None:
        self.data, self.name = data, name
        self.label = f"{name} ({'generator' if isinstance(data, Iterator) else type(data).__name__})"
        self.dataset = data if isinstance(data, PyDataset) else None
        self.size: int | None = None
        self.steps = None if steps is None else positive_int(steps, "steps")
        if self.dataset is not None:
            size = self.dataset.num_batches
            if size is None and self.steps is None:
                raise InvalidValueError(f"{self.label} is endless (num_batches is None): give steps_per_epoch (or "
                                        f"steps) to say how many batches make an epoch")
            self.size = None if size is None else positive_int(size, f"the number of batches of {self.label}",
                                                               minimum=0)
            if self.size == 0:
                raise InvalidValueError(f"{self.label} has no batches (len is 0)")
        self.shuffle = shuffle
        self.pass_: Iterator[Any] | None = None  # the pass over the data that the next epoch goes on with
        self.taken = 0  # batches taken from it
        self._pool: ThreadPoolExecutor | None = None

    @property
    def per_epoch(self) -> int | None:
        """Batches per epoch (None: unknown until a generator runs out)."""
        return self.steps if self.steps is not None else self.size

    def first_x(self) -> Any:
        """The inputs of the first batch, to build a model from (a generator keeps the batch for its epoch)."""
        if self.dataset is not None:
            batch = self.dataset[0]
        else:
            try:
                batch = next(self.data)
            except StopIteration:
                raise InvalidValueError(f"{self.label} yielded no batches") from None
            self.data = itertools.chain([batch], self.data)
        return split_batch(batch, f"batch 0 of {self.label}")[0]

    def _new_pass(self, rng: np.random.Generator | None) -> Iterator[Any]:
        if self.dataset is None:
            return iter(self.data)  # a generator's next pass is the rest of it
        order: Iterable[Any]
        if self.size is None:
            order = itertools.count()  # endless: batch after batch, in order
        else:
            order = rng.permutation(self.size) if self.shuffle and rng is not None else range(self.size)
        if self.dataset.workers > 1:
            return self._prefetched(order)
        return (self.dataset[int(i)] for i in order)

    def _prefetched(self, order: Iterable[Any]) -> Iterator[Any]:
        """The batches of ``order`` loaded ahead in threads, in order."""
        dataset = self.dataset
        assert dataset is not None  # only for a PyDataset
        if self._pool is None:
            self._pool = ThreadPoolExecutor(dataset.workers, thread_name_prefix="nnscratch-data")
        ahead: deque[Future[Any]] = deque()
        for i in order:
            ahead.append(self._pool.submit(dataset.__getitem__, int(i)))
            if len(ahead) >= dataset.max_queue_size:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()

    def epoch(self, rng: np.random.Generator | None = None) -> Iterator[tuple[int, Any, Any, Any]]:
        """``(index, x, y, sample_weight)`` for each batch of the next epoch."""
        if self.dataset is not None:
            self.dataset.on_epoch_begin()
        if self.pass_ is None or self.steps is None:
            self.pass_, self.taken = self._new_pass(rng), 0
        count = 0
        while self.steps is None or count < self.steps:
            if self.size is not None and self.taken >= self.size:  # the pass is over
                if self.steps is not None:  # before steps_per_epoch batches
                    self._run_out()
                break
            try:
                batch = next(self.pass_)
            except StopIteration:
                self.pass_ = None
                if self.steps is not None or count == 0:
                    self._run_out()
                break
            self.taken += 1
            yield (count, *split_batch(batch, f"batch {count} of {self.label}"))
            count += 1
        if self.size is not None and self.taken >= self.size:
            self.pass_ = None  # the next epoch starts a new pass
        if self.dataset is not None:
            self.dataset.on_epoch_end()

    def _run_out(self) -> None:
        warnings.warn(f"{self.label} ran out of batches: an epoch of steps_per_epoch={self.steps} batches needs "
                      f"more than {self.taken} left in it (a generator must yield at least steps_per_epoch x "
                      f"epochs batches; a PyDataset has {self.size} per pass)" if self.steps is not None else
                      f"{self.label} ran out of batches; an exhausted generator has no more epochs (make it "
                      f"loop forever and pass steps_per_epoch)", stacklevel=4)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
