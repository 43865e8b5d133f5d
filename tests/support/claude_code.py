"""The real Claude Code CLI, as `tests/package.json` pins it, run headless against a local proxy.

`npm ci` in `tests/` installs it; the native binary comes inside the npm packages (the
postinstall copies it from the platform package over a stub), so nothing downloads at run
time. Each run gets a fresh environment built from scratch: no ANTHROPIC_* variable, proxy or
config directory of the developer's leaks in, and everything that would reach the internet
(updates, telemetry, error reports, feature flags, plugin marketplace) is off.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest

NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"
# The npm package ships a 500-byte shell stub; the real binary is hundreds of megabytes.
_STUB_MAX_BYTES = 1024 * 1024
MODEL = "claude-opus-4.6"
AUTH_TOKEN = "nexus-claude-api"


def find_claude() -> Path | None:
    """The native `claude` binary, or None when `npm ci` has not run in `tests/`.

    `.bin/claude` is the stub while the postinstall has not replaced it (scripts disabled);
    the platform package's own copy works then.
    """
    candidates = [NODE_MODULES / ".bin" / "claude", *sorted(NODE_MODULES.glob("@anthropic-ai/claude-code-*/claude"))]
    for path in candidates:
        if path.is_file() and path.stat().st_size > _STUB_MAX_BYTES and os.access(path, os.X_OK):
            return path
    return None


def require_claude() -> Path:
    """The binary; skips the test when it is missing, but fails it under `CI=true`."""
    path = find_claude()
    if path is not None:
        return path
    message = f"Claude Code CLI not installed under {NODE_MODULES}: run `npm ci` in tests/"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message)
    pytest.skip(message)


def claude_env(launch_command: str, home: Path) -> dict[str, str]:
    """The whole environment for one run: the variables of the command ``start --claude-code``
    prints, plus isolation. Only PATH is inherited."""
    words = shlex.split(launch_command)
    assert words[-1] == "claude", launch_command
    printed = dict(word.split("=", 1) for word in words[:-1])
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        # Root may use --dangerously-skip-permissions only inside a declared sandbox.
        "IS_SANDBOX": "1",
        **printed,
        # Belt and braces: each of these also stops one kind of outbound call on its own.
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL": "1",
    }


@attrs.frozen(kw_only=True)
class ClaudeRun:
    """One finished `claude -p` run."""

    returncode: int
    stdout: str
    stderr: str

    def result(self) -> dict[str, Any]:
        """The `--output-format json` result object (the last JSON line of stdout)."""
        lines = [line for line in self.stdout.splitlines() if line.startswith("{")]
        assert lines, f"no JSON result from claude (rc={self.returncode}):\n{self.stdout}\n{self.stderr}"
        result: dict[str, Any] = json.loads(lines[-1])
        return result

    def describe(self) -> str:
        return f"rc={self.returncode}\nstdout:\n{self.stdout[-4000:]}\nstderr:\n{self.stderr[-4000:]}"


def run_claude(
    binary: Path,
    prompt: str,
    *,
    env: Mapping[str, str],
    cwd: Path,
    timeout: float = 120,
) -> ClaudeRun:
    """Run `claude -p PROMPT --output-format json` non-interactively, tools allowed."""
    completed = subprocess.run(
        [str(binary), "-p", prompt, "--output-format", "json", "--dangerously-skip-permissions"],
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return ClaudeRun(returncode=completed.returncode, stdout=completed.stdout, stderr=completed.stderr)


def run_claude_args(
    binary: Path,
    args: list[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    input: str | None = None,
    timeout: float = 120,
) -> ClaudeRun:
    """Run `claude ARGS` as given (no flags added); ``input`` goes to stdin, else stdin is empty.

    For what `run_claude` fixes: `--input-format stream-json`, `--permission-mode auto`, ...
    """
    completed = subprocess.run(
        [str(binary), *args],
        env=dict(env),
        cwd=cwd,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return ClaudeRun(returncode=completed.returncode, stdout=completed.stdout, stderr=completed.stderr)


def stream_json_input(*contents: str | list[dict[str, Any]]) -> str:
    """Stdin for `--input-format stream-json`: one user message a line, each taken in turn."""
    lines = (json.dumps({"type": "user", "message": {"role": "user", "content": c}}) for c in contents)
    return "".join(line + "\n" for line in lines)


@attrs.define
class Exchange:
    """One HTTP exchange between Claude Code and the proxy, as the tap saw it."""

    path: str
    request: bytes = b""
    status: int = 0
    response: bytes = b""

    def json(self) -> Any:
        """The request body, parsed."""
        return json.loads(self.request or b"null")


class ProxyTap:
    """An ASGI app in front of the proxy that keeps every request and response it passes on,
    so a test sees what Claude Code sent and what the proxy answered it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.exchanges: list[Exchange] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = Exchange(path=scope["path"])
        self.exchanges.append(exchange)

        async def tapped_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                exchange.request += message.get("body", b"")
            return message

        async def tapped_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
            elif message["type"] == "http.response.body":
                exchange.response += message.get("body", b"")
            await send(message)

        await self.app(scope, tapped_receive, tapped_send)
