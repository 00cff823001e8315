"""The chat page: transcript, composer, meter and the chat's settings panel, bound to a ChatSession.

The page lays out widgets and forwards what the user does; the session (chat_session.py)
holds the conversation, the reply being written, saving and counting. The model picker
and its load feedback live here too. GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCursor, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QLabel, QMenu, QSplitter, QVBoxLayout, QWidget

from app import model_defaults
from app.engine import ChatMessage, OverflowPolicy
from app.engine.protocol import LoadOptions, ModelInfo
from app.store import ConversationStore
from app.store.conversations import ChatRecord
from app.store.pending_writes import PendingWrites
from app.ui.chat.chat_session import NO_MODEL, ChatSession
from app.ui.chat.composer import Composer
from app.ui.chat.message_view import MessageListView
from app.ui.chat.model_state import ModelState
from app.ui.chat.save_banner import SaveBanner
from app.ui.chat.side_panel import ChatSidePanel
from app.ui.services import EngineService
from app.ui.tasks import BackgroundTasks
from app.ui.widgets.context_meter import ContextMeter
from app.ui.widgets.elided_label import ElidedLabel
from app.ui.widgets.load_settings import LoadSettings


class ChatPage(QWidget):
    chat_changed = Signal(int)  # a chat's title or order changed
    model_loaded = Signal(object)  # ModelInfo
    load_settings_changed = Signal()  # the user changed a load setting (the window saves them)
    reply_finished = Signal(object)  # Done, for the chat on this page
    help_requested = Signal(str)  # a "What's this?" button asked for the help page at this anchor

    def __init__(self, store: ConversationStore | PendingWrites, engine: EngineService, tasks: BackgroundTasks,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.engine = engine
        self.model_defaults: dict = {}  # settings.model_defaults: what each model was last used with
        self._regenerate_after_load = 0  # "Regenerate with…": the reply to write again once the model loads
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
        self.meter.clear("Load a model to start chatting")
        if self.store.read_only:
            self.save_banner.show_problem("Chats are open read-only: nothing you write now is saved.", False)

    def _bind(self) -> None:
        session = self.session
        self.composer.send.connect(self.send)
        self.composer.stop.connect(self.stop)
        self.composer.draft_changed.connect(session.set_draft)
        self.system_prompt.textChanged.connect(lambda: session.set_system_prompt(self.system_prompt.toPlainText()))
        self.overflow.currentIndexChanged.connect(lambda _i: session.set_overflow(self.overflow_policy()))
        self.sampling.changed.connect(session.set_sampling)
        self.thinking.changed.connect(session.set_thinking)
        self.view.copy_requested.connect(self.copy_message)
        self.view.regenerate_requested.connect(self.regenerate)
        self.view.edit_requested.connect(self.edit)
        self.view.regenerate_with_requested.connect(self.choose_regenerate_model)
        self.view.alternative_requested.connect(session.show_alternative)
        self.load_settings.load_requested.connect(self.load_model)
        self.load_settings.settings_changed.connect(self.load_settings_changed)
        self.load_settings.model_chosen.connect(self._apply_model_load_defaults)
        self.load_settings.model_chosen.connect(lambda _path: self.model_state.show())
        self.load_settings.eject_requested.connect(self.engine.eject)
        session.reply_finished.connect(self._remember_model_sampling)
        session.reply_finished.connect(self.reply_finished)
        self.save_banner.retry_requested.connect(self.retry_saving)
        for widget in (self.side, self.meter, self.load_settings):
            widget.help_requested.connect(self.help_requested)
        self.side.visibility_changed.connect(self._on_side_shown)

        session.opened.connect(self._show_chat_settings)
        session.title_changed.connect(self.title.setText)
        session.chat_changed.connect(self.chat_changed)
        session.busy_changed.connect(self.composer.set_busy)
        session.notice.connect(self.show_notice)
        session.counted.connect(self.meter.set_count)
        session.streamed.connect(self.meter.add_streamed)
        session.speed.connect(self.meter.set_speed)
        session.meter_cleared.connect(self.meter.clear)
        session.save_problem.connect(self.save_banner.show_problem)

        self.engine.load_progress.connect(lambda _job_id, fraction: self.load_settings.show_progress(fraction))
        self.engine.loaded.connect(self._on_loaded)
        self.engine.reloaded.connect(self._on_reloaded)
        self.engine.load_failed.connect(self._on_load_failed)
        self.engine.ejected.connect(self._on_ejected)

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
        return "The chat is loading a model." if self.session.loading else ""

    def model_choices(self) -> list[tuple[str, str]]:
        """(label, path) of every model the picker offers, local and remote."""
        return self.load_settings.choices()

    def load_values(self) -> dict:
        """The load settings shown now (context size, GPU layers, …)."""
        return self.load_settings.load_values()

    def open_chat(self, chat_id: int) -> bool:
        """Show a chat; False (and the previous chat stays, with a notice) when it cannot be read."""
        return self.session.open(chat_id)

    def new_chat(self) -> int:
        remembered = model_defaults.sampling(self.model_defaults, self.load_settings.current_path())
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
        if chat.model_path and not self.session.loading:
            self.load_settings.select_path(chat.model_path)

    def set_model_defaults(self, defaults: dict) -> None:
        """The per-model memory (settings.model_defaults, shared: changes here are saved by the window)."""
        self.model_defaults = defaults

    def _apply_model_load_defaults(self, path: str) -> None:
        values = model_defaults.load_values(self.model_defaults, path)
        if values is not None:
            self.load_settings.apply_load_values(values)

    def _remember_model_sampling(self, done) -> None:
        if self.engine.info is not None and done.sampling is not None:
            model_defaults.remember_sampling(self.model_defaults, self.engine.info.path, done.sampling)

    def remember_model_load(self, path: str) -> None:
        model_defaults.remember_load(self.model_defaults, path, self.load_settings.load_values())

    def reset_to_model_defaults(self) -> None:
        """This chat's sampling and the load settings go back to what the chosen model was last used with
        (Hearth's defaults for a model used for the first time)."""
        sampling = self.model_state.reset_to_defaults(self.model_defaults)
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

    def history(self) -> list[ChatMessage]:
        return self.session.history()

    def save_pending(self) -> None:
        """Write what is typed or streamed so far (before the window closes or another chat opens)."""
        self.session.flush_pending()

    def retry_saving(self) -> bool:
        return self.session.retry_saving()

    # ------------------------------------------------------------ model

    def set_models(self, models, keep: str = "") -> None:
        """The models the picker offers (LocalModel list); `keep` is the one to show chosen."""
        self.load_settings.set_models(models, keep)

    def set_remote_models(self, models: list[tuple[str, str]]) -> None:
        """Models on remote servers for the picker: (label, path) pairs (see engine/router.py)."""
        self.load_settings.set_remote_models(models)

    def set_machine(self, probe) -> None:
        """What this computer offers (a MachineProbe): GPU layers and fit estimates follow it."""
        self.load_settings.set_machine(probe)

    def apply_load_settings(self, settings) -> None:
        self.load_settings.set_values(settings)

    def store_load_settings(self, settings) -> None:
        self.load_settings.store_values(settings)

    def load_path(self, path: str) -> None:
        """Choose the model at `path` with the current load settings and load it."""
        self.load_settings.select_path(path)
        self.load_model(self.load_settings.options(path))

    def load_model(self, options: LoadOptions) -> None:
        if self.model_state.is_loaded_as(options):  # picking the loaded model again changes nothing
            self.model_state.show()
            return
        self.session.loading = True
        self.load_settings.show_loading(options.path.rsplit("/", 1)[-1])
        self.engine.load(options)

    def _on_reloaded(self, info: ModelInfo) -> None:
        """The engine loaded the same model again after a crash: same line, with any new note."""
        self.model_state.show(info)

    def _on_loaded(self, _job_id: int, info: ModelInfo) -> None:
        requested, self.session.loading = self.session.loading, False
        self.model_state.by_compare = not requested  # then this chat does not remember the model
        if not requested:
            self.load_settings.select_path(info.path)
        self.model_state.show(info)
        self.set_thinking_modes(info.thinking_modes)
        if self.notice.text() == NO_MODEL:  # a model is loaded now: "Load a model first" is no longer true
            self.show_notice("")
        if not requested:
            self.session.request_count()
            return
        self.session.model_loaded(info)
        self.model_loaded.emit(info)
        self._regenerate_pending()

    def set_thinking_modes(self, modes: tuple[str, ...]) -> None:
        """The thinking modes the loaded model's template understands (the switch hides for none)."""
        self.thinking.set_modes(modes)
        self.session.thinking_modes = tuple(modes)

    def _on_load_failed(self, _job_id: int, message: str) -> None:
        if not self.session.loading:  # a Compare column's load: that column says what went wrong,
            self.model_state.show()  # and this line that the engine holds no model now
            return
        self.session.loading = False
        self._regenerate_after_load = 0
        self.model_state.show_failed(message)
        self.meter.clear("No model loaded")

    def _on_ejected(self, info: ModelInfo, freed_bytes: int) -> None:
        self.model_state.show_ejected(info, freed_bytes)
        self.meter.clear("No model loaded")

    def _load_shown_model(self) -> None:
        """Send, Regenerate and Edit load the model the picker shows first when the engine holds another."""
        if self.model_state.needs_load() and not self.session.streaming:
            self.load_model(self.load_settings.options())

    def show_prompt(self, on_shown=None) -> None:
        from app.ui.chat.prompt_dialog import show_prompt

        show_prompt(self, self.tasks, self.engine.router, self.history(), on_shown)

    # ------------------------------------------------------------ sending

    def send(self, text: str) -> None:
        self._load_shown_model()
        if not self.session.send(text):
            self.composer.set_text(text)  # not sent: the text stays where the user typed it

    def request_count(self) -> None:
        self.session.request_count()

    def stop(self) -> None:
        self.session.stop()

    def finish_stream_early(self) -> None:
        """The window closes while a reply streams: stop it and keep what arrived."""
        self.session.finish_early()

    # ------------------------------------------------------------ message actions

    def copy_message(self, row: int) -> None:
        QGuiApplication.clipboard().setText(self.messages.item(row).content)

    def copy_last_reply(self) -> bool:
        replies = [i for i in self.messages.items() if i.role == "assistant" and i.content]
        if replies:
            QGuiApplication.clipboard().setText(replies[-1].content)
        return bool(replies)

    def regenerate(self, row: int) -> None:
        self._load_shown_model()
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
        for label, path in self.load_settings.choices():
            menu.addAction(label).setData(path)
        chosen = menu.exec(QCursor.pos())
        if chosen is not None:
            self.regenerate_with(row, chosen.data())

    def regenerate_with(self, row: int, path: str) -> None:
        """Write the reply at `row` again with the model at `path`, loading it first; the chat goes on with it."""
        if self.streaming or self.messages.item(row).role != "assistant":
            return
        if self.engine.info is not None and self.engine.info.path == path and not self.session.loading:
            self.session.regenerate(row)
            return
        self._regenerate_after_load = self.messages.item(row).record_id
        self.load_path(path)

    def _regenerate_pending(self) -> None:
        record, self._regenerate_after_load = self._regenerate_after_load, 0
        rows = [r for r, item in enumerate(self.messages.items()) if item.record_id == record]
        if record and rows:
            self.session.regenerate(rows[0])

    def edit(self, row: int) -> None:
        item = self.messages.item(row)
        if self.streaming or item.role != "user":
            return
        text, ok = QInputDialog.getMultiLineText(self, "Edit message", "Your message (the earlier version stays as an alternative):",
                                                 item.content)
        if ok:
            self._load_shown_model()
            self.session.replace_user_message(row, text)

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
