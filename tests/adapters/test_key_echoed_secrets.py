"""Messages from Nexus reach clients and logs scrubbed of the key and of bearer tokens."""

from __future__ import annotations

import json
import logging
from typing import Any

import falcon.testing
import pytest
import responses

from adapters.nexus.errors import MAX_MESSAGE_CHARS, scrub
from adapters.nexus.gateway import RequestsConverseGateway
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.eventstream_encoding import event_frame, exception_frame
from tests.support.in_process import LocalClient, post_raw, sse_frames

BASE = "https://nexus.example"
KEY = "nxk-echoed-secret-0123456789"
OTHER_TOKEN = "eyJhbGciOiJIUzI1NiJ9.other-token"
HELLO = {"model": "claude-opus-4.6", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
ECHO = f"bad key {KEY}; you sent Authorization: Bearer {KEY} and proxy said bearer {OTHER_TOKEN}"


def app() -> Any:
    gateway = RequestsConverseGateway(endpoint_url=BASE, api_key=KEY, read_timeout=5)
    return create_app(Settings(api_key=KEY, endpoint_url=BASE), gateway)


def client() -> falcon.testing.TestClient:
    return LocalClient(app())


def assert_scrubbed(text: str) -> None:
    assert KEY not in text and OTHER_TOKEN not in text
    assert KEY[:12] not in text  # no part of the key either


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(403, "AccessDeniedException"), (400, "ValidationException"), (500, "InternalServerException")],
)
@responses.activate
def test_error_bodies_that_echo_the_key_are_scrubbed(
    status: int, error_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    responses.post(
        f"{BASE}/model/claude-opus-4.6/converse",
        status=status,
        json={"message": ECHO},
        headers={"x-amzn-ErrorType": f"{error_type}:http://x/"},
    )
    caplog.set_level(logging.DEBUG)

    result = client().simulate_post("/v1/messages", json=HELLO)

    assert result.status_code >= 400
    assert_scrubbed(result.text)
    assert "bad key ****" in result.json["error"]["message"]
    assert_scrubbed(caplog.text)


@responses.activate
def test_an_exception_frame_that_echoes_the_key_is_scrubbed_in_the_sse_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = event_frame("messageStart", {"role": "assistant"}) + exception_frame("modelStreamErrorException", ECHO)
    responses.post(
        f"{BASE}/model/claude-opus-4.6/converse-stream", body=body, content_type="application/vnd.amazon.eventstream"
    )
    caplog.set_level(logging.DEBUG)

    status, raw = post_raw(app(), json.dumps({**HELLO, "stream": True}).encode())

    assert status == 200
    events = sse_frames(raw)
    assert events[-1][0] == "error"
    assert "bad key ****" in events[-1][1]["error"]["message"]
    assert_scrubbed(raw.decode())
    assert_scrubbed(caplog.text)


@responses.activate
def test_a_huge_message_is_cut_before_it_is_scanned() -> None:
    responses.post(
        f"{BASE}/model/claude-opus-4.6/converse",
        status=400,
        json={"message": "Bearer " + "a" * 2_000_000 + f" {KEY}"},
        headers={"x-amzn-ErrorType": "ValidationException"},
    )

    result = client().simulate_post("/v1/messages", json=HELLO)

    assert result.status_code == 400
    assert len(result.json["error"]["message"]) < MAX_MESSAGE_CHARS + 200
    assert_scrubbed(result.text)


def test_scrub_masks_the_key_before_cutting_so_no_prefix_survives_at_the_edge() -> None:
    text = "x" * (MAX_MESSAGE_CHARS - 5) + KEY
    assert KEY[:5] not in scrub(text, [KEY])
    assert scrub("Bearer abc.def", []) == "Bearer ****"
