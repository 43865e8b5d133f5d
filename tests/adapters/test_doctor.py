"""`doctor` against the fake Nexus (through the real gateway), configured to fail each check in turn."""

from __future__ import annotations

import http.server
import json
import os
import socket
import ssl
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import trustme

from domain import errors
from domain.errors import ConfigError
from entrypoints import doctor, doctor_calls, doctor_report, preflight
from entrypoints.doctor_report import Check
from tests.support import nexus_http
from tests.support.fake_nexus import FakeNexus, JsonReply, RecordedRequest, Reply, error_reply, text_reply, text_stream

KEY = "nxk-doctor-secret-key-wxyz"


@pytest.fixture(scope="module", autouse=True)
def no_nagle() -> Iterator[None]:
    # The fake writes headers and body apart; with Nagle on, each answer waits out the
    # client's delayed ACK (about 40 ms), which is most of these tests' time.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nexus_http._Handler, "disable_nagle_algorithm", True)
        yield


UNKNOWN_MODEL = "The provided model identifier is invalid."


def default_reply(request: RecordedRequest) -> Reply:
    if request.operation == "converse-stream":
        return text_stream("OK")
    if request.operation == "count-tokens":
        return JsonReply({"inputTokens": 7})
    return text_reply("OK", output_tokens=1)


def serve(fake: FakeNexus, rule: Callable[[RecordedRequest], Reply | None]) -> None:
    """Every request (up to 40) answered by ``rule``, or as Nexus would when it returns None."""
    fake.enqueue(*[lambda request: rule(request) or default_reply(request)] * 40)


@pytest.fixture
def claude_bin(tmp_path: Path) -> Path:
    """A directory holding a `claude` that prints what Claude Code 2.1.332 prints for --version."""
    directory = tmp_path / "bin"
    directory.mkdir()
    script = directory / "claude"
    script.write_text("#!/bin/sh\necho '2.1.332 (Claude Code)'\n")
    script.chmod(0o755)
    return directory


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def options(tmp_path: Path, fake_nexus: FakeNexus, claude_bin: Path, free_port: int) -> doctor.Options:
    (tmp_path / "home").mkdir()
    environ = {"NEXUS_API_KEY": KEY, "NEXUS_ENDPOINT_URL": fake_nexus.url, "PATH": str(claude_bin)}
    return doctor.Options(home=tmp_path / "home", cwd=tmp_path, environ=environ, port=free_port)


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def test_everything_passes_against_a_nexus_that_works(options: doctor.Options, fake_nexus: FakeNexus) -> None:
    checks = doctor.run_checks(options)

    assert [check.name for check in checks] == [
        "config file",
        "API key",
        "endpoint",
        "DNS",
        "TCP",
        "TLS",
        "key accepted",
        "converse claude-opus-4.6",
        "stream claude-opus-4.6",
        "CountTokens",
        "beta fine-grained-tool-streaming-2025-05-14",
        "beta context-1m-2025-08-07",
        "port",
        "Claude Code",
    ]
    assert all(check.ok is not False for check in checks), doctor_report.as_text(checks)
    assert by_name(checks)["TLS"].ok is None  # plain http to loopback has no TLS
    assert by_name(checks)["Claude Code"].detail.startswith("2.1.332 (Claude Code) at ")
    assert doctor_report.exit_status(checks) == 0
    # One Converse call serves the key check and the model check alike; every generation asks for one token.
    operations = [(r.operation, r.model_id) for r in fake_nexus.requests]
    assert operations.count(("converse", "claude-opus-4.6")) == 3  # plain, then one per beta
    assert all(
        r.body["inferenceConfig"] == {"maxTokens": 1} for r in fake_nexus.requests if r.operation != "count-tokens"
    )
    betas = [r.body.get("additionalModelRequestFields") for r in fake_nexus.requests if r.operation == "converse"]
    assert betas == [
        None,
        {"anthropic_beta": ["fine-grained-tool-streaming-2025-05-14"]},
        {"anthropic_beta": ["context-1m-2025-08-07"]},
    ]
    assert all(r.header("Authorization") == f"Bearer {KEY}" for r in fake_nexus.requests)


def test_the_key_is_never_shown(options: doctor.Options, fake_nexus: FakeNexus) -> None:
    # Nexus echoing the key in an error must not put it on the screen either.
    serve(fake_nexus, lambda r: error_reply(403, "AccessDeniedException", f"bad key Bearer {KEY}", capital_m=True))
    checks = doctor.run_checks(options)

    shown = doctor_report.as_text(checks) + doctor_report.as_json(checks)
    assert KEY not in shown
    assert KEY[-4:] in by_name(checks)["API key"].detail  # redacted, with its last four characters


def test_a_dotted_id_nexus_does_not_know_finds_the_bedrock_id_that_works(
    options: doctor.Options, fake_nexus: FakeNexus
) -> None:
    works = "us.anthropic.claude-opus-4-6-v1"
    serve(fake_nexus, lambda r: None if r.model_id == works else error_reply(400, "ValidationException", UNKNOWN_MODEL))

    checks = by_name(doctor.run_checks(options))

    converse = checks["converse claude-opus-4.6"]
    assert converse.ok is False and converse.essential
    assert f"Nexus does not know modelId claude-opus-4.6, but {works} works" in converse.detail
    assert f'"upstream_model_ids": {{"claude-opus-4.6": "{works}"}}' in (converse.fix or "")
    assert checks["key accepted"].ok  # Nexus answered about the model, so the key got through
    assert checks["stream claude-opus-4.6"].ok and works in checks["stream claude-opus-4.6"].detail
    assert checks["CountTokens"].ok and works in checks["CountTokens"].detail
    tried = [r.model_id for r in fake_nexus.requests if r.operation == "converse"][:3]
    assert tried == ["claude-opus-4.6", "anthropic.claude-opus-4-6-v1", works]


def test_a_model_nexus_knows_by_no_spelling_asks_for_its_id(options: doctor.Options, fake_nexus: FakeNexus) -> None:
    serve(fake_nexus, lambda r: error_reply(404, "ResourceNotFoundException", "Model not found"))

    checks = doctor.run_checks(options)

    converse = by_name(checks)["converse claude-opus-4.6"]
    assert converse.ok is False
    assert "global.anthropic.claude-opus-4-6-v1" in converse.detail
    assert "ask the AI Nexus team" in (converse.fix or "")
    assert doctor_report.exit_status(checks) == 1


def test_a_refused_key_fails_with_the_fix_and_skips_the_models(options: doctor.Options, fake_nexus: FakeNexus) -> None:
    message = "Authentication failed: Please make sure your API Key is valid."
    serve(fake_nexus, lambda r: error_reply(403, "AccessDeniedException", message, capital_m=True))

    checks = doctor.run_checks(options)

    key = by_name(checks)["key accepted"]
    assert key.ok is False and key.essential
    assert "Authentication failed" in key.detail
    assert "config set --api-key" in (key.fix or "")
    assert by_name(checks)["models"].ok is None
    assert doctor_report.exit_status(checks) == 1
    assert len(fake_nexus.requests) == 1  # nothing more is spent on a refused key


def test_a_nexus_error_that_says_nothing_of_the_key_fails_the_key_check(
    options: doctor.Options, fake_nexus: FakeNexus
) -> None:
    serve(fake_nexus, lambda r: error_reply(500, "InternalServerException", "boom"))

    key = by_name(doctor.run_checks(options))["key accepted"]

    assert key.ok is False and "boom" in key.detail
    assert "endpoint_url" in (key.fix or "")


def test_count_tokens_missing_is_a_warning(options: doctor.Options, fake_nexus: FakeNexus) -> None:
    serve(
        fake_nexus,
        lambda r: error_reply(404, "UnknownOperationException", "no route") if r.operation == "count-tokens" else None,
    )

    checks = doctor.run_checks(options)

    count = by_name(checks)["CountTokens"]
    assert (count.ok, count.essential, count.mark) == (False, False, "warn")
    assert "estimates token counts locally" in (count.fix or "")
    assert doctor_report.exit_status(checks) == 0


def test_a_refused_beta_is_a_warning_naming_the_flag(options: doctor.Options, fake_nexus: FakeNexus) -> None:
    def refuse_1m(request: RecordedRequest) -> Reply | None:
        fields = request.body.get("additionalModelRequestFields") or {}
        if "context-1m-2025-08-07" in fields.get("anthropic_beta", []):
            return error_reply(400, "ValidationException", "invalid beta flag")
        return None

    serve(fake_nexus, refuse_1m)

    checks = by_name(doctor.run_checks(options))

    assert checks["beta fine-grained-tool-streaming-2025-05-14"].ok
    beta = checks["beta context-1m-2025-08-07"]
    assert beta.ok is False and not beta.essential
    assert "refused on claude-opus-4.6: invalid beta flag" in beta.detail
    assert "1M" in (beta.fix or "")


def test_a_taken_port_is_named_with_the_fix(options: doctor.Options) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        check = doctor.port_check("127.0.0.1", port)

    assert check.ok is False and not check.essential
    assert f"port {port} on 127.0.0.1 is already in use" in check.detail
    assert "--port" in (check.fix or "")


def test_claude_code_missing_from_path(options: doctor.Options, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    check = doctor.claude_check({"PATH": str(empty)})

    assert check.ok is False and not check.essential
    assert "npm install -g @anthropic-ai/claude-code" in (check.fix or "")


def test_another_claude_code_version_is_named(tmp_path: Path) -> None:
    script = tmp_path / "claude"
    script.write_text("#!/bin/sh\necho '2.2.0 (Claude Code)'\n")
    script.chmod(0o755)

    check = doctor.claude_check({"PATH": str(tmp_path)})

    assert check.ok and "tested with 2.1.332" in check.detail


def test_no_call_makes_no_billed_call(options: doctor.Options, fake_nexus: FakeNexus) -> None:
    checks = by_name(doctor.run_checks(attrs.evolve(options, billed=False)))

    assert {r.operation for r in fake_nexus.requests} == {"count-tokens"}  # CountTokens is not billed
    assert checks["key accepted"].ok
    assert checks["converse claude-opus-4.6"].ok is None
    assert checks["betas"].ok is None
    assert doctor_report.exit_status(list(checks.values())) == 0


def test_every_exposed_model_is_called(options: doctor.Options, fake_nexus: FakeNexus) -> None:
    config_file = options.home / ".config" / "nexus-claude-api" / "config.json"
    config_file.parent.mkdir(parents=True)
    config_file.write_text(json.dumps({"small_model": "claude-haiku-4.5"}))
    serve(
        fake_nexus,
        lambda r: error_reply(400, "ValidationException", UNKNOWN_MODEL) if r.model_id == "claude-haiku-4.5" else None,
    )

    checks = by_name(doctor.run_checks(options))

    assert checks["converse claude-opus-4.6"].ok
    haiku = checks["converse claude-haiku-4.5"]
    assert "anthropic.claude-haiku-4-5-20251001-v1:0 works" in haiku.detail
    assert checks["stream claude-haiku-4.5"].ok


def test_no_key_fails_with_both_ways_to_give_one(options: doctor.Options) -> None:
    environ = {k: v for k, v in options.environ.items() if k != "NEXUS_API_KEY"}
    checks = by_name(doctor.run_checks(attrs.evolve(options, environ=environ)))

    assert checks["API key"].ok is False
    assert "config set --api-key" in (checks["API key"].fix or "")
    assert checks["Nexus calls"].ok is None


def write_config(options: doctor.Options, text: str, mode: int) -> Path:
    path = options.home / ".config" / "nexus-claude-api" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def test_a_key_file_others_could_read_is_reported_and_tightened(options: doctor.Options) -> None:
    path = write_config(options, json.dumps({"api_key": KEY}), 0o644)

    check = doctor.config_file_check(path)

    assert check.ok
    assert "it was 0644, so other local users could read the key" in check.detail
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_config_file_others_may_write_fails(options: doctor.Options) -> None:
    path = write_config(options, json.dumps({"api_key": KEY}), 0o666)
    os.chmod(path, 0o666)  # past the umask

    checks = by_name(doctor.run_checks(options))

    assert checks["config file"].ok is False
    assert "chmod go-w" in checks["config file"].detail
    assert checks["API key"].ok  # the environment's key is still checked


def test_a_config_file_that_is_not_json_fails_with_the_fix(options: doctor.Options) -> None:
    path = write_config(options, "{not json", 0o600)

    check = doctor.config_file_check(path)

    assert check.ok is False and "not valid JSON" in check.detail
    assert f"repair {path}" in (check.fix or "")


def test_a_name_that_does_not_resolve(options: doctor.Options) -> None:
    environ = {**options.environ, "NEXUS_ENDPOINT_URL": "https://nexus.invalid"}
    checks = by_name(doctor.run_checks(attrs.evolve(options, environ=environ)))

    assert checks["DNS"].ok is False and "nexus.invalid does not resolve" in checks["DNS"].detail
    assert checks["Nexus calls"].ok is None


def test_a_closed_port_fails_tcp(options: doctor.Options, free_port: int) -> None:
    checks = list(doctor.endpoint_checks(f"http://127.0.0.1:{free_port}", {}, 2.0))

    assert by_name(checks)["TCP"].ok is False
    assert "refused" in by_name(checks)["TCP"].detail.lower()


def test_through_a_proxy_dns_and_tcp_check_the_proxy(fake_nexus: FakeNexus) -> None:
    port = fake_nexus.url.rsplit(":", 1)[1]
    environ = {"HTTPS_PROXY": f"http://127.0.0.1:{port}"}

    checks = by_name(list(doctor.endpoint_checks("https://genai-nexus.example", environ, 2.0)))

    assert f"the HTTPS proxy 127.0.0.1:{port}" in checks["TCP"].detail
    assert checks["TLS"].ok is None


# --- TLS against a stand-in whose certificate comes from a throwaway company CA ------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_port(ca: trustme.CA) -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()
    thread.join()


def test_an_unknown_ca_names_the_company_ca_and_requests_ca_bundle(tls_port: int) -> None:
    check = doctor.tls_check("localhost", tls_port, {}, 5.0)

    assert check.ok is False and check.essential
    assert "certificate of localhost is not trusted" in check.detail
    assert "company CA" in (check.fix or "") and "REQUESTS_CA_BUNDLE" in (check.fix or "")


def test_an_untrusted_endpoint_fails_tls_and_skips_the_calls(options: doctor.Options, tls_port: int) -> None:
    environ = {**options.environ, "NEXUS_ENDPOINT_URL": f"https://localhost:{tls_port}"}

    checks = doctor.run_checks(attrs.evolve(options, environ=environ))

    assert by_name(checks)["TLS"].ok is False
    assert by_name(checks)["Nexus calls"].ok is None
    assert doctor_report.exit_status(checks) == 1


def test_requests_ca_bundle_makes_the_handshake_pass(ca: trustme.CA, tls_port: int, tmp_path: Path) -> None:
    bundle = tmp_path / "company-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))

    check = doctor.tls_check("localhost", tls_port, {"REQUESTS_CA_BUNDLE": str(bundle)}, 5.0)

    assert check.ok, check.detail
    assert "trusted by the CA bundle in REQUESTS_CA_BUNDLE" in check.detail


def test_a_missing_ca_bundle_is_named(tls_port: int, tmp_path: Path) -> None:
    check = doctor.tls_check("localhost", tls_port, {"SSL_CERT_FILE": str(tmp_path / "nope.pem")}, 5.0)

    assert check.ok is False and "SSL_CERT_FILE" in check.detail


def test_a_tls_failure_during_a_call_names_the_company_ca() -> None:
    error = errors.UpstreamUnreachableError("TLS handshake with AI Nexus at nexus failed")
    assert "REQUESTS_CA_BUNDLE" in doctor_calls.unreachable_fix(error)


# --- pure parts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exposed", "first"),
    [
        ("claude-opus-4.6", "anthropic.claude-opus-4-6-v1"),
        ("claude-sonnet-4.6", "anthropic.claude-sonnet-4-6"),
        ("claude-haiku-4.5", "anthropic.claude-haiku-4-5-20251001-v1:0"),
        ("claude-opus-4.8", "anthropic.claude-opus-4-8"),
        ("us.anthropic.claude-opus-4-6-v1", "anthropic.claude-opus-4-6-v1"),
    ],
)
def test_bedrock_spellings(exposed: str, first: str) -> None:
    assert doctor_calls.bedrock_ids(exposed) == (first, f"us.{first}", f"global.{first}", f"eu.{first}")


@pytest.mark.parametrize(
    ("error", "unknown"),
    [
        (errors.UpstreamRejectedError(f"{UNKNOWN_MODEL} (ValidationException from AI Nexus)"), True),
        (errors.UpstreamNotFoundError("Model not found"), True),
        (errors.UpstreamRejectedError("invalid beta flag"), False),
        (errors.UpstreamAuthError("refused"), False),
    ],
)
def test_unknown_model_errors(error: errors.UpstreamError, unknown: bool) -> None:
    assert doctor_calls.is_unknown_model(error) is unknown


def test_the_report_has_one_line_per_check_and_the_json_every_field() -> None:
    checks = [
        Check(name="a", ok=True, essential=True, detail="fine"),
        Check(name="b", ok=False, essential=False, detail="meh", fix="do x"),
        Check(name="c", ok=None, essential=True, detail="not checked: y"),
        Check(name="d", ok=False, essential=True, detail="broken", fix="do z"),
    ]

    assert doctor_report.as_text(checks).splitlines() == [
        "ok    a: fine",
        "warn  b: meh -> fix: do x",
        "skip  c: not checked: y",
        "FAIL  d: broken -> fix: do z",
        "1 essential check(s) failed: d",
    ]
    parsed: list[dict[str, Any]] = json.loads(doctor_report.as_json(checks))
    assert parsed[1] == {"name": "b", "ok": False, "essential": False, "detail": "meh", "fix": "do x"}
    assert doctor_report.exit_status(checks) == 1
    assert doctor_report.exit_status(checks[:3]) == 0


def test_preflight_names_a_taken_port_and_a_bad_endpoint() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"port {port} on 127.0.0.1 is already in use.*--port"):
            preflight.check_start("127.0.0.1", port, "https://nexus.example")
    with pytest.raises(ConfigError, match="port that is not a number"):
        preflight.check_start("127.0.0.1", port, "https://nexus.example:44x")
