"""What Claude Code is launched with, and what ``start`` tells the user about it.

Pure functions over ``Settings``; none of them ever includes the API key. The launch
environment carries the proxy's own access token when bound beyond loopback. Every
variable here was checked against the Claude Code 2.1.332 binary and a run of it
(README, "Launch variables").
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from domain.rules.loopback import is_loopback
from entrypoints import shells
from entrypoints.settings import Settings

# Claude Code insists on a token; on loopback the proxy ignores it and sends the Nexus key itself.
PLACEHOLDER_TOKEN = "nexus-claude-api"
_ALL_INTERFACES = ("0.0.0.0", "::", "")
_NOT_YET = "<the access token start generates>"
NAME = "nexus-claude-api"
_SHELL_FLAGS = {shells.POSIX: "bash", shells.FISH: "fish", shells.POWERSHELL: "powershell", shells.CMD: "cmd"}
_SHELL_TITLES = {shells.POSIX: "bash, zsh", shells.FISH: "fish", shells.POWERSHELL: "PowerShell", shells.CMD: "cmd"}


def exposure_warning(host: str) -> str | None:
    """The warning for a bind address other machines can reach, else ``None``."""
    if is_loopback(host):
        return None
    return (
        f"warning: listening on {host} lets other machines reach this proxy, which calls AI Nexus "
        "with your key; every request must carry its access token (ANTHROPIC_AUTH_TOKEN in the "
        "--claude-code command, access_token in the config file), and Host names other than this "
        "machine's loopback ones and the bind address must be listed in allowed_hosts there"
    )


def _url(host: str, port: int) -> str:
    # IPv6 literals need brackets inside a URL.
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}"


def local_base_url(settings: Settings) -> str:
    """The URL a client on this machine uses (loopback when bound to all interfaces)."""
    host = "127.0.0.1" if settings.host in _ALL_INTERFACES else settings.host
    return _url(host, settings.port)


def _client_token(settings: Settings) -> str:
    if is_loopback(settings.host):
        return PLACEHOLDER_TOKEN
    return settings.access_token or _NOT_YET


def access_line(settings: Settings) -> str:
    """How clients get in: loopback only, or the access token and the allowed Host names."""
    if is_loopback(settings.host):
        return "this machine only (loopback)"
    token = "access token required" if settings.access_token else "access token generated at first start"
    names = ", ".join(settings.allowed_hosts) or "none listed"
    return f"{token}; Host names besides loopback and {settings.host}: {names} (allowed_hosts)"


# Claude Code's model families (the aliases `opus`, `sonnet`, `haiku` and `fable` of 2.1.332),
# each pointed at the exposed model that serves it: haiku runs on the small model.
_FAMILIES = (("OPUS", "main"), ("SONNET", "main"), ("HAIKU", "small"), ("FABLE", "main"))
# Arguments every launch passes to `claude`. WebSearch is Anthropic's server tool
# (`web_search_20250305`), which Bedrock does not have; denied, it is not offered to the
# model at all, not even as a deferred tool. The `=` form matters: written apart, the
# option takes every following word as a tool name, a prompt included.
CLAUDE_ARGS = ("--disallowedTools=WebSearch",)
# Claude Code's own request timeout is a little longer than the proxy's read timeout, so a
# slow Nexus answer ends with the proxy's error, which says why, not with a client timeout.
_TIMEOUT_MARGIN_MS = 60_000


def model_label(model: str) -> str:
    """What the model picker calls a model: ``claude-opus-4.6`` -> ``Opus 4.6``."""
    words = model.removeprefix("claude-").split("-")
    return " ".join(word.capitalize() if word.isalpha() else word for word in words)


def _family_variables(settings: Settings) -> dict[str, str]:
    env: dict[str, str] = {}
    for family, role in _FAMILIES:
        model = settings.model if role == "main" else settings.small_model
        prefix = f"ANTHROPIC_DEFAULT_{family}_MODEL"
        env[prefix] = model
        env[f"{prefix}_NAME"] = f"{model_label(model)} via AI Nexus"
        env[f"{prefix}_DESCRIPTION"] = f"{family.lower()}: {model} on AI Nexus"
    return env


def claude_code_env(settings: Settings) -> dict[str, str]:
    """The environment Claude Code 2.1.332 needs to run through this proxy."""
    return {
        "ANTHROPIC_BASE_URL": local_base_url(settings),
        # Bound beyond loopback, the proxy checks this token; on loopback any value does.
        "ANTHROPIC_AUTH_TOKEN": _client_token(settings),
        "ANTHROPIC_MODEL": settings.model,
        **_family_variables(settings),
        # Deprecated for ANTHROPIC_DEFAULT_HAIKU_MODEL, but 2.1.332 still reads it.
        "ANTHROPIC_SMALL_FAST_MODEL": settings.small_model,
        # `/model` lists what GET /v1/models serves ("From gateway").
        "CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY": "1",
        "API_TIMEOUT_MS": str(round(settings.read_timeout * 1000) + _TIMEOUT_MARGIN_MS),
        # No updates, telemetry, error reports, feature flags or start-up probe.
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        **_auto_mode_variables(settings),
    }


def _auto_mode_variables(settings: Settings) -> dict[str, str]:
    if settings.auto_mode_check:
        return {}  # the proxy answers the server-side check itself
    # Auto mode's safety check runs on Anthropic's server, which Bedrock cannot reach;
    # this brings back Claude Code's own classifier (one or two extra model calls per
    # checked action) instead of refusing every risky action.
    return {"CLAUDE_CODE_AUTO_MODE_SERVER": "0"}


def claude_code_command(settings: Settings) -> str:
    """The launch environment as POSIX assignments in front of ``claude``, without arguments.

    What the end-to-end tests run; users are shown ``shells.launch_command``, which adds
    ``CLAUDE_ARGS`` and speaks their shell.
    """
    assignments = " ".join(f"{name}={shlex.quote(value)}" for name, value in claude_code_env(settings).items())
    return f"{assignments} claude"


def shell_command(settings: Settings, shell: str) -> str:
    """The command that starts Claude Code against this proxy, written for ``shell``.

    Raises:
        ConfigError: a value ``shell`` cannot carry (cmd and ``%``, for one).
    """
    return shells.launch_command(claude_code_env(settings), CLAUDE_ARGS, shell)


def command_block(settings: Settings, shell: str) -> list[str]:
    """The launch command with its heading, as ``start --claude-code`` prints it."""
    other = ", ".join(name for kind, name in _SHELL_FLAGS.items() if kind != shell)
    heading = f"Launch Claude Code with ({_SHELL_TITLES[shell]}; --shell {other} for another shell):"
    return [heading, "", shell_command(settings, shell)]


AUTO_MODE_LINE = (
    "auto mode: its safety check is answered by this proxy with the Nexus model "
    "(auto_mode_check; weaker than Anthropic's own check, one extra Nexus call per response with tool calls)"
)


def start_banner(settings: Settings, log_path: Path, shell: str | None) -> str:
    """The lines ``start`` prints before serving.

    Args:
        settings: the resolved settings.
        log_path: where the logs go.
        shell: append the Claude Code launch command for this shell; ``None`` for a hint about it.
    """
    lines = [
        f"nexus-claude-api listening on {_url(settings.host, settings.port)}",
        f"  upstream: {urlsplit(settings.endpoint_url).hostname} (AI Nexus, Bedrock Converse)",
        f"  models:   {settings.model} (main), {settings.small_model} (small)",
        f"  access:   {access_line(settings)}",
        f"  log file: {log_path}",
    ]
    if settings.auto_mode_check:
        lines.append(f"  {AUTO_MODE_LINE}")
    if shell:
        lines += ["", *command_block(settings, shell), ""]
    else:
        lines.append(f"Add --claude-code to print the command that launches Claude Code, or run `{NAME} claude`.")
    return "\n".join(lines)


def dry_run_report(settings: Settings, sources: Mapping[str, str], config_file: Path, log_path: Path) -> str:
    """What ``start --dry-run`` prints: what would happen, and where each value came from."""

    def origin(name: str) -> str:
        return sources.get(name, "default")

    found = "found" if config_file.exists() else "not found"
    return "\n".join(
        [
            "configuration is valid; start would:",
            f"  listen on:   {_url(settings.host, settings.port)}",
            f"  upstream:    {urlsplit(settings.endpoint_url).hostname}"
            f" ({settings.endpoint_url}, from {origin('endpoint_url')})",
            f"  model:       {settings.model} (from {origin('model')})",
            f"  small model: {settings.small_model} (from {origin('small_model')})",
            f"  config file: {config_file} ({found})",
            f"  log file:    {log_path}",
            f"  API key:     from {origin('api_key')}",
            f"  access:      {access_line(settings)}",
            f"  auto mode:   {_auto_mode_report(settings, origin('auto_mode_check'))}",
        ]
    )


def _auto_mode_report(settings: Settings, origin: str) -> str:
    if not settings.auto_mode_check:
        return "Claude Code's own check (CLAUDE_CODE_AUTO_MODE_SERVER=0); auto_mode_check is off"
    return f"safety check answered by this proxy with the Nexus model (from {origin})"
