"""Converse JSON <-> domain value objects (cattrs).

Three rules cover the whole vocabulary: field names are lowerCamelCase on the wire
(one hook factory renames them), blobs are standard base64 (not the base85 cattrs'
preconfigured JSON converter would use), and a union is an object with exactly one
member key, so the class is picked from that key. Unknown union members in responses
(new block kinds Bedrock may add) are skipped rather than failing the whole reply.
"""

from __future__ import annotations

import base64
import types
from collections.abc import Callable
from typing import Any, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import BaseValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from adapters.lazy_hooks import LazyHook
from adapters.nexus.converse_fast import ConverseJson
from domain.vocab import converse as c


def camel(name: str) -> str:
    """``additional_model_request_fields`` -> ``additionalModelRequestFields``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _members(tp: Any) -> tuple[Any, ...]:
    if get_origin(tp) not in (Union, types.UnionType):
        return ()
    return tuple(m for m in get_args(tp) if m is not type(None))


def _member_key(cls: Any) -> str | None:
    if not attrs.has(cls):
        return None
    fields = attrs.fields(attrs.resolve_types(cls))
    return camel(fields[0].name) if len(fields) == 1 else None


def _is_keyed_union(tp: Any) -> bool:
    members = _members(tp)
    return bool(members) and all(_member_key(m) for m in members)


def _is_block_tuple(tp: Any) -> bool:
    args = get_args(tp)
    return get_origin(tp) is tuple and len(args) == 2 and _is_keyed_union(args[0])


def _blob_text(data: bytes) -> str:
    if isinstance(data, c.Base64Blob):
        return data.base64
    return base64.b64encode(data).decode("ascii")


def _is_dict_type(tp: Any) -> bool:
    return tp is dict or get_origin(tp) is dict


def _plain_json(value: dict[str, Any]) -> dict[str, Any]:
    """Unstructure for free-form JSON (tool schemas, tool inputs, model fields): as it is.

    Those dicts are the client's parsed JSON or the translator's literals, plain JSON all
    through, and the body is only encoded, never changed: copying them (most of a Claude
    Code request's objects are its tools' schemas) would only cost time.
    """
    return value


def make_converter(*, fast: bool = True) -> cattrs.Converter:
    """The Converse wire converter: every hook registered here, in one visible block.

    Unions are not left to cattrs' default strategy (unique required fields): a Converse
    union member is an object with exactly one key, and that key names the class. With
    ``fast``, messages and tool configs are written by hand (``converse_fast``), the
    same JSON either way.
    """
    converter = cattrs.Converter(forbid_extra_keys=False)

    def renamed(cls: Any) -> dict[str, Any]:
        return {f.name: override(rename=camel(f.name)) for f in attrs.fields(attrs.resolve_types(cls))}

    def unstructure_hook(cls: Any) -> Callable[[Any], dict[str, Any]]:
        # Converse never wants explicit nulls: an absent optional member (default None) is
        # left out by the generated code itself, with no second dict built per object.
        fields = attrs.fields(attrs.resolve_types(cls))
        overrides: dict[str, Any] = {
            f.name: override(rename=camel(f.name), omit_if_default=f.default is None) for f in fields
        }
        return make_dict_unstructure_fn(cls, converter, **overrides)

    def structure_hook(cls: Any) -> Callable[[Any, Any], Any]:
        return make_dict_structure_fn(cls, converter, **renamed(cls))

    def keyed_union_hook(tp: Any) -> Callable[[Any, Any], Any]:
        table = {_member_key(m): (m, LazyHook(converter, m)) for m in _members(tp)}

        def structure(value: Any, _: Any) -> Any:
            if not isinstance(value, dict):
                return None
            key = next((k for k in value if k in table), None)
            if key is None:
                return None
            cls, hook = table[key]
            return hook(value, cls)

        return structure

    def block_tuple_hook(tp: Any) -> Callable[[Any, Any], Any]:
        item = get_args(tp)[0]
        hook = LazyHook(converter, item)
        return lambda values, _: tuple(b for b in (hook(v, item) for v in values) if b is not None)

    # A blob that still has its canonical base64 text goes out as that text, not encoded again.
    converter.register_unstructure_hook(bytes, _blob_text)
    converter.register_unstructure_hook_func(_is_dict_type, _plain_json)
    converter.register_structure_hook(bytes, lambda text, _: base64.b64decode(text))
    converter.register_unstructure_hook(tuple, list)
    converter.register_unstructure_hook_factory(attrs.has, unstructure_hook)
    converter.register_structure_hook_factory(attrs.has, structure_hook)
    converter.register_structure_hook_factory(_is_keyed_union, keyed_union_hook)
    converter.register_structure_hook_factory(_is_block_tuple, block_tuple_hook)
    if fast:
        writer = ConverseJson(converter.unstructure)
        converter.register_unstructure_hook(c.Message, writer.message)
        converter.register_unstructure_hook(c.ToolConfig, writer.tool_config)
    return converter


converter = make_converter()
# What structuring a body of the wrong shape raises: Nexus's fault, told as a 502.
UNREADABLE = (BaseValidationError, TypeError, ValueError, KeyError, AttributeError)

# Stream events are named by the ``:event-type`` header, not by their payload.
STREAM_EVENTS: dict[str, type[c.StreamEvent]] = {
    "messageStart": c.MessageStartEvent,
    "contentBlockStart": c.ContentBlockStartEvent,
    "contentBlockDelta": c.ContentBlockDeltaEvent,
    "contentBlockStop": c.ContentBlockStopEvent,
    "messageStop": c.MessageStopEvent,
    "metadata": c.MetadataEvent,
}


def request_json(request: c.ConverseRequest) -> dict[str, Any]:
    """The Converse request body, camelCase and without nulls, ready for ``json.dumps``."""
    # cattrs types unstructure() as Any; an attrs class always unstructures to a dict.
    body: dict[str, Any] = converter.unstructure(request)
    return body


def count_tokens_json(request: c.ConverseRequest) -> dict[str, Any]:
    """The CountTokens body: the Converse request minus what counting does not take."""
    body = request_json(request)
    body.pop("inferenceConfig", None)
    body.pop("additionalModelResponseFieldPaths", None)
    return {"input": {"converse": body}}


def parse_response(body: Any) -> c.ConverseResponse:
    """A Converse response from its JSON body; raises one of ``UNREADABLE`` when malformed."""
    return converter.structure(body, c.ConverseResponse)


def parse_stream_event(event_type: str, payload: Any) -> c.StreamEvent | None:
    """The domain event for one ``event`` frame; None for event types we do not know."""
    cls = STREAM_EVENTS.get(event_type)
    return converter.structure(payload, cls) if cls else None
