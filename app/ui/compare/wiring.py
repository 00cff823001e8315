"""Builds the Compare page and its controller from the window's parts (used by the composition root)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app import model_defaults
from app.compare_plan import ColumnNeed
from app.engine import SamplingParams
from app.engine.router import parse_remote_path
from app.hub.quant import quant_of
from app.library.memory_plan import plan_memory
from app.library.size_plan import plan_for_size
from app.load_limits import CONTEXT_DEFAULT
from app.settings import Settings
from app.store.pending_writes import PendingWrites
from app.ui.chat.chat_page import ChatPage
from app.ui.compare.compare_controller import CompareController
from app.ui.compare.compare_page import ComparePage
from app.ui.machine import MachineInfo
from app.ui.models.library_controller import LibraryController
from app.ui.services import EngineService


def build_compare(settings: Settings, store: PendingWrites, engine: EngineService,
                  make_engine: Callable[[], EngineService], library: LibraryController, machine: MachineInfo,
                  chat_page: ChatPage) -> ComparePage:
    def need_of(path: str, n_ctx: int) -> ColumnNeed:
        if parse_remote_path(path):
            return ColumnNeed(path, 0, 0, remote=True)
        info = next((m.info for m in library.models if str(m.path) == path and m.info is not None), None)
        # the memory plan (CPU: the columns run without offload here); the engine process is ENGINE_OVERHEAD_BYTES.
        # A file not in the library (yet) is planned as a typical model of its size (size_plan.py): the header
        # is not read here, on the GUI thread
        n_ctx = n_ctx or (info.context_length if info is not None else 0) or CONTEXT_DEFAULT
        if info is None:
            size = Path(path).stat().st_size if Path(path).is_file() else 0
            plan = plan_for_size(size, n_ctx, quant_of(path))
        else:
            plan = plan_memory(info, n_ctx)
        weights = plan.part("weights").total
        return ColumnNeed(path, weights, plan.peak_bytes - weights - plan.part("engine_process").total)

    def free_memory() -> tuple[int, int]:
        """Free RAM now (one read of /proc/meminfo or its like); free VRAM from the last GPU probe."""
        import psutil

        probe = machine.probe
        vram = sum(d.free_bytes for d in probe.devices if not d.unified) if probe and probe.offload else 0
        return int(psutil.virtual_memory().available), vram

    def defaults(path: str) -> tuple[dict, SamplingParams]:
        load = model_defaults.load_values(settings.model_defaults, path) or chat_page.load_settings.load_values()
        return dict(load), model_defaults.sampling(settings.model_defaults, path) or SamplingParams()

    def remember(path: str, load: dict, sampling: SamplingParams) -> None:
        if parse_remote_path(path) is None:
            model_defaults.remember_load(settings.model_defaults, path, load)
        model_defaults.remember_sampling(settings.model_defaults, path, sampling)
        try:
            settings.save()
        except OSError:  # a full or read-only disk: kept in memory, saved again when the window closes
            pass

    controller = CompareController(store, engine, make_engine, need_of, free_memory)
    controller.used.connect(remember)

    controller.engine_in_use = chat_page.engine_use
    return ComparePage(controller, chat_page.load_settings.choices, defaults, lambda: machine.probe,
                       lambda: library.models)
