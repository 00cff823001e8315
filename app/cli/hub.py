"""Hugging Face Hub commands: `hearth search`, `hearth files`, `hearth download`."""

from __future__ import annotations

import argparse
import json
import math
import sys

from app.cli.common import CliError


def add_commands(sub: argparse._SubParsersAction) -> None:
    search = sub.add_parser("search", help="search GGUF models on the Hugging Face Hub")
    search.add_argument("query")
    search.add_argument("--sort", choices=["downloads", "likes", "recent"], default="downloads")
    search.add_argument("--limit", type=int, default=20)
    search.add_argument("--json", action="store_true")
    search.set_defaults(handler=run_search)

    files = sub.add_parser("files", help="list a repository's GGUF files by quantization")
    files.add_argument("repo", help="owner/name")
    files.add_argument("--json", action="store_true")
    files.set_defaults(handler=run_files)

    download = sub.add_parser("download", help="download a GGUF model (resumes where it stopped)")
    download.add_argument("repo", help="owner/name")
    download.add_argument("file", nargs="?", help="the GGUF file (default: Q4_K_M, else the smallest)")
    download.add_argument("--quant", help="pick the file by quantization, e.g. Q4_K_M")
    download.add_argument("--mmproj", default="",
                          help="a vision model's image projector to download with it (default: the likeliest)")
    download.add_argument("--no-mmproj", action="store_true", help="do not download a vision model's projector")
    download.add_argument("--json", action="store_true", help="one JSON line per progress event")
    download.set_defaults(handler=run_download)


def _hub_call(fn, *args, **kwargs):
    from app.hub.errors import HubError

    try:
        return fn(*args, **kwargs)
    except HubError as exc:
        raise CliError(exc.message) from None


def run_search(args: argparse.Namespace) -> int:
    from app.hub.search import search_models

    results = _hub_call(search_models, args.query, args.sort, args.limit)
    if args.json:
        print(json.dumps([{"repo": r.repo_id, "downloads": r.downloads, "likes": r.likes,
                           "last_modified": r.last_modified.isoformat() if r.last_modified else None,
                           "gated": r.gated} for r in results]))
        return 0
    if not results:
        print("no GGUF repositories found")
    for r in results:
        when = r.last_modified.date().isoformat() if r.last_modified else "?"
        print(f"{r.repo_id:60s} {r.downloads:>10,} downloads {r.likes:>6,} likes  updated {when}")
    return 0


def run_files(args: argparse.Namespace) -> int:
    from app.formatting import human_bytes
    from app.hardware import FIT_LABELS, machine_fit
    from app.hub.search import list_gguf_files

    choices = _hub_call(list_gguf_files, args.repo)
    if args.json:
        print(json.dumps([{"name": c.name, "quant": c.quant, "size": c.size,
                           "fit": machine_fit(c.size, quant=c.quant),
                           "parts": [{"path": p.path, "size": p.size, "sha256": p.sha256} for p in c.parts],
                           "projectors": [p.path for p in c.projectors]} for c in choices]))
        return 0
    if not choices:
        print("this repository has no GGUF files")
    for c in choices:
        parts = f" ({len(c.parts)} parts)" if len(c.parts) > 1 else ""
        fit = FIT_LABELS[machine_fit(c.size, quant=c.quant)]
        sees = f"  (sees images: {c.projectors[0].path})" if c.projectors else ""
        print(f"{c.quant:8s} {human_bytes(c.size):>9s}  {fit:14s} {c.name}{parts}{sees}")
    return 0


def pick_projector(choice, name: str, skip: bool):
    """The projector to download with `choice` (a vision model's): --mmproj, else the likeliest; None for
    a text model or with --no-mmproj."""
    if skip or not choice.projectors:
        if name and not choice.projectors:
            raise CliError("this repository has no image projector (mmproj) files")
        return None
    if not name:
        return choice.projectors[0]
    for p in choice.projectors:
        if name in (p.path, p.path.rsplit("/", 1)[-1]):
            return p
    raise CliError(f"no projector named {name} here; it has: " + ", ".join(p.path for p in choice.projectors))


def pick_choice(choices, file: str | None, quant: str | None):
    if file:
        for c in choices:
            if file in (c.name, c.name.rsplit("/", 1)[-1]) or any(file == p.path for p in c.parts):
                return c
        raise CliError(f"no GGUF file named {file} in this repository (see `hearth files`)")
    if quant:
        wanted = [c for c in choices if c.quant.upper() == quant.upper()]
        if not wanted:
            raise CliError(f"no {quant} file in this repository; it has: "
                           + ", ".join(sorted({c.quant for c in choices})))
        return min(wanted, key=lambda c: (len(c.parts), c.size))
    if not choices:
        raise CliError("this repository has no GGUF files")
    preferred = [c for c in choices if c.quant == "Q4_K_M"]
    return (preferred or sorted(choices, key=lambda c: c.size))[0]


def run_download(args: argparse.Namespace) -> int:
    from app.hub.quant import projector_choice
    from app.hub.search import list_gguf_files

    choice = pick_choice(_hub_call(list_gguf_files, args.repo), args.file, args.quant)
    projector = pick_projector(choice, args.mmproj, args.no_mmproj)
    if projector is not None:  # first, so that the last line (or event) is still the model's
        path = download_one(args, projector_choice(projector), shown=False)
        if not args.json:
            print(f"image projector: {path}", file=sys.stderr)
    download_one(args, choice)
    return 0


def download_one(args: argparse.Namespace, choice, shown: bool = True):
    """One file (or one split model's parts) with its progress, resumable; its path (printed when `shown`)."""
    from app.formatting import human_bytes
    from app.hub.download import Downloader
    from app.hub.download_record import DownloadRecord, DownloadStatus
    from app.hub.errors import HubError

    downloader = _hub_call(Downloader, DownloadRecord.for_choice(args.repo, choice))

    progress_shown = [False]

    def progress(p) -> None:
        progress_shown[0] = True
        if p.waiting_s > 0:
            if args.json:
                waiting = {"event": "waiting", "file": choice.name, "seconds": math.ceil(p.waiting_s)}
                print(json.dumps(waiting), flush=True)
            else:
                sys.stderr.write(f"\r{choice.name}: the Hub asked us to wait; "
                                 f"retrying in {math.ceil(p.waiting_s)} s   ")
                sys.stderr.flush()
            return
        if args.json:
            print(json.dumps({"event": "progress", "file": choice.name, "done_bytes": p.done_bytes,
                              "total_bytes": p.total_bytes, "speed_bps": round(p.speed_bps),
                              "eta_s": round(p.eta_s, 1) if p.eta_s is not None else None}), flush=True)
        else:
            eta = f"{p.eta_s:.0f} s left" if p.eta_s is not None else ""
            sys.stderr.write(f"\r{choice.name}: {human_bytes(p.done_bytes)} / {human_bytes(p.total_bytes)} "
                             f"at {human_bytes(p.speed_bps)}/s {eta}   ")
            sys.stderr.flush()

    try:
        path = downloader.run(progress)
    except HubError as exc:
        if args.json:
            print(json.dumps({"event": "error", "kind": exc.kind.value, "message": exc.message}), flush=True)
        elif progress_shown[0]:
            sys.stderr.write("\n")  # end the progress line: the error is a line of its own
        raise CliError(exc.message) from None
    except KeyboardInterrupt:
        downloader.record.status = DownloadStatus.PAUSED
        downloader.record.save()
        raise CliError("download paused; run the same command again to resume") from None
    if args.json:
        print(json.dumps({"event": "done", "path": str(path), "size": choice.size}), flush=True)
    else:
        sys.stderr.write("\n")
        if shown:
            print(path)
    return path
