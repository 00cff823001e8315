"""What the composition root (application.build_window) builds for the main window.

Every service and page the window and its menus use is made there and handed in here, so
what each part depends on is visible in one place; nothing the window holds builds a service.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.remote_endpoints import EndpointStore
from app.settings import Settings
from app.store.pending_writes import PendingWrites
from app.ui.chat.chat_list import ChatSidebar
from app.ui.chat.chat_page import ChatPage
from app.ui.compare.compare_page import ComparePage
from app.ui.machine import MachineInfo
from app.ui.models.discover_page import DiscoverPage
from app.ui.models.downloads import DownloadManager
from app.ui.models.library_controller import LibraryController
from app.ui.models.library_page import LibraryPage
from app.ui.server_settings import ApiServerHolder
from app.ui.services import EngineService
from app.ui.tasks import BackgroundTasks
from app.ui.tools.tool_service import ToolService


@dataclass
class WindowParts:
    """The services (settings, store, engine, background jobs, library, machine, downloads, remote
    endpoints, API server) and the pages the window shows."""

    settings: Settings
    store: PendingWrites
    engine: EngineService
    tasks: BackgroundTasks
    library: LibraryController
    machine: MachineInfo
    downloads: DownloadManager
    endpoints: EndpointStore  # the saved remote servers and their keys
    api_server: ApiServerHolder  # the local API server, off until File → Remote engines and API server…
    sidebar: ChatSidebar
    chat_page: ChatPage
    compare_page: ComparePage
    library_page: LibraryPage
    discover_page: DiscoverPage
    tools: ToolService | None = None  # MCP servers, grants and which chats use tools (File → Tools and MCP servers…)
