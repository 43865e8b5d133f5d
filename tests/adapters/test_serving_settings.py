"""The serving machinery's limits can be set in the config file, within sane ranges."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import ConfigError
from entrypoints.config import resolve_settings


class Store:
    """A config file held in memory."""

    path = "/home/me/.config/nexus-claude-api/config.json"

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def load(self) -> dict[str, Any]:
        return dict(self._values)

    def save(self, settings: dict[str, Any]) -> None:
        self._values = settings


def test_stream_limits_come_from_the_config_file() -> None:
    stored = {
        "api_key": "k",
        "max_streams": 8,
        "worker_threads": 4,
        "stream_idle_limit": 30,
        "body_budget_bytes": 1 << 26,
    }
    settings, sources = resolve_settings({}, Store(stored), {})
    assert (settings.max_streams, settings.worker_threads) == (8, 4)
    assert (settings.stream_idle_limit, settings.body_budget_bytes) == (30.0, 1 << 26)
    assert sources["max_streams"].startswith("config file")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("max_streams", 0),
        ("max_streams", 1.5),
        ("worker_threads", True),
        ("stream_idle_limit", 1e999),
        ("stream_idle_limit", 300),
        ("body_budget_bytes", "big"),
    ],
)
def test_out_of_range_limits_are_refused_naming_the_key(key: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=key):
        resolve_settings({}, Store({"api_key": "k", key: value}), {})


@pytest.mark.parametrize(("stored", "expected"), [({}, True), ({"one_cpu": False}, False), ({"one_cpu": True}, True)])
def test_start_keeps_to_one_cpu_unless_the_config_file_says_not(stored: dict[str, Any], expected: bool) -> None:
    settings, _ = resolve_settings({}, Store({"api_key": "k", **stored}), {})
    assert settings.one_cpu is expected


def test_one_cpu_takes_only_true_or_false() -> None:
    with pytest.raises(ConfigError, match="one_cpu"):
        resolve_settings({}, Store({"api_key": "k", "one_cpu": "no"}), {})
