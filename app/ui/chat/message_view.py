"""Shows a MessageModel as a column of message cards (Markdown, stats, actions).

The view holds no truth: it builds, updates and removes cards from the
model's signals and reports the user's intent by row.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QToolButton, QVBoxLayout, QWidget

from app.engine.sampling import SamplingParams
from app.formatting import counted
from app.store.export import ROLE_TITLES  # one name for each role, on screen and in exports
from app.ui.chat.code_highlight import warm_up as warm_up_highlighting
from app.ui.chat.markdown_view import MarkdownView
from app.ui.chat.message_model import ChatItem, MessageModel
from app.ui.chat.pictures import PictureStrip
from app.ui.chat.thinking_section import ThinkingSection
from app.ui.chat.token_view import TokenView
from app.ui.tools.calls_view import ToolCallsSection
from app.ui.widgets.elided_label import ElidedLabel

READING_CHARS = 96  # the longest line of a message, in average characters (80–100 read well)
COPIED_MS = 1500  # how long a card's Copy button says "Copied"


def format_stats(stats: dict) -> str:
    if not stats:
        return ""
    parts = []
    if stats.get("decode_tok_s"):
        parts.append(f"{stats['decode_tok_s']:.1f} tok/s")
    if stats.get("ttft_s") is not None:
        parts.append(f"first token {stats['ttft_s']:.2f} s")
    if stats.get("completion_tokens") is not None:
        parts.append(counted(stats['completion_tokens'], "token"))
    if stats.get("stop_reason") == "tool_limit":
        rounds = stats.get("tool_rounds") or 0
        parts.append(f"stopped after {counted(rounds, 'round')} of tool calls (the limit)"
                     if rounds else "stopped at the limit of tool rounds")
    elif stats.get("stop_reason"):
        parts.append(f"stop: {stats['stop_reason']}")
    if stats.get("dropped_messages"):
        parts.append(f"{counted(stats['dropped_messages'], 'older message')} left out")
    return " · ".join(parts)


def format_prompt(stats: dict) -> str:
    """What the model read for a reply: its prompt's tokens, and how many it found already in its cache
    (the chat's own, or brought back from RAM after another chat: engine/prompt_store.py)."""
    prompt, cached = stats.get("prompt_tokens") or 0, stats.get("cached_tokens") or 0
    if not prompt:
        return ""
    return f"prompt {counted(prompt, 'token')}" + (f", {cached:,} cached" if cached else "")


def last_reply_speed(items: list[ChatItem]) -> str:
    """The meter's speed line for a chat just opened: its last finished reply's numbers, or ""."""
    replies = [item for item in items if item.role == "assistant" and not item.streaming and item.stats]
    return format_stats(replies[-1].stats) if replies else ""


def format_sampling(sampling: dict) -> str:
    """The settings that wrote a reply, short: shown under an alternative so two can be told apart."""
    names = (("temperature", "temp"), ("top_p", "top-p"), ("top_k", "top-k"), ("min_p", "min-p"), ("seed", "seed"))
    return " · ".join(f"{short} {sampling[key]:g}" if isinstance(sampling[key], float) else f"{short} {sampling[key]}"
                      for key, short in names if key in sampling and sampling[key] is not None)


class MessageCard(QFrame):
    copy_requested = Signal(object)
    regenerate_requested = Signal(object)
    regenerate_with_requested = Signal(object)
    edit_requested = Signal(object)
    alternative_requested = Signal(object, int)  # the card, -1 (previous) or +1 (next)
    what_if_requested = Signal(object, int, int)  # the card, the token's step, the token id picked there
    chart_opened = Signal(object, int, object)  # the card, the token's step, the SamplingChart
    tokens_requested = Signal(object)  # the card: its context menu's Show tokens

    def __init__(self, item: ChatItem, parent: QWidget | None = None, actions: frozenset[str] | None = None) -> None:
        """`actions`: the buttons offered (all when None; a Compare column offers copy and ‹ › only)."""
        super().__init__(parent)
        # Not `self.actions`: that would hide QWidget.actions(), the widget's own QAction list.
        self.offered_actions = actions
        self.setObjectName(f"card-{item.role}")
        self.setProperty("role", item.role)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        header = QHBoxLayout()
        self.title = ElidedLabel()  # a long model name is cut with …, never widening the card
        self.title.setObjectName("cardTitle")
        header.addWidget(self.title, 1)
        self.previous = self._arrow("‹", "Previous alternative", -1)
        self.counter = QLabel()
        self.counter.setObjectName("alternativeCounter")
        self.counter.setAccessibleName("Alternative")
        self.next = self._arrow("›", "Next alternative", 1)
        for widget in (self.previous, self.counter, self.next):
            header.addWidget(widget)
        self.buttons: dict[str, QToolButton] = {}
        for key, label, tip, signal in (
            ("copy", "Copy", "Copy this message", self.copy_requested),
            ("edit", "Edit", "Edit this message and send it again (the earlier version stays as an alternative)",
             self.edit_requested),
            ("regenerate", "Regenerate", "Write this reply again (the earlier reply stays as an alternative)",
             self.regenerate_requested),
            ("regenerate_with", "Regenerate with…", "Write this reply again with another model",
             self.regenerate_with_requested),
            ("tokens", "Tokens", "Show the reply's tokens tinted by the model's confidence, with the alternatives "
             "it weighed at each", None),
        ):
            button = QToolButton()
            button.setText(label)
            button.setToolTip(tip)
            button.setAccessibleName(f"{label} message")
            button.setAutoRaise(True)
            if signal is not None:
                button.clicked.connect(lambda _=False, s=signal: s.emit(self))
            header.addWidget(button)
            self.buttons[key] = button
        self.buttons["copy"].clicked.connect(self._show_copied)
        self._copied_timer = QTimer(self)
        self._copied_timer.setSingleShot(True)
        self._copied_timer.setInterval(COPIED_MS)
        self._copied_timer.timeout.connect(self._hide_copied)
        layout.addLayout(header)
        self.thinking = ThinkingSection()
        layout.addWidget(self.thinking)
        self.calls = ToolCallsSection()  # the tools it called, folded
        layout.addWidget(self.calls)
        self.pictures = PictureStrip()
        layout.addWidget(self.pictures)
        self.body = MarkdownView()
        self.body.setAccessibleName(f"{item.role} message")
        layout.addWidget(self.body)
        self.tokens = TokenView()
        self.tokens.hide()
        self.tokens.what_if_requested.connect(lambda step, token: self.what_if_requested.emit(self, step, token))
        self.tokens.chart_opened.connect(lambda step, chart: self.chart_opened.emit(self, step, chart))
        self.body.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.body.customContextMenuRequested.connect(self._context_menu)
        self.buttons["tokens"].setCheckable(True)
        self.buttons["tokens"].toggled.connect(self._show_tokens)
        layout.addWidget(self.tokens)
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setObjectName("cardError")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        self.stats = QLabel()
        self.stats.setTextFormat(Qt.TextFormat.PlainText)
        self.stats.setObjectName("cardStats")
        self.stats.setAccessibleName("Message statistics")
        self.stats.setWordWrap(True)  # with an alternative's settings it is long: unwrapped it widened the card
        layout.addWidget(self.stats)
        self.item: ChatItem | None = None
        self.set_item(item)

    def _show_copied(self) -> None:
        """Copy gives a sign: the button says "Copied" for a moment."""
        self.buttons["copy"].setText("Copied")
        self._copied_timer.start()

    def _hide_copied(self) -> None:
        self.buttons["copy"].setText("Copy")

    def _arrow(self, text: str, name: str, step: int) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(name)
        button.setAccessibleName(name)
        button.setAutoRaise(True)
        button.clicked.connect(lambda _=False: self.alternative_requested.emit(self, step))
        return button

    def set_item(self, item: ChatItem) -> None:
        previous, self.item = self.item, item
        self._show_thinking(item)
        self.calls.set_pairs(item.tools)
        if previous is None and not item.streaming:
            self.thinking.reset()
        if previous is not None and previous.streaming and item.streaming:
            # While streaming only the text changes: skip the rest, it costs layout passes.
            self.body.set_markdown(item.content.lstrip(), streaming=True)
            return
        title = ROLE_TITLES.get(item.role, item.role)
        if item.role == "assistant" and item.model:
            title += f" · {item.model}"
        if item.streaming:
            title += " · writing…"
        self.title.setText(title)
        for key, role in (("edit", "user"), ("regenerate", "assistant"), ("regenerate_with", "assistant")):
            offered = self.offered_actions is None or key in self.offered_actions
            self.buttons[key].setVisible(item.role == role and offered)
        for button in self.buttons.values():
            button.setEnabled(not item.streaming)
        offered = self.offered_actions is None or "tokens" in self.offered_actions
        self.buttons["tokens"].setVisible(item.probs is not None and not item.streaming and offered)
        if item.probs is None or item.streaming:
            self.buttons["tokens"].setChecked(False)
        elif self.tokens.isVisible():
            self.tokens.set_part(item.probs)
        several = item.alternatives > 1
        self.counter.setText(f"{item.alternative}/{item.alternatives}")
        for widget in (self.previous, self.counter, self.next):
            widget.setVisible(several)
        self.previous.setEnabled(not item.streaming and item.alternative > 1)
        self.next.setEnabled(not item.streaming and item.alternative < item.alternatives)
        self.pictures.set_pictures(item.images)
        self.body.set_markdown(item.content.lstrip() if item.role == "assistant" else item.content, item.streaming)
        self.error.setText(item.error)
        self.error.setVisible(bool(item.error))
        parts = [format_stats(item.stats)]
        if item.role == "assistant" and not item.streaming and item.stats:
            parts.append(format_prompt(item.stats))
        if several and item.role == "assistant" and item.sampling:
            parts.append(format_sampling(item.sampling))
        stats = " · ".join(part for part in parts if part)
        self.stats.setText(stats)
        self.stats.setVisible(bool(stats))

    def _context_menu(self, pos: QPoint) -> None:
        """The text's own menu (copy, select all) and Show tokens."""
        menu = self.body.createStandardContextMenu(pos)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if self.offered_actions is None or "tokens" in self.offered_actions:  # the chat page's cards
            menu.addSeparator()
            menu.addAction("Show tokens", lambda: self.tokens_requested.emit(self))
        menu.popup(self.body.viewport().mapToGlobal(pos))

    def _show_tokens(self, shown: bool) -> None:
        """The tinted tokens in place of the rendered text (the Tokens button)."""
        if shown and self.item is not None:
            try:
                self.tokens.sampling = SamplingParams.from_dict(self.item.sampling).validated()
            except (TypeError, ValueError):  # a damaged record: the chart starts from the defaults
                self.tokens.sampling = SamplingParams()
            self.tokens.set_part(self.item.probs)
        self.tokens.setVisible(shown)
        self.body.setVisible(not shown)

    def _show_thinking(self, item: ChatItem) -> None:
        self.thinking.set_thinking(item.reasoning, int(item.stats.get("reasoning_tokens") or 0),
                                   float(item.stats.get("reasoning_s") or 0.0), item.streaming,
                                   answer_started=bool(item.content.strip()))


class MessageListView(QScrollArea):
    copy_requested = Signal(int)
    regenerate_requested = Signal(int)
    regenerate_with_requested = Signal(int)
    edit_requested = Signal(int)
    alternative_requested = Signal(int, int)  # row, -1 or +1
    what_if_requested = Signal(int, int, int)  # row, the token's step, the token id picked there
    chart_opened = Signal(int, int, object)  # row, the token's step, the SamplingChart
    tokens_requested = Signal(int)  # row: Show tokens

    def __init__(self, parent: QWidget | None = None, actions: frozenset[str] | None = None) -> None:
        super().__init__(parent)
        self.offered_actions = actions  # the buttons each card offers (None: all); not QWidget.actions()
        warm_up_highlighting()  # made with the window: done long before the first reply's code
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._inner = QWidget()  # the cards' column, centred, never wider than a comfortable line
        self._inner.setMaximumWidth(self.fontMetrics().averageCharWidth() * READING_CHARS + 64)
        self._layout = QVBoxLayout(self._inner)
        self._layout.setContentsMargins(12, 12, 12, 12)
        self._layout.setSpacing(10)
        self._layout.addStretch(1)
        outer = QWidget()
        row = QHBoxLayout(outer)
        row.setContentsMargins(0, 0, 0, 0)
        row.addStretch(1)
        row.addWidget(self._inner, 1000)  # takes the width up to its maximum; the stretches centre it
        row.addStretch(1)
        self.setWidget(outer)
        self._cards: list[MessageCard] = []
        self._model: MessageModel | None = None
        self._follow = True
        self.verticalScrollBar().rangeChanged.connect(self._on_range_changed)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)

    def set_model(self, model: MessageModel) -> None:
        self._model = model
        model.modelReset.connect(self._rebuild)
        model.rowsInserted.connect(self._on_inserted)
        model.rowsRemoved.connect(self._on_removed)
        model.dataChanged.connect(self._on_changed)
        self._rebuild()

    def cards(self) -> list[MessageCard]:
        return list(self._cards)

    def _make_card(self, item: ChatItem) -> MessageCard:
        card = MessageCard(item, actions=self.offered_actions)
        card.copy_requested.connect(self._emit_copy)
        card.regenerate_requested.connect(self._emit_regenerate)
        card.edit_requested.connect(self._emit_edit)
        card.regenerate_with_requested.connect(lambda c: self.regenerate_with_requested.emit(self._cards.index(c)))
        card.alternative_requested.connect(lambda c, step: self.alternative_requested.emit(self._cards.index(c), step))
        card.what_if_requested.connect(lambda c, step, token: self.what_if_requested.emit(self._cards.index(c), step,
                                                                                          token))
        card.chart_opened.connect(lambda c, step, chart: self.chart_opened.emit(self._cards.index(c), step, chart))
        card.tokens_requested.connect(lambda c: self.tokens_requested.emit(self._cards.index(c)))
        return card

    def _emit_copy(self, card: MessageCard) -> None:
        self.copy_requested.emit(self._cards.index(card))

    def _emit_regenerate(self, card: MessageCard) -> None:
        self.regenerate_requested.emit(self._cards.index(card))

    def _emit_edit(self, card: MessageCard) -> None:
        self.edit_requested.emit(self._cards.index(card))

    def _discard(self, cards: list[MessageCard]) -> None:
        for card in cards:  # out of the layout now: until deleted it would shift the rows inserted next
            self._layout.removeWidget(card)
            card.hide()
            card.deleteLater()

    def _rebuild(self) -> None:
        self._discard(self._cards)
        self._cards = []
        if self._model is not None:
            for item in self._model.items():
                card = self._make_card(item)
                self._layout.insertWidget(self._layout.count() - 1, card)
                self._cards.append(card)
        self._follow = True

    def _on_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        if self._model is None:  # connected by set_model only
            return
        for row in range(first, last + 1):
            card = self._make_card(self._model.item(row))
            self._layout.insertWidget(row, card)
            self._cards.insert(row, card)
        self._follow = True

    def _on_removed(self, parent: QModelIndex, first: int, last: int) -> None:
        self._discard(self._cards[first : last + 1])
        del self._cards[first : last + 1]

    def _on_changed(self, top_left: QModelIndex, bottom_right: QModelIndex, roles: object = ()) -> None:
        if self._model is None:  # connected by set_model only
            return
        for row in range(top_left.row(), bottom_right.row() + 1):
            self._cards[row].set_item(self._model.item(row))

    def _on_scrolled(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._follow = value >= bar.maximum() - 24

    def _on_range_changed(self, _min: int, maximum: int) -> None:
        if self._follow:
            QTimer.singleShot(0, self.scroll_to_end)

    def scroll_to_end(self) -> None:
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())
