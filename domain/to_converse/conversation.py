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
from domain.to_converse.content import DROPPED, EMPTY_PLACEHOLDER, convert_one, references_no_tool
from domain.to_converse.names import converse_tool_name, mcp_tool_name
from domain.vocab import anthropic as a
from domain.vocab import converse as c
from domain.vocab import request_builders as rb

DOCUMENT_NOTE = "(document attached)"


Role = Literal["user", "assistant"]


# A turn being built: its role and the blocks of consecutive same-role messages. A cache
# point belongs to the block before it: the two travel together when the turn reshapes.
Turn = tuple[Role, list[c.ContentBlock]]


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
        blocks = () if isinstance(message.content, str) else message.content
        if message.role == "assistant":
            ids = {block.id for block in blocks if isinstance(block, a.ToolUseBlock)}
            open_ids = open_ids | ids if previous == "assistant" else ids
        else:
            for j, block in enumerate(blocks):
                if isinstance(block, a.ToolResultBlock) and block.tool_use_id not in open_ids:
                    raise InvalidRequestError(
                        f"messages.{index}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: "
                        f"{block.tool_use_id}. Each `tool_result` block must have a corresponding `tool_use` "
                        "block in the previous message."
                    )
        previous = message.role


# Blocks _readable leaves as they are; telling them by class skips its pattern match.
_AS_IS = frozenset({a.TextBlock, a.ToolUseBlock, a.ThinkingBlock, a.ImageBlock, a.DocumentBlock})
# Blocks whose conversion never names their place (it cannot fail): no location to format.
_PLACELESS = frozenset({a.TextBlock, a.ToolUseBlock, a.ThinkingBlock})


def _add_blocks(blocks: list[c.ContentBlock], message: a.Message, index: int, docs: list[int]) -> None:
    """Convert ``message``'s blocks onto the end of its turn's ``blocks``."""
    start = len(blocks)
    for j, block in enumerate(_blocks(message)):
        kind = type(block)
        plain = kind in _AS_IS or (type(block) is a.ToolResultBlock and references_no_tool(block.content))
        readable = block if plain else _readable(block)
        converted = convert_one(readable, "" if kind in _PLACELESS else f"messages.{index}.content.{j}", docs)
        control = readable.cache_control
        if converted is None:
            # The block itself was blank: its cache point attaches to this message's block
            # before, unless that one already has one (two in a row would waste one of four).
            if control is not None and len(blocks) > start and type(blocks[-1]) is not c.CachePointContent:
                blocks.append(rb.cache_point_content(control.ttl))
        elif converted is not DROPPED:
            blocks.append(converted)
            if control is not None:
                blocks.append(rb.cache_point_content(control.ttl))


def _merged_turns(messages: Sequence[a.Message]) -> list[Turn]:
    docs: list[int] = []
    turns: list[Turn] = []
    for index, message in enumerate(messages):
        role: Role = "assistant" if message.role == "assistant" else "user"
        if not turns or turns[-1][0] != role:
            turns.append((role, []))
        _add_blocks(turns[-1][1], message, index, docs)
    return turns


def _units(blocks: list[c.ContentBlock]) -> list[list[c.ContentBlock]]:
    """The blocks cut into units: each block with the cache point that follows it."""
    units: list[list[c.ContentBlock]] = []
    for block in blocks:
        if type(block) is c.CachePointContent and units:
            units[-1].append(block)
        else:
            units.append([block])
    return units


def _results_first(blocks: list[c.ContentBlock]) -> list[c.ContentBlock]:
    units = _units(blocks)
    ordered = [u for u in units if type(u[0]) is c.ToolResultContent]
    ordered += [u for u in units if type(u[0]) is not c.ToolResultContent]
    return [block for unit in ordered for block in unit]


def _finish(role: Role, blocks: list[c.ContentBlock]) -> list[c.ContentBlock]:
    if role == "user" and blocks:
        kinds = list(map(type, blocks))
        results = kinds.count(c.ToolResultContent)
        if results and (results > 1 or kinds[0] is not c.ToolResultContent):  # else nothing moves
            blocks = _results_first(blocks)
        if c.DocumentContent in kinds and c.TextContent not in kinds:
            blocks = [*blocks, c.TextContent(text=DOCUMENT_NOTE)]
    return blocks or [c.TextContent(text=EMPTY_PLACEHOLDER)]


def _strip_prefill(blocks: list[c.ContentBlock]) -> list[c.ContentBlock]:
    last = max(i for i, block in enumerate(blocks) if type(block) is not c.CachePointContent)
    head = blocks[last]
    if not isinstance(head, c.TextContent):
        return blocks
    text = head.text.rstrip()
    if not text:
        return blocks[:last] or [c.TextContent(text=EMPTY_PLACEHOLDER)]
    return [*blocks[:last], c.TextContent(text=text), *blocks[last + 1 :]]


def convert_messages(messages: Sequence[a.Message]) -> tuple[c.Message, ...]:
    """Convert and normalise the whole conversation (see the module docstring).

    Raises:
        InvalidRequestError: a tool result without its tool use, or a block Converse cannot take.
    """
    check_tool_results(messages)
    turns = _merged_turns(messages)
    if not turns or turns[0][0] != "user":
        turns.insert(0, ("user", []))
    shaped = [(role, _finish(role, blocks)) for role, blocks in turns]
    if shaped[-1][0] == "assistant":
        shaped[-1] = ("assistant", _strip_prefill(shaped[-1][1]))
    return tuple([rb.converse_message(role, tuple(blocks)) for role, blocks in shaped])
