"""Encode AWS event-stream frames, as Bedrock sends them, for fakes and decoder tests."""

from __future__ import annotations

import json
import struct
import uuid
import zlib
from typing import Any

# (type code, struct format) for fixed-size header values.
_FIXED = {2: ">b", 3: ">h", 4: ">i", 5: ">q", 8: ">q"}


def _header_value(type_code: int, value: Any) -> bytes:
    if type_code in (0, 1):
        return b""
    if type_code in _FIXED:
        return struct.pack(_FIXED[type_code], value)
    if type_code == 6:
        return struct.pack(">H", len(value)) + bytes(value)
    if type_code == 7:
        raw: bytes = value.encode("utf-8")
        return struct.pack(">H", len(raw)) + raw
    if type_code == 9:
        return value if isinstance(value, bytes) else uuid.UUID(str(value)).bytes
    raise ValueError(f"unknown header type {type_code}")


def encode_headers(headers: list[tuple[str, int, Any]]) -> bytes:
    """Encode ``(name, type code, value)`` triples; strings are type 7."""
    out = bytearray()
    for name, type_code, value in headers:
        raw_name = name.encode("utf-8")
        out += struct.pack(">B", len(raw_name)) + raw_name + struct.pack(">B", type_code)
        out += _header_value(type_code, value)
    return bytes(out)


def encode_frame(headers: list[tuple[str, int, Any]], payload: bytes) -> bytes:
    raw_headers = encode_headers(headers)
    total = 16 + len(raw_headers) + len(payload)
    prelude = struct.pack(">II", total, len(raw_headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + raw_headers + payload
    return body + struct.pack(">I", zlib.crc32(body))


def event_frame(event_type: str, payload: dict[str, Any]) -> bytes:
    """A Bedrock ``event`` frame carrying one ConverseStream event."""
    return encode_frame(
        [
            (":event-type", 7, event_type),
            (":content-type", 7, "application/json"),
            (":message-type", 7, "event"),
        ],
        json.dumps(payload).encode("utf-8"),
    )


def exception_frame(exception_type: str, message: str) -> bytes:
    """A Bedrock ``exception`` frame, as sent when a stream fails after HTTP 200."""
    return encode_frame(
        [
            (":exception-type", 7, exception_type),
            (":content-type", 7, "application/json"),
            (":message-type", 7, "exception"),
        ],
        json.dumps({"message": message}).encode("utf-8"),
    )
