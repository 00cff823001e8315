"""A broken or hostile OpenAI-compatible server for tests: a real HTTP server on 127.0.0.1 whose
answers are scripted per path, including a streamed reply whose one line never ends."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODELS = {"object": "list", "data": [{"id": "evil", "object": "model"}]}
ENDLESS_LINE = b"data: " + b"x" * (64 << 10)  # `data: xxxx…` without a newline, until the client hangs up
ENDLESS_BODY = b'{"data": [' + b'{"id": "m"}, ' * 5000  # a JSON body without length or end
LINE_CAP = 256 << 20  # an endless answer stops here even if the client keeps reading


def sse(*payloads: object) -> bytes:
    return b"".join(b"data: " + json.dumps(x).encode() + b"\n\n" for x in payloads) + b"data: [DONE]\n\n"


class HostileServer:
    """`answers` maps a path to (status, body) or a body (status 200); a body is bytes, ENDLESS_LINE or
    ENDLESS_BODY. /v1/models lists one model unless told otherwise and other paths answer 404.
    `sent` counts the endless bytes written."""

    def __init__(self, answers: dict[str, object]) -> None:
        self.answers = {"/v1/models": (200, json.dumps(MODELS).encode()), **answers}
        self.sent = 0
        self.hung_up = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                owner._answer(self)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                owner._answer(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        answer = self.answers.get(handler.path.split("?")[0], (404, b'{"error": "not here"}'))
        status, body = answer if isinstance(answer, tuple) else (200, answer)
        if body is ENDLESS_LINE or body is ENDLESS_BODY:
            handler.send_response(status)
            handler.send_header("Content-Type", "text/event-stream" if body is ENDLESS_LINE else "application/json")
            handler.end_headers()
            block = body if body is ENDLESS_LINE else b'{"id": "m"}, ' * 5000
            try:
                handler.wfile.write(body)
                while self.sent < LINE_CAP:
                    handler.wfile.write(block)
                    self.sent += len(block)
            except OSError:
                self.hung_up.set()
            return
        handler.send_response(status)
        handler.send_header("Content-Type", "text/event-stream" if body.startswith(b"data:") else "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        try:
            handler.wfile.write(body)
        except OSError:
            self.hung_up.set()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
