"""Bedrock's media limits through the real app: old media stubbed, oversize new media refused."""

from __future__ import annotations

import base64
import re
import struct
from typing import Any

import falcon.testing
import pytest

from domain.errors import UpstreamRejectedError
from domain.rules.media import media_count
from domain.vocab import converse as c
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.fake_gateway import FakeConverseGateway


def png(width: int, height: int, padding: int = 0) -> str:
    ihdr = struct.pack(">II", width, height) + b"\x08\x02\x00\x00\x00"
    data = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\0\0\0\0" + b"\0" * padding
    return base64.b64encode(data).decode()


def image(data: str) -> dict[str, Any]:
    return {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}


def screenshots(count: int) -> list[dict[str, Any]]:
    """A session that pasted ``count`` screenshots, one a turn, the i-th ``i + 1`` px wide."""
    messages: list[dict[str, Any]] = []
    for i in range(count):
        messages.append({"role": "user", "content": [image(png(i + 1, 1)), {"type": "text", "text": f"shot {i}"}]})
        messages.append({"role": "assistant", "content": "seen"})
    return messages[:-1]


def body(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"model": "claude-opus-4.6", "max_tokens": 64, "messages": messages}


@pytest.fixture
def gateway() -> FakeConverseGateway:
    return FakeConverseGateway()


@pytest.fixture
def client(gateway: FakeConverseGateway) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(Settings(api_key="k"), gateway))


def post(client: falcon.testing.TestClient, messages: list[dict[str, Any]]) -> falcon.testing.Result:
    return client.simulate_post("/v1/messages", params={"beta": "true"}, json=body(messages), host="127.0.0.1")


def sent_widths(request: c.ConverseRequest) -> list[int]:
    widths = []
    for message in request.messages:
        for block in message.content:
            if isinstance(block, c.ImageContent):
                assert isinstance(block.image.source, c.BytesSource)
                widths.append(struct.unpack(">I", block.image.source.bytes[16:20])[0])
    return widths


def stub_texts(request: c.ConverseRequest) -> list[str]:
    return [
        block.text
        for message in request.messages
        for block in message.content
        if isinstance(block, c.TextContent) and "omitted by nexus-claude-api" in block.text
    ]


def test_twenty_images_go_through_untouched(client: falcon.testing.TestClient, gateway: FakeConverseGateway) -> None:
    assert post(client, screenshots(20)).status_code == 200
    request = gateway.calls[0][2]
    assert media_count(request.messages) == 20 and stub_texts(request) == []


def test_a_25_image_session_sends_the_newest_20_and_stubs_the_rest(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway
) -> None:
    result = post(client, screenshots(25))
    assert result.status_code == 200, result.text
    request = gateway.calls[0][2]
    assert sent_widths(request) == list(range(6, 26))
    assert (
        stub_texts(request)
        == [
            "[image omitted by nexus-claude-api: Bedrock accepts at most 20 images and documents per request; "
            "this older image was not sent to the model]"
        ]
        * 5
    )


def test_a_25_image_tool_result_session_keeps_its_tool_results(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway
) -> None:
    messages: list[dict[str, Any]] = []
    for i in range(25):
        tool_id = f"toolu_{i}"
        messages.append({"role": "assistant", "content": [{"type": "tool_use", "id": tool_id, "name": "Read"}]})
        result = {"type": "tool_result", "tool_use_id": tool_id, "content": [image(png(i + 1, 1))]}
        messages.append({"role": "user", "content": [result]})
    messages.insert(0, {"role": "user", "content": "look at these"})
    tools = [{"name": "Read", "input_schema": {"type": "object"}}]
    sent = client.simulate_post(
        "/v1/messages", json={**body(messages), "tools": tools}, host="127.0.0.1", params={"beta": "true"}
    )
    assert sent.status_code == 200, sent.text
    request = gateway.calls[0][2]
    assert media_count(request.messages) == 20
    first = request.messages[2].content[0]
    assert isinstance(first, c.ToolResultContent)
    assert isinstance(first.tool_result.content[0], c.TextContent)
    assert "this older image was not sent to the model" in first.tool_result.content[0].text


def test_an_oversize_image_in_the_newest_turn_is_a_media_error_and_costs_no_call(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway
) -> None:
    messages = screenshots(2)
    messages[-1]["content"].insert(0, image(png(10, 10, padding=4 * 1024 * 1024)))
    result = post(client, messages)
    assert result.status_code == 400, result.text
    error = result.json["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("messages.2.content.0.image: image exceeds the 3.75 MB maximum")
    assert gateway.calls == []


def test_an_oversize_image_in_an_older_turn_is_stubbed(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway
) -> None:
    messages = screenshots(2)
    messages[0]["content"][0] = image(png(9000, 10))
    assert post(client, messages).status_code == 200
    request = gateway.calls[0][2]
    assert sent_widths(request) == [2]
    assert stub_texts(request) == [
        "[image omitted by nexus-claude-api: image dimensions exceed the 8000 px per side Bedrock allows "
        "(9000x10 px); this image was not sent to the model]"
    ]


def test_a_bedrock_media_rejection_reaches_claude_code_as_a_media_error() -> None:
    nexus = "The model returned the following errors: too many images and documents: 21 + 0 > 20"

    def refuse(_: c.ConverseRequest) -> c.ConverseResponse:
        raise UpstreamRejectedError(nexus)

    app_gateway = FakeConverseGateway(on_converse=refuse)
    local = falcon.testing.TestClient(create_app(Settings(api_key="k"), app_gateway))
    result = post(local, screenshots(1))
    assert result.status_code == 400, result.text
    message = result.json["error"]["message"]
    assert message.startswith("too much media: ") and message.endswith(f"(AI Nexus: {nexus})")


def test_an_overflow_without_figures_says_its_figure_is_not_nexus_count() -> None:
    nexus = "Input is too long for requested model."

    def refuse(_: c.ConverseRequest) -> c.ConverseResponse:
        raise UpstreamRejectedError(nexus)

    local = falcon.testing.TestClient(create_app(Settings(api_key="k"), FakeConverseGateway(on_converse=refuse)))
    result = post(local, [{"role": "user", "content": "hi"}])
    assert result.status_code == 400, result.text
    message = result.json["error"]["message"]
    # Claude Code parses these figures and shows them; the note says where they came from.
    assert re.match(
        r"prompt is too long: \d+ tokens > 200000 maximum \(input tokens estimated by nexus-claude-api", message
    )
    assert not message.startswith("prompt is too long: 200001 ")
    assert message.endswith(f"AI Nexus: {nexus})")
