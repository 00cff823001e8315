"""Screenshot of File → Tools and MCP servers… with a real model loaded (run under Xvfb).

    Xvfb :7 -screen 0 1280x820x24 &  DISPLAY=:7 .venv/bin/python packaging/screenshot_tools_settings.py

Hearth's mcp.json names the test weather server (tests/support/mcp_weather.py, a real stdio MCP server)
and a "search" server whose program exits at once saying why; Qwen2.5-Coder-0.5B-Instruct (from
~/.cache/hearth/test-models, or the path in HEARTH_SHOT_MODEL) is loaded, so the schema tokens are
counted by its template and tokenizer. One "always" answer is kept. Saves docs/screens/tools-settings.png.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the screenshot scripts beside this one

from make_screenshot import spin, wait, window_with_model  # noqa: E402
from screenshot_tools import shoot  # noqa: E402

QWEN = Path.home() / ".cache/hearth/test-models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
SEARCH = ("import sys; print('SEARCH_API_KEY is not set: add it to this server in Edit server', file=sys.stderr); "
          "sys.exit(2)")


def main() -> int:
    source = Path(os.environ.get("HEARTH_SHOT_MODEL", QWEN))
    if not source.is_file():
        print(f"no model at {source}", file=sys.stderr)
        return 1
    home = Path(tempfile.mkdtemp(prefix="hearth-shot-"))
    os.environ["HEARTH_HOME"] = str(home)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from PySide6.QtWidgets import QApplication

    from app import paths
    from app.tools import app_setup
    from app.tools.config import load_config
    from app.tools.permissions import Decision, Grants
    from app.ui.application import shutdown
    from app.ui.tools.tools_dialog import ToolsDialog

    model = paths.models_dir() / source.name
    model.parent.mkdir(parents=True, exist_ok=True)
    model.symlink_to(source)
    app_setup.servers_path().write_text(json.dumps({"mcpServers": {
        "weather": {"command": sys.executable, "args": ["-m", "tests.support.mcp_weather"],
                    "env": {"PYTHONPATH": str(ROOT)}},
        "search": {"command": sys.executable, "args": ["-c", SEARCH]}}}), encoding="utf-8")
    weather = load_config(app_setup.servers_path())[0]
    Grants(app_setup.grants_path()).record(Decision.ALWAYS_TOOL, "weather", "get_weather", weather.fingerprint)
    app = QApplication.instance() or QApplication(sys.argv)
    window = window_with_model(app, model)
    window.chat_page.side.set_shown(False)
    settings = ToolsDialog(window.tools, window)
    settings.resize(960, 600)
    settings.move(window.x() + 140, window.y() + 80)
    settings.show()

    def row(i: int) -> str:
        tree = settings.servers
        return tree.topLevelItem(i).text(0) if tree.topLevelItemCount() > i else ""

    wait(app, lambda: "ready" in row(0) and "about" not in row(0) and "failed" in row(1))
    settings.servers.topLevelItem(0).setExpanded(True)
    settings.servers.setCurrentItem(settings.servers.topLevelItem(1))
    spin(app, 1.0)
    print(row(0), "|", row(1), "|", settings.total.text())
    shoot("tools-settings.png")
    settings.close()
    window.close()
    shutdown(window)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
