"""Logging while serving: records written by a thread of their own, masked, none lost."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entrypoints.logs import _FORMAT, _LineFormatter, configure_logging, redact, written_off_thread

SECRET = "nxk-thread-secret-1234"


def own_handlers() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if (h.get_name() or "").startswith("nexus-claude-api:")]


def test_records_are_written_by_another_thread_and_masked(tmp_path: Path) -> None:
    log_file = tmp_path / "proxy.log"
    configure_logging(log_file, verbose=False, secrets=[SECRET])
    writers: list[str] = []
    file_handler = next(h for h in own_handlers() if "File" in (h.get_name() or ""))

    def note_writer(record: logging.LogRecord) -> bool:
        writers.append(threading.current_thread().name)
        return True

    file_handler.addFilter(note_writer)
    with written_off_thread():
        logging.getLogger("nexus_claude_api.traffic").info("key %s and Bearer abc.def", SECRET)
    assert writers and threading.current_thread().name not in writers
    text = log_file.read_text()
    assert "key **** and Bearer ****" in text
    assert SECRET not in text and "abc.def" not in text


def test_every_line_is_written_in_order_when_the_block_ends(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log_file = tmp_path / "proxy.log"
    configure_logging(log_file, verbose=False)
    traffic = logging.getLogger("nexus_claude_api.traffic")
    with written_off_thread():
        for n in range(500):
            traffic.info("line %d", n)
    print("session: after the block")  # as serve() prints its summary
    lines = [line.rpartition(": ")[2] for line in log_file.read_text().splitlines()]
    assert lines == [f"line {n}" for n in range(500)]
    err = capsys.readouterr()
    assert err.err.splitlines()[-1].endswith("line 499") and err.out == "session: after the block\n"


def test_a_traceback_keeps_its_lines_and_a_forged_line_break_is_escaped(tmp_path: Path) -> None:
    log_file = tmp_path / "proxy.log"
    configure_logging(log_file, verbose=False, secrets=[SECRET])
    with written_off_thread():
        try:
            raise ValueError(f"failed with {SECRET}")
        except ValueError:
            logging.getLogger("nexus_claude_api").exception("path /x\nFORGED")
    text = log_file.read_text()
    assert "path /x\\nFORGED" in text and "\nFORGED" not in text
    assert "Traceback (most recent call last):\n" in text and "ValueError: failed with ****" in text
    assert SECRET not in text


def test_the_handlers_are_back_after_the_block(tmp_path: Path) -> None:
    configure_logging(tmp_path / "proxy.log", verbose=False)
    before = own_handlers()
    with written_off_thread():
        assert [type(h).__name__ for h in own_handlers()] == ["_Handoff"]
    assert own_handlers() == before


def test_records_still_reach_caplog(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    configure_logging(tmp_path / "proxy.log", verbose=False)
    with written_off_thread():
        logging.getLogger("nexus_claude_api").warning("seen by %s", "caplog")
    assert "seen by caplog" in caplog.text


def test_without_our_handlers_the_block_changes_nothing() -> None:
    before = list(logging.getLogger().handlers)
    with written_off_thread():
        assert list(logging.getLogger().handlers) == before


@settings(max_examples=300, deadline=None)
@given(created=st.lists(st.floats(0, 4e9, allow_nan=False), min_size=1, max_size=6))
def test_each_line_has_the_time_the_stock_formatter_writes(created: list[float]) -> None:
    ours, stock = _LineFormatter(), logging.Formatter(_FORMAT)
    for when in sorted(created) + created:  # the same second again, and back in time
        record = logging.makeLogRecord({"msg": "m", "created": when, "msecs": (when % 1) * 1000})
        assert ours.format(record) == stock.format(record)
        assert ours.formatTime(record, "%H:%M") == stock.formatTime(record, "%H:%M")


def test_secrets_are_masked_longest_first_whatever_order_they_come_in() -> None:
    assert redact("key nxk-abc-long and nxk-abc", ["nxk-abc", "nxk-abc-long"]) == "key **** and ****"
