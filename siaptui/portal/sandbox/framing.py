"""uvicorn's h11 protocol, answering HTTP framing errors as problem+json.

Why: when h11 cannot parse a request (bad request line, a `Content-Length` that is not a number,
broken chunked encoding) uvicorn writes a text/plain 400 itself, below the ASGI app, so no
Starlette handler can shape it.  The contract promises problem+json with a stable code for
every refusal; this subclass keeps uvicorn's framing and closing and changes only the answer.
Choosing h11 explicitly also keeps the answer the same where httptools happens to be installed.
"""

from __future__ import annotations

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from siaptui.portal.sandbox.problems import request_problem_bytes


class ProblemH11Protocol(H11Protocol):
    """H11Protocol whose framing-error answer is a `malformed_http` problem."""

    def send_400_response(self, msg: str) -> None:
        body = request_problem_bytes("malformed_http", "el servidor no pudo leer la solicitud HTTP "
                                     "(línea de petición, Content-Length o codificación chunked)")
        headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        try:
            for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
                          h11.Data(data=body), h11.EndOfMessage()):
                self.transport.write(self.conn.send(event) or b"")
        except h11.LocalProtocolError:
            pass  # an answer had already started: closing is all that is left
        self.transport.close()
