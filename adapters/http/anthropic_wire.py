"""Anthropic JSON <-> domain value objects (cattrs), strict about types, lenient about extras.

Unknown fields are ignored: Claude Code adds new ones with every release. Known fields
must have the right JSON type (no silent ``"12"`` -> 12), and a failure names the field
the way Anthropic does: ``messages.0.content.1.type: ...``.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from typing import Any, Literal, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.errors import BaseValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from adapters.http import anthropic_fast
from adapters.lazy_hooks import LazyHook
from domain.errors import InvalidRequestError
from domain.vocab import anthropic as a

# Responses keep their nulls: Anthropic sends ``"stop_sequence": null`` and clients read it.
_KEEP_NULLS = {a.MessagesResponse, a.StopInfo}
# ...but for fields only the proxy fills, absent unless it did (auto mode's check answered).
_PROXY_ONLY = {"safeguard_results"}
_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}


def _strict(kind: type, *accepted: type) -> Callable[[Any, type], Any]:
    also = tuple(t for t in accepted if t is not kind)

    def structure(value: Any, _: type) -> Any:
        if type(value) is kind:  # nearly always: the value as it is, no conversion
            return value
        if type(value) in also:
            try:
                return kind(value)
            except OverflowError as error:  # an integer of 400 digits as a float
                raise ValueError("number is out of range") from error
        raise TypeError(f"expected {_NAMES[kind]}, got {type(value).__name__}")

    return structure


def _structure_object(value: Any, _: type) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise TypeError(f"expected an object, got {type(value).__name__}")


def _is_dict_type(tp: Any) -> bool:
    return tp is dict or get_origin(tp) is dict


def _is_homogeneous_tuple(tp: Any) -> bool:
    args = get_args(tp)
    return get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


def _is_literal(tp: Any) -> bool:
    return get_origin(tp) is Literal


def _literal_hook(tp: Any) -> Callable[[Any, Any], Any]:
    allowed = get_args(tp)

    def structure(value: Any, _: Any) -> Any:
        if value in allowed and type(value) is str:
            return value
        raise ValueError(f"{value!r} is not one of {', '.join(map(repr, allowed))}")

    return structure


_TTLS = ("5m", "1h")


def _checked(value: Any) -> Any:
    # Values Anthropic refuses and Bedrock would too, after Nexus was called.
    if isinstance(value, a.CacheControl) and value.ttl is not None and value.ttl not in _TTLS:
        raise ValueError(f"ttl must be '5m' or '1h', got {value.ttl!r}")
    return value


def _union_args(tp: Any) -> tuple[Any, ...]:
    return get_args(tp) if get_origin(tp) in (Union, types.UnionType) else ()


def _type_tags(cls: Any) -> tuple[str, ...]:
    """The values a class's ``type: Literal[...]`` field admits (several for configs)."""
    if not attrs.has(cls):
        return ()
    field = attrs.fields_dict(attrs.resolve_types(cls)).get("type")
    if field is None or get_origin(field.type) is not Literal:
        return ()
    return get_args(field.type)


def _is_tagged_union(tp: Any) -> bool:
    members = [m for m in _union_args(tp) if m is not type(None)]
    return bool(members) and all(_type_tags(m) for m in members)


def _is_text_or_blocks(tp: Any) -> bool:
    args = _union_args(tp)
    return str in args and any(get_origin(arg) is tuple for arg in args)


def make_converter(*, fast: bool = True) -> cattrs.Converter:
    """The Anthropic wire converter: every hook registered here, in one visible block.

    Unions are not left to cattrs' default strategy, which tells members apart by their
    unique required fields: Anthropic names a block by its ``type`` value, several
    classes share field sets, and a wrong guess would turn one block into another. The
    ``type`` field picks the class instead, and a string-or-blocks field is told apart
    by the JSON type. With ``fast``, messages, tools and system blocks of the common exact
    shapes are read the short way first (``anthropic_fast``); the same objects either way.
    """
    converter = cattrs.Converter(forbid_extra_keys=False)

    def tuple_hook(tp: Any) -> Callable[[Any, Any], Any]:
        # cattrs' own tuple hook keeps per-index error paths but accepts any iterable,
        # so a string would become a tuple of characters.
        base = homogenous_tuple_structure_factory(tp, converter)

        def structure(value: Any, _: Any) -> Any:
            if not isinstance(value, list):
                raise TypeError(f"expected a list, got {type(value).__name__}")
            return base(value, tp)

        return structure

    def tagged_union_hook(tp: Any) -> Callable[[Any, Any], Any]:
        """Pick the class from the ``type`` field; never guess from other fields."""
        table = {tag: m for m in _union_args(tp) if m is not type(None) for tag in _type_tags(m)}
        hooks = {tag: LazyHook(converter, m) for tag, m in table.items()}
        optional = type(None) in _union_args(tp)

        def structure(value: Any, _: Any) -> Any:
            if value is None and optional:
                return None
            if not isinstance(value, dict):
                raise TypeError(f"expected an object, got {type(value).__name__}")
            tag = value.get("type")
            if tag is None:
                raise ValueError("type: Field required")
            if not isinstance(tag, str):
                raise TypeError(f"type: expected a string, got {type(tag).__name__}")
            if tag not in table:
                raise ValueError(f"type: unknown type {tag!r}; expected one of {', '.join(map(repr, table))}")
            return hooks[tag](value, table[tag])

        return structure

    def text_or_blocks_hook(tp: Any) -> Callable[[Any, Any], Any]:
        blocks = next(arg for arg in _union_args(tp) if get_origin(arg) is tuple)
        blocks_hook = LazyHook(converter, blocks)
        optional = type(None) in _union_args(tp)

        def structure(value: Any, _: Any) -> Any:
            if value is None and optional:
                return None
            if isinstance(value, str):
                return value
            if isinstance(value, list):
                return blocks_hook(value, blocks)
            raise TypeError(f"expected a string or a list of blocks, got {type(value).__name__}")

        return structure

    def object_hook(cls: Any) -> Callable[[Any, Any], Any]:
        # cattrs' generated code indexes the value, so a string where an object belongs
        # would fail as "string indices must be integers", blamed on its first field.
        base = make_dict_structure_fn(cls, converter)

        def structure(value: Any, _: Any) -> Any:
            if not isinstance(value, dict):
                raise TypeError(f"expected an object, got {type(value).__name__}")
            return _checked(base(value, cls))

        return structure

    def without_nulls(cls: Any) -> Callable[[Any], dict[str, Any]]:
        # Left out by the generated code itself: no second dict built per object.
        fields = attrs.fields(attrs.resolve_types(cls))
        omitted = [f.name for f in fields if f.default is None]
        if cls in _KEEP_NULLS:
            omitted = [name for name in omitted if name in _PROXY_ONLY]
        overrides: dict[str, Any] = {name: override(omit_if_default=True) for name in omitted}
        return make_dict_unstructure_fn(cls, converter, **overrides)

    converter.register_structure_hook(str, _strict(str))
    converter.register_structure_hook(int, _strict(int))
    converter.register_structure_hook(float, _strict(float, float, int))
    converter.register_structure_hook(bool, _strict(bool))
    converter.register_structure_hook_func(_is_dict_type, _structure_object)
    converter.register_structure_hook_factory(_is_literal, _literal_hook)
    converter.register_structure_hook_factory(_is_homogeneous_tuple, tuple_hook)
    converter.register_structure_hook_factory(_is_text_or_blocks, text_or_blocks_hook)
    converter.register_structure_hook_factory(_is_tagged_union, tagged_union_hook)
    converter.register_structure_hook_factory(attrs.has, object_hook)
    converter.register_unstructure_hook_factory(attrs.has, without_nulls)
    if fast:
        converter.register_structure_hook_factory(
            anthropic_fast.is_fast_tuple, lambda tp: anthropic_fast.fast_tuple_hook(tp, tuple_hook(tp), converter)
        )
    return converter


_converter = make_converter()

# --- error messages ------------------------------------------------------------------

_INDEX = re.compile(r"\[(\d+)\]")


def _field_path(path: str) -> str:
    path = _INDEX.sub(r".\1", path.removeprefix("$")).removeprefix(".")
    return path.replace("['", ".").replace("']", "")


def _describe(exc: BaseException, _: type | None) -> str:
    if isinstance(exc, KeyError):
        return "Field required"
    return str(exc) or type(exc).__name__


def readable_error(error: Exception) -> str:
    """The first cattrs failure as ``field.path: what is wrong``."""
    messages = cattrs.transform_error(error, path="$", format_exception=_describe)
    first = messages[0] if messages else str(error)
    detail, _, path = first.rpartition(" @ ")
    field = _field_path(path)
    if detail.startswith("type: "):
        field, detail = f"{field}.type".lstrip("."), detail.removeprefix("type: ")
    return f"{field}: {detail}" if field else detail


def structure_request(body: Any) -> a.MessagesRequest:
    """A ``MessagesRequest`` from parsed JSON, or ``InvalidRequestError`` naming the field."""
    if not isinstance(body, dict):
        raise InvalidRequestError("request body must be a JSON object")
    try:
        return _converter.structure(body, a.MessagesRequest)
    except RecursionError as error:
        raise InvalidRequestError("request body is nested too deeply") from error
    except BaseValidationError as error:
        causes = _leaves(error)
        if any(isinstance(cause, RecursionError) for cause in causes):
            raise InvalidRequestError("request body is nested too deeply") from error
        if not all(isinstance(cause, _CLIENT_FAULTS) for cause in causes):
            raise  # a hook failed some other way: our bug, answered 500 and logged
        raise InvalidRequestError(readable_error(error)) from error


# What the hooks raise for a body of the wrong shape; anything else is a bug.
_CLIENT_FAULTS = (TypeError, ValueError, KeyError, RecursionError)


def _leaves(group: BaseException) -> list[BaseException]:
    if isinstance(group, BaseExceptionGroup):
        return [leaf for inner in group.exceptions for leaf in _leaves(inner)]
    return [group]


def unstructure(value: Any) -> Any:
    """JSON-ready data for a response or stream event."""
    return _converter.unstructure(value)
