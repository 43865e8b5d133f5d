"""The conversation's reshaping, on flat block lists, is what the unit-by-unit original made.

The reference below is the earlier form of conversation.py (a tuple per block and its cache
point, the turn reshaped unit by unit), kept here to check the faster one against.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidRequestError
from domain.to_converse import conversation
from domain.to_converse.content import EMPTY_PLACEHOLDER, convert_block
from domain.vocab import anthropic as a
from domain.vocab import converse as c

Unit = tuple[c.ContentBlock, ...]


def _reference_check(messages: Sequence[a.Message]) -> None:
    open_ids: set[str] = set()
    previous = None
    for index, message in enumerate(messages):
        if message.role == "system":
            continue
        blocks = conversation._blocks(message)
        if message.role == "assistant":
            ids = {block.id for block in blocks if isinstance(block, a.ToolUseBlock)}
            open_ids = open_ids | ids if previous == "assistant" else ids
        for j, block in enumerate(blocks):
            if message.role == "user" and isinstance(block, a.ToolResultBlock) and block.tool_use_id not in open_ids:
                raise InvalidRequestError(f"messages.{index}.content.{j}: unexpected `tool_use_id` {block.tool_use_id}")
        previous = message.role


def _reference_units(message: a.Message, index: int, docs: list[int]) -> list[Unit]:
    units: list[Unit] = []
    for j, block in enumerate(conversation._blocks(message)):
        converted = convert_block(conversation._readable(block), f"messages.{index}.content.{j}", docs)
        if converted and isinstance(converted[0], c.CachePointContent) and units:
            if not isinstance(units[-1][-1], c.CachePointContent):
                units[-1] = (*units[-1], *converted)
        elif converted and not isinstance(converted[0], c.CachePointContent):
            units.append(converted)
    return units


def _reference_finish(role: str, units: list[Unit]) -> list[Unit]:
    if role == "user":
        units = [u for u in units if isinstance(u[0], c.ToolResultContent)] + [
            u for u in units if not isinstance(u[0], c.ToolResultContent)
        ]
        if any(isinstance(u[0], c.DocumentContent) for u in units) and not any(
            isinstance(u[0], c.TextContent) for u in units
        ):
            units.append((c.TextContent(text=conversation.DOCUMENT_NOTE),))
    return units or [(c.TextContent(text=EMPTY_PLACEHOLDER),)]


def _reference_strip(units: list[Unit]) -> list[Unit]:
    last = units[-1]
    if not isinstance(last[0], c.TextContent):
        return units
    text = last[0].text.rstrip()
    if not text:
        return units[:-1] or [(c.TextContent(text=EMPTY_PLACEHOLDER),)]
    return [*units[:-1], (c.TextContent(text=text), *last[1:])]


def _reference(messages: Sequence[a.Message]) -> tuple[c.Message, ...]:
    _reference_check(messages)
    docs: list[int] = []
    turns: list[tuple[str, list[Unit]]] = []
    for index, message in enumerate(messages):
        role = "assistant" if message.role == "assistant" else "user"
        units = _reference_units(message, index, docs)
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(units)
        else:
            turns.append((role, units))
    if not turns or turns[0][0] != "user":
        turns.insert(0, ("user", []))
    shaped = [(role, _reference_finish(role, units)) for role, units in turns]
    if shaped[-1][0] == "assistant":
        shaped[-1] = ("assistant", _reference_strip(shaped[-1][1]))
    return tuple(c.Message(role=role, content=tuple(b for u in units for b in u)) for role, units in shaped)  # type: ignore[arg-type]


CONTROL = st.none() | st.just(a.CacheControl()) | st.just(a.CacheControl(ttl="1h"))
TEXT = st.sampled_from(["", " ", "hi", "hi  ", "\n"])
IDS = st.sampled_from(["t1", "t2"])
BLOCK: st.SearchStrategy[Any] = st.one_of(
    st.builds(a.TextBlock, type=st.just("text"), text=TEXT, cache_control=CONTROL),
    st.builds(a.ToolUseBlock, type=st.just("tool_use"), id=IDS, name=st.just("Read"), cache_control=CONTROL),
    st.builds(
        a.ToolResultBlock,
        type=st.just("tool_result"),
        tool_use_id=IDS,
        content=TEXT | st.lists(st.builds(a.TextBlock, type=st.just("text"), text=TEXT), max_size=2).map(tuple),
        cache_control=CONTROL,
    ),
    st.builds(
        a.ThinkingBlock,
        type=st.just("thinking"),
        thinking=TEXT,
        signature=st.sampled_from(["", "c2ln"]),
        cache_control=CONTROL,
    ),
    st.builds(
        a.DocumentBlock,
        type=st.just("document"),
        source=st.just(a.PlainTextSource(type="text", data="doc")),
        cache_control=CONTROL,
    ),
)
MESSAGE = st.builds(
    a.Message,
    role=st.sampled_from(["user", "assistant", "system"]),
    content=TEXT | st.lists(BLOCK, max_size=4).map(tuple),
)


def _outcome(convert: Any, messages: Sequence[a.Message]) -> Any:
    try:
        return convert(messages)
    except InvalidRequestError as error:
        return str(error).split(":")[0]


@settings(max_examples=1500, deadline=None)
@given(messages=st.lists(MESSAGE, max_size=6))
def test_the_flat_reshaping_is_the_unit_by_unit_one(messages: list[a.Message]) -> None:
    assert _outcome(conversation.convert_messages, messages) == _outcome(_reference, messages)
