"""``nexus-claude-api doctor``: the setup checked one layer at a time, first contact with AI Nexus included.

Order: the config file, the key, the endpoint, DNS, TCP, TLS; then calls through the
product's own gateway (``doctor_calls``); then this machine: the port, Claude Code. A layer
that fails skips the layers that need it, so the first failure is the one to fix.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs

from adapters.config_store import JsonConfigStore
from adapters.nexus import probe
from adapters.nexus.gateway import RequestsConverseGateway
from domain.errors import ConfigError
from domain.rules.models import ModelCatalog
from entrypoints import config, doctor_calls, doctor_report, preflight
from entrypoints.doctor_report import Check, skipped
from entrypoints.settings import ConfigStore

TESTED_CLAUDE_CODE = "2.1.332"
CLAUDE_INSTALL = "npm install -g @anthropic-ai/claude-code"
# A one-token answer comes in seconds; a proxy-sized read timeout would hide a hang.
_CALL_TIMEOUT = 60.0


@attrs.frozen(kw_only=True)
class Options:
    """What one doctor run looks at: the mode, whether billed calls are allowed, and where it runs."""

    home: Path
    cwd: Path
    environ: Mapping[str, str]
    dev: bool = False
    billed: bool = True
    timeout: float = 10.0
    port: int | None = None  # the port `start` would get from --port; None: the default


class _NoFile:
    """A config store with nothing in it, for going on when the real file cannot be read."""

    def __init__(self, path: Path) -> None:
        self._path = str(path)

    @property
    def path(self) -> str:
        return self._path

    def load(self) -> dict[str, Any]:
        return {}

    def save(self, settings: dict[str, Any]) -> None:
        raise ConfigError(f"doctor never writes {self._path}")


def run_checks(options: Options) -> list[Check]:
    """Every check, in order."""
    return list(iter_checks(options))


def iter_checks(options: Options) -> Iterator[Check]:
    """Every check, each yielded as soon as it is done."""
    config_file = config.config_path(options.dev, options.home, options.cwd)
    file_check = config_file_check(config_file)
    yield file_check
    store: ConfigStore = JsonConfigStore(config_file) if file_check.ok else _NoFile(config_file)
    try:
        values, sources = config.resolve_values({"dev": options.dev, "port": options.port}, store, options.environ)
    except ConfigError as exc:
        yield Check(name="settings", ok=False, essential=True, detail=exc.message)
        return
    key = key_check(values, sources, options.dev)
    yield key
    network = [*endpoint_checks(values["endpoint_url"], options.environ, options.timeout)]
    yield from network
    if key.ok and not any(check.ok is False for check in network):
        yield from doctor_calls.call_checks(
            doctor_calls.NexusCalls(_gateway(values, options.environ)),
            _models(values),
            str(config_file),
            billed=options.billed,
        )
    else:
        yield skipped("Nexus calls", "no key" if not key.ok else "AI Nexus is not reachable")
    yield port_check(values["host"], values["port"])
    yield claude_check(options.environ)


def config_file_check(path: Path) -> Check:
    """The config file: found or not, readable, and private (a key file others could read is tightened)."""
    name = "config file"
    try:
        before = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return Check(name=name, ok=True, essential=True, detail=f"{path} not found; the environment and defaults apply")
    except OSError as exc:
        return Check(name=name, ok=False, essential=True, detail=f"cannot read {path}: {exc.strerror}")
    try:
        JsonConfigStore(path).load()
    except ConfigError as exc:
        fix = None if "`" in exc.message else f"repair {path}, or remove it and run `{config.APP_NAME} config set`"
        return Check(name=name, ok=False, essential=True, detail=exc.message, fix=fix)
    after = stat.S_IMODE(path.stat().st_mode)
    if before & 0o077 and not after & 0o077:
        detail = f"{path}, private now (mode {after:04o}); it was {before:04o}, so other local users could read the key"
    elif after & 0o077:
        detail = f"{path} (mode {after:04o}; it holds no secret)"
    else:
        detail = f"{path}, private (mode {after:04o})"
    return Check(name=name, ok=True, essential=True, detail=detail)


def key_check(values: Mapping[str, Any], sources: Mapping[str, str], dev: bool) -> Check:
    """Whether a key was found, shown redacted, and where it came from."""
    if "api_key" not in values:
        fix = config.missing_key_message(dev).removeprefix("no AI Nexus API key found; ")
        return Check(name="API key", ok=False, essential=True, detail="not set", fix=fix)
    detail = f"{config.redact_key(values['api_key'])} from {sources['api_key']}"
    return Check(name="API key", ok=True, essential=True, detail=detail)


def endpoint_checks(url: str, environ: Mapping[str, str], timeout: float) -> Iterator[Check]:
    """The endpoint's form, then DNS, TCP and TLS to it (or to the HTTPS proxy in front of it)."""
    try:
        preflight.check_endpoint(url)
        hop = probe.first_hop(url, environ)
    except (ConfigError, probe.ProbeError) as exc:
        yield Check(name="endpoint", ok=False, essential=True, detail=exc.message, fix="check endpoint_url")
        return
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    how = "https" if secure else "plain http, to this machine only"
    yield Check(name="endpoint", ok=True, essential=True, detail=f"{url} ({how})")
    via = f" (the HTTPS proxy {hop.proxy})" if hop.proxy else ""
    try:
        addresses = probe.resolve(hop.host, hop.port)
    except probe.ProbeError as exc:
        fix = "check HTTPS_PROXY" if hop.proxy else "check the host in endpoint_url, and that the VPN is connected"
        yield Check(name="DNS", ok=False, essential=True, detail=exc.message + via, fix=fix)
        return
    yield Check(name="DNS", ok=True, essential=True, detail=f"{hop.host}{via} -> {', '.join(addresses[:3])}")
    try:
        probe.connect(hop.host, hop.port, timeout)
    except probe.ProbeError as exc:
        fix = "a firewall or a missing VPN blocks it; behind a company proxy, export HTTPS_PROXY=http://proxy:port"
        yield Check(name="TCP", ok=False, essential=True, detail=exc.message + via, fix=fix)
        return
    yield Check(name="TCP", ok=True, essential=True, detail=f"{hop.host}:{hop.port}{via} accepts connections")
    if not secure:
        yield skipped("TLS", "plain http to this machine")
    elif hop.proxy:
        yield skipped("TLS", f"through the proxy {hop.proxy}; the first call below verifies it")
    else:
        yield tls_check(hop.host, hop.port, environ, timeout)


def tls_check(host: str, port: int, environ: Mapping[str, str], timeout: float) -> Check:
    """A verified TLS handshake, with the trust the gateway uses."""
    try:
        _, bundle_var = probe.tls_context(environ)
        version = probe.handshake(host, port, timeout, environ)
    except probe.ProbeError as exc:
        other = "check that endpoint_url names the AI Nexus host and its https port"
        fix = doctor_calls.CA_FIX if exc.untrusted else other
        return Check(name="TLS", ok=False, essential=True, detail=exc.message, fix=fix)
    trust = f"the CA bundle in {bundle_var}" if bundle_var else "the OS trust store"
    return Check(name="TLS", ok=True, essential=True, detail=f"{version}, certificate trusted by {trust}")


def port_check(host: str, port: int) -> Check:
    """Whether ``start`` could listen where it is configured to."""
    problem = preflight.port_problem(host, port)
    if problem:
        return Check(name="port", ok=False, essential=False, detail=problem[0], fix=problem[1])
    return Check(name="port", ok=True, essential=False, detail=f"{host}:{port} is free for `start`")


def claude_check(environ: Mapping[str, str]) -> Check:
    """Whether Claude Code is on PATH, and its version."""
    path = shutil.which("claude", path=environ.get("PATH", os.defpath))
    if path is None:
        fix = f"install it with `{CLAUDE_INSTALL}`"
        return Check(name="Claude Code", ok=False, essential=False, detail="`claude` is not on PATH", fix=fix)
    try:
        done = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=30, env=dict(environ), check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return Check(name="Claude Code", ok=False, essential=False, detail=f"`{path} --version` failed: {exc}")
    version = (done.stdout.strip().splitlines() or [""])[0]
    if done.returncode != 0 or not version:
        detail = f"`{path} --version` exited with status {done.returncode}"
        return Check(name="Claude Code", ok=False, essential=False, detail=detail, fix=f"reinstall: {CLAUDE_INSTALL}")
    tested = "" if TESTED_CLAUDE_CODE in version else f"; nexus-claude-api is tested with {TESTED_CLAUDE_CODE}"
    return Check(name="Claude Code", ok=True, essential=False, detail=f"{version} at {path}{tested}")


def _models(values: Mapping[str, Any]) -> dict[str, str]:
    catalog = ModelCatalog(
        main=values["model"], small=values["small_model"], upstream_ids=values.get("upstream_model_ids", {})
    )
    return {exposed: catalog.upstream_id(exposed) for exposed in catalog.exposed}


def _gateway(values: Mapping[str, Any], environ: Mapping[str, str]) -> RequestsConverseGateway:
    return RequestsConverseGateway(
        endpoint_url=values["endpoint_url"],
        api_key=values["api_key"],
        connect_timeout=values.get("connect_timeout", 10.0),
        read_timeout=min(values.get("read_timeout", _CALL_TIMEOUT), _CALL_TIMEOUT),
        pool_size=2,
        environ=environ,
    )


def main(*, billed: bool, as_json: bool, dev: bool) -> int:
    """Run the checks for this user and directory, print them, and return the exit status."""
    options = Options(home=Path.home(), cwd=Path.cwd(), environ=dict(os.environ), dev=dev, billed=billed)
    checks: list[Check] = []
    for check in iter_checks(options):
        checks.append(check)
        if not as_json:
            print(doctor_report.line(check), flush=True)
    print(doctor_report.as_json(checks) if as_json else doctor_report.summary(checks))
    return doctor_report.exit_status(checks)
