"""The Qt side of a conversation: timers, signals, the list model on screen, and the engine's events.

The chat logic lives in app/chat/conversation.py (no Qt). A ChatSession shows one Conversation at a time
and forwards what the user does to it; the chat page and each Compare column have one. Sessions may share
an engine service and the window's one write queue; each takes only the events of the jobs it started.
A reply keeps streaming into its own Conversation while another chat is open. GUI thread only. Streamed
tokens show at most every FLUSH_MS and reach the store at least every PERSIST_SECONDS.
"""

from __future__ import annotations

import sqlite3
import time

from PySide6.QtCore import QObject, Signal

from app.chat.conversation import LATEST, Conversation, ImagePart, with_attached
from app.chat.reply import Reply
from app.engine import OverflowPolicy, SamplingParams
from app.engine.protocol import ChatMessage, CountResult, Done, ErrorKind, ModelInfo, StopReason
from app.store import ConversationStore
from app.store.conversations import ChatRecord
from app.store.pending_writes import PendingWrites
from app.ui.chat.message_model import MessageModel, item_from_record
from app.ui.chat.message_view import format_stats, last_reply_speed
from app.ui.services import EngineService
from app.ui.timers import timer

FLUSH_MS = 40  # streamed text reaches the view at most 25 times a second
PERSIST_SECONDS = 1.0  # a streaming reply is written to disk at least this often
COUNT_DEBOUNCE_MS = 150
SAVE_PROMPT_MS = 400
NO_MODEL = "Load a model first: choose one above and press Load."
ENGINE_EVENTS = ("token", "reasoning", "reading", "finished", "failed", "counted", "count_failed")


class ChatSession(QObject):
    opened = Signal(object)  # ChatRecord: the chat now shown (its settings, for the page's controls)
    title_changed = Signal(str)
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
        self.conversation = Conversation(self.store)  # the one on screen
        self._writing: Conversation | None = None  # the one whose reply is being written (maybe not on screen)
        self.thinking_modes: tuple[str, ...] = ()  # what the loaded model's template understands
        self.draft = ""
        self.attached: tuple[bytes, ...] = ()  # the pictures attached to the draft: the meter counts them too
        self.loading = False  # a model load is under way (sending then waits for it)
        self._pending_count = 0

        self._flush_timer = timer(self, FLUSH_MS, self._flush, single=False)
        self._count_timer = timer(self, COUNT_DEBOUNCE_MS, self.request_count)
        self._prompt_timer = timer(self, SAVE_PROMPT_MS, self.save_system_prompt)
        self._bind_engine(connect=True)
        listener = lambda problem: self.save_problem.emit(problem, not self.store.read_only)  # noqa: E731
        self.store.listen(listener)  # the window's one queue: the chat's and Compare's writes wait together
        self.destroyed.connect(lambda _obj=None, store=self.store: store.unlisten(listener))

    def _bind_engine(self, connect: bool) -> None:
        for name in ENGINE_EVENTS:
            signal, slot = getattr(self.engine, name), getattr(self, f"_on_{name}")
            (signal.connect if connect else signal.disconnect)(slot)

    def use_engine(self, engine: EngineService) -> None:
        """Run on another engine service from now on (a Compare column moved between engines)."""
        if engine is not self.engine and not self.streaming:
            self._bind_engine(connect=False)
            self.engine = engine
            self._bind_engine(connect=True)

    # ------------------------------------------------------------ the conversation on screen

    @property
    def chat_id(self) -> int:
        return self.conversation.chat_id

    @property
    def sampling(self) -> SamplingParams:
        return self.conversation.sampling

    @sampling.setter
    def sampling(self, params: SamplingParams) -> None:  # a setting used before any chat is open
        self.conversation.sampling = params

    @property
    def overflow(self) -> OverflowPolicy:
        return self.conversation.overflow

    @property
    def thinking(self) -> str:
        return self.conversation.thinking

    @property
    def _stream(self) -> Reply | None:
        return self._writing.reply if self._writing is not None else None

    @property
    def streaming(self) -> bool:
        """A reply is being written (in this chat or another one of this session)."""
        return self._stream is not None

    @property
    def streaming_here(self) -> bool:
        return self._writing is not None and self._writing is self.conversation and self.streaming

    def thinking_to_send(self) -> str:
        """The chat's thinking mode if the model understands it, else "default"."""
        return self.thinking if self.thinking in self.thinking_modes else "default"

    def history(self) -> list[ChatMessage]:
        """What the model is given: the system prompt and every finished message."""
        return self.conversation.history()

    def _show(self) -> None:
        """The list model shows the conversation as it now is."""
        reply = self._stream if self.streaming_here else None
        self.messages.set_items([item_from_record(m, streaming=True, error="")
                                 if reply is not None and m.id == reply.record else item_from_record(m)
                                 for m in self.conversation.messages])

    def open(self, chat_id: int) -> bool:
        """Show a chat; False (the previous chat stays, and a notice says why) when it cannot be read."""
        self.flush_pending()
        if self._writing is not None and self._writing.chat_id == chat_id:
            conversation: Conversation | None = self._writing  # its reply is being written: show it live
            self._writing.reload()
        else:
            try:
                conversation = Conversation.open(self.store, chat_id)
            except (sqlite3.Error, OSError) as exc:
                self.notice.emit(f"Could not open that chat: the database could not be read ({exc}). "
                                 "Still showing the previous chat.")
                return False
        if conversation is None:
            return False
        self.conversation = conversation
        if self._stream is not None:
            self._stream.attached = self.streaming_here
        self._show()
        if not self.streaming_here:  # this chat's own last speed, never the previous chat's
            self.speed.emit(last_reply_speed(self.messages.items()))
        self.opened.emit(self.store.chat(chat_id))
        self.title_changed.emit(conversation.title)
        self.busy_changed.emit(self.streaming_here)
        self.request_count()
        return True

    def new(self, model_path: str = "") -> int:
        """A new chat with this session's current settings; it is opened (an untouched one on screen is reused)."""
        current = self.conversation
        if current.untouched:  # no second empty "New chat" in the list
            current.set_model(model_path or current.model_path)
            return current.chat_id
        chat = Conversation.create(self.store, sampling=current.sampling, thinking=current.thinking,
                                   overflow=current.overflow, model_path=model_path)
        self.open(chat.chat_id)
        return chat.chat_id

    def chat(self) -> ChatRecord | None:
        return self.store.chat(self.chat_id) if self.chat_id else None

    # ------------------------------------------------------------ per-chat settings

    def set_system_prompt(self, text: str) -> None:
        self.conversation.set_system_prompt(text, save=False)
        self._prompt_timer.start()  # saved once typing pauses
        self._count_timer.start()

    def save_system_prompt(self) -> None:
        self._prompt_timer.stop()
        self.conversation.save_system_prompt()

    def set_overflow(self, policy: OverflowPolicy) -> None:
        self.conversation.set_overflow(policy)
        self.request_count()

    def set_thinking(self, mode: str) -> None:
        self.conversation.set_thinking(mode)
        self._count_timer.start()

    def set_sampling(self, params: SamplingParams) -> None:
        self.conversation.set_sampling(params)
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
        if getattr(self.conversation.pictures, "loading", False):
            return  # counted once the chat's pictures are read, off the GUI thread (ChatPage._read_pictures)
        history, draft = with_attached(self.history(), self.draft, self.attached, writing=self.streaming_here)
        self._pending_count = self.engine.count(history, draft, self.overflow, self.sampling.max_tokens,
                                                self.thinking_to_send())

    def _on_counted(self, job_id: int, result: CountResult) -> None:
        if job_id == self._pending_count:
            self.counted.emit(result)
            if self.streaming_here and self._stream is not None:
                self.streamed.emit(self._stream.n_tokens)

    def _on_count_failed(self, job_id: int, message: str) -> None:
        if job_id == self._pending_count and self.engine.info is not None:
            self.meter_cleared.emit(f"Could not count tokens: {message}")

    def model_loaded(self, info: ModelInfo) -> None:
        self.loading = False
        if self.chat_id:  # the model this chat was last used with: reopening it offers the same one
            self.conversation.set_model(info.path)
        if self.streaming_here and self.conversation.name_reply_model(info.name):
            self._show()  # a reply sent while its model was still loading is named now
        self.request_count()

    # ------------------------------------------------------------ sending and streaming

    def send(self, text: str, parent_id: int | None = LATEST, images: tuple[ImagePart, ...] = ()) -> bool:
        """Add the user's message and start the reply; False (and a notice) when it cannot be sent now.
        `parent_id` names the message it follows when it is an edit (an alternative question)."""
        if self._writing is not None and self.streaming:
            if not self.streaming_here:
                chat = self.store.chat(self._writing.chat_id)
                self.notice.emit(f"A reply is still being written in “{chat.title if chat else 'another chat'}”: "
                                 "wait for it or press Stop, then send.")
            return False
        if not self._model_ready():
            return False
        if not self.chat_id:
            self.new()
        title = self.conversation.title
        self.messages.append(item_from_record(self.conversation.add_user(text, parent_id, images)))
        if self.conversation.title != title:
            self.title_changed.emit(self.conversation.title)
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
        parent = self.conversation.cut_at(row)
        self.messages.remove_from(row)
        self._start_reply(parent)
        return True

    def replace_user_message(self, row: int, text: str) -> bool:
        """An edited user message: a new alternative at its turn (the old branch stays reachable) and a reply."""
        item = self.messages.item(row)
        if self.streaming or item.role != "user" or not text.strip() or not self._model_ready():
            return False
        parent = self.conversation.cut_at(row)
        self.messages.remove_from(row)
        return self.send(text.strip(), parent)

    def show_alternative(self, row: int, step: int) -> bool:
        """‹ or ›: show the previous or next alternative at this turn; the conversation continues from it."""
        item = self.messages.item(row)
        if self.streaming_here:
            self.notice.emit("Wait for the reply to finish (or press Stop) before switching alternatives.")
            return False
        if not self.conversation.show_alternative(item.record_id, step):
            return False
        self._show()
        self.request_count()
        return True

    def _start_reply(self, parent_id: int | None = LATEST) -> None:
        self.notice.emit("")
        conversation = self.conversation
        history = conversation.history()
        model_name = self.engine.info.name if self.engine.info and not self.loading else ""  # else named once loaded
        reply = conversation.begin_reply(0, model_name, sampling := conversation.reply_sampling(), parent_id)
        self.messages.append(item_from_record(conversation.messages[-1], streaming=True, error=""))
        reply.job = self.engine.chat(history, sampling, conversation.overflow, self.thinking_to_send())
        self._writing = conversation
        self.busy_changed.emit(True)
        self.speed.emit("waiting for the first token…")
        self._pending_count = self.engine.count(history, "", conversation.overflow, conversation.sampling.max_tokens,
                                                self.thinking_to_send())
        self._flush_timer.start()

    def _mine(self, job_id: int) -> Reply | None:
        reply = self._stream
        return reply if reply is not None and reply.job == job_id else None

    def _on_token(self, job_id: int, text: str, n_tokens: int) -> None:
        if (reply := self._mine(job_id)) is not None:
            reply.add_text(text, n_tokens)

    def _on_reading(self, job_id: int, done: int, total: int) -> None:
        if (reply := self._mine(job_id)) is not None and self.streaming_here and not reply.n_tokens:
            self.speed.emit(f"Reading the prompt: {done:,} of {total:,} tokens…")

    def _on_reasoning(self, job_id: int, text: str, n_tokens: int) -> None:
        if (reply := self._mine(job_id)) is not None:
            reply.add_reasoning(text, n_tokens, time.monotonic())

    def _flush(self, persist: bool = False) -> None:
        """Show what arrived; write it to disk at least every PERSIST_SECONDS (or now)."""
        writing = self._writing
        if writing is None or writing.reply is None:
            return
        if writing.show_arrived() and self.streaming_here:
            row = writing.reply_index()
            message = writing.messages[row]
            self.messages.update(row, content=message.content, reasoning=message.reasoning, stats=message.stats)
            self.streamed.emit(writing.reply.n_tokens)
            self.speed.emit(f"{writing.reply.n_tokens} tokens…")
        # Also when nothing new arrived (a stalled stream): what is on screen reaches the disk within a second.
        writing.save_reply(force=persist, every=PERSIST_SECONDS)

    def _end_stream(self) -> tuple[Conversation, int, bool]:
        """Stop the flush timer; the conversation that was writing, the reply's row, whether it is on screen."""
        self._flush()
        self._flush_timer.stop()
        writing = self._writing
        assert writing is not None
        here = self.streaming_here
        row = writing.reply_index()
        self._writing = None
        self.busy_changed.emit(False)
        return writing, row, here

    def _on_finished(self, job_id: int, done: Done) -> None:
        if self._mine(job_id) is None:
            return
        writing, row, here = self._end_stream()
        message = writing.finish_reply(done)
        if here and message is not None:
            self.messages.update(row, content=message.content, streaming=False, stats=message.stats, error="",
                                 reasoning=message.reasoning, probs=message.token_probs)
            self.speed.emit(format_stats(message.stats))
            full = done.stats.stop_reason == StopReason.CONTEXT_FULL
            self.notice.emit("The reply stopped because the context window is full." if full else "")
        else:
            self.notice.emit("")
        self.reply_finished.emit(done)
        self.request_count()

    def _on_failed(self, job_id: int, kind: ErrorKind, message: str) -> None:
        if self._mine(job_id) is None:
            return
        writing, row, here = self._end_stream()
        error = f"Stopped: {message}"
        kept = writing.fail_reply(error)
        if here and kept is not None:
            self.messages.update(row, content=kept.content, streaming=False, error=error)
        self.speed.emit("")
        self.notice.emit(message if kind != ErrorKind.CRASHED else
                         "The engine stopped unexpectedly. The partial reply is kept; send again to continue.")
        self.reply_failed.emit(kind, message)
        self.request_count()

    def stop(self) -> None:
        if self._stream is not None:
            self.engine.cancel(self._stream.job)

    def finish_early(self) -> None:
        """The window closes while a reply streams: stop it and keep what arrived."""
        if self._stream is None:
            return
        self.engine.cancel(self._stream.job)
        writing, row, here = self._end_stream()
        writing.fail_reply("Stopped when Hearth was closed.")
        if here and row >= 0:
            self.messages.update(row, streaming=False)
