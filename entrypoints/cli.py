"""The command line: ``nexus-claude-api start`` and ``nexus-claude-api config ...``.

Fire parses values as Python literals (``--api-key 1e5`` would arrive as a float,
``a,b`` as a tuple), so ``@argv.verbatim`` pins every value option with
``SetParseFn(str, ...)``. Options are keyword-only, so nothing is taken positionally
by surprise. Commands print and return ``None``, so Fire has nothing of its own to
print. ``main`` reads argv against the signatures first (``entrypoints/argv.py``):
help pages, ``--version`` and mistakes are answered there, and Fire runs only what
is well-formed.
"""

from __future__ import annotations

import contextlib
import getpass
import importlib.metadata
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import fire

from adapters.config_store import JsonConfigStore
from domain.errors import ConfigError
from entrypoints import argv, claude_settings, config, launch, preflight, shells
from entrypoints.argv import Prompted, Short
from entrypoints.logs import configure_logging
from entrypoints.server import serve

NAME = "nexus-claude-api"
# What `config set --api-key` receives when the key is to be asked for (argv.Prompted).
PROMPT = "-"
KEY_FLAG_WARNING = (
    "warning: a key given with --api-key can be read by other local users (ps) and stays in "
    f"shell history; store it with `{NAME} config set --api-key` (it asks for it) or export NEXUS_API_KEY"
)
_EXIT_CONFIG_ERROR = 2
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


@contextlib.contextmanager
def _exit_on_config_error() -> Iterator[None]:
    # A configuration problem is the user's to fix: one line, no traceback.
    try:
        yield
    except ConfigError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        raise SystemExit(_EXIT_CONFIG_ERROR) from None


def _as_bool(name: str, value: Any) -> bool:
    # `--dev` arrives as True, but `--dev=no` as the string "no", which is truthy.
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ConfigError(f"--{name.replace('_', '-')} is an on/off flag, got {value!r}")


def _read_key() -> str:
    # A hidden prompt at a terminal; otherwise one line of stdin (`... | config set --api-key`).
    try:
        if sys.stdin.isatty():
            key = getpass.getpass("AI Nexus API key (input hidden): ")
        else:
            key = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    except (EOFError, KeyboardInterrupt):
        key = ""
    if not key:
        raise ConfigError("no API key given; type it at the prompt or pipe it in on stdin")
    return key


def _mode_paths(dev: bool) -> tuple[Path, Path]:
    """The config file and log file of the mode, read from HOME and cwd at call time."""
    home, cwd = Path.home(), Path.cwd()
    return config.config_path(dev, home, cwd), config.log_path(dev, home, cwd)


def _shown(value: Any) -> str:
    if isinstance(value, tuple | list):
        return ", ".join(value)
    return json.dumps(value) if isinstance(value, dict) else str(value)


def _settings_report(dev: bool) -> list[str]:
    config_file, log_file = _mode_paths(dev)
    values, sources = config.resolve_values({}, JsonConfigStore(config_file), os.environ)
    found = "found" if config_file.exists() else "not found"
    lines = [f"config file:  {config_file} ({found})", f"log file:     {log_file}"]
    if "api_key" in values:
        key = config.redact_key(values["api_key"])
        lines.append(f"api_key:      {key} ({sources['api_key']})")
    else:
        lines.append(f"api_key:      not set; {config.missing_key_message(dev)}")
    for name in ("endpoint_url", "model", "small_model", *config.ADVANCED_KEYS):
        if name in sources:
            shown = "<set>" if name == config.TOKEN_KEY else _shown(values[name])
            lines.append(f"{name + ':':<13} {shown} ({sources[name]})")
    return lines


class ConfigCommands:
    """Saved settings: ~/.config/nexus-claude-api/config.json (--dev: ./*.local.json)."""

    @argv.verbatim
    def set(
        self,
        *,
        api_key: Annotated[str | None, Prompted()] = None,
        endpoint_url: str | None = None,
        model: str | None = None,
        small_model: str | None = None,
        dev: bool = False,
    ) -> None:
        """Save settings; the ones not given keep their saved values.

        Args:
            api_key: your AI Nexus API key, stored byte for byte. Give --api-key alone
                (or --api-key -) to type it at a hidden prompt, or to pipe it in on stdin,
                so it stays out of shell history and `ps`.
            endpoint_url: the AI Nexus base URL.
            model: the main model id exposed to Claude Code.
            small_model: the small/fast model id exposed to Claude Code.
            dev: write ./nexus-claude-api.local.json instead of the user config.
        """
        with _exit_on_config_error():
            if api_key == PROMPT:
                api_key = _read_key()
            given = {"api_key": api_key, "endpoint_url": endpoint_url}
            given |= {"model": model, "small_model": small_model}
            updates = {name: value for name, value in given.items() if value is not None}
            if not updates:
                raise ConfigError("nothing to set; give --api-key, --endpoint-url, --model or --small-model")
            config.check_values(updates, {name: f"--{name.replace('_', '-')}" for name in updates})
            dev_mode = _as_bool("dev", dev)
            store = JsonConfigStore(_mode_paths(dev_mode)[0])
            _warn_if_dev_file_tracked(dev_mode, Path(store.path))
            store.save({**store.load(), **updates})
            print(f"saved {', '.join(updates)} to {store.path}")

    def show(self, *, dev: bool = False) -> None:
        """Print the effective settings and where each comes from; the key is redacted.

        Args:
            dev: show the --dev mode (./nexus-claude-api.local.json) instead.
        """
        with _exit_on_config_error():
            print("\n".join(_settings_report(_as_bool("dev", dev))))

    def path(self, *, dev: bool = False) -> None:
        """Print the path of the config file.

        Args:
            dev: print the --dev config file (./nexus-claude-api.local.json) instead.
        """
        with _exit_on_config_error():
            print(_mode_paths(_as_bool("dev", dev))[0])


class Cli:
    """A local Anthropic Messages API for Claude Code, served through AI Nexus."""

    @argv.verbatim
    def start(
        self,
        *,
        host: str | None = None,
        port: Annotated[str | int | None, Short("p")] = None,
        endpoint_url: str | None = None,
        api_key: str | None = None,
        model: str | None = None,
        small_model: str | None = None,
        claude_code: bool = False,
        shell: str | None = None,
        verbose: Annotated[bool, Short("v")] = False,
        dev: bool = False,
        dry_run: bool = False,
        auto_mode_check: bool = False,
    ) -> None:
        """Start the proxy alone (Ctrl-C stops it); `claude` runs Claude Code with it in one go.

        Key lookup: --api-key, the config file, NEXUS_API_KEY, AWS_BEARER_TOKEN_BEDROCK.
        The key is never saved by start; use `config set --api-key` for that.

        Args:
            host: address to listen on (default 127.0.0.1; anything else is reachable
                by other machines, so every request must then carry the proxy's access
                token, generated on first use and printed by --claude-code).
            port: port to listen on (default 4141).
            endpoint_url: AI Nexus base URL (default https://genai-nexus.api.corpinter.net,
                or NEXUS_ENDPOINT_URL).
            api_key: AI Nexus API key for this run only; other local users can read it
                (ps), so prefer `config set --api-key` or NEXUS_API_KEY.
            model: main model id (default claude-opus-4.6).
            small_model: small/fast model id (default claude-opus-4.6).
            claude_code: print the shell command that launches Claude Code against the proxy.
            shell: the shell that command is written for: bash, zsh, fish, powershell or cmd
                (by default the one this terminal runs, from SHELL or PSModulePath).
            verbose: log request summaries at DEBUG (never keys or prompts).
            dev: use ./nexus-claude-api.local.json and ./logs/ instead of ~/.config.
            dry_run: check the configuration, print what start would do, and exit.
            auto_mode_check: answer Claude Code's auto-mode safety check with the Nexus
                model (this proxy's own check, weaker than Anthropic's; one extra Nexus
                call per response with tool calls); the config file's auto_mode_check
                turns it on for good.
        """
        with _exit_on_config_error():
            flags = {"host": host, "port": port, "endpoint_url": endpoint_url}
            flags |= {"api_key": api_key, "model": model, "small_model": small_model}
            flags |= {"verbose": _as_bool("verbose", verbose), "dev": _as_bool("dev", dev)}
            # Off here means "as the config file says", so the file can turn it on for good.
            flags["auto_mode_check"] = _as_bool("auto_mode_check", auto_mode_check) or None
            wanted = _as_bool("claude_code", claude_code)
            _start(flags, shell=_shell(shell) if wanted else None, dry_run=_as_bool("dry_run", dry_run))

    def claude(self) -> None:
        """Run Claude Code through AI Nexus: `claude ARGS`, with the proxy started and stopped around it.

        Every argument after `claude` goes to Claude Code unchanged, e.g.
        `nexus-claude-api claude -p "fix the tests" --output-format json`, except a
        leading `--auto-mode-check`: the proxy then answers auto mode's safety check
        with the Nexus model (see `start --help`).
        The proxy takes a free loopback port and writes to its log file only;
        the exit status is Claude Code's.
        """
        _claude([])

    @argv.verbatim
    def settings(
        self, *, host: str | None = None, port: Annotated[str | int | None, Short("p")] = None, write: bool = False
    ) -> None:
        """Print the settings.json lines that point Claude Code at a running `start`.

        For IDE extensions that start Claude Code themselves: the launch variables
        ("env") and the tools that cannot work through Nexus ("permissions").

        Args:
            host: the address start listens on (default: as start would).
            port: the port start listens on (default: as start would).
            write: merge them into ~/.claude/settings.json (after a backup,
                settings.json.bak-<time>), leaving every other setting as it is.
        """
        with _exit_on_config_error():
            flags = {"host": host, "port": port}
            print(claude_settings.command(flags, _mode_paths(False)[0], _as_bool("write", write), os.environ))

    def doctor(self, *, no_call: bool = False, json: bool = False, dev: bool = False) -> None:
        """Check the setup against AI Nexus, one line per check, each failure with its fix.

        Exit status 0 only when the essential checks pass.

        Args:
            no_call: skip the billed calls (the one-token generations per model and beta).
            json: print the checks as a JSON array, for scripts.
            dev: check the --dev mode (./nexus-claude-api.local.json) instead.
        """
        from entrypoints import doctor  # its network stack is not needed by other commands

        with _exit_on_config_error():
            flags = {"billed": not _as_bool("no_call", no_call), "as_json": _as_bool("json", json)}
            status = doctor.main(**flags, dev=_as_bool("dev", dev))
        if status:
            raise SystemExit(status)

    config = ConfigCommands()  # after `start`: help lists commands in this order


def _warn_if_dev_file_tracked(dev: bool, config_file: Path) -> None:
    warning = config.dev_file_warning(config_file) if dev else None
    if warning:
        print(warning, file=sys.stderr)


def _shell(name: str | None) -> str:
    if name is not None:
        return shells.shell_named(name)
    return shells.detect_shell(os.environ, windows=os.name == "nt")


def _start(flags: dict[str, Any], *, shell: str | None, dry_run: bool) -> None:
    config_file, log_file = _mode_paths(flags["dev"])
    _warn_if_dev_file_tracked(flags["dev"], config_file)
    store = JsonConfigStore(config_file)
    settings, sources = config.resolve_settings(flags, store, os.environ)
    if not dry_run:  # a dry run writes nothing; it says a token will be generated
        settings = config.ensure_access_token(settings, store)
    if sources["api_key"] == "flag --api-key":
        print(KEY_FLAG_WARNING, file=sys.stderr)
    warning = launch.exposure_warning(settings.host)
    if warning:
        print(warning, file=sys.stderr)
    if dry_run:
        print(launch.dry_run_report(settings, sources, config_file, log_file))
        if shell:
            print("\n" + "\n".join(launch.command_block(settings, shell)))
        return
    preflight.check_start(settings.host, settings.port, settings.endpoint_url)  # one line, before any banner
    configure_logging(log_file, settings.verbose, secrets=[settings.api_key, settings.access_token or ""])
    print(launch.start_banner(settings, log_file, shell), flush=True)
    serve(settings)


def _claude(args: Sequence[str]) -> None:
    # Everything after `claude` is Claude Code's: it never reaches argv.read or Fire.
    from entrypoints import claude_command  # the server stack, for this command only

    with _exit_on_config_error():
        status = claude_command.main(args, Path.home(), Path.cwd(), os.environ)
    raise SystemExit(status)


def main(args: Sequence[str] | None = None) -> None:
    """Console-script entry point; ``args`` defaults to the process's arguments."""
    given = list(sys.argv[1:] if args is None else args)
    if given[:1] == ["claude"]:
        _claude(given[1:])
    # One instance for reading argv and for Fire: only then does Fire see `start`
    # as a command of the top level.
    root = Cli()
    match argv.read(root, given, name=NAME):
        case argv.Refused(reason, command):
            print(f"error: {reason}; see `{command} --help`", file=sys.stderr)
            raise SystemExit(_EXIT_CONFIG_ERROR)
        case argv.Help(page):
            print(page)
            raise SystemExit(0)
        case argv.Version():
            print(f"{NAME} {importlib.metadata.version(NAME)}")
            raise SystemExit(0)
        case argv.Run(words):
            fire.Fire(root, command=list(words), name=NAME)
