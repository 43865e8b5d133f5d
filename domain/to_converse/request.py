"""Anthropic ``MessagesRequest`` -> Converse ``ConverseRequest``: the one request translator.

``/v1/messages`` (streamed or not) and ``count_tokens`` all go through
``translate_request``, so what Nexus counts is exactly what it would generate from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from domain.rules import structured_output
from domain.rules.betas import select_betas
from domain.rules.caching import limit_cache_points
from domain.rules.media import fit_media
from domain.rules.thinking import effort, thinking_fields
from domain.to_converse.content import cache_point
from domain.to_converse.conversation import convert_messages
from domain.to_converse.tools import plan_tools
from domain.vocab import anthropic as a
from domain.vocab import converse as c

STOP_SEQUENCE_PATH = "/delta/stop_sequence"
# Where Claude reports its thinking tokens; a valid pointer with nothing there is ignored.
THINKING_TOKENS_PATH = "/usage/output_tokens_details"


@attrs.frozen(kw_only=True)
class Translation:
    """The Converse request plus what the way back needs, and what was left out."""

    request: c.ConverseRequest
    original_tool_names: dict[str, str]
    thinking: bool
    # Names of fields and flags dropped on purpose, for the debug log.
    dropped: tuple[str, ...] = ()


# Claude Code 2.1.332's first system block; its suffix differs per session and sub-agent.
BILLING_HEADER = "x-anthropic-billing-header:"


def _system_blocks(request: a.MessagesRequest) -> tuple[a.TextBlock, ...]:
    """The system prompt as blocks, without Claude Code's per-session billing line.

    Anthropic strips that line by position; forwarded to Bedrock it would sit in front of
    the first cache point and start a new cached prefix in every session and sub-agent.
    """
    source = request.system
    if isinstance(source, str):
        source = (a.TextBlock(type="text", text=source),)
    blocks = tuple(source or ())
    if blocks and blocks[0].text.startswith(BILLING_HEADER):
        return blocks[1:]
    return blocks


def _system(request: a.MessagesRequest) -> tuple[c.SystemBlock, ...] | None:
    blocks: list[c.SystemBlock] = []
    for block in _system_blocks(request):
        if block.text.strip():
            blocks.append(c.TextContent(text=block.text))
        if blocks and not isinstance(blocks[-1], c.CachePointContent):
            blocks.extend(cache_point(block.cache_control))
    return tuple(blocks) or None


def _response_paths(request: a.MessagesRequest, thinking_on: bool) -> tuple[str, ...] | None:
    paths = (STOP_SEQUENCE_PATH,) * bool(request.stop_sequences) + (THINKING_TOKENS_PATH,) * thinking_on
    return paths or None


def _output_config(config: a.OutputConfig | None) -> c.OutputConfig | None:
    # Native structured output first; a Nexus that refuses it gets the instruction form
    # on the retry (domain/services/fallback.py, rules/structured_output.py).
    schema = structured_output.schema_json(config.format if config else None)
    return structured_output.native_output_config(schema) if schema else None


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
        # Converse requires each stop sequence to be at least one character.
        stop_sequences=tuple(s for s in request.stop_sequences or () if s) or None,
    )


def _dropped_fields(request: a.MessagesRequest) -> list[str]:
    present = {
        "metadata": request.metadata,
        "context_management": request.context_management,
        "service_tier": request.service_tier,
        "container": request.container,
        "mcp_servers": request.mcp_servers,
        "safeguards": request.safeguards,
    }
    return [name for name, value in present.items() if value is not None]


def output_limit(request: a.MessagesRequest, ceiling: int | None = None) -> int:
    """The ``maxTokens`` Nexus gets: the body's (at least 1, at most ``ceiling``).

    ``ceiling`` is what the served model allows; Claude Code shapes requests for the model
    it thinks it talks to, and a newer one allows more. A count_tokens body has no
    ``max_tokens``; its thinking budget must still fit under the limit, or the thinking
    rules would drop it and the count would come out low.
    """
    if request.max_tokens is not None:
        wanted = max(request.max_tokens, 1)
    else:
        budget = request.thinking.budget_tokens if request.thinking else None
        wanted = budget + 1 if budget else 4096
    return min(wanted, ceiling) if ceiling else wanted


def translate_request(
    request: a.MessagesRequest, *, beta_allowlist: Iterable[str], max_output_tokens: int | None = None
) -> Translation:
    """Translate one request, streamed, whole or counted alike.

    Raises:
        InvalidRequestError: a block or tool cannot be expressed through Converse, or a
            block of the newest turn is beyond Bedrock's media limits.
    """
    limit = output_limit(request, max_output_tokens)
    media = fit_media(request.messages)
    messages = convert_messages(media.messages)
    thinking = thinking_fields(request.thinking, limit, messages)
    tool_plan = plan_tools(
        request.tools, request.tool_choice, messages, forced_allowed=thinking is None, history=request.messages
    )
    has_tools = tool_plan.config is not None
    adaptive = thinking is not None and thinking.get("type") == "adaptive"
    betas = select_betas(request.betas, beta_allowlist, has_tools=has_tools, adaptive_thinking=adaptive)
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
        system=_system(request),
        inference_config=_inference(request, thinking is not None, limit),
        tool_config=tool_plan.config,
        additional_model_request_fields=extra or None,
        additional_model_response_field_paths=_response_paths(request, thinking is not None),
        output_config=_output_config(request.output_config),
    )
    return Translation(
        request=limit_cache_points(converse_request),
        original_tool_names=tool_plan.original_names,
        thinking=thinking is not None,
        dropped=(
            *_dropped_fields(request),
            *(f"anthropic-beta {flag}" for flag in betas.dropped),
            *((f"{media.stubbed} older media",) if media.stubbed else ()),
            *((f"{tool_plan.withheld} deferred tools",) if tool_plan.withheld else ()),
        ),
    )
