"""The AI Nexus outbound adapter: Bedrock Runtime REST over a pooled ``requests`` session."""

from __future__ import annotations

import functools
import logging
import os
import ssl
from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import quote, urlsplit

import orjson
import requests
import truststore
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.util.retry import Retry

from adapters.nexus import converse_wire
from adapters.nexus.connections import OpenConnections, track
from adapters.nexus.errors import error_from_response, redirect_error, translated_errors
from adapters.nexus.json_body import JsonBody, json_bytes
from adapters.nexus.pool_keys import RememberingAdapter
from adapters.nexus.stream import RequestsConverseStream
from domain.errors import UpstreamFailureError
from domain.vocab import converse as c

log = logging.getLogger("nexus_claude_api.nexus")


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer <key>``, as Bedrock API keys are sent; never shown in repr."""

    def __init__(self, api_key: str) -> None:
        self._api_key = api_key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Add the bearer header to ``request``."""
        request.headers["Authorization"] = f"Bearer {self._api_key}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(<redacted>)"


# Once, on a fresh connection, when the connection could not be made (connect errors,
# refused or reset before a byte of the request was written). A pooled connection found
# dropped when taken from the pool is replaced by urllib3 itself before anything is sent.
# Never after bytes were written (read errors, whatever their cause: urllib3 cannot tell a
# keep-alive connection Nexus dropped from one that took the request and died), nor on
# any status.
FRESH_CONNECTION_RETRY = Retry(total=1, connect=1, read=0, status=0, other=0, redirect=0)

# A CA bundle named here replaces the OS trust store, as these variables promise elsewhere.
CA_BUNDLE_VARS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


class TrustStoreAdapter(RememberingAdapter):
    """An ``HTTPAdapter`` whose TLS verifies against the operating system's trust store.

    A company CA installed on the machine (TLS inspection) then just works, as with pip;
    ``truststore`` goes into this adapter only, never into the process's ``ssl`` module.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._ssl_context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        super().__init__(**kwargs)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        """Pools whose connections use the trust-store context."""
        pool_kwargs.setdefault("ssl_context", self._ssl_context)
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        """Through ``HTTPS_PROXY`` too, the TLS to Nexus uses the trust-store context."""
        proxy_kwargs.setdefault("ssl_context", self._ssl_context)
        return super().proxy_manager_for(proxy, **proxy_kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """Verification on, but without requests' certifi bundle loaded over the OS store."""
        super().cert_verify(conn, url, verify, cert)
        if verify is True:
            conn.ca_certs = None


def _session(pool_size: int, api_key: str, base_url: str, environ: Mapping[str, str]) -> requests.Session:
    session = requests.Session()
    var = ca_bundle_var(environ)
    bundle = environ[var] if var else None
    # One pool per host, wide enough for every concurrent stream; a POST is retried only
    # where no byte of it can have reached Nexus, since a retried generation is billed twice.
    pools: dict[str, Any] = {"pool_connections": 4, "pool_maxsize": pool_size, "max_retries": FRESH_CONNECTION_RETRY}
    adapter = RememberingAdapter(**pools) if bundle else TrustStoreAdapter(**pools)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    # The environment is read here, once, not on every request: HTTPS_PROXY and NO_PROXY
    # for this endpoint, and a CA bundle. ~/.netrc is never consulted, so it cannot
    # replace the session-wide key.
    session.trust_env = False
    session.proxies = dict(environ_proxies(base_url, environ))
    session.verify = bundle or True
    session.auth = BearerAuth(api_key)
    return session


def ca_bundle_var(environ: Mapping[str, str]) -> str | None:
    """The CA bundle variable that overrides the OS trust store, if one is set."""
    return next((var for var in CA_BUNDLE_VARS if environ.get(var)), None)


def environ_proxies(url: str, environ: Mapping[str, str]) -> Mapping[str, str]:
    """Proxies for ``url`` by scheme (``https``, ``all``...), NO_PROXY applied; lower case first."""
    names = ("https_proxy", "http_proxy", "all_proxy", "no_proxy")
    values = {name: environ.get(name) or environ.get(name.upper()) for name in names}
    proxies = {name.removesuffix("_proxy"): value for name, value in values.items() if value}
    no_proxy = proxies.pop("no", None)
    if requests.utils.should_bypass_proxies(url, no_proxy=no_proxy):
        return {}
    return proxies


@functools.lru_cache(maxsize=256)
def _prepared_url(url: str) -> str:
    """``url`` as requests prepares it (IDNA host, quoting), worked out once per URL."""
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, None)
    assert prepared.url is not None
    return prepared.url


def _json(response: requests.Response) -> Any:
    # orjson first; what it refuses (a lone surrogate, an integer past 64 bits) is read by
    # requests' own json, with its errors.
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.json()


class RequestsConverseGateway:
    """``ConverseGateway`` for AI Nexus, authenticated with ``Authorization: Bearer``.

    TLS verifies against the OS trust store unless ``environ`` (default ``os.environ``,
    read once here) names a CA bundle; its proxy variables apply to this endpoint.
    """

    def __init__(
        self,
        *,
        endpoint_url: str,
        api_key: str,
        connect_timeout: float = 10.0,
        read_timeout: float = 600.0,
        count_timeout: float = 10.0,
        pool_size: int = 64,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._base = endpoint_url.rstrip("/")
        self._host = urlsplit(self._base).netloc or self._base
        self._headers = {"Content-Type": "application/json"}
        self._timeout = (connect_timeout, read_timeout)
        # Counting answers in well under a second when it works; waiting long for it
        # would stall Claude Code's /context, which has a local estimate to fall back on.
        self._count_timeout = (connect_timeout, count_timeout)
        self._session = _session(pool_size, api_key, self._base, os.environ if environ is None else environ)
        # What every call would merge in again, read once (nothing changes them later).
        self._proxies = {scheme: proxy for scheme, proxy in self._session.proxies.items() if proxy is not None}
        self._connections = OpenConnections()
        for adapter in {id(a): a for a in self._session.adapters.values()}.values():
            assert isinstance(adapter, HTTPAdapter)  # _session mounts nothing else
            track(adapter.poolmanager, self._connections)
            for proxy in set(self._session.proxies.values()):
                track(adapter.proxy_manager_for(proxy), self._connections)
        self._secrets = (api_key,)  # scrubbed from every message Nexus sends back

    def close(self) -> None:
        """End every call in flight now (their sockets shut down) and close the pool.

        For shutdown: a call still waiting for Nexus's first byte fails at once, rather
        than holding its thread (and the process's exit) until the read timeout.
        """
        shut = self._connections.shut_all()
        self._session.close()
        log.debug("nexus: %d connection(s) shut down", shut)

    def _post(
        self,
        model_id: str,
        operation: str,
        body: dict[str, Any],
        *,
        stream: bool,
        timeout: tuple[float, float] | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        url = f"{self._base}/model/{quote(model_id, safe='')}/{operation}"
        # Bytes, or a reader that encodes large base64 strings as they are sent (json_body).
        data = json_bytes(body, compact=True)
        with translated_errors(self._host):
            response = self._send(url, data, {**self._headers, **(headers or {})}, timeout or self._timeout, stream)
        log.debug("nexus %s %s -> %s", operation, model_id, response.status_code)
        if response.status_code >= 300:
            error = (
                redirect_error(response) if response.status_code < 400 else error_from_response(response, self._secrets)
            )
            response.close()
            raise error
        return response

    def _send(
        self, url: str, data: bytes | JsonBody, headers: dict[str, str], timeout: tuple[float, float], stream: bool
    ) -> requests.Response:
        # Bedrock never redirects, and following one would re-send the prompt (307) or serve
        # another host's answer as Claude's (302).
        if type(data) is not bytes or self._session.cookies:
            # A body read as it is sent, or cookies Nexus set to be sent back: requests' whole way.
            return self._session.post(
                url, data=data, headers=headers, timeout=timeout, stream=stream, allow_redirects=False
            )
        # The request session.post would prepare, built from what was merged once at start:
        # its per-call merging of settings, hooks, cookies and URL was a third of its time.
        return self._session.send(
            self._prepared(url, data, headers),
            timeout=timeout,
            stream=stream,
            allow_redirects=False,
            proxies=self._proxies,
            verify=self._session.verify,
            cert=self._session.cert,
        )

    def _prepared(self, url: str, data: bytes, headers: dict[str, str]) -> requests.PreparedRequest:
        prepared = requests.PreparedRequest()
        prepared.method = "POST"
        prepared.url = _prepared_url(url)
        # The session's defaults (User-Agent, Accept...) first, as merge_setting orders them.
        merged = CaseInsensitiveDict(cast("Mapping[str, str]", self._session.headers))
        merged.update(headers)
        prepared.headers = merged
        prepared.headers["Content-Length"] = str(len(data))
        prepared.body = data
        prepared.prepare_cookies(requests.cookies.RequestsCookieJar())  # the session's: none
        prepared.hooks = requests.hooks.default_hooks()
        auth = self._session.auth
        assert callable(auth)  # BearerAuth, set by _session
        return auth(prepared)

    def converse(self, model_id: str, request: c.ConverseRequest) -> c.ConverseResponse:
        """One whole Converse call.

        Raises:
            UpstreamError: a refusal, a transport failure, or a body this proxy cannot read.
        """
        response = self._post(model_id, "converse", converse_wire.request_json(request), stream=False)
        with translated_errors(self._host):
            body = _json(response)
        try:
            return converse_wire.parse_response(body)
        except converse_wire.UNREADABLE as error:
            raise UpstreamFailureError("Nexus sent a Converse response this proxy cannot read") from error

    def converse_stream(self, model_id: str, request: c.ConverseRequest) -> RequestsConverseStream:
        """Open a ConverseStream call, its status checked; the caller must close the stream."""
        body = converse_wire.request_json(request)
        # Compression would make a gateway buffer the stream; ask for none.
        response = self._post(model_id, "converse-stream", body, stream=True, headers={"Accept-Encoding": "identity"})
        return RequestsConverseStream(response, self._host, self._secrets)

    def count_tokens(self, model_id: str, request: c.ConverseRequest) -> int:
        """Nexus's CountTokens for ``request``, with a short timeout (callers have an estimate)."""
        body = converse_wire.count_tokens_json(request)
        response = self._post(model_id, "count-tokens", body, stream=False, timeout=self._count_timeout)
        with translated_errors(self._host):
            answer = response.json()
        count = answer.get("inputTokens") if isinstance(answer, dict) else None
        if not isinstance(count, int):
            raise UpstreamFailureError("Nexus sent a CountTokens response without inputTokens")
        return count
