"""The memory one large image costs: a 5 MB PNG through ``/v1/messages``, not streamed.

A pasted screenshot travels as base64 and exists in several forms on its way through: the
raw body, the parsed JSON, the decoded bytes, the Converse JSON and the outgoing body. How
many of those are alive at once decides the proxy's peak, which is measured from the RSS
just before the request (the peak is reset first, so earlier runs do not hide it).
"""

from __future__ import annotations

import base64
import random
import time

import requests

from bench.proxy_process import ProxyProcess
from bench.table import Row, ms
from tests.support.fake_nexus import FakeNexus, text_reply

IMAGE_BYTES = 5 * 1024 * 1024
GROWTH_TARGET_MB = 60
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _image_body() -> dict[str, object]:
    pixels = random.Random(5).randbytes(IMAGE_BYTES - len(PNG_SIGNATURE))
    data = base64.b64encode(PNG_SIGNATURE + pixels).decode("ascii")
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}
    content = [image, {"type": "text", "text": "What is in this screenshot?"}]
    return {"model": "claude-opus-4.6", "max_tokens": 256, "messages": [{"role": "user", "content": content}]}


def image_rows(fake: FakeNexus, proxy: ProxyProcess) -> list[Row]:
    body = _image_body()
    fake.enqueue(text_reply("A screenshot."))
    before_kb = proxy.reset_peak_kb()
    start = time.perf_counter()
    response = requests.post(f"{proxy.url}/v1/messages", json=body, timeout=60)
    elapsed = time.perf_counter() - start
    growth_mb = (proxy.peak_kb() - before_kb) / 1024
    answered = response.status_code == 200 and response.json()["content"][0]["text"] == "A screenshot."
    return [
        Row(
            "5 MB image, not streamed: proxy peak RSS growth",
            f"{growth_mb:.1f} MB",
            f"< {GROWTH_TARGET_MB} MB",
            growth_mb < GROWTH_TARGET_MB,
        ),
        Row("5 MB image: answered, round trip", f"{'yes' if answered else 'NO'}, {ms(elapsed)}", "answered", answered),
    ]
