"""Optional fields Nexus refuses are given up one at a time, and remembered per model and field."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import InvalidRequestError, UpstreamRejectedError
from domain.rules.structured_output import instruction, native_output_config
from domain.services import fallback
from domain.services.cooldown import Cooldown
from domain.services.fallback import DISPLAY, EFFORT, NATIVE_OUTPUT, beta_field, blame, call_with_fallback, without
from domain.vocab import converse as c

FGTS = "fine-grained-tool-streaming-2025-05-14"
ONE_M = "context-1m-2025-08-07"
INTERLEAVED = "interleaved-thinking-2025-05-14"
EFFORT_BETA = "effort-2025-11-24"
UPDATES = "thinking-display-updates-2026-08-18"
SCHEMA = '{"type":"object"}'


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def request(
    *betas: str, display: str | None = None, effort: str | None = None, native: bool = False
) -> c.ConverseRequest:
    extra: dict[str, Any] = {"thinking": {"type": "adaptive", **({"display": display} if display else {})}}
    if effort:
        extra["output_config"] = {"effort": effort}
    if betas:
        extra["anthropic_beta"] = list(betas)
    return c.ConverseRequest(
        messages=(c.Message(role="user", content=(c.TextContent(text="hi"),)),),
        system=(c.TextContent(text="Be brief"),),
        additional_model_request_fields=extra,
        output_config=native_output_config(SCHEMA) if native else None,
    )


class Nexus:
    """Refuses, in order, with each message of ``refusals``, then answers "ok"; records what it got."""

    def __init__(self, *refusals: str) -> None:
        self.refusals = list(refusals)
        self.sent: list[c.ConverseRequest] = []

    def __call__(self, body: c.ConverseRequest) -> str:
        self.sent.append(body)
        if self.refusals:
            raise UpstreamRejectedError(self.refusals.pop(0))
        return "ok"

    def betas(self, index: int) -> list[str]:
        return list((self.sent[index].additional_model_request_fields or {}).get("anthropic_beta", ()))


def test_the_fields_a_request_carries_are_named() -> None:
    body = request(FGTS, ONE_M, display="summarized", effort="high", native=True)
    assert fallback.optional_fields(body) == (beta_field(FGTS), beta_field(ONE_M), DISPLAY, EFFORT, NATIVE_OUTPUT)
    assert fallback.optional_fields(request()) == ()


def test_dropping_a_field_removes_that_field_only() -> None:
    body = request(FGTS, INTERLEAVED, display="summarized", effort="high")
    out = without(body, [beta_field(INTERLEAVED)])
    assert out.additional_model_request_fields == {
        "thinking": {"type": "adaptive", "display": "summarized"},
        "output_config": {"effort": "high"},
        "anthropic_beta": [FGTS],
    }
    out = without(body, [beta_field(FGTS), beta_field(INTERLEAVED), DISPLAY, EFFORT])
    assert out.additional_model_request_fields == {"thinking": {"type": "adaptive"}}
    assert without(body, []) is body


def test_display_updates_leaves_with_its_beta() -> None:
    out = without(request(UPDATES, FGTS, display="updates"), [beta_field(UPDATES)])
    assert out.additional_model_request_fields == {"thinking": {"type": "adaptive"}, "anthropic_beta": [FGTS]}
    kept = without(request(UPDATES, FGTS, display="summarized"), [beta_field(UPDATES)])
    assert (kept.additional_model_request_fields or {})["thinking"] == {"type": "adaptive", "display": "summarized"}


def test_native_structured_output_falls_back_to_the_instruction() -> None:
    out = without(request(native=True), [NATIVE_OUTPUT])
    assert out.output_config is None
    assert out.system == (c.TextContent(text="Be brief"), c.TextContent(text=instruction(SCHEMA)))


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (f"invalid beta flag: {INTERLEAVED}", (beta_field(INTERLEAVED),)),
        ("thinking.display: Extra inputs are not permitted", (DISPLAY,)),
        ("Malformed input request: extraneous key [output_config] is not permitted", (EFFORT,)),
        ("This model does not support the effort parameter.", (EFFORT,)),
        ("The model does not support outputConfig.textFormat", (NATIVE_OUTPUT,)),
        ("structured output is not supported for this model", (NATIVE_OUTPUT,)),
        ("json_schema: invalid schema", (NATIVE_OUTPUT,)),
        # The flag's own name holds "effort": the flag is refused, not the field.
        (f"Unexpected value(s) `{EFFORT_BETA}` for the `anthropic-beta` header", (beta_field(EFFORT_BETA),)),
        # Bare: the likely culprits first, tool streaming and 1M context kept.
        ("invalid beta flag", (beta_field(INTERLEAVED), beta_field(EFFORT_BETA))),
        ("The text field in the ContentBlock object at messages.0.content.0 is blank.", ()),
        ("Input is too long for requested model.", ()),
    ],
)
def test_a_400_is_blamed_on_the_fields_it_names(message: str, expected: tuple[str, ...]) -> None:
    body = request(FGTS, ONE_M, INTERLEAVED, EFFORT_BETA, display="summarized", effort="high", native=True)
    assert blame(message, fallback.optional_fields(body)) == expected


def test_a_bare_beta_refusal_costs_the_precious_flags_only_last() -> None:
    assert blame("invalid beta flag", [beta_field(FGTS), beta_field(ONE_M)]) == (beta_field(FGTS), beta_field(ONE_M))
    assert blame("invalid beta flag", [DISPLAY, EFFORT]) == ()


def test_a_named_flag_costs_one_retry_without_that_flag_and_is_remembered() -> None:
    clock = Clock()
    refused = Cooldown(seconds=600, clock=clock)
    nexus = Nexus(f"invalid beta flag {INTERLEAVED}")
    body = request(FGTS, ONE_M, INTERLEAVED)
    assert call_with_fallback(nexus, body, model_id="m", refused=refused) == "ok"
    assert [nexus.betas(0), nexus.betas(1)] == [[FGTS, ONE_M, INTERLEAVED], [FGTS, ONE_M]]
    # Remembered: the next request leaves it out from the start, for that model only.
    call_with_fallback(nexus, body, model_id="m", refused=refused)
    call_with_fallback(nexus, body, model_id="other", refused=refused)
    assert [nexus.betas(2), nexus.betas(3)] == [[FGTS, ONE_M], [FGTS, ONE_M, INTERLEAVED]]
    clock.now += 601
    call_with_fallback(nexus, body, model_id="m", refused=refused)
    assert nexus.betas(4) == [FGTS, ONE_M, INTERLEAVED]


def test_a_bare_refusal_drops_the_suspects_then_the_rest() -> None:
    refused = Cooldown()
    nexus = Nexus("invalid beta flag", "invalid beta flag")
    body = request(FGTS, ONE_M, INTERLEAVED, display="summarized")
    assert call_with_fallback(nexus, body, model_id="m", refused=refused) == "ok"
    assert [nexus.betas(i) for i in range(3)] == [[FGTS, ONE_M, INTERLEAVED], [FGTS, ONE_M], []]
    assert (nexus.sent[2].additional_model_request_fields or {})["thinking"] == {
        "type": "adaptive",
        "display": "summarized",
    }
    call_with_fallback(nexus, body, model_id="m", refused=refused)
    assert len(nexus.sent) == 4 and nexus.betas(3) == []


def test_each_refused_field_goes_in_turn_and_retries_are_bounded() -> None:
    body = request(INTERLEAVED, display="summarized", effort="high", native=True)
    nexus = Nexus("invalid beta flag", "thinking.display is not permitted", "extraneous key [output_config]")
    assert call_with_fallback(nexus, body, model_id="m", refused=Cooldown()) == "ok"
    assert [fallback.optional_fields(sent) for sent in nexus.sent] == [
        (beta_field(INTERLEAVED), DISPLAY, EFFORT, NATIVE_OUTPUT),
        (DISPLAY, EFFORT, NATIVE_OUTPUT),
        (EFFORT, NATIVE_OUTPUT),
        (NATIVE_OUTPUT,),
    ]
    stubborn = Nexus(*["invalid beta flag", "display", "effort", "outputConfig"])
    with pytest.raises(UpstreamRejectedError, match="outputConfig"):
        call_with_fallback(stubborn, body, model_id="m", refused=Cooldown())
    assert len(stubborn.sent) == fallback.MAX_RETRIES + 1


def test_a_400_naming_nothing_optional_is_not_retried_nor_remembered() -> None:
    refused = Cooldown()
    nexus = Nexus("The text field is blank", "The text field is blank")
    body = request(FGTS, INTERLEAVED)
    with pytest.raises(UpstreamRejectedError):
        call_with_fallback(nexus, body, model_id="m", refused=refused)
    assert len(nexus.sent) == 1
    with pytest.raises(UpstreamRejectedError):
        call_with_fallback(nexus, body, model_id="m", refused=refused)
    assert nexus.betas(1) == [FGTS, INTERLEAVED]


def test_a_local_400_passes_and_holds_nothing() -> None:
    refused = Cooldown()
    body = request(FGTS, INTERLEAVED)

    def local(_: c.ConverseRequest) -> str:
        raise InvalidRequestError("invalid beta flag (found by us, before any call)")

    with pytest.raises(InvalidRequestError):
        call_with_fallback(local, body, model_id="m", refused=refused)
    nexus = Nexus()
    call_with_fallback(nexus, body, model_id="m", refused=refused)
    assert nexus.betas(0) == [FGTS, INTERLEAVED]
