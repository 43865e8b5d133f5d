"""Reversible renaming of tool names and ids that Converse's patterns reject.

Converse allows tool names ``[a-zA-Z0-9_-]{1,64}`` and tool-use ids
``[a-zA-Z0-9_.:-]{1,64}``; MCP tools in Claude Code often break the first. The
renaming is a pure function of the original, so history from earlier turns maps the
same way on every request, and the reverse map is rebuilt from the request itself.
"""

from __future__ import annotations

import functools
import hashlib
import re

_NAME_OK = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_ID_OK = re.compile(r"^[a-zA-Z0-9_.:-]{1,64}$")
_NAME_BAD_CHARS = re.compile(r"[^a-zA-Z0-9_-]")
_ID_BAD_CHARS = re.compile(r"[^a-zA-Z0-9_.:-]")
# Claude Code's own cleaning of MCP server and tool names (anthropic.md 1.3).
_MCP_BAD_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def _rename(original: str, bad_chars: re.Pattern[str]) -> str:
    # The digest keeps two different originals from colliding after cleaning.
    cleaned = bad_chars.sub("_", original)[:52] or "x"
    return f"{cleaned}_{_digest(original)}"


# Pure functions of a string, asked about the same few names and ids on every turn.
@functools.lru_cache(maxsize=4096)
def converse_tool_name(name: str) -> str:
    """The name Converse sees for an Anthropic tool name."""
    return name if _NAME_OK.match(name) else _rename(name, _NAME_BAD_CHARS)


@functools.lru_cache(maxsize=4096)
def converse_tool_use_id(tool_use_id: str) -> str:
    """The id Converse sees for an Anthropic tool-use id."""
    return tool_use_id if _ID_OK.match(tool_use_id) else _rename(tool_use_id, _ID_BAD_CHARS)


def mcp_tool_prefix(server_name: str) -> str:
    """The prefix Claude Code gives every tool of an MCP server: ``mcp__<server>__``."""
    return f"mcp__{_MCP_BAD_CHARS.sub('_', server_name)}__"


def mcp_tool_name(server_name: str, name: str) -> str:
    """The tool name Claude Code declares for tool ``name`` of MCP server ``server_name``."""
    return mcp_tool_prefix(server_name) + _MCP_BAD_CHARS.sub("_", name)
