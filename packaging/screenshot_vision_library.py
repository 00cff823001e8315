"""Screenshots of a vision model in the library (run under Xvfb): the Models page with the model that
sees images and its projector listed as its part, and the chat's load settings with the projector's
place (GPU or CPU) and memory.

    Xvfb :7 -screen 0 1280x820x24 &  DISPLAY=:7 .venv/bin/python packaging/screenshot_vision_library.py

Saved as docs/screens/vision-models-page.png and docs/screens/vision-load-settings.png.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the screenshot script beside this one

from make_screenshot import spin, wait  # noqa: E402

SCREENS = ROOT / "docs" / "screens"


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="hearth-shot-"))
    os.environ["HEARTH_HOME"] = str(home)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from PySide6.QtWidgets import QApplication

    from app import paths
    from app.settings import Settings
    from app.ui.application import build_window, shutdown
    from tests.support.tiny_gguf import write_tiny_model
    from tests.support.tiny_vision import write_tiny_vision_pair

    model, _projector = write_tiny_vision_pair(paths.models_dir() / "someone" / "Tiny-Vision-GGUF")
    write_tiny_model(paths.models_dir() / "someone" / "Tiny-Chat-GGUF" / "tiny-chat-Q8_0.gguf")
    app = QApplication.instance() or QApplication(sys.argv)
    window = build_window(Settings())
    window.resize(1240, 780)
    window.move(20, 20)
    window.show()
    wait(app, lambda: len(window.library.models) == 3 and not window.library.scanning)
    window.show_page(window.library_page)
    spin(app, 1.0)
    SCREENS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["import", "-window", "root", str(SCREENS / "vision-models-page.png")], check=True)
    page = window.chat_page
    window.show_page(page)
    page.load_settings.select_path(str(model))
    page.load_settings.more.setChecked(True)
    spin(app, 1.0)
    subprocess.run(["import", "-window", "root", str(SCREENS / "vision-load-settings.png")], check=True)
    window.close()
    shutdown(window)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
