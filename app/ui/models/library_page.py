"""The Models page: every local GGUF with its header facts; import, delete, reveal, chat."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

from app import paths
from app.engine.engine_choice import EngineUse
from app.formatting import human_bytes
from app.library import demo_model
from app.library.architectures import architecture_problem
from app.library.gguf_info import GGUFFileError, format_params
from app.library.library import LocalModel, hf_cache_dir
from app.library.model_import import ModelImportError, import_model, in_hearth_folder, remove_from_hearth
from app.library.model_kind import file_template_words, kind_words
from app.ui import file_dialogs
from app.ui.models.import_dialog import ask_import_method
from app.ui.plain_text import as_html
from app.ui.tasks import BackgroundTasks
from app.ui.widgets.table_model import TableModel, make_table

HEADERS = ["Model", "Architecture", "Parameters", "Quant", "Context", "Size", "Chat template", "Where"]


def place_of(path: Path) -> str:
    """Where a model file lives, in words: Hearth's folder, the Hugging Face cache, or its folder."""
    if paths.models_dir(create=False) in path.parents:
        return "Hearth"
    if hf_cache_dir() in path.parents:
        return "Hugging Face cache"
    return str(path.parent)


def projector_words(owner: str | None) -> str:
    """The Where column of a projector's row: which model it belongs to (never a chat model alone)."""
    return f"image projector for {owner}" if owner else "image projector: no vision model beside it"


def with_projectors_after_models(models: list[LocalModel]) -> list[LocalModel]:
    """The list with each paired projector's row right after its model's (the pair reads as one)."""
    paired = {m.projector_of: m for m in models if m.is_projector and m.projector_of is not None}
    owners = {m.path for m in models if m.info is not None}
    ordered: list[LocalModel] = []
    for m in models:
        if m.is_projector and m.projector_of in owners:
            continue
        ordered.append(m)
        if m.path in paired:
            ordered.append(paired[m.path])
    return ordered


class LibraryPage(QWidget):
    open_in_chat = Signal(str)
    library_changed = Signal()
    extra_folder_added = Signal(str)

    def __init__(self, tasks: BackgroundTasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        # what runs a model (architecture, path): set by EngineRuntimes; the engine row of the load settings
        self.engine_use: Callable[[str, str], EngineUse] | None = None
        self._shown: list[LocalModel] = []
        self._notice = ""  # the last action's outcome (an import, a delete): kept ahead of the scan's summary
        self.setAcceptDrops(True)
        self.models: TableModel[LocalModel] = TableModel(HEADERS, self)
        self.table = make_table(self.models, "Local models")
        self.message = QLabel("Drop a .gguf file here to import it.")
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.chat_button = QPushButton("Open in chat")
        self.import_button = QPushButton("Import…")
        self.folder_button = QPushButton("Add folder…")
        self.reveal_button = QPushButton("Show in folder")
        self.delete_button = QPushButton("Delete…")
        self.chat_button.setToolTip("Load this model and start a new chat")
        self.import_button.setToolTip("Copy, move or link a GGUF file into Hearth's models folder")
        self.folder_button.setToolTip("Also list the GGUF files in another folder")
        self.reveal_button.setToolTip("Open the folder that holds this model")
        self.delete_button.setToolTip("Delete this model from disk (models in Hearth's folder only)")
        buttons = QHBoxLayout()
        for b in (self.chat_button, self.import_button, self.folder_button, self.reveal_button, self.delete_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        self.chat_button.clicked.connect(self._chat)
        self.table.doubleClicked.connect(lambda _i: self._chat())
        self.import_button.clicked.connect(self._import_dialog)
        self.folder_button.clicked.connect(self._add_folder)
        self.reveal_button.clicked.connect(self._reveal)
        self.delete_button.clicked.connect(self._delete)

    def refresh_engines(self) -> None:
        """The configured llama-server changed: say again which models it runs."""
        self.set_models(self._shown)

    def set_models(self, models: list[LocalModel]) -> None:
        self._shown = list(models)
        rows: list[tuple[list[str], LocalModel]] = []
        tips: dict[tuple[int, int], str] = {}
        unknown: list[str] = []  # the sentence for each model whose architecture this llama.cpp does not know
        names = {m.path: m.info.display_name for m in models if m.info is not None}
        for m in with_projectors_after_models(models):
            if m.is_projector:  # a vision model's part, listed so that it is not a mystery file
                owner = names.get(m.projector_of) if m.projector_of else None
                tips[(len(rows), 7)] = f"Image projector for {owner}" if owner else \
                    "Image projector: no vision model beside it to pair with"
                rows.append(([m.path.name, "clip · image projector", "—", "—", "—", human_bytes(m.path.stat().st_size)
                              if m.path.exists() else "—", "—", projector_words(owner)], m))
                continue
            if m.info is None:
                rows.append(([m.path.name, "—", "—", "—", "—", human_bytes(m.path.stat().st_size)
                              if m.path.exists() else "—", "—", f"unreadable: {m.problem}"], m))
                continue
            i = m.info
            where = " · ".join(dict.fromkeys(place_of(p) for p in m.locations))  # one row, every place
            if m.copies:
                where = f"{len(m.locations)} places: {where}"
            parts = f" ({len(i.shard_paths)} parts)" if len(i.shard_paths) > 1 else ""
            demo = ""
            if demo_model.is_demo(m.path):  # a short mark in the name; the whole label where there is room
                demo, where = " · demo", f"Hearth · {demo_model.LABEL} · licence {demo_model.LICENSE}"
            tips[(len(rows), 0)] = "\n".join(p for p in (f"Name in the file: {i.name}" if i.name else "",
                                                          *map(str, m.locations)) if p)
            tips[(len(rows), 6)] = f"Chat template: {file_template_words(i)}"
            arch = i.architecture
            if problem := architecture_problem(arch):
                use = self.engine_use(arch, str(m.path)) if self.engine_use is not None else None
                sentence = use.sentence if use is not None and use.runtime is not None else f"{problem}."
                unknown.append(f"{i.display_name}: {sentence}")
                tips[(len(rows), 1)], arch = sentence, f"{arch} · unknown to this llama.cpp"
            elif self.engine_use is not None:
                tips[(len(rows), 1)] = self.engine_use(arch, str(m.path)).sentence
            tips[(len(rows), 7)] = "\n".join(map(str, m.locations))
            sees = ""
            if m.projector is not None:
                sees = " · sees images"
                tips[(len(rows), 0)] += f"\nSees images with its projector {m.projector.name}"
            rows.append(([i.display_name + parts + demo + sees, arch, format_params(i.n_params), i.quantization,
                          f"{i.context_length:,}", human_bytes(i.size_bytes),
                          kind_words(i) or file_template_words(i), where], m))
        self.models.set_rows(rows, tips)
        if not rows:
            self.message.setText("No models yet. Get one from Discover, or drop a .gguf file here to import it.")
        else:
            demo = " The demo model is a 135M model for trying Hearth, not for real answers (licence " \
                f"{demo_model.LICENSE}); better ones are in Discover." if any(
                    demo_model.is_demo(m.path) for m in models) else ""
            count = sum(1 for m in models if not m.is_projector)  # a projector is a model's part
            self.message.setText(f"{count} model{'s' if count != 1 else ''}. "
                                 f"Drop a .gguf file here to import it.{demo}")
        if unknown:
            hint = [] if any("will run it" in line for line in unknown) else [
                "A newer llama-server can run it: File → Engine runtimes."]
            self.message.setText(" ".join([self.message.text(), *unknown, *hint]))
        problem = demo_model.install_problem()  # one small file read
        if problem:
            self.message.setText(self.message.text() + f" The demo model could not be installed: {problem}")
        if self._notice:  # a rescan (often the one the action started) must not hide what the action did
            self.message.setText(f"{self._notice} {self.message.text()}")

    def set_scanning(self, done: int, total: int) -> None:
        """Shown while a scan runs: the list above is the last known one until it ends."""
        if done < total:
            self.message.setText(" ".join(filter(None, [self._notice, f"Scanning models… {done} of {total}"])))

    def selected(self) -> LocalModel | None:
        index = self.table.currentIndex()
        return self.models.item(index.row()) if index.isValid() else None

    def _chat(self) -> None:
        model = self.selected()
        if model is not None and model.is_projector:  # never a chat model alone: say so, and what to open
            owner = f" ({model.projector_of.name})" if model.projector_of is not None else ""
            self._say(f"{model.path.name} is an image projector, a part of a vision model: "
                                 f"open its model{owner} in a chat, and the projector comes with it.")
        elif model is not None and model.info is not None:
            self.open_in_chat.emit(str(model.path))

    def _say(self, text: str) -> None:
        """Show an action's outcome; later scans keep it ahead of their summary until the next action."""
        self._notice = text
        self.message.setText(text)

    def _import_dialog(self) -> None:
        path = file_dialogs.open_file(self, "model", "Import a GGUF model", "GGUF models (*.gguf)")
        if path:
            self.import_file(path)

    def import_file(self, path: str) -> None:
        """Ask copy, move or link, then bring the file in off the GUI thread."""
        method = ask_import_method(Path(path), self)
        if method is None:
            self._say(f"Import of {Path(path).name} cancelled.")
            return
        self._say(f"Importing {Path(path).name} ({method.value})…")

        def failed(error: Exception) -> None:
            if isinstance(error, OSError):
                text = error.strerror or str(error)
            elif isinstance(error, (GGUFFileError, ModelImportError)):
                text = str(error)
            else:
                text = f"Import failed: {error}"
            self._say(f"Could not import {Path(path).name}: {text}")

        def imported(result) -> None:
            done = {"copy": "Copied", "move": "Moved", "link": "Linked"}[method.value]
            self._say(f"{done} {Path(result).name} into Hearth's models folder.")
            self.library_changed.emit()

        stop = self.tasks.cancel_requested
        self.tasks.run(lambda: import_model(Path(path), method, stop), imported, failed)

    def _add_folder(self) -> None:
        folder = file_dialogs.choose_folder(self, "model-folder", "Add a folder of GGUF models")
        if folder:
            self.extra_folder_added.emit(folder)

    def _reveal(self) -> None:
        model = self.selected()
        if model is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(model.path.parent)))

    def _delete(self) -> None:
        model = self.selected()
        if model is None:
            return
        ours = [p for p in model.locations if in_hearth_folder(p)]
        others = [p for p in model.locations if p not in ours]
        if not ours:
            QMessageBox.information(self, "Delete model", as_html("Hearth only deletes models in its own folder. "
                                    f"This one lives in {model.path.parent}; remove it there."))
            return
        stays = f" The copy in {others[0].parent} stays." if others else ""
        answer = QMessageBox.question(self, "Delete model", as_html(
            f"Delete {model.name} ({human_bytes(model.size_bytes)}) from Hearth's folder?{stays}"))
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            for location in ours:
                remove_from_hearth(location)
        except OSError as exc:
            self._say(f"Could not delete {model.path.name}: {exc}")
            return
        self._say(f"Deleted {model.name}.")
        self.library_changed.emit()

    # drag and drop
    def dragEnterEvent(self, event) -> None:
        if any(u.toLocalFile().lower().endswith(".gguf") for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        for url in event.mimeData().urls():
            if url.toLocalFile().lower().endswith(".gguf"):
                self.import_file(url.toLocalFile())
