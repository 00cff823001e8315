"""The Compare view's controller: one prompt to 2–4 columns, each a conversation with its own model.

No widgets. Each column is a ChatSession on a conversation of its own (a chat row that
belongs to the comparison). How the columns run comes from compare_plan: one at a time
on the window's engine (a model is loaded, answers, and the next one replaces it, so two
models are never held at once), or together, each on an engine process of its own.
A column that fails (load error, crash) says so and the others carry on; Stop stops all.
GUI thread only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal

from app.compare_plan import ColumnNeed, RunPlan, plan
from app.engine import SamplingParams
from app.engine.protocol import Done, ErrorKind, LoadOptions, ModelInfo, StopReason
from app import model_defaults
from app.formatting import short_title
from app.model_defaults import LOAD_FIELDS
from app.store import ConversationStore
from app.store.pending_writes import WRITE_ERRORS, PendingWrites, describe_write_error
from app.store.comparisons import ColumnRecord, Comparisons, ComparisonRecord
from app.ui.chat.chat_session import ChatSession
from app.ui.compare import column_stats
from app.ui.services import EngineService

MAX_COLUMNS = 4


@dataclass
class Column:
    record: ColumnRecord
    session: ChatSession
    state: str = "idle"  # idle, waiting, loading, writing, done, failed, stopped
    message: str = ""  # what the column says under its header (an error, "waiting for column 1")
    info: ModelInfo | None = None
    stats: dict = field(default_factory=dict)  # the last reply's, see column_stats.reply_stats


class CompareController(QObject):
    columns_changed = Signal()  # columns added, removed or another comparison opened: rebuild the view
    column_changed = Signal(int)  # a column's state, message or stats changed
    plan_changed = Signal(object)  # RunPlan
    busy_changed = Signal(bool)
    used = Signal(str, dict, object)  # a column's reply finished: model path, load values, SamplingParams
    notice = Signal(str)  # why a prompt was not sent
    saved_changed = Signal()  # the list of saved comparisons changed (a title, a new one, a deletion)
    save_problem = Signal(str, bool)  # what waits for the disk (the chat's writes too), whether Retry can help

    def __init__(self, store: PendingWrites | ConversationStore, engine: EngineService,
                 make_engine: Callable[[], EngineService], need_of: Callable[[str, int], ColumnNeed],
                 free_memory: Callable[[], tuple[int, int]], parent: QObject | None = None) -> None:
        """`make_engine` makes an extra engine for running together; `need_of(path, n_ctx)` estimates a
        column's memory; `free_memory()` gives (free RAM, free VRAM) from the last machine probe."""
        super().__init__(parent)
        # the window's one write queue: the columns' messages wait in it with the chat's on a full disk
        self.store = store if isinstance(store, PendingWrites) else PendingWrites(store)
        self.saved = Comparisons(self.store)
        self.store.listen(lambda problem: self.save_problem.emit(problem, not self.store.read_only))
        self.engine = engine  # the window's: one-at-a-time runs here, and the first column when together
        self._make_engine = make_engine
        self._need_of = need_of
        self._free_memory = free_memory
        self.extra_engines: list[EngineService] = []
        self.comparison: ComparisonRecord | None = None
        self.columns: list[Column] = []
        self.run_mode = "auto"
        self._queue: list[Column] = []  # one at a time: the columns still to run
        self._loading: dict[int, Column] = {}  # id(engine) -> the column whose model it is loading
        # id(engine) -> the column whose model this controller loaded there last, and how; dropped when
        # another column or someone else (the chat page) loads there
        self._holding: dict[int, tuple[Column, LoadOptions]] = {}
        self._prompt = ""
        self._stopped = False
        self.engine_in_use: Callable[[], str] = lambda: ""  # why the window's engine is busy elsewhere, or ""

    # ------------------------------------------------------------ comparisons

    def new(self, model_paths: list[str], defaults: Callable[[str], tuple[dict, SamplingParams]]) -> None:
        """A new comparison with a column per model; `defaults(path)` gives its load values and sampling."""
        self._drop_if_empty()
        try:
            record = self.saved.create(run_mode=self.run_mode)
            for path in model_paths[:MAX_COLUMNS]:
                load, sampling = defaults(path)
                self.saved.add_column(record.id, path, load, sampling.to_dict())
        except WRITE_ERRORS as exc:  # a full disk: nothing half-made is shown, and the page says why
            self.notice.emit(f"Could not start a comparison: {describe_write_error(exc)}")
            return
        self.open(record.id)
        self.saved_changed.emit()

    def open(self, comparison_id: int) -> bool:
        record = self.saved.get(comparison_id)
        if record is None or self.busy:
            return False
        if self.comparison is not None and self.comparison.id != comparison_id:
            self._drop_if_empty()
        self.comparison = record
        self.run_mode = record.run_mode
        for column in self.columns:  # the sessions of the comparison shown before go with it
            column.session.deleteLater()
        self.columns = []
        for column in record.columns:
            self.columns.append(self._column(column))
        self.columns_changed.emit()
        self.plan_changed.emit(self.plan())
        return True

    def _column(self, record: ColumnRecord) -> Column:
        session = ChatSession(self.store, self.engine, self)
        session.open(record.chat_id)
        column = Column(record, session)
        if record.sampling:
            session.sampling = SamplingParams.from_dict(record.sampling)
        session.reply_finished.connect(lambda done, c=column: self._on_reply_finished(c, done))
        session.reply_failed.connect(lambda kind, message, c=column: self._on_reply_failed(c, kind, message))
        column.stats = column_stats.last_stats(self.store.messages(record.chat_id))
        return column

    def _drop_if_empty(self) -> None:
        """A comparison left before any prompt was sent is not kept (nor deleted while writes wait)."""
        if self.comparison is not None and not self.store.pending and \
                not any(c.session.messages.rowCount() for c in self.columns):
            if self._saved(lambda: self.saved.delete(self.comparison.id), "the comparison's removal"):
                self.comparison = None

    def _saved(self, write: Callable[[], object], what: str) -> bool:
        """A write of the comparisons table (straight to disk: not message rows, so no ids are at stake);
        False, and a notice, when the disk refuses it."""
        try:
            write()
        except WRITE_ERRORS as exc:
            self.notice.emit(f"Could not save {what}: {describe_write_error(exc)}")
            return False
        return True

    def add_column(self, path: str, load: dict, sampling: SamplingParams) -> bool:
        if self.comparison is None or len(self.columns) >= MAX_COLUMNS or self.busy:
            return False
        try:
            record = self.saved.add_column(self.comparison.id, path, load, sampling.to_dict())
        except WRITE_ERRORS as exc:
            self.notice.emit(f"Could not add a column: {describe_write_error(exc)}")
            return False
        self.comparison.columns.append(record)
        self.columns.append(self._column(record))
        self.columns_changed.emit()
        self.plan_changed.emit(self.plan())
        return True

    def remove_column(self, index: int) -> bool:
        if self.comparison is None or self.busy or len(self.columns) <= 1:
            return False
        if self.store.pending or not self._saved(
                lambda: self.saved.remove_column(self.comparison.id, self.columns[index].record.chat_id), "the columns"):
            return False  # (with writes waiting, its messages may be among them)
        column = self.columns.pop(index)
        self.comparison.columns = [c.record for c in self.columns]
        column.session.deleteLater()
        self.columns_changed.emit()
        self.plan_changed.emit(self.plan())
        return True

    def configure_column(self, index: int, path: str, load: dict, sampling: SamplingParams) -> None:
        """The column header's model, load settings and sampling (saved with the comparison)."""
        column = self.columns[index]
        column.record.model_path, column.record.load = path, {k: load[k] for k in LOAD_FIELDS if k in load}
        column.record.sampling = sampling.to_dict()
        column.session.set_sampling(sampling)
        self._saved(lambda: self.saved.save_columns(self.comparison.id, [c.record for c in self.columns]),
                    "the column's settings")  # kept in memory for this session either way
        self.column_changed.emit(index)
        self.plan_changed.emit(self.plan())

    def set_run_mode(self, mode: str) -> None:
        self.run_mode = mode
        if self.comparison is not None:
            self._saved(lambda: self.saved.update(self.comparison.id, run_mode=mode), "how the columns run")
        self.plan_changed.emit(self.plan())

    def rename(self, title: str) -> None:
        if self.comparison is not None and title.strip():
            self.comparison.title = title.strip()
            self._saved(lambda: self.saved.update(self.comparison.id, title=title.strip()), "the title")
            self.saved_changed.emit()

    def retry_saving(self) -> bool:
        """Write what waits in the window's queue (the columns' replies and the chat's); True when all is."""
        for column in self.columns:
            column.session.flush_pending()
        return self.store.retry()

    def delete(self) -> None:
        if self.store.pending:  # its columns' messages may be among them: Retry could never write them
            self.notice.emit("Some messages are still waiting to be saved: press Retry, then delete.")
            return
        if self.comparison is not None and not self.busy and \
                self._saved(lambda: self.saved.delete(self.comparison.id), "the comparison's removal"):
            self.comparison, self.columns = None, []
            self.columns_changed.emit()
            self.saved_changed.emit()

    # ------------------------------------------------------------ running

    @property
    def busy(self) -> bool:
        return any(c.state in ("waiting", "loading", "writing") for c in self.columns)

    def options(self, column: Column) -> LoadOptions:
        return model_defaults.load_options(column.record.model_path, column.record.load)

    def plan(self) -> RunPlan:
        needs = [self._need_of(c.record.model_path, self.options(c).n_ctx) for c in self.columns
                 if c.record.model_path]
        free_ram, free_vram = self._free_memory()
        # the models the engines hold now are replaced by the columns' own: their memory counts as free
        held = sum(column_stats.resident_bytes(e.client.pid) for e in [self.engine, *self.extra_engines]
                   if not e.router.is_remote and e.client.alive)
        return plan(needs, free_ram + held, free_vram, self.run_mode)

    def send(self, prompt: str) -> bool:
        """The prompt to every column; False when it cannot start (a run is under way, nothing to run)."""
        prompt = prompt.strip()
        if not prompt or not self.columns or self.busy:
            return False
        elsewhere = self.engine_in_use()
        if elsewhere:  # the chat page is loading or replying on the engine the columns start on
            self.notice.emit(f"{elsewhere} Wait for it, or stop it, then send.")
            return False
        self._prompt, self._stopped = prompt, False
        run_plan = self.plan()
        self.plan_changed.emit(run_plan)
        engines = self._engines(len(self.columns) if run_plan.together else 1)
        # run together, the column with the chat's model takes the window's engine; else all share it
        for column, engine in zip(reversed(self._chat_model_last()), engines * len(self.columns)):
            column.session.use_engine(engine)
        for column in self.columns:
            column.stats = {}  # this turn's numbers only: the marks never compare turns
            self._set(column, "waiting", "" if run_plan.together else "Waits for the columns before it.")
        if self.comparison is not None:
            with contextlib.suppress(*WRITE_ERRORS):  # its order in the list only; a full disk waits
                self.saved.touch(self.comparison.id)
            if self.comparison.title == "New comparison":
                self.rename(short_title(prompt))
        self.busy_changed.emit(True)
        if run_plan.together:
            self._queue = []
            for column in list(self.columns):
                self._start(column)
        else:
            self._queue = self._chat_model_last()
            self._next()
        return True

    def _chat_model_last(self) -> list[Column]:
        """The columns, the one that uses the model the window's engine holds last: run one at a time, it
        loads last; run together, it goes on the window's engine. Either way the chat finds its model
        still loaded afterwards."""
        held = self.engine.info.path if self.engine.info is not None else None
        return sorted(self.columns, key=lambda c: c.record.model_path == held)  # stable: the rest keep order

    def _engines(self, count: int) -> list[EngineService]:
        """The window's engine plus extra ones up to `count`; extra ones not needed are closed (memory back)."""
        while len(self.extra_engines) < count - 1:
            engine = self._make_engine()
            self._watch(engine)
            self.extra_engines.append(engine)
        while len(self.extra_engines) > count - 1:
            self.extra_engines.pop().shutdown(1.0)
        return [self.engine] + self.extra_engines

    def watch_engine(self) -> None:
        """Called once by the composition root: the window's engine reports loads here too."""
        self._watch(self.engine)

    def _watch(self, engine: EngineService) -> None:
        engine.loaded.connect(lambda _job_id, info: self._on_loaded(engine, info))
        engine.load_failed.connect(lambda _job_id, message: self._on_load_failed(engine, message))
        engine.load_progress.connect(lambda _job_id, fraction: self._on_load_progress(engine, fraction))

    def _next(self) -> None:
        if self._queue and not self._stopped:
            self._start(self._queue.pop(0))
        elif not self.busy:
            self._queue = []
            self.busy_changed.emit(False)

    def _start(self, column: Column) -> None:
        if self._stopped:
            return self._finish(column, "stopped", "Stopped.")
        if not column.record.model_path:
            return self._finish(column, "failed", "Choose a model for this column.")
        engine = column.session.engine
        options = self.options(column)
        held = self._holding.get(id(engine))
        if engine.info is not None and engine.info.path == options.path and held is not None \
                and held[0] is column and held[1] == options:
            # loaded as this column wants it, with this column's own conversation in its cache
            return self._ask(column, engine.info)
        # Another column's model, settings or cached prompt: load afresh, so no column starts
        # with another's prompt already evaluated (its first-token time would not be comparable).
        self._holding.pop(id(engine), None)
        self._loading[id(engine)] = column
        column.session.loading = True
        self._set(column, "loading", f"Loading {self._short(options.path)}…")
        engine.load(options)

    @staticmethod
    def _short(path: str) -> str:
        return path.rsplit("/", 1)[-1].rsplit("#", 1)[-1]

    def _on_load_progress(self, engine: EngineService, fraction: float) -> None:
        column = self._loading.get(id(engine))
        if column is not None:
            self._set(column, "loading", f"Loading {self._short(column.record.model_path)}… {fraction:.0%}")

    def _on_loaded(self, engine: EngineService, info: ModelInfo) -> None:
        column = self._loading.get(id(engine))
        if column is None or info.path != column.record.model_path:
            self._holding.pop(id(engine), None)  # someone else (the chat page) loaded a model there
        else:
            del self._loading[id(engine)]
            self._holding[id(engine)] = (column, self.options(column))
            column.session.loading = False
            self._ask(column, info)

    def _on_load_failed(self, engine: EngineService, message: str) -> None:
        column = self._loading.pop(id(engine), None)
        if column is not None:
            column.session.loading = False
            self._finish(column, "failed", f"Could not load the model: {message}")

    def _ask(self, column: Column, info: ModelInfo) -> None:
        column.info = info
        if self._stopped:
            return self._finish(column, "stopped", "Stopped.")
        column.session.thinking_modes = tuple(info.thinking_modes)
        if not column.session.send(self._prompt):
            return self._finish(column, "failed", "This column could not send the prompt.")
        self._set(column, "writing", "")

    def _on_reply_finished(self, column: Column, done: Done) -> None:
        engine = column.session.engine
        pid = None if engine.router.is_remote else engine.client.pid  # a server's memory is its own
        column.stats = column_stats.reply_stats(done, column.info, column_stats.resident_bytes(pid))
        replies = [i for i in column.session.messages.items() if i.role == "assistant"]
        if replies:  # kept with the reply, so a reopened comparison shows its numbers
            column.session.store.update_message(replies[-1].record_id, stats=column.stats)
        stopped = done.stats.stop_reason == StopReason.CANCELLED
        if not stopped and column.record.model_path:  # remembered as the model's defaults (in chats too)
            self.used.emit(column.record.model_path, dict(column.record.load), column.session.sampling)
        self._finish(column, "stopped" if stopped else "done", "Stopped." if stopped else "")

    def _on_reply_failed(self, column: Column, kind: ErrorKind, message: str) -> None:
        if kind == ErrorKind.CRASHED:
            message = "the engine stopped unexpectedly (the partial reply is kept)"
        self._finish(column, "stopped" if self._stopped else "failed",
                     "Stopped." if self._stopped else f"This column stopped: {message}")

    def _finish(self, column: Column, state: str, message: str) -> None:
        self._set(column, state, message)
        if column in self.columns:
            self._next()

    def _set(self, column: Column, state: str, message: str) -> None:
        column.state, column.message = state, message
        if column in self.columns:
            self.column_changed.emit(self.columns.index(column))

    def stop(self) -> None:
        """Stop every column: the ones writing stop, the ones waiting or loading do not start."""
        if not self.busy:
            return
        self._stopped = True
        for column in list(self._queue):
            self._set(column, "stopped", "Stopped.")
        self._queue = []
        for column in self.columns:
            if column.state == "writing":
                column.session.stop()
        if not self.busy:
            self.busy_changed.emit(False)

    def shutdown(self, seconds: float = 1.0) -> bool:
        """Quitting: stop the run and close the extra engines (the window's engine is closed by its owner)."""
        for column in self.columns:
            column.session.finish_early()
        for engine in self.extra_engines:
            engine.stop()
        ended = all([engine.shutdown(seconds) for engine in self.extra_engines])
        self.extra_engines = []
        return ended
