"""uvicorn's httptools protocol, refusing unparseable requests in Anthropic's JSON shape.

httptools (llhttp) is uvicorn's fast HTTP/1.1 parser: a 114 KB body costs the loop thread
a fraction of what h11's pure-Python parser does. Unlike h11 it refuses an HTTP/2
connection preface (``PRI * HTTP/2.0``) or a request line in another version itself,
before the app and its ``HttpVersionGuard`` see a request, and uvicorn then writes a
plain-text 400. This protocol writes that 400 as the guard would have: the same status,
headers and JSON body, so a client gets one answer whichever parser read its bytes.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _UvicornHttpTools

from adapters.http.http_version import SUPPORTED, bad_request_body, unsupported_message

# What llhttp reports when it never reached a version (garbage before the request line ends).
_NO_VERSION = "0.0"


def refusal_message(version: str, reason: str) -> str:
    """What a 400 for an unparseable request says, given the version the parser read.

    Args:
        version: the HTTP version from the request line, ``"0.0"`` when none was read.
        reason: uvicorn's own words, used when the version is not the fault.
    """
    if version not in SUPPORTED and version != _NO_VERSION:
        # What HttpVersionGuard answers when h11 hands it such a request.
        return unsupported_message(version)
    return reason


def refusal(message: str, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """A whole HTTP/1.1 400 response with Anthropic's JSON error, closing the connection."""
    body = bad_request_body(message)
    head = [b"HTTP/1.1 400 Bad Request\r\n"]
    head += [name + b": " + value + b"\r\n" for name, value in default_headers]
    head += [
        b"content-type: application/json\r\n",
        b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
        b"connection: close\r\n",
        b"\r\n",
    ]
    return b"".join(head) + body


class HttpToolsProtocol(_UvicornHttpTools):
    """uvicorn's httptools protocol whose parser-level 400 is Anthropic's JSON error."""

    def send_400_response(self, msg: str) -> None:
        """Answer a request the parser refused, then close (as uvicorn's own does)."""
        version = self.parser.get_http_version()
        self.transport.write(refusal(refusal_message(version, msg), self.server_state.default_headers))
        self.transport.close()
