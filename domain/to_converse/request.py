"""Anthropic ``MessagesRequest`` -> Converse ``ConverseRequest``: the one request translator.

``/v1/messages`` (streamed or not) and ``count_tokens`` all go through
``translate_request``, so what Nexus counts is exactly what it would generate from.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import attrs

from domain.rules.betas import select_betas
from domain.rules.caching import limit_cache_points
from domain.rules.thinking import effort, thinking_fields
from domain.to_converse.content import cache_point
from domain.to_converse.conversation import convert_messages
from domain.to_converse.tools import plan_tools
from domain.vocab import anthropic as a
from domain.vocab import converse as c

STOP_SEQUENCE_PATH = "/delta/stop_sequence"


@attrs.frozen(kw_only=True)
class Translation:
    """The Converse request plus what the way back needs, and what was left out."""

    request: c.ConverseRequest
    original_tool_names: dict[str, str]
    thinking: bool
    # Names of fields and flags dropped on purpose, for the debug log.
    dropped: tuple[str, ...] = ()


def _system(request: a.MessagesRequest, extra: Iterable[str]) -> tuple[c.SystemBlock, ...] | None:
    blocks: list[c.SystemBlock] = []
    source = request.system
    if isinstance(source, str):
        source = (a.TextBlock(type="text", text=source),)
    for block in source or ():
        if block.text.strip():
            blocks.append(c.TextContent(text=block.text))
        if blocks and not isinstance(blocks[-1], c.CachePointContent):
            blocks.extend(cache_point(block.cache_control))
    blocks.extend(c.TextContent(text=text) for text in extra)
    return tuple(blocks) or None


def _format_instruction(config: a.OutputConfig | None) -> tuple[str, ...]:
    # Structured output is not reliably accepted through Converse for every model, so a
    # requested JSON schema becomes an instruction; the title request never fails on it.
    if config is None or not config.format or "schema" not in config.format:
        return ()
    schema = json.dumps(config.format["schema"], separators=(",", ":"))
    return (
        "Respond with only a JSON object that matches this JSON schema, "
        f"with no other text and no code fences: {schema}",
    )


def _clamp(value: float | None) -> float | None:
    return None if value is None else min(max(value, 0.0), 1.0)


def _inference(request: a.MessagesRequest, thinking_on: bool, max_tokens: int) -> c.InferenceConfig:
    temperature = None if thinking_on else _clamp(request.temperature)
    # Claude 4.5+ rejects temperature together with top_p; temperature wins.
    top_p = None if thinking_on or temperature is not None else _clamp(request.top_p)
    return c.InferenceConfig(
        max_tokens=max_tokens,
        temperature=temperature,
        top_p=top_p,
        stop_sequences=tuple(request.stop_sequences) if request.stop_sequences else None,
    )


def _dropped_fields(request: a.MessagesRequest) -> list[str]:
    present = {
        "metadata": request.metadata,
        "context_management": request.context_management,
        "service_tier": request.service_tier,
        "container": request.container,
        "mcp_servers": request.mcp_servers,
    }
    return [name for name, value in present.items() if value is not None]


def output_limit(request: a.MessagesRequest) -> int:
    """The ``maxTokens`` Nexus gets: the body's (at least 1), else enough for counting.

    A count_tokens body has no ``max_tokens``; its thinking budget must still fit under
    the limit, or the thinking rules would drop it and the count would come out low.
    """
    if request.max_tokens is not None:
        return max(request.max_tokens, 1)
    budget = request.thinking.budget_tokens if request.thinking else None
    return budget + 1 if budget else 4096


def translate_request(request: a.MessagesRequest, *, beta_allowlist: Iterable[str]) -> Translation:
    """Translate one request, streamed, whole or counted alike.

    Raises:
        InvalidRequestError: a block or tool cannot be expressed through Converse.
    """
    limit = output_limit(request)
    messages = convert_messages(request.messages)
    thinking = thinking_fields(request.thinking, limit, messages)
    tool_plan = plan_tools(request.tools, request.tool_choice, messages, forced_allowed=thinking is None)
    has_tools = tool_plan.config is not None
    betas = select_betas(request.betas, beta_allowlist, has_tools=has_tools)
    extra: dict[str, Any] = {}
    if thinking is not None:
        extra["thinking"] = thinking
    if request.top_k is not None and thinking is None:
        extra["top_k"] = request.top_k
    chosen_effort = effort(request.output_config.effort if request.output_config else None)
    if chosen_effort is not None:
        extra["output_config"] = {"effort": chosen_effort}
    if tool_plan.native_tool_choice is not None:
        extra["tool_choice"] = tool_plan.native_tool_choice
    if betas.forwarded:
        extra["anthropic_beta"] = list(betas.forwarded)
    converse_request = c.ConverseRequest(
        messages=messages,
        system=_system(request, _format_instruction(request.output_config)),
        inference_config=_inference(request, thinking is not None, limit),
        tool_config=tool_plan.config,
        additional_model_request_fields=extra or None,
        additional_model_response_field_paths=(STOP_SEQUENCE_PATH,) if request.stop_sequences else None,
    )
    return Translation(
        request=limit_cache_points(converse_request),
        original_tool_names=tool_plan.original_names,
        thinking=thinking is not None,
        dropped=(*_dropped_fields(request), *(f"anthropic-beta {flag}" for flag in betas.dropped)),
    )
