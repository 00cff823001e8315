"""A ChatMessage with images as an OpenAI message: content parts, each image a data: URL."""

from __future__ import annotations

import base64
from typing import Any

from app.engine.protocol import IMAGE_MARKER, ChatMessage
from app.image_header import ImageError, read_header


def openai_message(message: ChatMessage) -> dict[str, Any]:
    """{"role", "content"}: the plain text, or with images the parts in their order."""
    if not message.images:
        return {"role": message.role, "content": message.content}
    parts: list[dict[str, Any]] = []
    images = iter(message.images)
    for n, text in enumerate(message.content.split(IMAGE_MARKER)):
        if n:
            data = next(images, b"")
            parts.append({"type": "image_url", "image_url": {"url": data_url(data)}})
        if text:
            parts.append({"type": "text", "text": text})
    return {"role": message.role, "content": parts}


def data_url(data: bytes) -> str:
    try:
        mime = read_header(data).mime
    except ImageError:
        mime = "application/octet-stream"  # the server says what is wrong with it
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
