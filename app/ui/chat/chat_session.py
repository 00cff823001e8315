"""One conversation and its engine: the chat's settings, the reply being written, saving and counting.

A ChatSession is a QObject without widgets: the chat page and each Compare column show one and forward
what the user does. Sessions may share an engine service and the window's one write queue; each takes only
the events of the jobs it started. Regenerating or editing adds an alternative at that turn
(store/branches.py); ‹ › flips between them. GUI thread only. Streamed tokens show at most every FLUSH_MS
and reach the store at least every PERSIST_SECONDS; a reply keeps streaming while another chat is open.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import asdict

from PySide6.QtCore import QObject, QTimer, Signal

from app.chat.message import Message
from app.engine import ChatMessage, OverflowPolicy, SamplingParams
from app.engine.protocol import CountResult, Done, ErrorKind, ModelInfo, StopReason
from app.formatting import short_title
from app.store import ConversationStore
from app.store.conversations import LATEST, ChatRecord
from app.store.pending_writes import PendingWrites
from app.ui.chat.message_model import ChatItem, MessageModel, item_from_record
from app.ui.chat.message_view import format_stats, last_reply_speed
from app.ui.chat.streaming_reply import StreamingReply
from app.ui.services import EngineService

FLUSH_MS = 40  # streamed text reaches the view at most 25 times a second
PERSIST_SECONDS = 1.0  # a streaming reply is written to disk at least this often
COUNT_DEBOUNCE_MS = 150
SAVE_PROMPT_MS = 400
NO_MODEL = "Load a model first: choose one above and press Load."


class ChatSession(QObject):
    opened = Signal(object)  # ChatRecord: the chat now shown (its settings, for the page's controls)
    title_changed = Signal(str)
    chat_changed = Signal(int)  # a chat's title, order or content changed (for the chat list)
    busy_changed = Signal(bool)  # a reply is being written in the chat on screen
    notice = Signal(str)  # a plain sentence for the user; "" clears it
    counted = Signal(object)  # CountResult for the chat on screen plus the draft
    streamed = Signal(int)  # completion tokens of the reply on screen so far
    speed = Signal(str)  # the meter's speed line
    meter_cleared = Signal(str)  # no count possible: why
    reply_finished = Signal(object)  # Done, after it is saved
    reply_failed = Signal(object, str)  # ErrorKind, message
    save_problem = Signal(str, bool)  # what cannot be saved, whether Retry can help

    def __init__(self, store: ConversationStore | PendingWrites, engine: EngineService,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = PendingWrites.of(store)  # the one writer of this database
        self.engine = engine
        self.messages = MessageModel(self)
        self.chat_id = 0
        self.system_prompt = ""
        self.overflow = OverflowPolicy.TRUNCATE_MIDDLE
        self.sampling = SamplingParams()
        self.thinking = "default"  # the chat's saved mode
        self.thinking_modes: tuple[str, ...] = ()  # what the loaded model's template understands
        self.draft = ""
        self.loading = False  # a model load is under way (sending then waits for it)
        self._stream: StreamingReply | None = None
        self._pending_count = 0

        self._flush_timer = QTimer(self, interval=FLUSH_MS, timeout=self._flush)
        self._count_timer = QTimer(self, singleShot=True, interval=COUNT_DEBOUNCE_MS, timeout=self.request_count)
        self._prompt_timer = QTimer(self, singleShot=True, interval=SAVE_PROMPT_MS, timeout=self.save_system_prompt)
        self._bind_engine(connect=True)
        listener = lambda problem: self.save_problem.emit(problem, not self.store.read_only)  # noqa: E731
        self.store.listen(listener)  # the window's one queue: the chat's and Compare's writes wait together
        self.destroyed.connect(lambda _obj=None, store=self.store: store.unlisten(listener))

    def _bind_engine(self, connect: bool) -> None:
        for name in ("token", "reasoning", "reading", "finished", "failed", "counted", "count_failed"):
            signal, slot = getattr(self.engine, name), getattr(self, f"_on_{name}")
            (signal.connect if connect else signal.disconnect)(slot)

    def use_engine(self, engine: EngineService) -> None:
        """Run on another engine service from now on (a Compare column moved between engines)."""
        if engine is not self.engine and not self.streaming:
            self._bind_engine(connect=False)
            self.engine = engine
            self._bind_engine(connect=True)

    # ------------------------------------------------------------ state

    @property
    def streaming(self) -> bool:
        """A reply is being written (in this chat or another one of this session)."""
        return self._stream is not None

    @property
    def streaming_here(self) -> bool:
        return self._stream is not None and self._stream.attached

    def thinking_to_send(self) -> str:
        """The chat's thinking mode if the model understands it, else "default"."""
        return self.thinking if self.thinking in self.thinking_modes else "default"

    def history(self) -> list[ChatMessage]:
        """What the model is given: the system prompt and every finished message."""
        system = [ChatMessage("system", self.system_prompt.strip())] if self.system_prompt.strip() else []
        return system + [ChatMessage(i.role, i.content, i.reasoning) for i in self.messages.items()
                         if not i.streaming and (i.role != "assistant" or i.content)]

    def open(self, chat_id: int) -> bool:
        """Show a chat; False (the previous chat stays, and a notice says why) when it cannot be read."""
        self.flush_pending()
        try:  # read everything before changing anything
            chat = self.store.chat(chat_id)
            records = self.store.messages(chat_id) if chat else []
        except (sqlite3.Error, OSError) as exc:
            self.notice.emit(f"Could not open that chat: the database could not be read ({exc}). "
                             "Still showing the previous chat.")
            return False
        if chat is None:
            return False
        self.chat_id = chat_id
        self.system_prompt = chat.system_prompt
        self.sampling = SamplingParams.from_dict(chat.sampling) if chat.sampling else SamplingParams()
        self.overflow = OverflowPolicy.saved(chat.overflow)
        self.thinking = chat.thinking
        if self._stream is not None:
            self._stream.attached = self._stream.chat == chat_id
        self.messages.set_items(self._items(records))
        if not self.streaming_here:  # this chat's own last speed, never the previous chat's
            self.speed.emit(last_reply_speed(self.messages.items()))
        self.opened.emit(chat)
        self.title_changed.emit(chat.title)
        self.busy_changed.emit(self.streaming_here)
        self.request_count()
        return True

    def _items(self, records: list[Message]) -> list[ChatItem]:
        stream = self._stream
        return [item_from_record(m, content=stream.content, stats=stream.thinking_stats(), streaming=True, error="",
                                 reasoning=stream.reasoning) if stream is not None and m.id == stream.record
                else item_from_record(m) for m in records]

    def new(self, model_path: str = "") -> int:
        """A new chat with this session's current settings; it is opened."""
        chat = self.store.create_chat(sampling=self.sampling.to_dict(), thinking=self.thinking,
                                      overflow=self.overflow.value, model_path=model_path)
        self.open(chat.id)
        self.chat_changed.emit(chat.id)
        return chat.id

    def chat(self) -> ChatRecord | None:
        return self.store.chat(self.chat_id) if self.chat_id else None

    # ------------------------------------------------------------ per-chat settings

    def set_system_prompt(self, text: str) -> None:
        self.system_prompt = text
        self._prompt_timer.start()  # saved once typing pauses
        self._count_timer.start()

    def save_system_prompt(self) -> None:
        self._prompt_timer.stop()
        chat = self.chat()
        if chat and chat.system_prompt != self.system_prompt:
            self.store.update_chat(self.chat_id, system_prompt=self.system_prompt)

    def set_overflow(self, policy: OverflowPolicy) -> None:
        self.overflow = policy
        if self.chat_id:
            self.store.update_chat(self.chat_id, overflow=policy.value)
        self.request_count()

    def set_thinking(self, mode: str) -> None:
        self.thinking = mode
        if self.chat_id:
            self.store.update_chat(self.chat_id, thinking=mode)
        self._count_timer.start()

    def set_sampling(self, params: SamplingParams) -> None:
        self.sampling = params
        if self.chat_id:
            self.store.update_chat(self.chat_id, sampling=params.to_dict())
        self._count_timer.start()

    def set_draft(self, text: str) -> None:
        self.draft = text
        self._count_timer.start()

    def flush_pending(self) -> None:
        """Write what is on screen now: the streaming reply and the system prompt."""
        self._flush(persist=True)
        self.save_system_prompt()

    def retry_saving(self) -> bool:
        """Write what waits in memory (the banner's Retry, and its timer); True when all is saved."""
        self._flush(persist=True)
        return self.store.retry()

    # ------------------------------------------------------------ counting

    def request_count(self) -> None:
        self._count_timer.stop()
        if self.engine.info is None:
            if not self.loading:
                self.meter_cleared.emit("No model loaded yet: Send loads the one chosen above")
            return
        draft = "" if self.streaming_here else self.draft
        self._pending_count = self.engine.count(self.history(), draft, self.overflow, self.sampling.max_tokens,
                                                self.thinking_to_send())

    def _on_counted(self, job_id: int, result: CountResult) -> None:
        if job_id == self._pending_count:
            self.counted.emit(result)
            if self.streaming_here:
                self.streamed.emit(self._stream.n_tokens)

    def _on_count_failed(self, job_id: int, message: str) -> None:
        if job_id == self._pending_count and self.engine.info is not None:
            self.meter_cleared.emit(f"Could not count tokens: {message}")

    def model_loaded(self, info: ModelInfo) -> None:
        self.loading = False
        if self.chat_id:  # the model this chat was last used with: reopening it offers the same one
            self.store.update_chat(self.chat_id, model_path=info.path)
        stream = self._stream  # a reply sent while its model was still loading is named now
        if stream is not None and stream.attached and not self.messages.item(row := self._row_of(stream)).model:
            self.messages.update(row, model=info.name)
            self.store.update_message(stream.record, model=info.name)
        self.request_count()

    # ------------------------------------------------------------ sending and streaming

    def send(self, text: str, parent_id: int | None = LATEST) -> bool:
        """Add the user's message and start the reply; False (and a notice) when it cannot be sent now.

        `parent_id` names the message it follows when it is an edit (an alternative question)."""
        if self.streaming:
            if not self._stream.attached:
                chat = self.store.chat(self._stream.chat)
                self.notice.emit(f"A reply is still being written in “{chat.title if chat else 'another chat'}”: "
                                 "wait for it or press Stop, then send.")
            return False
        if not self._model_ready():
            return False
        chat_id = self.chat_id or self.new()
        record = self.store.add_message(chat_id, "user", text, parent_id=parent_id)
        self.messages.append(item_from_record(record))
        chat = self.store.chat(chat_id)
        if chat and chat.title == "New chat":
            title = short_title(text) or "New chat"
            self.store.update_chat(chat_id, title=title)
            self.title_changed.emit(title)
        self.chat_changed.emit(chat_id)
        self._start_reply()
        return True

    def _model_ready(self) -> bool:
        if self.engine.info is None and not self.loading:
            self.notice.emit(NO_MODEL)
        return self.engine.info is not None or self.loading

    def regenerate(self, row: int) -> bool:
        """Write the assistant message at `row` again, as a new alternative at its turn (the old one is kept)."""
        item = self.messages.item(row)
        if self.streaming or item.role != "assistant" or not self._model_ready():
            return False
        self.messages.remove_from(row)
        self._start_reply(item.parent_id)
        return True

    def replace_user_message(self, row: int, text: str) -> bool:
        """An edited user message: a new alternative at its turn (the old branch stays reachable) and a reply."""
        item = self.messages.item(row)
        if self.streaming or item.role != "user" or not text.strip() or not self._model_ready():
            return False
        self.messages.remove_from(row)
        return self.send(text.strip(), item.parent_id)

    def show_alternative(self, row: int, step: int) -> bool:
        """‹ or ›: show the previous or next alternative at this turn; the conversation continues from it."""
        item = self.messages.item(row)
        if self.streaming_here:
            self.notice.emit("Wait for the reply to finish (or press Stop) before switching alternatives.")
            return False
        ids = [s.id for s in self.store.alternatives(item.record_id)]
        index = ids.index(item.record_id) + step if item.record_id in ids else -1
        if not 0 <= index < len(ids):
            return False
        self.store.select_alternative(ids[index])
        self.messages.set_items(self._items(self.store.messages(self.chat_id)))
        self.chat_changed.emit(self.chat_id)
        self.request_count()
        return True

    def _start_reply(self, parent_id: int | None = LATEST) -> None:
        self.notice.emit("")
        sampling = self.sampling
        history = self.history()
        model_name = self.engine.info.name if self.engine.info and not self.loading else ""  # else named once loaded
        record = self.store.add_message(self.chat_id, "assistant", "", model=model_name,
                                        sampling=sampling.to_dict(), complete=False, parent_id=parent_id)
        self.messages.append(item_from_record(record, streaming=True, error=""))
        job_id = self.engine.chat(history, sampling, self.overflow, self.thinking_to_send())
        self._stream = StreamingReply(job_id, self.chat_id, record.id, persisted=time.monotonic())
        self.busy_changed.emit(True)
        self.speed.emit("waiting for the first token…")
        self._pending_count = self.engine.count(history, "", self.overflow, sampling.max_tokens,
                                                self.thinking_to_send())
        self._flush_timer.start()

    def _row_of(self, stream: StreamingReply) -> int:
        return next(r for r, item in enumerate(self.messages.items()) if item.record_id == stream.record)

    def _on_token(self, job_id: int, text: str, n_tokens: int) -> None:
        if self._stream is not None and self._stream.job == job_id:
            self._stream.add_text(text, n_tokens)

    def _on_reading(self, job_id: int, done: int, total: int) -> None:
        if self._stream is not None and self._stream.job == job_id and self._stream.attached and not self._stream.n_tokens:
            self.speed.emit(f"Reading the prompt: {done:,} of {total:,} tokens…")

    def _on_reasoning(self, job_id: int, text: str, n_tokens: int) -> None:
        if self._stream is not None and self._stream.job == job_id:
            self._stream.add_reasoning(text, n_tokens, time.monotonic())

    def _flush(self, persist: bool = False) -> None:
        """Show what arrived; write it to disk at least every PERSIST_SECONDS (or now)."""
        stream = self._stream
        if stream is None:
            return
        if stream.take_arrived() and stream.attached:
            self.messages.update(self._row_of(stream), content=stream.content, reasoning=stream.reasoning,
                                 stats=stream.thinking_stats())
            self.streamed.emit(stream.n_tokens)
            self.speed.emit(f"{stream.n_tokens} tokens…")
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
        self.busy_changed.emit(False)
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
        if stream.attached:
            self.messages.update(self._row_of(stream), content=content, streaming=False, stats=stats, error="",
                                 reasoning=reasoning)
            self.speed.emit(format_stats(stats))
            full = done.stats.stop_reason == StopReason.CONTEXT_FULL
            self.notice.emit("The reply stopped because the context window is full." if full else "")
        else:
            self.notice.emit("")
        self.chat_changed.emit(stream.chat)
        self.reply_finished.emit(done)
        self.request_count()

    def _on_failed(self, job_id: int, kind: ErrorKind, message: str) -> None:
        if self._stream is None or self._stream.job != job_id:
            return
        stream = self._end_stream()
        error = f"Stopped: {message}"
        if stream.attached:
            self.messages.update(self._row_of(stream), content=stream.content, streaming=False, error=error)
        self.store.update_message(stream.record, content=stream.content, complete=False, error=error,
                                  reasoning=stream.reasoning)
        self.speed.emit("")
        self.notice.emit(message if kind != ErrorKind.CRASHED else
                         "The engine stopped unexpectedly. The partial reply is kept; send again to continue.")
        self.reply_failed.emit(kind, message)
        self.request_count()

    def stop(self) -> None:
        if self.streaming:
            self.engine.cancel()

    def finish_early(self) -> None:
        """The window closes while a reply streams: stop it and keep what arrived."""
        if not self.streaming:
            return
        self.engine.cancel()
        stream = self._end_stream()
        if stream.attached:
            self.messages.update(self._row_of(stream), streaming=False)
        self.store.update_message(stream.record, content=stream.content, complete=False,
                                  error="Stopped when Hearth was closed.", reasoning=stream.reasoning)

