"""Extended thinking: Claude's rules, applied before the request leaves.

Claude rejects thinking with sampling parameters or forced tools, budgets under 1024 or
not below ``max_tokens``, and a final assistant tool turn whose thinking block is
missing. The proxy repairs what it can and turns thinking off rather than fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain import anthropic as a

MIN_BUDGET = 1024
# Opus 4.6 knows only these efforts; newer Claude Code builds may ask for more.
_EFFORT_FALLBACK = {"xhigh": "high"}
_EFFORTS = {"low", "medium", "high", "max"}


def _skipped(block: a.ContentBlock) -> bool:
    """Blocks the conversion leaves out: blank text and unsigned thinking."""
    if isinstance(block, a.TextBlock):
        return not block.text.strip()
    return isinstance(block, a.ThinkingBlock) and not block.signature


def _last_assistant_turn_lacks_thinking(messages: Sequence[a.Message]) -> bool:
    """True when the latest assistant turn used tools without a thinking block first.

    That is a turn from before thinking was switched on; Claude rejects it.
    """
    for message in reversed(messages):
        if message.role != "assistant":
            continue
        if isinstance(message.content, str):
            return False
        blocks = [b for b in message.content if not _skipped(b)]
        uses_tools = any(isinstance(b, a.ToolUseBlock) for b in blocks)
        starts_thinking = bool(blocks) and isinstance(blocks[0], a.ThinkingBlock | a.RedactedThinkingBlock)
        return uses_tools and not starts_thinking
    return False


def thinking_fields(
    thinking: a.ThinkingConfig | None,
    max_tokens: int,
    messages: Sequence[a.Message],
) -> dict[str, Any] | None:
    """The ``thinking`` member for Claude, or None when thinking stays off."""
    if thinking is None or thinking.type == "disabled":
        return None
    if _last_assistant_turn_lacks_thinking(messages):
        return None
    if thinking.type == "adaptive":
        return {"type": "adaptive"}
    budget = max(thinking.budget_tokens or MIN_BUDGET, MIN_BUDGET)
    if budget >= max_tokens:
        budget = max_tokens - 1
    if budget < MIN_BUDGET:
        return None
    return {"type": "enabled", "budget_tokens": budget}


def effort(value: str | None) -> str | None:
    """An effort level Opus 4.6 accepts, lowering newer levels to the nearest known."""
    if value is None:
        return None
    value = _EFFORT_FALLBACK.get(value, value)
    return value if value in _EFFORTS else None
