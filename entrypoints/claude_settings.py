"""The launch environment as Claude Code's ``settings.json``, for IDE extensions that start it.

``fragment`` is what ``nexus-claude-api settings`` prints; ``merge_into`` is ``--write``: the
fragment folded into the user's file after a backup, every other key left as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.config_store import JsonConfigStore
from domain.errors import ConfigError
from entrypoints import config, launch

# Settings deny rules are what `--disallowedTools` is on the command line (entrypoints/launch.py).
DENIED_TOOLS = ("WebSearch",)


def command(flags: Mapping[str, Any], config_file: Path, write: bool, environ: Mapping[str, str]) -> str:
    """``nexus-claude-api settings [--write]``: the JSON to print, or what was written.

    Args:
        flags: ``host`` and ``port`` as given (``None``: as ``start`` would take them).
        config_file: the proxy's config file, for the address and any access token.
        write: merge into Claude Code's user settings instead of printing.
        environ: the process environment.

    Raises:
        ConfigError: a bad setting, or a settings file that cannot be merged.
    """
    store = JsonConfigStore(config_file)
    # The key is start's business; these lines only point Claude Code at it.
    settings, _ = config.resolve_settings({**flags, "api_key": "unused"}, store, environ)
    env = launch.claude_code_env(config.ensure_access_token(settings, store))
    if not write:
        return json.dumps(fragment(env), indent=2)
    path = settings_path(Path.home(), environ)
    backup = merge_into(path, env, datetime.now())
    saved = f"; the previous file is {backup}" if backup else ""
    return f"wrote {len(env)} variables and the WebSearch deny rule to {path}{saved}"


def settings_path(home: Path, environ: Mapping[str, str]) -> Path:
    """Claude Code's user settings file: ``$CLAUDE_CONFIG_DIR/settings.json``, else ``~/.claude/``."""
    config_dir = environ.get("CLAUDE_CONFIG_DIR")
    return Path(config_dir) / "settings.json" if config_dir else home / ".claude" / "settings.json"


def fragment(env: Mapping[str, str]) -> dict[str, Any]:
    """The part of ``settings.json`` that launches Claude Code through the proxy."""
    return {"env": dict(env), "permissions": {"deny": list(DENIED_TOOLS)}}


def merged(current: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """``current`` with the launch variables set and the tools denied; nothing else changes.

    Raises:
        ConfigError: ``env``, ``permissions`` or ``permissions.deny`` is not of the type
            Claude Code reads, so folding into it would guess.
    """
    old_env = _of_type(current.get("env", {}), dict, "env")
    permissions = _of_type(current.get("permissions", {}), dict, "permissions")
    deny = _of_type(permissions.get("deny", []), list, "permissions.deny")
    new_deny = [*deny, *(tool for tool in DENIED_TOOLS if tool not in deny)]
    return {**current, "env": {**old_env, **env}, "permissions": {**permissions, "deny": new_deny}}


def _of_type(value: Any, kind: type, name: str) -> Any:
    if not isinstance(value, kind):
        raise ConfigError(f"settings.json: {name} is not a JSON {'object' if kind is dict else 'array'}; fix it first")
    return value


def merge_into(path: Path, env: Mapping[str, str], now: datetime) -> Path | None:
    """Fold the launch settings into ``path``; returns the backup made, ``None`` for a new file.

    The file is replaced atomically with its mode kept; the backup is a byte copy named
    ``settings.json.bak-<timestamp>``.

    Raises:
        ConfigError: the file is not a JSON object, or cannot be read or written.
    """
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else None
        current = json.loads(text) if text is not None and text.strip() else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}; it was left unchanged") from None
    if not isinstance(current, dict):
        raise ConfigError(f"{path} does not hold a JSON object; it was left unchanged")
    updated = merged(current, env)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        backup = None
        if text is not None:
            backup = _backup_name(path, now)
            shutil.copy2(path, backup)
        _replace(path, json.dumps(updated, indent=2, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    return backup


def _backup_name(path: Path, now: datetime) -> Path:
    # Two writes within a second must not overwrite the first backup, the older state.
    stem = f"{path.name}.bak-{now:%Y%m%d-%H%M%S}"
    candidates = (path.with_name(stem if n == 0 else f"{stem}-{n}") for n in range(1000))
    return next(candidate for candidate in candidates if not candidate.exists())


def _replace(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o600
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
