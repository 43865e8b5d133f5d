"""A request's blocks, messages and tools read the short way are exactly what cattrs reads.

The short way (adapters/http/anthropic_fast.py) takes only the common exact shapes and
leaves the rest to the general hooks; a body either way gives equal objects or the same
error message.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.http import anthropic_fast, anthropic_wire
from domain.errors import InvalidRequestError
from domain.vocab import anthropic as a

GENERAL = anthropic_wire.make_converter(fast=False)

TEXT = st.text(max_size=6) | st.sampled_from(["", " ", "\ud83d", "5m", "1h", "ephemeral", "text", "0"])
CONTROL: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.just({"type": "ephemeral"}),
    st.fixed_dictionaries({"type": st.sampled_from(["ephemeral", "other", 1])}, optional={"ttl": TEXT | st.none()}),
    st.dictionaries(st.sampled_from(["type", "ttl", "x"]), TEXT, max_size=3),
)
ODD: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.integers(-1, 2), st.floats(allow_nan=False), TEXT, st.just([]), st.just({})
)
VALUE: st.SearchStrategy[Any] = st.one_of(ODD, TEXT, TEXT, st.just({"path": "/a"}))
ITEM: st.SearchStrategy[Any] = st.one_of(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["text", "image", "x", 1])}, optional={"text": VALUE, "cache_control": CONTROL}
    ),
    ODD,
)
BLOCK: st.SearchStrategy[Any] = st.one_of(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["text", "tool_use", "thinking", "tool_result", "image", "nope"]) | ODD},
        optional={
            "text": VALUE,
            "id": VALUE,
            "name": VALUE,
            "input": VALUE,
            "thinking": VALUE,
            "signature": VALUE,
            "tool_use_id": VALUE,
            "content": st.one_of(VALUE, st.lists(ITEM, max_size=3)),
            "is_error": VALUE,
            "cache_control": CONTROL,
            "citations": st.just([]),
            "extra": VALUE,
        },
    ),
    ODD,
)
MESSAGE: st.SearchStrategy[Any] = st.one_of(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "assistant", "system", "bot"]) | ODD},
        optional={"content": st.one_of(TEXT, st.lists(BLOCK, max_size=3), ODD), "extra": VALUE},
    ),
    ODD,
)
TOOL: st.SearchStrategy[Any] = st.one_of(
    st.fixed_dictionaries(
        {"name": VALUE},
        optional={
            "description": VALUE,
            "input_schema": VALUE,
            "defer_loading": VALUE,
            "cache_control": CONTROL,
            "type": VALUE,
        },
    ),
    ODD,
)


def _general_block(value: Any) -> Any:
    return GENERAL.structure(value, a.ContentBlock)  # type: ignore[arg-type]  # a union, as the wire reads it


@settings(max_examples=1500, deadline=None)
@given(block=BLOCK)
def test_a_block_read_the_short_way_is_what_cattrs_reads(block: Any) -> None:
    fast = anthropic_fast.read_block(block)
    if fast is not None:
        made = _general_block(block)
        assert fast == made
        assert type(fast) is type(made)


@settings(max_examples=500, deadline=None)
@given(tool=TOOL)
def test_a_tool_read_the_short_way_is_what_cattrs_reads(tool: Any) -> None:
    fast = anthropic_fast.read_tool(tool)
    if fast is not None:
        assert fast == GENERAL.structure(tool, a.Tool)


def _outcome(structure: Any, body: dict[str, Any]) -> Any:
    try:
        return structure(body)
    except InvalidRequestError as error:
        return f"error: {error}"


def _general_request(body: dict[str, Any]) -> Any:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(anthropic_wire, "_converter", GENERAL)
        return _outcome(anthropic_wire.structure_request, body)


@settings(max_examples=700, deadline=None)
@given(
    messages=st.lists(MESSAGE, max_size=3),
    tools=st.lists(TOOL, max_size=2) | ODD,
    system=st.lists(ITEM, max_size=2) | TEXT | ODD,
)
def test_a_request_reads_alike_either_way_errors_included(messages: list[Any], tools: Any, system: Any) -> None:
    body = {"model": "m", "messages": messages, "tools": tools, "system": system}
    assert _outcome(anthropic_wire.structure_request, body) == _general_request(body)


COMMON = [
    {"type": "text", "text": "hi"},
    {"type": "text", "text": "", "cache_control": {"type": "ephemeral"}},
    {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
    {"type": "text", "text": "hi", "cache_control": None},
    {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"path": "/a"}},
    {"type": "thinking", "thinking": "hmm", "signature": "c2ln"},
    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "done"},
    {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "a"}], "is_error": True},
    {"type": "tool_result", "tool_use_id": "toolu_1", "is_error": None},
]


@pytest.mark.parametrize("block", COMMON)
def test_the_common_blocks_take_the_short_way(block: dict[str, Any]) -> None:
    fast = anthropic_fast.read_block(block)
    assert fast is not None
    assert fast == _general_block(block)


@pytest.mark.parametrize(
    "block",
    [
        {"type": "text", "text": 5},
        {"type": "text", "text": "hi", "citations": None},  # a known field the short way does not read
        {"type": "text", "text": "hi", "extra": 1},  # cattrs ignores it; the short way does not guess
        {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral", "ttl": "2h"}},
        {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral", "ttl": None}},
        {"type": "text", "text": "hi", "cache_control": {}},
        {"type": "text", "text": "hi", "cache_control": {"type": "persistent"}},
        {"type": "text", "text": "hi", "cache_control": "ephemeral"},
        {"type": "tool_use", "id": "t", "name": "n", "input": []},
        {"type": "tool_use", "id": "t", "name": "n"},
        {"type": "tool_use", "id": 1, "name": "n", "input": {}},
        {"type": "thinking", "thinking": "hmm"},
        {"type": "thinking", "thinking": "hmm", "signature": None},
        {"type": "tool_result", "tool_use_id": "t", "is_error": "0"},
        {"type": "tool_result", "tool_use_id": "t", "is_error": 0},
        {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "image"}]},
        {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "a", "x": 1}]},
        {"type": "tool_result", "tool_use_id": "t", "content": None},
        {"type": "tool_result", "tool_use_id": ["t"]},
        {"type": ["text"], "text": "hi"},
        {"type": "image", "source": {}},
        ["text"],
    ],
)
def test_anything_else_is_left_to_cattrs(block: Any) -> None:
    assert anthropic_fast.read_block(block) is None


@pytest.mark.parametrize(
    "tool",
    [
        {"name": "Read", "description": "d", "input_schema": []},
        {"name": "Read", "input_schema": {}},
        {"name": "Read", "description": None, "input_schema": {}},
        {"name": "Read", "description": "d", "input_schema": {}, "defer_loading": "true"},
        {"name": "Read", "description": "d", "input_schema": {}, "type": "custom"},
    ],
)
def test_a_tool_of_another_shape_is_left_to_cattrs(tool: dict[str, Any]) -> None:
    assert anthropic_fast.read_tool(tool) is None


def test_a_usual_tool_takes_the_short_way() -> None:
    tool = {"name": "Read", "description": "d", "input_schema": {"type": "object"}, "defer_loading": True}
    assert anthropic_fast.read_tool(tool) == GENERAL.structure(tool, a.Tool)
    assert anthropic_fast.read_tool(tool) is not None


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        (
            [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": 5}]}],
            "messages.0.content.1.text",
        ),
        ([{"role": "user", "content": "a"}, {"role": "bot", "content": "b"}], "messages.1.role"),
        ([{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "is_error": "0"}]}], "is_error"),
    ],
)
def test_an_error_names_the_field_as_the_general_way_does(messages: list[Any], error: str) -> None:
    body = {"model": "m", "messages": messages}
    fast = _outcome(anthropic_wire.structure_request, body)
    assert fast == _general_request(body)
    assert error in fast
