"""The screenshot of the load settings with the memory plan, after loading SmolLM2 (run under Xvfb).

    Xvfb :7 -screen 0 1280x820x24 &  DISPLAY=:7 .venv/bin/python packaging/screenshot_plan.py [out.png]

The chat page's Settings are opened for the real SmolLM2 model at a 4,096-token context; once it is loaded,
the plan per component (weights, KV cache, compute buffers, ...) stands beside what llama.cpp reported per
buffer and the engine's resident memory; the Engine row says which llama.cpp runs it. Saved as
docs/screens/memory-plan.png (the window, grabbed by `import` from the X display).
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

OUT = ROOT / "docs" / "screens" / "memory-plan.png"


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="hearth-shot-"))
    os.environ["HEARTH_HOME"] = str(home)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from PySide6.QtWidgets import QApplication, QComboBox, QSpinBox

    from app import paths
    from app.settings import Settings
    from app.ui.application import build_window, shutdown
    from tests.support.real_models import smollm2_path

    source, why = smollm2_path()
    if source is None:
        print(f"no SmolLM2: {why}", file=sys.stderr)
        return 1
    model = paths.models_dir() / source.name
    model.symlink_to(source)
    app = QApplication.instance() or QApplication(sys.argv)
    window = build_window(Settings())
    window.resize(1240, 780)
    window.move(0, 0)
    window.show()
    wait(app, lambda: bool(window.library.models) and not window.library.scanning)
    page = window.chat_page
    window.show_page(page)
    settings = page.load_settings
    settings.more.setChecked(True)  # the load settings, as the Settings button opens them
    next(w for w in page.findChildren(QSpinBox) if w.accessibleName() == "Context size").setValue(4096)
    picker = next(w for w in page.findChildren(QComboBox) if w.accessibleName() == "Model")
    index = picker.findData(str(model))
    picker.setCurrentIndex(index)
    picker.activated.emit(index)
    wait(app, lambda: window.engine.info is not None and not page.session.loading)
    spin(app, 1.0)
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    subprocess.run(["import", "-window", "root", "-crop", "1240x780+0+0", str(out)], check=True)
    print(settings.plan_view.rows())
    shutdown(window)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
