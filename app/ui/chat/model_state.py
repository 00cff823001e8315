"""One truth about the chat's model: the line under the picker says whether the model it shows is
the one the engine holds, Send loads the shown model first when it is not, and Eject frees it.

No widgets of its own: it drives the page's LoadSettings from the engine service's state.
GUI thread only.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from app import model_defaults
from app.engine.protocol import ModelInfo
from app.engine.sampling import SamplingParams
from app.settings import Settings
from app.ui.chat.model_line import ejected_line, loaded_line, not_loaded_line
from app.ui.chat.chat_session import ChatSession
from app.ui.widgets.load_settings import LoadSettings


class ModelState(QObject):
    def __init__(self, load_settings: LoadSettings, session: ChatSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.load_settings = load_settings
        self.session = session
        self.engine = session.engine
        self.by_compare = False  # the model on the engine now was loaded by the Compare view

    @property
    def loading(self) -> bool:
        """A load the chat page asked for is under way (the chat's session waits for it)."""
        return self.session.loading

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

    def is_loaded_as(self, options) -> bool:
        """The engine already holds this model with these settings: loading it again would only cost time
        (and the prompt cache)."""
        return not self.loading and self.engine.info is not None and self.engine.loaded_options == options

    def show(self, info: ModelInfo | None = None) -> None:
        """Say what the engine holds (`info`, when it has just said so), for the model the picker shows
        (nothing while a load runs)."""
        if self.loading:
            return
        info = info or self.engine.info
        if self.shown_is_loaded(info):
            self.load_settings.show_state(loaded_line(info, self.by_compare, self.load_settings.header(info.path)),
                                          loaded=True)
        elif self.load_settings.current_path():
            self.load_settings.show_state(not_loaded_line(self.load_settings.picker.currentText(), info),
                                          loaded=info is not None)
        else:
            self.load_settings.show_state("", loaded=info is not None)

    def reset_to_defaults(self, defaults: dict) -> SamplingParams:
        """The load settings the shown model was last used with (Hearth's for a new one); its sampling."""
        path = self.load_settings.current_path()
        values = model_defaults.load_values(defaults, path)
        if values is None:
            fresh = Settings()
            values = {name: getattr(fresh, name) for name in model_defaults.LOAD_FIELDS}
        self.load_settings.apply_load_values(values)
        return model_defaults.sampling(defaults, path) or SamplingParams()

    def show_failed(self, message: str) -> None:
        self.load_settings.show_state(f"Could not load the model: {message}", loaded=False, error=True)

    def show_ejected(self, info: ModelInfo, freed_bytes: int) -> None:
        self.by_compare = False
        self.load_settings.show_state(ejected_line(info, freed_bytes), loaded=False)
