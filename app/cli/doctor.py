"""`hearth doctor`: GPU backend, devices, memory and folders."""

from __future__ import annotations

import argparse
import json


def add_command(sub: argparse._SubParsersAction) -> None:
    doctor = sub.add_parser("doctor", help="GPU backend, devices, memory and folders")
    doctor.add_argument("--json", action="store_true")
    doctor.set_defaults(handler=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    from app.doctor import diagnose, format_report

    report = diagnose()
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0
