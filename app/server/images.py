"""Images in API requests: OpenAI `image_url` content parts, as data: URLs (or, when the server was
started with --allow-image-urls, http(s) URLs it fetches within the same bounds)."""

from __future__ import annotations

import base64
import binascii
import time

from app.chat.images import MemoryImages
from app.chat.message import ImagePart
from app.image_header import MAX_BYTES, ImageError

REMOTE_REFUSED = ("this server does not fetch images from the web: send the image as a data: URL "
                  "(or start the server with --allow-image-urls)")
FETCH_TIMEOUT_S = 10.0  # the most one read may wait
FETCH_DEADLINE_S = 20.0  # the most a whole fetch may take (a host trickling bytes cannot hold a request longer)


class ImageRefused(ValueError):
    """One sentence: why this image part cannot be used."""


def image_from_part(part: dict, bank: MemoryImages, allow_urls: bool) -> ImagePart:
    image_url = part.get("image_url")
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    if not isinstance(url, str) or not url:
        raise ImageRefused("an image_url part needs a \"url\"")
    if url.startswith("data:"):
        data = _data_url(url)
    elif url.startswith(("http://", "https://")):
        if not allow_urls:
            raise ImageRefused(REMOTE_REFUSED)
        data = _fetch(url)
    else:
        raise ImageRefused("an image URL must be a data: URL (data:image/png;base64,…)")
    try:
        return bank.add(data)
    except ImageError as exc:
        raise ImageRefused(str(exc)) from None


def _data_url(url: str) -> bytes:
    head, sep, payload = url.partition(",")
    if not sep or not head.endswith(";base64"):
        raise ImageRefused("an image data: URL must be base64 (data:image/png;base64,…)")
    if len(payload) > MAX_BYTES * 4 // 3 + 4:
        raise ImageRefused(f"the image is over {MAX_BYTES // (1024 * 1024)} MB")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ImageRefused("the image's data: URL is not valid base64") from None


def _fetch(url: str) -> bytes:
    """The image at `url`, read to at most MAX_BYTES (a bigger or slower one is refused)."""
    import httpx

    deadline = time.monotonic() + FETCH_DEADLINE_S
    try:
        timeout = min(FETCH_TIMEOUT_S, FETCH_DEADLINE_S)
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code != 200:
                raise ImageRefused(f"fetching the image answered HTTP {response.status_code}")
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if time.monotonic() > deadline:
                    raise ImageRefused(f"fetching the image at {url} took over {FETCH_DEADLINE_S:g} seconds")
                if len(data) > MAX_BYTES:
                    raise ImageRefused(f"the image at {url} is over {MAX_BYTES // (1024 * 1024)} MB")
            return bytes(data)
    except httpx.HTTPError as exc:
        raise ImageRefused(f"the image could not be fetched: {exc}") from None
