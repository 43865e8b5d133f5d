"""No key on a command line: `config set --api-key` asks for it; `start --api-key` warns."""

from __future__ import annotations

import getpass
import io
import json
import sys

import pytest

from entrypoints import cli
from tests.adapters.test_cli import home, run, served, user_config  # noqa: F401

KEY = "nxk-from-the-prompt-0123456789"


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def main(monkeypatch: pytest.MonkeyPatch, *argv: str) -> None:
    monkeypatch.setattr(sys, "argv", ["nexus-claude-api", *argv])
    cli.main()


def saved_key(home) -> str:  # noqa: F811
    key: str = json.loads(user_config(home).read_text())["api_key"]
    return key


@pytest.mark.parametrize(
    "argv",
    [["config", "set", "--api-key"], ["config", "set", "--api-key", "-"], ["config", "set", "--api-key=-"]],
)
def test_a_bare_api_key_is_read_from_a_hidden_prompt_at_a_terminal(home, monkeypatch, capsys, argv):  # noqa: F811
    asked: list[str] = []
    monkeypatch.setattr(sys, "stdin", FakeTty())

    def prompt_for(prompt: str) -> str:
        asked.append(prompt)
        return KEY

    monkeypatch.setattr(getpass, "getpass", prompt_for)

    main(monkeypatch, *argv)

    assert saved_key(home) == KEY
    assert asked and "hidden" in asked[0]
    assert KEY not in capsys.readouterr().out


@pytest.mark.parametrize("text", [f"{KEY}\n", f"{KEY}\r\n", KEY, f"{KEY}\nnot-the-key\n"])
def test_without_a_terminal_one_line_of_stdin_is_the_key(home, monkeypatch, text):  # noqa: F811
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))

    main(monkeypatch, "config", "set", "--api-key", "--dev")

    stored = json.loads((user_config(home).parents[3] / "work" / "nexus-claude-api.local.json").read_text())
    assert stored["api_key"] == KEY


def test_other_options_may_follow_a_bare_api_key(home, monkeypatch):  # noqa: F811
    monkeypatch.setattr(sys, "stdin", io.StringIO(KEY + "\n"))
    main(monkeypatch, "config", "set", "--api-key", "--model", "claude-opus-4.6")
    assert saved_key(home) == KEY
    assert json.loads(user_config(home).read_text())["model"] == "claude-opus-4.6"


@pytest.mark.parametrize("stdin", [io.StringIO(""), io.StringIO("\n")])
def test_an_empty_answer_saves_nothing(home, monkeypatch, capsys, stdin):  # noqa: F811
    monkeypatch.setattr(sys, "stdin", stdin)
    with pytest.raises(SystemExit) as exited:
        main(monkeypatch, "config", "set", "--api-key")
    assert exited.value.code == 2
    assert "no API key given" in capsys.readouterr().err
    assert not user_config(home).exists()


def test_an_unknown_dash_word_after_a_bare_api_key_is_still_refused(home, monkeypatch, capsys):  # noqa: F811
    with pytest.raises(SystemExit) as exited:
        main(monkeypatch, "config", "set", "--api-key", "-xyz")
    assert exited.value.code == 2
    assert "unknown option -xyz" in capsys.readouterr().err
    assert not user_config(home).exists()


def test_the_help_shows_the_value_as_optional(capsys):
    with pytest.raises(SystemExit):
        cli.main(["config", "set", "--help"])
    assert "--api-key [KEY]" in capsys.readouterr().out


def test_start_api_key_works_but_warns_that_others_can_read_it(home, served, capsys):  # noqa: F811
    run("start", "--api-key", KEY)

    assert served[0].api_key == KEY
    err = capsys.readouterr().err
    assert "other local users" in err and "config set --api-key" in err
    assert KEY not in err


def test_a_key_from_the_file_or_environment_does_not_warn(home, served, capsys, monkeypatch):  # noqa: F811
    monkeypatch.setenv("NEXUS_API_KEY", KEY)
    run("start")
    assert capsys.readouterr().err == ""
