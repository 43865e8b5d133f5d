"""A whole answer is written before its traffic line is logged, and the line still comes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import falcon.testing

from adapters.http.traffic import Exchange, TrafficLog
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.fake_gateway import FakeConverseGateway, text_response

HELLO = {"model": "claude-opus-4.6", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}


class NotingTraffic(TrafficLog):
    """Notes what had been sent to the client when each exchange was recorded."""

    def __init__(self, sent: list[str]) -> None:
        super().__init__()
        self.sent = sent
        self.seen: list[tuple[list[str], Exchange]] = []

    def record(self, exchange: Exchange) -> None:
        self.seen.append((list(self.sent), exchange))
        super().record(exchange)


def test_the_answer_goes_out_before_its_line_is_logged() -> None:
    sent: list[str] = []
    traffic = NotingTraffic(sent)
    gateway = FakeConverseGateway(on_converse=lambda _: text_response("ok"))
    app = create_app(Settings(api_key="k"), gateway, traffic=traffic)
    scope = falcon.testing.create_scope(
        path="/v1/messages", method="POST", host="127.0.0.1", headers={"content-type": "application/json"}
    )

    async def send(event: dict[str, Any]) -> None:
        sent.append(event["type"])

    asyncio.run(app(scope, falcon.testing.ASGIRequestEventEmitter(json.dumps(HELLO).encode()), send))
    assert len(traffic.seen) == 1
    before, exchange = traffic.seen[0]
    assert before == ["http.response.start", "http.response.body"]
    assert (exchange.status, exchange.requested_model, exchange.streamed) == (200, "claude-opus-4.6", False)
