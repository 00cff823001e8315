"""A small real HTTP server that answers the Hugging Face Hub calls Hearth makes.

Runs on 127.0.0.1 in a thread; point huggingface_hub at it with HF_ENDPOINT.
Serves search (/api/models), file trees with sizes and SHA-256
(/api/models/{repo}/tree/{rev}), and files (/{repo}/resolve/{rev}/{path}) with
HEAD and Range. It can drop a connection part-way, answer 401/403/404/429/500,
or serve wrong bytes, and it records every request for assertions.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

COMMIT = "0123456789abcdef0123456789abcdef01234567"
TEST_REPO = "hearth-test/Tiny-Chat-GGUF"


@dataclass
class RepoData:
    files: dict[str, bytes | Path] = field(default_factory=dict)
    downloads: int = 0
    likes: int = 0
    last_modified: str = "2026-01-01T00:00:00.000Z"
    gated: bool = False

    def size(self, path: str) -> int:
        data = self.files[path]
        return data.stat().st_size if isinstance(data, Path) else len(data)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # dropped connections are what some tests are about


class FakeHub:
    def __init__(self) -> None:
        self.repos: dict[str, RepoData] = {}
        self.requests: list[Seen] = []
        self._faults: list[dict] = []
        self._lock = threading.Lock()
        self._sha: dict[tuple[str, str], str] = {}
        self.valid_token = "hf_valid_test_token"
        self.gated: set[str] = set()  # repos whose files need the valid token
        self.stopped = threading.Event()  # releases stalled answers
        # bytes/s each file answer is paced to (a CDN's per-connection cap)
        self.per_connection_rate: float | None = None
        self.total_rate: float | None = None  # bytes/s all file answers together are paced to (the user's line)
        self._line_free_at = 0.0  # with total_rate: when the line has sent everything booked so far
        self.server = _QuietServer(("127.0.0.1", 0), _make_handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeHub:
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (connections are refused from now on). Safe to call twice."""
        self.stopped.set()
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()

    # ------------------------------------------------------------ content

    def add_repo(self, repo_id: str, files: dict[str, bytes | Path], **meta) -> None:
        self.repos[repo_id] = RepoData(dict(files), **meta)

    def sha256(self, repo_id: str, path: str) -> str:
        key = (repo_id, path)
        if key not in self._sha:
            data = self.repos[repo_id].files[path]
            digest = hashlib.sha256()
            if isinstance(data, Path):
                with data.open("rb") as handle:
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(block)
            else:
                digest.update(data)
            self._sha[key] = digest.hexdigest()
        return self._sha[key]

    # ------------------------------------------------------------ faults

    def fail(self, status: int, times: int = 1, path_contains: str = "", retry_after: int | None = None) -> None:
        """Answer the next `times` matching requests with `status`."""
        self._faults.append({"kind": "status", "status": status, "times": times, "match": path_contains,
                             "retry_after": retry_after})

    def drop_after(self, path_contains: str, n_bytes: int, times: int = 1, range_from: int | None = None) -> None:
        """Send only `n_bytes` of a matching file body, then close the connection. With `range_from`,
        only requests whose Range starts at that byte match (one range of a parallel download)."""
        self._faults.append({"kind": "drop", "bytes": n_bytes, "times": times, "match": path_contains,
                             "from": range_from})

    def endless(self, path_contains: str) -> None:
        """Serve matching files with no length and a body that never ends (a server lying about the size)."""
        self._faults.append({"kind": "endless", "times": 10**9, "match": path_contains})

    def stall(self, path_contains: str, after_bytes: int = 0, times: int = 10**9,
              range_from: int | None = None) -> None:
        """Send the headers of matching files (and their first `after_bytes`), then nothing until the
        server stops (a silent or very slow server). With `range_from`, only that range stalls."""
        self._faults.append({"kind": "stall", "times": times, "match": path_contains, "after": after_bytes,
                             "from": range_from})

    def silent(self, path_contains: str) -> None:
        """Take requests for matching files and never answer, not even with headers."""
        self._faults.append({"kind": "silent", "times": 10**9, "match": path_contains})

    def corrupt(self, path_contains: str, at: int = 0) -> None:
        """Serve matching files with the byte at offset `at` changed (size stays right, hash does not)."""
        self._faults.append({"kind": "corrupt", "times": 10**9, "match": path_contains, "at": at})

    def _take_fault(self, kind: str, path: str, start: int = 0) -> dict | None:
        with self._lock:
            for fault in self._faults:
                if fault.get("from") is not None and fault["from"] != start:
                    continue
                if fault["kind"] == kind and fault["times"] > 0 and fault["match"] in path:
                    fault["times"] -= 1
                    return fault
        return None

    def ranges_seen(self, path_contains: str) -> list[str]:
        return [r.headers.get("Range", "") for r in self.requests if r.method == "GET" and path_contains in r.path]


def _make_handler(hub: FakeHub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def _record(self) -> None:
            hub.requests.append(Seen(self.command, self.path, dict(self.headers.items())))

        def _json(self, data, status: int = 200, headers: dict | None = None) -> None:
            body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _error(self, status: int, code: str = "", message: str = "error", retry_after=None) -> None:
            headers = {"X-Error-Code": code} if code else {}
            if retry_after is not None:
                headers["Retry-After"] = str(retry_after)
            headers["X-Error-Message"] = message
            self._json({"error": message}, status, headers)

        def do_HEAD(self) -> None:
            self._handle()

        def do_GET(self) -> None:
            self._handle()

        def _handle(self) -> None:
            self._record()
            url = urlparse(self.path)
            path = unquote(url.path)
            fault = hub._take_fault("status", path)
            if fault:
                codes = {401: "", 403: "GatedRepo", 404: "RepoNotFound"}
                return self._error(fault["status"], codes.get(fault["status"], ""), "injected",
                                   fault["retry_after"])
            if path == "/api/models":
                return self._search(parse_qs(url.query))
            if path == "/api/whoami-v2":
                auth = self.headers.get("Authorization", "")
                if auth != f"Bearer {hub.valid_token}":
                    return self._error(401, "", "Invalid credentials in Authorization header")
                return self._json({"type": "user", "name": "hearth-tester",
                                   "auth": {"type": "access_token",
                                            "accessToken": {"displayName": "hearth", "role": "read"}}})
            match = re.match(r"^/api/models/([^/]+/[^/]+)/tree/([^/]+)(?:/(.*))?$", path)
            if match:
                return self._tree(match[1])
            match = re.match(r"^/api/models/([^/]+/[^/]+)$", path)
            if match:
                repo = hub.repos.get(match[1])
                if repo is None:
                    return self._error(404, "RepoNotFound", "Repository not found")
                return self._json({"id": match[1], "sha": COMMIT, "siblings": [{"rfilename": p} for p in repo.files]})
            match = re.match(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", path)
            if match:
                return self._file(match[1], match[3])
            return self._error(404, "", "Not found")

        def _search(self, query: dict) -> None:
            text = (query.get("search") or [""])[0].lower()
            sort = (query.get("sort") or ["downloads"])[0]
            limit = int((query.get("limit") or ["50"])[0])
            items = []
            for repo_id, repo in hub.repos.items():
                if text and text not in repo_id.lower():
                    continue
                items.append({"_id": repo_id, "id": repo_id, "modelId": repo_id, "downloads": repo.downloads,
                              "likes": repo.likes, "lastModified": repo.last_modified, "private": False,
                              "gated": "auto" if repo.gated else False, "tags": ["gguf"]})
            key = {"downloads": "downloads", "likes": "likes", "lastModified": "lastModified"}.get(sort, "downloads")
            items.sort(key=lambda i: i[key], reverse=True)
            self._json(items[:limit])

        def _tree(self, repo_id: str) -> None:
            repo = hub.repos.get(repo_id)
            if repo is None:
                return self._error(404, "RepoNotFound", "Repository not found")
            entries, folders = [], set()
            for path in sorted(repo.files):
                parts = path.split("/")
                for i in range(1, len(parts)):
                    folders.add("/".join(parts[:i]))
                entry = {"type": "file", "oid": hashlib.sha1(path.encode()).hexdigest(), "size": repo.size(path),
                         "path": path}
                if path.endswith(".gguf"):
                    entry["lfs"] = {"oid": hub.sha256(repo_id, path), "size": repo.size(path), "pointerSize": 134}
                entries.append(entry)
            entries += [{"type": "directory", "oid": "0" * 40, "size": 0, "path": f} for f in sorted(folders)]
            self._json(entries)

        def _endless(self) -> None:
            self.send_response(200)
            self.send_header("Connection", "close")
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            block = b"x" * 65536
            try:
                while True:
                    self.wfile.write(block)
            except OSError:
                pass  # the client hung up
            self.close_connection = True

        def _file(self, repo_id: str, file_path: str) -> None:
            repo = hub.repos.get(repo_id)
            if repo is None:
                return self._error(404, "RepoNotFound", "Repository not found")
            if file_path not in repo.files:
                return self._error(404, "EntryNotFound", "Entry not found")
            if repo_id in hub.gated and self.headers.get("Authorization", "") != f"Bearer {hub.valid_token}":
                return self._error(401, "GatedRepo", "Access to this gated repo is restricted")
            if self.command == "GET" and hub._take_fault("silent", file_path):
                hub.stopped.wait(60)
                return
            size = repo.size(file_path)
            etag = hub.sha256(repo_id, file_path)
            start, end = 0, size - 1
            range_header = self.headers.get("Range", "")
            match = re.match(r"bytes=(\d+)-(\d*)", range_header)
            if match:
                start = int(match[1])
                end = min(int(match[2]), size - 1) if match[2] else size - 1
                if start >= size or end < start:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            length = end - start + 1
            if self.command == "GET" and hub._take_fault("endless", file_path):
                return self._endless()
            self.send_response(206 if match else 200)
            self.send_header("Content-Length", str(length))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", f'"{etag}"')
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("Content-Type", "application/octet-stream")
            if match:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            if self.command == "HEAD":
                return
            stall = hub._take_fault("stall", file_path, start)
            if stall:
                if stall["after"]:
                    data = repo.files[file_path]
                    head = data.read_bytes() if isinstance(data, Path) else data
                    self.wfile.write(head[start:start + min(stall["after"], length)])
                self.wfile.flush()
                hub.stopped.wait(60)
                return
            drop = hub._take_fault("drop", file_path, start)
            corrupt = hub._take_fault("corrupt", file_path)
            limit = drop["bytes"] if drop else length
            data = repo.files[file_path]
            sent = 0
            try:
                if (hub.per_connection_rate or hub.total_rate) and not drop and not corrupt:
                    sent = self._paced(data, start, length)
                elif isinstance(data, Path) and not drop and not corrupt:
                    # sendfile: the server costs almost no CPU, like a real CDN seen from here
                    self.wfile.flush()
                    with data.open("rb") as handle:
                        offset, end = start, start + length
                        while offset < end:
                            sent_now = os.sendfile(self.connection.fileno(), handle.fileno(), offset, end - offset)
                            if sent_now == 0:
                                break
                            offset += sent_now
                    sent = offset - start
                elif isinstance(data, Path):
                    with data.open("rb") as handle:
                        handle.seek(start)
                        while sent < min(limit, length):
                            block = handle.read(min(1 << 20, min(limit, length) - sent))
                            if not block:
                                break
                            self.wfile.write(self._maybe_corrupt(block, corrupt, start + sent))
                            sent += len(block)
                else:
                    block = data[start : start + min(limit, length)]
                    self.wfile.write(self._maybe_corrupt(block, corrupt, start))
                    sent = len(block)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
                return
            if drop:
                self.close_connection = True
                self.wfile.flush()
                self.connection.shutdown(2)

        def _paced(self, data: bytes | Path, start: int, length: int) -> int:
            """Send [start, start + length) in 64 KiB blocks, no faster than the hub's rates allow."""
            t0, sent = time.monotonic(), 0
            with (data.open("rb") if isinstance(data, Path) else io.BytesIO(data)) as handle:
                handle.seek(start)
                while sent < length and not hub.stopped.is_set():
                    block = handle.read(min(64 << 10, length - sent))
                    if not block:
                        break
                    due = t0 + (sent + len(block)) / hub.per_connection_rate if hub.per_connection_rate else 0.0
                    if hub.total_rate:
                        with hub._lock:  # book the block on the shared line after what is booked already
                            hub._line_free_at = max(hub._line_free_at, time.monotonic()) + len(block) / hub.total_rate
                            due = max(due, hub._line_free_at)
                    self.wfile.write(block)
                    sent += len(block)
                    if (wait := due - time.monotonic()) > 0:
                        time.sleep(wait)
            return sent

        @staticmethod
        def _maybe_corrupt(block: bytes, corrupt, offset: int) -> bytes:
            """`block` starts at file offset `offset`: flip the fault's byte if it falls inside."""
            if corrupt and offset <= corrupt["at"] < offset + len(block):
                i = corrupt["at"] - offset
                return block[:i] + bytes([block[i] ^ 0xFF]) + block[i + 1:]
            return block

    return Handler
