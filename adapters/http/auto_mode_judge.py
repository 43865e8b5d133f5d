"""The judge of auto mode's check: one Nexus call through the messages service, on a deadline.

The call goes the way any whole message goes (translation, optional-field fallback,
rejections in Claude Code's words), in a small pool of its own so that the deadline holds
whatever Nexus does: past ``timeout`` the check is ``unavailable`` and the stream moves
on, while the abandoned call finishes in its thread. Each call is one line of the traffic
log, of its own kind, and its tokens count in the session's totals.
"""

from __future__ import annotations

import concurrent.futures
import time

import attrs

from adapters.blocking_waits import blocking
from adapters.http.errors import classify
from adapters.http.request_context import new_request_id
from adapters.http.traffic import Exchange, TrafficLog
from domain.errors import UpstreamTimeoutError
from domain.services.relay import MessageRelay
from domain.vocab import anthropic as a

DEFAULT_TIMEOUT = 30.0
# Judges at once: more waits in the queue, which the deadline covers too.
_WORKERS = 8


@attrs.frozen
class TimedJudge:
    """``AutoModeJudge`` over a relay that itself answers no check (no recursion)."""

    relay: MessageRelay
    traffic: TrafficLog | None
    timeout: float = DEFAULT_TIMEOUT
    _pool: concurrent.futures.ThreadPoolExecutor = attrs.field(
        factory=lambda: concurrent.futures.ThreadPoolExecutor(_WORKERS, thread_name_prefix="auto-mode-check")
    )

    def __call__(self, request: a.MessagesRequest) -> a.MessagesResponse:
        """The judge's answer, or ``UpstreamTimeoutError`` past the deadline."""
        started = time.perf_counter()
        record = _Record(request_id=new_request_id(), model=request.model, started=started, traffic=self.traffic)
        future = self._pool.submit(self._ask, request)
        try:
            # Through the stream thread's hooks: the answer so far reaches the client, and
            # the readers' lane goes to another stream, while the judge thinks.
            answer = blocking(lambda: future.result(timeout=self.timeout))
        except concurrent.futures.TimeoutError as error:
            record.failed(504, "timeout_error")
            raise UpstreamTimeoutError(f"auto mode's check got no answer within {self.timeout:g} s") from error
        except Exception as error:
            status, kind, _ = classify(error)
            record.failed(status, kind)
            raise
        record.answered(answer)
        return answer

    def _ask(self, request: a.MessagesRequest) -> a.MessagesResponse:
        return self.relay.create(self.relay.prepare(request))

    def close(self) -> None:
        """Stop taking calls; a call still running finishes on its own."""
        self._pool.shutdown(wait=False, cancel_futures=True)


@attrs.frozen(kw_only=True)
class _Record:
    request_id: str
    model: str
    started: float
    traffic: TrafficLog | None

    def answered(self, answer: a.MessagesResponse) -> None:
        self._log(200, upstream_model=answer.model, usage=answer.usage)

    def failed(self, status: int, error_type: str) -> None:
        self._log(status, error_type=error_type)

    def _log(
        self, status: int, *, upstream_model: str = "", usage: a.Usage | None = None, error_type: str | None = None
    ) -> None:
        if self.traffic is None:
            return
        exchange = Exchange(
            request_id=self.request_id,
            requested_model=self.model,
            upstream_model=upstream_model or self.model,
            streamed=False,
            status=status,
            total_s=time.perf_counter() - self.started,
            usage=usage or a.Usage(),
            error_type=error_type,
            kind="check",
        )
        self.traffic.record(exchange)
