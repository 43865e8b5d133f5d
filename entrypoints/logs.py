"""Logging set-up: one rotating file, warnings on the console, secrets scrubbed from both.

While the proxy serves, records are handed to a thread of their own (``written_off_thread``):
masking, formatting and the writes to the file and the console are not the event loop's.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import os
import queue
import re
import time
from collections.abc import Iterable, Iterator
from logging.handlers import QueueHandler, QueueListener, RotatingFileHandler
from pathlib import Path

from adapters.config_store import ensure_private_dir
from domain.errors import ConfigError

APP_LOGGER = "nexus_claude_api"
TRAFFIC_LOGGER = f"{APP_LOGGER}.traffic"
_HANDLER_PREFIX = "nexus-claude-api:"
_MAX_BYTES = 5 * 1024 * 1024
_BACKUPS = 3
_LOG_MODE = 0o600
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_MASK = "****"
# The record attribute naming the filter that masked it, so that a second handler skips the work.
_MASKED = "_nexus_masked_by"
# More than the format adds to a message (time, level, logger name): rollover is checked
# exactly only when a line this much longer could reach the size limit.
_LINE_OVERHEAD = 200
_LINE_BREAKS = {ord(c): c.encode("unicode_escape").decode("ascii") for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}

# "Bearer <token>" anywhere, e.g. in a dumped header dict or an exception message.
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
# The value after an Authorization or x-api-key header name, in "name: v", "name=v",
# "'name': 'v'" and '"name": "v"' spellings.
_HEADER = re.compile(
    r"(?i)\b((?:proxy-)?authorization|x-api-key)([\"']?\s*[:=]\s*[\"']?)"
    r"((?:bearer|basic)\s+)?[^\s\"',;}]+"
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with secret values, bearer tokens and auth header values masked."""
    return _masked(text, _longest_first(secrets))


def _longest_first(secrets: Iterable[str]) -> tuple[str, ...]:
    # So that a secret that contains another is masked whole.
    return tuple(sorted({secret for secret in secrets if secret}, key=len, reverse=True))


def _masked(text: str, ordered: tuple[str, ...]) -> str:
    for secret in ordered:
        text = text.replace(secret, _MASK)
    text = _BEARER.sub(rf"\1 {_MASK}", text)
    return _HEADER.sub(lambda m: f"{m[1]}{m[2]}{m[3] or ''}{_MASK}", text)


def escape_line_breaks(text: str) -> str:
    """``text`` on one line: every character ``str.splitlines`` breaks on, written as an escape."""
    return text.translate(_LINE_BREAKS)


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message (and traceback) with secrets masked.

    It sits on every handler rather than on loggers, so records from any library
    that propagate to the root are scrubbed too.

    Args:
        secrets: exact values to mask, such as the Nexus API key.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = _longest_first(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place; always lets it through."""
        if getattr(record, _MASKED, None) is self:
            return True  # the file's handler masked it; the console's has nothing left to do
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not break the caller or leak args
            message = f"{record.msg} [log arguments could not be formatted]"
        # Line breaks from request values (a path, a model id, a Nexus message) are escaped,
        # so no value can forge a log line of its own; tracebacks keep theirs.
        record.msg = escape_line_breaks(_masked(message, self._secrets))
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _masked(record.exc_text, self._secrets)
        if record.stack_info:
            record.stack_info = _masked(record.stack_info, self._secrets)
        setattr(record, _MASKED, self)
        return True


class _LineFormatter(logging.Formatter):
    """``_FORMAT``, its time's date and seconds made once a second, not once per line."""

    def __init__(self) -> None:
        super().__init__(_FORMAT)
        self._second: tuple[int, str] = (-1, "")  # one attribute: a racing reader sees a whole pair

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """The stock timestamp (``2026-12-01 16:12:03,045``), from a cache of its seconds."""
        second, text = self._second
        if int(record.created) != second or datefmt is not None:
            text = time.strftime(datefmt or self.default_time_format, self.converter(record.created))
            if datefmt is not None:
                return text
            self._second = (int(record.created), text)
        msec = self.default_msec_format
        return msec % (text, record.msecs) if msec else text


def configure_logging(log_path: Path, verbose: bool, secrets: Iterable[str] = ()) -> None:
    """Send all logs to a rotating file and warnings to stderr, with secrets masked.

    Calling it again replaces the handlers an earlier call installed.

    Args:
        log_path: the log file; its missing directories are created 0700.
        verbose: log request summaries at DEBUG, and uvicorn's access log.
        secrets: values never to write, such as the Nexus API key.

    Raises:
        ConfigError: the log file cannot be created.
    """
    redactor = RedactingFilter(secrets)
    console = logging.StreamHandler()
    # Warnings, and the one line per request that says what the session spends.
    console.addFilter(lambda record: record.levelno >= logging.WARNING or record.name == TRAFFIC_LOGGER)
    handlers: list[logging.Handler] = [_file_handler(log_path), console]
    root = logging.getLogger()
    _remove_own_handlers(root)
    for handler in handlers:
        handler.set_name(f"{_HANDLER_PREFIX}{type(handler).__name__}")
        handler.setFormatter(_LineFormatter())
        handler.addFilter(redactor)
        root.addHandler(handler)
    # Other libraries stay at WARNING; our own loggers carry the request summaries.
    root.setLevel(logging.WARNING)
    logging.getLogger(APP_LOGGER).setLevel(logging.DEBUG if verbose else logging.INFO)
    _route_uvicorn(verbose)


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A ``RotatingFileHandler`` whose every file, the first and each after a rollover, is 0600.

    The stock handler opens with the umask (often 0644), and request summaries are the
    user's business only.
    """

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        """Whether ``record`` would take the file past its size; exact only near the limit.

        The stock check stats the path twice and formats the record once more than the
        write does, for every line; far from the limit the message's length decides.
        """
        if self.stream is not None and self.maxBytes > 0:
            self.stream.seek(0, os.SEEK_END)
            room = self.maxBytes - self.stream.tell()
            if len(str(record.msg)) + len(record.exc_text or "") + _LINE_OVERHEAD < room:
                return False
        return bool(super().shouldRollover(record))

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, _LOG_MODE)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)  # noqa: SIM115 - the handler keeps it


def _file_handler(log_path: Path) -> RotatingFileHandler:
    try:
        ensure_private_dir(log_path.parent)
        return PrivateRotatingFileHandler(log_path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write log file {log_path}: {exc.strerror or exc}") from None


def _is_own(handler: logging.Handler) -> bool:
    return (handler.get_name() or "").startswith(_HANDLER_PREFIX)


def _remove_own_handlers(root: logging.Logger) -> None:
    for handler in list(root.handlers):
        if _is_own(handler):
            root.removeHandler(handler)
            handler.close()


def quiet_console() -> None:
    """Drop the console handlers ``configure_logging`` installed; the log file keeps all."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if _is_own(handler) and not isinstance(handler, logging.FileHandler):
            root.removeHandler(handler)
            handler.close()


def _route_uvicorn(verbose: bool) -> None:
    # With log_config=None uvicorn adds no handlers; make sure its loggers
    # propagate to ours (and drop any a previous dictConfig left behind).
    levels = {
        "uvicorn": logging.INFO,
        "uvicorn.error": logging.INFO,
        "uvicorn.access": logging.INFO if verbose else logging.WARNING,
    }
    for name, level in levels.items():
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = True
        logger.disabled = False


class _Handoff(QueueHandler):
    """Queues a copy of each record with its message made, for the listener to mask and write.

    Only what must happen on the caller's thread happens here: the message is made from
    its arguments now (they may change later) and a traceback is turned into text while
    its frames exist. Masking and formatting stay with the handlers the listener runs,
    so every record is masked before it is written, tracebacks keeping their line breaks.
    """

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        """The record as it is queued: a copy, its message and traceback text made."""
        record = copy.copy(record)
        # A bad format string is left as it is: RedactingFilter says so in the line it writes.
        with contextlib.suppress(Exception):
            record.msg, record.args = record.getMessage(), None
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None  # the frames stay on this thread
        return record


@contextlib.contextmanager
def written_off_thread() -> Iterator[None]:
    """Within the block, the handlers ``configure_logging`` installed run on a thread of their own.

    Logging a record then costs its caller a copy and a queue put. On leaving, everything
    queued is written before the handlers are put back, so what is printed after the block
    (the session summary) comes after the last line logged within it.
    """
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if _is_own(handler)]
    if not ours:
        yield
        return
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    handoff = _Handoff(records)
    handoff.set_name(f"{_HANDLER_PREFIX}{type(handoff).__name__}")
    listener = QueueListener(records, *ours, respect_handler_level=True)
    for handler in ours:
        root.removeHandler(handler)
    root.addHandler(handoff)
    listener.start()
    try:
        yield
    finally:
        root.removeHandler(handoff)
        listener.stop()  # writes what is queued, then its thread ends
        for handler in ours:
            root.addHandler(handler)
