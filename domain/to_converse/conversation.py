"""Anthropic ``messages`` -> Converse ``messages``, normalised to what Converse accepts.

Anthropic's API is lenient where Converse is strict: it merges consecutive same-role
turns, takes ``role: "system"`` entries inside ``messages`` and tolerates blank text.
Here each message's blocks become Converse blocks, then the turn list is reshaped:

- a ``system`` message becomes user text, merged into the adjacent user turn (the
  system prompt is left alone so its cache prefix survives; this is also what Claude
  Code itself does when a server rejects the role);
- consecutive same-role turns merge; tool results move to the front of their turn;
- blank text is dropped and an emptied turn gets a visible placeholder;
- a turn holding a document gets the text block Converse requires beside it;
- the conversation starts with a user turn, and a trailing assistant prefill loses its
  trailing whitespace (Claude rejects it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import attrs

from domain.to_converse.content import EMPTY_PLACEHOLDER, convert_block
from domain.vocab import anthropic as a
from domain.vocab import converse as c

# A block and the cache point that may follow it travel together when turns reshape.
Unit = tuple[c.ContentBlock, ...]
DOCUMENT_NOTE = "(document attached)"


Role = Literal["user", "assistant"]


@attrs.define
class _Turn:
    role: Role
    units: list[Unit]


def _blocks(message: a.Message) -> tuple[a.ContentBlock, ...]:
    if isinstance(message.content, str):
        return (a.TextBlock(type="text", text=message.content),)
    return message.content


def _units(message: a.Message, index: int, docs: list[int]) -> list[Unit]:
    units: list[Unit] = []
    for j, block in enumerate(_blocks(message)):
        converted = convert_block(block, f"messages.{index}.content.{j}", docs)
        if converted and isinstance(converted[0], c.CachePointContent) and units:
            # The block itself was blank: its cache point attaches to the block before,
            # unless that one already has one (two in a row would waste one of four).
            if not isinstance(units[-1][-1], c.CachePointContent):
                units[-1] = (*units[-1], *converted)
        elif converted and not isinstance(converted[0], c.CachePointContent):
            units.append(converted)
    return units


def _merged_turns(messages: Sequence[a.Message]) -> list[_Turn]:
    docs: list[int] = []
    turns: list[_Turn] = []
    for index, message in enumerate(messages):
        role: Role = "assistant" if message.role == "assistant" else "user"
        units = _units(message, index, docs)
        if turns and turns[-1].role == role:
            turns[-1].units.extend(units)
        else:
            turns.append(_Turn(role=role, units=units))
    return turns


def _is_tool_result(unit: Unit) -> bool:
    return isinstance(unit[0], c.ToolResultContent)


def _finish_units(turn: _Turn) -> list[Unit]:
    units = turn.units
    if turn.role == "user":
        units = [u for u in units if _is_tool_result(u)] + [u for u in units if not _is_tool_result(u)]
        has_document = any(isinstance(u[0], c.DocumentContent) for u in units)
        if has_document and not any(isinstance(u[0], c.TextContent) for u in units):
            units.append((c.TextContent(text=DOCUMENT_NOTE),))
    return units or [(c.TextContent(text=EMPTY_PLACEHOLDER),)]


def _strip_prefill(units: list[Unit]) -> list[Unit]:
    last = units[-1]
    if not isinstance(last[0], c.TextContent):
        return units
    text = last[0].text.rstrip()
    if not text:
        return units[:-1] or [(c.TextContent(text=EMPTY_PLACEHOLDER),)]
    return [*units[:-1], (c.TextContent(text=text), *last[1:])]


def convert_messages(messages: Sequence[a.Message]) -> tuple[c.Message, ...]:
    """Convert and normalise the whole conversation (see the module docstring)."""
    turns = _merged_turns(messages)
    if not turns or turns[0].role != "user":
        turns.insert(0, _Turn(role="user", units=[]))
    shaped: list[tuple[Role, list[Unit]]] = [(turn.role, _finish_units(turn)) for turn in turns]
    if shaped[-1][0] == "assistant":
        shaped[-1] = ("assistant", _strip_prefill(shaped[-1][1]))
    return tuple(
        c.Message(role=role, content=tuple(block for unit in units for block in unit)) for role, units in shaped
    )
