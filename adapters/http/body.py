"""Reading a JSON request body within a size limit."""

from __future__ import annotations

import json
from typing import Any

import falcon.asgi

from adapters.http.json_limits import MAX_DEPTH, finite_float, lone_surrogate, may_hold_surrogates, too_deep
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
    # image that is one copy fewer alive while ``json.loads`` builds the next.
    raw = data.pop() if isinstance(data, list) else data
    if not raw or raw.isspace():  # no .strip(): it would copy the whole body
        raise InvalidRequestError("request body is empty; expected a JSON object")
    text = _decode(raw)
    del raw
    try:
        value = json.loads(text, parse_constant=_no_constants, parse_float=finite_float)
    except ValueError as error:
        raise InvalidRequestError(f"request body is not valid JSON: {error}") from error
    except RecursionError as error:
        raise InvalidRequestError(f"request body is nested too deeply (the limit is {MAX_DEPTH} levels)") from error
    _check_limits(value, text)
    return value


def _check_limits(value: Any, text: str) -> None:
    field = too_deep(value)
    if field is not None:
        raise InvalidRequestError(f"{field}: nested too deeply (the limit is {MAX_DEPTH} levels of arrays and objects)")
    found = lone_surrogate(value) if may_hold_surrogates(text) else None
    if found is not None:
        field, code = found
        raise InvalidRequestError(
            f"{field}: the string holds a lone UTF-16 surrogate ({code}), which is not valid Unicode"
        )
