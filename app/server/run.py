"""`hearth serve`: load a model and answer the OpenAI-compatible API until interrupted."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from app.engine.protocol import LoadOptions
from app.server.access import AccessPolicy, is_loopback, parse_allowed_origins
from app.server.limits import DEFAULT_LIMITS, ServerLimits


def check_binding(host: str, api_key: str | None) -> str | None:
    """Why this binding is refused, or None: anything beyond this computer needs an API key."""
    if not is_loopback(host) and not api_key:
        return (f"listening on {host} lets other computers use the model: "
                "give an --api-key (or keep the default --host 127.0.0.1)")
    return None


def serve(options: LoadOptions, host: str, port: int, api_key: str | None, log=print,
          allowed_origins: Iterable[str] = (), limits: ServerLimits = DEFAULT_LIMITS,
          allow_image_urls: bool = False) -> int:
    """Load the model and serve it until interrupted; ValueError (a plain message) if it cannot."""
    import uvicorn

    from app.engine import EngineClient, EngineError
    from app.server.app import create_app
    from app.server.connections import uvicorn_config

    refusal = check_binding(host, api_key)
    if refusal:
        raise ValueError(refusal)
    access = AccessPolicy(host, parse_allowed_origins(allowed_origins))
    with EngineClient() as engine:
        try:
            info = engine.load(options)
        except EngineError as exc:
            raise ValueError(exc.message) from None
        model_id = Path(options.path).stem
        app = create_app(engine, model_id, api_key, limits, access, allow_image_urls=allow_image_urls,
                         sees_images=lambda: bool(info.mmproj))
        shown = f"[{host}]" if ":" in host else host
        sees = f", sees images through {Path(info.mmproj).name}" if info.mmproj else ""
        together = f", {info.n_parallel} requests at once" if info.n_parallel > 1 else ""
        log(f"serving {model_id} (context {info.n_ctx}{together}{sees}) at http://{shown}:{port}/v1"
            + ("  (API key required)" if api_key else ""), file=sys.stderr)
        config = uvicorn_config(app, limits, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2)
        uvicorn.Server(config).run()
    return 0
