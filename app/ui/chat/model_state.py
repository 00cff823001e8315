"""The chat page's model: which model the picker shows and which one the engine holds, loading,
ejecting, and what each model was last used with.

One truth: the line under the picker says whether the model it shows is the one the engine
holds; Send, Regenerate and Edit load the shown model first when it is not (`load_shown`);
the same options already loaded mean no reload, so the prompt cache is kept. Loads go
through a ModelLoad (app/ui/model_load.py), the controller Compare's columns use too, so a
load is told apart from Compare's by its job id.

No widgets of its own: it drives the page's LoadSettings from the engine service's state.
GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app import model_defaults
from app.engine.protocol import Done, LoadOptions, ModelInfo
from app.engine.sampling import SamplingParams
from app.ui.chat.chat_session import ChatSession
from app.ui.chat.model_line import ejected_line, loaded_line, not_loaded_line
from app.ui.model_load import ModelLoad
from app.ui.widgets.load_settings import LoadSettings


class ModelState(QObject):
    loaded = Signal(object)  # ModelInfo: a load the chat asked for finished (after the line says so)
    followed = Signal(object)  # ModelInfo: someone else (Compare) loaded a model; the picker shows it now
    failed = Signal(str)  # a load the chat asked for failed
    ejected = Signal()  # the engine holds no model now (Eject)

    def __init__(self, load_settings: LoadSettings, session: ChatSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.load_settings = load_settings
        self.session = session
        self.engine = session.engine
        self.loads = ModelLoad(self.engine, self)
        self.defaults: dict = {}  # settings.model_defaults: what each model was last used with (the window saves it)
        self.by_compare = False  # the model on the engine now was loaded by the Compare view
        self.engine_path_shown = ""  # the model the chat itself last loaded (cleared when ejected)
        self._then: Callable[[], None] | None = None  # what to do once the chat's latest load finishes

        load_settings.load_requested.connect(self.load)
        load_settings.eject_requested.connect(self.loads.eject)
        load_settings.model_chosen.connect(self._on_model_chosen)
        self.loads.progress.connect(load_settings.show_progress)
        self.loads.loaded.connect(self._on_loaded)
        self.loads.failed.connect(self._on_failed)
        self.loads.others_loaded.connect(self._on_others_loaded)
        self.loads.others_failed.connect(lambda _message: self.show())  # the engine may hold no model now
        self.engine.reloaded.connect(self.show)  # loaded again after a crash: same line, with any new note
        self.engine.ejected.connect(self._on_ejected)
        self.engine.sequences_changed.connect(load_settings.plan_view.set_sequences)  # API server on or off

    @property
    def loading(self) -> bool:
        """A load the chat page asked for is under way (the chat's session waits for it)."""
        return self.loads.loading

    def shown_is_loaded(self, info: ModelInfo | None = None) -> bool:
        """The engine holds the model the picker shows (or the picker shows none)."""
        info = info or self.engine.info
        path = self.load_settings.current_path()
        if info is None:
            return False
        model = self.load_settings.current_model()  # the row may list the same file in several places
        return not path or info.path == path or (model is not None and Path(info.path) in model.locations)

    def needs_load(self) -> bool:
        """Sending now would need the shown model loaded first."""
        return bool(self.load_settings.current_path()) and not self.loading and not self.shown_is_loaded()

    # ------------------------------------------------------------ loading

    def load(self, options: LoadOptions, then: Callable[[], None] | None = None) -> None:
        """Load with these options, unless the engine holds the model with them already (then nothing is
        reloaded and the prompt cache stays). `then` runs once the model is loaded (at once when it is);
        a load that fails or is replaced by a later one drops it."""
        job = self.loads.ensure(options)
        self._then = then if job else None  # a later load replaces an earlier one's `then` too
        if not job:  # picking the loaded model again changes nothing
            self.show()
            if then is not None:
                then()
            return
        self.session.loading = True
        self.load_settings.show_loading(options.path.rsplit("/", 1)[-1])

    def load_path(self, path: str, then: Callable[[], None] | None = None) -> None:
        """Choose the model at `path` with the load settings shown and load it."""
        self.load_settings.select_path(path)
        self.load(self.load_settings.options(path), then)

    def load_shown(self) -> None:
        """Before Send, Regenerate and Edit: load the model the picker shows when the engine holds another."""
        if self.needs_load() and not self.session.streaming:
            self.load(self.load_settings.options())

    def _on_loaded(self, info: ModelInfo) -> None:
        then, self._then = self._then, None
        self.by_compare = False
        self.engine_path_shown = info.path
        self.show(info)
        self.loaded.emit(info)
        if then is not None:
            then()

    def _on_others_loaded(self, info: ModelInfo) -> None:
        # Compare's model: this chat does not remember it. The chat's own model loaded again from outside
        # the page (the API server switched on or off gives it another sequence count) stays the chat's.
        self.by_compare = self.by_compare or self.engine_path_shown != info.path
        if not self.loading:  # the picker follows the engine (a pick of the user's own waits its turn)
            self.load_settings.select_path(info.path)
        self.show(info)
        self.followed.emit(info)

    def _on_failed(self, message: str) -> None:
        self._then = None
        self.session.loading = False
        self.load_settings.show_state(f"Could not load the model: {message}", loaded=False, error=True)
        self.failed.emit(message)

    def _on_ejected(self, info: ModelInfo, freed_bytes: int) -> None:
        self.by_compare = False
        self.engine_path_shown = ""
        self.load_settings.show_state(ejected_line(info, freed_bytes), loaded=False)
        self.ejected.emit()

    # ------------------------------------------------------------ the line under the picker

    def show(self, info: ModelInfo | None = None) -> None:
        """Say what the engine holds (`info`, when it has just said so), for the model the picker shows
        (nothing while a load runs)."""
        if self.loading:
            return
        info = info or self.engine.info
        shown = info is not None and self.shown_is_loaded(info)
        self.load_settings.plan_view.show_measured(info if shown else None)  # measured beside the plan
        if info is not None and shown:
            self.load_settings.show_state(loaded_line(info, self.by_compare, self.load_settings.header(info.path)),
                                          loaded=True)
        elif self.load_settings.current_path():
            self.load_settings.show_state(not_loaded_line(self.load_settings.picker.currentText(), info),
                                          loaded=info is not None)
        else:
            self.load_settings.show_state("", loaded=info is not None)

    # ------------------------------------------------------------ what each model was last used with

    def _on_model_chosen(self, path: str) -> None:
        values = model_defaults.load_values(self.defaults, path)
        if values is not None:
            self.load_settings.apply_load_values(values)
        self.show()

    def remember_load(self, path: str) -> None:
        """The load settings shown now become `path`'s (after the chat loaded it)."""
        model_defaults.remember_load(self.defaults, path, self.load_settings.load_values())

    def remember_sampling(self, done: Done) -> None:
        if self.engine.info is not None and done.sampling is not None:
            model_defaults.remember_sampling(self.defaults, self.engine.info.path, done.sampling)

    def sampling_for_new_chat(self) -> SamplingParams | None:
        """The sampling the shown model was last used with, or None."""
        return model_defaults.sampling(self.defaults, self.load_settings.current_path())

    def reset_to_defaults(self) -> SamplingParams:
        """The load settings the shown model was last used with (Hearth's for a new one); its sampling."""
        path = self.load_settings.current_path()
        values = model_defaults.load_values(self.defaults, path) or model_defaults.hearth_load_values()
        self.load_settings.apply_load_values(values)
        return model_defaults.sampling(self.defaults, path) or SamplingParams()
