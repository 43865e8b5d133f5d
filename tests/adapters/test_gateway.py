"""The requests-based Nexus adapter, at the HTTP level (``responses``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from adapters.nexus.gateway import RequestsConverseGateway
from domain import errors
from domain.vocab import converse as c
from tests.support.eventstream_encoding import event_frame, exception_frame

BASE = "https://nexus.example"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16

REQUEST = c.ConverseRequest(
    messages=(
        c.Message(
            role="user",
            content=(
                c.TextContent(text="What is this?"),
                c.ImageContent(image=c.Image(format="png", source=c.BytesSource(bytes=PNG))),
            ),
        ),
    ),
    inference_config=c.InferenceConfig(max_tokens=100),
)
OK_BODY = {
    "output": {"message": {"role": "assistant", "content": [{"text": "A picture."}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 9, "outputTokens": 3, "totalTokens": 12, "cacheReadInputTokens": 4},
    "metrics": {"latencyMs": 5},
}


def sent_json() -> Any:
    """The JSON body of the first request the adapter sent."""
    body = responses.calls[0].request.body
    assert body is not None
    return json.loads(body)


@pytest.fixture
def gateway() -> RequestsConverseGateway:
    return RequestsConverseGateway(endpoint_url=BASE + "/", api_key="nxk-test-key", read_timeout=5)


@responses.activate
def test_converse_posts_camel_case_json_with_bearer_auth(gateway: RequestsConverseGateway) -> None:
    responses.post(f"{BASE}/model/claude-opus-4.6/converse", json=OK_BODY)
    out = gateway.converse("claude-opus-4.6", REQUEST)
    assert responses.calls[0].request.headers["Authorization"] == "Bearer nxk-test-key"
    body = sent_json()
    assert body == {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"text": "What is this?"},
                    {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgoAAAAAAAAAAAAAAAAAAAAA"}}},
                ],
            }
        ],
        "inferenceConfig": {"maxTokens": 100},
    }
    assert out.output.message.content == (c.TextContent(text="A picture."),)
    assert out.usage.cache_read_input_tokens == 4


@responses.activate
def test_model_id_is_quoted_into_one_path_segment(gateway: RequestsConverseGateway) -> None:
    arn = "arn:aws:bedrock:us-east-1:123:application-inference-profile/abc"
    quoted = "arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Aapplication-inference-profile%2Fabc"
    responses.post(f"{BASE}/model/{quoted}/converse", json=OK_BODY)
    gateway.converse(arn, REQUEST)
    assert responses.calls[0].request.url == f"{BASE}/model/{quoted}/converse"


def _error(status: int, error_type: str | None, body: dict[str, Any] | str) -> None:
    headers = (
        {"x-amzn-ErrorType": f"{error_type}:http://internal.amazon.com/coral/com.amazon.bedrock/"} if error_type else {}
    )
    kwargs = {"json": body} if isinstance(body, dict) else {"body": body}
    responses.post(f"{BASE}/model/m/converse", status=status, headers=headers, **kwargs)


@pytest.mark.parametrize(
    ("status", "error_type", "body", "expected", "words"),
    [
        (
            400,
            "ValidationException",
            {"message": "The text field is blank."},
            errors.UpstreamRejectedError,
            ["The text field is blank."],
        ),
        (
            403,
            None,
            {"Message": "Authentication failed: Please make sure your API Key is valid."},
            errors.UpstreamAuthError,
            ["Authentication failed", "config set --api-key"],
        ),
        (403, "AccessDeniedException", {"message": "denied"}, errors.UpstreamAuthError, ["denied", "NEXUS_API_KEY"]),
        (
            404,
            "ResourceNotFoundException",
            {"message": "Model not found"},
            errors.UpstreamNotFoundError,
            ["Model not found"],
        ),
        (
            429,
            "ThrottlingException",
            {"message": "Too many requests"},
            errors.UpstreamThrottledError,
            ["Too many requests"],
        ),
        (429, "ModelNotReadyException", {"message": "warming"}, errors.UpstreamOverloadedError, ["warming"]),
        (500, "InternalServerException", {"message": "oops"}, errors.UpstreamFailureError, ["oops"]),
        (503, "ServiceUnavailableException", {"message": "later"}, errors.UpstreamOverloadedError, ["later"]),
        (502, None, "<html>Bad gateway</html>", errors.UpstreamFailureError, ["502"]),
    ],
)
@responses.activate
def test_bedrock_errors_become_domain_errors(
    gateway: RequestsConverseGateway,
    status: int,
    error_type: str | None,
    body: dict[str, Any] | str,
    expected: type[errors.ProxyError],
    words: list[str],
) -> None:
    _error(status, error_type, body)
    with pytest.raises(expected) as caught:
        gateway.converse("m", REQUEST)
    for word in words:
        assert word in caught.value.message
    assert "nxk-test-key" not in caught.value.message


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (requests.ConnectionError("refused"), errors.UpstreamUnreachableError),
        (requests.ConnectTimeout("slow"), errors.UpstreamUnreachableError),
        (requests.ReadTimeout("slow"), errors.UpstreamTimeoutError),
    ],
)
@responses.activate
def test_network_failures_become_domain_errors(
    gateway: RequestsConverseGateway, failure: Exception, expected: type[errors.ProxyError]
) -> None:
    responses.post(f"{BASE}/model/m/converse", body=failure)
    with pytest.raises(expected) as caught:
        gateway.converse("m", REQUEST)
    assert "nexus.example" in caught.value.message


@responses.activate
def test_unreadable_success_body_is_an_upstream_failure(gateway: RequestsConverseGateway) -> None:
    responses.post(f"{BASE}/model/m/converse", json={"unexpected": True})
    with pytest.raises(errors.UpstreamFailureError):
        gateway.converse("m", REQUEST)


@responses.activate
def test_count_tokens_wraps_the_converse_request(gateway: RequestsConverseGateway) -> None:
    responses.post(f"{BASE}/model/m/count-tokens", json={"inputTokens": 321})
    assert gateway.count_tokens("m", REQUEST) == 321
    body = sent_json()
    assert list(body) == ["input"] and list(body["input"]) == ["converse"]
    assert "inferenceConfig" not in body["input"]["converse"]
    assert body["input"]["converse"]["messages"][0]["content"][0] == {"text": "What is this?"}


def _stream(body: bytes) -> None:
    responses.post(
        f"{BASE}/model/m/converse-stream",
        body=body,
        content_type="application/vnd.amazon.eventstream",
    )


@responses.activate
def test_stream_events_are_decoded_in_order(gateway: RequestsConverseGateway) -> None:
    _stream(
        event_frame("messageStart", {"role": "assistant", "p": "abc"})
        + event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hi"}, "p": "xy"})
        + event_frame("contentBlockStop", {"contentBlockIndex": 0})
        + event_frame("messageStop", {"stopReason": "end_turn"})
        + event_frame(
            "metadata", {"usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}, "metrics": {"latencyMs": 1}}
        )
    )
    stream = gateway.converse_stream("m", REQUEST)
    events = list(stream)
    stream.close()
    assert events == [
        c.MessageStartEvent(role="assistant"),
        c.ContentBlockDeltaEvent(content_block_index=0, delta=c.TextChunk(text="Hi")),
        c.ContentBlockStopEvent(content_block_index=0),
        c.MessageStopEvent(stop_reason="end_turn"),
        c.MetadataEvent(usage=c.TokenUsage(input_tokens=1, output_tokens=1, total_tokens=2)),
    ]


@pytest.mark.parametrize(
    ("exception_type", "expected"),
    [
        ("throttlingException", errors.UpstreamThrottledError),
        ("validationException", errors.UpstreamRejectedError),
        ("modelStreamErrorException", errors.UpstreamFailureError),
        ("internalServerException", errors.UpstreamFailureError),
        ("serviceUnavailableException", errors.UpstreamOverloadedError),
    ],
)
@responses.activate
def test_exception_frames_raise_domain_errors(
    gateway: RequestsConverseGateway, exception_type: str, expected: type
) -> None:
    _stream(event_frame("messageStart", {"role": "assistant"}) + exception_frame(exception_type, "went wrong"))
    stream = gateway.converse_stream("m", REQUEST)
    iterator = iter(stream)
    assert next(iterator) == c.MessageStartEvent(role="assistant")
    with pytest.raises(expected, match="went wrong"):
        next(iterator)


@responses.activate
def test_a_corrupt_or_cut_stream_is_an_upstream_failure(gateway: RequestsConverseGateway) -> None:
    frame = event_frame("messageStart", {"role": "assistant"})
    _stream(frame[:-1] + b"\x00")
    with pytest.raises(errors.UpstreamFailureError, match="corrupt"):
        list(gateway.converse_stream("m", REQUEST))
    _stream(frame + frame[:10])
    with pytest.raises(errors.UpstreamFailureError):
        list(gateway.converse_stream("m", REQUEST))


@responses.activate
def test_errors_before_the_stream_starts_are_plain_http_errors(gateway: RequestsConverseGateway) -> None:
    responses.post(
        f"{BASE}/model/m/converse-stream",
        status=400,
        json={"message": "bad input"},
        headers={"x-amzn-ErrorType": "ValidationException:http://x/"},
    )
    with pytest.raises(errors.UpstreamRejectedError, match="bad input"):
        gateway.converse_stream("m", REQUEST)


@responses.activate
def test_netrc_never_replaces_the_bearer_key(
    gateway: RequestsConverseGateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine nexus.example login someone password other-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    responses.post(f"{BASE}/model/m/converse", json=OK_BODY)
    gateway.converse("m", REQUEST)
    assert responses.calls[0].request.headers["Authorization"] == "Bearer nxk-test-key"


@responses.activate
def test_the_environments_proxy_settings_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    # Company networks reach Nexus through HTTPS_PROXY; NO_PROXY still wins for local hosts.
    # The environment is read when the gateway is built, so it is set first.
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    gateway = RequestsConverseGateway(endpoint_url=BASE, api_key="nxk-test-key", read_timeout=5)
    responses.post(f"{BASE}/model/m/converse", json=OK_BODY)
    gateway.converse("m", REQUEST)
    # responses records the keyword arguments of send() on the request it returns.
    proxies = responses.calls[0].request.req_kwargs["proxies"]  # type: ignore[attr-defined]
    assert proxies["https"] == "http://proxy.corp:3128"


@responses.activate
def test_a_compressed_stream_is_decoded_and_streams_ask_for_none(gateway: RequestsConverseGateway) -> None:
    import gzip

    frames = event_frame("messageStart", {"role": "assistant"}) + event_frame("messageStop", {"stopReason": "end_turn"})
    responses.post(
        f"{BASE}/model/m/converse-stream",
        body=gzip.compress(frames),
        headers={"Content-Encoding": "gzip"},
        content_type="application/vnd.amazon.eventstream",
    )
    events = list(gateway.converse_stream("m", REQUEST))
    assert events == [c.MessageStartEvent(role="assistant"), c.MessageStopEvent(stop_reason="end_turn")]
    assert responses.calls[0].request.headers["Accept-Encoding"] == "identity"
