"""The tool loop and every kind of content, end to end through the SDK and the fake Nexus."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.fake_nexus import (
    FakeNexus,
    JsonReply,
    StreamReply,
    block_delta,
    block_stop,
    message_stream,
    text_reply,
    token_usage,
    tool_use_events,
)

if TYPE_CHECKING:
    import anthropic

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 24).decode()
PDF = base64.b64encode(b"%PDF-1.4\n1 0 obj << /Type /Page >> endobj\n%%EOF").decode()
WEATHER: anthropic.types.ToolParam = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
ASK: anthropic.types.MessageParam = {"role": "user", "content": "Weather in Paris and Oslo?"}


def tool_use_reply() -> JsonReply:
    content = [
        {"text": "Checking both."},
        {"toolUse": {"toolUseId": "tooluse_paris", "name": "get_weather", "input": {"city": "Paris"}}},
        {"toolUse": {"toolUseId": "tooluse_oslo", "name": "get_weather", "input": {"city": "Oslo"}}},
    ]
    return JsonReply(
        {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": "tool_use",
            "usage": token_usage(50, 30),
            "metrics": {"latencyMs": 9},
        }
    )


def tool_use_stream() -> StreamReply:
    return message_stream(
        [
            block_delta(0, {"text": "Checking both."}),
            block_stop(0),
            *tool_use_events(1, "tooluse_paris", "get_weather", ["", '{"city": "Pa', 'ris"}']),
            *tool_use_events(2, "tooluse_oslo", "get_weather", ['{"city":', ' "Oslo"}']),
        ],
        stop_reason="tool_use",
        usage=token_usage(50, 30),
    )


def second_turn(first: anthropic.types.Message) -> list[Any]:
    """The history Claude Code would send back, as JSON: results for both calls, one in
    error, one carrying an image."""
    paris, oslo = [block for block in first.content if block.type == "tool_use"]
    results = [
        {
            "type": "tool_result",
            "tool_use_id": paris.id,
            "content": [
                {"type": "text", "text": "18C, sunny"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
            ],
        },
        {"type": "tool_result", "tool_use_id": oslo.id, "content": "service down", "is_error": True},
    ]
    return [
        ASK,
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": results},
    ]


def assert_second_request(fake_nexus: FakeNexus) -> None:
    body = fake_nexus.requests[-1].body
    assistant, user = body["messages"][1], body["messages"][2]
    assert [list(block) for block in assistant["content"]] == [["text"], ["toolUse"], ["toolUse"]]
    assert [b["toolUse"]["input"] for b in assistant["content"][1:]] == [{"city": "Paris"}, {"city": "Oslo"}]
    paris, oslo = (b["toolResult"] for b in user["content"])
    assert paris["toolUseId"] == "tooluse_paris" and oslo["toolUseId"] == "tooluse_oslo"
    assert paris["content"][0] == {"text": "18C, sunny"}
    assert paris["content"][1]["image"]["format"] == "png" and paris["content"][1]["image"]["source"]["bytes"] == PNG
    assert oslo == {"toolUseId": "tooluse_oslo", "content": [{"text": "service down"}], "status": "error"}
    assert body["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"


def test_two_turn_tool_round_trip(client: anthropic.Anthropic, fake_nexus: FakeNexus) -> None:
    fake_nexus.enqueue(tool_use_reply(), text_reply("Paris is sunny; Oslo is unknown."))
    first = client.messages.create(model="claude-opus-4.6", max_tokens=500, tools=[WEATHER], messages=[ASK])
    assert first.stop_reason == "tool_use"
    assert [(b.type, getattr(b, "input", None)) for b in first.content] == [
        ("text", None),
        ("tool_use", {"city": "Paris"}),
        ("tool_use", {"city": "Oslo"}),
    ]
    final = client.messages.create(
        model="claude-opus-4.6", max_tokens=500, tools=[WEATHER], messages=second_turn(first)
    )
    assert final.content[0].text == "Paris is sunny; Oslo is unknown."  # type: ignore[union-attr]
    assert_second_request(fake_nexus)


def test_two_turn_tool_round_trip_streamed(client: anthropic.Anthropic, fake_nexus: FakeNexus) -> None:
    fake_nexus.enqueue(tool_use_stream(), text_reply("Done."))
    with client.messages.stream(model="claude-opus-4.6", max_tokens=500, tools=[WEATHER], messages=[ASK]) as stream:
        partials = [
            e.delta.partial_json
            for e in stream
            if e.type == "content_block_delta" and e.delta.type == "input_json_delta"
        ]
        first = stream.get_final_message()
    assert partials == ["", '{"city": "Pa', 'ris"}', '{"city":', ' "Oslo"}']
    assert first.stop_reason == "tool_use"
    assert [b.input for b in first.content if b.type == "tool_use"] == [{"city": "Paris"}, {"city": "Oslo"}]
    client.messages.create(model="claude-opus-4.6", max_tokens=500, tools=[WEATHER], messages=second_turn(first))
    assert_second_request(fake_nexus)
    assert fake_nexus.requests[0].body["additionalModelRequestFields"]["anthropic_beta"] == [
        "fine-grained-tool-streaming-2025-05-14"
    ]


def test_pdf_and_plain_text_documents(client: anthropic.Anthropic, fake_nexus: FakeNexus) -> None:
    fake_nexus.enqueue(text_reply("Both read."))
    client.messages.create(
        model="claude-opus-4.6",
        max_tokens=100,
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "document",
                        "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
                        "title": "Q3.report.pdf",
                    },
                    {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain notes"}},
                    {"type": "text", "text": "Summarise both."},
                ],
            }
        ],
    )
    content = fake_nexus.requests[0].body["messages"][0]["content"]
    pdf, txt, prompt = content
    assert pdf["document"]["format"] == "pdf" and pdf["document"]["source"]["bytes"] == PDF
    assert "." not in pdf["document"]["name"]
    assert txt["document"]["format"] == "txt"
    assert base64.b64decode(txt["document"]["source"]["bytes"]) == b"plain notes"
    assert txt["document"]["name"] != pdf["document"]["name"]
    assert prompt == {"text": "Summarise both."}


def test_unsupported_content_is_a_400_and_nexus_is_not_called(
    client: anthropic.Anthropic, fake_nexus: FakeNexus
) -> None:
    import anthropic

    url_image: anthropic.types.ImageBlockParam = {
        "type": "image",
        "source": {"type": "url", "url": "https://example.com/cat.png"},
    }
    with pytest.raises(anthropic.BadRequestError, match="base64"):
        client.messages.create(
            model="claude-opus-4.6", max_tokens=10, messages=[{"role": "user", "content": [url_image]}]
        )
    with pytest.raises(anthropic.BadRequestError, match="not available through AI Nexus"):
        client.messages.create(
            model="claude-opus-4.6",
            max_tokens=10,
            messages=[ASK],
            tools=[{"type": "web_search_20250305", "name": "web_search"}],
        )
    assert fake_nexus.requests == []
