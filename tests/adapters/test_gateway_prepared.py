"""The gateway's own prepared request: what session.post would have sent, merged once at start."""

from __future__ import annotations

from typing import Any

import orjson
import requests
import responses

from adapters.nexus import converse_wire
from adapters.nexus.gateway import RequestsConverseGateway
from domain.vocab import converse as c

BASE = "https://nexus.example"
REQUEST = c.ConverseRequest(
    messages=(c.Message(role="user", content=(c.TextContent(text="hi"),)),),
    inference_config=c.InferenceConfig(max_tokens=10),
)
OK_BODY: dict[str, Any] = {
    "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
}


def _gateway() -> RequestsConverseGateway:
    return RequestsConverseGateway(endpoint_url=BASE, api_key="nxk-test-key", environ={})


def _as_session_post_prepares(url: str, body: bytes) -> requests.PreparedRequest:
    session = requests.Session()
    session.auth = _BearerLike()
    request = requests.Request("POST", url, data=body, headers={"Content-Type": "application/json"})
    return session.prepare_request(request)


class _BearerLike(requests.auth.AuthBase):
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = "Bearer nxk-test-key"
        return request


@responses.activate
def test_the_request_sent_is_the_one_session_post_would_prepare() -> None:
    url = f"{BASE}/model/claude-opus-4.6/converse"
    responses.post(url, json=OK_BODY)
    _gateway().converse("claude-opus-4.6", REQUEST)
    sent = responses.calls[0].request
    expected = _as_session_post_prepares(url, orjson.dumps(converse_wire.request_json(REQUEST)))
    assert (sent.method, sent.url, sent.body) == (expected.method, expected.url, expected.body)
    assert list(sent.headers.items()) == list(expected.headers.items())  # same headers, same order


@responses.activate
def test_a_non_ascii_model_id_is_quoted_as_requests_would() -> None:
    responses.post(f"{BASE}/model/mod%C3%A8le%2Fx/converse", json=OK_BODY)
    _gateway().converse("modèle/x", REQUEST)
    assert responses.calls[0].request.url == f"{BASE}/model/mod%C3%A8le%2Fx/converse"


@responses.activate
def test_a_cookie_nexus_sets_is_sent_back_on_the_next_call() -> None:
    url = f"{BASE}/model/m/converse"
    responses.post(url, json=OK_BODY, headers={"Set-Cookie": "AWSALB=sticky; Path=/"})
    responses.post(url, json=OK_BODY)
    gateway = _gateway()
    gateway.converse("m", REQUEST)
    gateway.converse("m", REQUEST)
    assert "Cookie" not in responses.calls[0].request.headers
    assert responses.calls[1].request.headers["Cookie"] == "AWSALB=sticky"


@responses.activate
def test_a_stream_asks_for_no_compression_in_place_of_the_default() -> None:
    url = f"{BASE}/model/m/converse-stream"
    responses.post(url, body=b"", headers={"Content-Type": "application/vnd.amazon.eventstream"})
    _gateway().converse_stream("m", REQUEST).close()
    headers = responses.calls[0].request.headers
    assert headers["Accept-Encoding"] == "identity"
    assert list(headers)[:2] == ["User-Agent", "Accept-Encoding"]  # the default's place, as merged
