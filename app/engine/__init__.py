"""The llama.cpp engine: runs in its own process, no Qt."""

from app.engine.client import EngineClient
from app.engine.protocol import (
    ChatMessage,
    CountResult,
    Done,
    EngineError,
    Error,
    Loaded,
    LoadOptions,
    ModelInfo,
    OverflowPolicy,
    Progress,
    Stats,
    StopReason,
    Token,
)
from app.engine.sampling import PRESETS, SamplingParams

__all__ = [
    "PRESETS",
    "ChatMessage",
    "CountResult",
    "Done",
    "EngineClient",
    "EngineError",
    "Error",
    "LoadOptions",
    "Loaded",
    "ModelInfo",
    "OverflowPolicy",
    "Progress",
    "SamplingParams",
    "Stats",
    "StopReason",
    "Token",
]
