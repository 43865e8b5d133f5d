"""The adapter that remembers pool keys and TLS settings answers as the stock one, asking the disk once."""

from __future__ import annotations

import os
import types
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from adapters.nexus.pool_keys import RememberingAdapter

URLS = ["https://nexus.example/model/m/converse", "http://127.0.0.1:9/model/m/converse-stream"]


def _settings(adapter: HTTPAdapter, url: str, verify: Any, cert: Any) -> dict[str, Any]:
    conn = types.SimpleNamespace()
    adapter.cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]
    return vars(conn)


@pytest.fixture
def bundle(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "ca.pem").write_text("not read here")
    (tmp_path / "certs").mkdir()
    (tmp_path / "client.pem").write_text("x")
    return {"file": str(tmp_path / "ca.pem"), "dir": str(tmp_path / "certs"), "client": str(tmp_path / "client.pem")}


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("verify", [True, False, "file", "dir"])
@pytest.mark.parametrize("cert", [None, "client", ("client", "client")])
def test_tls_settings_and_pool_keys_are_the_stock_adapters(
    url: str, verify: Any, cert: Any, bundle: dict[str, Any]
) -> None:
    verify = bundle.get(verify, verify) if isinstance(verify, str) else verify
    cert = tuple(bundle[c] for c in cert) if isinstance(cert, tuple) else bundle.get(cert) if cert else None
    stock, remembering = HTTPAdapter(), RememberingAdapter()
    request = requests.Request("POST", url).prepare()
    for _ in range(2):  # worked out, then remembered
        assert _settings(remembering, url, verify, cert) == _settings(stock, url, verify, cert)
        key = remembering.build_connection_pool_key_attributes(request, verify, cert)
        assert key == stock.build_connection_pool_key_attributes(request, verify, cert)
    key[1]["changed"] = True  # callers get copies: what is remembered stays as it was
    assert "changed" not in remembering.build_connection_pool_key_attributes(request, verify, cert)[1]


def test_the_disk_is_asked_once_per_endpoint(bundle: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def noting(real: Any) -> Any:
        def asking(path: Any) -> Any:
            asked.append(str(path))
            return real(path)

        return asking

    for name in ("exists", "isdir"):
        monkeypatch.setattr(os.path, name, noting(getattr(os.path, name)))
    adapter = RememberingAdapter()
    request = requests.Request("POST", URLS[0]).prepare()
    for _ in range(5):
        adapter.cert_verify(types.SimpleNamespace(), URLS[0], bundle["file"], None)
        adapter.build_connection_pool_key_attributes(request, bundle["file"], None)
    assert asked and len(asked) <= 3  # the first request's stat calls, none after


def test_a_missing_bundle_is_refused_on_every_request(tmp_path: Path) -> None:
    adapter = RememberingAdapter()
    for _ in range(2):
        with pytest.raises(OSError, match="CA certificate bundle"):
            adapter.cert_verify(types.SimpleNamespace(), URLS[0], str(tmp_path / "gone.pem"), None)
