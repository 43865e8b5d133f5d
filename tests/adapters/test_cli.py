"""The command line, run in-process through Fire with a temporary HOME and cwd.

`serve` is replaced by a recorder, so nothing listens and nothing calls Nexus.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import re
import shlex
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import fire
import pytest
from fire.decorators import GetParseFns

from domain.rules.betas import DEFAULT_BETA_ALLOWLIST
from entrypoints import argv, cli
from entrypoints.cli import Cli
from entrypoints.config import redact_key
from entrypoints.logs import configure_logging
from entrypoints.settings import Settings
from tests.support.home import isolated_home

KEY_VARS = ("NEXUS_API_KEY", "AWS_BEARER_TOKEN_BEDROCK", "NEXUS_ENDPOINT_URL")
LITERAL_KEYS = ["1e5", "0123", "a,b", "True", "None", "[1]", "{'a':1}", "0x1F", "-1"]
SECRET = "nxk-s3cr3t-value-abcd"


def run(*args: str) -> None:
    """Fire on the command object alone, as `main` runs it once argv has been read."""
    fire.Fire(Cli(), command=list(args), name="nexus-claude-api")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolated_home(tmp_path, monkeypatch, cwd=tmp_path / "work")


@pytest.fixture
def served(monkeypatch) -> list[Settings]:
    calls: list[Settings] = []
    monkeypatch.setattr(cli, "serve", calls.append)
    return calls


def user_config(home: Path) -> Path:
    return home / ".config" / "nexus-claude-api" / "config.json"


def write_config(path: Path, **values) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- key lookup ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "in_file", "nexus_env", "aws_env", "expected"),
    [
        ("from-flag", "from-file", "from-nexus", "from-aws", "from-flag"),
        (None, "from-file", "from-nexus", "from-aws", "from-file"),
        (None, None, "from-nexus", "from-aws", "from-nexus"),
        (None, None, None, "from-aws", "from-aws"),
    ],
)
def test_key_lookup_order(home, served, monkeypatch, flag, in_file, nexus_env, aws_env, expected):
    if in_file:
        write_config(user_config(home), api_key=in_file)
    if nexus_env:
        monkeypatch.setenv("NEXUS_API_KEY", nexus_env)
    if aws_env:
        monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", aws_env)

    run("start", *(["--api-key", flag] if flag else []))

    assert served[0].api_key == expected


def test_start_never_saves_the_key(home, served):
    run("start", "--api-key", SECRET)

    assert not user_config(home).exists()
    assert served[0].api_key == SECRET


@pytest.mark.parametrize("key", LITERAL_KEYS)
def test_config_set_stores_literal_looking_keys_byte_exact(home, key):
    run("config", "set", f"--api-key={key}")

    assert json.loads(user_config(home).read_text())["api_key"] == key


@pytest.mark.parametrize("key", [k for k in LITERAL_KEYS if not k.startswith("-")])
def test_config_set_with_a_separate_value_keeps_literal_keys(home, key):
    run("config", "set", "--api-key", key)

    assert json.loads(user_config(home).read_text())["api_key"] == key


@pytest.mark.parametrize("key", LITERAL_KEYS)
def test_start_passes_literal_looking_keys_byte_exact(home, served, key):
    run("start", f"--api-key={key}")

    assert served[0].api_key == key


def test_missing_key_exits_with_one_clear_message(home, served, capsys):
    with pytest.raises(SystemExit) as exited:
        run("start")

    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "nexus-claude-api config set --api-key" in err
    assert "export NEXUS_API_KEY=" in err
    assert "Traceback" not in err
    assert served == []


def test_missing_key_in_dev_mode_suggests_the_dev_file(home, served, capsys):
    write_config(user_config(home), api_key="user-key")  # --dev must not fall back to it

    with pytest.raises(SystemExit):
        run("start", "--dev")

    assert "config set --dev --api-key" in capsys.readouterr().err


def test_empty_environment_values_count_as_unset(home, served, monkeypatch):
    monkeypatch.setenv("NEXUS_API_KEY", "")
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "aws-key")

    run("start")

    assert served[0].api_key == "aws-key"


# --- other settings --------------------------------------------------------------


def test_defaults(home, served):
    run("start", "--api-key", "k")

    settings = served[0]
    assert (settings.host, settings.port) == ("127.0.0.1", 4141)
    assert settings.endpoint_url == "https://genai-nexus.api.corpinter.net"
    assert (settings.model, settings.small_model) == ("claude-opus-4.6", "claude-opus-4.6")
    assert settings.verbose is False


@pytest.mark.parametrize("args", [["--port", "5001"], ["-p", "5001"], ["--port=5001"]])
def test_port_is_an_int(home, served, args):
    run("start", "--api-key", "k", *args)

    assert served[0].port == 5001 and isinstance(served[0].port, int)


@pytest.mark.parametrize("port", ["abc", "0", "70000", "1.5"])
def test_a_bad_port_is_a_config_error(home, served, capsys, port):
    with pytest.raises(SystemExit) as exited:
        run("start", "--api-key", "k", f"--port={port}")

    assert exited.value.code == 2
    assert "--port must be a whole number" in capsys.readouterr().err


def test_endpoint_precedence_flag_then_file_then_env(home, served, monkeypatch):
    monkeypatch.setenv("NEXUS_ENDPOINT_URL", "https://env.example")
    run("start", "--api-key", "k")
    write_config(user_config(home), endpoint_url="https://file.example/")
    run("start", "--api-key", "k")
    run("start", "--api-key", "k", "--endpoint-url", "https://flag.example")

    assert [s.endpoint_url for s in served] == [
        "https://env.example",
        "https://file.example",
        "https://flag.example",
    ]


def test_a_bad_endpoint_is_a_config_error(home, served, capsys):
    with pytest.raises(SystemExit):
        run("start", "--api-key", "k", "--endpoint-url", "genai-nexus.example")

    assert "endpoint_url from flag --endpoint-url must be an http(s) URL" in (capsys.readouterr().err)


def test_advanced_file_keys_pass_through(home, served):
    write_config(
        user_config(home),
        api_key="k",
        upstream_model_ids={"claude-opus-4.6": "eu.anthropic.claude-opus-4-6"},
        extra_betas=["new-beta-2026-01-01"],
        connect_timeout=3,
        read_timeout=120.5,
    )

    run("start")

    settings = served[0]
    assert settings.upstream_model_ids == {"claude-opus-4.6": "eu.anthropic.claude-opus-4-6"}
    assert settings.beta_allowlist == (*DEFAULT_BETA_ALLOWLIST, "new-beta-2026-01-01")
    assert (settings.connect_timeout, settings.read_timeout) == (3.0, 120.5)


def test_a_beta_allowlist_replaces_the_default(home, served):
    write_config(user_config(home), api_key="k", beta_allowlist=["only-this"])

    run("start")

    assert served[0].beta_allowlist == ("only-this",)


def test_unknown_file_keys_are_ignored_with_a_warning(home, served, caplog):
    write_config(user_config(home), api_key="k", colour="blue")

    run("start")

    assert served[0].api_key == "k"
    assert "ignoring unknown key 'colour'" in caplog.text


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"api_key": 123}, "api_key"),
        ({"api_key": "k", "read_timeout": "slow"}, "read_timeout"),
        ({"api_key": "k", "beta_allowlist": "a,b"}, "beta_allowlist"),
        ({"api_key": "k", "upstream_model_ids": {"x": 1}}, "upstream_model_ids"),
    ],
)
def test_wrong_types_name_the_key_and_the_file(home, served, capsys, values, key):
    write_config(user_config(home), **values)

    with pytest.raises(SystemExit) as exited:
        run("start")

    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert f"{key} in config file {user_config(home)}" in err
    assert "Traceback" not in err


def test_invalid_json_is_a_clean_error(home, served, capsys):
    user_config(home).parent.mkdir(parents=True)
    user_config(home).write_text("{oops")

    with pytest.raises(SystemExit):
        run("start")

    assert "is not valid JSON" in capsys.readouterr().err


# --- config set / show / path ----------------------------------------------------


def test_config_set_writes_private_files_and_keeps_other_settings(home, capsys):
    write_config(user_config(home), model="claude-opus-4.6", colour="blue", api_key="old")

    run("config", "set", "--api-key", SECRET)

    assert json.loads(user_config(home).read_text()) == {
        "api_key": SECRET,
        "model": "claude-opus-4.6",
        "colour": "blue",
    }
    assert mode(user_config(home)) == 0o600
    out = capsys.readouterr().out
    assert out == f"saved api_key to {user_config(home)}\n"


def test_config_set_creates_the_directory_0700(home):
    run("config", "set", "--api-key", "k", "--model", "m1", "--small-model", "m2")

    assert mode(user_config(home).parent) == 0o700
    saved = json.loads(user_config(home).read_text())
    assert saved == {"api_key": "k", "model": "m1", "small_model": "m2"}


@pytest.mark.parametrize(
    "argv",
    [
        # `config set --api-key` alone asks for the key: tests/adapters/test_key_prompt.py
        ["config", "set", "--model"],
        ["config", "set", "--endpoint-url", "--dev"],
        ["start", "--api-key"],
        ["start", "-p", "-"],
        ["start", "--port", "-v"],
    ],
)
def test_main_refuses_a_value_option_without_its_value(home, monkeypatch, capsys, argv):
    # Fire would otherwise pass the string "True" and `config set` would save it as the key.
    monkeypatch.setattr(sys, "argv", ["nexus-claude-api", *argv])

    with pytest.raises(SystemExit) as exited:
        cli.main()

    assert exited.value.code == 2
    assert "needs a value" in capsys.readouterr().err
    assert not user_config(home).exists()


def test_main_accepts_a_dash_key_in_equals_form(home, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["nexus-claude-api", "config", "set", "--api-key=-xyz"])

    cli.main()

    assert json.loads(user_config(home).read_text())["api_key"] == "-xyz"


@pytest.mark.parametrize("args", [[], ["--api-key", "has space"], ["--endpoint-url", "nope"]])
def test_config_set_rejects_nothing_or_bad_values(home, capsys, args):
    with pytest.raises(SystemExit) as exited:
        run("config", "set", *args)

    assert exited.value.code == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert not user_config(home).exists()


def test_dev_mode_uses_the_working_directory(home, served, tmp_path):
    run("config", "set", "--dev", "--api-key", "dev-key")
    run("start", "--dev")

    work = tmp_path / "work"
    assert json.loads((work / "nexus-claude-api.local.json").read_text()) == {"api_key": "dev-key"}
    assert served[0].api_key == "dev-key"
    assert (work / "logs" / "nexus-claude-api.log").exists()
    assert not (home / ".config").exists()


def test_default_mode_logs_under_the_user_config(home, served):
    run("start", "--api-key", "k")

    log = home / ".config" / "nexus-claude-api" / "logs" / "nexus-claude-api.log"
    assert log.exists()
    assert mode(log.parent) == 0o700


def test_config_path(home, tmp_path, capsys):
    run("config", "path")
    run("config", "path", "--dev")

    assert capsys.readouterr().out.splitlines() == [
        str(user_config(home)),
        str(tmp_path / "work" / "nexus-claude-api.local.json"),
    ]


def test_config_show_redacts_the_key_and_names_sources(home, capsys, monkeypatch):
    write_config(user_config(home), api_key=SECRET, model="claude-opus-4.6")
    monkeypatch.setenv("NEXUS_ENDPOINT_URL", "https://env.example")

    run("config", "show")

    out = capsys.readouterr().out
    assert SECRET not in out and "s3cr3t" not in out
    assert f"api_key:      nxk-…abcd (config file {user_config(home)})" in out
    assert "endpoint_url: https://env.example (env NEXUS_ENDPOINT_URL)" in out
    assert f"model:        claude-opus-4.6 (config file {user_config(home)})" in out
    assert "small_model:  claude-opus-4.6 (default)" in out


def test_config_show_without_a_key_says_how_to_set_one(home, capsys):
    run("config", "show")

    assert "api_key:      not set; no AI Nexus API key found" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("key", "shown"),
    [("nxk-0123456789abcd", "nxk-…abcd"), ("0123456789abcdef", "…cdef"), ("1e5", "****")],
)
def test_redact_key_shows_at_most_the_last_four(key, shown):
    assert redact_key(key) == shown


# --- what start prints -----------------------------------------------------------


def test_dry_run_validates_and_prints_without_serving_or_the_key(home, served, capsys):
    write_config(user_config(home), api_key=SECRET)

    run("start", "--dry-run", "--port", "5002")

    out = capsys.readouterr().out
    assert served == []
    assert SECRET not in out and "abcd" not in out
    assert "listen on:   http://127.0.0.1:5002" in out
    assert "upstream:    genai-nexus.api.corpinter.net" in out
    assert f"API key:     from config file {user_config(home)}" in out
    assert "nexus-claude-api.log" in out


def test_dry_run_still_fails_without_a_key(home, served):
    with pytest.raises(SystemExit) as exited:
        run("start", "--dry-run")

    assert exited.value.code == 2


LAUNCH_TAIL = " claude --disallowedTools=WebSearch"


def printed_command(out: str) -> tuple[dict[str, str], list[str]]:
    """The variables and the claude words of the POSIX launch line ``start --claude-code`` printed."""
    command = next(line for line in out.splitlines() if line.endswith(LAUNCH_TAIL))
    words = shlex.split(command)
    at = words.index("claude")
    return dict(word.split("=", 1) for word in words[:at]), words[at:]


def test_claude_code_prints_every_variable_and_never_the_key(home, served, capsys, monkeypatch):
    monkeypatch.setenv("SHELL", "/bin/bash")
    run("start", "--api-key", SECRET, "-p", "5003", "--claude-code", "--small-model", "small-1")

    out = capsys.readouterr().out
    assert SECRET not in out
    env, claude = printed_command(out)
    assert env == {
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:5003",
        "ANTHROPIC_AUTH_TOKEN": "nexus-claude-api",
        "ANTHROPIC_MODEL": "claude-opus-4.6",
        "ANTHROPIC_DEFAULT_OPUS_MODEL": "claude-opus-4.6",
        "ANTHROPIC_DEFAULT_OPUS_MODEL_NAME": "Opus 4.6 via AI Nexus",
        "ANTHROPIC_DEFAULT_OPUS_MODEL_DESCRIPTION": "opus: claude-opus-4.6 on AI Nexus",
        "ANTHROPIC_DEFAULT_SONNET_MODEL": "claude-opus-4.6",
        "ANTHROPIC_DEFAULT_SONNET_MODEL_NAME": "Opus 4.6 via AI Nexus",
        "ANTHROPIC_DEFAULT_SONNET_MODEL_DESCRIPTION": "sonnet: claude-opus-4.6 on AI Nexus",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": "small-1",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL_NAME": "Small 1 via AI Nexus",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL_DESCRIPTION": "haiku: small-1 on AI Nexus",
        "ANTHROPIC_DEFAULT_FABLE_MODEL": "claude-opus-4.6",
        "ANTHROPIC_DEFAULT_FABLE_MODEL_NAME": "Opus 4.6 via AI Nexus",
        "ANTHROPIC_DEFAULT_FABLE_MODEL_DESCRIPTION": "fable: claude-opus-4.6 on AI Nexus",
        "ANTHROPIC_SMALL_FAST_MODEL": "small-1",
        "CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY": "1",
        # The proxy's read timeout (600 s) and a minute: the proxy's own error comes first.
        "API_TIMEOUT_MS": "660000",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "CLAUDE_CODE_AUTO_MODE_SERVER": "0",
    }
    assert claude == ["claude", "--disallowedTools=WebSearch"]
    assert len(served) == 1


def test_the_claude_code_timeout_follows_the_read_timeout(home, served, capsys, monkeypatch):
    monkeypatch.setenv("SHELL", "/bin/bash")
    write_config(user_config(home), api_key="k", read_timeout=1800)

    run("start", "--claude-code")

    assert printed_command(capsys.readouterr().out)[0]["API_TIMEOUT_MS"] == "1860000"


def test_claude_code_quotes_values_for_the_shell(home, served, capsys, monkeypatch):
    monkeypatch.setenv("SHELL", "/bin/bash")
    run("start", "--api-key", "k", "--claude-code", "--model=my;model$(x)")

    lines = capsys.readouterr().out.splitlines()
    command = next(line for line in lines if line.endswith(LAUNCH_TAIL))
    assert "ANTHROPIC_MODEL='my;model$(x)'" in command
    assert printed_command("\n".join(lines))[0]["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "my;model$(x)"


@pytest.mark.parametrize(
    ("shell_env", "flag", "expected"),
    [
        ({"SHELL": "/usr/bin/fish"}, None, "env ANTHROPIC_BASE_URL=http://127.0.0.1:4141 "),
        ({"SHELL": "/usr/bin/zsh"}, None, "ANTHROPIC_BASE_URL=http://127.0.0.1:4141 "),
        ({"SHELL": "/usr/bin/fish"}, "powershell", "$env:ANTHROPIC_BASE_URL = 'http://127.0.0.1:4141'; "),
        ({"SHELL": "/bin/bash"}, "cmd", 'set "ANTHROPIC_BASE_URL=http://127.0.0.1:4141"'),
    ],
)
def test_the_launch_command_speaks_the_users_shell(home, served, capsys, monkeypatch, shell_env, flag, expected):
    for name, value in shell_env.items():
        monkeypatch.setenv(name, value)

    run("start", "--api-key", "k", "--claude-code", *([f"--shell={flag}"] if flag else []))

    out = capsys.readouterr().out
    assert any(line.startswith(expected) for line in out.splitlines()), out


def test_an_unknown_shell_is_one_line(home, served, capsys):
    with pytest.raises(SystemExit) as exited:
        run("start", "--api-key", "k", "--claude-code", "--shell", "tcsh")

    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.count("\n") == 1
    assert "--shell must be one of" in err and served == []


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_all_interfaces_warn_and_the_command_uses_loopback(home, served, capsys, host):
    run("start", "--api-key", "k", "--host", host, "--claude-code")

    captured = capsys.readouterr()
    assert served[0].host == host
    assert "ANTHROPIC_BASE_URL=http://127.0.0.1:4141" in captured.out
    assert "must carry its access token" in captured.err


def test_loopback_does_not_warn(home, served, capsys, monkeypatch):
    monkeypatch.setenv("NEXUS_API_KEY", "k")  # a key flag would warn (tests/adapters/test_key_prompt.py)
    run("start")

    captured = capsys.readouterr()
    assert captured.err == ""
    assert "listening on http://127.0.0.1:4141" in captured.out
    assert "--claude-code" in captured.out  # the hint


def test_a_host_flag_without_a_value_is_an_error(home, served, capsys):
    with pytest.raises(SystemExit):
        run("start", "--api-key", "k", "--host")

    assert "host from flag --host needs a value" in capsys.readouterr().err


def test_main_shows_help_listing_the_commands(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["nexus-claude-api", "-h"])

    with pytest.raises(SystemExit) as exited:
        cli.main()

    assert exited.value.code == 0
    captured = capsys.readouterr()
    assert "start" in captured.out + captured.err
    assert "config" in captured.out + captured.err


def help_of(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as exited:
        cli.main(list(args))
    captured = capsys.readouterr()
    assert exited.value.code == 0
    assert captured.err == ""
    return captured.out


def test_no_arguments_print_the_top_level_help(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["nexus-claude-api"])

    with pytest.raises(SystemExit) as exited:
        cli.main()

    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: nexus-claude-api COMMAND [options]\n")
    for command in ("start", "config set", "config show", "config path", "--version"):
        assert f"  {command} " in out
    assert out == help_of(capsys, "--help") == help_of(capsys, "-h")


def test_version_comes_from_the_package_metadata(capsys):
    assert help_of(capsys, "--version") == f"nexus-claude-api {importlib.metadata.version('nexus-claude-api')}\n"


def test_start_help_spells_options_with_hyphens_and_shows_no_fire_internals(capsys):
    out = help_of(capsys, "start", "--help")

    assert out.startswith("usage: nexus-claude-api start [options]\n\nStart the proxy")
    for option in ("--api-key KEY", "--endpoint-url URL", "--small-model MODEL", "--claude-code", "--dry-run"):
        assert f"  {option} " in out
    assert "  -p, --port PORT " in out and "  -v, --verbose " in out
    assert "https://genai-nexus.api.corpinter.net" in out  # a URL is never broken across lines
    for noise in ("FIRE_METADATA", "Optional", "str | None", "Type:", "Default:", "_key", "INFO:"):
        assert noise not in out


@pytest.mark.parametrize("page", [[], ["config"], ["start"], ["config", "set"], ["config", "show"], ["config", "path"]])
def test_no_help_page_shows_fire_internals(capsys, page):
    out = help_of(capsys, *page, "--help")

    assert out.startswith(f"usage: {' '.join(['nexus-claude-api', *page])} ")
    assert "  -h, --help " in out
    for noise in ("FIRE_METADATA", "Optional", "Type:", "Default:", "INFO:"):
        assert noise not in out
    assert not re.search(r"--[a-z]+_", out)


def test_dash_h_on_start_is_help_and_host_has_no_short_flag(home, served, capsys):
    out = help_of(capsys, "start", "-h")

    assert out == help_of(capsys, "start", "--help")
    assert "      --host HOST " in out and "-h, --host" not in out
    assert served == []


def test_a_group_without_a_command_prints_its_help(capsys):
    out = help_of(capsys, "config")

    assert out.startswith("usage: nexus-claude-api config COMMAND [options]\n")
    assert out == help_of(capsys, "config", "-h")
    assert "--version" not in out  # the version is the top level's


@pytest.mark.parametrize(
    ("argv", "refused"),
    [
        (["start", "-a", SECRET], "unknown option -a"),
        (["start", "--api-key", SECRET, "-e", "https://x.example"], "unknown option -e"),
        (["config", "set", "-a", SECRET], "unknown option -a"),
        (["config", "set", "-s", "m", "--api-key", SECRET], "unknown option -s"),
        (["start", "--api-key", SECRET, "-c"], "unknown option -c"),
        (["strat", "--api-key", SECRET], "unknown command 'strat'"),
        (["--api-key", SECRET, "start"], "unknown option --api-key"),
        (["config", "--version"], "unknown option --version"),
    ],
)
def test_short_flags_fire_would_invent_and_unknown_commands_are_refused(home, served, capsys, argv, refused):
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)

    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.startswith(f"error: {refused}; see `nexus-claude-api")
    assert SECRET not in err
    assert served == [] and not user_config(home).exists()


def test_every_value_option_is_pinned_to_str() -> None:
    # The argv reader calls an option a value option when its default is not a bool;
    # Fire must then hand it over as typed (@argv.verbatim), never as a Python literal.
    def every_command(group: object) -> list[Callable[..., object]]:
        found: list[Callable[..., object]] = []
        for target in argv.commands(group).values():
            found += [target] if callable(target) else every_command(target)
        return found

    for command in every_command(Cli()):
        value_options = {option.name for option in argv.command_options(command) if option.takes_value}
        assert value_options <= set(GetParseFns(command)["named"]), command.__name__


@pytest.mark.parametrize("port", [["-p=5051"], ["--port=5051"], ["--port", "5051"], ["-p", "5051"]])
def test_main_hands_fire_the_long_form(home, served, port):
    cli.main(["start", "--api-key", "k", *port, "-v", "--dev=no"])

    assert (served[0].port, served[0].verbose) == (5051, True)
    assert not (Path.cwd() / "logs").exists()  # --dev=no stayed off


# --- logging ---------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--verbose", "-v"])
def test_verbose_sets_debug(home, served, flag):
    run("start", "--api-key", "k", flag)

    assert served[0].verbose is True
    assert logging.getLogger("nexus_claude_api.http").getEffectiveLevel() == logging.DEBUG


def test_default_level_is_info(home, served):
    run("start", "--api-key", "k")

    assert logging.getLogger("nexus_claude_api").getEffectiveLevel() == logging.INFO
    assert logging.getLogger("uvicorn.access").getEffectiveLevel() > logging.INFO


def test_logs_never_hold_the_key_or_authorization_headers(home, monkeypatch):
    def serve_and_log(settings: Settings) -> None:
        log = logging.getLogger("nexus_claude_api.test")
        headers = {"Authorization": f"Bearer {settings.api_key}", "x-api-key": "other-secret"}
        log.debug("sending %s", headers)
        log.info("raw header Authorization: Bearer tok-123 and key %s", settings.api_key)
        log.warning("proxy-authorization=basic dXNlcjpwYXNz")
        try:
            raise RuntimeError(f"upstream said no to {settings.api_key}")
        except RuntimeError:
            log.exception("call failed")
        logging.getLogger("uvicorn.error").info("uvicorn saw %s", settings.api_key)

    monkeypatch.setattr(cli, "serve", serve_and_log)
    run("start", "--api-key", SECRET, "-v")

    text = (home / ".config/nexus-claude-api/logs/nexus-claude-api.log").read_text()
    for leaked in (SECRET, "s3cr3t", "other-secret", "tok-123", "dXNlcjpwYXNz"):
        assert leaked not in text
    assert "sending" in text and "call failed" in text and "uvicorn saw" in text
    assert "Authorization': 'Bearer ****'" in text
    assert "RuntimeError: upstream said no to ****" in text


def test_redaction_also_covers_the_console(tmp_path, capsys):
    configure_logging(tmp_path / "logs" / "x.log", verbose=False, secrets=["sekrit-1"])

    logging.getLogger("nexus_claude_api.t").warning("key=%s %s", "sekrit-1", "Bearer abc.def")

    err = capsys.readouterr().err
    assert "key=**** Bearer ****" in err
    assert "sekrit-1" not in err and "abc.def" not in err
    assert stat.S_IMODE((tmp_path / "logs").stat().st_mode) == 0o700


def test_configure_logging_twice_keeps_one_set_of_handlers(tmp_path):
    configure_logging(tmp_path / "a.log", verbose=False)
    configure_logging(tmp_path / "b.log", verbose=True)

    ours = [h for h in logging.getLogger().handlers if (h.get_name() or "").startswith("nexus")]
    assert len(ours) == 2


# --- the real console script -----------------------------------------------------


def test_the_installed_command_fails_cleanly_without_a_key(tmp_path):
    script = Path(sys.executable).parent / "nexus-claude-api"
    if not script.exists():
        pytest.skip("console script not installed; run `uv sync`")
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARS}
    env["HOME"] = str(tmp_path)

    done = subprocess.run([str(script), "start"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=20)

    assert done.returncode == 2
    assert "error: no AI Nexus API key found" in done.stderr
    assert "export NEXUS_API_KEY=" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["config", "set", "--api-key", "sk-TYPO-SECRET-123456", "--bogus"],
        ["start", "--api-key", "sk-TYPO-SECRET-123456", "--prot", "5", "--dry-run"],
        ["start", "--api-key", "sk-TYPO-SECRET-123456", "stray", "--dry-run"],
    ],
)
def test_a_typo_is_refused_before_anything_runs_and_never_echoes_the_key(home, served, capsys, monkeypatch, argv):
    monkeypatch.setattr(sys, "argv", ["nexus-claude-api", *argv])
    with pytest.raises(SystemExit) as caught:
        cli.main()
    assert caught.value.code == 2
    out = capsys.readouterr()
    assert "sk-TYPO-SECRET-123456" not in out.out + out.err
    assert "error:" in out.err
    assert served == [] and not (home / ".config" / "nexus-claude-api" / "config.json").exists()


def test_short_flags_still_work_through_main(home, served, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["nexus-claude-api", "start", "-p", "5050", "-v", "--api-key", "k"])
    cli.main()
    assert served[0].port == 5050 and served[0].verbose


@pytest.mark.parametrize("key", ["nxk\u2013abc123", "nxk abc", "nxk\u00a0abc"])
def test_keys_that_cannot_travel_in_a_header_are_refused_at_start(home, served, capsys, key):
    with pytest.raises(SystemExit) as caught:
        run("start", "--api-key", key)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "api_key" in err and key not in err
    assert served == []
