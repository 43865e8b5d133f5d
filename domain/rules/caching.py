"""Prompt-caching checkpoints: at most four per request, the last four kept.

Anthropic's ``cache_control`` becomes a ``cachePoint`` block right after the cached
block. Claude counts checkpoints in prefix order (tools, system, messages) and rejects
a fifth; the latest ones cover the longest prefix, so the earliest are dropped.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import TypeVar

import attrs

from domain.vocab import converse as c

B = TypeVar("B")

MAX_CACHE_POINTS = 4


def _count(blocks: Iterable[object]) -> int:
    # By exact type, counted in C: every request's every block passes here.
    return list(map(type, blocks)).count(c.CachePointContent)


def _drop_first(blocks: tuple[B, ...], excess: int) -> tuple[tuple[B, ...], int]:
    kept: list[B] = []
    for block in blocks:
        if excess and isinstance(block, c.CachePointContent):
            excess -= 1
            continue
        kept.append(block)
    return tuple(kept), excess


def limit_cache_points(request: c.ConverseRequest) -> c.ConverseRequest:
    """Drop the earliest cache points beyond four, in tools -> system -> messages order."""
    tools = request.tool_config.tools if request.tool_config else ()
    system = request.system or ()
    contents = itertools.chain(tools, system, itertools.chain.from_iterable([m.content for m in request.messages]))
    total = _count(contents)
    excess = max(0, total - MAX_CACHE_POINTS)
    if not excess:
        return request
    new_tools, excess = _drop_first(tools, excess)
    new_system, excess = _drop_first(system, excess)
    messages = []
    for message in request.messages:
        content, excess = _drop_first(message.content, excess)
        messages.append(attrs.evolve(message, content=content))
    tool_config = attrs.evolve(request.tool_config, tools=new_tools) if request.tool_config else None
    return attrs.evolve(
        request,
        tool_config=tool_config,
        system=new_system or None,
        messages=tuple(messages),
    )
