"""The chat page: transcript, composer, meter and the chat's settings panel, bound to a ChatSession.

The page lays out widgets and connects them to its parts: the session (chat_session.py)
holds the conversation, the reply being written, saving and counting; the model state
(model_state.py) the model picker, loads, Eject and what each model was last used with.
Callers talk to those parts directly (`page.session`, `page.model_state`, `page.load_settings`);
the page keeps what needs more than one of them. GUI thread only.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCursor, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QLabel, QMenu, QSplitter, QVBoxLayout, QWidget

from app.chat.message import PICTURES_LEFT_OUT
from app.engine import OverflowPolicy
from app.engine.protocol import NO_VISION, ModelInfo
from app.store.pending_writes import PendingWrites
from app.store.records import ChatRecord
from app.ui.changes import follow_title
from app.ui.chat.chat_session import NO_MODEL, ChatSession
from app.ui.chat.composer import Composer
from app.ui.chat.message_view import MessageListView
from app.ui.chat.model_state import ModelState
from app.ui.chat.pictures import THUMBNAILS
from app.ui.chat.save_banner import SaveBanner
from app.ui.chat.side_panel import ChatSidePanel
from app.ui.chat.token_views import TokenViews
from app.ui.chat.what_if_action import what_if
from app.ui.services import EngineService
from app.ui.tasks import BackgroundTasks
from app.ui.widgets.context_meter import ContextMeter
from app.ui.widgets.elided_label import ElidedLabel
from app.ui.widgets.load_settings import LoadSettings
from app.ui.widgets.picker_items import row_tip


class ChatPage(QWidget):
    model_loaded = Signal(object)  # ModelInfo
    load_settings_changed = Signal()  # the user changed a load setting (the window saves them)
    reply_finished = Signal(object)  # Done, for the chat on this page
    help_requested = Signal(str)  # a "What's this?" button asked for the help page at this anchor

    def __init__(self, store: PendingWrites, engine: EngineService, tasks: BackgroundTasks,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self._refusals: list[str] = []  # the sentences of the pictures refused just now (shown together)
        self._refusing = False  # more of the same drop are still being read
        self.engine = engine
        self.session = ChatSession(store, engine, self)
        self.store = self.session.store
        self.messages = self.session.messages

        self.title = ElidedLabel("New chat")
        self.title.setObjectName("chatTitle")
        self.load_settings = LoadSettings()
        self.model_state = ModelState(self.load_settings, self.session, self)  # the picker's model vs the loaded one
        self.view = MessageListView()
        self.view.set_model(self.messages)
        self.meter = ContextMeter()
        self.composer = Composer()
        self.save_banner = SaveBanner()
        self.notice = QLabel()
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setObjectName("chatNotice")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)

        self.side = ChatSidePanel()
        self.system_prompt = self.side.system_prompt
        self.overflow = self.side.overflow
        self.sampling = self.side.sampling
        self.thinking = self.side.thinking

        center = QWidget()
        center_layout = QVBoxLayout(center)
        center_layout.setContentsMargins(0, 0, 0, 0)
        header = QVBoxLayout()
        header.setContentsMargins(12, 8, 12, 4)
        title_row = QHBoxLayout()
        title_row.addWidget(self.title, 1)
        self.side_toggle_button = self.side.make_toggle_button()
        title_row.addWidget(self.side_toggle_button)
        header.addLayout(title_row)
        header.addWidget(self.load_settings)
        center_layout.addLayout(header)
        center_layout.addWidget(self.view, 1)
        center_layout.addWidget(self.save_banner)
        center_layout.addWidget(self.notice)
        center_layout.addWidget(self.meter)
        center_layout.addWidget(self.composer)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(center)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        self._bind()
        self.token_views = TokenViews(self, self)  # the draft's and messages' tokens, the sampling chart's top 20
        self.meter.clear("Load a model to start chatting")
        if self.store.read_only:
            self.save_banner.show_problem("Chats are open read-only: nothing you write now is saved.", False)

    def _bind(self) -> None:
        session = self.session
        self.composer.send.connect(self.send)
        self.composer.stop.connect(session.stop)
        self.composer.draft_changed.connect(session.set_draft)
        self.composer.attachments.refused.connect(self._picture_refused)
        self.composer.attachments.changed.connect(self._pictures_changed)
        THUMBNAILS.source = self.store.read_image  # the messages' thumbnails come from the store's image folder
        THUMBNAILS.tasks = self.composer.attachments.tasks = self.tasks  # (read and decoded off the GUI thread)
        self.composer.attachments.save = self.store.save_image  # written once read, off the GUI thread too
        self.system_prompt.textChanged.connect(lambda: session.set_system_prompt(self.system_prompt.toPlainText()))
        self.overflow.currentIndexChanged.connect(lambda _i: session.set_overflow(self.overflow_policy()))
        self.sampling.changed.connect(session.set_sampling)
        self.thinking.changed.connect(session.set_thinking)
        self.view.copy_requested.connect(self.copy_message)
        self.view.regenerate_requested.connect(self.regenerate)
        self.view.edit_requested.connect(self.edit)
        self.view.regenerate_with_requested.connect(self.choose_regenerate_model)
        self.view.alternative_requested.connect(session.show_alternative)
        self.view.what_if_requested.connect(lambda row, step, token: what_if(self, row, step, token))
        self.load_settings.settings_changed.connect(self.load_settings_changed)
        session.reply_finished.connect(self.model_state.remember_sampling)
        session.reply_finished.connect(self.reply_finished)
        self.save_banner.retry_requested.connect(session.retry_saving)
        for widget in (self.side, self.meter, self.load_settings):
            widget.help_requested.connect(self.help_requested)
        self.side.visibility_changed.connect(self._on_side_shown)

        session.opened.connect(self._show_chat_settings)
        session.opened.connect(self._read_pictures)
        session.opened.connect(self._forget_refusals)
        session.title_changed.connect(self.title.setText)
        follow_title(self.store, lambda: self.session.chat_id, self.title.setText, self)  # a rename in the list
        session.busy_changed.connect(self.composer.set_busy)
        session.notice.connect(self.show_notice)
        session.counted.connect(self.meter.set_count)
        session.streamed.connect(self.meter.add_streamed)
        session.speed.connect(self.meter.set_speed)
        session.meter_cleared.connect(self.meter.clear)
        session.save_problem.connect(self.save_banner.show_problem)

        model = self.model_state  # the picker, loads and Eject (model_state.py)
        model.loaded.connect(self._on_model_loaded)
        model.followed.connect(self._on_model_followed)
        model.failed.connect(lambda _message: self.meter.clear("No model loaded"))
        model.ejected.connect(lambda: self.meter.clear("No model loaded"))

    # ------------------------------------------------------------ chats

    @property
    def chat_id(self) -> int:
        return self.session.chat_id

    @property
    def streaming(self) -> bool:
        return self.session.streaming

    def engine_use(self) -> str:
        """Why this page is using the engine now (a reply, a load), or "" when it is not."""
        if self.session.streaming:
            return "A chat reply is being written on the model engine."
        return "The chat is loading a model." if self.model_state.loading else ""

    def new_chat(self) -> int:
        remembered = self.model_state.sampling_for_new_chat()
        if remembered is not None:  # a new chat starts with what this model was last used with
            self.session.sampling = remembered
        chat_id = self.session.new(self.engine.info.path if self.engine.info else "")
        self.focus_composer()
        return chat_id

    def _show_chat_settings(self, chat: ChatRecord) -> None:
        self.system_prompt.blockSignals(True)
        self.system_prompt.setPlainText(chat.system_prompt)
        self.system_prompt.blockSignals(False)
        self.sampling.set_params(self.session.sampling)
        self.overflow.blockSignals(True)
        self.overflow.setCurrentIndex(max(self.overflow.findData(self.session.overflow.value), 0))
        self.overflow.blockSignals(False)
        self.thinking.set_value(chat.thinking)
        if chat.model_path and not self.model_state.loading:
            self.load_settings.select_path(chat.model_path)

    def reset_to_model_defaults(self) -> None:
        """This chat's sampling and the load settings go back to what the chosen model was last used with
        (Hearth's defaults for a model used for the first time)."""
        sampling = self.model_state.reset_to_defaults()
        self.sampling.set_params(sampling, emit=True)  # the session saves it for this chat

    def _on_side_shown(self, shown: bool) -> None:
        sizes = self.splitter.sizes()
        if shown:  # back to the width it had when hidden, or a quarter
            total = sum(sizes)
            width = self.side.shown_width if 50 <= self.side.shown_width < total else total // 4
            self.splitter.setSizes([total - width, width])

    def focus_composer(self) -> None:
        self.composer.edit.setFocus()

    def overflow_policy(self) -> OverflowPolicy:
        return OverflowPolicy(self.overflow.currentData())

    # ------------------------------------------------------------ model

    def _on_model_loaded(self, info: ModelInfo) -> None:
        """A load the chat asked for finished: the chat goes on with it (and remembers it)."""
        self._on_model_followed(info)
        self.session.model_loaded(info)
        self.model_loaded.emit(info)

    def _on_model_followed(self, info: ModelInfo) -> None:
        """The engine holds a new model (the chat's, or Compare's, which the chat does not remember)."""
        self.set_thinking_modes(info.thinking_modes)
        if self.notice.text() == NO_MODEL:  # a model is loaded now: "Load a model first" is no longer true
            self.show_notice("")
        if self.model_state.by_compare:
            self.session.request_count()

    def set_thinking_modes(self, modes: tuple[str, ...]) -> None:
        """The thinking modes the loaded model's template understands (the switch hides for none)."""
        self.thinking.set_modes(modes)
        self.session.thinking_modes = tuple(modes)

    def show_prompt(self, on_shown=None) -> None:
        from app.ui.chat.prompt_dialog import show_prompt

        show_prompt(self, self.tasks, self.engine.router, self.session.history(), on_shown,
                    self.session.thinking_to_send())

    # ------------------------------------------------------------ sending

    def send(self, text: str) -> None:
        self.model_state.load_shown()
        pictures = self.composer.attachments.take()
        sent = False
        if pictures and not self.sees_images():
            self.show_notice(NO_VISION)  # before anything is sent
        else:
            try:  # each picture is written once, by its content hash, before the message that names it;
                # always: one saved when attached may have been removed since (a chat deleted meanwhile
                # takes the pictures no message names), and saving a file already there is only a check
                parts = tuple(replace(part, sha256=self.store.save_image(data)) for part, data in pictures)
                sent = self.session.send(text, images=parts)
                pictures_now = self.session.conversation.pictures
                if sent and pictures_now is not None and pictures_now.missing:
                    self.show_notice(PICTURES_LEFT_OUT)
            except OSError as exc:
                self.show_notice(f"The picture could not be saved: {exc.strerror or exc}")
        if not sent:  # not sent: the text and pictures stay where the user put them
            self.composer.set_text(text)
            self.composer.attachments.restore(pictures)

    def _picture_refused(self, sentence: str) -> None:
        """Each refused picture's sentence, together (several dropped at once each say why)."""
        if not self._refusing or self.notice.text() != " ".join(self._refusals):  # a new drop, or paste
            self._refusals = []
        self._refusals.append(sentence)
        self._refusing = self.composer.attachments.reading > 0  # others of the same drop still to come
        self.show_notice(" ".join(self._refusals))

    def _forget_refusals(self, _chat: ChatRecord | None = None) -> None:
        """Another chat: a refusal said about the previous one's composer goes."""
        if self._refusals and self.notice.text() == " ".join(self._refusals):
            self.show_notice("")
        self._refusals = []

    def _read_pictures(self, _chat: ChatRecord | None = None) -> None:
        """Read the opened chat's pictures into memory off the GUI thread (the meter counts, and Send sends,
        from there); the meter waits for them rather than the window waiting on the disk."""
        pictures = self.session.conversation.pictures
        if pictures is None:
            return
        todo = pictures.not_cached(p.sha256 for m in self.session.conversation.messages for p in m.images)
        if not todo:
            return
        pictures.loading = True

        def done(_result: object = None) -> None:
            pictures.loading = False
            if self.session.conversation.pictures is pictures:
                self.session.request_count()

        if not self.tasks.run(lambda: pictures.warm(todo), done, lambda *_: done()):
            pictures.loading = False

    def sees_images(self) -> bool:
        """Whether the loaded model takes pictures (a remote one is asked; before a load: not known yet)."""
        info = self.engine.info
        return info is None or bool(info.mmproj) or info.path.startswith("remote:")

    def _pictures_changed(self) -> None:
        """Pictures attached or removed: the meter counts them, and a text-only model says so at once."""
        pictures = self.composer.attachments.pictures()
        sees = self.sees_images()
        self.session.attached = tuple(data for _part, data in pictures) if sees else ()
        if pictures and not sees:
            self.show_notice(NO_VISION)
        elif self.notice.text() == NO_VISION:
            self.show_notice("")
        self.session.request_count()

    # ------------------------------------------------------------ message actions

    def copy_message(self, row: int) -> None:
        QGuiApplication.clipboard().setText(self.messages.item(row).content)

    def copy_last_reply(self) -> bool:
        replies = [i for i in self.messages.items() if i.role == "assistant" and i.content]
        if replies:
            QGuiApplication.clipboard().setText(replies[-1].content)
        return bool(replies)

    def regenerate(self, row: int) -> None:
        self.model_state.load_shown()
        self.session.regenerate(row)

    def regenerate_last(self) -> None:
        rows = [r for r, item in enumerate(self.messages.items()) if item.role == "assistant"]
        if rows:
            self.regenerate(rows[-1])

    def choose_regenerate_model(self, row: int) -> None:
        """Regenerate with…: a menu of the models the picker offers, at the pointer."""
        if self.streaming:
            return
        menu = QMenu(self)
        menu.setToolTipsVisible(True)  # a row's tooltip: an unknown architecture's whole sentence
        for label, path in self.load_settings.choices():
            action = menu.addAction(label)
            action.setData(path)
            action.setToolTip(row_tip(self.load_settings.picker, path) or label)
        chosen = menu.exec(QCursor.pos())
        if chosen is not None:
            self.regenerate_with(row, chosen.data())

    def regenerate_with(self, row: int, path: str) -> None:
        """Write the reply at `row` again with the model at `path`, loading it first; the chat goes on with it."""
        if self.streaming or self.messages.item(row).role != "assistant":
            return
        if self.engine.info is not None and self.engine.info.path == path and not self.model_state.loading:
            self.session.regenerate(row)
            return
        record = self.messages.item(row).record_id  # rows may move while it loads; the message does not
        self.model_state.load_path(path, then=lambda: self._regenerate_record(record))

    def _regenerate_record(self, record: int) -> None:
        rows = [r for r, item in enumerate(self.messages.items()) if item.record_id == record]
        if rows:
            self.session.regenerate(rows[0])

    def edit(self, row: int) -> None:
        item = self.messages.item(row)
        if self.streaming or item.role != "user":
            return
        text, ok = QInputDialog.getMultiLineText(
            self, "Edit message", "Your message (the earlier version stays as an alternative):", item.content)
        if ok:
            self.model_state.load_shown()
            self.session.replace_user_message(row, text)

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
