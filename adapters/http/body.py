"""Reading a JSON request body within a size limit; Falcon's JSON media handler."""

from __future__ import annotations

import json
from typing import Any

import falcon.asgi
import falcon.media
import orjson

from adapters.http.json_limits import (
    MAX_DEPTH,
    finite_float,
    lone_surrogate,
    may_hold_surrogates,
    nests_deeper,
    shape,
    to_json_bytes,
    too_deep,
)
from domain.errors import InvalidRequestError, RequestTooLargeError


async def read_body(req: falcon.asgi.Request, limit: int) -> bytes:
    """The raw body; refuses more than ``limit`` bytes without reading them all."""
    if req.content_length is not None and req.content_length > limit:
        raise RequestTooLargeError(f"request body is {req.content_length} bytes; the limit is {limit}")
    data = await req.stream.read(limit + 1)
    if len(data) > limit:
        raise RequestTooLargeError(f"request body exceeds the limit of {limit} bytes")
    return data


def _no_constants(name: str) -> Any:
    # NaN and Infinity are not JSON; Python accepts them, Nexus would not.
    raise ValueError(f"{name} is not a JSON number")


# orjson reads an integer past 64 bits as a float, where json keeps it exact. Such a float is
# 2**63 or more: a body that holds one takes json's path (a float written 1e19 does too, and
# json reads it the same). The walk that finds them is the depth check's (``shape``).
# Only where that walk stops early, the body nesting too deeply, is the raw text asked
# whether it holds a long integer, as it was before: json's path then still decides.
# The test is cheap, not exact (inside a string it matches too): digits become "0", the
# three openers ":", whitespace is dropped, then plain substring searches (C speed; a regex
# scans ten times slower), a slice of a MiB at a time so that a large body is never copied whole.
_SCAN = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x3A if byte in b":[," else byte for byte in range(256))
_RUN = b"0" * 19
_SLICE = 1 << 20


def _long_integers(raw: bytes) -> bool:
    overlap = 64  # more than an opener, whitespace a client would send, a sign and the run
    for start in range(0, len(raw), _SLICE):
        scanned = raw[max(0, start - overlap) : start + _SLICE].translate(_SCAN, b" \t\r\n")
        if b":" + _RUN in scanned or b":-" + _RUN in scanned:
            return True
    return False


_CAREFUL = object()  # what _fast answers when json's path must decide


def _fast(raw: bytes) -> Any:
    """The body as orjson reads it, or ``_CAREFUL`` where json's careful path must decide.

    orjson refuses everything ``parse_json`` refuses (NaN, ``1e999``, lone surrogates,
    invalid UTF-8) and a little more (a BOM, nesting past 1,024): for all of those json's
    path runs, so that its messages and what it accepts stay as they were. Raises
    ``InvalidRequestError`` for a body nesting too deeply that json would read the same.
    """
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _CAREFUL
    found = shape(value, MAX_DEPTH)
    if found.deep:
        if _long_integers(raw):
            return _CAREFUL
        _refuse_deep(value)
    return _CAREFUL if found.huge_float else value


def _decode(data: bytes) -> str:
    # UTF-8 only, as Anthropic reads it: the strict codec also refuses encoded surrogates,
    # which ``json.loads`` on bytes would let through (it decodes with "surrogatepass").
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidRequestError(f"request body is not valid UTF-8: {error.reason} at byte {error.start}") from error


def parse_json(data: bytes | list[bytes]) -> Any:
    """The body's JSON value, refused unless every later hop can carry it.

    Refused: NaN, Infinity and numbers that overflow to infinity (``1e999``); nesting
    deeper than ``MAX_DEPTH``; strings or keys holding a lone UTF-16 surrogate.

    Raises:
        InvalidRequestError: the body is empty, not UTF-8, not JSON, or one of the above.
    """
    # Handed over in a one-item list, the bytes are let go of once decoded: for a large
    # image that is one copy fewer alive while ``json.loads`` builds the next (orjson reads
    # the bytes themselves, with no text copy).
    raw = data.pop() if isinstance(data, list) else data
    if not raw or raw.isspace():  # no .strip(): it would copy the whole body
        raise InvalidRequestError("request body is empty; expected a JSON object")
    fast = _fast(raw)
    if fast is not _CAREFUL:
        # orjson holds no lone surrogate and no infinity, and _fast checked the depth.
        return fast
    text = _decode(raw)
    del raw
    return _careful(text)


def _careful(text: str) -> Any:
    try:
        value = json.loads(text, parse_constant=_no_constants, parse_float=finite_float)
    except ValueError as error:
        raise InvalidRequestError(f"request body is not valid JSON: {error}") from error
    except RecursionError as error:
        raise InvalidRequestError(f"request body is nested too deeply (the limit is {MAX_DEPTH} levels)") from error
    _check_limits(value, text)
    return value


def _check_depth(value: Any) -> None:
    if nests_deeper(value, MAX_DEPTH):  # the cheap test; the walk below names the field
        _refuse_deep(value)


def _refuse_deep(value: Any) -> None:
    field = too_deep(value)
    if field is not None:
        raise InvalidRequestError(f"{field}: nested too deeply (the limit is {MAX_DEPTH} levels of arrays and objects)")


def _check_limits(value: Any, text: str) -> None:
    _check_depth(value)
    found = lone_surrogate(value) if may_hold_surrogates(text) else None
    if found is not None:
        field, code = found
        raise InvalidRequestError(
            f"{field}: the string holds a lone UTF-16 surrogate ({code}), which is not valid Unicode"
        )


class JsonMedia(falcon.media.JSONHandler):
    """``req.media`` and ``resp.media`` as JSON, through the same rules as message bodies.

    Read with ``parse_json`` (orjson, json's path for what it refuses), so a bad body is an
    ``InvalidRequestError`` naming what is wrong, answered in Anthropic's shape; written
    with ``to_json_bytes`` (orjson; a lone surrogate becomes U+FFFD, never a 500).
    """

    def __init__(self) -> None:
        super().__init__(dumps=_dumps, loads=_loads)

    def deserialize(self, stream: Any, content_type: str | None, content_length: int | None) -> Any:
        """The parsed body; raises ``InvalidRequestError`` as ``parse_json`` does."""
        return parse_json(stream.read())

    async def deserialize_async(self, stream: Any, content_type: str | None, content_length: int | None) -> Any:
        """The parsed body, read from an ASGI request stream."""
        return parse_json(await stream.read())


def _loads(text: str) -> Any:
    return parse_json(text.encode("utf-8"))


def _dumps(value: Any) -> bytes:
    return to_json_bytes(value, compact=True)
