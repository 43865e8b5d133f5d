"""`nexus-claude-api settings [--write]`: the launch environment as Claude Code's settings.json."""

from __future__ import annotations

import json
import stat
from datetime import datetime
from pathlib import Path

import fire
import pytest

from entrypoints import claude_settings, launch
from entrypoints.cli import Cli
from entrypoints.settings import Settings
from tests.support.home import isolated_home

NOW = datetime(2026, 5, 1, 12, 30, 5)


def run(*args: str) -> None:
    fire.Fire(Cli(), command=list(args), name="nexus-claude-api")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolated_home(tmp_path, monkeypatch, cwd=tmp_path)


def test_settings_prints_the_launch_environment_as_settings_json(home, capsys):
    run("settings", "--port", "5005")

    printed = json.loads(capsys.readouterr().out)
    assert printed == {
        "env": launch.claude_code_env(Settings(api_key="unused", port=5005)),
        "permissions": {"deny": ["WebSearch"]},
    }
    assert printed["env"]["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:5005"
    assert "DISABLE_NON_ESSENTIAL_MODEL_CALLS" not in printed["env"]


def test_settings_needs_no_key(home, capsys):
    run("settings")  # the key is start's; no error without one

    assert json.loads(capsys.readouterr().out)["env"]["ANTHROPIC_AUTH_TOKEN"] == "nexus-claude-api"


def test_a_wide_bind_carries_the_access_token_start_uses(home, capsys):
    run("settings", "--host", "0.0.0.0")
    token = json.loads(capsys.readouterr().out)["env"]["ANTHROPIC_AUTH_TOKEN"]

    saved = json.loads((home / ".config" / "nexus-claude-api" / "config.json").read_text())
    assert token == saved["access_token"] and len(token) > 20


def test_write_merges_and_leaves_every_other_setting(home, capsys):
    path = home / ".claude" / "settings.json"
    path.parent.mkdir()
    before = {
        "model": "opus",
        "env": {"MY_VAR": "kept", "ANTHROPIC_MODEL": "old"},
        "permissions": {"allow": ["Bash(ls)"], "deny": ["Read(./.env)", "WebSearch"]},
        "hooks": {"Stop": []},
    }
    path.write_text(json.dumps(before, indent=4))
    path.chmod(0o640)
    original = path.read_bytes()

    run("settings", "--write")

    after = json.loads(path.read_text())
    env = launch.claude_code_env(Settings(api_key="unused"))
    assert after == {
        "model": "opus",
        "env": {"MY_VAR": "kept", **env},
        "permissions": {"allow": ["Bash(ls)"], "deny": ["Read(./.env)", "WebSearch"]},
        "hooks": {"Stop": []},
    }
    backups = list(path.parent.glob("settings.json.bak-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == original
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert str(backups[0]) in capsys.readouterr().out


def test_write_creates_a_private_file_without_a_backup(home, capsys):
    run("settings", "--write")

    path = home / ".claude" / "settings.json"
    assert json.loads(path.read_text())["permissions"] == {"deny": ["WebSearch"]}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(path.parent.glob("*.bak-*")) == []


def test_write_goes_to_claude_config_dir(home, tmp_path, monkeypatch):
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "elsewhere"))

    run("settings", "--write")

    assert (tmp_path / "elsewhere" / "settings.json").exists()
    assert not (home / ".claude").exists()


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"env": []}', '{"permissions": {"deny": "WebSearch"}}'])
def test_a_file_it_cannot_merge_is_left_alone(home, capsys, text):
    path = home / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(text)

    with pytest.raises(SystemExit) as exited:
        run("settings", "--write")

    assert exited.value.code == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert path.read_text() == text
    assert list(path.parent.glob("*.bak-*")) == []


def test_two_writes_in_one_second_keep_both_backups(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text('{"first": true}')

    first = claude_settings.merge_into(path, {"A": "1"}, NOW)
    second = claude_settings.merge_into(path, {"A": "2"}, NOW)

    assert first is not None and second is not None and first != second
    assert json.loads(first.read_text()) == {"first": True}
    assert json.loads(second.read_text())["env"] == {"A": "1"}
    assert first.name == "settings.json.bak-20260501-123005"
