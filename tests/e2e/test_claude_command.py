"""`nexus-claude-api claude ARGS` with the real Claude Code CLI and the fake AI Nexus.

The command runs as the user runs it, in its own process: it starts the proxy, runs `claude`
(the one from `npm ci` in tests/, first on PATH) and exits with its status. Print mode is
checked by its JSON result; an interactive session by a pseudo-terminal that types a prompt
and `/exit`.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from entrypoints import launch
from entrypoints.settings import Settings
from tests.support.claude_code import ProxyTap, claude_env, require_claude
from tests.support.fake_nexus import FakeNexus
from tests.support.proxy import KEY, proxy_app

pytestmark = pytest.mark.claude_code

MAIN = "from entrypoints.cli import main; main()"
ANSWER = "Hello from fake Nexus"
# Cursor moves, colours, title and mode switches, so the screen reads as text.
_ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")
_TIMEOUT = 60


@pytest.fixture
def user(tmp_path: Path, fake_nexus: FakeNexus) -> dict[str, str]:
    """The environment of a user whose key and endpoint come from the environment, with
    Claude Code installed, onboarded, and trusting the working directory."""
    claude = require_claude()
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    state = {"hasCompletedOnboarding": True, "theme": "dark", "projects": {str(work): {"hasTrustDialogAccepted": True}}}
    (home / ".claude.json").write_text(json.dumps(state))
    isolation = claude_env("claude", home)  # no variables of the developer's, nothing to the internet
    return {
        **isolation,
        "PATH": f"{claude.parent}{os.pathsep}{isolation['PATH']}",
        "NEXUS_ENDPOINT_URL": fake_nexus.url,
        "NEXUS_API_KEY": KEY,
        "TERM": "xterm-256color",
        "WORK": str(work),
    }


def command(user: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", MAIN, "claude", *args],
        env=user,
        cwd=user["WORK"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        check=False,
    )


def upstream_text(fake_nexus: FakeNexus) -> str:
    """Every request body that reached the fake Nexus, as JSON text."""
    return "\n".join(json.dumps(r.body) for r in fake_nexus.requests)


def test_print_mode_end_to_end(user, fake_nexus):
    done = command(user, "-p", "Say hello", "--output-format", "json")

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["result"] == ANSWER and result["is_error"] is False
    assert done.stderr == ""
    streamed = [r for r in fake_nexus.requests if r.operation == "converse-stream"]
    assert streamed and all(r.header("Authorization") == f"Bearer {KEY}" for r in streamed)
    assert all(r.model_id == "claude-opus-4.6" for r in fake_nexus.requests)
    # The command starts Claude Code with launch.CLAUDE_ARGS: the model is offered no
    # WebSearch (the next test shows that without them it is, all the way to Nexus).
    assert "WebSearch" not in upstream_text(fake_nexus)


def test_claude_codes_exit_status_is_the_commands(user):
    direct = subprocess.run(
        ["claude", "--no-such-option"], env=user, capture_output=True, text=True, timeout=_TIMEOUT, check=False
    )

    done = command(user, "--no-such-option")

    assert direct.returncode != 0
    assert done.returncode == direct.returncode
    assert done.stderr == direct.stderr


def test_websearch_is_never_offered_to_the_model(tmp_path, fake_nexus, mount: Callable[..., str]):
    """Claude Code run without ``launch.CLAUDE_ARGS`` lists WebSearch among its deferred
    tools, and the proxy passes that on to Nexus; so the print mode test above, whose
    ``claude`` adds them, proves they keep it from the model."""
    claude = require_claude()
    tap = ProxyTap(proxy_app(fake_nexus.url))
    url = mount(tap)
    settings = Settings(api_key="unused", port=int(url.rsplit(":", 1)[1]))
    env = claude_env(launch.claude_code_command(settings), tmp_path)

    done = subprocess.run(
        [str(claude), "-p", "Say hello"], env=env, cwd=tmp_path, capture_output=True, timeout=_TIMEOUT
    )

    assert done.returncode == 0, done.stderr
    first = next(e.request for e in tap.exchanges if e.path == "/v1/messages" and b'"tools"' in e.request)
    assert b"WebSearch" in first
    assert "WebSearch" in upstream_text(fake_nexus)


def _squashed(screen: bytes) -> bytes:
    return re.sub(rb"\s+", b"", _ANSI.sub(b"", screen))


class Terminal:
    """The pseudo-terminal the command runs in: read until the screen shows something."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.screen = b""

    def wait_for(self, text: str, seconds: float = 20) -> None:
        """Read until ``text`` shows; spaces do not count (Claude Code draws them as cursor moves)."""
        deadline = time.monotonic() + seconds
        wanted = _squashed(text.encode())
        while wanted not in _squashed(self.screen):
            left = deadline - time.monotonic()
            assert left > 0, f"no {text!r} on screen:\n{self.text()[-2000:]}"
            if select.select([self.fd], [], [], left)[0]:
                self.screen += self._read()

    def text(self) -> str:
        return _ANSI.sub(b"", self.screen).decode(errors="replace")

    def drain(self, seconds: float) -> None:
        """Read to the end, when the child has closed the terminal."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0 and select.select([self.fd], [], [], left)[0]:
            chunk = self._read()
            if not chunk:
                return
            self.screen += chunk
        raise AssertionError(f"the session did not end:\n{self.text()[-2000:]}")

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def _read(self) -> bytes:
        try:
            return os.read(self.fd, 65536)
        except OSError:  # EIO: the other side is closed
            return b""


def test_an_interactive_session_in_a_terminal(user, fake_nexus):
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command, as typed at a prompt
        os.chdir(user["WORK"])
        os.execve(sys.executable, [sys.executable, "-c", MAIN, "claude"], user)
    terminal = Terminal(fd)
    try:
        terminal.wait_for("Opus 4.6")  # the banner names the model
        terminal.type("Say hello")
        terminal.wait_for("Say hello")
        terminal.type("\r")
        terminal.wait_for(ANSWER)
        terminal.type("/exit")
        terminal.wait_for("/exit")
        terminal.type("\r")
        terminal.drain(seconds=20)
    except BaseException:
        os.kill(pid, signal.SIGKILL)  # the child started here; it must not outlive a failure
        raise
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)

    assert os.waitstatus_to_exitcode(status) == 0
    prompts = [r for r in fake_nexus.requests if r.operation == "converse-stream" and "Say hello" in json.dumps(r.body)]
    assert prompts
