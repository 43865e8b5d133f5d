"""The ports: what the domain needs from the outside world, and nothing more.

Adapters implement these Protocols; tests swap in fakes that do the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from domain.vocab import anthropic as a
from domain.vocab import converse as c


class ConverseStream(Protocol):
    """An opened ConverseStream response: events in order, then the end.

    The HTTP exchange is already open and its status checked when this object exists.
    The caller owns it and must call ``close()`` when done or abandoned; closing
    releases the upstream connection at once. Iteration raises ``UpstreamError``
    subclasses for exception frames, corrupt frames, cut connections and timeouts.
    """

    def batches(self) -> Iterator[list[c.StreamEvent]]:
        """The stream's events in order, in lists of what arrived together.

        One list per read of Nexus, often hundreds of events. Raises ``UpstreamError``
        subclasses on failure, after the events that came before the failure.
        """

    def close(self) -> None:
        """Release the upstream connection at once, also in the middle of the stream."""


class ConverseGateway(Protocol):
    """The AI Nexus Bedrock Runtime, addressed by upstream model id.

    Every method blocks; callers on an event loop run them in a thread. Failures are
    raised as ``domain.errors.UpstreamError`` subclasses.
    """

    def converse(self, model_id: str, request: c.ConverseRequest) -> c.ConverseResponse:
        """One complete (non-streaming) Converse call."""

    def converse_stream(self, model_id: str, request: c.ConverseRequest) -> ConverseStream:
        """Open a ConverseStream call; the caller must close what it returns."""

    def count_tokens(self, model_id: str, request: c.ConverseRequest) -> int:
        """The input token count Nexus's CountTokens gives for ``request``."""


class AutoModeJudge(Protocol):
    """Asks the Nexus model one classification question for auto mode's check.

    The composition root builds it from the messages service (so the judge's request is
    translated, sent and refused like any other) with a hard deadline: past it the call
    raises ``UpstreamTimeoutError``; any other failure is an ``UpstreamError`` subclass.
    """

    def __call__(self, request: a.MessagesRequest) -> a.MessagesResponse:
        """The judge's whole answer to ``request``."""
