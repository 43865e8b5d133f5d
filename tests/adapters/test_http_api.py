"""The HTTP surface through the real Falcon app, with a fake Nexus gateway."""

from __future__ import annotations

from typing import Any

import falcon.testing
import pytest

from domain import errors
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.fake_gateway import FakeConverseGateway

HELLO = {"model": "claude-opus-4.6", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}


class LocalClient(falcon.testing.TestClient):
    """Falcon's simulated requests say "falconframework.org" unless told; the proxy serves
    loopback host names only."""

    def simulate_request(self, *args: Any, **kwargs: Any) -> falcon.testing.Result:
        kwargs.setdefault("host", "127.0.0.1")
        return super().simulate_request(*args, **kwargs)


@pytest.fixture
def client(gateway: FakeConverseGateway) -> falcon.testing.TestClient:
    settings = Settings(api_key="secret-key", max_body_bytes=64 * 1024)
    return LocalClient(create_app(settings, gateway))


def assert_error(result: falcon.testing.Result, status: int, kind: str, *words: str) -> None:
    assert result.status_code == status, result.text
    body = result.json
    assert body["type"] == "error" and body["error"]["type"] == kind
    assert body["request_id"] == result.headers["request-id"]
    for word in words:
        assert word in body["error"]["message"]


def test_non_streaming_text_message(client: falcon.testing.TestClient, gateway: FakeConverseGateway) -> None:
    result = client.simulate_post("/v1/messages", params={"beta": "true"}, json=HELLO)
    assert result.status_code == 200
    body = result.json
    assert body["type"] == "message" and body["role"] == "assistant" and body["model"] == "claude-opus-4.6"
    assert body["content"] == [{"type": "text", "text": "Hello!"}]
    assert body["stop_reason"] == "end_turn" and body["stop_sequence"] is None
    assert body["usage"] == {
        "input_tokens": 12,
        "output_tokens": 3,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    assert result.headers["request-id"].startswith("req_")
    [(operation, model_id, _)] = gateway.calls
    assert (operation, model_id) == ("converse", "claude-opus-4.6")


def test_sonnet_and_haiku_ids_go_to_the_exposed_model(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway
) -> None:
    for model in ("claude-sonnet-4-5-20250929", "claude-3-5-haiku-20241022", "sonnet[1m]"):
        result = client.simulate_post("/v1/messages", json={**HELLO, "model": model})
        # The model that served the request, not the alias asked for (pitfalls.md #25).
        assert result.json["model"] == "claude-opus-4.6"
    assert [model_id for _, model_id, _ in gateway.calls] == ["claude-opus-4.6"] * 3


def test_inbound_credentials_and_versions_are_accepted(client: falcon.testing.TestClient) -> None:
    headers = {"x-api-key": "anything", "Authorization": "Bearer x", "anthropic-version": "2026-10-21"}
    assert client.simulate_post("/v1/messages", json=HELLO, headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{not json", ("not valid JSON",)),
        (b"", ("empty",)),
        (b"[1, 2]", ("JSON object",)),
        ({"model": "claude-opus-4.6", "max_tokens": 5}, ("messages", "required")),
        ({**HELLO, "max_tokens": "many"}, ("max_tokens", "integer")),
        ({**HELLO, "max_tokens": None}, ("max_tokens",)),
        ({k: v for k, v in HELLO.items() if k != "max_tokens"}, ("max_tokens", "required")),
        ({**HELLO, "messages": [{"role": "user", "content": [{"text": "x"}]}]}, ("messages.0.content.0.type",)),
        (
            {**HELLO, "messages": [{"role": "user", "content": [{"type": "audio"}]}]},
            ("messages.0.content.0.type", "audio"),
        ),
        ({**HELLO, "messages": [{"role": "robot", "content": "x"}]}, ("messages.0.role",)),
        ({**HELLO, "temperature": "hot"}, ("temperature",)),
        (b'{"model": "claude-opus-4.6", "max_tokens": 5, "temperature": NaN, "messages": []}', ("NaN",)),
        (b"[" * 20_000 + b"]" * 20_000, ("nested too deeply",)),
        ({**HELLO, "messages": []}, ("messages", "at least one")),
    ],
)
def test_bad_requests_get_a_400_naming_the_problem(
    client: falcon.testing.TestClient, body: Any, words: tuple[str, ...]
) -> None:
    kwargs = {"body": body} if isinstance(body, bytes) else {"json": body}
    assert_error(client.simulate_post("/v1/messages", **kwargs), 400, "invalid_request_error", *words)
    # and the server keeps serving
    assert client.simulate_post("/v1/messages", json=HELLO).status_code == 200


def test_unknown_model_is_404_naming_the_available_ones(client: falcon.testing.TestClient) -> None:
    assert_error(
        client.simulate_post("/v1/messages", json={**HELLO, "model": "gpt-4o"}),
        404,
        "not_found_error",
        "claude-opus-4.6",
    )


def test_huge_body_is_413(client: falcon.testing.TestClient) -> None:
    big = {**HELLO, "messages": [{"role": "user", "content": "x" * 70_000}]}
    assert_error(client.simulate_post("/v1/messages", json=big), 413, "request_too_large")


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        (errors.UpstreamRejectedError("bad field"), 400, "invalid_request_error"),
        (errors.UpstreamAuthError("AI Nexus refused the API key"), 403, "permission_error"),
        (errors.UpstreamNotFoundError("no such model"), 404, "not_found_error"),
        (errors.UpstreamThrottledError("slow down"), 429, "rate_limit_error"),
        (errors.UpstreamOverloadedError("busy"), 503, "api_error"),
        (errors.UpstreamTimeoutError("too slow"), 504, "timeout_error"),
        (errors.UpstreamUnreachableError("cannot connect"), 502, "api_error"),
        (errors.UpstreamFailureError("broken"), 502, "api_error"),
    ],
)
def test_nexus_failures_become_anthropic_errors(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway, error: Exception, status: int, kind: str
) -> None:
    def fail(_: Any) -> Any:
        raise error

    gateway.on_converse = fail
    result = client.simulate_post("/v1/messages", json=HELLO)
    assert_error(result, status, kind, str(error))
    if status in (429, 503):
        assert result.headers["retry-after"].isdigit()
    # Claude Code gives up after three "overloaded" errors on Opus; it must never see one.
    assert "overloaded" not in result.text


def test_an_unexpected_failure_is_a_500_that_reveals_nothing(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway
) -> None:
    def crash(_: Any) -> Any:
        raise RuntimeError("secret-key leaked in a bug")

    gateway.on_converse = crash
    result = client.simulate_post("/v1/messages", json=HELLO)
    assert_error(result, 500, "api_error")
    assert "secret-key" not in result.text


def test_health_root_and_head(client: falcon.testing.TestClient) -> None:
    for path in ("/", "/health"):
        body = client.simulate_get(path).json
        assert body["status"] == "healthy"
        assert body["models"] == ["claude-opus-4.6"] and body["upstream"] == "genai-nexus.api.corpinter.net"
        assert body["version"]
    assert client.simulate_head("/").status_code == 200
    assert "secret-key" not in client.simulate_get("/health").text


def test_models_list_and_pagination(client: falcon.testing.TestClient) -> None:
    body = client.simulate_get("/v1/models").json
    assert body == {
        "data": [
            {
                "type": "model",
                "id": "claude-opus-4.6",
                "display_name": "Claude Opus 4.6",
                "created_at": body["data"][0]["created_at"],
            }
        ],
        "has_more": False,
        "first_id": "claude-opus-4.6",
        "last_id": "claude-opus-4.6",
    }
    after = client.simulate_get("/v1/models", params={"after_id": "claude-opus-4.6"}).json
    assert after == {"data": [], "has_more": False, "first_id": None, "last_id": None}
    assert_error(client.simulate_get("/v1/models", params={"limit": "0"}), 400, "invalid_request_error", "limit")


def test_model_lookup(client: falcon.testing.TestClient) -> None:
    assert client.simulate_get("/v1/models/claude-opus-4.6").json["id"] == "claude-opus-4.6"
    assert_error(client.simulate_get("/v1/models/gpt-4o"), 404, "not_found_error", "gpt-4o")


def test_unknown_routes_are_anthropic_shaped_404s(client: falcon.testing.TestClient) -> None:
    assert_error(client.simulate_post("/api/event_logging/batch", json={}), 404, "not_found_error")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("thinking", {"type": "enabled", "budget_tokens": 2000}),
        ("thinking", {"type": "adaptive", "display": "omitted"}),
        ("thinking", {"type": "disabled"}),
        ("tool_choice", {"type": "auto"}),
        ("tool_choice", {"type": "any"}),
        ("tool_choice", {"type": "tool", "name": "Read"}),
        ("tool_choice", {"type": "none"}),
    ],
)
def test_every_thinking_and_tool_choice_type_is_accepted(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway, field: str, value: dict[str, Any]
) -> None:
    tools = [{"name": "Read", "input_schema": {"type": "object"}}]
    result = client.simulate_post("/v1/messages", json={**HELLO, "max_tokens": 4000, "tools": tools, field: value})
    assert result.status_code == 200, result.text
    assert_error(
        client.simulate_post("/v1/messages", json={**HELLO, field: {"type": "sometimes"}}),
        400,
        "invalid_request_error",
        f"{field}.type",
        "sometimes",
    )


@pytest.mark.parametrize(
    "where",
    [
        {"headers": {"Origin": "https://evil.example", "Content-Type": "text/plain"}},
        {"host": "attacker.example", "port": 4141},
        {"host": "rebind.example"},
    ],
)
def test_browser_pages_and_foreign_hosts_cannot_use_the_key(
    client: falcon.testing.TestClient, gateway: FakeConverseGateway, where: dict[str, Any]
) -> None:
    result = client.simulate_post("/v1/messages", json=HELLO, **where)
    assert_error(result, 403, "permission_error")
    assert gateway.calls == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_loopback_hosts_are_served(client: falcon.testing.TestClient, host: str) -> None:
    assert client.simulate_post("/v1/messages", json=HELLO, host=host, port=4141).status_code == 200


def test_an_explicit_public_bind_accepts_listed_host_names_with_its_token(gateway: FakeConverseGateway) -> None:
    settings = Settings(api_key="k", host="0.0.0.0", access_token="tok", allowed_hosts=("devbox.corp",))
    public = LocalClient(create_app(settings, gateway))
    token = {"x-api-key": "tok"}
    assert public.simulate_post("/v1/messages", json=HELLO, host="devbox.corp", headers=token).status_code == 200
    assert public.simulate_post("/v1/messages", json=HELLO, host="other.corp", headers=token).status_code == 403
