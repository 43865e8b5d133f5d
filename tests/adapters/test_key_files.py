"""Files that hold the key are treated as ssh treats its own."""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from adapters import config_store
from entrypoints import logs
from entrypoints.logs import configure_logging
from tests.adapters.test_cli import home, run, served, user_config, write_config  # noqa: F401


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as exited:
        run(*args)
    assert exited.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("command", [["start"], ["config", "show"], ["config", "set", "--model", "m"]])
def test_a_config_directory_others_can_write_is_refused_with_the_fix(home, served, capsys, command):  # noqa: F811
    path = user_config(home)
    write_config(path, api_key="k")
    path.chmod(0o600)
    path.parent.chmod(0o777)

    err = refused(capsys, *command)

    assert f"chmod go-w {path.parent}" in err
    assert served == []


def test_a_config_file_others_can_write_is_refused(home, served, capsys):  # noqa: F811
    path = user_config(home)
    write_config(path, api_key="k")
    path.chmod(0o602)

    assert f"chmod go-w {path}" in refused(capsys, "start")
    assert served == []


def test_group_write_is_refused_unless_the_group_is_the_users_own(home, served, capsys, monkeypatch):  # noqa: F811
    path = user_config(home)
    write_config(path, api_key="k")
    path.chmod(0o620)
    monkeypatch.setattr(config_store, "_private_group", lambda gid, uid: False)
    assert "can be written by other users" in refused(capsys, "start")

    monkeypatch.setattr(config_store, "_private_group", lambda gid, uid: True)
    run("start")
    assert served[0].api_key == "k"


def test_a_config_file_another_user_owns_is_refused(home, served, capsys, monkeypatch):  # noqa: F811
    path = user_config(home)
    write_config(path, api_key="k")
    path.chmod(0o600)
    monkeypatch.setattr(os, "getuid", lambda: path.stat().st_uid + 4242)

    err = refused(capsys, "start")

    assert "belongs to another user" in err and f'sudo chown "$USER" {path.parent}' in err
    assert served == []


def test_a_key_file_others_can_read_is_warned_about_and_tightened(home, served, caplog):  # noqa: F811
    path = user_config(home)
    write_config(path, api_key="nxk-readable-0123456789")
    path.chmod(0o644)

    with caplog.at_level(logging.WARNING):
        run("start")

    assert mode(path) == 0o600
    assert served[0].api_key == "nxk-readable-0123456789"
    assert any("other users could read it" in r.getMessage() and str(path) in r.getMessage() for r in caplog.records)
    assert "nxk-readable" not in caplog.text


def test_a_readable_file_without_a_secret_is_left_alone(home, served, monkeypatch):  # noqa: F811
    monkeypatch.setenv("NEXUS_API_KEY", "nxk-from-env-0000")
    path = user_config(home)
    write_config(path, model="claude-opus-4.6")
    path.chmod(0o644)
    run("start")
    assert mode(path) == 0o644


def test_rotated_log_files_are_created_0600(tmp_path, monkeypatch):
    monkeypatch.setattr(logs, "_MAX_BYTES", 200)
    previous = os.umask(0o022)
    try:
        log_file = tmp_path / "logs" / "nexus-claude-api.log"
        configure_logging(log_file, verbose=True)
        for n in range(40):
            logging.getLogger("nexus_claude_api.test").info("line %d of a log that rolls over", n)
    finally:
        os.umask(previous)
    files = sorted(log_file.parent.iterdir())
    assert len(files) == 4  # the log and its three backups
    assert {f.name: mode(f) for f in files} == dict.fromkeys((f.name for f in files), 0o600)


def test_dev_outside_a_checkout_that_ignores_the_file_warns(home, served, capsys, monkeypatch):  # noqa: F811
    monkeypatch.setenv("NEXUS_API_KEY", "nxk-from-env-0000")
    run("start", "--dev")
    err = capsys.readouterr().err
    assert "git does not ignore" in err and "nexus-claude-api.local.json" in err

    monkeypatch.setattr(shutil, "which", lambda name: None)  # no git at all: still warned
    run("config", "set", "--dev", "--model", "m")
    assert "git does not ignore" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_dev_in_a_checkout_that_ignores_the_file_does_not_warn(home, served, capsys, monkeypatch):  # noqa: F811
    monkeypatch.setenv("NEXUS_API_KEY", "nxk-from-env-0000")
    for var in ("GIT_DIR", "GIT_WORK_TREE"):
        monkeypatch.delenv(var, raising=False)
    subprocess.run(["git", "init", "-q"], check=True)
    Path(".gitignore").write_text("nexus-claude-api.local.json\n")

    run("start", "--dev")

    assert "git does not ignore" not in capsys.readouterr().err


def test_no_log_file_grows_past_its_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(logs, "_MAX_BYTES", 2000)
    log_file = tmp_path / "logs" / "nexus-claude-api.log"
    configure_logging(log_file, verbose=True)
    for n in range(60):
        logging.getLogger("nexus_claude_api.test").info("line %d of a log that rolls over %s", n, "x" * (n % 7) * 9)
    files = sorted(log_file.parent.iterdir())
    assert len(files) == 4
    sizes = [f.stat().st_size for f in files]
    assert all(1500 < size <= 2000 for size in sizes[1:]), sizes  # the backups: each filled up to the limit
