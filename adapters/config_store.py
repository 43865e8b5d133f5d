"""The settings file of one mode, as a private JSON object on the local disk."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from domain.errors import ConfigError

_DIR_MODE = 0o700
_FILE_MODE = 0o600


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

        Raises:
            ConfigError: the file cannot be read, is not JSON, or is not an object.
        """
        try:
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
        return data

    def save(self, settings: dict[str, Any]) -> None:
        """Replace the stored settings atomically, readable by the owner only.

        The new content goes to a 0600 temporary file in the same directory, which
        then replaces the old file, so readers never see a half-written key.

        Raises:
            ConfigError: the file or its directory cannot be written.
        """
        text = json.dumps(settings, indent=2, sort_keys=True) + "\n"
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


def _reason(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
