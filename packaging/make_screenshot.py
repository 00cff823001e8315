"""Take the README screenshots of the real window, light and dark (run under Xvfb; see README).

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python packaging/make_screenshot.py            # every scene
    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python packaging/make_screenshot.py compare dark

Scenes: chats (a real SmolLM2 reply with a code block), compare (two SmolLM2 columns,
greedy and sampled), models, discover (the starter list) and first-run. Each scene runs in
a process of its own with a fresh data folder, and is saved as docs/screens/<scene>-<theme>.png.
Every scene but Discover needs the real SmolLM2 file (fetched into ~/.cache/hearth/test-models,
see tests/support/real_models.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCENES = ("chats", "compare", "models", "discover", "first-run", "tokens", "what-if", "sampling-chart",
          "draft-tokens", "prompt-tokens")
THEMES = ("light", "dark")
OUT = ROOT / "docs" / "screens"


def main() -> int:
    args = sys.argv[1:]
    scenes = [a for a in args if a in SCENES] or list(SCENES)
    themes = [a for a in args if a in THEMES] or list(THEMES)
    if len(scenes) == 1 and len(themes) == 1:
        return take(scenes[0], themes[0])
    failed = 0
    for scene in scenes:
        for theme in themes:  # a process each: one QApplication, one data folder, one theme
            failed += subprocess.run([sys.executable, __file__, scene, theme]).returncode != 0
    return 1 if failed else 0


def spin(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def wait(app, condition, limit: float = 120.0) -> None:
    end = time.monotonic() + limit
    while not condition() and time.monotonic() < end:
        spin(app, 0.1)


def window_with_model(app, model):
    """The app's window at 1240x780, `model` chosen in the chat page's picker (by its accessible name) and
    loaded as a person picks it there; a new chat open. For the scripts that take one picture each."""
    from PySide6.QtWidgets import QComboBox

    from app.settings import Settings
    from app.ui.application import build_window

    window = build_window(Settings())
    window.resize(1240, 780)
    window.move(20, 20)
    window.show()
    wait(app, lambda: bool(window.library.models))
    page = window.chat_page
    window.show_page(page)
    picker = next(w for w in page.findChildren(QComboBox) if w.accessibleName() == "Model")
    index = picker.findData(str(model))
    picker.setCurrentIndex(index)
    picker.activated.emit(index)
    wait(app, lambda: window.engine.info is not None and not page.session.loading)
    window.new_chat()
    return window


def take(scene: str, theme: str) -> int:
    home = Path(tempfile.mkdtemp(prefix="hearth-shot-"))
    os.environ["HEARTH_HOME"] = str(home)
    os.environ["HEARTH_THEME"] = theme
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from PySide6.QtWidgets import QApplication

    from app import paths
    from app.library import demo_model
    from app.settings import Settings
    from app.ui.application import build_window, shutdown
    from app.ui.theme import follow_system_theme
    from tests.support.real_models import smollm2_path

    model = None
    if scene in ("chats", "compare", "models", "first-run", "tokens", "what-if", "sampling-chart", "draft-tokens",
                 "prompt-tokens"):
        source, why = smollm2_path()
        if source is None:
            print(f"cannot take the {scene} screenshot: {why}", file=sys.stderr)
            return 2
        model = paths.models_dir() / "HuggingFaceTB" / "SmolLM2-135M-Instruct-GGUF" / source.name
        if scene == "first-run":  # what `make run` installs: the demo model, ready for one click
            model = demo_model.demo_dir() / demo_model.FILE_NAME
        model.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, model)

    app = QApplication.instance() or QApplication(sys.argv)
    follow_system_theme(app)
    window = build_window(Settings())
    window.resize(1360, 860)
    window.move(20, 20)
    window.show()
    if model is not None:
        wait(app, lambda: bool(window.library.models))
    spin(app, 1.0)
    {"chats": chats, "compare": compare, "models": models, "discover": discover,
     "first-run": first_run, "tokens": tokens, "what-if": what_if,
     "sampling-chart": sampling_chart, "draft-tokens": draft_tokens,
     "prompt-tokens": prompt_tokens}[scene](app, window, model)
    spin(app, 1.5)
    out = OUT / f"{scene}-{theme}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["import", "-window", "root", str(out)], check=True)
    window.close()
    shutdown(window)
    print(out)
    return 0


def chats(app, window, model) -> None:
    from app.engine import SamplingParams

    page = window.chat_page
    window.show_page(page)
    window.model_opener.open_with_model(str(model))
    wait(app, lambda: window.engine.info is not None)
    window.new_chat()
    page.sampling.set_params(SamplingParams(temperature=0.0, max_tokens=200), emit=True)
    page.composer.set_text("Write a Python function that returns the sum of a list of numbers.")
    page.composer.send_button.click()
    spin(app, 0.5)
    wait(app, lambda: not page.streaming)
    page.composer.set_text("Thanks! Can you add a docstring?")


def tokens(app, window, model) -> int:
    """A SmolLM2 reply in the Tokens view, its least sure token clicked: the alternatives listed."""
    from app.engine import SamplingParams

    page = window.chat_page
    window.show_page(page)
    window.model_opener.open_with_model(str(model))
    wait(app, lambda: window.engine.info is not None)
    window.new_chat()
    page.sampling.set_params(SamplingParams(temperature=0.0, max_tokens=80), emit=True)
    page.composer.set_text("Tell me three facts about Paris.")
    page.composer.send_button.click()
    spin(app, 0.5)
    wait(app, lambda: not page.streaming)
    card = page.view.cards()[-1]
    card.buttons["tokens"].click()
    steps = card.tokens.steps
    doubt = min(range(min(len(steps), 40)), key=lambda i: steps[i].chosen.prob)
    card.tokens.select(doubt)
    spin(app, 0.5)
    page.view.scroll_to_end()
    return doubt


def what_if(app, window, model) -> None:
    """The same reply written again from its least sure token with the second choice: ‹ 2/2 ›, outlined."""
    from PySide6.QtCore import QCoreApplication, QEvent

    from app.ui.chat.what_if_action import what_if as start_what_if

    page = window.chat_page
    step = tokens(app, window, model)
    card = page.view.cards()[-1]
    other = next(c for c in card.tokens.steps[step].top if c.id != card.tokens.steps[step].chosen.id)
    start_what_if(page, len(page.view.cards()) - 1, step, other.id)
    spin(app, 0.5)
    wait(app, lambda: not page.streaming)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)  # the old card (no event loop here)
    page.view.cards()[-1].buttons["tokens"].click()
    spin(app, 0.5)
    page.view.scroll_to_end()


def sampling_chart(app, window, model) -> None:
    """The sampling chart at the least sure token with the model's top 20; temperature 0.8 and top-k 8 set
    with the side panel's sliders (the chart follows them), the panel beside the chart."""
    from dataclasses import replace

    page = window.chat_page
    step = tokens(app, window, model)
    chart = page.view.cards()[-1].tokens.open_chart(step)
    wait(app, lambda: len(chart.candidates) == 20, 60)
    page.side.set_shown(True)
    page.sampling.set_params(replace(page.sampling.params(), temperature=0.8, top_k=8), emit=True)
    spin(app, 0.5)
    chart.resize(860, chart.height())
    chart.move(30, 20)
    chart.fit_screen()


def draft_tokens(app, window, model) -> None:
    """The composer's Tokens toggle on: a draft split into SmolLM2's tokens, in alternating tints. The
    draft is typed before the model loads: its tokens come with the load, without an edit."""
    page = window.chat_page
    window.show_page(page)
    window.new_chat()
    page.composer.tokens_button.click()
    page.composer.set_text("Tokenization splits text into pieces:\n"
                           "  \"unbelievable\", Hearth, 12345 and a naïve café — let's see!")
    wait(app, lambda: page.composer.token_strip.count.text().startswith("Load a model"), 30)
    window.model_opener.open_with_model(str(model))
    wait(app, lambda: window.engine.info is not None)
    wait(app, lambda: len(page.composer.token_strip.tokens) > 10, 30)


def prompt_tokens(app, window, model) -> None:
    """Chat → Show prompt on its Tokens tab: the template's special tokens in bold."""
    from app.engine import SamplingParams

    page = window.chat_page
    window.show_page(page)
    window.model_opener.open_with_model(str(model))
    wait(app, lambda: window.engine.info is not None)
    window.new_chat()
    page.sampling.set_params(SamplingParams(temperature=0.0, max_tokens=24), emit=True)
    page.composer.set_text("What is a token?")
    page.composer.send_button.click()
    spin(app, 0.5)
    wait(app, lambda: not page.streaming)
    shown = []
    page.show_prompt(on_shown=shown.append)
    wait(app, lambda: bool(shown), 30)
    shown[0].tabs.setCurrentIndex(1)
    shown[0].move(300, 120)


def compare(app, window, model) -> None:
    from app.engine import SamplingParams

    page = window.compare_page
    window.show_page(page)
    load = {"n_ctx": 2048, "n_gpu_layers": 0}
    page.controller.new([str(model), str(model)], lambda _path: (load, SamplingParams(temperature=0.0,
                                                                                       max_tokens=120)))
    page.controller.configure_column(1, str(model), load, SamplingParams(temperature=0.8, seed=7, max_tokens=120))
    page.controller.set_run_mode("one_at_a_time")
    page.composer.set_text("Explain in two sentences why the sky is blue.")
    page.composer.send_button.click()
    spin(app, 0.5)
    wait(app, lambda: not page.controller.busy)


def models(app, window, model) -> None:
    window.show_page(window.library_page)
    window.library_page.table.selectRow(0)


def first_run(app, window, model) -> None:
    if window.first_run is not None:
        window.show_extra_page(window.first_run)  # the welcome card, as a new user first sees it


def discover(app, window, model) -> None:
    window.show_page(window.discover_page)


if __name__ == "__main__":
    raise SystemExit(main())
