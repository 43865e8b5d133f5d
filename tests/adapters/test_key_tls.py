"""TLS to Nexus verifies against the OS trust store; a CA bundle variable overrides it; proxies apply.

A local HTTPS stand-in for Nexus, with a certificate from a throwaway CA (trustme), is
reached through the real app and the real gateway.
"""

from __future__ import annotations

import http.server
import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import falcon.testing
import pytest
import responses
import trustme

from adapters.nexus.gateway import RequestsConverseGateway, TrustStoreAdapter
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.in_process import LocalClient

HELLO = {"model": "claude-opus-4.6", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
ANSWER = {
    "output": {"message": {"role": "assistant", "content": [{"text": "over TLS"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 1, "outputTokens": 2, "totalTokens": 3},
}


class _Nexus(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's spelling
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps(ANSWER).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "company-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="module")
def nexus_url(ca: trustme.CA) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Nexus)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    # A short poll interval, so that shutdown() returns at once rather than in 0.5 s.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"https://localhost:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def ask(url: str, environ: dict[str, str]) -> falcon.testing.Result:
    gateway = RequestsConverseGateway(endpoint_url=url, api_key="nxk-tls-test-key", environ=environ)
    return LocalClient(create_app(Settings(api_key="k", endpoint_url=url), gateway)).simulate_post(
        "/v1/messages", json=HELLO
    )


def test_an_unknown_ca_is_refused(nexus_url: str) -> None:
    result = ask(nexus_url, {})
    assert result.status_code == 502
    assert "TLS handshake" in result.json["error"]["message"]


@pytest.mark.parametrize("var", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_a_ca_bundle_variable_overrides_the_trust_store(nexus_url: str, ca_file: Path, var: str) -> None:
    result = ask(nexus_url, {var: str(ca_file)})
    assert result.status_code == 200, result.text
    assert result.json["content"] == [{"type": "text", "text": "over TLS"}]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to name a hashed CA file")
def test_a_ca_in_the_os_trust_store_just_works(
    nexus_url: str, ca_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # OpenSSL's default CA directory is the OS store on Linux; SSL_CERT_DIR points it at one
    # holding the company CA. requests' own certifi bundle would not know this CA.
    subject_hash = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", str(ca_file)], capture_output=True, text=True, check=True
    ).stdout.strip()
    shutil.copy(ca_file, tmp_path / f"{subject_hash}.0")
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)

    result = ask(nexus_url, {})

    assert result.status_code == 200, result.text


def test_the_environment_is_read_once_when_the_gateway_is_built(nexus_url: str, ca_file: Path) -> None:
    environ: dict[str, str] = {}
    gateway = RequestsConverseGateway(endpoint_url=nexus_url, api_key="nxk-tls-test-key", environ=environ)
    environ["REQUESTS_CA_BUNDLE"] = str(ca_file)  # too late: never looked up per request
    result = LocalClient(create_app(Settings(api_key="k", endpoint_url=nexus_url), gateway)).simulate_post(
        "/v1/messages", json=HELLO
    )
    assert result.status_code == 502


def test_the_trust_store_lives_in_the_adapter_not_the_ssl_module() -> None:
    gateway = RequestsConverseGateway(endpoint_url="https://nexus.example", api_key="nxk-tls-test-key", environ={})
    adapter = gateway._session.get_adapter("https://nexus.example")
    assert isinstance(adapter, TrustStoreAdapter)
    assert ssl.SSLContext.__module__ == "ssl"  # truststore.inject_into_ssl() was not called


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"HTTPS_PROXY": "http://proxy.corp:3128"}, "http://proxy.corp:3128"),
        ({"https_proxy": "http://proxy.corp:3128", "NO_PROXY": "nexus.example"}, None),
        ({"HTTPS_PROXY": "http://proxy.corp:3128", "no_proxy": ".example"}, None),
    ],
)
@responses.activate
def test_https_proxy_and_no_proxy_are_honoured(environ: dict[str, str], expected: str | None) -> None:
    responses.post("https://nexus.example/model/claude-opus-4.6/converse", json=ANSWER)
    gateway = RequestsConverseGateway(endpoint_url="https://nexus.example", api_key="nxk-tls-test-key", environ=environ)

    result = LocalClient(create_app(Settings(api_key="k"), gateway)).simulate_post("/v1/messages", json=HELLO)

    assert result.status_code == 200
    proxies = responses.calls[0].request.req_kwargs["proxies"]  # type: ignore[attr-defined]
    assert proxies.get("https") == expected
