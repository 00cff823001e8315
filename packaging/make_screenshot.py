"""Take the README screenshots of the real window (run under Xvfb; see README).

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python packaging/make_screenshot.py docs/screenshot.png
    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python packaging/make_screenshot.py --compare docs/screens/compare.png

`--compare` needs the real SmolLM2 file (fetched into ~/.cache/hearth/test-models, see
tests/support/real_models.py): two columns answer the same question, greedy and sampled.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ANSWER = """Here is a tiny Python function that counts words:

```python
def count_words(text: str) -> int:
    return len(text.split())
```

- **split()** breaks on any whitespace
- it works on long texts too

| input | words |
|---|---|
| "hello world" | 2 |
"""


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    out = Path(args[0] if args else ROOT / "docs" / "screenshot.png").resolve()
    if "--compare" in sys.argv:
        return compare_scene(out)
    home = Path(tempfile.mkdtemp(prefix="hearth-shot-"))
    os.environ["HEARTH_HOME"] = str(home)
    from PySide6.QtWidgets import QApplication

    from app import paths
    from app.settings import Settings
    from app.store import ConversationStore
    from app.ui.application import build_window, shutdown
    from app.ui.theme import follow_system_theme
    from tests.support.tiny_gguf import write_tiny_model

    model = write_tiny_model(paths.models_dir() / "demo" / "Tiny-Demo-Q8_0.gguf", scripted=True,
                             name="Tiny Demo 1B Instruct")
    store = ConversationStore(paths.database_path())
    chat = store.create_chat("Counting words in Python", system_prompt="You are a concise coding assistant.")
    store.add_message(chat.id, "user", "How do I count the words in a string?")
    store.add_message(chat.id, "assistant", ANSWER, model="Tiny Demo 1B Instruct",
                      stats={"decode_tok_s": 48.2, "ttft_s": 0.21, "completion_tokens": 74, "stop_reason": "eos"})
    store.create_chat("Trip ideas for the weekend")
    store.close()

    app = QApplication.instance() or QApplication(sys.argv)
    follow_system_theme(app)
    settings = Settings(selected_chat=chat.id)
    window = build_window(settings)
    window.resize(1360, 860)
    window.move(20, 20)
    window.show()

    def spin(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    spin(1.0)
    window.show_page("Chats")
    window.sidebar.select(chat.id)
    window.chat_page.load_model(window.chat_page.load_settings.options(str(model)))
    while window.engine.info is None:
        spin(0.1)
    window.chat_page.composer.set_text("Thanks! And in one line?")
    window.chat_page.composer._send()
    while window.chat_page.streaming:
        spin(0.1)
    window.chat_page.composer.set_text("Can you also count sentences")
    spin(1.5)
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["import", "-window", "root", str(out)], check=True)
    window.close()
    shutdown(window)
    print(out)
    return 0


def spin(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def compare_scene(out: Path) -> int:
    """The Compare page with two real SmolLM2 replies: temperature 0 and a seeded 0.8."""
    import shutil

    home = Path(tempfile.mkdtemp(prefix="hearth-shot-"))
    os.environ["HEARTH_HOME"] = str(home)
    from PySide6.QtWidgets import QApplication

    from app import paths
    from app.engine import SamplingParams
    from app.settings import Settings
    from app.ui.application import build_window, shutdown
    from app.ui.theme import follow_system_theme
    from tests.support.real_models import smollm2_path

    source, why = smollm2_path()
    if source is None:
        print(f"cannot take the Compare screenshot: {why}", file=sys.stderr)
        return 2
    model = paths.models_dir() / "HuggingFaceTB" / "SmolLM2-135M-Instruct-GGUF" / source.name
    model.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, model)

    app = QApplication.instance() or QApplication(sys.argv)
    follow_system_theme(app)
    window = build_window(Settings())
    window.resize(1360, 860)
    window.move(20, 20)
    window.show()
    while not window.library.models:
        spin(app, 0.1)
    page = window.compare_page
    window.show_page(page)
    load = {"n_ctx": 2048, "n_gpu_layers": 0}
    greedy = SamplingParams(temperature=0.0, max_tokens=120)
    sampled = SamplingParams(temperature=0.8, seed=7, max_tokens=120)
    page.controller.new([str(model), str(model)], lambda path: (load, greedy))
    page.controller.configure_column(1, str(model), load, sampled)
    page.controller.set_run_mode("one_at_a_time")
    page.composer.set_text("Explain in two sentences why the sky is blue.")
    page.composer._send()
    spin(app, 0.5)
    while page.controller.busy:
        spin(app, 0.1)
    spin(app, 1.5)
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["import", "-window", "root", str(out)], check=True)
    window.close()
    shutdown(window)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
