"""HTTP servers for tests: Hearth's own app on a thread, and a reference llama-server process."""

from __future__ import annotations

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
    return binary, ""


class LlamaServer:
    """A llama-server process on a free loopback port."""

    def __init__(self, binary: Path, model: Path, ctx: int = 2048) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cmd = [str(binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(self.port), "-c", str(ctx),
                    "-np", "1", "-t", "2", "--no-webui"]
        self.process: subprocess.Popen | None = None

    def start(self) -> "LlamaServer":
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
