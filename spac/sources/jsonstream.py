"""Streams the elements of a top-level JSON array without reading the whole file (SYNTH-PEDES is GBs).

Only the standard library: the file is read in chunks and each element parsed with ``raw_decode``; an element
cut by a chunk boundary is retried with more text. Any syntax problem is a SourceError naming the file and the
character offset, because after one the rest of the file cannot be trusted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from spac.sources.base import SourceError

_WS = re.compile(r"[ \t\n\r]*")


def iter_json_array(path: Path, *, chunk_chars: int = 1 << 20) -> Iterator[Any]:
    """Yield each element of the JSON array in ``path``, in order."""
    decoder = json.JSONDecoder()
    try:
        fh = open(path, encoding="utf-8")  # noqa: SIM115 - closed in the finally below, across yields
    except OSError as err:
        raise SourceError(f"{path}: cannot open JSON file ({err})") from None
    buf, pos, offset, eof = "", 0, 0, False

    def refill() -> bool:
        nonlocal buf, pos, offset, eof
        if eof:
            return False
        try:
            more = fh.read(chunk_chars)
        except UnicodeDecodeError as err:
            raise SourceError(f"{path}: not UTF-8 text ({err})") from None
        eof = not more
        buf, offset, pos = buf[pos:] + more, offset + pos, 0
        return bool(more)

    def skip_ws() -> str:
        """The next non-blank character ('' at end of file), leaving ``pos`` on it."""
        nonlocal pos
        while True:
            pos = _WS.match(buf, pos).end()
            if pos < len(buf) or not refill():
                return buf[pos] if pos < len(buf) else ""

    def fail(what: str, at: int) -> SourceError:
        return SourceError(f"{path}: malformed JSON at character {offset + at}: {what}")

    try:
        if skip_ws() != "[":
            raise fail("expected a top-level array '['", pos)
        pos += 1
        first = True
        while True:
            char = skip_ws()
            if char == "]":
                pos += 1
                if skip_ws():
                    raise fail("text after the closing ']'", pos)
                return
            if not first:
                if char != ",":
                    raise fail(f"expected ',' or ']' between elements, got {char or 'end of file'!r}", pos)
                pos += 1
                skip_ws()
            while True:
                try:
                    value, end = decoder.raw_decode(buf, pos)
                except json.JSONDecodeError as err:
                    if refill():
                        continue
                    raise fail(err.msg, err.pos) from None
                if end == len(buf) and refill():  # a number may continue in the next chunk
                    continue
                break
            pos = end
            first = False
            yield value
    finally:
        fh.close()
