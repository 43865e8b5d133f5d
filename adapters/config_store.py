"""The settings file of one mode, as a private JSON object on the local disk."""

from __future__ import annotations

import contextlib
import grp
import json
import logging
import os
import pwd
import stat
import tempfile
from pathlib import Path
from typing import Any

from domain.errors import ConfigError

_DIR_MODE = 0o700
_FILE_MODE = 0o600
# Settings whose values are secrets: a file holding one is kept owner-only.
SECRET_KEYS = frozenset({"api_key", "access_token"})
_log = logging.getLogger("nexus_claude_api.config")


def ensure_private_dir(directory: Path) -> None:
    """Create ``directory`` and any missing parents, readable by the owner only.

    Directories that already exist keep their mode: the parent may be the user's
    working copy or ``~/.config``, which are not ours to lock down.

    Raises:
        OSError: a directory could not be created.
    """
    missing = [d for d in (directory, *directory.parents) if not d.exists()]
    for each in reversed(missing):
        each.mkdir(mode=_DIR_MODE, exist_ok=True)
        # mkdir's mode is filtered by the umask; chmod says exactly what we mean.
        os.chmod(each, _DIR_MODE)


class JsonConfigStore:
    """A ``entrypoints.settings.ConfigStore`` backed by one JSON file.

    Args:
        path: where the file lives (it need not exist yet).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)

    @property
    def path(self) -> str:
        """The file's path, for messages and ``config path``."""
        return str(self._path)

    def load(self) -> dict[str, Any]:
        """Return the stored settings, or ``{}`` when there is no file yet.

        The file and its directory are checked as ssh checks its own: one that another
        user owns or may write is refused; a key file others may read is tightened to 0600.

        Raises:
            ConfigError: the file cannot be read, is not JSON, or is not an object; or it or
                its directory is not safe to keep a key in.
        """
        check_safe(self._path.parent, "directory")
        try:
            check_safe(self._path, "file")
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config file {self._path}: {_reason(exc)}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            # Only the position, never the text: the file holds a key.
            raise ConfigError(
                f"config file {self._path} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
            ) from None  # the decode error holds the file's text, key included
        if not isinstance(data, dict):
            raise ConfigError(f"config file {self._path} must hold a JSON object")
        if SECRET_KEYS & data.keys():
            _tighten(self._path)
        return data

    def save(self, settings: dict[str, Any]) -> None:
        """Replace the stored settings atomically, readable by the owner only.

        The new content goes to a 0600 temporary file in the same directory, which
        then replaces the old file, so readers never see a half-written key.

        Raises:
            ConfigError: the file or its directory cannot be written.
        """
        text = json.dumps(settings, indent=2, sort_keys=True) + "\n"
        check_safe(self._path.parent, "directory")
        try:
            ensure_private_dir(self._path.parent)
            self._replace_with(text)
        except OSError as exc:
            raise ConfigError(f"cannot write config file {self._path}: {_reason(exc)}") from exc

    def _replace_with(self, text: str) -> None:
        fd, temp = tempfile.mkstemp(dir=self._path.parent, prefix=f".{self._path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                os.fchmod(file.fileno(), _FILE_MODE)
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, self._path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise


def check_safe(path: Path, kind: str) -> None:
    """Refuse ``path`` if another user owns it or may write it (a missing path passes).

    Whoever can write the config file or replace it in its directory can point the proxy
    at their own endpoint and collect the key. Group write is allowed only for the user's
    own private group (one named after the user, with no other members), as Debian's ssh does.

    Raises:
        ConfigError: unsafe; the message gives the command that fixes it.
        FileNotFoundError: ``path`` is missing (a missing directory is not an error).
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        if kind == "file":
            raise
        return
    except OSError:
        return  # unreadable: the read or write that follows names the problem
    uid = os.getuid()
    if info.st_uid != uid:
        raise ConfigError(
            f"config {kind} {path} belongs to another user (uid {info.st_uid}), who could read or "
            f'change your key; make it yours with `sudo chown "$USER" {path}`'
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o002 or (mode & 0o020 and not _private_group(info.st_gid, uid)):
        raise ConfigError(
            f"config {kind} {path} can be written by other users (mode {mode:04o}), who could change "
            f"where your key is sent; fix it with `chmod go-w {path}`"
        )


def _private_group(gid: int, uid: int) -> bool:
    try:
        group, user = grp.getgrgid(gid), pwd.getpwuid(uid)
    except KeyError:
        return False
    return group.gr_name == user.pw_name and set(group.gr_mem) <= {user.pw_name}


def _tighten(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        _log.warning("config file %s holds a key but other users could read it (mode %04o); it is now 0600", path, mode)
        os.chmod(path, _FILE_MODE)


def _reason(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
