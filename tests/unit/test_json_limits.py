"""JSON limits and well-formed Unicode, as plain values; and split surrogate pairs in streams."""

from __future__ import annotations

import json
from typing import cast

import pytest

from adapters.http.json_limits import (
    MAX_DEPTH,
    finite_float,
    lone_surrogate,
    may_hold_surrogates,
    to_json_bytes,
    too_deep,
    well_formed,
)
from domain.to_anthropic.stream import StreamTranslator
from domain.vocab import anthropic as a
from domain.vocab import converse as c

GRIN = "\N{GRINNING FACE}"
HIGH, LOW = "\ud83d", "\ude00"  # GRIN as UTF-16


def test_finite_float_refuses_overflow_only() -> None:
    assert finite_float("1.5e3") == 1500.0
    assert finite_float("1e-999") == 0.0  # underflow is harmless
    for text in ("1e999", "-1E309"):
        with pytest.raises(ValueError, match="out of range"):
            finite_float(text)


def test_too_deep_names_the_field_where_the_limit_is_crossed() -> None:
    value: object = {}
    for _ in range(MAX_DEPTH - 1):
        value = {"a": value}
    assert too_deep(value) is None
    assert too_deep({"x": [value]}) == "x.0.a.a.a.a.a.a..."
    assert too_deep([[[]]], limit=2) == "0.0"


def test_lone_surrogate_finds_the_first_in_document_order_keys_included() -> None:
    assert lone_surrogate({"a": ["ok", GRIN], "b": {"c": "x\udfff"}, "d": "\ud800"}) == ("b.c", "\\udfff")
    assert lone_surrogate({"m": {"k\ud800": 1}}) == ("m (a key)", "\\ud800")
    assert lone_surrogate({"a": GRIN, "n": 1}) is None


def test_the_cheap_scan_sees_escapes_in_either_case_and_nothing_else() -> None:
    assert may_hold_surrogates(r'"\uD800"') and may_hold_surrogates(r'"\udfff"')
    assert not may_hold_surrogates(r'"\u00e9 \uc800 \ud7ff"') and not may_hold_surrogates(GRIN)


def test_well_formed_joins_pairs_and_replaces_lone_halves() -> None:
    assert well_formed(f"a{HIGH}{LOW}b{LOW}{HIGH}") == f"a{GRIN}b\ufffd\ufffd"


def test_to_json_bytes_never_fails_on_what_nexus_sent() -> None:
    assert to_json_bytes({"t": "é"}) == '{"t": "é"}'.encode()
    assert json.loads(to_json_bytes({"t": f"x{HIGH}"}, compact=True)) == {"t": "x\ufffd"}


def _texts(events: list[a.StreamEvent]) -> list[str]:
    out = []
    for event in events:
        if isinstance(event, a.ContentBlockDeltaEvent):
            delta = event.delta
            out.append(
                getattr(delta, "text", None)
                or getattr(delta, "thinking", None)
                or cast(a.InputJsonDelta, delta).partial_json
            )
    return out


def _feed(*deltas: c.Delta) -> list[str]:
    translator = StreamTranslator(tool_names={})
    events = [
        event for d in deltas for event in translator.feed(c.ContentBlockDeltaEvent(content_block_index=0, delta=d))
    ]
    events += translator.feed(c.ContentBlockStopEvent(content_block_index=0))
    return _texts(events)


def test_a_pair_split_across_text_deltas_is_joined_and_a_lost_half_replaced() -> None:
    chunks = (f"hi {HIGH}", f"{LOW}!", HIGH, f"{LOW}", f"end {HIGH}")
    assert _feed(*(c.TextChunk(text=t) for t in chunks)) == ["hi ", f"{GRIN}!", GRIN, "end ", "\ufffd"]


def test_a_pair_split_across_thinking_deltas_is_joined() -> None:
    parts = (c.ReasoningDelta(reasoning_content=c.ReasoningChunk(text=t)) for t in (f"a{HIGH}", f"{LOW}b"))
    assert _feed(*parts) == ["a", f"{GRIN}b"]
