"""Where settings come from, and how flags, the config file and the environment combine.

Order, first found wins: command-line flag, the config file of the current mode
(user or ``--dev``), environment variable, built-in default. Nothing here reads
global state: the caller passes the home directory, working directory and environ.
"""

from __future__ import annotations

import logging
import math
import secrets
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs

from domain.errors import ConfigError
from domain.rules.betas import DEFAULT_BETA_ALLOWLIST
from domain.rules.loopback import is_loopback
from entrypoints.settings import (
    DEFAULT_ENDPOINT,
    DEFAULT_HOST,
    DEFAULT_MODEL,
    DEFAULT_PORT,
    SECONDS_LIMITS,
    ConfigStore,
    Settings,
)

APP_NAME = "nexus-claude-api"
KEY_ENV_VARS = ("NEXUS_API_KEY", "AWS_BEARER_TOKEN_BEDROCK")
ENDPOINT_ENV_VAR = "NEXUS_ENDPOINT_URL"
# The settings `config set` writes; the rest of FILE_KEYS are hand-edited extras.
BASIC_KEYS = ("api_key", "endpoint_url", "model", "small_model")
_LIST_KEYS = ("beta_allowlist", "extra_betas", "allowed_hosts")
# Written by `start` on the first bind beyond loopback; never shown by `config show`.
TOKEN_KEY = "access_token"
# Whole numbers of the serving machinery, each with the range it may take.
_COUNT_LIMITS = {"max_streams": (1, 1024), "worker_threads": (1, 256), "body_budget_bytes": (1 << 20, 1 << 34)}
ADVANCED_KEYS = (
    "upstream_model_ids",
    "max_output_tokens",
    *_LIST_KEYS,
    *SECONDS_LIMITS,
    *_COUNT_LIMITS,
    TOKEN_KEY,
    "auto_mode_check",
    "one_cpu",
)
FILE_KEYS = (*BASIC_KEYS, *ADVANCED_KEYS)

_log = logging.getLogger("nexus_claude_api.config")


def user_config_path(home: Path) -> Path:
    """The normal config file: ``~/.config/nexus-claude-api/config.json``."""
    return home / ".config" / APP_NAME / "config.json"


def dev_config_path(cwd: Path) -> Path:
    """The ``--dev`` config file, in the working copy (and git-ignored there)."""
    return cwd / f"{APP_NAME}.local.json"


def user_log_path(home: Path) -> Path:
    """The normal log file, next to the user config."""
    return home / ".config" / APP_NAME / "logs" / f"{APP_NAME}.log"


def dev_log_path(cwd: Path) -> Path:
    """The ``--dev`` log file: ``./logs/nexus-claude-api.log``."""
    return cwd / "logs" / f"{APP_NAME}.log"


def dev_file_warning(path: Path) -> str | None:
    """A warning unless git ignores the ``--dev`` config file where it lives.

    That file holds the key in a working copy; this repository's checkout ignores it, any
    other may commit it. Without git (or outside a work tree) nothing vouches for it.
    """
    git = shutil.which("git")
    if git:
        try:
            done = subprocess.run(
                [git, "check-ignore", "-q", path.name], cwd=path.parent, capture_output=True, timeout=10, check=False
            )
        except (OSError, subprocess.SubprocessError):
            done = None
        if done is not None and done.returncode == 0:
            return None
    return (
        f"warning: --dev keeps your key in {path}, which git does not ignore here; run --dev from "
        f"the nexus-claude-api checkout, or add {path.name} to .gitignore"
    )


def config_path(dev: bool, home: Path, cwd: Path) -> Path:
    """The config file of the mode ``dev`` selects."""
    return dev_config_path(cwd) if dev else user_config_path(home)


def log_path(dev: bool, home: Path, cwd: Path) -> Path:
    """The log file of the mode ``dev`` selects."""
    return dev_log_path(cwd) if dev else user_log_path(home)


def missing_key_message(dev: bool) -> str:
    """The one-line error for "no key anywhere", naming both ways to give one."""
    mode = " --dev" if dev else ""
    return (
        f"no AI Nexus API key found; store one with "
        f"`{APP_NAME} config set{mode} --api-key` (it asks for the key) "
        f"or export it with `export NEXUS_API_KEY=YOUR_KEY`"
    )


def redact_key(key: str) -> str:
    """Show a key as ``nxk-…abcd``: at most a type prefix and the last 4 characters."""
    if len(key) < 12:
        return "****"
    head, sep, _ = key.partition("-")
    # A short letters-only head ("nxk-", "sk-") names the key type, not its secret part.
    prefix = head + sep if sep and head.isalpha() and len(head) <= 4 else ""
    return f"{prefix}…{key[-4:]}"


def resolve_settings(
    flags: Mapping[str, Any], store: ConfigStore, environ: Mapping[str, str]
) -> tuple[Settings, dict[str, str]]:
    """Combine flags, the config file and the environment into ``Settings``.

    Args:
        flags: command-line values by setting name; ``None`` means not given.
            Known names: api_key, endpoint_url, model, small_model, host, port, verbose.
        store: the config file of the current mode.
        environ: the process environment (or a plain dict in tests).

    Returns:
        The settings, and for each setting a human-readable source
        (``flag --api-key``, ``config file /path``, ``env NEXUS_API_KEY``, ``default``).

    Raises:
        ConfigError: no API key anywhere, or a value of the wrong type or form.
    """
    values, sources = resolve_values(flags, store, environ)
    if "api_key" not in values:
        raise ConfigError(missing_key_message(bool(flags.get("dev"))))
    return Settings(**values), sources


def resolve_values(
    flags: Mapping[str, Any], store: ConfigStore, environ: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Like ``resolve_settings``, but a missing key is simply left out (for ``config show``).

    Raises:
        ConfigError: a value of the wrong type or form.
    """
    stored = checked_file_values(store.load(), store.path)
    in_file = f"config file {store.path}"
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def pick(name: str, *later: tuple[str, Any]) -> None:
        flag = (f"flag --{name.replace('_', '-')}", flags.get(name))
        for source, value in (flag, (in_file, stored.get(name)), *later):
            if value is not None and value != "":
                values[name], sources[name] = value, source
                return

    pick("api_key", *[(f"env {var}", environ.get(var)) for var in KEY_ENV_VARS])
    pick("endpoint_url", (f"env {ENDPOINT_ENV_VAR}", environ.get(ENDPOINT_ENV_VAR)))
    pick("model")
    pick("small_model")
    pick("auto_mode_check")
    _apply_advanced(stored, in_file, values, sources)
    _apply_bind(flags, values, sources)
    _apply_defaults(values, sources)
    check_values(values, sources)
    values["endpoint_url"] = values["endpoint_url"].rstrip("/")
    values["verbose"] = bool(flags.get("verbose"))
    return values, sources


def checked_file_values(stored: Mapping[str, Any], path: str) -> dict[str, Any]:
    """Keep the known keys of a config file, checking their types.

    Unknown keys are ignored with a warning, so a typo does not stop the proxy.

    Raises:
        ConfigError: a known key holds a value of the wrong type; names key and file.
    """
    for key in stored:
        if key not in FILE_KEYS:
            _log.warning("ignoring unknown key %r in config file %s", key, path)
    known = {key: stored[key] for key in FILE_KEYS if key in stored}
    for key, value in known.items():
        check, expected = _FILE_CHECKS[key]
        if not check(value):
            raise ConfigError(f"{key} in config file {path} must be {expected}")
    return known


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(_is_text(item) for item in value)


def _is_text_map(value: Any) -> bool:
    return isinstance(value, dict) and all(_is_text(v) for v in value.values())


def _is_token_map(value: Any) -> bool:
    return isinstance(value, dict) and all(
        _is_text(k) and isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 10_000_000
        for k, v in value.items()
    )


def _count_check(key: str) -> tuple[Callable[[Any], bool], str]:
    low, high = _COUNT_LIMITS[key]

    def check(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high

    return check, f"a whole number from {low} to {high}"


def _seconds_check(key: str) -> tuple[Callable[[Any], bool], str]:
    limit = SECONDS_LIMITS[key]

    def check(value: Any) -> bool:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return number and math.isfinite(value) and 0 < value <= limit

    return check, f"a number of seconds above 0 and at most {limit:g}"


_FILE_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    **{key: (_is_text, "a non-empty string") for key in BASIC_KEYS},
    "upstream_model_ids": (_is_text_map, "an object of model id -> Nexus modelId strings"),
    "max_output_tokens": (_is_token_map, "an object of model id -> a whole number of tokens"),
    **{key: (_is_text_list, "a list of non-empty strings") for key in _LIST_KEYS},
    **{key: _seconds_check(key) for key in SECONDS_LIMITS},
    **{key: _count_check(key) for key in _COUNT_LIMITS},
    TOKEN_KEY: (lambda value: _is_word(value) and value.isascii(), "one word of plain ASCII characters"),
    "auto_mode_check": (lambda value: isinstance(value, bool), "true or false"),
    "one_cpu": (lambda value: isinstance(value, bool), "true or false"),
}


def _apply_advanced(stored: Mapping[str, Any], source: str, values: dict[str, Any], sources: dict[str, str]) -> None:
    if "upstream_model_ids" in stored:
        values["upstream_model_ids"] = dict(stored["upstream_model_ids"])
        sources["upstream_model_ids"] = source
    if "max_output_tokens" in stored:
        values["max_output_tokens"] = dict(stored["max_output_tokens"])
        sources["max_output_tokens"] = source
    if "beta_allowlist" in stored or "extra_betas" in stored:
        # A given allowlist replaces the default; extra_betas only ever adds to it.
        base = stored.get("beta_allowlist", DEFAULT_BETA_ALLOWLIST)
        merged = dict.fromkeys([*base, *stored.get("extra_betas", [])])
        values["beta_allowlist"], sources["beta_allowlist"] = tuple(merged), source
    for key in SECONDS_LIMITS:
        if key in stored:
            values[key], sources[key] = float(stored[key]), source
    for key in _COUNT_LIMITS:
        if key in stored:
            values[key], sources[key] = int(stored[key]), source
    if "allowed_hosts" in stored:
        values["allowed_hosts"], sources["allowed_hosts"] = tuple(stored["allowed_hosts"]), source
    if TOKEN_KEY in stored:
        values[TOKEN_KEY], sources[TOKEN_KEY] = stored[TOKEN_KEY], source
    if "one_cpu" in stored:
        values["one_cpu"], sources["one_cpu"] = stored["one_cpu"], source


def _apply_bind(flags: Mapping[str, Any], values: dict[str, Any], sources: dict[str, str]) -> None:
    if flags.get("host") is not None:
        values["host"], sources["host"] = flags["host"], "flag --host"
    if flags.get("port") is not None:
        values["port"], sources["port"] = _port(flags["port"]), "flag --port"


def _apply_defaults(values: dict[str, Any], sources: dict[str, str]) -> None:
    defaults = {
        "endpoint_url": DEFAULT_ENDPOINT,
        "model": DEFAULT_MODEL,
        "small_model": DEFAULT_MODEL,
        "host": DEFAULT_HOST,
        "port": DEFAULT_PORT,
    }
    for name, value in defaults.items():
        if name not in values:
            values[name], sources[name] = value, "default"


def _port(value: Any) -> int:
    # A bare `--port` arrives from Fire as True, which int() would happily accept.
    text = str(value).strip() if not isinstance(value, bool) else ""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ConfigError(f"--port must be a whole number from 1 to 65535, got {value!r}")
    return int(text)


def check_values(values: Mapping[str, Any], sources: Mapping[str, str]) -> None:
    """Check the form of the values present (URL, names, key); absent ones are skipped.

    Raises:
        ConfigError: a value that cannot work; names the setting and its source.
    """
    url = values.get("endpoint_url")
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"endpoint_url from {sources['endpoint_url']} must be an http(s) URL "
                f"like {DEFAULT_ENDPOINT}, got {url!r}"
            )
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            # The key travels in a header: only over TLS, unless it never leaves this machine.
            raise ConfigError(
                f"endpoint_url from {sources['endpoint_url']} is plain http to another machine ({url}); "
                "the API key is only sent over TLS: use https://"
            )
    for name in ("host", "model", "small_model"):
        value = values.get(name)
        # Fire turns a flag given without a value into the string "True".
        if value is not None and (not _is_word(value) or value == "True"):
            raise ConfigError(f"{name} from {sources[name]} needs a value, got {value!r}")
    key = values.get("api_key")
    if key is not None and not (_is_word(key) and key.isascii()):
        # Header values cannot carry line breaks or non-ASCII (a pasted en-dash, say), and
        # real keys have no spaces; the key itself is never repeated in the message.
        raise ConfigError(
            f"api_key from {sources['api_key']} must be one word of plain ASCII characters "
            "(check for spaces or typographic dashes and quotes from copy and paste)"
        )


def _is_word(value: Any) -> bool:
    return _is_text(value) and not any(c.isspace() or not c.isprintable() for c in value)


def ensure_access_token(settings: Settings, store: ConfigStore) -> Settings:
    """``settings`` with an access token when bound beyond loopback, else unchanged.

    The first wide bind generates one and keeps it in the config file (0600), so the
    launch command printed once keeps working across restarts.

    Raises:
        ConfigError: the config file cannot be written.
    """
    if is_loopback(settings.host) or settings.access_token:
        return settings
    token = secrets.token_urlsafe(32)
    store.save({**store.load(), TOKEN_KEY: token})
    return attrs.evolve(settings, access_token=token)
