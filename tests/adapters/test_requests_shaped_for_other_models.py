"""Requests Claude Code shapes for a newer model (``/model opus``) still run on the served one."""

from __future__ import annotations

import logging
from typing import Any

import falcon.testing
import pytest

from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.fake_gateway import FakeConverseGateway

FABLE_SHAPED: dict[str, Any] = {
    "model": "claude-fable-5-2",
    "max_tokens": 128000,
    "thinking": {"type": "adaptive", "display": "omitted"},
    "output_config": {"effort": "medium"},
    "messages": [
        {"role": "user", "content": "hi", "output_config": {"effort": "low", "task_budget": {"total": 5}}},
    ],
}


def post(settings: Settings, body: dict[str, Any]) -> tuple[falcon.testing.Result, FakeConverseGateway]:
    gateway = FakeConverseGateway()
    client = falcon.testing.TestClient(create_app(settings, gateway))
    return client.simulate_post("/v1/messages", json=body, host="127.0.0.1"), gateway


def test_max_tokens_above_the_served_models_limit_is_clamped_and_the_answer_names_it() -> None:
    result, gateway = post(Settings(api_key="k", model="claude-haiku-4.5"), FABLE_SHAPED)
    assert result.status_code == 200, result.text
    assert result.json["model"] == "claude-haiku-4.5"
    [(_, model_id, request)] = gateway.calls
    assert model_id == "claude-haiku-4.5"
    assert request.inference_config is not None and request.inference_config.max_tokens == 64000


def test_the_config_file_can_set_a_models_output_ceiling() -> None:
    settings = Settings(api_key="k", max_output_tokens={"claude-opus-4.6": 32000})
    result, gateway = post(settings, FABLE_SHAPED)
    assert result.status_code == 200, result.text
    request = gateway.calls[0][2]
    assert request.inference_config is not None and request.inference_config.max_tokens == 32000


def test_a_request_within_the_limit_keeps_its_max_tokens() -> None:
    _, gateway = post(Settings(api_key="k"), {**FABLE_SHAPED, "max_tokens": 64000})
    request = gateway.calls[0][2]
    assert request.inference_config is not None and request.inference_config.max_tokens == 64000


def test_safeguards_are_accepted_never_forwarded_and_warned_about_once(caplog: pytest.LogCaptureFixture) -> None:
    body = {
        **FABLE_SHAPED,
        "safeguards": [{"type": "dangerous_tool_use", "classifier_context": {"live_cwd": "/home/me/secret-project"}}],
    }
    gateway = FakeConverseGateway()
    client = falcon.testing.TestClient(create_app(Settings(api_key="k"), gateway))
    headers = {"anthropic-beta": "dangerous-tool-use-2026-09-03,afk-mode-2026-01-31"}
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            result = client.simulate_post("/v1/messages", json=body, headers=headers, host="127.0.0.1")
            assert result.status_code == 200, result.text
    sent = repr([call[2] for call in gateway.calls])
    assert "secret-project" not in sent and "afk-mode" not in sent and "dangerous-tool-use" not in sent
    assert "secret-project" not in caplog.text
    warnings = [r for r in caplog.records if "CLAUDE_CODE_AUTO_MODE_SERVER" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
