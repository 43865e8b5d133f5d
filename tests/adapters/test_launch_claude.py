"""`nexus-claude-api claude ARGS` with a stand-in `claude` on PATH: the proxy is up while it
runs and gone after, the arguments arrive untouched, its exit status is ours, and nothing of
ours is written over its terminal. (tests/e2e/test_claude_command.py runs the real CLI.)"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest

from entrypoints import cli, launch
from entrypoints.claude_command import INSTALL_HINT
from entrypoints.settings import Settings
from tests.support.home import isolated_home

# Reports its argv, its environment and what the proxy answered, then exits as told.
STAND_IN = """#!{python}
import json, os, sys, urllib.request
base = os.environ["ANTHROPIC_BASE_URL"]
health = json.load(urllib.request.urlopen(base + "/health", timeout=5))
models = json.load(urllib.request.urlopen(base + "/v1/models", timeout=5))
json.dump({{"argv": sys.argv[1:], "env": dict(os.environ), "health": health, "models": models}}, open({out!r}, "w"))
sys.exit(int(os.environ.get("STAND_IN_EXIT", "0")))
"""
ARGS = ["-p", "fix the tests", "--output-format", "json", "--model=x", "--dev", "--help", "--", "-v", "a b; $(c)"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolated_home(tmp_path, monkeypatch, cwd=tmp_path)


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `claude` first on PATH; returns the file it reports to."""
    bin_dir, out = tmp_path / "bin", tmp_path / "seen.json"
    bin_dir.mkdir()
    script = bin_dir / "claude"
    script.write_text(STAND_IN.format(python=sys.executable, out=str(out)))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return out


def run_main(*args: str) -> int | str | None:
    with pytest.raises(SystemExit) as exited:
        cli.main(list(args))
    return exited.value.code


def test_claude_runs_against_the_proxy_with_its_arguments_untouched(home, stand_in, monkeypatch, capfd):
    monkeypatch.setenv("NEXUS_API_KEY", "nxk-secret")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-other-tool")
    monkeypatch.setenv("STAND_IN_EXIT", "7")

    status = run_main("claude", *ARGS)

    seen = json.loads(stand_in.read_text())
    assert status == 7
    assert seen["argv"] == [*launch.CLAUDE_ARGS, *ARGS]
    assert seen["health"]["status"] == "healthy"
    assert [model["id"] for model in seen["models"]["data"]] == ["claude-opus-4.6"]
    base_url = seen["env"]["ANTHROPIC_BASE_URL"]
    port = int(base_url.rsplit(":", 1)[1])
    expected = launch.claude_code_env(Settings(api_key="unused", port=port))
    assert {name: seen["env"][name] for name in expected} == expected
    # The Nexus key stays with the proxy: Claude Code's Bash tool would pass it to every command.
    assert "NEXUS_API_KEY" not in seen["env"] and "nxk-secret" not in json.dumps(seen["env"])
    assert "ANTHROPIC_API_KEY" not in seen["env"]
    # Stopped once Claude Code exited: nothing listens there any more.
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    # The terminal was Claude Code's alone; the proxy wrote to its log file.
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""
    log = home / ".config" / "nexus-claude-api" / "logs" / "nexus-claude-api.log"
    assert "Claude Code exited with status 7" in log.read_text()


def test_without_claude_on_path_one_line_says_how_to_install_it(home, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("NEXUS_API_KEY", "k")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    status = run_main("claude", "-p", "hi")

    captured = capfd.readouterr()
    assert status == 127
    assert captured.err == INSTALL_HINT + "\n" and captured.out == ""
    assert "npm install -g @anthropic-ai/claude-code" in captured.err


def test_without_a_key_claude_never_starts(home, stand_in, capfd):
    status = run_main("claude", "-p", "hi")

    err = capfd.readouterr().err
    assert status == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert "config set --api-key" in err
    assert not stand_in.exists()


def test_help_lists_the_claude_command(capsys):
    assert run_main("--help") == 0

    assert "claude       Run Claude Code through AI Nexus" in capsys.readouterr().out
