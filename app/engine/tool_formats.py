"""The reply formats read by modules of their own (app/engine/tool_formats_*.py), in the order
their template tests are tried: tool_calls.py tries these before its own formats."""

from __future__ import annotations

from app.engine import tool_formats_harmony, tool_formats_json, tool_formats_pythonic, tool_formats_xml
from app.engine.tool_call_types import Family

FAMILIES: tuple[Family, ...] = (
    tool_formats_harmony.FAMILY,
    *tool_formats_pythonic.FAMILIES,
    *tool_formats_xml.FAMILIES,
    *tool_formats_json.FAMILIES,
)
