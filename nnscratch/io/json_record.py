"""Parse a model file's JSON record within bounds: size, nesting depth and integer length checked first.

``json.loads`` recurses once per nesting level (a record nested 200,000 deep is a ``RecursionError``) and
Python refuses to parse integers of more than 4300 digits (``ValueError``). Here the nesting depth is
measured without recursion (brackets outside strings, counted with numpy) before parsing, and integers
longer than ``MAX_INT_DIGITS`` are refused while parsing; every problem is a ``ModelFileError``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from ..core.errors import ModelFileError

MAX_INT_DIGITS = 40  # no size, count or seed in a record is longer; a 5000-digit integer is refused
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STRING = re.compile(rb'"[^"]*"')


def nesting_depth(data: bytes) -> int:
    """The deepest nesting of ``[`` / ``{`` in JSON text ``data`` (brackets inside strings do not count)."""
    stripped = np.frombuffer(_STRING.sub(b'""', _ESCAPE.sub(b"", data)), dtype=np.uint8)  # linear: no backtracking
    if not stripped.size:
        return 0
    step = (np.isin(stripped, (ord("["), ord("{"))).astype(np.int64)
            - np.isin(stripped, (ord("]"), ord("}"))).astype(np.int64))
    return int(np.cumsum(step).max(initial=0))


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _TooLong(f"an integer of {digits} digits (at most {MAX_INT_DIGITS} are accepted)")
    return int(text)


class _TooLong(ValueError):
    pass


def parse_record(data: bytes, path: Any, max_bytes: int, max_depth: int) -> Any:
    """The JSON value in ``data`` (UTF-8); ``ModelFileError`` naming ``path`` if it is too big, deep or corrupt."""
    if len(data) > max_bytes:
        raise ModelFileError(f"'{path}' has an architecture record of {len(data)} bytes, more than the limit of "
                             f"{max_bytes} (nnscratch.io.model_file.MAX_RECORD_BYTES)")
    depth = nesting_depth(data)
    if depth > max_depth:
        raise ModelFileError(f"'{path}' has an architecture record nested {depth} levels deep, more than the limit "
                             f"of {max_depth} (nnscratch.io.model_file.MAX_RECORD_DEPTH)")
    try:
        return json.loads(data.decode("utf-8"), parse_int=_parse_int)
    except _TooLong as exc:
        raise ModelFileError(f"'{path}' has a corrupt architecture record: it holds {exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"'{path}' has a corrupt architecture record: {exc}") from None
    except (RecursionError, ValueError) as exc:
        raise ModelFileError(f"'{path}' has a corrupt architecture record ({type(exc).__name__}: {exc})") from None
