"""The composition root: builds the settings, store, engine, background helper, pages and window,
wires them, then runs Qt. Nothing else in the GUI builds a service."""

from __future__ import annotations

import sys
import time

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from app import paths
from app.remote_endpoints import EndpointStore
from app.settings import Settings
from app.store import ConversationStore
from app.store.changes import ChangeHub
from app.store.pending_writes import PendingWrites
from app.ui.changes import change_signal
from app.ui.chat.chat_list import ChatSidebar
from app.ui.chat.chat_page import ChatPage
from app.ui.compare.wiring import build_compare
from app.ui.first_run import add_first_run
from app.ui.machine import MachineInfo
from app.ui.main_window import MainWindow, WindowParts
from app.ui.models.discover_page import DiscoverPage
from app.ui.models.downloads import DownloadManager
from app.ui.models.library_controller import LibraryController
from app.ui.models.library_page import LibraryPage
from app.ui.server_settings import ApiServerHolder
from app.ui.services import EngineService
from app.ui.store_dialog import open_or_ask
from app.ui.tasks import BackgroundTasks
from app.ui.theme import follow_system_theme
from app.ui.tools.chat_wiring import ChatTools
from app.ui.tools.tool_service import ToolService

EXIT_NO_STORE = 2  # the user quit at the database dialog


def build_window(settings: Settings | None = None, store: ConversationStore | PendingWrites | None = None,
                 engine: EngineService | None = None, machine_probe=None) -> MainWindow:
    """The whole GUI. Tests pass their own store, engine or machine probe (a callable giving a MachineProbe)."""
    settings = settings or Settings.load()
    store = store or ConversationStore(paths.database_path())
    # The one writer of the database and the app's one hub of changes: every page writes through it
    # (nothing in app/ui writes to the ConversationStore itself) and follows what it announces.
    if isinstance(store, ConversationStore) and store.writer is None:
        PendingWrites(store, ChangeHub())
    writes = PendingWrites.of(store)
    writes.clean_in_background = True  # a deleted chat's pictures are cleaned up off the GUI thread
    change_signal(writes)  # the hub's Qt side, made here on the GUI thread
    settings.announce_to(writes.changes)  # settings saves (and each model's remembered settings) are changes too
    endpoints = EndpointStore()  # the remote servers; their API keys are read off the GUI thread
    from app.engine.managed_runtime import runtime_chooser  # httpx (slow to import) waits until a model needs it

    runtime_for = runtime_chooser(lambda: settings.engine_runtime, lambda: settings.model_engines)
    engine = engine or EngineService(api_key_for=endpoints.api_key, runtime_for=runtime_for)
    tasks = BackgroundTasks()
    machine = MachineInfo(tasks, machine_probe) if machine_probe else MachineInfo(tasks)
    downloads = DownloadManager(tasks=tasks)
    library = LibraryController(tasks, settings.extra_model_dirs)
    chat_page = ChatPage(writes, engine, tasks)
    tools = ToolService(tasks, engine=engine)  # MCP servers start when a chat or the settings first need them
    ChatTools(chat_page, tools)  # the chat's Tools switch and the approval dialogs (a child of the page)
    compare_page = build_compare(settings, writes, engine, lambda: EngineService(api_key_for=endpoints.api_key,
                                                                                       runtime_for=runtime_for),
                                 library, machine, chat_page)
    api_server = ApiServerHolder()
    api_server.sharing = engine.share_with_api  # while it runs, chat replies join its requests' batches
    api_server.sharing_note = lambda: engine.sharing_note  # or why not (memory)
    parts = WindowParts(
        settings=settings, store=writes, engine=engine, tasks=tasks, library=library, machine=machine,
        downloads=downloads, endpoints=endpoints, api_server=api_server,
        sidebar=ChatSidebar(writes), chat_page=chat_page, compare_page=compare_page,
        library_page=LibraryPage(tasks), discover_page=DiscoverPage(downloads, tasks), tools=tools,
    )
    window = MainWindow(parts)
    add_first_run(window)
    return window


QUIT_SECONDS = 1.5  # the quit sequence's whole budget (the bound is 2 s, closing the window included)
TASKS_RESERVE_SECONDS = 0.2  # of the quit budget, kept for background jobs after the engine is done


def shutdown(window: MainWindow, seconds: float = QUIT_SECONDS) -> bool:
    """The quit sequence: everything is asked to stop at once, then waited for against one deadline.

    Background jobs (scans stop between files, downloads pause and resume next time, Hub calls), the
    engine (a reply stops, a load is killed, every caller waiting gets "engine closed") and the local
    API server (its replies end with the engine's; it closes their connections) wind down in parallel;
    then the store closes. True if every thread, the API server and the engine process ended in time.
    """
    deadline = time.monotonic() + seconds
    window.tasks.stop()  # drops callbacks still to come; each download's cancel pauses it
    compare = window.compare_page.controller
    api_server = window.api_server
    api_server.begin_stop()  # closing the window did so too; quitting without closing it may not
    window.engine.stop()
    if window.tools is not None:
        window.tools.close(0.3)  # the MCP servers are told to stop (a stdio server's process ends with it)
    compare_ended = compare.shutdown(max(0.0, deadline - time.monotonic() - TASKS_RESERVE_SECONDS) / 2)
    engine_ended = window.engine.shutdown(max(0.0, deadline - time.monotonic() - TASKS_RESERVE_SECONDS))
    api_ended = api_server.wait(max(0.0, deadline - time.monotonic() - TASKS_RESERVE_SECONDS))
    tasks_ended = window.tasks.wait(max(0.0, deadline - time.monotonic()))
    window.store.close()
    return engine_ended and compare_ended and api_ended and tasks_ended and not window.engine.client.alive


def run_app(model: str | None = None) -> int:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setApplicationName("Hearth")
    app.setDesktopFileName("hearth")
    icon = paths_icon()
    if icon:
        app.setWindowIcon(QIcon(icon))
    follow_system_theme(app)
    store, note = open_or_ask(paths.database_path())
    if store is None:
        return EXIT_NO_STORE
    window = build_window(store=store)
    window.engine.start_engine()  # boots while the window shows: the first load need not wait for it
    window.show()
    if note:
        window.statusBar().showMessage(note, 15000)
    if model:
        window.model_opener.open_with_model(model)
    try:
        return app.exec()
    finally:
        shutdown(window)


def paths_icon() -> str:
    from app.bundled import bundled_file

    icon = bundled_file("resources", "hearth.svg")
    return str(icon) if icon else ""
