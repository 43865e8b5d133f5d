"""The httptools parser `start` uses answers what it cannot parse as h11 + HttpVersionGuard do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from adapters.http.http_parser import HttpToolsProtocol, refusal_message
from adapters.http.http_version import HttpVersionGuard
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.fake_gateway import FakeConverseGateway
from tests.support.raw_http import raw_exchange
from tests.support.servers import serving

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


@pytest.fixture(scope="module")
def ports() -> Iterator[dict[str, int]]:
    app = HttpVersionGuard(create_app(Settings(api_key="k"), FakeConverseGateway()))
    with serving(app, http=HttpToolsProtocol) as fast, serving(app, http="h11") as h11:
        yield {"httptools": _port(fast), "h11": _port(h11)}


def exchange(port: int, data: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
    head, _, body = raw_exchange(port, data).partition(b"\r\n\r\n")
    status_line, *lines = head.split(b"\r\n")
    headers = dict(line.lower().split(b": ", 1) for line in lines)
    return int(status_line.split(b" ")[1]), headers, body


def test_the_http2_preface_gets_the_same_answer_from_both_parsers(ports: dict[str, int]) -> None:
    fast, h11 = exchange(ports["httptools"], H2_PREFACE), exchange(ports["h11"], H2_PREFACE)
    assert fast[0] == h11[0] == 400
    assert fast[2] == h11[2]  # the same JSON, byte for byte
    for name in (b"content-type", b"content-length", b"connection", b"server"):
        assert fast[1].get(name) == h11[1].get(name), name
    assert json.loads(fast[2])["error"]["message"] == "HTTP/2.0 is not supported; this proxy speaks HTTP/1.1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GARBAGE\r\n\r\n", "Invalid HTTP request received."),
        (b"GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n", "HTTP/9.9 is not supported; this proxy speaks HTTP/1.1"),
    ],
    ids=["garbage-line", "http-9.9"],
)
def test_what_httptools_cannot_parse_is_an_anthropic_json_400(ports: dict[str, int], data: bytes, message: str) -> None:
    status, headers, body = exchange(ports["httptools"], data)
    assert (status, headers[b"content-type"], headers[b"connection"]) == (400, b"application/json", b"close")
    assert json.loads(body) == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": message},
        "request_id": None,
    }


def test_a_supported_version_keeps_uvicorns_reason() -> None:
    assert refusal_message("1.1", "Invalid HTTP request received.") == "Invalid HTTP request received."
    assert refusal_message("0.0", "Invalid HTTP request received.") == "Invalid HTTP request received."
    assert refusal_message("2.0", "x") == "HTTP/2.0 is not supported; this proxy speaks HTTP/1.1"
