"""Large bodies: base64 kept as it came, JSON bytes encoded as they are sent."""

from __future__ import annotations

import base64
import io
import json

import pytest

from adapters.nexus.json_body import LARGE, JsonBody, json_bytes
from domain.to_converse.content import decode_base64
from domain.vocab import converse as c


def test_canonical_base64_is_kept_as_the_same_text() -> None:
    text = base64.b64encode(b"\x89PNG" + bytes(range(256)) * 10).decode()
    blob = decode_base64(text, "data")
    assert isinstance(blob, c.Base64Blob)
    assert blob == base64.b64decode(text) and blob.base64 is text


@pytest.mark.parametrize("text", ["QR==", "QUJ=", "QUJD" + "QR=="])
def test_base64_that_would_encode_otherwise_is_plain_bytes(text: str) -> None:
    blob = decode_base64(text, "data")
    assert not isinstance(blob, c.Base64Blob) and blob == base64.b64decode(text)


def _body() -> dict[str, object]:
    big = base64.b64encode(bytes(range(256)) * (LARGE // 128)).decode()
    return {
        "messages": [{"content": [{"image": {"source": {"bytes": big}}}, {"text": 'quote " é \u2028'}]}],
        "system": [{"text": big[:100]}],
        "inferenceConfig": {"maxTokens": 5, "temperature": 0.5},
        "other": big[::-1],
    }


def test_a_body_with_large_strings_reads_as_the_bytes_json_dumps_would_give() -> None:
    body = _body()
    sent = json_bytes(body)
    assert isinstance(sent, JsonBody)
    expected = json.dumps(body, allow_nan=False).encode()
    assert len(sent) == len(expected)
    chunks = iter(lambda: sent.read(7919), b"")
    assert b"".join(chunks) == expected
    assert sent.tell() == len(expected) and sent.read() == b""


def test_a_body_read_part_way_rewinds_to_any_position() -> None:
    body = _body()
    expected = json.dumps(body).encode()
    sent = json_bytes(body)
    assert isinstance(sent, JsonBody)
    sent.read(1000)
    for position in (0, 10, len(expected) // 2, len(expected)):
        sent.seek(position)
        assert b"".join(iter(lambda: sent.read(65536), b"")) == expected[position:]
    with pytest.raises(io.UnsupportedOperation):
        sent.seek(0, io.SEEK_END)


def test_a_small_body_is_plain_bytes() -> None:
    assert json_bytes({"a": "b" * 100}) == json.dumps({"a": "b" * 100}).encode()
