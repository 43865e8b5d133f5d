r"""JSON every hop can carry: bounded nesting, finite numbers, well-formed Unicode.

Python's ``json`` accepts more than Bedrock, Claude Code or UTF-8 do: ``1e999`` parses to
``inf``, ``"\\ud800"`` to a lone surrogate that no UTF-8 encoder will write, and nesting
is bounded only by the interpreter's stack. Requests are checked here once, at parse time,
so nothing a client sent can fail later, after Nexus was called and billed; answers are
written so that whatever Nexus sent can always be encoded.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

import attrs
import orjson

# Deeper than any real request: Claude Code's own tool schemas, MCP schemas and tool
# inputs nest well under 20 levels counting the body itself. README's API section says so.
MAX_DEPTH = 64

# JSON can spell a surrogate only as an escape; a raw one is invalid UTF-8 and refused
# when the body is decoded. Scanning every string is skipped unless one may be there.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Path components an error message names before cutting the path short.
_SHOWN = 8


def finite_float(text: str) -> float:
    """A JSON number with a fraction or exponent, refused when it overflows to infinity.

    Raises:
        ValueError: ``text`` is too large for a 64-bit float (``1e999``).
    """
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _children(value: Any, path: tuple[str, ...]) -> Iterator[tuple[Any, tuple[str, ...]]]:
    if isinstance(value, dict):
        return ((item, (*path, str(key))) for key, item in value.items())
    if isinstance(value, list):
        return ((item, (*path, str(i))) for i, item in enumerate(value))
    return iter(())


def _field(path: tuple[str, ...]) -> str:
    # Anthropic names fields as ``messages.0.content.1.id``; a deep path is cut short.
    shown = ".".join(path[:_SHOWN]) + ("..." if len(path) > _SHOWN else "")
    return shown or "request body"


def too_deep(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """The field where ``value`` nests deeper than ``limit`` arrays and objects, if any."""
    stack: list[tuple[Any, int, tuple[str, ...]]] = [(value, 1, ())]
    while stack:
        node, depth, path = stack.pop()
        if depth > limit:
            return _field(path)
        stack.extend(
            (child, depth + 1, where) for child, where in _children(node, path) if isinstance(child, dict | list)
        )
    return None


def nests_deeper(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests deeper than ``limit`` arrays and objects.

    The cheap test (``too_deep`` names the field once this says there is one).
    """
    return shape(value, limit).deep


# orjson reads an integer outside 64 bits (signed or unsigned) as a float, which can only
# be this large; json keeps such an integer exact.
_EXACT_BOUND = float(2**63)


@attrs.frozen
class Shape:
    """What one walk over parsed JSON found: nesting past the limit, floats past 64 bits."""

    deep: bool
    huge_float: bool


def shape(value: Any, limit: int = MAX_DEPTH) -> Shape:
    """One walk, run on every body: deeper than ``limit``, and any float of 2**63 or more.

    One level at a time, no paths; parsed JSON only holds exact ``dict`` and ``list``.
    Past ``limit`` levels the walk stops: ``huge_float`` then says nothing of deeper levels.
    """
    level = [value] if type(value) in (dict, list) else []
    huge = False
    for _ in range(limit):
        below: list[Any] = []
        for node in level:
            for child in node.values() if type(node) is dict else node:
                kind = type(child)
                if kind is dict or kind is list:
                    below.append(child)
                elif kind is float and not -_EXACT_BOUND < child < _EXACT_BOUND:
                    huge = True
        if not below:
            return Shape(deep=False, huge_float=huge)
        level = below
    return Shape(deep=bool(level), huge_float=huge)


def _surrogate_in(text: str) -> str | None:
    found = _SURROGATE.search(text)
    return None if found is None else f"\\u{ord(found.group()):04x}"


def lone_surrogate(value: Any) -> tuple[str, str] | None:
    r"""(field, ``\\udXXX``) of the first string or key holding a lone UTF-16 surrogate.

    ``json`` joins an escaped pair into one character, so any surrogate left is lone.
    """
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            if (code := _surrogate_in(node)) is not None:
                return _field(path), code
            continue
        if isinstance(node, dict):
            for key in node:
                if (code := _surrogate_in(key)) is not None:
                    return f"{_field(path)} (a key)", code
        stack.extend(reversed(list(_children(node, path))))  # in document order
    return None


def may_hold_surrogates(text: str) -> bool:
    """Whether the JSON text escapes a surrogate anywhere (cheap; pairs match too)."""
    return _SURROGATE_ESCAPE.search(text) is not None


def well_formed(text: str) -> str:
    """``text`` with surrogate pairs joined and lone surrogates replaced by U+FFFD."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def to_json_bytes(value: Any, *, compact: bool = False) -> bytes:
    """UTF-8 JSON for any answer; a lone surrogate from Nexus becomes U+FFFD, never a 500.

    Args:
        value: JSON-ready data.
        compact: no spaces after separators (SSE data lines).
    """
    if compact:
        try:
            return orjson.dumps(value)  # several times faster; compact is its only form
        except (orjson.JSONEncodeError, TypeError):
            pass  # a lone surrogate (or an integer past 64 bits): the careful path below
    separators = (",", ":") if compact else None
    text = json.dumps(value, ensure_ascii=False, separators=separators)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # rare: only text Nexus sent malformed
        return well_formed(text).encode("utf-8")
