"""The stream's shortcuts for its commonest events read and write exactly what the general paths do."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.http import sse as sse_module
from adapters.http.anthropic_wire import unstructure
from adapters.http.json_limits import to_json_bytes
from adapters.http.sse import sse
from adapters.nexus import converse_wire
from adapters.nexus.stream_events import fast_block_delta
from domain.vocab import anthropic as a

TEXT = st.text(max_size=20) | st.sampled_from(["\ud83d", "é\u6f22", '"\\\n', "\x00"])
ODD: st.SearchStrategy[Any] = st.one_of(st.none(), st.booleans(), st.integers(-2, 3), st.floats(), TEXT)
INNER: st.SearchStrategy[Any] = st.one_of(
    ODD,
    st.dictionaries(st.sampled_from(["text", "signature", "input", "redactedContent", "x"]), ODD | TEXT, max_size=2),
)
DELTA: st.SearchStrategy[Any] = st.one_of(
    ODD,
    st.dictionaries(st.sampled_from(["text", "toolUse", "reasoningContent", "citation", "x"]), INNER, max_size=2),
)
PAYLOAD: st.SearchStrategy[Any] = st.one_of(
    ODD,
    st.fixed_dictionaries(
        {},
        optional={"contentBlockIndex": st.one_of(st.integers(0, 5), ODD), "delta": DELTA, "p": st.just("abcd")},
    ),
)


@settings(max_examples=500, deadline=None)
@given(payload=PAYLOAD)
def test_a_delta_read_the_short_way_is_what_cattrs_reads(payload: Any) -> None:
    fast = fast_block_delta(payload)
    if fast is not None:
        assert fast == converse_wire.parse_stream_event("contentBlockDelta", payload)


@pytest.mark.parametrize(
    "payload",
    [
        {"contentBlockIndex": 0, "delta": {"text": "hi"}, "p": "abc"},
        {"contentBlockIndex": 2, "delta": {"toolUse": {"input": '{"a":'}}},
        {"contentBlockIndex": 1, "delta": {"reasoningContent": {"text": "hmm"}}},
        {"contentBlockIndex": 1, "delta": {"reasoningContent": {"signature": "c2ln"}}},
    ],
)
def test_the_common_deltas_take_the_short_way(payload: Any) -> None:
    assert fast_block_delta(payload) == converse_wire.parse_stream_event("contentBlockDelta", payload)
    assert fast_block_delta(payload) is not None


@pytest.mark.parametrize(
    "payload",
    [
        {"contentBlockIndex": "0", "delta": {"text": "hi"}},  # cattrs coerces; the short way does not guess
        {"contentBlockIndex": True, "delta": {"text": "hi"}},
        {"contentBlockIndex": 0, "delta": {"text": 5}},
        {"contentBlockIndex": 0, "delta": {"text": "a", "toolUse": {"input": "b"}}},
        {"contentBlockIndex": 0, "delta": {"reasoningContent": {"redactedContent": "AAE="}}},
        {"contentBlockIndex": 0, "delta": {"citation": {}}},
    ],
)
def test_anything_else_is_left_to_cattrs(payload: Any) -> None:
    assert fast_block_delta(payload) is None


def _general(event: a.StreamEvent) -> bytes:
    data = to_json_bytes(unstructure(event), compact=True)
    return b"".join((b"event: ", event.type.encode(), b"\ndata: ", data, b"\n\n"))


DELTAS = st.one_of(
    st.builds(lambda t: a.TextDelta(type="text_delta", text=t), TEXT),
    st.builds(lambda t: a.InputJsonDelta(type="input_json_delta", partial_json=t), TEXT),
    st.builds(lambda t: a.ThinkingDelta(type="thinking_delta", thinking=t), TEXT),
    st.builds(lambda t: a.SignatureDelta(type="signature_delta", signature=t), TEXT),
)


@settings(max_examples=300, deadline=None)
@given(index=st.integers(0, 10**6), delta=DELTAS)
def test_a_delta_event_framed_the_short_way_is_byte_for_byte_the_general_one(index: int, delta: Any) -> None:
    event = a.ContentBlockDeltaEvent(type="content_block_delta", index=index, delta=delta)
    assert sse(event) == _general(event)


def test_text_deltas_skip_the_converter(monkeypatch: pytest.MonkeyPatch) -> None:
    event = a.ContentBlockDeltaEvent(
        type="content_block_delta", index=3, delta=a.TextDelta(type="text_delta", text="é")
    )
    expected = _general(event)
    monkeypatch.setattr(sse_module, "unstructure", lambda _: pytest.fail("the converter ran"))
    assert sse(event) == expected
    # A lone surrogate goes the careful way, where it becomes U+FFFD.
    lone = a.ContentBlockDeltaEvent(
        type="content_block_delta", index=0, delta=a.TextDelta(type="text_delta", text="\ud83d")
    )
    assert sse_module._plain_delta(lone) is None
