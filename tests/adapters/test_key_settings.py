"""Settings are finite and in range; values written to the log cannot forge lines."""

from __future__ import annotations

import logging

import falcon.testing
import pytest

from domain.errors import ConfigError
from entrypoints.app import create_app
from entrypoints.logs import configure_logging
from entrypoints.settings import Settings
from tests.adapters.test_cli import home, run, served, user_config  # noqa: F401
from tests.support.fake_gateway import FakeConverseGateway


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ('"read_timeout": 1e999', "read_timeout"),
        ('"read_timeout": Infinity', "read_timeout"),
        ('"read_timeout": NaN', "read_timeout"),
        ('"read_timeout": "nan"', "read_timeout"),
        ('"read_timeout": 86400', "read_timeout"),
        ('"connect_timeout": -1', "connect_timeout"),
        ('"connect_timeout": 0', "connect_timeout"),
        ('"connect_timeout": -Infinity', "connect_timeout"),
        ('"connect_timeout": true', "connect_timeout"),
    ],
)
def test_timeouts_that_are_not_finite_or_in_range_are_refused_at_start(home, served, capsys, raw, key):  # noqa: F811
    path = user_config(home)
    path.parent.mkdir(parents=True)
    path.write_text('{"api_key": "k", ' + raw + "}")
    path.chmod(0o600)

    with pytest.raises(SystemExit) as exited:
        run("start", "--dry-run")

    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert f"{key} in config file {path}" in err and "at most" in err
    assert "Traceback" not in err
    assert served == []


def test_timeouts_in_range_are_used(home, served):  # noqa: F811
    path = user_config(home)
    path.parent.mkdir(parents=True)
    path.write_text('{"api_key": "k", "read_timeout": 3600, "connect_timeout": 2.5}')
    path.chmod(0o600)
    run("start")
    assert (served[0].read_timeout, served[0].connect_timeout) == (3600.0, 2.5)


@pytest.mark.parametrize("value", [float("inf"), float("nan"), -1.0, 0.0, 1e9])
def test_settings_built_any_other_way_are_checked_too(value: float) -> None:
    with pytest.raises(ConfigError, match="read_timeout"):
        Settings(api_key="k", read_timeout=value)


def test_verbose_logs_cannot_be_forged_through_a_request_path(tmp_path) -> None:
    log_file = tmp_path / "logs" / "nexus-claude-api.log"
    configure_logging(log_file, verbose=True)
    client = falcon.testing.TestClient(create_app(Settings(api_key="k"), FakeConverseGateway()))
    forged = "/v1/models/x%0D%0A2026-01-01 00:00:00,000 ERROR nexus_claude_api: forged%E2%80%A8line"

    client.simulate_get(forged, host="127.0.0.1")
    logging.getLogger("nexus_claude_api.test").info("value %s", "a\rb\nc")
    for handler in logging.getLogger().handlers:
        handler.flush()

    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert not any(line.startswith("2026-01-01 00:00:00,000 ERROR") for line in lines)
    assert any("/v1/models/x\\r\\n2026-01-01" in line and "forged\\u2028line" in line for line in lines)
    assert any(line.endswith("value a\\rb\\nc") for line in lines)
