"""The launch command in each shell's syntax: run by the real shells where installed, golden
strings for PowerShell and cmd, and the shell guessed from the environment."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from domain.errors import ConfigError
from entrypoints import launch, shells
from entrypoints.settings import Settings

# Values each shell would mangle if quoted wrongly: expansions, quotes, globs, separators.
AWKWARD = {
    "PLAIN": "claude-opus-4.6",
    "SPACES": "Opus 4.6 via AI Nexus",
    "DOLLAR": "my;model$(x) $HOME `id` ${PATH}",
    "QUOTES": "it's \"quoted\" \\ back\\slash \\'",
    "GLOB": "*.py ~ ?[ab] {a,b} #not-a-comment",
    "PERCENT": "%PATH% 100% !bang!",
    "UNICODE": "Ünïcødé ‘curly’ “double”",
    "EMPTY": "",
    "NEWLINE": "two\nlines",
}
ARGS = ("--disallowedTools=WebSearch", "-p", "a prompt; with $(stuff)")
# A stand-in `claude` that reports what it was started with.
RECORDER = """#!{python}
import json, os, sys
names = {names!r}
json.dump({{"argv": sys.argv[1:], "env": {{n: os.environ.get(n) for n in names}}}}, open({out!r}, "w"))
"""


@pytest.fixture
def recorder(tmp_path: Path) -> tuple[Path, Path]:
    """A directory holding a fake `claude`, and the file it writes."""
    bin_dir, out = tmp_path / "bin", tmp_path / "seen.json"
    bin_dir.mkdir()
    script = bin_dir / "claude"
    script.write_text(RECORDER.format(python=sys.executable, names=list(AWKWARD), out=str(out)))
    script.chmod(0o755)
    return bin_dir, out


def run_in(shell_argv: list[str], command: str, bin_dir: Path, tmp_path: Path) -> None:
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    done = subprocess.run([*shell_argv, command], env=env, capture_output=True, text=True, timeout=20, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("program", "shell"),
    [("bash", shells.POSIX), ("sh", shells.POSIX), ("zsh", shells.POSIX), ("fish", shells.FISH)],
)
def test_each_shell_hands_claude_every_value_byte_for_byte(program, shell, recorder, tmp_path):
    path = shutil.which(program)
    if path is None:
        pytest.skip(f"{program} is not installed")
    bin_dir, out = recorder

    run_in([path, "-c"], shells.launch_command(AWKWARD, ARGS, shell), bin_dir, tmp_path)

    seen = json.loads(out.read_text())
    assert seen["argv"] == list(ARGS)
    assert seen["env"] == AWKWARD


def test_the_printed_posix_command_runs_claude_with_the_launch_environment(recorder, tmp_path):
    bin_dir, out = recorder
    settings = Settings(api_key="k", port=5123, model="my;model$(x)")
    names = list(launch.claude_code_env(settings))
    (bin_dir / "claude").write_text(RECORDER.format(python=sys.executable, names=names, out=str(out)))

    run_in(["bash", "-c"], launch.shell_command(settings, shells.POSIX), bin_dir, tmp_path)

    seen = json.loads(out.read_text())
    assert seen["env"] == launch.claude_code_env(settings)
    assert seen["argv"] == list(launch.CLAUDE_ARGS)


def test_powershell_golden():
    env = {"A": "http://127.0.0.1:4141", "B": "it's ‘curly’ $HOME `n", "C": ""}

    command = shells.launch_command(env, ("--disallowedTools=WebSearch", "two words"), shells.POWERSHELL)

    assert command == (
        "$env:A = 'http://127.0.0.1:4141'; $env:B = 'it''s ‘‘curly’’ $HOME `n'; $env:C = ''; "
        "claude --disallowedTools=WebSearch 'two words'"
    )


def test_cmd_golden():
    env = {"A": "http://127.0.0.1:4141", "B": "Opus 4.6 via AI Nexus", "C": "a&b|c<d>e^f"}

    command = shells.launch_command(env, ("--disallowedTools=WebSearch",), shells.CMD)

    assert command.splitlines() == [
        'set "A=http://127.0.0.1:4141"',
        'set "B=Opus 4.6 via AI Nexus"',
        'set "C=a&b|c<d>e^f"',
        "claude --disallowedTools=WebSearch",
    ]


@pytest.mark.parametrize("value", ["100%", "!x!", 'say "hi"', "two\nlines"])
def test_cmd_refuses_what_it_cannot_carry(value):
    with pytest.raises(ConfigError, match="cmd cannot pass on; use --shell powershell"):
        shells.launch_command({"ANTHROPIC_MODEL": value}, (), shells.CMD)


@pytest.mark.parametrize(
    ("environ", "windows", "expected"),
    [
        ({"SHELL": "/bin/bash"}, False, shells.POSIX),
        ({"SHELL": "/usr/bin/zsh"}, False, shells.POSIX),
        ({"SHELL": "/usr/local/bin/fish"}, False, shells.FISH),
        ({"SHELL": "/usr/bin/pwsh"}, False, shells.POWERSHELL),
        ({}, False, shells.POSIX),
        # Git Bash sets SHELL on Windows.
        ({"SHELL": "C:\\Program Files\\Git\\usr\\bin\\bash.exe", "PSModulePath": "x;y;z"}, True, shells.POSIX),
        (
            {
                "USERPROFILE": "C:\\Users\\ana",
                "PSModulePath": "C:\\Users\\ana\\Documents\\WindowsPowerShell\\Modules;C:\\Program Files\\"
                "WindowsPowerShell\\Modules;C:\\Windows\\system32\\WindowsPowerShell\\v1.0\\Modules",
            },
            True,
            shells.POWERSHELL,
        ),
        (
            {
                "USERPROFILE": "C:\\Users\\ana",
                "PSModulePath": "C:\\Program Files\\WindowsPowerShell\\Modules;"
                "C:\\Windows\\system32\\WindowsPowerShell\\v1.0\\Modules",
                "COMSPEC": "C:\\Windows\\system32\\cmd.exe",
            },
            True,
            shells.CMD,
        ),
        ({"COMSPEC": "C:\\Windows\\system32\\cmd.exe"}, True, shells.CMD),
    ],
)
def test_the_shell_is_read_from_the_environment(environ, windows, expected):
    assert shells.detect_shell(environ, windows=windows) == expected


@pytest.mark.parametrize(("name", "expected"), [("bash", "posix"), ("ZSH", "posix"), ("pwsh", "powershell")])
def test_shell_names(name, expected):
    assert shells.shell_named(name) == expected
