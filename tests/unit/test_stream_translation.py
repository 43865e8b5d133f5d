"""The stream state machine, on plain Converse events."""

from __future__ import annotations

import base64

import pytest

from domain.errors import UpstreamFailureError
from domain.to_anthropic.stream import StreamTranslator
from domain.vocab import anthropic as a
from domain.vocab import converse as c


def delta(index: int, d: c.Delta) -> c.ContentBlockDeltaEvent:
    return c.ContentBlockDeltaEvent(content_block_index=index, delta=d)


def stop(index: int) -> c.ContentBlockStopEvent:
    return c.ContentBlockStopEvent(content_block_index=index)


def reasoning(**kw: object) -> c.ReasoningDelta:
    return c.ReasoningDelta(reasoning_content=c.ReasoningChunk(**kw))  # type: ignore[arg-type]


END: list[c.StreamEvent] = [
    c.MessageStopEvent(stop_reason="tool_use"),
    c.MetadataEvent(
        usage=c.TokenUsage(input_tokens=30, output_tokens=9, total_tokens=539, cache_read_input_tokens=500)
    ),
]


def run(events: list[c.StreamEvent], tool_names: dict[str, str] | None = None) -> list[a.StreamEvent]:
    translator = StreamTranslator(tool_names=tool_names or {}, input_estimate=17)
    out = [e for event in events for e in translator.feed(event)]
    return out + translator.finish()


def shape(events: list[a.StreamEvent]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for e in events:
        match e:
            case a.ContentBlockStartEvent(index=i, content_block=block):
                rows.append(("start", i, block.type))
            case a.ContentBlockDeltaEvent(index=i, delta=d):
                rows.append(("delta", i, d.type))
            case a.ContentBlockStopEvent(index=i):
                rows.append(("stop", i))
            case _:
                rows.append((e.type,))
    return rows


def test_thinking_text_and_tool_use_in_order_with_contiguous_indices() -> None:
    events = [
        c.MessageStartEvent(),
        delta(0, reasoning(text="Let me")),
        delta(0, reasoning(text=" think")),
        delta(0, reasoning(signature="SIG==")),
        stop(0),
        delta(1, c.TextChunk(text="I'll check.")),
        stop(1),
        c.ContentBlockStartEvent(
            content_block_index=2,
            start=c.BlockStart(tool_use=c.ToolUseStart(tool_use_id="tooluse_1", name="mcp_x_abc")),
        ),
        delta(2, c.ToolUseChunk(tool_use=c.ToolUseInput(input=""))),
        delta(2, c.ToolUseChunk(tool_use=c.ToolUseInput(input='{"city": "Par'))),
        delta(2, c.ToolUseChunk(tool_use=c.ToolUseInput(input='is"}'))),
        stop(2),
        *END,
    ]
    out = run(events, tool_names={"mcp_x_abc": "mcp.x"})
    assert shape(out) == [
        ("start", 0, "thinking"),
        ("delta", 0, "thinking_delta"),
        ("delta", 0, "thinking_delta"),
        ("delta", 0, "signature_delta"),
        ("stop", 0),
        ("start", 1, "text"),
        ("delta", 1, "text_delta"),
        ("stop", 1),
        ("start", 2, "tool_use"),
        ("delta", 2, "input_json_delta"),
        ("delta", 2, "input_json_delta"),
        ("delta", 2, "input_json_delta"),
        ("stop", 2),
        ("message_delta",),
        ("message_stop",),
    ]
    assert out[0] == a.ContentBlockStartEvent(
        type="content_block_start", index=0, content_block=a.ThinkingBlock(type="thinking", thinking="", signature="")
    )
    assert out[3].delta == a.SignatureDelta(type="signature_delta", signature="SIG==")  # type: ignore[union-attr]
    tool_start = out[8].content_block  # type: ignore[union-attr]
    assert isinstance(tool_start, a.ToolUseBlock)
    assert (tool_start.id, tool_start.name, tool_start.input) == ("tooluse_1", "mcp.x", {})
    partials = [e.delta.partial_json for e in out[9:12]]  # type: ignore[union-attr]
    assert partials == ["", '{"city": "Par', 'is"}']
    final = out[-2]
    assert final == a.MessageDeltaEvent(
        type="message_delta",
        delta=a.StopInfo(stop_reason="tool_use", stop_sequence=None),
        usage=a.Usage(input_tokens=30, output_tokens=9, cache_read_input_tokens=500),
    )


def test_text_block_start_carries_no_text() -> None:
    out = run([delta(0, c.TextChunk(text="Hello")), stop(0), *END])
    assert out[0] == a.ContentBlockStartEvent(
        type="content_block_start", index=0, content_block=a.TextBlock(type="text", text="")
    )
    assert out[1].delta == a.TextDelta(type="text_delta", text="Hello")  # type: ignore[union-attr]


def test_anthropic_indices_count_from_zero_whatever_converse_sends() -> None:
    out = run([delta(3, c.TextChunk(text="a")), stop(3), delta(7, c.TextChunk(text="b")), stop(7), *END])
    assert [row for row in shape(out) if row[0] == "start"] == [("start", 0, "text"), ("start", 1, "text")]


def test_blocks_left_open_are_closed_before_message_delta() -> None:
    out = run([delta(0, c.TextChunk(text="a")), *END])
    assert shape(out)[-3:] == [("stop", 0), ("message_delta",), ("message_stop",)]


def test_redacted_thinking_arrives_whole_in_its_start_event() -> None:
    out = run([delta(0, reasoning(redacted_content=b"\x01\x02")), stop(0), *END])
    block = out[0].content_block  # type: ignore[union-attr]
    assert block == a.RedactedThinkingBlock(type="redacted_thinking", data=base64.b64encode(b"\x01\x02").decode())


def test_stop_sequence_is_reported_in_message_delta() -> None:
    stop_event = c.MessageStopEvent(
        stop_reason="stop_sequence", additional_model_response_fields={"delta": {"stop_sequence": "###"}}
    )
    out = run([delta(0, c.TextChunk(text="a")), stop(0), stop_event, END[1]])
    assert out[-2].delta == a.StopInfo(stop_reason="stop_sequence", stop_sequence="###")  # type: ignore[union-attr]


def test_a_stream_without_message_stop_is_a_failure() -> None:
    translator = StreamTranslator(tool_names={})
    translator.feed(delta(0, c.TextChunk(text="partial")))
    with pytest.raises(UpstreamFailureError, match="before the message was complete"):
        translator.finish()


def test_missing_metadata_still_ends_cleanly_with_output_tokens() -> None:
    translator = StreamTranslator(tool_names={}, input_estimate=17)
    translator.feed(c.MessageStopEvent(stop_reason="end_turn"))
    final = translator.finish()
    assert final[-2].usage.output_tokens >= 1 and final[-2].usage.input_tokens == 17  # type: ignore[union-attr]
