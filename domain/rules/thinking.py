"""Extended thinking: Claude's rules, applied before the request leaves.

Claude rejects thinking with sampling parameters or forced tools, budgets under 1024 or
not below ``max_tokens``, and a final assistant tool turn whose thinking block is
missing. The proxy repairs what it can and turns thinking off rather than fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.vocab import anthropic as a
from domain.vocab import converse as c

MIN_BUDGET = 1024
# Opus 4.6 knows only these efforts; newer Claude Code builds may ask for more.
_EFFORT_FALLBACK = {"xhigh": "high"}
_EFFORTS = {"low", "medium", "high", "max"}


def _last_assistant_turn_lacks_thinking(messages: Sequence[c.Message]) -> bool:
    """True when the latest assistant turn used tools without a thinking block first.

    That is a turn from before thinking was switched on (or one whose thinking was not
    signed, which the conversion leaves out); Claude rejects it. Checked on the turns as
    they will be sent, after merging.
    """
    for message in reversed(messages):
        if message.role == "assistant":
            uses_tools = any(isinstance(b, c.ToolUseContent) for b in message.content)
            return uses_tools and not isinstance(message.content[0], c.ReasoningContent)
    return False


def thinking_fields(
    thinking: a.ThinkingConfig | None,
    max_tokens: int,
    messages: Sequence[c.Message],
) -> dict[str, Any] | None:
    """The ``thinking`` member for Claude, or None when thinking stays off."""
    if thinking is None or thinking.type == "disabled":
        return None
    if _last_assistant_turn_lacks_thinking(messages):
        return None
    # ``display`` goes along as given: "summarized" and "omitted" are GA, "updates" rides
    # on its beta; a Nexus that refuses it costs one retry without it (services/fallback).
    display = {"display": thinking.display} if thinking.display else {}
    if thinking.type == "adaptive":
        return {"type": "adaptive", **display}
    budget = max(thinking.budget_tokens or MIN_BUDGET, MIN_BUDGET)
    if budget >= max_tokens:
        budget = max_tokens - 1
    if budget < MIN_BUDGET:
        return None
    return {"type": "enabled", "budget_tokens": budget, **display}


def effort(value: str | None) -> str | None:
    """An effort level Opus 4.6 accepts, lowering newer levels to the nearest known."""
    if value is None:
        return None
    value = _EFFORT_FALLBACK.get(value, value)
    return value if value in _EFFORTS else None
