"""`nexus-claude-api doctor` and start-up problems, through the console-script entry point.

The command line runs in process (`cli.main`) against the fake Nexus; one run goes through a
real interpreter to show that a start-up problem is one line with no traceback.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from entrypoints import cli
from tests.support import nexus_http
from tests.support.fake_nexus import FakeNexus, error_reply

KEY = "nxk-doctor-e2e-secret-9876"


@pytest.fixture(scope="module", autouse=True)
def no_nagle() -> Iterator[None]:
    # The fake writes headers and body apart; with Nagle on, each answer waits out the
    # client's delayed ACK (about 40 ms), which is most of these tests' time.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nexus_http._Handler, "disable_nagle_algorithm", True)
        yield


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_nexus: FakeNexus) -> Path:
    """A user whose key is in the environment, whose Nexus is the fake, and who has Claude Code."""
    home, work, bin_dir = tmp_path / "home", tmp_path / "work", tmp_path / "bin"
    for directory in (home, work, bin_dir):
        directory.mkdir()
    (bin_dir / "claude").write_text("#!/bin/sh\necho '2.1.332 (Claude Code)'\n")
    (bin_dir / "claude").chmod(0o755)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("AWS_BEARER_TOKEN_BEDROCK", raising=False)
    monkeypatch.setenv("NEXUS_API_KEY", KEY)
    monkeypatch.setenv("NEXUS_ENDPOINT_URL", fake_nexus.url)
    return home


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_doctor_json_passes_against_a_working_nexus(user: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["doctor", "--json"])  # no SystemExit: status 0

    checks = json.loads(capsys.readouterr().out)
    assert {check["name"] for check in checks} >= {"key accepted", "converse claude-opus-4.6", "stream claude-opus-4.6"}
    assert all(check["ok"] is not False for check in checks if check["essential"])
    assert set(checks[0]) == {"name", "ok", "essential", "detail", "fix"}


def test_doctor_fails_with_status_1_and_never_shows_the_key(
    user: Path, fake_nexus: FakeNexus, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_nexus.enqueue(error_reply(403, "AccessDeniedException", f"Authentication failed for {KEY}", capital_m=True))

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["doctor"])

    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert KEY not in out
    assert any(line.startswith("FAIL  key accepted:") and "-> fix:" in line for line in out.splitlines())
    assert out.splitlines()[-1] == "1 essential check(s) failed: key accepted"


def test_doctor_no_call_spends_nothing(user: Path, fake_nexus: FakeNexus, capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["doctor", "--no-call"])

    assert {r.operation for r in fake_nexus.requests} == {"count-tokens"}
    assert "skip  converse claude-opus-4.6: not checked: --no-call skips the billed calls" in capsys.readouterr().out


def test_start_on_a_taken_port_is_one_line_before_any_banner(
    user: Path, taken_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["start", "--port", str(taken_port)])

    captured = capsys.readouterr()
    assert exit_info.value.code == 2
    assert captured.out == ""  # no "listening on", no launch command
    assert captured.err == (
        f"error: port {taken_port} on 127.0.0.1 is already in use (another nexus-claude-api?); "
        "stop that program or choose another port with --port\n"
    )


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("endpoint", "endpoint_url 'https://nexus.example:44x' has a port that is not a number from 1 to 65535"),
        ("config", "is not valid JSON"),
    ],
)
def test_start_with_a_bad_endpoint_or_an_unreadable_config_is_one_line(
    user: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], setup: str, expected: str
) -> None:
    if setup == "endpoint":
        monkeypatch.setenv("NEXUS_ENDPOINT_URL", "https://nexus.example:44x")
    else:
        config_file = user / ".config" / "nexus-claude-api" / "config.json"
        config_file.parent.mkdir(parents=True)
        config_file.write_text("{broken")

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["start"])

    captured = capsys.readouterr()
    assert exit_info.value.code == 2
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1 and expected in captured.err


def test_a_taken_port_has_no_traceback_in_a_real_process(user: Path, taken_port: int) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from entrypoints.cli import main; main()", "start", "--port", str(taken_port)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={"HOME": str(user), "NEXUS_API_KEY": KEY, "PYTHONPATH": str(ROOT)},
        check=False,
    )

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"error: port {taken_port} on 127.0.0.1 is already in use (another nexus-claude-api?); "
        "stop that program or choose another port with --port"
    ]
