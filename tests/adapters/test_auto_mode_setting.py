"""Turning the proxy's auto-mode check on and off: flag, config file, launch, what start says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from entrypoints import launch
from entrypoints.claude_command import proxy_flags
from entrypoints.settings import Settings
from tests.adapters.test_cli import home, printed_command, run, served, user_config, write_config  # noqa: F401
from tests.adapters.test_launch_claude import run_main, stand_in  # noqa: F401


def test_off_by_default_and_claude_code_then_runs_its_own_check(home, served, capsys, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SHELL", "/bin/bash")
    run("start", "--api-key", "k", "--claude-code")
    [settings] = served
    assert settings.auto_mode_check is False
    out = capsys.readouterr().out
    assert printed_command(out)[0]["CLAUDE_CODE_AUTO_MODE_SERVER"] == "0"
    assert "answered by this proxy" not in out


def test_the_start_flag_turns_it_on_and_leaves_the_check_to_the_proxy(home, served, capsys, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SHELL", "/bin/bash")
    run("start", "--api-key", "k", "--claude-code", "--auto-mode-check")
    [settings] = served
    assert settings.auto_mode_check is True
    out = capsys.readouterr().out
    assert "CLAUDE_CODE_AUTO_MODE_SERVER" not in printed_command(out)[0]
    assert "its safety check is answered by this proxy with the Nexus model" in out
    assert "weaker than Anthropic's own check" in out


def test_the_config_file_turns_it_on_with_its_timeout(home, served, capsys):  # noqa: F811
    write_config(user_config(home), api_key="k", auto_mode_check=True, auto_mode_check_timeout=12.5)
    run("start", "--dry-run")
    out = capsys.readouterr().out
    assert f"safety check answered by this proxy with the Nexus model (from config file {user_config(home)})" in out
    run("start")
    [settings] = served
    assert settings.auto_mode_check is True and settings.auto_mode_check_timeout == 12.5


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"auto_mode_check": "yes"}, "auto_mode_check in config file"),
        ({"auto_mode_check_timeout": 0}, "auto_mode_check_timeout in config file"),
        ({"auto_mode_check_timeout": 500}, "at most 120"),
    ],
)
def test_a_bad_value_in_the_file_is_one_clear_line(home, served, capsys, values, words):  # noqa: F811
    write_config(user_config(home), api_key="k", **values)
    with pytest.raises(SystemExit) as exited:
        run("start")
    assert exited.value.code == 2 and served == []
    assert words in capsys.readouterr().err


def test_the_launch_environment_follows_the_setting() -> None:
    assert launch.claude_code_env(Settings(api_key="k"))["CLAUDE_CODE_AUTO_MODE_SERVER"] == "0"
    assert "CLAUDE_CODE_AUTO_MODE_SERVER" not in launch.claude_code_env(Settings(api_key="k", auto_mode_check=True))


def test_only_a_leading_flag_of_the_claude_command_is_the_proxys() -> None:
    assert proxy_flags(["--auto-mode-check", "-p", "hi"]) == ({"auto_mode_check": True}, ["-p", "hi"])
    assert proxy_flags(["-p", "--auto-mode-check"]) == ({}, ["-p", "--auto-mode-check"])


def test_claude_with_the_flag_runs_claude_code_against_a_proxy_that_answers_the_check(
    home: Path,  # noqa: F811
    stand_in: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEXUS_API_KEY", "nxk-secret")
    assert run_main("claude", "--auto-mode-check", "-p", "hi") == 0
    seen = json.loads(stand_in.read_text())
    assert seen["argv"] == [*launch.CLAUDE_ARGS, "-p", "hi"]
    assert "CLAUDE_CODE_AUTO_MODE_SERVER" not in seen["env"]
    log = home / ".config" / "nexus-claude-api" / "logs" / "nexus-claude-api.log"
    assert "its safety check is answered by this proxy" in log.read_text()


def test_start_help_gives_each_option_its_whole_description(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main("start", "--help") == 0
    page = " ".join(capsys.readouterr().out.split())
    assert "the config file's auto_mode_check turns it on for good." in page
    assert "from SHELL or PSModulePath)." in page  # a colon in a description used to cut it short


def test_the_checks_deadline_must_come_before_the_streams_idle_limit(home, served, capsys):  # noqa: F811
    write_config(user_config(home), api_key="k", auto_mode_check=True, auto_mode_check_timeout=60, stream_idle_limit=60)
    with pytest.raises(SystemExit) as exited:
        run("start")
    assert exited.value.code == 2 and served == []
    assert "auto_mode_check_timeout (60 s) must be below stream_idle_limit (60 s)" in capsys.readouterr().err
