"""The chat page: transcript, composer, meter, and the per-chat settings panel.

The controller between the store (what is on disk), the engine service (what
the model does) and the message model (what is shown). GUI thread only.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import asdict, dataclass, field

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QInputDialog,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.engine import ChatMessage, OverflowPolicy, SamplingParams
from app.engine.protocol import CountResult, Done, ModelInfo
from app.store import ConversationStore
from app.store.pending_writes import PendingWrites
from app.ui.chat.composer import Composer
from app.ui.chat.message_model import ChatItem, MessageModel
from app.ui.chat.message_view import MessageListView, format_stats
from app.ui.chat.save_banner import SaveBanner
from app.ui.chat.thinking_switch import ThinkingSwitch
from app.ui.services import EngineService
from app.ui.tasks import BackgroundTasks
from app.ui.widgets.context_meter import ContextMeter
from app.ui.widgets.elided_label import ElidedLabel
from app.ui.widgets.load_settings import LoadSettings
from app.ui.widgets.sampling_panel import SamplingPanel

@dataclass
class StreamingReply:
    """The reply being written: where it is shown and saved, and what has arrived."""

    job: int  # the engine job
    chat: int  # the chat it belongs to
    row: int  # its row in the message model while that chat is on screen
    record: int  # its message id in the store
    attached: bool = True  # its chat is the one on screen
    buffer: list[str] = field(default_factory=list)  # text not yet shown
    content: str = ""  # text shown so far
    n_tokens: int = 0
    persisted: float = 0.0  # when the content was last written to the store
    unsaved: bool = False  # content has text the store has not been given yet
    reasoning_buffer: list[str] = field(default_factory=list)  # thinking not yet shown
    reasoning: str = ""  # thinking shown so far
    reasoning_tokens: int = 0  # completion tokens when the last thinking arrived
    thinking_since: float = 0.0  # when the first thinking arrived
    thinking_s: float = 0.0

    def thinking_stats(self) -> dict:
        return {"reasoning_tokens": self.reasoning_tokens, "reasoning_s": self.thinking_s} if self.reasoning else {}


FLUSH_MS = 40  # streamed text reaches the view at most 25 times a second
PERSIST_SECONDS = 1.0  # a streaming reply is written to disk at least this often
COUNT_DEBOUNCE_MS = 150

OVERFLOW_LABELS = {
    OverflowPolicy.TRUNCATE_MIDDLE: "Drop from the middle (keep system prompt and newest)",
    OverflowPolicy.ROLLING_WINDOW: "Rolling window (drop oldest turns)",
    OverflowPolicy.STOP: "Stop at the limit (never drop anything)",
}


class ChatPage(QWidget):
    chat_changed = Signal(int)  # a chat's title or order changed
    model_loaded = Signal(object)  # ModelInfo

    def __init__(self, store: ConversationStore | PendingWrites, engine: EngineService, gpu_backend: str = "none",
                 parent: QWidget | None = None, tasks: BackgroundTasks | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks or BackgroundTasks(parent=self)
        # Writes go through PendingWrites: when the disk is full they wait in memory and the banner says so.
        self.store = store if isinstance(store, PendingWrites) else PendingWrites(store)
        self.engine = engine
        self.chat_id = 0
        self.messages = MessageModel(self)
        self._stream: StreamingReply | None = None
        self._pending_count = 0
        self._loading = False

        self.title = ElidedLabel("New chat")
        self.title.setObjectName("chatTitle")
        self.load_settings = LoadSettings(gpu_backend)
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

        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setPlaceholderText("Optional: how the model should behave in this chat")
        self.system_prompt.setAccessibleName("System prompt")
        self.system_prompt.setFixedHeight(100)
        self.overflow = QComboBox()
        self.overflow.setAccessibleName("When the context is full")
        for policy, label in OVERFLOW_LABELS.items():
            self.overflow.addItem(label, policy.value)
        self.overflow.setToolTip("What happens when the conversation no longer fits the context window")
        self.sampling = SamplingPanel()
        self.thinking = ThinkingSwitch()

        side = QWidget()
        side_layout = QVBoxLayout(side)
        prompt_box = QGroupBox("System prompt")
        QVBoxLayout(prompt_box).addWidget(self.system_prompt)
        context_box = QGroupBox("Context")
        QFormLayout(context_box).addRow("When full", self.overflow)
        sampling_box = QGroupBox("Sampling")
        QVBoxLayout(sampling_box).addWidget(self.sampling)
        side_layout.addWidget(prompt_box)
        side_layout.addWidget(context_box)
        side_layout.addWidget(self.thinking)
        side_layout.addWidget(sampling_box)
        side_layout.addStretch(1)

        center = QWidget()
        center_layout = QVBoxLayout(center)
        center_layout.setContentsMargins(0, 0, 0, 0)
        header = QVBoxLayout()
        header.setContentsMargins(12, 8, 12, 4)
        header.addWidget(self.title)
        header.addWidget(self.load_settings)
        center_layout.addLayout(header)
        center_layout.addWidget(self.view, 1)
        center_layout.addWidget(self.save_banner)
        center_layout.addWidget(self.notice)
        center_layout.addWidget(self.meter)
        center_layout.addWidget(self.composer)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(center)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self._flush)
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(COUNT_DEBOUNCE_MS)
        self._count_timer.timeout.connect(self.request_count)
        self._prompt_timer = QTimer(self)
        self._prompt_timer.setSingleShot(True)
        self._prompt_timer.setInterval(400)
        self._prompt_timer.timeout.connect(self._save_system_prompt)

        self.composer.send.connect(self.send)
        self.composer.stop.connect(self.stop)
        self.composer.draft_changed.connect(lambda _t: self._count_timer.start())
        self.system_prompt.textChanged.connect(self._on_system_prompt_changed)
        self.overflow.currentIndexChanged.connect(self._on_overflow_changed)
        self.sampling.changed.connect(self._on_sampling_changed)
        self.thinking.changed.connect(self._on_thinking_changed)
        self.view.copy_requested.connect(self.copy_message)
        self.view.regenerate_requested.connect(self.regenerate)
        self.view.edit_requested.connect(self.edit)
        self.load_settings.load_requested.connect(self.load_model)

        runner = engine.runner
        runner.token.connect(self._on_token)
        runner.reasoning.connect(self._on_reasoning)
        runner.finished.connect(self._on_finished)
        runner.failed.connect(self._on_failed)
        runner.load_progress.connect(self.load_settings.show_progress)
        runner.loaded.connect(self._on_loaded)
        runner.load_failed.connect(self._on_load_failed)
        engine.counter.counted.connect(self._on_counted)
        engine.counter.count_failed.connect(self._on_count_failed)
        self.meter.clear("Load a model to start chatting")
        self.save_banner.retry_requested.connect(self.retry_saving)
        self.store.on_change = self._on_save_problem
        if self.store.read_only:
            self.save_banner.show_problem("Chats are open read-only: nothing you write now is saved.", False)

    # ------------------------------------------------------------ chats

    @property
    def streaming(self) -> bool:
        return self._stream is not None

    def _streaming_here(self) -> bool:
        """A reply is being written in the chat on screen."""
        return self._stream is not None and self._stream.attached

    def open_chat(self, chat_id: int) -> bool:
        """Show a chat; False (and the previous chat stays, with a notice) when it cannot be read."""
        # A reply being written keeps going when you look at another chat: it is saved
        # as it streams and shown again, still streaming, when you come back.
        self._flush(persist=True)
        self._save_system_prompt()
        try:  # read everything before changing anything on screen
            chat = self.store.chat(chat_id)
            records = self.store.messages(chat_id) if chat else []
        except (sqlite3.Error, OSError) as exc:
            self.show_notice(f"Could not open that chat: the database could not be read ({exc}). "
                             "Still showing the previous chat.")
            return False
        if chat is None:
            return False
        self.chat_id = chat_id
        self.title.setText(chat.title)
        self.system_prompt.blockSignals(True)
        self.system_prompt.setPlainText(chat.system_prompt)
        self.system_prompt.blockSignals(False)
        self.sampling.set_params(SamplingParams.from_dict(chat.sampling) if chat.sampling else SamplingParams())
        self.overflow.blockSignals(True)
        self.overflow.setCurrentIndex(max(self.overflow.findData(chat.overflow), 0))
        self.overflow.blockSignals(False)
        self.thinking.set_value(chat.thinking)
        stream = self._stream
        items = []
        for m in records:
            if stream is not None and m.id == stream.record:
                stream.row = len(items)
                items.append(ChatItem(m.id, m.role, stream.content, m.model, stream.thinking_stats(), streaming=True,
                                      reasoning=stream.reasoning))
                continue
            items.append(ChatItem(m.id, m.role, m.content, m.model, m.stats, False,
                                  m.error or ("" if m.complete else "This reply was interrupted."), m.reasoning))
        if stream is not None:
            stream.attached = stream.chat == chat_id
        self.composer.set_busy(self._streaming_here())
        self.messages.set_items(items)
        if chat.model_path and not self._loading:
            self.load_settings.select_path(chat.model_path)
        self.request_count()
        return True

    def new_chat(self) -> int:
        chat = self.store.create_chat(sampling=self.sampling.params().to_dict(), thinking=self.thinking.saved(),
                                      overflow=self.overflow.currentData() or OverflowPolicy.TRUNCATE_MIDDLE.value,
                                      model_path=self.engine.info.path if self.engine.info else "")
        self.open_chat(chat.id)
        self.composer.edit.setFocus()
        self.chat_changed.emit(chat.id)
        return chat.id

    def _ensure_chat(self) -> int:
        return self.chat_id or self.new_chat()

    # ------------------------------------------------------------ saving

    def _on_save_problem(self, problem: str) -> None:
        self.save_banner.show_problem(problem, not self.store.read_only)

    def retry_saving(self) -> bool:
        """Write what waits in memory (the banner's Retry, and its timer); True when all is saved."""
        self._flush(persist=True)
        return self.store.retry()

    # ------------------------------------------------------------ per-chat settings

    def overflow_policy(self) -> OverflowPolicy:
        return OverflowPolicy(self.overflow.currentData())

    def _on_system_prompt_changed(self) -> None:
        self._prompt_timer.start()
        self._count_timer.start()

    def _save_system_prompt(self) -> None:
        self._prompt_timer.stop()
        if self.chat_id:
            chat = self.store.chat(self.chat_id)
            text = self.system_prompt.toPlainText()
            if chat and chat.system_prompt != text:
                self.store.update_chat(self.chat_id, system_prompt=text)

    def _on_overflow_changed(self) -> None:
        if self.chat_id:
            self.store.update_chat(self.chat_id, overflow=self.overflow.currentData())
        self.request_count()

    def _on_thinking_changed(self, mode: str) -> None:
        if self.chat_id:
            self.store.update_chat(self.chat_id, thinking=mode)
        self._count_timer.start()

    def _on_sampling_changed(self, params: SamplingParams) -> None:
        if self.chat_id:
            self.store.update_chat(self.chat_id, sampling=params.to_dict())
        self._count_timer.start()

    # ------------------------------------------------------------ model

    def load_model(self, options) -> None:
        self._loading = True
        self.load_settings.show_loading(options.path.rsplit("/", 1)[-1])
        self.engine.load(options)

    def _on_loaded(self, info: ModelInfo) -> None:
        from app.ui.chat.prompt_dialog import describe_template

        self._loading = False
        where = f"{info.n_gpu_layers} of {info.n_layers + 1} layers on GPU" if info.n_gpu_layers else "CPU"
        template = describe_template(info.chat_template)
        text = f"{info.name} · {info.n_ctx:,}-token context · {where} · {template} · loaded in {info.load_seconds:.1f} s"
        if info.notice:
            text += f"\nNote: {info.notice}"
        self.load_settings.show_loaded(text)
        self.thinking.set_modes(info.thinking_modes)
        if self.chat_id:
            self.store.update_chat(self.chat_id, model_path=info.path)
        self.model_loaded.emit(info)
        self.request_count()

    def _on_load_failed(self, message: str) -> None:
        self._loading = False
        self.load_settings.show_error(f"Could not load the model: {message}")
        self.meter.clear("No model loaded")

    # ------------------------------------------------------------ counting

    def show_prompt(self, on_shown=None) -> None:
        from app.ui.chat.prompt_dialog import show_prompt

        show_prompt(self, self.tasks, self.engine.client, self.history(), on_shown)

    def history(self) -> list[ChatMessage]:
        messages = []
        system = self.system_prompt.toPlainText().strip()
        if system:
            messages.append(ChatMessage("system", system))
        for item in self.messages.items():
            if item.streaming or (item.role == "assistant" and not item.content):
                continue
            messages.append(ChatMessage(item.role, item.content, item.reasoning))
        return messages

    def request_count(self) -> None:
        self._count_timer.stop()
        if self.engine.info is None:
            if not self._loading:
                self.meter.clear("Load a model to start chatting")
            return
        draft = "" if self._streaming_here() else self.composer.text()
        self._pending_count = self.engine.count(self.history(), draft, self.overflow_policy(),
                                                self.sampling.params().max_tokens, self.thinking.value())

    def _on_counted(self, job_id: int, result: CountResult) -> None:
        if job_id == self._pending_count:
            self.meter.set_count(result)
            if self._streaming_here():
                self.meter.add_streamed(self._stream.n_tokens)

    def _on_count_failed(self, job_id: int, message: str) -> None:
        if job_id == self._pending_count and self.engine.info is not None:
            self.meter.clear(f"Could not count tokens: {message}")

    # ------------------------------------------------------------ sending and streaming

    def send(self, text: str) -> None:
        if self.streaming:
            if not self._stream.attached:
                chat = self.store.chat(self._stream.chat)
                self.show_notice(f"A reply is still being written in “{chat.title if chat else 'another chat'}”: "
                                 "wait for it or press Stop, then send.")
                self.composer.set_text(text)
            return
        if self.engine.info is None and not self._loading:
            self.show_notice("Load a model first: choose one above and press Load.")
            self.composer.set_text(text)
            return
        chat_id = self._ensure_chat()
        record = self.store.add_message(chat_id, "user", text)
        self.messages.append(ChatItem(record.id, "user", text))
        chat = self.store.chat(chat_id)
        if chat and chat.title == "New chat":
            title = " ".join(text.split())[:48] or "New chat"
            self.store.update_chat(chat_id, title=title)
            self.title.setText(title)
        self.chat_changed.emit(chat_id)
        self._start_reply()

    def _start_reply(self) -> None:
        self.show_notice("")
        sampling = self.sampling.params()
        history = self.history()
        model_name = self.engine.info.name if self.engine.info else ""
        record = self.store.add_message(self.chat_id, "assistant", "", model=model_name,
                                        sampling=sampling.to_dict(), complete=False)
        row = self.messages.append(ChatItem(record.id, "assistant", "", model_name, streaming=True))
        job_id = self.engine.chat(history, sampling, self.overflow_policy(), self.thinking.value())
        self._stream = StreamingReply(job_id, self.chat_id, row, record.id, persisted=time.monotonic())
        self.composer.set_busy(True)
        self.meter.set_speed("waiting for the first token…")
        self._pending_count = self.engine.count(history, "", self.overflow_policy(), sampling.max_tokens,
                                                self.thinking.value())
        self._flush_timer.start()

    def _on_token(self, job_id: int, text: str, n_tokens: int) -> None:
        stream = self._stream
        if stream is None or stream.job != job_id:
            return
        stream.buffer.append(text)
        stream.n_tokens = n_tokens
        stream.unsaved = True

    def _on_reasoning(self, job_id: int, text: str, n_tokens: int) -> None:
        stream = self._stream
        if stream is None or stream.job != job_id:
            return
        now = time.monotonic()
        stream.thinking_since = stream.thinking_since or now
        stream.thinking_s = now - stream.thinking_since
        stream.reasoning_buffer.append(text)
        stream.unsaved = True
        stream.reasoning_tokens = n_tokens
        stream.n_tokens = n_tokens  # the context meter counts the thinking too

    def _flush(self, persist: bool = False) -> None:
        """Show what arrived; write it to disk at least every PERSIST_SECONDS (or now)."""
        stream = self._stream
        if stream is None:
            return
        if stream.buffer or stream.reasoning_buffer:
            stream.content += "".join(stream.buffer)
            stream.buffer.clear()
            stream.reasoning += "".join(stream.reasoning_buffer)
            stream.reasoning_buffer.clear()
            if stream.attached:
                self.messages.update(stream.row, content=stream.content, reasoning=stream.reasoning,
                                     stats=stream.thinking_stats())
                self.meter.add_streamed(stream.n_tokens)
                self.meter.set_speed(f"{stream.n_tokens} tokens…")
        # Also when nothing new arrived (a stalled stream): what is on screen reaches the disk within a second.
        now = time.monotonic()
        if stream.unsaved and (persist or now - stream.persisted >= PERSIST_SECONDS):
            self.store.update_message(stream.record, content=stream.content, reasoning=stream.reasoning)
            stream.persisted = now
            stream.unsaved = False

    def _end_stream(self) -> StreamingReply:
        self._flush()
        self._flush_timer.stop()
        stream, self._stream = self._stream, None
        self.composer.set_busy(False)
        return stream

    def _on_finished(self, job_id: int, done: Done) -> None:
        if self._stream is None or self._stream.job != job_id:
            return
        stream = self._end_stream()
        stats = asdict(done.stats)
        stats["stop_reason"] = done.stats.stop_reason.value
        content = done.text if done.text else stream.content
        reasoning = done.reasoning or stream.reasoning
        self.store.update_message(stream.record, content=content, stats=stats, complete=True, reasoning=reasoning)
        self.last_done = done
        if stream.attached:
            self.messages.update(stream.row, content=content, streaming=False, stats=stats, error="",
                                 reasoning=reasoning)
            self.meter.set_speed(format_stats(stats))
            if done.stats.stop_reason.value == "context_full":
                self.show_notice("The reply stopped because the context window is full.")
        else:
            self.show_notice("")
        self.chat_changed.emit(stream.chat)
        self.request_count()

    def _on_failed(self, job_id: int, kind: str, message: str) -> None:
        if self._stream is None or self._stream.job != job_id:
            return
        stream = self._end_stream()
        content = stream.content
        error = f"Stopped: {message}"
        if stream.attached:
            self.messages.update(stream.row, content=content, streaming=False, error=error)
        self.store.update_message(stream.record, content=content, complete=False, error=error,
                                  reasoning=stream.reasoning)
        self.meter.set_speed("")
        self.show_notice(message if kind != "crashed" else
                         "The engine stopped unexpectedly. The partial reply is kept; send again to continue.")
        self.request_count()

    def finish_stream_early(self) -> None:
        """The window closes while a reply streams: stop it and keep what arrived."""
        self.engine.cancel()
        stream = self._end_stream()
        if stream.attached:
            self.messages.update(stream.row, streaming=False)
        self.store.update_message(stream.record, content=stream.content, complete=False,
                                  error="Stopped when Hearth was closed.", reasoning=stream.reasoning)

    def stop(self) -> None:
        if self.streaming:
            self.engine.cancel()

    # ------------------------------------------------------------ message actions

    def copy_message(self, row: int) -> None:
        QGuiApplication.clipboard().setText(self.messages.item(row).content)

    def regenerate(self, row: int) -> None:
        if self.streaming or self.messages.item(row).role != "assistant":
            return
        if self.engine.info is None:
            self.show_notice("Load a model first: choose one above and press Load.")
            return
        self.store.delete_messages_from(self.chat_id, row)
        self.messages.remove_from(row)
        self._start_reply()

    def edit(self, row: int) -> None:
        item = self.messages.item(row)
        if self.streaming or item.role != "user":
            return
        text, ok = QInputDialog.getMultiLineText(self, "Edit message", "Your message (later messages are replaced):",
                                                 item.content)
        if not ok or not text.strip():
            return
        self.store.delete_messages_from(self.chat_id, row)
        self.messages.remove_from(row)
        self.send(text.strip())

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
