"""The chat page's views of tokens: the draft's (the composer's Tokens toggle), any message's (its context
menu's Show tokens) and the sampling chart's top 20 (at a token of a reply, or the draft's next token).

Every question goes to the engine through TokenRequests (off the GUI thread); this module only decides
what to ask and where the answer goes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout, QWidget

from app.chat.message import history_for_engine
from app.engine.protocol import ChatMessage
from app.engine.token_probs import probs_from_json
from app.ui.chat.chat_session import ChatSession
from app.ui.chat.composer import Composer
from app.ui.chat.message_view import MessageListView
from app.ui.chat.model_state import ModelState
from app.ui.chat.sampling_chart import SamplingChart
from app.ui.chat.token_requests import TokenRequests
from app.ui.chat.token_strip import TokenStrip
from app.ui.services import EngineService
from app.ui.tasks import BackgroundTasks
from app.ui.widgets.sampling_panel import SamplingPanel


class Page(Protocol):
    session: ChatSession
    composer: Composer
    view: MessageListView
    model_state: ModelState
    sampling: SamplingPanel  # the side panel's sliders: every chart is tied to them
    engine: EngineService
    tasks: BackgroundTasks


class TokensDialog(QDialog):
    """One message's tokens (Show tokens)."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Tokens · {title}")
        self.resize(700, 420)
        layout = QVBoxLayout(self)
        self.strip = TokenStrip("Message tokens", grow=False)  # a long message scrolls inside the dialog
        self.strip.set_note("Asking the model's tokenizer…")
        layout.addWidget(self.strip, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


class TokenViews(QObject):
    def __init__(self, page: Page, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.page = page
        router = lambda: page.engine.router  # noqa: E731 (the engine in use, asked each time)
        self.draft = TokenRequests(page.tasks, router, self)
        self.message = TokenRequests(page.tasks, router, self)  # Show tokens' (one dialog at a time)
        self.message.tokens.connect(lambda tokens: self.dialog.strip.set_tokens(tokens) if self.dialog else None)
        self.message.failed.connect(lambda words: self.dialog.strip.set_note(words) if self.dialog else None)
        self.charts = TokenRequests(page.tasks, router, self)  # the open chart's top 20 (one at a time)
        self.charts.candidates.connect(lambda found: self.chart.set_candidates(found) if self.chart else None)
        self.charts.failed.connect(lambda words: self.chart.set_note(words) if self.chart else None)
        composer = page.composer
        self.draft.tokens.connect(composer.token_strip.set_tokens)
        self.draft.failed.connect(composer.token_strip.set_note)
        composer.tokens_button.toggled.connect(self._draft_shown)
        composer.draft_changed.connect(self._draft_changed)
        composer.chart_button.clicked.connect(lambda _=False: self.draft_chart())
        page.view.tokens_requested.connect(self.show_tokens)
        page.view.chart_opened.connect(self.fill_chart)
        model = page.model_state  # another model splits text its own way: what is shown is asked again
        model.loaded.connect(lambda _info: self.refresh())
        model.followed.connect(lambda _info: self.refresh())
        model.ejected.connect(self.refresh)
        self.dialog: TokensDialog | None = None
        self._dialog_text: str | None = None  # what the open dialog asked the tokenizer (None: the kept ids)
        self.chart: SamplingChart | None = None

    # ------------------------------------------------------------ the draft

    def refresh(self) -> None:
        """The model changed (loaded, another loaded, ejected): the draft's and an open Show tokens
        dialog's tokens are asked again, so neither keeps the old model's tokens or "Load a model"."""
        if self.page.composer.tokens_button.isChecked():
            self.draft.tokenize(self.page.composer.text())
        if self.dialog is not None and self._dialog_text is not None:
            self.dialog.strip.set_note("Asking the model's tokenizer…")
            self.message.tokenize(self._dialog_text)

    def _draft_shown(self, shown: bool) -> None:
        if shown:
            self.draft.tokenize(self.page.composer.text())

    def _draft_changed(self, text: str) -> None:
        if self.page.composer.tokens_button.isChecked():
            self.draft.tokenize_soon(text)

    def draft_chart(self) -> SamplingChart:
        """The sampling chart for the first token of the reply the draft would get."""
        session = self.page.session
        messages = [*session.history(), ChatMessage("user", self.page.composer.text().strip())]
        chart = SamplingChart((), session.sampling, (), "the first token of the reply to your message",
                              self.page.composer)
        chart.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._follow(chart)
        chart.show()
        self.charts.next_tokens(messages, (), session.thinking_to_send())
        return chart

    # ------------------------------------------------------------ messages

    def show_tokens(self, row: int) -> TokensDialog:
        """A message's tokens: a reply's as the model wrote them (kept with it), else the tokenizer's."""
        item = self.page.session.messages.item(row)
        who = "your message" if item.role == "user" else "the reply" if item.role == "assistant" else item.role
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog = TokensDialog(who, self.page.composer.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: self._forget_dialog(dialog))
        steps = probs_from_json(item.probs.steps) if item.probs is not None else ()
        if steps and not item.reasoning:  # the ids the model wrote (its text re-tokenized may differ)
            self._dialog_text = None
            dialog.strip.set_tokens([(s.chosen.id, s.chosen.piece, False) for s in steps])
        else:
            self._dialog_text = item.content
            self.message.tokenize(item.content)
        dialog.show()
        return dialog

    def _forget_dialog(self, dialog: TokensDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    # ------------------------------------------------------------ the chart at a reply's token

    def fill_chart(self, row: int, step: int, chart: SamplingChart) -> None:
        """A reply's chart opened at `step`: ask the engine for the model's top 20 there."""
        session = self.page.session
        conversation = session.conversation
        item = session.messages.item(row)
        self._tie(chart)
        if item.probs is None or session.streaming:
            chart.set_note("The candidates kept with the reply (the model is busy writing).")
            return
        chosen = [s.chosen.id for s in probs_from_json(item.probs.steps)[:step]]
        finished = {m.id for m in conversation.finished_messages()}
        before = [m for m in conversation.messages[:row] if m.id in finished]
        messages = history_for_engine(conversation.system_prompt, before, conversation.images)
        self._follow(chart)
        self.charts.next_tokens(messages, chosen, session.thinking_to_send())

    def _tie(self, chart: SamplingChart) -> None:
        """The chart shows the chat's sampling settings and stays tied to the side panel both ways: a
        slider there reshapes the bars at once, a number changed in the chart changes the chat's (only the
        five it shows; the seed and the length stay)."""
        panel, session = self.page.sampling, self.page.session
        chart.follow(session.sampling)  # the chat's (the panel shows them, and saves what it changes there)
        panel.changed.connect(chart.follow)  # a slot of the chart: gone with it
        chart.changed.connect(lambda params: panel.set_params(replace(
            session.sampling, **{name: getattr(params, name) for name in chart.spins}), emit=True))

    def _follow(self, chart: SamplingChart) -> None:
        """The engine's answer goes to `chart` until it closes or another opens."""
        self._tie(chart)
        self.chart = chart
        chart.finished.connect(lambda _r: setattr(self, "chart", None) if self.chart is chart else None)
        chart.destroyed.connect(lambda: setattr(self, "chart", None) if self.chart is chart else None)
