"""The client's disconnect as an event that calls back: what a stream relies on to stop at once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from adapters.http import sse
from adapters.http.disconnect import Disconnected, DisconnectSignal, disconnect_event
from adapters.http.threads import BlockingRunner
from domain.vocab import anthropic as a
from tests.support.stand_in import ClosedByOwner


def test_each_callback_is_called_once_when_the_client_leaves() -> None:
    event, calls = Disconnected(), []
    event.call_on_set(lambda: calls.append("a"))
    event.call_on_set(lambda: calls.append("b"))
    assert not calls
    event.set()
    event.set()
    assert calls == ["a", "b"]
    assert event.is_set()


def test_a_callback_asked_for_after_the_client_left_is_called_at_once() -> None:
    event, calls = Disconnected(), []
    event.set()
    event.call_on_set(lambda: calls.append("late"))
    assert calls == ["late"]


def test_a_forgotten_callback_is_not_called() -> None:
    event, calls = Disconnected(), []

    def note() -> None:
        calls.append("noted")

    event.call_on_set(note)
    event.forget(note)
    event.forget(note)  # twice: nothing to forget
    event.set()
    assert not calls


def test_the_middleware_sets_the_scope_event_on_http_disconnect() -> None:
    seen: list[Disconnected] = []

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        event = disconnect_event(scope)
        seen.append(event)
        assert not event.is_set()
        await receive()  # type: ignore[operator]

    async def receive() -> dict[str, object]:
        return {"type": "http.disconnect"}

    async def send(_: object) -> None:
        return None

    asyncio.run(DisconnectSignal(app)({"type": "http"}, receive, send))
    assert seen[0].is_set()


def test_outside_the_middleware_the_event_is_never_set() -> None:
    assert not disconnect_event({}).is_set()


class _Silent(ClosedByOwner):
    """A Nexus that sends nothing until its stream is closed."""

    def __iter__(self) -> Iterator[list[a.StreamEvent]]:
        self.closed.wait(30)
        return iter(())


def test_a_client_gone_before_the_stream_starts_ends_it_without_waiting_for_nexus() -> None:
    upstream, gone = _Silent(), Disconnected()
    gone.set()

    async def consume() -> list[bytes]:
        chunks = sse.stream_events(
            upstream,  # type: ignore[arg-type]
            runner=BlockingRunner(2),
            disconnected=gone,
            ping_interval=60.0,  # no ping, no idle end, would end the wait in time
            request_id="req_test",
            idle_limit=60.0,
        )
        return [chunk.serialize() async for chunk in chunks]

    assert asyncio.run(asyncio.wait_for(consume(), 10)) == []
    assert upstream.closed.is_set()
