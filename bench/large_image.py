"""The memory one large request costs the server: its peak RSS above the RSS before, vs its size.

A pasted screenshot travels as base64 and exists in several forms on its way through: the
raw body, its text, the parsed JSON, the decoded bytes, the Converse JSON and the outgoing
body. How many of those are alive at once decides the peak. Two requests of ~24 MB (the
body, as base64), each sent not streamed to ``nexus-claude-api start`` in front of the bench
fake, the peak reset (``clear_refs``) just before each:

- ``forwarded``: seven images of 3.4 MiB (each within Bedrock's 3.75 MiB), all sent on;
- ``stubbed``: one 18 MiB image in an earlier turn, which Bedrock could not take: the proxy
  replaces it with a text stub and sends the rest.

    uv run python bench/large_image.py            # both, 24 MB each
    uv run python bench/large_image.py --mb 30    # bodies of 30 MB (the limit is 32 MiB)
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import struct
import sys
import time
import zlib
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: find bench/

from bench.processes import FakeProcess, ServerProcess  # noqa: E402
from bench.table import Row, ms, render  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MIB = 1024 * 1024
IMAGES = 7
TARGET_RATIO = 3.0


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(size: int, seed: int) -> bytes:
    """A PNG of ``size`` bytes, 1600 x 1200 px, whose pixel data is random (like a photo)."""
    header = PNG_SIGNATURE + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1600, 1200, 8, 2, 0, 0, 0))
    end = _png_chunk(b"IEND", b"")
    return header + _png_chunk(b"IDAT", random.Random(seed).randbytes(size - len(header) - len(end) - 12)) + end


def _image(size: int, seed: int) -> dict[str, object]:
    data = base64.b64encode(png(size, seed)).decode("ascii")
    return {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}


def bodies(body_mb: float) -> dict[str, bytes]:
    """The two requests, as the bytes sent: base64 makes 3 bytes of image 4 of body."""
    image_bytes = int(body_mb * MIB * 3 / 4)
    forwarded = [*(_image(image_bytes // IMAGES, i) for i in range(IMAGES)), {"type": "text", "text": "Compare."}]
    stubbed = [
        {"role": "user", "content": [_image(image_bytes, 1), {"type": "text", "text": "What is it?"}]},
        {"role": "assistant", "content": "A very large photo."},
        {"role": "user", "content": "Thanks. What did I ask before?"},
    ]
    base = {"model": "claude-opus-4.6", "max_tokens": 256}
    return {
        "forwarded": json.dumps({**base, "messages": [{"role": "user", "content": forwarded}]}).encode(),
        "stubbed": json.dumps({**base, "messages": stubbed}).encode(),
    }


def image_rows(body_mb: float = 24.0) -> list[Row]:
    """Peak RSS growth of the server for each large request, against 3x the body's size."""
    rows = []
    fake = FakeProcess()
    try:
        server = ServerProcess(f"http://127.0.0.1:{fake.port}")
        try:
            for name, body in bodies(body_mb).items():
                before = server.reset_peak_kb()
                start = time.perf_counter()
                answer = requests.post(
                    f"http://127.0.0.1:{server.port}/v1/messages",
                    data=body,
                    headers={"content-type": "application/json"},
                    timeout=120,
                )
                elapsed = time.perf_counter() - start
                growth = (server.peak_kb() - before) * 1024
                ratio = growth / len(body)
                rows.append(
                    Row(
                        f"{len(body) / MIB:.0f} MB body, {name}: peak RSS growth (x body)",
                        f"{growth / MIB:.1f} MB ({ratio:.2f}x), {answer.status_code}, {ms(elapsed)}",
                        f"< {TARGET_RATIO:g}x, 200",
                        ratio < TARGET_RATIO and answer.status_code == 200,
                    )
                )
        finally:
            server.close()
    finally:
        fake.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=24.0, help="size of each request body in MiB (default 24)")
    args = parser.parse_args()
    rows = image_rows(args.mb)
    print(render(rows))
    return 0 if all(row.passed for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
