"""Read a chat exported as JSON (export.chat_to_json) back into the store, every branch included.

Input is untrusted: a file that is not such an export, or is damaged, raises ChatImportError
with one plain sentence, and nothing is written.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from app.chat.message import ROLES, Message, Part, parts_from_json, text_parts
from app.store.conversations import ChatRecord, ConversationStore
from app.store.operations import AddMessage, CreateChat, Operation, SelectAlternative
from app.store.pending_writes import PendingWrites

MAX_MESSAGES = 100_000
FORMATS = (1, 2, 3)  # export.FORMAT and every one before it


class ChatImportError(ValueError):
    """The file cannot be read as a Hearth chat; the message says why."""


def import_chat(store: PendingWrites | ConversationStore, text: str) -> ChatRecord:
    """Create a new chat from an export; the conversation shown is the one that was shown when exported.

    Written through the store's one writer in one transaction: all of it, or (disk full) nothing."""
    writes = PendingWrites.of(store)
    data = _load(text)
    _save_pictures(writes, data)
    shown = _messages(data.get("messages", []), "messages")
    others = _messages(data.get("alternatives", []), "alternatives")
    if len(shown) + len(others) > MAX_MESSAGES:
        raise ChatImportError(f"This export has more than {MAX_MESSAGES:,} messages.")
    if data.get("format", 1) == 1 or all(m.get("id") is None for m in shown):
        # A list without ids: each message follows the one before it.
        for i, message in enumerate(shown):
            message["id"], message["parent"] = i + 1, i or None
    by_id = {m["id"]: m for m in shown + others}
    if len(by_id) != len(shown) + len(others):
        raise ChatImportError("This export names two messages with the same id.")
    for message in by_id.values():
        if message["parent"] is not None and message["parent"] not in by_id:
            raise ChatImportError("A message in this export follows a message that is not in it.")
    settings = {key: data[key] for key in ("system_prompt", "model_path", "overflow", "thinking")
                if isinstance(data.get(key), str)}
    sampling: dict[str, Any] = data["sampling"] if isinstance(data.get("sampling"), dict) else {}
    chat = ChatRecord(writes.new_chat_id(), str(data.get("title") or "Imported chat")[:200], sampling=sampling,
                      **settings)
    operations: list[Operation] = [CreateChat(chat)]
    added: dict[int, Message] = {}
    for message in _in_order(by_id):  # parents first, siblings oldest first: alternatives keep their numbers
        parent = added[message["parent"]] if message["parent"] is not None else None
        added[message["id"]] = Message(writes.new_message_id(), chat.id, parent.position + 1 if parent else 0,
                                       message["role"], message["parts"], message["model"], message["sampling"],
                                       message["stats"], message["complete"], message["error"],
                                       parent_id=parent.id if parent else None)
        operations.append(AddMessage(added[message["id"]]))
    # the choices inside branches off the conversation shown, then the conversation shown itself
    operations += [SelectAlternative(chat.id, added[m["id"]].id) for m in others if m["chosen"]]
    operations += [SelectAlternative(chat.id, added[m["id"]].id) for m in shown]
    writes.write_now(operations)
    return writes.chat(chat.id) or chat


def _load(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ChatImportError(f"This file is not valid JSON ({exc}).") from None
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise ChatImportError("This JSON file is not a chat exported by Hearth (it has no list of messages).")
    if data.get("format", 1) not in FORMATS:
        raise ChatImportError(f"This chat was exported in a newer format ({data.get('format')}); update Hearth.")
    return data


def _messages(items: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise ChatImportError(f"“{where}” in this export is not a list.")
    messages = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or item.get("role") not in ROLES:
            raise ChatImportError(f"Message {n} in “{where}” has no valid role and text.")
        parts = _parts(item)
        if parts is None:
            raise ChatImportError(f"Message {n} in “{where}” has no valid role and text.")
        if not all(_id_or_none(item.get(key)) for key in ("id", "parent")):
            raise ChatImportError(f"Message {n} in “{where}” has an id or parent that is not a whole number.")
        messages.append({
            "id": item.get("id"), "parent": item.get("parent"), "role": item["role"], "parts": parts,
            "model": _text(item.get("model")),
            "sampling": item.get("sampling") if isinstance(item.get("sampling"), dict) else {},
            "stats": item.get("stats") if isinstance(item.get("stats"), dict) else {},
            "complete": item.get("complete", True) is not False, "error": _text(item.get("error")),
            "chosen": item.get("chosen") is True,
        })
    return messages


def _parts(item: dict[str, Any]) -> tuple[Part, ...] | None:
    """Format 3's `parts` (kinds this build does not know are kept as they are), or formats 1 and 2's
    `content` and `reasoning`; None when there is neither."""
    if "parts" in item:
        return parts_from_json(item["parts"]) if isinstance(item["parts"], list) else None
    if not isinstance(item.get("content"), str):
        return None
    return text_parts(item["content"], _text(item.get("reasoning")))


def _save_pictures(writes: PendingWrites, data: dict[str, Any]) -> None:
    """Pictures embedded in a JSON export go into the image folder (each checked against its hash)."""
    for key in ("messages", "alternatives"):
        for message in data.get(key) or []:
            for part in message.get("parts") or [] if isinstance(message, dict) else []:
                if not (isinstance(part, dict) and part.get("type") == "image" and "data" in part):
                    continue
                try:
                    picture = base64.b64decode(str(part.pop("data")), validate=True)
                except (binascii.Error, ValueError):
                    raise ChatImportError("A picture in this export is damaged.") from None
                if hashlib.sha256(picture).hexdigest() != part.get("sha256"):
                    raise ChatImportError("A picture in this export does not match its checksum.")
                writes.save_image(picture)


def _id_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _in_order(by_id: dict[Any, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every message after its parent, siblings oldest first."""
    kids: dict[Any, list[dict[str, Any]]] = {}
    for message in by_id.values():
        kids.setdefault(message["parent"], []).append(message)
    ordered, stack = [], [None]
    while stack:
        parent = stack.pop()
        group = sorted(kids.get(parent, []), key=lambda m: m["id"])
        ordered.extend(group)
        stack.extend(m["id"] for m in group)
    if len(ordered) != len(by_id):
        raise ChatImportError("The messages in this export do not form one conversation (a loop).")
    return ordered
