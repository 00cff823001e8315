"""Regenerate tests/fixtures/templates/ from llama-server's own rendering.

    python -m tests.support.make_template_fixtures [LLAMA_CPP_SOURCE] [BIN_DIR]

For every models/templates/*.jinja of the vendored llama.cpp it starts
`llama-server --jinja --chat-template-file F` with a tiny generated model (BOS `<s>`,
EOS `</s>`), asks `POST /apply-template` for each case, and writes one JSON file per
template beside a copy of the template source.
"""

from __future__ import annotations

import datetime
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.tiny_gguf import write_tiny_model

REF = Path.home() / ".cache/hearth/llama-ref/0.3.36"
OUT = Path(__file__).resolve().parent.parent / "fixtures" / "templates"
FULL = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "What is the capital of France?"},
    {"role": "assistant", "content": "Paris."},
    {"role": "user", "content": "And of Italy?"},
]
CASES = {
    "full": (FULL, {}),
    "full_thinking_on": (FULL, {"enable_thinking": True}),
    "full_thinking_off": (FULL, {"enable_thinking": False}),
    "no_system": (FULL[1:], {}),
}
EFFORT_CASES = {f"full_effort_{e}": (FULL, {"reasoning_effort": e}) for e in ("low", "medium", "high")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port: int, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/apply-template", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def wait_ready(port: int, process: subprocess.Popen) -> bool:
    for _ in range(300):
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as answer:
                if answer.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    return False


def render_all(template: Path, server: Path, model: Path) -> dict:
    port = free_port()
    process = subprocess.Popen([str(server), "-m", str(model), "--jinja", "--chat-template-file", str(template),
                                "--port", str(port), "--host", "127.0.0.1", "-c", "256", "--no-warmup"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    cases = dict(CASES)
    if "reasoning_effort" in template.read_text(encoding="utf-8"):
        cases.update(EFFORT_CASES)
    result: dict = {"template": template.name, "cases": {}}
    try:
        if not wait_ready(port, process):
            process.kill()
            result["server_error"] = (process.stderr.read() or "")[-2000:]
            return result
        for name, (messages, kwargs) in cases.items():
            status, body = post(port, {"messages": messages, "chat_template_kwargs": kwargs})
            case = {"messages": messages, "kwargs": kwargs}
            if status == 200 and "prompt" in body:
                case["prompt"] = body["prompt"]
            else:
                case["error"] = body.get("error", {}).get("message", str(body)) if isinstance(body, dict) else str(body)
            result["cases"][name] = case
    finally:
        process.terminate()
        process.wait(timeout=10)
    return result


def main() -> int:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else REF / "src/vendor/llama.cpp"
    bins = Path(sys.argv[2]) if len(sys.argv) > 2 else REF / "build/bin"
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model = write_tiny_model(Path(tmp) / "tiny.gguf", chat_template=None)
        for template in sorted((source / "models/templates").glob("*.jinja")):
            day = datetime.date.today().isoformat()
            result = render_all(template, bins / "llama-server", model)
            result.update({"date": day, "bos_token": "<s>", "eos_token": "</s>"})
            shutil.copyfile(template, OUT / template.name)
            (OUT / (template.stem + ".json")).write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n",
                                                         encoding="utf-8")
            print(template.name, {k: ("ok" if "prompt" in v else "error") for k, v in result["cases"].items()},
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
