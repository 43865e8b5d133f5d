"""The Host check follows the one loopback rule, whatever loopback address the proxy binds."""

from __future__ import annotations

import falcon.testing
import pytest

from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.fake_gateway import FakeConverseGateway

HELLO = {"model": "claude-opus-4.6", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize("bind", ["127.0.0.2", "::1", "localhost"])
def test_every_loopback_bind_refuses_foreign_host_names(bind: str) -> None:
    client = falcon.testing.TestClient(create_app(Settings(api_key="k", host=bind), FakeConverseGateway()))
    refused = client.simulate_post("/v1/messages", json=HELLO, host="rebind.example", port=4141)
    assert refused.status_code == 403
    assert refused.json["error"]["type"] == "permission_error"
    served = client.simulate_post("/v1/messages", json=HELLO, host="127.0.0.2", port=4141)
    assert served.status_code == 200
