"""A message stream that accounts for itself in the traffic log when it ends."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import attrs

from adapters.http.errors import classify
from adapters.http.traffic import StreamAccount, TrafficLog
from domain.services.relay import MessageStream
from domain.vocab import anthropic as a


@attrs.define
class ObservedStream(MessageStream):
    """``MessageStream`` as the SSE writer uses it, recording one exchange at its end."""

    account: StreamAccount = attrs.field(kw_only=True)
    traffic: TrafficLog = attrs.field(kw_only=True)
    _recorded: bool = attrs.field(default=False, init=False)
    # The reader thread may end the stream while the loop closes it: record once.
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    @classmethod
    def of(cls, stream: MessageStream, account: StreamAccount, traffic: TrafficLog) -> ObservedStream:
        """Wrap ``stream`` (taking over its upstream) for ``account``."""
        fields = {str(f.alias): getattr(stream, f.name) for f in attrs.fields(MessageStream) if f.init}
        return cls(**fields, account=account, traffic=traffic)

    def __iter__(self) -> Iterator[list[a.StreamEvent]]:
        try:
            for batch in super().__iter__():
                self.account.seen(batch)
                yield batch
        except Exception as error:
            self._record(classify(error)[1])
            raise
        self._record(None)

    def close(self) -> None:
        """Release the upstream; a stream closed before its end is recorded as left."""
        super().close()
        self._record(None)

    def _record(self, error_type: str | None) -> None:
        with self._lock:
            if self._recorded:
                return
            self._recorded = True
        self.traffic.record(self.account.exchange(error_type))
