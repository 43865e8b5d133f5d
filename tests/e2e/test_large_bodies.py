"""Large requests through the real proxy: sent whole to Nexus, and bounded while in flight."""

from __future__ import annotations

import base64
import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from adapters.nexus.json_body import LARGE
from bench.large_image import png
from domain.vocab import converse as c
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.fake_gateway import FakeConverseGateway, text_events
from tests.support.fake_nexus import FakeNexus, text_reply

WAIT = 10


def _image(size: int, seed: int) -> dict[str, Any]:
    data = base64.b64encode(png(size, seed)).decode()
    return {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}


def test_large_images_reach_nexus_byte_for_byte(serve_proxy: Callable[..., str], fake_nexus: FakeNexus) -> None:
    images = [_image(LARGE, seed) for seed in range(2)]
    body = {
        "model": "claude-opus-4.6",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": [*images, {"type": "text", "text": "Compare these."}]}],
    }
    fake_nexus.enqueue(text_reply("Two photos."))
    answer = requests.post(f"{serve_proxy()}/v1/messages", json=body, timeout=WAIT)
    assert answer.status_code == 200 and answer.json()["content"][0]["text"] == "Two photos."
    [sent] = fake_nexus.requests
    assert sent.errors == []  # valid for Bedrock's model
    blocks = sent.body["messages"][0]["content"]
    assert [b["image"]["source"]["bytes"] for b in blocks[:2]] == [i["source"]["data"] for i in images]
    assert sent.header("transfer-encoding") is None  # a length, not chunks
    assert int(sent.header("content-length") or 0) > 2 * LARGE


class HeldOpen:
    """An upstream that holds the first stream open, before its first byte, until released."""

    def __init__(self) -> None:
        self.waiting, self.release = threading.Event(), threading.Event()

    def __call__(self, _: c.ConverseRequest) -> list[c.StreamEvent]:
        self.waiting.set()
        assert self.release.wait(WAIT)
        return text_events("done")


@pytest.fixture
def held(gateway: FakeConverseGateway) -> Iterator[HeldOpen]:
    upstream = HeldOpen()
    gateway.on_stream = upstream
    yield upstream
    upstream.release.set()


def _body(size: int, stream: bool = True) -> dict[str, Any]:
    text = "".join(random.Random(size).choices("abcdefgh ", k=size))
    return {
        "model": "claude-opus-4.6",
        "max_tokens": 8,
        "stream": stream,
        "messages": [{"role": "user", "content": text}],
    }


def test_request_bytes_past_the_budget_are_told_to_retry(
    mount: Callable[[Any], str], gateway: FakeConverseGateway, held: HeldOpen
) -> None:
    budget = 64 * 1024
    url = mount(create_app(Settings(api_key="k", max_body_bytes=budget, body_budget_bytes=budget), gateway))
    first = threading.Thread(
        target=requests.post, args=(f"{url}/v1/messages",), kwargs={"json": _body(40_000), "timeout": WAIT}
    )
    first.start()
    assert held.waiting.wait(WAIT)  # 40 KB held until Nexus takes the request
    refused = requests.post(f"{url}/v1/messages", json=_body(40_000), timeout=WAIT)
    assert refused.status_code == 429 and refused.headers["retry-after"].isdigit()
    assert refused.json()["error"]["type"] == "rate_limit_error" and "budget" in refused.json()["error"]["message"]
    small = requests.post(f"{url}/v1/messages/count_tokens", json=_body(1_000, stream=False), timeout=WAIT)
    assert small.status_code == 200  # what fits beside it still goes through
    held.release.set()
    first.join(WAIT)
    # Released once Nexus took the first: the same request fits now.
    gateway.on_stream = lambda _: text_events("done")
    assert requests.post(f"{url}/v1/messages", json=_body(40_000, stream=False), timeout=WAIT).status_code == 200
