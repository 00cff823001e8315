"""One conversation: its settings, its turns and alternatives, the reply being written, and saving.

A `Conversation` is the chat logic without Qt: the GUI's ChatSession (a thin adapter with timers and
signals), Compare's columns, `hearth chat`, `hearth compare` and `hearth serve` all use it. With a store
it reads and writes one chat through the app's one write queue; without one (the CLI, the API server)
nothing is saved and it lives as long as its request.

`messages` is the conversation as shown: the chosen alternative at each turn (store/branches.py), the
reply being written last, with the text that has arrived so far. What the engine is given
(`history()`) leaves out the reply being written and empty assistant messages.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from typing import Any, Protocol

from app.chat.images import StoredPictures
from app.chat.message import ImagePart as ImagePart  # (named here for the GUI's ChatSession too)
from app.chat.message import Message, Part, TokenProbsPart, history_for_engine, text_parts
from app.chat.reply import Reply
from app.chat.what_if import WhatIf, what_if_from
from app.engine.protocol import IMAGE_MARKER, ChatMessage, Done, Error, OverflowPolicy, Token
from app.engine.sampling import SamplingParams
from app.engine.token_probs import probs_to_json
from app.formatting import short_title

LATEST = -1  # a new message's default parent: the last message of the conversation shown
KEPT_ALTERNATIVES = 5  # alternatives kept per token of a saved reply (the GUI's tint and "what if")
NEW_TITLE = "New chat"


class ChatStore(Protocol):
    """What a Conversation needs of the store (the app's write queue, store/pending_writes.py)."""

    def chat(self, chat_id: int) -> Any: ...
    def messages(self, chat_id: int) -> Sequence[Message]: ...
    def create_chat(self, title: str = ..., system_prompt: str = ..., model_path: str = ...,
                    sampling: dict[str, Any] | None = ..., overflow: str = ..., thinking: str = ...,
                    comparison_id: int = ...) -> Any: ...
    def update_chat(self, chat_id: int, **values: Any) -> object: ...  # the changes it made
    def add_message(self, chat_id: int, role: str, content: str = ..., *, parts: Sequence[Part] | None = ...,
                    reasoning: str = ..., model: str = ...,
                    sampling: dict[str, Any] | None = ..., stats: dict[str, Any] | None = ..., complete: bool = ...,
                    error: str = ..., parent_id: int | None = ...) -> Message: ...
    def update_message(self, message_id: int, *, content: str | None = ..., reasoning: str | None = ...,
                       parts: Sequence[Part] | None = ..., stats: dict[str, Any] | None = ...,
                       complete: bool | None = ..., error: str | None = ..., model: str | None = ...) -> object: ...
    def alternatives(self, message_id: int) -> Sequence[Message]: ...
    def select_alternative(self, message_id: int) -> object: ...


def stats_of(done: Done) -> dict[str, Any]:
    """A finished reply's stats as the store keeps them (plain JSON values)."""
    stats = asdict(done.stats)
    stats["stop_reason"] = done.stats.stop_reason.value
    return stats


class Conversation:
    # Saved replies keep each token's probability (the app's setting, settings.keep_token_probs, sets it).
    keep_token_probs = True

    def __init__(self, store: ChatStore | None = None) -> None:
        self.store = store
        self.chat_id = 0
        self.title = NEW_TITLE
        self.system_prompt = ""
        self.sampling = SamplingParams()
        self.overflow = OverflowPolicy.TRUNCATE_MIDDLE
        self.thinking = "default"  # the chat's saved mode
        self.model_path = ""  # the model it was last used with
        self.messages: list[Message] = []
        self.reply: Reply | None = None
        self.what_if: WhatIf | None = None  # the next reply starts as the user chose (choose_what_if)
        # an image's bytes by SHA-256: the store's image folder, or what a request brought (chat/images.py)
        read = getattr(store, "read_image", None)
        self.pictures = StoredPictures(read) if read is not None else None  # (which were missing: a note)
        self.images: Callable[[str], bytes] | None = self.pictures

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, store: ChatStore, chat_id: int) -> Conversation | None:
        """The stored chat, or None when it does not exist; the store's errors (sqlite3.Error, OSError) pass."""
        conversation = cls(store)
        return conversation if conversation._read(chat_id) else None

    @classmethod
    def create(cls, store: ChatStore, *, sampling: SamplingParams | None = None, thinking: str = "default",
               overflow: OverflowPolicy = OverflowPolicy.TRUNCATE_MIDDLE, model_path: str = "",
               system_prompt: str = "", comparison_id: int = 0) -> Conversation:
        """A new stored chat with these settings."""
        chat = store.create_chat(sampling=(sampling or SamplingParams()).to_dict(), thinking=thinking,
                                 overflow=overflow.value, model_path=model_path, system_prompt=system_prompt,
                                 comparison_id=comparison_id)
        conversation = cls(store)
        conversation._take_chat(chat)
        conversation.messages = []
        return conversation

    @classmethod
    def of(cls, messages: Sequence[Message], system_prompt: str = "", sampling: SamplingParams | None = None,
           thinking: str = "default") -> Conversation:
        """A conversation that is not stored (a CLI prompt, an API request)."""
        conversation = cls()
        conversation.system_prompt = system_prompt
        conversation.sampling = sampling or SamplingParams()
        conversation.thinking = thinking
        conversation.messages = list(messages)
        return conversation

    def _read(self, chat_id: int) -> bool:
        assert self.store is not None
        chat = self.store.chat(chat_id)  # read everything before changing anything
        if chat is None:
            return False
        records = list(self.store.messages(chat_id))
        self._take_chat(chat)
        self.messages = records
        return True

    def _take_chat(self, chat: Any) -> None:
        self.chat_id = chat.id
        self.title = chat.title
        self.system_prompt = chat.system_prompt
        self.sampling = SamplingParams.from_dict(chat.sampling) if chat.sampling else SamplingParams()
        self.overflow = OverflowPolicy.saved(chat.overflow)
        self.thinking = chat.thinking
        self.model_path = chat.model_path

    def reload(self) -> None:
        """Read the messages again (another alternative was chosen); the reply being written keeps its text."""
        if self.store is not None and self.chat_id:
            self.messages = [self._live(m) for m in self.store.messages(self.chat_id)]

    def _live(self, message: Message) -> Message:
        reply = self.reply
        if reply is None or message.id != reply.record:
            return message
        stats = {**message.stats, **reply.thinking_stats()}
        live = message.with_text(reply.content, reply.reasoning)
        if reply.parts:  # the tool calls made so far, with their results
            live = replace(live, parts=text_parts(reply.content, reply.reasoning) + tuple(reply.parts))
        return replace(live, stats=stats, error="")

    # ------------------------------------------------------------ settings (saved at once)

    def _save_chat(self, **values: Any) -> None:
        if self.store is not None and self.chat_id:
            self.store.update_chat(self.chat_id, **values)

    @property
    def untouched(self) -> bool:
        """Saved, with nothing written in it yet (no message, no system prompt): a new chat as it was made."""
        return bool(self.chat_id) and not self.messages and not self.system_prompt and self.reply is None

    def set_system_prompt(self, text: str, save: bool = True) -> None:
        self.system_prompt = text
        if save:
            self.save_system_prompt()

    def save_system_prompt(self) -> None:
        """Write the system prompt if the store has another one (typing waits for a pause to call this)."""
        if self.store is None or not self.chat_id:
            return
        chat = self.store.chat(self.chat_id)
        if chat is not None and chat.system_prompt != self.system_prompt:
            self.store.update_chat(self.chat_id, system_prompt=self.system_prompt)

    def set_overflow(self, policy: OverflowPolicy) -> None:
        self.overflow = policy
        self._save_chat(overflow=policy.value)

    def set_thinking(self, mode: str) -> None:
        self.thinking = mode
        self._save_chat(thinking=mode)

    def set_sampling(self, params: SamplingParams) -> None:
        self.sampling = params
        self._save_chat(sampling=params.to_dict())

    def set_model(self, path: str) -> None:
        """The model this chat is used with from now on: reopening it offers the same one."""
        self.model_path = path
        self._save_chat(model_path=path)

    def rename(self, title: str) -> None:
        self.title = title
        self._save_chat(title=title)

    # ------------------------------------------------------------ what the model is given

    def finished_messages(self) -> list[Message]:
        """Every message but the reply being written and, in a stored chat, replies stopped before any text."""
        if self.store is None:  # a request's messages, as the caller sent them
            return list(self.messages[:-1] if self.reply is not None else self.messages)
        writing = self.reply.record if self.reply is not None else None
        return [m for m in self.messages
                if m.id != writing and (m.role != "assistant" or m.content or m.tool_calls)]

    def history(self) -> list[ChatMessage]:
        """What the model is given: the system prompt and every finished message."""
        history = history_for_engine(self.system_prompt, self.finished_messages(), self.images)
        return history + [self.what_if.prefill()] if self.what_if is not None else history

    def choose_what_if(self, index: int, step: int, token_id: int) -> None:
        """The next reply (the caller regenerates the message at `index`) picks `token_id` at `step`."""
        self.what_if = what_if_from(self.messages[index], step, token_id)

    # ------------------------------------------------------------ turns

    def add_user(self, text: str, parent_id: int | None = LATEST, attached: Sequence[Part] = ()) -> Message:
        """The user's message (its text, then what is `attached`: images, …), after `parent_id` (an edit: an
        alternative question); names a chat still called "New chat" (as the store has it: it may have been
        renamed meanwhile) after it."""
        message = self._add("user", text_parts(text) + tuple(attached), parent_id=parent_id)
        if self.store is not None:
            chat = self.store.chat(self.chat_id)
            self.title = chat.title if chat is not None else self.title
            if self.title == NEW_TITLE:
                self.rename(short_title(text) or NEW_TITLE)
        return message

    def _add(self, role: str, parts: tuple[Part, ...], parent_id: int | None = LATEST, **values: Any) -> Message:
        if parent_id != LATEST:  # an alternative: the conversation now runs through it
            keep = next((i + 1 for i, m in enumerate(self.messages) if m.id == parent_id), 0)
            del self.messages[keep:]
        if self.store is None:
            last = self.messages[-1] if self.messages else None
            message = Message(0, 0, len(self.messages), role, parts, created=time.time(),
                              parent_id=last.id if last else None, **values)
        else:
            message = self.store.add_message(self.chat_id, role, parts=parts, parent_id=parent_id, **values)
        self.messages.append(message)
        return message

    def cut_at(self, index: int) -> int | None:
        """Take the message at `index` and those after it off the screen (regenerate, edit): its parent id."""
        parent = self.messages[index].parent_id
        del self.messages[index:]
        return parent

    def reply_sampling(self) -> SamplingParams:
        """The chat's sampling, asking the engine for token probabilities when replies keep them."""
        if self.keep_token_probs and self.store is not None and self.sampling.top_logprobs < 0:
            return replace(self.sampling, top_logprobs=KEPT_ALTERNATIVES)
        return self.sampling

    def begin_reply(self, job: int, model: str, sampling: SamplingParams,
                    parent_id: int | None = LATEST) -> Reply:
        """An empty assistant message, not complete, that `job` will write."""
        message = self._add("assistant", text_parts(), parent_id=parent_id, model=model, sampling=sampling.to_dict(),
                            complete=False)
        self.reply = Reply(job, self.chat_id, message.id, persisted=time.monotonic())
        if self.what_if is not None:
            self.reply.add_text(self.what_if.prefix, 0)
        return self.reply

    def reply_index(self, reply: Reply | None = None) -> int:
        """Where the reply being written (or `reply`) is in `messages` (-1: not there)."""
        reply = reply or self.reply
        if reply is None:
            return -1
        if self.store is None:  # messages that are not stored have no ids: the reply is the last one
            return len(self.messages) - 1
        return next((i for i, m in enumerate(self.messages) if m.id == reply.record), -1)

    def show_arrived(self) -> bool:
        """Move what arrived into the reply's shown text; True if anything did."""
        reply = self.reply
        if reply is None or not reply.take_arrived():
            return False
        index = self.reply_index()
        if index >= 0:
            self.messages[index] = self._live(self.messages[index])
        return True

    def save_reply(self, force: bool = False, every: float = 1.0) -> None:
        """Write the reply's text if it changed, at most every `every` seconds (or now)."""
        reply = self.reply
        now = time.monotonic()
        if reply is None or not reply.unsaved or not (force or now - reply.persisted >= every):
            return
        if self.store is not None and reply.record and reply.parts:  # with the tool calls made so far
            parts = text_parts(reply.content, reply.reasoning) + tuple(reply.parts)
            self.store.update_message(reply.record, parts=parts)
        elif self.store is not None and reply.record:
            self.store.update_message(reply.record, content=reply.content, reasoning=reply.reasoning)
        reply.persisted = now
        reply.unsaved = False

    def name_reply_model(self, name: str) -> bool:
        """A reply sent while its model was still loading gets the model's name once it is loaded."""
        index = self.reply_index()
        if index < 0 or self.messages[index].model:
            return False
        self.messages[index] = replace(self.messages[index], model=name)
        if self.store is not None and self.reply is not None:
            self.store.update_message(self.reply.record, model=name)
        return True

    def finish_reply(self, done: Done) -> Message | None:
        """The reply is complete: saved with its stats; returns it as it now is (None without a reply)."""
        reply, self.reply = self.reply, None
        if reply is None:
            return None
        reply.take_arrived()
        stats = stats_of(done)
        what_if, self.what_if = self.what_if, None
        content = (what_if.prefix if what_if else "") + done.text if done.text or what_if else reply.content
        reasoning = done.reasoning or reply.reasoning
        kept: tuple[Part, ...] = (TokenProbsPart(probs_to_json(done.probs)),) if done.probs else ()
        kept = ((what_if.part(done.probs),) if what_if is not None else kept) + tuple(reply.parts)  # tool calls too
        if self.store is not None and reply.record and kept:
            self.store.update_message(reply.record, parts=text_parts(content, reasoning) + kept, stats=stats,
                                      complete=True)
        elif self.store is not None and reply.record:
            self.store.update_message(reply.record, content=content, stats=stats, complete=True, reasoning=reasoning)
        settled = self._settle(reply, content, reasoning, stats=stats, complete=True, error="")
        return self._with_parts(reply, settled, settled.parts + kept) if settled is not None and kept else settled

    def _with_parts(self, reply: Reply, settled: Message | None, parts: tuple[Part, ...]) -> Message | None:
        if settled is not None:
            settled = self.messages[self.reply_index(reply)] = replace(settled, parts=parts)
        return settled

    def fail_reply(self, error: str) -> Message | None:
        """The reply stopped early (an error, Stop, or the app closing): what arrived is kept with `error`."""
        reply, self.reply, self.what_if = self.reply, None, None
        if reply is None:
            return None
        reply.take_arrived()
        parts = text_parts(reply.content, reply.reasoning) + tuple(reply.parts)  # the tool calls made so far stay
        if self.store is not None and reply.record:
            self.store.update_message(reply.record, parts=parts, complete=False, error=error)
        settled = self._settle(reply, reply.content, reply.reasoning, complete=False, error=error)
        return self._with_parts(reply, settled, parts) if reply.parts else settled

    def _settle(self, reply: Reply, content: str, reasoning: str, **values: Any) -> Message | None:
        index = self.reply_index(reply)
        if index < 0:
            return None
        self.messages[index] = replace(self.messages[index].with_text(content, reasoning), **values)
        return self.messages[index]

    def take(self, event: object) -> Message | None:
        """One engine event for the reply being written, shown at once (the CLI's and the API server's loop,
        which have no timer); a Done or an Error ends the reply and returns it."""
        reply = self.reply
        if reply is None:
            return None
        if isinstance(event, Token):
            if event.reasoning:
                reply.add_reasoning(event.reasoning, event.n_tokens, time.monotonic())
            reply.add_text(event.text, event.n_tokens)
            self.show_arrived()
        elif isinstance(event, Done):
            return self.finish_reply(event)
        elif isinstance(event, Error):
            return self.fail_reply(event.message)
        return None

    # ------------------------------------------------------------ alternatives

    def alternatives(self, message_id: int) -> list[int]:
        """The ids of the message and its siblings at its turn, oldest first."""
        if self.store is None:
            return [message_id]
        return [s.id for s in self.store.alternatives(message_id)]

    def show_alternative(self, message_id: int, step: int) -> bool:
        """‹ or ›: show the previous or next alternative at this turn; the conversation continues from it."""
        ids = self.alternatives(message_id)
        index = ids.index(message_id) + step if message_id in ids else -1
        if not 0 <= index < len(ids) or self.store is None:
            return False
        self.store.select_alternative(ids[index])
        self.reload()
        return True


def with_attached(history: list[ChatMessage], draft: str, images: tuple[bytes, ...],
                  writing: bool = False) -> tuple[list[ChatMessage], str]:
    """What the meter counts: the history and the draft (none while a reply is being written); with
    pictures attached, exactly the message Send will add (its text, then its pictures: Conversation.add_user), so the
    count before sending equals the count after."""
    if writing:
        return history, ""
    if not images:
        return history, draft
    return [*history, ChatMessage("user", draft.strip() + IMAGE_MARKER * len(images), images=images)], ""
