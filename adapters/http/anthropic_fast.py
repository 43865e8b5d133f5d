"""The short way to read a request's messages, tools and system blocks: the common exact shapes.

Nearly every block Claude Code sends is a text, tool_use, tool_result or thinking block
whose keys and JSON types are exactly the usual ones. Those are read here directly, with
no cattrs hook per field; anything else (another block type, an extra or unusual key, a
value cattrs would coerce or refuse) is left to the general hooks, block by block. Should
any part of a list fail, the whole list is read again the general way, so an error names
its field exactly as it always did. A reader answers None for "not mine", never guesses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import cattrs

from adapters.lazy_hooks import LazyHook
from domain.vocab import anthropic as a
from domain.vocab import request_builders as rb

_ROLES: dict[str, Literal["user", "assistant", "system"]] = {
    "user": "user",
    "assistant": "assistant",
    "system": "system",
}
_TTLS = ("5m", "1h")
# What ``_control`` answers for a value it does not take (None is a value: no cache point).
# Compared by identity only; never part of a block.
_REFUSED = a.CacheControl(ttl="(refused)")
Hook = Callable[[Any, Any], Any]


def _control(value: Any) -> a.CacheControl | None:
    """``cache_control`` as the general hooks read it, or ``_REFUSED``."""
    if value is None:
        return None
    if type(value) is not dict or value.get("type") != "ephemeral" or type(value["type"]) is not str:
        return _REFUSED
    if len(value) == 1:
        return rb.cache_control(None)
    ttl = value.get("ttl")
    if len(value) == 2 and type(ttl) is str and ttl in _TTLS:
        return rb.cache_control(ttl)
    return _REFUSED


def _rest(value: dict[str, Any], known: int) -> a.CacheControl | None:
    """The block's ``cache_control`` when that is its only key beyond ``known`` others, else ``_REFUSED``."""
    extra = len(value) - known
    if extra == 0:
        return None
    return _control(value["cache_control"]) if extra == 1 and "cache_control" in value else _REFUSED


def _optional_flag(value: dict[str, Any], key: str) -> tuple[bool | None, int] | None:
    """An optional boolean field and whether it was there (1) or not (0); None if not a bool."""
    if key not in value:
        return None, 0
    flag = value[key]
    return (flag, 1) if flag is None or type(flag) is bool else None


def _text(value: dict[str, Any]) -> a.TextBlock | None:
    text = value.get("text")
    if type(text) is not str:
        return None
    if len(value) == 2:  # the commonest block of all: no cache point to read
        return rb.text_block(text, None)
    control = _rest(value, 2)
    return None if control is _REFUSED else rb.text_block(text, control)


def _tool_use(value: dict[str, Any]) -> a.ToolUseBlock | None:
    tool_id, name, tool_input = value.get("id"), value.get("name"), value.get("input")
    if type(tool_id) is not str or type(name) is not str or type(tool_input) is not dict:
        return None
    control = _rest(value, 4)
    return None if control is _REFUSED else rb.tool_use_block(tool_id, name, tool_input, control)


def _thinking(value: dict[str, Any]) -> a.ThinkingBlock | None:
    thinking, signature = value.get("thinking"), value.get("signature")
    if type(thinking) is not str or type(signature) is not str:
        return None
    control = _rest(value, 3)
    return None if control is _REFUSED else rb.thinking_block(thinking, signature, control)


def _result_content(value: Any) -> str | tuple[a.ToolResultItem, ...] | None:
    if type(value) is str:
        return value
    if type(value) is not list:
        return None
    items: list[a.ToolResultItem] = []
    for item in value:
        text = read_text_block(item)
        if text is None:
            return None
        items.append(text)
    return tuple(items)


def _tool_result(value: dict[str, Any]) -> a.ToolResultBlock | None:
    tool_use_id = value.get("tool_use_id")
    if type(tool_use_id) is not str:
        return None
    content = _result_content(value["content"]) if "content" in value else ""
    is_error = _optional_flag(value, "is_error")
    if content is None or is_error is None:
        return None
    control = _rest(value, 2 + ("content" in value) + is_error[1])
    return None if control is _REFUSED else rb.tool_result_block(tool_use_id, content, is_error[0], control)


_BLOCKS: dict[str, Callable[[dict[str, Any]], a.ContentBlock | None]] = {
    "text": _text,
    "tool_use": _tool_use,
    "thinking": _thinking,
    "tool_result": _tool_result,
}


def read_block(value: Any) -> a.ContentBlock | None:
    """A content block of one of the common exact shapes, or None for the general hooks."""
    if type(value) is not dict:
        return None
    tag = value.get("type")
    reader = _BLOCKS.get(tag) if type(tag) is str else None
    return reader(value) if reader else None


def read_text_block(value: Any) -> a.TextBlock | None:
    """A text block of the common exact shape (a system block, a tool result's text), or None."""
    if type(value) is not dict or value.get("type") != "text" or type(value["type"]) is not str:
        return None
    return _text(value)


def read_tool(value: Any) -> a.Tool | None:
    """A custom tool of the usual shape (name, description, input_schema), or None."""
    if type(value) is not dict:
        return None
    name, schema, description = value.get("name"), value.get("input_schema"), value.get("description")
    if type(name) is not str or type(schema) is not dict or type(description) is not str:
        return None
    defer = _optional_flag(value, "defer_loading")
    if defer is None:
        return None
    control = _rest(value, 3 + defer[1])
    return None if control is _REFUSED else rb.tool(name, schema, description, control, defer[0])


def message_reader(block_hook: Hook) -> Callable[[Any], a.Message | None]:
    """A reader of ``{"role", "content"}`` messages; blocks it does not take go to ``block_hook``."""

    def read(value: Any) -> a.Message | None:
        if type(value) is not dict or len(value) != 2:
            return None
        role, content = value.get("role"), value.get("content")
        if type(role) is not str or role not in _ROLES:
            return None
        if type(content) is str:
            return rb.message(_ROLES[role], content)
        if type(content) is not list:
            return None
        blocks: list[a.ContentBlock] = []
        for item in content:  # read_block, written out: it runs a hundred times a request
            tag = item.get("type") if type(item) is dict else None
            reader = _BLOCKS.get(tag) if type(tag) is str else None
            blocks.append((reader(item) if reader else None) or block_hook(item, a.ContentBlock))
        return rb.message(_ROLES[role], tuple(blocks))

    return read


FAST_TUPLES = (tuple[a.Message, ...], tuple[a.Tool, ...], tuple[a.TextBlock, ...])


def is_fast_tuple(tp: Any) -> bool:
    """Whether ``tp`` is a list type read the short way first."""
    return tp in FAST_TUPLES


def fast_tuple_hook(tp: Any, general: Hook, converter: cattrs.Converter) -> Hook:
    """The hook for ``tp``: each item the short way or by its own hook, else all by ``general``."""
    item_type = tp.__args__[0]
    item_hook = LazyHook(converter, item_type)
    readers: dict[Any, Callable[[Any], Any]] = {
        a.Message: message_reader(LazyHook(converter, a.ContentBlock)),
        a.Tool: read_tool,
        a.TextBlock: read_text_block,
    }
    read = readers[item_type]

    def structure(value: Any, _: Any) -> Any:
        if type(value) is not list:
            return general(value, tp)
        try:
            return tuple([read(item) or item_hook(item, item_type) for item in value])
        except Exception:  # read again the general way, for its exact error
            return general(value, tp)

    return structure
