"""Claude Code 2.1.332 sessions through the real proxy to the fake AI Nexus, for what a
single ``claude -p`` task does not show: a second session's cache prefix, more than 20
images, compaction after an overflow mid-session, and auto mode's own classifier.

A ``ProxyTap`` in front of the proxy keeps what Claude Code sent and what the proxy answered
it; the fake Nexus keeps what the proxy sent upstream.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from entrypoints.launch import claude_code_command
from entrypoints.settings import Settings
from tests.support.claude_code import (
    ClaudeRun,
    ProxyTap,
    claude_env,
    require_claude,
    run_claude_args,
    stream_json_input,
)
from tests.support.fake_nexus import (
    FakeNexus,
    RecordedRequest,
    Reply,
    error_reply,
    message_stream,
    text_reply,
    text_stream,
    tool_use_events,
)
from tests.support.proxy import proxy_app

pytestmark = pytest.mark.claude_code

PRINT = ("--output-format", "json", "--dangerously-skip-permissions")
STREAM_JSON = ("--input-format", "stream-json", "--output-format", "stream-json", "--verbose")
MANY_REPLIES = 40


@attrs.frozen(kw_only=True)
class Cli:
    """Claude Code in one working directory and HOME, with the printed launch command's
    variables, talking to a fresh proxy behind ``tap``."""

    binary: Path
    env: dict[str, str]
    work: Path
    tap: ProxyTap

    def __call__(self, *args: str, input: str | None = None) -> ClaudeRun:
        return run_claude_args(self.binary, list(args), env=self.env, cwd=self.work, input=input)


@pytest.fixture
def cli(mount: Any, fake_nexus: FakeNexus, tmp_path: Path) -> Cli:
    binary = require_claude()
    tap = ProxyTap(proxy_app(fake_nexus.url))
    port = int(mount(tap).rsplit(":", 1)[1])
    work, home, scratch = tmp_path / "work", tmp_path / "home", tmp_path / "tmp"
    for folder in (work, home, scratch):
        folder.mkdir()
    # Pasted images are saved under the temp dir; keep them inside the test's.
    env = {
        **claude_env(claude_code_command(Settings(api_key="unused", port=port)), home),
        "CLAUDE_CODE_TMPDIR": str(scratch),
    }
    return Cli(binary=binary, env=env, work=work, tap=tap)


def assert_success(run: ClaudeRun, result: str | None = None) -> None:
    outcome = run.result()
    assert (outcome["subtype"], outcome["is_error"], run.returncode) == ("success", False, 0), run.describe()
    if result is not None:
        assert outcome["result"] == result, run.describe()


def upstream_text(fake: FakeNexus) -> str:
    return "\n".join(json.dumps(r.body) for r in fake.requests)


# --- 1. a second session meets the first one's cache prefix ---------------------------

# Two first prompts whose billing lines differ (the 3-hex suffix follows the prompt).
PROMPTS = ("Say hi", "Summarise the README in one line.")


def _before_first_cache_point(system: list[dict[str, Any]]) -> str:
    cut = next(i for i, block in enumerate(system) if "cachePoint" in block)
    return json.dumps(system[:cut])


def test_a_second_session_sends_the_first_sessions_cached_system_prefix(cli: Cli, fake_nexus: FakeNexus) -> None:
    for prompt in PROMPTS:
        assert_success(cli("-p", prompt, *PRINT))

    billing = [e.json()["system"][0]["text"] for e in cli.tap.exchanges if e.path == "/v1/messages"]
    assert all(line.startswith("x-anthropic-billing-header:") for line in billing), billing
    assert len(set(billing)) == 2, "Claude Code signed both sessions alike: the test proves nothing"

    main = [r.body for r in fake_nexus.requests if "toolConfig" in r.body]
    assert len(main) == 2
    prefixes = [_before_first_cache_point(body["system"]) for body in main]
    assert prefixes[0] == prefixes[1] and prefixes[0] != "[]"
    # Bedrock's cache prefix runs tools, then system: the tools are the same bytes too.
    assert json.dumps(main[0]["toolConfig"]) == json.dumps(main[1]["toolConfig"])
    assert "x-anthropic-billing-header" not in upstream_text(fake_nexus)


# --- 2. more than 20 images ----------------------------------------------------------

PASTED, READ = 15, 8


def tiny_png(shade: int) -> bytes:
    """A valid 1x1 RGB PNG whose colour, and so whose bytes, depend on ``shade``."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixel = zlib.compress(bytes([0, shade * 10 % 256, 255 - shade, 7]))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixel) + chunk(b"IEND", b"")


def _media(blocks: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every content block in order, tool results' content in place of the result."""
    for block in blocks:
        if "toolResult" in block:
            yield from block["toolResult"]["content"]
        else:
            yield block


def upstream_images(body: dict[str, Any]) -> list[str | None]:
    """Per image or stub position, the image's base64 bytes, or None for a text stub."""
    blocks = [b for m in body["messages"] for b in _media(m["content"])]
    return [b["image"]["source"]["bytes"] if "image" in b else None for b in blocks if "image" in b or _is_stub(b)]


def _is_stub(block: dict[str, Any]) -> bool:
    text = block.get("text", "")
    return "image" in text and "omitted" in text and "[Image: source:" not in text


@attrs.frozen(kw_only=True)
class ReadsScreenshots:
    """The model Reads every screenshot at once, then answers; refuses >20 media as Bedrock does."""

    shots: tuple[Path, ...]

    def __call__(self, request: RecordedRequest) -> Reply:
        media = sum(1 for m in request.body["messages"] for b in _media(m["content"]) if {"image", "document"} & set(b))
        if media > 20:
            return error_reply(400, "ValidationException", f"too many images and documents: {media} + 0 > 20")
        if any("toolResult" in b for b in request.body["messages"][-1]["content"]):
            return text_stream("All 23 screenshots compared.")
        calls = [
            event
            for k, shot in enumerate(self.shots)
            for event in tool_use_events(
                k, f"tooluse_ReadShot{k:02d}xYz", "Read", [json.dumps({"file_path": str(shot)})]
            )
        ]
        return message_stream(calls, stop_reason="tool_use")


def test_a_session_past_20_images_keeps_the_newest_within_20_and_stubs_the_rest(
    cli: Cli, fake_nexus: FakeNexus
) -> None:
    pasted = [base64.b64encode(tiny_png(i)).decode() for i in range(PASTED)]
    shots = tuple(cli.work / f"shot{i}.png" for i in range(PASTED, PASTED + READ))
    for i, shot in enumerate(shots, PASTED):
        shot.write_bytes(tiny_png(i))
    images = [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": d}} for d in pasted]
    prompt: list[dict[str, Any]] = [
        {"type": "text", "text": "Compare these with screenshot files shot15.png to shot22.png."},
        *images,
    ]
    fake_nexus.enqueue(*[ReadsScreenshots(shots=shots)] * MANY_REPLIES)

    run = cli("-p", *STREAM_JSON, "--dangerously-skip-permissions", input=stream_json_input(prompt))

    assert_success(run, "All 23 screenshots compared.")
    read = [base64.b64encode(shot.read_bytes()).decode() for shot in shots]
    first, last = fake_nexus.requests[0].body, fake_nexus.requests[-1].body
    assert upstream_images(first) == pasted
    sent = upstream_images(last)
    stubbed = sent.count(None)
    assert len(sent) == PASTED + READ and PASTED + READ - stubbed <= 20
    # The oldest pasted images are stubs in place, the newer ones survive, and so do all the
    # screenshots Read last (in the order the parallel Reads finished).
    assert sent[:PASTED] == [None] * stubbed + pasted[stubbed:]
    assert sorted(sent[PASTED:], key=str) == sorted(read)
    assert all(e.status == 200 for e in cli.tap.exchanges)


# --- 3. an overflow mid-session compacts ---------------------------------------------

FIRST, SECOND = "Remember the codeword PELICAN.", "What was the codeword?"
SUMMARY, ANSWER = "<summary>The user set the codeword PELICAN.</summary>", "The codeword was PELICAN."
COMPACT = "CRITICAL: Respond with TEXT ONLY"
PARSEABLE = re.compile(r"prompt is too long: \d+ tokens > \d+ maximum")


def kind_of(request: RecordedRequest) -> str:
    last = json.dumps(request.body["messages"][-1])
    return "summary" if COMPACT in last else "second" if SECOND in last else "first"


class OverflowsOnce:
    """The model: Bedrock's "too long" once for the second turn, then plain answers."""

    def __init__(self) -> None:
        self.refused = False

    def __call__(self, request: RecordedRequest) -> Reply:
        kind = kind_of(request)
        if kind == "second" and not self.refused:
            self.refused = True
            return error_reply(400, "ValidationException", "Input is too long for requested model.")
        text = {"summary": SUMMARY, "second": ANSWER, "first": "Noted."}[kind]
        return text_stream(text) if request.operation == "converse-stream" else text_reply(text)


def test_an_overflow_in_the_second_turn_compacts_and_the_turn_succeeds(cli: Cli, fake_nexus: FakeNexus) -> None:
    model = OverflowsOnce()
    fake_nexus.enqueue(*[model] * MANY_REPLIES)

    assert_success(cli("-p", *STREAM_JSON, "--dangerously-skip-permissions", input=stream_json_input(FIRST, SECOND)))

    turns = [r for r in fake_nexus.requests if r.operation != "count-tokens"]
    assert [kind_of(r) for r in turns] == ["first", "second", "summary", "second"]
    resent = turns[-1].body["messages"]
    assert len(resent) == 1 and "The user set the codeword PELICAN." in json.dumps(resent), "not the compacted turn"
    refusals = [e for e in cli.tap.exchanges if e.status == 400]
    assert len(refusals) == 1
    assert PARSEABLE.search(json.loads(refusals[0].response)["error"]["message"]), refusals[0].response


# --- 4. auto mode runs its own classifier through the proxy --------------------------

COMMAND = "echo auto-mode-ok > ../proof.txt"  # outside the work dir, so the classifier is asked
MONITOR = "security monitor for autonomous AI coding agents"
STOPPED_AT_BLOCK = {"delta": {"stop_sequence": "</block>"}}


def is_classifier(request: RecordedRequest) -> bool:
    return MONITOR in json.dumps(request.body.get("system", []))


def classifier_stage(request: RecordedRequest) -> int:
    """1: the quick check (64 tokens, stops at ``</block>``); 2: the considered second look."""
    return 1 if "</block>" in request.body["inferenceConfig"].get("stopSequences", []) else 2


def auto_mode_model(request: RecordedRequest) -> Reply:
    """Stage 1 flags the command (it errs on blocking), stage 2 allows it, then the model ends."""
    if is_classifier(request):
        if classifier_stage(request) == 1:
            flagged = text_reply("<block>yes", stop_reason="stop_sequence")
            # Bedrock names the matched sequence only where the proxy asked for it.
            return attrs.evolve(flagged, body={**flagged.body, "additionalModelResponseFields": STOPPED_AT_BLOCK})
        return text_reply("<thinking>It writes one line into a scratch file.</thinking>\n<block>no</block>")
    if any("toolResult" in b for b in request.body["messages"][-1]["content"]):
        return text_stream("proof.txt written.")
    bash = json.dumps({"command": COMMAND, "description": "Write the proof file"})
    return message_stream(tool_use_events(0, "tooluse_AutoBash01xYz", "Bash", [bash]), stop_reason="tool_use")


def test_auto_mode_checks_an_action_with_its_own_classifier_through_the_proxy(
    cli: Cli, fake_nexus: FakeNexus, tmp_path: Path
) -> None:
    fake_nexus.enqueue(*[auto_mode_model] * MANY_REPLIES)

    run = cli("-p", "Write ../proof.txt.", "--permission-mode", "auto", "--output-format", "json")

    assert_success(run, "proof.txt written.")
    assert (tmp_path / "proof.txt").read_text() == "auto-mode-ok\n"
    checks = [classifier_stage(r) for r in fake_nexus.requests if is_classifier(r)]
    assert checks == [1, 2]
    assert all(r.operation == "converse" for r in fake_nexus.requests if is_classifier(r))
    text = upstream_text(fake_nexus)
    assert not [word for word in ("safeguards", "classifier_context", "dangerous-tool-use", "afk-mode") if word in text]
    assert [e.status for e in cli.tap.exchanges] == [200] * len(cli.tap.exchanges)
    # With CLAUDE_CODE_AUTO_MODE_SERVER=0 Claude Code asks for no server-side check at all.
    assert not any("safeguards" in (e.json() or {}) for e in cli.tap.exchanges)
    quick = next(e for e in cli.tap.exchanges if (e.json() or {}).get("stop_sequences") == ["</block>"])
    assert (quick.json()["max_tokens"], quick.json().get("stream", False)) == (64, False)
    answer = json.loads(quick.response)
    assert (answer["stop_reason"], answer["stop_sequence"], answer["content"][0]["text"]) == (
        "stop_sequence",
        "</block>",
        "<block>yes",
    )
