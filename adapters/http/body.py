"""Reading a JSON request body within a size limit."""

from __future__ import annotations

import json
from typing import Any

import falcon.asgi

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


def parse_json(data: bytes) -> Any:
    """The body's JSON value, with NaN, Infinity and too-deep nesting refused.

    Raises:
        InvalidRequestError: an empty body, invalid JSON or nesting Python cannot parse.
    """
    if not data.strip():
        raise InvalidRequestError("request body is empty; expected a JSON object")
    try:
        return json.loads(data, parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidRequestError(f"request body is not valid JSON: {error}") from error
    except RecursionError as error:
        raise InvalidRequestError("request body is nested too deeply") from error
