"""One user's model loads on an engine: the chat page has one, each Compare column has one.

Every load is an engine job with an id (`EngineService.load` returns it, and `load_progress`,
`loaded` and `load_failed` carry it), so a load that finishes is known to be this user's own
latest, an earlier one of its own that a newer pick replaced, or someone else's on the same
engine (the chat page's while Compare watches, or the other way round). Nobody guesses from
flags or from the model's path any more.

The same options already loaded mean no second load: loading again would only cost time and
the prompt cache (`ensure`). Compare asks for more (`holds(options, own=True)`): the engine
must hold the model from this column's own load, so no column starts with another one's
prompt already evaluated.

No widgets. GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.engine.protocol import LoadOptions, ModelInfo
from app.ui.services import EngineService


class ModelLoad(QObject):
    started = Signal(object)  # LoadOptions: a load of this user's began
    progress = Signal(float)  # how far this user's latest load is
    loaded = Signal(object)  # ModelInfo: this user's latest load finished
    failed = Signal(str)  # this user's latest load failed: why
    others_loaded = Signal(object)  # ModelInfo: a load someone else asked for finished on this engine
    others_failed = Signal(str)  # … or failed (the engine may hold no model now)

    def __init__(self, engine: EngineService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.job = 0  # this user's latest load while it is under way (its job id), else 0
        self._replaced: set[int] = set()  # this user's earlier loads under way that a later one replaced
        self._holding = False  # the engine holds the model from this user's latest load
        self._bind(connect=True)

    def _bind(self, connect: bool) -> None:
        pairs = ((self.engine.load_progress, self._on_progress), (self.engine.loaded, self._on_loaded),
                 (self.engine.load_failed, self._on_failed), (self.engine.ejected, self._on_ejected))
        for signal, slot in pairs:
            (signal.connect if connect else signal.disconnect)(slot)

    def use_engine(self, engine: EngineService) -> None:
        """Load on another engine from now on (a Compare column moved between engines; not while loading)."""
        if engine is not self.engine and not self.loading:
            self._bind(connect=False)
            self.engine, self._holding = engine, False
            self._replaced.clear()
            self._bind(connect=True)

    # ------------------------------------------------------------ state

    @property
    def loading(self) -> bool:
        """A load of this user's is under way."""
        return self.job != 0

    def holds(self, options: LoadOptions, own: bool = False) -> bool:
        """The engine holds the model with these very options, and no load of this user's is under way;
        `own`: and it was this user's latest load that put it there (nobody else has loaded since)."""
        if self.loading or self.engine.info is None or self.engine.loaded_options != options:
            return False
        return self._holding or not own

    # ------------------------------------------------------------ asking

    def load(self, options: LoadOptions) -> int:
        """Load the model afresh (even when it is held: a clean prompt cache); the job id."""
        if self.job:
            self._replaced.add(self.job)  # its end is not this load's end
        self._holding = False
        self.job = self.engine.load(options)
        self.started.emit(options)
        return self.job

    def ensure(self, options: LoadOptions) -> int:
        """Load unless the engine holds the model with these options already; the job id, or 0 (no load)."""
        return 0 if self.holds(options) else self.load(options)

    def eject(self) -> None:
        """Free the loaded model's memory (the engine says `ejected` when done)."""
        self.engine.eject()

    # ------------------------------------------------------------ the engine's answers

    def _on_progress(self, job_id: int, fraction: float) -> None:
        if job_id == self.job:
            self.progress.emit(fraction)

    def _on_loaded(self, job_id: int, info: ModelInfo) -> None:
        if job_id == self.job:
            self.job, self._holding = 0, True
            self.loaded.emit(info)
            return
        self._holding = False  # another model (or another user's cache) replaced ours
        if job_id in self._replaced:
            self._replaced.discard(job_id)  # ours, but a newer pick is on its way: nothing to say yet
        else:
            self.others_loaded.emit(info)

    def _on_failed(self, job_id: int, message: str) -> None:
        self._holding = False  # a failed load leaves the engine without the model it held
        if job_id == self.job:
            self.job = 0
            self.failed.emit(message)
        elif job_id in self._replaced:
            self._replaced.discard(job_id)
        else:
            self.others_failed.emit(message)

    def _on_ejected(self, _info: ModelInfo, _freed: int) -> None:
        self._holding = False
