"""Screenshots of a chat calling an MCP tool (run under Xvfb).

    Xvfb :7 -screen 0 1280x820x24 &  DISPLAY=:7 .venv/bin/python packaging/screenshot_tools.py

Hearth's mcp.json names the test weather server (tests/support/mcp_weather.py, a real stdio MCP server
made with the SDK, offering get_weather alone here); the chat's Tools switch is turned on and "What is
the weather in Paris?" sent to a real model, Qwen2.5-Coder-0.5B-Instruct (from
~/.cache/hearth/test-models, or the path in
HEARTH_SHOT_MODEL), which calls get_weather (as bare JSON: docs/TOOLS.md). The first screenshot shows
the approval dialog (docs/screens/tools-approval.png); after Always for this tool, the second shows the
reply, its call opened, and the model's answer after the result, whatever it is (a model this small
answers poorly: docs/TOOLS.md) (docs/screens/tools-reply.png). Settings → Tools, with a real model
counting the schemas, is packaging/screenshot_tools_settings.py's (docs/screens/tools-settings.png).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the screenshot script beside this one

from make_screenshot import spin, wait, window_with_model  # noqa: E402

SCREENS = ROOT / "docs" / "screens"
# the test weather server with get_weather alone (its slow and crash tools, there for tests, would only
# distract a small model)
WEATHER_ONLY = ("from tests.support.mcp_weather import server; server.remove_tool('slow'); "
                "server.remove_tool('crash'); server.run('stdio')")
SEED = 2  # the app's default sampling otherwise (temperature 0.7)
QWEN = Path.home() / ".cache/hearth/test-models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


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

    source = Path(os.environ.get("HEARTH_SHOT_MODEL", QWEN))
    if not source.is_file():
        print(f"no model at {source}", file=sys.stderr)
        return 1
    model = paths.models_dir() / source.name
    model.parent.mkdir(parents=True, exist_ok=True)
    model.symlink_to(source)
    app_setup.servers_path().write_text(json.dumps({"mcpServers": {"weather": {
        "command": sys.executable, "args": ["-c", WEATHER_ONLY], "env": {"PYTHONPATH": str(ROOT)}}}}),
        encoding="utf-8")
    app = QApplication.instance() or QApplication(sys.argv)
    window = window_with_model(app, model)
    page = window.chat_page
    page.side.set_shown(False)
    tools = next(b for b in page.findChildren(type(page.composer.send_button))
                 if b.accessibleName() == "Use tools in this chat")
    tools.click()
    seed = int(os.environ.get("HEARTH_SHOT_SEED", SEED))  # the chat's Seed setting: the same reply each run
    page.sampling.set_params(replace(page.sampling.params(), seed=seed), emit=True)
    page.composer.set_text("What is the weather in Paris?")
    spin(app, 0.5)
    page.composer.send_button.click()

    def dialog() -> ApprovalDialog | None:
        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, ApprovalDialog) and w.isVisible()),
                    None)

    spin(app, 1.0)
    wait(app, lambda: dialog() is not None or not page.streaming)
    asked = dialog()
    if asked is None:
        replies = [c.item.content for c in page.view.cards() if c.item.role == "assistant"]
        print(f"the model called no tool; it answered {replies[-1:]!r}", file=sys.stderr)
        return 1
    asked.move(window.x() + 360, window.y() + 220)
    spin(app, 1.0)
    shoot("tools-approval.png")
    from app.tools.permissions import Decision

    asked.buttons[Decision.ALWAYS_TOOL].click()  # kept, and listed in the settings
    wait(app, lambda: not page.streaming)
    card = [c for c in page.view.cards() if c.item.role == "assistant"][-1]
    print("the model's answer after the result:", repr(card.item.content))
    card.calls.calls[0].header.click()
    spin(app, 1.5)
    shoot("tools-reply.png")
    window.close()
    shutdown(window)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
