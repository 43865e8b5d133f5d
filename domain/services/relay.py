"""The messages service: one Anthropic request through Nexus and back.

Blocking throughout; the HTTP adapter runs these calls in its thread pool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import attrs

from domain.errors import InvalidRequestError, UpstreamRejectedError
from domain.ports import ConverseGateway, ConverseStream
from domain.rules.models import ModelCatalog, ResolvedModel
from domain.rules.rejections import RequestSize, reword_rejection
from domain.rules.token_estimate import estimate_tokens
from domain.services.cooldown import Cooldown
from domain.services.counting import TokenCounter
from domain.to_anthropic.response import new_message_id, translate_response
from domain.to_anthropic.stream import StreamTranslator, message_start
from domain.to_converse.request import Translation, translate_request
from domain.vocab import anthropic as a
from domain.vocab import converse as c

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class Prepared:
    """A validated request: what the client asked, where it goes and what it becomes."""

    request: a.MessagesRequest
    model: ResolvedModel
    translation: Translation

    def reworded(self, error: UpstreamRejectedError) -> UpstreamRejectedError:
        """The rejection in the words Claude Code acts on (see ``domain.rules.rejections``)."""
        request = self.translation.request
        max_tokens = request.inference_config.max_tokens if request.inference_config else None
        size = RequestSize(input_tokens=estimate_tokens(request), max_tokens=max_tokens or 0)
        return UpstreamRejectedError(reword_rejection(error.message, size))


def _without_betas(request: c.ConverseRequest) -> c.ConverseRequest | None:
    fields = request.additional_model_request_fields or {}
    if "anthropic_beta" not in fields:
        return None
    rest = {k: v for k, v in fields.items() if k != "anthropic_beta"}
    return attrs.evolve(request, additional_model_request_fields=rest or None)


def call_with_beta_fallback(
    call: Callable[[c.ConverseRequest], T], request: c.ConverseRequest, *, model_id: str, refused: Cooldown
) -> T:
    """Call Nexus; if it rejects a beta flag, retry once without any, and remember.

    The allowlist is a guess about what this Nexus model accepts; a wrong guess must
    not cost the user their turn, nor a failed round trip on every later request.
    """
    if refused.on_hold(model_id):
        request = _without_betas(request) or request
    try:
        return call(request)
    except UpstreamRejectedError as error:
        retry = _without_betas(request)
        if retry is None or "beta" not in error.message.lower():
            raise
        refused.hold(model_id)
        return call(retry)


@attrs.define
class MessageStream:
    """Anthropic events for one streamed message, in batches, from an open upstream.

    Iterating blocks on Nexus. Whoever holds the stream closes it, once, by using it as a
    context manager (the SSE adapter does); ``close()`` may come from another thread while
    an iteration is blocked: it closes the upstream, which ends that iteration.
    """

    upstream: ConverseStream
    translator: StreamTranslator
    first: a.MessageStartEvent
    prepared: Prepared

    def __iter__(self) -> Iterator[list[a.StreamEvent]]:
        try:
            yield [self.first]
            for event in self.upstream:
                events = self.translator.feed(event)
                if events:
                    yield events
                if self.translator.done:
                    return
            yield self.translator.finish()
        except UpstreamRejectedError as error:
            raise self.prepared.reworded(error) from error

    def close(self) -> None:
        """Release the upstream connection now (idempotent)."""
        self.upstream.close()

    def __enter__(self) -> MessageStream:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@attrs.frozen(kw_only=True)
class MessageRelay:
    """The messages use case: validate and translate, call Nexus, translate back.

    Counts, single responses and streams share one gateway-call path, so the
    beta-flag fallback and the rewording of rejections apply to all three.
    """

    gateway: ConverseGateway
    catalog: ModelCatalog
    beta_allowlist: tuple[str, ...]
    counter: TokenCounter
    # Models whose Nexus refused our beta flags: sent none for a while.
    betas_refused: Cooldown = attrs.field(factory=Cooldown)

    def prepare(self, request: a.MessagesRequest, *, counting: bool = False) -> Prepared:
        """Resolve the model and translate; raises the client's errors before any call."""
        model = self.catalog.resolve(request.model)
        if not request.messages:
            raise InvalidRequestError("messages: at least one message is required")
        if not counting and request.max_tokens is None:
            raise InvalidRequestError("max_tokens: Field required")
        if request.max_tokens is not None and request.max_tokens < 0:
            raise InvalidRequestError("max_tokens: must be greater than or equal to 0")
        translation = translate_request(request, beta_allowlist=self.beta_allowlist)
        return Prepared(request=request, model=model, translation=translation)

    def count_tokens(self, prepared: Prepared) -> int:
        """Input tokens of the request as it would go to Nexus; never raises."""
        # The same call path as generation (beta fallback and its memory included).
        return self.counter.count(
            prepared.model.upstream_id,
            prepared.translation.request,
            lambda _: self._call(prepared, self.gateway.count_tokens),
        )

    def _call(self, prepared: Prepared, operation: Callable[[str, c.ConverseRequest], T]) -> T:
        """One gateway call with the beta fallback, rejections in Claude Code's words."""
        try:
            model_id = prepared.model.upstream_id
            return call_with_beta_fallback(
                lambda body: operation(model_id, body),
                prepared.translation.request,
                model_id=model_id,
                refused=self.betas_refused,
            )
        except UpstreamRejectedError as error:
            raise prepared.reworded(error) from error

    def create(self, prepared: Prepared) -> a.MessagesResponse:
        """One whole message from Nexus, in Anthropic's shape."""
        response = self._call(prepared, self.gateway.converse)
        return translate_response(
            response, model=prepared.request.model, tool_names=prepared.translation.original_tool_names
        )

    def open_stream(self, prepared: Prepared) -> MessageStream:
        """Open the upstream stream now, so failures surface before the response starts."""
        upstream = self._call(prepared, self.gateway.converse_stream)
        estimate = estimate_tokens(prepared.translation.request)
        return MessageStream(
            upstream=upstream,
            translator=StreamTranslator(tool_names=prepared.translation.original_tool_names, input_estimate=estimate),
            first=message_start(new_message_id(), prepared.request.model, estimate),
            prepared=prepared,
        )
