"""Auto mode's safety check, answered by the proxy with one Nexus call per response.

Only when the user turned ``auto_mode_check`` on and Claude Code asked for the check (a
``safeguards`` entry of type ``dangerous_tool_use``). Every such response then carries
exactly one result: a verdict for each of its tool uses, or ``{}`` when it has none (and
then no call is made). The check fails closed: a judge that errs, times out, refuses, or
answers out of shape, and an input it cannot read or that is too long, all give
``unavailable``, which Claude Code refuses to run; if the check itself breaks, the whole
result is ``unavailable``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from domain.errors import ProxyError, UpstreamRejectedError, UpstreamTimeoutError
from domain.ports import AutoModeJudge
from domain.rules.auto_mode_policy import CALL_INPUT_LIMIT, ProposedCall, judge_request
from domain.rules.auto_mode_verdicts import available, check_down, read_verdicts, unavailable
from domain.vocab import anthropic as a

SAFEGUARD_TYPE = "dangerous_tool_use"

# Judges one response's proposed calls: the safeguard results to send with it.
Check = Callable[[tuple[ProposedCall, ...]], tuple[a.SafeguardResult, ...]]


def classifier_context(request: a.MessagesRequest) -> dict[str, Any] | None:
    """The ``classifier_context`` of the request's ``dangerous_tool_use`` safeguard.

    ``None`` when the request asks for no check; ``{}`` when it asks without context.
    """
    entries = request.safeguards if isinstance(request.safeguards, list) else ()
    for entry in entries:
        if isinstance(entry, dict) and entry.get("type") == SAFEGUARD_TYPE:
            context = entry.get("classifier_context")
            return context if isinstance(context, dict) else {}
    return None


def _too_long(error: UpstreamRejectedError) -> bool:
    return "too long" in error.message.lower()


@attrs.frozen
class AutoModeCheck:
    """Judges proposed tool calls with the Nexus model (``judge``), failing closed."""

    judge: AutoModeJudge

    def check_for(self, request: a.MessagesRequest) -> Check | None:
        """The check for the responses to ``request``, or ``None`` if it asked for none."""
        context = classifier_context(request)
        if context is None:
            return None
        return lambda calls: self.results(request, context, calls)

    def results(
        self, request: a.MessagesRequest, context: dict[str, Any], calls: tuple[ProposedCall, ...]
    ) -> tuple[a.SafeguardResult, ...]:
        """The one result for a response proposing ``calls``; never raises."""
        try:
            return available(self._verdicts(request, context, calls))
        except Exception:  # the check broke, not the judge: every call is refused
            return check_down()

    def _verdicts(
        self, request: a.MessagesRequest, context: dict[str, Any], calls: tuple[ProposedCall, ...]
    ) -> dict[str, a.Verdict]:
        verdicts: dict[str, a.Verdict] = {}
        judged = []
        for call in calls:
            if call.input is None:
                verdicts[call.id] = unavailable("input_unparsed")
            elif len(call.rendered) > CALL_INPUT_LIMIT:
                verdicts[call.id] = unavailable("input_too_long")
            else:
                judged.append(call)
        if judged:
            verdicts.update(self._judged(request, context, tuple(judged)))
        return {call.id: verdicts[call.id] for call in calls}

    def _judged(
        self, request: a.MessagesRequest, context: dict[str, Any], calls: tuple[ProposedCall, ...]
    ) -> dict[str, a.Verdict]:
        try:
            answer = self.judge(judge_request(request, calls, context))
        except UpstreamTimeoutError:
            return {call.id: unavailable("timeout") for call in calls}
        except UpstreamRejectedError as error:
            return {call.id: unavailable("input_too_long" if _too_long(error) else "error") for call in calls}
        except ProxyError:
            return {call.id: unavailable("error") for call in calls}
        rules = context.get("auto_mode")
        return read_verdicts(answer, calls, rules if isinstance(rules, dict) else {})


def proposed_calls(response: a.MessagesResponse) -> tuple[ProposedCall, ...]:
    """The tool uses of a whole response, as the client gets them."""
    return tuple(
        ProposedCall(id=block.id, name=block.name, input=block.input)
        for block in response.content
        if isinstance(block, a.ToolUseBlock)
    )


def _parsed(text: str) -> Any:
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return None  # judged as ``input_unparsed``


@attrs.define
class _StreamedToolUses:
    """The tool uses of a stream, gathered from its block starts and input deltas."""

    started: dict[int, a.ToolUseBlock] = attrs.field(factory=dict)
    inputs: dict[int, list[str]] = attrs.field(factory=dict)

    def see(self, event: a.StreamEvent) -> None:
        if isinstance(event, a.ContentBlockStartEvent) and isinstance(event.content_block, a.ToolUseBlock):
            self.started[event.index] = event.content_block
            self.inputs[event.index] = []
        elif (
            isinstance(event, a.ContentBlockDeltaEvent)
            and isinstance(event.delta, a.InputJsonDelta)
            and event.index in self.inputs
        ):
            self.inputs[event.index].append(event.delta.partial_json)
        elif isinstance(event, a.DeltaRun) and event.kind == "input_json_delta" and event.index in self.inputs:
            self.inputs[event.index].extend(event.pieces)

    def calls(self) -> tuple[ProposedCall, ...]:
        return tuple(
            ProposedCall(id=block.id, name=block.name, input=_parsed("".join(self.inputs[index])))
            for index, block in sorted(self.started.items())
        )


def with_results(event: a.MessageDeltaEvent, results: tuple[a.SafeguardResult, ...]) -> a.MessageDeltaEvent:
    """The final ``message_delta`` carrying the check's results."""
    return attrs.evolve(event, delta=attrs.evolve(event.delta, safeguard_results=results))


def checked_batches(
    batches: Iterator[list[a.StreamEvent]], check: Check, abandoned: Callable[[], bool]
) -> Iterator[list[a.StreamEvent]]:
    """``batches`` with the check's results in the final ``message_delta``.

    Everything before that event goes out first, so the client has the whole answer while
    the judge works (the SSE writer pings meanwhile); ``message_stop`` follows the
    results. A stream the client has left (``abandoned``) is not judged: nobody would read it.
    """
    uses = _StreamedToolUses()
    for batch in batches:
        final = _final_delta(batch)
        if final is None:
            for event in batch:
                uses.see(event)
            yield batch
            continue
        at, delta = final
        for event in batch[:at]:
            uses.see(event)
        if at:
            yield batch[:at]
        if abandoned():
            return
        yield [with_results(delta, check(uses.calls())), *batch[at + 1 :]]


def _final_delta(batch: list[a.StreamEvent]) -> tuple[int, a.MessageDeltaEvent] | None:
    for at, event in enumerate(batch):
        if isinstance(event, a.MessageDeltaEvent):
            return at, event
    return None
