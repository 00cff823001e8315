"""`hearth models`: the local model library (or a server's models with --engine)."""

from __future__ import annotations

import argparse
import json
import sys


def add_command(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="the local model library")
    models.add_argument("--json", action="store_true")
    models.add_argument("--engine", help="list the models of this OpenAI-compatible server instead")
    models.add_argument("--api-key", default=None, help="API key for --engine")
    models.set_defaults(handler=run_models)


def run_models(args: argparse.Namespace) -> int:
    if args.engine:
        from app.cli.remote import run_remote_models

        return run_remote_models(args)
    from app.formatting import human_bytes
    from app.library import demo_model
    from app.library.copies import merged
    from app.library.gguf_info import format_params
    from app.library.library import scan_library
    from app.library.model_kind import BASE_MODEL, is_base_model
    from app.settings import Settings

    models = merged(scan_library(Settings.load().extra_model_dirs)).models  # a copy elsewhere is one entry
    if args.json:
        print(json.dumps([model_json(m) for m in models]))
        return 0
    if not models:
        print("no local models yet: try `hearth search llama` and `hearth download REPO`")
    for m in models:
        if m.is_projector:  # a vision model's part, listed under it
            if m.projector_of is None:
                print(f"{'projector':10s} {m.path!s}  (an image projector with no vision model beside it)")
            continue
        if m.info is None:
            print(f"{'broken':10s} {m.path!s}  ({m.problem})")
            continue
        i = m.info
        template = "template" if i.has_chat_template else "no template"
        print(f"{i.architecture:10s} {format_params(i.n_params):>6s} {i.quantization:8s} ctx {i.context_length:>7,} "
              f"{human_bytes(i.size_bytes):>9s}  {template:11s}  {m.path}")
        for copy in m.copies:
            print(f"{'':10s} also at {copy}")
        if m.projector is not None:
            print(f"{'':10s} sees images with its projector {m.projector}")
        if is_base_model(i):
            print(f"{'':10s} {BASE_MODEL}")
        if demo_model.is_demo(m.path):
            print(f"{'':10s} {demo_model.LABEL} (licence {demo_model.LICENSE})")
    problem = demo_model.install_problem()
    if problem:
        print(f"the demo model could not be installed: {problem}", file=sys.stderr)
    return 0


def model_json(m) -> dict:
    from app.library import demo_model
    from app.library.model_kind import is_base_model

    if m.is_projector:
        return {"path": str(m.path), "source": m.source, "projector_for": str(m.projector_of or "") or None}
    if m.info is None:
        return {"path": str(m.path), "source": m.source, "problem": m.problem}
    i = m.info
    is_demo = demo_model.is_demo(m.path)
    demo = {"demo": True, "label": demo_model.LABEL, "license": demo_model.LICENSE} if is_demo else {}
    return {**demo, "path": str(m.path), "source": m.source, "name": i.display_name, "general_name": i.name,
            "architecture": i.architecture,
            "parameters": i.n_params, "quantization": i.quantization, "context_length": i.context_length,
            "size": i.size_bytes, "chat_template": i.has_chat_template, "parts": len(i.shard_paths),
            "base_model": is_base_model(i), "copies": [str(c) for c in m.copies],
            "projector": str(m.projector) if m.projector is not None else None}
