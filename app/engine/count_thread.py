"""How the engine's count thread answers a request that reads the loaded model (a Count, a Tokenize)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from app.engine import protocol as p
from app.engine.protocol import ErrorKind

if TYPE_CHECKING:
    from app.engine.runtime import LoadedModel


class CountSide(Protocol):
    """What the count thread uses of the engine's Worker."""

    model_lock: threading.Lock
    model: LoadedModel | None

    def send(self, event: p.Event) -> None: ...


def answer_with_model(worker: CountSide, request: p.Request, work: Callable[[LoadedModel], p.Event]) -> None:
    """Send what `work` makes of the loaded model, or an Error in words: no model, or anything `work` raised
    (a bad template or text fails this job only; the engine goes on)."""
    with worker.model_lock:
        model = worker.model
        if model is None:
            worker.send(p.Error(request.id, ErrorKind.NO_MODEL, "no model is loaded"))
            return
        try:
            answer = work(model)
        except Exception as exc:  # noqa: BLE001
            answer = p.Error(request.id, ErrorKind.BAD_REQUEST, str(exc))
        worker.send(answer)
