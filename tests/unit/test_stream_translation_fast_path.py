"""The translator's shortcut for plain deltas makes exactly the events its general path makes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.to_anthropic.stream import StreamTranslator
from domain.vocab import anthropic as a
from domain.vocab import converse as c


class GeneralOnly(StreamTranslator):
    """The translator with its shortcut turned off: the reference."""

    def _plain_delta(self, event: c.ContentBlockDeltaEvent) -> list[a.StreamEvent] | None:
        return None


TEXTS = st.sampled_from(["", "a", "héllo", "\ud83d", "\ude00", "x\ud83d", "\ud83d\ude00", '{"k": 1', "é\u6f22"])
INDEX = st.integers(0, 2)
DELTAS: st.SearchStrategy[Any] = st.one_of(
    st.builds(c.TextChunk, text=TEXTS),
    st.builds(lambda t: c.ToolUseChunk(tool_use=c.ToolUseInput(input=t)), TEXTS),
    st.builds(lambda t: c.ReasoningDelta(reasoning_content=c.ReasoningChunk(text=t)), TEXTS),
    st.builds(lambda t: c.ReasoningDelta(reasoning_content=c.ReasoningChunk(signature=t)), TEXTS),
    st.builds(lambda t: c.ReasoningDelta(reasoning_content=c.ReasoningChunk(text=t, signature="sig")), TEXTS),
    st.just(c.ReasoningDelta(reasoning_content=c.ReasoningChunk(redacted_content=b"\x00\x01"))),
)
EVENTS: st.SearchStrategy[Any] = st.one_of(
    st.builds(lambda i, d: c.ContentBlockDeltaEvent(content_block_index=i, delta=d), INDEX, DELTAS),
    st.builds(
        lambda i: c.ContentBlockStartEvent(
            content_block_index=i, start=c.BlockStart(tool_use=c.ToolUseStart(tool_use_id=f"t{i}", name="Read"))
        ),
        INDEX,
    ),
    st.builds(lambda i: c.ContentBlockStopEvent(content_block_index=i), INDEX),
)
END: list[c.StreamEvent] = [
    c.MessageStopEvent(stop_reason="end_turn"),
    c.MetadataEvent(usage=c.TokenUsage(input_tokens=3, output_tokens=4, total_tokens=7)),
]


def run(translator: StreamTranslator, events: list[c.StreamEvent]) -> list[a.StreamEvent]:
    return [out for event in events for out in translator.feed(event)] + translator.finish()


@settings(max_examples=300, deadline=None)
@given(events=st.lists(EVENTS, max_size=25))
def test_any_stream_translates_the_same_with_and_without_the_shortcut(events: list[c.StreamEvent]) -> None:
    stream = [*events, *END]
    assert run(StreamTranslator(tool_names={}), stream) == run(GeneralOnly(tool_names={}), stream)


def test_the_shortcut_takes_a_plain_text_delta_in_an_open_block() -> None:
    translator = StreamTranslator(tool_names={})
    first = c.ContentBlockDeltaEvent(content_block_index=0, delta=c.TextChunk(text="a"))
    translator.feed(first)  # opens the block: the general path
    more = c.ContentBlockDeltaEvent(content_block_index=0, delta=c.TextChunk(text="b"))
    assert translator._plain_delta(more) == [
        a.ContentBlockDeltaEvent(type="content_block_delta", index=0, delta=a.TextDelta(type="text_delta", text="b"))
    ]
    # Half a surrogate pair at the end is held: left to the general path.
    held = c.ContentBlockDeltaEvent(content_block_index=0, delta=c.TextChunk(text="x\ud83d"))
    assert translator._plain_delta(held) is None
