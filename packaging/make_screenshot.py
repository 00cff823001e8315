"""Take the README screenshot of the real window (run under Xvfb; see README).

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python packaging/make_screenshot.py docs/screenshot.png
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
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "screenshot.png").resolve()
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


if __name__ == "__main__":
    raise SystemExit(main())
