"""A run of deltas translates to the events its deltas one at a time translate to."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.services.auto_mode import _StreamedToolUses
from domain.to_anthropic.stream import StreamTranslator
from domain.vocab import anthropic as a
from domain.vocab import builders
from domain.vocab import converse as c

PIECES = st.lists(st.sampled_from(["", "a", "héllo", "\ud83d", "\ude00", "x\ud83d", "\ud83d\ude00", '{"k": 1', "漢"]))
KINDS: st.SearchStrategy[Any] = st.sampled_from(["text", "tool_input", "reasoning"])
RUNS = st.builds(
    lambda i, k, p: c.DeltaRun(content_block_index=i, kind=k, pieces=tuple(p)), st.integers(0, 2), KINDS, PIECES
)
OTHERS: st.SearchStrategy[Any] = st.one_of(
    st.builds(
        lambda i: c.ContentBlockStartEvent(
            content_block_index=i, start=c.BlockStart(tool_use=c.ToolUseStart(tool_use_id=f"t{i}", name="Read"))
        ),
        st.integers(0, 2),
    ),
    st.builds(lambda i: c.ContentBlockStopEvent(content_block_index=i), st.integers(0, 2)),
    st.builds(lambda i, t: builders.converse_text(i, t), st.integers(0, 2), st.sampled_from(["a", "\ud83d"])),
)
END: list[c.StreamEvent] = [
    c.MessageStopEvent(stop_reason="tool_use"),
    c.MetadataEvent(usage=c.TokenUsage(input_tokens=3, output_tokens=4, total_tokens=7)),
]


def expanded(events: list[Any], expand: Any) -> list[Any]:
    return [one for event in events for one in (expand(event) if type(event) in RUN_TYPES else [event])]


RUN_TYPES = (c.DeltaRun, a.DeltaRun)


def by_runs(stream: list[c.StreamEvent]) -> list[a.StreamEvent]:
    translator = StreamTranslator(tool_names={})
    return translator.feed_all(stream) + translator.finish()


def one_at_a_time(stream: list[c.StreamEvent]) -> list[a.StreamEvent]:
    translator = StreamTranslator(tool_names={})
    deltas = expanded(stream, builders.converse_deltas)
    return [out for event in deltas for out in translator.feed(event)] + translator.finish()


@settings(max_examples=200, deadline=None)
@given(events=st.lists(st.one_of(RUNS, OTHERS), max_size=12))
def test_runs_translate_to_what_their_deltas_translate_to(events: list[c.StreamEvent]) -> None:
    stream = [*events, *END]
    assert expanded(by_runs(stream), builders.block_deltas) == one_at_a_time(stream)


def test_a_plain_run_in_an_open_block_stays_one_run() -> None:
    translator = StreamTranslator(tool_names={})
    translator.feed(builders.converse_text(0, "opening "))  # the general path opens the block
    run = c.DeltaRun(content_block_index=0, kind="text", pieces=("a", "b", "c"))
    assert translator.feed(run) == [
        a.DeltaRun(type="content_block_deltas", index=0, kind="text_delta", pieces=("a", "b", "c"))
    ]


def test_a_run_that_opens_its_block_is_cut_where_the_general_path_must_decide() -> None:
    translator = StreamTranslator(tool_names={})
    run = c.DeltaRun(content_block_index=0, kind="text", pieces=("a", "b\ud83d", "\ude00c", "d"))
    out = translator.feed(run)
    assert [type(event) for event in out] == [
        a.ContentBlockStartEvent,  # opened by "a", the general path
        a.ContentBlockDeltaEvent,  # "a"
        a.ContentBlockDeltaEvent,  # "b": the high half held for the next piece
        a.ContentBlockDeltaEvent,  # "😀c": joined
        a.DeltaRun,  # "d": plain again
    ]
    deltas = [e.delta for e in out[1:4] if isinstance(e, a.ContentBlockDeltaEvent)]
    texts = [delta.text for delta in deltas if isinstance(delta, a.TextDelta)]
    assert texts == ["a", "b", "\U0001f600c"]


def test_auto_modes_check_gathers_tool_input_from_runs() -> None:
    uses = _StreamedToolUses()
    start = a.ContentBlockStartEvent(
        type="content_block_start", index=1, content_block=a.ToolUseBlock(type="tool_use", id="t1", name="Bash")
    )
    events: list[a.StreamEvent] = [
        start,
        builders.block_delta(1, builders.input_json_delta('{"command"')),
        a.DeltaRun(type="content_block_deltas", index=1, kind="input_json_delta", pieces=(': "ls', ' -la"}')),
    ]
    for event in events:
        uses.see(event)
    [call] = uses.calls()
    assert call.input == {"command": "ls -la"}
