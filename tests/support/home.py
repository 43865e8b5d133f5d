"""A temporary HOME for a command run in process, with none of the user's keys or config."""

from __future__ import annotations

from pathlib import Path

import pytest

# Every variable a command reads the key, the endpoint or Claude Code's config from.
USER_VARS = (
    "NEXUS_API_KEY",
    "AWS_BEARER_TOKEN_BEDROCK",
    "NEXUS_ENDPOINT_URL",
    "ANTHROPIC_API_KEY",
    "CLAUDE_CONFIG_DIR",
)


def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, cwd: Path) -> Path:
    """``tmp_path/home`` as HOME (and ``Path.home()``), ``cwd`` as the working directory."""
    home = tmp_path / "home"
    home.mkdir()
    cwd.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(Path, "home", staticmethod(lambda: home))
    monkeypatch.chdir(cwd)
    for var in USER_VARS:
        monkeypatch.delenv(var, raising=False)
    return home
