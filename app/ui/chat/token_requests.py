"""The Tokens views' questions to the engine, asked off the GUI thread (BackgroundTasks).

Each is a blocking engine call (EngineRouter.tokenize / next_tokens, thin waits on an engine job)
run on the task pool; the answer comes back on the GUI thread. An answer older than the latest
question of the same asker is dropped, so a slow answer never replaces a newer one. The draft's
tokens are asked for once typing pauses (DEBOUNCE_MS), not on every key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QTimer, Signal

from app.engine.protocol import ChatMessage, EngineError, ErrorKind, NextTokensFound, Tokenized
from app.engine.router import EngineRouter
from app.engine.token_probs import TokenChoice
from app.ui.tasks import BackgroundTasks

DEBOUNCE_MS = 250  # typing pauses this long before the draft's tokens are asked for
NO_MODEL_WORDS = "Load a model to see its tokens: each model splits text its own way."


def words_for(error: Exception) -> str:
    if isinstance(error, EngineError):
        return NO_MODEL_WORDS if error.kind == ErrorKind.NO_MODEL else error.message
    return str(error)


class TokenRequests(QObject):
    """One asker's questions (the composer's, a dialog's, a chart's): only its latest answer counts."""

    tokens = Signal(object)  # tuple of (id, bytes, special)
    candidates = Signal(object)  # tuple of TokenChoice, best first
    failed = Signal(str)  # why there is no answer, in words

    def __init__(self, tasks: BackgroundTasks, router: Callable[[], EngineRouter],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.router = router  # asked each time: the engine in use may change
        self._asked = 0
        self._draft = ""
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(lambda: self.tokenize(self._draft))

    def tokenize_soon(self, text: str) -> None:
        """The tokens of `text` once typing pauses (each call starts the wait again)."""
        self._draft = text
        self._debounce.start()

    def tokenize(self, text: str = "", messages: Sequence[ChatMessage] = (), thinking: str = "default") -> None:
        """The tokens of `text`, or of the exact prompt of `messages` (special tokens included)."""
        self._debounce.stop()
        asked = self._ask()
        router, messages = self.router(), tuple(messages)

        def answered(result: Tokenized) -> None:
            if asked == self._asked:
                self.tokens.emit(result.tokens)

        if not text and not messages:  # nothing to ask the engine
            QTimer.singleShot(0, lambda: answered(Tokenized(0, ())))
            return
        if router.info is None:  # said at once, without starting an engine process to hear it
            QTimer.singleShot(0, lambda: self._failed(asked)(EngineError(ErrorKind.NO_MODEL, "")))
            return
        self.tasks.run(lambda: router.tokenize(text, messages, thinking), answered, self._failed(asked))

    def next_tokens(self, messages: Sequence[ChatMessage], reply_tokens: Sequence[int] = (),
                    thinking: str = "default") -> None:
        """The model's 20 best next tokens after `messages` and a reply's first tokens."""
        asked = self._ask()
        router, messages, reply = self.router(), tuple(messages), tuple(reply_tokens)

        def answered(result: NextTokensFound) -> None:
            if asked == self._asked:
                found: tuple[TokenChoice, ...] = result.top
                self.candidates.emit(found)

        if router.info is None:
            QTimer.singleShot(0, lambda: self._failed(asked)(EngineError(ErrorKind.NO_MODEL, "")))
            return
        self.tasks.run(lambda: router.next_tokens(messages, reply, thinking), answered, self._failed(asked))

    def _ask(self) -> int:
        self._asked += 1
        return self._asked

    def _failed(self, asked: int) -> Callable[[Exception], None]:
        def failed(error: Exception) -> None:
            if asked == self._asked:
                self.failed.emit(words_for(error))
        return failed
