"""A managed llama-server: a second local engine, for llama.cpp builds newer than the built-in one.

Hearth starts the user's llama-server (an official release for CUDA, Vulkan or Metal, or one built
with `make engine-server`) per model on a free loopback port with a random API key, and talks to
it with RemoteEngine, the OpenAI-compatible client it already has (streaming, Stop, exact counts
through /apply-template and /tokenize). Every server started here is stopped by `stop_all`, which
runs when the process exits, so closing the app never leaves one behind.
"""

from __future__ import annotations

import atexit
import os
import re
import secrets
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from app.engine.protocol import AUTO_PROJECTOR, EngineError, ErrorKind, LoadOptions

BINARY_NAMES = ("llama-server", "llama-server.exe")
PLACES = (".", "bin", "build/bin", "build/bin/Release")  # a release archive, or a CMake build folder
START_TIMEOUT = 120.0  # seconds for the server to load its model and answer /health
_VERSION = re.compile(r"version:\s*(?P<version>\S+)\s*\(build (?P<build>\d+), commit (?P<commit>[0-9a-f]+)\)")


@dataclass(frozen=True)
class RuntimeInfo:
    """What `llama-server --version` says about a build."""

    binary: str
    version: str
    build: int
    commit: str
    built_with: str
    devices: tuple[str, ...] = ()  # the GPUs (or other accelerators) it can use; () means the CPU only

    @property
    def label(self) -> str:
        """ "llama-server b11403"; a build from a source archive has no build number, so its commit."""
        return f"llama-server b{self.build}" if self.build > 1 else f"llama-server {self.commit or self.version}"


def find_binary(path: str | Path) -> Path:
    """The llama-server in `path` (the binary itself, a release folder or a build folder)."""
    place = Path(path).expanduser()
    if place.is_file():
        return place
    for folder in PLACES:
        for name in BINARY_NAMES:
            candidate = place / folder / name
            if candidate.is_file():
                return candidate
    raise EngineError(ErrorKind.MISSING_FILE, f"no llama-server in {place} (looked in {', '.join(PLACES)})")


def check_runtime(path: str | Path, timeout: float = 30.0) -> RuntimeInfo:
    """Run `llama-server --version`; an EngineError in plain words when it is not a llama-server that runs."""
    binary = find_binary(path)
    if not os.access(binary, os.X_OK):
        raise EngineError(ErrorKind.BAD_REQUEST, f"{binary} is not executable")
    try:
        done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EngineError(ErrorKind.BAD_REQUEST, f"{binary} did not run: {exc}") from None
    said = done.stdout + done.stderr
    found = _VERSION.search(said)
    if found is None:
        raise EngineError(ErrorKind.BAD_REQUEST, f"{binary} does not say a llama.cpp version; is it a llama-server?")
    built = next((line.strip() for line in said.splitlines() if line.startswith("built with")), "")
    return RuntimeInfo(str(binary), found["version"], int(found["build"]), found["commit"], built,
                       list_devices(binary, timeout))


def list_devices(binary: Path, timeout: float) -> tuple[str, ...]:
    """The devices `llama-server --list-devices` names ("CUDA0: NVIDIA ..."); () for a CPU-only build."""
    try:
        done = subprocess.run([str(binary), "--list-devices"], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    lines = (done.stdout + done.stderr).splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Available devices")), len(lines))
    return tuple(line.strip() for line in lines[start + 1:] if line.startswith("  ") and line.strip() != "(none)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ManagedServer:
    """One llama-server for one model, on loopback, with its own random API key."""

    def __init__(self, runtime: RuntimeInfo, options: LoadOptions, threads: int = 0) -> None:
        self.runtime = runtime
        self.options = options
        self.port = free_port()
        self.api_key = secrets.token_urlsafe(24)
        self.url = f"http://127.0.0.1:{self.port}"
        gpu = options.n_gpu_layers if options.n_gpu_layers >= 0 else 999
        self.command = [runtime.binary, "-m", options.path, "--host", "127.0.0.1", "--port", str(self.port),
                        "--api-key", self.api_key, "-c", str(options.n_ctx), "-np", "1", "--no-webui",
                        "-ngl", str(gpu), "-b", str(options.n_batch), "-ub", str(options.n_batch),
                        "-ctk", options.kv_cache_type, "-ctv", options.kv_cache_type,
                        "-fa", self._flash_attn(runtime, options),
                        # A history ending on a reply is rendered as the built-in engine renders it (that
                        # reply closed, then the next turn's header), not as a reply to continue: the
                        # context meter counts such a history through /apply-template.
                        "--no-prefill-assistant"]
        if threads > 0 or options.n_threads > 0:
            self.command += ["-t", str(threads or options.n_threads)]
        if not options.use_mmap:
            self.command.append("--no-mmap")
        if projector := projector_path(options):  # a vision model sees images here too
            self.command += ["--mmproj", projector, *([] if options.mmproj_gpu else ["--no-mmproj-offload"])]
        self.process: subprocess.Popen[bytes] | None = None
        self._log: list[str] = []

    @staticmethod
    def _flash_attn(runtime: RuntimeInfo, options: LoadOptions) -> str:
        """As the built-in engine decides (load_params.context_params): automatic means off on the CPU with an
        f16 cache (faster decoding there), so both engines compute the same reply."""
        flash = options.flash_attn
        if flash is None and options.kv_cache_type == "f16" and (not runtime.devices or options.n_gpu_layers == 0):
            flash = False
        return {None: "auto", True: "on", False: "off"}[flash]

    def start(self) -> ManagedServer:
        """Start the server and wait until its model is loaded; its last log line names a failure."""
        import httpx  # slow to import: only when a server is started
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        start_new_session=True)
        _live.add(self)
        reader = threading.Thread(target=self._read_log, name="hearth-llama-server-log", daemon=True)
        reader.start()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is None:  # stopped while it started (stop_all: Hearth is closing)
                raise EngineError(ErrorKind.CONNECTION, f"{self.runtime.label} was stopped before it was ready")
            code = self.process.poll()
            if code is not None:
                reader.join(timeout=2)  # its last lines say why
                self.stop()
                reason = failure_reason(self._log)
                raise EngineError(ErrorKind.LOAD_FAILED, f"{self.runtime.label} could not load this model"
                                  + (f" — it said: {reason}" if reason else f" (exit code {code})"))
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise EngineError(ErrorKind.HUNG, f"{self.runtime.label} did not load the model in {START_TIMEOUT:.0f} s")

    def _read_log(self) -> None:
        process = self.process
        if process is None or process.stderr is None:
            return
        for raw in process.stderr:  # kept short: the last lines say why a load failed
            self._log.append(raw.decode("utf-8", errors="replace").strip())
            del self._log[:-40]

    def stop(self) -> None:
        process, self.process = self.process, None
        _live.discard(self)
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def __enter__(self) -> ManagedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def projector_path(options: LoadOptions) -> str:
    """The projector a load names, or pairs (AUTO_PROJECTOR: the one beside the model); "" for text only."""
    if options.mmproj != AUTO_PROJECTOR:
        return options.mmproj
    from app.library.projector import pair_projector

    found = pair_projector(options.path)
    return str(found) if found else ""


def failure_reason(lines: list[str]) -> str:
    """llama.cpp's "error loading model: ..." words in a server's log, else its last error line."""
    for line in reversed(lines):
        if "error loading model: " in line:
            return line.split("error loading model: ", 1)[1].strip()
    return next((line for line in reversed(lines) if " E " in line or "error" in line.lower()), "")


_live: set[ManagedServer] = set()


def stop_all() -> None:
    """Stop every server this process started (also when the process exits)."""
    for server in list(_live):
        server.stop()


atexit.register(stop_all)
