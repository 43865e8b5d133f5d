"""A bind beyond loopback needs the proxy's access token; the Host check holds on every bind."""

from __future__ import annotations

import json
import re
import shlex
import stat

import falcon.testing
import pytest

from domain.errors import ConfigError
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.adapters.test_cli import home, run, served, user_config  # noqa: F401
from tests.support.fake_gateway import FakeConverseGateway

HELLO = {"model": "claude-opus-4.6", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
TOKEN = "access-token-for-tests"


def wide(**settings: object) -> tuple[falcon.testing.TestClient, FakeConverseGateway]:
    gateway = FakeConverseGateway()
    values = {"api_key": "k", "host": "0.0.0.0", "access_token": TOKEN, **settings}
    return falcon.testing.TestClient(create_app(Settings(**values), gateway)), gateway  # type: ignore[arg-type]


def launch_env(out: str) -> dict[str, str]:
    command = next(line for line in out.splitlines() if " claude --disallowedTools=WebSearch" in line)
    return dict(word.split("=", 1) for word in shlex.split(command)[:-2])


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-api-key": "wrong"}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"x-api-key": ""}],
)
@pytest.mark.parametrize("path", ["/v1/messages", "/health", "/v1/models"])
def test_a_wide_bind_refuses_requests_without_its_token(headers: dict[str, str], path: str) -> None:
    client, gateway = wide()
    call = client.simulate_post if path == "/v1/messages" else client.simulate_get
    result = call(path, json=HELLO, host="127.0.0.1", headers=headers)
    assert result.status_code == 401, result.text
    assert result.json["error"]["type"] == "authentication_error"
    assert "access token" in result.json["error"]["message"]
    assert gateway.calls == []


@pytest.mark.parametrize("headers", [{"x-api-key": TOKEN}, {"Authorization": f"Bearer {TOKEN}"}])
def test_a_wide_bind_serves_the_token_in_either_header(headers: dict[str, str]) -> None:
    client, _ = wide()
    assert client.simulate_post("/v1/messages", json=HELLO, host="127.0.0.1", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("bind", "host", "status"),
    [
        ("0.0.0.0", "rebind.example", 403),
        ("0.0.0.0", "devbox.corp", 200),  # listed in allowed_hosts
        ("0.0.0.0", "DevBox.Corp.:4141", 200),
        ("192.168.7.9", "192.168.7.9:4141", 200),  # the bind address itself
        ("192.168.7.9", "192.168.7.10", 403),
        ("0.0.0.0", "localhost:4141", 200),
    ],
)
def test_the_host_check_holds_on_a_wide_bind_even_with_the_token(bind: str, host: str, status: int) -> None:
    client, _ = wide(host=bind, allowed_hosts=("devbox.corp",))
    result = client.simulate_get("/health", host=host, headers={"x-api-key": TOKEN})
    assert result.status_code == status, result.text


@pytest.mark.parametrize("bind", ["127.0.0.2", "0.0.0.0"])
def test_dns_rebinding_cannot_read_health_on_any_bind(bind: str) -> None:
    client, _ = wide(host=bind)
    result = client.simulate_get("/health", host="rebind.example", headers={"x-api-key": TOKEN})
    assert result.status_code == 403
    assert result.json["error"]["type"] == "permission_error"


def test_a_loopback_bind_needs_no_token_even_if_one_is_kept() -> None:
    client, _ = wide(host="127.0.0.1")
    assert client.simulate_post("/v1/messages", json=HELLO, host="127.0.0.1").status_code == 200


def test_a_wide_app_without_a_token_is_never_built() -> None:
    with pytest.raises(ConfigError, match="access token"):
        create_app(Settings(api_key="k", host="0.0.0.0"), FakeConverseGateway())


def test_start_on_a_wide_bind_generates_keeps_and_prints_the_token(home, served, capsys, monkeypatch):  # noqa: F811
    monkeypatch.setenv("NEXUS_API_KEY", "nxk-from-env-0000")
    run("start", "--host", "0.0.0.0", "--claude-code")

    saved = json.loads(user_config(home).read_text())
    token = saved["access_token"]
    assert len(token) >= 32 and re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert stat.S_IMODE(user_config(home).stat().st_mode) == 0o600
    assert "api_key" not in saved  # start never saves the key
    assert served[0].access_token == token
    assert launch_env(capsys.readouterr().out)["ANTHROPIC_AUTH_TOKEN"] == token

    run("start", "--host", "0.0.0.0", "--claude-code")  # the next start keeps it
    assert served[1].access_token == token
    assert launch_env(capsys.readouterr().out)["ANTHROPIC_AUTH_TOKEN"] == token


def test_start_on_loopback_keeps_the_placeholder_and_writes_nothing(home, served, capsys, monkeypatch):  # noqa: F811
    monkeypatch.setenv("NEXUS_API_KEY", "nxk-from-env-0000")
    run("start", "--claude-code")
    assert not user_config(home).exists()
    assert launch_env(capsys.readouterr().out)["ANTHROPIC_AUTH_TOKEN"] == "nexus-claude-api"


def test_a_wide_dry_run_writes_nothing_and_says_a_token_is_coming(home, served, capsys, monkeypatch):  # noqa: F811
    monkeypatch.setenv("NEXUS_API_KEY", "nxk-from-env-0000")
    run("start", "--host", "0.0.0.0", "--dry-run")
    assert not user_config(home).exists()
    assert "access token generated at first start" in capsys.readouterr().out


def test_config_show_never_shows_the_token(home, capsys):  # noqa: F811
    user_config(home).parent.mkdir(parents=True)
    user_config(home).write_text(json.dumps({"api_key": "nxk-abc-0123456789", "access_token": TOKEN}))
    user_config(home).chmod(0o600)
    run("config", "show")
    out = capsys.readouterr().out
    assert TOKEN not in out and "access_token: <set>" in out
