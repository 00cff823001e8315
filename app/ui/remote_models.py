"""The configured servers' models as picker entries (run off the GUI thread: it asks each server)."""

from __future__ import annotations

from app.engine.router import remote_path
from app.hub.errors import is_offline
from app.remote_endpoints import EndpointStore, remote_models


def list_remote_models(store: EndpointStore) -> tuple[list[tuple[str, str]], list[str]]:
    """([(label, path)], [a plain line per server that did not answer]); nothing at all when offline."""
    entries: list[tuple[str, str]] = []
    problems: list[str] = []
    for endpoint, models, problem in remote_models(store, offline=is_offline()):
        if problem:
            problems.append(f"{endpoint.name}: {problem}")
        entries += [(f"{model} · {endpoint.name}", remote_path(endpoint.url, model)) for model in models]
    return entries, problems
