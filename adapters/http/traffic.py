"""What the proxy spends: one line per request, and a summary for the whole session.

Each line says when, which model was asked for and which Nexus model served it, whether
it streamed, the status, the tokens by kind, time to first token and in all, and the
request id. Never contents: no prompt, no answer, no key.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Literal

import attrs

from domain.vocab import anthropic as a

log = logging.getLogger("nexus_claude_api.traffic")


@attrs.frozen(kw_only=True)
class Exchange:
    """One finished request, as the log line and the session summary see it."""

    request_id: str
    requested_model: str
    upstream_model: str
    streamed: bool
    status: int
    total_s: float
    usage: a.Usage = attrs.field(factory=a.Usage)
    first_token_s: float | None = None
    # The Anthropic error type when the request failed (before or after the first byte).
    error_type: str | None = None
    # ``check``: the proxy's own call for auto mode's check, not a client's request.
    kind: Literal["message", "check"] = "message"


def line(exchange: Exchange, at: float | None = None) -> str:
    """The one-line account of ``exchange``."""
    usage = exchange.usage
    first = f"{exchange.first_token_s:.2f}s" if exchange.first_token_s is not None else "-"
    outcome = f"{exchange.status}" + (f" {exchange.error_type}" if exchange.error_type else "")
    return (
        f"{time.strftime('%H:%M:%S', time.localtime(at))} {exchange.requested_model} -> {exchange.upstream_model} "
        f"{_mode(exchange)} {outcome} "
        f"in={usage.input_tokens} out={usage.output_tokens} "
        f"cache_read={usage.cache_read_input_tokens} cache_write={usage.cache_creation_input_tokens} "
        f"first_token={first} total={exchange.total_s:.2f}s {exchange.request_id}"
    )


def _mode(exchange: Exchange) -> str:
    if exchange.kind == "check":
        return "auto-mode-check"
    return "stream" if exchange.streamed else "whole"


class TrafficLog:
    """Logs each exchange and keeps the session's totals; safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self._checks = 0
        self._errors: Counter[str] = Counter()
        self._tokens: Counter[str] = Counter()

    def record(self, exchange: Exchange) -> None:
        """Log ``exchange`` and add it to the totals."""
        log.info("%s", line(exchange))
        usage = exchange.usage
        with self._lock:
            if exchange.kind == "check":
                self._checks += 1
            else:
                self._requests += 1
            if exchange.error_type:
                self._errors[exchange.error_type] += 1
            self._tokens.update(
                input=usage.input_tokens,
                output=usage.output_tokens,
                cache_read=usage.cache_read_input_tokens,
                cache_write=usage.cache_creation_input_tokens,
            )

    def summary(self) -> str:
        """The session in a few lines: requests, errors by kind, tokens by kind, cache hits."""
        with self._lock:
            tokens, errors, requests = dict(self._tokens), dict(self._errors), self._requests
            checks = self._checks
        prompt = tokens.get("input", 0) + tokens.get("cache_read", 0) + tokens.get("cache_write", 0)
        ratio = f"{tokens.get('cache_read', 0) / prompt:.1%}" if prompt else "-"
        shown_errors = ", ".join(f"{kind} {n}" for kind, n in sorted(errors.items())) or "none"
        return "\n".join(
            [
                f"session: {requests} requests{_checks(checks)}, errors: {shown_errors}",
                f"  tokens: input {tokens.get('input', 0)}, output {tokens.get('output', 0)}, "
                f"cache read {tokens.get('cache_read', 0)}, cache write {tokens.get('cache_write', 0)}",
                f"  cache hit ratio (cache read / all prompt tokens): {ratio}",
            ]
        )


def _checks(count: int) -> str:
    return f" and {count} auto-mode checks by the proxy" if count else ""


@attrs.define
class StreamAccount:
    """What one stream spent, gathered from its batches as they pass."""

    started: float
    requested_model: str
    upstream_model: str
    request_id: str
    first_token_s: float | None = None
    usage: a.Usage = attrs.field(factory=a.Usage)
    done: bool = False

    def seen(self, batch: list[a.StreamEvent]) -> None:
        """Note the first content and the final usage in ``batch``."""
        for event in batch:
            if self.first_token_s is None and isinstance(event, (a.ContentBlockDeltaEvent, a.DeltaRun)):
                self.first_token_s = time.perf_counter() - self.started
            elif isinstance(event, a.MessageDeltaEvent):
                self.usage = event.usage
            elif isinstance(event, a.MessageStopEvent):
                self.done = True

    def exchange(self, error_type: str | None) -> Exchange:
        """The finished stream as an exchange; a stream cut short without an error was left."""
        if error_type is None and not self.done:
            error_type = "client_gone"
        return Exchange(
            request_id=self.request_id,
            requested_model=self.requested_model,
            upstream_model=self.upstream_model,
            streamed=True,
            status=200,
            total_s=time.perf_counter() - self.started,
            usage=self.usage,
            first_token_s=self.first_token_s,
            error_type=error_type,
        )
