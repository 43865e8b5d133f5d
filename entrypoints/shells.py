"""The launch command written for the user's shell: POSIX sh (bash, zsh), fish, PowerShell, cmd.

Pure functions: the caller passes the environment and the platform. Each shell gets values
quoted by its own rules, so a model id such as ``my;model$(x)`` arrives byte for byte.
"""

from __future__ import annotations

import ntpath
import posixpath
import shlex
from collections.abc import Callable, Mapping, Sequence

from domain.errors import ConfigError

POSIX, FISH, POWERSHELL, CMD = "posix", "fish", "powershell", "cmd"
# What --shell accepts: the names people type, each to the syntax it speaks.
SHELL_NAMES = {
    "posix": POSIX,
    "sh": POSIX,
    "bash": POSIX,
    "zsh": POSIX,
    "fish": FISH,
    "powershell": POWERSHELL,
    "pwsh": POWERSHELL,
    "cmd": CMD,
}
_PLAIN = "-_.,:/=@+"
# PowerShell reads these as single quotes too; each is doubled like ' itself.
_PS_QUOTES = "'\u2018\u2019\u201a\u201b"
# cmd has no escape for these inside "set "NAME=value"": % and ! expand, " ends the value.
_CMD_UNSAFE = set('%!"\r\n')


def shell_named(name: str) -> str:
    """The syntax ``--shell NAME`` asks for.

    Raises:
        ConfigError: a shell this module cannot write for.
    """
    shell = SHELL_NAMES.get(name.strip().lower())
    if shell is None:
        raise ConfigError(f"--shell must be one of {', '.join(SHELL_NAMES)}, got {name!r}")
    return shell


def detect_shell(environ: Mapping[str, str], *, windows: bool) -> str:
    """The shell the user most likely types into, from the environment.

    On Windows: ``SHELL`` means Git Bash, MSYS or Cygwin; PowerShell puts the user's own
    modules folder on ``PSModulePath`` (cmd inherits only the system ones); else cmd.
    Elsewhere: ``SHELL`` names the login shell.
    """
    login = environ.get("SHELL", "")
    name = (ntpath if windows else posixpath).basename(login).lower().removesuffix(".exe")
    if windows and not login:
        return POWERSHELL if _powershell_modules(environ) else CMD
    return {"fish": FISH, "pwsh": POWERSHELL, "powershell": POWERSHELL}.get(name, POSIX)


def _powershell_modules(environ: Mapping[str, str]) -> bool:
    profile = environ.get("USERPROFILE", "").lower()
    paths = [path.lower() for path in environ.get("PSModulePath", "").split(";") if path]
    return any(path.startswith(profile) for path in paths) if profile else len(paths) > 2


def launch_command(env: Mapping[str, str], args: Sequence[str], shell: str, program: str = "claude") -> str:
    """``program args`` run with ``env``, written for ``shell`` (one of the constants here).

    Raises:
        ConfigError: a value cmd cannot carry (``%``, ``!``, ``"``, a line break).
    """
    if shell == POSIX:
        words = [*(f"{name}={shlex.quote(value)}" for name, value in env.items()), program, *map(shlex.quote, args)]
        return " ".join(words)
    if shell == FISH:
        # `env` rather than `set -x`: the variables reach Claude Code only, not the session.
        words = ["env", *(f"{name}={_plain_or(fish_quote, value)}" for name, value in env.items())]
        return " ".join([*words, program, *(_plain_or(fish_quote, arg) for arg in args)])
    if shell == POWERSHELL:
        sets = [f"$env:{name} = {powershell_quote(value)}" for name, value in env.items()]
        return "; ".join([*sets, " ".join([program, *(_plain_or(powershell_quote, arg) for arg in args)])])
    if shell == CMD:
        sets = [f'set "{name}={cmd_value(name, value)}"' for name, value in env.items()]
        # The arguments are ours (CLAUDE_ARGS), plain words that need no quoting.
        return "\n".join([*sets, " ".join([program, *args])])
    raise ValueError(f"unknown shell {shell!r}")


def _plain_or(quote: Callable[[str], str], word: str) -> str:
    # Words of letters, digits and URL punctuation read the same unquoted in every shell here.
    return word if word and all(c.isascii() and (c.isalnum() or c in _PLAIN) for c in word) else quote(word)


def fish_quote(value: str) -> str:
    """``value`` in fish single quotes, where only ``\\`` and ``'`` are escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def powershell_quote(value: str) -> str:
    """``value`` in PowerShell single quotes: no expansion, each quote character doubled."""
    return "'" + "".join(c * 2 if c in _PS_QUOTES else c for c in value) + "'"


def cmd_value(name: str, value: str) -> str:
    """``value`` as cmd takes it inside ``set "NAME=..."``, where ``&|<>^`` are plain text.

    Raises:
        ConfigError: ``value`` holds a character cmd cannot carry there.
    """
    unsafe = sorted(_CMD_UNSAFE & set(value))
    if unsafe:
        shown = ", ".join(repr(c) for c in unsafe)
        raise ConfigError(f"{name} holds {shown}, which cmd cannot pass on; use --shell powershell")
    return value
