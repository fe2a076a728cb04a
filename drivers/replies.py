"""Strict parsers for the text of instrument replies: anything malformed raises `CorruptReply`.

Python's own `float()` accepts far more than an instrument ever sends (`nan`, `inf`, `1_000`, `  2 `),
and rejects the rest with a bare `ValueError` that would escape a driver. These parsers accept only
the decimal numbers of the wire protocols (`12`, `-0.5`, `.25`, `+1.234000E-01`), finite, and say
which reply was bad. Drivers call them through `drivers.properties`, which counts the detection.
"""

from __future__ import annotations

import math
import re

from drivers.errors import CorruptReply

#: A decimal number as instruments print it: optional sign, digits with at most one point, exponent.
NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER = re.compile(NUMBER, re.ASCII)
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
_EXCERPT = 60


def excerpt(text: str | bytes) -> str:
    """Return `repr(text)`, shortened to its start for long replies (error messages stay one line)."""
    if len(text) <= _EXCERPT:
        return repr(text)
    return f"{text[:_EXCERPT]!r}... ({len(text)} chars)"


def ascii_text(payload: bytes, what: str) -> str:
    """Decode a reply payload as ASCII; raise `CorruptReply` naming `what` if a byte is not ASCII."""
    try:
        return payload.decode("ascii")
    except UnicodeDecodeError:
        raise CorruptReply(f"{what}: non-ASCII reply {excerpt(payload)}") from None


def parse_number(text: str, what: str) -> float:
    """Return the finite decimal number `text` is; raise `CorruptReply` naming `what` otherwise."""
    if _NUMBER.fullmatch(text) is None:
        raise CorruptReply(f"{what}: not a number {excerpt(text)}")
    value = float(text)
    if not math.isfinite(value):
        raise CorruptReply(f"{what}: number out of float range {excerpt(text)}")
    return value


def parse_integer(text: str, what: str) -> int:
    """Return the decimal integer `text` is; raise `CorruptReply` naming `what` otherwise."""
    if _INTEGER.fullmatch(text) is None:
        raise CorruptReply(f"{what}: not an integer {excerpt(text)}")
    return int(text)


def parse_numbers(text: str, what: str, count: int | None = None, separator: str = ",") -> list[float]:
    """Return the `separator`-separated numbers of `text` (exactly `count` of them, if given)."""
    fields = text.split(separator)
    if count is not None and len(fields) != count:
        raise CorruptReply(f"{what}: expected {count} fields, got {len(fields)} in {excerpt(text)}")
    return [parse_number(field, what) for field in fields]


def parse_in_range(text: str, what: str, low: float, high: float) -> float:
    """Return the number `text` is if it lies in [low, high]; a value outside is a corrupt reply."""
    value = parse_number(text, what)
    if not low <= value <= high:
        raise CorruptReply(f"{what}: {value:g} outside the plausible [{low:g}, {high:g}]")
    return value
