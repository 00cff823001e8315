"""Screenshots of a chat calling an MCP tool (run under Xvfb).

    Xvfb :7 -screen 0 1280x820x24 &  DISPLAY=:7 .venv/bin/python packaging/screenshot_tools.py

Hearth's mcp.json names the test weather server (tests/support/mcp_weather.py, a real stdio MCP server
made with the SDK); the chat's Tools switch is turned on and a question sent to the scripted weather
model (tests/support/tool_model.py), which calls get_weather. The first screenshot shows the approval
dialog (docs/screens/tools-approval.png); after Always for this tool, the second shows the reply answered from
the tool's result, its call opened (docs/screens/tools-reply.png). Settings → Tools, with a real model
counting the schemas, is packaging/screenshot_tools_settings.py's (docs/screens/tools-settings.png).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the screenshot script beside this one

from make_screenshot import spin, wait, window_with_model  # noqa: E402

SCREENS = ROOT / "docs" / "screens"


def shoot(name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["import", "-window", "root", str(SCREENS / name)], check=True)
    print(SCREENS / name)


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="hearth-shot-"))
    os.environ["HEARTH_HOME"] = str(home)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from PySide6.QtWidgets import QApplication

    from app import paths
    from app.tools import app_setup
    from app.ui.application import shutdown
    from app.ui.tools.approval_dialog import ApprovalDialog
    from tests.support.tool_model import write_weather_model

    model = write_weather_model(paths.models_dir() / "weather-tools.gguf")
    app_setup.servers_path().write_text(json.dumps({"mcpServers": {"weather": {
        "command": sys.executable, "args": ["-m", "tests.support.mcp_weather"], "env": {"PYTHONPATH": str(ROOT)}}}}),
        encoding="utf-8")
    app = QApplication.instance() or QApplication(sys.argv)
    window = window_with_model(app, model)
    page = window.chat_page
    page.side.set_shown(False)
    tools = next(b for b in page.findChildren(type(page.composer.send_button))
                 if b.accessibleName() == "Use tools in this chat")
    tools.click()
    page.composer.set_text("What is the weather in Paris?")
    spin(app, 0.5)
    page.composer.send_button.click()

    def dialog() -> ApprovalDialog | None:
        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, ApprovalDialog) and w.isVisible()),
                    None)

    wait(app, lambda: dialog() is not None)
    asked = dialog()
    assert asked is not None
    asked.move(window.x() + 360, window.y() + 220)
    spin(app, 1.0)
    shoot("tools-approval.png")
    from app.tools.permissions import Decision

    asked.buttons[Decision.ALWAYS_TOOL].click()  # kept, and listed in the settings
    wait(app, lambda: not page.streaming)
    card = [c for c in page.view.cards() if c.item.role == "assistant"][-1]
    card.calls.calls[0].header.click()
    spin(app, 1.5)
    shoot("tools-reply.png")
    window.close()
    shutdown(window)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
