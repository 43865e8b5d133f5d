"""Refused optional fields through the real app: one retry without that field, remembered per model."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any

import falcon.testing
import pytest

from domain.errors import UpstreamRejectedError
from domain.rules.structured_output import instruction
from domain.vocab import converse as c
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.fake_gateway import FakeConverseGateway, text_events, text_response

FGTS = "fine-grained-tool-streaming-2025-05-14"
ONE_M = "context-1m-2025-08-07"
INTERLEAVED = "interleaved-thinking-2025-05-14"
MODEL = "claude-opus-4.6"
TOOL = {"name": "Read", "description": "Read a file", "input_schema": {"type": "object", "properties": {}}}
HELLO: dict[str, Any] = {"model": MODEL, "max_tokens": 4096, "messages": [{"role": "user", "content": "hi"}]}
SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}}}


def refusing(*messages: str, answer: Callable[[], Any] = text_response) -> Callable[[c.ConverseRequest], Any]:
    """Nexus refusing with each of ``messages`` in turn, then answering."""
    pending = list(messages)

    def reply(_: c.ConverseRequest) -> Any:
        if pending:
            raise UpstreamRejectedError(pending.pop(0))
        return answer()

    return reply


class LocalClient(falcon.testing.TestClient):
    """Simulated requests from this machine (the proxy serves loopback host names only)."""

    def simulate_request(self, *args: Any, **kwargs: Any) -> falcon.testing.Result:
        kwargs.setdefault("host", "127.0.0.1")
        return super().simulate_request(*args, **kwargs)


@pytest.fixture
def client(gateway: FakeConverseGateway) -> falcon.testing.TestClient:
    return LocalClient(create_app(Settings(api_key="k"), gateway))


def post(client: falcon.testing.TestClient, body: dict[str, Any], betas: str = "") -> falcon.testing.Result:
    headers = {"anthropic-beta": betas} if betas else {}
    return client.simulate_post("/v1/messages", json=body, headers=headers)


def sent(gateway: FakeConverseGateway) -> list[c.ConverseRequest]:
    return [request for _, _, request in gateway.calls]


def extra(request: c.ConverseRequest) -> dict[str, Any]:
    return request.additional_model_request_fields or {}


def betas(request: c.ConverseRequest) -> list[str]:
    return list(extra(request).get("anthropic_beta", ()))


def test_a_bare_beta_refusal_keeps_tool_streaming_and_1m_and_is_remembered(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway
) -> None:
    gateway.on_converse = refusing("invalid beta flag")
    body = {**HELLO, "tools": [TOOL], "thinking": {"type": "enabled", "budget_tokens": 2000}}
    assert post(client, body, f"{INTERLEAVED},{ONE_M}").status_code == 200
    assert [betas(r) for r in sent(gateway)] == [[INTERLEAVED, ONE_M, FGTS], [ONE_M, FGTS]]
    assert post(client, body, f"{INTERLEAVED},{ONE_M}").status_code == 200
    assert betas(sent(gateway)[2]) == [ONE_M, FGTS], "the refused flag is left out from the start"
    assert len(gateway.calls) == 3


def test_a_refused_effort_costs_the_effort_only(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway
) -> None:
    gateway.on_converse = refusing("Malformed input request: extraneous key [output_config] is not permitted")
    body = {**HELLO, "thinking": {"type": "adaptive"}, "output_config": {"effort": "high"}}
    assert post(client, body).status_code == 200
    first, second = sent(gateway)
    assert extra(first)["output_config"] == {"effort": "high"}
    assert "output_config" not in extra(second) and extra(second)["thinking"] == {"type": "adaptive"}


def test_a_refused_thinking_display_costs_the_display_only(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway
) -> None:
    gateway.on_converse = refusing("thinking.display: Extra inputs are not permitted")
    body = {**HELLO, "thinking": {"type": "adaptive", "display": "summarized"}, "output_config": {"effort": "high"}}
    assert post(client, body).status_code == 200
    first, second = sent(gateway)
    assert extra(first)["thinking"] == {"type": "adaptive", "display": "summarized"}
    assert extra(second) == {"thinking": {"type": "adaptive"}, "output_config": {"effort": "high"}}


def test_refused_native_structured_output_becomes_the_instruction(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway
) -> None:
    gateway.on_converse = refusing("The model does not support outputConfig.textFormat")
    body = {**HELLO, "system": "Title this.", "output_config": {"format": {"type": "json_schema", "schema": SCHEMA}}}
    assert post(client, body).status_code == 200
    assert post(client, body).status_code == 200
    native, degraded, later = sent(gateway)
    assert native.output_config is not None and degraded.output_config is None and later.output_config is None
    schema = json.dumps(SCHEMA, separators=(",", ":"))
    assert degraded.system == (c.TextContent(text="Title this."), c.TextContent(text=instruction(schema)))


def test_a_400_naming_no_optional_field_is_not_retried(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway
) -> None:
    gateway.on_converse = refusing("The text field in the ContentBlock object is blank.")
    result = post(client, {**HELLO, "tools": [TOOL]})
    assert result.status_code == 400 and "blank" in result.json["error"]["message"]
    assert len(gateway.calls) == 1


def test_counts_give_up_the_refused_flag_only_and_stay_exact(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway
) -> None:
    pending = ["invalid beta flag"]

    def count(_: c.ConverseRequest) -> int:
        if pending:
            raise UpstreamRejectedError(pending.pop(0))
        return 4242

    gateway.on_count = count
    body = {"model": MODEL, "tools": [TOOL], "messages": [{"role": "user", "content": "hi"}]}
    for _ in range(2):
        result = client.simulate_post("/v1/messages/count_tokens", json=body, headers={"anthropic-beta": INTERLEAVED})
        assert result.json == {"input_tokens": 4242}
    assert [betas(r) for r in sent(gateway)] == [[INTERLEAVED, FGTS], [FGTS], [FGTS]]


def test_a_local_400_holds_nothing(client: falcon.testing.TestClient, gateway: FakeConverseGateway) -> None:
    url_image = {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}
    bad = {"model": MODEL, "messages": [{"role": "user", "content": [url_image]}]}
    for path in ("/v1/messages/count_tokens", "/v1/messages"):
        result = client.simulate_post(path, json={**bad, "max_tokens": 10}, headers={"anthropic-beta": INTERLEAVED})
        assert result.status_code == 400, result.text
    assert gateway.calls == []
    good = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    count = client.simulate_post("/v1/messages/count_tokens", json=good, headers={"anthropic-beta": INTERLEAVED})
    assert count.json == {"input_tokens": 42}, "Nexus still counts for the model"
    assert post(client, {**good, "max_tokens": 10}, INTERLEAVED).status_code == 200
    assert [betas(r) for r in sent(gateway)] == [[INTERLEAVED], [INTERLEAVED]]


@pytest.mark.parametrize(("header", "window"), [(ONE_M, 1_000_000), ("", 200_000)])
def test_overflow_names_the_window_of_the_call_refused(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway, header: str, window: int
) -> None:
    gateway.on_converse = refusing("max_tokens exceeds the model's context window")
    message = post(client, {**HELLO, "model": "sonnet[1m]"}, header).json["error"]["message"]
    assert re.search(rf"exceed context limit: \d+ \+ 4096 > {window}\b", message), message


def test_a_1m_session_whose_1m_flag_was_refused_is_told_200k(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway
) -> None:
    gateway.on_converse = refusing(f"invalid beta flag {ONE_M}", "max_tokens exceeds the model's context window")
    message = post(client, HELLO, ONE_M).json["error"]["message"]
    assert re.search(r"> 200000\b", message), message
    assert [betas(r) for r in sent(gateway)] == [[ONE_M], []]


async def _stream(app: Any, body: dict[str, Any]) -> bytes:
    scope = falcon.testing.create_scope(
        path="/v1/messages", method="POST", host="127.0.0.1", headers={"content-type": "application/json"}
    )
    collector = falcon.testing.ASGIResponseEventCollector()
    await app(scope, falcon.testing.ASGIRequestEventEmitter(body=json.dumps({**body, "stream": True})), collector)
    return b"".join(collector.body_chunks)


def test_answers_name_the_model_that_served_them(gateway: FakeConverseGateway) -> None:
    gateway.on_stream = lambda _: text_events("Hi")
    app = create_app(Settings(api_key="k"), gateway)
    raw = asyncio.run(_stream(app, {**HELLO, "model": "claude-fable-5-2"}))
    start = next(json.loads(line[5:]) for line in raw.decode().splitlines() if '"message_start"' in line)
    assert start["message"]["model"] == MODEL
    whole = LocalClient(app)
    assert post(whole, {**HELLO, "model": "haiku"}).json["model"] == MODEL
