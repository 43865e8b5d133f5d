"""Anthropic ``messages`` -> Converse ``messages``, normalised to what Converse accepts.

Anthropic's API is lenient where Converse is strict: it merges consecutive same-role
turns, takes ``role: "system"`` entries inside ``messages`` and tolerates blank text.
Here each message's blocks become Converse blocks, then the turn list is reshaped:

- a ``system`` message becomes user text, merged into the adjacent user turn (the
  system prompt is left alone so its cache prefix survives; this is also what Claude
  Code itself does when a server rejects the role);
- its ``tool_addition`` / ``tool_removal`` blocks become a one-line note there, and a
  ``tool_reference`` in a tool result becomes "Tool X is now available." (``tools.py``
  puts those tools into ``toolConfig``);
- a ``tool_result`` that answers no ``tool_use`` of the assistant turn before it is
  refused with Anthropic's own 400, before any upstream call;
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

from domain.errors import InvalidRequestError
from domain.to_converse.content import EMPTY_PLACEHOLDER, convert_block
from domain.to_converse.names import converse_tool_name, mcp_tool_name
from domain.vocab import anthropic as a
from domain.vocab import converse as c
from domain.vocab import request_builders as rb

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


def _target_name(target: a.ToolChangeTarget) -> str:
    match target:
        case a.ToolNameReference(name=name):
            return f"Tool {converse_tool_name(name)}"
        case a.McpToolReference(server_name=server, name=name):
            return f"Tool {converse_tool_name(mcp_tool_name(server, name))}"
        case a.McpToolsetReference(server_name=server):
            return f"The tools of MCP server {server}"
        case a.ToolDefinition(definition=definition):
            return f"Tool {converse_tool_name(definition.name)}"


def _readable(block: a.ContentBlock) -> a.ContentBlock:
    """A block Converse has no form for, rewritten as what the model should read there.

    A tool change becomes a short note rather than nothing: the tool stays defined while
    the history calls it, so only the note tells the model it is gone, and it keeps the
    change at its place in the conversation. Converse's own ``toolAddition`` would need a
    system-role message, which Claude on Nexus may refuse; a text announcement is also
    Claude Code's own fallback when a server rejects ``tool_addition``.
    """
    match block:
        case a.ToolAdditionBlock(tool=target):
            return a.TextBlock(
                type="text", text=f"{_target_name(target)} is now available.", cache_control=block.cache_control
            )
        case a.ToolRemovalBlock(tool=target):
            text = f"{_target_name(target)} is no longer available; do not call it."
            return a.TextBlock(type="text", text=text, cache_control=block.cache_control)
        case a.ToolResultBlock(content=tuple() as items) if any(isinstance(i, a.ToolReferenceBlock) for i in items):
            return attrs.evolve(block, content=tuple(_reference_text(item) for item in items))
    return block


def _reference_text(item: a.ToolResultItem) -> a.ToolResultItem:
    if not isinstance(item, a.ToolReferenceBlock):
        return item
    # Anthropic expands the reference into the tool's definition; here the definition
    # joins toolConfig (tools.py) and the model reads that it may now call it.
    text = f"Tool {converse_tool_name(item.tool_name)} is now available."
    return a.TextBlock(type="text", text=text, cache_control=item.cache_control)


def check_tool_results(messages: Sequence[a.Message]) -> None:
    """Refuse a tool result that answers no tool use of the assistant turn before it.

    Anthropic merges consecutive same-role messages and so does this check; ``system``
    messages in between are skipped. The wording is Anthropic's, so Claude Code
    recognises it; Bedrock's own would only come after a wasted upstream call.

    Raises:
        InvalidRequestError: naming the block and the unexpected id.
    """
    open_ids: set[str] = set()
    previous = None
    for index, message in enumerate(messages):
        if message.role == "system":
            continue
        blocks = _blocks(message)
        if message.role == "assistant":
            ids = {block.id for block in blocks if isinstance(block, a.ToolUseBlock)}
            open_ids = open_ids | ids if previous == "assistant" else ids
        for j, block in enumerate(blocks):
            if message.role == "user" and isinstance(block, a.ToolResultBlock) and block.tool_use_id not in open_ids:
                raise InvalidRequestError(
                    f"messages.{index}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: "
                    f"{block.tool_use_id}. Each `tool_result` block must have a corresponding `tool_use` "
                    "block in the previous message."
                )
        previous = message.role


# Blocks _readable leaves as they are; telling them by class skips its pattern match.
_AS_IS = frozenset({a.TextBlock, a.ToolUseBlock, a.ThinkingBlock, a.ImageBlock, a.DocumentBlock})


def _units(message: a.Message, index: int, docs: list[int]) -> list[Unit]:
    units: list[Unit] = []
    for j, block in enumerate(_blocks(message)):
        readable = block if type(block) in _AS_IS else _readable(block)
        converted = convert_block(readable, f"messages.{index}.content.{j}", docs)
        if not converted:
            continue
        if type(converted[0]) is not c.CachePointContent:
            units.append(converted)
        elif units and type(units[-1][-1]) is not c.CachePointContent:
            # The block itself was blank: its cache point attaches to the block before,
            # unless that one already has one (two in a row would waste one of four).
            units[-1] = (*units[-1], *converted)
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


def _finish_units(turn: _Turn) -> list[Unit]:
    units = turn.units
    if turn.role == "user":
        kinds = [type(u[0]) for u in units]
        if c.ToolResultContent in kinds:  # tool results first, the rest in order
            results = [u for u, kind in zip(units, kinds, strict=True) if kind is c.ToolResultContent]
            units = results + [u for u, kind in zip(units, kinds, strict=True) if kind is not c.ToolResultContent]
        if c.DocumentContent in kinds and c.TextContent not in kinds:
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
    """Convert and normalise the whole conversation (see the module docstring).

    Raises:
        InvalidRequestError: a tool result without its tool use, or a block Converse cannot take.
    """
    check_tool_results(messages)
    turns = _merged_turns(messages)
    if not turns or turns[0].role != "user":
        turns.insert(0, _Turn(role="user", units=[]))
    shaped: list[tuple[Role, list[Unit]]] = [(turn.role, _finish_units(turn)) for turn in turns]
    if shaped[-1][0] == "assistant":
        shaped[-1] = ("assistant", _strip_prefill(shaped[-1][1]))
    return tuple(_message(role, units) for role, units in shaped)


def _message(role: Role, units: list[Unit]) -> c.Message:
    return rb.converse_message(role, tuple([block for unit in units for block in unit]))
