"""Adds the Models (library) and Discover pages and the download manager to the main window."""

from __future__ import annotations

from app.ui.models.discover_page import DiscoverPage
from app.ui.models.downloads import DownloadManager
from app.ui.models.library_page import LibraryPage


def add_model_pages(window) -> None:
    downloads = DownloadManager(window, tasks=window.tasks)
    library = LibraryPage(window.tasks)
    discover = DiscoverPage(downloads, window.tasks)
    window.downloads = downloads
    window.library_page = library
    window.discover_page = discover
    window.add_page("Models", library, "Models on this computer (Ctrl+2)")
    window.add_page("Discover", discover, "Find and download models from Hugging Face (Ctrl+3)")

    def on_library(models) -> None:
        library.set_models(models)
        discover.set_first_run(not any(m.info is not None for m in models))

    def open_in_chat(path: str) -> None:
        window.show_page("Chats")
        window.open_with_model(path)

    def add_folder(folder: str) -> None:
        if folder not in window.settings.extra_model_dirs:
            window.settings.extra_model_dirs.append(folder)
            window._save_settings()
        window.refresh_library()

    window.library_updated.connect(on_library)
    window.library_scan_progress.connect(library.set_scanning)
    library.open_in_chat.connect(open_in_chat)
    library.library_changed.connect(window.refresh_library)
    library.extra_folder_added.connect(add_folder)
    downloads.download_finished.connect(lambda _path: window.refresh_library())
    downloads.download_finished.connect(lambda path: window.statusBar().showMessage(f"Downloaded {path}", 8000))
    window.closing.connect(downloads.shutdown)
    on_library(window.models)
