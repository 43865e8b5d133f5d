"""What ``start`` tells the user: the banner, the dry-run report, the Claude Code command.

Pure functions over ``Settings``; none of them ever includes the API key. The launch
command carries the proxy's own access token when bound beyond loopback.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from domain.rules.loopback import is_loopback
from entrypoints.settings import Settings

# Claude Code insists on a token; on loopback the proxy ignores it and sends the Nexus key itself.
PLACEHOLDER_TOKEN = "nexus-claude-api"
_ALL_INTERFACES = ("0.0.0.0", "::", "")
_NOT_YET = "<the access token start generates>"


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


def claude_code_command(settings: Settings) -> str:
    """A POSIX shell command that starts Claude Code against this proxy."""
    env = {
        "ANTHROPIC_BASE_URL": local_base_url(settings),
        # Bound beyond loopback, the proxy checks this token; on loopback any value does.
        "ANTHROPIC_AUTH_TOKEN": _client_token(settings),
        "ANTHROPIC_MODEL": settings.model,
        "ANTHROPIC_DEFAULT_OPUS_MODEL": settings.model,
        "ANTHROPIC_DEFAULT_SONNET_MODEL": settings.model,
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": settings.small_model,
        "ANTHROPIC_SMALL_FAST_MODEL": settings.small_model,
        # Fewer background calls: each one costs quota on the Nexus key.
        "DISABLE_NON_ESSENTIAL_MODEL_CALLS": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        # Auto mode's safety check runs on Anthropic's server, which Bedrock cannot reach;
        # this brings back Claude Code's own classifier (one or two extra model calls per
        # checked action) instead of refusing every risky action.
        "CLAUDE_CODE_AUTO_MODE_SERVER": "0",
    }
    assignments = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    return f"{assignments} claude"


def start_banner(settings: Settings, log_path: Path, claude_code: bool) -> str:
    """The lines ``start`` prints before serving.

    Args:
        settings: the resolved settings.
        log_path: where the logs go.
        claude_code: append the Claude Code launch command instead of a hint about it.
    """
    lines = [
        f"nexus-claude-api listening on {_url(settings.host, settings.port)}",
        f"  upstream: {urlsplit(settings.endpoint_url).hostname} (AI Nexus, Bedrock Converse)",
        f"  models:   {settings.model} (main), {settings.small_model} (small)",
        f"  access:   {access_line(settings)}",
        f"  log file: {log_path}",
    ]
    if claude_code:
        lines += ["", "Launch Claude Code with:", "", claude_code_command(settings), ""]
    else:
        lines.append("Add --claude-code to print the command that launches Claude Code.")
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
        ]
    )
