"""(7) Upstream TLS handshakes per 20 sequential streams, and (8) time from ``start`` to healthy.

A second bench fake serves HTTPS with a certificate from a throwaway CA (trustme), and a
second ``nexus-claude-api start`` trusts that CA through ``REQUESTS_CA_BUNDLE`` and
``SSL_CERT_FILE``, as a user behind a company CA would. The fake counts the connections that
carried a model call; over TLS each is one full handshake. Straight from the fake, one
keep-alive connection carries all 20: one handshake, the floor. The same rig then runs
figure (4) at 32 streams over TLS, as the real Nexus is reached (no target of its own).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import statistics
import tempfile
from pathlib import Path

import trustme

from bench.http_client import Connection, request_bytes
from bench.processes import FakeProcess, ServerProcess
from bench.rig import LOOPBACK, STREAM_OPERATION, Rig, stream_prompt
from bench.streams import tls_concurrent_rows
from bench.table import Row, ms

STREAMS = 20
HANDSHAKE_TARGET = 1
STARTUP_TARGET = 1.5


async def _connections(host: str, port: int, tls: ssl.SSLContext) -> int:
    connection = await Connection.open(host, port, tls)
    try:
        answer = await connection.exchange(request_bytes("GET", "/bench/stats", f"{host}:{port}"))
    finally:
        await connection.close()
    return int(json.loads(answer.body)["connections"])


async def _handshakes(rig: Rig, tls: ssl.SSLContext) -> tuple[int, int]:
    """Handshakes the fake saw for 20 streams through the proxy, and for 20 sent straight."""
    request = rig.to_proxy(stream_prompt(5))
    proxy = await rig.proxy_connection()
    before = await _connections(LOOPBACK, rig.fake.port, tls)
    for _ in range(STREAMS):
        await proxy.exchange(request)
    through_proxy = await _connections(LOOPBACK, rig.fake.port, tls) - before
    await proxy.close()
    body = await _last(rig, tls)
    direct = await Connection.open(LOOPBACK, rig.fake.port, tls)
    before = await _connections(LOOPBACK, rig.fake.port, tls)
    for _ in range(STREAMS):
        await direct.exchange(request_bytes("POST", f"/model/bench/{STREAM_OPERATION}", rig.fake_host, body))
    await direct.close()
    return through_proxy, await _connections(LOOPBACK, rig.fake.port, tls) - before


async def _last(rig: Rig, tls: ssl.SSLContext) -> bytes:
    connection = await Connection.open(LOOPBACK, rig.fake.port, tls)
    try:
        return (await connection.exchange(request_bytes("GET", f"/bench/last/{STREAM_OPERATION}", rig.fake_host))).body
    finally:
        await connection.close()


def tls_rows(startups: list[float], fake_startup: float, rounds: int) -> list[Row]:
    """Run the TLS rig; ``startups`` (seconds, other servers' start-up) gains this one's.

    Also figure (4) at 32 streams over TLS (``rounds`` rounds), for context.
    """
    ca = trustme.CA()
    with tempfile.TemporaryDirectory(prefix="nexus-bench-tls-") as folder:
        cert, key, bundle = (str(Path(folder) / name) for name in ("cert.pem", "key.pem", "ca.pem"))
        issued = ca.issue_cert(LOOPBACK)
        issued.cert_chain_pems[0].write_to_path(cert)
        issued.private_key_pem.write_to_path(key)
        ca.cert_pem.write_to_path(bundle)
        tls = ssl.create_default_context(cafile=bundle)
        fake = FakeProcess((cert, key))
        try:
            environ = {"REQUESTS_CA_BUNDLE": bundle, "SSL_CERT_FILE": bundle}
            proxy = ServerProcess(f"https://{LOOPBACK}:{fake.port}", environ)
            startups.append(proxy.startup)
            try:
                rig = Rig(fake, proxy, tls)
                through_proxy, direct = asyncio.run(_handshakes(rig, tls))
                over_tls = asyncio.run(tls_concurrent_rows(rig, rounds))
            finally:
                proxy.close()
        finally:
            fake.close()
    startup = statistics.median(startups)
    return over_tls + [
        Row(
            f"(7) upstream TLS handshakes per {STREAMS} sequential streams",
            str(through_proxy),
            str(HANDSHAKE_TARGET),
            through_proxy <= HANDSHAKE_TARGET,
            str(direct),
        ),
        Row(
            f"(8) `start` to a healthy /health (median of {len(startups)})",
            ms(startup),
            f"< {ms(STARTUP_TARGET)}",
            startup < STARTUP_TARGET,
            f"{ms(fake_startup)} (fake)",
        ),
    ]
