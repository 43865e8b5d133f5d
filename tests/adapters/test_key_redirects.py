"""Nexus redirects are never followed: the prompt is not re-sent elsewhere, no other host's answer is served."""

from __future__ import annotations

import falcon.testing
import pytest
import responses

from adapters.nexus.gateway import RequestsConverseGateway
from entrypoints.app import create_app
from entrypoints.settings import Settings

BASE = "https://nexus.example"
KEY = "nxk-redirect-test-key"
HELLO = {"model": "claude-opus-4.6", "max_tokens": 64, "messages": [{"role": "user", "content": "secret prompt"}]}
OTHER_ANSWER = {
    "output": {"message": {"role": "assistant", "content": [{"text": "not Claude"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
}


def client() -> falcon.testing.TestClient:
    gateway = RequestsConverseGateway(endpoint_url=BASE, api_key=KEY, read_timeout=5)
    return falcon.testing.TestClient(create_app(Settings(api_key=KEY, endpoint_url=BASE), gateway))


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("stream", [False, True])
@responses.activate
def test_a_redirect_is_an_api_error_naming_status_and_host_and_is_not_followed(status: int, stream: bool) -> None:
    operation = "converse-stream" if stream else "converse"
    responses.post(
        f"{BASE}/model/claude-opus-4.6/{operation}",
        status=status,
        headers={"Location": "https://elsewhere.example/steal?token=abc"},
    )
    # What a followed redirect would reach: a POST (307/308) or a GET (301-303).
    responses.post("https://elsewhere.example/steal", json=OTHER_ANSWER)
    responses.get("https://elsewhere.example/steal", json=OTHER_ANSWER)

    result = client().simulate_post("/v1/messages", json={**HELLO, "stream": stream}, host="127.0.0.1")

    assert result.status_code == 502, result.text
    error = result.json["error"]
    assert error["type"] == "api_error"
    assert f"HTTP {status}" in error["message"] and "elsewhere.example" in error["message"]
    assert "token=abc" not in error["message"]
    assert len(responses.calls) == 1
    assert "not Claude" not in result.text


@responses.activate
def test_a_count_tokens_redirect_is_not_followed_either() -> None:
    responses.post(f"{BASE}/model/claude-opus-4.6/count-tokens", status=307, headers={"Location": f"{BASE}/again"})
    responses.post(f"{BASE}/again", json={"inputTokens": 999})

    result = client().simulate_post("/v1/messages/count_tokens", json=HELLO, host="127.0.0.1")

    # Counting falls back to the local estimate, but never asks the redirect target.
    assert result.status_code == 200
    assert result.json["input_tokens"] != 999
    assert len(responses.calls) == 1
