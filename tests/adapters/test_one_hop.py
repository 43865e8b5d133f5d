"""A message takes one pool hop when a slot is free: parsing, translation and the call together."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar, TypeVarTuple

import pytest

from adapters.http.threads import BlockingRunner, StreamSlots
from domain.errors import UpstreamRejectedError
from domain.vocab import converse as c
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.fake_gateway import FakeConverseGateway, text_response
from tests.support.in_process import LocalClient

T = TypeVar("T")
Args = TypeVarTuple("Args")
HELLO: dict[str, Any] = {"model": "claude-opus-4.6", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}


class CountingRunner(BlockingRunner):
    """A real pool that counts what it is handed."""

    def __init__(self, name: str) -> None:
        super().__init__(max_workers=2, name=name)
        self.submitted = 0

    def submit(self, fn: Callable[[*Args], T], *args: *Args) -> asyncio.Future[T]:
        self.submitted += 1
        return super().submit(fn, *args)


def _client(gateway: FakeConverseGateway, max_streams: int = 1) -> tuple[LocalClient, CountingRunner, CountingRunner]:
    runner, short = CountingRunner("hop-long"), CountingRunner("hop-short")
    settings = Settings(api_key="k", max_streams=max_streams)
    return LocalClient(create_app(settings, gateway, runner=runner, short_runner=short)), runner, short


def test_a_whole_message_is_parsed_translated_and_answered_in_one_hop() -> None:
    client, runner, short = _client(FakeConverseGateway(on_converse=lambda _: text_response("ok")))
    result = client.simulate_post("/v1/messages", json=HELLO)
    assert result.status_code == 200 and result.json["content"][0]["text"] == "ok"
    assert (runner.submitted, short.submitted) == (1, 0)


@pytest.mark.parametrize("first", [{"model": "claude-opus-4.6", "messages": []}, "not an object"])
def test_a_refused_body_gives_its_slot_back(first: Any) -> None:
    client, _, _ = _client(FakeConverseGateway(on_converse=lambda _: text_response("ok")))
    assert client.simulate_post("/v1/messages", json=first).status_code == 400
    assert client.simulate_post("/v1/messages", json=HELLO).status_code == 200  # the one slot is free


def test_a_failed_call_gives_its_slot_back() -> None:
    calls: list[int] = []

    def converse(_: c.ConverseRequest) -> c.ConverseResponse:
        calls.append(1)
        if len(calls) == 1:
            raise UpstreamRejectedError("no")
        return text_response("ok")

    client, _, _ = _client(FakeConverseGateway(on_converse=converse))
    assert client.simulate_post("/v1/messages", json=HELLO).status_code == 400
    assert client.simulate_post("/v1/messages", json=HELLO).status_code == 200


def test_with_no_slot_free_a_bad_body_is_still_a_400_and_a_good_one_a_429(monkeypatch: pytest.MonkeyPatch) -> None:
    client, runner, short = _client(FakeConverseGateway(on_converse=lambda _: text_response("ok")))
    monkeypatch.setattr(StreamSlots, "try_take", lambda self: None)  # every slot held elsewhere
    bad = client.simulate_post("/v1/messages", json={"model": "claude-opus-4.6", "messages": []})
    assert bad.status_code == 400 and "at least one message" in bad.text
    busy = client.simulate_post("/v1/messages", json=HELLO)
    assert busy.status_code == 429 and "its limit" in busy.text
    assert (runner.submitted, short.submitted) == (0, 2)  # parsed on the short pool, never called
