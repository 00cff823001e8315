"""The Discover page: search the Hub, pick a quantized file, read the card, download."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.formatting import human_bytes
from app.hardware import FIT_LABELS, machine_fit
from app.hub.catalog import CatalogEntry, load_catalog
from app.hub.errors import HubError, is_offline
from app.hub.quant import GGUFChoice, HubFile, is_projector_name, projector_choice
from app.hub.search import RepoSummary, list_gguf_files, read_model_card, search_models
from app.library.copies import local_copies
from app.library.model_names import repo_display_name
from app.ui.chat.markdown_view import MarkdownView
from app.ui.models.downloads import DownloadManager, DownloadsView
from app.ui.tasks import BackgroundTasks
from app.ui.widgets.table_model import TableModel, make_table

OFFLINE_TEXT = ("You are offline, so the Hugging Face Hub can't be reached. Your downloaded models and chats "
                "work as usual.")

STARTER_TEXT = {True: "New here? These small chat models are a good start:",
                False: "Starter models: small chat models that run on most computers (or search the Hub above):"}


HAVE_MARK = "already in your library"


class DiscoverPage(QWidget):
    status = Signal(str)

    def __init__(self, downloads: DownloadManager, tasks: BackgroundTasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.machine = None  # a MachineProbe once the hardware check reports
        self.downloads = downloads
        self.repo = ""
        self.local_models: list = []  # LocalModel list: files already here are marked
        self._have: dict[str, str] = {}  # choice name → the local path holding the same bytes
        self.hash_pool = QThreadPool(self)  # finding them may read a large file: apart from searches
        self.hash_pool.setMaxThreadCount(1)
        self.query = QLineEdit()
        self.query.setPlaceholderText("Search GGUF models on Hugging Face, e.g. llama 3.2 instruct")
        self.query.setAccessibleName("Search the Hub")
        self.sort = QComboBox()
        self.sort.addItem("Most downloaded", "downloads")
        self.sort.addItem("Most liked", "likes")
        self.sort.addItem("Recently updated", "recent")
        self.sort.setAccessibleName("Sort results")
        self.search_button = QPushButton("Search")
        self.message = QLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setObjectName("hubMessage")
        self.message.setWordWrap(True)

        self.repos: TableModel[RepoSummary] = TableModel(["Repository", "Downloads", "Likes", "Updated"], self)
        self.repo_table = make_table(self.repos, "Search results", stretch_column=0)
        self.files: TableModel[GGUFChoice] = TableModel(["Quant", "Size", "This computer", "File"], self)
        self.file_table = make_table(self.files, "GGUF files")
        self.download_button = QPushButton("Download")
        self.download_button.setToolTip("Download the selected file into your models folder")
        self.download_button.setEnabled(False)
        self.card = MarkdownView(grow=False)
        self.card.setAccessibleName("Model card")
        self.catalog: TableModel[CatalogEntry] = TableModel(["Starter model", "Size", "Licence", "About"], self)
        self.catalog_table = make_table(self.catalog, "Starter models")
        self.catalog_table.setMaximumHeight(190)
        self.catalog_button = QPushButton("Download starter model")
        self.catalog_box = QWidget()
        catalog_layout = QVBoxLayout(self.catalog_box)
        catalog_layout.setContentsMargins(0, 0, 0, 0)
        self.catalog_label = QLabel(STARTER_TEXT[True])
        catalog_layout.addWidget(self.catalog_label)
        catalog_layout.addWidget(self.catalog_table)
        catalog_layout.addWidget(self.catalog_button)

        top = QHBoxLayout()
        top.addWidget(self.query, 1)
        top.addWidget(self.sort)
        top.addWidget(self.search_button)
        files_box = QWidget()
        files_layout = QVBoxLayout(files_box)
        files_layout.setContentsMargins(0, 0, 0, 0)
        files_layout.addWidget(self.file_table)
        files_layout.addWidget(self.download_button)
        self.tabs = QTabWidget()
        self.tabs.addTab(files_box, "Files")
        self.tabs.addTab(self.card, "Model card")
        self.downloads_view = DownloadsView(downloads)
        self.tabs.addTab(self.downloads_view, "Downloads")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.repo_table)
        split.addWidget(self.tabs)
        split.setSizes([420, 620])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.catalog_box)
        layout.addWidget(split, 1)

        self.search_button.clicked.connect(self.search)
        self.query.returnPressed.connect(self.search)
        self.sort.currentIndexChanged.connect(lambda _i: self.search() if self.query.text() else None)
        self.repo_table.selectionModel().currentRowChanged.connect(self._on_repo)
        self.file_table.selectionModel().currentRowChanged.connect(
            lambda current, _p: self.download_button.setEnabled(current.isValid()))
        self.download_button.clicked.connect(self.download_selected)
        self.catalog_button.clicked.connect(self.download_catalog_entry)
        downloads.download_failed.connect(self.show_message)
        downloads.download_finished.connect(self._on_downloaded)
        self._fill_catalog()
        self.show_offline_state()

    def show_offline_state(self) -> None:
        if is_offline():
            self.show_message(OFFLINE_TEXT)

    def _on_downloaded(self, path: str) -> None:
        name = path.rsplit('/', 1)[-1]
        if is_projector_name(name):
            self.show_message(f"Downloaded {name}, the image projector: the model beside it sees images with it.")
            return
        self.show_message(f"Downloaded {name}: it is in your Models and in the chat's model picker.")

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def set_machine(self, probe) -> None:
        """What this computer offers (a MachineProbe): the "This computer" column follows it."""
        self.machine = probe
        self._show_files([choice for _cells, choice in self.files.rows], self._have)

    def _fit(self, size_bytes: int, quant: str = "") -> str:
        if self.machine is None:
            return "Checking…"
        return FIT_LABELS[machine_fit(size_bytes, free_vram=self.machine.free_vram, free_ram=self.machine.free_ram,
                                      quant=quant)]

    def set_first_run(self, first_run: bool) -> None:
        """The starter models stay after the first run: hidden, they left the page empty until a search."""
        self.catalog_label.setText(STARTER_TEXT[first_run])
        self.catalog_box.setVisible(bool(self.catalog.rows))

    def _fill_catalog(self) -> None:
        rows = []
        for entry in load_catalog():
            rows.append(([repo_display_name(entry.repo), f"about {human_bytes(entry.size_bytes)}", entry.licence,
                          entry.summary], entry))
        self.catalog.set_rows(rows, {(i, 0): entry.repo for i, (_cells, entry) in enumerate(rows)})
        self.catalog_box.setVisible(bool(rows))

    # ------------------------------------------------------------ search

    def show_downloads(self) -> None:
        self.tabs.setCurrentWidget(self.downloads_view)

    def search(self) -> None:
        text = self.query.text().strip()
        sort = self.sort.currentData()
        self.show_message("Searching…")
        self.search_button.setEnabled(False)
        self.tasks.run(lambda: search_models(text, sort), self._on_results, self._on_search_failed)

    def _on_search_failed(self, error: Exception) -> None:
        self.search_button.setEnabled(True)
        self.show_message(error.message if isinstance(error, HubError) else f"Search failed: {error}")

    def _on_results(self, results: list[RepoSummary]) -> None:
        self.search_button.setEnabled(True)
        self.show_message("" if results else "No GGUF repositories match that search.")
        self.repos.set_rows([
            ([r.repo_id, f"{r.downloads:,}", f"{r.likes:,}",
              r.last_modified.date().isoformat() if r.last_modified else ""], r)
            for r in results
        ])

    def _on_repo(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        repo: RepoSummary = self.repos.item(current.row())
        self.open_repo(repo.repo_id)

    def open_repo(self, repo_id: str) -> None:
        self.repo = repo_id
        self.files.set_rows([])
        self.download_button.setEnabled(False)
        self.card.set_markdown("Loading the model card…")
        self.tasks.run(lambda: list_gguf_files(repo_id), lambda files: self._on_files(repo_id, files),
                       lambda error: self._on_files_failed(repo_id, error))
        self.tasks.run(lambda: read_model_card(repo_id), lambda text: self._on_card(repo_id, text),
                       lambda error: self._on_card(repo_id, None, error))

    def _on_files_failed(self, repo_id: str, error: Exception) -> None:
        if repo_id == self.repo:
            self.show_message(error.message if isinstance(error, HubError) else f"Could not list files: {error}")

    def _on_files(self, repo_id: str, choices: list[GGUFChoice]) -> None:
        if repo_id != self.repo:
            return
        self._show_files(choices)
        if not choices:
            self.show_message("This repository has no GGUF files.")

    def _show_files(self, choices: list[GGUFChoice], have: dict[str, str] | None = None) -> None:
        if have is None:  # a new list: which files are here already is worked out off the GUI thread
            self._have = {}
            self._find_local(choices)
        rows: list[tuple[list[str], GGUFChoice]] = []
        tips: dict[tuple[int, int], str] = {}
        for c in choices:
            parts = f" ({len(c.parts)} parts)" if len(c.parts) > 1 else ""
            mark = ""
            if c.name in self._have:
                mark = f" · {HAVE_MARK}"
                tips[(len(rows), 3)] = f"The same file (size and SHA-256) is at {self._have[c.name]}"
            if c.projectors:  # a vision model: its projector comes with it
                mark += " · sees images"
                tips[(len(rows), 3)] = "Sees images: its image projector is downloaded with it " \
                    f"({', '.join(f.path for f in c.projectors)})"
            rows.append(([c.quant, human_bytes(c.size), self._fit(c.size, c.quant), c.name + parts + mark], c))
        current = self.file_table.currentIndex().row()
        self.files.set_rows(rows, tips)
        if 0 <= current < len(rows):
            self.file_table.selectRow(current)

    def set_local_models(self, models: list) -> None:
        """The library's models (LocalModel list): files of the open repository already here are marked."""
        self.local_models = list(models)
        if self.files.rows:
            self._find_local([choice for _cells, choice in self.files.rows])

    def _find_local(self, choices: list[GGUFChoice]) -> None:
        if not choices or not self.local_models:
            return
        wanted = {c.name: [(p.size, p.sha256) for p in c.parts] for c in choices}
        models, stop, repo = list(self.local_models), self.tasks.cancel_requested, self.repo

        def shown(have: dict[str, str]) -> None:
            if repo == self.repo and [c for _cells, c in self.files.rows] == choices:
                self._have = have
                self._show_files(choices, have)

        self.tasks.run(lambda: local_copies(wanted, models, stop), shown, lambda _error: None, pool=self.hash_pool)

    def _on_card(self, repo_id: str, text: str | None, error: Exception | None = None) -> None:
        if repo_id != self.repo:
            return
        if error is not None:
            text = f"The model card could not be loaded: {getattr(error, 'message', error)}"
        self.card.set_markdown(text or "This repository has no model card.")

    # ------------------------------------------------------------ download

    def download_selected(self) -> None:
        index = self.file_table.currentIndex()
        if not index.isValid() or not self.repo:
            return
        choice: GGUFChoice = self.files.item(index.row())
        self._download(self.repo, choice)

    def _download(self, repo: str, choice: GGUFChoice) -> None:
        """Start the model's download and, for a vision model, its projector's (asking which one when
        the repository has several); say so."""
        projector: HubFile | None = None
        if choice.projectors:
            projector = self.ask_projector(choice)
            if projector is None:
                self.show_message(f"Download of {choice.name} cancelled.")
                return
        if not self.downloads.start(repo, choice):
            return
        self.tabs.setCurrentWidget(self.downloads_view)
        if projector is None:
            self.show_message(f"Downloading {choice.name}…")
            return
        if self._have_projector(repo, projector):
            self.show_message(f"Downloading {choice.name}; its image projector {projector.path} is here already.")
            return
        self.downloads.start(repo, projector_choice(projector))
        self.show_message(f"Downloading {choice.name} and its image projector {projector.path} "
                          "(the model sees images with it)…")

    def _have_projector(self, repo: str, projector: HubFile) -> bool:
        """Whether the library lists this projector where a download of it lands (its rows; nothing is read)."""
        tail = f"/{repo}/{projector.path}"
        return any(str(place).replace("\\", "/").endswith(tail)
                   for m in self.local_models for place in getattr(m, "locations", ()))

    def ask_projector(self, choice: GGUFChoice) -> HubFile | None:
        """The projector to download with `choice`: the only one, or the one the user picks (None: cancelled)."""
        if len(choice.projectors) == 1:
            return choice.projectors[0]
        names = [f"{f.path} ({human_bytes(f.size)})" for f in choice.projectors]
        picked, ok = QInputDialog.getItem(
            self, "Image projector", f"{choice.name} sees images with an image projector, and this repository "
            "has several. Which one should be downloaded with it? (The first is the likeliest match.)",
            names, 0, False)
        return choice.projectors[names.index(picked)] if ok and picked in names else None

    def download_catalog_entry(self) -> None:
        index = self.catalog_table.currentIndex()
        entry: CatalogEntry = self.catalog.item(index.row() if index.isValid() else 0)
        self.show_message(f"Looking up {entry.file}…")

        def start(choices) -> None:
            match = next((c for c in choices if c.name.rsplit("/", 1)[-1] == entry.file), None)
            if match is None:
                self.show_message(f"{entry.file} is no longer in {entry.repo}; pick a file from its list instead.")
                self.open_repo(entry.repo)
                return
            self.repo = entry.repo
            self._download(entry.repo, match)

        self.tasks.run(lambda: list_gguf_files(entry.repo), start,
                       lambda error: self.show_message(getattr(error, "message", str(error))))
