"""The llama.cpp engine: runs in its own process, no Qt."""

from app.engine.client import EngineClient
from app.engine.protocol import (
    ChatMessage,
    CountResult,
    Done,
    EngineError,
    Error,
    LoadOptions,
    Loaded,
    ModelInfo,
    OverflowPolicy,
    Progress,
    Stats,
    StopReason,
    Token,
)
from app.engine.sampling import PRESETS, SamplingParams

__all__ = [
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
    "PRESETS",
    "Progress",
    "SamplingParams",
    "Stats",
    "StopReason",
    "Token",
]
