"""The screenshot of a picture pasted into a chat with the generated tiny vision model (run under Xvfb).

    Xvfb :7 -screen 0 1280x820x24 &  DISPLAY=:7 .venv/bin/python packaging/screenshot_pictures.py

A picture is put on the clipboard and pasted into the message box (Ctrl+V), a question is typed and
sent; the screenshot shows the thumbnail in the sent message, the meter's count with the picture's
tokens, and the model's reply (random weights: its words mean nothing). Saved as
docs/screens/pictures-in-chat.png.
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

from make_screenshot import spin, wait, window_with_model  # noqa: E402

OUT = ROOT / "docs" / "screens" / "pictures-in-chat.png"


def picture(sun_x: int = 240):
    """A small landscape: sky, sun, hills (painted, so no file is needed)."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter, QPolygonF

    image = QImage(320, 220, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    sky = QLinearGradient(0, 0, 0, 220)
    sky.setColorAt(0, QColor("#5aa0e6"))
    sky.setColorAt(1, QColor("#cfe8ff"))
    painter.fillRect(image.rect(), sky)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#ffd34d"))
    painter.drawEllipse(QPointF(sun_x, 60), 28, 28)
    painter.setBrush(QColor("#4f9d4a"))
    painter.drawPolygon(QPolygonF([QPointF(0, 220), QPointF(0, 150), QPointF(90, 110), QPointF(200, 160),
                                   QPointF(320, 120), QPointF(320, 220)]))
    painter.end()
    return image


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="hearth-shot-"))
    os.environ["HEARTH_HOME"] = str(home)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from PySide6.QtWidgets import QApplication

    from app import paths
    from app.engine import SamplingParams
    from app.ui.application import shutdown
    from tests.support.tiny_vision import write_tiny_vision_pair

    model, _projector = write_tiny_vision_pair(paths.models_dir() / "tests" / "tiny-vision-GGUF")
    app = QApplication.instance() or QApplication(sys.argv)
    window = window_with_model(app, model)
    page = window.chat_page
    page.sampling.set_params(SamplingParams(temperature=0.0, max_tokens=24), emit=True)
    QApplication.clipboard().setImage(picture())
    page.composer.edit.setFocus()
    spin(app, 0.3)
    page.composer.edit.paste()  # what Ctrl+V does
    wait(app, lambda: not page.composer.attachments.reading)  # (read off the GUI thread)
    spin(app, 0.5)
    page.composer.set_text("What is in this picture?")
    spin(app, 1.0)
    page.composer.send_button.click()
    spin(app, 0.5)
    wait(app, lambda: not page.streaming)
    page.composer.set_text("And what time of day is it?")
    QApplication.clipboard().setImage(picture(sun_x=70))
    page.composer.edit.paste()
    wait(app, lambda: not page.composer.attachments.reading)
    spin(app, 2.0)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["import", "-window", "root", str(OUT)], check=True)
    window.close()
    shutdown(window)
    print(OUT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
