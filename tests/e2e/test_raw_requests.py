"""Bytes that are not HTTP/1.1, sent to the real uvicorn: a clean 4xx and no traceback."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from adapters.http.http_version import HttpVersionGuard
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.fake_gateway import FakeConverseGateway
from tests.support.raw_http import raw_exchange
from tests.support.servers import serving

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
TLS_HELLO = b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(32)


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    # The guard wraps the app as entrypoints/app.py is to wrap it (see the lead's notes).
    with serving(HttpVersionGuard(create_app(Settings(api_key="k"), FakeConverseGateway()))) as url:
        port = urlsplit(url).port
        assert port is not None
        yield port


def status_of(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1])


@pytest.mark.parametrize(
    "data",
    [
        H2_PREFACE,
        b"GARBAGE\r\n\r\n",
        TLS_HELLO,
        b"GET /\xff\x00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n",
        b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: nope\r\n\r\n",
    ],
    ids=["h2-preface", "garbage-line", "tls-hello", "bad-target", "http-9.9", "bad-length"],
)
def test_a_non_http11_request_gets_a_4xx_and_logs_no_traceback(
    port: int, data: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    reply = raw_exchange(port, data)
    assert 400 <= status_of(reply) < 500, reply
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []
    assert raw_exchange(port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").startswith(
        b"HTTP/1.1 200"
    )


def test_the_http2_preface_is_answered_in_anthropic_shape(port: int) -> None:
    head, _, body = raw_exchange(port, H2_PREFACE).partition(b"\r\n\r\n")
    assert status_of(head) == 400
    error = json.loads(body)["error"]
    assert error["type"] == "invalid_request_error" and "HTTP/2.0 is not supported" in error["message"]
