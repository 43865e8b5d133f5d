"""Tool search, tool changes and orphan tool results through the real app, with a fake gateway."""

from __future__ import annotations

from typing import Any

import falcon.testing
import pytest

from domain.vocab import converse as c
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.fake_gateway import FakeConverseGateway

SCHEMA = {"type": "object", "properties": {"q": {"type": "string"}}}
TOOLS = [
    {"name": "Bash", "input_schema": SCHEMA},
    {"name": "ToolSearch", "input_schema": SCHEMA},
    {"name": "mcp__lab__tool_17", "input_schema": SCHEMA, "defer_loading": True},
    {"name": "DeferredToolPlaceholder", "input_schema": SCHEMA, "defer_loading": True},
]


@pytest.fixture
def gateway() -> FakeConverseGateway:
    return FakeConverseGateway()


@pytest.fixture
def client(gateway: FakeConverseGateway) -> falcon.testing.TestClient:
    app = create_app(Settings(api_key="secret-key", max_body_bytes=256 * 1024), gateway)
    return falcon.testing.TestClient(app)


def post(client: falcon.testing.TestClient, messages: list[dict[str, Any]]) -> falcon.testing.Result:
    body = {"model": "claude-opus-4.6", "max_tokens": 64, "tools": TOOLS, "messages": messages}
    return client.simulate_post("/v1/messages", params={"beta": "true"}, json=body, host="127.0.0.1")


def sent_tools(gateway: FakeConverseGateway) -> list[str]:
    config = gateway.calls[-1][2].tool_config
    assert config is not None
    return [e.tool_spec.name for e in config.tools if isinstance(e, c.ToolSpecEntry)]


def test_tool_search_loads_a_deferred_tool_only_once_referenced(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway
) -> None:
    first: list[dict[str, Any]] = [{"role": "user", "content": "use the lab tool"}]
    assert post(client, first).status_code == 200
    assert sent_tools(gateway) == ["Bash", "ToolSearch"]
    search = {"type": "tool_use", "id": "toolu_s", "name": "ToolSearch", "input": {"query": "select:mcp__lab__tool_17"}}
    found = {
        "type": "tool_result",
        "tool_use_id": "toolu_s",
        "content": [{"type": "tool_reference", "tool_name": "mcp__lab__tool_17"}],
    }
    second = [*first, {"role": "assistant", "content": [search]}, {"role": "user", "content": [found]}]
    assert post(client, second).status_code == 200
    assert sent_tools(gateway) == ["Bash", "ToolSearch", "mcp__lab__tool_17"]


def test_system_tool_changes_are_accepted_and_become_notes(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway
) -> None:
    change = {"type": "tool_addition", "tool": {"type": "tool_reference", "name": "mcp__lab__tool_17"}}
    result = post(client, [{"role": "user", "content": "hi"}, {"role": "system", "content": [change]}])
    assert result.status_code == 200, result.text
    assert sent_tools(gateway) == ["Bash", "ToolSearch", "mcp__lab__tool_17"]
    [turn] = gateway.calls[-1][2].messages
    assert turn.content[-1] == c.TextContent(text="Tool mcp__lab__tool_17 is now available.")


def test_an_orphan_tool_result_is_a_400_before_any_upstream_call(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway
) -> None:
    orphan = {"type": "tool_result", "tool_use_id": "toolu_x", "content": "ok"}
    result = post(
        client,
        [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hm"},
            {"role": "user", "content": [orphan]},
        ],
    )
    assert result.status_code == 400
    assert result.json["error"]["type"] == "invalid_request_error"
    assert result.json["error"]["message"].startswith(
        "messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_x."
    )
    assert gateway.calls == []
