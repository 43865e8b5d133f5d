"""What requests works out from the URL and the disk for every request, worked out once.

For each request ``HTTPAdapter.send`` parses the URL into a pool key and, for HTTPS or a CA
bundle, asks the disk whether the bundle exists and is a directory: up to three ``stat``
calls, each letting go of the GIL behind up to 63 busy stream threads. The answers depend
only on the URL, ``verify`` and ``cert``, the same for every call to one Nexus model.
"""

from __future__ import annotations

from typing import Any

from requests.adapters import HTTPAdapter

# Distinct (URL, verify, cert) answers kept: a URL per model and operation.
_REMEMBERED = 64


class _Recorder:
    """Stands in for a connection to note which attributes ``cert_verify`` sets, and to what."""

    assigned: dict[str, Any]

    def __init__(self) -> None:
        object.__setattr__(self, "assigned", {})

    def __setattr__(self, name: str, value: Any) -> None:
        self.assigned[name] = value

    def __getattr__(self, name: str) -> Any:  # what it set, read back (the client cert's path)
        try:
            return self.assigned[name]
        except KeyError:
            raise AttributeError(name) from None


class RememberingAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` that remembers each pool key and TLS setting it has worked out.

    Exactly what the stock adapter does, once per (URL, ``verify``, ``cert``): a failure
    (a missing CA bundle) is not remembered, so it is raised again on the next request.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._pool_keys: dict[tuple[Any, ...], Any] = {}
        self._tls: dict[tuple[Any, ...], dict[str, Any]] = {}
        super().__init__(**kwargs)

    def build_connection_pool_key_attributes(self, request: Any, verify: Any, cert: Any = None) -> Any:
        """The stock pool key, remembered; copies, as urllib3 may add to them."""
        key = (request.url, verify, cert)
        found = self._pool_keys.get(key)
        if found is None:
            found = super().build_connection_pool_key_attributes(request, verify, cert)
            if len(self._pool_keys) < _REMEMBERED:
                self._pool_keys[key] = found
        host, pool = found
        return dict(host), dict(pool)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """The stock TLS settings of ``conn``, worked out once and then set as they were."""
        key = (url.lower().startswith("https"), verify, cert)
        assigned = self._tls.get(key)
        if assigned is None:
            recorder = _Recorder()
            super().cert_verify(recorder, url, verify, cert)  # type: ignore[no-untyped-call]
            assigned = recorder.assigned
            if len(self._tls) < _REMEMBERED:
                self._tls[key] = assigned
        for name, value in assigned.items():
            setattr(conn, name, value)
