"""Optional request fields Nexus may refuse, given up one at a time.

Some of what the translator sends is a guess about what a Nexus model takes: each
``anthropic_beta`` flag, ``thinking.display``, ``output_config.effort`` and native
structured output (``outputConfig.textFormat``). A 400 that names one of them costs one
retry without that field only, and the refusal is remembered per model and field for a
while, so later requests leave it out from the start. Dropping more than was refused
is costly: without ``fine-grained-tool-streaming-2025-05-14`` long tool calls go silent
past Claude Code's idle watchdog, without ``context-1m-2025-08-07`` 1M sessions fail
past 200k tokens. A 400 that names no optional field is not retried.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from typing import Any, TypeVar

import attrs

from domain.errors import UpstreamRejectedError
from domain.rules.betas import CONTEXT_1M, FINE_GRAINED_TOOL_STREAMING
from domain.rules.structured_output import without_native_output
from domain.services.cooldown import Cooldown
from domain.vocab import converse as c

T = TypeVar("T")

DISPLAY_UPDATES = "thinking-display-updates-2026-08-18"
# Kept through a refusal nobody can attribute for as long as anything else is left to try.
PRECIOUS_BETAS = (FINE_GRAINED_TOOL_STREAMING, CONTEXT_1M)
# Retries per call: each removes at least one field, so no field is retried twice.
MAX_RETRIES = 3

DISPLAY = "thinking.display"
EFFORT = "output_config.effort"
NATIVE_OUTPUT = "outputConfig.textFormat"
_BETA = "anthropic_beta:"

_NAMES_DISPLAY = re.compile(r"display", re.IGNORECASE)
# Bedrock: "extraneous key [output_config] is not permitted"; Anthropic: "effort parameter ...".
_NAMES_EFFORT = re.compile(r"effort|output_config", re.IGNORECASE)
_NAMES_NATIVE = re.compile(r"text_?format|outputconfig|structured.?output|json.?schema", re.IGNORECASE)
_NAMES_BETAS = re.compile(r"beta", re.IGNORECASE)


def beta_field(flag: str) -> str:
    """The optional-field name of one ``anthropic_beta`` flag."""
    return _BETA + flag


def sent_betas(request: c.ConverseRequest) -> tuple[str, ...]:
    """The ``anthropic_beta`` flags ``request`` carries."""
    fields = request.additional_model_request_fields or {}
    return tuple(fields.get("anthropic_beta") or ())


def optional_fields(request: c.ConverseRequest) -> tuple[str, ...]:
    """The names of the optional fields ``request`` carries, betas first."""
    extra = request.additional_model_request_fields or {}
    present = [beta_field(flag) for flag in sent_betas(request)]
    if "display" in (extra.get("thinking") or {}):
        present.append(DISPLAY)
    if "effort" in (extra.get("output_config") or {}):
        present.append(EFFORT)
    if request.output_config is not None and request.output_config.text_format is not None:
        present.append(NATIVE_OUTPUT)
    return tuple(present)


def _without_member(extra: dict[str, Any], key: str, member: str) -> dict[str, Any]:
    inner = {k: v for k, v in (extra.get(key) or {}).items() if k != member}
    rest = {k: v for k, v in extra.items() if k != key}
    return {**rest, key: inner} if inner else rest


def _without_extra(extra: dict[str, Any], drop: Collection[str]) -> dict[str, Any]:
    flags = [flag for flag in extra.get("anthropic_beta") or () if beta_field(flag) not in drop]
    extra = {k: v for k, v in extra.items() if k != "anthropic_beta"}
    if flags:
        extra["anthropic_beta"] = flags
    # ``display: "updates"`` is gated by its beta: without the flag the value is a sure 400.
    updates = beta_field(DISPLAY_UPDATES) in drop and (extra.get("thinking") or {}).get("display") == "updates"
    if DISPLAY in drop or updates:
        extra = _without_member(extra, "thinking", "display")
    if EFFORT in drop:
        extra = _without_member(extra, "output_config", "effort")
    return extra


def without(request: c.ConverseRequest, fields: Iterable[str]) -> c.ConverseRequest:
    """``request`` without the named optional fields; native structured output becomes an instruction."""
    drop = set(fields)
    if not drop:
        return request
    extra = request.additional_model_request_fields
    if extra is not None:
        request = attrs.evolve(request, additional_model_request_fields=_without_extra(extra, drop) or None)
    if NATIVE_OUTPUT in drop:
        request = without_native_output(request) or request
    return request


def blame(message: str, present: Iterable[str]) -> tuple[str, ...]:
    """The optional fields among ``present`` that Nexus's 400 ``message`` refuses.

    A flag named in the text is refused; the other fields are recognised by their words,
    read with the named flags taken out (``effort-2025-11-24`` is not the effort field).
    Bedrock's bare ``invalid beta flag`` names none: the flags likely to blame go first,
    the precious ones only when nothing else is left. Empty when nothing optional is named.
    """
    present = tuple(present)
    flags = [field.removeprefix(_BETA) for field in present if field.startswith(_BETA)]
    named = [flag for flag in flags if flag.lower() in message.lower()]
    rest = message
    for flag in named:
        rest = re.sub(re.escape(flag), "", rest, flags=re.IGNORECASE)
    blamed = [beta_field(flag) for flag in named]
    for field, words in ((DISPLAY, _NAMES_DISPLAY), (EFFORT, _NAMES_EFFORT), (NATIVE_OUTPUT, _NAMES_NATIVE)):
        if field in present and words.search(rest):
            blamed.append(field)
    if not blamed and flags and _NAMES_BETAS.search(rest):
        suspects = [flag for flag in flags if flag not in PRECIOUS_BETAS] or flags
        blamed = [beta_field(flag) for flag in suspects]
    return tuple(blamed)


def call_with_fallback(
    call: Callable[[c.ConverseRequest], T],
    request: c.ConverseRequest,
    *,
    model_id: str,
    refused: Cooldown,
    retries: int = MAX_RETRIES,
) -> T:
    """``call(request)``, giving up refused optional fields one retry at a time.

    Fields ``refused`` holds for ``model_id`` are left out from the start; a field a 400
    names is held from then on. Anything but a 400 naming an optional field (local
    validation errors included, as they are not ``UpstreamRejectedError``) passes through.
    """
    held = [field for field in optional_fields(request) if refused.on_hold((model_id, field))]
    request = without(request, held)
    for _ in range(retries):
        try:
            return call(request)
        except UpstreamRejectedError as error:
            blamed = blame(error.message, optional_fields(request))
            if not blamed:
                raise
            for field in blamed:
                refused.hold((model_id, field))
            request = without(request, blamed)
    return call(request)
