"""Nexus rejections reworded the way Claude Code recognises, so it can repair its request.

Claude Code matches Anthropic's own error texts: "prompt is too long: N tokens > M maximum"
makes it compact, "input length and `max_tokens` exceed context limit: A + B > C" makes it
lower ``max_tokens``, and the thinking and system-role wordings make it retry without the
feature. Bedrock says the same things differently, so each family is recognised here and
restated in Anthropic's words, with Nexus's own text kept after it.
"""

from __future__ import annotations

import re

import attrs

CONTEXT_LIMIT = 200_000

_PROMPT_TOO_LONG = re.compile(r"prompt is too long: \d+ tokens > \d+ maximum", re.IGNORECASE)
_CONTEXT_OVERFLOW = re.compile(r"input length and `max_tokens` exceed context limit: \d+ \+ \d+ > \d+", re.IGNORECASE)
_TOO_LONG = re.compile(
    r"input is too long|too many (total )?(text )?(bytes|tokens)|prompt is too long|context window", re.I
)
_OVERFLOW = re.compile(r"max_tokens.*(exceed|context)|exceed.*context limit", re.IGNORECASE)
_ADAPTIVE = re.compile(r"adaptive", re.IGNORECASE)
_SIGNATURE = re.compile(r"signature|thinking.*(cannot be modified|modified)", re.IGNORECASE)
_SYSTEM_ROLE = re.compile(r"role.{0,20}system|system.{0,20}role", re.IGNORECASE)
_UNSUPPORTED = re.compile(r"not supported|invalid|unexpected|not allowed|not permitted|extraneous", re.IGNORECASE)


@attrs.frozen(kw_only=True)
class RequestSize:
    """What a reworded message needs to state numbers Claude Code can act on."""

    input_tokens: int
    max_tokens: int
    context_limit: int = CONTEXT_LIMIT


def _with_original(wording: str, original: str) -> str:
    return f"{wording} (AI Nexus: {original})"


def reword_rejection(message: str, size: RequestSize) -> str:
    """Claude Code's wording for a Nexus 400, or the message unchanged when none applies."""
    if _PROMPT_TOO_LONG.search(message) or _CONTEXT_OVERFLOW.search(message):
        return message
    if _OVERFLOW.search(message):
        wording = (
            "input length and `max_tokens` exceed context limit: "
            f"{size.input_tokens} + {size.max_tokens} > {size.context_limit}"
        )
        return _with_original(wording, message)
    if _TOO_LONG.search(message):
        tokens = max(size.input_tokens, size.context_limit + 1)
        return _with_original(f"prompt is too long: {tokens} tokens > {size.context_limit} maximum", message)
    if _ADAPTIVE.search(message) and _UNSUPPORTED.search(message):
        return _with_original("adaptive thinking is not supported on this model", message)
    if _SIGNATURE.search(message) and "thinking" in message.lower():
        return _with_original("Invalid `signature` in `thinking` block", message)
    if _SYSTEM_ROLE.search(message) and _UNSUPPORTED.search(message):
        return _with_original("role 'system' is not supported on this model", message)
    return message
