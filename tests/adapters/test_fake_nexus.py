"""The fake AI Nexus speaks real Bedrock: boto3 is the oracle for both directions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.eventstream import ChecksumMismatch
from botocore.exceptions import ClientError, EventStreamError

from tests.support.converse_validation import botocore_session, validate_converse_body
from tests.support.eventstream_encoding import event_frame
from tests.support.fake_nexus import (
    Cut,
    Event,
    FakeNexus,
    Gate,
    JsonReply,
    RawBytes,
    StreamException,
    StreamReply,
    error_reply,
    padded,
    text_reply,
    text_stream,
    token_usage,
)

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
USER_HI = [{"role": "user", "content": [{"text": "Hi"}]}]
WAIT = 5  # seconds; an upper bound, never a synchronisation sleep


@pytest.fixture(scope="module")
def bedrock(nexus_server: FakeNexus) -> Iterator[Any]:
    """A boto3 client of the module's fake; tests take ``fake_nexus`` too, to reset it."""
    # Dummy SigV4 credentials: botocore refuses bearer tokens over plain http.
    client = boto3.Session(botocore_session=botocore_session()).client(
        "bedrock-runtime",
        endpoint_url=nexus_server.url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    yield client
    client.close()


def hi_stream(bedrock: Any) -> closing[Any]:
    """The event stream of a ConverseStream call saying hi; closing it frees the connection."""
    return closing(bedrock.converse_stream(modelId=MODEL, messages=USER_HI)["stream"])


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def test_boto3_converse_is_recorded_valid_and_parsed(fake_nexus: FakeNexus, bedrock: Any) -> None:
    fake_nexus.enqueue(text_reply("Bonjour", stop_reason="max_tokens", cacheReadInputTokens=7))
    image = {"format": "png", "source": {"bytes": b"\x89PNG"}}
    response = bedrock.converse(
        modelId=MODEL,
        messages=[{"role": "user", "content": [{"text": "Hi"}, {"image": image}]}],
        system=[{"text": "Be brief."}, {"cachePoint": {"type": "default"}}],
        inferenceConfig={"maxTokens": 100},
        additionalModelRequestFields={"top_k": 5},
    )

    assert response["output"]["message"]["content"] == [{"text": "Bonjour"}]
    assert response["stopReason"] == "max_tokens"
    assert response["usage"] == {
        "inputTokens": 10,
        "outputTokens": 5,
        "totalTokens": 22,
        "cacheReadInputTokens": 7,
    }
    [request] = fake_nexus.requests
    assert (request.operation, request.model_id, request.errors) == ("converse", MODEL, [])
    assert request.path == "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"
    assert request.body["messages"][0]["content"][1]["image"]["source"]["bytes"] == "iVBORw=="
    assert request.header("content-type") == "application/json"


def test_boto3_converse_stream_parses_every_event(fake_nexus: FakeNexus, bedrock: Any) -> None:
    usage = token_usage(3, 4, cacheWriteInputTokens=100)
    fake_nexus.enqueue(text_stream("Hel", "lo", stop_reason="stop_sequence", usage=usage))

    with hi_stream(bedrock) as stream:
        events = list(stream)

    assert [next(iter(e)) for e in events] == [
        "messageStart",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    texts = [e["contentBlockDelta"]["delta"]["text"] for e in events[1:3]]
    assert texts == ["Hel", "lo"]
    assert events[4]["messageStop"] == {"stopReason": "stop_sequence"}  # "p" is dropped
    assert events[5]["metadata"]["usage"] == {**usage, "totalTokens": 107}
    assert fake_nexus.requests[0].operation == "converse-stream"


def test_boto3_raises_an_exception_frame_after_http_200(fake_nexus: FakeNexus, bedrock: Any) -> None:
    start = Event("messageStart", padded({"role": "assistant"}))
    fake_nexus.enqueue(StreamReply([start, StreamException("throttlingException", "Slow down")]))

    with hi_stream(bedrock) as stream, pytest.raises(EventStreamError) as caught:
        list(stream)

    assert caught.value.response["Error"] == {"Code": "throttlingException", "Message": "Slow down"}


def test_boto3_drops_the_extra_members_of_a_model_stream_error(fake_nexus: FakeNexus, bedrock: Any) -> None:
    extra = {"originalStatusCode": 529, "originalMessage": "Overloaded"}
    failure = StreamException("modelStreamErrorException", "Model failed", extra)
    fake_nexus.enqueue(StreamReply([failure]))

    with hi_stream(bedrock) as stream, pytest.raises(EventStreamError) as caught:
        list(stream)

    # botocore keeps only the code and the message of an in-stream exception.
    assert caught.value.response == {"Error": {"Code": "modelStreamErrorException", "Message": "Model failed"}}


def test_boto3_count_tokens(fake_nexus: FakeNexus, bedrock: Any) -> None:
    converse = bedrock.count_tokens(modelId=MODEL, input={"converse": {"messages": USER_HI}})
    native = b'{"anthropic_version": "bedrock-2023-05-31"}'  # botocore base64-encodes it
    fake_nexus.enqueue(JsonReply({"inputTokens": 7}))
    invoke = bedrock.count_tokens(modelId=MODEL, input={"invokeModel": {"body": native}})

    assert (converse["inputTokens"], invoke["inputTokens"]) == (42, 7)
    assert [r.operation for r in fake_nexus.requests] == ["count-tokens", "count-tokens"]
    assert all(r.errors == [] for r in fake_nexus.requests)


@pytest.mark.parametrize("operation", ["converse", "converse_stream", "count_tokens"])
def test_boto3_maps_error_replies_to_their_exception_codes(fake_nexus: FakeNexus, bedrock: Any, operation: str) -> None:
    fake_nexus.enqueue(error_reply(429, "ThrottlingException", "Too many requests"))
    params: dict[str, Any] = {"messages": USER_HI}
    if operation == "count_tokens":
        params = {"input": {"converse": params}}

    with pytest.raises(ClientError) as caught:
        getattr(bedrock, operation)(modelId=MODEL, **params)

    assert caught.value.response["Error"] == {
        "Code": "ThrottlingException",
        "Message": "Too many requests",
    }
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_boto3_reads_the_capital_m_message_of_the_auth_front_door(fake_nexus: FakeNexus, bedrock: Any) -> None:
    message = "Authentication failed: Please make sure your API Key is valid."
    fake_nexus.enqueue(error_reply(403, "AccessDeniedException", message, capital_m=True))

    with pytest.raises(bedrock.exceptions.AccessDeniedException) as caught:
        bedrock.converse(modelId=MODEL, messages=USER_HI)

    assert caught.value.response["Error"]["Message"] == message


def test_records_headers_such_as_the_bearer_key(fake_nexus: FakeNexus, session: requests.Session) -> None:
    url = f"{fake_nexus.url}/model/{MODEL}/converse"
    response = session.post(url, json={"messages": USER_HI}, headers={"Authorization": "Bearer k"})

    assert response.json()["output"]["message"]["content"] == [{"text": "Hello from fake Nexus"}]
    assert response.headers["x-amzn-RequestId"]
    assert fake_nexus.requests[0].header("AUTHORIZATION") == "Bearer k"
    assert fake_nexus.requests[0].model_id == MODEL


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"messages": [{"role": "user", "content": [{"text": " \n"}]}]}, "text is blank"),
        ({"messages": USER_HI, "temperature": 0.5}, 'Unknown parameter in input: "temperature"'),
        ({"messages": [{"role": "user", "content": [{}]}]}, "Must set one of the following"),
        ({"messages": USER_HI, "modelId": MODEL}, "modelId travels in the path"),
        ({"messages": USER_HI * 2}, "roles must alternate"),
    ],
)
def test_invalid_bodies_are_recorded_and_rejected_like_bedrock(
    fake_nexus: FakeNexus, session: requests.Session, body: dict[str, Any], error: str
) -> None:
    fake_nexus.allow_invalid()
    fake_nexus.enqueue(text_reply("kept for the next valid request"))

    response = session.post(f"{fake_nexus.url}/model/{MODEL}/converse", json=body)

    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"].startswith("ValidationException:")
    assert error in response.json()["message"]
    [request] = fake_nexus.invalid_requests()
    assert any(error in e for e in request.errors)
    valid = session.post(f"{fake_nexus.url}/model/{MODEL}/converse", json={"messages": USER_HI})
    assert valid.json()["output"]["message"]["content"] == [{"text": "kept for the next valid request"}]


def test_a_callable_reply_sees_the_request(fake_nexus: FakeNexus, session: requests.Session) -> None:
    fake_nexus.enqueue(lambda request: text_reply(f"you sent {request.body['messages'][0]['content'][0]['text']}"))

    response = session.post(f"{fake_nexus.url}/model/m/converse", json={"messages": USER_HI})

    assert response.json()["output"]["message"]["content"] == [{"text": "you sent Hi"}]


def test_the_fixture_fails_a_test_that_sent_an_invalid_body(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("from tests.conftest import fake_nexus, nexus_server  # noqa: F401")
    pytester.makepyfile(
        """
        import requests

        def test_blank(fake_nexus):
            body = {"messages": [{"role": "user", "content": [{"text": ""}]}]}
            requests.post(fake_nexus.url + "/model/m/converse", json=body)

        def test_blank_allowed(fake_nexus):
            fake_nexus.allow_invalid()
            test_blank(fake_nexus)
        """
    )

    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:hypothesispytest")  # 1 s faster

    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*received requests Bedrock would reject*",
            "E * converse /model/m/converse: messages?0?.content?0?.text: text is blank*",
        ]
    )


def test_unknown_paths_get_a_404_and_count_as_invalid(fake_nexus: FakeNexus, session: requests.Session) -> None:
    fake_nexus.allow_invalid()
    response = session.post(f"{fake_nexus.url}/model/{MODEL}/invoke", json={})

    assert response.status_code == 404
    assert response.headers["x-amzn-ErrorType"].startswith("UnknownOperationException:")
    assert fake_nexus.requests[0].operation == "unknown"


def test_validation_decodes_blobs_and_rejects_bad_base64() -> None:
    def image(data: str) -> dict[str, Any]:
        block = {"image": {"format": "png", "source": {"bytes": data}}}
        return {"messages": [{"role": "user", "content": [{"text": "see"}, block]}]}

    assert validate_converse_body("converse", MODEL, image("iVBORw0K")) == []
    [error] = validate_converse_body("converse", MODEL, image("not base64!"))
    assert "messages[0].content[1].image.source.bytes: blob is not valid base64" in error


def test_stream_is_chunked_and_each_item_arrives_before_the_gate_opens(
    fake_nexus: FakeNexus, session: requests.Session
) -> None:
    gate = threading.Event()
    first = Event("messageStart", {"role": "assistant"})
    fake_nexus.enqueue(StreamReply([first, Gate(gate), Event("messageStop", {"stopReason": "x"})]))

    url = f"{fake_nexus.url}/model/{MODEL}/converse-stream"
    with session.post(url, json={"messages": USER_HI}, stream=True) as response:
        assert response.headers["Transfer-Encoding"] == "chunked"
        assert response.headers["Content-Type"] == "application/vnd.amazon.eventstream"
        chunks = response.iter_content(chunk_size=None)
        assert next(chunks) == event_frame("messageStart", {"role": "assistant"})
        gate.set()
        assert b"".join(chunks) == event_frame("messageStop", {"stopReason": "x"})


def test_a_client_that_leaves_during_a_gate_is_noticed(fake_nexus: FakeNexus, session: requests.Session) -> None:
    reply = StreamReply([Event("messageStart", {"role": "assistant"}), Gate(threading.Event())])
    fake_nexus.enqueue(reply)

    url = f"{fake_nexus.url}/model/{MODEL}/converse-stream"
    with session.post(url, json={"messages": USER_HI}, stream=True) as response:
        next(response.iter_content(chunk_size=None))

    assert reply.finished.wait(WAIT)
    assert reply.client_closed.is_set()
    assert fake_nexus.connections_closed_by_client == 1


def test_boto3_rejects_a_corrupt_frame(fake_nexus: FakeNexus, bedrock: Any) -> None:
    start = Event("messageStart", {"role": "assistant"})
    fake_nexus.enqueue(StreamReply([start, RawBytes(b"\x00\x00\x00\x20" + bytes(28))]))

    with hi_stream(bedrock) as stream, pytest.raises(ChecksumMismatch):
        list(stream)


@pytest.mark.parametrize("reset", [False, True])
def test_cut_ends_the_stream_without_its_last_chunk(
    fake_nexus: FakeNexus, session: requests.Session, reset: bool
) -> None:
    reply = StreamReply([Event("messageStart", {"role": "assistant"}), Cut(reset)])
    fake_nexus.enqueue(reply)

    url = f"{fake_nexus.url}/model/{MODEL}/converse-stream"
    with session.post(url, json={"messages": USER_HI}, stream=True) as response:
        chunks = response.iter_content(chunk_size=None)
        assert next(chunks) == event_frame("messageStart", {"role": "assistant"})
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            next(chunks)
    assert reply.finished.wait(WAIT)
    assert not reply.client_closed.is_set()


def test_keep_alive_and_many_concurrent_streams(fake_nexus: FakeNexus) -> None:
    url = f"{fake_nexus.url}/model/{MODEL}/converse-stream"
    results: list[bytes] = []

    def client() -> None:
        with requests.Session() as s:
            for _ in range(3):
                results.append(s.post(url, json={"messages": USER_HI}).content)

    threads = [threading.Thread(target=client) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)

    assert len(results) == 60 and len(fake_nexus.requests) == 60
    assert fake_nexus.connections_accepted == 20  # each client's three requests shared one
    assert all(b"fake Nexus" in body for body in results)
