"""Converse responses -> Anthropic responses: blocks, stop reasons and usage."""

from __future__ import annotations

import base64
import random
import secrets
import string
from collections.abc import Mapping
from typing import Any

from domain.to_anthropic.citations import cited_text_block
from domain.vocab import anthropic as a
from domain.vocab import converse as c

# Converse reasons Anthropic does not have, in Anthropic's words.
_STOP_REASONS = {
    "guardrail_intervened": "refusal",
    "content_filtered": "refusal",
    "malformed_model_output": "end_turn",
    "malformed_tool_use": "end_turn",
}
_BASE62 = string.ascii_letters + string.digits


_ID_LENGTH = 24
_ID_SPACE = len(_BASE62) ** _ID_LENGTH


# Ids must be unique, not secret: drawn from a generator seeded once from the system's
# randomness, not from the system per id, whose call lets go of the GIL behind busy streams.
_DRAWS = random.Random(secrets.randbits(128))


def new_message_id() -> str:
    """A fresh ``msg_`` id in Anthropic's format (24 base62 characters).

    One draw for the whole id, its base62 digits uniform as 24 separate draws would be.
    """
    number = _DRAWS.randrange(_ID_SPACE)
    digits = []
    for _ in range(_ID_LENGTH):
        number, digit = divmod(number, len(_BASE62))
        digits.append(_BASE62[digit])
    return "msg_" + "".join(digits)


def stop_reason(reason: str) -> str:
    """Converse's stop reason in Anthropic's words; shared names pass through."""
    return _STOP_REASONS.get(reason, reason)


def stop_sequence(fields: Mapping[str, Any] | None) -> str | None:
    """The matched stop sequence, which Claude reports under ``delta.stop_sequence``."""
    delta = (fields or {}).get("delta")
    value = delta.get("stop_sequence") if isinstance(delta, Mapping) else None
    return value if isinstance(value, str) else None


def cache_creation(tokens: c.TokenUsage) -> a.CacheCreation | None:
    """Cache writes split by lifetime; None when Nexus reported neither a split nor writes.

    Without ``cacheDetails`` the writes count as 5m ones, the lifetime of a ``cachePoint``
    that names none.
    """
    if tokens.cache_details is None:
        written = tokens.cache_write_input_tokens or 0
        return a.CacheCreation(ephemeral_5m_input_tokens=written) if written > 0 else None
    by_ttl = {"5m": 0, "1h": 0}
    for detail in tokens.cache_details:
        if detail.ttl in by_ttl:
            by_ttl[detail.ttl] += detail.input_tokens
    return a.CacheCreation(ephemeral_5m_input_tokens=by_ttl["5m"], ephemeral_1h_input_tokens=by_ttl["1h"])


def output_details(fields: Mapping[str, Any] | None) -> a.OutputTokensDetails | None:
    """Thinking tokens, which Claude reports (when asked) under ``usage.output_tokens_details``."""
    reported = (fields or {}).get("usage")
    details = reported.get("output_tokens_details") if isinstance(reported, Mapping) else None
    thinking = details.get("thinking_tokens") if isinstance(details, Mapping) else None
    if type(thinking) is not int:
        return None
    return a.OutputTokensDetails(thinking_tokens=thinking)


def usage(tokens: c.TokenUsage, fields: Mapping[str, Any] | None = None) -> a.Usage:
    """Converse token usage as Anthropic usage, with missing cache counts as 0.

    Args:
        tokens: Converse's usage.
        fields: the response's ``additionalModelResponseFields``, where thinking tokens are.
    """
    # Converse's inputTokens already excludes both cache buckets, as Anthropic's does.
    return a.Usage(
        input_tokens=tokens.input_tokens,
        output_tokens=tokens.output_tokens,
        cache_read_input_tokens=tokens.cache_read_input_tokens or 0,
        cache_creation_input_tokens=tokens.cache_write_input_tokens or 0,
        cache_creation=cache_creation(tokens),
        output_tokens_details=output_details(fields),
    )


def response_block(block: c.ContentBlock, tool_names: Mapping[str, str]) -> a.ResponseBlock | None:
    """One Converse output block in Anthropic terms; None for kinds with no equivalent."""
    match block:
        case c.TextContent(text=text):
            return a.TextBlock(type="text", text=text)
        case c.ToolUseContent(tool_use=use):
            tool_input = use.input if isinstance(use.input, dict) else {}
            name = tool_names.get(use.name, use.name)
            return a.ToolUseBlock(type="tool_use", id=use.tool_use_id, name=name, input=tool_input)
        case c.ReasoningContent(reasoning_content=c.ReasoningTextContent(reasoning_text=r)):
            return a.ThinkingBlock(type="thinking", thinking=r.text, signature=r.signature or "")
        case c.ReasoningContent(reasoning_content=c.RedactedReasoningContent(redacted_content=data)):
            return a.RedactedThinkingBlock(type="redacted_thinking", data=base64.b64encode(data).decode())
        case c.CitationsContent(citations_content=cited):
            return cited_text_block(cited)
    return None


def translate_response(
    response: c.ConverseResponse,
    *,
    model: str,
    tool_names: Mapping[str, str],
    message_id: str | None = None,
) -> a.MessagesResponse:
    """The Anthropic message for a Converse response; ``model`` is the id the client sent."""
    blocks = (response_block(b, tool_names) for b in response.output.message.content)
    return a.MessagesResponse(
        id=message_id or new_message_id(),
        model=model,
        content=tuple(b for b in blocks if b is not None),
        stop_reason=stop_reason(response.stop_reason),
        stop_sequence=stop_sequence(response.additional_model_response_fields),
        usage=usage(response.usage, response.additional_model_response_fields),
    )
