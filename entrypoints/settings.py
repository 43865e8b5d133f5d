"""The proxy's settings, resolved once at start-up, and the port of the file that keeps them."""

from __future__ import annotations

import math
from typing import Any, Protocol

import attrs

from domain.errors import ConfigError
from domain.rules.betas import DEFAULT_BETA_ALLOWLIST

DEFAULT_ENDPOINT = "https://genai-nexus.api.corpinter.net"
DEFAULT_MODEL = "claude-opus-4.6"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4141
# Seconds each timeout may be: above zero, finite, at most this (an hour of silence from
# Nexus is already a dead connection; `1e999` in JSON is infinity, which requests would
# pass on to the socket as "wait forever"). Claude Code gives up on a stream silent for
# 300 s, so the proxy must end it first; auto mode's check holds the end of a response.
SECONDS_LIMITS = {
    "connect_timeout": 300.0,
    "read_timeout": 3600.0,
    "auto_mode_check_timeout": 120.0,
    "stream_idle_limit": 290.0,
}


def _redacted(value: str | None) -> str:
    return "<set>" if value else "<unset>"


def _check_seconds(_: Any, attribute: attrs.Attribute[float], value: float) -> None:
    # The config file is checked with its path in the message (entrypoints/config.py);
    # this is the last line for settings built any other way.
    name, limit = attribute.name, SECONDS_LIMITS[attribute.name]
    if not (math.isfinite(value) and 0 < value <= limit):
        raise ConfigError(f"{name} must be a number of seconds above 0 and at most {limit:g}, got {value!r}")


@attrs.frozen(kw_only=True)
class Settings:
    """Everything the composition root needs; ``api_key`` never appears in ``repr``."""

    api_key: str = attrs.field(repr=_redacted)
    endpoint_url: str = DEFAULT_ENDPOINT
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    model: str = DEFAULT_MODEL
    small_model: str = DEFAULT_MODEL
    # Exposed model id -> Nexus modelId, for ids Nexus spells differently.
    upstream_model_ids: dict[str, str] = attrs.field(factory=dict)
    # Exposed model id -> the most output tokens it allows, over the built-in table.
    max_output_tokens: dict[str, int] = attrs.field(factory=dict)
    beta_allowlist: tuple[str, ...] = DEFAULT_BETA_ALLOWLIST
    connect_timeout: float = attrs.field(default=10.0, validator=_check_seconds)
    read_timeout: float = attrs.field(default=600.0, validator=_check_seconds)
    max_body_bytes: int = 32 * 1024 * 1024
    # Request bodies held at once, from reading until Nexus has taken them: a large body
    # costs a few times its size while translated, so past this a request gets a 429.
    body_budget_bytes: int = 96 * 1024 * 1024
    # Streams and non-streamed messages served at once, each on a thread of its own; the
    # next one gets a 429 with retry-after, never a queue.
    max_streams: int = attrs.field(default=64, validator=attrs.validators.ge(1))
    # Threads for short work (parsing, translation, counting), apart from the streams' so
    # it never waits behind them.
    worker_threads: int = attrs.field(default=16, validator=attrs.validators.ge(1))
    # Seconds a stream may wait for Nexus's next event before it ends with timeout_error:
    # under Claude Code's 300 s stall watchdog, which pings would otherwise keep quiet.
    stream_idle_limit: float = attrs.field(default=120.0, validator=_check_seconds)
    verbose: bool = False
    # Required of every client while bound beyond loopback; kept in the config file.
    access_token: str | None = attrs.field(default=None, repr=_redacted)
    # Host names served besides loopback ones and the bind address (a wide bind's own names).
    allowed_hosts: tuple[str, ...] = ()
    # Answer auto mode's safety check with the Nexus model (domain/services/auto_mode.py);
    # off by default: it is this proxy's own check, weaker than Anthropic's and unmeasured.
    auto_mode_check: bool = False
    # `start` keeps its threads to one CPU (entrypoints/cpu_affinity.py); false: any CPU.
    one_cpu: bool = True
    # Past this the check is ``unavailable`` (``timeout``), and Claude Code refuses the call.
    auto_mode_check_timeout: float = attrs.field(default=30.0, validator=_check_seconds)

    def __attrs_post_init__(self) -> None:
        # The stream waits for the check in silence (pings aside): past stream_idle_limit it
        # would end with a timeout_error before the check could say "unavailable".
        if self.auto_mode_check and self.auto_mode_check_timeout >= self.stream_idle_limit:
            raise ConfigError(
                f"auto_mode_check_timeout ({self.auto_mode_check_timeout:g} s) must be below "
                f"stream_idle_limit ({self.stream_idle_limit:g} s)"
            )


class ConfigStore(Protocol):
    """A JSON settings file of one mode (user or ``--dev``)."""

    @property
    def path(self) -> str: ...

    def load(self) -> dict[str, Any]:
        """Return the stored settings, or ``{}`` when there is no file yet."""
        ...

    def save(self, settings: dict[str, Any]) -> None:
        """Replace the stored settings atomically, readable by the owner only."""
        ...
