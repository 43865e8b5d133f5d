"""Where the server spends 5,000-delta streams: py-spy sampling the server process.

py-spy is not a dependency; run the benchmark with ``uv run --with py-spy``. The raw output
(one line per distinct stack, with its sample count) is kept in a temporary file and its top
frames printed: by own time (the innermost frame of each sample) and by total time. Only
samples holding the GIL count (``--gil``): idle pool workers would fill the profile otherwise.
"""

from __future__ import annotations

import collections
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from bench.rig import Rig, stream_prompt

# Seconds of back-to-back streams (~20 ms each now): py-spy takes a moment to attach, and
# three streams gave it a few dozen samples.
SECONDS = 3.0
TOP = 15
# Frames every sample passes through (threads, the loop, Fire, uvicorn's run): not informative by total.
PLUMBING = (
    "threading.py",
    "concurrent/futures/",
    "asyncio/",
    "fire/",
    "uvicorn/main.py",
    "uvicorn/server.py",
    "uvicorn/_compat.py",
    "selectors.py",
    "nexus-claude-api:",
    "entrypoints/cli.py",
)


def _top(counts: collections.Counter[str], total: int) -> list[str]:
    return [f"  {count / total:6.1%}  {frame}" for frame, count in counts.most_common(TOP)]


def summarise(raw: str) -> list[str]:
    """The top frames of py-spy's raw (collapsed) output, by own and by total samples."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        samples += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            if not any(part in frame for part in PLUMBING):
                total[frame] += int(count)
    if not samples:
        return ["  no samples"]
    return [f"{samples} samples; by own time:", *_top(own, samples), "by total time:", *_top(total, samples)]


async def profile_stream(rig: Rig) -> None:
    """Record the server while it forwards 5,000-delta streams for ``SECONDS``; print the top."""
    spy = shutil.which("py-spy")
    if spy is None:
        print("--profile needs py-spy: uv run --with py-spy python bench/run.py --profile")
        return
    output = Path(tempfile.mkdtemp(prefix="nexus-bench-prof-")) / "profile.txt"
    command = [
        spy,
        "record",
        "--pid",
        str(rig.proxy.pid),
        "--format",
        "raw",
        "--output",
        str(output),
        "--rate",
        "500",
        "--gil",
        # Not stopping the server for each sample: stopped, its streams slowed fivefold.
        "--nonblocking",
    ]
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    request = rig.to_proxy(stream_prompt(5000))
    connection = await rig.proxy_connection()
    streams, end = 0, time.perf_counter() + SECONDS
    while time.perf_counter() < end:
        await connection.exchange(request)
        streams += 1
    await connection.close()
    recorder.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
    recorder.wait(timeout=30)
    print(f"\npy-spy, server process, {streams} x 5,000-delta streams in {SECONDS:g} s ({output}):")
    print("\n".join(summarise(output.read_text() if output.exists() else "")))
