"""The real proxy in a process of its own, so that its memory figures are its own.

Run in-process, the proxy would share its peak RSS with the benchmark's client threads and
the fake Nexus (which decodes and validates every body it receives). In a child process we
can read the proxy's peak alone, and reset it between measurements.

Peak RSS is the kernel's high-water mark of the process's memory (``VmHWM``). That is what
``getrusage(RUSAGE_SELF).ru_maxrss`` reports too, except in a freshly exec'ed child: there
ru_maxrss starts at the peak of the parent that spawned it (Linux carries the pre-exec
high-water mark over), which would hide the proxy's own growth.

The child speaks a line protocol on stdin/stdout: it prints ``ready <url> <peak kB>`` once
serving, then answers ``peak`` with its peak in kB, and ``reset`` by resetting the peak to
the current RSS and printing it. End of input stops the server.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path

import uvicorn

from entrypoints.app import build_app
from entrypoints.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
KEY = "nxk-bench-secret"


def peak_rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def reset_peak_rss() -> None:
    with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
        clear_refs.write("5")  # 5: reset the peak RSS to the current RSS


def _listening_socket() -> socket.socket:
    # Say IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, as
    # uvicorn.run(host=..., port=...) makes them. With proto 0 (tests/support/servers.py)
    # a response written in two parts waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def serve(endpoint: str) -> None:
    """The child's main: the proxy as ``build_app`` makes it, on a free loopback port."""
    app = build_app(Settings(api_key=KEY, endpoint_url=endpoint, read_timeout=30.0))
    before = peak_rss_kb()
    sock = _listening_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    print(f"ready http://127.0.0.1:{sock.getsockname()[1]} {before}", flush=True)
    for line in sys.stdin:
        if line.strip() == "reset":
            reset_peak_rss()
        print(peak_rss_kb(), flush=True)
    server.should_exit = True
    thread.join(timeout=10)


class ProxyProcess:
    """The parent's handle on the child. Use as a context manager.

    Attributes:
        url: the proxy's base URL.
        start_kb: the child's peak RSS after imports and ``build_app``, before serving.
    """

    def __init__(self, endpoint: str) -> None:
        command = [sys.executable, "-m", "bench.proxy_process", endpoint]
        self._child = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        word, self.url, start = (self._readline().split() + ["", "", ""])[:3]
        if word != "ready":
            self.close()
            raise RuntimeError("the proxy process did not start; see its stderr above")
        self.start_kb = int(start)

    def _readline(self) -> str:
        assert self._child.stdout is not None
        return self._child.stdout.readline()

    def _ask(self, command: str) -> int:
        assert self._child.stdin is not None
        self._child.stdin.write(command + "\n")
        self._child.stdin.flush()
        answer = self._readline()
        if not answer.strip().isdigit():
            raise RuntimeError(f"the proxy process answered {answer!r} to {command!r}; see its stderr above")
        return int(answer)

    def peak_kb(self) -> int:
        return self._ask("peak")

    def reset_peak_kb(self) -> int:
        """Reset the child's peak to its current RSS; returns that RSS."""
        return self._ask("reset")

    def close(self) -> None:
        if self._child.stdin is not None:
            self._child.stdin.close()
        try:
            self._child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait()

    def __enter__(self) -> ProxyProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


if __name__ == "__main__":
    serve(sys.argv[1])
