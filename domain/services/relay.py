"""The messages service: one Anthropic request through Nexus and back.

Blocking throughout; the HTTP adapter runs these calls in its thread pool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import attrs

from domain.errors import InvalidRequestError, UpstreamRejectedError
from domain.ports import ConverseGateway, ConverseStream
from domain.rules.betas import CONTEXT_1M
from domain.rules.media import media_count
from domain.rules.models import ModelCatalog, ResolvedModel
from domain.rules.rejections import CONTEXT_LIMIT, CONTEXT_LIMIT_1M, RequestSize, reword_rejection
from domain.rules.token_estimate import estimate_tokens
from domain.services.auto_mode import AutoModeCheck, Check, checked_batches, proposed_calls
from domain.services.cooldown import Cooldown
from domain.services.counting import TokenCounter
from domain.services.fallback import call_with_fallback, sent_betas
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

    def reworded(self, error: UpstreamRejectedError, sent: c.ConverseRequest | None = None) -> UpstreamRejectedError:
        """The rejection in the words Claude Code acts on (see ``domain.rules.rejections``).

        Args:
            error: Nexus's 400.
            sent: the request Nexus refused, after any fallback; the translation when not given.
        """
        request = sent or self.translation.request
        max_tokens = request.inference_config.max_tokens if request.inference_config else None
        size = RequestSize(
            input_tokens=estimate_tokens(request),
            max_tokens=max_tokens or 0,
            context_limit=CONTEXT_LIMIT_1M if CONTEXT_1M in sent_betas(request) else CONTEXT_LIMIT,
            media_items=media_count(request.messages),
        )
        return UpstreamRejectedError(reword_rejection(error.message, size))


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
    # The request that opened the upstream, after any fallback.
    sent: c.ConverseRequest | None = None
    # Auto mode's check, when the proxy answers it for this request (services/auto_mode.py).
    check: Check | None = None
    _closed: bool = attrs.field(default=False, init=False)

    def __iter__(self) -> Iterator[list[a.StreamEvent]]:
        if self.check is None:
            return self._batches()
        return checked_batches(self._batches(), self.check, abandoned=lambda: self._closed)

    def _batches(self) -> Iterator[list[a.StreamEvent]]:
        try:
            yield [self.first]
            for arrived in self.upstream.batches():
                events = self.translator.feed_all(arrived)
                if events:
                    yield events
                if self.translator.done:
                    return
            yield self.translator.finish()
        except UpstreamRejectedError as error:
            raise self.prepared.reworded(error, self.sent) from error

    def close(self) -> None:
        """Release the upstream connection now (idempotent)."""
        self._closed = True
        self.upstream.close()

    def __enter__(self) -> MessageStream:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@attrs.frozen(kw_only=True)
class MessageRelay:
    """The messages use case: validate and translate, call Nexus, translate back.

    Counts, single responses and streams share one gateway-call path, so the
    optional-field fallback and the rewording of rejections apply to all three.
    Answers name the model that served them (``exposed_id``), not the id asked for:
    Claude Code prices ``/cost`` and tells the model its "exact model ID" by it.
    """

    gateway: ConverseGateway
    catalog: ModelCatalog
    beta_allowlist: tuple[str, ...]
    counter: TokenCounter
    # (model, optional field) pairs Nexus refused: left out for a while (services/fallback.py).
    fields_refused: Cooldown = attrs.field(factory=Cooldown)
    # Set when the user turned ``auto_mode_check`` on: the proxy answers auto mode's check.
    auto_mode: AutoModeCheck | None = None

    def prepare(self, request: a.MessagesRequest, *, counting: bool = False) -> Prepared:
        """Resolve the model and translate; raises the client's errors before any call."""
        model = self.catalog.resolve(request.model)
        if not request.messages:
            raise InvalidRequestError("messages: at least one message is required")
        if not counting and request.max_tokens is None:
            raise InvalidRequestError("max_tokens: Field required")
        if request.max_tokens is not None and request.max_tokens < 0:
            raise InvalidRequestError("max_tokens: must be greater than or equal to 0")
        translation = translate_request(
            request, beta_allowlist=self.beta_allowlist, max_output_tokens=model.max_output_tokens
        )
        return Prepared(request=request, model=model, translation=translation)

    def count_tokens(self, prepared: Prepared) -> int:
        """Input tokens of the request as it would go to Nexus; never raises."""
        # The same call path as generation (the fallback and its memory included).
        return self.counter.count(
            prepared.model.upstream_id,
            prepared.translation.request,
            lambda _: self._call(prepared, self.gateway.count_tokens)[0],
        )

    def _call(
        self, prepared: Prepared, operation: Callable[[str, c.ConverseRequest], T]
    ) -> tuple[T, c.ConverseRequest]:
        """The one gateway-call path: the fallback, rejections in Claude Code's words.

        Returns Nexus's answer and the request that earned it.
        """
        model_id = prepared.model.upstream_id
        sent: list[c.ConverseRequest] = []

        def send(body: c.ConverseRequest) -> T:
            sent.append(body)
            return operation(model_id, body)

        try:
            result = call_with_fallback(
                send, prepared.translation.request, model_id=model_id, refused=self.fields_refused
            )
        except UpstreamRejectedError as error:
            raise prepared.reworded(error, sent[-1] if sent else None) from error
        return result, sent[-1]

    def create(self, prepared: Prepared) -> a.MessagesResponse:
        """One whole message from Nexus, in Anthropic's shape."""
        response, _ = self._call(prepared, self.gateway.converse)
        answer = translate_response(
            response, model=prepared.model.exposed_id, tool_names=prepared.translation.original_tool_names
        )
        if (check := self._check_for(prepared)) is None:
            return answer
        return attrs.evolve(answer, safeguard_results=check(proposed_calls(answer)))

    def _check_for(self, prepared: Prepared) -> Check | None:
        return self.auto_mode.check_for(prepared.request) if self.auto_mode is not None else None

    def open_stream(self, prepared: Prepared) -> MessageStream:
        """Open the upstream stream now, so failures surface before the response starts."""
        upstream, sent = self._call(prepared, self.gateway.converse_stream)
        estimate = estimate_tokens(sent)
        return MessageStream(
            upstream=upstream,
            translator=StreamTranslator(tool_names=prepared.translation.original_tool_names, input_estimate=estimate),
            first=message_start(new_message_id(), prepared.model.exposed_id, estimate),
            prepared=prepared,
            sent=sent,
            check=self._check_for(prepared),
        )
