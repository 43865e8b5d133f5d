"""Which ``anthropic-beta`` flags reach Nexus: one allowlist, applied in one place.

Claude Code sends many flags; Bedrock rejects unknown ones with "invalid beta flag".
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

FINE_GRAINED_TOOL_STREAMING = "fine-grained-tool-streaming-2025-05-14"
INTERLEAVED_THINKING = "interleaved-thinking-2025-05-14"
CONTEXT_1M = "context-1m-2025-08-07"
# Flags Bedrock accepts for Claude in ``additionalModelRequestFields.anthropic_beta``.
# Everything else Claude Code sends is dropped (Bedrock answers "invalid beta flag").
DEFAULT_BETA_ALLOWLIST = (
    "interleaved-thinking-2025-05-14",
    "context-1m-2025-08-07",
    "fine-grained-tool-streaming-2025-05-14",
    "effort-2025-11-24",
    "structured-outputs-2025-11-13",
    "thinking-display-updates-2026-08-18",
    "computer-use-2025-01-24",
    "computer-use-2025-11-24",
)


@attrs.frozen(kw_only=True)
class BetaSelection:
    """The ``anthropic-beta`` flags sent on to Nexus, and those left out (for the log)."""

    forwarded: tuple[str, ...]
    dropped: tuple[str, ...]


def split_header(values: Iterable[str]) -> tuple[str, ...]:
    """Flags from ``anthropic-beta`` header values (comma separated, repeatable)."""
    return tuple(flag.strip() for value in values for flag in value.split(",") if flag.strip())


def select_betas(
    requested: Iterable[str], allowlist: Iterable[str], *, has_tools: bool, adaptive_thinking: bool = False
) -> BetaSelection:
    """Keep allowlisted flags, in order, once each.

    Tools always get fine-grained tool streaming: without it Bedrock buffers a tool's
    whole input, and Claude Code's stall watchdog fires on long tool calls. Interleaved
    thinking is implicit with adaptive thinking, and Bedrock has refused its flag on newer
    models, so it is not sent then.
    """
    allowed = set(allowlist) - ({INTERLEAVED_THINKING} if adaptive_thinking else set())
    wanted = list(dict.fromkeys(requested))
    if has_tools and FINE_GRAINED_TOOL_STREAMING not in wanted:
        wanted.append(FINE_GRAINED_TOOL_STREAMING)
    forwarded = tuple(f for f in wanted if f in allowed or f == FINE_GRAINED_TOOL_STREAMING)
    return BetaSelection(forwarded=forwarded, dropped=tuple(f for f in wanted if f not in forwarded))
