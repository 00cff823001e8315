"""HTTP servers for tests: Hearth's own app on a thread, and a reference llama-server process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def uvicorn_thread(app):
    """Serve an ASGI app on a free loopback port for as long as the `with` lasts; yields the base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def llama_server_binary() -> tuple[Path | None, str]:
    """The llama-server that bench/engine_throughput.py builds from the vendored llama.cpp (never built here)."""
    base = Path(os.environ.get("HEARTH_REF_DIR", Path.home() / ".cache" / "hearth" / "llama-ref"))
    binary = base / metadata.version("llama-cpp-python") / "build" / "bin" / "llama-server"
    if not binary.exists():
        return None, (f"{binary} is not built; run `python bench/engine_throughput.py` once to build it "
                      "from the vendored llama.cpp")
    if not (binary.parents[1] / "hearth-cmake-args.json").exists():
        return None, (f"{binary} predates the Makefile's build flags (its AMX kernels may crash here); "
                      "run `python bench/engine_throughput.py` once to build it again")
    return binary, ""


class LlamaServer:
    """A llama-server process on a free loopback port."""

    def __init__(self, binary: Path, model: Path, ctx: int = 2048) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cmd = [str(binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(self.port), "-c", str(ctx),
                    "-np", "1", "-t", "2", "--no-webui"]
        self.process: subprocess.Popen | None = None

    def start(self) -> LlamaServer:
        self.process = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama-server exited with {self.process.returncode}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("llama-server did not become ready")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class SilentServer:
    """A raw HTTP server on a free loopback port that lists one model and then, for chat requests,
    either never answers (`busy_status=0`), answers `busy_status` with a Retry-After of `retry_after`,
    or streams the `cut_after` pieces and closes the connection mid-reply (no finish, no [DONE]).

    With `stall_after`, a chat request gets those pieces streamed and then nothing more (the connection
    stays open, like a server busy mid-reply).

    `chats` counts chat requests; `hung_up` is set once a silent chat request's connection is closed
    by the client (the test's proof that Stop reached the socket)."""

    MODELS = b'{"object": "list", "data": [{"id": "quiet", "object": "model"}]}'

    def __init__(self, busy_status: int = 0, retry_after: int = 8, cut_after: list[str] | None = None,
                 stall_after: list[str] | None = None) -> None:
        self.busy_status, self.retry_after, self.cut_after = busy_status, retry_after, cut_after
        self.stall_after = stall_after
        self.chats = 0
        self.chat_arrived = threading.Event()
        self.hung_up = threading.Event()
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._open.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        data = b""
        try:
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, data = data.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                length = next((int(v) for k, _, v in (x.partition(":") for x in lines[1:])
                               if k.strip().lower() == "content-length"), 0)
                while len(data) < length:
                    data += conn.recv(65536)
                data = data[length:]
                method, path = lines[0].split()[:2]
                if path == "/v1/models":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                                 + str(len(self.MODELS)).encode() + b"\r\n\r\n" + self.MODELS)
                elif path == "/v1/chat/completions":
                    self.chats += 1
                    self.chat_arrived.set()
                    pieces = self.cut_after if self.cut_after is not None else self.stall_after
                    if pieces is not None:
                        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
                        for piece in pieces:
                            chunk = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                            conn.sendall(f"data: {json.dumps(chunk)}\n\n".encode())
                        if self.cut_after is not None:
                            conn.close()
                            return
                    if not self.busy_status:
                        while conn.recv(65536):  # never answers; returns when the client hangs up
                            pass
                        self.hung_up.set()
                        return
                    conn.sendall(f"HTTP/1.1 {self.busy_status} Busy\r\nRetry-After: {self.retry_after}\r\n"
                                 "Content-Length: 0\r\n\r\n".encode())
                else:
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            return

    def close(self) -> None:
        self._listener.close()
        for conn in self._open:
            try:
                conn.close()
            except OSError:
                pass

    def __enter__(self) -> SilentServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
