"""The non-streamed request path: fast JSON at both edges, no environment read per request,
and uvloop selected when it is installed."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import orjson
import pytest
import requests
import responses

import entrypoints.server
from adapters.http.http_parser import HttpToolsProtocol
from adapters.nexus import converse_wire
from adapters.nexus.gateway import RequestsConverseGateway
from domain.vocab import converse as c
from entrypoints.app import create_app
from entrypoints.server import fast_or, serve
from entrypoints.settings import Settings
from tests.support.fake_gateway import FakeConverseGateway, text_response
from tests.support.in_process import LocalClient

BASE = "https://nexus.example"
HELLO: dict[str, Any] = {"model": "claude-opus-4.6", "max_tokens": 64, "messages": [{"role": "user", "content": "hé"}]}
REQUEST = c.ConverseRequest(
    messages=(c.Message(role="user", content=(c.TextContent(text="naïve ✓"),)),),
    inference_config=c.InferenceConfig(max_tokens=100),
)
OK_BODY = {
    "output": {"message": {"role": "assistant", "content": [{"text": "Réponse."}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 9, "outputTokens": 3, "totalTokens": 12},
}


def test_a_whole_answer_is_compact_json_in_anthropic_shape() -> None:
    gateway = FakeConverseGateway(on_converse=lambda _: text_response("Bonjour ✓"))
    result = LocalClient(create_app(Settings(api_key="k"), gateway)).simulate_post("/v1/messages", json=HELLO)
    assert result.status_code == 200 and result.headers["content-type"].startswith("application/json")
    answer = json.loads(result.content)
    assert answer["content"] == [{"type": "text", "text": "Bonjour ✓"}] and answer["stop_sequence"] is None
    assert result.content == orjson.dumps(answer)  # compact, UTF-8, as orjson writes it


def test_resp_media_answers_are_written_by_the_fast_handler() -> None:
    result = LocalClient(create_app(Settings(api_key="k"), FakeConverseGateway())).simulate_get("/v1/models")
    assert result.status_code == 200
    assert result.content == orjson.dumps(json.loads(result.content))


@responses.activate
def test_the_converse_body_goes_out_as_compact_utf8() -> None:
    gateway = RequestsConverseGateway(endpoint_url=BASE, api_key="nxk-test-key", environ={})
    responses.post(f"{BASE}/model/m/converse", json=OK_BODY)
    out = gateway.converse("m", REQUEST)
    assert responses.calls[0].request.body == orjson.dumps(converse_wire.request_json(REQUEST))
    assert "naïve ✓".encode() in responses.calls[0].request.body
    assert out.output.message.content == (c.TextContent(text="Réponse."),)


@responses.activate
def test_a_converse_answer_orjson_refuses_is_read_as_json_reads_it() -> None:
    gateway = RequestsConverseGateway(endpoint_url=BASE, api_key="nxk-test-key", environ={})
    raw = json.dumps(OK_BODY).replace("R\\u00e9ponse.", "R\\ud800")  # a lone surrogate from Nexus
    responses.post(f"{BASE}/model/m/converse", body=raw, content_type="application/json")
    out = gateway.converse("m", REQUEST)
    assert out.output.message.content == (c.TextContent(text="R\ud800"),)


class CountingEnviron(Mapping[str, str]):
    """An environment that counts its look-ups."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = values
        self.reads = 0

    def __getitem__(self, key: str) -> str:
        self.reads += 1
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        self.reads += 1
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


@responses.activate
def test_the_environment_is_read_at_construction_and_never_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    environ = CountingEnviron({"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": "localhost"})
    gateway = RequestsConverseGateway(endpoint_url=BASE, api_key="nxk-test-key", environ=environ)
    assert environ.reads > 0
    environ.reads = 0

    def never(*_: Any, **__: Any) -> Any:
        raise AssertionError("requests consulted the environment for one request")

    # What requests' Session.request reaches for each call when trust_env is on.
    monkeypatch.setattr(requests.sessions, "get_environ_proxies", never)
    monkeypatch.setattr(requests.sessions, "get_netrc_auth", never)
    monkeypatch.setattr(requests.utils, "get_environ_proxies", never)
    monkeypatch.setattr(requests.utils, "should_bypass_proxies", never)
    responses.post(f"{BASE}/model/m/converse", json=OK_BODY)
    for _ in range(3):
        gateway.converse("m", REQUEST)
    assert environ.reads == 0
    proxies = responses.calls[-1].request.req_kwargs["proxies"]  # type: ignore[attr-defined]
    assert proxies["https"] == "http://proxy.corp:3128"


def test_fast_or_names_the_module_when_it_can_be_imported() -> None:
    assert fast_or("json", "fallback") == "json"
    assert fast_or("no_such_module_for_this_test", "h11") == "h11"


def test_serve_asks_uvicorn_for_uvloop_and_the_anthropic_shaped_httptools(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uvicorn

    pytest.importorskip("uvloop")
    configs: list[dict[str, Any]] = []

    class Config:
        def __init__(self, app: Any, **options: Any) -> None:
            configs.append(options)

    class Server:
        def __init__(self, config: Any, shutdown: Any) -> None:
            pass

        def run(self) -> None:
            pass

    monkeypatch.setattr(uvicorn, "Config", Config)
    monkeypatch.setattr(entrypoints.server, "_uvicorn_server", lambda: Server)
    monkeypatch.setattr("entrypoints.app.build_app", lambda *_, **__: object())
    serve(Settings(api_key="k", one_cpu=False))  # not this test process kept to one CPU
    assert configs[0]["loop"] == "uvloop"
    # httptools itself would answer an HTTP/2 preface in plain text; this protocol in Anthropic's shape.
    assert configs[0]["http"] is HttpToolsProtocol
