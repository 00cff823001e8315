"""A llama-server's own tokens for Show tokens: /apply-template and /tokenize with pieces (no Qt).

llama-server says each token's id and the text it prints (a string, or its bytes when they are not
whole UTF-8), not whether it is a control token such as <|im_start|>: a piece that looks like a marker
(<...>) is one when the server, reading it as plain text, makes more than one token of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from app.engine import protocol as p
from app.engine.protocol import ChatMessage, EngineError, ErrorKind

AskJson = Callable[..., object]  # RemoteEngine._ask_json: (method, path, json=...) -> the answer, or None


def _unreadable(base_url: str, what: str) -> EngineError:
    return EngineError(ErrorKind.BAD_REQUEST, f"{base_url} did not answer {what} as llama-server does")


def _piece(value: object) -> bytes | None:
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, list) and all(isinstance(b, int) and 0 <= b < 256 for b in value):
        return bytes(value)
    return None


def _tokenize(ask: AskJson, base_url: str, body: dict[str, Any]) -> list[tuple[int, bytes]]:
    answer = ask("POST", "/tokenize", json=body)
    tokens = answer.get("tokens") if isinstance(answer, dict) else None
    if not isinstance(tokens, list):
        raise _unreadable(base_url, "/tokenize")
    found: list[tuple[int, bytes]] = []
    for token in tokens:
        if isinstance(token, int):  # a server that ignores with_pieces: ids only
            raise _unreadable(base_url, "/tokenize with pieces")
        piece = _piece(token.get("piece")) if isinstance(token, dict) else None
        token_id = token.get("id") if isinstance(token, dict) else None
        if piece is None or not isinstance(token_id, int):
            raise _unreadable(base_url, "/tokenize")
        found.append((token_id, piece))
    return found


def server_tokens(ask: AskJson, base_url: str, text: str = "", messages: Sequence[ChatMessage] = ()) -> p.Tokenized:
    """`text` as plain text, or `messages` as the exact prompt the server makes of them (its template,
    with the next turn's header, as the built-in engine shows it), each token with its piece."""
    if messages:
        rendered = ask("POST", "/apply-template", json={"messages": [{"role": m.role, "content": m.content}
                                                                     for m in messages]})
        prompt = rendered.get("prompt") if isinstance(rendered, dict) else None
        if not isinstance(prompt, str):
            raise _unreadable(base_url, "/apply-template")
        body = {"content": prompt, "add_special": True, "parse_special": True, "with_pieces": True}
    else:
        body = {"content": text, "add_special": False, "parse_special": False, "with_pieces": True}
    tokens = _tokenize(ask, base_url, body)
    markers = {piece for _, piece in tokens if len(piece) > 2 and piece.startswith(b"<") and piece.endswith(b">")}
    special = {piece for piece in markers if messages and len(_tokenize(ask, base_url, {
        "content": piece.decode(errors="replace"), "add_special": False, "parse_special": False,
        "with_pieces": True})) > 1}
    return p.Tokenized(0, tuple((token_id, piece, piece in special) for token_id, piece in tokens))
