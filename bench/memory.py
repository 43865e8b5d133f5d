"""The server's memory: at rest, after 2,000 requests (it must not grow), and for one 5 MB image.

All figures are the kernel's for the server process alone: ``VmHWM`` (peak resident set,
reset to the current RSS with ``clear_refs`` before the image) and ``VmRSS``. The 2,000
requests alternate a ~110 KB Claude Code request (not streamed) and a 50-delta stream, on
four keep-alive connections at once; growth is RSS after all 2,000 minus RSS after the first
500, when every cache and pool has reached its working size.
"""

from __future__ import annotations

import asyncio
import base64
import random
import struct
import zlib

from bench.http_client import Connection
from bench.large_image import PNG_SIGNATURE
from bench.rig import Rig, claude_code_body, stream_prompt
from bench.table import Row

REQUESTS = 2000
WARM = 500
CLIENTS = 4
REST_TARGET_MB = 60
GROWTH_TARGET_MB = 2
IMAGE_TARGET_MB = 40
# The most Bedrock takes in one image: 3.75 MiB decoded, i.e. 5 MiB as base64 in the body.
IMAGE_BYTES = 3840 * 1024


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(size: int) -> bytes:
    """A PNG of ``size`` bytes, 2000 px a side, whose pixel data is random (incompressible, like a photo)."""
    header = PNG_SIGNATURE + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 2000, 2000, 8, 2, 0, 0, 0))
    end = _png_chunk(b"IEND", b"")
    pixels = random.Random(5).randbytes(size - len(header) - len(end) - 12)
    return header + _png_chunk(b"IDAT", pixels) + end


def image_body() -> dict[str, object]:
    """A request carrying one image of 5 MiB as base64."""
    data = base64.b64encode(_png(IMAGE_BYTES)).decode("ascii")
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}
    content = [image, {"type": "text", "text": "What is in this screenshot?"}]
    return {"model": "claude-opus-4.6", "max_tokens": 256, "messages": [{"role": "user", "content": content}]}


def _mb(kb: int) -> float:
    return kb / 1024


async def _serve_many(rig: Rig, count: int) -> None:
    requests = (rig.to_proxy(claude_code_body(stream=False)), rig.to_proxy(stream_prompt(50)))
    connections = [await rig.proxy_connection() for _ in range(CLIENTS)]

    async def client(connection: Connection, share: int) -> None:
        for i in range(share):
            answer = await connection.exchange(requests[i % 2])
            if answer.status != 200:
                raise RuntimeError(f"status {answer.status}: {answer.body[:300]!r}")

    await asyncio.gather(*(client(connection, count // CLIENTS) for connection in connections))
    for connection in connections:
        await connection.close()


async def memory_rows(rig: Rig) -> list[Row]:
    """Call first, on a freshly started server that has served one request of each kind."""
    rest = rig.proxy.peak_kb()
    await _serve_many(rig, WARM)
    warm = rig.proxy.rss_kb()
    await _serve_many(rig, REQUESTS - WARM)
    after, peak, growth = rig.proxy.rss_kb(), rig.proxy.peak_kb(), _mb(rig.proxy.rss_kb() - warm)
    before_image = rig.proxy.reset_peak_kb()
    connection = await rig.proxy_connection()
    answer = await connection.exchange(rig.to_proxy(image_body()))
    await connection.close()
    image = _mb(rig.proxy.peak_kb() - before_image)
    answered = answer.status == 200
    return [
        Row(
            "(6) peak RSS at rest (1 request of each kind served)",
            f"{_mb(rest):.1f} MB",
            f"<= {REST_TARGET_MB} MB",
            _mb(rest) <= REST_TARGET_MB,
        ),
        Row(
            f"(6) peak RSS after {REQUESTS:,} requests",
            f"{_mb(peak):.1f} MB (RSS {_mb(after):.1f})",
            f"<= {REST_TARGET_MB} MB",
            _mb(peak) <= REST_TARGET_MB,
        ),
        Row(
            f"(6) RSS growth, request {WARM} to {REQUESTS:,}",
            f"{growth:+.1f} MB",
            f"< {GROWTH_TARGET_MB} MB",
            growth < GROWTH_TARGET_MB,
        ),
        Row(
            "(6) 5 MB image (base64), not streamed: peak above RSS before",
            f"{image:.1f} MB, answered {answered}",
            f"< {IMAGE_TARGET_MB} MB",
            image < IMAGE_TARGET_MB and answered,
        ),
    ]
